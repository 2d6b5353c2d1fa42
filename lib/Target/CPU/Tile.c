/*===- Tile.c - cage-cpu-tile: threads and vectors for linalg ops ---------===*\
|*                                                                            *|
|* Runs on bufferized IR. Each linalg.generic gets a plan from its iterator  *|
|* types and static loop sizes:                                              *|
|*                                                                            *|
|*  - threads: the outermost loop, when parallel, becomes an scf.forall      *|
|*    (tile 1 for rank >= 2, chunks of 64 vectors for rank 1), later         *|
|*    scf.parallel and an OpenMP worksharing loop; not for small static      *|
|*    ops, nor inside loops that are already parallel;                       *|
|*  - vectors: when the innermost loop is parallel, the other loops are      *|
|*    tiled by 1 (in order, so reductions keep their order and results stay  *|
|*    bit-exact), the innermost by the vector width, and the tile is         *|
|*    vectorized with masks (dynamic sizes, remainders);                     *|
|*  - row reductions (innermost loop a reduction, static multiples of the   *|
|*    width) get square tiles, a vector lane per row, the reduction          *|
|*    transposed in registers and added column after column: each row       *|
|*    keeps its order;                                                       *|
|*  - other ops whose innermost loop is a reduction stay loops: LLVM's loop  *|
|*    vectorizer keeps vector accumulators where that is exact (max, min,    *|
|*    integers) and leaves ordered float sums scalar. Measured in            *|
|*    docs/Passes.md: a row max ran 4.7x faster that way than with per-      *|
|*    vector horizontal reductions.                                          *|
|*                                                                            *|
|* Ops with equal plans form a class; each class is tagged with a            *|
|* discardable attribute, and one generated transform-dialect script tiles   *|
|* and vectorizes every class (mlirTransformApplyNamedSequence). An op the   *|
|* vectorizer rejects stays tiled loops (failures(suppress)).                *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#include "Passes.h"
#include "Script.h"

#include "IR/Ops.h"
#include "IR/Text.h"

#include "mlir-c/AffineExpr.h"
#include "mlir-c/AffineMap.h"
#include "mlir-c/BuiltinAttributes.h"
#include "mlir-c/BuiltinTypes.h"
#include "mlir-c/Diagnostics.h"
#include "mlir-c/Dialect/Arith.h"
#include "mlir-c/Dialect/Linalg.h"
#include "mlir-c/Dialect/MemRef.h"
#include "mlir-c/Dialect/SCF.h"
#include "mlir-c/Dialect/Tensor.h"
#include "mlir-c/Dialect/Transform.h"
#include "mlir-c/Dialect/Vector.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TAG "cage.cpu_tile"
/* Static iteration spaces smaller than this run on one thread: a parallel
 * region costs tens of microseconds to open on a paravirtualized machine,
 * more than a copy of 2^16 elements takes on one thread. */
#define MIN_PARALLEL_WORK (1 << 17)
/* Rank-1 ops are split among threads in chunks of this many vectors. */
#define CHUNK_VECTORS 64

enum { kVectorize, kVectorWidth, kThreads };

/*===----------------------------------------------------------------------===*
 * Plans
 *===----------------------------------------------------------------------===*/

/* The three size arrays have `rank` entries each, in one allocation that
 * forallSizes points to (planFree). */
typedef struct Plan {
  intptr_t rank;
  bool forall; /* tile for threads with forallSizes */
  int64_t *forallSizes;
  intptr_t numLoops; /* non-zero entries of forSizes */
  int64_t *forSizes;
  bool vectorize; /* vectorize the tile with vectorSizes */
  int64_t *vectorSizes;
  bool transposition; /* square tiles, transposed in registers */
  bool rowReduction;  /* square tiles, a lane per row: sums in order */
} Plan;

static void planFree(Plan *plan) { free(plan->forallSizes); }

typedef struct TileState {
  bool vectorize;
  int64_t width;
  bool threads;
  MlirAttribute parallel; /* #linalg.iterator_type<parallel> */
  Plan *classes;          /* one plan per class of ops, owned */
  int numClasses, capacity;
  bool failed; /* out of memory */
} TileState;

