/*===- BatchContractions.c - Contractions with several batch dimensions ---===*\
|*                                                                            *|
|* Attention writes its products with two batch dimensions, batch and head,   *|
|* in the layout of its activations: s[b, h, i, j] = sum_c q[b, i, h, c]      *|
|* k[b, j, h, c], out[b, i, h, c] = sum_j p[b, h, i, j] v[b, j, h, c], and    *|
|* cage-autodiff their adjoints alike. No named op takes that. Part of        *|
|* cage-cpu-name-contractions, such a linalg.generic becomes                  *|
|*   - with one M, N and K loop and matrices of unit stride (attention): an   *|
|*     scf.forall over the batch of 2-D linalg.matmuls on slices of the       *|
|*     operands as they are stored, nothing copied (rewriteAsSlices);         *|
|*   - otherwise: A, B and C's init copied into [batch..., M, K],             *|
|*     [batch..., K, N], [batch..., M, N] (the batch dimensions in C's        *|
|*     order; a fill is filled again in that layout, not copied), collapsed   *|
|*     to one batch, linalg.batch_matmul, expanded back and copied into C's   *|
|*     layout; each copy a linalg.generic that cage-cpu-tile vectorizes.      *|
|* The pack and tile passes then turn the matmuls into register-blocked       *|
|* ones. Elementwise fusion may still fuse producers into the copies (once    *|
|* per element), never into the contraction.                                  *|
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

/* `v` with its dimensions in the `numGroups` groups `groups` collapsed
 * (itself when no group has several). */
static MlirValue collapse(CageBuilder *b, MlirValue v, const int64_t *groups,
                          intptr_t numGroups) {
  int64_t shape[MAX_LOOPS], nonEmpty[MAX_LOOPS];
  intptr_t n =
      collapsedShape(mlirValueGetType(v), groups, numGroups, shape, nonEmpty);
  if (!needsReshape(nonEmpty, n))
    return v;
  return cageBuildCollapseShape(b, v, cageCPUF32Tensor(b->context, n, shape),
                                nonEmpty);
}

