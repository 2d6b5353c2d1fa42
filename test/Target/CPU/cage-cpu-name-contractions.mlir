// RUN: cage-opt %s --split-input-file --cage-cpu-name-contractions | FileCheck %s

// A linalg.generic matmul becomes the named op with the same maps, its loops
// renumbered (batch, M, N, K) and A (the input with C's rows) first, so that
// linalg-fuse-elementwise-ops cannot fuse producers into it.

// CHECK-DAG: #[[A:.*]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-DAG: #[[BT:.*]] = affine_map<(d0, d1, d2) -> (d1, d2)>
// CHECK-DAG: #[[C:.*]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-LABEL: func.func @nt
// CHECK-SAME: (%[[X:.*]]: tensor<8x5xf32>, %[[W:.*]]: tensor<3x5xf32>, %[[I:.*]]: tensor<8x3xf32>)
// CHECK: %[[R:.*]] = linalg.matmul indexing_maps = [#[[A]], #[[BT]], #[[C]]] ins(%[[X]], %[[W]] : tensor<8x5xf32>, tensor<3x5xf32>) outs(%[[I]] : tensor<8x3xf32>)
// CHECK-NOT: linalg.generic
// CHECK: return %[[R]]
func.func @nt(%x: tensor<8x5xf32>, %w: tensor<3x5xf32>, %init: tensor<8x3xf32>) -> tensor<8x3xf32> {
  %r = linalg.generic {indexing_maps = [affine_map<(i, j, l) -> (i, l)>, affine_map<(i, j, l) -> (j, l)>, affine_map<(i, j, l) -> (i, j)>],
                       iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : tensor<8x5xf32>, tensor<3x5xf32>) outs(%init : tensor<8x3xf32>) {
  ^bb0(%p: f32, %q: f32, %acc: f32):
    %m = arith.mulf %p, %q : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<8x3xf32>
  return %r : tensor<8x3xf32>
}

// -----

// Loops in another order (K first) and the operand with C's rows second: the
// weight gradient dW = dYᵀ·X written as a generic.
// CHECK-DAG: #[[AT:.*]] = affine_map<(d0, d1, d2) -> (d2, d0)>
// CHECK-DAG: #[[B:.*]] = affine_map<(d0, d1, d2) -> (d2, d1)>
// CHECK-DAG: #[[C:.*]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-LABEL: func.func @tn_k_outer
// CHECK-SAME: (%[[X:.*]]: tensor<16x7xf32>, %[[DY:.*]]: tensor<16x3xf32>, %[[I:.*]]: tensor<3x7xf32>)
// CHECK: linalg.matmul indexing_maps = [#[[AT]], #[[B]], #[[C]]] ins(%[[DY]], %[[X]] : tensor<16x3xf32>, tensor<16x7xf32>) outs(%[[I]] : tensor<3x7xf32>)
func.func @tn_k_outer(%x: tensor<16x7xf32>, %dy: tensor<16x3xf32>, %init: tensor<3x7xf32>) -> tensor<3x7xf32> {
  %r = linalg.generic {indexing_maps = [affine_map<(b, o, i) -> (b, i)>, affine_map<(b, o, i) -> (b, o)>, affine_map<(b, o, i) -> (o, i)>],
                       iterator_types = ["reduction", "parallel", "parallel"]}
      ins(%x, %dy : tensor<16x7xf32>, tensor<16x3xf32>) outs(%init : tensor<3x7xf32>) {
  ^bb0(%p: f32, %q: f32, %acc: f32):
    %m = arith.mulf %p, %q : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<3x7xf32>
  return %r : tensor<3x7xf32>
}

// -----

// A batched generic becomes linalg.batch_matmul.
// CHECK-DAG: #[[A:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
// CHECK-DAG: #[[BT:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d2, d3)>
// CHECK-DAG: #[[C:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
// CHECK-LABEL: func.func @batched
// CHECK: linalg.batch_matmul indexing_maps = [#[[A]], #[[BT]], #[[C]]]
func.func @batched(%q: tensor<4x8x16xf32>, %k: tensor<4x8x16xf32>, %init: tensor<4x8x8xf32>) -> tensor<4x8x8xf32> {
  %r = linalg.generic {indexing_maps = [affine_map<(h, i, j, d) -> (h, i, d)>, affine_map<(h, i, j, d) -> (h, j, d)>, affine_map<(h, i, j, d) -> (h, i, j)>],
                       iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%q, %k : tensor<4x8x16xf32>, tensor<4x8x16xf32>) outs(%init : tensor<4x8x8xf32>) {
  ^bb0(%p: f32, %s: f32, %acc: f32):
    %m = arith.mulf %p, %s : f32
    %a = arith.addf %acc, %m : f32
    linalg.yield %a : f32
  } -> tensor<4x8x8xf32>
  return %r : tensor<4x8x8xf32>
}

// -----

// Left alone: dynamic shapes, f64, a body that is not a multiply-add, and
// ops that are already named.
// CHECK-LABEL: func.func @left_alone
// CHECK: linalg.generic
// CHECK: linalg.generic
// CHECK: linalg.generic
// CHECK: arith.maximumf
// CHECK: linalg.matmul ins
// CHECK-NOT: linalg.matmul
#a = affine_map<(i, j, l) -> (i, l)>
#b = affine_map<(i, j, l) -> (l, j)>
#c = affine_map<(i, j, l) -> (i, j)>
func.func @left_alone(%x: tensor<?x5xf32>, %w: tensor<5x3xf32>, %i: tensor<?x3xf32>,
                      %xd: tensor<8x5xf64>, %wd: tensor<5x3xf64>, %id: tensor<8x3xf64>,
                      %xs: tensor<8x5xf32>, %is: tensor<8x3xf32>)
    -> (tensor<?x3xf32>, tensor<8x3xf64>, tensor<8x3xf32>, tensor<8x3xf32>) {
  %r0 = linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : tensor<?x5xf32>, tensor<5x3xf32>) outs(%i : tensor<?x3xf32>) {
  ^bb0(%p: f32, %q: f32, %acc: f32):
    %m = arith.mulf %p, %q : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<?x3xf32>
  %r1 = linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%xd, %wd : tensor<8x5xf64>, tensor<5x3xf64>) outs(%id : tensor<8x3xf64>) {
  ^bb0(%p: f64, %q: f64, %acc: f64):
    %m = arith.mulf %p, %q : f64
    %s = arith.addf %acc, %m : f64
    linalg.yield %s : f64
  } -> tensor<8x3xf64>
  %r2 = linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%xs, %w : tensor<8x5xf32>, tensor<5x3xf32>) outs(%is : tensor<8x3xf32>) {
  ^bb0(%p: f32, %q: f32, %acc: f32):
    %m = arith.mulf %p, %q : f32
    %s = arith.maximumf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<8x3xf32>
  %r3 = linalg.matmul ins(%xs, %w : tensor<8x5xf32>, tensor<5x3xf32>) outs(%is : tensor<8x3xf32>) -> tensor<8x3xf32>
  return %r0, %r1, %r2, %r3 : tensor<?x3xf32>, tensor<8x3xf64>, tensor<8x3xf32>, tensor<8x3xf32>
}

// -----

// Attention's key gradient as cage-autodiff writes it: batch and head are
// both batch loops, and C keeps the activations' [b, s, h, c] layout. With one
// M, N and K loop, the product is a parallel loop over the batch (b, h in C's
// order, h fastest) of 2-D matmuls on slices of the operands as they are
// stored, nothing copied: the head dimension of Q and C is merged into the
// one after it ([b, s, h * c], a reshape), so that a slice takes whole
// trailing dimensions. dS is read K x M (the pack pass transposes it one
// slice at a time).
// CHECK-DAG: #[[KM:.*]] = affine_map<(d0, d1, d2) -> (d2, d0)>
// CHECK-DAG: #[[KN:.*]] = affine_map<(d0, d1, d2) -> (d2, d1)>
// CHECK-DAG: #[[MN:.*]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-LABEL: func.func @key_gradient
// CHECK-SAME: (%[[DS:.*]]: tensor<2x3x5x4xf32>, %[[Q:.*]]: tensor<2x5x3x8xf32>, %[[I:.*]]: tensor<2x4x3x8xf32>)
// CHECK-NOT: linalg.generic
// CHECK: %[[Q3:.*]] = tensor.collapse_shape %[[Q]] {{\[\[}}0], [1], [2, 3]] : tensor<2x5x3x8xf32> into tensor<2x5x24xf32>
// CHECK: %[[I3:.*]] = tensor.collapse_shape %[[I]] {{\[\[}}0], [1], [2, 3]] : tensor<2x4x3x8xf32> into tensor<2x4x24xf32>
// CHECK: %[[SIX:.*]] = arith.constant 6 : index
// CHECK: %[[R3:.*]] = scf.forall (%[[IV:.*]]) in (%[[SIX]]) shared_outs(%[[OUT:.*]] = %[[I3]]) -> (tensor<2x4x24xf32>)
// CHECK: %[[H:.*]] = arith.remui %[[IV]], %{{.*}} : index
// CHECK: %[[B:.*]] = arith.divui %[[IV]], %{{.*}} : index
// CHECK: %[[A2:.*]] = tensor.extract_slice %[[DS]][%[[B]], %[[H]], 0, 0] [1, 1, 5, 4] [1, 1, 1, 1] : tensor<2x3x5x4xf32> to tensor<5x4xf32>
// CHECK: %[[HQ:.*]] = arith.muli %[[H]], %{{.*}} : index
// CHECK: %[[B2:.*]] = tensor.extract_slice %[[Q3]][%[[B]], 0, %[[HQ]]] [1, 5, 8] [1, 1, 1] : tensor<2x5x24xf32> to tensor<5x8xf32>
// CHECK: %[[HC:.*]] = arith.muli %[[H]], %{{.*}} : index
// CHECK: %[[C2:.*]] = tensor.extract_slice %[[OUT]][%[[B]], 0, %[[HC]]] [1, 4, 8] [1, 1, 1] : tensor<2x4x24xf32> to tensor<4x8xf32>
// CHECK: %[[P:.*]] = linalg.matmul indexing_maps = [#[[KM]], #[[KN]], #[[MN]]] ins(%[[A2]], %[[B2]] : tensor<5x4xf32>, tensor<5x8xf32>) outs(%[[C2]] : tensor<4x8xf32>)
// CHECK: tensor.parallel_insert_slice %[[P]] into %[[OUT]][%[[B]], 0, %[[HC]]] [1, 4, 8] [1, 1, 1]
// CHECK: %[[R:.*]] = tensor.expand_shape %[[R3]] {{\[\[}}0], [1], [2, 3]] output_shape [2, 4, 3, 8] : tensor<2x4x24xf32> into tensor<2x4x3x8xf32>
// CHECK: return %[[R]]
func.func @key_gradient(%ds: tensor<2x3x5x4xf32>, %q: tensor<2x5x3x8xf32>, %init: tensor<2x4x3x8xf32>) -> tensor<2x4x3x8xf32> {
  %r = linalg.generic {indexing_maps = [affine_map<(b, h, i, j, c) -> (b, i, h, c)>, affine_map<(b, h, i, j, c) -> (b, h, i, j)>, affine_map<(b, h, i, j, c) -> (b, j, h, c)>],
                       iterator_types = ["parallel", "parallel", "reduction", "parallel", "parallel"]}
      ins(%q, %ds : tensor<2x5x3x8xf32>, tensor<2x3x5x4xf32>) outs(%init : tensor<2x4x3x8xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %b, %a : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<2x4x3x8xf32>
  return %r : tensor<2x4x3x8xf32>
}

// -----

// Several M, N and K loops (a projection into heads: y[b, s, h, c] =
// Σ_d x[b, s, d]·w[h, c, d]) collapse into one each: no batch, a plain
// linalg.matmul. Operands already in their order are not copied.
// CHECK-DAG: #[[T:.*]] = affine_map<(d0, d1, d2) -> (d1, d2, d0)>
// CHECK-LABEL: func.func @heads
// CHECK-SAME: (%[[X:.*]]: tensor<2x8x16xf32>, %[[W:.*]]: tensor<4x4x16xf32>, %[[I:.*]]: tensor<2x8x4x4xf32>)
// CHECK: %[[X2:.*]] = tensor.collapse_shape %[[X]] {{\[\[}}0, 1], [2]] : tensor<2x8x16xf32> into tensor<16x16xf32>
// CHECK: %[[WT:.*]] = linalg.generic {indexing_maps = [#[[T]], #{{.*}}]{{.*}} ins(%[[W]] : tensor<4x4x16xf32>) outs(%{{.*}} : tensor<16x4x4xf32>)
// CHECK: %[[W2:.*]] = tensor.collapse_shape %[[WT]] {{\[\[}}0], [1, 2]] : tensor<16x4x4xf32> into tensor<16x16xf32>
// CHECK: %[[I2:.*]] = tensor.collapse_shape %[[I]] {{\[\[}}0, 1], [2, 3]] : tensor<2x8x4x4xf32> into tensor<16x16xf32>
// CHECK: %[[P:.*]] = linalg.matmul ins(%[[X2]], %[[W2]] : tensor<16x16xf32>, tensor<16x16xf32>) outs(%[[I2]] : tensor<16x16xf32>)
// CHECK: %[[R:.*]] = tensor.expand_shape %[[P]] {{\[\[}}0, 1], [2, 3]] output_shape [2, 8, 4, 4]
// CHECK: return %[[R]]
func.func @heads(%x: tensor<2x8x16xf32>, %w: tensor<4x4x16xf32>, %init: tensor<2x8x4x4xf32>) -> tensor<2x8x4x4xf32> {
  %r = linalg.generic {indexing_maps = [affine_map<(b, s, h, c, d) -> (b, s, d)>, affine_map<(b, s, h, c, d) -> (h, c, d)>, affine_map<(b, s, h, c, d) -> (b, s, h, c)>],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%x, %w : tensor<2x8x16xf32>, tensor<4x4x16xf32>) outs(%init : tensor<2x8x4x4xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<2x8x4x4xf32>
  return %r : tensor<2x8x4x4xf32>
}

// -----

// The key gradient again, its init the zeros cage-autodiff starts it from:
// each slice of C is filled in the loop, just before its product, and the
// loop's shared output is the fill's target; nothing fills C beforehand.
// CHECK-LABEL: func.func @key_gradient_from_zeros
// CHECK: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[E:.*]] = tensor.empty() : tensor<2x4x3x8xf32>
// CHECK-NOT: linalg.fill
// CHECK: %[[E3:.*]] = tensor.collapse_shape %[[E]] {{.*}} into tensor<2x4x24xf32>
// CHECK: scf.forall ({{.*}}) shared_outs(%[[OUT:.*]] = %[[E3]])
// CHECK: %[[C2:.*]] = tensor.extract_slice %[[OUT]]
// CHECK: %[[Z:.*]] = linalg.fill ins(%[[ZERO]] : f32) outs(%[[C2]] : tensor<4x8xf32>) -> tensor<4x8xf32>
// CHECK: linalg.matmul {{.*}} outs(%[[Z]] : tensor<4x8xf32>)
func.func @key_gradient_from_zeros(%ds: tensor<2x3x5x4xf32>, %q: tensor<2x5x3x8xf32>) -> tensor<2x4x3x8xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x4x3x8xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<2x4x3x8xf32>) -> tensor<2x4x3x8xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(b, h, i, j, c) -> (b, i, h, c)>, affine_map<(b, h, i, j, c) -> (b, h, i, j)>, affine_map<(b, h, i, j, c) -> (b, j, h, c)>],
                       iterator_types = ["parallel", "parallel", "reduction", "parallel", "parallel"]}
      ins(%q, %ds : tensor<2x5x3x8xf32>, tensor<2x3x5x4xf32>) outs(%init : tensor<2x4x3x8xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %b, %a : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<2x4x3x8xf32>
  return %r : tensor<2x4x3x8xf32>
}

