/*===- Ste.c - Straight-through estimators and the LSQ gradient -----------===*\
|*                                                                            *|
|* docs/Semantics.md §1.2: dx from dy (identity or clipped, with the        *|
|* rotation sandwich), and with scale = operand the LSQ gradient d alpha    *|
|* per group.                                                                *|
|* Orders and precisions: Reference.h.                                       *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#include "Reference/Internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* 1.2: qmax = 2^(b-1) - 1, for both grids (gamma and the int case). */
static int64_t lsqQmax(int64_t bits) { return (INT64_C(1) << (bits - 1)) - 1; }

/* 1.2 int: with s = alpha / qmax, z = x / s, r = rint(z):
 * dq/dalpha = (r - z) / qmax where qmin <= r <= qmax, qmin / qmax where
 * r < qmin, 1 where r > qmax. */
static float lsqDerivativeInt(int64_t bits, float x, float alpha) {
  float qmax = (float)lsqQmax(bits);
  float qmin = -(float)(INT64_C(1) << (bits - 1));
  float s = alpha / qmax;
  float z = x / s;
  float r = rintf(z);
  if (r < qmin)
    return qmin / qmax;
  if (r > qmax)
    return 1.0f;
  return (r - z) / qmax;
}

/* 1.2 centered: with h = (2^b - 1) / 2 and r = rint(x * h / alpha + 1/2):
 * dq/dalpha = (r - 1/2) / h - x / alpha where |x| <= alpha, sign(x) where
 * |x| > alpha. */
static float lsqDerivativeCentered(int64_t bits, float x, float alpha) {
  if (x > alpha)
    return 1.0f;
  if (x < -alpha)
    return -1.0f;
  float h = (float)((INT64_C(1) << bits) - 1) / 2.0f;
  float r = rintf((x * h) / alpha + 0.5f);
  return (r - 0.5f) / h - x / alpha;
}

/* 1.2: d alpha = gamma * sum over the group of dy_i * dq_i/dalpha with
 * gamma = 1 / sqrt(n_group * qmax). The products of two floats are exact in
 * double; they are summed in double in index order starting from +0.0, the
 * sum rounded to f32 and multiplied by gamma in f32. */
static float lsqGradient(const CageRefQuantizer *q, const float *xr,
                         const float *dyr, int64_t count, float alpha) {
  double sum = 0.0;
  for (int64_t i = 0; i < count; ++i) {
    float derivative = q->levels == CageLevelsCentered
                           ? lsqDerivativeCentered(q->bits, xr[i], alpha)
                           : lsqDerivativeInt(q->bits, xr[i], alpha);
    sum += (double)dyr[i] * (double)derivative;
  }
  float gamma = 1.0f / sqrtf((float)(count * lsqQmax(q->bits)));
  return (float)sum * gamma;
}

int cageRefSte(const CageRefQuantizer *q, CageEstimator estimator, int64_t rank,
               const int64_t *dims, const float *dy, const float *x,
               const float *alpha, float *dx, float *dalpha) {
  int64_t numel;
  int status = refCheckQuantizer(q, rank, dims, &numel);
  if (status != CageRefOk)
    return status;
  if (!dy || !x || !dx)
    return CageRefErrorNull;
  if ((int)estimator != CageEstimatorIdentity &&
      (int)estimator != CageEstimatorClipped)
    return CageRefErrorArgument;
  status = refCheckAlphaOperand(q, rank, dims, alpha);
  if (status != CageRefOk)
    return status;
  int learned = q->scale == CageScaleKindOperand;
  if (learned != (dalpha != NULL))
    return CageRefErrorNull;

  int64_t groups = refGroupCount(q, rank, dims);
  int64_t elements = refGroupElements(q, rank, dims);
  int rotate = q->rotation == CageRotationHadamard;
  float *xr, *clip;
  status = refPrepare(q, rank, dims, numel, x, alpha, &xr, &clip);
  if (status != CageRefOk)
    return status;
  float *dyr = refAllocFloats(numel);
  float *grad = refAllocFloats(numel);
  float *dclip = refAllocFloats(groups);
  if (!dyr || !grad || !dclip) {
    free(xr);
    free(clip);
    free(dyr);
    free(grad);
    free(dclip);
    return CageRefErrorMemory;
  }
  /* dy * H: the gradient in the rotated domain. */
  memcpy(dyr, dy, (size_t)numel * sizeof(float));
  if (rotate)
    refHadamardInPlace(dyr, numel, q->block);

  if (estimator == CageEstimatorIdentity) {
    /* 1.2 identity: dx = dy (with or without rotation). */
    memcpy(grad, dy, (size_t)numel * sizeof(float));
  } else {
    /* 1.2 clipped: dx = dy (.) mask, mask = 1 where x is not clipped; with
     * rotation dx = ((dy * H) (.) mask(x * H)) * H. The product with the
     * mask is a select. */
    for (int64_t g = 0; g < groups; ++g)
      for (int64_t i = g * elements; i < (g + 1) * elements; ++i)
        grad[i] = refIsClipped(q, xr[i], clip[g]) ? 0.0f : dyr[i];
    if (rotate)
      refHadamardInPlace(grad, numel, q->block);
  }

  if (learned) {
    /* 1.2 LSQ, on x * H and dy * H with rotation. */
    for (int64_t g = 0; g < groups; ++g)
      dclip[g] = lsqGradient(q, xr + g * elements, dyr + g * elements, elements,
                             clip[g]);
  }

  memcpy(dx, grad, (size_t)numel * sizeof(float));
  if (learned)
    memcpy(dalpha, dclip, (size_t)groups * sizeof(float));
  free(xr);
  free(clip);
  free(dyr);
  free(grad);
  free(dclip);
  return CageRefOk;
}
