/*===- FreeEarly.c - cage-cpu-free-early ----------------------------------===*\
|*                                                                            *|
|* MLIR's ownership-based buffer deallocation puts the memref.dealloc of     *|
|* every buffer of a block at the end of that block. In a training step,     *|
|* one block holds the forward and the backward pass, so every temporary    *|
|* lives until the function returns and the peak heap is the sum of all of  *|
|* them (bench/memory). This pass moves each memref.dealloc of a block up to *|
|* just after the last op of the block that uses the buffer or a view of it *|
|* (memref view ops: subview, expand_shape, collapse_shape, cast,            *|
|* reinterpret_cast, transpose, view), looking through nested regions, so    *|
|* that a buffer dies at its last use. A dealloc whose buffer is used        *|
|* outside its block, or through another op that returns a memref (which    *|
|* might alias it), stays where it is.                                       *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#include "Passes.h"

#include "IR/Ops.h"

#include "mlir-c/BuiltinTypes.h"

#include <stdlib.h>

static const char *const kViewOps[] = {
    "memref.subview", "memref.expand_shape",     "memref.collapse_shape",
    "memref.cast",    "memref.reinterpret_cast", "memref.transpose",
    "memref.view"};

bool cageCPUIsMemRefView(MlirOperation op) {
  for (size_t i = 0; i < sizeof kViewOps / sizeof kViewOps[0]; ++i)
    if (cageOpIs(op, kViewOps[i]))
      return true;
  return false;
}

/* The ancestor of `op` (itself included) whose block is `block`, or null. */
static MlirOperation ancestorIn(MlirOperation op, MlirBlock block) {
  while (!mlirOperationIsNull(op)) {
    MlirBlock owner = mlirOperationGetBlock(op);
    if (!mlirBlockIsNull(owner) && mlirBlockEqual(owner, block))
      return op;
    op = mlirOperationGetParentOperation(op);
  }
  return op;
}

/* The last op of `block` that uses `buffer` or a view of it, other than
 * `dealloc`; null when the buffer escapes the analysis (a use outside the
 * block, a result of memref type from an op that is not a view). */
static MlirOperation lastUse(MlirValue buffer, MlirOperation dealloc,
                             MlirBlock block) {
  intptr_t capacity = 16, size = 0;
  MlirValue *work = malloc(sizeof *work * (size_t)capacity);
  if (!work)
    abort();
  work[size++] = buffer;
  MlirOperation last = cageDefiningOp(buffer);
  bool escapes = false;
  while (size > 0 && !escapes) {
    MlirValue v = work[--size];
    for (MlirOpOperand use = mlirValueGetFirstUse(v); !mlirOpOperandIsNull(use);
         use = mlirOpOperandGetNextUse(use)) {
      MlirOperation user = mlirOpOperandGetOwner(use);
      if (mlirOperationEqual(user, dealloc))
        continue;
      MlirOperation top = ancestorIn(user, block);
      if (mlirOperationIsNull(top)) {
        escapes = true;
        break;
      }
      if (mlirOperationIsNull(last) || mlirOperationIsBeforeInBlock(last, top))
        last = top;
      bool view = cageCPUIsMemRefView(user);
      for (intptr_t r = 0, n = mlirOperationGetNumResults(user); r < n; ++r) {
        MlirValue result = mlirOperationGetResult(user, r);
        if (!mlirTypeIsAMemRef(mlirValueGetType(result)))
          continue;
        if (!view) {
          escapes = true; /* an op that may return an alias */
          break;
        }
        if (size == capacity) {
          capacity *= 2;
          work = realloc(work, sizeof *work * (size_t)capacity);
          if (!work)
            abort();
        }
        work[size++] = result;
      }
    }
  }
  free(work);
  return escapes ? (MlirOperation){NULL} : last;
}

static void run(MlirOperation module, const CagePassOptionValue *options,
                CagePassHandle pass) {
  (void)options, (void)pass;
  static const char *const names[] = {"memref.dealloc"};
  CageOpList deallocs = cageCollectOps(module, names, 1);
  for (intptr_t i = 0; i < deallocs.size; ++i) {
    MlirOperation dealloc = deallocs.ops[i];
    MlirBlock block = mlirOperationGetBlock(dealloc);
    MlirOperation last =
        lastUse(mlirOperationGetOperand(dealloc, 0), dealloc, block);
    if (!mlirOperationIsNull(last) &&
        mlirOperationIsBeforeInBlock(last, dealloc))
      mlirOperationMoveAfter(dealloc, last);
  }
  cageOpListDestroy(&deallocs);
}

const CagePassDefinition cageCPUFreeEarlyPass = {
    .argument = "cage-cpu-free-early",
    .name = "CageCPUFreeEarly",
    .summary = "Move each memref.dealloc to just after the last use of its "
               "buffer in its block",
    .anchorOp = "builtin.module",
    .options = NULL,
    .numOptions = 0,
    .dependentDialects = NULL,
    .numDependentDialects = 0,
    .run = run,
};
