# RUN: rm -rf %t && mkdir -p %t
# RUN: %python %s %t | FileCheck %s
# REQUIRES: torch, numpy
"""The digits-sized W4A4 MLP (64 -> 64 -> 10, batch 32) of cage.nn against
torch: the emitted signature, the loss (train form, cage.param attributes
stripped) and the logits and loss (eval form), after cage-opt --cage-verify.

Inputs are 8x8 digit-like images (16 grey levels, as sklearn's digits, made
here from noisy class prototypes: no download). Both layers quantize their
input (per row, 4 bits) and their weight (per output channel, 4 bits).

Why a plain tolerance is not enough here, and what is compared instead: the
second layer's input quantizer rounds h / s (h the hidden activations) to an
integer. h comes out of a 64-term sum whose order differs between the
compiled code and torch's BLAS, so the two can differ in the last bit, and
where h / s lies within that distance of a rounding boundary k + 1/2 the
two quantize it one level apart: a difference of a whole step in one input
of one row of the second layer, far above any rounding tolerance. The
reference therefore also computes h / s and a bound on how far the compiled
h / s can be from it (each order of a 65-term sum, bias included, is within
γ_65·Σ|terms| of the exact sum, γ_n = n·2^-24/(1 - n·2^-24); α, the row's
largest |h|, moves with it), and a row is *fragile* when some element lies
within that bound of a boundary. The logits of robust rows
must agree within 1e-5 max-norm relative (the quantized operands are then
bit-identical and only the 64-term sums of the second matmul differ in
order: γ_64 ≈ 3.8e-6 per order); fragile rows (typically none: the chance
is about 1e-5 per element) are counted, not compared; the loss is compared
with torch's cross entropy of the compiled logits (1e-6: a mean of 32
log-sum-exps, all of them computed in f32), and, over the robust rows, with
the reference's (N·loss less the fragile rows' cross entropies of the
compiled logits, against the sum of the robust rows' reference cross
entropies; 1e-5), and as a whole when no row is fragile.
"""

import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "Inputs"))
from nn_testing import (F, Runner, check, nn, np_quantize,  # noqa: E402
                        torch, torch_model)
import numpy as np  # noqa: E402

runner = Runner(sys.argv[1])
rng = np.random.default_rng(7)
nn.manual_seed(0)
model = nn.Sequential(nn.Linear(64, 64, weight_quantizer=4, input_quantizer=4),
                      nn.ReLU(),
                      nn.Linear(64, 10, weight_quantizer=4, input_quantizer=4))

# Digit-like data: a prototype per class, noise, 16 grey levels in [0, 1].
protos = rng.uniform(0, 1, (10, 64)) ** 2
labels = rng.integers(0, 10, 32)
images = np.clip(protos[labels] + 0.25 * rng.standard_normal((32, 64)), 0, 1)
x = (np.round(images * 16) / 16).astype(np.float32)
y = nn.one_hot(labels, 10)

train = model.forward_mlir((32, 64), loss=nn.CrossEntropyLoss(),
                           overrides=nn.NO_DECAY_ON_BIASES_AND_NORMS)
print(train.text)
# CHECK-LABEL: func.func @loss(%x: tensor<32x64xf32>,
# CHECK-NEXT: %target: tensor<32x10xf32>,
# CHECK-NEXT: %p0_weight: tensor<64x64xf32> {cage.param = #cage.param<>},
# CHECK-NEXT: %p0_bias: tensor<64xf32> {cage.param = #cage.param<optimizer = #cage.adamw<weight_decay = 0.0>, cage = false>},
# CHECK-NEXT: %p2_weight: tensor<10x64xf32> {cage.param = #cage.param<>},
# CHECK-NEXT: %p2_bias: tensor<10xf32> {cage.param = #cage.param<optimizer = #cage.adamw<weight_decay = 0.0>, cage = false>}) -> f32 {
# CHECK: cage.quantize %x {quantizer = #cage.quantizer<>} : tensor<32x64xf32>
# CHECK: cage.quantize %p0_weight {quantizer = #cage.quantizer<>} : tensor<64x64xf32>
# CHECK: return %loss : f32
assert [n for n, _ in train.params] == ["0.weight", "0.bias", "2.weight", "2.bias"]
assert all(a is model.state_dict()[n] for n, a in train.params)
assert [a.kind for a in train.args] == ["input", "target"] + ["param"] * 4

