"""Calling compiled functions through their C interface.

A public function F is called through the packed wrapper of its
`_mlir_ciface_F` entry point (docs/Tools.md, "The AOT ABI"): one array of
pointers, to a slot for each argument (a pointer to a memref descriptor for
a tensor or memref, the value itself for a scalar), after a slot holding
the pointer to the result struct when the results are written through one,
and before the slot of a scalar result. Everything a call needs (those
slots, the descriptors, the result struct, the pointer array) is built once
per function and thread, so that a call only checks and fills in its
arguments and reads its results.

Arguments: numpy arrays for tensors and memrefs (checked: dtype, rank,
static sizes, C order; a memref must be writable), passed as descriptors
over the array's own memory (no copy: a memref argument is updated in
place). Python numbers for scalars. Results: numpy arrays over the buffers
the compiled code allocated with malloc (no copy), each buffer freed once,
when the last array over it is gone; numbers for scalars.

On the GPU (device="cuda", _cuda.py) the entry point is __cage_cuda_F: the
slot of the stream first, every result through the pointer, the slot of
the status last; arrays are copied to the device and back.
"""

import ctypes
import numbers
import operator
import re
import threading

import numpy as np

from . import _capi, _cuda


class RuntimeCheckError(RuntimeError):
    """A call failed a run-time check of the compiled code (a cf.assert of
    the source, a precondition of a cage op that only the values can tell,
    such as AdamW's t >= 1, or a descriptor that does not describe the
    array the function takes): the function returned at once and wrote
    nothing. The message is the module's `cage_last_error()`."""


# Per CageCPUElementType: the MLIR name, the numpy dtype of arrays, and the
# ctypes type of one element in memory (f16 and bf16 as their bits).
_ELEMENTS = [
    ("f16", np.dtype(np.float16), ctypes.c_uint16),
    ("bf16", np.dtype(np.uint16), ctypes.c_uint16),
    ("f32", np.dtype(np.float32), ctypes.c_float),
    ("f64", np.dtype(np.float64), ctypes.c_double),
    ("i1", np.dtype(np.bool_), ctypes.c_bool),
    ("i8", np.dtype(np.int8), ctypes.c_int8),
    ("i16", np.dtype(np.int16), ctypes.c_int16),
    ("i32", np.dtype(np.int32), ctypes.c_int32),
    ("i64", np.dtype(np.int64), ctypes.c_int64),
    ("index", np.dtype(np.int64), ctypes.c_int64),
]

_descriptors = {}


def descriptor_type(rank):
    """The memref descriptor of `rank` as a ctypes struct: allocated,
    aligned, offset, sizes[rank], strides[rank] (the element type does not
    change the layout)."""
    if rank not in _descriptors:
        fields = [("allocated", ctypes.c_void_p), ("aligned", ctypes.c_void_p),
                  ("offset", ctypes.c_int64)]
        if rank:
            fields += [("sizes", ctypes.c_int64 * rank), ("strides", ctypes.c_int64 * rank)]
        _descriptors[rank] = type(f"MemRef{rank}D", (ctypes.Structure,), {"_fields_": fields})
    return _descriptors[rank]


class Value:
    """An argument or result type as the C interface carries it.

    type: the MLIR type ("tensor<?x4xf32>"); kind: "tensor", "memref" or
    "scalar"; element: the MLIR element type ("f32", "bf16", "index");
    dtype: the numpy dtype of its arrays; shape: the static sizes, None for
    a dynamic one (() for a scalar)."""

    def __init__(self, type_text, c_view, shape):
        self.type = type_text
        self.kind = ("tensor" if c_view.isTensor else "memref") if c_view.shaped else "scalar"
        self.element, self.dtype, self._ctype = _ELEMENTS[c_view.element]
        self.shape = tuple(shape)
        self.ctype = descriptor_type(len(shape)) if c_view.shaped else self._ctype

    def __repr__(self):
        return f"Value({self.type})"

    def shape_text(self):
        """The shape as a numpy shape, `?` for dynamic sizes: "(?, 128)"."""
        sizes = ["?" if s is None else str(s) for s in self.shape]
        return "(" + ", ".join(sizes) + ("," if len(sizes) == 1 else "") + ")"


