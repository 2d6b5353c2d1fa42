/*===- Optimizers.c - lambda schedule, AdamW, SGD and the CAGE update -----===*\
|*                                                                            *|
|* docs/Semantics.md §1.3, in f32, in the operation order written there (and *|
|* in Reference.h); the same steps with m, v / b stored as bf16 with         *|
|* stochastic rounding (Reference.h, "bf16 optimizer state").                *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#include "Reference/Internal.h"

#include <math.h>
#include <stdlib.h>

/*===----------------------------------------------------------------------===*
 * Argument checks
 *===----------------------------------------------------------------------===*/

static int checkAdamW(const CageRefAdamW *opt) {
  if (!opt)
    return CageRefErrorNull;
  if (!isfinite(opt->beta1) || !isfinite(opt->beta2) || !isfinite(opt->eps) ||
      !isfinite(opt->weightDecay))
    return CageRefErrorArgument;
  if (!(opt->beta1 >= 0.0f && opt->beta1 < 1.0f) ||
      !(opt->beta2 >= 0.0f && opt->beta2 < 1.0f) || !(opt->eps > 0.0f) ||
      !(opt->weightDecay >= 0.0f))
    return CageRefErrorArgument;
  return CageRefOk;
}

static int checkSgd(const CageRefSgd *opt) {
  if (!opt)
    return CageRefErrorNull;
  if (!isfinite(opt->momentum) || !isfinite(opt->dampening) ||
      !isfinite(opt->weightDecay))
    return CageRefErrorArgument;
  if (!(opt->momentum >= 0.0f) ||
      !(opt->dampening >= 0.0f && opt->dampening <= 1.0f) ||
      !(opt->weightDecay >= 0.0f))
    return CageRefErrorArgument;
  /* As torch: Nesterov needs momentum and no dampening. */
  if (opt->nesterov && !(opt->momentum > 0.0f && opt->dampening == 0.0f))
    return CageRefErrorArgument;
  return CageRefOk;
}

/*===----------------------------------------------------------------------===*
 * lambda_schedule
 *===----------------------------------------------------------------------===*/

int cageRefLambdaSchedule(CageScheduleKind kind, float lambda, float silence,
                          int64_t t, int64_t total, float *lambdaT) {
  if (!lambdaT)
    return CageRefErrorNull;
  if ((int)kind != CageScheduleKindLinearRamp &&
      (int)kind != CageScheduleKindConstant)
    return CageRefErrorArgument;
  if (!isfinite(lambda) || !(lambda >= 0.0f) || !isfinite(silence) ||
      !(silence >= 0.0f && silence < 1.0f) || total < 1)
    return CageRefErrorArgument;
  /* 1.3: r = min(f32(t) / f32(T), 1), in f32. */
  float r = (float)t / (float)total;
  r = r < 1.0f ? r : 1.0f;
  float result;
  if (r <= silence)
    result = 0.0f; /* both kinds: 0 if r <= s */
  else if (kind == CageScheduleKindLinearRamp)
    result = (lambda * (r - silence)) / (1.0f - silence);
  else
    result = lambda;
  *lambdaT = result;
  return CageRefOk;
}

/*===----------------------------------------------------------------------===*
 * AdamW and SGD: one element-wise step each, shared by the f32-state and the
 * bf16-state entry points (which differ only in how m, v / b are loaded and
 * stored).
 *===----------------------------------------------------------------------===*/

/* The checks of cageRefAdamW and cageRefAdamWBf16State, in this order. */
static int checkAdamWCall(const CageRefAdamW *opt, int64_t n, const float *w,
                          const float *g, const void *m, const void *v,
                          float lr, int64_t t) {
  int status = checkAdamW(opt);
  if (status != CageRefOk)
    return status;
  if (!w || !g || !m || !v)
    return CageRefErrorNull;
  if (n < 0 || !isfinite(lr) || t < 1)
    return CageRefErrorArgument;
  return CageRefOk;
}

