"""CPU integration tests: every cage op in every mode, compiled through
cage-cpu-pipeline, run both by cage-run (JIT) and as an AOT object from
cage-compile linked with a C driver (aot-driver.c), and compared with the C
reference lib/Reference (through test/Reference/Inputs/reference.py).

    harness.py gen FAMILY DIR LIB    write the cases of FAMILY into DIR:
        module.mlir    one public function per case (several ops of one
                       family, on shapes of rank 1 to 3, static, dynamic and
                       mixed);
        in/*.npy       random inputs of every run (a run is one call of one
                       function; some functions are called with several
                       inputs, e.g. lambda = 0 and lambda > 0);
        ref/*.npy      the reference results, computed with LIB
                       (libCageReference.so);
        aot.calls      the calls for the AOT driver; cases.json for the rest.
    harness.py driver HEADER OUT     entries.inc for aot-driver.c: a thunk
                                     per function of the header that
                                     cage-compile wrote (with --target=cuda:
                                     for aot-driver.c built with
                                     -DCAGE_AOT_CUDA, outputs in DIR/gpu)
    harness.py jit DIR CAGE_RUN [FLAG...]  every run through cage-run
                                     (outputs in DIR/jit; FLAGs are passed on)
    harness.py check DIR [BACKEND...]   DIR/jit and DIR/aot (or the backends
                                     named) against DIR/ref

Comparisons.
- Every output of every op (quantize, ste's dx and LSQ d alpha, quant_error,
  lambda_schedule, adamw, sgd, update) against the reference bit for bit:
  the raw float32 bits, signed zeros and NaN payloads told apart. The
  compiled code performs exactly the reference's f32 operations in the
  reference's order (docs/Semantics.md fixes them, Reference.h repeats
  them), and the pipeline allows no FMA contraction (no fast-math flags, no
  vfmadd in the objects; the reference is built with -ffp-contract=off), so
  every sum, product, division and sqrt (IEEE operations, correctly rounded
  in hardware and libm alike) rounds exactly as the reference's does, and
  nothing less is right. That includes AdamW: its bias corrections
  1 - beta^t are computed by binary exponentiation in f64 and rounded once
  to f32 (docs/Semantics.md §1.3), not with powf, so they are the same bits
  on every target, and the optimizers and updates have no tolerance either.
- lambda = 0 (and -0.0): cage.update has no special case for lambda_t = 0
  (docs/Semantics.md §1.3, §3 decision 4): the correction g + 0 * e
  (coupled) or w - (lr * 0) * e (decoupled) is applied as written. The result
  then equals the plain optimizer step in value, except for the sign of zero
  results (-0.0 + 0.0 is +0.0) and NaN in a scale group (or Hadamard block)
  that holds a non-finite w. The inputs here are finite, so: the update that
  the function computes equals, in value, the plain cage.adamw / cage.sgd
  step that the same function computes on the same operands (zeros of
  either sign equal; NaN equal to NaN only where the reference has NaN), and
  so do the reference's own update and plain step (checked by gen); the
  update is also bit for bit the reference's update, like every output.
"""

import json
import os
import re
import subprocess
import sys
import zlib

import numpy as np

# The ctypes bindings of the reference and the numpy helpers of
# test/Reference/Inputs, without leaving bytecode in the source tree.
sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "Reference", "Inputs"))
from numpy_reference import (centered_levels, grid_constants,  # noqa: E402
                             prepare, rnd, ties)
from reference import AdamW, Reference, Sgd, quantizer  # noqa: E402

f32 = np.float32

# ---------------------------------------------------------------------------
# MLIR text.
# ---------------------------------------------------------------------------


def flt(value):
    """An f32 value as an MLIR float literal that parses back to the same
    f32 (9 significant digits round-trip)."""
    return "%.9e" % float(f32(value))


def tensor_type(shape, dyn):
    dims = "".join(("?" if d else str(s)) + "x" for s, d in zip(shape, dyn))
    return f"tensor<{dims}f32>"


def memref_type(shape, dyn):
    return "memref" + tensor_type(shape, dyn)[len("tensor"):]


def quantizer_attr(p):
    parts = [f"bits = {p['bits']}", f"granularity = {p['granularity']}"]
    if p["granularity"] == "group":
        parts.append(f"group_size = {p['group_size']}")
    parts += [f"scale = {p['scale']}", f"levels = {p['levels']}",
              f"rotation = {p['rotation']}"]
    if p["rotation"] == "hadamard":
        parts.append(f"block = {p['block']}")
    parts.append(f"rounding = {p['rounding']}")
    return "#cage.quantizer<" + ", ".join(parts) + ">"


def describe_q(p):
    s = f"b{p['bits']} {p['granularity']}"
    if p["granularity"] == "group":
        s += f"/{p['group_size']}"
    s += f" {p['scale']} {p['levels']}"
    if p["rotation"] == "hadamard":
        s += f" hadamard/{p['block']}"
    if p["rounding"] == "stochastic":
        s += " stochastic"
    return s


class Function:
    """One public function of the module: the ops of one case, each on its
    own arguments, returning all their results. `variants` names the runs
    (one call each) made of it."""

    def __init__(self, name, variants=range(1)):
        self.name = name
        self.params = []
        self.lines = []
        self.results = []
        self.ops = []
        self.variants = list(variants)

    def param(self, mlir_type):
        self.params.append(mlir_type)
        return len(self.params) - 1

    def result(self, value, mlir_type):
        self.results.append((value, mlir_type))
        return len(self.results) - 1

    def add(self, op):
        op.index = len(self.ops)
        self.ops.append(op)
        op.emit(self)
        return op

    def text(self):
        args = ", ".join(f"%a{i}: {t}" for i, t in enumerate(self.params))
        types = ", ".join(t for _, t in self.results)
        values = ", ".join(v for v, _ in self.results)
        sig = f"({types})" if len(self.results) != 1 else types
        head = f"func.func @{self.name}({args})"
        if self.results:
            head += f" -> {sig}"
        body = "".join(f"  {line}\n" for line in self.lines)
        ret = (f"  return {values} : {types}\n" if self.results
               else "  return\n")
        return head + " {\n" + body + ret + "}\n"


class Op:
    """One op of a function. emit() declares its arguments (self.args:
    parameter indices), writes its body and declares its results
    (self.outs: result indices; self.inplace: parameter indices that the
    function updates in place). inputs() makes its argument values for a
    variant; expect() gives the reference value of each result (and of each
    in-place argument), which the compiled result must match bit for
    bit."""

    inplace = ()

    def emit(self, fn):
        raise NotImplementedError

    def equal_pairs(self, variant):
        """Pairs (update result, plain step result) of result indices that
        must be equal in value (lambda = 0, docs/Semantics.md §1.3)."""
        return []


# ---------------------------------------------------------------------------
# Random data.
# ---------------------------------------------------------------------------


def make_x(rng, shape):
    """Normal values at one of five scales (subnormal to 1e30 included)
    mixed with multiples of powers of two (exact ties of round half to even
    under power-of-two steps) and zeros of both signs; sometimes a whole row
    of zeros (the 1e-8 floor of alpha)."""
    x = rng.standard_normal(shape) * rng.choice([0.01, 1.0, 30.0, 3e-39, 1e30])
    nice = rng.integers(-40, 41, shape) * 0.5 * 2.0 ** int(rng.integers(-3, 2))
    x = np.where(rng.random(shape) < 0.3, nice, x).astype(f32)
    zeros = rng.random(shape) < 0.03
    x[zeros] = np.where(rng.random(int(zeros.sum())) < 0.5, f32(0), f32(-0.0))
    if len(shape) >= 2 and rng.random() < 0.25:
        x.reshape(-1, shape[-1])[0] = f32(-0.0)
    return x


