// RUN: cage-opt %s --split-input-file --cage-lower-to-linalg | FileCheck %s
// The output verifies, parses back, bufferizes and lowers to loops (no op
// named cage.* or linalg.* is left; the run-time checks name cage ops in
// their messages):
// RUN: cage-opt %s --split-input-file --cage-lower-to-linalg \
// RUN:   | cage-opt --split-input-file \
// RUN:       --one-shot-bufferize=bufferize-function-boundaries \
// RUN:       --convert-linalg-to-loops \
// RUN:   | FileCheck %s --check-prefix=LOOPS

// LOOPS-NOT: {{ cage\.|linalg\.}}
// LOOPS:     func.func @quantize_row
// LOOPS-NOT: {{ cage\.|linalg\.}}
// LOOPS:     func.func @quant_error_hadamard_zero_clipped
// LOOPS:     scf.for
// LOOPS-NOT: {{ cage\.|linalg\.}}

// The default quantizer (4 bits, row, absmax, int, nearest): a reduction of
// each row to α = max(max |x|, 1e-8), s = α / 7 once per row, then
// clamp(roundeven(x / s), -8, 7) · s with x / s a division.
// CHECK-LABEL: func.func @quantize_row
// CHECK-SAME:    (%[[X:.*]]: tensor<4x8xf32>)
// CHECK-DAG:     %[[QMIN:.*]] = arith.constant -8.000000e+00 : f32
// CHECK-DAG:     %[[QMAX:.*]] = arith.constant 7.000000e+00 : f32
// CHECK-DAG:     %[[FLOOR:.*]] = arith.constant 9.99999993E-9 : f32
// CHECK:         %[[E:.*]] = tensor.empty() : tensor<4xf32>
// CHECK:         %[[INIT:.*]] = linalg.fill ins(%[[FLOOR]] : f32)
// CHECK-SAME:      outs(%[[E]] : tensor<4xf32>)
// CHECK:         %[[ALPHA:.*]] = linalg.generic
// CHECK-SAME:      iterator_types = ["parallel", "reduction"]
// CHECK-SAME:      ins(%[[X]] : tensor<4x8xf32>)
// CHECK-SAME:      outs(%[[INIT]] : tensor<4xf32>)
// CHECK:           %[[ABS:.*]] = math.absf
// CHECK:           arith.maximumf %[[ABS]]
// CHECK:         %[[S:.*]] = linalg.generic
// CHECK-SAME:      iterator_types = ["parallel"]} ins(%[[ALPHA]]
// CHECK:           arith.divf %{{.*}}, %[[QMAX]] : f32
// CHECK:         linalg.generic
// CHECK-SAME:      iterator_types = ["parallel", "parallel"]
// CHECK-SAME:      ins(%[[X]], %[[S]] : tensor<4x8xf32>, tensor<4xf32>)
// CHECK-NEXT:    ^bb0(%[[IN:.*]]: f32, %[[SIN:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT:      %[[Z:.*]] = arith.divf %[[IN]], %[[SIN]] : f32
// CHECK-NEXT:      %[[R:.*]] = math.roundeven %[[Z]] : f32
// CHECK-NEXT:      %[[LO:.*]] = arith.maximumf %[[R]], %[[QMIN]] : f32
// CHECK-NEXT:      %[[HI:.*]] = arith.minimumf %[[LO]], %[[QMAX]] : f32
// CHECK-NEXT:      %[[Q:.*]] = arith.mulf %[[HI]], %[[SIN]] : f32
// CHECK-NEXT:      linalg.yield %[[Q]] : f32
// CHECK-NOT:     cage.
func.func @quantize_row(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %q = cage.quantize %x {quantizer = #cage.quantizer<bits = 4>} : tensor<4x8xf32>
  return %q : tensor<4x8xf32>
}

// -----

// granularity = tensor on a dynamic rank-3 tensor: one α, a 0-d tensor
// reduced over every loop.
// CHECK-DAG: #[[$ALL:.*]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-DAG: #[[$NONE:.*]] = affine_map<(d0, d1, d2) -> ()>
// CHECK-LABEL: func.func @quantize_tensor_dynamic
// CHECK:         %[[ALPHA:.*]] = linalg.generic
// CHECK-SAME:      indexing_maps = [#[[$ALL]], #[[$NONE]]]
// CHECK-SAME:      iterator_types = ["reduction", "reduction", "reduction"]
// CHECK-SAME:      outs(%{{.*}} : tensor<f32>)
// CHECK:         %[[S:.*]] = linalg.generic {{.*}}iterator_types = []}
// CHECK-SAME:      ins(%[[ALPHA]] : tensor<f32>)
// CHECK:         %[[EMPTY:.*]] = tensor.empty(%{{.*}}, %{{.*}}, %{{.*}}) :
// CHECK-SAME:      tensor<?x?x?xf32>
// CHECK:         linalg.generic
// CHECK-SAME:      indexing_maps = [#[[$ALL]], #[[$NONE]], #[[$ALL]]]
// CHECK-SAME:      iterator_types = ["parallel", "parallel", "parallel"]
// CHECK-SAME:      ins(%{{.*}}, %[[S]] : tensor<?x?x?xf32>, tensor<f32>)
// CHECK-SAME:      outs(%[[EMPTY]] : tensor<?x?x?xf32>)
// CHECK:           arith.divf
// CHECK-NEXT:      math.roundeven
func.func @quantize_tensor_dynamic(%x: tensor<?x?x?xf32>) -> tensor<?x?x?xf32> {
  %q = cage.quantize %x {quantizer = #cage.quantizer<bits = 3, granularity = tensor>} : tensor<?x?x?xf32>
  return %q : tensor<?x?x?xf32>
}

// -----

// Groups of 4 on a rank-3 tensor: [2, 3, 16] viewed as [2, 3, 4, 4]. The
// rms clip value sums the squares in f64, takes the mean in f64 and rounds
// it to f32 before the square root.
// CHECK-LABEL: func.func @quantize_group_rms
// CHECK-SAME:    (%[[X:.*]]: tensor<2x3x16xf32>)
// CHECK-DAG:     %[[CB:.*]] = arith.constant 2.513930e+00 : f32
// CHECK-DAG:     %[[COUNT:.*]] = arith.constant 4.000000e+00 : f64
// CHECK-DAG:     %[[ZERO:.*]] = arith.constant 0.000000e+00 : f64
// CHECK:         %[[G:.*]] = tensor.expand_shape %[[X]] {{\[}}[0], [1], [2, 3]]
// CHECK-SAME:      output_shape [2, 3, 4, 4]
// CHECK-SAME:      tensor<2x3x16xf32> into tensor<2x3x4x4xf32>
// CHECK:         %[[INIT:.*]] = linalg.fill ins(%[[ZERO]] : f64)
// CHECK:         %[[SUM:.*]] = linalg.generic
// CHECK-SAME:      ["parallel", "parallel", "parallel", "reduction"]
// CHECK-SAME:      ins(%[[G]] : tensor<2x3x4x4xf32>)
// CHECK-SAME:      outs(%[[INIT]] : tensor<2x3x4xf64>)
// CHECK:           %[[D:.*]] = arith.extf %{{.*}} : f32 to f64
// CHECK:           %[[SQ:.*]] = arith.mulf %[[D]], %[[D]] : f64
// CHECK:           arith.addf %{{.*}}, %[[SQ]] : f64
// CHECK:         linalg.generic {{.*}} ins(%[[SUM]] : tensor<2x3x4xf64>)
// CHECK:           %[[MEAN:.*]] = arith.divf %{{.*}}, %[[COUNT]] : f64
// CHECK:           %[[MEAN32:.*]] = arith.truncf %[[MEAN]] : f64 to f32
// CHECK:           %[[ROOT:.*]] = math.sqrt %[[MEAN32]] : f32
// CHECK:           %[[SCALED:.*]] = arith.mulf %[[ROOT]], %[[CB]] : f32
// CHECK:           arith.addf %[[SCALED]], %{{.*}} : f32
// CHECK:         %[[S:.*]] = linalg.generic
// CHECK:           arith.divf
// CHECK:         %[[Q:.*]] = linalg.generic
// CHECK-SAME:      ["parallel", "parallel", "parallel", "parallel"]
// CHECK:         tensor.collapse_shape %[[Q]] {{\[}}[0], [1], [2, 3]]
// CHECK-SAME:      tensor<2x3x4x4xf32> into tensor<2x3x16xf32>
func.func @quantize_group_rms(%x: tensor<2x3x16xf32>) -> tensor<2x3x16xf32> {
  %q = cage.quantize %x {quantizer = #cage.quantizer<bits = 4, granularity = group, group_size = 4, scale = rms_gaussian>} : tensor<2x3x16xf32>
  return %q : tensor<2x3x16xf32>
}

// -----

// A dynamic innermost dimension: first the run-time check that 8 divides
// it, then the group view's size n / 8 is computed and given to
// tensor.expand_shape.
// CHECK-LABEL: func.func @quantize_group_dynamic
// CHECK-SAME:    (%[[X:.*]]: tensor<?xf32>)
// CHECK-DAG:     %[[C8:.*]] = arith.constant 8 : index
// CHECK:         %[[CHECKED:.*]] = tensor.dim %[[X]]
// CHECK:         %[[REM:.*]] = arith.remui %[[CHECKED]], %[[C8]] : index
// CHECK:         %[[DIVIDES:.*]] = arith.cmpi eq, %[[REM]], %c0 : index
// CHECK:         cf.assert %[[DIVIDES]], "{{.*}}: 'cage.quantize' innermost size is not a multiple of group_size = 8"
// CHECK:         %[[N:.*]] = tensor.dim %[[X]]
// CHECK:         %[[GROUPS:.*]] = arith.divui %[[N]], %[[C8]] : index
// CHECK:         tensor.expand_shape %[[X]] {{\[}}[0, 1]]
// CHECK-SAME:      output_shape [%[[GROUPS]], 8]
// CHECK-SAME:      tensor<?xf32> into tensor<?x8xf32>
// CHECK:         iterator_types = ["parallel", "reduction"]
// CHECK-SAME:      outs(%{{.*}} : tensor<?xf32>)
// CHECK:         tensor.collapse_shape %{{.*}} {{\[}}[0, 1]]
// CHECK-SAME:      tensor<?x8xf32> into tensor<?xf32>
func.func @quantize_group_dynamic(%x: tensor<?xf32>) -> tensor<?xf32> {
  %q = cage.quantize %x {quantizer = #cage.quantizer<bits = 4, granularity = group, group_size = 8>} : tensor<?xf32>
  return %q : tensor<?xf32>
}

// -----

// The centered grid with α from the operand: no reduction, step = (2α)/15
// once per row, q = (roundeven(clamp(x, -α, α) / step + 0.5) - 0.5) · step.
// CHECK-LABEL: func.func @quantize_centered_operand
// CHECK-SAME:    (%[[X:.*]]: tensor<?x?xf32>, %[[A:.*]]: tensor<?xf32>)
// CHECK-DAG:     %[[HALF:.*]] = arith.constant 5.000000e-01 : f32
// CHECK-DAG:     %[[TWO:.*]] = arith.constant 2.000000e+00 : f32
// CHECK-DAG:     %[[STEPS:.*]] = arith.constant 1.500000e+01 : f32
// CHECK-NOT:     "reduction"
// CHECK:         %[[STEP:.*]] = linalg.generic
// CHECK-SAME:      ins(%[[A]] : tensor<?xf32>)
// CHECK:           %[[TWICE:.*]] = arith.mulf %{{.*}}, %[[TWO]] : f32
// CHECK:           arith.divf %[[TWICE]], %[[STEPS]] : f32
// CHECK:         linalg.generic
// CHECK-SAME:      ins(%[[X]], %[[A]], %[[STEP]] :
// CHECK-NEXT:    ^bb0(%[[IN:.*]]: f32, %[[AL:.*]]: f32, %[[ST:.*]]: f32,
// CHECK-NEXT:      %[[NEG:.*]] = arith.negf %[[AL]] : f32
// CHECK-NEXT:      %[[LO:.*]] = arith.maximumf %[[IN]], %[[NEG]] : f32
// CHECK-NEXT:      %[[C:.*]] = arith.minimumf %[[LO]], %[[AL]] : f32
// CHECK-NEXT:      %[[Y:.*]] = arith.divf %[[C]], %[[ST]] : f32
// CHECK-NEXT:      %[[Y1:.*]] = arith.addf %[[Y]], %[[HALF]] : f32
// CHECK-NEXT:      %[[R:.*]] = math.roundeven %[[Y1]] : f32
// CHECK-NEXT:      %[[R1:.*]] = arith.subf %[[R]], %[[HALF]] : f32
// CHECK-NEXT:      arith.mulf %[[R1]], %[[ST]] : f32
func.func @quantize_centered_operand(%x: tensor<?x?xf32>, %a: tensor<?xf32>) -> tensor<?x?xf32> {
  %q = cage.quantize %x scale(%a) {quantizer = #cage.quantizer<bits = 4, scale = operand, levels = centered>} : tensor<?x?xf32>, tensor<?xf32>
  return %q : tensor<?x?xf32>
}

// -----

// Stochastic rounding: the ten round keys from the seed once (9 Weyl bumps
// of each half), then in the body the element's linear index, Philox4x32-10
// on i32 (18 widening products, extui to i64 · the multiplier: the first
// round's M1 · 0 and the last round's unused M0 · c0 fold away), u = (out0 >> 8) · 2^-24 and floor(y) + (u < frac).
// No round-half-even anywhere.
// CHECK-LABEL: func.func @quantize_stochastic
// CHECK-SAME:    (%[[X:.*]]: tensor<3x?xf32>, %[[SEED:.*]]: i64)
// CHECK-DAG:     %[[W0:.*]] = arith.constant -1640531527 : i32
// CHECK-DAG:     %[[W1:.*]] = arith.constant -1150833019 : i32
// CHECK-DAG:     %[[M0:.*]] = arith.constant 3528531795 : i64
// CHECK-DAG:     %[[M1:.*]] = arith.constant 3449720151 : i64
// CHECK-DAG:     %[[ULP:.*]] = arith.constant 5.96046448E-8 : f32
// CHECK-NOT:     math.roundeven
// CHECK:         %[[K0:.*]] = arith.trunci %[[SEED]] : i64 to i32
// CHECK:         %[[SH:.*]] = arith.shrui %[[SEED]], %{{.*}} : i64
// CHECK:         %[[K1:.*]] = arith.trunci %[[SH]] : i64 to i32
// CHECK-COUNT-9: arith.addi %{{.*}}, %[[W0]] : i32
// CHECK:         %[[COLS:.*]] = tensor.dim %[[X]]
// CHECK:         linalg.generic
// CHECK:           %[[I0:.*]] = linalg.index 0 : index
// CHECK:           %[[ROW:.*]] = arith.muli %[[I0]], %[[COLS]] : index
// CHECK:           %[[I1:.*]] = linalg.index 1 : index
// CHECK:           %[[LIN:.*]] = arith.addi %[[ROW]], %[[I1]] : index
// CHECK:           arith.index_cast %[[LIN]] : index to i64
// CHECK:           %[[Y:.*]] = arith.divf
// Ten rounds, each the high halves of two 32 x 32 -> 64-bit products (an
// i64 multiplication that nothing else reads: LLVM's multiply-high) and the
// low halves as i32 multiplications; the first round's product of the zero
// counter word and the last round's unused ones fold away.
// CHECK-COUNT-17:  arith.muli %{{.*}}, %{{.*}} : i64
// CHECK-NOT:       arith.mului_extended
// CHECK:           %[[TOP:.*]] = arith.shrui %{{.*}}, %{{.*}} : i32
// CHECK:           %[[UI:.*]] = arith.uitofp %[[TOP]] : i32 to f32
// CHECK:           %[[U:.*]] = arith.mulf %[[UI]], %[[ULP]] : f32
// CHECK:           %[[DOWN:.*]] = math.floor %[[Y]] : f32
// CHECK:           %[[FRAC:.*]] = arith.subf %[[Y]], %[[DOWN]] : f32
// CHECK:           %[[LT:.*]] = arith.cmpf olt, %[[U]], %[[FRAC]] : f32
// CHECK:           %[[UP:.*]] = arith.select %[[LT]]
// CHECK:           arith.addf %[[DOWN]], %[[UP]] : f32
// CHECK-NOT:     math.roundeven
func.func @quantize_stochastic(%x: tensor<3x?xf32>, %seed: i64) -> tensor<3x?xf32> {
  %q = cage.quantize %x seed(%seed) {quantizer = #cage.quantizer<bits = 4, rounding = stochastic>} : tensor<3x?xf32>
  return %q : tensor<3x?xf32>
}

// -----

// The centered grid with stochastic rounding: the level index is clamped to
// [1 − 2^(b−1), 2^(b−1)] = [-7, 8] after rnd (the f32 rounding of α/step can
// put y just below the lowest level); with round half to even it is not
// built (a no-op there, see @quantize_centered_operand).
// CHECK-LABEL: func.func @quantize_centered_stochastic
// CHECK-DAG:     %[[LOW:.*]] = arith.constant -7.000000e+00 : f32
// CHECK-DAG:     %[[HIGH:.*]] = arith.constant 8.000000e+00 : f32
// CHECK-DAG:     %[[HALF:.*]] = arith.constant 5.000000e-01 : f32
// CHECK:           %[[DOWN:.*]] = math.floor
// CHECK:           %[[R:.*]] = arith.addf %[[DOWN]], %{{.*}} : f32
// CHECK-NEXT:      %[[R1:.*]] = arith.maximumf %[[R]], %[[LOW]] : f32
// CHECK-NEXT:      %[[R2:.*]] = arith.minimumf %[[R1]], %[[HIGH]] : f32
// CHECK-NEXT:      arith.subf %[[R2]], %[[HALF]] : f32
func.func @quantize_centered_stochastic(%x: tensor<3x16xf32>, %seed: i64) -> tensor<3x16xf32> {
  %q = cage.quantize %x seed(%seed) {quantizer = #cage.quantizer<bits = 4, levels = centered, rounding = stochastic>} : tensor<3x16xf32>
  return %q : tensor<3x16xf32>
}

// -----

// A Hadamard block of 8 is 3 butterfly stages (h = 1, 2, 4: the innermost
// dimension viewed as [8/2h, 2, h]), each one generic reading the two halves
// through constant map results; the last stage multiplies by 1/sqrt(8).
// Then q on the rotated values and the same 3 stages back.
// CHECK-DAG: #[[$LOW:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, 0, d3)>
// CHECK-DAG: #[[$HIGH:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, 1, d3)>
// CHECK-LABEL: func.func @quantize_hadamard
// CHECK-DAG:     %[[NORM:.*]] = arith.constant 0.353553385 : f32
// CHECK:         tensor.expand_shape {{.*}} into tensor<4x4x2x1xf32>
// CHECK:         linalg.generic {indexing_maps = [#[[$LOW]], #[[$HIGH]],
// CHECK:           %[[T:.*]] = linalg.index 2 : index
// CHECK:           %[[IS_LOW:.*]] = arith.cmpi eq, %[[T]]
// CHECK:           %[[SUM:.*]] = arith.addf %[[A:.*]], %[[B:.*]] : f32
// CHECK:           %[[DIFF:.*]] = arith.subf %[[A]], %[[B]] : f32
// CHECK:           %[[OUT:.*]] = arith.select %[[IS_LOW]], %[[SUM]], %[[DIFF]]
// CHECK-NEXT:      linalg.yield %[[OUT]] : f32
// CHECK:         tensor.expand_shape {{.*}} into tensor<4x2x2x2xf32>
// CHECK:         linalg.generic {indexing_maps = [#[[$LOW]], #[[$HIGH]],
// CHECK:         tensor.expand_shape {{.*}} into tensor<4x1x2x4xf32>
// CHECK:         linalg.generic {indexing_maps = [#[[$LOW]], #[[$HIGH]],
// CHECK:           %[[LAST:.*]] = arith.select
// CHECK-NEXT:      %[[SCALED:.*]] = arith.mulf %[[LAST]], %[[NORM]] : f32
// CHECK-NEXT:      linalg.yield %[[SCALED]] : f32
// CHECK:         iterator_types = ["parallel", "reduction"]
// CHECK:         math.roundeven
// CHECK-COUNT-3: linalg.generic {indexing_maps = [#[[$LOW]], #[[$HIGH]],
// CHECK-NOT:     linalg.generic
// CHECK:         return
func.func @quantize_hadamard(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %q = cage.quantize %x {quantizer = #cage.quantizer<bits = 4, rotation = hadamard, block = 8>} : tensor<4x8xf32>
  return %q : tensor<4x8xf32>
}

// -----

// The identity estimator without a scale operand is dy itself.
// CHECK-LABEL: func.func @ste_identity
// CHECK-SAME:    (%[[DY:.*]]: tensor<4x8xf32>, %{{.*}}: tensor<4x8xf32>)
// CHECK-NEXT:    return %[[DY]] : tensor<4x8xf32>
func.func @ste_identity(%dy: tensor<4x8xf32>, %x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %dx = cage.ste %dy, %x {quantizer = #cage.quantizer<bits = 4>, estimator = identity} : tensor<4x8xf32>
  return %dx : tensor<4x8xf32>
}

// -----

// The clipped estimator: α from x (rms_gaussian, which can clip), then
// dx = clipped(x) ? +0 : dy, clipping judged with roundeven(x / s) outside
// [-8, 7].
// CHECK-LABEL: func.func @ste_clipped
// CHECK-SAME:    (%[[DY:.*]]: tensor<?x8xf32>, %[[X:.*]]: tensor<?x8xf32>)
// CHECK-DAG:     %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK:         %[[SUM:.*]] = linalg.generic
// CHECK-SAME:      ["parallel", "reduction"]} ins(%[[X]] : tensor<?x8xf32>)
// CHECK:         %[[ALPHA:.*]] = linalg.generic {{.*}} ins(%[[SUM]]
// CHECK:         %[[S:.*]] = linalg.generic {{.*}} ins(%[[ALPHA]]
// CHECK:         linalg.generic
// CHECK-SAME:      ins(%[[DY]], %[[X]], %[[S]] :
// CHECK-NEXT:    ^bb0(%[[G:.*]]: f32, %[[IN:.*]]: f32, %[[SIN:.*]]: f32,
// CHECK-NEXT:      %[[Z:.*]] = arith.divf %[[IN]], %[[SIN]] : f32
// CHECK-NEXT:      %[[R:.*]] = math.roundeven %[[Z]] : f32
// CHECK-NEXT:      %[[BELOW:.*]] = arith.cmpf olt, %[[R]]
// CHECK-NEXT:      %[[ABOVE:.*]] = arith.cmpf ogt, %[[R]]
// CHECK-NEXT:      %[[CLIPPED:.*]] = arith.ori %[[BELOW]], %[[ABOVE]] : i1
// CHECK-NEXT:      %[[DX:.*]] = arith.select %[[CLIPPED]], %[[ZERO]], %[[G]]
// CHECK-NEXT:      linalg.yield %[[DX]] : f32
func.func @ste_clipped(%dy: tensor<?x8xf32>, %x: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %dx = cage.ste %dy, %x {quantizer = #cage.quantizer<bits = 4, scale = rms_gaussian>, estimator = clipped} : tensor<?x8xf32>
  return %dx : tensor<?x8xf32>
}

// -----

// With absmax nothing is clipped (docs/Semantics.md §1.2, "Absmax clips
// nothing"): the clipped estimator is dx = dy, with no reduction and no mask;
// the sizes of dy and x are still checked.
// CHECK-LABEL: func.func @ste_clipped_absmax
// CHECK-SAME:    (%[[DY:.*]]: tensor<?x8xf32>, %[[X:.*]]: tensor<?x8xf32>)
// CHECK:         cf.assert %{{.*}}, "{{.*}}'cage.ste' dy and x differ in a dynamic size"
// CHECK-NOT:     linalg.generic
// CHECK:         return %[[DY]] : tensor<?x8xf32>
func.func @ste_clipped_absmax(%dy: tensor<?x8xf32>, %x: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %dx = cage.ste %dy, %x {quantizer = #cage.quantizer<bits = 8, granularity = group, group_size = 4>, estimator = clipped} : tensor<?x8xf32>
  return %dx : tensor<?x8xf32>
}

// -----

// With absmax and rotation: dx = H(H(dy)), both rotations kept (their
// rounding is part of the result), x not read.
// CHECK-LABEL: func.func @ste_clipped_absmax_hadamard
// CHECK-SAME:    (%[[DY:.*]]: tensor<4x8xf32>, %[[X:.*]]: tensor<4x8xf32>)
// CHECK-NOT:     %[[X]]
// CHECK-NOT:     "reduction"
// CHECK-COUNT-6: arith.cmpi eq
// CHECK-NOT:     arith.cmpf
// CHECK:         return
func.func @ste_clipped_absmax_hadamard(%dy: tensor<4x8xf32>, %x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %dx = cage.ste %dy, %x {quantizer = #cage.quantizer<bits = 4, rotation = hadamard, block = 8>, estimator = clipped} : tensor<4x8xf32>
  return %dx : tensor<4x8xf32>
}

// -----

// LSQ with groups of 4: dα = γ · Σ f64(dy) · f64(dq/dα) per group, the sum in
// f64, rounded to f32, times γ = 1 / sqrt(4 · 7) (folded here).
// CHECK-LABEL: func.func @ste_lsq_group
// CHECK-SAME:    (%[[DY:.*]]: tensor<2x16xf32>, %[[X:.*]]: tensor<2x16xf32>,
// CHECK-SAME:     %[[A:.*]]: tensor<2x4xf32>)
// CHECK-DAG:     %[[GAMMA:.*]] = arith.constant 0.188982248 : f32
// CHECK-DAG:     %[[BELOW:.*]] = arith.constant -1.14285719 : f32
// CHECK-DAG:     %[[ZERO:.*]] = arith.constant 0.000000e+00 : f64
// CHECK-DAG:     %[[XG:.*]] = tensor.expand_shape %[[X]] {{.*}}<2x4x4xf32>
// CHECK-DAG:     %[[DYG:.*]] = tensor.expand_shape %[[DY]] {{.*}}<2x4x4xf32>
// CHECK:         %[[S:.*]] = linalg.generic
// CHECK-SAME:      ins(%[[A]] : tensor<2x4xf32>)
// CHECK:         %[[MASKED:.*]] = linalg.generic
// CHECK-SAME:      ins(%[[DYG]], %[[XG]], %[[S]] :
// CHECK:         %[[DX:.*]] = tensor.collapse_shape %[[MASKED]]
// CHECK:         %[[INIT:.*]] = linalg.fill ins(%[[ZERO]] : f64)
// CHECK:         %[[SUM:.*]] = linalg.generic
// CHECK-SAME:      iterator_types = ["parallel", "parallel", "reduction"]
// CHECK-SAME:      ins(%[[XG]], %[[DYG]], %[[S]] :
// CHECK-SAME:      outs(%[[INIT]] : tensor<2x4xf64>)
// CHECK:           %[[Z:.*]] = arith.divf
// CHECK:           %[[R:.*]] = math.roundeven %[[Z]]
// CHECK:           %[[RZ:.*]] = arith.subf %[[R]], %[[Z]] : f32
// CHECK:           %[[INSIDE:.*]] = arith.divf %[[RZ]]
// CHECK:           %[[D1:.*]] = arith.select %{{.*}}, %{{.*}}, %[[INSIDE]]
// CHECK:           %[[D:.*]] = arith.select %{{.*}}, %[[BELOW]], %[[D1]]
// CHECK:           %[[G64:.*]] = arith.extf %{{.*}} : f32 to f64
// CHECK:           %[[D64:.*]] = arith.extf %[[D]] : f32 to f64
// CHECK:           %[[P:.*]] = arith.mulf %[[G64]], %[[D64]] : f64
// CHECK:           arith.addf %{{.*}}, %[[P]] : f64
// CHECK:         %[[DA:.*]] = linalg.generic {{.*}} ins(%[[SUM]]
// CHECK:           %[[S32:.*]] = arith.truncf %{{.*}} : f64 to f32
// CHECK:           arith.mulf %[[S32]], %[[GAMMA]] : f32
// CHECK:         return %[[DX]], %[[DA]]
func.func @ste_lsq_group(%dy: tensor<2x16xf32>, %x: tensor<2x16xf32>, %a: tensor<2x4xf32>) -> (tensor<2x16xf32>, tensor<2x4xf32>) {
  %dx, %da = cage.ste %dy, %x scale(%a) {quantizer = #cage.quantizer<bits = 4, granularity = group, group_size = 4, scale = operand>, estimator = clipped} : tensor<2x16xf32>, tensor<2x4xf32>
  return %dx, %da : tensor<2x16xf32>, tensor<2x4xf32>
}

// -----

// LSQ on the centered grid, per tensor, dynamic: dx = dy (identity), and
// γ = 1 / sqrt(f32(n · 7)) from the runtime size.
// CHECK-LABEL: func.func @ste_lsq_centered_dynamic
// CHECK-SAME:    (%[[DY:.*]]: tensor<?xf32>, %[[X:.*]]: tensor<?xf32>,
// CHECK-DAG:     %[[H:.*]] = arith.constant 7.500000e+00 : f32
// CHECK:         %[[STEP:.*]] = linalg.generic {{.*}}iterator_types = []}
// CHECK:         %[[SUM:.*]] = linalg.generic
// CHECK-SAME:      iterator_types = ["reduction"]
// CHECK-SAME:      outs(%{{.*}} : tensor<f64>)
// CHECK:           %[[XH:.*]] = arith.mulf %{{.*}}, %[[H]] : f32
// CHECK:           arith.divf %[[XH]]
// CHECK:           math.roundeven
// CHECK:           arith.mulf %{{.*}}, %{{.*}} : f64
// CHECK:         %[[N:.*]] = tensor.dim %[[X]]
// CHECK:         %[[N64:.*]] = arith.index_cast %[[N]] : index to i64
// CHECK:         %[[NQ:.*]] = arith.muli %[[N64]], %{{.*}} : i64
// CHECK:         %[[NF:.*]] = arith.sitofp %[[NQ]] : i64 to f32
// CHECK:         %[[ROOT:.*]] = math.sqrt %[[NF]] : f32
// CHECK:         %[[GAMMA:.*]] = arith.divf %{{.*}}, %[[ROOT]] : f32
// CHECK:         %[[DA:.*]] = linalg.generic {{.*}}iterator_types = []}
// CHECK-SAME:      ins(%[[SUM]] : tensor<f64>)
// CHECK:           arith.mulf %{{.*}}, %[[GAMMA]] : f32
// CHECK:         return %[[DY]], %[[DA]]
func.func @ste_lsq_centered_dynamic(%dy: tensor<?xf32>, %x: tensor<?xf32>, %a: tensor<f32>) -> (tensor<?xf32>, tensor<f32>) {
  %dx, %da = cage.ste %dy, %x scale(%a) {quantizer = #cage.quantizer<bits = 4, granularity = tensor, scale = operand, levels = centered>, estimator = identity} : tensor<?xf32>, tensor<f32>
  return %dx, %da : tensor<?xf32>, tensor<f32>
}

// -----

// e = w - q(w) in the same generic as q.
// CHECK-LABEL: func.func @quant_error_keep
// CHECK:         linalg.generic
// CHECK-SAME:      iterator_types = ["parallel", "reduction"]
// CHECK:         linalg.generic {{.*}} iterator_types = ["parallel"]
// CHECK:         linalg.generic
// CHECK-NEXT:    ^bb0(%[[W:.*]]: f32, %[[S:.*]]: f32, %{{.*}}: f32):
// CHECK:           %[[Q:.*]] = arith.mulf %{{.*}}, %[[S]] : f32
// CHECK-NEXT:      %[[E:.*]] = arith.subf %[[W]], %[[Q]] : f32
// CHECK-NEXT:      linalg.yield %[[E]] : f32
// CHECK-NOT:     linalg.generic
func.func @quant_error_keep(%w: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %e = cage.quant_error %w {quantizer = #cage.quantizer<bits = 4>} : tensor<4x8xf32>
  return %e : tensor<4x8xf32>
}

// -----

// zero_clipped on the centered grid (rms_gaussian, which can clip):
// e = |w| > α ? +0 : w - q(w).
// CHECK-LABEL: func.func @quant_error_zero_clipped
// CHECK-DAG:     %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK:         "reduction"
// CHECK:         linalg.generic {{.*}} ins(%{{.*}} : tensor<?x?xf32>)
// CHECK:         ins(%{{.*}}, %{{.*}}, %{{.*}} : tensor<?x?x?xf32>,
// CHECK-SAME:        tensor<?x?xf32>, tensor<?x?xf32>)
// CHECK-NEXT:    ^bb0(%[[W:.*]]: f32, %[[AL:.*]]: f32, %{{.*}}: f32,
// CHECK:           %[[E:.*]] = arith.subf %[[W]], %{{.*}} : f32
// CHECK-NEXT:      %[[ABS:.*]] = math.absf %[[W]] : f32
// CHECK-NEXT:      %[[CLIPPED:.*]] = arith.cmpf ogt, %[[ABS]], %[[AL]] : f32
// CHECK-NEXT:      %[[Z:.*]] = arith.select %[[CLIPPED]], %[[ZERO]], %[[E]]
// CHECK-NEXT:      linalg.yield %[[Z]] : f32
func.func @quant_error_zero_clipped(%w: tensor<?x?x?xf32>) -> tensor<?x?x?xf32> {
  %e = cage.quant_error %w {quantizer = #cage.quantizer<bits = 4, levels = centered, scale = rms_gaussian>, error = zero_clipped} : tensor<?x?x?xf32>
  return %e : tensor<?x?x?xf32>
}

// -----

// zero_clipped with absmax: nothing is clipped, e = w - q(w) as with keep.
// CHECK-LABEL: func.func @quant_error_zero_clipped_absmax
// CHECK:         ^bb0(%[[W:.*]]: f32, %{{.*}}: f32, %{{.*}}: f32):
// CHECK:           %[[E:.*]] = arith.subf %[[W]], %{{.*}} : f32
// CHECK-NEXT:      linalg.yield %[[E]] : f32
// CHECK-NOT:     arith.select
func.func @quant_error_zero_clipped_absmax(%w: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %e = cage.quant_error %w {quantizer = #cage.quantizer<bits = 4>, error = zero_clipped} : tensor<4x8xf32>
  return %e : tensor<4x8xf32>
}

// -----

// keep with rotation subtracts after rotating back: w - H(q(H(w))).
// CHECK-LABEL: func.func @quant_error_hadamard_keep
// CHECK-SAME:    (%[[W:.*]]: tensor<4x8xf32>)
// CHECK-COUNT-3: arith.cmpi eq
// CHECK:         math.roundeven
// CHECK-COUNT-3: arith.cmpi eq
// CHECK:         %[[QW:.*]] = tensor.collapse_shape
// CHECK:         linalg.generic {{.*}} ins(%[[W]], %[[QW]] :
// CHECK-NEXT:    ^bb0(%[[A:.*]]: f32, %[[B:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT:      arith.subf %[[A]], %[[B]] : f32
func.func @quant_error_hadamard_keep(%w: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %e = cage.quant_error %w {quantizer = #cage.quantizer<bits = 4, rotation = hadamard, block = 8>} : tensor<4x8xf32>
  return %e : tensor<4x8xf32>
}

// -----

// zero_clipped with rotation (and rms_gaussian, which can clip) masks in the
// rotated domain and rotates the error back:
// H(clipped(H(w)) ? +0 : H(w) - q(H(w))).
// CHECK-LABEL: func.func @quant_error_hadamard_zero_clipped
// CHECK-COUNT-3: arith.cmpi eq
// CHECK:         arith.ori
// CHECK-NEXT:    arith.select
// CHECK-COUNT-3: arith.cmpi eq
// CHECK:         %[[E:.*]] = tensor.collapse_shape
// CHECK-NEXT:    return %[[E]]
func.func @quant_error_hadamard_zero_clipped(%w: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %e = cage.quant_error %w {quantizer = #cage.quantizer<bits = 4, rotation = hadamard, block = 8, scale = rms_gaussian>, error = zero_clipped} : tensor<4x8xf32>
  return %e : tensor<4x8xf32>
}
