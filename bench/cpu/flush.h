/*===- flush.h - Cold caches --------------------------------------*- C -*-===*\
|*                                                                            *|
|* A cold-cache flush: streaming reads through a buffer larger than the      *|
|* last-level cache, which evicts (and writes back) everything a previous    *|
|* step left there.                                                          *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef CAGE_BENCH_CPU_FLUSH_H
#define CAGE_BENCH_CPU_FLUSH_H

#include <stdbool.h>
#include <stddef.h>

typedef struct CacheFlusher {
  float *buffer;
  size_t count;
} CacheFlusher;

/** A flusher streaming through `bytes` bytes (touched once here). */
bool flusherCreate(CacheFlusher *f, size_t bytes);
void flusherDestroy(CacheFlusher *f);
/** Reads the whole buffer on the current OpenMP threads. */
void flusherRun(const CacheFlusher *f);

#endif /* CAGE_BENCH_CPU_FLUSH_H */
