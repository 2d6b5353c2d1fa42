"""Gradient checks of cage-autodiff against PyTorch autograd.

    python3 gradcheck.py [--build DIR] [--work DIR] [-k SUBSTRING] [-v]
                         [--forward] GROUP... | all
    python3 gradcheck.py --list [GROUP...]
    python3 gradcheck.py --dump GROUP/CASE      (the case's MLIR)

Groups: elementwise, reductions, named_ops, matmul_forms, tensor_ops,
quantize, losses (the modules of cases/, described in cases/common.py).

A case is an MLIR module with one forward function @f(...) -> f32 computing
a scalar loss from parameters (arguments marked {cage.param =
#cage.param<...>}) and data, and a torch function computing the same loss
from the same arguments. For each case the driver draws random inputs (the
shapes of @f's signature: sizes 1, 7, 13, 129, ..., not multiples of 16;
seeded by the case's name, so every run draws the same), runs

  cage-opt case.mlir --cage-autodiff=gradients=true -o grad.mlir
  cage-run grad.mlir --entry f_grad --in ARG.npy ... --out loss.npy \
      --out dP.npy ...       (one --out per parameter, in argument order)

and compares the loss and every gradient with torch autograd evaluated in
float64 ("t64", the reference) and in float32 ("t32": a measure of how much
f32 rounding this computation suffers). cage.quantize is
torch_cage.quantize: the forward bit for bit docs/Semantics.md §1.1 (also
in the float64 evaluation: the op is defined in f32), the backward the STE
of §1.2 with the estimator cage-autodiff must pick (the parameter's own for
a parameter argument, clipped otherwise).

--forward runs no pass, and works today: @f must parse and verify
(`cage-opt case.mlir`), run (`cage-run --entry f`) and give the torch loss
(policy (1) below); t64's gradient of every parameter must not be
identically zero (the loss depends on every parameter), and the finite
differences below must agree with t64 (which checks the torch function).

Tools: cage-opt and cage-run of --build DIR (DIR/bin or DIR), else those on
PATH (in lit, the build's tools directory). --pass replaces the pass flag.
--work DIR keeps every case's files (case.mlir, grad.mlir, in_*.npy, the
results); otherwise they go to a temporary directory.

Output: one line per case, `ok` or `FAIL`, with err/tol of the loss and of
each gradient (pass: <= 1) and notes (`fd N: r`: N finite differences, the
worst |fd - t64| / tol; `clipped a/b`: elements clipped by quantizers;
redraws); then per group `GROUP: N cases, M compared` and at the end
`failures: N`. The exit status is 1 when anything failed.

TOLERANCE POLICY
================
(1) cage against torch. For every output o (the loss, each gradient), with
||.|| the max-norm over the output's elements:

    ||cage - t64|| <= K * ||t32 - t64|| + C * L * u * ||t64||

    K = 8, C = 4, u = 2^-24 (the f32 unit roundoff),
    L = the most elements of any tensor type in the module (a bound of
        every reduction length in it: <= 2048 here).

Why. cage computes in f32 in its own order (the adjoints the pass builds,
vectorized reductions), torch32 in another; neither is "right", both differ
from the float64 result by their rounding errors. Those are a few u for a
well-conditioned elementwise result and grow with the length of sums and
with cancellation. The first term takes torch32's actual error as the
measure of this computation's conditioning (it suffers the same
cancellations); K = 8 absorbs a different summation order (cage's lanes
summed sequentially against torch's pairwise sums, whose typical errors
differ by about sqrt(L)/log2(L) <= 4 at these sizes) and the luck of one
sample. The second term is the a-priori bound of a sum of L terms,
(L - 1) u sum|terms|, with sum|terms| up to C times the output's max-norm:
it covers outputs that torch32 happens to get (nearly) exact. Scaling by
the whole output's max-norm rather than element by element: an element
that cancels to nearly 0 carries the absolute error of its neighbours. The
tolerance is at most 4 * 2048 * 2^-24 = 5e-4 of the max-norm (2e-5 for the
7x13 cases), while a wrong gradient (a missed term, a transposed map, a
wrong mask, estimator or sign) is off by O(1) of it. In a trial with a mock
pass returning torch32's gradients, all cases passed with err/tol <= 0.01;
with the first gradient scaled by 1.001, all 73 comparable cases failed
(err/tol 2 to 320); with the estimators swapped, every quantize case that
clips failed.
Also checked: where t64 and t32 are both exactly 0 (masked by an STE, a
relu or a max; outside a slice) cage must give 0 (of either sign); every
result must be finite, f32, of the parameter's shape.

(2) Finite differences (cases without cage.quantize). For the first, the
last and up to 24 random elements of every parameter, the central
difference (L(p + h e_i) - L(p - h e_i)) / 2h of torch's float64 loss,
h = 2^-17 * 2^floor(log2 max(1, |p_i|)) (a power of two, so that p_i +- h
is exact), must satisfy

    |fd - t64_i| <= 1e-6 * max(1, ||t64||)

and |fd - cage_i| must be within that plus (1). Why: the truncation error
is h^2/6 |d3L| ~ 1e-11 |d3L|, the rounding error ~ 1e-16 sum|terms of L| /
h, ~ 1e-11 per unit of the loss's terms; the inputs are O(1) and those of
log, sqrt, rsqrt, pow and divisors are in [0.5, 2], so both stay far below
1e-6 of the gradient (the worst ratio is printed: <= 0.03).
Finite differences check torch's autograd, and with it the torch function,
independently. With quantizers the loss is piecewise constant and finite
differences mean nothing: torch with the custom Function is the reference.

(3) Discrete decisions on computed values. A quantizer whose input is
computed (an activation) may see an element within rounding noise of a
rounding or clipping boundary; the f32 implementations would then pick
another level than float64, a real difference no tolerance should hide.
torch_cage flags such inputs (closer than 2^-17 of the group's level scale)
and the driver draws new inputs (up to 20 times; redraws are printed). A
relu (T.relu) of a value that is 0 by structure (a product of quantized
matrices is a scaled integer dot product, exactly 0 in ~1% of elements,
+-tiny in f32 with an order-dependent sign) has no preferred subgradient:
the gradient is base + sum_i m_i c_i over the masks m_i in {0, 1} of those
elements, and cage's gradient is compared with the interval
[base + sum_i min(0, c_i), base + sum_i max(0, c_i)] instead of t64 (the
distance to it takes the place of ||cage - t64|| in (1)).
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zlib
import importlib

import numpy as np
import torch

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "cases"))
import torch_cage as tc  # noqa: E402

GROUPS = ["elementwise", "reductions", "named_ops", "matmul_forms",
          "tensor_ops", "quantize", "losses"]
K_T32 = 8.0
C_BOUND = 4.0
U32 = 2.0 ** -24
FD_TOL = 1e-6
FD_SAMPLES = 24
MAX_DRAWS = 20
PASS_FLAG = "--cage-autodiff=gradients=true"

torch.set_num_threads(1)

# ---------------------------------------------------------------------------
# The signature of @f.
# ---------------------------------------------------------------------------


class Arg:
    def __init__(self, name, type_text, attrs):
        self.name = name
        self.type_text = type_text
        m = re.fullmatch(r"tensor<((?:[0-9?]+x)*)(\w+)>", type_text)
        if m:
            self.shape = tuple(None if d == "?" else int(d)
                               for d in m.group(1).split("x")[:-1])
            self.elt = m.group(2)
        elif re.fullmatch(r"\w+", type_text):
            self.shape, self.elt = None, type_text      # a scalar
        else:
            raise ValueError(f"argument %{name}: unsupported type {type_text}")
        spans = param_attr_spans(attrs)
        self.param = bool(spans)
        self.estimator = "clipped"
        if spans:
            em = re.search(r"estimator\s*=\s*(\w+)",
                           attrs[spans[0][2]:spans[0][3]])
            if em:
                self.estimator = em.group(1)
        if self.elt not in ("f32", "i64"):
            raise ValueError(f"argument %{name}: element type {self.elt}")
        if self.param and (self.shape is None or self.elt != "f32"):
            raise ValueError(f"parameter %{name} is not an f32 tensor")


def split_top(text, sep=","):
    out, depth, cur = [], 0, ""
    for ch in text:
        if ch in "<({[":
            depth += 1
        elif ch in ">)}]":
            depth -= 1
        if ch == sep and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    if cur.strip():
        out.append(cur)
    return out


def signature(mlir):
    """The arguments of @f, with type aliases (!t = type) resolved."""
    aliases = dict(re.findall(r"^!([\w.$-]+)\s*=\s*(.+?)\s*$", mlir, re.M))
    start = mlir.find("func.func @f(")
    if start < 0:
        raise ValueError("no func.func @f(")
    i = start + len("func.func @f(")
    depth, j = 1, i
    while depth:
        depth += {"(": 1, ")": -1}.get(mlir[j], 0)
        j += 1
    args = []
    for item in split_top(mlir[i:j - 1]):
        m = re.fullmatch(r"\s*%([\w$.-]+)\s*:\s*(!?[\w.$-]+(?:<[^>]*>)?)"
                         r"\s*(\{.*\})?\s*", item, re.S)
        if not m:
            raise ValueError(f"cannot read argument {item.strip()!r}")
        ty = m.group(2)
        while ty.startswith("!"):
            ty = aliases[ty[1:]]
        args.append(Arg(m.group(1), ty, m.group(3) or ""))
    return args


def reduction_bound(mlir):
    """L of the tolerance: the most elements of any static tensor type."""
    sizes = [int(np.prod([int(d) for d in m.split("x")[:-1]] or [1]))
             for m in re.findall(r"tensor<((?:\d+x)*)f32>", mlir)]
    return max(sizes + [1])


def param_attr_spans(text):
    """[(start, end, body start, body end)] of every `cage.param =
    #cage.param<...>` entry (nested <...> allowed) in text."""
    spans = []
    for m in re.finditer(r"cage\.param\s*=\s*#cage\.param<", text):
        depth, j = 1, m.end()
        while depth:
            depth += {"<": 1, ">": -1}.get(text[j], 0)
            j += 1
        spans.append((m.start(), j, m.end(), j - 1))
    return spans


class Context:
    """The `T` of a case's torch function (cases/common.py describes it)."""

    def __init__(self, dtype, quantizers, params, recorder):
        self.dtype = dtype
        self._quantizers = quantizers  # {alias: quantizer dict}
        self._params = params          # [(tensor, estimator)]
        self._recorder = recorder

    def c(self, v):
        """v rounded to f32, as an arith.constant holds it."""
        return torch.tensor(float(np.float32(v)), dtype=self.dtype)

    def quantize(self, x, q, seed=None, scale=None, estimator=None):
        """cage.quantize of x with the quantizer alias `q` (or its
        #cage.quantizer<...> spelling); the estimator cage-autodiff picks
        unless given: the parameter's own when x is a parameter, else
        clipped."""
        if estimator is None:
            estimator = next((e for t, e in self._params if t is x),
                             "clipped")
        p = tc.parse_quantizer(q) if q.startswith("#cage.quantizer") \
            else self._quantizers[q.lstrip("#")]
        return tc.quantize(x, p, seed=seed, scale=scale, estimator=estimator,
                           recorder=self._recorder)

    def relu(self, v):
        """max(v, 0), any subgradient accepted where v is 0 by structure."""
        return self._recorder.relu(v)


