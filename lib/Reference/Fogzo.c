/*===- Fogzo.c - First-order-guided zeroth-order gradients ----------------===*\
|*                                                                            *|
|* docs/Semantics.md §1.6: the finite-difference estimate of the loss along  *|
|* a mix of the normalized STE gradient and Philox noise. Orders and         *|
|* precisions: Reference.h, "FOGZO (section 1.6)".                            *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#include "Reference/Internal.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The f32 nearest sqrt(3) = 1.7320508075...: 1.73205078f. */
static const float kSqrt3 = 0x1.bb67aep+0f;

/* The sign's counter word 2: no parameter index of P reaches it. */
static const uint32_t kSignCounter = UINT32_C(0xFFFFFFFF);

/* A bound on the total element count of P, as refCheckShape's per tensor. */
static const int64_t kMaxTotal = INT64_C(1) << 40;

/*===----------------------------------------------------------------------===*
 * Random numbers
 *===----------------------------------------------------------------------===*/

/* Philox4x32-10 with 1.4's key = (seed low 32, seed high 32) and the given
 * counter words. */
static void fogzoWords(uint64_t seed, uint32_t c0, uint32_t c1, uint32_t c2,
                       uint32_t c3, uint32_t out[4]) {
  const uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
  const uint32_t counter[4] = {c0, c1, c2, c3};
  cageRefPhilox4x32(counter, key, out);
}

float cageRefFogzoSign(uint64_t seed, int64_t t) {
  /* 1.6 step 3: counter = (0, 0, 0xFFFFFFFF, t low 32). */
  uint32_t out[4];
  fogzoWords(seed, 0, 0, kSignCounter, (uint32_t)t, out);
  return (out[0] & 1u) == 0 ? 1.0f : -1.0f;
}

float cageRefFogzoNoise(uint64_t seed, int64_t t, int64_t param,
                        int64_t index) {
  /* 1.6 step 4: counter = (i low 32, i high 32, p, t low 32). */
  uint64_t i = (uint64_t)index;
  uint32_t out[4];
  fogzoWords(seed, (uint32_t)i, (uint32_t)(i >> 32), (uint32_t)param,
             (uint32_t)t, out);
  /* a is a 24-bit integer times 2^-24 (exact); 2a - 1 is a multiple of
   * 2^-23 in [-1, 1) (exact); the product with sqrt(3) rounds once. */
  float a = (float)(out[0] >> 8) * 0x1p-24f;
  return ((2.0f * a) - 1.0f) * kSqrt3;
}

/*===----------------------------------------------------------------------===*
 * Argument checks
 *===----------------------------------------------------------------------===*/

static int checkSettings(const CageRefFogzo *s) {
  if (!isfinite(s->betaMin) || !isfinite(s->start) || !isfinite(s->epsilon))
    return CageRefErrorArgument;
  if (!(s->betaMin >= 0.0f && s->betaMin <= 1.0f) ||
      !(s->start >= 0.0f && s->start < 1.0f) || !(s->epsilon >= 0.0f))
    return CageRefErrorArgument;
  if (s->direction != CageFogzoDirectionUnitNorm &&
      s->direction != CageFogzoDirectionUnitRms)
    return CageRefErrorArgument;
  return CageRefOk;
}

/* Checks numParams and every parameter (g only when needGradient); sets the
 * total element count and whether any parameter is quantized. */
static int checkParams(int64_t numParams, const CageRefFogzoParam *params,
                       int needGradient, int64_t *total, int *anyQuantized) {
  if (numParams < 1)
    return CageRefErrorArgument;
  if (!params)
    return CageRefErrorNull;
  int64_t count = 0;
  int quantized = 0;
  for (int64_t k = 0; k < numParams; ++k) {
    const CageRefFogzoParam *p = &params[k];
    int64_t numel;
    int status = refCheckShape(p->rank, p->dims, &numel);
    if (status != CageRefOk)
      return status;
    if (!p->w || (needGradient && !p->g))
      return CageRefErrorNull;
    if (p->q) {
      status = refCheckQuantizer(p->q, p->rank, p->dims, &numel);
      if (status != CageRefOk)
        return status;
      /* The clip values come from w itself, without a seed. */
      if (p->q->rounding != CageRoundingNearest ||
          p->q->scale == CageScaleKindOperand)
        return CageRefErrorQuantizer;
      quantized = 1;
    }
    /* Each numel <= 2^40, so the sum cannot overflow before the check. */
    count += numel;
    if (count > kMaxTotal || (uint64_t)count > SIZE_MAX / (8 * sizeof(float)))
      return CageRefErrorShape;
  }
  *total = count;
  *anyQuantized = quantized;
  return CageRefOk;
}

