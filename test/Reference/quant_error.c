// RUN: cage-reference-quant_error-test 2>&1 | FileCheck %s

/*===- quant_error.c - e = w - Q(w), keep and zero_clipped ----------------===*\
|*                                                                            *|
|* docs/Semantics.md §1.3 (the error CAGE corrects), by hand.                *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#include "RefTest.h"

static void quantError(const char *label, const CageRefQuantizer *q,
                       CageErrorMode mode, int64_t rank, const int64_t *dims,
                       const float *w, int64_t n) {
  float e[64];
  if (expectOk(label, cageRefQuantError(q, mode, rank, dims, w, e)))
    printFloats(label, e, n);
}

int main(void) {
  printf("test keep\n");
  /* 4 bits over the tensor, alpha = 7, s = 1: Q(w) = [7 -4 0 2 2 -7]. */
  CageRefQuantizer q = quantizerWithBits(4);
  q.granularity = CageGranularityTensor;
  const int64_t dims[1] = {6};
  const float w[6] = {7, -3.5f, 0.5f, 1.5f, 2.5f, -7};
  quantError("keep", &q, CageErrorModeKeep, 1, dims, w, 6);
  /* Nothing is clipped with absmax: zero_clipped is keep. */
  quantError("zero_clipped", &q, CageErrorModeZeroClipped, 1, dims, w, 6);
  // CHECK-LABEL: test keep
  // CHECK-NEXT: keep: 0 0.5 0.5 -0.5 0.5 0
  // CHECK-NEXT: zero_clipped: 0 0.5 0.5 -0.5 0.5 0

  printf("test clipped\n");
  /* rms_gaussian, 2 bits, 15 zeros and a 4: alpha = s = 1.49353, 4 is
   * clipped and quantizes to qmax * s = 1.49353: e = 4 - 1.49353 = 2.50647,
   * or 0 with zero_clipped. */
  {
    CageRefQuantizer rms = quantizerWithBits(2);
    rms.scale = CageScaleKindRmsGaussian;
    const int64_t dims16[2] = {1, 16};
    float w16[16] = {0};
    w16[15] = 4;
    float e[16];
    if (expectOk("keep",
                 cageRefQuantError(&rms, CageErrorModeKeep, 2, dims16, w16, e)))
      printf("keep: e[0] = %g, e[15] = %g\n", (double)e[0], (double)e[15]);
    if (expectOk("zero", cageRefQuantError(&rms, CageErrorModeZeroClipped, 2,
                                           dims16, w16, e)))
      printf("zero_clipped: e[0] = %g, e[15] = %g\n", (double)e[0],
             (double)e[15]);
  }
  // CHECK-LABEL: test clipped
  // CHECK-NEXT: keep: e[0] = 0, e[15] = 2.50647
  // CHECK-NEXT: zero_clipped: e[0] = 0, e[15] = 0

  printf("test rotated\n");
  /* Block 4 (testRotation in quantize.c): Q(w) = [15 25 45 55] / 14 for
   * w = [1 2 3 4], so e = w - Q(w) = [-1 3 -3 1] / 14. zero_clipped with
   * nothing clipped: (w H - q(w H)) H = [0, -2/7, 1/7, 0] H, the same. */
  {
    CageRefQuantizer r = quantizerWithBits(4);
    r.granularity = CageGranularityTensor;
    r.rotation = CageRotationHadamard;
    r.block = 4;
    const int64_t dims4[1] = {4};
    const float w4[4] = {1, 2, 3, 4};
    quantError("keep", &r, CageErrorModeKeep, 1, dims4, w4, 4);
    quantError("zero_clipped", &r, CageErrorModeZeroClipped, 1, dims4, w4, 4);
  }
  // keep subtracts in the original domain, w - Q(w) with Q(w) = 1.0714285
  // in f32, so it rounds differently from zero_clipped's rotated form.
  // CHECK-LABEL: test rotated
  // CHECK-NEXT: keep: -0.0714285 0.214286 -0.214286 0.0714285
  // CHECK-NEXT: zero_clipped: -0.0714286 0.214286 -0.214286 0.0714286

  /* Sixteen ones, block 16, rms_gaussian, 2 bits: w H = [4, 0, ..., 0],
   * alpha = 1.49353 and 4 is clipped in the rotated domain. keep:
   * Q(w) = [1.49353, 0, ...] H = 1.49353 / 4 everywhere, e = 0.626617;
   * zero_clipped: the rotated error is all zero, so e = 0. */
  {
    CageRefQuantizer r = quantizerWithBits(2);
    r.scale = CageScaleKindRmsGaussian;
    r.rotation = CageRotationHadamard;
    r.block = 16;
    const int64_t dims16[1] = {16};
    float ones[16], e[16];
    for (int i = 0; i < 16; ++i)
      ones[i] = 1;
    if (expectOk("keep",
                 cageRefQuantError(&r, CageErrorModeKeep, 1, dims16, ones, e)))
      printf("keep: e[0] = %g, e[9] = %g\n", (double)e[0], (double)e[9]);
    if (expectOk("zero", cageRefQuantError(&r, CageErrorModeZeroClipped, 1,
                                           dims16, ones, e)))
      printf("zero_clipped: e[0] = %g, e[9] = %g\n", (double)e[0],
             (double)e[9]);
  }
  // CHECK-NEXT: keep: e[0] = 0.626617, e[9] = 0.626617
  // CHECK-NEXT: zero_clipped: e[0] = 0, e[9] = 0

  printf("test rejected\n");
  /* cage.quant_error has no seed and no scale operand. */
  {
    float e[6];
    CageRefQuantizer stochastic = q;
    stochastic.rounding = CageRoundingStochastic;
    CageRefQuantizer operand = q;
    operand.scale = CageScaleKindOperand;
    printf("stochastic: %d, operand: %d, error mode 2: %d\n",
           cageRefQuantError(&stochastic, CageErrorModeKeep, 1, dims, w, e),
           cageRefQuantError(&operand, CageErrorModeKeep, 1, dims, w, e),
           cageRefQuantError(&q, (CageErrorMode)2, 1, dims, w, e));
  }
  // CHECK-LABEL: test rejected
  // CHECK-NEXT: stochastic: 3, operand: 3, error mode 2: 4
  return 0;
}
