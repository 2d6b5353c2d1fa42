/*===- hand.c - A hand-written fused CAGE-AdamW step ----------------------===*\
|*                                                                            *|
|* See hand.h. Compiled with -O3 -march=native -ffp-contract=off              *|
|* -fno-math-errno (so that sqrtf is the vsqrtps instruction; it changes no   *|
|* value) and -fopenmp: `omp simd` vectorizes the loops (16 lanes with        *|
|* AVX-512). The loop is bound by the divider (four divisions and a square    *|
|* root per element), so the absmax of the next group is scanned inside the   *|
|* update loop of the current one rather than in a pass of its own.           *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#include "hand.h"

#include "rows.h"

#include <math.h>
#include <omp.h>
#include <stdint.h>

HandStep handStepDefault(void) {
  HandStep s = {.bits = 4,
                .groupSize = 0,
                .coupled = false,
                .beta1 = 0.9f,
                .beta2 = 0.95f,
                .eps = 1e-8f,
                .weightDecay = 0.1f,
                .lr = 1e-3f,
                .lambda = 10.0f,
                .t = 1};
  return s;
}

/* Where the correction goes: g + lambda e before AdamW, or w - (lr lambda)
 * e after it. lambda_t = 0 is not special (docs/Semantics.md §1.3): the
 * correction is applied all the same, as the reference does. */
typedef enum Mode { kCoupled, kDecoupled } Mode;

/* The scalars of a step, computed once per call in the reference's way. */
typedef struct Scalars {
  Mode mode;
  int64_t groupSize;
  float qmin, qmax;
  float decay; /* 1 - lr wd */
  float beta1, beta2, oneMinusBeta1, oneMinusBeta2;
  float bc1, bc2; /* 1 - beta^t */
  float lr, eps, lambda, lrLambda;
} Scalars;

/* 1 - beta^t as docs/Semantics.md §1.3 computes it: beta^t by binary
 * exponentiation in double (square and multiply over the bits of t), then
 * 1 - p in double rounded once to f32 (powf rounds differently). */
static float biasCorrection(float beta, int64_t t) {
  double p = 1.0, square = (double)beta;
  for (uint64_t n = (uint64_t)t; n != 0; n >>= 1) {
    if (n & 1u)
      p *= square;
    square *= square;
  }
  return (float)(1.0 - p);
}

/* max(m, 1e-8): the clip value alpha of a group whose max |x| is m. */
static inline float clipValue(float m) { return m > 1e-8f ? m : 1e-8f; }

/* alpha of x[0 .. n): max |x| scanned from 0 (order does not matter for a
 * maximum). */
static inline float absmax(const float *restrict x, int64_t n) {
  float m = 0.0f;
#pragma omp simd reduction(max : m)
  for (int64_t i = 0; i < n; ++i) {
    float a = fabsf(x[i]);
    m = a > m ? a : m;
  }
  return clipValue(m);
}

/* The corrected step of one group of n elements with quantizer scale s, in
 * the same loop the absmax of the next group (`next`, n elements, not yet
 * updated), which it returns as a clip value: the scan rides along with
 * the divisions that bound the loop instead of taking a pass of its own.
 * `mode` (kCoupled or kDecoupled) is a constant at each call site, so each
 * gets its own loop. */
static inline float correctedGroup(float *restrict w, const float *restrict g,
                                   float *restrict m, float *restrict v,
                                   int64_t n, float scale,
                                   const float *restrict next,
                                   const Scalars *sc, Mode mode) {
  const float qmin = sc->qmin, qmax = sc->qmax, decay = sc->decay;
  const float beta1 = sc->beta1, beta2 = sc->beta2;
  const float oneMinusBeta1 = sc->oneMinusBeta1;
  const float oneMinusBeta2 = sc->oneMinusBeta2;
  const float bc1 = sc->bc1, bc2 = sc->bc2, lr = sc->lr, eps = sc->eps;
  const float lambda = sc->lambda, lrLambda = sc->lrLambda;
  float nextMax = 0.0f;
#pragma omp simd reduction(max : nextMax)
  for (int64_t i = 0; i < n; ++i) {
    float a = fabsf(next[i]);
    nextMax = a > nextMax ? a : nextMax;
    float wi = w[i], gi = g[i];
    /* e = w - clamp(rint(w / s), qmin, qmax) s */
    float r = rintf(wi / scale);
    r = r < qmin ? qmin : (r > qmax ? qmax : r);
    float e = wi - r * scale;
    if (mode == kCoupled)
      gi = gi + lambda * e;
    float mi = beta1 * m[i] + oneMinusBeta1 * gi;
    float vi = beta2 * v[i] + oneMinusBeta2 * (gi * gi);
    float mhat = mi / bc1;
    float vhat = vi / bc2;
    float wn = wi * decay - (lr * mhat) / (sqrtf(vhat) + eps);
    if (mode == kDecoupled)
      wn = wn - lrLambda * e;
    w[i] = wn;
    m[i] = mi;
    v[i] = vi;
  }
  return clipValue(nextMax);
}

/* numGroups consecutive groups of `group` elements (the rows of a thread's
 * share are contiguous, so its groups are too). The last group scans
 * itself again as its "next" (the result is not used). */
static inline void correctedGroups(float *w, const float *g, float *m, float *v,
                                   int64_t numGroups, int64_t group,
                                   const Scalars *sc, Mode mode) {
  float alpha = absmax(w, group);
  for (int64_t k = 0; k < numGroups; ++k) {
    int64_t o = k * group;
    const float *next = k + 1 < numGroups ? w + o + group : w + o;
    alpha = correctedGroup(w + o, g + o, m + o, v + o, group, alpha / sc->qmax,
                           next, sc, mode);
  }
}

static void stepRows(const BenchTensor *t, int64_t firstRow, int64_t numRows,
                     const void *context) {
  const Scalars *sc = context;
  int64_t begin = firstRow * t->cols, n = numRows * t->cols;
  float *w = t->w + begin, *m = t->m + begin, *v = t->v + begin;
  const float *g = t->g + begin;
  int64_t group = sc->groupSize ? sc->groupSize : t->cols;
  if (sc->mode == kCoupled)
    correctedGroups(w, g, m, v, n / group, group, sc, kCoupled);
  else
    correctedGroups(w, g, m, v, n / group, group, sc, kDecoupled);
}

void handStep(const Workload *wl, const HandStep *step) {
  Scalars sc;
  sc.mode = step->coupled ? kCoupled : kDecoupled;
  sc.groupSize = step->groupSize;
  sc.qmax = (float)((1 << (step->bits - 1)) - 1);
  sc.qmin = -(float)(1 << (step->bits - 1));
  sc.decay = 1.0f - step->lr * step->weightDecay;
  sc.beta1 = step->beta1;
  sc.beta2 = step->beta2;
  sc.oneMinusBeta1 = 1.0f - step->beta1;
  sc.oneMinusBeta2 = 1.0f - step->beta2;
  sc.bc1 = biasCorrection(step->beta1, step->t);
  sc.bc2 = biasCorrection(step->beta2, step->t);
  sc.lr = step->lr;
  sc.eps = step->eps;
  sc.lambda = step->lambda;
  sc.lrLambda = step->lr * step->lambda;
#pragma omp parallel
  forEachRowShare(wl, omp_get_thread_num(), omp_get_num_threads(), stepRows,
                  &sc);
}
