//===- CageAttrs.td - cage enums and attributes -------------*- tablegen -*-===//
//
// The quantizer and optimizer attributes, and the enums they and the ops use.
//
//===----------------------------------------------------------------------===//

#ifndef CAGE_DIALECT_CAGE_IR_CAGEATTRS_TD
#define CAGE_DIALECT_CAGE_IR_CAGEATTRS_TD

include "cage/Dialect/Cage/IR/CageDialect.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

//===----------------------------------------------------------------------===//
// Enums
//===----------------------------------------------------------------------===//

class Cage_I32Enum<string name, string summary, list<I32EnumAttrCase> cases>
    : I32EnumAttr<name, summary, cases> {
  let cppNamespace = "::mlir::cage";
  let genSpecializedAttr = 0;
}

def Cage_Granularity : Cage_I32Enum<"Granularity",
    "how many values share one clip value", [
  I32EnumAttrCase<"Tensor", 0, "tensor">,
  I32EnumAttrCase<"Row", 1, "row">,
  I32EnumAttrCase<"Group", 2, "group">]>;

def Cage_ScaleKind : Cage_I32Enum<"ScaleKind",
    "how the clip value of a group is found", [
  I32EnumAttrCase<"Absmax", 0, "absmax">,
  I32EnumAttrCase<"RmsGaussian", 1, "rms_gaussian">,
  I32EnumAttrCase<"Operand", 2, "operand">]>;

def Cage_Levels : Cage_I32Enum<"Levels", "the quantization grid", [
  I32EnumAttrCase<"Int", 0, "int">,
  I32EnumAttrCase<"Centered", 1, "centered">]>;

def Cage_Rotation : Cage_I32Enum<"Rotation",
    "rotation applied before quantizing", [
  I32EnumAttrCase<"None", 0, "none">,
  I32EnumAttrCase<"Hadamard", 1, "hadamard">]>;

def Cage_Rounding : Cage_I32Enum<"Rounding", "rounding mode", [
  I32EnumAttrCase<"Nearest", 0, "nearest">,
  I32EnumAttrCase<"Stochastic", 1, "stochastic">]>;

def Cage_Estimator : Cage_I32Enum<"Estimator",
    "straight-through estimator", [
  I32EnumAttrCase<"Identity", 0, "identity">,
  I32EnumAttrCase<"Clipped", 1, "clipped">]>;

def Cage_ErrorMode : Cage_I32Enum<"ErrorMode",
    "which quantization error the correction uses", [
  I32EnumAttrCase<"Keep", 0, "keep">,
  I32EnumAttrCase<"ZeroClipped", 1, "zero_clipped">]>;

def Cage_Coupling : Cage_I32Enum<"Coupling",
    "where the CAGE correction enters the optimizer step", [
  I32EnumAttrCase<"Coupled", 0, "coupled">,
  I32EnumAttrCase<"Decoupled", 1, "decoupled">]>;

def Cage_FogzoDirection : Cage_I32Enum<"FogzoDirection",
    "the scale of the straight-through part of FOGZO's direction", [
  I32EnumAttrCase<"UnitNorm", 0, "unit_norm">,
  I32EnumAttrCase<"UnitRms", 1, "unit_rms">]>;

def Cage_ScheduleKind : Cage_I32Enum<"ScheduleKind",
    "shape of the λ schedule", [
  I32EnumAttrCase<"LinearRamp", 0, "linear_ramp">,
  I32EnumAttrCase<"Constant", 1, "constant">]>;

//===----------------------------------------------------------------------===//
// Enum attributes used by ops (printed as bare keywords inside op
// dictionaries, as `#cage.<name><value>` in the generic form)
//===----------------------------------------------------------------------===//

class Cage_EnumAttr<EnumAttrInfo info, string name>
    : EnumAttr<Cage_Dialect, info, name> {
  let assemblyFormat = "`<` $value `>`";
}

