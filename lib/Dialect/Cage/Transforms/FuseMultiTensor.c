/*===- FuseMultiTensor.c - cage-fuse-multi-tensor -------------------------===*\
|*                                                                            *|
|* Groups the optimizer steps of a block that share their hyper-parameters   *|
|* (cage.update with the same optimizer, quantizer, coupling, error and the  *|
|* same lr, lambda_t and t values; cage.adamw / cage.sgd with the same       *|
|* hyper-parameters, lr and t) and replaces each group of two or more by one *|
|* cage.multi_update, so that the lowering can update every parameter in one *|
|* parallel region. The new op takes the place of the group's last member;   *|
|* a member whose results are used before that place stays as it is.         *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#include "cage/Dialect/Cage/Transforms/Passes.h"

#include "IR/Ops.h"

#include "cage-c/Dialect/Cage.h"
#include "mlir-c/BuiltinAttributes.h"
#include "mlir-c/BuiltinTypes.h"

#include <stdlib.h>
#include <string.h>

static MlirStringRef str(const char *s) {
  return mlirStringRefCreateFromCString(s);
}

/*===--- Candidates -------------------------------------------------------===*/

/* One op that may join a cage.multi_update, with what it must share with the
 * other members of its group. */
typedef struct Candidate {
  MlirOperation op;
  bool isUpdate; /* cage.update (CAGE step) or cage.adamw/cage.sgd (plain) */
  /* The cage.multi_update attributes: the optimizer (for a plain op, built
   * from its hyper-parameters), and for cage.update the quantizer, coupling
   * and error (null for plain ops: the defaults). */
  MlirAttribute optimizer, quantizer, coupling, error;
  MlirValue lr, lambda, step; /* lambda and step null when absent */
  intptr_t numTensors;        /* w, g, state: 2 + S */
  intptr_t numResults;        /* new w, new state: 1 + S */
  bool dropped;               /* left out of its group (legality) */
} Candidate;

static bool isF32RankedTensor(MlirType type) {
  return mlirTypeIsARankedTensor(type) &&
         mlirTypeIsAF32(mlirShapedTypeGetElementType(type));
}

/* The first `numTensors` operands and all results are f32 ranked tensors of
 * the type of operand 0 (w). */
static bool tensorsAreUniformF32(MlirOperation op, intptr_t numTensors) {
  MlirType wType = mlirValueGetType(mlirOperationGetOperand(op, 0));
  if (!isF32RankedTensor(wType))
    return false;
  for (intptr_t i = 1; i < numTensors; ++i)
    if (!mlirTypeEqual(mlirValueGetType(mlirOperationGetOperand(op, i)), wType))
      return false;
  for (intptr_t i = 0, e = mlirOperationGetNumResults(op); i < e; ++i)
    if (!mlirTypeEqual(mlirValueGetType(mlirOperationGetResult(op, i)), wType))
      return false;
  return true;
}

static bool hasType(MlirValue value, MlirType type) {
  return mlirTypeEqual(mlirValueGetType(value), type);
}

/* Every attribute of `op` is one of the `numNames` names: an op with any
 * other (a discardable attribute, or an inherent one this pass does not
 * know) is left alone rather than have it dropped. */
static bool onlyAttributes(MlirOperation op, const char *const *names,
                           intptr_t numNames) {
  for (intptr_t i = 0, e = mlirOperationGetNumAttributes(op); i < e; ++i) {
    MlirStringRef name =
        mlirIdentifierStr(mlirOperationGetAttribute(op, i).name);
    bool known = false;
    for (intptr_t j = 0; j < numNames && !known; ++j)
      known = mlirStringRefEqual(name, str(names[j]));
    if (!known)
      return false;
  }
  return true;
}

/* An f32 attribute `name` of `op`, as a float. */
static bool f32Attr(MlirOperation op, const char *name, float *value) {
  MlirAttribute attr = cageOpAttribute(op, name);
  if (mlirAttributeIsNull(attr) || !mlirAttributeIsAFloat(attr) ||
      !mlirTypeIsAF32(mlirAttributeGetType(attr)))
    return false;
  *value = (float)mlirFloatAttrGetValueDouble(attr);
  return true;
}

/* cage.update w, g, state..., lr, lambda[, step] with f32 state (so no
 * seed: operandSegmentSizes [1, 1, S, 1, 1, 0|1, 0]), all tensors f32 of
 * one type. */
