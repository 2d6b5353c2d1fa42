/*===- StructuredRules.c - Adjoints of linalg ops -------------------------===*/
//
// One rule for every linalg op with a body (docs/Training.md, "How
// cage-autodiff differentiates"). A structured op computes, for every point
// of its iteration space, its result at the output's map from its inputs at
// theirs. The adjoint of input k is therefore an op over the same iteration
// space that reads the cotangent with the output's map and writes input k's
// gradient with input k's map; the loops missing from that map become
// reductions (a broadcast input sums the gradients of its copies). Its body
// is the forward body cloned, then differentiated by the scalar rules.
// Reductions (an output that is also read as the accumulator) are
// recognized in the forms acc + f, acc - f, max(acc, f) and min(acc, f).
//
// Special cases: the contractions of linalg.matmul become named
// linalg.matmul ops (with explicit indexing maps), linalg.fill sums its
// cotangent into the scalar, and linalg.softmax has its closed form.
//
//===----------------------------------------------------------------------===//

#include "Autodiff.h"

#include "IR/Ops.h"

#include "mlir-c/AffineExpr.h"
#include "mlir-c/BuiltinAttributes.h"
#include "mlir-c/BuiltinTypes.h"

#include <stdio.h>
#include <stdlib.h>

/* A linalg op read as inputs, one init, their maps, the loops, and a body
 * whose arguments are the inputs' elements then (unless `noOutArg`: the body
 * of linalg.map) the init's. */
typedef struct StructuredView {
  MlirOperation op;
  intptr_t numInputs; /* the inputs are operands 0..numInputs-1 */
  MlirValue init;
  MlirAffineMap *maps; /* numInputs + 1, the init's last */
  bool *reduction;     /* per loop */
  intptr_t numLoops;
  MlirBlock body;
  bool noOutArg;
} StructuredView;

static void viewDestroy(StructuredView *v) {
  free(v->maps);
  free(v->reduction);
}

static MlirAffineMap dimsMap(MlirContext ctx, intptr_t numDims,
                             const intptr_t *dims, intptr_t numResults) {
  MlirAffineExpr *exprs = cageAllocArray(numResults, sizeof *exprs);
  for (intptr_t i = 0; i < numResults; ++i)
    exprs[i] = mlirAffineDimExprGet(ctx, dims[i]);
  MlirAffineMap map = mlirAffineMapGet(ctx, numDims, 0, numResults, exprs);
  free(exprs);
  return map;
}

static intptr_t dimOf(MlirAffineMap map, intptr_t result) {
  MlirAffineExpr e = mlirAffineMapGetResult(map, result);
  return mlirAffineExprIsADim(e) ? mlirAffineDimExprGetPosition(e) : -1;
}

static bool mapHasDim(MlirAffineMap map, intptr_t dim) {
  for (intptr_t r = 0, e = mlirAffineMapGetNumResults(map); r < e; ++r)
    if (dimOf(map, r) == dim)
      return true;
  return false;
}

static intptr_t rankOf(MlirValue v) {
  MlirType t = mlirValueGetType(v);
  return mlirTypeIsAShaped(t) ? mlirShapedTypeGetRank(t) : 0;
}

/* The maps in the `indexing_maps` array of `op`, if it has one. */
static bool readMaps(MlirOperation op, MlirAffineMap *maps, intptr_t count) {
  MlirAttribute attr = cageOpAttribute(op, "indexing_maps");
  if (mlirAttributeIsNull(attr) || !mlirAttributeIsAArray(attr) ||
      mlirArrayAttrGetNumElements(attr) != count)
    return false;
  for (intptr_t i = 0; i < count; ++i)
    maps[i] = mlirAffineMapAttrGetValue(mlirArrayAttrGetElement(attr, i));
  return true;
}

/* The named linalg ops that apply their body element by element. */
static const char *const kElementwiseNamedOps[] = {
    "linalg.add",   "linalg.sub",        "linalg.mul",    "linalg.div",
    "linalg.max",   "linalg.min",        "linalg.powf",   "linalg.exp",
    "linalg.log",   "linalg.abs",        "linalg.negf",   "linalg.sqrt",
    "linalg.rsqrt", "linalg.reciprocal", "linalg.square", "linalg.tanh",
    "linalg.erf",   "linalg.copy",       "linalg.select"};

