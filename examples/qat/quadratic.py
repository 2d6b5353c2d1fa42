#!/usr/bin/python3
"""Experiment 3 of docs/QAT.md: the noisy quadratic.

    f(x) = 1/2 (x - x*)^T A (x - x*),   x in R^256

A = U diag(a) U^T with eigenvalues a_i = kappa^(i/255) spread geometrically
over [1, kappa] (kappa = 1, 10, 100) and U a random orthogonal matrix
(--basis diagonal: U = I); x* ~ N(0, I), the start x_0 ~ N(0, I). Training
sees noisy gradients: at every step the gradient with respect to the
deployed point is A (Q(x) - x*) + sigma xi, xi ~ N(0, I) (sigma = --noise).
x is quantized per tensor (one absmax scale for all 256 values, int grid)
at 3 and 4 bits, and what is reported is the deployed loss f(Q(x_T)) after
T steps, with f(Q(x*)) (round to nearest of the exact optimum) as a
reference.

The step runs through the compiler. The forward is hand-written MLIR (below,
`forward_mlir`) with x a `cage.param` argument and the noise a data
argument:

    loss(noise, x*, A, x) = 1/2 (Q(x) - x*)^T A (Q(x) - x*) + noise . Q(x)

whose gradient with respect to Q(x) is A (Q(x) - x*) + noise, passed to x
by the clipped STE; cage.compile runs cage-autodiff on it and the script
calls the generated @loss_train_step_inplace (arguments: noise, x*, A, x,
m, v, t, T, lr; x, m, v updated in place: docs/Training.md, "The generated
functions"). The optimizer is Adam (AdamW without weight decay, betas 0.9,
0.95), lr 0.02 with a cosine decay to 0.0002, T = 2000 steps. Methods:
full precision (the same without Q: f(x_T)), PTQ (f(Q(x_T)) of the FP run),
STE-Adam, CAGE coupled and decoupled (lambda from a sweep on separate
instances, seeds 1000.., per bit width and kappa). The deployed loss is the
evaluation function @loss of the compiled module itself (cage-autodiff keeps
it, without its cage.param attributes) called with zero noise, so Q is
cage.quantize; a numpy implementation of the quantizer checks it.

Seeds (0..9) draw U, x*, x_0 and the noise sequence; the same seed gives
the same instance and noise for every method and every kappa (only the
eigenvalues change), so the comparisons are paired.

    quadratic.py [--quick] [--out DIR] [--kappas 1,10,100] [--bits 4,3]
                 [--seeds 10] [--steps 2000] [--lr 0.02] [--noise 1.0]
                 [--dim 256] [--basis random|diagonal] [--lambdas 1,3,10,30]
                 [--sweep-seeds 3] [--methods ...] [--resume]
"""

import argparse
import sys
import time

import common
from common import cage, nn, np


def forward_mlir(dim, quantizer, param_attr):
    """The loss as MLIR: quantizer None for the full-precision model;
    param_attr the #cage.param<...> of x (None: no attribute, an evaluation
    function only)."""
    attr = "" if param_attr is None else " {cage.param = %s}" % param_attr
    t = "tensor<1x%dxf32>" % dim
    lines = [
        "#id = affine_map<(i, j) -> (i, j)>",
        "#all = affine_map<(i, j) -> ()>",
        "func.func @loss(%%noise: %s, %%xs: %s, %%a: tensor<%dx%dxf32>," % (t, t, dim, dim),
        "                %%x: %s%s) -> f32 {" % (t, attr),
        "  %zero = arith.constant 0.0 : f32",
        "  %half = arith.constant 0.5 : f32",
    ]
    if quantizer is not None:
        lines.append("  %%xq = cage.quantize %%x {quantizer = %s} : %s" % (quantizer.mlir(), t))
        xq = "%xq"
    else:
        xq = "%x"
    lines += [
        "  %d0 = tensor.empty() : " + t,
        "  %d = linalg.generic {indexing_maps = [#id, #id, #id], "
        "iterator_types = [\"parallel\", \"parallel\"]}",
        "      ins(%s, %%xs : %s, %s) outs(%%d0 : %s) {" % (xq, t, t, t),
        "  ^bb0(%p: f32, %q: f32, %o: f32):",
        "    %r = arith.subf %p, %q : f32",
        "    linalg.yield %r : f32",
        "  } -> " + t,
        "  %y0 = tensor.empty() : " + t,
        "  %%yz = linalg.fill ins(%%zero : f32) outs(%%y0 : %s) -> %s" % (t, t),
        "  %%ad = linalg.matmul ins(%%d, %%a : %s, tensor<%dx%dxf32>) outs(%%yz : %s) -> %s"
        % (t, dim, dim, t, t),
        "  %s0 = tensor.empty() : tensor<f32>",
        "  %sz = linalg.fill ins(%zero : f32) outs(%s0 : tensor<f32>) -> tensor<f32>",
        "  %sum = linalg.generic {indexing_maps = [#id, #id, #id, #id, #all], "
        "iterator_types = [\"reduction\", \"reduction\"]}",
        "      ins(%%d, %%ad, %%noise, %s : %s, %s, %s, %s) outs(%%sz : tensor<f32>) {"
        % (xq, t, t, t, t),
        "  ^bb0(%dd: f32, %aa: f32, %nn: f32, %qq: f32, %acc: f32):",
        "    %c = arith.mulf %dd, %aa : f32",
        "    %h = arith.mulf %c, %half : f32",
        "    %g = arith.mulf %nn, %qq : f32",
        "    %e = arith.addf %h, %g : f32",
        "    %r = arith.addf %acc, %e : f32",
        "    linalg.yield %r : f32",
        "  } -> tensor<f32>",
        "  %loss = tensor.extract %sum[] : tensor<f32>",
        "  return %loss : f32",
        "}",
    ]
    return "\n".join(lines) + "\n"


