//===- CageOps.cpp - cage op verifiers and the cage.update format ---------===//

#include "cage/Dialect/Cage/IR/CageDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/TypeUtilities.h"
#include "llvm/Support/MathExtras.h"

#include <cmath>

using namespace mlir;
using namespace mlir::cage;

//===----------------------------------------------------------------------===//
// Sizes
//===----------------------------------------------------------------------===//

/// Which of the sizes of `type` overflows int64, or null if none does. The
/// product runs over the static dimensions, a dimension of size 0 counted as
/// 1: an empty tensor holds nothing, but a lowering still computes the
/// strides of its other dimensions, and those must fit too.
static const char *overflowingSize(ShapedType type) {
  if (!type.hasRank())
    return nullptr;
  int64_t elements = 1;
  for (int64_t size : type.getShape())
    if (!ShapedType::isDynamic(size) && size != 0 &&
        llvm::MulOverflow(elements, size, elements))
      return "the product of its static dimensions overflows int64";
  Type elementType = type.getElementType();
  int64_t bytes;
  if (elementType.isIntOrFloat() &&
      llvm::MulOverflow(elements,
                        static_cast<int64_t>(llvm::divideCeil(
                            elementType.getIntOrFloatBitWidth(), 8)),
                        bytes))
    return "its size in bytes overflows int64";
  return nullptr;
}

LogicalResult mlir::cage::verifyStaticSizesFitInt64(Operation *op) {
  auto verify = [&](StringRef kind, ValueRange values) -> LogicalResult {
    for (auto [i, value] : llvm::enumerate(values))
      if (auto type = dyn_cast<ShapedType>(value.getType()))
        if (const char *what = overflowingSize(type))
          return op->emitOpError() << kind << " #" << i << " of type " << type
                                   << " is too large: " << what;
    return success();
  };
  return failure(failed(verify("operand", op->getOperands())) ||
                 failed(verify("result", op->getResults())));
}

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
    return op->emitOpError()
           << "expects " << what << " of rank at least 1, got " << xType;
  int64_t n = xType.getShape().back();
  if (!ShapedType::isDynamic(n)) {
    if (q.getGranularity() == Granularity::Group && n % q.getGroupSize() != 0)
      return op->emitOpError()
             << "innermost dimension of " << what << " (" << n
             << ") is not divisible by group_size (" << q.getGroupSize() << ")";
    if (q.getRotation() == Rotation::Hadamard && n % q.getBlock() != 0)
      return op->emitOpError() << "innermost dimension of " << what << " (" << n
                               << ") is not divisible by the Hadamard block ("
                               << q.getBlock() << ")";
  }

  bool wantsScale = q.getScale() == ScaleKind::Operand;
  if (wantsScale && !scale)
    return op->emitOpError() << "quantizer has scale = operand but no "
                                "scale(...) operand is given";
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
             << stringifyGranularity(q.getGranularity()) << "), got " << actual;
  }
  return success();
}

