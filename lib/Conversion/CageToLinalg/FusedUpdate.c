/*===- FusedUpdate.c - cage.update and cage.multi_update in one pass ------===*\
|*                                                                            *|
|* The fused CAGE step reads w, g, m, v once and writes w, m, v once (28    *|
|* bytes per f32 parameter with AdamW), with no parameter-sized temporary:  *|
|* the quantization error, the corrected gradient and the stepped w live in *|
|* registers. All parameters of one op share one parallel loop:             *|
|*                                                                            *|
|*   scf.forall %c in (C) shared_outs(w_k, state_k for every parameter k) { *|
|*     for every parameter k: the rows of k that chunk c owns, [lo, hi),    *|
|*       scf.for r in [lo, hi), for every scale group u of row r:           *|
|*         α = max |w| over u (or the rms clip value), one scalar loop      *|
|*         one element-wise linalg.generic over u: e = w − q(w), the        *|
|*         coupled correction, the optimizer step, the decoupled one        *|
|*     scf.forall.in_parallel: the rows [lo, hi) of every w_k and state_k   *|
|*   }                                                                      *|
|*                                                                            *|
|* Each tensor is viewed as rows × n (rank 1 as one row, rank > 2 with the  *|
|* leading dimensions collapsed). The parameters' elements are laid end to  *|
|* end and cut into C equal chunks (see kMinChunkElements); a row belongs   *|
|* to the chunk that holds its first element, so chunks are balanced by     *|
|* size across tensors and a thread sees each row whole. The scale of a     *|
|* group is computed just before the group is updated, while it is in the   *|
|* L1 cache; only granularity = tensor computes its scale in a pass of its  *|
|* own first.                                                                *|
|*                                                                            *|
|* The arithmetic per element is that of the unfused spelling (Quantizer.c, *|
|* Optimizers.c and the correction of cage-expand-update), in the same      *|
|* order, so fused and unfused steps agree bit for bit:                     *|
|*   e  = w − q(w) (zero_clipped: +0 where w is clipped)                    *|
|*   coupled:   g  ← g + λ_t·e                                              *|
|*   the optimizer element step (Optimizers.h) on w, g, state               *|
|*   decoupled: w1 ← w1 − (lr·λ_t)·e                                        *|
|* Quantizers with a Hadamard rotation mix the elements of a block before   *|
|* quantizing; they take the unfused lowering (Optimizers.c).               *|
|*                                                                            *|
|* The element form (LowerUpdateElements, for GPUs, whose threads want one  *|
|* element each rather than a chunk of rows): per parameter, the scales of  *|
|* all its groups (Quantizer.c's reductions), then one element-wise generic *|
|* over all its elements with the same element step. w is read twice (32   *|
|* bytes per parameter instead of 28); the bits are the chunk form's (α is  *|
|* a maximum, or a sum in increasing index order, either way).              *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#include "FusedUpdate.h"

#include "Bf16.h"
#include "Groups.h"
#include "Optimizers.h"
#include "Patterns.h"
#include "Philox.h"

#include "IR/Ops.h"
#include "cage-c/Dialect/Cage.h"
#include "cage-c/Dialect/CageOps.h"
#include "cage/Dialect/Cage/Transforms/ExpandUpdate.h"

#include "mlir-c/BuiltinAttributes.h"
#include "mlir-c/BuiltinTypes.h"

#include <stdio.h>
#include <stdlib.h>

/* Chunks of the parameters' elements handed to threads: at least
 * kMinChunkElements, so that a small step still spreads over threads
 * (65536 elements make 8 chunks) while a chunk stays worth a thread's
 * wake-up, and at most kMaxChunks, so that the per-chunk bookkeeping, which
 * visits every parameter, stays below 1% of a large step. */
enum { kMinChunkElements = 1 << 13, kMaxChunks = 256 };

static const MlirValue nullValue = {NULL};

/*===--- The step being lowered -------------------------------------------===*/

/* One parameter: its tensors as given and viewed as rows × n. */
typedef struct Param {
  MlirValue tensors[4];        /* w, g, state... */
  MlirValue newW, newState[2]; /* the op's results they become */
  MlirValue rows2d[4];
  MlirValue numRows, numCols; /* index */
  MlirValue offset;           /* of its first element, laid end to end */
  MlirValue tensorScales[2];  /* granularity = tensor: the scalars */
} Param;

typedef struct Fused {
  intptr_t numParams, numState;
  Param *params;
  bool quantized; /* a CAGE update, not a plain optimizer step */
  LowerQuantizer q;
  CageErrorMode error;
  bool coupled;
  LowerOptimizerStep step;
  MlirValue lambda, factor; /* factor = lr·λ_t (decoupled) */
  bool bf16State;       /* m, v (b) stored as bf16, rounded stochastically */
  LowerPhiloxKeys keys; /* ... from the seed */
  MlirValue chunkSize;  /* elements per chunk */
} Fused;

static MlirValue constantIndex(CageBuilder *b, int64_t value) {
  return cageBuildConstantIndex(b, value);
}

