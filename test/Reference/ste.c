// RUN: cage-reference-ste-test 2>&1 | FileCheck %s

/*===- ste.c - Clipped masks, straight-through estimators, LSQ ------------===*\
|*                                                                            *|
|* docs/Semantics.md §1.1 ("clipped") and §1.2, by hand.                     *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#include "RefTest.h"

#include <float.h>
#include <stdlib.h>
#include <string.h>

static void mask(const char *label, const CageRefQuantizer *q, int64_t rank,
                 const int64_t *dims, const float *x, const float *alpha,
                 int64_t n) {
  unsigned char clipped[64];
  if (expectOk(label, cageRefClippedMask(q, rank, dims, x, alpha, clipped)))
    printMask(label, clipped, n);
}

static void testMasks(void) {
  printf("masks\n");
  /* int, 2 bits (qmin = -2, qmax = 1), alpha = 1, s = 1: rint(x) = -2, -3,
   * 1, 2 (tie to even), 0, -2 (tie to even): -3 and 2 are clipped. */
  CageRefQuantizer q = quantizerWithBits(2);
  q.granularity = CageGranularityTensor;
  q.scale = CageScaleKindOperand;
  const int64_t dims[1] = {6};
  const float x[6] = {-2.4f, -2.6f, 1.4f, 1.5f, 0.5f, -1.5f};
  const float alpha[1] = {1};
  mask("int", &q, 1, dims, x, alpha, 6);
  /* The same with stochastic rounding: masks are judged with rint. */
  q.rounding = CageRoundingStochastic;
  mask("int stochastic", &q, 1, dims, x, alpha, 6);
  // CHECK-LABEL: masks
  // CHECK-NEXT: int: 0 1 0 1 0 0
  // CHECK-NEXT: int stochastic: 0 1 0 1 0 0

  /* centered: clipped where |x| > alpha = 1. */
  q.rounding = CageRoundingNearest;
  q.levels = CageLevelsCentered;
  const int64_t dims5[1] = {5};
  const float xc[5] = {1, 1.0001f, -1, -1.5f, 0};
  mask("centered", &q, 1, dims5, xc, alpha, 5);
  // CHECK-NEXT: centered: 0 1 0 1 0

  /* absmax never clips; rms_gaussian can: 15 zeros and a 4, 2 bits:
   * mean(x^2) = 1, alpha = 1.49353 = s, 4 / s = 2.68 -> 3 > qmax = 1. */
  CageRefQuantizer rms = quantizerWithBits(2);
  rms.scale = CageScaleKindRmsGaussian;
  const int64_t dims16[1] = {16};
  float x16[16] = {0};
  x16[15] = 4;
  mask("rms", &rms, 1, dims16, x16, NULL, 16);
  rms.scale = CageScaleKindAbsmax;
  mask("absmax", &rms, 1, dims16, x16, NULL, 16);
  // CHECK-NEXT: rms: 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 1
  // CHECK-NEXT: absmax: 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0
}

/* "Absmax clips nothing" (docs/Semantics.md §1.2), which lets the lowering
 * drop the masks of absmax quantizers: rows [α, −α] (the largest |x| of a
 * group is its α, and rounding is monotonic, so smaller |x| cannot clip)
 * for every f32 α in [1, 2) and every bit width, on the int grid. Scaling α
 * by a power of two scales s and keeps x / s, as long as s is normal, which
 * α ≥ 1e-8 ensures; so this binade stands for every α. The floor α = 1e-8
 * (rows of tiny values) and the largest f32 are added. */
