// RUN: cage-opt %s --split-input-file --cage-cpu-tile-contractions | FileCheck %s
// RUN: cage-opt %s --split-input-file --cage-cpu-tile-contractions=threads=false | FileCheck %s --check-prefix=SERIAL
// RUN: cage-opt %s --split-input-file --cage-cpu-tile-contractions=vector-width=8 | FileCheck %s --check-prefix=AVX2

// A canonical matmul on buffers (48 rows: a multiple of both register
// blocks' rows) becomes, per 8 x 32 register block: the
// accumulators loaded, a loop over all 300 steps of K carrying them as
// vector<8x32xf32>, each step 8 broadcasts of A, one 32-lane load of B (its
// rows 80 floats apart) and 8 FMAs, then the accumulators stored. Its 1.2M
// multiply-adds run on one thread (below 2^25; mm_threads below has more).
// CHECK-LABEL: func.func @mm
// CHECK-NOT: scf.forall
// CHECK: scf.for %[[I:.*]] = %{{.*}} to %{{.*}} step %{{.*}}
// CHECK-COUNT-8: vector.load %{{.*}} : memref<48x64xf32>, vector<32xf32>
// CHECK: %{{.*}} = scf.for %[[K:.*]] = %{{.*}} to %[[C300:.*]] step %{{.*}} iter_args(%[[ACC:.*]] = %{{.*}}) -> (vector<8x32xf32>)
// CHECK: vector.load %{{.*}} : memref<300x64xf32, strided<[80, 1]>>, vector<32xf32>
// CHECK-COUNT-8: vector.fma %{{.*}}, %{{.*}}, %{{.*}} : vector<32xf32>
// CHECK: scf.yield
// CHECK-COUNT-8: vector.store %{{.*}} : memref<48x64xf32>, vector<32xf32>
// CHECK-NOT: linalg.matmul
// SERIAL-LABEL: func.func @mm
// SERIAL-NOT: scf.forall
// SERIAL: vector.fma
// AVX2-LABEL: func.func @mm
// AVX2's block is 6 x 16: 12 accumulators of its 16 registers.
// AVX2: scf.for %{{.*}} = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%{{.*}} = %{{.*}}) -> (vector<6x16xf32>)
// AVX2-COUNT-6: vector.fma %{{.*}}, %{{.*}}, %{{.*}} : vector<16xf32>
func.func @mm(%a: memref<48x300xf32>, %b: memref<300x64xf32, strided<[80, 1]>>, %c: memref<48x64xf32>) {
  linalg.matmul ins(%a, %b : memref<48x300xf32>, memref<300x64xf32, strided<[80, 1]>>) outs(%c : memref<48x64xf32>)
  return
}

// -----

// From 2^25 multiply-adds (64 x 2048 x 512: 2^26) a contraction runs on
// threads, over blocks of columns (64 rows make one block of rows). Smaller
// ones stay on one thread: on this project's 2-vCPU machine waking the
// second thread cost more than it saved below that (256 x 256 x 256 ran
// 1.2-2 x slower on two threads than on one; docs/Passes.md).
// CHECK-LABEL: func.func @mm_threads
// CHECK: scf.forall (%{{.*}}) in (8)
// CHECK: vector.fma
// SERIAL-LABEL: func.func @mm_threads
// SERIAL-NOT: scf.forall
// SERIAL: vector.fma
// AVX2-LABEL: func.func @mm_threads
func.func @mm_threads(%a: memref<64x512xf32>, %b: memref<512x2048xf32>, %c: memref<64x2048xf32>) {
  linalg.matmul ins(%a, %b : memref<64x512xf32>, memref<512x2048xf32>) outs(%c : memref<64x2048xf32>)
  return
}

// -----

