#!/usr/bin/python3
"""The whole QAT training step, cage against PyTorch eager, in one process.

Two models, each trained two ways:

  mlp    784 -> 1024 -> 1024 -> 10 (ReLU), batch 256, softmax cross-entropy
  block  one pre-norm transformer block (d 256, 4 heads, sequence 128, batch
         16 = 2048 tokens, causal self-attention, MLP 4*d with GELU) and a
         linear head d -> 256 classes, softmax cross-entropy per token

  w4a4   every Linear (the head too) quantizes its weight per row (output
         channel) and its input per token to 4 bits (cage's default
         quantizer: absmax, int grid -8..7, s = absmax / 7, ties to even),
         the clipped STE, AdamW with the CAGE correction at the paper's
         defaults (lambda 10, silence 0.8, linear ramp, decoupled)
  float  the same model without quantizers, plain AdamW

AdamW everywhere: lr 1e-3, betas (0.9, 0.95), eps 1e-8, weight decay 0.1 on
every parameter (cage's default, and torch.optim.AdamW's as configured here).

cage: the model is written with cage.nn (forward + loss, parameters marked
with #cage.param), compiled once with cage.compile(text, gradients=True),
which generates loss (the forward), loss_grad (forward + backward: the loss
and every gradient) and loss_train_step_inplace (forward, backward and the
optimizer step; parameters and AdamW state updated where they are, no
per-call parameter copies). Each is timed; optimizer = step - grad.

torch: what a researcher writes in eager mode: a fake-quant
torch.autograd.Function (the quantizer of docs/Semantics.md section 1.1 and
the clipped STE of section 1.2), QLinear layers, torch.optim.AdamW, and the
decoupled CAGE correction w -= lr * lambda_t * (w - Q(w)) after
optimizer.step() (the error taken before the step, as bench/torch_step.py
does). Timed per phase: forward (zero_grad + loss), backward, optimizer
(step + correction).

Before timing, per model and training: one cage forward and the torch
forward from the same weights and batch, their losses compared; the
gradients of loss_grad against torch autograd; a few steps of both from
the same start, whose losses must decrease; cage.quantize against the torch
quantizer bit for bit on the weights and the batch.

OpenMP: cage's compiled code runs on LLVM's libomp, torch 1.13 on libgomp;
the script re-executes itself with LD_PRELOAD=libomp (one runtime, one pool,
as bench/torch_step.py does) and KMP_BLOCKTIME=0, and without
OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE (OpenBLAS then picks its kernels from
the CPU). Threads: torch.set_num_threads, omp_set_num_threads and
openblas_set_num_threads (torch's BLAS is OpenBLAS with its own pthreads).
Every call's minor page faults are recorded; --malloc retain keeps glibc
from returning freed memory to the kernel (README.md, "Page faults").

    whole_step.py [--quick] [--models mlp,block] [--threads 1,2]
                  [--variants w4a4,float] [--calls N] [--warmup N]
                  [--attention generic|matmul] [--malloc default|retain]
                  [--json FILE] [--txt FILE]    (--help: all options)
"""

import ctypes
import datetime
import math
import os
import sys
import time

sys.dont_write_bytecode = True  # before the first import from bench/step

import harness  # noqa: E402  (the standard library only: importable before the re-exec)
from harness import MALLOC_RETAIN, SHAPES, clock, say, stats  # noqa: E402

# Unset by the re-exec: OpenBLAS then picks its kernels from the CPU.
OPENBLAS_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")

LR = 1e-3
BETAS, EPS, WEIGHT_DECAY = (0.9, 0.95), 1e-8, 0.1
LAMBDA, SILENCE = 10.0, 0.8
BITS = 4

VARIANTS = ("w4a4", "float")


