/*===- cage-c/Dialect/CageOps.h - Typed C API of the cage ops -----*- C -*-===*\
|*                                                                            *|
|* One predicate, named accessors and a create function per cage op, so that  *|
|* C code reads and builds the ops by name rather than by operand position    *|
|* and literal `operandSegmentSizes` arrays. Implemented over the ODS         *|
|* classes: the layout (segments, optional operands) is ODS's.                *|
|*                                                                            *|
|* Naming, after the attribute API of Cage.h:                                 *|
|*   bool          cageOperationIsA<Op>(MlirOperation)                        *|
|*   MlirOperation cage<Op>OpCreate(MlirLocation, operands..., attributes...) *|
|*   <T>           cage<Op>OpGet<Name>(MlirOperation[, index])                *|
|* where <Op> is the ODS class name without `Op` (Quantize, Ste, QuantError,  *|
|* LambdaSchedule, AdamW, SGD, Update, MultiUpdate, FogzoDirection) and     *|
|* <Name> the ODS                                                             *|
|* operand, result or attribute name in UpperCamelCase (`new_w` -> NewW).     *|
|*                                                                            *|
|* Accessors:                                                                 *|
|*  - expect an op of their kind (check with cageOperationIsA* first), that   *|
|*    verifies or was returned by a create function, as in the MLIR C API;    *|
|*  - return a null MlirValue for an optional operand or result that is       *|
|*    absent, and for an index out of range;                                  *|
|*  - return attributes as MlirAttribute (quantizer, optimizer: null when an  *|
|*    optional one is absent), as the C enums of CageEnums.h, or as float /   *|
|*    bool for f32 and boolean attributes.                                    *|
|*                                                                            *|
|* Create functions:                                                          *|
|*  - return a new, detached op (not inserted anywhere: insert it with        *|
|*    mlirBlockAppendOwnedOperation / mlirBlockInsertOwnedOperation*, or      *|
|*    destroy it with mlirOperationDestroy), like mlirOperationCreate;        *|
|*  - infer the result types from the operands (the ODS builder's inference   *|
|*    where ODS has one; documented per op otherwise);                        *|
|*  - do NOT verify the op: operand types and the op's rules (state count     *|
|*    for the optimizer, seed with bf16 state, ...) are checked by            *|
|*    mlirOperationVerify;                                                    *|
|*  - return a null op (mlirOperationIsNull) instead of crashing when an      *|
|*    input cannot make an op: a null location, a null required operand or    *|
|*    attribute (no diagnostic: it propagates an earlier failure), or, with   *|
|*    an error emitted at `loc`, an attribute of the wrong kind, a C enum     *|
|*    value out of range, a negative count or a null array with a positive    *|
|*    count, or a context in which the cage dialect is not loaded.            *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef CAGE_C_DIALECT_CAGEOPS_H
#define CAGE_C_DIALECT_CAGEOPS_H

#include "cage-c/Dialect/CageEnums.h"
#include "mlir-c/IR.h"
#include "mlir-c/Support.h"

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*===----------------------------------------------------------------------===*
 * cage.quantize: %r = cage.quantize %x [seed(%s)] [scale(%a)] {quantizer}
 *===----------------------------------------------------------------------===*/

MLIR_CAPI_EXPORTED bool cageOperationIsAQuantize(MlirOperation op);

/** `seed` and `scale` may be null (absent). The result has the type of x. */
MLIR_CAPI_EXPORTED MlirOperation cageQuantizeOpCreate(MlirLocation loc,
                                                      MlirValue x,
                                                      MlirValue seed,
                                                      MlirValue scale,
                                                      MlirAttribute quantizer);

MLIR_CAPI_EXPORTED MlirValue cageQuantizeOpGetX(MlirOperation op);
/** The i64 seed, or null when absent. */
MLIR_CAPI_EXPORTED MlirValue cageQuantizeOpGetSeed(MlirOperation op);
/** The clip values (with `scale = operand`), or null when absent. */
MLIR_CAPI_EXPORTED MlirValue cageQuantizeOpGetScale(MlirOperation op);
MLIR_CAPI_EXPORTED MlirAttribute cageQuantizeOpGetQuantizer(MlirOperation op);
MLIR_CAPI_EXPORTED MlirValue cageQuantizeOpGetResult(MlirOperation op);

/*===----------------------------------------------------------------------===*
 * cage.ste: %dx[, %dscale] = cage.ste %dy, %x [scale(%a)] {quantizer,
 *estimator}
 *===----------------------------------------------------------------------===*/