/// The fused lowering of cage.update and cage.multi_update walks w row by row,
/// in slices of the innermost dimension, and cannot build the slice of a
/// static row of 0 elements (a size that is 0 only at run time is no
/// problem). Such a parameter holds nothing to update.
static LogicalResult verifyNonEmptyRows(Operation *op, Type wType,
                                        StringRef what) {
  auto w = cast<RankedTensorType>(wType);
  if (w.getRank() == 0 || w.getShape().back() != 0)
    return success();
  return op->emitOpError() << "expects " << what
                           << " to have a static innermost dimension other "
                              "than 0, got "
                           << w
                           << " (an empty parameter has nothing to update)";
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
// Inherent attributes of the wrong kind
//===----------------------------------------------------------------------===//

/// What a value of the kind of `def` (an attribute's default) looks like.
static std::string describeKind(StringRef name, Attribute def) {
  std::string text;
  llvm::raw_string_ostream os(text);
  if (auto f = dyn_cast<FloatAttr>(def)) {
    os << "an f32 value, like `" << name << " = ";
    printF32(os, f.getValue());
    os << " : f32`";
  } else if (isa<BoolAttr>(def)) {
    os << "a boolean, `" << name << " = true` or `" << name << " = false`";
  } else if (isa<ErrorModeAttr>(def)) {
    os << "one of " << enumKeywords<ErrorMode>();
  } else if (isa<CouplingAttr>(def)) {
    os << "one of " << enumKeywords<Coupling>();
  } else if (isa<ScheduleKindAttr>(def)) {
    os << "one of " << enumKeywords<ScheduleKind>();
  } else {
    os << "an attribute like " << def;
  }
  return text;
}

/// An attribute with a default is never null once the op exists, unless it
/// was set to a value of the wrong kind: ops store inherent attributes as
/// typed properties, and setting one from an attribute of another kind (an
/// integer `lambda` in the attribute list of an MlirOperationState) leaves it
/// null. The custom syntax rejects such values when it parses them; ops built
/// through the C API meet this check instead, before anything reads the
/// attribute, rather than crash or silently use the default.
template <typename OpT> static LogicalResult verifyDefaultedAttrs(OpT op) {
  typename OpT::Properties defaults;
  OpT::populateDefaultProperties(op->getName(), defaults);
  MLIRContext *ctx = op->getContext();
  for (StringAttr name : op->getName().getAttributeNames()) {
    if (op->getInherentAttr(name).value_or(Attribute()))
      continue;
    Attribute def =
        OpT::getInherentAttr(ctx, defaults, name).value_or(Attribute());
    if (!def)
      continue; // A required attribute: its absence is reported by ODS.
    return op.emitOpError() << "expects attribute '" << name.getValue()
                            << "' to be " << describeKind(name.getValue(), def);
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Operand segments
//===----------------------------------------------------------------------===//

/// ODS checks that the operand segments add up to the operand count and that
/// an optional operand has at most one value, but not that a non-optional
/// operand has exactly one: the generic form can give `lambda` no value and
/// `lr` two, and accessors would then read the wrong operand or past the
/// end. `names` has one entry per segment, empty for the variadic ones.
static LogicalResult verifySingleSegments(Operation *op,
                                          ArrayRef<int32_t> sizes,
                                          ArrayRef<StringRef> names) {
  for (auto [size, name] : llvm::zip_equal(sizes, names)) {
    if (name.empty() || size == 1)
      continue;
    InFlightDiagnostic diag = op->emitOpError()
                              << "expects exactly one value for operand '"
                              << name << "', got " << size
                              << " (operandSegmentSizes = array<i32: ";
    llvm::interleaveComma(sizes, diag);
    return diag << ">)";
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Op verifiers
//===----------------------------------------------------------------------===//

LogicalResult QuantizeOp::verify() {
  if (failed(verifySingleSegments(*this, getProperties().operandSegmentSizes,
                                  {"x", "", ""})))
    return failure();
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
  if (getScale() && !getDscale())
    return emitOpError() << "has a scale(...) operand but no scale gradient "
                            "result: expects results (dx, dscale)";
  if (!getScale() && getDscale())
    return emitOpError() << "returns a scale gradient but has no scale(...) "
                            "operand: expects one result (dx)";
  if (getScale() && getScale().getType() != getDscale().getType())
    return emitOpError() << "expects the scale gradient to have the type of "
                            "the scale operand ("
                         << getScale().getType() << "), got "
                         << getDscale().getType();
  // dα = γ · Σ_group dy_i · ∂q_i/∂α with γ = 1 / sqrt(n_group · qmax): an
  // empty group would get 0 · ∞ = NaN. Groups of `granularity = group` hold
  // group_size elements each.
  ArrayRef<int64_t> shape = getX().getType().getShape();
  Granularity granularity = getQuantizer().getGranularity();
  if (getScale() &&
      ((granularity == Granularity::Tensor && llvm::is_contained(shape, 0)) ||
       (granularity == Granularity::Row && shape.back() == 0)))
    return emitOpError() << "with a scale(...) operand expects scale groups "
                            "of at least one element, got x of type "
                         << getX().getType()
                         << ": the scale gradient of an empty group, "
                            "0 * 1/sqrt(0), is NaN";
  return success();
}

LogicalResult QuantErrorOp::verify() {
  if (failed(verifyDefaultedAttrs(*this)))
    return failure();
  if (failed(verifyDeterministicQuantizer(*this, getQuantizer())))
    return failure();
  return verifyQuantizerOn(*this, getQuantizer(), getW().getType(), Value(),
                           "w");
}

LogicalResult LambdaScheduleOp::verify() {
  if (failed(verifyDefaultedAttrs(*this)))
    return failure();
  return verifyScheduleParameters([&] { return emitOpError(); },
                                  getLambda().convertToFloat(),
                                  getSilence().convertToFloat());
}

LogicalResult AdamWOp::verify() {
  if (failed(verifyDefaultedAttrs(*this)))
    return failure();
  return verifyAdamWHyperParameters(
      [&] { return emitOpError(); }, getBeta1().convertToFloat(),
      getBeta2().convertToFloat(), getEps().convertToFloat(),
      getWeightDecay().convertToFloat());
}

LogicalResult SGDOp::verify() {
  if (failed(verifyDefaultedAttrs(*this)))
    return failure();
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

static StringRef resultNames(Attribute optimizer) {
  return isa<AdamWAttr>(optimizer) ? "w, m, v" : "w, b";
}

/// "2 state tensors and a step".
static std::string describeOperands(size_t numState, bool hasStep) {
  return std::to_string(numState) +
         (numState == 1 ? " state tensor" : " state tensors") +
         (hasStep ? " and a step" : " and no step");
}

LogicalResult UpdateOp::verify() {
  if (failed(verifySingleSegments(*this, getProperties().operandSegmentSizes,
                                  {"w", "g", "", "lr", "lambda", "", ""})) ||
      failed(verifyDefaultedAttrs(*this)))
    return failure();
  Attribute optimizer = getOptimizer();
  unsigned numState = getNumStateTensors(optimizer);
  bool wantsStep = needsStep(optimizer);
  if (getState().size() != numState || bool(getStep()) != wantsStep)
    return emitOpError() << "with " << optimizer << " expects operands ("
                         << operandNames(optimizer) << "), "
                         << describeOperands(numState, wantsStep) << ", got "
                         << describeOperands(getState().size(),
                                             bool(getStep()));
  if (getNewState().size() != numState)
    return emitOpError() << "with " << optimizer << " expects " << 1 + numState
                         << " results (" << resultNames(optimizer) << "), got "
                         << getNumResults();
  auto wType = cast<RankedTensorType>(getW().getType());
  for (Value v : {getG(), getNewW()})
    if (v.getType() != wType)
      return emitOpError() << "expects g and the new w to have the type of w ("
                           << wType << "), got " << v.getType();
  Type stateType = getState().front().getType();
  for (Value v : llvm::concat<Value>(getState(), getNewState()))
    if (v.getType() != stateType)
      return emitOpError() << "expects every state tensor and new state to "
                              "have one type ("
                           << stateType << "), got " << v.getType();
  auto stateTensor = cast<RankedTensorType>(stateType);
  if (stateTensor.getShape() != wType.getShape())
    return emitOpError() << "expects the optimizer state to have the shape of "
                            "w ("
                         << wType << "), got " << stateType;
  if (failed(verifyNonEmptyRows(*this, wType, "w")))
    return failure();
  bool bf16State = stateTensor.getElementType().isBF16();
  if (bf16State != bool(getSeed()))
    return emitOpError() << (bf16State
                                 ? "with bf16 optimizer state expects a "
                                   "seed(%s) operand for the stochastic "
                                   "rounding of the stored state"
                                 : "expects a seed operand only with bf16 "
                                   "optimizer state");
  if (failed(verifyDeterministicQuantizer(*this, getQuantizer())))
    return failure();
  return verifyQuantizerOn(*this, getQuantizer(), getW().getType(), Value(),
                           "w");
}

ParseResult UpdateOp::parse(OpAsmParser &parser, OperationState &result) {
  SMLoc operandsLoc = parser.getCurrentLocation();
  SmallVector<OpAsmParser::UnresolvedOperand> operands;
  OpAsmParser::UnresolvedOperand seed;
  bool hasSeed = false;
  // Any types: the verifier says which operand breaks its constraint (see
  // parseUncheckedType).
  Type tensorType, stateType;
  if (parser.parseOperandList(operands))
    return failure();
  if (succeeded(parser.parseOptionalKeyword("seed"))) {
    if (parser.parseLParen() || parser.parseOperand(seed) ||
        parser.parseRParen())
      return failure();
    hasSeed = true;
  }
  if (parseCageAttrDict(parser, result.attributes) || parser.parseColon() ||
      parser.parseType(tensorType))
    return failure();
  stateType = tensorType;
  if (succeeded(parser.parseOptionalComma()) && parser.parseType(stateType))
    return failure();

  Attribute optimizer =
      result.attributes.get(getOptimizerAttrName(result.name));
  if (!optimizer)
    return parser.emitError(operandsLoc)
           << "expects an 'optimizer' attribute, #cage.adamw<...> or "
              "#cage.sgd<...>";
  if (!isa<AdamWAttr, SGDAttr>(optimizer))
    return parser.emitError(operandsLoc)
           << "expects the 'optimizer' attribute to be #cage.adamw<...> or "
              "#cage.sgd<...>, got "
           << optimizer;
  int32_t numState = getNumStateTensors(optimizer);
  int32_t numStep = needsStep(optimizer) ? 1 : 0;
  if (static_cast<int32_t>(operands.size()) != 4 + numState + numStep)
    return parser.emitError(operandsLoc)
           << "with " << optimizer << " expects " << 4 + numState + numStep
           << " operands (" << operandNames(optimizer) << "), got "
           << operands.size();

  Builder &b = parser.getBuilder();
  SmallVector<Type> types = {tensorType, tensorType};
  types.append(numState, stateType);
  types.append({b.getF32Type(), b.getF32Type()});
  if (numStep)
    types.push_back(b.getI64Type());
  if (parser.resolveOperands(operands, types, operandsLoc, result.operands) ||
      (hasSeed && parser.resolveOperand(seed, b.getI64Type(), result.operands)))
    return failure();
  result.addAttribute(
      getOperandSegmentSizesAttrName(result.name),
      b.getDenseI32ArrayAttr({1, 1, numState, 1, 1, numStep, hasSeed ? 1 : 0}));
  result.addTypes(tensorType);
  result.addTypes(SmallVector<Type>(numState, stateType));
  return success();
}

void UpdateOp::print(OpAsmPrinter &p) {
  p << ' ' << getOperands().drop_back(getSeed() ? 1 : 0);
  if (Value seed = getSeed())
    p << " seed(" << seed << ')';
  printCageAttrDict(p, *this, DictionaryAttr());
  p << " : " << getW().getType();
  if (getState().front().getType() != getW().getType())
    p << ", " << getState().front().getType();
}

//===----------------------------------------------------------------------===//
// cage.multi_update
//===----------------------------------------------------------------------===//

unsigned MultiUpdateOp::getNumTensorsPerParam(Attribute optimizer) {
  return 2 + UpdateOp::getNumStateTensors(optimizer);
}

unsigned MultiUpdateOp::getNumResultsPerParam(Attribute optimizer) {
  return 1 + UpdateOp::getNumStateTensors(optimizer);
}

unsigned MultiUpdateOp::getNumParams() {
  return getTensors().size() / getNumTensorsPerParam(getOptimizer());
}

OperandRange MultiUpdateOp::getParamTensors(unsigned k) {
  unsigned size = getNumTensorsPerParam(getOptimizer());
  return getTensors().slice(k * size, size);
}

ResultRange MultiUpdateOp::getParamResults(unsigned k) {
  unsigned size = getNumResultsPerParam(getOptimizer());
  return getResults().slice(k * size, size);
}

/// "w, g, m, v" or "w, g, b": the tensors of one parameter.
static StringRef paramTensorNames(Attribute optimizer) {
  return isa<AdamWAttr>(optimizer) ? "w, g, m, v" : "w, g, b";
}

/// "lr, lambda, step": the scalar operands after the tensors.
static std::string scalarNames(bool hasLambda, bool hasStep) {
  return std::string("lr") + (hasLambda ? ", lambda" : "") +
         (hasStep ? ", step" : "");
}

LogicalResult MultiUpdateOp::verify() {
  if (failed(verifySingleSegments(*this, getProperties().operandSegmentSizes,
                                  {"", "lr", "", ""})) ||
      failed(verifyDefaultedAttrs(*this)))
    return failure();
  Attribute optimizer = getOptimizer();
  unsigned perParam = getNumTensorsPerParam(optimizer);
  unsigned resultsPerParam = getNumResultsPerParam(optimizer);
  size_t numTensors = getTensors().size();
  if (numTensors == 0)
    return emitOpError() << "expects at least one parameter, a group of "
                         << perParam << " tensors ("
                         << paramTensorNames(optimizer) << ") with "
                         << optimizer << ", got none";
  if (numTensors % perParam != 0)
    return emitOpError() << "with " << optimizer << " expects " << perParam
                         << " tensors per parameter ("
                         << paramTensorNames(optimizer) << "), got "
                         << numTensors << " tensors, not a multiple of "
                         << perParam;
  size_t numParams = numTensors / perParam;
  if (getNumResults() != numParams * resultsPerParam)
    return emitOpError() << "with " << optimizer << " expects "
                         << resultsPerParam << " results per parameter ("
                         << resultNames(optimizer) << "), "
                         << numParams * resultsPerParam << " for " << numParams
                         << (numParams == 1 ? " parameter" : " parameters")
                         << ", got " << getNumResults();

  QuantizerAttr quantizer = getQuantizerAttr();
  if (quantizer && !getLambda())
    return emitOpError() << "has a quantizer but no lambda operand: the CAGE "
                            "correction needs lambda_t";
  if (!quantizer && getLambda())
    return emitOpError() << "has a lambda operand but no quantizer: without a "
                            "quantizer there is no CAGE correction for "
                            "lambda_t to scale";
  bool wantsStep = UpdateOp::needsStep(optimizer);
  if (wantsStep && !getStep())
    return emitOpError() << "with " << optimizer
                         << " expects a step operand (i64) after "
                         << scalarNames(bool(getLambda()), false);
  if (!wantsStep && getStep())
    return emitOpError() << "with " << optimizer
                         << " expects no step operand, got one";
  if (!quantizer && getCoupling() != Coupling::Decoupled)
    return emitOpError() << "has coupling = "
                         << stringifyCoupling(getCoupling())
                         << " but no quantizer: coupling applies to the CAGE "
                            "correction, which needs a quantizer";
  if (!quantizer && getError() != ErrorMode::Keep)
    return emitOpError() << "has error = " << stringifyErrorMode(getError())
                         << " but no quantizer: the error mode applies to the "
                            "CAGE correction, which needs a quantizer";

  for (size_t k = 0; k < numParams; ++k) {
    ValueRange tensors = getTensors().slice(k * perParam, perParam);
    ValueRange results =
        getResults().slice(k * resultsPerParam, resultsPerParam);
    Type wType = tensors[0].getType();
    for (Value v : llvm::concat<const Value>(tensors, results))
      if (v.getType() != wType)
        return emitOpError() << "expects the tensors and results of parameter #"
                             << k << " to have the type of its w (" << wType
                             << "), got " << v.getType();
    if (failed(verifyNonEmptyRows(*this, wType,
                                  "w of parameter #" + std::to_string(k))))
      return failure();
  }

  if (!quantizer)
    return success();
  if (failed(verifyDeterministicQuantizer(*this, quantizer)))
    return failure();
  for (size_t k = 0; k < numParams; ++k) {
    std::string what = "w of parameter #" + std::to_string(k);
    if (failed(verifyQuantizerOn(
            *this, quantizer,
            cast<RankedTensorType>(getTensors()[k * perParam].getType()),
            Value(), what)))
      return failure();
  }
  return success();
}

/// `(%w, %g, %m, %v), (%w2, ...), %lr[, %lambda][, %step] {...} : T1, T2`.
ParseResult MultiUpdateOp::parse(OpAsmParser &parser, OperationState &result) {
  using Operands = SmallVector<OpAsmParser::UnresolvedOperand>;
  SmallVector<Operands> groups;
  SmallVector<SMLoc> groupLocs;
  Operands scalars;
  SMLoc opLoc = parser.getCurrentLocation();
  if (failed(parser.parseOptionalLParen()))
    return parser.emitError(opLoc)
           << "expects one parenthesised group of tensors per parameter, "
              "like (%w, %g, %m, %v), before lr";
  groupLocs.push_back(opLoc);
  SMLoc scalarsLoc;
  while (true) {
    groups.emplace_back();
    if (parser.parseOperandList(groups.back()) || parser.parseRParen())
      return failure();
    scalarsLoc = parser.getCurrentLocation();
    if (failed(parser.parseOptionalComma()))
      break;
    SMLoc next = parser.getCurrentLocation();
    if (failed(parser.parseOptionalLParen())) {
      scalarsLoc = next;
      if (parser.parseOperandList(scalars))
        return failure();
      break;
    }
    groupLocs.push_back(next);
  }
  SMLoc typesLoc;
  SmallVector<Type> types; // checked by the verifier (see parseUncheckedType)
  if (parseCageAttrDict(parser, result.attributes) || parser.parseColon())
    return failure();
  typesLoc = parser.getCurrentLocation();
  do {
    if (parser.parseType(types.emplace_back()))
      return failure();
  } while (succeeded(parser.parseOptionalComma()));

  Attribute optimizer =
      result.attributes.get(getOptimizerAttrName(result.name));
  // parseCageAttrDict has checked its kind.
  if (!optimizer)
    return parser.emitError(opLoc)
           << "expects an 'optimizer' attribute, #cage.adamw<...> or "
              "#cage.sgd<...>";
  int32_t perParam = getNumTensorsPerParam(optimizer);
  for (auto [group, loc] : llvm::zip_equal(groups, groupLocs))
    if (static_cast<int32_t>(group.size()) != perParam)
      return parser.emitError(loc)
             << "with " << optimizer << " expects " << perParam
             << " tensors per parameter (" << paramTensorNames(optimizer)
             << "), got " << group.size();
  if (types.size() != groups.size())
    return parser.emitError(typesLoc)
           << "expects one tensor type per parameter, " << groups.size()
           << (groups.size() == 1 ? " type" : " types") << ", got "
           << types.size();
  bool hasLambda =
      bool(result.attributes.get(getQuantizerAttrName(result.name)));
  bool hasStep = UpdateOp::needsStep(optimizer);
  size_t numScalars = 1 + hasLambda + hasStep;
  if (scalars.size() != numScalars)
    return parser.emitError(scalarsLoc)
           << "with " << optimizer << (hasLambda ? " and a" : " and no")
           << " quantizer expects " << numScalars << " scalar operand"
           << (numScalars == 1 ? "" : "s") << " after the tensors ("
           << scalarNames(hasLambda, hasStep) << "), got " << scalars.size();

  Builder &b = parser.getBuilder();
  for (auto [group, loc, type] : llvm::zip_equal(groups, groupLocs, types))
    if (parser.resolveOperands(group, type, loc, result.operands))
      return failure();
  SmallVector<Type> scalarTypes(1 + hasLambda, b.getF32Type());
  if (hasStep)
    scalarTypes.push_back(b.getI64Type());
  if (parser.resolveOperands(scalars, scalarTypes, scalarsLoc, result.operands))
    return failure();
  result.addAttribute(
      getOperandSegmentSizesAttrName(result.name),
      b.getDenseI32ArrayAttr({static_cast<int32_t>(groups.size()) * perParam, 1,
                              hasLambda ? 1 : 0, hasStep ? 1 : 0}));
  int32_t resultsPerParam = getNumResultsPerParam(optimizer);
  for (Type type : types)
    result.types.append(resultsPerParam, type);
  return success();
}

void MultiUpdateOp::print(OpAsmPrinter &p) {
  // An op that fails its verifier is printed in the generic form, so the
  // layout can be trusted here; still never read out of range.
  Attribute optimizer = getOptimizer();
  size_t perParam = isa_and_nonnull<AdamWAttr, SGDAttr>(optimizer)
                        ? getNumTensorsPerParam(optimizer)
                        : 1;
  OperandRange tensors = getTensors();
  SmallVector<Type> types;
  for (size_t first = 0; first < tensors.size(); first += perParam) {
    ValueRange group =
        tensors.slice(first, std::min(perParam, tensors.size() - first));
    p << (first ? ", (" : " (") << group << ')';
    types.push_back(group[0].getType());
  }
  p << ", " << getLr();
  if (Value lambda = getLambda())
    p << ", " << lambda;
  if (Value step = getStep())
    p << ", " << step;
  printCageAttrDict(p, *this, DictionaryAttr());
  p << " : ";
  llvm::interleaveComma(types, p);
}

//===----------------------------------------------------------------------===//
// cage.fogzo_direction
//===----------------------------------------------------------------------===//

LogicalResult FogzoDirectionOp::verify() {
  size_t numTensors = getTensors().size();
  if (numTensors == 0 || numTensors % 2 != 0)
    return emitOpError() << "expects one pair (g, w) per parameter, at least "
                            "one, got "
                         << numTensors << " tensors";
  size_t numParams = numTensors / 2;
  if (getDirections().size() != numParams)
    return emitOpError() << "expects one direction per parameter (" << numParams
                         << "), got " << getDirections().size();
  if (getQuantizers().size() != numParams)
    return emitOpError() << "expects one entry of 'quantizers' per parameter ("
                         << numParams << "), got " << getQuantizers().size();
  bool anyQuantized = false;
  for (size_t k = 0; k < numParams; ++k) {
    Type type = getParamG(k).getType();
    for (Value v : {getParamW(k), Value(getDirections()[k])})
      if (v.getType() != type)
        return emitOpError()
               << "expects g, w and the direction of parameter #" << k
               << " to have one type, got " << type << " and " << v.getType();
    Attribute entry = getQuantizers()[k];
    if (isa<UnitAttr>(entry))
      continue;
    auto q = dyn_cast<QuantizerAttr>(entry);
    if (!q)
      return emitOpError() << "expects entry #" << k
                           << " of 'quantizers' to be a #cage.quantizer<...> "
                              "or unit, got "
                           << entry;
    if (failed(verifyDeterministicQuantizer(*this, q)) ||
        failed(verifyQuantizerOn(*this, q, cast<RankedTensorType>(type),
                                 Value(),
                                 "w of parameter #" + std::to_string(k))))
      return failure();
    anyQuantized = true;
  }
  if (!anyQuantized && getFogzo().getEpsilon().isZero())
    return emitOpError() << "has epsilon = 0 (derive it from the grid) but no "
                            "parameter has a quantizer: give the #cage.fogzo "
                            "an epsilon > 0";
  return success();
}

/// `(%g, %w), (%g2, %w2), %t, %T {...} : T1, T2`.
ParseResult FogzoDirectionOp::parse(OpAsmParser &parser,
                                    OperationState &result) {
  using Operands = SmallVector<OpAsmParser::UnresolvedOperand>;
  SmallVector<Operands> pairs;
  SmallVector<SMLoc> pairLocs;
  Operands scalars;
  SMLoc scalarsLoc = parser.getCurrentLocation();
  while (succeeded(parser.parseOptionalLParen())) {
    pairLocs.push_back(scalarsLoc);
    if (parser.parseOperandList(pairs.emplace_back()) || parser.parseRParen() ||
        parser.parseComma())
      return failure();
    if (pairs.back().size() != 2)
      return parser.emitError(pairLocs.back())
             << "expects a pair (g, w) per parameter, got "
             << pairs.back().size() << " operands";
    scalarsLoc = parser.getCurrentLocation();
  }
  if (pairs.empty())
    return parser.emitError(scalarsLoc)
           << "expects one parenthesised pair (%g, %w) per parameter before "
              "t and T";
  if (parser.parseOperandList(scalars))
    return failure();
  if (scalars.size() != 2)
    return parser.emitError(scalarsLoc)
           << "expects 2 scalar operands after the pairs (t, T), got "
           << scalars.size();
  SmallVector<Type> types;
  if (parseCageAttrDict(parser, result.attributes) || parser.parseColon())
    return failure();
  SMLoc typesLoc = parser.getCurrentLocation();
  do {
    if (parser.parseType(types.emplace_back()))
      return failure();
  } while (succeeded(parser.parseOptionalComma()));
  if (types.size() != pairs.size())
    return parser.emitError(typesLoc)
           << "expects one tensor type per parameter, " << pairs.size()
           << (pairs.size() == 1 ? " type" : " types") << ", got "
           << types.size();
  Builder &b = parser.getBuilder();
  for (auto [pair, loc, type] : llvm::zip_equal(pairs, pairLocs, types))
    if (parser.resolveOperands(pair, type, loc, result.operands))
      return failure();
  if (parser.resolveOperands(scalars, b.getI64Type(), result.operands))
    return failure();
  result.types.append(types.begin(), types.end());
  result.types.push_back(b.getF32Type());
  return success();
}

void FogzoDirectionOp::print(OpAsmPrinter &p) {
  // An op that fails its verifier is printed in the generic form.
  OperandRange tensors = getTensors();
  SmallVector<Type> types;
  for (size_t k = 0; k + 1 < tensors.size(); k += 2) {
    p << (k ? ", (" : " (") << tensors[k] << ", " << tensors[k + 1] << ')';
    types.push_back(tensors[k].getType());
  }
  p << ", " << getStep() << ", " << getTotal();
  printCageAttrDict(p, *this, DictionaryAttr());
  p << " : ";
  llvm::interleaveComma(types, p);
}

#define GET_OP_CLASSES
#include "cage/Dialect/Cage/IR/CageOps.cpp.inc"
