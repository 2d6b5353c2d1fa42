/*===- Quantizer.c - Lowering of cage.quantize, cage.ste, quant_error -----===*\
|*                                                                            *|
|* The quantizer ops become linalg.generic ops on tensors: reductions for     *|
|* the clip value α of each scale group, element-wise ops for q(x), masks,    *|
|* quantization errors and the LSQ gradient, and one generic per butterfly    *|
|* stage for the Hadamard rotation (Hadamard.c). The scalar formulas are in   *|
|* Grid.c, Philox4x32-10 in Philox.c.                                         *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

/* Orders. The compiled code must agree bit for bit with the C reference
 * (lib/Reference/Reference.h), so every f32 operation below happens in this
 * order, one arith/math op each (never a multiplication by a reciprocal,
 * never a fused multiply-add):
 *
 * Scale groups. The innermost dimension n of x (after rotation) is viewed
 * as [n / G, G] with tensor.expand_shape for granularity = group; the
 * groups are then the trailing loops of every generic: all loops (tensor,
 * α a 0-d tensor), the innermost (row, α of the leading shape) or the
 * innermost of the view (group, α of shape [..., n / G]). The operand α of
 * scale = operand has exactly that shape.
 *
 * Clip values, one linalg reduction per group, in increasing index order
 * (the loops run row-major):
 *   absmax:       α = maximumf over the group of absf(x), the accumulator
 *                 starting at 1e-8f (max is exact, so this is
 *                 max(max |x|, 1e-8f); maximumf propagates NaN).
 *   rms_gaussian: sum = Σ extf(x)·extf(x) in f64 (squares exact), then per
 *                 group mean = truncf(sum / f64(n_group)),
 *                 α = (c_b · sqrt(mean)) + 1e-8f in f32.
 * Steps, once per group: int s = α / qmax; centered
 * step = (2 · α) / (2^b − 1).
 *
 * Grids, per element:
 *   int:      r = clamp(rnd(x / s), qmin, qmax) (maximumf, then minimumf);
 *             q = r · s.
 *   centered: c = clamp(x, −α, α); q = (rnd((c / step) + 0.5) − 0.5) · step.
 *   rnd:      nearest: math.roundeven. stochastic: floor(y) + (u <
 *             y − floor(y) ? 1 : 0), the sum taken with 0 as well (so
 *             rnd(−0) = +0), u from Philox4x32-10 (Philox.c) with the
 *             element's row-major linear index in the whole tensor, computed
 *             from linalg.index and the loop sizes of the generic (the group
 *             view's row-major order is the tensor's).
 *   clipped:  int: roundeven(x / s) < qmin or > qmax (whatever the rounding
 *             mode); centered: absf(x) > α. Never with absmax
 *             (lowerGridMayClip), whose masks are not built.
 *
 * Rotation: Q(x) = H(q(H(x))), the scales and clipping judged on H(x);
 * H is the f32 fast Walsh-Hadamard transform of Hadamard.c.
 *
 * Masks are selects, not products (the reference's reading of "⊙ mask"):
 *   cage.ste clipped:  dx = H(clipped(H(x)) ? +0 : H(dy)) (H = identity
 *                      without rotation), so dx is +0, never −0 or NaN,
 *                      where clipped.
 *   quant_error:       keep: e = w − Q(w), one f32 subtraction after the
 *                      rotation back; zero_clipped:
 *                      e = H(clipped(H(w)) ? +0 : H(w) − q(H(w))).
 *
 * LSQ gradient (cage.ste with scale = operand), on H(x), H(dy):
 *   d = dq/dα (Grid.c): int: z = x / s, r = roundeven(z): (r − z) / qmax
 *   inside, qmin / qmax (an f32 constant) where r < qmin, 1 where r > qmax;
 *   centered, h = (2^b − 1) / 2: r = roundeven(((x · h) / α) + 0.5),
 *   ((r − 0.5) / h) − (x / α) inside, 1 where x > α, −1 where x < −α.
 *   sum = Σ extf(dy) · extf(d) per group in f64: the product is taken in
 *   f64 (exact), as the reference does; the brief of this lowering asked
 *   for the product in f32, extended after, which rounds differently.
 *   dα = truncf(sum) · γ, γ = 1 / sqrt(f32(n_group · qmax)) (the integer
 *   product converted once, sqrt and division in f32).
 *
 * Rewrites are staged: each pattern builds its ops into a detached block
 * and moves them before the op only once every value was built, so a
 * failure leaves the IR as it was. */