/* The checks of cageRefSgd and cageRefSgdBf16State, in this order. */
static int checkSgdCall(const CageRefSgd *opt, int64_t n, const float *w,
                        const float *g, const void *b, float lr) {
  int status = checkSgd(opt);
  if (status != CageRefOk)
    return status;
  if (!w || !g || (opt->momentum != 0.0f && !b))
    return CageRefErrorNull;
  if (n < 0 || !isfinite(lr))
    return CageRefErrorArgument;
  return CageRefOk;
}

/* 1.3: the bias correction 1 - beta^t. p = beta^t by binary exponentiation
 * in double: square and multiply over the bits of t from the lowest, every
 * product one IEEE double multiplication of the double value of the f32
 * beta; then 1 - p in double, rounded once to f32. Unlike powf, this is the
 * same on every target (t >= 1 is checked by the callers). */
static float biasCorrection(float beta, int64_t t) {
  double p = 1.0;
  double square = (double)beta;
  for (uint64_t n = (uint64_t)t; n != 0; n >>= 1) {
    if (n & 1u)
      p *= square;
    square *= square;
  }
  return (float)(1.0 - p);
}

/* AdamW's constants, computed once per call. */
typedef struct AdamWConstants {
  float beta1, beta2, eps, lr;
  float decay;       /* 1 - lr * wd */
  float correction1; /* 1 - beta1^t */
  float correction2; /* 1 - beta2^t */
} AdamWConstants;

static AdamWConstants adamWConstants(const CageRefAdamW *opt, float lr,
                                     int64_t t) {
  AdamWConstants c;
  c.beta1 = opt->beta1;
  c.beta2 = opt->beta2;
  c.eps = opt->eps;
  c.lr = lr;
  /* 1.3: the decay factor 1 - lr * wd, in f32. */
  c.decay = 1.0f - lr * opt->weightDecay;
  c.correction1 = biasCorrection(opt->beta1, t);
  c.correction2 = biasCorrection(opt->beta2, t);
  return c;
}

/* One element of AdamW, in f32: *w, *m, *v in and out. */
static void adamWElement(const AdamWConstants *c, float g, float *w, float *m,
                         float *v) {
  /* w <- w * (1 - lr * wd) */
  float wi = *w * c->decay;
  /* m <- beta1 * m + (1 - beta1) * g */
  float mi = c->beta1 * *m + (1.0f - c->beta1) * g;
  /* v <- beta2 * v + (1 - beta2) * g^2 */
  float vi = c->beta2 * *v + (1.0f - c->beta2) * (g * g);
  /* mhat = m / (1 - beta1^t), vhat = v / (1 - beta2^t) */
  float mhat = mi / c->correction1;
  float vhat = vi / c->correction2;
  /* w <- w - lr * mhat / (sqrt(vhat) + eps) */
  *w = wi - (c->lr * mhat) / (sqrtf(vhat) + c->eps);
  *m = mi;
  *v = vi;
}

/* One element of SGD, in f32: *w in and out, *b too when momentum != 0 (b is
 * not touched otherwise). */
static void sgdElement(const CageRefSgd *opt, float lr, float g, float *w,
                       float *b) {
  float mu = opt->momentum;
  float gi = g;
  /* g <- g + wd * w (skipped when wd = 0, as torch does) */
  if (opt->weightDecay != 0.0f)
    gi = gi + opt->weightDecay * *w;
  float d = gi;
  if (mu != 0.0f) {
    /* b <- mu * b + (1 - dampening) * g, from b = 0 on the first step */
    float bi = mu * *b + (1.0f - opt->dampening) * gi;
    /* d = nesterov ? g + mu * b : b */
    d = opt->nesterov ? gi + mu * bi : bi;
    *b = bi;
  }
  /* w <- w - lr * d */
  *w = *w - lr * d;
}

int cageRefAdamW(const CageRefAdamW *opt, int64_t n, float *w, const float *g,
                 float *m, float *v, float lr, int64_t t) {
  int status = checkAdamWCall(opt, n, w, g, m, v, lr, t);
  if (status != CageRefOk)
    return status;
  AdamWConstants c = adamWConstants(opt, lr, t);
  for (int64_t i = 0; i < n; ++i)
    adamWElement(&c, g[i], &w[i], &m[i], &v[i]);
  return CageRefOk;
}