def make_alpha(rng, p, alpha_shape):
    """Operand clip values: qmax * 2^k (int) or (2^b - 1)/2 * 2^k (centered),
    which make the step a power of two so that the nice inputs fall on exact
    ties, or random ones; small enough that some elements clip."""
    count = int(np.prod(alpha_shape, dtype=np.int64))
    qmax = 2 ** (p["bits"] - 1) - 1
    base = (2 ** p["bits"] - 1) / 2 if p["levels"] == "centered" else qmax
    nice = base * 2.0 ** rng.integers(-3, 3, count)
    random = rng.random(count) * 3 + 0.05
    alpha = np.where(rng.random(count) < 0.5, nice, random).astype(f32)
    return alpha.reshape(alpha_shape)


def alpha_shape(p, shape):
    if p["granularity"] == "tensor":
        return ()
    if p["granularity"] == "row":
        return tuple(shape[:-1])
    return tuple(shape[:-1]) + (shape[-1] // p["group_size"],)


def alpha_dyn(p, dyn):
    if p["granularity"] == "tensor":
        return ()
    if p["granularity"] == "row":
        return tuple(dyn[:-1])
    return tuple(dyn[:-1]) + (dyn[-1],)


LEADING = {1: [()], 2: [(1,), (7,), (129,), (3,), (33,)],
           3: [(2, 3), (3, 5), (1, 7), (5, 1), (2, 1)]}
INNER = [1, 7, 129, 1000, 17, 33, 3, 100, 5003]
MAX_ELEMENTS = 40000


def make_shape(rng, rank, divisor=1):
    """A shape of this rank whose innermost dimension the divisor divides,
    an odd multiple of it where possible (so not a multiple of the vector
    width of 16 unless the divisor is)."""
    if divisor == 1:
        inner = INNER
    else:
        inner = [divisor * k for k in (1, 3, 5, 7, 9, 13, 125)
                 if divisor * k <= 4096]
    while True:
        shape = tuple(LEADING[rank][rng.integers(len(LEADING[rank]))]) + (
            int(inner[rng.integers(len(inner))]),)
        if np.prod(shape) <= MAX_ELEMENTS:
            return shape


def make_dyn(rng, rank, pattern):
    if pattern == "static":
        return (False,) * rank
    if pattern == "dynamic":
        return (True,) * rank
    dyn = tuple(bool(b) for b in rng.random(rank) < 0.5)
    if rank > 1 and (all(dyn) or not any(dyn)):
        dyn = (True,) + (False,) * (rank - 1) if all(dyn) else \
            (False,) * (rank - 1) + (True,)
    return dyn


PATTERNS = ["static", "dynamic", "mixed", "mixed"]
RANKS = [1, 2, 3, 2]


def layouts(rng, count, divisors, k):
    """(shape, dyn) for the `count` ops of function k: ranks 1, 2, 3, 2
    (continued from function to function when count < 4); static, dynamic
    and mixed types, rotating with k so that every rank comes in every
    kind."""
    out = []
    for j in range(count):
        rank = RANKS[(j + k * count) % len(RANKS)]
        pattern = PATTERNS[(j + k) % len(PATTERNS)]
        shape = make_shape(rng, rank, divisors[j])
        out.append((shape, make_dyn(rng, rank, pattern)))
    return out


def seed_value(seed):
    """A u64 seed as the i64 the op takes (same bits)."""
    return np.array([seed], np.uint64).view(np.int64)[0]


# ---------------------------------------------------------------------------
# Quantizer ops.
# ---------------------------------------------------------------------------


class Quantize(Op):
    def __init__(self, p, shape, dyn, seed=0):
        self.p, self.shape, self.dyn, self.seed = p, shape, dyn, seed

    def emit(self, fn):
        t = tensor_type(self.shape, self.dyn)
        x = fn.param(t)
        self.args = [x]
        operands = f"%a{x}"
        types = t
        if self.p["rounding"] == "stochastic":
            s = fn.param("i64")
            self.args.append(s)
            operands += f" seed(%a{s})"
        if self.p["scale"] == "operand":
            at = tensor_type(alpha_shape(self.p, self.shape),
                             alpha_dyn(self.p, self.dyn))
            a = fn.param(at)
            self.args.append(a)
            operands += f" scale(%a{a})"
            types += f", {at}"
        name = f"%q{self.index}"
        fn.lines.append(f"{name} = cage.quantize {operands} "
                        f"{{quantizer = {quantizer_attr(self.p)}}} : {types}")
        self.outs = [fn.result(name, t)]

    def inputs(self, rng, variant):
        values = [make_x(rng, self.shape)]
        if self.p["rounding"] == "stochastic":
            values.append(seed_value(self.seed))
        if self.p["scale"] == "operand":
            values.append(make_alpha(rng, self.p,
                                     alpha_shape(self.p, self.shape)))
        return values

    def alpha_of(self, values):
        return values[-1] if self.p["scale"] == "operand" else None

    def expect(self, ref, values, stats):
        q = quantizer(**self.p)
        alpha = self.alpha_of(values)
        stats.quantizer(ref, self.p, values[0], alpha)
        return [ref.quantize(q, values[0], alpha, self.seed)]

    def describe(self):
        stochastic = self.p["rounding"] == "stochastic"
        seed = f" seed {self.seed:#x}" if stochastic else ""
        return f"quantize {describe_q(self.p)}{seed}"


class ClampQuantize(Quantize):
    """cage.quantize, centered grid, stochastic rounding, operand scales, on
    x = -alpha, where y = -alpha / step + 1/2 rounds in f32 to an ulp below
    the lowest level index 1 - 2^(b-1), so that rnd(y) goes one level below
    the grid when u >= frac(y) (with the probability of an ulp of y): the
    level index is clamped back onto the grid (docs/Semantics.md §1.1). The
    cases of test/Reference/numpy_quantizer.py: 4 bits, alpha 9.127556, seed
    5985477, where u(seed, 0) rounds down out of the grid; and 8 bits, 64
    rows of 16384 elements at -alpha under one seed."""

    def __init__(self, bits, granularity, alpha, n, seed, dyn):
        p = dict(bits=bits, granularity=granularity, group_size=128,
                 scale="operand", levels="centered", rotation="none",
                 block=128, rounding="stochastic")
        shape = (n,) if granularity == "tensor" else (len(alpha), n)
        super().__init__(p, shape, dyn, seed)
        self.alpha = np.asarray(alpha, f32)

    def inputs(self, rng, variant):
        x = np.broadcast_to(-self.alpha.reshape(-1, 1),
                            (self.alpha.size, self.shape[-1]))
        x = np.ascontiguousarray(x).reshape(self.shape)
        alpha = self.alpha.reshape(alpha_shape(self.p, self.shape))
        return [x, seed_value(self.seed), alpha]

    def expect(self, ref, values, stats):
        x, alpha = values[0], values[-1].reshape(-1)
        _, _, steps = grid_constants(self.p)
        a = alpha[:, None]
        y = np.minimum(np.maximum(x.reshape(len(alpha), -1), -a), a) / (
            (f32(2) * a) / steps) + f32(0.5)
        levels = rnd(y, self.p, self.seed)
        stats.counts["level_clamped"] += int(np.count_nonzero(
            levels < centered_levels(self.p)[0]))
        return super().expect(ref, values, stats)


def clamp_function():
    fn = Function("quantize_centered_clamp")
    fn.add(ClampQuantize(4, "tensor", [9.127556], 7, 5985477, (False,)))
    candidates = (np.random.default_rng(3).random(4096) * 10 +
                  0.01).astype(f32)
    _, _, steps = grid_constants(dict(bits=8))
    y = -candidates / ((f32(2) * candidates) / steps) + f32(0.5)
    alphas = candidates[y < centered_levels(dict(bits=8))[0]][:64]
    fn.add(ClampQuantize(8, "row", alphas, 16384, 0x5DEECE66D, (True, False)))
    return fn


class Ste(Op):
    def __init__(self, p, estimator, shape, dyn):
        self.p, self.estimator, self.shape, self.dyn = p, estimator, shape, dyn

    def emit(self, fn):
        t = tensor_type(self.shape, self.dyn)
        dy, x = fn.param(t), fn.param(t)
        self.args = [dy, x]
        operands, types = f"%a{dy}, %a{x}", t
        operand = self.p["scale"] == "operand"
        if operand:
            at = tensor_type(alpha_shape(self.p, self.shape),
                             alpha_dyn(self.p, self.dyn))
            a = fn.param(at)
            self.args.append(a)
            operands += f" scale(%a{a})"
            types += f", {at}"
        k = self.index
        names = f"%dx{k}, %da{k}" if operand else f"%dx{k}"
        fn.lines.append(f"{names} = cage.ste {operands} {{quantizer = "
                        f"{quantizer_attr(self.p)}, estimator = "
                        f"{self.estimator}}} : {types}")
        self.outs = [fn.result(f"%dx{k}", t)]
        if operand:
            self.outs.append(fn.result(f"%da{k}", at))

    def inputs(self, rng, variant):
        dy = rng.standard_normal(self.shape).astype(f32)
        dy[rng.random(self.shape) < 0.03] = f32(-0.0)
        values = [dy, make_x(rng, self.shape)]
        if self.p["scale"] == "operand":
            values.append(make_alpha(rng, self.p,
                                     alpha_shape(self.p, self.shape)))
        return values

    def expect(self, ref, values, stats):
        alpha = values[2] if len(values) > 2 else None
        stats.quantizer(ref, self.p, values[1], alpha)
        dx, da = ref.ste(quantizer(**self.p), self.estimator, values[0],
                         values[1], alpha)
        return [dx] if alpha is None else [dx, da]

    def describe(self):
        return f"ste {self.estimator} {describe_q(self.p)}"


class QuantError(Op):
    def __init__(self, p, error, shape, dyn):
        self.p, self.error, self.shape, self.dyn = p, error, shape, dyn

    def emit(self, fn):
        t = tensor_type(self.shape, self.dyn)
        w = fn.param(t)
        self.args = [w]
        name = f"%e{self.index}"
        fn.lines.append(f"{name} = cage.quant_error %a{w} {{quantizer = "
                        f"{quantizer_attr(self.p)}, error = {self.error}}} "
                        f": {t}")
        self.outs = [fn.result(name, t)]

    def inputs(self, rng, variant):
        return [make_x(rng, self.shape)]

    def expect(self, ref, values, stats):
        clipped = stats.quantizer(ref, self.p, values[0], None)
        if self.error == "zero_clipped":
            stats.counts["zeroed"] += clipped
        return [ref.quant_error(quantizer(**self.p), values[0], self.error)]

    def describe(self):
        return f"quant_error {self.error} {describe_q(self.p)}"


class Schedule(Op):
    """cage.lambda_schedule on (t, T) arguments, one pair per variant; or on
    constants (steps given, no arguments)."""

    def __init__(self, kind, lam, silence, steps, constant=False):
        self.kind, self.lam, self.silence = kind, lam, silence
        self.steps, self.constant = steps, constant

    def emit(self, fn):
        k = self.index
        if self.constant:
            t, total = self.steps[0]
            fn.lines.append(f"%t{k} = arith.constant {t} : i64")
            fn.lines.append(f"%T{k} = arith.constant {total} : i64")
            operands = f"%t{k}, %T{k}"
            self.args = []
        else:
            self.args = [fn.param("i64"), fn.param("i64")]
            operands = f"%a{self.args[0]}, %a{self.args[1]}"
        fn.lines.append(f"%l{k} = cage.lambda_schedule {operands} {{lambda = "
                        f"{flt(self.lam)} : f32, silence = "
                        f"{flt(self.silence)} : f32, kind = {self.kind}}}")
        self.outs = [fn.result(f"%l{k}", "f32")]

    def inputs(self, rng, variant):
        if self.constant:
            return []
        t, total = self.steps[variant]
        self.current = (t, total)
        return [np.int64(t), np.int64(total)]

    def expect(self, ref, values, stats):
        t, total = self.steps[0] if self.constant else self.current
        stats.schedule(self.silence, t, total)
        return [np.array(ref.schedule(self.kind, self.lam, self.silence, t,
                                      total), f32)]

    def describe(self):
        constant = " (constants)" if self.constant else ""
        return (f"lambda_schedule {self.kind} lambda {self.lam} "
                f"s {self.silence}{constant}")


# ---------------------------------------------------------------------------
# Optimizers.
# ---------------------------------------------------------------------------


def adamw_attrs(o):
    return ", ".join(f"{k} = {flt(o[k])} : f32" for k in
                     ("beta1", "beta2", "eps", "weight_decay"))


def sgd_attrs(o):
    return (f"momentum = {flt(o['momentum'])} : f32, dampening = "
            f"{flt(o['dampening'])} : f32, nesterov = "
            f"{'true' if o['nesterov'] else 'false'}, weight_decay = "
            f"{flt(o['weight_decay'])} : f32")


def adamw_param(o):
    return "#cage.adamw<" + ", ".join(
        f"{k} = {flt(o[k])}" for k in ("beta1", "beta2", "eps",
                                       "weight_decay")) + ">"


def sgd_param(o):
    return (f"#cage.sgd<momentum = {flt(o['momentum'])}, dampening = "
            f"{flt(o['dampening'])}, nesterov = "
            f"{'true' if o['nesterov'] else 'false'}, weight_decay = "
            f"{flt(o['weight_decay'])}>")


def ref_adamw(o):
    return AdamW(o["beta1"], o["beta2"], o["eps"], o["weight_decay"])


def ref_sgd(o):
    return Sgd(o["momentum"], o["dampening"], o["nesterov"], o["weight_decay"])


def optimizer_state(rng, shape, which):
    """w, g and the state: weights of order 1 and gradients of order 0.1,
    with zeros of both signs (-0.0 meeting a correction g + 0 * e or
    w - 0 * e is where lambda = 0 differs from the plain step in the sign
    of a zero); AdamW's m of order 0.01 and
    v = m^2 * [1, 4) + noise, as a real Adam state has them (|m| of the order
    of sqrt(v), so that |m_hat| / sqrt(v_hat) stays small), and a fresh state
    m = v = 0 for some elements; SGD's momentum buffer of order 0.1."""
    w = rng.standard_normal(shape).astype(f32)
    zeros = rng.random(shape) < 0.04
    w[zeros] = np.where(rng.random(int(zeros.sum())) < 0.5, f32(0), f32(-0.0))
    g = (rng.standard_normal(shape) * 0.1).astype(f32)
    zeros = rng.random(shape) < 0.05
    g[zeros] = np.where(rng.random(int(zeros.sum())) < 0.5, f32(0), f32(-0.0))
    if which == "adamw":
        m = rng.standard_normal(shape) * 0.01
        v = m * m * (1 + 3 * rng.random(shape)) + \
            np.abs(rng.standard_normal(shape)) * 1e-6
        fresh = rng.random(shape) < 0.02
        m[fresh], v[fresh] = 0, 0
        return [w, g, m.astype(f32), v.astype(f32)]
    b = (rng.standard_normal(shape) * 0.1).astype(f32)
    return [w, g, b]


def tensor_views(fn, k, names, mt, t):
    """bufferization.to_tensor views of memref arguments: restrict, and
    writable except for g (the second)."""
    views = []
    for i, name in enumerate(names):
        mode = "" if i == 1 else " writable"
        fn.lines.append(f"%in{k}_{i} = bufferization.to_tensor {name} "
                        f"restrict{mode} : {mt} to {t}")
        views.append(f"%in{k}_{i}")
    return views


def write_back(fn, values, dests, t, mt):
    """Each new value into its own buffer (the in-place update)."""
    for value, dest in zip(values, dests):
        fn.lines.append(f"bufferization.materialize_in_destination {value} "
                        f"in restrict writable %a{dest} : ({t}, {mt}) -> ()")


class Optimizer(Op):
    """cage.adamw or cage.sgd on tensors, or (dps = True) in place on memrefs
    with bufferization.to_tensor / materialize_in_destination."""

    def __init__(self, which, o, shape, dyn, steps, dps=False):
        self.which, self.o, self.shape, self.dyn = which, o, shape, dyn
        self.steps, self.dps = steps, dps  # steps: (lr, t) per variant

    def emit(self, fn):
        t = tensor_type(self.shape, self.dyn)
        mt = memref_type(self.shape, self.dyn)
        n = 4 if self.which == "adamw" else 3
        k = self.index
        tensors = [fn.param(mt if self.dps else t) for _ in range(n)]
        lr = fn.param("f32")
        self.args = tensors + [lr]
        if self.which == "adamw":
            self.args.append(fn.param("i64"))
        names = [f"%a{i}" for i in tensors]
        if self.dps:
            names = tensor_views(fn, k, names, mt, t)
        rs = [f"%r{k}_{i}" for i in range(n - 1)]
        if self.which == "adamw":
            fn.lines.append(f"{', '.join(rs)} = cage.adamw "
                            f"{', '.join(names)}, %a{lr}, %a{self.args[-1]} "
                            f"{{{adamw_attrs(self.o)}}} : {t}")
        else:
            fn.lines.append(f"{', '.join(rs)} = cage.sgd {', '.join(names)}, "
                            f"%a{lr} {{{sgd_attrs(self.o)}}} : {t}")
        if self.dps:
            self.outs = []
            self.inplace = [tensors[0]] + tensors[2:]
            write_back(fn, rs, self.inplace, t, mt)
        else:
            self.outs = [fn.result(r, t) for r in rs]

    def inputs(self, rng, variant):
        lr, step = self.steps[variant]
        values = optimizer_state(rng, self.shape, self.which) + [f32(lr)]
        if self.which == "adamw":
            values.append(np.int64(step))
        return values

    def expect(self, ref, values, stats):
        n = 4 if self.which == "adamw" else 3
        state = [v.copy() for v in values[:n]]
        if self.which == "adamw":
            w, g, m, v = state
            ref.adamw(ref_adamw(self.o), w, g, m, v, float(values[4]),
                      int(values[5]))
            return [w, m, v]
        w, g, b = state
        ref.sgd(ref_sgd(self.o), w, g, b, float(values[3]))
        return [w, b]

    def describe(self):
        return f"{self.which} {self.o}" + (" in place" if self.dps else "")


class Update(Op):
    """cage.update (AdamW or SGD) and, on the same arguments, the plain
    optimizer op; lambda per variant (lambda = 0 variants check that the two
    agree in value, signed zeros aside: docs/Semantics.md §1.3). With
    `schedule`, lambda comes from a cage.lambda_schedule of (t, T) arguments
    instead (in place: no plain step beside it, but the reference's plain
    step is still compared with the reference's update)."""

    def __init__(self, which, o, p, error, coupling, shape, dyn, steps,
                 schedule=None, dps=False):
        self.which, self.o, self.p = which, o, p
        self.error, self.coupling = error, coupling
        self.shape, self.dyn, self.steps = shape, dyn, steps
        self.schedule, self.dps = schedule, dps  # steps: (lr, lam, t[, T])

    def emit(self, fn):
        t = tensor_type(self.shape, self.dyn)
        mt = memref_type(self.shape, self.dyn)
        n = 4 if self.which == "adamw" else 3
        k = self.index
        tensors = [fn.param(mt if self.dps else t) for _ in range(n)]
        lr = fn.param("f32")
        self.args = tensors + [lr]
        if self.schedule:
            step, total = fn.param("i64"), fn.param("i64")
            self.args += [step, total]
            kind, lam, silence = self.schedule
            fn.lines.append(f"%lam{k} = cage.lambda_schedule %a{step}, "
                            f"%a{total} {{lambda = {flt(lam)} : f32, "
                            f"silence = {flt(silence)} : f32, kind = {kind}}}")
            lam_value = f"%lam{k}"
        else:
            lam = fn.param("f32")
            self.args.append(lam)
            lam_value = f"%a{lam}"
            if self.which == "adamw":
                step = fn.param("i64")
                self.args.append(step)
        names = [f"%a{i}" for i in tensors]
        if self.dps:
            names = tensor_views(fn, k, names, mt, t)
        operands = ", ".join(names) + f", %a{lr}, {lam_value}"
        if self.which == "adamw":
            operands += f", %a{step}"
            opt = adamw_param(self.o)
        else:
            opt = sgd_param(self.o)
        rs = [f"%u{k}_{i}" for i in range(n - 1)]
        fn.lines.append(f"{', '.join(rs)} = cage.update {operands} "
                        f"{{quantizer = {quantizer_attr(self.p)}, optimizer = "
                        f"{opt}, coupling = {self.coupling}, error = "
                        f"{self.error}}} : {t}")
        if self.dps:
            self.outs = []
            self.inplace = [tensors[0]] + tensors[2:]
            write_back(fn, rs, self.inplace, t, mt)
            return
        self.outs = [fn.result(r, t) for r in rs]
        # The plain optimizer step on the same operands.
        ps = [f"%p{k}_{i}" for i in range(n - 1)]
        if self.which == "adamw":
            fn.lines.append(f"{', '.join(ps)} = cage.adamw "
                            f"{', '.join(names)}, %a{lr}, %a{step} "
                            f"{{{adamw_attrs(self.o)}}} : {t}")
        else:
            fn.lines.append(f"{', '.join(ps)} = cage.sgd {', '.join(names)}, "
                            f"%a{lr} {{{sgd_attrs(self.o)}}} : {t}")
        self.outs += [fn.result(p, t) for p in ps]

    def inputs(self, rng, variant):
        self.current = self.steps[variant]
        values = optimizer_state(rng, self.shape, self.which)
        values.append(f32(self.current[0]))
        if self.schedule:
            values += [np.int64(self.current[2]), np.int64(self.current[3])]
        else:
            values.append(f32(self.current[1]))
            if self.which == "adamw":
                values.append(np.int64(self.current[2]))
        return values

    def lam(self, ref):
        if self.schedule:
            kind, lam, silence = self.schedule
            return float(ref.schedule(kind, lam, silence, self.current[2],
                                      self.current[3]))
        return float(self.current[1])

    def expect(self, ref, values, stats):
        n = 4 if self.which == "adamw" else 3
        lr, lam = float(self.current[0]), self.lam(ref)
        q = quantizer(**self.p)
        clipped = stats.quantizer(ref, self.p, values[0], None)
        if self.error == "zero_clipped":
            stats.counts["zeroed"] += clipped
        state = [v.copy() for v in values[:n]]
        plain = [v.copy() for v in values[:n]]
        if self.which == "adamw":
            t = int(self.current[2])
            ref.update_adamw(q, self.error, self.coupling, ref_adamw(self.o),
                             *state, lr, lam, t)
            ref.adamw(ref_adamw(self.o), *plain, lr, t)
        else:
            ref.update_sgd(q, self.error, self.coupling, ref_sgd(self.o),
                           *state, lr, lam)
            ref.sgd(ref_sgd(self.o), *plain, lr)
        stats.lam(lam)
        if lam == 0:
            # No special case for lambda_t = 0 (docs/Semantics.md §1.3): the
            # reference's update is its plain step in value; only the sign
            # of a zero may differ (the inputs are finite: no NaN).
            outs = [state[0]] + state[2:]
            for a, b in zip(outs, [plain[0]] + plain[2:]):
                message, zeros = compare_values(a, b, a)
                assert message is None, (
                    f"reference: lambda = 0 is not the plain step in value "
                    f"({self.describe()}): {message}")
                stats.counts["lam0_signed_zeros"] += zeros
            stats.counts["lam0_plain"] += 1
        elif not np.array_equal(state[0].view(np.uint32),
                                plain[0].view(np.uint32)):
            stats.counts["corrected"] += 1
        out = [state[0]] + state[2:]
        if self.dps:
            return out
        return out + [plain[0]] + plain[2:]

    def equal_pairs(self, variant):
        if self.dps or self.steps[variant][1] != 0 or self.schedule:
            return []
        half = len(self.outs) // 2
        return [(self.outs[i], self.outs[half + i]) for i in range(half)]

    def describe(self):
        what = f"schedule {self.schedule}" if self.schedule else ""
        return (f"update {self.which} {self.coupling} {self.error} "
                f"{describe_q(self.p)} {what}"
                + (" in place" if self.dps else ""))


# ---------------------------------------------------------------------------
# The families of cases.
# ---------------------------------------------------------------------------

GRANULARITIES = ["tensor", "row", "group"]
SCALES = ["absmax", "rms_gaussian", "operand"]
LEVELS = ["int", "centered"]
ROTATIONS = ["none", "hadamard"]
# Bits: 2, 4, 8 and one of the others in every function of four ops.
EXTRA_BITS = [3, 5, 6, 7]
# group_size alone; block alone; (group_size, block) pairs with the block
# smaller than, larger than and equal to the group. Large blocks are used
# sparingly: the Hadamard transform's code grows with log2(block), and
# compile time is most of the time these tests take.
GROUPS = [8, 4, 32, 1, 2, 16, 128]
BLOCKS = [4, 16, 2, 32, 8, 128, 64]
GROUP_BLOCKS = [(8, 4), (4, 16), (16, 16), (2, 64), (128, 32), (8, 128),
                (32, 2), (1, 8), (16, 4), (2, 8), (4, 4), (64, 16)]


def quantizer_ops(k, granularity, scale, rotation, rounding, count=4):
    """`count` quantizer parameter sets for function k of a family: the
    levels alternate (int, centered), the bits go through 2, 4, 8 and one
    other, group sizes and blocks through the lists above. Returns the
    parameters and the divisor that the innermost dimension needs."""
    out = []
    bits = [2, 4, 8, EXTRA_BITS[k % 4]]
    for j in range(count):
        i = count * k + j
        p = dict(bits=bits[(j + k // 2) % 4], granularity=granularity,
                 group_size=128, scale=scale, levels=LEVELS[(j + k) % 2],
                 rotation=rotation, block=128, rounding=rounding)
        if granularity == "group" and rotation == "hadamard":
            p["group_size"], p["block"] = GROUP_BLOCKS[i % len(GROUP_BLOCKS)]
        elif granularity == "group":
            p["group_size"] = GROUPS[i % len(GROUPS)]
        elif rotation == "hadamard":
            p["block"] = BLOCKS[i % len(BLOCKS)]
        divisor = max(p["group_size"] if granularity == "group" else 1,
                      p["block"] if rotation == "hadamard" else 1)
        out.append((p, divisor))
    return out


def combos(scales=SCALES):
    for granularity in GRANULARITIES:
        for scale in scales:
            for rotation in ROTATIONS:
                yield granularity, scale, rotation


SEEDS = [0, 1, 0x123456789ABCDEF0, 0xFFFFFFFFFFFFFFFF, 42, 0xDEADBEEF00000000,
         7, 0x00000001FFFFFFFF]


def quantizer_function(rng, name, k, granularity, scale, rotation, rounding,
                       count, make_op):
    fn = Function(name)
    ops = quantizer_ops(k, granularity, scale, rotation, rounding, count)
    for j, ((p, _), (shape, dyn)) in enumerate(
            zip(ops, layouts(rng, count, [d for _, d in ops], k))):
        fn.add(make_op(j, p, shape, dyn))
    return fn


def family_quantize(rng, stochastic=False):
    """Every granularity x scale x rotation, each with both grids (levels
    alternate over the ops of a function) and bits 2, 4, 8 and another;
    stochastic rounding with seeds that differ in both 32-bit halves."""
    rounding = "stochastic" if stochastic else "nearest"
    count = 2 if stochastic else 4
    fns = [quantizer_function(
        rng, f"quantize_{g}_{s}_{r}", k, g, s, r, rounding, count,
        lambda j, p, shape, dyn, k=k: Quantize(
            p, shape, dyn, SEEDS[(count * k + j) % len(SEEDS)]))
        for k, (g, s, r) in enumerate(combos())]
    if stochastic:
        fns.append(clamp_function())
    return fns


def family_ste(rng):
    """As family_quantize, with one op in four the identity estimator (the
    others clipped); cage.ste ignores the rounding mode, which is spelled
    stochastic in a third of the functions."""
    return [quantizer_function(
        rng, f"ste_{g}_{s}_{r}", k, g, s, r,
        "stochastic" if k % 3 == 0 else "nearest", 4,
        lambda j, p, shape, dyn, k=k: Ste(
            p, "identity" if j == k % 4 else "clipped", shape, dyn))
        for k, (g, s, r) in enumerate(combos())]


def family_quant_error(rng):
    """Every granularity x scale (no operand: the op has no scale operand)
    x rotation; the four ops of a function cover int and centered with keep
    and zero_clipped."""
    return [quantizer_function(
        rng, f"quant_error_{g}_{s}_{r}", k, g, s, r, "nearest", 4,
        lambda j, p, shape, dyn: QuantError(
            p, "zero_clipped" if j >= 2 else "keep", shape, dyn))
        for k, (g, s, r) in enumerate(combos(["absmax", "rms_gaussian"]))]


def family_schedule(rng):
    """Every (kind, lambda, s) pair on several (t, T): t around s * T (just
    below, at, just above), at T, beyond T, t <= 0, and huge counts where
    f32(t) and f32(T) round."""
    totals = [1, 10, 100, 1000, 7, 3, (1 << 30) + 1, 10000, (1 << 24) + 1, 5]
    kinds = ["linear_ramp", "constant"]
    lams = [10.0, 0.0, 1e-3, 3.5]
    silences = [0.8, 0.0, 0.5, 0.25, 0.999, 0.1]

    def steps_for(s, total):
        """(t, T) of the 11 variants; st = floor(s * T), where r = s exactly
        when s * T is an integer (r <= s is then silent)."""
        st = int(np.floor(np.float64(f32(s)) * total))
        return [(st - 1, total), (st, total), (st + 1, total), (st + 2, total),
                (total - 1, total), (total, total), (total + 1, total),
                (2 * total + 3, total), (0, total), (-5, total),
                ((1 << 62) + 12345, total)]

    fn = Function("schedule", variants=range(11))
    const = Function("schedule_constants")
    j = 0
    for kind in kinds:
        for lam in lams:
            for s in silences:
                total = totals[j % len(totals)]
                steps = steps_for(s, total)
                fn.add(Schedule(kind, lam, s, steps))
                const.add(Schedule(kind, lam, s, [steps[j % len(steps)]],
                                   constant=True))
                j += 1
    return [fn, const]


ADAMW = [dict(beta1=0.9, beta2=0.95, eps=1e-8, weight_decay=0.1),
         dict(beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.01),
         dict(beta1=0.0, beta2=0.0, eps=1e-6, weight_decay=0.0),
         dict(beta1=0.5, beta2=0.9, eps=1e-3, weight_decay=0.5)]
SGD = [dict(momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0),
       dict(momentum=0.9, dampening=0.0, nesterov=False, weight_decay=0.0),
       dict(momentum=0.9, dampening=0.0, nesterov=True, weight_decay=0.01),
       dict(momentum=0.5, dampening=0.5, nesterov=False, weight_decay=0.1),
       dict(momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.1),
       dict(momentum=0.99, dampening=1.0, nesterov=False, weight_decay=0.0)]
LRS = [1e-3, 1e-2, 0.1, 3e-4]
STEPS = [1, 2, 10, 1000, 123457]


def family_optimizers(rng):
    fns = []
    for k, o in enumerate(ADAMW):
        fn = Function(f"adamw_{k}", variants=range(2))
        for j, (shape, dyn) in enumerate(layouts(rng, 4, [1] * 4, k)):
            steps = [(LRS[(k + j + v) % len(LRS)],
                      STEPS[(k + 2 * j + v) % len(STEPS)]) for v in range(2)]
            fn.add(Optimizer("adamw", o, shape, dyn, steps))
        fns.append(fn)
    for k, o in enumerate(SGD):
        fn = Function(f"sgd_{k}")
        for j, (shape, dyn) in enumerate(layouts(rng, 4, [1] * 4, k)):
            lr = LRS[(k + j) % len(LRS)]
            fn.add(Optimizer("sgd", o, shape, dyn, [(lr, 0)]))
        fns.append(fn)
    # In place on memrefs (the form a training step uses), two runs.
    fn = Function("optimizers_in_place", variants=range(2))
    for j, (shape, dyn) in enumerate(layouts(rng, 4, [1] * 4, 0)):
        fn.add(Optimizer("adamw", ADAMW[j % 2], shape, dyn,
                         [(1e-3, 1), (1e-2, 57)], dps=True))
        fn.add(Optimizer("sgd", SGD[1 + j % 3], shape, dyn,
                         [(1e-2, 0), (0.1, 0)], dps=True))
    fns.append(fn)
    return fns


UPDATE_QUANTIZERS = [
    dict(bits=4, granularity="row", scale="absmax", levels="int",
         rotation="none"),
    dict(bits=3, granularity="group", group_size=8, scale="rms_gaussian",
         levels="centered", rotation="none"),
    dict(bits=2, granularity="tensor", scale="absmax", levels="int",
         rotation="hadamard", block=16),
    dict(bits=8, granularity="group", group_size=4, scale="rms_gaussian",
         levels="int", rotation="hadamard", block=32),
    dict(bits=4, granularity="row", scale="rms_gaussian", levels="int",
         rotation="none"),
]


def full_q(p):
    q = dict(group_size=128, block=128, rounding="nearest")
    q.update(p)
    return q


def divisor_of(q):
    return max(q["group_size"] if q["granularity"] == "group" else 1,
               q["block"] if q["rotation"] == "hadamard" else 1)


def family_update(rng, which):
    fns = []
    opts = ADAMW[:2] + ADAMW[3:] if which == "adamw" else SGD[1:4] + SGD[:1]
    k = 0
    for coupling in ["coupled", "decoupled"]:
        for error in ["keep", "zero_clipped"]:
            # Variant 0: lambda = 0 (and -0.0); variant 1: lambda > 0.
            fn = Function(f"update_{which}_{coupling}_{error}",
                          variants=range(2))
            qs = [full_q(UPDATE_QUANTIZERS[(k + j) % len(UPDATE_QUANTIZERS)])
                  for j in range(4)]
            divisors = [divisor_of(q) for q in qs]
            for j, (shape, dyn) in enumerate(layouts(rng, 4, divisors, k)):
                lr = LRS[(k + j) % len(LRS)]
                lam = [0.5, 2.5, 10.0, 0.1][(k + j) % 4]
                t = STEPS[(k + j) % len(STEPS)]
                zero = -0.0 if j == 3 else 0.0
                fn.add(Update(which, opts[(k + j) % len(opts)], qs[j], error,
                              coupling, shape, dyn,
                              [(lr, zero, t), (lr, lam, t)]))
            fns.append(fn)
            k += 1
    # In place, and lambda from cage.lambda_schedule (t before, around and
    # after s * T).
    fn = Function(f"update_{which}_in_place_scheduled", variants=range(3))
    qs = [full_q(UPDATE_QUANTIZERS[i]) for i in (0, 4, 2, 3)]
    for j, (shape, dyn) in enumerate(
            layouts(rng, 4, [divisor_of(q) for q in qs], 0)):
        q = qs[j]
        coupling = ["coupled", "decoupled"][j % 2]
        error = ["keep", "zero_clipped"][j // 2]
        total = [100, 1000, 7, 10][j]
        steps = [(1e-2, 0, 1, total), (1e-2, 0, int(0.8 * total) + 1, total),
                 (1e-3, 0, total + 5, total)]
        fn.add(Update(which, opts[j % len(opts)], q, error, coupling, shape,
                      dyn, steps, schedule=("linear_ramp", 10.0, 0.8),
                      dps=True))
    fns.append(fn)
    return fns


FAMILIES = {
    "quantize": lambda rng: family_quantize(rng),
    "quantize_stochastic": lambda rng: family_quantize(rng, stochastic=True),
    "ste": family_ste,
    "quant_error": family_quant_error,
    "schedule": family_schedule,
    "optimizers": family_optimizers,
    "update_adamw": lambda rng: family_update(rng, "adamw"),
    "update_sgd": lambda rng: family_update(rng, "sgd"),
}

# ---------------------------------------------------------------------------
# Coverage statistics (printed by check, so that a test can insist that ties
# and clipping actually occurred).
# ---------------------------------------------------------------------------


class Stats:
    def __init__(self):
        self.counts = dict(ties=0, clipped=0, zeroed=0, elements=0, lam_zero=0,
                           lam_positive=0, corrected=0, silent=0, ramp=0,
                           saturated=0, lam0_plain=0, lam0_signed_zeros=0,
                           level_clamped=0)

    def quantizer(self, ref, p, x, alpha):
        flat = None if alpha is None else alpha.reshape(-1)
        xr, a = prepare(dict(p), x, flat)
        self.counts["ties"] += ties(p, xr, a)
        clipped = int(ref.clipped_mask(quantizer(**p), x, alpha).sum())
        self.counts["clipped"] += clipped
        self.counts["elements"] += x.size
        return clipped

    def schedule(self, silence, t, total):
        r = min(f32(t) / f32(total), f32(1))
        key = "silent" if r <= f32(silence) else (
            "saturated" if r >= 1 else "ramp")
        self.counts[key] += 1

    def lam(self, lam):
        self.counts["lam_zero" if lam == 0 else "lam_positive"] += 1


# ---------------------------------------------------------------------------
# Commands.
# ---------------------------------------------------------------------------


def gen(family, d, lib):
    ref = Reference(lib)
    rng = np.random.default_rng(zlib.crc32(family.encode()))
    fns = FAMILIES[family](rng)
    for sub in ("in", "ref", "jit", "aot", "gpu"):
        os.makedirs(os.path.join(d, sub), exist_ok=True)
    # All functions in one module for cage-compile; each in a module of its
    # own for cage-run, which compiles the whole module it is given (the
    # compile time of the module dominates a call).
    os.makedirs(os.path.join(d, "fn"), exist_ok=True)
    with open(os.path.join(d, "module.mlir"), "w") as f:
        f.write(f"// Generated by harness.py gen {family}.\n")
        for fn in fns:
            f.write("\n" + fn.text())
            with open(os.path.join(d, "fn", fn.name + ".mlir"), "w") as one:
                one.write(fn.text())
    stats = Stats()
    runs, calls = [], []
    for fn in fns:
        for v, variant in enumerate(fn.variants):
            run = fn.name if len(fn.variants) == 1 else f"{fn.name}.{v}"
            args = [None] * len(fn.params)
            outputs, equal = [], []
            for op in fn.ops:
                values = op.inputs(rng, variant)
                for i, value in zip(op.args, values):
                    args[i] = value
                expected = op.expect(ref, values, stats)
                targets = [("r", i) for i in op.outs] + \
                    [("a", i) for i in op.inplace]
                for (kind, i), value in zip(targets, expected):
                    name = f"{run}.{kind}{i}.npy"
                    np.save(os.path.join(d, "ref", name), value)
                    outputs.append(dict(file=name, kind=kind, index=i,
                                        what=op.describe(),
                                        type=fn.results[i][1] if kind == "r"
                                        else fn.params[i]))
                for a, b in op.equal_pairs(variant):
                    equal.append((f"{run}.r{a}.npy", f"{run}.r{b}.npy",
                                  op.describe()))
            inputs = []
            for i, value in enumerate(args):
                name = f"{run}.in{i}.npy"
                np.save(os.path.join(d, "in", name), value)
                inputs.append(name)
            runs.append(dict(run=run, entry=fn.name, inputs=inputs,
                             outputs=outputs, equal=equal))
            results = sorted((o for o in outputs if o["kind"] == "r"),
                             key=lambda o: o["index"])
            inplace = [o for o in outputs if o["kind"] == "a"]
            calls.append(" ".join(
                [fn.name] + [f"in/{i}" for i in inputs] + ["->"] +
                [f"aot/{o['file']}" for o in results] +
                [f"{o['index']}=aot/{o['file']}" for o in inplace]))
    with open(os.path.join(d, "aot.calls"), "w") as f:
        f.write("\n".join(calls) + "\n")
    with open(os.path.join(d, "cases.json"), "w") as f:
        json.dump(dict(family=family, runs=runs, stats=stats.counts,
                       functions=len(fns),
                       ops=sum(len(fn.ops) for fn in fns)), f, indent=1)
    print(f"{family}: {len(fns)} functions, "
          f"{sum(len(fn.ops) for fn in fns)} ops, {len(runs)} runs")


# The C glue of one entry point, from its declaration in the header.
C_SCALARS = {"float": ("NpyFloat32", "float"),
             "double": ("NpyFloat64", "double"),
             "int64_t": ("NpyInt64", "int64_t"),
             "int32_t": ("NpyInt32", "int32_t"),
             "bool": ("NpyBool", "bool")}
C_ELEMENTS = {"f32": "NpyFloat32", "f64": "NpyFloat64", "i64": "NpyInt64",
              "i32": "NpyInt32", "i1": "NpyBool"}


def parse_memref(ctype):
    """cage_memref_f32_2d -> ("NpyFloat32", 2), or None."""
    m = re.fullmatch(r"cage_memref_(\w+?)_(\d+)d", ctype)
    return (C_ELEMENTS[m.group(1)], int(m.group(2))) if m else None


def driver(header, out):
    text = open(header).read()
    structs = {}
    for m in re.finditer(r"typedef struct (cage_\w+_results) \{(.*?)\} \1;",
                         text, re.S):
        structs[m.group(1)] = re.findall(r"(\w+) (r\d+);", m.group(2))
    # The GPU's entry points: int32_t cage_cuda_F(void *stream, ...), the
    # arrays in device memory, a status.
    cuda = re.findall(r"^int32_t cage_cuda_(\w+)\(void \*stream, (.*)\);$",
                      text, re.M)
    decls = ([("int32_t", name, params) for name, params in cuda] if cuda else
             re.findall(r"^(\w+) _mlir_ciface_(\w+)\((.*)\);$", text, re.M))
    base = os.path.basename(header)
    lines = [f"/* Generated by harness.py driver from {base}. */",
             f'#include "{base}"', ""]
    table = []
    for ret, name, params in decls:
        params = [p.rsplit(" ", 1) for p in params.split(", ") if p]
        checks, body, call, saves, owned, after = [], [], [], [], [], []
        results = []  # (ctype, expression)
        nargs = 0
        for ctype, pname in params:
            pointer = ctype.endswith(" *") or pname.startswith("*")
            ctype = ctype.rstrip(" *")
            pname = pname.lstrip("*")
            if pname == "result":
                body.append(f"  {ctype} r;")
                call.append("&r")
                if ctype in structs:
                    results += [(t, f"r.{f}") for t, f in structs[ctype]]
                else:
                    results.append((ctype, "r"))
                continue
            k = nargs
            nargs += 1
            if pointer:
                dtype, rank = parse_memref(ctype)
                checks.append(f"want(a, {k}, {dtype}, {rank})")
                data = f"a[{k}].data"
                if cuda:
                    body.append(f"  void *d{k} = NULL;")
                    body.append(f"  if (!upload(&a[{k}], &d{k}))")
                    body.append("    return false;")
                    after.append(f"  ok = download(&a[{k}], d{k}) && ok;")
                    data = f"d{k}"
                if rank:
                    body.append(f"  {ctype} a{k} = {{{data}, {data}, 0, "
                                f"{{0}}, {{0}}}};")
                    body.append(f"  layout(&a[{k}], a{k}.sizes, "
                                f"a{k}.strides);")
                else:
                    body.append(f"  {ctype} a{k} = {{{data}, {data}, 0}};")
                call.append(f"&a{k}")
            else:
                dtype, c = C_SCALARS[ctype]
                checks.append(f"want(a, {k}, {dtype}, 0)")
                body.append(f"  {c} a{k} = *({c} *)a[{k}].data;")
                call.append(f"a{k}")
        if cuda:
            invoke = f"cage_cuda_{name}(NULL, {', '.join(call)})"
            body.append(f"  int32_t status = {invoke};")
            body.append("  bool ok = status == 0;")
            body += after
            body.append(f'  if (status != 0)\n    return failed("{name}", '
                        f'status);')
        else:
            invoke = f"_mlir_ciface_{name}({', '.join(call)})"
            if ret != "void":
                body.append(f"  {ret} r = {invoke};")
                results.append((ret, "r"))
            else:
                body.append(f"  {invoke};")
            body.append("  bool ok = true;")
        save = "SAVE_DEVICE_MEMREF" if cuda else "SAVE_MEMREF"
        for i, (ctype, expr) in enumerate(results):
            memref = parse_memref(ctype)
            if memref:
                dtype, rank = memref
                if rank:
                    saves.append(f"{save}(outs[{i}], {dtype}, {expr}, "
                                 f"{rank})")
                else:
                    saves.append(f"{save}0(outs[{i}], {dtype}, {expr})")
                owned.append(f"{expr}.allocated")
            else:
                saves.append(f"SAVE_SCALAR(outs[{i}], "
                             f"{C_SCALARS[ctype][0]}, &{expr})")
        for s in saves:
            body.append(f"  ok = {s} && ok;")
        if owned:
            body.append(f"  void *owned[] = {{{', '.join(owned)}}};")
            body.append(f"  release(owned, {len(owned)});")
        body.append("  return ok;")
        lines.append(f"static bool call_{name}(NpyArray *a, char **outs) {{")
        if not results:
            lines.append("  (void)outs;")
        if not nargs:
            lines.append("  (void)a;")
        if checks:
            lines.append("  if (!(" + " &&\n        ".join(checks) + "))")
            lines.append("    return false;")
        lines += body
        lines.append("}\n")
        table.append(f'    {{"{name}", call_{name}, {nargs}, '
                     f'{len(results)}}},')
    lines.append("static const Entry entries[] = {")
    lines += table
    lines.append("};")
    with open(out, "w") as f:
        f.write("\n".join(lines) + "\n")


def jit(d, cage_run, flags):
    with open(os.path.join(d, "cases.json")) as f:
        cases = json.load(f)
    out = os.path.join(d, "jit")
    for name in os.listdir(out):
        os.remove(os.path.join(out, name))
    failed = 0
    for run in cases["runs"]:
        module = os.path.join(d, "fn", run["entry"] + ".mlir")
        command = [cage_run, module, "--entry", run["entry"]] + flags
        for name in run["inputs"]:
            command += ["--in", os.path.join(d, "in", name)]
        results = sorted((o for o in run["outputs"] if o["kind"] == "r"),
                         key=lambda o: o["index"])
        for o in results:
            command += ["--out", os.path.join(d, "jit", o["file"])]
        for o in run["outputs"]:
            if o["kind"] == "a":
                path = os.path.join(d, "jit", o["file"])
                command += ["--out-arg", f"{o['index']}={path}"]
        p = subprocess.run(command, capture_output=True, text=True)
        if p.returncode != 0:
            failed += 1
            with open(os.path.join(d, "jit", run["run"] + ".error"), "w") as f:
                f.write(f"cage-run exited with {p.returncode}: {p.stderr}")
    print(f"jit: {len(cases['runs'])} calls, {failed} failed")


def bits_of(a):
    return np.ascontiguousarray(a, np.float32).view(np.uint32)


def first_at(want, bad):
    """The flat index of the first True of bad, and its index in want."""
    i = int(np.argmax(bad.reshape(-1)))
    where = np.unravel_index(i, want.shape) if want.ndim else ()
    return i, f"index {tuple(int(k) for k in where)} (flat {i})"


def compare(got, want):
    """None if got is want bit for bit (the raw float32 bits: signed zeros
    and NaN payloads told apart), else a description of the first
    mismatch."""
    if got.shape != want.shape or got.dtype != want.dtype:
        return (f"got {got.dtype}{list(got.shape)}, expected "
                f"{want.dtype}{list(want.shape)}")
    gb, wb = bits_of(got).reshape(-1), bits_of(want).reshape(-1)
    differ = gb != wb
    if not differ.any():
        return None
    i, where = first_at(want, differ)
    return (f"{int(differ.sum())} of {want.size} elements differ; first at "
            f"{where}: got {got.reshape(-1)[i]!r} ({int(gb[i]):#010x}), "
            f"expected {want.reshape(-1)[i]!r} ({int(wb[i]):#010x})")


def compare_values(got, plain, ref):
    """The lambda = 0 rule of docs/Semantics.md §1.3: got (an update) equals
    plain (the plain optimizer step) in value: equal as numbers, so that
    +0.0 and -0.0 are equal, and NaN equal to NaN only where ref (the
    reference's update) is NaN too. Returns (None or a description of the
    first mismatch, the number of zeros of the other sign)."""
    if got.shape != plain.shape or got.dtype != plain.dtype:
        return (f"got {got.dtype}{list(got.shape)}, the plain step has "
                f"{plain.dtype}{list(plain.shape)}"), 0
    g, p, r = (np.ascontiguousarray(x, f32).reshape(-1)
               for x in (got, plain, ref))
    nan = np.isnan(g) & np.isnan(p) & np.isnan(r)
    bad = ~((g == p) | nan)
    zeros = int(np.count_nonzero((g == 0) & (bits_of(g) != bits_of(p))))
    if not bad.any():
        return None, zeros
    i, where = first_at(plain, bad)
    return (f"{int(bad.sum())} of {g.size} elements differ in value; first "
            f"at {where}: got {g[i]!r} ({int(bits_of(g)[i]):#010x}), the "
            f"plain step {p[i]!r} ({int(bits_of(p)[i]):#010x})"), zeros


def check(d, backends=("jit", "aot")):
    with open(os.path.join(d, "cases.json")) as f:
        cases = json.load(f)
    failures = 0
    exact = {b: 0 for b in backends}
    equal_checked = {b: 0 for b in backends}
    signed_zeros = {b: 0 for b in backends}
    for run in cases["runs"]:
        for backend in backends:
            error = os.path.join(d, backend, run["run"] + ".error")
            if os.path.exists(error):
                msg = open(error).read().strip().splitlines()
                failures += 1
                print(f"FAIL {backend} {run['run']}: the call failed: "
                      f"{msg[0] if msg else '?'}")
                continue
            for o in run["outputs"]:
                path = os.path.join(d, backend, o["file"])
                label = (f"{backend} {run['run']} "
                         f"{'result' if o['kind'] == 'r' else 'argument'} "
                         f"{o['index']} ({o['what']}, {o['type']})")
                if not os.path.exists(path):
                    failures += 1
                    print(f"FAIL {label}: no output")
                    continue
                got = np.load(path)
                want = np.load(os.path.join(d, "ref", o["file"]))
                message = compare(got, want)
                if message:
                    failures += 1
                    print(f"FAIL {label}: {message}")
                    continue
                exact[backend] += 1
            for a, b, what in run["equal"]:
                pa, pb = (os.path.join(d, backend, x) for x in (a, b))
                if not (os.path.exists(pa) and os.path.exists(pb)):
                    continue
                equal_checked[backend] += 1
                message, zeros = compare_values(
                    np.load(pa), np.load(pb), np.load(os.path.join(d, "ref",
                                                                   a)))
                signed_zeros[backend] += zeros
                if message:
                    failures += 1
                    print(f"FAIL {backend} {run['run']} ({what}): lambda = 0 "
                          f"is not the plain step in value: {message}")
    s = cases["stats"]
    print(f"{cases['family']}: {cases['functions']} functions, {cases['ops']} "
          f"ops, {len(cases['runs'])} runs")
    for backend in backends:
        print(f"{backend}: {exact[backend]} outputs bit-exact")
        if equal_checked[backend]:
            print(f"{backend}: lambda = 0 equal in value to the plain step: "
                  f"{equal_checked[backend]} checked ({signed_zeros[backend]}"
                  f" zeros of the other sign)")
    if s["elements"]:
        print(f"elements: {s['elements']}, on exact ties: "
              f"{'some' if s['ties'] else 'none'} ({s['ties']}), clipped: "
              f"{'some' if s['clipped'] else 'none'} ({s['clipped']})")
    if s.get("level_clamped"):
        print(f"centered level indices clamped back onto the grid: "
              f"{s['level_clamped']}")
    if s["zeroed"]:
        print(f"clipped elements under error = zero_clipped: {s['zeroed']}")
    if s["silent"] + s["ramp"] + s["saturated"]:
        print(f"schedule points: silent {s['silent']}, ramp {s['ramp']}, "
              f"saturated {s['saturated']}")
    if s["lam_zero"] + s["lam_positive"]:
        print(f"updates: lambda = 0: {s['lam_zero']} (the reference's plain "
              f"step in value: {s.get('lam0_plain', 0)}, "
              f"{s.get('lam0_signed_zeros', 0)} zeros of the other sign), "
              f"lambda > 0: {s['lam_positive']} ({s['corrected']} of them "
              f"change w)")
    print(f"failures: {failures}")
    return 1 if failures else 0


def main(argv):
    if len(argv) == 4 and argv[0] == "gen":
        gen(argv[1], argv[2], argv[3])
        return 0
    if len(argv) == 3 and argv[0] == "driver":
        driver(argv[1], argv[2])
        return 0
    if len(argv) >= 3 and argv[0] == "jit":
        jit(argv[1], argv[2], argv[3:])
        return 0
    if len(argv) >= 2 and argv[0] == "check":
        return check(argv[1], argv[2:] or ("jit", "aot"))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
