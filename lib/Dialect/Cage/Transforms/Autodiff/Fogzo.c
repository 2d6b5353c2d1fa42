/*===- Fogzo.c - FOGZO's gradients in the training step -------------------===*\
|*                                                                            *|
|* On an active step (r = min(t/T, 1) > start, docs/Semantics.md §1.6) the    *|
|* straight-through gradients g of the FOGZO parameters are replaced by      *|
|* G = ((L+ − L−) / (2ε))·v, L± the forward at w ± ε·v:                       *|
|*                                                                            *|
|*   %G:n = scf.if %active {                                                  *|
|*     %v:n, %eps = cage.fogzo_direction (%g, %w)..., %t, %T {...}            *|
|*     %lp = func.call @forward(..., %w + %eps * %v, ...)                     *|
|*     %lm = func.call @forward(..., %w - %eps * %v, ...)                     *|
|*     scf.yield ((%lp - %lm) / (2 * %eps)) * %v ...                          *|
|*   } else { scf.yield %g ... }                                              *|
|*                                                                            *|
|* The forward is called, not cloned: it is the evaluation function that     *|
|* cage-autodiff keeps, and a call costs two forward passes, no backward.     *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#include "Autodiff.h"

#include "cage-c/Dialect/Cage.h"
#include "cage-c/Dialect/CageOps.h"

#include "mlir-c/BuiltinAttributes.h"
#include "mlir-c/BuiltinTypes.h"

#include <stdlib.h>

/* The scalars a probe or a gradient body reads besides its tensors. */
typedef struct ScaleContext {
  MlirValue scale;
  bool subtract;
} ScaleContext;

/* w ± scale·v; args: w, v, out. */
static void probeBody(CageBuilder *body, const MlirValue *args,
                      intptr_t numArgs, MlirValue *yielded, void *userData) {
  (void)numArgs;
  const ScaleContext *ctx = userData;
  MlirValue step = cageBuildMulF(body, ctx->scale, args[1]);
  yielded[0] = ctx->subtract ? cageBuildSubF(body, args[0], step)
                             : cageBuildAddF(body, args[0], step);
}

/* scale·v; args: v, out. */
static void scaleBody(CageBuilder *body, const MlirValue *args,
                      intptr_t numArgs, MlirValue *yielded, void *userData) {
  (void)numArgs;
  const ScaleContext *ctx = userData;
  yielded[0] = cageBuildMulF(body, ctx->scale, args[0]);
}

static MlirValue elementwise(CageBuilder *b, const MlirValue *inputs,
                             intptr_t numInputs, CageGenericBodyBuilder body,
                             ScaleContext *ctx) {
  MlirValue init = cageBuildEmptyLike(b, inputs[0]);
  return cageOperationGetResult(
      cageBuildElementwise(b, inputs, numInputs, &init, 1, body, ctx), 0);
}

/* The loss of the forward at the FOGZO parameters w ± ε·v. */
static MlirValue probeLoss(CageBuilder *b, const AdFogzoStep *s,
                           const MlirValue *v, MlirValue eps, bool subtract) {
  MlirValue *args = cageAllocArray(s->numArgs, sizeof *args);
  for (intptr_t i = 0; i < s->numArgs; ++i)
    args[i] = s->args[i];
  ScaleContext ctx = {eps, subtract};
  for (intptr_t k = 0; k < s->numParams; ++k) {
    MlirValue inputs[] = {s->args[s->params[k]], v[k]};
    args[s->params[k]] = elementwise(b, inputs, 2, probeBody, &ctx);
  }
  MlirType f32 = mlirF32TypeGet(b->context);
  MlirValue loss = cageOperationGetResult(
      cageBuildCall(b, s->forward, args, s->numArgs, &f32, 1), 0);
  free(args);
  return loss;
}

typedef struct Branches {
  const AdFogzoStep *s;
  const MlirValue *grads;
} Branches;

