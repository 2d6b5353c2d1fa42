"""Modules: parameters as numpy float32 arrays, and the MLIR of their forward.

Each module holds its parameters as `Parameter`s (a numpy float32 array plus
what the emitter needs: its kind and the quantizer the forward applies to
it), registered in the order of assignment as in torch, and writes its
forward pass into a `Builder` with `emit(builder, x)`: x and the result are
`Value`s (static shapes, f32). Parameter names are torch's (`0.weight`,
`blocks.1.attn.q.bias`), so that `model.state_dict()` loads into the same
model written with torch.nn.

Initialisation follows torch 2.x's defaults (torch/nn/modules/*.py
`reset_parameters`), drawn from a numpy Generator:

- Linear: weight kaiming_uniform_(a=sqrt(5)), that is U(-1/sqrt(in), 1/sqrt(in));
  bias U(-1/sqrt(in), 1/sqrt(in)).
- Embedding, PositionalEmbedding: N(0, 1).
- LayerNorm: weight 1, bias 0. RMSNorm: weight 1.
"""

import math
from collections import OrderedDict

import numpy as np

from .quantizer import as_quantizer

_default_rng = np.random.default_rng(0)


def manual_seed(seed):
    """Reseeds the Generator that modules draw from when given no `rng`."""
    global _default_rng
    _default_rng = np.random.default_rng(seed)


def _rng(rng):
    if rng is None:
        return _default_rng
    if isinstance(rng, np.random.Generator):
        return rng
    return np.random.default_rng(rng)


class Parameter:
    """A trained tensor: `data` (numpy float32, C-contiguous), `kind` (one of
    "weight", "bias", "norm", "embedding": what overrides select with
    `@kind`), `quantizer` (the Quantizer the forward applies to it, or None)
    and `config` (a ParamConfig or a dict of changes: this parameter's own
    training configuration, applied after the emitter's)."""

    def __init__(self, data, kind="weight", quantizer=None, config=None):
        self.data = np.ascontiguousarray(data, dtype=np.float32)
        self.kind = kind
        self.quantizer = quantizer
        self.config = config

    @property
    def shape(self):
        return self.data.shape

    def __repr__(self):
        return "Parameter(%s, shape=%s%s)" % (
            self.kind, self.data.shape,
            ", quantizer=%s" % self.quantizer.mlir() if self.quantizer else "")


class Module:
    """The base class: registers Parameters and sub-Modules in assignment order."""

    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())

    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise RuntimeError("call Module.__init__() before assigning attributes")
        self._parameters.pop(name, None)
        self._modules.pop(name, None)
        if isinstance(value, Parameter):
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._modules[name] = value
        object.__setattr__(self, name, value)

    def named_parameters(self, prefix=""):
        """(name, Parameter) in torch's order: own parameters, then each
        child's, depth first; a Parameter shared by two modules (tied
        weights) once, under its first name, as torch does."""
        seen = set()
        for name, p in self._named_parameters_all(prefix):
            if id(p) not in seen:
                seen.add(id(p))
                yield name, p

    def _named_parameters_all(self, prefix):
        for name, p in self._parameters.items():
            yield prefix + name, p
        for name, m in self._modules.items():
            yield from m._named_parameters_all(prefix + name + ".")

    def parameters(self):
        return [p for _, p in self.named_parameters()]

    def named_modules(self, prefix=""):
        yield prefix.rstrip("."), self
        for name, m in self._modules.items():
            yield from m.named_modules(prefix + name + ".")

    def children(self):
        return list(self._modules.values())

    def state_dict(self):
        """{name: array} (the arrays themselves, not copies)."""
        return OrderedDict((n, p.data) for n, p in self.named_parameters())

    def load_state_dict(self, state):
        """Copies arrays (anything np.asarray takes: torch tensors too) in;
        names and shapes must match exactly."""
        own = dict(self.named_parameters())
        missing = set(own) - set(state)
        extra = set(state) - set(own)
        if missing or extra:
            raise KeyError("load_state_dict: missing %s, unexpected %s"
                           % (sorted(missing), sorted(extra)))
        for name, value in state.items():
            if hasattr(value, "detach"):
                value = value.detach().cpu().numpy()
            a = np.asarray(value, dtype=np.float32)
            if a.shape != own[name].data.shape:
                raise ValueError("load_state_dict: %s has shape %s, not %s"
                                 % (name, a.shape, own[name].data.shape))
            own[name].data = np.ascontiguousarray(a)

    def output_shape(self, shape):
        """The shape of the output for an input of `shape` (no emission)."""
        return tuple(shape)

    def emit(self, b, x):
        raise NotImplementedError

    def extra_repr(self):
        return ""

    def __repr__(self):
        lines = [type(self).__name__ + "(" + self.extra_repr()]
        if self._modules:
            for name, m in self._modules.items():
                sub = repr(m).replace("\n", "\n  ")
                lines.append("  (%s): %s" % (name, sub))
            return "\n".join(lines) + "\n)"
        return lines[0] + ")"

    def forward_mlir(self, *input_shapes, **kwargs):
        """The MLIR of this model's forward pass; see function.forward_mlir."""
        from .function import forward_mlir
        return forward_mlir(self, *input_shapes, **kwargs)


