/*===- BatchContractions.c - Contractions with several batch dimensions ---===*\
|*                                                                            *|
|* Attention writes its products with two batch dimensions, batch and head,  *|
|* in the layout of its activations: scores[b, h, i, j] = Σ_c q[b, i, h, c]  *|
|* k[b, j, h, c], out[b, i, h, c] = Σ_j p[b, h, i, j] v[b, j, h, c], and     *|
|* cage-autodiff their adjoints alike. No named op takes that. Part of        *|
|* cage-cpu-name-contractions: such a linalg.generic becomes                 *|
|*   A, B and C's init copied into [batch..., M, K], [batch..., K, N],       *|
|*   [batch..., M, N] (the batch dimensions in C's order; a fill is filled  *|
|*   again in that layout, not copied), collapsed to one                     *|
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

#define MAX_LOOPS 8

/* The loops of a contraction by role: batch loops (in A, B and C), M loops
 * (in A and C), N loops (in B and C), K loops (in A and B); each list in
 * the order of C's results (K: of A's). */
typedef struct Batched {
  MlirOperation op;
  intptr_t numLoops, nb, nm, nn, nk;
  intptr_t batch[MAX_LOOPS], m[MAX_LOOPS], n[MAX_LOOPS], k[MAX_LOOPS];
  MlirValue a, b, init;
  MlirAffineMap aMap, bMap, cMap;
} Batched;

static bool hasDim(MlirAffineMap map, intptr_t dim) {
  for (intptr_t r = 0; r < mlirAffineMapGetNumResults(map); ++r)
    if (cageCPUMapResultDim(map, r) == dim)
      return true;
  return false;
}

static int64_t sizeOf(MlirValue v, MlirAffineMap map, intptr_t dim) {
  for (intptr_t r = 0; r < mlirAffineMapGetNumResults(map); ++r)
    if (cageCPUMapResultDim(map, r) == dim)
      return mlirShapedTypeGetDimSize(mlirValueGetType(v), r);
  return -1;
}

static bool allDims(MlirAffineMap map, intptr_t numResults) {
  if (mlirAffineMapGetNumResults(map) != numResults)
    return false;
  for (intptr_t r = 0; r < numResults; ++r)
    if (cageCPUMapResultDim(map, r) < 0)
      return false;
  return true;
}

/* A linalg.generic contraction on static f32 tensors that
 * cageCPUAnalyzeContraction does not take: several batch, M, N or K loops,
 * or a batch loop that is not leading. */
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
  if (c->numLoops > MAX_LOOPS)
    return false;
  /* A is the input with C's first loop that only one input has. */
  intptr_t ai = -1;
  for (intptr_t r = 0; r < mlirAffineMapGetNumResults(map[2]) && ai < 0; ++r) {
    intptr_t d = cageCPUMapResultDim(map[2], r);
    if (d >= 0 && hasDim(map[0], d) != hasDim(map[1], d))
      ai = hasDim(map[0], d) ? 0 : 1;
  }
  if (ai < 0)
    return false;
  c->a = mlirOperationGetOperand(op, ai);
  c->b = mlirOperationGetOperand(op, 1 - ai);
  c->init = mlirOperationGetOperand(op, 2);
  c->aMap = map[ai];
  c->bMap = map[1 - ai];
  c->cMap = map[2];
  intptr_t numC = mlirAffineMapGetNumResults(c->cMap);
  for (intptr_t r = 0; r < numC; ++r) {
    intptr_t d = cageCPUMapResultDim(c->cMap, r);
    if (d < 0)
      return false;
    bool inA = hasDim(c->aMap, d), inB = hasDim(c->bMap, d);
    if (inA && inB)
      c->batch[c->nb++] = d;
    else if (inA)
      c->m[c->nm++] = d;
    else if (inB)
      c->n[c->nn++] = d;
    else
      return false;
  }
  intptr_t numA = mlirAffineMapGetNumResults(c->aMap);
  for (intptr_t r = 0; r < numA; ++r) {
    intptr_t d = cageCPUMapResultDim(c->aMap, r);
    if (d >= 0 && !hasDim(c->cMap, d)) {
      if (!hasDim(c->bMap, d))
        return false;
      c->k[c->nk++] = d;
    }
  }
  return c->nm > 0 && c->nn > 0 && c->nk > 0 &&
         c->nb + c->nm + c->nn + c->nk == c->numLoops &&
         allDims(c->aMap, c->nb + c->nm + c->nk) &&
         allDims(c->bMap, c->nb + c->nk + c->nn) &&
         allDims(c->cMap, c->nb + c->nm + c->nn);
}

