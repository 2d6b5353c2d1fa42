/*===- TileContractions.c - cage-cpu-tile-contractions --------------------===*\
|*                                                                            *|
|* Register- and cache-tiled code for the contractions that                  *|
|* cage-cpu-pack-contractions leaves in canonical form: linalg.matmul on     *|
|* buffers, f32, static shapes, default indexing maps (A is M x K, B is      *|
|* K x N, C is M x N, each with unit innermost stride), M a multiple of the  *|
|* register block's rows and N of its columns.                               *|
|*                                                                            *|
|* For each such op one transform-dialect sequence (docs/Passes.md):         *|
|*   - threads: an scf.forall over blocks of rows (of columns when the rows  *|
|*     are too few), unless the op already runs in a parallel loop (the     *|
|*     batch of a batched contraction);                                      *|
|*   - cache tiles of at most 64 rows x 256 columns x 256 of K;              *|
|*   - register tiles of R rows x 2 vectors (8 x 32 f32 for 16-lane          *|
|*     vectors: 16 accumulators) and one step of K, vectorized into a        *|
|*     vector.contract whose accumulator is hoisted out of the K loop and    *|
|*     lowered to outer-product FMAs: per step of K, R broadcasts of A, two  *|
|*     vector loads of B and 2R FMAs.                                        *|
|* Every tile size divides its extent, so no tile is partial and every      *|
|* vector is full: the pack pass pads M and N for that.                      *|
|* A C that a linalg.fill of +0.0 has just written is neither filled nor     *|
|* read: on the first cache tile of K the accumulators start from zeros in   *|
|* registers (Accumulators.c).                                               *|
|* Summation order: each C element is accumulated over K in order, in f32,   *|
|* with fused multiply-adds.                                                 *|
|*                                                                            *|
|* Ops that do not match are left to linalg-generalize-named-ops and         *|
|* cage-cpu-tile; an op the transform fails on (failures(suppress)) too.     *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#include "Passes.h"
#include "Script.h"

#include "IR/Ops.h"
#include "IR/Text.h"

#include "mlir-c/BuiltinAttributes.h"
#include "mlir-c/BuiltinTypes.h"
#include "mlir-c/Diagnostics.h"
#include "mlir-c/Dialect/Linalg.h"
#include "mlir-c/Dialect/MemRef.h"
#include "mlir-c/Dialect/SCF.h"
#include "mlir-c/Dialect/Transform.h"
#include "mlir-c/Dialect/Vector.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TAG "cage.cpu_contraction"
/* Contractions of fewer multiply-adds run on one thread: below it, waking
 * the second thread cost more than it saved (docs/Passes.md). */
#define MIN_PARALLEL_MACS (1 << 25)
/* Cache tiles: rows of A and C, columns of B and C, and steps of K. */
#define CACHE_ROWS 64
#define CACHE_COLUMNS 256
#define CACHE_DEPTH 256

enum { kVectorWidth, kThreads };

/* The register block of a vector width: two vectors per row, and as many
 * rows as leave registers for the two B vectors and an A broadcast: 8 rows
 * of 16 lanes, 16 of AVX-512's 32 registers; 6 rows of 8 lanes, 12 of
 * AVX2's 16 (BLIS's Haswell kernel's shape: 12 FMAs per 8 loads;
 * 4 rows ran 20-40 % slower on Zen 3, docs/Performance.md); 6 rows of 4
 * lanes for SSE and NEON. */
int64_t cageCPUContractionBlockRows(int64_t vectorWidth) {
  return vectorWidth >= 16 ? 8 : 6;
}

int64_t cageCPUContractionBlockColumns(int64_t vectorWidth) {
  return 2 * vectorWidth;
}

/*===----------------------------------------------------------------------===*
 * Matching
 *===----------------------------------------------------------------------===*/

/* The sizes of a canonical matmul. */
typedef struct Shape {
  int64_t m, n, k;
} Shape;

/* A static f32 memref of rank 2 whose innermost stride is 1; its sizes
 * into `sizes`. */
