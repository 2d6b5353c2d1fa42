# RUN: %python %s %cage_obj/lib/libCageReference.so | FileCheck %s
# REQUIRES: numpy
# UNSUPPORTED: sanitizers
"""The reference quantizer against a second, independent implementation.

docs/Semantics.md §1.1, §1.2 and §1.4 written again in numpy float32 (array
operations, not the C library's loops; Inputs/numpy_reference.py), in the
orders fixed by Reference.h, and compared bit for bit (signed zeros
included) with the C reference: Q (every granularity, scale, grid, rotation
and rounding mode), the clip values, the clipped masks, both
straight-through estimators with the LSQ gradient, and quant_error, on
random data of awkward shapes; and the clamp of the centered grid's level
index under stochastic rounding, on inputs built to need it. The inputs mix
normal values with multiples of powers of two and operand clip values of
qmax * 2^k, so that exact ties (round half to even) and clipping both occur.

numpy float32 arithmetic is IEEE single precision element by element, so the
two implementations can agree exactly; the sums that Reference.h specifies in
double, in index order and from +0.0 are done there with np.cumsum, which is
sequential.
"""

import itertools
import os
import sys

import numpy as np

# The helpers in Inputs/, without leaving bytecode in the source tree.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "Inputs"))
from numpy_reference import (centered_levels, clip_values,  # noqa: E402
                             clipped, grid_constants, philox, prepare,
                             quant_error, quantize, rnd, rotate, same_bits,
                             ste, ties, uniform)
from reference import Reference, quantizer  # noqa: E402

f32 = np.float32
ref = Reference(sys.argv[1])
failures = 0

# ---------------------------------------------------------------------------
# Philox4x32-10: both implementations against the known answers, and the
# (seed, index) -> u mapping of both.
# ---------------------------------------------------------------------------
# Random123's kat_vectors, philox4x32 10 (see philox.c).
KAT = [((0, 0, 0, 0), (0, 0), (0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8)),
       ((0xffffffff,) * 4, (0xffffffff,) * 2,
        (0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd)),
       ((0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344),
        (0xa4093822, 0x299f31d0),
        (0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1))]
for counter, key, expected in KAT:
    got = tuple(int(v) for v in philox(*counter, *key))
    if got != expected or tuple(ref.philox(counter, key)) != expected:
        failures += 1
        print(f"FAIL philox {counter} {key}: numpy {got}")
for seed in (0, 7, 0x123456789ABCDEF0):
    mine = uniform(seed, 300)
    theirs = np.array([ref.uniform(seed, i) for i in range(300)], f32)
    if not np.array_equal(mine, theirs):
        failures += 1
        print(f"FAIL uniform seed {seed}")
print("philox: kat and uniform checked")
# CHECK: philox: kat and uniform checked

# ---------------------------------------------------------------------------
# Centered + stochastic: the level clamp. y = -alpha / step + 1/2 should be
# the lowest level index 1 - 2^(b-1), but its f32 rounding puts it an ulp
# below for about one alpha in ten; stochastic rounding then goes down to
# -2^(b-1) when u >= the fraction of y (with the probability of an ulp of y),
# and the level index is clamped back onto the grid.
# ---------------------------------------------------------------------------


def unclamped_levels(p, x, alpha, seed):
    """rnd(y) of the centered grid before the clamp, one alpha per row."""
    _, _, steps = grid_constants(p)
    a = alpha[:, None]
    step = (f32(2) * a) / steps
    c = np.minimum(np.maximum(x, -a), a)
    return rnd(c / step + f32(0.5), p, seed)


# quantize.c's case: 4 bits, alpha = 9.127556, x = -alpha, seed 5985477:
# y = -7.0000005 and u(5985477, 0) = 0.99999964 >= its fraction, so rnd(y)
# = -8, a level below the grid; clamped to -7: Q(-alpha) = -7.5 step.
p = dict(bits=4, granularity="tensor", group_size=128, scale="operand",
         levels="centered", rotation="none", block=128,
         rounding="stochastic")