def _dtype_text(value):
    """"float32 (f32)", as cage-run says it."""
    if value.element == "bf16":
        return "uint16 (bf16 as its bit patterns)"
    return f"{value.dtype} ({value.element})"


def _shaped_packer(value, what):
    """fill(descriptor, x): checks the numpy array `x` against `value` and
    points the descriptor at its data."""
    dtype, rank, kind = value.dtype, len(value.shape), value.kind
    static = [(k, s) for k, s in enumerate(value.shape) if s is not None]
    memref = kind == "memref"
    needs = (f"{what} needs a C-contiguous numpy array of dtype {_dtype_text(value)} "
             f"and shape {value.shape_text()}")

    def fill(d, x):
        if not isinstance(x, np.ndarray):
            raise TypeError(f"{needs}, not {type(x).__name__}")
        if x.dtype != dtype:
            raise TypeError(f"{what} needs dtype {_dtype_text(value)}, not {x.dtype}")
        shape = x.shape
        if len(shape) != rank:
            raise ValueError(f"{what} needs shape {value.shape_text()}, not {shape}")
        for k, s in static:
            if shape[k] != s:
                raise ValueError(f"{what} needs shape {value.shape_text()}, not {shape}")
        flags = x.flags
        if not flags.c_contiguous:
            raise ValueError(f"{what} must be C-contiguous (np.ascontiguousarray copies it)")
        if memref and not flags.writeable:
            raise ValueError(f"{what} is a memref, which the function may write: the array "
                             "must be writable")
        d.allocated = d.aligned = x.ctypes.data
        if rank == 1:  # the stride, 1, was set with the descriptor
            d.sizes[0] = shape[0]
        elif rank:
            d.sizes[:] = shape
            strides, stride = [0] * rank, 1
            for k in range(rank - 1, -1, -1):
                strides[k] = stride
                stride *= shape[k] or 1
            d.strides[:] = strides

    return fill


def _scalar_packer(value, what):
    """fill(slot, x): checks the number `x` against `value` and stores it."""
    element, dtype = value.element, value.dtype

    def integer(x):
        try:
            return operator.index(x)
        except TypeError:
            raise TypeError(f"{what} needs an integer ({element}), not "
                            f"{type(x).__name__}") from None

    def real(x):
        if not isinstance(x, numbers.Real):
            raise TypeError(f"{what} needs a real number ({element}), not {type(x).__name__}")
        return float(x)

    if element in ("f32", "f64"):
        def fill(slot, x):
            slot.value = real(x)
    elif element == "f16":
        def fill(slot, x):
            slot.value = int(np.float16(real(x)).view(np.uint16))
    elif element == "i1":
        def fill(slot, x):
            b = integer(x)
            if b not in (0, 1):
                raise ValueError(f"{what} needs a bool (i1), not {x!r}")
            slot.value = bool(b)
    else:
        # bf16 scalars travel as their bits, as bf16 arrays do.
        info = np.iinfo(dtype)
        kind = "bf16 bit pattern" if element == "bf16" else element

        def fill(slot, x):
            i = integer(x)
            if not info.min <= i <= info.max:
                raise ValueError(f"{what}: {i} is out of range for {kind} "
                                 f"[{info.min}, {info.max}]")
            slot.value = i
    return fill


def _scalar_reader(value):
    """The Python value of a scalar result from what ctypes reads (an int
    for the bits of f16 and bf16)."""
    element = value.element
    if element == "f16":
        return lambda x: np.array(x, np.uint16).view(np.float16)[()]
    if element == "bf16":
        return np.uint16
    return None


_MEMORY_LOCATION = re.compile(r"^-:(?=[0-9]+:[0-9]+: )")


class _Buffer:
    """A buffer that compiled code allocated with malloc for results: freed
    once, when the last array over it is gone (two results may share it)."""
    __slots__ = ("address", "_free")

    def __init__(self, address):
        self.address = address
        self._free = _capi.free  # held: module globals may be gone at exit

    def __del__(self):
        self._free(self.address)


class _View:
    """The numpy array interface of one result over its buffer; arrays made
    from it keep it, and so the buffer, alive."""
    __slots__ = ("__array_interface__", "owner")

    def __init__(self, interface, owner):
        self.__array_interface__ = interface
        self.owner = owner


