/*===- Header.c - The C header of GPU host objects ------------------------===*\
|*                                                                            *|
|* cageCUDAWriteHeader: the CPU's header writer (lib/Target/CPU/Header.c)    *|
|* with the entry points of cage-gpu-entry-points.                          *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#include "cage-c/Target/CUDA.h"

#include "Target/CPU/Header.h"

MlirLogicalResult cageCUDAWriteHeader(MlirModule module,
                                      const CageCPUHeaderOptions *options,
                                      MlirStringCallback callback,
                                      void *userData) {
  return cageWriteHeader(module, options, CageHeaderCUDA, callback, userData);
}
