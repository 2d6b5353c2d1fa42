"""ctypes bindings of lib/Reference (libCageReference.so) for the Python tests.

Arrays are numpy float32 arrays, C-contiguous; functions that work in place
(the optimizers and the updates) modify the arrays they are given, the others
return new arrays. A non-zero status raises ReferenceError with the library's
description of it.
"""

import ctypes
from ctypes import POINTER, c_bool, c_char_p, c_float, c_int, c_int64, c_uint32
from ctypes import c_uint64, c_ubyte

import numpy as np

# The C enums of include/cage-c/Dialect/CageEnums.h.
GRANULARITY = {"tensor": 0, "row": 1, "group": 2}
SCALE = {"absmax": 0, "rms_gaussian": 1, "operand": 2}
LEVELS = {"int": 0, "centered": 1}
ROTATION = {"none": 0, "hadamard": 1}
ROUNDING = {"nearest": 0, "stochastic": 1}
ESTIMATOR = {"identity": 0, "clipped": 1}
ERROR = {"keep": 0, "zero_clipped": 1}
COUPLING = {"coupled": 0, "decoupled": 1}
SCHEDULE = {"linear_ramp": 0, "constant": 1}


class Quantizer(ctypes.Structure):
    """CageRefQuantizer; build it with quantizer(**params)."""

    _fields_ = [
        ("bits", c_int64),
        ("granularity", c_int),
        ("groupSize", c_int64),
        ("scale", c_int),
        ("levels", c_int),
        ("rotation", c_int),
        ("block", c_int64),
        ("rounding", c_int),
    ]


class AdamW(ctypes.Structure):
    _fields_ = [
        ("beta1", c_float),
        ("beta2", c_float),
        ("eps", c_float),
        ("weightDecay", c_float),
    ]


class Sgd(ctypes.Structure):
    _fields_ = [
        ("momentum", c_float),
        ("dampening", c_float),
        ("nesterov", c_bool),
        ("weightDecay", c_float),
    ]


def quantizer(bits=4, granularity="row", group_size=128, scale="absmax",
              levels="int", rotation="none", block=128, rounding="nearest"):
    """A Quantizer with the defaults of #cage.quantizer<>."""
    return Quantizer(bits, GRANULARITY[granularity], group_size, SCALE[scale],
                     LEVELS[levels], ROTATION[rotation], block,
                     ROUNDING[rounding])


_FLOATS = POINTER(c_float)
_DIMS = POINTER(c_int64)


def _floats(array):
    if array is None:
        return None
    assert array.dtype == np.float32 and array.flags["C_CONTIGUOUS"]
    return array.ctypes.data_as(_FLOATS)


def _dims(shape):
    return (c_int64 * len(shape))(*shape)


class ReferenceError(RuntimeError):
    pass


