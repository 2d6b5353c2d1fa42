/*===- Emit.c - The PTX of a module compiled by cage-gpu-pipeline ---------===*\
|*                                                                            *|
|* After cage-gpu-merge-kernel-modules and gpu-module-to-binary, a module's  *|
|* kernels are one gpu.binary, @cage_kernels, holding one #gpu.object whose *|
|* format is assembly: the PTX text. cageCUDAEmitPTX hands that text out.   *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#include "IR/Ops.h"
#include "IR/Text.h"

#include "cage-c/Target/CUDA.h"

#include "mlir-c/BuiltinAttributes.h"
#include "mlir-c/Diagnostics.h"
#include "mlir-c/Dialect/GPU.h"

#include <stdio.h>

/* gpu::CompilationTarget::Assembly, the format gpu-module-to-binary gives
 * objects with format=isa. */
enum { kObjectFormatAssembly = 2 };

static MlirLogicalResult failAt(MlirOperation op, const char *message) {
  mlirEmitError(mlirOperationGetLocation(op), message);
  return mlirLogicalResultFailure();
}

MlirLogicalResult cageCUDAEmitPTX(MlirModule module,
                                  MlirStringCallback callback, void *userData) {
  MlirOperation moduleOp = mlirModuleGetOperation(module);
  MlirOperation binary = {NULL};
  int binaries = 0;
  for (MlirOperation op = mlirBlockGetFirstOperation(mlirModuleGetBody(module));
       !mlirOperationIsNull(op); op = mlirOperationGetNextInBlock(op)) {
    if (cageOpIs(op, "gpu.module"))
      return failAt(op, "cage: this gpu.module has no PTX yet: run "
                        "cage-gpu-pipeline (gpu-module-to-binary) first");
    if (cageOpIs(op, "gpu.binary")) {
      binary = op;
      ++binaries;
    }
  }
  if (binaries == 0)
    return failAt(moduleOp,
                  "cage: no GPU kernels: nothing in this module runs on the "
                  "GPU (cage-gpu-pipeline outlines the loops of tensor code)");
  if (binaries > 1) {
    char message[160];
    snprintf(message, sizeof message,
             "cage: %d gpu.binary ops, expected one "
             "(cage-gpu-merge-kernel-modules merges the kernels)",
             binaries);
    return failAt(moduleOp, message);
  }
  MlirAttribute objects =
      mlirOperationGetAttributeByName(binary, cageStr("objects"));
  if (mlirAttributeIsNull(objects) || !mlirAttributeIsAArray(objects) ||
      mlirArrayAttrGetNumElements(objects) != 1)
    return failAt(binary, "cage: expected a gpu.binary with one object (one "
                          "chip)");
  MlirAttribute object = mlirArrayAttrGetElement(objects, 0);
  if (!mlirAttributeIsAGPUObjectAttr(object) ||
      mlirGPUObjectAttrGetFormat(object) != kObjectFormatAssembly)
    return failAt(binary, "cage: the kernels are not PTX text (the pipeline "
                          "makes them with gpu-module-to-binary{format=isa})");
  callback(mlirGPUObjectAttrGetObject(object), userData);
  return mlirLogicalResultSuccess();
}
