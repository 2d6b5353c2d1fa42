/*===- CageToLinalg.c - cage-lower-to-linalg ------------------------------===*\
|*                                                                            *|
|* Lowers every cage op to linalg, tensor, arith and math on tensors: linalg *|
|* reductions for the per-group scales, linalg.generic for the element-wise  *|
|* parts. The patterns live in Quantizer.c and Optimizers.c; this file runs  *|
|* them: check that every op has a lowering, emit the run-time checks of     *|
|* what the verifiers cannot prove (RuntimeChecks.c), rewrite, check that    *|
|* nothing is left.                                                          *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#include "cage/Conversion/Passes.h"

#include "FusedUpdate.h"
#include "Patterns.h"
#include "RuntimeChecks.h"

#include "IR/Builder.h"

#include "cage-c/Dialect/CageOps.h"

#include "mlir-c/BuiltinTypes.h"
#include "mlir-c/Diagnostics.h"
#include "mlir-c/Dialect/Arith.h"
#include "mlir-c/Dialect/ControlFlow.h"
#include "mlir-c/Dialect/Linalg.h"
#include "mlir-c/Dialect/Math.h"
#include "mlir-c/Dialect/SCF.h"
#include "mlir-c/Dialect/Tensor.h"

#include <stdlib.h>

void lowerReplace(LowerResults *results, MlirValue from, MlirValue to) {
  /* More replacements than results: a pattern's mistake, which the check
   * of lowerRewriteStaged (one per result) turns into a failed rewrite. */
  if (results->size < results->capacity) {
    results->from[results->size] = from;
    results->to[results->size] = to;
  }
  ++results->size;
}

/* The rewrite of every pattern; `userData` is its LowerPattern. */
static MlirLogicalResult rewriteStaged(MlirRewritePattern pattern,
                                       MlirOperation op,
                                       MlirPatternRewriter patternRewriter,
                                       void *userData) {
  (void)pattern;
  LowerBuild build = ((const LowerPattern *)userData)->build;
  MlirBlock staging = mlirBlockCreate(0, NULL, NULL);
  CageBuilder b =
      cageBuilderAtEndOfBlock(staging, mlirOperationGetLocation(op));
  intptr_t numResults = mlirOperationGetNumResults(op);
  LowerResults results = {calloc((size_t)numResults + 1, sizeof(MlirValue)),
                          calloc((size_t)numResults + 1, sizeof(MlirValue)), 0,
                          numResults};
  if (!results.from || !results.to)
    abort();
  bool built = build(&b, op, &results);
  built &= results.size == numResults;
  for (intptr_t i = 0; i < numResults && built; ++i)
    built &= !mlirValueIsNull(results.to[i]);
  if (built) {
    MlirRewriterBase rewriter = mlirPatternRewriterAsBase(patternRewriter);
    for (MlirOperation op1 = mlirBlockGetFirstOperation(staging);
         !mlirOperationIsNull(op1); op1 = mlirBlockGetFirstOperation(staging))
      mlirRewriterBaseMoveOpBefore(rewriter, op1, op);
    /* What replaceOp does, result by result in the order recorded (that of
     * the op's results): every use replaced, then the op erased. */
    for (intptr_t i = 0; i < numResults; ++i)
      mlirRewriterBaseReplaceAllUsesWith(rewriter, results.from[i],
                                         results.to[i]);
    mlirRewriterBaseEraseOp(rewriter, op);
  }
  mlirBlockDestroy(staging);
  free(results.from);
  free(results.to);
  return built ? mlirLogicalResultSuccess() : mlirLogicalResultFailure();
}

void lowerAddPatterns(MlirContext ctx, MlirRewritePatternSet patterns,
                      LowerPattern *table, intptr_t count) {
  MlirRewritePatternCallbacks callbacks = {NULL, NULL, rewriteStaged};
  for (intptr_t i = 0; i < count; ++i)
    mlirRewritePatternSetAdd(
        patterns, mlirOpRewritePatternCreate(
                      mlirStringRefCreateFromCString(table[i].opName), 1, ctx,
                      callbacks, &table[i], 0, NULL));
}

/* bf16 state has the fused lowering only (FusedUpdate.c). */
static bool hasBf16State(MlirOperation op) {
  if (!cageOperationIsAUpdate(op) || cageUpdateOpGetNumState(op) == 0)
    return false;
  MlirType state = mlirValueGetType(cageUpdateOpGetState(op, 0));
  return mlirTypeIsABF16(mlirShapedTypeGetElementType(state));
}

/* The ops that quantize, which the quantizer patterns must be able to
 * lower: a cage.multi_update only with a quantizer. */
