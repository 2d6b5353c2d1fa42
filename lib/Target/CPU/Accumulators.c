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
|* Where cage-cpu-tile-contractions found C zero-filled just before (its     *|
|* fill tagged, Passes.h), the block starts from zeros in registers instead  *|
|* of the read: always when K has one cache tile, on its first tile when it  *|
|* has several; and the fill goes. The accumulators hold the same +0.0       *|
|* either way, so the products keep their bits; what goes is a pass over C  *|
|* (the fill, a memset) and C's reads on the first tile.                     *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#include "Passes.h"

#include "IR/Builder.h"
#include "IR/Ops.h"
#include "IR/Text.h"

#include "mlir-c/BuiltinAttributes.h"
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

/* The i64 attribute `name` of `op`, or -1. */
static int64_t indexAttribute(MlirOperation op, const char *name) {
  MlirAttribute a =
      mlirOperationGetDiscardableAttributeByName(op, cageStr(name));
  return !mlirAttributeIsNull(a) && mlirAttributeIsAInteger(a)
             ? mlirIntegerAttrGetValueInt(a)
             : -1;
}

/* The loop around `loop` over the cache tiles of K of contraction `index`,
 * or null. */
static MlirOperation depthLoopAround(MlirOperation loop, int64_t index) {
  for (MlirOperation p = mlirOperationGetParentOperation(loop);
       !mlirOperationIsNull(p); p = mlirOperationGetParentOperation(p))
    if (cageOpIs(p, "scf.for") &&
        indexAttribute(p, CAGE_CPU_DEPTH_LOOP) == index)
      return p;
  return (MlirOperation){NULL};
}

static void yieldZeros(CageBuilder *body, MlirValue *yielded, void *userData) {
  MlirOperation read = *(const MlirOperation *)userData;
  yielded[0] = cageBuildConstantFloatSplat(
      body, mlirValueGetType(mlirOperationGetResult(read, 0)), 0.0);
}

static void yieldRead(CageBuilder *body, MlirValue *yielded, void *userData) {
  MlirOperation read = *(const MlirOperation *)userData;
  mlirOperationRemoveFromParent(read);
  mlirBlockAppendOwnedOperation(body->block, read);
  yielded[0] = mlirOperationGetResult(read, 0);
}

/* The accumulators' first value, built by `b` (before the loop), when the
 * loop's contraction is zero-initialized: zeros when K is one cache tile,
 * else zeros on the first tile of the loop over K's tiles and C's block
 * (`h->read`) on the others. Null when the contraction is not, or that loop
 * is not found: C must be read then. */
static MlirValue zeroAccumulators(CageBuilder *b, const Hoist *h) {
  MlirOperation read = h->read;
  if (indexAttribute(h->loop, CAGE_CPU_ZERO_ACCUMULATORS) >= 0)
    return cageBuildConstantFloatSplat(
        b, mlirValueGetType(mlirOperationGetResult(read, 0)), 0.0);
  int64_t zero = indexAttribute(h->loop, CAGE_CPU_ZERO_FIRST_DEPTH_TILE);
  MlirOperation depth =
      zero < 0 ? (MlirOperation){NULL} : depthLoopAround(h->loop, zero);
  if (mlirOperationIsNull(depth))
    return (MlirValue){NULL};
  MlirBlock body = mlirRegionGetFirstBlock(mlirOperationGetRegion(depth, 0));
  MlirValue first = cageBuildCmpI(b, CageCmpIEQ, mlirBlockGetArgument(body, 0),
                                  mlirOperationGetOperand(depth, 0));
  MlirType type = mlirValueGetType(mlirOperationGetResult(read, 0));
  return cageOperationGetResult(
      cageBuildIf(b, first, &type, 1, yieldZeros, yieldRead, &read), 0);
}