def parse_args():
    p = harness.argument_parser(__doc__)
    p.add_argument("--variants", default=",".join(VARIANTS))
    p.add_argument("--calls", type=int, help="timed calls (20; --quick 3)")
    p.add_argument("--warmup", type=int, help="untimed calls first (2; --quick 1)")
    p.add_argument("--attention", choices=("generic", "matmul"), default="generic",
                   help="cage.nn CausalSelfAttention impl of the block (generic: "
                   "linalg.generic contractions; matmul: a linalg.matmul per batch "
                   "and head)")
    p.add_argument("--pause", type=float, default=0.1,
                   help="seconds of sleep before each implementation's calls in a "
                   "round (0.1): OpenBLAS's pthreads spin for about 2^28 cycles after "
                   "a call and would take a core from the cage call that follows")
    harness.add_process_arguments(
        p, memory_help="address-space limit of the process (RLIMIT_AS, 12 GiB; 0: "
        "none): a compiler that runs away fails here with 'LLVM ERROR: "
        "out of memory' instead of taking the machine's memory",
        malloc_help="default: glibc's malloc as configured; retain: "
        "MALLOC_MMAP_THRESHOLD_ and MALLOC_TRIM_THRESHOLD_ set so that freed "
        "memory stays in the heap (no fresh pages, so no page faults, per call)")
    p.add_argument("--check-steps", type=int, default=5,
                   help="training steps of the sanity check (5)")
    harness.add_output_arguments(p, "step", no_reexec_help="do not re-execute with "
                                 "LD_PRELOAD=libomp (two OpenMP runtimes then)")
    a = harness.parse_args(p, "step")
    a.variants = [v for v in a.variants.split(",") if v]
    for v in a.variants:
        if v not in VARIANTS:
            p.error(f"unknown variant {v!r} (w4a4, float)")
    return a


ARGS = parse_args()
# Re-executes (libomp preloaded, KMP_BLOCKTIME=0, without the OPENBLAS_*
# overrides) unless that is already so, then limits the memory.
harness.start(ARGS, unset=OPENBLAS_VARS)
sys.path.insert(0, harness.HERE)  # report_step

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import cage  # noqa: E402
from cage import nn as cnn  # noqa: E402

import report_step  # noqa: E402


# ---------------------------------------------------------------------------
# Threads and libraries
# ---------------------------------------------------------------------------


class Runtimes(harness.Threads):
    """The thread counts of every runtime in the process: libomp's pool
    (harness.Threads: cage's parallel loops, and torch's, whose libgomp
    calls the preloaded libomp answers), torch's own setting, and OpenBLAS's
    pthreads (torch's GEMMs), which neither of the others reaches."""

    def __init__(self):
        super().__init__()
        self.blas = None
        self.blas_info = {}
        try:
            blas = ctypes.CDLL("libblas.so.3")
            blas.openblas_get_corename.restype = ctypes.c_char_p
            blas.openblas_get_config.restype = ctypes.c_char_p
            self.blas = blas
            self.blas_info = {"corename": blas.openblas_get_corename().decode(),
                              "config": blas.openblas_get_config().decode(),
                              "parallel": int(blas.openblas_get_parallel())}
        except (OSError, AttributeError) as e:
            self.blas_info = {"error": str(e)}

    def set_threads(self, n):
        torch.set_num_threads(n)
        super().set_threads(n)
        if self.blas is not None:
            self.blas.openblas_set_num_threads(n)


# ---------------------------------------------------------------------------
# The λ schedule (docs/Semantics.md §1.3, cage.lambda_schedule)
# ---------------------------------------------------------------------------


def lambda_t(t, total, lam=LAMBDA, silence=SILENCE):
    r = min(t / total, 1.0)
    return 0.0 if r <= silence else lam * (r - silence) / (1.0 - silence)


# ---------------------------------------------------------------------------
# PyTorch eager: what a researcher writes
# ---------------------------------------------------------------------------


class FakeQuant(torch.autograd.Function):
    """Per-row (last dimension) symmetric fake quantization, docs/Semantics.md
    §1.1 with cage's defaults: alpha = max(absmax, 1e-8), s = alpha / qmax,
    r = clamp(round(x / s), qmin, qmax) (round: ties to even), q = r * s;
    backward: the clipped STE of §1.2 (zero where round(x / s) is outside
    [qmin, qmax], the gradient unchanged elsewhere)."""

    @staticmethod
    def forward(ctx, x, bits):
        qmax = 2 ** (bits - 1) - 1
        qmin = -(2 ** (bits - 1))
        alpha = x.abs().amax(dim=-1, keepdim=True).clamp_min(1e-8)
        s = alpha / qmax
        r = torch.round(x / s)
        ctx.save_for_backward((r < qmin) | (r > qmax))
        return r.clamp_(qmin, qmax).mul_(s)

    @staticmethod
    def backward(ctx, dy):
        (clipped,) = ctx.saved_tensors
        return dy.masked_fill(clipped, 0.0), None


