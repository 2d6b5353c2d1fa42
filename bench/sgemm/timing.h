/*===- timing.h - Clock and sample statistics -----------------------------===*\
|*                                                                            *|
|* A monotonic clock and the median and minimum of a sample of call times.    *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef CAGE_SGEMM_TIMING_H
#define CAGE_SGEMM_TIMING_H

/** Seconds on CLOCK_MONOTONIC. */
double benchNow(void);

typedef struct Stats {
  double median, min; /* seconds */
} Stats;

/** Median (the mean of the middle two for an even n) and minimum of n >= 1
 * samples; sorts them in place. */
Stats statsOf(double *samples, int n);

#endif /* CAGE_SGEMM_TIMING_H */
