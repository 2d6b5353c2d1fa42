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
#include "cage-c/Dialect/CageOps.h"

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
  if (!cageOperationIsAUpdate(op))
    return false;
  /* w, g, state..., lr, λ_t[, t]: a seed (bf16 state) has no unfused
   * spelling here. */
  if (!mlirValueIsNull(cageUpdateOpGetSeed(op)))
    return false;
  /* cage.quant_error, cage.adamw and cage.sgd take f32 tensors only; w, g
   * and the new w are f32 by the op's definition, the state may be bf16. */
  for (intptr_t i = 0; i < cageUpdateOpGetNumState(op); ++i)
    if (!isF32Tensor(cageUpdateOpGetState(op, i)) ||
        !isF32Tensor(cageUpdateOpGetNewState(op, i)))
      return false;
  return true;
}

/*===--- Building ---------------------------------------------------------===*/

/* x + c·e or x − c·e, whatever c is (docs/Semantics.md §1.3: no special
 * case for λ_t = 0). `combine` is cageBuildAddF (coupled: g + λ·e) or
 * cageBuildSubF (decoupled: w − (lr·λ)·e). */
typedef struct Correction {
  MlirValue factor; /* λ_t or lr·λ_t */
  MlirValue (*combine)(CageBuilder *b, MlirValue lhs, MlirValue rhs);
} Correction;

static void correctionBody(CageBuilder *b, const MlirValue *args,
                           intptr_t numArgs, MlirValue *yielded,
                           void *userData) {
  (void)numArgs;
  const Correction *c = userData;
  MlirValue x = args[0], e = args[1];
  yielded[0] = c->combine(b, x, cageBuildMulF(b, c->factor, e));
}

static MlirValue correct(CageBuilder *b, MlirValue x, MlirValue e,
                         Correction *c) {
  MlirValue inputs[] = {x, e};
  MlirValue output = cageBuildEmptyLike(b, x);
  return cageOperationGetResult(
      cageBuildElementwise(b, inputs, 2, &output, 1, correctionBody, c), 0);
}

MlirOperation cageBuildOptimizerOp(CageBuilder *b, MlirAttribute optimizer,
                                   MlirValue w, MlirValue g,
                                   const MlirValue *state, MlirValue lr,
                                   MlirValue step) {
  if (cageAttributeIsAAdamW(optimizer))
    return cageBuilderInsert(
        b, cageAdamWOpCreate(b->location, w, g, state[0], state[1], lr, step,
                             cageAdamWAttrGetBeta1(optimizer),
                             cageAdamWAttrGetBeta2(optimizer),
                             cageAdamWAttrGetEps(optimizer),
                             cageAdamWAttrGetWeightDecay(optimizer)));
  return cageBuilderInsert(
      b, cageSGDOpCreate(b->location, w, g, state[0], lr,
                         cageSGDAttrGetMomentum(optimizer),
                         cageSGDAttrGetDampening(optimizer),
                         cageSGDAttrGetNesterov(optimizer),
                         cageSGDAttrGetWeightDecay(optimizer)));
}

/* e = w − Q(w) from the w given (before weight decay), then
 * coupled:   the optimizer on g + λ_t·e;
 * decoupled: the optimizer on g, then w − (lr·λ_t)·e. */
bool cageExpandUpdate(CageBuilder *b, MlirOperation op, MlirValue *results) {
  if (!cageUpdateIsExpandable(op))
    return false;
  MlirAttribute optimizer = cageUpdateOpGetOptimizer(op);
  MlirValue w = cageUpdateOpGetW(op);
  MlirValue g = cageUpdateOpGetG(op);
  intptr_t numState = cageUpdateOpGetNumState(op);
  MlirValue state[kCageMaxOptimizerState] = {{NULL}};
  for (intptr_t i = 0; i < numState; ++i)
    state[i] = cageUpdateOpGetState(op, i);
  MlirValue lr = cageUpdateOpGetLr(op);
  MlirValue lambda = cageUpdateOpGetLambda(op);
  MlirValue step = cageUpdateOpGetStep(op);

  MlirOperation quantError = cageBuilderInsert(
      b, cageQuantErrorOpCreate(b->location, w, cageUpdateOpGetQuantizer(op),
                                cageUpdateOpGetError(op)));
  if (mlirOperationIsNull(quantError))
    return false;
  MlirValue e = cageQuantErrorOpGetErrorValue(quantError);

  bool coupled = cageUpdateOpGetCoupling(op) == CageCouplingCoupled;
  MlirOperation optimizerOp;
  if (coupled) {
    Correction c = {lambda, cageBuildAddF};
    optimizerOp = cageBuildOptimizerOp(b, optimizer, w, correct(b, g, e, &c),
                                       state, lr, step);
  } else {
    optimizerOp = cageBuildOptimizerOp(b, optimizer, w, g, state, lr, step);
  }
  if (mlirOperationIsNull(optimizerOp))
    return false;
  CageOptimizerOp stepped = cageOptimizerOpRead(optimizerOp);
  results[0] = stepped.newW;
  if (!coupled) {
    Correction c = {cageBuildMulF(b, lr, lambda), cageBuildSubF};
    results[0] = correct(b, stepped.newW, e, &c);
  }
  for (intptr_t i = 0; i < numState; ++i)
    results[1 + i] = stepped.newState[i];
  return !mlirValueIsNull(results[0]);
}

/*===--- The pass ---------------------------------------------------------===*/

static void run(MlirOperation func, const CagePassOptionValue *options,
                CagePassHandle pass) {
  (void)options;
  CageOpList updates = cageCollectOpsWhere(func, cageOperationIsAUpdate);
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
    /* Result by result, in the update's order, as replaceOp would. */
    mlirRewriterBaseReplaceAllUsesWith(rewriter, cageUpdateOpGetNewW(op),
                                       results[0]);
    for (intptr_t k = 0; k < cageUpdateOpGetNumNewState(op); ++k)
      mlirRewriterBaseReplaceAllUsesWith(
          rewriter, cageUpdateOpGetNewState(op, k), results[1 + k]);
    mlirRewriterBaseEraseOp(rewriter, op);
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
