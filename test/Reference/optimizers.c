// RUN: cage-reference-optimizers-test 2>&1 | FileCheck %s

/*===- optimizers.c - AdamW, SGD and the CAGE update, by hand -------------===*\
|*                                                                            *|
|* docs/Semantics.md §1.3. The comparisons with torch.optim over many steps  *|
|* are in torch_optimizers.py; here, single steps worked out by hand, and    *|
|* the CAGE update with lambda_t = 0 against the plain step, bit for bit.    *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#include "RefTest.h"

#include <string.h>

static void testAdamW(void) {
  printf("adamw\n");
  /* beta = (0.5, 0.75), wd = 0.5, lr = 0.1, w = 1, g = 0.5, t = 1:
   *   w = 1 * (1 - 0.05) = 0.95; m = 0.25 g = 0.25; v = 0.25 g^2 = 0.0625
   *   mhat = 0.25 / 0.5 = 0.5; vhat = 0.0625 / 0.25 = 0.25; sqrt = 0.5
   *   (+ 1e-8 is below half an ulp of 0.5): w = 0.95 - 0.1 * 0.5 / 0.5 = 0.85
   * t = 2, g = -0.5: w = 0.85 * 0.95 = 0.8075; m = 0.125 - 0.25 = -0.125;
   *   v = 0.046875 + 0.0625 = 0.109375; mhat = -0.125 / 0.75 = -1/6;
   *   vhat = 0.109375 / 0.4375 = 0.25: w = 0.8075 + 0.1 (1/6) / 0.5
   *   = 0.840833. */
  CageRefAdamW opt = {0.5f, 0.75f, 1e-8f, 0.5f};
  float w[1] = {1}, m[1] = {0}, v[1] = {0};
  const float g1[1] = {0.5f}, g2[1] = {-0.5f};
  if (expectOk("adamw", cageRefAdamW(&opt, 1, w, g1, m, v, 0.1f, 1)))
    printf("t 1: w %g m %g v %g\n", (double)w[0], (double)m[0], (double)v[0]);
  if (expectOk("adamw", cageRefAdamW(&opt, 1, w, g2, m, v, 0.1f, 2)))
    printf("t 2: w %g m %g v %g\n", (double)w[0], (double)m[0], (double)v[0]);
  // CHECK-LABEL: adamw
  // CHECK-NEXT: t 1: w 0.85 m 0.25 v 0.0625
  // CHECK-NEXT: t 2: w 0.840833 m -0.125 v 0.109375
}

static void sgdStep(const char *label, CageRefSgd opt) {
  float w[1] = {1}, b[1] = {0.25f};
  const float g[1] = {0.5f};
  if (expectOk(label, cageRefSgd(&opt, 1, w, g, b, 0.1f)))
    printf("%s: w %g b %g\n", label, (double)w[0], (double)b[0]);
}

static void testSgd(void) {
  printf("sgd\n");
  /* w = 1, g = 0.5, b = 0.25, lr = 0.1. With wd = 0.5: g = 0.5 + 0.5 = 1.
   * mu = 0.5: b = 0.125 + 1 = 1.125, w = 1 - 0.1125 = 0.8875.
   * nesterov: d = 1 + 0.5 * 1.125 = 1.5625, w = 0.84375.
   * mu = 0: d = g = 1, w = 0.9, b returned as it was.
   * dampening 0.5, wd 0: b = 0.125 + 0.5 * 0.5 = 0.375, w = 0.9625. */
  sgdStep("momentum", (CageRefSgd){0.5f, 0.0f, false, 0.5f});
  sgdStep("nesterov", (CageRefSgd){0.5f, 0.0f, true, 0.5f});
  sgdStep("no momentum", (CageRefSgd){0.0f, 0.0f, false, 0.5f});
  sgdStep("dampening", (CageRefSgd){0.5f, 0.5f, false, 0.0f});
  // CHECK-LABEL: sgd
  // CHECK-NEXT: momentum: w 0.8875 b 1.125
  // CHECK-NEXT: nesterov: w 0.84375 b 1.125
  // CHECK-NEXT: no momentum: w 0.9 b 0.25
  // CHECK-NEXT: dampening: w 0.9625 b 0.375
  /* The buffer may be NULL without momentum. */
  CageRefSgd plain = {0, 0, false, 0};
  float w[1] = {1};
  const float g[1] = {2};
  if (expectOk("null b", cageRefSgd(&plain, 1, w, g, NULL, 0.25f)))
    printf("no buffer: w %g\n", (double)w[0]);
  // CHECK-NEXT: no buffer: w 0.5
}

