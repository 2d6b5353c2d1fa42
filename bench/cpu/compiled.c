/*===- compiled.c - Steps compiled by cage-compile, loaded with dlopen ----===*\
|*                                                                            *|
|* See compiled.h. C cannot build a call with a run-time number of            *|
|* arguments, so each supported arity (1 and 64 parameters, the benchmark's   *|
|* workloads) has its function type and call spelled out by the macros        *|
|* below.                                                                     *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#define _POSIX_C_SOURCE 200809L
#include "compiled.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

/* The memref parameters of n tensors (4 memrefs each). */
#define PARAMS_1 Memref2d *, Memref2d *, Memref2d *, Memref2d *
#define PARAMS_4 PARAMS_1, PARAMS_1, PARAMS_1, PARAMS_1
#define PARAMS_16 PARAMS_4, PARAMS_4, PARAMS_4, PARAMS_4
#define PARAMS_64 PARAMS_16, PARAMS_16, PARAMS_16, PARAMS_16

/* The arguments a[i .. i + 4n). */
#define ARGS_1(a, i) a[i], a[i + 1], a[i + 2], a[i + 3]
#define ARGS_4(a, i)                                                           \
  ARGS_1(a, i), ARGS_1(a, i + 4), ARGS_1(a, i + 8), ARGS_1(a, i + 12)
#define ARGS_16(a, i)                                                          \
  ARGS_4(a, i), ARGS_4(a, i + 16), ARGS_4(a, i + 32), ARGS_4(a, i + 48)
#define ARGS_64(a, i)                                                          \
  ARGS_16(a, i), ARGS_16(a, i + 64), ARGS_16(a, i + 128), ARGS_16(a, i + 192)

typedef void (*Step1)(PARAMS_1, float, float, int64_t);
typedef void (*Step64)(PARAMS_64, float, float, int64_t);
/* bf16 state: the same memrefs (m, v of bf16), then lr, lambda, t, seed. */
typedef void (*Step1Bf16)(PARAMS_1, float, float, int64_t, int64_t);
typedef void (*Step64Bf16)(PARAMS_64, float, float, int64_t, int64_t);

bool compiledArityIsSupported(int numTensors) {
  return numTensors == 1 || numTensors == 64;
}

static Memref2d describe(void *data, const BenchTensor *t) {
  Memref2d d = {data, data, 0, {t->rows, t->cols}, {t->cols, 1}};
  return d;
}

bool compiledStepBind(CompiledStep *step, const char *path, const char *name,
                      const Workload *wl, bool bf16State) {
  *step = (CompiledStep){0};
  if (bf16State && wl->count > 0 && !wl->tensors[0].m16) {
    fprintf(stderr, "%s: the workload has no bf16 state\n", path);
    return false;
  }
  if (!compiledArityIsSupported(wl->count)) {
    fprintf(stderr, "%s: %d parameters: only 1 and 64 are supported\n", path,
            wl->count);
    return false;
  }
  /* Handles are never closed: a shared object stays loaded for the life of
   * the process (dlopen of the same path returns the same handle). */
  void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    fprintf(stderr, "%s\n", dlerror());
    return false;
  }
  char symbol[256];
  snprintf(symbol, sizeof symbol, "_mlir_ciface_%s", name);
  /* POSIX's way to turn dlsym's void * into a function pointer. */
  *(void **)&step->function = dlsym(handle, symbol);
  if (!step->function) {
    fprintf(stderr, "%s: no symbol %s\n", path, symbol);
    return false;
  }
  step->numTensors = wl->count;
  step->bf16State = bf16State;
  step->descriptors = calloc(4 * (size_t)wl->count, sizeof(Memref2d));
  step->arguments = calloc(4 * (size_t)wl->count, sizeof(Memref2d *));
  if (!step->descriptors || !step->arguments) {
    compiledStepRelease(step);
    return false;
  }
  for (int k = 0; k < wl->count; ++k) {
    const BenchTensor *t = &wl->tensors[k];
    void *arrays[4] = {t->w, t->g, t->m, t->v};
    if (bf16State) {
      arrays[2] = t->m16;
      arrays[3] = t->v16;
    }
    for (int a = 0; a < 4; ++a) {
      step->descriptors[4 * k + a] = describe(arrays[a], t);
      step->arguments[4 * k + a] = &step->descriptors[4 * k + a];
    }
  }
  return true;
}

void compiledStepRelease(CompiledStep *step) {
  free(step->descriptors);
  free(step->arguments);
  *step = (CompiledStep){0};
}

void compiledStepRun(const CompiledStep *step, float lr, float lambda,
                     int64_t t, int64_t seed) {
  Memref2d **a = step->arguments;
  if (step->bf16State && step->numTensors == 1)
    ((Step1Bf16)step->function)(ARGS_1(a, 0), lr, lambda, t, seed);
  else if (step->bf16State)
    ((Step64Bf16)step->function)(ARGS_64(a, 0), lr, lambda, t, seed);
  else if (step->numTensors == 1)
    ((Step1)step->function)(ARGS_1(a, 0), lr, lambda, t);
  else
    ((Step64)step->function)(ARGS_64(a, 0), lr, lambda, t);
}
