/*===- ThreadLoops.c - cage-gpu-thread-loops ------------------------------===*\
|*                                                                            *|
|* cage-gpu-pipeline tiles every scf.parallel by 1 x 128 (its innermost      *|
|* dimension becomes 128 threads of a block, the others blocks). A loop of   *|
|* one dimension, the loop over the rows of a per-row scale or over a       *|
|* flat tensor, then got blocks of one thread each, at most 32 resident per  *|
|* multiprocessor: 1/64 of a GPU's threads. This pass splits each top-level *|
|* scf.parallel of one dimension, of trip count n, into two:                *|
|*                                                                            *|
|*   scf.parallel (%i) = (%lb) to (%ub) step (%s) { body(%i) }              *|
|*   -> scf.parallel (%a, %b) = (0, 0) to (ceil(n / 128), 128) {             *|
|*        %k = %a * 128 + %b                                                 *|
|*        scf.if %k < n { body(%lb + %k * %s) } }                            *|
|*                                                                            *|
|* so that the tiling makes 128 of its iterations the threads of a block,   *|
|* and the blocks run along the grid's x dimension (2^31 - 1 of them, where *|
|* y and z take 65535). The same iterations and body: the same bits. Loops  *|
|* with reductions (results), loops nested in another parallel loop and     *|
|* loops with parallel loops inside stay as they are.                       *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#include "Passes.h"

#include "IR/Builder.h"
#include "IR/Ops.h"
#include "IR/Text.h"

#include "mlir-c/BuiltinAttributes.h"
#include "mlir-c/BuiltinTypes.h"
#include "mlir-c/Dialect/Arith.h"
#include "mlir-c/Dialect/SCF.h"

static MlirWalkResult findParallel(MlirOperation op, void *userData) {
  bool *found = userData;
  if (cageOpIs(op, "scf.parallel")) {
    *found = true;
    return MlirWalkResultInterrupt;
  }
  return MlirWalkResultAdvance;
}

/* A top-level scf.parallel of one dimension without results or parallel
 * loops inside (the mapping to blocks and threads takes nested loops as
 * they are). */
static bool isOneDimensionalLoop(MlirOperation op) {
  if (!cageOpIs(op, "scf.parallel") || mlirOperationGetNumResults(op) != 0 ||
      mlirOperationGetNumOperands(op) != 3)
    return false;
  bool nested = false;
  MlirBlock body = mlirRegionGetFirstBlock(mlirOperationGetRegion(op, 0));
  for (MlirOperation inner = mlirBlockGetFirstOperation(body);
       !nested && !mlirOperationIsNull(inner);
       inner = mlirOperationGetNextInBlock(inner))
    mlirOperationWalk(inner, findParallel, &nested, MlirWalkPreOrder);
  if (nested)
    return false;
  for (MlirOperation parent = mlirOperationGetParentOperation(op);
       !mlirOperationIsNull(parent);
       parent = mlirOperationGetParentOperation(parent))
    if (cageOpIs(parent, "scf.parallel") || cageOpIs(parent, "gpu.launch"))
      return false;
  return true;
}

enum { kThreads = 128 };

/* What the scf.if of the new loop's body gets: the old body, moved, its
 * induction variable lb + k * step. */
typedef struct Guarded {
  MlirBlock oldBody;
  MlirValue lowerBound, step, k;
} Guarded;

static void moveBody(CageBuilder *then, MlirValue *yielded, void *userData) {
  (void)yielded;
  const Guarded *g = userData;
  MlirValue i =
      cageBuildAddI(then, g->lowerBound, cageBuildMulI(then, g->k, g->step));
  mlirValueReplaceAllUsesOfWith(mlirBlockGetArgument(g->oldBody, 0), i);
  /* Every op but the terminator, scf.reduce, which the new loop has. */
  MlirOperation op = mlirBlockGetFirstOperation(g->oldBody);
  while (!mlirOperationIsNull(op) &&
         !mlirOperationIsNull(mlirOperationGetNextInBlock(op))) {
    MlirOperation next = mlirOperationGetNextInBlock(op);
    mlirOperationRemoveFromParent(op);
    mlirBlockAppendOwnedOperation(then->block, op);
    op = next;
  }
}

static void nothing(CageBuilder *body, MlirValue *yielded, void *userData) {
  (void)body;
  (void)yielded;
  (void)userData;
}

/* The body of the new loop: k = a * 128 + b, and the old body under
 * k < n. */
typedef struct Split {
  MlirValue threads, tripCount;
  Guarded guarded;
} Split;

static void guardBody(CageBuilder *body, const MlirValue *ivs, void *userData) {
  Split *s = userData;
  MlirValue k =
      cageBuildAddI(body, cageBuildMulI(body, ivs[0], s->threads), ivs[1]);
  s->guarded.k = k;
  cageBuildIf(body, cageBuildCmpI(body, CageCmpIULT, k, s->tripCount), NULL, 0,
              moveBody, nothing, &s->guarded);
}

static void splitLoop(MlirOperation loop) {
  MlirValue lb = mlirOperationGetOperand(loop, 0);
  MlirValue ub = mlirOperationGetOperand(loop, 1);
  MlirValue step = mlirOperationGetOperand(loop, 2);
  CageBuilder b = cageBuilderDetached(mlirOperationGetLocation(loop));
  MlirValue zero = cageBuildConstantIndex(&b, 0);
  MlirValue one = cageBuildConstantIndex(&b, 1);
  MlirValue threads = cageBuildConstantIndex(&b, kThreads);
  MlirValue tripCount = cageBuildCeilDivUI(
      &b, cageBuildMaxSI(&b, cageBuildSubI(&b, ub, lb), zero), step);
  MlirValue blocks = cageBuildCeilDivUI(&b, tripCount, threads);
  Split split = {
      threads,
      tripCount,
      {mlirRegionGetFirstBlock(mlirOperationGetRegion(loop, 0)),
       lb,
       step,
       {NULL}},
  };
  MlirValue lowerBounds[] = {zero, zero}, upperBounds[] = {blocks, threads},
            steps[] = {one, one};
  cageBuildParallel(&b, lowerBounds, upperBounds, steps, 2, guardBody, &split);
  cageBuilderMoveBefore(&b, loop);
  mlirOperationDestroy(loop);
}

static void run(MlirOperation func, const CagePassOptionValue *options,
                CagePassHandle pass) {
  (void)options;
  (void)pass;
  CageOpList loops = cageCollectOpsWhere(func, isOneDimensionalLoop);
  for (intptr_t i = 0; i < loops.size; ++i)
    splitLoop(loops.ops[i]);
  cageOpListDestroy(&loops);
}

static MlirDialectHandle (*const dependentDialects[])(void) = {
    mlirGetDialectHandle__scf__, mlirGetDialectHandle__arith__};

const CagePassDefinition cageGPUThreadLoopsPass = {
    .argument = "cage-gpu-thread-loops",
    .name = "CageGPUThreadLoops",
    .summary = "Split one-dimensional parallel loops into blocks of 128 "
               "iterations, so that the 1 x 128 tiling makes their "
               "iterations threads, not blocks of one thread",
    .anchorOp = "func.func",
    .options = NULL,
    .numOptions = 0,
    .dependentDialects = dependentDialects,
    .numDependentDialects =
        sizeof dependentDialects / sizeof dependentDialects[0],
    .run = run,
};
