/*===- Signature.c - The C view of function signatures --------------------===*/

#include "Tool.h"

#include "IR/Text.h"

#include "mlir-c/AffineMap.h"
#include "mlir-c/BuiltinAttributes.h"
#include "mlir-c/BuiltinTypes.h"

#include <ctype.h>
#include <limits.h>
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
  static const char *names[] = {"f16", "bf16", "f32", "f64", "i1",
                                "i8",  "i16",  "i32", "i64", "index"};
  return names[element];
}

const char *toolElementCType(ToolElement element) {
  static const char *names[] = {"uint16_t", "uint16_t", "float",   "double",
                                "bool",     "int8_t",   "int16_t", "int32_t",
                                "int64_t",  "int64_t"};
  return names[element];
}

static bool describeElement(MlirType t, ToolElement *e) {
  if (mlirTypeIsAF16(t))
    *e = ToolF16;
  else if (mlirTypeIsABF16(t))
    *e = ToolBF16;
  else if (mlirTypeIsAF32(t))
    *e = ToolF32;
  else if (mlirTypeIsAF64(t))
    *e = ToolF64;
  else if (mlirTypeIsAIndex(t))
    *e = ToolIndex;
  else if (mlirTypeIsAInteger(t) && mlirIntegerTypeIsSignless(t)) {
    switch (mlirIntegerTypeGetWidth(t)) {
    case 1:
      *e = ToolI1;
      break;
    case 8:
      *e = ToolI8;
      break;
    case 16:
      *e = ToolI16;
      break;
    case 32:
      *e = ToolI32;
      break;
    case 64:
      *e = ToolI64;
      break;
    default:
      return false;
    }
  } else
    return false;
  return true;
}

