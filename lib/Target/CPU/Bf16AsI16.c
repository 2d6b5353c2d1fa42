/*===- Bf16AsI16.c - cage-cpu-bf16-as-i16 ---------------------------------===*\
|*                                                                            *|
|* On the LLVM dialect: in a function that only moves bf16 values (loads,    *|
|* stores, masked loads and stores, shuffles, element and aggregate inserts  *|
|* and extracts, selects, bitcasts, constants, allocas, branches), those     *|
|* values become i16 values with the same bits: every bf16 in a type (of a   *|
|* result, a block argument, an alloca's or a GEP's element, a constant)     *|
|* becomes i16.                                                              *|
|*                                                                            *|
|* Why: LLVM 22's x86 back end has no bf16 vector registers without          *|
|* AVX512-BF16 (every AVX2 machine, Skylake-X, Zen 3) and legalizes a        *|
|* shuffle, an element extract or a masked load or store of <N x bfloat>     *|
|* element by element through f32, calling __truncsfbf2 for each element:   *|
|* a function of compiler-rt and of libgcc from GCC 13 only, which neither   *|
|* the JIT nor an object linked on Debian 12 (GCC 12) finds. The arithmetic  *|
|* on bf16 is integer arithmetic or f32 by then (cage-cpu-expand-bf16, and   *|
|* arith-emulate-unsupported-floats for bf16 arithmetic), so what is left   *|
|* only moves bits, which i16 moves the same on every target.                *|
|*                                                                            *|
|* A function with any other op on a bf16 type (an llvm.call or llvm.return  *|
|* of one, a float op, a bf16 function argument) is left as it is. The C     *|
|* API has no accessors for llvm.array types: a type is converted through    *|
|* its text, the token bf16 replaced by i16 (types with quoted names,        *|
|* identified structs, are not converted, and their function is left).      *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#include "Passes.h"

#include "IR/Ops.h"
#include "IR/Text.h"

#include "mlir-c/BuiltinAttributes.h"
#include "mlir-c/BuiltinTypes.h"
#include "mlir-c/Dialect/LLVM.h"

#include <stdint.h>
#include <string.h>

/* `type` with every bf16 in it an i16: `type` itself when it has none, null
 * when it cannot be converted. */
static MlirType asI16(MlirType type) {
  MlirContext ctx = mlirTypeGetContext(type);
  if (mlirTypeIsABF16(type))
    return mlirIntegerTypeGet(ctx, 16);
  /* Most types need no text: scalars, pointers, vectors. */
  if (mlirTypeIsAInteger(type) || mlirTypeIsAFloat(type) ||
      mlirTypeIsAIndex(type) || mlirTypeIsALLVMPointerType(type) ||
      (mlirTypeIsAVector(type) &&
       !mlirTypeIsABF16(mlirShapedTypeGetElementType(type))))
    return type;
  char buffer[1024];
  CageText text = cageTextOver(buffer, sizeof buffer);
  mlirTypePrint(type, cageTextAppend, &text);
  if (!strstr(text.data, "bf16"))
    return type;
  if (text.length + 1 >= text.size || strchr(text.data, '"'))
    return (MlirType){NULL};
  /* "bf16" -> "i16" shortens the text: convert it in place. */
  char *out = text.data;
  for (const char *in = text.data; *in;) {
    if (strncmp(in, "bf16", 4) == 0) {
      memcpy(out, "i16", 3);
      out += 3, in += 4;
    } else {
      *out++ = *in++;
    }
  }
  *out = '\0';
  return mlirTypeParseGet(ctx, cageStr(text.data));
}

static bool hasBf16(MlirType type) {
  MlirType converted = asI16(type);
  return mlirTypeIsNull(converted) || !mlirTypeEqual(converted, type);
}

/* The ops that move a value without looking at it as a float. */
static const char *const kMoves[] = {
    "llvm.load",
    "llvm.store",
    "llvm.intr.masked.load",
    "llvm.intr.masked.store",
    "llvm.shufflevector",
    "llvm.insertelement",
    "llvm.extractelement",
    "llvm.insertvalue",
    "llvm.extractvalue",
    "llvm.select",
    "llvm.bitcast",
    "llvm.freeze",
    "llvm.mlir.constant",
    "llvm.mlir.poison",
    "llvm.mlir.undef",
    "llvm.mlir.zero",
    "llvm.alloca",
    "llvm.getelementptr",
    "llvm.br",
    "llvm.cond_br",
    "llvm.switch",
};

