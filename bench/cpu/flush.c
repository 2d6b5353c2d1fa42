/*===- flush.c - Cold caches ---------------------------------------------===*\
|*                                                                            *|
|* See flush.h.                                                              *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#include "flush.h"

#include "memory.h"

#include <stdlib.h>

bool flusherCreate(CacheFlusher *f, size_t bytes) {
  f->count = bytes / sizeof(float);
  f->buffer = benchAllocate(bytes);
  if (!f->buffer)
    return false;
#pragma omp parallel for schedule(static)
  for (size_t i = 0; i < f->count; ++i)
    f->buffer[i] = (float)(i & 1023);
  return true;
}

void flusherDestroy(CacheFlusher *f) {
  free(f->buffer);
  f->buffer = NULL;
}

/* Where the flush's sum goes, so that the reads are not optimized away. */
static volatile float flushSink;

void flusherRun(const CacheFlusher *f) {
  float sum = 0.0f;
  const float *buffer = f->buffer;
  size_t count = f->count;
#pragma omp parallel for simd schedule(static) reduction(+ : sum)
  for (size_t i = 0; i < count; ++i)
    sum += buffer[i];
  flushSink = sum;
}
