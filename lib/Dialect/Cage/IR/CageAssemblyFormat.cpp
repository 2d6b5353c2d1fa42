//===- CageAssemblyFormat.cpp - custom directives of cage ops -------------===//
//
// Cage ops write their attributes as `{quantizer = ..., estimator = clipped}`:
// a dictionary whose enum values are bare keywords, which the builtin
// attribute dictionary cannot parse. These directives handle it for every op.
//
//===----------------------------------------------------------------------===//

#include "cage/Dialect/Cage/IR/CageDialect.h"

#include "llvm/ADT/STLExtras.h"

using namespace mlir;
using namespace mlir::cage;

namespace {
/// How one attribute name of the cage ops is written. Ops store inherent
/// attributes as typed properties, and one of the wrong kind would be
/// dropped when the op is created, so the parser checks kinds itself, at the
/// value, where it can say what was expected.
struct AttrSyntax {
  StringRef name;
  /// For enum values written as bare keywords: keyword -> attribute (null if
  /// unknown), attribute -> keyword (empty if not this enum), the choices.
  Attribute (*parseKeyword)(MLIRContext *, StringRef);
  StringRef (*printKeyword)(Attribute);
  std::string (*keywords)();
  /// Whether a parsed value has the right kind, and what that kind is.
  bool (*isValid)(Attribute);
  const char *expected;
  /// For f32 hyper-parameters, written as those of #cage.adamw<...> and
  /// #cage.sgd<...> are, with an optional `: f32`.
  bool isF32;
};

template <typename AttrT> struct EnumSyntax {
  using EnumT = decltype(std::declval<AttrT>().getValue());

  static Attribute parse(MLIRContext *ctx, StringRef word) {
    if (std::optional<EnumT> value = symbolizeEnum<EnumT>(word))
      return AttrT::get(ctx, *value);
    return {};
  }
  static StringRef print(Attribute attr) {
    if (auto enumAttr = dyn_cast<AttrT>(attr))
      return stringifyEnum(enumAttr.getValue());
    return {};
  }
  static bool isValid(Attribute attr) { return isa<AttrT>(attr); }
  static AttrSyntax get(StringRef name) {
    return {name,    parse,       print, enumKeywords<EnumT>,
            isValid, "a keyword", false};
  }
};

template <typename... AttrTs> static bool isA(Attribute attr) {
  return isa<AttrTs...>(attr);
}

AttrSyntax plain(StringRef name, bool (*isValid)(Attribute),
                 const char *expected) {
  return {name, nullptr, nullptr, nullptr, isValid, expected, false};
}

AttrSyntax f32Value(StringRef name, const char *expected) {
  return {name, nullptr, nullptr, nullptr, nullptr, expected, true};
}
} // namespace

/// Every attribute of the cage ops, in the order they print: the quantizer,
/// what modifies it, then hyper-parameters in the order of docs/Dialect.md (ODS
/// reports inherent attribute names sorted alphabetically).
static ArrayRef<AttrSyntax> attrSyntaxes() {
  static const AttrSyntax table[] = {
      plain("quantizer", isA<QuantizerAttr>, "a #cage.quantizer<...>"),
      plain("fogzo", isA<FogzoAttr>, "a #cage.fogzo<...>"),
      plain("quantizers", isA<ArrayAttr>,
            "an array of #cage.quantizer<...> or unit, one per parameter"),
      plain("optimizer", isA<AdamWAttr, SGDAttr>,
            "a #cage.adamw<...> or #cage.sgd<...>"),
      EnumSyntax<EstimatorAttr>::get("estimator"),
      EnumSyntax<CouplingAttr>::get("coupling"),
      EnumSyntax<ErrorModeAttr>::get("error"),
      f32Value("lambda", "an f32 value, like `10.0`"),
      f32Value("silence", "an f32 value, like `0.8`"),
      EnumSyntax<ScheduleKindAttr>::get("kind"),
      f32Value("beta1", "an f32 value, like `0.9`"),
      f32Value("beta2", "an f32 value, like `0.95`"),
      f32Value("eps", "an f32 value, like `1.0e-08`"),
      f32Value("momentum", "an f32 value, like `0.9`"),
      f32Value("dampening", "an f32 value, like `0.0`"),
      plain("nesterov", isA<BoolAttr>, "`true` or `false`"),
      f32Value("weight_decay", "an f32 value, like `0.1`"),
  };
  return table;
}

static const AttrSyntax *lookupAttrSyntax(StringRef name) {
  for (const AttrSyntax &entry : attrSyntaxes())
    if (entry.name == name)
      return &entry;
  return nullptr;
}

static size_t printRank(StringRef name) {
  const AttrSyntax *entry = lookupAttrSyntax(name);
  return entry ? entry - attrSyntaxes().begin() : attrSyntaxes().size();
}

