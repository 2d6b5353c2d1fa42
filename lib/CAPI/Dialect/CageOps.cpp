//===- CageOps.cpp - Typed C API of the cage ops --------------------------===//
//
// Glue between include/cage-c/Dialect/CageOps.h and the ODS op classes:
// predicates are isa<>, accessors the generated getters, create functions the
// generated builders (OpT::create), so that operand layout and
// operandSegmentSizes come from ODS alone. What this file adds is the input
// checking that lets a C caller get a null op instead of an assertion.
//
//===----------------------------------------------------------------------===//

#include "cage-c/Dialect/CageOps.h"

#include "cage/Dialect/Cage/IR/CageDialect.h"

#include "mlir/CAPI/IR.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/OperationSupport.h"

#include "llvm/Support/MathExtras.h"

using namespace mlir;
using namespace mlir::cage;

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

namespace {

/// Checks the inputs of one create function, in the order they are given,
/// and stops at the first that cannot make an op. Null inputs fail silently
/// (they propagate an earlier failure, already reported); inputs of the wrong
/// kind fail with an error at the location.
template <typename OpT> class CreateChecker {
public:
  explicit CreateChecker(MlirLocation loc) {
    if (mlirLocationIsNull(loc)) {
      ok = false;
      return;
    }
    location = unwrap(loc);
    if (!RegisteredOperationName::lookup(TypeID::get<OpT>(),
                                         location->getContext()))
      fail() << "the cage dialect is not loaded in the location's context";
  }

  explicit operator bool() const { return ok; }
  Location getLocation() const { return *location; }
  MLIRContext *getContext() const { return location->getContext(); }

  /// A required operand: empty (and failure) when null.
  Value required(MlirValue value) {
    if (ok && mlirValueIsNull(value))
      ok = false;
    return ok ? unwrap(value) : Value();
  }

  /// An optional operand: null means absent.
  static Value optional(MlirValue value) {
    return mlirValueIsNull(value) ? Value() : unwrap(value);
  }

  /// `count` required operands from `values`.
  SmallVector<Value> requiredRange(intptr_t count, const MlirValue *values,
                                   StringRef name) {
    SmallVector<Value> result;
    if (!ok)
      return result;
    if (count < 0) {
      fail() << "expects a non-negative number of " << name << ", got "
             << count;
      return result;
    }
    if (count > 0 && !values) {
      fail() << "expects " << count << ' ' << name << ", got a null array";
      return result;
    }
    for (intptr_t i = 0; i < count; ++i)
      result.push_back(required(values[i]));
    if (!ok)
      result.clear();
    return result;
  }

  /// An attribute of kind `AttrTs...`: empty (and failure) when null unless
  /// `isOptional`, failure with an error when of another kind.
  template <typename... AttrTs>
  Attribute attribute(MlirAttribute attr, StringRef name, StringRef kind,
                      bool isOptional = false) {
    if (!ok)
      return Attribute();
    if (mlirAttributeIsNull(attr)) {
      ok = isOptional;
      return Attribute();
    }
    Attribute a = unwrap(attr);
    if (!isa<AttrTs...>(a)) {
      fail() << "expects '" << name << "' to be " << kind << ", got " << a;
      return Attribute();
    }
    return a;
  }

  QuantizerAttr quantizer(MlirAttribute attr, bool isOptional = false) {
    return cast_or_null<QuantizerAttr>(attribute<QuantizerAttr>(
        attr, "quantizer", "a #cage.quantizer<...>", isOptional));
  }

  Attribute optimizer(MlirAttribute attr) {
    return attribute<AdamWAttr, SGDAttr>(attr, "optimizer",
                                         "#cage.adamw<...> or #cage.sgd<...>");
  }

  /// The ODS enum of a C enum value (a C enum can hold any int).
  template <typename EnumT>
  EnumT enumValue(int value, StringRef name,
                  std::optional<EnumT> (*symbolize)(uint32_t)) {
    std::optional<EnumT> result;
    if (value >= 0)
      result = symbolize(static_cast<uint32_t>(value));
    if (ok && !result)
      fail() << "'" << name << "' has no value " << value;
    return result.value_or(EnumT());
  }

  /// Creates the op through its ODS builder, detached (no insertion point).
  template <typename... Args> MlirOperation create(Args &&...args) {
    if (!ok)
      return MlirOperation{nullptr};
    OpBuilder builder(getContext());
    return wrap(OpT::create(builder, *location, std::forward<Args>(args)...)
                    .getOperation());
  }

private:
  InFlightDiagnostic fail() {
    ok = false;
    return mlir::emitError(*location)
           << "cannot create '" << OpT::getOperationName() << "': ";
  }

  bool ok = true;
  std::optional<Location> location;
};

} // namespace

