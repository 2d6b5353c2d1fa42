// An optimizer step written as an AOT entry point in destination-passing
// style: parameters and state arrive as memrefs and are updated in place.
// bufferization.to_tensor ... restrict gives the tensor view of each
// buffer, the step computes on tensors, and materialize_in_destination
// writes each result back into its own buffer; with `restrict` on both
// sides one-shot bufferization proves that nothing else aliases them and
// updates the buffers in place. The object then has no call that allocates
// or copies: no malloc, no memcpy (docs/Tools.md, "In-place updates").
//
// The body is AdamW as docs/Semantics.md §1.3 states it (what cage.adamw lowers to),
// in one linalg.generic that reads w, m and v through its outs operands.

// RUN: cage-compile %s -o %t.o --header %t.h
// RUN: llvm-nm --undefined-only %t.o | FileCheck %s --check-prefix=SYMS
// SYMS-NOT: {{alloc|memcpy|memmove}}
// SYMS: __kmpc_fork_call
// SYMS-NOT: {{alloc|memcpy|memmove}}
// SYMS: powf
// SYMS-NOT: {{alloc|memcpy|memmove}}

// The same without threads needs libc and libm only.
// RUN: cage-compile %s --no-threads -o %t.nothreads.o
// RUN: llvm-nm --undefined-only %t.nothreads.o | FileCheck %s --check-prefix=NOTHREADS
// NOTHREADS-NOT: {{alloc|memcpy|memmove|kmpc}}
// NOTHREADS: powf
// NOTHREADS-NOT: {{alloc|memcpy|memmove|kmpc}}

// The header declares it with one descriptor type and scalars by value.
// RUN: FileCheck %s --check-prefix=HEADER < %t.h
// HEADER: typedef struct cage_memref_f32_1d {
// HEADER: void _mlir_ciface_adamw_step(cage_memref_f32_1d *w, cage_memref_f32_1d *g, cage_memref_f32_1d *m, cage_memref_f32_1d *v, float lr, int64_t t);

// Linked with a C driver: three steps on awkward sizes, in place, equal bit
// for bit to the same arithmetic in C.
// RUN: %cc -std=c11 -O1 -ffp-contract=off -include %t.h %S/Inputs/adamw-driver.c %t.o -o %t.exe %libomp -lm
// RUN: %t.exe | FileCheck %s --check-prefix=EXEC
// RUN: env OMP_NUM_THREADS=1 %t.exe | FileCheck %s --check-prefix=EXEC
// RUN: %cc -std=c11 -O1 -ffp-contract=off -include %t.h %S/Inputs/adamw-driver.c %t.nothreads.o -o %t.nothreads.exe -lm
// RUN: %t.nothreads.exe | FileCheck %s --check-prefix=EXEC
// EXEC-COUNT-5: n={{[0-9]+}}: 3 steps in place, bit-exact
// EXEC: ok

#id = affine_map<(d0) -> (d0)>

func.func @adamw_step(%w: memref<?xf32>, %g: memref<?xf32>,
                      %m: memref<?xf32>, %v: memref<?xf32>,
                      %lr: f32, %t: i64) {
  %wt = bufferization.to_tensor %w restrict writable : memref<?xf32> to tensor<?xf32>
  %gt = bufferization.to_tensor %g restrict : memref<?xf32> to tensor<?xf32>
  %mt = bufferization.to_tensor %m restrict writable : memref<?xf32> to tensor<?xf32>
  %vt = bufferization.to_tensor %v restrict writable : memref<?xf32> to tensor<?xf32>

  %one = arith.constant 1.0 : f32
  %beta1 = arith.constant 0.9 : f32
  %beta2 = arith.constant 0.95 : f32
  %mbeta1 = arith.constant 0.1 : f32
  %mbeta2 = arith.constant 0.05 : f32
  %eps = arith.constant 1.0e-8 : f32
  %wd = arith.constant 0.1 : f32
  // Scalars once per call: decay 1 − lr·wd, bias corrections 1 − β^t.
  %lrwd = arith.mulf %lr, %wd : f32
  %decay = arith.subf %one, %lrwd : f32
  %tf = arith.sitofp %t : i64 to f32
  %p1 = math.powf %beta1, %tf : f32
  %bc1 = arith.subf %one, %p1 : f32
  %p2 = math.powf %beta2, %tf : f32
  %bc2 = arith.subf %one, %p2 : f32

  %r:3 = linalg.generic {indexing_maps = [#id, #id, #id, #id],
                         iterator_types = ["parallel"]}
      ins(%gt : tensor<?xf32>) outs(%wt, %mt, %vt : tensor<?xf32>, tensor<?xf32>, tensor<?xf32>) {
  ^bb0(%gi: f32, %wi: f32, %mi: f32, %vi: f32):
    %w1 = arith.mulf %wi, %decay : f32
    %a = arith.mulf %beta1, %mi : f32
    %b = arith.mulf %mbeta1, %gi : f32
    %m1 = arith.addf %a, %b : f32
    %gg = arith.mulf %gi, %gi : f32
    %c = arith.mulf %beta2, %vi : f32
    %d = arith.mulf %mbeta2, %gg : f32
    %v1 = arith.addf %c, %d : f32
    %mh = arith.divf %m1, %bc1 : f32
    %vh = arith.divf %v1, %bc2 : f32
    %s = math.sqrt %vh : f32
    %den = arith.addf %s, %eps : f32
    %q = arith.divf %mh, %den : f32
    %u = arith.mulf %lr, %q : f32
    %w2 = arith.subf %w1, %u : f32
    linalg.yield %w2, %m1, %v1 : f32, f32, f32
  } -> (tensor<?xf32>, tensor<?xf32>, tensor<?xf32>)

  bufferization.materialize_in_destination %r#0 in restrict writable %w
      : (tensor<?xf32>, memref<?xf32>) -> ()
  bufferization.materialize_in_destination %r#1 in restrict writable %m
      : (tensor<?xf32>, memref<?xf32>) -> ()
  bufferization.materialize_in_destination %r#2 in restrict writable %v
      : (tensor<?xf32>, memref<?xf32>) -> ()
  return
}
