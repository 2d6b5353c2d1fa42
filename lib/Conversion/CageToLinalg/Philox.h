/*===- Philox.h - Philox4x32-10 inside linalg bodies --------------*- C -*-===*\
|*                                                                            *|
|* The uniform variate of stochastic rounding (docs/Semantics.md §1.4), as    *|
|* arith ops on i32: Random123's Philox4x32-10 with key = (seed low 32,       *|
|* seed high 32) and counter = (i low 32, i high 32, 0, 0), then              *|
|* u = (out[0] >> 8) * 2^-24.                                                 *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef CAGE_CONVERSION_CAGETOLINALG_PHILOX_H
#define CAGE_CONVERSION_CAGETOLINALG_PHILOX_H

#include "IR/Builder.h"

enum { kLowerPhiloxRounds = 10 };

/** The key of each of the ten rounds: (k0, k1) of round r is the seed's key
 * bumped r times by the Weyl constants. */
typedef struct LowerPhiloxKeys {
  MlirValue k0[kLowerPhiloxRounds];
  MlirValue k1[kLowerPhiloxRounds];
} LowerPhiloxKeys;

/** The round keys of the i64 `seed`. They depend on the seed alone, so they
 * are built once, outside the linalg body that draws the numbers. */
void lowerBuildPhiloxKeys(CageBuilder *b, MlirValue seed,
                          LowerPhiloxKeys *keys);

/** The four output words (i32) of Philox4x32-10 for the element of i64
 * linear index `index`: counter = (index low 32, index high 32, 0, 0);
 * built inside a linalg body. */
void lowerBuildPhilox(CageBuilder *body, const LowerPhiloxKeys *keys,
                      MlirValue index, MlirValue out[4]);

/** The four output words (i32) of Philox4x32-10 for the i32 counter words
 * `counter` (any builder: in a linalg body or not). */
void lowerBuildPhiloxCounter(CageBuilder *body, const LowerPhiloxKeys *keys,
                             const MlirValue counter[4], MlirValue out[4]);

/** (word >> 8) * 2^-24 (f32, exact): the uniform variate in [0, 1) of an
 * output word. */
MlirValue lowerBuildUniform24(CageBuilder *body, MlirValue word);

/** u in [0, 1) (f32) from out[0], for the element of i64 linear index `index`;
 * built inside a linalg body. Null if a key or the index is null. */
MlirValue lowerBuildPhiloxUniform(CageBuilder *body,
                                  const LowerPhiloxKeys *keys, MlirValue index);

#endif /* CAGE_CONVERSION_CAGETOLINALG_PHILOX_H */
