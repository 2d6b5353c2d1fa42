/*===- Header.c - The C interface of compiled functions -------------------===*\
|*                                                                            *|
|* How the _mlir_ciface_ entry points carry each argument and result type    *|
|* (cageCPUValueTypeGet, which the tools and the Python package read too),   *|
|* and the strict C11 header that declares them (cageCPUWriteHeader, behind  *|
|* cage-compile --header and the Python package's Module.export): memref     *|
|* descriptor types, result structs and prototypes, with the parameters      *|
|* named after the source's arguments.                                       *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#include "Header.h"

#include "cage-c/Target/CPU.h"

#include "IR/Ops.h"
#include "IR/Text.h"

#include "mlir-c/AffineMap.h"
#include "mlir-c/BuiltinAttributes.h"
#include "mlir-c/BuiltinTypes.h"
#include "mlir-c/Diagnostics.h"

#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*===----------------------------------------------------------------------===*
 * Types
 *===----------------------------------------------------------------------===*/

/* Indexed by CageCPUElementType. */
static const char *const elementNames[] = {
    "f16", "bf16", "f32", "f64", "i1", "i8", "i16", "i32", "i64", "index"};
static const char *const elementCTypes[] = {
    "uint16_t", "uint16_t", "float",   "double",  "bool",
    "int8_t",   "int16_t",  "int32_t", "int64_t", "int64_t"};

const char *cageCPUElementTypeGetName(CageCPUElementType element) {
  return (unsigned)element < sizeof elementNames / sizeof *elementNames
             ? elementNames[element]
             : NULL;
}

const char *cageCPUElementTypeGetCType(CageCPUElementType element) {
  return (unsigned)element < sizeof elementCTypes / sizeof *elementCTypes
             ? elementCTypes[element]
             : NULL;
}

static bool describeElement(MlirType t, CageCPUElementType *e) {
  if (mlirTypeIsAF16(t))
    *e = CageCPUElementF16;
  else if (mlirTypeIsABF16(t))
    *e = CageCPUElementBF16;
  else if (mlirTypeIsAF32(t))
    *e = CageCPUElementF32;
  else if (mlirTypeIsAF64(t))
    *e = CageCPUElementF64;
  else if (mlirTypeIsAIndex(t))
    *e = CageCPUElementIndex;
  else if (mlirTypeIsAInteger(t) && mlirIntegerTypeIsSignless(t)) {
    switch (mlirIntegerTypeGetWidth(t)) {
    case 1:
      *e = CageCPUElementI1;
      break;
    case 8:
      *e = CageCPUElementI8;
      break;
    case 16:
      *e = CageCPUElementI16;
      break;
    case 32:
      *e = CageCPUElementI32;
      break;
    case 64:
      *e = CageCPUElementI64;
      break;
    default:
      return false;
    }
  } else
    return false;
  return true;
}

/* Reports `why` (when there is a callback) and returns false. */
static bool unsupported(MlirStringCallback callback, void *userData,
                        const char *why) {
  if (callback)
    callback(cageStr(why), userData);
  return false;
}

bool cageCPUValueTypeGet(MlirType type, CageCPUValueType *result,
                         MlirStringCallback errorCallback, void *userData) {
  memset(result, 0, sizeof *result);
  if (!mlirTypeIsAShaped(type))
    return describeElement(type, &result->element) ||
           unsupported(errorCallback, userData, "unsupported scalar type");
  bool tensor = mlirTypeIsATensor(type), memref = mlirTypeIsAMemRef(type);
  if (!tensor && !memref)
    return unsupported(errorCallback, userData,
                       "only tensors, memrefs and scalars are supported");
  if (!mlirShapedTypeHasRank(type))
    return unsupported(errorCallback, userData,
                       "unranked types are not supported");
  if (tensor && !mlirAttributeIsNull(mlirRankedTensorTypeGetEncoding(type)))
    return unsupported(errorCallback, userData,
                       "tensors with an encoding are not supported");
  if (memref && !mlirAttributeIsNull(mlirMemRefTypeGetMemorySpace(type)))
    return unsupported(errorCallback, userData,
                       "memrefs in a memory space are not supported");
  if (memref && !mlirAffineMapIsIdentity(mlirMemRefTypeGetAffineMap(type)))
    return unsupported(errorCallback, userData,
                       "memrefs with a non-identity layout are not supported");
  if (!describeElement(mlirShapedTypeGetElementType(type), &result->element))
    return unsupported(errorCallback, userData, "unsupported element type");
  /* Any rank, as long as the descriptor's 3 + 2 * rank words can be counted
   * in an int (the tools index them so). */
  int64_t rank = mlirShapedTypeGetRank(type);
  if (rank < 0 || (uint64_t)rank > INT_MAX / 2 - 2) {
    char why[64];
    snprintf(why, sizeof why, "rank %lld is too large", (long long)rank);
    return unsupported(errorCallback, userData, why);
  }
  result->shaped = true;
  result->isTensor = tensor;
  result->rank = rank;
  return true;
}

