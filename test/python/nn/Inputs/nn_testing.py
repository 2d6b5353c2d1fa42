"""Shared helpers of the cage.nn tests: emit, strip, verify, run, compare.

A test emits a model's forward with cage.nn, removes the `{cage.param = ...}`
argument attributes (the built cage-opt does not know #cage.param yet; the
emitted text keeps them), parses and verifies the function with
`cage-opt --cage-verify`, runs it with `cage-run`, and compares the results
with the same model written in torch (float32), whose quantizers are the
numpy re-implementation of docs/Semantics.md §1.1 in
test/Reference/Inputs/numpy_reference.py.

The emitted text itself (attributes kept) is given to cage-opt too: it must
verify, or fail on exactly the unknown #cage.param, so that the tests check
the attributes as soon as cage-opt knows them.

The tools are taken from $CAGE_TOOLS_DIR, else the PATH (lit puts the
build's bin first), else build/bin of the source tree.
"""

import os
import shutil
import subprocess
import sys

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "python"))
sys.path.insert(0, os.path.join(ROOT, "test", "Reference", "Inputs"))

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from cage import nn  # noqa: E402
from numpy_reference import quantize as np_quantize  # noqa: E402
from numpy_reference import ste as np_ste  # noqa: E402

torch.set_num_threads(1)
f32 = np.float32


# ---------------------------------------------------------------------------
# Text
# ---------------------------------------------------------------------------

def strip_param_attrs(text):
    """Removes every ` {cage.param = #cage.param<...>}` (nested <...>
    balanced); returns (text, how many were removed)."""
    key = " {cage.param = #cage.param<"
    out, pos, count = [], 0, 0
    while True:
        i = text.find(key, pos)
        if i < 0:
            out.append(text[pos:])
            break
        out.append(text[pos:i])
        j = i + len(key)
        depth = 1
        while depth:
            c = text[j]
            depth += {"<": 1, ">": -1}.get(c, 0)
            j += 1
        assert text[j] == "}", text[i:j + 1]
        pos = j + 1
        count += 1
    return "".join(out), count


def tool(name):
    d = os.environ.get("CAGE_TOOLS_DIR")
    if d:
        return os.path.join(d, name)
    found = shutil.which(name)
    return found or os.path.join(ROOT, "build", "bin", name)


class Runner:
    """Writes, verifies and runs emitted functions in `workdir`."""

    def __init__(self, workdir):
        self.workdir = workdir
        os.makedirs(workdir, exist_ok=True)

    def path(self, name):
        return os.path.join(self.workdir, name)

    def verify(self, fn, tag):
        """Strips the cage.param attributes (one per parameter in a train
        function: the forward alone runs, without its training steps),
        parses and verifies with cage-opt --cage-verify, the text as emitted
        too; returns the path of the stripped file."""
        text, count = strip_param_attrs(fn.text)
        want = sum(1 for a in fn.args if a.attr is not None)
        assert count == want, (count, want)
        assert "cage.param" not in text
        path = self.path(tag + ".mlir")
        with open(path, "w") as f:
            f.write(text)
        with open(self.path(tag + ".orig.mlir"), "w") as f:
            f.write(fn.text)
        r = subprocess.run([tool("cage-opt"), "--cage-verify", path],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if r.returncode != 0:
            raise AssertionError("cage-opt rejects %s:\n%s" % (path, r.stderr))
        if count:
            # The text as emitted, #cage.param included, verifies too.
            orig = self.path(tag + ".orig.mlir")
            r = subprocess.run([tool("cage-opt"), "--cage-verify", orig],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            if r.returncode != 0:
                raise AssertionError("cage-opt rejects %s:\n%s" % (orig, r.stderr))
        return path

    def run(self, fn, arrays, tag):
        """Verifies, then runs fn on `arrays` (fn.arguments(...)); returns
        the results as numpy arrays."""
        path = self.verify(fn, tag)
        cmd = [tool("cage-run"), path, "--entry", fn.name]
        for i, a in enumerate(arrays):
            p = self.path("%s.in%d.npy" % (tag, i))
            np.save(p, a)
            cmd += ["--in", p]
        outs = [self.path("%s.out%d.npy" % (tag, i)) for i in range(len(fn.results))]
        for p in outs:
            cmd += ["--out", p]
        env = dict(os.environ, OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "1"))
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           env=env)
        if r.returncode != 0:
            raise AssertionError("cage-run fails on %s:\n%s" % (path, r.stderr))
        return [np.load(p) for p in outs]


