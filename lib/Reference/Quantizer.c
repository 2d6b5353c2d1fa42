/*===- Quantizer.c - The quantizer Q, its masks and quant_error -----------===*\
|*                                                                            *|
|* docs/Semantics.md §1.1 (clip values, grids, rotation), the clipped masks  *|
|* of 1.1/1.2 and quant_error of 1.3. Orders and precisions: Reference.h.    *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#include "Reference/Internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/*===----------------------------------------------------------------------===*
 * Scalars
 *===----------------------------------------------------------------------===*/

/* 1.1 int: qmax = 2^(b-1) - 1 and qmin = -2^(b-1), exact in f32. */
static float intQmax(int64_t bits) {
  return (float)((INT64_C(1) << (bits - 1)) - 1);
}
static float intQmin(int64_t bits) {
  return -(float)(INT64_C(1) << (bits - 1));
}

/* 1.1 centered: 2^b - 1, the number of steps between the 2^b levels. */
static float centeredSteps(int64_t bits) {
  return (float)((INT64_C(1) << bits) - 1);
}

/* 1.1 rms_gaussian: c_b for b = 1..8 (index b - 1), as f32 constants. */
static const float kGaussianClip[8] = {0.79788f, 1.49353f, 2.05107f, 2.51393f,
                                       2.91609f, 3.27660f, 3.60105f, 3.88494f};

/* clamp(v, lo, hi) for lo <= hi. */
static float clampFloat(float v, float lo, float hi) {
  if (v < lo)
    return lo;
  if (v > hi)
    return hi;
  return v;
}

/* rnd: round half to even (rintf in the default rounding mode), or the
 * stochastic rounding of 1.4 keyed by (seed, index). */
static float roundWith(CageRounding rounding, float y, uint64_t seed,
                       uint64_t index) {
  if (rounding == CageRoundingStochastic)
    return cageRefRoundStochastic(y, seed, index);
  return rintf(y);
}

/* 1.1 int: s = alpha / qmax; q(x) = clamp(rnd(x / s), qmin, qmax) * s. */
static float gridInt(int64_t bits, CageRounding rounding, float x, float alpha,
                     uint64_t seed, uint64_t index) {
  float qmax = intQmax(bits);
  float qmin = intQmin(bits);
  float s = alpha / qmax;
  float z = x / s;
  float r = clampFloat(roundWith(rounding, z, seed, index), qmin, qmax);
  return r * s;
}

/* 1.1 centered: step = 2 alpha / (2^b - 1);
 * q(x) = (clamp(rnd(clamp(x, -alpha, alpha) / step + 1/2), 1 - 2^(b-1),
 *               2^(b-1)) - 1/2) * step.
 * The level clamp only matters with stochastic rounding: the f32 rounding of
 * alpha / step can put y just below the lowest level, and rnd then one
 * level under it. */
static float gridCentered(int64_t bits, CageRounding rounding, float x,
                          float alpha, uint64_t seed, uint64_t index) {
  float step = (2.0f * alpha) / centeredSteps(bits);
  float c = clampFloat(x, -alpha, alpha);
  float y = c / step + 0.5f;
  float top = (float)(INT64_C(1) << (bits - 1));
  float r = clampFloat(roundWith(rounding, y, seed, index), 1.0f - top, top);
  return (r - 0.5f) * step;
}

float refGridValue(const CageRefQuantizer *q, CageRounding rounding, float x,
                   float alpha, uint64_t seed, uint64_t index) {
  if (q->levels == CageLevelsCentered)
    return gridCentered(q->bits, rounding, x, alpha, seed, index);
  return gridInt(q->bits, rounding, x, alpha, seed, index);
}

float refGridStep(const CageRefQuantizer *q, float alpha) {
  /* The spacing of the levels: centered's step, int's s = alpha / qmax. */
  if (q->levels == CageLevelsCentered)
    return (2.0f * alpha) / centeredSteps(q->bits);
  return alpha / intQmax(q->bits);
}

int refIsClipped(const CageRefQuantizer *q, float x, float alpha) {
  if (q->levels == CageLevelsCentered) {
    /* 1.1 centered: clipped means |x| > alpha. */
    return fabsf(x) > alpha;
  }
  /* 1.1 int: clipped means rint(x / s) is outside [qmin, qmax], judged with
   * round half to even whatever the rounding mode. */
  float s = alpha / intQmax(q->bits);
  float r = rintf(x / s);
  return r < intQmin(q->bits) || r > intQmax(q->bits);
}

