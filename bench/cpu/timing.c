/*===- timing.c - Clocks, statistics and cache flushing -------------------===*\
|*                                                                            *|
|* See timing.h.                                                              *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#define _POSIX_C_SOURCE 200809L
#include "timing.h"

#include "workload.h"

#include <stdlib.h>
#include <time.h>

double benchNow(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int compareDoubles(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* The p-quantile of sorted samples, interpolated between neighbours. */
static double quantile(const double *sorted, int n, double p) {
  double position = p * (n - 1);
  int below = (int)position;
  int above = below + 1 < n ? below + 1 : below;
  double fraction = position - below;
  return sorted[below] + fraction * (sorted[above] - sorted[below]);
}

Summary summarize(double *samples, int n) {
  qsort(samples, (size_t)n, sizeof *samples, compareDoubles);
  Summary s = {quantile(samples, n, 0.5), quantile(samples, n, 0.25),
               quantile(samples, n, 0.75)};
  return s;
}

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