def Cage_EstimatorAttr : Cage_EnumAttr<Cage_Estimator, "estimator">;
def Cage_ErrorModeAttr : Cage_EnumAttr<Cage_ErrorMode, "error">;
def Cage_CouplingAttr : Cage_EnumAttr<Cage_Coupling, "coupling">;
def Cage_ScheduleKindAttr : Cage_EnumAttr<Cage_ScheduleKind, "schedule_kind">;

//===----------------------------------------------------------------------===//
// Attribute parameters
//===----------------------------------------------------------------------===//

class Cage_EnumParameter<EnumAttrInfo info, string default>
    : EnumParameter<info> {
  let defaultValue = info.cppNamespace # "::" # info.className # "::" # default;
}

// An f32 hyper-parameter, written as a plain number (`beta1 = 0.9`).
class Cage_F32Parameter<string default, string desc>
    : APFloatParameter<desc> {
  let defaultValue = "::llvm::APFloat(" # default # "f)";
  let parser = "::mlir::cage::parseF32Parameter($_parser)";
  let printer = "::mlir::cage::printF32($_printer.getStream(), $_self)";
}

//===----------------------------------------------------------------------===//
// #cage.quantizer
//===----------------------------------------------------------------------===//

def Cage_QuantizerAttr : AttrDef<Cage_Dialect, "Quantizer"> {
  let mnemonic = "quantizer";
  let summary = "A fake quantizer Q: grid, clip value, rotation and rounding";
  let description = [{
    Describes the fake quantizer Q(x) = q(x) (or q(x·H)·H with a rotation),
    shared by `cage.quantize`, `cage.ste`, `cage.quant_error` and
    `cage.update`.

    | parameter | values | default | meaning |
    |---|---|---|---|
    | `bits` | 2..8 | 4 | bit width b |
    | `granularity` | `tensor`, `row`, `group` | `row` | one clip value per tensor, per row (all leading indices fixed, the innermost dimension varies), or per `group_size` consecutive elements of a row |
    | `group_size` | power of two | 128 | only with `granularity = group`; must divide the innermost dimension |
    | `scale` | `absmax`, `rms_gaussian`, `operand` | `absmax` | how the clip value α of a group is found; `operand` takes α from an SSA operand (learned scales, LSQ) |
    | `levels` | `int`, `centered` | `int` | the grid |
    | `rotation` | `none`, `hadamard` | `none` | rotate blocks of `block` elements of the innermost dimension by a normalized Hadamard matrix before quantizing, rotate back after |
    | `block` | power of two ≥ 2 | 128 | only with `rotation = hadamard`; must divide the innermost dimension |
    | `rounding` | `nearest`, `stochastic` | `nearest` | round half to even, or stochastic rounding driven by a seed |

    Clip value α of a group of values x (after rotation, if any):
    - `absmax`: α = max(max |x|, 1e-8)
    - `rms_gaussian`: α = c_b · sqrt(mean(x²)) + 1e-8, with c_b for
      b = 2..8 = 1.49353, 2.05107, 2.51393, 2.91609, 3.27660, 3.60105,
      3.88494 (the outermost level of the MSE-optimal uniform quantizer of a
      standard Gaussian). mean(x²) sums the f64 squares in f64 in index
      order, divides by the count in f64 and rounds once to f32.
    - `operand`: α is given, one value per group.

    Grids, with rnd the rounding mode:
    - `int`: qmin = −2^(b−1), qmax = 2^(b−1) − 1, s = α / qmax (an f32
      division), q(x) = clamp(rnd(x / s), qmin, qmax) · s, with x / s an f32
      division. x is clipped when rint(x/s) (round half to even, whatever the
      rounding mode) lies outside [qmin, qmax].
    - `centered` (mid-rise, no zero level, 2^b levels): step = 2α / (2^b − 1),
      q(x) = (clamp(rnd(clamp(x, −α, α) / step + ½), 1 − 2^(b−1), 2^(b−1))
      − ½) · step (the level clamp matters only for stochastic rounding).
      x is clipped when |x| > α.

    Rotation: H_B is the Sylvester Hadamard matrix scaled to be orthonormal,
    H[i][j] = (−1)^popcount(i & j) / sqrt(B); it is its own inverse. With
    rotation, Q(x) = q(x·H)·H blockwise along the innermost dimension;
    clipping is judged on x·H and the scale group is taken over the rotated
    values. `group_size` and `block` are independent: any pair that both
    divide the innermost dimension is valid.

    Stochastic rounding: rnd(y) = floor(y) + (u < y − floor(y) ? 1 : 0) with
    u = (out[0] >> 8) · 2^−24 from Philox4x32-10, key = (seed low 32 bits,
    seed high 32 bits), counter = (i low 32 bits, i high 32 bits, 0, 0) where
    i is the element's linear index in the tensor.

    The verifier rejects: `bits` outside 2..8; `group_size` or `block` not a
    power of two; `block = 1` (the Hadamard rotation of one element is the
    identity, so asking for it is a mistake); a non-default `group_size`
    without `granularity = group` and a non-default `block` without
    `rotation = hadamard` (the parameter would have no effect, which is
    almost always a typo for the other granularity or rotation).

    Example:
    ```mlir
    #cage.quantizer<bits = 4, granularity = group, group_size = 64, rotation = hadamard>
    ```
  }];
  let parameters = (ins
    DefaultValuedParameter<"int64_t", "4", "bit width, 2..8">:$bits,
    Cage_EnumParameter<Cage_Granularity, "Row">:$granularity,
    DefaultValuedParameter<"int64_t", "128",
      "elements per scale group (granularity = group)">:$group_size,
    Cage_EnumParameter<Cage_ScaleKind, "Absmax">:$scale,
    Cage_EnumParameter<Cage_Levels, "Int">:$levels,
    Cage_EnumParameter<Cage_Rotation, "None">:$rotation,
    DefaultValuedParameter<"int64_t", "128",
      "elements per Hadamard block (rotation = hadamard)">:$block,
    Cage_EnumParameter<Cage_Rounding, "Nearest">:$rounding);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// qmax = 2^(bits-1) - 1.
    int64_t getQmax() const { return (int64_t(1) << (getBits() - 1)) - 1; }
  }];
}

