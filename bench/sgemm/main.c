/*===- main.c - sgemm-bench: cage's matmul against OpenBLAS ---------------===*\
|*                                                                            *|
|* In one process, for every configuration of bench/sgemm/gen.py (shape x     *|
|* layout) and thread count: C = op(A)·op(B) by the object cage-compile       *|
|* made of it (dlopen) and by cblas_sgemm, called alternately on the same     *|
|* A and B, their median and minimum call times, GFLOP/s as a fraction of     *|
|* the machine's FMA peak (peak.c), and time_blas / time_cage; once per       *|
|* configuration the error of cage's C against OpenBLAS's. Printed, and       *|
|* written as JSON. See bench/sgemm/README.md.                                *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#define _POSIX_C_SOURCE 200809L
#include "clock.h"
#include "compiled.h"
#include "machine.h"
#include "matrices.h"
#include "peak.h"
#include "results.h"

#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *const kUsage =
    "usage: sgemm-bench --lib-dir DIR [options]\n"
    "  --lib-dir DIR     DIR/configs.txt (gen.py) and DIR/NAME.so for each\n"
    "                    configuration (DIR/NAME.err when cage-compile "
    "failed)\n"
    "  --threads T,...   thread counts (default 1,2)\n"
    "  --calls N         timed calls of each implementation (default 20)\n"
    "  --warmup W        untimed calls of each first (default 3)\n"
    "  --only TEXT       only configurations whose name or group contains "
    "it\n"
    "  --quick           --calls 5 --warmup 1: for development\n"
    "  --json FILE       write the results there\n"
    "Exit status 1 when a configuration did not pass (error, no object).\n";

enum { kMaxThreadCounts = 8, kMaxConfigs = 1024 };

typedef struct Options {
  const char *libDir, *json, *only;
  int threads[kMaxThreadCounts], numThreads;
  int calls, warmup;
  bool quick;
} Options;

typedef struct Config {
  char name[64], layout[4], group[32];
  long long m, n, k;
} Config;

static bool parseThreads(Options *o, const char *list) {
  o->numThreads = 0;
  for (const char *p = list; *p;) {
    char *end;
    long t = strtol(p, &end, 10);
    if (end == p || t < 1 || t > 256 || o->numThreads == kMaxThreadCounts)
      return false;
    o->threads[o->numThreads++] = (int)t;
    p = *end == ',' ? end + 1 : end;
    if (*end && *end != ',')
      return false;
  }
  return o->numThreads > 0;
}

static bool parseOptions(Options *o, int argc, char **argv) {
  *o = (Options){.calls = 20, .warmup = 3, .numThreads = 2};
  o->threads[0] = 1;
  o->threads[1] = 2;
  int calls = -1, warmup = -1;
  for (int i = 1; i < argc; ++i) {
    const char *arg = argv[i], *value = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(arg, "--quick") == 0) {
      o->quick = true;
      continue;
    }
    if (!value)
      return false;
    ++i;
    if (strcmp(arg, "--lib-dir") == 0)
      o->libDir = value;
    else if (strcmp(arg, "--json") == 0)
      o->json = value;
    else if (strcmp(arg, "--only") == 0)
      o->only = value;
    else if (strcmp(arg, "--threads") == 0) {
      if (!parseThreads(o, value))
        return false;
    } else if (strcmp(arg, "--calls") == 0)
      calls = atoi(value);
    else if (strcmp(arg, "--warmup") == 0)
      warmup = atoi(value);
    else
      return false;
  }
  if (o->quick) {
    o->calls = 5;
    o->warmup = 1;
  }
  /* Explicit counts win over --quick's. */
  o->calls = calls >= 0 ? calls : o->calls;
  o->warmup = warmup >= 0 ? warmup : o->warmup;
  return o->libDir && o->calls >= 1 && o->warmup >= 0;
}

/* Reads DIR/configs.txt: "NAME M N K LAYOUT GROUP" per line. */
static int readConfigs(const Options *o, Config *configs) {
  char path[4096];
  snprintf(path, sizeof path, "%s/configs.txt", o->libDir);
  FILE *f = fopen(path, "r");
  if (!f) {
    perror(path);
    return -1;
  }
  int count = 0;
  Config c;
  while (count < kMaxConfigs &&
         fscanf(f, "%63s %lld %lld %lld %3s %31s", c.name, &c.m, &c.n, &c.k,
                c.layout, c.group) == 6) {
    if (!o->only || strstr(c.name, o->only) || strstr(c.group, o->only))
      configs[count++] = c;
  }
  fclose(f);
  return count;
}

/* The first line of DIR/NAME.err (cage-compile's message), if any. */
static void compileError(const Options *o, const char *name, char *out,
                         size_t size) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s.err", o->libDir, name);
  snprintf(out, size, "no %s.so (cage-compile failed?)", name);
  FILE *f = fopen(path, "r");
  if (!f)
    return;
  char line[480]; /* with the prefix, within Record's message */
  if (fgets(line, sizeof line, f)) {
    line[strcspn(line, "\n")] = '\0';
    snprintf(out, size, "cage-compile: %s", line);
  }
  fclose(f);
}