int cageRefSgd(const CageRefSgd *opt, int64_t n, float *w, const float *g,
               float *b, float lr) {
  int status = checkSgdCall(opt, n, w, g, b, lr);
  if (status != CageRefOk)
    return status;
  for (int64_t i = 0; i < n; ++i)
    sgdElement(opt, lr, g[i], &w[i], opt->momentum != 0.0f ? &b[i] : NULL);
  return CageRefOk;
}

/* bf16 state: load exactly, step in f32 as above, store with stochastic
 * rounding (1.5): element i takes the word out[i mod 4] of the Philox call
 * for counter floor(i / 4); m and b round with its low 16 bits, v with its
 * high 16 bits. */

int cageRefAdamWBf16State(const CageRefAdamW *opt, int64_t n, float *w,
                          const float *g, uint16_t *m, uint16_t *v, float lr,
                          int64_t t, uint64_t seed) {
  int status = checkAdamWCall(opt, n, w, g, m, v, lr, t);
  if (status != CageRefOk)
    return status;
  AdamWConstants c = adamWConstants(opt, lr, t);
  for (int64_t i = 0; i < n; ++i) {
    float mi = cageRefF32FromBf16(m[i]);
    float vi = cageRefF32FromBf16(v[i]);
    adamWElement(&c, g[i], &w[i], &mi, &vi);
    uint32_t word = refBf16StateWord(seed, (uint64_t)i);
    m[i] = refBf16RoundStochastic(mi, (uint16_t)word);
    v[i] = refBf16RoundStochastic(vi, (uint16_t)(word >> 16));
  }
  return CageRefOk;
}

int cageRefSgdBf16State(const CageRefSgd *opt, int64_t n, float *w,
                        const float *g, uint16_t *b, float lr, uint64_t seed) {
  int status = checkSgdCall(opt, n, w, g, b, lr);
  if (status != CageRefOk)
    return status;
  if (opt->momentum == 0.0f) {
    /* b is neither read nor written: the f32 step without momentum. */
    for (int64_t i = 0; i < n; ++i)
      sgdElement(opt, lr, g[i], &w[i], NULL);
    return CageRefOk;
  }
  for (int64_t i = 0; i < n; ++i) {
    float bi = cageRefF32FromBf16(b[i]);
    sgdElement(opt, lr, g[i], &w[i], &bi);
    b[i] = refBf16RoundStochastic(
        bi, (uint16_t)refBf16StateWord(seed, (uint64_t)i));
  }
  return CageRefOk;
}

/*===----------------------------------------------------------------------===*
 * The CAGE update
 *===----------------------------------------------------------------------===*/

/* The checks common to both updates, done before anything is written. */
static int checkUpdate(const CageRefQuantizer *q, CageErrorMode error,
                       CageCoupling coupling, int64_t rank, const int64_t *dims,
                       const float *w, const float *g, float lr, float lambdaT,
                       int64_t *numel) {
  int status = refCheckQuantizer(q, rank, dims, numel);
  if (status != CageRefOk)
    return status;
  if (!w || !g)
    return CageRefErrorNull;
  if (q->rounding != CageRoundingNearest || q->scale == CageScaleKindOperand)
    return CageRefErrorQuantizer;
  if ((int)error != CageErrorModeKeep && (int)error != CageErrorModeZeroClipped)
    return CageRefErrorArgument;
  if ((int)coupling != CageCouplingCoupled &&
      (int)coupling != CageCouplingDecoupled)
    return CageRefErrorArgument;
  if (!isfinite(lr) || !isfinite(lambdaT))
    return CageRefErrorArgument;
  return CageRefOk;
}

/* The corrected gradient of the coupled form: g' = g + lambda_t * e. */
static float *coupledGradient(const float *g, const float *e, int64_t numel,
                              float lambdaT) {
  float *corrected = refAllocFloats(numel);
  if (!corrected)
    return NULL;
  for (int64_t i = 0; i < numel; ++i)
    corrected[i] = g[i] + lambdaT * e[i];
  return corrected;
}