/* Reads the ops that have a body and one result; false for other ops. */
static bool viewOf(MlirContext ctx, MlirOperation op, StructuredView *v) {
  if (!cageOpHasPrefix(op, "linalg.") || mlirOperationGetNumResults(op) != 1 ||
      mlirOperationGetNumRegions(op) != 1)
    return false;
  MlirBlock body = mlirRegionGetFirstBlock(mlirOperationGetRegion(op, 0));
  if (mlirBlockIsNull(body))
    return false;
  intptr_t numOperands = mlirOperationGetNumOperands(op);
  *v = (StructuredView){.op = op,
                        .numInputs = numOperands - 1,
                        .init = mlirOperationGetOperand(op, numOperands - 1),
                        .body = body};
  intptr_t rank = rankOf(v->init);
  v->maps = cageAllocArray(numOperands, sizeof *v->maps);

  if (cageOpIs(op, "linalg.generic")) {
    readMaps(op, v->maps, numOperands);
    v->numLoops = cageGenericNumLoops(op);
    v->reduction = cageAllocArray(v->numLoops, sizeof *v->reduction);
    for (intptr_t d = 0; d < v->numLoops; ++d)
      v->reduction[d] = !cageGenericLoopIsParallel(op, d);
    return true;
  }
  bool matmul = cageOpIs(op, "linalg.matmul");
  if (matmul || cageOpIs(op, "linalg.batch_matmul")) {
    /* (batch,) m, n, k: the default maps unless the op has its own. */
    intptr_t n = matmul ? 3 : 4, b = matmul ? 0 : 1;
    v->numLoops = n;
    v->reduction = cageAllocArray(n, sizeof *v->reduction);
    v->reduction[n - 1] = true;
    if (!readMaps(op, v->maps, 3)) {
      intptr_t lhs[] = {0, b, b + 2}, rhs[] = {0, b + 2, b + 1},
               out[] = {0, b, b + 1};
      v->maps[0] = dimsMap(ctx, n, lhs + (matmul ? 1 : 0), 2 + b);
      v->maps[1] = dimsMap(ctx, n, rhs + (matmul ? 1 : 0), 2 + b);
      v->maps[2] = dimsMap(ctx, n, out + (matmul ? 1 : 0), 2 + b);
    }
    return true;
  }
  v->numLoops = rank;
  v->reduction = cageAllocArray(rank, sizeof *v->reduction);
  MlirAffineMap identity = cagePrefixMap(ctx, rank, rank);
  intptr_t *dims = cageAllocArray(rank, sizeof *dims);
  bool known = true;
  if (cageOpIs(op, "linalg.transpose")) {
    /* result[i] = input[permutation[i]] */
    MlirAttribute perm = cageOpAttribute(op, "permutation");
    for (intptr_t i = 0; i < rank; ++i)
      dims[mlirDenseI64ArrayGetElement(perm, i)] = i;
    v->maps[0] = dimsMap(ctx, rank, dims, rank);
  } else if (cageOpIs(op, "linalg.broadcast")) {
    /* `dimensions`: the loops the input does not have. */
    MlirAttribute added = cageOpAttribute(op, "dimensions");
    intptr_t n = 0;
    for (intptr_t d = 0; d < rank; ++d) {
      bool isAdded = false;
      for (intptr_t i = 0; i < mlirDenseArrayGetNumElements(added); ++i)
        isAdded |= mlirDenseI64ArrayGetElement(added, i) == d;
      if (!isAdded)
        dims[n++] = d;
    }
    v->maps[0] = dimsMap(ctx, rank, dims, n);
  } else if (cageOpIs(op, "linalg.reduce")) {
    /* The inputs have every loop, the init all but the reduced ones. */
    MlirAttribute reduced = cageOpAttribute(op, "dimensions");
    intptr_t inRank = rankOf(mlirOperationGetOperand(op, 0)), n = 0;
    free(v->reduction);
    v->numLoops = inRank;
    v->reduction = cageAllocArray(inRank, sizeof *v->reduction);
    free(dims);
    dims = cageAllocArray(inRank, sizeof *dims);
    for (intptr_t i = 0; i < mlirDenseArrayGetNumElements(reduced); ++i)
      v->reduction[mlirDenseI64ArrayGetElement(reduced, i)] = true;
    for (intptr_t d = 0; d < inRank; ++d)
      if (!v->reduction[d])
        dims[n++] = d;
    for (intptr_t i = 0; i < v->numInputs; ++i)
      v->maps[i] = cagePrefixMap(ctx, inRank, inRank);
    v->maps[v->numInputs] = dimsMap(ctx, inRank, dims, n);
    free(dims);
    return true;
  } else if (cageOpIs(op, "linalg.map")) {
    v->noOutArg = true;
    for (intptr_t i = 0; i < v->numInputs; ++i)
      v->maps[i] = identity;
  } else {
    /* The element-wise named ops: identity maps, scalars broadcast. Other
     * named ops (convolutions, pooling, dot, ...) have no view: their maps
     * are not known here, and they are reported. */
    known = false;
    for (size_t i = 0; i < sizeof kElementwiseNamedOps / sizeof(char *); ++i)
      known |= cageOpIs(op, kElementwiseNamedOps[i]);
    for (intptr_t i = 0; i < v->numInputs; ++i)
      v->maps[i] =
          mlirTypeIsAShaped(mlirValueGetType(mlirOperationGetOperand(op, i)))
              ? identity
              : cagePrefixMap(ctx, rank, 0);
  }
  free(dims);
  v->maps[v->numInputs] = identity;
  if (!known)
    viewDestroy(v);
  return known;
}

