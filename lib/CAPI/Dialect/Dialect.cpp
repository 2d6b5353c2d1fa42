//===- Dialect.cpp - C API of the cage dialect ----------------------------===//

#include "cage-c/Dialect/Cage.h"

#include "cage/Dialect/Cage/IR/CageDialect.h"

#include "mlir/AsmParser/AsmParser.h"
#include "mlir/CAPI/IR.h"
#include "mlir/CAPI/Registration.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Location.h"

using namespace mlir;
using namespace mlir::cage;

MLIR_DEFINE_CAPI_DIALECT_REGISTRATION(Cage, cage, CageDialect)

/// Builds an attribute through its verifier: invalid parameters give a null
/// attribute and an error on the context instead of an assertion.
template <typename AttrT, typename... Args>
static MlirAttribute getChecked(MlirContext ctx, Args... args) {
  MLIRContext *context = unwrap(ctx);
  auto emitError = [&] { return mlir::emitError(UnknownLoc::get(context)); };
  return wrap(AttrT::getChecked(emitError, context, args...));
}

static llvm::APFloat f32(float v) { return llvm::APFloat(v); }

/// The ODS enum for a C enum value. A C enum can hold any int, so a value out
/// of range gives an error on the context and std::nullopt, not an attribute
/// that prints as `granularity = ` and cannot be parsed back.
template <typename EnumT>
static std::optional<EnumT>
checkedEnum(MLIRContext *context, int value, StringRef what,
            std::optional<EnumT> (*symbolize)(uint32_t)) {
  std::optional<EnumT> result;
  if (value >= 0)
    result = symbolize(static_cast<uint32_t>(value));
  if (!result)
    mlir::emitError(UnknownLoc::get(context))
        << what << " has no value " << value;
  return result;
}

//===----------------------------------------------------------------------===//
// #cage.quantizer
//===----------------------------------------------------------------------===//

MlirAttribute cageQuantizerAttrGet(MlirContext ctx, int64_t bits,
                                   CageGranularity granularity,
                                   int64_t groupSize, CageScaleKind scale,
                                   CageLevels levels, CageRotation rotation,
                                   int64_t block, CageRounding rounding) {
  MLIRContext *context = unwrap(ctx);
  auto g =
      checkedEnum(context, granularity, "granularity", symbolizeGranularity);
  auto s = checkedEnum(context, scale, "scale", symbolizeScaleKind);
  auto l = checkedEnum(context, levels, "levels", symbolizeLevels);
  auto r = checkedEnum(context, rotation, "rotation", symbolizeRotation);
  auto rd = checkedEnum(context, rounding, "rounding", symbolizeRounding);
  if (!g || !s || !l || !r || !rd)
    return MlirAttribute{nullptr};
  return getChecked<QuantizerAttr>(ctx, bits, *g, groupSize, *s, *l, *r, block,
                                   *rd);
}

MlirAttribute cageQuantizerAttrGetDefault(MlirContext ctx, int64_t bits) {
  // Parsed rather than built so that the defaults stay where ODS declares
  // them; the verifier reports a bad `bits` as for any other constructor.
  std::string text = "#cage.quantizer<bits = " + std::to_string(bits) + ">";
  return wrap(parseAttribute(text, unwrap(ctx)));
}

static QuantizerAttr quantizer(MlirAttribute attr) {
  return cast<QuantizerAttr>(unwrap(attr));
}

bool cageAttributeIsAQuantizer(MlirAttribute attr) {
  return isa_and_present<QuantizerAttr>(unwrap(attr));
}
int64_t cageQuantizerAttrGetBits(MlirAttribute attr) {
  return quantizer(attr).getBits();
}
CageGranularity cageQuantizerAttrGetGranularity(MlirAttribute attr) {
  return static_cast<CageGranularity>(quantizer(attr).getGranularity());
}
int64_t cageQuantizerAttrGetGroupSize(MlirAttribute attr) {
  return quantizer(attr).getGroupSize();
}
CageScaleKind cageQuantizerAttrGetScale(MlirAttribute attr) {
  return static_cast<CageScaleKind>(quantizer(attr).getScale());
}
CageLevels cageQuantizerAttrGetLevels(MlirAttribute attr) {
  return static_cast<CageLevels>(quantizer(attr).getLevels());
}
CageRotation cageQuantizerAttrGetRotation(MlirAttribute attr) {
  return static_cast<CageRotation>(quantizer(attr).getRotation());
}
int64_t cageQuantizerAttrGetBlock(MlirAttribute attr) {
  return quantizer(attr).getBlock();
}
CageRounding cageQuantizerAttrGetRounding(MlirAttribute attr) {
  return static_cast<CageRounding>(quantizer(attr).getRounding());
}

