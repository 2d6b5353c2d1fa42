// RUN: cage-opt %s --split-input-file --cage-cpu-pack-contractions | FileCheck %s

// Contractions are put in the layout of cage-cpu-tile-contractions:
// linalg.matmul with default maps, A as M x K, B as K x N, M a multiple of 8
// and N of 32 (the 8 x 32 register block of 16-lane vectors).

// B stored N x K is transposed into K x N; its rows are 128 floats, so they
// are allocated 16 floats longer (rows a multiple of 512 bytes apart share
// cache sets) and the matmul reads a slice. Nothing needs zeros.
// CHECK-DAG: #[[T:.*]] = affine_map<(d0, d1) -> (d1, d0)>
// CHECK-DAG: #[[ID:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-LABEL: func.func @nt_long_rows
// CHECK-SAME: (%[[X:.*]]: tensor<16x8xf32>, %[[W:.*]]: tensor<128x8xf32>, %[[I:.*]]: tensor<16x128xf32>)
// CHECK: %[[BUF:.*]] = bufferization.alloc_tensor() : tensor<8x144xf32>
// CHECK-NOT: linalg.fill
// CHECK: %[[REGION:.*]] = tensor.extract_slice %[[BUF]][0, 0] [8, 128] [1, 1]
// CHECK: %[[BT:.*]] = linalg.generic {indexing_maps = [#[[T]], #[[ID]]], iterator_types = ["parallel", "parallel"]} ins(%[[W]] : tensor<128x8xf32>) outs(%[[REGION]] : tensor<8x128xf32>)
// CHECK-NEXT: ^bb0(%[[IN:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: linalg.yield %[[IN]]
// CHECK: %[[WHOLE:.*]] = tensor.insert_slice %[[BT]] into %[[BUF]]
// CHECK: %[[B:.*]] = tensor.extract_slice %[[WHOLE]][0, 0] [8, 128] [1, 1]
// CHECK: %[[R:.*]] = linalg.matmul ins(%[[X]], %[[B]] : tensor<16x8xf32>, tensor<8x128xf32>) outs(%[[I]] : tensor<16x128xf32>)
// CHECK: return %[[R]]
func.func @nt_long_rows(%x: tensor<16x8xf32>, %w: tensor<128x8xf32>, %i: tensor<16x128xf32>) -> tensor<16x128xf32> {
  %r = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
      ins(%x, %w : tensor<16x8xf32>, tensor<128x8xf32>) outs(%i : tensor<16x128xf32>) -> tensor<16x128xf32>
  return %r : tensor<16x128xf32>
}

// -----

