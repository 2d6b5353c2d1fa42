// RUN: cage-reference-fogzo-test 2>&1 | FileCheck %s

/*===- fogzo.c - First-order-guided zeroth-order gradients ----------------===*\
|*                                                                            *|
|* docs/Semantics.md §1.6 and Reference.h, "FOGZO (section 1.6)": argument   *|
|* validation, the inactive step, the sign and the noise against a Philox    *|
|* written here from §1.4, the mean step h worked out by hand, the whole     *|
|* estimate recomputed bit for bit from the formulas, and the statistics:    *|
|* unbiasedness for beta = 0, alignment with g for beta near 1.              *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#include "RefTest.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/*===----------------------------------------------------------------------===*
 * Helpers
 *===----------------------------------------------------------------------===*/

/* Philox4x32-10 from the text of Semantics §1.4, independent of the
 * library's: one round is (hi0, lo0) = 0xD2511F53 * c0, (hi1, lo1) =
 * 0xCD9E8D57 * c2, c = (hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0); round 1
 * with the key as given, then nine times: bump the key, one more round. */
static void testPhilox(const uint32_t counter[4], const uint32_t key[2],
                       uint32_t out[4]) {
  uint32_t c[4] = {counter[0], counter[1], counter[2], counter[3]};
  uint32_t k0 = key[0], k1 = key[1];
  for (int round = 0; round < 10; ++round) {
    if (round > 0) {
      k0 += 0x9E3779B9u;
      k1 += 0xBB67AE85u;
    }
    uint64_t p0 = (uint64_t)0xD2511F53u * c[0];
    uint64_t p1 = (uint64_t)0xCD9E8D57u * c[2];
    uint32_t n0 = (uint32_t)(p1 >> 32) ^ c[1] ^ k0;
    uint32_t n1 = (uint32_t)p1;
    uint32_t n2 = (uint32_t)(p0 >> 32) ^ c[3] ^ k1;
    uint32_t n3 = (uint32_t)p0;
    c[0] = n0;
    c[1] = n1;
    c[2] = n2;
    c[3] = n3;
  }
  memcpy(out, c, sizeof c);
}

/* sigma and u of §1.6 steps 3 and 4 from testPhilox. */
static float testSign(uint64_t seed, int64_t t) {
  const uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
  const uint32_t counter[4] = {0, 0, 0xFFFFFFFFu, (uint32_t)t};
  uint32_t o[4];
  testPhilox(counter, key, o);
  return (o[0] & 1u) == 0 ? 1.0f : -1.0f;
}

static float testNoise(uint64_t seed, int64_t t, int64_t k, int64_t i) {
  const uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
  const uint32_t counter[4] = {(uint32_t)(uint64_t)i,
                               (uint32_t)((uint64_t)i >> 32), (uint32_t)k,
                               (uint32_t)t};
  uint32_t o[4];
  testPhilox(counter, key, o);
  float a = (float)(o[0] >> 8) * 0x1p-24f;
  return (2.0f * a - 1.0f) * 1.7320508f;
}

/* The number of elements of x and y whose bits differ. */
static int64_t bitMismatches(const float *x, const float *y, int64_t n) {
  int64_t count = 0;
  for (int64_t i = 0; i < n; ++i)
    count += memcmp(&x[i], &y[i], sizeof(float)) != 0;
  return count;
}

static int sameFloat(float x, float y) { return memcmp(&x, &y, sizeof x) == 0; }

enum { kMaxParams = 4 };

/* L(w) = sum_k sum_i a_k,i w_k,i^2 + b_k,i w_k,i, summed in double and
 * rounded once; counts its calls and copies the probes of the first two
 * into record[call][k] where given. */
typedef struct Quadratic {
  int64_t numParams;
  int64_t numel[kMaxParams];
  const double *a[kMaxParams];
  const double *b[kMaxParams];
  int calls;
  float *record[2][kMaxParams];
} Quadratic;

static float quadraticLoss(void *context, const float *const *params) {
  Quadratic *f = (Quadratic *)context;
  int call = f->calls++;
  double sum = 0.0;
  for (int64_t k = 0; k < f->numParams; ++k) {
    for (int64_t i = 0; i < f->numel[k]; ++i) {
      double w = params[k][i];
      sum += f->a[k][i] * w * w + f->b[k][i] * w;
      if (call < 2 && f->record[call][k])
        f->record[call][k][i] = params[k][i];
    }
  }
  return (float)sum;
}

static int64_t numelOf(const CageRefFogzoParam *p) {
  int64_t n = 1;
  for (int64_t d = 0; d < p->rank; ++d)
    n *= p->dims[d];
  return n;
}

/*===----------------------------------------------------------------------===*
 * Validation
 *===----------------------------------------------------------------------===*/

static float sentinelG0[8], sentinelG1[3];
static CageRefFogzoTrace sentinelTrace;

static void resetOutputs(float *G0, float *G1, CageRefFogzoTrace *trace,
                         Quadratic *f) {
  for (int i = 0; i < 8; ++i)
    G0[i] = sentinelG0[i] = 12345.0f;
  for (int i = 0; i < 3; ++i)
    G1[i] = sentinelG1[i] = -6789.0f;
  memset(trace, 0xAB, sizeof *trace);
  memcpy(&sentinelTrace, trace, sizeof *trace);
  f->calls = 0;
}

/* "label: status", then " WROTE" / " CALLED" if an output was touched or
 * the loss was called. */
static void report(const char *label, int status, const float *G0,
                   const float *G1, const CageRefFogzoTrace *trace,
                   const Quadratic *f) {
  int wrote = bitMismatches(G0, sentinelG0, 8) != 0 ||
              bitMismatches(G1, sentinelG1, 3) != 0 ||
              memcmp(trace, &sentinelTrace, sizeof *trace) != 0;
  printf("%s: %d%s%s\n", label, status, wrote ? " WROTE" : "",
         f->calls ? " CALLED" : "");
}

