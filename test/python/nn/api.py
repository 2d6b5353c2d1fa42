# RUN: rm -rf %t && mkdir -p %t
# RUN: %python %s %t | FileCheck %s
# REQUIRES: torch, numpy
"""cage.nn's Python side: quantizer specs and optimizer attributes print as
cage-opt prints them (round trip through cage-opt), #cage.param printing
and overrides, f32 literals, initialisation as torch's (distribution,
bounds), parameter order and names (torch's, load_state_dict into
torch.nn), the seeds of stochastic quantizers in the text, the eval form's
results, and the errors a wrong model or spec raises."""

import os
import re
import subprocess
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "Inputs"))
from nn_testing import Runner, nn, strip_param_attrs, tool, torch  # noqa: E402
import numpy as np  # noqa: E402
from cage.nn._text import f32_literal  # noqa: E402

runner = Runner(sys.argv[1])
Q = nn.Quantizer


def expect_error(kind, fn, *args, **kwargs):
    try:
        fn(*args, **kwargs)
    except kind as e:
        return str(e)
    raise AssertionError("no %s from %s" % (kind.__name__, fn))


# -- Quantizer specs print as cage-opt prints them --------------------------
quantizers = [Q(), Q(bits=3), Q(granularity="tensor"), Q(granularity="group", group_size=32),
              Q(scale="rms_gaussian", levels="centered"), Q(rotation="hadamard", block=64),
              Q(bits=8, rounding="stochastic"),
              Q(2, "group", 64, "rms_gaussian", "centered", "hadamard", 32, "stochastic")]
lines = ["func.func @f(%x: tensor<4x128xf32>, %s: i64) {"]
for i, q in enumerate(quantizers):
    seed = " seed(%s)" if q.stochastic else ""
    lines.append("  %%q%d = cage.quantize %%x%s {quantizer = %s} : tensor<4x128xf32>"
                 % (i, seed, q.mlir()))
lines += ["  return", "}"]
path = runner.path("quantizers.mlir")
with open(path, "w") as f:
    f.write("\n".join(lines) + "\n")
printed = subprocess.run([tool("cage-opt"), "--cage-verify", path], check=True,
                         stdout=subprocess.PIPE, text=True).stdout
assert re.findall(r"#cage\.quantizer<[^>]*>", printed) == [q.mlir() for q in quantizers], printed
print(quantizers[-1].mlir())
# CHECK: #cage.quantizer<bits = 2, granularity = group, group_size = 64, scale = rms_gaussian, levels = centered, rotation = hadamard, block = 32, rounding = stochastic>
assert nn.Quantizer(bits=4).as_dict()["granularity"] == "row"
for bad in [dict(bits=1), dict(bits=9), dict(granularity="col"), dict(group_size=48, granularity="group"),
            dict(group_size=64), dict(block=64), dict(rotation="hadamard", block=1)]:
    expect_error(ValueError, Q, **bad)
expect_error(ValueError, nn.Linear(100, 4, weight_quantizer=Q(granularity="group", group_size=64))
             .forward_mlir, (2, 100), mode="eval")
expect_error(NotImplementedError, nn.Linear(8, 4, weight_quantizer=Q(scale="operand"))
             .forward_mlir, (2, 8), mode="eval")
print("PASS quantizer specs")
# CHECK: PASS quantizer specs

# -- Optimizer attributes print as cage-opt prints them ---------------------
opts = [nn.AdamW(), nn.AdamW(weight_decay=0.0), nn.AdamW(beta1=0.8, eps=1e-6),
        nn.SGD(momentum=0.9), nn.SGD(momentum=0.9, nesterov=True, weight_decay=1e-4),
        nn.SGD(momentum=0.5, dampening=0.1)]
lines = ["func.func @f(%w: tensor<8x8xf32>, %g: tensor<8x8xf32>, %lr: f32, %l: f32, %t: i64) {"]
for i, o in enumerate(opts):
    state = "%g, %g, %lr, %l, %t" if isinstance(o, nn.AdamW) else "%g, %lr, %l"
    lines.append("  %%u%d:%d = cage.update %%w, %%g, %s {quantizer = #cage.quantizer<>, optimizer = %s} : tensor<8x8xf32>"
                 % (i, 3 if isinstance(o, nn.AdamW) else 2, state, o.mlir()))