/* Dimension `d` of a ranked tensor: a constant when static. */
static MlirValue dimOf(CageBuilder *b, MlirValue tensor, intptr_t d) {
  MlirType type = mlirValueGetType(tensor);
  if (mlirShapedTypeIsDynamicDim(type, d))
    return cageBuildDim(b, tensor, d);
  return constantIndex(b, mlirShapedTypeGetDimSize(type, d));
}

/*===--- Rows × n views ---------------------------------------------------===*/

static MlirType rowsType(MlirValue x) {
  MlirType type = mlirValueGetType(x);
  intptr_t rank = mlirShapedTypeGetRank(type);
  int64_t shape[2] = {1, mlirShapedTypeGetDimSize(type, rank - 1)};
  for (intptr_t d = 0; d + 1 < rank; ++d) {
    int64_t size = mlirShapedTypeGetDimSize(type, d);
    if (mlirShapedTypeIsDynamicDim(type, d) || shape[0] == INT64_MIN)
      shape[0] = INT64_MIN;
    else
      shape[0] *= size;
  }
  return mlirRankedTensorTypeGet(2, shape, mlirShapedTypeGetElementType(type),
                                 mlirAttributeGetNull());
}

/* `x` as rows × n: rank 1 as one row, higher ranks with the leading
 * dimensions merged. */
static MlirValue asRows(CageBuilder *b, MlirValue x) {
  intptr_t rank = mlirShapedTypeGetRank(mlirValueGetType(x));
  if (rank == 2)
    return x;
  if (rank == 1) {
    int64_t groups[] = {2};
    MlirValue sizes[] = {constantIndex(b, 1), dimOf(b, x, 0)};
    return cageBuildExpandShape(b, x, rowsType(x), groups, sizes);
  }
  int64_t groups[] = {rank - 1, 1};
  return cageBuildCollapseShape(b, x, rowsType(x), groups);
}

/* The inverse of asRows: `rows` back in the shape of `like`. */
static MlirValue fromRows(CageBuilder *b, MlirValue rows, MlirValue like) {
  MlirType type = mlirValueGetType(like);
  intptr_t rank = mlirShapedTypeGetRank(type);
  if (rank == 2)
    return rows;
  if (rank == 1) {
    int64_t groups[] = {2};
    return cageBuildCollapseShape(b, rows, type, groups);
  }
  int64_t groups[] = {rank - 1, 1};
  MlirValue *sizes = calloc((size_t)rank, sizeof *sizes);
  for (intptr_t d = 0; d < rank; ++d)
    sizes[d] = dimOf(b, like, d);
  MlirValue expanded = cageBuildExpandShape(b, rows, type, groups, sizes);
  free(sizes);
  return expanded;
}

/*===--- Scales of one group ----------------------------------------------===*/

typedef struct ClipLoop {
  const LowerQuantizer *q;
  MlirValue unit; /* 1-d tensor */
} ClipLoop;

/* absmax: max |x| as the unsigned maximum of the bits of |x| (the sign bit
 * cleared), which orders non-negative floats as their values do and puts
 * every NaN above +Inf: the maximumf of Quantizer.c's reduction, NaN
 * propagation included, in one vector instruction (vpmaxud) instead of the
 * compare-and-blend sequence that maximumf's NaN and signed-zero rules need
 * on x86. rms_gaussian: acc + f64(x)·f64(x). */
static void clipLoopBody(CageBuilder *body, MlirValue iv,
                         const MlirValue *iterArgs, MlirValue *yielded,
                         void *userData) {
  const ClipLoop *loop = userData;
  MlirValue x = cageBuildExtract(body, loop->unit, &iv, 1);
  if (loop->q->scale == CageScaleKindAbsmax) {
    MlirType i32 = mlirIntegerTypeGet(body->context, 32);
    MlirValue magnitude =
        cageBuildAndI(body, cageBuildBitcast(body, x, i32),
                      cageBuildConstantInt(body, i32, 0x7FFFFFFF));
    yielded[0] = cageBuildMaxUI(body, magnitude, iterArgs[0]);
    return;
  }
  MlirValue wide = cageBuildExtF(body, x, mlirF64TypeGet(body->context));
  yielded[0] =
      cageBuildAddF(body, iterArgs[0], cageBuildMulF(body, wide, wide));
}

/* The scalars the grid reads (lowerGridReadScales) for the group `unit` of
 * `size` elements, in increasing index order as Quantizer.c's reductions. */
