/*===- memory.h - Benchmark arrays and their values ---------------*- C -*-===*\
|*                                                                            *|
|* Shared by the benchmarks of bench/cpu and bench/sgemm: huge-page arrays    *|
|* (so that TLB misses do not depend on where malloc put an array) and a      *|
|* counter-based generator, reproducible whatever the thread count.           *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef CAGE_BENCH_COMMON_MEMORY_H
#define CAGE_BENCH_COMMON_MEMORY_H

#include <stddef.h>
#include <stdint.h>

/** `bytes` rounded up to 2 MiB, 2 MiB aligned, advised for transparent huge
 * pages, not yet touched; freed with free(). NULL when out of memory. */
void *benchAllocate(size_t bytes);

/** SplitMix64's finalizer of x + the golden-ratio increment. */
uint64_t benchSplitMix64(uint64_t x);

#endif /* CAGE_BENCH_COMMON_MEMORY_H */