def quantize_reference(x, bits):
    """docs/Semantics.md §1.1, per tensor, absmax, int grid, nearest (f32)."""
    x = np.asarray(x, np.float32)
    qmax = np.float32(2 ** (bits - 1) - 1)
    qmin = np.float32(-(2 ** (bits - 1)))
    m = np.max(np.abs(x))
    alpha = m if m > np.float32(1e-8) else np.float32(1e-8)
    s = np.float32(alpha / qmax)
    r = np.clip(np.rint(x / s), qmin, qmax)
    return (r * s).astype(np.float32)


class QuadraticTask:
    metric = "deployed_loss"
    higher_is_better = False
    bits_label = staticmethod(lambda b: bits_only(b))

    def __init__(self, args):
        self.args = args
        self.steps = {}
        self.evals = {}
        self.instances = {}

    def quantizer(self, bits):
        return nn.Quantizer(bits=bits, granularity="tensor")

    def step_function(self, method, bits, lam):
        key = (method.name, bits, lam)
        if key not in self.steps:
            q = self.quantizer(bits) if method.train == "qat" else None
            config = nn.ParamConfig(optimizer=nn.AdamW(weight_decay=0.0))
            config = config.replace(**method.weight_config(lam, self.args.silence))
            text = forward_mlir(self.args.dim, q, config.mlir(q))
            t0 = time.perf_counter()
            module = cage.compile(text, filename="<quadratic %s>" % method.name)
            print("compiled %s %s%s in %.1f s" % (
                method.name, bits_only(bits) if q else "FP",
                " lambda %g" % lam if lam is not None else "", time.perf_counter() - t0),
                flush=True)
            self.steps[key] = module["loss_train_step_inplace"]
        return self.steps[key]

    def loss_function(self, bits):
        """f(Q(x)) (bits None: f(x)) as a compiled function of (x*, A, x)."""
        if bits not in self.evals:
            q = None if bits is None else self.quantizer(bits)
            module = cage.compile(forward_mlir(self.args.dim, q, None),
                                  filename="<quadratic eval>")
            zero = np.zeros((1, self.args.dim), np.float32)
            fn = module["loss"]
            self.evals[bits] = lambda xs, a, x, fn=fn, zero=zero: float(fn(zero, xs, a, x))
        return self.evals[bits]

    def instance(self, seed, kappa):
        key = (seed, kappa)
        if key not in self.instances:
            d = self.args.dim
            rng = np.random.default_rng([seed, 0])
            if self.args.basis == "random":
                u, r = np.linalg.qr(rng.standard_normal((d, d)))
                u = u * np.sign(np.diag(r))      # Haar-distributed
            else:
                rng.standard_normal((d, d))      # keep the streams aligned
                u = np.eye(d)
            eig = float(kappa) ** (np.arange(d) / (d - 1))
            a = (u * eig) @ u.T
            a = ((a + a.T) / 2).astype(np.float32)
            xs = rng.standard_normal((1, d)).astype(np.float32)
            x0 = rng.standard_normal((1, d)).astype(np.float32)
            self.instances[key] = (np.ascontiguousarray(a), xs, x0)
        return self.instances[key]

    def prepare(self, method, bits, lam):
        self.step_function(method, bits, lam)

    def train(self, method, bits, lam, seed, cond, phase):
        a, xs, x0 = self.instance(seed, cond["kappa"])
        step = self.step_function(method, bits, lam)
        steps = self.args.steps
        x = x0.copy()
        m = np.zeros_like(x)
        v = np.zeros_like(x)
        noise_rng = np.random.default_rng([seed, 1])
        noise = np.empty_like(x)
        xs_arg, a_arg = xs.copy(), a.copy()    # memref arguments of the in-place step
        for t in range(1, steps + 1):
            noise[...] = self.args.noise * noise_rng.standard_normal(x.shape)
            lr = common.lr_at(t, steps, self.args.lr, 0, self.args.final_lr)
            step(noise, xs_arg, a_arg, x, m, v, t, steps, lr)
        if not np.all(np.isfinite(x)):
            raise FloatingPointError("x is not finite after training (%s)" % method.name)
        return {"x": x, "steps": steps, "seed": seed}

    def evaluate(self, h, method, bits, cond, split):
        x = h["x"]
        a, xs, _ = self.instance(h["seed"], cond["kappa"])
        deployed = bits if method.quantized else None
        out = {"deployed_loss": self.loss_function(deployed)(xs, a, x),
               "fp_loss": self.loss_function(None)(xs, a, x),
               "rtn_optimum_loss": self.loss_function(bits)(xs, a, xs) if deployed else None,
               "steps": h["steps"]}
        if deployed:
            # The compiled quantizer against numpy's (f64 quadratic form).
            e = quantize_reference(x, bits).astype(np.float64) - xs.astype(np.float64)
            ref = 0.5 * float(e @ a.astype(np.float64) @ e.T)
            if abs(ref - out["deployed_loss"]) > 1e-4 * max(1.0, abs(ref)):
                raise AssertionError("compiled f(Q(x)) = %.7g, numpy %.7g"
                                     % (out["deployed_loss"], ref))
        return out


