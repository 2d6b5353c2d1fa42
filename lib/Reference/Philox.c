/*===- Philox.c - Philox4x32-10 and stochastic rounding -------------------===*\
|*                                                                            *|
|* docs/Semantics.md §1.4. Philox4x32-10 as Random123 defines it             *|
|* (include/Random123/philox.h: _philox4x32round, _philox4x32bumpkey,        *|
|* philox4x32_R with R = 10): round 1 with the key as given, then for rounds  *|
|* 2..10 bump the key by the Weyl constants and do one more round.           *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#include "Reference/Internal.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

/* Random123's PHILOX_M4x32_0, PHILOX_M4x32_1, PHILOX_W32_0, PHILOX_W32_1. */
static const uint32_t kPhiloxM0 = UINT32_C(0xD2511F53);
static const uint32_t kPhiloxM1 = UINT32_C(0xCD9E8D57);
static const uint32_t kPhiloxW0 = UINT32_C(0x9E3779B9);
static const uint32_t kPhiloxW1 = UINT32_C(0xBB67AE85);

/* mulhilo32: the high and low 32 bits of the 64-bit product a * b. */
static void mulhilo32(uint32_t a, uint32_t b, uint32_t *hi, uint32_t *lo) {
  uint64_t product = (uint64_t)a * (uint64_t)b;
  *hi = (uint32_t)(product >> 32);
  *lo = (uint32_t)product;
}

/* _philox4x32round: out = {hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0} with
 * (hi0, lo0) = M0 * c0 and (hi1, lo1) = M1 * c2. */
static void philoxRound(uint32_t ctr[4], const uint32_t key[2]) {
  uint32_t hi0, lo0, hi1, lo1;
  mulhilo32(kPhiloxM0, ctr[0], &hi0, &lo0);
  mulhilo32(kPhiloxM1, ctr[2], &hi1, &lo1);
  uint32_t out0 = hi1 ^ ctr[1] ^ key[0];
  uint32_t out1 = lo1;
  uint32_t out2 = hi0 ^ ctr[3] ^ key[1];
  uint32_t out3 = lo0;
  ctr[0] = out0;
  ctr[1] = out1;
  ctr[2] = out2;
  ctr[3] = out3;
}

/* _philox4x32bumpkey: the Weyl sequence, modulo 2^32. */
static void philoxBumpKey(uint32_t key[2]) {
  key[0] += kPhiloxW0;
  key[1] += kPhiloxW1;
}

int cageRefPhilox4x32(const uint32_t counter[4], const uint32_t key[2],
                      uint32_t out[4]) {
  if (!counter || !key || !out)
    return CageRefErrorNull;
  uint32_t ctr[4] = {counter[0], counter[1], counter[2], counter[3]};
  uint32_t k[2] = {key[0], key[1]};
  philoxRound(ctr, k); /* round 1 */
  for (int round = 2; round <= 10; ++round) {
    philoxBumpKey(k);
    philoxRound(ctr, k);
  }
  for (int j = 0; j < 4; ++j)
    out[j] = ctr[j];
  return CageRefOk;
}

void refPhiloxWords(uint64_t seed, uint64_t index, uint32_t out[4]) {
  /* 1.4: key = (seed low 32, seed high 32), counter = (i low 32, i high 32,
   * 0, 0). */
  uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
  uint32_t counter[4] = {(uint32_t)index, (uint32_t)(index >> 32), 0, 0};
  cageRefPhilox4x32(counter, key, out);
}

float cageRefPhiloxUniform(uint64_t seed, uint64_t index) {
  uint32_t out[4];
  refPhiloxWords(seed, index, out);
  /* 1.4: u = (out[0] >> 8) * 2^-24; a 24-bit integer times a power of two,
   * exact in f32. */
  return (float)(out[0] >> 8) * 0x1p-24f;
}

float cageRefRoundStochastic(float y, uint64_t seed, uint64_t index) {
  /* 1.4: rnd(y) = floor(y) + (u < y - floor(y) ? 1 : 0). */
  float u = cageRefPhiloxUniform(seed, index);
  float down = floorf(y);
  float fraction = y - down;
  /* Literally floor(y) + 0 or floor(y) + 1: rnd(-0.0f) is +0.0f. */
  float up = u < fraction ? 1.0f : 0.0f;
  return down + up;
}

/*===----------------------------------------------------------------------===*
 * bf16 with stochastic rounding (the optimizers' bf16 state)
 *===----------------------------------------------------------------------===*/

uint32_t refBf16StateWord(uint64_t seed, uint64_t index) {
  /* 1.5: one Philox call per four elements: element i takes word i mod 4 of
   * the call for counter floor(i / 4). */
  uint32_t out[4];
  refPhiloxWords(seed, index / 4, out);
  return out[index % 4];
}

uint16_t refBf16RoundStochastic(float x, uint16_t r) {
  uint32_t bits;
  memcpy(&bits, &x, sizeof bits);
  uint16_t truncated = (uint16_t)(bits >> 16);
  /* NaN: the quiet NaN of its sign. */
  if ((bits & UINT32_C(0x7FFFFFFF)) > UINT32_C(0x7F800000))
    return (uint16_t)((truncated & 0x8000u) | 0x7FC0u);
  /* 1.5: the magnitude rounds up iff r < the 16 low bits, i.e. with
   * probability exactly low / 2^16; values on the bf16 grid (low = 0: +-0,
   * +-Inf included) never do. The + 1 is the next bf16 away from zero (a
   * carry out of the mantissa bumps the exponent; from 0x7F7F it reaches
   * 0x7F80, Inf). */
  uint32_t low = bits & UINT32_C(0xFFFF);
  return (uint32_t)r < low ? (uint16_t)(truncated + 1u) : truncated;
}

uint16_t cageRefBf16FromF32Stochastic(float x, uint64_t seed, uint64_t index,
                                      int high) {
  uint32_t word = refBf16StateWord(seed, index);
  return refBf16RoundStochastic(x, (uint16_t)(high ? word >> 16 : word));
}

float cageRefF32FromBf16(uint16_t h) {
  /* Exact: a bf16 is the high half of an f32. */
  uint32_t bits = (uint32_t)h << 16;
  float x;
  memcpy(&x, &bits, sizeof x);
  return x;
}
