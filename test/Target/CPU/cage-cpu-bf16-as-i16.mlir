// RUN: cage-opt %s --cage-cpu-bf16-as-i16 | FileCheck %s
// RUN: cage-opt %s --cage-cpu-bf16-as-i16 --mlir-print-op-generic | mlir-translate --mlir-to-llvmir | llc -O2 -mtriple=x86_64-unknown-linux-gnu -mcpu=haswell | FileCheck %s --check-prefix=ASM

// A function that only moves bf16 values (as the CPU pipeline leaves a
// vectorized bf16 state update: masked loads and stores of the row's last
// vector, shuffles of a transposition in registers, constants, allocas,
// block arguments): every bf16 becomes i16, the same bits. On x86 without
// AVX512-BF16 LLVM otherwise calls __truncsfbf2 for each element.
// CHECK-LABEL: llvm.func @moves
// CHECK-NOT: bf16
// CHECK: llvm.intr.masked.load %{{.*}} : (!llvm.ptr, vector<8xi1>, vector<8xi16>) -> vector<8xi16>
// CHECK: llvm.shufflevector %{{.*}} : vector<8xi16>
// CHECK: llvm.mlir.constant(dense<16256> : vector<8xi16>) : vector<8xi16>
// CHECK: llvm.mlir.constant(-16512 : i16) : i16
// CHECK: llvm.select %{{.*}} : vector<8xi1>, vector<8xi16>
// CHECK: llvm.alloca %{{.*}} x !llvm.array<2 x vector<8xi16>>
// CHECK: llvm.getelementptr %{{.*}} : (!llvm.ptr, i64) -> !llvm.ptr, i16
// CHECK: ^bb1(%{{.*}}: vector<8xi16>):
// CHECK: llvm.intr.masked.store %{{.*}} : vector<8xi16>, vector<8xi1> into !llvm.ptr
// CHECK: llvm.store %{{.*}} : i16, !llvm.ptr
// ASM-LABEL: moves:
// ASM-NOT: __truncsfbf2
// ASM: ret
llvm.func @moves(%p: !llvm.ptr, %q: !llvm.ptr, %mask: vector<8xi1>, %bits: vector<8xi16>, %c: vector<8xi1>) {
  %poison = llvm.mlir.poison : vector<8xbf16>
  %one = llvm.mlir.constant(1 : i64) : i64
  %v = llvm.intr.masked.load %p, %mask, %poison {alignment = 2 : i32} : (!llvm.ptr, vector<8xi1>, vector<8xbf16>) -> vector<8xbf16>
  %w = llvm.bitcast %bits : vector<8xi16> to vector<8xbf16>
  %s = llvm.shufflevector %v, %w [0, 8, 1, 9, 2, 10, 3, 11] : vector<8xbf16>
  %k = llvm.mlir.constant(dense<1.0> : vector<8xbf16>) : vector<8xbf16>
  %m = llvm.mlir.constant(-1.0 : bf16) : bf16
  %sel = llvm.select %c, %s, %k : vector<8xi1>, vector<8xbf16>
  %a = llvm.alloca %one x !llvm.array<2 x vector<8xbf16>> : (i64) -> !llvm.ptr
  %g = llvm.getelementptr %q[%one] : (!llvm.ptr, i64) -> !llvm.ptr, bf16
  llvm.br ^bb1(%sel : vector<8xbf16>)
^bb1(%x: vector<8xbf16>):
  llvm.intr.masked.store %x, %p, %mask {alignment = 2 : i32} : vector<8xbf16>, vector<8xi1> into !llvm.ptr
  llvm.store %m, %g : bf16, !llvm.ptr
  llvm.return
}

// A value of an identified struct with bf16 in it (whose type this pass
// cannot rewrite): the function is left as it is.
// CHECK-LABEL: llvm.func @identified
// CHECK: llvm.load %{{.*}} : !llvm.ptr -> !llvm.struct<"pair", (bf16, bf16)>
// CHECK: llvm.shufflevector %{{.*}} : vector<8xbf16>
// ASM-LABEL: identified:
llvm.func @identified(%p: !llvm.ptr, %q: !llvm.ptr) {
  %s = llvm.load %p : !llvm.ptr -> !llvm.struct<"pair", (bf16, bf16)>
  llvm.store %s, %q : !llvm.struct<"pair", (bf16, bf16)>, !llvm.ptr
  %v = llvm.load %p : !llvm.ptr -> vector<8xbf16>
  %r = llvm.shufflevector %v, %v [7, 6, 5, 4, 3, 2, 1, 0] : vector<8xbf16>
  llvm.store %r, %q : vector<8xbf16>, !llvm.ptr
  llvm.return
}

// Arithmetic on bf16, or bf16 in the signature: left as it is.
// CHECK-LABEL: llvm.func @arithmetic
// CHECK: llvm.fpext %{{.*}} : vector<8xbf16> to vector<8xf32>
// CHECK-LABEL: llvm.func @signature
// CHECK: llvm.shufflevector %{{.*}} : vector<8xbf16>
// ASM-LABEL: arithmetic:
// ASM-LABEL: signature:
llvm.func @arithmetic(%p: !llvm.ptr, %mask: vector<8xi1>) -> vector<8xf32> {
  %poison = llvm.mlir.poison : vector<8xbf16>
  %v = llvm.intr.masked.load %p, %mask, %poison {alignment = 2 : i32} : (!llvm.ptr, vector<8xi1>, vector<8xbf16>) -> vector<8xbf16>
  %e = llvm.fpext %v : vector<8xbf16> to vector<8xf32>
  llvm.return %e : vector<8xf32>
}
llvm.func @signature(%v: vector<8xbf16>, %p: !llvm.ptr) {
  %s = llvm.shufflevector %v, %v [7, 6, 5, 4, 3, 2, 1, 0] : vector<8xbf16>
  llvm.store %s, %p : vector<8xbf16>, !llvm.ptr
  llvm.return
}
