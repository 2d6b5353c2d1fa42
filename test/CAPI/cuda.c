// RUN: env -u CUDA_HOME cage-capi-cuda-test 2>&1 | FileCheck %s

/*===- cuda.c - C API of the NVIDIA GPU target ----------------------------===*\
|*                                                                            *|
|* cage-c/Target/CUDA.h without a toolkit: the default target, where the    *|
|* toolkit is looked up, the options the pipeline refuses before it runs,   *|
|* and cageCUDAEmitPTX on modules that hold no PTX. The PTX itself is       *|
|* tested through cage-compile (test/Target/CUDA/cage-compile-ptx.test).    *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#define _XOPEN_SOURCE 700 /* setenv */

#include "CAPITest.h"

#include "cage-c/Passes.h"
#include "cage-c/Target/CUDA.h"

#include "mlir-c/Diagnostics.h"
#include "mlir-c/IR.h"
#include "mlir-c/Pass.h"
#include "mlir-c/RegisterEverything.h"

#include <stdlib.h>

static void testTarget(void) {
  CageCUDATarget target = cageCUDATargetGetDefault();
  fprintf(stderr, "default: chip %s, toolkit %s, fuse-updates %d\n",
          target.chip, target.toolkit ? target.toolkit : "(default)",
          (int)target.fuseUpdates);
  // CHECK: default: chip sm_80, toolkit (default), fuse-updates 1
  fprintf(stderr, "toolkit: %s, %s\n", cageCUDAToolkitDirectory(NULL),
          cageCUDAToolkitDirectory("/opt/cuda-13"));
  // CHECK-NEXT: toolkit: /usr/local/cuda, /opt/cuda-13
  setenv("CUDA_HOME", "/opt/from-env", 1);
  fprintf(stderr, "toolkit with CUDA_HOME: %s, %s, %s\n",
          cageCUDAToolkitDirectory(NULL), cageCUDAToolkitDirectory(""),
          cageCUDAToolkitDirectory("/opt/cuda-13"));
  // CHECK-NEXT: toolkit with CUDA_HOME: /opt/from-env, /opt/from-env,
  // CHECK-SAME:  /opt/cuda-13
  unsetenv("CUDA_HOME");
}

/* cageCUDAPipelineAddPasses with `target`: its outcome and message. */
static void addPasses(MlirContext ctx, const char *label,
                      const CageCUDATarget *target) {
  MlirPassManager pm = mlirPassManagerCreate(ctx);
  fprintf(stderr, "%s: ", label);
  MlirLogicalResult result = cageCUDAPipelineAddPasses(
      mlirPassManagerGetAsOpPassManager(pm), target, printToStderr, NULL);
  fprintf(stderr, " -> %s\n",
          mlirLogicalResultIsSuccess(result) ? "success" : "failure");
  mlirPassManagerDestroy(pm);
}

static void testRefusedOptions(MlirContext ctx) {
  CageCUDATarget target = cageCUDATargetGetDefault();
  target.chip = "sm_61";
  addPasses(ctx, "old chip", &target);
  // CHECK: old chip: cage-gpu-pipeline: unsupported chip 'sm_61'
  // CHECK-SAME: (one of sm_75, {{.*}}) -> failure
  target.chip = "sm_80 fuse-updates=false";
  addPasses(ctx, "chip with a space", &target);
  // CHECK: chip with a space: cage-gpu-pipeline: unsupported chip
  // CHECK-SAME: 'sm_80 fuse-updates=false' {{.*}} -> failure
  target.chip = NULL;
  addPasses(ctx, "no chip", &target);
  // CHECK: no chip: cage-gpu-pipeline: unsupported chip '' {{.*}} -> failure
  target = cageCUDATargetGetDefault();
  target.toolkit = "/nonexistent/cuda";
  addPasses(ctx, "no libdevice", &target);
  // CHECK: no libdevice: cage-gpu-pipeline: no libdevice at
  // CHECK-SAME: /nonexistent/cuda/nvvm/libdevice/libdevice.10.bc {{.*}} ->
  // failure
  target.toolkit = "/opt/cuda{13}";
  addPasses(ctx, "braces", &target);
  // CHECK: braces: cage-gpu-pipeline: the CUDA toolkit directory
  // CHECK-SAME: '/opt/cuda{13}' must be shorter than 990 bytes, without
  // CHECK-SAME: spaces or braces -> failure
}

