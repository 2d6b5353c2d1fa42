// A fake quantizer never runs inside a contraction's loops. Here the
// forward of a W4A4 linear layer as a frontend writes it: the matmul as a
// linalg.generic, the weights rounded stochastically (Philox per element),
// both operands scaled per row (a reduction for the scale). Left a generic,
// upstream's linalg-fuse-elementwise-ops fuses the weight quantizer into
// the matmul's loops, recomputing it (Philox included) for every row of the
// product: 7.5x slower on an MLP step. The pipeline makes the contraction a
// named op before fusion (cage-cpu-name-contractions), each quantizer
// computes its operand once, the weight's as it is transposed into the
// kernel's layout (cage-cpu-pack-contractions), each scale is one
// reduction, and the register-blocked loops hold only loads and FMAs.

// RUN: cage-opt %s --cage-cpu-pipeline --mlir-print-ir-after-all -o /dev/null 2>&1 | FileCheck %s

// CHECK-LABEL: IR Dump After LinalgElementwiseOpFusionPass
// CHECK-COUNT-2: iterator_types = ["parallel", "reduction"]
// CHECK-NOT: iterator_types = ["parallel", "reduction"]
// CHECK: linalg.matmul indexing_maps
// CHECK-NOT: linalg.generic {{.*}}"reduction"

// The weight quantizer (Philox's counter from linalg.index, the stochastic
// floor) writes the transposed layout; the contraction comes after it, and
// its register-blocked K loop has nothing of a quantizer in it.
// CHECK-LABEL: IR Dump After CageCPUPackContractions
// CHECK: linalg.index
// CHECK: math.floor
// CHECK: linalg.yield
// CHECK-NEXT: } -> tensor<48x96xf32>
// CHECK: linalg.matmul ins
// CHECK-LABEL: IR Dump After CageCPUTileContractions
// CHECK: math.floor
// CHECK: scf.for {{.*}} iter_args({{.*}}) -> (vector<8x32xf32>)
// CHECK-NOT: linalg.index
// CHECK-NOT: math.roundeven
// CHECK-NOT: math.floor
// CHECK: vector.fma
// CHECK-NOT: linalg.index
// CHECK-NOT: math.roundeven
// CHECK-NOT: math.floor
// CHECK-LABEL: IR Dump After

func.func @linear(%x: tensor<64x48xf32>, %w: tensor<96x48xf32>, %seed: i64) -> tensor<64x96xf32> {
  %zero = arith.constant 0.0 : f32
  %xq = cage.quantize %x {quantizer = #cage.quantizer<bits = 4>} : tensor<64x48xf32>
  %wq = cage.quantize %w seed(%seed) {quantizer = #cage.quantizer<bits = 4, rounding = stochastic>} : tensor<96x48xf32>
  %e = tensor.empty() : tensor<64x96xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<64x96xf32>) -> tensor<64x96xf32>
  %y = linalg.generic {indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>],
                       iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%xq, %wq : tensor<64x48xf32>, tensor<96x48xf32>) outs(%init : tensor<64x96xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<64x96xf32>
  return %y : tensor<64x96xf32>
}