/* The loops `first`, `second`, `third` (of counts n1, n2, n3) in one list. */
static intptr_t concat(intptr_t *out, const intptr_t *first, intptr_t n1,
                       const intptr_t *second, intptr_t n2,
                       const intptr_t *third, intptr_t n3) {
  memcpy(out, first, (size_t)n1 * sizeof *out);
  memcpy(out + n1, second, (size_t)n2 * sizeof *out);
  memcpy(out + n1 + n2, third, (size_t)n3 * sizeof *out);
  return n1 + n2 + n3;
}

static bool inOrder(MlirAffineMap map, const intptr_t *order, intptr_t rank) {
  for (intptr_t r = 0; r < rank; ++r)
    if (cageCPUMapResultDim(map, r) != order[r])
      return false;
  return true;
}

/* `source`, read through `sourceMap` over the contraction's loops, as a
 * tensor whose dimensions are the loops `order` (`rank`): itself when it
 * already is, else a copy; a fill of the same value when `source` is a
 * linalg.fill (C's zeros, in the backward: nothing to read). */
static MlirValue permuted(CageBuilder *b, MlirValue source,
                          MlirAffineMap sourceMap, const intptr_t *order,
                          intptr_t rank) {
  if (inOrder(sourceMap, order, rank))
    return source;
  int64_t sizes[MAX_LOOPS];
  for (intptr_t j = 0; j < rank; ++j)
    sizes[j] = sizeOf(source, sourceMap, order[j]);
  MlirValue dest =
      cageBuildEmpty(b, cageCPUF32Tensor(b->context, rank, sizes), NULL, 0);
  MlirValue filled = cageCPUFillLike(b, source, dest);
  if (!mlirValueIsNull(filled))
    return filled;
  MlirAffineExpr exprs[MAX_LOOPS];
  for (intptr_t r = 0; r < rank; ++r) {
    intptr_t loop = cageCPUMapResultDim(sourceMap, r), at = 0;
    while (order[at] != loop)
      ++at;
    exprs[r] = mlirAffineDimExprGet(b->context, at);
  }
  return cageCPUBuildCopy(
      b, source, mlirAffineMapGet(b->context, rank, 0, rank, exprs), dest);
}

/* The collapsed shape of `type` whose dimensions come in `numGroups`
 * consecutive groups of `groups` sizes (a group of 0 is left out). */
static intptr_t collapsedShape(MlirType type, const int64_t *groups,
                               intptr_t numGroups, int64_t *shape,
                               int64_t *nonEmpty) {
  intptr_t at = 0, n = 0;
  for (intptr_t g = 0; g < numGroups; ++g) {
    if (groups[g] == 0)
      continue;
    int64_t size = 1;
    for (int64_t i = 0; i < groups[g]; ++i)
      size *= mlirShapedTypeGetDimSize(type, at++);
    shape[n] = size;
    nonEmpty[n++] = groups[g];
  }
  return n;
}

static bool needsReshape(const int64_t *groups, intptr_t n) {
  for (intptr_t g = 0; g < n; ++g)
    if (groups[g] > 1)
      return true;
  return false;
}

