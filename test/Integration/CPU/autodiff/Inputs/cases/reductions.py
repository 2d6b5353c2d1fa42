"""Reductions in linalg.generic: sums (the body adds to the accumulator),
`acc - term`, max (maximumf) and min, a mean (a sum, then a scalar divf
outside), an accumulator initialised from a parameter, reductions over the
inner, outer and middle dimensions.
"""

import torch

from common import MAPS, Case, D, P, T, func, wsum


def wl_sum(y, wl):
    return (y * wl).sum()


def red(name, shape, out_shape, maps, iters, body, fn, init="0.0",
        extra_args=(), extra_ins=(), init_param=False, torch_init=None):
    """y = a reduction of %a (and extra_ins) into out_shape, initialised
    with `init` (or a parameter %init), weighted into the loss."""
    ty, to = T(*shape), T(*out_shape)
    ins = ["%a"] + [v for v, _ in extra_ins]
    tys = [ty] + [t for _, t in extra_ins]
    bargs = ", ".join(f"{v}_: f32" for v in ins) + ", %acc: f32"
    args = [P("a", ty)] + list(extra_args)
    if init_param:
        args.append(P("init", to))
        head = ""
        outs = "%init"
    else:
        head = f"""\
  %c_init = arith.constant {init} : f32
  %e = tensor.empty() : {to}
  %z = linalg.fill ins(%c_init : f32) outs(%e : {to}) -> {to}
"""
        outs = "%z"
    body_lines = "\n".join("    " + s.strip() for s in body.strip().split("\n"))
    text = head + f"""\
  %y = linalg.generic {{indexing_maps = [{", ".join(maps)}],
                       iterator_types = [{", ".join(f'"{i}"' for i in iters)}]}}
      ins({", ".join(ins)} : {", ".join(tys)}) outs({outs} : {to}) {{
  ^bb0({bargs}):
{body_lines}
  }} -> {to}
""" + wsum("%y", "%wl", out_shape)
    return Case(name, func(args + [D("wl", to)], text, prelude=MAPS), fn)


R3 = "affine_map<(i, j, k) -> (i, k)>"
R3_IN = "affine_map<(i, j, k) -> (i, j, k)>"
R3_LAST = "affine_map<(i, j, k) -> (i, j)>"

CASES = [
    red("sum_rows", (7, 13), (7,), ["#id2", "#row2"],
        ["parallel", "reduction"], """
        %t0 = arith.addf %a_, %acc : f32
        linalg.yield %t0 : f32""",
        lambda T, a, wl: wl_sum(a.sum(1), wl)),
    red("sum_columns", (129, 7), (7,), ["#id2", "#col2"],
        ["reduction", "parallel"], """
        %t0 = arith.addf %acc, %a_ : f32
        linalg.yield %t0 : f32""",
        lambda T, a, wl: wl_sum(a.sum(0), wl)),
    # A sum of products of two parameters, over the middle dimension.
    red("sum_middle_products", (3, 129, 5), (3, 5), [R3_IN, R3_IN, R3],
        ["parallel", "reduction", "parallel"], """
        %t0 = arith.mulf %a_, %b_ : f32
        %t1 = arith.addf %acc, %t0 : f32
        linalg.yield %t1 : f32""",
        lambda T, a, b, wl: wl_sum((a * b).sum(1), wl),
        extra_args=[P("b", T(3, 129, 5))],
        extra_ins=[("%b", T(3, 129, 5))]),
    # acc - term, from 1.0: y_i = 1 - sum_j a_ij^2.
    red("acc_minus_term", (7, 13), (7,), ["#id2", "#row2"],
        ["parallel", "reduction"], """
        %t0 = arith.mulf %a_, %a_ : f32
        %t1 = arith.subf %acc, %t0 : f32
        linalg.yield %t1 : f32""",
        lambda T, a, wl: wl_sum(1 - (a * a).sum(1), wl), init="1.0"),
    # The accumulator's initial value is a parameter.
    red("init_from_param", (7, 13), (7,), ["#id2", "#row2"],
        ["parallel", "reduction"], """
        %t0 = math.tanh %a_ : f32
        %t1 = arith.addf %acc, %t0 : f32
        linalg.yield %t1 : f32""",
        lambda T, a, init, wl: wl_sum(init + torch.tanh(a).sum(1), wl),
        init_param=True),
    red("max_rows", (3, 5, 13), (3, 5), [R3_IN, R3_LAST],
        ["parallel", "parallel", "reduction"], """
        %t0 = arith.maximumf %acc, %a_ : f32
        linalg.yield %t0 : f32""",
        lambda T, a, wl: wl_sum(a.amax(2), wl), init="0xFF800000"),
    red("min_columns", (13, 7), (7,), ["#id2", "#col2"],
        ["reduction", "parallel"], """
        %t0 = arith.minimumf %a_, %acc : f32
        linalg.yield %t0 : f32""",
        lambda T, a, wl: wl_sum(a.amin(0), wl), init="0x7F800000"),
    # A sum over everything into a rank-0 tensor.
    red("sum_all_squares", (7, 13), (), ["#id2", "#all2"],
        ["reduction", "reduction"], """
        %t0 = arith.mulf %a_, %a_ : f32
        %t1 = arith.addf %acc, %t0 : f32
        linalg.yield %t1 : f32""",
        lambda T, a, wl: wl_sum((a * a).sum(), wl)),
]