// C's buffer has other views (the last columns of a product whose width is
// not a multiple of 32, computed apart and copied in): the accumulators are
// still carried in registers across the K loop, read before it and written
// after it (upstream's hoist_redundant_vector_transfers gives up on any
// view-like user of the buffer).
// CHECK-LABEL: func.func @c_has_views
// CHECK-COUNT-8: vector.load %{{.*}} : memref<64x80xf32>, vector<32xf32>
// CHECK: scf.for %{{.*}} iter_args(%{{.*}} = %{{.*}}) -> (vector<8x32xf32>)
// CHECK-NOT: vector.store
// CHECK: scf.yield
// CHECK-COUNT-8: vector.store %{{.*}} : memref<64x80xf32>, vector<32xf32>
func.func @c_has_views(%a: memref<64x300xf32>, %b: memref<300x64xf32>, %c: memref<64x80xf32>, %rest: memref<64x16xf32>) {
  %main = memref.subview %c[0, 0] [64, 64] [1, 1] : memref<64x80xf32> to memref<64x64xf32, strided<[80, 1]>>
  linalg.matmul ins(%a, %b : memref<64x300xf32>, memref<300x64xf32>) outs(%main : memref<64x64xf32, strided<[80, 1]>>)
  %last = memref.subview %c[0, 64] [64, 16] [1, 1] : memref<64x80xf32> to memref<64x16xf32, strided<[80, 1], offset: 64>>
  linalg.copy ins(%rest : memref<64x16xf32>) outs(%last : memref<64x16xf32, strided<[80, 1], offset: 64>>)
  return
}

// -----

// Inside a parallel loop (the batch of a batched contraction, as
// cage-cpu-pack-contractions writes it), no threads of its own.
// CHECK-LABEL: func.func @in_batch
// CHECK: scf.forall (%{{.*}}) in (4)
// CHECK-NOT: scf.forall
// CHECK: iter_args(%{{.*}} = %{{.*}}) -> (vector<8x32xf32>)
// CHECK-COUNT-8: vector.fma
func.func @in_batch(%a: memref<4x128x64xf32>, %b: memref<4x64x128xf32>, %c: memref<4x128x128xf32>) {
  scf.forall (%i) in (4) {
    %ai = memref.subview %a[%i, 0, 0] [1, 128, 64] [1, 1, 1] : memref<4x128x64xf32> to memref<128x64xf32, strided<[64, 1], offset: ?>>
    %bi = memref.subview %b[%i, 0, 0] [1, 64, 128] [1, 1, 1] : memref<4x64x128xf32> to memref<64x128xf32, strided<[128, 1], offset: ?>>
    %ci = memref.subview %c[%i, 0, 0] [1, 128, 128] [1, 1, 1] : memref<4x128x128xf32> to memref<128x128xf32, strided<[128, 1], offset: ?>>
    linalg.matmul ins(%ai, %bi : memref<128x64xf32, strided<[64, 1], offset: ?>>, memref<64x128xf32, strided<[128, 1], offset: ?>>)
                  outs(%ci : memref<128x128xf32, strided<[128, 1], offset: ?>>)
  }
  return
}

// -----

// C zero-filled just before, K in one cache tile: the fill goes, and the
// accumulators start from zeros in registers instead of loads of C (the same
// +0.0, so the same bits; test/Integration/CPU/zero-init-contractions.test).
// CHECK-LABEL: func.func @zero_fill
// CHECK-NOT: linalg.fill
// CHECK: %[[ZEROS:.*]] = arith.constant dense<0.000000e+00> : vector<8x32xf32>
// CHECK: memref.alloc
// CHECK-NOT: vector.load %{{.*}} : memref<64x64xf32>
// CHECK: scf.for %{{.*}} iter_args(%{{.*}} = %[[ZEROS]]) -> (vector<8x32xf32>)
// CHECK-COUNT-8: vector.store %{{.*}} : memref<64x64xf32>, vector<32xf32>
func.func @zero_fill(%a: memref<64x300xf32>, %b: memref<300x64xf32>) -> memref<64x64xf32> {
  %zero = arith.constant 0.0 : f32
  %c = memref.alloc() : memref<64x64xf32>
  linalg.fill ins(%zero : f32) outs(%c : memref<64x64xf32>)
  linalg.matmul ins(%a, %b : memref<64x300xf32>, memref<300x64xf32>) outs(%c : memref<64x64xf32>)
  return %c : memref<64x64xf32>
}

// -----

