"""tensor dialect ops: extract_slice (contiguous and strided), insert_slice,
expand_shape, collapse_shape, concat, pad (constant 0), extract of one
element.
"""

import torch

from common import Case, D, P, T, func, wsum


def wl_sum(y, wl):
    return (y * wl).sum()


def tanh_of(v, shape, out):
    """MLIR lines: out = tanh(v) elementwise (so that a gradient passes
    through something before and after the tensor op)."""
    rank = len(shape)
    dims = ", ".join(f"d{i}" for i in range(rank))
    ident = f"affine_map<({dims}) -> ({dims})>"
    ty = T(*shape)
    n = out.lstrip("%")
    return f"""\
  %{n}_e = tensor.empty() : {ty}
  {out} = linalg.generic {{indexing_maps = [{ident}, {ident}],
                       iterator_types = [{", ".join(['"parallel"'] * rank)}]}}
      ins({v} : {ty}) outs(%{n}_e : {ty}) {{
  ^bb0(%{n}_in: f32, %{n}_o: f32):
    %{n}_t = math.tanh %{n}_in : f32
    linalg.yield %{n}_t : f32
  }} -> {ty}
"""


CASES = [
    Case("extract_slice",
         func([P("a", T(7, 13)), D("wl", T(5, 4)), D("wl2", T(3, 3))],
              tanh_of("%a", (7, 13), "%ta") + """\
  %s1 = tensor.extract_slice %ta[1, 2] [5, 4] [1, 1]
      : tensor<7x13xf32> to tensor<5x4xf32>
  %s2 = tensor.extract_slice %ta[0, 1] [3, 3] [3, 4]
      : tensor<7x13xf32> to tensor<3x3xf32>
""" + wsum("%s1", "%wl", (5, 4), out="%l1") + wsum("%s2", "%wl2", (3, 3),
                                                    out="%l2")
              + "  %loss = arith.addf %l1, %l2 : f32\n"),
         lambda T, a, wl, wl2: wl_sum(torch.tanh(a)[1:6, 2:6], wl) +
         wl_sum(torch.tanh(a)[0:7:3, 1:10:4], wl2)),

    Case("insert_slice",
         func([P("a", T(7, 13)), P("b", T(3, 4)), D("wl", T(7, 13))],
              tanh_of("%b", (3, 4), "%tb") + """\
  %y = tensor.insert_slice %tb into %a[2, 5] [3, 4] [2, 1]
      : tensor<3x4xf32> into tensor<7x13xf32>
""" + tanh_of("%y", (7, 13), "%ty") + wsum("%ty", "%wl", (7, 13))),
         lambda T, a, b, wl: wl_sum(torch.tanh(
             a.index_put((torch.arange(2, 7, 2)[:, None],
                          torch.arange(5, 9)[None, :]), torch.tanh(b))), wl)),

    Case("expand_shape",
         func([P("a", T(91)), D("wl", T(7, 13))], tanh_of("%a", (91,), "%ta")
              + """\
  %y = tensor.expand_shape %ta [[0, 1]] output_shape [7, 13]
      : tensor<91xf32> into tensor<7x13xf32>
""" + wsum("%y", "%wl", (7, 13))),
         lambda T, a, wl: wl_sum(torch.tanh(a).reshape(7, 13), wl)),

    Case("collapse_shape",
         func([P("a", T(3, 5, 13)), D("wl", T(15, 13))],
              tanh_of("%a", (3, 5, 13), "%ta") + """\
  %y = tensor.collapse_shape %ta [[0, 1], [2]]
      : tensor<3x5x13xf32> into tensor<15x13xf32>
""" + wsum("%y", "%wl", (15, 13))),
         lambda T, a, wl: wl_sum(torch.tanh(a).reshape(15, 13), wl)),

    Case("concat",
         func([P("a", T(7, 5)), P("b", T(7, 8)), P("c", T(1, 13)),
               D("wl", T(8, 13))], """\
  %ab = tensor.concat dim(1) %a, %b
      : (tensor<7x5xf32>, tensor<7x8xf32>) -> tensor<7x13xf32>
  %y = tensor.concat dim(0) %ab, %c
      : (tensor<7x13xf32>, tensor<1x13xf32>) -> tensor<8x13xf32>
""" + tanh_of("%y", (8, 13), "%ty") + wsum("%ty", "%wl", (8, 13))),
         lambda T, a, b, c, wl: wl_sum(torch.tanh(
             torch.cat([torch.cat([a, b], 1), c], 0)), wl)),

    # pad with 0, then tanh(y + 1) so the padding's gradient is not 0 and
    # must not reach %a.
    Case("pad",
         func([P("a", T(7, 13)), D("wl", T(11, 15))], """\
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  %y = tensor.pad %a low[1, 2] high[3, 0] {
  ^bb0(%i: index, %j: index):
    tensor.yield %zero : f32
  } : tensor<7x13xf32> to tensor<11x15xf32>
  %e = tensor.empty() : tensor<11x15xf32>
  %ty = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>,
                                         affine_map<(i, j) -> (i, j)>],
                        iterator_types = ["parallel", "parallel"]}
      ins(%y : tensor<11x15xf32>) outs(%e : tensor<11x15xf32>) {
  ^bb0(%y_: f32, %o_: f32):
    %t0 = arith.addf %y_, %one : f32
    %t1 = math.tanh %t0 : f32
    linalg.yield %t1 : f32
  } -> tensor<11x15xf32>
""" + wsum("%ty", "%wl", (11, 15))),
         lambda T, a, wl: wl_sum(torch.tanh(
             torch.nn.functional.pad(a, (2, 0, 1, 3)) + 1), wl)),

    # Single elements as scalars: loss = sum(wl * a) + a[2, 5] * a[6, 12]
    # + a[2, 5]^2 (an element used twice).
    Case("extract_elements",
         func([P("a", T(7, 13)), D("wl", T(7, 13))], """\
  %c2 = arith.constant 2 : index
  %c5 = arith.constant 5 : index
  %c6 = arith.constant 6 : index
  %c12 = arith.constant 12 : index
  %x = tensor.extract %a[%c2, %c5] : tensor<7x13xf32>
  %y = tensor.extract %a[%c6, %c12] : tensor<7x13xf32>
  %xy = arith.mulf %x, %y : f32
  %xx = arith.mulf %x, %x : f32
  %p = arith.addf %xy, %xx : f32
""" + wsum("%a", "%wl", (7, 13), out="%s") + "  %loss = arith.addf %s, %p : f32\n"),
         lambda T, a, wl: wl_sum(a, wl) + a[2, 5] * a[6, 12] + a[2, 5] ** 2),
]