static void freeClasses(TileState *state) {
  for (int k = 0; k < state->numClasses; ++k)
    planFree(&state->classes[k]);
  free(state->classes);
}

/* Whether `op` is nested in a loop that already runs in parallel. */
bool cageCPUInsideParallelLoop(MlirOperation op) {
  for (MlirOperation p = mlirOperationGetParentOperation(op);
       !mlirOperationIsNull(p); p = mlirOperationGetParentOperation(p)) {
    MlirStringRef name = mlirIdentifierStr(mlirOperationGetName(p));
    if (cageOpIs(p, "scf.forall") || cageOpIs(p, "scf.parallel") ||
        (name.length > 4 && strncmp(name.data, "omp.", 4) == 0))
      return true;
  }
  return false;
}

/* Element types the vectorizer handles in memory: i1 vectors are bit-packed
 * in LLVM while i1 memrefs hold a byte per element. */
static bool vectorizableElementType(MlirType t) {
  if (mlirTypeIsAInteger(t))
    return mlirIntegerTypeGetWidth(t) % 8 == 0;
  return true;
}

/* Static loop sizes (-1: unknown) from the operand shapes and maps; false if
 * the op is not a plain linalg.generic. */
static bool loopSizes(MlirOperation op, intptr_t rank, int64_t *sizes,
                      bool *vectorizableTypes) {
  for (intptr_t d = 0; d < rank; ++d)
    sizes[d] = -1;
  *vectorizableTypes = true;
  MlirAttribute maps =
      mlirOperationGetInherentAttributeByName(op, cageStr("indexing_maps"));
  intptr_t numOperands = mlirOperationGetNumOperands(op);
  if (mlirAttributeIsNull(maps) || !mlirAttributeIsAArray(maps) ||
      mlirArrayAttrGetNumElements(maps) != numOperands)
    return false;
  for (intptr_t i = 0; i < numOperands; ++i) {
    MlirType type = mlirValueGetType(mlirOperationGetOperand(op, i));
    if (!mlirTypeIsAShaped(type) || !mlirShapedTypeHasRank(type))
      continue;
    if (!vectorizableElementType(mlirShapedTypeGetElementType(type)))
      *vectorizableTypes = false;
    MlirAttribute mapAttr = mlirArrayAttrGetElement(maps, i);
    if (!mlirAttributeIsAAffineMap(mapAttr))
      return false;
    MlirAffineMap map = mlirAffineMapAttrGetValue(mapAttr);
    intptr_t numResults = mlirAffineMapGetNumResults(map);
    if (numResults != mlirShapedTypeGetRank(type))
      return false;
    for (intptr_t r = 0; r < numResults; ++r) {
      MlirAffineExpr e = mlirAffineMapGetResult(map, r);
      if (!mlirAffineExprIsADim(e) || mlirShapedTypeIsDynamicDim(type, r))
        continue;
      intptr_t pos = mlirAffineDimExprGetPosition(e);
      if (pos >= 0 && pos < rank)
        sizes[pos] = mlirShapedTypeGetDimSize(type, r);
    }
  }
  return true;
}

static bool isDim(MlirAffineExpr e, intptr_t dim) {
  return mlirAffineExprIsADim(e) && mlirAffineDimExprGetPosition(e) == dim;
}

/* Whether an operand of the linalg.generic `op` of `rank` >= 2 loops is
 * read or written across its two innermost loops in swapped order: its two
 * innermost dimensions are the last loop then the next-to-last one (a row
 * broadcast, which lacks the last loop, is not). When the last loop is an
 * outer dimension of the operand instead ([k, g, e] read over loops
 * (g, e, k)), the tile's transfer keeps a unit dimension between the
 * swapped ones: MLIR 22 then finds no permutation lowering for it and its
 * vector-to-scf lowering indexes the mask in the vector's order rather than
 * the memref's, an out-of-bounds extract that LLVM treats as undefined (the
 * whole function folded to its error path). Such an op keeps one-row tiles. */