static void testValidation(void) {
  printf("fogzo validation\n");
  const int64_t dims0[2] = {2, 4}, dims1[1] = {3};
  const float w0[8] = {1, 2, 3, 4, 5, 6, 7, 8},
              g0[8] = {1, 1, 1, 1, 1, 1, 1, 1};
  const float w1[3] = {1, 2, 3}, g1[3] = {0.5f, 0.5f, 0.5f};
  const double ones[8] = {1, 1, 1, 1, 1, 1, 1, 1};
  CageRefQuantizer q = quantizerWithBits(4);
  CageRefFogzo s = {0.5f, 0.0f, 7, 0.0f};
  float G0[8], G1[3];
  float *G[2] = {G0, G1};
  CageRefFogzoTrace trace;
  Quadratic f = {2, {8, 3}, {ones, ones}, {ones, ones}, 0, {{0}, {0}}};

#define BASE_PARAMS                                                            \
  CageRefFogzoParam P[2] = {{2, dims0, w0, g0, &q}, {1, dims1, w1, g1, NULL}}; \
  (void)P
#define TRY(label, call)                                                       \
  do {                                                                         \
    resetOutputs(G0, G1, &trace, &f);                                          \
    int status_ = (call);                                                      \
    report(label, status_, G0, G1, &trace, &f);                                \
  } while (0)

  {
    BASE_PARAMS;
    float *Gnull[2] = {G0, NULL};
    TRY("s NULL", cageRefFogzo(NULL, 3, 8, 2, P, quadraticLoss, &f, G, &trace));
    TRY("params NULL",
        cageRefFogzo(&s, 3, 8, 2, NULL, quadraticLoss, &f, G, &trace));
    TRY("loss NULL", cageRefFogzo(&s, 3, 8, 2, P, NULL, &f, G, &trace));
    TRY("G NULL",
        cageRefFogzo(&s, 3, 8, 2, P, quadraticLoss, &f, NULL, &trace));
    TRY("G[1] NULL",
        cageRefFogzo(&s, 3, 8, 2, P, quadraticLoss, &f, Gnull, &trace));
  }
  // CHECK-LABEL: fogzo validation
  // CHECK-NEXT: s NULL: 1{{$}}
  // CHECK-NEXT: params NULL: 1{{$}}
  // CHECK-NEXT: loss NULL: 1{{$}}
  // CHECK-NEXT: G NULL: 1{{$}}
  // CHECK-NEXT: G[1] NULL: 1{{$}}
  {
    BASE_PARAMS;
    P[0].w = NULL;
    TRY("w NULL", cageRefFogzo(&s, 3, 8, 2, P, quadraticLoss, &f, G, &trace));
  }
  {
    BASE_PARAMS;
    P[1].g = NULL;
    TRY("g NULL", cageRefFogzo(&s, 3, 8, 2, P, quadraticLoss, &f, G, &trace));
  }
  {
    BASE_PARAMS;
    P[0].dims = NULL;
    TRY("dims NULL",
        cageRefFogzo(&s, 3, 8, 2, P, quadraticLoss, &f, G, &trace));
  }
  {
    BASE_PARAMS;
    P[1].rank = 0;
    TRY("rank 0", cageRefFogzo(&s, 3, 8, 2, P, quadraticLoss, &f, G, &trace));
  }
  {
    BASE_PARAMS;
    const int64_t bad[2] = {2, 0};
    P[0].dims = bad;
    TRY("dim 0", cageRefFogzo(&s, 3, 8, 2, P, quadraticLoss, &f, G, &trace));
  }
  // CHECK-NEXT: w NULL: 1{{$}}
  // CHECK-NEXT: g NULL: 1{{$}}
  // CHECK-NEXT: dims NULL: 1{{$}}
  // CHECK-NEXT: rank 0: 2{{$}}
  // CHECK-NEXT: dim 0: 2{{$}}
  {
    BASE_PARAMS;
    TRY("t 0", cageRefFogzo(&s, 0, 8, 2, P, quadraticLoss, &f, G, &trace));
    TRY("t -5", cageRefFogzo(&s, -5, 8, 2, P, quadraticLoss, &f, G, &trace));
    TRY("T 0", cageRefFogzo(&s, 3, 0, 2, P, quadraticLoss, &f, G, &trace));
    TRY("numParams 0",
        cageRefFogzo(&s, 3, 8, 0, P, quadraticLoss, &f, G, &trace));
  }
  // CHECK-NEXT: t 0: 4{{$}}
  // CHECK-NEXT: t -5: 4{{$}}
  // CHECK-NEXT: T 0: 4{{$}}
  // CHECK-NEXT: numParams 0: 4{{$}}
  {
    BASE_PARAMS;
    const struct {
      const char *label;
      CageRefFogzo settings;
    } bad[] = {
        {"betaMin -0.1", {-0.1f, 0.0f, 7, 0.0f}},
        {"betaMin 1.5", {1.5f, 0.0f, 7, 0.0f}},
        {"betaMin NaN", {NAN, 0.0f, 7, 0.0f}},
        {"direction 2", {0.5f, 0.0f, 7, 0.0f, (CageFogzoDirection)2}},
        {"start 1", {0.5f, 1.0f, 7, 0.0f}},
        {"start -0.25", {0.5f, -0.25f, 7, 0.0f}},
        {"start inf", {0.5f, INFINITY, 7, 0.0f}},
        {"epsilon -1e-3", {0.5f, 0.0f, 7, -1e-3f}},
        {"epsilon NaN", {0.5f, 0.0f, 7, NAN}},
        {"epsilon inf", {0.5f, 0.0f, 7, INFINITY}},
    };
    for (size_t j = 0; j < sizeof bad / sizeof bad[0]; ++j)
      TRY(bad[j].label, cageRefFogzo(&bad[j].settings, 3, 8, 2, P,
                                     quadraticLoss, &f, G, &trace));
  }
  // CHECK-NEXT: betaMin -0.1: 4{{$}}
  // CHECK-NEXT: betaMin 1.5: 4{{$}}
  // CHECK-NEXT: betaMin NaN: 4{{$}}
  // CHECK-NEXT: direction 2: 4{{$}}
  // CHECK-NEXT: start 1: 4{{$}}
  // CHECK-NEXT: start -0.25: 4{{$}}
  // CHECK-NEXT: start inf: 4{{$}}
  // CHECK-NEXT: epsilon -1e-3: 4{{$}}
  // CHECK-NEXT: epsilon NaN: 4{{$}}
  // CHECK-NEXT: epsilon inf: 4{{$}}
  {
    BASE_PARAMS;
    CageRefQuantizer bad[6];
    const char *labels[6] = {"bits 9",       "stochastic",   "operand",
                             "group size 3", "group size 8", "block 8"};
    for (int j = 0; j < 6; ++j)
      bad[j] = q;
    bad[0].bits = 9;
    bad[1].rounding = CageRoundingStochastic;
    bad[2].scale = CageScaleKindOperand;
    bad[3].granularity = CageGranularityGroup;
    bad[3].groupSize = 3;
    bad[4].granularity = CageGranularityGroup;
    bad[4].groupSize = 8; /* does not divide n = 4 */
    bad[5].rotation = CageRotationHadamard;
    bad[5].block = 8;
    for (int j = 0; j < 6; ++j) {
      P[0].q = &bad[j];
      TRY(labels[j],
          cageRefFogzo(&s, 3, 8, 2, P, quadraticLoss, &f, G, &trace));
    }
  }
  // CHECK-NEXT: bits 9: 3{{$}}
  // CHECK-NEXT: stochastic: 3{{$}}
  // CHECK-NEXT: operand: 3{{$}}
  // CHECK-NEXT: group size 3: 3{{$}}
  // CHECK-NEXT: group size 8: 3{{$}}
  // CHECK-NEXT: block 8: 3{{$}}
  {
    /* No quantized parameter and epsilon 0: no way to find eps; fine with
     * an explicit epsilon. Validation does not depend on the step being
     * active: start 0.9 makes t = 3 of 8 inactive. */
    BASE_PARAMS;
    P[0].q = NULL;
    TRY("no quantizer, epsilon 0",
        cageRefFogzo(&s, 3, 8, 2, P, quadraticLoss, &f, G, &trace));
    CageRefFogzo late = s;
    late.start = 0.9f;
    TRY("no quantizer, epsilon 0, inactive",
        cageRefFogzo(&late, 3, 8, 2, P, quadraticLoss, &f, G, &trace));
    CageRefQuantizer stochastic = q;
    stochastic.rounding = CageRoundingStochastic;
    P[0].q = &stochastic;
    TRY("stochastic, inactive",
        cageRefFogzo(&late, 3, 8, 2, P, quadraticLoss, &f, G, &trace));
  }
  // CHECK-NEXT: no quantizer, epsilon 0: 4{{$}}
  // CHECK-NEXT: no quantizer, epsilon 0, inactive: 4{{$}}
  // CHECK-NEXT: stochastic, inactive: 3{{$}}
  {
    /* The control: the same arguments, valid, write G and call the loss
     * twice. */
    BASE_PARAMS;
    TRY("valid", cageRefFogzo(&s, 3, 8, 2, P, quadraticLoss, &f, G, &trace));
    printf("valid: loss calls %d, active %d\n", f.calls, trace.active);
    CageRefFogzo explicitEps = s;
    explicitEps.epsilon = 0.01f;
    P[0].q = NULL;
    TRY("no quantizer, epsilon 0.01",
        cageRefFogzo(&explicitEps, 3, 8, 2, P, quadraticLoss, &f, G, &trace));
  }
  // CHECK-NEXT: valid: 0 WROTE CALLED
  // CHECK-NEXT: valid: loss calls 2, active 1
  // CHECK-NEXT: no quantizer, epsilon 0.01: 0 WROTE CALLED
#undef TRY

  {
    /* cageRefFogzoStep: its own NULLs, no quantizer, a bad quantizer; g is
     * not needed. h is untouched on failure. */
    BASE_PARAMS;
    double h = -1.0;
    printf("step params NULL: %d\n", cageRefFogzoStep(2, NULL, &h));
    printf("step h NULL: %d\n", cageRefFogzoStep(2, P, NULL));
    printf("step numParams 0: %d\n", cageRefFogzoStep(0, P, &h));
    P[0].w = NULL;
    printf("step w NULL: %d\n", cageRefFogzoStep(2, P, &h));
    P[0].w = w0;
    P[0].q = NULL;
    printf("step no quantizer: %d\n", cageRefFogzoStep(2, P, &h));
    CageRefQuantizer operand = q;
    operand.scale = CageScaleKindOperand;
    P[0].q = &operand;
    printf("step operand: %d\n", cageRefFogzoStep(2, P, &h));
    printf("h untouched: %s\n", h == -1.0 ? "yes" : "no");
    P[0].q = &q;
    P[0].g = NULL;
    P[1].g = NULL;
    int status = cageRefFogzoStep(2, P, &h);
    printf("step g NULL: %d, h = %g\n", status, h);
  }
  // CHECK-NEXT: step params NULL: 1
  // CHECK-NEXT: step h NULL: 1
  // CHECK-NEXT: step numParams 0: 4
  // CHECK-NEXT: step w NULL: 1
  // CHECK-NEXT: step no quantizer: 4
  // CHECK-NEXT: step operand: 3
  // CHECK-NEXT: h untouched: yes
  // Rows of w0: alpha 4 and 8, steps 4/7 and 8/7, mean 6/7.
  // CHECK-NEXT: step g NULL: 0, h = 0.857143
#undef BASE_PARAMS
}