template <typename OpT> static bool isA(MlirOperation op) {
  return isa_and_present<OpT>(unwrap(op));
}

template <typename OpT> static OpT as(MlirOperation op) {
  return cast<OpT>(unwrap(op));
}

/// Element `i` of `range`, or null when out of range.
template <typename RangeT> static MlirValue at(RangeT range, intptr_t i) {
  if (i < 0 || static_cast<size_t>(i) >= range.size())
    return MlirValue{nullptr};
  return wrap(static_cast<Value>(range[i]));
}

static float f32(const llvm::APFloat &value) { return value.convertToFloat(); }

//===----------------------------------------------------------------------===//
// cage.quantize
//===----------------------------------------------------------------------===//

bool cageOperationIsAQuantize(MlirOperation op) { return isA<QuantizeOp>(op); }

MlirOperation cageQuantizeOpCreate(MlirLocation loc, MlirValue x,
                                   MlirValue seed, MlirValue scale,
                                   MlirAttribute quantizer) {
  CreateChecker<QuantizeOp> c(loc);
  Value xv = c.required(x);
  QuantizerAttr q = c.quantizer(quantizer);
  return c.create(xv, c.optional(seed), c.optional(scale), q);
}

MlirValue cageQuantizeOpGetX(MlirOperation op) {
  return wrap(as<QuantizeOp>(op).getX());
}
MlirValue cageQuantizeOpGetSeed(MlirOperation op) {
  return wrap(as<QuantizeOp>(op).getSeed());
}
MlirValue cageQuantizeOpGetScale(MlirOperation op) {
  return wrap(as<QuantizeOp>(op).getScale());
}
MlirAttribute cageQuantizeOpGetQuantizer(MlirOperation op) {
  return wrap(as<QuantizeOp>(op).getQuantizerAttr());
}
MlirValue cageQuantizeOpGetResult(MlirOperation op) {
  return wrap(as<QuantizeOp>(op).getResult());
}

//===----------------------------------------------------------------------===//
// cage.ste
//===----------------------------------------------------------------------===//

bool cageOperationIsASte(MlirOperation op) { return isA<SteOp>(op); }

MlirOperation cageSteOpCreate(MlirLocation loc, MlirValue dy, MlirValue x,
                              MlirValue scale, MlirAttribute quantizer,
                              CageEstimator estimator) {
  CreateChecker<SteOp> c(loc);
  Value dyv = c.required(dy);
  Value xv = c.required(x);
  Value scalev = c.optional(scale);
  QuantizerAttr q = c.quantizer(quantizer);
  Estimator e =
      c.enumValue<Estimator>(estimator, "estimator", symbolizeEstimator);
  if (!c)
    return MlirOperation{nullptr};
  // dx has the type of x (AllTypesMatch); dscale, the LSQ gradient, exists
  // exactly when the scale operand does and has its type, as the custom
  // syntax (custom<ScaleGradType>) builds it.
  return c.create(xv.getType(), scalev ? scalev.getType() : Type(), dyv, xv,
                  scalev, q, e);
}