def _emit_child(b, name, module, x):
    with b.module_scope(name, _short(module)):
        return module.emit(b, x)


def _short(module):
    return "%s(%s)" % (type(module).__name__, module.extra_repr())


# ---------------------------------------------------------------------------
# Layers
# ---------------------------------------------------------------------------


class Linear(Module):
    """y = Q_a(x) · Q_w(W)ᵀ + b over the innermost dimension.

    weight [out_features, in_features], bias [out_features]. weight_quantizer
    (applied to W, `granularity = row`: one clip value per output channel)
    and input_quantizer (applied to x collapsed to rows [prod(leading), in]:
    one clip value per token with `row`) are quantizer specs: None, a
    Quantizer, an int (bits) or a dict of Quantizer fields. The input is
    quantized first, then the weight (the order of their cage.quantize ops,
    which decides the seeds of stochastic quantizers).
    """

    def __init__(self, in_features, out_features, bias=True, weight_quantizer=None,
                 input_quantizer=None, rng=None):
        super().__init__()
        self.in_features = int(in_features)
        self.out_features = int(out_features)
        self.weight_quantizer = as_quantizer(weight_quantizer)
        self.input_quantizer = as_quantizer(input_quantizer)
        g = _rng(rng)
        bound = 1.0 / math.sqrt(self.in_features) if self.in_features > 0 else 0.0
        # torch: kaiming_uniform_(w, a=sqrt(5)) → gain sqrt(2/(1+5)),
        # bound = gain * sqrt(3 / fan_in) = 1/sqrt(fan_in).
        self.weight = Parameter(g.uniform(-bound, bound, (self.out_features, self.in_features)),
                                "weight", self.weight_quantizer)
        if bias:
            self.bias = Parameter(g.uniform(-bound, bound, (self.out_features,)), "bias")
        else:
            self.bias = None

    def extra_repr(self):
        s = "%d, %d" % (self.in_features, self.out_features)
        if self.bias is None:
            s += ", bias=False"
        if self.weight_quantizer:
            s += ", weight_quantizer=%s" % self.weight_quantizer.mlir()
        if self.input_quantizer:
            s += ", input_quantizer=%s" % self.input_quantizer.mlir()
        return s

    def output_shape(self, shape):
        if shape[-1] != self.in_features:
            raise ValueError("Linear(%d, %d): input of shape %s"
                             % (self.in_features, self.out_features, tuple(shape)))
        return tuple(shape[:-1]) + (self.out_features,)

    def emit(self, b, x):
        self.output_shape(x.shape)
        leading = x.shape[:-1]
        x2 = b.to_2d(x)
        if self.input_quantizer:
            x2 = b.quantize(x2, self.input_quantizer, "xq")
        w = b.param(self.weight)
        if self.weight_quantizer:
            w = b.quantize(w, self.weight_quantizer, "wq")
        y = b.matmul("mm" if self.bias is not None else "y", x2, w, transpose_b=True)
        if self.bias is not None:
            bias = b.param(self.bias)
            y = b.elementwise("y", [y, (bias, [1])], lambda r, a, c: r.addf(a, c))
        return b.from_2d(y, leading)