static bool unitStrideF32(MlirValue v, int64_t sizes[2]) {
  MlirType t = mlirValueGetType(v);
  if (!mlirTypeIsAMemRef(t) || !mlirShapedTypeHasStaticShape(t) ||
      mlirShapedTypeGetRank(t) != 2 ||
      !mlirTypeIsAF32(mlirShapedTypeGetElementType(t)))
    return false;
  int64_t strides[2], offset;
  if (mlirLogicalResultIsFailure(
          mlirMemRefTypeGetStridesAndOffset(t, strides, &offset)) ||
      strides[1] != 1)
    return false;
  sizes[0] = mlirShapedTypeGetDimSize(t, 0);
  sizes[1] = mlirShapedTypeGetDimSize(t, 1);
  return true;
}

static bool defaultMaps(MlirOperation op) {
  MlirAttribute expected =
      mlirAttributeParseGet(mlirOperationGetContext(op),
                            cageStr("[affine_map<(d0, d1, d2) -> (d0, d2)>, "
                                    "affine_map<(d0, d1, d2) -> (d2, d1)>, "
                                    "affine_map<(d0, d1, d2) -> (d0, d1)>]"));
  return mlirAttributeEqual(mlirLinalgGetIndexingMapsAttribute(op), expected);
}

static bool matchShape(MlirOperation op, int64_t rows, int64_t columns,
                       Shape *s) {
  if (!cageOpIs(op, "linalg.matmul") || mlirOperationGetNumOperands(op) != 3 ||
      mlirOperationGetNumResults(op) != 0 || !defaultMaps(op))
    return false;
  int64_t a[2], b[2], c[2];
  if (!unitStrideF32(mlirOperationGetOperand(op, 0), a) ||
      !unitStrideF32(mlirOperationGetOperand(op, 1), b) ||
      !unitStrideF32(mlirOperationGetOperand(op, 2), c))
    return false;
  *s = (Shape){.m = c[0], .n = c[1], .k = a[1]};
  /* K = 1 is an outer product, with no K loop to carry accumulators. */
  return s->k > 1 && s->m > 0 && s->m % rows == 0 && s->n > 0 &&
         s->n % columns == 0;
}

/* The buffer that `v` is a view of (`v` itself when it is none). */
static MlirValue viewedBuffer(MlirValue v) {
  for (MlirOperation def = cageDefiningOp(v);
       !mlirOperationIsNull(def) && cageCPUIsMemRefView(def);
       def = cageDefiningOp(v))
    v = mlirOperationGetOperand(def, 0);
  return v;
}

typedef struct BufferUse {
  MlirValue buffer;
  bool used;
} BufferUse;

static MlirWalkResult findBufferUse(MlirOperation op, void *userData) {
  BufferUse *use = userData;
  for (intptr_t i = 0; i < mlirOperationGetNumOperands(op); ++i) {
    MlirValue v = mlirOperationGetOperand(op, i);
    if (mlirTypeIsAMemRef(mlirValueGetType(v)) &&
        mlirValueEqual(viewedBuffer(v), use->buffer)) {
      use->used = true;
      return MlirWalkResultInterrupt;
    }
  }
  return MlirWalkResultAdvance;
}

static bool isPositiveZero(MlirValue v) {
  double x;
  return cageConstantFloatValue(v, &x) && x == 0.0 && !signbit(x);
}

/* The buffer that `v` is all of, seen through reshapes (expand_shape,
 * collapse_shape, cast: views of every element); null when `v` is part of
 * a buffer (a subview, say). */
static MlirValue wholeBuffer(MlirValue v) {
  for (MlirOperation def = cageDefiningOp(v); !mlirOperationIsNull(def);
       def = cageDefiningOp(v)) {
    if (cageOpIs(def, "memref.alloc"))
      return v;
    if (!cageOpIs(def, "memref.expand_shape") &&
        !cageOpIs(def, "memref.collapse_shape") &&
        !cageOpIs(def, "memref.cast"))
      break;
    v = mlirOperationGetOperand(def, 0);
  }
  return (MlirValue){NULL};
}

/* Whether `op` is a linalg.fill of +0.0 of `target` when that is non-null,
 * else of all of `buffer`. */
