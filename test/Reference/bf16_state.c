// RUN: cage-reference-bf16_state-test 2>&1 | FileCheck %s

/*===- bf16_state.c - Optimizer state in bf16 with stochastic rounding ----===*\
|*                                                                            *|
|* Reference.h, "bf16 optimizer state": the bf16 load and the stochastic     *|
|* store worked out by hand from Random123's first known-answer vector, the  *|
|* store's unbiasedness over 2^20 draws, the bf16-state steps against the    *|
|* f32 steps followed by the store (bit for bit), and the argument checks.   *|
|* The numpy cross-check and the 200-step comparison with f32 state are in   *|
|* bf16_state.py.                                                            *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#include "RefTest.h"

#include <math.h>
#include <string.h>

static float fromBits(uint32_t bits) {
  float x;
  memcpy(&x, &bits, sizeof x);
  return x;
}

static uint32_t toBits(float x) {
  uint32_t bits;
  memcpy(&bits, &x, sizeof bits);
  return bits;
}

/* The store of the f32 with these bits, element index of seed, with the low
 * (high = 0: m, b) or high (high = 1: v) 16 bits of the element's word. */
static uint16_t store(uint32_t bits, uint64_t seed, uint64_t index, int high) {
  return cageRefBf16FromF32Stochastic(fromBits(bits), seed, index, high);
}

static void testLoad(void) {
  printf("bf16 load\n");
  const uint16_t h[] = {0x3F80, 0x3F81, 0xBF81, 0x8000, 0x7F80,
                        0xFF80, 0x7F7F, 0x0001, 0x7FC1};
  for (size_t k = 0; k < sizeof h / sizeof h[0]; ++k) {
    float x = cageRefF32FromBf16(h[k]);
    printf("%04x -> %08x %.9g\n", h[k], toBits(x), (double)x);
  }
  // CHECK-LABEL: bf16 load
  // CHECK-NEXT: 3f80 -> 3f800000 1
  // CHECK-NEXT: 3f81 -> 3f810000 1.0078125
  // CHECK-NEXT: bf81 -> bf810000 -1.0078125
  // CHECK-NEXT: 8000 -> 80000000 -0
  // CHECK-NEXT: 7f80 -> 7f800000 inf
  // CHECK-NEXT: ff80 -> ff800000 -inf
  // CHECK-NEXT: 7f7f -> 7f7f0000 3.38953139e+38
  // CHECK-NEXT: 0001 -> 00010000 9.18354962e-41
  // CHECK-NEXT: 7fc1 -> 7fc10000 nan
}

/* Values whose store does not depend on the random bits: the same bits for
 * every seed, index and half of the word (checked over 2048 draws). */
static void testDeterministic(void) {
  printf("bf16 store, deterministic\n");
  const uint32_t bits[] = {
      0x3F800000u, /* 1.0: low bits 0, exact */
      0x80000000u, /* -0.0 */
      0x00000000u, /* +0.0 */
      0x40490000u, /* 3.140625, on the bf16 grid */
      0x00010000u, /* a bf16 subnormal */
      0x7F800000u, /* +Inf */
      0xFF800000u, /* -Inf */
      0x7FC00000u, /* the default quiet NaN */
      0x7F800001u, /* a signalling NaN whose payload is all in the low bits */
      0xFF800001u, /* the same, negative */
      0x7FA12345u, /* signalling NaN: the quiet NaN, payload dropped */
      0x7F81FFFFu, /* NaN: not rounded up into the next payload */
      0xFFFFFFFFu, /* negative quiet NaN, all ones */
  };
  for (size_t k = 0; k < sizeof bits / sizeof bits[0]; ++k) {
    uint16_t first = store(bits[k], 0, 0, 0);
    int same = 1;
    for (uint64_t i = 0; i < 1024; ++i)
      for (int high = 0; high < 2; ++high)
        same &= store(bits[k], UINT64_C(0x9E3779B97F4A7C15) * i, i * 977,
                      high) == first;
    printf("%08x -> %04x %s\n", bits[k], first, same ? "always" : "VARIES");
  }
  // CHECK-LABEL: bf16 store, deterministic
  // CHECK-NEXT: 3f800000 -> 3f80 always
  // CHECK-NEXT: 80000000 -> 8000 always
  // CHECK-NEXT: 00000000 -> 0000 always
  // CHECK-NEXT: 40490000 -> 4049 always
  // CHECK-NEXT: 00010000 -> 0001 always
  // CHECK-NEXT: 7f800000 -> 7f80 always
  // CHECK-NEXT: ff800000 -> ff80 always
  // CHECK-NEXT: 7fc00000 -> 7fc0 always
  // CHECK-NEXT: 7f800001 -> 7fc0 always
  // CHECK-NEXT: ff800001 -> ffc0 always
  // CHECK-NEXT: 7fa12345 -> 7fc0 always
  // CHECK-NEXT: 7f81ffff -> 7fc0 always
  // CHECK-NEXT: ffffffff -> ffc0 always
}

