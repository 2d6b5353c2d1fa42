# RUN: %python %s %S/../Target/CPU/Inputs/kernels.mlir | FileCheck %s
# REQUIRES: numpy
# UNSUPPORTED: sanitizers
"""cage.compile and calls: the kernels of the CPU tests (tensors in, new
tensors out; scalars; 0-d, i32 and i1 tensors; several results; two results
sharing one buffer) against numpy, bit for bit; what a call checks (dtype,
rank, static sizes, C order, the number and kind of arguments), each error
naming the argument; calls from several threads; a thousand calls of one
compiled function."""

import sys
import threading

import numpy as np

import cage

source = open(sys.argv[1]).read()
module = cage.compile(source, filename="kernels.mlir")
# CHECK: <cage.Module kernels.mlir: ew_dyn, ew_static, ew_1d, ew_3d, {{.*}}, scalars, twice, identity>
print(module)
# CHECK-NEXT: <cage.Function ew_dyn : (tensor<?x?xf32>, tensor<?x?xf32>) -> tensor<?x?xf32>>
print(module.ew_dyn)
# The private helper gets no entry point.
# CHECK-NEXT: helper: False
print("helper:", "helper" in module)
assert module["ew_dyn"] is module.ew_dyn is module.functions["ew_dyn"]

rng = np.random.default_rng(1)
f32 = np.float32


def same(label, got, want):
    """Bit for bit: dtype, shape and bits."""
    got, want = np.asarray(got), np.asarray(want)
    ok = got.dtype == want.dtype and got.shape == want.shape and \
        got.tobytes() == want.tobytes()
    print(("PASS " if ok else "FAIL ") + label)


# Elementwise, static and dynamic shapes, ranks 1 to 3, awkward sizes.
for rows, cols in [(1, 1), (7, 129), (3, 1000), (0, 5)]:
    a = rng.standard_normal((rows, cols)).astype(f32)
    b = rng.standard_normal((rows, cols)).astype(f32)
    same(f"ew_dyn {rows}x{cols}", module.ew_dyn(a, b), np.sqrt(np.abs(a * b + a)))
# CHECK: PASS ew_dyn 1x1
# CHECK: PASS ew_dyn 7x129
# CHECK: PASS ew_dyn 3x1000
# CHECK: PASS ew_dyn 0x5
a = rng.standard_normal((64, 128)).astype(f32)
b = rng.standard_normal((64, 128)).astype(f32)
same("ew_static", module.ew_static(a, b), np.sqrt(np.abs(a * b + a)))
x = rng.standard_normal((2, 3, 17)).astype(f32)
same("ew_3d", module.ew_3d(x), x * f32(2) + f32(1))
# CHECK: PASS ew_static
# CHECK: PASS ew_3d
same("rowmax_dyn", module.rowmax_dyn(a), np.abs(a).max(axis=1))
# CHECK: PASS rowmax_dyn

# Several results: scalars by value, 0-d, i32 and i1 tensors.
k = np.array([1, -2, 300], np.int32)
m = np.array([True, False, False, True])
y, n1, t1, k1, m1, d1 = module.scalars(1.5, 41, np.array(3.25, f32), k, m, 0.5)
print(repr(y), repr(n1), repr(d1))
# CHECK: 3.0 42 0.25
same("scalars t", t1, np.array(6.5, f32))
same("scalars k", k1, k * k)
same("scalars m", m1, ~m)
# CHECK: PASS scalars t
# CHECK: PASS scalars k
# CHECK: PASS scalars m

# Two results sharing one buffer: two arrays over the same memory, which
# is freed once, when both are gone.
v = rng.standard_normal(9).astype(f32)
r0, r1 = module.twice(v)
same("twice", r0, v + v)
print("shared:", np.shares_memory(r0, r1), r0.base.owner is r1.base.owner)
# CHECK: PASS twice
# CHECK: shared: True True
# Results are new arrays, never the arguments.
i = module.identity(a)
print("identity copies:", not np.shares_memory(i, a), np.array_equal(i, a))
# CHECK: identity copies: True True
# A memref returned as is comes back in a buffer of its own as well (the
# compiled code copies it), never as the caller's memory to free.
returned = cage.compile("func.func @same(%a: memref<4xf32>) -> memref<4xf32> {\n"
                        "  return %a : memref<4xf32>\n}\n").same
four = np.arange(4, dtype=f32)
r = returned(four)
print("memref result:", np.array_equal(r, four), not np.shares_memory(r, four))
# CHECK: memref result: True True
# The entry function: `module(...)` needs one.
single = cage.compile(source, filename="kernels.mlir", entry="ew_1d")
same("entry", single(v), v * f32(2) + f32(1))
# CHECK: PASS entry