static bool updateCandidate(MlirOperation op, Candidate *c) {
  static const char *const names[] = {"quantizer", "optimizer", "coupling",
                                      "error", "operandSegmentSizes"};
  if (!onlyAttributes(op, names, sizeof names / sizeof names[0]))
    return false;
  MlirAttribute optimizer = cageOpAttribute(op, "optimizer");
  bool adamw = cageAttributeIsAAdamW(optimizer);
  if (!adamw && !cageAttributeIsASGD(optimizer))
    return false;
  intptr_t numState = adamw ? 2 : 1;
  int32_t expected[] = {1, 1, (int32_t)numState, 1, 1, adamw ? 1 : 0, 0};
  enum { kNumSegments = sizeof expected / sizeof expected[0] };
  MlirAttribute segments = cageOpAttribute(op, "operandSegmentSizes");
  if (mlirAttributeIsNull(segments) ||
      !mlirAttributeIsADenseI32Array(segments) ||
      mlirDenseArrayGetNumElements(segments) != kNumSegments)
    return false;
  for (intptr_t i = 0; i < kNumSegments; ++i)
    if (mlirDenseI32ArrayGetElement(segments, i) != expected[i])
      return false;
  intptr_t numTensors = 2 + numState;
  if (mlirOperationGetNumOperands(op) != numTensors + 2 + (adamw ? 1 : 0) ||
      mlirOperationGetNumResults(op) != 1 + numState ||
      !tensorsAreUniformF32(op, numTensors))
    return false;
  MlirContext ctx = mlirOperationGetContext(op);
  c->isUpdate = true;
  c->optimizer = optimizer;
  c->quantizer = cageOpAttribute(op, "quantizer");
  c->coupling = cageOpAttribute(op, "coupling");
  c->error = cageOpAttribute(op, "error");
  if (!cageAttributeIsAQuantizer(c->quantizer) ||
      !cageAttributeIsACoupling(c->coupling) ||
      !cageAttributeIsAErrorMode(c->error))
    return false;
  c->lr = mlirOperationGetOperand(op, numTensors);
  c->lambda = mlirOperationGetOperand(op, numTensors + 1);
  c->step =
      adamw ? mlirOperationGetOperand(op, numTensors + 2) : (MlirValue){NULL};
  c->numTensors = numTensors;
  c->numResults = 1 + numState;
  MlirType f32 = mlirF32TypeGet(ctx);
  return hasType(c->lr, f32) && hasType(c->lambda, f32) &&
         (!adamw || hasType(c->step, mlirIntegerTypeGet(ctx, 64)));
}

/* cage.adamw w, g, m, v, lr, step {beta1, beta2, eps, weight_decay}. */
static bool adamwCandidate(MlirOperation op, Candidate *c) {
  static const char *const names[] = {"beta1", "beta2", "eps", "weight_decay"};
  float beta1, beta2, eps, weightDecay;
  if (!onlyAttributes(op, names, sizeof names / sizeof names[0]) ||
      mlirOperationGetNumOperands(op) != 6 ||
      mlirOperationGetNumResults(op) != 3 || !tensorsAreUniformF32(op, 4) ||
      !f32Attr(op, "beta1", &beta1) || !f32Attr(op, "beta2", &beta2) ||
      !f32Attr(op, "eps", &eps) || !f32Attr(op, "weight_decay", &weightDecay))
    return false;
  MlirContext ctx = mlirOperationGetContext(op);
  c->isUpdate = false;
  c->optimizer = cageAdamWAttrGet(ctx, beta1, beta2, eps, weightDecay);
  c->lr = mlirOperationGetOperand(op, 4);
  c->step = mlirOperationGetOperand(op, 5);
  c->numTensors = 4;
  c->numResults = 3;
  return !mlirAttributeIsNull(c->optimizer) &&
         hasType(c->lr, mlirF32TypeGet(ctx)) &&
         hasType(c->step, mlirIntegerTypeGet(ctx, 64));
}

/* cage.sgd w, g, b, lr {momentum, dampening, nesterov, weight_decay}. */
static bool sgdCandidate(MlirOperation op, Candidate *c) {
  static const char *const names[] = {"momentum", "dampening", "nesterov",
                                      "weight_decay"};
  float momentum, dampening, weightDecay;
  MlirAttribute nesterov = cageOpAttribute(op, "nesterov");
  if (!onlyAttributes(op, names, sizeof names / sizeof names[0]) ||
      mlirOperationGetNumOperands(op) != 4 ||
      mlirOperationGetNumResults(op) != 2 || !tensorsAreUniformF32(op, 3) ||
      !f32Attr(op, "momentum", &momentum) ||
      !f32Attr(op, "dampening", &dampening) ||
      !f32Attr(op, "weight_decay", &weightDecay) ||
      mlirAttributeIsNull(nesterov) || !mlirAttributeIsABool(nesterov))
    return false;
  MlirContext ctx = mlirOperationGetContext(op);
  c->isUpdate = false;
  c->optimizer = cageSGDAttrGet(ctx, momentum, dampening,
                                mlirBoolAttrGetValue(nesterov), weightDecay);
  c->lr = mlirOperationGetOperand(op, 3);
  c->numTensors = 3;
  c->numResults = 2;
  return !mlirAttributeIsNull(c->optimizer) &&
         hasType(c->lr, mlirF32TypeGet(ctx));
}