static void unitScales(CageBuilder *b, const LowerQuantizer *q, MlirValue unit,
                       MlirValue size, MlirValue *scales) {
  bool absmax = q->scale == CageScaleKindAbsmax;
  MlirType f64 = mlirF64TypeGet(b->context);
  MlirType i32 = mlirIntegerTypeGet(b->context, 32);
  /* The accumulator starts at 1e-8f (absmax: its bits). */
  MlirValue init =
      absmax ? cageBuildBitcast(b, cageBuildConstantF32(b, 1e-8f), i32)
             : cageBuildConstantFloat(b, f64, 0.0);
  ClipLoop loop = {q, unit};
  MlirValue acc = cageOperationGetResult(
      cageBuildFor(b, constantIndex(b, 0), size, constantIndex(b, 1), &init, 1,
                   clipLoopBody, &loop),
      0);
  MlirValue alpha = acc;
  if (absmax) {
    alpha = cageBuildBitcast(b, acc, mlirF32TypeGet(b->context));
  } else {
    MlirValue count = cageBuildSIToFP(
        b, cageBuildIndexCast(b, size, mlirIntegerTypeGet(b->context, 64)),
        f64);
    alpha = lowerGridRmsClipValue(b, q, acc, count);
  }
  MlirValue step = lowerGridStep(b, q, alpha);
  scales[0] = step;
  if (lowerGridNumScales(q) == 2) {
    scales[0] = alpha;
    scales[1] = step;
  }
}

/* granularity = tensor: the scales of the whole of `w`, before the loop. */
static void tensorScales(CageBuilder *b, const LowerQuantizer *q, MlirValue w,
                         MlirValue *scales) {
  LowerGroupView view = lowerViewGroups(b, q, w);
  LowerScales perGroup = lowerGroupScales(b, q, &view, nullValue);
  for (intptr_t i = 0; i < perGroup.count; ++i)
    scales[i] = cageBuildExtract(b, perGroup.values[i], NULL, 0);
}

/*===--- The element step -------------------------------------------------===*/

typedef struct Element {
  const Fused *f;
  const MlirValue *scales;
  MlirValue firstIndex; /* bf16 state: the linear index of the unit's first
                           element in the tensor */
  bool inFours;         /* ... over loops (lane, group of four): see
                           buildInFours */
} Element;

/* The Philox group (index / 4) and lane (index mod 4, i32) of the element
 * of i64 linear index `index` (Semantics.md §1.5). */
static void splitIndex(CageBuilder *body, MlirValue index, MlirValue *group,
                       MlirValue *lane) {
  MlirType i32 = mlirIntegerTypeGet(body->context, 32);
  *group = cageBuildShRUI(body, index, cageBuildConstantI64(body, 2));
  *lane = cageBuildTruncI(
      body, cageBuildAndI(body, index, cageBuildConstantI64(body, 3)), i32);
}

/* The element's Philox group (index / 4) and lane (index mod 4) in the
 * chunk form: from the unit's first index and the generic's loops. */
static void chunkGroupAndLane(CageBuilder *body, const Element *el,
                              MlirValue *group, MlirValue *lane) {
  MlirType i64 = mlirIntegerTypeGet(body->context, 64);
  MlirType i32 = mlirIntegerTypeGet(body->context, 32);
  if (el->inFours) {
    /* firstIndex is a multiple of four. */
    MlirValue firstGroup =
        cageBuildShRUI(body, el->firstIndex, constantIndex(body, 2));
    *group = cageBuildIndexCast(
        body, cageBuildAddI(body, firstGroup, cageBuildLinalgIndex(body, 1)),
        i64);
    *lane = cageBuildIndexCast(body, cageBuildLinalgIndex(body, 0), i32);
    return;
  }
  MlirValue index = cageBuildIndexCast(
      body, cageBuildAddI(body, el->firstIndex, cageBuildLinalgIndex(body, 0)),
      i64);
  splitIndex(body, index, group, lane);
}

/* The state stored as bf16: the low (m, b) and high (v) 16 bits of the
 * Philox word of the element's group of four, lane `lane`, as the
 * reference draws them. */
static void storeBf16State(CageBuilder *body, const Fused *f, MlirValue group,
                           MlirValue lane, MlirValue *state) {
  MlirValue random[2];
  lowerBuildBf16StateRandomBits(body, &f->keys, group, lane, random);
  for (intptr_t i = 0; i < f->numState; ++i)
    state[i] = lowerBuildBf16StoreStochastic(body, state[i], random[i]);
}

/* The optimizer step of one element with the CAGE correction: w, g and the
 * state (stored form) in, the new w and state (stored form) in `yielded`;
 * `scales` as lowerGridReadScales lays them out; for bf16 state, the
 * element's Philox group and lane. */
static void elementStep(CageBuilder *body, const Fused *f,
                        const MlirValue *scales, MlirValue g, MlirValue w,
                        const MlirValue *stored, MlirValue group,
                        MlirValue lane, MlirValue *yielded) {
  MlirValue e = nullValue;
  MlirValue state[2] = {stored[0], f->numState > 1 ? stored[1] : nullValue};
  if (f->bf16State)
    for (intptr_t i = 0; i < f->numState; ++i)
      state[i] = lowerBuildBf16Load(body, state[i]);
  if (f->quantized) {
    e = lowerErrorValue(body, &f->q, f->error, w, scales);
    if (f->coupled) {
      g = cageBuildAddF(body, g, cageBuildMulF(body, f->lambda, e));
    }
  }
  lowerBuildOptimizerElement(body, &f->step, w, g, state, yielded);
  if (f->quantized && !f->coupled) {
    yielded[0] =
        cageBuildSubF(body, yielded[0], cageBuildMulF(body, f->factor, e));
  }
  if (f->bf16State)
    storeBf16State(body, f, group, lane, yielded + 1);
}