lines += ["  return", "}"]
path = runner.path("optimizers.mlir")
with open(path, "w") as f:
    f.write("\n".join(lines) + "\n")
printed = subprocess.run([tool("cage-opt"), path], check=True, stdout=subprocess.PIPE, text=True).stdout
assert re.findall(r"#cage\.(?:adamw|sgd)<[^>]*>", printed) == [o.mlir() for o in opts], printed
print(opts[-1].mlir())
# CHECK: #cage.sgd<momentum = 0.5, dampening = 0.1>
print(opts[-2].mlir())
# CHECK: #cage.sgd<momentum = 0.9, nesterov = true, weight_decay = 0.0001>
for bad in [dict(nesterov=True), dict(momentum=0.9, dampening=0.1, nesterov=True),
            dict(dampening=2.0), dict(momentum=-1.0)]:
    expect_error(ValueError, nn.SGD, **bad)
for bad in [dict(beta1=1.0), dict(eps=0.0), dict(weight_decay=float("inf"))]:
    expect_error(ValueError, nn.AdamW, **bad)
print("PASS optimizer attributes")
# CHECK: PASS optimizer attributes

# -- f32 literals ------------------------------------------------------------
# As cage's attribute printer writes them (and so as cage-opt prints #cage.adamw).
for v, s in [(0.0, "0.0"), (-0.0, "-0.0"), (1.0, "1.0"), (32, "32.0"), (1e-8, "1.0e-08"),
             (1e-4, "0.0001"), (0.1, "0.1"), (0.35355339, "0.35355338"),
             (float("-inf"), "0xFF800000"), (float("inf"), "0x7F800000"),
             (3.4028235e38, "3.4028235e+38"), (1e16, "1.0e+16"), (1e-45, "1.0e-45")]:
    assert f32_literal(v) == s, (v, f32_literal(v), s)
# Every finite f32 comes back: MLIR reads the literal as an f64, rounds to f32.
rng = np.random.default_rng(0)
values = np.concatenate([rng.standard_normal(3000), 10.0 ** rng.uniform(-44, 38, 3000)])
values = np.concatenate([values.astype(np.float32),
                         rng.integers(0, 0x7F800000, 3000).astype(np.uint32).view(np.float32)])
for v in values:
    assert np.float32(float(f32_literal(v))) == v, v
print("PASS f32 literals")
# CHECK: PASS f32 literals

# -- #cage.param -------------------------------------------------------------
q4 = Q()
P = nn.ParamConfig
assert P().mlir(q4) == "#cage.param<>"
assert P().mlir(None) == "#cage.param<cage = false>"
assert P(cage=False, lambda_=3.0, estimator="identity").mlir(q4) == \
    "#cage.param<cage = false, estimator = identity>"
assert P(lambda_=3.0, coupling="coupled").mlir(None) == "#cage.param<cage = false>"
assert P(quantizer=Q(bits=8)).mlir(None) == "#cage.param<quantizer = #cage.quantizer<bits = 8>>"
assert P(quantizer=Q(bits=8)).mlir(q4) == "#cage.param<quantizer = #cage.quantizer<bits = 8>>"
assert P(quantizer=q4).mlir(q4) == "#cage.param<>"
# A stochastic forward quantizer: the correction's is spelled out, rounding to nearest.
assert P().mlir(Q(rounding="stochastic")) == "#cage.param<quantizer = #cage.quantizer<>>"
expect_error(ValueError, P(quantizer=Q(rounding="stochastic")).mlir, q4)
print(P(optimizer=nn.SGD(momentum=0.9), coupling="coupled", error="zero_clipped", lambda_=1.0,
        silence=0.0, schedule="constant", estimator="identity").mlir(q4))
# CHECK: #cage.param<optimizer = #cage.sgd<momentum = 0.9>, coupling = coupled, error = zero_clipped, lambda = 1.0, silence = 0.0, schedule = constant, estimator = identity>
print(P().replace(weight_decay=0.0, **{"lambda": 20.0}).mlir(q4))
# CHECK: #cage.param<optimizer = #cage.adamw<weight_decay = 0.0>, lambda = 20.0>
for bad in [dict(coupling="x"), dict(lambda_=-1.0), dict(silence=1.0), dict(optimizer="adam")]:
    expect_error((ValueError, TypeError), P, **bad)
