"""cage from Python: compile MLIR with the cage dialect for the CPU (or with
device="cuda" for an NVIDIA GPU) and call its functions on numpy arrays, or
export an object file and a C header.

    import cage, numpy as np
    module = cage.compile(open("step.mlir").read(), filename="step.mlir")
    w1, m1, v1 = module.step(w, g, m, v, 0.001, 1)   # numpy arrays, numbers
    module.export("step.o", "step.h")                 # what cage-compile writes

    trainer = cage.compile_training(model, cage.nn.CrossEntropyLoss(), (32, 64), quant=4)
    trainer.fit(x, y, epochs=10, lr=3e-3)             # a cage.nn model (training.py)

The package calls libCAGE-C.so through ctypes (no compiled extension); the
library is loaded on the first compile, not on import. docs/Python.md
describes the API, how the library is found, the exceptions, and what a call
copies, updates in place and frees.
"""

from ._call import Function, RuntimeCheckError, Value
from ._capi import API_MAJOR, LibraryError
from ._compile import CompileError, CompileWarning, Module, compile
from ._cuda import CudaError
from .training import Trainer, compile_training
from . import nn

__all__ = [
    "API_MAJOR", "CompileError", "CompileWarning", "CudaError", "Function", "LibraryError",
    "Module",
    "RuntimeCheckError", "Trainer", "Value", "api_version", "compile", "compile_training",
    "library_path", "nn",
]


def api_version():
    """(major, minor) of the C API of the libCAGE-C.so loaded (loads it)."""
    from . import _capi
    version = _capi.load().cageGetAPIVersion()
    return version >> 16, version & 0xFFFF


def library_path():
    """The path of the libCAGE-C.so loaded (loads it)."""
    from . import _capi
    return _capi.load()._name
