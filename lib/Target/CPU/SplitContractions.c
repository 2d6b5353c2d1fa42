/*===- SplitContractions.c - Operand computations out of contractions -----===*\
|*                                                                            *|
|* linalg-fuse-elementwise-ops folds reshapes into the ops around them: a     *|
|* projection whose result is split into heads becomes a linalg.generic of    *|
|* several M or N loops, and elementwise producers then fuse into it, so a    *|
|* weight's or an activation's fake quantizer (its scale a loop-invariant     *|
|* input) is recomputed for every row or column of the product inside the    *|
|* reduction loop. Part of cage-cpu-pack-contractions: a linalg.generic      *|
|*                                                                            *|
|*   out = out + f(inputs of A's loops) * g(inputs of B's loops)              *|
|*                                                                            *|
|* becomes one elementwise linalg.generic per computed factor, over the      *|
|* loops that factor reads (a clone of the ops that compute it), and a       *|
|* generic that multiplies and adds, which the naming and packing that       *|
|* follow treat as any contraction. Each factor's ops are the fused ones,    *|
|* cloned in order, so every value, and the product, is the same bits.       *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#include "Passes.h"

#include "IR/Builder.h"
#include "IR/Ops.h"
#include "IR/ValueMap.h"

#include "mlir-c/AffineExpr.h"
#include "mlir-c/BuiltinAttributes.h"
#include "mlir-c/BuiltinTypes.h"
#include "mlir-c/Dialect/Linalg.h"

#include <stdlib.h>

#define MAX_LOOPS 16
#define MAX_INPUTS 32

/* A factor of the product, as the body computes it. */
typedef struct Factor {
  MlirValue value;
  bool computed;          /* by ops of the body, not a block argument */
  bool reads[MAX_INPUTS]; /* the inputs it reads */
  bool loops[MAX_LOOPS];  /* the loops it depends on */
  CageValueMap slice;     /* its body values (keys only) */
} Factor;

typedef struct Fused {
  MlirOperation op;
  MlirBlock body;
  intptr_t numLoops, numInputs;
  MlirAffineMap maps[MAX_INPUTS + 1];
  int64_t sizes[MAX_LOOPS];
  MlirValue outArg;
  bool outFirst; /* out + product, not product + out */
  Factor factors[2];
} Fused;

static MlirOperation definingOpIn(MlirValue v, MlirBlock block) {
  if (!mlirValueIsAOpResult(v))
    return (MlirOperation){NULL};
  MlirOperation op = mlirOpResultGetOwner(v);
  return mlirBlockEqual(mlirOperationGetBlock(op), block)
             ? op
             : (MlirOperation){NULL};
}

/* Records what `v` depends on in `f`; false if it reads the output or an
 * op with regions. */
static bool trace(const Fused *c, Factor *f, MlirValue v) {
  if (cageValueMapContains(&f->slice, v))
    return true;
  if (mlirValueIsABlockArgument(v) &&
      mlirBlockEqual(mlirBlockArgumentGetOwner(v), c->body)) {
    intptr_t i = mlirBlockArgumentGetArgNumber(v);
    if (i >= c->numInputs)
      return false;
    f->reads[i] = true;
    for (intptr_t r = 0; r < mlirAffineMapGetNumResults(c->maps[i]); ++r)
      f->loops[mlirAffineDimExprGetPosition(
          mlirAffineMapGetResult(c->maps[i], r))] = true;
    return true;
  }
  MlirOperation op = definingOpIn(v, c->body);
  if (mlirOperationIsNull(op))
    return true; /* defined outside the body */
  if (mlirOperationGetNumRegions(op) != 0 ||
      mlirOperationGetNumResults(op) != 1)
    return false;
  cageValueMapSet(&f->slice, v, v);
  if (cageOpIs(op, "linalg.index")) {
    int64_t dim = mlirIntegerAttrGetValueInt(cageOpAttribute(op, "dim"));
    if (dim < 0 || dim >= c->numLoops)
      return false;
    f->loops[dim] = true;
    return true;
  }
  for (intptr_t i = 0; i < mlirOperationGetNumOperands(op); ++i)
    if (!trace(c, f, mlirOperationGetOperand(op, i)))
      return false;
  return true;
}

static bool isDimMap(MlirAffineMap map) {
  for (intptr_t r = 0; r < mlirAffineMapGetNumResults(map); ++r)
    if (!mlirAffineExprIsADim(mlirAffineMapGetResult(map, r)))
      return false;
  return true;
}

