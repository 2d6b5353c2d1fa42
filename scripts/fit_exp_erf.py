#!/usr/bin/python3
"""Derives the constants of exp and erf of f32 (docs/Semantics.md §1.7,
include/cage/Math/ExpErf.h) and measures the polynomials' error.

    scripts/fit_exp_erf.py [--samples N] [--exhaustive]

Each polynomial is a minimax fit in the error of the final function relative
to its value (Lawson's iteratively reweighted least squares on Chebyshev
nodes, in double precision), its coefficients then rounded to f32. The
evaluation is then emulated in f32 exactly as §1.7 writes it (numpy f32:
every product and sum rounded, no FMA) over N arguments (default 25
million), and the largest error against double precision printed in units
in the last place. Prints the constants as C hexadecimal literals.
Not part of the build: the header holds its output.
"""
import argparse
import math

import numpy as np

f32 = np.float32
EXP_MAX, EXP_MIN = f32(88.72283935546875), f32(-103.97208404541016)
LOG2E, LN2_HI = f32(1.4426950408889634), f32(0.693359375)
LN2_LO = f32(math.log(2) - 0.693359375)
ERF_SPLIT, ERF_MAX = f32(0.8), f32(4.0)


def lawson(x, target, basis, weight, iterations=80):
    """Coefficients c minimizing max |(basis @ c - target) * weight|."""
    w = np.ones_like(x)
    for _ in range(iterations):
        sw = np.sqrt(w) * weight
        c, *_ = np.linalg.lstsq(basis * sw[:, None], target * sw, rcond=None)
        err = np.abs((basis @ c - target) * weight)
        w = w * err
        w /= w.sum()
    return [f32(v) for v in c]


def chebyshev(lo, hi, n=6001):
    return (lo + hi) / 2 + (hi - lo) / 2 * np.cos(np.linspace(0, np.pi, n))


def horner(x, c):
    p = c[-1]
    for k in c[-2::-1]:
        p = p * x + k
    return p


def fit():
    h = math.log(2) / 2
    r = chebyshev(-h, h)
    r = r[np.abs(r) > 1e-6]
    exp_p = lawson(r, (np.exp(r) - 1 - r) / r**2, np.vander(r, 6, increasing=True),
                   r**2 / np.exp(r))
    verf = np.vectorize(math.erf)
    a = chebyshev(0, float(ERF_SPLIT))
    a = a[a > 1e-4]
    c = lawson(a * a, verf(a) / a, np.vander(a * a, 7, increasing=True), a / verf(a))
    erf_c0m1, erf_r = c[0] - f32(1), c[1:]
    t1 = f32(2 / (4.0 - float(ERF_SPLIT)))
    t0 = f32((4.0 + float(ERF_SPLIT)) / (4.0 - float(ERF_SPLIT)))
    b = chebyshev(float(ERF_SPLIT), 4.0)
    t = (b.astype(f32) * t1 - t0).astype(np.float64)
    erfcx = np.vectorize(math.erfc)(b) * np.exp(b * b)
    erf_q = lawson(b, erfcx, np.vander(t, 11, increasing=True),
                   np.exp(-b * b) / verf(b) + 1e-6 / erfcx)
    return exp_p, erf_c0m1, erf_r, t1, t0, erf_q


def power_of_two(k):
    return ((k.astype(np.int32) + 127) << 23).view(np.float32)


def exp32(x, p):
    c = np.minimum(np.maximum(x, EXP_MIN), EXP_MAX)
    n = np.rint(c * LOG2E)
    r = (c - n * LN2_HI) - n * LN2_LO
    y = (horner(r, p) * (r * r) + r) + f32(1)
    ni = n.astype(np.int32)
    h = ni >> 1
    y = (y * power_of_two(h)) * power_of_two(ni - h)
    y = np.where(x > EXP_MAX, f32(np.inf), np.where(x < EXP_MIN, f32(0), y))
    return np.where(np.isnan(x), x, y).astype(f32)


