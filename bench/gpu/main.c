/*===- main.c - The fused CAGE-AdamW step on the GPU against a copy -------===*\
|*                                                                            *|
|*   fused-step [--log2n=A:B] [--repeat=R]                                    *|
|*                                                                            *|
|* For N = 2^A ... 2^B f32 parameters (default 2^24 ... 2^28): the median    *|
|* time of a device-to-device copy of N floats (8 bytes moved per element,   *|
|* the bandwidth limit) and of the GPU entry points of gen_step.py, which    *|
|* update w, m and v in place (28 bytes per parameter: w, g, m, v read,     *|
|* w, m, v written): step_one (one ?x128 parameter) and step_64 (the same N *|
|* in 64 parameters, one cage.multi_update), each a synchronous call on the *|
|* default stream. Prints one JSON object per line: the device, and per N   *|
|* the times, bandwidths and the step's bandwidth over the copy's.          *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#define _POSIX_C_SOURCE 200809L

#include "fused_step.h"
#include "fused_step_call.h"

#include "cage-runtime/CUDA.h"
#include "clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { kCols = 128, kParts = 64 };

static void die(const char *what) {
  fprintf(stderr, "fused-step: %s: %s\n", what, cageCudaLastError());
  exit(1);
}

static float *deviceArray(size_t n, unsigned char byte) {
  CageCudaDevicePointer p = 0;
  if (cageCudaMalloc(&p, n * sizeof(float)) ||
      cageCudaMemset(p, byte, n * sizeof(float)))
    die("device memory");
  return (float *)(uintptr_t)p;
}

static cage_memref_f32_2d view(float *data, int64_t rows) {
  return (cage_memref_f32_2d){data, data, 0, {rows, kCols}, {kCols, 1}};
}

/* Seconds of one call of each kind. */
static double timeCopy(float *to, float *from, size_t n) {
  double start = benchNow();
  if (cageCudaCopyOnDevice((CageCudaDevicePointer)(uintptr_t)to,
                           (CageCudaDevicePointer)(uintptr_t)from,
                           n * sizeof(float)) ||
      cageCudaStreamSynchronize(NULL))
    die("copy");
  return benchNow() - start;
}

typedef struct Buffers {
  float *w, *g, *m, *v;
  int64_t rows;
} Buffers;

static double timeOne(const Buffers *b, int64_t t) {
  cage_memref_f32_2d w = view(b->w, b->rows), g = view(b->g, b->rows),
                     m = view(b->m, b->rows), v = view(b->v, b->rows);
  double start = benchNow();
  if (cage_cuda_step_one(NULL, &w, &g, &m, &v, 1e-3f, 0.5f, t))
    die("step_one");
  return benchNow() - start;
}

/* step_64 over 64 consecutive slices of the same buffers. */
static double timeParts(const Buffers *b, int64_t t) {
  static cage_memref_f32_2d d[4 * kParts];
  int64_t rows = b->rows / kParts;
  float *base[4] = {b->w, b->g, b->m, b->v};
  for (int k = 0; k < kParts; ++k)
    for (int x = 0; x < 4; ++x)
      d[4 * k + x] = view(base[x] + (size_t)k * (size_t)rows * kCols, rows);
  double start = benchNow();
  if (CAGE_STEP_64_CALL(d, 1e-3f, 0.5f, t))
    die("step_64");
  return benchNow() - start;
}

int main(int argc, char **argv) {
  int from = 24, to = 28, repeat = 20;
  for (int i = 1; i < argc; ++i) {
    if (sscanf(argv[i], "--log2n=%d:%d", &from, &to) == 2 ||
        sscanf(argv[i], "--repeat=%d", &repeat) == 1)
      continue;
    fprintf(stderr, "usage: fused-step [--log2n=A:B] [--repeat=R]\n");
    return 2;
  }
  if (from < 14 || to > 31 || from > to || repeat < 1 || repeat > 1000) {
    fprintf(stderr, "fused-step: --log2n in [14, 31], --repeat in [1, 1000]\n");
    return 2;
  }
  if (cageCudaInit(0))
    die("cageCudaInit");
  char name[256];
  int major = 0, minor = 0, driver = 0;
  if (cageCudaDeviceName(name, sizeof name) ||
      cageCudaComputeCapability(&major, &minor) ||
      cageCudaDriverVersion(&driver))
    die("device");
  printf("{\"device\": \"%s\", \"compute_capability\": \"%d.%d\", "
         "\"driver\": %d}\n",
         name, major, minor, driver);
  double *samples = malloc(3 * (size_t)repeat * sizeof *samples);
  if (!samples)
    return 1;
  for (int log2n = from; log2n <= to; ++log2n) {
    size_t n = (size_t)1 << log2n;
    Buffers b = {deviceArray(n, 0x3c), deviceArray(n, 0x3b), deviceArray(n, 0),
                 deviceArray(n, 0), (int64_t)(n / kCols)};
    float *copy = deviceArray(n, 0);
    int64_t t = 1;
    for (int warm = 0; warm < 3; ++warm) {
      timeCopy(copy, b.w, n);
      timeOne(&b, t++);
      timeParts(&b, t++);
    }
    for (int r = 0; r < repeat; ++r) {
      samples[r] = timeCopy(copy, b.w, n);
      samples[repeat + r] = timeOne(&b, t++);
      samples[2 * repeat + r] = timeParts(&b, t++);
    }
    double copyTime = summarize(samples, repeat).median;
    double oneTime = summarize(samples + repeat, repeat).median;
    double partsTime = summarize(samples + 2 * repeat, repeat).median;
    double copyRate = 8.0 * (double)n / copyTime / 1e9;
    double oneRate = 28.0 * (double)n / oneTime / 1e9;
    double partsRate = 28.0 * (double)n / partsTime / 1e9;
    printf("{\"log2n\": %d, \"copy_s\": %.6e, \"copy_GBps\": %.1f, "
           "\"step_one_s\": %.6e, \"step_one_GBps\": %.1f, "
           "\"step_one_of_copy\": %.3f, \"step_64_s\": %.6e, "
           "\"step_64_GBps\": %.1f, \"step_64_of_copy\": %.3f}\n",
           log2n, copyTime, copyRate, oneTime, oneRate, oneRate / copyRate,
           partsTime, partsRate, partsRate / copyRate);
    float *all[] = {b.w, b.g, b.m, b.v, copy};
    for (int k = 0; k < 5; ++k)
      cageCudaFree((CageCudaDevicePointer)(uintptr_t)all[k]);
  }
  free(samples);
  return 0;
}
