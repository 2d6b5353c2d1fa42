/*===- cage-c/Dialect/Cage.h - C API of the cage dialect ----------*- C -*-===*\
|*                                                                            *|
|* The dialect handle, and constructors and accessors of the cage attributes *|
|* in the style of the MLIR C API: opaque handles, values in, null attribute *|
|* out on invalid parameters (with a diagnostic on the context).             *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef CAGE_C_DIALECT_CAGE_H
#define CAGE_C_DIALECT_CAGE_H

#include "cage-c/Dialect/CageEnums.h"
#include "mlir-c/IR.h"
#include "mlir-c/Support.h"

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

MLIR_DECLARE_CAPI_DIALECT_REGISTRATION(Cage, cage);

/*===----------------------------------------------------------------------===*
 * #cage.quantizer
 *===----------------------------------------------------------------------===*/

/** Returns `#cage.quantizer<...>`, or a null attribute (and emits an error on
 *  the context) when the parameters are invalid. */
MLIR_CAPI_EXPORTED MlirAttribute cageQuantizerAttrGet(
    MlirContext ctx, int64_t bits, CageGranularity granularity,
    int64_t groupSize, CageScaleKind scale, CageLevels levels,
    CageRotation rotation, int64_t block, CageRounding rounding);

/** Returns `#cage.quantizer<bits = bits>` with every other parameter at its
 *  default, or a null attribute when `bits` is invalid. */
MLIR_CAPI_EXPORTED MlirAttribute cageQuantizerAttrGetDefault(MlirContext ctx,
                                                             int64_t bits);

MLIR_CAPI_EXPORTED bool cageAttributeIsAQuantizer(MlirAttribute attr);
MLIR_CAPI_EXPORTED int64_t cageQuantizerAttrGetBits(MlirAttribute attr);
MLIR_CAPI_EXPORTED CageGranularity
cageQuantizerAttrGetGranularity(MlirAttribute attr);
MLIR_CAPI_EXPORTED int64_t cageQuantizerAttrGetGroupSize(MlirAttribute attr);
MLIR_CAPI_EXPORTED CageScaleKind cageQuantizerAttrGetScale(MlirAttribute attr);
MLIR_CAPI_EXPORTED CageLevels cageQuantizerAttrGetLevels(MlirAttribute attr);
MLIR_CAPI_EXPORTED CageRotation
cageQuantizerAttrGetRotation(MlirAttribute attr);
MLIR_CAPI_EXPORTED int64_t cageQuantizerAttrGetBlock(MlirAttribute attr);
MLIR_CAPI_EXPORTED CageRounding
cageQuantizerAttrGetRounding(MlirAttribute attr);

/*===----------------------------------------------------------------------===*
 * #cage.adamw and #cage.sgd
 *===----------------------------------------------------------------------===*/

/** Returns `#cage.adamw<...>`, or a null attribute when a parameter is out of
 *  range (0 <= beta < 1, eps > 0, weightDecay >= 0). */
MLIR_CAPI_EXPORTED MlirAttribute cageAdamWAttrGet(MlirContext ctx, float beta1,
                                                  float beta2, float eps,
                                                  float weightDecay);
MLIR_CAPI_EXPORTED bool cageAttributeIsAAdamW(MlirAttribute attr);
MLIR_CAPI_EXPORTED float cageAdamWAttrGetBeta1(MlirAttribute attr);
MLIR_CAPI_EXPORTED float cageAdamWAttrGetBeta2(MlirAttribute attr);
MLIR_CAPI_EXPORTED float cageAdamWAttrGetEps(MlirAttribute attr);
MLIR_CAPI_EXPORTED float cageAdamWAttrGetWeightDecay(MlirAttribute attr);

/** Returns `#cage.sgd<...>`, or a null attribute when a parameter is out of
 *  range (momentum >= 0, 0 <= dampening <= 1, weightDecay >= 0; nesterov
 *  needs momentum > 0 and dampening = 0). */
MLIR_CAPI_EXPORTED MlirAttribute cageSGDAttrGet(MlirContext ctx, float momentum,
                                                float dampening, bool nesterov,
                                                float weightDecay);
MLIR_CAPI_EXPORTED bool cageAttributeIsASGD(MlirAttribute attr);
MLIR_CAPI_EXPORTED float cageSGDAttrGetMomentum(MlirAttribute attr);
MLIR_CAPI_EXPORTED float cageSGDAttrGetDampening(MlirAttribute attr);
MLIR_CAPI_EXPORTED bool cageSGDAttrGetNesterov(MlirAttribute attr);
MLIR_CAPI_EXPORTED float cageSGDAttrGetWeightDecay(MlirAttribute attr);

/*===----------------------------------------------------------------------===*
 * #cage.param, the argument attribute of a trained parameter (cage-autodiff)
 *===----------------------------------------------------------------------===*/

/** The name of the argument attribute that marks a parameter: "cage.param". */
#define CAGE_PARAM_ATTR_NAME "cage.param"

/** Returns `#cage.param<...>`, or a null attribute (and emits an error on the
 *  context) when the parameters are invalid. `optimizer` is a #cage.adamw or
 *  #cage.sgd attribute, or null for `#cage.adamw<>`; `quantizer` is the
 *  correction's #cage.quantizer, or null for the forward's. */