//===----------------------------------------------------------------------===//
// Optimizer attributes
//===----------------------------------------------------------------------===//

def Cage_AdamWAttr : AttrDef<Cage_Dialect, "AdamW"> {
  let mnemonic = "adamw";
  let summary = "AdamW hyper-parameters for `cage.update`";
  let description = [{
    The hyper-parameters of AdamW as torch.optim.AdamW defines them, at the
    CAGE paper's defaults: β1 = 0.9, β2 = 0.95, ε = 1e-8, weight decay 0.1.
    The learning rate is an operand of the update, not a parameter, so that a
    schedule can drive it.

    At step t (1-based):
    ```
    w  ← w · (1 − lr·wd)
    m  ← β1·m + (1 − β1)·g
    v  ← β2·v + (1 − β2)·g²
    m̂ = m / (1 − β1^t),  v̂ = v / (1 − β2^t)
    w  ← w − lr · m̂ / (sqrt(v̂) + ε)
    ```
    Bias corrections 1 − β^t: β^t in f64 by binary exponentiation, rounded
    once to f32 after the subtraction (docs/Semantics.md §1.3).

    Verified: 0 ≤ β1 < 1, 0 ≤ β2 < 1, ε > 0, weight decay ≥ 0, all finite.

    Example: `#cage.adamw<beta1 = 0.9, beta2 = 0.999, weight_decay = 0.01>`
  }];
  let parameters = (ins
    Cage_F32Parameter<"0.9", "β1, decay of the first moment">:$beta1,
    Cage_F32Parameter<"0.95", "β2, decay of the second moment">:$beta2,
    Cage_F32Parameter<"1.0e-8", "ε, added to sqrt(v̂)">:$eps,
    Cage_F32Parameter<"0.1", "decoupled weight decay">:$weight_decay);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

def Cage_SGDAttr : AttrDef<Cage_Dialect, "SGD"> {
  let mnemonic = "sgd";
  let summary = "SGD-with-momentum hyper-parameters for `cage.update`";
  let description = [{
    The hyper-parameters of SGD with momentum as torch.optim.SGD defines them
    (defaults as in torch: no momentum, no dampening, no Nesterov, no weight
    decay), except that the momentum buffer b starts at zero and every step,
    the first included, computes b ← μ·b + (1 − dampening)·g:
    ```
    g  ← g + wd·w
    b  ← μ·b + (1 − dampening)·g          (only when μ ≠ 0)
    d  = nesterov ? g + μ·b : b           (d = g when μ = 0)
    w  ← w − lr·d
    ```
    With momentum 0 the buffer is returned unchanged.

    Verified: momentum ≥ 0, 0 ≤ dampening ≤ 1, weight decay ≥ 0, all finite;
    Nesterov needs momentum > 0 and dampening = 0 (as in torch).

    Example: `#cage.sgd<momentum = 0.9, nesterov = true>`
  }];
  let parameters = (ins
    Cage_F32Parameter<"0.0", "momentum μ">:$momentum,
    Cage_F32Parameter<"0.0", "dampening of the momentum buffer">:$dampening,
    DefaultValuedParameter<"bool", "false", "Nesterov momentum">:$nesterov,
    Cage_F32Parameter<"0.0", "L2 weight decay added to the gradient">:$weight_decay);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

//===----------------------------------------------------------------------===//
// #cage.fogzo
//===----------------------------------------------------------------------===//

def Cage_FogzoAttr : AttrDef<Cage_Dialect, "Fogzo"> {
  let mnemonic = "fogzo";
  let summary = "The settings of FOGZO, the first-order-guided zeroth-order estimator";
  let description = [{
    FOGZO (docs/Semantics.md §1.6) replaces the straight-through gradient g
    of the parameters that select it by a finite difference of the loss
    along v = sqrt(β_t)·σ·g/‖g‖ + sqrt(1 − β_t)·u, u Philox noise of unit
    variance: G = ((L(w + ε·v) − L(w − ε·v)) / (2ε))·v.

    | parameter | values | default | meaning |
    |---|---|---|---|
    | `beta_min` | f32 in [0, 1] | 0.999 | β_t decays linearly from 1 to β_min over training |
    | `start` | f32 in [0, 1) | 0.0 | FOGZO is active only where r = min(t/T, 1) > start; before, the STE gradient is used |
    | `seed` | i64 | 0 | the key of the Philox draws of σ and u |
    | `epsilon` | f32 ≥ 0 | 0.0 | 0: ε = ε̄·h from the quantization grid (h the mean step of the parameters' grids, ε̄ = 1/(2√3)); > 0: this ε (needed when no FOGZO parameter is quantized) |
    | `direction` | `unit_norm`, `unit_rms` | `unit_norm` | ĝ = g/‖g‖ (unit norm, as §1.6 states it), or ĝ = g/RMS(g) = g·√n/‖g‖ (unit RMS per element, the scale of the noise u; n the elements of P) |

    Verified: the ranges above, all finite.

    Example: `#cage.fogzo<beta_min = 0.99, start = 0.5, seed = 7>`
  }];
  let parameters = (ins
    Cage_F32Parameter<"0.999", "β_min, the last β_t of the schedule">:$beta_min,
    Cage_F32Parameter<"0.0", "fraction of training before FOGZO starts">:$start,
    DefaultValuedParameter<"int64_t", "0", "Philox key of σ and u">:$seed,
    Cage_F32Parameter<"0.0", "ε; 0 derives it from the grid">:$epsilon,
    Cage_EnumParameter<Cage_FogzoDirection, "UnitNorm">:$direction);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

//===----------------------------------------------------------------------===//
// #cage.param
//===----------------------------------------------------------------------===//

def Cage_ParamAttr : AttrDef<Cage_Dialect, "Param"> {
  let mnemonic = "param";
  let summary = "Marks a function argument as a trained parameter and says how it is trained";
  let description = [{
    The argument attribute `cage.param` of a forward function marks the
    argument as a parameter that `cage-autodiff` differentiates and updates;
    unmarked arguments are data. Its value says how the parameter is trained:

    | parameter | values | default | meaning |
    |---|---|---|---|
    | `optimizer` | `#cage.adamw<...>`, `#cage.sgd<...>` | `#cage.adamw<>` | the optimizer and its hyper-parameters (AdamW at the CAGE paper's defaults) |
    | `cage` | `true`, `false` | `true` | add the CAGE correction λ_t·(w − Q(w)) to the update; `false`: the plain optimizer step |
    | `quantizer` | `#cage.quantizer<...>` | the forward's | the Q of the correction; by default that of the one `cage.quantize` that reads the parameter in the forward |
    | `coupling` | `coupled`, `decoupled` | `decoupled` | where the correction enters the step |
    | `error` | `keep`, `zero_clipped` | `keep` | which quantization error the correction uses |
    | `lambda` | f32 ≥ 0 | 10.0 | λ of the schedule λ_t |
    | `silence` | f32 in [0, 1) | 0.8 | the fraction s of training before λ_t becomes non-zero |
    | `schedule` | `linear_ramp`, `constant` | `linear_ramp` | the shape of λ_t |
    | `estimator` | `identity`, `clipped` | `clipped` | the straight-through estimator of the parameter's quantizers in the backward pass |
    | `fogzo` | `#cage.fogzo<...>` | none | train the parameter with FOGZO: its gradient is the finite-difference estimate of docs/Semantics.md §1.6 along a direction guided by the straight-through gradient (which `estimator` still defines); every FOGZO parameter of a function must give the same `#cage.fogzo` |

    FOGZO and the CAGE correction compose: the correction (with `cage =
    true`) is applied to the FOGZO gradient. FOGZO's ε comes from the grid
    of the parameter's quantizer (`quantizer`, else the forward's), whatever
    `cage` says.

    A parameter that the forward does not quantize has no correction (there
    is no grid to pull it toward) unless `quantizer` names one; it is
    trained by the plain optimizer. The correction's quantizer takes its clip
    value from the weights: `scale = operand` is rejected there.

    The verifier rejects an `optimizer` that is not `#cage.adamw` or
    `#cage.sgd`, a `lambda` or `silence` out of range, and, with
    `cage = false`, any non-default correction parameter (it would have no
    effect).

    Example:
    ```mlir
    func.func @loss(%x: tensor<64x16xf32>,
                    %w: tensor<32x16xf32> {cage.param = #cage.param<optimizer = #cage.adamw<weight_decay = 0.0>>},
                    %b: tensor<32xf32> {cage.param = #cage.param<cage = false, optimizer = #cage.adamw<weight_decay = 0.0>>}) -> f32
    ```
  }];
  let parameters = (ins
    DefaultValuedParameter<"::mlir::Attribute",
      "::mlir::cage::getDefaultOptimizer($_ctxt)",
      "#cage.adamw<...> or #cage.sgd<...>">:$optimizer,
    DefaultValuedParameter<"bool", "true", "add the CAGE correction">:$cage,
    OptionalParameter<"::mlir::cage::QuantizerAttr",
      "the correction's quantizer (null: the forward's)">:$quantizer,
    Cage_EnumParameter<Cage_Coupling, "Decoupled">:$coupling,
    Cage_EnumParameter<Cage_ErrorMode, "Keep">:$error,
    Cage_F32Parameter<"10.0", "λ of the schedule">:$lambda,
    Cage_F32Parameter<"0.8", "silent fraction of training">:$silence,
    Cage_EnumParameter<Cage_ScheduleKind, "LinearRamp">:$schedule,
    Cage_EnumParameter<Cage_Estimator, "Clipped">:$estimator,
    OptionalParameter<"::mlir::cage::FogzoAttr",
      "FOGZO's settings (null: the straight-through gradient)">:$fogzo);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

#endif // CAGE_DIALECT_CAGE_IR_CAGEATTRS_TD
