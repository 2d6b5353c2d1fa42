/*===- BatchContractions.c - Contractions with several batch dimensions ---===*\
|*                                                                            *|
|* Attention writes its products with two batch dimensions, batch and head,  *|
|* in the layout of its activations: scores[b, h, i, j] = Σ_c q[b, i, h, c]  *|
|* k[b, j, h, c], out[b, i, h, c] = Σ_j p[b, h, i, j] v[b, j, h, c], and     *|
|* cage-autodiff their adjoints alike. No named op takes that. Part of        *|
|* cage-cpu-name-contractions: such a linalg.generic becomes                 *|
|*   A, B and C's init copied into [batch..., M, K], [batch..., K, N],       *|
|*   [batch..., M, N] (the batch dimensions in C's order), collapsed to one  *|
|*   batch, linalg.batch_matmul, expanded back and copied into C's layout;   *|
|* each copy a linalg.generic that cage-cpu-tile vectorizes, and the         *|
|* batch_matmul one that the pack and tile passes turn into register-       *|
|* blocked matmuls. Elementwise fusion may still fuse producers into the     *|
|* copies (once per element), never into the contraction.                    *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#include "Contraction.h"
#include "Passes.h"

#include "IR/Builder.h"
#include "IR/Ops.h"

#include "mlir-c/AffineExpr.h"
#include "mlir-c/BuiltinAttributes.h"
#include "mlir-c/BuiltinTypes.h"
#include "mlir-c/Dialect/Linalg.h"

#include <string.h>

#define MAX_BATCH 4

typedef struct Batched {
  MlirOperation op;
  intptr_t numBatch, numLoops;
  intptr_t batchDims[MAX_BATCH], mDim, nDim, kDim;
  int64_t batchSizes[MAX_BATCH], m, n, k;
  MlirValue a, b, init;
  MlirAffineMap aMap, bMap, cMap;
} Batched;

static bool hasDim(MlirAffineMap map, intptr_t dim) {
  for (intptr_t r = 0; r < mlirAffineMapGetNumResults(map); ++r)
    if (cageCPUMapResultDim(map, r) == dim)
      return true;
  return false;
}

/* Whether every result of `map` is a loop and the results are exactly the
 * batch loops of `c` and the loops `x` and `y`. */
static bool readsExactly(MlirAffineMap map, const Batched *c, intptr_t x,
                         intptr_t y) {
  if (mlirAffineMapGetNumResults(map) != c->numBatch + 2 || !hasDim(map, x) ||
      !hasDim(map, y))
    return false;
  for (intptr_t i = 0; i < c->numBatch; ++i)
    if (!hasDim(map, c->batchDims[i]))
      return false;
  for (intptr_t r = 0; r < mlirAffineMapGetNumResults(map); ++r)
    if (cageCPUMapResultDim(map, r) < 0)
      return false;
  return true;
}

static int64_t sizeOf(MlirValue v, MlirAffineMap map, intptr_t dim) {
  for (intptr_t r = 0; r < mlirAffineMapGetNumResults(map); ++r)
    if (cageCPUMapResultDim(map, r) == dim)
      return mlirShapedTypeGetDimSize(mlirValueGetType(v), r);
  return -1;
}

/* A linalg.generic contraction on static f32 tensors with two to four
 * batch loops, or with one that is not leading everywhere. */
