/*===- Script.h - Transform-dialect scripts built as text -----------------===*\
|*                                                                            *|
|* cage-cpu-tile and cage-cpu-tile-contractions write a transform-dialect     *|
|* named sequence as text (the C API has no builders for transform ops),     *|
|* parse it and apply it to the module they run on.                          *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef CAGE_LIB_TARGET_CPU_SCRIPT_H
#define CAGE_LIB_TARGET_CPU_SCRIPT_H

#include "cage/Pass/PassDefinition.h"

#include "mlir-c/IR.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A growable string; `failed` is set when memory ran out. Zero-initialize,
 * free `data` when done. */
typedef struct CageScript {
  char *data;
  size_t length, capacity;
  bool failed;
} CageScript;

void cageScriptPrintf(CageScript *s, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

/* "[a, b, c]" of `rank` sizes. */
void cageScriptSizes(CageScript *s, const int64_t *sizes, intptr_t rank);

/* `n` comma-separated "!transform.any_op". */
void cageScriptAnyOps(CageScript *s, intptr_t n);

/* Parses the module `script` (its first op: the named sequence), applies
 * it to `root` and frees the text. A script that does not parse or memory
 * that ran out is an internal error reported at `root` in the name of
 * `passName`; the interpreter reports its own failures. Failure signals the
 * pass and returns false. */
bool cageScriptApply(CageScript *script, MlirOperation root,
                     const char *passName, CagePassHandle pass);

#endif /* CAGE_LIB_TARGET_CPU_SCRIPT_H */
