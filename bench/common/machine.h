/*===- machine.h - What the results were measured on ----------------------===*\
|*                                                                            *|
|* The CPU model and the load average: a result means little without them.  *|
|* Shared by the benchmarks of bench/cpu and bench/sgemm.                     *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef CAGE_BENCH_COMMON_MACHINE_H
#define CAGE_BENCH_COMMON_MACHINE_H

#include <stddef.h>

/** The "model name" of /proc/cpuinfo ("unknown" if none). */
void machineCpuModel(char *out, size_t size);

/** The 1-minute load average, or -1 if /proc/loadavg cannot be read. */
double machineLoadAverage(void);

#endif /* CAGE_BENCH_COMMON_MACHINE_H */
