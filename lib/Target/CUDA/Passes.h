/*===- Passes.h - The passes of the NVIDIA GPU back end -----------*- C -*-===*\
|*                                                                            *|
|* Internal to lib/Target/CUDA; the public side is cage-c/Target/CUDA.h.     *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef CAGE_LIB_TARGET_CUDA_PASSES_H
#define CAGE_LIB_TARGET_CUDA_PASSES_H

#include "cage/Pass/PassDefinition.h"

extern const CagePassDefinition cageGPUMergeKernelModulesPass;
extern const CagePassDefinition cageGPUSerialKernelsPass;
extern const CagePassDefinition cageGPUDeviceBuffersPass;
extern const CagePassDefinition cageGPUEntryPointsPass;
extern const CagePassDefinition cageGPUThreadLoopsPass;

#endif