static bool makeCandidate(MlirOperation op, Candidate *c) {
  memset(c, 0, sizeof *c);
  c->op = op;
  if (cageOpIs(op, "cage.update"))
    return updateCandidate(op, c);
  if (cageOpIs(op, "cage.adamw"))
    return adamwCandidate(op, c);
  if (cageOpIs(op, "cage.sgd"))
    return sgdCandidate(op, c);
  return false;
}

/* Whether `a` and `b` may be one cage.multi_update: the same kind of step,
 * the same attributes (uniqued, so equal attributes are the same pointer;
 * null on both sides where absent) and the same SSA values for the
 * scalars. */
static bool sameStep(const Candidate *a, const Candidate *b) {
  return a->isUpdate == b->isUpdate &&
         mlirAttributeEqual(a->optimizer, b->optimizer) &&
         mlirAttributeEqual(a->quantizer, b->quantizer) &&
         mlirAttributeEqual(a->coupling, b->coupling) &&
         mlirAttributeEqual(a->error, b->error) &&
         mlirValueEqual(a->lr, b->lr) && mlirValueEqual(a->lambda, b->lambda) &&
         mlirValueEqual(a->step, b->step);
}

/*===--- Legality ---------------------------------------------------------===*/

/* The op of `block` that is or contains `op`; null if there is none. */
static MlirOperation ancestorIn(MlirBlock block, MlirOperation op) {
  while (!mlirOperationIsNull(op)) {
    if (mlirBlockEqual(mlirOperationGetBlock(op), block))
      return op;
    op = mlirOperationGetParentOperation(op);
  }
  return op;
}

/* Ops that touch no memory, which a write-back may move across. */
static bool touchesNoMemory(MlirOperation op) {
  static const char *const prefixes[] = {"arith.", "math.", "tensor.", "cage."};
  for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; ++i)
    if (cageOpHasPrefix(op, prefixes[i]))
      return true;
  return false;
}

/* A write-back of a member's result that may move below the group:
 * bufferization.materialize_in_destination into a memref, with nothing
 * between it and `position` that could see the memref: only ops that touch
 * no memory, reads of other buffers (bufferization.to_tensor) and
 * write-backs into other buffers. The in-place form of a training step
 * (docs/Tools.md) writes each parameter back right after its update; the
 * group then still fuses. */
static bool isMovableWriteBack(MlirOperation user, MlirOperation position) {
  if (!cageOpIs(user, "bufferization.materialize_in_destination") ||
      mlirOperationGetNumResults(user) != 0)
    return false;
  MlirValue dest = mlirOperationGetOperand(user, 1);
  for (MlirOperation op = mlirOperationGetNextInBlock(user);
       !mlirOperationIsNull(op); op = mlirOperationGetNextInBlock(op)) {
    bool buffered = cageOpIs(op, "bufferization.to_tensor") ||
                    cageOpIs(op, "bufferization.materialize_in_destination");
    if (buffered) {
      intptr_t memref = cageOpIs(op, "bufferization.to_tensor") ? 0 : 1;
      if (mlirOperationGetNumOperands(op) <= memref ||
          mlirValueEqual(mlirOperationGetOperand(op, memref), dest))
        return false;
    } else if (!touchesNoMemory(op) || mlirOperationGetNumRegions(op) != 0) {
      return false;
    }
    if (mlirOperationEqual(op, position))
      return true;
  }
  return false;
}

/* Every use of every result of `op` is (inside) an op of `block` after
 * `position`, or a write-back that can move there. */
static bool usesAllAfter(MlirOperation op, MlirBlock block,
                         MlirOperation position) {
  for (intptr_t i = 0, e = mlirOperationGetNumResults(op); i < e; ++i) {
    MlirValue result = mlirOperationGetResult(op, i);
    for (MlirOpOperand use = mlirValueGetFirstUse(result);
         !mlirOpOperandIsNull(use); use = mlirOpOperandGetNextUse(use)) {
      MlirOperation owner = mlirOpOperandGetOwner(use);
      MlirOperation user = ancestorIn(block, owner);
      if (mlirOperationIsNull(user))
        return false;
      if (mlirOperationIsBeforeInBlock(position, user))
        continue;
      if (!mlirOperationEqual(user, owner) ||
          !isMovableWriteBack(user, position))
        return false;
    }
  }
  return true;
}