//===----------------------------------------------------------------------===//
// #cage.adamw and #cage.sgd
//===----------------------------------------------------------------------===//

MlirAttribute cageAdamWAttrGet(MlirContext ctx, float beta1, float beta2,
                               float eps, float weightDecay) {
  return getChecked<AdamWAttr>(ctx, f32(beta1), f32(beta2), f32(eps),
                               f32(weightDecay));
}
bool cageAttributeIsAAdamW(MlirAttribute attr) {
  return isa_and_present<AdamWAttr>(unwrap(attr));
}
float cageAdamWAttrGetBeta1(MlirAttribute attr) {
  return cast<AdamWAttr>(unwrap(attr)).getBeta1().convertToFloat();
}
float cageAdamWAttrGetBeta2(MlirAttribute attr) {
  return cast<AdamWAttr>(unwrap(attr)).getBeta2().convertToFloat();
}
float cageAdamWAttrGetEps(MlirAttribute attr) {
  return cast<AdamWAttr>(unwrap(attr)).getEps().convertToFloat();
}
float cageAdamWAttrGetWeightDecay(MlirAttribute attr) {
  return cast<AdamWAttr>(unwrap(attr)).getWeightDecay().convertToFloat();
}

MlirAttribute cageSGDAttrGet(MlirContext ctx, float momentum, float dampening,
                             bool nesterov, float weightDecay) {
  return getChecked<SGDAttr>(ctx, f32(momentum), f32(dampening), nesterov,
                             f32(weightDecay));
}
bool cageAttributeIsASGD(MlirAttribute attr) {
  return isa_and_present<SGDAttr>(unwrap(attr));
}
float cageSGDAttrGetMomentum(MlirAttribute attr) {
  return cast<SGDAttr>(unwrap(attr)).getMomentum().convertToFloat();
}
float cageSGDAttrGetDampening(MlirAttribute attr) {
  return cast<SGDAttr>(unwrap(attr)).getDampening().convertToFloat();
}
bool cageSGDAttrGetNesterov(MlirAttribute attr) {
  return cast<SGDAttr>(unwrap(attr)).getNesterov();
}
float cageSGDAttrGetWeightDecay(MlirAttribute attr) {
  return cast<SGDAttr>(unwrap(attr)).getWeightDecay().convertToFloat();
}

//===----------------------------------------------------------------------===//
// #cage.param
//===----------------------------------------------------------------------===//

MlirAttribute cageParamAttrGet(MlirContext ctx, MlirAttribute optimizer,
                               bool cage, MlirAttribute quantizer,
                               CageCoupling coupling, CageErrorMode error,
                               float lambda, float silence,
                               CageScheduleKind schedule,
                               CageEstimator estimator) {
  MLIRContext *context = unwrap(ctx);
  auto c = checkedEnum(context, coupling, "coupling", symbolizeCoupling);
  auto e = checkedEnum(context, error, "error", symbolizeErrorMode);
  auto k = checkedEnum(context, schedule, "schedule", symbolizeScheduleKind);
  auto est = checkedEnum(context, estimator, "estimator", symbolizeEstimator);
  if (!c || !e || !k || !est)
    return MlirAttribute{nullptr};
  Attribute q = unwrap(quantizer);
  if (q && !isa<QuantizerAttr>(q)) {
    emitError(UnknownLoc::get(context))
        << "quantizer must be a #cage.quantizer, got " << q;
    return MlirAttribute{nullptr};
  }
  Attribute opt = unwrap(optimizer);
  return getChecked<ParamAttr>(ctx, opt ? opt : getDefaultOptimizer(context),
                               cage, cast_if_present<QuantizerAttr>(q), *c, *e,
                               f32(lambda), f32(silence), *k, *est,
                               FogzoAttr());
}
MlirAttribute cageParamAttrGetWithFogzo(MlirAttribute param,
                                        MlirAttribute fogzo) {
  auto p = cast<ParamAttr>(unwrap(param));
  Attribute f = unwrap(fogzo);
  if (f && !isa<FogzoAttr>(f)) {
    emitError(UnknownLoc::get(p.getContext()))
        << "fogzo must be a #cage.fogzo, got " << f;
    return MlirAttribute{nullptr};
  }
  return getChecked<ParamAttr>(
      wrap(p.getContext()), p.getOptimizer(), p.getCage(), p.getQuantizer(),
      p.getCoupling(), p.getError(), p.getLambda(), p.getSilence(),
      p.getSchedule(), p.getEstimator(), cast_if_present<FogzoAttr>(f));
}
MlirAttribute cageParamAttrGetDefault(MlirContext ctx) {
  return wrap(parseAttribute("#cage.param<>", unwrap(ctx)));
}
bool cageAttributeIsAParam(MlirAttribute attr) {
  return isa_and_present<ParamAttr>(unwrap(attr));
}
MlirAttribute cageParamAttrGetOptimizer(MlirAttribute attr) {
  return wrap(cast<ParamAttr>(unwrap(attr)).getOptimizer());
}
bool cageParamAttrGetCage(MlirAttribute attr) {
  return cast<ParamAttr>(unwrap(attr)).getCage();
}
MlirAttribute cageParamAttrGetQuantizer(MlirAttribute attr) {
  return wrap(cast<ParamAttr>(unwrap(attr)).getQuantizer());
}
CageCoupling cageParamAttrGetCoupling(MlirAttribute attr) {
  return static_cast<CageCoupling>(cast<ParamAttr>(unwrap(attr)).getCoupling());
}
CageErrorMode cageParamAttrGetError(MlirAttribute attr) {
  return static_cast<CageErrorMode>(cast<ParamAttr>(unwrap(attr)).getError());
}
float cageParamAttrGetLambda(MlirAttribute attr) {
  return cast<ParamAttr>(unwrap(attr)).getLambda().convertToFloat();
}
float cageParamAttrGetSilence(MlirAttribute attr) {
  return cast<ParamAttr>(unwrap(attr)).getSilence().convertToFloat();
}
CageScheduleKind cageParamAttrGetSchedule(MlirAttribute attr) {
  return static_cast<CageScheduleKind>(
      cast<ParamAttr>(unwrap(attr)).getSchedule());
}
CageEstimator cageParamAttrGetEstimator(MlirAttribute attr) {
  return static_cast<CageEstimator>(
      cast<ParamAttr>(unwrap(attr)).getEstimator());
}