/* Hoists h's accumulators; true when they start from zeros. */
static bool hoist(const Hoist *h) {
  MlirOperation loop = h->loop;
  mlirOperationMoveBefore(h->read, loop);
  CageBuilder b = cageBuilderDetached(mlirOperationGetLocation(loop));
  MlirValue init = zeroAccumulators(&b, h);
  bool zeroed = !mlirValueIsNull(init);
  if (!zeroed)
    init = mlirOperationGetResult(h->read, 0);
  Moved moved = {.oldLoop = loop, .read = h->read, .write = h->write};
  MlirOperation newLoop = cageBuildFor(
      &b, mlirOperationGetOperand(loop, 0), mlirOperationGetOperand(loop, 1),
      mlirOperationGetOperand(loop, 2), &init, 1, movedBody, &moved);
  cageBuilderMoveBefore(&b, loop);
  /* C's block is not read when the accumulators start from zeros alone. */
  if (mlirOpOperandIsNull(
          mlirValueGetFirstUse(mlirOperationGetResult(h->read, 0))))
    mlirOperationDestroy(h->read);
  MlirOperation write = mlirOperationClone(h->write);
  mlirOperationSetOperand(write, 0, mlirOperationGetResult(newLoop, 0));
  mlirBlockInsertOwnedOperationAfter(mlirOperationGetBlock(newLoop), newLoop,
                                     write);
  mlirOperationDestroy(loop);
  return zeroed;
}

static bool isTaggedLoop(MlirOperation op) {
  return cageOpIs(op, "scf.for") &&
         !mlirAttributeIsNull(mlirOperationGetDiscardableAttributeByName(
             op, cageStr(CAGE_CPU_ACCUMULATOR_LOOP)));
}

static bool isZeroFill(MlirOperation op) {
  return indexAttribute(op, CAGE_CPU_ZERO_FILL) >= 0;
}

static bool isDepthLoop(MlirOperation op) {
  return indexAttribute(op, CAGE_CPU_DEPTH_LOOP) >= 0;
}

/* The contraction whose accumulators `loop` carries, when it is
 * zero-initialized; else -1. */
static int64_t zeroIndex(MlirOperation loop) {
  int64_t i = indexAttribute(loop, CAGE_CPU_ZERO_ACCUMULATORS);
  return i >= 0 ? i : indexAttribute(loop, CAGE_CPU_ZERO_FIRST_DEPTH_TILE);
}

/* What the K loops of a zero-initialized contraction did. */
enum { kNotSeen, kZeroed, kRead };

static void removeAttribute(MlirOperation op, const char *name) {
  mlirOperationRemoveDiscardableAttributeByName(op, cageStr(name));
}

void cageCPUHoistAccumulators(MlirOperation root) {
  CageOpList zeroFills = cageCollectOpsWhere(root, isZeroFill);
  int64_t numFills = 0;
  for (intptr_t i = 0; i < zeroFills.size; ++i) {
    int64_t index = indexAttribute(zeroFills.ops[i], CAGE_CPU_ZERO_FILL);
    numFills = index >= numFills ? index + 1 : numFills;
  }
  unsigned char *start = cageAllocArray(numFills, sizeof *start);
  CageOpList loops = cageCollectOpsWhere(root, isTaggedLoop);
  for (intptr_t i = 0; i < loops.size; ++i) {
    MlirOperation loop = loops.ops[i];
    int64_t zero = zeroIndex(loop);
    Hoist h;
    bool zeroed = false;
    if (findAccumulators(loop, &h)) {
      zeroed = hoist(&h); /* a new loop, untagged, replaces `loop` */
    } else {
      removeAttribute(loop, CAGE_CPU_ACCUMULATOR_LOOP);
      removeAttribute(loop, CAGE_CPU_ZERO_ACCUMULATORS);
      removeAttribute(loop, CAGE_CPU_ZERO_FIRST_DEPTH_TILE);
    }
    if (zero >= 0 && zero < numFills)
      start[zero] = zeroed && start[zero] != kRead ? kZeroed : kRead;
  }
  cageOpListDestroy(&loops);
  /* A fill goes when every K loop of its contraction started from zeros. */
  for (intptr_t i = 0; i < zeroFills.size; ++i) {
    MlirOperation fill = zeroFills.ops[i];
    if (start[indexAttribute(fill, CAGE_CPU_ZERO_FILL)] == kZeroed)
      mlirOperationDestroy(fill);
    else
      removeAttribute(fill, CAGE_CPU_ZERO_FILL);
  }
  cageOpListDestroy(&zeroFills);
  CageOpList depthLoops = cageCollectOpsWhere(root, isDepthLoop);
  for (intptr_t i = 0; i < depthLoops.size; ++i)
    removeAttribute(depthLoops.ops[i], CAGE_CPU_DEPTH_LOOP);
  cageOpListDestroy(&depthLoops);
  free(start);
}
