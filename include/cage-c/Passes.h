/*===- cage-c/Passes.h - Creating and registering cage passes -----*- C -*-===*\
|*                                                                            *|
|* Each cage pass has a create function (an owned MlirPass with default      *|
|* options, for mlirPassManagerAddOwnedPass) and a register function (makes  *|
|* its argument known to textual pipelines, `name{option=value}` included).  *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef CAGE_C_PASSES_H
#define CAGE_C_PASSES_H

#include "mlir-c/Pass.h"
#include "mlir-c/Support.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Registers every cage pass (idempotent). */
MLIR_CAPI_EXPORTED void cageRegisterPasses(void);

/** cage-verify: whole-function checks of cage ops (on func.func). */
MLIR_CAPI_EXPORTED MlirPass cageCreateVerifyPass(void);
MLIR_CAPI_EXPORTED void cageRegisterVerifyPass(void);

/** cage-autodiff: for every function whose arguments are marked
 *  `cage.param`, the training step <name>_train_step (and
 *  <name>_train_step_inplace, and with `gradients` <name>_grad): forward,
 *  reverse-mode backward, one cage.update per parameter (on
 *  builtin.module). */
MLIR_CAPI_EXPORTED MlirPass cageCreateAutodiffPass(void);
MLIR_CAPI_EXPORTED void cageRegisterAutodiffPass(void);

/** cage-fuse-correction: the unfused spellings of a CAGE step
 *  (cage.quant_error, the correction, cage.adamw/cage.sgd) to one
 *  cage.update (on func.func). */
MLIR_CAPI_EXPORTED MlirPass cageCreateFuseCorrectionPass(void);
MLIR_CAPI_EXPORTED void cageRegisterFuseCorrectionPass(void);

/** cage-expand-update: each cage.update to its unfused spelling, the
 *  inverse of cage-fuse-correction (on func.func). */
MLIR_CAPI_EXPORTED MlirPass cageCreateExpandUpdatePass(void);
MLIR_CAPI_EXPORTED void cageRegisterExpandUpdatePass(void);

/** cage-fuse-multi-tensor: the updates of a function that share their
 *  hyper-parameters to one cage.multi_update (on func.func). */
MLIR_CAPI_EXPORTED MlirPass cageCreateFuseMultiTensorPass(void);
MLIR_CAPI_EXPORTED void cageRegisterFuseMultiTensorPass(void);

/** cage-lower-to-linalg: every cage op to linalg/tensor/arith/math on
 *  tensors (on func.func). */
MLIR_CAPI_EXPORTED MlirPass cageCreateLowerToLinalgPass(void);
MLIR_CAPI_EXPORTED void cageRegisterLowerToLinalgPass(void);

/** cage-convert-math-to-arith: math.exp and math.erf of f32 scalars as
 *  cage's own polynomials in arith ops (docs/Semantics.md §1.7; any op). */
MLIR_CAPI_EXPORTED MlirPass cageCreateConvertMathToArithPass(void);
MLIR_CAPI_EXPORTED void cageRegisterConvertMathToArithPass(void);

#ifdef __cplusplus
}
#endif

#endif /* CAGE_C_PASSES_H */
