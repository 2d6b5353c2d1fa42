/*===- probe.h - The 4-read-3-write bandwidth probe -----------------------===*\
|*                                                                            *|
|* The access pattern of a fused AdamW step with nothing else: every element  *|
|* of w, g, m, v is read once and w, m, v are written back in place, with     *|
|* one multiply-add per written array. 28 bytes per parameter; the time of    *|
|* this probe is the machine's limit for a fused optimizer step.              *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef CAGE_BENCH_PROBE_H
#define CAGE_BENCH_PROBE_H

#include "workload.h"

/** w += k g, m += k g, v += k g on every tensor, in parallel on the current
 * OpenMP threads (k = 0 leaves the values as they are). */
void probeStep(const Workload *wl, float k);

#endif /* CAGE_BENCH_PROBE_H */