def error(label, call):
    try:
        call()
        print(label, "no error")
    except (TypeError, ValueError) as e:
        print(f"{label}: {type(e).__name__}: {e}")


error("dtype", lambda: module.ew_dyn(a.astype(np.float64), b))
# CHECK: dtype: TypeError: argument 0 of 'ew_dyn' (tensor<?x?xf32>) needs dtype float32 (f32), not float64
error("rank", lambda: module.ew_dyn(v, v))
# CHECK: rank: ValueError: argument 0 of 'ew_dyn' (tensor<?x?xf32>) needs shape (?, ?), not (9,)
error("static", lambda: module.ew_static(a[:7], b[:7]))
# CHECK: static: ValueError: argument 0 of 'ew_static' (tensor<64x128xf32>) needs shape (64, 128), not (7, 128)
error("strided", lambda: module.ew_dyn(a, a[:, ::2][:, :128]))
error("transposed", lambda: module.ew_dyn(a.T, b.T))
# CHECK: strided: ValueError: argument 1 of 'ew_dyn' (tensor<?x?xf32>) must be C-contiguous
# CHECK: transposed: ValueError: argument 0 of 'ew_dyn' (tensor<?x?xf32>) must be C-contiguous
error("list", lambda: module.ew_1d([1.0, 2.0]))
# CHECK: list: TypeError: argument 0 of 'ew_1d' (tensor<?xf32>) needs a C-contiguous numpy array of dtype float32 (f32) and shape (?,), not list
error("count", lambda: module.ew_1d(v, v))
# CHECK: count: TypeError: 'ew_1d' takes 1 arguments ((tensor<?xf32>) -> tensor<?xf32>), not 2
error("float", lambda: module.scalars("1", 41, np.array(3.25, f32), k, m, 0.5))
# CHECK: float: TypeError: argument 0 of 'scalars' (f32) needs a real number (f32), not str
error("int", lambda: module.scalars(1.5, 41.0, np.array(3.25, f32), k, m, 0.5))
# CHECK: int: TypeError: argument 1 of 'scalars' (i64) needs an integer (i64), not float
error("range", lambda: module.scalars(1.5, 2**63, np.array(3.25, f32), k, m, 0.5))
# CHECK: range: ValueError: argument 1 of 'scalars' (i64): 9223372036854775808 is out of range for i64
error("0-d", lambda: module.scalars(1.5, 41, 3.25, k, m, 0.5))
# CHECK: 0-d: TypeError: argument 2 of 'scalars' (tensor<f32>) needs a C-contiguous numpy array of dtype float32 (f32) and shape (), not float
error("no entry", lambda: module(v))
# CHECK: no entry: TypeError: 'kernels.mlir' has 11 public functions ({{.*}}): call one by name, or compile with entry=...
try:
    module.nothing
except AttributeError as e:
    print("attribute:", e)
# CHECK: attribute: 'Module' object has no attribute or public function 'nothing'

# Calls from several threads at once: each thread has its own C storage for
# the call (and the GIL is released while the code runs).


def worker(seed, results):
    local = np.random.default_rng(seed)
    for _ in range(50):
        p = local.standard_normal((5, 33)).astype(f32)
        q = local.standard_normal((5, 33)).astype(f32)
        ok = module.ew_dyn(p, q).tobytes() == np.sqrt(np.abs(p * q + p)).tobytes()
        results.append(ok)


results = []
threads = [threading.Thread(target=worker, args=(seed, results)) for seed in range(4)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print("threads:", len(results), all(results))
# CHECK: threads: 200 True

# A thousand calls of the compiled function, on new and on the same inputs:
# each result is freed once its array is gone, so the process does not grow
# by the 1000 x 4 MiB the results take (loosely: less than 64 MiB).


def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


big = rng.standard_normal((1024, 1024)).astype(f32)
want = np.sqrt(np.abs(big * big + big))
module.ew_dyn(big, big)
before = rss()
for _ in range(1000):
    r = module.ew_dyn(big, big)
grown = rss() - before
same("1000 calls", r, want)
print("grown under 64 MiB:", grown < 64 << 20)
# CHECK: PASS 1000 calls
# CHECK: grown under 64 MiB: True

# The buffer cache (cage-cpu-cache-buffers) keeps large temporaries between
# calls; release_buffers frees them, and the next call is the same.
module.release_buffers()
r = module.ew_dyn(big, big)
same("after release_buffers", r, want)
# CHECK: PASS after release_buffers
