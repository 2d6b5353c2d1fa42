// RUN: cage-opt %s --split-input-file --cage-convert-math-to-arith | FileCheck %s

// math.exp of an f32 scalar (a linalg body, as the CPU pipeline runs it):
// Semantics.md §1.7, n = roundeven(x·log2 e), r in two steps, P(r) by
// Horner's rule, 2^n as two exponent fields; +inf above, 0 below the range,
// NaN passed through. Separate multiplies and adds: no math.fma.
// CHECK-LABEL: func.func @exp
// CHECK-NOT: math.exp
// CHECK: linalg.generic
// CHECK: ^bb0(%[[X:.*]]: f32, %{{.*}}: f32):
// CHECK: %[[HI:.*]] = arith.constant 88.7228394 : f32
// CHECK: %[[LO:.*]] = arith.constant -103.972084 : f32
// CHECK: %[[C0:.*]] = arith.maxnumf %[[X]], %[[LO]] : f32
// CHECK: %[[C:.*]] = arith.minnumf %[[C0]], %[[HI]] : f32
// CHECK: %[[T:.*]] = arith.mulf %[[C]], %{{.*}} : f32
// CHECK: %[[N:.*]] = math.roundeven %[[T]] : f32
// CHECK: arith.fptosi %[[N]] : f32 to i32
// CHECK: arith.shrsi
// CHECK: arith.shli
// CHECK: arith.bitcast {{.*}} : i32 to f32
// CHECK: arith.cmpf ogt, %[[X]], %[[HI]] : f32
// CHECK: arith.cmpf olt, %[[X]], %[[LO]] : f32
// CHECK: %[[NAN:.*]] = arith.cmpf uno, %[[X]], %[[X]] : f32
// CHECK: %[[Y:.*]] = arith.select %[[NAN]], %[[X]], %{{.*}} : f32
// CHECK: linalg.yield %[[Y]] : f32
// CHECK-NOT: math.fma
#id = affine_map<(d0) -> (d0)>
func.func @exp(%x: tensor<?xf32>, %init: tensor<?xf32>) -> tensor<?xf32> {
  %y = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]}
      ins(%x : tensor<?xf32>) outs(%init : tensor<?xf32>) {
  ^bb0(%a: f32, %b: f32):
    %e = math.exp %a : f32
    linalg.yield %e : f32
  } -> tensor<?xf32>
  return %y : tensor<?xf32>
}

// -----

// math.erf: odd (absf, then copysign), the small-argument polynomial below
// 0.8 and 1 − exp(−b²)·Q(t) above, with exp expanded as above; any op
// anchors the pass (here a function body).
// CHECK-LABEL: func.func @erf
// CHECK-SAME: (%[[X:.*]]: f32)
// CHECK-NOT: math.erf
// CHECK-NOT: math.exp
// CHECK: %[[A:.*]] = math.absf %[[X]] : f32
// CHECK: %[[SPLIT:.*]] = arith.constant 8.000000e-01 : f32
// CHECK: arith.maxnumf %[[A]], %[[SPLIT]] : f32
// CHECK: math.roundeven
// CHECK: %[[LT:.*]] = arith.cmpf olt, %[[A]], %[[SPLIT]] : f32
// CHECK: %[[S:.*]] = arith.select %[[LT]]
// CHECK: %[[SIGNED:.*]] = math.copysign %[[S]], %[[X]] : f32
// CHECK: %[[NAN:.*]] = arith.cmpf uno, %[[X]], %[[X]] : f32
// CHECK: %[[Y:.*]] = arith.select %[[NAN]], %[[X]], %[[SIGNED]] : f32
// CHECK: return %[[Y]] : f32
func.func @erf(%x: f32) -> f32 {
  %y = math.erf %x : f32
  return %y : f32
}

// -----

// Other element types, vectors and tensors keep their math ops: the pass
// rewrites f32 scalars only (the CPU pipeline's linalg bodies).
// CHECK-LABEL: func.func @kept
// CHECK: math.exp %{{.*}} : f64
// CHECK: math.erf %{{.*}} : f16
// CHECK: math.exp %{{.*}} : vector<16xf32>
// CHECK: math.erf %{{.*}} : tensor<4xf32>
func.func @kept(%a: f64, %b: f16, %c: vector<16xf32>, %d: tensor<4xf32>)
    -> (f64, f16, vector<16xf32>, tensor<4xf32>) {
  %0 = math.exp %a : f64
  %1 = math.erf %b : f16
  %2 = math.exp %c : vector<16xf32>
  %3 = math.erf %d : tensor<4xf32>
  return %0, %1, %2, %3 : f64, f16, vector<16xf32>, tensor<4xf32>
}
