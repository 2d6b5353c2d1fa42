// RUN: cage-opt %s --cage-lower-to-linalg --verify-diagnostics

// Every quantizer of DESIGN.md section 1 lowers; the loop maps of the
// lowering have room for tensors of rank up to 38 (a Hadamard stage adds two
// loops to the rank), and a higher rank is refused before anything is
// rewritten.
func.func @rank_39(%x: tensor<1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1xf32>) -> tensor<1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1xf32> {
  // expected-error @+1 {{cage-lower-to-linalg cannot lower a tensor of rank 39 (only 1 to 38)}}
  %q = cage.quantize %x {quantizer = #cage.quantizer<bits = 4>} : tensor<1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1xf32>
  return %q : tensor<1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1xf32>
}