MlirValue cageSteOpGetDy(MlirOperation op) {
  return wrap(as<SteOp>(op).getDy());
}
MlirValue cageSteOpGetX(MlirOperation op) { return wrap(as<SteOp>(op).getX()); }
MlirValue cageSteOpGetScale(MlirOperation op) {
  return wrap(as<SteOp>(op).getScale());
}
MlirAttribute cageSteOpGetQuantizer(MlirOperation op) {
  return wrap(as<SteOp>(op).getQuantizerAttr());
}
CageEstimator cageSteOpGetEstimator(MlirOperation op) {
  return static_cast<CageEstimator>(as<SteOp>(op).getEstimator());
}
MlirValue cageSteOpGetDx(MlirOperation op) {
  return wrap(as<SteOp>(op).getDx());
}
MlirValue cageSteOpGetDscale(MlirOperation op) {
  return wrap(as<SteOp>(op).getDscale());
}

//===----------------------------------------------------------------------===//
// cage.quant_error
//===----------------------------------------------------------------------===//

bool cageOperationIsAQuantError(MlirOperation op) {
  return isA<QuantErrorOp>(op);
}

MlirOperation cageQuantErrorOpCreate(MlirLocation loc, MlirValue w,
                                     MlirAttribute quantizer,
                                     CageErrorMode error) {
  CreateChecker<QuantErrorOp> c(loc);
  Value wv = c.required(w);
  QuantizerAttr q = c.quantizer(quantizer);
  ErrorMode e = c.enumValue<ErrorMode>(error, "error", symbolizeErrorMode);
  return c.create(wv, q, e);
}

MlirValue cageQuantErrorOpGetW(MlirOperation op) {
  return wrap(as<QuantErrorOp>(op).getW());
}
MlirAttribute cageQuantErrorOpGetQuantizer(MlirOperation op) {
  return wrap(as<QuantErrorOp>(op).getQuantizerAttr());
}
CageErrorMode cageQuantErrorOpGetError(MlirOperation op) {
  return static_cast<CageErrorMode>(as<QuantErrorOp>(op).getError());
}
MlirValue cageQuantErrorOpGetErrorValue(MlirOperation op) {
  return wrap(as<QuantErrorOp>(op).getErrorValue());
}

//===----------------------------------------------------------------------===//
// cage.lambda_schedule
//===----------------------------------------------------------------------===//

bool cageOperationIsALambdaSchedule(MlirOperation op) {
  return isA<LambdaScheduleOp>(op);
}

MlirOperation cageLambdaScheduleOpCreate(MlirLocation loc, MlirValue step,
                                         MlirValue total, float lambda,
                                         float silence, CageScheduleKind kind) {
  CreateChecker<LambdaScheduleOp> c(loc);
  Value stepv = c.required(step);
  Value totalv = c.required(total);
  ScheduleKind k =
      c.enumValue<ScheduleKind>(kind, "kind", symbolizeScheduleKind);
  return c.create(stepv, totalv, llvm::APFloat(lambda), llvm::APFloat(silence),
                  k);
}

MlirValue cageLambdaScheduleOpGetStep(MlirOperation op) {
  return wrap(as<LambdaScheduleOp>(op).getStep());
}
MlirValue cageLambdaScheduleOpGetTotal(MlirOperation op) {
  return wrap(as<LambdaScheduleOp>(op).getTotal());
}
float cageLambdaScheduleOpGetLambda(MlirOperation op) {
  return f32(as<LambdaScheduleOp>(op).getLambda());
}
float cageLambdaScheduleOpGetSilence(MlirOperation op) {
  return f32(as<LambdaScheduleOp>(op).getSilence());
}
CageScheduleKind cageLambdaScheduleOpGetKind(MlirOperation op) {
  return static_cast<CageScheduleKind>(as<LambdaScheduleOp>(op).getKind());
}
MlirValue cageLambdaScheduleOpGetResult(MlirOperation op) {
  return wrap(as<LambdaScheduleOp>(op).getResult());
}

