/*===- cage/Dialect/Cage/Transforms/Passes.h - cage passes --------*- C -*-===*\
|*                                                                            *|
|* The definitions of the passes on the cage dialect, for lib/CAPI to create *|
|* and register. Each is documented in docs/Passes.md.                       *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef CAGE_DIALECT_CAGE_TRANSFORMS_PASSES_H
#define CAGE_DIALECT_CAGE_TRANSFORMS_PASSES_H

#include "cage/Pass/PassDefinition.h"

#ifdef __cplusplus
extern "C" {
#endif

extern const CagePassDefinition cageVerifyPass;
extern const CagePassDefinition cageAutodiffPass;
extern const CagePassDefinition cageFuseCorrectionPass;
extern const CagePassDefinition cageExpandUpdatePass;
extern const CagePassDefinition cageFuseMultiTensorPass;

#ifdef __cplusplus
}
#endif

#endif /* CAGE_DIALECT_CAGE_TRANSFORMS_PASSES_H */
