/*===- Contraction.c - The roles in an f32 contraction on tensors ---------===*/

#include "Contraction.h"

#include "IR/Ops.h"

#include "mlir-c/AffineExpr.h"
#include "mlir-c/BuiltinAttributes.h"
#include "mlir-c/BuiltinTypes.h"
#include "mlir-c/Dialect/Linalg.h"

#include <stdlib.h>

static bool staticF32Tensor(MlirValue v) {
  MlirType t = mlirValueGetType(v);
  return mlirTypeIsARankedTensor(t) && mlirShapedTypeHasStaticShape(t) &&
         mlirTypeIsAF32(mlirShapedTypeGetElementType(t));
}

intptr_t cageCPUMapResultDim(MlirAffineMap map, intptr_t r) {
  MlirAffineExpr e = mlirAffineMapGetResult(map, r);
  return mlirAffineExprIsADim(e) ? mlirAffineDimExprGetPosition(e) : -1;
}

static bool mapHasDim(MlirAffineMap map, intptr_t dim) {
  for (intptr_t r = 0; r < mlirAffineMapGetNumResults(map); ++r)
    if (cageCPUMapResultDim(map, r) == dim)
      return true;
  return false;
}

/* Whether the non-batch results of `map` are the dims {x, y} in any order
 * (after the batch dim first when batched). */
static bool resultsAre(MlirAffineMap map, const CageContraction *c, intptr_t x,
                       intptr_t y) {
  intptr_t lead = c->batched ? 1 : 0;
  if (mlirAffineMapGetNumResults(map) != lead + 2 ||
      (c->batched && cageCPUMapResultDim(map, 0) != c->batchDim))
    return false;
  intptr_t p = cageCPUMapResultDim(map, lead),
           q = cageCPUMapResultDim(map, lead + 1);
  return (p == x && q == y) || (p == y && q == x);
}

/* The roles of `op`, or false when it is not a contraction this pass
 * handles. */
bool cageCPUAnalyzeContraction(MlirOperation op, CageContraction *c) {
  if (!(cageOpIs(op, "linalg.matmul") || cageOpIs(op, "linalg.batch_matmul") ||
        cageOpIs(op, "linalg.generic")) ||
      mlirOperationGetNumOperands(op) != 3 ||
      mlirOperationGetNumResults(op) != 1 || !mlirLinalgIsAContractionOp(op))
    return false;
  for (intptr_t i = 0; i < 3; ++i)
    if (!staticF32Tensor(mlirOperationGetOperand(op, i)))
      return false;
  MlirAttribute maps = mlirLinalgGetIndexingMapsAttribute(op);
  if (mlirAttributeIsNull(maps) || mlirArrayAttrGetNumElements(maps) != 3)
    return false;
  MlirAffineMap map[3];
  for (intptr_t i = 0; i < 3; ++i)
    map[i] = mlirAffineMapAttrGetValue(mlirArrayAttrGetElement(maps, i));
  *c = (CageContraction){.op = op, .numLoops = mlirAffineMapGetNumDims(map[2])};
  intptr_t outRank = mlirAffineMapGetNumResults(map[2]);
  if (!(c->numLoops == 3 && outRank == 2) &&
      !(c->numLoops == 4 && outRank == 3))
    return false;
  c->batched = c->numLoops == 4;
  intptr_t lead = c->batched ? 1 : 0;
  c->batchDim = c->batched ? cageCPUMapResultDim(map[2], 0) : -1;
  c->mDim = cageCPUMapResultDim(map[2], lead);
  c->nDim = cageCPUMapResultDim(map[2], lead + 1);
  c->kDim = -1;
  for (intptr_t d = 0; d < c->numLoops; ++d)
    if (!mapHasDim(map[2], d))
      c->kDim = d;
  if (c->mDim < 0 || c->nDim < 0 || c->kDim < 0 || c->mDim == c->nDim)
    return false;
  /* A is the input that has M. */
  intptr_t ai = mapHasDim(map[0], c->mDim) ? 0 : 1;
  c->a = mlirOperationGetOperand(op, ai);
  c->b = mlirOperationGetOperand(op, 1 - ai);
  c->init = mlirOperationGetOperand(op, 2);
  c->aMap = map[ai];
  c->cMap = map[2];
  c->bMap = map[1 - ai];
  if (!resultsAre(c->aMap, c, c->mDim, c->kDim) ||
      !resultsAre(c->bMap, c, c->kDim, c->nDim))
    return false;
  MlirType ct = mlirValueGetType(c->init);
  c->batch = c->batched ? mlirShapedTypeGetDimSize(ct, 0) : 1;
  c->m = mlirShapedTypeGetDimSize(ct, lead);
  c->n = mlirShapedTypeGetDimSize(ct, lead + 1);
  MlirType at = mlirValueGetType(c->a);
  c->k = mlirShapedTypeGetDimSize(
      at, cageCPUMapResultDim(c->aMap, lead) == c->kDim ? lead : lead + 1);
  return c->batch > 0 && c->m > 0 && c->n > 0 && c->k > 0;
}

MlirType cageCPUF32Tensor(MlirContext ctx, intptr_t rank,
                          const int64_t *sizes) {
  return mlirRankedTensorTypeGet(rank, sizes, mlirF32TypeGet(ctx),
                                 mlirAttributeGetNull());
}

static void copyBody(CageBuilder *body, const MlirValue *args, intptr_t numArgs,
                     MlirValue *yielded, void *userData) {
  (void)body, (void)numArgs, (void)userData;
  yielded[0] = args[0];
}

MlirValue cageCPUFillLike(CageBuilder *b, MlirValue source, MlirValue dest) {
  MlirOperation producer = cageDefiningOp(source);
  if (mlirOperationIsNull(producer) || !cageOpIs(producer, "linalg.fill"))
    return (MlirValue){NULL};
  return cageBuildFill(b, mlirOperationGetOperand(producer, 0), dest);
}

MlirValue cageCPUBuildCopy(CageBuilder *b, MlirValue source,
                           MlirAffineMap sourceMap, MlirValue dest) {
  intptr_t rank = mlirAffineMapGetNumDims(sourceMap);
  MlirAffineMap maps[2] = {sourceMap, cagePrefixMap(b->context, rank, rank)};
  CageIteratorType *iterators = cageAllocArray(rank, sizeof *iterators);
  for (intptr_t d = 0; d < rank; ++d)
    iterators[d] = CageIteratorParallel;
  CageGenericSpec spec = {.inputs = &source,
                          .numInputs = 1,
                          .outputs = &dest,
                          .numOutputs = 1,
                          .indexingMaps = maps,
                          .iteratorTypes = iterators,
                          .numLoops = rank,
                          .body = copyBody};
  MlirValue copy = cageOperationGetResult(cageBuildGeneric(b, &spec), 0);
  free(iterators);
  return copy;
}
