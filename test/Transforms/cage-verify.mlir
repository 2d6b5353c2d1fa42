// RUN: cage-opt %s --split-input-file --cage-verify --verify-diagnostics | FileCheck %s
// RUN: cage-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(cage-verify{warn-only=true}))' 2>&1 | FileCheck %s --check-prefix=WARN

// A decoupled update with constant lr and λ_t: lr · λ = 0.5 is stable.
// CHECK-LABEL: func.func @stable
func.func @stable(%w: tensor<8x16xf32>, %g: tensor<8x16xf32>, %m: tensor<8x16xf32>, %v: tensor<8x16xf32>) -> tensor<8x16xf32> {
  %lr = arith.constant 0.05 : f32
  %l = arith.constant 10.0 : f32
  %t = arith.constant 1 : i64
  // CHECK: cage.update
  %w1, %m1, %v1 = cage.update %w, %g, %m, %v, %lr, %l, %t {quantizer = #cage.quantizer<bits = 4>, optimizer = #cage.adamw<>} : tensor<8x16xf32>
  return %w1 : tensor<8x16xf32>
}

// -----

// WARN: warning: decoupled CAGE update is unstable: lr * lambda_t reaches 1 (lr = 0.1, lambda_t up to 10); it must stay below 1
func.func @unstable_constant(%w: tensor<8x16xf32>, %g: tensor<8x16xf32>, %m: tensor<8x16xf32>, %v: tensor<8x16xf32>) -> tensor<8x16xf32> {
  %lr = arith.constant 0.1 : f32
  %l = arith.constant 10.0 : f32
  %t = arith.constant 1 : i64
  // expected-error @+1 {{decoupled CAGE update is unstable: lr * lambda_t reaches 1 (lr = 0.1, lambda_t up to 10); it must stay below 1}}
  %w1, %m1, %v1 = cage.update %w, %g, %m, %v, %lr, %l, %t {quantizer = #cage.quantizer<bits = 4>, optimizer = #cage.adamw<>} : tensor<8x16xf32>
  return %w1 : tensor<8x16xf32>
}

// -----

// λ_t from a schedule reaches its λ once t ≥ T, whatever t is now.
// WARN: warning: decoupled CAGE update is unstable: lr * lambda_t reaches 2 (lr = 0.1, lambda_t up to 20)
func.func @unstable_schedule(%w: tensor<16xf32>, %g: tensor<16xf32>, %b: tensor<16xf32>, %t: i64, %T: i64) -> tensor<16xf32> {
  %lr = arith.constant 0.1 : f32
  %l = cage.lambda_schedule %t, %T {lambda = 20.0 : f32, kind = constant}
  // expected-error @+1 {{lr * lambda_t reaches 2 (lr = 0.1, lambda_t up to 20)}}
  %w1, %b1 = cage.update %w, %g, %b, %lr, %l {quantizer = #cage.quantizer<bits = 4>, optimizer = #cage.sgd<momentum = 0.9>} : tensor<16xf32>
  return %w1 : tensor<16xf32>
}

// -----

// A negative lr · λ_t is just as unstable: the correction pushes w away from
// the grid. lr · λ_t must be in [0, 1).
// WARN: warning: decoupled CAGE update is unstable: lr * lambda_t reaches -100 (lr = -10, lambda_t up to 10); it must be in [0, 1): below 0 the correction pushes w away from the grid
func.func @negative_lr(%w: tensor<8x16xf32>, %g: tensor<8x16xf32>, %m: tensor<8x16xf32>, %v: tensor<8x16xf32>) -> tensor<8x16xf32> {
  %lr = arith.constant -10.0 : f32
  %l = arith.constant 10.0 : f32
  %t = arith.constant 1 : i64
  // expected-error @+1 {{decoupled CAGE update is unstable: lr * lambda_t reaches -100 (lr = -10, lambda_t up to 10); it must be in [0, 1): below 0 the correction pushes w away from the grid}}
  %w1, %m1, %v1 = cage.update %w, %g, %m, %v, %lr, %l, %t {quantizer = #cage.quantizer<bits = 4>, optimizer = #cage.adamw<>} : tensor<8x16xf32>
  return %w1 : tensor<8x16xf32>
}

// -----

// A negative constant λ_t (a cage.lambda_schedule cannot have one).
// WARN: warning: decoupled CAGE update is unstable: lr * lambda_t reaches -0.5 (lr = 0.1, lambda_t up to -5)
func.func @negative_lambda(%w: tensor<16xf32>, %g: tensor<16xf32>, %b: tensor<16xf32>) -> tensor<16xf32> {
  %lr = arith.constant 0.1 : f32
  %l = arith.constant -5.0 : f32
  // expected-error @+1 {{lr * lambda_t reaches -0.5 (lr = 0.1, lambda_t up to -5); it must be in [0, 1)}}
  %w1, %b1 = cage.update %w, %g, %b, %lr, %l {quantizer = #cage.quantizer<bits = 4>, optimizer = #cage.sgd<>} : tensor<16xf32>
  return %w1 : tensor<16xf32>
}

// -----

// λ_t from a schedule runs from 0 to λ: with a negative lr, lr · λ_t reaches
// lr · λ below 0.
// WARN: warning: decoupled CAGE update is unstable: lr * lambda_t reaches -0.1 (lr = -0.01, lambda_t up to 10)
func.func @negative_schedule(%a: tensor<16xf32>, %b: tensor<4x4xf32>, %t: i64, %T: i64) -> tensor<16xf32> {
  %lr = arith.constant -0.01 : f32
  %l = cage.lambda_schedule %t, %T {lambda = 10.0}
  // expected-error @+1 {{lr * lambda_t reaches -0.1 (lr = -0.01, lambda_t up to 10); it must be in [0, 1)}}
  %r:6 = cage.multi_update (%a, %a, %a, %a), (%b, %b, %b, %b), %lr, %l, %t {quantizer = #cage.quantizer<bits = 4>, optimizer = #cage.adamw<>} : tensor<16xf32>, tensor<4x4xf32>
  return %r#0 : tensor<16xf32>
}

// -----

// lr · λ_t = 0 is the plain optimizer step (λ_t = 0, or lr = -0.0): stable.
// CHECK-LABEL: func.func @zero_product
func.func @zero_product(%w: tensor<16xf32>, %g: tensor<16xf32>, %b: tensor<16xf32>) -> tensor<16xf32> {
  %lr = arith.constant -0.0 : f32
  %l = arith.constant 10.0 : f32
  %w1, %b1 = cage.update %w, %g, %b, %lr, %l {quantizer = #cage.quantizer<bits = 4>, optimizer = #cage.sgd<>} : tensor<16xf32>
  return %w1 : tensor<16xf32>
}

// -----

// Coupled CAGE puts λ_t·e into the gradient: no lr · λ_t limit applies.
// CHECK-LABEL: func.func @coupled_is_not_limited
func.func @coupled_is_not_limited(%w: tensor<16xf32>, %g: tensor<16xf32>, %b: tensor<16xf32>) -> tensor<16xf32> {
  %lr = arith.constant 0.5 : f32
  %l = arith.constant 10.0 : f32
  %w1, %b1 = cage.update %w, %g, %b, %lr, %l {quantizer = #cage.quantizer<bits = 4>, optimizer = #cage.sgd<>, coupling = coupled} : tensor<16xf32>
  return %w1 : tensor<16xf32>
}

// -----

// lr or λ_t unknown at compile time: nothing to check.
// CHECK-LABEL: func.func @unknown_lr
func.func @unknown_lr(%w: tensor<16xf32>, %g: tensor<16xf32>, %b: tensor<16xf32>, %lr: f32) -> tensor<16xf32> {
  %l = arith.constant 100.0 : f32
  %w1, %b1 = cage.update %w, %g, %b, %lr, %l {quantizer = #cage.quantizer<bits = 4>, optimizer = #cage.sgd<>} : tensor<16xf32>
  return %w1 : tensor<16xf32>
}

// -----

// WARN: warning: step count t is 1-based, got t = 0
func.func @step_zero_update(%w: tensor<16xf32>, %g: tensor<16xf32>, %m: tensor<16xf32>, %v: tensor<16xf32>, %lr: f32, %l: f32) -> tensor<16xf32> {
  %t = arith.constant 0 : i64
  // expected-error @+1 {{step count t is 1-based, got t = 0: the bias correction 1 - beta^t would be 0}}
  %w1, %m1, %v1 = cage.update %w, %g, %m, %v, %lr, %l, %t {quantizer = #cage.quantizer<bits = 4>, optimizer = #cage.adamw<>} : tensor<16xf32>
  return %w1 : tensor<16xf32>
}

// -----

// WARN: warning: step count t is 1-based, got t = -3
func.func @step_negative_adamw(%w: tensor<16xf32>, %g: tensor<16xf32>, %m: tensor<16xf32>, %v: tensor<16xf32>, %lr: f32) -> tensor<16xf32> {
  %t = arith.constant -3 : i64
  // expected-error @+1 {{step count t is 1-based, got t = -3}}
  %w1, %m1, %v1 = cage.adamw %w, %g, %m, %v, %lr, %t : tensor<16xf32>
  return %w1 : tensor<16xf32>
}

// -----

// WARN: warning: total step count T must be at least 1, got T = 0
func.func @total_zero(%t: i64) -> f32 {
  %T = arith.constant 0 : i64
  // expected-error @+1 {{total step count T must be at least 1, got T = 0}}
  %l = cage.lambda_schedule %t, %T
  return %l : f32
}

// -----

// bf16 state: the seed follows the step, which is still found.
// WARN: warning: step count t is 1-based, got t = 0
// WARN: warning: decoupled CAGE update is unstable: lr * lambda_t reaches 2 (lr = 0.2, lambda_t up to 10); it must stay below 1
func.func @bf16_state(%w: tensor<16xf32>, %g: tensor<16xf32>, %m: tensor<16xbf16>, %v: tensor<16xbf16>, %s: i64) -> tensor<16xf32> {
  %t = arith.constant 0 : i64
  %lr = arith.constant 0.2 : f32
  %l = arith.constant 10.0 : f32
  // expected-error @+2 {{step count t is 1-based, got t = 0: the bias correction 1 - beta^t would be 0}}
  // expected-error @+1 {{decoupled CAGE update is unstable: lr * lambda_t reaches 2 (lr = 0.2, lambda_t up to 10); it must stay below 1}}
  %w1, %m1, %v1 = cage.update %w, %g, %m, %v, %lr, %l, %t seed(%s) {quantizer = #cage.quantizer<bits = 4>, optimizer = #cage.adamw<>} : tensor<16xf32>, tensor<16xbf16>
  return %w1 : tensor<16xf32>
}

// -----

// cage.multi_update: the same checks on its shared scalars.
// WARN: warning: step count t is 1-based, got t = 0
// WARN: warning: decoupled CAGE update is unstable: lr * lambda_t reaches 2 (lr = 0.2, lambda_t up to 10); it must stay below 1
func.func @multi(%a: tensor<16xf32>, %b: tensor<4x4xf32>) -> tensor<16xf32> {
  %t = arith.constant 0 : i64
  %lr = arith.constant 0.2 : f32
  %l = arith.constant 10.0 : f32
  // expected-error @+2 {{step count t is 1-based, got t = 0: the bias correction 1 - beta^t would be 0}}
  // expected-error @+1 {{decoupled CAGE update is unstable: lr * lambda_t reaches 2 (lr = 0.2, lambda_t up to 10); it must stay below 1}}
  %r:6 = cage.multi_update (%a, %a, %a, %a), (%b, %b, %b, %b), %lr, %l, %t {quantizer = #cage.quantizer<bits = 4>, optimizer = #cage.adamw<>} : tensor<16xf32>, tensor<4x4xf32>
  return %r#0 : tensor<16xf32>
}

// -----

// A plain multi-tensor AdamW step has no λ_t; its t is checked.
// WARN: warning: step count t is 1-based, got t = 0
func.func @multi_plain(%a: tensor<16xf32>, %b: tensor<4x4xf32>, %lr: f32) -> tensor<16xf32> {
  %t = arith.constant 0 : i64
  // expected-error @+1 {{step count t is 1-based, got t = 0: the bias correction 1 - beta^t would be 0}}
  %r:6 = cage.multi_update (%a, %a, %a, %a), (%b, %b, %b, %b), %lr, %t {optimizer = #cage.adamw<>} : tensor<16xf32>, tensor<4x4xf32>
  return %r#0 : tensor<16xf32>
}
