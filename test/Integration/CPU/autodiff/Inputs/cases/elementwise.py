"""Elementwise linalg.generic bodies over arith and math: the adjoint of
every op of the body, both operands of binary ops as parameters, broadcast
operands, scalars captured from outside the body, results used twice.

The loss of most cases is sum(y * wl) with wl random data (wsum): the
upstream gradient of y is then wl, different at every element, so a
gradient scattered to the wrong element shows.
"""

import torch

from common import MAPS, Case, D, P, T, elementwise, func, normal, uniform, \
    wsum

S = (7, 13)
TS = T(*S)


def wl_sum(y, wl):
    return (y * wl).sum()


def binary(name, line, fn, shape=S, b_gen=None):
    """y = a OP b over `shape`, a and b parameters."""
    ty = T(*shape)
    body = elementwise("%y", [("%a", ty), ("%b", ty)], shape,
                       line + "\nlinalg.yield %t0 : f32") + \
        wsum("%y", "%wl", shape)
    return Case(name, func([P("a", ty), P("b", ty), D("wl", ty)], body),
                lambda T, a, b, wl: wl_sum(fn(a, b), wl),
                inputs={"b": b_gen} if b_gen else None)


def unary(name, lines, fn, shape=S, gen=None, prelude_lines=""):
    """y = f(a) over `shape`, a a parameter; `lines` end in %t_last, yielded."""
    ty = T(*shape)
    last = lines.strip().split("\n")[-1].split("=")[0].strip()
    body = prelude_lines + elementwise(
        "%y", [("%a", ty)], shape,
        lines + f"\nlinalg.yield {last} : f32") + wsum("%y", "%wl", shape)
    return Case(name, func([P("a", ty), D("wl", ty)], body),
                lambda T, a, wl: wl_sum(fn(T, a), wl),
                inputs={"a": gen} if gen else None)


POS = uniform(0.5, 2.0)   # positive, away from 0: divisors, log, sqrt

CASES = [
    binary("addf", "%t0 = arith.addf %a_, %b_ : f32", lambda a, b: a + b),
    binary("subf", "%t0 = arith.subf %a_, %b_ : f32", lambda a, b: a - b,
           shape=(3, 5, 13)),
    binary("mulf", "%t0 = arith.mulf %a_, %b_ : f32", lambda a, b: a * b,
           shape=(129,)),
    binary("divf", "%t0 = arith.divf %a_, %b_ : f32", lambda a, b: a / b,
           b_gen=POS),
    binary("negf_mulf", "%t1 = arith.negf %a_ : f32\n"
           "%t0 = arith.mulf %t1, %b_ : f32", lambda a, b: -a * b),
    binary("maximumf", "%t0 = arith.maximumf %a_, %b_ : f32",
           lambda a, b: torch.maximum(a, b), shape=(13, 1)),
    binary("minimumf", "%t0 = arith.minimumf %a_, %b_ : f32",
           lambda a, b: torch.minimum(a, b), shape=(1, 129)),
    # relu as select + cmpf, and as the example's maximumf with 0.
    unary("relu_select", """
          %t0 = arith.constant 0.0 : f32
          %t1 = arith.cmpf ogt, %a_, %t0 : f32
          %t2 = arith.select %t1, %a_, %t0 : f32""",
          lambda T, a: torch.where(a > 0, a, torch.zeros_like(a))),
    unary("relu_maximumf", """
          %t0 = arith.constant 0.0 : f32
          %t1 = arith.maximumf %a_, %t0 : f32""",
          lambda T, a: torch.clamp(a, min=0), shape=(129,)),
    # leaky relu, its slope an arith.constant captured from outside.
    unary("leaky_relu_captured_const", """
          %t0 = arith.constant 0.0 : f32
          %t1 = arith.cmpf olt, %a_, %t0 : f32
          %t2 = arith.mulf %slope, %a_ : f32
          %t3 = arith.select %t1, %t2, %a_ : f32""",
          lambda T, a: torch.where(a < 0, T.c(0.01) * a, a),
          prelude_lines="  %slope = arith.constant 0.01 : f32\n"),
    unary("exp", "%t0 = math.exp %a_ : f32", lambda T, a: torch.exp(a)),
    unary("log", "%t0 = math.log %a_ : f32", lambda T, a: torch.log(a),
          gen=POS),
    unary("tanh", "%t0 = math.tanh %a_ : f32", lambda T, a: torch.tanh(a),
          shape=(3, 5, 13)),
    # GELU: 0.5 x (1 + erf(x / sqrt 2)).
    unary("gelu_erf", """
          %t0 = arith.constant 0.70710677 : f32
          %t1 = arith.constant 1.0 : f32
          %t2 = arith.constant 0.5 : f32
          %t3 = arith.mulf %a_, %t0 : f32
          %t4 = math.erf %t3 : f32
          %t5 = arith.addf %t4, %t1 : f32
          %t6 = arith.mulf %a_, %t5 : f32
          %t7 = arith.mulf %t6, %t2 : f32""",
          lambda T, a: a * (torch.erf(a * T.c(0.70710677)) + 1) * 0.5),
    unary("sqrt", "%t0 = math.sqrt %a_ : f32", lambda T, a: torch.sqrt(a),
          gen=POS),
    unary("rsqrt", "%t0 = math.rsqrt %a_ : f32", lambda T, a: torch.rsqrt(a),
          gen=POS, shape=(129,)),
    unary("powf_const", """
          %t0 = arith.constant 1.5 : f32
          %t1 = arith.constant -0.75 : f32
          %t2 = math.powf %a_, %t0 : f32
          %t3 = math.powf %a_, %t1 : f32
          %t4 = arith.subf %t2, %t3 : f32""",
          lambda T, a: a ** 1.5 - a ** -0.75, gen=POS),
    # a * a + a: one block argument used three times.
    unary("reuse_in_body", """
          %t0 = arith.mulf %a_, %a_ : f32
          %t1 = arith.addf %t0, %a_ : f32""", lambda T, a: a * a + a),
]