static void setThreads(int threads) {
  openblas_set_num_threads(threads);
  omp_set_num_threads(threads);
}

static void blasRun(const Matrices *x) {
  cblas_sgemm(CblasRowMajor, x->transA ? CblasTrans : CblasNoTrans,
              x->transB ? CblasTrans : CblasNoTrans, (blasint)x->m,
              (blasint)x->n, (blasint)x->k, 1.0f, x->a, (blasint)x->aCols, x->b,
              (blasint)x->bCols, 0.0f, x->cBlas, (blasint)x->n);
}

/* Times `calls` calls of each, alternating, after `warmup` untimed ones;
 * the order within a round flips every round, so that neither always runs
 * right after the other's cache footprint or clock change. */
static void measure(CompiledSgemm *cage, const Matrices *x, int calls,
                    int warmup, Record *r) {
  for (int i = 0; i < warmup; ++i) {
    compiledRun(cage);
    blasRun(x);
  }
  double *tCage = malloc((size_t)calls * sizeof(double));
  double *tBlas = malloc((size_t)calls * sizeof(double));
  if (!tCage || !tBlas) {
    free(tCage);
    free(tBlas);
    return;
  }
  const char *error = NULL;
  for (int i = 0; i < calls; ++i) {
    for (int j = 0; j < 2; ++j) {
      double t0 = benchNow();
      if ((i + j) % 2 == 0) {
        compiledCall(cage);
        tCage[i] = benchNow() - t0;
        error = error ? error : compiledLastError(cage);
      } else {
        blasRun(x);
        tBlas[i] = benchNow() - t0;
      }
    }
  }
  r->cage = summarize(tCage, calls);
  r->blas = summarize(tBlas, calls);
  r->calls = calls;
  if (error && r->status == kStatusOk) {
    r->status = kStatusCageError;
    snprintf(r->message, sizeof r->message, "%s", error);
  }
  free(tCage);
  free(tBlas);
}

/* Runs each once on the first thread count and compares: the error, and
 * the status it gives every record of the configuration. */
static Status check(CompiledSgemm *cage, const Matrices *x, double *error,
                    char *message, size_t size) {
  const char *e = compiledRun(cage);
  blasRun(x);
  *error = matricesRelativeError(x);
  if (e) {
    snprintf(message, size, "%s", e);
    return kStatusCageError;
  }
  if (!(*error <= SGEMM_MAX_ERROR)) {
    snprintf(message, size, "error %.2e > %.0e", *error, SGEMM_MAX_ERROR);
    return kStatusFailed;
  }
  return kStatusOk;
}

/* Every thread count of one configuration: records[0 .. numThreads). */
static void runConfig(const Options *o, const Config *c, const double *peak,
                      Record *records) {
  for (int t = 0; t < o->numThreads; ++t) {
    Record *r = &records[t];
    *r = (Record){.m = c->m,
                  .n = c->n,
                  .k = c->k,
                  .threads = o->threads[t],
                  .peak = peak[t],
                  .error = NAN};
    snprintf(r->name, sizeof r->name, "%s", c->name);
    snprintf(r->group, sizeof r->group, "%s", c->group);
    snprintf(r->layout, sizeof r->layout, "%s", c->layout);
  }
  char path[4096], message[512] = "";
  snprintf(path, sizeof path, "%s/%s.so", o->libDir, c->name);
  Matrices x;
  CompiledSgemm cage;
  Status status = kStatusOk;
  double error = NAN;
  bool haveMatrices = matricesCreate(&x, c->m, c->n, c->k, c->layout, 1);
  /* No object is cage-compile's failure (NAME.err), not dlopen's. */
  bool haveObject = access(path, R_OK) == 0;
  bool haveCage = haveMatrices && haveObject &&
                  compiledOpen(&cage, path, x.a, x.aRows, x.aCols, x.b, x.bRows,
                               x.bCols, x.cCage, c->m, c->n);
  if (!haveMatrices) {
    status = kStatusNoObject;
    snprintf(message, sizeof message, "out of memory or bad layout %s",
             c->layout);
  } else if (!haveObject) {
    status = kStatusNoObject;
    compileError(o, c->name, message, sizeof message);
  } else if (!haveCage) {
    status = kStatusNoObject;
    snprintf(message, sizeof message, "%s.so does not load (dlopen)", c->name);
  } else {
    setThreads(o->threads[0]);
    status = check(&cage, &x, &error, message, sizeof message);
  }
  for (int t = 0; t < o->numThreads; ++t) {
    Record *r = &records[t];
    r->status = status;
    r->error = error;
    snprintf(r->message, sizeof r->message, "%s", message);
    if (haveCage) {
      setThreads(r->threads);
      measure(&cage, &x, o->calls, o->warmup, r);
    }
    recordPrint(r, stdout);
  }
  if (haveCage)
    compiledClose(&cage);
  if (haveMatrices)
    matricesDestroy(&x);
}