/* Body arguments: g, then the outputs w and the state, which the element
 * reads: a generic that read w as an input and wrote it as an output would
 * make bufferization copy w. */
static void elementBody(CageBuilder *body, const MlirValue *args,
                        intptr_t numArgs, MlirValue *yielded, void *userData) {
  (void)numArgs;
  const Element *el = userData;
  MlirValue group = nullValue, lane = nullValue;
  if (el->f->bf16State)
    chunkGroupAndLane(body, el, &group, &lane);
  elementStep(body, el->f, el->scales, args[0], args[1], args + 2, group, lane,
              yielded);
}

/*===--- Loops over rows and groups ---------------------------------------===*/

/* A group of one row: `size` elements from column `column`. */
typedef struct Unit {
  const Fused *f;
  const Param *p;
  MlirValue row;          /* in the chunk */
  MlirValue firstRow;     /* of the chunk, in the tensor */
  MlirValue column, size; /* index */
  int64_t staticSize;     /* or INT64_MIN */
} Unit;

static MlirValue unitSlice(CageBuilder *b, const Unit *u, MlirValue from,
                           MlirValue rowInFrom) {
  CageSliceIndex offsets[] = {{rowInFrom, 0}, {u->column, 0}};
  CageSliceIndex sizes[] = {{nullValue, 1}, {u->size, 0}};
  if (u->staticSize != INT64_MIN)
    sizes[1] = (CageSliceIndex){nullValue, u->staticSize};
  MlirType type = mlirRankedTensorTypeGet(
      1, &u->staticSize, mlirShapedTypeGetElementType(mlirValueGetType(from)),
      mlirAttributeGetNull());
  return cageBuildExtractSlice(b, from, offsets, sizes, type);
}

static MlirValue unitInsert(CageBuilder *b, const Unit *u, MlirValue value,
                            MlirValue into) {
  CageSliceIndex offsets[] = {{u->row, 0}, {u->column, 0}};
  CageSliceIndex sizes[] = {{nullValue, 1}, {u->size, 0}};
  if (u->staticSize != INT64_MIN)
    sizes[1] = (CageSliceIndex){nullValue, u->staticSize};
  return cageBuildInsertSlice(b, value, into, offsets, sizes);
}

/* bf16 state: the element step of a unit of 4·G elements over the loops
 * (lane, group of four) = (4, G), every tensor read as G × 4 through the
 * transposed map, so that the Philox call of a group depends on the inner
 * loop alone. Vectorized 4 × V (cage-cpu-tile's square transposition
 * tiles), the call is made once per V groups for the four rows of lanes
 * (Semantics.md §1.5: one call serves four elements), and the tensors are
 * transposed in registers. Stores the updated units (1-D) in `updated`. */
static void buildInFours(CageBuilder *b, Element *el, MlirValue g,
                         const MlirValue *outputs, intptr_t numOut,
                         MlirValue *updated) {
  static const int64_t four[] = {4};
  MlirValue input = cageBuildSplitInnermost(b, g, four, 1), inFours[3];
  for (intptr_t i = 0; i < numOut; ++i)
    inFours[i] = cageBuildSplitInnermost(b, outputs[i], four, 1);
  unsigned swap[] = {1, 0};
  MlirAffineMap transposed = mlirAffineMapPermutationGet(b->context, 2, swap);
  MlirAffineMap maps[] = {transposed, transposed, transposed, transposed};
  CageIteratorType iterators[] = {CageIteratorParallel, CageIteratorParallel};
  CageGenericSpec spec = {.inputs = &input,
                          .numInputs = 1,
                          .outputs = inFours,
                          .numOutputs = numOut,
                          .indexingMaps = maps,
                          .iteratorTypes = iterators,
                          .numLoops = 2,
                          .body = elementBody,
                          .userData = el};
  MlirOperation generic = cageBuildGeneric(b, &spec);
  for (intptr_t i = 0; i < numOut; ++i)
    updated[i] = cageBuildMergeInnermost(b, cageOperationGetResult(generic, i),
                                         mlirValueGetType(outputs[i]));
}

/* Updates one group of the chunk tensors `chunk` (w, state...) in place. */
static void updateUnit(CageBuilder *b, const Unit *u, const MlirValue *chunk,
                       MlirValue *updated) {
  const Fused *f = u->f;
  intptr_t numOut = 1 + f->numState;
  MlirValue rowInTensor = cageBuildAddI(b, u->firstRow, u->row);
  MlirValue g = unitSlice(b, u, u->p->rows2d[1], rowInTensor), outputs[3];
  for (intptr_t i = 0; i < numOut; ++i)
    outputs[i] = unitSlice(b, u, chunk[i], u->row);

  MlirValue scales[2] = {u->p->tensorScales[0], u->p->tensorScales[1]};
  if (f->quantized && f->q.granularity != CageGranularityTensor)
    unitScales(b, &f->q, outputs[0], u->size, scales);
  Element el = {f, scales, nullValue, false};
  if (f->bf16State)
    el.firstIndex = cageBuildAddI(
        b, cageBuildMulI(b, rowInTensor, u->p->numCols), u->column);
  /* A unit of a static multiple of four elements starts at a multiple of
   * four (it is a whole row, or a group that divides the row). */
  if (f->bf16State && u->staticSize != INT64_MIN && u->staticSize % 4 == 0) {
    el.inFours = true;
    buildInFours(b, &el, g, outputs, numOut, updated);
  } else {
    MlirOperation generic =
        cageBuildElementwise(b, &g, 1, outputs, numOut, elementBody, &el);
    for (intptr_t i = 0; i < numOut; ++i)
      updated[i] = cageOperationGetResult(generic, i);
  }
  for (intptr_t i = 0; i < numOut; ++i)
    updated[i] = unitInsert(b, u, updated[i], chunk[i]);
}

