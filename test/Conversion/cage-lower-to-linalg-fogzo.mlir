// RUN: cage-opt %s --split-input-file --cage-lower-to-linalg | FileCheck %s

// cage.fogzo_direction (docs/Semantics.md §1.6) in linalg: the f64 sum of
// g^2 over every parameter in order (one all-reduction generic per
// parameter, chained), the norm and beta_t as scalars, sigma from one
// Philox call with counter (0, 0, 0xFFFFFFFF, t), v element-wise with a
// Philox call per element (counter (i lo, i hi, k, t lo)), and eps from the
// mean grid step of the quantized parameters (or the attribute's).

func.func @two_params(%g0: tensor<4x8xf32>, %w0: tensor<4x8xf32>, %g1: tensor<?xf32>, %w1: tensor<?xf32>, %t: i64, %T: i64) -> (tensor<4x8xf32>, tensor<?xf32>, f32) {
  %v:2, %eps = cage.fogzo_direction (%g0, %w0), (%g1, %w1), %t, %T {fogzo = #cage.fogzo<seed = 7>, quantizers = [#cage.quantizer<bits = 4>, unit]} : tensor<4x8xf32>, tensor<?xf32>
  return %v#0, %v#1, %eps : tensor<4x8xf32>, tensor<?xf32>, f32
}
// CHECK-LABEL: func.func @two_params(
// CHECK-SAME:    %[[G0:[^:]+]]: tensor<4x8xf32>, %[[W0:[^:]+]]: tensor<4x8xf32>, %[[G1:[^:]+]]: tensor<?xf32>, %[[W1:[^:]+]]: tensor<?xf32>, %[[T:[^:]+]]: i64, %[[TT:[^:]+]]: i64
// CHECK-NOT:     cage.fogzo_direction (
// The run-time checks of t and T.
// CHECK:         %[[TOK:.*]] = arith.cmpi sge, %[[T]], %{{.*}} : i64
// CHECK:         cf.assert %[[TOK]], "{{.*}}'cage.fogzo_direction' step t is less than 1 (FOGZO counts steps from 1)"
// CHECK:         cf.assert %{{.*}}, "{{.*}}'cage.fogzo_direction' total steps T is less than 1"
// The norm: g0 then g1 into one f64 sum.
// CHECK:         %[[S0:.*]] = linalg.generic {{.*}} iterator_types = ["reduction", "reduction"]} ins(%[[G0]] : tensor<4x8xf32>) outs(%{{.*}} : tensor<f64>)
// CHECK:           arith.extf {{.*}} : f32 to f64
// CHECK:         %[[S1:.*]] = linalg.generic {{.*}} iterator_types = ["reduction"]} ins(%[[G1]] : tensor<?xf32>) outs(%[[S0]] : tensor<f64>)
// CHECK:         %[[SUM:.*]] = tensor.extract %[[S1]][] : tensor<f64>
// CHECK:         %[[NORM:.*]] = math.sqrt %[[SUM]] : f64
// CHECK:         %[[SMALL:.*]] = arith.cmpf olt, %[[NORM]], %{{.*}} : f64
// CHECK:         %[[N64:.*]] = arith.select %[[SMALL]], %{{.*}}, %[[NORM]] : f64
// CHECK:         %[[N32:.*]] = arith.truncf %[[N64]] : f64 to f32
// sigma: bit 0 of word 0.
// CHECK:         %[[BIT:.*]] = arith.andi %{{.*}}, %{{.*}} : i32
// CHECK:         %[[PLUS:.*]] = arith.cmpi eq, %[[BIT]], %{{.*}} : i32
// CHECK:         arith.select %[[PLUS]], %{{.*}}, %{{.*}} : f32
// v of each parameter: g / norm, and the noise's 24 bits.
// CHECK:         %[[V0:.*]] = linalg.generic {{.*}} ins(%[[G0]] : tensor<4x8xf32>)
// CHECK:           arith.shrui %{{.*}}, %{{.*}} : i32
// CHECK:           arith.uitofp %{{.*}} : i32 to f32
// CHECK:           arith.divf %{{.*}}, %[[N32]] : f32
// CHECK:         %[[V1:.*]] = linalg.generic {{.*}} ins(%[[G1]] : tensor<?xf32>)
// CHECK:           arith.divf %{{.*}}, %[[N32]] : f32
// eps from w0's row steps: sum of n_group * step over the groups, / count,
// / (2 sqrt 3).
// CHECK:         linalg.generic {{.*}} ins(%[[W0]] : tensor<4x8xf32>)
// CHECK:           arith.maximumf
// CHECK:         %[[STEPS:.*]] = linalg.generic
// CHECK:           arith.divf
// CHECK:         %[[HS:.*]] = linalg.generic {{.*}} iterator_types = ["reduction"]} ins(%[[STEPS]] : tensor<4xf32>) outs(%{{.*}} : tensor<f64>)
// CHECK:           arith.mulf %{{.*}}, %{{.*}} : f64
// CHECK:         %[[H:.*]] = arith.divf %{{.*}}, %{{.*}} : f64
// CHECK:         %[[E64:.*]] = arith.divf %[[H]], %{{.*}} : f64
// CHECK:         %[[E:.*]] = arith.truncf %[[E64]] : f64 to f32
// CHECK:         return %[[V0]], %[[V1]], %[[E]]

// -----

// An explicit epsilon is a constant: no grid is read.
func.func @explicit_epsilon(%g: tensor<7xf32>, %w: tensor<7xf32>, %t: i64, %T: i64) -> (tensor<7xf32>, f32) {
  %v, %eps = cage.fogzo_direction (%g, %w), %t, %T {fogzo = #cage.fogzo<beta_min = 0.0, epsilon = 0.25>, quantizers = [#cage.quantizer<bits = 4>]} : tensor<7xf32>
  return %v, %eps : tensor<7xf32>, f32
}
// CHECK-LABEL: func.func @explicit_epsilon(
// CHECK-SAME:    %[[W:[^:]+]]: tensor<7xf32>, %{{[^:]+}}: i64
// CHECK-DAG:     %[[EPS:.*]] = arith.constant 2.500000e-01 : f32
// CHECK-NOT:     ins(%[[W]]
// CHECK:         return %{{.*}}, %[[EPS]] : tensor<7xf32>, f32

// -----

// direction = unit_rms: the divisor is the norm over sqrt(n), n the
// elements of every g (here 7 + 2 * 3: sqrt(13), folded).
func.func @unit_rms(%g0: tensor<7xf32>, %g1: tensor<2x3xf32>, %t: i64, %T: i64) -> (tensor<7xf32>, tensor<2x3xf32>, f32) {
  %v:2, %eps = cage.fogzo_direction (%g0, %g0), (%g1, %g1), %t, %T {fogzo = #cage.fogzo<epsilon = 0.5, direction = unit_rms>, quantizers = [unit, unit]} : tensor<7xf32>, tensor<2x3xf32>
  return %v#0, %v#1, %eps : tensor<7xf32>, tensor<2x3xf32>, f32
}
// CHECK-LABEL: func.func @unit_rms(
// CHECK-DAG:     %[[ROOT:.*]] = arith.constant 3.60555127546398{{[0-9]*}} : f64
// CHECK:         %[[NORM:.*]] = math.sqrt %{{.*}} : f64
// CHECK:         %[[RMS:.*]] = arith.divf %[[NORM]], %[[ROOT]] : f64
// CHECK:         %[[SMALL:.*]] = arith.cmpf olt, %[[NORM]], %{{.*}} : f64
// CHECK:         arith.select %[[SMALL]], %{{.*}}, %[[RMS]] : f64