/*===----------------------------------------------------------------------===*
 * Clip values
 *===----------------------------------------------------------------------===*/

/* 1.1 absmax: alpha = max(max |x|, 1e-8) over xr[0 .. count). */
static float clipAbsmax(const float *xr, int64_t count) {
  float m = 0.0f;
  for (int64_t i = 0; i < count; ++i) {
    float a = fabsf(xr[i]);
    m = a > m ? a : m;
  }
  return m > 1e-8f ? m : 1e-8f;
}

/* 1.1 rms_gaussian: alpha = c_b * sqrt(mean(x^2)) + 1e-8 over xr[0 .. count):
 * the squares (exact in double) summed in double in index order from +0.0,
 * the mean sum / count formed in double and rounded to f32, then sqrtf, the
 * product with c_b and the sum with 1e-8 in f32. */
static float clipRmsGaussian(const float *xr, int64_t count, int64_t bits) {
  double sum = 0.0;
  for (int64_t i = 0; i < count; ++i)
    sum += (double)xr[i] * (double)xr[i];
  float mean = (float)(sum / (double)count);
  float root = sqrtf(mean);
  float scaled = kGaussianClip[bits - 1] * root;
  return scaled + 1e-8f;
}

void refClipValuesOf(const CageRefQuantizer *q, int64_t rank,
                     const int64_t *dims, const float *xr, float *alpha) {
  int64_t groups = refGroupCount(q, rank, dims);
  int64_t elements = refGroupElements(q, rank, dims);
  for (int64_t g = 0; g < groups; ++g) {
    const float *group = xr + g * elements;
    if (q->scale == CageScaleKindRmsGaussian)
      alpha[g] = clipRmsGaussian(group, elements, q->bits);
    else
      alpha[g] = clipAbsmax(group, elements);
  }
}

int refPrepare(const CageRefQuantizer *q, int64_t rank, const int64_t *dims,
               int64_t numel, const float *x, const float *alpha, float **xr,
               float **alphaOut) {
  int64_t groups = refGroupCount(q, rank, dims);
  float *rotated = refAllocFloats(numel);
  float *clip = refAllocFloats(groups);
  if (!rotated || !clip) {
    free(rotated);
    free(clip);
    return CageRefErrorMemory;
  }
  /* 1.1 Rotation: everything is judged on x * H. */
  memcpy(rotated, x, (size_t)numel * sizeof(float));
  if (q->rotation == CageRotationHadamard)
    refHadamardInPlace(rotated, numel, q->block);
  /* 1.1: alpha from the operand, or found on the rotated values. */
  if (q->scale == CageScaleKindOperand)
    memcpy(clip, alpha, (size_t)groups * sizeof(float));
  else
    refClipValuesOf(q, rank, dims, rotated, clip);
  *xr = rotated;
  *alphaOut = clip;
  return CageRefOk;
}

int cageRefClipValues(const CageRefQuantizer *q, int64_t rank,
                      const int64_t *dims, const float *x, float *alpha) {
  int64_t numel;
  int status = refCheckQuantizer(q, rank, dims, &numel);
  if (status != CageRefOk)
    return status;
  if (!x || !alpha)
    return CageRefErrorNull;
  if (q->scale == CageScaleKindOperand)
    return CageRefErrorQuantizer;
  float *xr, *clip;
  status = refPrepare(q, rank, dims, numel, x, NULL, &xr, &clip);
  if (status != CageRefOk)
    return status;
  memcpy(alpha, clip, (size_t)refGroupCount(q, rank, dims) * sizeof(float));
  free(xr);
  free(clip);
  return CageRefOk;
}

/*===----------------------------------------------------------------------===*
 * Q, masks, quant_error
 *===----------------------------------------------------------------------===*/

/* The checks of an op on x with an optional alpha operand and a result
 * `out`, then refPrepare: x * H in *xr and the clip values in *clip. */
static int checkAndPrepare(const CageRefQuantizer *q, int64_t rank,
                           const int64_t *dims, const float *x,
                           const float *alpha, const void *out, int64_t *numel,
                           float **xr, float **clip) {
  int status = refCheckQuantizer(q, rank, dims, numel);
  if (status != CageRefOk)
    return status;
  if (!x || !out)
    return CageRefErrorNull;
  status = refCheckAlphaOperand(q, rank, dims, alpha);
  if (status != CageRefOk)
    return status;
  return refPrepare(q, rank, dims, *numel, x, alpha, xr, clip);
}

