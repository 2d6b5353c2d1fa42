/*===- peak.c - The machine's single-precision FMA peak -------------------===*\
|*                                                                            *|
|* See peak.h. The kernels are compiled for their instruction set with        *|
|* target attributes, so that the driver itself is built for the baseline     *|
|* x86-64 and only calls the kernel the CPU supports.                         *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#define _POSIX_C_SOURCE 200809L
#include "peak.h"

#include "clock.h"

#include <immintrin.h>
#include <pthread.h>
#include <stdint.h>

/* One timed run is short (250k iterations of 16 AVX-512 FMAs, 128 MFLOP:
 * under a millisecond per core at 200 GFLOP/s) and the peak is the best of
 * many: on a shared machine a long run always loses part of its time slices
 * to other processes, while some short run gets its cores to themselves (as
 * a fast matmul call does, whose median then exceeds a long run's "peak"). */
enum { kIterations = 250 * 1000, kRepetitions = 400 };

/* a = a * x + y converges to y / (1 - x): no overflow and no denormals, so
 * every FMA runs at full speed for any number of iterations. */
#define PEAK_X 0.99999f
#define PEAK_Y 1e-6f

/* 16 independent accumulators: enough to cover the FMA latency (4 cycles)
 * times the FMA pipes (2) of current cores twice over, and with the two
 * operands still within the 32 zmm registers. */
#define FMA16(f)                                                               \
  a0 = f(a0, x, y), a1 = f(a1, x, y), a2 = f(a2, x, y), a3 = f(a3, x, y),      \
  a4 = f(a4, x, y), a5 = f(a5, x, y), a6 = f(a6, x, y), a7 = f(a7, x, y),      \
  a8 = f(a8, x, y), a9 = f(a9, x, y), a10 = f(a10, x, y), a11 = f(a11, x, y),  \
  a12 = f(a12, x, y), a13 = f(a13, x, y), a14 = f(a14, x, y),                  \
  a15 = f(a15, x, y)

/* Returns a sum of the accumulators, so that the loop is not dead code.
 * 16 lanes x 2 flops x 16 FMAs per iteration. */
__attribute__((target("avx512f"))) static float fmaLoop512(long n) {
  __m512 x = _mm512_set1_ps(PEAK_X), y = _mm512_set1_ps(PEAK_Y);
  /* Distinct starting values: equal ones would let the compiler compute
   * one chain and copy it. */
  __m512 a0 = _mm512_set1_ps(0.0f), a1 = _mm512_set1_ps(0.01f),
         a2 = _mm512_set1_ps(0.02f), a3 = _mm512_set1_ps(0.03f),
         a4 = _mm512_set1_ps(0.04f), a5 = _mm512_set1_ps(0.05f),
         a6 = _mm512_set1_ps(0.06f), a7 = _mm512_set1_ps(0.07f),
         a8 = _mm512_set1_ps(0.08f), a9 = _mm512_set1_ps(0.09f),
         a10 = _mm512_set1_ps(0.10f), a11 = _mm512_set1_ps(0.11f),
         a12 = _mm512_set1_ps(0.12f), a13 = _mm512_set1_ps(0.13f),
         a14 = _mm512_set1_ps(0.14f), a15 = _mm512_set1_ps(0.15f);
  for (long i = 0; i < n; ++i)
    FMA16(_mm512_fmadd_ps);
  __m512 s = _mm512_add_ps(_mm512_add_ps(a0, a8), _mm512_add_ps(a4, a12));
  s = _mm512_add_ps(s, _mm512_add_ps(a1, a2));
  s = _mm512_add_ps(s, _mm512_add_ps(a3, a5));
  s = _mm512_add_ps(s, _mm512_add_ps(a6, a7));
  s = _mm512_add_ps(s, _mm512_add_ps(a9, a10));
  s = _mm512_add_ps(s, _mm512_add_ps(a11, a13));
  s = _mm512_add_ps(s, _mm512_add_ps(a14, a15));
  return _mm512_reduce_add_ps(s);
}

/* 12 accumulators: with the two operands, 14 of the 16 ymm registers.
 * 8 lanes x 2 flops x 12 FMAs per iteration. */
