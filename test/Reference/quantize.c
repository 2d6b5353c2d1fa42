// RUN: cage-reference-quantize-test 2>&1 | FileCheck %s

/*===- quantize.c - The quantizer Q, by hand ------------------------------===*\
|*                                                                            *|
|* docs/Semantics.md §1.1: each granularity, scale, grid, rotation and       *|
|* rounding mode on inputs small enough to work out by hand. The inputs are  *|
|* chosen so that alpha and s are exact binary fractions where possible.     *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#include "RefTest.h"

static void quantize(const char *label, const CageRefQuantizer *q, int64_t rank,
                     const int64_t *dims, const float *x, const float *alpha,
                     uint64_t seed, int64_t n) {
  float y[64];
  if (expectOk(label, cageRefQuantize(q, rank, dims, x, alpha, seed, y)))
    printFloats(label, y, n);
}

static void testInt(void) {
  printf("int grid\n");
  /* 4 bits: qmin = -8, qmax = 7. absmax over the tensor: alpha = 7, s = 1,
   * so Q(x) = clamp(rint(x), -8, 7): ties go to even. */
  {
    CageRefQuantizer q = quantizerWithBits(4);
    q.granularity = CageGranularityTensor;
    const int64_t dims[2] = {2, 3};
    const float x[6] = {7, -3.5f, 0.5f, 1.5f, 2.5f, -7};
    quantize("ties", &q, 2, dims, x, NULL, 0, 6);
  }
  // CHECK-LABEL: int grid
  // CHECK-NEXT: ties: 7 -4 0 2 2 -7

  /* An operand alpha = 7 (s = 1) lets values past the grid through: rint
   * below qmin = -8 or above qmax = 7 clamps (-8.5 ties to -8, 7.5 to 8). */
  {
    CageRefQuantizer q = quantizerWithBits(4);
    q.granularity = CageGranularityTensor;
    q.scale = CageScaleKindOperand;
    const int64_t dims[1] = {7};
    const float x[7] = {-9, -8.4f, -8.6f, 8, 7.4f, 7.5f, -8.5f};
    const float alpha[1] = {7};
    quantize("clamp", &q, 1, dims, x, alpha, 0, 7);
  }
  // CHECK-NEXT: clamp: -8 -8 -8 7 7 7 -8

  /* Rows, 2 bits (qmin = -2, qmax = 1): row 0 has alpha = 1, s = 1; row 1
   * alpha = 4, s = 4: z = 1, 0.5, -0.5, 0.25 -> 1, 0, -0, 0. */
  {
    CageRefQuantizer q = quantizerWithBits(2);
    const int64_t dims[2] = {2, 4};
    const float x[8] = {1, -0.5f, 0.25f, -1, 4, 2, -2, 1};
    quantize("rows", &q, 2, dims, x, NULL, 0, 8);
  }
  // CHECK-NEXT: rows: 1 -0 0 -1 4 0 -0 0

  /* Groups of 4, 3 bits (qmin = -4, qmax = 3): group 0 has alpha = 3, s = 1;
   * group 1 alpha = 0.75, s = 0.25: z = 3, -1.5, 0.5, 1.2 -> 3, -2, 0, 1. */
  {
    CageRefQuantizer q = quantizerWithBits(3);
    q.granularity = CageGranularityGroup;
    q.groupSize = 4;
    const int64_t dims[2] = {1, 8};
    const float x[8] = {3, 1.5f, -0.75f, 0.4f, 0.75f, -0.375f, 0.125f, 0.3f};
    quantize("groups", &q, 2, dims, x, NULL, 0, 8);
  }
  // CHECK-NEXT: groups: 3 2 -1 0 0.75 -0.5 0 0.25
}

