"""The GPU side of the package: cage's CUDA runtime (libcage-cuda-runtime.so,
docs/GPU.md) through ctypes, and the copies a call on the GPU makes.

A module compiled with device="cuda" calls its functions' GPU entry points
(__cage_cuda_F: the stream first, every result through a pointer, a status
returned) on device 0 and the default stream. Arrays are copied to device
memory for the call and freed after it; memref arguments are copied back
into the caller's arrays (they are updated in place, as on the CPU); results
are copied into new numpy arrays and their device buffers freed.
"""

import ctypes
import os
import threading

from . import _capi


class CudaError(RuntimeError):
    """A call on the GPU failed (or there is no GPU): no driver, no device, a
    kernel that failed, out of device memory. `status` is the runtime's
    status (a CUresult of the driver when positive, cage-runtime/CUDA.h's
    own when negative); the message says what failed."""

    def __init__(self, message, status=None):
        super().__init__(message)
        self.status = status


CHECK_FAILED = -4  # CageCudaCheckFailed: a run-time check of the code

_PROTOTYPES = {
    "cageCudaInit": (ctypes.c_int, [ctypes.c_int]),
    "cageCudaLastError": (ctypes.c_char_p, []),
    "cageCudaStatusName": (ctypes.c_char_p, [ctypes.c_int]),
    "cageCudaMalloc": (ctypes.c_int, [ctypes.POINTER(ctypes.c_uint64), ctypes.c_size_t]),
    "cageCudaFree": (ctypes.c_int, [ctypes.c_uint64]),
    "cageCudaCopyToDevice": (ctypes.c_int, [ctypes.c_uint64, ctypes.c_void_p,
                                            ctypes.c_size_t]),
    "cageCudaCopyToHost": (ctypes.c_int, [ctypes.c_void_p, ctypes.c_uint64,
                                          ctypes.c_size_t]),
}

_lock = threading.Lock()
_runtime = None


def runtime_path():
    """$CAGE_CUDA_RUNTIME, else libcage-cuda-runtime.so beside the
    libCAGE-C.so loaded (the build tree's lib/)."""
    explicit = os.environ.get("CAGE_CUDA_RUNTIME")
    if explicit:
        return explicit
    return os.path.join(os.path.dirname(_capi.load()._name), "libcage-cuda-runtime.so")


def load():
    """The runtime with its prototypes declared and device 0 initialized;
    once. Raises CudaError (no runtime, no driver, no device)."""
    global _runtime
    with _lock:
        if _runtime is not None:
            return _runtime
        path = runtime_path()
        if not os.path.exists(path):
            raise CudaError(f"cannot find cage's CUDA runtime {path} (it is built and "
                            "installed with libCAGE-C; CAGE_CUDA_RUNTIME names another)")
        # Global: the JIT-compiled host code resolves its calls there.
        lib = ctypes.CDLL(path, mode=ctypes.RTLD_GLOBAL)
        for name, (restype, argtypes) in _PROTOTYPES.items():
            function = getattr(lib, name)
            function.restype, function.argtypes = restype, argtypes
        status = lib.cageCudaInit(0)
        if status:
            raise CudaError(f"cannot use the GPU: {message(lib)}", status)
        lib._path = path
        _runtime = lib
        return lib


def message(lib):
    return (lib.cageCudaLastError() or b"").decode(errors="replace")


class Transfers:
    """The device buffers of one call: the arguments' copies and the
    results', all freed by `release`."""

    def __init__(self, lib):
        self._lib = lib
        self._owned = []

    def upload(self, array):
        """A device copy of the C-contiguous `array`: its address."""
        address = ctypes.c_uint64(0)
        lib = self._lib
        if (lib.cageCudaMalloc(ctypes.byref(address), array.nbytes) or
                lib.cageCudaCopyToDevice(address.value, array.ctypes.data, array.nbytes)):
            raise CudaError(f"cannot copy an argument to the GPU: {message(lib)}")
        if address.value:
            self._owned.append(address.value)
        return address.value

    def download(self, array, address):
        """Copies `array.nbytes` from device `address` into `array`."""
        if array.nbytes and self._lib.cageCudaCopyToHost(array.ctypes.data, address,
                                                         array.nbytes):
            raise CudaError(f"cannot copy from the GPU: {message(self._lib)}")

    def own(self, address):
        """A buffer the call returned: freed by `release` (once)."""
        if address and address not in self._owned:
            self._owned.append(address)

    def release(self):
        for address in self._owned:
            self._lib.cageCudaFree(address)
        self._owned.clear()
