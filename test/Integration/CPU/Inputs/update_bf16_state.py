"""cage.update with bf16 optimizer state, compiled (cage-run and a
cage-compile object) against the reference (lib/Reference/Reference.h,
"bf16 optimizer state"). Built on harness.py: its `gen` writes the cases of
the family below, its `driver` and `jit` run them, and `check` here compares.

    update_bf16_state.py gen DIR LIB     the module, inputs and reference
    update_bf16_state.py driver HEADER OUT   entries.inc for aot-driver.c
    update_bf16_state.py jit DIR CAGE_RUN    every run through cage-run
    update_bf16_state.py check DIR [BACKEND...]

cage-run and the AOT driver read and write .npy files, which have no bf16:
every function takes and returns the state as i16 (the bf16 bits) and
arith.bitcast's it to and from bf16 around the op.

Each op of a function is one cage.update with bf16 state (w, g f32; m, v or
b bf16; seed(%s)), and beside it the same cage.update with f32 state on the
loaded state (arith.extf of the bf16 operands): Reference.h defines the bf16
step as exactly that f32 step followed by the stochastic store, so
  - the new w of the two must be bit-identical, and
  - the f32 m, v, b of the f32 step are the values that the bf16 step
    rounded: the stored bf16 is their truncation or the next bf16 away from
    zero, and the statistics below use their low 16 bits.

Runs. A function is called along chains of 3 steps, the state carried from
step to step (the inputs of step s + 1 are the reference's outputs of step
s, which check finds bit-identical to the compiled ones), with a fresh
gradient at every step and t = t0 + s:
  l0    lambda = 0, seed = t                   (t = 1, 2, 3)
  s1    lambda > 0, seed = t                   (t = 1, 2, 3)
  s2    lambda > 0, seed = 0x9E3779B97F4A7C15 ^ t (a seed with a high word;
        the same inputs and gradients as s1, so step 1 differs from s1's
        only by the seed)
  late  lambda > 0, seed = t                   (t = 1000, 1001, 1002)
the same chains for the "special" function (NaN, infinite and near-FLT_MAX
gradients, special values in the state; see SPECIAL_G), and one large
function (AdamW and SGD on 256x1024) called once with seed 1 and once with
seed 2 on the same inputs.

Comparisons (gen, on the reference).
- lambda = 0: the update is the plain bf16 step (cage.adamw / cage.sgd with
  bf16 state) in value, w and the stored state alike: cage.update has no
  special case for lambda_t = 0 (docs/Semantics.md §1.3, §3 decision 4), so
  g + 0 * e or w - 0 * e may change the sign of a zero (a -0.0 gradient with
  coupled AdamW and beta1 = 0 gives m = +0.0, stored as bf16 +0.0 where the
  plain step stores -0.0), and NaN equals NaN (the special function's NaN
  gradients). w stays finite, so nothing else may differ.
- The bf16 step's w is the f32 step's w on the loaded state, bit for bit.

Comparisons (check), of the compiled code.
- Every output against the reference bit for bit: the stored state (m, v,
  b) on the raw bf16 bits, w and the f32 step on the loaded state on the
  raw float32 bits. AdamW's bias corrections are computed by binary
  exponentiation in f64 (docs/Semantics.md §1.3), not with powf, so the
  optimizers have no tolerance.
- The new w of the bf16 step equals the f32 step's w on the loaded state,
  bit for bit (the same function computes both).
- Stochastic rounding, on the large tensors: for each stored tensor (m, v,
  b) and the f32 value x it was rounded from (the compiled f32 step), with
  lo = bits(x) & 0xFFFF: every stored value is trunc(x) (and exactly that
  where lo == 0) or trunc(x) + 1; the number that rounded up is within 5
  sigma of sum(lo / 2^16) (variance sum p (1 - p)), over the whole tensor
  and in each of 8 bins of lo (round to nearest would round up nothing in
  the low bins and everything in the high ones). One Philox call serves
  four elements (element i takes word i mod 4 of the call for counter
  i / 4; m and b round with its low 16 bits, v with its high 16 bits), so
  the random bits must be independent where they share a call: m and v of
  an element (the two halves of one word) round up together as often as
  independent bits would have them (sum p_m p_v, within 5 sigma), and so
  do elements 4k and 4k + 1, 4k + 2 and 4k + 3 of each stored tensor (two
  words of one call); with seeds 1 and 2 the stored values differ where
  expected (sum 2 p (1 - p), within 5 sigma) and the f32 steps do not.
- Two seeds on the small cases: s1 and s2 at step 1 (identical inputs)
  store different states.
"""