static void testAbsmaxClipsNothing(void) {
  printf("absmax clips nothing\n");
  enum { Rows = 1 << 20, Binade = 1 << 23 };
  float *x = malloc(sizeof(float) * 2 * Rows);
  unsigned char *clipped = malloc(2 * Rows);
  const int64_t dims[2] = {Rows, 2};
  int64_t total = 0, found = 0;
  for (int64_t bits = 2; bits <= 8; ++bits) {
    CageRefQuantizer q = quantizerWithBits(bits);
    for (int64_t start = 0; start < Binade; start += Rows) {
      for (int64_t r = 0; r < Rows; ++r) {
        uint32_t word = 0x3F800000u + (uint32_t)(start + r);
        float alpha;
        memcpy(&alpha, &word, sizeof alpha);
        x[2 * r] = alpha;
        x[2 * r + 1] = -alpha;
      }
      /* The floor and the top of the range in the first rows. */
      if (start == 0) {
        x[0] = FLT_MAX, x[1] = -FLT_MAX;
        x[2] = 1e-8f, x[3] = -1e-8f;
        x[4] = 9.9e-9f, x[5] = -1e-12f;
        x[6] = FLT_MIN, x[7] = -FLT_MIN;
      }
      if (!expectOk("absmax",
                    cageRefClippedMask(&q, 2, dims, x, NULL, clipped)))
        break;
      for (int64_t i = 0; i < 2 * Rows; ++i)
        found += clipped[i];
      total += 2 * Rows;
    }
  }
  printf("clipped: %lld of %lld\n", (long long)found, (long long)total);
  free(clipped);
  free(x);
  // CHECK-LABEL: absmax clips nothing
  // CHECK-NEXT: clipped: 0 of 117440512
}

static void testEstimators(void) {
  printf("estimators\n");
  /* The int example of testMasks: dx = dy where not clipped, +0 where
   * clipped (a select: -2 becomes 0, not -0). */
  CageRefQuantizer q = quantizerWithBits(2);
  q.granularity = CageGranularityTensor;
  q.scale = CageScaleKindOperand;
  const int64_t dims[1] = {6};
  const float x[6] = {-2.4f, -2.6f, 1.4f, 1.5f, 0.5f, -1.5f};
  const float dy[6] = {1, -2, 3, 4, 5, 6};
  const float alpha[1] = {1};
  float dx[6], dalpha[1];
  if (expectOk("clipped", cageRefSte(&q, CageEstimatorClipped, 1, dims, dy, x,
                                     alpha, dx, dalpha)))
    printFloats("clipped", dx, 6);
  if (expectOk("identity", cageRefSte(&q, CageEstimatorIdentity, 1, dims, dy, x,
                                      alpha, dx, dalpha)))
    printFloats("identity", dx, 6);
  // CHECK-LABEL: estimators
  // CHECK-NEXT: clipped: 1 0 3 0 5 6
  // CHECK-NEXT: identity: 1 -2 3 4 5 6

  /* Rotation, block 2, operand alpha = 1.5 (s = 1.5), 2 bits:
   * x H = [4, 2] / sqrt2 = [2.83, 1.41], z = [1.89, 0.94] -> [2, 1]: the
   * first is clipped. dy = [1, 0]: dy H = [1, 1] / sqrt2, masked [0, 1] /
   * sqrt2, times H: [1, -1] / 2. */
  {
    CageRefQuantizer r = quantizerWithBits(2);
    r.granularity = CageGranularityTensor;
    r.scale = CageScaleKindOperand;
    r.rotation = CageRotationHadamard;
    r.block = 2;
    const int64_t dims2[1] = {2};
    const float x2[2] = {3, 1}, dy2[2] = {1, 0}, alpha2[1] = {1.5f};
    float dx2[2], dalpha2[1];
    if (expectOk("rotated", cageRefSte(&r, CageEstimatorClipped, 1, dims2, dy2,
                                       x2, alpha2, dx2, dalpha2))) {
      printFloats("rotated dx", dx2, 2);
      /* LSQ on the rotated values: element 0 has r = 2 > qmax: 1; element 1
       * z = 0.942809, r = 1: (1 - z) / 1 = 0.057191. dy H = 0.707107 each;
       * gamma = 1 / sqrt(2 * 1):
       * 0.707107 * (0.707107 * 1 + 0.707107 * 0.057191) = 0.528595. */
      printFloats("rotated dalpha", dalpha2, 1);
    }
  }
  // CHECK-NEXT: rotated dx: 0.5 -0.5
  // CHECK-NEXT: rotated dalpha: 0.528595
}

