// RUN: cage-opt %s --split-input-file --cage-lower-to-linalg | FileCheck %s

// The schedule is scalar arith: r = min(t / T, 1), then r <= s ? 0 : λ_t.
// CHECK-LABEL: func.func @linear_ramp
// CHECK-SAME:    (%[[T:.*]]: i64, %[[TT:.*]]: i64)
// CHECK-DAG:     %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-DAG:     %[[S:.*]] = arith.constant 8.000000e-01 : f32
// CHECK-DAG:     %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// CHECK-DAG:     %[[TTF:.*]] = arith.sitofp %[[TT]] : i64 to f32
// CHECK-DAG:     %[[TF:.*]] = arith.sitofp %[[T]] : i64 to f32
// CHECK:         %[[RATIO:.*]] = arith.divf %[[TF]], %[[TTF]] : f32
// CHECK:         %[[LT:.*]] = arith.cmpf olt, %[[RATIO]], %[[ONE]] : f32
// CHECK:         %[[R:.*]] = arith.select %[[LT]], %[[RATIO]], %[[ONE]] : f32
// CHECK:         %[[RS:.*]] = arith.subf %[[R]], %[[S]] : f32
// CHECK:         %[[NUM:.*]] = arith.mulf %[[RS]], %{{.*}} : f32
// CHECK:         %[[RAMP:.*]] = arith.divf %[[NUM]], %{{.*}} : f32
// CHECK:         %[[SILENT:.*]] = arith.cmpf ole, %[[R]], %[[S]] : f32
// CHECK:         %[[L:.*]] = arith.select %[[SILENT]], %[[ZERO]], %[[RAMP]]
// CHECK:         return %[[L]]
// CHECK-NOT:     cage.
func.func @linear_ramp(%t: i64, %T: i64) -> f32 {
  %l = cage.lambda_schedule %t, %T
  return %l : f32
}

// -----

// constant: no ramp, λ itself once r > s.
// CHECK-LABEL: func.func @constant_schedule
// CHECK-DAG:     %[[LAMBDA:.*]] = arith.constant 3.000000e+00 : f32
// CHECK-NOT:     arith.mulf
// CHECK:         %[[SILENT:.*]] = arith.cmpf ole
// CHECK:         arith.select %[[SILENT]], %{{.*}}, %[[LAMBDA]] : f32
func.func @constant_schedule(%t: i64, %T: i64) -> f32 {
  %l = cage.lambda_schedule %t, %T {lambda = 3.0 : f32, silence = 0.5 : f32, kind = constant}
  return %l : f32
}

// -----

