/*===- main.c - cage-bench-cpu: the CAGE-AdamW step and its limits --------===*\
|*                                                                            *|
|* In one process, for every configuration (parameter layout x quantizer x    *|
|* coupling x threads x cold/warm cache): the 4-read-3-write bandwidth        *|
|* probe, the hand-written kernel and the steps compiled by cage-compile      *|
|* (fused: the default pipeline; unfused: --no-fuse-updates; update: the      *|
|* cage.update spelling, when present; bf16: cage.update with bf16 m, v,      *|
|* when present), timed in rounds; their medians, the effective bandwidths    *|
|* and the ratios, printed and written as JSON; and once per configuration    *|
|* whether the compiled steps give the hand kernel's w, m, v bit for bit      *|
|* (the bf16-state step: libCageReference's w, m, v). Then the bandwidth      *|
|* sweep over N = 2^lo .. 2^hi, and the steps on 2^16 parameters held in      *|
|* cache (their arithmetic's limit).                                          *|
|* See bench/README.md.                                                       *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#define _POSIX_C_SOURCE 200809L
#include "clock.h"
#include "flush.h"
#include "machine.h"
#include "measure.h"
#include "results.h"
#include "verify.h"

#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const kUsage =
    "usage: cage-bench-cpu --verify\n"
    "       cage-bench-cpu --lib-dir DIR [options]\n"
    "  --verify            the hand-written kernel against libCageReference\n"
    "                      on awkward shapes, bit for bit; exit 1 if not\n"
    "  --lib-dir DIR       the compiled steps: DIR/LAYOUT.VARIANT.so with\n"
    "                      step_{row,group}_{decoupled,coupled}, and\n"
    "                      DIR/sweep.VARIANT.so with\n"
    "                      sweep_row_decoupled_{ROWS}x1024; VARIANT is\n"
    "                      fused, unfused and (optional) update and bf16\n"
    "                      (bf16 m, v and a seed after t: timed in the\n"
    "                      same rounds, recorded in section bf16)\n"
    "  --layouts L,...     COUNTxROWSxCOLS (default 64x512x512,1x4096x4096)\n"
    "  --threads T,...     thread counts (default 1,2); the sweep uses the "
    "last\n"
    "  --sweep LO:HI       sweep N = 2^LO .. 2^HI (default 16:26)\n"
    "  --sections S,...    of main, sweep and compute (2^16 parameters in\n"
    "                      cache, warm, every thread count: the arithmetic's\n"
    "                      limit); default all three\n"
    "  --rounds R          timed rounds per configuration (default 25)\n"
    "  --warmup W          untimed rounds first (default 2)\n"
    "  --flush-mib M       cold-cache flush buffer (default 64, > L3)\n"
    "  --pad-kib P         between consecutive arrays (default 84; 0 puts\n"
    "                      w, g, m, v of a tensor at equal low address bits)\n"
    "  --quick             --rounds 5 --warmup 1 --sweep 16:22\n"
    "  --json FILE         write the results there\n";

typedef struct Options {
  const char *libDir, *json;
  char layouts[512], threads[64], sections[64];
  int sweepLo, sweepHi, rounds, warmup;
  double flushMiB;
  size_t padBytes;
  bool quick;
} Options;

static void usageError(const char *message) {
  fprintf(stderr, "cage-bench-cpu: %s\n%s", message, kUsage);
  exit(2);
}

static void copyOption(char *dst, size_t size, const char *value) {
  if (strlen(value) >= size)
    usageError("option value too long");
  strcpy(dst, value);
}

static Options parseOptions(int argc, char **argv, bool *verify) {
  Options o = {.sweepLo = 16,
               .sweepHi = 26,
               .rounds = 25,
               .warmup = 2,
               .flushMiB = 64.0,
               .padBytes = 84 << 10};
  strcpy(o.layouts, "64x512x512,1x4096x4096");
  strcpy(o.threads, "1,2");
  strcpy(o.sections, "main,sweep,compute");
  bool sweepSet = false, roundsSet = false, warmupSet = false;
  *verify = false;
  for (int i = 1; i < argc; ++i) {
    const char *a = argv[i];
    const char *value = i + 1 < argc ? argv[i + 1] : NULL;
    bool takesValue = true;
    if (strcmp(a, "--verify") == 0) {
      *verify = true;
      takesValue = false;
    } else if (strcmp(a, "--quick") == 0) {
      o.quick = true;
      takesValue = false;
    } else if (strcmp(a, "--help") == 0) {
      fputs(kUsage, stdout);
      exit(0);
    } else if (!value) {
      usageError("missing value or unknown flag");
    } else if (strcmp(a, "--lib-dir") == 0) {
      o.libDir = value;
    } else if (strcmp(a, "--json") == 0) {
      o.json = value;
    } else if (strcmp(a, "--layouts") == 0) {
      copyOption(o.layouts, sizeof o.layouts, value);
    } else if (strcmp(a, "--threads") == 0) {
      copyOption(o.threads, sizeof o.threads, value);
    } else if (strcmp(a, "--sections") == 0) {
      copyOption(o.sections, sizeof o.sections, value);
    } else if (strcmp(a, "--sweep") == 0) {
      if (sscanf(value, "%d:%d", &o.sweepLo, &o.sweepHi) != 2 ||
          o.sweepLo < 10 || o.sweepHi > 30 || o.sweepLo > o.sweepHi)
        usageError("--sweep takes LO:HI with 10 <= LO <= HI <= 30");
      sweepSet = true;
    } else if (strcmp(a, "--rounds") == 0) {
      o.rounds = atoi(value);
      roundsSet = true;
    } else if (strcmp(a, "--warmup") == 0) {
      o.warmup = atoi(value);
      warmupSet = true;
    } else if (strcmp(a, "--flush-mib") == 0) {
      o.flushMiB = atof(value);
    } else if (strcmp(a, "--pad-kib") == 0) {
      o.padBytes = (size_t)atoi(value) << 10;
    } else {
      usageError("unknown flag");
    }
    i += takesValue;
  }
  if (o.quick) {
    o.rounds = roundsSet ? o.rounds : 5;
    o.warmup = warmupSet ? o.warmup : 1;
    o.sweepHi = sweepSet ? o.sweepHi : 22;
  }
  if (o.rounds < 1 || o.warmup < 0 || o.flushMiB <= 0.0)
    usageError("--rounds >= 1, --warmup >= 0 and --flush-mib > 0");
  if (!*verify && !o.libDir)
    usageError("--lib-dir is required");
  return o;
}

/* The comma-separated items of a list, in place; returns the count. */
static int splitList(char *list, char **items, int max) {
  int n = 0;
  for (char *save = NULL, *item = strtok_r(list, ",", &save); item && n < max;
       item = strtok_r(NULL, ",", &save))
    items[n++] = item;
  return n;
}

