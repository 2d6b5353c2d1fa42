/*===- NameContractions.c - cage-cpu-name-contractions --------------------===*\
|*                                                                            *|
|* A linalg.generic that is a matmul (Contraction.h) becomes linalg.matmul or *|
|* linalg.batch_matmul with the same indexing maps, before                    *|
|* linalg-fuse-elementwise-ops. Elementwise fusion fuses producers into       *|
|* linalg.generic consumers only: left a generic, a contraction would take   *|
|* in an operand's producer (a quantizer, Philox and all) and recompute it   *|
|* for every row or column of the product instead of once per element.      *|
|* The named op computes the same: the loops renumbered (batch, M, N, K), A  *|
|* first, and IEEE products do not depend on the order of their factors.    *|
|* A generic with several batch loops, or one that is not leading, becomes   *|
|* a batch_matmul between layout copies (BatchContractions.c).              *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#include "Contraction.h"
#include "Passes.h"

#include "IR/Builder.h"
#include "IR/Ops.h"

#include "mlir-c/AffineExpr.h"
#include "mlir-c/Dialect/Linalg.h"

/* `map` over the contraction's loops with its loops renumbered: batch 0,
 * then M, N, K. */
static MlirAffineMap renumbered(const CageContraction *c, MlirAffineMap map) {
  MlirContext ctx = mlirAffineMapGetContext(map);
  intptr_t lead = c->batched ? 1 : 0;
  MlirAffineExpr exprs[4];
  intptr_t numResults = mlirAffineMapGetNumResults(map);
  for (intptr_t r = 0; r < numResults; ++r) {
    intptr_t d = cageCPUMapResultDim(map, r);
    intptr_t to = d == c->mDim   ? lead
                  : d == c->nDim ? lead + 1
                  : d == c->kDim ? lead + 2
                                 : 0;
    exprs[r] = mlirAffineDimExprGet(ctx, to);
  }
  return mlirAffineMapGet(ctx, c->numLoops, 0, numResults, exprs);
}

static bool isGenericContraction(MlirOperation op) {
  CageContraction c;
  return cageOpIs(op, "linalg.generic") && cageCPUAnalyzeContraction(op, &c);
}

static void run(MlirOperation module, const CagePassOptionValue *options,
                CagePassHandle pass) {
  (void)options, (void)pass;
  CageOpList ops = cageCollectOpsWhere(module, isGenericContraction);
  for (intptr_t i = 0; i < ops.size; ++i) {
    CageContraction c;
    cageCPUAnalyzeContraction(ops.ops[i], &c);
    CageBuilder b = cageBuilderDetached(mlirOperationGetLocation(c.op));
    MlirAffineMap maps[3] = {renumbered(&c, c.aMap), renumbered(&c, c.bMap),
                             renumbered(&c, c.cMap)};
    MlirValue product = cageBuildMatmul(&b, c.a, c.b, c.init, maps);
    cageBuilderMoveBefore(&b, c.op);
    mlirValueReplaceAllUsesOfWith(mlirOperationGetResult(c.op, 0), product);
    mlirOperationDestroy(c.op);
  }
  cageOpListDestroy(&ops);
  cageCPUNameBatchedContractions(module);
}

static MlirDialectHandle (*const dependentDialects[])(void) = {
    mlirGetDialectHandle__linalg__};

const CagePassDefinition cageCPUNameContractionsPass = {
    .argument = "cage-cpu-name-contractions",
    .name = "CageCPUNameContractions",
    .summary = "Turn linalg.generic matmuls on static f32 tensors into "
               "linalg.matmul and linalg.batch_matmul (between layout copies "
               "when there are several batch loops)",
    .anchorOp = "builtin.module",
    .options = NULL,
    .numOptions = 0,
    .dependentDialects = dependentDialects,
    .numDependentDialects =
        sizeof dependentDialects / sizeof dependentDialects[0],
    .run = run,
};