// 10 x 10: A padded to 16 rows and B to 32 columns with zeros, C computed
// as 16 x 32 from a fill of the same value and sliced back.
// CHECK-LABEL: func.func @padded
// CHECK-SAME: (%[[X:.*]]: tensor<10x8xf32>, %[[W:.*]]: tensor<8x10xf32>)
// CHECK: %[[ZERO:.*]] = arith.constant 0.0
// CHECK: %[[ABUF:.*]] = bufferization.alloc_tensor() : tensor<16x8xf32>
// CHECK: %[[AZ:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%[[ABUF]] : tensor<16x8xf32>)
// CHECK: %[[AREG:.*]] = tensor.extract_slice %[[AZ]][0, 0] [10, 8] [1, 1]
// CHECK: %[[ACOPY:.*]] = linalg.generic {{.*}} ins(%[[X]] : tensor<10x8xf32>) outs(%[[AREG]] : tensor<10x8xf32>)
// CHECK: %[[A:.*]] = tensor.insert_slice %[[ACOPY]] into %[[AZ]][0, 0] [10, 8] [1, 1]
// CHECK: %[[BBUF:.*]] = bufferization.alloc_tensor() : tensor<8x32xf32>
// CHECK: %[[BZ:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%[[BBUF]] : tensor<8x32xf32>)
// CHECK: %[[BREG:.*]] = tensor.extract_slice %[[BZ]][0, 0] [8, 10] [1, 1]
// CHECK: %[[BCOPY:.*]] = linalg.generic {{.*}} ins(%[[W]] : tensor<8x10xf32>) outs(%[[BREG]] : tensor<8x10xf32>)
// CHECK: %[[B:.*]] = tensor.insert_slice %[[BCOPY]] into %[[BZ]][0, 0] [8, 10] [1, 1]
// CHECK: %[[CE:.*]] = tensor.empty() : tensor<16x32xf32>
// CHECK: %[[C:.*]] = linalg.fill ins(%[[ZERO]] : f32) outs(%[[CE]] : tensor<16x32xf32>)
// CHECK: %[[P:.*]] = linalg.matmul ins(%[[A]], %[[B]] : tensor<16x8xf32>, tensor<8x32xf32>) outs(%[[C]] : tensor<16x32xf32>)
// CHECK: %[[R:.*]] = tensor.extract_slice %[[P]][0, 0] [10, 10] [1, 1] : tensor<16x32xf32> to tensor<10x10xf32>
// CHECK: return %[[R]]
func.func @padded(%x: tensor<10x8xf32>, %w: tensor<8x10xf32>) -> tensor<10x10xf32> {
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<10x10xf32>
  %i = linalg.fill ins(%z : f32) outs(%e : tensor<10x10xf32>) -> tensor<10x10xf32>
  %r = linalg.matmul ins(%x, %w : tensor<10x8xf32>, tensor<8x10xf32>) outs(%i : tensor<10x10xf32>) -> tensor<10x10xf32>
  return %r : tensor<10x10xf32>
}

// -----

// An init that is not a fill is inserted into zeros.
// CHECK-LABEL: func.func @padded_init
// CHECK-SAME: %[[I:[a-z0-9]+]]: tensor<8x10xf32>)
// CHECK: %[[CZ:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%{{.*}} : tensor<8x32xf32>)
// CHECK: %[[C:.*]] = tensor.insert_slice %[[I]] into %[[CZ]][0, 0] [8, 10] [1, 1]
// CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<8x4xf32>, tensor<4x32xf32>) outs(%[[C]] : tensor<8x32xf32>)
func.func @padded_init(%x: tensor<8x4xf32>, %w: tensor<4x10xf32>, %i: tensor<8x10xf32>) -> tensor<8x10xf32> {
  %r = linalg.matmul ins(%x, %w : tensor<8x4xf32>, tensor<4x10xf32>) outs(%i : tensor<8x10xf32>) -> tensor<8x10xf32>
  return %r : tensor<8x10xf32>
}

// -----

// The weight gradient dW = dYᵀ·X: A stored K x M (dY) is transposed.
// CHECK-DAG: #[[T:.*]] = affine_map<(d0, d1) -> (d1, d0)>
// CHECK-LABEL: func.func @tn
// CHECK-SAME: (%[[DY:.*]]: tensor<64x16xf32>, %[[X:.*]]: tensor<64x32xf32>, %[[I:.*]]: tensor<16x32xf32>)
// CHECK: %[[AE:.*]] = tensor.empty() : tensor<16x64xf32>
// CHECK: %[[A:.*]] = linalg.generic {indexing_maps = [#[[T]], #{{.*}}]{{.*}} ins(%[[DY]] : tensor<64x16xf32>) outs(%[[AE]] : tensor<16x64xf32>)
// CHECK: linalg.matmul ins(%[[A]], %[[X]] : tensor<16x64xf32>, tensor<64x32xf32>) outs(%[[I]] : tensor<16x32xf32>)
func.func @tn(%dy: tensor<64x16xf32>, %x: tensor<64x32xf32>, %i: tensor<16x32xf32>) -> tensor<16x32xf32> {
  %r = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (k, m)>, affine_map<(m, n, k) -> (k, n)>, affine_map<(m, n, k) -> (m, n)>]
      ins(%dy, %x : tensor<64x16xf32>, tensor<64x32xf32>) outs(%i : tensor<16x32xf32>) -> tensor<16x32xf32>
  return %r : tensor<16x32xf32>
}