/*===--- The generic rule -------------------------------------------------===*/

typedef enum Combine {
  CombineNone,
  CombineAdd,
  CombineSub,
  CombineMax,
  CombineMin
} Combine;

/* How the body of a reduction combines its accumulator `acc` with the
 * value f it reduces: the op yielded, and f. */
static Combine reductionCombine(MlirValue yielded, MlirValue acc,
                                MlirOperation *combineOp, MlirValue *f) {
  MlirOperation def = cageDefiningOp(yielded);
  if (mlirOperationIsNull(def) || mlirOperationGetNumOperands(def) != 2)
    return CombineNone;
  MlirValue lhs = mlirOperationGetOperand(def, 0);
  MlirValue rhs = mlirOperationGetOperand(def, 1);
  bool accLhs = mlirValueEqual(lhs, acc), accRhs = mlirValueEqual(rhs, acc);
  if (accLhs == accRhs)
    return CombineNone;
  *combineOp = def;
  *f = accLhs ? rhs : lhs;
  if (cageOpIs(def, "arith.addf"))
    return CombineAdd;
  if (cageOpIs(def, "arith.subf"))
    return accLhs ? CombineSub : CombineNone;
  if (cageOpIs(def, "arith.maximumf") || cageOpIs(def, "arith.maxnumf"))
    return CombineMax;
  if (cageOpIs(def, "arith.minimumf") || cageOpIs(def, "arith.minnumf"))
    return CombineMin;
  return CombineNone;
}

static intptr_t numUses(MlirValue v) {
  intptr_t n = 0;
  for (MlirOpOperand u = mlirValueGetFirstUse(v); !mlirOpOperandIsNull(u);
       u = mlirOpOperandGetNextUse(u))
    ++n;
  return n;
}

/* What the body of one adjoint op needs. */
typedef struct AdjointBody {
  const StructuredView *view;
  MlirValue target;        /* the forward body argument differentiated */
  MlirOperation combineOp; /* of a reduction; null otherwise */
  MlirValue f;             /* what a reduction reduces, or the yielded value */
  Combine combine;
  const CageValueMap *depends; /* body values that depend on `target` */
  bool accumulate;
  /* Whether the adjoint op reads the forward init (the body reads its
   * element) and the forward result (a max or min reduction compares with
   * it); it always reads the cotangent. */
  bool readsInit, readsResult;
} AdjointBody;

static void addTo(CageBuilder *b, CageValueMap *adj, MlirValue v,
                  MlirValue contribution) {
  MlirValue old = cageValueMapLookup(adj, v);
  cageValueMapSet(adj, v,
                  mlirValueIsNull(old) ? contribution
                                       : cageBuildAddF(b, old, contribution));
}

/* Body arguments: the forward inputs, the forward init, the forward result,
 * the cotangent, then the gradient accumulated. */