static bool isZeroFillOf(MlirOperation op, MlirValue buffer, MlirValue target) {
  if (!cageOpIs(op, "linalg.fill") || mlirOperationGetNumOperands(op) != 2 ||
      !isPositiveZero(mlirOperationGetOperand(op, 0)))
    return false;
  MlirValue filled = mlirOperationGetOperand(op, 1);
  if (!mlirValueIsNull(target))
    return mlirValueEqual(filled, target);
  filled = wholeBuffer(filled);
  return !mlirValueIsNull(filled) && mlirValueEqual(filled, buffer);
}

/* The i64 array attribute `name` of `op` equals `values` (`n` of them). */
static bool arrayIs(MlirOperation op, const char *name, const int64_t *values,
                    intptr_t n) {
  MlirAttribute a = cageOpAttribute(op, name);
  if (mlirAttributeIsNull(a) || !mlirAttributeIsADenseI64Array(a) ||
      mlirDenseArrayGetNumElements(a) != n)
    return false;
  for (intptr_t i = 0; i < n; ++i)
    if (mlirDenseI64ArrayGetElement(a, i) != values[i])
      return false;
  return true;
}

/* The buffer of all batches when `matmul` computes one: C is the subview
 * [iv, 0, 0] [1, M, N] [1, 1, 1] of all of a buffer of [B, M, N], in an
 * scf.forall whose one induction variable iv runs over 0 .. B by 1, so
 * that its iterations write the whole buffer (the form of
 * cage-cpu-pack-contractions' batched products). Null otherwise. */
static MlirValue batchesBuffer(MlirOperation matmul) {
  MlirOperation subview = cageDefiningOp(mlirOperationGetOperand(matmul, 2));
  MlirOperation forall = mlirOperationGetParentOperation(matmul);
  if (mlirOperationIsNull(subview) || !cageOpIs(subview, "memref.subview") ||
      mlirOperationGetNumOperands(subview) != 2 ||
      !cageOpIs(forall, "scf.forall") ||
      mlirOperationGetNumOperands(forall) != 0)
    return (MlirValue){NULL};
  MlirValue whole = mlirOperationGetOperand(subview, 0);
  MlirType type = mlirValueGetType(whole);
  MlirBlock body = mlirRegionGetFirstBlock(mlirOperationGetRegion(forall, 0));
  if (mlirShapedTypeGetRank(type) != 3 || mlirBlockGetNumArguments(body) != 1 ||
      !mlirValueEqual(mlirOperationGetOperand(subview, 1),
                      mlirBlockGetArgument(body, 0)))
    return (MlirValue){NULL};
  int64_t batches = mlirShapedTypeGetDimSize(type, 0), zero = 0, one = 1;
  int64_t offsets[3] = {mlirShapedTypeGetDynamicStrideOrOffset(), 0, 0};
  int64_t sizes[3] = {1, mlirShapedTypeGetDimSize(type, 1),
                      mlirShapedTypeGetDimSize(type, 2)};
  int64_t strides[3] = {1, 1, 1};
  if (!arrayIs(subview, "static_offsets", offsets, 3) ||
      !arrayIs(subview, "static_sizes", sizes, 3) ||
      !arrayIs(subview, "static_strides", strides, 3) ||
      !arrayIs(forall, "staticLowerBound", &zero, 1) ||
      !arrayIs(forall, "staticUpperBound", &batches, 1) ||
      !arrayIs(forall, "staticStep", &one, 1))
    return (MlirValue){NULL};
  return wholeBuffer(whole);
}

/* Whether `op` (or an op in it) may read or write `buffer`: it uses the
 * buffer or a view of it, and is not itself a view (which accesses
 * nothing). */
static bool usesBuffer(MlirOperation op, MlirValue buffer) {
  if (cageCPUIsMemRefView(op))
    return false;
  BufferUse use = {.buffer = buffer};
  mlirOperationWalk(op, findBufferUse, &use, MlirWalkPreOrder);
  return use.used;
}

/* Whether an op of `op`'s block before it uses `buffer`. */
static bool usedBefore(MlirOperation op, MlirValue buffer) {
  for (MlirOperation p = mlirBlockGetFirstOperation(mlirOperationGetBlock(op));
       !mlirOperationEqual(p, op); p = mlirOperationGetNextInBlock(p))
    if (usesBuffer(p, buffer))
      return true;
  return false;
}

/* The linalg.fill of +0.0 of `op`'s block that wrote `target` (all of
 * `buffer` when `target` is null) last before `op`, if no op between them
 * but views uses `buffer`; else null. */