# ---------------------------------------------------------------------------
# The torch reference
# ---------------------------------------------------------------------------

class _STE(torch.autograd.Function):
    """Q(x) forward (numpy_reference.quantize), the straight-through
    estimator backward (numpy_reference.ste: §1.2)."""

    @staticmethod
    def forward(ctx, x, q, estimator, seed):
        ctx.q, ctx.estimator = q, estimator
        ctx.save_for_backward(x)
        return torch.from_numpy(np_quantize(q.as_dict(), x.detach().contiguous().numpy(),
                                            None, seed))

    @staticmethod
    def backward(ctx, dy):
        (x,) = ctx.saved_tensors
        dx, _ = np_ste(ctx.q.as_dict(), ctx.estimator, dy.contiguous().numpy(),
                       x.detach().contiguous().numpy(), None)
        return torch.from_numpy(np.ascontiguousarray(dx)), None, None, None


class Quant:
    """Applies quantizers in the forward's order: the k-th of `total`
    stochastic quantizers draws from seed * total + k (wrapping in 64 bits),
    as cage.nn's emitter defines. Under autograd, the backward is the
    straight-through estimator: `param_estimator` for parameters' quantizers
    (the cage.param attribute's), `estimator` for the others (the
    cage-autodiff option's)."""

    def __init__(self, seed=0, total=0, estimator="clipped", param_estimator="clipped"):
        self.seed, self.total, self.k = seed, total, 0
        self.estimator, self.param_estimator = estimator, param_estimator

    def __call__(self, q, t, param=False):
        seed = 0
        if q.stochastic:
            seed = (self.seed * self.total + self.k) % 2 ** 64
            self.k += 1
        return _STE.apply(t, q, self.param_estimator if param else self.estimator, seed)


class TLinear(torch.nn.Linear):
    def __init__(self, m, quant):
        super().__init__(m.in_features, m.out_features, bias=m.bias is not None)
        self.wq, self.iq, self.quant = m.weight_quantizer, m.input_quantizer, quant

    def forward(self, x):
        lead = x.shape[:-1]
        x2 = x.reshape(-1, self.in_features)
        if self.iq:
            x2 = self.quant(self.iq, x2)
        w = self.quant(self.wq, self.weight, param=True) if self.wq else self.weight
        return F.linear(x2, w, self.bias).reshape(*lead, self.out_features)


class TEmbedding(torch.nn.Module):
    """torch.nn.Embedding's lookup on the indices of the one-hot rows."""

    def __init__(self, m, quant):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.zeros(m.num_embeddings, m.embedding_dim))
        self.wq, self.quant = m.weight_quantizer, quant

    def forward(self, onehot):
        w = self.quant(self.wq, self.weight, param=True) if self.wq else self.weight
        return F.embedding(onehot.argmax(-1), w)


class TPositional(torch.nn.Module):
    def __init__(self, m):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.zeros(m.max_len, m.dim))

    def forward(self, x):
        return x + self.weight[: x.shape[1]]


class TRMSNorm(torch.nn.Module):
    """torch.nn.RMSNorm (torch >= 2.4; this torch may be older)."""

    def __init__(self, m):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.ones(m.dim))
        self.eps = m.eps

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


class TAttention(torch.nn.Module):
    def __init__(self, m, quant):
        super().__init__()
        self.h, self.hd = m.num_heads, m.head_dim
        for name in ("q", "k", "v", "o"):
            setattr(self, name, TLinear(getattr(m, name), quant))

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = (getattr(self, n)(x).view(B, T, self.h, self.hd).transpose(1, 2)
                   for n in ("q", "k", "v"))
        att = (q @ k.transpose(-2, -1)) * (1.0 / np.sqrt(self.hd))
        mask = torch.ones(T, T, dtype=torch.bool).tril()
        att = att.masked_fill(~mask, float("-inf")).softmax(-1)
        return self.o((att @ v).transpose(1, 2).reshape(B, T, C))


class TMLP(torch.nn.Module):
    def __init__(self, m, quant):
        super().__init__()
        self.fc1 = TLinear(m.fc1, quant)
        self.act = to_torch(m.act, quant)
        self.fc2 = TLinear(m.fc2, quant)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class TBlock(torch.nn.Module):
    def __init__(self, m, quant):
        super().__init__()
        self.ln1 = to_torch(m.ln1, quant)
        self.attn = TAttention(m.attn, quant)
        self.ln2 = to_torch(m.ln2, quant)
        self.mlp = TMLP(m.mlp, quant)

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


