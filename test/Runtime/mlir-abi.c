// DEFINE: %{fake} = %cage_obj/test/Runtime/libfake
// RUN: env CAGE_LIBCUDA=%{fake}-cuda.so FAKE_CUDA_ANY_KERNEL=1 \
// RUN:   cage-mlir-abi-test step 2>&1 | FileCheck %s
// Outside the frame of a compiled entry point, a failure prints the
// runtime's message and aborts (the ABI has no statuses): no driver, a
// kernel the module lacks, a grid size the driver cannot take. An empty
// grid (the parallel loop of an empty tensor) launches nothing.
// RUN: env CAGE_LIBCUDA=%t.missing.so not --crash cage-mlir-abi-test step \
// RUN:   2>&1 | FileCheck %s --check-prefix=NO-DRIVER
// RUN: env CAGE_LIBCUDA=%{fake}-cuda.so not --crash cage-mlir-abi-test step \
// RUN:   2>&1 | FileCheck %s --check-prefix=NO-KERNEL
// RUN: env CAGE_LIBCUDA=%{fake}-cuda.so not --crash \
// RUN:   cage-mlir-abi-test bad-grid 2>&1 | FileCheck %s --check-prefix=GRID
// RUN: env CAGE_LIBCUDA=%{fake}-cuda.so FAKE_CUDA_ANY_KERNEL=1 \
// RUN:   cage-mlir-abi-test empty-grid 2>&1 | FileCheck %s --check-prefix=EMPTY
// A module is loaded at the first kernel looked up in it: the host code
// calls mgpuModuleLoadJIT from a global constructor, which must not need
// the driver in a program that runs no GPU code.
// RUN: env CAGE_LIBCUDA=%t.missing.so cage-mlir-abi-test load-only \
// RUN:   | FileCheck %s --check-prefix=LAZY

/*===- mlir-abi.c - MLIR's GPU runtime ABI in lib/Runtime -----------------===*\
|*                                                                            *|
|* The calls the host code of cage-gpu-pipeline makes (mgpu*, the           *|
|* signatures MLIR 22's gpu-to-llvm declares), made from C in the order a   *|
|* training step makes them, over the stand-in driver of Inputs/fake_cuda.c: *|
|* a stream, device memory, a copy in, the PTX module, a kernel launched    *|
|* with its arguments, a copy out, the kernels of a step looked up by name, *|
|* and everything released.                                                  *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

void *mgpuModuleLoadJIT(void *data, int optLevel);
void mgpuModuleUnload(void *module);
void *mgpuModuleGetFunction(void *module, const char *name);
void mgpuLaunchKernel(void *function, intptr_t gridX, intptr_t gridY,
                      intptr_t gridZ, intptr_t blockX, intptr_t blockY,
                      intptr_t blockZ, int32_t sharedBytes, void *stream,
                      void **params, void **extra, size_t paramsCount);
void *mgpuStreamCreate(void);
void mgpuStreamDestroy(void *stream);
void mgpuStreamSynchronize(void *stream);
void *mgpuMemAlloc(uint64_t bytes, void *stream, bool isHostShared);
void mgpuMemFree(void *pointer, void *stream);
void mgpuMemcpy(void *to, void *from, size_t bytes, void *stream);

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IONBF, 0);
  const char *mode = argc > 1 ? argv[1] : "step";
  intptr_t threads = strcmp(mode, "empty-grid") == 0 ? 0
                     : strcmp(mode, "bad-grid") == 0 ? -1
                                                     : 128;
  char ptx[] = "// PTX of the kernels\n";
  if (strcmp(mode, "load-only") == 0) {
    mgpuModuleUnload(mgpuModuleLoadJIT(ptx, 3));
    printf("loaded and unloaded without the driver\n");
    // LAZY: loaded and unloaded without the driver
    return 0;
  }
  void *stream = mgpuStreamCreate();
  // NO-DRIVER: cage: mgpuStreamCreate failed: cannot load the NVIDIA driver
  // NO-DRIVER-SAME: library {{.*}}.missing.so

  enum { N = 4 };
  float host[N] = {9, 9, 9, 9};
  void *device = mgpuMemAlloc(sizeof host, stream, false);
  mgpuMemcpy(device, host, sizeof host, stream);
  void *module = mgpuModuleLoadJIT(ptx, 3);
  void *fill = mgpuModuleGetFunction(module, "fill");
  int n = N;
  float step = 2;
  void *params[] = {&device, &n, &step};
  mgpuLaunchKernel(fill, 1, 1, 1, threads, 1, 1, 0, stream, params, NULL, 3);
  // GRID: cage: mgpuLaunchKernel failed: a kernel launch of 1 x 1 x 1 blocks
  // GRID-SAME: of -1 x 1 x 1 threads: a size the driver cannot take
  // EMPTY-NOT: fake launch:
  // EMPTY: out: 9 9 9 9
  // CHECK: fake launch: 1 x 1 x 1 blocks of 128 x 1 x 1 threads, 0 bytes
  // CHECK-SAME: shared, a stream
  mgpuStreamSynchronize(stream);
  mgpuMemcpy(host, device, sizeof host, stream);
  printf("out: %g %g %g %g\n", host[0], host[1], host[2], host[3]);
  // CHECK-NEXT: out: 0 2 4 6

  /* A step's kernels, by the names the pipeline gives them. */
  void *kernel = mgpuModuleGetFunction(module, "train_step_kernel");
  // NO-KERNEL: cage: mgpuModuleGetFunction failed:
  // NO-KERNEL-SAME: cuModuleGetFunction("train_step_kernel"):
  // NO-KERNEL-SAME: CUDA_ERROR_NOT_FOUND: named symbol not found
  mgpuLaunchKernel(kernel, 16, 1, 1, 1, 128, 1, 0, stream, params, NULL, 3);
  // CHECK-NEXT: fake launch of train_step_kernel: 16 x 1 x 1 blocks of 1 x
  // CHECK-SAME: 128 x 1 threads

  mgpuMemFree(device, stream);
  mgpuModuleUnload(module);
  mgpuStreamDestroy(stream);
  printf("released\n");
  // CHECK-NEXT: released
  return 0;
}
