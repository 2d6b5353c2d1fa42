/*===- Bf16.h - Optimizer state stored in bf16 --------------------*- C -*-===*\
|*                                                                            *|
|* The loads and stores of optimizer state kept as bf16 (cage.update with    *|
|* bf16 m, v or b), as arith ops on one element, exactly as                   *|
|* lib/Reference/Reference.h ("bf16 optimizer state") defines them: the load *|
|* is exact, the store rounds stochastically with 16 bits of a Philox word.  *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef CAGE_CONVERSION_CAGETOLINALG_BF16_H
#define CAGE_CONVERSION_CAGETOLINALG_BF16_H

#include "Philox.h"

#include "IR/Builder.h"

/** The f32 of a bf16 `x` (exact). */
MlirValue lowerBuildBf16Load(CageBuilder *body, MlirValue x);

/** The 16 random bits of one element of the state for m or b (bits[0])
 * and for v (bits[1]), as i32 values: the low and the high half of
 * out[lane] of the Philox4x32-10 call for counter `group`. The element of
 * linear index i in the state tensor is lane i mod 4 (i32) of group
 * floor(i / 4) (i64): one call serves four elements. */
void lowerBuildBf16StateRandomBits(CageBuilder *body,
                                   const LowerPhiloxKeys *keys, MlirValue group,
                                   MlirValue lane, MlirValue bits[2]);

/** The f32 `x` stored as bf16 with stochastic rounding by `random` (i32,
 * 16 random bits): with u32 the bits of x and lo = u32 & 0xFFFF, NaN
 * becomes the quiet NaN of its sign, anything else (u32 >> 16) +
 * (random < lo), so the magnitude rounds up with probability lo / 2^16. */
MlirValue lowerBuildBf16StoreStochastic(CageBuilder *body, MlirValue x,
                                        MlirValue random);

#endif /* CAGE_CONVERSION_CAGETOLINALG_BF16_H */