static MlirOperation lastZeroFill(MlirOperation op, MlirValue buffer,
                                  MlirValue target) {
  MlirOperation fill = {NULL};
  for (MlirOperation p = mlirBlockGetFirstOperation(mlirOperationGetBlock(op));
       !mlirOperationEqual(p, op); p = mlirOperationGetNextInBlock(p)) {
    if (isZeroFillOf(p, buffer, target))
      fill = p;
    else if (usesBuffer(p, buffer))
      fill = (MlirOperation){NULL};
  }
  return fill;
}

/* The linalg.fill of +0.0 that wrote the C of `matmul` last, else null. C
 * and the fill's target must each be all of one buffer of this function (a
 * memref.alloc, which nothing but its SSA uses reaches; seen through
 * reshapes), with no op between the two but views using that buffer; or
 * C one batch of that buffer, the matmul in an scf.forall over all of its
 * batches (batchesBuffer) that uses it before the matmul only through
 * views, and the fill before the forall; or the fill's target C itself, a
 * view of such a buffer, in the matmul's block with no op between but
 * views using the buffer (the batched products that
 * cage-cpu-name-contractions makes a loop over slices fill each slice of C
 * just before its product). Starting the accumulators from +0.0 in
 * registers then gives the same bits as reading the filled C, and the
 * matmul writes all that the fill wrote. */
static MlirOperation zeroFillOf(MlirOperation matmul) {
  MlirValue c = mlirOperationGetOperand(matmul, 2);
  MlirValue buffer = wholeBuffer(c);
  if (!mlirValueIsNull(buffer))
    return lastZeroFill(matmul, buffer, (MlirValue){NULL});
  buffer = wholeBuffer(viewedBuffer(c));
  if (!mlirValueIsNull(buffer)) {
    MlirOperation fill = lastZeroFill(matmul, buffer, c);
    if (!mlirOperationIsNull(fill))
      return fill;
  }
  buffer = batchesBuffer(matmul);
  if (mlirValueIsNull(buffer) || usedBefore(matmul, buffer))
    return (MlirOperation){NULL};
  return lastZeroFill(mlirOperationGetParentOperation(matmul), buffer,
                      (MlirValue){NULL});
}

/*===----------------------------------------------------------------------===*
 * Plans
 *===----------------------------------------------------------------------===*/

/* Tile sizes of the loops (m, n, k); 0 leaves a loop untiled. */
typedef struct Plan {
  bool forall;
  int64_t forallTiles[3], cacheTiles[3], registerTiles[3];
  /* Whether C's zero fill goes (see zeroFillOf). */
  bool zeroInit;
} Plan;

/* The largest multiple of `step` that divides `extent` and is at most
 * `cap` (`step` itself when none is larger); `step` divides `extent`. */
static int64_t largestDividingMultiple(int64_t extent, int64_t step,
                                       int64_t cap) {
  int64_t best = step;
  for (int64_t t = step; t <= extent && t <= cap; t += step)
    if (extent % t == 0)
      best = t;
  return best;
}

/* The K tile: all of K when it is short; else its largest divisor up to
 * CACHE_DEPTH, unless that is so small that loading and storing the
 * accumulators would cost more than a B tile that spills out of cache. */
static int64_t depthTile(int64_t k) {
  if (k <= 3 * CACHE_DEPTH / 2)
    return k;
  int64_t t = largestDividingMultiple(k, 1, CACHE_DEPTH);
  return t >= CACHE_DEPTH / 4 ? t : k;
}

enum { M, N, K };

