// Every allocation of a compiled step is checked (docs/Semantics.md §2.4):
// the driver makes each allocation of one call fail in turn. Those the step
// makes before it writes (moved to its entry) fail with nothing written;
// those it must make inside a parallel loop (here: bufferization copies the
// chunks of updates whose operands alias) skip the rest of their loop
// iteration and report the failure when the step returns, with the outputs
// partly written. Either way the call reports the site, frees what it
// allocated and does not crash, and the next call computes the same result.
// RUN: cage-compile %s -o %t.o
// RUN: %cc -std=c11 -O1 -Wall -Wextra -Werror %S/Inputs/allocation-failure-driver.c %t.o -Wl,--wrap=malloc,--wrap=free -o %t.exe %libomp -lm
// RUN: env OMP_NUM_THREADS=2 %t.exe | FileCheck %s
// Every allocation where it is needed (--no-hoist-allocations): each is
// checked in place, the failure branches free the buffers made before.
// RUN: cage-compile --no-hoist-allocations %s -o %t.inplace.o
// RUN: %cc -std=c11 -O1 -Wall -Wextra -Werror %S/Inputs/allocation-failure-driver.c %t.inplace.o -Wl,--wrap=malloc,--wrap=free -o %t.inplace.exe %libomp -lm
// RUN: env OMP_NUM_THREADS=2 %t.inplace.exe | FileCheck %s --check-prefix=INPLACE
// CHECK: good call: no error, [[N:[0-9]+]] allocations, 0 left allocated
// CHECK-NEXT: failed allocations reported: [[N]] of [[N]]
// CHECK-NEXT: calls that leaked: 0
// CHECK-NEXT: untouched: {{[1-9][0-9]*}}, partly written: {{[1-9][0-9]*}}
// CHECK-NEXT: good call after them: no error, same result
// INPLACE: good call: no error, [[N:[0-9]+]] allocations, 0 left allocated
// INPLACE-NEXT: failed allocations reported: [[N]] of [[N]]
// INPLACE-NEXT: calls that leaked: 0
// INPLACE: good call after them: no error, same result

// Two AdamW CAGE updates whose w, g, m and v are one buffer each:
// cage-fuse-multi-tensor makes them one cage.multi_update, whose parallel
// loop copies each chunk it reads, as it also writes it.
func.func @aliased(%a: memref<?x?xf32>, %b: memref<?x128xf32>, %lr: f32, %t: i64) attributes {llvm.emit_c_interface} {
  %at = bufferization.to_tensor %a restrict writable : memref<?x?xf32> to tensor<?x?xf32>
  %bt = bufferization.to_tensor %b restrict writable : memref<?x128xf32> to tensor<?x128xf32>
  %l = arith.constant 0.5 : f32
  %a1:3 = cage.update %at, %at, %at, %at, %lr, %l, %t {quantizer = #cage.quantizer<granularity = group, group_size = 64>, optimizer = #cage.adamw<>} : tensor<?x?xf32>
  %b1:3 = cage.update %bt, %bt, %bt, %bt, %lr, %l, %t {quantizer = #cage.quantizer<granularity = group, group_size = 64>, optimizer = #cage.adamw<>} : tensor<?x128xf32>
  bufferization.materialize_in_destination %a1#0 in restrict writable %a : (tensor<?x?xf32>, memref<?x?xf32>) -> ()
  bufferization.materialize_in_destination %b1#0 in restrict writable %b : (tensor<?x128xf32>, memref<?x128xf32>) -> ()
  return
}