def fake_quant(x, bits):
    return FakeQuant.apply(x, bits)


class QLinear(torch.nn.Linear):
    """nn.Linear with fake-quantized input (per token) and weight (per
    output channel) when bits is set."""

    def __init__(self, in_features, out_features, bits=None):
        super().__init__(in_features, out_features)
        self.bits = bits

    def forward(self, x):
        if self.bits is None:
            return F.linear(x, self.weight, self.bias)
        return F.linear(fake_quant(x, self.bits), fake_quant(self.weight, self.bits), self.bias)


class TorchMLP(torch.nn.Sequential):
    def __init__(self, sizes, bits):
        layers = []
        for i in range(len(sizes) - 1):
            if i:
                layers.append(torch.nn.ReLU())
            layers.append(QLinear(sizes[i], sizes[i + 1], bits))
        super().__init__(*layers)


class TorchAttention(torch.nn.Module):
    def __init__(self, dim, heads, bits):
        super().__init__()
        self.heads = heads
        self.q = QLinear(dim, dim, bits)
        self.k = QLinear(dim, dim, bits)
        self.v = QLinear(dim, dim, bits)
        self.o = QLinear(dim, dim, bits)

    def forward(self, x):
        b, s, d = x.shape
        h, hd = self.heads, d // self.heads
        q = self.q(x).view(b, s, h, hd).transpose(1, 2)
        k = self.k(x).view(b, s, h, hd).transpose(1, 2)
        v = self.v(x).view(b, s, h, hd).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(hd))
        mask = torch.ones(s, s, dtype=torch.bool).triu(1)
        att = att.masked_fill(mask, float("-inf")).softmax(dim=-1)
        y = (att @ v).transpose(1, 2).reshape(b, s, d)
        return self.o(y)


class TorchMLPBlock(torch.nn.Module):
    def __init__(self, dim, hidden, bits):
        super().__init__()
        self.fc1 = QLinear(dim, hidden, bits)
        self.act = torch.nn.GELU()
        self.fc2 = QLinear(hidden, dim, bits)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class TorchBlock(torch.nn.Module):
    def __init__(self, dim, heads, bits):
        super().__init__()
        self.ln1 = torch.nn.LayerNorm(dim)
        self.attn = TorchAttention(dim, heads, bits)
        self.ln2 = torch.nn.LayerNorm(dim)
        self.mlp = TorchMLPBlock(dim, 4 * dim, bits)

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class TorchTrainer:
    """The eager step in three timed phases."""

    def __init__(self, model, bits, total_steps):
        self.model = model
        self.bits = bits
        self.opt = torch.optim.AdamW(model.parameters(), lr=LR, betas=BETAS, eps=EPS,
                                     weight_decay=WEIGHT_DECAY)
        # The CAGE correction goes to the quantized parameters: Linear weights.
        self.quantized = ([m.weight for m in model.modules() if isinstance(m, QLinear)]
                          if bits else [])
        self.t = 0
        self.total_steps = total_steps

    def forward(self, x, y):
        self.opt.zero_grad(set_to_none=True)
        logits = self.model(x)
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))

    @staticmethod
    def backward(loss):
        loss.backward()

    def optimizer(self):
        self.t += 1
        with torch.no_grad():
            # CAGE, decoupled: e = w - Q(w) of the weights before the step,
            # then w -= lr * lambda_t * e after AdamW's step.
            errors = [p - fake_quant(p, self.bits) for p in self.quantized]
            self.opt.step()
            lam = lambda_t(self.t, self.total_steps)
            for p, e in zip(self.quantized, errors):
                p.sub_(e, alpha=LR * lam)


# ---------------------------------------------------------------------------
# The models in cage.nn and in torch, from the same weights
# ---------------------------------------------------------------------------