MLIR_CAPI_EXPORTED bool cageOperationIsASte(MlirOperation op);

/** `scale` may be null (absent). dx has the type of x; the dscale result
 *  exists exactly when `scale` is given, with its type. */
MLIR_CAPI_EXPORTED MlirOperation cageSteOpCreate(MlirLocation loc, MlirValue dy,
                                                 MlirValue x, MlirValue scale,
                                                 MlirAttribute quantizer,
                                                 CageEstimator estimator);

MLIR_CAPI_EXPORTED MlirValue cageSteOpGetDy(MlirOperation op);
MLIR_CAPI_EXPORTED MlirValue cageSteOpGetX(MlirOperation op);
/** The clip values, or null when absent. */
MLIR_CAPI_EXPORTED MlirValue cageSteOpGetScale(MlirOperation op);
MLIR_CAPI_EXPORTED MlirAttribute cageSteOpGetQuantizer(MlirOperation op);
MLIR_CAPI_EXPORTED CageEstimator cageSteOpGetEstimator(MlirOperation op);
MLIR_CAPI_EXPORTED MlirValue cageSteOpGetDx(MlirOperation op);
/** The gradient with respect to the scale, or null when absent. */
MLIR_CAPI_EXPORTED MlirValue cageSteOpGetDscale(MlirOperation op);

/*===----------------------------------------------------------------------===*
 * cage.quant_error: %e = cage.quant_error %w {quantizer, error}
 *===----------------------------------------------------------------------===*/

MLIR_CAPI_EXPORTED bool cageOperationIsAQuantError(MlirOperation op);

/** The result has the type of w. */
MLIR_CAPI_EXPORTED MlirOperation cageQuantErrorOpCreate(MlirLocation loc,
                                                        MlirValue w,
                                                        MlirAttribute quantizer,
                                                        CageErrorMode error);

MLIR_CAPI_EXPORTED MlirValue cageQuantErrorOpGetW(MlirOperation op);
MLIR_CAPI_EXPORTED MlirAttribute cageQuantErrorOpGetQuantizer(MlirOperation op);
/** The `error` attribute (the error mode). */
MLIR_CAPI_EXPORTED CageErrorMode cageQuantErrorOpGetError(MlirOperation op);
/** The result, e = w - Q(w). */
MLIR_CAPI_EXPORTED MlirValue cageQuantErrorOpGetErrorValue(MlirOperation op);

/*===----------------------------------------------------------------------===*
 * cage.lambda_schedule: %l = cage.lambda_schedule %t, %T {lambda, silence,
 *kind}
 *===----------------------------------------------------------------------===*/

MLIR_CAPI_EXPORTED bool cageOperationIsALambdaSchedule(MlirOperation op);

/** The result is f32. The ODS defaults are λ = 10, silence = 0.8,
 *  CageScheduleKindLinearRamp. */
MLIR_CAPI_EXPORTED MlirOperation
cageLambdaScheduleOpCreate(MlirLocation loc, MlirValue step, MlirValue total,
                           float lambda, float silence, CageScheduleKind kind);

MLIR_CAPI_EXPORTED MlirValue cageLambdaScheduleOpGetStep(MlirOperation op);
MLIR_CAPI_EXPORTED MlirValue cageLambdaScheduleOpGetTotal(MlirOperation op);
MLIR_CAPI_EXPORTED float cageLambdaScheduleOpGetLambda(MlirOperation op);
MLIR_CAPI_EXPORTED float cageLambdaScheduleOpGetSilence(MlirOperation op);
MLIR_CAPI_EXPORTED CageScheduleKind
cageLambdaScheduleOpGetKind(MlirOperation op);
MLIR_CAPI_EXPORTED MlirValue cageLambdaScheduleOpGetResult(MlirOperation op);

/*===----------------------------------------------------------------------===*
 * cage.adamw: %w1, %m1, %v1 = cage.adamw %w, %g, %m, %v, %lr, %t {...}
 *===----------------------------------------------------------------------===*/

MLIR_CAPI_EXPORTED bool cageOperationIsAAdamW(MlirOperation op);

/** The three results get the type ODS infers (that of the tensor operands,
 *  which must all have one type). The ODS defaults are β1 = 0.9,
 *  β2 = 0.95, ε = 1e-8, weight decay = 0.1. */
