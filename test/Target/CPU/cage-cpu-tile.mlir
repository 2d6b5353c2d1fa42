// cage-cpu-tile on bufferized linalg.generic ops.
// RUN: cage-opt %s --split-input-file --cage-cpu-tile --canonicalize | FileCheck %s
// RUN: cage-opt %s --split-input-file --pass-pipeline='builtin.module(cage-cpu-tile{threads=false},canonicalize)' | FileCheck %s --check-prefix=NOTHREADS
// RUN: cage-opt %s --split-input-file --pass-pipeline='builtin.module(cage-cpu-tile{vectorize=false},canonicalize)' | FileCheck %s --check-prefix=NOVEC
// RUN: not cage-opt %s --split-input-file --pass-pipeline='builtin.module(cage-cpu-tile{vector-width=2000})' 2>&1 | FileCheck %s --check-prefix=BADWIDTH
// BADWIDTH: error: cage-cpu-tile: vector-width must be in [1, 1024]

// No tag is left behind.
// CHECK-NOT: cage.cpu_tile
// NOTHREADS-NOT: cage.cpu_tile
// NOVEC-NOT: cage.cpu_tile

#id2 = affine_map<(d0, d1) -> (d0, d1)>

// 2-D elementwise, dynamic: one row per forall iteration (threads), 16-lane
// tiles along the row, masked 1-D vectors.
// CHECK-LABEL: func.func @ew2d(
// CHECK:         scf.forall (%[[I:.*]]) in (%{{.*}}) {
// CHECK:           scf.for %{{.*}} = %c0 to %{{.*}} step %c16 {
// CHECK:             %[[MASK:.*]] = vector.create_mask %{{.*}} : vector<16xi1>
// CHECK:             %[[X:.*]] = vector.transfer_read {{.*}}, %[[MASK]] {in_bounds = [true]} : memref<1x?xf32, strided<[?, 1], offset: ?>>, vector<16xf32>
// CHECK:             %[[Y:.*]] = arith.mulf %[[X]], %[[X]] : vector<16xf32>
// CHECK:             vector.transfer_write %[[Y]], {{.*}} : vector<16xf32>, memref<1x?xf32, strided<[?, 1], offset: ?>>
// CHECK-NOT:       linalg.generic
// NOTHREADS-LABEL: func.func @ew2d(
// NOTHREADS-NOT:     scf.forall
// NOTHREADS:         scf.for
// NOTHREADS:           scf.for
// NOTHREADS:             vector.transfer_read {{.*}} vector<16xf32>
// NOVEC-LABEL: func.func @ew2d(
// NOVEC:         scf.forall
// NOVEC-NOT:       vector.
// NOVEC:           linalg.generic {{.*}} ins(%{{.*}} : memref<1x?xf32, strided<[?, 1], offset: ?>>)
func.func @ew2d(%a: memref<?x?xf32>, %o: memref<?x?xf32>) {
  linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%a : memref<?x?xf32>) outs(%o : memref<?x?xf32>) {
  ^bb0(%x: f32, %y: f32):
    %s = arith.mulf %x, %x : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// 1-D, dynamic: chunks of 64 vectors per forall iteration.
// CHECK-DAG: #[[CHUNKS:.*]] = affine_map<()[s0] -> (s0 ceildiv 1024)>
// CHECK-LABEL: func.func @ew1d(
// CHECK:         %[[N:.*]] = affine.apply #[[CHUNKS]]()
// CHECK:         scf.forall (%{{.*}}) in (%[[N]]) {
// CHECK:           scf.for {{.*}} step %c16 {
// CHECK:             vector.transfer_read {{.*}} vector<16xf32>
#id1 = affine_map<(d0) -> (d0)>
func.func @ew1d(%a: memref<?xf32>, %o: memref<?xf32>) {
  linalg.generic {indexing_maps = [#id1, #id1], iterator_types = ["parallel"]}
      ins(%a : memref<?xf32>) outs(%o : memref<?xf32>) {
  ^bb0(%x: f32, %y: f32):
    %s = arith.mulf %x, %x : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// Small and static: no threads; rows of 7 are one unmasked vector<7xf32>.
// CHECK-LABEL: func.func @small(
// CHECK-NOT:     scf.forall
// CHECK-NOT:     vector.create_mask
// CHECK:         scf.for
// CHECK:           vector.transfer_read {{.*}} : memref<1x7xf32, strided<[7, 1], offset: ?>>, vector<7xf32>
#id2 = affine_map<(d0, d1) -> (d0, d1)>
func.func @small(%a: memref<4x7xf32>, %o: memref<4x7xf32>) {
  linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%a : memref<4x7xf32>) outs(%o : memref<4x7xf32>) {
  ^bb0(%x: f32, %y: f32):
    %s = arith.mulf %x, %x : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// Row reduction: threads over rows, the reduction itself stays a
// linalg.generic (a loop for LLVM's vectorizer).
// CHECK-LABEL: func.func @rowsum(
// CHECK:         scf.forall
// CHECK-NOT:       vector.
// CHECK:           linalg.generic {{.*}}iterator_types = ["parallel", "reduction"]{{.*}} ins(%{{.*}} : memref<1x?xf32, strided<[?, 1], offset: ?>>)
#id2 = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d0)>
func.func @rowsum(%a: memref<?x?xf32>, %o: memref<?xf32>) {
  linalg.generic {indexing_maps = [#id2, #row], iterator_types = ["parallel", "reduction"]}
      ins(%a : memref<?x?xf32>) outs(%o : memref<?xf32>) {
  ^bb0(%x: f32, %y: f32):
    %s = arith.addf %y, %x : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// Column reduction: rows one after the other (sums keep their order),
// vectors along the columns; no threads over a reduction.
// CHECK-LABEL: func.func @colsum(
// CHECK-NOT:     scf.forall
// CHECK:         scf.for %{{.*}} step %c1 {
// CHECK:           scf.for %{{.*}} step %c16 {
// CHECK:             %[[A:.*]] = vector.transfer_read {{.*}} vector<16xf32>
// CHECK:             %[[ACC:.*]] = vector.transfer_read {{.*}} vector<16xf32>
// CHECK:             arith.addf %[[A]], %[[ACC]] : vector<16xf32>
#id2 = affine_map<(d0, d1) -> (d0, d1)>
#col = affine_map<(d0, d1) -> (d1)>
func.func @colsum(%a: memref<?x?xf32>, %o: memref<?xf32>) {
  linalg.generic {indexing_maps = [#id2, #col], iterator_types = ["reduction", "parallel"]}
      ins(%a : memref<?x?xf32>) outs(%o : memref<?xf32>) {
  ^bb0(%x: f32, %y: f32):
    %s = arith.addf %y, %x : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// i1 memrefs hold a byte per element but i1 vectors are bit-packed: threads
// only, no vectors.
// CHECK-LABEL: func.func @bool(
// CHECK:         scf.forall
// CHECK-NOT:       vector.
// CHECK:           linalg.generic
#id2 = affine_map<(d0, d1) -> (d0, d1)>
func.func @bool(%a: memref<?x?xi1>, %o: memref<?x?xi1>) {
  linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%a : memref<?x?xi1>) outs(%o : memref<?x?xi1>) {
  ^bb0(%x: i1, %y: i1):
    %s = arith.xori %x, %y : i1
    linalg.yield %s : i1
  }
  return
}

// -----

// A body the vectorizer rejects (a call) stays a tiled linalg.generic.
// CHECK-LABEL: func.func @call(
// CHECK:         scf.forall
// CHECK:           scf.for
// CHECK-NOT:         vector.
// CHECK:             linalg.generic
// CHECK:               func.call @ext
#id2 = affine_map<(d0, d1) -> (d0, d1)>
func.func private @ext(f32) -> f32
func.func @call(%a: memref<?x?xf32>, %o: memref<?x?xf32>) {
  linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%a : memref<?x?xf32>) outs(%o : memref<?x?xf32>) {
  ^bb0(%x: f32, %y: f32):
    %s = func.call @ext(%x) : (f32) -> f32
    linalg.yield %s : f32
  }
  return
}

// -----

// Already inside a parallel loop: vectors, but no nested threads.
// CHECK-LABEL: func.func @nested(
// CHECK:         scf.parallel
// CHECK-NOT:       scf.forall
// CHECK:           vector.transfer_read {{.*}} vector<16xf32>
#id2 = affine_map<(d0, d1) -> (d0, d1)>
func.func @nested(%a: memref<?x?xf32>, %o: memref<?x?xf32>, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]}
        ins(%a : memref<?x?xf32>) outs(%o : memref<?x?xf32>) {
    ^bb0(%x: f32, %y: f32):
      %s = arith.mulf %x, %x : f32
      linalg.yield %s : f32
    }
    scf.reduce
  }
  return
}

// -----

// Rank 0 and empty ops are left alone (canonicalize erases the empty one).
// CHECK-LABEL: func.func @scalar(
// CHECK-NOT:     scf.
// CHECK:         linalg.generic
// CHECK-LABEL: func.func @empty(
// CHECK-NOT:     scf.
// CHECK:         return
#id0 = affine_map<() -> ()>
func.func @scalar(%a: memref<f32>, %o: memref<f32>) {
  linalg.generic {indexing_maps = [#id0, #id0], iterator_types = []}
      ins(%a : memref<f32>) outs(%o : memref<f32>) {
  ^bb0(%x: f32, %y: f32):
    %s = arith.mulf %x, %x : f32
    linalg.yield %s : f32
  }
  return
}
#id1 = affine_map<(d0) -> (d0)>
func.func @empty(%a: memref<0xf32>, %o: memref<0xf32>) {
  linalg.generic {indexing_maps = [#id1, #id1], iterator_types = ["parallel"]}
      ins(%a : memref<0xf32>) outs(%o : memref<0xf32>) {
  ^bb0(%x: f32, %y: f32):
    %s = arith.mulf %x, %x : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// The bf16 state update in groups of four (cage-lower-to-linalg): loops
// (lane, group) over G x 4 views read through the transposed map, so 4 x 16
// tiles. Each tile's rows are whole contiguous rows of 4 elements: the
// transfers read and write one vector<64> of the memref collapsed to one
// dimension, not 16 rows of 4 (and the transposition is a shuffle).
// CHECK-LABEL: func.func @lanes_of_groups
// CHECK: scf.for
// CHECK: memref.collapse_shape {{.*}} {{\[\[}}0, 1]] : memref<16x4xf32, strided<[4, 1], offset: ?>> into memref<64xf32, strided<[1], offset: ?>>
// CHECK: vector.transfer_read {{.*}} {in_bounds = [true]} : memref<64xf32, strided<[1], offset: ?>>, vector<64xf32>
// CHECK: vector.shuffle
// CHECK: vector.shuffle
// CHECK: memref.collapse_shape {{.*}} {{\[\[}}0, 1]] : memref<16x4xbf16, strided<[4, 1], offset: ?>> into memref<64xbf16, strided<[1], offset: ?>>
// CHECK: vector.transfer_write {{.*}} {in_bounds = [true]} : vector<64xbf16>, memref<64xbf16, strided<[1], offset: ?>>
// CHECK-NOT: vector.transfer_read {{.*}} vector<16x4
// NOTHREADS-LABEL: func.func @lanes_of_groups
// NOVEC-LABEL: func.func @lanes_of_groups
func.func @lanes_of_groups(%x: memref<256x4xf32>, %y: memref<256x4xbf16>) {
  linalg.generic {indexing_maps = [affine_map<(k, j) -> (j, k)>, affine_map<(k, j) -> (j, k)>],
                  iterator_types = ["parallel", "parallel"]}
      ins(%x : memref<256x4xf32>) outs(%y : memref<256x4xbf16>) {
  ^bb0(%a: f32, %b: bf16):
    %j = linalg.index 1 : index
    %j32 = arith.index_cast %j : index to i32
    %jf = arith.sitofp %j32 : i32 to f32
    %s = arith.addf %a, %jf : f32
    %t = arith.truncf %s : f32 to bf16
    linalg.yield %t : bf16
  }
  return
}

// -----

// A transposition whose operands keep loops together (the [b, s, h] to
// [h, b, s] copy that packs an activation gradient for a weight gradient)
// first runs over the fewest loops: (h, b·s), each memref collapsed, so that
// the swapped loops are the operands' innermost dimensions and the tiles
// are square, transposed in registers (vector.shuffle) rather than gathered.
// CHECK-LABEL: func.func @joined_loops
// CHECK-DAG: %[[IN:.*]] = memref.collapse_shape %{{.*}} {{\[\[}}0, 1], [2]] : memref<4x8x64xf32> into memref<32x64xf32>
// CHECK-DAG: %[[OUT:.*]] = memref.collapse_shape %{{.*}} {{\[\[}}0], [1, 2]] : memref<64x4x8xf32> into memref<64x32xf32>
// CHECK: vector.transfer_read {{.*}} : memref<16x16xf32, strided<[64, 1], offset: ?>>, vector<16x16xf32>
// CHECK: vector.shuffle
// CHECK: vector.transfer_write {{.*}} : vector<16x16xf32>, memref<16x16xf32, strided<[32, 1], offset: ?>>
// NOTHREADS-LABEL: func.func @joined_loops
// NOTHREADS: memref.collapse_shape
// NOVEC-LABEL: func.func @joined_loops
// NOVEC: memref.collapse_shape
func.func @joined_loops(%a: memref<4x8x64xf32>, %b: memref<64x4x8xf32>) {
  linalg.generic {indexing_maps = [affine_map<(h, b, s) -> (b, s, h)>, affine_map<(h, b, s) -> (h, b, s)>],
                  iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%a : memref<4x8x64xf32>) outs(%b : memref<64x4x8xf32>) {
  ^bb0(%x: f32, %y: f32):
    linalg.yield %x : f32
  }
  return
}

// -----

// Loops stay as they are where joining them would change what the op
// computes or reads: a body that reads linalg.index, an operand whose
// layout is not contiguous, loops in a different order in one operand, an
// elementwise op that does not transpose.
// CHECK-LABEL: func.func @kept_loops
// CHECK-NOT: memref.collapse_shape
// CHECK: return
#bsh = affine_map<(h, b, s) -> (b, s, h)>
#hbs = affine_map<(h, b, s) -> (h, b, s)>
#hsb = affine_map<(h, b, s) -> (h, s, b)>
func.func @kept_loops(%a: memref<4x8x64xf32>, %b: memref<64x4x8xf32>,
                      %c: memref<4x8x64xf32, strided<[1024, 64, 1]>>,
                      %d: memref<64x8x4xf32>, %e: memref<64x4x8xf32>) {
  linalg.generic {indexing_maps = [#bsh, #hbs], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%a : memref<4x8x64xf32>) outs(%b : memref<64x4x8xf32>) {
  ^bb0(%x: f32, %y: f32):
    %i = linalg.index 1 : index
    %i32 = arith.index_cast %i : index to i32
    %f = arith.sitofp %i32 : i32 to f32
    %s = arith.addf %x, %f : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [#bsh, #hbs], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%c : memref<4x8x64xf32, strided<[1024, 64, 1]>>) outs(%b : memref<64x4x8xf32>) {
  ^bb0(%x: f32, %y: f32):
    linalg.yield %x : f32
  }
  linalg.generic {indexing_maps = [#bsh, #hsb, #hbs], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%a, %d : memref<4x8x64xf32>, memref<64x8x4xf32>) outs(%b : memref<64x4x8xf32>) {
  ^bb0(%x: f32, %z: f32, %y: f32):
    %s = arith.addf %x, %z : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [#hbs, #hbs], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%e : memref<64x4x8xf32>) outs(%b : memref<64x4x8xf32>) {
  ^bb0(%x: f32, %y: f32):
    linalg.yield %x : f32
  }
  return
}

// -----

// A reduction along the innermost loop of rows the loop before it indexes,
// at static multiples of the vector width: 16 x 16 tiles, a lane per row.
// The tile's multi_reduction becomes a transposition in registers and
// sixteen ordered vector adds from the accumulator (each row still summed
// in index order); nothing reduces horizontally. At other sizes the op
// stays a loop.
// CHECK-LABEL: func.func @row_sum(
// CHECK: scf.for {{.*}} step %c16
// CHECK: scf.for {{.*}} step %c16
// CHECK: %[[X:.*]] = vector.transfer_read {{.*}} : memref<16x16xf32, strided<[64, 1], offset: ?>>, vector<16x16xf32>
// CHECK: %[[ACC:.*]] = vector.transfer_read {{.*}} : memref<16xf32, strided<[1], offset: ?>>, vector<16xf32>
// CHECK: vector.shuffle
// CHECK: %[[S0:.*]] = arith.addf %{{.*}}, %[[ACC]] : vector<16xf32>
// CHECK-COUNT-15: arith.addf %{{.*}} : vector<16xf32>
// CHECK-NEXT: vector.transfer_write
// CHECK-NOT: vector.reduction
// CHECK-LABEL: func.func @row_sum_odd(
// CHECK-NOT: vector.
// CHECK: linalg.generic
// NOTHREADS-LABEL: func.func @row_sum(
// NOTHREADS: vector<16x16xf32>
// NOVEC-LABEL: func.func @row_sum(
// NOVEC-NOT: vector.
// NOVEC: linalg.generic
func.func @row_sum(%x: memref<32x64xf32>, %s: memref<32xf32>) {
  linalg.generic {indexing_maps = [affine_map<(r, k) -> (r, k)>, affine_map<(r, k) -> (r)>],
                  iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<32x64xf32>) outs(%s : memref<32xf32>) {
  ^bb0(%a: f32, %o: f32):
    %t = arith.addf %o, %a : f32
    linalg.yield %t : f32
  }
  return
}
func.func @row_sum_odd(%x: memref<32x60xf32>, %s: memref<32xf32>) {
  linalg.generic {indexing_maps = [affine_map<(r, k) -> (r, k)>, affine_map<(r, k) -> (r)>],
                  iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<32x60xf32>) outs(%s : memref<32xf32>) {
  ^bb0(%a: f32, %o: f32):
    %t = arith.addf %o, %a : f32
    linalg.yield %t : f32
  }
  return
}