static bool hasSection(const Options *o, const char *name) {
  char copy[64], *items[4];
  strcpy(copy, o->sections);
  int n = splitList(copy, items, 4);
  for (int i = 0; i < n; ++i)
    if (strcmp(items[i], name) == 0)
      return true;
  return false;
}

/* The run's shared state: options, flusher, JSON writer, thread counts. */
typedef struct Run {
  Options options;
  CacheFlusher flusher;
  JsonWriter json;
  int threads[8], numThreads;
} Run;

static const char *const kVariants[] = {"fused", "unfused", "update", "bf16"};
enum { kNumVariants = 4, kBf16Variant = 3 };

static void variantPath(char *path, size_t size, const char *libDir,
                        const char *file, const char *variant) {
  snprintf(path, size, "%s/%s.%s.so", libDir, file, variant);
}

/* Whether FILE.bf16.so is there: then the workload needs bf16 state. */
static bool hasBf16Variant(const char *libDir, const char *file) {
  char path[1024];
  variantPath(path, sizeof path, libDir, file, "bf16");
  return access(path, R_OK) == 0;
}

/* probe, hand, then every compiled variant whose shared object exists
 * (fused and unfused must; bf16 only where wl has bf16 state). Returns the
 * number of implementations. */
static int bindImpls(Impl *impls, const char *libDir, const char *file,
                     const char *function, const Workload *wl) {
  impls[0] = (Impl){.name = "probe", .kind = kImplProbe};
  impls[1] = (Impl){.name = "hand", .kind = kImplHand};
  int n = 2;
  for (int v = 0; v < kNumVariants; ++v) {
    char path[1024];
    variantPath(path, sizeof path, libDir, file, kVariants[v]);
    bool required = v < 2, bf16 = v == kBf16Variant;
    if (bf16 && !wl->tensors[0].m16)
      continue;
    if (!required && access(path, R_OK) != 0)
      continue;
    impls[n] = (Impl){.name = kVariants[v], .kind = kImplCompiled};
    if (!compiledStepBind(&impls[n].compiled, path, function, wl, bf16)) {
      fprintf(stderr, "cage-bench-cpu: cannot use %s\n", path);
      exit(1);
    }
    ++n;
  }
  return n;
}