def build_models(name, shapes, variant, attention="generic"):
    """(cage.nn model, torch model, input shape, number of classes); the
    torch model loads the cage.nn model's initial weights by name."""
    bits = BITS if variant == "w4a4" else None
    cmodel, in_shape, classes = harness.build_cage_model(name, shapes, bits, attention)
    if name == "mlp":
        tmodel = TorchMLP(shapes["sizes"], bits)
    else:
        d, h, c = shapes["dim"], shapes["heads"], shapes["classes"]
        tmodel = torch.nn.Sequential(TorchBlock(d, h, bits), QLinear(d, c, bits))
    tmodel.load_state_dict({k: torch.from_numpy(v.copy())
                            for k, v in cmodel.state_dict().items()}, strict=True)
    return cmodel, tmodel, in_shape, classes


class CageModel:
    """The compiled functions of one model and variant, with their own
    copies of the parameters and AdamW state."""

    def __init__(self, cmodel, in_shape):
        self.fn = cmodel.forward_mlir(in_shape, loss=cnn.CrossEntropyLoss())
        start = time.perf_counter()
        self.module = cage.compile(self.fn.text, filename="whole_step", gradients=True)
        self.compile_s = time.perf_counter() - start
        name = self.fn.name
        self.forward_f = self.module[name]
        self.grad_f = self.module[name + "_grad"]
        self.step_f = self.module[name + "_train_step_inplace"]
        self.names = [n for n, _ in self.fn.params]
        self.initial = [a.copy() for _, a in self.fn.params]
        self.reset()

    def reset(self):
        self.params = [a.copy() for a in self.initial]
        self.state = [[np.zeros_like(a), np.zeros_like(a)] for a in self.initial]
        self.t = 0

    def forward(self, x, y):
        return self.forward_f(x, y, *self.params)

    def grad(self, x, y):
        return self.grad_f(x, y, *self.params)

    def step(self, x, y, total_steps):
        self.t += 1
        args = [x, y]
        for p, (m, v) in zip(self.params, self.state):
            args += [p, m, v]
        return self.step_f(*args, self.t, total_steps, LR)


def reset_torch(tmodel, cm):
    with torch.no_grad():
        named = dict(tmodel.named_parameters())
        for n, a in zip(cm.names, cm.initial):
            named[n].copy_(torch.from_numpy(a))


# ---------------------------------------------------------------------------
# Sanity checks
# ---------------------------------------------------------------------------


def quantizer_check(arrays):
    """cage.quantize (default quantizer: 4 bits, per row) against FakeQuant,
    bit for bit, on 2-d arrays (the weights, the batch)."""
    out = []
    for label, a in arrays:
        a2 = np.ascontiguousarray(a.reshape(-1, a.shape[-1]))
        r, c = a2.shape
        text = (f"func.func @q(%x: tensor<{r}x{c}xf32>) -> tensor<{r}x{c}xf32> {{\n"
                f"  %q = cage.quantize %x {{quantizer = #cage.quantizer<bits = {BITS}>}}"
                f" : tensor<{r}x{c}xf32>\n  return %q : tensor<{r}x{c}xf32>\n}}\n")
        ours = np.asarray(cage.compile(text, filename="quantize")["q"](a2))
        theirs = fake_quant(torch.from_numpy(a2), BITS).numpy()
        out.append({"tensor": label, "shape": [r, c],
                    "bitwise_equal": bool(np.array_equal(ours.view(np.uint32),
                                                         theirs.view(np.uint32))),
                    "differing": int(np.count_nonzero(ours != theirs))})
    return out


def rel(a, b, floor=1e-30):
    """The largest difference relative to b's largest magnitude (at least
    floor)."""
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    return float(np.abs(a - b).max() / max(np.abs(b).max(), floor))


# Tolerances on the loss of one forward from the same weights and batch
# (relative). float: both compute in f32, only the order of the sums differs.
# w4a4: the batch and the weights quantize identically (checked bit for
# bit), but hidden activations are matmul results summed in another order;
# an element within an ulp of a rounding boundary between two of the 16
# levels then lands one level (s = absmax/7) apart, which moves the loss by
# more than rounding does.
LOSS_TOL = {"float": 1e-5, "w4a4": 2e-3}
GRAD_TOL = {"float": 1e-3, "w4a4": None}


