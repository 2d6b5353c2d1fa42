# RUN: rm -rf %t && mkdir -p %t
# RUN: %python %s %t | FileCheck %s
# REQUIRES: torch, numpy
"""cage.nn.Embedding (one-hot rows times the table, one linalg.matmul)
against torch's lookup (F.embedding on the indices of the one-hot rows),
with and without a weight quantizer, and PositionalEmbedding after it
(against x + weight[:seq]), whole and sliced (seq < max_len): train form
(cage.param attributes stripped) and eval form, after cage-opt
--cage-verify.

Tolerance 0 for the outputs: each element of onehot · W is 1·w plus
products 0·w, exact in any order, so the matmul is a gather bit for bit;
the positional sum is one f32 addition in both. The loss: 1e-5.
"""

import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "Inputs"))
from nn_testing import Runner, check_model, nn, random_onehot  # noqa: E402
import numpy as np  # noqa: E402

runner = Runner(sys.argv[1])
rng = np.random.default_rng(5)
tokens = random_onehot(rng, (4, 8, 20))

check_model(runner, "embedding", nn.Embedding(20, 16, rng=rng), tokens, 0.0, 1e-5, rng=rng)
# CHECK: PASS embedding output: max-norm relative error 0.00e+00
# CHECK: PASS embedding loss
q = nn.Quantizer(bits=3, granularity="group", group_size=8)
check_model(runner, "embedding-w3", nn.Embedding(20, 16, weight_quantizer=q, rng=rng), tokens,
            0.0, 1e-5, rng=rng)
# CHECK: PASS embedding-w3 output: max-norm relative error 0.00e+00
check_model(runner, "embedding-2d", nn.Embedding(20, 16, rng=rng), tokens[0], 0.0, 1e-5, rng=rng)
# CHECK: PASS embedding-2d output: max-norm relative error 0.00e+00

for label, max_len in [("positional", 8), ("positional-sliced", 12)]:
    model = nn.Sequential(nn.Embedding(20, 16, rng=rng), nn.PositionalEmbedding(max_len, 16, rng=rng))
    check_model(runner, label, model, tokens, 0.0, 1e-5, rng=rng)
# CHECK: PASS positional output: max-norm relative error 0.00e+00
# CHECK: PASS positional loss
# CHECK: PASS positional-sliced output: max-norm relative error 0.00e+00