static bool transposes(MlirOperation op, intptr_t rank) {
  if (rank < 2)
    return false;
  MlirAttribute maps =
      mlirOperationGetInherentAttributeByName(op, cageStr("indexing_maps"));
  bool any = false;
  for (intptr_t i = 0; i < mlirArrayAttrGetNumElements(maps); ++i) {
    MlirAffineMap map =
        mlirAffineMapAttrGetValue(mlirArrayAttrGetElement(maps, i));
    intptr_t n = mlirAffineMapGetNumResults(map);
    if (n < 2 || !isDim(mlirAffineMapGetResult(map, n - 1), rank - 2))
      continue;
    for (intptr_t r = 0; r + 1 < n; ++r) {
      if (!isDim(mlirAffineMapGetResult(map, r), rank - 1))
        continue;
      if (r != n - 2)
        return false;
      any = true;
    }
  }
  return any;
}

/* Whether a static loop of `size` iterations is a whole number of vectors
 * of `width` lanes (no mask needed). */
static bool wholeVectors(int64_t size, int64_t width) {
  return size > 0 && size % width == 0;
}

/* The plan of a linalg.generic of `rank` loops, into `plan` whose arrays
 * are allocated and zeroed; `parallel` and `sizes` have room for `rank`
 * entries. False if the op is left alone. */
static bool fillPlan(const TileState *state, MlirOperation op,
                     MlirAttribute iterators, intptr_t rank, bool *parallel,
                     int64_t *sizes, Plan *plan) {
  for (intptr_t d = 0; d < rank; ++d)
    parallel[d] = mlirAttributeEqual(mlirArrayAttrGetElement(iterators, d),
                                     state->parallel);
  bool vectorTypes;
  if (!loopSizes(op, rank, sizes, &vectorTypes))
    return false;
  int64_t work = 1;
  bool allStatic = true;
  for (intptr_t d = 0; d < rank; ++d) {
    if (sizes[d] == 0)
      return false; /* empty: nothing to run */
    if (sizes[d] < 0)
      allStatic = false;
    else if (work < MIN_PARALLEL_WORK &&
             __builtin_mul_overflow(work, sizes[d], &work))
      work = MIN_PARALLEL_WORK; /* saturate: only work < it is asked */
  }

  intptr_t last = rank - 1;
  int64_t width = state->width;
  int64_t chunk = CHUNK_VECTORS * width;
  plan->forall = state->threads && parallel[0] &&
                 !cageCPUInsideParallelLoop(op) &&
                 !(allStatic && work < MIN_PARALLEL_WORK) &&
                 !(rank == 1 && sizes[0] > 0 && sizes[0] <= chunk);
  if (plan->forall)
    plan->forallSizes[0] = rank == 1 ? chunk : 1;

  /* A reduction along the innermost loop of rows that the loop before it
   * indexes (softmax's sum, LayerNorm's moments, cross-entropy's
   * log-sum-exp) gets square tiles too, a vector lane per row: the tile's
   * vector.multi_reduction, lowered "innerparallel", transposes it in
   * registers and adds its columns one after the other, so every row is
   * still summed in index order (bit for bit the scalar loop) while the
   * body around the sum (an exp) runs on whole vectors. Static sizes that
   * are multiples of the vector width only: no masks in the reduction. */
  bool outerParallel = true;
  for (intptr_t d = 0; d < last; ++d)
    outerParallel &= parallel[d];
  plan->rowReduction = state->vectorize && vectorTypes && rank >= 2 &&
                       !parallel[last] && outerParallel &&
                       wholeVectors(sizes[last], width) &&
                       wholeVectors(sizes[last - 1], width);
  plan->vectorize =
      state->vectorize && vectorTypes && (parallel[last] || plan->rowReduction);
  if (plan->vectorize) {
    int64_t v = sizes[last] > 0 && sizes[last] < width ? sizes[last] : width;
    /* A transposition (all loops parallel, an operand contiguous along the
     * next-to-last loop) gets square tiles: each operand is then read and
     * written in whole vectors, the transposition done in registers, where a
     * tile of one row would gather or scatter one element at a time. */
    bool allParallel = outerParallel && parallel[last];
    intptr_t rows = (allParallel && transposes(op, rank)) || plan->rowReduction
                        ? last - 1
                        : -1;
    int64_t vr = rows < 0                                 ? 1
                 : sizes[rows] > 0 && sizes[rows] < width ? sizes[rows]
                                                          : width;
    if (rows == 0 && plan->forall)
      plan->forallSizes[0] = vr;
    for (intptr_t d = 0; d < rank; ++d) {
      int64_t tile;
      if (d == last)
        tile =
            (sizes[d] == v && !(rank == 1 && plan->forall) && rows < 0) ? 0 : v;
      else if (d == 0 && plan->forall)
        tile = 0; /* already in the forall tile */
      else if (d == rows)
        tile = vr; /* always a loop: the transposition's patterns go there */
      else
        tile = sizes[d] == 1 ? 0 : 1;
      plan->forSizes[d] = tile;
      plan->numLoops += tile != 0;
      plan->vectorSizes[d] = d == last ? v : d == rows ? vr : 1;
    }
    plan->transposition = rows >= 0 && !plan->rowReduction;
  }
  return plan->forall || plan->vectorize;
}

