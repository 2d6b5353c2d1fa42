"""ctypes bindings of lib/Reference (libCageReference.so) for the Python tests.

Arrays are numpy float32 arrays, C-contiguous; functions that work in place
(the optimizers and the updates) modify the arrays they are given, the others
return new arrays. A non-zero status raises ReferenceError with the library's
description of it.
"""

import ctypes
from ctypes import POINTER, c_bool, c_char_p, c_double, c_float, c_int, c_int64
from ctypes import c_uint32, c_uint64, c_ubyte, c_void_p

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


class Fogzo(ctypes.Structure):
    """CageRefFogzo; build it with fogzo(**params)."""

    _fields_ = [
        ("betaMin", c_float),
        ("start", c_float),
        ("seed", c_uint64),
        ("epsilon", c_float),
        ("direction", c_int),
    ]


class FogzoParam(ctypes.Structure):
    """CageRefFogzoParam (Reference.fogzo builds these from tuples)."""

    _fields_ = [
        ("rank", c_int64),
        ("dims", POINTER(c_int64)),
        ("w", POINTER(c_float)),
        ("g", POINTER(c_float)),
        ("q", POINTER(Quantizer)),
    ]


class FogzoTrace(ctypes.Structure):
    _fields_ = [
        ("active", c_int),
        ("norm", c_double),
        ("beta", c_float),
        ("sigma", c_float),
        ("epsilon", c_float),
        ("lossPlus", c_float),
        ("lossMinus", c_float),
        ("scale", c_float),
    ]


# CageRefFogzoLoss: float (*)(void *context, const float *const *params).
FogzoLoss = ctypes.CFUNCTYPE(c_float, c_void_p, POINTER(POINTER(c_float)))


def quantizer(bits=4, granularity="row", group_size=128, scale="absmax",
              levels="int", rotation="none", block=128, rounding="nearest"):
    """A Quantizer with the defaults of #cage.quantizer<>."""
    return Quantizer(bits, GRANULARITY[granularity], group_size, SCALE[scale],
                     LEVELS[levels], ROTATION[rotation], block,
                     ROUNDING[rounding])


FOGZO_DIRECTION = {"unit_norm": 0, "unit_rms": 1}


def fogzo(beta_min=0.999, start=0.0, seed=0, epsilon=0.0, direction="unit_norm"):
    """A Fogzo with the defaults of #cage.fogzo<>; seed is taken modulo 2^64
    (a negative i64 of the attribute names the same key)."""
    return Fogzo(beta_min, start, seed % (1 << 64), epsilon, FOGZO_DIRECTION[direction])


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
            "cageRefFogzo": (c_int, [POINTER(Fogzo), c_int64, c_int64, c_int64,
                                     POINTER(FogzoParam), FogzoLoss, c_void_p,
                                     POINTER(_FLOATS), POINTER(FogzoTrace)]),
            "cageRefFogzoSign": (c_float, [c_uint64, c_int64]),
            "cageRefFogzoNoise": (c_float, [c_uint64, c_int64, c_int64,
                                            c_int64]),
            "cageRefFogzoStep": (c_int, [c_int64, POINTER(FogzoParam),
                                         POINTER(c_double)]),
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

    # FOGZO (section 1.6). A parameter is a tuple (w, g, q): w and g arrays
    # of one shape (rank >= 1; g may be None for fogzo_step), q a Quantizer
    # or None for an unquantized parameter.
    @staticmethod
    def _fogzo_params(params):
        """The FogzoParam array, and the objects it points into (keep them
        alive while the array is used)."""
        array = (FogzoParam * len(params))()
        keep = []
        for k, (w, g, q) in enumerate(params):
            assert g is None or g.shape == w.shape
            dims = _dims(w.shape)
            keep.append(dims)
            array[k] = FogzoParam(w.ndim, dims, _floats(w), _floats(g),
                                  None if q is None else ctypes.pointer(q))
        return array, keep

    def fogzo_sign(self, seed, t):
        return self.lib.cageRefFogzoSign(seed % (1 << 64), t)

    def fogzo_noise(self, seed, t, param, index):
        return self.lib.cageRefFogzoNoise(seed % (1 << 64), t, param, index)

    def fogzo_step(self, params):
        """h, the mean quantization step of the parameters (a Python float,
        the double of the library)."""
        array, _keep = self._fogzo_params(params)
        h = c_double()
        self._check(self.lib.cageRefFogzoStep(len(params), array,
                                              ctypes.byref(h)))
        return h.value

    def fogzo(self, settings, t, T, params, loss):
        """One FOGZO estimate at step t of T. loss(list of arrays) -> float
        is called with copies of the probe weights (each of its parameter's
        shape), plus first. Returns (list of G arrays, FogzoTrace)."""
        array, _keep = self._fogzo_params(params)
        shapes = [w.shape for w, _, _ in params]
        raised = []

        def callback(_context, probes):
            try:
                return float(loss([
                    np.ctypeslib.as_array(probes[k], shape=(int(np.prod(s)),))
                    .reshape(s).copy() for k, s in enumerate(shapes)]))
            except BaseException as error:  # re-raised below
                raised.append(error)
                return float("nan")

        thunk = FogzoLoss(callback)
        G = [np.empty(w.shape, np.float32) for w, _, _ in params]
        pointers = (_FLOATS * len(G))(*[_floats(x) for x in G])
        trace = FogzoTrace()
        status = self.lib.cageRefFogzo(ctypes.byref(settings), t, T,
                                       len(params), array, thunk, None,
                                       pointers, ctypes.byref(trace))
        if raised:
            raise raised[0]
        self._check(status)
        return G, trace


def f32(value):
    """The float32 value of a Python number, as a Python float: what the
    reference sees after ctypes converts it."""
    return float(np.float32(value))