static void buildAdjointBody(CageBuilder *body, const MlirValue *args,
                             intptr_t numArgs, MlirValue *yielded,
                             void *userData) {
  const AdjointBody *a = userData;
  const StructuredView *v = a->view;
  intptr_t n = v->numInputs, next = n;
  MlirValue init = a->readsInit ? args[next++] : (MlirValue){NULL};
  MlirValue result = a->readsResult ? args[next++] : (MlirValue){NULL};
  MlirValue dy = args[next], acc = args[numArgs - 1];

  /* The forward body, cloned onto the new arguments. */
  CageValueMap clone = {0};
  intptr_t numFwdArgs = mlirBlockGetNumArguments(v->body);
  for (intptr_t i = 0; i < numFwdArgs; ++i)
    cageValueMapSet(&clone, mlirBlockGetArgument(v->body, i),
                    i < n ? args[i] : init);
  MlirOperation terminator = mlirBlockGetTerminator(v->body);
  intptr_t numOps = 0;
  for (MlirOperation op = mlirBlockGetFirstOperation(v->body);
       !mlirOperationEqual(op, terminator);
       op = mlirOperationGetNextInBlock(op))
    ++numOps;
  MlirOperation *fwdOps = cageAllocArray(numOps, sizeof *fwdOps);
  numOps = 0;
  for (MlirOperation op = mlirBlockGetFirstOperation(v->body);
       !mlirOperationEqual(op, terminator);
       op = mlirOperationGetNextInBlock(op)) {
    if (!mlirOperationIsNull(a->combineOp) &&
        mlirOperationEqual(op, a->combineOp))
      continue;
    fwdOps[numOps++] = op;
    MlirOperation copy = mlirOperationClone(op);
    for (intptr_t i = 0, e = mlirOperationGetNumOperands(op); i < e; ++i) {
      MlirValue mapped =
          cageValueMapLookup(&clone, mlirOperationGetOperand(op, i));
      if (!mlirValueIsNull(mapped))
        mlirOperationSetOperand(copy, i, mapped);
    }
    cageBuilderInsert(body, copy);
    for (intptr_t i = 0, e = mlirOperationGetNumResults(op); i < e; ++i)
      cageValueMapSet(&clone, mlirOperationGetResult(op, i),
                      mlirOperationGetResult(copy, i));
  }

  /* The seed: the cotangent of what the body yields or reduces. */
  CageValueMap adj = {0};
  MlirValue seed = dy;
  MlirValue f = cageValueMapLookup(&clone, a->f);
  if (mlirValueIsNull(f))
    f = a->f; /* a value captured from outside the body */
  if (a->combine == CombineSub)
    seed = cageBuildNegF(body, dy);
  else if (a->combine == CombineMax || a->combine == CombineMin)
    /* Every element equal to the extremum gets the cotangent. */
    seed = cageBuildSelect(
        body, cageBuildCmpF(body, CageCmpFOEQ, f, result), dy,
        cageBuildConstantFloat(body, mlirValueGetType(dy), 0.0));
  cageValueMapSet(&adj, a->f, seed);

  /* The reverse sweep over the cloned body. */
  for (intptr_t k = numOps - 1; k >= 0; --k) {
    MlirOperation op = fwdOps[k];
    if (mlirOperationGetNumResults(op) != 1)
      continue;
    MlirValue r = mlirOperationGetResult(op, 0);
    MlirValue dr = cageValueMapLookup(&adj, r);
    if (mlirValueIsNull(dr) || !cageValueMapContains(a->depends, r))
      continue;
    intptr_t numOperands = mlirOperationGetNumOperands(op);
    MlirValue *operands = cageAllocArray(numOperands, sizeof *operands);
    bool *active = cageAllocArray(numOperands, sizeof *active);
    for (intptr_t i = 0; i < numOperands; ++i) {
      MlirValue fwd = mlirOperationGetOperand(op, i);
      MlirValue mapped = cageValueMapLookup(&clone, fwd);
      operands[i] = mlirValueIsNull(mapped) ? fwd : mapped;
      active[i] = cageValueMapContains(a->depends, fwd);
    }
    for (intptr_t i = 0; i < numOperands; ++i) {
      if (!active[i])
        continue;
      MlirValue d = adScalarRule(body, op, operands,
                                 cageValueMapLookup(&clone, r), dr, i, active);
      if (!mlirValueIsNull(d))
        addTo(body, &adj, mlirOperationGetOperand(op, i), d);
    }
    free(active);
    free(operands);
  }

  MlirValue grad = cageValueMapLookup(&adj, a->target);
  if (mlirValueIsNull(grad))
    grad = cageBuildConstantFloat(body, mlirValueGetType(dy), 0.0);
  yielded[0] = a->accumulate ? cageBuildAddF(body, acc, grad) : grad;
  free(fwdOps);
  cageValueMapDestroy(&adj);
  cageValueMapDestroy(&clone);
}

