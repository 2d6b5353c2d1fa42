// RUN: cage-reference-validation-test 2>&1 | FileCheck %s

/*===- validation.c - Every entry point rejects bad arguments -------------===*\
|*                                                                            *|
|* Each call below has one thing wrong. It must return a non-zero status     *|
|* (Reference.h: 1 null, 2 shape, 3 quantizer, 4 argument) and leave every   *|
|* output and every in-place buffer untouched.                               *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#include "RefTest.h"

#include <math.h>

#define SIZE 16
static const float kSentinel = 12345.0f;

/* Outputs and in-place state, all filled with kSentinel before each call. */
static float out[SIZE], out2[SIZE], w[SIZE], m[SIZE], v[SIZE], b[SIZE];
static unsigned char mask[SIZE];
/* Inputs. */
static float x[SIZE], g[SIZE];
static const int64_t dims[2] = {2, 8};
static const float alphaRows[2] = {1, 2};

static void reset(void) {
  for (int i = 0; i < SIZE; ++i) {
    out[i] = out2[i] = w[i] = m[i] = v[i] = b[i] = kSentinel;
    mask[i] = 77;
    x[i] = (float)i - 7.5f;
    g[i] = 0.25f * (float)i;
  }
}

static int untouched(void) {
  for (int i = 0; i < SIZE; ++i)
    if (out[i] != kSentinel || out2[i] != kSentinel || w[i] != kSentinel ||
        m[i] != kSentinel || v[i] != kSentinel || b[i] != kSentinel ||
        mask[i] != 77)
      return 0;
  return 1;
}

static void report(const char *label, int status) {
  printf("%s: %d %s\n", label, status,
         untouched() ? "untouched" : "OUTPUT WRITTEN");
  reset();
}

