/*===- Math.c - exp and erf of f32 (docs/Semantics.md §1.7) ---------------===*\
|*                                                                            *|
|* The reference of the polynomials that compiled code uses for math.exp and *|
|* math.erf of f32 (cage-convert-math-to-arith): the same constants          *|
|* (cage/Math/ExpErf.h), the                                                  *|
|* same operations in the same order, each rounded to f32 (the library is    *|
|* built with -ffp-contract=off), so compiled results equal these bit for    *|
|* bit.                                                                       *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#include "Reference/Reference.h"

#include "cage/Math/ExpErf.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

static float horner(float x, const float *c, int n) {
  float p = c[n - 1];
  for (int k = n - 2; k >= 0; --k)
    p = p * x + c[k];
  return p;
}

static float powerOfTwo(int32_t k) {
  uint32_t bits = (uint32_t)(k + 127) << 23;
  float f;
  memcpy(&f, &bits, sizeof f);
  return f;
}

float cageRefExpF32(float x) {
  if (isnan(x))
    return x;
  if (x > kCageExpMax)
    return INFINITY;
  if (x < kCageExpMin)
    return 0.0f;
  float n = nearbyintf(x * kCageExpLog2E); /* ties to even: the default mode */
  float r = (x - n * kCageExpLn2Hi) - n * kCageExpLn2Lo;
  float p = horner(r, kCageExpP, kCageExpNumP);
  float y = (p * (r * r) + r) + 1.0f;
  int32_t ni = (int32_t)n;
  int32_t h = ni >> 1; /* floor(n / 2): arithmetic shift */
  return (y * powerOfTwo(h)) * powerOfTwo(ni - h);
}

float cageRefErfF32(float x) {
  if (isnan(x))
    return x;
  float a = fabsf(x);
  float y;
  if (a < kCageErfSplit) {
    float s = a * a;
    float p = horner(s, kCageErfR, kCageErfNumR);
    y = a + a * (p * s + kCageErfC0Minus1);
  } else {
    float al = a < kCageErfLargeMax ? a : kCageErfLargeMax;
    float t = al * kCageErfT1 - kCageErfT0;
    float q = horner(t, kCageErfQ, kCageErfNumQ);
    y = 1.0f - cageRefExpF32(-(al * al)) * q;
  }
  return copysignf(y, x);
}
