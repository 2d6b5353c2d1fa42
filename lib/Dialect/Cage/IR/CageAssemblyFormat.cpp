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
/// An inherent attribute whose value is written as a bare enum keyword.
struct KeywordAttr {
  StringRef name;
  Attribute (*parse)(MLIRContext *, StringRef);
  StringRef (*print)(Attribute);
  std::string (*choices)();
};

template <typename AttrT> struct EnumKeyword {
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
  static KeywordAttr get(StringRef name) {
    return {name, parse, print, enumKeywords<EnumT>};
  }
};
} // namespace

static ArrayRef<KeywordAttr> keywordAttrs() {
  static const KeywordAttr table[] = {
      EnumKeyword<EstimatorAttr>::get("estimator"),
      EnumKeyword<ErrorModeAttr>::get("error"),
      EnumKeyword<CouplingAttr>::get("coupling"),
      EnumKeyword<ScheduleKindAttr>::get("kind"),
  };
  return table;
}

static const KeywordAttr *lookupKeywordAttr(StringRef name) {
  for (const KeywordAttr &entry : keywordAttrs())
    if (entry.name == name)
      return &entry;
  return nullptr;
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
    if (failed(parser.parseOptionalEqual())) {
      attrs.append(name, UnitAttr::get(ctx));
      continue;
    }
    Attribute value;
    if (const KeywordAttr *keyword = lookupKeywordAttr(name)) {
      SMLoc wordLoc = parser.getCurrentLocation();
      StringRef word;
      if (succeeded(parser.parseOptionalKeyword(&word))) {
        value = keyword->parse(ctx, word);
        if (!value)
          return parser.emitError(wordLoc)
                 << "unknown " << name << " '" << word << "', expected one of "
                 << keyword->choices();
      }
    }
    if (!value && parser.parseAttribute(value))
      return failure();
    attrs.append(name, value);
  } while (succeeded(parser.parseOptionalComma()));
  return parser.parseRBrace();
}

/// The order in which ops print their attributes: the quantizer first, then
/// what modifies it, then hyper-parameters as DESIGN.md writes them. (ODS
/// reports inherent attribute names sorted alphabetically.)
static int printRank(StringRef name) {
  static const StringRef order[] = {
      "quantizer", "optimizer", "estimator", "coupling", "error",
      "lambda",    "silence",   "kind",      "beta1",    "beta2",
      "eps",       "momentum",  "dampening", "nesterov", "weight_decay"};
  const StringRef *it = llvm::find(order, name);
  return static_cast<int>(it - std::begin(order));
}

static bool isSegmentSizes(StringRef name) {
  return name == "operandSegmentSizes" || name == "resultSegmentSizes";
}

void mlir::cage::printCageAttrDict(
    OpAsmPrinter &printer, Operation *op,
    function_ref<Attribute(StringRef)> defaultOf) {
  // Inherent attributes in declaration order, then discardable ones.
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
    const KeywordAttr *keyword = lookupKeywordAttr(attr.getName().getValue());
    StringRef word = keyword ? keyword->print(attr.getValue()) : StringRef();
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