def _result_array(d, value, owners, inputs):
    """A numpy array over the result descriptor `d`. `owners` maps the
    buffers of this call's results to their _Buffer; `inputs` maps the data
    of the array arguments to the arrays (a memref result can be an
    argument's buffer: it is then a view of that array, never freed)."""
    rank = len(value.shape)
    shape = tuple(d.sizes[:]) if rank else ()
    allocated = d.allocated
    owner = inputs.get(allocated)
    if owner is None:
        owner = owners.get(allocated)
        if owner is None:
            owner = owners[allocated] = _Buffer(allocated)
    dtype = value.dtype
    if 0 in shape:
        return np.empty(shape, dtype)
    size = dtype.itemsize
    return np.asarray(_View({
        "version": 3,
        "typestr": dtype.str,
        "shape": shape,
        "strides": tuple(s * size for s in d.strides[:]) if rank else None,
        "data": (d.aligned + d.offset * size, False),
    }, owner))


class _Frame:
    """The C storage of one call: per argument a descriptor or a scalar,
    per shaped argument a slot holding the descriptor's address, the result
    storage, and the array of pointers that the packed wrapper takes."""

    def __init__(self, function):
        args, results = function.arguments, function.results
        self.args = [v.ctype() for v in args]
        for v, storage in zip(args, self.args):
            if len(v.shape) == 1 and v.kind != "scalar":
                storage.strides[0] = 1
        self.keep = []
        slots = []
        cuda = function.device == "cuda"
        if cuda:  # the default stream
            self.stream = ctypes.c_void_p(None)
            slots.append(ctypes.addressof(self.stream))
        if function._result_by_pointer:
            self.result = (results[0].ctype() if len(results) == 1
                           else function._result_struct())
            slots.append(self._pointer_slot(self.result))
        for v, storage in zip(args, self.args):
            slots.append(self._pointer_slot(storage) if v.kind != "scalar"
                         else ctypes.addressof(storage))
        if function._result_by_value:
            self.result = results[0].ctype()
            slots.append(ctypes.addressof(self.result))
        if cuda:
            self.status = ctypes.c_int32(0)
            slots.append(ctypes.addressof(self.status))
        self.packed = (ctypes.c_void_p * max(len(slots), 1))(*slots)

    def _pointer_slot(self, storage):
        slot = ctypes.c_void_p(ctypes.addressof(storage))
        self.keep.append(slot)
        return ctypes.addressof(slot)


