/*===- CUDA.c - The CUDA driver API, loaded at run time -------------------===*\
|*                                                                            *|
|* cage-runtime/CUDA.h over libcuda.so.1, which cageCudaInit opens with     *|
|* dlopen: the driver's functions are declared here with the driver's ABI   *|
|* (CUresult is an int, CUdeviceptr a 64-bit integer, handles are pointers) *|
|* so that nothing of CUDA is needed to build. The versioned symbols (_v2)  *|
|* are those the driver's own header maps the plain names to.              *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#define _POSIX_C_SOURCE 200809L /* dlopen */

#include "cage-runtime/CUDA.h"

#include "Errors.h"

#include <dlfcn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int CUresult;
typedef int CUdevice;
typedef void *CUcontext;
typedef uint64_t CUdeviceptr;

enum {
  kAttributeComputeCapabilityMajor = 75, /* CU_DEVICE_ATTRIBUTE_... */
  kAttributeComputeCapabilityMinor = 76,
};

/* The driver functions the runtime calls. */
typedef struct Driver {
  CUresult (*cuInit)(unsigned);
  CUresult (*cuDriverGetVersion)(int *);
  CUresult (*cuDeviceGetCount)(int *);
  CUresult (*cuDeviceGet)(CUdevice *, int);
  CUresult (*cuDeviceGetName)(char *, int, CUdevice);
  CUresult (*cuDeviceGetAttribute)(int *, int, CUdevice);
  CUresult (*cuDevicePrimaryCtxRetain)(CUcontext *, CUdevice);
  CUresult (*cuDevicePrimaryCtxRelease)(CUdevice);
  CUresult (*cuCtxSetCurrent)(CUcontext);
  CUresult (*cuMemAlloc)(CUdeviceptr *, size_t);
  CUresult (*cuMemFree)(CUdeviceptr);
  CUresult (*cuMemcpyHtoD)(CUdeviceptr, const void *, size_t);
  CUresult (*cuMemcpyDtoH)(void *, CUdeviceptr, size_t);
  CUresult (*cuMemcpyDtoD)(CUdeviceptr, CUdeviceptr, size_t);
  CUresult (*cuMemsetD8)(CUdeviceptr, unsigned char, size_t);
  CUresult (*cuMemcpyAsync)(CUdeviceptr, CUdeviceptr, size_t, void *);
  CUresult (*cuStreamCreate)(void **, unsigned);
  CUresult (*cuStreamDestroy)(void *);
  CUresult (*cuStreamSynchronize)(void *);
  CUresult (*cuModuleLoadData)(void **, const void *);
  CUresult (*cuModuleUnload)(void *);
  CUresult (*cuModuleGetFunction)(void **, void *, const char *);
  CUresult (*cuLaunchKernel)(void *, unsigned, unsigned, unsigned, unsigned,
                             unsigned, unsigned, unsigned, void *, void **,
                             void **);
  CUresult (*cuGetErrorName)(CUresult, const char **);
  CUresult (*cuGetErrorString)(CUresult, const char **);
} Driver;