// K in four cache tiles of 250 (ops between the fill and the matmul that do
// not touch C do not matter, nor does a fill through a reshape of C's whole
// buffer): zeros on the first tile, C's block read on the others.
// CHECK-LABEL: func.func @zero_fill_depth_tiles
// CHECK-NOT: linalg.fill ins(%{{.*}} : f32) outs(%{{.*}} : memref<8x9x96xf32>)
// CHECK: scf.for %[[KC:.*]] = %[[C0:.*]] to %{{.*}} step %{{.*}} {
// CHECK: %[[FIRST:.*]] = arith.cmpi eq, %[[KC]], %[[C0]] : index
// CHECK: %[[INIT:.*]] = scf.if %[[FIRST]] -> (vector<8x32xf32>) {
// CHECK-NEXT: scf.yield %{{.*}} : vector<8x32xf32>
// CHECK-NEXT: } else {
// CHECK: vector.load %{{.*}} : memref<72x96xf32>, vector<32xf32>
// CHECK: scf.for %{{.*}} iter_args(%{{.*}} = %[[INIT]]) -> (vector<8x32xf32>)
func.func @zero_fill_depth_tiles(%a: memref<72x1000xf32>, %b: memref<1000x96xf32>, %x: memref<4xf32>) -> memref<72x96xf32> {
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  %c = memref.alloc() : memref<72x96xf32>
  %heads = memref.expand_shape %c [[0, 1], [2]] output_shape [8, 9, 96] : memref<72x96xf32> into memref<8x9x96xf32>
  linalg.fill ins(%zero : f32) outs(%heads : memref<8x9x96xf32>)
  linalg.fill ins(%one : f32) outs(%x : memref<4xf32>)
  linalg.matmul ins(%a, %b : memref<72x1000xf32>, memref<1000x96xf32>) outs(%c : memref<72x96xf32>)
  return %c : memref<72x96xf32>
}

// -----

// One batch of a zero-filled buffer per iteration of an scf.forall over all
// of its batches (cage-cpu-pack-contractions' batched form): the fill goes.
// Over half of the batches, it stays (the rest must still be zeros).
// CHECK-LABEL: func.func @zero_fill_batches
// CHECK-NOT: linalg.fill
// CHECK: scf.forall (%{{.*}}) in (4)
// CHECK: scf.for %{{.*}} iter_args(%{{.*}} = %{{.*}}) -> (vector<8x32xf32>)
// CHECK: linalg.fill
// CHECK: scf.forall (%{{.*}}) in (2)
// CHECK: vector.load %{{.*}} : memref<4x128x128xf32>, vector<32xf32>
func.func @zero_fill_batches(%a: memref<4x128x64xf32>, %b: memref<4x64x128xf32>) -> (memref<4x128x128xf32>, memref<4x128x128xf32>) {
  %zero = arith.constant 0.0 : f32
  %c = memref.alloc() : memref<4x128x128xf32>
  linalg.fill ins(%zero : f32) outs(%c : memref<4x128x128xf32>)
  scf.forall (%i) in (4) {
    %ai = memref.subview %a[%i, 0, 0] [1, 128, 64] [1, 1, 1] : memref<4x128x64xf32> to memref<128x64xf32, strided<[64, 1], offset: ?>>
    %bi = memref.subview %b[%i, 0, 0] [1, 64, 128] [1, 1, 1] : memref<4x64x128xf32> to memref<64x128xf32, strided<[128, 1], offset: ?>>
    %ci = memref.subview %c[%i, 0, 0] [1, 128, 128] [1, 1, 1] : memref<4x128x128xf32> to memref<128x128xf32, strided<[128, 1], offset: ?>>
    linalg.matmul ins(%ai, %bi : memref<128x64xf32, strided<[64, 1], offset: ?>>, memref<64x128xf32, strided<[128, 1], offset: ?>>)
                  outs(%ci : memref<128x128xf32, strided<[128, 1], offset: ?>>)
  }
  %half = memref.alloc() : memref<4x128x128xf32>
  linalg.fill ins(%zero : f32) outs(%half : memref<4x128x128xf32>)
  scf.forall (%i) in (2) {
    %ai = memref.subview %a[%i, 0, 0] [1, 128, 64] [1, 1, 1] : memref<4x128x64xf32> to memref<128x64xf32, strided<[64, 1], offset: ?>>
    %bi = memref.subview %b[%i, 0, 0] [1, 64, 128] [1, 1, 1] : memref<4x64x128xf32> to memref<64x128xf32, strided<[128, 1], offset: ?>>
    %ci = memref.subview %half[%i, 0, 0] [1, 128, 128] [1, 1, 1] : memref<4x128x128xf32> to memref<128x128xf32, strided<[128, 1], offset: ?>>
    linalg.matmul ins(%ai, %bi : memref<128x64xf32, strided<[64, 1], offset: ?>>, memref<64x128xf32, strided<[128, 1], offset: ?>>)
                  outs(%ci : memref<128x128xf32, strided<[128, 1], offset: ?>>)
  }
  return %c, %half : memref<4x128x128xf32>, memref<4x128x128xf32>
}