class Embedding(Module):
    """A lookup table [num_embeddings, embedding_dim], applied to one-hot rows.

    The input is one-hot f32 [..., num_embeddings] (`one_hot(indices, n)`
    makes it), and the output onehot · weight, one linalg.matmul: a gather
    written with the ops that cage-autodiff differentiates (its gradient is
    onehotᵀ · dy, a scatter-add). Exact: each output element is one product
    1·w plus zeros. weight_quantizer quantizes the table (one clip value per
    embedding vector with `row`). Init N(0, 1), as torch.nn.Embedding.
    """

    def __init__(self, num_embeddings, embedding_dim, weight_quantizer=None, rng=None):
        super().__init__()
        self.num_embeddings = int(num_embeddings)
        self.embedding_dim = int(embedding_dim)
        self.weight_quantizer = as_quantizer(weight_quantizer)
        g = _rng(rng)
        self.weight = Parameter(g.standard_normal((self.num_embeddings, self.embedding_dim)),
                                "embedding", self.weight_quantizer)

    def extra_repr(self):
        s = "%d, %d" % (self.num_embeddings, self.embedding_dim)
        if self.weight_quantizer:
            s += ", weight_quantizer=%s" % self.weight_quantizer.mlir()
        return s

    def output_shape(self, shape):
        if shape[-1] != self.num_embeddings:
            raise ValueError("Embedding(%d, %d): one-hot input of shape %s"
                             % (self.num_embeddings, self.embedding_dim, tuple(shape)))
        return tuple(shape[:-1]) + (self.embedding_dim,)

    def emit(self, b, x):
        self.output_shape(x.shape)
        w = b.param(self.weight)
        if self.weight_quantizer:
            w = b.quantize(w, self.weight_quantizer, "wq")
        y = b.matmul("y", b.to_2d(x), w)
        return b.from_2d(y, x.shape[:-1])


class PositionalEmbedding(Module):
    """Learned absolute positions: x [batch, seq, d] + weight[:seq] (weight
    [max_len, d], N(0, 1) as torch.nn.Embedding; the same as adding
    nn.Embedding(max_len, d)(torch.arange(seq)))."""

    def __init__(self, max_len, dim, rng=None):
        super().__init__()
        self.max_len = int(max_len)
        self.dim = int(dim)
        self.weight = Parameter(_rng(rng).standard_normal((self.max_len, self.dim)), "embedding")

    def extra_repr(self):
        return "%d, %d" % (self.max_len, self.dim)

    def output_shape(self, shape):
        if len(shape) != 3 or shape[1] > self.max_len or shape[2] != self.dim:
            raise ValueError("PositionalEmbedding(%d, %d): input of shape %s (needs [batch, seq <= %d, %d])"
                             % (self.max_len, self.dim, tuple(shape), self.max_len, self.dim))
        return tuple(shape)

    def emit(self, b, x):
        self.output_shape(x.shape)
        w = b.param(self.weight)
        if x.shape[1] != self.max_len:
            w = b.extract_slice(w, [0, 0], [x.shape[1], self.dim], "pos")
        return b.elementwise("y", [x, (w, [1, 2])], lambda r, a, p: r.addf(a, p))


class ReLU(Module):
    """max(x, 0) (arith.maximumf)."""

    def emit(self, b, x):
        return b.elementwise("relu", [x], lambda r, a: r.maxf(a, r.const(0.0)))


class GELU(Module):
    """The exact (erf) GELU, torch.nn.GELU(approximate="none"):
    (x · 0.5) · (1 + erf(x · (1/sqrt(2)))) (torch's order of operations)."""

    def emit(self, b, x):
        def body(r, a):
            t = r.mulf(a, b.const(1.0 / math.sqrt(2.0), hint="inv_sqrt2"), "scaled")
            e = r.math("erf", t)
            one_plus = r.addf(e, r.const(1.0), "one_plus")
            half = r.mulf(a, r.const(0.5), "half_x")
            return r.mulf(half, one_plus, "gelu")
        return b.elementwise("gelu", [x], body)


