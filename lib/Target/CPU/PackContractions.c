/*===- PackContractions.c - cage-cpu-pack-contractions --------------------===*\
|*                                                                            *|
|* Puts every f32 contraction on static tensors (Contraction.h: a matmul in  *|
|* any of the four transpose layouts, batched or not, named or generic) into *|
|* the one form cage-cpu-tile-contractions generates fast code for:          *|
|*     linalg.matmul with default maps, C[m, n] += A[m, k] * B[k, n],        *|
|* M a multiple of the register block's rows, N of its columns. A batched    *|
|* contraction becomes an scf.forall over the batch of such matmuls on       *|
|* slices (the batch is what threads share).                                 *|
|*                                                                            *|
|* An operand not already in that form is packed: written by a              *|
|* linalg.generic transposed, or into a zero-padded tensor. When the        *|
|* operand is made by an elementwise linalg.generic (a fake quantizer, say), *|
|* the packing is a copy of that producer writing the packed layout, so the  *|
|* operand is quantized as it is packed, in one pass; the original producer *|
|* goes when nothing else reads it. The pass runs after                     *|
|* linalg-fuse-elementwise-ops, whose patterns would replace a packing's     *|
|* padded destination with a tensor.empty (the copy does not read it).       *|
|*                                                                            *|
|* Layouts (docs/Passes.md): A stored K x M is transposed; B stored N x K is *|
|* transposed into K x N, its rows allocated 16 floats longer when their     *|
|* length is a multiple of 128 floats (rows a multiple of 512 bytes apart    *|
|* share cache sets), and a B already K x N with such rows is copied into   *|
|* longer ones when the kernel reads it often enough (padAliasedB). Padded   *|
|* rows and columns are zeros; the product is                               *|
|* computed padded and sliced back. Each C element is still the sum over K  *|
|* in order.                                                                 *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#include "Contraction.h"
#include "Passes.h"

#include "IR/Builder.h"
#include "IR/Ops.h"
#include "IR/Text.h"

#include "mlir-c/AffineExpr.h"
#include "mlir-c/AffineMap.h"
#include "mlir-c/BuiltinAttributes.h"
#include "mlir-c/BuiltinTypes.h"
#include "mlir-c/Diagnostics.h"
#include "mlir-c/Dialect/Bufferization.h"
#include "mlir-c/Dialect/Linalg.h"
#include "mlir-c/Dialect/Tensor.h"

#include <stdlib.h>
#include <string.h>

enum { kVectorWidth };

/* Rows of packed B are padded when their length is a multiple of this many
 * floats, by PAD_FLOATS floats. */
#define ALIASING_ROW 128
#define PAD_FLOATS 16
/* A B already K x N whose rows alias is copied into padded rows when the
 * kernel reads it at least this many times (M / its block's rows): then
 * the copy, one read and one write of B, costs less than the L1 misses. */
#define ALIASED_B_MIN_READS 8

/*===----------------------------------------------------------------------===*
 * Building the canonical form
 *===----------------------------------------------------------------------===*/

static int64_t roundUp(int64_t x, int64_t step) {
  return (x + step - 1) / step * step;
}

static void zeroOffsets(CageSliceIndex *offsets, intptr_t rank) {
  for (intptr_t i = 0; i < rank; ++i)
    offsets[i] = (CageSliceIndex){.constant = 0};
}

static void toSliceSizes(CageSliceIndex *out, const int64_t *sizes,
                         intptr_t rank) {
  for (intptr_t i = 0; i < rank; ++i)
    out[i] = (CageSliceIndex){.constant = sizes[i]};
}

/* The elementwise linalg.generic that produces `source`, if the packing
 * can compute it instead: one result written through the identity map,
 * all loops parallel, the output's old value unread. */
