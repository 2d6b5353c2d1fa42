// cage-cpu-pipeline: tensors in, the LLVM dialect out (OpenMP ops stay until
// the translation to LLVM IR).
// RUN: cage-opt %s --split-input-file --cage-cpu-pipeline | FileCheck %s
// RUN: cage-opt %s --split-input-file --pass-pipeline='builtin.module(cage-cpu-pipeline{vectorize=false threads=false})' | FileCheck %s --check-prefix=SCALAR
// RUN: cage-opt %s --split-input-file --pass-pipeline='builtin.module(cage-cpu-pipeline{vector-width=8 c-interface=false fuse-elementwise=false})' | FileCheck %s --check-prefix=W8
// RUN: not cage-opt %s --split-input-file --pass-pipeline='builtin.module(cage-cpu-pipeline{vector-width=0})' 2>&1 | FileCheck %s --check-prefix=BADWIDTH
// RUN: not cage-opt %s --split-input-file --pass-pipeline='builtin.module(cage-cpu-pipeline{bogus=1})' 2>&1 | FileCheck %s --check-prefix=BADOPT

// BADWIDTH: error: cage-cpu-pipeline: vector-width must be in [1, 1024]
// BADOPT: no such option bogus

#id2 = affine_map<(d0, d1) -> (d0, d1)>

// Elementwise, dynamic shape: a result buffer from malloc (through the
// buffer cache of cage-cpu-cache-buffers), an OpenMP loop
// over the rows, 16-lane masked loads and stores inside; the C interface
// wrapper takes the result and argument descriptors by pointer.
// CHECK-LABEL: llvm.func @ew_dyn(
// CHECK:         llvm.call @__cage_buffer_take
// CHECK:         omp.parallel
// CHECK:           omp.wsloop
// CHECK:             llvm.intr.masked.load {{.*}} -> vector<16xf32>
// CHECK:             llvm.intr.sqrt({{.*}}) : (vector<16xf32>) -> vector<16xf32>
// CHECK:             llvm.intr.masked.store {{.*}} : vector<16xf32>, vector<16xi1> into !llvm.ptr
// CHECK-LABEL: llvm.func @_mlir_ciface_ew_dyn(%arg0: !llvm.ptr, %arg1: !llvm.ptr, %arg2: !llvm.ptr)

// Without vectors and threads: scalar loops only.
// SCALAR-LABEL: llvm.func @ew_dyn(
// SCALAR-NOT:     omp.
// SCALAR-NOT:     vector<
// SCALAR:         llvm.intr.sqrt({{.*}}) : (f32) -> f32
// SCALAR-LABEL: llvm.func @_mlir_ciface_ew_dyn(

// W8-LABEL: llvm.func @ew_dyn(
// W8:         llvm.intr.masked.load {{.*}} -> vector<8xf32>
// W8-NOT:   _mlir_ciface_
func.func @ew_dyn(%a: tensor<?x?xf32>, %b: tensor<?x?xf32>) -> tensor<?x?xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %d0 = tensor.dim %a, %c0 : tensor<?x?xf32>
  %d1 = tensor.dim %a, %c1 : tensor<?x?xf32>
  %e = tensor.empty(%d0, %d1) : tensor<?x?xf32>
  %r = linalg.generic {indexing_maps = [#id2, #id2, #id2],
                       iterator_types = ["parallel", "parallel"]}
      ins(%a, %b : tensor<?x?xf32>, tensor<?x?xf32>) outs(%e : tensor<?x?xf32>) {
  ^bb0(%x: f32, %y: f32, %o: f32):
    %m = arith.mulf %x, %y : f32
    %s = arith.addf %m, %x : f32
    %q = math.sqrt %s : f32
    linalg.yield %q : f32
  } -> tensor<?x?xf32>
  return %r : tensor<?x?xf32>
}

// -----