import ctypes
import json
import math
import os
import sys
from ctypes import POINTER, c_float, c_int, c_int64, c_uint16, c_uint64

import numpy as np

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402
from reference import (COUPLING, ERROR, AdamW, Quantizer, Sgd,  # noqa: E402
                       quantizer)

FAMILY = "update_bf16_state"
f32 = np.float32
SEED_B = 0x9E3779B97F4A7C15
SIGMAS = 5.0
BINS = 8

# The entries of the reference that reference.py does not bind.
_F = POINTER(c_float)
_H = POINTER(c_uint16)
_D = POINTER(c_int64)
_Q = POINTER(Quantizer)
BF16_ENTRIES = [
    ("cageRefAdamWBf16State", [POINTER(AdamW), c_int64, _F, _F, _H, _H,
                               c_float, c_int64, c_uint64]),
    ("cageRefSgdBf16State", [POINTER(Sgd), c_int64, _F, _F, _H, c_float,
                             c_uint64]),
    ("cageRefUpdateAdamWBf16State", [_Q, c_int, c_int, POINTER(AdamW), c_int64,
                                     _D, _F, _F, _H, _H, c_float, c_float,
                                     c_int64, c_uint64]),
    ("cageRefUpdateSgdBf16State", [_Q, c_int, c_int, POINTER(Sgd), c_int64, _D,
                                   _F, _F, _H, c_float, c_float, c_uint64]),
]


def bind(ref):
    if getattr(ref, "bf16_bound", False):
        return
    for name, argtypes in BF16_ENTRIES:
        function = getattr(ref.lib, name)
        function.restype = c_int
        function.argtypes = argtypes
    ref.bf16_bound = True


def floats(a):
    assert a.dtype == np.float32 and a.flags["C_CONTIGUOUS"]
    return a.ctypes.data_as(_F)


def halves(a):
    assert a.dtype == np.uint16 and a.flags["C_CONTIGUOUS"]
    return a.ctypes.data_as(_H)


def dims(shape):
    return (c_int64 * len(shape))(*shape)


def load_bf16(h):
    """The f32 values of bf16 bits (exact)."""
    return (h.astype(np.uint32) << 16).view(np.float32)


def to_bf16_truncated(x):
    return (x.astype(f32).view(np.uint32) >> 16).astype(np.uint16)


def u64(seed):
    return int(seed) & 0xFFFFFFFFFFFFFFFF


# ---------------------------------------------------------------------------
# Chains of steps.
# ---------------------------------------------------------------------------


class Chain:
    def __init__(self, name, group, lam_zero, t0, steps, seed):
        self.name, self.group, self.lam_zero = name, group, lam_zero
        self.t0, self.steps, self.seed = t0, steps, seed


CHAINS = [Chain("l0", "a", True, 0, 3, lambda t: t),
          Chain("s1", "b", False, 0, 3, lambda t: t),
          Chain("s2", "b", False, 0, 3, lambda t: SEED_B ^ t),
          Chain("late", "c", False, 999, 3, lambda t: t)]
LARGE_CHAINS = [Chain("seed1", "big", False, 6, 1, lambda t: 1),
                Chain("seed2", "big", False, 6, 1, lambda t: 2)]


def variants_of(chains):
    return [(c, s) for c in chains for s in range(1, c.steps + 1)]


def initial_state(rng, shape, which):
    """w, g and f32 state as harness.optimizer_state makes them, the state
    truncated to bf16; 2% of the elements get subnormal m and v (f32 and
    bf16 subnormals), half of them with a zero gradient so that they stay
    subnormal through the step."""
    w, g, *state = H.optimizer_state(rng, shape, which)
    tiny = rng.random(shape) < 0.02
    for s in state:
        values = rng.random(shape) * 2e-38
        if which == "adamw" and s is state[0]:
            values *= np.where(rng.random(shape) < 0.5, -1, 1)
        s[tiny] = values[tiny].astype(f32)
    return w, [to_bf16_truncated(s) for s in state], tiny


def fresh_gradient(rng, shape, tiny, special=False):
    g = (rng.standard_normal(shape) * 0.1).astype(f32)
    zeros = rng.random(shape) < 0.05
    g[zeros] = np.where(rng.random(int(zeros.sum())) < 0.5, f32(0), f32(-0.0))
    g[tiny & (rng.random(shape) < 0.5)] = f32(0)
    if special:
        flat = g.reshape(-1)
        flat[:len(SPECIAL_G) * 8:8] = SPECIAL_G
        # Beside the largest finite bf16 state: new values just beyond it,
        # stored as +-Inf with probability lo / 2^16.
        flat[OVERFLOW] = np.where(rng.random(len(flat[OVERFLOW])) < 0.5,
                                  f32(3.39e38), f32(-3.39e38))
    return g


