/*===- MergeKernelModules.c - cage-gpu-merge-kernel-modules ---------------===*\
|*                                                                            *|
|* gpu-kernel-outlining puts every kernel in a gpu.module of its own, so a   *|
|* training step became dozens of PTX modules, each with its own header,     *|
|* which a runtime would load one by one and which no single .ptx file can   *|
|* hold. This pass moves the kernels of all the gpu.modules of a module into *|
|* one, @cage_kernels: each kernel takes its old module's name (unique, and  *|
|* what outlining derived from the function it came from), and every        *|
|* gpu.launch_func is pointed at @cage_kernels::@<that name>.                *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#include "Passes.h"

#include "IR/Builder.h"
#include "IR/Ops.h"
#include "IR/Text.h"

#include "mlir-c/BuiltinAttributes.h"
#include "mlir-c/Diagnostics.h"
#include "mlir-c/Dialect/GPU.h"

#include <stdlib.h>

#define MERGED "cage_kernels"

static bool isGPUModule(MlirOperation op) { return cageOpIs(op, "gpu.module"); }

static MlirStringRef symbolName(MlirOperation op) {
  return mlirStringAttrGetValue(cageOpAttribute(op, "sym_name"));
}

static MlirBlock bodyOf(MlirOperation op) {
  return mlirRegionGetFirstBlock(mlirOperationGetRegion(op, 0));
}

/* The names of the merged modules (strings of the context's attributes). */
typedef struct Retarget {
  MlirContext ctx;
  MlirStringRef *merged;
  intptr_t numMerged;
} Retarget;

/* @m::@f becomes @cage_kernels::@m when m was merged (its kernel took its
 * name). */
static MlirWalkResult retarget(MlirOperation op, void *userData) {
  const Retarget *r = userData;
  if (!cageOpIs(op, "gpu.launch_func"))
    return MlirWalkResultAdvance;
  MlirAttribute kernel = cageOpAttribute(op, "kernel");
  if (mlirAttributeIsNull(kernel) || !mlirAttributeIsASymbolRef(kernel))
    return MlirWalkResultAdvance;
  MlirStringRef module = mlirSymbolRefAttrGetRootReference(kernel);
  intptr_t i = 0;
  while (i < r->numMerged && !mlirStringRefEqual(r->merged[i], module))
    ++i;
  if (i == r->numMerged)
    return MlirWalkResultAdvance;
  MlirAttribute leaf = mlirFlatSymbolRefAttrGet(r->ctx, module);
  mlirOperationSetAttributeByName(
      op, cageStr("kernel"),
      mlirSymbolRefAttrGet(r->ctx, cageStr(MERGED), 1, &leaf));
  return MlirWalkResultAdvance;
}

static void run(MlirOperation module, const CagePassOptionValue *options,
                CagePassHandle pass) {
  (void)options;
  MlirOperation merged = {NULL};
  MlirSymbolTable symbols = mlirSymbolTableCreate(module);
  bool taken =
      !mlirOperationIsNull(mlirSymbolTableLookup(symbols, cageStr(MERGED)));
  mlirSymbolTableDestroy(symbols);
  if (taken) {
    mlirEmitError(mlirOperationGetLocation(module),
                  "cage-gpu-merge-kernel-modules: the module already has a "
                  "symbol named '" MERGED "'");
    cagePassSignalFailure(pass);
    return;
  }
  CageOpList modules = cageCollectOpsWhere(module, isGPUModule);
  MlirContext ctx = mlirOperationGetContext(module);
  Retarget r = {.ctx = ctx,
                .merged =
                    cageAllocArray(modules.size + 1, sizeof(MlirStringRef))};
  for (intptr_t i = 0; i < modules.size; ++i) {
    MlirOperation gpuModule = modules.ops[i];
    if (!mlirOperationEqual(mlirOperationGetParentOperation(gpuModule), module))
      continue;
    MlirStringRef name = symbolName(gpuModule);
    MlirBlock body = bodyOf(gpuModule);
    /* Outlining gives a module one kernel; anything else stays as is. */
    MlirOperation kernel = mlirBlockGetFirstOperation(body);
    if (mlirOperationIsNull(kernel) || !cageOpIs(kernel, "gpu.func") ||
        !mlirOperationIsNull(mlirOperationGetNextInBlock(kernel)) ||
        !mlirAttributeIsNull(cageOpAttribute(gpuModule, "targets")))
      continue;
    r.merged[r.numMerged++] = name;
    if (mlirOperationIsNull(merged)) {
      /* The first one becomes @cage_kernels. */
      merged = gpuModule;
      mlirOperationSetAttributeByName(kernel, cageStr("sym_name"),
                                      mlirStringAttrGet(ctx, name));
      mlirOperationSetAttributeByName(merged, cageStr("sym_name"),
                                      mlirStringAttrGet(ctx, cageStr(MERGED)));
      continue;
    }
    mlirOperationSetAttributeByName(kernel, cageStr("sym_name"),
                                    mlirStringAttrGet(ctx, name));
    mlirOperationRemoveFromParent(kernel);
    mlirBlockAppendOwnedOperation(bodyOf(merged), kernel);
    mlirOperationDestroy(gpuModule);
  }
  cageOpListDestroy(&modules);
  mlirOperationWalk(module, retarget, &r, MlirWalkPreOrder);
  free(r.merged);
}

static MlirDialectHandle (*const dependentDialects[])(void) = {
    mlirGetDialectHandle__gpu__};

const CagePassDefinition cageGPUMergeKernelModulesPass = {
    .argument = "cage-gpu-merge-kernel-modules",
    .name = "CageGPUMergeKernelModules",
    .summary = "Move the kernels of the outlined gpu.modules into one, "
               "@cage_kernels, and point the launches at them",
    .anchorOp = "builtin.module",
    .options = NULL,
    .numOptions = 0,
    .dependentDialects = dependentDialects,
    .numDependentDialects =
        sizeof dependentDialects / sizeof dependentDialects[0],
    .run = run,
};