alpha = np.array([9.127556], f32)
x = -alpha.reshape(1, 1)
level = unclamped_levels(p, x, alpha, 5985477)[0, 0]
mine = quantize(p, x, alpha, 5985477)
theirs = ref.quantize(quantizer(**p), x, alpha, 5985477)
expected = (centered_levels(p)[0] - f32(0.5)) * ((f32(2) * alpha[0]) /
                                                  grid_constants(p)[2])
ok = (level == -8 and same_bits(mine, theirs) and
      mine[0, 0] == expected)
failures += not ok
print(f"level clamp, 4 bits, alpha 9.127556, seed 5985477: rnd {level:g}, "
      f"Q {theirs[0, 0]:.6g} {'ok' if ok else 'FAIL'}")
# CHECK: level clamp, 4 bits, alpha 9.127556, seed 5985477: rnd -8, Q -9.12756 ok

# In bulk: 8 bits (y an ulp of 127, 2^-17, below -127: about 8 hits in 2^20
# draws), 64 rows of x = -alpha_row with alphas for which y falls below the
# grid, under one seed. numpy and C agree bit for bit, every element is the
# lowest level, and the elements whose rnd left the grid are counted.
p = dict(p, bits=8, granularity="row")
candidates = (np.random.default_rng(3).random(4096) * 10 + 0.01).astype(f32)
y = -candidates / ((f32(2) * candidates) / grid_constants(p)[2]) + f32(0.5)
alpha = candidates[y < centered_levels(p)[0]][:64]
x = np.repeat(-alpha[:, None], 16384, axis=1)
seed = 0x5DEECE66D
levels = unclamped_levels(p, x, alpha, seed)
left = int(np.count_nonzero(levels < centered_levels(p)[0]))
mine = quantize(p, x, alpha, seed)
theirs = ref.quantize(quantizer(**p), x, alpha, seed)
lowest = (centered_levels(p)[0] - f32(0.5)) * ((f32(2) * alpha[:, None]) /
                                                grid_constants(p)[2])
ok = (len(alpha) == 64 and left > 0 and same_bits(mine, theirs) and
      np.array_equal(theirs, np.broadcast_to(lowest, x.shape)))
failures += not ok
print(f"level clamp, 8 bits, {x.size} elements at -alpha: rnd left the grid "
      f"for {left}, all clamped to the lowest level: {'ok' if ok else 'FAIL'}")
# CHECK: level clamp, 8 bits, 1048576 elements at -alpha: rnd left the grid for {{[1-9][0-9]*}}, all clamped to the lowest level: ok

# ---------------------------------------------------------------------------
# Random cases.
# ---------------------------------------------------------------------------
SHAPES = [(1,), (7,), (3, 8), (5, 48), (2, 3, 64), (129, 16), (4, 256)]
rng = np.random.default_rng(20240611)


def powers_of_two_dividing(n, low):
    return [1 << k for k in range(12) if (1 << k) >= low and n % (1 << k) == 0]


def make_input(shape):
    x = rng.standard_normal(shape).astype(f32) * f32(rng.choice([0.01, 1, 30]))
    nice = (rng.integers(-40, 41, shape) * 0.5 * 2.0 **
            rng.integers(-3, 2)).astype(f32)
    pick = rng.random(shape) < 0.3
    return np.where(pick, nice, x).astype(f32)


def make_alpha(p, shape, x):
    count = ref.num_groups(quantizer(**p), shape)
    qmax, _, steps = grid_constants(p)
    # qmax * 2^k (int) or (2^b - 1)/2 * 2^k (centered) make s or the step a
    # power of two, so that the nice inputs fall on exact ties; some groups
    # are small enough to clip.
    base = steps / f32(2) if p["levels"] == "centered" else qmax
    k = rng.integers(-3, 3, count).astype(np.float64)
    alpha = (base * 2.0 ** k).astype(f32)
    random = (rng.random(count) * 3 + 0.05).astype(f32)
    return np.where(rng.random(count) < 0.5, alpha, random).astype(f32)