/* The decoupled correction after the step: w <- w - (lr * lambda_t) * e. */
static void decoupledCorrection(float *w, const float *e, int64_t numel,
                                float lr, float lambdaT) {
  float c = lr * lambdaT;
  for (int64_t i = 0; i < numel; ++i)
    w[i] = w[i] - c * e[i];
}

/* One plain optimizer step of w with the gradient g, its options and state
 * in `step`. */
typedef int (*OptimizerStep)(const void *step, int64_t numel, float *w,
                             const float *g, float lr);

typedef struct AdamWStep {
  const CageRefAdamW *opt;
  float *m, *v;
  int64_t t;
} AdamWStep;

static int adamWStep(const void *step, int64_t numel, float *w, const float *g,
                     float lr) {
  const AdamWStep *s = step;
  return cageRefAdamW(s->opt, numel, w, g, s->m, s->v, lr, s->t);
}

typedef struct AdamWBf16Step {
  const CageRefAdamW *opt;
  uint16_t *m, *v;
  int64_t t;
  uint64_t seed;
} AdamWBf16Step;

static int adamWBf16Step(const void *step, int64_t numel, float *w,
                         const float *g, float lr) {
  const AdamWBf16Step *s = step;
  return cageRefAdamWBf16State(s->opt, numel, w, g, s->m, s->v, lr, s->t,
                               s->seed);
}

typedef struct SgdStep {
  const CageRefSgd *opt;
  float *b;
} SgdStep;

static int sgdStep(const void *step, int64_t numel, float *w, const float *g,
                   float lr) {
  const SgdStep *s = step;
  return cageRefSgd(s->opt, numel, w, g, s->b, lr);
}

typedef struct SgdBf16Step {
  const CageRefSgd *opt;
  uint16_t *b;
  uint64_t seed;
} SgdBf16Step;

static int sgdBf16Step(const void *step, int64_t numel, float *w,
                       const float *g, float lr) {
  const SgdBf16Step *s = step;
  return cageRefSgdBf16State(s->opt, numel, w, g, s->b, lr, s->seed);
}

/* 1.3: e = w - Q(w) from w as given (before weight decay), then the
 * optimizer step coupled (with g + lambda_t * e) or decoupled (with g, then
 * w <- w - (lr lambda_t) e). The correction is applied whatever lambda_t is:
 * with lambda_t = 0 this is the plain step except for the sign of zero
 * results and where w is not finite (e is then NaN). */
static int correctedStep(const CageRefQuantizer *q, CageErrorMode error,
                         CageCoupling coupling, int64_t rank,
                         const int64_t *dims, int64_t numel, float *w,
                         const float *g, float lr, float lambdaT,
                         OptimizerStep stepFn, const void *step) {
  float *e = refAllocFloats(numel);
  if (!e)
    return CageRefErrorMemory;
  int status = cageRefQuantError(q, error, rank, dims, w, e);
  if (status != CageRefOk) {
    free(e);
    return status;
  }
  if (coupling == CageCouplingCoupled) {
    /* coupled: g <- g + lambda_t * e, then the optimizer step. */
    float *corrected = coupledGradient(g, e, numel, lambdaT);
    if (!corrected) {
      free(e);
      return CageRefErrorMemory;
    }
    status = stepFn(step, numel, w, corrected, lr);
    free(corrected);
  } else {
    /* decoupled: the optimizer step with g, then w <- w - (lr lambda_t) e. */
    status = stepFn(step, numel, w, g, lr);
    if (status == CageRefOk)
      decoupledCorrection(w, e, numel, lr, lambdaT);
  }
  free(e);
  return status;
}

/* The checks of cageRefUpdateAdamW and cageRefUpdateAdamWBf16State, in this
 * order; sets *numel. */
