/*===- ExpandUpdate.c - cage-expand-update: cage.update unfused -----------===*\
|*                                                                            *|
|* Rewrites each cage.update into cage.quant_error, the correction (one       *|
|* element-wise linalg.generic) and cage.adamw / cage.sgd: the spelling that  *|
|* cage-fuse-correction recognises and that the lowering of cage.update       *|
|* falls back to where it does not lower it fused. cageExpandUpdate builds    *|
|* it for both, so that they give the same ops in the same order and the      *|
|* same bits.                                                                 *|
|*                                                                            *|
|* The pass walks the function and replaces the updates with an IRRewriter    *|
|* rather than a greedy pattern driver: the driver folds as it goes, and      *|
|* would turn `select(λ == 0, g, g + λ·e)` with a constant λ into             *|
|* `g + λ·e`, which is no longer the spelling this pass promises.             *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#include "cage/Dialect/Cage/Transforms/ExpandUpdate.h"
#include "cage/Dialect/Cage/Transforms/Passes.h"

#include "IR/Builder.h"
#include "IR/Ops.h"

#include "cage-c/Dialect/Cage.h"

#include "mlir-c/BuiltinAttributes.h"
#include "mlir-c/BuiltinTypes.h"
#include "mlir-c/Dialect/Arith.h"
#include "mlir-c/Dialect/Linalg.h"
#include "mlir-c/Dialect/Tensor.h"


/*===--- Reading the update -----------------------------------------------===*/

static bool isF32Tensor(MlirValue value) {
  MlirType type = mlirValueGetType(value);
  return mlirTypeIsARankedTensor(type) &&
         mlirTypeIsAF32(mlirShapedTypeGetElementType(type));
}

bool cageUpdateIsExpandable(MlirOperation op) {
  if (mlirOperationIsNull(op) || !cageOpIs(op, "cage.update"))
    return false;
  MlirAttribute optimizer = cageOpAttribute(op, "optimizer");
  MlirAttribute quantizer = cageOpAttribute(op, "quantizer");
  MlirAttribute coupling = cageOpAttribute(op, "coupling");
  MlirAttribute error = cageOpAttribute(op, "error");
  if (mlirAttributeIsNull(optimizer) || mlirAttributeIsNull(quantizer) ||
      !cageAttributeIsACoupling(coupling) || !cageAttributeIsAErrorMode(error))
    return false;
  bool adamw = cageAttributeIsAAdamW(optimizer);
  if (!adamw && !cageAttributeIsASGD(optimizer))
    return false;
  /* w, g, state..., lr, λ_t[, t]: anything else (a seed) has no unfused
   * spelling here. */
  intptr_t numState = adamw ? 2 : 1;
  if (mlirOperationGetNumOperands(op) != 4 + numState + (adamw ? 1 : 0) ||
      mlirOperationGetNumResults(op) != 1 + numState)
    return false;
  /* cage.quant_error, cage.adamw and cage.sgd take f32 tensors only. */
  for (intptr_t i = 0; i < 2 + numState; ++i)
    if (!isF32Tensor(mlirOperationGetOperand(op, i)))
      return false;
  for (intptr_t i = 0; i < 1 + numState; ++i)
    if (!isF32Tensor(mlirOperationGetResult(op, i)))
      return false;
  return true;
}

/*===--- Building ---------------------------------------------------------===*/

/* x + c·e or x − c·e, whatever c is (docs/Semantics.md §1.3: no special
 * case for λ_t = 0). `combine` is "arith.addf" (coupled: g + λ·e) or
 * "arith.subf" (decoupled: w − (lr·λ)·e). */
typedef struct Correction {
  MlirValue factor; /* λ_t or lr·λ_t */
  const char *combine;
} Correction;

static void correctionBody(CageBuilder *b, const MlirValue *args,
                           intptr_t numArgs, MlirValue *yielded,
                           void *userData) {
  (void)numArgs;
  const Correction *c = userData;
  MlirValue x = args[0], e = args[1];
  yielded[0] = cageBuildBinary(b, c->combine, x,
                               cageBuildBinary(b, "arith.mulf", c->factor, e));
}

static MlirValue correct(CageBuilder *b, MlirValue x, MlirValue e,
                         Correction *c) {
  MlirValue inputs[] = {x, e};
  MlirValue output = cageBuildEmptyLike(b, x);
  return cageOperationGetResult(
      cageBuildElementwise(b, inputs, 2, &output, 1, correctionBody, c), 0);
}

static MlirNamedAttribute namedF32(CageBuilder *b, const char *name,
                                   float value) {
  MlirContext ctx = b->context;
  return cageNamedAttribute(
      b, name, mlirFloatAttrDoubleGet(ctx, mlirF32TypeGet(ctx), value));
}

