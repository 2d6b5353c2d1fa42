/*===- Signature.c - The C view of function signatures --------------------===*/

#include "Tool.h"

#include "IR/Text.h"

#include "mlir-c/BuiltinAttributes.h"
#include "mlir-c/BuiltinTypes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*===----------------------------------------------------------------------===*
 * Types
 *===----------------------------------------------------------------------===*/

void toolTypeString(MlirType type, char *buf, size_t size) {
  if (size == 0)
    return;
  CageText text = cageTextOver(buf, size);
  mlirTypePrint(type, cageTextAppend, &text);
}

size_t toolElementSize(ToolElement element) {
  switch (element) {
  case ToolI1:
  case ToolI8:
    return 1;
  case ToolF16:
  case ToolBF16:
  case ToolI16:
    return 2;
  case ToolF32:
  case ToolI32:
    return 4;
  case ToolF64:
  case ToolI64:
  case ToolIndex:
    return 8;
  }
  return 0;
}

const char *toolElementName(ToolElement element) {
  return cageCPUElementTypeGetName(element);
}

bool toolDescribeType(MlirType type, ToolValueType *result, char *why,
                      size_t whySize) {
  memset(result, 0, sizeof *result);
  CageText reason = cageTextOver(why, whySize);
  CageCPUValueType t;
  if (!cageCPUValueTypeGet(type, &t, cageTextAppend, &reason))
    return false;
  if (t.shaped) {
    result->shape = malloc(sizeof(int64_t) * (t.rank > 0 ? (size_t)t.rank : 1));
    if (!result->shape) {
      snprintf(why, whySize, "out of memory");
      return false;
    }
  }
  result->shaped = t.shaped;
  result->isTensor = t.isTensor;
  result->element = t.element;
  result->rank = (int)t.rank; /* cageCPUValueTypeGet bounds it */
  for (int i = 0; i < result->rank; ++i)
    result->shape[i] = mlirShapedTypeIsDynamicDim(type, i)
                           ? -1
                           : mlirShapedTypeGetDimSize(type, i);
  return true;
}

void toolValueTypeFree(ToolValueType *type) {
  free(type->shape);
  type->shape = NULL;
}

size_t toolValueSize(const ToolValueType *type) {
  if (type->shaped)
    return 8 * (3 + 2 * (size_t)type->rank);
  return toolElementSize(type->element);
}

size_t toolValueAlign(const ToolValueType *type) {
  if (type->shaped)
    return 8;
  return toolElementSize(type->element);
}

/*===----------------------------------------------------------------------===*
 * Functions
 *===----------------------------------------------------------------------===*/

bool toolOpIs(MlirOperation op, const char *name) {
  return mlirStringRefEqual(mlirIdentifierStr(mlirOperationGetName(op)),
                            cageStr(name));
}

bool toolIsPublicFunction(MlirOperation op) {
  if (!toolOpIs(op, "func.func"))
    return false;
  MlirAttribute vis =
      mlirOperationGetAttributeByName(op, cageStr("sym_visibility"));
  if (!mlirAttributeIsNull(vis) &&
      !mlirStringRefEqual(mlirStringAttrGetValue(vis), cageStr("public")))
    return false;
  return !mlirBlockIsNull(
      mlirRegionGetFirstBlock(mlirOperationGetRegion(op, 0)));
}

MlirType toolFunctionType(MlirOperation func) {
  return mlirTypeAttrGetValue(
      mlirOperationGetAttributeByName(func, cageStr("function_type")));
}

MlirStringRef toolFunctionName(MlirOperation func) {
  return mlirStringAttrGetValue(mlirOperationGetAttributeByName(
      func, mlirSymbolTableGetSymbolAttributeName()));
}

MlirOperation toolLookupEntry(MlirModule module, ToolDiagnostics *diagnostics,
                              const char *name) {
  MlirOperation none = {NULL};
  MlirSymbolTable table = mlirSymbolTableCreate(mlirModuleGetOperation(module));
  MlirOperation op = mlirSymbolTableLookup(table, cageStr(name));
  mlirSymbolTableDestroy(table);
  if (mlirOperationIsNull(op)) {
    toolError(diagnostics, "no function named '%s' in '%s'", name,
              diagnostics->file);
    return none;
  }
  if (!toolOpIs(op, "func.func")) {
    toolError(diagnostics, "'%s' is not a func.func", name);
    return none;
  }
  if (mlirBlockIsNull(mlirRegionGetFirstBlock(mlirOperationGetRegion(op, 0)))) {
    toolError(diagnostics, "function '%s' is a declaration (it has no body)",
              name);
    return none;
  }
  if (!toolIsPublicFunction(op)) {
    toolError(diagnostics,
              "function '%s' is private: only public functions get a C "
              "interface",
              name);
    return none;
  }
  return op;
}

MlirOperation toolOnlyPublicFunction(MlirModule module,
                                     ToolDiagnostics *diagnostics) {
  MlirOperation only = {NULL};
  int count = 0;
  char names[1024] = "";
  size_t length = 0;
  for (MlirOperation op = mlirBlockGetFirstOperation(mlirModuleGetBody(module));
       !mlirOperationIsNull(op); op = mlirOperationGetNextInBlock(op)) {
    if (!toolIsPublicFunction(op))
      continue;
    only = op;
    MlirStringRef name = toolFunctionName(op);
    if (length + name.length + 8 < sizeof names)
      length +=
          (size_t)snprintf(names + length, sizeof names - length, "%s%.*s",
                           count ? ", " : "", (int)name.length, name.data);
    else if (length + 8 < sizeof names)
      length +=
          (size_t)snprintf(names + length, sizeof names - length, ", ...");
    ++count;
  }
  if (count == 1)
    return only;
  if (count == 0)
    toolError(diagnostics,
              "'%s' has no public function to call (private functions and "
              "declarations get no C interface)",
              diagnostics->file);
  else
    toolError(diagnostics,
              "'%s' has %d public functions: choose one with --entry (%s)",
              diagnostics->file, count, names);
  return (MlirOperation){NULL};
}