// -----

// The elementwise producer of a packed operand (a weight quantizer) is
// computed into the packed layout itself, in one pass, and the original is
// erased: its only reader was the contraction.
// CHECK-DAG: #[[ID:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[ROW:.*]] = affine_map<(d0, d1) -> (d0)>
// CHECK-DAG: #[[T:.*]] = affine_map<(d0, d1) -> (d1, d0)>
// CHECK-LABEL: func.func @quantized_weight
// CHECK-SAME: (%[[X:.*]]: tensor<16x8xf32>, %[[W:.*]]: tensor<32x8xf32>, %[[S:.*]]: tensor<32xf32>, %[[I:.*]]: tensor<16x32xf32>)
// CHECK: %[[E:.*]] = tensor.empty() : tensor<8x32xf32>
// CHECK: %[[Q:.*]] = linalg.generic {indexing_maps = [#[[ID]], #[[ROW]], #[[T]]], iterator_types = ["parallel", "parallel"]} ins(%[[W]], %[[S]] : tensor<32x8xf32>, tensor<32xf32>) outs(%[[E]] : tensor<8x32xf32>)
// CHECK: math.roundeven
// CHECK: linalg.matmul ins(%[[X]], %[[Q]] : tensor<16x8xf32>, tensor<8x32xf32>)
// CHECK-NOT: linalg.generic
func.func @quantized_weight(%x: tensor<16x8xf32>, %w: tensor<32x8xf32>, %s: tensor<32xf32>, %i: tensor<16x32xf32>) -> tensor<16x32xf32> {
  %e = tensor.empty() : tensor<32x8xf32>
  %q = linalg.generic {indexing_maps = [affine_map<(o, k) -> (o, k)>, affine_map<(o, k) -> (o)>, affine_map<(o, k) -> (o, k)>], iterator_types = ["parallel", "parallel"]}
      ins(%w, %s : tensor<32x8xf32>, tensor<32xf32>) outs(%e : tensor<32x8xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %d = arith.divf %a, %b : f32
    %r = math.roundeven %d : f32
    %m = arith.mulf %r, %b : f32
    linalg.yield %m : f32
  } -> tensor<32x8xf32>
  %r = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
      ins(%x, %q : tensor<16x8xf32>, tensor<32x8xf32>) outs(%i : tensor<16x32xf32>) -> tensor<16x32xf32>
  return %r : tensor<16x32xf32>
}

// -----

// A producer read elsewhere too (the backward's dX = dY·Q(W)) stays, and
// the packing recomputes it: the same bytes move as with a copy.
// CHECK-LABEL: func.func @quantized_weight_twice
// CHECK: %[[Q:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<32x8xf32>)
// CHECK: %[[QT:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<8x32xf32>)
// CHECK: math.roundeven
// CHECK: %[[Y:.*]] = linalg.matmul ins(%{{.*}}, %[[QT]] : tensor<16x8xf32>, tensor<8x32xf32>)
// CHECK: return %[[Y]], %[[Q]]
func.func @quantized_weight_twice(%x: tensor<16x8xf32>, %w: tensor<32x8xf32>, %i: tensor<16x32xf32>) -> (tensor<16x32xf32>, tensor<32x8xf32>) {
  %e = tensor.empty() : tensor<32x8xf32>
  %q = linalg.generic {indexing_maps = [affine_map<(o, k) -> (o, k)>, affine_map<(o, k) -> (o, k)>], iterator_types = ["parallel", "parallel"]}
      ins(%w : tensor<32x8xf32>) outs(%e : tensor<32x8xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = math.roundeven %a : f32
    linalg.yield %r : f32
  } -> tensor<32x8xf32>
  %r = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
      ins(%x, %q : tensor<16x8xf32>, tensor<32x8xf32>) outs(%i : tensor<16x32xf32>) -> tensor<16x32xf32>
  return %r, %q : tensor<16x32xf32>, tensor<32x8xf32>
}

