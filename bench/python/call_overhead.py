"""The MLP training step called from Python through the JIT (cage.compile)
against the same step compiled ahead of time (cage-compile, loaded with
ctypes), in one process, on the same arrays: what a Python call costs over
the AOT object.

    python3 bench/python/call_overhead.py [BUILD] [--steps N] [--rounds R]

The step is examples/mlp.mlir's @mlp_train_step_inplace (the in-place form
cage.compile_training calls), at the example's shapes (batch 64, 16 -> 32 ->
4) and at 784 -> 1024 -> 10, batch 256. Each round times N calls of each,
alternating; the median of the rounds is reported, with the ratio
JIT-from-Python / AOT-from-C-via-ctypes (ctypes' own cost per call is in
both: the AOT object is called through ctypes with prebuilt descriptors,
the JIT through cage.Function). Not a test: nothing fails on a time.
"""

import ctypes
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
src = os.path.abspath(os.path.join(here, "..", ".."))
args = [a for a in sys.argv[1:] if not a.startswith("--")]
build = os.path.abspath(args[0] if args else os.path.join(src, "build"))
sys.path.insert(0, os.path.join(build, "python"))
import cage  # noqa: E402

steps = int(sys.argv[sys.argv.index("--steps") + 1]) if "--steps" in sys.argv else 200
rounds = int(sys.argv[sys.argv.index("--rounds") + 1]) if "--rounds" in sys.argv else 7


def shaped(b, i, h, o):
    text = open(os.path.join(src, "examples", "mlp.mlir")).read()
    for name, shape in (("x", (b, i)), ("y", (b, o)), ("w1", (h, i)), ("w2", (o, h)),
                        ("h", (b, h))):
        start = text.index(f"!{name} = ")
        end = text.index("\n", start)
        text = text[:start] + f"!{name} = tensor<{shape[0]}x{shape[1]}xf32>" + text[end:]
    return (text.replace("tensor<64xf32>", f"tensor<{b}xf32>")
            .replace("%batch = arith.constant 64.0", f"%batch = arith.constant {b}.0"))


class Memref2d(ctypes.Structure):
    _fields_ = [("allocated", ctypes.c_void_p), ("aligned", ctypes.c_void_p),
                ("offset", ctypes.c_int64), ("sizes", ctypes.c_int64 * 2),
                ("strides", ctypes.c_int64 * 2)]


def descriptor(a):
    p = a.ctypes.data
    return Memref2d(p, p, 0, (a.shape[0], a.shape[1]), (a.shape[1], 1))


def measure(b, i, h, o, work):
    text = shaped(b, i, h, o)
    path = os.path.join(work, f"mlp_{b}_{i}.mlir")
    with open(path, "w") as f:
        f.write(text)
    obj, lib = path + ".o", path + ".so"
    subprocess.run([os.path.join(build, "bin", "cage-compile"), path, "-o", obj], check=True)
    subprocess.run(["cc", "-shared", obj, "-o", lib, "-L/usr/lib/llvm-22/lib", "-lomp",
                    "-Wl,-rpath,/usr/lib/llvm-22/lib", "-lm"], check=True)
    aot = ctypes.CDLL(lib)
    entry = aot._mlir_ciface_mlp_train_step_inplace
    entry.restype = ctypes.c_float
    entry.argtypes = [ctypes.POINTER(Memref2d)] * 8 + [ctypes.c_int64, ctypes.c_int64,
                                                       ctypes.c_float]
    jit = cage.compile(text)["mlp_train_step_inplace"]

    rng = np.random.default_rng(0)
    x = rng.standard_normal((b, i)).astype(np.float32)
    y = np.eye(o, dtype=np.float32)[rng.integers(0, o, b)]
    w1 = (rng.standard_normal((h, i)) * 0.1).astype(np.float32)
    w2 = (rng.standard_normal((o, h)) * 0.1).astype(np.float32)
    # The same starting point for both; each updates its own copies.
    arrays = {tag: [x, y, w1.copy(), np.zeros_like(w1), np.zeros_like(w1), w2.copy(),
                    np.zeros_like(w2), np.zeros_like(w2)] for tag in ("aot", "jit")}
    descs = [descriptor(a) for a in arrays["aot"]]
    refs = [ctypes.byref(d) for d in descs]
    t = {"aot": 0, "jit": 0}
    times = {"aot": [], "jit": []}
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(steps):
            t["aot"] += 1
            entry(*refs, t["aot"], 10 ** 6, 1e-3)
        times["aot"].append((time.perf_counter() - start) / steps)
        start = time.perf_counter()
        for _ in range(steps):
            t["jit"] += 1
            jit(*arrays["jit"], t["jit"], 10 ** 6, 1e-3)
        times["jit"].append((time.perf_counter() - start) / steps)
    same = all(np.array_equal(p, q) for p, q in zip(arrays["aot"], arrays["jit"]))
    a, j = statistics.median(times["aot"]), statistics.median(times["jit"])
    print(f"{b}x{i} -> {h} -> {o}: AOT {a * 1e6:9.1f} us/step, JIT from Python "
          f"{j * 1e6:9.1f} us/step, ratio {j / a:.3f} (same results: {same})")


with tempfile.TemporaryDirectory() as work:
    measure(64, 16, 32, 4, work)
    measure(256, 784, 1024, 10, work)
