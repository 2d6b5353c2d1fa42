/* Peak heap memory of one call of the in-place training step of the MLP of
 * examples/mlp.mlir (@mlp_train_step_inplace), at the shapes it was
 * compiled for: the bytes that the compiled code holds in malloc'ed buffers
 * at once, over one call, on top of the caller's arrays (parameters, state,
 * batch), which the in-place step updates where they are.
 *
 * malloc and free are wrapped (-Wl,--wrap=malloc,--wrap=free): each block
 * records its size in a 16-byte header (the 16-byte alignment of malloc is
 * kept), and the live and peak byte counts are atomic (OpenMP workers may
 * allocate). Usage: peak B IN HIDDEN OUT [steps]; prints one line of
 * numbers for run.sh. */

#include "step.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* Defined by every compiled module (cage-cpu-runtime-checks). */
const char *cage_last_error(void);

void *__real_malloc(size_t size);
void __real_free(void *ptr);

static atomic_llong live, peak;

void *__wrap_malloc(size_t size) {
  unsigned char *block = __real_malloc(size + 16);
  if (!block)
    return NULL;
  *(size_t *)block = size;
  long long now = atomic_fetch_add(&live, (long long)size) + (long long)size;
  long long old = atomic_load(&peak);
  while (now > old && !atomic_compare_exchange_weak(&peak, &old, now))
    ;
  return block + 16;
}

void __wrap_free(void *ptr) {
  if (!ptr)
    return;
  unsigned char *block = (unsigned char *)ptr - 16;
  atomic_fetch_sub(&live, (long long)*(size_t *)block);
  __real_free(block);
}

/* Uniform in [-scale/2, scale/2), from a 64-bit LCG (reproducible, no libc
 * state). */
static cage_memref_f32_2d matrix(int64_t rows, int64_t cols, float scale,
                                 uint64_t *seed) {
  float *data = __real_malloc(sizeof(float) * (size_t)(rows * cols));
  for (int64_t i = 0; i < rows * cols; ++i) {
    *seed = *seed * 6364136223846793005ull + 1442695040888963407ull;
    data[i] = scale * ((float)(*seed >> 40) / 16777216.0f - 0.5f);
  }
  return (cage_memref_f32_2d){data, data, 0, {rows, cols}, {cols, 1}};
}

int main(int argc, char **argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: peak B IN HIDDEN OUT [steps]\n");
    return 2;
  }
  int64_t b = atoll(argv[1]), in = atoll(argv[2]), hidden = atoll(argv[3]),
          out = atoll(argv[4]);
  int steps = argc > 5 ? atoi(argv[5]) : 3;
  uint64_t seed = 1;
  cage_memref_f32_2d x = matrix(b, in, 2.0f, &seed);
  cage_memref_f32_2d y = matrix(b, out, 0.0f, &seed);
  for (int64_t i = 0; i < b; ++i)
    y.aligned[i * out + i % out] = 1.0f; /* one-hot */
  cage_memref_f32_2d w1 = matrix(hidden, in, 0.2f, &seed);
  cage_memref_f32_2d m1 = matrix(hidden, in, 0.0f, &seed);
  cage_memref_f32_2d v1 = matrix(hidden, in, 0.0f, &seed);
  cage_memref_f32_2d w2 = matrix(out, hidden, 0.2f, &seed);
  cage_memref_f32_2d m2 = matrix(out, hidden, 0.0f, &seed);
  cage_memref_f32_2d v2 = matrix(out, hidden, 0.0f, &seed);
  long long arrays = (long long)sizeof(float) *
                     (b * in + b * out + 3 * hidden * in + 3 * out * hidden);
  long long maxPeak = 0;
  float loss = 0.0f;
  for (int t = 1; t <= steps; ++t) {
    atomic_store(&live, 0);
    atomic_store(&peak, 0);
    loss = _mlir_ciface_mlp_train_step_inplace(&x, &y, &w1, &m1, &v1, &w2, &m2,
                                               &v2, t, 100, 0.01f);
    if (cage_last_error()) {
      fprintf(stderr, "peak: %s\n", cage_last_error());
      return 1;
    }
    if (atomic_load(&peak) > maxPeak)
      maxPeak = atomic_load(&peak);
  }
  /* peak bytes of the step, bytes of the caller's arrays, final loss */
  printf("%lld %lld %.6f\n", maxPeak, arrays, (double)loss);
  return 0;
}
