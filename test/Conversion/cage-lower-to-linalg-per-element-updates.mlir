// RUN: cage-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(cage-lower-to-linalg{per-element-updates=true}))' | FileCheck %s
// RUN: cage-opt %s --split-input-file --cage-lower-to-linalg | FileCheck %s --check-prefix=CHUNKS

// cage-lower-to-linalg{per-element-updates=true}, the form cage-gpu-pipeline
// lowers the fused optimizer steps to: per parameter, a reduction per scale
// group and its grid step, then one element-wise generic over every element
// (g and the scales in, w and the state read and written in place), with
// the per-element arithmetic of the CPU's chunk form (the same bits:
// test/Integration/CPU/update-*.test run both). Without the option: the
// CPU's parallel loop over chunks of rows.

// Groups of 32: the view [rows, n / 32, 32], α per group (absmax from
// 1e-8), s = α / 7, then the element step over the view.
// CHECK-LABEL: func.func @group
// CHECK-SAME:    (%[[W:[a-z0-9]+]]: tensor<4x64xf32>, %[[G:[a-z0-9]+]]: tensor<4x64xf32>, %[[M:[a-z0-9]+]]: tensor<4x64xf32>, %[[V:[a-z0-9]+]]: tensor<4x64xf32>,
// CHECK-NOT:     scf.forall
// CHECK-DAG:     %[[WV:.*]] = tensor.expand_shape %[[W]] {{\[\[}}0], [1, 2]] output_shape [4, 2, 32]
// CHECK-DAG:     %[[GV:.*]] = tensor.expand_shape %[[G]] {{\[\[}}0], [1, 2]] output_shape [4, 2, 32]
// CHECK-DAG:     %[[MV:.*]] = tensor.expand_shape %[[M]] {{\[\[}}0], [1, 2]] output_shape [4, 2, 32]
// CHECK-DAG:     %[[VV:.*]] = tensor.expand_shape %[[V]] {{\[\[}}0], [1, 2]] output_shape [4, 2, 32]
// CHECK:         %[[ALPHA:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[WV]] : tensor<4x2x32xf32>) outs(%{{.*}} : tensor<4x2xf32>)
// CHECK:         %[[S:.*]] = linalg.generic {{.*}} ins(%[[ALPHA]] : tensor<4x2xf32>)
// CHECK:         %[[STEP:.*]]:3 = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel"]} ins(%[[GV]], %[[S]] : tensor<4x2x32xf32>, tensor<4x2xf32>) outs(%[[WV]], %[[MV]], %[[VV]] :
// CHECK:           math.roundeven
// CHECK:           math.sqrt
// CHECK:         %[[W1:.*]] = tensor.collapse_shape %[[STEP]]#0 {{\[\[}}0], [1, 2]] : tensor<4x2x32xf32> into tensor<4x64xf32>
// CHECK:         return %[[W1]],
// CHUNKS-LABEL:  func.func @group
// CHUNKS:        scf.forall
func.func @group(%w: tensor<4x64xf32>, %g: tensor<4x64xf32>, %m: tensor<4x64xf32>, %v: tensor<4x64xf32>, %lr: f32, %l: f32, %t: i64) -> (tensor<4x64xf32>, tensor<4x64xf32>, tensor<4x64xf32>) {
  %w1, %m1, %v1 = cage.update %w, %g, %m, %v, %lr, %l, %t {quantizer = #cage.quantizer<bits = 4, granularity = group, group_size = 32>, optimizer = #cage.adamw<>} : tensor<4x64xf32>
  return %w1, %m1, %v1 : tensor<4x64xf32>, tensor<4x64xf32>, tensor<4x64xf32>
}

// -----

// bf16 state: each element finds its Philox group (index / 4) and lane
// (index mod 4) from its row-major linear index in the tensor (one call per
// element; the words are those of Semantics.md §1.5), loads m, v from bf16
// and stores them rounded stochastically.
// CHECK-LABEL: func.func @bf16_state
// CHECK:         linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]
// CHECK:         %[[STEP:.*]]:3 = linalg.generic {{.*}} iterator_types = ["parallel", "parallel"]} ins(%{{.*}}, %{{.*}} : tensor<2x8xf32>, tensor<2xf32>) outs(%{{.*}}, %{{.*}}, %{{.*}} : tensor<2x8xf32>, tensor<2x8xbf16>, tensor<2x8xbf16>)
// CHECK-NEXT:    ^bb0(%{{.*}}: f32, %{{.*}}: f32, %{{.*}}: f32, %{{.*}}: bf16, %{{.*}}: bf16):
// CHECK-NEXT:      %[[ROW:.*]] = linalg.index 0 : index
// CHECK-NEXT:      %[[SCALED:.*]] = arith.muli %[[ROW]], %c8 : index
// CHECK-NEXT:      %[[COL:.*]] = linalg.index 1 : index
// CHECK-NEXT:      %[[INDEX:.*]] = arith.addi %[[SCALED]], %[[COL]] : index
// CHECK-NEXT:      %[[I64:.*]] = arith.index_cast %[[INDEX]] : index to i64
// CHECK-NEXT:      %[[GROUP:.*]] = arith.shrui %[[I64]], %c2_i64 : i64
// CHECK-NEXT:      %[[LANE:.*]] = arith.andi %[[I64]], %c3_i64 : i64
// CHECK:           arith.extf {{.*}} : bf16 to f32
// Philox4x32-10: the round multiplier 0xD2511F53 (3528531795), widened.
// CHECK:           arith.muli %{{.*}}, %c3528531795_i64 : i64
// CHECK:           linalg.yield {{.*}} : f32, bf16, bf16
// CHECK:         return %[[STEP]]#0, %[[STEP]]#1, %[[STEP]]#2
func.func @bf16_state(%w: tensor<2x8xf32>, %g: tensor<2x8xf32>, %m: tensor<2x8xbf16>, %v: tensor<2x8xbf16>, %lr: f32, %l: f32, %t: i64, %s: i64) -> (tensor<2x8xf32>, tensor<2x8xbf16>, tensor<2x8xbf16>) {
  %w1, %m1, %v1 = cage.update %w, %g, %m, %v, %lr, %l, %t seed(%s) {quantizer = #cage.quantizer<bits = 4>, optimizer = #cage.adamw<>} : tensor<2x8xf32>, tensor<2x8xbf16>
  return %w1, %m1, %v1 : tensor<2x8xf32>, tensor<2x8xbf16>, tensor<2x8xbf16>
}

// -----

// cage.multi_update: the same per parameter (here SGD with momentum, one
// state tensor, and per-tensor scales: a 0-d α), rank 1 viewed as one row
// and rank 3 as rows × n.
// CHECK-LABEL: func.func @multi
// CHECK-NOT:     scf.forall
// CHECK:         linalg.generic {{.*}} iterator_types = ["reduction", "reduction"]} ins(%{{.*}} : tensor<1x16xf32>) outs(%{{.*}} : tensor<f32>)
// CHECK:         linalg.generic {{.*}} iterator_types = ["parallel", "parallel"]} ins(%{{.*}}, %{{.*}} : tensor<1x16xf32>, tensor<f32>) outs(%{{.*}}, %{{.*}} : tensor<1x16xf32>, tensor<1x16xf32>)
// CHECK:         linalg.generic {{.*}} iterator_types = ["reduction", "reduction"]} ins(%{{.*}} : tensor<6x5xf32>) outs(%{{.*}} : tensor<f32>)
// CHECK:         linalg.generic {{.*}} iterator_types = ["parallel", "parallel"]} ins(%{{.*}}, %{{.*}} : tensor<6x5xf32>, tensor<f32>) outs(%{{.*}}, %{{.*}} : tensor<6x5xf32>, tensor<6x5xf32>)
// CHECK:         return
func.func @multi(%a: tensor<16xf32>, %ga: tensor<16xf32>, %ba: tensor<16xf32>, %c: tensor<2x3x5xf32>, %gc: tensor<2x3x5xf32>, %bc: tensor<2x3x5xf32>, %lr: f32, %l: f32) -> (tensor<16xf32>, tensor<16xf32>, tensor<2x3x5xf32>, tensor<2x3x5xf32>) {
  %r:4 = cage.multi_update (%a, %ga, %ba), (%c, %gc, %bc), %lr, %l {quantizer = #cage.quantizer<bits = 4, granularity = tensor>, optimizer = #cage.sgd<momentum = 0.9>} : tensor<16xf32>, tensor<2x3x5xf32>
  return %r#0, %r#1, %r#2, %r#3 : tensor<16xf32>, tensor<16xf32>, tensor<2x3x5xf32>, tensor<2x3x5xf32>
}
