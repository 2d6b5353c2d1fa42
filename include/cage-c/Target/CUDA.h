/*===- cage-c/Target/CUDA.h - NVIDIA GPU pipeline -----------------*- C -*-===*\
|*                                                                            *|
|* cage-gpu-pipeline: an MLIR pass pipeline from cage + tensors to a module  *|
|* whose kernels are NVIDIA PTX, made in-process by LLVM's NVPTX back end:   *|
|* the CPU's front (cage-autodiff, the fused updates, cage-lower-to-linalg,  *|
|* softmax and exp/erf as arithmetic), one-shot bufferization, parallel     *|
|* loops mapped to blocks and threads, kernel outlining, NVVM, libdevice    *|
|* linked from the CUDA toolkit, and gpu-module-to-binary{format=isa}: each  *|
|* gpu.module becomes a gpu.binary holding its PTX (docs/GPU.md).           *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef CAGE_C_TARGET_CUDA_H
#define CAGE_C_TARGET_CUDA_H

#include "cage-c/Target/CPU.h"

#include "mlir-c/IR.h"
#include "mlir-c/Pass.h"
#include "mlir-c/Support.h"

#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Registers cage-gpu-pipeline and the cage passes it names (idempotent;
 *  cageRegisterPasses calls it). */
MLIR_CAPI_EXPORTED void cageRegisterCUDAPasses(void);

/** The options of cage-gpu-pipeline. The strings are borrowed: they must
 *  outlive the calls that take the struct. */
typedef struct CageCUDATarget {
  /** The GPU, sm_75 ... sm_120a (docs/GPU.md lists them). */
  const char *chip;
  /** The CUDA toolkit directory; NULL or "" for the default of
   *  cageCUDAToolkitDirectory. */
  const char *toolkit;
  /** cage-fuse-correction and cage-fuse-multi-tensor, as on the CPU. */
  bool fuseUpdates;
} CageCUDATarget;

/** sm_80, the default toolkit, fused updates. */
MLIR_CAPI_EXPORTED CageCUDATarget cageCUDATargetGetDefault(void);

/** The toolkit directory the pipeline and ptxas are looked up in:
 *  `toolkit` when not NULL or empty, else $CUDA_HOME when set and not empty,
 *  else /usr/local/cuda. The result is `toolkit`, the environment's string
 *  or a constant. */
MLIR_CAPI_EXPORTED const char *cageCUDAToolkitDirectory(const char *toolkit);

/** Parses cage-gpu-pipeline with `target`'s options into `passManager`,
 *  which must be anchored on builtin.module. An unknown chip, a toolkit
 *  without libdevice or a toolkit path the pipeline syntax cannot carry
 *  fail here, with the message to `errorCallback` (may be NULL). */
MLIR_CAPI_EXPORTED MlirLogicalResult cageCUDAPipelineAddPasses(
    MlirOpPassManager passManager, const CageCUDATarget *target,
    MlirStringCallback errorCallback, void *userData);

/** Writes the PTX of a module that cage-gpu-pipeline has compiled: the
 *  object of its one gpu.binary, @cage_kernels, in one or more calls of
 *  `callback`. A module without kernels, or with a binary that is not
 *  one PTX object, is an error reported at its location. */
MLIR_CAPI_EXPORTED MlirLogicalResult
cageCUDAEmitPTX(MlirModule module, MlirStringCallback callback, void *userData);

/** Writes the strict C11 header of the host object that cage-gpu-pipeline
 *  and cageCPUEmit make of `module` (as parsed): as cageCPUWriteHeader, but
 *  the entry point of a public function F, options->symbolPrefix + F
 *  (NULL: "cage_cuda_"), is the one cage-gpu-entry-points gives it:
 *  `int32_t P<F>(void *stream, R *result, <arguments>)`, the CUDA stream
 *  first, every result through `result`, a status returned (0, or a status
 *  of cage-runtime/CUDA.h with its message in cageCudaLastError, which the
 *  header declares); descriptors hold device addresses (docs/GPU.md). */
MLIR_CAPI_EXPORTED MlirLogicalResult
cageCUDAWriteHeader(MlirModule module, const CageCPUHeaderOptions *options,
                    MlirStringCallback callback, void *userData);

#ifdef __cplusplus
}
#endif

#endif /* CAGE_C_TARGET_CUDA_H */
