/*===- StridedCopies.c - cage-cpu-expand-strided-copies -------------------===*\
|*                                                                            *|
|* finalize-memref-to-llvm lowers a memref.copy between buffers with identity *|
|* layouts to memcpy, and any other (a copy from or into a subview, which    *|
|* bufferization makes for a chunk of a parallel loop) to a call of          *|
|* `memrefCopy`, a function of MLIR's runtime library                        *|
|* libmlir_c_runner_utils. A compiled object would then need that library   *|
|* at link time. This pass turns those copies into linalg.copy, which the    *|
|* CPU pipeline generalizes, tiles and vectorizes like any other linalg op,  *|
|* so that cage's objects need nothing but libc, libm and the OpenMP         *|
|* runtime.                                                                  *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#include "Passes.h"

#include "IR/Ops.h"
#include "IR/Text.h"

#include "mlir-c/AffineMap.h"
#include "mlir-c/BuiltinAttributes.h"
#include "mlir-c/BuiltinTypes.h"
#include "mlir-c/Dialect/Linalg.h"
#include "mlir-c/Dialect/MemRef.h"

#include <stdlib.h>

/* Whether finalize-memref-to-llvm lowers a copy involving `type` to memcpy:
 * a memref whose layout is the identity. */
static bool hasIdentityLayout(MlirType type) {
  return mlirTypeIsAMemRef(type) &&
         mlirAffineMapIsIdentity(mlirMemRefTypeGetAffineMap(type));
}

static bool isStridedCopy(MlirOperation op) {
  if (!cageOpIs(op, "memref.copy"))
    return false;
  return !hasIdentityLayout(mlirValueGetType(mlirOperationGetOperand(op, 0))) ||
         !hasIdentityLayout(mlirValueGetType(mlirOperationGetOperand(op, 1)));
}

/* linalg.copy ins(source) outs(target) in place of the memref.copy `op`. */
static void expandCopy(MlirOperation op) {
  MlirContext ctx = mlirOperationGetContext(op);
  MlirValue operands[] = {mlirOperationGetOperand(op, 0),
                          mlirOperationGetOperand(op, 1)};
  int32_t segments[] = {1, 1}; /* inputs, outputs */
  MlirNamedAttribute sizes = mlirNamedAttributeGet(
      mlirIdentifierGet(ctx, cageStr("operandSegmentSizes")),
      mlirDenseI32ArrayGet(ctx, 2, segments));
  MlirOperationState state = mlirOperationStateGet(
      cageStr("linalg.copy"), mlirOperationGetLocation(op));
  mlirOperationStateAddOperands(&state, 2, operands);
  mlirOperationStateAddAttributes(&state, 1, &sizes);
  MlirRegion body = mlirRegionCreate();
  mlirOperationStateAddOwnedRegions(&state, 1, &body);
  MlirOperation copy = mlirOperationCreate(&state);
  mlirLinalgFillBuiltinNamedOpRegion(copy);
  mlirBlockInsertOwnedOperationBefore(mlirOperationGetBlock(op), op, copy);
  mlirOperationDestroy(op);
}

static void run(MlirOperation module, const CagePassOptionValue *options,
                CagePassHandle pass) {
  (void)options;
  (void)pass;
  CageOpList copies = cageCollectOpsWhere(module, isStridedCopy);
  for (intptr_t i = 0; i < copies.size; ++i)
    expandCopy(copies.ops[i]);
  cageOpListDestroy(&copies);
}

static MlirDialectHandle (*const dependentDialects[])(void) = {
    mlirGetDialectHandle__linalg__};

const CagePassDefinition cageCPUExpandStridedCopiesPass = {
    .argument = "cage-cpu-expand-strided-copies",
    .name = "CageCPUExpandStridedCopies",
    .summary = "Turn memref.copy ops that would call MLIR's runtime library "
               "(memrefCopy: a layout that is not the identity) into "
               "linalg.copy",
    .anchorOp = "builtin.module",
    .dependentDialects = dependentDialects,
    .numDependentDialects =
        sizeof dependentDialects / sizeof dependentDialects[0],
    .run = run,
};
