"""Whole losses: a softmax cross-entropy written as
examples/mlp_train_step.mlir writes it (max, exp, sum, log, `acc - term`,
a scalar divf by the batch), on a linear layer with a bias; the same loss
through linalg.softmax and math.log; and the forward of
examples/mlp.mlir itself (w1 and w2 its parameters).
"""

import os

import torch

from common import Case, onehot

# ---------------------------------------------------------------------------
# Softmax cross-entropy, as the example writes it, on logits = x·wᵀ + b:
# batch 13, 7 features, 5 classes.
# ---------------------------------------------------------------------------

CE = """\
#id = affine_map<(b, c) -> (b, c)>
#row = affine_map<(b, c) -> (b)>
#col = affine_map<(b, c) -> (c)>
#all = affine_map<(b, c) -> ()>

func.func @f(%x: tensor<13x7xf32>, %y: tensor<13x5xf32>,
             %w: tensor<5x7xf32> {cage.param = #cage.param<>},
             %bias: tensor<5xf32> {cage.param = #cage.param<>}) -> f32 {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %batch = arith.constant 13.0 : f32
  %l0 = tensor.empty() : tensor<13x5xf32>
  %lz = linalg.fill ins(%zero : f32) outs(%l0 : tensor<13x5xf32>) -> tensor<13x5xf32>
  %xw = linalg.matmul indexing_maps = [affine_map<(b, j, k) -> (b, k)>,
                                       affine_map<(b, j, k) -> (j, k)>,
                                       affine_map<(b, j, k) -> (b, j)>]
          ins(%x, %w : tensor<13x7xf32>, tensor<5x7xf32>) outs(%lz : tensor<13x5xf32>) -> tensor<13x5xf32>
  %logits = linalg.generic {indexing_maps = [#id, #col, #id],
                            iterator_types = ["parallel", "parallel"]}
              ins(%xw, %bias : tensor<13x5xf32>, tensor<5xf32>) outs(%l0 : tensor<13x5xf32>) {
  ^bb0(%v: f32, %bb: f32, %o: f32):
    %r = arith.addf %v, %bb : f32
    linalg.yield %r : f32
  } -> tensor<13x5xf32>

  // Softmax cross-entropy, stable: p = exp(z - max z) / sum exp(z - max z).
  %r0 = tensor.empty() : tensor<13xf32>
  %rmin = linalg.fill ins(%ninf : f32) outs(%r0 : tensor<13xf32>) -> tensor<13xf32>
  %rzero = linalg.fill ins(%zero : f32) outs(%r0 : tensor<13xf32>) -> tensor<13xf32>
  %zmax = linalg.generic {indexing_maps = [#id, #row],
                          iterator_types = ["parallel", "reduction"]}
            ins(%logits : tensor<13x5xf32>) outs(%rmin : tensor<13xf32>) {
  ^bb0(%z: f32, %acc: f32):
    %m = arith.maximumf %acc, %z : f32
    linalg.yield %m : f32
  } -> tensor<13xf32>
  %e = linalg.generic {indexing_maps = [#id, #row, #id],
                       iterator_types = ["parallel", "parallel"]}
         ins(%logits, %zmax : tensor<13x5xf32>, tensor<13xf32>) outs(%l0 : tensor<13x5xf32>) {
  ^bb0(%z: f32, %m: f32, %o: f32):
    %d = arith.subf %z, %m : f32
    %ex = math.exp %d : f32
    linalg.yield %ex : f32
  } -> tensor<13x5xf32>
  %esum = linalg.generic {indexing_maps = [#id, #row],
                          iterator_types = ["parallel", "reduction"]}
            ins(%e : tensor<13x5xf32>) outs(%rzero : tensor<13xf32>) {
  ^bb0(%v: f32, %acc: f32):
    %s = arith.addf %acc, %v : f32
    linalg.yield %s : f32
  } -> tensor<13xf32>
  // loss = -(1/B) sum_b sum_c y (z - max z - log sum exp(z - max z))
  %s0 = tensor.empty() : tensor<f32>
  %sz = linalg.fill ins(%zero : f32) outs(%s0 : tensor<f32>) -> tensor<f32>
  %nll = linalg.generic {indexing_maps = [#id, #id, #row, #row, #all],
                         iterator_types = ["reduction", "reduction"]}
           ins(%y, %logits, %zmax, %esum : tensor<13x5xf32>, tensor<13x5xf32>, tensor<13xf32>, tensor<13xf32>)
           outs(%sz : tensor<f32>) {
  ^bb0(%yy: f32, %z: f32, %m: f32, %s: f32, %acc: f32):
    %d = arith.subf %z, %m : f32
    %ls = math.log %s : f32
    %logp = arith.subf %d, %ls : f32
    %term = arith.mulf %yy, %logp : f32
    %a = arith.subf %acc, %term : f32
    linalg.yield %a : f32
  } -> tensor<f32>
  %nllsum = tensor.extract %nll[] : tensor<f32>
  %loss = arith.divf %nllsum, %batch : f32
  return %loss : f32
}
"""