/* The sizes of the loops of `c->op`, from its operands' static shapes. */
static bool loopSizes(Fused *c) {
  for (intptr_t d = 0; d < c->numLoops; ++d)
    c->sizes[d] = -1;
  for (intptr_t i = 0; i <= c->numInputs; ++i) {
    MlirType t = mlirValueGetType(mlirOperationGetOperand(c->op, i));
    if (!mlirTypeIsARankedTensor(t) || !mlirShapedTypeHasStaticShape(t))
      return false;
    for (intptr_t r = 0; r < mlirAffineMapGetNumResults(c->maps[i]); ++r)
      c->sizes[mlirAffineDimExprGetPosition(mlirAffineMapGetResult(
          c->maps[i], r))] = mlirShapedTypeGetDimSize(t, r);
  }
  for (intptr_t d = 0; d < c->numLoops; ++d)
    if (c->sizes[d] < 0)
      return false;
  return true;
}

/* Whether the body of `op` ends in out + x * y (or the sum reversed), with
 * the factors x and y worth splitting out; fills `c`. */
static bool analyze(MlirOperation op, Fused *c) {
  *c = (Fused){.op = op};
  if (!cageOpIs(op, "linalg.generic") || mlirOperationGetNumResults(op) != 1)
    return false;
  c->numLoops = cageGenericNumLoops(op);
  c->numInputs = mlirOperationGetNumOperands(op) - 1;
  if (c->numLoops > MAX_LOOPS || c->numInputs > MAX_INPUTS || c->numInputs < 1)
    return false;
  bool reduces = false;
  for (intptr_t d = 0; d < c->numLoops; ++d)
    reduces |= !cageGenericLoopIsParallel(op, d);
  MlirAttribute maps = mlirLinalgGetIndexingMapsAttribute(op);
  for (intptr_t i = 0; i <= c->numInputs; ++i) {
    c->maps[i] = mlirAffineMapAttrGetValue(mlirArrayAttrGetElement(maps, i));
    if (!isDimMap(c->maps[i]))
      return false;
  }
  if (!reduces || !loopSizes(c))
    return false;
  c->body = mlirRegionGetFirstBlock(mlirOperationGetRegion(op, 0));
  c->outArg = mlirBlockGetArgument(c->body, c->numInputs);
  MlirOperation yield = mlirBlockGetTerminator(c->body);
  if (mlirOperationGetNumOperands(yield) != 1)
    return false;
  MlirOperation sum = definingOpIn(mlirOperationGetOperand(yield, 0), c->body);
  if (mlirOperationIsNull(sum) || !cageOpIs(sum, "arith.addf"))
    return false;
  c->outFirst = mlirValueEqual(mlirOperationGetOperand(sum, 0), c->outArg);
  MlirValue productValue = mlirOperationGetOperand(sum, c->outFirst ? 1 : 0);
  if (!c->outFirst &&
      !mlirValueEqual(mlirOperationGetOperand(sum, 1), c->outArg))
    return false;
  MlirOperation product = definingOpIn(productValue, c->body);
  if (mlirOperationIsNull(product) || !cageOpIs(product, "arith.mulf"))
    return false;
  /* The output is read by the sum alone, and the product only by it. */
  MlirOpOperand use = mlirValueGetFirstUse(c->outArg);
  if (mlirOpOperandIsNull(use) ||
      !mlirOpOperandIsNull(mlirOpOperandGetNextUse(use)))
    return false;
  use = mlirValueGetFirstUse(productValue);
  if (!mlirOpOperandIsNull(mlirOpOperandGetNextUse(use)))
    return false;
  bool anyComputed = false;
  for (int s = 0; s < 2; ++s) {
    Factor *f = &c->factors[s];
    f->value = mlirOperationGetOperand(product, s);
    if (!trace(c, f, f->value))
      return false;
    f->computed = !mlirOperationIsNull(definingOpIn(f->value, c->body));
    anyComputed |= f->computed;
    /* Worth it only when the factor lacks a loop: it is then computed
     * once per element of its own, not once per element of the product. */
    bool missing = false;
    for (intptr_t d = 0; d < c->numLoops; ++d)
      missing |= !f->loops[d];
    bool readsInput = false;
    for (intptr_t i = 0; i < c->numInputs; ++i)
      readsInput |= f->reads[i];
    if (!missing || !readsInput || !mlirTypeIsAF32(mlirValueGetType(f->value)))
      return false;
  }
  return anyComputed;
}