static int checkUpdateAdamW(const CageRefQuantizer *q, CageErrorMode error,
                            CageCoupling coupling, const CageRefAdamW *opt,
                            int64_t rank, const int64_t *dims, const float *w,
                            const float *g, const void *m, const void *v,
                            float lr, float lambdaT, int64_t t,
                            int64_t *numel) {
  int status =
      checkUpdate(q, error, coupling, rank, dims, w, g, lr, lambdaT, numel);
  if (status != CageRefOk)
    return status;
  status = checkAdamW(opt);
  if (status != CageRefOk)
    return status;
  if (!m || !v)
    return CageRefErrorNull;
  if (t < 1)
    return CageRefErrorArgument;
  return CageRefOk;
}

/* The checks of cageRefUpdateSgd and cageRefUpdateSgdBf16State, in this
 * order; sets *numel. */
static int checkUpdateSgd(const CageRefQuantizer *q, CageErrorMode error,
                          CageCoupling coupling, const CageRefSgd *opt,
                          int64_t rank, const int64_t *dims, const float *w,
                          const float *g, const void *b, float lr,
                          float lambdaT, int64_t *numel) {
  int status =
      checkUpdate(q, error, coupling, rank, dims, w, g, lr, lambdaT, numel);
  if (status != CageRefOk)
    return status;
  status = checkSgd(opt);
  if (status != CageRefOk)
    return status;
  if (opt->momentum != 0.0f && !b)
    return CageRefErrorNull;
  return CageRefOk;
}

int cageRefUpdateAdamW(const CageRefQuantizer *q, CageErrorMode error,
                       CageCoupling coupling, const CageRefAdamW *opt,
                       int64_t rank, const int64_t *dims, float *w,
                       const float *g, float *m, float *v, float lr,
                       float lambdaT, int64_t t) {
  int64_t numel;
  int status = checkUpdateAdamW(q, error, coupling, opt, rank, dims, w, g, m, v,
                                lr, lambdaT, t, &numel);
  if (status != CageRefOk)
    return status;
  AdamWStep step = {opt, m, v, t};
  return correctedStep(q, error, coupling, rank, dims, numel, w, g, lr, lambdaT,
                       adamWStep, &step);
}

int cageRefUpdateSgd(const CageRefQuantizer *q, CageErrorMode error,
                     CageCoupling coupling, const CageRefSgd *opt, int64_t rank,
                     const int64_t *dims, float *w, const float *g, float *b,
                     float lr, float lambdaT) {
  int64_t numel;
  int status = checkUpdateSgd(q, error, coupling, opt, rank, dims, w, g, b, lr,
                              lambdaT, &numel);
  if (status != CageRefOk)
    return status;
  SgdStep step = {opt, b};
  return correctedStep(q, error, coupling, rank, dims, numel, w, g, lr, lambdaT,
                       sgdStep, &step);
}

int cageRefUpdateAdamWBf16State(const CageRefQuantizer *q, CageErrorMode error,
                                CageCoupling coupling, const CageRefAdamW *opt,
                                int64_t rank, const int64_t *dims, float *w,
                                const float *g, uint16_t *m, uint16_t *v,
                                float lr, float lambdaT, int64_t t,
                                uint64_t seed) {
  int64_t numel;
  int status = checkUpdateAdamW(q, error, coupling, opt, rank, dims, w, g, m, v,
                                lr, lambdaT, t, &numel);
  if (status != CageRefOk)
    return status;
  AdamWBf16Step step = {opt, m, v, t, seed};
  return correctedStep(q, error, coupling, rank, dims, numel, w, g, lr, lambdaT,
                       adamWBf16Step, &step);
}

int cageRefUpdateSgdBf16State(const CageRefQuantizer *q, CageErrorMode error,
                              CageCoupling coupling, const CageRefSgd *opt,
                              int64_t rank, const int64_t *dims, float *w,
                              const float *g, uint16_t *b, float lr,
                              float lambdaT, uint64_t seed) {
  int64_t numel;
  int status = checkUpdateSgd(q, error, coupling, opt, rank, dims, w, g, b, lr,
                              lambdaT, &numel);
  if (status != CageRefOk)
    return status;
  SgdBf16Step step = {opt, b, seed};
  return correctedStep(q, error, coupling, rank, dims, numel, w, g, lr, lambdaT,
                       sgdBf16Step, &step);
}
