/*===- MLIRABI.c - MLIR's GPU runtime ABI over cage's CUDA runtime --------===*\
|*                                                                            *|
|* The host code that cage-gpu-pipeline makes (gpu-to-llvm) calls these      *|
|* functions, with the signatures MLIR 22 gives them: modules, kernels,     *|
|* launches, streams, device memory and copies. They are implemented here   *|
|* over cage-runtime/CUDA.h, so that compiled GPU code links with this      *|
|* library alone (no libmlir_cuda_runtime, no CUDA at build time). The first *|
|* call that needs the device initializes device 0 (a module's PTX waits    *|
|* for the first kernel looked up in it).                                   *|
|*                                                                            *|
|* The ABI has no statuses. Inside the frame of a compiled entry point      *|
|* (cageCudaCallBegin ... cageCudaCallEnd) they do not need one: the first  *|
|* failure is kept for the entry point to return, later device work is     *|
|* skipped (the host code never reads device memory itself, so skipping    *|
|* leaves it nothing wrong to read), streams are the caller's, and what the *|
|* call allocated is freed if it fails. Outside a frame (upstream's way of  *|
|* calling the host code directly) a failure prints the message and aborts. *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#define _POSIX_C_SOURCE 200809L /* pthread mutexes */

#include "cage-runtime/CUDA.h"

#include "Errors.h"

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/*===----------------------------------------------------------------------===*
 * The frame of a call
 *===----------------------------------------------------------------------===*/

/* The call of a compiled entry point in progress on this thread. */
typedef struct Call {
  bool active;
  CageCudaStream stream;
  int status; /* of the first failure */
  char message[512];
  /* What the call allocated and has not freed: the buffers it returns, or,
     when it fails, what cageCudaCallEnd frees. */
  CageCudaDevicePointer *allocated;
  size_t count, capacity;
} Call;

static _Thread_local Call call;

/* cageCudaInit and the lazy module loads, which threads may race to. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

/* Whether the frame's device work is to be skipped: a call failed before. */
static bool skipping(void) { return call.active && call.status != CageCudaOk; }

/* A failed runtime call `name` (its message in cageCudaLastError): kept as
 * the frame's status if it is the first, else fatal. False, for `return`. */
static bool fail(const char *name, int status) {
  if (!call.active) {
    fprintf(stderr, "cage: %s failed: %s\n", name, cageCudaLastError());
    abort();
  }
  if (call.status == CageCudaOk) {
    call.status = status;
    snprintf(call.message, sizeof call.message, "%s", cageCudaLastError());
  }
  return false;
}

static bool check(const char *name, int status) {
  return status == CageCudaOk || fail(name, status);
}

/* The first call of the program initializes device 0 (a no-op after). */
static bool ready(const char *name) {
  pthread_mutex_lock(&lock);
  int status = cageCudaInit(0);
  pthread_mutex_unlock(&lock);
  return check(name, status);
}

static void forget(CageCudaDevicePointer pointer) {
  for (size_t i = 0; i < call.count; ++i)
    if (call.allocated[i] == pointer) {
      call.allocated[i] = call.allocated[--call.count];
      return;
    }
}

static bool remember(CageCudaDevicePointer pointer) {
  if (call.count == call.capacity) {
    size_t capacity = call.capacity ? 2 * call.capacity : 32;
    CageCudaDevicePointer *grown =
        realloc(call.allocated, capacity * sizeof *grown);
    if (!grown)
      return false;
    call.allocated = grown;
    call.capacity = capacity;
  }
  call.allocated[call.count++] = pointer;
  return true;
}

void cageCudaCallBegin(CageCudaStream stream) {
  free(call.allocated);
  call = (Call){.active = true, .stream = stream};
  ready("cageCudaCallBegin");
}

int cageCudaCallEnd(const char *checkMessage) {
  if (call.status == CageCudaOk && checkMessage) {
    call.status = CageCudaCheckFailed;
    snprintf(call.message, sizeof call.message, "%s", checkMessage);
  }
  /* The call's work is done when it returns: its results are ready and the
     kernels' own failures are its status. */
  if (call.status == CageCudaOk)
    check("cageCudaCallEnd", cageCudaStreamSynchronize(call.stream));
  if (call.status != CageCudaOk)
    for (size_t i = 0; i < call.count; ++i)
      cageCudaFree(call.allocated[i]); /* its failure changes nothing */
  int status = call.status;
  if (status != CageCudaOk)
    cageCudaFail(status, "%s", call.message);
  free(call.allocated);
  call = (Call){0};
  return status;
}

/*===----------------------------------------------------------------------===*
 * Modules and kernels
 *===----------------------------------------------------------------------===*/

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
  if (module->loaded && ready("mgpuModuleUnload"))
    check("mgpuModuleUnload", cageCudaModuleUnload(module->loaded));
  free(module);
}

