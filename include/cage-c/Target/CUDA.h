/*===- cage-c/Target/CUDA.h - NVIDIA GPU pipeline -------------------*- C
-*-===*\
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

#include "mlir-c/Support.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Registers cage-gpu-pipeline and the cage passes it names (idempotent;
 *  cageRegisterPasses calls it). */
MLIR_CAPI_EXPORTED void cageRegisterCUDAPasses(void);

#ifdef __cplusplus
}
#endif

#endif /* CAGE_C_TARGET_CUDA_H */