/*===----------------------------------------------------------------------===*
 * The mean quantization step h
 *===----------------------------------------------------------------------===*/

/* h over the quantized parameters of a checked P (at least one). */
static int meanStep(int64_t numParams, const CageRefFogzoParam *params,
                    double *h) {
  double sum = 0.0;
  int64_t count = 0;
  for (int64_t k = 0; k < numParams; ++k) {
    const CageRefFogzoParam *p = &params[k];
    if (!p->q)
      continue;
    int64_t numel;
    refCheckShape(p->rank, p->dims, &numel); /* checked: sets numel */
    /* The clip values exactly as cage.quantize finds them (rotation
     * included). */
    float *wr, *clip;
    int status =
        refPrepare(p->q, p->rank, p->dims, numel, p->w, NULL, &wr, &clip);
    if (status != CageRefOk)
      return status;
    int64_t groups = refGroupCount(p->q, p->rank, p->dims);
    int64_t elements = refGroupElements(p->q, p->rank, p->dims);
    for (int64_t g = 0; g < groups; ++g)
      sum += (double)elements * (double)refGridStep(p->q, clip[g]);
    count += numel;
    free(wr);
    free(clip);
  }
  *h = sum / (double)count;
  return CageRefOk;
}

int cageRefFogzoStep(int64_t numParams, const CageRefFogzoParam *params,
                     double *h) {
  int64_t total;
  int anyQuantized;
  int status = checkParams(numParams, params, 0, &total, &anyQuantized);
  if (status != CageRefOk)
    return status;
  if (!h)
    return CageRefErrorNull;
  if (!anyQuantized)
    return CageRefErrorArgument;
  double result;
  status = meanStep(numParams, params, &result);
  if (status != CageRefOk)
    return status;
  *h = result;
  return CageRefOk;
}

/*===----------------------------------------------------------------------===*
 * The estimate
 *===----------------------------------------------------------------------===*/

static int64_t paramNumel(const CageRefFogzoParam *p) {
  int64_t numel;
  refCheckShape(p->rank, p->dims, &numel); /* checked: sets numel */
  return numel;
}