static const struct {
  const char *symbol;
  size_t offset;
} kSymbols[] = {
#define SYMBOL(field, symbol)                                                  \
  { symbol, offsetof(Driver, field) }
    SYMBOL(cuInit, "cuInit"),
    SYMBOL(cuDriverGetVersion, "cuDriverGetVersion"),
    SYMBOL(cuDeviceGetCount, "cuDeviceGetCount"),
    SYMBOL(cuDeviceGet, "cuDeviceGet"),
    SYMBOL(cuDeviceGetName, "cuDeviceGetName"),
    SYMBOL(cuDeviceGetAttribute, "cuDeviceGetAttribute"),
    SYMBOL(cuDevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain"),
    SYMBOL(cuDevicePrimaryCtxRelease, "cuDevicePrimaryCtxRelease_v2"),
    SYMBOL(cuCtxSetCurrent, "cuCtxSetCurrent"),
    SYMBOL(cuMemAlloc, "cuMemAlloc_v2"),
    SYMBOL(cuMemFree, "cuMemFree_v2"),
    SYMBOL(cuMemcpyHtoD, "cuMemcpyHtoD_v2"),
    SYMBOL(cuMemcpyDtoH, "cuMemcpyDtoH_v2"),
    SYMBOL(cuMemcpyDtoD, "cuMemcpyDtoD_v2"),
    SYMBOL(cuMemsetD8, "cuMemsetD8_v2"),
    SYMBOL(cuMemcpyAsync, "cuMemcpyAsync"),
    SYMBOL(cuStreamCreate, "cuStreamCreate"),
    SYMBOL(cuStreamDestroy, "cuStreamDestroy_v2"),
    SYMBOL(cuStreamSynchronize, "cuStreamSynchronize"),
    SYMBOL(cuModuleLoadData, "cuModuleLoadData"),
    SYMBOL(cuModuleUnload, "cuModuleUnload"),
    SYMBOL(cuModuleGetFunction, "cuModuleGetFunction"),
    SYMBOL(cuLaunchKernel, "cuLaunchKernel"),
    SYMBOL(cuGetErrorName, "cuGetErrorName"),
    SYMBOL(cuGetErrorString, "cuGetErrorString"),
#undef SYMBOL
};

static struct {
  void *library;
  Driver driver;
  CUdevice device;
  CUcontext context;
  int deviceCount;
} runtime;

static _Thread_local char lastError[512];

int cageCudaFail(int status, const char *format, ...) {
  va_list args;
  va_start(args, format);
  vsnprintf(lastError, sizeof lastError, format, args);
  va_end(args);
  return status;
}

const char *cageCudaLastError(void) { return lastError; }

const char *cageCudaStatusName(int status) {
  switch (status) {
  case CageCudaOk:
    return "CageCudaOk";
  case CageCudaNoDriver:
    return "CageCudaNoDriver";
  case CageCudaNotInitialized:
    return "CageCudaNotInitialized";
  case CageCudaInvalidArgument:
    return "CageCudaInvalidArgument";
  case CageCudaCheckFailed:
    return "CageCudaCheckFailed";
  }
  const char *name = NULL;
  if (status > 0 && runtime.library &&
      runtime.driver.cuGetErrorName(status, &name) == 0 && name)
    return name;
  /* Without the driver (a failed cageCudaInit unloads it) its names are
     unknown; cageCudaLastError has the name it gave. */
  return status > 0 ? "a CUDA driver error" : "an unknown status";
}

/* Checks a driver call: on failure, "<call>: <NAME>: <description>". */
static int check(CUresult result, const char *call) {
  if (result == 0)
    return CageCudaOk;
  const char *name = NULL, *text = NULL;
  runtime.driver.cuGetErrorName(result, &name);
  runtime.driver.cuGetErrorString(result, &text);
  return cageCudaFail(result, "%s: %s: %s", call, name ? name : "CUDA error",
                      text ? text : "no description");
}

/* The start of every call after cageCudaInit: the context current on this
 * thread. */
static int enter(void) {
  if (!runtime.library)
    return cageCudaFail(
        CageCudaNotInitialized,
        "the CUDA runtime is not initialized: call cageCudaInit "
        "first");
  return check(runtime.driver.cuCtxSetCurrent(runtime.context),
               "cuCtxSetCurrent");
}

static int loadDriver(void) {
  const char *path = getenv("CAGE_LIBCUDA");
  if (!path || !*path)
    path = "libcuda.so.1";
  void *library = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!library) {
    const char *why = dlerror();
    return cageCudaFail(
        CageCudaNoDriver,
        "cannot load the NVIDIA driver library %s (%s): no "
        "NVIDIA driver is installed here, or $CAGE_LIBCUDA names "
        "the wrong file",
        path, why ? why : "no reason given");
  }
  for (size_t i = 0; i < sizeof kSymbols / sizeof kSymbols[0]; ++i) {
    void *symbol = dlsym(library, kSymbols[i].symbol);
    if (!symbol) {
      dlclose(library);
      return cageCudaFail(
          CageCudaNoDriver,
          "the NVIDIA driver library %s has no %s: the driver is "
          "older than CUDA 11",
          path, kSymbols[i].symbol);
    }
    /* POSIX: a function's address fits in a void *. */
    memcpy((char *)&runtime.driver + kSymbols[i].offset, &symbol,
           sizeof symbol);
  }
  runtime.library = library;
  return CageCudaOk;
}

