/*===- Passes.h - The CPU pass definitions ------------------------*- C -*-===*\
|*                                                                            *|
|* The CagePassDefinitions of lib/Target/CPU; include/cage-c/Target/CPU.h    *|
|* has their public create and register functions.                          *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef CAGE_LIB_TARGET_CPU_PASSES_H
#define CAGE_LIB_TARGET_CPU_PASSES_H

#include "cage/Pass/PassDefinition.h"

extern const CagePassDefinition cageCPUPipelinePass;
extern const CagePassDefinition cageCPUABIPass;
extern const CagePassDefinition cageCPUTilePass;
extern const CagePassDefinition cageCPUCheckLoweredPass;
extern const CagePassDefinition cageCPURuntimeChecksPass;
extern const CagePassDefinition cageCPUCheckSizesPass;
extern const CagePassDefinition cageCPUExpandStridedCopiesPass;
extern const CagePassDefinition cageCPUCheckDescriptorsPass;

#endif /* CAGE_LIB_TARGET_CPU_PASSES_H */
