// RUN: cage-opt %s --split-input-file --cage-autodiff=in-place=false | FileCheck %s
// RUN: cage-opt %s --split-input-file --cage-autodiff --cage-autodiff | FileCheck %s --check-prefix=INPLACE
// RUN: cage-opt %s --split-input-file --cage-autodiff="gradients=true in-place=false estimator=identity" | FileCheck %s --check-prefix=GRAD
// RUN: not cage-opt %s --split-input-file --cage-autodiff=estimator=exact 2>&1 | FileCheck %s --check-prefix=BAD
// RUN: cage-opt %s --split-input-file --cage-autodiff="remat=true in-place=false" | FileCheck %s --check-prefix=REMAT

// The structure cage-autodiff generates, rule by rule (docs/Training.md):
// the training step's signature, the adjoints of linalg.generic
// (element-wise, broadcast, reduction), of contractions (named
// linalg.matmul with explicit maps), of cage.quantize (cage.ste with the
// parameter's estimator, dα for learned scales), of tensor ops and
// linalg.softmax, the optimizer steps, the in-place form, and the gradient
// function. The second RUN also checks that a second run changes nothing;
// REMAT, the remat option.
// BAD: estimator must be 'clipped' or 'identity', not 'exact'


// A bias added by broadcast, tanh, summed: the bias's adjoint reduces over
// the rows (the loop its map lacks); tanh' = 1 - r^2 from the cloned body.
// SGD with momentum: the plain optimizer op (cage = false has no
// correction; a parameter without quantizer has none either).
// CHECK-LABEL: func.func @elementwise_train_step
// CHECK-SAME: (%[[X:.*]]: tensor<4x8xf32>, %[[B:.*]]: tensor<8xf32>, %[[BUF:.*]]: tensor<8xf32>, %[[T:.*]]: i64, %[[TT:.*]]: i64, %[[LR:.*]]: f32) -> (f32, tensor<8xf32>, tensor<8xf32>)
// CHECK: %[[DH:.*]] = linalg.generic {{.*}}iterator_types = ["parallel", "parallel"]
// CHECK: %[[DB:.*]] = linalg.generic {{.*}}iterator_types = ["reduction", "parallel"]{{.*}} outs(%{{.*}} : tensor<8xf32>)
// CHECK: math.tanh
// CHECK: %[[SQ:.*]] = arith.mulf %[[R:.*]], %[[R]] : f32
// CHECK: arith.subf %{{.*}}, %[[SQ]] : f32
// CHECK: %[[NEW:.*]], %[[NEWB:.*]] = cage.sgd %[[B]], %[[DB]], %[[BUF]], %[[LR]] {momentum = 0.9 : f32}
// CHECK: return %{{.*}}, %[[NEW]], %[[NEWB]] : f32, tensor<8xf32>, tensor<8xf32>
// INPLACE-LABEL: func.func @elementwise_train_step_inplace
// INPLACE-SAME: (%[[X:.*]]: memref<4x8xf32>, %[[B:.*]]: memref<8xf32>, %[[BUF:.*]]: memref<8xf32>, %{{.*}}: i64, %{{.*}}: i64, %{{.*}}: f32) -> f32
// INPLACE: bufferization.to_tensor %[[X]] restrict : memref<4x8xf32>
// INPLACE: bufferization.to_tensor %[[B]] restrict writable
// INPLACE: bufferization.to_tensor %[[BUF]] restrict writable
// INPLACE: %[[NEW:.*]], %[[NEWB:.*]] = cage.sgd
// INPLACE: bufferization.materialize_in_destination %[[NEW]] in restrict writable %[[B]]
// INPLACE: bufferization.materialize_in_destination %[[NEWB]] in restrict writable %[[BUF]]
// INPLACE: return %{{.*}} : f32
// INPLACE-NOT: func.func @elementwise_train_step_train_step
// With remat, the cheap element-wise forward value (the biased tanh) is
// computed again after the forward pass, for the backward to read.
// REMAT-LABEL: func.func @elementwise_train_step
// REMAT:         %[[H:.*]] = linalg.generic {{.*}}iterator_types = ["parallel", "parallel"]} ins(%arg0, %arg1 : tensor<4x8xf32>, tensor<8xf32>)
// REMAT:         linalg.generic {{.*}}iterator_types = ["reduction", "reduction"]} ins(%[[H]] :
// REMAT:         %[[AGAIN:.*]] = linalg.generic {{.*}}iterator_types = ["parallel", "parallel"]} ins(%arg0, %arg1 : tensor<4x8xf32>, tensor<8xf32>)
// REMAT:         math.tanh
// REMAT:         linalg.generic {{.*}} ins(%[[AGAIN]], %{{.*}} : tensor<4x8xf32>, tensor<f32>)
// REMAT:         cage.sgd
// GRAD-LABEL: func.func @elementwise_grad
// GRAD-SAME: (%{{.*}}: tensor<4x8xf32>, %{{.*}}: tensor<8xf32>) -> (f32, tensor<8xf32>)