static void testRandomWords(void) {
  printf("bf16 store, seed 0 index 0\n");
  /* Seed 0: key (0, 0); elements 0..3 share the call for counter
   * (0, 0, 0, 0), Random123's first known answer 6627e8d5 e169c58d bc57ac4c
   * 9b00dbd8: element i takes word i. m (and b) round with the low 16 bits
   * r = 0xe8d5, 0xc58d, 0xac4c, 0xdbd8, v with the high 16 bits r = 0x6627,
   * 0xe169, 0xbc57, 0x9b00. The magnitude rounds up iff r < lo. */
  printf("e0 m 1+e8d5: %04x\n", store(0x3F80E8D5u, 0, 0, 0));
  printf("e0 m 1+e8d6: %04x\n", store(0x3F80E8D6u, 0, 0, 0));
  printf("e0 m -1-e8d5: %04x\n", store(0xBF80E8D5u, 0, 0, 0));
  printf("e0 m -1-e8d6: %04x\n", store(0xBF80E8D6u, 0, 0, 0));
  printf("e0 v 1+6627: %04x\n", store(0x3F806627u, 0, 0, 1));
  printf("e0 v 1+6628: %04x\n", store(0x3F806628u, 0, 0, 1));
  printf("e1 m 1+c58d: %04x\n", store(0x3F80C58Du, 0, 1, 0));
  printf("e1 m 1+c58e: %04x\n", store(0x3F80C58Eu, 0, 1, 0));
  printf("e2 v 1+bc57: %04x\n", store(0x3F80BC57u, 0, 2, 1));
  printf("e2 v 1+bc58: %04x\n", store(0x3F80BC58u, 0, 2, 1));
  printf("e3 v 1+9b00: %04x\n", store(0x3F809B00u, 0, 3, 1));
  printf("e3 v 1+9b01: %04x\n", store(0x3F809B01u, 0, 3, 1));
  // CHECK-LABEL: bf16 store, seed 0 index 0
  // CHECK-NEXT: e0 m 1+e8d5: 3f80
  // CHECK-NEXT: e0 m 1+e8d6: 3f81
  // CHECK-NEXT: e0 m -1-e8d5: bf80
  // CHECK-NEXT: e0 m -1-e8d6: bf81
  // CHECK-NEXT: e0 v 1+6627: 3f80
  // CHECK-NEXT: e0 v 1+6628: 3f81
  // CHECK-NEXT: e1 m 1+c58d: 3f80
  // CHECK-NEXT: e1 m 1+c58e: 3f81
  // CHECK-NEXT: e2 v 1+bc57: 3f80
  // CHECK-NEXT: e2 v 1+bc58: 3f81
  // CHECK-NEXT: e3 v 1+9b00: 3f80
  // CHECK-NEXT: e3 v 1+9b01: 3f81

  /* (seed, index) -> key and counter as sections 1.4 and 1.5 map them, at a
   * seed and an index that use all 64 bits: element index takes word
   * index mod 4 of counter index / 4. lo = r rounds down, lo = r + 1 up
   * (the comparison is strict: r < lo). */
  const uint64_t seed = UINT64_C(0x299f31d0a4093822);
  const uint64_t base = UINT64_C(0x85a308d3243f6a88); /* a multiple of 4 */
  const uint32_t key[2] = {0xa4093822u, 0x299f31d0u};
  const uint32_t counter[4] = {(uint32_t)(base >> 2), (uint32_t)(base >> 34),
                               0u, 0u};
  uint32_t out[4];
  cageRefPhilox4x32(counter, key, out);
  int mapped = 1, checked = 0;
  for (int lane = 0; lane < 4; ++lane)
    for (int high = 0; high < 2; ++high) {
      uint32_t r = high ? out[lane] >> 16 : out[lane] & 0xFFFFu;
      if (r == 0xFFFF)
        continue;
      ++checked;
      mapped &= store(0x3F800000u | r, seed, base + (uint64_t)lane, high) ==
                    0x3F80 &&
                store(0x3F800000u | (r + 1), seed, base + (uint64_t)lane,
                      high) == 0x3F81;
    }
  printf("mapping: %s (%d)\n", mapped ? "same" : "different", checked);
  // CHECK-NEXT: mapping: same (8)

  /* The carry (element 0, m: r = 0xe8d5): 0x3F7FFFFF (just below 1) rounds
   * up to 1.0 (0x3F80); the largest f32 (0x7F7FFFFF, lo = 0xffff > r)
   * rounds up past the largest finite bf16 0x7F7F to Inf, with its sign;
   * lo = 1 does not round up. Subnormals: 0x007FFFFF rounds up to the
   * smallest normal 0x0080, 0x00000001 (the smallest f32) down to +0. */
  const uint32_t carry[] = {0x3F7FFFFFu, 0x7F7FFFFFu, 0xFF7FFFFFu, 0x7F7F0001u,
                            0x007FFFFFu, 0x00000001u, 0x80000001u};
  for (size_t k = 0; k < sizeof carry / sizeof carry[0]; ++k) {
    uint16_t h = store(carry[k], 0, 0, 0);
    printf("%08x -> %04x %.9g\n", carry[k], h, (double)cageRefF32FromBf16(h));
  }
  // CHECK-NEXT: 3f7fffff -> 3f80 1
  // CHECK-NEXT: 7f7fffff -> 7f80 inf
  // CHECK-NEXT: ff7fffff -> ff80 -inf
  // CHECK-NEXT: 7f7f0001 -> 7f7f 3.38953139e+38
  // CHECK-NEXT: 007fffff -> 0080 1.17549435e-38
  // CHECK-NEXT: 00000001 -> 0000 0
  // CHECK-NEXT: 80000001 -> 8000 -0

  /* Every store lands on one of the two neighbours: the truncation or the
   * next bf16 away from zero (never toward zero, never two ulps away). */
  int bad = 0;
  uint32_t state = 12345u;
  for (uint64_t i = 0; i < 100000; ++i) {
    state = state * 1664525u + 1013904223u;
    uint32_t bits = state;
    if ((bits & 0x7F800000u) == 0x7F800000u)
      continue; /* Inf and NaN: tested above */
    uint16_t h = store(bits, 7, i, (int)(i & 1));
    uint16_t down = (uint16_t)(bits >> 16);
    if (!(h == down || ((bits & 0xFFFFu) != 0 && h == down + 1)))
      ++bad;
    /* Down and up bracket x: |bf16(down)| <= |x| < |bf16(down + 1)|. */
    float x = fromBits(bits);
    float lo = fabsf(cageRefF32FromBf16(down));
    float hi = fabsf(cageRefF32FromBf16((uint16_t)(down + 1)));
    if (!(lo <= fabsf(x) && fabsf(x) < hi))
      ++bad;
  }
  printf("stores off the two neighbours: %d\n", bad);
  // CHECK-NEXT: stores off the two neighbours: 0
}