static void testQuantizer(void) {
  printf("quantize\n");
  CageRefQuantizer q = quantizerWithBits(4);
  CageRefQuantizer bad;
  const int64_t zero[2] = {2, 0}, negative[2] = {-2, 8};
  const int64_t huge[3] = {INT64_C(1) << 30, INT64_C(1) << 30, 1 << 20};
  reset();
  report("valid call, for reference",
         cageRefQuantize(&q, 2, dims, x, NULL, 0, x) == 0 ? 1 : 0);
  report("q null", cageRefQuantize(NULL, 2, dims, x, NULL, 0, out));
  report("dims null", cageRefQuantize(&q, 2, NULL, x, NULL, 0, out));
  report("x null", cageRefQuantize(&q, 2, dims, NULL, NULL, 0, out));
  report("y null", cageRefQuantize(&q, 2, dims, x, NULL, 0, NULL));
  report("rank 0", cageRefQuantize(&q, 0, dims, x, NULL, 0, out));
  report("dim 0", cageRefQuantize(&q, 2, zero, x, NULL, 0, out));
  report("dim -2", cageRefQuantize(&q, 2, negative, x, NULL, 0, out));
  report("2^80 elements", cageRefQuantize(&q, 3, huge, x, NULL, 0, out));
  // CHECK-LABEL: quantize
  // The valid call quantizes x in place (x is an input here): status 0.
  // CHECK-NEXT: valid call, for reference: 1 untouched
  // CHECK-NEXT: q null: 1 untouched
  // CHECK-NEXT: dims null: 1 untouched
  // CHECK-NEXT: x null: 1 untouched
  // CHECK-NEXT: y null: 1 untouched
  // CHECK-NEXT: rank 0: 2 untouched
  // CHECK-NEXT: dim 0: 2 untouched
  // CHECK-NEXT: dim -2: 2 untouched
  // CHECK-NEXT: 2^80 elements: 2 untouched

  bad = q, bad.bits = 1;
  report("bits 1", cageRefQuantize(&bad, 2, dims, x, NULL, 0, out));
  bad = q, bad.bits = 9;
  report("bits 9", cageRefQuantize(&bad, 2, dims, x, NULL, 0, out));
  bad = q, bad.granularity = (CageGranularity)3;
  report("granularity 3", cageRefQuantize(&bad, 2, dims, x, NULL, 0, out));
  bad = q, bad.scale = (CageScaleKind)3;
  report("scale 3", cageRefQuantize(&bad, 2, dims, x, NULL, 0, out));
  bad = q, bad.levels = (CageLevels)2;
  report("levels 2", cageRefQuantize(&bad, 2, dims, x, NULL, 0, out));
  bad = q, bad.rotation = (CageRotation)-1;
  report("rotation -1", cageRefQuantize(&bad, 2, dims, x, NULL, 0, out));
  bad = q, bad.rounding = (CageRounding)2;
  report("rounding 2", cageRefQuantize(&bad, 2, dims, x, NULL, 0, out));
  // CHECK-NEXT: bits 1: 3 untouched
  // CHECK-NEXT: bits 9: 3 untouched
  // CHECK-NEXT: granularity 3: 3 untouched
  // CHECK-NEXT: scale 3: 3 untouched
  // CHECK-NEXT: levels 2: 3 untouched
  // CHECK-NEXT: rotation -1: 3 untouched
  // CHECK-NEXT: rounding 2: 3 untouched

  bad = q, bad.granularity = CageGranularityGroup;
  bad.groupSize = 3;
  report("group_size 3", cageRefQuantize(&bad, 2, dims, x, NULL, 0, out));
  bad.groupSize = 16;
  report("group_size 16 of 8", cageRefQuantize(&bad, 2, dims, x, NULL, 0, out));
  bad.groupSize = 0;
  report("group_size 0", cageRefQuantize(&bad, 2, dims, x, NULL, 0, out));
  bad = q, bad.rotation = CageRotationHadamard;
  bad.block = 1;
  report("block 1", cageRefQuantize(&bad, 2, dims, x, NULL, 0, out));
  bad.block = 6;
  report("block 6", cageRefQuantize(&bad, 2, dims, x, NULL, 0, out));
  bad.block = 16;
  report("block 16 of 8", cageRefQuantize(&bad, 2, dims, x, NULL, 0, out));
  // CHECK-NEXT: group_size 3: 3 untouched
  // CHECK-NEXT: group_size 16 of 8: 3 untouched
  // CHECK-NEXT: group_size 0: 3 untouched
  // CHECK-NEXT: block 1: 3 untouched
  // CHECK-NEXT: block 6: 3 untouched
  // CHECK-NEXT: block 16 of 8: 3 untouched

  CageRefQuantizer operand = q;
  operand.scale = CageScaleKindOperand;
  const float zeroAlpha[2] = {1, 0}, nanAlpha[2] = {NAN, 1};
  const float infAlpha[2] = {1, INFINITY}, negativeAlpha[2] = {-1, 1};
  report("operand, no alpha",
         cageRefQuantize(&operand, 2, dims, x, NULL, 0, out));
  report("absmax, alpha given",
         cageRefQuantize(&q, 2, dims, x, alphaRows, 0, out));
  report("alpha 0", cageRefQuantize(&operand, 2, dims, x, zeroAlpha, 0, out));
  report("alpha -1",
         cageRefQuantize(&operand, 2, dims, x, negativeAlpha, 0, out));
  report("alpha nan", cageRefQuantize(&operand, 2, dims, x, nanAlpha, 0, out));
  report("alpha inf", cageRefQuantize(&operand, 2, dims, x, infAlpha, 0, out));
  // CHECK-NEXT: operand, no alpha: 1 untouched
  // CHECK-NEXT: absmax, alpha given: 1 untouched
  // CHECK-NEXT: alpha 0: 4 untouched
  // CHECK-NEXT: alpha -1: 4 untouched
  // CHECK-NEXT: alpha nan: 4 untouched
  // CHECK-NEXT: alpha inf: 4 untouched
}

static void testOtherQuantizerEntryPoints(void) {
  printf("masks, ste, quant_error, clip values\n");
  CageRefQuantizer q = quantizerWithBits(4);
  CageRefQuantizer operand = q;
  operand.scale = CageScaleKindOperand;
  CageRefQuantizer badBlock = q;
  badBlock.rotation = CageRotationHadamard;
  badBlock.block = 16;
  int64_t groups = -1;
  reset();
  report("mask, bad block",
         cageRefClippedMask(&badBlock, 2, dims, x, NULL, mask));
  report("mask, null", cageRefClippedMask(&q, 2, dims, NULL, NULL, mask));
  report("ste, estimator 2",
         cageRefSte(&q, (CageEstimator)2, 2, dims, g, x, NULL, out, NULL));
  report("ste, operand without dalpha",
         cageRefSte(&operand, CageEstimatorClipped, 2, dims, g, x, alphaRows,
                    out, NULL));
  report("ste, dalpha without operand",
         cageRefSte(&q, CageEstimatorClipped, 2, dims, g, x, NULL, out, out2));
  report("ste, dy null", cageRefSte(&q, CageEstimatorClipped, 2, dims, NULL, x,
                                    NULL, out, NULL));
  report("ste, bad block", cageRefSte(&badBlock, CageEstimatorIdentity, 2, dims,
                                      g, x, NULL, out, NULL));
  report("quant_error, operand",
         cageRefQuantError(&operand, CageErrorModeKeep, 2, dims, x, out));
  report("clip values, operand", cageRefClipValues(&operand, 2, dims, x, out));
  report("num groups, bad block",
         cageRefNumGroups(&badBlock, 2, dims, &groups));
  printf("groups untouched: %lld\n", (long long)groups);
  report("num groups, null", cageRefNumGroups(&q, 2, dims, NULL));
  report("hadamard, block 3", cageRefHadamard(2, dims, 3, x, out));
  report("philox, null", cageRefPhilox4x32(NULL, NULL, NULL));
  // CHECK-LABEL: masks, ste, quant_error, clip values
  // CHECK-NEXT: mask, bad block: 3 untouched
  // CHECK-NEXT: mask, null: 1 untouched
  // CHECK-NEXT: ste, estimator 2: 4 untouched
  // CHECK-NEXT: ste, operand without dalpha: 1 untouched
  // CHECK-NEXT: ste, dalpha without operand: 1 untouched
  // CHECK-NEXT: ste, dy null: 1 untouched
  // CHECK-NEXT: ste, bad block: 3 untouched
  // CHECK-NEXT: quant_error, operand: 3 untouched
  // CHECK-NEXT: clip values, operand: 3 untouched
  // CHECK-NEXT: num groups, bad block: 3 untouched
  // CHECK-NEXT: groups untouched: -1
  // CHECK-NEXT: num groups, null: 1 untouched
  // CHECK-NEXT: hadamard, block 3: 4 untouched
  // CHECK-NEXT: philox, null: 1 untouched
}

