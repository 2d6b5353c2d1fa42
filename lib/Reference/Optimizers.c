/*===- Optimizers.c - lambda schedule, AdamW, SGD and the CAGE update -----===*\
|*                                                                            *|
|* DESIGN.md section 1.3, in f32, in the operation order written there (and  *|
|* in Reference.h).                                                          *|
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
 * AdamW and SGD
 *===----------------------------------------------------------------------===*/

int cageRefAdamW(const CageRefAdamW *opt, int64_t n, float *w, const float *g,
                 float *m, float *v, float lr, int64_t t) {
  int status = checkAdamW(opt);
  if (status != CageRefOk)
    return status;
  if (!w || !g || !m || !v)
    return CageRefErrorNull;
  if (n < 0 || !isfinite(lr) || t < 1)
    return CageRefErrorArgument;
  float beta1 = opt->beta1, beta2 = opt->beta2;
  /* 1.3: the bias corrections 1 - beta^t, in f32, beta^t = powf(beta, t). */
  float correction1 = 1.0f - powf(beta1, (float)t);
  float correction2 = 1.0f - powf(beta2, (float)t);
  /* 1.3: the decay factor 1 - lr * wd, in f32. */
  float decay = 1.0f - lr * opt->weightDecay;
  for (int64_t i = 0; i < n; ++i) {
    float gi = g[i];
    /* w <- w * (1 - lr * wd) */
    float wi = w[i] * decay;
    /* m <- beta1 * m + (1 - beta1) * g */
    float mi = beta1 * m[i] + (1.0f - beta1) * gi;
    /* v <- beta2 * v + (1 - beta2) * g^2 */
    float vi = beta2 * v[i] + (1.0f - beta2) * (gi * gi);
    /* mhat = m / (1 - beta1^t), vhat = v / (1 - beta2^t) */
    float mhat = mi / correction1;
    float vhat = vi / correction2;
    /* w <- w - lr * mhat / (sqrt(vhat) + eps) */
    wi = wi - (lr * mhat) / (sqrtf(vhat) + opt->eps);
    w[i] = wi;
    m[i] = mi;
    v[i] = vi;
  }
  return CageRefOk;
}

int cageRefSgd(const CageRefSgd *opt, int64_t n, float *w, const float *g,
               float *b, float lr) {
  int status = checkSgd(opt);
  if (status != CageRefOk)
    return status;
  int useMomentum = opt->momentum != 0.0f;
  if (!w || !g || (useMomentum && !b))
    return CageRefErrorNull;
  if (n < 0 || !isfinite(lr))
    return CageRefErrorArgument;
  float mu = opt->momentum;
  for (int64_t i = 0; i < n; ++i) {
    float gi = g[i];
    /* g <- g + wd * w (skipped when wd = 0, as torch does) */
    if (opt->weightDecay != 0.0f)
      gi = gi + opt->weightDecay * w[i];
    float d = gi;
    if (useMomentum) {
      /* b <- mu * b + (1 - dampening) * g, from b = 0 on the first step */
      float bi = mu * b[i] + (1.0f - opt->dampening) * gi;
      /* d = nesterov ? g + mu * b : b */
      d = opt->nesterov ? gi + mu * bi : bi;
      b[i] = bi;
    }
    /* w <- w - lr * d */
    w[i] = w[i] - lr * d;
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

typedef struct SgdStep {
  const CageRefSgd *opt;
  float *b;
} SgdStep;

static int sgdStep(const void *step, int64_t numel, float *w, const float *g,
                   float lr) {
  const SgdStep *s = step;
  return cageRefSgd(s->opt, numel, w, g, s->b, lr);
}

/* 1.3 for lambda_t != 0: e = w - Q(w) from w as given, then the optimizer
 * step coupled (with g + lambda_t * e) or decoupled (with g, then
 * w <- w - (lr lambda_t) e). */
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

int cageRefUpdateAdamW(const CageRefQuantizer *q, CageErrorMode error,
                       CageCoupling coupling, const CageRefAdamW *opt,
                       int64_t rank, const int64_t *dims, float *w,
                       const float *g, float *m, float *v, float lr,
                       float lambdaT, int64_t t) {
  int64_t numel;
  int status =
      checkUpdate(q, error, coupling, rank, dims, w, g, lr, lambdaT, &numel);
  if (status != CageRefOk)
    return status;
  status = checkAdamW(opt);
  if (status != CageRefOk)
    return status;
  if (!m || !v)
    return CageRefErrorNull;
  if (t < 1)
    return CageRefErrorArgument;
  /* 1.3: with lambda_t = 0, exactly the plain optimizer step. */
  if (lambdaT == 0.0f)
    return cageRefAdamW(opt, numel, w, g, m, v, lr, t);
  /* 1.3: e from w before weight decay. */
  AdamWStep step = {opt, m, v, t};
  return correctedStep(q, error, coupling, rank, dims, numel, w, g, lr, lambdaT,
                       adamWStep, &step);
}

int cageRefUpdateSgd(const CageRefQuantizer *q, CageErrorMode error,
                     CageCoupling coupling, const CageRefSgd *opt, int64_t rank,
                     const int64_t *dims, float *w, const float *g, float *b,
                     float lr, float lambdaT) {
  int64_t numel;
  int status =
      checkUpdate(q, error, coupling, rank, dims, w, g, lr, lambdaT, &numel);
  if (status != CageRefOk)
    return status;
  status = checkSgd(opt);
  if (status != CageRefOk)
    return status;
  if (opt->momentum != 0.0f && !b)
    return CageRefErrorNull;
  /* 1.3: with lambda_t = 0, exactly the plain optimizer step. */
  if (lambdaT == 0.0f)
    return cageRefSgd(opt, numel, w, g, b, lr);
  SgdStep step = {opt, b};
  return correctedStep(q, error, coupling, rank, dims, numel, w, g, lr, lambdaT,
                       sgdStep, &step);
}
