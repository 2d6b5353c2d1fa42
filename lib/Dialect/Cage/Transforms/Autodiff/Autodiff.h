/*===- Autodiff.h - cage-autodiff's reverse sweep and its rules ---*- C -*-===*\
|*                                                                            *|
|* cage-autodiff (docs/Passes.md, docs/Training.md) differentiates a forward  *|
|* function on tensors. The reverse sweep (Autodiff.c) visits the active ops  *|
|* of the function from the loss back and asks a rule for the adjoints of     *|
|* their active operands:                                                     *|
|*  - ScalarRules.c: arith/math ops on scalars, used at the top level and    *|
|*    inside the bodies of structured ops;                                    *|
|*  - StructuredRules.c: linalg ops with a body (one generic rule) and the   *|
|*    special cases: contractions as named linalg.matmul, linalg.fill,       *|
|*    linalg.softmax;                                                         *|
|*  - TensorRules.c: tensor ops (extract, slices, reshapes, concat, pad) and  *|
|*    cage.quantize, whose adjoint is cage.ste.                               *|
|* Fogzo.c replaces the gradients of FOGZO parameters by FOGZO's estimate.   *|
|* A rule that cannot differentiate an op reports why at the op and fails;   *|
|* nothing is ever given a wrong gradient silently.                           *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef CAGE_TRANSFORMS_AUTODIFF_H
#define CAGE_TRANSFORMS_AUTODIFF_H

#include "IR/Builder.h"
#include "IR/ValueMap.h"
#include "cage-c/Dialect/CageEnums.h"

#include "mlir-c/IR.h"

#include <stdbool.h>

/* The state of one reverse sweep over one function. */
typedef struct AdSweep {
  MlirContext context;
  /* Backward ops are appended here (the end of the function's block). */
  CageBuilder b;
  /* Forward values that the loss depends on through a parameter. */
  CageValueMap active;
  /* Forward value -> its adjoint (the gradient of the loss with respect to
   * it), summed over its users as they are visited. */
  CageValueMap adjoints;
  /* The parameter arguments and their #cage.param attributes: the
   * straight-through estimator of a quantizer of a parameter is the
   * parameter's, that of any other quantizer `activationEstimator`. */
  const MlirValue *params;
  const MlirAttribute *paramAttrs;
  intptr_t numParams;
  CageEstimator activationEstimator;
  bool failed;
} AdSweep;

/* Reports at `op` that it cannot be differentiated, and why. */
void adUnsupported(AdSweep *s, MlirOperation op, const char *why);

/* Whether `v` is active (depends on a parameter and reaches the loss). */
bool adIsActive(const AdSweep *s, MlirValue v);

/* Adds `contribution` to the adjoint of the forward value `v`. */
void adAccumulate(AdSweep *s, MlirValue v, MlirValue contribution);

/* The adjoint of `v` so far, or null. */
MlirValue adAdjoint(const AdSweep *s, MlirValue v);

/* Replaces the adjoint of `v` (by one that already includes the old one). */
void adSetAdjoint(AdSweep *s, MlirValue v, MlirValue adjoint);

/* A tensor of zeros of the type of `like` (dynamic sizes read from it). */
MlirValue adZerosLike(CageBuilder *b, MlirValue like);

/* The element-wise sum of two tensors or scalars of one type. */
MlirValue adAdd(CageBuilder *b, MlirValue lhs, MlirValue rhs);

/* Scalar rules. The adjoint of operand `index` of the scalar arith/math op
 * `op`, given the values of its operands and result in the current context
 * (`operands`, `result`: the forward values at the top level, their clones
 * inside a body being differentiated) and the adjoint `dy` of its result.
 * `operandsActive` says which operands are differentiated (a tie of
 * maximumf with an inactive operand gives no gradient, as ReLU's kink).
 * A null value means zero; call it only for ops adScalarHasRule accepts. */
MlirValue adScalarRule(CageBuilder *b, MlirOperation op,
                       const MlirValue *operands, MlirValue result,
                       MlirValue dy, intptr_t index,
                       const bool *operandsActive);

/* Whether the scalar op has a rule (checked before a body is cloned). */
bool adScalarHasRule(MlirOperation op);

/* Structured and tensor rules: each handles `op` if it is of its kind
 * (returns true), propagating the adjoints of its results to its active
 * operands or reporting why it cannot. */
bool adStructuredRule(AdSweep *s, MlirOperation op);
bool adTensorRule(AdSweep *s, MlirOperation op);

/* With the `remat` option: forward values of cheap element-wise ops that
 * the backward ops of `block` (those after `forwardOps`) read are
 * recomputed before their first backward use (Remat.c). */
void adRematerialize(MlirBlock block, MlirOperation *forwardOps,
                     intptr_t numForwardOps);

/* FOGZO in a training step (Fogzo.c): what the estimate of the parameters
 * that select it needs from the step being built. */
typedef struct AdFogzoStep {
  MlirAttribute fogzo;   /* the #cage.fogzo they share */
  MlirStringRef forward; /* the forward's symbol, called for L+ and L- */
  const MlirValue *args; /* the forward's arguments, as values of the step */
  intptr_t numArgs;
  const intptr_t *params;     /* argument positions of P, in P's order */
  const MlirAttribute *grids; /* their quantizers; null: no grid */
  intptr_t numParams;
  MlirValue step, total; /* t and T (i64) */
} AdFogzoStep;

/* Replaces grads[k], the straight-through gradient of parameter k of P, by
 * FOGZO's estimate on active steps (docs/Semantics.md §1.6); false if
 * something could not be built (reported). */
bool adBuildFogzo(CageBuilder *b, const AdFogzoStep *s, MlirValue *grads);

#endif /* CAGE_TRANSFORMS_AUTODIFF_H */
