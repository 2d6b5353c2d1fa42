// RUN: not cage-opt %s '--cage-gpu-pipeline=chip=sm_61' 2>&1 | FileCheck %s --check-prefix=CHIP
// RUN: not cage-opt %s '--cage-gpu-pipeline=toolkit=%t/no-toolkit' 2>&1 | FileCheck %s --check-prefix=TOOLKIT
// RUN: env CUDA_HOME=%t/no-toolkit not cage-opt %s --cage-gpu-pipeline 2>&1 | FileCheck %s --check-prefix=TOOLKIT

// Options that cannot give PTX are errors before anything runs: a chip the
// pipeline does not know (an unknown one is a fatal LLVM error in the NVPTX
// back end, and CUDA 13's ptxas starts at sm_75), and a toolkit without
// libdevice (the kernels would call undefined __nv_* functions).
// CHIP: cage-gpu-pipeline: unsupported chip 'sm_61' (one of sm_75, sm_80,
// TOOLKIT: cage-gpu-pipeline: no libdevice at {{.*}}no-toolkit/nvvm/libdevice/libdevice.10.bc (the math of the kernels needs it)

func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  return %x : tensor<4xf32>
}