/* A 3 x 8 weight with awkward values, signed zeros and a clipped entry. */
static void fill(float *w, float *g, float *m, float *v, float *b) {
  for (int i = 0; i < 24; ++i) {
    w[i] = (float)((i * 29) % 17) * 0.37f - 2.9f;
    g[i] = (float)((i * 13) % 7) * 0.11f - 0.33f;
    m[i] = (float)((i * 5) % 3) * 0.01f - 0.01f;
    v[i] = (float)((i * 7) % 5) * 0.001f;
    b[i] = (float)((i * 3) % 4) * 0.05f - 0.1f;
  }
  /* Element 3 stays -0.0 through the plain steps (no gradient, no state):
   * adding lambda_t * e = -0 * 0 or lr * lambda_t * e there would turn it
   * into +0.0. */
  w[3] = -0.0f;
  g[3] = -0.0f;
  m[3] = 0.0f;
  b[3] = -0.0f;
  w[4] = 0.0f;
  g[4] = -0.0f;
  g[5] = -0.0f;
  w[7] = 40.0f;
}

/* Element-wise a[i] == b[i] (so +0 == -0) over 24 floats. */
static bool sameValues(const float *a, const float *b) {
  for (int i = 0; i < 24; ++i)
    if (!(a[i] == b[i]))
      return false;
  return true;
}

static void testLambdaZero(void) {
  printf("cage lambda 0\n");
  /* lambda_t = 0 (+0 or -0): the correction is still applied (no special
   * case, docs/Semantics.md section 1.3), so the update equals the plain step
   * in value for every coupling and error mode, with and without rotation,
   * but not bit for bit: g + 0 * e and w - 0 * e turn the -0.0 entries of
   * fill() into +0.0 in some cases. */
  const int64_t dims[2] = {3, 8};
  CageRefAdamW adamw = {0.9f, 0.95f, 1e-8f, 0.1f};
  CageRefSgd sgd = {0.9f, 0.0f, true, 0.01f};
  int same = 0, bitwise = 0, cases = 0;
  for (int rotate = 0; rotate < 2; ++rotate) {
    CageRefQuantizer q = quantizerWithBits(3);
    q.scale = CageScaleKindRmsGaussian;
    if (rotate) {
      q.rotation = CageRotationHadamard;
      q.block = 4;
    }
    for (int coupling = 0; coupling < 2; ++coupling) {
      for (int error = 0; error < 2; ++error) {
        for (int sign = 0; sign < 2; ++sign) {
          float lambda = sign ? -0.0f : 0.0f;
          float w0[24], g[24], m0[24], v0[24], b0[24];
          float w1[24], m1[24], v1[24], b1[24];
          fill(w0, g, m0, v0, b0);
          memcpy(w1, w0, sizeof w0);
          memcpy(m1, m0, sizeof m0);
          memcpy(v1, v0, sizeof v0);
          cageRefAdamW(&adamw, 24, w0, g, m0, v0, 1e-3f, 7);
          int status = cageRefUpdateAdamW(
              &q, (CageErrorMode)error, (CageCoupling)coupling, &adamw, 2, dims,
              w1, g, m1, v1, 1e-3f, lambda, 7);
          ++cases;
          same += status == CageRefOk && sameValues(w0, w1) &&
                  sameValues(m0, m1) && sameValues(v0, v1);
          bitwise += status == CageRefOk && !memcmp(w0, w1, sizeof w0) &&
                     !memcmp(m0, m1, sizeof m0) && !memcmp(v0, v1, sizeof v0);

          fill(w0, g, m0, v0, b0);
          memcpy(w1, w0, sizeof w0);
          memcpy(b1, b0, sizeof b0);
          cageRefSgd(&sgd, 24, w0, g, b0, 0.05f);
          status =
              cageRefUpdateSgd(&q, (CageErrorMode)error, (CageCoupling)coupling,
                               &sgd, 2, dims, w1, g, b1, 0.05f, lambda);
          ++cases;
          same += status == CageRefOk && sameValues(w0, w1) &&
                  sameValues(b0, b1);
          bitwise += status == CageRefOk && !memcmp(w0, w1, sizeof w0) &&
                     !memcmp(b0, b1, sizeof b0);
        }
      }
    }
  }
  printf("same values: %d of %d, bit for bit: %d\n", same, cases, bitwise);
  // CHECK-LABEL: cage lambda 0
  // CHECK-NEXT: same values: 32 of 32, bit for bit: 24
}