static MlirOperation elementwiseProducer(MlirValue source, intptr_t rank) {
  if (!mlirValueIsAOpResult(source))
    return (MlirOperation){NULL};
  MlirOperation p = mlirOpResultGetOwner(source);
  if (!cageOpIs(p, "linalg.generic") || mlirOperationGetNumResults(p) != 1 ||
      cageGenericNumLoops(p) != rank)
    return (MlirOperation){NULL};
  for (intptr_t d = 0; d < rank; ++d)
    if (!cageGenericLoopIsParallel(p, d))
      return (MlirOperation){NULL};
  MlirAttribute maps = mlirLinalgGetIndexingMapsAttribute(p);
  intptr_t numMaps = mlirArrayAttrGetNumElements(maps);
  MlirAffineMap out =
      mlirAffineMapAttrGetValue(mlirArrayAttrGetElement(maps, numMaps - 1));
  MlirBlock body = mlirRegionGetFirstBlock(mlirOperationGetRegion(p, 0));
  MlirValue outArg =
      mlirBlockGetArgument(body, mlirBlockGetNumArguments(body) - 1);
  if (!mlirAffineMapIsIdentity(out) ||
      !mlirOpOperandIsNull(mlirValueGetFirstUse(outArg)))
    return (MlirOperation){NULL};
  return p;
}

/* The producer of `source` computed straight into `region` (its dim r at
 * place[r]): a clone writing through the permuted map, so the value is
 * made as it is packed, in one pass (the original is erased when nothing
 * else reads it). Null when there is no such producer. */
static MlirValue packProducer(CageBuilder *b, MlirValue source,
                              const intptr_t *place, intptr_t rank,
                              MlirValue region) {
  MlirOperation producer = elementwiseProducer(source, rank);
  if (mlirOperationIsNull(producer))
    return (MlirValue){NULL};
  /* Packed dim j is written by the producer's loop r with place[r] = j. */
  MlirAffineExpr exprs[3];
  for (intptr_t r = 0; r < rank; ++r)
    exprs[place[r]] = mlirAffineDimExprGet(b->context, r);
  MlirAffineMap outMap = mlirAffineMapGet(b->context, rank, 0, rank, exprs);
  MlirAttribute maps = mlirLinalgGetIndexingMapsAttribute(producer);
  intptr_t numMaps = mlirArrayAttrGetNumElements(maps);
  MlirAttribute *newMaps = cageAllocArray(numMaps, sizeof *newMaps);
  for (intptr_t i = 0; i + 1 < numMaps; ++i)
    newMaps[i] = mlirArrayAttrGetElement(maps, i);
  newMaps[numMaps - 1] = mlirAffineMapAttrGet(outMap);
  MlirOperation clone = mlirOperationClone(producer);
  mlirOperationSetAttributeByName(
      clone, cageStr("indexing_maps"),
      mlirArrayAttrGet(b->context, numMaps, newMaps));
  free(newMaps);
  mlirOperationSetOperand(clone, mlirOperationGetNumOperands(clone) - 1,
                          region);
  mlirValueSetType(mlirOperationGetResult(clone, 0), mlirValueGetType(region));
  cageBuilderInsert(b, clone);
  return mlirOperationGetResult(clone, 0);
}

/* `source` (read through `sourceMap`, over the contraction's loops) copied
 * into a tensor whose dims are the loops `order` (`rank` of them): of
 * sizes `valid` at the origin of a tensor of sizes `used`, zeros around
 * them, in a buffer of sizes `full` (longer rows) whose slice of `used`
 * sizes is returned. */