// -----

// Attention scores Q·Kᵀ per head: K transposed per batch entry, then a
// parallel loop over the heads of 2-D matmuls on slices.
// CHECK-DAG: #[[T:.*]] = affine_map<(d0, d1, d2) -> (d0, d2, d1)>
// CHECK-DAG: #[[ID:.*]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-LABEL: func.func @scores
// CHECK-SAME: (%[[Q:.*]]: tensor<4x32x16xf32>, %[[K:.*]]: tensor<4x32x16xf32>, %[[I:.*]]: tensor<4x32x32xf32>)
// CHECK: %[[KT:.*]] = linalg.generic {indexing_maps = [#[[T]], #[[ID]]]{{.*}} ins(%[[K]] : tensor<4x32x16xf32>) outs(%{{.*}} : tensor<4x16x32xf32>)
// CHECK: %[[R:.*]] = scf.forall (%[[H:.*]]) in (%{{.*}}) shared_outs(%[[C:.*]] = %[[I]]) -> (tensor<4x32x32xf32>)
// CHECK: %[[QH:.*]] = tensor.extract_slice %[[Q]][%[[H]], 0, 0] [1, 32, 16] [1, 1, 1] : tensor<4x32x16xf32> to tensor<32x16xf32>
// CHECK: %[[KH:.*]] = tensor.extract_slice %[[KT]][%[[H]], 0, 0] [1, 16, 32] [1, 1, 1] : tensor<4x16x32xf32> to tensor<16x32xf32>
// CHECK: %[[CH:.*]] = tensor.extract_slice %[[C]][%[[H]], 0, 0] [1, 32, 32] [1, 1, 1] : tensor<4x32x32xf32> to tensor<32x32xf32>
// CHECK: %[[P:.*]] = linalg.matmul ins(%[[QH]], %[[KH]] : tensor<32x16xf32>, tensor<16x32xf32>) outs(%[[CH]] : tensor<32x32xf32>)
// CHECK: scf.forall.in_parallel
// CHECK-NEXT: tensor.parallel_insert_slice %[[P]] into %[[C]][%[[H]], 0, 0] [1, 32, 32] [1, 1, 1]
// CHECK: return %[[R]]
func.func @scores(%q: tensor<4x32x16xf32>, %k: tensor<4x32x16xf32>, %i: tensor<4x32x32xf32>) -> tensor<4x32x32xf32> {
  %r = linalg.batch_matmul indexing_maps = [affine_map<(b, m, n, k) -> (b, m, k)>, affine_map<(b, m, n, k) -> (b, n, k)>, affine_map<(b, m, n, k) -> (b, m, n)>]
      ins(%q, %k : tensor<4x32x16xf32>, tensor<4x32x16xf32>) outs(%i : tensor<4x32x32xf32>) -> tensor<4x32x32xf32>
  return %r : tensor<4x32x32xf32>
}

// -----

