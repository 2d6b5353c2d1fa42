/*===- Header.h - The C header of compiled functions, either ABI -*- C -*-===*\
|*                                                                            *|
|* Internal to lib/Target: one writer for the headers of CPU objects         *|
|* (cageCPUWriteHeader) and of GPU host objects (cageCUDAWriteHeader),        *|
|* which declare the same descriptor types and differ in the entry points'   *|
|* ABI.                                                                      *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef CAGE_LIB_TARGET_CPU_HEADER_H
#define CAGE_LIB_TARGET_CPU_HEADER_H

#include "cage-c/Target/CPU.h"

typedef enum CageHeaderABI {
  /** P<F>(result..., args...): cage-cpu-pipeline's C interface. */
  CageHeaderCPU,
  /** int32_t P<F>(stream, result..., args...): cage-gpu-entry-points. */
  CageHeaderCUDA,
} CageHeaderABI;

MlirLogicalResult cageWriteHeader(MlirModule module,
                                  const CageCPUHeaderOptions *options,
                                  CageHeaderABI abi,
                                  MlirStringCallback callback, void *userData);

#endif
