/*===- machine.h - What the results were measured on ----------------------===*\
|*                                                                            *|
|* The CPU model and the load average: a result means little without them.  *|
|* Shared by the benchmarks of bench/cpu and bench/sgemm.                     *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef CAGE_BENCH_COMMON_MACHINE_H
#define CAGE_BENCH_COMMON_MACHINE_H

#include <stddef.h>

/** The "model name" of /proc/cpuinfo with its "cpu family" and "model"
 * numbers, "AMD EPYC (family 25, model 17)", which tell apart CPUs that a VM
 * names alike ("unknown" if none). */
void machineCpuModel(char *out, size_t size);

/** The 1-minute load average, or -1 if /proc/loadavg cannot be read. */
double machineLoadAverage(void);

#endif /* CAGE_BENCH_COMMON_MACHINE_H */
