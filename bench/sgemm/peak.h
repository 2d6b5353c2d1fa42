/*===- peak.h - The machine's single-precision FMA peak -------------------===*\
|*                                                                            *|
|* What the cores can do at most: a timed loop of many independent vector     *|
|* FMAs (AVX-512 when the CPU has avx512f, else AVX2 + FMA), on 1 .. n        *|
|* threads at once. A matmul's GFLOP/s is reported as a fraction of the       *|
|* peak measured at its thread count.                                         *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef CAGE_SGEMM_PEAK_H
#define CAGE_SGEMM_PEAK_H

/** The instruction set the peak loop uses: "avx512f", "avx2+fma", or NULL
 * when the CPU has neither (then peakMeasure returns 0). */
const char *peakIsa(void);

/** GFLOP/s of `threads` threads together (one pthread each, all running
 * the FMA loop at the same time), the best of many short runs. */
double peakMeasure(int threads);

#endif /* CAGE_SGEMM_PEAK_H */