class LayerNorm(Module):
    """torch.nn.LayerNorm(dim, eps) over the innermost dimension:
    (x - mean) · (1/sqrt(var + eps)) · weight + bias, var the biased variance
    (two passes: the mean, then the mean of the squared deviations)."""

    def __init__(self, dim, eps=1e-5, bias=True):
        super().__init__()
        self.dim = int(dim)
        self.eps = float(eps)
        self.weight = Parameter(np.ones(self.dim), "norm")
        self.bias = Parameter(np.zeros(self.dim), "norm") if bias else None

    def extra_repr(self):
        return "%d, eps=%g" % (self.dim, self.eps)

    def emit(self, b, x):
        if x.shape[-1] != self.dim:
            raise ValueError("LayerNorm(%d): input of shape %s" % (self.dim, x.shape))
        r = x.rank
        rows = list(range(r - 1))
        n = b.const(float(self.dim), hint="dim%d" % self.dim)
        total = b.reduce_last("sum", [x], lambda g, a, acc: g.addf(acc, a), 0.0)
        mean = b.elementwise("mean", [total], lambda g, s: g.divf(s, n))
        xc = b.elementwise("centered", [x, (mean, rows)], lambda g, a, m: g.subf(a, m))
        sq = b.reduce_last("sqsum", [xc],
                           lambda g, a, acc: g.addf(acc, g.mulf(a, a, "sq")), 0.0)

        def rstd_body(g, s):
            var = g.divf(s, n, "var")
            ve = g.addf(var, g.const(self.eps), "var_eps")
            sd = g.math("sqrt", ve, "std")
            return g.divf(g.const(1.0), sd, "rstd")
        rstd = b.elementwise("rstd", [sq], rstd_body)
        w = b.param(self.weight)
        ins = [xc, (rstd, rows), (w, [r - 1])]
        if self.bias is not None:
            ins.append((b.param(self.bias), [r - 1]))

        def out_body(g, a, s, ww, *bias):
            y = g.mulf(g.mulf(a, s, "normed"), ww, "scaled")
            return g.addf(y, bias[0], "shifted") if bias else y
        return b.elementwise("y", ins, out_body)


class RMSNorm(Module):
    """torch.nn.RMSNorm(dim, eps) (torch >= 2.4) over the innermost dimension:
    x · (1/sqrt(mean(x²) + eps)) · weight. eps None is torch's default, the
    machine epsilon of f32 (2^-23)."""

    def __init__(self, dim, eps=None):
        super().__init__()
        self.dim = int(dim)
        self.eps = float(np.finfo(np.float32).eps) if eps is None else float(eps)
        self.weight = Parameter(np.ones(self.dim), "norm")

    def extra_repr(self):
        return "%d, eps=%g" % (self.dim, self.eps)

    def emit(self, b, x):
        if x.shape[-1] != self.dim:
            raise ValueError("RMSNorm(%d): input of shape %s" % (self.dim, x.shape))
        r = x.rank
        n = b.const(float(self.dim), hint="dim%d" % self.dim)
        sq = b.reduce_last("sqsum", [x],
                           lambda g, a, acc: g.addf(acc, g.mulf(a, a, "sq")), 0.0)

        def rstd_body(g, s):
            ms = g.divf(s, n, "mean_sq")
            me = g.addf(ms, g.const(self.eps), "mean_sq_eps")
            return g.divf(g.const(1.0), g.math("sqrt", me, "rms"), "rstd")
        rstd = b.elementwise("rstd", [sq], rstd_body)
        w = b.param(self.weight)
        return b.elementwise("y", [x, (rstd, list(range(r - 1))), (w, [r - 1])],
                             lambda g, a, s, ww: g.mulf(g.mulf(a, s, "normed"), ww, "scaled"))