// AdamW: the step's scalars once, then one element-wise op that reads w, g,
// m, v and writes w, m, v, in the reference's order of operations. The bias
// corrections 1 − β^t: β^t by binary exponentiation in f64 over the 64 bits
// of t (a select keeps the product where the bit is set), 1 − p in f64,
// rounded once to f32; no math.powf.
// CHECK-LABEL: func.func @adamw
// CHECK-SAME:    %[[LR:[a-z0-9]+]]: f32, %[[T:[a-z0-9]+]]: i64)
// CHECK-DAG:     %[[BETA1:.*]] = arith.constant 0.89999997615814208 : f64
// CHECK-DAG:     %[[ONE:.*]] = arith.constant 1.000000e+00 : f64
// CHECK-NOT:     math.powf
// CHECK:         %[[LRWD:.*]] = arith.mulf %[[LR]], %{{.*}} : f32
// CHECK:         %[[DECAY:.*]] = arith.subf %{{.*}}, %[[LRWD]] : f32
// CHECK:         %[[P1:.*]]:2 = scf.for %[[I:.*]] = %c0 to %c64 step %c1 iter_args(%[[P:.*]] = %[[ONE]], %[[SQ:.*]] = %[[BETA1]]) -> (f64, f64)
// CHECK:           %[[SHIFT:.*]] = arith.index_cast %[[I]] : index to i64
// CHECK:           %[[BITS:.*]] = arith.shrui %[[T]], %[[SHIFT]] : i64
// CHECK:           %[[BIT:.*]] = arith.andi %[[BITS]], %c1_i64 : i64
// CHECK:           %[[SET:.*]] = arith.cmpi ne, %[[BIT]], %c0_i64 : i64
// CHECK:           %[[PSQ:.*]] = arith.mulf %[[P]], %[[SQ]] : f64
// CHECK:           %[[NEXTP:.*]] = arith.select %[[SET]], %[[PSQ]], %[[P]] : f64
// CHECK:           %[[NEXTSQ:.*]] = arith.mulf %[[SQ]], %[[SQ]] : f64
// CHECK:           scf.yield %[[NEXTP]], %[[NEXTSQ]] : f64, f64
// CHECK:         %[[D1:.*]] = arith.subf %[[ONE]], %[[P1]]#0 : f64
// CHECK:         %[[BC1:.*]] = arith.truncf %[[D1]] : f64 to f32
// CHECK:         %[[P2:.*]]:2 = scf.for
// CHECK:         %[[D2:.*]] = arith.subf %[[ONE]], %[[P2]]#0 : f64
// CHECK:         %[[BC2:.*]] = arith.truncf %[[D2]] : f64 to f32
// CHECK:         linalg.generic
// CHECK-SAME:      iterator_types = ["parallel", "parallel"]
// CHECK-SAME:      outs({{.*}} : tensor<4x?xf32>, tensor<4x?xf32>, tensor<4x?xf32>)
// CHECK:         ^bb0(%[[W:[a-z0-9_]+]]: f32, %[[G:[a-z0-9_]+]]: f32, %[[M:[a-z0-9_]+]]: f32, %[[V:[a-z0-9_]+]]: f32,
// CHECK:           %[[WD:.*]] = arith.mulf %[[W]], %[[DECAY]]
// CHECK:           %[[GG:.*]] = arith.mulf %[[G]], %[[G]]
// CHECK:           %[[MHAT:.*]] = arith.divf %[[M1:.*]], %[[BC1]]
// CHECK:           %[[VHAT:.*]] = arith.divf %[[V1:.*]], %[[BC2]]
// CHECK:           %[[SQRT:.*]] = math.sqrt %[[VHAT]]
// CHECK:           %[[DEN:.*]] = arith.addf %[[SQRT]], %{{.*}}
// CHECK:           %[[NUM:.*]] = arith.mulf %[[LR]], %[[MHAT]]
// CHECK:           %[[DELTA:.*]] = arith.divf %[[NUM]], %[[DEN]]
// CHECK:           %[[W2:.*]] = arith.subf %[[WD]], %[[DELTA]]
// CHECK:           linalg.yield %[[W2]], %[[M1]], %[[V1]]
// CHECK-NOT:     cage.
func.func @adamw(%w: tensor<4x?xf32>, %g: tensor<4x?xf32>, %m: tensor<4x?xf32>, %v: tensor<4x?xf32>, %lr: f32, %t: i64) -> (tensor<4x?xf32>, tensor<4x?xf32>, tensor<4x?xf32>) {
  %w1, %m1, %v1 = cage.adamw %w, %g, %m, %v, %lr, %t : tensor<4x?xf32>
  return %w1, %m1, %v1 : tensor<4x?xf32>, tensor<4x?xf32>, tensor<4x?xf32>
}

// -----

// SGD with weight decay, momentum and Nesterov: d = g + wd·w,
// b = μ·b + (1 − τ)·d, w − lr·(d + μ·b).
// CHECK-LABEL: func.func @sgd_nesterov
// CHECK-SAME:    %[[LR:[a-z0-9]+]]: f32)
// CHECK-DAG:     %[[MU:.*]] = arith.constant 0.899999976 : f32
// CHECK-DAG:     %[[WDC:.*]] = arith.constant 0.00999999977 : f32
// CHECK:         linalg.generic
// CHECK-SAME:      iterator_types = ["parallel"]
// CHECK:         ^bb0(%[[W:[a-z0-9_]+]]: f32, %[[G:[a-z0-9_]+]]: f32, %[[B:[a-z0-9_]+]]: f32,
// CHECK:           %[[WDW:.*]] = arith.mulf %[[W]], %[[WDC]]
// CHECK:           %[[D:.*]] = arith.addf %[[G]], %[[WDW]]
// CHECK:           %[[MB:.*]] = arith.mulf %[[B]], %[[MU]]
// CHECK:           %[[B1:.*]] = arith.addf %[[MB]], %[[D]]
// CHECK:           %[[MB1:.*]] = arith.mulf %[[B1]], %[[MU]]
// CHECK:           %[[NEST:.*]] = arith.addf %[[D]], %[[MB1]]
// CHECK:           %[[STEP:.*]] = arith.mulf %[[LR]], %[[NEST]]
// CHECK:           %[[W1:.*]] = arith.subf %[[W]], %[[STEP]]
// CHECK:           linalg.yield %[[W1]], %[[B1]]
func.func @sgd_nesterov(%w: tensor<7xf32>, %g: tensor<7xf32>, %b: tensor<7xf32>, %lr: f32) -> (tensor<7xf32>, tensor<7xf32>) {
  %w1, %b1 = cage.sgd %w, %g, %b, %lr {momentum = 0.9 : f32, nesterov = true, weight_decay = 0.01 : f32} : tensor<7xf32>
  return %w1, %b1 : tensor<7xf32>, tensor<7xf32>
}