class Function:
    """A public function of a compiled Module; call it like a Python
    function. `arguments` and `results` describe its C interface (Value),
    `signature` is its MLIR function type."""

    def __init__(self, owner, filename, name, signature, arguments, results, unsupported,
                 device="cpu"):
        self.name = name
        self.device = device
        self._runtime = None
        self._filename = filename
        self.signature = signature
        self.arguments = tuple(arguments)
        self.results = tuple(results)
        self._owner = owner  # keeps the JIT-compiled code alive
        self._unsupported = unsupported
        self._local = threading.local()
        self._call = None
        self._last_error = None
        if unsupported:
            return
        # The GPU's entry point returns its status: every result by pointer.
        self._result_by_pointer = len(results) > 1 or (
            len(results) == 1 and (results[0].kind != "scalar" or device == "cuda"))
        self._result_by_value = len(results) == 1 and not self._result_by_pointer
        if len(results) > 1:
            self._result_struct = type(f"{name}_results", (ctypes.Structure,), {
                "_fields_": [(f"r{i}", v.ctype) for i, v in enumerate(results)]})
        self._fill = []
        for i, v in enumerate(arguments):
            what = f"argument {i} of '{name}' ({v.type})"
            self._fill.append(_shaped_packer(v, what) if v.kind != "scalar"
                              else _scalar_packer(v, what))
        self._read = [_scalar_reader(v) if v.kind == "scalar" else None for v in results]
        self._fields = [f"r{i}" for i in range(len(results))]
        self._shaped_args = [i for i, v in enumerate(arguments) if v.kind != "scalar"]

    def _bind(self, packed_address, last_error, runtime=None):
        """Takes the packed wrapper's address and the module's
        cage_last_error (None when the module has none), or on the GPU the
        CUDA runtime."""
        self._call = ctypes.CFUNCTYPE(None, ctypes.c_void_p)(packed_address)
        self._last_error = last_error
        self._runtime = runtime

    def __repr__(self):
        return f"<cage.Function {self.name} : {self.signature}>"

    def __call__(self, *args):
        if self._unsupported:
            raise TypeError(f"'{self.name}' cannot be called from Python: {self._unsupported}")
        if len(args) != len(self.arguments):
            raise TypeError(f"'{self.name}' takes {len(self.arguments)} arguments "
                            f"({self.signature}), not {len(args)}")
        frame = getattr(self._local, "frame", None)
        if frame is None:
            frame = self._local.frame = _Frame(self)
        storage = frame.args
        for fill, slot, x in zip(self._fill, storage, args):
            fill(slot, x)
        if self.device == "cuda":
            return self._call_on_device(frame, args)
        self._call(frame.packed)
        if self._last_error is not None:
            failed = self._last_error()
            if failed is not None:
                raise RuntimeCheckError(self._check_message(failed.decode(errors="replace")))
        return self._unpack(frame, args)

    def _call_on_device(self, frame, args):
        """The call on the GPU: the arrays to the device, the memref
        arguments back, the results into new arrays; every device buffer
        freed."""
        transfers = _cuda.Transfers(self._runtime)
        try:
            on_device = set()
            for i in self._shaped_args:
                d = frame.args[i]
                d.allocated = d.aligned = transfers.upload(args[i])
                on_device.add(d.allocated or 0)
            self._call(frame.packed)
            status = frame.status.value
            if status:
                message = _cuda.message(self._runtime)
                if status == _cuda.CHECK_FAILED:
                    raise RuntimeCheckError(self._check_message(message))
                raise _cuda.CudaError(f"'{self.name}' failed on the GPU: {message}", status)
            for i in self._shaped_args:
                if self.arguments[i].kind == "memref":
                    transfers.download(args[i], frame.args[i].aligned or 0)
            return self._unpack_device(frame, transfers, on_device)
        finally:
            transfers.release()

    def _unpack_device(self, frame, transfers, on_device):
        if not self.results:
            return None
        result = frame.result
        if len(self.results) > 1:  # descriptors as views, scalars as values
            fields = [getattr(result, name) for name in self._fields]
        else:
            fields = [result.value if self.results[0].kind == "scalar" else result]
        out = []
        for read, v, field in zip(self._read, self.results, fields):
            if v.kind == "scalar":
                out.append(read(field) if read else field)
                continue
            shape = tuple(field.sizes[:]) if v.shape else ()
            array = np.empty(shape, v.dtype)
            transfers.download(array, (field.aligned or 0) + field.offset * v.dtype.itemsize)
            if (field.allocated or 0) not in on_device:
                transfers.own(field.allocated or 0)
            out.append(array)
        return out[0] if len(out) == 1 else tuple(out)

    def _check_message(self, message):
        """The message of a failed check, its location (the checks of cage
        ops start with one) naming the source as diagnostics do: text parsed
        from memory has the buffer name "-"."""
        message = _MEMORY_LOCATION.sub(lambda _: self._filename + ":", message, count=1)
        return f"'{self.name}' failed a run-time check: {message}"

    def _unpack(self, frame, args):
        if not self.results:
            return None
        result = frame.result
        if self._result_by_value:
            fields = (result.value,)
        elif len(self.results) == 1:
            fields = (result,)
        else:  # descriptors as views of the struct, scalars as values
            fields = [getattr(result, name) for name in self._fields]
        owners, inputs = {}, {}
        out = []
        for read, v, field in zip(self._read, self.results, fields):
            if v.kind == "scalar":
                out.append(read(field) if read else field)
                continue
            # A tensor result is a new buffer; a memref result may be an
            # argument's.
            if v.kind == "memref" and not inputs:
                inputs = {frame.args[i].allocated: args[i] for i in self._shaped_args}
            out.append(_result_array(field, v, owners, inputs))
        return out[0] if len(out) == 1 else tuple(out)