static MlirValue pack(CageBuilder *b, MlirValue source, MlirAffineMap sourceMap,
                      const intptr_t *order, intptr_t rank,
                      const int64_t *valid, const int64_t *used,
                      const int64_t *full) {
  size_t bytes = (size_t)rank * sizeof *valid;
  bool padded = memcmp(valid, used, bytes) != 0;
  bool longRows = memcmp(used, full, bytes) != 0;
  MlirType fullType = cageCPUF32Tensor(b->context, rank, full);
  MlirValue dest = padded || longRows ? cageBuildAllocTensor(b, fullType)
                                      : cageBuildEmpty(b, fullType, NULL, 0);
  if (padded)
    dest = cageBuildFill(b, cageBuildConstantF32(b, 0.0f), dest);
  CageSliceIndex offsets[3], validSizes[3], usedSizes[3];
  zeroOffsets(offsets, rank);
  toSliceSizes(validSizes, valid, rank);
  toSliceSizes(usedSizes, used, rank);
  MlirValue region = dest;
  if (padded || longRows)
    region = cageBuildExtractSlice(b, dest, offsets, validSizes,
                                   cageCPUF32Tensor(b->context, rank, valid));
  /* Dim r of the source is the packed tensor's dim place[r]. */
  intptr_t place[3];
  for (intptr_t r = 0; r < rank; ++r) {
    intptr_t loop = cageCPUMapResultDim(sourceMap, r);
    place[r] = 0;
    while (order[place[r]] != loop)
      ++place[r];
  }
  MlirValue packed = packProducer(b, source, place, rank, region);
  if (mlirValueIsNull(packed)) {
    /* A copy whose loops are the packed tensor's dims. */
    MlirAffineExpr exprs[3];
    for (intptr_t r = 0; r < rank; ++r)
      exprs[r] = mlirAffineDimExprGet(b->context, place[r]);
    packed = cageCPUBuildCopy(
        b, source, mlirAffineMapGet(b->context, rank, 0, rank, exprs), region);
  }
  if (!padded && !longRows)
    return packed;
  MlirValue whole = cageBuildInsertSlice(b, packed, dest, offsets, validSizes);
  if (!longRows)
    return whole;
  return cageBuildExtractSlice(b, whole, offsets, usedSizes,
                               cageCPUF32Tensor(b->context, rank, used));
}

/* Whether `map` reads its operand in the order of the loops `order`. */
static bool inOrder(MlirAffineMap map, const intptr_t *order, intptr_t rank) {
  for (intptr_t r = 0; r < rank; ++r)
    if (cageCPUMapResultDim(map, r) != order[r])
      return false;
  return true;
}

/* The maps of linalg.matmul over (m, n, k): A (m, k), B (k, n), C (m, n). */
static void canonicalMaps(MlirContext ctx, MlirAffineMap maps[3]) {
  MlirAffineExpr m = mlirAffineDimExprGet(ctx, 0),
                 n = mlirAffineDimExprGet(ctx, 1),
                 k = mlirAffineDimExprGet(ctx, 2);
  MlirAffineExpr a[2] = {m, k}, b[2] = {k, n}, c[2] = {m, n};
  maps[0] = mlirAffineMapGet(ctx, 3, 0, 2, a);
  maps[1] = mlirAffineMapGet(ctx, 3, 0, 2, b);
  maps[2] = mlirAffineMapGet(ctx, 3, 0, 2, c);
}

/* `init` (of sizes `valid`, taken from `whole`, the contraction's init)
 * padded to sizes `full`: a fill of the same value when `whole` is a
 * linalg.fill, else `init` inserted into zeros. */
static MlirValue padInit(CageBuilder *b, MlirValue init, MlirValue whole,
                         intptr_t rank, const int64_t *valid,
                         const int64_t *full) {
  MlirValue dest =
      cageBuildEmpty(b, cageCPUF32Tensor(b->context, rank, full), NULL, 0);
  MlirValue filled = cageCPUFillLike(b, whole, dest);
  if (!mlirValueIsNull(filled))
    return filled;
  dest = cageBuildFill(b, cageBuildConstantF32(b, 0.0f), dest);
  CageSliceIndex offsets[3], sizes[3];
  zeroOffsets(offsets, rank);
  toSliceSizes(sizes, valid, rank);
  return cageBuildInsertSlice(b, init, dest, offsets, sizes);
}

/* The columns [column, column + width) of the 2-D `source` of `rows`
 * rows. */
static MlirValue columnSlice(CageBuilder *b, MlirValue source, int64_t rows,
                             int64_t column, int64_t width) {
  CageSliceIndex offsets[2] = {{.constant = 0}, {.constant = column}};
  CageSliceIndex sizes[2] = {{.constant = rows}, {.constant = width}};
  int64_t shape[2] = {rows, width};
  return cageBuildExtractSlice(b, source, offsets, sizes,
                               cageCPUF32Tensor(b->context, 2, shape));
}

