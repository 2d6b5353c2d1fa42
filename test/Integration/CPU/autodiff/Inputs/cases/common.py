"""What the case groups of gradcheck.py share: the Case record, input
generators, and helpers that write the repetitive parts of the MLIR text
(the signature and the weighted-sum loss).

A group is a module of this directory with a list CASES. A case holds
- the MLIR module text, with one public function @f(...) -> f32 (the loss);
  its parameters carry `{cage.param = #cage.param<...>}`; quantizers are
  best named by aliases (`#qw = #cage.quantizer<...>`) that the torch
  function refers to by name;
- a torch function `torch(T, **args)` computing the same loss from the same
  arguments, by name (without the %). Float tensors arrive as torch tensors
  of dtype T.dtype (float64 or float32; the parameters require grad), f32
  scalars as 0-d tensors, i64 arguments as Python ints. T provides
    T.quantize(x, "qw", seed=None, scale=None, estimator=None)
        cage.quantize with alias #qw (torch_cage.quantize); the estimator
        defaults to the parameter's own (#cage.param<estimator = ...>) when
        x is a parameter argument itself, else clipped: the rule of
        cage-autodiff;
    T.relu(v)           max(v, 0), for a relu whose input is computed and
        may be 0 by structure (torch_cage's Recorder.relu: any subgradient
        is accepted there);
    T.c(v)              v rounded to f32 (an arith.constant's value);
    T.dtype             torch.float64 or torch.float32;
- inputs: {argument name: generator} for arguments whose values must not be
  standard normal (positive divisors, one-hot labels, scales); every
  generator is called as gen(rng, shape, dtype).
`python3 gradcheck.py --dump GROUP/CASE` prints a case's MLIR.
"""

import numpy as np

f32 = np.float32


class Case:
    def __init__(self, name, mlir, torch, inputs=None, expect_clipping=False,
                 shapes=None):
        self.name = name
        self.mlir = mlir
        self.torch = torch
        self.inputs = inputs or {}
        # Quantize cases whose estimator should matter: some element must be
        # clipped (or the clipped STE is not exercised).
        self.expect_clipping = expect_clipping
        # Sizes for dynamic dimensions: {argument: shape}.
        self.shapes = shapes or {}


# ---------------------------------------------------------------------------
# Input generators: gen(rng, shape, dtype) -> numpy array.
# ---------------------------------------------------------------------------


def normal(scale=1.0):
    return lambda rng, shape, dt: (rng.standard_normal(shape) * scale
                                   ).astype(dt)


def uniform(lo, hi):
    return lambda rng, shape, dt: rng.uniform(lo, hi, shape).astype(dt)


def heavy():
    """Normal with 15% of the elements four times larger: rms_gaussian and
    operand scales clip some of them."""
    def gen(rng, shape, dt):
        x = rng.standard_normal(shape)
        return (x * np.where(rng.random(shape) < 0.15, 4.0, 1.0)).astype(dt)
    return gen


def onehot():
    """One-hot rows along the last dimension."""
    def gen(rng, shape, dt):
        y = np.zeros(shape, dt)
        flat = y.reshape(-1, shape[-1])
        flat[np.arange(flat.shape[0]),
             rng.integers(0, shape[-1], flat.shape[0])] = 1
        return y
    return gen


def seed():
    """A 64-bit seed, both halves random, as the i64 cage-run reads."""
    def gen(rng, shape, dt):
        v = int(rng.integers(0, 2 ** 32)) << 32 | int(rng.integers(0, 2 ** 32))
        return np.array(v, np.uint64).view(np.int64)
    return gen


# ---------------------------------------------------------------------------
# MLIR text.
# ---------------------------------------------------------------------------

# Map aliases for rank-2 (i, j) and rank-3 (i, j, k) generics.
MAPS = """\
#id1 = affine_map<(i) -> (i)>
#all1 = affine_map<(i) -> ()>
#id2 = affine_map<(i, j) -> (i, j)>
#row2 = affine_map<(i, j) -> (i)>
#col2 = affine_map<(i, j) -> (j)>
#all2 = affine_map<(i, j) -> ()>
#id3 = affine_map<(i, j, k) -> (i, j, k)>
#all3 = affine_map<(i, j, k) -> ()>
"""