/* The fraction of round-ups over 2^20 indices is lo / 2^16 within 5 sigma,
 * sigma = sqrt(N p (1 - p)) (binomial). */
static void testUnbiased(void) {
  printf("bf16 store, unbiased\n");
  const uint32_t bases[] = {0x3F800000u, 0xC0490000u, 0x00010000u};
  const uint32_t fracs[] = {0x0001u, 0x0100u, 0x5555u,
                            0x8000u, 0xAAABu, 0xFFFFu};
  const uint64_t count = UINT64_C(1) << 20;
  int checked = 0, within = 0;
  double worst = 0.0;
  for (size_t b = 0; b < sizeof bases / sizeof bases[0]; ++b) {
    for (size_t f = 0; f < sizeof fracs / sizeof fracs[0]; ++f) {
      for (int high = 0; high < 2; ++high) {
        uint32_t bits = bases[b] | fracs[f];
        uint16_t down = (uint16_t)(bits >> 16);
        uint64_t up = 0;
        uint64_t seed = UINT64_C(1000) + b * 16 + f;
        double sumStored = 0.0;
        for (uint64_t i = 0; i < count; ++i) {
          uint16_t h = store(bits, seed, i, high);
          up += h != down;
          sumStored += (double)cageRefF32FromBf16(h);
        }
        double p = (double)fracs[f] / 65536.0;
        double mean = (double)count * p;
        double sigma = sqrt((double)count * p * (1.0 - p));
        double z = ((double)up - mean) / sigma;
        if (fabs(z) > worst)
          worst = fabs(z);
        ++checked;
        within += fabs(z) <= 5.0;
        /* The mean stored value is x to the same 5 sigma, in ulps. */
        double x = (double)fromBits(bits);
        double ulp = fabs((double)cageRefF32FromBf16((uint16_t)(down + 1)) -
                          (double)cageRefF32FromBf16(down));
        double meanError = fabs(sumStored / (double)count - x) / ulp;
        if (meanError > 5.0 * sigma / (double)count)
          --within;
        if (b == 0 && high == 0)
          printf("frac %04x/2^16: %llu of 2^20 up, expected %.1f, z %+.2f\n",
                 fracs[f], (unsigned long long)up, mean, z);
      }
    }
  }
  printf("within 5 sigma: %d of %d (worst |z| %.2f)\n", within, checked, worst);
  // CHECK-LABEL: bf16 store, unbiased
  // CHECK-COUNT-6: frac {{.*}} up, expected
  // CHECK-NEXT: within 5 sigma: 36 of 36
}