static void testGroupsAndClipValues(void) {
  printf("clip values\n");
  /* Rank 3, granularity row: the rows are the 4 pairs along the innermost
   * dimension; an all-zero row gets alpha = 1e-8 and quantizes to 0. */
  {
    CageRefQuantizer q = quantizerWithBits(4);
    const int64_t dims[3] = {2, 2, 2};
    const float x[8] = {1, 2, -3, 0.5f, 0, 0, 4, -8};
    float alpha[4];
    int64_t groups = 0;
    cageRefNumGroups(&q, 3, dims, &groups);
    printf("row groups: %lld\n", (long long)groups);
    if (expectOk("absmax", cageRefClipValues(&q, 3, dims, x, alpha)))
      printFloats("absmax", alpha, 4);
    quantize("zero row", &q, 3, dims, x, NULL, 0, 8);
  }
  // CHECK-LABEL: clip values
  // CHECK-NEXT: row groups: 4
  // CHECK-NEXT: absmax: 2 3 1e-08 8
  // s = 2/7 is 0.2857143 in f32, above 2/7 by 1.3e-8, so 1 / s is
  // 3.4999998, not the tie 3.5: it rounds to 3 (and 3 * s = 0.857143), where
  // exact arithmetic would give rint(3.5) = 4. Likewise 4 / (8/7) in row 3.
  // CHECK-NEXT: zero row: 0.857143 2 -3 0.428571 0 0 3.42857 -8

  /* Group counts follow the scale operand's shape: [] for tensor, the
   * leading dims for row, leading dims + n / group_size for group. */
  {
    CageRefQuantizer q = quantizerWithBits(4);
    const int64_t dims[3] = {2, 3, 8};
    int64_t tensor = 0, row = 0, group = 0;
    q.granularity = CageGranularityTensor;
    cageRefNumGroups(&q, 3, dims, &tensor);
    q.granularity = CageGranularityRow;
    cageRefNumGroups(&q, 3, dims, &row);
    q.granularity = CageGranularityGroup;
    q.groupSize = 4;
    cageRefNumGroups(&q, 3, dims, &group);
    printf("2x3x8 groups: tensor %lld, row %lld, group/4 %lld\n",
           (long long)tensor, (long long)row, (long long)group);
  }
  // CHECK-NEXT: 2x3x8 groups: tensor 1, row 6, group/4 12

  /* rms_gaussian on a row of ones: mean(x^2) = 1, so alpha = c_b + 1e-8,
   * and 1e-8 is below half an ulp of every c_b: alpha = c_b for b = 2..8. */
  {
    const int64_t dims[1] = {5};
    const float ones[5] = {1, -1, 1, -1, 1};
    printf("c_b:");
    for (int64_t bits = 2; bits <= 8; ++bits) {
      CageRefQuantizer q = quantizerWithBits(bits);
      q.scale = CageScaleKindRmsGaussian;
      float alpha[1] = {0};
      cageRefClipValues(&q, 1, dims, ones, alpha);
      printf(" %.5f", (double)alpha[0]);
    }
    printf("\n");
  }
  // CHECK-NEXT: c_b: 1.49353 2.05107 2.51393 2.91609 3.27660 3.60105 3.88494

  /* rms_gaussian, 4 bits, on [3, 4]: mean = 12.5, alpha = 2.51393 * 3.535534
   * = 8.88809, s = alpha / 7 = 1.26973; 3/s = 2.36 -> 2, 4/s = 3.15 -> 3.
   * An all-zero group: alpha = 0 + 1e-8. */
  {
    CageRefQuantizer q = quantizerWithBits(4);
    q.scale = CageScaleKindRmsGaussian;
    const int64_t dims[2] = {2, 2};
    const float x[4] = {3, 4, 0, 0};
    float alpha[2];
    if (expectOk("rms", cageRefClipValues(&q, 2, dims, x, alpha)))
      printFloats("rms alpha", alpha, 2);
    quantize("rms", &q, 2, dims, x, NULL, 0, 4);
  }
  // CHECK-NEXT: rms alpha: 8.88809 1e-08
  // CHECK-NEXT: rms: 2.53945 3.80918 0 0
}