bool toolDescribeType(MlirType type, ToolValueType *result, char *why,
                      size_t whySize) {
  memset(result, 0, sizeof *result);
  if (!mlirTypeIsAShaped(type)) {
    if (describeElement(type, &result->element))
      return true;
    snprintf(why, whySize, "unsupported scalar type");
    return false;
  }
  bool tensor = mlirTypeIsATensor(type), memref = mlirTypeIsAMemRef(type);
  if (!tensor && !memref) {
    snprintf(why, whySize, "only tensors, memrefs and scalars are supported");
    return false;
  }
  if (!mlirShapedTypeHasRank(type)) {
    snprintf(why, whySize, "unranked types are not supported");
    return false;
  }
  if (tensor && !mlirAttributeIsNull(mlirRankedTensorTypeGetEncoding(type))) {
    snprintf(why, whySize, "tensors with an encoding are not supported");
    return false;
  }
  if (memref) {
    MlirAttribute space = mlirMemRefTypeGetMemorySpace(type);
    if (!mlirAttributeIsNull(space)) {
      snprintf(why, whySize, "memrefs in a memory space are not supported");
      return false;
    }
    if (!mlirAffineMapIsIdentity(mlirMemRefTypeGetAffineMap(type))) {
      snprintf(why, whySize,
               "memrefs with a non-identity layout are not supported");
      return false;
    }
  }
  if (!describeElement(mlirShapedTypeGetElementType(type), &result->element)) {
    snprintf(why, whySize, "unsupported element type");
    return false;
  }
  /* Any rank: the descriptor has 3 + 2 * rank words. */
  int64_t rank = mlirShapedTypeGetRank(type);
  if (rank < 0 || (uint64_t)rank > INT_MAX / 2 - 2) {
    snprintf(why, whySize, "rank %lld is too large", (long long)rank);
    return false;
  }
  result->shape = malloc(sizeof(int64_t) * (rank > 0 ? (size_t)rank : 1));
  if (!result->shape) {
    snprintf(why, whySize, "out of memory");
    return false;
  }
  result->shaped = true;
  result->isTensor = tensor;
  result->rank = (int)rank;
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

/*===----------------------------------------------------------------------===*
 * Argument names
 *===----------------------------------------------------------------------===*/

/* Identifiers a parameter of the header cannot have: C11 and C++ keywords
 * (the header is C and C++; _Bool and the like are reserved names, below),
 * the macros of stdbool.h, and `result`, the parameter the header adds for
 * results. */
/* clang-format off */
static const char *const reserved[] = {
    "alignas", "alignof", "and", "asm", "auto", "bool", "break", "case",
    "catch", "char", "class", "const", "constexpr", "const_cast", "continue",
    "decltype", "default", "delete", "do", "double", "dynamic_cast", "else",
    "enum", "explicit", "export", "extern", "false", "float", "for", "friend",
    "goto", "if", "inline", "int", "long", "mutable", "namespace", "new",
    "noexcept", "not", "nullptr", "operator", "or", "private", "protected",
    "public", "register", "reinterpret_cast", "restrict", "result", "return",
    "short", "signed", "sizeof", "static", "static_assert", "static_cast",
    "struct", "switch", "template", "this", "thread_local", "throw", "true",
    "try", "typedef", "typeid", "typename", "union", "unsigned", "using",
    "virtual", "void", "volatile", "wchar_t", "while", "xor",
};
/* clang-format on */

/* Whether `name` can be a parameter of the header: a C identifier that is
 * not a keyword, not reserved to the implementation (_X, __x) and not in
 * the header's own namespace (cage_..., the descriptor types). */
static bool isParameterName(const char *name) {
  if (!isalpha((unsigned char)name[0]) && name[0] != '_')
    return false;
  for (const char *p = name; *p; ++p)
    if (!isalnum((unsigned char)*p) && *p != '_')
      return false;
  if (name[0] == '_' && (name[1] == '_' || isupper((unsigned char)name[1])))
    return false;
  if (strncmp(name, "cage_", 5) == 0)
    return false;
  for (size_t i = 0; i < sizeof reserved / sizeof *reserved; ++i)
    if (strcmp(name, reserved[i]) == 0)
      return false;
  return true;
}

/* The SSA name at `loc` in the input text: the parser gives each argument
 * of a function the location of its `%name` in the signature. */
static bool sourceName(MlirLocation loc, const ToolInput *input, char *name,
                       size_t size) {
  if (!input->text || !mlirLocationIsAFileLineColRange(loc))
    return false;
  MlirStringRef file =
      mlirIdentifierStr(mlirLocationFileLineColRangeGetFilename(loc));
  if (!mlirStringRefEqual(file, cageStr(input->path)))
    return false; /* bytecode, or a location from elsewhere (loc(...)) */
  int line = mlirLocationFileLineColRangeGetStartLine(loc);
  int column = mlirLocationFileLineColRangeGetStartColumn(loc);
  const char *p = input->text, *end = input->text + input->length;
  for (int l = 1; l < line && p < end; ++l) {
    p = memchr(p, '\n', (size_t)(end - p));
    p = p ? p + 1 : end;
  }
  if (line < 1 || column < 1 || (size_t)(end - p) <= (size_t)column)
    return false;
  p += column - 1;
  if (*p++ != '%')
    return false;
  size_t n = 0;
  while (p + n < end && (isalnum((unsigned char)p[n]) ||
                         (p[n] != '\0' && strchr("_$.-", p[n]) != NULL)))
    ++n;
  if (n == 0 || n >= size)
    return false;
  memcpy(name, p, n);
  name[n] = '\0';
  return true;
}

void toolArgumentNames(MlirOperation func, const ToolInput *input,
                       char (*names)[64], int numArgs) {
  MlirBlock entry = mlirRegionGetFirstBlock(mlirOperationGetRegion(func, 0));
  for (int i = 0; i < numArgs; ++i) {
    MlirLocation loc = mlirValueGetLocation(mlirBlockGetArgument(entry, i));
    if (!sourceName(loc, input, names[i], sizeof names[i]) ||
        !isParameterName(names[i]))
      snprintf(names[i], sizeof names[i], "arg%d", i);
  }
  /* A fallback argN can meet a source name argN of another argument. */
  for (int i = 0; i < numArgs; ++i)
    for (int k = 0; k < i; ++k)
      if (strcmp(names[i], names[k]) == 0) {
        for (int j = 0; j < numArgs; ++j)
          snprintf(names[j], sizeof names[j], "arg%d", j);
        return;
      }
}
