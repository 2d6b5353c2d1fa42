//===- CageDialect.h - The cage dialect -------------------------*- C++ -*-===//
//
// C++ declarations of the cage dialect, its attributes and ops. Only the
// dialect's own glue includes this; everything else uses include/cage-c/.
//
//===----------------------------------------------------------------------===//

#ifndef CAGE_DIALECT_CAGE_IR_CAGEDIALECT_H
#define CAGE_DIALECT_CAGE_IR_CAGEDIALECT_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "cage/Dialect/Cage/IR/CageEnums.h.inc"

namespace mlir::cage {
/// Parses an f32 attribute parameter written as a plain number.
FailureOr<llvm::APFloat> parseF32Parameter(AsmParser &parser);
/// Prints an f32 value with the fewest digits that read back to the same f32
/// (`0.9`, `1.0e-08`, `10.0`), rather than the f64-exact `0.899999976`.
void printF32(llvm::raw_ostream &os, const llvm::APFloat &value);
/// An f32 as a diagnostic shows it: as printF32 writes it, `nan` or `inf`.
std::string f32Text(float value);

/// "a, b, c": the keywords of an ODS enum, for diagnostics.
template <typename EnumT> std::string enumKeywords() {
  std::string list;
  for (uint32_t i = 0;; ++i) {
    StringRef word = stringifyEnum(static_cast<EnumT>(i));
    if (word.empty())
      return list;
    list += (i ? ", " : "") + word.str();
  }
}
} // namespace mlir::cage

#define GET_ATTRDEF_CLASSES
#include "cage/Dialect/Cage/IR/CageAttrs.h.inc"

#include "cage/Dialect/Cage/IR/CageDialect.h.inc"

namespace mlir::cage {

/// The `{name = value, ...}` dictionary of cage ops: enum-valued attributes
/// are bare keywords, inherent attributes print in declaration order and are
/// omitted when equal to their default.
ParseResult parseCageAttrDict(OpAsmParser &parser, NamedAttrList &attrs);
void printCageAttrDict(OpAsmPrinter &printer, Operation *op,
                       function_ref<Attribute(StringRef)> defaultOf);
template <typename OpT>
void printCageAttrDict(OpAsmPrinter &printer, OpT op, DictionaryAttr) {
  typename OpT::Properties defaults;
  OpT::populateDefaultProperties(op->getName(), defaults);
  MLIRContext *ctx = op->getContext();
  printCageAttrDict(printer, op, [&](StringRef name) {
    return OpT::getInherentAttr(ctx, defaults, name).value_or(Attribute());
  });
}

/// A tensor type after the colon of a cage op, parsed as any type: the op
/// verifier then checks it like the generic form's, naming the operand and
/// what it must be ("operand #0 must be ranked tensor of 32-bit float
/// values, but got 'tensor<*xf32>'"), where the parser would only say that a
/// builtin.tensor was expected.
ParseResult parseUncheckedType(OpAsmParser &parser, Type &type);
void printUncheckedType(OpAsmPrinter &printer, Operation *op, Type type);

/// `, type($scale)` of cage.ste: the LSQ gradient result has the type of the
/// scale operand and exists exactly when the operand does.
ParseResult parseScaleGradType(OpAsmParser &parser, Type &scaleType,
                               Type &scaleGradType);
void printScaleGradType(OpAsmPrinter &printer, Operation *op, Type scaleType,
                        Type scaleGradType);

/// Range checks of optimizer hyper-parameters, shared by the optimizer
/// attributes and the stand-alone optimizer ops.
LogicalResult
verifyAdamWHyperParameters(llvm::function_ref<InFlightDiagnostic()> emitError,
                           float beta1, float beta2, float eps,
                           float weightDecay);
LogicalResult
verifySGDHyperParameters(llvm::function_ref<InFlightDiagnostic()> emitError,
                         float momentum, float dampening, bool nesterov,
                         float weightDecay);

/// #cage.adamw<>, the optimizer of #cage.param by default.
Attribute getDefaultOptimizer(MLIRContext *context);

/// Range checks of the λ schedule's parameters, shared by
/// cage.lambda_schedule and #cage.param.
LogicalResult
verifyScheduleParameters(llvm::function_ref<InFlightDiagnostic()> emitError,
                         float lambda, float silence);

/// Fails, naming the value and its type, where a ranked operand or result of
/// `op` has a static size that does not fit in int64, in elements or bytes.
LogicalResult verifyStaticSizesFitInt64(Operation *op);

} // namespace mlir::cage

namespace mlir::OpTrait::cage {
/// Every cage op has it (Cage_Op): shapes whose sizes overflow int64 are
/// rejected at the op, before a lowering computes sizes and strides from them.
template <typename ConcreteType>
class StaticSizesFitInt64
    : public TraitBase<ConcreteType, StaticSizesFitInt64> {
public:
  static LogicalResult verifyTrait(Operation *op) {
    return ::mlir::cage::verifyStaticSizesFitInt64(op);
  }
};
} // namespace mlir::OpTrait::cage

#define GET_OP_CLASSES
#include "cage/Dialect/Cage/IR/CageOps.h.inc"

#endif // CAGE_DIALECT_CAGE_IR_CAGEDIALECT_H