MLIR_CAPI_EXPORTED MlirOperation
cageAdamWOpCreate(MlirLocation loc, MlirValue w, MlirValue g, MlirValue m,
                  MlirValue v, MlirValue lr, MlirValue step, float beta1,
                  float beta2, float eps, float weightDecay);

MLIR_CAPI_EXPORTED MlirValue cageAdamWOpGetW(MlirOperation op);
MLIR_CAPI_EXPORTED MlirValue cageAdamWOpGetG(MlirOperation op);
MLIR_CAPI_EXPORTED MlirValue cageAdamWOpGetM(MlirOperation op);
MLIR_CAPI_EXPORTED MlirValue cageAdamWOpGetV(MlirOperation op);
MLIR_CAPI_EXPORTED MlirValue cageAdamWOpGetLr(MlirOperation op);
MLIR_CAPI_EXPORTED MlirValue cageAdamWOpGetStep(MlirOperation op);
MLIR_CAPI_EXPORTED float cageAdamWOpGetBeta1(MlirOperation op);
MLIR_CAPI_EXPORTED float cageAdamWOpGetBeta2(MlirOperation op);
MLIR_CAPI_EXPORTED float cageAdamWOpGetEps(MlirOperation op);
MLIR_CAPI_EXPORTED float cageAdamWOpGetWeightDecay(MlirOperation op);
MLIR_CAPI_EXPORTED MlirValue cageAdamWOpGetNewW(MlirOperation op);
MLIR_CAPI_EXPORTED MlirValue cageAdamWOpGetNewM(MlirOperation op);
MLIR_CAPI_EXPORTED MlirValue cageAdamWOpGetNewV(MlirOperation op);

/*===----------------------------------------------------------------------===*
 * cage.sgd: %w1, %b1 = cage.sgd %w, %g, %b, %lr {...}
 *===----------------------------------------------------------------------===*/

MLIR_CAPI_EXPORTED bool cageOperationIsASGD(MlirOperation op);

/** The two results get the type ODS infers (that of the tensor operands).
 *  The ODS defaults are 0, 0, false, 0 (torch's). */
MLIR_CAPI_EXPORTED MlirOperation cageSGDOpCreate(MlirLocation loc, MlirValue w,
                                                 MlirValue g, MlirValue b,
                                                 MlirValue lr, float momentum,
                                                 float dampening, bool nesterov,
                                                 float weightDecay);

MLIR_CAPI_EXPORTED MlirValue cageSGDOpGetW(MlirOperation op);
MLIR_CAPI_EXPORTED MlirValue cageSGDOpGetG(MlirOperation op);
MLIR_CAPI_EXPORTED MlirValue cageSGDOpGetB(MlirOperation op);
MLIR_CAPI_EXPORTED MlirValue cageSGDOpGetLr(MlirOperation op);
MLIR_CAPI_EXPORTED float cageSGDOpGetMomentum(MlirOperation op);
MLIR_CAPI_EXPORTED float cageSGDOpGetDampening(MlirOperation op);
MLIR_CAPI_EXPORTED bool cageSGDOpGetNesterov(MlirOperation op);
MLIR_CAPI_EXPORTED float cageSGDOpGetWeightDecay(MlirOperation op);
MLIR_CAPI_EXPORTED MlirValue cageSGDOpGetNewW(MlirOperation op);
MLIR_CAPI_EXPORTED MlirValue cageSGDOpGetNewB(MlirOperation op);

/*===----------------------------------------------------------------------===*
 * cage.update: %w1, %state1... = cage.update %w, %g, %state..., %lr, %l
 *              [, %t] [seed(%s)] {quantizer, optimizer, coupling, error}
 *===----------------------------------------------------------------------===*/

MLIR_CAPI_EXPORTED bool cageOperationIsAUpdate(MlirOperation op);

/** The number of state tensors `optimizer` keeps (2 for #cage.adamw: m, v;
 *  1 for #cage.sgd: b), or 0 when it is not an optimizer attribute. */
MLIR_CAPI_EXPORTED intptr_t cageUpdateOpGetNumStateFor(MlirAttribute optimizer);
/** Whether `optimizer` takes the step count t (#cage.adamw). */
MLIR_CAPI_EXPORTED bool cageUpdateOpNeedsStepFor(MlirAttribute optimizer);

/** `state` holds `numState` tensors (cageUpdateOpGetNumStateFor(optimizer)
 *  for the op to verify); `step` (AdamW) and `seed` (bf16 state) may be
 *  null (absent). Results: the new w, of the type of w, then one new state
 *  tensor per state tensor, of its type. */