int cageRefFogzo(const CageRefFogzo *s, int64_t t, int64_t T, int64_t numParams,
                 const CageRefFogzoParam *params, CageRefFogzoLoss loss,
                 void *context, float *const *G, CageRefFogzoTrace *trace) {
  if (!s || !loss || !G)
    return CageRefErrorNull;
  int status = checkSettings(s);
  if (status != CageRefOk)
    return status;
  if (t < 1 || T < 1)
    return CageRefErrorArgument;
  int64_t total;
  int anyQuantized;
  status = checkParams(numParams, params, 1, &total, &anyQuantized);
  if (status != CageRefOk)
    return status;
  for (int64_t k = 0; k < numParams; ++k)
    if (!G[k])
      return CageRefErrorNull;
  if (s->epsilon == 0.0f && !anyQuantized)
    return CageRefErrorArgument;

  /* Everything is computed into `out` (numel of every parameter, in order)
   * and copied to G at the end, so G may alias any input. */
  CageRefFogzoTrace result;
  memset(&result, 0, sizeof result);
  float *out = refAllocFloats(total);
  if (!out)
    return CageRefErrorMemory;

  /* 1.6 step 2: r = min(t / T, 1) in f32; active iff r > start. */
  float r = (float)t / (float)T;
  r = r < 1.0f ? r : 1.0f;
  if (!(r > s->start)) {
    int64_t offset = 0;
    for (int64_t k = 0; k < numParams; ++k) {
      int64_t numel = paramNumel(&params[k]);
      memcpy(out + offset, params[k].g, (size_t)numel * sizeof(float));
      offset += numel;
    }
  } else {
    float *probe = refAllocFloats(total);
    const float **probes =
        (const float **)malloc((size_t)numParams * sizeof(const float *));
    if (!probe || !probes) {
      free(out);
      free(probe);
      free(probes);
      return CageRefErrorMemory;
    }

    /* 1.6 step 1: the norm of all of g, in double, parameters in order. */
    double sum = 0.0;
    for (int64_t k = 0; k < numParams; ++k) {
      int64_t numel = paramNumel(&params[k]);
      for (int64_t i = 0; i < numel; ++i)
        sum += (double)params[k].g[i] * (double)params[k].g[i];
    }
    double norm = sqrt(sum);
    double divisor = norm;
    if (norm < 1e-12)
      divisor = 1.0;
    else if (s->direction == CageFogzoDirectionUnitRms)
      divisor = norm / sqrt((double)total);
    float nf = (float)divisor;

    /* Steps 2, 3: beta_t, sigma, and the two coefficients of v. */
    float beta = s->betaMin + (1.0f - s->betaMin) * (1.0f - r);
    float sigma = cageRefFogzoSign(s->seed, t);
    float cb = sqrtf(beta) * sigma;
    float cu = sqrtf(1.0f - beta);

    /* Steps 4, 5: v = cb * ghat + cu * u, into out. */
    int64_t offset = 0;
    for (int64_t k = 0; k < numParams; ++k) {
      int64_t numel = paramNumel(&params[k]);
      for (int64_t i = 0; i < numel; ++i) {
        float ghat = params[k].g[i] / nf;
        float u = cageRefFogzoNoise(s->seed, t, k, i);
        out[offset + i] = cb * ghat + cu * u;
      }
      probes[k] = probe + offset;
      offset += numel;
    }

    /* Step 6: eps given, or eps_bar * h. */
    float eps = s->epsilon;
    if (!(eps > 0.0f)) {
      double h;
      status = meanStep(numParams, params, &h);
      if (status != CageRefOk) {
        free(out);
        free(probe);
        free(probes);
        return status;
      }
      eps = (float)(h / (2.0 * sqrt(3.0)));
    }

    /* Step 7: L+ with w + eps v, then L- with w - eps v (one buffer). */
    float lossPlus = 0.0f, lossMinus = 0.0f;
    for (int sign = 0; sign < 2; ++sign) {
      offset = 0;
      for (int64_t k = 0; k < numParams; ++k) {
        int64_t numel = paramNumel(&params[k]);
        const float *w = params[k].w;
        for (int64_t i = 0; i < numel; ++i) {
          float step = eps * out[offset + i];
          probe[offset + i] = sign == 0 ? w[i] + step : w[i] - step;
        }
        offset += numel;
      }
      float value = loss(context, probes);
      if (sign == 0)
        lossPlus = value;
      else
        lossMinus = value;
    }

    /* Step 8: G = ((L+ - L-) / (2 eps)) v. */
    float scale = (lossPlus - lossMinus) / (2.0f * eps);
    for (int64_t i = 0; i < total; ++i)
      out[i] = scale * out[i];

    result.active = 1;
    result.norm = divisor;
    result.beta = beta;
    result.sigma = sigma;
    result.epsilon = eps;
    result.lossPlus = lossPlus;
    result.lossMinus = lossMinus;
    result.scale = scale;
    free(probe);
    free(probes);
  }

  int64_t offset = 0;
  for (int64_t k = 0; k < numParams; ++k) {
    int64_t numel = paramNumel(&params[k]);
    memcpy(G[k], out + offset, (size_t)numel * sizeof(float));
    offset += numel;
  }
  if (trace)
    *trace = result;
  free(out);
  return CageRefOk;
}
