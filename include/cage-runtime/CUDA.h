/*===- cage-runtime/CUDA.h - NVIDIA GPUs through the CUDA driver --*- C -*-===*\
|*                                                                            *|
|* The runtime that compiled GPU code and its drivers use: one device, its   *|
|* memory, streams, modules (PTX or cubin) and kernel launches, over the     *|
|* CUDA driver API. The driver library (libcuda.so.1) is loaded with dlopen  *|
|* by cageCudaInit, so this library builds and links on machines without    *|
|* CUDA, and a machine without a driver or a GPU gets a status and a message *|
|* instead of a failure to load. Plain C11; needs no CUDA header.           *|
|*                                                                            *|
|* Every function returns a status: CageCudaOk (0), a CUresult of the driver *|
|* (positive), or one of the runtime's own (negative). cageCudaLastError     *|
|* says what failed, in words, on the calling thread.                        *|
|*                                                                            *|
|* cageCudaInit is called once, from one thread, before everything else;     *|
|* the other functions may then be called from any thread (the device's      *|
|* primary context is made current on the calling thread where needed).     *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef CAGE_RUNTIME_CUDA_H
#define CAGE_RUNTIME_CUDA_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The library exports these functions and nothing else. */
#if defined(__GNUC__)
#define CAGE_CUDA_EXPORT __attribute__((visibility("default")))
#else
#define CAGE_CUDA_EXPORT
#endif

/** The runtime's own statuses; positive statuses are the driver's CUresult. */
enum {
  CageCudaOk = 0,
  /** libcuda.so.1 (or $CAGE_LIBCUDA) cannot be loaded, or lacks a function. */
  CageCudaNoDriver = -1,
  /** A function was called before a successful cageCudaInit. */
  CageCudaNotInitialized = -2,
  /** A null pointer, a zero-sized launch, a device number out of range. */
  CageCudaInvalidArgument = -3,
  /** A run-time check of compiled code failed: a dynamic size, t >= 1, a
   *  memref descriptor (docs/Semantics.md §2.4); the message names the op. */
  CageCudaCheckFailed = -4,
};

/** A device address (the driver's CUdeviceptr). */
typedef uint64_t CageCudaDevicePointer;
/** The driver's CUstream, CUmodule and CUfunction. A null stream is the
 *  default stream. */
typedef struct CageCudaStreamHandle *CageCudaStream;
typedef struct CageCudaModuleHandle *CageCudaModule;
typedef struct CageCudaFunctionHandle *CageCudaFunction;

/** Loads the driver ($CAGE_LIBCUDA if set, else libcuda.so.1), initializes
 *  it and makes the primary context of device `device` current. */
CAGE_CUDA_EXPORT int cageCudaInit(int device);

/** Releases the primary context and unloads the driver. */
CAGE_CUDA_EXPORT void cageCudaShutdown(void);

/** The message of the last failed call on this thread ("" if none). */
CAGE_CUDA_EXPORT const char *cageCudaLastError(void);

/** The name of a status: "CageCudaNoDriver", "CUDA_ERROR_NO_DEVICE", ... */
CAGE_CUDA_EXPORT const char *cageCudaStatusName(int status);

/** What cageCudaInit found: the device count, the device's name (at most
 *  size - 1 bytes and a NUL), compute capability and the driver's CUDA
 *  version (1000 · major + 10 · minor). */
CAGE_CUDA_EXPORT int cageCudaDeviceCount(int *count);
CAGE_CUDA_EXPORT int cageCudaDeviceName(char *name, size_t size);
CAGE_CUDA_EXPORT int cageCudaComputeCapability(int *major, int *minor);
CAGE_CUDA_EXPORT int cageCudaDriverVersion(int *version);

/** Device memory. Copies are synchronous with respect to the host. */
CAGE_CUDA_EXPORT int cageCudaMalloc(CageCudaDevicePointer *pointer,
                                    size_t bytes);
CAGE_CUDA_EXPORT int cageCudaFree(CageCudaDevicePointer pointer);
CAGE_CUDA_EXPORT int cageCudaCopyToDevice(CageCudaDevicePointer to,
                                          const void *from, size_t bytes);
CAGE_CUDA_EXPORT int cageCudaCopyToHost(void *to, CageCudaDevicePointer from,
                                        size_t bytes);
CAGE_CUDA_EXPORT int cageCudaCopyOnDevice(CageCudaDevicePointer to,
                                          CageCudaDevicePointer from,
                                          size_t bytes);
/** A copy in any direction between host and device memory (the driver's
 *  unified addressing tells them apart), ordered on `stream`; host memory
 *  that is not page-locked may be reused when the call returns. */
CAGE_CUDA_EXPORT int cageCudaCopy(void *to, const void *from, size_t bytes,
                                  CageCudaStream stream);
CAGE_CUDA_EXPORT int cageCudaMemset(CageCudaDevicePointer to,
                                    unsigned char value, size_t bytes);

/** Streams. */
CAGE_CUDA_EXPORT int cageCudaStreamCreate(CageCudaStream *stream);
CAGE_CUDA_EXPORT int cageCudaStreamDestroy(CageCudaStream stream);
CAGE_CUDA_EXPORT int cageCudaStreamSynchronize(CageCudaStream stream);

/** Modules: `image` is PTX text (NUL-terminated) or a cubin, which the
 *  driver tells apart; PTX is compiled by the driver for the device. */
CAGE_CUDA_EXPORT int cageCudaModuleLoad(CageCudaModule *module,
                                        const void *image);
CAGE_CUDA_EXPORT int cageCudaModuleUnload(CageCudaModule module);
CAGE_CUDA_EXPORT int cageCudaModuleGetFunction(CageCudaFunction *function,
                                               CageCudaModule module,
                                               const char *name);

/** Launches `function` on a grid of grid[0] x grid[1] x grid[2] blocks of
 *  block[0] x block[1] x block[2] threads, with `sharedBytes` of dynamic
 *  shared memory, on `stream`; params[i] points at the i-th argument. */
CAGE_CUDA_EXPORT int cageCudaLaunch(CageCudaFunction function,
                                    const unsigned grid[3],
                                    const unsigned block[3],
                                    unsigned sharedBytes, CageCudaStream stream,
                                    void **params);

/** The frame of one call of a compiled entry point (docs/GPU.md), which
 *  the entry point itself makes: between cageCudaCallBegin and
 *  cageCudaCallEnd on a thread, the compiled code's work (MLIR's GPU ABI,
 *  lib/Runtime/MLIRABI.c) runs on `stream`, the caller's (null: the default
 *  stream); its first failure is kept and the rest of its device work
 *  skipped. cageCudaCallEnd takes the message of the code's own failed
 *  check (null if none), waits for the stream, frees what the call
 *  allocated if it failed, and returns the call's status, with its message
 *  in cageCudaLastError. Calls on one thread do not nest. */
CAGE_CUDA_EXPORT void cageCudaCallBegin(CageCudaStream stream);
CAGE_CUDA_EXPORT int cageCudaCallEnd(const char *checkMessage);

#ifdef __cplusplus
}
#endif

#endif /* CAGE_RUNTIME_CUDA_H */
