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
#include "cage-c/Dialect/CageOps.h"
#include "mlir-c/BuiltinAttributes.h"
#include "mlir-c/BuiltinTypes.h"

#include <stdlib.h>
#include <string.h>

/*===--- Candidates -------------------------------------------------------===*/

/* One op that may join a cage.multi_update, read by role, with what it must
 * share with the other members of its group. */
typedef struct Candidate {
  MlirOperation op;
  bool isUpdate; /* cage.update (CAGE step) or cage.adamw/cage.sgd (plain) */
  /* The cage.multi_update attributes: the optimizer (for a plain op, built
   * from its hyper-parameters), and for cage.update the quantizer, coupling
   * and error (a plain op has no quantizer, and the multi_update's default
   * coupling and error, which it ignores without one). */
  MlirAttribute optimizer, quantizer;
  CageCoupling coupling;
  CageErrorMode error;
  MlirValue lr, lambda, step; /* lambda and step null when absent */
  /* The tensors (w, g, state) and the results they become. */
  intptr_t numState;
  MlirValue w, g, state[kCageMaxOptimizerState];
  MlirValue newW, newState[kCageMaxOptimizerState];
  bool dropped; /* left out of its group (legality) */
} Candidate;

/* cage.update with f32 state (so no seed), all tensors f32 of one type. */
static bool updateCandidate(MlirOperation op, Candidate *c) {
  c->isUpdate = true;
  c->optimizer = cageUpdateOpGetOptimizer(op);
  c->quantizer = cageUpdateOpGetQuantizer(op);
  c->coupling = cageUpdateOpGetCoupling(op);
  c->error = cageUpdateOpGetError(op);
  c->lr = cageUpdateOpGetLr(op);
  c->lambda = cageUpdateOpGetLambda(op);
  c->step = cageUpdateOpGetStep(op);
  c->numState = cageUpdateOpGetNumState(op);
  c->w = cageUpdateOpGetW(op);
  c->g = cageUpdateOpGetG(op);
  c->newW = cageUpdateOpGetNewW(op);
  if (c->numState > kCageMaxOptimizerState ||
      !mlirValueIsNull(cageUpdateOpGetSeed(op)))
    return false;
  MlirType wType = mlirValueGetType(c->w);
  if (!mlirTypeEqual(mlirValueGetType(c->g), wType) ||
      !mlirTypeEqual(mlirValueGetType(c->newW), wType))
    return false;
  for (intptr_t i = 0; i < c->numState; ++i) {
    c->state[i] = cageUpdateOpGetState(op, i);
    c->newState[i] = cageUpdateOpGetNewState(op, i);
    if (!mlirTypeEqual(mlirValueGetType(c->state[i]), wType) ||
        !mlirTypeEqual(mlirValueGetType(c->newState[i]), wType))
      return false;
  }
  return true;
}

/* cage.adamw w, g, m, v, lr, step or cage.sgd w, g, b, lr, whose tensors
 * are f32 of one type by their definition. */
static bool optimizerCandidate(MlirOperation op, Candidate *c) {
  CageOptimizerOp o = cageOptimizerOpRead(op);
  c->isUpdate = false;
  c->optimizer = cageOptimizerOpGetAttr(op);
  c->coupling = CageCouplingDecoupled;
  c->error = CageErrorModeKeep;
  c->lr = o.lr;
  c->step = o.step;
  c->numState = o.numState;
  c->w = o.w;
  c->g = o.g;
  c->newW = o.newW;
  for (intptr_t i = 0; i < o.numState; ++i) {
    c->state[i] = o.state[i];
    c->newState[i] = o.newState[i];
  }
  return !mlirAttributeIsNull(c->optimizer);
}

/* Whether the innermost size of `value`'s type is a static 0: cage.multi_update
 * rejects such a tensor (its rows would be empty), a single step does not. */
static bool hasEmptyRows(MlirValue value) {
  MlirType type = mlirValueGetType(value);
  intptr_t rank = mlirShapedTypeGetRank(type);
  return rank > 0 && !mlirShapedTypeIsDynamicDim(type, rank - 1) &&
         mlirShapedTypeGetDimSize(type, rank - 1) == 0;
}

/* An op with a discardable attribute is left alone rather than have the
 * attribute dropped; so is a step on a tensor with empty rows. */
static bool makeCandidate(MlirOperation op, Candidate *c) {
  memset(c, 0, sizeof *c);
  c->op = op;
  if (mlirOperationGetNumDiscardableAttributes(op) != 0)
    return false;
  if (cageOperationIsAUpdate(op))
    return updateCandidate(op, c) && !hasEmptyRows(c->w);
  if (cageOpIsOptimizer(op))
    return optimizerCandidate(op, c) && !hasEmptyRows(c->w);
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
         a->coupling == b->coupling && a->error == b->error &&
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
  intptr_t numParams = 0;
  for (intptr_t i = 0; i < numMembers; ++i) {
    if (members[i]->dropped)
      continue;
    first = first ? first : members[i];
    ++numParams;
  }
  intptr_t numState = first->numState;

  MlirValue *ws = malloc(sizeof *ws * numParams);
  MlirValue *gs = malloc(sizeof *gs * numParams);
  MlirValue *states = malloc(sizeof *states * (numParams * numState + 1));
  MlirLocation *locs = malloc(sizeof *locs * numParams);
  intptr_t k = 0;
  for (intptr_t i = 0; i < numMembers; ++i) {
    const Candidate *m = members[i];
    if (m->dropped)
      continue;
    ws[k] = m->w;
    gs[k] = m->g;
    for (intptr_t j = 0; j < numState; ++j)
      states[k * numState + j] = m->state[j];
    locs[k++] = mlirOperationGetLocation(m->op);
  }
  MlirContext ctx = mlirOperationGetContext(last);
  MlirOperation multi = cageMultiUpdateOpCreate(
      mlirLocationFusedGet(ctx, numParams, locs, mlirAttributeGetNull()),
      numParams, ws, gs, numState, states, first->lr, first->lambda,
      first->step, first->quantizer, first->optimizer, first->coupling,
      first->error);
  free(ws);
  free(gs);
  free(states);
  free(locs);
  if (mlirOperationIsNull(multi))
    return; /* the members are those of a valid op: cannot happen */
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

  k = 0;
  for (intptr_t i = 0; i < numMembers; ++i) {
    const Candidate *m = members[i];
    if (m->dropped)
      continue;
    mlirValueReplaceAllUsesOfWith(m->newW,
                                  cageMultiUpdateOpGetParamNewW(multi, k));
    for (intptr_t j = 0; j < numState; ++j)
      mlirValueReplaceAllUsesOfWith(
          m->newState[j], cageMultiUpdateOpGetParamNewState(multi, k, j));
    mlirOperationDestroy(m->op);
    ++k;
  }
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
