/* The buffer cache of cage-cpu-cache-buffers, seen from a program: malloc
 * and free are wrapped (-Wl,--wrap=malloc,--wrap=free, which reaches the
 * calls of the compiled object and of this file only) to count calls and
 * live blocks. The step is called three times on the same input: the
 * second and third calls must take their large buffers from the cache
 * (fewer mallocs than the first; of 64 KiB or more only the result, which
 * this program frees with free() and so never goes back to the cache) and
 * give the same result. After cage_release_buffers() nothing the code
 * allocated is left. */
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct Memref2d {
  float *allocated, *aligned;
  int64_t offset, sizes[2], strides[2];
} Memref2d;

enum { kN = 192 };

void _mlir_ciface_square(Memref2d *result, Memref2d *x);
const char *cage_last_error(void);
void cage_release_buffers(void);

void *__real_malloc(size_t size);
void __real_free(void *pointer);

static atomic_long mallocs, largeMallocs, live;

void *__wrap_malloc(size_t size) {
  atomic_fetch_add(&mallocs, 1);
  if (size >= 65536)
    atomic_fetch_add(&largeMallocs, 1);
  void *pointer = __real_malloc(size);
  if (pointer)
    atomic_fetch_add(&live, 1);
  return pointer;
}

void __wrap_free(void *pointer) {
  if (pointer)
    atomic_fetch_sub(&live, 1);
  __real_free(pointer);
}

static float x[kN * kN], first[kN * kN];

/* One call; returns whether it reported no error, and copies the result
 * into `out` before freeing it. */
static int call(float *out, long *numMallocs, long *numLarge) {
  Memref2d mx = {x, x, 0, {kN, kN}, {kN, 1}}, result;
  atomic_store(&mallocs, 0);
  atomic_store(&largeMallocs, 0);
  _mlir_ciface_square(&result, &mx);
  *numMallocs = atomic_load(&mallocs);
  *numLarge = atomic_load(&largeMallocs);
  if (cage_last_error())
    return 0;
  memcpy(out, result.aligned, sizeof x);
  free(result.allocated);
  return 1;
}

int main(void) {
  for (int i = 0; i < kN * kN; ++i)
    x[i] = (float)((i * 37) % 101 - 50) / 64.0f;
  static float again[kN * kN];
  long m1, l1, m2, l2, m3, l3;
  int ok = call(first, &m1, &l1);
  ok &= call(again, &m2, &l2);
  int same = !memcmp(first, again, sizeof first);
  ok &= call(again, &m3, &l3);
  same &= !memcmp(first, again, sizeof first);
  printf("calls: %s, results %s\n", ok ? "no error" : "an error",
         same ? "the same" : "DIFFERENT");
  printf("large mallocs: first call %s, later calls %ld and %ld\n",
         l1 > 0 ? "some" : "none", l2, l3);
  printf("fewer mallocs after the first call: %s\n",
         m2 < m1 && m3 < m1 ? "yes" : "no");
  printf("blocks live before release: %s\n",
         atomic_load(&live) > 0 ? "some" : "none");
  cage_release_buffers();
  printf("blocks live after release: %ld\n", atomic_load(&live));
  return 0;
}