/* The active branch: the direction, the two probes and G. */
static void activeBranch(CageBuilder *b, MlirValue *yielded, void *userData) {
  const Branches *br = userData;
  const AdFogzoStep *s = br->s;
  MlirValue *weights = cageAllocArray(s->numParams, sizeof *weights);
  for (intptr_t k = 0; k < s->numParams; ++k)
    weights[k] = s->args[s->params[k]];
  MlirOperation direction = cageBuilderInsert(
      b,
      cageFogzoDirectionOpCreate(b->location, s->numParams, br->grads, weights,
                                 s->step, s->total, s->fogzo, s->grids));
  free(weights);
  if (mlirOperationIsNull(direction))
    return; /* yielded stays null: the scf.if is not built */
  MlirValue *v = cageAllocArray(s->numParams, sizeof *v);
  for (intptr_t k = 0; k < s->numParams; ++k)
    v[k] = cageFogzoDirectionOpGetDirection(direction, k);
  MlirValue eps = cageFogzoDirectionOpGetEpsilon(direction);
  MlirValue lossPlus = probeLoss(b, s, v, eps, false);
  MlirValue lossMinus = probeLoss(b, s, v, eps, true);
  /* (L+ − L−) / (2ε), as the reference rounds it; one statement per op,
   * so that they are built in this order. */
  MlirValue difference = cageBuildSubF(b, lossPlus, lossMinus);
  MlirValue twoEps = cageBuildMulF(b, cageBuildConstantF32(b, 2.0f), eps);
  ScaleContext ctx = {cageBuildDivF(b, difference, twoEps), false};
  for (intptr_t k = 0; k < s->numParams; ++k)
    yielded[k] = elementwise(b, &v[k], 1, scaleBody, &ctx);
  free(v);
}

/* The inactive branch: the straight-through gradients. */
static void inactiveBranch(CageBuilder *b, MlirValue *yielded, void *userData) {
  (void)b;
  const Branches *br = userData;
  for (intptr_t k = 0; k < br->s->numParams; ++k)
    yielded[k] = br->grads[k];
}

/* `g` (a result of the scf.if) as the full slice of itself with the sizes
 * of `w`, where a size is dynamic: the same values, but sizes that read w's.
 * The run-time checks of the optimizer step (that g has w's sizes) must
 * run before the step writes anything, so their sizes must come from the
 * arguments; through an scf.if result they could not be traced. The slice
 * is a view (no copy); g has w's sizes by construction. */
static MlirValue withSizesOf(CageBuilder *b, MlirValue g, MlirValue w) {
  MlirType type = mlirValueGetType(g);
  intptr_t rank = mlirShapedTypeGetRank(type);
  bool dynamic = false;
  CageSliceIndex *offsets = cageAllocArray(rank, sizeof *offsets);
  CageSliceIndex *sizes = cageAllocArray(rank, sizeof *sizes);
  for (intptr_t d = 0; d < rank; ++d) {
    offsets[d] = (CageSliceIndex){{NULL}, 0};
    sizes[d] = (CageSliceIndex){{NULL}, mlirShapedTypeGetDimSize(type, d)};
    if (mlirShapedTypeIsDynamicDim(type, d)) {
      sizes[d].value = cageBuildDim(b, w, d);
      dynamic = true;
    }
  }
  MlirValue result =
      dynamic ? cageBuildExtractSlice(b, g, offsets, sizes, type) : g;
  free(sizes);
  free(offsets);
  return result;
}

bool adBuildFogzo(CageBuilder *b, const AdFogzoStep *s, MlirValue *grads) {
  /* active = r > start. */
  MlirValue r = cageBuildTrainingProgress(b, s->step, s->total);
  MlirValue start = cageBuildConstantF32(b, cageFogzoAttrGetStart(s->fogzo));
  MlirValue active = cageBuildCmpF(b, CageCmpFOGT, r, start);

  MlirType *types = cageAllocArray(s->numParams, sizeof *types);
  for (intptr_t k = 0; k < s->numParams; ++k)
    types[k] = mlirValueGetType(grads[k]);
  Branches br = {s, grads};
  MlirOperation op = cageBuildIf(b, active, types, s->numParams, activeBranch,
                                 inactiveBranch, &br);
  free(types);
  if (mlirOperationIsNull(op))
    return false;
  for (intptr_t k = 0; k < s->numParams; ++k)
    grads[k] =
        withSizesOf(b, mlirOperationGetResult(op, k), s->args[s->params[k]]);
  return true;
}