static MlirValue collapse(CageBuilder *b, MlirValue v, const int64_t *groups) {
  int64_t shape[3], nonEmpty[3];
  intptr_t n = collapsedShape(mlirValueGetType(v), groups, 3, shape, nonEmpty);
  if (!needsReshape(nonEmpty, n))
    return v;
  return cageBuildCollapseShape(b, v, cageCPUF32Tensor(b->context, n, shape),
                                nonEmpty);
}

static MlirValue expand(CageBuilder *b, MlirValue v, MlirType type,
                        const int64_t *groups) {
  int64_t shape[3], nonEmpty[3];
  intptr_t n = collapsedShape(type, groups, 3, shape, nonEmpty);
  if (!needsReshape(nonEmpty, n))
    return v;
  MlirValue noSizes[MAX_LOOPS] = {{NULL}};
  return cageBuildExpandShape(b, v, type, nonEmpty, noSizes);
}

static void rewrite(const Batched *c) {
  CageBuilder b = cageBuilderDetached(mlirOperationGetLocation(c->op));
  intptr_t aOrder[MAX_LOOPS], bOrder[MAX_LOOPS], cOrder[MAX_LOOPS];
  intptr_t aRank = concat(aOrder, c->batch, c->nb, c->m, c->nm, c->k, c->nk);
  intptr_t bRank = concat(bOrder, c->batch, c->nb, c->k, c->nk, c->n, c->nn);
  intptr_t cRank = concat(cOrder, c->batch, c->nb, c->m, c->nm, c->n, c->nn);
  int64_t aGroups[3] = {c->nb, c->nm, c->nk},
          bGroups[3] = {c->nb, c->nk, c->nn},
          cGroups[3] = {c->nb, c->nm, c->nn};
  MlirValue a =
      collapse(&b, permuted(&b, c->a, c->aMap, aOrder, aRank), aGroups);
  MlirValue bv =
      collapse(&b, permuted(&b, c->b, c->bMap, bOrder, bRank), bGroups);
  MlirValue canonicalInit = permuted(&b, c->init, c->cMap, cOrder, cRank);
  MlirValue init = collapse(&b, canonicalInit, cGroups);
  /* linalg.batch_matmul over (batch, m, n, k), or linalg.matmul. */
  MlirContext ctx = b.context;
  intptr_t lead = c->nb > 0 ? 1 : 0, loops = lead + 3;
  MlirAffineExpr d0 = mlirAffineDimExprGet(ctx, 0),
                 m = mlirAffineDimExprGet(ctx, lead),
                 n = mlirAffineDimExprGet(ctx, lead + 1),
                 k = mlirAffineDimExprGet(ctx, lead + 2);
  MlirAffineExpr ae[3] = {d0, m, k}, be[3] = {d0, k, n}, ce[3] = {d0, m, n};
  MlirAffineMap maps[3] = {
      mlirAffineMapGet(ctx, loops, 0, 2 + lead, ae + 1 - lead),
      mlirAffineMapGet(ctx, loops, 0, 2 + lead, be + 1 - lead),
      mlirAffineMapGet(ctx, loops, 0, 2 + lead, ce + 1 - lead)};
  MlirValue product = cageBuildMatmul(&b, a, bv, init, maps);
  /* Back to [batch..., M..., N...], then into C's layout. */
  MlirValue result =
      expand(&b, product, mlirValueGetType(canonicalInit), cGroups);
  if (!inOrder(c->cMap, cOrder, cRank)) {
    /* C's dim r is the canonical dim holding C's loop r. */
    MlirAffineExpr exprs[MAX_LOOPS];
    for (intptr_t j = 0; j < cRank; ++j) {
      intptr_t r = 0;
      while (cageCPUMapResultDim(c->cMap, r) != cOrder[j])
        ++r;
      exprs[j] = mlirAffineDimExprGet(ctx, r);
    }
    result = cageCPUBuildCopy(&b, result,
                              mlirAffineMapGet(ctx, cRank, 0, cRank, exprs),
                              cageBuildEmptyLike(&b, c->init));
  }
  cageBuilderMoveBefore(&b, c->op);
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