/* The groups of row `row` of the chunk: one (the row) or n / G. */
typedef struct RowLoop {
  Unit unit;
  int64_t numCols; /* static n, or INT64_MIN */
} RowLoop;

static void groupLoopBody(CageBuilder *body, MlirValue iv,
                          const MlirValue *iterArgs, MlirValue *yielded,
                          void *userData) {
  Unit u = *(const Unit *)userData;
  u.column = cageBuildMulI(body, iv, u.size);
  updateUnit(body, &u, iterArgs, yielded);
}

static void rowLoopBody(CageBuilder *body, MlirValue iv,
                        const MlirValue *iterArgs, MlirValue *yielded,
                        void *userData) {
  const RowLoop *loop = userData;
  Unit u = loop->unit;
  u.row = iv;
  const Fused *f = u.f;
  if (!f->quantized || f->q.granularity != CageGranularityGroup) {
    u.column = constantIndex(body, 0);
    u.size = u.p->numCols;
    u.staticSize = loop->numCols;
    updateUnit(body, &u, iterArgs, yielded);
    return;
  }
  u.staticSize = f->q.groupSize;
  u.size = constantIndex(body, f->q.groupSize);
  MlirValue numGroups = cageBuildDivUI(body, u.p->numCols, u.size);
  MlirOperation groups = cageBuildFor(body, constantIndex(body, 0), numGroups,
                                      constantIndex(body, 1), iterArgs,
                                      1 + f->numState, groupLoopBody, &u);
  for (intptr_t i = 0; i < 1 + f->numState; ++i)
    yielded[i] = cageOperationGetResult(groups, i);
}

/*===--- Chunks -----------------------------------------------------------===*/

/* clamp(ceil((chunkStart − offset) / n), 0, rows): the first row of `p` whose
 * first element is at or after `chunkStart`. */
static MlirValue firstRowFrom(CageBuilder *b, const Param *p,
                              MlirValue chunkStart) {
  MlirValue divisor = cageBuildMaxUI(b, p->numCols, constantIndex(b, 1));
  MlirValue row =
      cageBuildCeilDivSI(b, cageBuildSubI(b, chunkStart, p->offset), divisor);
  row = cageBuildMaxSI(b, row, constantIndex(b, 0));
  return cageBuildMinSI(b, row, p->numRows);
}

static bool chunkBody(CageBuilder *body, MlirValue iv,
                      const MlirValue *sharedOuts, CageBuilder *inParallel,
                      void *userData) {
  const Fused *f = userData;
  bool built = true;
  intptr_t numOut = 1 + f->numState;
  MlirValue start = cageBuildMulI(body, iv, f->chunkSize);
  MlirValue end = cageBuildAddI(body, start, f->chunkSize);
  for (intptr_t k = 0; k < f->numParams; ++k) {
    const Param *p = &f->params[k];
    const MlirValue *outs = sharedOuts + k * numOut;
    MlirValue lo = firstRowFrom(body, p, start);
    MlirValue count = cageBuildSubI(body, firstRowFrom(body, p, end), lo);
    int64_t numCols = mlirShapedTypeGetDimSize(mlirValueGetType(outs[0]), 1);
    bool staticCols = !mlirShapedTypeIsDynamicDim(mlirValueGetType(outs[0]), 1);
    CageSliceIndex offsets[] = {{lo, 0}, {nullValue, 0}};
    CageSliceIndex sizes[] = {{count, 0}, {p->numCols, 0}};
    if (staticCols)
      sizes[1] = (CageSliceIndex){nullValue, numCols};
    int64_t shape[] = {INT64_MIN, staticCols ? numCols : INT64_MIN};
    MlirValue chunk[3];
    for (intptr_t i = 0; i < numOut; ++i)
      chunk[i] = cageBuildExtractSlice(
          body, outs[i], offsets, sizes,
          mlirRankedTensorTypeGet(
              2, shape, mlirShapedTypeGetElementType(mlirValueGetType(outs[i])),
              mlirAttributeGetNull()));

    RowLoop loop = {{f, p, nullValue, lo, nullValue, nullValue, INT64_MIN},
                    staticCols ? numCols : INT64_MIN};
    MlirOperation rows =
        cageBuildFor(body, constantIndex(body, 0), count,
                     constantIndex(body, 1), chunk, numOut, rowLoopBody, &loop);
    for (intptr_t i = 0; i < numOut; ++i)
      built &= !mlirOperationIsNull(cageBuildParallelInsertSlice(
          inParallel, cageOperationGetResult(rows, i), outs[i], offsets,
          sizes));
  }
  return built;
}

