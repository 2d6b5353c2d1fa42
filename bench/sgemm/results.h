/*===- results.h - One measured configuration: printed and as JSON --------===*\
|*                                                                            *|
|* A record is one shape x layout x thread count: cage's and OpenBLAS's call  *|
|* times from the same alternating rounds, their GFLOP/s as a fraction of     *|
|* the FMA peak at that thread count, the ratio time_blas / time_cage (> 1:   *|
|* cage is faster), and the error of cage's C against OpenBLAS's.             *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef CAGE_SGEMM_RESULTS_H
#define CAGE_SGEMM_RESULTS_H

#include "clock.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/** Above this relative error (matrices.h) a configuration FAILED. */
#define SGEMM_MAX_ERROR 1e-5

/** The targets for time_blas / time_cage: where all of M, N, K are
 * at least SGEMM_LARGE, and below. */
#define SGEMM_LARGE 512
#define SGEMM_TARGET_LARGE 0.7
#define SGEMM_TARGET_SMALL 0.5

typedef enum Status {
  kStatusOk,
  kStatusFailed,    /* error above SGEMM_MAX_ERROR (or NaN) */
  kStatusCageError, /* cage_last_error() after a call */
  kStatusNoObject   /* no NAME.so: cage-compile failed (NAME.err says why) */
} Status;

typedef struct Record {
  char name[64], group[32], layout[4];
  int64_t m, n, k;
  int threads, calls;
  Status status;
  Summary cage, blas; /* seconds; zero when not timed */
  double peak;        /* FMA peak GFLOP/s at this thread count */
  double error;       /* relative error; NaN when not measured */
  char message[512];  /* cage_last_error or cage-compile's error */
} Record;

double recordFlops(const Record *r);
/** SGEMM_TARGET_LARGE or SGEMM_TARGET_SMALL, by the shape. */
double recordTarget(const Record *r);
/** time_blas / time_cage of the medians; 0 when not timed. */
double recordRatio(const Record *r);
bool recordTimed(const Record *r);
const char *statusName(Status s);

void recordPrintHeader(FILE *out);
void recordPrint(const Record *r, FILE *out);

/** Per thread count: how many configurations meet their target, the
 * smallest ratio, and the geometric mean, for the large and the small
 * shapes; then every configuration that did not pass. */
void summaryPrint(const Record *records, int count, const int *threads,
                  int numThreads, FILE *out);

typedef struct Meta {
  char date[32], cpuModel[256], blasCore[64], blasConfig[256];
  const char *isa, *kmpBlocktime;
  int threads[8], numThreads;
  double peak[8]; /* GFLOP/s of threads[i] threads together */
  int calls, warmup;
  bool quick;
  double loadBefore, loadAfter, wallS;
} Meta;

/** Writes the whole JSON file: meta, then every record. */
bool jsonWrite(const char *path, const Meta *meta, const Record *records,
               int count);

#endif /* CAGE_SGEMM_RESULTS_H */