/*===----------------------------------------------------------------------===*
 * Inactive steps
 *===----------------------------------------------------------------------===*/

static void testInactive(void) {
  printf("fogzo inactive\n");
  const int64_t dims0[2] = {2, 3}, dims1[1] = {2};
  const float w0[6] = {1, 2, 3, 4, 5, 6}, w1[2] = {-1, 1};
  /* Signed zeros, a subnormal, a large value: copied bit for bit. */
  const float g0[6] = {-0.0f, 0.0f, 1e-40f, -3.5f, 1e30f, 0.1f};
  const float g1[2] = {-2.0f, 7.25f};
  const double ones[6] = {1, 1, 1, 1, 1, 1};
  CageRefQuantizer q = quantizerWithBits(4);
  CageRefFogzoParam P[2] = {{2, dims0, w0, g0, &q}, {1, dims1, w1, g1, NULL}};
  Quadratic f = {2, {6, 2}, {ones, ones}, {ones, ones}, 0, {{0}, {0}}};
  CageRefFogzo s = {0.999f, 0.5f, 99, 0.0f};
  float G0[6], G1[2];
  float *G[2] = {G0, G1};
  const int64_t steps[3] = {1, 5, 6};
  for (int j = 0; j < 3; ++j) {
    CageRefFogzoTrace trace;
    memset(&trace, 0xAB, sizeof trace);
    f.calls = 0;
    int status =
        cageRefFogzo(&s, steps[j], 10, 2, P, quadraticLoss, &f, G, &trace);
    int64_t mismatches = bitMismatches(G0, g0, 6) + bitMismatches(G1, g1, 2);
    /* Field by field: the padding after `active` need not be copied. */
    int zero = trace.norm == 0.0 && trace.beta == 0.0f && trace.sigma == 0.0f &&
               trace.epsilon == 0.0f && trace.lossPlus == 0.0f &&
               trace.lossMinus == 0.0f && trace.scale == 0.0f;
    printf("t %d: status %d, active %d, calls %d, G != g: %d, trace %s\n",
           (int)steps[j], status, trace.active, f.calls, (int)mismatches,
           trace.active ? "active"
           : zero       ? "zero"
                        : "NOT ZERO");
  }
  // r = 0.1 and r = 0.5 (not > start) are inactive; r = 0.6 is active.
  // CHECK-LABEL: fogzo inactive
  // CHECK-NEXT: t 1: status 0, active 0, calls 0, G != g: 0, trace zero
  // CHECK-NEXT: t 5: status 0, active 0, calls 0, G != g: 0, trace zero
  // CHECK-NEXT: t 6: status 0, active 1, calls 2, G != g: 8, trace active

  /* In place: G[k] is params[k].g. */
  float inPlace0[6], inPlace1[2];
  memcpy(inPlace0, g0, sizeof g0);
  memcpy(inPlace1, g1, sizeof g1);
  CageRefFogzoParam Q[2] = {{2, dims0, w0, inPlace0, &q},
                            {1, dims1, w1, inPlace1, NULL}};
  float *Gin[2] = {inPlace0, inPlace1};
  int status = cageRefFogzo(&s, 2, 10, 2, Q, quadraticLoss, &f, Gin, NULL);
  printf(
      "in place, no trace: status %d, G != g bits: %d\n", status,
      (int)(bitMismatches(inPlace0, g0, 6) + bitMismatches(inPlace1, g1, 2)));
  // CHECK-NEXT: in place, no trace: status 0, G != g bits: 0
}

/*===----------------------------------------------------------------------===*
 * Sign and noise
 *===----------------------------------------------------------------------===*/