ev = model.forward_mlir((32, 64), loss=nn.CrossEntropyLoss(), mode="eval")
assert "cage.param" not in ev.text
assert train.text.count("= cage.quantize ") == ev.text.count("= cage.quantize ") == 4
(loss,) = runner.run(train, train.arguments(x, target=y), "train")
eval_loss, logits = runner.run(ev, ev.arguments(x, target=y), "eval")
assert logits.shape == (32, 10) and loss.tobytes() == eval_loss.tobytes()

# The reference, with the second layer's quantizer input kept.
ref = torch_model(model)
seen = {}


def keep_input(module, inputs):
    seen["h"] = inputs[0].detach().numpy().copy()


ref[2].register_forward_pre_hook(keep_input)
with torch.no_grad():
    ref_logits = ref(torch.from_numpy(x))
    ref_loss = F.cross_entropy(ref_logits, torch.from_numpy(y)).numpy()
    ce_of_ours = F.cross_entropy(torch.from_numpy(logits), torch.from_numpy(y)).numpy()
h = seen["h"]
# How far the compiled h may be from torch's: both sum the 64 products and
# the bias (65 terms) in some order, each within gamma_65 * sum |terms| of
# the exact value.
gamma = 65 * 2.0 ** -24 / (1 - 65 * 2.0 ** -24)
first = model[0]
xq = np_quantize(first.input_quantizer.as_dict(), x, None, 0).astype(np.float64)
wq = np_quantize(first.weight_quantizer.as_dict(), first.weight.data, None, 0).astype(np.float64)
dh = 2 * gamma * (np.abs(xq) @ np.abs(wq).T + np.abs(first.bias.data))
alpha = np.maximum(np.abs(h).max(axis=1, keepdims=True), np.float32(1e-8)).astype(np.float64)
z = h / (alpha / 7)
# z moves by dh / s, and by |z| * (relative change of alpha), alpha being
# one of the h of the row; a few ulps more for the f32 divisions.
dalpha = dh[np.arange(32), np.abs(h).argmax(axis=1)][:, None] / alpha
dz = dh / (alpha / 7) + np.abs(z) * dalpha + 8 * 2.0 ** -24 * np.maximum(1, np.abs(z))
gap = np.abs(z - (np.floor(z) + 0.5))
fragile = (gap <= dz).any(axis=1)
robust = ~fragile
print("rows: %d robust, %d fragile" % (robust.sum(), fragile.sum()))
# CHECK: rows: {{[0-9]+}} robust
assert robust.sum() >= 28, "too many fragile rows for the test to mean anything"
check("mlp logits (robust rows)", logits[robust], ref_logits.numpy()[robust], 1e-5)
check("mlp loss vs torch's cross entropy of the compiled logits", loss, ce_of_ours, 1e-6)
# The loss against the reference's, over the robust rows: N * loss less the
# compiled logits' cross entropy on the fragile rows is the sum of the
# robust rows' cross entropies.
with torch.no_grad():
    nll_ours = F.cross_entropy(torch.from_numpy(logits), torch.from_numpy(y), reduction="none")
    nll_ref = F.cross_entropy(ref_logits, torch.from_numpy(y), reduction="none")
robust_sum = np.float64(loss) * 32 - nll_ours.numpy()[fragile].astype(np.float64).sum()
check("mlp loss (robust rows)", robust_sum, nll_ref.numpy()[robust].astype(np.float64).sum(), 1e-5)
if not fragile.any():
    check("mlp loss", loss, ref_loss, 1e-5)
# CHECK: PASS mlp logits (robust rows)
# CHECK: PASS mlp loss vs torch's cross entropy of the compiled logits
# CHECK: PASS mlp loss (robust rows)
acc = (logits.argmax(1) == labels).mean()
print("accuracy at init %.2f, loss %.4f" % (acc, float(loss)))
# CHECK: accuracy at init