#include "Patterns.h"

#include "Grid.h"
#include "Groups.h"
#include "Hadamard.h"
#include "Philox.h"

#include "cage-c/Dialect/Cage.h"
#include "cage-c/Dialect/CageOps.h"

#include "mlir-c/BuiltinAttributes.h"
#include "mlir-c/BuiltinTypes.h"
#include "mlir-c/Diagnostics.h"

#include <stdio.h>
#include <stdlib.h>

static const MlirValue nullValue = {NULL};

static MlirType f64Type(CageBuilder *b) { return mlirF64TypeGet(b->context); }

static MlirValue rotate(CageBuilder *b, const LowerQuantizer *q, MlirValue x) {
  if (q->rotation != CageRotationHadamard)
    return x;
  return lowerBuildHadamard(b, x, q->block);
}

/*===--- Scale groups -----------------------------------------------------===*/

LowerGroupView lowerViewGroups(CageBuilder *b, const LowerQuantizer *q,
                               MlirValue x) {
  if (mlirValueIsNull(x))
    return (LowerGroupView){x, 0, 0};
  int64_t rank = mlirShapedTypeGetRank(mlirValueGetType(x));
  LowerGroupView view = {x, rank, rank - 1};
  if (q->granularity == CageGranularityTensor)
    view.groupLoops = 0;
  if (q->granularity == CageGranularityGroup) {
    view.value = cageBuildSplitInnermost(b, x, &q->groupSize, 1);
    view.rank = rank + 1;
    view.groupLoops = rank;
  }
  return view;
}

/* `v`, shaped like the view, back in the shape of `type`. */
static MlirValue unviewGroups(CageBuilder *b, const LowerGroupView *view,
                              MlirValue v, MlirType type) {
  if (view->rank == mlirShapedTypeGetRank(type))
    return v;
  return cageBuildMergeInnermost(b, v, type);
}

/* The size of loop `d` of the view: a constant, or tensor.dim. */
static MlirValue viewSize(CageBuilder *b, const LowerGroupView *view,
                          int64_t d) {
  if (mlirValueIsNull(view->value))
    return nullValue;
  MlirType type = mlirValueGetType(view->value);
  if (mlirShapedTypeIsDynamicDim(type, d))
    return cageBuildDim(b, view->value, d);
  return cageBuildConstantIndex(b, mlirShapedTypeGetDimSize(type, d));
}

/* n_group, the number of elements in a group (index). */
static MlirValue groupElementCount(CageBuilder *b, const LowerGroupView *view) {
  MlirValue count = cageBuildConstantIndex(b, 1);
  for (int64_t d = view->groupLoops; d < view->rank; ++d)
    count = cageBuildMulI(b, count, viewSize(b, view, d));
  return count;
}

static MlirValue groupElementCountI64(CageBuilder *b,
                                      const LowerGroupView *view) {
  return cageBuildIndexCast(b, groupElementCount(b, view),
                            mlirIntegerTypeGet(b->context, 64));
}

/* tensor.empty with one element per group. */
static MlirValue emptyPerGroup(CageBuilder *b, const LowerGroupView *view,
                               MlirType elementType) {
  if (mlirValueIsNull(view->value))
    return nullValue;
  MlirType type = mlirValueGetType(view->value);
  int64_t *shape = cageAllocArray(view->groupLoops, sizeof *shape);
  MlirValue *sizes = cageAllocArray(view->groupLoops, sizeof *sizes);
  intptr_t numDynamic = 0;
  for (int64_t d = 0; d < view->groupLoops; ++d) {
    shape[d] = mlirShapedTypeGetDimSize(type, d);
    if (mlirShapedTypeIsDynamicDim(type, d))
      sizes[numDynamic++] = cageBuildDim(b, view->value, d);
  }
  MlirType groupsType = mlirRankedTensorTypeGet(
      view->groupLoops, shape, elementType, mlirAttributeGetNull());
  MlirValue empty = cageBuildEmpty(b, groupsType, sizes, numDynamic);
  free(sizes);
  free(shape);
  return empty;
}

