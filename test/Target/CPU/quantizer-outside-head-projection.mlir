// A fake quantizer never runs inside a contraction's loops, also when the
// product is split into heads. Here the query projection of attention as
// cage.nn writes it: both operands quantized per row, a named matmul, the
// bias, and the result expanded into (batch, sequence, head, channel).
// Upstream's linalg-fuse-elementwise-ops folds that expand_shape into the
// bias and then into the matmul, which becomes a linalg.generic of five
// loops, and fuses both quantizers into it: every product recomputed both
// roundings (the transformer block's forward ran 1.8 s instead of ~0.1 s).
// cage-cpu-pack-contractions takes the quantizers back out (each an
// elementwise generic over its operand's loops), names the contraction
// again and packs it; the register-blocked loops hold only loads and FMAs.

// RUN: cage-opt %s --cage-cpu-pipeline --mlir-print-ir-after-all -o /dev/null 2>&1 | FileCheck %s

// CHECK-LABEL: IR Dump After CageCPUPackContractions
// CHECK: math.roundeven
// CHECK: math.roundeven
// CHECK: linalg.matmul ins
// CHECK-NOT: math.roundeven
// CHECK: IR Dump After EmptyTensorEliminationPass
// CHECK-LABEL: IR Dump After CageCPUTileContractions
// CHECK: scf.for {{.*}} iter_args({{.*}}) -> (vector<8x32xf32>)
// CHECK-NOT: math.roundeven
// CHECK: vector.fma
// CHECK-NOT: math.roundeven
// CHECK-LABEL: IR Dump After

func.func @q_heads(%x: tensor<2x16x32xf32>, %w: tensor<64x32xf32>, %bias: tensor<64xf32>) -> tensor<2x16x2x32xf32> {
  %zero = arith.constant 0.0 : f32
  %rows = tensor.collapse_shape %x [[0, 1], [2]] : tensor<2x16x32xf32> into tensor<32x32xf32>
  %xq = cage.quantize %rows {quantizer = #cage.quantizer<bits = 4>} : tensor<32x32xf32>
  %wq = cage.quantize %w {quantizer = #cage.quantizer<bits = 4>} : tensor<64x32xf32>
  %e = tensor.empty() : tensor<32x64xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<32x64xf32>) -> tensor<32x64xf32>
  %mm = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
      ins(%xq, %wq : tensor<32x32xf32>, tensor<64x32xf32>) outs(%init : tensor<32x64xf32>) -> tensor<32x64xf32>
  %ye = tensor.empty() : tensor<32x64xf32>
  %y = linalg.generic {indexing_maps = [affine_map<(m, n) -> (m, n)>, affine_map<(m, n) -> (n)>, affine_map<(m, n) -> (m, n)>],
                       iterator_types = ["parallel", "parallel"]}
      ins(%mm, %bias : tensor<32x64xf32>, tensor<64xf32>) outs(%ye : tensor<32x64xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %s = arith.addf %a, %b : f32
    linalg.yield %s : f32
  } -> tensor<32x64xf32>
  %heads = tensor.expand_shape %y [[0, 1], [2, 3]] output_shape [2, 16, 2, 32] : tensor<32x64xf32> into tensor<2x16x2x32xf32>
  return %heads : tensor<2x16x2x32xf32>
}
