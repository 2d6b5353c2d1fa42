# RUN: env CAGE_LIBCUDA=%cage_obj/test/Runtime/libfake-cuda.so FAKE_CUDA_ANY_KERNEL=1 FAKE_CUDA_LIVE=1 %python %s %cage_src/test/Target/CUDA/Inputs/entry_points.mlir 2>&1 | FileCheck %s
# RUN: env CAGE_LIBCUDA=%t.missing.so %python %s %cage_src/test/Target/CUDA/Inputs/entry_points.mlir no-driver 2>&1 | FileCheck %s --check-prefix=NO-DRIVER
# RUN: env CAGE_LIBCUDA=%cage_obj/test/Runtime/libfake-cuda.so FAKE_CUDA_LIVE=1 %python %s %cage_src/test/Target/CUDA/Inputs/entry_points.mlir no-kernel 2>&1 | FileCheck %s --check-prefix=NO-KERNEL
# REQUIRES: libdevice
# UNSUPPORTED: sanitizers
"""cage.compile(..., device="cuda") over the stand-in driver of
test/Runtime/Inputs/fake_cuda.c, whose kernels run nothing: the copies to
the device and back (in place and not), the results' types and shapes, the
errors (a run-time check, no driver, a missing kernel, the CPU pipeline's
options, export) and no device buffer left. The numbers are checked on a
GPU by test/Integration/GPU/python.py."""

import sys

import numpy as np

import cage

path = sys.argv[1]
mode = sys.argv[2] if len(sys.argv) > 2 else "calls"
with open(path) as f:
    source = f.read()

if mode == "no-driver":
    try:
        cage.compile(source, filename="entry_points.mlir", device="cuda")
    except cage.CudaError as e:
        print("CudaError:", e)
        # NO-DRIVER: CudaError: cannot use the GPU: cannot load the NVIDIA driver library {{.*}}missing.so
    sys.exit(0)

module = cage.compile(source, filename="entry_points.mlir", device="cuda")
print(module.device, module.scale_rows.device)
# CHECK: cuda cuda
rng = np.random.default_rng(0)
x = rng.standard_normal((5, 64)).astype(np.float32)

if mode == "no-kernel":
    try:
        module.scale_rows(x)
    except cage.CudaError as e:
        print("CudaError", e.status, e)
        # NO-KERNEL: CudaError 500 'scale_rows' failed on the GPU: cuModuleGetFunction("scale_rows_kernel"): CUDA_ERROR_NOT_FOUND
    sys.exit(0)
    # NO-KERNEL: fake driver: 0 device buffers live

y = module.scale_rows(x)
print(type(y).__name__, y.shape, y.dtype)
# CHECK: ndarray (5, 64) float32
total = module.total(np.ones(1000, np.float32))
print(type(total).__name__)
# CHECK: float
w = rng.standard_normal((3, 16)).astype(np.float32)
v = np.abs(w)
results = module.step(w, w, w, v, 1e-3, 2)
print([(r.shape, r.dtype.name) for r in results])
# CHECK: [((3, 16), 'float32'), ((3, 16), 'float32'), ((3, 16), 'float32')]

# A memref argument comes back from the device: with no kernel run, the
# same bits; a tensor argument is not written.
w0, b = w.copy(), np.zeros((3, 16), np.float32)
b[0, 0] = -0.0
b0 = b.copy()
module.sgd_in_place(w, w0, b, 1e-3)
print(w.tobytes() == w0.tobytes(), b.tobytes() == b0.tobytes())
# CHECK: True True
print(np.array_equal(x, x.copy()))
# CHECK: True

try:
    module.step(w, w, w, v, 1e-3, 0)
except cage.RuntimeCheckError as e:
    print("RuntimeCheckError:", e)
    # CHECK: RuntimeCheckError: 'step' failed a run-time check: entry_points.mlir:26:19: 'cage.update' step t is less than 1
try:
    module.scale_rows(x[:, :32])
except ValueError as e:
    print("ValueError:", e)
    # CHECK: ValueError: argument 0 of 'scale_rows' (tensor<?x64xf32>) needs shape (?, 64), not (5, 32)
try:
    module.export("never.o")
except cage.CompileError as e:
    print("CompileError:", e)
    # CHECK: CompileError: export writes CPU objects: this module was compiled with device='cuda'
for kwargs in ({"threads": False}, {"device": "tpu"}):
    try:
        cage.compile(source, device=kwargs.pop("device", "cuda"), **kwargs)
    except ValueError as e:
        print("ValueError:", e)
# CHECK: ValueError: threads is an option of the CPU pipeline, not of device='cuda'
# CHECK: ValueError: device must be 'cpu' or 'cuda', not 'tpu'
# CHECK: fake driver: 0 device buffers live
