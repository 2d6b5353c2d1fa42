// cage-cpu-pipeline runs cage-verify before lowering, after the fusion
// passes: an update that cage-verify rejects (decoupled lr * lambda_t outside
// [0, 1), a constant step t < 1, a constant total T < 1) stops compilation
// with its diagnostic, in cage-opt, cage-compile and cage-run alike, whether
// it was written as a cage.update or fused from its unfused spelling.
// RUN: cage-opt %s --split-input-file --cage-cpu-pipeline --verify-diagnostics | FileCheck %s
// RUN: not cage-compile %s -o %t.o 2>&1 | FileCheck %s --check-prefix=COMPILE
// RUN: rm -rf %t && mkdir -p %t
// RUN: %python %S/Inputs/write_npy.py %t/a.npy '<f4' 8,16
// RUN: %python %S/Inputs/write_npy.py %t/t.npy '<i8' ''
// RUN: not cage-run %s --entry stable --in %t/a.npy --in %t/a.npy --in %t/a.npy --in %t/a.npy --in %t/t.npy --in %t/t.npy --out %t/w.npy 2>&1 | FileCheck %s --check-prefix=COMPILE

// COMPILE: error: decoupled CAGE update is unstable: lr * lambda_t reaches 1 (lr = 0.1, lambda_t up to 10); it must stay below 1
// COMPILE: error: decoupled CAGE update is unstable: lr * lambda_t reaches -100 (lr = -10, lambda_t up to 10); it must be in [0, 1): below 0 the correction pushes w away from the grid
// COMPILE: error: step count t is 1-based, got t = 0: the bias correction 1 - beta^t would be 0
// COMPILE: error: total step count T must be at least 1, got T = 0
// COMPILE: error: decoupled CAGE update is unstable: lr * lambda_t reaches 1 (lr = 0.1, lambda_t up to 10); it must stay below 1
// COMPILE-NOT: error

func.func @unstable(%w: tensor<8x16xf32>, %g: tensor<8x16xf32>, %m: tensor<8x16xf32>, %v: tensor<8x16xf32>, %t: i64) -> tensor<8x16xf32> {
  %lr = arith.constant 0.1 : f32
  %l = arith.constant 10.0 : f32
  // expected-error @+1 {{decoupled CAGE update is unstable: lr * lambda_t reaches 1 (lr = 0.1, lambda_t up to 10); it must stay below 1}}
  %w1, %m1, %v1 = cage.update %w, %g, %m, %v, %lr, %l, %t {quantizer = #cage.quantizer<bits = 4>, optimizer = #cage.adamw<>} : tensor<8x16xf32>
  return %w1 : tensor<8x16xf32>
}

// -----

// A negative learning rate with a schedule: lr * lambda_t reaches lr * lambda.
func.func @negative(%w: tensor<16xf32>, %g: tensor<16xf32>, %b: tensor<16xf32>, %t: i64, %T: i64) -> tensor<16xf32> {
  %lr = arith.constant -10.0 : f32
  %l = cage.lambda_schedule %t, %T {lambda = 10.0}
  // expected-error @+1 {{decoupled CAGE update is unstable: lr * lambda_t reaches -100 (lr = -10, lambda_t up to 10); it must be in [0, 1): below 0 the correction pushes w away from the grid}}
  %w1, %b1 = cage.update %w, %g, %b, %lr, %l {quantizer = #cage.quantizer<bits = 4>, optimizer = #cage.sgd<momentum = 0.9>} : tensor<16xf32>
  return %w1 : tensor<16xf32>
}

// -----

func.func @step_zero(%w: tensor<16xf32>, %g: tensor<16xf32>, %m: tensor<16xf32>, %v: tensor<16xf32>, %lr: f32, %l: f32) -> tensor<16xf32> {
  %t = arith.constant 0 : i64
  // expected-error @+1 {{step count t is 1-based, got t = 0: the bias correction 1 - beta^t would be 0}}
  %w1, %m1, %v1 = cage.update %w, %g, %m, %v, %lr, %l, %t {quantizer = #cage.quantizer<bits = 4>, optimizer = #cage.adamw<>} : tensor<16xf32>
  return %w1 : tensor<16xf32>
}

// -----

func.func @total_zero(%t: i64) -> f32 {
  %T = arith.constant 0 : i64
  // expected-error @+1 {{total step count T must be at least 1, got T = 0}}
  %l = cage.lambda_schedule %t, %T
  return %l : f32
}

// -----

// The unfused spelling of the unstable step: cage-fuse-correction makes it a
// cage.update (at the location of the cage.quant_error), which cage-verify
// then rejects.
func.func @unstable_unfused(%w: tensor<16xf32>, %g: tensor<16xf32>, %b: tensor<16xf32>) -> tensor<16xf32> {
  %lr = arith.constant 0.1 : f32
  %l = arith.constant 10.0 : f32
  // expected-error @+1 {{decoupled CAGE update is unstable: lr * lambda_t reaches 1 (lr = 0.1, lambda_t up to 10); it must stay below 1}}
  %e = cage.quant_error %w {quantizer = #cage.quantizer<bits = 4>} : tensor<16xf32>
  %w1, %b1 = cage.sgd %w, %g, %b, %lr {momentum = 0.9 : f32} : tensor<16xf32>
  %f = arith.mulf %lr, %l : f32
  %fs = tensor.splat %f : tensor<16xf32>
  %c = arith.mulf %fs, %e : tensor<16xf32>
  %w2 = arith.subf %w1, %c : tensor<16xf32>
  return %w2 : tensor<16xf32>
}

// -----

// Stable (lr * lambda_t = 0.5), t and T unknown: compiled.
// CHECK-LABEL: llvm.func @stable(
func.func @stable(%w: tensor<8x16xf32>, %g: tensor<8x16xf32>, %m: tensor<8x16xf32>, %v: tensor<8x16xf32>, %t: i64, %T: i64) -> tensor<8x16xf32> {
  %lr = arith.constant 0.05 : f32
  %l = cage.lambda_schedule %t, %T
  %w1, %m1, %v1 = cage.update %w, %g, %m, %v, %lr, %l, %t {quantizer = #cage.quantizer<bits = 4>, optimizer = #cage.adamw<>} : tensor<8x16xf32>
  return %w1 : tensor<8x16xf32>
}
