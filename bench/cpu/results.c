/*===- results.c - One measured configuration: printed and as JSON --------===*\
|*                                                                            *|
|* See results.h.                                                             *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#include "results.h"

#include <inttypes.h>
#include <omp.h>
#include <string.h>
#include <time.h>

static int indexOf(const Record *r, const char *name) {
  for (int i = 0; i < r->numImpls; ++i)
    if (strcmp(r->names[i], name) == 0)
      return i;
  return -1;
}

int bytesPerParam(const char *name) {
  return strcmp(name, "bf16") == 0 ? kBf16BytesPerParam : kBytesPerParam;
}

static double gbps(const Record *r, int i) {
  return bytesPerParam(r->names[i]) * (double)r->numel / r->times[i].median *
         1e-9;
}

/* Effective bandwidth of a over that of b (= median time of b over a's),
 * or 0 if either is missing. */
static double ratio(const Record *r, const char *a, const char *b) {
  int i = indexOf(r, a), j = indexOf(r, b);
  return i < 0 || j < 0 ? 0.0 : r->times[j].median / r->times[i].median;
}

/* The ratios every record reports: numerator and denominator names. */
static const char *const kRatios[][2] = {{"hand", "probe"},
                                         {"fused", "hand"},
                                         {"fused", "probe"},
                                         {"fused", "unfused"},
                                         {"update", "fused"}};
enum { kNumRatios = sizeof kRatios / sizeof kRatios[0] };

void recordPrint(const Record *r, FILE *out) {
  fprintf(out, "%-12s %-5s %-9s %dT %-4s |", r->layout, r->quantizer,
          r->coupling, r->threads, r->cache);
  for (int i = 0; i < r->numImpls; ++i)
    fprintf(out, " %s %7.3f ms %5.1f GB/s |", r->names[i],
            r->times[i].median * 1e3, gbps(r, i));
  for (int k = 0; k < kNumRatios; ++k) {
    double x = ratio(r, kRatios[k][0], kRatios[k][1]);
    if (x > 0.0)
      fprintf(out, " %s/%s %.2f", kRatios[k][0], kRatios[k][1], x);
  }
  fprintf(out, " | bitwise:");
  for (int i = 0; i < r->numImpls; ++i)
    if (strcmp(r->names[i], "probe") != 0 && strcmp(r->names[i], "hand") != 0)
      fprintf(out, " %s=%s", r->names[i], r->identical[i] ? "yes" : "NO");
  fprintf(out, "\n");
  fflush(out);
}

void bf16RecordPrint(const Record *r, FILE *out) {
  int f = indexOf(r, "fused"), b = indexOf(r, "bf16"), p = indexOf(r, "probe");
  if (f < 0 || b < 0)
    return;
  fprintf(out, "%-12s %-5s %-9s %dT %-4s | bf16 state:", r->layout,
          r->quantizer, r->coupling, r->threads, r->cache);
  if (p >= 0)
    fprintf(out, " probe %5.1f GB/s |", gbps(r, p));
  fprintf(out,
          " fused %7.3f ms %5.1f GB/s (28 B) | bf16 %7.3f ms %5.1f GB/s "
          "(20 B) | t_fused/t_bf16 %.2f | bitwise vs reference: %s\n",
          r->times[f].median * 1e3, gbps(r, f), r->times[b].median * 1e3,
          gbps(r, b), r->times[f].median / r->times[b].median,
          r->identical[b] ? "yes" : "NO");
  fflush(out);
}

bool jsonOpen(JsonWriter *j, const char *path, int rounds, int warmup,
              double flushMiB, size_t padKiB, bool quick) {
  j->count = 0;
  j->file = fopen(path, "w");
  if (!j->file)
    return false;
  char date[64];
  time_t now = time(NULL);
  strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
  fprintf(j->file,
          "{\n  \"meta\": {\"date\": \"%s\", \"rounds\": %d, \"warmup\": %d, "
          "\"flush_mib\": %g, \"pad_kib\": %zu, \"quick\": %s, "
          "\"bytes_per_param\": %d, \"bf16_bytes_per_param\": %d, "
          "\"max_threads\": %d},\n  \"records\": [",
          date, rounds, warmup, flushMiB, padKiB, quick ? "true" : "false",
          kBytesPerParam, kBf16BytesPerParam, omp_get_num_procs());
  return true;
}

