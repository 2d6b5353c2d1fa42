/*===- DeviceBuffers.c - cage-gpu-device-buffers --------------------------===*\
|*                                                                            *|
|* After kernel outlining every element of every buffer is read and written  *|
|* by kernels (cage-gpu-serial-kernels sees to the loops without parallel    *|
|* ones), so the buffers a host function allocates must be device memory,   *|
|* and its arguments are device memory too (the entry points' contract).   *|
|* This pass rewrites what the host function still does with buffers:      *|
|*                                                                            *|
|*   memref.alloc    -> gpu.alloc (same type and sizes)                       *|
|*   memref.dealloc  -> gpu.dealloc                                           *|
|*   memref.copy     -> gpu.memcpy (a copy between device buffers)            *|
|*   memref.load of a 0-d buffer (the scalar a function returns, a loss)     *|
|*                   -> a copy into a host memref.alloca, loaded there *|
|*                                                                            *|
|* gpu-async-region then puts them on a stream. Anything else the host does *|
|* with buffer elements (a load with indices, a store, a copy between       *|
|* strided views, an allocation with a layout) has no device form here: an  *|
|* error at the op, never host code that dereferences device memory.        *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#include "Passes.h"

#include "IR/Builder.h"
#include "IR/Ops.h"
#include "IR/Text.h"

#include "mlir-c/BuiltinAttributes.h"
#include "mlir-c/BuiltinTypes.h"
#include "mlir-c/Diagnostics.h"
#include "mlir-c/Dialect/GPU.h"
#include "mlir-c/Dialect/MemRef.h"

#include <stdio.h>
#include <stdlib.h>

/* Whether `type` is a memref with the identity layout (contiguous, the
 * only layout gpu.alloc and gpu.memcpy's lowering take). */
static bool identityLayout(MlirType type) {
  return mlirTypeIsAMemRef(type) &&
         mlirAffineMapIsIdentity(mlirMemRefTypeGetAffineMap(type));
}

static bool fail(MlirOperation op, const char *message) {
  char text[320];
  snprintf(text, sizeof text,
           "cage-gpu-device-buffers: %s: the host cannot do this to a device "
           "buffer (docs/GPU.md)",
           message);
  mlirEmitError(mlirOperationGetLocation(op), text);
  return false;
}

static CageBuilder before(MlirOperation op) {
  return cageBuilderDetached(mlirOperationGetLocation(op));
}

/* Replaces `op`'s one result by `value` and erases `op`. */
static void replaceWith(MlirOperation op, MlirValue value) {
  mlirValueReplaceAllUsesOfWith(mlirOperationGetResult(op, 0), value);
  mlirOperationDestroy(op);
}

static bool rewriteAlloc(MlirOperation op) {
  MlirType type = mlirValueGetType(mlirOperationGetResult(op, 0));
  /* With the identity layout the operands are the dynamic sizes alone. */
  intptr_t numDynamic = mlirOperationGetNumOperands(op);
  if (!identityLayout(type))
    return fail(op, "an allocation with a layout");
  CageBuilder b = before(op);
  MlirValue *sizes = cageAllocArray(numDynamic, sizeof *sizes);
  for (intptr_t i = 0; i < numDynamic; ++i)
    sizes[i] = mlirOperationGetOperand(op, i);
  int32_t segments[] = {0, (int32_t)numDynamic, 0};
  MlirNamedAttribute attributes[] = {cageNamedAttribute(
      &b, "operandSegmentSizes", mlirDenseI32ArrayGet(b.context, 3, segments))};
  MlirOperation alloc =
      cageBuildOp(&b, "gpu.alloc", numDynamic, sizes, 1, &type, 1, attributes);
  free(sizes);
  cageBuilderMoveBefore(&b, op);
  replaceWith(op, mlirOperationGetResult(alloc, 0));
  return true;
}

static void rewriteDealloc(MlirOperation op) {
  CageBuilder b = before(op);
  MlirValue memref = mlirOperationGetOperand(op, 0);
  cageBuildOp(&b, "gpu.dealloc", 1, &memref, 0, NULL, 0, NULL);
  cageBuilderMoveBefore(&b, op);
  mlirOperationDestroy(op);
}

static bool rewriteCopy(MlirOperation op) {
  MlirValue source = mlirOperationGetOperand(op, 0);
  MlirValue target = mlirOperationGetOperand(op, 1);
  if (!identityLayout(mlirValueGetType(source)) ||
      !identityLayout(mlirValueGetType(target)))
    return fail(op, "a copy between strided views");
  CageBuilder b = before(op);
  MlirValue operands[] = {target, source};
  cageBuildOp(&b, "gpu.memcpy", 2, operands, 0, NULL, 0, NULL);
  cageBuilderMoveBefore(&b, op);
  mlirOperationDestroy(op);
  return true;
}

/* %v = memref.load %buffer[] becomes a copy of the element into a host
 * memref.alloca and a load from there. */