static bool analyze(MlirOperation op, Batched *c) {
  CageContraction simple;
  if (!cageOpIs(op, "linalg.generic") || mlirOperationGetNumOperands(op) != 3 ||
      mlirOperationGetNumResults(op) != 1 || !mlirLinalgIsAContractionOp(op) ||
      cageCPUAnalyzeContraction(op, &simple))
    return false;
  for (intptr_t i = 0; i < 3; ++i) {
    MlirType t = mlirValueGetType(mlirOperationGetOperand(op, i));
    if (!mlirTypeIsARankedTensor(t) || !mlirShapedTypeHasStaticShape(t) ||
        !mlirTypeIsAF32(mlirShapedTypeGetElementType(t)))
      return false;
  }
  MlirAttribute maps = mlirLinalgGetIndexingMapsAttribute(op);
  MlirAffineMap map[3];
  for (intptr_t i = 0; i < 3; ++i)
    map[i] = mlirAffineMapAttrGetValue(mlirArrayAttrGetElement(maps, i));
  *c = (Batched){.op = op, .numLoops = mlirAffineMapGetNumDims(map[2])};
  c->numBatch = c->numLoops - 3;
  if (c->numBatch < 1 || c->numBatch > MAX_BATCH ||
      mlirAffineMapGetNumResults(map[2]) != c->numBatch + 2)
    return false;
  /* C's results: its batch loops (read by both inputs), then M and N in the
   * order they come; K is the loop C lacks. */
  intptr_t nb = 0, others[2], numOthers = 0;
  c->kDim = -1;
  for (intptr_t d = 0; d < c->numLoops; ++d)
    if (!hasDim(map[2], d))
      c->kDim = d;
  for (intptr_t r = 0; r < c->numBatch + 2; ++r) {
    intptr_t d = cageCPUMapResultDim(map[2], r);
    if (d < 0)
      return false;
    if (hasDim(map[0], d) && hasDim(map[1], d)) {
      if (nb == c->numBatch)
        return false;
      c->batchDims[nb++] = d;
    } else {
      if (numOthers == 2)
        return false;
      others[numOthers++] = d;
    }
  }
  if (nb != c->numBatch || numOthers != 2 || c->kDim < 0)
    return false;
  c->mDim = others[0];
  c->nDim = others[1];
  intptr_t ai = hasDim(map[0], c->mDim) ? 0 : 1;
  c->a = mlirOperationGetOperand(op, ai);
  c->b = mlirOperationGetOperand(op, 1 - ai);
  c->init = mlirOperationGetOperand(op, 2);
  c->aMap = map[ai];
  c->bMap = map[1 - ai];
  c->cMap = map[2];
  if (!readsExactly(c->aMap, c, c->mDim, c->kDim) ||
      !readsExactly(c->bMap, c, c->kDim, c->nDim))
    return false;
  for (intptr_t i = 0; i < nb; ++i)
    c->batchSizes[i] = sizeOf(c->init, c->cMap, c->batchDims[i]);
  c->m = sizeOf(c->init, c->cMap, c->mDim);
  c->n = sizeOf(c->init, c->cMap, c->nDim);
  c->k = sizeOf(c->a, c->aMap, c->kDim);
  return true;
}

/* `source`, read through `sourceMap` over the contraction's loops, copied
 * into a new tensor whose dimensions are the loops `order` (`rank`). */
static MlirValue permutedCopy(CageBuilder *b, MlirValue source,
                              MlirAffineMap sourceMap, const intptr_t *order,
                              intptr_t rank) {
  int64_t sizes[MAX_BATCH + 2];
  for (intptr_t j = 0; j < rank; ++j)
    sizes[j] = sizeOf(source, sourceMap, order[j]);
  MlirAffineExpr exprs[MAX_BATCH + 2];
  for (intptr_t r = 0; r < rank; ++r) {
    intptr_t loop = cageCPUMapResultDim(sourceMap, r), at = 0;
    while (order[at] != loop)
      ++at;
    exprs[r] = mlirAffineDimExprGet(b->context, at);
  }
  MlirAffineMap maps[2] = {mlirAffineMapGet(b->context, rank, 0, rank, exprs),
                           cagePrefixMap(b->context, rank, rank)};
  CageIteratorType iterators[MAX_BATCH + 2];
  for (intptr_t j = 0; j < rank; ++j)
    iterators[j] = CageIteratorParallel;
  MlirValue dest =
      cageBuildEmpty(b, cageCPUF32Tensor(b->context, rank, sizes), NULL, 0);
  CageGenericSpec spec = {.inputs = &source,
                          .numInputs = 1,
                          .outputs = &dest,
                          .numOutputs = 1,
                          .indexingMaps = maps,
                          .iteratorTypes = iterators,
                          .numLoops = rank,
                          .body = cageCPUCopyBody};
  return cageOperationGetResult(cageBuildGeneric(b, &spec), 0);
}

/* [batch..., X, Y] as [product of the batch, X, Y]. */
static MlirValue collapseBatch(CageBuilder *b, MlirValue v, intptr_t nb) {
  MlirType t = mlirValueGetType(v);
  int64_t batch = 1;
  for (intptr_t i = 0; i < nb; ++i)
    batch *= mlirShapedTypeGetDimSize(t, i);
  int64_t shape[3] = {batch, mlirShapedTypeGetDimSize(t, nb),
                      mlirShapedTypeGetDimSize(t, nb + 1)};
  int64_t groups[3] = {nb, 1, 1};
  return cageBuildCollapseShape(b, v, cageCPUF32Tensor(b->context, 3, shape),
                                groups);
}