static void testSignAndNoise(void) {
  printf("fogzo sign and noise\n");
  /* The test's Philox against Random123's kat_vectors lines (see
   * philox.c): all-zero and the pi-digits line. */
  {
    const uint32_t c0[4] = {0, 0, 0, 0}, k0[2] = {0, 0};
    const uint32_t c2[4] = {0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u};
    const uint32_t k2[2] = {0xa4093822u, 0x299f31d0u};
    uint32_t o0[4], o2[4];
    testPhilox(c0, k0, o0);
    testPhilox(c2, k2, o2);
    printf("test philox kat: %08x %08x\n", o0[0], o2[0]);
  }
  // CHECK-LABEL: fogzo sign and noise
  // CHECK-NEXT: test philox kat: 6627e8d5 d16cfe09

  /* Noise known answers from those vectors: counter (i lo, i hi, k, t).
   * Seed 0, t 0, k 0, i 0: o[0] = 0x6627e8d5, a = 0x6627e8 / 2^24 =
   * 6694888 / 2^24, 2a - 1 = -3387440 / 2^24 = -0.20190716 (exact), times
   * 1.7320508f: u = -0.34971344 (numpy f32: -0.349713445). The pi line:
   * seed 0x299f31d0a4093822, t = 0x03707344, k = 0x13198a2e,
   * i = 0x85a308d3243f6a88: o[0] = 0xd16cfe09, a = 13724926 / 2^24,
   * 2a - 1 = 10672636 / 2^24 = 0.63613868, u = 1.1018245 (numpy f32:
   * 1.10182452). */
  printf("noise kat: %.8g %.8g\n", (double)cageRefFogzoNoise(0, 0, 0, 0),
         (double)cageRefFogzoNoise(UINT64_C(0x299f31d0a4093822), 0x03707344,
                                   0x13198a2e,
                                   (int64_t)UINT64_C(0x85a308d3243f6a88)));
  // CHECK-NEXT: noise kat: -0.34971344 1.1018245

  /* Against testPhilox for a few seeds, steps (t's low 32 bits only),
   * parameters and indices (beyond 32 bits). */
  const uint64_t seeds[4] = {0, 1, UINT64_C(0x299f31d0a4093822), UINT64_MAX};
  const int64_t steps[4] = {1, 2, 1000, (INT64_C(1) << 32) + 5};
  const int64_t ks[3] = {0, 1, 7};
  const int64_t is[4] = {0, 1, 12345, (INT64_C(1) << 32) + 3};
  int signMismatches = 0, noiseMismatches = 0, checked = 0;
  for (int a = 0; a < 4; ++a) {
    for (int b = 0; b < 4; ++b) {
      float sign = cageRefFogzoSign(seeds[a], steps[b]);
      signMismatches += !sameFloat(sign, testSign(seeds[a], steps[b]));
      signMismatches += !sameFloat(sign, cageRefFogzoSign(seeds[a], steps[b]));
      for (int c = 0; c < 3; ++c) {
        for (int d = 0; d < 4; ++d) {
          float u = cageRefFogzoNoise(seeds[a], steps[b], ks[c], is[d]);
          noiseMismatches +=
              !sameFloat(u, testNoise(seeds[a], steps[b], ks[c], is[d]));
          noiseMismatches += !sameFloat(
              u, cageRefFogzoNoise(seeds[a], steps[b], ks[c], is[d]));
          ++checked;
        }
      }
    }
  }
  printf("noise checked %d, sign mismatches %d, noise mismatches %d\n", checked,
         signMismatches, noiseMismatches);
  printf("t and t + 2^32 agree: %s\n",
         sameFloat(cageRefFogzoSign(3, 5),
                   cageRefFogzoSign(3, (INT64_C(1) << 32) + 5)) &&
                 sameFloat(cageRefFogzoNoise(3, 5, 1, 9),
                           cageRefFogzoNoise(3, (INT64_C(1) << 32) + 5, 1, 9))
             ? "yes"
             : "no");
  // CHECK-NEXT: noise checked 192, sign mismatches 0, noise mismatches 0
  // CHECK-NEXT: t and t + 2^32 agree: yes

  /* Statistics over N = 2^20 elements of parameter 0 (seed 2024, t 17).
   * u is uniform on [-sqrt 3, sqrt 3) (to 2^-23): mean 0, variance 1,
   * fourth moment 9/5. The sample mean has standard error sqrt(1 / N) =
   * 1/1024 = 9.8e-4; the sample variance sqrt((9/5 - 1) / N) = 8.7e-4. The
   * tolerances are 5 standard errors (a false alarm below 1e-6 for a good
   * generator; the values are deterministic anyway). The same for the mean
   * of u_0,i * u_1,i (parameters 0 and 1 at the same index: variance 1),
   * which is 0 for independent streams. */
  {
    const int64_t n = INT64_C(1) << 20;
    double sum = 0.0, sumSquares = 0.0, cross = 0.0;
    int outside = 0;
    for (int64_t i = 0; i < n; ++i) {
      float u = cageRefFogzoNoise(2024, 17, 0, i);
      float other = cageRefFogzoNoise(2024, 17, 1, i);
      outside += !(fabsf(u) <= 1.7320508f);
      sum += u;
      sumSquares += (double)u * u;
      cross += (double)u * other;
    }
    double mean = sum / (double)n;
    double variance = sumSquares / (double)n - mean * mean;
    double seMean = 1.0 / sqrt((double)n);
    double seVariance = sqrt(0.8 / (double)n);
    printf("noise mean %.6f (tolerance %.6f): %s\n", mean, 5 * seMean,
           fabs(mean) < 5 * seMean ? "ok" : "FAIL");
    printf("noise variance %.6f (tolerance 1 +- %.6f): %s\n", variance,
           5 * seVariance,
           fabs(variance - 1.0) < 5 * seVariance ? "ok" : "FAIL");
    printf("noise cross mean %.6f: %s\n", cross / (double)n,
           fabs(cross / (double)n) < 5 * seMean ? "ok" : "FAIL");
    printf("outside [-sqrt 3, sqrt 3]: %d\n", outside);
  }
  // CHECK-NEXT: noise mean {{.*}}: ok
  // CHECK-NEXT: noise variance {{.*}}: ok
  // CHECK-NEXT: noise cross mean {{.*}}: ok
  // CHECK-NEXT: outside [-sqrt 3, sqrt 3]: 0

  /* The sign over 2^16 steps: P(+1) = 1/2 within 5 standard errors
   * (sqrt(1/4 / 2^16) = 0.00195). */
  {
    int plus = 0;
    const int n = 1 << 16;
    for (int t = 1; t <= n; ++t)
      plus += cageRefFogzoSign(55, t) > 0.0f;
    double fraction = (double)plus / n;
    printf("sign +1 fraction %.4f: %s\n", fraction,
           fabs(fraction - 0.5) < 5 * 0.00195 ? "ok" : "FAIL");
  }
  // CHECK-NEXT: sign +1 fraction {{.*}}: ok
}

/*===----------------------------------------------------------------------===*
 * The mean step h
 *===----------------------------------------------------------------------===*/

