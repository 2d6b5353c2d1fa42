"""linalg.matmul / batch_matmul indexing_maps forms beyond the transposes of
named_ops.py that MLIR 22's verifier accepts (and cage-run runs today): a
transposed result, a broadcast (rank-1) operand, a batch_matmul whose lhs
is broadcast over the batch; and a quantized linear layer on dynamic
shapes (its adjoints size their buffers with tensor.dim). Kept apart from named_ops so that a pass that
rejects them on purpose fails this group only.

Not here, though the verifier accepts them: a matmul whose result map omits
a parallel dimension, (d0, d2), (d2, d1) -> (d0), which accumulates over d1
as well, and one whose result map has all three dimensions, -> (d0, d1, d2)
(no reduction at all): their meaning is an accident of the lowering.
"""

import torch

from common import Case, D, P, T, func, wsum


def wl_sum(y, wl):
    return (y * wl).sum()


MAP3 = "affine_map<(d0, d1, d2) -> ({})>"
MAP4 = "affine_map<(d0, d1, d2, d3) -> ({})>"


def form(name, op, maps, ta, tb, ty, out_shape, fn, mp):
    text = f"""\
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : {ty}
  %z = linalg.fill ins(%zero : f32) outs(%e : {ty}) -> {ty}
  %y = {op} indexing_maps = [{", ".join(mp.format(m) for m in maps)}]
         ins(%a, %b : {ta}, {tb}) outs(%z : {ty}) -> {ty}
""" + wsum("%y", "%wl", out_shape)
    return Case(name, func([P("a", ta), P("b", tb), D("wl", ty)], text), fn)


CASES = [
    # Y(n, m) = sum_k A(m, k) B(k, n): the result transposed.
    form("matmul_result_transposed", "linalg.matmul",
         ["d0, d2", "d2, d1", "d1, d0"], T(7, 13), T(13, 5), T(5, 7), (5, 7),
         lambda T, a, b, wl: wl_sum((a @ b).T, wl), MAP3),
    # Y(m, n) = sum_k a(k) B(k, n): a broadcast over the rows.
    form("matmul_broadcast_lhs", "linalg.matmul",
         ["d2", "d2, d1", "d0, d1"], T(13), T(13, 5), T(7, 5), (7, 5),
         lambda T, a, b, wl: wl_sum((a @ b)[None, :].expand(7, 5), wl), MAP3),
    # Y(m, n) = sum_k A(m, k) b(k): b broadcast over the columns.
    form("matmul_broadcast_rhs", "linalg.matmul",
         ["d0, d2", "d2", "d0, d1"], T(7, 13), T(13), T(7, 5), (7, 5),
         lambda T, a, b, wl: wl_sum((a @ b)[:, None].expand(7, 5), wl), MAP3),
    # Y(b, m, n) = sum_k A(m, k) B(b, k, n): one lhs for the whole batch.
    form("batch_matmul_broadcast_lhs", "linalg.batch_matmul",
         ["d1, d3", "d0, d3, d2", "d0, d1, d2"], T(7, 13), T(3, 13, 5),
         T(3, 7, 5), (3, 7, 5),
         lambda T, a, b, wl: wl_sum(torch.matmul(a, b), wl), MAP4),
]

# A quantized linear layer with a bias and tanh on dynamic shapes: the
# adjoints read every size from the tensors (tensor.dim).
DYN = "tensor<?x?xf32>"
CASES.append(Case(
    "dynamic_quantized_linear",
    func([D("x", DYN), P("w", DYN), P("b", "tensor<?xf32>", extra="cage = false")], """\
  %zero = arith.constant 0.0 : f32
  %c0 = arith.constant 0 : index
  %n = tensor.dim %x, %c0 : tensor<?x?xf32>
  %m = tensor.dim %w, %c0 : tensor<?x?xf32>
  %wq = cage.quantize %w {quantizer = #qw} : tensor<?x?xf32>
  %e = tensor.empty(%n, %m) : tensor<?x?xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<?x?xf32>) -> tensor<?x?xf32>
  %p = linalg.matmul indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>,
                                      affine_map<(d0, d1, d2) -> (d1, d2)>,
                                      affine_map<(d0, d1, d2) -> (d0, d1)>]
         ins(%x, %wq : tensor<?x?xf32>, tensor<?x?xf32>) outs(%z : tensor<?x?xf32>) -> tensor<?x?xf32>
  %s0 = tensor.empty() : tensor<f32>
  %sz = linalg.fill ins(%zero : f32) outs(%s0 : tensor<f32>) -> tensor<f32>
  %l = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (j)>,
                                        affine_map<(i, j) -> ()>],
                       iterator_types = ["reduction", "reduction"]}
      ins(%p, %b : tensor<?x?xf32>, tensor<?xf32>) outs(%sz : tensor<f32>) {
  ^bb0(%a_: f32, %c_: f32, %acc: f32):
    %y_ = arith.addf %a_, %c_ : f32
    %t_ = math.tanh %y_ : f32
    %r_ = arith.addf %acc, %t_ : f32
    linalg.yield %r_ : f32
  } -> tensor<f32>
  %loss = tensor.extract %l[] : tensor<f32>
""", prelude="#qw = #cage.quantizer<bits = 4>\n"),
    lambda T, x, w, b: torch.tanh(x @ T.quantize(w, "qw").T + b).sum(),
    shapes={"x": (7, 13), "w": (5, 13), "b": (5,)}))
