// RUN: cage-opt %s --split-input-file --cage-autodiff=in-place=false | FileCheck %s
// RUN: cage-opt %s --split-input-file --cage-autodiff | FileCheck %s --check-prefix=INPLACE

// FOGZO in the training step (docs/Training.md, docs/Semantics.md §1.6):
// the straight-through gradients of the FOGZO parameters (here w, with the
// CAGE correction, and b, without) are replaced on active steps, r =
// min(t/T, 1) > start, by ((L+ - L-) / (2 eps)) v, L+- the forward called at
// w +- eps v; c, trained by the straight-through gradient, keeps its own.
// The direction's quantizers: w's forward grid, none for b.

#id2 = affine_map<(i, j) -> (i, j)>
#row = affine_map<(i, j) -> (j)>
#all = affine_map<(i, j) -> ()>
func.func @loss(%x: tensor<8x16xf32>,
                %w: tensor<4x16xf32> {cage.param = #cage.param<fogzo = #cage.fogzo<start = 0.5, seed = 5>>},
                %b: tensor<4xf32> {cage.param = #cage.param<cage = false, fogzo = #cage.fogzo<start = 0.5, seed = 5>>},
                %c: tensor<4xf32> {cage.param = #cage.param<cage = false, optimizer = #cage.sgd<>>}) -> f32 {
  %q = cage.quantize %w {quantizer = #cage.quantizer<bits = 3, granularity = tensor>} : tensor<4x16xf32>
  %e = tensor.empty() : tensor<8x4xf32>
  %z = arith.constant 0.0 : f32
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<8x4xf32>) -> tensor<8x4xf32>
  %y = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>] ins(%x, %q : tensor<8x16xf32>, tensor<4x16xf32>) outs(%f : tensor<8x4xf32>) -> tensor<8x4xf32>
  %s0 = tensor.empty() : tensor<f32>
  %s1 = linalg.fill ins(%z : f32) outs(%s0 : tensor<f32>) -> tensor<f32>
  %s = linalg.generic {indexing_maps = [#id2, #row, #row, #all], iterator_types = ["reduction", "reduction"]} ins(%y, %b, %c : tensor<8x4xf32>, tensor<4xf32>, tensor<4xf32>) outs(%s1 : tensor<f32>) {
  ^bb0(%a: f32, %bb: f32, %cc: f32, %acc: f32):
    %t = arith.addf %a, %bb : f32
    %t1 = arith.mulf %t, %cc : f32
    %t2 = arith.mulf %t1, %t1 : f32
    %r = arith.addf %acc, %t2 : f32
    linalg.yield %r : f32
  } -> tensor<f32>
  %l = tensor.extract %s[] : tensor<f32>
  return %l : f32
}

// The forward stays the evaluation function that the probes call.
// CHECK-LABEL: func.func @loss(
// CHECK-NOT:     cage.param
// CHECK-LABEL: func.func @loss_train_step(
// CHECK-SAME:    %[[X:[^:]+]]: tensor<8x16xf32>, %[[W:[^:]+]]: tensor<4x16xf32>, %{{[^:]+}}: tensor<4x16xf32>, %{{[^:]+}}: tensor<4x16xf32>, %[[B:[^:]+]]: tensor<4xf32>, %{{[^:]+}}: tensor<4xf32>, %{{[^:]+}}: tensor<4xf32>, %[[C:[^:]+]]: tensor<4xf32>, %{{[^:]+}}: tensor<4xf32>, %[[T:[^:]+]]: i64, %[[TT:[^:]+]]: i64, %[[LR:[^:]+]]: f32)
// CHECK:         %[[GW:.*]] = cage.ste %{{.*}}, %[[W]] {quantizer = #cage.quantizer<bits = 3, granularity = tensor>, estimator = clipped}
// CHECK:         %[[TF:.*]] = arith.sitofp %[[T]] : i64 to f32
// CHECK:         %[[R:.*]] = arith.divf %[[TF]], %{{.*}} : f32
// CHECK:         %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// CHECK:         %[[LT:.*]] = arith.cmpf olt, %[[R]], %[[ONE]] : f32
// CHECK:         %[[RR:.*]] = arith.select %[[LT]], %[[R]], %[[ONE]] : f32
// CHECK:         %[[START:.*]] = arith.constant 5.000000e-01 : f32
// CHECK:         %[[ACTIVE:.*]] = arith.cmpf ogt, %[[RR]], %[[START]] : f32
// CHECK:         %[[G:.*]]:2 = scf.if %[[ACTIVE]] -> (tensor<4x16xf32>, tensor<4xf32>) {
// CHECK:           %[[V:.*]]:2, %[[EPS:.*]] = cage.fogzo_direction (%[[GW]], %[[W]]), (%[[GB:.*]], %[[B]]), %[[T]], %[[TT]] {fogzo = #cage.fogzo<start = 0.5, seed = 5>, quantizers = [#cage.quantizer<bits = 3, granularity = tensor>, unit]} : tensor<4x16xf32>, tensor<4xf32>
// CHECK:           %[[WP:.*]] = linalg.generic {{.*}} ins(%[[W]], %[[V]]#0 : tensor<4x16xf32>, tensor<4x16xf32>)
// CHECK:             arith.mulf %[[EPS]], %{{.*}} : f32
// CHECK:             arith.addf
// CHECK:           %[[BP:.*]] = linalg.generic {{.*}} ins(%[[B]], %[[V]]#1 : tensor<4xf32>, tensor<4xf32>)
// CHECK:           %[[LP:.*]] = func.call @loss(%[[X]], %[[WP]], %[[BP]], %[[C]]) : (tensor<8x16xf32>, tensor<4x16xf32>, tensor<4xf32>, tensor<4xf32>) -> f32
// CHECK:           %[[WM:.*]] = linalg.generic {{.*}} ins(%[[W]], %[[V]]#0 : tensor<4x16xf32>, tensor<4x16xf32>)
// CHECK:             arith.mulf %[[EPS]], %{{.*}} : f32
// CHECK:             arith.subf
// CHECK:           %[[BM:.*]] = linalg.generic {{.*}} ins(%[[B]], %[[V]]#1 : tensor<4xf32>, tensor<4xf32>)
// CHECK:           %[[LM:.*]] = func.call @loss(%[[X]], %[[WM]], %[[BM]], %[[C]])
// CHECK:           %[[DL:.*]] = arith.subf %[[LP]], %[[LM]] : f32
// CHECK:           %[[TWOEPS:.*]] = arith.mulf %{{.*}}, %[[EPS]] : f32
// CHECK:           %[[SCALE:.*]] = arith.divf %[[DL]], %[[TWOEPS]] : f32
// CHECK:           %[[GGW:.*]] = linalg.generic {{.*}} ins(%[[V]]#0 : tensor<4x16xf32>)
// CHECK:             arith.mulf %[[SCALE]], %{{.*}} : f32
// CHECK:           %[[GGB:.*]] = linalg.generic {{.*}} ins(%[[V]]#1 : tensor<4xf32>)
// CHECK:           scf.yield %[[GGW]], %[[GGB]] : tensor<4x16xf32>, tensor<4xf32>
// CHECK:         } else {
// CHECK:           scf.yield %[[GW]], %[[GB]] : tensor<4x16xf32>, tensor<4xf32>
// CHECK:         }
// The CAGE update of w and the plain AdamW step of b take FOGZO's gradients;
// c's SGD step its straight-through gradient.
// CHECK:         cage.update %[[W]], %[[G]]#0, {{.*}} {quantizer = #cage.quantizer<bits = 3, granularity = tensor>, optimizer = #cage.adamw<>}
// CHECK:         cage.adamw %[[B]], %[[G]]#1,
// CHECK:         cage.sgd %[[C]], %[[GC:[^,]+]],
// CHECK-NOT:     %[[G]]#

// The in-place step is the same step on memrefs.
// INPLACE-LABEL: func.func @loss_train_step_inplace(
// INPLACE:         scf.if
// INPLACE:           cage.fogzo_direction
// INPLACE-COUNT-2:   func.call @loss(