MlirOperation cageBuildOptimizerOp(CageBuilder *b, MlirAttribute optimizer,
                                   MlirValue w, MlirValue g,
                                   const MlirValue *state, MlirValue lr,
                                   MlirValue step) {
  MlirType type = mlirValueGetType(w);
  MlirType types[] = {type, type, type};
  if (cageAttributeIsAAdamW(optimizer)) {
    MlirValue operands[] = {w, g, state[0], state[1], lr, step};
    MlirNamedAttribute attrs[] = {
        namedF32(b, "beta1", cageAdamWAttrGetBeta1(optimizer)),
        namedF32(b, "beta2", cageAdamWAttrGetBeta2(optimizer)),
        namedF32(b, "eps", cageAdamWAttrGetEps(optimizer)),
        namedF32(b, "weight_decay", cageAdamWAttrGetWeightDecay(optimizer))};
    return cageBuildOp(b, "cage.adamw", 6, operands, 3, types, 4, attrs);
  }
  MlirValue operands[] = {w, g, state[0], lr};
  MlirNamedAttribute attrs[] = {
      namedF32(b, "momentum", cageSGDAttrGetMomentum(optimizer)),
      namedF32(b, "dampening", cageSGDAttrGetDampening(optimizer)),
      cageNamedAttribute(
          b, "nesterov",
          mlirBoolAttrGet(b->context, cageSGDAttrGetNesterov(optimizer))),
      namedF32(b, "weight_decay", cageSGDAttrGetWeightDecay(optimizer))};
  return cageBuildOp(b, "cage.sgd", 4, operands, 2, types, 4, attrs);
}

/* e = w − Q(w) from the w given (before weight decay), then
 * coupled:   the optimizer on g + λ_t·e;
 * decoupled: the optimizer on g, then w − (lr·λ_t)·e. */
bool cageExpandUpdate(CageBuilder *b, MlirOperation op, MlirValue *results) {
  if (!cageUpdateIsExpandable(op))
    return false;
  MlirAttribute optimizer = cageOpAttribute(op, "optimizer");
  bool adamw = cageAttributeIsAAdamW(optimizer);
  intptr_t numState = adamw ? 2 : 1;
  MlirValue w = mlirOperationGetOperand(op, 0);
  MlirValue g = mlirOperationGetOperand(op, 1);
  MlirValue state[2] = {mlirOperationGetOperand(op, 2),
                        adamw ? mlirOperationGetOperand(op, 3)
                              : (MlirValue){NULL}};
  MlirValue lr = mlirOperationGetOperand(op, 2 + numState);
  MlirValue lambda = mlirOperationGetOperand(op, 3 + numState);
  MlirValue step = adamw ? mlirOperationGetOperand(op, 6) : (MlirValue){NULL};

  MlirType type = mlirValueGetType(w);
  MlirNamedAttribute errorAttrs[] = {
      cageNamedAttribute(b, "quantizer", cageOpAttribute(op, "quantizer")),
      cageNamedAttribute(b, "error", cageOpAttribute(op, "error"))};
  MlirValue e = cageOperationGetResult(
      cageBuildOp(b, "cage.quant_error", 1, &w, 1, &type, 2, errorAttrs), 0);

  bool coupled = cageCouplingAttrGetValue(cageOpAttribute(op, "coupling")) ==
                 CageCouplingCoupled;
  MlirOperation step0;
  MlirValue newW;
  if (coupled) {
    Correction c = {lambda, "arith.addf"};
    step0 = cageBuildOptimizerOp(b, optimizer, w, correct(b, g, e, &c), state,
                                 lr, step);
    newW = cageOperationGetResult(step0, 0);
  } else {
    step0 = cageBuildOptimizerOp(b, optimizer, w, g, state, lr, step);
    Correction c = {cageBuildBinary(b, "arith.mulf", lr, lambda),
                    "arith.subf"};
    newW = correct(b, cageOperationGetResult(step0, 0), e, &c);
  }
  results[0] = newW;
  for (intptr_t i = 1; i <= numState; ++i)
    results[i] = cageOperationGetResult(step0, i);
  for (intptr_t i = 0; i <= numState; ++i)
    if (mlirValueIsNull(results[i]))
      return false;
  return true;
}

/*===--- The pass ---------------------------------------------------------===*/

static void run(MlirOperation func, const CagePassOptionValue *options,
                CagePassHandle pass) {
  (void)options;
  static const char *const names[] = {"cage.update"};
  CageOpList updates = cageCollectOps(func, names, 1);
  MlirRewriterBase rewriter = mlirIRRewriterCreateFromOp(func);
  bool failed = false;
  for (intptr_t i = 0; i < updates.size; ++i) {
    MlirOperation op = updates.ops[i];
    /* Updates with bf16 state or a seed have no unfused spelling: they stay
     * as they are, silently (the lowering handles them). */
    if (!cageUpdateIsExpandable(op))
      continue;
    mlirRewriterBaseSetInsertionPointBefore(rewriter, op);
    CageBuilder b =
        cageBuilderAtInsertionPoint(rewriter, mlirOperationGetLocation(op));
    MlirValue results[kCageUpdateMaxResults];
    if (!cageExpandUpdate(&b, op, results)) {
      failed = true; /* the builder reported why at the update */
      continue;
    }
    mlirRewriterBaseReplaceOpWithValues(
        rewriter, op, mlirOperationGetNumResults(op), results);
  }
  mlirIRRewriterDestroy(rewriter);
  cageOpListDestroy(&updates);
  if (failed)
    cagePassSignalFailure(pass);
}

static MlirDialectHandle (*const dependentDialects[])(void) = {
    mlirGetDialectHandle__arith__,
    mlirGetDialectHandle__linalg__,
    mlirGetDialectHandle__tensor__,
};

const CagePassDefinition cageExpandUpdatePass = {
    .argument = "cage-expand-update",
    .name = "CageExpandUpdate",
    .summary = "Expand cage.update into cage.quant_error, the CAGE correction "
               "and cage.adamw/cage.sgd (the inverse of cage-fuse-correction)",
    .anchorOp = "func.func",
    .options = NULL,
    .numOptions = 0,
    .dependentDialects = dependentDialects,
    .numDependentDialects =
        sizeof dependentDialects / sizeof dependentDialects[0],
    .run = run,
};