/* A tiny deterministic generator for the step tests. */
static uint32_t rngState = 2463534242u;
static uint32_t nextRandom(void) {
  rngState ^= rngState << 13;
  rngState ^= rngState >> 17;
  rngState ^= rngState << 5;
  return rngState;
}
static float uniformIn(float lo, float hi) {
  return lo + (hi - lo) * (float)(nextRandom() >> 8) * 0x1p-24f;
}

#define N 129 /* 3 x 43 */
static const int64_t kDims[2] = {3, 43};

/* A bf16 state of N values (m-like: signed; or v-like: >= 0), with signed
 * zeros and grid values. */
static void fillState(uint16_t *h, int positive) {
  for (int i = 0; i < N; ++i) {
    float x = uniformIn(positive ? 0.0f : -0.02f, 0.02f);
    h[i] = (uint16_t)(toBits(x) >> 16);
  }
  h[3] = positive ? 0x0000 : 0x8000;
  h[4] = 0x0000;
}

static void fillInputs(float *w, float *g) {
  for (int i = 0; i < N; ++i) {
    w[i] = uniformIn(-3.0f, 3.0f);
    g[i] = uniformIn(-0.1f, 0.1f);
  }
  w[3] = -0.0f;
  g[3] = -0.0f;
  g[4] = -0.0f;
  w[7] = 40.0f; /* clipped with 3 bits */
}

static void load(const uint16_t *h, float *x) {
  for (int i = 0; i < N; ++i)
    x[i] = cageRefF32FromBf16(h[i]);
}

/* The store of the f32 results, element by element: returns whether h equals
 * it, and counts the round-ups. */
static int stored(const uint16_t *h, const float *x, uint64_t seed, int high,
                  int *ups) {
  int same = 1;
  for (int i = 0; i < N; ++i) {
    same &= h[i] == cageRefBf16FromF32Stochastic(x[i], seed, (uint64_t)i, high);
    *ups += h[i] != (uint16_t)(toBits(x[i]) >> 16);
  }
  return same;
}

static int sameFloats(const float *a, const float *b) {
  return !memcmp(a, b, N * sizeof(float));
}

/* a[i] == b[i] for every i: the same values, up to the sign of zero. */
static int sameValues(const float *a, const float *b) {
  for (int i = 0; i < N; ++i)
    if (!(a[i] == b[i]))
      return 0;
  return 1;
}

/* The same for bf16 bits, compared as the f32 values they hold. */
static int sameBf16Values(const uint16_t *a, const uint16_t *b) {
  for (int i = 0; i < N; ++i)
    if (!(cageRefF32FromBf16(a[i]) == cageRefF32FromBf16(b[i])))
      return 0;
  return 1;
}