//===----------------------------------------------------------------------===//
// cage.adamw
//===----------------------------------------------------------------------===//

bool cageOperationIsAAdamW(MlirOperation op) { return isA<AdamWOp>(op); }

MlirOperation cageAdamWOpCreate(MlirLocation loc, MlirValue w, MlirValue g,
                                MlirValue m, MlirValue v, MlirValue lr,
                                MlirValue step, float beta1, float beta2,
                                float eps, float weightDecay) {
  CreateChecker<AdamWOp> c(loc);
  Value wv = c.required(w), gv = c.required(g), mv = c.required(m),
        vv = c.required(v), lrv = c.required(lr), stepv = c.required(step);
  return c.create(wv, gv, mv, vv, lrv, stepv, llvm::APFloat(beta1),
                  llvm::APFloat(beta2), llvm::APFloat(eps),
                  llvm::APFloat(weightDecay));
}

MlirValue cageAdamWOpGetW(MlirOperation op) {
  return wrap(as<AdamWOp>(op).getW());
}
MlirValue cageAdamWOpGetG(MlirOperation op) {
  return wrap(as<AdamWOp>(op).getG());
}
MlirValue cageAdamWOpGetM(MlirOperation op) {
  return wrap(as<AdamWOp>(op).getM());
}
MlirValue cageAdamWOpGetV(MlirOperation op) {
  return wrap(as<AdamWOp>(op).getV());
}
MlirValue cageAdamWOpGetLr(MlirOperation op) {
  return wrap(as<AdamWOp>(op).getLr());
}
MlirValue cageAdamWOpGetStep(MlirOperation op) {
  return wrap(as<AdamWOp>(op).getStep());
}
float cageAdamWOpGetBeta1(MlirOperation op) {
  return f32(as<AdamWOp>(op).getBeta1());
}
float cageAdamWOpGetBeta2(MlirOperation op) {
  return f32(as<AdamWOp>(op).getBeta2());
}
float cageAdamWOpGetEps(MlirOperation op) {
  return f32(as<AdamWOp>(op).getEps());
}
float cageAdamWOpGetWeightDecay(MlirOperation op) {
  return f32(as<AdamWOp>(op).getWeightDecay());
}
MlirValue cageAdamWOpGetNewW(MlirOperation op) {
  return wrap(as<AdamWOp>(op).getNewW());
}
MlirValue cageAdamWOpGetNewM(MlirOperation op) {
  return wrap(as<AdamWOp>(op).getNewM());
}
MlirValue cageAdamWOpGetNewV(MlirOperation op) {
  return wrap(as<AdamWOp>(op).getNewV());
}

//===----------------------------------------------------------------------===//
// cage.sgd
//===----------------------------------------------------------------------===//

bool cageOperationIsASGD(MlirOperation op) { return isA<SGDOp>(op); }

MlirOperation cageSGDOpCreate(MlirLocation loc, MlirValue w, MlirValue g,
                              MlirValue b, MlirValue lr, float momentum,
                              float dampening, bool nesterov,
                              float weightDecay) {
  CreateChecker<SGDOp> c(loc);
  Value wv = c.required(w), gv = c.required(g), bv = c.required(b),
        lrv = c.required(lr);
  return c.create(wv, gv, bv, lrv, llvm::APFloat(momentum),
                  llvm::APFloat(dampening), nesterov,
                  llvm::APFloat(weightDecay));
}