// -----

// Matrices without unit stride: with the head last in Q ([b, s, c, h]),
// no slice of Q has contiguous rows, so the product takes the other way:
// operands copied into [batch..., M, K] and [batch..., K, N] (the batch
// loops in C's order), the batches collapsed into one, a
// linalg.batch_matmul, and the result expanded and copied into C's layout.
// CHECK-DAG: #[[AT:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3, d2)>
// CHECK-DAG: #[[ID:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// CHECK-DAG: #[[SWAP:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d2, d1, d3)>
// CHECK-DAG: #[[HLAST:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d2, d3, d1)>
// CHECK-LABEL: func.func @key_gradient_head_innermost
// CHECK-SAME: (%[[DS:.*]]: tensor<2x3x5x4xf32>, %[[Q:.*]]: tensor<2x5x8x3xf32>, %[[I:.*]]: tensor<2x4x3x8xf32>)
// CHECK-NOT: scf.forall
// CHECK: %[[A:.*]] = linalg.generic {indexing_maps = [#[[AT]], #[[ID]]]{{.*}} ins(%[[DS]] : tensor<2x3x5x4xf32>) outs(%{{.*}} : tensor<2x3x4x5xf32>)
// CHECK: %[[A3:.*]] = tensor.collapse_shape %[[A]] {{\[\[}}0, 1], [2], [3]] : tensor<2x3x4x5xf32> into tensor<6x4x5xf32>
// CHECK: %[[B:.*]] = linalg.generic {indexing_maps = [#[[HLAST]], #[[ID]]]{{.*}} ins(%[[Q]] : tensor<2x5x8x3xf32>) outs(%{{.*}} : tensor<2x3x5x8xf32>)
// CHECK: %[[B3:.*]] = tensor.collapse_shape %[[B]] {{.*}} into tensor<6x5x8xf32>
// CHECK: %[[C:.*]] = linalg.generic {indexing_maps = [#[[SWAP]], #[[ID]]]{{.*}} ins(%[[I]] : tensor<2x4x3x8xf32>) outs(%{{.*}} : tensor<2x3x4x8xf32>)
// CHECK: %[[C3:.*]] = tensor.collapse_shape %[[C]] {{.*}} into tensor<6x4x8xf32>
// CHECK: %[[P:.*]] = linalg.batch_matmul ins(%[[A3]], %[[B3]] : tensor<6x4x5xf32>, tensor<6x5x8xf32>) outs(%[[C3]] : tensor<6x4x8xf32>)
// CHECK: %[[P4:.*]] = tensor.expand_shape %[[P]] {{.*}} output_shape [2, 3, 4, 8] : tensor<6x4x8xf32> into tensor<2x3x4x8xf32>
// CHECK: %[[R:.*]] = linalg.generic {indexing_maps = [#[[SWAP]], #[[ID]]]{{.*}} ins(%[[P4]] : tensor<2x3x4x8xf32>) outs(%{{.*}} : tensor<2x4x3x8xf32>)
// CHECK: return %[[R]]
func.func @key_gradient_head_innermost(%ds: tensor<2x3x5x4xf32>, %q: tensor<2x5x8x3xf32>, %init: tensor<2x4x3x8xf32>) -> tensor<2x4x3x8xf32> {
  %r = linalg.generic {indexing_maps = [affine_map<(b, h, i, j, c) -> (b, i, c, h)>, affine_map<(b, h, i, j, c) -> (b, h, i, j)>, affine_map<(b, h, i, j, c) -> (b, j, h, c)>],
                       iterator_types = ["parallel", "parallel", "reduction", "parallel", "parallel"]}
      ins(%q, %ds : tensor<2x5x8x3xf32>, tensor<2x3x5x4xf32>) outs(%init : tensor<2x4x3x8xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %b, %a : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<2x4x3x8xf32>
  return %r : tensor<2x4x3x8xf32>
}
