// A decoupled CAGE update that cage-verify, inside cage-cpu-pipeline,
// rejects: lr * lambda_t = 1.
func.func @unstable(%w: tensor<8x16xf32>, %g: tensor<8x16xf32>, %m: tensor<8x16xf32>, %v: tensor<8x16xf32>, %t: i64) -> tensor<8x16xf32> {
  %lr = arith.constant 0.1 : f32
  %l = arith.constant 10.0 : f32
  %w1, %m1, %v1 = cage.update %w, %g, %m, %v, %lr, %l, %t {quantizer = #cage.quantizer<bits = 4>, optimizer = #cage.adamw<>} : tensor<8x16xf32>
  return %w1 : tensor<8x16xf32>
}
