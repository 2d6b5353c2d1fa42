# RUN: rm -rf %t && mkdir -p %t
# RUN: %python %s %t | FileCheck %s
# REQUIRES: torch, numpy
"""ReLU, GELU (erf), LayerNorm and RMSNorm of cage.nn against torch
(torch.nn.ReLU, torch.nn.GELU(), torch.nn.LayerNorm, and RMSNorm written as
torch.nn.RMSNorm defines it): each module alone on a 3-d input, its output
taken as logits of the cross-entropy loss (train form, cage.param
attributes stripped) and returned (eval form), after cage-opt --cage-verify.
The norms get random weights and biases, so that a weight or bias applied
to the wrong dimension, or not at all, shows.

Tolerances (max-norm relative):
- ReLU: exact (0): one maximum per element.
- GELU: 1e-6: torch's erf and libm's erff (what math.erf lowers to) are both
  within an ulp or two of the exact value; a few more roundings around it.
- LayerNorm, RMSNorm: 1e-5: the mean and the variance are 64-term sums in
  different orders (torch's vectorized row moments, the compiled code's
  tiled loop), each within γ_64 ≈ 3.8e-6 relative of the exact sum; 1/sqrt
  and the affine map add a few ulps.
- The loss (mean over 4·8 rows of a log-sum-exp over 64 logits): 1e-5.
"""

import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "Inputs"))
from nn_testing import Runner, check_model, nn  # noqa: E402
import numpy as np  # noqa: E402

runner = Runner(sys.argv[1])
rng = np.random.default_rng(11)
x = (2 * rng.standard_normal((4, 8, 64))).astype(np.float32)
x[0, 0, :4] = 0  # a few exact zeros for ReLU and GELU

# CHECK: PASS relu output: max-norm relative error 0.00e+00
check_model(runner, "relu", nn.ReLU(), x, 0.0, 1e-5, rng=rng)
# CHECK: PASS gelu output
check_model(runner, "gelu", nn.GELU(), x, 1e-6, 1e-5, rng=rng)
# CHECK: PASS gelu loss

for label, module in [("layernorm", nn.LayerNorm(64)),
                      ("layernorm-nobias", nn.LayerNorm(64, eps=1e-3, bias=False)),
                      ("rmsnorm", nn.RMSNorm(64)),
                      ("rmsnorm-eps", nn.RMSNorm(64, eps=1e-2))]:
    for name, p in module.named_parameters():
        p.data = (1 + 0.5 * rng.standard_normal(p.shape)).astype(np.float32)
    check_model(runner, label, module, x + 3, 1e-5, rng=rng)
# CHECK: PASS layernorm output
# CHECK: PASS layernorm loss
# CHECK: PASS layernorm-nobias output
# CHECK: PASS rmsnorm output
# CHECK: PASS rmsnorm loss
# CHECK: PASS rmsnorm-eps output

# A norm on 2-d input, after a quantized Linear (the quantizers see the data
# and the weights, bit-identical in both).
model = nn.Sequential(nn.Linear(64, 32, weight_quantizer=4, input_quantizer=8, rng=rng),
                      nn.LayerNorm(32), nn.GELU())
check_model(runner, "linear-layernorm-gelu", model, x[0], 1e-5, rng=rng)
# CHECK: PASS linear-layernorm-gelu output
# CHECK: PASS linear-layernorm-gelu loss