/* The inverse of collapse: `v` expanded to `type`. */
static MlirValue expand(CageBuilder *b, MlirValue v, MlirType type,
                        const int64_t *groups, intptr_t numGroups) {
  int64_t shape[MAX_LOOPS], nonEmpty[MAX_LOOPS];
  intptr_t n = collapsedShape(type, groups, numGroups, shape, nonEmpty);
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
      collapse(&b, permuted(&b, c->a, c->aMap, aOrder, aRank), aGroups, 3);
  MlirValue bv =
      collapse(&b, permuted(&b, c->b, c->bMap, bOrder, bRank), bGroups, 3);
  MlirValue canonicalInit = permuted(&b, c->init, c->cMap, cOrder, cRank);
  MlirValue init = collapse(&b, canonicalInit, cGroups, 3);
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
      expand(&b, product, mlirValueGetType(canonicalInit), cGroups, 3);
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

/*===----------------------------------------------------------------------===*
 * One M, N and K loop: a parallel loop over the batch of 2-D matmuls on
 * slices of the operands as they are stored
 *===----------------------------------------------------------------------===*/

/* Attention's products have batch loops (batch, head) that are not leading
 * in their operands (q[b, i, h, c]) but one M, N and K loop each. The
 * matrix of one (b, h) then has rows with unit stride, which the kernel
 * reads in place: no copy of an operand into [batch, M, K], none of the
 * result back. Each operand is seen with every batch dimension that
 * follows its first M, N or K dimension merged into the dimension after
 * it (q as [b, i, h * c], a reshape without a copy), so that the matrix is
 * a slice of whole trailing dimensions: q[b, :, h * c : h * c + c]. Its
 * accesses stay two-dimensional when the tile pass folds the slice into
 * them (sliced at a unit dimension between its rows and columns, they
 * became a transposed three-dimensional write that the accumulators of
 * Accumulators.c cannot be kept in registers across). What still needs a
 * transpose (a K x M A, an N x K B) the pack pass copies one matrix at a
 * time, inside the loop, in cache. */

/* An operand as it is sliced: `value`, the operand with dimension groups
 * `groups` collapsed; each group a run of batch dimensions then at most
 * one M, N or K dimension, which is last. */
typedef struct SlicedOperand {
  MlirValue value;
  MlirAffineMap map; /* the operand's map, over the contraction's loops */
  intptr_t rank;     /* of `value` */
  int64_t groups[MAX_LOOPS];
} SlicedOperand;

/* The position of `loop` among c->batch, or -1 when it is no batch loop. */
static intptr_t batchPosition(const Batched *c, intptr_t loop) {
  for (intptr_t j = 0; j < c->nb; ++j)
    if (c->batch[j] == loop)
      return j;
  return -1;
}

static bool isBatchLoop(const Batched *c, intptr_t loop) {
  return batchPosition(c, loop) >= 0;
}

/* `v`, read through `map`, with its batch dimensions grouped as above;
 * false when its last dimension is a batch dimension (its matrices would
 * have no unit stride). */
static bool sliceable(const Batched *c, MlirValue v, MlirAffineMap map,
                      SlicedOperand *out) {
  *out = (SlicedOperand){.value = v, .map = map};
  intptr_t rank = mlirAffineMapGetNumResults(map);
  if (isBatchLoop(c, cageCPUMapResultDim(map, rank - 1)))
    return false;
  bool seenMatrixDim = false;
  int64_t run = 0;
  for (intptr_t r = 0; r < rank; ++r) {
    bool batch = isBatchLoop(c, cageCPUMapResultDim(map, r));
    ++run;
    /* Leading batch dimensions stay on their own. */
    if (!batch || !seenMatrixDim) {
      out->groups[out->rank++] = run;
      run = 0;
    }
    seenMatrixDim |= !batch;
  }
  return true;
}

/* The slice of `o` (whose uncollapsed value is `original`) at the batch indices
 * `at` (one per c->batch loop): its offsets, sizes and 2-D type. */
static MlirType matrixSlice(CageBuilder *body, const Batched *c,
                            const SlicedOperand *o, MlirValue original,
                            const MlirValue *at, CageSliceIndex *offsets,
                            CageSliceIndex *sizes) {
  MlirType type = mlirValueGetType(original);
  int64_t shape[2];
  intptr_t kept = 0, r = 0;
  for (intptr_t g = 0; g < o->rank; ++g) {
    /* offset = sum of the group's batch indices times the sizes after
     * them in the group; the size is its matrix dimension's, or 1. */
    MlirValue offset = {NULL};
    int64_t size = 1;
    for (int64_t i = 0; i < o->groups[g]; ++i, ++r) {
      intptr_t loop = cageCPUMapResultDim(o->map, r);
      int64_t extent = mlirShapedTypeGetDimSize(type, r);
      if (!mlirValueIsNull(offset))
        offset =
            cageBuildMulI(body, offset, cageBuildConstantIndex(body, extent));
      intptr_t j = batchPosition(c, loop);
      if (j >= 0)
        offset = mlirValueIsNull(offset) ? at[j]
                                         : cageBuildAddI(body, offset, at[j]);
      else
        size = extent;
    }
    offsets[g] = mlirValueIsNull(offset) ? (CageSliceIndex){.constant = 0}
                                         : (CageSliceIndex){.value = offset};
    sizes[g] = (CageSliceIndex){.constant = size};
    if (!isBatchLoop(c, cageCPUMapResultDim(o->map, r - 1)))
      shape[kept++] = size;
  }
  return cageCPUF32Tensor(body->context, 2, shape);
}

/* The 2-D map over (m, n, k) = (d0, d1, d2) of an operand's matrices: its
 * M, N and K dimensions in order. */
static MlirAffineMap matrixMap(const Batched *c, MlirContext ctx,
                               MlirAffineMap map) {
  MlirAffineExpr exprs[2];
  intptr_t kept = 0;
  for (intptr_t r = 0; r < mlirAffineMapGetNumResults(map); ++r) {
    intptr_t d = cageCPUMapResultDim(map, r);
    intptr_t role = d == c->m[0] ? 0 : d == c->n[0] ? 1 : d == c->k[0] ? 2 : -1;
    if (role >= 0)
      exprs[kept++] = mlirAffineDimExprGet(ctx, role);
  }
  return mlirAffineMapGet(ctx, 3, 0, 2, exprs);
}

typedef struct Sliced {
  const Batched *c;
  SlicedOperand a, b, out;
  MlirValue outOriginal; /* C's init (or its fill's target) uncollapsed */
  MlirValue fill;        /* the value C's init was filled with, or null */
} Sliced;

static bool slicedBody(CageBuilder *body, MlirValue iv,
                       const MlirValue *sharedOuts, CageBuilder *inParallel,
                       void *userData) {
  const Sliced *s = userData;
  const Batched *c = s->c;
  /* iv runs over the batch loops in C's order, the last fastest. */
  MlirValue at[MAX_LOOPS];
  MlirValue rest = iv;
  for (intptr_t j = c->nb - 1; j > 0; --j) {
    MlirValue size =
        cageBuildConstantIndex(body, sizeOf(c->init, c->cMap, c->batch[j]));
    at[j] = cageBuildRemUI(body, rest, size);
    rest = cageBuildDivUI(body, rest, size);
  }
  at[0] = rest;
  CageSliceIndex offsets[MAX_LOOPS], sizes[MAX_LOOPS];
  MlirType type = matrixSlice(body, c, &s->a, c->a, at, offsets, sizes);
  MlirValue a = cageBuildExtractSlice(body, s->a.value, offsets, sizes, type);
  type = matrixSlice(body, c, &s->b, c->b, at, offsets, sizes);
  MlirValue b = cageBuildExtractSlice(body, s->b.value, offsets, sizes, type);
  type = matrixSlice(body, c, &s->out, s->outOriginal, at, offsets, sizes);
  MlirValue out =
      cageBuildExtractSlice(body, sharedOuts[0], offsets, sizes, type);
  if (!mlirValueIsNull(s->fill))
    out = cageBuildFill(body, s->fill, out);
  MlirContext ctx = body->context;
  MlirAffineMap maps[3] = {matrixMap(c, ctx, c->aMap),
                           matrixMap(c, ctx, c->bMap),
                           matrixMap(c, ctx, c->cMap)};
  MlirValue product = cageBuildMatmul(body, a, b, out, maps);
  return !mlirOperationIsNull(cageBuildParallelInsertSlice(
      inParallel, product, sharedOuts[0], offsets, sizes));
}

/* The contraction as an scf.forall over its batch of 2-D matmuls on
 * slices; false (nothing built) when an operand's matrices would not have
 * unit stride. */
static bool rewriteAsSlices(const Batched *c) {
  Sliced s = {.c = c, .outOriginal = c->init};
  /* A zero init is filled matrix by matrix, in the loop, not beforehand. */
  MlirOperation producer = cageDefiningOp(c->init);
  if (!mlirOperationIsNull(producer) && cageOpIs(producer, "linalg.fill")) {
    s.fill = mlirOperationGetOperand(producer, 0);
    s.outOriginal = mlirOperationGetOperand(producer, 1);
  }
  if (!sliceable(c, c->a, c->aMap, &s.a) ||
      !sliceable(c, c->b, c->bMap, &s.b) ||
      !sliceable(c, s.outOriginal, c->cMap, &s.out))
    return false;
  CageBuilder b = cageBuilderDetached(mlirOperationGetLocation(c->op));
  s.a.value = collapse(&b, s.a.value, s.a.groups, s.a.rank);
  s.b.value = collapse(&b, s.b.value, s.b.groups, s.b.rank);
  s.out.value = collapse(&b, s.out.value, s.out.groups, s.out.rank);
  int64_t count = 1;
  for (intptr_t j = 0; j < c->nb; ++j)
    count *= sizeOf(c->init, c->cMap, c->batch[j]);
  MlirValue result = cageOperationGetResult(
      cageBuildForall(&b, cageBuildConstantIndex(&b, count), &s.out.value, 1,
                      slicedBody, &s),
      0);
  result =
      expand(&b, result, mlirValueGetType(c->init), s.out.groups, s.out.rank);
  cageBuilderMoveBefore(&b, c->op);
  mlirValueReplaceAllUsesOfWith(mlirOperationGetResult(c->op, 0), result);
  mlirOperationDestroy(c->op);
  /* The fill that the loop now does slice by slice, unless read elsewhere. */
  if (!mlirValueIsNull(s.fill) && mlirOpOperandIsNull(mlirValueGetFirstUse(
                                      mlirOperationGetResult(producer, 0))))
    mlirOperationDestroy(producer);
  return true;
}

static bool isBatchedContraction(MlirOperation op) {
  Batched c;
  return analyze(op, &c);
}

void cageCPUNameBatchedContractions(MlirOperation module) {
  CageOpList ops = cageCollectOpsWhere(module, isBatchedContraction);
  for (intptr_t i = 0; i < ops.size; ++i) {
    Batched c;
    if (!analyze(ops.ops[i], &c))
      continue;
    bool sliced =
        c.nb > 0 && c.nm == 1 && c.nn == 1 && c.nk == 1 && rewriteAsSlices(&c);
    if (!sliced)
      rewrite(&c);
  }
  cageOpListDestroy(&ops);
}
