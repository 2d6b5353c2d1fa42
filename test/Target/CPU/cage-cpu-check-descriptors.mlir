// RUN: cage-opt %s --cage-cpu-check-descriptors | FileCheck %s
// The memref arguments that cage-cpu-runtime-checks recorded in
// cage.descriptor_checks are checked at the entry, on the descriptor fields
// (allocated, aligned, offset, sizes, strides): offset 0, the static sizes,
// row-major strides (a size of 1 takes any stride), or an empty array. A
// failure stores the argument's message in the error slot and returns
// poison. Scalars (unit) and memrefs of other layouts (sizes only) are
// skipped; the attribute is removed.

llvm.mlir.global internal constant @msg_x("x\00") {addr_space = 0 : i32}
llvm.mlir.global internal constant @msg_y("y\00") {addr_space = 0 : i32}
llvm.mlir.global weak_odr thread_local @__cage_last_error() {addr_space = 0 : i32} : !llvm.ptr {
  %0 = llvm.mlir.zero : !llvm.ptr
  llvm.return %0 : !llvm.ptr
}

// x: memref<?x64xf32>, s: f32, z: memref<?xf32, strided<[?]>>, y: memref<f32>
// CHECK-LABEL: llvm.func @step(
// CHECK-SAME:    %[[XA:[^:]+]]: !llvm.ptr, %[[XP:[^:]+]]: !llvm.ptr, %[[XOFF:[^:]+]]: i64, %[[XS0:[^:]+]]: i64, %[[XS1:[^:]+]]: i64, %[[XT0:[^:]+]]: i64, %[[XT1:[^:]+]]: i64,
// CHECK-SAME:    %{{[^:]+}}: f32,
// CHECK-SAME:    %{{[^:]+}}: !llvm.ptr, %{{[^:]+}}: !llvm.ptr, %[[ZOFF:[^:]+]]: i64, %{{[^:]+}}: i64, %{{[^:]+}}: i64,
// CHECK-SAME:    %{{[^:]+}}: !llvm.ptr, %{{[^:]+}}: !llvm.ptr, %[[YOFF:[^:]+]]: i64) -> f32
// CHECK-NOT:   cage.descriptor_checks
// CHECK:         %[[C0:.*]] = llvm.mlir.constant(0 : i64) : i64
// CHECK:         llvm.icmp "eq" %[[XOFF]], %[[C0]]
// CHECK:         %[[C64:.*]] = llvm.mlir.constant(64 : i64) : i64
// CHECK:         llvm.icmp "eq" %[[XS1]], %[[C64]]
// CHECK:         llvm.icmp "eq" %[[XT1]], %[[ONE:[^ ]+]]
// CHECK:         %[[ROW:.*]] = llvm.mul %{{.*}}, %[[XS1]]
// CHECK:         llvm.icmp "eq" %[[XT0]], %[[ROW]]
// CHECK:         %[[XMSG:.*]] = llvm.mlir.addressof @msg_x
// CHECK:         llvm.select %{{.*}}, %{{.*}}, %[[XMSG]]
// CHECK-NOT:     %[[ZOFF]]
// CHECK:         llvm.icmp "eq" %[[YOFF]], %{{.*}}
// CHECK:         %[[YMSG:.*]] = llvm.mlir.addressof @msg_y
// CHECK:         %[[MSG:.*]] = llvm.select %{{.*}}, %{{.*}}, %[[YMSG]]
// CHECK:         llvm.cond_br %{{.*}}, ^[[BODY:bb[0-9]+]], ^[[FAIL:bb[0-9]+]]
// CHECK:       ^[[BODY]]:
// CHECK-NEXT:    llvm.load %[[XP]]
// CHECK:       ^[[FAIL]]:
// CHECK-NEXT:    %[[SLOT:.*]] = llvm.mlir.addressof @__cage_last_error
// CHECK-NEXT:    llvm.store %[[MSG]], %[[SLOT]]
// CHECK-NEXT:    %[[POISON:.*]] = llvm.mlir.poison : f32
// CHECK-NEXT:    llvm.return %[[POISON]] : f32
llvm.func @step(%xa: !llvm.ptr, %xp: !llvm.ptr, %xo: i64, %xs0: i64, %xs1: i64, %xt0: i64, %xt1: i64,
                %s: f32,
                %za: !llvm.ptr, %zp: !llvm.ptr, %zo: i64, %zs0: i64, %zt0: i64,
                %ya: !llvm.ptr, %yp: !llvm.ptr, %yo: i64) -> f32
    attributes {cage.descriptor_checks = [[array<i64: -1, 64>, "msg_x"], unit, array<i64: -1>, [array<i64>, "msg_y"]]} {
  %v = llvm.load %xp : !llvm.ptr -> f32
  %r = llvm.fadd %v, %s : f32
  llvm.return %r : f32
}

// The C interface wrapper carries the attribute too, but its arguments are
// pointers to descriptors: not the recorded layout, so it is left alone
// (its callee checks).
// CHECK-LABEL: llvm.func @_mlir_ciface_step(
// CHECK-NOT:   cage.descriptor_checks
// CHECK-NEXT:    llvm.return
llvm.func @_mlir_ciface_step(%x: !llvm.ptr, %s: f32, %z: !llvm.ptr, %y: !llvm.ptr) -> f32
    attributes {cage.descriptor_checks = [[array<i64: -1, 64>, "msg_x"], unit, array<i64: -1>, [array<i64>, "msg_y"]]} {
  llvm.return %s : f32
}
