//===- CageAttrs.cpp - cage attribute verifiers and parameters ------------===//

#include "cage/Dialect/Cage/IR/CageDialect.h"

#include "llvm/Support/MathExtras.h"

#include "llvm/Support/Format.h"

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
  // must survive exactly that path.
  char text[32];
  for (int digits = 1; digits <= 9; ++digits) {
    snprintf(text, sizeof text, "%.*g", digits, static_cast<double>(f));
    if (static_cast<float>(strtod(text, nullptr)) == f)
      break;
  }
  // A float literal needs a '.' before any exponent: 1e-08 -> 1.0e-08.
  StringRef str(text);
  size_t mantissaEnd = str.find('e');
  StringRef mantissa = str.substr(0, mantissaEnd);
  os << mantissa;
  if (!mantissa.contains('.'))
    os << ".0";
  if (mantissaEnd != StringRef::npos)
    os << str.substr(mantissaEnd);
}

static bool isPositivePowerOf2(int64_t v) {
  return v > 0 && llvm::isPowerOf2_64(static_cast<uint64_t>(v));
}

/// The default of `group_size` and `block`, as declared in CageAttrs.td.
static constexpr int64_t kDefaultBlockOrGroup = 128;

LogicalResult QuantizerAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                    int64_t bits, Granularity granularity,
                                    int64_t groupSize, ScaleKind,
                                    Levels, Rotation rotation, int64_t block,
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
    return emitError() << "block = 1 makes the Hadamard rotation the identity";
  return success();
}

LogicalResult mlir::cage::verifyAdamWHyperParameters(
    function_ref<InFlightDiagnostic()> emitError, float beta1, float beta2,
    float eps, float weightDecay) {
  if (!(beta1 >= 0.0f && beta1 < 1.0f))
    return emitError() << "beta1 must be in [0, 1), got " << beta1;
  if (!(beta2 >= 0.0f && beta2 < 1.0f))
    return emitError() << "beta2 must be in [0, 1), got " << beta2;
  if (!(eps > 0.0f && std::isfinite(eps)))
    return emitError() << "eps must be positive and finite, got " << eps;
  if (!(weightDecay >= 0.0f && std::isfinite(weightDecay)))
    return emitError() << "weight_decay must be non-negative and finite, got "
                       << weightDecay;
  return success();
}

LogicalResult mlir::cage::verifySGDHyperParameters(
    function_ref<InFlightDiagnostic()> emitError, float momentum,
    float dampening, bool nesterov, float weightDecay) {
  if (!(momentum >= 0.0f && std::isfinite(momentum)))
    return emitError() << "momentum must be non-negative and finite, got "
                       << momentum;
  if (!(dampening >= 0.0f && dampening <= 1.0f))
    return emitError() << "dampening must be in [0, 1], got " << dampening;
  if (!(weightDecay >= 0.0f && std::isfinite(weightDecay)))
    return emitError() << "weight_decay must be non-negative and finite, got "
                       << weightDecay;
  if (nesterov && (momentum == 0.0f || dampening != 0.0f))
    return emitError()
           << "nesterov requires a positive momentum and zero dampening";
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
