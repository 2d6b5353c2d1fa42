/*===- fake_cuda.c - A stand-in for libcuda.so.1 for the runtime's tests --===*\
|*                                                                            *|
|* The driver functions cage's CUDA runtime calls, on host memory: one       *|
|* device, "cage fake GPU", compute capability 9.0, CUDA 13.0. A device      *|
|* pointer is a host address. Modules are accepted when they look like PTX   *|
|* ("//" first) or an ELF file, and have one kernel, "fill", which writes   *|
|* i · step to out[i] for i < n (arguments: float *out, int n, float step)   *|
|* so that a test sees the launch's arguments arrive; with                  *|
|* FAKE_CUDA_ANY_KERNEL=1 every other name is a kernel too, whose launches  *|
|* are printed and do nothing. FAKE_CUDA_NO_DEVICE=1 makes cuInit fail as   *|
|* on a machine whose driver finds no GPU. FAKE_CUDA_FAIL_ALLOC=N makes the  *|
|* N-th cuMemAlloc (from 1) fail as out of memory; FAKE_CUDA_LIVE=1 prints, *|
|* when the program exits, how many device buffers were never freed.      *|
|* Built a second time with FAKE_CUDA_OLD: without cuLaunchKernel.          *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int CUresult;
enum {
  Success = 0,
  InvalidValue = 1,
  OutOfMemory = 2,
  NoDevice = 100,
  InvalidImage = 200,
  NotFound = 500,
};

#define EXPORT __attribute__((visibility("default")))

static int kernel; /* the address of "fill" */
static int module; /* the address of the one module */
static int context;

/* The driver's names and descriptions of the errors the stand-in gives. */
static const struct {
  CUresult code;
  const char *name, *text;
} kErrors[] = {
    {Success, "CUDA_SUCCESS", "no error"},
    {InvalidValue, "CUDA_ERROR_INVALID_VALUE", "invalid argument"},
    {OutOfMemory, "CUDA_ERROR_OUT_OF_MEMORY", "out of memory"},
    {NoDevice, "CUDA_ERROR_NO_DEVICE", "no CUDA-capable device is detected"},
    {InvalidImage, "CUDA_ERROR_INVALID_IMAGE",
     "device kernel image is invalid"},
    {NotFound, "CUDA_ERROR_NOT_FOUND", "named symbol not found"},
};

static int findError(CUresult error) {
  for (int i = 0; i < (int)(sizeof kErrors / sizeof kErrors[0]); ++i)
    if (kErrors[i].code == error)
      return i;
  return -1;
}

EXPORT CUresult cuGetErrorName(CUresult error, const char **name) {
  int i = findError(error);
  *name = i < 0 ? NULL : kErrors[i].name;
  return i < 0 ? InvalidValue : Success;
}

EXPORT CUresult cuGetErrorString(CUresult error, const char **text) {
  int i = findError(error);
  *text = i < 0 ? "an error" : kErrors[i].text;
  return Success;
}

EXPORT CUresult cuInit(unsigned flags) {
  const char *noDevice = getenv("FAKE_CUDA_NO_DEVICE");
  if (flags != 0)
    return InvalidValue;
  return noDevice && strcmp(noDevice, "1") == 0 ? NoDevice : Success;
}

EXPORT CUresult cuDriverGetVersion(int *version) {
  *version = 13000;
  return Success;
}

EXPORT CUresult cuDeviceGetCount(int *count) {
  *count = 1;
  return Success;
}

EXPORT CUresult cuDeviceGet(int *device, int ordinal) {
  if (ordinal != 0)
    return InvalidValue;
  *device = 0;
  return Success;
}

EXPORT CUresult cuDeviceGetName(char *name, int length, int device) {
  (void)device;
  snprintf(name, (size_t)length, "cage fake GPU");
  return Success;
}

EXPORT CUresult cuDeviceGetAttribute(int *value, int attribute, int device) {
  (void)device;
  if (attribute != 75 && attribute != 76)
    return InvalidValue;
  *value = attribute == 75 ? 9 : 0;
  return Success;
}

EXPORT CUresult cuDevicePrimaryCtxRetain(void **pctx, int device) {
  (void)device;
  *pctx = &context;
  return Success;
}

EXPORT CUresult cuDevicePrimaryCtxRelease_v2(int device) {
  (void)device;
  return Success;
}

EXPORT CUresult cuCtxSetCurrent(void *ctx) {
  return ctx == &context ? Success : InvalidValue;
}

static long allocations, live;