static MlirValue insertColumns(CageBuilder *b, MlirValue source, MlirValue dest,
                               int64_t rows, int64_t column, int64_t width) {
  CageSliceIndex offsets[2] = {{.constant = 0}, {.constant = column}};
  CageSliceIndex sizes[2] = {{.constant = rows}, {.constant = width}};
  return cageBuildInsertSlice(b, source, dest, offsets, sizes);
}

/* C = A·B with N not a multiple of the block's columns: the aligned
 * columns computed in C itself, the last ones into a zero-padded block of
 * their own and inserted, so that C is neither padded nor copied whole.
 * `a` is packed; `bv` is B packed to K x Np, or null when B is canonical
 * (read in place). */
static MlirValue splitColumns(CageBuilder *b, const CageContraction *c,
                              MlirValue a, MlirValue bv, int64_t columns) {
  int64_t n0 = c->n / columns * columns, r = c->n - n0;
  MlirValue bMain, bRest;
  if (mlirValueIsNull(bv)) {
    intptr_t order[2] = {c->kDim, c->nDim};
    int64_t valid[2] = {c->k, r}, used[2] = {c->k, columns};
    bMain = columnSlice(b, c->b, c->k, 0, n0);
    bRest = pack(b, columnSlice(b, c->b, c->k, n0, r), c->bMap, order, 2, valid,
                 used, used);
  } else {
    bMain = columnSlice(b, bv, c->k, 0, n0);
    bRest = columnSlice(b, bv, c->k, n0, columns);
  }
  int64_t valid[2] = {c->m, r}, full[2] = {c->m, columns};
  MlirValue cRest =
      padInit(b, columnSlice(b, c->init, c->m, n0, r), c->init, 2, valid, full);
  MlirAffineMap maps[3];
  canonicalMaps(b->context, maps);
  MlirValue main =
      cageBuildMatmul(b, a, bMain, columnSlice(b, c->init, c->m, 0, n0), maps);
  MlirValue rest =
      columnSlice(b, cageBuildMatmul(b, a, bRest, cRest, maps), c->m, 0, r);
  return insertColumns(b, rest, insertColumns(b, main, c->init, c->m, 0, n0),
                       c->m, n0, r);
}

/* A batched contraction is a parallel loop over the batch of 2-D matmuls
 * on slices of the packed operands: cage-cpu-tile-contractions then sees
 * the same matmuls as without a batch, and the batch is what the threads
 * share. */
typedef struct PerBatch {
  MlirValue a, b; /* [batch, m, k], [batch, k, n] */
  int64_t m, n, k;
} PerBatch;

static MlirValue batchSlice(CageBuilder *b, MlirValue source, MlirValue index,
                            int64_t rows, int64_t columns) {
  CageSliceIndex offsets[3] = {
      {.value = index}, {.constant = 0}, {.constant = 0}};
  CageSliceIndex sizes[3] = {
      {.constant = 1}, {.constant = rows}, {.constant = columns}};
  int64_t shape[2] = {rows, columns};
  return cageBuildExtractSlice(b, source, offsets, sizes,
                               cageCPUF32Tensor(b->context, 2, shape));
}

static bool perBatchBody(CageBuilder *body, MlirValue iv,
                         const MlirValue *sharedOuts, CageBuilder *inParallel,
                         void *userData) {
  const PerBatch *p = userData;
  MlirAffineMap maps[3];
  canonicalMaps(body->context, maps);
  MlirValue a = batchSlice(body, p->a, iv, p->m, p->k);
  MlirValue b = batchSlice(body, p->b, iv, p->k, p->n);
  MlirValue c = batchSlice(body, sharedOuts[0], iv, p->m, p->n);
  MlirValue product = cageBuildMatmul(body, a, b, c, maps);
  CageSliceIndex offsets[3] = {{.value = iv}, {.constant = 0}, {.constant = 0}};
  CageSliceIndex sizes[3] = {
      {.constant = 1}, {.constant = p->m}, {.constant = p->n}};
  return !mlirOperationIsNull(cageBuildParallelInsertSlice(
      inParallel, product, sharedOuts[0], offsets, sizes));
}