// -----

// SGD with dampening: (1 − τ)·g is folded to a constant factor.
// CHECK-LABEL: func.func @sgd_dampening
// CHECK-DAG:     %[[DAMP:.*]] = arith.constant 7.500000e-01 : f32
// CHECK:         ^bb0(%[[W:[a-z0-9_]+]]: f32, %[[G:[a-z0-9_]+]]: f32, %[[B:[a-z0-9_]+]]: f32,
// CHECK:           arith.mulf %[[G]], %[[DAMP]]
func.func @sgd_dampening(%w: tensor<2x3x5xf32>, %g: tensor<2x3x5xf32>, %b: tensor<2x3x5xf32>, %lr: f32) -> (tensor<2x3x5xf32>, tensor<2x3x5xf32>) {
  %w1, %b1 = cage.sgd %w, %g, %b, %lr {momentum = 0.5 : f32, dampening = 0.25 : f32} : tensor<2x3x5xf32>
  return %w1, %b1 : tensor<2x3x5xf32>, tensor<2x3x5xf32>
}

// -----

// Without momentum the buffer is returned unchanged, and a zero weight decay
// adds nothing (g + 0·w would turn −0 into +0).
// CHECK-LABEL: func.func @sgd_plain
// CHECK:         ^bb0(%[[W:[a-z0-9_]+]]: f32, %[[G:[a-z0-9_]+]]: f32, %[[B:[a-z0-9_]+]]: f32,
// CHECK-NEXT:      %[[STEP:.*]] = arith.mulf %{{.*}}, %[[G]]
// CHECK-NEXT:      %[[W1:.*]] = arith.subf %[[W]], %[[STEP]]
// CHECK-NEXT:      linalg.yield %[[W1]], %[[B]]
func.func @sgd_plain(%w: tensor<?xf32>, %g: tensor<?xf32>, %b: tensor<?xf32>, %lr: f32) -> (tensor<?xf32>, tensor<?xf32>) {
  %w1, %b1 = cage.sgd %w, %g, %b, %lr : tensor<?xf32>
  return %w1, %b1 : tensor<?xf32>, tensor<?xf32>
}

// -----

