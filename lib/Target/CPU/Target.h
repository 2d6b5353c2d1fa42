/*===- Target.h - The machine a CPU target names ------------------*- C -*-===*\
|*                                                                            *|
|* How a CageCPUTarget (cage-c/Target/CPU.h) becomes the triple, CPU and     *|
|* features that code generation uses: the host's when no triple and no CPU *|
|* are named (or the CPU is "native"), the triple's generic CPU otherwise.   *|
|* Shared by cageCPUEmit and the queries of lib/CAPI/CPUJit.cpp, so that    *|
|* both see the same machine.                                                *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef CAGE_LIB_TARGET_CPU_TARGET_H
#define CAGE_LIB_TARGET_CPU_TARGET_H

#include "cage-c/Target/CPU.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct CageResolvedCPUTarget {
  char *triple; /* normalized; owned */
  const char *cpu, *features;
  char *hostCPU, *hostFeatures; /* owned, when they are the host's */
} CageResolvedCPUTarget;

CageResolvedCPUTarget cageCPUTargetResolve(const CageCPUTarget *target);
void cageCPUTargetResolvedDispose(CageResolvedCPUTarget *resolved);

#ifdef __cplusplus
}
#endif

#endif /* CAGE_LIB_TARGET_CPU_TARGET_H */