def evaluate(case, args, values, dtype, grads=True, overrides=None):
    """(loss, [dL/dp per parameter] or None, recorder) in `dtype`, with the
    masks of ambiguous relu elements forced by `overrides` (Recorder)."""
    tensors, params = {}, []
    for a in args:
        v = values[a.name]
        if a.elt == "i64":
            tensors[a.name] = int(v)
            continue
        t = torch.tensor(np.asarray(v, np.float64), dtype=dtype)
        if a.param and grads:
            t.requires_grad_(True)
        tensors[a.name] = t
        if a.param:
            params.append((t, a.estimator))
    recorder = tc.Recorder([t for t in tensors.values()
                            if isinstance(t, torch.Tensor)], overrides)
    T = Context(dtype, tc.quantizer_aliases(case.mlir), params, recorder)
    with torch.set_grad_enabled(grads):
        loss = case.torch(T, **tensors)
    if loss.dim() != 0:
        raise ValueError(f"the torch loss has shape {tuple(loss.shape)}")
    if not grads:
        return float(loss), None, recorder
    gs = torch.autograd.grad(loss, [t for t, _ in params], allow_unused=True)
    gs = [np.zeros(t.shape) if g is None else g.detach().double().numpy()
          for g, (t, _) in zip(gs, params)]
    return float(loss.detach()), gs, recorder