def to_torch(m, quant):
    """The torch module of cage.nn module m, quantizers through `quant`."""
    if isinstance(m, nn.Linear):
        return TLinear(m, quant)
    if isinstance(m, nn.Embedding):
        return TEmbedding(m, quant)
    if isinstance(m, nn.PositionalEmbedding):
        return TPositional(m)
    if isinstance(m, nn.ReLU):
        return torch.nn.ReLU()
    if isinstance(m, nn.GELU):
        return torch.nn.GELU()
    if isinstance(m, nn.LayerNorm):
        ln = torch.nn.LayerNorm(m.dim, eps=m.eps, elementwise_affine=True)
        if m.bias is None:  # LayerNorm(bias=False) is torch >= 2.1's
            ln.register_parameter("bias", None)
        return ln
    if isinstance(m, nn.RMSNorm):
        return TRMSNorm(m)
    if isinstance(m, nn.CausalSelfAttention):
        return TAttention(m, quant)
    if isinstance(m, nn.MLP):
        return TMLP(m, quant)
    if isinstance(m, nn.TransformerBlock):
        return TBlock(m, quant)
    if isinstance(m, nn.Sequential):
        return torch.nn.Sequential(*[to_torch(c, quant) for c in m.children()])
    raise TypeError(type(m))


def torch_model(model, seed=0, total=0, **estimators):
    """The torch twin of `model` with its parameters loaded by name (so the
    names are torch's); estimators: Quant's."""
    t = to_torch(model, Quant(seed, total, **estimators))
    t.load_state_dict({n: torch.from_numpy(a.copy()) for n, a in model.state_dict().items()})
    return t


def stochastic_count(fn):
    return fn.text.count(" seed(")


# ---------------------------------------------------------------------------
# Comparison
# ---------------------------------------------------------------------------

def max_rel(got, want):
    """max |got - want| / max |want| (a max-norm relative error)."""
    got = np.asarray(got, np.float64)
    want = np.asarray(want, np.float64)
    assert got.shape == want.shape, (got.shape, want.shape)
    scale = max(float(np.max(np.abs(want))), 1e-30)
    return float(np.max(np.abs(got - want))) / scale


def check(label, got, want, tol):
    err = max_rel(got, want)
    ok = err <= tol
    print("%s %s: max-norm relative error %.2e (tolerance %.0e)"
          % ("PASS" if ok else "FAIL", label, err, tol))
    if not ok:
        raise AssertionError("%s: error %.3e above %.0e" % (label, err, tol))
    return err


def random_onehot(rng, shape):
    """One-hot f32 rows of `shape` (the last dimension the classes)."""
    return nn.one_hot(rng.integers(0, shape[-1], shape[:-1]), shape[-1])


def check_model(runner, label, model, x, tol, loss_tol=None, seed=None, rng=None):
    """The model's train function (loss) and eval function (loss, output)
    against torch on input x and random one-hot targets."""
    rng = rng or np.random.default_rng(1)
    loss_tol = tol if loss_tol is None else loss_tol
    ce = nn.CrossEntropyLoss()
    train = model.forward_mlir(x.shape, loss=ce)
    ev = model.forward_mlir(x.shape, loss=ce, mode="eval")
    assert train.results == [("loss", ())], train.results
    target = random_onehot(rng, ev.results[1][1])
    kw = {"target": target}
    if train.has_seed:
        kw["seed"] = seed
    (loss,) = runner.run(train, train.arguments(x, **kw), label + ".train")
    loss2, out = runner.run(ev, ev.arguments(x, **kw), label + ".eval")
    total = stochastic_count(train)
    with torch.no_grad():
        ref = torch_model(model, seed or 0, total)(torch.from_numpy(x))
        ref_loss = F.cross_entropy(ref.reshape(-1, ref.shape[-1]),
                                   torch.from_numpy(target).reshape(-1, ref.shape[-1]))
    assert loss.shape == () and loss.dtype == np.float32
    check(label + " output", out, ref.numpy(), tol)
    check(label + " loss", loss, ref_loss.numpy(), loss_tol)
    # The train and eval forms compute the loss with the same ops.
    assert loss.tobytes() == loss2.tobytes(), (loss, loss2)
    return out, ref.numpy()