#define FMA12(f)                                                               \
  a0 = f(a0, x, y), a1 = f(a1, x, y), a2 = f(a2, x, y), a3 = f(a3, x, y),      \
  a4 = f(a4, x, y), a5 = f(a5, x, y), a6 = f(a6, x, y), a7 = f(a7, x, y),      \
  a8 = f(a8, x, y), a9 = f(a9, x, y), a10 = f(a10, x, y), a11 = f(a11, x, y)

__attribute__((target("avx2,fma"))) static float fmaLoop256(long n) {
  __m256 x = _mm256_set1_ps(PEAK_X), y = _mm256_set1_ps(PEAK_Y);
  __m256 a0 = _mm256_set1_ps(0.0f), a1 = _mm256_set1_ps(0.01f),
         a2 = _mm256_set1_ps(0.02f), a3 = _mm256_set1_ps(0.03f),
         a4 = _mm256_set1_ps(0.04f), a5 = _mm256_set1_ps(0.05f),
         a6 = _mm256_set1_ps(0.06f), a7 = _mm256_set1_ps(0.07f),
         a8 = _mm256_set1_ps(0.08f), a9 = _mm256_set1_ps(0.09f),
         a10 = _mm256_set1_ps(0.10f), a11 = _mm256_set1_ps(0.11f);
  for (long i = 0; i < n; ++i)
    FMA12(_mm256_fmadd_ps);
  __m256 s = _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3));
  s = _mm256_add_ps(s, _mm256_add_ps(a4, a5));
  s = _mm256_add_ps(s, _mm256_add_ps(a6, a7));
  s = _mm256_add_ps(s, _mm256_add_ps(a8, a9));
  s = _mm256_add_ps(s, _mm256_add_ps(a10, a11));
  float lanes[8];
  _mm256_storeu_ps(lanes, s);
  return lanes[0] + lanes[7];
}

const char *peakIsa(void) {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f"))
    return "avx512f";
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    return "avx2+fma";
  return 0;
}

static double flopsPerIteration(const char *isa) {
  return isa[3] == '5' ? 16.0 * 2 * 16 : 8.0 * 2 * 12;
}

typedef struct Worker {
  pthread_t thread;
  const char *isa;
  pthread_barrier_t *start;
  double begin, end; /* its own clock readings around the loop */
  float sink;        /* the loop's result, kept */
} Worker;

static void *workerRun(void *arg) {
  Worker *w = arg;
  pthread_barrier_wait(w->start);
  w->begin = benchNow();
  /* The store to *w, which benchNow might read, keeps the loop between the
   * two clock readings. */
  w->sink =
      w->isa[3] == '5' ? fmaLoop512(kIterations) : fmaLoop256(kIterations);
  w->end = benchNow();
  return 0;
}

/* One timed run of `threads` workers: from the first one's start to the
 * last one's end, each read by the workers themselves (the main thread may
 * wake late from the barrier), so that a worker the OS parks on a busy
 * core shows up as a lower peak rather than being averaged away. */
static double runOnce(const char *isa, int threads) {
  enum { kMaxThreads = 256 };
  Worker workers[kMaxThreads];
  pthread_barrier_t start;
  if (threads > kMaxThreads)
    threads = kMaxThreads;
  pthread_barrier_init(&start, 0, (unsigned)threads);
  for (int i = 0; i < threads; ++i) {
    workers[i] = (Worker){.isa = isa, .start = &start};
    pthread_create(&workers[i].thread, 0, workerRun, &workers[i]);
  }
  double begin = 0.0, end = 0.0;
  for (int i = 0; i < threads; ++i) {
    pthread_join(workers[i].thread, 0);
    if (i == 0 || workers[i].begin < begin)
      begin = workers[i].begin;
    if (i == 0 || workers[i].end > end)
      end = workers[i].end;
  }
  pthread_barrier_destroy(&start);
  return flopsPerIteration(isa) * kIterations * threads / (end - begin) * 1e-9;
}

double peakMeasure(int threads) {
  const char *isa = peakIsa();
  if (!isa || threads < 1)
    return 0.0;
  double best = 0.0;
  for (int r = 0; r < kRepetitions; ++r) {
    double g = runOnce(isa, threads);
    best = g > best ? g : best;
  }
  return best;
}