// Elementwise on tensors written with arith, static shape that is a multiple
// of the vector width: plain (unmasked) vector loads and stores, and no
// threads for 8192 elements.
// CHECK-LABEL: llvm.func @ew_static(
// CHECK-NOT:     omp.parallel
// CHECK-NOT:     llvm.intr.masked
// CHECK:         llvm.load {{.*}} -> vector<16xf32>
// CHECK:         llvm.fmul {{.*}} : vector<16xf32>
// CHECK:         llvm.store {{.*}} : vector<16xf32>, !llvm.ptr
// CHECK-LABEL: llvm.func @_mlir_ciface_ew_static(
// SCALAR-LABEL: llvm.func @ew_static(
// SCALAR-NOT:     vector<
// SCALAR:         llvm.fmul {{.*}} : f32
func.func @ew_static(%a: tensor<64x128xf32>, %b: tensor<64x128xf32>) -> tensor<64x128xf32> {
  %r = arith.mulf %a, %b : tensor<64x128xf32>
  return %r : tensor<64x128xf32>
}

// -----

// Row reduction, dynamic: the fill is vectorized, the reduction over the
// innermost dimension stays a loop (LLVM's vectorizer decides) inside an
// OpenMP loop over the rows; the float sum keeps its order.
// CHECK-LABEL: llvm.func @rowsum_dyn(
// CHECK:         omp.parallel
// CHECK:           llvm.intr.masked.store {{.*}} : vector<16xf32>
// CHECK:         omp.parallel
// CHECK:           omp.wsloop
// CHECK-NOT:         vector<
// CHECK:             llvm.fadd {{.*}} : f32
// CHECK-LABEL: llvm.func @_mlir_ciface_rowsum_dyn(
#id = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d0)>
func.func @rowsum_dyn(%a: tensor<?x?xf32>) -> tensor<?xf32> {
  %c0 = arith.constant 0 : index
  %z = arith.constant 0.0 : f32
  %d0 = tensor.dim %a, %c0 : tensor<?x?xf32>
  %e = tensor.empty(%d0) : tensor<?xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<?xf32>) -> tensor<?xf32>
  %r = linalg.generic {indexing_maps = [#id, #row],
                       iterator_types = ["parallel", "reduction"]}
      ins(%a : tensor<?x?xf32>) outs(%f : tensor<?xf32>) {
  ^bb0(%x: f32, %o: f32):
    %s = arith.addf %o, %x : f32
    linalg.yield %s : f32
  } -> tensor<?xf32>
  return %r : tensor<?xf32>
}

// -----

// Row reduction, static and large enough for threads (2^17 points and more).
// CHECK-LABEL: llvm.func @rowmax_static(
// CHECK:         omp.parallel
// CHECK:           llvm.intr.maximum({{.*}}) : (f32, f32) -> f32
#id = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d0)>
func.func @rowmax_static(%a: tensor<1024x129xf32>) -> tensor<1024xf32> {
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1024xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<1024xf32>) -> tensor<1024xf32>
  %r = linalg.generic {indexing_maps = [#id, #row],
                       iterator_types = ["parallel", "reduction"]}
      ins(%a : tensor<1024x129xf32>) outs(%f : tensor<1024xf32>) {
  ^bb0(%x: f32, %o: f32):
    %ab = math.absf %x : f32
    %m = arith.maximumf %ab, %o : f32
    linalg.yield %m : f32
  } -> tensor<1024xf32>
  return %r : tensor<1024xf32>
}

// -----

// Private functions get no C interface; public ones do.
// CHECK-LABEL: llvm.func @callee(
// CHECK-NOT:   _mlir_ciface_callee
// CHECK-LABEL: llvm.func @caller(
// CHECK:         llvm.call @callee
// CHECK-LABEL: llvm.func @_mlir_ciface_caller(
func.func private @callee(%x: f32) -> f32 {
  %y = arith.addf %x, %x : f32
  return %y : f32
}
func.func @caller(%x: f32) -> f32 {
  %y = func.call @callee(%x) : (f32) -> f32
  return %y : f32
}