int cageCudaInit(int device) {
  if (runtime.library)
    return CageCudaOk;
  int status = loadDriver();
  if (status != CageCudaOk)
    return status;
  const Driver *d = &runtime.driver;
  if ((status = check(d->cuInit(0), "cuInit")) ||
      (status = check(d->cuDeviceGetCount(&runtime.deviceCount),
                      "cuDeviceGetCount")))
    goto failed;
  if (device < 0 || device >= runtime.deviceCount) {
    status = cageCudaFail(CageCudaInvalidArgument,
                          "no CUDA device %d: this machine has %d", device,
                          runtime.deviceCount);
    goto failed;
  }
  if ((status =
           check(d->cuDeviceGet(&runtime.device, device), "cuDeviceGet")) ||
      (status =
           check(d->cuDevicePrimaryCtxRetain(&runtime.context, runtime.device),
                 "cuDevicePrimaryCtxRetain")))
    goto failed;
  if ((status =
           check(d->cuCtxSetCurrent(runtime.context), "cuCtxSetCurrent"))) {
    d->cuDevicePrimaryCtxRelease(runtime.device);
    goto failed;
  }
  return CageCudaOk;

failed:
  dlclose(runtime.library);
  runtime.library = NULL;
  return status;
}

void cageCudaShutdown(void) {
  if (!runtime.library)
    return;
  runtime.driver.cuDevicePrimaryCtxRelease(runtime.device);
  dlclose(runtime.library);
  memset(&runtime, 0, sizeof runtime);
}

static int invalid(const char *what) {
  return cageCudaFail(CageCudaInvalidArgument, "%s", what);
}

int cageCudaDeviceCount(int *count) {
  int status = enter();
  if (status)
    return status;
  if (!count)
    return invalid("cageCudaDeviceCount: count is null");
  *count = runtime.deviceCount;
  return CageCudaOk;
}

int cageCudaDeviceName(char *name, size_t size) {
  int status = enter();
  if (status)
    return status;
  if (!name || size == 0 || size > 65536)
    return invalid("cageCudaDeviceName: no room for the name");
  return check(runtime.driver.cuDeviceGetName(name, (int)size, runtime.device),
               "cuDeviceGetName");
}

int cageCudaComputeCapability(int *major, int *minor) {
  int status = enter();
  if (status)
    return status;
  if (!major || !minor)
    return invalid("cageCudaComputeCapability: a null pointer");
  const Driver *d = &runtime.driver;
  if ((status =
           check(d->cuDeviceGetAttribute(
                     major, kAttributeComputeCapabilityMajor, runtime.device),
                 "cuDeviceGetAttribute")))
    return status;
  return check(d->cuDeviceGetAttribute(minor, kAttributeComputeCapabilityMinor,
                                       runtime.device),
               "cuDeviceGetAttribute");
}

int cageCudaDriverVersion(int *version) {
  int status = enter();
  if (status)
    return status;
  if (!version)
    return invalid("cageCudaDriverVersion: version is null");
  return check(runtime.driver.cuDriverGetVersion(version),
               "cuDriverGetVersion");
}

int cageCudaMalloc(CageCudaDevicePointer *pointer, size_t bytes) {
  int status = enter();
  if (status)
    return status;
  if (!pointer)
    return invalid("cageCudaMalloc: pointer is null");
  /* The driver refuses 0 bytes; a null device pointer stands for them. */
  *pointer = 0;
  if (bytes == 0)
    return CageCudaOk;
  return check(runtime.driver.cuMemAlloc(pointer, bytes), "cuMemAlloc");
}

int cageCudaFree(CageCudaDevicePointer pointer) {
  int status = enter();
  if (status || pointer == 0)
    return status;
  return check(runtime.driver.cuMemFree(pointer), "cuMemFree");
}

int cageCudaCopyToDevice(CageCudaDevicePointer to, const void *from,
                         size_t bytes) {
  int status = enter();
  if (status || bytes == 0)
    return status;
  if (!from || !to)
    return invalid("cageCudaCopyToDevice: a null pointer");
  return check(runtime.driver.cuMemcpyHtoD(to, from, bytes), "cuMemcpyHtoD");
}

int cageCudaCopyToHost(void *to, CageCudaDevicePointer from, size_t bytes) {
  int status = enter();
  if (status || bytes == 0)
    return status;
  if (!to || !from)
    return invalid("cageCudaCopyToHost: a null pointer");
  return check(runtime.driver.cuMemcpyDtoH(to, from, bytes), "cuMemcpyDtoH");
}

