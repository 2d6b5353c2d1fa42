/*===- measure.c - Timing the step implementations in rounds --------------===*\
|*                                                                            *|
|* See measure.h.                                                             *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#include "measure.h"

#include "probe.h"

#include "Reference/Reference.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

bool implIsBf16State(const Impl *impl) {
  return impl->kind == kImplCompiled && impl->compiled.bf16State;
}

void implRun(const Impl *impl, const Workload *wl, const HandStep *step) {
  switch (impl->kind) {
  case kImplProbe:
    probeStep(wl, 0.0f);
    break;
  case kImplHand:
    handStep(wl, step);
    break;
  case kImplCompiled:
    compiledStepRun(&impl->compiled, step->lr, step->lambda, step->t, step->t);
    break;
  }
}

void measureRounds(const Impl *impls, int numImpls, const Workload *wl,
                   const HandStep *step, const CacheFlusher *flusher,
                   int warmup, int rounds, Summary *out) {
  double *samples = malloc((size_t)(numImpls * rounds) * sizeof *samples);
  if (!samples) {
    fprintf(stderr, "out of memory\n");
    exit(1);
  }
  HandStep s = *step;
  for (int round = 0; round < warmup + rounds; ++round) {
    s.t = round + 1;
    for (int i = 0; i < numImpls; ++i) {
      if (flusher)
        flusherRun(flusher);
      double start = benchNow();
      implRun(&impls[i], wl, &s);
      double elapsed = benchNow() - start;
      if (round >= warmup)
        samples[i * rounds + round - warmup] = elapsed;
    }
  }
  for (int i = 0; i < numImpls; ++i)
    out[i] = summarize(&samples[i * rounds], rounds);
  free(samples);
}

void checkBitwise(const Impl *impls, int numImpls, Workload *wl,
                  const HandStep *step, Snapshot *initial, Snapshot *expected,
                  bool *identical) {
  HandStep s = *step;
  s.t = 1;
  snapshotSave(initial, wl);
  int first = -1;
  for (int i = 0; i < numImpls; ++i) {
    identical[i] = !implIsBf16State(&impls[i]);
    if (impls[i].kind == kImplProbe || implIsBf16State(&impls[i]))
      continue;
    implRun(&impls[i], wl, &s);
    if (first < 0) {
      first = i;
      snapshotSave(expected, wl);
    } else {
      int64_t where = 0;
      identical[i] = snapshotEqualsBits(expected, wl, &where);
      if (!identical[i])
        fprintf(stderr,
                "  %s differs from %s at flat index %" PRId64
                " of w|m|v (numel %" PRId64 ")\n",
                impls[i].name, impls[first].name, where, wl->numel);
    }
    snapshotRestore(initial, wl);
  }
}

bool checkBf16AgainstReference(const Impl *impl, Workload *wl,
                               const HandStep *step, Bf16Snapshot *initial,
                               Bf16Snapshot *expected) {
  const int64_t t = 1, seed = kBf16CheckSeed;
  CageRefQuantizer q = cageRefQuantizerDefault();
  q.bits = step->bits;
  q.granularity = step->groupSize ? CageGranularityGroup : CageGranularityRow;
  q.groupSize = step->groupSize ? step->groupSize : 128;
  CageRefAdamW opt = {step->beta1, step->beta2, step->eps, step->weightDecay};
  bf16SnapshotSave(initial, wl);
  /* The reference in place on the workload's own buffers, tensor by tensor
   * (each with its own element indices, as each cage.update has). */
  for (int k = 0; k < wl->count; ++k) {
    const BenchTensor *tensor = &wl->tensors[k];
    int64_t dims[2] = {tensor->rows, tensor->cols};
    int status = cageRefUpdateAdamWBf16State(
        &q, CageErrorModeKeep,
        step->coupled ? CageCouplingCoupled : CageCouplingDecoupled, &opt, 2,
        dims, tensor->w, tensor->g, tensor->m16, tensor->v16, step->lr,
        step->lambda, t, (uint64_t)seed);
    if (status != CageRefOk) {
      fprintf(stderr, "cageRefUpdateAdamWBf16State: %s\n",
              cageRefStatusString(status));
      bf16SnapshotRestore(initial, wl);
      return false;
    }
  }
  bf16SnapshotSave(expected, wl);
  bf16SnapshotRestore(initial, wl);
  compiledStepRun(&impl->compiled, step->lr, step->lambda, t, seed);
  int array = 0;
  int64_t where = 0;
  bool same = bf16SnapshotEqualsBits(expected, wl, &array, &where);
  static const char *const kArrays[] = {"w", "m", "v"};
  if (!same)
    fprintf(stderr,
            "  %s differs from cageRefUpdateAdamWBf16State in %s at flat "
            "index %" PRId64 " (numel %" PRId64 ")\n",
            impl->name, kArrays[array], where, wl->numel);
  bf16SnapshotRestore(initial, wl);
  return same;
}
