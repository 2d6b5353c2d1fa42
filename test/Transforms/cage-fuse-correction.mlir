// RUN: cage-opt %s --split-input-file --verify-diagnostics --cage-fuse-correction | FileCheck %s
// A bad option value is the pass shim's to report.
// RUN: not cage-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(cage-fuse-correction{remarks=maybe}))' 2>&1 | FileCheck %s --check-prefix=BADOPT
// BADOPT: 'maybe' is invalid value for boolean argument
// BADOPT: failed to add `cage-fuse-correction` with options `remarks=maybe`

// Without `remarks` the pass reports nothing (--verify-diagnostics with no
// expected diagnostic): not fusing is silent, and the verification of a
// cage.update it would build but that fails (@gradient_type_differs) says
// nothing. The remarks are tested in cage-fuse-correction-remarks.mlir.
//
// cage.update applies the correction whatever λ_t is (docs/Semantics.md
// §1.3): the step is fused as written without a test of λ_t, for any λ_t
// (λ_t = 0 included), and the old spelling guarded by select(λ_t == 0, ...)
// is refused, since it differs from cage.update where λ_t = 0.

//===----------------------------------------------------------------------===//
// linalg.generic, as cage-expand-update and the lowering of cage.update
// write it: λ captured from above.
//===----------------------------------------------------------------------===//