class CausalSelfAttention(Module):
    """Multi-head causal self-attention on x [batch, seq, dim].

    q, k, v, o: Linear(dim, dim) (quantizers as Linear's, for all four).
    Per head h (head_dim = dim / num_heads, the h-th block of head_dim
    columns):
        S = (Q_h · K_hᵀ) · (1/sqrt(head_dim)),  S[i, j] = -inf where j > i
        P = softmax over j: exp(S - max S) / Σ exp(S - max S)
        O_h = P · V_h
    and the output o(concat of the O_h), as torch's
    scaled_dot_product_attention(is_causal=True) (the scale applied after the
    product). The mask is an arith.select on linalg.index comparisons inside
    the generic that scales the scores.

    impl="generic" (default) writes the two batched products as
    linalg.generic contractions over [batch, heads, seq, seq] (expand_shape
    to [batch, seq, heads, head_dim], a reduction loop, no transposes).
    impl="matmul" uses 2-d linalg.matmul per (batch, head) on
    tensor.extract_slice blocks of the [batch·seq, dim] projections, and
    tensor.concat to put the heads and sequences back together: more ops,
    but only named matmuls.
    """

    def __init__(self, dim, num_heads, bias=True, weight_quantizer=None,
                 input_quantizer=None, impl="generic", rng=None):
        super().__init__()
        if dim % num_heads:
            raise ValueError("CausalSelfAttention: num_heads %d does not divide dim %d"
                             % (num_heads, dim))
        if impl not in ("generic", "matmul"):
            raise ValueError("CausalSelfAttention: impl is 'generic' or 'matmul'")
        self.dim = int(dim)
        self.num_heads = int(num_heads)
        self.head_dim = self.dim // self.num_heads
        self.impl = impl
        g = _rng(rng)
        for name in ("q", "k", "v", "o"):
            setattr(self, name, Linear(dim, dim, bias, weight_quantizer, input_quantizer, g))

    def extra_repr(self):
        return "%d, num_heads=%d, impl=%s" % (self.dim, self.num_heads, self.impl)

    def output_shape(self, shape):
        if len(shape) != 3 or shape[2] != self.dim:
            raise ValueError("CausalSelfAttention(%d): input of shape %s (needs [batch, seq, %d])"
                             % (self.dim, tuple(shape), self.dim))
        return tuple(shape)

    def _scale_mask(self, b, scores, i_dim, j_dim):
        scale = b.const(1.0 / math.sqrt(self.head_dim), hint="inv_sqrt_head_dim")
        neg_inf = b.const(float("-inf"))

        def body(g, s):
            scaled = g.mulf(s, scale, "scaled")
            i = g.index(i_dim, "i")
            j = g.index(j_dim, "j")
            visible = g.cmpi("uge", i, j, "visible")
            return g.select(visible, scaled, neg_inf, "masked")
        return b.elementwise("scores", [scores], body)

    def _softmax_last(self, b, s):
        r = s.rank
        rows = list(range(r - 1))
        m = b.reduce_last("row_max", [s], lambda g, a, acc: g.maxf(acc, a), float("-inf"))
        e = b.elementwise("exp", [s, (m, rows)],
                          lambda g, a, mm: g.math("exp", g.subf(a, mm, "shifted")))
        z = b.reduce_last("row_sum", [e], lambda g, a, acc: g.addf(acc, a), 0.0)
        return b.elementwise("probs", [e, (z, rows)], lambda g, a, zz: g.divf(a, zz))

    def emit(self, b, x):
        batch, seq, dim = self.output_shape(x.shape)
        heads, hd = self.num_heads, self.head_dim
        q = _emit_child(b, "q", self.q, x)
        k = _emit_child(b, "k", self.k, x)
        v = _emit_child(b, "v", self.v, x)
        b.comment("%s: per head, softmax(causal_mask(Q K^T / sqrt(%d))) V (%s)"
                  % (".".join(b.path) or "attention", hd, self.impl))
        if self.impl == "generic":
            split = [[0], [1], [2, 3]]
            shape4 = (batch, seq, heads, hd)
            q4 = b.expand(q, split, shape4, "q_heads")
            k4 = b.expand(k, split, shape4, "k_heads")
            v4 = b.expand(v, split, shape4, "v_heads")
            # S[b, h, i, j] = Σ_c Q[b, i, h, c] K[b, j, h, c]; loops (b, h, i, j, c).
            zeros = b.fill(0.0, (batch, heads, seq, seq), "qk_zeros")
            s = b.generic("qk", [(q4, [0, 2, 1, 4]), (k4, [0, 3, 1, 4])],
                          (batch, heads, seq, seq), [0, 1, 2, 3],
                          ["parallel"] * 4 + ["reduction"],
                          lambda g, a, c, acc: g.addf(acc, g.mulf(a, c)), zeros)
            p = self._softmax_last(b, self._scale_mask(b, s, 2, 3))
            # O[b, i, h, c] = Σ_j P[b, h, i, j] V[b, j, h, c]; loops (b, i, h, c, j).
            zeros = b.fill(0.0, shape4, "pv_zeros")
            o4 = b.generic("pv", [(p, [0, 2, 1, 4]), (v4, [0, 4, 2, 3])], shape4,
                           [0, 1, 2, 3], ["parallel"] * 4 + ["reduction"],
                           lambda g, a, c, acc: g.addf(acc, g.mulf(a, c)), zeros)
            heads_out = b.collapse(o4, [[0], [1], [2, 3]], "heads")
        else:
            q2, k2, v2 = (b.to_2d(t) for t in (q, k, v))
            rows = []
            for bi in range(batch):
                cols = []
                for h in range(heads):
                    with b.module_scope("b%d_h%d" % (bi, h)):
                        off = [bi * seq, h * hd]
                        qs = b.extract_slice(q2, off, [seq, hd], "q")
                        ks = b.extract_slice(k2, off, [seq, hd], "k")
                        vs = b.extract_slice(v2, off, [seq, hd], "v")
                        s = b.matmul("qk", qs, ks, transpose_b=True)
                        p = self._softmax_last(b, self._scale_mask(b, s, 0, 1))
                        cols.append(b.matmul("pv", p, vs))
                rows.append(b.concat(cols, 1, "b%d_heads" % bi))
            heads_out = b.from_2d(b.concat(rows, 0, "heads"), (batch, seq))
        return _emit_child(b, "o", self.o, heads_out)