/*===--- Building the step ------------------------------------------------===*/

/* The scalars of the step, once: the optimizer's (Optimizers.h) and, for a
 * decoupled correction, lr·λ_t. */
static void buildStepScalars(CageBuilder *b, Fused *f, MlirValue lr,
                             MlirValue step) {
  f->step = lowerBuildOptimizerStep(b, &f->step.optimizer, lr, step);
  if (f->quantized && !f->coupled)
    f->factor = cageBuildMulF(b, lr, f->lambda);
}

/* Views, sizes and offsets of the parameters, the scalars of the step, then
 * the loop; stores the new w and state of every parameter in `results`. */
static bool buildFused(CageBuilder *b, Fused *f, MlirValue lr, MlirValue step,
                       LowerResults *results) {
  intptr_t numTensors = 2 + f->numState, numOut = 1 + f->numState;
  MlirValue total = constantIndex(b, 0);
  for (intptr_t k = 0; k < f->numParams; ++k) {
    Param *p = &f->params[k];
    for (intptr_t i = 0; i < numTensors; ++i)
      p->rows2d[i] = asRows(b, p->tensors[i]);
    p->numRows = dimOf(b, p->rows2d[0], 0);
    p->numCols = dimOf(b, p->rows2d[0], 1);
    p->offset = total;
    total = cageBuildAddI(b, total, cageBuildMulI(b, p->numRows, p->numCols));
    if (f->quantized && f->q.granularity == CageGranularityTensor)
      tensorScales(b, &f->q, p->tensors[0], p->tensorScales);
  }
  MlirValue numChunks = cageBuildMaxUI(
      b,
      cageBuildMinUI(
          b, cageBuildCeilDivUI(b, total, constantIndex(b, kMinChunkElements)),
          constantIndex(b, kMaxChunks)),
      constantIndex(b, 1));
  f->chunkSize = cageBuildCeilDivUI(b, total, numChunks);
  buildStepScalars(b, f, lr, step);

  intptr_t numShared = f->numParams * numOut;
  MlirValue *shared = calloc((size_t)numShared, sizeof *shared);
  for (intptr_t k = 0; k < f->numParams; ++k) {
    shared[k * numOut] = f->params[k].rows2d[0];
    for (intptr_t i = 0; i < f->numState; ++i)
      shared[k * numOut + 1 + i] = f->params[k].rows2d[2 + i];
  }
  MlirOperation loop =
      cageBuildForall(b, numChunks, shared, numShared, chunkBody, f);
  free(shared);
  for (intptr_t k = 0; k < f->numParams; ++k) {
    const Param *p = &f->params[k];
    for (intptr_t i = 0; i < numOut; ++i) {
      MlirValue original = p->tensors[i == 0 ? 0 : 1 + i];
      lowerReplace(
          results, i == 0 ? p->newW : p->newState[i - 1],
          fromRows(b, cageOperationGetResult(loop, k * numOut + i), original));
    }
  }
  return true;
}

/*===--- The element form -------------------------------------------------===*/

/* A parameter's element-wise generic: its view's sizes (for the linear
 * index of bf16 state) and where the scales are among the body's
 * arguments. */
typedef struct Elements {
  const Fused *f;
  intptr_t numScales;
  MlirValue sizes[3];
  int64_t rank;
} Elements;

/* Body arguments: g, the group's scales, then the outputs w and the state
 * (read in place, as in elementBody). */
static void elementsBody(CageBuilder *body, const MlirValue *args,
                         intptr_t numArgs, MlirValue *yielded, void *userData) {
  (void)numArgs;
  const Elements *el = userData;
  const MlirValue *outputs = args + 1 + el->numScales;
  MlirValue group = nullValue, lane = nullValue;
  if (el->f->bf16State)
    splitIndex(body, lowerLinearIndex(body, el->sizes, el->rank), &group,
               &lane);
  elementStep(body, el->f, args + 1, args[0], outputs[0], outputs + 1, group,
              lane, yielded);
}

/* One parameter in the element form: the scales of all its groups, then
 * one element-wise generic over all its elements. */
