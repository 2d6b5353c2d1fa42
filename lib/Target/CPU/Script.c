/*===- Script.c - Transform-dialect scripts built as text -----------------===*/

#include "Script.h"

#include "mlir-c/BuiltinAttributes.h"
#include "mlir-c/Diagnostics.h"
#include "mlir-c/Dialect/Transform/Interpreter.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

void cageScriptPrintf(CageScript *s, const char *format, ...) {
  for (;;) {
    va_list args;
    va_start(args, format);
    size_t room = s->capacity - s->length;
    int n = vsnprintf(s->data ? s->data + s->length : NULL, s->data ? room : 0,
                      format, args);
    va_end(args);
    if (n < 0) {
      s->failed = true;
      return;
    }
    if (s->data && (size_t)n < room) {
      s->length += (size_t)n;
      return;
    }
    size_t capacity = s->capacity ? s->capacity * 2 : 4096;
    while (capacity - s->length <= (size_t)n)
      capacity *= 2;
    char *data = realloc(s->data, capacity);
    if (!data) {
      s->failed = true;
      return;
    }
    s->data = data;
    s->capacity = capacity;
  }
}

void cageScriptSizes(CageScript *s, const int64_t *sizes, intptr_t rank) {
  cageScriptPrintf(s, "[");
  for (intptr_t i = 0; i < rank; ++i)
    cageScriptPrintf(s, i ? ", %lld" : "%lld", (long long)sizes[i]);
  cageScriptPrintf(s, "]");
}

void cageScriptAnyOps(CageScript *s, intptr_t n) {
  for (intptr_t i = 0; i < n; ++i)
    cageScriptPrintf(s, i ? ", !transform.any_op" : "!transform.any_op");
}

static void fail(MlirOperation root, const char *passName, const char *what,
                 CagePassHandle pass) {
  char message[256];
  snprintf(message, sizeof message, "%s: %s", passName, what);
  mlirEmitError(mlirOperationGetLocation(root), message);
  cagePassSignalFailure(pass);
}

bool cageScriptApply(CageScript *script, MlirOperation root,
                     const char *passName, CagePassHandle pass) {
  if (script->failed) {
    free(script->data);
    *script = (CageScript){0};
    fail(root, passName, "out of memory", pass);
    return false;
  }
  MlirModule transforms =
      mlirModuleCreateParse(mlirOperationGetContext(root),
                            mlirStringRefCreate(script->data, script->length));
  free(script->data);
  *script = (CageScript){0};
  if (mlirModuleIsNull(transforms)) {
    fail(root, passName,
         "internal error: the generated transform script does not parse", pass);
    return false;
  }
  MlirOperation sequence =
      mlirBlockGetFirstOperation(mlirModuleGetBody(transforms));
  MlirTransformOptions options = mlirTransformOptionsCreate();
  MlirLogicalResult result = mlirTransformApplyNamedSequence(
      root, sequence, mlirModuleGetOperation(transforms), options);
  mlirTransformOptionsDestroy(options);
  mlirModuleDestroy(transforms);
  if (mlirLogicalResultIsFailure(result)) {
    cagePassSignalFailure(pass); /* the interpreter has said why */
    return false;
  }
  return true;
}
