// The two-layer MLP classifier of mlp_train_step.mlir, written as its
// forward pass and loss only: W4A4, h = relu(Q(x)·Q(W1)ᵀ),
// logits = Q(h)·Q(W2)ᵀ, loss = mean over the batch of −Σ y·log softmax.
//
// The weights are marked as parameters trained with CAGE-AdamW (no weight
// decay, the CAGE correction with the quantizer of the forward and the
// paper's λ schedule, the clipped straight-through estimator):
// cage-autodiff (run by cage-run, cage-compile and the Python package)
// adds @mlp_train_step with the same signature and results as the
// hand-written @train_step of mlp_train_step.mlir (x, y, then each weight
// followed by its AdamW moments, t, T, lr) and computes the same step to
// rounding; docs/Training.md explains the generated functions.
#rows = affine_map<(b, j, k) -> (b, k)>
#cols = affine_map<(b, j, k) -> (j, k)>
#out = affine_map<(b, j, k) -> (b, j)>
#id = affine_map<(b, c) -> (b, c)>
#row = affine_map<(b, c) -> (b)>
#all = affine_map<(b, c) -> ()>

!x = tensor<64x16xf32>
!y = tensor<64x4xf32>
!w1 = tensor<32x16xf32>
!w2 = tensor<4x32xf32>
!h = tensor<64x32xf32>

func.func @mlp(%x: !x, %y: !y,
               %w1: !w1 {cage.param = #cage.param<optimizer = #cage.adamw<weight_decay = 0.0>>},
               %w2: !w2 {cage.param = #cage.param<optimizer = #cage.adamw<weight_decay = 0.0>>}) -> f32 {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %batch = arith.constant 64.0 : f32

  %xq = cage.quantize %x {quantizer = #cage.quantizer<bits = 4>} : !x
  %w1q = cage.quantize %w1 {quantizer = #cage.quantizer<bits = 4>} : !w1
  %h0 = tensor.empty() : !h
  %hz = linalg.fill ins(%zero : f32) outs(%h0 : !h) -> !h
  %hpre = linalg.matmul indexing_maps = [#rows, #cols, #out]
            ins(%xq, %w1q : !x, !w1) outs(%hz : !h) -> !h
  %h = linalg.generic {indexing_maps = [#id, #id],
                       iterator_types = ["parallel", "parallel"]}
         ins(%hpre : !h) outs(%h0 : !h) {
  ^bb0(%a: f32, %o: f32):
    %r = arith.maximumf %a, %zero : f32
    linalg.yield %r : f32
  } -> !h
  %hq = cage.quantize %h {quantizer = #cage.quantizer<bits = 4>} : !h
  %w2q = cage.quantize %w2 {quantizer = #cage.quantizer<bits = 4>} : !w2
  %l0 = tensor.empty() : !y
  %lz = linalg.fill ins(%zero : f32) outs(%l0 : !y) -> !y
  %logits = linalg.matmul indexing_maps = [#rows, #cols, #out]
              ins(%hq, %w2q : !h, !w2) outs(%lz : !y) -> !y

  // Softmax cross-entropy, stable: log p = z − max z − log Σ exp(z − max z).
  %r0 = tensor.empty() : tensor<64xf32>
  %rmin = linalg.fill ins(%ninf : f32) outs(%r0 : tensor<64xf32>) -> tensor<64xf32>
  %rzero = linalg.fill ins(%zero : f32) outs(%r0 : tensor<64xf32>) -> tensor<64xf32>
  %zmax = linalg.generic {indexing_maps = [#id, #row],
                          iterator_types = ["parallel", "reduction"]}
            ins(%logits : !y) outs(%rmin : tensor<64xf32>) {
  ^bb0(%z: f32, %acc: f32):
    %m = arith.maximumf %acc, %z : f32
    linalg.yield %m : f32
  } -> tensor<64xf32>
  %e = linalg.generic {indexing_maps = [#id, #row, #id],
                       iterator_types = ["parallel", "parallel"]}
         ins(%logits, %zmax : !y, tensor<64xf32>) outs(%l0 : !y) {
  ^bb0(%z: f32, %m: f32, %o: f32):
    %d = arith.subf %z, %m : f32
    %ex = math.exp %d : f32
    linalg.yield %ex : f32
  } -> !y
  %esum = linalg.generic {indexing_maps = [#id, #row],
                          iterator_types = ["parallel", "reduction"]}
            ins(%e : !y) outs(%rzero : tensor<64xf32>) {
  ^bb0(%v: f32, %acc: f32):
    %s = arith.addf %acc, %v : f32
    linalg.yield %s : f32
  } -> tensor<64xf32>
  // loss = −(1/B) Σ_b Σ_c y·(z − max z − log Σ exp(z − max z))
  %s0 = tensor.empty() : tensor<f32>
  %sz = linalg.fill ins(%zero : f32) outs(%s0 : tensor<f32>) -> tensor<f32>
  %nll = linalg.generic {indexing_maps = [#id, #id, #row, #row, #all],
                         iterator_types = ["reduction", "reduction"]}
           ins(%y, %logits, %zmax, %esum : !y, !y, tensor<64xf32>, tensor<64xf32>)
           outs(%sz : tensor<f32>) {
  ^bb0(%yy: f32, %z: f32, %m: f32, %s: f32, %acc: f32):
    %d = arith.subf %z, %m : f32
    %ls = math.log %s : f32
    %logp = arith.subf %d, %ls : f32
    %term = arith.mulf %yy, %logp : f32
    %a = arith.subf %acc, %term : f32
    linalg.yield %a : f32
  } -> tensor<f32>
  %nllsum = tensor.extract %nll[] : tensor<f32>
  %loss = arith.divf %nllsum, %batch : f32

  return %loss : f32
}
