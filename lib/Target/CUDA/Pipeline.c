/*===- Pipeline.c - cage-gpu-pipeline -------------------------------------===*\
|*                                                                            *|
|* The NVIDIA GPU pipeline, registered like cage-cpu-pipeline: a textual     *|
|* pipeline whose passes are added one by one to the pass manager it is     *|
|* named in. Its front is the CPU's (the same cage lowering, so the same    *|
|* arithmetic); from bufferized linalg on, the upstream GPU path:           *|
|* linalg to parallel loops, tiled 1 x 128 and mapped to blocks and         *|
|* threads, kernel outlining, NVVM, libdevice, and gpu-module-to-binary     *|
|* with format=isa, which runs LLVM's NVPTX back end in-process and leaves  *|
|* the PTX of each gpu.module in a gpu.binary (docs/GPU.md).                *|
|*                                                                            *|
|* Numerics: arith.divf is div.rn.f32; math.sqrt becomes libdevice's        *|
|* __nv_sqrtf, which nvvm-reflect resolves to sqrt.rn.f32 only with         *|
|* __CUDA_PREC_SQRT=1 (sqrt.approx.f32 otherwise): the first build of the   *|
|* pipeline adds that to LLVM's nvvm-reflect-add option, once per process.  *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#include "Passes.h"

#include "cage-c/Target/CPU.h"
#include "cage-c/Target/CUDA.h"
#include "cage/Pass/PassDefinition.h"

#include "llvm-c/Support.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { kChip, kToolkit, kFuseUpdates };

/* The chips the pipeline takes and the PTX ISA version each needs first
 * (PTX ISA, "Release notes": sm_80 from 7.0, sm_90 from 7.8, ...). CUDA 13's
 * ptxas assembles sm_75 and later. */
typedef struct Chip {
  const char *name;
  int ptx; /* version * 10 */
} Chip;

static const Chip kChips[] = {
    {"sm_75", 63},   {"sm_80", 70},  {"sm_86", 71},   {"sm_87", 74},
    {"sm_89", 78},   {"sm_90", 78},  {"sm_90a", 80},  {"sm_100", 86},
    {"sm_100a", 86}, {"sm_120", 87}, {"sm_120a", 87},
};

static const Chip *findChip(const char *name) {
  for (size_t i = 0; i < sizeof kChips / sizeof kChips[0]; ++i)
    if (strcmp(kChips[i].name, name) == 0)
      return &kChips[i];
  return NULL;
}

const char *cageCUDAToolkitDirectory(const char *toolkit) {
  if (toolkit && *toolkit)
    return toolkit;
  const char *home = getenv("CUDA_HOME");
  return home && *home ? home : "/usr/local/cuda";
}

static bool fileExists(const char *path) {
  FILE *f = fopen(path, "rb");
  if (f)
    fclose(f);
  return f != NULL;
}

/* sqrt.rn.f32 for math.sqrt (see the file comment). LLVM's options are the
 * process's: set once, before the first NVPTX compilation. */
static void requestIEEESquareRoot(void) {
  static atomic_flag done = ATOMIC_FLAG_INIT;
  if (atomic_flag_test_and_set(&done))
    return;
  const char *argv[] = {"cage", "-nvvm-reflect-add=__CUDA_PREC_SQRT=1"};
  LLVMParseCommandLineOptions(2, argv, NULL);
}

static void ignoreMessage(MlirStringRef message, void *userData) {
  (void)message;
  (void)userData;
}

static MlirLogicalResult fail(MlirStringCallback error, void *userData,
                              const char *message) {
  error(mlirStringRefCreateFromCString(message), userData);
  return mlirLogicalResultFailure();
}

static MlirLogicalResult
failUnknownChip(const char *name, MlirStringCallback error, void *userData) {
  char message[256];
  snprintf(message, sizeof message,
           "cage-gpu-pipeline: unsupported chip '%.64s' (one of sm_75, "
           "sm_80, sm_86, sm_87, sm_89, sm_90, sm_90a, sm_100, sm_100a, "
           "sm_120, sm_120a)",
           name);
  return fail(error, userData, message);
}

