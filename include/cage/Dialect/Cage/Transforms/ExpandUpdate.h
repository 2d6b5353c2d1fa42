/*===- cage/Dialect/Cage/Transforms/ExpandUpdate.h ----------------*- C -*-===*\
|*                                                                            *|
|* The unfused spelling of a cage.update: cage.quant_error, the correction    *|
|* as one element-wise linalg.generic, and the stand-alone optimizer op       *|
|* (cage.adamw or cage.sgd). One function builds it, so that the pass         *|
|* cage-expand-update and the lowering of cage.update (cage-lower-to-linalg,  *|
|* where it does not lower the update fused) produce the same ops in the      *|
|* same order, and cage-fuse-correction recognises exactly what they          *|
|* produce.                                                                   *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef CAGE_DIALECT_CAGE_TRANSFORMS_EXPANDUPDATE_H
#define CAGE_DIALECT_CAGE_TRANSFORMS_EXPANDUPDATE_H

#include "mlir-c/IR.h"

#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The builder layer of lib/IR/Builder.h. */
struct CageBuilder;

/** The most results a cage.update has: the new w, then the new state (m, v
 *  for AdamW; b for SGD). */
enum { kCageUpdateMaxResults = 3 };

/** Whether cageExpandUpdate can expand `op`: a cage.update whose operands
 *  are w, g, the state, lr, λ_t and (AdamW only) t, nothing more, and whose
 *  tensors (w, g and the state) all have f32 elements. An update with other
 *  state element types or extra operands (a seed) is not expandable. */
bool cageUpdateIsExpandable(MlirOperation op);

/** Builds the unfused spelling of the cage.update `op` where `b` points,
 *  with b's location, and stores in `results` (room for
 *  kCageUpdateMaxResults) the values that replace op's results: the new w,
 *  then the new state. The ops, in this order:
 *
 *    %e = cage.quant_error %w {quantizer, error}       (e from w before decay)
 *  coupled:
 *    %gc = linalg.generic ins(%g, %e) outs(tensor.empty)
 *            { p = λ·e; s = g + p; yield s }
 *    cage.adamw / cage.sgd on (%w, %gc, state..., %lr[, %t])
 *  decoupled:
 *    %w1, state... = cage.adamw / cage.sgd on (%w, %g, state..., %lr[, %t])
 *    %f = arith.mulf %lr, %lambda
 *    %w2 = linalg.generic ins(%w1, %e) outs(tensor.empty)
 *            { p = f·e; s = w1 − p; yield s }
 *
 *  The optimizer op carries the hyper-parameters of op's `optimizer`
 *  attribute. The correction is applied whatever λ_t is, as
 *  docs/Semantics.md §1.3 defines cage.update: this is its natural unfused
 *  spelling, bit for bit.
 *
 *  Returns false, having built nothing, when `op` is not expandable
 *  (cageUpdateIsExpandable); returns false also when a build call failed,
 *  which the builder has reported at b's location (then the ops built so
 *  far are left unused). Does not touch `op`: the caller replaces it. */
bool cageExpandUpdate(struct CageBuilder *b, MlirOperation op,
                      MlirValue *results);

/** The stand-alone optimizer op of the #cage.adamw or #cage.sgd attribute
 *  `optimizer` (cage.adamw or cage.sgd, its hyper-parameters as the op's
 *  attributes) on (w, g, state..., lr[, t]): `state` holds m, v (AdamW) or
 *  b (SGD), `step` is t for AdamW and ignored for SGD. Results: the new w,
 *  then the new state, of w's type. */
MlirOperation cageBuildOptimizerOp(struct CageBuilder *b,
                                   MlirAttribute optimizer, MlirValue w,
                                   MlirValue g, const MlirValue *state,
                                   MlirValue lr, MlirValue step);

#ifdef __cplusplus
}
#endif

#endif /* CAGE_DIALECT_CAGE_TRANSFORMS_EXPANDUPDATE_H */
