//===- CageOps.cpp - cage op verifiers and the cage.update format ---------===//

#include "cage/Dialect/Cage/IR/CageDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/TypeUtilities.h"

#include <cmath>

using namespace mlir;
using namespace mlir::cage;

//===----------------------------------------------------------------------===//
// Quantizer checks shared by every op that quantizes
//===----------------------------------------------------------------------===//

/// The shape of the `scale(...)` operand: one clip value per group.
static RankedTensorType expectedScaleType(QuantizerAttr q,
                                          RankedTensorType xType) {
  ArrayRef<int64_t> shape = xType.getShape();
  SmallVector<int64_t> scaleShape;
  switch (q.getGranularity()) {
  case Granularity::Tensor:
    break;
  case Granularity::Row:
    scaleShape.assign(shape.begin(), shape.end() - 1);
    break;
  case Granularity::Group: {
    scaleShape.assign(shape.begin(), shape.end() - 1);
    int64_t n = shape.back();
    scaleShape.push_back(ShapedType::isDynamic(n) ? ShapedType::kDynamic
                                                  : n / q.getGroupSize());
    break;
  }
  }
  return RankedTensorType::get(scaleShape, xType.getElementType());
}

/// Checks that `quantizer` applies to a tensor of type `xType`, and that the
/// `scale(...)` operand is there exactly when the quantizer takes its clip
/// value from an operand, with one value per group.
static LogicalResult verifyQuantizerOn(Operation *op, QuantizerAttr q,
                                       RankedTensorType xType, Value scale,
                                       StringRef what) {
  if (xType.getRank() == 0)
    return op->emitOpError() << "expects " << what
                             << " of rank at least 1, got " << xType;
  int64_t n = xType.getShape().back();
  if (!ShapedType::isDynamic(n)) {
    if (q.getGranularity() == Granularity::Group && n % q.getGroupSize() != 0)
      return op->emitOpError()
             << "innermost dimension of " << what << " (" << n
             << ") is not divisible by group_size (" << q.getGroupSize()
             << ")";
    if (q.getRotation() == Rotation::Hadamard && n % q.getBlock() != 0)
      return op->emitOpError()
             << "innermost dimension of " << what << " (" << n
             << ") is not divisible by the Hadamard block (" << q.getBlock()
             << ")";
  }

  bool wantsScale = q.getScale() == ScaleKind::Operand;
  if (wantsScale && !scale)
    return op->emitOpError()
           << "quantizer has scale = operand but no scale(...) operand is given";
  if (!wantsScale && scale)
    return op->emitOpError() << "has a scale(...) operand but the quantizer "
                                "does not have scale = operand";
  if (scale) {
    RankedTensorType expected = expectedScaleType(q, xType);
    auto actual = cast<RankedTensorType>(scale.getType());
    if (failed(verifyCompatibleShape(expected, actual)))
      return op->emitOpError()
             << "expects a scale operand of type " << expected
             << " (one clip value per "
             << stringifyGranularity(q.getGranularity()) << "), got "
             << actual;
  }
  return success();
}

/// Ops without a seed or scale operand quantize deterministically from w.
static LogicalResult verifyDeterministicQuantizer(Operation *op,
                                                  QuantizerAttr q) {
  if (q.getRounding() == Rounding::Stochastic)
    return op->emitOpError()
           << "has no seed operand: its quantizer must use rounding = nearest";
  if (q.getScale() == ScaleKind::Operand)
    return op->emitOpError() << "has no scale operand: its quantizer cannot "
                                "have scale = operand";
  return success();
}

//===----------------------------------------------------------------------===//
// Op verifiers
//===----------------------------------------------------------------------===//

LogicalResult QuantizeOp::verify() {
  QuantizerAttr q = getQuantizer();
  if (failed(verifyQuantizerOn(*this, q, getX().getType(), getScale(),
                               "the input")))
    return failure();
  bool stochastic = q.getRounding() == Rounding::Stochastic;
  if (stochastic && !getSeed())
    return emitOpError()
           << "quantizer has rounding = stochastic but no seed(...) operand "
              "is given";
  if (!stochastic && getSeed())
    return emitOpError() << "has a seed(...) operand but the quantizer does "
                            "not have rounding = stochastic";
  return success();
}

LogicalResult SteOp::verify() {
  if (failed(verifyQuantizerOn(*this, getQuantizer(), getX().getType(),
                               getScale(), "x")))
    return failure();
  if (bool(getScale()) != bool(getDscale()))
    return emitOpError() << "returns the scale gradient exactly when it has "
                            "a scale(...) operand";
  if (getScale() && getScale().getType() != getDscale().getType())
    return emitOpError()
           << "scale gradient must have the type of the scale operand";
  return success();
}

