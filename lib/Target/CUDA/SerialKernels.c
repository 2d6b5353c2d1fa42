/*===- SerialKernels.c - cage-gpu-serial-kernels --------------------------===*\
|*                                                                            *|
|* After linalg becomes loops, what has parallel loops becomes kernels; the  *|
|* rest stays in the host function: the loops of a reduction to a scalar    *|
|* (a loss), a store to a 0-d buffer (or, where a pipeline lowers the fused *|
|* optimizer step in the CPU's chunk form, its per-group loops). Those read  *|
|* and write device buffers, which the host cannot. This pass puts each     *|
|* such op of a host function into an scf.parallel of one iteration, which  *|
|* the GPU mapping that follows makes a kernel of one thread: the same code, *|
|* in the same order (so the same bits), run where the buffers are. Slow    *|
|* where the work is large; GPU reductions will replace it.                 *|
|*                                                                            *|
|* An op is moved when it (or an op nested in it) reads or writes buffer     *|
|* elements, none of its results is used (a kernel returns nothing), and it  *|
|* neither allocates nor holds parallel loops of its own (an access to a    *|
|* memref.alloca, host memory, stays on the host); a host loop that        *|
|* holds parallel loops stays, and its body is searched in turn. What stays *|
|* and reads buffers is cage-gpu-device-buffers' to rewrite (the scalar a   *|
|* function returns) or to refuse.                                          *|
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

/* What an op holds, for the decision above. */
typedef struct Contents {
  bool accessesElements;
  bool blocksMove; /* an allocation or a parallel loop inside */
} Contents;

/* Whether every buffer `op` accesses is a memref.alloca: host memory (a
 * flag of cage-cpu-runtime-checks), which the host reads and writes. */
static bool onlyHostBuffers(MlirOperation op) {
  bool any = false;
  for (intptr_t i = 0; i < mlirOperationGetNumOperands(op); ++i) {
    MlirValue v = mlirOperationGetOperand(op, i);
    if (!mlirTypeIsAMemRef(mlirValueGetType(v)))
      continue;
    if (!mlirValueIsAOpResult(v) ||
        !cageOpIs(mlirOpResultGetOwner(v), "memref.alloca"))
      return false;
    any = true;
  }
  return any;
}

static bool accessesElements(MlirOperation op) {
  static const char *const names[] = {
      "memref.load",
      "memref.store",
      "memref.copy",
      "memref.atomic_rmw",
      "memref.generic_atomic_rmw",
      "vector.load",
      "vector.store",
      "vector.transfer_read",
      "vector.transfer_write",
      "vector.maskedload",
      "vector.maskedstore",
  };
  for (size_t i = 0; i < sizeof names / sizeof names[0]; ++i)
    if (cageOpIs(op, names[i]))
      return !onlyHostBuffers(op);
  return false;
}

static MlirWalkResult inspect(MlirOperation op, void *userData) {
  Contents *c = userData;
  if (accessesElements(op))
    c->accessesElements = true;
  if (cageOpIs(op, "memref.alloc") || cageOpIs(op, "memref.alloca") ||
      cageOpIs(op, "memref.dealloc") || cageOpIs(op, "scf.parallel") ||
      cageOpIs(op, "scf.forall") || cageOpIs(op, "gpu.launch") ||
      cageOpIs(op, "gpu.launch_func") || cageOpIs(op, "func.call"))
    c->blocksMove = true;
  return MlirWalkResultAdvance;
}

static bool resultsUnused(MlirOperation op) {
  for (intptr_t i = 0; i < mlirOperationGetNumResults(op); ++i)
    if (!mlirOpOperandIsNull(
            mlirValueGetFirstUse(mlirOperationGetResult(op, i))))
      return false;
  return true;
}

/* Whether `op`, an op of a host function's body, is moved into a kernel. A
 * top-level memref.copy is the host memory pass's (a device-to-device
 * copy), not a kernel's. */
static bool runsOnDevice(MlirOperation op) {
  if (cageOpIs(op, "memref.copy") || cageOpIs(op, "memref.load"))
    return false;
  Contents c = {false, false};
  mlirOperationWalk(op, inspect, &c, MlirWalkPreOrder);
  return c.accessesElements && !c.blocksMove && resultsUnused(op);
}

static void moveInto(CageBuilder *body, const MlirValue *ivs, void *userData) {
  (void)ivs;
  MlirOperation op = *(const MlirOperation *)userData;
  mlirOperationRemoveFromParent(op);
  mlirBlockAppendOwnedOperation(body->block, op);
}

/* scf.parallel (%i) = (0) to (1) step (1) { op; scf.reduce } in place of
 * `op` (which a terminator follows at the latest). */
static void wrapInParallel(MlirOperation op) {
  MlirOperation next = mlirOperationGetNextInBlock(op);
  CageBuilder b = cageBuilderDetached(mlirOperationGetLocation(op));
  MlirValue zero = cageBuildConstantIndex(&b, 0);
  MlirValue one = cageBuildConstantIndex(&b, 1);
  cageBuildParallel(&b, &zero, &one, &one, 1, moveInto, &op);
  cageBuilderMoveBefore(&b, next);
}

static void processRegion(MlirRegion region);

/* Moves the ops of `block` that run on the device; host loops that stay
 * (around kernels) are searched in turn. */
static void processBlock(MlirBlock block) {
  MlirOperation op = mlirBlockGetFirstOperation(block);
  while (!mlirOperationIsNull(op)) {
    MlirOperation next = mlirOperationGetNextInBlock(op);
    if (runsOnDevice(op)) {
      wrapInParallel(op);
    } else if (cageOpIs(op, "scf.for") || cageOpIs(op, "scf.if") ||
               cageOpIs(op, "scf.while")) {
      for (intptr_t i = 0; i < mlirOperationGetNumRegions(op); ++i)
        processRegion(mlirOperationGetRegion(op, i));
    }
    op = next;
  }
}

static void processRegion(MlirRegion region) {
  for (MlirBlock block = mlirRegionGetFirstBlock(region);
       !mlirBlockIsNull(block); block = mlirBlockGetNextInRegion(block))
    processBlock(block);
}

static void run(MlirOperation func, const CagePassOptionValue *options,
                CagePassHandle pass) {
  (void)options;
  (void)pass;
  processRegion(mlirOperationGetRegion(func, 0));
}

static MlirDialectHandle (*const dependentDialects[])(void) = {
    mlirGetDialectHandle__scf__, mlirGetDialectHandle__arith__};

const CagePassDefinition cageGPUSerialKernelsPass = {
    .argument = "cage-gpu-serial-kernels",
    .name = "CageGPUSerialKernels",
    .summary = "Run the host code that reads or writes buffer elements (a "
               "reduction to a scalar, a store to a 0-d buffer) as kernels "
               "of one thread, in one-iteration scf.parallel loops",
    .anchorOp = "func.func",
    .options = NULL,
    .numOptions = 0,
    .dependentDialects = dependentDialects,
    .numDependentDialects =
        sizeof dependentDialects / sizeof dependentDialects[0],
    .run = run,
};