# Bias add: a column-broadcast bias (d0, d1) -> (d1) and a row-broadcast
# scale (d0, d1) -> (d0); y = (x + bias) * srow, all three parameters.
CASES.append(Case(
    "broadcast_bias_row_scale",
    func([P("x", TS), P("bias", T(13)), P("srow", T(7)), D("wl", TS)],
         elementwise("%y", [("%x", TS), ("%bias", T(13)), ("%srow", T(7))], S,
                     """%t0 = arith.addf %x_, %bias_ : f32
                        %t1 = arith.mulf %t0, %srow_ : f32
                        linalg.yield %t1 : f32""",
                     maps=["#id2", "#col2", "#row2"])
         + wsum("%y", "%wl", S), prelude=MAPS),
    lambda T, x, bias, srow, wl: wl_sum((x + bias) * srow[:, None], wl)))

# Scalars captured from outside the body: an arith.constant, a data f32
# argument, and a scalar extracted from a rank-0 parameter (its gradient
# sums over every element).
CASES.append(Case(
    "captured_scalars",
    func([P("a", TS), P("s", T()), D("k", "f32"), D("wl", TS)],
         """\
  %c = arith.constant 2.5 : f32
  %sv = tensor.extract %s[] : tensor<f32>
""" + elementwise("%y", [("%a", TS)], S, """
          %t0 = arith.mulf %a_, %sv : f32
          %t1 = arith.mulf %c, %k : f32
          %t2 = arith.addf %t0, %t1 : f32
          %t3 = arith.mulf %t2, %sv : f32
          linalg.yield %t3 : f32""") + wsum("%y", "%wl", S)),
    lambda T, a, s, k, wl: wl_sum((a * s + T.c(2.5) * k) * s, wl)))

# y = tanh(a * w + b) * a, then the generic's result used by two losses:
# fan-out of a block argument, of a generic's result, and scalar arith on
# two losses.
CASES.append(Case(
    "chain_fanout",
    func([P("a", TS), P("w", TS), P("b", TS), D("wl", TS), D("wl2", TS)],
         elementwise("%y", [("%a", TS), ("%w", TS), ("%b", TS)], S, """
          %t0 = arith.mulf %a_, %w_ : f32
          %t1 = arith.addf %t0, %b_ : f32
          %t2 = math.tanh %t1 : f32
          %t3 = arith.mulf %t2, %a_ : f32
          linalg.yield %t3 : f32""")
         + wsum("%y", "%wl", S, out="%l1") + wsum("%y", "%wl2", S, out="%l2")
         + """\
  %l1sq = arith.mulf %l1, %l1 : f32
  %loss = arith.subf %l1sq, %l2 : f32
"""),
    lambda T, a, w, b, wl, wl2: (
        lambda y: wl_sum(y, wl) ** 2 - wl_sum(y, wl2))(
            torch.tanh(a * w + b) * a)))

# Data that scales the loss weights small and large: the tolerance is
# relative to each output's max-norm.
CASES.append(Case(
    "scaled_inputs",
    func([P("a", TS), P("b", TS), D("wl", TS)],
         elementwise("%y", [("%a", TS), ("%b", TS)], S, """
          %t0 = arith.mulf %a_, %b_ : f32
          %t1 = math.tanh %t0 : f32
          linalg.yield %t1 : f32""") + wsum("%y", "%wl", S)),
    lambda T, a, b, wl: wl_sum(torch.tanh(a * b), wl),
    inputs={"a": normal(30.0), "b": normal(0.01), "wl": normal(1e3)}))