/*===----------------------------------------------------------------------===*
 * Parameter names
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

/* The SSA name at `loc` in the source text: the parser gives each argument
 * of a function the location of its `%name` in the signature. MLIR's C API
 * keeps no SSA names (ParserConfig's retainIdentifierNames is C++ only). */
static bool sourceName(MlirLocation loc, const CageCPUHeaderOptions *options,
                       char *name, size_t size) {
  if (!options->sourceText.data || !options->sourceFile ||
      !mlirLocationIsAFileLineColRange(loc))
    return false;
  MlirStringRef file =
      mlirIdentifierStr(mlirLocationFileLineColRangeGetFilename(loc));
  if (!mlirStringRefEqual(file, cageStr(options->sourceFile)))
    return false; /* bytecode, or a location from elsewhere (loc(...)) */
  int line = mlirLocationFileLineColRangeGetStartLine(loc);
  int column = mlirLocationFileLineColRangeGetStartColumn(loc);
  const char *p = options->sourceText.data,
             *end = options->sourceText.data + options->sourceText.length;
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

/* C names of the arguments of `func`, into `names[i]`. */
static void argumentNames(MlirOperation func,
                          const CageCPUHeaderOptions *options,
                          char (*names)[64], intptr_t numArgs) {
  MlirBlock entry = mlirRegionGetFirstBlock(mlirOperationGetRegion(func, 0));
  for (intptr_t i = 0; i < numArgs; ++i) {
    MlirLocation loc = mlirValueGetLocation(mlirBlockGetArgument(entry, i));
    if (!sourceName(loc, options, names[i], sizeof names[i]) ||
        !isParameterName(names[i]))
      snprintf(names[i], sizeof names[i], "arg%ld", (long)i);
  }
  /* A fallback argN can meet a source name argN of another argument. */
  for (intptr_t i = 0; i < numArgs; ++i)
    for (intptr_t k = 0; k < i; ++k)
      if (strcmp(names[i], names[k]) == 0) {
        for (intptr_t j = 0; j < numArgs; ++j)
          snprintf(names[j], sizeof names[j], "arg%ld", (long)j);
        return;
      }
}

/*===----------------------------------------------------------------------===*
 * The public functions
 *===----------------------------------------------------------------------===*/

/* One public function as the header declares it. A training step passes w,
 * g and the state of every parameter: hundreds of arguments are common, so
 * they are counted, not bounded. */
typedef struct Function {
  MlirOperation op;
  char name[256];
  intptr_t numArgs, numResults;
  CageCPUValueType *values; /* the arguments, then the results */
  char (*argNames)[64];
} Function;

typedef struct Functions {
  Function *functions;
  intptr_t count;
} Functions;

static void freeFunctions(Functions *s) {
  for (intptr_t k = 0; k < s->count; ++k) {
    free(s->functions[k].values);
    free(s->functions[k].argNames);
  }
  free(s->functions);
}

/* Public functions with a body: the ones that get an entry point. */
static bool isPublicFunction(MlirOperation op) {
  if (!cageOpIs(op, "func.func") ||
      mlirBlockIsNull(mlirRegionGetFirstBlock(mlirOperationGetRegion(op, 0))))
    return false;
  MlirAttribute visibility = cageOpAttribute(op, "sym_visibility");
  return mlirAttributeIsNull(visibility) ||
         mlirStringRefEqual(mlirStringAttrGetValue(visibility),
                            cageStr("public"));
}

/* Describes argument or result `index` (`what`) of `f` into `t`; else an
 * error at the function. */
static bool describe(const Function *f, MlirType type, const char *what,
                     intptr_t index, CageCPUValueType *t) {
  char why[256], text[256], message[1024];
  CageText reason = cageTextOver(why, sizeof why);
  bool ok = cageCPUValueTypeGet(type, t, cageTextAppend, &reason);
  if (ok && !t->shaped &&
      (t->element == CageCPUElementF16 || t->element == CageCPUElementBF16)) {
    snprintf(why, sizeof why,
             "scalar %s has no C11 type (use a 0-d tensor or memref)",
             cageCPUElementTypeGetName(t->element));
    ok = false;
  }
  if (ok)
    return true;
  CageText typeText = cageTextOver(text, sizeof text);
  mlirTypePrint(type, cageTextAppend, &typeText);
  snprintf(message, sizeof message,
           "cannot declare '%s' in the header: %s %ld has type %s: %s", f->name,
           what, (long)index, text, why);
  mlirEmitError(mlirOperationGetLocation(f->op), message);
  return false;
}

/* Reads the name, the C view of the types and the parameter names of the
 * public function `f->op`; false after emitting why it cannot be declared
 * (only "out of memory" at the module when *outOfMemory). */
static bool describeFunction(Function *f, const CageCPUHeaderOptions *options,
                             bool *outOfMemory) {
  MlirStringRef name = mlirStringAttrGetValue(mlirOperationGetAttributeByName(
      f->op, mlirSymbolTableGetSymbolAttributeName()));
  if (!cageIsCIdentifier(name)) {
    char message[400];
    snprintf(message, sizeof message,
             "function '%.*s' has no C name: rename it or make it private",
             name.length < 256 ? (int)name.length : 256, name.data);
    mlirEmitError(mlirOperationGetLocation(f->op), message);
    return false;
  }
  memcpy(f->name, name.data, name.length);
  f->name[name.length] = '\0';
  MlirType type = mlirTypeAttrGetValue(cageOpAttribute(f->op, "function_type"));
  f->numArgs = mlirFunctionTypeGetNumInputs(type);
  f->numResults = mlirFunctionTypeGetNumResults(type);
  f->values =
      calloc((size_t)(f->numArgs + f->numResults) + 1, sizeof *f->values);
  f->argNames = calloc((size_t)f->numArgs + 1, sizeof *f->argNames);
  if (!f->values || !f->argNames) {
    *outOfMemory = true;
    return false;
  }
  for (intptr_t i = 0; i < f->numArgs; ++i)
    if (!describe(f, mlirFunctionTypeGetInput(type, i), "argument", i,
                  &f->values[i]))
      return false;
  for (intptr_t i = 0; i < f->numResults; ++i)
    if (!describe(f, mlirFunctionTypeGetResult(type, i), "result", i,
                  &f->values[f->numArgs + i]))
      return false;
  argumentNames(f->op, options, f->argNames, f->numArgs);
  return true;
}

/* Every public function of `module`, each described; false after emitting
 * an error for each one that cannot be declared. */
static bool collectFunctions(MlirModule module,
                             const CageCPUHeaderOptions *options,
                             Functions *s) {
  bool ok = true, outOfMemory = false;
  intptr_t capacity = 0;
  for (MlirOperation op = mlirBlockGetFirstOperation(mlirModuleGetBody(module));
       !outOfMemory && !mlirOperationIsNull(op);
       op = mlirOperationGetNextInBlock(op)) {
    if (!isPublicFunction(op))
      continue;
    if (s->count == capacity) {
      capacity = capacity ? 2 * capacity : 16;
      Function *grown = realloc(s->functions, sizeof *grown * (size_t)capacity);
      if (!grown) {
        outOfMemory = true;
        break;
      }
      s->functions = grown;
    }
    Function *f = &s->functions[s->count++];
    memset(f, 0, sizeof *f);
    f->op = op;
    if (!describeFunction(f, options, &outOfMemory))
      ok = false;
  }
  if (outOfMemory)
    mlirEmitError(mlirOperationGetLocation(mlirModuleGetOperation(module)),
                  "out of memory");
  return ok && !outOfMemory;
}

/*===----------------------------------------------------------------------===*
 * The header
 *===----------------------------------------------------------------------===*/

typedef struct Writer {
  MlirStringCallback callback;
  void *userData;
} Writer;

static void put(const Writer *w, const char *s) {
  w->callback(cageStr(s), w->userData);
}

/* Formats into a line-sized buffer: every argument is bounded (C names
 * under 256 bytes, descriptor type names); unbounded text goes through
 * put. */
static void putf(const Writer *w, const char *format, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static void putf(const Writer *w, const char *format, ...) {
  char buf[1024];
  va_list args;
  va_start(args, format);
  int n = vsnprintf(buf, sizeof buf, format, args);
  va_end(args);
  if (n > 0)
    w->callback(mlirStringRefCreate(
                    buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1),
                w->userData);
}

static void memrefTypeName(const CageCPUValueType *t, char *buf, size_t size) {
  snprintf(buf, size, "cage_memref_%s_%lldd",
           cageCPUElementTypeGetName(t->element), (long long)t->rank);
}

/* The C type of an argument or result field. */
static void cType(const CageCPUValueType *t, char *buf, size_t size) {
  if (t->shaped)
    memrefTypeName(t, buf, size);
  else
    snprintf(buf, size, "%s", cageCPUElementTypeGetCType(t->element));
}

/* Defines the descriptor type of `t` unless an earlier value of `s` (all
 * values of the functions before `k`, those of function k before `index`)
 * has the same one. */
static bool definedBefore(const Functions *s, intptr_t k, intptr_t index) {
  const CageCPUValueType *t = &s->functions[k].values[index];
  for (intptr_t j = 0; j <= k; ++j) {
    const Function *f = &s->functions[j];
    intptr_t end = j == k ? index : f->numArgs + f->numResults;
    for (intptr_t i = 0; i < end; ++i)
      if (f->values[i].shaped && f->values[i].element == t->element &&
          f->values[i].rank == t->rank)
        return true;
  }
  return false;
}

static void defineMemref(const Writer *w, const CageCPUValueType *t,
                         CageHeaderABI abi) {
  char name[64], upper[64];
  memrefTypeName(t, name, sizeof name);
  size_t n = strlen(name);
  for (size_t i = 0; i <= n; ++i)
    upper[i] = (char)toupper((unsigned char)name[i]);
  const char *ct = cageCPUElementTypeGetCType(t->element);
  putf(w,
       "#ifndef %s_DEFINED\n#define %s_DEFINED\n"
       "/** A rank-%lld memref of %s: data at aligned[offset + sum_i idx[i] "
       "* strides[i]]. */\n"
       "typedef struct %s {\n"
       "  %s *allocated; /* what to %s when a function returned it */\n"
       "  %s *aligned;   /* the data%s */\n"
       "  int64_t offset;\n",
       upper, upper, (long long)t->rank, cageCPUElementTypeGetName(t->element),
       name, ct, abi == CageHeaderCUDA ? "cuMemFree" : "free()", ct,
       abi == CageHeaderCUDA ? " (a device address for the GPU)" : "");
  if (t->rank > 0)
    putf(w, "  int64_t sizes[%lld];\n  int64_t strides[%lld];\n",
         (long long)t->rank, (long long)t->rank);
  putf(w, "} %s;\n#endif\n\n", name);
}

static void declareFunction(const Writer *w, const Function *f,
                            const char *prefix, CageHeaderABI abi) {
  const CageCPUValueType *args = f->values, *results = f->values + f->numArgs;
  char type[96];
  putf(w, "/* @%s : ", f->name);
  mlirTypePrint(mlirTypeAttrGetValue(cageOpAttribute(f->op, "function_type")),
                w->callback, w->userData);
  put(w, " */\n");
  /* The GPU's entry points return a status: every result through the
     pointer. */
  bool viaPointer =
      f->numResults > 1 ||
      (f->numResults == 1 && (results[0].shaped || abi == CageHeaderCUDA));
  char resultType[300] = "void";
  if (f->numResults > 1) {
    putf(w, "typedef struct cage_%s_results {\n", f->name);
    for (intptr_t i = 0; i < f->numResults; ++i) {
      cType(&results[i], type, sizeof type);
      putf(w, "  %s r%ld;\n", type, (long)i);
    }
    putf(w, "} cage_%s_results;\n", f->name);
    snprintf(resultType, sizeof resultType, "cage_%s_results", f->name);
  } else if (f->numResults == 1) {
    cType(&results[0], resultType, sizeof resultType);
  }
  put(w, abi == CageHeaderCUDA ? "int32_t" : viaPointer ? "void" : resultType);
  put(w, " ");
  put(w, prefix);
  putf(w, "%s(", f->name);
  bool first = true;
  if (abi == CageHeaderCUDA) {
    put(w, "void *stream");
    first = false;
  }
  if (viaPointer) {
    putf(w, "%s%s *result", first ? "" : ", ", resultType);
    first = false;
  }
  for (intptr_t i = 0; i < f->numArgs; ++i) {
    cType(&args[i], type, sizeof type);
    putf(w, "%s%s %s%s", first ? "" : ", ", type, args[i].shaped ? "*" : "",
         f->argNames[i]);
    first = false;
  }
  putf(w, "%s);\n\n", first ? "void" : "");
}

/* The comment at the top: what the entry points take and give. */
static const char kCPUABI[] =
    "F. Tensors and\n"
    " * memrefs are passed as pointers to memref descriptors; scalars by\n"
    " * value. A function with one memref result or several results\n"
    " * writes them through its first parameter; one scalar result is\n"
    " * returned. Tensor arguments are only read. Memrefs the function\n"
    " * returns were allocated with malloc and belong to the caller:\n"
    " * free(allocated) once per distinct buffer (two results may share\n"
    " * one). Link with -lm, and -lomp when compiled with threads.\n"
    " * See docs/Tools.md. */\n\n";

static const char kCUDAABI[] =
    "F, which runs\n"
    " * on an NVIDIA GPU: its first parameter is the CUDA stream to run on\n"
    " * (a CUstream; NULL: the default stream), and it returns a status, 0\n"
    " * or what cage-runtime/CUDA.h lists, with the message of a failure in\n"
    " * cageCudaLastError(). It returns when its work on the stream is\n"
    " * done. Tensors and memrefs are passed as pointers to memref\n"
    " * descriptors in host memory whose allocated and aligned fields are\n"
    " * device addresses; scalars by value. Results are written through\n"
    " * the parameter after the stream (one scalar result too). Tensor\n"
    " * arguments are only read. Memrefs the function returns were\n"
    " * allocated in device memory and belong to the caller: cuMemFree\n"
    " * (or cageCudaFree) the allocated field once per distinct buffer\n"
    " * (two results may share one); a failed call leaves nothing to free.\n"
    " * Link with libcage-cuda-runtime.so, which loads the NVIDIA driver\n"
    " * at the first call. See docs/GPU.md. */\n\n";

MlirLogicalResult cageWriteHeader(MlirModule module,
                                  const CageCPUHeaderOptions *options,
                                  CageHeaderABI abi,
                                  MlirStringCallback callback, void *userData) {
  Functions s = {0};
  if (!collectFunctions(module, options, &s)) {
    freeFunctions(&s);
    return mlirLogicalResultFailure();
  }
  const Writer w = {callback, userData};
  const char *prefix = options->symbolPrefix   ? options->symbolPrefix
                       : abi == CageHeaderCUDA ? "cage_cuda_"
                                               : "_mlir_ciface_";
  const char *headerName = options->headerName ? options->headerName : "cage.h";

  /* CAGE_GENERATED_ and the base name, as far as 255 bytes go. */
  char guard[256];
  const char *base = strrchr(headerName, '/');
  base = base ? base + 1 : headerName;
  size_t n = (size_t)snprintf(guard, sizeof guard, "CAGE_GENERATED_");
  for (const char *p = base; *p && n + 1 < sizeof guard; ++p)
    guard[n++] =
        isalnum((unsigned char)*p) ? (char)toupper((unsigned char)*p) : '_';
  guard[n] = '\0';

  put(&w, "/* Generated by ");
  put(&w, options->generatedBy ? options->generatedBy : "cage");
  put(&w, "; do not edit.\n"
          " *\n"
          " * One entry point per public function F, ");
  put(&w, prefix);
  put(&w, abi == CageHeaderCUDA ? kCUDAABI : kCPUABI);
  putf(&w, "#ifndef %s\n#define %s\n\n", guard, guard);
  put(&w, "#include <stdbool.h>\n#include <stdint.h>\n\n"
          "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n");

  for (intptr_t k = 0; k < s.count; ++k) {
    const Function *f = &s.functions[k];
    for (intptr_t i = 0; i < f->numArgs + f->numResults; ++i)
      if (f->values[i].shaped && !definedBefore(&s, k, i))
        defineMemref(&w, &f->values[i], abi);
  }
  if (abi == CageHeaderCUDA)
    put(&w, "/** The message of the last failed call on this thread (the "
            "runtime's). */\nconst char *cageCudaLastError(void);\n\n");
  for (intptr_t k = 0; k < s.count; ++k)
    declareFunction(&w, &s.functions[k], prefix, abi);
  putf(&w, "#ifdef __cplusplus\n}\n#endif\n\n#endif /* %s */\n", guard);
  freeFunctions(&s);
  return mlirLogicalResultSuccess();
}

MlirLogicalResult cageCPUWriteHeader(MlirModule module,
                                     const CageCPUHeaderOptions *options,
                                     MlirStringCallback callback,
                                     void *userData) {
  return cageWriteHeader(module, options, CageHeaderCPU, callback, userData);
}