static void testAdamWSteps(void) {
  printf("adamw bf16 state\n");
  /* Five steps; before each, the f32 step runs on the loaded state. */
  const CageRefAdamW opt = {0.9f, 0.95f, 1e-8f, 0.1f};
  float w[N], g[N], w32[N], m32[N], v32[N];
  uint16_t m[N], v[N];
  fillInputs(w, g);
  fillState(m, 0);
  fillState(v, 1);
  int wSame = 0, mSame = 0, vSame = 0, ups = 0, steps = 0;
  for (int64_t t = 1; t <= 5; ++t) {
    uint64_t seed = (uint64_t)t;
    memcpy(w32, w, sizeof w);
    load(m, m32);
    load(v, v32);
    if (!expectOk("adamw", cageRefAdamW(&opt, N, w32, g, m32, v32, 1e-2f, t)) ||
        !expectOk("adamw bf16",
                  cageRefAdamWBf16State(&opt, N, w, g, m, v, 1e-2f, t, seed)))
      return;
    ++steps;
    wSame += sameFloats(w, w32);
    mSame += stored(m, m32, seed, 0, &ups);
    vSame += stored(v, v32, seed, 1, &ups);
  }
  printf("w %d m %d v %d of %d steps bit for bit\n", wSame, mSame, vSame,
         steps);
  printf("some rounded up: %s\n", ups > 100 ? "yes" : "no");
  // CHECK-LABEL: adamw bf16 state
  // CHECK-NEXT: w 5 m 5 v 5 of 5 steps bit for bit
  // CHECK-NEXT: some rounded up: yes

  /* A wrong half would be caught: m with v's bits differs somewhere. */
  memcpy(w32, w, sizeof w);
  load(m, m32);
  load(v, v32);
  cageRefAdamW(&opt, N, w32, g, m32, v32, 1e-2f, 6);
  cageRefAdamWBf16State(&opt, N, w, g, m, v, 1e-2f, 6, 6);
  printf("m with v's bits: %s\n",
         stored(m, m32, 6, 1, &ups) ? "same" : "differs");
  // CHECK-NEXT: m with v's bits: differs

  /* n = 0 is fine and writes nothing. */
  printf("n 0: %d\n", cageRefAdamWBf16State(&opt, 0, w, g, m, v, 1e-2f, 1, 0));
  // CHECK-NEXT: n 0: 0
}

static void testSgdSteps(void) {
  printf("sgd bf16 state\n");
  const CageRefSgd opts[] = {
      {0.9f, 0.0f, false, 0.0f},  /* momentum */
      {0.9f, 0.0f, true, 0.01f},  /* nesterov, weight decay */
      {0.5f, 0.25f, false, 0.1f}, /* dampening */
  };
  const char *names[] = {"momentum", "nesterov", "dampening"};
  for (int k = 0; k < 3; ++k) {
    float w[N], g[N], w32[N], b32[N];
    uint16_t b[N];
    fillInputs(w, g);
    fillState(b, 0);
    int wSame = 0, bSame = 0, ups = 0;
    for (int step = 1; step <= 5; ++step) {
      uint64_t seed = UINT64_C(0xABCDEF0123456789) + (uint64_t)step;
      memcpy(w32, w, sizeof w);
      load(b, b32);
      cageRefSgd(&opts[k], N, w32, g, b32, 0.05f);
      if (!expectOk(names[k],
                    cageRefSgdBf16State(&opts[k], N, w, g, b, 0.05f, seed)))
        break;
      wSame += sameFloats(w, w32);
      bSame += stored(b, b32, seed, 0, &ups);
    }
    printf("%s: w %d b %d of 5 bit for bit, rounded up: %s\n", names[k], wSame,
           bSame, ups > 50 ? "yes" : "no");
  }
  // CHECK-LABEL: sgd bf16 state
  // CHECK-NEXT: momentum: w 5 b 5 of 5 bit for bit, rounded up: yes
  // CHECK-NEXT: nesterov: w 5 b 5 of 5 bit for bit, rounded up: yes
  // CHECK-NEXT: dampening: w 5 b 5 of 5 bit for bit, rounded up: yes

  /* Without momentum b is neither read nor written, and may be NULL. */
  const CageRefSgd plain = {0.0f, 0.0f, false, 0.1f};
  float w[N], g[N], w32[N];
  uint16_t b[N], b0[N];
  fillInputs(w, g);
  fillState(b, 0);
  memcpy(b0, b, sizeof b);
  memcpy(w32, w, sizeof w);
  cageRefSgd(&plain, N, w32, g, NULL, 0.05f);
  int ok = cageRefSgdBf16State(&plain, N, w, g, b, 0.05f, 1) == CageRefOk &&
           sameFloats(w, w32) && !memcmp(b, b0, sizeof b);
  memcpy(w, w32, sizeof w);
  cageRefSgd(&plain, N, w32, g, NULL, 0.05f);
  ok &= cageRefSgdBf16State(&plain, N, w, g, NULL, 0.05f, 2) == CageRefOk &&
        sameFloats(w, w32);
  printf("no momentum: %s\n", ok ? "b untouched, w as f32" : "WRONG");
  // CHECK-NEXT: no momentum: b untouched, w as f32
}