def sanity_check(name, variant, cm, tmodel, x, labels, onehot, steps):
    cm.reset()
    reset_torch(tmodel, cm)
    xt, yt = torch.from_numpy(x), torch.from_numpy(labels)
    loss_c = cm.forward(x, onehot)
    tt = TorchTrainer(tmodel, BITS if variant == "w4a4" else None, steps)
    loss_t_tensor = tt.forward(xt, yt)
    loss_t = float(loss_t_tensor)
    tt.backward(loss_t_tensor)
    res = cm.grad(x, onehot)
    grads_t = {n: p.grad.numpy() for n, p in tmodel.named_parameters()}
    # Relative to the parameter's largest gradient, but at least 1e-3 of the
    # largest gradient of the model: some gradients are zero up to rounding
    # (attention's key bias shifts every score of a row alike, which the
    # softmax ignores), and their relative difference would be noise.
    floor = 1e-3 * max(float(np.abs(g).max()) for g in grads_t.values())
    grad_rel = {n: rel(g, grads_t[n], floor) for n, g in zip(cm.names, res[1:])}
    rec = {"model": name, "variant": variant,
           "loss_cage": float(loss_c), "loss_torch": loss_t,
           "loss_grad_cage": float(res[0]),
           "loss_rel_diff": abs(loss_c - loss_t) / abs(loss_t),
           "loss_tol": LOSS_TOL[variant],
           "grad_max_rel_diff": max(grad_rel.values()),
           "grad_worst_param": max(grad_rel, key=grad_rel.get),
           "grad_tol": GRAD_TOL[variant]}
    # A few steps of both on the same batch from the same start: T = steps,
    # so that the λ ramp (r > 0.8) is reached on the last step(s).
    cm.reset()
    reset_torch(tmodel, cm)
    tt = TorchTrainer(tmodel, BITS if variant == "w4a4" else None, steps)
    lc, lt = [], []
    for _ in range(steps):
        lc.append(float(cm.step(x, onehot, steps)))
        loss = tt.forward(xt, yt)
        lt.append(float(loss))
        tt.backward(loss)
        tt.optimizer()
    lc.append(float(cm.forward(x, onehot)))
    with torch.no_grad():
        lt.append(float(tt.forward(xt, yt)))
    named = dict(tmodel.named_parameters())
    rec["steps"] = steps
    rec["losses_cage"] = lc
    rec["losses_torch"] = lt
    rec["lambda_t"] = [lambda_t(t, steps) for t in range(1, steps + 1)]
    rec["params_max_rel_diff_after_steps"] = max(
        rel(p, named[n].detach().numpy()) for n, p in zip(cm.names, cm.params))
    rec["decreases_cage"] = lc[-1] < lc[0]
    rec["decreases_torch"] = lt[-1] < lt[0]
    ok = rec["loss_rel_diff"] <= rec["loss_tol"] and rec["decreases_cage"] and \
        rec["decreases_torch"]
    if rec["grad_tol"] is not None:
        ok = ok and rec["grad_max_rel_diff"] <= rec["grad_tol"]
    rec["ok"] = bool(ok)
    cm.reset()
    reset_torch(tmodel, cm)
    return rec


# ---------------------------------------------------------------------------
# Timing
# ---------------------------------------------------------------------------