// Coupled AdamW, λ from cage.lambda_schedule.
// CHECK-LABEL: func.func @coupled_adamw_generic_schedule
// CHECK-NEXT: %[[L:.*]] = cage.lambda_schedule %arg5, %arg6
// CHECK-NEXT: %[[W:.*]], %[[S:.*]]:2 = cage.update %arg0, %arg1, %arg2, %arg3, %arg4, %[[L]], %arg5 {quantizer = #cage.quantizer<>, optimizer = #cage.adamw<beta1 = 0.85, eps = 1.0e-06, weight_decay = 0.0>, coupling = coupled} : tensor<8x16xf32>
// CHECK-NEXT: return %[[W]], %[[S]]#0, %[[S]]#1
#map = affine_map<(d0, d1) -> (d0, d1)>
func.func @coupled_adamw_generic_schedule(%w: tensor<8x16xf32>, %g: tensor<8x16xf32>, %m: tensor<8x16xf32>, %v: tensor<8x16xf32>, %lr: f32, %t: i64, %T: i64) -> (tensor<8x16xf32>, tensor<8x16xf32>, tensor<8x16xf32>) {
  %l = cage.lambda_schedule %t, %T
  %e = cage.quant_error %w {quantizer = #cage.quantizer<bits = 4>} : tensor<8x16xf32>
  %init = tensor.empty() : tensor<8x16xf32>
  %gc = linalg.generic {indexing_maps = [#map, #map, #map], iterator_types = ["parallel", "parallel"]} ins(%g, %e : tensor<8x16xf32>, tensor<8x16xf32>) outs(%init : tensor<8x16xf32>) {
  ^bb0(%gi: f32, %ei: f32, %o: f32):
    %p = arith.mulf %l, %ei : f32
    %s = arith.addf %gi, %p : f32
    linalg.yield %s : f32
  } -> tensor<8x16xf32>
  %w1, %m1, %v1 = cage.adamw %w, %gc, %m, %v, %lr, %t {beta1 = 0.85 : f32, beta2 = 0.95 : f32, eps = 1.0e-06 : f32, weight_decay = 0.0 : f32} : tensor<8x16xf32>
  return %w1, %m1, %v1 : tensor<8x16xf32>, tensor<8x16xf32>, tensor<8x16xf32>
}

// -----

// Decoupled SGD, λ a function argument, zero_clipped error, the product
// lr·λ written λ·lr, and the step on a dynamic shape.
// CHECK-LABEL: func.func @decoupled_sgd_generic_argument
// CHECK-NOT: tensor.dim
// CHECK: %[[W:.*]], %[[B:.*]] = cage.update %arg0, %arg1, %arg2, %arg3, %arg4 {quantizer = #cage.quantizer<bits = 3, granularity = tensor>, optimizer = #cage.sgd<momentum = 0.9, dampening = 0.1>, error = zero_clipped} : tensor<?x16xf32>
// CHECK-NEXT: return %[[W]], %[[B]]
#map = affine_map<(d0, d1) -> (d0, d1)>
func.func @decoupled_sgd_generic_argument(%w: tensor<?x16xf32>, %g: tensor<?x16xf32>, %b: tensor<?x16xf32>, %lr: f32, %l: f32) -> (tensor<?x16xf32>, tensor<?x16xf32>) {
  %e = cage.quant_error %w {quantizer = #cage.quantizer<bits = 3, granularity = tensor>, error = zero_clipped} : tensor<?x16xf32>
  %w1, %b1 = cage.sgd %w, %g, %b, %lr {momentum = 0.9 : f32, dampening = 0.1 : f32} : tensor<?x16xf32>
  %f = arith.mulf %l, %lr : f32
  %c0 = arith.constant 0 : index
  %d0 = tensor.dim %w1, %c0 : tensor<?x16xf32>
  %init = tensor.empty(%d0) : tensor<?x16xf32>
  %w2 = linalg.generic {indexing_maps = [#map, #map, #map], iterator_types = ["parallel", "parallel"]} ins(%w1, %e : tensor<?x16xf32>, tensor<?x16xf32>) outs(%init : tensor<?x16xf32>) {
  ^bb0(%wi: f32, %ei: f32, %o: f32):
    %p = arith.mulf %f, %ei : f32
    %s = arith.subf %wi, %p : f32
    linalg.yield %s : f32
  } -> tensor<?x16xf32>
  return %w2, %b1 : tensor<?x16xf32>, tensor<?x16xf32>
}

// -----

// Decoupled AdamW, λ an arith.constant, e·(lr·λ) for the product; the
// constant λ is still used by the update.
// CHECK-LABEL: func.func @decoupled_adamw_generic_constant
// CHECK-NEXT: %[[L:.*]] = arith.constant 2.000000e+00 : f32
// CHECK-NEXT: %{{.*}}, %{{.*}}:2 = cage.update %arg0, %arg1, %arg2, %arg3, %arg4, %[[L]], %arg5 {quantizer = #cage.quantizer<bits = 8, granularity = group, group_size = 8, rotation = hadamard, block = 16>, optimizer = #cage.adamw<>} : tensor<4x16xf32>
// CHECK-NOT: arith
#map = affine_map<(d0, d1) -> (d0, d1)>
func.func @decoupled_adamw_generic_constant(%w: tensor<4x16xf32>, %g: tensor<4x16xf32>, %m: tensor<4x16xf32>, %v: tensor<4x16xf32>, %lr: f32, %t: i64) -> (tensor<4x16xf32>, tensor<4x16xf32>, tensor<4x16xf32>) {
  %l = arith.constant 2.0 : f32
  %w1, %m1, %v1 = cage.adamw %w, %g, %m, %v, %lr, %t : tensor<4x16xf32>
  %e = cage.quant_error %w {quantizer = #cage.quantizer<bits = 8, granularity = group, group_size = 8, rotation = hadamard, block = 16>} : tensor<4x16xf32>
  %f = arith.mulf %lr, %l : f32
  %init = tensor.empty() : tensor<4x16xf32>
  %w2 = linalg.generic {indexing_maps = [#map, #map, #map], iterator_types = ["parallel", "parallel"]} ins(%w1, %e : tensor<4x16xf32>, tensor<4x16xf32>) outs(%init : tensor<4x16xf32>) {
  ^bb0(%wi: f32, %ei: f32, %o: f32):
    %p = arith.mulf %ei, %f : f32
    %s = arith.subf %wi, %p : f32
    linalg.yield %s : f32
  } -> tensor<4x16xf32>
  return %w2, %m1, %v1 : tensor<4x16xf32>, tensor<4x16xf32>, tensor<4x16xf32>
}

// -----

// Coupled SGD; λ passed to the generic as a scalar input, the sum written
// in the body, λ·e as e·λ and g + λ·e as λ·e + g.
// CHECK-LABEL: func.func @coupled_sgd_generic_scalar_inputs
// CHECK-NEXT: %{{.*}}, %{{.*}} = cage.update %arg0, %arg1, %arg2, %arg3, %arg4 {quantizer = #cage.quantizer<>, optimizer = #cage.sgd<>, coupling = coupled} : tensor<7x16xf32>
// CHECK-NEXT: return
#map = affine_map<(d0, d1) -> (d0, d1)>
#scalar = affine_map<(d0, d1) -> ()>
func.func @coupled_sgd_generic_scalar_inputs(%w: tensor<7x16xf32>, %g: tensor<7x16xf32>, %b: tensor<7x16xf32>, %lr: f32, %l: f32) -> (tensor<7x16xf32>, tensor<7x16xf32>) {
  %e = cage.quant_error %w {quantizer = #cage.quantizer<bits = 4>} : tensor<7x16xf32>
  %init = tensor.empty() : tensor<7x16xf32>
  %gc = linalg.generic {indexing_maps = [#scalar, #map, #map, #map], iterator_types = ["parallel", "parallel"]} ins(%l, %g, %e : f32, tensor<7x16xf32>, tensor<7x16xf32>) outs(%init : tensor<7x16xf32>) {
  ^bb0(%li: f32, %gi: f32, %ei: f32, %o: f32):
    %p = arith.mulf %ei, %li : f32
    %s = arith.addf %p, %gi : f32
    linalg.yield %s : f32
  } -> tensor<7x16xf32>
  %w1, %b1 = cage.sgd %w, %gc, %b, %lr : tensor<7x16xf32>
  return %w1, %b1 : tensor<7x16xf32>, tensor<7x16xf32>
}

// -----

// Decoupled AdamW with lr and λ as 0-d tensor inputs: λ from
// tensor.from_elements is the scalar itself; lr·λ computed in the body.
// CHECK-LABEL: func.func @decoupled_adamw_generic_0d_inputs
// CHECK-NEXT: %{{.*}}, %{{.*}}:2 = cage.update %arg0, %arg1, %arg2, %arg3, %arg4, %arg5, %arg6 {quantizer = #cage.quantizer<>, optimizer = #cage.adamw<>} : tensor<8x16xf32>
// CHECK-NEXT: return
#map = affine_map<(d0, d1) -> (d0, d1)>
#scalar = affine_map<(d0, d1) -> ()>
func.func @decoupled_adamw_generic_0d_inputs(%w: tensor<8x16xf32>, %g: tensor<8x16xf32>, %m: tensor<8x16xf32>, %v: tensor<8x16xf32>, %lr: f32, %l: f32, %t: i64) -> (tensor<8x16xf32>, tensor<8x16xf32>, tensor<8x16xf32>) {
  %w1, %m1, %v1 = cage.adamw %w, %g, %m, %v, %lr, %t : tensor<8x16xf32>
  %e = cage.quant_error %w {quantizer = #cage.quantizer<bits = 4>} : tensor<8x16xf32>
  %l0 = tensor.from_elements %l : tensor<f32>
  %lr0 = tensor.from_elements %lr : tensor<f32>
  %init = tensor.empty() : tensor<8x16xf32>
  %w2 = linalg.generic {indexing_maps = [#map, #map, #scalar, #scalar, #map], iterator_types = ["parallel", "parallel"]} ins(%w1, %e, %lr0, %l0 : tensor<8x16xf32>, tensor<8x16xf32>, tensor<f32>, tensor<f32>) outs(%init : tensor<8x16xf32>) {
  ^bb0(%wi: f32, %ei: f32, %lri: f32, %li: f32, %o: f32):
    %f = arith.mulf %lri, %li : f32
    %p = arith.mulf %f, %ei : f32
    %s = arith.subf %wi, %p : f32
    linalg.yield %s : f32
  } -> tensor<8x16xf32>
  return %w2, %m1, %v1 : tensor<8x16xf32>, tensor<8x16xf32>, tensor<8x16xf32>
}

// -----

// λ as a 0-d tensor argument, read by a broadcast map: the update gets its
// element with tensor.extract.
// CHECK-LABEL: func.func @coupled_sgd_generic_0d_tensor_argument
// CHECK-NEXT: %[[L:.*]] = tensor.extract %arg4[] : tensor<f32>
// CHECK-NEXT: %{{.*}}, %{{.*}} = cage.update %arg0, %arg1, %arg2, %arg3, %[[L]] {quantizer = #cage.quantizer<>, optimizer = #cage.sgd<momentum = 0.9>, coupling = coupled} : tensor<8x16xf32>
// CHECK-NEXT: return
#map = affine_map<(d0, d1) -> (d0, d1)>
#scalar = affine_map<(d0, d1) -> ()>
func.func @coupled_sgd_generic_0d_tensor_argument(%w: tensor<8x16xf32>, %g: tensor<8x16xf32>, %b: tensor<8x16xf32>, %lr: f32, %l: tensor<f32>) -> (tensor<8x16xf32>, tensor<8x16xf32>) {
  %e = cage.quant_error %w {quantizer = #cage.quantizer<bits = 4>} : tensor<8x16xf32>
  %init = tensor.empty() : tensor<8x16xf32>
  %gc = linalg.generic {indexing_maps = [#map, #map, #scalar, #map], iterator_types = ["parallel", "parallel"]} ins(%g, %e, %l : tensor<8x16xf32>, tensor<8x16xf32>, tensor<f32>) outs(%init : tensor<8x16xf32>) {
  ^bb0(%gi: f32, %ei: f32, %li: f32, %o: f32):
    %p = arith.mulf %li, %ei : f32
    %s = arith.addf %gi, %p : f32
    linalg.yield %s : f32
  } -> tensor<8x16xf32>
  %w1, %b1 = cage.sgd %w, %gc, %b, %lr {momentum = 0.9 : f32} : tensor<8x16xf32>
  return %w1, %b1 : tensor<8x16xf32>, tensor<8x16xf32>
}

// -----

// λ as a rank-70 tensor argument of one element, read by a map to constant
// indices: the update extracts it with 70 indices (no rank limit).
// CHECK-LABEL: func.func @coupled_sgd_generic_rank70_tensor_argument
// CHECK-NEXT: %[[C0:.*]] = arith.constant 0 : index
// CHECK-NEXT: %[[L:.*]] = tensor.extract %arg4[%[[C0]], %[[C0]], %[[C0]], %[[C0]], %[[C0]], %[[C0]], %[[C0]], %[[C0]], %[[C0]], %[[C0]], %[[C0]], %[[C0]], %[[C0]], %[[C0]], %[[C0]], %[[C0]], %[[C0]], %[[C0]], %[[C0]], %[[C0]], %[[C0]], %[[C0]], %[[C0]], %[[C0]], %[[C0]], %[[C0]], %[[C0]], %[[C0]], %[[C0]], %[[C0]], %[[C0]], %[[C0]], %[[C0]], %[[C0]], %[[C0]], %[[C0]], %[[C0]], %[[C0]], %[[C0]], %[[C0]], %[[C0]], %[[C0]], %[[C0]], %[[C0]], %[[C0]], %[[C0]], %[[C0]], %[[C0]], %[[C0]], %[[C0]], %[[C0]], %[[C0]], %[[C0]], %[[C0]], %[[C0]], %[[C0]], %[[C0]], %[[C0]], %[[C0]], %[[C0]], %[[C0]], %[[C0]], %[[C0]], %[[C0]], %[[C0]], %[[C0]], %[[C0]], %[[C0]], %[[C0]], %[[C0]]] : tensor<1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1xf32>
// CHECK-NEXT: %{{.*}}, %{{.*}} = cage.update %arg0, %arg1, %arg2, %arg3, %[[L]] {quantizer = #cage.quantizer<>, optimizer = #cage.sgd<momentum = 0.9>, coupling = coupled} : tensor<8x16xf32>
// CHECK-NEXT: return
#map = affine_map<(d0, d1) -> (d0, d1)>
#element = affine_map<(d0, d1) -> (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)>
func.func @coupled_sgd_generic_rank70_tensor_argument(%w: tensor<8x16xf32>, %g: tensor<8x16xf32>, %b: tensor<8x16xf32>, %lr: f32, %l: tensor<1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1xf32>) -> (tensor<8x16xf32>, tensor<8x16xf32>) {
  %e = cage.quant_error %w {quantizer = #cage.quantizer<bits = 4>} : tensor<8x16xf32>
  %init = tensor.empty() : tensor<8x16xf32>
  %gc = linalg.generic {indexing_maps = [#map, #map, #element, #map], iterator_types = ["parallel", "parallel"]} ins(%g, %e, %l : tensor<8x16xf32>, tensor<8x16xf32>, tensor<1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1xf32>) outs(%init : tensor<8x16xf32>) {
  ^bb0(%gi: f32, %ei: f32, %li: f32, %o: f32):
    %p = arith.mulf %li, %ei : f32
    %s = arith.addf %gi, %p : f32
    linalg.yield %s : f32
  } -> tensor<8x16xf32>
  %w1, %b1 = cage.sgd %w, %gc, %b, %lr {momentum = 0.9 : f32} : tensor<8x16xf32>
  return %w1, %b1 : tensor<8x16xf32>, tensor<8x16xf32>
}

// -----

// The correction spread over three generics (λ·e, g + ·, a copy), λ
// broadcast by linalg.fill into an identity-mapped input.
// CHECK-LABEL: func.func @coupled_adamw_three_generics_fill
// CHECK-NEXT: %{{.*}}, %{{.*}}:2 = cage.update %arg0, %arg1, %arg2, %arg3, %arg4, %arg5, %arg6 {quantizer = #cage.quantizer<>, optimizer = #cage.adamw<>, coupling = coupled} : tensor<8x16xf32>
// CHECK-NEXT: return
#map = affine_map<(d0, d1) -> (d0, d1)>
func.func @coupled_adamw_three_generics_fill(%w: tensor<8x16xf32>, %g: tensor<8x16xf32>, %m: tensor<8x16xf32>, %v: tensor<8x16xf32>, %lr: f32, %l: f32, %t: i64) -> (tensor<8x16xf32>, tensor<8x16xf32>, tensor<8x16xf32>) {
  %e = cage.quant_error %w {quantizer = #cage.quantizer<bits = 4>} : tensor<8x16xf32>
  %empty = tensor.empty() : tensor<8x16xf32>
  %ls = linalg.fill ins(%l : f32) outs(%empty : tensor<8x16xf32>) -> tensor<8x16xf32>
  %p = linalg.generic {indexing_maps = [#map, #map, #map], iterator_types = ["parallel", "parallel"]} ins(%ls, %e : tensor<8x16xf32>, tensor<8x16xf32>) outs(%empty : tensor<8x16xf32>) {
  ^bb0(%li: f32, %ei: f32, %o: f32):
    %r = arith.mulf %li, %ei : f32
    linalg.yield %r : f32
  } -> tensor<8x16xf32>
  %s = linalg.generic {indexing_maps = [#map, #map, #map], iterator_types = ["parallel", "parallel"]} ins(%g, %p : tensor<8x16xf32>, tensor<8x16xf32>) outs(%empty : tensor<8x16xf32>) {
  ^bb0(%gi: f32, %pi: f32, %o: f32):
    %r = arith.addf %gi, %pi : f32
    linalg.yield %r : f32
  } -> tensor<8x16xf32>
  %gc = linalg.generic {indexing_maps = [#map, #map], iterator_types = ["parallel", "parallel"]} ins(%s : tensor<8x16xf32>) outs(%empty : tensor<8x16xf32>) {
  ^bb0(%si: f32, %o: f32):
    linalg.yield %si : f32
  } -> tensor<8x16xf32>
  %w1, %m1, %v1 = cage.adamw %w, %gc, %m, %v, %lr, %t : tensor<8x16xf32>
  return %w1, %m1, %v1 : tensor<8x16xf32>, tensor<8x16xf32>, tensor<8x16xf32>
}

// -----

//===----------------------------------------------------------------------===//
// arith on tensors.
//===----------------------------------------------------------------------===//

// Coupled AdamW, λ a constant broadcast by tensor.splat.
// CHECK-LABEL: func.func @coupled_adamw_arith_splat_constant
// CHECK-NEXT: %[[L:.*]] = arith.constant 5.000000e-01 : f32
// CHECK-NEXT: %{{.*}}, %{{.*}}:2 = cage.update %arg0, %arg1, %arg2, %arg3, %arg4, %[[L]], %arg5 {quantizer = #cage.quantizer<bits = 2, levels = centered>, optimizer = #cage.adamw<>, coupling = coupled, error = zero_clipped} : tensor<8x16xf32>
// CHECK-NEXT: return
func.func @coupled_adamw_arith_splat_constant(%w: tensor<8x16xf32>, %g: tensor<8x16xf32>, %m: tensor<8x16xf32>, %v: tensor<8x16xf32>, %lr: f32, %t: i64) -> (tensor<8x16xf32>, tensor<8x16xf32>, tensor<8x16xf32>) {
  %l = arith.constant 0.5 : f32
  %e = cage.quant_error %w {quantizer = #cage.quantizer<bits = 2, levels = centered>, error = zero_clipped} : tensor<8x16xf32>
  %ls = tensor.splat %l : tensor<8x16xf32>
  %p = arith.mulf %ls, %e : tensor<8x16xf32>
  %gc = arith.addf %g, %p : tensor<8x16xf32>
  %w1, %m1, %v1 = cage.adamw %w, %gc, %m, %v, %lr, %t : tensor<8x16xf32>
  return %w1, %m1, %v1 : tensor<8x16xf32>, tensor<8x16xf32>, tensor<8x16xf32>
}

// -----

// Decoupled SGD, λ from a schedule, lr·λ broadcast by linalg.fill, on a
// dynamic shape.
// CHECK-LABEL: func.func @decoupled_sgd_arith_fill_schedule
// CHECK-NEXT: %[[L:.*]] = cage.lambda_schedule %arg4, %arg5 {kind = constant}
// CHECK-NEXT: %{{.*}}, %{{.*}} = cage.update %arg0, %arg1, %arg2, %arg3, %[[L]] {quantizer = #cage.quantizer<granularity = group, group_size = 16>, optimizer = #cage.sgd<momentum = 0.9, nesterov = true, weight_decay = 0.01>} : tensor<?x32xf32>
// CHECK-NEXT: return
func.func @decoupled_sgd_arith_fill_schedule(%w: tensor<?x32xf32>, %g: tensor<?x32xf32>, %b: tensor<?x32xf32>, %lr: f32, %t: i64, %T: i64) -> (tensor<?x32xf32>, tensor<?x32xf32>) {
  %l = cage.lambda_schedule %t, %T {kind = constant}
  %w1, %b1 = cage.sgd %w, %g, %b, %lr {momentum = 0.9 : f32, nesterov = true, weight_decay = 0.01 : f32} : tensor<?x32xf32>
  %e = cage.quant_error %w {quantizer = #cage.quantizer<bits = 4, granularity = group, group_size = 16>} : tensor<?x32xf32>
  %c0 = arith.constant 0 : index
  %n = tensor.dim %w, %c0 : tensor<?x32xf32>
  %empty = tensor.empty(%n) : tensor<?x32xf32>
  %f = arith.mulf %lr, %l : f32
  %fs = linalg.fill ins(%f : f32) outs(%empty : tensor<?x32xf32>) -> tensor<?x32xf32>
  %p = arith.mulf %fs, %e : tensor<?x32xf32>
  %w2 = arith.subf %w1, %p : tensor<?x32xf32>
  return %w2, %b1 : tensor<?x32xf32>, tensor<?x32xf32>
}

// -----

// The λ broadcast a dense splat constant: λ becomes a scalar constant of the
// same value.
// CHECK-LABEL: func.func @coupled_sgd_arith_dense_constants
// CHECK-NEXT: %[[L:.*]] = arith.constant 2.500000e-01 : f32
// CHECK-NEXT: %{{.*}}, %{{.*}} = cage.update %arg0, %arg1, %arg2, %arg3, %[[L]] {quantizer = #cage.quantizer<>, optimizer = #cage.sgd<>, coupling = coupled} : tensor<8x16xf32>
// CHECK-NEXT: return
func.func @coupled_sgd_arith_dense_constants(%w: tensor<8x16xf32>, %g: tensor<8x16xf32>, %b: tensor<8x16xf32>, %lr: f32) -> (tensor<8x16xf32>, tensor<8x16xf32>) {
  %ls = arith.constant dense<0.25> : tensor<8x16xf32>
  %e = cage.quant_error %w {quantizer = #cage.quantizer<bits = 4>} : tensor<8x16xf32>
  %p = arith.mulf %e, %ls : tensor<8x16xf32>
  %gc = arith.addf %p, %g : tensor<8x16xf32>
  %w1, %b1 = cage.sgd %w, %gc, %b, %lr : tensor<8x16xf32>
  return %w1, %b1 : tensor<8x16xf32>, tensor<8x16xf32>
}

// -----

//===----------------------------------------------------------------------===//
// Named linalg ops.
//===----------------------------------------------------------------------===//

// Coupled AdamW: linalg.mul, linalg.add, λ broadcast by tensor.splat.
// CHECK-LABEL: func.func @coupled_adamw_named
// CHECK-NEXT: %{{.*}}, %{{.*}}:2 = cage.update %arg0, %arg1, %arg2, %arg3, %arg4, %arg5, %arg6 {quantizer = #cage.quantizer<>, optimizer = #cage.adamw<>, coupling = coupled} : tensor<8x16xf32>
// CHECK-NEXT: return
func.func @coupled_adamw_named(%w: tensor<8x16xf32>, %g: tensor<8x16xf32>, %m: tensor<8x16xf32>, %v: tensor<8x16xf32>, %lr: f32, %l: f32, %t: i64) -> (tensor<8x16xf32>, tensor<8x16xf32>, tensor<8x16xf32>) {
  %e = cage.quant_error %w {quantizer = #cage.quantizer<bits = 4>} : tensor<8x16xf32>
  %empty = tensor.empty() : tensor<8x16xf32>
  %ls = tensor.splat %l : tensor<8x16xf32>
  %p = linalg.mul ins(%ls, %e : tensor<8x16xf32>, tensor<8x16xf32>) outs(%empty : tensor<8x16xf32>) -> tensor<8x16xf32>
  %gc = linalg.add ins(%g, %p : tensor<8x16xf32>, tensor<8x16xf32>) outs(%empty : tensor<8x16xf32>) -> tensor<8x16xf32>
  %w1, %m1, %v1 = cage.adamw %w, %gc, %m, %v, %lr, %t : tensor<8x16xf32>
  return %w1, %m1, %v1 : tensor<8x16xf32>, tensor<8x16xf32>, tensor<8x16xf32>
}

// -----

// Decoupled SGD: linalg.mul, linalg.sub; lr·λ from a schedule; e·(lr·λ).
// CHECK-LABEL: func.func @decoupled_sgd_named_schedule
// CHECK-NEXT: %[[L:.*]] = cage.lambda_schedule %arg4, %arg5
// CHECK-NEXT: %{{.*}}, %{{.*}} = cage.update %arg0, %arg1, %arg2, %arg3, %[[L]] {quantizer = #cage.quantizer<>, optimizer = #cage.sgd<momentum = 0.5>} : tensor<8x16xf32>
// CHECK-NEXT: return
func.func @decoupled_sgd_named_schedule(%w: tensor<8x16xf32>, %g: tensor<8x16xf32>, %b: tensor<8x16xf32>, %lr: f32, %t: i64, %T: i64) -> (tensor<8x16xf32>, tensor<8x16xf32>) {
  %l = cage.lambda_schedule %t, %T
  %w1, %b1 = cage.sgd %w, %g, %b, %lr {momentum = 0.5 : f32} : tensor<8x16xf32>
  %e = cage.quant_error %w {quantizer = #cage.quantizer<bits = 4>} : tensor<8x16xf32>
  %empty = tensor.empty() : tensor<8x16xf32>
  %f = arith.mulf %lr, %l : f32
  %fs = tensor.splat %f : tensor<8x16xf32>
  %p = linalg.mul ins(%e, %fs : tensor<8x16xf32>, tensor<8x16xf32>) outs(%empty : tensor<8x16xf32>) -> tensor<8x16xf32>
  %w2 = linalg.sub ins(%w1, %p : tensor<8x16xf32>, tensor<8x16xf32>) outs(%empty : tensor<8x16xf32>) -> tensor<8x16xf32>
  return %w2, %b1 : tensor<8x16xf32>, tensor<8x16xf32>
}

// -----

// linalg.elementwise and linalg.map, λ a constant, lr·λ as a 0-d tensor
// broadcast by linalg.broadcast.
// CHECK-LABEL: func.func @decoupled_adamw_elementwise_map
// CHECK-NEXT: %[[L:.*]] = arith.constant 3.000000e+00 : f32
// CHECK-NEXT: %{{.*}}, %{{.*}}:2 = cage.update %arg0, %arg1, %arg2, %arg3, %arg4, %[[L]], %arg5 {quantizer = #cage.quantizer<>, optimizer = #cage.adamw<>} : tensor<8x16xf32>
// CHECK-NEXT: return
func.func @decoupled_adamw_elementwise_map(%w: tensor<8x16xf32>, %g: tensor<8x16xf32>, %m: tensor<8x16xf32>, %v: tensor<8x16xf32>, %lr: f32, %t: i64) -> (tensor<8x16xf32>, tensor<8x16xf32>, tensor<8x16xf32>) {
  %l = arith.constant 3.0 : f32
  %w1, %m1, %v1 = cage.adamw %w, %g, %m, %v, %lr, %t : tensor<8x16xf32>
  %e = cage.quant_error %w {quantizer = #cage.quantizer<bits = 4>} : tensor<8x16xf32>
  %empty = tensor.empty() : tensor<8x16xf32>
  %f = arith.mulf %lr, %l : f32
  %f0 = tensor.from_elements %f : tensor<f32>
  %fs = linalg.broadcast ins(%f0 : tensor<f32>) outs(%empty : tensor<8x16xf32>) dimensions = [0, 1]
  %p = linalg.elementwise kind=#linalg.elementwise_kind<mul> ins(%fs, %e : tensor<8x16xf32>, tensor<8x16xf32>) outs(%empty : tensor<8x16xf32>) -> tensor<8x16xf32>
  %w2 = linalg.map { arith.subf } ins(%w1, %p : tensor<8x16xf32>, tensor<8x16xf32>) outs(%empty : tensor<8x16xf32>)
  return %w2, %m1, %v1 : tensor<8x16xf32>, tensor<8x16xf32>, tensor<8x16xf32>
}

// -----

//===----------------------------------------------------------------------===//
// No special case for λ = 0: a constant λ of any value (zero, −0 included)
// and a λ that may be zero (an argument) are fused alike.
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @plain_coupled_constant
// CHECK-NEXT: %[[L:.*]] = arith.constant 1.000000e-01 : f32
// CHECK-NEXT: cage.update %arg0, %arg1, %arg2, %arg3, %[[L]] {quantizer = #cage.quantizer<>, optimizer = #cage.sgd<>, coupling = coupled} : tensor<8x16xf32>
func.func @plain_coupled_constant(%w: tensor<8x16xf32>, %g: tensor<8x16xf32>, %b: tensor<8x16xf32>, %lr: f32) -> (tensor<8x16xf32>, tensor<8x16xf32>) {
  %l = arith.constant 0.1 : f32
  %e = cage.quant_error %w {quantizer = #cage.quantizer<bits = 4>} : tensor<8x16xf32>
  %ls = tensor.splat %l : tensor<8x16xf32>
  %p = arith.mulf %ls, %e : tensor<8x16xf32>
  %gc = arith.addf %g, %p : tensor<8x16xf32>
  %w1, %b1 = cage.sgd %w, %gc, %b, %lr : tensor<8x16xf32>
  return %w1, %b1 : tensor<8x16xf32>, tensor<8x16xf32>
}

// -----

// CHECK-LABEL: func.func @plain_decoupled_constant
// CHECK: cage.update %arg0, %arg1, %arg2, %arg3, %arg4, %{{.*}}, %arg5 {quantizer = #cage.quantizer<>, optimizer = #cage.adamw<>} : tensor<8x16xf32>
// CHECK-NOT: linalg.generic
#map = affine_map<(d0, d1) -> (d0, d1)>
func.func @plain_decoupled_constant(%w: tensor<8x16xf32>, %g: tensor<8x16xf32>, %m: tensor<8x16xf32>, %v: tensor<8x16xf32>, %lr: f32, %t: i64) -> (tensor<8x16xf32>, tensor<8x16xf32>, tensor<8x16xf32>) {
  %l = arith.constant 4.0 : f32
  %w1, %m1, %v1 = cage.adamw %w, %g, %m, %v, %lr, %t : tensor<8x16xf32>
  %e = cage.quant_error %w {quantizer = #cage.quantizer<bits = 4>} : tensor<8x16xf32>
  %f = arith.mulf %lr, %l : f32
  %init = tensor.empty() : tensor<8x16xf32>
  %w2 = linalg.generic {indexing_maps = [#map, #map, #map], iterator_types = ["parallel", "parallel"]} ins(%w1, %e : tensor<8x16xf32>, tensor<8x16xf32>) outs(%init : tensor<8x16xf32>) {
  ^bb0(%wi: f32, %ei: f32, %o: f32):
    %p = arith.mulf %f, %ei : f32
    %s = arith.subf %wi, %p : f32
    linalg.yield %s : f32
  } -> tensor<8x16xf32>
  return %w2, %m1, %v1 : tensor<8x16xf32>, tensor<8x16xf32>, tensor<8x16xf32>
}

// -----

// λ = 0 as a constant: g + 0·e is what cage.update computes for λ_t = 0
// (−0 and non-finite e included), so it is fused, λ kept as 0.
// CHECK-LABEL: func.func @plain_coupled_zero_constant
// CHECK-NEXT: %[[L:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-NEXT: %{{.*}}, %{{.*}} = cage.update %arg0, %arg1, %arg2, %arg3, %[[L]] {quantizer = #cage.quantizer<>, optimizer = #cage.sgd<>, coupling = coupled} : tensor<8x16xf32>
// CHECK-NEXT: return
func.func @plain_coupled_zero_constant(%w: tensor<8x16xf32>, %g: tensor<8x16xf32>, %b: tensor<8x16xf32>, %lr: f32) -> (tensor<8x16xf32>, tensor<8x16xf32>) {
  %l = arith.constant 0.0 : f32
  %e = cage.quant_error %w {quantizer = #cage.quantizer<bits = 4>} : tensor<8x16xf32>
  %ls = tensor.splat %l : tensor<8x16xf32>
  %p = arith.mulf %ls, %e : tensor<8x16xf32>
  %gc = arith.addf %g, %p : tensor<8x16xf32>
  %w1, %b1 = cage.sgd %w, %gc, %b, %lr : tensor<8x16xf32>
  return %w1, %b1 : tensor<8x16xf32>, tensor<8x16xf32>
}

// -----

// λ = −0 as a dense splat constant, decoupled: the scalar λ made for the
// update keeps the sign.
// CHECK-LABEL: func.func @plain_decoupled_negative_zero_dense
// CHECK-NEXT: %[[L:.*]] = arith.constant -0.000000e+00 : f32
// CHECK-NEXT: %{{.*}}, %{{.*}} = cage.update %arg0, %arg1, %arg2, %arg3, %[[L]] {quantizer = #cage.quantizer<>, optimizer = #cage.sgd<>} : tensor<8x16xf32>
// CHECK-NEXT: return
func.func @plain_decoupled_negative_zero_dense(%w: tensor<8x16xf32>, %g: tensor<8x16xf32>, %b: tensor<8x16xf32>, %lr: f32) -> (tensor<8x16xf32>, tensor<8x16xf32>) {
  %ls = arith.constant dense<-0.0> : tensor<8x16xf32>
  %e = cage.quant_error %w {quantizer = #cage.quantizer<bits = 4>} : tensor<8x16xf32>
  %w1, %b1 = cage.sgd %w, %g, %b, %lr : tensor<8x16xf32>
  %lrs = tensor.splat %lr : tensor<8x16xf32>
  %fs = arith.mulf %lrs, %ls : tensor<8x16xf32>
  %p = arith.mulf %fs, %e : tensor<8x16xf32>
  %w2 = arith.subf %w1, %p : tensor<8x16xf32>
  return %w2, %b1 : tensor<8x16xf32>, tensor<8x16xf32>
}

// -----

// λ an argument, which may be 0, coupled (arith) and decoupled (generic).
// CHECK-LABEL: func.func @plain_coupled_argument
// CHECK-NEXT: %{{.*}}, %{{.*}}:2 = cage.update %arg0, %arg1, %arg2, %arg3, %arg4, %arg5, %arg6 {quantizer = #cage.quantizer<>, optimizer = #cage.adamw<>, coupling = coupled} : tensor<8x16xf32>
// CHECK-NEXT: return
func.func @plain_coupled_argument(%w: tensor<8x16xf32>, %g: tensor<8x16xf32>, %m: tensor<8x16xf32>, %v: tensor<8x16xf32>, %lr: f32, %l: f32, %t: i64) -> (tensor<8x16xf32>, tensor<8x16xf32>, tensor<8x16xf32>) {
  %e = cage.quant_error %w {quantizer = #cage.quantizer<bits = 4>} : tensor<8x16xf32>
  %ls = tensor.splat %l : tensor<8x16xf32>
  %p = arith.mulf %ls, %e : tensor<8x16xf32>
  %gc = arith.addf %g, %p : tensor<8x16xf32>
  %w1, %m1, %v1 = cage.adamw %w, %gc, %m, %v, %lr, %t : tensor<8x16xf32>
  return %w1, %m1, %v1 : tensor<8x16xf32>, tensor<8x16xf32>, tensor<8x16xf32>
}

// -----

// CHECK-LABEL: func.func @plain_decoupled_argument
// CHECK-NEXT: %{{.*}}, %{{.*}} = cage.update %arg0, %arg1, %arg2, %arg3, %arg4 {quantizer = #cage.quantizer<>, optimizer = #cage.sgd<>} : tensor<8x16xf32>
// CHECK-NEXT: return
#map = affine_map<(d0, d1) -> (d0, d1)>
func.func @plain_decoupled_argument(%w: tensor<8x16xf32>, %g: tensor<8x16xf32>, %b: tensor<8x16xf32>, %lr: f32, %l: f32) -> (tensor<8x16xf32>, tensor<8x16xf32>) {
  %e = cage.quant_error %w {quantizer = #cage.quantizer<bits = 4>} : tensor<8x16xf32>
  %w1, %b1 = cage.sgd %w, %g, %b, %lr : tensor<8x16xf32>
  %f = arith.mulf %lr, %l : f32
  %init = tensor.empty() : tensor<8x16xf32>
  %w2 = linalg.generic {indexing_maps = [#map, #map, #map], iterator_types = ["parallel", "parallel"]} ins(%w1, %e : tensor<8x16xf32>, tensor<8x16xf32>) outs(%init : tensor<8x16xf32>) {
  ^bb0(%wi: f32, %ei: f32, %o: f32):
    %p = arith.mulf %f, %ei : f32
    %s = arith.subf %wi, %p : f32
    linalg.yield %s : f32
  } -> tensor<8x16xf32>
  return %w2, %b1 : tensor<8x16xf32>, tensor<8x16xf32>
}

// -----

//===----------------------------------------------------------------------===//
// Placement.
//===----------------------------------------------------------------------===//

// λ is computed after the optimizer: the update goes where the correction
// was, since the state results are used only after it.
// CHECK-LABEL: func.func @decoupled_lambda_after_optimizer
// CHECK-NEXT: %[[L:.*]] = cage.lambda_schedule %arg4, %arg5
// CHECK-NEXT: %{{.*}}, %{{.*}} = cage.update %arg0, %arg1, %arg2, %arg3, %[[L]] {quantizer = #cage.quantizer<>, optimizer = #cage.sgd<>} : tensor<8x16xf32>
// CHECK-NEXT: return
func.func @decoupled_lambda_after_optimizer(%w: tensor<8x16xf32>, %g: tensor<8x16xf32>, %b: tensor<8x16xf32>, %lr: f32, %t: i64, %T: i64) -> (tensor<8x16xf32>, tensor<8x16xf32>) {
  %w1, %b1 = cage.sgd %w, %g, %b, %lr : tensor<8x16xf32>
  %l = cage.lambda_schedule %t, %T
  %e = cage.quant_error %w {quantizer = #cage.quantizer<bits = 4>} : tensor<8x16xf32>
  %f = arith.mulf %lr, %l : f32
  %fs = tensor.splat %f : tensor<8x16xf32>
  %p = arith.mulf %fs, %e : tensor<8x16xf32>
  %w2 = arith.subf %w1, %p : tensor<8x16xf32>
  return %w2, %b1 : tensor<8x16xf32>, tensor<8x16xf32>
}

// -----

// ... but not when the new state is used in between: no place dominates
// all the uses.
// CHECK-LABEL: func.func @decoupled_no_place
// CHECK-NOT: cage.update
// CHECK: cage.sgd
func.func @decoupled_no_place(%w: tensor<8x16xf32>, %g: tensor<8x16xf32>, %b: tensor<8x16xf32>, %lr: f32, %t: i64, %T: i64) -> (tensor<8x16xf32>, tensor<8x16xf32>) {
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

// Two steps in a loop body, a third one outside: each fuses on its own.
// CHECK-LABEL: func.func @steps_in_loop
// CHECK: scf.for
// CHECK-COUNT-2: cage.update
// CHECK: scf.yield
// CHECK: cage.update
// CHECK-NOT: cage.quant_error
func.func @steps_in_loop(%w: tensor<8x16xf32>, %g: tensor<8x16xf32>, %b: tensor<8x16xf32>, %lr: f32, %l: f32, %n: index) -> (tensor<8x16xf32>, tensor<8x16xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %f = arith.mulf %lr, %l : f32
  %r:2 = scf.for %i = %c0 to %n step %c1 iter_args(%wi = %w, %bi = %b) -> (tensor<8x16xf32>, tensor<8x16xf32>) {
    %e = cage.quant_error %wi {quantizer = #cage.quantizer<bits = 4>} : tensor<8x16xf32>
    %ls = tensor.splat %l : tensor<8x16xf32>
    %p = arith.mulf %ls, %e : tensor<8x16xf32>
    %gc = arith.addf %g, %p : tensor<8x16xf32>
    %w1, %b1 = cage.sgd %wi, %gc, %bi, %lr : tensor<8x16xf32>
    %e2 = cage.quant_error %w1 {quantizer = #cage.quantizer<bits = 3>} : tensor<8x16xf32>
    %w2, %b2 = cage.sgd %w1, %g, %b1, %lr : tensor<8x16xf32>
    %fs = tensor.splat %f : tensor<8x16xf32>
    %p2 = arith.mulf %fs, %e2 : tensor<8x16xf32>
    %w3 = arith.subf %w2, %p2 : tensor<8x16xf32>
    scf.yield %w3, %b2 : tensor<8x16xf32>, tensor<8x16xf32>
  }
  %e = cage.quant_error %r#0 {quantizer = #cage.quantizer<bits = 4>} : tensor<8x16xf32>
  %ls = tensor.splat %l : tensor<8x16xf32>
  %p = arith.mulf %ls, %e : tensor<8x16xf32>
  %gc = arith.addf %g, %p : tensor<8x16xf32>
  %w1, %b1 = cage.sgd %r#0, %gc, %r#1, %lr : tensor<8x16xf32>
  return %w1, %b1 : tensor<8x16xf32>, tensor<8x16xf32>
}

// -----

//===----------------------------------------------------------------------===//
// Not fused: the IR stays as it is.
//===----------------------------------------------------------------------===//

// The error has another user: fusing would compute it twice.
// CHECK-LABEL: func.func @error_used_elsewhere
// CHECK-NOT: cage.update
// CHECK: cage.quant_error
// CHECK: cage.sgd
func.func @error_used_elsewhere(%w: tensor<8x16xf32>, %g: tensor<8x16xf32>, %b: tensor<8x16xf32>, %lr: f32, %l: f32) -> (tensor<8x16xf32>, tensor<8x16xf32>, tensor<8x16xf32>) {
  %e = cage.quant_error %w {quantizer = #cage.quantizer<bits = 4>} : tensor<8x16xf32>
  %ls = tensor.splat %l : tensor<8x16xf32>
  %p = arith.mulf %ls, %e : tensor<8x16xf32>
  %gc = arith.addf %g, %p : tensor<8x16xf32>
  %w1, %b1 = cage.sgd %w, %gc, %b, %lr : tensor<8x16xf32>
  return %w1, %b1, %e : tensor<8x16xf32>, tensor<8x16xf32>, tensor<8x16xf32>
}

// -----

// The scaled error has another user.
// CHECK-LABEL: func.func @scaled_error_used_elsewhere
// CHECK-NOT: cage.update
// CHECK: cage.sgd
func.func @scaled_error_used_elsewhere(%w: tensor<8x16xf32>, %g: tensor<8x16xf32>, %b: tensor<8x16xf32>, %lr: f32, %l: f32) -> (tensor<8x16xf32>, tensor<8x16xf32>, tensor<8x16xf32>) {
  %e = cage.quant_error %w {quantizer = #cage.quantizer<bits = 4>} : tensor<8x16xf32>
  %ls = tensor.splat %l : tensor<8x16xf32>
  %p = arith.mulf %ls, %e : tensor<8x16xf32>
  %gc = arith.addf %g, %p : tensor<8x16xf32>
  %w1, %b1 = cage.sgd %w, %gc, %b, %lr : tensor<8x16xf32>
  return %w1, %b1, %p : tensor<8x16xf32>, tensor<8x16xf32>, tensor<8x16xf32>
}

// -----

// The corrected gradient has another user (a generic computing it, whose
// result is also returned).
// CHECK-LABEL: func.func @corrected_gradient_used_elsewhere
// CHECK-NOT: cage.update
// CHECK: cage.adamw
#map = affine_map<(d0, d1) -> (d0, d1)>
func.func @corrected_gradient_used_elsewhere(%w: tensor<8x16xf32>, %g: tensor<8x16xf32>, %m: tensor<8x16xf32>, %v: tensor<8x16xf32>, %lr: f32, %l: f32, %t: i64) -> (tensor<8x16xf32>, tensor<8x16xf32>) {
  %e = cage.quant_error %w {quantizer = #cage.quantizer<bits = 4>} : tensor<8x16xf32>
  %init = tensor.empty() : tensor<8x16xf32>
  %gc = linalg.generic {indexing_maps = [#map, #map, #map], iterator_types = ["parallel", "parallel"]} ins(%g, %e : tensor<8x16xf32>, tensor<8x16xf32>) outs(%init : tensor<8x16xf32>) {
  ^bb0(%gi: f32, %ei: f32, %o: f32):
    %p = arith.mulf %l, %ei : f32
    %s = arith.addf %gi, %p : f32
    linalg.yield %s : f32
  } -> tensor<8x16xf32>
  %w1, %m1, %v1 = cage.adamw %w, %gc, %m, %v, %lr, %t : tensor<8x16xf32>
  return %w1, %gc : tensor<8x16xf32>, tensor<8x16xf32>
}

// -----

// A generic that yields the corrected gradient and, as a second result used
// elsewhere, the scaled error.
// CHECK-LABEL: func.func @generic_second_result_used
// CHECK-NOT: cage.update
// CHECK: cage.sgd
#map = affine_map<(d0, d1) -> (d0, d1)>
func.func @generic_second_result_used(%w: tensor<8x16xf32>, %g: tensor<8x16xf32>, %b: tensor<8x16xf32>, %lr: f32, %l: f32) -> (tensor<8x16xf32>, tensor<8x16xf32>) {
  %e = cage.quant_error %w {quantizer = #cage.quantizer<bits = 4>} : tensor<8x16xf32>
  %init = tensor.empty() : tensor<8x16xf32>
  %gc, %ps = linalg.generic {indexing_maps = [#map, #map, #map, #map], iterator_types = ["parallel", "parallel"]} ins(%g, %e : tensor<8x16xf32>, tensor<8x16xf32>) outs(%init, %init : tensor<8x16xf32>, tensor<8x16xf32>) {
  ^bb0(%gi: f32, %ei: f32, %o: f32, %o2: f32):
    %p = arith.mulf %l, %ei : f32
    %s = arith.addf %gi, %p : f32
    linalg.yield %s, %p : f32, f32
  } -> (tensor<8x16xf32>, tensor<8x16xf32>)
  %w1, %b1 = cage.sgd %w, %gc, %b, %lr : tensor<8x16xf32>
  return %w1, %ps : tensor<8x16xf32>, tensor<8x16xf32>
}

// -----

// Decoupled: the optimizer's new w is also returned.
// CHECK-LABEL: func.func @new_w_used_elsewhere
// CHECK-NOT: cage.update
// CHECK: cage.sgd
func.func @new_w_used_elsewhere(%w: tensor<8x16xf32>, %g: tensor<8x16xf32>, %b: tensor<8x16xf32>, %lr: f32, %l: f32) -> (tensor<8x16xf32>, tensor<8x16xf32>) {
  %e = cage.quant_error %w {quantizer = #cage.quantizer<bits = 4>} : tensor<8x16xf32>
  %w1, %b1 = cage.sgd %w, %g, %b, %lr : tensor<8x16xf32>
  %f = arith.mulf %lr, %l : f32
  %fs = tensor.splat %f : tensor<8x16xf32>
  %p = arith.mulf %fs, %e : tensor<8x16xf32>
  %w2 = arith.subf %w1, %p : tensor<8x16xf32>
  return %w2, %w1 : tensor<8x16xf32>, tensor<8x16xf32>
}

// -----

// The error is of another tensor than the optimizer's w.
// CHECK-LABEL: func.func @error_of_other_tensor
// CHECK-NOT: cage.update
// CHECK: cage.sgd
func.func @error_of_other_tensor(%w: tensor<8x16xf32>, %x: tensor<8x16xf32>, %g: tensor<8x16xf32>, %b: tensor<8x16xf32>, %lr: f32, %l: f32) -> (tensor<8x16xf32>, tensor<8x16xf32>) {
  %e = cage.quant_error %x {quantizer = #cage.quantizer<bits = 4>} : tensor<8x16xf32>
  %ls = tensor.splat %l : tensor<8x16xf32>
  %p = arith.mulf %ls, %e : tensor<8x16xf32>
  %gc = arith.addf %g, %p : tensor<8x16xf32>
  %w1, %b1 = cage.sgd %w, %gc, %b, %lr : tensor<8x16xf32>
  return %w1, %b1 : tensor<8x16xf32>, tensor<8x16xf32>
}

// -----

// Types differ: the gradient is tensor<?x16xf32>, w tensor<8x16xf32>. The
// cage.update that fusing would build does not verify; nothing is said.
// CHECK-LABEL: func.func @gradient_type_differs
// CHECK-NOT: cage.update
// CHECK: cage.sgd
#map = affine_map<(d0, d1) -> (d0, d1)>
func.func @gradient_type_differs(%w: tensor<8x16xf32>, %g: tensor<?x16xf32>, %b: tensor<8x16xf32>, %lr: f32, %l: f32) -> (tensor<8x16xf32>, tensor<8x16xf32>) {
  %e = cage.quant_error %w {quantizer = #cage.quantizer<bits = 4>} : tensor<8x16xf32>
  %init = tensor.empty() : tensor<8x16xf32>
  %gc = linalg.generic {indexing_maps = [#map, #map, #map], iterator_types = ["parallel", "parallel"]} ins(%g, %e : tensor<?x16xf32>, tensor<8x16xf32>) outs(%init : tensor<8x16xf32>) {
  ^bb0(%gi: f32, %ei: f32, %o: f32):
    %p = arith.mulf %l, %ei : f32
    %s = arith.addf %gi, %p : f32
    linalg.yield %s : f32
  } -> tensor<8x16xf32>
  %w1, %b1 = cage.sgd %w, %gc, %b, %lr : tensor<8x16xf32>
  return %w1, %b1 : tensor<8x16xf32>, tensor<8x16xf32>
}

// -----

// Types differ: the decoupled result is tensor<?x16xf32>, the new w
// tensor<8x16xf32>.
// CHECK-LABEL: func.func @result_type_differs
// CHECK-NOT: cage.update
// CHECK: cage.sgd
#map = affine_map<(d0, d1) -> (d0, d1)>
func.func @result_type_differs(%w: tensor<8x16xf32>, %g: tensor<8x16xf32>, %b: tensor<8x16xf32>, %lr: f32, %l: f32, %n: index) -> (tensor<?x16xf32>, tensor<8x16xf32>) {
  %e = cage.quant_error %w {quantizer = #cage.quantizer<bits = 4>} : tensor<8x16xf32>
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

// Wrong sign, coupled: g − λ·e.
// CHECK-LABEL: func.func @coupled_wrong_sign
// CHECK-NOT: cage.update
// CHECK: cage.sgd
func.func @coupled_wrong_sign(%w: tensor<8x16xf32>, %g: tensor<8x16xf32>, %b: tensor<8x16xf32>, %lr: f32, %l: f32) -> (tensor<8x16xf32>, tensor<8x16xf32>) {
  %e = cage.quant_error %w {quantizer = #cage.quantizer<bits = 4>} : tensor<8x16xf32>
  %ls = tensor.splat %l : tensor<8x16xf32>
  %p = arith.mulf %ls, %e : tensor<8x16xf32>
  %gc = arith.subf %g, %p : tensor<8x16xf32>
  %w1, %b1 = cage.sgd %w, %gc, %b, %lr : tensor<8x16xf32>
  return %w1, %b1 : tensor<8x16xf32>, tensor<8x16xf32>
}

// -----

// Wrong sign, decoupled: w1 + (lr·λ)·e.
// CHECK-LABEL: func.func @decoupled_wrong_sign
// CHECK-NOT: cage.update
// CHECK: cage.sgd
#map = affine_map<(d0, d1) -> (d0, d1)>
func.func @decoupled_wrong_sign(%w: tensor<8x16xf32>, %g: tensor<8x16xf32>, %b: tensor<8x16xf32>, %lr: f32, %l: f32) -> (tensor<8x16xf32>, tensor<8x16xf32>) {
  %e = cage.quant_error %w {quantizer = #cage.quantizer<bits = 4>} : tensor<8x16xf32>
  %w1, %b1 = cage.sgd %w, %g, %b, %lr : tensor<8x16xf32>
  %f = arith.mulf %lr, %l : f32
  %init = tensor.empty() : tensor<8x16xf32>
  %w2 = linalg.generic {indexing_maps = [#map, #map, #map], iterator_types = ["parallel", "parallel"]} ins(%w1, %e : tensor<8x16xf32>, tensor<8x16xf32>) outs(%init : tensor<8x16xf32>) {
  ^bb0(%wi: f32, %ei: f32, %o: f32):
    %p = arith.mulf %f, %ei : f32
    %s = arith.addf %wi, %p : f32
    linalg.yield %s : f32
  } -> tensor<8x16xf32>
  return %w2, %b1 : tensor<8x16xf32>, tensor<8x16xf32>
}

// -----

// The difference the other way round: (lr·λ)·e − w1.
// CHECK-LABEL: func.func @decoupled_operands_swapped
// CHECK-NOT: cage.update
// CHECK: cage.sgd
func.func @decoupled_operands_swapped(%w: tensor<8x16xf32>, %g: tensor<8x16xf32>, %b: tensor<8x16xf32>, %lr: f32, %l: f32) -> (tensor<8x16xf32>, tensor<8x16xf32>) {
  %e = cage.quant_error %w {quantizer = #cage.quantizer<bits = 4>} : tensor<8x16xf32>
  %w1, %b1 = cage.sgd %w, %g, %b, %lr : tensor<8x16xf32>
  %f = arith.mulf %lr, %l : f32
  %fs = tensor.splat %f : tensor<8x16xf32>
  %p = arith.mulf %fs, %e : tensor<8x16xf32>
  %w2 = arith.subf %p, %w1 : tensor<8x16xf32>
  return %w2, %b1 : tensor<8x16xf32>, tensor<8x16xf32>
}

// -----

// Another scalar: the factor is lr2·λ, not the optimizer's lr·λ.
// CHECK-LABEL: func.func @decoupled_other_lr
// CHECK-NOT: cage.update
// CHECK: cage.sgd
func.func @decoupled_other_lr(%w: tensor<8x16xf32>, %g: tensor<8x16xf32>, %b: tensor<8x16xf32>, %lr: f32, %lr2: f32, %l: f32) -> (tensor<8x16xf32>, tensor<8x16xf32>) {
  %e = cage.quant_error %w {quantizer = #cage.quantizer<bits = 4>} : tensor<8x16xf32>
  %w1, %b1 = cage.sgd %w, %g, %b, %lr : tensor<8x16xf32>
  %f = arith.mulf %lr2, %l : f32
  %fs = tensor.splat %f : tensor<8x16xf32>
  %p = arith.mulf %fs, %e : tensor<8x16xf32>
  %w2 = arith.subf %w1, %p : tensor<8x16xf32>
  return %w2, %b1 : tensor<8x16xf32>, tensor<8x16xf32>
}

// -----

// Another scalar: the factor is a precomputed argument, which may or may not
// be lr·λ.
// CHECK-LABEL: func.func @decoupled_opaque_factor
// CHECK-NOT: cage.update
// CHECK: cage.sgd
func.func @decoupled_opaque_factor(%w: tensor<8x16xf32>, %g: tensor<8x16xf32>, %b: tensor<8x16xf32>, %lr: f32, %f: f32) -> (tensor<8x16xf32>, tensor<8x16xf32>) {
  %e = cage.quant_error %w {quantizer = #cage.quantizer<bits = 4>} : tensor<8x16xf32>
  %w1, %b1 = cage.sgd %w, %g, %b, %lr : tensor<8x16xf32>
  %fs = tensor.splat %f : tensor<8x16xf32>
  %p = arith.mulf %fs, %e : tensor<8x16xf32>
  %w2 = arith.subf %w1, %p : tensor<8x16xf32>
  return %w2, %b1 : tensor<8x16xf32>, tensor<8x16xf32>
}

// -----

// Reassociated: w1 − lr·(λ·e) rounds differently from w1 − (lr·λ)·e.
// CHECK-LABEL: func.func @decoupled_reassociated_lr_first
// CHECK-NOT: cage.update
// CHECK: cage.adamw
#map = affine_map<(d0, d1) -> (d0, d1)>
func.func @decoupled_reassociated_lr_first(%w: tensor<8x16xf32>, %g: tensor<8x16xf32>, %m: tensor<8x16xf32>, %v: tensor<8x16xf32>, %lr: f32, %l: f32, %t: i64) -> (tensor<8x16xf32>, tensor<8x16xf32>, tensor<8x16xf32>) {
  %e = cage.quant_error %w {quantizer = #cage.quantizer<bits = 4>} : tensor<8x16xf32>
  %w1, %m1, %v1 = cage.adamw %w, %g, %m, %v, %lr, %t : tensor<8x16xf32>
  %init = tensor.empty() : tensor<8x16xf32>
  %w2 = linalg.generic {indexing_maps = [#map, #map, #map], iterator_types = ["parallel", "parallel"]} ins(%w1, %e : tensor<8x16xf32>, tensor<8x16xf32>) outs(%init : tensor<8x16xf32>) {
  ^bb0(%wi: f32, %ei: f32, %o: f32):
    %le = arith.mulf %l, %ei : f32
    %p = arith.mulf %lr, %le : f32
    %s = arith.subf %wi, %p : f32
    linalg.yield %s : f32
  } -> tensor<8x16xf32>
  return %w2, %m1, %v1 : tensor<8x16xf32>, tensor<8x16xf32>, tensor<8x16xf32>
}

// -----

// Reassociated: w1 − (lr·e)·λ.
// CHECK-LABEL: func.func @decoupled_reassociated_lambda_last
// CHECK-NOT: cage.update
// CHECK: cage.adamw
func.func @decoupled_reassociated_lambda_last(%w: tensor<8x16xf32>, %g: tensor<8x16xf32>, %m: tensor<8x16xf32>, %v: tensor<8x16xf32>, %lr: f32, %l: f32, %t: i64) -> (tensor<8x16xf32>, tensor<8x16xf32>, tensor<8x16xf32>) {
  %e = cage.quant_error %w {quantizer = #cage.quantizer<bits = 4>} : tensor<8x16xf32>
  %w1, %m1, %v1 = cage.adamw %w, %g, %m, %v, %lr, %t : tensor<8x16xf32>
  %lrs = tensor.splat %lr : tensor<8x16xf32>
  %ls = tensor.splat %l : tensor<8x16xf32>
  %lre = arith.mulf %lrs, %e : tensor<8x16xf32>
  %p = arith.mulf %lre, %ls : tensor<8x16xf32>
  %w2 = arith.subf %w1, %p : tensor<8x16xf32>
  return %w2, %m1, %v1 : tensor<8x16xf32>, tensor<8x16xf32>, tensor<8x16xf32>
}

// -----

// Coupled, reassociated: (g + λ·e) where λ·e is computed as (λ·e)·0.5.
// CHECK-LABEL: func.func @coupled_scaled_twice
// CHECK-NOT: cage.update
// CHECK: cage.sgd
func.func @coupled_scaled_twice(%w: tensor<8x16xf32>, %g: tensor<8x16xf32>, %b: tensor<8x16xf32>, %lr: f32, %l: f32) -> (tensor<8x16xf32>, tensor<8x16xf32>) {
  %e = cage.quant_error %w {quantizer = #cage.quantizer<bits = 4>} : tensor<8x16xf32>
  %half = arith.constant dense<0.5> : tensor<8x16xf32>
  %ls = tensor.splat %l : tensor<8x16xf32>
  %p = arith.mulf %ls, %e : tensor<8x16xf32>
  %q = arith.mulf %p, %half : tensor<8x16xf32>
  %gc = arith.addf %g, %q : tensor<8x16xf32>
  %w1, %b1 = cage.sgd %w, %gc, %b, %lr : tensor<8x16xf32>
  return %w1, %b1 : tensor<8x16xf32>, tensor<8x16xf32>
}

// -----

// λ is not one scalar: a tensor of per-element factors.
// CHECK-LABEL: func.func @lambda_not_uniform
// CHECK-NOT: cage.update
// CHECK: cage.sgd
func.func @lambda_not_uniform(%w: tensor<8x16xf32>, %g: tensor<8x16xf32>, %b: tensor<8x16xf32>, %lr: f32, %ls: tensor<8x16xf32>) -> (tensor<8x16xf32>, tensor<8x16xf32>) {
  %e = cage.quant_error %w {quantizer = #cage.quantizer<bits = 4>} : tensor<8x16xf32>
  %p = arith.mulf %ls, %e : tensor<8x16xf32>
  %gc = arith.addf %g, %p : tensor<8x16xf32>
  %w1, %b1 = cage.sgd %w, %gc, %b, %lr : tensor<8x16xf32>
  return %w1, %b1 : tensor<8x16xf32>, tensor<8x16xf32>
}

// -----

// Not element-wise: the error read transposed.
// CHECK-LABEL: func.func @transposed_map
// CHECK-NOT: cage.update
// CHECK: linalg.generic
// CHECK: cage.sgd
#map = affine_map<(d0, d1) -> (d0, d1)>
#transposed = affine_map<(d0, d1) -> (d1, d0)>
func.func @transposed_map(%w: tensor<16x16xf32>, %g: tensor<16x16xf32>, %b: tensor<16x16xf32>, %lr: f32, %l: f32) -> (tensor<16x16xf32>, tensor<16x16xf32>) {
  %e = cage.quant_error %w {quantizer = #cage.quantizer<bits = 4>} : tensor<16x16xf32>
  %init = tensor.empty() : tensor<16x16xf32>
  %gc = linalg.generic {indexing_maps = [#map, #transposed, #map], iterator_types = ["parallel", "parallel"]} ins(%g, %e : tensor<16x16xf32>, tensor<16x16xf32>) outs(%init : tensor<16x16xf32>) {
  ^bb0(%gi: f32, %ei: f32, %o: f32):
    %p = arith.mulf %l, %ei : f32
    %s = arith.addf %gi, %p : f32
    linalg.yield %s : f32
  } -> tensor<16x16xf32>
  %w1, %b1 = cage.sgd %w, %gc, %b, %lr : tensor<16x16xf32>
  return %w1, %b1 : tensor<16x16xf32>, tensor<16x16xf32>
}

// -----

// Not element-wise: a reduction generic (the correction summed into the
// output it starts from).
// CHECK-LABEL: func.func @reduction_generic
// CHECK-NOT: cage.update
// CHECK: linalg.generic
// CHECK: cage.sgd
#map = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#out = affine_map<(d0, d1, d2) -> (d0, d1)>
func.func @reduction_generic(%w: tensor<8x16xf32>, %g: tensor<8x16xf32>, %b: tensor<8x16xf32>, %lr: f32, %l: f32, %e3: tensor<8x16x1xf32>) -> (tensor<8x16xf32>, tensor<8x16xf32>) {
  %e = cage.quant_error %w {quantizer = #cage.quantizer<bits = 4>} : tensor<8x16xf32>
  %ex = tensor.expand_shape %e [[0], [1, 2]] output_shape [8, 16, 1] : tensor<8x16xf32> into tensor<8x16x1xf32>
  %gc = linalg.generic {indexing_maps = [#map, #out], iterator_types = ["parallel", "parallel", "reduction"]} ins(%ex : tensor<8x16x1xf32>) outs(%g : tensor<8x16xf32>) {
  ^bb0(%ei: f32, %gi: f32):
    %p = arith.mulf %l, %ei : f32
    %s = arith.addf %gi, %p : f32
    linalg.yield %s : f32
  } -> tensor<8x16xf32>
  %w1, %b1 = cage.sgd %w, %gc, %b, %lr : tensor<8x16xf32>
  return %w1, %b1 : tensor<8x16xf32>, tensor<8x16xf32>
}

// -----

// A body with more than the correction (e clamped first).
// CHECK-LABEL: func.func @body_does_more
// CHECK-NOT: cage.update
// CHECK: cage.sgd
#map = affine_map<(d0, d1) -> (d0, d1)>
func.func @body_does_more(%w: tensor<8x16xf32>, %g: tensor<8x16xf32>, %b: tensor<8x16xf32>, %lr: f32, %l: f32) -> (tensor<8x16xf32>, tensor<8x16xf32>) {
  %e = cage.quant_error %w {quantizer = #cage.quantizer<bits = 4>} : tensor<8x16xf32>
  %zero = arith.constant 0.0 : f32
  %init = tensor.empty() : tensor<8x16xf32>
  %gc = linalg.generic {indexing_maps = [#map, #map, #map], iterator_types = ["parallel", "parallel"]} ins(%g, %e : tensor<8x16xf32>, tensor<8x16xf32>) outs(%init : tensor<8x16xf32>) {
  ^bb0(%gi: f32, %ei: f32, %o: f32):
    %c = arith.maximumf %ei, %zero : f32
    %p = arith.mulf %l, %c : f32
    %s = arith.addf %gi, %p : f32
    linalg.yield %s : f32
  } -> tensor<8x16xf32>
  %w1, %b1 = cage.sgd %w, %gc, %b, %lr : tensor<8x16xf32>
  return %w1, %b1 : tensor<8x16xf32>, tensor<8x16xf32>
}

// -----

//===----------------------------------------------------------------------===//
// Not fused: the select on λ_t of the old contract. cage.update applies the
// correction for λ_t = 0 too (g + 0·e, w1 − (lr·0)·e: −0 and non-finite e
// differ from g and w1), so a step that skips it there is another step.
//===----------------------------------------------------------------------===//

// Coupled, select(λ == 0, g, g + λ·e) on tensors.
// CHECK-LABEL: func.func @coupled_select_oeq
// CHECK-NOT: cage.update
// CHECK: cage.quant_error
// CHECK: arith.select
// CHECK: cage.sgd
// CHECK-NOT: cage.update
func.func @coupled_select_oeq(%w: tensor<8x16xf32>, %g: tensor<8x16xf32>, %b: tensor<8x16xf32>, %lr: f32, %l: f32) -> (tensor<8x16xf32>, tensor<8x16xf32>) {
  %e = cage.quant_error %w {quantizer = #cage.quantizer<bits = 4>} : tensor<8x16xf32>
  %zero = arith.constant 0.0 : f32
  %isz = arith.cmpf oeq, %l, %zero : f32
  %ls = tensor.splat %l : tensor<8x16xf32>
  %p = arith.mulf %ls, %e : tensor<8x16xf32>
  %s = arith.addf %g, %p : tensor<8x16xf32>
  %gc = arith.select %isz, %g, %s : tensor<8x16xf32>
  %w1, %b1 = cage.sgd %w, %gc, %b, %lr : tensor<8x16xf32>
  return %w1, %b1 : tensor<8x16xf32>, tensor<8x16xf32>
}

// -----

// Coupled, select(λ != 0, g + λ·e, g) in a generic body, λ from a schedule.
// CHECK-LABEL: func.func @coupled_adamw_generic_select_une
// CHECK-NOT: cage.update
// CHECK: cage.quant_error
// CHECK: arith.cmpf une
// CHECK: linalg.generic
// CHECK: arith.select
// CHECK: cage.adamw
// CHECK-NOT: cage.update
#map = affine_map<(d0, d1) -> (d0, d1)>
func.func @coupled_adamw_generic_select_une(%w: tensor<8x16xf32>, %g: tensor<8x16xf32>, %m: tensor<8x16xf32>, %v: tensor<8x16xf32>, %lr: f32, %t: i64, %T: i64) -> (tensor<8x16xf32>, tensor<8x16xf32>, tensor<8x16xf32>) {
  %l = cage.lambda_schedule %t, %T
  %e = cage.quant_error %w {quantizer = #cage.quantizer<bits = 4>} : tensor<8x16xf32>
  %zero = arith.constant 0.0 : f32
  %nz = arith.cmpf une, %l, %zero : f32
  %init = tensor.empty() : tensor<8x16xf32>
  %gc = linalg.generic {indexing_maps = [#map, #map, #map], iterator_types = ["parallel", "parallel"]} ins(%g, %e : tensor<8x16xf32>, tensor<8x16xf32>) outs(%init : tensor<8x16xf32>) {
  ^bb0(%gi: f32, %ei: f32, %o: f32):
    %p = arith.mulf %l, %ei : f32
    %s = arith.addf %gi, %p : f32
    %r = arith.select %nz, %s, %gi : f32
    linalg.yield %r : f32
  } -> tensor<8x16xf32>
  %w1, %m1, %v1 = cage.adamw %w, %gc, %m, %v, %lr, %t : tensor<8x16xf32>
  return %w1, %m1, %v1 : tensor<8x16xf32>, tensor<8x16xf32>, tensor<8x16xf32>
}

// -----

// Decoupled, select(λ == 0, w1, w1 − (lr·λ)·e) in a generic body.
// CHECK-LABEL: func.func @decoupled_generic_select_oeq
// CHECK-NOT: cage.update
// CHECK: cage.sgd
// CHECK: linalg.generic
// CHECK: arith.select
// CHECK-NOT: cage.update
#map = affine_map<(d0, d1) -> (d0, d1)>
func.func @decoupled_generic_select_oeq(%w: tensor<8x16xf32>, %g: tensor<8x16xf32>, %b: tensor<8x16xf32>, %lr: f32, %l: f32) -> (tensor<8x16xf32>, tensor<8x16xf32>) {
  %e = cage.quant_error %w {quantizer = #cage.quantizer<bits = 4>} : tensor<8x16xf32>
  %w1, %b1 = cage.sgd %w, %g, %b, %lr : tensor<8x16xf32>
  %zero = arith.constant 0.0 : f32
  %isz = arith.cmpf oeq, %l, %zero : f32
  %f = arith.mulf %lr, %l : f32
  %init = tensor.empty() : tensor<8x16xf32>
  %w2 = linalg.generic {indexing_maps = [#map, #map, #map], iterator_types = ["parallel", "parallel"]} ins(%w1, %e : tensor<8x16xf32>, tensor<8x16xf32>) outs(%init : tensor<8x16xf32>) {
  ^bb0(%wi: f32, %ei: f32, %o: f32):
    %p = arith.mulf %f, %ei : f32
    %s = arith.subf %wi, %p : f32
    %r = arith.select %isz, %wi, %s : f32
    linalg.yield %r : f32
  } -> tensor<8x16xf32>
  return %w2, %b1 : tensor<8x16xf32>, tensor<8x16xf32>
}

// -----

// Decoupled, select(λ != 0, w1 − (lr·λ)·e, w1) on tensors: w1 − (lr·λ)·e
// alone would match, but the select still reads w1, so nothing is fused.
// CHECK-LABEL: func.func @decoupled_adamw_select_une
// CHECK-NOT: cage.update
// CHECK: cage.adamw
// CHECK: arith.subf
// CHECK: arith.select
// CHECK-NOT: cage.update
func.func @decoupled_adamw_select_une(%w: tensor<8x16xf32>, %g: tensor<8x16xf32>, %m: tensor<8x16xf32>, %v: tensor<8x16xf32>, %lr: f32, %l: f32, %t: i64) -> (tensor<8x16xf32>, tensor<8x16xf32>, tensor<8x16xf32>) {
  %w1, %m1, %v1 = cage.adamw %w, %g, %m, %v, %lr, %t : tensor<8x16xf32>
  %e = cage.quant_error %w {quantizer = #cage.quantizer<bits = 4>} : tensor<8x16xf32>
  %f = arith.mulf %lr, %l : f32
  %fs = tensor.splat %f : tensor<8x16xf32>
  %p = arith.mulf %fs, %e : tensor<8x16xf32>
  %s = arith.subf %w1, %p : tensor<8x16xf32>
  %zero = arith.constant 0.0 : f32
  %nz = arith.cmpf une, %l, %zero : f32
  %w2 = arith.select %nz, %s, %w1 : tensor<8x16xf32>
  return %w2, %m1, %v1 : tensor<8x16xf32>, tensor<8x16xf32>, tensor<8x16xf32>
}

// -----

// Decoupled, the select as linalg.select with a condition broadcast by
// tensor.splat, as the old lowering wrote it.
// CHECK-LABEL: func.func @decoupled_named_select_oeq
// CHECK-NOT: cage.update
// CHECK: cage.sgd
// CHECK: linalg.select
// CHECK-NOT: cage.update
func.func @decoupled_named_select_oeq(%w: tensor<8x16xf32>, %g: tensor<8x16xf32>, %b: tensor<8x16xf32>, %lr: f32, %t: i64, %T: i64) -> (tensor<8x16xf32>, tensor<8x16xf32>) {
  %l = cage.lambda_schedule %t, %T
  %w1, %b1 = cage.sgd %w, %g, %b, %lr : tensor<8x16xf32>
  %e = cage.quant_error %w {quantizer = #cage.quantizer<bits = 4>} : tensor<8x16xf32>
  %empty = tensor.empty() : tensor<8x16xf32>
  %f = arith.mulf %lr, %l : f32
  %fs = tensor.splat %f : tensor<8x16xf32>
  %p = linalg.mul ins(%e, %fs : tensor<8x16xf32>, tensor<8x16xf32>) outs(%empty : tensor<8x16xf32>) -> tensor<8x16xf32>
  %s = linalg.sub ins(%w1, %p : tensor<8x16xf32>, tensor<8x16xf32>) outs(%empty : tensor<8x16xf32>) -> tensor<8x16xf32>
  %zero = arith.constant 0.0 : f32
  %isz = arith.cmpf oeq, %l, %zero : f32
  %c = tensor.splat %isz : tensor<8x16xi1>
  %w2 = linalg.select ins(%c, %w1, %s : tensor<8x16xi1>, tensor<8x16xf32>, tensor<8x16xf32>) outs(%empty : tensor<8x16xf32>) -> tensor<8x16xf32>
  return %w2, %b1 : tensor<8x16xf32>, tensor<8x16xf32>
}

// -----

// Nor any other select around the correction: the arms swapped (the
// correction where λ = 0) ...
// CHECK-LABEL: func.func @select_arms_swapped
// CHECK-NOT: cage.update
// CHECK: arith.select
// CHECK: cage.sgd
func.func @select_arms_swapped(%w: tensor<8x16xf32>, %g: tensor<8x16xf32>, %b: tensor<8x16xf32>, %lr: f32, %l: f32) -> (tensor<8x16xf32>, tensor<8x16xf32>) {
  %e = cage.quant_error %w {quantizer = #cage.quantizer<bits = 4>} : tensor<8x16xf32>
  %zero = arith.constant 0.0 : f32
  %isz = arith.cmpf oeq, %l, %zero : f32
  %ls = tensor.splat %l : tensor<8x16xf32>
  %p = arith.mulf %ls, %e : tensor<8x16xf32>
  %s = arith.addf %g, %p : tensor<8x16xf32>
  %gc = arith.select %isz, %s, %g : tensor<8x16xf32>
  %w1, %b1 = cage.sgd %w, %gc, %b, %lr : tensor<8x16xf32>
  return %w1, %b1 : tensor<8x16xf32>, tensor<8x16xf32>
}

// -----

// ... the other arm another value than the one corrected ...
// CHECK-LABEL: func.func @select_other_value
// CHECK-NOT: cage.update
// CHECK: arith.select
// CHECK: cage.sgd
func.func @select_other_value(%w: tensor<8x16xf32>, %g: tensor<8x16xf32>, %g2: tensor<8x16xf32>, %b: tensor<8x16xf32>, %lr: f32, %l: f32) -> (tensor<8x16xf32>, tensor<8x16xf32>) {
  %e = cage.quant_error %w {quantizer = #cage.quantizer<bits = 4>} : tensor<8x16xf32>
  %zero = arith.constant 0.0 : f32
  %isz = arith.cmpf oeq, %l, %zero : f32
  %ls = tensor.splat %l : tensor<8x16xf32>
  %p = arith.mulf %ls, %e : tensor<8x16xf32>
  %s = arith.addf %g, %p : tensor<8x16xf32>
  %gc = arith.select %isz, %g2, %s : tensor<8x16xf32>
  %w1, %b1 = cage.sgd %w, %gc, %b, %lr : tensor<8x16xf32>
  return %w1, %b1 : tensor<8x16xf32>, tensor<8x16xf32>
}

// -----

// ... or other tests of λ: ueq (true for a NaN λ), one (false for one), a
// comparison with 1, ole.
// CHECK-LABEL: func.func @other_tests
// CHECK-NOT: cage.update
// CHECK-COUNT-4: cage.sgd
// CHECK-NOT: cage.update
func.func @other_tests(%w: tensor<8x16xf32>, %g: tensor<8x16xf32>, %b: tensor<8x16xf32>, %lr: f32, %l: f32) -> (tensor<8x16xf32>, tensor<8x16xf32>, tensor<8x16xf32>, tensor<8x16xf32>) {
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  %ueq = arith.cmpf ueq, %l, %zero : f32
  %one_ne = arith.cmpf one, %l, %zero : f32
  %is1 = arith.cmpf oeq, %l, %one : f32
  %ole = arith.cmpf ole, %l, %zero : f32
  %ls = tensor.splat %l : tensor<8x16xf32>
  %e1 = cage.quant_error %w {quantizer = #cage.quantizer<bits = 4>} : tensor<8x16xf32>
  %p1 = arith.mulf %ls, %e1 : tensor<8x16xf32>
  %s1 = arith.addf %g, %p1 : tensor<8x16xf32>
  %gc1 = arith.select %ueq, %g, %s1 : tensor<8x16xf32>
  %w1, %b1 = cage.sgd %w, %gc1, %b, %lr : tensor<8x16xf32>
  %e2 = cage.quant_error %w1 {quantizer = #cage.quantizer<bits = 4>} : tensor<8x16xf32>
  %p2 = arith.mulf %ls, %e2 : tensor<8x16xf32>
  %s2 = arith.addf %g, %p2 : tensor<8x16xf32>
  %gc2 = arith.select %one_ne, %s2, %g : tensor<8x16xf32>
  %w2, %b2 = cage.sgd %w1, %gc2, %b1, %lr : tensor<8x16xf32>
  %e3 = cage.quant_error %w2 {quantizer = #cage.quantizer<bits = 4>} : tensor<8x16xf32>
  %p3 = arith.mulf %ls, %e3 : tensor<8x16xf32>
  %s3 = arith.addf %g, %p3 : tensor<8x16xf32>
  %gc3 = arith.select %is1, %g, %s3 : tensor<8x16xf32>
  %w3, %b3 = cage.sgd %w2, %gc3, %b2, %lr : tensor<8x16xf32>
  %e4 = cage.quant_error %w3 {quantizer = #cage.quantizer<bits = 4>} : tensor<8x16xf32>
  %p4 = arith.mulf %ls, %e4 : tensor<8x16xf32>
  %s4 = arith.addf %g, %p4 : tensor<8x16xf32>
  %gc4 = arith.select %ole, %g, %s4 : tensor<8x16xf32>
  %w4, %b4 = cage.sgd %w3, %gc4, %b3, %lr : tensor<8x16xf32>
  return %w1, %w2, %w3, %w4 : tensor<8x16xf32>, tensor<8x16xf32>, tensor<8x16xf32>, tensor<8x16xf32>
}

// -----

//===----------------------------------------------------------------------===//
// More spellings that are fused.
//===----------------------------------------------------------------------===//

// Coupled SGD in named ops, λ a constant broadcast by linalg.fill.
// CHECK-LABEL: func.func @coupled_sgd_named_constant
// CHECK-NEXT: %[[L:.*]] = arith.constant 1.250000e+00 : f32
// CHECK-NEXT: %{{.*}}, %{{.*}} = cage.update %arg0, %arg1, %arg2, %arg3, %[[L]] {quantizer = #cage.quantizer<bits = 5>, optimizer = #cage.sgd<weight_decay = 0.1>, coupling = coupled} : tensor<8x16xf32>
// CHECK-NEXT: return
func.func @coupled_sgd_named_constant(%w: tensor<8x16xf32>, %g: tensor<8x16xf32>, %b: tensor<8x16xf32>, %lr: f32) -> (tensor<8x16xf32>, tensor<8x16xf32>) {
  %l = arith.constant 1.25 : f32
  %e = cage.quant_error %w {quantizer = #cage.quantizer<bits = 5>} : tensor<8x16xf32>
  %empty = tensor.empty() : tensor<8x16xf32>
  %ls = linalg.fill ins(%l : f32) outs(%empty : tensor<8x16xf32>) -> tensor<8x16xf32>
  %p = linalg.mul ins(%e, %ls : tensor<8x16xf32>, tensor<8x16xf32>) outs(%empty : tensor<8x16xf32>) -> tensor<8x16xf32>
  %gc = linalg.add ins(%p, %g : tensor<8x16xf32>, tensor<8x16xf32>) outs(%empty : tensor<8x16xf32>) -> tensor<8x16xf32>
  %w1, %b1 = cage.sgd %w, %gc, %b, %lr {weight_decay = 0.1 : f32} : tensor<8x16xf32>
  return %w1, %b1 : tensor<8x16xf32>, tensor<8x16xf32>
}

// -----

// Decoupled AdamW in arith on tensors, λ an argument, the factor lr·λ
// computed on splat tensors.
// CHECK-LABEL: func.func @decoupled_adamw_arith_argument
// CHECK-NEXT: %{{.*}}, %{{.*}}:2 = cage.update %arg0, %arg1, %arg2, %arg3, %arg4, %arg5, %arg6 {quantizer = #cage.quantizer<>, optimizer = #cage.adamw<beta2 = 0.999>} : tensor<8x16xf32>
// CHECK-NEXT: return
func.func @decoupled_adamw_arith_argument(%w: tensor<8x16xf32>, %g: tensor<8x16xf32>, %m: tensor<8x16xf32>, %v: tensor<8x16xf32>, %lr: f32, %l: f32, %t: i64) -> (tensor<8x16xf32>, tensor<8x16xf32>, tensor<8x16xf32>) {
  %w1, %m1, %v1 = cage.adamw %w, %g, %m, %v, %lr, %t {beta2 = 0.999 : f32} : tensor<8x16xf32>
  %e = cage.quant_error %w {quantizer = #cage.quantizer<bits = 4>} : tensor<8x16xf32>
  %lrs = tensor.splat %lr : tensor<8x16xf32>
  %ls = tensor.splat %l : tensor<8x16xf32>
  %fs = arith.mulf %lrs, %ls : tensor<8x16xf32>
  %p = arith.mulf %fs, %e : tensor<8x16xf32>
  %w2 = arith.subf %w1, %p : tensor<8x16xf32>
  return %w2, %m1, %v1 : tensor<8x16xf32>, tensor<8x16xf32>, tensor<8x16xf32>
}
