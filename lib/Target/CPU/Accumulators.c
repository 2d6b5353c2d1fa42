/*===- Accumulators.c - Register accumulators of vectorized contractions --===*\
|*                                                                            *|
|* After cage-cpu-tile-contractions vectorizes a register block, the K loop  *|
|* reads the block of C, contracts one step of K into it and writes it back, *|
|* every iteration. This moves the read before the loop and the write after  *|
|* it, the block carried in registers as the loop's iteration argument.      *|
|*                                                                            *|
|* Upstream's hoist_redundant_vector_transfers does the same but gives up     *|
|* when C's buffer has any view-like user anywhere (a subview that a later   *|
|* copy reads, say), which the pipeline's buffers often have. Here aliasing  *|
|* is known by construction: the loop comes from one linalg.matmul on        *|
|* buffers that one-shot bufferization gave no read-after-write conflict,    *|
|* so C's buffer is not A's or B's, and the loop writes nothing but C's      *|
|* block (checked: its only write is the transfer_write).                    *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#include "Passes.h"

#include "IR/Builder.h"
#include "IR/Ops.h"
#include "IR/Text.h"

#include "mlir-c/Dialect/SCF.h"

#include <stdlib.h>

/* Whether `v` is defined outside `loop`. */
static bool definedOutside(MlirValue v, MlirOperation loop) {
  MlirOperation owner =
      mlirValueIsAOpResult(v)
          ? mlirOpResultGetOwner(v)
          : mlirBlockGetParentOperation(mlirBlockArgumentGetOwner(v));
  for (MlirOperation p = owner; !mlirOperationIsNull(p);
       p = mlirOperationGetParentOperation(p))
    if (mlirOperationEqual(p, loop))
      return false;
  return true;
}

/* Whether the transfers `read` and `write` access the same block: same
 * buffer and indices (operands after the vector, for the write). */
static bool sameBlock(MlirOperation read, MlirOperation write,
                      MlirOperation loop) {
  intptr_t n = mlirOperationGetNumOperands(read);
  /* read: base, indices..., padding; write: value, base, indices... */
  if (mlirOperationGetNumOperands(write) != n ||
      !mlirTypeEqual(mlirValueGetType(mlirOperationGetResult(read, 0)),
                     mlirValueGetType(mlirOperationGetOperand(write, 0))))
    return false;
  for (intptr_t i = 0; i + 1 < n; ++i) {
    MlirValue r = mlirOperationGetOperand(read, i);
    if (!mlirValueEqual(r, mlirOperationGetOperand(write, i + 1)) ||
        !definedOutside(r, loop))
      return false;
  }
  return true;
}

typedef struct Hoist {
  MlirOperation loop, read, write;
} Hoist;

/* The read and write of the accumulators in the body of `loop`, if the
 * loop writes nothing else. */
static bool findAccumulators(MlirOperation loop, Hoist *h) {
  *h = (Hoist){.loop = loop};
  MlirBlock body = mlirRegionGetFirstBlock(mlirOperationGetRegion(loop, 0));
  for (MlirOperation op = mlirBlockGetFirstOperation(body);
       !mlirOperationIsNull(op); op = mlirOperationGetNextInBlock(op)) {
    if (cageOpIs(op, "vector.transfer_write")) {
      if (!mlirOperationIsNull(h->write))
        return false;
      h->write = op;
    } else if (!cageOpIs(op, "vector.transfer_read") &&
               !cageOpIs(op, "vector.broadcast") &&
               !cageOpIs(op, "vector.contract") &&
               !cageOpIs(op, "vector.extract") &&
               !cageOpIs(op, "affine.apply") && !cageOpIs(op, "scf.yield")) {
      return false; /* something that might write memory */
    }
  }
  if (mlirOperationIsNull(h->write) || mlirOperationGetNumResults(loop) != 0)
    return false;
  for (MlirOperation op = mlirBlockGetFirstOperation(body);
       !mlirOperationIsNull(op); op = mlirOperationGetNextInBlock(op))
    if (cageOpIs(op, "vector.transfer_read") && sameBlock(op, h->write, loop))
      h->read = op;
  return !mlirOperationIsNull(h->read);
}

typedef struct Moved {
  MlirOperation oldLoop, read, write;
} Moved;

/* The new body: the old one's ops but the write and the terminator, the
 * old induction variable and the read's result replaced. */
static void movedBody(CageBuilder *body, MlirValue iv, const MlirValue *iter,
                      MlirValue *yielded, void *userData) {
  const Moved *m = userData;
  MlirBlock old =
      mlirRegionGetFirstBlock(mlirOperationGetRegion(m->oldLoop, 0));
  mlirValueReplaceAllUsesOfWith(mlirBlockGetArgument(old, 0), iv);
  MlirValue accumulator = mlirOperationGetResult(m->read, 0);
  MlirOperation op = mlirBlockGetFirstOperation(old);
  while (!mlirOperationIsNull(op)) {
    MlirOperation next = mlirOperationGetNextInBlock(op);
    if (!mlirOperationEqual(op, m->write) && !cageOpIs(op, "scf.yield")) {
      mlirOperationRemoveFromParent(op);
      mlirBlockAppendOwnedOperation(body->block, op);
      for (intptr_t i = 0; i < mlirOperationGetNumOperands(op); ++i)
        if (mlirValueEqual(mlirOperationGetOperand(op, i), accumulator))
          mlirOperationSetOperand(op, i, iter[0]);
    }
    op = next;
  }
  yielded[0] = mlirOperationGetOperand(m->write, 0);
}

static void hoist(const Hoist *h) {
  MlirOperation loop = h->loop;
  mlirOperationMoveBefore(h->read, loop);
  MlirBlock scratch = mlirBlockCreate(0, NULL, NULL);
  CageBuilder b =
      cageBuilderAtEndOfBlock(scratch, mlirOperationGetLocation(loop));
  MlirValue init = mlirOperationGetResult(h->read, 0);
  Moved moved = {.oldLoop = loop, .read = h->read, .write = h->write};
  MlirOperation newLoop = cageBuildFor(
      &b, mlirOperationGetOperand(loop, 0), mlirOperationGetOperand(loop, 1),
      mlirOperationGetOperand(loop, 2), &init, 1, movedBody, &moved);
  mlirOperationMoveBefore(newLoop, loop);
  mlirBlockDestroy(scratch);
  MlirOperation write = mlirOperationClone(h->write);
  mlirOperationSetOperand(write, 0, mlirOperationGetResult(newLoop, 0));
  mlirBlockInsertOwnedOperationAfter(mlirOperationGetBlock(newLoop), newLoop,
                                     write);
  mlirOperationDestroy(loop);
}

static bool isTaggedLoop(MlirOperation op) {
  return cageOpIs(op, "scf.for") &&
         !mlirAttributeIsNull(mlirOperationGetDiscardableAttributeByName(
             op, cageStr(CAGE_CPU_ACCUMULATOR_LOOP)));
}

void cageCPUHoistAccumulators(MlirOperation root) {
  CageOpList loops = cageCollectOpsWhere(root, isTaggedLoop);
  for (intptr_t i = 0; i < loops.size; ++i) {
    Hoist h;
    if (findAccumulators(loops.ops[i], &h))
      hoist(&h);
    else
      mlirOperationRemoveDiscardableAttributeByName(
          loops.ops[i], cageStr(CAGE_CPU_ACCUMULATOR_LOOP));
  }
  cageOpListDestroy(&loops);
}
