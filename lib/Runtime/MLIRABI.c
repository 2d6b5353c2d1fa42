/*===- MLIRABI.c - MLIR's GPU runtime ABI over cage's CUDA runtime --------===*\
|*                                                                            *|
|* The host code that cage-gpu-pipeline makes (gpu-to-llvm) calls these      *|
|* functions, with the signatures MLIR 22 gives them: modules, kernels,     *|
|* launches, streams, device memory and copies. They are implemented here   *|
|* over cage-runtime/CUDA.h, so that compiled GPU code links with this      *|
|* library alone (no libmlir_cuda_runtime, no CUDA at build time). The first *|
|* call that needs the device initializes device 0 (a module's PTX waits    *|
|* for the first kernel looked up in it). The ABI returns no statuses: a    *|
|* failure prints the runtime's message on stderr and aborts, as the host   *|
|* code's own run-time checks do; entry points with a status are to come.  *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#include "cage-runtime/CUDA.h"

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define MGPU_EXPORT __attribute__((visibility("default")))

MGPU_EXPORT void *mgpuModuleLoadJIT(void *data, int optLevel);
MGPU_EXPORT void mgpuModuleUnload(void *module);
MGPU_EXPORT void *mgpuModuleGetFunction(void *module, const char *name);
MGPU_EXPORT void mgpuLaunchKernel(void *function, intptr_t gridX,
                                  intptr_t gridY, intptr_t gridZ,
                                  intptr_t blockX, intptr_t blockY,
                                  intptr_t blockZ, int32_t sharedBytes,
                                  void *stream, void **params, void **extra,
                                  size_t paramsCount);
MGPU_EXPORT void *mgpuStreamCreate(void);
MGPU_EXPORT void mgpuStreamDestroy(void *stream);
MGPU_EXPORT void mgpuStreamSynchronize(void *stream);
MGPU_EXPORT void *mgpuMemAlloc(uint64_t bytes, void *stream, bool isHostShared);
MGPU_EXPORT void mgpuMemFree(void *pointer, void *stream);
MGPU_EXPORT void mgpuMemcpy(void *to, void *from, size_t bytes, void *stream);

static _Noreturn void fail(const char *call) {
  fprintf(stderr, "cage: %s failed: %s\n", call, cageCudaLastError());
  abort();
}

static void check(const char *call, int status) {
  if (status != CageCudaOk)
    fail(call);
}

/* The first call of the program initializes device 0 (a no-op after). */
static void ready(const char *call) { check(call, cageCudaInit(0)); }

/* A module of the program: its PTX, loaded at the first kernel looked up
 * in it. MLIR's host code calls mgpuModuleLoadJIT from a global
 * constructor, before main: loading there would need the driver (and abort
 * without one) in every program linked with GPU code, whether it runs any
 * or not. */
typedef struct LazyModule {
  const void *image;
  CageCudaModule loaded;
} LazyModule;

/* PTX, which the driver compiles for the device at the first lookup (its
 * own optimization level: the driver's default, the highest). */
void *mgpuModuleLoadJIT(void *data, int optLevel) {
  (void)optLevel;
  LazyModule *module = calloc(1, sizeof *module);
  if (!module) {
    fprintf(stderr, "cage: mgpuModuleLoadJIT failed: out of memory\n");
    abort();
  }
  module->image = data;
  return module;
}

void mgpuModuleUnload(void *handle) {
  LazyModule *module = handle;
  if (module->loaded) {
    ready("mgpuModuleUnload");
    check("mgpuModuleUnload", cageCudaModuleUnload(module->loaded));
  }
  free(module);
}

void *mgpuModuleGetFunction(void *handle, const char *name) {
  LazyModule *module = handle;
  ready("mgpuModuleGetFunction");
  if (!module->loaded)
    check("mgpuModuleGetFunction",
          cageCudaModuleLoad(&module->loaded, module->image));
  CageCudaFunction function = NULL;
  check("mgpuModuleGetFunction",
        cageCudaModuleGetFunction(&function, module->loaded, name));
  return function;
}

static unsigned dimension(intptr_t size) {
  if (size <= 0 || (uintmax_t)size > UINT_MAX) {
    fprintf(stderr,
            "cage: mgpuLaunchKernel failed: a grid or block size of %jd\n",
            (intmax_t)size);
    abort();
  }
  return (unsigned)size;
}

void mgpuLaunchKernel(void *function, intptr_t gridX, intptr_t gridY,
                      intptr_t gridZ, intptr_t blockX, intptr_t blockY,
                      intptr_t blockZ, int32_t sharedBytes, void *stream,
                      void **params, void **extra, size_t paramsCount) {
  (void)extra; /* null: the arguments come in params */
  (void)paramsCount;
  ready("mgpuLaunchKernel");
  const unsigned grid[3] = {dimension(gridX), dimension(gridY),
                            dimension(gridZ)};
  const unsigned block[3] = {dimension(blockX), dimension(blockY),
                             dimension(blockZ)};
  check("mgpuLaunchKernel",
        cageCudaLaunch(function, grid, block,
                       sharedBytes < 0 ? 0u : (unsigned)sharedBytes, stream,
                       params));
}

void *mgpuStreamCreate(void) {
  ready("mgpuStreamCreate");
  CageCudaStream stream = NULL;
  check("mgpuStreamCreate", cageCudaStreamCreate(&stream));
  return stream;
}

void mgpuStreamDestroy(void *stream) {
  ready("mgpuStreamDestroy");
  check("mgpuStreamDestroy", cageCudaStreamDestroy(stream));
}

void mgpuStreamSynchronize(void *stream) {
  ready("mgpuStreamSynchronize");
  check("mgpuStreamSynchronize", cageCudaStreamSynchronize(stream));
}

/* Device memory, allocated at once (not in stream order). */
void *mgpuMemAlloc(uint64_t bytes, void *stream, bool isHostShared) {
  (void)stream;
  ready("mgpuMemAlloc");
  if (isHostShared) {
    fprintf(stderr, "cage: mgpuMemAlloc failed: host-shared memory is not "
                    "supported\n");
    abort();
  }
  CageCudaDevicePointer pointer = 0;
  check("mgpuMemAlloc", cageCudaMalloc(&pointer, (size_t)bytes));
  return (void *)(uintptr_t)pointer;
}

/* The driver waits for the device's work on the memory before freeing. */
void mgpuMemFree(void *pointer, void *stream) {
  (void)stream;
  ready("mgpuMemFree");
  check("mgpuMemFree", cageCudaFree((CageCudaDevicePointer)(uintptr_t)pointer));
}

void mgpuMemcpy(void *to, void *from, size_t bytes, void *stream) {
  ready("mgpuMemcpy");
  check("mgpuMemcpy", cageCudaCopy(to, from, bytes, stream));
}