/* The plan of one linalg.generic, which then owns its arrays (planFree);
 * false if the op is left alone, or if memory ran out (state->failed). */
static bool makePlan(TileState *state, MlirOperation op, Plan *plan) {
  MlirAttribute iterators =
      mlirOperationGetInherentAttributeByName(op, cageStr("iterator_types"));
  if (mlirAttributeIsNull(iterators) || !mlirAttributeIsAArray(iterators))
    return false;
  intptr_t rank = mlirArrayAttrGetNumElements(iterators);
  if (rank < 1)
    return false;
  bool *parallel = malloc((size_t)rank * sizeof *parallel);
  int64_t *sizes = malloc((size_t)rank * sizeof *sizes);
  int64_t *planSizes = calloc(3 * (size_t)rank, sizeof *planSizes);
  bool planned = false;
  if (!parallel || !sizes || !planSizes) {
    state->failed = true;
  } else {
    *plan = (Plan){.rank = rank,
                   .forallSizes = planSizes,
                   .forSizes = planSizes + rank,
                   .vectorSizes = planSizes + 2 * rank};
    planned = fillPlan(state, op, iterators, rank, parallel, sizes, plan);
  }
  free(sizes);
  free(parallel);
  if (!planned)
    free(planSizes);
  return planned;
}

static bool planEqual(const Plan *a, const Plan *b) {
  return a->rank == b->rank && a->forall == b->forall &&
         a->numLoops == b->numLoops && a->vectorize == b->vectorize &&
         a->transposition == b->transposition &&
         a->rowReduction == b->rowReduction &&
         memcmp(a->forallSizes, b->forallSizes,
                3 * (size_t)a->rank * sizeof *a->forallSizes) == 0;
}

/* The class of `plan`, which it takes (freed when the class exists); -1
 * when memory ran out. */
static int classOf(TileState *state, Plan *plan) {
  for (int i = 0; i < state->numClasses; ++i) {
    if (planEqual(&state->classes[i], plan)) {
      planFree(plan);
      return i;
    }
  }
  if (state->numClasses == state->capacity) {
    int capacity = state->capacity ? state->capacity * 2 : 8;
    Plan *classes = realloc(state->classes, sizeof(Plan) * (size_t)capacity);
    if (!classes) {
      planFree(plan);
      return -1;
    }
    state->classes = classes;
    state->capacity = capacity;
  }
  state->classes[state->numClasses] = *plan;
  return state->numClasses++;
}