void jsonRecord(JsonWriter *j, const Record *r) {
  FILE *f = j->file;
  fprintf(f,
          "%s\n    {\"section\": \"%s\", \"layout\": \"%s\", \"numel\": "
          "%" PRId64 ", \"quantizer\": \"%s\", \"coupling\": \"%s\", "
          "\"cache\": \"%s\", \"threads\": %d,\n     \"impls\": {",
          j->count ? "," : "", r->section, r->layout, r->numel, r->quantizer,
          r->coupling, r->cache, r->threads);
  for (int i = 0; i < r->numImpls; ++i)
    fprintf(f,
            "%s\n       \"%s\": {\"median_s\": %.9g, \"q1_s\": %.9g, "
            "\"q3_s\": %.9g, \"gbps\": %.4g, \"bitwise_equal_to_hand\": %s}",
            i ? "," : "", r->names[i], r->times[i].median, r->times[i].q1,
            r->times[i].q3, gbps(r, i),
            strcmp(r->names[i], "probe") == 0 ? "null"
            : r->identical[i]                 ? "true"
                                              : "false");
  fprintf(f, "},\n     \"ratios\": {");
  int printed = 0;
  for (int k = 0; k < kNumRatios; ++k) {
    double x = ratio(r, kRatios[k][0], kRatios[k][1]);
    if (x > 0.0)
      fprintf(f, "%s\"%s/%s\": %.4f", printed++ ? ", " : "", kRatios[k][0],
              kRatios[k][1], x);
  }
  fprintf(f, "}}");
  ++j->count;
}

bool jsonClose(JsonWriter *j, double seconds, double loadBefore,
               double loadAfter) {
  fprintf(j->file,
          "\n  ],\n  \"wall_s\": %.1f, \"load_before\": %.2f, "
          "\"load_after\": %.2f\n}\n",
          seconds, loadBefore, loadAfter);
  bool ok = !ferror(j->file);
  return fclose(j->file) == 0 && ok;
}

void jsonBf16Record(JsonWriter *j, const Record *r) {
  int f = indexOf(r, "fused"), b = indexOf(r, "bf16"), p = indexOf(r, "probe");
  if (f < 0 || b < 0)
    return;
  FILE *out = j->file;
  fprintf(out,
          "%s\n    {\"section\": \"bf16\", \"base_section\": \"%s\", "
          "\"layout\": \"%s\", \"numel\": %" PRId64
          ", \"quantizer\": \"%s\", \"coupling\": \"%s\", "
          "\"cache\": \"%s\", \"threads\": %d,\n     \"impls\": {",
          j->count ? "," : "", r->base, r->layout, r->numel, r->quantizer,
          r->coupling, r->cache, r->threads);
  int printed = 0;
  for (int i = 0; i < r->numImpls; ++i) {
    if (i != p && i != f && i != b)
      continue;
    fprintf(out,
            "%s\n       \"%s\": {\"median_s\": %.9g, \"q1_s\": %.9g, "
            "\"q3_s\": %.9g, \"bytes_per_param\": %d, \"gbps\": %.4g",
            printed++ ? "," : "", r->names[i], r->times[i].median,
            r->times[i].q1, r->times[i].q3, bytesPerParam(r->names[i]),
            gbps(r, i));
    if (i == b)
      fprintf(out, ", \"bitwise_equal_to_reference\": %s",
              r->identical[i] ? "true" : "false");
    fprintf(out, "}");
  }
  fprintf(out, "},\n     \"ratios\": {\"t_fused/t_bf16\": %.4f",
          r->times[f].median / r->times[b].median);
  if (p >= 0)
    fprintf(out, ", \"bf16_gbps/probe_gbps\": %.4f", gbps(r, b) / gbps(r, p));
  fprintf(out, "}}");
  ++j->count;
}
