// A repeated call reuses its large buffers (cage-cpu-cache-buffers): the
// first call of a step mallocs its temporaries (here the packed operands and
// the padded product of a 192 x 192 matmul, 144 KiB and more), the next
// calls take them from the cache, with the same result, and malloc one
// large block each: the result, which the caller owns and frees with free()
// (so it never returns to the cache); cage_release_buffers() frees the
// cache.
// RUN: cage-compile %s -o %t.o
// RUN: %cc -std=c11 -O1 -Wall -Wextra -Werror %S/Inputs/buffer-cache-driver.c %t.o -Wl,--wrap=malloc,--wrap=free -o %t.exe %libomp -lm
// RUN: env OMP_NUM_THREADS=2 %t.exe | FileCheck %s
// CHECK: calls: no error, results the same
// CHECK-NEXT: large mallocs: first call some, later calls 1 and 1
// CHECK-NEXT: fewer mallocs after the first call: yes
// CHECK-NEXT: blocks live before release: some
// CHECK-NEXT: blocks live after release: 0

func.func @square(%x: tensor<192x192xf32>) -> tensor<192x192xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<192x192xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<192x192xf32>) -> tensor<192x192xf32>
  %y = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
      ins(%x, %x : tensor<192x192xf32>, tensor<192x192xf32>) outs(%init : tensor<192x192xf32>) -> tensor<192x192xf32>
  %z = math.exp %y : tensor<192x192xf32>
  return %z : tensor<192x192xf32>
}