# Overrides: kinds, globs, in order, then the parameter's own config.
mlp = nn.Sequential(nn.Linear(8, 8, weight_quantizer=4), nn.ReLU(), nn.Linear(8, 2, weight_quantizer=4))
mlp[2].weight.config = {"estimator": "identity"}
fn = mlp.forward_mlir((4, 8), loss=nn.CrossEntropyLoss(), config={"lambda": 2.0},
                      overrides={"@bias": nn.ParamConfig(optimizer=nn.SGD()), "0.*": {"silence": 0.5}})
attrs = {a.param_name: a.attr for a in fn.args if a.kind == "param"}
assert attrs == {
    "0.weight": "#cage.param<lambda = 2.0, silence = 0.5>",
    "0.bias": "#cage.param<optimizer = #cage.sgd<>, cage = false>",
    "2.weight": "#cage.param<lambda = 2.0, estimator = identity>",
    "2.bias": "#cage.param<optimizer = #cage.sgd<>, cage = false>"}, attrs
assert strip_param_attrs(fn.text)[1] == 4
print("PASS cage.param")
# CHECK: PASS cage.param

# -- Initialisation: torch's distributions -----------------------------------
nn.manual_seed(123)
lin = nn.Linear(256, 512)
bound = 1 / np.sqrt(256)
torch.manual_seed(0)
tl = torch.nn.Linear(256, 512)
for ours, theirs in [(lin.weight.data, tl.weight.detach().numpy()), (lin.bias.data, tl.bias.detach().numpy())]:
    assert ours.dtype == np.float32
    assert np.abs(ours).max() <= bound and np.abs(theirs).max() <= bound
    # U(-b, b) has standard deviation b / sqrt(3). The sample standard deviation
    # of n draws has relative standard error sqrt((kurtosis - 1) / n) / 2, with
    # kurtosis 9/5 for a uniform: both draws must lie within 5 of those errors.
    tolerance = 5 * np.sqrt(0.8 / ours.size) / 2
    for sample in (ours, theirs):
        assert abs(sample.std() / (bound / np.sqrt(3)) - 1) < tolerance, (sample.std(), tolerance)
emb = nn.Embedding(1000, 64)
assert abs(emb.weight.data.std() - 1) < 0.02 and abs(emb.weight.data.mean()) < 0.02
assert abs(torch.nn.Embedding(1000, 64).weight.detach().numpy().std() - 1) < 0.02
ln = nn.LayerNorm(16)
assert (ln.weight.data == 1).all() and (ln.bias.data == 0).all()
assert (nn.RMSNorm(16).weight.data == 1).all() and nn.RMSNorm(16).eps == np.finfo(np.float32).eps
# Seeded: the same seed gives the same parameters, a Generator or an int.
assert np.array_equal(nn.Linear(4, 4, rng=5).weight.data, nn.Linear(4, 4, rng=5).weight.data)
nn.manual_seed(1)
a = nn.Linear(4, 4).weight.data
nn.manual_seed(1)
assert np.array_equal(a, nn.Linear(4, 4).weight.data)
print("PASS init")
# CHECK: PASS init

# -- Names and order: torch's, loadable both ways ----------------------------
block = nn.TransformerBlock(16, 2, rng=0)
names = [n for n, _ in block.named_parameters()]
assert names[:6] == ["ln1.weight", "ln1.bias", "attn.q.weight", "attn.q.bias",
                     "attn.k.weight", "attn.k.bias"], names
assert names[-4:] == ["mlp.fc1.weight", "mlp.fc1.bias", "mlp.fc2.weight", "mlp.fc2.bias"], names
seq = nn.Sequential(nn.Linear(8, 4), nn.GELU(), nn.LayerNorm(4))
tseq = torch.nn.Sequential(torch.nn.Linear(8, 4), torch.nn.GELU(), torch.nn.LayerNorm(4))
tseq.load_state_dict({n: torch.from_numpy(a) for n, a in seq.state_dict().items()})
seq.load_state_dict(tseq.state_dict())
expect_error(KeyError, seq.load_state_dict, {"0.weight": np.zeros((4, 8))})
expect_error(ValueError, seq.load_state_dict,
             dict(seq.state_dict(), **{"0.bias": np.zeros(5, np.float32)}))
