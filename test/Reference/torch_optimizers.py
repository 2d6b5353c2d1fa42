# RUN: %python %s %cage_obj/lib/libCageReference.so | FileCheck %s
# REQUIRES: torch, numpy
# UNSUPPORTED: sanitizers
"""The reference AdamW and SGD against torch.optim, 20 steps on random data.

Tolerance: after every step, each of w, m, v (AdamW) and w, b (SGD) must
satisfy max |ref - torch| <= 1e-6 * scale, the scale being the largest |torch|
of that tensor over all its elements and all steps of the run so far (a
max-norm relative error). Element by element relative errors are meaningless
where a value lands near zero by cancellation, as m and b, sums of signed
terms, do (a one-element m of 1e-5 after terms of 1e-2 carries the latter's
rounding). Why they are not equal bit for bit:
torch computes the same step in a different but equivalent order, and some of
it in double: AdamW divides sqrt(v) by sqrt(1 - beta2^t) and folds
lr / (1 - beta1^t) into one double step size, where the reference forms mhat
and vhat in f32; torch keeps both bias corrections 1 - beta ** t in double
(Python's pow), where the reference rounds its 1 - beta^t (by binary
exponentiation in double, see bias_correction.py) once to f32; 1 - lr * wd
is double; torch's vectorized CPU kernels may fuse `a + alpha * b` into one
rounding. Each such difference is a rounding or two of f32 (about 6e-8
relative) per step, so 20 steps stay well within 1e-6; the worst errors seen
are printed. The hyper-parameters given to torch are the f32 values the
reference receives (the dialect's attributes are f32), so that 1 - beta,
formed by torch in double, is the same number as the reference's exact f32
1 - beta.

SGD with dampening: torch sets b = g on its first step where the reference
(docs/Semantics.md §1.3) starts from b = 0, so those runs take torch's state after its
first step and compare the 19 steps that follow.
"""

import os
import sys

import numpy as np
import torch

# The helpers in Inputs/, without leaving bytecode in the source tree.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "Inputs"))
from reference import AdamW, Reference, Sgd, f32  # noqa: E402

STEPS = 20
TOLERANCE = 1e-6
SHAPES = [(1,), (7,), (129,), (3, 37), (17, 65)]

ref = Reference(sys.argv[1])
torch.manual_seed(0)
failures = 0


class Tracker:
    """The max-norm relative error of one tensor over a run: the error after
    each step relative to the largest |torch value| seen so far."""

    def __init__(self):
        self.scale = 0.0

    def error(self, ours, theirs):
        theirs = theirs.detach().numpy()
        self.scale = max(self.scale, float(np.max(np.abs(theirs))))
        difference = float(np.max(np.abs(ours.astype(np.float64) - theirs)))
        if self.scale == 0:
            return difference
        return difference / self.scale


def run_adamw(name, lr, beta1, beta2, eps, wd, rng):
    global failures
    lr, beta1, beta2, eps, wd = map(f32, (lr, beta1, beta2, eps, wd))
    worst = 0.0
    for shape in SHAPES:
        w0 = rng.standard_normal(shape).astype(np.float32)
        param = torch.nn.Parameter(torch.from_numpy(w0.copy()))
        opt = torch.optim.AdamW([param], lr=lr, betas=(beta1, beta2), eps=eps,
                                weight_decay=wd)
        w, m, v = w0.copy(), np.zeros_like(w0), np.zeros_like(w0)
        hyper = AdamW(beta1, beta2, eps, wd)
        tw, tm, tv = Tracker(), Tracker(), Tracker()
        for t in range(1, STEPS + 1):
            g = (rng.standard_normal(shape) * 0.1).astype(np.float32)
            param.grad = torch.from_numpy(g.copy())
            opt.step()
            ref.adamw(hyper, w, g, m, v, lr, t)
            state = opt.state[param]
            errors = [tw.error(w, param), tm.error(m, state["exp_avg"]),
                      tv.error(v, state["exp_avg_sq"])]
            worst = max(worst, *errors)
            if max(errors) > TOLERANCE:
                failures += 1
                print(f"FAIL adamw {name} {shape} step {t}: w, m, v errors "
                      f"{errors}")
    print(f"adamw {name}: {len(SHAPES)} shapes x {STEPS} steps, "
          f"worst {worst:.1e}, {'ok' if worst <= TOLERANCE else 'FAIL'}")