MlirValue cageSGDOpGetW(MlirOperation op) { return wrap(as<SGDOp>(op).getW()); }
MlirValue cageSGDOpGetG(MlirOperation op) { return wrap(as<SGDOp>(op).getG()); }
MlirValue cageSGDOpGetB(MlirOperation op) { return wrap(as<SGDOp>(op).getB()); }
MlirValue cageSGDOpGetLr(MlirOperation op) {
  return wrap(as<SGDOp>(op).getLr());
}
float cageSGDOpGetMomentum(MlirOperation op) {
  return f32(as<SGDOp>(op).getMomentum());
}
float cageSGDOpGetDampening(MlirOperation op) {
  return f32(as<SGDOp>(op).getDampening());
}
bool cageSGDOpGetNesterov(MlirOperation op) {
  return as<SGDOp>(op).getNesterov();
}
float cageSGDOpGetWeightDecay(MlirOperation op) {
  return f32(as<SGDOp>(op).getWeightDecay());
}
MlirValue cageSGDOpGetNewW(MlirOperation op) {
  return wrap(as<SGDOp>(op).getNewW());
}
MlirValue cageSGDOpGetNewB(MlirOperation op) {
  return wrap(as<SGDOp>(op).getNewB());
}

//===----------------------------------------------------------------------===//
// cage.update
//===----------------------------------------------------------------------===//

static bool isOptimizer(Attribute attr) {
  return isa_and_present<AdamWAttr, SGDAttr>(attr);
}

bool cageOperationIsAUpdate(MlirOperation op) { return isA<UpdateOp>(op); }

intptr_t cageUpdateOpGetNumStateFor(MlirAttribute optimizer) {
  Attribute attr = unwrap(optimizer);
  return isOptimizer(attr) ? UpdateOp::getNumStateTensors(attr) : 0;
}

bool cageUpdateOpNeedsStepFor(MlirAttribute optimizer) {
  Attribute attr = unwrap(optimizer);
  return isOptimizer(attr) && UpdateOp::needsStep(attr);
}

MlirOperation cageUpdateOpCreate(MlirLocation loc, MlirValue w, MlirValue g,
                                 intptr_t numState, const MlirValue *state,
                                 MlirValue lr, MlirValue lambda, MlirValue step,
                                 MlirValue seed, MlirAttribute quantizer,
                                 MlirAttribute optimizer, CageCoupling coupling,
                                 CageErrorMode error) {
  CreateChecker<UpdateOp> c(loc);
  Value wv = c.required(w), gv = c.required(g);
  SmallVector<Value> statev = c.requiredRange(numState, state, "state tensors");
  Value lrv = c.required(lr), lambdav = c.required(lambda);
  QuantizerAttr q = c.quantizer(quantizer);
  Attribute opt = c.optimizer(optimizer);
  Coupling cp = c.enumValue<Coupling>(coupling, "coupling", symbolizeCoupling);
  ErrorMode e = c.enumValue<ErrorMode>(error, "error", symbolizeErrorMode);
  if (!c)
    return MlirOperation{nullptr};
  // The new w has the type of w, each new state tensor that of its state
  // tensor (f32 or bf16), as the custom syntax builds them.
  SmallVector<Type> stateTypes(ValueRange(statev).getTypes());
  return c.create(wv.getType(), stateTypes, wv, gv, statev, lrv, lambdav,
                  c.optional(step), c.optional(seed), q, opt, cp, e);
}

