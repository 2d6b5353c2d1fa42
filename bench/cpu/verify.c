/*===- verify.c - The hand-written step against the C reference -----------===*\
|*                                                                            *|
|* See verify.h.                                                              *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#include "verify.h"

#include "hand.h"
#include "workload.h"

#include "Reference/Reference.h"

#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct Case {
  const char *name;
  int count;
  int64_t rows[3], cols[3];
  int64_t groupSize; /* 0: row scales */
} Case;

static const Case kCases[] = {
    {"1x1", 1, {1}, {1}, 0},
    {"1x7", 1, {1}, {7}, 0},
    {"7x129", 1, {7}, {129}, 0},
    {"129x17", 1, {129}, {17}, 0},
    {"3x1000", 1, {3}, {1000}, 0},
    {"2x4099", 1, {2}, {4099}, 0},
    {"16x1024", 1, {16}, {1024}, 0},
    {"7x129+1x1+33x64", 3, {7, 1, 33}, {129, 1, 64}, 0},
    {"1x128/g128", 1, {1}, {128}, 128},
    {"3x384/g128", 1, {3}, {384}, 128},
    {"7x1152/g128", 1, {7}, {1152}, 128},
    {"5x4096/g128", 1, {5}, {4096}, 128},
    {"3x256+1x128+9x384/g128", 3, {3, 1, 9}, {256, 128, 384}, 128},
};

static const float kLambdas[] = {10.0f, 0.37f, 0.0f, -0.0f};

/* Awkward rows: row 1 of every tensor all zero (alpha at its 1e-8 floor),
 * its last row (when there are three or more) scaled below the floor. */
static void makeAwkward(Workload *wl) {
  for (int k = 0; k < wl->count; ++k) {
    BenchTensor *t = &wl->tensors[k];
    if (t->rows >= 2)
      memset(t->w + t->cols, 0, (size_t)t->cols * sizeof(float));
    if (t->rows >= 3)
      for (int64_t j = 0; j < t->cols; ++j)
        t->w[(t->rows - 1) * t->cols + j] *= 1e-12f;
  }
}

/* The reference's step on copies of every tensor's w, m, v. */
static int referenceStep(const Workload *wl, float **w, float **m, float **v,
                         const HandStep *s) {
  CageRefQuantizer q = cageRefQuantizerDefault();
  q.bits = s->bits;
  q.granularity = s->groupSize ? CageGranularityGroup : CageGranularityRow;
  q.groupSize = s->groupSize ? s->groupSize : 128;
  CageRefAdamW opt = {s->beta1, s->beta2, s->eps, s->weightDecay};
  for (int k = 0; k < wl->count; ++k) {
    const BenchTensor *t = &wl->tensors[k];
    int64_t dims[2] = {t->rows, t->cols};
    int status = cageRefUpdateAdamW(
        &q, CageErrorModeKeep,
        s->coupled ? CageCouplingCoupled : CageCouplingDecoupled, &opt, 2, dims,
        w[k], t->g, m[k], v[k], s->lr, s->lambda, s->t);
    if (status != CageRefOk) {
      fprintf(stderr, "cageRefUpdateAdamW: %s\n", cageRefStatusString(status));
      return status;
    }
  }
  return 0;
}

static bool sameBits(const float *a, const float *b, int64_t n) {
  return memcmp(a, b, (size_t)n * sizeof(float)) == 0;
}

/* One case, one mode, one lambda, one thread count: three steps of both,
 * compared after each. */
static bool runCase(const Case *c, bool coupled, float lambda, int threads) {
  Workload wl;
  if (!workloadCreateShapes(&wl, c->count, c->rows, c->cols, 64, 7, false)) {
    fprintf(stderr, "out of memory\n");
    return false;
  }
  makeAwkward(&wl);
  float *w[3], *m[3], *v[3];
  for (int k = 0; k < wl.count; ++k) {
    const BenchTensor *t = &wl.tensors[k];
    size_t bytes = (size_t)(t->rows * t->cols) * sizeof(float);
    w[k] = malloc(bytes);
    m[k] = malloc(bytes);
    v[k] = malloc(bytes);
    memcpy(w[k], t->w, bytes);
    memcpy(m[k], t->m, bytes);
    memcpy(v[k], t->v, bytes);
  }
  HandStep s = handStepDefault();
  s.groupSize = c->groupSize;
  s.coupled = coupled;
  s.lambda = lambda;
  omp_set_num_threads(threads);
  bool ok = true;
  for (s.t = 1; ok && s.t <= 3; ++s.t) {
    handStep(&wl, &s);
    ok = referenceStep(&wl, w, m, v, &s) == 0;
    for (int k = 0; ok && k < wl.count; ++k) {
      const BenchTensor *t = &wl.tensors[k];
      int64_t n = t->rows * t->cols;
      ok = sameBits(t->w, w[k], n) && sameBits(t->m, m[k], n) &&
           sameBits(t->v, v[k], n);
    }
  }
  for (int k = 0; k < wl.count; ++k) {
    free(w[k]);
    free(m[k]);
    free(v[k]);
  }
  workloadDestroy(&wl);
  return ok;
}

int verifyHandAgainstReference(void) {
  int failed = 0, total = 0;
  size_t numCases = sizeof kCases / sizeof kCases[0];
  size_t numLambdas = sizeof kLambdas / sizeof kLambdas[0];
  for (size_t i = 0; i < numCases; ++i)
    for (int coupled = 0; coupled < 2; ++coupled) {
      int bad = 0;
      for (size_t l = 0; l < numLambdas; ++l)
        for (int threads = 1; threads <= 3; ++threads) {
          ++total;
          if (!runCase(&kCases[i], coupled, kLambdas[l], threads)) {
            ++bad;
            printf("FAIL %s %s lambda=%g threads=%d\n", kCases[i].name,
                   coupled ? "coupled" : "decoupled", (double)kLambdas[l],
                   threads);
          }
        }
      printf("%-26s %-9s %s\n", kCases[i].name,
             coupled ? "coupled" : "decoupled",
             bad ? "DIFFERS from the reference" : "bit-exact");
      failed += bad;
    }
  printf("verify: %d of %d cases bit-exact against cageRefUpdateAdamW\n",
         total - failed, total);
  return failed;
}