print("PASS names")
# CHECK: PASS names

# -- Stochastic quantizers: one seed argument, seed * K + k per quantizer -----
model = nn.Sequential(nn.Linear(8, 8, weight_quantizer=Q(rounding="stochastic"),
                                input_quantizer=Q(rounding="stochastic")),
                      nn.ReLU(), nn.Linear(8, 2, input_quantizer=Q(bits=8, rounding="stochastic")))
fn = model.forward_mlir((4, 8), loss=nn.CrossEntropyLoss())
print(fn.text)
# CHECK-LABEL: func.func @loss(%x: tensor<4x8xf32>,
# CHECK-NEXT: %target: tensor<4x2xf32>,
# CHECK-NEXT: %seed: i64,
# CHECK-NEXT: %p0_weight: tensor<8x8xf32> {cage.param = #cage.param<quantizer = #cage.quantizer<>>},
# CHECK: %seed_scaled = arith.muli %seed, %c3 : i64
# CHECK-NEXT: %seed_q0 = arith.addi %seed_scaled, %c0 : i64
# CHECK-NEXT: %seed_q1 = arith.addi %seed_scaled, %c1 : i64
# CHECK-NEXT: %seed_q2 = arith.addi %seed_scaled, %c2 : i64
# CHECK: cage.quantize %x seed(%seed_q0) {quantizer = #cage.quantizer<rounding = stochastic>}
# CHECK: cage.quantize %p0_weight seed(%seed_q1)
# CHECK: cage.quantize %p1_relu seed(%seed_q2) {quantizer = #cage.quantizer<bits = 8, rounding = stochastic>}
assert [a.kind for a in fn.args[:3]] == ["input", "target", "seed"]
expect_error(TypeError, fn.arguments, np.zeros((4, 8)), target=np.zeros((4, 2)))
expect_error(ValueError, fn.arguments, np.zeros((4, 9)), target=np.zeros((4, 2)), seed=1)
assert fn.arguments(np.zeros((4, 8)), target=np.zeros((4, 2)), seed=-1)[2] == -1
assert fn.arguments(np.zeros((4, 8)), target=np.zeros((4, 2)), seed=2 ** 64 - 1)[2] == -1
one = nn.Linear(8, 2, weight_quantizer=Q(rounding="stochastic")).forward_mlir((4, 8), mode="eval")
assert "seed(%seed)" in one.text and "seed_q" not in one.text
assert not nn.Linear(8, 2, weight_quantizer=4).forward_mlir((4, 8), mode="eval").has_seed
print("PASS seeds")
# CHECK: PASS seeds

# -- Deterministic quantizers of one value are shared (attention's q, k, v) --
attn = nn.CausalSelfAttention(16, 2, input_quantizer=8, rng=0)
fn = attn.forward_mlir((2, 8, 16), mode="eval")
assert fn.text.count("= cage.quantize %x_rows ") == 1, fn.text
assert fn.text.count("= tensor.collapse_shape %x ") == 1, fn.text
runner.verify(fn, "shared")
print("PASS shared quantizer")
# CHECK: PASS shared quantizer

# -- The eval form ------------------------------------------------------------
mlp = nn.Sequential(nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 3))
ev = mlp.forward_mlir((4, 8), mode="eval", name="logits")
assert ev.results == [("output", (4, 3))] and ev.name == "logits"
assert "-> tensor<4x3xf32> {" in ev.text and "cage.param" not in ev.text
x = np.random.default_rng(0).standard_normal((4, 8)).astype(np.float32)
(out,) = runner.run(ev, ev.arguments(x), "eval")
assert out.shape == (4, 3)
both = mlp.forward_mlir((4, 8), loss=nn.CrossEntropyLoss(), mode="eval")
assert both.results == [("loss", ()), ("output", (4, 3))]
assert "-> (f32, tensor<4x3xf32>) {" in both.text
expect_error(ValueError, mlp.forward_mlir, (4, 8))  # train needs a loss
expect_error(ValueError, mlp.forward_mlir, (4, 9), mode="eval")
expect_error(ValueError, mlp.forward_mlir, (4, 8), mode="test")
print("PASS eval form")
# CHECK: PASS eval form