static bool quantizes(MlirOperation op) {
  return cageOperationIsAQuantize(op) || cageOperationIsASte(op) ||
         cageOperationIsAQuantError(op) || cageOperationIsAUpdate(op) ||
         (cageOperationIsAMultiUpdate(op) &&
          !mlirAttributeIsNull(cageMultiUpdateOpGetQuantizer(op)));
}

static MlirWalkResult checkLowerable(MlirOperation op, void *userData) {
  bool *ok = userData;
  if (hasBf16State(op) && !lowerCanFuseUpdate(op)) {
    mlirEmitError(mlirOperationGetLocation(op),
                  "cage-lower-to-linalg cannot lower a cage.update with bf16 "
                  "optimizer state and a Hadamard rotation, or with a tensor "
                  "of rank > 2 with more than one dynamic leading dimension");
    *ok = false;
  }
  if (quantizes(op) && !cageCanLowerQuantizerOp(op))
    *ok = false;
  return MlirWalkResultAdvance;
}

static MlirWalkResult checkLowered(MlirOperation op, void *userData) {
  bool *ok = userData;
  if (cageOpHasPrefix(op, "cage.")) {
    mlirEmitError(mlirOperationGetLocation(op),
                  "cage-lower-to-linalg left this op unlowered");
    *ok = false;
  }
  return MlirWalkResultAdvance;
}

static bool lower(MlirOperation func, LowerUpdateForm form) {
  MlirContext ctx = mlirOperationGetContext(func);
  MlirRewritePatternSet patterns = mlirRewritePatternSetCreate(ctx);
  cagePopulateQuantizerLoweringPatterns(ctx, patterns);
  cagePopulateOptimizerLoweringPatterns(ctx, patterns, form);
  cagePopulateMultiUpdateLoweringPatterns(ctx, patterns, form);
  cagePopulateFogzoLoweringPatterns(ctx, patterns);
  MlirFrozenRewritePatternSet frozen = mlirFreezeRewritePattern(patterns);
  // Freezing moves the patterns out but leaves the (now empty) set to us.
  mlirRewritePatternSetDestroy(patterns);
  MlirGreedyRewriteDriverConfig config = mlirGreedyRewriteDriverConfigCreate();
  MlirLogicalResult result =
      mlirApplyPatternsAndFoldGreedilyWithOp(func, frozen, config);
  mlirGreedyRewriteDriverConfigDestroy(config);
  mlirFrozenRewritePatternSetDestroy(frozen);
  return mlirLogicalResultIsSuccess(result);
}

enum { kPerElementUpdates };

static void run(MlirOperation func, const CagePassOptionValue *options,
                CagePassHandle pass) {
  LowerUpdateForm form =
      options[kPerElementUpdates].b ? LowerUpdateElements : LowerUpdateChunks;
  bool ok = true;
  mlirOperationWalk(func, checkLowerable, &ok, MlirWalkPreOrder);
  if (ok)
    lowerEmitRuntimeChecks(func);
  if (ok && !lower(func, form)) {
    mlirEmitError(mlirOperationGetLocation(func),
                  "cage-lower-to-linalg did not converge");
    ok = false;
  }
  if (ok)
    mlirOperationWalk(func, checkLowered, &ok, MlirWalkPreOrder);
  if (!ok)
    cagePassSignalFailure(pass);
}

static MlirDialectHandle (*const dependentDialects[])(void) = {
    mlirGetDialectHandle__arith__,  mlirGetDialectHandle__cf__,
    mlirGetDialectHandle__linalg__, mlirGetDialectHandle__math__,
    mlirGetDialectHandle__scf__,    mlirGetDialectHandle__tensor__,
};

static const CagePassOption passOptions[] = {
    [kPerElementUpdates] = {"per-element-updates",
                            "Lower the fused optimizer steps (cage.update, "
                            "cage.multi_update) as a reduction per scale "
                            "group and one element-wise generic per "
                            "parameter (for GPUs) instead of a parallel loop "
                            "over chunks of rows (for CPUs); the same bits",
                            CagePassOptionBool,
                            {.b = false}},
};

const CagePassDefinition cageLowerToLinalgPass = {
    .argument = "cage-lower-to-linalg",
    .name = "CageLowerToLinalg",
    .summary = "Lower cage ops to linalg, tensor, arith and math on tensors",
    .anchorOp = "func.func",
    .options = passOptions,
    .numOptions = sizeof passOptions / sizeof passOptions[0],
    .dependentDialects = dependentDialects,
    .numDependentDialects =
        sizeof dependentDialects / sizeof dependentDialects[0],
    .run = run,
};