static void releaseImpls(Impl *impls, int n) {
  for (int i = 0; i < n; ++i)
    if (impls[i].kind == kImplCompiled)
      compiledStepRelease(&impls[i].compiled);
}

/* Which cache states a configuration is timed in. */
enum { kCold = 1, kWarm = 2 };

/* The bitwise checks' scratch state, of the workload's size. */
typedef struct Snapshots {
  Snapshot initial, expected;
  bool bf16; /* the workload has bf16 state: the two below exist */
  Bf16Snapshot bf16Initial, bf16Expected;
} Snapshots;

static void createSnapshots(Snapshots *s, const Workload *wl) {
  *s = (Snapshots){.bf16 = wl->tensors[0].m16 != NULL};
  if (!snapshotCreate(&s->initial, wl->numel) ||
      !snapshotCreate(&s->expected, wl->numel) ||
      (s->bf16 && (!bf16SnapshotCreate(&s->bf16Initial, wl->numel) ||
                   !bf16SnapshotCreate(&s->bf16Expected, wl->numel)))) {
    fprintf(stderr, "cage-bench-cpu: out of memory\n");
    exit(1);
  }
}

static void destroySnapshots(Snapshots *s) {
  snapshotDestroy(&s->initial);
  snapshotDestroy(&s->expected);
  if (s->bf16) {
    bf16SnapshotDestroy(&s->bf16Initial);
    bf16SnapshotDestroy(&s->bf16Expected);
  }
}

/* Records a measured configuration: every implementation but the bf16-state
 * step in the record of its section; when that step is there, a "bf16"
 * record of the probe, the fused step and it, from the same rounds. */
static void emitRecords(Run *run, const Record *all) {
  Record r = *all, bf16 = *all;
  r.numImpls = bf16.numImpls = 0;
  bf16.section = "bf16";
  bf16.base = all->section;
  bool hasBf16 = false;
  for (int i = 0; i < all->numImpls; ++i) {
    const char *name = all->names[i];
    bool isBf16 = strcmp(name, "bf16") == 0;
    hasBf16 |= isBf16;
    bool inBf16 =
        isBf16 || strcmp(name, "probe") == 0 || strcmp(name, "fused") == 0;
    Record *into[2] = {isBf16 ? NULL : &r, inBf16 ? &bf16 : NULL};
    for (int k = 0; k < 2; ++k)
      if (into[k]) {
        into[k]->names[into[k]->numImpls] = name;
        into[k]->times[into[k]->numImpls] = all->times[i];
        into[k]->identical[into[k]->numImpls++] = all->identical[i];
      }
  }
  recordPrint(&r, stdout);
  if (hasBf16)
    bf16RecordPrint(&bf16, stdout);
  if (run->options.json) {
    jsonRecord(&run->json, &r);
    if (hasBf16)
      jsonBf16Record(&run->json, &bf16);
  }
}