void *mgpuModuleGetFunction(void *handle, const char *name) {
  LazyModule *module = handle;
  if (skipping() || !ready("mgpuModuleGetFunction"))
    return NULL;
  pthread_mutex_lock(&lock);
  int status = module->loaded
                   ? CageCudaOk
                   : cageCudaModuleLoad(&module->loaded, module->image);
  pthread_mutex_unlock(&lock);
  CageCudaFunction function = NULL;
  if (check("mgpuModuleGetFunction", status))
    check("mgpuModuleGetFunction",
          cageCudaModuleGetFunction(&function, module->loaded, name));
  return function;
}

/* A grid or block size as the driver takes it: 0 for an empty grid (the
 * parallel loop of an empty tensor), -1 for a size it cannot take. */
static long long dimension(intptr_t size) {
  return size < 0 || (uintmax_t)size > UINT_MAX ? -1 : (long long)size;
}

void mgpuLaunchKernel(void *function, intptr_t gridX, intptr_t gridY,
                      intptr_t gridZ, intptr_t blockX, intptr_t blockY,
                      intptr_t blockZ, int32_t sharedBytes, void *stream,
                      void **params, void **extra, size_t paramsCount) {
  (void)extra; /* null: the arguments come in params */
  (void)paramsCount;
  if (skipping() || !ready("mgpuLaunchKernel"))
    return;
  const intptr_t sizes[6] = {gridX, gridY, gridZ, blockX, blockY, blockZ};
  unsigned grid[3], block[3];
  for (int i = 0; i < 6; ++i) {
    long long size = dimension(sizes[i]);
    if (size < 0) {
      cageCudaFail(CageCudaInvalidArgument,
                   "a kernel launch of %jd x %jd x %jd blocks of %jd x %jd x "
                   "%jd threads: a size the driver cannot take",
                   (intmax_t)gridX, (intmax_t)gridY, (intmax_t)gridZ,
                   (intmax_t)blockX, (intmax_t)blockY, (intmax_t)blockZ);
      fail("mgpuLaunchKernel", CageCudaInvalidArgument);
      return;
    }
    if (size == 0)
      return; /* nothing to run */
    (i < 3 ? grid : block)[i % 3] = (unsigned)size;
  }
  check("mgpuLaunchKernel",
        cageCudaLaunch(function, grid, block,
                       sharedBytes < 0 ? 0u : (unsigned)sharedBytes, stream,
                       params));
}

/*===----------------------------------------------------------------------===*
 * Streams
 *===----------------------------------------------------------------------===*/

/* In a frame, the code's streams are the caller's. */
void *mgpuStreamCreate(void) {
  if (call.active)
    return call.stream;
  CageCudaStream stream = NULL;
  if (ready("mgpuStreamCreate"))
    check("mgpuStreamCreate", cageCudaStreamCreate(&stream));
  return stream;
}

void mgpuStreamDestroy(void *stream) {
  if (call.active && stream == (void *)call.stream)
    return;
  if (ready("mgpuStreamDestroy"))
    check("mgpuStreamDestroy", cageCudaStreamDestroy(stream));
}

void mgpuStreamSynchronize(void *stream) {
  if (skipping() || !ready("mgpuStreamSynchronize"))
    return;
  check("mgpuStreamSynchronize", cageCudaStreamSynchronize(stream));
}

/*===----------------------------------------------------------------------===*
 * Memory
 *===----------------------------------------------------------------------===*/

/* Device memory, allocated at once (not in stream order). 0 bytes are a
 * null pointer, which the code's allocation checks take for an empty
 * buffer; a failure is a null pointer too, after the status is kept. */
void *mgpuMemAlloc(uint64_t bytes, void *stream, bool isHostShared) {
  (void)stream;
  if (skipping() || bytes == 0 || !ready("mgpuMemAlloc"))
    return NULL;
  if (isHostShared) {
    cageCudaFail(CageCudaInvalidArgument,
                 "host-shared device memory is not supported");
    fail("mgpuMemAlloc", CageCudaInvalidArgument);
    return NULL;
  }
  CageCudaDevicePointer pointer = 0;
  if (!check("mgpuMemAlloc", cageCudaMalloc(&pointer, (size_t)bytes)))
    return NULL;
  if (call.active && !remember(pointer)) {
    cageCudaFree(pointer);
    cageCudaFail(CageCudaInvalidArgument,
                 "out of host memory for the runtime's list of allocations");
    fail("mgpuMemAlloc", CageCudaInvalidArgument);
    return NULL;
  }
  return (void *)(uintptr_t)pointer;
}

/* The driver waits for the device's work on the memory before freeing. In
 * a frame that failed, a failure to free is not a new one. */
void mgpuMemFree(void *pointer, void *stream) {
  (void)stream;
  CageCudaDevicePointer address = (CageCudaDevicePointer)(uintptr_t)pointer;
  if (!address)
    return;
  if (call.active)
    forget(address);
  if (skipping())
    cageCudaFree(address);
  else if (ready("mgpuMemFree"))
    check("mgpuMemFree", cageCudaFree(address));
}

void mgpuMemcpy(void *to, void *from, size_t bytes, void *stream) {
  if (skipping() || bytes == 0 || !ready("mgpuMemcpy"))
    return;
  check("mgpuMemcpy", cageCudaCopy(to, from, bytes, stream));
}