// B already K x N but in rows of 128 floats (a multiple of 512 bytes apart:
// they share L1 sets), read by the kernel 64 / 8 = 8 times: copied into
// rows 16 floats longer. With 56 rows (7 reads) it is read in place.
// CHECK-LABEL: func.func @nn_aliased_rows
// CHECK-SAME: (%[[X:.*]]: tensor<64x8xf32>, %[[W:.*]]: tensor<8x128xf32>, %[[I:.*]]: tensor<64x128xf32>, %[[X2:.*]]: tensor<56x8xf32>, %[[I2:.*]]: tensor<56x128xf32>)
// CHECK: %[[BUF:.*]] = bufferization.alloc_tensor() : tensor<8x144xf32>
// CHECK: linalg.generic {{.*}} ins(%[[W]] : tensor<8x128xf32>)
// CHECK: %[[B:.*]] = tensor.extract_slice %{{.*}}[0, 0] [8, 128] [1, 1]
// CHECK: %[[R:.*]] = linalg.matmul ins(%[[X]], %[[B]] : tensor<64x8xf32>, tensor<8x128xf32>) outs(%[[I]] : tensor<64x128xf32>)
// CHECK: %[[R2:.*]] = linalg.matmul ins(%[[X2]], %[[W]] : tensor<56x8xf32>, tensor<8x128xf32>) outs(%[[I2]] : tensor<56x128xf32>)
// CHECK: return %[[R]], %[[R2]]
func.func @nn_aliased_rows(%x: tensor<64x8xf32>, %w: tensor<8x128xf32>, %i: tensor<64x128xf32>,
                           %x2: tensor<56x8xf32>, %i2: tensor<56x128xf32>)
    -> (tensor<64x128xf32>, tensor<56x128xf32>) {
  %r = linalg.matmul ins(%x, %w : tensor<64x8xf32>, tensor<8x128xf32>) outs(%i : tensor<64x128xf32>) -> tensor<64x128xf32>
  %r2 = linalg.matmul ins(%x2, %w : tensor<56x8xf32>, tensor<8x128xf32>) outs(%i2 : tensor<56x128xf32>) -> tensor<56x128xf32>
  return %r, %r2 : tensor<64x128xf32>, tensor<56x128xf32>
}

// -----

// Left alone: canonical and aligned, dynamic, f64.
// CHECK-LABEL: func.func @left_alone
// CHECK-NOT: linalg.generic
// CHECK-NOT: alloc_tensor
// CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<16x8xf32>, tensor<8x32xf32>)
// CHECK: linalg.matmul indexing_maps
// CHECK-SAME: tensor<?x8xf32>
// CHECK: linalg.matmul indexing_maps
// CHECK-SAME: tensor<16x8xf64>
func.func @left_alone(%x: tensor<16x8xf32>, %w: tensor<8x32xf32>, %i: tensor<16x32xf32>,
                      %xd: tensor<?x8xf32>, %wt: tensor<32x8xf32>, %id: tensor<?x32xf32>,
                      %x64: tensor<16x8xf64>, %w64: tensor<32x8xf64>, %i64: tensor<16x32xf64>)
    -> (tensor<16x32xf32>, tensor<?x32xf32>, tensor<16x32xf64>) {
  %r0 = linalg.matmul ins(%x, %w : tensor<16x8xf32>, tensor<8x32xf32>) outs(%i : tensor<16x32xf32>) -> tensor<16x32xf32>
  %r1 = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
      ins(%xd, %wt : tensor<?x8xf32>, tensor<32x8xf32>) outs(%id : tensor<?x32xf32>) -> tensor<?x32xf32>
  %r2 = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
      ins(%x64, %w64 : tensor<16x8xf64>, tensor<32x8xf64>) outs(%i64 : tensor<16x32xf64>) -> tensor<16x32xf64>
  return %r0, %r1, %r2 : tensor<16x32xf32>, tensor<?x32xf32>, tensor<16x32xf64>
}

// -----

