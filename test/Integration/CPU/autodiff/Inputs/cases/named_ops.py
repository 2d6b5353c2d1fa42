"""Named linalg ops: matmul (plain; A·Bᵀ, Aᵀ·B, Aᵀ·Bᵀ with indexing_maps;
accumulating into a parameter), batch_matmul (plain and with Bᵀ), transpose,
broadcast, reduce (short and long forms), softmax, fill.
"""

import torch

from common import Case, D, P, T, func, wsum


def wl_sum(y, wl):
    return (y * wl).sum()


M, N, K = 7, 5, 13
MAP = "affine_map<(d0, d1, d2) -> ({})>"


def matmul(name, a_map, b_map, a_shape, b_shape, fn, c_param=False):
    """Y = A·B (M x N) with the given operand maps over (d0, d1, d2) =
    (m, n, k); A and B parameters; with c_param the accumulator is %c, a
    parameter, else zeros."""
    ta, tb, ty = T(*a_shape), T(*b_shape), T(M, N)
    maps = (f"[{MAP.format(a_map)}, {MAP.format(b_map)}, "
            f"{MAP.format('d0, d1')}]")
    if c_param:
        head, outs = "", "%c"
    else:
        head = f"""\
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : {ty}
  %z = linalg.fill ins(%zero : f32) outs(%e : {ty}) -> {ty}
"""
        outs = "%z"
    text = head + f"""\
  %y = linalg.matmul indexing_maps = {maps}
         ins(%a, %b : {ta}, {tb}) outs({outs} : {ty}) -> {ty}
""" + wsum("%y", "%wl", (M, N))
    args = [P("a", ta), P("b", tb)] + ([P("c", ty)] if c_param else []) + \
        [D("wl", ty)]
    return Case(name, func(args, text), fn)


CASES = [
    matmul("matmul", "d0, d2", "d2, d1", (M, K), (K, N),
           lambda T, a, b, wl: wl_sum(a @ b, wl)),
    matmul("matmul_a_bt", "d0, d2", "d1, d2", (M, K), (N, K),
           lambda T, a, b, wl: wl_sum(a @ b.T, wl)),
    matmul("matmul_at_b", "d2, d0", "d2, d1", (K, M), (K, N),
           lambda T, a, b, wl: wl_sum(a.T @ b, wl)),
    matmul("matmul_at_bt", "d2, d0", "d1, d2", (K, M), (N, K),
           lambda T, a, b, wl: wl_sum(a.T @ b.T, wl)),
    matmul("matmul_into_param", "d0, d2", "d2, d1", (M, K), (K, N),
           lambda T, a, b, c, wl: wl_sum(c + a @ b, wl), c_param=True),
]

# The plain matmul without indexing_maps (the default form).
CASES.append(Case(
    "matmul_default_form",
    func([P("a", T(1, 129)), P("b", T(129, 7)), D("wl", T(1, 7))], """\
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x7xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<1x7xf32>) -> tensor<1x7xf32>
  %y = linalg.matmul ins(%a, %b : tensor<1x129xf32>, tensor<129x7xf32>)
                     outs(%z : tensor<1x7xf32>) -> tensor<1x7xf32>
""" + wsum("%y", "%wl", (1, 7))),
    lambda T, a, b, wl: wl_sum(a @ b, wl)))


def batch_matmul(name, b_map, b_shape, fn):
    ta, tb, ty = T(3, M, K), T(*b_shape), T(3, M, N)
    maps = ""
    if b_map:
        m4 = "affine_map<(d0, d1, d2, d3) -> ({})>"
        maps = (f" indexing_maps = [{m4.format('d0, d1, d3')}, "
                f"{m4.format(b_map)}, {m4.format('d0, d1, d2')}]")
    return Case(name, func([P("a", ta), P("b", tb), D("wl", ty)], f"""\
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : {ty}
  %z = linalg.fill ins(%zero : f32) outs(%e : {ty}) -> {ty}
  %y = linalg.batch_matmul{maps}
         ins(%a, %b : {ta}, {tb}) outs(%z : {ty}) -> {ty}
""" + wsum("%y", "%wl", (3, M, N))), fn)


CASES += [
    batch_matmul("batch_matmul", None, (3, K, N),
                 lambda T, a, b, wl: wl_sum(torch.bmm(a, b), wl)),
    batch_matmul("batch_matmul_bt", "d0, d2, d3", (3, N, K),
                 lambda T, a, b, wl: wl_sum(torch.bmm(a, b.transpose(1, 2)),
                                            wl)),
]

CASES.append(Case(
    "transpose",
    func([P("a", T(7, 13)), P("b", T(3, 5, 13)), D("wl", T(13, 7)),
          D("wl2", T(13, 3, 5))], """\
  %e = tensor.empty() : tensor<13x7xf32>
  %y = linalg.transpose ins(%a : tensor<7x13xf32>)
                        outs(%e : tensor<13x7xf32>) permutation = [1, 0]
  %e2 = tensor.empty() : tensor<13x3x5xf32>
  %y2 = linalg.transpose ins(%b : tensor<3x5x13xf32>)
                         outs(%e2 : tensor<13x3x5xf32>) permutation = [2, 0, 1]
""" + wsum("%y", "%wl", (13, 7), out="%l1")
         + wsum("%y2", "%wl2", (13, 3, 5), out="%l2")
         + "  %loss = arith.addf %l1, %l2 : f32\n"),
    lambda T, a, b, wl, wl2: wl_sum(a.T, wl) + wl_sum(b.permute(2, 0, 1),
                                                      wl2)))