# Special values (the "special" function): the bf16 store is defined for
# every f32, NaN and infinities included (Reference.h). The gradient gets
# NaNs, infinities, values near FLT_MAX and the smallest subnormal; the
# state the largest finite bf16, NaNs, infinities, bf16 subnormals and
# zeros of both signs (v only the non-negative ones), carried from step to
# step. w stays finite (see Bf16Update.inputs): a non-finite w would make
# the update's results NaN across its scale group, lambda = 0 included.
SPECIAL_G = np.array([np.nan, -np.nan, np.inf, -np.inf, 3.4e38, -3.4e38,
                      3.3e38, 1e-45, -0.0, 0.0], f32)
SPECIAL_M = np.array([0x7F7F, 0xFF7F, 0x7FC1, 0xFFC0, 0x7F80, 0xFF80, 0x0001,
                      0x8001, 0x0000, 0x8000], np.uint16)
SPECIAL_V = np.array([0x7F7F, 0x7FC1, 0x7F80, 0x0001, 0x0000, 0x0080],
                     np.uint16)
OVERFLOW = slice(100, 140)


def add_specials(state, which):
    first = state[0].reshape(-1)
    first[3:3 + len(SPECIAL_M) * 7:7] = SPECIAL_M
    first[OVERFLOW] = 0x7F7F
    first[OVERFLOW.start:OVERFLOW.stop:2] = 0xFF7F
    if which == "adamw":
        v = state[1].reshape(-1)
        v[5:5 + len(SPECIAL_V) * 7:7] = SPECIAL_V
        v[OVERFLOW] = 0x7F7F


# ---------------------------------------------------------------------------
# The op.
# ---------------------------------------------------------------------------


def typed(shape, dyn, element):
    return H.tensor_type(shape, dyn)[:-len("f32>")] + element + ">"