/* Whether the kernel would read a B stored K x N in rows a multiple of
 * ALIASING_ROW floats apart often enough to copy it into padded rows: the
 * K loop steps down a column panel of B, and rows 512 bytes apart share
 * L1 sets (on Zen 3 with AVX2, 1024-float rows read in place ran at
 * 0.64 x OpenBLAS, packed and padded ones at 0.75 x). */
static bool padAliasedB(const CageContraction *c, int64_t rows) {
  return c->n % ALIASING_ROW == 0 && c->m / rows >= ALIASED_B_MIN_READS;
}

/* Whether `op` is already a canonical linalg.matmul that needs no
 * padding. */
static bool isCanonical(const CageContraction *c, int64_t rows,
                        int64_t columns) {
  intptr_t aOrder[2] = {c->mDim, c->kDim}, bOrder[2] = {c->kDim, c->nDim};
  return cageOpIs(c->op, "linalg.matmul") && c->mDim == 0 && c->nDim == 1 &&
         c->kDim == 2 && inOrder(c->aMap, aOrder, 2) &&
         inOrder(c->bMap, bOrder, 2) && c->m % rows == 0 &&
         c->n % columns == 0 && !padAliasedB(c, rows);
}

static void eraseIfUnused(MlirValue v) {
  if (mlirValueIsNull(v) || !mlirValueIsAOpResult(v) ||
      !mlirOpOperandIsNull(mlirValueGetFirstUse(v)))
    return;
  MlirOperation producer = mlirOpResultGetOwner(v);
  if ((cageOpIs(producer, "linalg.generic") ||
       cageOpIs(producer, "linalg.fill")) &&
      mlirOperationGetNumResults(producer) == 1)
    mlirOperationDestroy(producer);
}

static void rewrite(const CageContraction *c, int64_t rows, int64_t columns) {
  CageBuilder b = cageBuilderDetached(mlirOperationGetLocation(c->op));
  intptr_t rank = c->batched ? 3 : 2;
  int64_t mp = roundUp(c->m, rows), np = roundUp(c->n, columns);

  /* A as [batch,] Mp x K. */
  intptr_t aOrder[3] = {c->batchDim, c->mDim, c->kDim};
  const intptr_t *ao = aOrder + !c->batched;
  int64_t aValid[3] = {c->batch, c->m, c->k}, aFull[3] = {c->batch, mp, c->k};
  MlirValue a = c->a;
  if (!inOrder(c->aMap, ao, rank) || mp != c->m)
    a = pack(&b, c->a, c->aMap, ao, rank, aValid + !c->batched,
             aFull + !c->batched, aFull + !c->batched);

  /* With N unaligned but at least one block wide, the last columns are
   * done apart (splitColumns). */
  bool split = !c->batched && mp == c->m && np != c->n && c->n > columns;

  /* B as [batch,] K x Np, in rows of ld floats when it is packed. */
  intptr_t bOrder[3] = {c->batchDim, c->kDim, c->nDim};
  const intptr_t *bo = bOrder + !c->batched;
  MlirValue bv = c->b;
  bool bCanonical = inOrder(c->bMap, bo, rank);
  if (!bCanonical || (np != c->n && !split) || padAliasedB(c, rows)) {
    int64_t ld = np % ALIASING_ROW == 0 ? np + PAD_FLOATS : np;
    int64_t bValid[3] = {c->batch, c->k, c->n}, bUsed[3] = {c->batch, c->k, np},
            bFull[3] = {c->batch, c->k, ld};
    bv = pack(&b, c->b, c->bMap, bo, rank, bValid + !c->batched,
              bUsed + !c->batched, bFull + !c->batched);
  }

  /* C as [batch,] Mp x Np. */
  int64_t cValid[3] = {c->batch, c->m, c->n}, cFull[3] = {c->batch, mp, np};
  bool padC = !split && (mp != c->m || np != c->n);
  MlirValue init = padC ? padInit(&b, c->init, c->init, rank,
                                  cValid + !c->batched, cFull + !c->batched)
                        : c->init;

  MlirAffineMap maps[3];
  canonicalMaps(b.context, maps);
  MlirValue product;
  if (split) {
    product =
        splitColumns(&b, c, a, bCanonical ? (MlirValue){NULL} : bv, columns);
  } else if (c->batched) {
    PerBatch perBatch = {.a = a, .b = bv, .m = mp, .n = np, .k = c->k};
    product = cageOperationGetResult(
        cageBuildForall(&b, cageBuildConstantIndex(&b, c->batch), &init, 1,
                        perBatchBody, &perBatch),
        0);
  } else {
    product = cageBuildMatmul(&b, a, bv, init, maps);
  }
  if (padC) {
    CageSliceIndex offsets[3], sizes[3];
    zeroOffsets(offsets, rank);
    toSliceSizes(sizes, cValid + !c->batched, rank);
    product = cageBuildExtractSlice(&b, product, offsets, sizes,
                                    mlirValueGetType(c->init));
  }
  cageBuilderMoveBefore(&b, c->op);
  mlirValueReplaceAllUsesOfWith(mlirOperationGetResult(c->op, 0), product);
  mlirOperationDestroy(c->op);
  /* Producers that the packing now computes and nothing else reads. */
  eraseIfUnused(mlirValueEqual(a, c->a) ? (MlirValue){NULL} : c->a);
  if (!mlirValueEqual(c->b, c->a))
    eraseIfUnused(mlirValueEqual(bv, c->b) ? (MlirValue){NULL} : c->b);
  /* The init's fill, when the padded init is a fill of its own. */
  eraseIfUnused(c->init);
}