def T(*shape):
    """tensor<7x13xf32> for T(7, 13); tensor<f32> for T()."""
    return "tensor<" + "".join(f"{d}x" for d in shape) + "f32>"


def P(name, ty, estimator=None, extra=None):
    """A parameter argument: %name: ty {cage.param = #cage.param<...>};
    `extra` adds fields (`cage = false`, `quantizer = ...`)."""
    fields = ([] if estimator is None else [f"estimator = {estimator}"]) + \
        ([] if extra is None else [extra])
    return f"%{name}: {ty} {{cage.param = #cage.param<{', '.join(fields)}>}}"


def D(name, ty):
    """A data argument (no gradient)."""
    return f"%{name}: {ty}"


def func(args, body, prelude="", result="%loss"):
    """The module: aliases, then func.func @f(args) -> f32 { body; return }."""
    head = "func.func @f(" + ",\n             ".join(args) + ") -> f32 {\n"
    return prelude + head + body.rstrip("\n") + \
        f"\n  return {result} : f32\n}}\n"


def wsum(y, r, shape, out="%loss"):
    """MLIR lines: out = sum over all elements of y * r (f32 scalar), as a
    linalg.generic reduction into a rank-0 tensor and a tensor.extract."""
    rank = len(shape)
    dims = ", ".join(f"d{i}" for i in range(rank))
    ty = T(*shape)
    n = out.lstrip("%")
    return f"""\
  %{n}_zero = arith.constant 0.0 : f32
  %{n}_empty = tensor.empty() : tensor<f32>
  %{n}_init = linalg.fill ins(%{n}_zero : f32) outs(%{n}_empty : tensor<f32>) -> tensor<f32>
  %{n}_sum = linalg.generic {{indexing_maps = [affine_map<({dims}) -> ({dims})>, affine_map<({dims}) -> ({dims})>, affine_map<({dims}) -> ()>],
                          iterator_types = [{", ".join(['"reduction"'] * rank)}]}}
      ins({y}, {r} : {ty}, {ty}) outs(%{n}_init : tensor<f32>) {{
  ^bb0(%{n}_y: f32, %{n}_r: f32, %{n}_acc: f32):
    %{n}_p = arith.mulf %{n}_y, %{n}_r : f32
    %{n}_s = arith.addf %{n}_acc, %{n}_p : f32
    linalg.yield %{n}_s : f32
  }} -> tensor<f32>
  {out} = tensor.extract %{n}_sum[] : tensor<f32>
"""


def elementwise(out, ins, shape, body, maps=None):
    """MLIR lines: out = a parallel linalg.generic over `shape` with inputs
    `ins` [(value, type)], identity maps unless `maps` (one per input, the
    output's identity appended) is given, and the block `body` whose block
    arguments are named %<value>_ (e.g. %a_ for %a) and %o_ for the output,
    and whose last line yields."""
    rank = len(shape)
    dims = ", ".join(f"d{i}" for i in range(rank))
    ident = f"affine_map<({dims}) -> ({dims})>"
    maps = list(maps or [ident] * len(ins)) + [ident]
    ty = T(*shape)
    n = out.lstrip("%")
    bargs = ", ".join(f"{v}_: f32" for v, _ in ins) + ", %o_: f32"
    body = "\n".join("    " + line.strip() for line in body.strip().split("\n"))
    return f"""\
  %{n}_empty = tensor.empty() : {ty}
  {out} = linalg.generic {{indexing_maps = [{", ".join(maps)}],
                       iterator_types = [{", ".join(['"parallel"'] * rank)}]}}
      ins({", ".join(v for v, _ in ins)} : {", ".join(t for _, t in ins)}) outs(%{n}_empty : {ty}) {{
  ^bb0({bargs}):
{body}
  }} -> {ty}
"""