class Bf16Update(H.Op):
    def __init__(self, which, o, p, error, coupling, shape, dyn, lr, lam,
                 special=False):
        self.which, self.o, self.p, self.special = which, o, p, special
        self.error, self.coupling = error, coupling
        self.shape, self.dyn, self.lr, self.lam_value = shape, dyn, lr, lam
        self.n = 2 if which == "adamw" else 1
        self.names = ["m", "v"] if which == "adamw" else ["b"]
        self.start = {}    # group -> (w, [state], tiny) at step 1
        self.grads = {}    # (group, step) -> g
        self.current = {}  # chain -> (w, [state]) after the last step

    def emit(self, fn):
        tf = typed(self.shape, self.dyn, "f32")
        ti = typed(self.shape, self.dyn, "i16")
        tb = typed(self.shape, self.dyn, "bf16")
        k = self.index
        w, g = fn.param(tf), fn.param(tf)
        states = [fn.param(ti) for _ in range(self.n)]
        lr, lam = fn.param("f32"), fn.param("f32")
        step = fn.param("i64") if self.which == "adamw" else None
        seed = fn.param("i64")
        self.args = [w, g] + states + [lr, lam] + \
            ([step] if step is not None else []) + [seed]
        bf, ff = [], []
        for i, s in enumerate(states):
            fn.lines.append(f"%s{k}_{i} = arith.bitcast %a{s} : {ti} to {tb}")
            fn.lines.append(f"%x{k}_{i} = arith.extf %s{k}_{i} : {tb} to {tf}")
            bf.append(f"%s{k}_{i}")
            ff.append(f"%x{k}_{i}")
        tail = f"%a{lr}, %a{lam}" + (f", %a{step}" if step is not None else "")
        opt = (H.adamw_param(self.o) if self.which == "adamw"
               else H.sgd_param(self.o))
        attrs = (f"{{quantizer = {H.quantizer_attr(self.p)}, optimizer = "
                 f"{opt}, coupling = {self.coupling}, error = {self.error}}}")
        us = [f"%u{k}_{i}" for i in range(self.n + 1)]
        fn.lines.append(f"{', '.join(us)} = cage.update %a{w}, %a{g}, "
                        f"{', '.join(bf)}, {tail} seed(%a{seed}) {attrs} : "
                        f"{tf}, {tb}")
        for i in range(self.n):
            fn.lines.append(f"%o{k}_{i} = arith.bitcast %u{k}_{i + 1} : {tb} "
                            f"to {ti}")
        ps = [f"%p{k}_{i}" for i in range(self.n + 1)]
        fn.lines.append(f"{', '.join(ps)} = cage.update %a{w}, %a{g}, "
                        f"{', '.join(ff)}, {tail} {attrs} : {tf}")
        self.outs = [fn.result(us[0], tf)]
        self.outs += [fn.result(f"%o{k}_{i}", ti) for i in range(self.n)]
        self.outs += [fn.result(p, tf) for p in ps]
        self.roles = ["w"] + self.names + ["w.f32"] + \
            [x + ".f32" for x in self.names]

    def inputs(self, rng, variant):
        chain, s = variant
        if s == 1:
            if chain.group not in self.start:
                self.start[chain.group] = initial_state(rng, self.shape,
                                                        self.which)
                if self.special:
                    add_specials(self.start[chain.group][1], self.which)
            w, state, _ = self.start[chain.group]
            self.current[chain.name] = (w.copy(), [x.copy() for x in state])
        if (chain.group, s) not in self.grads:
            tiny = self.start[chain.group][2]
            self.grads[(chain.group, s)] = fresh_gradient(
                rng, self.shape, tiny, self.special)
        w, state = self.current[chain.name]
        if self.special:
            # Weights stay finite: a NaN or infinite w (left by a NaN or
            # infinite gradient) makes the quantization error NaN across its
            # scale group, and the update's results with it, whatever
            # lambda_t is (0 * NaN is NaN: docs/Semantics.md §1.3), so that
            # lambda = 0 would no longer be the plain step there. The state
            # keeps its NaNs and infinities.
            w = np.where(np.isfinite(w), w, f32(1.0))
        t = chain.t0 + s
        lam = 0.0 if chain.lam_zero else self.lam_value
        self.call = (chain, t, u64(chain.seed(t)), f32(lam))
        values = [w.copy(), self.grads[(chain.group, s)]]
        values += [x.view(np.int16).copy() for x in state]
        values += [f32(self.lr), f32(lam)]
        if self.which == "adamw":
            values.append(np.int64(t))
        values.append(H.seed_value(self.call[2]))
        return values

    def expect(self, ref, values, stats):
        bind(ref)
        chain, t, seed, lam = self.call
        q = quantizer(**self.p)
        w = values[0].copy()
        g = values[1]
        state = [values[2 + i].view(np.uint16).copy() for i in range(self.n)]
        rank, shape = w.ndim, dims(w.shape)
        err, cpl = ERROR[self.error], COUPLING[self.coupling]
        lr = float(self.lr)
        # The plain bf16 step (cage.adamw / cage.sgd with bf16 state): what
        # lambda = 0 must give in value, and what lambda > 0 should change.
        wp = values[0].copy()
        sp = [x.copy() for x in state]
        if self.which == "adamw":
            opt = H.ref_adamw(self.o)
            ref._check(ref.lib.cageRefUpdateAdamWBf16State(
                ctypes.byref(q), err, cpl, ctypes.byref(opt), rank, shape,
                floats(w), floats(g), halves(state[0]), halves(state[1]), lr,
                float(lam), t, seed))
            ref._check(ref.lib.cageRefAdamWBf16State(
                ctypes.byref(opt), w.size, floats(wp), floats(g),
                halves(sp[0]), halves(sp[1]), lr, t, seed))
        else:
            opt = H.ref_sgd(self.o)
            ref._check(ref.lib.cageRefUpdateSgdBf16State(
                ctypes.byref(q), err, cpl, ctypes.byref(opt), rank, shape,
                floats(w), floats(g), halves(state[0]), lr, float(lam), seed))
            ref._check(ref.lib.cageRefSgdBf16State(
                ctypes.byref(opt), w.size, floats(wp), floats(g),
                halves(sp[0]), lr, seed))
        if lam == 0:
            # No special case for lambda_t = 0 (docs/Semantics.md §1.3): the
            # plain step in value, w and the stored state; the sign of a
            # zero may differ, NaN equals NaN (w is finite: nothing else).
            stats.counts["lam_zero"] += 1
            pairs = [(w, wp)] + [(load_bf16(a), load_bf16(b))
                                 for a, b in zip(state, sp)]
            for (a, b), name in zip(pairs, ["w"] + self.names):
                message, zeros = H.compare_values(a, b, a)
                assert message is None, (
                    f"reference: lambda = 0 is not the plain bf16 step in "
                    f"value ({name} of {self.describe()}): {message}")
                stats.counts["lam0_signed_zeros"] += zeros
            stats.counts["lam0_plain"] += 1
        else:
            stats.counts["lam_positive"] += 1
            stats.counts["corrected"] += int(not np.array_equal(
                w.view(np.uint32), wp.view(np.uint32)))
        # The f32 step on the loaded state.
        wf = values[0].copy()
        sf = [load_bf16(values[2 + i].view(np.uint16)) for i in range(self.n)]
        if self.which == "adamw":
            ref.update_adamw(q, self.error, self.coupling, opt, wf, g, *sf, lr,
                             float(lam), t)
        else:
            ref.update_sgd(q, self.error, self.coupling, opt, wf, g, *sf, lr,
                           float(lam))
        assert np.array_equal(w.view(np.uint32), wf.view(np.uint32)), \
            "reference: the bf16 step's w is not the f32 step's"
        clipped = stats.quantizer(ref, self.p, values[0], None)
        if self.error == "zero_clipped":
            stats.counts["zeroed"] += clipped
        self.current[chain.name] = (w.copy(), [x.copy() for x in state])
        return [w] + [x.view(np.int16) for x in state] + [wf] + sf

    def equal_pairs(self, variant):
        return [(self.outs[0], self.outs[self.n + 1])]

    def describe(self):
        return (f"{self.which} {self.o} {self.coupling} {self.error} "
                f"{H.describe_q(self.p)} {self.shape}")