class MLP(Module):
    """fc1: Linear(dim, hidden), act: GELU (or ReLU), fc2: Linear(hidden, dim)."""

    def __init__(self, dim, hidden=None, activation="gelu", bias=True, weight_quantizer=None,
                 input_quantizer=None, rng=None):
        super().__init__()
        hidden = 4 * dim if hidden is None else hidden
        g = _rng(rng)
        self.fc1 = Linear(dim, hidden, bias, weight_quantizer, input_quantizer, g)
        self.act = {"gelu": GELU, "relu": ReLU}[activation]()
        self.fc2 = Linear(hidden, dim, bias, weight_quantizer, input_quantizer, g)

    def extra_repr(self):
        return "%d, %d" % (self.fc1.in_features, self.fc1.out_features)

    def output_shape(self, shape):
        return self.fc2.output_shape(self.fc1.output_shape(shape))

    def emit(self, b, x):
        for name, m in self._modules.items():
            x = _emit_child(b, name, m, x)
        return x


class TransformerBlock(Module):
    """A pre-norm transformer block on x [batch, seq, dim]:
        x = x + attn(ln1(x));  x = x + mlp(ln2(x))
    ln1, ln2: LayerNorm(dim) (norm="rmsnorm": RMSNorm(dim)); attn:
    CausalSelfAttention(dim, num_heads); mlp: MLP(dim, mlp_hidden). The
    quantizer specs go to every Linear of the block."""

    def __init__(self, dim, num_heads, mlp_hidden=None, norm="layernorm", activation="gelu",
                 bias=True, weight_quantizer=None, input_quantizer=None, attention_impl="generic",
                 rng=None):
        super().__init__()
        g = _rng(rng)
        make_norm = {"layernorm": LayerNorm, "rmsnorm": RMSNorm}[norm]
        self.ln1 = make_norm(dim)
        self.attn = CausalSelfAttention(dim, num_heads, bias, weight_quantizer, input_quantizer,
                                        attention_impl, g)
        self.ln2 = make_norm(dim)
        self.mlp = MLP(dim, mlp_hidden, activation, bias, weight_quantizer, input_quantizer, g)

    def extra_repr(self):
        return "%d, num_heads=%d" % (self.attn.dim, self.attn.num_heads)

    def output_shape(self, shape):
        return self.attn.output_shape(shape)

    def emit(self, b, x):
        self.output_shape(x.shape)
        h = _emit_child(b, "ln1", self.ln1, x)
        h = _emit_child(b, "attn", self.attn, h)
        x = b.elementwise("res1", [x, h], lambda g, a, c: g.addf(a, c))
        h = _emit_child(b, "ln2", self.ln2, x)
        h = _emit_child(b, "mlp", self.mlp, h)
        return b.elementwise("res2", [x, h], lambda g, a, c: g.addf(a, c))