static void testUpdates(void) {
  printf("cage update bf16 state\n");
  /* Every coupling and error mode, two quantizers, lambda_t = 0
   * and 0.7: the bf16-state update is the f32 update on the loaded state
   * followed by the store, bit for bit; and with lambda_t = 0 it has the
   * values of the plain bf16-state step (the correction is applied, so zeros
   * may change sign). */
  const CageRefAdamW adamw = {0.9f, 0.95f, 1e-8f, 0.1f};
  const CageRefSgd sgd = {0.9f, 0.0f, true, 0.01f};
  int same = 0, cases = 0, ups = 0;
  for (int variant = 0; variant < 2; ++variant) {
    /* 3 bits per row with absmax; then one rms_gaussian scale per tensor (43
     * columns admit no rotation block). */
    CageRefQuantizer q = quantizerWithBits(3);
    if (variant) {
      q.scale = CageScaleKindRmsGaussian;
      q.granularity = CageGranularityTensor;
    }
    for (int coupling = 0; coupling < 2; ++coupling) {
      for (int error = 0; error < 2; ++error) {
        for (int l = 0; l < 2; ++l) {
          float lambda = l ? 0.7f : 0.0f;
          uint64_t seed = (uint64_t)(cases + 1) * UINT64_C(0x100000001);
          float w[N], g[N], w32[N], m32[N], v32[N], b32[N], wPlain[N];
          uint16_t m[N], v[N], b[N], mPlain[N], vPlain[N], bPlain[N];

          fillInputs(w, g);
          fillState(m, 0);
          fillState(v, 1);
          memcpy(w32, w, sizeof w);
          memcpy(wPlain, w, sizeof w);
          memcpy(mPlain, m, sizeof m);
          memcpy(vPlain, v, sizeof v);
          load(m, m32);
          load(v, v32);
          int status = cageRefUpdateAdamW(
              &q, (CageErrorMode)error, (CageCoupling)coupling, &adamw, 2,
              kDims, w32, g, m32, v32, 1e-2f, lambda, 3);
          status |= cageRefUpdateAdamWBf16State(
              &q, (CageErrorMode)error, (CageCoupling)coupling, &adamw, 2,
              kDims, w, g, m, v, 1e-2f, lambda, 3, seed);
          int ok = status == CageRefOk && sameFloats(w, w32) &&
                   stored(m, m32, seed, 0, &ups) &&
                   stored(v, v32, seed, 1, &ups);
          if (l == 0) {
            cageRefAdamWBf16State(&adamw, N, wPlain, g, mPlain, vPlain, 1e-2f,
                                  3, seed);
            ok &= sameValues(w, wPlain) && sameBf16Values(m, mPlain) &&
                  sameBf16Values(v, vPlain);
          }
          ++cases;
          same += ok;

          fillInputs(w, g);
          fillState(b, 0);
          memcpy(w32, w, sizeof w);
          memcpy(wPlain, w, sizeof w);
          memcpy(bPlain, b, sizeof b);
          load(b, b32);
          status =
              cageRefUpdateSgd(&q, (CageErrorMode)error, (CageCoupling)coupling,
                               &sgd, 2, kDims, w32, g, b32, 0.05f, lambda);
          status |= cageRefUpdateSgdBf16State(
              &q, (CageErrorMode)error, (CageCoupling)coupling, &sgd, 2, kDims,
              w, g, b, 0.05f, lambda, seed);
          ok = status == CageRefOk && sameFloats(w, w32) &&
               stored(b, b32, seed, 0, &ups);
          if (l == 0) {
            cageRefSgdBf16State(&sgd, N, wPlain, g, bPlain, 0.05f, seed);
            ok &= sameValues(w, wPlain) && sameBf16Values(b, bPlain);
          }
          ++cases;
          same += ok;
        }
      }
    }
  }
  printf("bit for bit: %d of %d, rounded up: %s\n", same, cases,
         ups > 1000 ? "yes" : "no");
  // CHECK-LABEL: cage update bf16 state
  // CHECK-NEXT: bit for bit: 32 of 32, rounded up: yes

  /* The correction is applied: with lambda_t = 0.7 w differs from the plain
   * step's (decoupled, keep). */
  CageRefQuantizer q = quantizerWithBits(3);
  float w[N], g[N], wPlain[N];
  uint16_t m[N], v[N], mPlain[N], vPlain[N];
  fillInputs(w, g);
  fillState(m, 0);
  fillState(v, 1);
  memcpy(wPlain, w, sizeof w);
  memcpy(mPlain, m, sizeof m);
  memcpy(vPlain, v, sizeof v);
  cageRefUpdateAdamWBf16State(&q, CageErrorModeKeep, CageCouplingDecoupled,
                              &adamw, 2, kDims, w, g, m, v, 1e-2f, 0.7f, 3, 9);
  cageRefAdamWBf16State(&adamw, N, wPlain, g, mPlain, vPlain, 1e-2f, 3, 9);
  printf("decoupled correction: w %s, m v %s\n",
         sameFloats(w, wPlain) ? "same" : "moved",
         !memcmp(m, mPlain, sizeof m) && !memcmp(v, vPlain, sizeof v)
             ? "same"
             : "differ");
  // CHECK-NEXT: decoupled correction: w moved, m v same
}

