// RUN: cage-opt %s --split-input-file --verify-diagnostics --cage-expand-update | FileCheck %s
// cage-fuse-correction gives back the original update, printed as written.
// RUN: cage-opt %s --split-input-file --verify-diagnostics --cage-expand-update --cage-fuse-correction | FileCheck %s --check-prefix=ROUND
// The expansion is what cage-fuse-correction undoes: fused again by the
// pass inside the CPU pipeline, it lowers as the update does (numbers:
// test/Integration/CPU/fuse-round-trip.test).

// Coupled AdamW, error = keep: the corrected gradient g + λ·e in one
// generic (whatever λ is: no select on λ == 0), then cage.adamw with the
// optimizer's parameters.
// CHECK-LABEL: func.func @coupled_adamw_keep
// CHECK-SAME: (%[[W:.*]]: tensor<8x16xf32>, %[[G:.*]]: tensor<8x16xf32>, %[[M:.*]]: tensor<8x16xf32>, %[[V:.*]]: tensor<8x16xf32>, %[[LR:.*]]: f32, %[[L:.*]]: f32, %[[T:.*]]: i64)
// CHECK-NEXT: %[[E:.*]] = cage.quant_error %[[W]] {quantizer = #cage.quantizer<>} : tensor<8x16xf32>
// CHECK-NEXT: %[[INIT:.*]] = tensor.empty() : tensor<8x16xf32>
// CHECK-NEXT: %[[GC:.*]] = linalg.generic {indexing_maps = [#map, #map, #map], iterator_types = ["parallel", "parallel"]} ins(%[[G]], %[[E]] : tensor<8x16xf32>, tensor<8x16xf32>) outs(%[[INIT]] : tensor<8x16xf32>) {
// CHECK-NEXT: ^bb0(%[[GI:.*]]: f32, %[[EI:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: %[[P:.*]] = arith.mulf %[[L]], %[[EI]] : f32
// CHECK-NEXT: %[[S:.*]] = arith.addf %[[GI]], %[[P]] : f32
// CHECK-NEXT: linalg.yield %[[S]] : f32
// CHECK-NEXT: } -> tensor<8x16xf32>
// CHECK-NEXT: %[[W1:.*]], %[[M1:.*]], %[[V1:.*]] = cage.adamw %[[W]], %[[GC]], %[[M]], %[[V]], %[[LR]], %[[T]] {beta1 = 0.85 : f32, eps = 1.0e-06 : f32} : tensor<8x16xf32>
// CHECK-NEXT: return %[[W1]], %[[M1]], %[[V1]]
// ROUND-LABEL: func.func @coupled_adamw_keep
// ROUND-NEXT: %[[W:.*]], %[[S:.*]]:2 = cage.update %arg0, %arg1, %arg2, %arg3, %arg4, %arg5, %arg6 {quantizer = #cage.quantizer<>, optimizer = #cage.adamw<beta1 = 0.85, eps = 1.0e-06>, coupling = coupled} : tensor<8x16xf32>
// ROUND-NEXT: return %[[W]], %[[S]]#0, %[[S]]#1
func.func @coupled_adamw_keep(%w: tensor<8x16xf32>, %g: tensor<8x16xf32>, %m: tensor<8x16xf32>, %v: tensor<8x16xf32>, %lr: f32, %l: f32, %t: i64) -> (tensor<8x16xf32>, tensor<8x16xf32>, tensor<8x16xf32>) {
  %w1, %m1, %v1 = cage.update %w, %g, %m, %v, %lr, %l, %t {quantizer = #cage.quantizer<bits = 4>, optimizer = #cage.adamw<beta1 = 0.85, eps = 1.0e-06>, coupling = coupled} : tensor<8x16xf32>
  return %w1, %m1, %v1 : tensor<8x16xf32>, tensor<8x16xf32>, tensor<8x16xf32>
}

// -----

// Coupled AdamW, error = zero_clipped, λ from a schedule.
// CHECK-LABEL: func.func @coupled_adamw_zero_clipped
// CHECK: %[[L:.*]] = cage.lambda_schedule
// CHECK-NEXT: %[[E:.*]] = cage.quant_error %arg0 {quantizer = #cage.quantizer<bits = 3, rotation = hadamard, block = 16>, error = zero_clipped} : tensor<4x32xf32>
// CHECK-NEXT: tensor.empty()
// CHECK-NEXT: %[[GC:.*]] = linalg.generic {{.*}} ins(%arg1, %[[E]] :
// CHECK: arith.mulf %[[L]]
// CHECK-NEXT: arith.addf
// CHECK-NOT: arith.select
// CHECK: cage.adamw %arg0, %[[GC]], %arg2, %arg3, %arg4, %arg5 : tensor<4x32xf32>
// ROUND-LABEL: func.func @coupled_adamw_zero_clipped
// ROUND-NEXT: %[[L:.*]] = cage.lambda_schedule %arg5, %arg6 {lambda = 5.0 : f32}
// ROUND-NEXT: cage.update %arg0, %arg1, %arg2, %arg3, %arg4, %[[L]], %arg5 {quantizer = #cage.quantizer<bits = 3, rotation = hadamard, block = 16>, optimizer = #cage.adamw<>, coupling = coupled, error = zero_clipped} : tensor<4x32xf32>
// ROUND-NEXT: return
func.func @coupled_adamw_zero_clipped(%w: tensor<4x32xf32>, %g: tensor<4x32xf32>, %m: tensor<4x32xf32>, %v: tensor<4x32xf32>, %lr: f32, %t: i64, %T: i64) -> (tensor<4x32xf32>, tensor<4x32xf32>, tensor<4x32xf32>) {
  %l = cage.lambda_schedule %t, %T {lambda = 5.0 : f32}
  %w1, %m1, %v1 = cage.update %w, %g, %m, %v, %lr, %l, %t {quantizer = #cage.quantizer<bits = 3, rotation = hadamard, block = 16>, optimizer = #cage.adamw<>, coupling = coupled, error = zero_clipped} : tensor<4x32xf32>
  return %w1, %m1, %v1 : tensor<4x32xf32>, tensor<4x32xf32>, tensor<4x32xf32>
}

// -----

// Decoupled SGD, error = keep: cage.sgd on the plain gradient, then
// w1 − (lr·λ)·e in one generic.
// CHECK-LABEL: func.func @decoupled_sgd_keep
// CHECK-SAME: (%[[W:.*]]: tensor<8x16xf32>, %[[G:.*]]: tensor<8x16xf32>, %[[B:.*]]: tensor<8x16xf32>, %[[LR:.*]]: f32, %[[L:.*]]: f32)
// CHECK-NEXT: %[[E:.*]] = cage.quant_error %[[W]] {quantizer = #cage.quantizer<bits = 2, granularity = tensor>} : tensor<8x16xf32>
// CHECK-NEXT: %[[W1:.*]], %[[B1:.*]] = cage.sgd %[[W]], %[[G]], %[[B]], %[[LR]] {momentum = 0.9 : f32, nesterov = true} : tensor<8x16xf32>
// CHECK-NEXT: %[[F:.*]] = arith.mulf %[[LR]], %[[L]] : f32
// CHECK-NEXT: %[[INIT:.*]] = tensor.empty() : tensor<8x16xf32>
// CHECK-NEXT: %[[W2:.*]] = linalg.generic {indexing_maps = [#map, #map, #map], iterator_types = ["parallel", "parallel"]} ins(%[[W1]], %[[E]] : tensor<8x16xf32>, tensor<8x16xf32>) outs(%[[INIT]] : tensor<8x16xf32>) {
// CHECK-NEXT: ^bb0(%[[WI:.*]]: f32, %[[EI:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: %[[P:.*]] = arith.mulf %[[F]], %[[EI]] : f32
// CHECK-NEXT: %[[S:.*]] = arith.subf %[[WI]], %[[P]] : f32
// CHECK-NEXT: linalg.yield %[[S]] : f32
// CHECK-NEXT: } -> tensor<8x16xf32>
// CHECK-NEXT: return %[[W2]], %[[B1]]
// ROUND-LABEL: func.func @decoupled_sgd_keep
// ROUND-NEXT: %[[W:.*]], %[[B:.*]] = cage.update %arg0, %arg1, %arg2, %arg3, %arg4 {quantizer = #cage.quantizer<bits = 2, granularity = tensor>, optimizer = #cage.sgd<momentum = 0.9, nesterov = true>} : tensor<8x16xf32>
// ROUND-NEXT: return %[[W]], %[[B]]
func.func @decoupled_sgd_keep(%w: tensor<8x16xf32>, %g: tensor<8x16xf32>, %b: tensor<8x16xf32>, %lr: f32, %l: f32) -> (tensor<8x16xf32>, tensor<8x16xf32>) {
  %w1, %b1 = cage.update %w, %g, %b, %lr, %l {quantizer = #cage.quantizer<bits = 2, granularity = tensor>, optimizer = #cage.sgd<momentum = 0.9, nesterov = true>} : tensor<8x16xf32>
  return %w1, %b1 : tensor<8x16xf32>, tensor<8x16xf32>
}

// -----

// Decoupled SGD, error = zero_clipped, λ a constant (the pass folds
// nothing).
// CHECK-LABEL: func.func @decoupled_sgd_zero_clipped
// CHECK: %[[E:.*]] = cage.quant_error %arg0 {quantizer = #cage.quantizer<granularity = group, group_size = 8>, error = zero_clipped} : tensor<3x16xf32>
// CHECK: cage.sgd %arg0, %arg1, %arg2, %arg3 {dampening = 0.25 : f32, weight_decay = 0.01 : f32}
// CHECK: arith.subf
// ROUND-LABEL: func.func @decoupled_sgd_zero_clipped
// ROUND-NEXT: %[[L:.*]] = arith.constant 1.000000e+00 : f32
// ROUND-NEXT: cage.update %arg0, %arg1, %arg2, %arg3, %[[L]] {quantizer = #cage.quantizer<granularity = group, group_size = 8>, optimizer = #cage.sgd<dampening = 0.25, weight_decay = 0.01>, error = zero_clipped} : tensor<3x16xf32>
// ROUND-NEXT: return
func.func @decoupled_sgd_zero_clipped(%w: tensor<3x16xf32>, %g: tensor<3x16xf32>, %b: tensor<3x16xf32>, %lr: f32) -> (tensor<3x16xf32>, tensor<3x16xf32>) {
  %l = arith.constant 1.0 : f32
  %w1, %b1 = cage.update %w, %g, %b, %lr, %l {quantizer = #cage.quantizer<bits = 4, granularity = group, group_size = 8>, optimizer = #cage.sgd<dampening = 0.25, weight_decay = 0.01>, coupling = decoupled, error = zero_clipped} : tensor<3x16xf32>
  return %w1, %b1 : tensor<3x16xf32>, tensor<3x16xf32>
}

// -----

// Coupled SGD, error = keep, on a dynamic shape: the generic's init takes
// its size from g.
// CHECK-LABEL: func.func @coupled_sgd_keep_dynamic
// CHECK: %[[E:.*]] = cage.quant_error %arg0 {quantizer = #cage.quantizer<>} : tensor<?x129xf32>
// CHECK-NEXT: %[[C0:.*]] = arith.constant 0 : index
// CHECK-NEXT: %[[N:.*]] = tensor.dim %arg1, %[[C0]] : tensor<?x129xf32>
// CHECK-NEXT: %[[INIT:.*]] = tensor.empty(%[[N]]) : tensor<?x129xf32>
// CHECK-NEXT: %[[GC:.*]] = linalg.generic {{.*}} ins(%arg1, %[[E]] : tensor<?x129xf32>, tensor<?x129xf32>) outs(%[[INIT]] : tensor<?x129xf32>)
// CHECK: arith.addf
// CHECK: cage.sgd %arg0, %[[GC]], %arg2, %arg3 {momentum = 0.9 : f32} : tensor<?x129xf32>
// ROUND-LABEL: func.func @coupled_sgd_keep_dynamic
// ROUND-NEXT: cage.update %arg0, %arg1, %arg2, %arg3, %arg4 {quantizer = #cage.quantizer<>, optimizer = #cage.sgd<momentum = 0.9>, coupling = coupled} : tensor<?x129xf32>
// ROUND-NEXT: return
func.func @coupled_sgd_keep_dynamic(%w: tensor<?x129xf32>, %g: tensor<?x129xf32>, %b: tensor<?x129xf32>, %lr: f32, %l: f32) -> (tensor<?x129xf32>, tensor<?x129xf32>) {
  %w1, %b1 = cage.update %w, %g, %b, %lr, %l {quantizer = #cage.quantizer<bits = 4>, optimizer = #cage.sgd<momentum = 0.9>, coupling = coupled} : tensor<?x129xf32>
  return %w1, %b1 : tensor<?x129xf32>, tensor<?x129xf32>
}

// -----

// Decoupled AdamW, error = zero_clipped, on a dynamic shape: the init takes
// its size from the new w. Two updates of one function share nothing.
// CHECK-LABEL: func.func @decoupled_adamw_zero_clipped_dynamic
// CHECK: %[[E:.*]] = cage.quant_error %arg0 {quantizer = #cage.quantizer<>, error = zero_clipped} : tensor<?x?xf32>
// CHECK: %[[W1:.*]], %{{.*}}, %{{.*}} = cage.adamw %arg0, %arg1, %arg2, %arg3, %arg4, %arg6 : tensor<?x?xf32>
// CHECK-NEXT: %[[F:.*]] = arith.mulf %arg4, %arg5 : f32
// CHECK: tensor.dim %[[W1]]
// CHECK: linalg.generic {{.*}} ins(%[[W1]], %[[E]] :
// CHECK: arith.subf
// CHECK: cage.quant_error
// CHECK: cage.adamw
// CHECK-NOT: cage.update
// ROUND-LABEL: func.func @decoupled_adamw_zero_clipped_dynamic
// ROUND-NEXT: %[[A:.*]], %[[AS:.*]]:2 = cage.update %arg0, %arg1, %arg2, %arg3, %arg4, %arg5, %arg6 {quantizer = #cage.quantizer<>, optimizer = #cage.adamw<>, error = zero_clipped} : tensor<?x?xf32>
// ROUND-NEXT: %[[B:.*]], %[[BS:.*]]:2 = cage.update %[[A]], %arg1, %[[AS]]#0, %[[AS]]#1, %arg4, %arg5, %arg6 {quantizer = #cage.quantizer<bits = 8>, optimizer = #cage.adamw<weight_decay = 0.0>} : tensor<?x?xf32>
// ROUND-NEXT: return %[[B]], %[[BS]]#0, %[[BS]]#1
func.func @decoupled_adamw_zero_clipped_dynamic(%w: tensor<?x?xf32>, %g: tensor<?x?xf32>, %m: tensor<?x?xf32>, %v: tensor<?x?xf32>, %lr: f32, %l: f32, %t: i64) -> (tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>) {
  %w1, %m1, %v1 = cage.update %w, %g, %m, %v, %lr, %l, %t {quantizer = #cage.quantizer<bits = 4>, optimizer = #cage.adamw<>, error = zero_clipped} : tensor<?x?xf32>
  %w2, %m2, %v2 = cage.update %w1, %g, %m1, %v1, %lr, %l, %t {quantizer = #cage.quantizer<bits = 8>, optimizer = #cage.adamw<weight_decay = 0.0>} : tensor<?x?xf32>
  return %w2, %m2, %v2 : tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>
}

// -----

// Functions without updates are left alone.
// CHECK-LABEL: func.func @no_update
// CHECK-NEXT: arith.addf
// ROUND-LABEL: func.func @no_update
// ROUND-NEXT: arith.addf
func.func @no_update(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = arith.addf %x, %x : tensor<4xf32>
  return %y : tensor<4xf32>
}

// -----

// bf16 optimizer state with its seed: no unfused spelling (cage.adamw and
// cage.sgd take f32 state), left as it is, silently.
// CHECK-LABEL: func.func @bf16_state_stays
// CHECK-NEXT: %{{.*}}, %{{.*}}:2 = cage.update %arg0, %arg1, %arg2, %arg3, %arg4, %arg5, %arg6 seed(%arg7) {quantizer = #cage.quantizer<>, optimizer = #cage.adamw<>} : tensor<8x16xf32>, tensor<8x16xbf16>
// CHECK-NEXT: return
// ROUND-LABEL: func.func @bf16_state_stays
// ROUND-NEXT: cage.update {{.*}} seed(%arg7)
func.func @bf16_state_stays(%w: tensor<8x16xf32>, %g: tensor<8x16xf32>, %m: tensor<8x16xbf16>, %v: tensor<8x16xbf16>, %lr: f32, %l: f32, %t: i64, %s: i64) -> (tensor<8x16xf32>, tensor<8x16xbf16>, tensor<8x16xbf16>) {
  %w1, %m1, %v1 = cage.update %w, %g, %m, %v, %lr, %l, %t seed(%s) {quantizer = #cage.quantizer<bits = 4>, optimizer = #cage.adamw<>} : tensor<8x16xf32>, tensor<8x16xbf16>
  return %w1, %m1, %v1 : tensor<8x16xf32>, tensor<8x16xbf16>, tensor<8x16xbf16>
}