MlirValue cageUpdateOpGetW(MlirOperation op) {
  return wrap(as<UpdateOp>(op).getW());
}
MlirValue cageUpdateOpGetG(MlirOperation op) {
  return wrap(as<UpdateOp>(op).getG());
}
intptr_t cageUpdateOpGetNumState(MlirOperation op) {
  return as<UpdateOp>(op).getState().size();
}
MlirValue cageUpdateOpGetState(MlirOperation op, intptr_t i) {
  return at(as<UpdateOp>(op).getState(), i);
}
MlirValue cageUpdateOpGetLr(MlirOperation op) {
  return wrap(as<UpdateOp>(op).getLr());
}
MlirValue cageUpdateOpGetLambda(MlirOperation op) {
  return wrap(as<UpdateOp>(op).getLambda());
}
MlirValue cageUpdateOpGetStep(MlirOperation op) {
  return wrap(as<UpdateOp>(op).getStep());
}
MlirValue cageUpdateOpGetSeed(MlirOperation op) {
  return wrap(as<UpdateOp>(op).getSeed());
}
MlirAttribute cageUpdateOpGetQuantizer(MlirOperation op) {
  return wrap(as<UpdateOp>(op).getQuantizerAttr());
}
MlirAttribute cageUpdateOpGetOptimizer(MlirOperation op) {
  return wrap(as<UpdateOp>(op).getOptimizerAttr());
}
CageCoupling cageUpdateOpGetCoupling(MlirOperation op) {
  return static_cast<CageCoupling>(as<UpdateOp>(op).getCoupling());
}
CageErrorMode cageUpdateOpGetError(MlirOperation op) {
  return static_cast<CageErrorMode>(as<UpdateOp>(op).getError());
}
MlirValue cageUpdateOpGetNewW(MlirOperation op) {
  return wrap(as<UpdateOp>(op).getNewW());
}
intptr_t cageUpdateOpGetNumNewState(MlirOperation op) {
  return as<UpdateOp>(op).getNewState().size();
}
MlirValue cageUpdateOpGetNewState(MlirOperation op, intptr_t i) {
  return at(as<UpdateOp>(op).getNewState(), i);
}

//===----------------------------------------------------------------------===//
// cage.multi_update
//===----------------------------------------------------------------------===//

bool cageOperationIsAMultiUpdate(MlirOperation op) {
  return isA<MultiUpdateOp>(op);
}

MlirOperation cageMultiUpdateOpCreate(
    MlirLocation loc, intptr_t numParams, const MlirValue *w,
    const MlirValue *g, intptr_t numStatePerParam, const MlirValue *state,
    MlirValue lr, MlirValue lambda, MlirValue step, MlirAttribute quantizer,
    MlirAttribute optimizer, CageCoupling coupling, CageErrorMode error) {
  CreateChecker<MultiUpdateOp> c(loc);
  SmallVector<Value> ws = c.requiredRange(numParams, w, "parameters (w)");
  SmallVector<Value> gs = c.requiredRange(numParams, g, "gradients (g)");
  // N·S state tensors; a negative S (or an N·S that overflows) is reported
  // as a negative count.
  intptr_t numState = numStatePerParam;
  if (numStatePerParam >= 0 && numParams >= 0 &&
      llvm::MulOverflow(numParams, numStatePerParam, numState))
    numState = -1;
  SmallVector<Value> states = c.requiredRange(numState, state, "state tensors");
  Value lrv = c.required(lr);
  QuantizerAttr q = c.quantizer(quantizer, /*isOptional=*/true);
  Attribute opt = c.optimizer(optimizer);
  Coupling cp = c.enumValue<Coupling>(coupling, "coupling", symbolizeCoupling);
  ErrorMode e = c.enumValue<ErrorMode>(error, "error", symbolizeErrorMode);
  if (!c)
    return MlirOperation{nullptr};
  // Operands: per parameter w, g, state (the `tensors` segment); results: per
  // parameter 1 + S tensors of the type of its w, as the custom syntax builds
  // them.
  SmallVector<Value> tensors;
  SmallVector<Type> resultTypes;
  for (intptr_t k = 0; k < numParams; ++k) {
    tensors.push_back(ws[k]);
    tensors.push_back(gs[k]);
    llvm::append_range(tensors, ArrayRef<Value>(states).slice(
                                    k * numStatePerParam, numStatePerParam));
    resultTypes.append(1 + numStatePerParam, ws[k].getType());
  }
  return c.create(resultTypes, tensors, lrv, c.optional(lambda),
                  c.optional(step), q, opt, cp, e);
}

/// S, the state tensors per parameter, from the optimizer attribute (0 when
/// it is not one, so that no accessor reads out of range).
static intptr_t numParamState(MultiUpdateOp op) {
  Attribute optimizer = op.getOptimizer();
  return isOptimizer(optimizer) ? UpdateOp::getNumStateTensors(optimizer) : 0;
}