/*===--- Generics over a view ---------------------------------------------===*/

enum { kMaxGenericOperands = 10 };

MlirOperation lowerBuildOverGroups(CageBuilder *b, const LowerOverGroups *g) {
  const LowerGroupView *view = g->view;
  intptr_t numInputs = g->numElements + g->numPerGroup;
  intptr_t numOperands = numInputs + g->numOutputs;
  if (numOperands > kMaxGenericOperands) {
    mlirEmitError(b->location, "cage-lower-to-linalg: too many operands");
    return (MlirOperation){NULL};
  }
  MlirValue inputs[kMaxGenericOperands];
  MlirAffineMap maps[kMaxGenericOperands];
  for (intptr_t i = 0; i < numInputs; ++i) {
    bool element = i < g->numElements;
    inputs[i] = element ? g->elements[i] : g->perGroup[i - g->numElements];
    maps[i] = cagePrefixMap(b->context, view->rank,
                            element ? view->rank : view->groupLoops);
  }
  for (intptr_t i = numInputs; i < numOperands; ++i)
    maps[i] = cagePrefixMap(b->context, view->rank,
                            g->reduce ? view->groupLoops : view->rank);
  CageIteratorType *iterators = cageAllocArray(view->rank, sizeof *iterators);
  for (int64_t d = 0; d < view->rank; ++d)
    iterators[d] = g->reduce && d >= view->groupLoops ? CageIteratorReduction
                                                      : CageIteratorParallel;

  CageGenericSpec spec = {.inputs = inputs,
                          .numInputs = numInputs,
                          .outputs = g->outputs,
                          .numOutputs = g->numOutputs,
                          .indexingMaps = maps,
                          .iteratorTypes = iterators,
                          .numLoops = view->rank,
                          .body = g->body,
                          .userData = g->userData};
  MlirOperation generic = cageBuildGeneric(b, &spec);
  free(iterators);
  return generic;
}

static MlirValue buildOverGroups(CageBuilder *b, const LowerOverGroups *g) {
  return cageOperationGetResult(lowerBuildOverGroups(b, g), 0);
}

/* An element-wise generic over the view with one output like the view. */
static MlirValue mapElements(CageBuilder *b, const LowerGroupView *view,
                             const MlirValue *elements, intptr_t numElements,
                             const MlirValue *perGroup, intptr_t numPerGroup,
                             CageGenericBodyBuilder body, void *userData) {
  MlirValue init = cageBuildEmptyLike(b, view->value);
  LowerOverGroups g = {view,  elements, numElements, perGroup, numPerGroup,
                       &init, 1,        false,       body,     userData};
  return buildOverGroups(b, &g);
}

/* A reduction of each group of the view into `init` (one per group). */
static MlirValue reduceGroups(CageBuilder *b, const LowerGroupView *view,
                              const MlirValue *elements, intptr_t numElements,
                              const MlirValue *perGroup, intptr_t numPerGroup,
                              MlirValue init, CageGenericBodyBuilder body,
                              void *userData) {
  LowerOverGroups g = {view,  elements, numElements, perGroup, numPerGroup,
                       &init, 1,        true,        body,     userData};
  return buildOverGroups(b, &g);
}

/* An element-wise generic over the per-group tensor `values` (or any
 * tensor), one result into `init`. */
static MlirValue mapGroups(CageBuilder *b, MlirValue values, MlirValue init,
                           CageGenericBodyBuilder body, void *userData) {
  return cageOperationGetResult(
      cageBuildElementwise(b, &values, 1, &init, 1, body, userData), 0);
}