# ---------------------------------------------------------------------------
# The family.
# ---------------------------------------------------------------------------

ADAMW = [dict(beta1=0.9, beta2=0.95, eps=1e-8, weight_decay=0.1),
         dict(beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0),
         dict(beta1=0.5, beta2=0.9, eps=1e-3, weight_decay=0.5),
         dict(beta1=0.0, beta2=0.0, eps=1e-6, weight_decay=0.01)]
SGD = [dict(momentum=0.9, dampening=0.0, nesterov=False, weight_decay=0.0),
       dict(momentum=0.9, dampening=0.0, nesterov=True, weight_decay=0.01),
       dict(momentum=0.9, dampening=0.5, nesterov=False, weight_decay=0.1),
       dict(momentum=0.9, dampening=0.0, nesterov=True, weight_decay=0.0),
       dict(momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.1)]

# The shapes of the brief: (shape, dynamic dims).
SHAPES = [((129,), (False,)),
          ((7, 129), (False, False)),
          ((3, 256), (False, False)),
          ((5, 160), (True, False)),
          ((2, 3, 40), (True, False, False))]


def q(bits, granularity, group_size=128, scale="absmax", levels="int",
      rotation="none", block=128):
    return H.full_q(dict(bits=bits, granularity=granularity,
                         group_size=group_size, scale=scale, levels=levels,
                         rotation=rotation, block=block))


# Per function, per shape: quantizer, coupling, error. Across the two
# functions of an optimizer every shape sees both couplings and both error
# modes, and every function has the four combinations, and tensor, row and
# group granularity.
PLANS = [
    [(q(4, "tensor"), "decoupled", "keep"),
     (q(4, "row", scale="rms_gaussian"), "coupled", "zero_clipped"),
     (q(3, "group", 128, "rms_gaussian", "centered"), "decoupled",
      "zero_clipped"),
     (q(4, "row", levels="centered"), "coupled", "keep"),
     (q(2, "group", 8), "coupled", "zero_clipped")],
    [(q(3, "row", levels="centered"), "coupled", "zero_clipped"),
     (q(8, "tensor", scale="rms_gaussian"), "decoupled", "keep"),
     (q(4, "group", 128, "rms_gaussian"), "coupled", "keep"),
     (q(4, "group", 32), "decoupled", "zero_clipped"),
     (q(4, "tensor"), "decoupled", "keep")],
]
LRS = [1e-3, 1e-2, 0.1, 3e-4, 3e-3]
LAMS = [2.5, 10.0, 0.5, 1.0, 5.0]

FUNCTIONS = []  # what gen made, for the roles written beside cases.json


