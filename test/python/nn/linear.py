# RUN: rm -rf %t && mkdir -p %t
# RUN: %python %s %t | FileCheck %s
# REQUIRES: torch, numpy
"""cage.nn.Linear against torch.nn.functional.linear, with every kind of
quantizer on weights and inputs, with and without bias, on 2-d and 3-d
inputs: the loss (train form, with the cage.param attributes stripped) and
the output (eval form), parsed and verified by cage-opt, run by cage-run.

Tolerance 1e-5, max-norm relative. The quantizers see bit-identical inputs
here (the data and the parameters themselves), so Q(x) and Q(W) are equal
bit for bit in both; what differs is the order of the K-term sums of the
matmul (the compiled code tiles and vectorizes them, torch's BLAS blocks
them its own way). Each order's error is at most γ_K·Σ|x_k w_k| with
γ_K = K·2^-24/(1 - K·2^-24) ≈ 3.8e-6 for K = 64, so two orders differ by at
most 7.6e-6 of Σ|x_k w_k|, which is itself within a small factor of max|y|
for these random inputs; observed errors are ~1e-7. The loss adds one
log-sum-exp per row and a mean over 32 rows (a few roundings more).
"""

import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "Inputs"))
from nn_testing import Runner, check_model, nn  # noqa: E402
import numpy as np  # noqa: E402

runner = Runner(sys.argv[1])
rng = np.random.default_rng(2024)
Q = nn.Quantizer

cases = [
    ("float", dict(), (32, 64)),
    ("no-bias", dict(bias=False), (32, 64)),
    ("w4a4", dict(weight_quantizer=4, input_quantizer=4), (32, 64)),
    ("w4-only", dict(weight_quantizer=4), (32, 64)),
    ("w3a8-tensor", dict(weight_quantizer=Q(bits=3, granularity="tensor"),
                         input_quantizer=Q(bits=8, granularity="tensor")), (32, 64)),
    ("w4a4-group-hadamard", dict(weight_quantizer=Q(granularity="group", group_size=16,
                                                    rotation="hadamard", block=32),
                                 input_quantizer=Q(rotation="hadamard", block=64)), (32, 64)),
    ("w2-centered-rms", dict(weight_quantizer=Q(bits=2, levels="centered", scale="rms_gaussian"),
                             input_quantizer=Q(bits=6, levels="centered")), (32, 64)),
    ("3d-w4a4", dict(weight_quantizer=4, input_quantizer=4), (4, 8, 64)),
]
# CHECK: PASS float output
# CHECK: PASS float loss
# CHECK: PASS no-bias output
# CHECK: PASS w4a4 output
# CHECK: PASS w4-only output
# CHECK: PASS w3a8-tensor output
# CHECK: PASS w4a4-group-hadamard output
# CHECK: PASS w2-centered-rms output
# CHECK: PASS 3d-w4a4 output
# CHECK: PASS 3d-w4a4 loss
for label, kw, shape in cases:
    model = nn.Linear(64, 10, rng=rng, **kw)
    x = rng.standard_normal(shape).astype(np.float32)
    check_model(runner, label, model, x, 1e-5, rng=rng)

# Stochastic rounding on both quantizers: one seed argument, the input's
# quantizer draws from seed*2 + 0 and the weight's from seed*2 + 1.
# CHECK: PASS stochastic output
# CHECK: PASS stochastic loss
model = nn.Linear(64, 10, rng=rng, weight_quantizer=Q(rounding="stochastic"),
                  input_quantizer=Q(bits=3, rounding="stochastic"))
x = rng.standard_normal((32, 64)).astype(np.float32)
check_model(runner, "stochastic", model, x, 1e-5, seed=12345, rng=rng)
# A different seed gives a different result (the seed is used).
fn = model.forward_mlir((32, 64), mode="eval")
a = fn.arguments(x, seed=1)
(y1,) = runner.run(fn, a, "seed1")
(y2,) = runner.run(fn, fn.arguments(x, seed=2), "seed2")
assert not np.array_equal(y1, y2)
print("PASS stochastic: the seed changes the result")
# CHECK: PASS stochastic: the seed changes the result