def measure(name, setups, threads, x, labels, onehot, args):
    """Rounds over every variant: cage forward, grad, step; torch forward,
    backward, optimizer. Returns one record per variant."""
    total = args.warmup + args.calls
    xt, yt = torch.from_numpy(x), torch.from_numpy(labels)
    samples = {}
    trainers = {}
    for variant, (cm, tmodel) in setups.items():
        cm.reset()
        reset_torch(tmodel, cm)
        trainers[variant] = TorchTrainer(tmodel, BITS if variant == "w4a4" else None, total)
        samples[variant] = {k: [] for k in ("cage_forward", "cage_grad", "cage_step",
                                            "torch_forward", "torch_backward",
                                            "torch_optimizer", "torch_total")}
    faults = {v: {k: [] for k in ("cage_forward", "cage_grad", "cage_step", "torch_forward",
                                  "torch_backward", "torch_optimizer")} for v in setups}
    order = list(setups.items())
    for r in range(total):
        # Alternate the order of the trainings from round to round, so that
        # neither always follows the other's torch calls.
        for variant, (cm, tmodel) in (order if r % 2 == 0 else order[::-1]):
            s = samples[variant]
            time.sleep(args.pause)
            t0 = clock()
            cm.forward(x, onehot)
            t1 = clock()
            g = cm.grad(x, onehot)
            t2 = clock()
            cm.step(x, onehot, total)
            t3 = clock()
            del g
            tt = trainers[variant]
            time.sleep(args.pause)
            u0 = clock()
            loss = tt.forward(xt, yt)
            u1 = clock()
            tt.backward(loss)
            u2 = clock()
            tt.optimizer()
            u3 = clock()
            del loss
            if r >= args.warmup:
                for k, a, b in (("cage_forward", t0, t1), ("cage_grad", t1, t2),
                                ("cage_step", t2, t3), ("torch_forward", u0, u1),
                                ("torch_backward", u1, u2), ("torch_optimizer", u2, u3),
                                ("torch_total", u0, u3)):
                    s[k].append(b[0] - a[0])
                    if k in faults[variant]:
                        faults[variant][k].append(b[1] - a[1])
    records = []
    for variant, s in samples.items():
        rec = {"model": name, "variant": variant, "threads": threads,
               "calls": args.calls, "warmup": args.warmup}
        for k, v in s.items():
            rec[k] = stats(v)
        # Minor page faults per call (median), the whole process: fresh pages
        # that the allocations of a call touch.
        rec["page_faults"] = {k: int(np.median(v)) for k, v in faults[variant].items()}
        rec["cage_optimizer"] = {"median_ms": rec["cage_step"]["median_ms"] -
                                 rec["cage_grad"]["median_ms"],
                                 "min_ms": rec["cage_step"]["min_ms"] -
                                 rec["cage_grad"]["min_ms"]}
        rec["torch_total/cage_step"] = (rec["torch_total"]["median_ms"] /
                                        rec["cage_step"]["median_ms"])
        rec["torch_total/cage_step (min)"] = (rec["torch_total"]["min_ms"] /
                                              rec["cage_step"]["min_ms"])
        records.append(rec)
    by = {r["variant"]: r for r in records}
    if "w4a4" in by and "float" in by:
        for r in records:
            r["cage_w4a4_step/cage_float_step"] = (by["w4a4"]["cage_step"]["median_ms"] /
                                                   by["float"]["cage_step"]["median_ms"])
            r["cage_w4a4_step/cage_float_step (min)"] = (by["w4a4"]["cage_step"]["min_ms"] /
                                                         by["float"]["cage_step"]["min_ms"])
            r["torch_w4a4_total/torch_float_total"] = (
                by["w4a4"]["torch_total"]["median_ms"] / by["float"]["torch_total"]["median_ms"])
    return records


