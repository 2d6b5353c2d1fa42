// RUN: cage-opt %s --split-input-file --verify-diagnostics --pass-pipeline='builtin.module(func.func(cage-fuse-correction{remarks=true}))' | FileCheck %s

// With `remarks`, cage-fuse-correction says at each optimizer op whose w has
// a cage.quant_error user, but that it did not fuse, why. A fused step and
// an optimizer whose w has no cage.quant_error get no remark.
//
// The decoupled template's own reasons in FuseCorrection.c ("w1 - s * e is
// found, but e is not ..." and "... but s is not lr * lambda_t ...") are not
// given today: the coupled template's reason, recorded first at the same
// level, is kept (@decoupled_error_of_other_tensor, @decoupled_other_lr).

// Fused: no remark.
// CHECK-LABEL: func.func @fused
// CHECK-NEXT: cage.update
// CHECK-NEXT: return
func.func @fused(%w: tensor<8x16xf32>, %g: tensor<8x16xf32>, %b: tensor<8x16xf32>, %lr: f32, %l: f32) -> (tensor<8x16xf32>, tensor<8x16xf32>) {
  %e = cage.quant_error %w {quantizer = #cage.quantizer<bits = 4>} : tensor<8x16xf32>
  %ls = tensor.splat %l : tensor<8x16xf32>
  %p = arith.mulf %ls, %e : tensor<8x16xf32>
  %gc = arith.addf %g, %p : tensor<8x16xf32>
  %w1, %b1 = cage.sgd %w, %gc, %b, %lr : tensor<8x16xf32>
  return %w1, %b1 : tensor<8x16xf32>, tensor<8x16xf32>
}

// -----

// A plain optimizer, no cage.quant_error: not a CAGE step, no remark.
// CHECK-LABEL: func.func @plain_optimizer
// CHECK-NOT: cage.update
// CHECK: cage.adamw
func.func @plain_optimizer(%w: tensor<8x16xf32>, %g: tensor<8x16xf32>, %m: tensor<8x16xf32>, %v: tensor<8x16xf32>, %lr: f32, %t: i64) -> (tensor<8x16xf32>, tensor<8x16xf32>, tensor<8x16xf32>) {
  %w1, %m1, %v1 = cage.adamw %w, %g, %m, %v, %lr, %t : tensor<8x16xf32>
  return %w1, %m1, %v1 : tensor<8x16xf32>, tensor<8x16xf32>, tensor<8x16xf32>
}

// -----

// The correction reads the error of another tensor, and w has no
// cage.quant_error: no remark either.
// CHECK-LABEL: func.func @no_error_of_w
// CHECK-NOT: cage.update
// CHECK: cage.sgd
func.func @no_error_of_w(%w: tensor<8x16xf32>, %x: tensor<8x16xf32>, %g: tensor<8x16xf32>, %b: tensor<8x16xf32>, %lr: f32, %l: f32) -> (tensor<8x16xf32>, tensor<8x16xf32>) {
  %e = cage.quant_error %x {quantizer = #cage.quantizer<bits = 4>} : tensor<8x16xf32>
  %ls = tensor.splat %l : tensor<8x16xf32>
  %p = arith.mulf %ls, %e : tensor<8x16xf32>
  %gc = arith.addf %g, %p : tensor<8x16xf32>
  %w1, %b1 = cage.sgd %w, %gc, %b, %lr : tensor<8x16xf32>
  return %w1, %b1 : tensor<8x16xf32>, tensor<8x16xf32>
}

// -----

// Coupled template mismatch: g − λ·e.
// CHECK-LABEL: func.func @coupled_wrong_sign
// CHECK-NOT: cage.update
// CHECK: cage.sgd
func.func @coupled_wrong_sign(%w: tensor<8x16xf32>, %g: tensor<8x16xf32>, %b: tensor<8x16xf32>, %lr: f32, %l: f32) -> (tensor<8x16xf32>, tensor<8x16xf32>) {
  %e = cage.quant_error %w {quantizer = #cage.quantizer<bits = 4>} : tensor<8x16xf32>
  %ls = tensor.splat %l : tensor<8x16xf32>
  %p = arith.mulf %ls, %e : tensor<8x16xf32>
  %gc = arith.subf %g, %p : tensor<8x16xf32>
  // expected-remark @+1 {{cage-fuse-correction: not fused: the optimizer's gradient is not g + lambda_t * e (coupled) and no use of its new w computes w1 - (lr * lambda_t) * e (decoupled), with e the cage.quant_error of its w}}
  %w1, %b1 = cage.sgd %w, %gc, %b, %lr : tensor<8x16xf32>
  return %w1, %b1 : tensor<8x16xf32>, tensor<8x16xf32>
}

// -----

// Decoupled template mismatch: (lr·λ)·e − w1.
// CHECK-LABEL: func.func @decoupled_operands_swapped
// CHECK-NOT: cage.update
// CHECK: cage.adamw
func.func @decoupled_operands_swapped(%w: tensor<8x16xf32>, %g: tensor<8x16xf32>, %m: tensor<8x16xf32>, %v: tensor<8x16xf32>, %lr: f32, %l: f32, %t: i64) -> (tensor<8x16xf32>, tensor<8x16xf32>, tensor<8x16xf32>) {
  %e = cage.quant_error %w {quantizer = #cage.quantizer<bits = 4>} : tensor<8x16xf32>
  // expected-remark @+1 {{cage-fuse-correction: not fused: the optimizer's gradient is not g + lambda_t * e (coupled) and no use of its new w computes w1 - (lr * lambda_t) * e (decoupled), with e the cage.quant_error of its w}}
  %w1, %m1, %v1 = cage.adamw %w, %g, %m, %v, %lr, %t : tensor<8x16xf32>
  %f = arith.mulf %lr, %l : f32
  %fs = tensor.splat %f : tensor<8x16xf32>
  %p = arith.mulf %fs, %e : tensor<8x16xf32>
  %w2 = arith.subf %p, %w1 : tensor<8x16xf32>
  return %w2, %m1, %v1 : tensor<8x16xf32>, tensor<8x16xf32>, tensor<8x16xf32>
}

// -----

// w1 − (lr·λ)·e' with e' the error of another tensor; w's own error is
// returned: the decoupled form is found, with the wrong error.
// CHECK-LABEL: func.func @decoupled_error_of_other_tensor
// CHECK-NOT: cage.update
// CHECK: cage.sgd
func.func @decoupled_error_of_other_tensor(%w: tensor<8x16xf32>, %x: tensor<8x16xf32>, %g: tensor<8x16xf32>, %b: tensor<8x16xf32>, %lr: f32, %l: f32) -> (tensor<8x16xf32>, tensor<8x16xf32>, tensor<8x16xf32>) {
  %ew = cage.quant_error %w {quantizer = #cage.quantizer<bits = 4>} : tensor<8x16xf32>
  %e = cage.quant_error %x {quantizer = #cage.quantizer<bits = 4>} : tensor<8x16xf32>
  // expected-remark @+1 {{cage-fuse-correction: not fused: w1 - s * e is found, but e is not the cage.quant_error of the optimizer's w}}
  %w1, %b1 = cage.sgd %w, %g, %b, %lr : tensor<8x16xf32>
  %f = arith.mulf %lr, %l : f32
  %fs = tensor.splat %f : tensor<8x16xf32>
  %p = arith.mulf %fs, %e : tensor<8x16xf32>
  %w2 = arith.subf %w1, %p : tensor<8x16xf32>
  return %w2, %b1, %ew : tensor<8x16xf32>, tensor<8x16xf32>, tensor<8x16xf32>
}

// -----

// The factor is lr2·λ, not the optimizer's lr·λ: the decoupled form is
// found, with the wrong factor.
// CHECK-LABEL: func.func @decoupled_other_lr
// CHECK-NOT: cage.update
// CHECK: cage.sgd
func.func @decoupled_other_lr(%w: tensor<8x16xf32>, %g: tensor<8x16xf32>, %b: tensor<8x16xf32>, %lr: f32, %lr2: f32, %l: f32) -> (tensor<8x16xf32>, tensor<8x16xf32>) {
  %e = cage.quant_error %w {quantizer = #cage.quantizer<bits = 4>} : tensor<8x16xf32>
  // expected-remark @+1 {{cage-fuse-correction: not fused: w1 - s * e is found, but s is not lr * lambda_t with the optimizer's lr (the product must be formed as written in docs/Semantics.md section 1.3, not reassociated)}}
  %w1, %b1 = cage.sgd %w, %g, %b, %lr : tensor<8x16xf32>
  %f = arith.mulf %lr2, %l : f32
  %fs = tensor.splat %f : tensor<8x16xf32>
  %p = arith.mulf %fs, %e : tensor<8x16xf32>
  %w2 = arith.subf %w1, %p : tensor<8x16xf32>
  return %w2, %b1 : tensor<8x16xf32>, tensor<8x16xf32>
}

// -----

// The error has another user.
// CHECK-LABEL: func.func @error_used_elsewhere
// CHECK-NOT: cage.update
// CHECK: cage.sgd
func.func @error_used_elsewhere(%w: tensor<8x16xf32>, %g: tensor<8x16xf32>, %b: tensor<8x16xf32>, %lr: f32, %l: f32) -> (tensor<8x16xf32>, tensor<8x16xf32>, tensor<8x16xf32>) {
  %e = cage.quant_error %w {quantizer = #cage.quantizer<bits = 4>} : tensor<8x16xf32>
  %ls = tensor.splat %l : tensor<8x16xf32>
  %p = arith.mulf %ls, %e : tensor<8x16xf32>
  %gc = arith.addf %g, %p : tensor<8x16xf32>
  // expected-remark @+1 {{cage-fuse-correction: not fused: the quantization error or a value of the correction has users outside the step: fusing would compute it twice}}
  %w1, %b1 = cage.sgd %w, %gc, %b, %lr : tensor<8x16xf32>
  return %w1, %b1, %e : tensor<8x16xf32>, tensor<8x16xf32>, tensor<8x16xf32>
}

// -----

// The select-guarded form of the old contract, coupled: the optimizer's g is
// a select, not g + λ·e.
// CHECK-LABEL: func.func @coupled_select_guarded
// CHECK-NOT: cage.update
// CHECK: arith.select
// CHECK: cage.sgd
func.func @coupled_select_guarded(%w: tensor<8x16xf32>, %g: tensor<8x16xf32>, %b: tensor<8x16xf32>, %lr: f32, %l: f32) -> (tensor<8x16xf32>, tensor<8x16xf32>) {
  %e = cage.quant_error %w {quantizer = #cage.quantizer<bits = 4>} : tensor<8x16xf32>
  %zero = arith.constant 0.0 : f32
  %isz = arith.cmpf oeq, %l, %zero : f32
  %ls = tensor.splat %l : tensor<8x16xf32>
  %p = arith.mulf %ls, %e : tensor<8x16xf32>
  %s = arith.addf %g, %p : tensor<8x16xf32>
  %gc = arith.select %isz, %g, %s : tensor<8x16xf32>
  // expected-remark @+1 {{cage-fuse-correction: not fused: the optimizer's gradient is not g + lambda_t * e (coupled) and no use of its new w computes w1 - (lr * lambda_t) * e (decoupled), with e the cage.quant_error of its w}}
  %w1, %b1 = cage.sgd %w, %gc, %b, %lr : tensor<8x16xf32>
  return %w1, %b1 : tensor<8x16xf32>, tensor<8x16xf32>
}

// -----

// The select-guarded form, decoupled on tensors: w1 − (lr·λ)·e matches, but
// the select reads w1 besides.
// CHECK-LABEL: func.func @decoupled_select_guarded
// CHECK-NOT: cage.update
// CHECK: cage.sgd
// CHECK: arith.select
func.func @decoupled_select_guarded(%w: tensor<8x16xf32>, %g: tensor<8x16xf32>, %b: tensor<8x16xf32>, %lr: f32, %l: f32) -> (tensor<8x16xf32>, tensor<8x16xf32>) {
  %e = cage.quant_error %w {quantizer = #cage.quantizer<bits = 4>} : tensor<8x16xf32>
  // expected-remark @+1 {{cage-fuse-correction: not fused: the quantization error or a value of the correction has users outside the step: fusing would compute it twice}}
  %w1, %b1 = cage.sgd %w, %g, %b, %lr : tensor<8x16xf32>
  %zero = arith.constant 0.0 : f32
  %nz = arith.cmpf une, %l, %zero : f32
  %f = arith.mulf %lr, %l : f32
  %fs = tensor.splat %f : tensor<8x16xf32>
  %p = arith.mulf %fs, %e : tensor<8x16xf32>
  %s = arith.subf %w1, %p : tensor<8x16xf32>
  %w2 = arith.select %nz, %s, %w1 : tensor<8x16xf32>
  return %w2, %b1 : tensor<8x16xf32>, tensor<8x16xf32>
}

// -----

// The decoupled result's type differs from w's.
// CHECK-LABEL: func.func @result_type_differs
// CHECK-NOT: cage.update
// CHECK: cage.sgd
#map = affine_map<(d0, d1) -> (d0, d1)>
func.func @result_type_differs(%w: tensor<8x16xf32>, %g: tensor<8x16xf32>, %b: tensor<8x16xf32>, %lr: f32, %l: f32, %n: index) -> (tensor<?x16xf32>, tensor<8x16xf32>) {
  %e = cage.quant_error %w {quantizer = #cage.quantizer<bits = 4>} : tensor<8x16xf32>
  // expected-remark @+1 {{cage-fuse-correction: not fused: the corrected value's type differs from w's}}
  %w1, %b1 = cage.sgd %w, %g, %b, %lr : tensor<8x16xf32>
  %f = arith.mulf %lr, %l : f32
  %init = tensor.empty(%n) : tensor<?x16xf32>
  %w2 = linalg.generic {indexing_maps = [#map, #map, #map], iterator_types = ["parallel", "parallel"]} ins(%w1, %e : tensor<8x16xf32>, tensor<8x16xf32>) outs(%init : tensor<?x16xf32>) {
  ^bb0(%wi: f32, %ei: f32, %o: f32):
    %p = arith.mulf %f, %ei : f32
    %s = arith.subf %wi, %p : f32
    linalg.yield %s : f32
  } -> tensor<?x16xf32>
  return %w2, %b1 : tensor<?x16xf32>, tensor<8x16xf32>
}

// -----

// The gradient is tensor<?x16xf32>: the cage.update would not verify (and
// its verifier's errors are not shown).
// CHECK-LABEL: func.func @update_does_not_verify
// CHECK-NOT: cage.update
// CHECK: cage.sgd
#map = affine_map<(d0, d1) -> (d0, d1)>
func.func @update_does_not_verify(%w: tensor<8x16xf32>, %g: tensor<?x16xf32>, %b: tensor<8x16xf32>, %lr: f32, %l: f32) -> (tensor<8x16xf32>, tensor<8x16xf32>) {
  %e = cage.quant_error %w {quantizer = #cage.quantizer<bits = 4>} : tensor<8x16xf32>
  %init = tensor.empty() : tensor<8x16xf32>
  %gc = linalg.generic {indexing_maps = [#map, #map, #map], iterator_types = ["parallel", "parallel"]} ins(%g, %e : tensor<?x16xf32>, tensor<8x16xf32>) outs(%init : tensor<8x16xf32>) {
  ^bb0(%gi: f32, %ei: f32, %o: f32):
    %p = arith.mulf %l, %ei : f32
    %s = arith.addf %gi, %p : f32
    linalg.yield %s : f32
  } -> tensor<8x16xf32>
  // expected-remark @+1 {{cage-fuse-correction: not fused: the cage.update it would build does not verify (the scalars, shapes or quantizer are not those of an update)}}
  %w1, %b1 = cage.sgd %w, %gc, %b, %lr : tensor<8x16xf32>
  return %w1, %b1 : tensor<8x16xf32>, tensor<8x16xf32>
}

// -----

// λ is computed in the generic's body (2·λ0): no value outside it to give
// the update.
// CHECK-LABEL: func.func @lambda_not_visible
// CHECK-NOT: cage.update
// CHECK: cage.sgd
#map = affine_map<(d0, d1) -> (d0, d1)>
#scalar = affine_map<(d0, d1) -> ()>
func.func @lambda_not_visible(%w: tensor<8x16xf32>, %g: tensor<8x16xf32>, %b: tensor<8x16xf32>, %lr: f32, %l0: f32) -> (tensor<8x16xf32>, tensor<8x16xf32>) {
  %e = cage.quant_error %w {quantizer = #cage.quantizer<bits = 4>} : tensor<8x16xf32>
  %init = tensor.empty() : tensor<8x16xf32>
  %gc = linalg.generic {indexing_maps = [#scalar, #map, #map, #map], iterator_types = ["parallel", "parallel"]} ins(%l0, %g, %e : f32, tensor<8x16xf32>, tensor<8x16xf32>) outs(%init : tensor<8x16xf32>) {
  ^bb0(%li: f32, %gi: f32, %ei: f32, %o: f32):
    %l = arith.addf %li, %li : f32
    %p = arith.mulf %l, %ei : f32
    %s = arith.addf %gi, %p : f32
    linalg.yield %s : f32
  } -> tensor<8x16xf32>
  // expected-remark @+1 {{cage-fuse-correction: not fused: lambda_t is not visible where the update would go}}
  %w1, %b1 = cage.sgd %w, %gc, %b, %lr : tensor<8x16xf32>
  return %w1, %b1 : tensor<8x16xf32>, tensor<8x16xf32>
}

// -----

// Decoupled, λ after the optimizer and the new state used in between.
// CHECK-LABEL: func.func @new_state_used_before
// CHECK-NOT: cage.update
// CHECK: cage.sgd
func.func @new_state_used_before(%w: tensor<8x16xf32>, %g: tensor<8x16xf32>, %b: tensor<8x16xf32>, %lr: f32, %t: i64, %T: i64) -> (tensor<8x16xf32>, tensor<8x16xf32>) {
  // expected-remark @+1 {{cage-fuse-correction: not fused: the optimizer's new state is used before the correction, where the update would go}}
  %w1, %b1 = cage.sgd %w, %g, %b, %lr : tensor<8x16xf32>
  %b2 = arith.mulf %b1, %b1 : tensor<8x16xf32>
  %l = cage.lambda_schedule %t, %T
  %e = cage.quant_error %w {quantizer = #cage.quantizer<bits = 4>} : tensor<8x16xf32>
  %f = arith.mulf %lr, %l : f32
  %fs = tensor.splat %f : tensor<8x16xf32>
  %p = arith.mulf %fs, %e : tensor<8x16xf32>
  %w2 = arith.subf %w1, %p : tensor<8x16xf32>
  return %w2, %b2 : tensor<8x16xf32>, tensor<8x16xf32>
}

// -----

// λ is a tensor of per-element factors, not one scalar.
// CHECK-LABEL: func.func @lambda_not_uniform
// CHECK-NOT: cage.update
// CHECK: cage.sgd
func.func @lambda_not_uniform(%w: tensor<8x16xf32>, %g: tensor<8x16xf32>, %b: tensor<8x16xf32>, %lr: f32, %ls: tensor<8x16xf32>) -> (tensor<8x16xf32>, tensor<8x16xf32>) {
  %e = cage.quant_error %w {quantizer = #cage.quantizer<bits = 4>} : tensor<8x16xf32>
  %p = arith.mulf %ls, %e : tensor<8x16xf32>
  %gc = arith.addf %g, %p : tensor<8x16xf32>
  // expected-remark @+1 {{cage-fuse-correction: not fused: lambda_t is not one scalar: it varies from element to element}}
  %w1, %b1 = cage.sgd %w, %gc, %b, %lr : tensor<8x16xf32>
  return %w1, %b1 : tensor<8x16xf32>, tensor<8x16xf32>
}
