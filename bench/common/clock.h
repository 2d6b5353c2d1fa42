/*===- clock.h - A monotonic clock and sample statistics ----------*- C -*-===*\
|*                                                                            *|
|* Shared by the benchmarks of bench/cpu and bench/sgemm.                     *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef CAGE_BENCH_COMMON_CLOCK_H
#define CAGE_BENCH_COMMON_CLOCK_H

/** Seconds on a monotonic clock. */
double benchNow(void);

typedef struct Summary {
  double median, min, q1, q3; /* seconds */
} Summary;

/** Median, minimum and quartiles (quantiles interpolated between
 * neighbours; the median of an even n is the mean of the middle two) of
 * n >= 1 samples; sorts them in place. */
Summary summarize(double *samples, int n);

#endif /* CAGE_BENCH_COMMON_CLOCK_H */
