/*===- clock.c - A monotonic clock and sample statistics ------------------===*\
|*                                                                            *|
|* See clock.h.                                                               *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#define _POSIX_C_SOURCE 200809L
#include "clock.h"

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
  Summary s = {quantile(samples, n, 0.5), samples[0],
               quantile(samples, n, 0.25), quantile(samples, n, 0.75)};
  return s;
}
