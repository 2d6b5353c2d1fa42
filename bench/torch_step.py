#!/usr/bin/python3
"""The CAGE-AdamW step in PyTorch eager against the compiled fused step, in
one process.

The PyTorch step is what a researcher writes: per-row fake quantization
(absmax of the row, s = alpha / 7, q = clamp(round(w / s), -8, 7) * s),
e = w - q, torch.optim.AdamW on the gradients, and the CAGE correction:
decoupled w -= lr * lambda * e after the step (under no_grad), or coupled
g += lambda * e before it. The compiled step is the fused object of
bench/gen_step.py (step_row_decoupled / step_row_coupled of
LIB_DIR/LAYOUT.fused.so), called through its _mlir_ciface_ entry point on
numpy buffers with ctypes.

Both are timed in the same rounds (cold cache: a 64 MiB read before every
call) and the ratio of their medians is the speedup. Before timing, one step
of each from identical inputs (m = v = 0, t = 1) is compared: the largest
difference of w, m, v relative to the tensor's largest magnitude (PyTorch
orders AdamW's operations differently and computes the bias corrections in
double, so the two agree to rounding, not bit for bit).

OpenMP: torch uses libgomp, the compiled code libomp. By default this script
re-executes itself with LD_PRELOAD=libomp, so that torch's GOMP_* calls go
to libomp too: one runtime, one thread pool, torch.set_num_threads governs
both (--runtime both keeps the two runtimes side by side instead).

    torch_step.py --lib-dir DIR [--json FILE] [--quick] [--rounds R]
"""

import argparse
import ctypes
import datetime
import json
import os
import sys
import time

LIBOMP = "/usr/lib/llvm-22/lib/libomp.so"
LAYOUTS = ("64x512x512", "1x4096x4096")
COUPLINGS = ("decoupled", "coupled")
LR, LAMBDA = 1e-3, 10.0
BETAS, EPS, WEIGHT_DECAY = (0.9, 0.95), 1e-8, 0.1
FLUSH_BYTES = 64 << 20


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lib-dir", required=True,
                        help="where LAYOUT.fused.so are")
    parser.add_argument("--json", help="write the results there")
    parser.add_argument("--rounds", type=int, help="timed rounds (20)")
    parser.add_argument("--warmup", type=int, help="untimed rounds (2)")
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--layouts", default=",".join(LAYOUTS))
    parser.add_argument("--quick", action="store_true",
                        help="3 rounds, 1 warm-up")
    parser.add_argument("--runtime", choices=("libomp", "both"),
                        default="libomp",
                        help="libomp: torch on libomp via LD_PRELOAD (one "
                        "OpenMP runtime); both: torch on libgomp, the "
                        "compiled step on libomp")
    args = parser.parse_args()
    args.rounds = args.rounds or (3 if args.quick else 20)
    args.warmup = args.warmup if args.warmup is not None else (
        1 if args.quick else 2)
    return args


def ensure_runtime(runtime):
    """Re-executes the script with libomp preloaded when asked for."""
    preloaded = LIBOMP in os.environ.get("LD_PRELOAD", "").split(":")
    if runtime == "libomp" and not preloaded:
        env = dict(os.environ)
        env["LD_PRELOAD"] = ":".join(
            p for p in (LIBOMP, env.get("LD_PRELOAD")) if p)
        sys.stdout.flush()
        os.execve(sys.executable, [sys.executable] + sys.argv, env)


ARGS = parse_args()
ensure_runtime(ARGS.runtime)

import numpy as np  # noqa: E402
import torch  # noqa: E402


class Memref2d(ctypes.Structure):
    """The rank-2 memref descriptor of docs/Tools.md (the AOT ABI)."""
    _fields_ = [("allocated", ctypes.c_void_p), ("aligned", ctypes.c_void_p),
                ("offset", ctypes.c_int64), ("sizes", ctypes.c_int64 * 2),
                ("strides", ctypes.c_int64 * 2)]

    @classmethod
    def of(cls, array):
        assert array.dtype == np.float32 and array.flags.c_contiguous
        p = array.ctypes.data
        rows, cols = array.shape
        return cls(p, p, 0, (ctypes.c_int64 * 2)(rows, cols),
                   (ctypes.c_int64 * 2)(cols, 1))


class CompiledStep:
    """_mlir_ciface_NAME of a shared object, bound to numpy buffers: a list
    of (w, g, m, v) per parameter."""

    def __init__(self, path, name, tensors):
        function = getattr(ctypes.CDLL(path), "_mlir_ciface_" + name)
        function.argtypes = ([ctypes.POINTER(Memref2d)] * (4 * len(tensors))
                             + [ctypes.c_float, ctypes.c_float,
                                ctypes.c_int64])
        function.restype = None
        self.descriptors = [Memref2d.of(a) for t in tensors for a in t]
        self.pointers = [ctypes.pointer(d) for d in self.descriptors]
        self.function = function

    def __call__(self, lr, lam, t):
        self.function(*self.pointers, lr, lam, t)


def parse_layout(layout):
    count, rows, cols = (int(x) for x in layout.split("x"))
    return count, rows, cols


def initial_values(layout, seed=1):
    """(w, g) per parameter: w in (-1, 1), g in (-1e-2, 1e-2)."""
    count, rows, cols = parse_layout(layout)
    rng = np.random.default_rng(seed)
    return [(rng.uniform(-1, 1, (rows, cols)).astype(np.float32),
             rng.uniform(-1e-2, 1e-2, (rows, cols)).astype(np.float32))
            for _ in range(count)]


