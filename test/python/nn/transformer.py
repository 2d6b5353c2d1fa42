# RUN: rm -rf %t && mkdir -p %t
# RUN: %python %s %t | FileCheck %s
# REQUIRES: torch, numpy
"""A tiny pre-norm transformer block of cage.nn (seq 8, dim 16, 2 heads,
MLP 16 -> 64 -> 16 with GELU, batch 2) against torch, with LayerNorm and
with RMSNorm, float and with 4-bit weights on every Linear; then a tiny
language model (one-hot tokens -> Embedding -> PositionalEmbedding -> block
-> LayerNorm -> Linear head, W4 on the block and the head) with its
cross-entropy loss over all batch·seq positions: the train form's signature
(parameter order and cage.param attributes with per-parameter overrides),
the loss (train form, attributes stripped) and the logits (eval form),
after cage-opt --cage-verify.

Weight quantizers only (see attention.py: an activation quantizer after
values that the two sides compute in different orders could round an
element one level apart).

Tolerance 2e-5 (max-norm relative): the block chains two norms (64-term
and 16-term row sums, a division by the standard deviation), four 16-term
projections, the attention (8-term sums, exp), a 16 -> 64 -> 16 MLP with
erf and two residual sums: a few dozen roundings of 2^-24 per output
element along the longest path, some amplified by the norms' division (the
inputs' spread is O(1)). Observed errors are around 1e-7.
"""

import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "Inputs"))
from nn_testing import Runner, check_model, nn, random_onehot  # noqa: E402
import numpy as np  # noqa: E402

runner = Runner(sys.argv[1])
rng = np.random.default_rng(8)
x = rng.standard_normal((2, 8, 16)).astype(np.float32)

for norm in ("layernorm", "rmsnorm"):
    for label, kw in [("", {}), ("-w4", dict(weight_quantizer=4))]:
        block = nn.TransformerBlock(16, 2, norm=norm, rng=rng, **kw)
        # Norm weights and biases away from 1 and 0, so that they matter.
        for name, p in block.named_parameters():
            if p.kind == "norm":
                p.data = (p.data + 0.3 * rng.standard_normal(p.shape)).astype(np.float32)
        check_model(runner, "block-" + norm + label, block, x, 2e-5, rng=rng)
# CHECK: PASS block-layernorm output
# CHECK: PASS block-layernorm loss
# CHECK: PASS block-layernorm-w4 output
# CHECK: PASS block-rmsnorm output
# CHECK: PASS block-rmsnorm-w4 output
# CHECK: PASS block-rmsnorm-w4 loss

# The block with 2-d matmuls per head instead of generic contractions.
block = nn.TransformerBlock(16, 2, weight_quantizer=4, attention_impl="matmul", rng=rng)
check_model(runner, "block-matmul-w4", block, x, 2e-5, rng=rng)
# CHECK: PASS block-matmul-w4 output

# A tiny language model.
vocab = 24
lm = nn.Sequential(nn.Embedding(vocab, 16, rng=rng),
                   nn.PositionalEmbedding(8, 16, rng=rng),
                   nn.TransformerBlock(16, 2, weight_quantizer=4, rng=rng),
                   nn.LayerNorm(16),
                   nn.Linear(16, vocab, bias=False, weight_quantizer=4, rng=rng))
tokens = random_onehot(rng, (2, 8, vocab))
fn = lm.forward_mlir(tokens.shape, loss=nn.CrossEntropyLoss(),
                     config=nn.ParamConfig(estimator="identity"),
                     overrides={"@bias": {"weight_decay": 0.0},
                                "@norm": {"weight_decay": 0.0},
                                "2.attn.*": {"lambda": 5.0, "silence": 0.5},
                                "4.weight": nn.ParamConfig(optimizer=nn.SGD(momentum=0.9),
                                                           coupling="coupled")})
print(fn.text[:fn.text.index("{\n")])
# CHECK-LABEL: func.func @loss(%x: tensor<2x8x24xf32>,
# CHECK-NEXT: %target: tensor<2x8x24xf32>,
# CHECK-NEXT: %p0_weight: tensor<24x16xf32> {cage.param = #cage.param<cage = false>},
# CHECK-NEXT: %p1_weight: tensor<8x16xf32> {cage.param = #cage.param<cage = false>},
# CHECK-NEXT: %p2_ln1_weight: tensor<16xf32> {cage.param = #cage.param<optimizer = #cage.adamw<weight_decay = 0.0>, cage = false>},
# CHECK-NEXT: %p2_ln1_bias: tensor<16xf32> {cage.param = #cage.param<optimizer = #cage.adamw<weight_decay = 0.0>, cage = false>},
# CHECK-NEXT: %p2_attn_q_weight: tensor<16x16xf32> {cage.param = #cage.param<lambda = 5.0, silence = 0.5, estimator = identity>},
# CHECK-NEXT: %p2_attn_q_bias: tensor<16xf32> {cage.param = #cage.param<optimizer = #cage.adamw<weight_decay = 0.0>, cage = false>},
# CHECK-NEXT: %p2_attn_k_weight
# CHECK-NEXT: %p2_attn_k_bias
# CHECK-NEXT: %p2_attn_v_weight
# CHECK-NEXT: %p2_attn_v_bias
# CHECK-NEXT: %p2_attn_o_weight
# CHECK-NEXT: %p2_attn_o_bias
# CHECK-NEXT: %p2_ln2_weight
# CHECK-NEXT: %p2_ln2_bias
# CHECK-NEXT: %p2_mlp_fc1_weight: tensor<64x16xf32> {cage.param = #cage.param<estimator = identity>},
# CHECK-NEXT: %p2_mlp_fc1_bias: tensor<64xf32>
# CHECK-NEXT: %p2_mlp_fc2_weight: tensor<16x64xf32>
# CHECK-NEXT: %p2_mlp_fc2_bias: tensor<16xf32>
# CHECK-NEXT: %p3_weight: tensor<16xf32>
# CHECK-NEXT: %p3_bias: tensor<16xf32>
# CHECK-NEXT: %p4_weight: tensor<24x16xf32> {cage.param = #cage.param<optimizer = #cage.sgd<momentum = 0.9>, coupling = coupled>}) -> f32
names = [n for n, _ in fn.params]
assert names == [n for n, _ in lm.named_parameters()], names
assert names[:4] == ["0.weight", "1.weight", "2.ln1.weight", "2.ln1.bias"], names

check_model(runner, "tiny-lm", lm, tokens, 2e-5, rng=rng)
# CHECK: PASS tiny-lm output
# CHECK: PASS tiny-lm loss