static void testStep(void) {
  printf("fogzo step\n");
  /* int, row, 4 bits (qmax 7): rows with alpha 3.5 and 7, steps 0.5 and 1;
   * h = (4 * 0.5 + 4 * 1) / 8 = 0.75. */
  const int64_t dimsInt[2] = {2, 4};
  const float wInt[8] = {0.5f, -3.5f, 1, 2, 7, -1, 0, 3};
  CageRefQuantizer qInt = quantizerWithBits(4);
  /* centered, group of 2, 2 bits (2^b - 1 = 3): groups with alpha 1.5 and
   * 3, steps 2 * 1.5 / 3 = 1 and 2 * 3 / 3 = 2; h = (2 + 4) / 4 = 1.5. */
  const int64_t dimsCentered[2] = {1, 4};
  const float wCentered[4] = {1.5f, -1, -3, 2};
  CageRefQuantizer qCentered = quantizerWithBits(2);
  qCentered.levels = CageLevelsCentered;
  qCentered.granularity = CageGranularityGroup;
  qCentered.groupSize = 2;
  /* An unquantized parameter: not counted. */
  const int64_t dimsPlain[1] = {5};
  const float wPlain[5] = {100, 200, 300, 400, 500};
  double h = 0.0;

  CageRefFogzoParam P[3] = {{2, dimsInt, wInt, NULL, &qInt},
                            {2, dimsCentered, wCentered, NULL, &qCentered},
                            {1, dimsPlain, wPlain, NULL, NULL}};
  if (expectOk("step", cageRefFogzoStep(1, &P[0], &h)))
    printf("int row: %.17g\n", h);
  if (expectOk("step", cageRefFogzoStep(1, &P[1], &h)))
    printf("centered group: %.17g\n", h);
  /* Both, and the plain one: (2 + 4 + 2 + 4) / (8 + 4) = 1. */
  if (expectOk("step", cageRefFogzoStep(3, P, &h)))
    printf("both + plain: %.17g\n", h);
  // CHECK-LABEL: fogzo step
  // CHECK-NEXT: int row: 0.75
  // CHECK-NEXT: centered group: 1.5
  // CHECK-NEXT: both + plain: 1

  /* Rotation: [1 1 1 1] H_4 = [2 0 0 0], so alpha = 2 (not 1), and with 3
   * bits (qmax 3) the step is the f32 2.0f / 3.0f. */
  {
    const int64_t dims[2] = {1, 4};
    const float w[4] = {1, 1, 1, 1};
    CageRefQuantizer q = quantizerWithBits(3);
    q.granularity = CageGranularityTensor;
    q.rotation = CageRotationHadamard;
    q.block = 4;
    CageRefFogzoParam R = {2, dims, w, NULL, &q};
    if (expectOk("step", cageRefFogzoStep(1, &R, &h)))
      printf("hadamard: h == (double)(2.0f / 3.0f): %s\n",
             h == (double)(2.0f / 3.0f) ? "yes" : "no");
    /* rms_gaussian, tensor, 4 bits: mean(x^2) = 1, alpha = 2.51393f + 1e-8f
     * = 2.51393f (1e-8 is below half an ulp), step 2.51393f / 7.0f. */
    const float wr[4] = {1, -1, 1, -1};
    q.rotation = CageRotationNone;
    q.bits = 4;
    q.scale = CageScaleKindRmsGaussian;
    R.w = wr;
    if (expectOk("step", cageRefFogzoStep(1, &R, &h)))
      printf("rms_gaussian: h == (double)(2.51393f / 7.0f): %s\n",
             h == (double)(2.51393f / 7.0f) ? "yes" : "no");
  }
  // CHECK-NEXT: hadamard: h == (double)(2.0f / 3.0f): yes
  // CHECK-NEXT: rms_gaussian: h == (double)(2.51393f / 7.0f): yes

  /* eps = (float)(h / (2 sqrt 3)) when epsilon is 0: with h = 1,
   * 1 / (2 sqrt 3) = 0.28867513. */
  {
    const float g0[8] = {1, 0, 0, 0, 0, 0, 0, 0}, g1[4] = {0}, g2[5] = {0};
    CageRefFogzoParam Q[3] = {{2, dimsInt, wInt, g0, &qInt},
                              {2, dimsCentered, wCentered, g1, &qCentered},
                              {1, dimsPlain, wPlain, g2, NULL}};
    const double ones[8] = {1, 1, 1, 1, 1, 1, 1, 1};
    Quadratic f = {3, {8, 4, 5}, {ones, ones, ones}, {ones, ones, ones},
                   0, {{0}, {0}}};
    CageRefFogzo s = {0.5f, 0.0f, 1, 0.0f};
    float G0[8], G1[4], G2[5];
    float *G[3] = {G0, G1, G2};
    CageRefFogzoTrace trace;
    if (expectOk("fogzo",
                 cageRefFogzo(&s, 1, 2, 3, Q, quadraticLoss, &f, G, &trace)))
      printf("derived eps %.8g == (float)(1 / (2 sqrt 3)): %s\n",
             (double)trace.epsilon,
             trace.epsilon == (float)(1.0 / (2.0 * sqrt(3.0))) ? "yes" : "no");
  }
  // CHECK-NEXT: derived eps 0.28867513 == (float)(1 / (2 sqrt 3)): yes
}

/*===----------------------------------------------------------------------===*
 * The whole estimate, recomputed from the formulas
 *===----------------------------------------------------------------------===*/

typedef struct Expected {
  double norm;
  float beta, sigma, epsilon, lossPlus, lossMinus, scale;
  float plus[kMaxParams][16], minus[kMaxParams][16], G[kMaxParams][16];
} Expected;

/* Semantics §1.6 with the orders of Reference.h, in the test's own code: the
 * clip values for absmax without rotation, the grids' steps, testSign and
 * testNoise. f computes the loss of the expected probes. */
