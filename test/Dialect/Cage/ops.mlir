// RUN: cage-opt %s | cage-opt | FileCheck %s
// RUN: cage-opt %s --mlir-print-op-generic | cage-opt | FileCheck %s
// RUN: cage-opt %s --mlir-print-op-generic | FileCheck %s --check-prefix=GENERIC

// Every op and every attribute parameter round-trips: custom form to custom
// form, and through the generic form. Parsers accept every parameter spelled
// out, defaults included, in any order; printers omit defaults and print f32
// values with the fewest digits that read back the same (`0.9`, `1.0e-08`).

//===----------------------------------------------------------------------===//
// The syntax examples of the dialect contract (the op forms users write),
// verbatim, one function each.
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @design_quantize_row(
// CHECK-SAME:    %[[X:[^:]+]]: tensor<64x128xf32>
// CHECK:         cage.quantize %[[X]] {quantizer = #cage.quantizer<>} : tensor<64x128xf32>
// GENERIC-LABEL: sym_name = "design_quantize_row"
// GENERIC:         "cage.quantize"(%{{.*}}) <{operandSegmentSizes = array<i32: 1, 0, 0>, quantizer = #cage.quantizer<>}> : (tensor<64x128xf32>) -> tensor<64x128xf32>
func.func @design_quantize_row(%x: tensor<64x128xf32>) -> tensor<64x128xf32> {
  %q  = cage.quantize %x {quantizer = #cage.quantizer<bits = 4, granularity = row>} : tensor<64x128xf32>
  return %q : tensor<64x128xf32>
}

// CHECK-LABEL: func.func @design_quantize_stochastic(
// CHECK-SAME:    %[[X:[^:]+]]: tensor<64x128xf32>, %[[S:[^:]+]]: i64
// CHECK:         cage.quantize %[[X]] seed(%[[S]]) {quantizer = #cage.quantizer<rounding = stochastic>} : tensor<64x128xf32>
// GENERIC-LABEL: sym_name = "design_quantize_stochastic"
// GENERIC:         "cage.quantize"(%{{.*}}, %{{.*}}) <{operandSegmentSizes = array<i32: 1, 1, 0>, quantizer = #cage.quantizer<rounding = stochastic>}> : (tensor<64x128xf32>, i64) -> tensor<64x128xf32>
func.func @design_quantize_stochastic(%x: tensor<64x128xf32>, %s: i64) -> tensor<64x128xf32> {
  %q  = cage.quantize %x seed(%s) {quantizer = #cage.quantizer<bits = 4, rounding = stochastic>} : tensor<64x128xf32>
  return %q : tensor<64x128xf32>
}

// CHECK-LABEL: func.func @design_quantize_scale_row(
// CHECK-SAME:    %[[X:[^:]+]]: tensor<64x128xf32>, %[[A:[^:]+]]: tensor<64xf32>
// CHECK:         cage.quantize %[[X]] scale(%[[A]]) {quantizer = #cage.quantizer<scale = operand>} : tensor<64x128xf32>, tensor<64xf32>
// GENERIC-LABEL: sym_name = "design_quantize_scale_row"
// GENERIC:         "cage.quantize"(%{{.*}}, %{{.*}}) <{operandSegmentSizes = array<i32: 1, 0, 1>, quantizer = #cage.quantizer<scale = operand>}> : (tensor<64x128xf32>, tensor<64xf32>) -> tensor<64x128xf32>
func.func @design_quantize_scale_row(%x: tensor<64x128xf32>, %a: tensor<64xf32>) -> tensor<64x128xf32> {
  %q  = cage.quantize %x scale(%a) {quantizer = #cage.quantizer<bits = 4, scale = operand>} : tensor<64x128xf32>, tensor<64xf32>
  return %q : tensor<64x128xf32>
}

// CHECK-LABEL: func.func @design_quantize_scale_group(
// CHECK-SAME:    %[[X:[^:]+]]: tensor<64x256xf32>, %[[A:[^:]+]]: tensor<64x2xf32>
// CHECK:         cage.quantize %[[X]] scale(%[[A]]) {quantizer = #cage.quantizer<granularity = group, scale = operand>} : tensor<64x256xf32>, tensor<64x2xf32>
func.func @design_quantize_scale_group(%x: tensor<64x256xf32>, %a: tensor<64x2xf32>) -> tensor<64x256xf32> {
  %q  = cage.quantize %x scale(%a) {quantizer = #cage.quantizer<bits = 4, granularity = group, group_size = 128, scale = operand>} : tensor<64x256xf32>, tensor<64x2xf32>
  return %q : tensor<64x256xf32>
}

// CHECK-LABEL: func.func @design_ste_clipped(
// CHECK-SAME:    %[[DY:[^:]+]]: tensor<64x128xf32>, %[[X:[^:]+]]: tensor<64x128xf32>
// CHECK:         cage.ste %[[DY]], %[[X]] {quantizer = #cage.quantizer<>, estimator = clipped} : tensor<64x128xf32>
// GENERIC-LABEL: sym_name = "design_ste_clipped"
// GENERIC:         "cage.ste"(%{{.*}}, %{{.*}}) <{estimator = #cage.estimator<clipped>, quantizer = #cage.quantizer<>}> : (tensor<64x128xf32>, tensor<64x128xf32>) -> tensor<64x128xf32>
func.func @design_ste_clipped(%dy: tensor<64x128xf32>, %x: tensor<64x128xf32>) -> tensor<64x128xf32> {
  %dx = cage.ste %dy, %x {quantizer = #cage.quantizer<bits = 4>, estimator = clipped} : tensor<64x128xf32>
  return %dx : tensor<64x128xf32>
}

// CHECK-LABEL: func.func @design_ste_lsq(
// CHECK-SAME:    %[[DY:[^:]+]]: tensor<64x128xf32>, %[[X:[^:]+]]: tensor<64x128xf32>, %[[A:[^:]+]]: tensor<64xf32>
// CHECK:         %{{.*}}, %{{.*}} = cage.ste %[[DY]], %[[X]] scale(%[[A]]) {quantizer = #cage.quantizer<scale = operand>, estimator = clipped} : tensor<64x128xf32>, tensor<64xf32>
// GENERIC-LABEL: sym_name = "design_ste_lsq"
// GENERIC:         "cage.ste"(%{{.*}}, %{{.*}}, %{{.*}}) <{estimator = #cage.estimator<clipped>, quantizer = #cage.quantizer<scale = operand>}> : (tensor<64x128xf32>, tensor<64x128xf32>, tensor<64xf32>) -> (tensor<64x128xf32>, tensor<64xf32>)
func.func @design_ste_lsq(%dy: tensor<64x128xf32>, %x: tensor<64x128xf32>, %a: tensor<64xf32>) -> (tensor<64x128xf32>, tensor<64xf32>) {
  %dx, %da = cage.ste %dy, %x scale(%a) {quantizer = #cage.quantizer<bits = 4, scale = operand>, estimator = clipped} : tensor<64x128xf32>, tensor<64xf32>
  return %dx, %da : tensor<64x128xf32>, tensor<64xf32>
}

// CHECK-LABEL: func.func @design_quant_error(
// CHECK-SAME:    %[[W:[^:]+]]: tensor<64x128xf32>
// CHECK:         cage.quant_error %[[W]] {quantizer = #cage.quantizer<>} : tensor<64x128xf32>
// GENERIC-LABEL: sym_name = "design_quant_error"
// GENERIC:         "cage.quant_error"(%{{.*}}) <{error = #cage.error<keep>, quantizer = #cage.quantizer<>}> : (tensor<64x128xf32>) -> tensor<64x128xf32>
func.func @design_quant_error(%w: tensor<64x128xf32>) -> tensor<64x128xf32> {
  %e  = cage.quant_error %w {quantizer = #cage.quantizer<bits = 4>} : tensor<64x128xf32>
  return %e : tensor<64x128xf32>
}

// CHECK-LABEL: func.func @design_quant_error_zero_clipped(
// CHECK-SAME:    %[[W:[^:]+]]: tensor<64x128xf32>
// CHECK:         cage.quant_error %[[W]] {quantizer = #cage.quantizer<>, error = zero_clipped} : tensor<64x128xf32>
// GENERIC-LABEL: sym_name = "design_quant_error_zero_clipped"
// GENERIC:         "cage.quant_error"(%{{.*}}) <{error = #cage.error<zero_clipped>, quantizer = #cage.quantizer<>}> : (tensor<64x128xf32>) -> tensor<64x128xf32>
func.func @design_quant_error_zero_clipped(%w: tensor<64x128xf32>) -> tensor<64x128xf32> {
  %e  = cage.quant_error %w {quantizer = #cage.quantizer<bits = 4>, error = zero_clipped} : tensor<64x128xf32>
  return %e : tensor<64x128xf32>
}

// All three attributes are at their defaults: none is printed.
// CHECK-LABEL: func.func @design_lambda_schedule(
// CHECK-SAME:    %[[T:[^:]+]]: i64, %[[TT:[^:]+]]: i64
// CHECK:         %[[L:.*]] = cage.lambda_schedule %[[T]], %[[TT]]{{$}}
// CHECK:         return %[[L]] : f32
// GENERIC-LABEL: sym_name = "design_lambda_schedule"
// GENERIC:         "cage.lambda_schedule"(%{{.*}}, %{{.*}}) <{kind = #cage.schedule_kind<linear_ramp>, lambda = 1.000000e+01 : f32, silence = 8.000000e-01 : f32}> : (i64, i64) -> f32
func.func @design_lambda_schedule(%t: i64, %T: i64) -> f32 {
  %l  = cage.lambda_schedule %t, %T {lambda = 10.0 : f32, silence = 0.8 : f32, kind = linear_ramp}
  return %l : f32
}

// CHECK-LABEL: func.func @design_adamw(
// CHECK-SAME:    %[[W:[^:]+]]: tensor<64x128xf32>, %[[G:[^:]+]]: tensor<64x128xf32>, %[[M:[^:]+]]: tensor<64x128xf32>, %[[V:[^:]+]]: tensor<64x128xf32>, %[[LR:[^:]+]]: f32, %[[T:[^:]+]]: i64
// CHECK:         %{{.*}}, %{{.*}}, %{{.*}} = cage.adamw %[[W]], %[[G]], %[[M]], %[[V]], %[[LR]], %[[T]] : tensor<64x128xf32>
// GENERIC-LABEL: sym_name = "design_adamw"
// GENERIC:         "cage.adamw"(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) <{beta1 = 0.899999976 : f32, beta2 = 0.949999988 : f32, eps = 9.99999993E-9 : f32, weight_decay = 1.000000e-01 : f32}> : (tensor<64x128xf32>, tensor<64x128xf32>, tensor<64x128xf32>, tensor<64x128xf32>, f32, i64) -> (tensor<64x128xf32>, tensor<64x128xf32>, tensor<64x128xf32>)
func.func @design_adamw(%w: tensor<64x128xf32>, %g: tensor<64x128xf32>, %m: tensor<64x128xf32>, %v: tensor<64x128xf32>, %lr: f32, %t: i64) -> (tensor<64x128xf32>, tensor<64x128xf32>, tensor<64x128xf32>) {
  %w1, %m1, %v1 = cage.adamw %w, %g, %m, %v, %lr, %t {beta1 = 0.9 : f32, beta2 = 0.95 : f32, eps = 1.0e-08 : f32, weight_decay = 0.1 : f32} : tensor<64x128xf32>
  return %w1, %m1, %v1 : tensor<64x128xf32>, tensor<64x128xf32>, tensor<64x128xf32>
}

// momentum is the only non-default value.
// CHECK-LABEL: func.func @design_sgd(
// CHECK-SAME:    %[[W:[^:]+]]: tensor<64x128xf32>, %[[G:[^:]+]]: tensor<64x128xf32>, %[[B:[^:]+]]: tensor<64x128xf32>, %[[LR:[^:]+]]: f32
// CHECK:         %{{.*}}, %{{.*}} = cage.sgd %[[W]], %[[G]], %[[B]], %[[LR]] {momentum = 0.9 : f32} : tensor<64x128xf32>
// GENERIC-LABEL: sym_name = "design_sgd"
// GENERIC:         "cage.sgd"(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) <{dampening = 0.000000e+00 : f32, momentum = 0.899999976 : f32, nesterov = false, weight_decay = 0.000000e+00 : f32}> : (tensor<64x128xf32>, tensor<64x128xf32>, tensor<64x128xf32>, f32) -> (tensor<64x128xf32>, tensor<64x128xf32>)
func.func @design_sgd(%w: tensor<64x128xf32>, %g: tensor<64x128xf32>, %b: tensor<64x128xf32>, %lr: f32) -> (tensor<64x128xf32>, tensor<64x128xf32>) {
  %w1, %b1 = cage.sgd %w, %g, %b, %lr {momentum = 0.9 : f32, dampening = 0.0 : f32, nesterov = false, weight_decay = 0.0 : f32} : tensor<64x128xf32>
  return %w1, %b1 : tensor<64x128xf32>, tensor<64x128xf32>
}

// CHECK-LABEL: func.func @design_update_adamw(
// CHECK-SAME:    %[[W:[^:]+]]: tensor<64x128xf32>, %[[G:[^:]+]]: tensor<64x128xf32>, %[[M:[^:]+]]: tensor<64x128xf32>, %[[V:[^:]+]]: tensor<64x128xf32>, %[[LR:[^:]+]]: f32, %[[L:[^:]+]]: f32, %[[T:[^:]+]]: i64
// CHECK:         %[[W1:.*]], %[[S1:.*]]:2 = cage.update %[[W]], %[[G]], %[[M]], %[[V]], %[[LR]], %[[L]], %[[T]] {quantizer = #cage.quantizer<>, optimizer = #cage.adamw<>} : tensor<64x128xf32>
// CHECK:         return %[[W1]], %[[S1]]#0, %[[S1]]#1
// GENERIC-LABEL: sym_name = "design_update_adamw"
// GENERIC:         "cage.update"(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) <{coupling = #cage.coupling<decoupled>, error = #cage.error<keep>, operandSegmentSizes = array<i32: 1, 1, 2, 1, 1, 1, 0>, optimizer = #cage.adamw<>, quantizer = #cage.quantizer<>}> : (tensor<64x128xf32>, tensor<64x128xf32>, tensor<64x128xf32>, tensor<64x128xf32>, f32, f32, i64) -> (tensor<64x128xf32>, tensor<64x128xf32>, tensor<64x128xf32>)
func.func @design_update_adamw(%w: tensor<64x128xf32>, %g: tensor<64x128xf32>, %m: tensor<64x128xf32>, %v: tensor<64x128xf32>, %lr: f32, %l: f32, %t: i64) -> (tensor<64x128xf32>, tensor<64x128xf32>, tensor<64x128xf32>) {
  %w1, %m1, %v1 = cage.update %w, %g, %m, %v, %lr, %l, %t {quantizer = #cage.quantizer<bits = 4>, optimizer = #cage.adamw<beta1 = 0.9, beta2 = 0.95, eps = 1.0e-08, weight_decay = 0.1>, coupling = decoupled} : tensor<64x128xf32>
  return %w1, %m1, %v1 : tensor<64x128xf32>, tensor<64x128xf32>, tensor<64x128xf32>
}

// CHECK-LABEL: func.func @design_update_sgd(
// CHECK-SAME:    %[[W:[^:]+]]: tensor<64x128xf32>, %[[G:[^:]+]]: tensor<64x128xf32>, %[[B:[^:]+]]: tensor<64x128xf32>, %[[LR:[^:]+]]: f32, %[[L:[^:]+]]: f32
// CHECK:         %{{.*}}, %{{.*}} = cage.update %[[W]], %[[G]], %[[B]], %[[LR]], %[[L]] {quantizer = #cage.quantizer<bits = 3>, optimizer = #cage.sgd<momentum = 0.9, nesterov = true>, coupling = coupled, error = zero_clipped} : tensor<64x128xf32>
// GENERIC-LABEL: sym_name = "design_update_sgd"
// GENERIC:         "cage.update"(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) <{coupling = #cage.coupling<coupled>, error = #cage.error<zero_clipped>, operandSegmentSizes = array<i32: 1, 1, 1, 1, 1, 0, 0>, optimizer = #cage.sgd<momentum = 0.9, nesterov = true>, quantizer = #cage.quantizer<bits = 3>}> : (tensor<64x128xf32>, tensor<64x128xf32>, tensor<64x128xf32>, f32, f32) -> (tensor<64x128xf32>, tensor<64x128xf32>)
func.func @design_update_sgd(%w: tensor<64x128xf32>, %g: tensor<64x128xf32>, %b: tensor<64x128xf32>, %lr: f32, %l: f32) -> (tensor<64x128xf32>, tensor<64x128xf32>) {
  %w1, %b1 = cage.update %w, %g, %b, %lr, %l {quantizer = #cage.quantizer<bits = 3>, optimizer = #cage.sgd<momentum = 0.9, dampening = 0.0, nesterov = true, weight_decay = 0.0>, coupling = coupled, error = zero_clipped} : tensor<64x128xf32>
  return %w1, %b1 : tensor<64x128xf32>, tensor<64x128xf32>
}

//===----------------------------------------------------------------------===//
// #cage.quantizer: every value of every parameter.
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @quantizer_bits(
// CHECK:         cage.quantize %{{.*}} {quantizer = #cage.quantizer<bits = 2>} : tensor<64x128xf32>
// CHECK:         cage.quantize %{{.*}} {quantizer = #cage.quantizer<bits = 3>} : tensor<64x128xf32>
// CHECK:         cage.quantize %{{.*}} {quantizer = #cage.quantizer<>} : tensor<64x128xf32>
// CHECK:         cage.quantize %{{.*}} {quantizer = #cage.quantizer<bits = 8>} : tensor<64x128xf32>
// GENERIC-LABEL: sym_name = "quantizer_bits"
// GENERIC:         quantizer = #cage.quantizer<bits = 2>
// GENERIC:         quantizer = #cage.quantizer<bits = 3>
// GENERIC:         quantizer = #cage.quantizer<>
// GENERIC:         quantizer = #cage.quantizer<bits = 8>
func.func @quantizer_bits(%x: tensor<64x128xf32>) {
  %0 = cage.quantize %x {quantizer = #cage.quantizer<bits = 2>} : tensor<64x128xf32>
  %1 = cage.quantize %x {quantizer = #cage.quantizer<bits = 3>} : tensor<64x128xf32>
  %2 = cage.quantize %x {quantizer = #cage.quantizer<bits = 4>} : tensor<64x128xf32>
  %3 = cage.quantize %x {quantizer = #cage.quantizer<bits = 8>} : tensor<64x128xf32>
  return
}

// CHECK-LABEL: func.func @quantizer_granularity(
// CHECK:         cage.quantize %{{.*}} {quantizer = #cage.quantizer<granularity = tensor>} : tensor<64x256xf32>
// CHECK:         cage.quantize %{{.*}} {quantizer = #cage.quantizer<>} : tensor<64x256xf32>
// CHECK:         cage.quantize %{{.*}} {quantizer = #cage.quantizer<granularity = group>} : tensor<64x256xf32>
// CHECK:         cage.quantize %{{.*}} {quantizer = #cage.quantizer<granularity = group, group_size = 64>} : tensor<64x256xf32>
// CHECK:         cage.quantize %{{.*}} {quantizer = #cage.quantizer<granularity = group, group_size = 256>} : tensor<64x256xf32>
// CHECK:         cage.quantize %{{.*}} {quantizer = #cage.quantizer<granularity = group, group_size = 1>} : tensor<64x256xf32>
// CHECK:         cage.quantize %{{.*}} {quantizer = #cage.quantizer<granularity = tensor>} : tensor<64x256xf32>
// CHECK:         cage.quantize %{{.*}} {quantizer = #cage.quantizer<bits = 8>} : tensor<64x256xf32>
func.func @quantizer_granularity(%x: tensor<64x256xf32>) {
  %0 = cage.quantize %x {quantizer = #cage.quantizer<granularity = tensor>} : tensor<64x256xf32>
  %1 = cage.quantize %x {quantizer = #cage.quantizer<granularity = row>} : tensor<64x256xf32>
  %2 = cage.quantize %x {quantizer = #cage.quantizer<granularity = group>} : tensor<64x256xf32>
  %3 = cage.quantize %x {quantizer = #cage.quantizer<granularity = group, group_size = 64>} : tensor<64x256xf32>
  %4 = cage.quantize %x {quantizer = #cage.quantizer<granularity = group, group_size = 256>} : tensor<64x256xf32>
  %5 = cage.quantize %x {quantizer = #cage.quantizer<granularity = group, group_size = 1>} : tensor<64x256xf32>
  // group_size at its default may be spelled with any granularity.
  %6 = cage.quantize %x {quantizer = #cage.quantizer<granularity = tensor, group_size = 128>} : tensor<64x256xf32>
  %7 = cage.quantize %x {quantizer = #cage.quantizer<bits = 8, granularity = row, group_size = 128>} : tensor<64x256xf32>
  return
}

// One clip value per group: [] for tensor, the leading dimensions for row,
// the leading dimensions plus n / group_size for group.
// CHECK-LABEL: func.func @quantizer_scale(
// CHECK-SAME:    %[[X:[^:]+]]: tensor<64x256xf32>, %[[AT:[^:]+]]: tensor<f32>, %[[AR:[^:]+]]: tensor<64xf32>, %[[AG:[^:]+]]: tensor<64x2xf32>, %[[AG4:[^:]+]]: tensor<64x4xf32>
// CHECK:         cage.quantize %[[X]] {quantizer = #cage.quantizer<>} : tensor<64x256xf32>
// CHECK:         cage.quantize %[[X]] {quantizer = #cage.quantizer<scale = rms_gaussian>} : tensor<64x256xf32>
// CHECK:         cage.quantize %[[X]] {quantizer = #cage.quantizer<granularity = group, group_size = 64, scale = rms_gaussian>} : tensor<64x256xf32>
// CHECK:         cage.quantize %[[X]] scale(%[[AT]]) {quantizer = #cage.quantizer<granularity = tensor, scale = operand>} : tensor<64x256xf32>, tensor<f32>
// CHECK:         cage.quantize %[[X]] scale(%[[AR]]) {quantizer = #cage.quantizer<scale = operand>} : tensor<64x256xf32>, tensor<64xf32>
// CHECK:         cage.quantize %[[X]] scale(%[[AG]]) {quantizer = #cage.quantizer<granularity = group, scale = operand>} : tensor<64x256xf32>, tensor<64x2xf32>
// CHECK:         cage.quantize %[[X]] scale(%[[AG4]]) {quantizer = #cage.quantizer<granularity = group, group_size = 64, scale = operand>} : tensor<64x256xf32>, tensor<64x4xf32>
// GENERIC-LABEL: sym_name = "quantizer_scale"
// GENERIC:         "cage.quantize"(%{{.*}}, %{{.*}}) <{operandSegmentSizes = array<i32: 1, 0, 1>, quantizer = #cage.quantizer<granularity = tensor, scale = operand>}> : (tensor<64x256xf32>, tensor<f32>) -> tensor<64x256xf32>
func.func @quantizer_scale(%x: tensor<64x256xf32>, %at: tensor<f32>, %ar: tensor<64xf32>, %ag: tensor<64x2xf32>, %ag4: tensor<64x4xf32>) {
  %0 = cage.quantize %x {quantizer = #cage.quantizer<scale = absmax>} : tensor<64x256xf32>
  %1 = cage.quantize %x {quantizer = #cage.quantizer<scale = rms_gaussian>} : tensor<64x256xf32>
  %2 = cage.quantize %x {quantizer = #cage.quantizer<granularity = group, group_size = 64, scale = rms_gaussian>} : tensor<64x256xf32>
  %3 = cage.quantize %x scale(%at) {quantizer = #cage.quantizer<granularity = tensor, scale = operand>} : tensor<64x256xf32>, tensor<f32>
  %4 = cage.quantize %x scale(%ar) {quantizer = #cage.quantizer<granularity = row, scale = operand>} : tensor<64x256xf32>, tensor<64xf32>
  %5 = cage.quantize %x scale(%ag) {quantizer = #cage.quantizer<granularity = group, scale = operand>} : tensor<64x256xf32>, tensor<64x2xf32>
  %6 = cage.quantize %x scale(%ag4) {quantizer = #cage.quantizer<granularity = group, group_size = 64, scale = operand>} : tensor<64x256xf32>, tensor<64x4xf32>
  return
}

// CHECK-LABEL: func.func @quantizer_levels(
// CHECK:         cage.quantize %{{.*}} {quantizer = #cage.quantizer<>} : tensor<64x128xf32>
// CHECK:         cage.quantize %{{.*}} {quantizer = #cage.quantizer<levels = centered>} : tensor<64x128xf32>
// CHECK:         cage.quantize %{{.*}} {quantizer = #cage.quantizer<bits = 2, levels = centered>} : tensor<64x128xf32>
func.func @quantizer_levels(%x: tensor<64x128xf32>) {
  %0 = cage.quantize %x {quantizer = #cage.quantizer<levels = int>} : tensor<64x128xf32>
  %1 = cage.quantize %x {quantizer = #cage.quantizer<levels = centered>} : tensor<64x128xf32>
  %2 = cage.quantize %x {quantizer = #cage.quantizer<bits = 2, levels = centered>} : tensor<64x128xf32>
  return
}

// group_size and block are independent: a scale group may be smaller or
// larger than a rotation block.
// CHECK-LABEL: func.func @quantizer_rotation(
// CHECK:         cage.quantize %{{.*}} {quantizer = #cage.quantizer<>} : tensor<64x256xf32>
// CHECK:         cage.quantize %{{.*}} {quantizer = #cage.quantizer<rotation = hadamard>} : tensor<64x256xf32>
// CHECK:         cage.quantize %{{.*}} {quantizer = #cage.quantizer<rotation = hadamard, block = 32>} : tensor<64x256xf32>
// CHECK:         cage.quantize %{{.*}} {quantizer = #cage.quantizer<rotation = hadamard, block = 2>} : tensor<64x256xf32>
// CHECK:         cage.quantize %{{.*}} {quantizer = #cage.quantizer<rotation = hadamard, block = 256>} : tensor<64x256xf32>
// CHECK:         cage.quantize %{{.*}} {quantizer = #cage.quantizer<granularity = group, group_size = 32, rotation = hadamard>} : tensor<64x256xf32>
// CHECK:         cage.quantize %{{.*}} {quantizer = #cage.quantizer<granularity = group, group_size = 256, rotation = hadamard, block = 64>} : tensor<64x256xf32>
// CHECK:         cage.quantize %{{.*}} {quantizer = #cage.quantizer<>} : tensor<64x256xf32>
func.func @quantizer_rotation(%x: tensor<64x256xf32>) {
  %0 = cage.quantize %x {quantizer = #cage.quantizer<rotation = none>} : tensor<64x256xf32>
  %1 = cage.quantize %x {quantizer = #cage.quantizer<rotation = hadamard>} : tensor<64x256xf32>
  %2 = cage.quantize %x {quantizer = #cage.quantizer<rotation = hadamard, block = 32>} : tensor<64x256xf32>
  %3 = cage.quantize %x {quantizer = #cage.quantizer<rotation = hadamard, block = 2>} : tensor<64x256xf32>
  %4 = cage.quantize %x {quantizer = #cage.quantizer<rotation = hadamard, block = 256>} : tensor<64x256xf32>
  %5 = cage.quantize %x {quantizer = #cage.quantizer<granularity = group, group_size = 32, rotation = hadamard, block = 128>} : tensor<64x256xf32>
  %6 = cage.quantize %x {quantizer = #cage.quantizer<granularity = group, group_size = 256, rotation = hadamard, block = 64>} : tensor<64x256xf32>
  // block at its default may be spelled without a rotation.
  %7 = cage.quantize %x {quantizer = #cage.quantizer<rotation = none, block = 128>} : tensor<64x256xf32>
  return
}

// CHECK-LABEL: func.func @quantizer_rounding(
// CHECK-SAME:    %[[X:[^:]+]]: tensor<64x128xf32>, %[[S:[^:]+]]: i64, %[[A:[^:]+]]: tensor<64xf32>
// CHECK:         cage.quantize %[[X]] {quantizer = #cage.quantizer<>} : tensor<64x128xf32>
// CHECK:         cage.quantize %[[X]] seed(%[[S]]) {quantizer = #cage.quantizer<rounding = stochastic>} : tensor<64x128xf32>
// CHECK:         cage.quantize %[[X]] seed(%[[S]]) scale(%[[A]]) {quantizer = #cage.quantizer<bits = 2, scale = operand, levels = centered, rounding = stochastic>} : tensor<64x128xf32>, tensor<64xf32>
// GENERIC-LABEL: sym_name = "quantizer_rounding"
// GENERIC:         "cage.quantize"(%{{.*}}) <{operandSegmentSizes = array<i32: 1, 0, 0>, quantizer = #cage.quantizer<>}>
// GENERIC:         "cage.quantize"(%{{.*}}, %{{.*}}) <{operandSegmentSizes = array<i32: 1, 1, 0>, quantizer = #cage.quantizer<rounding = stochastic>}>
// GENERIC:         "cage.quantize"(%{{.*}}, %{{.*}}, %{{.*}}) <{operandSegmentSizes = array<i32: 1, 1, 1>, quantizer = #cage.quantizer<bits = 2, scale = operand, levels = centered, rounding = stochastic>}> : (tensor<64x128xf32>, i64, tensor<64xf32>) -> tensor<64x128xf32>
func.func @quantizer_rounding(%x: tensor<64x128xf32>, %s: i64, %a: tensor<64xf32>) {
  %0 = cage.quantize %x {quantizer = #cage.quantizer<rounding = nearest>} : tensor<64x128xf32>
  %1 = cage.quantize %x seed(%s) {quantizer = #cage.quantizer<rounding = stochastic>} : tensor<64x128xf32>
  %2 = cage.quantize %x seed(%s) scale(%a) {quantizer = #cage.quantizer<bits = 2, scale = operand, levels = centered, rounding = stochastic>} : tensor<64x128xf32>, tensor<64xf32>
  return
}

// Every parameter spelled out: at its default (printed as `<>`), and at a
// non-default value (printed in declaration order).
// CHECK-LABEL: func.func @quantizer_all_parameters(
// CHECK:         cage.quantize %{{.*}} {quantizer = #cage.quantizer<>} : tensor<64x256xf32>
// CHECK:         cage.quantize %{{.*}} seed(%{{.*}}) {quantizer = #cage.quantizer<bits = 8, granularity = group, group_size = 64, scale = rms_gaussian, levels = centered, rotation = hadamard, block = 32, rounding = stochastic>} : tensor<64x256xf32>
func.func @quantizer_all_parameters(%x: tensor<64x256xf32>, %s: i64) {
  %0 = cage.quantize %x {quantizer = #cage.quantizer<bits = 4, granularity = row, group_size = 128, scale = absmax, levels = int, rotation = none, block = 128, rounding = nearest>} : tensor<64x256xf32>
  %1 = cage.quantize %x seed(%s) {quantizer = #cage.quantizer<bits = 8, granularity = group, group_size = 64, scale = rms_gaussian, levels = centered, rotation = hadamard, block = 32, rounding = stochastic>} : tensor<64x256xf32>
  return
}

// Parameters in any order: reversed, and shuffled.
// CHECK-LABEL: func.func @quantizer_any_order(
// CHECK:         cage.quantize %{{.*}} {quantizer = #cage.quantizer<>} : tensor<64x256xf32>
// CHECK:         cage.quantize %{{.*}} seed(%{{.*}}) {quantizer = #cage.quantizer<bits = 8, granularity = group, group_size = 64, scale = rms_gaussian, levels = centered, rotation = hadamard, block = 32, rounding = stochastic>} : tensor<64x256xf32>
// CHECK:         cage.quantize %{{.*}} {quantizer = #cage.quantizer<bits = 3, granularity = group, group_size = 32, levels = centered, rotation = hadamard, block = 64>} : tensor<64x256xf32>
func.func @quantizer_any_order(%x: tensor<64x256xf32>, %s: i64) {
  %0 = cage.quantize %x {quantizer = #cage.quantizer<rounding = nearest, block = 128, rotation = none, levels = int, scale = absmax, group_size = 128, granularity = row, bits = 4>} : tensor<64x256xf32>
  %1 = cage.quantize %x seed(%s) {quantizer = #cage.quantizer<rounding = stochastic, block = 32, rotation = hadamard, levels = centered, scale = rms_gaussian, group_size = 64, granularity = group, bits = 8>} : tensor<64x256xf32>
  %2 = cage.quantize %x {quantizer = #cage.quantizer<block = 64, group_size = 32, levels = centered, bits = 3, rotation = hadamard, granularity = group>} : tensor<64x256xf32>
  return
}

//===----------------------------------------------------------------------===//
// cage.ste
//===----------------------------------------------------------------------===//

// The LSQ scale gradient has the type of the scale operand, for every
// granularity; ste shares the forward quantizer, stochastic rounding included.
// CHECK-LABEL: func.func @ste(
// CHECK-SAME:    %[[DY:[^:]+]]: tensor<64x256xf32>, %[[X:[^:]+]]: tensor<64x256xf32>, %[[AT:[^:]+]]: tensor<f32>, %[[AR:[^:]+]]: tensor<64xf32>, %[[AG:[^:]+]]: tensor<64x4xf32>
// CHECK:         cage.ste %[[DY]], %[[X]] {quantizer = #cage.quantizer<>, estimator = identity} : tensor<64x256xf32>
// CHECK:         cage.ste %[[DY]], %[[X]] {quantizer = #cage.quantizer<>, estimator = clipped} : tensor<64x256xf32>
// CHECK:         cage.ste %[[DY]], %[[X]] {quantizer = #cage.quantizer<rotation = hadamard, block = 64>, estimator = clipped} : tensor<64x256xf32>
// CHECK:         cage.ste %[[DY]], %[[X]] {quantizer = #cage.quantizer<levels = centered, rounding = stochastic>, estimator = clipped} : tensor<64x256xf32>
// CHECK:         cage.ste %[[DY]], %[[X]] scale(%[[AT]]) {quantizer = #cage.quantizer<granularity = tensor, scale = operand>, estimator = identity} : tensor<64x256xf32>, tensor<f32>
// CHECK:         cage.ste %[[DY]], %[[X]] scale(%[[AR]]) {quantizer = #cage.quantizer<scale = operand, levels = centered>, estimator = clipped} : tensor<64x256xf32>, tensor<64xf32>
// CHECK:         cage.ste %[[DY]], %[[X]] scale(%[[AG]]) {quantizer = #cage.quantizer<granularity = group, group_size = 64, scale = operand, rotation = hadamard>, estimator = clipped} : tensor<64x256xf32>, tensor<64x4xf32>
// GENERIC-LABEL: sym_name = "ste"
// GENERIC:         "cage.ste"(%{{.*}}, %{{.*}}) <{estimator = #cage.estimator<identity>, quantizer = #cage.quantizer<>}> : (tensor<64x256xf32>, tensor<64x256xf32>) -> tensor<64x256xf32>
// GENERIC:         "cage.ste"(%{{.*}}, %{{.*}}, %{{.*}}) <{estimator = #cage.estimator<identity>, quantizer = #cage.quantizer<granularity = tensor, scale = operand>}> : (tensor<64x256xf32>, tensor<64x256xf32>, tensor<f32>) -> (tensor<64x256xf32>, tensor<f32>)
func.func @ste(%dy: tensor<64x256xf32>, %x: tensor<64x256xf32>, %at: tensor<f32>, %ar: tensor<64xf32>, %ag: tensor<64x4xf32>) {
  %0 = cage.ste %dy, %x {quantizer = #cage.quantizer<>, estimator = identity} : tensor<64x256xf32>
  %1 = cage.ste %dy, %x {estimator = clipped, quantizer = #cage.quantizer<>} : tensor<64x256xf32>
  %2 = cage.ste %dy, %x {quantizer = #cage.quantizer<rotation = hadamard, block = 64>, estimator = clipped} : tensor<64x256xf32>
  %3 = cage.ste %dy, %x {quantizer = #cage.quantizer<levels = centered, rounding = stochastic>, estimator = clipped} : tensor<64x256xf32>
  %4:2 = cage.ste %dy, %x scale(%at) {quantizer = #cage.quantizer<granularity = tensor, scale = operand>, estimator = identity} : tensor<64x256xf32>, tensor<f32>
  %5, %d5 = cage.ste %dy, %x scale(%ar) {quantizer = #cage.quantizer<scale = operand, levels = centered>, estimator = clipped} : tensor<64x256xf32>, tensor<64xf32>
  %6, %d6 = cage.ste %dy, %x scale(%ag) {quantizer = #cage.quantizer<granularity = group, group_size = 64, scale = operand, rotation = hadamard>, estimator = clipped} : tensor<64x256xf32>, tensor<64x4xf32>
  return
}

//===----------------------------------------------------------------------===//
// cage.quant_error
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @quant_error(
// CHECK:         cage.quant_error %{{.*}} {quantizer = #cage.quantizer<>} : tensor<64x128xf32>
// CHECK:         cage.quant_error %{{.*}} {quantizer = #cage.quantizer<bits = 2>, error = zero_clipped} : tensor<64x128xf32>
// CHECK:         cage.quant_error %{{.*}} {quantizer = #cage.quantizer<granularity = group, group_size = 32, scale = rms_gaussian, levels = centered, rotation = hadamard, block = 64>, error = zero_clipped} : tensor<64x128xf32>
// CHECK:         cage.quant_error %{{.*}} {quantizer = #cage.quantizer<granularity = tensor>} : tensor<64x128xf32>
func.func @quant_error(%w: tensor<64x128xf32>) {
  %0 = cage.quant_error %w {quantizer = #cage.quantizer<>, error = keep} : tensor<64x128xf32>
  %1 = cage.quant_error %w {error = zero_clipped, quantizer = #cage.quantizer<bits = 2>} : tensor<64x128xf32>
  %2 = cage.quant_error %w {quantizer = #cage.quantizer<granularity = group, group_size = 32, scale = rms_gaussian, levels = centered, rotation = hadamard, block = 64>, error = zero_clipped} : tensor<64x128xf32>
  %3 = cage.quant_error %w {quantizer = #cage.quantizer<granularity = tensor>} : tensor<64x128xf32>
  return
}

//===----------------------------------------------------------------------===//
// cage.lambda_schedule
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @lambda_schedule(
// CHECK:         cage.lambda_schedule %{{.*}}, %{{.*}}{{$}}
// CHECK:         cage.lambda_schedule %{{.*}}, %{{.*}}{{$}}
// CHECK:         cage.lambda_schedule %{{.*}}, %{{.*}} {kind = constant}
// CHECK:         cage.lambda_schedule %{{.*}}, %{{.*}} {lambda = 2.5 : f32, silence = 0.5 : f32, kind = constant}
// CHECK:         cage.lambda_schedule %{{.*}}, %{{.*}} {lambda = 20.0 : f32, silence = 0.0 : f32}
// CHECK:         cage.lambda_schedule %{{.*}}, %{{.*}} {lambda = 0.0 : f32, silence = 0.95 : f32}
// CHECK:         cage.lambda_schedule %{{.*}}, %{{.*}} {lambda = 1.0e-05 : f32}
// CHECK:         cage.lambda_schedule %{{.*}}, %{{.*}} {lambda = 1.0e+20 : f32}
// GENERIC-LABEL: sym_name = "lambda_schedule"
// GENERIC:         "cage.lambda_schedule"(%{{.*}}, %{{.*}}) <{kind = #cage.schedule_kind<linear_ramp>, lambda = 1.000000e+01 : f32, silence = 8.000000e-01 : f32}> : (i64, i64) -> f32
// GENERIC:         "cage.lambda_schedule"(%{{.*}}, %{{.*}}) <{kind = #cage.schedule_kind<linear_ramp>, lambda = 1.000000e+01 : f32, silence = 8.000000e-01 : f32}> : (i64, i64) -> f32
// GENERIC:         "cage.lambda_schedule"(%{{.*}}, %{{.*}}) <{kind = #cage.schedule_kind<constant>, lambda = 1.000000e+01 : f32, silence = 8.000000e-01 : f32}> : (i64, i64) -> f32
// GENERIC:         "cage.lambda_schedule"(%{{.*}}, %{{.*}}) <{kind = #cage.schedule_kind<constant>, lambda = 2.500000e+00 : f32, silence = 5.000000e-01 : f32}> : (i64, i64) -> f32
func.func @lambda_schedule(%t: i64, %T: i64) {
  %0 = cage.lambda_schedule %t, %T
  %1 = cage.lambda_schedule %t, %T {}
  %2 = cage.lambda_schedule %t, %T {kind = constant}
  %3 = cage.lambda_schedule %t, %T {kind = constant, silence = 0.5 : f32, lambda = 2.5 : f32}
  %4 = cage.lambda_schedule %t, %T {lambda = 20.0 : f32, silence = 0.0 : f32, kind = linear_ramp}
  %5 = cage.lambda_schedule %t, %T {lambda = 0.0 : f32, silence = 0.95 : f32}
  %6 = cage.lambda_schedule %t, %T {lambda = 0.00001 : f32}
  %7 = cage.lambda_schedule %t, %T {lambda = 1.0e20 : f32}
  return
}

//===----------------------------------------------------------------------===//
// cage.adamw and cage.sgd
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @adamw(
// CHECK:         cage.adamw %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<64x128xf32>
// CHECK:         cage.adamw %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {beta1 = 0.8 : f32, beta2 = 0.999 : f32, eps = 1.0e-12 : f32, weight_decay = 0.01 : f32} : tensor<64x128xf32>
// CHECK:         cage.adamw %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {beta1 = 0.0 : f32, weight_decay = 0.0 : f32} : tensor<64x128xf32>
// GENERIC-LABEL: sym_name = "adamw"
// GENERIC:         "cage.adamw"
// GENERIC:         "cage.adamw"(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) <{beta1 = 8.000000e-01 : f32, beta2 = 9.990000e-01 : f32, eps = 9.99999996E-13 : f32, weight_decay = 0.00999999977 : f32}>
func.func @adamw(%w: tensor<64x128xf32>, %g: tensor<64x128xf32>, %m: tensor<64x128xf32>, %v: tensor<64x128xf32>, %lr: f32, %t: i64) {
  %0:3 = cage.adamw %w, %g, %m, %v, %lr, %t : tensor<64x128xf32>
  %1:3 = cage.adamw %w, %g, %m, %v, %lr, %t {weight_decay = 0.01 : f32, eps = 1.0e-12 : f32, beta2 = 0.999 : f32, beta1 = 0.8 : f32} : tensor<64x128xf32>
  %2:3 = cage.adamw %w, %g, %m, %v, %lr, %t {beta1 = 0.0 : f32, weight_decay = 0.0 : f32} : tensor<64x128xf32>
  return
}

// CHECK-LABEL: func.func @sgd(
// CHECK:         cage.sgd %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<64x128xf32>
// CHECK:         cage.sgd %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<64x128xf32>
// CHECK:         cage.sgd %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {momentum = 0.9 : f32, dampening = 0.1 : f32, weight_decay = 0.0005 : f32} : tensor<64x128xf32>
// CHECK:         cage.sgd %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {momentum = 0.99 : f32, nesterov = true} : tensor<64x128xf32>
// CHECK:         cage.sgd %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {momentum = 1.5 : f32, dampening = 1.0 : f32} : tensor<64x128xf32>
// CHECK:         cage.sgd %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {weight_decay = 0.0001 : f32} : tensor<64x128xf32>
// GENERIC-LABEL: sym_name = "sgd"
// GENERIC:         "cage.sgd"
// GENERIC:         "cage.sgd"
// GENERIC:         "cage.sgd"
// GENERIC:         "cage.sgd"(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) <{dampening = 0.000000e+00 : f32, momentum = 9.900000e-01 : f32, nesterov = true, weight_decay = 0.000000e+00 : f32}>
func.func @sgd(%w: tensor<64x128xf32>, %g: tensor<64x128xf32>, %b: tensor<64x128xf32>, %lr: f32) {
  %0:2 = cage.sgd %w, %g, %b, %lr : tensor<64x128xf32>
  %1:2 = cage.sgd %w, %g, %b, %lr {momentum = 0.0 : f32, dampening = 0.0 : f32, nesterov = false, weight_decay = 0.0 : f32} : tensor<64x128xf32>
  %2:2 = cage.sgd %w, %g, %b, %lr {weight_decay = 0.0005 : f32, dampening = 0.1 : f32, momentum = 0.9 : f32} : tensor<64x128xf32>
  %3:2 = cage.sgd %w, %g, %b, %lr {nesterov = true, momentum = 0.99 : f32} : tensor<64x128xf32>
  %4:2 = cage.sgd %w, %g, %b, %lr {momentum = 1.5 : f32, dampening = 1.0 : f32} : tensor<64x128xf32>
  %5:2 = cage.sgd %w, %g, %b, %lr {weight_decay = 1.0e-4 : f32} : tensor<64x128xf32>
  return
}

//===----------------------------------------------------------------------===//
// cage.update
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @update_adamw(
// CHECK-SAME:    %[[W:[^:]+]]: tensor<64x128xf32>, %[[G:[^:]+]]: tensor<64x128xf32>, %[[M:[^:]+]]: tensor<64x128xf32>, %[[V:[^:]+]]: tensor<64x128xf32>, %[[LR:[^:]+]]: f32, %[[L:[^:]+]]: f32, %[[T:[^:]+]]: i64
// CHECK:         cage.update %[[W]], %[[G]], %[[M]], %[[V]], %[[LR]], %[[L]], %[[T]] {quantizer = #cage.quantizer<>, optimizer = #cage.adamw<>} : tensor<64x128xf32>
// CHECK:         cage.update %[[W]], %[[G]], %[[M]], %[[V]], %[[LR]], %[[L]], %[[T]] {quantizer = #cage.quantizer<bits = 2, granularity = tensor, scale = rms_gaussian>, optimizer = #cage.adamw<beta1 = 0.8, beta2 = 0.999, eps = 1.0e-06, weight_decay = 0.0>, coupling = coupled, error = zero_clipped} : tensor<64x128xf32>
// CHECK:         cage.update %[[W]], %[[G]], %[[M]], %[[V]], %[[LR]], %[[L]], %[[T]] {quantizer = #cage.quantizer<rotation = hadamard, block = 64>, optimizer = #cage.adamw<weight_decay = 0.05>, coupling = coupled} : tensor<64x128xf32>
// CHECK:         cage.update %[[W]], %[[G]], %[[M]], %[[V]], %[[LR]], %[[L]], %[[T]] {quantizer = #cage.quantizer<levels = centered>, optimizer = #cage.adamw<>, error = zero_clipped} : tensor<64x128xf32>
// GENERIC-LABEL: sym_name = "update_adamw"
// GENERIC:         "cage.update"(%{{.*}}) <{coupling = #cage.coupling<decoupled>, error = #cage.error<keep>, operandSegmentSizes = array<i32: 1, 1, 2, 1, 1, 1, 0>, optimizer = #cage.adamw<>, quantizer = #cage.quantizer<>}>
// GENERIC:         "cage.update"(%{{.*}}) <{coupling = #cage.coupling<coupled>, error = #cage.error<zero_clipped>, operandSegmentSizes = array<i32: 1, 1, 2, 1, 1, 1, 0>, optimizer = #cage.adamw<beta1 = 0.8, beta2 = 0.999, eps = 1.0e-06, weight_decay = 0.0>, quantizer = #cage.quantizer<bits = 2, granularity = tensor, scale = rms_gaussian>}>
func.func @update_adamw(%w: tensor<64x128xf32>, %g: tensor<64x128xf32>, %m: tensor<64x128xf32>, %v: tensor<64x128xf32>, %lr: f32, %l: f32, %t: i64) {
  %0:3 = cage.update %w, %g, %m, %v, %lr, %l, %t {quantizer = #cage.quantizer<>, optimizer = #cage.adamw<>, coupling = decoupled, error = keep} : tensor<64x128xf32>
  %1:3 = cage.update %w, %g, %m, %v, %lr, %l, %t {error = zero_clipped, coupling = coupled, optimizer = #cage.adamw<weight_decay = 0.0, eps = 1.0e-6, beta2 = 0.999, beta1 = 0.8>, quantizer = #cage.quantizer<scale = rms_gaussian, granularity = tensor, bits = 2>} : tensor<64x128xf32>
  %2:3 = cage.update %w, %g, %m, %v, %lr, %l, %t {quantizer = #cage.quantizer<rotation = hadamard, block = 64>, optimizer = #cage.adamw<weight_decay = 0.05>, coupling = coupled} : tensor<64x128xf32>
  %3:3 = cage.update %w, %g, %m, %v, %lr, %l, %t {quantizer = #cage.quantizer<levels = centered>, optimizer = #cage.adamw<beta1 = 0.9>, error = zero_clipped} : tensor<64x128xf32>
  return
}

// CHECK-LABEL: func.func @update_sgd(
// CHECK-SAME:    %[[W:[^:]+]]: tensor<64x128xf32>, %[[G:[^:]+]]: tensor<64x128xf32>, %[[B:[^:]+]]: tensor<64x128xf32>, %[[LR:[^:]+]]: f32, %[[L:[^:]+]]: f32
// CHECK:         cage.update %[[W]], %[[G]], %[[B]], %[[LR]], %[[L]] {quantizer = #cage.quantizer<>, optimizer = #cage.sgd<>} : tensor<64x128xf32>
// CHECK:         cage.update %[[W]], %[[G]], %[[B]], %[[LR]], %[[L]] {quantizer = #cage.quantizer<>, optimizer = #cage.sgd<momentum = 0.9, dampening = 0.5, weight_decay = 0.0001>, error = zero_clipped} : tensor<64x128xf32>
// CHECK:         cage.update %[[W]], %[[G]], %[[B]], %[[LR]], %[[L]] {quantizer = #cage.quantizer<bits = 8, granularity = group, group_size = 64>, optimizer = #cage.sgd<momentum = 0.9, nesterov = true>, coupling = coupled} : tensor<64x128xf32>
// GENERIC-LABEL: sym_name = "update_sgd"
// GENERIC:         "cage.update"(%{{.*}}) <{coupling = #cage.coupling<decoupled>, error = #cage.error<keep>, operandSegmentSizes = array<i32: 1, 1, 1, 1, 1, 0, 0>, optimizer = #cage.sgd<>, quantizer = #cage.quantizer<>}>
// GENERIC:         "cage.update"(%{{.*}}) <{coupling = #cage.coupling<decoupled>, error = #cage.error<zero_clipped>, operandSegmentSizes = array<i32: 1, 1, 1, 1, 1, 0, 0>, optimizer = #cage.sgd<momentum = 0.9, dampening = 0.5, weight_decay = 0.0001>, quantizer = #cage.quantizer<>}>
func.func @update_sgd(%w: tensor<64x128xf32>, %g: tensor<64x128xf32>, %b: tensor<64x128xf32>, %lr: f32, %l: f32) {
  %0:2 = cage.update %w, %g, %b, %lr, %l {quantizer = #cage.quantizer<>, optimizer = #cage.sgd<>} : tensor<64x128xf32>
  %1:2 = cage.update %w, %g, %b, %lr, %l {optimizer = #cage.sgd<weight_decay = 0.0001, nesterov = false, dampening = 0.5, momentum = 0.9>, quantizer = #cage.quantizer<>, error = zero_clipped, coupling = decoupled} : tensor<64x128xf32>
  %2:2 = cage.update %w, %g, %b, %lr, %l {quantizer = #cage.quantizer<bits = 8, granularity = group, group_size = 64>, optimizer = #cage.sgd<nesterov = true, momentum = 0.9>, coupling = coupled} : tensor<64x128xf32>
  return
}

//===----------------------------------------------------------------------===//
// Shapes: dynamic, rank 1, rank 3.
//===----------------------------------------------------------------------===//

// With a dynamic innermost dimension, group_size and block are checked where
// the shape is known (at run time); the scale has a dynamic group count.
// CHECK-LABEL: func.func @dynamic_shapes(
// CHECK:         cage.quantize %{{.*}} {quantizer = #cage.quantizer<>} : tensor<?x128xf32>
// CHECK:         cage.quantize %{{.*}} scale(%{{.*}}) {quantizer = #cage.quantizer<scale = operand>} : tensor<?x128xf32>, tensor<?xf32>
// CHECK:         cage.quantize %{{.*}} scale(%{{.*}}) {quantizer = #cage.quantizer<granularity = group, group_size = 64, scale = operand>} : tensor<?x128xf32>, tensor<?x2xf32>
// CHECK:         cage.quantize %{{.*}} {quantizer = #cage.quantizer<granularity = group, group_size = 64, rotation = hadamard, block = 32>} : tensor<?x?xf32>
// CHECK:         cage.quantize %{{.*}} scale(%{{.*}}) {quantizer = #cage.quantizer<granularity = group, scale = operand>} : tensor<?x?xf32>, tensor<?x?xf32>
// CHECK:         cage.quantize %{{.*}} scale(%{{.*}}) {quantizer = #cage.quantizer<granularity = tensor, scale = operand>} : tensor<?x?xf32>, tensor<f32>
// CHECK:         cage.ste %{{.*}}, %{{.*}} scale(%{{.*}}) {quantizer = #cage.quantizer<scale = operand>, estimator = clipped} : tensor<?x?xf32>, tensor<?xf32>
// CHECK:         cage.quant_error %{{.*}} {quantizer = #cage.quantizer<>, error = zero_clipped} : tensor<?x?xf32>
// CHECK:         cage.adamw %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<?x128xf32>
// CHECK:         cage.sgd %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {momentum = 0.9 : f32} : tensor<?x?xf32>
// CHECK:         cage.update %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {quantizer = #cage.quantizer<>, optimizer = #cage.adamw<>} : tensor<?x128xf32>
// CHECK:         cage.update %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {quantizer = #cage.quantizer<rotation = hadamard>, optimizer = #cage.sgd<>} : tensor<?x?xf32>
func.func @dynamic_shapes(%x: tensor<?x128xf32>, %y: tensor<?x?xf32>, %a: tensor<?xf32>, %ag: tensor<?x2xf32>, %agg: tensor<?x?xf32>, %at: tensor<f32>, %lr: f32, %l: f32, %t: i64) {
  %0 = cage.quantize %x {quantizer = #cage.quantizer<>} : tensor<?x128xf32>
  %1 = cage.quantize %x scale(%a) {quantizer = #cage.quantizer<scale = operand>} : tensor<?x128xf32>, tensor<?xf32>
  %2 = cage.quantize %x scale(%ag) {quantizer = #cage.quantizer<granularity = group, group_size = 64, scale = operand>} : tensor<?x128xf32>, tensor<?x2xf32>
  %3 = cage.quantize %y {quantizer = #cage.quantizer<granularity = group, group_size = 64, rotation = hadamard, block = 32>} : tensor<?x?xf32>
  %4 = cage.quantize %y scale(%agg) {quantizer = #cage.quantizer<granularity = group, scale = operand>} : tensor<?x?xf32>, tensor<?x?xf32>
  %5 = cage.quantize %y scale(%at) {quantizer = #cage.quantizer<granularity = tensor, scale = operand>} : tensor<?x?xf32>, tensor<f32>
  %6:2 = cage.ste %y, %y scale(%a) {quantizer = #cage.quantizer<scale = operand>, estimator = clipped} : tensor<?x?xf32>, tensor<?xf32>
  %7 = cage.quant_error %y {quantizer = #cage.quantizer<>, error = zero_clipped} : tensor<?x?xf32>
  %8:3 = cage.adamw %x, %x, %x, %x, %lr, %t : tensor<?x128xf32>
  %9:2 = cage.sgd %y, %y, %y, %lr {momentum = 0.9 : f32} : tensor<?x?xf32>
  %10:3 = cage.update %x, %x, %x, %x, %lr, %l, %t {quantizer = #cage.quantizer<>, optimizer = #cage.adamw<>} : tensor<?x128xf32>
  %11:2 = cage.update %y, %y, %y, %lr, %l {quantizer = #cage.quantizer<rotation = hadamard>, optimizer = #cage.sgd<>} : tensor<?x?xf32>
  return
}

// Rank 1: a row is the whole tensor, so its scale is a tensor<f32>.
// CHECK-LABEL: func.func @rank1(
// CHECK:         cage.quantize %{{.*}} {quantizer = #cage.quantizer<>} : tensor<256xf32>
// CHECK:         cage.quantize %{{.*}} scale(%{{.*}}) {quantizer = #cage.quantizer<scale = operand>} : tensor<256xf32>, tensor<f32>
// CHECK:         cage.quantize %{{.*}} scale(%{{.*}}) {quantizer = #cage.quantizer<granularity = group, scale = operand>} : tensor<256xf32>, tensor<2xf32>
// CHECK:         cage.ste %{{.*}}, %{{.*}} scale(%{{.*}}) {quantizer = #cage.quantizer<granularity = group, scale = operand>, estimator = clipped} : tensor<256xf32>, tensor<2xf32>
// CHECK:         cage.quant_error %{{.*}} {quantizer = #cage.quantizer<rotation = hadamard, block = 256>} : tensor<256xf32>
// CHECK:         cage.adamw %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<256xf32>
// CHECK:         cage.sgd %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<256xf32>
// CHECK:         cage.update %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {quantizer = #cage.quantizer<granularity = tensor>, optimizer = #cage.sgd<momentum = 0.9>} : tensor<256xf32>
func.func @rank1(%x: tensor<256xf32>, %a: tensor<f32>, %ag: tensor<2xf32>, %lr: f32, %l: f32, %t: i64) {
  %0 = cage.quantize %x {quantizer = #cage.quantizer<>} : tensor<256xf32>
  %1 = cage.quantize %x scale(%a) {quantizer = #cage.quantizer<scale = operand>} : tensor<256xf32>, tensor<f32>
  %2 = cage.quantize %x scale(%ag) {quantizer = #cage.quantizer<granularity = group, scale = operand>} : tensor<256xf32>, tensor<2xf32>
  %3:2 = cage.ste %x, %x scale(%ag) {quantizer = #cage.quantizer<granularity = group, scale = operand>, estimator = clipped} : tensor<256xf32>, tensor<2xf32>
  %4 = cage.quant_error %x {quantizer = #cage.quantizer<rotation = hadamard, block = 256>} : tensor<256xf32>
  %5:3 = cage.adamw %x, %x, %x, %x, %lr, %t : tensor<256xf32>
  %6:2 = cage.sgd %x, %x, %x, %lr : tensor<256xf32>
  %7:2 = cage.update %x, %x, %x, %lr, %l {quantizer = #cage.quantizer<granularity = tensor>, optimizer = #cage.sgd<momentum = 0.9>} : tensor<256xf32>
  return
}

// Rank 3: a row fixes all leading indices, so its scale is 2-D.
// CHECK-LABEL: func.func @rank3(
// CHECK:         cage.quantize %{{.*}} scale(%{{.*}}) {quantizer = #cage.quantizer<scale = operand>} : tensor<4x16x256xf32>, tensor<4x16xf32>
// CHECK:         cage.quantize %{{.*}} scale(%{{.*}}) {quantizer = #cage.quantizer<granularity = group, group_size = 64, scale = operand>} : tensor<4x16x256xf32>, tensor<4x16x4xf32>
// CHECK:         cage.quantize %{{.*}} scale(%{{.*}}) {quantizer = #cage.quantizer<granularity = tensor, scale = operand>} : tensor<4x16x256xf32>, tensor<f32>
// CHECK:         cage.ste %{{.*}}, %{{.*}} scale(%{{.*}}) {quantizer = #cage.quantizer<scale = operand>, estimator = identity} : tensor<4x16x256xf32>, tensor<4x16xf32>
// CHECK:         cage.quant_error %{{.*}} {quantizer = #cage.quantizer<rotation = hadamard>} : tensor<4x16x256xf32>
// CHECK:         cage.adamw %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<4x16x256xf32>
// CHECK:         cage.sgd %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<4x16x256xf32>
// CHECK:         cage.update %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {quantizer = #cage.quantizer<granularity = group>, optimizer = #cage.adamw<>} : tensor<4x16x256xf32>
func.func @rank3(%x: tensor<4x16x256xf32>, %ar: tensor<4x16xf32>, %ag: tensor<4x16x4xf32>, %at: tensor<f32>, %lr: f32, %l: f32, %t: i64) {
  %0 = cage.quantize %x scale(%ar) {quantizer = #cage.quantizer<scale = operand>} : tensor<4x16x256xf32>, tensor<4x16xf32>
  %1 = cage.quantize %x scale(%ag) {quantizer = #cage.quantizer<granularity = group, group_size = 64, scale = operand>} : tensor<4x16x256xf32>, tensor<4x16x4xf32>
  %2 = cage.quantize %x scale(%at) {quantizer = #cage.quantizer<granularity = tensor, scale = operand>} : tensor<4x16x256xf32>, tensor<f32>
  %3:2 = cage.ste %x, %x scale(%ar) {quantizer = #cage.quantizer<scale = operand>, estimator = identity} : tensor<4x16x256xf32>, tensor<4x16xf32>
  %4 = cage.quant_error %x {quantizer = #cage.quantizer<rotation = hadamard>} : tensor<4x16x256xf32>
  %5:3 = cage.adamw %x, %x, %x, %x, %lr, %t : tensor<4x16x256xf32>
  %6:2 = cage.sgd %x, %x, %x, %lr : tensor<4x16x256xf32>
  %7:3 = cage.update %x, %x, %x, %x, %lr, %l, %t {quantizer = #cage.quantizer<granularity = group>, optimizer = #cage.adamw<>} : tensor<4x16x256xf32>
  return
}

//===----------------------------------------------------------------------===//
// Attribute spellings.
//===----------------------------------------------------------------------===//

// Enum-valued attributes may also be written as attributes; attribute aliases
// and discardable attributes pass through.
#q4 = #cage.quantizer<bits = 4, granularity = group, group_size = 64>
// CHECK-LABEL: func.func @attribute_spellings(
// CHECK:         cage.ste %{{.*}}, %{{.*}} {quantizer = #cage.quantizer<granularity = group, group_size = 64>, estimator = clipped} : tensor<64x128xf32>
// CHECK:         cage.quant_error %{{.*}} {quantizer = #cage.quantizer<granularity = group, group_size = 64>, error = zero_clipped} : tensor<64x128xf32>
// CHECK:         cage.lambda_schedule %{{.*}}, %{{.*}} {kind = constant}
// CHECK:         cage.update %{{.*}} {quantizer = #cage.quantizer<>, optimizer = #cage.sgd<>, coupling = coupled} : tensor<64x128xf32>
// CHECK:         cage.quantize %{{.*}} {quantizer = #cage.quantizer<>, my.tag = 7 : i32, unit_tag} : tensor<64x128xf32>
func.func @attribute_spellings(%x: tensor<64x128xf32>, %lr: f32, %l: f32, %t: i64) {
  %0 = cage.ste %x, %x {quantizer = #q4, estimator = #cage.estimator<clipped>} : tensor<64x128xf32>
  %1 = cage.quant_error %x {quantizer = #q4, error = #cage.error<zero_clipped>} : tensor<64x128xf32>
  %2 = cage.lambda_schedule %t, %t {kind = #cage.schedule_kind<constant>}
  %3:2 = cage.update %x, %x, %x, %lr, %l {quantizer = #cage.quantizer<>, optimizer = #cage.sgd<>, coupling = #cage.coupling<coupled>} : tensor<64x128xf32>
  %4 = cage.quantize %x {unit_tag, quantizer = #cage.quantizer<>, my.tag = 7 : i32} : tensor<64x128xf32>
  return
}

//===----------------------------------------------------------------------===//
// cage.multi_update: one group of tensors per parameter, one type each.
//===----------------------------------------------------------------------===//

// The three examples of the op's description.
// CHECK-LABEL: func.func @multi_update_adamw(
// CHECK-SAME:    %[[WA:[^:]+]]: tensor<512x512xf32>, %[[GA:[^:]+]]: tensor<512x512xf32>, %[[MA:[^:]+]]: tensor<512x512xf32>, %[[VA:[^:]+]]: tensor<512x512xf32>, %[[WB:[^:]+]]: tensor<64x128xf32>, %[[GB:[^:]+]]: tensor<64x128xf32>, %[[MB:[^:]+]]: tensor<64x128xf32>, %[[VB:[^:]+]]: tensor<64x128xf32>, %[[LR:[^:]+]]: f32, %[[L:[^:]+]]: f32, %[[T:[^:]+]]: i64
// CHECK:         %[[R:.*]]:6 = cage.multi_update (%[[WA]], %[[GA]], %[[MA]], %[[VA]]), (%[[WB]], %[[GB]], %[[MB]], %[[VB]]), %[[LR]], %[[L]], %[[T]] {quantizer = #cage.quantizer<>, optimizer = #cage.adamw<>} : tensor<512x512xf32>, tensor<64x128xf32>
// CHECK:         return %[[R]]#0, %[[R]]#1, %[[R]]#2, %[[R]]#3, %[[R]]#4, %[[R]]#5 : tensor<512x512xf32>, tensor<512x512xf32>, tensor<512x512xf32>, tensor<64x128xf32>, tensor<64x128xf32>, tensor<64x128xf32>
// GENERIC-LABEL: sym_name = "multi_update_adamw"
// GENERIC:         "cage.multi_update"(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) <{coupling = #cage.coupling<decoupled>, error = #cage.error<keep>, operandSegmentSizes = array<i32: 8, 1, 1, 1>, optimizer = #cage.adamw<>, quantizer = #cage.quantizer<>}> : (tensor<512x512xf32>, tensor<512x512xf32>, tensor<512x512xf32>, tensor<512x512xf32>, tensor<64x128xf32>, tensor<64x128xf32>, tensor<64x128xf32>, tensor<64x128xf32>, f32, f32, i64) -> (tensor<512x512xf32>, tensor<512x512xf32>, tensor<512x512xf32>, tensor<64x128xf32>, tensor<64x128xf32>, tensor<64x128xf32>)
func.func @multi_update_adamw(%wa: tensor<512x512xf32>, %ga: tensor<512x512xf32>, %ma: tensor<512x512xf32>, %va: tensor<512x512xf32>, %wb: tensor<64x128xf32>, %gb: tensor<64x128xf32>, %mb: tensor<64x128xf32>, %vb: tensor<64x128xf32>, %lr: f32, %l: f32, %t: i64) -> (tensor<512x512xf32>, tensor<512x512xf32>, tensor<512x512xf32>, tensor<64x128xf32>, tensor<64x128xf32>, tensor<64x128xf32>) {
  %r:6 = cage.multi_update (%wa, %ga, %ma, %va), (%wb, %gb, %mb, %vb), %lr, %l, %t {quantizer = #cage.quantizer<bits = 4>, optimizer = #cage.adamw<>} : tensor<512x512xf32>, tensor<64x128xf32>
  return %r#0, %r#1, %r#2, %r#3, %r#4, %r#5 : tensor<512x512xf32>, tensor<512x512xf32>, tensor<512x512xf32>, tensor<64x128xf32>, tensor<64x128xf32>, tensor<64x128xf32>
}

// CHECK-LABEL: func.func @multi_update_sgd(
// CHECK-SAME:    %[[WA:[^:]+]]: tensor<7x129xf32>, %[[GA:[^:]+]]: tensor<7x129xf32>, %[[BA:[^:]+]]: tensor<7x129xf32>, %[[WB:[^:]+]]: tensor<3xf32>, %[[GB:[^:]+]]: tensor<3xf32>, %[[BB:[^:]+]]: tensor<3xf32>, %[[LR:[^:]+]]: f32, %[[L:[^:]+]]: f32
// CHECK:         %{{.*}}:4 = cage.multi_update (%[[WA]], %[[GA]], %[[BA]]), (%[[WB]], %[[GB]], %[[BB]]), %[[LR]], %[[L]] {quantizer = #cage.quantizer<>, optimizer = #cage.sgd<momentum = 0.9>, coupling = coupled} : tensor<7x129xf32>, tensor<3xf32>
// GENERIC-LABEL: sym_name = "multi_update_sgd"
// GENERIC:         "cage.multi_update"(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) <{coupling = #cage.coupling<coupled>, error = #cage.error<keep>, operandSegmentSizes = array<i32: 6, 1, 1, 0>, optimizer = #cage.sgd<momentum = 0.9>, quantizer = #cage.quantizer<>}> : (tensor<7x129xf32>, tensor<7x129xf32>, tensor<7x129xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, f32, f32) -> (tensor<7x129xf32>, tensor<7x129xf32>, tensor<3xf32>, tensor<3xf32>)
func.func @multi_update_sgd(%wa: tensor<7x129xf32>, %ga: tensor<7x129xf32>, %ba: tensor<7x129xf32>, %wb: tensor<3xf32>, %gb: tensor<3xf32>, %bb: tensor<3xf32>, %lr: f32, %l: f32) {
  %r:4 = cage.multi_update (%wa, %ga, %ba), (%wb, %gb, %bb), %lr, %l {quantizer = #cage.quantizer<bits = 4>, optimizer = #cage.sgd<momentum = 0.9>, coupling = coupled} : tensor<7x129xf32>, tensor<3xf32>
  return
}

// Without a quantizer: the plain optimizer step, no lambda operand.
// CHECK-LABEL: func.func @multi_update_plain(
// CHECK-SAME:    %[[WA:[^:]+]]: tensor<8xf32>, %[[GA:[^:]+]]: tensor<8xf32>, %[[MA:[^:]+]]: tensor<8xf32>, %[[VA:[^:]+]]: tensor<8xf32>, %[[WB:[^:]+]]: tensor<2x2xf32>, %[[GB:[^:]+]]: tensor<2x2xf32>, %[[MB:[^:]+]]: tensor<2x2xf32>, %[[VB:[^:]+]]: tensor<2x2xf32>, %[[LR:[^:]+]]: f32, %[[T:[^:]+]]: i64
// CHECK:         %{{.*}}:6 = cage.multi_update (%[[WA]], %[[GA]], %[[MA]], %[[VA]]), (%[[WB]], %[[GB]], %[[MB]], %[[VB]]), %[[LR]], %[[T]] {optimizer = #cage.adamw<>} : tensor<8xf32>, tensor<2x2xf32>
// GENERIC-LABEL: sym_name = "multi_update_plain"
// GENERIC:         "cage.multi_update"(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) <{coupling = #cage.coupling<decoupled>, error = #cage.error<keep>, operandSegmentSizes = array<i32: 8, 1, 0, 1>, optimizer = #cage.adamw<>}> : (tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<2x2xf32>, tensor<2x2xf32>, tensor<2x2xf32>, tensor<2x2xf32>, f32, i64) -> (tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<2x2xf32>, tensor<2x2xf32>, tensor<2x2xf32>)
func.func @multi_update_plain(%wa: tensor<8xf32>, %ga: tensor<8xf32>, %ma: tensor<8xf32>, %va: tensor<8xf32>, %wb: tensor<2x2xf32>, %gb: tensor<2x2xf32>, %mb: tensor<2x2xf32>, %vb: tensor<2x2xf32>, %lr: f32, %t: i64) {
  %r:6 = cage.multi_update (%wa, %ga, %ma, %va), (%wb, %gb, %mb, %vb), %lr, %t {optimizer = #cage.adamw<>} : tensor<8xf32>, tensor<2x2xf32>
  return
}

// One parameter; plain SGD (lr is the only scalar); rank 0 is fine without
// a quantizer, as on cage.sgd; every attribute spelled out, defaults
// included; three parameters with dynamic shapes; a discardable attribute.
// CHECK-LABEL: func.func @multi_update_forms(
// CHECK-SAME:    %[[X:[^:]+]]: tensor<16xf32>, %[[S:[^:]+]]: tensor<f32>, %[[D:[^:]+]]: tensor<?x128xf32>, %[[E:[^:]+]]: tensor<?x?xf32>, %[[LR:[^:]+]]: f32, %[[L:[^:]+]]: f32, %[[T:[^:]+]]: i64
// CHECK:         cage.multi_update (%[[X]], %[[X]], %[[X]]), %[[LR]] {optimizer = #cage.sgd<>} : tensor<16xf32>
// CHECK:         cage.multi_update (%[[S]], %[[S]], %[[S]], %[[S]]), (%[[X]], %[[X]], %[[X]], %[[X]]), %[[LR]], %[[T]] {optimizer = #cage.adamw<beta2 = 0.999, weight_decay = 0.01>} : tensor<f32>, tensor<16xf32>
// CHECK:         cage.multi_update (%[[X]], %[[X]], %[[X]], %[[X]]), %[[LR]], %[[L]], %[[T]] {quantizer = #cage.quantizer<bits = 3>, optimizer = #cage.adamw<>} : tensor<16xf32>
// CHECK:         %{{.*}}:6 = cage.multi_update (%[[D]], %[[D]], %[[D]]), (%[[E]], %[[E]], %[[E]]), (%[[X]], %[[X]], %[[X]]), %[[LR]], %[[L]] {quantizer = #cage.quantizer<>, optimizer = #cage.sgd<momentum = 0.9, nesterov = true>, error = zero_clipped} : tensor<?x128xf32>, tensor<?x?xf32>, tensor<16xf32>
// CHECK:         cage.multi_update (%[[X]], %[[X]], %[[X]]), %[[LR]] {optimizer = #cage.sgd<>, my.tag = 3 : i32} : tensor<16xf32>
// GENERIC-LABEL: sym_name = "multi_update_forms"
// GENERIC:         "cage.multi_update"(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) <{coupling = #cage.coupling<decoupled>, error = #cage.error<keep>, operandSegmentSizes = array<i32: 3, 1, 0, 0>, optimizer = #cage.sgd<>}> : (tensor<16xf32>, tensor<16xf32>, tensor<16xf32>, f32) -> (tensor<16xf32>, tensor<16xf32>)
// GENERIC:         operandSegmentSizes = array<i32: 8, 1, 0, 1>
// GENERIC:         operandSegmentSizes = array<i32: 4, 1, 1, 1>
// GENERIC:         "cage.multi_update"({{.*}}) <{coupling = #cage.coupling<decoupled>, error = #cage.error<zero_clipped>, operandSegmentSizes = array<i32: 9, 1, 1, 0>, optimizer = #cage.sgd<momentum = 0.9, nesterov = true>, quantizer = #cage.quantizer<>}> : (tensor<?x128xf32>, tensor<?x128xf32>, tensor<?x128xf32>, tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>, f32, f32) -> (tensor<?x128xf32>, tensor<?x128xf32>, tensor<?x?xf32>, tensor<?x?xf32>, tensor<16xf32>, tensor<16xf32>)
// GENERIC:         "cage.multi_update"({{.*}}) <{coupling = #cage.coupling<decoupled>, error = #cage.error<keep>, operandSegmentSizes = array<i32: 3, 1, 0, 0>, optimizer = #cage.sgd<>}> {my.tag = 3 : i32}
func.func @multi_update_forms(%x: tensor<16xf32>, %s: tensor<f32>, %d: tensor<?x128xf32>, %e: tensor<?x?xf32>, %lr: f32, %l: f32, %t: i64) {
  %0:2 = cage.multi_update (%x, %x, %x), %lr {optimizer = #cage.sgd<>} : tensor<16xf32>
  %1:6 = cage.multi_update (%s, %s, %s, %s), (%x, %x, %x, %x), %lr, %t {optimizer = #cage.adamw<beta1 = 0.9, beta2 = 0.999, eps = 1.0e-08, weight_decay = 0.01>, coupling = decoupled, error = keep} : tensor<f32>, tensor<16xf32>
  %2:3 = cage.multi_update (%x, %x, %x, %x), %lr, %l, %t {optimizer = #cage.adamw<>, quantizer = #cage.quantizer<bits = 3, granularity = row, rounding = nearest>, coupling = #cage.coupling<decoupled>} : tensor<16xf32>
  %3:6 = cage.multi_update (%d, %d, %d), (%e, %e, %e), (%x, %x, %x), %lr, %l {quantizer = #cage.quantizer<>, optimizer = #cage.sgd<momentum = 0.9, nesterov = true>, error = zero_clipped} : tensor<?x128xf32>, tensor<?x?xf32>, tensor<16xf32>
  %4:2 = cage.multi_update (%x, %x, %x), %lr {my.tag = 3 : i32, optimizer = #cage.sgd<>} : tensor<16xf32>
  return
}

// cage.update with its optimizer state in bf16: the state's type follows the
// type of w, and the seed of the stochastic rounding of the stored state.
// CHECK-LABEL: func.func @update_bf16_state
// CHECK: cage.update %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} seed(%{{.*}}) {quantizer = #cage.quantizer<>, optimizer = #cage.adamw<>} : tensor<64x128xf32>, tensor<64x128xbf16>
// CHECK: cage.update %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} seed(%{{.*}}) {quantizer = #cage.quantizer<bits = 3>, optimizer = #cage.sgd<momentum = 0.9>, coupling = coupled} : tensor<?x7xf32>, tensor<?x7xbf16>
// GENERIC-LABEL: sym_name = "update_bf16_state"
// GENERIC: "cage.update"({{.*}}) <{{{.*}}operandSegmentSizes = array<i32: 1, 1, 2, 1, 1, 1, 1>{{.*}}}> : (tensor<64x128xf32>, tensor<64x128xf32>, tensor<64x128xbf16>, tensor<64x128xbf16>, f32, f32, i64, i64) -> (tensor<64x128xf32>, tensor<64x128xbf16>, tensor<64x128xbf16>)
// GENERIC: "cage.update"({{.*}}) <{{{.*}}operandSegmentSizes = array<i32: 1, 1, 1, 1, 1, 0, 1>{{.*}}}> : (tensor<?x7xf32>, tensor<?x7xf32>, tensor<?x7xbf16>, f32, f32, i64) -> (tensor<?x7xf32>, tensor<?x7xbf16>)
func.func @update_bf16_state(%w: tensor<64x128xf32>, %m: tensor<64x128xbf16>, %v: tensor<64x128xbf16>, %wd: tensor<?x7xf32>, %b: tensor<?x7xbf16>, %lr: f32, %l: f32, %t: i64, %s: i64) {
  %0:3 = cage.update %w, %w, %m, %v, %lr, %l, %t seed(%s) {quantizer = #cage.quantizer<>, optimizer = #cage.adamw<>} : tensor<64x128xf32>, tensor<64x128xbf16>
  %1:2 = cage.update %wd, %wd, %b, %lr, %l seed(%s) {quantizer = #cage.quantizer<bits = 3>, optimizer = #cage.sgd<momentum = 0.9>, coupling = coupled} : tensor<?x7xf32>, tensor<?x7xbf16>
  return
}

// Hyper-parameters of the ops are written like those of #cage.adamw<...>
// and #cage.sgd<...>: a float without a type is an f32 (`: f32` may follow).
// They print as before, with `: f32`.
// CHECK-LABEL: func.func @untyped_f32
// CHECK: cage.lambda_schedule %{{.*}}, %{{.*}} {lambda = 2.5 : f32, silence = 0.5 : f32, kind = constant}
// CHECK: cage.adamw %{{.*}} {beta1 = 0.8 : f32, beta2 = 0.999 : f32, eps = 1.0e-06 : f32, weight_decay = -0.0 : f32} : tensor<4x8xf32>
// CHECK: cage.sgd %{{.*}} {momentum = 0.9 : f32, dampening = 0.5 : f32, weight_decay = 0.01 : f32} : tensor<4x8xf32>
// GENERIC-LABEL: sym_name = "untyped_f32"
// GENERIC: "cage.lambda_schedule"(%{{.*}}, %{{.*}}) <{kind = #cage.schedule_kind<constant>, lambda = 2.500000e+00 : f32, silence = 5.000000e-01 : f32}>
func.func @untyped_f32(%t: i64, %T: i64, %w: tensor<4x8xf32>, %lr: f32) {
  %l = cage.lambda_schedule %t, %T {lambda = 2.5, silence = 0x3F000000, kind = constant}
  %r:3 = cage.adamw %w, %w, %w, %w, %lr, %t {beta1 = 0.8, beta2 = 0.999 : f32, eps = 1.0e-06, weight_decay = -0.0} : tensor<4x8xf32>
  %s:2 = cage.sgd %w, %w, %w, %lr {momentum = 0.9, dampening = 0.5, nesterov = false, weight_decay = 1.0e-02} : tensor<4x8xf32>
  return
}

// Empty tensors are valid operands (the results are empty), except where
// invalid.mlir shows: a static innermost size of 0 in cage.update and
// cage.multi_update, empty scale groups in cage.ste.
// CHECK-LABEL: func.func @empty_tensors
// CHECK: cage.quantize %{{.*}} : tensor<8x0xf32>
// CHECK: cage.quantize %{{.*}} scale(%{{.*}}) {{.*}} : tensor<8x0xf32>, tensor<8x0xf32>
// CHECK: cage.ste %{{.*}} : tensor<0x8xf32>
// CHECK: cage.ste %{{.*}} scale(%{{.*}}) {{.*}} : tensor<8x0xf32>, tensor<8x0xf32>
// CHECK: cage.quant_error %{{.*}} : tensor<0xf32>
// CHECK: cage.adamw %{{.*}} : tensor<8x0xf32>
// CHECK: cage.sgd %{{.*}} : tensor<0xf32>
// CHECK: cage.update %{{.*}} : tensor<0x8xf32>
// CHECK: cage.multi_update (%{{.*}}), %{{.*}} {optimizer = #cage.sgd<>} : tensor<0x8xf32>
func.func @empty_tensors(%r: tensor<8x0xf32>, %c: tensor<0x8xf32>, %v: tensor<0xf32>, %lr: f32, %l: f32, %t: i64) {
  %0 = cage.quantize %r {quantizer = #cage.quantizer<>} : tensor<8x0xf32>
  %1 = cage.quantize %r scale(%r) {quantizer = #cage.quantizer<granularity = group, group_size = 4, scale = operand>} : tensor<8x0xf32>, tensor<8x0xf32>
  %2 = cage.ste %c, %c {quantizer = #cage.quantizer<rotation = hadamard, block = 8>, estimator = clipped} : tensor<0x8xf32>
  %3:2 = cage.ste %r, %r scale(%r) {quantizer = #cage.quantizer<granularity = group, group_size = 4, scale = operand>, estimator = clipped} : tensor<8x0xf32>, tensor<8x0xf32>
  %4 = cage.quant_error %v {quantizer = #cage.quantizer<granularity = tensor>} : tensor<0xf32>
  %5:3 = cage.adamw %r, %r, %r, %r, %lr, %t : tensor<8x0xf32>
  %6:2 = cage.sgd %v, %v, %v, %lr : tensor<0xf32>
  %7:3 = cage.update %c, %c, %c, %c, %lr, %l, %t {quantizer = #cage.quantizer<>, optimizer = #cage.adamw<>} : tensor<0x8xf32>
  %8:2 = cage.multi_update (%c, %c, %c), %lr {optimizer = #cage.sgd<>} : tensor<0x8xf32>
  return
}

//===----------------------------------------------------------------------===//
// cage.fogzo_direction: one (g, w) pair per parameter, one type each.
//===----------------------------------------------------------------------===//

// The example of the op's description, and one parameter with a dynamic
// shape and an explicit epsilon.
// CHECK-LABEL: func.func @fogzo_direction(
// CHECK-SAME:    %[[G0:[^:]+]]: tensor<64x128xf32>, %[[W0:[^:]+]]: tensor<64x128xf32>, %[[G1:[^:]+]]: tensor<64xf32>, %[[W1:[^:]+]]: tensor<64xf32>, %[[T:[^:]+]]: i64, %[[TT:[^:]+]]: i64
// CHECK:         %[[V:.*]]:2, %[[EPS:.*]] = cage.fogzo_direction (%[[G0]], %[[W0]]), (%[[G1]], %[[W1]]), %[[T]], %[[TT]] {fogzo = #cage.fogzo<seed = 7>, quantizers = [#cage.quantizer<>, unit]} : tensor<64x128xf32>, tensor<64xf32>
// CHECK:         return %[[V]]#0, %[[V]]#1, %[[EPS]]
// GENERIC-LABEL: sym_name = "fogzo_direction"
// GENERIC:         "cage.fogzo_direction"(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) <{fogzo = #cage.fogzo<seed = 7>, quantizers = [#cage.quantizer<>, unit]}> : (tensor<64x128xf32>, tensor<64x128xf32>, tensor<64xf32>, tensor<64xf32>, i64, i64) -> (tensor<64x128xf32>, tensor<64xf32>, f32)
func.func @fogzo_direction(%g0: tensor<64x128xf32>, %w0: tensor<64x128xf32>, %g1: tensor<64xf32>, %w1: tensor<64xf32>, %t: i64, %T: i64) -> (tensor<64x128xf32>, tensor<64xf32>, f32) {
  %v:2, %eps = cage.fogzo_direction (%g0, %w0), (%g1, %w1), %t, %T {fogzo = #cage.fogzo<seed = 7>, quantizers = [#cage.quantizer<bits = 4>, unit]} : tensor<64x128xf32>, tensor<64xf32>
  return %v#0, %v#1, %eps : tensor<64x128xf32>, tensor<64xf32>, f32
}

// CHECK-LABEL: func.func @fogzo_direction_dynamic(
// CHECK:         cage.fogzo_direction (%{{.*}}, %{{.*}}), %{{.*}}, %{{.*}} {fogzo = #cage.fogzo<beta_min = 0.0, epsilon = 0.01>, quantizers = [unit]} : tensor<?x7xf32>
func.func @fogzo_direction_dynamic(%g: tensor<?x7xf32>, %w: tensor<?x7xf32>, %t: i64, %T: i64) -> (tensor<?x7xf32>, f32) {
  %v, %eps = cage.fogzo_direction (%g, %w), %t, %T {fogzo = #cage.fogzo<beta_min = 0.0, epsilon = 0.01>, quantizers = [unit]} : tensor<?x7xf32>
  return %v, %eps : tensor<?x7xf32>, f32
}