/// `0.9` or `0.9 : f32`: a plain number is an f32, as in the attribute
/// parameters, not the f64 that an untyped float attribute would be.
static ParseResult parseF32Value(OpAsmParser &parser, const AttrSyntax &syntax,
                                 Attribute &value) {
  SMLoc loc = parser.getCurrentLocation();
  FailureOr<APFloat> number = parseF32Parameter(parser);
  if (failed(number))
    return parser.emitError(loc)
           << "expects '" << syntax.name << "' to be " << syntax.expected;
  if (succeeded(parser.parseOptionalColon())) {
    SMLoc typeLoc = parser.getCurrentLocation();
    Type type;
    if (parser.parseType(type))
      return failure();
    if (!type.isF32())
      return parser.emitError(typeLoc)
             << "expects '" << syntax.name << "' to be " << syntax.expected
             << " (`: f32` or no type), got type " << type;
  }
  value = FloatAttr::get(Float32Type::get(parser.getContext()), *number);
  return success();
}

static ParseResult parseValue(OpAsmParser &parser, StringRef name,
                              Attribute &value) {
  const AttrSyntax *syntax = lookupAttrSyntax(name);
  if (syntax && syntax->isF32)
    return parseF32Value(parser, *syntax, value);
  SMLoc loc = parser.getCurrentLocation();
  StringRef word;
  if (syntax && syntax->parseKeyword &&
      succeeded(parser.parseOptionalKeyword(&word))) {
    value = syntax->parseKeyword(parser.getContext(), word);
    if (!value)
      return parser.emitError(loc)
             << "unknown " << name << " '" << word << "', expected one of "
             << syntax->keywords();
    return success();
  }
  if (parser.parseAttribute(value))
    return failure();
  if (syntax && !syntax->isValid(value)) {
    InFlightDiagnostic diag = parser.emitError(loc)
                              << "expects '" << name << "' to be "
                              << syntax->expected;
    if (syntax->keywords)
      diag << ", one of " << syntax->keywords();
    return diag << ", got " << value;
  }
  return success();
}

ParseResult mlir::cage::parseCageAttrDict(OpAsmParser &parser,
                                          NamedAttrList &attrs) {
  if (failed(parser.parseOptionalLBrace()))
    return success();
  if (succeeded(parser.parseOptionalRBrace()))
    return success();
  MLIRContext *ctx = parser.getContext();
  do {
    SMLoc nameLoc = parser.getCurrentLocation();
    std::string name;
    if (parser.parseKeywordOrString(&name))
      return failure();
    if (attrs.get(name))
      return parser.emitError(nameLoc)
             << "duplicate attribute '" << name << "'";
    Attribute value = UnitAttr::get(ctx);
    if (succeeded(parser.parseOptionalEqual()) &&
        parseValue(parser, name, value))
      return failure();
    attrs.append(name, value);
  } while (succeeded(parser.parseOptionalComma()));
  return parser.parseRBrace();
}

static bool isSegmentSizes(StringRef name) {
  return name == "operandSegmentSizes" || name == "resultSegmentSizes";
}

void mlir::cage::printCageAttrDict(
    OpAsmPrinter &printer, Operation *op,
    function_ref<Attribute(StringRef)> defaultOf) {
  // Inherent attributes in the table's order, then discardable ones.
  SmallVector<NamedAttribute> ordered;
  for (StringAttr name : op->getName().getAttributeNames()) {
    Attribute value = op->getInherentAttr(name).value_or(Attribute());
    if (value && !isSegmentSizes(name) && value != defaultOf(name))
      ordered.emplace_back(name, value);
  }
  llvm::stable_sort(ordered, [](NamedAttribute a, NamedAttribute b) {
    return printRank(a.getName().getValue()) <
           printRank(b.getName().getValue());
  });
  llvm::append_range(ordered, op->getDiscardableAttrs());
  if (ordered.empty())
    return;

  printer << " {";
  llvm::interleaveComma(ordered, printer, [&](NamedAttribute attr) {
    printer.printKeywordOrString(attr.getName().getValue());
    if (isa<UnitAttr>(attr.getValue()))
      return;
    printer << " = ";
    const AttrSyntax *syntax = lookupAttrSyntax(attr.getName().getValue());
    StringRef word = syntax && syntax->printKeyword
                         ? syntax->printKeyword(attr.getValue())
                         : StringRef();
    auto floatAttr = dyn_cast<FloatAttr>(attr.getValue());
    if (!word.empty()) {
      printer << word;
    } else if (floatAttr && floatAttr.getType().isF32()) {
      printF32(printer.getStream(), floatAttr.getValue());
      printer << " : f32";
    } else {
      printer.printAttribute(attr.getValue());
    }
  });
  printer << "}";
}

ParseResult mlir::cage::parseUncheckedType(OpAsmParser &parser, Type &type) {
  return parser.parseType(type);
}

void mlir::cage::printUncheckedType(OpAsmPrinter &printer, Operation *,
                                    Type type) {
  printer << type;
}

ParseResult mlir::cage::parseScaleGradType(OpAsmParser &parser, Type &scaleType,
                                           Type &scaleGradType) {
  if (failed(parser.parseOptionalComma()))
    return success();
  if (parser.parseType(scaleType))
    return failure();
  scaleGradType = scaleType;
  return success();
}

void mlir::cage::printScaleGradType(OpAsmPrinter &printer, Operation *,
                                    Type scaleType, Type) {
  if (scaleType)
    printer << ", " << scaleType;
}