/*===--- Bodies -----------------------------------------------------------===*/

/* What the bodies read besides their arguments. */
typedef struct BodyContext {
  const LowerQuantizer *q;
  CageErrorMode error;         /* errorBody */
  const LowerPhiloxKeys *keys; /* quantizeBody with stochastic rounding */
  const MlirValue *sizes;      /* ... and the loop sizes of the view */
  int64_t rank;
  MlirValue scalar; /* rmsClipValueBody: f64 n_group; lsqFinalBody: γ */
} BodyContext;

/* acc = maximumf(|x|, acc) */
static void maxAbsBody(CageBuilder *body, const MlirValue *args,
                       intptr_t numArgs, MlirValue *yielded, void *userData) {
  (void)numArgs;
  (void)userData;
  yielded[0] = cageBuildMaximumF(body, cageBuildAbsF(body, args[0]), args[1]);
}

/* acc = acc + f64(x) * f64(x) */
static void sumOfSquaresBody(CageBuilder *body, const MlirValue *args,
                             intptr_t numArgs, MlirValue *yielded,
                             void *userData) {
  (void)numArgs;
  (void)userData;
  MlirValue x = cageBuildExtF(body, args[0], f64Type(body));
  yielded[0] = cageBuildAddF(body, args[1], cageBuildMulF(body, x, x));
}

static void rmsClipValueBody(CageBuilder *body, const MlirValue *args,
                             intptr_t numArgs, MlirValue *yielded,
                             void *userData) {
  (void)numArgs;
  const BodyContext *ctx = userData;
  yielded[0] = lowerGridRmsClipValue(body, ctx->q, args[0], ctx->scalar);
}

static void gridStepBody(CageBuilder *body, const MlirValue *args,
                         intptr_t numArgs, MlirValue *yielded, void *userData) {
  (void)numArgs;
  const BodyContext *ctx = userData;
  yielded[0] = lowerGridStep(body, ctx->q, args[0]);
}

MlirValue lowerLinearIndex(CageBuilder *body, const MlirValue *sizes,
                           int64_t rank) {
  if (rank == 0)
    return cageBuildConstantI64(body, 0);
  MlirValue index = cageBuildLinalgIndex(body, 0);
  for (int64_t d = 1; d < rank; ++d) {
    MlirValue scaled = cageBuildMulI(body, index, sizes[d]);
    index = cageBuildAddI(body, scaled, cageBuildLinalgIndex(body, d));
  }
  return cageBuildIndexCast(body, index, mlirIntegerTypeGet(body->context, 64));
}

/* q(x); args: x, the grid's scales, out. */
static void quantizeBody(CageBuilder *body, const MlirValue *args,
                         intptr_t numArgs, MlirValue *yielded, void *userData) {
  (void)numArgs;
  const BodyContext *ctx = userData;
  MlirValue alpha, step;
  lowerGridReadScales(ctx->q, args + 1, &alpha, &step);
  LowerStochastic stochastic = {ctx->keys, nullValue};
  if (ctx->keys)
    stochastic.index = lowerLinearIndex(body, ctx->sizes, ctx->rank);
  yielded[0] = lowerGridValue(body, ctx->q, args[0], alpha, step,
                              ctx->keys ? &stochastic : NULL);
}

MlirValue lowerErrorValue(CageBuilder *body, const LowerQuantizer *q,
                          CageErrorMode error, MlirValue w,
                          const MlirValue *scales) {
  MlirValue alpha, step;
  lowerGridReadScales(q, scales, &alpha, &step);
  MlirValue e =
      cageBuildSubF(body, w, lowerGridValue(body, q, w, alpha, step, NULL));
  if (error == CageErrorModeZeroClipped && lowerGridMayClip(q)) {
    MlirValue zero = cageBuildConstantF32(body, 0.0f);
    MlirValue clipped = lowerGridIsClipped(body, q, w, alpha, step);
    e = cageBuildSelect(body, clipped, zero, e);
  }
  return e;
}