/* The body values that depend on `arg`; false (after reporting it) when one
 * of them comes from an op without a rule. */
static bool dependents(AdSweep *s, const StructuredView *v, MlirValue arg,
                       CageValueMap *depends) {
  cageValueMapSet(depends, arg, arg);
  MlirOperation terminator = mlirBlockGetTerminator(v->body);
  for (MlirOperation op = mlirBlockGetFirstOperation(v->body);
       !mlirOperationEqual(op, terminator);
       op = mlirOperationGetNextInBlock(op)) {
    bool depends_ = false;
    for (intptr_t i = 0, e = mlirOperationGetNumOperands(op); i < e; ++i)
      depends_ |= cageValueMapContains(depends, mlirOperationGetOperand(op, i));
    if (!depends_ || mlirOperationGetNumResults(op) != 1)
      continue;
    MlirValue r = mlirOperationGetResult(op, 0);
    if (!mlirTypeIsAFloat(mlirValueGetType(r)))
      continue; /* a comparison: no gradient flows through it */
    if (!adScalarHasRule(op)) {
      char why[160];
      snprintf(why, sizeof why,
               "its body computes with '%.*s', which has no derivative rule",
               (int)mlirIdentifierStr(mlirOperationGetName(op)).length,
               mlirIdentifierStr(mlirOperationGetName(op)).data);
      adUnsupported(s, v->op, why);
      return false;
    }
    cageValueMapSet(depends, r, r);
  }
  return true;
}

static MlirType scalarTensorOf(MlirValue v);

/* The adjoint of operand `k` of `v` (an input, or the init at numInputs)
 * through the body; the forward body argument `arg` is its element. */
static void adjointThroughBody(AdSweep *s, const StructuredView *v,
                               MlirValue operand, MlirAffineMap map,
                               MlirValue arg, Combine combine,
                               MlirOperation combineOp, MlirValue f) {
  if (!mlirAffineMapIsProjectedPermutation(map)) {
    adUnsupported(s, v->op,
                  "an operand that it reads through an indexing map other "
                  "than a projected permutation of its loops is "
                  "differentiated");
    return;
  }
  CageValueMap depends = {0};
  if (!dependents(s, v, arg, &depends)) {
    cageValueMapDestroy(&depends);
    return;
  }
  if (!cageValueMapContains(&depends, f)) {
    cageValueMapDestroy(&depends); /* no path from the operand to the result */
    return;
  }
  CageBuilder *b = &s->b;
  MlirValue result = mlirOperationGetResult(v->op, 0);
  MlirValue dy = adAdjoint(s, result);
  /* A scalar captured by the body: its gradient sums over every iteration
   * into a rank-0 tensor. */
  bool captured = !mlirTypeIsAShaped(mlirValueGetType(operand));
  MlirValue existing = captured ? (MlirValue){NULL} : adAdjoint(s, operand);
  bool full = !captured && mlirAffineMapGetNumResults(map) == v->numLoops;
  AdjointBody a = {.view = v,
                   .target = arg,
                   .combineOp = combineOp,
                   .f = f,
                   .combine = combine,
                   .depends = &depends,
                   .accumulate = !mlirValueIsNull(existing) || !full};
  MlirValue out =
      !mlirValueIsNull(existing) ? existing
      : full                     ? cageBuildEmptyLike(b, operand)
      : captured
          ? cageBuildFill(b, adZerosLike(b, operand),
                          cageBuildEmpty(b, scalarTensorOf(operand), NULL, 0))
          : adZerosLike(b, operand);

  a.readsInit = !v->noOutArg &&
                numUses(mlirBlockGetArgument(v->body, v->numInputs)) > 0 &&
                mlirOperationIsNull(combineOp);
  a.readsResult = combine == CombineMax || combine == CombineMin;
  intptr_t n = v->numInputs, numIn = n;
  MlirValue *inputs = cageAllocArray(n + 3, sizeof *inputs);
  MlirAffineMap *maps = cageAllocArray(n + 4, sizeof *maps);
  for (intptr_t i = 0; i < n; ++i) {
    inputs[i] = mlirOperationGetOperand(v->op, i);
    maps[i] = v->maps[i];
  }
  if (a.readsInit)
    inputs[numIn++] = v->init;
  if (a.readsResult)
    inputs[numIn++] = result;
  inputs[numIn++] = dy;
  for (intptr_t i = n; i < numIn; ++i)
    maps[i] = v->maps[n];
  maps[numIn] = map;
  CageIteratorType *iterators = cageAllocArray(v->numLoops, sizeof *iterators);
  for (intptr_t d = 0; d < v->numLoops; ++d)
    iterators[d] =
        mapHasDim(map, d) ? CageIteratorParallel : CageIteratorReduction;
  CageGenericSpec spec = {inputs, numIn,     &out,        1,
                          maps,   iterators, v->numLoops, buildAdjointBody,
                          &a};
  MlirValue grad = cageOperationGetResult(cageBuildGeneric(b, &spec), 0);
  free(iterators);
  free(maps);
  free(inputs);
  cageValueMapDestroy(&depends);
  if (mlirValueIsNull(grad)) {
    s->failed = true;
    return;
  }
  if (captured)
    adAccumulate(s, operand, cageBuildExtract(b, grad, NULL, 0));
  else
    adSetAdjoint(s, operand, grad);
}

