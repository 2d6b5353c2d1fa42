/*===- cage/Conversion/Passes.h - cage conversion passes ----------*- C -*-===*\
|*                                                                            *|
|* The definitions of the passes that lower the cage dialect, for lib/CAPI   *|
|* to create and register. Each is documented in docs/Passes.md.            *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef CAGE_CONVERSION_PASSES_H
#define CAGE_CONVERSION_PASSES_H

#include "cage/Pass/PassDefinition.h"

#ifdef __cplusplus
extern "C" {
#endif

extern const CagePassDefinition cageLowerToLinalgPass;
extern const CagePassDefinition cageConvertMathToArithPass;

#ifdef __cplusplus
}
#endif

#endif /* CAGE_CONVERSION_PASSES_H */