MLIR_CAPI_EXPORTED MlirAttribute
cageParamAttrGet(MlirContext ctx, MlirAttribute optimizer, bool cage,
                 MlirAttribute quantizer, CageCoupling coupling,
                 CageErrorMode error, float lambda, float silence,
                 CageScheduleKind schedule, CageEstimator estimator);

/** Returns `#cage.param<>`: AdamW and the CAGE correction at the paper's
 *  defaults, the clipped straight-through estimator. */
MLIR_CAPI_EXPORTED MlirAttribute cageParamAttrGetDefault(MlirContext ctx);

MLIR_CAPI_EXPORTED bool cageAttributeIsAParam(MlirAttribute attr);
/** The optimizer attribute; `#cage.adamw<>` when none was given. */
MLIR_CAPI_EXPORTED MlirAttribute cageParamAttrGetOptimizer(MlirAttribute attr);
MLIR_CAPI_EXPORTED bool cageParamAttrGetCage(MlirAttribute attr);
/** The correction's quantizer, null when none was given. */
MLIR_CAPI_EXPORTED MlirAttribute cageParamAttrGetQuantizer(MlirAttribute attr);
MLIR_CAPI_EXPORTED CageCoupling cageParamAttrGetCoupling(MlirAttribute attr);
MLIR_CAPI_EXPORTED CageErrorMode cageParamAttrGetError(MlirAttribute attr);
MLIR_CAPI_EXPORTED float cageParamAttrGetLambda(MlirAttribute attr);
MLIR_CAPI_EXPORTED float cageParamAttrGetSilence(MlirAttribute attr);
MLIR_CAPI_EXPORTED CageScheduleKind
cageParamAttrGetSchedule(MlirAttribute attr);
MLIR_CAPI_EXPORTED CageEstimator cageParamAttrGetEstimator(MlirAttribute attr);
/** The #cage.fogzo of a FOGZO parameter, null for a straight-through one. */
MLIR_CAPI_EXPORTED MlirAttribute cageParamAttrGetFogzo(MlirAttribute attr);
/** `param` (a #cage.param) with its `fogzo` set to `fogzo` (a #cage.fogzo,
 *  or null for none), or a null attribute (and an error on the context) when
 *  the result would be invalid. Since API 1.1. */
MLIR_CAPI_EXPORTED MlirAttribute cageParamAttrGetWithFogzo(MlirAttribute param,
                                                           MlirAttribute fogzo);

/*===----------------------------------------------------------------------===*
 * #cage.fogzo, the settings of FOGZO (docs/Semantics.md §1.6)
 *===----------------------------------------------------------------------===*/

/** Returns `#cage.fogzo<...>`, or a null attribute (and emits an error on the
 *  context) when a setting is out of range. epsilon = 0 derives ε from the
 *  grid; direction scales the straight-through part of v. Since API 1.1. */
MLIR_CAPI_EXPORTED MlirAttribute cageFogzoAttrGet(MlirContext ctx,
                                                  float betaMin, float start,
                                                  int64_t seed, float epsilon,
                                                  CageFogzoDirection direction);
MLIR_CAPI_EXPORTED bool cageAttributeIsAFogzo(MlirAttribute attr);
MLIR_CAPI_EXPORTED float cageFogzoAttrGetBetaMin(MlirAttribute attr);
MLIR_CAPI_EXPORTED float cageFogzoAttrGetStart(MlirAttribute attr);
MLIR_CAPI_EXPORTED int64_t cageFogzoAttrGetSeed(MlirAttribute attr);
MLIR_CAPI_EXPORTED float cageFogzoAttrGetEpsilon(MlirAttribute attr);
MLIR_CAPI_EXPORTED CageFogzoDirection
cageFogzoAttrGetDirection(MlirAttribute attr);

/*===----------------------------------------------------------------------===*
 * Enum attributes of ops (`estimator`, `error`, `coupling`, `kind`)
 *===----------------------------------------------------------------------===*/

MLIR_CAPI_EXPORTED MlirAttribute cageEstimatorAttrGet(MlirContext ctx,
                                                      CageEstimator value);
MLIR_CAPI_EXPORTED bool cageAttributeIsAEstimator(MlirAttribute attr);
MLIR_CAPI_EXPORTED CageEstimator cageEstimatorAttrGetValue(MlirAttribute attr);

MLIR_CAPI_EXPORTED MlirAttribute cageErrorModeAttrGet(MlirContext ctx,
                                                      CageErrorMode value);
MLIR_CAPI_EXPORTED bool cageAttributeIsAErrorMode(MlirAttribute attr);
MLIR_CAPI_EXPORTED CageErrorMode cageErrorModeAttrGetValue(MlirAttribute attr);

MLIR_CAPI_EXPORTED MlirAttribute cageCouplingAttrGet(MlirContext ctx,
                                                     CageCoupling value);
MLIR_CAPI_EXPORTED bool cageAttributeIsACoupling(MlirAttribute attr);
MLIR_CAPI_EXPORTED CageCoupling cageCouplingAttrGetValue(MlirAttribute attr);

MLIR_CAPI_EXPORTED MlirAttribute
cageScheduleKindAttrGet(MlirContext ctx, CageScheduleKind value);
MLIR_CAPI_EXPORTED bool cageAttributeIsAScheduleKind(MlirAttribute attr);
MLIR_CAPI_EXPORTED CageScheduleKind
cageScheduleKindAttrGetValue(MlirAttribute attr);

#ifdef __cplusplus
}
#endif

#endif /* CAGE_C_DIALECT_CAGE_H */
