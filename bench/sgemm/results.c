/*===- results.c - One measured configuration: printed and as JSON --------===*\
|*                                                                            *|
|* See results.h.                                                             *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#include "results.h"

#include <math.h>
#include <string.h>

double recordFlops(const Record *r) {
  return 2.0 * (double)r->m * (double)r->n * (double)r->k;
}

double recordTarget(const Record *r) {
  bool large =
      r->m >= SGEMM_LARGE && r->n >= SGEMM_LARGE && r->k >= SGEMM_LARGE;
  return large ? SGEMM_TARGET_LARGE : SGEMM_TARGET_SMALL;
}

bool recordTimed(const Record *r) {
  return r->cage.median > 0.0 && r->blas.median > 0.0;
}

double recordRatio(const Record *r) {
  return recordTimed(r) ? r->blas.median / r->cage.median : 0.0;
}

const char *statusName(Status s) {
  switch (s) {
  case kStatusOk:
    return "ok";
  case kStatusFailed:
    return "FAILED";
  case kStatusCageError:
    return "CAGE-ERROR";
  case kStatusNoObject:
    return "NO-OBJECT";
  }
  return "?";
}

static double gflops(const Record *r, double seconds) {
  return seconds > 0.0 ? recordFlops(r) / seconds * 1e-9 : 0.0;
}

void recordPrintHeader(FILE *out) {
  fprintf(out,
          "%-20s %-11s %2s | %21s %7s %5s | %21s %7s %5s | %9s %6s | %8s "
          "%s\n",
          "config", "group", "T", "cage ms median (min)", "GFLOP/s", "peak",
          "blas ms median (min)", "GFLOP/s", "peak", "blas/cage", "target",
          "error", "status");
}

void recordPrint(const Record *r, FILE *out) {
  fprintf(out, "%-20s %-11s %2d |", r->name, r->group, r->threads);
  const Summary *impls[2] = {&r->cage, &r->blas};
  for (int i = 0; i < 2; ++i) {
    const Summary *s = impls[i];
    if (s->median > 0.0) {
      double g = gflops(r, s->median);
      fprintf(out, " %9.3f (%9.3f) %7.1f %4.0f%% |", s->median * 1e3,
              s->min * 1e3, g, r->peak > 0.0 ? 100.0 * g / r->peak : 0.0);
    } else {
      fprintf(out, " %21s %7s %5s |", "-", "-", "-");
    }
  }
  double ratio = recordRatio(r);
  if (ratio > 0.0)
    fprintf(out, " %9.3f %6s |", ratio,
            ratio >= recordTarget(r) ? "met" : "missed");
  else
    fprintf(out, " %9s %6s |", "-", "-");
  if (isnan(r->error))
    fprintf(out, " %8s", "-");
  else
    fprintf(out, " %8.1e", r->error);
  fprintf(out, " %s", statusName(r->status));
  if (r->message[0])
    fprintf(out, ": %s", r->message);
  fprintf(out, "\n");
  fflush(out);
}

typedef struct Class {
  int count, met;
  double minRatio, logSum;
  const char *minName;
} Class;

static void classAdd(Class *c, const Record *r) {
  double ratio = recordRatio(r);
  if (c->count == 0 || ratio < c->minRatio) {
    c->minRatio = ratio;
    c->minName = r->name;
  }
  c->count += 1;
  c->met += ratio >= recordTarget(r);
  c->logSum += log(ratio);
}

static void classPrint(const Class *c, const char *what, double target,
                       FILE *out) {
  if (c->count == 0) {
    fprintf(out, "  %-26s none\n", what);
    return;
  }
  fprintf(out,
          "  %-26s target >= %.1fx met by %d of %d; geometric mean %.3fx, "
          "lowest %.3fx (%s)\n",
          what, target, c->met, c->count, exp(c->logSum / c->count),
          c->minRatio, c->minName);
}

void summaryPrint(const Record *records, int count, const int *threads,
                  int numThreads, FILE *out) {
  fprintf(out,
          "\nSummary: blas/cage = time_blas / time_cage of the medians (> 1: "
          "cage is faster)\n");
  for (int t = 0; t < numThreads; ++t) {
    Class large = {0}, small = {0};
    for (int i = 0; i < count; ++i) {
      const Record *r = &records[i];
      if (r->threads != threads[t] || !recordTimed(r) || r->status != kStatusOk)
        continue;
      classAdd(recordTarget(r) == SGEMM_TARGET_LARGE ? &large : &small, r);
    }
    fprintf(out, "%d thread%s:\n", threads[t], threads[t] == 1 ? "" : "s");
    classPrint(&large, "M, N, K >= 512:", SGEMM_TARGET_LARGE, out);
    classPrint(&small, "any of M, N, K < 512:", SGEMM_TARGET_SMALL, out);
  }
  int bad = 0;
  for (int i = 0; i < count; ++i)
    if (records[i].status != kStatusOk) {
      if (bad++ == 0)
        fprintf(out, "Not passed:\n");
      fprintf(out, "  %s %dT: %s%s%s\n", records[i].name, records[i].threads,
              statusName(records[i].status), records[i].message[0] ? ": " : "",
              records[i].message);
    }
  if (bad == 0)
    fprintf(out, "Every configuration passed the error check (<= %.0e).\n",
            SGEMM_MAX_ERROR);
}

/* A JSON string: quotes, backslashes and control characters escaped. */
static void jsonString(FILE *f, const char *s) {
  fputc('"', f);
  for (; *s; ++s) {
    unsigned char ch = (unsigned char)*s;
    if (ch == '"' || ch == '\\')
      fprintf(f, "\\%c", ch);
    else if (ch < 0x20)
      fprintf(f, "\\u%04x", ch);
    else
      fputc(ch, f);
  }
  fputc('"', f);
}