/* w - q(w), +0 where clipped with zero_clipped; args: w, scales, out. */
static void errorBody(CageBuilder *body, const MlirValue *args,
                      intptr_t numArgs, MlirValue *yielded, void *userData) {
  (void)numArgs;
  const BodyContext *ctx = userData;
  yielded[0] = lowerErrorValue(body, ctx->q, ctx->error, args[0], args + 1);
}

/* clipped(x) ? +0 : dy; args: dy, x, scales, out. */
static void maskBody(CageBuilder *body, const MlirValue *args, intptr_t numArgs,
                     MlirValue *yielded, void *userData) {
  (void)numArgs;
  const BodyContext *ctx = userData;
  MlirValue alpha, step;
  lowerGridReadScales(ctx->q, args + 2, &alpha, &step);
  MlirValue zero = cageBuildConstantF32(body, 0.0f);
  MlirValue clipped = lowerGridIsClipped(body, ctx->q, args[1], alpha, step);
  yielded[0] = cageBuildSelect(body, clipped, zero, args[0]);
}

/* acc = acc + f64(dy) * f64(dq/dα); args: x, dy, scales, acc. */
static void lsqSumBody(CageBuilder *body, const MlirValue *args,
                       intptr_t numArgs, MlirValue *yielded, void *userData) {
  const BodyContext *ctx = userData;
  MlirValue alpha, step;
  lowerGridReadScales(ctx->q, args + 2, &alpha, &step);
  MlirValue d = lowerGridScaleDerivative(body, ctx->q, args[0], alpha, step);
  MlirValue dy = cageBuildExtF(body, args[1], f64Type(body));
  MlirValue product =
      cageBuildMulF(body, dy, cageBuildExtF(body, d, f64Type(body)));
  yielded[0] = cageBuildAddF(body, args[numArgs - 1], product);
}

/* dα = f32(sum) * γ */
static void lsqFinalBody(CageBuilder *body, const MlirValue *args,
                         intptr_t numArgs, MlirValue *yielded, void *userData) {
  (void)numArgs;
  const BodyContext *ctx = userData;
  MlirValue sum = cageBuildTruncF(body, args[0], mlirF32TypeGet(body->context));
  yielded[0] = cageBuildMulF(body, sum, ctx->scalar);
}

/* a - b */
static void subtractBody(CageBuilder *body, const MlirValue *args,
                         intptr_t numArgs, MlirValue *yielded, void *userData) {
  (void)numArgs;
  (void)userData;
  yielded[0] = cageBuildSubF(body, args[0], args[1]);
}

/*===--- Clip values and steps --------------------------------------------===*/

static MlirValue absmaxClipValues(CageBuilder *b, const LowerGroupView *view) {
  MlirType f32 = mlirF32TypeGet(b->context);
  MlirValue floor = cageBuildConstantF32(b, 1e-8f);
  MlirValue init = cageBuildFill(b, floor, emptyPerGroup(b, view, f32));
  return reduceGroups(b, view, &view->value, 1, NULL, 0, init, maxAbsBody,
                      NULL);
}

static MlirValue rmsClipValues(CageBuilder *b, const LowerQuantizer *q,
                               const LowerGroupView *view) {
  MlirValue zero = cageBuildConstantFloat(b, f64Type(b), 0.0);
  MlirValue init = cageBuildFill(b, zero, emptyPerGroup(b, view, f64Type(b)));
  MlirValue sums = reduceGroups(b, view, &view->value, 1, NULL, 0, init,
                                sumOfSquaresBody, NULL);
  BodyContext ctx = {.q = q};
  ctx.scalar = cageBuildSIToFP(b, groupElementCountI64(b, view), f64Type(b));
  MlirValue alphas = emptyPerGroup(b, view, mlirF32TypeGet(b->context));
  return mapGroups(b, sums, alphas, rmsClipValueBody, &ctx);
}