static void testCentered(void) {
  printf("centered grid\n");
  /* 2 bits, absmax alpha = 1.5: step = 2 * 1.5 / 3 = 1, levels -1.5, -0.5,
   * 0.5, 1.5; y = x / 1 + 0.5 rounds half to even: 1.0 -> rint(1.5) = 2 ->
   * 1.5, -1.0 -> rint(-0.5) = -0 -> -0.5, 0 -> rint(0.5) = 0 -> -0.5. */
  {
    CageRefQuantizer q = quantizerWithBits(2);
    q.levels = CageLevelsCentered;
    const int64_t dims[1] = {6};
    const float x[6] = {1.5f, 0.2f, -0.2f, 1.0f, -1.0f, 0.0f};
    quantize("centered 2", &q, 1, dims, x, NULL, 0, 6);
  }
  // CHECK-LABEL: centered grid
  // CHECK-NEXT: centered 2: 1.5 0.5 -0.5 1.5 -0.5 -0.5

  /* 3 bits, operand alpha = 3.5: step = 7 / 7 = 1, levels +-0.5 .. +-3.5;
   * 5 and -4 clamp to +-alpha first. */
  {
    CageRefQuantizer q = quantizerWithBits(3);
    q.levels = CageLevelsCentered;
    q.scale = CageScaleKindOperand;
    q.granularity = CageGranularityTensor;
    const int64_t dims[1] = {5};
    const float x[5] = {5, -4, 3.2f, -0.1f, 0.6f};
    const float alpha[1] = {3.5f};
    quantize("centered 3", &q, 1, dims, x, alpha, 0, 5);
  }
  // CHECK-NEXT: centered 3: 3.5 -3.5 3.5 -0.5 0.5
}

static void testRotation(void) {
  printf("rotation\n");
  /* Block 4, 4 bits, one scale for the tensor: x H = [5 -1 -2 0] (see
   * hadamard.c), alpha = 5, s = 5/7, z = 7, -1.4, -2.8, 0 ->
   * q = [5, -5/7, -15/7, 0]; q H = [15 25 45 55] / 14. */
  {
    CageRefQuantizer q = quantizerWithBits(4);
    q.granularity = CageGranularityTensor;
    q.rotation = CageRotationHadamard;
    q.block = 4;
    const int64_t dims[1] = {4};
    const float x[4] = {1, 2, 3, 4};
    quantize("rotated", &q, 1, dims, x, NULL, 0, 4);
    /* The clip value is found on the rotated values: 5, not 4. */
    float alpha[1];
    if (expectOk("alpha", cageRefClipValues(&q, 1, dims, x, alpha)))
      printFloats("rotated alpha", alpha, 1);
  }
  // CHECK-LABEL: rotation
  // CHECK-NEXT: rotated: 1.07143 1.78571 3.21429 3.92857
  // CHECK-NEXT: rotated alpha: 5

  /* Groups of 2 inside a block of 4: [5 -1] has alpha 5, s = 5/7;
   * [-2 0] has alpha 2, s = 2/7: q = [5, -5/7, -2, 0];
   * q H = [16 26 44 54] / 14 = [8 13 22 27] / 7. */
  {
    CageRefQuantizer q = quantizerWithBits(4);
    q.granularity = CageGranularityGroup;
    q.groupSize = 2;
    q.rotation = CageRotationHadamard;
    q.block = 4;
    const int64_t dims[1] = {4};
    const float x[4] = {1, 2, 3, 4};
    quantize("rotated groups", &q, 1, dims, x, NULL, 0, 4);
  }
  // CHECK-NEXT: rotated groups: 1.14286 1.85714 3.14286 3.85714
}

