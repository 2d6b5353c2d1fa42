// RUN: cage-opt %s | cage-opt | FileCheck %s
// RUN: cage-opt %s --mlir-print-op-generic | cage-opt | FileCheck %s

// #cage.param, the argument attribute of a trained parameter: every
// parameter spelled out, defaults omitted when printed.

// CHECK-LABEL: func.func @defaults
// CHECK-SAME: {cage.param = #cage.param<>}
// CHECK-SAME: {cage.param = #cage.param<>}
func.func @defaults(%x: tensor<4xf32>,
                    %w: tensor<4xf32> {cage.param = #cage.param<>},
                    %v: tensor<4xf32> {cage.param = #cage.param<optimizer = #cage.adamw<beta1 = 0.9, beta2 = 0.95, eps = 1.0e-08, weight_decay = 0.1>, cage = true, coupling = decoupled, error = keep, lambda = 10.0, silence = 0.8, schedule = linear_ramp, estimator = clipped>}) {
  return
}

// CHECK-LABEL: func.func @all
// CHECK-SAME: {cage.param = #cage.param<optimizer = #cage.sgd<momentum = 0.9, nesterov = true>, quantizer = <bits = 3, granularity = tensor>, coupling = coupled, error = zero_clipped, lambda = 5.0, silence = 0.5, schedule = constant, estimator = identity>}
// CHECK-SAME: {cage.param = #cage.param<optimizer = #cage.adamw<weight_decay = 0.0>, cage = false>}
func.func @all(%w: tensor<4x8xf32> {cage.param = #cage.param<optimizer = #cage.sgd<momentum = 0.9, nesterov = true>, quantizer = #cage.quantizer<bits = 3, granularity = tensor>, coupling = coupled, error = zero_clipped, lambda = 5.0, silence = 0.5, schedule = constant, estimator = identity>},
               %b: tensor<8xf32> {cage.param = #cage.param<optimizer = #cage.adamw<weight_decay = 0.0>, cage = false>}) {
  return
}

// FOGZO: the #cage.fogzo settings, spelled out and at their defaults; with
// cage = false a quantizer is the grid of FOGZO's epsilon.
// CHECK-LABEL: func.func @fogzo
// CHECK-SAME: {cage.param = #cage.param<fogzo = <>>}
// CHECK-SAME: {cage.param = #cage.param<cage = false, fogzo = <beta_min = 0.5, start = 0.25, seed = -3, epsilon = 0.001>>}
// CHECK-SAME: {cage.param = #cage.param<cage = false, quantizer = <bits = 3>, fogzo = <seed = 1>>}
func.func @fogzo(%w: tensor<4x8xf32> {cage.param = #cage.param<fogzo = #cage.fogzo<beta_min = 0.999, start = 0.0, seed = 0, epsilon = 0.0>>},
                 %b: tensor<8xf32> {cage.param = #cage.param<cage = false, fogzo = #cage.fogzo<beta_min = 0.5, start = 0.25, seed = -3, epsilon = 0.001>>},
                 %c: tensor<8xf32> {cage.param = #cage.param<cage = false, quantizer = #cage.quantizer<bits = 3>, fogzo = #cage.fogzo<seed = 1>>}) {
  return
}