/// Whether parameter `k` has its 2 + S operands and 1 + S results.
static bool hasParam(MultiUpdateOp op, intptr_t k) {
  if (!isOptimizer(op.getOptimizer()) || k < 0)
    return false;
  size_t s = numParamState(op), index = static_cast<size_t>(k);
  return (index + 1) * (2 + s) <= op.getTensors().size() &&
         (index + 1) * (1 + s) <= op->getNumResults();
}

intptr_t cageMultiUpdateOpGetNumParams(MlirOperation op) {
  MultiUpdateOp multi = as<MultiUpdateOp>(op);
  return isOptimizer(multi.getOptimizer()) ? multi.getNumParams() : 0;
}
intptr_t cageMultiUpdateOpGetNumParamState(MlirOperation op) {
  return numParamState(as<MultiUpdateOp>(op));
}
MlirValue cageMultiUpdateOpGetParamW(MlirOperation op, intptr_t k) {
  MultiUpdateOp multi = as<MultiUpdateOp>(op);
  return hasParam(multi, k) ? wrap(multi.getParamW(k)) : MlirValue{nullptr};
}
MlirValue cageMultiUpdateOpGetParamG(MlirOperation op, intptr_t k) {
  MultiUpdateOp multi = as<MultiUpdateOp>(op);
  return hasParam(multi, k) ? wrap(multi.getParamG(k)) : MlirValue{nullptr};
}
MlirValue cageMultiUpdateOpGetParamState(MlirOperation op, intptr_t k,
                                         intptr_t j) {
  MultiUpdateOp multi = as<MultiUpdateOp>(op);
  return hasParam(multi, k) ? at(multi.getParamState(k), j)
                            : MlirValue{nullptr};
}
MlirValue cageMultiUpdateOpGetParamNewW(MlirOperation op, intptr_t k) {
  MultiUpdateOp multi = as<MultiUpdateOp>(op);
  return hasParam(multi, k) ? wrap(multi.getParamNewW(k)) : MlirValue{nullptr};
}
MlirValue cageMultiUpdateOpGetParamNewState(MlirOperation op, intptr_t k,
                                            intptr_t j) {
  MultiUpdateOp multi = as<MultiUpdateOp>(op);
  return hasParam(multi, k) ? at(multi.getParamNewState(k), j)
                            : MlirValue{nullptr};
}
MlirValue cageMultiUpdateOpGetLr(MlirOperation op) {
  return wrap(as<MultiUpdateOp>(op).getLr());
}
MlirValue cageMultiUpdateOpGetLambda(MlirOperation op) {
  return wrap(as<MultiUpdateOp>(op).getLambda());
}
MlirValue cageMultiUpdateOpGetStep(MlirOperation op) {
  return wrap(as<MultiUpdateOp>(op).getStep());
}
MlirAttribute cageMultiUpdateOpGetQuantizer(MlirOperation op) {
  return wrap(as<MultiUpdateOp>(op).getQuantizerAttr());
}
MlirAttribute cageMultiUpdateOpGetOptimizer(MlirOperation op) {
  return wrap(as<MultiUpdateOp>(op).getOptimizerAttr());
}
CageCoupling cageMultiUpdateOpGetCoupling(MlirOperation op) {
  return static_cast<CageCoupling>(as<MultiUpdateOp>(op).getCoupling());
}
CageErrorMode cageMultiUpdateOpGetError(MlirOperation op) {
  return static_cast<CageErrorMode>(as<MultiUpdateOp>(op).getError());
}

//===----------------------------------------------------------------------===//
// cage.fogzo_direction
//===----------------------------------------------------------------------===//

bool cageOperationIsAFogzoDirection(MlirOperation op) {
  return isA<FogzoDirectionOp>(op);
}

