/*===- cage-c/Dialect/CageEnums.h - Enums of the cage dialect -----*- C -*-===*\
|*                                                                            *|
|* The C enums of the cage dialect's parameters, with no MLIR dependency, so *|
|* that code which never touches MLIR (the reference implementation, test    *|
|* drivers, the runtime) names them the same way the C API does.            *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef CAGE_C_DIALECT_CAGEENUMS_H
#define CAGE_C_DIALECT_CAGEENUMS_H

#ifdef __cplusplus
extern "C" {
#endif

/* Each enum matches its ODS enum in cage/Dialect/Cage/IR/CageAttrs.td. */

typedef enum CageGranularity {
  CageGranularityTensor = 0,
  CageGranularityRow = 1,
  CageGranularityGroup = 2,
} CageGranularity;

typedef enum CageScaleKind {
  CageScaleKindAbsmax = 0,
  CageScaleKindRmsGaussian = 1,
  CageScaleKindOperand = 2,
} CageScaleKind;

typedef enum CageLevels {
  CageLevelsInt = 0,
  CageLevelsCentered = 1,
} CageLevels;

typedef enum CageRotation {
  CageRotationNone = 0,
  CageRotationHadamard = 1,
} CageRotation;

typedef enum CageRounding {
  CageRoundingNearest = 0,
  CageRoundingStochastic = 1,
} CageRounding;

typedef enum CageEstimator {
  CageEstimatorIdentity = 0,
  CageEstimatorClipped = 1,
} CageEstimator;

typedef enum CageErrorMode {
  CageErrorModeKeep = 0,
  CageErrorModeZeroClipped = 1,
} CageErrorMode;

typedef enum CageCoupling {
  CageCouplingCoupled = 0,
  CageCouplingDecoupled = 1,
} CageCoupling;

typedef enum CageFogzoDirection {
  CageFogzoDirectionUnitNorm = 0,
  CageFogzoDirectionUnitRms = 1,
} CageFogzoDirection;

typedef enum CageScheduleKind {
  CageScheduleKindLinearRamp = 0,
  CageScheduleKindConstant = 1,
} CageScheduleKind;

#ifdef __cplusplus
}
#endif

#endif /* CAGE_C_DIALECT_CAGEENUMS_H */