static bool buildParamElements(CageBuilder *b, const Fused *f, const Param *p,
                               LowerResults *results) {
  intptr_t numOut = 1 + f->numState;
  LowerGroupView views[4];
  for (intptr_t i = 0; i < 2 + f->numState; ++i)
    views[i] = f->quantized
                   ? lowerViewGroups(b, &f->q, p->rows2d[i])
                   : (LowerGroupView){.value = p->rows2d[i], .rank = 2};
  LowerScales scales = {.count = 0};
  if (f->quantized)
    scales = lowerGroupScales(b, &f->q, &views[0], nullValue);
  Elements el = {f, scales.count, {nullValue}, views[0].rank};
  for (int64_t d = 0; d < el.rank; ++d)
    el.sizes[d] = dimOf(b, views[0].value, d);
  MlirValue outputs[3];
  outputs[0] = views[0].value;
  for (intptr_t i = 0; i < f->numState; ++i)
    outputs[1 + i] = views[2 + i].value;
  LowerOverGroups g = {.view = &views[0],
                       .elements = &views[1].value,
                       .numElements = 1,
                       .perGroup = scales.values,
                       .numPerGroup = scales.count,
                       .outputs = outputs,
                       .numOutputs = numOut,
                       .reduce = false,
                       .body = elementsBody,
                       .userData = &el};
  MlirOperation generic = lowerBuildOverGroups(b, &g);
  if (mlirOperationIsNull(generic))
    return false;
  for (intptr_t i = 0; i < numOut; ++i) {
    MlirValue updated = cageOperationGetResult(generic, i);
    MlirValue rows = p->rows2d[i == 0 ? 0 : 1 + i];
    if (views[0].rank == 3) /* [rows, n / G, G] back to rows × n */
      updated = cageBuildMergeInnermost(b, updated, mlirValueGetType(rows));
    MlirValue original = p->tensors[i == 0 ? 0 : 1 + i];
    lowerReplace(results, i == 0 ? p->newW : p->newState[i - 1],
                 fromRows(b, updated, original));
  }
  return true;
}

/* The element form of the step: the per-element arithmetic of the chunk
 * form (elementStep), each parameter one element-wise generic after a
 * reduction per scale group. */
static bool buildElements(CageBuilder *b, Fused *f, MlirValue lr,
                          MlirValue step, LowerResults *results) {
  buildStepScalars(b, f, lr, step);
  for (intptr_t k = 0; k < f->numParams; ++k) {
    Param *p = &f->params[k];
    for (intptr_t i = 0; i < 2 + f->numState; ++i)
      p->rows2d[i] = asRows(b, p->tensors[i]);
    if (!buildParamElements(b, f, p, results))
      return false;
  }
  return true;
}

/*===--- The ops ----------------------------------------------------------===*/

bool lowerCanFuseUpdate(MlirOperation op) {
  MlirAttribute quantizer = cageOperationIsAUpdate(op)
                                ? cageUpdateOpGetQuantizer(op)
                                : cageMultiUpdateOpGetQuantizer(op);
  if (!mlirAttributeIsNull(quantizer) &&
      lowerReadQuantizer(quantizer).rotation == CageRotationHadamard)
    return false;
  /* Rows need a dimension: a 0-d tensor (of a plain optimizer step) is
   * stepped on its own. And MLIR 22's expand-strided-metadata crashes on a
   * memref.expand_shape that splits one dynamic size into several dynamic
   * ones, which viewing such a tensor back from rows × n would need. */
  for (intptr_t i = 0; i < mlirOperationGetNumOperands(op); ++i) {
    MlirType type = mlirValueGetType(mlirOperationGetOperand(op, i));
    if (!mlirTypeIsARankedTensor(type))
      continue;
    intptr_t rank = mlirShapedTypeGetRank(type), numDynamic = 0;
    for (intptr_t d = 0; d + 1 < rank; ++d)
      numDynamic += mlirShapedTypeIsDynamicDim(type, d) ? 1 : 0;
    if (rank == 0 || numDynamic > 1)
      return false;
  }
  return true;
}

/* Parameter `k` of the cage.update (k = 0) or cage.multi_update `op`: its
 * tensors, and the results they become. */
static void readParam(MlirOperation op, intptr_t k, intptr_t numState,
                      Param *p) {
  bool update = cageOperationIsAUpdate(op);
  p->tensors[0] =
      update ? cageUpdateOpGetW(op) : cageMultiUpdateOpGetParamW(op, k);
  p->tensors[1] =
      update ? cageUpdateOpGetG(op) : cageMultiUpdateOpGetParamG(op, k);
  p->newW =
      update ? cageUpdateOpGetNewW(op) : cageMultiUpdateOpGetParamNewW(op, k);
  for (intptr_t j = 0; j < numState; ++j) {
    p->tensors[2 + j] = update ? cageUpdateOpGetState(op, j)
                               : cageMultiUpdateOpGetParamState(op, k, j);
    p->newState[j] = update ? cageUpdateOpGetNewState(op, j)
                            : cageMultiUpdateOpGetParamNewState(op, k, j);
  }
}