/*===--- The factor as a generic of its own -------------------------------===*/

typedef struct Clone {
  const Fused *c;
  const Factor *f;
  const intptr_t *position; /* of each loop among the factor's */
} Clone;

/* The body of a factor's generic: the factor's ops in their order, on the
 * new block arguments (the inputs it reads, in order). */
static void cloneBody(CageBuilder *body, const MlirValue *args,
                      intptr_t numArgs, MlirValue *yielded, void *userData) {
  (void)numArgs;
  const Clone *k = userData;
  CageValueMap map = {0};
  intptr_t next = 0;
  for (intptr_t i = 0; i < k->c->numInputs; ++i)
    if (k->f->reads[i])
      cageValueMapSet(&map, mlirBlockGetArgument(k->c->body, i), args[next++]);
  for (MlirOperation op = mlirBlockGetFirstOperation(k->c->body);
       !mlirOperationIsNull(op); op = mlirOperationGetNextInBlock(op)) {
    if (mlirOperationGetNumResults(op) != 1)
      continue;
    MlirValue result = mlirOperationGetResult(op, 0);
    if (!cageValueMapContains(&k->f->slice, result))
      continue;
    MlirValue copy;
    if (cageOpIs(op, "linalg.index")) {
      int64_t dim = mlirIntegerAttrGetValueInt(cageOpAttribute(op, "dim"));
      copy = cageBuildLinalgIndex(body, k->position[dim]);
    } else {
      MlirOperation clone = mlirOperationClone(op);
      for (intptr_t i = 0; i < mlirOperationGetNumOperands(clone); ++i) {
        MlirValue to = cageValueMapLookup(&map, mlirOperationGetOperand(op, i));
        if (!mlirValueIsNull(to))
          mlirOperationSetOperand(clone, i, to);
      }
      copy = mlirOperationGetResult(cageBuilderInsert(body, clone), 0);
    }
    cageValueMapSet(&map, result, copy);
  }
  yielded[0] = cageValueMapLookup(&map, k->f->value);
  cageValueMapDestroy(&map);
}

/* `map` over the factor's loops: loop d at position[d]. */
static MlirAffineMap overFactorLoops(MlirAffineMap map, intptr_t numLoops,
                                     const intptr_t *position) {
  MlirContext ctx = mlirAffineMapGetContext(map);
  intptr_t n = mlirAffineMapGetNumResults(map);
  MlirAffineExpr exprs[MAX_LOOPS];
  for (intptr_t r = 0; r < n; ++r)
    exprs[r] = mlirAffineDimExprGet(
        ctx,
        position[mlirAffineDimExprGetPosition(mlirAffineMapGetResult(map, r))]);
  return mlirAffineMapGet(ctx, numLoops, 0, n, exprs);
}

/* The factor `f` as an elementwise generic over its loops, in the order of
 * the dimensions of the largest input it reads (then any other loop it
 * depends on, in the contraction's order): that input is read through the
 * identity, so the generic is a plain elementwise op, and the factor's
 * layout is its input's, which the naming that follows keeps when it is
 * already the matmul's; its map in the contraction goes to `map`. */