static void makePlan(const Shape *s, int64_t rows, int64_t columns,
                     bool threads, Plan *p) {
  *p = (Plan){.forall = false};
  int64_t extent[3] = {s->m, s->n, s->k};
  /* Threads: blocks of rows, else blocks of columns. */
  if (threads && (double)s->m * s->n * s->k >= MIN_PARALLEL_MACS) {
    int64_t rowBlock = largestDividingMultiple(
        s->m, rows, s->m / 4 > CACHE_ROWS ? s->m / 4 : CACHE_ROWS);
    if (s->m / rowBlock >= 2) {
      p->forallTiles[M] = rowBlock;
    } else if (s->n >= 2 * columns) {
      int64_t columnBlock =
          largestDividingMultiple(s->n, columns, CACHE_COLUMNS);
      if (s->n / columnBlock < 2)
        columnBlock = largestDividingMultiple(s->n, columns, s->n / 2);
      p->forallTiles[N] = columnBlock;
    }
    for (int d = 0; d < 3; ++d)
      if (p->forallTiles[d]) {
        p->forall = true;
        extent[d] = p->forallTiles[d];
      }
  }
  /* Rows are not cache-tiled: the register loop over all rows of the
   * thread's block runs inside the column and depth tiles, so each
   * Kc x Nc tile of B is loaded into L2 once and used for all of them (a
   * block of rows outside would reload all of B for each block). */
  int64_t cache[3] = {
      extent[M], largestDividingMultiple(extent[N], columns, CACHE_COLUMNS),
      depthTile(extent[K])};
  for (int d = 0; d < 3; ++d) {
    p->cacheTiles[d] = cache[d] < extent[d] ? cache[d] : 0;
    extent[d] = cache[d];
  }
  int64_t reg[3] = {rows, columns, 1};
  for (int d = 0; d < 3; ++d)
    p->registerTiles[d] = reg[d] < extent[d] ? reg[d] : 0;
}

/*===----------------------------------------------------------------------===*
 * The transform script
 *===----------------------------------------------------------------------===*/

static intptr_t countLoops(const int64_t *tiles, intptr_t rank) {
  intptr_t n = 0;
  for (intptr_t d = 0; d < rank; ++d)
    n += tiles[d] != 0;
  return n;
}

/* `%out, %name:N = transform.structured.tile_using_for %in tile_sizes ...`;
 * false (nothing written) when no loop is tiled. */
static bool emitTileUsingFor(CageScript *s, const char *out, const char *in,
                             const char *loops, const int64_t *tiles,
                             intptr_t rank) {
  intptr_t n = countLoops(tiles, rank);
  if (n == 0)
    return false;
  cageScriptPrintf(s, "        %s, %s%s", out, loops, n > 1 ? ":" : "");
  if (n > 1)
    cageScriptPrintf(s, "%lld", (long long)n);
  cageScriptPrintf(s, " = transform.structured.tile_using_for %s tile_sizes ",
                   in);
  cageScriptSizes(s, tiles, rank);
  cageScriptPrintf(s, " : (!transform.any_op) -> (");
  cageScriptAnyOps(s, 1 + n);
  cageScriptPrintf(s, ")\n");
  return true;
}