// -----

// A slice of C zero-filled just before its product in the same block (the
// batched products that cage-cpu-name-contractions makes a loop over
// matrices of [b, s, h * c]): the fill goes, whatever the rest of the buffer
// holds, since the matmul writes all that it wrote. It stays when an op
// between uses the buffer (here a copy out of another slice of it), and when
// the buffer is an argument (another argument might alias it).
// CHECK-LABEL: func.func @zero_fill_slice
// CHECK: scf.forall (%{{.*}}) in (8)
// CHECK-NOT: linalg.fill
// CHECK: scf.for %{{.*}} iter_args(%{{.*}} = %{{.*}}) -> (vector<8x32xf32>)
// CHECK: scf.forall (%{{.*}}) in (8)
// CHECK: linalg.fill
// CHECK: memref.copy
// CHECK: vector.load %{{.*}} : memref<2x128x256xf32>, vector<32xf32>
// CHECK: scf.forall (%{{.*}}) in (8)
// CHECK: linalg.fill
// CHECK: vector.load %{{.*}} : memref<2x128x256xf32>, vector<32xf32>
func.func @zero_fill_slice(%p: memref<2x4x128x128xf32>, %v: memref<2x128x256xf32>, %row: memref<64xf32>,
                           %arg: memref<2x128x256xf32>) -> (memref<2x128x256xf32>, memref<2x128x256xf32>) {
  %zero = arith.constant 0.0 : f32
  %c4 = arith.constant 4 : index
  %c64 = arith.constant 64 : index
  %o = memref.alloc() : memref<2x128x256xf32>
  scf.forall (%i) in (8) {
    %h = arith.remui %i, %c4 : index
    %b = arith.divui %i, %c4 : index
    %hc = arith.muli %h, %c64 : index
    %pi = memref.subview %p[%b, %h, 0, 0] [1, 1, 128, 128] [1, 1, 1, 1] : memref<2x4x128x128xf32> to memref<128x128xf32, strided<[128, 1], offset: ?>>
    %vi = memref.subview %v[%b, 0, %hc] [1, 128, 64] [1, 1, 1] : memref<2x128x256xf32> to memref<128x64xf32, strided<[256, 1], offset: ?>>
    %oi = memref.subview %o[%b, 0, %hc] [1, 128, 64] [1, 1, 1] : memref<2x128x256xf32> to memref<128x64xf32, strided<[256, 1], offset: ?>>
    linalg.fill ins(%zero : f32) outs(%oi : memref<128x64xf32, strided<[256, 1], offset: ?>>)
    linalg.matmul ins(%pi, %vi : memref<128x128xf32, strided<[128, 1], offset: ?>>, memref<128x64xf32, strided<[256, 1], offset: ?>>)
                  outs(%oi : memref<128x64xf32, strided<[256, 1], offset: ?>>)
  }
  %read = memref.alloc() : memref<2x128x256xf32>
  scf.forall (%i) in (8) {
    %h = arith.remui %i, %c4 : index
    %b = arith.divui %i, %c4 : index
    %hc = arith.muli %h, %c64 : index
    %pi = memref.subview %p[%b, %h, 0, 0] [1, 1, 128, 128] [1, 1, 1, 1] : memref<2x4x128x128xf32> to memref<128x128xf32, strided<[128, 1], offset: ?>>
    %vi = memref.subview %v[%b, 0, %hc] [1, 128, 64] [1, 1, 1] : memref<2x128x256xf32> to memref<128x64xf32, strided<[256, 1], offset: ?>>
    %oi = memref.subview %read[%b, 0, %hc] [1, 128, 64] [1, 1, 1] : memref<2x128x256xf32> to memref<128x64xf32, strided<[256, 1], offset: ?>>
    linalg.fill ins(%zero : f32) outs(%oi : memref<128x64xf32, strided<[256, 1], offset: ?>>)
    %other = memref.subview %read[0, 0, 0] [1, 1, 64] [1, 1, 1] : memref<2x128x256xf32> to memref<64xf32, strided<[1]>>
    memref.copy %other, %row : memref<64xf32, strided<[1]>> to memref<64xf32>
    linalg.matmul ins(%pi, %vi : memref<128x128xf32, strided<[128, 1], offset: ?>>, memref<128x64xf32, strided<[256, 1], offset: ?>>)
                  outs(%oi : memref<128x64xf32, strided<[256, 1], offset: ?>>)
  }
  scf.forall (%i) in (8) {
    %h = arith.remui %i, %c4 : index
    %b = arith.divui %i, %c4 : index
    %hc = arith.muli %h, %c64 : index
    %pi = memref.subview %p[%b, %h, 0, 0] [1, 1, 128, 128] [1, 1, 1, 1] : memref<2x4x128x128xf32> to memref<128x128xf32, strided<[128, 1], offset: ?>>
    %vi = memref.subview %v[%b, 0, %hc] [1, 128, 64] [1, 1, 1] : memref<2x128x256xf32> to memref<128x64xf32, strided<[256, 1], offset: ?>>
    %oi = memref.subview %arg[%b, 0, %hc] [1, 128, 64] [1, 1, 1] : memref<2x128x256xf32> to memref<128x64xf32, strided<[256, 1], offset: ?>>
    linalg.fill ins(%zero : f32) outs(%oi : memref<128x64xf32, strided<[256, 1], offset: ?>>)
    linalg.matmul ins(%pi, %vi : memref<128x128xf32, strided<[128, 1], offset: ?>>, memref<128x64xf32, strided<[256, 1], offset: ?>>)
                  outs(%oi : memref<128x64xf32, strided<[256, 1], offset: ?>>)
  }
  return %o, %read : memref<2x128x256xf32>, memref<2x128x256xf32>
}