static bool isMove(MlirOperation op) {
  return cageOpIsOneOf(op, kMoves, sizeof kMoves / sizeof kMoves[0]);
}

/* The type attributes of an op, and whether they have bf16 in them. */
static const char *const kTypeAttributes[] = {"elem_type"};

static bool touchesBf16(MlirOperation op) {
  for (intptr_t i = 0; i < mlirOperationGetNumOperands(op); ++i)
    if (hasBf16(mlirValueGetType(mlirOperationGetOperand(op, i))))
      return true;
  for (intptr_t i = 0; i < mlirOperationGetNumResults(op); ++i)
    if (hasBf16(mlirValueGetType(mlirOperationGetResult(op, i))))
      return true;
  for (size_t i = 0; i < sizeof kTypeAttributes / sizeof kTypeAttributes[0];
       ++i) {
    MlirAttribute a = cageOpAttribute(op, kTypeAttributes[i]);
    if (!mlirAttributeIsNull(a) && mlirAttributeIsAType(a) &&
        hasBf16(mlirTypeAttrGetValue(a)))
      return true;
  }
  return false;
}

/* A constant's value with i16 in place of bf16 (its bits); null when it
 * cannot be converted. */
static MlirAttribute constantAsI16(MlirAttribute value) {
  MlirType type = mlirAttributeGetType(value);
  if (!hasBf16(type))
    return value;
  MlirType converted = asI16(type);
  if (mlirTypeIsNull(converted))
    return (MlirAttribute){NULL};
  if (mlirAttributeIsAFloat(value)) {
    /* A bf16 value is exact in float: its bits are the float's top 16. */
    float f = (float)mlirFloatAttrGetValueDouble(value);
    uint32_t bits;
    memcpy(&bits, &f, sizeof bits);
    return mlirIntegerAttrGet(converted, (int64_t)(bits >> 16));
  }
  if (mlirAttributeIsADenseElements(value)) {
    /* A splat's raw data is its one element. */
    int64_t n = mlirDenseElementsAttrIsSplat(value)
                    ? 1
                    : mlirElementsAttrGetNumElements(value);
    return mlirDenseElementsAttrRawBufferGet(
        converted, (size_t)n * 2, mlirDenseElementsAttrGetRawData(value));
  }
  return (MlirAttribute){NULL};
}

/*===----------------------------------------------------------------------===*
 * One function: a walk to see whether it can be converted, one to convert
 *===----------------------------------------------------------------------===*/

typedef struct Walk {
  MlirOperation func;
  bool convert;     /* the second walk: retype */
  bool convertible; /* the first walk's answer */
  bool touched;     /* the first walk saw bf16 */
} Walk;

static void retype(MlirValue value) {
  mlirValueSetType(value, asI16(mlirValueGetType(value)));
}

static void retypeOp(MlirOperation op) {
  for (intptr_t r = 0; r < mlirOperationGetNumResults(op); ++r)
    retype(mlirOperationGetResult(op, r));
  for (size_t a = 0; a < sizeof kTypeAttributes / sizeof kTypeAttributes[0];
       ++a) {
    MlirAttribute t = cageOpAttribute(op, kTypeAttributes[a]);
    if (!mlirAttributeIsNull(t) && mlirAttributeIsAType(t))
      mlirOperationSetInherentAttributeByName(
          op, cageStr(kTypeAttributes[a]),
          mlirTypeAttrGet(asI16(mlirTypeAttrGetValue(t))));
  }
  if (cageOpIs(op, "llvm.mlir.constant"))
    mlirOperationSetInherentAttributeByName(
        op, cageStr("value"), constantAsI16(cageOpAttribute(op, "value")));
}

static bool isConvertible(MlirType type) {
  return !mlirTypeIsNull(asI16(type));
}

