/*===- Optimizers.h - The element-wise optimizer steps ------------*- C -*-===*\
|*                                                                            *|
|* The AdamW and SGD steps of docs/Semantics.md §1.3 as arith/math ops on    *|
|* the f32 scalars of one element, in the order of lib/Reference/Reference.h *|
|* with the per-step scalars (1 − lr·wd, 1 − β^t) built once outside the     *|
|* loops.                                                                    *|
|* Optimizers.c lowers cage.adamw and cage.sgd with them; FusedUpdate.c      *|
|* puts the same element step inside the fused CAGE update.                  *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef CAGE_CONVERSION_CAGETOLINALG_OPTIMIZERS_H
#define CAGE_CONVERSION_CAGETOLINALG_OPTIMIZERS_H

#include "IR/Builder.h"

#include <stdbool.h>

/** The hyper-parameters of #cage.adamw (adamw) or #cage.sgd. */
typedef struct LowerOptimizer {
  bool adamw;
  float beta1, beta2, eps;   /* AdamW */
  float momentum, dampening; /* SGD */
  bool nesterov;             /* SGD */
  float weightDecay;         /* both */
} LowerOptimizer;

/** Reads a #cage.adamw or #cage.sgd attribute (which the caller has
 * checked). */
LowerOptimizer lowerReadOptimizerAttr(MlirAttribute attr);

/** The scalars of one step, built once before the element-wise loops. */
typedef struct LowerOptimizerStep {
  LowerOptimizer optimizer;
  MlirValue lr;
  MlirValue decay;        /* AdamW: 1 − lr·wd */
  MlirValue beta1, beta2; /* AdamW: β1, β2 */
  MlirValue oneMinusBeta1, oneMinusBeta2;
  MlirValue bc1, bc2; /* AdamW: 1 − β^t */
  MlirValue eps;
} LowerOptimizerStep;

/** Builds the scalars of a step with learning rate `lr` (f32) at step
 * `step` (i64; AdamW only, null for SGD). */
LowerOptimizerStep lowerBuildOptimizerStep(CageBuilder *b,
                                           const LowerOptimizer *o,
                                           MlirValue lr, MlirValue step);

/** The step of one element: from w, g and the state (m, v for AdamW; b for
 * SGD) to `results`: the new w, then the new state. */
void lowerBuildOptimizerElement(CageBuilder *body, const LowerOptimizerStep *s,
                                MlirValue w, MlirValue g,
                                const MlirValue *state, MlirValue *results);

#endif /* CAGE_CONVERSION_CAGETOLINALG_OPTIMIZERS_H */
