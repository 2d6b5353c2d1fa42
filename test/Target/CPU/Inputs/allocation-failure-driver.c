/* Makes every allocation of a compiled step fail in turn: malloc and free
 * are wrapped (-Wl,--wrap=malloc,--wrap=free, which reaches the calls of
 * the compiled object and of this file only), and the k-th malloc of a call
 * returns NULL, for each k up to the number one call makes. Each such call
 * must report "out of memory" through cage_last_error(), free what it
 * allocated, and leave the buffers untouched when the failed allocation is
 * one the step makes before it writes (docs/Semantics.md §2.4). */
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

typedef struct Memref2d {
  float *allocated, *aligned;
  int64_t offset, sizes[2], strides[2];
} Memref2d;

void _mlir_ciface_aliased(Memref2d *a, Memref2d *b, float lr, int64_t t);
const char *cage_last_error(void);

void *__real_malloc(size_t size);
void __real_free(void *pointer);

/* Allocations happen on the worker threads of parallel loops too. */
static atomic_long failAt, calls, live;

void *__wrap_malloc(size_t size) {
  long call = atomic_fetch_add(&calls, 1) + 1;
  if (call == atomic_load(&failAt))
    return NULL;
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

enum { kRowsA = 37, kColsA = 192, kRowsB = 5, kColsB = 128 };
static float a[kRowsA * kColsA], b[kRowsB * kColsB];
static float goodA[kRowsA * kColsA], goodB[kRowsB * kColsB];

static void fill(void) {
  for (int i = 0; i < kRowsA * kColsA; ++i)
    a[i] = (float)((i * 37) % 101 - 50) / 64.0f;
  for (int i = 0; i < kRowsB * kColsB; ++i)
    b[i] = (float)((i * 53) % 97 - 48) / 32.0f;
}

static int untouched(void) {
  float a0[kRowsA * kColsA], b0[kRowsB * kColsB];
  memcpy(a0, a, sizeof a);
  memcpy(b0, b, sizeof b);
  fill();
  return !memcmp(a0, a, sizeof a) && !memcmp(b0, b, sizeof b);
}

/* One call with the k-th allocation failing (none for k = 0). */
static void call(long k) {
  fill();
  Memref2d ma = {a, a, 0, {kRowsA, kColsA}, {kColsA, 1}};
  Memref2d mb = {b, b, 0, {kRowsB, kColsB}, {kColsB, 1}};
  atomic_store(&calls, 0);
  atomic_store(&failAt, k);
  _mlir_ciface_aliased(&ma, &mb, 0.01f, 3);
  atomic_store(&failAt, 0);
}

int main(void) {
  call(0);
  long perCall = atomic_load(&calls);
  printf("good call: %s, %ld allocations, %ld left allocated\n",
         cage_last_error() ? cage_last_error() : "no error", perCall,
         atomic_load(&live));
  memcpy(goodA, a, sizeof a);
  memcpy(goodB, b, sizeof b);

  long reported = 0, leaks = 0, clean = 0, partial = 0;
  for (long k = 1; k <= perCall; ++k) {
    call(k);
    const char *e = cage_last_error();
    if (e && strstr(e, "out of memory: cannot allocate memref<") &&
        strstr(e, "allocation-failure.mlir:"))
      ++reported;
    else
      printf("allocation %ld failed: %s\n", k, e ? e : "no error reported");
    leaks += atomic_load(&live) != 0;
    if (untouched())
      ++clean;
    else
      ++partial;
  }
  printf("failed allocations reported: %ld of %ld\n", reported, perCall);
  printf("calls that leaked: %ld\n", leaks);
  printf("untouched: %ld, partly written: %ld\n", clean, partial);

  call(0);
  printf("good call after them: %s, %s\n",
         cage_last_error() ? cage_last_error() : "no error",
         !memcmp(goodA, a, sizeof a) && !memcmp(goodB, b, sizeof b)
             ? "same result"
             : "different result");
  return 0;
}