LowerScales lowerGroupScales(CageBuilder *b, const LowerQuantizer *q,
                             const LowerGroupView *view, MlirValue operand) {
  MlirValue alpha = operand;
  if (q->scale == CageScaleKindAbsmax)
    alpha = absmaxClipValues(b, view);
  else if (q->scale == CageScaleKindRmsGaussian)
    alpha = rmsClipValues(b, q, view);
  BodyContext ctx = {.q = q};
  MlirValue step =
      mapGroups(b, alpha, cageBuildEmptyLike(b, alpha), gridStepBody, &ctx);
  LowerScales scales = {{step, nullValue}, 1};
  if (lowerGridNumScales(q) == 2)
    scales = (LowerScales){{alpha, step}, 2};
  return scales;
}

MlirValue lowerGroupSteps(CageBuilder *b, const LowerQuantizer *q, MlirValue x,
                          MlirValue *groupElements) {
  LowerGroupView view = lowerViewGroups(b, q, rotate(b, q, x));
  LowerScales scales = lowerGroupScales(b, q, &view, nullValue);
  *groupElements = groupElementCount(b, &view);
  return scales.values[scales.count - 1];
}

/*===--- The lowerings ----------------------------------------------------===*/

/* q(x) on the view, with stochastic rounding when `seed` is given. */
static MlirValue quantizeElements(CageBuilder *b, const LowerQuantizer *q,
                                  const LowerGroupView *view,
                                  const LowerScales *scales, MlirValue seed) {
  BodyContext ctx = {.q = q};
  LowerPhiloxKeys keys;
  MlirValue *sizes = cageAllocArray(view->rank, sizeof *sizes);
  if (!mlirValueIsNull(seed)) {
    lowerBuildPhiloxKeys(b, seed, &keys);
    for (int64_t d = 1; d < view->rank; ++d)
      sizes[d] = viewSize(b, view, d);
    ctx.keys = &keys;
    ctx.sizes = sizes;
    ctx.rank = view->rank;
  }
  MlirValue y = mapElements(b, view, &view->value, 1, scales->values,
                            scales->count, quantizeBody, &ctx);
  free(sizes);
  return y;
}

/* Q(x) = H(q(H(x))) (cage.quantize). */
static MlirValue buildQuantize(CageBuilder *b, const LowerQuantizer *q,
                               MlirValue x, MlirValue seed, MlirValue scale) {
  LowerGroupView view = lowerViewGroups(b, q, rotate(b, q, x));
  LowerScales scales = lowerGroupScales(b, q, &view, scale);
  MlirValue y = quantizeElements(b, q, &view, &scales, seed);
  return rotate(b, q, unviewGroups(b, &view, y, mlirValueGetType(x)));
}

static MlirValue subtract(CageBuilder *b, MlirValue x, MlirValue y) {
  MlirValue operands[] = {x, y};
  MlirValue init = cageBuildEmptyLike(b, x);
  return cageOperationGetResult(
      cageBuildElementwise(b, operands, 2, &init, 1, subtractBody, NULL), 0);
}

/* e = w - Q(w) (cage.quant_error, error = keep) or, with zero_clipped, the
 * same with e = +0 where w is clipped (with rotation
 * e = H(clipped(w·H) ? +0 : w·H - q(w·H))). */
static MlirValue buildQuantError(CageBuilder *b, const LowerQuantizer *q,
                                 CageErrorMode error, MlirValue w) {
  /* keep with rotation subtracts in the unrotated domain: w - H(q(H(w))). */
  if (q->rotation == CageRotationHadamard && error == CageErrorModeKeep)
    return subtract(b, w, buildQuantize(b, q, w, nullValue, nullValue));
  /* Otherwise the error is taken where q is, in one generic. */
  LowerGroupView view = lowerViewGroups(b, q, rotate(b, q, w));
  LowerScales scales = lowerGroupScales(b, q, &view, nullValue);
  BodyContext ctx = {.q = q, .error = error};
  MlirValue e = mapElements(b, &view, &view.value, 1, scales.values,
                            scales.count, errorBody, &ctx);
  return rotate(b, q, unviewGroups(b, &view, e, mlirValueGetType(w)));
}