class TorchStep:
    """The researcher's CAGE-AdamW step on torch parameters with .grad."""

    def __init__(self, values, coupled):
        self.params = []
        for w, g in values:
            p = torch.nn.Parameter(torch.from_numpy(w.copy()))
            p.grad = torch.from_numpy(g.copy())
            self.params.append(p)
        self.opt = torch.optim.AdamW(self.params, lr=LR, betas=BETAS, eps=EPS,
                                     weight_decay=WEIGHT_DECAY)
        self.coupled = coupled

    @staticmethod
    def quant_error(w):
        s = w.abs().amax(dim=1, keepdim=True).clamp_min(1e-8) / 7
        return w - torch.clamp(torch.round(w / s), -8, 7) * s

    def __call__(self):
        with torch.no_grad():
            errors = [self.quant_error(p) for p in self.params]
            if self.coupled:
                for p, e in zip(self.params, errors):
                    p.grad.add_(e, alpha=LAMBDA)
            self.opt.step()
            if not self.coupled:
                for p, e in zip(self.params, errors):
                    p.sub_(e, alpha=LR * LAMBDA)

    def state(self, p):
        s = self.opt.state[p]
        return (p.detach().numpy(), s["exp_avg"].numpy(),
                s["exp_avg_sq"].numpy())


def compiled_buffers(values):
    """(w, g, m, v) per parameter for the compiled step, m = v = 0."""
    return [(w.copy(), g.copy(), np.zeros_like(w), np.zeros_like(w))
            for w, g in values]


def relative_difference(a, b):
    scale = max(float(np.abs(b).max()), np.finfo(np.float32).tiny)
    return float(np.abs(a.astype(np.float64) - b).max()) / scale


def check(layout, coupling, path):
    """One step of each from identical inputs: the largest relative
    difference of w, m and v."""
    values = initial_values(layout, seed=2)
    step = TorchStep(values, coupling == "coupled")
    step()
    buffers = compiled_buffers(values)
    CompiledStep(path, "step_row_" + coupling, buffers)(LR, LAMBDA, 1)
    worst = {"w": 0.0, "m": 0.0, "v": 0.0}
    for p, (w, _, m, v) in zip(step.params, buffers):
        for name, ours, theirs in zip("wmv", (w, m, v), step.state(p)):
            worst[name] = max(worst[name], relative_difference(ours, theirs))
    return worst


def summary(samples):
    q = np.quantile(np.array(samples), [0.25, 0.5, 0.75])
    return {"median_s": float(q[1]), "q1_s": float(q[0]),
            "q3_s": float(q[2])}


def measure(layout, coupling, threads, path, flush, args):
    values = initial_values(layout)
    torch_step = TorchStep(values, coupling == "coupled")
    buffers = compiled_buffers(values)
    compiled = CompiledStep(path, "step_row_" + coupling, buffers)
    times = {"torch": [], "fused": []}
    for r in range(args.warmup + args.rounds):
        for name in ("torch", "fused"):
            flush.sum()
            start = time.perf_counter()
            if name == "torch":
                torch_step()
            else:
                compiled(LR, LAMBDA, r + 1)
            elapsed = time.perf_counter() - start
            if r >= args.warmup:
                times[name].append(elapsed)
    numel = sum(w.size for w, _ in values)
    record = {"layout": layout, "numel": numel, "quantizer": "row",
              "coupling": coupling, "threads": threads, "cache": "cold"}
    for name, samples in times.items():
        record[name] = summary(samples)
        record[name]["gbps"] = 28 * numel / record[name]["median_s"] * 1e-9
    record["fused/torch"] = (record["torch"]["median_s"] /
                             record["fused"]["median_s"])
    return record


def main(args):
    start, load_before = time.perf_counter(), os.getloadavg()[0]
    libomp = ctypes.CDLL(LIBOMP)
    flush = np.ones(FLUSH_BYTES // 4, dtype=np.float32)
    records = []
    print(f"torch_step.py: torch {torch.__version__}, OpenMP runtime: "
          f"{args.runtime}, {args.rounds} rounds (+{args.warmup} warm-up), "
          "medians, cold cache")
    for layout in args.layouts.split(","):
        path = os.path.join(args.lib_dir, layout + ".fused.so")
        for coupling in COUPLINGS:
            for threads in (int(t) for t in args.threads.split(",")):
                torch.set_num_threads(threads)
                libomp.omp_set_num_threads(threads)
                worst = check(layout, coupling, path)
                record = measure(layout, coupling, threads, path, flush, args)
                record["max_relative_difference"] = worst
                records.append(record)
                print(f"{layout:12} row {coupling:9} {threads}T | torch "
                      f"{record['torch']['median_s'] * 1e3:8.2f} ms | fused "
                      f"{record['fused']['median_s'] * 1e3:7.2f} ms | "
                      f"fused/torch {record['fused/torch']:5.2f}x | "
                      "max rel diff w %.1e m %.1e v %.1e" %
                      (worst["w"], worst["m"], worst["v"]), flush=True)
    seconds = time.perf_counter() - start
    print(f"torch_step.py: {seconds:.1f} s")
    if args.json:
        meta = {"date": datetime.datetime.utcnow().strftime(
                    "%Y-%m-%dT%H:%M:%SZ"),
                "torch": torch.__version__, "runtime": args.runtime,
                "rounds": args.rounds, "warmup": args.warmup,
                "quick": args.quick, "flush_mib": FLUSH_BYTES >> 20}
        with open(args.json, "w") as f:
            json.dump({"meta": meta, "records": records, "wall_s": seconds,
                       "load_before": load_before,
                       "load_after": os.getloadavg()[0]}, f, indent=1)
            f.write("\n")


if __name__ == "__main__":
    main(ARGS)