QUICK = {"seeds": 1, "steps": 300, "lambdas": "3,10", "sweep_seeds": 1}


def bits_only(b):
    return "FP" if b is None else "%d bits" % b


def tables(data):
    """[(caption, markdown)] of a result file's data."""
    recs = data["records"]
    bits = sorted({r["bits"] for r in recs if r["bits"] is not None}, reverse=True)
    out = []
    for kappa in sorted({r["cond_kappa"] for r in recs}):
        rows = [r for r in recs if r["cond_kappa"] == kappa]
        table = common.method_table(rows, "deployed_loss", bits, digits=3, label=bits_only)
        ref = []
        for b in bits:
            per_seed = {r["seed"]: r["rtn_optimum_loss"] for r in rows
                        if r["bits"] == b and r["rtn_optimum_loss"] is not None}
            ref.append(common.format_mean_std(list(per_seed.values()), 3))
        if any(ref):
            fp = any(r["bits"] is None for r in rows)
            table += "\n| reference: f(Q(x*)) |%s %s |" % (" |" if fp else "", " | ".join(ref))
        out.append(("kappa = %g: deployed loss f(Q(x_T)) (full precision: f(x_T)), "
                    "mean ± std over seeds" % kappa, table))
    sw = common.sweep_table(data, "deployed_loss", digits=3, cond_keys=("kappa",),
                            label=bits_only)
    if sw:
        out.append(("lambda sweep: deployed loss on the sweep instances (seeds 1000..), "
                    "mean over the sweep seeds", sw))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    common.add_common_arguments(
        ap, methods=["fp", "ptq", "ste", "cage-coupled", "cage-decoupled"], bits=[4, 3],
        seeds=10, lambdas=[1, 3, 10, 30], sweep_seeds=3)
    ap.add_argument("--kappas", default="1,10,100")
    ap.add_argument("--dim", type=int, default=256)
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--lr", type=float, default=0.02)
    ap.add_argument("--final-lr", type=float, default=0.01,
                    help="the cosine ends at this fraction of --lr (default %(default)s)")
    ap.add_argument("--noise", type=float, default=1.0, help="sigma of the gradient noise")
    ap.add_argument("--basis", choices=("random", "diagonal"), default="random")
    args = common.finish_arguments(ap, ap.parse_args(), QUICK)
    results = common.Results(args.out, "quadratic", common.settings_of(args), args.resume)
    conditions = [{"kappa": k} for k in common.parse_list(args.kappas, float)]
    t0 = time.perf_counter()
    common.run_experiment(QuadraticTask(args), args, results, conditions)
    for caption, table in tables(results.data):
        print("\n%s:\n%s" % (caption, table))
    print("\nquadratic: %.0f s; results in %s" % (time.perf_counter() - t0, results.path))
    return 0


if __name__ == "__main__":
    sys.exit(main())