/* A number, or null for NaN and infinities (which JSON cannot spell). */
static void jsonNumber(FILE *f, double x) {
  if (isfinite(x))
    fprintf(f, "%.6g", x);
  else
    fprintf(f, "null");
}

static void jsonImpl(FILE *f, const Record *r, const Summary *s) {
  if (s->median <= 0.0) {
    fprintf(f, "null");
    return;
  }
  double g = gflops(r, s->median);
  fprintf(f, "{\"median_ms\": ");
  jsonNumber(f, s->median * 1e3);
  fprintf(f, ", \"min_ms\": ");
  jsonNumber(f, s->min * 1e3);
  fprintf(f, ", \"gflops\": ");
  jsonNumber(f, g);
  fprintf(f, ", \"peak_fraction\": ");
  jsonNumber(f, r->peak > 0.0 ? g / r->peak : NAN);
  fprintf(f, "}");
}

static void jsonRecord(FILE *f, const Record *r) {
  fprintf(f, "    {\"name\": ");
  jsonString(f, r->name);
  fprintf(f, ", \"group\": ");
  jsonString(f, r->group);
  fprintf(f,
          ", \"m\": %lld, \"n\": %lld, \"k\": %lld, \"layout\": \"%s\", "
          "\"threads\": %d, \"calls\": %d, \"flops\": %.0f,\n     \"cage\": ",
          (long long)r->m, (long long)r->n, (long long)r->k, r->layout,
          r->threads, r->calls, recordFlops(r));
  jsonImpl(f, r, &r->cage);
  fprintf(f, ",\n     \"blas\": ");
  jsonImpl(f, r, &r->blas);
  fprintf(f, ",\n     \"ratio\": ");
  jsonNumber(f, recordTimed(r) ? recordRatio(r) : NAN);
  fprintf(
      f,
      ", \"target\": %.1f, \"meets_target\": %s, \"error\": ", recordTarget(r),
      recordTimed(r) && recordRatio(r) >= recordTarget(r) ? "true" : "false");
  jsonNumber(f, r->error);
  fprintf(f, ", \"passed\": %s, \"status\": \"%s\", \"message\": ",
          r->status == kStatusOk ? "true" : "false", statusName(r->status));
  jsonString(f, r->message);
  fprintf(f, "}");
}

/* {"threads": peak GFLOP/s, ...} for each thread count, or per core. */
static void jsonPeaks(FILE *f, const Meta *meta, bool perCore) {
  fprintf(f, "{");
  for (int i = 0; i < meta->numThreads; ++i) {
    fprintf(f, "%s\"%d\": ", i ? ", " : "", meta->threads[i]);
    jsonNumber(f, perCore ? meta->peak[i] / meta->threads[i] : meta->peak[i]);
  }
  fprintf(f, "}");
}

bool jsonWrite(const char *path, const Meta *meta, const Record *records,
               int count) {
  FILE *f = fopen(path, "w");
  if (!f)
    return false;
  fprintf(f, "{\n  \"meta\": {\"date\": ");
  jsonString(f, meta->date);
  fprintf(f, ", \"cpu_model\": ");
  jsonString(f, meta->cpuModel);
  fprintf(f, ", \"isa\": ");
  jsonString(f, meta->isa ? meta->isa : "none");
  fprintf(f, ",\n    \"peak_gflops\": ");
  jsonPeaks(f, meta, false);
  fprintf(f, ", \"peak_gflops_per_core\": ");
  jsonPeaks(f, meta, true);
  fprintf(f, ",\n    \"openblas_core\": ");
  jsonString(f, meta->blasCore);
  fprintf(f, ", \"openblas_config\": ");
  jsonString(f, meta->blasConfig);
  fprintf(f, ", \"kmp_blocktime\": ");
  jsonString(f, meta->kmpBlocktime ? meta->kmpBlocktime : "");
  fprintf(f,
          ",\n    \"calls\": %d, \"warmup\": %d, \"quick\": %s, "
          "\"max_error\": %g, \"targets\": {\"large\": %.1f, \"small\": "
          "%.1f, \"large_min_size\": %d},\n    \"load_before\": ",
          meta->calls, meta->warmup, meta->quick ? "true" : "false",
          SGEMM_MAX_ERROR, SGEMM_TARGET_LARGE, SGEMM_TARGET_SMALL, SGEMM_LARGE);
  jsonNumber(f, meta->loadBefore);
  fprintf(f, ", \"load_after\": ");
  jsonNumber(f, meta->loadAfter);
  fprintf(f, ", \"wall_s\": ");
  jsonNumber(f, meta->wallS);
  fprintf(f, "},\n  \"records\": [\n");
  for (int i = 0; i < count; ++i) {
    jsonRecord(f, &records[i]);
    fprintf(f, "%s\n", i + 1 < count ? "," : "");
  }
  fprintf(f, "  ]\n}\n");
  return fclose(f) == 0;
}