MLIR_CAPI_EXPORTED MlirOperation cageUpdateOpCreate(
    MlirLocation loc, MlirValue w, MlirValue g, intptr_t numState,
    const MlirValue *state, MlirValue lr, MlirValue lambda, MlirValue step,
    MlirValue seed, MlirAttribute quantizer, MlirAttribute optimizer,
    CageCoupling coupling, CageErrorMode error);

MLIR_CAPI_EXPORTED MlirValue cageUpdateOpGetW(MlirOperation op);
/** The gradient g. */
MLIR_CAPI_EXPORTED MlirValue cageUpdateOpGetG(MlirOperation op);
MLIR_CAPI_EXPORTED intptr_t cageUpdateOpGetNumState(MlirOperation op);
/** State tensor `i` (m, v or b), or null when out of range. */
MLIR_CAPI_EXPORTED MlirValue cageUpdateOpGetState(MlirOperation op, intptr_t i);
MLIR_CAPI_EXPORTED MlirValue cageUpdateOpGetLr(MlirOperation op);
/** λ_t. */
MLIR_CAPI_EXPORTED MlirValue cageUpdateOpGetLambda(MlirOperation op);
/** The step t, or null when absent. */
MLIR_CAPI_EXPORTED MlirValue cageUpdateOpGetStep(MlirOperation op);
/** The seed of the stochastic rounding of bf16 state, or null when absent. */
MLIR_CAPI_EXPORTED MlirValue cageUpdateOpGetSeed(MlirOperation op);
MLIR_CAPI_EXPORTED MlirAttribute cageUpdateOpGetQuantizer(MlirOperation op);
/** #cage.adamw<...> or #cage.sgd<...>. */
MLIR_CAPI_EXPORTED MlirAttribute cageUpdateOpGetOptimizer(MlirOperation op);
MLIR_CAPI_EXPORTED CageCoupling cageUpdateOpGetCoupling(MlirOperation op);
MLIR_CAPI_EXPORTED CageErrorMode cageUpdateOpGetError(MlirOperation op);
MLIR_CAPI_EXPORTED MlirValue cageUpdateOpGetNewW(MlirOperation op);
MLIR_CAPI_EXPORTED intptr_t cageUpdateOpGetNumNewState(MlirOperation op);
/** New state tensor `i`, or null when out of range. */
MLIR_CAPI_EXPORTED MlirValue cageUpdateOpGetNewState(MlirOperation op,
                                                     intptr_t i);

/*===----------------------------------------------------------------------===*
 * cage.multi_update: %r:N(1+S) = cage.multi_update (%w, %g, %state...)...,
 *                    %lr [, %l] [, %t] {[quantizer,] optimizer, ...}
 *===----------------------------------------------------------------------===*/

MLIR_CAPI_EXPORTED bool cageOperationIsAMultiUpdate(MlirOperation op);

/** `numParams` parameters: parameter k has the tensors w[k], g[k] and
 *  state[k * numStatePerParam + j] for j < numStatePerParam (S, which is
 *  cageUpdateOpGetNumStateFor(optimizer) for the op to verify). `lambda`
 *  goes with a `quantizer`, `step` with AdamW; `quantizer`, `lambda` and
 *  `step` may be null (absent). Results: per parameter, 1 + S results of
 *  the type of w[k]. */
MLIR_CAPI_EXPORTED MlirOperation cageMultiUpdateOpCreate(
    MlirLocation loc, intptr_t numParams, const MlirValue *w,
    const MlirValue *g, intptr_t numStatePerParam, const MlirValue *state,
    MlirValue lr, MlirValue lambda, MlirValue step, MlirAttribute quantizer,
    MlirAttribute optimizer, CageCoupling coupling, CageErrorMode error);

/** The number of parameters N. */
MLIR_CAPI_EXPORTED intptr_t cageMultiUpdateOpGetNumParams(MlirOperation op);
/** The number of state tensors of each parameter, S (from the optimizer). */
MLIR_CAPI_EXPORTED intptr_t cageMultiUpdateOpGetNumParamState(MlirOperation op);
/** w of parameter k, or null when out of range. */
MLIR_CAPI_EXPORTED MlirValue cageMultiUpdateOpGetParamW(MlirOperation op,
                                                        intptr_t k);
