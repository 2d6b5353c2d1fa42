// Nothing here runs on the GPU: scalar code stays on the host.
func.func @f(%x: f32) -> f32 {
  return %x : f32
}