/* Checks, then times in each of the cache states asked for, records each. */
static void runConfiguration(Run *run, Record *base, Impl *impls, int numImpls,
                             Workload *wl, const HandStep *step,
                             Snapshots *snapshots, int caches) {
  bool identical[kMaxImpls];
  checkBitwise(impls, numImpls, wl, step, &snapshots->initial,
               &snapshots->expected, identical);
  for (int i = 0; i < numImpls; ++i)
    if (implIsBf16State(&impls[i]))
      identical[i] = checkBf16AgainstReference(&impls[i], wl, step,
                                               &snapshots->bf16Initial,
                                               &snapshots->bf16Expected);
  for (int cache = kCold; cache <= kWarm; ++cache) {
    if (!(caches & cache))
      continue;
    Record r = *base;
    r.cache = cache == kCold ? "cold" : "warm";
    r.numImpls = numImpls;
    for (int i = 0; i < numImpls; ++i) {
      r.names[i] = impls[i].name;
      r.identical[i] = identical[i];
    }
    measureRounds(impls, numImpls, wl, step,
                  cache == kCold ? &run->flusher : NULL, run->options.warmup,
                  run->options.rounds, r.times);
    emitRecords(run, &r);
  }
}

/* Every quantizer x coupling x thread count x cache state of one layout. */
static void runLayout(Run *run, const char *layout) {
  int count;
  long long rows, cols;
  if (sscanf(layout, "%dx%lldx%lld", &count, &rows, &cols) != 3 || count < 1 ||
      rows < 1 || cols < 1 || !compiledArityIsSupported(count)) {
    fprintf(stderr,
            "cage-bench-cpu: bad layout '%s' (COUNTxROWSxCOLS, COUNT 1 or "
            "64)\n",
            layout);
    exit(2);
  }
  Workload wl;
  if (!workloadCreate(&wl, count, rows, cols, run->options.padBytes, 1,
                      hasBf16Variant(run->options.libDir, layout))) {
    fprintf(stderr, "cage-bench-cpu: out of memory for %s\n", layout);
    exit(1);
  }
  Snapshots snapshots;
  createSnapshots(&snapshots, &wl);
  static const char *const quantizers[] = {"row", "group"};
  static const char *const couplings[] = {"decoupled", "coupled"};
  for (int q = 0; q < 2; ++q)
    for (int c = 0; c < 2; ++c) {
      if (q == 1 && cols % 128 != 0)
        continue;
      char function[64];
      snprintf(function, sizeof function, "step_%s_%s", quantizers[q],
               couplings[c]);
      Impl impls[kMaxImpls];
      int numImpls =
          bindImpls(impls, run->options.libDir, layout, function, &wl);
      HandStep step = handStepDefault();
      step.groupSize = q == 1 ? 128 : 0;
      step.coupled = c == 1;
      for (int t = 0; t < run->numThreads; ++t) {
        omp_set_num_threads(run->threads[t]);
        Record r = {.section = "main",
                    .numel = wl.numel,
                    .quantizer = quantizers[q],
                    .coupling = couplings[c],
                    .threads = run->threads[t]};
        snprintf(r.layout, sizeof r.layout, "%s", layout);
        runConfiguration(run, &r, impls, numImpls, &wl, &step, &snapshots,
                         kCold | kWarm);
      }
      releaseImpls(impls, numImpls);
    }
  destroySnapshots(&snapshots);
  workloadDestroy(&wl);
}

/* One tensor of N/1024 x 1024 (N = 2^log2n), row scales, decoupled, with
 * the compiled steps of the sweep's shared objects. */
