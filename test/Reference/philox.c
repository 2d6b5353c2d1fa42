// RUN: cage-reference-philox-test 2>&1 | FileCheck %s

/*===- philox.c - Philox4x32-10 and stochastic rounding -------------------===*\
|*                                                                            *|
|* docs/Semantics.md §1.4: Random123's known-answer vectors, the mapping of  *|
|* (seed, element index) to key and counter, u = (out[0] >> 8) * 2^-24, and  *|
|* rnd(y) = floor(y) + (u < y - floor(y) ? 1 : 0).                           *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#include "RefTest.h"

#include <math.h>

/* The three philox4x32 10 lines of Random123's tests/kat_vectors
 * (github.com/DEShawResearch/random123, commit
 * 9545ff6413f258be2f04c1d319d99aaef7521150, lines 27-29); columns are CTR
 * (4 words), KEY (2 words), EXPECTED (4 words):
 *
 * philox4x32 10 00000000 00000000 00000000 00000000 00000000 00000000
 *   6627e8d5 e169c58d bc57ac4c 9b00dbd8
 * philox4x32 10 ffffffff ffffffff ffffffff ffffffff ffffffff ffffffff
 *   408f276d 41c83b0e a20bc7c6 6d5451fd
 * philox4x32 10 243f6a88 85a308d3 13198a2e 03707344 a4093822 299f31d0
 *   d16cfe09 94fdcceb 5001e420 24126ea1
 */
static void testKnownAnswers(void) {
  printf("philox kat\n");
  const uint32_t counters[3][4] = {
      {0x00000000u, 0x00000000u, 0x00000000u, 0x00000000u},
      {0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu},
      {0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u}};
  const uint32_t keys[3][2] = {{0x00000000u, 0x00000000u},
                               {0xffffffffu, 0xffffffffu},
                               {0xa4093822u, 0x299f31d0u}};
  for (int k = 0; k < 3; ++k) {
    uint32_t out[4];
    if (!expectOk("philox", cageRefPhilox4x32(counters[k], keys[k], out)))
      continue;
    printf("kat %d: %08x %08x %08x %08x\n", k, out[0], out[1], out[2], out[3]);
  }
  // CHECK-LABEL: philox kat
  // CHECK-NEXT: kat 0: 6627e8d5 e169c58d bc57ac4c 9b00dbd8
  // CHECK-NEXT: kat 1: 408f276d 41c83b0e a20bc7c6 6d5451fd
  // CHECK-NEXT: kat 2: d16cfe09 94fdcceb 5001e420 24126ea1
}

static void testUniform(void) {
  printf("philox uniform\n");
  /* seed 0, index 0: key (0, 0), counter (0, 0, 0, 0), the first KAT line:
   * u = (0x6627e8d5 >> 8) * 2^-24 = 0x6627e8 / 2^24 = 6694888 / 16777216. */
  float u = cageRefPhiloxUniform(0, 0);
  printf("u(0, 0) = %.9g = %.0f / 2^24\n", (double)u, (double)(u * 0x1p24f));
  // CHECK-LABEL: philox uniform
  // CHECK-NEXT: u(0, 0) = 0.399046421 = 6694888 / 2^24

  /* key = (seed low, seed high), counter = (i low, i high, 0, 0). */
  uint64_t seed = UINT64_C(0x299f31d0a4093822);
  uint64_t index = UINT64_C(0x85a308d3243f6a88);
  const uint32_t key[2] = {0xa4093822u, 0x299f31d0u};
  const uint32_t counter[4] = {0x243f6a88u, 0x85a308d3u, 0u, 0u};
  uint32_t out[4];
  cageRefPhilox4x32(counter, key, out);
  float expected = (float)(out[0] >> 8) * 0x1p-24f;
  printf("mapping: %s\n",
         cageRefPhiloxUniform(seed, index) == expected ? "same" : "different");
  // CHECK-NEXT: mapping: same

  /* u in [0, 1) with 24 bits, over many indices. */
  int bad = 0;
  for (uint64_t i = 0; i < 100000; ++i) {
    float v = cageRefPhiloxUniform(42, i);
    float scaled = v * 0x1p24f;
    if (!(v >= 0.0f && v < 1.0f) || scaled != floorf(scaled))
      ++bad;
  }
  printf("u outside [0, 1) or not a multiple of 2^-24: %d\n", bad);
  // CHECK-NEXT: u outside [0, 1) or not a multiple of 2^-24: 0
}

static void testStochasticRounding(void) {
  printf("stochastic rounding\n");
  /* Integers stay: y - floor(y) = 0 and u < 0 never holds. */
  printf("rnd(3) = %g, rnd(-5) = %g, rnd(-0) = %g\n",
         (double)cageRefRoundStochastic(3.0f, 7, 1),
         (double)cageRefRoundStochastic(-5.0f, 7, 2),
         (double)cageRefRoundStochastic(-0.0f, 7, 3));
  // CHECK-LABEL: stochastic rounding
  // -0: floor(-0) + 0 = -0 + 0 = +0.
  // CHECK-NEXT: rnd(3) = 3, rnd(-5) = -5, rnd(-0) = 0

  /* seed 0, index 0: u = 0.399046421; up exactly when u < y - floor(y). */
  printf("rnd(0.4) = %g, rnd(0.399) = %g, rnd(2.4) = %g\n",
         (double)cageRefRoundStochastic(0.4f, 0, 0),
         (double)cageRefRoundStochastic(0.399f, 0, 0),
         (double)cageRefRoundStochastic(2.4f, 0, 0));
  // CHECK-NEXT: rnd(0.4) = 1, rnd(0.399) = 0, rnd(2.4) = 3
  /* -0.6: floor -1, fraction 0.4 > u: up to 0. -0.61: fraction 0.39 < u. */
  printf("rnd(-0.6) = %g, rnd(-0.61) = %g\n",
         (double)cageRefRoundStochastic(-0.6f, 0, 0),
         (double)cageRefRoundStochastic(-0.61f, 0, 0));
  // CHECK-NEXT: rnd(-0.6) = 0, rnd(-0.61) = -1

  /* Unbiased: the mean of rnd(k + 0.25) over 100000 indices is k + 0.25
   * within 4 standard deviations (sqrt(0.25 * 0.75 / 1e5) = 0.00137). */
  double sum = 0.0;
  for (uint64_t i = 0; i < 100000; ++i)
    sum += (double)cageRefRoundStochastic(-2.75f, 1234, i);
  double mean = sum / 100000.0;
  printf("mean of rnd(-2.75): %s\n",
         fabs(mean - -2.75) < 4 * 0.00137 ? "-2.75 within 4 sigma" : "biased");
  // CHECK-NEXT: mean of rnd(-2.75): -2.75 within 4 sigma
}

int main(void) {
  testKnownAnswers();
  testUniform();
  testStochasticRounding();
  return 0;
}
