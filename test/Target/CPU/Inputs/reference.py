"""Inputs and NumPy references for the cage-run tests of kernels.mlir and
adamw-dps.mlir.

    reference.py gen DIR          write the input .npy files into DIR
    reference.py check DIR NAME.. compare DIR/NAME.npy outputs with NumPy,
                                  print "NAME: ok" or what differs

Comparisons are bit for bit: the kernels do float32 arithmetic in a fixed
order (sums in index order, no FMA contraction), and so does this file.
"""

import os
import sys

import numpy as np

F = np.float32
SHAPES = [(1, 1), (7, 129), (33, 1000), (129, 7), (4, 0)]


def name(shape):
    return "x".join(str(d) for d in shape)


def data(shape, seed):
    rng = np.random.RandomState(seed)
    return (rng.standard_normal(shape) * 3).astype(F)


def gen(d):
    for s in SHAPES:
        np.save(os.path.join(d, "a_%s.npy" % name(s)), data(s, 1))
        np.save(os.path.join(d, "b_%s.npy" % name(s)), data(s, 2))
    np.save(os.path.join(d, "a_64x128.npy"), data((64, 128), 3))
    np.save(os.path.join(d, "b_64x128.npy"), data((64, 128), 4))
    for n in [1, 7, 1000, 5003]:
        np.save(os.path.join(d, "v_%d.npy" % n), data((n,), 5))
    np.save(os.path.join(d, "c_3x5x17.npy"), data((3, 5, 17), 6))
    # scalars(f32, i64, tensor<f32>, tensor<?xi32>, tensor<?xi1>, f64)
    np.save(os.path.join(d, "s_x.npy"), F(1.5))
    np.save(os.path.join(d, "s_n.npy"), np.int64(41))
    np.save(os.path.join(d, "s_t.npy"), np.array(3.25, F))
    np.save(os.path.join(d, "s_k.npy"), np.array([1, -2, 3, 40000, -7], np.int32))
    np.save(os.path.join(d, "s_m.npy"), np.array([True, False, True, True, False]))
    np.save(os.path.join(d, "s_d.npy"), np.float64(0.5))
    # adamw_step(w, g, m, v, lr, t) on 1003 parameters
    n = 1003
    np.save(os.path.join(d, "w.npy"), data((n,), 7))
    np.save(os.path.join(d, "g.npy"), data((n,), 8))
    np.save(os.path.join(d, "m.npy"), (data((n,), 9) * F(0.1)).astype(F))
    np.save(os.path.join(d, "v.npy"), np.abs(data((n,), 10) * F(0.1)).astype(F))
    np.save(os.path.join(d, "lr.npy"), F(1e-3))
    np.save(os.path.join(d, "t.npy"), np.int64(1))


def load(d, n):
    return np.load(os.path.join(d, n + ".npy"))


def ew(a, b):
    return np.sqrt(np.abs(a * b + a))


def rowsumsq(a):
    s = np.zeros(a.shape[0], F)
    for j in range(a.shape[1]):
        s = s + a[:, j] * a[:, j]
    return s


def colsum(a):
    s = np.zeros(a.shape[1], F)
    for i in range(a.shape[0]):
        s = s + a[i, :]
    return s


def rowmax(a):
    m = np.zeros(a.shape[0], F)
    for j in range(a.shape[1]):
        m = np.maximum(np.abs(a[:, j]), m)
    return m


def adamw(d, steps):
    """`steps` AdamW steps: t = 1, 2, ... or, for "Nr", N times with t = 1
    (cage-run --repeat N with the same inputs)."""
    w, g, m, v = (load(d, k).copy() for k in "wgmv")
    lr = F(1e-3)
    if steps.endswith("r"):
        ts = [1] * int(steps[:-1])
    else:
        ts = range(1, int(steps) + 1)
    for t in ts:
        decay = F(1) - lr * F(0.1)
        bc1 = F(1) - np.power(F(0.9), F(t))
        bc2 = F(1) - np.power(F(0.95), F(t))
        w1 = w * decay
        m = F(0.9) * m + F(0.1) * g
        v = F(0.95) * v + F(0.05) * (g * g)
        w = w1 - lr * ((m / bc1) / (np.sqrt(v / bc2) + F(1e-8)))
    return w, m, v


def expected(d, out):
    """The NumPy value of output `out` (a file name without .npy)."""
    kind, _, rest = out.partition("_")
    if kind in ("ew", "rowmax", "rowsumsq", "colsum", "ident"):
        a = load(d, "a_" + rest)
        if kind == "ew":
            return ew(a, load(d, "b_" + rest))
        return {"rowmax": rowmax, "rowsumsq": rowsumsq, "colsum": colsum,
                "ident": lambda x: x}[kind](a)
    if kind == "ew1d":
        return load(d, "v_" + rest) * F(2) + F(1)
    if kind == "ew3d":
        return load(d, "c_" + rest) * F(2) + F(1)
    if kind == "twice":
        return load(d, "v_" + rest[:-2]) * F(2)
    if kind == "scal":
        k = load(d, "s_k")
        return {"0": F(3.0), "1": np.int64(42), "2": np.array(6.5, F),
                "3": k * k, "4": ~load(d, "s_m"), "5": np.float64(0.25)}[rest]
    if kind == "adamw":
        steps, _, which = rest.partition("_")
        return adamw(d, steps)["wmv".index(which)]
    raise SystemExit("unknown output " + out)


def check(d, outs):
    for out in outs:
        want = np.asarray(expected(d, out))
        got = np.load(os.path.join(d, out + ".npy"))
        if got.dtype != want.dtype or got.shape != want.shape:
            print("%s: got %s %s, want %s %s" % (out, got.dtype, got.shape,
                                                 want.dtype, want.shape))
        elif got.tobytes() != want.tobytes():
            diff = np.abs(got.astype(np.float64) - want.astype(np.float64))
            print("%s: MISMATCH, max difference %g" % (out, diff.max()))
        else:
            print("%s: ok" % out)


if __name__ == "__main__":
    if sys.argv[1] == "gen":
        gen(sys.argv[2])
    else:
        check(sys.argv[2], sys.argv[3:])
