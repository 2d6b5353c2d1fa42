//===- CageOps.td - cage operations -------------------------*- tablegen -*-===//
//
// Quantize, straight-through estimate, correct and update.
//
//===----------------------------------------------------------------------===//

#ifndef CAGE_DIALECT_CAGE_IR_CAGEOPS_TD
#define CAGE_DIALECT_CAGE_IR_CAGEOPS_TD

include "cage/Dialect/Cage/IR/CageAttrs.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def Cage_F32Tensor : RankedTensorOf<[F32]>;
def Cage_StateTensor : RankedTensorOf<[F32, BF16]>;

def Cage_OptimizerAttr : AnyAttrOf<[Cage_AdamWAttr, Cage_SGDAttr]>;

//===----------------------------------------------------------------------===//
// cage.quantize
//===----------------------------------------------------------------------===//

def Cage_QuantizeOp : Cage_Op<"quantize",
    [Pure, AttrSizedOperandSegments, AllTypesMatch<["x", "result"]>]> {
  let summary = "Fake quantization: Q(x) on the quantizer's grid, in f32";
  let description = [{
    Returns Q(x) as defined by the `quantizer` attribute (see
    `#cage.quantizer`): the values of x snapped to the quantization grid of
    their group and returned in f32 ("fake" quantization).

    With `scale = operand` the clip value α comes from the `scale(...)`
    operand, one value per group: shape `[]` for `granularity = tensor`, the
    leading dimensions of x for `row` (`tensor<64xf32>` for a 64x128 input),
    the leading dimensions plus n / group_size for `group`
    (`tensor<64x2xf32>` for 64x256 with `group_size = 128`).

    With `rounding = stochastic` the `seed(...)` operand (i64) keys the
    Philox4x32-10 stream; the counter is the element's linear index, so the
    same seed gives the same result on every target.

    The innermost dimension must be divisible by `group_size` (with
    `granularity = group`) and by `block` (with `rotation = hadamard`) when
    it is static.

    Examples:
    ```mlir
    %q = cage.quantize %x {quantizer = #cage.quantizer<bits = 4, granularity = row>} : tensor<64x128xf32>
    %q = cage.quantize %x seed(%s) {quantizer = #cage.quantizer<bits = 4, rounding = stochastic>} : tensor<64x128xf32>
    %q = cage.quantize %x scale(%a) {quantizer = #cage.quantizer<bits = 4, scale = operand>} : tensor<64x128xf32>, tensor<64xf32>
    ```
  }];
  let arguments = (ins
    Cage_F32Tensor:$x,
    Optional<I64>:$seed,
    Optional<Cage_F32Tensor>:$scale,
    Cage_QuantizerAttr:$quantizer);
  let results = (outs Cage_F32Tensor:$result);
  let assemblyFormat = [{
    $x (`seed` `(` $seed^ `)`)? (`scale` `(` $scale^ `)`)?
    `` custom<CageAttrDict>(attr-dict) `:` custom<UncheckedType>(type($x))
    (`,` custom<UncheckedType>(type($scale))^)?
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// cage.ste
//===----------------------------------------------------------------------===//

def Cage_SteOp : Cage_Op<"ste", [Pure, AllTypesMatch<["dy", "x", "dx"]>]> {
  let summary = "Straight-through estimator: the gradient through Q";
  let description = [{
    Maps dy, the gradient with respect to Q(x), to dx, the gradient with
    respect to x:
    - `estimator = identity`: dx = dy.
    - `estimator = clipped`: dx = dy ⊙ mask, mask = 1 where x is not clipped
      by the quantizer. With `rotation = hadamard`:
      dx = ((dy·H) ⊙ mask(x·H))·H.

    `cage.ste` takes no seed: it judges clipping and rounding with round half
    to even whatever the quantizer's rounding mode, so the quantizer
    attribute of the forward `cage.quantize` can be shared as it is.

    With `scale = operand` it also returns dα, the LSQ gradient with respect
    to the clip value, one per group (the shape of the `scale` operand):
    dα = γ · Σ_group dy_i · ∂q_i/∂α, γ = 1 / sqrt(n_group · qmax),
    qmax = 2^(b−1) − 1 for both grids, and with z = x/s, r = rint(z):
    - `int`: ∂q/∂α = (r − z) / qmax where qmin ≤ r ≤ qmax; qmin / qmax where
      r < qmin; 1 where r > qmax.
    - `centered`, with h = (2^b − 1) / 2 and r = rint(x·h/α + ½):
      ∂q/∂α = (r − ½) / h − x / α where |x| ≤ α; sign(x) where |x| > α.
    With rotation, x and dy are taken in the rotated domain (x·H, dy·H).
    With a `scale(...)` operand, a static shape whose scale groups would be
    empty is rejected (γ = 1 / sqrt(0) would make dα = 0 · ∞ = NaN): x with
    a dimension of size 0 for `granularity = tensor`, x with an innermost
    dimension of size 0 for `granularity = row`. With `granularity = group`
    every group holds `group_size` elements.

    Examples:
    ```mlir
    %dx = cage.ste %dy, %x {quantizer = #cage.quantizer<bits = 4>, estimator = clipped} : tensor<64x128xf32>
    %dx, %da = cage.ste %dy, %x scale(%a) {quantizer = #cage.quantizer<bits = 4, scale = operand>, estimator = clipped} : tensor<64x128xf32>, tensor<64xf32>
    ```
  }];
  let arguments = (ins
    Cage_F32Tensor:$dy,
    Cage_F32Tensor:$x,
    Optional<Cage_F32Tensor>:$scale,
    Cage_QuantizerAttr:$quantizer,
    Cage_EstimatorAttr:$estimator);
  let results = (outs Cage_F32Tensor:$dx, Optional<Cage_F32Tensor>:$dscale);
  let assemblyFormat = [{
    $dy `,` $x (`scale` `(` $scale^ `)`)? `` custom<CageAttrDict>(attr-dict)
    `:` custom<UncheckedType>(type($x))
    `` custom<ScaleGradType>(type($scale), type($dscale))
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// cage.quant_error
//===----------------------------------------------------------------------===//

def Cage_QuantErrorOp : Cage_Op<"quant_error",
    [Pure, AllTypesMatch<["w", "error_value"]>]> {
  let summary = "The quantization error e = w − Q(w) that CAGE corrects";
  let description = [{
    Returns e = w − Q(w). With `error = zero_clipped`, e = 0 where w is
    clipped; with rotation, e = ((w·H − q(w·H)) ⊙ not_clipped(w·H))·H. The
    default is `error = keep`.

    The op has no seed: a quantizer with `rounding = stochastic` is rejected
    (the correction must be deterministic; give the correction its own
    quantizer with `rounding = nearest`). `scale = operand` is rejected for
    the same reason that the op has no scale operand.

    Examples:
    ```mlir
    %e = cage.quant_error %w {quantizer = #cage.quantizer<bits = 4>} : tensor<64x128xf32>
    %e = cage.quant_error %w {quantizer = #cage.quantizer<bits = 4>, error = zero_clipped} : tensor<64x128xf32>
    ```
  }];
  let arguments = (ins
    Cage_F32Tensor:$w,
    Cage_QuantizerAttr:$quantizer,
    DefaultValuedAttr<Cage_ErrorModeAttr, "::mlir::cage::ErrorMode::Keep">:$error);
  let results = (outs Cage_F32Tensor:$error_value);
  let assemblyFormat = [{
    $w `` custom<CageAttrDict>(attr-dict) `:` custom<UncheckedType>(type($w))
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// cage.lambda_schedule
//===----------------------------------------------------------------------===//

def Cage_LambdaScheduleOp : Cage_Op<"lambda_schedule", [Pure]> {
  let summary = "The CAGE strength λ_t at step t of T";
  let description = [{
    With r = min(f32(t) / f32(T), 1), computed in f32, and s = `silence`:
    - `kind = linear_ramp`: λ_t = 0 if r ≤ s, else (λ · (r − s)) / (1 − s).
    - `kind = constant`: λ_t = 0 if r ≤ s, else λ.

    Defaults are the CAGE paper's: λ = 10, s = 0.8, `linear_ramp`.
    Verified: λ ≥ 0 and finite, 0 ≤ s < 1.

    Example:
    ```mlir
    %l = cage.lambda_schedule %t, %T {lambda = 10.0 : f32, silence = 0.8 : f32, kind = linear_ramp}
    ```
  }];
  let arguments = (ins
    I64:$step,
    I64:$total,
    DefaultValuedAttr<F32Attr, "10.0f">:$lambda,
    DefaultValuedAttr<F32Attr, "0.8f">:$silence,
    DefaultValuedAttr<Cage_ScheduleKindAttr,
                      "::mlir::cage::ScheduleKind::LinearRamp">:$kind);
  let results = (outs F32:$result);
  let assemblyFormat = "$step `,` $total `` custom<CageAttrDict>(attr-dict)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// cage.adamw
//===----------------------------------------------------------------------===//

def Cage_AdamWOp : Cage_Op<"adamw", [Pure,
    AllTypesMatch<["w", "g", "m", "v", "new_w", "new_m", "new_v"]>]> {
  let summary = "One AdamW step, as torch.optim.AdamW computes it";
  let description = [{
    At step t (1-based, i64), with learning rate lr (f32):
    ```
    w  ← w · (1 − lr·wd)
    m  ← β1·m + (1 − β1)·g
    v  ← β2·v + (1 − β2)·g²
    m̂ = m / (1 − β1^t),  v̂ = v / (1 − β2^t)
    w  ← w − lr · m̂ / (sqrt(v̂) + ε)
    ```
    The bias corrections 1 − β^t are computed once per step: β^t in f64 by
    binary exponentiation over the bits of t, then 1 − β^t in f64, rounded
    once to f32 (the same on every target; docs/Semantics.md §1.3). Returns
    the new w, m, v.
    Defaults are the CAGE paper's: β = (0.9, 0.95), ε = 1e-8, wd = 0.1.
    Verified: 0 ≤ β1, β2 < 1, ε > 0, wd ≥ 0.

    Example:
    ```mlir
    %w1, %m1, %v1 = cage.adamw %w, %g, %m, %v, %lr, %t {beta1 = 0.9 : f32, beta2 = 0.95 : f32, eps = 1.0e-08 : f32, weight_decay = 0.1 : f32} : tensor<64x128xf32>
    ```
  }];
  let arguments = (ins
    Cage_F32Tensor:$w,
    Cage_F32Tensor:$g,
    Cage_F32Tensor:$m,
    Cage_F32Tensor:$v,
    F32:$lr,
    I64:$step,
    DefaultValuedAttr<F32Attr, "0.9f">:$beta1,
    DefaultValuedAttr<F32Attr, "0.95f">:$beta2,
    DefaultValuedAttr<F32Attr, "1.0e-8f">:$eps,
    DefaultValuedAttr<F32Attr, "0.1f">:$weight_decay);
  let results = (outs Cage_F32Tensor:$new_w, Cage_F32Tensor:$new_m,
                      Cage_F32Tensor:$new_v);
  let assemblyFormat = [{
    $w `,` $g `,` $m `,` $v `,` $lr `,` $step `` custom<CageAttrDict>(attr-dict)
    `:` custom<UncheckedType>(type($w))
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// cage.sgd
//===----------------------------------------------------------------------===//

def Cage_SGDOp : Cage_Op<"sgd", [Pure,
    AllTypesMatch<["w", "g", "b", "new_w", "new_b"]>]> {
  let summary = "One SGD-with-momentum step, as torch.optim.SGD computes it";
  let description = [{
    With learning rate lr (f32), momentum μ, dampening τ, weight decay wd:
    ```
    g  ← g + wd·w
    b  ← μ·b + (1 − τ)·g                  (only when μ ≠ 0)
    d  = nesterov ? g + μ·b : b           (d = g when μ = 0)
    w  ← w − lr·d
    ```
    Unlike torch, the buffer starts at zero and the first step also uses
    b ← μ·b + (1 − τ)·g (torch sets b = g; the two agree unless τ ≠ 0).
    With μ = 0 the buffer is returned unchanged. Defaults are torch's (all
    zero, no Nesterov). Verified: μ ≥ 0, 0 ≤ τ ≤ 1, wd ≥ 0; Nesterov needs
    μ > 0 and τ = 0.

    Example:
    ```mlir
    %w1, %b1 = cage.sgd %w, %g, %b, %lr {momentum = 0.9 : f32, dampening = 0.0 : f32, nesterov = false, weight_decay = 0.0 : f32} : tensor<64x128xf32>
    ```
  }];
  let arguments = (ins
    Cage_F32Tensor:$w,
    Cage_F32Tensor:$g,
    Cage_F32Tensor:$b,
    F32:$lr,
    DefaultValuedAttr<F32Attr, "0.0f">:$momentum,
    DefaultValuedAttr<F32Attr, "0.0f">:$dampening,
    DefaultValuedAttr<BoolAttr, "false">:$nesterov,
    DefaultValuedAttr<F32Attr, "0.0f">:$weight_decay);
  let results = (outs Cage_F32Tensor:$new_w, Cage_F32Tensor:$new_b);
  let assemblyFormat = [{
    $w `,` $g `,` $b `,` $lr `` custom<CageAttrDict>(attr-dict)
    `:` custom<UncheckedType>(type($w))
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// cage.update
//===----------------------------------------------------------------------===//

def Cage_UpdateOp : Cage_Op<"update", [Pure, AttrSizedOperandSegments]> {
  let summary = "The fused CAGE step: correction and optimizer in one op";
  let description = [{
    One optimizer step with the CAGE correction toward the quantization grid.
    With e = w − Q(w), taken from w before weight decay (`error =
    zero_clipped`: e = 0 where w is clipped; see `cage.quant_error`):
    - `coupling = coupled`: g ← g + λ_t · e, then the optimizer step.
    - `coupling = decoupled` (the default): the optimizer step with g, then
      w ← w − (lr · λ_t) · e. For AdamW this equals the gradient-space
      correction λ_t · diag(sqrt(v̂) + ε) · e passed through Adam's
      preconditioner: the curvature-aware form that needs no extra state.

    Operands: w, g, the optimizer state (m, v for `#cage.adamw`; the momentum
    buffer b for `#cage.sgd`), lr (f32), λ_t (f32) and, for AdamW only, the
    step t (i64). Results: the new w and the new state, in operand order.
    The correction is applied whatever λ_t is: the op computes bit for bit
    what its unfused spelling (`cage.quant_error`, the product with λ_t or
    lr·λ_t, the sum or difference, the optimizer op) computes. With λ_t = 0
    the result therefore equals the plain optimizer step except for the
    sign of zero results, and in scale groups that hold a non-finite w
    (docs/Semantics.md §1.3).

    Decoupled CAGE is stable only while 0 ≤ lr · λ_t < 1; `cage-verify`
    (which `cage-cpu-pipeline` runs first) reports updates where both are
    known constants and the product leaves [0, 1).

    A static innermost dimension of size 0 is rejected: the fused lowering
    walks w by rows and cannot slice an empty row, and such a parameter holds
    nothing to update. An outer dimension of size 0, or an innermost size
    that is 0 only at run time, gives empty results.

    The quantizer must use `rounding = nearest` and must not take its scale
    from an operand (the op has no scale operand, and its seed is the
    state's).

    Optimizer state in bf16: the state tensors (all of them) may be bf16
    tensors of the shape of w; the second type after the colon is then
    their type, and a `seed(%s)` operand (i64) is required. The state is
    loaded exactly into f32, the step computed in f32 as above, and the new
    state stored with stochastic rounding (docs/Semantics.md §1.5): with
    u32 the bits of an f32 x and lo = u32 & 0xFFFF, the magnitude rounds up
    ((u32 >> 16) + 1) iff r < lo, r being the low (m, b) or high (v) 16 bits
    of word i mod 4 of Philox4x32-10 with key = seed and counter =
    (⌊i/4⌋, 0, 0), i the element's row-major index (one call serves four
    elements); NaN stores as the quiet NaN of its sign.
    The rounding is unbiased; vary the seed from step to step (a fixed seed
    correlates the rounding across steps). 20 bytes per parameter instead
    of 28 with AdamW. lib/Reference/Reference.h defines it bit for bit.
    bf16 state is lowered only by the fused step, which does not take
    quantizers with a Hadamard rotation nor tensors of rank > 2 with more
    than one dynamic leading dimension: cage-lower-to-linalg refuses those
    with a diagnostic.

    Examples:
    ```mlir
    %w1, %m1, %v1 = cage.update %w, %g, %m, %v, %lr, %l, %t {quantizer = #cage.quantizer<bits = 4>, optimizer = #cage.adamw<beta1 = 0.9, beta2 = 0.95, eps = 1.0e-08, weight_decay = 0.1>, coupling = decoupled} : tensor<64x128xf32>
    %w1, %b1 = cage.update %w, %g, %b, %lr, %l {quantizer = #cage.quantizer<bits = 3>, optimizer = #cage.sgd<momentum = 0.9, dampening = 0.0, nesterov = true, weight_decay = 0.0>, coupling = coupled, error = zero_clipped} : tensor<64x128xf32>
    %w1, %m1, %v1 = cage.update %w, %g, %m, %v, %lr, %l, %t seed(%s) {quantizer = #cage.quantizer<bits = 4>, optimizer = #cage.adamw<>} : tensor<64x128xf32>, tensor<64x128xbf16>
    ```
  }];
  let arguments = (ins
    Cage_F32Tensor:$w,
    Cage_F32Tensor:$g,
    Variadic<Cage_StateTensor>:$state,
    F32:$lr,
    F32:$lambda,
    Optional<I64>:$step,
    Optional<I64>:$seed,
    Cage_QuantizerAttr:$quantizer,
    Cage_OptimizerAttr:$optimizer,
    DefaultValuedAttr<Cage_CouplingAttr,
                      "::mlir::cage::Coupling::Decoupled">:$coupling,
    DefaultValuedAttr<Cage_ErrorModeAttr, "::mlir::cage::ErrorMode::Keep">:$error);
  let results = (outs Cage_F32Tensor:$new_w, Variadic<Cage_StateTensor>:$new_state);
  let hasCustomAssemblyFormat = 1;
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// Number of state tensors the optimizer keeps (2 for AdamW, 1 for SGD).
    static unsigned getNumStateTensors(::mlir::Attribute optimizer);
    /// Whether the optimizer needs the step count t.
    static bool needsStep(::mlir::Attribute optimizer);
  }];
}

//===----------------------------------------------------------------------===//
// cage.multi_update
//===----------------------------------------------------------------------===//

def Cage_MultiUpdateOp : Cage_Op<"multi_update",
    [Pure, AttrSizedOperandSegments]> {
  let summary = "One optimizer step of N parameters that share its settings";
  let description = [{
    The optimizer step of N ≥ 1 parameters (tensors of any shapes) that share
    the optimizer, the quantizer, the coupling, the error mode and the
    scalars lr, λ_t and t, in one op, so that a lowering can update all of
    them in one parallel region (balanced by size) rather than one loop nest
    per tensor. `cage-fuse-multi-tensor` creates it from `cage.update`,
    `cage.adamw` and `cage.sgd` ops.

    Parameter k gets exactly the step of the op it replaces:
    - with a `quantizer`: the CAGE update of `cage.update` (correction
      toward the grid with λ_t, `coupling` and `error` as there), which needs
      the λ_t operand;
    - without one: the plain optimizer step of `cage.adamw` (for
      `#cage.adamw<...>`) or `cage.sgd` (for `#cage.sgd<...>`), with the
      optimizer attribute's hyper-parameters; there is no λ_t operand, and
      `coupling` and `error` must be left at their defaults.

    See `cage.update`, `cage.adamw` and `cage.sgd` for the math. Parameters
    are independent: the result for one never depends on another's tensors.

    Layout. With S state tensors per parameter (S = 2 for AdamW: m, v; S = 1
    for SGD: the momentum buffer b) and N parameters:
    - operands `[k·(2+S), (k+1)·(2+S))`, for k in [0, N): w_k, g_k, then the
      state of parameter k (m_k, v_k or b_k);
    - operand N·(2+S): lr (f32);
    - operand N·(2+S) + 1, present exactly when there is a quantizer: λ_t
      (f32);
    - the last operand, present exactly for AdamW: the step t (i64);
    - results `[k·(1+S), (k+1)·(1+S))`: the new w_k, then the new state of
      parameter k, in operand order (result k·(1+S) + j).

    `operandSegmentSizes` is `[N·(2+S), 1, 0 or 1, 0 or 1]` (tensors, lr,
    λ_t, t). Every tensor of parameter k, operands and results, has the type
    of w_k (a ranked f32 tensor, static or dynamic); the parameters' types
    may all differ.

    Syntax: one parenthesised group of tensors per parameter, then lr, λ_t
    (with a quantizer) and t (AdamW), the attribute dictionary, and one
    tensor type per parameter, the type of all its tensors and results:
    ```
    cage.multi_update (w, g, state...) [, (w, g, state...)]... , lr [, lambda] [, step]
                      {optimizer = ..., [quantizer = ..., coupling = ..., error = ...]}
                      : type [, type]...
    ```
    The parser checks each group against the optimizer (4 tensors for AdamW,
    3 for SGD) and the scalars against the quantizer and optimizer.

    The quantizer, when present, must use `rounding = nearest` and must not
    take its scale from an operand, and it must apply to every w (group
    size and Hadamard block divide the innermost dimension, rank ≥ 1), as on
    `cage.update`. As there, with or without a quantizer, a w with a static
    innermost dimension of size 0 is rejected.

    Examples:
    ```mlir
    %r:6 = cage.multi_update (%wa, %ga, %ma, %va), (%wb, %gb, %mb, %vb), %lr, %l, %t {quantizer = #cage.quantizer<bits = 4>, optimizer = #cage.adamw<>} : tensor<512x512xf32>, tensor<64x128xf32>
    %r:4 = cage.multi_update (%wa, %ga, %ba), (%wb, %gb, %bb), %lr, %l {quantizer = #cage.quantizer<bits = 4>, optimizer = #cage.sgd<momentum = 0.9>, coupling = coupled} : tensor<7x129xf32>, tensor<3xf32>
    %r:6 = cage.multi_update (%wa, %ga, %ma, %va), (%wb, %gb, %mb, %vb), %lr, %t {optimizer = #cage.adamw<>} : tensor<8xf32>, tensor<2x2xf32>
    ```
    In the first, `%r#0, %r#1, %r#2` are the new w, m, v of the 512x512
    parameter and `%r#3, %r#4, %r#5` those of the 64x128 one.
  }];
  let arguments = (ins
    Variadic<Cage_F32Tensor>:$tensors,
    F32:$lr,
    Optional<F32>:$lambda,
    Optional<I64>:$step,
    OptionalAttr<Cage_QuantizerAttr>:$quantizer,
    Cage_OptimizerAttr:$optimizer,
    DefaultValuedAttr<Cage_CouplingAttr,
                      "::mlir::cage::Coupling::Decoupled">:$coupling,
    DefaultValuedAttr<Cage_ErrorModeAttr, "::mlir::cage::ErrorMode::Keep">:$error);
  let results = (outs Variadic<Cage_F32Tensor>:$results);
  let hasCustomAssemblyFormat = 1;
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// Operand tensors per parameter: w, g and the state (2 + S).
    static unsigned getNumTensorsPerParam(::mlir::Attribute optimizer);
    /// Results per parameter: the new w and the new state (1 + S).
    static unsigned getNumResultsPerParam(::mlir::Attribute optimizer);
    /// The number of parameters N (of a verified op).
    unsigned getNumParams();
    /// The operand tensors of parameter k: w, g, state.
    ::mlir::OperandRange getParamTensors(unsigned k);
    ::mlir::Value getParamW(unsigned k) { return getParamTensors(k)[0]; }
    ::mlir::Value getParamG(unsigned k) { return getParamTensors(k)[1]; }
    ::mlir::OperandRange getParamState(unsigned k) {
      return getParamTensors(k).drop_front(2);
    }
    /// The results of parameter k: the new w, then the new state.
    ::mlir::ResultRange getParamResults(unsigned k);
    ::mlir::Value getParamNewW(unsigned k) { return getParamResults(k)[0]; }
    ::mlir::ResultRange getParamNewState(unsigned k) {
      return getParamResults(k).drop_front(1);
    }
  }];
}

//===----------------------------------------------------------------------===//
// cage.fogzo_direction
//===----------------------------------------------------------------------===//

def Cage_FogzoDirectionOp : Cage_Op<"fogzo_direction", [Pure]> {
  let summary = "FOGZO's probe direction v and step ε at an active step t of T";
  let description = [{
    The first half of a FOGZO step (docs/Semantics.md §1.6) for the set P
    of N ≥ 1 parameters, given each parameter's straight-through gradient
    g_k and weights w_k, in P's order (k is the parameter index p of the
    noise counter):
    - ‖g‖ = sqrt(Σ_k Σ_i f64(g_k,i)²) in f64, summed in parameter order
      then row-major index order; 1 where ‖g‖ < 1e-12; ĝ = g / f32(‖g‖).
    - r = min(f32(t) / f32(T), 1) and β_t = β_min + (1 − β_min)·(1 − r) in
      f32; σ = ±1 from Philox (key = seed, counter = (0, 0, 0xFFFFFFFF,
      t low 32)); u_k,i = (2·((o[0] >> 8)·2⁻²⁴) − 1)·√3 from Philox (key =
      seed, counter = (i low 32, i high 32, k, t low 32)), i the row-major
      index in g_k.
    - v_k = (sqrt(β_t)·σ)·ĝ_k + sqrt(1 − β_t)·u_k, per element in f32.
    - ε = `epsilon` of `fogzo` when it is > 0; else ε = f32(h / (2√3)) with
      h = Σ (elements of a group × the group's grid step) / (elements of
      the quantized parameters), in f64, over the scale groups of every
      parameter k whose entry of `quantizers` is a #cage.quantizer (its
      clip values found from w_k as `cage.quantize` finds them); `unit`
      entries (parameters without a grid) add nothing.

    The op does not test whether step t is active (r > `start`): the caller
    evaluates the loss at w_k ± ε·v_k and forms G_k = ((L+ − L−) / (2ε))·v_k
    only on active steps, and uses g_k on the others (cage-autodiff builds
    exactly that around this op).

    Syntax: one parenthesised pair (g, w) per parameter, then t and T (i64),
    the attributes, and one tensor type per parameter (that of its g, w and
    v). Results: v_k per parameter, then ε (f32).

    Verified: the types of each pair match; `quantizers` has one entry per
    parameter, each a #cage.quantizer with `rounding = nearest` and a scale
    of its own (not `operand`) that applies to w_k, or `unit`; when
    `epsilon` is 0, at least one entry is a quantizer.

    Example:
    ```mlir
    %v:2, %eps = cage.fogzo_direction (%g0, %w0), (%g1, %w1), %t, %T {fogzo = #cage.fogzo<seed = 7>, quantizers = [#cage.quantizer<bits = 4>, unit]} : tensor<64x128xf32>, tensor<64xf32>
    ```
  }];
  let arguments = (ins
    Variadic<Cage_F32Tensor>:$tensors,
    I64:$step,
    I64:$total,
    Cage_FogzoAttr:$fogzo,
    ArrayAttr:$quantizers);
  let results = (outs Variadic<Cage_F32Tensor>:$directions, F32:$epsilon);
  let hasCustomAssemblyFormat = 1;
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The number of parameters N (of a verified op).
    unsigned getNumParams() { return getTensors().size() / 2; }
    ::mlir::Value getParamG(unsigned k) { return getTensors()[2 * k]; }
    ::mlir::Value getParamW(unsigned k) { return getTensors()[2 * k + 1]; }
    /// Parameter k's quantizer, null for a `unit` entry.
    ::mlir::cage::QuantizerAttr getParamQuantizer(unsigned k) {
      return ::llvm::dyn_cast<::mlir::cage::QuantizerAttr>(getQuantizers()[k]);
    }
  }];
}

#endif // CAGE_DIALECT_CAGE_IR_CAGEOPS_TD