// -----

// The fill stays, and C is read, when it is not +0.0, when C is not a buffer
// of the function (an argument might alias another), when an op between
// reads C through a view, and when it fills a view of C rather than C.
// CHECK-LABEL: func.func @fill_stays
// CHECK: linalg.fill ins(%{{.*}} : f32) outs(%[[C1:.*]] : memref<64x64xf32>)
// CHECK: vector.load %[[C1]][
// CHECK: linalg.fill ins(%{{.*}} : f32) outs(%[[C2:.*]] : memref<64x64xf32>)
// CHECK: vector.load %[[C2]][
// CHECK: linalg.fill ins(%{{.*}} : f32) outs(%[[ARG:.*]] : memref<64x64xf32>)
// CHECK: vector.load %[[ARG]][
// CHECK: linalg.fill ins(%{{.*}} : f32) outs(%[[C3:.*]] : memref<64x64xf32>)
// CHECK: memref.copy
// CHECK: vector.load %[[C3]][
// CHECK: linalg.fill ins(%{{.*}} : f32) outs(%{{.*}} : memref<64x32xf32, strided<[64, 1]>>)
// CHECK: vector.load
func.func @fill_stays(%a: memref<64x300xf32>, %b: memref<300x64xf32>, %arg: memref<64x64xf32>,
                      %row: memref<64xf32>) -> (memref<64x64xf32>, memref<64x64xf32>, memref<64x64xf32>, memref<64x64xf32>) {
  %one = arith.constant 1.0 : f32
  %negative_zero = arith.constant -0.0 : f32
  %zero = arith.constant 0.0 : f32
  %c1 = memref.alloc() : memref<64x64xf32>
  linalg.fill ins(%one : f32) outs(%c1 : memref<64x64xf32>)
  linalg.matmul ins(%a, %b : memref<64x300xf32>, memref<300x64xf32>) outs(%c1 : memref<64x64xf32>)
  %c2 = memref.alloc() : memref<64x64xf32>
  linalg.fill ins(%negative_zero : f32) outs(%c2 : memref<64x64xf32>)
  linalg.matmul ins(%a, %b : memref<64x300xf32>, memref<300x64xf32>) outs(%c2 : memref<64x64xf32>)
  linalg.fill ins(%zero : f32) outs(%arg : memref<64x64xf32>)
  linalg.matmul ins(%a, %b : memref<64x300xf32>, memref<300x64xf32>) outs(%arg : memref<64x64xf32>)
  %c3 = memref.alloc() : memref<64x64xf32>
  linalg.fill ins(%zero : f32) outs(%c3 : memref<64x64xf32>)
  %first = memref.subview %c3[0, 0] [1, 64] [1, 1] : memref<64x64xf32> to memref<64xf32, strided<[1]>>
  memref.copy %first, %row : memref<64xf32, strided<[1]>> to memref<64xf32>
  linalg.matmul ins(%a, %b : memref<64x300xf32>, memref<300x64xf32>) outs(%c3 : memref<64x64xf32>)
  %c4 = memref.alloc() : memref<64x64xf32>
  %half = memref.subview %c4[0, 0] [64, 32] [1, 1] : memref<64x64xf32> to memref<64x32xf32, strided<[64, 1]>>
  linalg.fill ins(%zero : f32) outs(%half : memref<64x32xf32, strided<[64, 1]>>)
  linalg.matmul ins(%a, %b : memref<64x300xf32>, memref<300x64xf32>) outs(%c4 : memref<64x64xf32>)
  return %c1, %c2, %c3, %c4 : memref<64x64xf32>, memref<64x64xf32>, memref<64x64xf32>, memref<64x64xf32>
}