def main(args):
    wall0 = time.perf_counter()
    load_before = harness.load_average()
    rt = Runtimes()
    say(f"whole_step.py: torch {torch.__version__}, cage library {cage.library_path()} "
        f"(API {cage.api_version()}), numpy {np.__version__}")
    say(f"  LD_PRELOAD={os.environ.get('LD_PRELOAD', '')} "
        f"KMP_BLOCKTIME={os.environ.get('KMP_BLOCKTIME')} "
        + " ".join(f"{v}={os.environ.get(v, '(unset)')}" for v in OPENBLAS_VARS + tuple(MALLOC_RETAIN)))
    say(f"  OpenBLAS: {rt.blas_info}")
    config = torch.__config__.show()
    say("  torch.__config__.show():")
    for line in config.strip().splitlines():
        say("    " + line)
    say(f"  {'quick: ' if args.quick else ''}{args.calls} timed calls after "
        f"{args.warmup} warm-up, medians (min); load average {load_before:.2f}")
    if load_before > 1:
        say(f"  warning: load average {load_before:.2f} > 1: other processes share the cores")

    checks, records, quant_checks, compiles = [], [], [], []
    done = []

    def result():
        return {
            "meta": {
                "date": datetime.datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"),
                "quick": args.quick, "calls": args.calls, "warmup": args.warmup,
                "threads": args.threads, "models": args.models, "variants": args.variants,
                "models_done": list(done),
                "attention_impl": args.attention, "pause_s": args.pause,
                "malloc": args.malloc,
                "malloc_env": {v: os.environ.get(v) for v in MALLOC_RETAIN},
                "shapes": {m: SHAPES[m][1 if args.quick else 0] for m in args.models},
                "lr": LR, "betas": BETAS, "eps": EPS, "weight_decay": WEIGHT_DECAY,
                "lambda": LAMBDA, "silence": SILENCE, "bits": BITS,
                "torch": torch.__version__, "torch_config": config,
                "openblas": rt.blas_info, "cage_library": cage.library_path(),
                "ld_preload": os.environ.get("LD_PRELOAD", ""),
                "kmp_blocktime": os.environ.get("KMP_BLOCKTIME"),
                "cpu_count": os.cpu_count(), "cpu_model": harness.cpu_model(),
                "load_before": load_before, "load_after": harness.load_average(),
                "wall_s": time.perf_counter() - wall0,
                "cage_step_function": "<f>_train_step_inplace",
            },
            "compiles": compiles, "quantizer_checks": quant_checks, "checks": checks,
            "records": records,
        }

    def write(final):
        harness.write_results(args, result(), done, final)

    for name in args.models:
        shapes = SHAPES[name][1 if args.quick else 0]
        setups = {}
        for variant in args.variants:
            cmodel, tmodel, in_shape, classes = build_models(name, shapes, variant, args.attention)
            say(f"{name} {variant}: compiling ({shapes}) ...")
            cm = CageModel(cmodel, in_shape)
            compiles.append({"model": name, "variant": variant, "compile_s": cm.compile_s,
                             "mlir_lines": cm.fn.text.count("\n")})
            say(f"  compiled in {cm.compile_s:.1f} s; step: "
                f"{str(cm.step_f.signature).count('memref')} memref arguments "
                "(_train_step_inplace)")
            setups[variant] = (cm, tmodel)
        x, labels, onehot = harness.make_batch(in_shape, classes)
        rt.set_threads(max(args.threads))
        if "w4a4" in setups:
            cm = setups["w4a4"][0]
            qc = quantizer_check([("x", x)] + [
                (n, a) for n, a in zip(cm.names, cm.initial) if a.ndim == 2])
            for q in qc:
                q["model"] = name
            quant_checks += qc
            say(f"  cage.quantize = FakeQuant bit for bit on "
                f"{sum(q['bitwise_equal'] for q in qc)}/{len(qc)} tensors "
                f"({', '.join(q['tensor'] for q in qc if not q['bitwise_equal']) or 'all'}"
                f"{' differ' if not all(q['bitwise_equal'] for q in qc) else ''})")
        for variant, (cm, tmodel) in setups.items():
            rec = sanity_check(name, variant, cm, tmodel, x, labels, onehot, args.check_steps)
            checks.append(rec)
            say(f"  check {name} {variant}: loss cage {rec['loss_cage']:.7f} torch "
                f"{rec['loss_torch']:.7f} rel {rec['loss_rel_diff']:.1e} (tol "
                f"{rec['loss_tol']:.0e}); grads max rel {rec['grad_max_rel_diff']:.1e} "
                f"({rec['grad_worst_param']}); {rec['steps']} steps: cage "
                f"{rec['losses_cage'][0]:.4f} -> {rec['losses_cage'][-1]:.4f}, torch "
                f"{rec['losses_torch'][0]:.4f} -> {rec['losses_torch'][-1]:.4f}; "
                f"params after: max rel {rec['params_max_rel_diff_after_steps']:.1e}; "
                f"{'ok' if rec['ok'] else 'FAILED'}")
        for threads in args.threads:
            rt.set_threads(threads)
            recs = measure(name, setups, threads, x, labels, onehot, args)
            records += recs
            for r in recs:
                say("  " + report_step.line(r))
            say(f"  load average {harness.load_average():.2f}")
        done.append(name)
        del setups
        write(final=False)
    say("")
    say(report_step.markdown(result()))
    say(f"whole_step.py: {time.perf_counter() - wall0:.1f} s")
    write(final=True)
    return 0 if all(c["ok"] for c in checks) else 1


if __name__ == "__main__":
    sys.exit(main(ARGS))