// A contraction into which elementwise fusion put its operands' fake
// quantizers (a per-row scale read as an input, linalg.index for the
// position): each computed factor becomes an elementwise generic over the
// loops it reads, cloned op for op (so the same bits), and the contraction
// that is left is a plain one, named and packed as any. Here the product
// is split into heads: loops (m, h, e, k) with N = (h, e), the activation
// factor over (m, k), the weight's over (h, e, k).
// CHECK-DAG: #[[MK:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[ROW:.*]] = affine_map<(d0, d1) -> (d0)>
// CHECK-DAG: #[[W3:.*]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-DAG: #[[S2:.*]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-LABEL: func.func @fused_factors
// CHECK-SAME: (%[[X:.*]]: tensor<16x8xf32>, %[[XS:.*]]: tensor<16xf32>, %[[W:.*]]: tensor<2x16x8xf32>, %[[WS:.*]]: tensor<2x16xf32>
// CHECK: %[[XQ:.*]] = linalg.generic {indexing_maps = [#[[MK]], #[[ROW]], #[[MK]]], iterator_types = ["parallel", "parallel"]} ins(%[[X]], %[[XS]] : tensor<16x8xf32>, tensor<16xf32>) outs(%{{.*}} : tensor<16x8xf32>)
// CHECK: arith.divf
// CHECK-NEXT: math.roundeven
// CHECK: %[[WQ:.*]] = linalg.generic {indexing_maps = [#[[W3]], #[[S2]], #[[W3]]], iterator_types = ["parallel", "parallel", "parallel"]} ins(%[[W]], %[[WS]] : tensor<2x16x8xf32>, tensor<2x16xf32>) outs(%{{.*}} : tensor<2x16x8xf32>)
// CHECK: linalg.index 2
// CHECK: arith.divf
// CHECK-NOT: linalg.generic{{.*}}"reduction"
// CHECK: linalg.matmul ins
// CHECK-NOT: math.roundeven
// CHECK: return
func.func @fused_factors(%x: tensor<16x8xf32>, %xs: tensor<16xf32>, %w: tensor<2x16x8xf32>, %ws: tensor<2x16xf32>, %i: tensor<16x2x16xf32>) -> tensor<16x2x16xf32> {
  %r = linalg.generic {indexing_maps = [affine_map<(m, h, e, k) -> (m, k)>, affine_map<(m, h, e, k) -> (m)>,
                                        affine_map<(m, h, e, k) -> (h, e, k)>, affine_map<(m, h, e, k) -> (h, e)>,
                                        affine_map<(m, h, e, k) -> (m, h, e)>],
                       iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%x, %xs, %w, %ws : tensor<16x8xf32>, tensor<16xf32>, tensor<2x16x8xf32>, tensor<2x16xf32>) outs(%i : tensor<16x2x16xf32>) {
  ^bb0(%a: f32, %as: f32, %b: f32, %bs: f32, %acc: f32):
    %az = arith.divf %a, %as : f32
    %ar = math.roundeven %az : f32
    %aq = arith.mulf %ar, %as : f32
    %k = linalg.index 3 : index
    %k32 = arith.index_cast %k : index to i32
    %kf = arith.sitofp %k32 : i32 to f32
    %bk = arith.addf %b, %kf : f32
    %bz = arith.divf %bk, %bs : f32
    %br = math.roundeven %bz : f32
    %bq = arith.mulf %br, %bs : f32
    %p = arith.mulf %aq, %bq : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<16x2x16xf32>
  return %r : tensor<16x2x16xf32>
}

// -----

// A factor that depends on every loop (here on the output's n through
// linalg.index) is not split: computing it apart would not save a thing.
// CHECK-LABEL: func.func @factor_of_every_loop
// CHECK: linalg.generic {{.*}}"reduction"
// CHECK: linalg.index 1
// CHECK-NOT: linalg.matmul
func.func @factor_of_every_loop(%x: tensor<16x8xf32>, %w: tensor<32x8xf32>, %i: tensor<16x32xf32>) -> tensor<16x32xf32> {
  %r = linalg.generic {indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>],
                       iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : tensor<16x8xf32>, tensor<32x8xf32>) outs(%i : tensor<16x32xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %n = linalg.index 1 : index
    %n32 = arith.index_cast %n : index to i32
    %nf = arith.sitofp %n32 : i32 to f32
    %an = arith.mulf %a, %nf : f32
    %p = arith.mulf %an, %b : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<16x32xf32>
  return %r : tensor<16x32xf32>
}