int cageRefQuantize(const CageRefQuantizer *q, int64_t rank,
                    const int64_t *dims, const float *x, const float *alpha,
                    uint64_t seed, float *y) {
  int64_t numel;
  float *xr, *clip;
  int status = checkAndPrepare(q, rank, dims, x, alpha, y, &numel, &xr, &clip);
  if (status != CageRefOk)
    return status;
  /* q(x * H), element by element with its group's alpha; the stochastic
   * stream is indexed by the element's linear index. */
  int64_t groups = refGroupCount(q, rank, dims);
  int64_t elements = refGroupElements(q, rank, dims);
  for (int64_t g = 0; g < groups; ++g)
    for (int64_t i = g * elements; i < (g + 1) * elements; ++i)
      xr[i] = refGridValue(q, q->rounding, xr[i], clip[g], seed, (uint64_t)i);
  /* Q(x) = q(x * H) * H. */
  if (q->rotation == CageRotationHadamard)
    refHadamardInPlace(xr, numel, q->block);
  memcpy(y, xr, (size_t)numel * sizeof(float));
  free(xr);
  free(clip);
  return CageRefOk;
}

int cageRefClippedMask(const CageRefQuantizer *q, int64_t rank,
                       const int64_t *dims, const float *x, const float *alpha,
                       unsigned char *clipped) {
  int64_t numel;
  float *xr, *clip;
  int status =
      checkAndPrepare(q, rank, dims, x, alpha, clipped, &numel, &xr, &clip);
  if (status != CageRefOk)
    return status;
  int64_t groups = refGroupCount(q, rank, dims);
  int64_t elements = refGroupElements(q, rank, dims);
  for (int64_t g = 0; g < groups; ++g)
    for (int64_t i = g * elements; i < (g + 1) * elements; ++i)
      clipped[i] = (unsigned char)(refIsClipped(q, xr[i], clip[g]) ? 1 : 0);
  free(xr);
  free(clip);
  return CageRefOk;
}

int cageRefQuantError(const CageRefQuantizer *q, CageErrorMode error,
                      int64_t rank, const int64_t *dims, const float *w,
                      float *e) {
  int64_t numel;
  int status = refCheckQuantizer(q, rank, dims, &numel);
  if (status != CageRefOk)
    return status;
  if (!w || !e)
    return CageRefErrorNull;
  if ((int)error != CageErrorModeKeep && (int)error != CageErrorModeZeroClipped)
    return CageRefErrorArgument;
  /* cage.quant_error has neither a seed nor a scale operand. */
  if (q->rounding != CageRoundingNearest || q->scale == CageScaleKindOperand)
    return CageRefErrorQuantizer;

  float *wr, *clip;
  status = refPrepare(q, rank, dims, numel, w, NULL, &wr, &clip);
  if (status != CageRefOk)
    return status;
  int64_t groups = refGroupCount(q, rank, dims);
  int64_t elements = refGroupElements(q, rank, dims);
  int rotate = q->rotation == CageRotationHadamard;
  if (error == CageErrorModeKeep) {
    /* 1.3: e = w - Q(w), Q(w) = q(w * H) * H. */
    for (int64_t g = 0; g < groups; ++g)
      for (int64_t i = g * elements; i < (g + 1) * elements; ++i)
        wr[i] = refGridValue(q, CageRoundingNearest, wr[i], clip[g], 0, 0);
    if (rotate)
      refHadamardInPlace(wr, numel, q->block); /* wr = Q(w) */
    for (int64_t i = 0; i < numel; ++i)
      wr[i] = w[i] - wr[i];
  } else {
    /* 1.3 zero_clipped: e = 0 where w is clipped, else w - Q(w); with
     * rotation e = ((w*H - q(w*H)) (.) not_clipped(w*H)) * H. Without
     * rotation wr is w itself, so both are the loop below. */
    for (int64_t g = 0; g < groups; ++g) {
      for (int64_t i = g * elements; i < (g + 1) * elements; ++i) {
        float quantized =
            refGridValue(q, CageRoundingNearest, wr[i], clip[g], 0, 0);
        float difference = wr[i] - quantized;
        wr[i] = refIsClipped(q, wr[i], clip[g]) ? 0.0f : difference;
      }
    }
    if (rotate)
      refHadamardInPlace(wr, numel, q->block);
  }
  memcpy(e, wr, (size_t)numel * sizeof(float));
  free(wr);
  free(clip);
  return CageRefOk;
}
