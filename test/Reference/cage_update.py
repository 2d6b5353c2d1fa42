# RUN: %python %s %cage_obj/lib/libCageReference.so | FileCheck %s
# REQUIRES: numpy
# UNSUPPORTED: sanitizers
"""The CAGE update of the reference (docs/Semantics.md §1.3).

1. lambda_t = 0 (+0 and -0): the correction is applied whatever lambda_t is
   (Reference.h, "CAGE update"), so the result has the values of the plain
   optimizer step (np.array_equal: +0 == -0), for AdamW and SGD, both
   couplings, both error modes, with and without rotation, over several
   steps, on data with signed zeros; but not its bits: some zeros change
   sign (decoupled: w - (lr * 0) * e turns w = -0 into +0 where (lr * 0) * e
   is -0; coupled: g + 0 * e turns g = -0 into +0, which AdamW and SGD then
   absorb here), counted and printed. Each step also equals, bit for bit,
   numpy's own spelling of it (quant_error of Inputs/numpy_reference.py,
   then g + 0 * e or w - (lr * 0) * e around its optimizer). And where w is
   not finite, e is NaN in the whole scale group of that w (its alpha is
   infinite), so the update with lambda_t = 0 makes the whole group of w NaN
   (coupled: m and v too), where the plain step keeps the other elements.
2. The update is the composition 1.3 describes, bit for bit: coupled is the
   plain step with g + lambda_t * e (e from cageRefQuantError, the sum formed
   here in float32), decoupled is the plain step followed by
   w - (lr * lambda_t) * e.
3. 20 steps of a lambda schedule against the direct float32 computation of
   Inputs/numpy_reference.py (its own quantizer, optimizers, bias
   corrections and update, all in numpy and Python floats), bit for bit. A
   tolerance would not do over several steps: Q is discontinuous, so a
   one-ulp difference in w can flip one rounding of Q, change e by a whole
   grid step s and, through coupled AdamW's normalization, move w by up to
   lr: relative differences of 1e-3 were seen that way when the bias
   corrections were powf's (numpy's float32 power differed from glibc's in
   the last bit for about one t in five). Compiled code compared with the
   reference over several CAGE steps meets the same problem unless it is
   bit for bit; compare single steps from the same state otherwise.
4. Sanity: with zero gradients, decoupled CAGE with lr * lambda_t = 1/2 halves
   the quantization error every step while the grid stays put, and coupled
   CAGE also shrinks it.
"""

import itertools
import os
import sys

import numpy as np

# The helpers in Inputs/, without leaving bytecode in the source tree.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "Inputs"))
import numpy_reference as nr  # noqa: E402
from reference import AdamW, Reference, Sgd, f32, quantizer  # noqa: E402

ref = Reference(sys.argv[1])
rng = np.random.default_rng(7)
failures = 0
SHAPES = [(1,), (7,), (3, 16), (5, 64), (2, 3, 32)]
ADAMW = dict(beta1=0.9, beta2=0.95, eps=1e-8, weight_decay=0.1)
SGD = dict(momentum=0.9, dampening=0.0, nesterov=True, weight_decay=1e-2)


def adamw_params(d):
    return AdamW(d["beta1"], d["beta2"], d["eps"], d["weight_decay"])


def sgd_params(d):
    return Sgd(d["momentum"], d["dampening"], d["nesterov"], d["weight_decay"])


def quantizer_for(shape, rotation, bits=3, scale="rms_gaussian"):
    n = shape[-1]
    block = max(b for b in (2, 4, 8, 16) if n % b == 0) if n % 2 == 0 else 128
    p = dict(bits=bits, granularity="row", group_size=128, scale=scale,
             levels="int", rotation=rotation if n % 2 == 0 else "none",
             block=block, rounding="nearest")
    return p, quantizer(**p)


def data(shape):
    w = rng.standard_normal(shape).astype(np.float32)
    g = (rng.standard_normal(shape) * 0.1).astype(np.float32)
    flat_w, flat_g = w.reshape(-1), g.reshape(-1)
    flat_w[::5] = -0.0
    flat_g[::3] = -0.0
    flat_g[1::7] = 0.0
    return w, g