def family(rng):
    fns = []
    for which, opts in (("adamw", ADAMW), ("sgd", SGD)):
        for f, plan in enumerate(PLANS):
            fn = H.Function(f"{which}_{'ab'[f]}", variants=variants_of(CHAINS))
            for j, ((shape, dyn), (p, coupling, error)) in enumerate(
                    zip(SHAPES, plan)):
                o = opts[(f * len(SHAPES) + j) % len(opts)]
                fn.add(Bf16Update(which, o, p, error, coupling, shape, dyn,
                                  LRS[(f + j) % len(LRS)],
                                  LAMS[(2 * f + j) % len(LAMS)]))
            fns.append(fn)
    fn = H.Function("special", variants=variants_of(CHAINS))
    fn.add(Bf16Update("adamw", ADAMW[1], q(4, "tensor"), "keep", "coupled",
                      (256,), (False,), 1e-3, 2.5, special=True))
    fn.add(Bf16Update("sgd", SGD[1], q(4, "row"), "zero_clipped", "decoupled",
                      (256,), (True,), 1e-2, 2.5, special=True))
    fns.append(fn)
    fn = H.Function("large", variants=variants_of(LARGE_CHAINS))
    fn.add(Bf16Update("adamw", ADAMW[0], q(4, "row"), "keep", "coupled",
                      (256, 1024), (False, False), 1e-3, 2.5))
    fn.add(Bf16Update("sgd", SGD[1], q(4, "group", 128), "zero_clipped",
                      "decoupled", (256, 1024), (True, False), 1e-2, 2.5))
    fns.append(fn)
    FUNCTIONS[:] = fns
    return fns


H.FAMILIES[FAMILY] = family
# The AOT glue learns the i16 descriptors.
H.C_ELEMENTS["i16"] = "NpyInt16"


def gen(d, lib):
    H.gen(FAMILY, d, lib)
    roles = {}
    for fn in FUNCTIONS:
        results = [None] * len(fn.results)
        for op in fn.ops:
            for i, role in zip(op.outs, op.roles):
                results[i] = dict(role=role, op=op.index, which=op.which)
        roles[fn.name] = dict(
            results=results,
            variants=[dict(chain=c.name, step=s) for c, s in fn.variants])
    with open(os.path.join(d, "roles.json"), "w") as f:
        json.dump(roles, f, indent=1)


# ---------------------------------------------------------------------------
# check.
# ---------------------------------------------------------------------------


