"""cage.quantize as a torch autograd Function, for the gradient checks of
cage-autodiff (gradcheck.py) and its own self-test (selftest.py).

Forward: Q(x) exactly as docs/Semantics.md §1.1 defines it, computed by
test/Reference/Inputs/numpy_reference.py's `quantize` in numpy float32 (bit
for bit the C reference and the compiled cage.quantize). The forward is
always the f32 op, whatever the dtype of the torch tensors: in a float64 run
the input is rounded to f32 first (exact for an argument of the function,
which is an f32 value) and Q(x) is returned as float64.

Backward, the straight-through estimator of docs/Semantics.md §1.2 (what
cage.ste computes):
- float32 tensors: numpy_reference's `ste`, bit for bit cage.ste (dx, and
  the LSQ d alpha for scale = operand);
- float64 tensors: the same estimator in float64 (ste64 below): the discrete
  decisions (which elements are clipped, the level r = rint(z)) are those of
  the f32 forward, everything continuous (the rotation of dy, the products
  and sums of the LSQ gradient, gamma) is float64. This is the "exact"
  reference the f32 results are compared with.

Quantizer parameters are numpy_reference's dicts; parse_quantizer() makes one
from the MLIR spelling `#cage.quantizer<bits = 4, granularity = row>` with
the attribute's defaults for what it omits.

Fragility. The gradient checks compare cage's f32 gradients with torch's. A
quantizer whose input is computed (not an argument of the function) sees
slightly different values in each implementation (reduction orders differ),
and an element within rounding noise of a rounding or clipping boundary may
land on another level in each: the results then differ by a whole level, a
real difference that no tolerance should hide. A Recorder watches every
quantizer with a computed input and flags the inputs as fragile when an
element is closer to a boundary than FRAGILE_MARGIN relative (128 f32 ulps of
the group's scale: far above the few-ulp noise of the small reductions of
these cases); the driver then draws other inputs.

Ambiguous relus. Redrawing does not help where a relu's input is 0 by
structure: a product of two row-quantized matrices is a scaled integer dot
product, exactly 0 in about one element in a hundred, and computed as +-tiny
in f32 with a sign that depends on the summation order. The relu's
derivative there is the implementation's choice of subgradient. relu()
below records such elements (|v| < FRAGILE_MARGIN max|v|) as ambiguous and
lets the driver force the mask of each to 0 or 1; the driver then accepts
any gradient between the extremes over those choices (gradcheck.py).
"""

import os
import re
import sys

import numpy as np
import torch

sys.dont_write_bytecode = True
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(_HERE, "..", "..", "..", "..", "Reference",
                                "Inputs"))
import numpy_reference as nr  # noqa: E402

f32 = np.float32
FRAGILE_MARGIN = 2.0 ** -17

# ---------------------------------------------------------------------------
# MLIR spellings.
# ---------------------------------------------------------------------------

DEFAULTS = dict(bits=4, granularity="row", group_size=128, scale="absmax",
                levels="int", rotation="none", block=128, rounding="nearest")
_INT_KEYS = ("bits", "group_size", "block")


def parse_quantizer(text):
    """'#cage.quantizer<bits = 4, scale = operand>' (or just what is between
    the angle brackets) as a numpy_reference quantizer dict."""
    m = re.fullmatch(r"\s*(?:#cage\.quantizer<(.*)>|(.*))\s*", text, re.S)
    body = m.group(1) if m.group(1) is not None else m.group(2)
    p = dict(DEFAULTS)
    for item in filter(None, (s.strip() for s in body.split(","))):
        key, value = (s.strip() for s in item.split("="))
        if key not in p:
            raise ValueError(f"unknown quantizer parameter {key!r} in {text!r}")
        p[key] = int(value) if key in _INT_KEYS else value
    return p


def quantizer_aliases(mlir):
    """{name: quantizer dict} for the `#name = #cage.quantizer<...>` aliases
    of a module."""
    return {m.group(1): parse_quantizer(m.group(2)) for m in re.finditer(
        r"^#([\w.$-]+)\s*=\s*(#cage\.quantizer<[^>]*>)", mlir, re.M)}


def seed_u64(seed):
    """An i64 seed (as cage-run reads it from int64 .npy files) as the u64
    that numpy_reference takes: the same bits."""
    return int(seed) & 0xFFFFFFFFFFFFFFFF