/* Each call has one thing wrong: it returns the status and leaves w, m, v,
 * b untouched. */
static float vw[16], vg[16];
static uint16_t vm[16], vv[16], vb[16];
static const int64_t vDims[2] = {2, 8};

static void resetValidation(void) {
  for (int i = 0; i < 16; ++i) {
    vw[i] = 12345.0f;
    vg[i] = 0.25f * (float)i;
    vm[i] = vv[i] = vb[i] = 0x4242;
  }
}

static void report(const char *label, int status) {
  int untouched = 1;
  for (int i = 0; i < 16; ++i)
    untouched &= vw[i] == 12345.0f && vm[i] == 0x4242 && vv[i] == 0x4242 &&
                 vb[i] == 0x4242;
  printf("%s: %d %s\n", label, status, untouched ? "untouched" : "WRITTEN");
  resetValidation();
}

static void testValidation(void) {
  printf("validation\n");
  const CageRefAdamW adamw = {0.9f, 0.95f, 1e-8f, 0.1f};
  const CageRefAdamW badBeta = {1.0f, 0.95f, 1e-8f, 0.1f};
  const CageRefSgd sgd = {0.9f, 0.0f, false, 0.0f};
  const CageRefSgd badNesterov = {0.9f, 0.5f, true, 0.0f};
  CageRefQuantizer q = quantizerWithBits(4);
  CageRefQuantizer stochastic = q;
  stochastic.rounding = CageRoundingStochastic;
  CageRefQuantizer bits9 = q;
  bits9.bits = 9;
  const int64_t rank0Dims[1] = {16};
  resetValidation();
  report("adamw, opt null",
         cageRefAdamWBf16State(NULL, 16, vw, vg, vm, vv, 0.1f, 1, 0));
  report("adamw, w null",
         cageRefAdamWBf16State(&adamw, 16, NULL, vg, vm, vv, 0.1f, 1, 0));
  report("adamw, m null",
         cageRefAdamWBf16State(&adamw, 16, vw, vg, NULL, vv, 0.1f, 1, 0));
  report("adamw, v null",
         cageRefAdamWBf16State(&adamw, 16, vw, vg, vm, NULL, 0.1f, 1, 0));
  report("adamw, n -1",
         cageRefAdamWBf16State(&adamw, -1, vw, vg, vm, vv, 0.1f, 1, 0));
  report("adamw, lr nan",
         cageRefAdamWBf16State(&adamw, 16, vw, vg, vm, vv, NAN, 1, 0));
  report("adamw, t 0",
         cageRefAdamWBf16State(&adamw, 16, vw, vg, vm, vv, 0.1f, 0, 0));
  report("adamw, beta1 1",
         cageRefAdamWBf16State(&badBeta, 16, vw, vg, vm, vv, 0.1f, 1, 0));
  // CHECK-LABEL: validation
  // CHECK-NEXT: adamw, opt null: 1 untouched
  // CHECK-NEXT: adamw, w null: 1 untouched
  // CHECK-NEXT: adamw, m null: 1 untouched
  // CHECK-NEXT: adamw, v null: 1 untouched
  // CHECK-NEXT: adamw, n -1: 4 untouched
  // CHECK-NEXT: adamw, lr nan: 4 untouched
  // CHECK-NEXT: adamw, t 0: 4 untouched
  // CHECK-NEXT: adamw, beta1 1: 4 untouched
  report("sgd, b null", cageRefSgdBf16State(&sgd, 16, vw, vg, NULL, 0.1f, 0));
  report("sgd, nesterov with dampening",
         cageRefSgdBf16State(&badNesterov, 16, vw, vg, vb, 0.1f, 0));
  report("sgd, lr inf", cageRefSgdBf16State(&sgd, 16, vw, vg, vb, INFINITY, 0));
  // CHECK-NEXT: sgd, b null: 1 untouched
  // CHECK-NEXT: sgd, nesterov with dampening: 4 untouched
  // CHECK-NEXT: sgd, lr inf: 4 untouched
  report("update adamw, rank 0",
         cageRefUpdateAdamWBf16State(&q, CageErrorModeKeep,
                                     CageCouplingDecoupled, &adamw, 0, vDims,
                                     vw, vg, vm, vv, 0.1f, 1.0f, 1, 0));
  report("update adamw, stochastic quantizer",
         cageRefUpdateAdamWBf16State(&stochastic, CageErrorModeKeep,
                                     CageCouplingDecoupled, &adamw, 2, vDims,
                                     vw, vg, vm, vv, 0.1f, 1.0f, 1, 0));
  report("update adamw, bits 9",
         cageRefUpdateAdamWBf16State(&bits9, CageErrorModeKeep,
                                     CageCouplingDecoupled, &adamw, 2, vDims,
                                     vw, vg, vm, vv, 0.1f, 1.0f, 1, 0));
  report("update adamw, error 7",
         cageRefUpdateAdamWBf16State(&q, (CageErrorMode)7,
                                     CageCouplingDecoupled, &adamw, 2, vDims,
                                     vw, vg, vm, vv, 0.1f, 1.0f, 1, 0));
  report("update adamw, lambda inf",
         cageRefUpdateAdamWBf16State(&q, CageErrorModeKeep,
                                     CageCouplingDecoupled, &adamw, 2, vDims,
                                     vw, vg, vm, vv, 0.1f, INFINITY, 1, 0));
  report("update adamw, v null",
         cageRefUpdateAdamWBf16State(&q, CageErrorModeKeep,
                                     CageCouplingDecoupled, &adamw, 2, vDims,
                                     vw, vg, vm, NULL, 0.1f, 1.0f, 1, 0));
  report("update adamw, t 0",
         cageRefUpdateAdamWBf16State(&q, CageErrorModeKeep, CageCouplingCoupled,
                                     &adamw, 1, rank0Dims, vw, vg, vm, vv, 0.1f,
                                     0.0f, 0, 0));
  report("update sgd, b null",
         cageRefUpdateSgdBf16State(&q, CageErrorModeKeep, CageCouplingCoupled,
                                   &sgd, 2, vDims, vw, vg, NULL, 0.1f, 1.0f,
                                   0));
  report("update sgd, coupling 2",
         cageRefUpdateSgdBf16State(&q, CageErrorModeKeep, (CageCoupling)2, &sgd,
                                   2, vDims, vw, vg, vb, 0.1f, 1.0f, 0));
  // CHECK-NEXT: update adamw, rank 0: 2 untouched
  // CHECK-NEXT: update adamw, stochastic quantizer: 3 untouched
  // CHECK-NEXT: update adamw, bits 9: 3 untouched
  // CHECK-NEXT: update adamw, error 7: 4 untouched
  // CHECK-NEXT: update adamw, lambda inf: 4 untouched
  // CHECK-NEXT: update adamw, v null: 1 untouched
  // CHECK-NEXT: update adamw, t 0: 4 untouched
  // CHECK-NEXT: update sgd, b null: 1 untouched
  // CHECK-NEXT: update sgd, coupling 2: 4 untouched
}

int main(void) {
  testLoad();
  testDeterministic();
  testRandomWords();
  testUnbiased();
  testAdamWSteps();
  testSgdSteps();
  testUpdates();
  testValidation();
  return 0;
}