// -----
#id = affine_map<(i, j) -> (i, j)>
#col = affine_map<(i, j) -> (j)>
#all = affine_map<(i, j) -> ()>
// bias add + tanh, sum
func.func @elementwise(%x: tensor<4x8xf32>, %b: tensor<8xf32> {cage.param = #cage.param<optimizer = #cage.sgd<momentum = 0.9>>}) -> f32 {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4x8xf32>
  %h = linalg.generic {indexing_maps = [#id, #col, #id], iterator_types = ["parallel", "parallel"]}
      ins(%x, %b : tensor<4x8xf32>, tensor<8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%a: f32, %c: f32, %o: f32):
    %s = arith.addf %a, %c : f32
    %t = math.tanh %s : f32
    linalg.yield %t : f32
  } -> tensor<4x8xf32>
  %s0 = tensor.empty() : tensor<f32>
  %sz = linalg.fill ins(%zero : f32) outs(%s0 : tensor<f32>) -> tensor<f32>
  %l = linalg.generic {indexing_maps = [#id, #all], iterator_types = ["reduction", "reduction"]}
      ins(%h : tensor<4x8xf32>) outs(%sz : tensor<f32>) {
  ^bb0(%a: f32, %acc: f32):
    %r = arith.addf %acc, %a : f32
    linalg.yield %r : f32
  } -> tensor<f32>
  %v = tensor.extract %l[] : tensor<f32>
  return %v : f32
}

// -----

// Both adjoints of a matmul with a transposed weight are named
// linalg.matmul ops: dX = dP·W (the plain maps) and dW = dPᵀ·X (explicit
// transposed maps), each accumulated into zeros.
// CHECK-DAG: #[[TL:.*]] = affine_map<(d0, d1, d2) -> (d2, d0)>
// CHECK-DAG: #[[TR:.*]] = affine_map<(d0, d1, d2) -> (d2, d1)>
// CHECK-DAG: #[[O:.*]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-LABEL: func.func @matmul_train_step
// CHECK-SAME: (%[[X:[^:]*]]: tensor<8x5xf32>, %{{.*}}: tensor<8x5xf32>, %{{.*}}: tensor<8x5xf32>, %[[W:[^:]*]]: tensor<3x5xf32>
// CHECK: %[[DP:.*]] = linalg.generic {{.*}}iterator_types = ["parallel", "parallel"]
// CHECK: %[[DX:.*]] = linalg.matmul ins(%[[DP]], %[[W]] : tensor<8x3xf32>, tensor<3x5xf32>)
// CHECK: %[[DW:.*]] = linalg.matmul indexing_maps = [#[[TL]], #[[TR]], #[[O]]] ins(%[[DP]], %[[X]] : tensor<8x3xf32>, tensor<8x5xf32>)
// CHECK: cage.adamw %[[X]], %[[DX]]
// CHECK: cage.adamw %[[W]], %[[DW]]

// Matmul with transposed weight: both backward contractions are named
// linalg.matmul ops with explicit indexing maps.
#rows = affine_map<(b, j, k) -> (b, k)>
#cols = affine_map<(b, j, k) -> (j, k)>
#out = affine_map<(b, j, k) -> (b, j)>
#id = affine_map<(i, j) -> (i, j)>
#all = affine_map<(i, j) -> ()>
func.func @matmul(%x: tensor<8x5xf32> {cage.param = #cage.param<cage = false>},
                  %w: tensor<3x5xf32> {cage.param = #cage.param<cage = false>}) -> f32 {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<8x3xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<8x3xf32>) -> tensor<8x3xf32>
  %p = linalg.matmul indexing_maps = [#rows, #cols, #out] ins(%x, %w : tensor<8x5xf32>, tensor<3x5xf32>) outs(%z : tensor<8x3xf32>) -> tensor<8x3xf32>
  %s0 = tensor.empty() : tensor<f32>
  %sz = linalg.fill ins(%zero : f32) outs(%s0 : tensor<f32>) -> tensor<f32>
  %l = linalg.generic {indexing_maps = [#id, #all], iterator_types = ["reduction", "reduction"]}
      ins(%p : tensor<8x3xf32>) outs(%sz : tensor<f32>) {
  ^bb0(%a: f32, %acc: f32):
    %r = arith.addf %acc, %a : f32
    linalg.yield %r : f32
  } -> tensor<f32>
  %v = tensor.extract %l[] : tensor<f32>
  return %v : f32
}

// -----

// cage.quantize: the parameter's quantizer gets its estimator (identity),
// the activation's the default (clipped; the pass option in the GRAD run);
// the learned scale gets d alpha; the correction quantizes to nearest.
// CHECK-LABEL: func.func @quantize_train_step
// CHECK-SAME: %[[W:[^:]*]]: tensor<4x8xf32>, %[[M:[^:]*]]: tensor<4x8xf32>, %[[V:[^:]*]]: tensor<4x8xf32>, %[[A:[^:]*]]: tensor<4xf32>, %[[AB:[^:]*]]: tensor<4xf32>, %[[T:[^:]*]]: i64, %[[TT:[^:]*]]: i64, %[[LR:[^:]*]]: f32)
// CHECK: %[[DX:.*]], %[[DA:.*]] = cage.ste %{{.*}}, %{{.*}} scale(%[[A]]) {quantizer = #cage.quantizer<scale = operand>, estimator = clipped}
// CHECK: %[[DW:.*]] = cage.ste %{{.*}}, %[[W]] {quantizer = #cage.quantizer<bits = 3, rounding = stochastic>, estimator = identity}
// CHECK: %[[L:.*]] = cage.lambda_schedule %[[T]], %[[TT]]
// CHECK: cage.update %[[W]], %[[DW]], %[[M]], %[[V]], %[[LR]], %[[L]], %[[T]] {quantizer = #cage.quantizer<bits = 3>, optimizer = #cage.adamw<>}
// CHECK: cage.sgd %[[A]], %[[DA]], %[[AB]], %[[LR]]
// GRAD-LABEL: func.func @quantize_grad
// GRAD: cage.ste {{.*}} estimator = identity
// GRAD: cage.ste {{.*}} estimator = identity

#id = affine_map<(i, j) -> (i, j)>
#row = affine_map<(i, j) -> (i)>
#all = affine_map<(i, j) -> ()>
func.func @quantize(%x: tensor<4x8xf32>, %seed: i64,
                    %w: tensor<4x8xf32> {cage.param = #cage.param<estimator = identity>},
                    %a: tensor<4xf32> {cage.param = #cage.param<optimizer = #cage.sgd<>, cage = false>}) -> f32 {
  %zero = arith.constant 0.0 : f32
  %wq = cage.quantize %w seed(%seed) {quantizer = #cage.quantizer<bits = 3, rounding = stochastic>} : tensor<4x8xf32>
  %e = tensor.empty() : tensor<4x8xf32>
  %h = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%x, %wq : tensor<4x8xf32>, tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%p: f32, %q: f32, %o: f32):
    %m = arith.mulf %p, %q : f32
    linalg.yield %m : f32
  } -> tensor<4x8xf32>
  %hq = cage.quantize %h scale(%a) {quantizer = #cage.quantizer<scale = operand>} : tensor<4x8xf32>, tensor<4xf32>
  %s0 = tensor.empty() : tensor<f32>
  %sz = linalg.fill ins(%zero : f32) outs(%s0 : tensor<f32>) -> tensor<f32>
  %l = linalg.generic {indexing_maps = [#id, #all], iterator_types = ["reduction", "reduction"]}
      ins(%hq : tensor<4x8xf32>) outs(%sz : tensor<f32>) {
  ^bb0(%v: f32, %acc: f32):
    %r = arith.addf %acc, %v : f32
    linalg.yield %r : f32
  } -> tensor<f32>
  %v = tensor.extract %l[] : tensor<f32>
  return %v : f32
}

// -----

// Tensor ops move the cotangent back: insert_slice into zeros for
// extract_slice, the slice for insert_slice's source, the inverse reshape,
// the low padding cut off, one slice per concatenated input; softmax's
// adjoint is y * (dy - sum(dy * y)) along its dimension.
// CHECK-LABEL: func.func @tensors_train_step
// CHECK: %[[DI:.*]] = tensor.insert_slice %{{.*}} into %{{.*}}[1, 0, 0] [2, 1, 2] [1, 1, 1] : tensor<2x2xf32> into tensor<3x5x2xf32>
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "reduction", "parallel"]{{.*}}ins(%[[DI]]
// CHECK: %[[C:.*]] = tensor.collapse_shape %{{.*}} {{\[}}[0], [1, 2]] : tensor<3x5x2xf32> into tensor<3x10xf32>
// CHECK: %[[P:.*]] = tensor.extract_slice %[[C]][1, 0] [2, 8] [1, 1] : tensor<3x10xf32> to tensor<2x8xf32>
// CHECK: %[[S:.*]] = tensor.insert_slice %[[P]] into %{{.*}}[0, 1] [2, 8] [1, 1] : tensor<2x8xf32> into tensor<2x12xf32>
// CHECK: %[[DW:.*]] = tensor.extract_slice %[[S]][0, 0] [2, 6] [1, 1] : tensor<2x12xf32> to tensor<2x6xf32>
// CHECK: cage.adamw %{{.*}}, %[[DW]]
#id3 = affine_map<(i, j, k) -> (i, j, k)>
#all3 = affine_map<(i, j, k) -> ()>
func.func @tensors(%x: tensor<2x6xf32>, %w: tensor<2x6xf32> {cage.param = #cage.param<cage = false>}) -> f32 {
  %zero = arith.constant 0.0 : f32
  %c = tensor.concat dim(1) %w, %x : (tensor<2x6xf32>, tensor<2x6xf32>) -> tensor<2x12xf32>
  %s = tensor.extract_slice %c[0, 1] [2, 8] [1, 1] : tensor<2x12xf32> to tensor<2x8xf32>
  %p = tensor.pad %s low[1, 0] high[0, 2] {
  ^bb0(%i: index, %j: index):
    tensor.yield %zero : f32
  } : tensor<2x8xf32> to tensor<3x10xf32>
  %r = tensor.expand_shape %p [[0], [1, 2]] output_shape [3, 5, 2] : tensor<3x10xf32> into tensor<3x5x2xf32>
  %sm = tensor.empty() : tensor<3x5x2xf32>
  %y = linalg.softmax dimension(1) ins(%r : tensor<3x5x2xf32>) outs(%sm : tensor<3x5x2xf32>) -> tensor<3x5x2xf32>
  %xs = tensor.extract_slice %x[0, 0] [2, 2] [1, 1] : tensor<2x6xf32> to tensor<2x2xf32>
  %i = tensor.insert_slice %xs into %y[1, 0, 0] [2, 1, 2] [1, 1, 1] : tensor<2x2xf32> into tensor<3x5x2xf32>
  %s0 = tensor.empty() : tensor<f32>
  %sz = linalg.fill ins(%zero : f32) outs(%s0 : tensor<f32>) -> tensor<f32>
  %l = linalg.generic {indexing_maps = [#id3, #id3, #all3], iterator_types = ["reduction", "reduction", "reduction"]}
      ins(%i, %r : tensor<3x5x2xf32>, tensor<3x5x2xf32>) outs(%sz : tensor<f32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %q = arith.addf %acc, %m : f32
    linalg.yield %q : f32
  } -> tensor<f32>
  %v = tensor.extract %l[] : tensor<f32>
  return %v : f32
}