/* dα = γ · Σ_group f64(dy) · f64(dq/dα), on the rotated views. */
static MlirValue scaleGradient(CageBuilder *b, const LowerQuantizer *q,
                               const LowerGroupView *x,
                               const LowerGroupView *dy,
                               const LowerScales *scales, MlirValue alpha) {
  MlirValue zero = cageBuildConstantFloat(b, f64Type(b), 0.0);
  MlirValue init = cageBuildFill(
      b, zero, cageBuildEmptyLikeWithElementType(b, alpha, f64Type(b)));
  MlirValue elements[] = {x->value, dy->value};
  BodyContext ctx = {.q = q};
  MlirValue sums = reduceGroups(b, x, elements, 2, scales->values,
                                scales->count, init, lsqSumBody, &ctx);
  /* γ = 1 / sqrt(f32(n_group · qmax)) */
  MlirValue count = groupElementCountI64(b, x);
  MlirValue n =
      cageBuildMulI(b, count, cageBuildConstantI64(b, lowerGridQMax(q)));
  MlirValue root =
      cageBuildSqrt(b, cageBuildSIToFP(b, n, mlirF32TypeGet(b->context)));
  ctx.scalar = cageBuildDivF(b, cageBuildConstantF32(b, 1.0f), root);
  return mapGroups(b, sums, cageBuildEmptyLike(b, alpha), lsqFinalBody, &ctx);
}

/* cage.ste: dx and, with a scale operand, dα. */
static void buildSte(CageBuilder *b, const LowerQuantizer *q,
                     CageEstimator estimator, MlirValue dy, MlirValue x,
                     MlirValue scale, MlirValue *dx, MlirValue *dalpha) {
  bool clipped = estimator == CageEstimatorClipped;
  bool wantsScaleGradient = !mlirValueIsNull(scale);
  *dx = dy;
  /* No element is clipped: the mask selects dy everywhere, and dx is
   * H(H(dy)), the rotations kept for their rounding (dy without rotation).
   * absmax has no scale operand, so no dα either. */
  if (clipped && !lowerGridMayClip(q)) {
    *dx = rotate(b, q, rotate(b, q, dy));
    return;
  }
  if (!clipped && !wantsScaleGradient)
    return;
  LowerGroupView xView = lowerViewGroups(b, q, rotate(b, q, x));
  LowerGroupView dyView = lowerViewGroups(b, q, rotate(b, q, dy));
  LowerScales scales = lowerGroupScales(b, q, &xView, scale);
  if (clipped) {
    MlirValue elements[] = {dyView.value, xView.value};
    BodyContext ctx = {.q = q};
    MlirValue masked = mapElements(b, &xView, elements, 2, scales.values,
                                   scales.count, maskBody, &ctx);
    *dx = rotate(b, q, unviewGroups(b, &xView, masked, mlirValueGetType(dy)));
  }
  if (wantsScaleGradient)
    *dalpha = scaleGradient(b, q, &xView, &dyView, &scales, scale);
}

/*===--- Patterns ---------------------------------------------------------===*/

static const char *whyNotLowerable(MlirOperation op, char *reason, size_t size);

/* Builds and records the replacement values of `op` at `b`. */
typedef void (*LowerOp)(CageBuilder *b, MlirOperation op,
                        LowerResults *results);

static void lowerQuantizeOp(CageBuilder *b, MlirOperation op,
                            LowerResults *results) {
  LowerQuantizer q = lowerReadQuantizer(cageQuantizeOpGetQuantizer(op));
  lowerReplace(results, cageQuantizeOpGetResult(op),
               buildQuantize(b, &q, cageQuantizeOpGetX(op),
                             cageQuantizeOpGetSeed(op),
                             cageQuantizeOpGetScale(op)));
}