/* The rank-0 tensor type of the scalar `v`. */
static MlirType scalarTensorOf(MlirValue v) {
  return mlirRankedTensorTypeGet(0, NULL, mlirValueGetType(v),
                                 mlirAttributeGetNull());
}

/* The active values that ops of `body` read from outside it (the body's
 * own values are never in the sweep's active set), each once; free the
 * array. */
static MlirValue *capturedActive(const AdSweep *s, MlirBlock body,
                                 intptr_t *count) {
  intptr_t capacity = 0;
  for (MlirOperation op = mlirBlockGetFirstOperation(body);
       !mlirOperationIsNull(op); op = mlirOperationGetNextInBlock(op))
    capacity += mlirOperationGetNumOperands(op);
  MlirValue *list = cageAllocArray(capacity, sizeof *list);
  CageValueMap found = {0};
  *count = 0;
  for (MlirOperation op = mlirBlockGetFirstOperation(body);
       !mlirOperationIsNull(op); op = mlirOperationGetNextInBlock(op))
    for (intptr_t i = 0, e = mlirOperationGetNumOperands(op); i < e; ++i) {
      MlirValue v = mlirOperationGetOperand(op, i);
      if (adIsActive(s, v) && !cageValueMapContains(&found, v)) {
        cageValueMapSet(&found, v, v);
        list[(*count)++] = v;
      }
    }
  cageValueMapDestroy(&found);
  return list;
}

/*===--- Contractions as named linalg.matmul ------------------------------===*/

/* The adjoint of input k (0 or 1) of a linalg.matmul as a linalg.matmul:
 * its loops are input k's two dimensions then the third (contracted) one;
 * the cotangent and the other input are its operands, in the order the op
 * wants (the lhs has the first loop). False when the maps do not have that
 * form (the generic rule then builds a linalg.generic). */
static bool matmulAdjoint(AdSweep *s, const StructuredView *v, intptr_t k) {
  MlirAffineMap target = v->maps[k], other = v->maps[1 - k], out = v->maps[2];
  if (mlirAffineMapGetNumResults(target) != 2 ||
      mlirAffineMapGetNumResults(other) != 2 ||
      mlirAffineMapGetNumResults(out) != 2 ||
      !mlirAffineMapIsProjectedPermutation(target) ||
      !mlirAffineMapIsProjectedPermutation(other) ||
      !mlirAffineMapIsProjectedPermutation(out))
    return false;
  intptr_t newIndex[3] = {-1, -1, -1};
  newIndex[dimOf(target, 0)] = 0;
  newIndex[dimOf(target, 1)] = 1;
  for (intptr_t d = 0; d < 3; ++d)
    if (newIndex[d] < 0)
      newIndex[d] = 2;
  /* The maps of the cotangent and the other input, in the new loops. */
  MlirAffineMap renamed[2];
  MlirAffineMap from[2] = {out, other};
  bool hasFirst[2];
  for (int i = 0; i < 2; ++i) {
    intptr_t dims[2] = {newIndex[dimOf(from[i], 0)],
                        newIndex[dimOf(from[i], 1)]};
    renamed[i] = dimsMap(s->context, 3, dims, 2);
    hasFirst[i] = mapHasDim(renamed[i], 0);
  }
  /* One operand must have loops {0, 2}, the other {1, 2}. */
  if (hasFirst[0] == hasFirst[1])
    return false;
  for (int i = 0; i < 2; ++i)
    if (!mapHasDim(renamed[i], 2) ||
        !mapHasDim(renamed[i], hasFirst[i] ? 0 : 1))
      return false;
  CageBuilder *b = &s->b;
  MlirValue operand = mlirOperationGetOperand(v->op, k);
  MlirValue dy = adAdjoint(s, mlirOperationGetResult(v->op, 0));
  MlirValue values[2] = {dy, mlirOperationGetOperand(v->op, 1 - k)};
  int lhs = hasFirst[0] ? 0 : 1;
  intptr_t outDims[] = {0, 1};
  MlirAffineMap maps[3] = {renamed[lhs], renamed[1 - lhs],
                           dimsMap(s->context, 3, outDims, 2)};
  MlirValue existing = adAdjoint(s, operand);
  MlirValue init =
      mlirValueIsNull(existing) ? adZerosLike(b, operand) : existing;
  MlirValue grad = cageBuildMatmul(b, values[lhs], values[1 - lhs], init, maps);
  if (mlirValueIsNull(grad))
    s->failed = true;
  else
    adSetAdjoint(s, operand, grad);
  return true;
}