static MlirWalkResult tagOps(MlirOperation op, void *userData) {
  TileState *state = userData;
  if (!cageOpIs(op, "linalg.generic"))
    return MlirWalkResultAdvance;
  Plan plan;
  if (!makePlan(state, op, &plan))
    return state->failed ? MlirWalkResultInterrupt : MlirWalkResultSkip;
  int k = classOf(state, &plan);
  if (k < 0) {
    state->failed = true;
    return MlirWalkResultInterrupt;
  }
  MlirContext ctx = mlirOperationGetContext(op);
  mlirOperationSetDiscardableAttributeByName(
      op, cageStr(TAG), mlirIntegerAttrGet(mlirIntegerTypeGet(ctx, 64), k));
  return MlirWalkResultSkip;
}

static MlirWalkResult untagOps(MlirOperation op, void *userData) {
  (void)userData;
  mlirOperationRemoveDiscardableAttributeByName(op, cageStr(TAG));
  return MlirWalkResultAdvance;
}

/*===----------------------------------------------------------------------===*
 * The transform script
 *===----------------------------------------------------------------------===*/

static void emitClass(CageScript *b, int k, const Plan *p) {
  cageScriptPrintf(b,
                   "    %%m%d = transform.structured.match attributes {" TAG
                   " = %d : i64} in %%root : (!transform.any_op) -> "
                   "!transform.any_op\n"
                   "    transform.foreach %%m%d : !transform.any_op {\n"
                   "    ^bb0(%%op: !transform.any_op):\n"
                   "      transform.sequence %%op : !transform.any_op "
                   "failures(suppress) {\n"
                   "      ^bb1(%%t0: !transform.any_op):\n",
                   k, k, k);
  const char *current = "%t0";
  if (p->forall) {
    cageScriptPrintf(
        b, "        %%t1, %%forall = transform.structured.tile_using_forall"
           " %%t0 tile_sizes ");
    cageScriptSizes(b, p->forallSizes, p->rank);
    cageScriptPrintf(b, " : (!transform.any_op) -> (!transform.any_op, "
                        "!transform.any_op)\n");
    current = "%t1";
  }
  if (p->vectorize) {
    if (p->numLoops > 0) {
      if (p->numLoops > 1)
        cageScriptPrintf(
            b, "        %%t2, %%loops:%lld = ", (long long)p->numLoops);
      else
        cageScriptPrintf(b, "        %%t2, %%loops = ");
      cageScriptPrintf(b, "transform.structured.tile_using_for %s tile_sizes ",
                       current);
      cageScriptSizes(b, p->forSizes, p->rank);
      cageScriptPrintf(b, " : (!transform.any_op) -> (");
      cageScriptAnyOps(b, 1 + p->numLoops);
      cageScriptPrintf(b, ")\n");
      current = "%t2";
    }
    cageScriptPrintf(
        b, "        transform.structured.vectorize %s vector_sizes ", current);
    cageScriptSizes(b, p->vectorSizes, p->rank);
    cageScriptPrintf(b, " : !transform.any_op\n");
    /* The transposed transfer as a read and a transpose, lowered to
     * shuffles; in the op's own loops only (on a whole function these
     * patterns ran a 5-D contraction's vectors out of memory). */
    if (p->transposition || p->rowReduction)
      cageScriptPrintf(
          b,
          "        transform.apply_patterns to %s {\n"
          "%s"
          "          transform.apply_patterns.vector.transfer_permutation_"
          "patterns\n"
          "          transform.apply_patterns.vector.lower_transpose "
          "lowering_strategy = \"shuffle_16x16\"\n"
          "        } : !transform.any_op\n",
          p->numLoops > 1 ? "%loops#0" : "%loops",
          p->rowReduction ? "          "
                            "transform.apply_patterns.vector.lower_multi_"
                            "reduction lowering_strategy = \"innerparallel\"\n"
                          : "");
  }
  cageScriptPrintf(b, "        transform.yield\n"
                      "      }\n"
                      "      transform.yield\n"
                      "    }\n");
}