MlirOperation cageFogzoDirectionOpCreate(MlirLocation loc, intptr_t numParams,
                                         const MlirValue *g, const MlirValue *w,
                                         MlirValue step, MlirValue total,
                                         MlirAttribute fogzo,
                                         const MlirAttribute *quantizers) {
  CreateChecker<FogzoDirectionOp> c(loc);
  SmallVector<Value> gs = c.requiredRange(numParams, g, "gradients (g)");
  SmallVector<Value> ws = c.requiredRange(numParams, w, "weights (w)");
  Value stepv = c.required(step), totalv = c.required(total);
  auto f = cast_or_null<FogzoAttr>(
      c.template attribute<FogzoAttr>(fogzo, "fogzo", "a #cage.fogzo<...>"));
  if (c && numParams > 0 && !quantizers) {
    emitError(c.getLocation())
        << "cannot create 'cage.fogzo_direction': expects " << numParams
        << " quantizers (null entries for none), got a null array";
    return MlirOperation{nullptr};
  }
  SmallVector<Attribute> entries;
  for (intptr_t k = 0; c && k < numParams; ++k)
    entries.push_back(mlirAttributeIsNull(quantizers[k])
                          ? Attribute(UnitAttr::get(c.getContext()))
                          : Attribute(c.quantizer(quantizers[k])));
  if (!c)
    return MlirOperation{nullptr};
  SmallVector<Value> tensors;
  SmallVector<Type> resultTypes;
  for (intptr_t k = 0; k < numParams; ++k) {
    tensors.push_back(gs[k]);
    tensors.push_back(ws[k]);
    resultTypes.push_back(gs[k].getType());
  }
  return c.create(resultTypes, Float32Type::get(c.getContext()), tensors, stepv,
                  totalv, f, ArrayAttr::get(c.getContext(), entries));
}

/// Whether parameter `k` has its pair of operands, its entry and its result.
static bool hasParam(FogzoDirectionOp op, intptr_t k) {
  size_t index = static_cast<size_t>(k);
  return k >= 0 && 2 * (index + 1) <= op.getTensors().size() &&
         index < op.getQuantizers().size() && index < op.getDirections().size();
}

intptr_t cageFogzoDirectionOpGetNumParams(MlirOperation op) {
  return as<FogzoDirectionOp>(op).getNumParams();
}
MlirValue cageFogzoDirectionOpGetParamG(MlirOperation op, intptr_t k) {
  FogzoDirectionOp f = as<FogzoDirectionOp>(op);
  return hasParam(f, k) ? wrap(f.getParamG(k)) : MlirValue{nullptr};
}
MlirValue cageFogzoDirectionOpGetParamW(MlirOperation op, intptr_t k) {
  FogzoDirectionOp f = as<FogzoDirectionOp>(op);
  return hasParam(f, k) ? wrap(f.getParamW(k)) : MlirValue{nullptr};
}
MlirAttribute cageFogzoDirectionOpGetParamQuantizer(MlirOperation op,
                                                    intptr_t k) {
  FogzoDirectionOp f = as<FogzoDirectionOp>(op);
  return hasParam(f, k) ? wrap(f.getParamQuantizer(k)) : MlirAttribute{nullptr};
}
MlirValue cageFogzoDirectionOpGetDirection(MlirOperation op, intptr_t k) {
  return at(as<FogzoDirectionOp>(op).getDirections(), k);
}
MlirValue cageFogzoDirectionOpGetEpsilon(MlirOperation op) {
  return wrap(as<FogzoDirectionOp>(op).getEpsilon());
}
MlirValue cageFogzoDirectionOpGetStep(MlirOperation op) {
  return wrap(as<FogzoDirectionOp>(op).getStep());
}
MlirValue cageFogzoDirectionOpGetTotal(MlirOperation op) {
  return wrap(as<FogzoDirectionOp>(op).getTotal());
}
MlirAttribute cageFogzoDirectionOpGetFogzo(MlirOperation op) {
  return wrap(as<FogzoDirectionOp>(op).getFogzoAttr());
}