/** g of parameter k, or null when out of range. */
MLIR_CAPI_EXPORTED MlirValue cageMultiUpdateOpGetParamG(MlirOperation op,
                                                        intptr_t k);
/** State tensor j of parameter k, or null when out of range. */
MLIR_CAPI_EXPORTED MlirValue cageMultiUpdateOpGetParamState(MlirOperation op,
                                                            intptr_t k,
                                                            intptr_t j);
/** The new w of parameter k, or null when out of range. */
MLIR_CAPI_EXPORTED MlirValue cageMultiUpdateOpGetParamNewW(MlirOperation op,
                                                           intptr_t k);
/** New state tensor j of parameter k, or null when out of range. */
MLIR_CAPI_EXPORTED MlirValue cageMultiUpdateOpGetParamNewState(MlirOperation op,
                                                               intptr_t k,
                                                               intptr_t j);
MLIR_CAPI_EXPORTED MlirValue cageMultiUpdateOpGetLr(MlirOperation op);
/** λ_t, or null when absent (no quantizer). */
MLIR_CAPI_EXPORTED MlirValue cageMultiUpdateOpGetLambda(MlirOperation op);
/** The step t, or null when absent (SGD). */
MLIR_CAPI_EXPORTED MlirValue cageMultiUpdateOpGetStep(MlirOperation op);
/** The quantizer, or a null attribute when absent (plain optimizer step). */
MLIR_CAPI_EXPORTED MlirAttribute
cageMultiUpdateOpGetQuantizer(MlirOperation op);
MLIR_CAPI_EXPORTED MlirAttribute
cageMultiUpdateOpGetOptimizer(MlirOperation op);
MLIR_CAPI_EXPORTED CageCoupling cageMultiUpdateOpGetCoupling(MlirOperation op);
MLIR_CAPI_EXPORTED CageErrorMode cageMultiUpdateOpGetError(MlirOperation op);

/*===----------------------------------------------------------------------===*
 * cage.fogzo_direction: %v:N, %eps = cage.fogzo_direction (%g, %w)...,
 *                       %t, %T {fogzo, quantizers}          (since API 1.1)
 *===----------------------------------------------------------------------===*/

MLIR_CAPI_EXPORTED bool cageOperationIsAFogzoDirection(MlirOperation op);

/** `numParams` parameters: parameter k has the tensors g[k] and w[k] and the
 *  quantizer quantizers[k] (a #cage.quantizer, or null for a parameter
 *  without a grid: `unit` in the op's `quantizers`). `fogzo` is a
 *  #cage.fogzo. Results: per parameter its direction v, of the type of
 *  g[k], then ε (f32). */
MLIR_CAPI_EXPORTED MlirOperation cageFogzoDirectionOpCreate(
    MlirLocation loc, intptr_t numParams, const MlirValue *g,
    const MlirValue *w, MlirValue step, MlirValue total, MlirAttribute fogzo,
    const MlirAttribute *quantizers);

/** The number of parameters N. */
MLIR_CAPI_EXPORTED intptr_t cageFogzoDirectionOpGetNumParams(MlirOperation op);
/** g of parameter k, or null when out of range. */
MLIR_CAPI_EXPORTED MlirValue cageFogzoDirectionOpGetParamG(MlirOperation op,
                                                           intptr_t k);
/** w of parameter k, or null when out of range. */
MLIR_CAPI_EXPORTED MlirValue cageFogzoDirectionOpGetParamW(MlirOperation op,
                                                           intptr_t k);
/** The quantizer of parameter k; null for `unit` and when out of range. */
MLIR_CAPI_EXPORTED MlirAttribute
cageFogzoDirectionOpGetParamQuantizer(MlirOperation op, intptr_t k);
/** The direction v of parameter k, or null when out of range. */
MLIR_CAPI_EXPORTED MlirValue cageFogzoDirectionOpGetDirection(MlirOperation op,
                                                              intptr_t k);
MLIR_CAPI_EXPORTED MlirValue cageFogzoDirectionOpGetEpsilon(MlirOperation op);
MLIR_CAPI_EXPORTED MlirValue cageFogzoDirectionOpGetStep(MlirOperation op);
MLIR_CAPI_EXPORTED MlirValue cageFogzoDirectionOpGetTotal(MlirOperation op);
MLIR_CAPI_EXPORTED MlirAttribute cageFogzoDirectionOpGetFogzo(MlirOperation op);

#ifdef __cplusplus
}
#endif

#endif /* CAGE_C_DIALECT_CAGEOPS_H */