static void viewRule(AdSweep *s, const StructuredView *v) {
  MlirValue result = mlirOperationGetResult(v->op, 0);
  if (mlirValueIsNull(adAdjoint(s, result)))
    return; /* nothing flows back */
  MlirOperation terminator = mlirBlockGetTerminator(v->body);
  MlirValue yielded = mlirOperationGetOperand(terminator, 0);
  MlirValue outArg = v->noOutArg ? (MlirValue){NULL}
                                 : mlirBlockGetArgument(v->body, v->numInputs);
  bool reduces = false;
  for (intptr_t d = 0; d < v->numLoops; ++d)
    reduces |= v->reduction[d];

  Combine combine = CombineNone;
  MlirOperation combineOp = {NULL};
  MlirValue f = yielded;
  if (reduces) {
    combine = reductionCombine(yielded, outArg, &combineOp, &f);
    if (combine == CombineNone || numUses(outArg) != 1) {
      adUnsupported(s, v->op,
                    "it reduces with a body other than acc + f, acc - f, "
                    "max(acc, f) or min(acc, f), where f does not read acc");
      return;
    }
  }

  bool matmul = cageOpIs(v->op, "linalg.matmul");
  for (intptr_t k = 0; k < v->numInputs && !s->failed; ++k) {
    MlirValue operand = mlirOperationGetOperand(v->op, k);
    if (!adIsActive(s, operand))
      continue;
    if (matmul && matmulAdjoint(s, v, k))
      continue;
    adjointThroughBody(s, v, operand, v->maps[k],
                       mlirBlockGetArgument(v->body, k), combine, combineOp, f);
  }
  /* Scalars the body reads from outside (a constant of the loss, a
   * parameter's element): their gradients sum over the iterations. */
  intptr_t numCaptured;
  MlirValue *captured = capturedActive(s, v->body, &numCaptured);
  for (intptr_t i = 0; i < numCaptured && !s->failed; ++i) {
    if (mlirTypeIsAShaped(mlirValueGetType(captured[i]))) {
      adUnsupported(s, v->op,
                    "its body reads a differentiated tensor defined outside "
                    "it; pass the tensor as an input instead");
      break;
    }
    adjointThroughBody(s, v, captured[i],
                       cagePrefixMap(s->context, v->numLoops, 0), captured[i],
                       combine, combineOp, f);
  }
  free(captured);

  if (s->failed || !adIsActive(s, v->init))
    return;
  /* The init: the first accumulator of a reduction, or a body argument. */
  MlirValue dy = adAdjoint(s, result);
  if (combine == CombineAdd || combine == CombineSub)
    adAccumulate(s, v->init, dy);
  else if (combine == CombineMax || combine == CombineMin)
    adUnsupported(s, v->op,
                  "the initial value of a max or min reduction is "
                  "differentiated");
  else if (!v->noOutArg && numUses(outArg) > 0)
    adjointThroughBody(s, v, v->init, v->maps[v->numInputs], outArg, combine,
                       combineOp, f);
}

/*===--- linalg.fill and linalg.softmax -----------------------------------===*/

