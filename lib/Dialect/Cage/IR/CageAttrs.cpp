//===- CageAttrs.cpp - cage attribute verifiers and parameters ------------===//

#include "cage/Dialect/Cage/IR/CageDialect.h"

#include "mlir/AsmParser/AsmParser.h"

#include "llvm/Support/MathExtras.h"

#include "llvm/Support/Format.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

using namespace mlir;
using namespace mlir::cage;

FailureOr<llvm::APFloat> mlir::cage::parseF32Parameter(AsmParser &parser) {
  llvm::APFloat value(0.0f);
  if (parser.parseFloat(llvm::APFloat::IEEEsingle(), value))
    return failure();
  return value;
}

void mlir::cage::printF32(llvm::raw_ostream &os, const llvm::APFloat &value) {
  float f = value.convertToFloat();
  if (!std::isfinite(f)) {
    // The MLIR parser reads non-finite floats only as hexadecimal bit patterns.
    os << llvm::format_hex(value.bitcastToAPInt().getZExtValue(), 10);
    return;
  }
  // MLIR reads a float literal as an f64 and rounds it to f32, so the digits
  // must survive exactly that path: find the fewest significant digits that
  // do, in exponent form (whose exponent is that of the rounded value).
  char text[32];
  int digits = 1;
  for (; digits < 9; ++digits) {
    snprintf(text, sizeof text, "%.*e", digits - 1, static_cast<double>(f));
    if (static_cast<float>(strtod(text, nullptr)) == f)
      break;
  }
  snprintf(text, sizeof text, "%.*e", digits - 1, static_cast<double>(f));
  StringRef str(text);
  size_t expPos = str.find('e');
  int exponent = std::atoi(text + expPos + 1);
  // As Python writes floats: positional for 1e-4 <= |f| < 1e16 (`0.9`,
  // `10.0`, `0.0001`), else exponent form (`1.0e-08`).
  if (exponent >= -4 && exponent < 16) {
    snprintf(text, sizeof text, "%.*f", std::max(digits - 1 - exponent, 0),
             static_cast<double>(f));
    str = StringRef(text);
    expPos = StringRef::npos;
  }
  // A float literal needs a '.', and before any exponent: 1e-08 -> 1.0e-08.
  StringRef mantissa = str.substr(0, expPos);
  os << mantissa;
  if (!mantissa.contains('.'))
    os << ".0";
  if (expPos != StringRef::npos)
    os << str.substr(expPos);
}

std::string mlir::cage::f32Text(float f) {
  if (std::isnan(f))
    return "nan";
  if (std::isinf(f))
    return f < 0 ? "-inf" : "inf";
  std::string text;
  llvm::raw_string_ostream os(text);
  printF32(os, llvm::APFloat(f));
  return text;
}

static bool isPositivePowerOf2(int64_t v) {
  return v > 0 && llvm::isPowerOf2_64(static_cast<uint64_t>(v));
}

/// The default of `group_size` and `block`, as declared in CageAttrs.td.
static constexpr int64_t kDefaultBlockOrGroup = 128;

LogicalResult
QuantizerAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                      int64_t bits, Granularity granularity, int64_t groupSize,
                      ScaleKind, Levels, Rotation rotation, int64_t block,
                      Rounding) {
  if (bits < 2 || bits > 8)
    return emitError() << "bits must be in 2..8, got " << bits;
  if (!isPositivePowerOf2(groupSize))
    return emitError() << "group_size must be a power of two, got "
                       << groupSize;
  if (granularity != Granularity::Group && groupSize != kDefaultBlockOrGroup)
    return emitError() << "group_size = " << groupSize
                       << " has no effect without granularity = group";
  if (!isPositivePowerOf2(block))
    return emitError() << "block must be a power of two, got " << block;
  if (rotation != Rotation::Hadamard && block != kDefaultBlockOrGroup)
    return emitError() << "block = " << block
                       << " has no effect without rotation = hadamard";
  if (rotation == Rotation::Hadamard && block == 1)
    return emitError() << "block = 1 makes the Hadamard rotation the "
                          "identity: use a block of at least 2, or "
                          "rotation = none";
  return success();
}

LogicalResult mlir::cage::verifyAdamWHyperParameters(
    function_ref<InFlightDiagnostic()> emitError, float beta1, float beta2,
    float eps, float weightDecay) {
  if (!(beta1 >= 0.0f && beta1 < 1.0f))
    return emitError() << "beta1 must be in [0, 1), got " << f32Text(beta1);
  if (!(beta2 >= 0.0f && beta2 < 1.0f))
    return emitError() << "beta2 must be in [0, 1), got " << f32Text(beta2);
  if (!(eps > 0.0f && std::isfinite(eps)))
    return emitError() << "eps must be positive and finite, got "
                       << f32Text(eps);
  if (!(weightDecay >= 0.0f && std::isfinite(weightDecay)))
    return emitError() << "weight_decay must be non-negative and finite, got "
                       << f32Text(weightDecay);
  return success();
}

