# RUN: %python %s %cage_obj/lib/libCageReference.so | FileCheck %s
# REQUIRES: numpy
# UNSUPPORTED: sanitizers
"""AdamW's bias corrections 1 - beta^t (Reference.h, "AdamW"): p = beta^t in
double by binary exponentiation from the double value of the f32 beta, then
bc = (float)(1.0 - p), rounded once.

For beta in {0.9, 0.95, 0.999, 0.5} and f32 values near 1 (1 - 2^-24, the
largest f32 below 1, 1 - 2^-23, 1 - 2^-20, 0.9999f, 0.99999f), and t in
{1, 2, 3, 7, 1000, 123457, 2^31 - 1, 2^40 + 5}:

1. Inputs/numpy_reference.py's bias_correction (Python floats: IEEE double)
   is within 1e-6 relative of the exact 1 - beta^t (decimal, 60 digits, from
   the exact value of the f32 beta).
2. It is what the C reference uses, bit for bit, observed through
   cageRefAdamW alone: one step from w = m = v = 0 without weight decay on
   256 gradients, with beta2 = 0 (so bc2 = 1 - 0^t = 1 exactly and w depends
   on bc1 only), then with beta1 = 0 (bc1 = 1, w depends on bc2 only). w is
   recomputed in numpy float32 with Reference.h's formula for each candidate
   bc: numpy's and its 32 f32 neighbours either side (and the old 1 - powf
   value): exactly one candidate, numpy's, gives C's 256 w bit for bit.
3. The full step (random w, m, v, g, weight decay, beta1 = beta2 = beta) of
   Inputs/numpy_reference.py's adamw equals cageRefAdamW's bit for bit.
4. The old formula, 1.0f - powf(beta, (float)t) in f32 with libm's powf,
   differs for some (beta, t) (counted): the change of contract matters
   (and the old value is far from exact for beta near 1 and small t, where
   1 - powf cancels: its worst relative error is printed).
"""

import ctypes
import ctypes.util
import decimal
import itertools
import os
import sys

import numpy as np

# The helpers in Inputs/, without leaving bytecode in the source tree.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "Inputs"))
import numpy_reference as nr  # noqa: E402
from reference import AdamW, Reference  # noqa: E402

f32 = np.float32
ref = Reference(sys.argv[1])
rng = np.random.default_rng(2718)
failures = 0

BETAS = [f32(0.9), f32(0.95), f32(0.999), f32(0.5), f32(1 - 2.0 ** -24),
         f32(1 - 2.0 ** -23), f32(1 - 2.0 ** -20), f32(0.9999),
         f32(0.99999)]
TS = [1, 2, 3, 7, 1000, 123457, 2 ** 31 - 1, 2 ** 40 + 5]
PAIRS = list(itertools.product(BETAS, TS))

_libm = ctypes.CDLL(ctypes.util.find_library("m"))
_libm.powf.restype = ctypes.c_float
_libm.powf.argtypes = [ctypes.c_float, ctypes.c_float]


def old_correction(beta, t):
    """The previous contract: 1.0f - powf(beta, (float)t), in f32."""
    return f32(1) - f32(_libm.powf(f32(beta), f32(t)))


def exact_correction(beta, t):
    """1 - beta^t for the exact value of the f32 beta, to 60 digits."""
    with decimal.localcontext() as context:
        context.prec = 60
        context.Emin = -10 ** 9
        return 1 - decimal.Decimal(float(beta)) ** t


def relative_error(value, exact):
    return float(abs((decimal.Decimal(float(value)) - exact) / exact))


# 1. Against the exact value.
worst = 0.0
for beta, t in PAIRS:
    worst = max(worst, relative_error(nr.bias_correction(beta, t),
                                      exact_correction(beta, t)))
ok = worst <= 1e-6
failures += not ok
print(f"exact: {len(PAIRS)} (beta, t), numpy's binary exponentiation within "
      f"{worst:.1e} relative of 1 - beta^t: {'ok' if ok else 'FAIL'}")
# CHECK: exact: 72 (beta, t), numpy's binary exponentiation within {{.*}} relative of 1 - beta^t: ok