// -----

// Left alone (for linalg-generalize-named-ops and cage-cpu-tile): rows not a
// multiple of 8, a transposed map, dynamic sizes, tensors, batch_matmul, K = 1
// (an outer product: no K loop to carry accumulators across).
// CHECK-LABEL: func.func @left_alone
// CHECK-NOT: vector.fma
// CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : memref<10x16xf32>, memref<16x32xf32>)
// CHECK: linalg.matmul indexing_maps
// CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : memref<?x16xf32>, memref<16x32xf32>)
// CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<16x16xf32>, tensor<16x32xf32>)
// CHECK: linalg.batch_matmul
// CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : memref<16x1xf32>, memref<1x32xf32>)
func.func @left_alone(%a: memref<10x16xf32>, %b: memref<16x32xf32>, %c: memref<10x32xf32>,
                      %bt: memref<32x16xf32>, %a16: memref<16x16xf32>, %c16: memref<16x32xf32>,
                      %ad: memref<?x16xf32>, %cd: memref<?x32xf32>,
                      %at: tensor<16x16xf32>, %btt: tensor<16x32xf32>, %ct: tensor<16x32xf32>,
                      %ba: memref<2x16x16xf32>, %bb: memref<2x16x32xf32>, %bc: memref<2x16x32xf32>,
                      %k1a: memref<16x1xf32>, %k1b: memref<1x32xf32>) -> tensor<16x32xf32> {
  linalg.matmul ins(%a, %b : memref<10x16xf32>, memref<16x32xf32>) outs(%c : memref<10x32xf32>)
  linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
      ins(%a16, %bt : memref<16x16xf32>, memref<32x16xf32>) outs(%c16 : memref<16x32xf32>)
  linalg.matmul ins(%ad, %b : memref<?x16xf32>, memref<16x32xf32>) outs(%cd : memref<?x32xf32>)
  %r = linalg.matmul ins(%at, %btt : tensor<16x16xf32>, tensor<16x32xf32>) outs(%ct : tensor<16x32xf32>) -> tensor<16x32xf32>
  linalg.batch_matmul ins(%ba, %bb : memref<2x16x16xf32>, memref<2x16x32xf32>) outs(%bc : memref<2x16x32xf32>)
  linalg.matmul ins(%k1a, %k1b : memref<16x1xf32>, memref<1x32xf32>) outs(%c16 : memref<16x32xf32>)
  return %r : tensor<16x32xf32>
}