static void lowerSteOp(CageBuilder *b, MlirOperation op,
                       LowerResults *results) {
  LowerQuantizer q = lowerReadQuantizer(cageSteOpGetQuantizer(op));
  MlirValue dx = nullValue, dscale = nullValue;
  buildSte(b, &q, cageSteOpGetEstimator(op), cageSteOpGetDy(op),
           cageSteOpGetX(op), cageSteOpGetScale(op), &dx, &dscale);
  lowerReplace(results, cageSteOpGetDx(op), dx);
  if (!mlirValueIsNull(cageSteOpGetDscale(op)))
    lowerReplace(results, cageSteOpGetDscale(op), dscale);
}

static void lowerQuantErrorOp(CageBuilder *b, MlirOperation op,
                              LowerResults *results) {
  LowerQuantizer q = lowerReadQuantizer(cageQuantErrorOpGetQuantizer(op));
  lowerReplace(results, cageQuantErrorOpGetErrorValue(op),
               buildQuantError(b, &q, cageQuantErrorOpGetError(op),
                               cageQuantErrorOpGetW(op)));
}

/* The staged rewrite of one quantizer op: nothing is built for an op whose
 * combination has no lowering. */
static bool buildQuantizerOp(CageBuilder *b, MlirOperation op,
                             LowerResults *results, LowerOp lower) {
  char reason[96];
  if (whyNotLowerable(op, reason, sizeof reason))
    return false;
  lower(b, op, results);
  return true;
}

static bool patternQuantize(CageBuilder *b, MlirOperation op,
                            LowerResults *results) {
  return buildQuantizerOp(b, op, results, lowerQuantizeOp);
}

static bool patternSte(CageBuilder *b, MlirOperation op,
                       LowerResults *results) {
  return buildQuantizerOp(b, op, results, lowerSteOp);
}

static bool patternQuantError(CageBuilder *b, MlirOperation op,
                              LowerResults *results) {
  return buildQuantizerOp(b, op, results, lowerQuantErrorOp);
}

void cagePopulateQuantizerLoweringPatterns(MlirContext ctx,
                                           MlirRewritePatternSet patterns) {
  static LowerPattern table[] = {
      {"cage.quantize", patternQuantize},
      {"cage.ste", patternSte},
      {"cage.quant_error", patternQuantError},
  };
  lowerAddPatterns(ctx, patterns, table, sizeof table / sizeof table[0]);
}

/*===--- What can be lowered ----------------------------------------------===*/

/* The tensor whose shape an op that quantizes quantizes: x, w, or the w
 * of the first parameter of a cage.multi_update. */
static MlirValue quantizedTensor(MlirOperation op) {
  if (cageOperationIsAQuantize(op))
    return cageQuantizeOpGetX(op);
  if (cageOperationIsASte(op))
    return cageSteOpGetX(op);
  if (cageOperationIsAQuantError(op))
    return cageQuantErrorOpGetW(op);
  if (cageOperationIsAUpdate(op))
    return cageUpdateOpGetW(op);
  return cageMultiUpdateOpGetParamW(op, 0);
}

/* Every combination of section 1 lowers, and the op verifiers ensure the
 * quantizer, the estimator and f32 ranked tensors; what is left to check is
 * that the tensor has an innermost dimension (rank >= 1; any higher rank
 * lowers). Returns null, or why not. */
static const char *whyNotLowerable(MlirOperation op, char *reason,
                                   size_t size) {
  MlirValue x = quantizedTensor(op);
  if (mlirValueIsNull(x))
    return "an op without operands";
  int64_t rank = mlirShapedTypeGetRank(mlirValueGetType(x));
  if (rank >= 1)
    return NULL;
  snprintf(reason, size, "a tensor of rank %lld (the rank must be at least 1)",
           (long long)rank);
  return reason;
}

bool cageCanLowerQuantizerOp(MlirOperation op) {
  char buffer[96];
  const char *reason = whyNotLowerable(op, buffer, sizeof buffer);
  if (!reason)
    return true;
  char message[160];
  snprintf(message, sizeof message, "cage-lower-to-linalg cannot lower %s",
           reason);
  mlirEmitError(mlirOperationGetLocation(op), message);
  return false;
}