static void emitOp(CageScript *s, int index, const Plan *p) {
  cageScriptPrintf(s,
                   "    %%c%d = transform.structured.match attributes {" TAG
                   " = %d : i64} in %%root : (!transform.any_op) -> "
                   "!transform.any_op\n"
                   "    transform.foreach %%c%d : !transform.any_op {\n"
                   "    ^bb0(%%op: !transform.any_op):\n"
                   "      transform.sequence %%op : !transform.any_op "
                   "failures(suppress) {\n"
                   "      ^bb1(%%t0: !transform.any_op):\n",
                   index, index, index);
  const char *current = "%t0";
  if (p->forall) {
    cageScriptPrintf(s, "        %%t1, %%forall = "
                        "transform.structured.tile_using_forall %%t0 "
                        "tile_sizes ");
    cageScriptSizes(s, p->forallTiles, 3);
    cageScriptPrintf(s, " : (!transform.any_op) -> (!transform.any_op, "
                        "!transform.any_op)\n");
    current = "%t1";
  }
  if (emitTileUsingFor(s, "%t2", current, "%cache", p->cacheTiles, 3))
    current = "%t2";
  if (p->zeroInit)
    cageScriptPrintf(s,
                     "        %%zero = transform.param.constant %d : i64 -> "
                     "!transform.param<i64>\n",
                     index);
  if (p->zeroInit && p->cacheTiles[K] != 0) {
    /* The loop over K's cache tiles is the last cache loop. */
    intptr_t cacheLoops = countLoops(p->cacheTiles, 3);
    char depthLoop[32];
    snprintf(depthLoop, sizeof depthLoop,
             cacheLoops > 1 ? "%%cache#%lld" : "%%cache",
             (long long)(cacheLoops - 1));
    cageScriptPrintf(s,
                     "        transform.annotate %s \"" CAGE_CPU_DEPTH_LOOP
                     "\" = %%zero : !transform.any_op, "
                     "!transform.param<i64>\n",
                     depthLoop);
  }
  intptr_t registerLoops = countLoops(p->registerTiles, 3);
  if (emitTileUsingFor(s, "%t3", current, "%reg", p->registerTiles, 3))
    current = "%t3";
  cageScriptPrintf(s,
                   "        transform.structured.vectorize %s : "
                   "!transform.any_op\n",
                   current);
  /* A vectorized tile reads A by broadcasts and multiplies, then reduces:
   * make that one vector.contract, fold the per-iteration subviews into the
   * transfers, and hoist what does not depend on K out of the K loop so
   * that the accumulator transfers become loop-invariant. */
  if (registerLoops > 0 && p->registerTiles[K] != 0) {
    cageScriptPrintf(
        s,
        "        %%f = transform.get_parent_op %s {op_name = \"func.func\"} "
        ": (!transform.any_op) -> !transform.any_op\n"
        "        transform.apply_patterns to %%f {\n"
        "          transform.apply_patterns.vector.transfer_permutation_"
        "patterns\n"
        "          transform.apply_patterns.vector.reduction_to_contract\n"
        "          transform.apply_patterns.vector.cast_away_vector_leading_"
        "one_dim\n"
        "          transform.apply_patterns.memref.fold_memref_alias_ops\n"
        "          transform.apply_patterns.canonicalization\n"
        "        } : !transform.any_op\n",
        registerLoops > 1 ? "%reg#0" : "%reg");
    char kLoop[32];
    snprintf(kLoop, sizeof kLoop, registerLoops > 1 ? "%%reg#%lld" : "%%reg",
             (long long)(registerLoops - 1));
    cageScriptPrintf(
        s,
        "        transform.apply_licm to %s : "
        "!transform.any_op\n"
        "        transform.apply_cse to %%f : !transform.any_op\n"
        "        transform.annotate %s \"" CAGE_CPU_ACCUMULATOR_LOOP
        "\" : !transform.any_op\n",
        kLoop, kLoop);
    if (p->zeroInit)
      cageScriptPrintf(s,
                       "        transform.annotate %s \"%s\" = %%zero : "
                       "!transform.any_op, !transform.param<i64>\n",
                       kLoop,
                       p->cacheTiles[K] != 0 ? CAGE_CPU_ZERO_FIRST_DEPTH_TILE
                                             : CAGE_CPU_ZERO_ACCUMULATORS);
  }
  cageScriptPrintf(s, "        transform.yield\n"
                      "      }\n"
                      "      transform.yield\n"
                      "    }\n");
}

/* After the accumulators are hoisted (Accumulators.c): the contractions
 * lowered to outer products and FMAs, and transfers to 1-D loads and
 * stores. */
static void emitLowering(CageScript *s) {
  cageScriptPrintf(
      s, "module attributes {transform.with_named_sequence} {\n"
         "  transform.named_sequence @__cage_cpu_lower_contractions("
         "%%root: !transform.any_op {transform.readonly}) {\n"
         "    %%funcs = transform.structured.match ops{[\"func.func\"]} in "
         "%%root : (!transform.any_op) -> !transform.any_op\n"
         "    transform.apply_patterns to %%funcs {\n"
         "      transform.apply_patterns.vector.lower_contraction "
         "lowering_strategy = \"outerproduct\"\n"
         "      transform.apply_patterns.vector.lower_outerproduct\n"
         "      transform.apply_patterns.vector.transfer_permutation_patterns\n"
         "      transform.apply_patterns.vector.transfer_to_scf "
         "max_transfer_rank = 1 full_unroll = true\n"
         "      transform.apply_patterns.vector.lower_transfer "
         "max_transfer_rank = 1\n"
         "      transform.apply_patterns.vector.lower_shape_cast\n"
         "      transform.apply_patterns.vector.lower_transpose "
         "lowering_strategy = \"shuffle_16x16\"\n"
         "      transform.apply_patterns.vector.lower_broadcast\n"
         "      transform.apply_patterns.canonicalization\n"
         "    } : !transform.any_op\n"
         "    transform.yield\n"
         "  }\n"
         "}\n");
}