LogicalResult QuantErrorOp::verify() {
  if (failed(verifyDeterministicQuantizer(*this, getQuantizer())))
    return failure();
  return verifyQuantizerOn(*this, getQuantizer(), getW().getType(), Value(),
                           "w");
}

LogicalResult LambdaScheduleOp::verify() {
  float lambda = getLambda().convertToFloat();
  float silence = getSilence().convertToFloat();
  if (!(lambda >= 0.0f && std::isfinite(lambda)))
    return emitOpError() << "lambda must be non-negative and finite, got "
                         << lambda;
  if (!(silence >= 0.0f && silence < 1.0f))
    return emitOpError() << "silence must be in [0, 1), got " << silence;
  return success();
}

LogicalResult AdamWOp::verify() {
  return verifyAdamWHyperParameters(
      [&] { return emitOpError(); }, getBeta1().convertToFloat(),
      getBeta2().convertToFloat(), getEps().convertToFloat(),
      getWeightDecay().convertToFloat());
}

LogicalResult SGDOp::verify() {
  return verifySGDHyperParameters(
      [&] { return emitOpError(); }, getMomentum().convertToFloat(),
      getDampening().convertToFloat(), getNesterov(),
      getWeightDecay().convertToFloat());
}

//===----------------------------------------------------------------------===//
// cage.update
//===----------------------------------------------------------------------===//

unsigned UpdateOp::getNumStateTensors(Attribute optimizer) {
  return isa<AdamWAttr>(optimizer) ? 2 : 1;
}

bool UpdateOp::needsStep(Attribute optimizer) {
  return isa<AdamWAttr>(optimizer);
}

static StringRef operandNames(Attribute optimizer) {
  return isa<AdamWAttr>(optimizer) ? "w, g, m, v, lr, lambda, step"
                                   : "w, g, b, lr, lambda";
}

LogicalResult UpdateOp::verify() {
  Attribute optimizer = getOptimizer();
  unsigned numState = getNumStateTensors(optimizer);
  if (getState().size() != numState || bool(getStep()) != needsStep(optimizer))
    return emitOpError() << "with " << optimizer << " expects operands ("
                         << operandNames(optimizer) << ")";
  if (getNewState().size() != numState)
    return emitOpError() << "expects " << numState
                         << " state results, got " << getNewState().size();
  Type wType = getW().getType();
  SmallVector<Value> tensors = {getG(), getNewW()};
  llvm::append_range(tensors, getState());
  llvm::append_range(tensors, getNewState());
  for (Value v : tensors)
    if (v.getType() != wType)
      return emitOpError() << "expects g, the optimizer state and the results "
                              "to have the type of w ("
                           << wType << "), got " << v.getType();
  if (failed(verifyDeterministicQuantizer(*this, getQuantizer())))
    return failure();
  return verifyQuantizerOn(*this, getQuantizer(), getW().getType(), Value(),
                           "w");
}

ParseResult UpdateOp::parse(OpAsmParser &parser, OperationState &result) {
  SMLoc operandsLoc = parser.getCurrentLocation();
  SmallVector<OpAsmParser::UnresolvedOperand> operands;
  RankedTensorType tensorType;
  if (parser.parseOperandList(operands) ||
      parseCageAttrDict(parser, result.attributes) || parser.parseColon() ||
      parser.parseType(tensorType))
    return failure();

  Attribute optimizer = result.attributes.get(getOptimizerAttrName(result.name));
  if (!isa_and_nonnull<AdamWAttr, SGDAttr>(optimizer))
    return parser.emitError(operandsLoc)
           << "expects an 'optimizer' attribute, #cage.adamw or #cage.sgd";
  int32_t numState = getNumStateTensors(optimizer);
  int32_t numStep = needsStep(optimizer) ? 1 : 0;
  if (static_cast<int32_t>(operands.size()) != 4 + numState + numStep)
    return parser.emitError(operandsLoc)
           << "with " << optimizer << " expects operands ("
           << operandNames(optimizer) << "), got " << operands.size();

  Builder &b = parser.getBuilder();
  SmallVector<Type> types(2 + numState, tensorType);
  types.append({b.getF32Type(), b.getF32Type()});
  if (numStep)
    types.push_back(b.getI64Type());
  if (parser.resolveOperands(operands, types, operandsLoc, result.operands))
    return failure();
  result.addAttribute(getOperandSegmentSizesAttrName(result.name),
                      b.getDenseI32ArrayAttr({1, 1, numState, 1, 1, numStep}));
  result.addTypes(SmallVector<Type>(1 + numState, tensorType));
  return success();
}

void UpdateOp::print(OpAsmPrinter &p) {
  p << ' ' << getOperands();
  printCageAttrDict(p, *this, DictionaryAttr());
  p << " : " << getW().getType();
}

#define GET_OP_CLASSES
#include "cage/Dialect/Cage/IR/CageOps.cpp.inc"