static void testOptimizers(void) {
  printf("optimizers\n");
  const CageRefAdamW adamw = {0.9f, 0.95f, 1e-8f, 0.1f};
  CageRefAdamW bad;
  reset();
  report("adamw, opt null", cageRefAdamW(NULL, SIZE, w, g, m, v, 0.1f, 1));
  report("adamw, m null", cageRefAdamW(&adamw, SIZE, w, g, NULL, v, 0.1f, 1));
  report("adamw, t 0", cageRefAdamW(&adamw, SIZE, w, g, m, v, 0.1f, 0));
  report("adamw, n -1", cageRefAdamW(&adamw, -1, w, g, m, v, 0.1f, 1));
  report("adamw, lr nan", cageRefAdamW(&adamw, SIZE, w, g, m, v, NAN, 1));
  bad = adamw, bad.beta1 = 1.0f;
  report("adamw, beta1 1", cageRefAdamW(&bad, SIZE, w, g, m, v, 0.1f, 1));
  bad = adamw, bad.beta2 = -0.5f;
  report("adamw, beta2 -0.5", cageRefAdamW(&bad, SIZE, w, g, m, v, 0.1f, 1));
  bad = adamw, bad.eps = 0.0f;
  report("adamw, eps 0", cageRefAdamW(&bad, SIZE, w, g, m, v, 0.1f, 1));
  bad = adamw, bad.weightDecay = -0.1f;
  report("adamw, wd -0.1", cageRefAdamW(&bad, SIZE, w, g, m, v, 0.1f, 1));
  // CHECK-LABEL: optimizers
  // CHECK-NEXT: adamw, opt null: 1 untouched
  // CHECK-NEXT: adamw, m null: 1 untouched
  // CHECK-NEXT: adamw, t 0: 4 untouched
  // CHECK-NEXT: adamw, n -1: 4 untouched
  // CHECK-NEXT: adamw, lr nan: 4 untouched
  // CHECK-NEXT: adamw, beta1 1: 4 untouched
  // CHECK-NEXT: adamw, beta2 -0.5: 4 untouched
  // CHECK-NEXT: adamw, eps 0: 4 untouched
  // CHECK-NEXT: adamw, wd -0.1: 4 untouched

  const CageRefSgd sgd = {0.9f, 0.0f, false, 0.0f};
  CageRefSgd badSgd;
  report("sgd, b null", cageRefSgd(&sgd, SIZE, w, g, NULL, 0.1f));
  report("sgd, lr inf", cageRefSgd(&sgd, SIZE, w, g, b, INFINITY));
  badSgd = sgd, badSgd.momentum = -0.9f;
  report("sgd, momentum -0.9", cageRefSgd(&badSgd, SIZE, w, g, b, 0.1f));
  badSgd = sgd, badSgd.dampening = 1.5f;
  report("sgd, dampening 1.5", cageRefSgd(&badSgd, SIZE, w, g, b, 0.1f));
  badSgd = sgd, badSgd.nesterov = true, badSgd.momentum = 0.0f;
  report("sgd, nesterov without momentum",
         cageRefSgd(&badSgd, SIZE, w, g, b, 0.1f));
  badSgd = sgd, badSgd.nesterov = true, badSgd.dampening = 0.1f;
  report("sgd, nesterov with dampening",
         cageRefSgd(&badSgd, SIZE, w, g, b, 0.1f));
  // CHECK-NEXT: sgd, b null: 1 untouched
  // CHECK-NEXT: sgd, lr inf: 4 untouched
  // CHECK-NEXT: sgd, momentum -0.9: 4 untouched
  // CHECK-NEXT: sgd, dampening 1.5: 4 untouched
  // CHECK-NEXT: sgd, nesterov without momentum: 4 untouched
  // CHECK-NEXT: sgd, nesterov with dampening: 4 untouched
}