def erf32(x, consts):
    exp_p, c0m1, r_, t1, t0, q = consts
    a = np.abs(x)
    s = a * a
    small = a + a * (horner(s, r_) * s + c0m1)
    b = np.minimum(a, ERF_MAX)
    large = f32(1) - exp32(-(b * b), exp_p) * horner(b * t1 - t0, q)
    y = np.copysign(np.where(a < ERF_SPLIT, small, large), x)
    return np.where(np.isnan(x), x, y).astype(f32)


def max_ulps(y, exact):
    """The largest error in ulps of the f32 nearest to exact; where that is
    infinite (exact rounds to overflow), y must be infinite too."""
    nearest = exact.astype(f32)
    big = np.isinf(nearest)
    if (y[big] != nearest[big]).any():
        return math.inf
    y, exact, nearest = y[~big], exact[~big], nearest[~big]
    ulp = np.maximum(np.spacing(np.abs(nearest)).astype(np.float64), 2.0**-149)
    return float((np.abs(y.astype(np.float64) - exact) / ulp).max())


def exhaustive(consts):
    """(max ulps of exp, max ulps of erf) over every f32 argument."""
    import torch

    def bit_range(lo, hi):
        lo, hi = int(lo), int(hi)
        for start in range(lo, hi + 1, 1 << 24):
            yield np.arange(start, min(start + (1 << 24), hi + 1), dtype=np.uint32).view(f32)

    worst_exp = worst_erf = 0.0
    with np.errstate(all="ignore"):
        for x in list(bit_range(0, f32(EXP_MAX).view(np.uint32))) + \
                list(bit_range(0x80000000, f32(EXP_MIN).view(np.uint32))):
            worst_exp = max(worst_exp, max_ulps(exp32(x, consts[0]), np.exp(x.astype(np.float64))))
        for x in bit_range(0, f32(ERF_MAX).view(np.uint32)):
            exact = torch.special.erf(torch.from_numpy(x.astype(np.float64))).numpy()
            worst_erf = max(worst_erf, max_ulps(erf32(x, consts), exact))
    return worst_exp, worst_erf


def c_hex(v):
    """The f32 v as the shortest C hexadecimal literal (0x1.8p-1f)."""
    text = float(v).hex()  # 0x1.8000000000000p-1
    mantissa, exponent = text.split("p")
    mantissa = mantissa.rstrip("0").rstrip(".")
    return f"{mantissa}p{exponent}f"


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--samples", type=int, default=25_000_000)
    p.add_argument("--exhaustive", action="store_true")
    args = p.parse_args()
    n = args.samples
    consts = fit()
    exp_p, c0m1, erf_r, t1, t0, erf_q = consts
    def hexes(cs):
        return ", ".join(c_hex(v) for v in cs)
    print("exp P:", hexes(exp_p))
    print("erf c0 - 1:", hexes([c0m1]), " R:", hexes(erf_r))
    print("erf t1, t0:", hexes([t1, t0]), " Q:", hexes(erf_q))
    if args.exhaustive:
        worst_exp, worst_erf = exhaustive(consts)
        print(f"exp: max {worst_exp:.3f} ulp over every f32 in [{EXP_MIN}, {EXP_MAX}]")
        print(f"erf: max {worst_erf:.3f} ulp over every f32 in [0, {ERF_MAX}]")
        return
    with np.errstate(all="ignore"):
        x = np.linspace(float(EXP_MIN), float(EXP_MAX), n, dtype=f32)
        print(f"exp: max {max_ulps(exp32(x, exp_p), np.exp(x.astype(np.float64))):.2f} ulp "
              f"over {n} arguments in [{EXP_MIN}, {EXP_MAX}]")
        x = np.linspace(-5, 5, n // 5, dtype=f32)
        exact = np.frompyfunc(math.erf, 1, 1)(x.astype(np.float64)).astype(np.float64)
        print(f"erf: max {max_ulps(erf32(x, consts), exact):.2f} ulp over {n // 5} "
              "arguments in [-5, 5]")


if __name__ == "__main__":
    main()