# mean(a * b) over all elements, the mean a scalar divf outside, squared.
CASES.append(Case(
    "mean_then_scalar_arith",
    func([P("a", T(7, 13)), P("b", T(7, 13))], """\
  %zero = arith.constant 0.0 : f32
  %n = arith.constant 91.0 : f32
  %e = tensor.empty() : tensor<f32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<f32>) -> tensor<f32>
  %s = linalg.generic {indexing_maps = [#id2, #id2, #all2],
                       iterator_types = ["reduction", "reduction"]}
      ins(%a, %b : tensor<7x13xf32>, tensor<7x13xf32>) outs(%z : tensor<f32>) {
  ^bb0(%a_: f32, %b_: f32, %acc: f32):
    %t0 = arith.mulf %a_, %b_ : f32
    %t1 = arith.addf %acc, %t0 : f32
    linalg.yield %t1 : f32
  } -> tensor<f32>
  %sum = tensor.extract %s[] : tensor<f32>
  %mean = arith.divf %sum, %n : f32
  %sq = arith.mulf %mean, %mean : f32
  %loss = arith.addf %sq, %mean : f32
""", prelude=MAPS),
    lambda T, a, b: (lambda m: m * m + m)((a * b).sum() / 91.0)))

# Row means broadcast back: centering, y = a - mean_j(a) (a reduction whose
# result feeds a broadcast in the next generic).
CASES.append(Case(
    "center_rows",
    func([P("a", T(7, 13)), D("wl", T(7, 13))], """\
  %zero = arith.constant 0.0 : f32
  %n = arith.constant 13.0 : f32
  %e = tensor.empty() : tensor<7xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<7xf32>) -> tensor<7xf32>
  %s = linalg.generic {indexing_maps = [#id2, #row2],
                       iterator_types = ["parallel", "reduction"]}
      ins(%a : tensor<7x13xf32>) outs(%z : tensor<7xf32>) {
  ^bb0(%a_: f32, %acc: f32):
    %t0 = arith.addf %acc, %a_ : f32
    linalg.yield %t0 : f32
  } -> tensor<7xf32>
  %e2 = tensor.empty() : tensor<7x13xf32>
  %y = linalg.generic {indexing_maps = [#id2, #row2, #id2],
                       iterator_types = ["parallel", "parallel"]}
      ins(%a, %s : tensor<7x13xf32>, tensor<7xf32>) outs(%e2 : tensor<7x13xf32>) {
  ^bb0(%a_: f32, %s_: f32, %o_: f32):
    %t0 = arith.divf %s_, %n : f32
    %t1 = arith.subf %a_, %t0 : f32
    %t2 = arith.mulf %t1, %t1 : f32
    linalg.yield %t2 : f32
  } -> tensor<7x13xf32>
""" + wsum("%y", "%wl", (7, 13)), prelude=MAPS),
    lambda T, a, wl: wl_sum((a - a.sum(1, keepdim=True) / 13.0) ** 2, wl)))