static void testUpdates(void) {
  printf("updates\n");
  const CageRefAdamW adamw = {0.9f, 0.95f, 1e-8f, 0.1f};
  const CageRefSgd sgd = {0.9f, 0.0f, true, 0.0f};
  CageRefQuantizer q = quantizerWithBits(4);
  CageRefQuantizer stochastic = q, operand = q, badBlock = q;
  stochastic.rounding = CageRoundingStochastic;
  operand.scale = CageScaleKindOperand;
  badBlock.rotation = CageRotationHadamard;
  badBlock.block = 16;
  const CageErrorMode keep = CageErrorModeKeep;
  const CageCoupling decoupled = CageCouplingDecoupled;
  reset();
  report("adamw, stochastic",
         cageRefUpdateAdamW(&stochastic, keep, decoupled, &adamw, 2, dims, w, g,
                            m, v, 0.1f, 1.0f, 1));
  report("adamw, operand",
         cageRefUpdateAdamW(&operand, keep, decoupled, &adamw, 2, dims, w, g, m,
                            v, 0.1f, 1.0f, 1));
  /* The quantizer is checked even where lambda_t = 0 skips the error. */
  report("adamw, bad block, lambda 0",
         cageRefUpdateAdamW(&badBlock, keep, decoupled, &adamw, 2, dims, w, g,
                            m, v, 0.1f, 0.0f, 1));
  report("adamw, coupling 2",
         cageRefUpdateAdamW(&q, keep, (CageCoupling)2, &adamw, 2, dims, w, g, m,
                            v, 0.1f, 1.0f, 1));
  report("adamw, error 2",
         cageRefUpdateAdamW(&q, (CageErrorMode)2, decoupled, &adamw, 2, dims, w,
                            g, m, v, 0.1f, 1.0f, 1));
  report("adamw, lambda nan",
         cageRefUpdateAdamW(&q, keep, decoupled, &adamw, 2, dims, w, g, m, v,
                            0.1f, NAN, 1));
  report("adamw, t 0", cageRefUpdateAdamW(&q, keep, decoupled, &adamw, 2, dims,
                                          w, g, m, v, 0.1f, 1.0f, 0));
  report("adamw, v null",
         cageRefUpdateAdamW(&q, keep, decoupled, &adamw, 2, dims, w, g, m, NULL,
                            0.1f, 1.0f, 1));
  report("sgd, b null", cageRefUpdateSgd(&q, keep, decoupled, &sgd, 2, dims, w,
                                         g, NULL, 0.1f, 1.0f));
  report("sgd, stochastic", cageRefUpdateSgd(&stochastic, keep, decoupled, &sgd,
                                             2, dims, w, g, b, 0.1f, 1.0f));
  report("sgd, rank 0", cageRefUpdateSgd(&q, keep, decoupled, &sgd, 0, dims, w,
                                         g, b, 0.1f, 1.0f));
  // CHECK-LABEL: updates
  // CHECK-NEXT: adamw, stochastic: 3 untouched
  // CHECK-NEXT: adamw, operand: 3 untouched
  // CHECK-NEXT: adamw, bad block, lambda 0: 3 untouched
  // CHECK-NEXT: adamw, coupling 2: 4 untouched
  // CHECK-NEXT: adamw, error 2: 4 untouched
  // CHECK-NEXT: adamw, lambda nan: 4 untouched
  // CHECK-NEXT: adamw, t 0: 4 untouched
  // CHECK-NEXT: adamw, v null: 1 untouched
  // CHECK-NEXT: sgd, b null: 1 untouched
  // CHECK-NEXT: sgd, stochastic: 3 untouched
  // CHECK-NEXT: sgd, rank 0: 2 untouched
}

int main(void) {
  testQuantizer();
  testOtherQuantizerEntryPoints();
  testOptimizers();
  testUpdates();
  printf("status strings: %s; %s\n", cageRefStatusString(CageRefOk),
         cageRefStatusString(CageRefErrorQuantizer));
  // CHECK: status strings: ok; invalid quantizer
  return 0;
}