LogicalResult mlir::cage::verifySGDHyperParameters(
    function_ref<InFlightDiagnostic()> emitError, float momentum,
    float dampening, bool nesterov, float weightDecay) {
  if (!(momentum >= 0.0f && std::isfinite(momentum)))
    return emitError() << "momentum must be non-negative and finite, got "
                       << f32Text(momentum);
  if (!(dampening >= 0.0f && dampening <= 1.0f))
    return emitError() << "dampening must be in [0, 1], got "
                       << f32Text(dampening);
  if (!(weightDecay >= 0.0f && std::isfinite(weightDecay)))
    return emitError() << "weight_decay must be non-negative and finite, got "
                       << f32Text(weightDecay);
  if (nesterov && (momentum == 0.0f || dampening != 0.0f))
    return emitError()
           << "nesterov requires a positive momentum and zero dampening, got "
              "momentum = "
           << f32Text(momentum) << " and dampening = " << f32Text(dampening);
  return success();
}

LogicalResult AdamWAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                APFloat beta1, APFloat beta2, APFloat eps,
                                APFloat weightDecay) {
  return verifyAdamWHyperParameters(
      emitError, beta1.convertToFloat(), beta2.convertToFloat(),
      eps.convertToFloat(), weightDecay.convertToFloat());
}

LogicalResult SGDAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                              APFloat momentum, APFloat dampening,
                              bool nesterov, APFloat weightDecay) {
  return verifySGDHyperParameters(emitError, momentum.convertToFloat(),
                                  dampening.convertToFloat(), nesterov,
                                  weightDecay.convertToFloat());
}

LogicalResult mlir::cage::verifyScheduleParameters(
    function_ref<InFlightDiagnostic()> emitError, float lambda, float silence) {
  if (!(lambda >= 0.0f && std::isfinite(lambda)))
    return emitError() << "lambda must be non-negative and finite, got "
                       << f32Text(lambda);
  if (!(silence >= 0.0f && silence < 1.0f))
    return emitError() << "silence must be in [0, 1), got " << f32Text(silence);
  return success();
}

/// The defaults of #cage.param's correction parameters, as CageAttrs.td
/// declares them.
static constexpr float kDefaultLambda = 10.0f, kDefaultSilence = 0.8f;

LogicalResult ParamAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                Attribute optimizer, bool cage,
                                QuantizerAttr quantizer, Coupling coupling,
                                ErrorMode error, APFloat lambda,
                                APFloat silence, ScheduleKind schedule,
                                Estimator, FogzoAttr fogzo) {
  if (!isa_and_present<AdamWAttr, SGDAttr>(optimizer))
    return emitError() << "optimizer must be #cage.adamw<...> or "
                          "#cage.sgd<...>, got "
                       << optimizer;
  if (failed(verifyScheduleParameters(emitError, lambda.convertToFloat(),
                                      silence.convertToFloat())))
    return failure();
  if (quantizer && quantizer.getScale() == ScaleKind::Operand)
    return emitError() << "the correction's quantizer takes its clip value "
                          "from the weights: scale = operand is not allowed";
  if (quantizer && quantizer.getRounding() == Rounding::Stochastic)
    return emitError() << "the correction's quantizer must use rounding = "
                          "nearest (the correction has no seed)";
  // Without the correction, the quantizer still gives FOGZO its grid when
  // FOGZO derives ε from one.
  bool fogzoGrid = fogzo && fogzo.getEpsilon().isZero();
  if (!cage) {
    const char *unused = quantizer && !fogzoGrid           ? "quantizer"
                         : coupling != Coupling::Decoupled ? "coupling"
                         : error != ErrorMode::Keep        ? "error"
                         : lambda.convertToFloat() != kDefaultLambda ? "lambda"
                         : silence.convertToFloat() != kDefaultSilence
                             ? "silence"
                         : schedule != ScheduleKind::LinearRamp ? "schedule"
                                                                : nullptr;
    if (unused)
      return emitError() << unused
                         << " has no effect with cage = false (no correction)";
  }
  return success();
}

LogicalResult FogzoAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                APFloat betaMin, APFloat start, int64_t,
                                APFloat epsilon, FogzoDirection) {
  float b = betaMin.convertToFloat(), s = start.convertToFloat(),
        e = epsilon.convertToFloat();
  if (!(b >= 0.0f && b <= 1.0f))
    return emitError() << "beta_min must be in [0, 1], got " << f32Text(b);
  if (!(s >= 0.0f && s < 1.0f))
    return emitError() << "start must be in [0, 1), got " << f32Text(s);
  if (!(e >= 0.0f && std::isfinite(e)))
    return emitError() << "epsilon must be non-negative and finite (0: from "
                          "the grid), got "
                       << f32Text(e);
  return success();
}

Attribute mlir::cage::getDefaultOptimizer(MLIRContext *context) {
  // Parsed, so that the defaults stay those that CageAttrs.td declares.
  return parseAttribute("#cage.adamw<>", context);
}
