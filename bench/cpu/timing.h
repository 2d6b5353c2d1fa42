/*===- timing.h - Clocks, statistics and cache flushing -------------------===*\
|*                                                                            *|
|* A monotonic clock, the median and quartiles of a sample, and a cold-cache  *|
|* flush: streaming reads through a buffer larger than the last-level cache,  *|
|* which evicts (and writes back) everything a previous step left there.      *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef CAGE_BENCH_TIMING_H
#define CAGE_BENCH_TIMING_H

#include <stdbool.h>
#include <stddef.h>

/** Seconds on CLOCK_MONOTONIC. */
double benchNow(void);

typedef struct Summary {
  double median, q1, q3; /* seconds */
} Summary;

/** Median and quartiles (linear interpolation) of n >= 1 samples; sorts
 * them in place. */
Summary summarize(double *samples, int n);

typedef struct CacheFlusher {
  float *buffer;
  size_t count;
} CacheFlusher;

/** A flusher streaming through `bytes` bytes (touched once here). */
bool flusherCreate(CacheFlusher *f, size_t bytes);
void flusherDestroy(CacheFlusher *f);
/** Reads the whole buffer on the current OpenMP threads. */
void flusherRun(const CacheFlusher *f);

#endif /* CAGE_BENCH_TIMING_H */
