# RUN: rm -rf %t && mkdir -p %t
# RUN: %python %s %t | FileCheck %s
# REQUIRES: torch, numpy
"""cage.nn.CausalSelfAttention (seq 8, dim 16, 2 heads, batch 2) against
torch (q/k/v projections, (Q·Kᵀ)·(1/sqrt(head_dim)), masked_fill of the
future with -inf, softmax, ·V, output projection), in both spellings:
impl="generic" (linalg.generic contractions over [batch, heads, seq, seq])
and impl="matmul" (2-d linalg.matmul per (batch, head) on extract_slice
blocks, tensor.concat): train form (cage.param attributes stripped) and
eval form, after cage-opt --cage-verify. Then causality, on the compiled
function: changing the tokens from position t on leaves the outputs before
t unchanged, bit for bit.

Only weight quantizers here: an input quantizer of the output projection
would round the attention's result, which the compiled code and torch
compute in different orders, and an element near a rounding boundary could
land one level apart (mlp_digits.py shows how that is handled).

Tolerance 1e-5 (max-norm relative): four 16-term projections, an 8-term
score and an 8-term P·V sum per element, the softmax's exp (libm's expf and
torch's vectorized exp, each within an ulp or two) and its 8-term sum: a
chain of a few dozen roundings of 2^-24, well below 1e-5 unless something
is wrong by far more.
"""

import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "Inputs"))
from nn_testing import Runner, check_model, nn  # noqa: E402
import numpy as np  # noqa: E402

runner = Runner(sys.argv[1])
rng = np.random.default_rng(3)
x = rng.standard_normal((2, 8, 16)).astype(np.float32)

for impl in ("generic", "matmul"):
    for label, kw in [("", {}), ("-w4", dict(weight_quantizer=4)),
                      ("-nobias", dict(bias=False))]:
        attn = nn.CausalSelfAttention(16, 2, impl=impl, rng=rng, **kw)
        check_model(runner, "attention-" + impl + label, attn, x, 1e-5, rng=rng)
# CHECK: PASS attention-generic output
# CHECK: PASS attention-generic loss
# CHECK: PASS attention-generic-w4 output
# CHECK: PASS attention-generic-nobias output
# CHECK: PASS attention-matmul output
# CHECK: PASS attention-matmul loss
# CHECK: PASS attention-matmul-w4 output
# CHECK: PASS attention-matmul-nobias output

# Four heads of 4, and one head of 16.
for heads in (4, 1):
    check_model(runner, "attention-heads%d" % heads, nn.CausalSelfAttention(16, heads, rng=rng),
                x, 1e-5, rng=rng)
# CHECK: PASS attention-heads4 output
# CHECK: PASS attention-heads1 output

# Causality: outputs before position t do not depend on tokens from t on.
for impl in ("generic", "matmul"):
    attn = nn.CausalSelfAttention(16, 2, impl=impl, rng=rng)
    fn = attn.forward_mlir(x.shape, mode="eval")
    (y0,) = runner.run(fn, fn.arguments(x), "causal-%s-a" % impl)
    x2 = x.copy()
    x2[:, 5:] = rng.standard_normal((2, 3, 16))
    (y1,) = runner.run(fn, fn.arguments(x2), "causal-%s-b" % impl)
    assert np.array_equal(y0[:, :5], y1[:, :5]), impl
    assert not np.array_equal(y0[:, 5:], y1[:, 5:]), impl
    print("PASS causal %s" % impl)
# CHECK: PASS causal generic
# CHECK: PASS causal matmul