bool lowerBuildFusedUpdate(CageBuilder *b, MlirOperation op,
                           LowerUpdateForm form, LowerResults *results) {
  Fused f = {0};
  bool update = cageOperationIsAUpdate(op);
  MlirAttribute quantizer =
      update ? cageUpdateOpGetQuantizer(op) : cageMultiUpdateOpGetQuantizer(op);
  f.step.optimizer =
      lowerReadOptimizerAttr(update ? cageUpdateOpGetOptimizer(op)
                                    : cageMultiUpdateOpGetOptimizer(op));
  f.numState = f.step.optimizer.adamw ? 2 : 1;
  f.quantized = !mlirAttributeIsNull(quantizer);
  f.numParams = update ? 1 : cageMultiUpdateOpGetNumParams(op);
  f.params = calloc((size_t)f.numParams, sizeof *f.params);
  for (intptr_t k = 0; k < f.numParams; ++k)
    readParam(op, k, f.numState, &f.params[k]);
  MlirType stateType = mlirValueGetType(f.params[0].tensors[2]);
  f.bf16State = mlirTypeIsABF16(mlirShapedTypeGetElementType(stateType));
  MlirValue lr = update ? cageUpdateOpGetLr(op) : cageMultiUpdateOpGetLr(op);
  if (f.quantized) {
    f.q = lowerReadQuantizer(quantizer);
    f.error = update ? cageUpdateOpGetError(op) : cageMultiUpdateOpGetError(op);
    f.coupled =
        (update ? cageUpdateOpGetCoupling(op)
                : cageMultiUpdateOpGetCoupling(op)) == CageCouplingCoupled;
    f.lambda =
        update ? cageUpdateOpGetLambda(op) : cageMultiUpdateOpGetLambda(op);
  }
  /* t: AdamW only (null for SGD). */
  MlirValue step =
      update ? cageUpdateOpGetStep(op) : cageMultiUpdateOpGetStep(op);
  /* bf16 state, a cage.update's only, comes with its seed. */
  if (f.bf16State)
    lowerBuildPhiloxKeys(b, cageUpdateOpGetSeed(op), &f.keys);
  bool built = form == LowerUpdateElements
                   ? buildElements(b, &f, lr, step, results)
                   : buildFused(b, &f, lr, step, results);
  free(f.params);
  return built;
}

/* cage.multi_update that lowerCanFuseUpdate rejects (a Hadamard rotation, a
 * 0-d tensor): one cage.update, cage.adamw or cage.sgd per parameter. */
static bool buildSplitMultiUpdate(CageBuilder *b, MlirOperation op,
                                  LowerResults *results) {
  MlirAttribute optimizer = cageMultiUpdateOpGetOptimizer(op);
  MlirAttribute quantizer = cageMultiUpdateOpGetQuantizer(op);
  intptr_t numState = cageMultiUpdateOpGetNumParamState(op);
  MlirValue lr = cageMultiUpdateOpGetLr(op);
  MlirValue lambda = cageMultiUpdateOpGetLambda(op);
  MlirValue step = cageMultiUpdateOpGetStep(op);
  for (intptr_t k = 0; k < cageMultiUpdateOpGetNumParams(op); ++k) {
    Param p;
    readParam(op, k, numState, &p);
    const MlirValue *state = p.tensors + 2;
    MlirValue newW, newState[2];
    if (!mlirAttributeIsNull(quantizer)) {
      /* A cage.update with the multi_update's attributes and no seed (the
       * state is f32). */
      MlirOperation one = cageBuilderInsert(
          b,
          cageUpdateOpCreate(b->location, p.tensors[0], p.tensors[1], numState,
                             state, lr, lambda, step, nullValue, quantizer,
                             optimizer, cageMultiUpdateOpGetCoupling(op),
                             cageMultiUpdateOpGetError(op)));
      if (mlirOperationIsNull(one))
        return false;
      newW = cageUpdateOpGetNewW(one);
      for (intptr_t j = 0; j < numState; ++j)
        newState[j] = cageUpdateOpGetNewState(one, j);
    } else {
      MlirOperation one = cageBuildOptimizerOp(b, optimizer, p.tensors[0],
                                               p.tensors[1], state, lr, step);
      if (mlirOperationIsNull(one))
        return false;
      CageOptimizerOp stepped = cageOptimizerOpRead(one);
      newW = stepped.newW;
      for (intptr_t j = 0; j < numState; ++j)
        newState[j] = stepped.newState[j];
    }
    lowerReplace(results, p.newW, newW);
    for (intptr_t j = 0; j < numState; ++j)
      lowerReplace(results, p.newState[j], newState[j]);
  }
  return true;
}

static bool buildMultiUpdate(CageBuilder *b, MlirOperation op,
                             LowerResults *results) {
  return lowerCanFuseUpdate(op)
             ? lowerBuildFusedUpdate(b, op, LowerUpdateChunks, results)
             : buildSplitMultiUpdate(b, op, results);
}

static bool buildMultiUpdateElements(CageBuilder *b, MlirOperation op,
                                     LowerResults *results) {
  return lowerCanFuseUpdate(op)
             ? lowerBuildFusedUpdate(b, op, LowerUpdateElements, results)
             : buildSplitMultiUpdate(b, op, results);
}

void cagePopulateMultiUpdateLoweringPatterns(MlirContext ctx,
                                             MlirRewritePatternSet patterns,
                                             LowerUpdateForm form) {
  static LowerPattern chunks[] = {{"cage.multi_update", buildMultiUpdate}};
  static LowerPattern elements[] = {
      {"cage.multi_update", buildMultiUpdateElements}};
  lowerAddPatterns(ctx, patterns,
                   form == LowerUpdateElements ? elements : chunks, 1);
}
