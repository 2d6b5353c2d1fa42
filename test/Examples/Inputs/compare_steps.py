"""Runs two training-step functions on the same random inputs with cage-run
and compares their results.

usage: compare_steps.py WORKDIR FILE_A ENTRY_A FILE_B ENTRY_B

The inputs are those of examples/mlp_train_step.mlir: x, one-hot y, each
weight followed by its AdamW moments, t, T, lr. t = 90 of T = 100 lies after
the silent 80% of training, so the CAGE correction is on. Prints, per
result, the largest difference in units of the largest magnitude of that
result, and the verdict against the tolerance below.

Tolerance: the two steps compute the same forward in the same order, and
the same backward up to how the chain rule is grouped (the hand-written
dlogits = (p - y) / B, the generated one through d log-sum-exp: the same
terms, rounded in another order), so the gradients differ by a few f32
roundings relative to their size. AdamW divides by sqrt(v) + eps, which
keeps the update of an element within lr of the old weight: a gradient
difference of a few ulps becomes an update difference of a few ulps of lr,
and the moments differ by a few ulps. 1e-6 of each result's largest
magnitude allows for that (2^-23 is 1.2e-7) and would catch a wrong term
of any rule (those differ by whole percents).
"""

import os
import subprocess
import sys

import numpy as np

work, file_a, entry_a, file_b, entry_b = sys.argv[1:6]
rng = np.random.default_rng(1)
inputs = dict(
    x=rng.standard_normal((64, 16)).astype(np.float32),
    y=np.eye(4, dtype=np.float32)[rng.integers(0, 4, 64)],
    w1=(rng.standard_normal((32, 16)) * 0.3).astype(np.float32),
    m1=(rng.standard_normal((32, 16)) * 0.01).astype(np.float32),
    v1=(rng.random((32, 16)) * 0.01).astype(np.float32),
    w2=(rng.standard_normal((4, 32)) * 0.3).astype(np.float32),
    m2=(rng.standard_normal((4, 32)) * 0.01).astype(np.float32),
    v2=(rng.random((4, 32)) * 0.01).astype(np.float32),
    t=np.array(90, np.int64),
    T=np.array(100, np.int64),
    lr=np.array(0.01, np.float32),
)
args = []
for name, value in inputs.items():
    path = os.path.join(work, name + ".npy")
    np.save(path, value)
    args += ["--in", path]
names = ["loss", "w1", "m1", "v1", "w2", "m2", "v2"]


def run(path, entry, tag):
    outs = []
    for n in names:
        outs += ["--out", os.path.join(work, "%s_%s.npy" % (tag, n))]
    subprocess.run(["cage-run", path, "--entry", entry] + args + outs,
                   check=True)
    return [np.load(os.path.join(work, "%s_%s.npy" % (tag, n))) for n in names]


a = run(file_a, entry_a, "a")
b = run(file_b, entry_b, "b")
failures = 0
for name, x, y in zip(names, a, b):
    scale = float(np.abs(x).max())
    diff = float(np.abs(x.astype(np.float64) - y).max()) / scale
    ok = diff <= 1e-6
    failures += not ok
    print("%-4s max |a - b| / max |a| = %.2e %s" % (name, diff,
                                                   "ok" if ok else "FAIL"))
print("failures: %d" % failures)
