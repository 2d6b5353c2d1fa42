/*===- ThreadLoops.c - cage-gpu-thread-loops ------------------------------===*\
|*                                                                            *|
|* cage-gpu-pipeline tiles every scf.parallel by 1 x 128 and maps the tiles  *|
|* to blocks (grid x, y, z in order) and their iterations to threads. A      *|
|* loop of one dimension (over the rows of a per-row scale, a flat tensor)  *|
|* then got blocks of one thread each, at most 32 resident per               *|
|* multiprocessor: 1/64 of a GPU's threads; a loop of two dimensions put     *|
|* ceil(n/128) blocks of its last dimension on grid y, which takes 65535 at  *|
|* most (a launch failure past 65535 * 128 columns). This pass flattens each *|
|* top-level scf.parallel, of trip counts t_0 ... t_{r-1}, into             *|
|*                                                                            *|
|*   scf.parallel (%a, %b) = (0, 0) to (ceil(T / 128), 128) { // T: prod t_d *|
|*     %k = %a * 128 + %b                                                    *|
|*     scf.if %k < T { body(lb_d + i_d * s_d) } }  // i_d from %k, last fast *|
|*                                                                            *|
|* so that every kernel is blocks of 128 threads along grid x (2^31 - 1     *|
|* blocks), consecutive threads on consecutive elements of the last         *|
|* dimension. The same iterations and body: the same bits. Loops with       *|
|* reductions (results), loops nested in another parallel loop and loops    *|
|* with parallel loops inside stay as they are.                             *|
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

#include <stdlib.h>

static MlirWalkResult findParallel(MlirOperation op, void *userData) {
  bool *found = userData;
  if (cageOpIs(op, "scf.parallel")) {
    *found = true;
    return MlirWalkResultInterrupt;
  }
  return MlirWalkResultAdvance;
}

/* A top-level scf.parallel without results or parallel loops inside (the
 * mapping to blocks and threads takes nested loops as they are). */
static bool isFlatLoop(MlirOperation op) {
  if (!cageOpIs(op, "scf.parallel") || mlirOperationGetNumResults(op) != 0)
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

/* The loop being rewritten: its old body and, per dimension, the lower
 * bound, step and trip count; k, the flat iteration of the new body. */
typedef struct Flat {
  MlirBlock oldBody;
  intptr_t rank;
  MlirValue *lowerBounds, *steps, *tripCounts;
  MlirValue threads, total, k;
} Flat;

/* In the scf.if: k back to one index per dimension (the last varies
 * fastest), each induction variable lb + i * step, then the old body. */
static void moveBody(CageBuilder *then, MlirValue *yielded, void *userData) {
  (void)yielded;
  const Flat *f = userData;
  MlirValue rest = f->k;
  for (intptr_t d = f->rank - 1; d >= 0; --d) {
    MlirValue i = d == 0 ? rest : cageBuildRemUI(then, rest, f->tripCounts[d]);
    if (d > 0)
      rest = cageBuildDivUI(then, rest, f->tripCounts[d]);
    MlirValue iv = cageBuildAddI(then, f->lowerBounds[d],
                                 cageBuildMulI(then, i, f->steps[d]));
    mlirValueReplaceAllUsesOfWith(mlirBlockGetArgument(f->oldBody, d), iv);
  }
  /* Every op but the terminator, scf.reduce, which the new loop has. */
  MlirOperation op = mlirBlockGetFirstOperation(f->oldBody);
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
 * k < total. */
static void guardBody(CageBuilder *body, const MlirValue *ivs, void *userData) {
  Flat *f = userData;
  f->k = cageBuildAddI(body, cageBuildMulI(body, ivs[0], f->threads), ivs[1]);
  cageBuildIf(body, cageBuildCmpI(body, CageCmpIULT, f->k, f->total), NULL, 0,
              moveBody, nothing, f);
}

static void flattenLoop(MlirOperation loop) {
  intptr_t rank = mlirOperationGetNumOperands(loop) / 3;
  CageBuilder b = cageBuilderDetached(mlirOperationGetLocation(loop));
  MlirValue zero = cageBuildConstantIndex(&b, 0);
  MlirValue one = cageBuildConstantIndex(&b, 1);
  Flat f = {
      .oldBody = mlirRegionGetFirstBlock(mlirOperationGetRegion(loop, 0)),
      .rank = rank,
      .lowerBounds = cageAllocArray(rank, sizeof(MlirValue)),
      .steps = cageAllocArray(rank, sizeof(MlirValue)),
      .tripCounts = cageAllocArray(rank, sizeof(MlirValue)),
      .threads = cageBuildConstantIndex(&b, kThreads),
      .total = one,
  };
  for (intptr_t d = 0; d < rank; ++d) {
    MlirValue lb = mlirOperationGetOperand(loop, d);
    MlirValue ub = mlirOperationGetOperand(loop, rank + d);
    f.lowerBounds[d] = lb;
    f.steps[d] = mlirOperationGetOperand(loop, 2 * rank + d);
    f.tripCounts[d] = cageBuildCeilDivUI(
        &b, cageBuildMaxSI(&b, cageBuildSubI(&b, ub, lb), zero), f.steps[d]);
    f.total = cageBuildMulI(&b, f.total, f.tripCounts[d]);
  }
  MlirValue blocks = cageBuildCeilDivUI(&b, f.total, f.threads);
  MlirValue lowerBounds[] = {zero, zero}, upperBounds[] = {blocks, f.threads},
            steps[] = {one, one};
  cageBuildParallel(&b, lowerBounds, upperBounds, steps, 2, guardBody, &f);
  cageBuilderMoveBefore(&b, loop);
  mlirOperationDestroy(loop);
  free(f.lowerBounds);
  free(f.steps);
  free(f.tripCounts);
}

static void run(MlirOperation func, const CagePassOptionValue *options,
                CagePassHandle pass) {
  (void)options;
  (void)pass;
  CageOpList loops = cageCollectOpsWhere(func, isFlatLoop);
  for (intptr_t i = 0; i < loops.size; ++i)
    flattenLoop(loops.ops[i]);
  cageOpListDestroy(&loops);
}

static MlirDialectHandle (*const dependentDialects[])(void) = {
    mlirGetDialectHandle__scf__, mlirGetDialectHandle__arith__};

const CagePassDefinition cageGPUThreadLoopsPass = {
    .argument = "cage-gpu-thread-loops",
    .name = "CageGPUThreadLoops",
    .summary = "Flatten parallel loops into blocks of 128 iterations, so "
               "that the 1 x 128 tiling makes their iterations threads and "
               "their blocks run along the grid's x dimension",
    .anchorOp = "func.func",
    .options = NULL,
    .numOptions = 0,
    .dependentDialects = dependentDialects,
    .numDependentDialects =
        sizeof dependentDialects / sizeof dependentDialects[0],
    .run = run,
};