/* Whether `toolkit` has libdevice and a path the pipeline's text can carry;
 * else says why. Without libdevice the PTX would call undefined __nv_*
 * functions, which only ptxas would notice. */
static bool checkToolkit(const char *toolkit, MlirStringCallback error,
                         void *userData) {
  char libdevice[1024], message[1400];
  int n = snprintf(libdevice, sizeof libdevice,
                   "%s/nvvm/libdevice/libdevice.10.bc", toolkit);
  if (n < 0 || (size_t)n >= sizeof libdevice || strpbrk(toolkit, " {}")) {
    snprintf(message, sizeof message,
             "cage-gpu-pipeline: the CUDA toolkit directory '%.900s' must "
             "be shorter than 990 bytes, without spaces or braces",
             toolkit);
  } else if (!fileExists(libdevice)) {
    snprintf(message, sizeof message,
             "cage-gpu-pipeline: no libdevice at %s (the math of the "
             "kernels needs it): install the CUDA toolkit, or name its "
             "directory (cage-compile --cuda-toolkit=DIR, the option "
             "toolkit=DIR, or $CUDA_HOME)",
             libdevice);
  } else {
    return true;
  }
  error(mlirStringRefCreateFromCString(message), userData);
  return false;
}

static MlirLogicalResult buildPipeline(const CagePassOptionValue *options,
                                       MlirStringCallback pipeline,
                                       MlirStringCallback error,
                                       void *userData) {
  const char *chipName = options[kChip].s ? options[kChip].s : "";
  const Chip *chip = findChip(chipName);
  if (!chip)
    return failUnknownChip(chipName, error, userData);
  const char *toolkit = cageCUDAToolkitDirectory(options[kToolkit].s);
  if (!checkToolkit(toolkit, error, userData))
    return mlirLogicalResultFailure();
  requestIEEESquareRoot();
  char buf[4096];
  int n = snprintf(
      buf, sizeof buf,
      "builtin.module("
      /* The CPU's front: the same cage lowering, so the same arithmetic. */
      "cage-autodiff,cage-cpu-check-sizes,"
      "func.func(%scage-verify,cage-lower-to-linalg{per-element-updates=true},"
      "convert-elementwise-to-linalg),"
      "cage-cpu-decompose-softmax,cage-convert-math-to-arith,"
      "cage-cpu-abi{c-interface=true},"
      "canonicalize,eliminate-empty-tensors,"
      "one-shot-bufferize{bufferize-function-boundaries "
      "function-boundary-type-conversion=identity-layout-map},"
      "buffer-deallocation-pipeline,convert-bufferization-to-memref,"
      "canonicalize,cage-cpu-free-early,"
      "cage-cpu-runtime-checks{hoist-allocations=true},canonicalize,"
      /* One thread per element of 128-wide rows of the parallel loops (a
         loop of one dimension: 128 of its iterations to a block);
         reductions stay loops inside a thread, and host code that reads or
         writes buffers becomes a kernel of one thread. */
      "func.func(convert-linalg-to-parallel-loops,cage-gpu-thread-loops,"
      "scf-parallel-loop-tiling{parallel-loop-tile-sizes=1,128 "
      "no-min-max-bounds},cage-gpu-serial-kernels,gpu-map-parallel-loops,"
      "convert-parallel-loops-to-gpu),"
      "gpu-kernel-outlining,cage-gpu-merge-kernel-modules,"
      /* The host's buffers in device memory, its copies on a stream. */
      "func.func(cage-gpu-device-buffers,gpu-async-region),canonicalize,"
      "convert-nvgpu-to-nvvm,"
      "convert-vector-to-scf,convert-scf-to-cf,convert-nvvm-to-llvm,"
      "convert-func-to-llvm,expand-strided-metadata,"
      "nvvm-attach-target{chip=%s features=+ptx%d O=3},"
      "lower-affine,convert-arith-to-llvm,convert-index-to-llvm,"
      "canonicalize,cse,"
      "gpu.module(convert-gpu-to-nvvm,canonicalize,cse,"
      "reconcile-unrealized-casts),"
      "gpu-to-llvm,gpu-module-to-binary{format=isa toolkit=%s},"
      "convert-math-to-llvm,canonicalize,cse,reconcile-unrealized-casts,"
      "cage-cpu-check-descriptors,cage-gpu-entry-points)",
      options[kFuseUpdates].b ? "cage-fuse-correction,cage-fuse-multi-tensor,"
                              : "",
      chip->name, chip->ptx, toolkit);
  if (n < 0 || (size_t)n >= sizeof buf)
    return fail(error, userData, "cage-gpu-pipeline: the pipeline is too long");
  pipeline(mlirStringRefCreateFromCString(buf), userData);
  return mlirLogicalResultSuccess();
}