static void emitPTX(MlirContext ctx, const char *label, const char *text) {
  MlirModule module = mlirModuleCreateParse(ctx, str(text));
  fprintf(stderr, "%s:\n", label);
  MlirDiagnosticHandlerID handler =
      mlirContextAttachDiagnosticHandler(ctx, printDiagnostic, NULL, NULL);
  MlirLogicalResult result = cageCUDAEmitPTX(module, printToStderr, NULL);
  mlirContextDetachDiagnosticHandler(ctx, handler);
  fprintf(stderr, "-> %s\n",
          mlirLogicalResultIsSuccess(result) ? "success" : "failure");
  mlirModuleDestroy(module);
}

static void testEmitPTX(MlirContext ctx) {
  emitPTX(ctx, "no kernels",
          "func.func @f(%x: f32) -> f32 { return %x : f32 }");
  // CHECK-LABEL: no kernels:
  // CHECK-NEXT: diagnostic: loc("-":0:0): cage: no GPU kernels: nothing in
  // CHECK-SAME: this module runs on the GPU
  // CHECK-NEXT: -> failure
  emitPTX(ctx, "not compiled",
          "module attributes {gpu.container_module} {\n"
          "  gpu.module @cage_kernels {}\n"
          "}");
  // CHECK-LABEL: not compiled:
  // CHECK-NEXT: diagnostic: loc("-":2:3): cage: this gpu.module has no PTX
  // CHECK-SAME: yet: run cage-gpu-pipeline (gpu-module-to-binary) first
  // CHECK-NEXT: -> failure
  emitPTX(ctx, "two binaries",
          "gpu.binary @a [#gpu.object<#nvvm.target, \"x\">]\n"
          "gpu.binary @b [#gpu.object<#nvvm.target, \"y\">]");
  // CHECK-LABEL: two binaries:
  // CHECK-NEXT: diagnostic: loc("-":0:0): cage: 2 gpu.binary ops, expected
  // CHECK-SAME: one (cage-gpu-merge-kernel-modules merges the kernels)
  // CHECK-NEXT: -> failure
  emitPTX(ctx, "a cubin",
          "gpu.binary @cage_kernels [#gpu.object<#nvvm.target, bin = \"x\">]");
  // CHECK-LABEL: a cubin:
  // CHECK-NEXT: diagnostic: loc("-":1:1): cage: the kernels are not PTX text
  // CHECK-SAME: (the pipeline makes them with
  // CHECK-SAME: gpu-module-to-binary{format=isa})
  // CHECK-NEXT: -> failure
  emitPTX(ctx, "PTX",
          "gpu.binary @cage_kernels [#gpu.object<#nvvm.target, "
          "assembly = \"// PTX text\\0A\">]");
  // CHECK-LABEL: PTX:
  // CHECK-NEXT: // PTX text
  // CHECK-NEXT: -> success
}

int main(void) {
  MlirContext ctx = mlirContextCreate();
  MlirDialectRegistry registry = mlirDialectRegistryCreate();
  mlirRegisterAllDialects(registry);
  mlirContextAppendDialectRegistry(ctx, registry);
  mlirDialectRegistryDestroy(registry);
  mlirContextLoadAllAvailableDialects(ctx);
  mlirRegisterAllPasses();
  cageRegisterPasses();

  testTarget();
  testRefusedOptions(ctx);
  testEmitPTX(ctx);

  mlirContextDestroy(ctx);
  return 0;
}