/* Whether `op` uses a result of a member that is not dropped. */
static bool usesMember(MlirOperation op, Candidate *const *members,
                       intptr_t numMembers) {
  for (intptr_t k = 0; k < mlirOperationGetNumOperands(op); ++k) {
    MlirValue v = mlirOperationGetOperand(op, k);
    if (!mlirValueIsAOpResult(v))
      continue;
    MlirOperation owner = mlirOpResultGetOwner(v);
    for (intptr_t i = 0; i < numMembers; ++i)
      if (!members[i]->dropped && mlirOperationEqual(owner, members[i]->op))
        return true;
  }
  return false;
}

/* Drops the members whose results are used at or before the last member,
 * until none is: the last member may change when it is dropped itself (it
 * cannot be, in SSA regions, whose uses follow definitions; in graph
 * regions it can). Returns the number of members left and their last. */
static intptr_t legalize(Candidate *const *members, intptr_t numMembers,
                         MlirBlock block, MlirOperation *last) {
  intptr_t left = numMembers;
  bool changed = true;
  while (changed && left >= 2) {
    changed = false;
    *last = (MlirOperation){NULL};
    for (intptr_t i = numMembers - 1; i >= 0 && mlirOperationIsNull(*last); --i)
      if (!members[i]->dropped)
        *last = members[i]->op;
    for (intptr_t i = 0; i < numMembers; ++i) {
      Candidate *m = members[i];
      if (m->dropped || usesAllAfter(m->op, block, *last))
        continue;
      m->dropped = true;
      --left;
      changed = true;
    }
  }
  return left;
}

/*===--- Rewriting --------------------------------------------------------===*/

/* Replaces the members not dropped (at least two, in program order) by one
 * cage.multi_update right after `last`, then erases them. */
static void fuse(Candidate *const *members, intptr_t numMembers,
                 MlirBlock block, MlirOperation last) {
  const Candidate *first = NULL;
  intptr_t numParams = 0, numOperands = 0, numResults = 0;
  for (intptr_t i = 0; i < numMembers; ++i) {
    if (members[i]->dropped)
      continue;
    first = first ? first : members[i];
    ++numParams;
    numOperands += members[i]->numTensors;
    numResults += members[i]->numResults;
  }
  intptr_t numTensors = numOperands;
  numOperands += 1 + (first->lambda.ptr ? 1 : 0) + (first->step.ptr ? 1 : 0);

  MlirValue *operands = malloc(sizeof *operands * numOperands);
  MlirType *resultTypes = malloc(sizeof *resultTypes * numResults);
  MlirLocation *locs = malloc(sizeof *locs * numParams);
  intptr_t o = 0, r = 0, l = 0;
  for (intptr_t i = 0; i < numMembers; ++i) {
    const Candidate *m = members[i];
    if (m->dropped)
      continue;
    for (intptr_t j = 0; j < m->numTensors; ++j)
      operands[o++] = mlirOperationGetOperand(m->op, j);
    for (intptr_t j = 0; j < m->numResults; ++j)
      resultTypes[r++] = mlirValueGetType(mlirOperationGetResult(m->op, j));
    locs[l++] = mlirOperationGetLocation(m->op);
  }
  operands[o++] = first->lr;
  if (first->lambda.ptr)
    operands[o++] = first->lambda;
  if (first->step.ptr)
    operands[o++] = first->step;

  MlirContext ctx = mlirOperationGetContext(last);
  int32_t segments[] = {(int32_t)numTensors, 1, first->lambda.ptr ? 1 : 0,
                        first->step.ptr ? 1 : 0};
  MlirNamedAttribute attrs[5];
  intptr_t numAttrs = 0;
#define ATTR(name, value)                                                      \
  attrs[numAttrs++] =                                                          \
      mlirNamedAttributeGet(mlirIdentifierGet(ctx, str(name)), (value))
  ATTR("operandSegmentSizes", mlirDenseI32ArrayGet(ctx, 4, segments));
  ATTR("optimizer", first->optimizer);
  if (first->isUpdate) {
    ATTR("quantizer", first->quantizer);
    ATTR("coupling", first->coupling);
    ATTR("error", first->error);
  }
#undef ATTR

  MlirOperationState state = mlirOperationStateGet(
      str("cage.multi_update"),
      mlirLocationFusedGet(ctx, numParams, locs, mlirAttributeGetNull()));
  mlirOperationStateAddOperands(&state, numOperands, operands);
  mlirOperationStateAddResults(&state, numResults, resultTypes);
  mlirOperationStateAddAttributes(&state, numAttrs, attrs);
  MlirOperation multi = mlirOperationCreate(&state);
  mlirBlockInsertOwnedOperationAfter(block, last, multi);

  /* The write-backs that legalize let stay between the members move below
   * the new op, in their order. */
  MlirOperation below = multi;
  for (MlirOperation op = first->op; !mlirOperationEqual(op, last);) {
    MlirOperation next = mlirOperationGetNextInBlock(op);
    if (cageOpIs(op, "bufferization.materialize_in_destination") &&
        usesMember(op, members, numMembers)) {
      mlirOperationMoveAfter(op, below);
      below = op;
    }
    op = next;
  }

  r = 0;
  for (intptr_t i = 0; i < numMembers; ++i) {
    const Candidate *m = members[i];
    if (m->dropped)
      continue;
    for (intptr_t j = 0; j < m->numResults; ++j)
      mlirValueReplaceAllUsesOfWith(mlirOperationGetResult(m->op, j),
                                    mlirOperationGetResult(multi, r++));
    mlirOperationDestroy(m->op);
  }
  free(operands);
  free(resultTypes);
  free(locs);
}