static bool isContraction(MlirOperation op) {
  CageContraction c;
  return cageCPUAnalyzeContraction(op, &c);
}

static void run(MlirOperation module, const CagePassOptionValue *options,
                CagePassHandle pass) {
  int64_t width = options[kVectorWidth].i;
  if (!cageCPUVectorWidthIsValid(module, width, "cage-cpu-pack-contractions",
                                 pass))
    return;
  int64_t rows = cageCPUContractionBlockRows(width);
  int64_t columns = cageCPUContractionBlockColumns(width);
  /* linalg-fuse-elementwise-ops folds reshapes into the ops around them,
   * which turns a matmul between collapsed operands back into a generic of
   * several M or N loops, into which it then fuses the operands' producers:
   * take those out again, then bring the contraction back to one matmul. */
  cageCPUSplitFusedContractions(module);
  cageCPUNameBatchedContractions(module);
  CageOpList ops = cageCollectOpsWhere(module, isContraction);
  for (intptr_t i = 0; i < ops.size; ++i) {
    CageContraction c;
    /* K = 1 (an outer product) has no K loop for the kernel: left to the
     * generic path, unpacked. */
    if (cageCPUAnalyzeContraction(ops.ops[i], &c) && c.k > 1 &&
        !isCanonical(&c, rows, columns))
      rewrite(&c, rows, columns);
  }
  cageOpListDestroy(&ops);
}

static const CagePassOption options[] = {
    [kVectorWidth] = {"vector-width",
                      "Lanes of a vector register (f32), as for "
                      "cage-cpu-tile-contractions",
                      CagePassOptionInt,
                      {.i = 16}},
};

static MlirDialectHandle (*const dependentDialects[])(void) = {
    mlirGetDialectHandle__bufferization__, mlirGetDialectHandle__linalg__,
    mlirGetDialectHandle__tensor__};

const CagePassDefinition cageCPUPackContractionsPass = {
    .argument = "cage-cpu-pack-contractions",
    .name = "CageCPUPackContractions",
    .summary = "Put f32 contractions on static tensors in the canonical, "
               "padded layout of cage-cpu-tile-contractions, packing "
               "operands with linalg.generic copies",
    .anchorOp = "builtin.module",
    .options = options,
    .numOptions = sizeof options / sizeof options[0],
    .dependentDialects = dependentDialects,
    .numDependentDialects =
        sizeof dependentDialects / sizeof dependentDialects[0],
    .run = run,
};