static void testStochastic(void) {
  printf("stochastic\n");
  /* Operand alpha = 7, 4 bits: s = 1. Element 0 under seed 0 has
   * u = 0.399046421 (philox.c): 0.4 rounds up, 0.399 down; 7.6 rounds up to
   * 8 and then clamps to qmax = 7. */
  CageRefQuantizer q = quantizerWithBits(4);
  q.granularity = CageGranularityTensor;
  q.scale = CageScaleKindOperand;
  q.rounding = CageRoundingStochastic;
  const int64_t one[1] = {1};
  const float alpha[1] = {7};
  const float x04[1] = {0.4f}, x0399[1] = {0.399f}, x76[1] = {7.6f};
  quantize("0.4", &q, 1, one, x04, alpha, 0, 1);
  quantize("0.399", &q, 1, one, x0399, alpha, 0, 1);
  quantize("7.6", &q, 1, one, x76, alpha, 0, 1);
  // CHECK-LABEL: stochastic
  // CHECK-NEXT: 0.4: 1
  // CHECK-NEXT: 0.399: 0
  // CHECK-NEXT: 7.6: 7

  /* Centered, 2 bits, alpha = 1.5, step 1: -0.1 -> y = 0.4 -> up (u < 0.4)
   * -> 1 - 0.5 = 0.5. */
  q.bits = 2;
  q.levels = CageLevelsCentered;
  const float alphaCentered[1] = {1.5f};
  const float xm01[1] = {-0.1f};
  quantize("centered -0.1", &q, 1, one, xm01, alphaCentered, 0, 1);
  // CHECK-NEXT: centered -0.1: 0.5

  /* The level clamp keeps centered + stochastic on the grid: with
   * alpha = 9.127556, 4 bits, step = 2 alpha / 15 = 1.2170074 and
   * -alpha / step + 0.5 = -7.0000005 in f32 (not -7): floor -8, fraction
   * 0.9999995, and seed 5985477 draws u = 0.99999964 at index 0, so rnd
   * gives -8, which would be Q(-alpha) = -8.5 step = -alpha - step, a level
   * below the grid; clamped to -7, Q(-alpha) = -7.5 step = -alpha. */
  q.bits = 4;
  q.levels = CageLevelsCentered;
  const float alphaEdge[1] = {9.127556f};
  const float xEdge[1] = {-9.127556f};
  quantize("clamped to the grid", &q, 1, one, xEdge, alphaEdge, 5985477, 1);
  quantize("another seed", &q, 1, one, xEdge, alphaEdge, 5985478, 1);
  // CHECK-NEXT: clamped to the grid: -9.12756
  // CHECK-NEXT: another seed: -9.12756

  /* Element i rounds 0.5 up exactly when u(seed, i) < 0.5: the counter is
   * the linear index across rows (rank 2 here). */
  q.bits = 4;
  q.levels = CageLevelsInt;
  q.granularity = CageGranularityRow;
  const int64_t dims[2] = {4, 16};
  float x[64], y[64], alphaRows[4] = {7, 7, 7, 7};
  for (int i = 0; i < 64; ++i)
    x[i] = 0.5f;
  int agree = 0, ups = 0;
  if (expectOk("rows", cageRefQuantize(&q, 2, dims, x, alphaRows, 99, y))) {
    for (int i = 0; i < 64; ++i) {
      int up = cageRefPhiloxUniform(99, (uint64_t)i) < 0.5f;
      agree += (y[i] == (up ? 1.0f : 0.0f));
      ups += up;
    }
  }
  printf("by element: %d of 64 agree, some up: %s, some down: %s\n", agree,
         ups > 0 ? "yes" : "no", ups < 64 ? "yes" : "no");
  // CHECK-NEXT: by element: 64 of 64 agree, some up: yes, some down: yes
}

static void testAliasing(void) {
  printf("aliasing\n");
  /* y may be x: the result is computed aside and copied out. */
  CageRefQuantizer q = quantizerWithBits(3);
  q.rotation = CageRotationHadamard;
  q.block = 8;
  const int64_t dims[2] = {3, 8};
  float x[24], y[24];
  for (int i = 0; i < 24; ++i)
    x[i] = (float)((i * 37) % 11) - 5.25f;
  cageRefQuantize(&q, 2, dims, x, NULL, 0, y);
  cageRefQuantize(&q, 2, dims, x, NULL, 0, x);
  int same = 1;
  for (int i = 0; i < 24; ++i)
    same = same && x[i] == y[i];
  printf("in place: %s\n", same ? "same" : "different");
  // CHECK-LABEL: aliasing
  // CHECK-NEXT: in place: same
}

int main(void) {
  testInt();
  testGroupsAndClipValues();
  testCentered();
  testRotation();
  testStochastic();
  testAliasing();
  return 0;
}