# 1. lambda_t = 0.


def numpy_lambda_zero(p, error, coupling, optimizer, opt, w, g, state, lr,
                      lam, t=None):
    """The update with lambda_t = lam spelled out in numpy, as 1.3 writes it
    (no special case for 0): e = quant_error(w), then coupled: the optimizer
    with g + lam * e; decoupled: the optimizer with g, then w - (lr * lam) *
    e."""
    lam = np.float32(lam)
    e = nr.quant_error(p, w, error)
    step = nr.adamw if optimizer == "adamw" else nr.sgd
    extra = (t,) if optimizer == "adamw" else ()
    if coupling == "coupled":
        step(opt, w, g + lam * e, *state, lr, *extra)
    else:
        step(opt, w, g, *state, lr, *extra)
        w -= (np.float32(lr) * lam) * e


def sign_of_zero_only(a, c):
    """a and c equal as values, and where their bits differ both are zeros
    (so they differ only in the sign of some zeros). Returns that count, or
    None if they differ otherwise."""
    if not np.array_equal(a, c):
        return None
    differ = a.view(np.uint32) != c.view(np.uint32)
    if not np.all(a[differ] == 0):
        return None
    return int(np.count_nonzero(differ))


compared = bitwise = zero_signs = 0
numpy_same = True
for shape, rotation, coupling, error, lam in itertools.product(
        SHAPES, ["none", "hadamard"], ["coupled", "decoupled"],
        ["keep", "zero_clipped"], [0.0, -0.0]):
    p, q = quantizer_for(shape, rotation)
    w, _ = data(shape)
    m, v = np.zeros_like(w), np.zeros_like(w)
    w2, m2, v2 = w.copy(), m.copy(), v.copy()
    w3, m3, v3 = w.copy(), m.copy(), v.copy()
    b, wb, b2 = np.zeros_like(w), w.copy(), np.zeros_like(w)
    wb2, wb3, b3 = w.copy(), w.copy(), np.zeros_like(w)
    same_numpy = True
    for t in range(1, 6):
        _, g = data(shape)
        ref.adamw(adamw_params(ADAMW), w, g, m, v, f32(1e-2), t)
        ref.update_adamw(q, error, coupling, adamw_params(ADAMW), w2, g, m2, v2,
                         f32(1e-2), lam, t)
        numpy_lambda_zero(p, error, coupling, "adamw", ADAMW, w3, g, [m3, v3],
                          f32(1e-2), lam, t)
        ref.sgd(sgd_params(SGD), wb, g, b, f32(0.05))
        ref.update_sgd(q, error, coupling, sgd_params(SGD), wb2, g, b2,
                       f32(0.05), lam)
        numpy_lambda_zero(p, error, coupling, "sgd", SGD, wb3, g, [b3],
                          f32(0.05), lam)
        # Each step from the same state on both sides, the update's.
        same_numpy = same_numpy and all(
            nr.same_bits(a, c) for a, c in
            [(w2, w3), (m2, m3), (v2, v3), (wb2, wb3), (b2, b3)])
    signs = [sign_of_zero_only(a, c) for a, c in
             [(w, w2), (m, m2), (v, v2), (wb, wb2), (b, b2)]]
    compared += 1
    if None in signs:
        failures += 1
        print(f"FAIL lambda 0: {shape} {rotation} {coupling} {error} {lam}")
    elif sum(signs) == 0:
        bitwise += 1
    else:
        zero_signs += sum(signs)
    if not same_numpy:
        failures += 1
        numpy_same = False
        print(f"FAIL lambda 0 numpy: {shape} {rotation} {coupling} {error} "
              f"{lam}")
print(f"lambda 0: {compared} runs of 5 steps, equal values to the plain step; "
      f"{compared - bitwise} differ in the sign of zeros ({zero_signs} "
      f"elements), {bitwise} bit for bit")
print(f"lambda 0: the update is numpy's g + 0 * e / w - (lr * 0) * e "
      f"{'bit for bit' if numpy_same else 'DIFFERENT'}")
