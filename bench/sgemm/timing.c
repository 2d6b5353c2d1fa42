/*===- timing.c - Clock and sample statistics -----------------------------===*\
|*                                                                            *|
|* See timing.h.                                                              *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#define _POSIX_C_SOURCE 200809L
#include "timing.h"

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

Stats statsOf(double *samples, int n) {
  qsort(samples, (size_t)n, sizeof *samples, compareDoubles);
  Stats s = {0.5 * (samples[(n - 1) / 2] + samples[n / 2]), samples[0]};
  return s;
}