/*===----------------------------------------------------------------------===*
 * The pass
 *===----------------------------------------------------------------------===*/

typedef struct State {
  int64_t rows, columns;
  bool threads;
  CageScript script;
  int count;
} State;

static void setIndex(MlirOperation op, const char *name, int index) {
  mlirOperationSetDiscardableAttributeByName(
      op, cageStr(name),
      mlirIntegerAttrGet(mlirIntegerTypeGet(mlirOperationGetContext(op), 64),
                         index));
}

static MlirWalkResult planOp(MlirOperation op, void *userData) {
  State *state = userData;
  Shape shape;
  if (!matchShape(op, state->rows, state->columns, &shape))
    return MlirWalkResultAdvance;
  Plan plan;
  makePlan(&shape, state->rows, state->columns,
           state->threads && !cageCPUInsideParallelLoop(op), &plan);
  int index = state->count++;
  MlirOperation fill = zeroFillOf(op);
  plan.zeroInit = !mlirOperationIsNull(fill);
  if (plan.zeroInit)
    setIndex(fill, CAGE_CPU_ZERO_FILL, index);
  setIndex(op, TAG, index);
  emitOp(&state->script, index, &plan);
  return MlirWalkResultSkip;
}

static MlirWalkResult untag(MlirOperation op, void *userData) {
  (void)userData;
  mlirOperationRemoveDiscardableAttributeByName(op, cageStr(TAG));
  return MlirWalkResultAdvance;
}

static void run(MlirOperation module, const CagePassOptionValue *options,
                CagePassHandle pass) {
  int64_t width = options[kVectorWidth].i;
  if (!cageCPUVectorWidthIsValid(module, width, "cage-cpu-tile-contractions",
                                 pass))
    return;
  State state = {.rows = cageCPUContractionBlockRows(width),
                 .columns = cageCPUContractionBlockColumns(width),
                 .threads = options[kThreads].b};
  cageScriptPrintf(&state.script,
                   "module attributes {transform.with_named_sequence} {\n"
                   "  transform.named_sequence @__cage_cpu_tile_contractions("
                   "%%root: !transform.any_op {transform.readonly}) {\n");
  mlirOperationWalk(module, planOp, &state, MlirWalkPreOrder);
  if (state.count == 0) {
    free(state.script.data);
    return;
  }
  cageScriptPrintf(&state.script, "    transform.yield\n  }\n}\n");
  bool tiled = cageScriptApply(&state.script, module,
                               "cage-cpu-tile-contractions", pass);
  mlirOperationWalk(module, untag, NULL, MlirWalkPostOrder);
  if (!tiled)
    return; /* the pass has failed, saying why */
  cageCPUHoistAccumulators(module);
  CageScript lowering = {0};
  emitLowering(&lowering);
  cageScriptApply(&lowering, module, "cage-cpu-tile-contractions", pass);
}

static const CagePassOption options[] = {
    [kVectorWidth] = {"vector-width",
                      "Lanes of a vector register (f32): the register block "
                      "is two vectors wide",
                      CagePassOptionInt,
                      {.i = 16}},
    [kThreads] = {"threads",
                  "Split each contraction among threads with scf.forall",
                  CagePassOptionBool,
                  {.b = true}},
};

static MlirDialectHandle (*const dependentDialects[])(void) = {
    mlirGetDialectHandle__linalg__, mlirGetDialectHandle__memref__,
    mlirGetDialectHandle__scf__,    mlirGetDialectHandle__transform__,
    mlirGetDialectHandle__vector__,
};

const CagePassDefinition cageCPUTileContractionsPass = {
    .argument = "cage-cpu-tile-contractions",
    .name = "CageCPUTileContractions",
    .summary = "Tile canonical linalg.matmul ops on buffers for threads, "
               "caches and a register block of FMAs (transform dialect)",
    .anchorOp = "builtin.module",
    .options = options,
    .numOptions = sizeof options / sizeof options[0],
    .dependentDialects = dependentDialects,
    .numDependentDialects =
        sizeof dependentDialects / sizeof dependentDialects[0],
    .run = run,
};