static void testLsq(void) {
  printf("lsq\n");
  /* int, 2 bits (qmin = -2, qmax = 1), alpha = 1, s = 1, one group of 4:
   *   0.25: r = 0 in range: (0 - 0.25) / 1 = -0.25
   *   -2.5: r = -2 (tie to even) in range: (-2 + 2.5) / 1 = 0.5
   *   1.75: r = 2 > qmax: 1
   *   -3:   r = -3 < qmin: qmin / qmax = -2
   * dy = [1 2 3 4]: sum = -0.25 + 1 + 3 - 8 = -4.25; gamma = 1/sqrt(4 * 1)
   * = 0.5: d alpha = -2.125. */
  {
    CageRefQuantizer q = quantizerWithBits(2);
    q.granularity = CageGranularityTensor;
    q.scale = CageScaleKindOperand;
    const int64_t dims[1] = {4};
    const float x[4] = {0.25f, -2.5f, 1.75f, -3}, dy[4] = {1, 2, 3, 4};
    const float alpha[1] = {1};
    float dx[4], dalpha[1];
    if (expectOk("lsq int", cageRefSte(&q, CageEstimatorClipped, 1, dims, dy, x,
                                       alpha, dx, dalpha)))
      printFloats("lsq int", dalpha, 1);
  }
  // CHECK-LABEL: lsq
  // CHECK-NEXT: lsq int: -2.125

  /* centered, 2 bits: h = 3/2, alpha = 1.5, qmax = 1 for gamma:
   *   0.2:  r = rint(0.2 + 0.5) = 1: (1 - 0.5) / 1.5 - 0.2 / 1.5 = 0.2
   *   1.5:  r = rint(1.5 + 0.5) = 2: 1.5 / 1.5 - 1 = 0
   *   -2:   |x| > alpha: sign = -1
   *   0.9:  r = rint(1.4) = 1: 1/3 - 0.6 = -0.266667
   * dy = 1: sum = -1.066667, gamma = 1/sqrt(4 * 1) = 0.5: -0.533333. */
  {
    CageRefQuantizer q = quantizerWithBits(2);
    q.granularity = CageGranularityTensor;
    q.scale = CageScaleKindOperand;
    q.levels = CageLevelsCentered;
    const int64_t dims[1] = {4};
    const float x[4] = {0.2f, 1.5f, -2, 0.9f}, dy[4] = {1, 1, 1, 1};
    const float alpha[1] = {1.5f};
    float dx[4], dalpha[1];
    if (expectOk("lsq centered", cageRefSte(&q, CageEstimatorIdentity, 1, dims,
                                            dy, x, alpha, dx, dalpha)))
      printFloats("lsq centered", dalpha, 1);
  }
  // CHECK-NEXT: lsq centered: -0.533333

  /* Per row, 2 bits int: row 0 alpha = 1, x = [0.25, -2.5], dy = [1, 2]:
   * sum = -0.25 + 1 = 0.75; row 1 alpha = 2 (s = 2), x = [3, 1], dy = 1:
   * z = 1.5 -> 2 > qmax: 1; z = 0.5 -> 0: -0.5; sum = 0.5. gamma =
   * 1/sqrt(2): 0.530330, 0.353553. */
  {
    CageRefQuantizer q = quantizerWithBits(2);
    q.scale = CageScaleKindOperand;
    const int64_t dims[2] = {2, 2};
    const float x[4] = {0.25f, -2.5f, 3, 1}, dy[4] = {1, 2, 1, 1};
    const float alpha[2] = {1, 2};
    float dx[4], dalpha[2];
    if (expectOk("lsq rows", cageRefSte(&q, CageEstimatorClipped, 2, dims, dy,
                                        x, alpha, dx, dalpha)))
      printFloats("lsq rows", dalpha, 2);
  }
  // CHECK-NEXT: lsq rows: 0.53033 0.353553

  /* Without scale = operand there is no d alpha (it must be NULL), and the
   * mask uses the absmax alpha found on x: nothing is clipped. */
  {
    CageRefQuantizer q = quantizerWithBits(2);
    const int64_t dims[1] = {3};
    const float x[3] = {-4, 1, 3}, dy[3] = {1, 2, 3};
    float dx[3], dalpha[1];
    if (expectOk("absmax", cageRefSte(&q, CageEstimatorClipped, 1, dims, dy, x,
                                      NULL, dx, NULL)))
      printFloats("absmax dx", dx, 3);
    printf(
        "absmax with d alpha: %d\n",
        cageRefSte(&q, CageEstimatorClipped, 1, dims, dy, x, NULL, dx, dalpha));
  }
  // CHECK-NEXT: absmax dx: 1 2 3
  // CHECK-NEXT: absmax with d alpha: 1
}

int main(void) {
  testMasks();
  testAbsmaxClipsNothing();
  testEstimators();
  testLsq();
  return 0;
}