static void sumBody(CageBuilder *body, const MlirValue *args, intptr_t numArgs,
                    MlirValue *yielded, void *userData) {
  (void)numArgs, (void)userData;
  yielded[0] = cageBuildAddF(body, args[1], args[0]);
}

/* The sum of the elements of the tensor `t`, as a scalar. */
static MlirValue sumAll(CageBuilder *b, MlirValue t) {
  intptr_t rank = rankOf(t);
  MlirType scalarTensor = mlirRankedTensorTypeGet(
      0, NULL, mlirShapedTypeGetElementType(mlirValueGetType(t)),
      mlirAttributeGetNull());
  MlirValue init =
      cageBuildFill(b,
                    cageBuildConstantFloat(
                        b, mlirShapedTypeGetElementType(scalarTensor), 0.0),
                    cageBuildEmpty(b, scalarTensor, NULL, 0));
  MlirAffineMap maps[] = {cagePrefixMap(b->context, rank, rank),
                          cagePrefixMap(b->context, rank, 0)};
  CageIteratorType *iterators = cageAllocArray(rank, sizeof *iterators);
  for (intptr_t d = 0; d < rank; ++d)
    iterators[d] = CageIteratorReduction;
  CageGenericSpec spec = {&t,        1,    &init,   1,   maps,
                          iterators, rank, sumBody, NULL};
  MlirValue sum = cageOperationGetResult(cageBuildGeneric(b, &spec), 0);
  free(iterators);
  return cageBuildExtract(b, sum, NULL, 0);
}

static void fillRule(AdSweep *s, MlirOperation op) {
  MlirValue value = mlirOperationGetOperand(op, 0);
  MlirValue dy = adAdjoint(s, mlirOperationGetResult(op, 0));
  if (!mlirValueIsNull(dy) && adIsActive(s, value))
    adAccumulate(s, value, sumAll(&s->b, dy));
}

static void productBody(CageBuilder *body, const MlirValue *args,
                        intptr_t numArgs, MlirValue *yielded, void *userData) {
  (void)numArgs, (void)userData;
  yielded[0] =
      cageBuildAddF(body, args[2], cageBuildMulF(body, args[0], args[1]));
}

/* y * (dy - sum over the dimension of dy * y) */
static void softmaxBody(CageBuilder *body, const MlirValue *args,
                        intptr_t numArgs, MlirValue *yielded, void *userData) {
  (void)numArgs, (void)userData;
  yielded[0] =
      cageBuildMulF(body, args[0], cageBuildSubF(body, args[1], args[2]));
}

static void softmaxRule(AdSweep *s, MlirOperation op) {
  MlirValue x = mlirOperationGetOperand(op, 0);
  MlirValue y = mlirOperationGetResult(op, 0);
  MlirValue dy = adAdjoint(s, y);
  if (mlirValueIsNull(dy) || !adIsActive(s, x))
    return;
  CageBuilder *b = &s->b;
  int64_t dim = mlirIntegerAttrGetValueInt(cageOpAttribute(op, "dimension"));
  /* The sums along the dimension, then the gradient. */
  MlirValue sumInputs[] = {dy, y};
  MlirValue dots =
      cageBuildReduceAlongDim(b, sumInputs, 2, dim, 0.0, productBody, NULL);
  MlirValue gradInputs[] = {y, dy};
  MlirValue dx = cageBuildElementwiseWithRows(
      b, gradInputs, 2, dots, dim, cageBuildEmptyLike(b, x), softmaxBody, NULL);
  if (mlirValueIsNull(dx))
    s->failed = true;
  else
    adAccumulate(s, x, dx);
}

bool adStructuredRule(AdSweep *s, MlirOperation op) {
  if (cageOpIs(op, "linalg.fill")) {
    fillRule(s, op);
    return true;
  }
  if (cageOpIs(op, "linalg.softmax")) {
    softmaxRule(s, op);
    return true;
  }
  if (cageOpIs(op, "linalg.generic") && mlirOperationGetNumResults(op) != 1) {
    char why[160];
    snprintf(why, sizeof why,
             "it has %d results; linalg ops with one result are "
             "differentiated (write one op per result)",
             (int)mlirOperationGetNumResults(op));
    adUnsupported(s, op, why);
    return true;
  }
  StructuredView v;
  if (!viewOf(s->context, op, &v))
    return false;
  viewRule(s, &v);
  viewDestroy(&v);
  return true;
}