cases = 0
counts = {"quantize": 0, "clip values": 0, "masks": 0, "ste": 0,
          "quant_error": 0}
tie_count = clipped_count = 0
for shape in SHAPES:
    n = shape[-1]
    for granularity, scale, levels, rotation, rounding in itertools.product(
            ["tensor", "row", "group"], ["absmax", "rms_gaussian", "operand"],
            ["int", "centered"], ["none", "hadamard"],
            ["nearest", "stochastic"]):
        groups = powers_of_two_dividing(n, 1)
        blocks = powers_of_two_dividing(n, 2)
        if rotation == "hadamard" and not blocks:
            continue
        p = dict(bits=int(rng.integers(2, 9)), granularity=granularity,
                 group_size=int(rng.choice(groups)), scale=scale,
                 levels=levels, rotation=rotation,
                 block=int(rng.choice(blocks)) if blocks else 128,
                 rounding=rounding)
        q = quantizer(**p)
        x = make_input(shape)
        dy = rng.standard_normal(shape).astype(f32)
        alpha = make_alpha(p, shape, x) if scale == "operand" else None
        seed = int(rng.integers(0, 2 ** 63))
        cases += 1
        what = f"{shape} {p}"

        if not same_bits(ref.quantize(q, x, alpha, seed),
                         quantize(p, x, alpha, seed)):
            failures += 1
            print(f"FAIL quantize {what}")
        counts["quantize"] += 1

        if scale != "operand":
            if not same_bits(ref.clip_values(q, x),
                             clip_values(p, rotate(p, x))):
                failures += 1
                print(f"FAIL clip values {what}")
            counts["clip values"] += 1

        xr, a = prepare(p, x, alpha)
        mask = clipped(p, xr, a).reshape(shape)
        tie_count += ties(p, xr, a)
        clipped_count += int(np.count_nonzero(mask))
        if not np.array_equal(ref.clipped_mask(q, x, alpha), mask):
            failures += 1
            print(f"FAIL mask {what}")
        counts["masks"] += 1

        for estimator in ("identity", "clipped"):
            dx, dalpha = ref.ste(q, estimator, dy, x, alpha)
            mine_dx, mine_dalpha = ste(p, estimator, dy, x, alpha)
            ok = same_bits(dx, mine_dx)
            if scale == "operand":
                ok = ok and same_bits(dalpha, mine_dalpha)
            if not ok:
                failures += 1
                print(f"FAIL ste {estimator} {what}")
            counts["ste"] += 1

        if rounding == "nearest" and scale != "operand":
            for error in ("keep", "zero_clipped"):
                if not same_bits(ref.quant_error(q, x, error),
                                 quant_error(p, x, error)):
                    failures += 1
                    print(f"FAIL quant_error {error} {what}")
                counts["quant_error"] += 1

print(f"cases: {cases}")
for name, count in counts.items():
    print(f"{name}: {count} compared bit for bit")
print(f"elements on exact ties: {'some' if tie_count else 'none'} "
      f"({tie_count})")
print(f"elements clipped: {'some' if clipped_count else 'none'} "
      f"({clipped_count})")
print(f"failures: {failures}")
# CHECK: cases: {{[0-9]+}}
# CHECK: quantize: {{[1-9][0-9]*}} compared bit for bit
# CHECK: clip values: {{[1-9][0-9]*}} compared bit for bit
# CHECK: masks: {{[1-9][0-9]*}} compared bit for bit
# CHECK: ste: {{[1-9][0-9]*}} compared bit for bit
# CHECK: quant_error: {{[1-9][0-9]*}} compared bit for bit
# CHECK: elements on exact ties: some
# CHECK: elements clipped: some
# CHECK: failures: 0
sys.exit(1 if failures else 0)