def run_sgd(name, lr, momentum, dampening, nesterov, wd, rng):
    global failures
    lr, momentum, dampening, wd = map(f32, (lr, momentum, dampening, wd))
    worst = 0.0
    for shape in SHAPES:
        w0 = rng.standard_normal(shape).astype(np.float32)
        param = torch.nn.Parameter(torch.from_numpy(w0.copy()))
        opt = torch.optim.SGD([param], lr=lr, momentum=momentum,
                              dampening=dampening, nesterov=nesterov,
                              weight_decay=wd)
        w, b = w0.copy(), np.zeros_like(w0)
        hyper = Sgd(momentum, dampening, nesterov, wd)
        tw, tb = Tracker(), Tracker()
        for t in range(1, STEPS + 1):
            g = (rng.standard_normal(shape) * 0.1).astype(np.float32)
            param.grad = torch.from_numpy(g.copy())
            opt.step()
            if t == 1 and dampening != 0:
                # torch's first step (b = g) differs by design: start from
                # its state.
                w = param.detach().numpy().copy()
                b = opt.state[param]["momentum_buffer"].numpy().copy()
                continue
            ref.sgd(hyper, w, g, b, lr)
            errors = [tw.error(w, param)]
            if momentum != 0:
                errors.append(tb.error(b, opt.state[param]["momentum_buffer"]))
            worst = max(worst, *errors)
            if max(errors) > TOLERANCE:
                failures += 1
                print(f"FAIL sgd {name} {shape} step {t}: errors {errors}")
    print(f"sgd {name}: {len(SHAPES)} shapes x {STEPS} steps, "
          f"worst {worst:.1e}, {'ok' if worst <= TOLERANCE else 'FAIL'}")


rng = np.random.default_rng(1234)
# The CAGE paper's defaults, torch's defaults, no weight decay, a large lr.
run_adamw("paper", 1e-3, 0.9, 0.95, 1e-8, 0.1, rng)
run_adamw("torch defaults", 1e-3, 0.9, 0.999, 1e-8, 1e-2, rng)
run_adamw("no decay", 3e-3, 0.8, 0.99, 1e-6, 0.0, rng)
run_adamw("large lr", 0.1, 0.9, 0.95, 1e-8, 0.1, rng)
# CHECK: adamw paper: 5 shapes x 20 steps, worst {{.*}}, ok
# CHECK: adamw torch defaults: 5 shapes x 20 steps, worst {{.*}}, ok
# CHECK: adamw no decay: 5 shapes x 20 steps, worst {{.*}}, ok
# CHECK: adamw large lr: 5 shapes x 20 steps, worst {{.*}}, ok

run_sgd("momentum", 0.05, 0.9, 0.0, False, 0.0, rng)
run_sgd("nesterov", 0.05, 0.9, 0.0, True, 0.0, rng)
run_sgd("weight decay", 0.05, 0.9, 0.0, False, 1e-2, rng)
run_sgd("nesterov weight decay", 0.1, 0.5, 0.0, True, 0.1, rng)
run_sgd("no momentum", 0.05, 0.0, 0.0, False, 1e-2, rng)
run_sgd("dampening", 0.05, 0.9, 0.3, False, 1e-2, rng)
# CHECK: sgd momentum: 5 shapes x 20 steps, worst {{.*}}, ok
# CHECK: sgd nesterov: 5 shapes x 20 steps, worst {{.*}}, ok
# CHECK: sgd weight decay: 5 shapes x 20 steps, worst {{.*}}, ok
# CHECK: sgd nesterov weight decay: 5 shapes x 20 steps, worst {{.*}}, ok
# CHECK: sgd no momentum: 5 shapes x 20 steps, worst {{.*}}, ok
# CHECK: sgd dampening: 5 shapes x 20 steps, worst {{.*}}, ok

print(f"failures: {failures}")
# CHECK: failures: 0
sys.exit(1 if failures else 0)