/*===--- Driver -----------------------------------------------------------===*/

static void fuseBlock(MlirBlock block) {
  /* The candidates of the block, in program order. */
  intptr_t numCandidates = 0, capacity = 0;
  Candidate *candidates = NULL;
  for (MlirOperation op = mlirBlockGetFirstOperation(block);
       !mlirOperationIsNull(op); op = mlirOperationGetNextInBlock(op)) {
    Candidate c;
    if (!makeCandidate(op, &c))
      continue;
    if (numCandidates == capacity) {
      capacity = capacity ? 2 * capacity : 16;
      candidates = realloc(candidates, sizeof *candidates * capacity);
    }
    candidates[numCandidates++] = c;
  }
  if (numCandidates < 2) {
    free(candidates);
    return;
  }

  /* group[i]: the index of the first candidate with the step of i. Groups
   * are handled in the order of their first members, members in program
   * order: the output does not depend on anything but the input. */
  intptr_t *group = malloc(sizeof *group * numCandidates);
  Candidate **members = malloc(sizeof *members * numCandidates);
  for (intptr_t i = 0; i < numCandidates; ++i) {
    group[i] = i;
    for (intptr_t j = 0; j < i; ++j)
      if (group[j] == j && sameStep(&candidates[j], &candidates[i])) {
        group[i] = j;
        break;
      }
  }
  for (intptr_t leader = 0; leader < numCandidates; ++leader) {
    if (group[leader] != leader)
      continue;
    intptr_t numMembers = 0;
    for (intptr_t i = leader; i < numCandidates; ++i)
      if (group[i] == leader)
        members[numMembers++] = &candidates[i];
    MlirOperation last;
    if (numMembers >= 2 && legalize(members, numMembers, block, &last) >= 2)
      fuse(members, numMembers, block, last);
  }
  free(members);
  free(group);
  free(candidates);
}

/* Fuses in every block nested in `op`, innermost first. */
static void fuseNested(MlirOperation op) {
  for (intptr_t i = 0, e = mlirOperationGetNumRegions(op); i < e; ++i) {
    MlirRegion region = mlirOperationGetRegion(op, i);
    for (MlirBlock block = mlirRegionGetFirstBlock(region);
         !mlirBlockIsNull(block); block = mlirBlockGetNextInRegion(block)) {
      for (MlirOperation nested = mlirBlockGetFirstOperation(block);
           !mlirOperationIsNull(nested);
           nested = mlirOperationGetNextInBlock(nested))
        fuseNested(nested);
      fuseBlock(block);
    }
  }
}

static void run(MlirOperation op, const CagePassOptionValue *options,
                CagePassHandle pass) {
  (void)options, (void)pass;
  fuseNested(op);
}

const CagePassDefinition cageFuseMultiTensorPass = {
    .argument = "cage-fuse-multi-tensor",
    .name = "FuseMultiTensor",
    .summary = "Fuse the optimizer steps of a block that share their "
               "hyper-parameters into cage.multi_update",
    .anchorOp = "func.func",
    .options = NULL,
    .numOptions = 0,
    .dependentDialects = NULL,
    .numDependentDialects = 0,
    .run = run,
};