# CHECK: lambda 0: 80 runs of 5 steps, equal values to the plain step; {{[1-9][0-9]*}} differ in the sign of zeros ({{[1-9][0-9]*}} elements), {{[0-9]+}} bit for bit
# CHECK: lambda 0: the update is numpy's g + 0 * e / w - (lr * 0) * e bit for bit

# Where w is not finite: e is NaN in the whole scale group (a row here: its
# absmax alpha is Inf, s = Inf and every q = r * Inf is NaN), so lambda_t = 0
# no longer leaves the rest of the row alone. numpy's spelling agrees (NaN
# where C has NaN, the same bits elsewhere).
p, q = quantizer_for((3, 8), "none", bits=4, scale="absmax")
inf_rng = np.random.default_rng(8)
for coupling in ("coupled", "decoupled"):
    w = inf_rng.standard_normal((3, 8)).astype(np.float32)
    w[1, 5] = np.inf
    g = (inf_rng.standard_normal((3, 8)) * 0.1).astype(np.float32)
    plain = [w.copy(), np.zeros_like(w), np.zeros_like(w)]
    ref.adamw(adamw_params(ADAMW), plain[0], g, plain[1], plain[2],
              f32(1e-2), 1)
    mine = [w.copy(), np.zeros_like(w), np.zeros_like(w)]
    ref.update_adamw(q, "keep", coupling, adamw_params(ADAMW), mine[0], g,
                     mine[1], mine[2], f32(1e-2), f32(0), 1)
    spelled = [w.copy(), np.zeros_like(w), np.zeros_like(w)]
    with np.errstate(invalid="ignore"):
        numpy_lambda_zero(p, "keep", coupling, "adamw", ADAMW, spelled[0], g,
                          spelled[1:], f32(1e-2), f32(0), 1)
    nans = [int(np.count_nonzero(np.isnan(a))) for a in mine]
    row_nan = bool(np.all(np.isnan(mine[0][1])))
    others = np.array_equal(mine[0][[0, 2]], plain[0][[0, 2]])
    agree = all(np.array_equal(np.isnan(a), np.isnan(c)) and nr.same_bits(
        np.where(np.isnan(a), 0, a), np.where(np.isnan(c), 0, c))
        for a, c in zip(mine, spelled))
    ok = row_nan and others and agree and np.isinf(plain[0][1, 5]) and \
        not np.any(np.isnan(plain[0]))
    failures += not ok
    print(f"lambda 0, w = Inf in row 1, {coupling}: NaN in w {nans[0]}, "
          f"m {nans[1]}, v {nans[2]} of 24; the plain step none; "
          f"{'ok' if ok else 'FAIL'}")
# CHECK: lambda 0, w = Inf in row 1, coupled: NaN in w 8, m 8, v 8 of 24; the plain step none; ok
# CHECK: lambda 0, w = Inf in row 1, decoupled: NaN in w 8, m 0, v 0 of 24; the plain step none; ok

# 2. The composition, bit for bit.
compared = 0
for shape, rotation, coupling, error in itertools.product(
        SHAPES, ["none", "hadamard"], ["coupled", "decoupled"],
        ["keep", "zero_clipped"]):
    p, q = quantizer_for(shape, rotation)
    lr, lam = f32(3e-2), f32(2.5)
    w, g = data(shape)
    m = (rng.standard_normal(shape) * 0.01).astype(np.float32)
    v = (rng.random(shape) * 1e-3).astype(np.float32)
    b = (rng.standard_normal(shape) * 0.01).astype(np.float32)
    e = ref.quant_error(q, w, error)

    # AdamW.
    w1, m1, v1 = w.copy(), m.copy(), v.copy()
    ref.update_adamw(q, error, coupling, adamw_params(ADAMW), w1, g, m1, v1,
                     lr, lam, 3)
    w2, m2, v2 = w.copy(), m.copy(), v.copy()
    if coupling == "coupled":
        ref.adamw(adamw_params(ADAMW), w2, g + np.float32(lam) * e, m2, v2, lr,
                  3)
    else:
        ref.adamw(adamw_params(ADAMW), w2, g, m2, v2, lr, 3)
        w2 = w2 - (np.float32(lr) * np.float32(lam)) * e
    # SGD.
    w3, b3 = w.copy(), b.copy()
    ref.update_sgd(q, error, coupling, sgd_params(SGD), w3, g, b3, lr, lam)
    w4, b4 = w.copy(), b.copy()
    if coupling == "coupled":
        ref.sgd(sgd_params(SGD), w4, g + np.float32(lam) * e, b4, lr)
    else:
        ref.sgd(sgd_params(SGD), w4, g, b4, lr)
        w4 = w4 - (np.float32(lr) * np.float32(lam)) * e
    compared += 1
    if not all(nr.same_bits(a, c) for a, c in
               [(w1, w2), (m1, m2), (v1, v2), (w3, w4), (b3, b4)]):
        failures += 1
        print(f"FAIL composition: {shape} {rotation} {coupling} {error}")