# ---------------------------------------------------------------------------
# The float64 straight-through estimator.
# ---------------------------------------------------------------------------


def fwht64(x, block):
    """x * H_B blockwise along the last axis, in float64."""
    y = np.array(x, np.float64).reshape(-1, block)
    h = 1
    while h < block:
        y = y.reshape(-1, block // (2 * h), 2, h)
        a, b = y[:, :, 0, :].copy(), y[:, :, 1, :].copy()
        y[:, :, 0, :], y[:, :, 1, :] = a + b, a - b
        h *= 2
    return y.reshape(np.shape(x)) / np.sqrt(block)


def ste64(p, estimator, dy, x, alpha):
    """cage.ste in float64: dy float64, x the f32 input of the forward, alpha
    the f32 scale operand (flat, one per group) or None. Returns (dx, d alpha
    or None), float64."""
    xr, a = nr.prepare(p, x, alpha)          # f32, as the forward saw them
    rot = (lambda v: fwht64(v, p["block"])) if p["rotation"] == "hadamard" \
        else (lambda v: np.array(v, np.float64))
    dyr = rot(dy).reshape(xr.shape)
    if estimator == "identity":
        dx = np.array(dy, np.float64)
    elif estimator == "clipped":
        mask = nr.clipped(p, xr, a)          # judged in f32, as the forward
        dx = rot(np.where(mask, 0.0, dyr).reshape(x.shape))
    else:
        raise ValueError(f"unknown estimator {estimator!r}")
    if p["scale"] != "operand":
        return dx, None
    qmax, qmin, steps = (float(v) for v in nr.grid_constants(p))
    x64, a64 = xr.astype(np.float64), a.astype(np.float64)[:, None]
    a32 = a[:, None]
    if p["levels"] == "centered":
        h32 = f32(steps) / f32(2)
        r = np.rint((xr * h32) / a32 + f32(0.5)).astype(np.float64)
        inside = (r - 0.5) / (steps / 2) - x64 / a64
        d = np.where(xr > a32, 1.0, np.where(xr < -a32, -1.0, inside))
    else:
        r = np.rint(xr / (a32 / f32(qmax))).astype(np.float64)
        z = x64 / (a64 / qmax)
        d = np.where(r < qmin, qmin / qmax,
                     np.where(r > qmax, 1.0, (r - z) / qmax))
    dalpha = (dyr * d).sum(axis=1) / np.sqrt(xr.shape[1] * qmax)
    return dx, dalpha


# ---------------------------------------------------------------------------
# Fragility of quantizer decisions (see the module docstring).
# ---------------------------------------------------------------------------


def quantizer_margin(p, x, alpha, seed):
    """The smallest distance of an element of the f32 input x to a boundary
    where the quantizer's output or its STE changes discontinuously, in
    units of FRAGILE_MARGIN-scaled level positions: < 1 means fragile."""
    xr, a = nr.prepare(p, x, alpha)
    qmax, qmin, steps = (np.float64(v) for v in nr.grid_constants(p))
    x64, a64 = xr.astype(np.float64), a.astype(np.float64)[:, None]
    if p["levels"] == "centered":
        step = 2 * a64 / steps
        y = np.clip(x64, -a64, a64) / step + 0.5
        dists = [np.abs(y - np.floor(y) - 0.5),              # rounding
                 np.abs(np.abs(x64) - a64) / step]           # clipping
        top = steps / 2
    else:
        y = x64 / (a64 / qmax)
        # Half-integer boundaries of rint, clipping at qmin - 1/2 and
        # qmax + 1/2 included; beyond them nothing changes.
        half = np.clip(np.floor(y) + 0.5, qmin - 0.5, qmax + 0.5)
        dists = [np.abs(y - half)]
        top = qmax
    if p["rounding"] == "stochastic":
        u = nr.uniform(seed_u64(seed), xr.size).reshape(xr.shape)
        frac = y - np.floor(y)
        dists += [np.abs(frac - u), frac, 1 - frac]
    dist = np.minimum.reduce(dists)
    tau = FRAGILE_MARGIN * (np.abs(y) + top)
    return float(np.min(dist / tau)) if dist.size else np.inf


class Recorder:
    """What the quantizers and relus of one torch evaluation saw: fragile
    decisions (a list of descriptions), the number of clipped elements (a
    coverage statistic), and the ambiguous elements of each relu() call (a
    list, in call order, of flat index arrays). `overrides`, when given,
    forces the relu masks at those elements: a list in call order of
    {flat index: 0 or 1}."""

    def __init__(self, exact_inputs=(), overrides=None):
        self.exact = list(exact_inputs)
        self.fragile = []
        self.clipped = 0
        self.quantized = 0
        self.ambiguous = []
        self.overrides = overrides

    def is_exact(self, t):
        return any(t is e for e in self.exact)

    def relu(self, v):
        """max(v, 0), with the mask of ambiguous elements as forced."""
        a = v.detach().double().abs().reshape(-1)
        amb = np.flatnonzero((a < FRAGILE_MARGIN * float(a.max())).numpy()) \
            if a.numel() else np.zeros(0, np.int64)
        call = len(self.ambiguous)
        self.ambiguous.append(amb)
        force = self.overrides[call] if self.overrides else {}
        return _Relu.apply(v, force)


class _Relu(torch.autograd.Function):
    """max(v, 0); the backward passes dy where v > 0 (a select: +0.0
    elsewhere), except at the elements `force` sets."""

    @staticmethod
    def forward(ctx, v, force):
        mask = (v > 0).reshape(-1).clone()
        for i, m in force.items():
            mask[i] = bool(m)
        ctx.mask = mask.reshape(v.shape)
        return torch.clamp(v, min=0)

    @staticmethod
    def backward(ctx, dy):
        return torch.where(ctx.mask, dy, torch.zeros_like(dy)), None


# ---------------------------------------------------------------------------
# The autograd Function.
# ---------------------------------------------------------------------------


class _Quantize(torch.autograd.Function):

    @staticmethod
    def forward(ctx, x, scale, p, seed, estimator, recorder):
        x32 = x.detach().cpu().numpy().astype(f32)
        a32 = None
        if p["scale"] == "operand":
            a32 = scale.detach().cpu().numpy().astype(f32).reshape(-1)
        if p["rounding"] == "stochastic":
            if seed is None:
                raise ValueError("rounding = stochastic needs a seed")
            seed = seed_u64(seed)
        q = nr.quantize(p, x32, a32, seed or 0)
        if recorder is not None:
            xr, a = nr.prepare(p, x32, a32)
            recorder.quantized += x32.size
            recorder.clipped += int(np.count_nonzero(nr.clipped(p, xr, a)))
            if not recorder.is_exact(x):
                margin = quantizer_margin(p, x32, a32, seed)
                if margin < 1:
                    recorder.fragile.append(
                        f"quantizer input {tuple(x.shape)} within "
                        f"{margin:.2f} margins of a level boundary")
        ctx.p, ctx.estimator = p, estimator
        ctx.x32, ctx.a32 = x32, a32
        ctx.scale_shape = None if scale is None else tuple(scale.shape)
        return torch.from_numpy(np.ascontiguousarray(q)).to(x.dtype)

    @staticmethod
    def backward(ctx, dy):
        p, x32, a32 = ctx.p, ctx.x32, ctx.a32
        if dy.dtype == torch.float32:
            dx, da = nr.ste(p, ctx.estimator, dy.detach().cpu().numpy(),
                            x32, a32)
        else:
            dx, da = ste64(p, ctx.estimator,
                           dy.detach().cpu().numpy().astype(np.float64),
                           x32, a32)
        dx = torch.from_numpy(np.ascontiguousarray(dx)).to(dy.dtype)
        if da is not None:
            da = torch.from_numpy(np.ascontiguousarray(
                np.asarray(da).reshape(ctx.scale_shape))).to(dy.dtype)
        return dx, da, None, None, None, None


def quantize(x, p, seed=None, scale=None, estimator="clipped",
             recorder=None):
    """Q(x) with gradient: `p` a quantizer dict (or its MLIR spelling),
    `seed` an int (rounding = stochastic), `scale` a tensor (scale =
    operand; its gradient is the LSQ d alpha), `estimator` the STE."""
    if isinstance(p, str):
        p = parse_quantizer(p)
    if (scale is not None) != (p["scale"] == "operand"):
        raise ValueError("a scale tensor goes with scale = operand, only")
    return _Quantize.apply(x, scale, p, seed, estimator, recorder)