def draw(case, args, rng):
    values = {}
    for a in args:
        shape = case.shapes.get(a.name, a.shape)
        if shape is not None and None in shape:
            raise ValueError(f"%{a.name} has dynamic sizes: give "
                             f"Case(shapes={{'{a.name}': ...}})")
        if a.elt == "i64":
            gen = case.inputs.get(a.name) or _seed_gen
            values[a.name] = np.asarray(gen(rng, (), np.int64), np.int64)
        else:
            gen = case.inputs.get(a.name) or _normal_gen
            values[a.name] = np.asarray(gen(rng, shape or (), np.float32),
                                        np.float32)
    return values


def _normal_gen(rng, shape, dt):
    return rng.standard_normal(shape).astype(dt)


def _seed_gen(rng, shape, dt):
    v = int(rng.integers(0, 2 ** 32)) << 32 | int(rng.integers(0, 2 ** 32))
    return np.array(v, np.uint64).view(np.int64)


# ---------------------------------------------------------------------------
# Comparison.
# ---------------------------------------------------------------------------


def norm(v):
    return float(np.max(np.abs(v))) if np.size(v) else 0.0


def compare(cage, t64, t32, L, lo=None, hi=None):
    """(err/tol, problems) of one output under the policy (1). With lo and
    hi (ambiguous relus), the error is the distance to [lo, hi]."""
    cage = np.asarray(cage, np.float64)
    problems = []
    if cage.shape != t64.shape:
        return np.inf, [f"shape {cage.shape}, expected {t64.shape}"]
    if not np.all(np.isfinite(cage)):
        return np.inf, ["not finite"]
    if lo is None:
        lo = hi = t64
    err = norm(np.maximum(0, np.maximum(lo - cage, cage - hi)))
    tol = K_T32 * norm(t32 - t64) + C_BOUND * L * U32 * max(norm(lo),
                                                             norm(hi))
    zeros = (lo == 0) & (hi == 0) & (t32 == 0)
    leaks = int(np.count_nonzero(cage[zeros] != 0))
    if leaks:
        problems.append(f"{leaks} nonzero where the gradient is exactly 0")
    ratio = err / tol if tol > 0 else (0.0 if err == 0 else np.inf)
    return ratio, problems