class Checker:
    def __init__(self, d):
        self.d = d
        with open(os.path.join(d, "cases.json")) as f:
            self.cases = json.load(f)
        with open(os.path.join(d, "roles.json")) as f:
            self.roles = json.load(f)
        self.failures = 0

    def fail(self, message):
        self.failures += 1
        print(f"FAIL {message}")

    def role_of(self, run, o):
        entry = self.roles[run["entry"]]
        v = int(run["run"].rsplit(".", 1)[1])
        return entry["results"][o["index"]], entry["variants"][v]

    def load(self, backend, run, index):
        path = os.path.join(self.d, backend, f"{run['run']}.r{index}.npy")
        return np.load(path) if os.path.exists(path) else None

    def backend(self, b):
        counts = dict(state=0, w=0, f32=0, equal=0)
        runs = {}
        for run in self.cases["runs"]:
            error = os.path.join(self.d, b, run["run"] + ".error")
            if os.path.exists(error):
                text = open(error).read().strip().splitlines()
                self.fail(f"{b} {run['run']}: the call failed: "
                          f"{text[0] if text else '?'}")
                continue
            runs[run["run"]] = run
            for o in run["outputs"]:
                (role, variant) = self.role_of(run, o)
                label = (f"{b} {run['run']} result {o['index']} "
                         f"({role['role']} of {o['what']}, {o['type']})")
                got = self.load(b, run, o["index"])
                want = np.load(os.path.join(self.d, "ref", o["file"]))
                if got is None:
                    self.fail(f"{label}: no output")
                    continue
                if want.dtype == np.int16:
                    if got.dtype != want.dtype or got.shape != want.shape:
                        self.fail(f"{label}: got {got.dtype}{list(got.shape)}"
                                  f", expected {want.dtype}{list(want.shape)}")
                        continue
                    differ = got != want
                    if differ.any():
                        i = int(np.argmax(differ.reshape(-1)))
                        gb = int(got.reshape(-1)[i]) & 0xFFFF
                        wb = int(want.reshape(-1)[i]) & 0xFFFF
                        self.fail(f"{label}: {int(differ.sum())} of "
                                  f"{want.size} bf16 values differ; first at "
                                  f"flat {i}: got {gb:#06x}, expected "
                                  f"{wb:#06x}")
                        continue
                    counts["state"] += 1
                    continue
                message = H.compare(got, want)
                if message:
                    self.fail(f"{label}: {message}")
                    continue
                counts["w" if role["role"] == "w" else "f32"] += 1
            for a, e, _ in run["equal"]:
                pa, pe = (os.path.join(self.d, b, x) for x in (a, e))
                if not (os.path.exists(pa) and os.path.exists(pe)):
                    continue
                message = H.compare(np.load(pa), np.load(pe))
                if message:
                    self.fail(f"{b} {run['run']}: the bf16 step's w is not "
                              f"the f32 step's on the loaded state: "
                              f"{message}")
                else:
                    counts["equal"] += 1
        print(f"{b}: bf16 state: {counts['state']} outputs bit-exact")
        print(f"{b}: w: {counts['w']} outputs bit-exact")
        print(f"{b}: f32 step on the loaded state: {counts['f32']} outputs "
              f"bit-exact")
        print(f"{b}: w of the bf16 step equal to the f32 step's: "
              f"{counts['equal']} checked")
        self.small_seeds(b, runs)
        self.stochastic(b, runs)

    def small_seeds(self, b, runs):
        """s1 and s2 at step 1: the same inputs, other seeds."""
        differ = total = tensors = 0
        for run in runs.values():
            entry = self.roles[run["entry"]]
            v = int(run["run"].rsplit(".", 1)[1])
            variant = entry["variants"][v]
            if variant["chain"] != "s1" or variant["step"] != 1:
                continue
            other = next((r for r in runs.values() if r["entry"] ==
                          run["entry"] and entry["variants"][int(
                              r["run"].rsplit(".", 1)[1])] ==
                          dict(chain="s2", step=1)), None)
            if other is None:
                continue
            for i, role in enumerate(entry["results"]):
                if role["role"] not in ("m", "v", "b"):
                    continue
                x, y = self.load(b, run, i), self.load(b, other, i)
                if x is None or y is None:
                    continue
                tensors += 1
                total += x.size
                differ += int((x != y).sum())
        print(f"{b}: seeds t and {SEED_B:#x} ^ t at step 1, the same inputs: "
              f"{'different' if differ else 'SAME'} stored states "
              f"({differ} of {total} values in {tensors} tensors)")
        if not differ:
            self.fail(f"{b}: two seeds gave the same stored state")

    def within(self, b, what, observed, mean, var):
        sigma = math.sqrt(var) if var > 0 else 0.0
        z = (observed - mean) / sigma if sigma else (
            0.0 if observed == mean else math.inf)
        ok = abs(z) <= SIGMAS
        if not ok:
            self.fail(f"{b}: {what}: {observed}, expected {mean:.1f} +- "
                      f"{sigma:.1f} (z = {z:.2f})")
        return ok, z

    def stochastic(self, b, runs):
        large = {}
        entry = self.roles.get("large")
        if not entry:
            return
        for run in runs.values():
            if run["entry"] != "large":
                continue
            v = int(run["run"].rsplit(".", 1)[1])
            large[entry["variants"][v]["chain"]] = run
        checks = bins_ok = words_ok = 0
        detail = []
        stored_by_seed = {}
        for chain, run in sorted(large.items()):
            ups = {}
            for i, role in enumerate(entry["results"]):
                name = role["role"]
                if name not in ("m", "v", "b"):
                    continue
                j = next(k for k, r in enumerate(entry["results"]) if
                         r["op"] == role["op"] and r["role"] == name + ".f32")
                h = self.load(b, run, i)
                x = self.load(b, run, j)
                if h is None or x is None:
                    continue
                h = h.view(np.uint16).reshape(-1).astype(np.int64)
                bits = x.reshape(-1).view(np.uint32).astype(np.int64)
                trunc, lo = bits >> 16, bits & 0xFFFF
                up = h == trunc + 1
                bad = ~((h == trunc) | (up & (lo != 0)))
                if bad.any():
                    k = int(np.argmax(bad))
                    self.fail(f"{b} {run['run']} {name}: {int(bad.sum())} "
                              f"stored values are neither the truncation nor "
                              f"the next bf16 of the f32 value; first at {k}: "
                              f"{int(h[k]):#06x} for {int(bits[k]):#010x}")
                    continue
                p = lo / 65536.0
                ok, z = self.within(b, f"{run['run']} {name}: rounded up",
                                    int(up.sum()), float(p.sum()),
                                    float((p * (1 - p)).sum()))
                checks += ok
                detail.append(f"{b}: {chain} {name}: {int(up.sum())} of "
                              f"{up.size} rounded up, expected "
                              f"{p.sum():.1f} (z = {z:+.2f}); round to "
                              f"nearest would give "
                              f"{int((lo > 0x8000).sum())}")
                for k in range(BINS):
                    sel = (lo >> 13) == k
                    ok, _ = self.within(b, f"{run['run']} {name}: rounded up "
                                        f"in bin {k} of lo",
                                        int(up[sel].sum()),
                                        float(p[sel].sum()),
                                        float((p[sel] * (1 - p[sel])).sum()))
                    bins_ok += ok
                # Elements 4k .. 4k + 3 share a Philox call (words 0 .. 3):
                # 4k and 4k + 1, 4k + 2 and 4k + 3 (disjoint pairs) round up
                # together as often as independent bits would have them.
                u4, p4 = up.reshape(-1, 4), p.reshape(-1, 4)
                both = int((u4[:, 0] & u4[:, 1]).sum() +
                           (u4[:, 2] & u4[:, 3]).sum())
                pb = np.concatenate([p4[:, 0] * p4[:, 1],
                                     p4[:, 2] * p4[:, 3]])
                ok, z = self.within(b, f"{run['run']} {name}: neighbours in "
                                    f"one Philox call rounded up together",
                                    both, float(pb.sum()),
                                    float((pb * (1 - pb)).sum()))
                words_ok += ok
                detail.append(f"{b}: {chain} {name}: {both} pairs of "
                              f"neighbours in one call rounded up together, "
                              f"independent words expect {pb.sum():.1f} "
                              f"(z = {z:+.2f})")
                ups[(role["op"], name)] = (up, p)
                stored_by_seed.setdefault(chain, {})[(role["op"], name)] = (
                    h, bits, p)
            for (op, name), (up, p) in ups.items():
                if name != "m" or (op, "v") not in ups:
                    continue
                upv, pv = ups[(op, "v")]
                both, pb = up & upv, p * pv
                ok, z = self.within(b, f"{run['run']}: m and v rounded up "
                                    f"together", int(both.sum()),
                                    float(pb.sum()),
                                    float((pb * (1 - pb)).sum()))
                checks += ok
                detail.append(f"{b}: {chain} m and v: {int(both.sum())} "
                              f"rounded up together (the low and high halves "
                              f"of one word), independent bits expect "
                              f"{pb.sum():.1f} (z = {z:+.2f})")
        seeds_ok = 0
        if len(stored_by_seed) == 2:
            one, two = (stored_by_seed[k] for k in sorted(stored_by_seed))
            for key in sorted(one):
                h1, x1, p = one[key]
                h2, x2, _ = two[key]
                if not np.array_equal(x1, x2):
                    self.fail(f"{b}: the f32 step differs between the seeds "
                              f"({key})")
                    continue
                q2 = 2 * p * (1 - p)
                d = int((h1 != h2).sum())
                ok, z = self.within(b, f"seeds 1 and 2 {key}: stored values "
                                    f"that differ", d, float(q2.sum()),
                                    float((q2 * (1 - q2)).sum()))
                seeds_ok += ok and d > 0
                detail.append(f"{b}: seeds 1 and 2, op {key[0]} {key[1]}: "
                              f"{d} of {h1.size} stored values differ, "
                              f"expected {q2.sum():.1f} (z = {z:+.2f})")
        for line in detail:
            print(line)
        print(f"{b}: stochastic rounding within {SIGMAS:g} sigma: {checks} "
              f"totals, {bins_ok} bins of lo, {words_ok} tensors of words "
              f"shared by neighbours, {seeds_ok} seed pairs")

    def run(self, backends):
        c = self.cases
        print(f"{c['family']}: {c['functions']} functions, {c['ops']} ops, "
              f"{len(c['runs'])} runs")
        for b in backends:
            self.backend(b)
        s = c["stats"]
        print(f"updates: lambda = 0: {s['lam_zero']} (the reference's plain "
              f"bf16 step in value: {s['lam0_plain']}, "
              f"{s['lam0_signed_zeros']} zeros of the other sign), "
              f"lambda > 0: {s['lam_positive']} ({s['corrected']} of them "
              f"change w)")
        print(f"clipped elements under error = zero_clipped: {s['zeroed']}")
        print(f"failures: {self.failures}")
        return 1 if self.failures else 0


def main(argv):
    if len(argv) == 3 and argv[0] == "gen":
        gen(argv[1], argv[2])
        return 0
    if len(argv) == 3 and argv[0] == "driver":
        H.driver(argv[1], argv[2])
        return 0
    if len(argv) >= 3 and argv[0] == "jit":
        H.jit(argv[1], argv[2], argv[3:])
        return 0
    if len(argv) >= 2 and argv[0] == "check":
        return Checker(argv[1]).run(argv[2:] or ("jit", "aot"))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