print(f"composition: {compared} cases, bit for bit")
# CHECK: composition: 40 cases, bit for bit


# 3. Against the direct numpy computation, 20 steps of a schedule.
runs = 0
for shape, rotation, coupling, error, optimizer in itertools.product(
        SHAPES, ["none", "hadamard"], ["coupled", "decoupled"],
        ["keep", "zero_clipped"], ["adamw", "sgd"]):
    p, q = quantizer_for(shape, rotation, bits=4, scale="absmax")
    w, _ = data(shape)
    mine_w = w.copy()
    if optimizer == "adamw":
        opt, lr = ADAMW, f32(1e-2)
        state = [np.zeros_like(w), np.zeros_like(w)]
    else:
        opt, lr = SGD, f32(0.05)
        state = [np.zeros_like(w)]
    mine_state = [s.copy() for s in state]
    same = True
    for t in range(1, 21):
        _, g = data(shape)
        lam = ref.schedule("linear_ramp", 10.0, 0.5, t, 20)
        if optimizer == "adamw":
            ref.update_adamw(q, error, coupling, adamw_params(opt), w, g,
                             *state, lr, lam, t)
            nr.update(p, error, coupling, "adamw", opt, mine_w, g, mine_state,
                      lr, lam, t)
        else:
            ref.update_sgd(q, error, coupling, sgd_params(opt), w, g, *state,
                           lr, lam)
            nr.update(p, error, coupling, "sgd", opt, mine_w, g, mine_state,
                      lr, lam)
        same = same and nr.same_bits(w, mine_w) and all(
            nr.same_bits(a, c) for a, c in zip(state, mine_state))
    runs += 1
    if not same:
        failures += 1
        print(f"FAIL direct: {shape} {rotation} {coupling} {error} "
              f"{optimizer}")
print(f"direct numpy: {runs} runs of 20 steps, bit for bit")
# CHECK: direct numpy: 80 runs of 20 steps, bit for bit

# 4. The correction pulls w onto the grid.
shape = (8, 64)
p, q = quantizer_for(shape, "none", bits=4, scale="absmax")
zero = np.zeros(shape, np.float32)
plain = Sgd(0.0, 0.0, False, 0.0)
for coupling in ("decoupled", "coupled"):
    w = rng.standard_normal(shape).astype(np.float32)
    sizes = [float(np.max(np.abs(ref.quant_error(q, w))))]
    for t in range(8):
        # lr * lambda_t = 0.5: decoupled moves w halfway to Q(w); so does
        # coupled plain SGD (g = lambda_t e, w - lr g).
        ref.update_sgd(q, "keep", coupling, plain, w, zero, None, f32(0.05),
                       f32(10.0))
        sizes.append(float(np.max(np.abs(ref.quant_error(q, w)))))
    ratios = [b / a for a, b in zip(sizes, sizes[1:]) if a > 0]
    ok = sizes[-1] < sizes[0] / 100 and max(ratios) <= 0.5 + 1e-3
    if not ok:
        failures += 1
    print(f"{coupling} error shrinks: {sizes[0]:.3f} -> {sizes[-1]:.2e}, "
          f"{'ok' if ok else 'FAIL'}")
# CHECK: decoupled error shrinks: {{.*}}, ok
# CHECK: coupled error shrinks: {{.*}}, ok

print(f"failures: {failures}")
# CHECK: failures: 0
sys.exit(1 if failures else 0)
