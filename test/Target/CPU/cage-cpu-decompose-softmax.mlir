// RUN: cage-opt %s --split-input-file --cage-cpu-decompose-softmax | FileCheck %s

// linalg.softmax becomes max, exp(x - max), sum and division generics along
// its dimension; the division writes into the op's init. Static and dynamic
// shapes; memrefs are left alone (the pipeline runs it on tensors).

// CHECK-DAG: #[[ID:.*]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-DAG: #[[ROW:.*]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-LABEL: func.func @static
// CHECK-SAME: (%[[X:.*]]: tensor<3x5x2xf32>, %[[INIT:.*]]: tensor<3x5x2xf32>)
// CHECK: %[[NINF:.*]] = arith.constant 0xFF800000 : f32
// CHECK: %[[M0:.*]] = linalg.fill ins(%[[NINF]] : f32) outs(%{{.*}} : tensor<3x2xf32>)
// CHECK: %[[M:.*]] = linalg.generic {indexing_maps = [#[[ID]], #[[ROW]]], iterator_types = ["parallel", "reduction", "parallel"]} ins(%[[X]] : tensor<3x5x2xf32>) outs(%[[M0]] : tensor<3x2xf32>)
// CHECK: arith.maximumf
// CHECK: %[[E:.*]] = linalg.generic {indexing_maps = [#[[ID]], #[[ROW]], #[[ID]]], iterator_types = ["parallel", "parallel", "parallel"]} ins(%[[X]], %[[M]]
// CHECK: arith.subf
// CHECK: math.exp
// CHECK: %[[S:.*]] = linalg.generic {{.*}} ins(%[[E]] : tensor<3x5x2xf32>)
// CHECK: arith.addf
// CHECK: %[[Y:.*]] = linalg.generic {{.*}} ins(%[[E]], %[[S]] : tensor<3x5x2xf32>, tensor<3x2xf32>) outs(%[[INIT]] : tensor<3x5x2xf32>)
// CHECK: arith.divf
// CHECK: return %[[Y]]
func.func @static(%x: tensor<3x5x2xf32>, %init: tensor<3x5x2xf32>) -> tensor<3x5x2xf32> {
  %y = linalg.softmax dimension(1) ins(%x : tensor<3x5x2xf32>) outs(%init : tensor<3x5x2xf32>) -> tensor<3x5x2xf32>
  return %y : tensor<3x5x2xf32>
}

// -----

// CHECK-LABEL: func.func @dynamic
// CHECK: %[[C0:.*]] = arith.constant 0 : index
// CHECK: %[[D0:.*]] = tensor.dim %{{.*}}, %[[C0]] : tensor<?x?xf32>
// CHECK: tensor.empty(%[[D0]]) : tensor<?xf32>
// CHECK-NOT: linalg.softmax
func.func @dynamic(%x: tensor<?x?xf32>, %init: tensor<?x?xf32>) -> tensor<?x?xf32> {
  %y = linalg.softmax dimension(1) ins(%x : tensor<?x?xf32>) outs(%init : tensor<?x?xf32>) -> tensor<?x?xf32>
  return %y : tensor<?x?xf32>
}

// -----

// CHECK-LABEL: func.func @buffers
// CHECK: linalg.softmax
func.func @buffers(%x: memref<4x8xf32>, %init: memref<4x8xf32>) {
  linalg.softmax dimension(1) ins(%x : memref<4x8xf32>) outs(%init : memref<4x8xf32>)
  return
}