# 2. The bias corrections cageRefAdamW uses, recovered.
N = 256
LR, EPS = f32(1), f32(1e-8)
# Gradients of both signs over a few decades, so that m / bc and sqrt(v / bc)
# round differently for neighbouring candidates.
G = (np.sign(rng.standard_normal(N)) *
     np.exp(rng.uniform(np.log(1e-3), np.log(10), N))).astype(f32)


def numpy_first_step(beta1, beta2, bc1, bc2):
    """Reference.h's AdamW step from w = m = v = 0 with weight decay 0, in
    float32, with the bias corrections given."""
    beta1, beta2 = f32(beta1), f32(beta2)
    zero = np.zeros(N, f32)
    w = zero * (f32(1) - LR * f32(0))
    m = beta1 * zero + (f32(1) - beta1) * G
    v = beta2 * zero + (f32(1) - beta2) * (G * G)
    mhat = m / bc1
    vhat = v / bc2
    return w - (LR * mhat) / (np.sqrt(vhat) + EPS)


def c_first_step(beta1, beta2, t):
    w, m, v = np.zeros(N, f32), np.zeros(N, f32), np.zeros(N, f32)
    ref.adamw(AdamW(beta1, beta2, EPS, 0.0), w, G.copy(), m, v, LR, t)
    return w


def candidates(bc):
    around = [bc]
    for direction in (np.inf, -np.inf):
        value = bc
        for _ in range(32):
            value = np.nextafter(value, f32(direction))
            around.append(value)
    return around


recovered = {"bc1": 0, "bc2": 0}
for beta, t in PAIRS:
    mine = nr.bias_correction(beta, t)
    one = f32(1)
    for name, beta1, beta2 in (("bc1", beta, 0.0), ("bc2", 0.0, beta)):
        theirs = c_first_step(beta1, beta2, t)
        fits = []
        for bc in candidates(mine) + [old_correction(beta, t)]:
            bc1, bc2 = (bc, one) if name == "bc1" else (one, bc)
            if nr.same_bits(numpy_first_step(beta1, beta2, bc1, bc2), theirs):
                fits.append(bc)
        if len(set(float(bc) for bc in fits)) == 1 and fits[0] == mine:
            recovered[name] += 1
        else:
            failures += 1
            print(f"FAIL {name} beta {beta!r} t {t}: numpy {mine!r}, "
                  f"candidates that fit {fits}")
print(f"cageRefAdamW: bc1 {recovered['bc1']} of {len(PAIRS)}, bc2 "
      f"{recovered['bc2']} of {len(PAIRS)} recovered, numpy's and no "
      f"neighbour")
# CHECK: cageRefAdamW: bc1 72 of 72, bc2 72 of 72 recovered, numpy's and no neighbour

# 3. The full step.
same = 0
for beta, t in PAIRS:
    opt = dict(beta1=beta, beta2=beta, eps=1e-8, weight_decay=0.1)
    w = rng.standard_normal(N).astype(f32)
    g = (rng.standard_normal(N) * 0.1).astype(f32)
    m = (rng.standard_normal(N) * 0.01).astype(f32)
    v = (rng.random(N) * 1e-3).astype(f32)
    state = [a.copy() for a in (w, m, v)]
    ref.adamw(AdamW(beta, beta, 1e-8, 0.1), state[0], g, state[1], state[2],
              f32(3e-3), t)
    nr.adamw(opt, w, g, m, v, f32(3e-3), t)
    if all(nr.same_bits(a, c) for a, c in zip(state, (w, m, v))):
        same += 1
    else:
        failures += 1
        print(f"FAIL adamw beta {beta!r} t {t}")
print(f"adamw step vs numpy_reference: {same} of {len(PAIRS)} bit for bit")
# CHECK: adamw step vs numpy_reference: 72 of 72 bit for bit

# 4. The old formula.
differ = 0
worst_old = 0.0
for beta, t in PAIRS:
    old = old_correction(beta, t)
    differ += old != nr.bias_correction(beta, t)
    worst_old = max(worst_old, relative_error(old, exact_correction(beta, t)))
failures += differ == 0
print(f"1 - powf(beta, t): differs for {differ} of {len(PAIRS)} (beta, t); "
      f"its worst relative error {worst_old:.1e}")
# CHECK: 1 - powf(beta, t): differs for {{[1-9][0-9]*}} of 72 (beta, t); its worst relative error

print(f"failures: {failures}")
# CHECK: failures: 0
sys.exit(1 if failures else 0)
