/*===- measure.h - Timing the step implementations in rounds --------------===*\
|*                                                                            *|
|* The implementations of one configuration are timed in rounds: each round   *|
|* runs every implementation once, in a fixed order, on the same buffers      *|
|* (flushing the caches before each call when cold), so that a drift of the   *|
|* machine's bandwidth during the run affects all of them alike. Reported     *|
|* are the median and quartiles of each implementation's times.               *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef CAGE_BENCH_MEASURE_H
#define CAGE_BENCH_MEASURE_H

#include "clock.h"
#include "compiled.h"
#include "flush.h"
#include "hand.h"
#include "workload.h"

#include <stdbool.h>

enum { kMaxImpls = 8 };

typedef enum ImplKind { kImplProbe, kImplHand, kImplCompiled } ImplKind;

/** One implementation of the step (or the probe), by name. */
typedef struct Impl {
  const char *name;
  ImplKind kind;
  CompiledStep compiled; /* kImplCompiled only */
} Impl;

/** Whether impl is a compiled step with bf16 state (it runs on w, g, m16,
 * v16, not on m, v). */
bool implIsBf16State(const Impl *impl);

/** Runs impl once on wl with the step's hyper-parameters and operands (a
 * bf16-state step with seed = t). */
void implRun(const Impl *impl, const Workload *wl, const HandStep *step);

/** Times `rounds` rounds after `warmup` untimed ones; t counts the rounds
 * from 1. flusher is NULL for back-to-back (warm) runs. */
void measureRounds(const Impl *impls, int numImpls, const Workload *wl,
                   const HandStep *step, const CacheFlusher *flusher,
                   int warmup, int rounds, Summary *out);

/** Runs every step implementation (not the probe, not a bf16-state step)
 * once from the same inputs (the workload's current state, t = 1) and
 * compares w, m, v with the first step implementation's, bit for bit:
 * identical[i] for each (true for the first and for the probe, false for a
 * bf16-state step). Leaves the workload as it found it. `initial` and
 * `expected` are snapshots of the workload's size. */
void checkBitwise(const Impl *impls, int numImpls, Workload *wl,
                  const HandStep *step, Snapshot *initial, Snapshot *expected,
                  bool *identical);

/** The seed of the bf16 check below: high and low 32 bits both in use. */
#define kBf16CheckSeed INT64_C(0x2545F4914F6CDD1D)

/** Runs the bf16-state step `impl` once (t = 1, seed kBf16CheckSeed) from
 * the workload's current w, g, m16, v16 and compares w, m16, v16 with
 * cageRefUpdateAdamWBf16State's (lib/Reference) on the same inputs, bit for
 * bit, tensor by tensor. Leaves the workload as it found it. */
bool checkBf16AgainstReference(const Impl *impl, Workload *wl,
                               const HandStep *step, Bf16Snapshot *initial,
                               Bf16Snapshot *expected);

#endif /* CAGE_BENCH_MEASURE_H */
