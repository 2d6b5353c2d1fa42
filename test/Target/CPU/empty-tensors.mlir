// Empty tensors through cage-cpu-pipeline: every cage op compiles and runs on
// them and returns empty results, except what the verifiers reject
// (test/Dialect/Cage/invalid.mlir): a static innermost size of 0 in
// cage.update and cage.multi_update, empty scale groups in cage.ste. A
// dynamic innermost size that is 0 at run time is fine in cage.update.
// RUN: rm -rf %t && mkdir -p %t
// RUN: %python %S/Inputs/write_npy.py %t/r.npy '<f4' 8,0
// RUN: %python %S/Inputs/write_npy.py %t/c.npy '<f4' 0,8
// RUN: %python %S/Inputs/write_npy.py %t/v.npy '<f4' 0
// RUN: %python %S/Inputs/write_npy.py %t/s.npy '<f4' ''
// RUN: cage-run %s --entry quantize --in %t/r.npy --in %t/c.npy --out %t/q1.npy --out %t/q2.npy
// RUN: cage-run %s --entry ste --in %t/r.npy --in %t/c.npy --out %t/s1.npy --out %t/s2.npy --out %t/s3.npy
// RUN: cage-run %s --entry optimizers --in %t/r.npy --in %t/v.npy --in %t/s.npy --out %t/o1.npy --out %t/o2.npy --out %t/o3.npy
// RUN: cage-run %s --entry updates --in %t/c.npy --in %t/s.npy --in %t/s.npy --out %t/u1.npy --out %t/u2.npy
// RUN: cage-run %s --entry update_dynamic --in %t/r.npy --in %t/r.npy --in %t/r.npy --in %t/r.npy --in %t/s.npy --in %t/s.npy --out %t/d.npy --out %t/dm.npy --out %t/dv.npy
// RUN: FileCheck %s --check-prefix=ROWS --input-file %t/q1.npy
// RUN: FileCheck %s --check-prefix=COLS --input-file %t/q2.npy
// RUN: FileCheck %s --check-prefix=COLS --input-file %t/s1.npy
// RUN: FileCheck %s --check-prefix=ROWS --input-file %t/s2.npy
// RUN: FileCheck %s --check-prefix=ROWS --input-file %t/s3.npy
// RUN: FileCheck %s --check-prefix=ROWS --input-file %t/o1.npy
// RUN: FileCheck %s --check-prefix=VEC --input-file %t/o2.npy
// RUN: FileCheck %s --check-prefix=VEC --input-file %t/o3.npy
// RUN: FileCheck %s --check-prefix=COLS --input-file %t/u1.npy
// RUN: FileCheck %s --check-prefix=COLS --input-file %t/u2.npy
// RUN: FileCheck %s --check-prefix=ROWS --input-file %t/d.npy
// ROWS: 'shape': (8, 0)
// COLS: 'shape': (0, 8)
// VEC: 'shape': (0,)

func.func @quantize(%r: tensor<8x0xf32>, %c: tensor<0x8xf32>) -> (tensor<8x0xf32>, tensor<0x8xf32>) {
  %0 = cage.quantize %r {quantizer = #cage.quantizer<bits = 4, scale = rms_gaussian>} : tensor<8x0xf32>
  %1 = cage.quantize %c {quantizer = #cage.quantizer<bits = 4, granularity = group, group_size = 4, rotation = hadamard, block = 8>} : tensor<0x8xf32>
  return %0, %1 : tensor<8x0xf32>, tensor<0x8xf32>
}

func.func @ste(%r: tensor<8x0xf32>, %c: tensor<0x8xf32>) -> (tensor<0x8xf32>, tensor<8x0xf32>, tensor<8x0xf32>) {
  %0 = cage.ste %c, %c {quantizer = #cage.quantizer<bits = 4>, estimator = clipped} : tensor<0x8xf32>
  %1, %2 = cage.ste %r, %r scale(%r) {quantizer = #cage.quantizer<bits = 4, granularity = group, group_size = 4, scale = operand>, estimator = clipped} : tensor<8x0xf32>, tensor<8x0xf32>
  return %0, %1, %2 : tensor<0x8xf32>, tensor<8x0xf32>, tensor<8x0xf32>
}

func.func @optimizers(%r: tensor<8x0xf32>, %v: tensor<0xf32>, %lr: f32) -> (tensor<8x0xf32>, tensor<0xf32>, tensor<0xf32>) {
  %t = arith.constant 3 : i64
  %0:3 = cage.adamw %r, %r, %r, %r, %lr, %t : tensor<8x0xf32>
  %1:2 = cage.sgd %v, %v, %v, %lr {momentum = 0.9} : tensor<0xf32>
  %2 = cage.quant_error %v {quantizer = #cage.quantizer<bits = 4, granularity = tensor>, error = zero_clipped} : tensor<0xf32>
  return %0#0, %1#0, %2 : tensor<8x0xf32>, tensor<0xf32>, tensor<0xf32>
}

// No rows: a cage.update, and the AdamW and SGD steps that
// cage-fuse-multi-tensor turns into one cage.multi_update.
func.func @updates(%c: tensor<0x8xf32>, %lr: f32, %l: f32) -> (tensor<0x8xf32>, tensor<0x8xf32>) {
  %t = arith.constant 3 : i64
  %0:3 = cage.update %c, %c, %c, %c, %lr, %l, %t {quantizer = #cage.quantizer<bits = 4>, optimizer = #cage.adamw<>} : tensor<0x8xf32>
  %1:2 = cage.update %c, %c, %c, %lr, %l {quantizer = #cage.quantizer<bits = 4>, optimizer = #cage.sgd<>, coupling = coupled} : tensor<0x8xf32>
  return %0#0, %1#0 : tensor<0x8xf32>, tensor<0x8xf32>
}

func.func @update_dynamic(%w: tensor<?x?xf32>, %g: tensor<?x?xf32>, %m: tensor<?x?xf32>, %v: tensor<?x?xf32>, %lr: f32, %l: f32) -> (tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>) {
  %t = arith.constant 3 : i64
  %0:3 = cage.update %w, %g, %m, %v, %lr, %l, %t {quantizer = #cage.quantizer<bits = 4>, optimizer = #cage.adamw<>} : tensor<?x?xf32>
  return %0#0, %0#1, %0#2 : tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>
}