static void expectFogzo(const CageRefFogzo *s, int64_t t, int64_t T,
                        int64_t numParams, const CageRefFogzoParam *P,
                        Quadratic *f, Expected *e) {
  double sum = 0.0;
  for (int64_t k = 0; k < numParams; ++k)
    for (int64_t i = 0; i < numelOf(&P[k]); ++i)
      sum += (double)P[k].g[i] * (double)P[k].g[i];
  double norm = sqrt(sum);
  int64_t n = 0;
  for (int64_t k = 0; k < numParams; ++k)
    n += numelOf(&P[k]);
  if (norm < 1e-12)
    norm = 1.0;
  else if (s->direction == CageFogzoDirectionUnitRms)
    norm = norm / sqrt((double)n);
  float nf = (float)norm;
  float r = (float)t / (float)T;
  r = r < 1.0f ? r : 1.0f;
  float beta = s->betaMin + (1.0f - s->betaMin) * (1.0f - r);
  float sigma = testSign(s->seed, t);
  float cb = sqrtf(beta) * sigma, cu = sqrtf(1.0f - beta);
  float v[kMaxParams][16];
  for (int64_t k = 0; k < numParams; ++k)
    for (int64_t i = 0; i < numelOf(&P[k]); ++i) {
      float ghat = P[k].g[i] / nf;
      v[k][i] = cb * ghat + cu * testNoise(s->seed, t, k, i);
    }
  float eps = s->epsilon;
  if (eps == 0.0f) {
    double stepSum = 0.0;
    int64_t count = 0;
    for (int64_t k = 0; k < numParams; ++k) {
      const CageRefQuantizer *q = P[k].q;
      if (!q)
        continue;
      int64_t numel = numelOf(&P[k]), n = P[k].dims[P[k].rank - 1];
      int64_t elements = q->granularity == CageGranularityTensor ? numel
                         : q->granularity == CageGranularityRow  ? n
                                                                 : q->groupSize;
      for (int64_t start = 0; start < numel; start += elements) {
        float m = 0.0f;
        for (int64_t i = start; i < start + elements; ++i)
          m = fabsf(P[k].w[i]) > m ? fabsf(P[k].w[i]) : m;
        float alpha = m > 1e-8f ? m : 1e-8f;
        float step = q->levels == CageLevelsCentered
                         ? (2.0f * alpha) / (float)((1 << q->bits) - 1)
                         : alpha / (float)((1 << (q->bits - 1)) - 1);
        stepSum += (double)elements * (double)step;
      }
      count += numel;
    }
    eps = (float)(stepSum / (double)count / (2.0 * sqrt(3.0)));
  }
  const float *plus[kMaxParams], *minus[kMaxParams];
  for (int64_t k = 0; k < numParams; ++k) {
    for (int64_t i = 0; i < numelOf(&P[k]); ++i) {
      e->plus[k][i] = P[k].w[i] + eps * v[k][i];
      e->minus[k][i] = P[k].w[i] - eps * v[k][i];
    }
    plus[k] = e->plus[k];
    minus[k] = e->minus[k];
  }
  float lossPlus = quadraticLoss(f, plus);
  float lossMinus = quadraticLoss(f, minus);
  float scale = (lossPlus - lossMinus) / (2.0f * eps);
  for (int64_t k = 0; k < numParams; ++k)
    for (int64_t i = 0; i < numelOf(&P[k]); ++i)
      e->G[k][i] = scale * v[k][i];
  e->norm = norm;
  e->beta = beta;
  e->sigma = sigma;
  e->epsilon = eps;
  e->lossPlus = lossPlus;
  e->lossMinus = lossMinus;
  e->scale = scale;
}

/* cageRefFogzo against expectFogzo: the probes the loss saw (plus first),
 * G and the trace, bit for bit; prints the number of differences. */
static void compareFogzo(const char *label, const CageRefFogzo *s, int64_t t,
                         int64_t T, int64_t numParams,
                         const CageRefFogzoParam *P, Quadratic *f) {
  Expected e;
  Quadratic plain = *f;
  for (int k = 0; k < kMaxParams; ++k)
    plain.record[0][k] = plain.record[1][k] = NULL;
  expectFogzo(s, t, T, numParams, P, &plain, &e);

  float seen[2][kMaxParams][16], G[kMaxParams][16];
  float *Gp[kMaxParams];
  for (int64_t k = 0; k < numParams; ++k) {
    f->record[0][k] = seen[0][k];
    f->record[1][k] = seen[1][k];
    Gp[k] = G[k];
  }
  f->calls = 0;
  CageRefFogzoTrace trace;
  if (!expectOk(label, cageRefFogzo(s, t, T, numParams, P, quadraticLoss, f, Gp,
                                    &trace)))
    return;
  int64_t probeDiff = 0, gDiff = 0;
  for (int64_t k = 0; k < numParams; ++k) {
    int64_t n = numelOf(&P[k]);
    probeDiff += bitMismatches(seen[0][k], e.plus[k], n) +
                 bitMismatches(seen[1][k], e.minus[k], n);
    gDiff += bitMismatches(G[k], e.G[k], n);
  }
  int traceSame = trace.active == 1 && trace.norm == e.norm &&
                  sameFloat(trace.beta, e.beta) &&
                  sameFloat(trace.sigma, e.sigma) &&
                  sameFloat(trace.epsilon, e.epsilon) &&
                  sameFloat(trace.lossPlus, e.lossPlus) &&
                  sameFloat(trace.lossMinus, e.lossMinus) &&
                  sameFloat(trace.scale, e.scale);
  printf("%s: calls %d, probe diffs %d, G diffs %d, trace %s\n", label,
         f->calls, (int)probeDiff, (int)gDiff,
         traceSame ? "same" : "different");
  for (int64_t k = 0; k < numParams; ++k)
    f->record[0][k] = f->record[1][k] = NULL;
}