static void emitScript(CageScript *b, const TileState *state) {
  cageScriptPrintf(b, "module attributes {transform.with_named_sequence} {\n"
                      "  transform.named_sequence @__cage_cpu_tile(%%root: "
                      "!transform.any_op {transform.readonly}) {\n");
  bool anyVector = false;
  for (int k = 0; k < state->numClasses; ++k) {
    emitClass(b, k, &state->classes[k]);
    anyVector |= state->classes[k].vectorize;
  }
  if (anyVector)
    /* Masked transfers to plain ones with masks, then drop the unit
     * dimensions of the tiles so that vectors are 1-D. */
    cageScriptPrintf(
        b, "    %%funcs = transform.structured.match ops{[\"func.func\"]} "
           "in %%root : (!transform.any_op) -> !transform.any_op\n"
           "    transform.apply_patterns to %%funcs {\n"
           "      transform.apply_patterns.vector.lower_masked_transfers\n"
           "    } : !transform.any_op\n"
           "    transform.apply_patterns to %%funcs {\n"
           "      "
           "transform.apply_patterns.vector.cast_away_vector_leading_one_"
           "dim\n"
           "      transform.apply_patterns.vector.lower_multi_reduction "
           "lowering_strategy = \"innerparallel\"\n"

           "      transform.apply_patterns.canonicalization\n"
           "    } : !transform.any_op\n");
  cageScriptPrintf(b, "    transform.yield\n  }\n}\n");
}

/*===----------------------------------------------------------------------===*
 * The pass
 *===----------------------------------------------------------------------===*/

static void fail(CagePassHandle pass, MlirLocation loc, const char *message) {
  mlirEmitError(loc, message);
  cagePassSignalFailure(pass);
}

static void runTile(MlirOperation op, const CagePassOptionValue *options,
                    CagePassHandle pass) {
  MlirContext ctx = mlirOperationGetContext(op);
  MlirLocation loc = mlirOperationGetLocation(op);
  TileState state = {.vectorize = options[kVectorize].b,
                     .width = options[kVectorWidth].i,
                     .threads = options[kThreads].b};
  if (!cageCPUVectorWidthIsValid(op, state.width, "cage-cpu-tile", pass))
    return;
  state.parallel =
      mlirAttributeParseGet(ctx, cageStr("#linalg.iterator_type<parallel>"));

  cageCPUCollapseTranspositionLoops(op);
  mlirOperationWalk(op, tagOps, &state, MlirWalkPreOrder);
  if (state.failed) {
    freeClasses(&state);
    fail(pass, loc, "cage-cpu-tile: out of memory");
    return;
  }
  if (state.numClasses == 0) {
    freeClasses(&state);
    return;
  }

  CageScript script = {0};
  emitScript(&script, &state);
  freeClasses(&state);
  if (cageScriptApply(&script, op, "cage-cpu-tile", pass))
    cageCPUFlattenRowTransfers(op);
  mlirOperationWalk(op, untagOps, NULL, MlirWalkPostOrder);
}

static const CagePassOption tileOptions[] = {
    [kVectorize] = {"vectorize",
                    "Vectorize ops whose innermost loop is parallel",
                    CagePassOptionBool,
                    {.b = true}},
    [kVectorWidth] = {"vector-width",
                      "Lanes of the vector tiles",
                      CagePassOptionInt,
                      {.i = 16}},
    [kThreads] = {"threads",
                  "Tile the outermost parallel loop with scf.forall",
                  CagePassOptionBool,
                  {.b = true}},
};

static MlirDialectHandle (*const tileDialects[])(void) = {
    mlirGetDialectHandle__arith__,  mlirGetDialectHandle__linalg__,
    mlirGetDialectHandle__memref__, mlirGetDialectHandle__scf__,
    mlirGetDialectHandle__tensor__, mlirGetDialectHandle__transform__,
    mlirGetDialectHandle__vector__,
};

const CagePassDefinition cageCPUTilePass = {
    .argument = "cage-cpu-tile",
    .name = "CageCPUTile",
    .summary = "Tile linalg.generic ops for threads (scf.forall) and vector "
               "registers, and vectorize them (transform dialect)",
    .anchorOp = "builtin.module",
    .options = tileOptions,
    .numOptions = sizeof tileOptions / sizeof tileOptions[0],
    .dependentDialects = tileDialects,
    .numDependentDialects = sizeof tileDialects / sizeof tileDialects[0],
    .run = runTile,
};
