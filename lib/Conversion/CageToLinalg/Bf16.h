/*===- Bf16.h - Optimizer state stored in bf16 --------------------*- C -*-===*\
|*                                                                            *|
|* The loads and stores of optimizer state kept as bf16 (cage.update with    *|
|* bf16 m, v or b), as arith ops on one element, exactly as                   *|
|* lib/Reference/Reference.h ("bf16 optimizer state") defines them: the load *|
|* is exact, the store rounds stochastically with a Philox word.             *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef CAGE_CONVERSION_CAGETOLINALG_BF16_H
#define CAGE_CONVERSION_CAGETOLINALG_BF16_H

#include "IR/Builder.h"

/** The f32 of a bf16 `x` (exact). */
MlirValue lowerBuildBf16Load(CageBuilder *body, MlirValue x);

/** The f32 `x` stored as bf16 with stochastic rounding by the i32 Philox
 * word `word`: with u32 the bits of x and lo = u32 & 0xFFFF, NaN becomes
 * (u32 >> 16) | 0x40, anything else (u32 >> 16) + ((word >> 8) < (lo << 8)),
 * so the magnitude rounds up with probability lo / 2^16. */
MlirValue lowerBuildBf16StoreStochastic(CageBuilder *body, MlirValue x,
                                        MlirValue word);

#endif /* CAGE_CONVERSION_CAGETOLINALG_BF16_H */
