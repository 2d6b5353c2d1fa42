/*===- results.h - One measured configuration: printed and as JSON --------===*\
|*                                                                            *|
|* Effective bandwidth is 28 bytes per parameter (fp32 w, g, m, v read; w,    *|
|* m, v written) over the median time, whatever an implementation really      *|
|* moves; ratios between implementations are ratios of their medians from     *|
|* the same rounds of the same process. The bf16-state step ("bf16") counts   *|
|* 20 bytes per parameter (fp32 w, g and bf16 m, v read; w, m, v written)     *|
|* and has records of its own (section "bf16"): the probe, the fp32 fused     *|
|* step and it, from the rounds of a main, sweep or compute record.           *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef CAGE_BENCH_RESULTS_H
#define CAGE_BENCH_RESULTS_H

#include "measure.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum { kBytesPerParam = 28, kBf16BytesPerParam = 20 };

/** The bytes per parameter counted for implementation `name`. */
int bytesPerParam(const char *name);

typedef struct Record {
  const char *section; /* "main", "sweep", "compute" or "bf16" */
  const char *base;    /* "bf16": the section whose rounds these are */
  char layout[64];     /* COUNTxROWSxCOLS */
  int64_t numel;
  const char *quantizer, *coupling, *cache;
  int threads;
  int numImpls;
  const char *names[kMaxImpls];
  Summary times[kMaxImpls];
  bool identical[kMaxImpls]; /* w, m, v equal to the hand kernel's; for
                                "bf16", to cageRefUpdateAdamWBf16State's */
} Record;

/** One line: medians, GB/s, the ratios and the bitwise check. */
void recordPrint(const Record *r, FILE *out);
/** The line of a "bf16" record (probe, fused, bf16): GB/s with each one's
 * bytes, t_fused / t_bf16 and the check against the reference. */
void bf16RecordPrint(const Record *r, FILE *out);

/** The JSON document: {"meta": {...}, "records": [...]}. */
typedef struct JsonWriter {
  FILE *file;
  int count;
} JsonWriter;

bool jsonOpen(JsonWriter *j, const char *path, int rounds, int warmup,
              double flushMiB, size_t padKiB, bool quick);
void jsonRecord(JsonWriter *j, const Record *r);
void jsonBf16Record(JsonWriter *j, const Record *r);
/** Ends the document with the run's wall time and the 1-minute load
 * averages before and after; false if writing failed. */
bool jsonClose(JsonWriter *j, double seconds, double loadBefore,
               double loadAfter);

#endif /* CAGE_BENCH_RESULTS_H */