# broadcast: v (13) over rows, u (7) over columns, times a parameter.
CASES.append(Case(
    "broadcast",
    func([P("v", T(13)), P("u", T(7)), P("a", T(7, 13)), D("wl", T(7, 13))],
         """\
  %e = tensor.empty() : tensor<7x13xf32>
  %bv = linalg.broadcast ins(%v : tensor<13xf32>)
                         outs(%e : tensor<7x13xf32>) dimensions = [0]
  %bu = linalg.broadcast ins(%u : tensor<7xf32>)
                         outs(%e : tensor<7x13xf32>) dimensions = [1]
  %y = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>,
                                        affine_map<(i, j) -> (i, j)>,
                                        affine_map<(i, j) -> (i, j)>,
                                        affine_map<(i, j) -> (i, j)>],
                       iterator_types = ["parallel", "parallel"]}
      ins(%bv, %bu, %a : tensor<7x13xf32>, tensor<7x13xf32>, tensor<7x13xf32>)
      outs(%e : tensor<7x13xf32>) {
  ^bb0(%v_: f32, %u_: f32, %a_: f32, %o_: f32):
    %t0 = arith.addf %v_, %u_ : f32
    %t1 = arith.mulf %t0, %a_ : f32
    linalg.yield %t1 : f32
  } -> tensor<7x13xf32>
""" + wsum("%y", "%wl", (7, 13))),
    lambda T, v, u, a, wl: wl_sum((v[None, :] + u[:, None]) * a, wl)))

# linalg.reduce: a sum over dim 1 (long form, with a body that squares) and
# a max over dim 0 (short form).
CASES.append(Case(
    "reduce",
    func([P("a", T(7, 13)), P("b", T(13, 5)), D("wl", T(7)),
          D("wl2", T(5))], """\
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %e = tensor.empty() : tensor<7xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<7xf32>) -> tensor<7xf32>
  %s = linalg.reduce ins(%a : tensor<7x13xf32>) outs(%z : tensor<7xf32>)
         dimensions = [1]
    (%in: f32, %init: f32) {
      %t0 = arith.mulf %in, %in : f32
      %t1 = arith.addf %t0, %init : f32
      linalg.yield %t1 : f32
    }
  %e2 = tensor.empty() : tensor<5xf32>
  %m0 = linalg.fill ins(%ninf : f32) outs(%e2 : tensor<5xf32>) -> tensor<5xf32>
  %m = linalg.reduce { arith.maximumf } ins(%b : tensor<13x5xf32>)
         outs(%m0 : tensor<5xf32>) dimensions = [0]
""" + wsum("%s", "%wl", (7,), out="%l1") + wsum("%m", "%wl2", (5,), out="%l2")
         + "  %loss = arith.addf %l1, %l2 : f32\n"),
    lambda T, a, b, wl, wl2: wl_sum((a * a).sum(1), wl) +
    wl_sum(b.amax(0), wl2)))

CASES.append(Case(
    "softmax",
    func([P("a", T(7, 13)), P("b", T(3, 129)), D("wl", T(7, 13)),
          D("wl2", T(3, 129))], """\
  %e = tensor.empty() : tensor<7x13xf32>
  %y = linalg.softmax dimension(1) ins(%a : tensor<7x13xf32>)
                                   outs(%e : tensor<7x13xf32>) -> tensor<7x13xf32>
  %e2 = tensor.empty() : tensor<3x129xf32>
  %y2 = linalg.softmax dimension(0) ins(%b : tensor<3x129xf32>)
                                    outs(%e2 : tensor<3x129xf32>) -> tensor<3x129xf32>
""" + wsum("%y", "%wl", (7, 13), out="%l1")
         + wsum("%y2", "%wl2", (3, 129), out="%l2")
         + "  %loss = arith.addf %l1, %l2 : f32\n"),
    lambda T, a, b, wl, wl2: wl_sum(torch.softmax(a, 1), wl) +
    wl_sum(torch.softmax(b, 0), wl2)))

# linalg.fill with a value computed from a parameter: its gradient is the
# sum of the fill's upstream gradient.
CASES.append(Case(
    "fill",
    func([P("s", T()), P("a", T(7, 13)), D("wl", T(7, 13))], """\
  %sv = tensor.extract %s[] : tensor<f32>
  %sx = math.exp %sv : f32
  %e = tensor.empty() : tensor<7x13xf32>
  %f = linalg.fill ins(%sx : f32) outs(%e : tensor<7x13xf32>) -> tensor<7x13xf32>
  %y = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>,
                                        affine_map<(i, j) -> (i, j)>,
                                        affine_map<(i, j) -> (i, j)>],
                       iterator_types = ["parallel", "parallel"]}
      ins(%f, %a : tensor<7x13xf32>, tensor<7x13xf32>)
      outs(%e : tensor<7x13xf32>) {
  ^bb0(%f_: f32, %a_: f32, %o_: f32):
    %t0 = arith.mulf %f_, %a_ : f32
    linalg.yield %t0 : f32
  } -> tensor<7x13xf32>
""" + wsum("%y", "%wl", (7, 13))),
    lambda T, s, a, wl: wl_sum(torch.exp(s) * a, wl)))