/* Whether `op` (which touches bf16) can be converted: a move whose result
 * types, type attributes and constant value all have an i16 form. */
static bool convertibleOp(MlirOperation op) {
  if (!isMove(op))
    return false;
  for (intptr_t r = 0; r < mlirOperationGetNumResults(op); ++r)
    if (!isConvertible(mlirValueGetType(mlirOperationGetResult(op, r))))
      return false;
  for (size_t a = 0; a < sizeof kTypeAttributes / sizeof kTypeAttributes[0];
       ++a) {
    MlirAttribute t = cageOpAttribute(op, kTypeAttributes[a]);
    if (!mlirAttributeIsNull(t) && mlirAttributeIsAType(t) &&
        !isConvertible(mlirTypeAttrGetValue(t)))
      return false;
  }
  return !cageOpIs(op, "llvm.mlir.constant") ||
         !mlirAttributeIsNull(constantAsI16(cageOpAttribute(op, "value")));
}

/* The blocks of `op`'s regions: the arguments of entry blocks are their
 * op's (a function's signature, a loop's induction variables) and stay;
 * those of other blocks are retyped. False for a bf16 entry argument or
 * one whose type has no i16 form. */
static bool visitArguments(MlirOperation op, Walk *w) {
  for (intptr_t r = 0; r < mlirOperationGetNumRegions(op); ++r) {
    MlirBlock entry = mlirRegionGetFirstBlock(mlirOperationGetRegion(op, r));
    for (MlirBlock block = entry; !mlirBlockIsNull(block);
         block = mlirBlockGetNextInRegion(block)) {
      for (intptr_t i = 0; i < mlirBlockGetNumArguments(block); ++i) {
        MlirValue argument = mlirBlockGetArgument(block, i);
        if (!hasBf16(mlirValueGetType(argument)))
          continue;
        if (mlirBlockEqual(block, entry) ||
            !isConvertible(mlirValueGetType(argument)))
          return false;
        w->touched = true;
        if (w->convert)
          retype(argument);
      }
    }
  }
  return true;
}

static MlirWalkResult visit(MlirOperation op, void *userData) {
  Walk *w = userData;
  if (!mlirOperationEqual(op, w->func) && touchesBf16(op)) {
    w->touched = true;
    if (w->convert) {
      retypeOp(op);
    } else if (!convertibleOp(op)) {
      w->convertible = false;
      return MlirWalkResultInterrupt;
    }
  }
  if (!visitArguments(op, w)) {
    w->convertible = false;
    return MlirWalkResultInterrupt;
  }
  return MlirWalkResultAdvance;
}

static bool isDefinedFunction(MlirOperation op) {
  return cageOpIs(op, "llvm.func") && !mlirBlockIsNull(mlirRegionGetFirstBlock(
                                          mlirOperationGetRegion(op, 0)));
}

static void run(MlirOperation module, const CagePassOptionValue *options,
                CagePassHandle pass) {
  (void)options, (void)pass;
  CageOpList functions = cageCollectOpsWhere(module, isDefinedFunction);
  for (intptr_t i = 0; i < functions.size; ++i) {
    Walk w = {.func = functions.ops[i], .convertible = true};
    mlirOperationWalk(w.func, visit, &w, MlirWalkPreOrder);
    if (w.convertible && w.touched) {
      w.convert = true;
      mlirOperationWalk(w.func, visit, &w, MlirWalkPreOrder);
    }
  }
  cageOpListDestroy(&functions);
}

static MlirDialectHandle (*const dependentDialects[])(void) = {
    mlirGetDialectHandle__llvm__};

const CagePassDefinition cageCPUBf16AsI16Pass = {
    .argument = "cage-cpu-bf16-as-i16",
    .name = "CageCPUBf16AsI16",
    .summary = "In LLVM-dialect functions that only move bf16 values, make "
               "them i16 values with the same bits (LLVM calls __truncsfbf2 "
               "per element for bf16 vector shuffles and masked memory on x86 "
               "without AVX512-BF16)",
    .anchorOp = "builtin.module",
    .dependentDialects = dependentDialects,
    .numDependentDialects =
        sizeof dependentDialects / sizeof dependentDialects[0],
    .run = run,
};