class Sequential(Module):
    """Modules applied in order; children are named "0", "1", ... as in torch."""

    def __init__(self, *modules):
        super().__init__()
        for i, m in enumerate(modules):
            setattr(self, str(i), m)

    def __getitem__(self, i):
        return list(self._modules.values())[i]

    def __len__(self):
        return len(self._modules)

    def output_shape(self, shape):
        for m in self._modules.values():
            shape = m.output_shape(shape)
        return tuple(shape)

    def emit(self, b, x):
        for name, m in self._modules.items():
            x = _emit_child(b, name, m, x)
        return x


# ---------------------------------------------------------------------------
# Loss
# ---------------------------------------------------------------------------


class CrossEntropyLoss:
    """Softmax cross-entropy against one-hot (or any probability) targets,
    the mean over rows (every leading index: the batch, or batch·seq):
        loss = -(1/N) Σ_rows Σ_c y · (z - max z - log Σ exp(z - max z))
    as torch.nn.functional.cross_entropy(logits, y) with probability targets.
    Per row: the max, the exponentials and their sum (reductions over the
    classes, in order), its log once, the row's term -Σ_c y·logp (in class
    order); then the rows' terms summed in row order, divided by N. Each
    per-row reduction runs a vector lane per row on the CPU, and the loss
    takes N logarithms, not one per logit."""

    def emit(self, b, logits, target):
        z = b.to_2d(logits)
        y = b.to_2d(target)
        rows = [0]
        zmax = b.reduce_last("zmax", [z], lambda g, a, acc: g.maxf(acc, a), float("-inf"))
        e = b.elementwise("exp", [z, (zmax, rows)],
                          lambda g, a, m: g.math("exp", g.subf(a, m, "shifted")))
        esum = b.reduce_last("esum", [e], lambda g, a, acc: g.addf(acc, a), 0.0)
        log_sum = b.elementwise("log_sum", [esum], lambda g, s: g.math("log", s))

        def row_nll(g, yy, zz, m, l, acc):
            logp = g.subf(g.subf(zz, m, "shifted"), l, "logp")
            return g.subf(acc, g.mulf(yy, logp, "term"), "acc")
        row_terms = b.reduce_last("row_nll", [y, z, zmax, log_sum], row_nll, 0.0)
        zero = b.fill(0.0, (), "nll_acc")
        total = b.generic("nll", [(row_terms, [0])], (), [], ["reduction"],
                          lambda g, t, acc: g.addf(acc, t, "acc"), zero)
        s = b.extract_scalar(total, "nll_sum")
        n = b.const(float(z.shape[0]), hint="num_rows")
        return b.scalar("arith.divf %s, %s" % (s.name, n), "loss")


def one_hot(indices, num_classes, dtype=np.float32):
    """indices (ints, any shape) as one-hot rows [..., num_classes] of f32."""
    indices = np.asarray(indices)
    out = np.zeros(indices.shape + (num_classes,), dtype=dtype)
    np.put_along_axis(out, indices[..., None], 1, axis=-1)
    return out