static MlirValue buildFactor(CageBuilder *b, const Fused *c, const Factor *f,
                             MlirAffineMap *map) {
  intptr_t position[MAX_LOOPS], numLoops = 0, main = -1;
  int64_t shape[MAX_LOOPS];
  MlirAffineExpr exprs[MAX_LOOPS];
  for (intptr_t i = 0; i < c->numInputs; ++i)
    if (f->reads[i] &&
        (main < 0 || mlirAffineMapGetNumResults(c->maps[i]) >
                         mlirAffineMapGetNumResults(c->maps[main])))
      main = i;
  for (intptr_t d = 0; d < c->numLoops; ++d)
    position[d] = -1;
  for (intptr_t r = 0; r < mlirAffineMapGetNumResults(c->maps[main]); ++r) {
    intptr_t d =
        mlirAffineDimExprGetPosition(mlirAffineMapGetResult(c->maps[main], r));
    if (position[d] < 0)
      position[d] = numLoops++;
  }
  for (intptr_t d = 0; d < c->numLoops; ++d)
    if (f->loops[d] && position[d] < 0)
      position[d] = numLoops++;
  for (intptr_t d = 0; d < c->numLoops; ++d) {
    if (position[d] < 0)
      continue;
    exprs[position[d]] = mlirAffineDimExprGet(b->context, d);
    shape[position[d]] = c->sizes[d];
  }
  *map = mlirAffineMapGet(b->context, c->numLoops, 0, numLoops, exprs);
  MlirValue inputs[MAX_INPUTS];
  MlirAffineMap maps[MAX_INPUTS + 1];
  CageIteratorType iterators[MAX_LOOPS];
  intptr_t numInputs = 0;
  for (intptr_t i = 0; i < c->numInputs; ++i) {
    if (!f->reads[i])
      continue;
    inputs[numInputs] = mlirOperationGetOperand(c->op, i);
    maps[numInputs++] = overFactorLoops(c->maps[i], numLoops, position);
  }
  maps[numInputs] = cagePrefixMap(b->context, numLoops, numLoops);
  for (intptr_t d = 0; d < numLoops; ++d)
    iterators[d] = CageIteratorParallel;
  MlirValue init = cageBuildEmpty(
      b,
      mlirRankedTensorTypeGet(numLoops, shape, mlirValueGetType(f->value),
                              mlirAttributeGetNull()),
      NULL, 0);
  Clone clone = {c, f, position};
  CageGenericSpec spec = {.inputs = inputs,
                          .numInputs = numInputs,
                          .outputs = &init,
                          .numOutputs = 1,
                          .indexingMaps = maps,
                          .iteratorTypes = iterators,
                          .numLoops = numLoops,
                          .body = cloneBody,
                          .userData = &clone};
  return cageOperationGetResult(cageBuildGeneric(b, &spec), 0);
}

/*===--- The contraction left -------------------------------------------===*/

static void multiplyAddBody(CageBuilder *body, const MlirValue *args,
                            intptr_t numArgs, MlirValue *yielded,
                            void *userData) {
  (void)numArgs;
  const Fused *c = userData;
  MlirValue product = cageBuildMulF(body, args[0], args[1]);
  yielded[0] = c->outFirst ? cageBuildAddF(body, args[2], product)
                           : cageBuildAddF(body, product, args[2]);
}

static void split(Fused *c) {
  CageBuilder b = cageBuilderDetached(mlirOperationGetLocation(c->op));
  MlirValue operands[2];
  MlirAffineMap maps[3];
  for (int s = 0; s < 2; ++s) {
    const Factor *f = &c->factors[s];
    if (f->computed) {
      operands[s] = buildFactor(&b, c, f, &maps[s]);
    } else {
      intptr_t i = mlirBlockArgumentGetArgNumber(f->value);
      operands[s] = mlirOperationGetOperand(c->op, i);
      maps[s] = c->maps[i];
    }
  }
  maps[2] = c->maps[c->numInputs];
  CageIteratorType iterators[MAX_LOOPS];
  for (intptr_t d = 0; d < c->numLoops; ++d)
    iterators[d] = cageGenericLoopIsParallel(c->op, d) ? CageIteratorParallel
                                                       : CageIteratorReduction;
  MlirValue init = mlirOperationGetOperand(c->op, c->numInputs);
  CageGenericSpec spec = {.inputs = operands,
                          .numInputs = 2,
                          .outputs = &init,
                          .numOutputs = 1,
                          .indexingMaps = maps,
                          .iteratorTypes = iterators,
                          .numLoops = c->numLoops,
                          .body = multiplyAddBody,
                          .userData = c};
  MlirValue result = cageOperationGetResult(cageBuildGeneric(&b, &spec), 0);
  cageBuilderMoveBefore(&b, c->op);
  if (mlirValueIsNull(result))
    return;
  mlirValueReplaceAllUsesOfWith(mlirOperationGetResult(c->op, 0), result);
  mlirOperationDestroy(c->op);
}

static bool isGeneric(MlirOperation op) {
  return cageOpIs(op, "linalg.generic");
}

void cageCPUSplitFusedContractions(MlirOperation module) {
  CageOpList ops = cageCollectOpsWhere(module, isGeneric);
  for (intptr_t i = 0; i < ops.size; ++i) {
    Fused c;
    if (analyze(ops.ops[i], &c))
      split(&c);
    for (int s = 0; s < 2; ++s)
      cageValueMapDestroy(&c.factors[s].slice);
  }
  cageOpListDestroy(&ops);
}
