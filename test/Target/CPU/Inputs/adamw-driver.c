/* C driver for adamw-dps.mlir, compiled with -include of the header that
 * cage-compile generated. Runs three steps in place on awkward sizes and
 * compares every element, bit for bit, with the same arithmetic in C
 * (compiled with -ffp-contract=off: no FMA contraction on either side). */

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static float init(int64_t i, int k) {
  unsigned x = (unsigned)(i * 2654435761u + (unsigned)k * 40503u);
  return (float)(x % 20011u) / 10005.5f - 1.0f;
}

static cage_memref_f32_1d wrap(float *p, int64_t n) {
  cage_memref_f32_1d d = {p, p, 0, {n}, {1}};
  return d;
}

int main(void) {
  static const int64_t sizes[] = {1, 7, 129, 1000, 100003};
  int failures = 0;
  for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; ++s) {
    int64_t n = sizes[s];
    float *buf[4], *ref[4];
    for (int k = 0; k < 4; ++k) {
      buf[k] = malloc(sizeof(float) * (size_t)n);
      ref[k] = malloc(sizeof(float) * (size_t)n);
      for (int64_t i = 0; i < n; ++i)
        buf[k][i] = ref[k][i] = k == 3 ? fabsf(init(i, k)) : init(i, k);
    }
    cage_memref_f32_1d w = wrap(buf[0], n), g = wrap(buf[1], n),
                       m = wrap(buf[2], n), v = wrap(buf[3], n);
    const float lr = 1.0e-3f;
    for (int64_t t = 1; t <= 3; ++t) {
      _mlir_ciface_adamw_step(&w, &g, &m, &v, lr, t);
      float decay = 1.0f - lr * 0.1f;
      float bc1 = 1.0f - powf(0.9f, (float)t);
      float bc2 = 1.0f - powf(0.95f, (float)t);
      for (int64_t i = 0; i < n; ++i) {
        float gi = ref[1][i];
        float w1 = ref[0][i] * decay;
        float m1 = 0.9f * ref[2][i] + 0.1f * gi;
        float v1 = 0.95f * ref[3][i] + 0.05f * (gi * gi);
        float q = (m1 / bc1) / (sqrtf(v1 / bc2) + 1.0e-8f);
        ref[0][i] = w1 - lr * q;
        ref[2][i] = m1;
        ref[3][i] = v1;
      }
    }
    int bad = 0;
    for (int k = 0; k < 4; ++k)
      bad += memcmp(buf[k], ref[k], sizeof(float) * (size_t)n) != 0;
    if (bad) {
      printf("n=%lld: %d arrays differ\n", (long long)n, bad);
      ++failures;
    } else {
      printf("n=%lld: 3 steps in place, bit-exact\n", (long long)n);
    }
    for (int k = 0; k < 4; ++k) {
      free(buf[k]);
      free(ref[k]);
    }
  }
  puts(failures ? "FAILED" : "ok");
  return failures != 0;
}