static void testCorrection(void) {
  printf("cage correction\n");
  /* 4 bits over the tensor: e = w - Q(w) = [0 0.5 0.5 -0.5 0.5 0]
   * (quant_error.c); g = 0, lr = 0.5, lambda_t = 1. */
  CageRefQuantizer q = quantizerWithBits(4);
  q.granularity = CageGranularityTensor;
  const int64_t dims[1] = {6};
  const float w0[6] = {7, -3.5f, 0.5f, 1.5f, 2.5f, -7};
  const float g[6] = {0};
  float w[6], m[6], v[6], b[6];

  /* SGD without momentum: coupled w - lr (0 + e) and decoupled
   * (w - lr 0) - (lr lambda) e are both w - 0.5 e. */
  CageRefSgd sgd = {0, 0, false, 0};
  for (int coupling = 0; coupling < 2; ++coupling) {
    memcpy(w, w0, sizeof w);
    if (expectOk("sgd",
                 cageRefUpdateSgd(&q, CageErrorModeKeep, (CageCoupling)coupling,
                                  &sgd, 1, dims, w, g, NULL, 0.5f, 1.0f)))
      printFloats(coupling ? "sgd decoupled" : "sgd coupled", w, 6);
  }
  // CHECK-LABEL: cage correction
  // CHECK-NEXT: sgd coupled: 7 -3.75 0.25 1.75 2.25 -7
  // CHECK-NEXT: sgd decoupled: 7 -3.75 0.25 1.75 2.25 -7

  /* AdamW from m = v = 0, t = 1, wd = 0. Decoupled: g = 0 moves nothing
   * (0 / (0 + eps)), then w - 0.5 e. Coupled: g = e, the first Adam step is
   * lr e / (|e| + eps) = 0.5 sign(e) (0 where e = 0): w lands on Q(w). */
  CageRefAdamW adamw = {0.9f, 0.95f, 1e-8f, 0.0f};
  for (int coupling = 0; coupling < 2; ++coupling) {
    memcpy(w, w0, sizeof w);
    memset(m, 0, sizeof m);
    memset(v, 0, sizeof v);
    if (expectOk("adamw", cageRefUpdateAdamW(&q, CageErrorModeKeep,
                                             (CageCoupling)coupling, &adamw, 1,
                                             dims, w, g, m, v, 0.5f, 1.0f, 1)))
      printFloats(coupling ? "adamw decoupled" : "adamw coupled", w, 6);
  }
  // CHECK-NEXT: adamw coupled: 7 -4 0 2 2 -7
  // CHECK-NEXT: adamw decoupled: 7 -3.75 0.25 1.75 2.25 -7

  /* The error is taken from w before weight decay: with wd = 0.5, lr = 0.5
   * and SGD, decoupled gives w - 0.5 (g + 0.5 w) - 0.5 e = 0.75 w - 0.5 e. */
  CageRefSgd decay = {0, 0, false, 0.5f};
  memcpy(w, w0, sizeof w);
  memset(b, 0, sizeof b);
  if (expectOk("decay",
               cageRefUpdateSgd(&q, CageErrorModeKeep, CageCouplingDecoupled,
                                &decay, 1, dims, w, g, b, 0.5f, 1.0f)))
    printFloats("decay", w, 6);
  // CHECK-NEXT: decay: 5.25 -2.875 0.125 1.375 1.625 -5.25
}

int main(void) {
  testAdamW();
  testSgd();
  testLambdaZero();
  testCorrection();
  return 0;
}
