/*===- entry_driver.c - The GPU entry points over a stand-in driver -------===*\
|*                                                                            *|
|* Calls the entry points of Inputs/entry_points.mlir, compiled by           *|
|* cage-compile --target=cuda into a host object (the header is             *|
|* entry_points.h), with device buffers from cage's CUDA runtime, and       *|
|* prints each call's status and message. Run over                          *|
|* test/Runtime/Inputs/fake_cuda.c, whose kernels run nothing: this checks  *|
|* the host side (statuses, streams, checks, allocations), not numbers.     *|
|*                                                                            *|
|*   entry_driver ok | checks | alloc-fail                                  *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#define _POSIX_C_SOURCE 200809L /* setenv */

#include "entry_points.h"

#include "cage-runtime/CUDA.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int allocations; /* the driver's own, for FAKE_CUDA_FAIL_ALLOC */

/* A rows x cols buffer of the device (cols 0: rank 1 of rows). */
static cage_memref_f32_2d matrix(int64_t rows, int64_t cols) {
  CageCudaDevicePointer p = 0;
  if (cageCudaMalloc(&p, (size_t)(rows * cols) * sizeof(float)) != 0) {
    printf("cageCudaMalloc: %s\n", cageCudaLastError());
    exit(1);
  }
  ++allocations;
  float *data = (float *)(uintptr_t)p;
  return (cage_memref_f32_2d){data, data, 0, {rows, cols}, {cols, 1}};
}

static void release(cage_memref_f32_2d *m) {
  cageCudaFree((CageCudaDevicePointer)(uintptr_t)m->allocated);
}

static void report(const char *call, int status) {
  printf("%s: %d (%s)%s%s\n", call, status, cageCudaStatusName(status),
         status ? ": " : "", status ? cageCudaLastError() : "");
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IONBF, 0);
  const char *mode = argc > 1 ? argv[1] : "ok";
  /* The first call initializes the runtime; so may the driver, first. */
  int init = cageCudaInit(0);
  cage_memref_f32_2d x = {0}, w = {0}, g = {0}, m = {0}, v = {0}, r = {0};
  if (init == 0) {
    x = matrix(5, 64);
    w = matrix(3, 16);
    g = matrix(3, 16);
    m = matrix(3, 16);
    v = matrix(3, 16);
  } else {
    report("cageCudaInit", init);
  }
  void *stream = NULL; /* the default stream */

  if (strcmp(mode, "alloc-fail") == 0) {
    /* The call's second allocation fails: its first is freed again. */
    char n[16];
    snprintf(n, sizeof n, "%d", allocations + 2);
    setenv("FAKE_CUDA_FAIL_ALLOC", n, 1);
    cage_step_results results;
    report("step", cage_cuda_step(stream, &results, &w, &g, &m, &v, 1e-3f, 1));
  } else if (strcmp(mode, "checks") == 0) {
    cage_step_results results;
    report("step t=0",
           cage_cuda_step(stream, &results, &w, &g, &m, &v, 1e-3f, 0));
    cage_memref_f32_2d g4 = matrix(4, 16);
    report("step g 4 rows",
           cage_cuda_step(stream, &results, &w, &g4, &m, &v, 1e-3f, 1));
    release(&g4);
    cage_memref_f32_2d strided = w;
    strided.strides[0] = 32;
    report("step strided w",
           cage_cuda_step(stream, &results, &strided, &g, &m, &v, 1e-3f, 1));
  } else {
    int status = cage_cuda_scale_rows(stream, &r, &x);
    report("scale_rows", status);
    if (status == 0) {
      printf("result: %lld x %lld, %s\n", (long long)r.sizes[0],
             (long long)r.sizes[1],
             r.allocated ? "in device memory" : "no buffer");
      release(&r);
    }
    cage_memref_f32_1d flat = {x.allocated, x.aligned, 0, {5 * 64}, {1}};
    float sum;
    report("total", cage_cuda_total(stream, &sum, &flat));
    cage_step_results results;
    status = cage_cuda_step(stream, &results, &w, &g, &m, &v, 1e-3f, 1);
    report("step", status);
    if (status == 0) {
      release(&results.r0);
      release(&results.r1);
      release(&results.r2);
    }
    /* An empty tensor: no kernel to launch, no buffer. */
    cage_memref_f32_2d empty = x;
    empty.sizes[0] = 0;
    report("scale_rows 0 rows", cage_cuda_scale_rows(stream, &r, &empty));
    release(&r);
  }
  if (init == 0) {
    release(&x);
    release(&w);
    release(&g);
    release(&m);
    release(&v);
  }
  return 0;
}