static void runSingleTensor(Run *run, const char *section, int log2n,
                            int threads, int caches) {
  omp_set_num_threads(threads);
  int64_t rows = (INT64_C(1) << log2n) / 1024;
  Workload wl;
  if (!workloadCreate(&wl, 1, rows, 1024, run->options.padBytes, 2,
                      hasBf16Variant(run->options.libDir, "sweep"))) {
    fprintf(stderr, "cage-bench-cpu: out of memory for 2^%d\n", log2n);
    exit(1);
  }
  Snapshots snapshots;
  createSnapshots(&snapshots, &wl);
  char function[64];
  snprintf(function, sizeof function, "sweep_row_decoupled_%lldx1024",
           (long long)rows);
  Impl impls[kMaxImpls];
  int numImpls = bindImpls(impls, run->options.libDir, "sweep", function, &wl);
  Record r = {.section = section,
              .numel = wl.numel,
              .quantizer = "row",
              .coupling = "decoupled",
              .threads = threads};
  snprintf(r.layout, sizeof r.layout, "1x%lldx1024", (long long)rows);
  HandStep step = handStepDefault();
  runConfiguration(run, &r, impls, numImpls, &wl, &step, &snapshots, caches);
  releaseImpls(impls, numImpls);
  destroySnapshots(&snapshots);
  workloadDestroy(&wl);
}

int main(int argc, char **argv) {
  bool verify;
  Run run = {.options = parseOptions(argc, argv, &verify)};
  if (verify)
    return verifyHandAgainstReference() == 0 ? 0 : 1;
  double start = benchNow(), loadBefore = machineLoadAverage();
  if (loadBefore > 1.0)
    fprintf(stderr,
            "cage-bench-cpu: warning: load average %.2f: other processes "
            "compete for the cores and the memory bus\n",
            loadBefore);
  char threadList[64], *items[8];
  strcpy(threadList, run.options.threads);
  int n = splitList(threadList, items, 8);
  for (int i = 0; i < n; ++i) {
    run.threads[i] = atoi(items[i]);
    if (run.threads[i] < 1)
      usageError("--threads takes positive counts");
  }
  run.numThreads = n;
  if (n == 0)
    usageError("--threads is empty");
  omp_set_num_threads(run.threads[n - 1]);
  if (!flusherCreate(&run.flusher, (size_t)(run.options.flushMiB * 1048576))) {
    fprintf(stderr, "cage-bench-cpu: out of memory for the flush buffer\n");
    return 1;
  }
  if (run.options.json &&
      !jsonOpen(&run.json, run.options.json, run.options.rounds,
                run.options.warmup, run.options.flushMiB,
                run.options.padBytes >> 10, run.options.quick)) {
    fprintf(stderr, "cage-bench-cpu: cannot write %s\n", run.options.json);
    return 1;
  }
  printf("cage-bench-cpu: %d rounds (+%d warm-up), medians; GB/s = 28 B x N "
         "/ median (bf16 state: 20 B); a/b = GB/s of a over b\n",
         run.options.rounds, run.options.warmup);
  if (hasSection(&run.options, "main")) {
    char layouts[512], *list[16];
    strcpy(layouts, run.options.layouts);
    int numLayouts = splitList(layouts, list, 16);
    for (int i = 0; i < numLayouts; ++i)
      runLayout(&run, list[i]);
  }
  /* The bandwidth sweep: the last thread count, cold. */
  if (hasSection(&run.options, "sweep"))
    for (int log2n = run.options.sweepLo; log2n <= run.options.sweepHi; ++log2n)
      runSingleTensor(&run, "sweep", log2n, run.threads[n - 1], kCold);
  /* The arithmetic's limit: 2^16 parameters (1 MiB of w, g, m, v, in the
   * L2 caches), back to back. */
  if (hasSection(&run.options, "compute"))
    for (int i = 0; i < n; ++i)
      runSingleTensor(&run, "compute", 16, run.threads[i], kWarm);
  flusherDestroy(&run.flusher);
  double seconds = benchNow() - start;
  printf("cage-bench-cpu: %.1f s\n", seconds);
  if (run.options.json &&
      !jsonClose(&run.json, seconds, loadBefore, machineLoadAverage())) {
    fprintf(stderr, "cage-bench-cpu: writing %s failed\n", run.options.json);
    return 1;
  }
  return 0;
}
