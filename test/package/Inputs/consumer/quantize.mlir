func.func @step(%w: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %q = cage.quantize %w {quantizer = #cage.quantizer<bits = 4>} : tensor<4x8xf32>
  return %q : tensor<4x8xf32>
}
