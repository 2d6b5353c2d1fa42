// A second module for runtime-checks.mlir: linked into the same program, it
// shares cage_last_error() with the first.
func.func @other(%x: memref<?xf32>, %T: i64) -> f32 attributes {llvm.emit_c_interface} {
  %t = arith.constant 1 : i64
  %l = cage.lambda_schedule %t, %T
  return %l : f32
}
