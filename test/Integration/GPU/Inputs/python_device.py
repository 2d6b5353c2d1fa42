"""cage.compile(..., device="cuda") against device="cpu", bit for bit: the
functions of test/Target/CUDA/Inputs/entry_points.mlir on random inputs.

    python_device.py ENTRY_POINTS.mlir
"""

import sys

import numpy as np

import cage

with open(sys.argv[1]) as f:
    source = f.read()
cpu = cage.compile(source, filename="entry_points.mlir")
gpu = cage.compile(source, filename="entry_points.mlir", device="cuda")
rng = np.random.default_rng(3)


def same(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and a.tobytes() == b.tobytes()


x = rng.standard_normal((129, 64)).astype(np.float32)
flat = rng.standard_normal(1000).astype(np.float32)
w, g, m = (rng.standard_normal((33, 16)).astype(np.float32) for _ in range(3))
v = np.abs(rng.standard_normal((33, 16)).astype(np.float32))
checks = {
    "scale_rows": same(cpu.scale_rows(x), gpu.scale_rows(x)),
    "total": same(np.float32(cpu.total(flat)), np.float32(gpu.total(flat))),
    "step": all(same(a, b) for a, b in zip(cpu.step(w, g, m, v, 1e-3, 3),
                                           gpu.step(w, g, m, v, 1e-3, 3))),
}
wc, bc, wg, bg = w.copy(), m.copy(), w.copy(), m.copy()
cpu.sgd_in_place(wc, g, bc, 1e-3)
gpu.sgd_in_place(wg, g, bg, 1e-3)
checks["sgd_in_place"] = same(wc, wg) and same(bc, bg)
for name, ok in checks.items():
    print(f"{name}: {'bit-identical' if ok else 'DIFFERENT'}")