static void rewrite(const Batched *c) {
  MlirBlock scratch = mlirBlockCreate(0, NULL, NULL);
  CageBuilder b =
      cageBuilderAtEndOfBlock(scratch, mlirOperationGetLocation(c->op));
  intptr_t nb = c->numBatch, rank = nb + 2;
  intptr_t aOrder[MAX_BATCH + 2], bOrder[MAX_BATCH + 2], cOrder[MAX_BATCH + 2];
  memcpy(aOrder, c->batchDims, (size_t)nb * sizeof *aOrder);
  memcpy(bOrder, c->batchDims, (size_t)nb * sizeof *bOrder);
  memcpy(cOrder, c->batchDims, (size_t)nb * sizeof *cOrder);
  aOrder[nb] = c->mDim, aOrder[nb + 1] = c->kDim;
  bOrder[nb] = c->kDim, bOrder[nb + 1] = c->nDim;
  cOrder[nb] = c->mDim, cOrder[nb + 1] = c->nDim;
  MlirValue a =
      collapseBatch(&b, permutedCopy(&b, c->a, c->aMap, aOrder, rank), nb);
  MlirValue bv =
      collapseBatch(&b, permutedCopy(&b, c->b, c->bMap, bOrder, rank), nb);
  MlirValue canonicalInit = permutedCopy(&b, c->init, c->cMap, cOrder, rank);
  MlirValue init = collapseBatch(&b, canonicalInit, nb);
  MlirContext ctx = b.context;
  MlirAffineExpr d0 = mlirAffineDimExprGet(ctx, 0),
                 m = mlirAffineDimExprGet(ctx, 1),
                 n = mlirAffineDimExprGet(ctx, 2),
                 k = mlirAffineDimExprGet(ctx, 3);
  MlirAffineExpr ae[3] = {d0, m, k}, be[3] = {d0, k, n}, ce[3] = {d0, m, n};
  MlirAffineMap maps[3] = {mlirAffineMapGet(ctx, 4, 0, 3, ae),
                           mlirAffineMapGet(ctx, 4, 0, 3, be),
                           mlirAffineMapGet(ctx, 4, 0, 3, ce)};
  MlirValue product = cageBuildMatmul(&b, a, bv, init, maps);
  /* Back to [batch..., M, N], then into C's layout. */
  int64_t groups[3] = {nb, 1, 1};
  MlirValue noSizes[MAX_BATCH + 2] = {{NULL}};
  MlirValue expanded = cageBuildExpandShape(
      &b, product, mlirValueGetType(canonicalInit), groups, noSizes);
  /* C's dim r is the canonical loop at place: the inverse of cOrder. */
  MlirAffineExpr exprs[MAX_BATCH + 2];
  for (intptr_t j = 0; j < rank; ++j) {
    intptr_t r = 0;
    while (cageCPUMapResultDim(c->cMap, r) != cOrder[j])
      ++r;
    exprs[j] = mlirAffineDimExprGet(ctx, r);
  }
  MlirAffineMap copyMaps[2] = {mlirAffineMapGet(ctx, rank, 0, rank, exprs),
                               cagePrefixMap(ctx, rank, rank)};
  CageIteratorType iterators[MAX_BATCH + 2];
  for (intptr_t j = 0; j < rank; ++j)
    iterators[j] = CageIteratorParallel;
  MlirValue dest = cageBuildEmptyLike(&b, c->init);
  CageGenericSpec spec = {.inputs = &expanded,
                          .numInputs = 1,
                          .outputs = &dest,
                          .numOutputs = 1,
                          .indexingMaps = copyMaps,
                          .iteratorTypes = iterators,
                          .numLoops = rank,
                          .body = cageCPUCopyBody};
  MlirValue result = cageOperationGetResult(cageBuildGeneric(&b, &spec), 0);
  MlirOperation op;
  while (!mlirOperationIsNull(op = mlirBlockGetFirstOperation(scratch)))
    mlirOperationMoveBefore(op, c->op);
  mlirBlockDestroy(scratch);
  mlirValueReplaceAllUsesOfWith(mlirOperationGetResult(c->op, 0), result);
  mlirOperationDestroy(c->op);
}

static bool isBatchedContraction(MlirOperation op) {
  Batched c;
  return analyze(op, &c);
}

void cageCPUNameBatchedContractions(MlirOperation module) {
  CageOpList ops = cageCollectOpsWhere(module, isBatchedContraction);
  for (intptr_t i = 0; i < ops.size; ++i) {
    Batched c;
    if (analyze(ops.ops[i], &c))
      rewrite(&c);
  }
  cageOpListDestroy(&ops);
}
