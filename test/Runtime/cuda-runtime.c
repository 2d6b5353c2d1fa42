// No driver at all, a driver that finds no GPU, a driver too old: a status
// and a message, never a crash.
// DEFINE: %{fake} = %cage_obj/test/Runtime/libfake
// RUN: env CAGE_LIBCUDA=%t.missing.so cage-cuda-runtime-test \
// RUN:   | FileCheck %s --check-prefix=MISSING
// RUN: env CAGE_LIBCUDA=%{fake}-cuda.so FAKE_CUDA_NO_DEVICE=1 \
// RUN:   cage-cuda-runtime-test | FileCheck %s --check-prefix=NO-DEVICE
// RUN: env CAGE_LIBCUDA=%{fake}-cuda-old.so cage-cuda-runtime-test \
// RUN:   | FileCheck %s --check-prefix=OLD
// The whole API over a stand-in driver on host memory (Inputs/fake_cuda.c).
// RUN: env CAGE_LIBCUDA=%{fake}-cuda.so cage-cuda-runtime-test | FileCheck %s

/*===- cuda-runtime.c - The CUDA runtime, without a GPU -------------------===*\
|*                                                                            *|
|* cage-runtime/CUDA.h driven from C as compiled GPU code's drivers will:    *|
|* what a machine without a driver or GPU gets, and, over a fake driver,     *|
|* that every call reaches the driver with its arguments and that driver    *|
|* errors come back with their names. On a machine with a GPU the real      *|
|* driver is exercised by the GPU bundle (docs/GPU.md).                     *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#include "cage-runtime/CUDA.h"

#include <stdio.h>

static int report(const char *call, int status) {
  printf("%s: %s", call, cageCudaStatusName(status));
  if (status != CageCudaOk)
    printf(" (%d): %s", status, cageCudaLastError());
  printf("\n");
  return status;
}

int main(void) {
  CageCudaDevicePointer early = 1;
  report("malloc before init", cageCudaMalloc(&early, 16));
  // MISSING: malloc before init: CageCudaNotInitialized (-2): the CUDA
  // MISSING-SAME: runtime is not initialized: call cageCudaInit first
  // CHECK: malloc before init: CageCudaNotInitialized (-2)

  if (report("init", cageCudaInit(0)) != CageCudaOk) {
    // MISSING-NEXT: init: CageCudaNoDriver (-1): cannot load the NVIDIA
    // MISSING-SAME: driver library {{.*}}.missing.so ({{.*}}): no NVIDIA
    // MISSING-SAME: driver is installed here, or $CAGE_LIBCUDA names the
    // MISSING-SAME: wrong file
    // NO-DEVICE: init: a CUDA driver error (100): cuInit:
    // NO-DEVICE-SAME: CUDA_ERROR_NO_DEVICE: no CUDA-capable device is detected
    // OLD: init: CageCudaNoDriver (-1): the NVIDIA driver library
    // OLD-SAME: {{.*}}libfake-cuda-old.so has no cuLaunchKernel: the driver
    // OLD-SAME: is older than CUDA 11
    report("malloc after a failed init", cageCudaMalloc(&early, 16));
    // MISSING-NEXT: malloc after a failed init: CageCudaNotInitialized (-2)
    // NO-DEVICE-NEXT: malloc after a failed init: CageCudaNotInitialized (-2)
    return 0;
  }
  // CHECK-NEXT: init: CageCudaOk
  report("init again", cageCudaInit(0));
  // CHECK-NEXT: init again: CageCudaOk

  int count = 0, major = 0, minor = 0, version = 0;
  char name[64];
  report("device count", cageCudaDeviceCount(&count));
  report("device name", cageCudaDeviceName(name, sizeof name));
  report("compute capability", cageCudaComputeCapability(&major, &minor));
  report("driver version", cageCudaDriverVersion(&version));
  printf("%d device(s): %s, sm_%d%d, CUDA %d.%d\n", count, name, major, minor,
         version / 1000, version % 1000 / 10);
  // CHECK: 1 device(s): cage fake GPU, sm_90, CUDA 13.0

  enum { N = 5 };
  CageCudaDevicePointer out = 0, copy = 0, none = 1;
  report("malloc", cageCudaMalloc(&out, N * sizeof(float)));
  report("malloc 0 bytes", cageCudaMalloc(&none, 0));
  printf("0 bytes: pointer %llu\n", (unsigned long long)none);
  // CHECK: malloc: CageCudaOk
  // CHECK-NEXT: malloc 0 bytes: CageCudaOk
  // CHECK-NEXT: 0 bytes: pointer 0
  report("memset", cageCudaMemset(out, 0, N * sizeof(float)));

  CageCudaModule module = NULL;
  CageCudaFunction fill = NULL, missing = NULL;
  report("load a bad image", cageCudaModuleLoad(&module, "not a module"));
  // CHECK: load a bad image: CUDA_ERROR_INVALID_IMAGE (200): cuModuleLoadData:
  // CHECK-SAME: CUDA_ERROR_INVALID_IMAGE: device kernel image is invalid
  report("load PTX", cageCudaModuleLoad(&module, "// PTX\n"));
  report("kernel", cageCudaModuleGetFunction(&fill, module, "fill"));
  report("no such kernel",
         cageCudaModuleGetFunction(&missing, module, "train_step_kernel"));
  // CHECK-NEXT: load PTX: CageCudaOk
  // CHECK-NEXT: kernel: CageCudaOk
  // CHECK-NEXT: no such kernel: CUDA_ERROR_NOT_FOUND (500):
  // CHECK-SAME: cuModuleGetFunction("train_step_kernel"):
  // CHECK-SAME: CUDA_ERROR_NOT_FOUND: named symbol not found

  CageCudaStream stream = NULL;
  report("stream", cageCudaStreamCreate(&stream));
  int n = N;
  float step = 0.5f;
  void *params[] = {&out, &n, &step};
  const unsigned grid[3] = {2, 1, 1}, block[3] = {128, 1, 1};
  const unsigned empty[3] = {0, 1, 1};
  report("empty launch", cageCudaLaunch(fill, empty, block, 0, stream, params));
  // CHECK: empty launch: CageCudaInvalidArgument (-3): cageCudaLaunch: an
  // CHECK-SAME: empty grid or block (0 x 1 x 1 blocks of 128 x 1 x 1 threads)
  fflush(stdout);
  report("launch", cageCudaLaunch(fill, grid, block, 64, stream, params));
  // CHECK-NEXT: fake launch: 2 x 1 x 1 blocks of 128 x 1 x 1 threads,
  // CHECK-SAME: 64 bytes shared, a stream
  // CHECK-NEXT: launch: CageCudaOk
  report("synchronize", cageCudaStreamSynchronize(stream));

  float host[N] = {0};
  report("copy on device", cageCudaMalloc(&copy, sizeof host) ||
                               cageCudaCopyOnDevice(copy, out, sizeof host));
  report("copy to host", cageCudaCopyToHost(host, copy, sizeof host));
  printf("out:");
  for (int i = 0; i < N; ++i)
    printf(" %g", host[i]);
  printf("\n");
  // CHECK: out: 0 0.5 1 1.5 2
  host[0] = 42;
  report("copy to device", cageCudaCopyToDevice(out, host, sizeof host));
  report("copy back", cageCudaCopyToHost(host + 1, out, sizeof(float)));
  printf("round trip: %g\n", host[1]);
  // CHECK: round trip: 42
  report("copy from null", cageCudaCopyToHost(host, 0, sizeof host));
  // CHECK-NEXT: copy from null: CageCudaInvalidArgument (-3):
  // CHECK-SAME: cageCudaCopyToHost: a null pointer

  report("stream destroy", cageCudaStreamDestroy(stream));
  report("unload", cageCudaModuleUnload(module));
  report("free", cageCudaFree(out) || cageCudaFree(copy) || cageCudaFree(none));
  // CHECK: stream destroy: CageCudaOk
  // CHECK-NEXT: unload: CageCudaOk
  // CHECK-NEXT: free: CageCudaOk
  cageCudaShutdown();
  report("malloc after shutdown", cageCudaMalloc(&out, 4));
  // CHECK-NEXT: malloc after shutdown: CageCudaNotInitialized (-2)
  return 0;
}