// Decoupled CAGE-SGD, fused: one scf.forall over chunks of rows, in each row
// the scale (a max loop over the bits of |w|) and one element-wise generic that reads g
// and updates w and b in place: e = w − Q(w), the SGD step, then
// w − (lr·λ_t)·e, whatever λ_t is. No cage op and no parameter-sized
// tensor.empty remain.
// CHECK-LABEL: func.func @update_decoupled
// CHECK-SAME:    (%[[W:[a-z0-9]+]]: tensor<4x8xf32>, %[[G:[a-z0-9]+]]: tensor<4x8xf32>,
// CHECK-SAME:     %[[B:[a-z0-9]+]]: tensor<4x8xf32>, %[[LR:[a-z0-9]+]]: f32,
// CHECK-SAME:     %[[L:[a-z0-9]+]]: f32)
// CHECK-NOT:     tensor.empty
// CHECK:         %[[C:.*]] = arith.mulf %[[LR]], %[[L]] : f32
// CHECK:         %[[LOOP:.*]]:2 = scf.forall (%{{.*}}) in (%{{.*}}) shared_outs(%[[WO:.*]] = %[[W]], %[[BO:.*]] = %[[B]])
// CHECK:           tensor.extract_slice %[[WO]]
// CHECK:           tensor.extract_slice %[[BO]]
// CHECK:           scf.for
// CHECK:             %[[GROW:.*]] = tensor.extract_slice %[[G]]
// CHECK:             %[[WROW:.*]] = tensor.extract_slice %{{.*}} : tensor<?x8xf32> to tensor<8xf32>
// CHECK:             %[[BROW:.*]] = tensor.extract_slice %{{.*}} : tensor<?x8xf32> to tensor<8xf32>
// CHECK:             %[[MAXBITS:.*]] = scf.for {{.*}} -> (i32)
// CHECK:               %[[X:.*]] = tensor.extract %[[WROW]]
// CHECK:               %[[XBITS:.*]] = arith.bitcast %[[X]] : f32 to i32
// CHECK:               %[[ABS:.*]] = arith.andi %[[XBITS]], %c2147483647_i32
// CHECK:               arith.maxui %[[ABS]]
// CHECK:             %[[MAX:.*]] = arith.bitcast %[[MAXBITS]] : i32 to f32
// CHECK:             %[[S:.*]] = arith.divf %[[MAX]]
// CHECK:             linalg.generic {{.*}} ins(%[[GROW]] : tensor<8xf32>) outs(%[[WROW]], %[[BROW]] : tensor<8xf32>, tensor<8xf32>)
// CHECK:             ^bb0(%[[GG:[a-z0-9_]+]]: f32, %[[WW:[a-z0-9_]+]]: f32, %[[BB:[a-z0-9_]+]]: f32):
// CHECK:               arith.divf %[[WW]], %[[S]]
// CHECK:               math.roundeven
// CHECK:               %[[Q:.*]] = arith.mulf %{{.*}}, %[[S]]
// CHECK:               %[[E:.*]] = arith.subf %[[WW]], %[[Q]]
// CHECK:               %[[B1:.*]] = arith.addf %{{.*}}, %[[GG]]
// CHECK:               %[[STEP:.*]] = arith.mulf %[[LR]], %[[B1]]
// CHECK:               %[[W1:.*]] = arith.subf %[[WW]], %[[STEP]]
// CHECK:               %[[CE:.*]] = arith.mulf %[[C]], %[[E]]
// CHECK:               %[[WC:.*]] = arith.subf %[[W1]], %[[CE]]
// CHECK:               linalg.yield %[[WC]], %[[B1]]
// CHECK:           scf.forall.in_parallel
// CHECK:             tensor.parallel_insert_slice %{{.*}} into %[[WO]]
// CHECK:             tensor.parallel_insert_slice %{{.*}} into %[[BO]]
// CHECK:         return %[[LOOP]]#0, %[[LOOP]]#1
// CHECK-NOT:     cage.
func.func @update_decoupled(%w: tensor<4x8xf32>, %g: tensor<4x8xf32>, %b: tensor<4x8xf32>, %lr: f32, %l: f32) -> (tensor<4x8xf32>, tensor<4x8xf32>) {
  %w1, %b1 = cage.update %w, %g, %b, %lr, %l {quantizer = #cage.quantizer<bits = 4>, optimizer = #cage.sgd<momentum = 0.9>} : tensor<4x8xf32>
  return %w1, %b1 : tensor<4x8xf32>, tensor<4x8xf32>
}

// -----

// Coupled CAGE-AdamW with group scales, fused: per row, per group of 32,
// the group's scale and one generic; g + λ_t·e feeds the AdamW step in the
// same body. Chunks are counted at run time for a
// dynamic number of rows: N / 8192, at most 256.
// CHECK-LABEL: func.func @update_coupled
// CHECK-SAME:    (%[[W:[a-z0-9]+]]: tensor<?x64xf32>, %[[G:[a-z0-9]+]]: tensor<?x64xf32>,
// CHECK-SAME:     %[[M:[a-z0-9]+]]: tensor<?x64xf32>, %[[V:[a-z0-9]+]]: tensor<?x64xf32>,
// CHECK-SAME:     %[[LR:[a-z0-9]+]]: f32, %[[L:[a-z0-9]+]]: f32, %[[T:[a-z0-9]+]]: i64)
// CHECK-NOT:     tensor.empty
// The run-time checks of what the verifier cannot prove: the dynamic sizes
// of w, g, m, v agree and t >= 1 (64 is a multiple of 32: no check).
// CHECK:         %[[GROWS:.*]] = tensor.dim %[[G]], %c0
// CHECK:         %[[WROWS:.*]] = tensor.dim %[[W]], %c0
// CHECK:         %[[SAME:.*]] = arith.cmpi eq, %[[WROWS]], %[[GROWS]] : index
// CHECK:         cf.assert %[[SAME]], "{{.*}}cage-lower-to-linalg.mlir:{{[0-9]+}}:{{[0-9]+}}: 'cage.update' w and g differ in a dynamic size"
// CHECK-COUNT-2: cf.assert %{{.*}}, "{{.*}}: 'cage.update' w and the optimizer state differ in a dynamic size"
// CHECK:         %[[POSITIVE:.*]] = arith.cmpi sge, %[[T]], %c1_i64 : i64
// CHECK:         cf.assert %[[POSITIVE]], "{{.*}}: 'cage.update' step t is less than 1 (AdamW counts steps from 1)"
// CHECK-NOT:     cf.assert
// CHECK:         %[[ROWS:.*]] = tensor.dim %[[W]]
// CHECK:         %[[N:.*]] = arith.muli %[[ROWS]], %c64
// CHECK:         %[[BY8K:.*]] = arith.ceildivui %[[N]], %c8192
// CHECK:         arith.minui %[[BY8K]], %c256
// CHECK-NOT:     math.powf
// CHECK:         %[[LOOP:.*]]:3 = scf.forall (%{{.*}}) in (%{{.*}}) shared_outs(%{{.*}} = %[[W]], %{{.*}} = %[[M]], %{{.*}} = %[[V]])
// CHECK:           scf.for
// CHECK:             scf.for %{{.*}} = %c0 to %c2
// CHECK:               tensor.extract_slice %[[G]]{{.*}} [1, 32] [1, 1] : tensor<?x64xf32> to tensor<32xf32>
// CHECK:               scf.for %{{.*}} = %c0 to %c32 {{.*}} -> (i32)
// CHECK:               linalg.generic {{.*}} outs(%{{.*}}, %{{.*}}, %{{.*}} : tensor<32xf32>, tensor<32xf32>, tensor<32xf32>)
// CHECK:               ^bb0(%[[GG:[a-z0-9_]+]]: f32, %[[WW:[a-z0-9_]+]]: f32,
// zero_clipped with absmax: nothing is clipped (docs/Semantics.md §1.2,
// "Absmax clips nothing"), so e = w - q(w) without a select.
// CHECK-NOT:             arith.select
// CHECK:                 %[[E:.*]] = arith.subf %[[WW]], %{{.*}} : f32
// CHECK-NOT:             arith.select
// CHECK:                 %[[LE:.*]] = arith.mulf %[[L]], %[[E]]
// CHECK:                 %[[SUM:.*]] = arith.addf %[[GG]], %[[LE]]
// CHECK:                 arith.mulf %[[SUM]], %{{.*}}
// CHECK:                 math.sqrt
// CHECK:         return %[[LOOP]]#0, %[[LOOP]]#1, %[[LOOP]]#2
// CHECK-NOT:     cage.
func.func @update_coupled(%w: tensor<?x64xf32>, %g: tensor<?x64xf32>, %m: tensor<?x64xf32>, %v: tensor<?x64xf32>, %lr: f32, %l: f32, %t: i64) -> (tensor<?x64xf32>, tensor<?x64xf32>, tensor<?x64xf32>) {
  %w1, %m1, %v1 = cage.update %w, %g, %m, %v, %lr, %l, %t {quantizer = #cage.quantizer<bits = 4, granularity = group, group_size = 32>, optimizer = #cage.adamw<>, coupling = coupled, error = zero_clipped} : tensor<?x64xf32>
  return %w1, %m1, %v1 : tensor<?x64xf32>, tensor<?x64xf32>, tensor<?x64xf32>
}