class Reference:
    """The library, loaded from the path given on the command line."""

    def __init__(self, path):
        lib = ctypes.CDLL(path)
        self.lib = lib
        q = POINTER(Quantizer)
        signatures = {
            "cageRefStatusString": (c_char_p, [c_int]),
            "cageRefPhilox4x32": (c_int, [POINTER(c_uint32), POINTER(c_uint32),
                                          POINTER(c_uint32)]),
            "cageRefPhiloxUniform": (c_float, [c_uint64, c_uint64]),
            "cageRefNumGroups": (c_int, [q, c_int64, _DIMS, POINTER(c_int64)]),
            "cageRefHadamard": (c_int, [c_int64, _DIMS, c_int64, _FLOATS,
                                        _FLOATS]),
            "cageRefClipValues": (c_int, [q, c_int64, _DIMS, _FLOATS, _FLOATS]),
            "cageRefQuantize": (c_int, [q, c_int64, _DIMS, _FLOATS, _FLOATS,
                                        c_uint64, _FLOATS]),
            "cageRefClippedMask": (c_int, [q, c_int64, _DIMS, _FLOATS, _FLOATS,
                                           POINTER(c_ubyte)]),
            "cageRefSte": (c_int, [q, c_int, c_int64, _DIMS, _FLOATS, _FLOATS,
                                   _FLOATS, _FLOATS, _FLOATS]),
            "cageRefQuantError": (c_int, [q, c_int, c_int64, _DIMS, _FLOATS,
                                          _FLOATS]),
            "cageRefLambdaSchedule": (c_int, [c_int, c_float, c_float, c_int64,
                                              c_int64, POINTER(c_float)]),
            "cageRefAdamW": (c_int, [POINTER(AdamW), c_int64, _FLOATS, _FLOATS,
                                     _FLOATS, _FLOATS, c_float, c_int64]),
            "cageRefSgd": (c_int, [POINTER(Sgd), c_int64, _FLOATS, _FLOATS,
                                   _FLOATS, c_float]),
            "cageRefUpdateAdamW": (c_int, [q, c_int, c_int, POINTER(AdamW),
                                           c_int64, _DIMS, _FLOATS, _FLOATS,
                                           _FLOATS, _FLOATS, c_float, c_float,
                                           c_int64]),
            "cageRefUpdateSgd": (c_int, [q, c_int, c_int, POINTER(Sgd), c_int64,
                                         _DIMS, _FLOATS, _FLOATS, _FLOATS,
                                         c_float, c_float]),
        }
        for name, (restype, argtypes) in signatures.items():
            function = getattr(lib, name)
            function.restype = restype
            function.argtypes = argtypes

    def _check(self, status):
        if status != 0:
            text = self.lib.cageRefStatusString(status).decode()
            raise ReferenceError(f"status {status}: {text}")

    # Philox and rounding.
    def philox(self, counter, key):
        c = (c_uint32 * 4)(*counter)
        k = (c_uint32 * 2)(*key)
        out = (c_uint32 * 4)()
        self._check(self.lib.cageRefPhilox4x32(c, k, out))
        return list(out)

    def uniform(self, seed, index):
        return self.lib.cageRefPhiloxUniform(seed, index)

    # Quantizer.
    def num_groups(self, q, shape):
        count = c_int64()
        self._check(self.lib.cageRefNumGroups(
            ctypes.byref(q), len(shape), _dims(shape), ctypes.byref(count)))
        return count.value

    def hadamard(self, x, block):
        y = np.empty_like(x)
        self._check(self.lib.cageRefHadamard(x.ndim, _dims(x.shape), block,
                                             _floats(x), _floats(y)))
        return y

    def clip_values(self, q, x):
        alpha = np.empty(self.num_groups(q, x.shape), np.float32)
        self._check(self.lib.cageRefClipValues(ctypes.byref(q), x.ndim,
                                               _dims(x.shape), _floats(x),
                                               _floats(alpha)))
        return alpha

    def quantize(self, q, x, alpha=None, seed=0):
        y = np.empty_like(x)
        self._check(self.lib.cageRefQuantize(ctypes.byref(q), x.ndim,
                                             _dims(x.shape), _floats(x),
                                             _floats(alpha), seed, _floats(y)))
        return y

    def clipped_mask(self, q, x, alpha=None):
        mask = np.empty(x.shape, np.uint8)
        self._check(self.lib.cageRefClippedMask(
            ctypes.byref(q), x.ndim, _dims(x.shape), _floats(x),
            _floats(alpha), mask.ctypes.data_as(POINTER(c_ubyte))))
        return mask

    def ste(self, q, estimator, dy, x, alpha=None):
        """Returns dx, and d alpha (None unless alpha is given)."""
        dx = np.empty_like(x)
        dalpha = None if alpha is None else np.empty_like(alpha)
        self._check(self.lib.cageRefSte(ctypes.byref(q), ESTIMATOR[estimator],
                                        x.ndim, _dims(x.shape), _floats(dy),
                                        _floats(x), _floats(alpha), _floats(dx),
                                        _floats(dalpha)))
        return dx, dalpha

    def quant_error(self, q, w, error="keep"):
        e = np.empty_like(w)
        self._check(self.lib.cageRefQuantError(ctypes.byref(q), ERROR[error],
                                               w.ndim, _dims(w.shape),
                                               _floats(w), _floats(e)))
        return e

    # Schedule and optimizers.
    def schedule(self, kind, lam, silence, t, total):
        out = c_float()
        self._check(self.lib.cageRefLambdaSchedule(SCHEDULE[kind], lam, silence,
                                                   t, total, ctypes.byref(out)))
        return np.float32(out.value)

    def adamw(self, opt, w, g, m, v, lr, t):
        self._check(self.lib.cageRefAdamW(ctypes.byref(opt), w.size, _floats(w),
                                          _floats(g), _floats(m), _floats(v),
                                          lr, t))

    def sgd(self, opt, w, g, b, lr):
        self._check(self.lib.cageRefSgd(ctypes.byref(opt), w.size, _floats(w),
                                        _floats(g), _floats(b), lr))

    def update_adamw(self, q, error, coupling, opt, w, g, m, v, lr, lam, t):
        self._check(self.lib.cageRefUpdateAdamW(
            ctypes.byref(q), ERROR[error], COUPLING[coupling],
            ctypes.byref(opt), w.ndim, _dims(w.shape), _floats(w), _floats(g),
            _floats(m), _floats(v), lr, lam, t))

    def update_sgd(self, q, error, coupling, opt, w, g, b, lr, lam):
        self._check(self.lib.cageRefUpdateSgd(
            ctypes.byref(q), ERROR[error], COUPLING[coupling],
            ctypes.byref(opt), w.ndim, _dims(w.shape), _floats(w), _floats(g),
            _floats(b), lr, lam))


def f32(value):
    """The float32 value of a Python number, as a Python float: what the
    reference sees after ctypes converts it."""
    return float(np.float32(value))