# ---------------------------------------------------------------------------
# Running the tools.
# ---------------------------------------------------------------------------


class Tools:
    def __init__(self, build):
        self.opt = self._find(build, "cage-opt")
        self.run = self._find(build, "cage-run")

    @staticmethod
    def _find(build, name):
        if build:
            for d in (os.path.join(build, "bin"), build):
                if os.access(os.path.join(d, name), os.X_OK):
                    return os.path.join(d, name)
            sys.exit(f"gradcheck.py: no {name} in {build}/bin or {build}")
        found = shutil.which(name)
        if not found:
            sys.exit(f"gradcheck.py: no {name} on PATH (use --build DIR)")
        return found


class ToolError(RuntimeError):
    pass


def call(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode:
        lines = (p.stderr or p.stdout).strip().split("\n")
        raise ToolError(f"{os.path.basename(cmd[0])} failed: " +
                        " | ".join(lines[:6]))
    return p.stdout


def write_inputs(d, args, values):
    paths = []
    for a in args:
        path = os.path.join(d, f"in_{a.name}.npy")
        np.save(path, values[a.name])
        paths += ["--in", path]
    return paths


# ---------------------------------------------------------------------------
# One case.
# ---------------------------------------------------------------------------


def finite_differences(case, args, values, params, g64, rng):
    """[(param index, element index, fd)] for a sample of elements."""
    out = []
    for k, a in enumerate(params):
        p = values[a.name].astype(np.float64)
        n = p.size
        idx = sorted(set([0, n - 1] + list(rng.choice(
            n, min(n, FD_SAMPLES), replace=False))))
        for i in idx:
            x = float(p.flat[i])
            h = 2.0 ** (np.floor(np.log2(max(1.0, abs(x)))) - 17)
            vals = []
            for sgn in (1, -1):
                v = dict(values)
                q = p.copy()
                q.flat[i] = x + sgn * h
                v[a.name] = q
                vals.append(evaluate(case, args, v, torch.float64,
                                     grads=False)[0])
            out.append((k, i, (vals[0] - vals[1]) / (2 * h)))
    return out


def check_case(group, case, tools, opts, work):
    """Returns (line, compared, failed)."""
    label = f"{group}/{case.name}"
    try:
        args = signature(case.mlir)
    except (ValueError, KeyError) as e:
        return f"FAIL {label}: {e}", False, True
    params = [a for a in args if a.param]
    if not params:
        return f"FAIL {label}: no parameter", False, True
    L = max([reduction_bound(case.mlir)] +
            [int(np.prod(s)) for s in case.shapes.values()])
    quantized = "cage.quantize" in case.mlir
    seed0 = zlib.crc32(label.encode())
    # Inputs, redrawn while a quantizer decision is fragile.
    for attempt in range(MAX_DRAWS):
        rng = np.random.default_rng([seed0, attempt])
        try:
            values = draw(case, args, rng)
            l64, g64, rec64 = evaluate(case, args, values, torch.float64)
            l32, g32, rec32 = evaluate(case, args, values, torch.float32)
        except (ValueError, RuntimeError, TypeError, KeyError) as e:
            return (f"FAIL {label}: the torch function: "
                    f"{type(e).__name__}: {e}"), False, True
        fragile = rec64.fragile + rec32.fragile
        if not fragile:
            break
    else:
        return (f"FAIL {label}: inputs fragile after {MAX_DRAWS} draws: "
                f"{fragile[0]}"), False, True
    notes = [f"redrawn {attempt}x"] if attempt else []
    problems = []
    # Ambiguous relus: the gradient is base + sum_i m_i c_i for the masks
    # m_i in {0, 1} of the ambiguous elements (linear in them); accept
    # anything between the elementwise extremes lo and hi.
    lo = hi = None
    ambiguous = sum(len(a) for a in rec64.ambiguous)
    if ambiguous:
        zero = [{int(i): 0 for i in amb} for amb in rec64.ambiguous]
        _, g64, _ = evaluate(case, args, values, torch.float64,
                             overrides=zero)
        _, g32, _ = evaluate(case, args, values, torch.float32,
                             overrides=zero)
        lo = [g.copy() for g in g64]
        hi = [g.copy() for g in g64]
        for c, amb in enumerate(rec64.ambiguous):
            for i in amb:
                one = [dict(z) for z in zero]
                one[c][int(i)] = 1
                _, g, _ = evaluate(case, args, values, torch.float64,
                                   overrides=one)
                for k, gk in enumerate(g):
                    lo[k] += np.minimum(0, gk - g64[k])
                    hi[k] += np.maximum(0, gk - g64[k])
        notes.append(f"{ambiguous} relu inputs ~0: subgradients accepted")
    if case.expect_clipping and rec64.clipped == 0:
        problems.append("no element is clipped: the clipped STE is untested")
    if quantized:
        notes.append(f"clipped {rec64.clipped}/{rec64.quantized}")
    unused = [a.name for a, g in zip(params, g64) if not np.any(g)]
    if unused:
        problems.append("the loss does not depend on " +
                        ", ".join("%" + n for n in unused))

    d = os.path.join(work, group, case.name)
    os.makedirs(d, exist_ok=True)
    src = os.path.join(d, "case.mlir")
    with open(src, "w") as f:
        f.write(case.mlir)
    ins = write_inputs(d, args, values)
    outs = [os.path.join(d, "loss.npy")]
    try:
        if opts.forward:
            call([tools.opt, src, "-o", os.path.join(d, "parsed.mlir")])
            call([tools.run, src, "--entry", "f", *ins, "--out", outs[0]])
        else:
            grad = os.path.join(d, "grad.mlir")
            call([tools.opt, src, opts.pass_flag, "-o", grad])
            outs += [os.path.join(d, f"d_{a.name}.npy") for a in params]
            call([tools.run, grad, "--entry", "f_grad", *ins,
                  *sum((["--out", o] for o in outs), [])])
        results = [np.load(o) for o in outs]
    except ToolError as e:
        return f"FAIL {label}: {e}", False, True

    measures = []
    if results[0].dtype != np.float32 or results[0].shape != ():
        problems.append(f"loss is {results[0].dtype} {results[0].shape}, "
                        "expected a float32 scalar")
    r, pr = compare(results[0], np.float64(l64), np.float64(l32), L)
    measures.append(f"loss {r:.2g}")
    if opts.verbose:
        c = float(results[0])
        measures.append(f"(cage {c:.9g}, torch64 {l64:.9g}, torch32 "
                        f"{l32:.9g}, |cage - torch64| {abs(c - l64):.2g})")
    problems += [f"loss: {p}" for p in pr]
    if r > 1:
        problems.append(f"loss {float(results[0])!r} vs torch64 {l64!r}")
    ratios = {}
    if not opts.forward:
        for k, (a, c, t64, t32) in enumerate(zip(params, results[1:], g64,
                                                 g32)):
            if c.dtype != np.float32:
                problems.append(f"d{a.name} is {c.dtype}")
            r, pr = compare(c, t64, t32, L, lo and lo[k], hi and hi[k])
            ratios[a.name] = r
            measures.append(f"d{a.name} {r:.2g}")
            problems += [f"d{a.name}: {p}" for p in pr]
            if r > 1:
                problems.append(f"d{a.name} off: max|cage - torch64| over "
                                "its tolerance")
    if not quantized and not ambiguous:
        # Finite differences of torch's float64 loss.
        rng = np.random.default_rng([seed0, 1000])
        fd = finite_differences(case, args, values, params, g64, rng)
        bad_t, bad_c, worst = 0, 0, 0.0
        for k, i, v in fd:
            t = g64[k].flat[i]
            tol = FD_TOL * max(1.0, float(np.max(np.abs(g64[k]))))
            worst = max(worst, abs(v - t) / tol)
            if abs(v - t) > tol:
                bad_t += 1
            if not opts.forward:
                c = float(results[1 + k].flat[i])
                ctol = (tol + (K_T32 * float(np.max(np.abs(g32[k] - g64[k])))
                               + C_BOUND * L * U32 *
                               float(np.max(np.abs(g64[k])))))
                if abs(c - v) > ctol:
                    bad_c += 1
        notes.append(f"fd {len(fd)}: {worst:.2g}")
        if bad_t:
            problems.append(f"{bad_t} finite differences disagree with "
                            "torch64 autograd")
        if bad_c:
            problems.append(f"{bad_c} finite differences disagree with cage")
    line = (f"{'FAIL' if problems else 'ok'} {label}: " +
            " ".join(measures) + (" [" + ", ".join(notes) + "]"
                                  if notes else ""))
    if problems:
        line += "\n    " + "\n    ".join(problems)
    return line, True, bool(problems)


# ---------------------------------------------------------------------------
# Main.
# ---------------------------------------------------------------------------


def load(group):
    if group not in GROUPS:
        sys.exit(f"gradcheck.py: unknown group {group!r} "
                 f"(groups: {', '.join(GROUPS)})")
    return importlib.import_module(group).CASES


def main():
    ap = argparse.ArgumentParser(
        description="Gradient checks of cage-autodiff against torch "
                    "(see the docstring for the tolerance policy).")
    ap.add_argument("groups", nargs="*", help="groups, or all")
    ap.add_argument("--build", help="build dir with bin/cage-opt, cage-run "
                                    "(default: PATH)")
    ap.add_argument("--forward", action="store_true",
                    help="no pass: parse, verify and run @f, compare the "
                         "forward loss")
    ap.add_argument("--pass", dest="pass_flag", default=PASS_FLAG,
                    help=f"cage-opt flag (default {PASS_FLAG})")
    ap.add_argument("--work", help="keep the files of every case here")
    ap.add_argument("-k", dest="only", help="only cases whose name contains "
                                            "this")
    ap.add_argument("-v", "--verbose", action="store_true",
                    help="print the losses")
    ap.add_argument("--list", action="store_true", help="list the cases")
    ap.add_argument("--dump", metavar="GROUP/CASE",
                    help="print a case's MLIR")
    opts = ap.parse_args()
    if opts.dump:
        group, name = opts.dump.split("/")
        case = next((c for c in load(group) if c.name == name), None)
        if case is None:
            sys.exit(f"gradcheck.py: no case {opts.dump}")
        sys.stdout.write(case.mlir)
        return 0
    groups = GROUPS if opts.groups in (["all"], []) and (
        opts.list or opts.groups == ["all"]) else opts.groups
    if not groups:
        ap.error("name a group, or all")
    if opts.list:
        for g in groups:
            print(f"{g}: " + " ".join(c.name for c in load(g)))
        return 0
    tools = Tools(opts.build)
    print(f"cage-opt: {tools.opt}\ncage-run: {tools.run}")
    print("mode: " + ("forward" if opts.forward else "gradients, " +
                      opts.pass_flag))
    work = opts.work or tempfile.mkdtemp(prefix="gradcheck-")
    failures = 0
    for g in groups:
        cases = [c for c in load(g) if not opts.only or opts.only in c.name]
        compared = 0
        for case in cases:
            line, ok_compared, failed = check_case(g, case, tools, opts, work)
            print(line, flush=True)
            compared += ok_compared
            failures += failed
        print(f"{g}: {len(cases)} cases, {compared} compared", flush=True)
    if not opts.work:
        shutil.rmtree(work)
    print(f"failures: {failures}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