static bool rewriteScalarLoad(MlirOperation op) {
  MlirValue buffer = mlirOperationGetOperand(op, 0);
  MlirType type = mlirValueGetType(buffer);
  if (mlirShapedTypeGetRank(type) != 0 || !identityLayout(type))
    return fail(op, "an element read with indices");
  CageBuilder b = before(op);
  MlirValue host = cageOperationGetResult(
      cageBuildOp(&b, "memref.alloca", 0, NULL, 1, &type, 0, NULL), 0);
  MlirValue operands[] = {host, buffer};
  cageBuildOp(&b, "gpu.memcpy", 2, operands, 0, NULL, 0, NULL);
  MlirType element = mlirShapedTypeGetElementType(type);
  MlirValue value = cageOperationGetResult(
      cageBuildOp(&b, "memref.load", 1, &host, 1, &element, 0, NULL), 0);
  cageBuilderMoveBefore(&b, op);
  replaceWith(op, value);
  return true;
}

static bool processRegion(MlirRegion region);

static bool isHostBuffer(MlirValue v) {
  return mlirValueIsAOpResult(v) &&
         cageOpIs(mlirOpResultGetOwner(v), "memref.alloca");
}

/* A memref.alloca is host memory (a flag of cage-cpu-runtime-checks): the
 * host may read and write it, no kernel may. */
static bool checkHostBuffer(MlirOperation alloca) {
  MlirValue buffer = mlirOperationGetResult(alloca, 0);
  for (MlirOpOperand use = mlirValueGetFirstUse(buffer);
       !mlirOpOperandIsNull(use); use = mlirOpOperandGetNextUse(use))
    if (cageOpIs(mlirOpOperandGetOwner(use), "gpu.launch_func"))
      return fail(alloca, "a host buffer (memref.alloca) passed to a kernel");
  return true;
}

/* Whether `op` reads or writes elements of host buffers only. */
static bool accessesHostBuffer(MlirOperation op) {
  int index = cageOpIs(op, "memref.load") ? 0 : 1; /* store, atomic_rmw */
  return index < mlirOperationGetNumOperands(op) &&
         isHostBuffer(mlirOperationGetOperand(op, index));
}

/* Rewrites the buffer ops of `block`, and of the host control flow in it
 * (the kernels are gpu.launch_func by now, their bodies elsewhere). */
static bool processBlock(MlirBlock block) {
  bool ok = true;
  MlirOperation op = mlirBlockGetFirstOperation(block);
  while (!mlirOperationIsNull(op)) {
    MlirOperation next = mlirOperationGetNextInBlock(op);
    if (cageOpIs(op, "memref.alloca"))
      ok &= checkHostBuffer(op);
    else if ((cageOpIs(op, "memref.load") || cageOpIs(op, "memref.store") ||
              cageOpIs(op, "memref.atomic_rmw")) &&
             accessesHostBuffer(op)) {
      /* host memory: stays as it is */
    } else if (cageOpIs(op, "memref.alloc"))
      ok &= rewriteAlloc(op);
    else if (cageOpIs(op, "memref.dealloc"))
      rewriteDealloc(op);
    else if (cageOpIs(op, "memref.copy"))
      ok &= rewriteCopy(op);
    else if (cageOpIs(op, "memref.load"))
      ok &= rewriteScalarLoad(op);
    else if (cageOpIs(op, "memref.store") ||
             cageOpIs(op, "memref.atomic_rmw") ||
             cageOpHasPrefix(op, "vector.") || cageOpIs(op, "gpu.launch"))
      ok &= fail(op, "an element access outside a kernel");
    else
      for (intptr_t i = 0; i < mlirOperationGetNumRegions(op); ++i)
        ok &= processRegion(mlirOperationGetRegion(op, i));
    op = next;
  }
  return ok;
}

static bool processRegion(MlirRegion region) {
  bool ok = true;
  for (MlirBlock block = mlirRegionGetFirstBlock(region);
       !mlirBlockIsNull(block); block = mlirBlockGetNextInRegion(block))
    ok &= processBlock(block);
  return ok;
}

static void run(MlirOperation func, const CagePassOptionValue *options,
                CagePassHandle pass) {
  (void)options;
  if (!processRegion(mlirOperationGetRegion(func, 0)))
    cagePassSignalFailure(pass);
}

static MlirDialectHandle (*const dependentDialects[])(void) = {
    mlirGetDialectHandle__gpu__, mlirGetDialectHandle__memref__};

const CagePassDefinition cageGPUDeviceBuffersPass = {
    .argument = "cage-gpu-device-buffers",
    .name = "CageGPUDeviceBuffers",
    .summary = "Give host functions device buffers: gpu.alloc, gpu.dealloc "
               "and gpu.memcpy for their memref ops, a copy to the host for "
               "a returned scalar; any other host access to an element is an "
               "error",
    .anchorOp = "func.func",
    .options = NULL,
    .numOptions = 0,
    .dependentDialects = dependentDialects,
    .numDependentDialects =
        sizeof dependentDialects / sizeof dependentDialects[0],
    .run = run,
};