static void reportLive(void) {
  printf("fake driver: %ld device buffers live\n", live);
}

EXPORT CUresult cuMemAlloc_v2(uint64_t *pointer, size_t bytes) {
  const char *failAt = getenv("FAKE_CUDA_FAIL_ALLOC");
  const char *report = getenv("FAKE_CUDA_LIVE");
  if (allocations++ == 0 && report && strcmp(report, "1") == 0)
    atexit(reportLive);
  if (bytes == 0 || (failAt && atol(failAt) == allocations))
    return bytes == 0 ? InvalidValue : OutOfMemory;
  void *p = malloc(bytes);
  *pointer = (uint64_t)(uintptr_t)p;
  live += p != NULL;
  return p ? Success : OutOfMemory;
}

EXPORT CUresult cuMemFree_v2(uint64_t pointer) {
  live -= pointer != 0;
  free((void *)(uintptr_t)pointer);
  return Success;
}

EXPORT CUresult cuMemcpyHtoD_v2(uint64_t to, const void *from, size_t bytes) {
  memcpy((void *)(uintptr_t)to, from, bytes);
  return Success;
}

EXPORT CUresult cuMemcpyDtoH_v2(void *to, uint64_t from, size_t bytes) {
  memcpy(to, (const void *)(uintptr_t)from, bytes);
  return Success;
}

EXPORT CUresult cuMemcpyDtoD_v2(uint64_t to, uint64_t from, size_t bytes) {
  memmove((void *)(uintptr_t)to, (const void *)(uintptr_t)from, bytes);
  return Success;
}

EXPORT CUresult cuMemsetD8_v2(uint64_t to, unsigned char value, size_t bytes) {
  memset((void *)(uintptr_t)to, value, bytes);
  return Success;
}

EXPORT CUresult cuMemcpyAsync(uint64_t to, uint64_t from, size_t bytes,
                              void *stream) {
  (void)stream;
  memmove((void *)(uintptr_t)to, (const void *)(uintptr_t)from, bytes);
  return Success;
}

EXPORT CUresult cuStreamCreate(void **stream, unsigned flags) {
  *stream = malloc(1);
  return flags == 0 && *stream ? Success : InvalidValue;
}

EXPORT CUresult cuStreamDestroy_v2(void *stream) {
  free(stream);
  return Success;
}

EXPORT CUresult cuStreamSynchronize(void *stream) {
  (void)stream;
  return Success;
}

EXPORT CUresult cuModuleLoadData(void **handle, const void *image) {
  const char *bytes = image;
  if (strncmp(bytes, "//", 2) != 0 && memcmp(bytes,
                                             "\x7f"
                                             "ELF",
                                             4) != 0)
    return InvalidImage;
  *handle = &module;
  return Success;
}

EXPORT CUresult cuModuleUnload(void *handle) {
  return handle == &module ? Success : InvalidValue;
}

EXPORT CUresult cuModuleGetFunction(void **function, void *handle,
                                    const char *name) {
  if (handle != &module)
    return InvalidValue;
  if (strcmp(name, "fill") == 0) {
    *function = &kernel;
    return Success;
  }
  const char *any = getenv("FAKE_CUDA_ANY_KERNEL");
  if (!any || strcmp(any, "1") != 0)
    return NotFound;
  /* The handle of a kernel of any other name is a copy of its name. */
  *function = malloc(strlen(name) + 1);
  if (!*function)
    return 2;
  strcpy(*function, name);
  return Success;
}

#ifndef FAKE_CUDA_OLD
EXPORT CUresult cuLaunchKernel(void *function, unsigned gx, unsigned gy,
                               unsigned gz, unsigned bx, unsigned by,
                               unsigned bz, unsigned shared, void *stream,
                               void **params, void **extra) {
  if (function == NULL || extra != NULL)
    return InvalidValue;
  if (function != &kernel) {
    printf("fake launch of %s: %u x %u x %u blocks of %u x %u x %u threads\n",
           (const char *)function, gx, gy, gz, bx, by, bz);
    return Success;
  }
  printf("fake launch: %u x %u x %u blocks of %u x %u x %u threads, %u bytes "
         "shared, %s stream\n",
         gx, gy, gz, bx, by, bz, shared, stream ? "a" : "the default");
  float *out = (float *)(uintptr_t) * (uint64_t *)params[0];
  int n = *(int *)params[1];
  float step = *(float *)params[2];
  for (int i = 0; i < n; ++i)
    out[i] = (float)i * step;
  return Success;
}
#endif
