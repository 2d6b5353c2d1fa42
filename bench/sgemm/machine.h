/*===- machine.h - What the results were measured on ----------------------===*\
|*                                                                            *|
|* The CPU model, the load average, and the OpenBLAS build and kernel in      *|
|* use: a result means little without them.                                   *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef CAGE_SGEMM_MACHINE_H
#define CAGE_SGEMM_MACHINE_H

#include <stddef.h>

/** The "model name" of /proc/cpuinfo ("unknown" if none). */
void machineCpuModel(char *out, size_t size);

/** The 1-minute load average, or -1 if /proc/loadavg cannot be read. */
double machineLoadAverage(void);

#endif /* CAGE_SGEMM_MACHINE_H */