static void testFormula(void) {
  printf("fogzo formula\n");
  const int64_t dims0[2] = {2, 4}, dims1[1] = {3}, dims2[2] = {1, 8};
  const float w0[8] = {0.3f, -1.7f, 0.9f, 2.2f, -0.4f, 1.1f, -2.9f, 0.05f};
  const float g0[8] = {0.1f, -0.2f, 0.3f, 0.05f, -0.7f, 0.2f, 0.0f, -0.0f};
  const float w1[3] = {1.0f, -2.0f, 0.5f}, g1[3] = {0.25f, -0.125f, 0.6f};
  const float w2[8] = {0.11f, -0.52f, 0.33f, 0.07f, 1.9f, -0.6f, 0.25f, -1.3f};
  const float g2[8] = {0.01f,  0.02f, -0.03f, 0.04f,
                       -0.05f, 0.06f, -0.07f, 0.08f};
  const double a0[8] = {0.5, 1, 1.5, 2, 0.25, 0.75, 1.25, 1.75};
  const double b0[8] = {0.1, -0.2, 0.3, -0.4, 0.5, -0.6, 0.7, -0.8};
  const double a1[3] = {2, 3, 4}, b1[3] = {1, 0, -1};
  const double a2[8] = {1, 1, 1, 1, 1, 1, 1, 1};
  const double b2[8] = {0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7};
  CageRefQuantizer q0 = quantizerWithBits(4);
  CageRefQuantizer q2 = quantizerWithBits(3);
  q2.levels = CageLevelsCentered;
  q2.granularity = CageGranularityGroup;
  q2.groupSize = 4;
  CageRefFogzoParam P[3] = {{2, dims0, w0, g0, &q0},
                            {1, dims1, w1, g1, NULL},
                            {2, dims2, w2, g2, &q2}};
  Quadratic f = {3, {8, 3, 8}, {a0, a1, a2}, {b0, b1, b2}, 0, {{0}, {0}}};

  /* t = 3 of 8: beta_t = 0.5 + 0.5 * (1 - 3/8) = 0.8125, eps from the
   * grids. */
  CageRefFogzo s = {0.5f, 0.1f, UINT64_C(0x123456789abcdef0), 0.0f};
  compareFogzo("derived eps", &s, 3, 8, 3, P, &f);
  /* Other seeds and steps (both signs occur), an explicit eps, t > T. */
  int signs[2] = {0, 0};
  for (uint64_t seed = 1; seed <= 8; ++seed)
    signs[cageRefFogzoSign(seed, 5) > 0.0f] += 1;
  printf("signs over seeds 1..8 at t 5: %s\n",
         signs[0] && signs[1] ? "both" : "one");
  for (uint64_t seed = 1; seed <= 8; ++seed) {
    char label[64];
    s.seed = seed;
    snprintf(label, sizeof label, "seed %d", (int)seed);
    compareFogzo(label, &s, 5, 8, 3, P, &f);
  }
  s.epsilon = 1e-3f;
  compareFogzo("explicit eps", &s, 7, 8, 3, P, &f);
  s.epsilon = 0.0f;
  compareFogzo("t > T", &s, 20, 8, 3, P, &f);
  /* ghat with unit RMS: nf = norm / sqrt(19 elements). */
  s.direction = CageFogzoDirectionUnitRms;
  compareFogzo("unit rms", &s, 3, 8, 3, P, &f);
  s.direction = CageFogzoDirectionUnitNorm;
  // CHECK-LABEL: fogzo formula
  // CHECK-NEXT: derived eps: calls 2, probe diffs 0, G diffs 0, trace same
  // CHECK-NEXT: signs over seeds 1..8 at t 5: both
  // CHECK-COUNT-8: seed {{.}}: calls 2, probe diffs 0, G diffs 0, trace same
  // CHECK-NEXT: explicit eps: calls 2, probe diffs 0, G diffs 0, trace same
  // CHECK-NEXT: t > T: calls 2, probe diffs 0, G diffs 0, trace same
  // CHECK-NEXT: unit rms: calls 2, probe diffs 0, G diffs 0, trace same

  /* A zero gradient: the norm is taken as 1 and v = cu * u (+ cb * 0). */
  {
    const float zero0[8] = {0}, zero1[3] = {0}, zero2[8] = {0};
    CageRefFogzoParam Z[3] = {{2, dims0, w0, zero0, &q0},
                              {1, dims1, w1, zero1, NULL},
                              {2, dims2, w2, zero2, &q2}};
    compareFogzo("zero gradient", &s, 5, 8, 3, Z, &f);
    CageRefFogzoTrace trace;
    float G0[8], G1[3], G2[8];
    float *G[3] = {G0, G1, G2};
    cageRefFogzo(&s, 5, 8, 3, Z, quadraticLoss, &f, G, &trace);
    printf("zero gradient: norm %g\n", trace.norm);
  }
  // CHECK-NEXT: zero gradient: calls 2, probe diffs 0, G diffs 0, trace same
  // CHECK-NEXT: zero gradient: norm 1

  /* In place (G[k] = params[k].g) gives the same bits, and so does a second
   * call: deterministic. */
  {
    float G0[8], G1[3], G2[8];
    float *G[3] = {G0, G1, G2};
    s.seed = 77;
    cageRefFogzo(&s, 5, 8, 3, P, quadraticLoss, &f, G, NULL);
    float i0[8], i1[3], i2[8];
    memcpy(i0, g0, sizeof i0);
    memcpy(i1, g1, sizeof i1);
    memcpy(i2, g2, sizeof i2);
    CageRefFogzoParam I[3] = {{2, dims0, w0, i0, &q0},
                              {1, dims1, w1, i1, NULL},
                              {2, dims2, w2, i2, &q2}};
    float *Gi[3] = {i0, i1, i2};
    cageRefFogzo(&s, 5, 8, 3, I, quadraticLoss, &f, Gi, NULL);
    float H0[8], H1[3], H2[8];
    float *H[3] = {H0, H1, H2};
    cageRefFogzo(&s, 5, 8, 3, P, quadraticLoss, &f, H, NULL);
    printf("in place diffs %d, second call diffs %d\n",
           (int)(bitMismatches(G0, i0, 8) + bitMismatches(G1, i1, 3) +
                 bitMismatches(G2, i2, 8)),
           (int)(bitMismatches(G0, H0, 8) + bitMismatches(G1, H1, 3) +
                 bitMismatches(G2, H2, 8)));
  }
  // CHECK-NEXT: in place diffs 0, second call diffs 0
}

/*===----------------------------------------------------------------------===*
 * beta_t = 0: v = u
 *===----------------------------------------------------------------------===*/

static void testBetaZero(void) {
  printf("fogzo beta zero\n");
  /* betaMin = 0 and t = T: r = 1, beta_t = 0 + 1 * 0 = 0, cb = 0 * sigma,
   * cu = 1, so v = (+-0 * ghat) + (1 * u) = u exactly, and G = scale * u
   * bit for bit. A quantized parameter (eps derived) and a plain one. */
  const int64_t dims0[2] = {3, 5}, dims1[1] = {4};
  float w0[15], g0[15];
  double a0[15], b0[15];
  for (int i = 0; i < 15; ++i) {
    w0[i] = (float)sin(0.7 * i + 0.2);
    g0[i] = (float)cos(1.3 * i);
    a0[i] = 1.0 + 0.1 * i;
    b0[i] = 0.05 * i - 0.3;
  }
  const float w1[4] = {1, 2, 3, 4}, g1[4] = {-1, 0.5f, 0.25f, 2};
  const double a1[4] = {1, 1, 1, 1}, b1[4] = {0, 0, 0, 0};
  CageRefQuantizer q = quantizerWithBits(4);
  CageRefFogzoParam P[2] = {{2, dims0, w0, g0, &q}, {1, dims1, w1, g1, NULL}};
  Quadratic f = {2, {15, 4}, {a0, a1}, {b0, b1}, 0, {{0}, {0}}};
  CageRefFogzo s = {0.0f, 0.0f, 31337, 0.0f};
  float G0[15], G1[4];
  float *G[2] = {G0, G1};
  CageRefFogzoTrace trace;
  const int64_t T = 7;
  if (!expectOk("fogzo",
                cageRefFogzo(&s, T, T, 2, P, quadraticLoss, &f, G, &trace)))
    return;
  int64_t diffs = 0;
  for (int64_t i = 0; i < 15; ++i)
    diffs += !sameFloat(G0[i], trace.scale * cageRefFogzoNoise(31337, T, 0, i));
  for (int64_t i = 0; i < 4; ++i)
    diffs += !sameFloat(G1[i], trace.scale * cageRefFogzoNoise(31337, T, 1, i));
  printf("beta %g, G != scale * u bits: %d\n", (double)trace.beta, (int)diffs);
  // CHECK-LABEL: fogzo beta zero
  // CHECK-NEXT: beta 0, G != scale * u bits: 0
}

/*===----------------------------------------------------------------------===*
 * Unbiasedness for beta = 0 on a quadratic
 *===----------------------------------------------------------------------===*/