int cageCudaCopyOnDevice(CageCudaDevicePointer to, CageCudaDevicePointer from,
                         size_t bytes) {
  int status = enter();
  if (status || bytes == 0)
    return status;
  if (!to || !from)
    return invalid("cageCudaCopyOnDevice: a null pointer");
  return check(runtime.driver.cuMemcpyDtoD(to, from, bytes), "cuMemcpyDtoD");
}

int cageCudaCopy(void *to, const void *from, size_t bytes,
                 CageCudaStream stream) {
  int status = enter();
  if (status || bytes == 0)
    return status;
  if (!to || !from)
    return invalid("cageCudaCopy: a null pointer");
  return check(runtime.driver.cuMemcpyAsync((CUdeviceptr)(uintptr_t)to,
                                            (CUdeviceptr)(uintptr_t)from, bytes,
                                            stream),
               "cuMemcpyAsync");
}

int cageCudaMemset(CageCudaDevicePointer to, unsigned char value,
                   size_t bytes) {
  int status = enter();
  if (status || bytes == 0)
    return status;
  if (!to)
    return invalid("cageCudaMemset: a null pointer");
  return check(runtime.driver.cuMemsetD8(to, value, bytes), "cuMemsetD8");
}

int cageCudaStreamCreate(CageCudaStream *stream) {
  int status = enter();
  if (status)
    return status;
  if (!stream)
    return invalid("cageCudaStreamCreate: stream is null");
  void *handle = NULL;
  status = check(runtime.driver.cuStreamCreate(&handle, 0), "cuStreamCreate");
  *stream = status ? NULL : handle;
  return status;
}

int cageCudaStreamDestroy(CageCudaStream stream) {
  int status = enter();
  if (status || !stream)
    return status;
  return check(runtime.driver.cuStreamDestroy(stream), "cuStreamDestroy");
}

int cageCudaStreamSynchronize(CageCudaStream stream) {
  int status = enter();
  if (status)
    return status;
  return check(runtime.driver.cuStreamSynchronize(stream),
               "cuStreamSynchronize");
}

int cageCudaModuleLoad(CageCudaModule *module, const void *image) {
  int status = enter();
  if (status)
    return status;
  if (!module || !image)
    return invalid("cageCudaModuleLoad: a null pointer");
  void *handle = NULL;
  status = check(runtime.driver.cuModuleLoadData(&handle, image),
                 "cuModuleLoadData");
  *module = status ? NULL : handle;
  return status;
}

int cageCudaModuleUnload(CageCudaModule module) {
  int status = enter();
  if (status || !module)
    return status;
  return check(runtime.driver.cuModuleUnload(module), "cuModuleUnload");
}

int cageCudaModuleGetFunction(CageCudaFunction *function, CageCudaModule module,
                              const char *name) {
  int status = enter();
  if (status)
    return status;
  if (!function || !module || !name)
    return invalid("cageCudaModuleGetFunction: a null pointer");
  void *handle = NULL;
  CUresult result = runtime.driver.cuModuleGetFunction(&handle, module, name);
  if (result != 0) {
    char call[320];
    snprintf(call, sizeof call, "cuModuleGetFunction(\"%.256s\")", name);
    status = check(result, call);
  }
  *function = status ? NULL : handle;
  return status;
}

int cageCudaLaunch(CageCudaFunction function, const unsigned grid[3],
                   const unsigned block[3], unsigned sharedBytes,
                   CageCudaStream stream, void **params) {
  int status = enter();
  if (status)
    return status;
  if (!function || !grid || !block)
    return invalid("cageCudaLaunch: a null pointer");
  for (int i = 0; i < 3; ++i)
    if (grid[i] == 0 || block[i] == 0)
      return cageCudaFail(
          CageCudaInvalidArgument,
          "cageCudaLaunch: an empty grid or block (%u x %u x %u "
          "blocks of %u x %u x %u threads)",
          grid[0], grid[1], grid[2], block[0], block[1], block[2]);
  return check(runtime.driver.cuLaunchKernel(
                   function, grid[0], grid[1], grid[2], block[0], block[1],
                   block[2], sharedBytes, stream, params, NULL),
               "cuLaunchKernel");
}