MlirAttribute cageParamAttrGetFogzo(MlirAttribute attr) {
  return wrap(cast<ParamAttr>(unwrap(attr)).getFogzo());
}

//===----------------------------------------------------------------------===//
// #cage.fogzo
//===----------------------------------------------------------------------===//

MlirAttribute cageFogzoAttrGet(MlirContext ctx, float betaMin, float start,
                               int64_t seed, float epsilon,
                               CageFogzoDirection direction) {
  auto d =
      checkedEnum(unwrap(ctx), direction, "direction", symbolizeFogzoDirection);
  if (!d)
    return MlirAttribute{nullptr};
  return getChecked<FogzoAttr>(ctx, f32(betaMin), f32(start), seed,
                               f32(epsilon), *d);
}
bool cageAttributeIsAFogzo(MlirAttribute attr) {
  return isa_and_present<FogzoAttr>(unwrap(attr));
}
float cageFogzoAttrGetBetaMin(MlirAttribute attr) {
  return cast<FogzoAttr>(unwrap(attr)).getBetaMin().convertToFloat();
}
float cageFogzoAttrGetStart(MlirAttribute attr) {
  return cast<FogzoAttr>(unwrap(attr)).getStart().convertToFloat();
}
int64_t cageFogzoAttrGetSeed(MlirAttribute attr) {
  return cast<FogzoAttr>(unwrap(attr)).getSeed();
}
float cageFogzoAttrGetEpsilon(MlirAttribute attr) {
  return cast<FogzoAttr>(unwrap(attr)).getEpsilon().convertToFloat();
}
CageFogzoDirection cageFogzoAttrGetDirection(MlirAttribute attr) {
  return static_cast<CageFogzoDirection>(
      cast<FogzoAttr>(unwrap(attr)).getDirection());
}

//===----------------------------------------------------------------------===//
// Enum attributes
//===----------------------------------------------------------------------===//

// The C enums mirror the ODS enums value for value, so each accessor is a
// cast in both directions.
#define CAGE_DEFINE_ENUM_ATTR(Name, what)                                      \
  MlirAttribute cage##Name##AttrGet(MlirContext ctx, Cage##Name value) {       \
    std::optional<Name> v =                                                    \
        checkedEnum<Name>(unwrap(ctx), value, what, symbolize##Name);          \
    return v ? wrap(Name##Attr::get(unwrap(ctx), *v))                          \
             : MlirAttribute{nullptr};                                         \
  }                                                                            \
  bool cageAttributeIsA##Name(MlirAttribute attr) {                            \
    return isa_and_present<Name##Attr>(unwrap(attr));                          \
  }                                                                            \
  Cage##Name cage##Name##AttrGetValue(MlirAttribute attr) {                    \
    return static_cast<Cage##Name>(cast<Name##Attr>(unwrap(attr)).getValue()); \
  }

CAGE_DEFINE_ENUM_ATTR(Estimator, "estimator")
CAGE_DEFINE_ENUM_ATTR(ErrorMode, "error")
CAGE_DEFINE_ENUM_ATTR(Coupling, "coupling")
CAGE_DEFINE_ENUM_ATTR(ScheduleKind, "kind")