static void testUnbiased(void) {
  printf("fogzo unbiased\n");
  /* L(w) = sum a_i w_i^2 + b_i w_i over two parameters (4 and 2x2
   * elements), d = grad L = 2 a w + b. With beta_t = 0 (betaMin 0, t = T),
   * v = u and G = ((L+ - L-) / 2 eps) u. For a quadratic
   * L(w + eps u) - L(w - eps u) = 2 eps d.u exactly (the even terms cancel),
   * so G = (d.u) u up to the f32 roundings of L, and
   *   E[G_i] = sum_j d_j E[u_i u_j] = d_i          (E[u u^T] = I),
   *   Var[G_i] = E[(d.u)^2 u_i^2] - d_i^2
   *            = sum_{j != i} d_j^2 + d_i^2 E[u^4] - d_i^2
   *            = |d|^2 - d_i^2 + (9/5 - 1) d_i^2 = |d|^2 - 0.2 d_i^2,
   * with E[u^4] = 9/5 for u uniform on [-sqrt 3, sqrt 3]. Over N seeds the
   * mean of G_i has standard error sqrt(Var[G_i] / N); each component must
   * be within 5 of them (the f32 rounding of L, about 1e-7 * |L| / (2 eps)
   * = 3e-5 per sample, is far below the 0.02 standard errors). */
  const int64_t dims0[1] = {4}, dims1[2] = {2, 2};
  const float w0[4] = {0.5f, -1.0f, 0.25f, 2.0f};
  const float w1[4] = {-0.75f, 1.5f, 0.0f, -0.25f};
  const double a0[4] = {0.5, 1.0, 2.0, 0.25}, b0[4] = {0.3, -0.2, 0.1, 0.0};
  const double a1[4] = {1.5, 0.75, 1.0, 3.0}, b1[4] = {-0.5, 0.25, 1.0, 0.4};
  double d[8];
  float g0[4], g1[4];
  for (int i = 0; i < 4; ++i) {
    d[i] = 2.0 * a0[i] * w0[i] + b0[i];
    d[4 + i] = 2.0 * a1[i] * w1[i] + b1[i];
    g0[i] = (float)d[i];
    g1[i] = (float)d[4 + i];
  }
  double dd = 0.0;
  for (int i = 0; i < 8; ++i)
    dd += d[i] * d[i];
  CageRefFogzoParam P[2] = {{1, dims0, w0, g0, NULL}, {2, dims1, w1, g1, NULL}};
  Quadratic f = {2, {4, 4}, {a0, a1}, {b0, b1}, 0, {{0}, {0}}};
  const int N = 20000;
  double mean[8] = {0};
  int failed = 0;
  for (int j = 0; j < N; ++j) {
    CageRefFogzo s = {0.0f, 0.0f, (uint64_t)j + 1, 0.01f};
    float G0[4], G1[4];
    float *G[2] = {G0, G1};
    if (cageRefFogzo(&s, 9, 9, 2, P, quadraticLoss, &f, G, NULL) != CageRefOk)
      ++failed;
    for (int i = 0; i < 4; ++i) {
      mean[i] += G0[i];
      mean[4 + i] += G1[i];
    }
  }
  double worst = 0.0, worstError = 0.0, worstSe = 0.0;
  for (int i = 0; i < 8; ++i) {
    mean[i] /= N;
    double se = sqrt((dd - 0.2 * d[i] * d[i]) / N);
    double ratio = fabs(mean[i] - d[i]) / se;
    if (ratio > worst) {
      worst = ratio;
      worstError = fabs(mean[i] - d[i]);
      worstSe = se;
    }
  }
  printf("|grad| %.4f, N %d, failed calls %d\n", sqrt(dd), N, failed);
  printf("worst |mean G_i - grad_i| = %.5f = %.2f standard errors (se %.5f): "
         "%s\n",
         worstError, worst, worstSe, worst < 5.0 ? "within 5" : "FAIL");
  // CHECK-LABEL: fogzo unbiased
  // CHECK-NEXT: |grad| {{.*}}, N 20000, failed calls 0
  // CHECK-NEXT: worst |mean G_i - grad_i| = {{.*}}: within 5
}

/*===----------------------------------------------------------------------===*
 * beta_t near 1: G follows g
 *===----------------------------------------------------------------------===*/

static void testBetaNearOne(void) {
  printf("fogzo beta near one\n");
  /* betaMin 0.999, t = 1 of T = 1000: r = 0.001 and beta_t = 0.999 + 0.001 *
   * 0.999 ~ 0.999999. v = sqrt(beta) sigma ghat + sqrt(1 - beta) u: the
   * noise part has norm ~ 0.001 sqrt(n) = 0.03 for n = 1000, and G = (d.v) v
   * with d = g (the exact gradient of the quadratic), so G ~ |g| ghat:
   * cosine(G, g) ~ 1 / sqrt(1 + 0.001) ~ 0.9995 and |G| / |g| ~ 1, whatever
   * sigma is (sigma^2 = 1). With beta_t = 0 instead (t = T), G = (d.u) u is
   * mostly noise: cosine ~ 1 / sqrt(n) in size. */
  enum { n = 1000 };
  static float w[n], g[n];
  static double a[n], b[n];
  double gg = 0.0;
  for (int i = 0; i < n; ++i) {
    w[i] = (float)sin(0.37 * i + 1.0);
    a[i] = 0.5 + 0.5 * cos(0.11 * i) * cos(0.11 * i);
    b[i] = 0.2 * sin(0.05 * i);
    g[i] = (float)(2.0 * a[i] * w[i] + b[i]);
    gg += (double)g[i] * g[i];
  }
  const int64_t dims[2] = {10, 100};
  CageRefFogzoParam P = {2, dims, w, g, NULL};
  Quadratic f = {1, {n}, {a}, {b}, 0, {{0}, {0}}};
  double worstCosine = 1.0, worstRatio = 0.0, largestNoisyCosine = 0.0;
  for (uint64_t seed = 1; seed <= 10; ++seed) {
    static float G[n];
    float *Gp[1] = {G};
    for (int late = 0; late < 2; ++late) {
      CageRefFogzo s = {late ? 0.0f : 0.999f, 0.0f, seed, 1e-3f};
      cageRefFogzo(&s, late ? 1000 : 1, 1000, 1, &P, quadraticLoss, &f, Gp,
                   NULL);
      double dot = 0.0, GG = 0.0;
      for (int i = 0; i < n; ++i) {
        dot += (double)G[i] * g[i];
        GG += (double)G[i] * G[i];
      }
      double cosine = dot / sqrt(GG * gg);
      if (late) {
        largestNoisyCosine = fabs(cosine) > largestNoisyCosine
                                 ? fabs(cosine)
                                 : largestNoisyCosine;
      } else {
        worstCosine = cosine < worstCosine ? cosine : worstCosine;
        double ratio = fabs(sqrt(GG / gg) - 1.0);
        worstRatio = ratio > worstRatio ? ratio : worstRatio;
      }
    }
  }
  printf("beta ~ 1: min cosine(G, g) over 10 seeds %.6f: %s\n", worstCosine,
         worstCosine > 0.99 ? "> 0.99" : "FAIL");
  printf("beta ~ 1: max | |G| / |g| - 1 | %.6f: %s\n", worstRatio,
         worstRatio < 0.02 ? "< 0.02" : "FAIL");
  printf("beta 0: max |cosine(G, g)| %.4f: %s\n", largestNoisyCosine,
         largestNoisyCosine < 0.5 ? "< 0.5" : "FAIL");
  // CHECK-LABEL: fogzo beta near one
  // CHECK-NEXT: beta ~ 1: min cosine(G, g) over 10 seeds {{.*}}: > 0.99
  // CHECK-NEXT: beta ~ 1: max | |G| / |g| - 1 | {{.*}}: < 0.02
  // CHECK-NEXT: beta 0: max |cosine(G, g)| {{.*}}: < 0.5
}

int main(void) {
  testValidation();
  testInactive();
  testSignAndNoise();
  testStep();
  testFormula();
  testBetaZero();
  testUnbiased();
  testBetaNearOne();
  return 0;
}