static const CagePassOption pipelineOptions[] = {
    [kChip] = {"chip",
               "The GPU: sm_75, sm_80, sm_86, sm_87, sm_89, sm_90, sm_90a, "
               "sm_100, sm_100a, sm_120 or sm_120a (the PTX ISA version is "
               "the first that has it)",
               CagePassOptionString,
               {.s = "sm_80"}},
    [kToolkit] = {"toolkit",
                  "The CUDA toolkit directory, for libdevice (default: "
                  "$CUDA_HOME, else /usr/local/cuda)",
                  CagePassOptionString,
                  {.s = ""}},
    [kFuseUpdates] = {"fuse-updates",
                      "Fuse unfused CAGE steps into cage.update and the "
                      "updates of a function into cage.multi_update",
                      CagePassOptionBool,
                      {.b = true}},
};

static const CagePassPipelineDefinition cageGPUPipeline = {
    .argument = "cage-gpu-pipeline",
    .summary = "Lower cage + tensors to kernels in NVIDIA PTX (gpu.binary) "
               "and their host code in the LLVM dialect",
    .options = pipelineOptions,
    .numOptions = sizeof pipelineOptions / sizeof pipelineOptions[0],
    .build = buildPipeline,
};

CageCUDATarget cageCUDATargetGetDefault(void) {
  return (CageCUDATarget){
      .chip = "sm_80", .toolkit = NULL, .fuseUpdates = true};
}

MlirLogicalResult cageCUDAPipelineAddPasses(MlirOpPassManager passManager,
                                            const CageCUDATarget *target,
                                            MlirStringCallback errorCallback,
                                            void *userData) {
  cageRegisterCUDAPasses();
  MlirStringCallback error = errorCallback ? errorCallback : ignoreMessage;
  /* Checked here too: the pipeline's textual form cannot carry every name. */
  const char *chip = target->chip ? target->chip : "";
  if (!findChip(chip))
    return failUnknownChip(chip, error, userData);
  const char *toolkit = cageCUDAToolkitDirectory(target->toolkit);
  if (!checkToolkit(toolkit, error, userData))
    return mlirLogicalResultFailure();
  char buf[1200];
  snprintf(buf, sizeof buf,
           "builtin.module(cage-gpu-pipeline{chip=%s toolkit=%s "
           "fuse-updates=%s})",
           chip, toolkit, target->fuseUpdates ? "true" : "false");
  return mlirParsePassPipeline(passManager, mlirStringRefCreateFromCString(buf),
                               errorCallback, userData);
}

void cageRegisterCUDAPasses(void) {
  cageRegisterCPUPasses(); /* the cage passes of the front it shares */
  cagePassRegister(&cageGPUMergeKernelModulesPass);
  cagePassRegister(&cageGPUSerialKernelsPass);
  cagePassRegister(&cageGPUDeviceBuffersPass);
  cagePassRegister(&cageGPUEntryPointsPass);
  cagePassRegister(&cageGPUThreadLoopsPass);
  cagePassPipelineRegister(&cageGPUPipeline);
}