def ce_torch(T, x, y, w, bias):
    logits = x @ w.T + bias
    return -(y * torch.log_softmax(logits, 1)).sum() / 13.0


# The same loss through linalg.softmax: -(1/B) sum y log softmax(logits),
# logits = x·wᵀ (a 3-class problem, batch 129, 12 features).
CE_SOFTMAX = """\
func.func @f(%x: tensor<129x12xf32>, %y: tensor<129x3xf32>,
             %w: tensor<3x12xf32> {cage.param = #cage.param<>}) -> f32 {
  %zero = arith.constant 0.0 : f32
  %batch = arith.constant 129.0 : f32
  %e = tensor.empty() : tensor<129x3xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<129x3xf32>) -> tensor<129x3xf32>
  %logits = linalg.matmul indexing_maps = [affine_map<(b, j, k) -> (b, k)>,
                                           affine_map<(b, j, k) -> (j, k)>,
                                           affine_map<(b, j, k) -> (b, j)>]
              ins(%x, %w : tensor<129x12xf32>, tensor<3x12xf32>) outs(%z : tensor<129x3xf32>) -> tensor<129x3xf32>
  %p = linalg.softmax dimension(1) ins(%logits : tensor<129x3xf32>)
                                   outs(%e : tensor<129x3xf32>) -> tensor<129x3xf32>
  %s0 = tensor.empty() : tensor<f32>
  %sz = linalg.fill ins(%zero : f32) outs(%s0 : tensor<f32>) -> tensor<f32>
  %nll = linalg.generic {indexing_maps = [affine_map<(b, c) -> (b, c)>,
                                          affine_map<(b, c) -> (b, c)>,
                                          affine_map<(b, c) -> ()>],
                         iterator_types = ["reduction", "reduction"]}
           ins(%y, %p : tensor<129x3xf32>, tensor<129x3xf32>) outs(%sz : tensor<f32>) {
  ^bb0(%yy: f32, %pp: f32, %acc: f32):
    %lp = math.log %pp : f32
    %term = arith.mulf %yy, %lp : f32
    %a = arith.subf %acc, %term : f32
    linalg.yield %a : f32
  } -> tensor<f32>
  %nllsum = tensor.extract %nll[] : tensor<f32>
  %loss = arith.divf %nllsum, %batch : f32
  return %loss : f32
}
"""

# ---------------------------------------------------------------------------
# examples/mlp.mlir itself (the forward of examples/mlp_train_step.mlir with
# w1 and w2 parameters), its function renamed @f: batch 64, 16 features, 32
# hidden, 4 classes, W4A4.
# ---------------------------------------------------------------------------

MLP = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..",
                        "..", "..", "examples", "mlp.mlir")).read().replace(
    "func.func @mlp(", "func.func @f(")


def mlp_torch(T, x, y, w1, w2):
    xq = T.quantize(x, "#cage.quantizer<bits = 4>")
    w1q = T.quantize(w1, "#cage.quantizer<bits = 4>")
    hpre = xq @ w1q.T
    h = T.relu(hpre)
    hq = T.quantize(h, "#cage.quantizer<bits = 4>")
    w2q = T.quantize(w2, "#cage.quantizer<bits = 4>")
    logits = hq @ w2q.T
    return -(y * torch.log_softmax(logits, 1)).sum() / 64.0


CASES = [
    Case("softmax_cross_entropy", CE, ce_torch, inputs={"y": onehot()}),
    Case("softmax_cross_entropy_linalg_softmax", CE_SOFTMAX,
         lambda T, x, y, w: -(y * torch.log(torch.softmax(x @ w.T, 1))
                              ).sum() / 129.0,
         inputs={"y": onehot()}),
    Case("mlp_forward", MLP, mlp_torch, inputs={"y": onehot()}),
]