/* Warns about what would make the numbers mean something else. */
static void checkEnvironment(void) {
  const char *blocktime = getenv("KMP_BLOCKTIME");
  if (!blocktime || strcmp(blocktime, "0") != 0)
    fprintf(stderr,
            "warning: KMP_BLOCKTIME is not 0: libomp's idle threads spin "
            "and take OpenBLAS's cores (bench/sgemm/run.sh sets it)\n");
  const char *forced[] = {"OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"};
  for (int i = 0; i < 2; ++i)
    if (getenv(forced[i]))
      fprintf(stderr,
              "warning: %s=%s is set: OpenBLAS does not choose its kernel "
              "and blocking for this CPU itself\n",
              forced[i], getenv(forced[i]));
}

static void describeMachine(Meta *meta, const Options *o) {
  time_t now = time(NULL);
  strftime(meta->date, sizeof meta->date, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
  machineCpuModel(meta->cpuModel, sizeof meta->cpuModel);
  snprintf(meta->blasCore, sizeof meta->blasCore, "%s",
           openblas_get_corename());
  snprintf(meta->blasConfig, sizeof meta->blasConfig, "%s",
           openblas_get_config());
  meta->blasConfig[strcspn(meta->blasConfig, "\n")] = '\0';
  meta->isa = peakIsa();
  meta->kmpBlocktime = getenv("KMP_BLOCKTIME");
  meta->numThreads = o->numThreads;
  memcpy(meta->threads, o->threads, sizeof meta->threads);
  meta->calls = o->calls;
  meta->warmup = o->warmup;
  meta->quick = o->quick;
  meta->loadBefore = machineLoadAverage();
  printf("CPU: %s, %d logical cores; FMA loop: %s\n", meta->cpuModel,
         omp_get_num_procs(), meta->isa ? meta->isa : "none");
  printf("OpenBLAS: core %s; %s\n", meta->blasCore, meta->blasConfig);
  printf("KMP_BLOCKTIME=%s; %d timed calls (+%d warm-up) of each per "
         "configuration, alternating; load average %.2f\n",
         meta->kmpBlocktime ? meta->kmpBlocktime : "(unset)", o->calls,
         o->warmup, meta->loadBefore);
  if (meta->loadBefore > 1.0)
    printf("warning: load average %.2f > 1: other processes take cores\n",
           meta->loadBefore);
  /* Before any BLAS or OpenMP work, on otherwise idle cores. */
  for (int t = 0; t < o->numThreads; ++t) {
    meta->peak[t] = peakMeasure(o->threads[t]);
    printf("FMA peak, %d thread%s: %.1f GFLOP/s (%.1f per core)\n",
           o->threads[t], o->threads[t] == 1 ? "" : "s", meta->peak[t],
           meta->peak[t] / o->threads[t]);
  }
  /* Per core, more threads should reach nearly what one does; much less
   * means the cores were not all free (or the clock drops with them). */
  for (int t = 1; t < o->numThreads; ++t)
    if (meta->peak[t] / o->threads[t] < 0.8 * meta->peak[0] / o->threads[0])
      printf("warning: the %d-thread peak per core is %.0f%% of the "
             "%d-thread one: other processes hold cores, and the %d-thread "
             "results mean little\n",
             o->threads[t],
             100.0 * (meta->peak[t] / o->threads[t]) /
                 (meta->peak[0] / o->threads[0]),
             o->threads[0], o->threads[t]);
  printf("\n");
}

int main(int argc, char **argv) {
  Options o;
  if (!parseOptions(&o, argc, argv)) {
    fputs(kUsage, stderr);
    return 2;
  }
  static Config configs[kMaxConfigs];
  int count = readConfigs(&o, configs);
  if (count < 0)
    return 1;
  if (count == 0) {
    fprintf(stderr, "no configurations%s%s\n", o.only ? " match " : "",
            o.only ? o.only : "");
    return 1;
  }
  checkEnvironment();
  double start = benchNow();
  Meta meta = {0};
  describeMachine(&meta, &o);
  Record *records =
      calloc((size_t)count * (size_t)o.numThreads, sizeof(Record));
  if (!records)
    return 1;
  recordPrintHeader(stdout);
  for (int i = 0; i < count; ++i)
    runConfig(&o, &configs[i], meta.peak, &records[i * o.numThreads]);
  int numRecords = count * o.numThreads;
  summaryPrint(records, numRecords, o.threads, o.numThreads, stdout);
  meta.loadAfter = machineLoadAverage();
  meta.wallS = benchNow() - start;
  printf("%d configurations in %.0f s; load average %.2f -> %.2f\n", count,
         meta.wallS, meta.loadBefore, meta.loadAfter);
  if (o.json && !jsonWrite(o.json, &meta, records, numRecords)) {
    perror(o.json);
    return 1;
  }
  /* A wrong or missing result is not hidden behind a table: exit 1. */
  int notPassed = 0;
  for (int i = 0; i < numRecords; ++i)
    notPassed += records[i].status != kStatusOk;
  free(records);
  return notPassed ? 1 : 0;
}
