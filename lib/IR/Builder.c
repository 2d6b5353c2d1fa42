/*===- IR/Builder.c - One call per op for building IR from C --------------===*\
|*                                                                            *|
|* Every op is created detached from an MlirOperationState, then inserted     *|
|* where the builder points. Regions (linalg bodies, function bodies) are     *|
|* built detached too and handed to the state, so that a failure found while  *|
|* building them destroys them without leaving half an op in the IR.          *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#include "IR/Builder.h"

#include "mlir-c/BuiltinAttributes.h"
#include "mlir-c/BuiltinTypes.h"
#include "mlir-c/Diagnostics.h"
#include "mlir-c/Dialect/Linalg.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const MlirValue nullValue = {NULL};
static const MlirOperation nullOperation = {NULL};
static const MlirBlock nullBlock = {NULL};

CageBuilder cageBuilderAtInsertionPoint(MlirRewriterBase rewriter,
                                        MlirLocation location) {
  CageBuilder b = {mlirLocationGetContext(location), location, rewriter,
                   nullBlock};
  return b;
}

CageBuilder cageBuilderAtEndOfBlock(MlirBlock block, MlirLocation location) {
  CageBuilder b = {mlirLocationGetContext(location), location,
                   (MlirRewriterBase){NULL}, block};
  return b;
}

/*===--- Helpers ----------------------------------------------------------===*/

static MlirStringRef str(const char *s) {
  return mlirStringRefCreateFromCString(s);
}

static void emitError(CageBuilder *b, const char *format, ...) {
  char message[512];
  va_list args;
  va_start(args, format);
  vsnprintf(message, sizeof message, format, args);
  va_end(args);
  mlirEmitError(b->location, message);
}

/* Out of memory while building IR is not something a pass can recover from;
 * failing loudly beats a null dereference somewhere inside MLIR. */
static void *allocArray(intptr_t count, size_t size) {
  void *array = calloc(count > 0 ? (size_t)count : 1, size);
  if (!array) {
    fputs("cage builder: out of memory\n", stderr);
    abort();
  }
  return array;
}

/* Null operands come from an earlier call that failed and has already
 * reported why; passing them on keeps chains of calls free of checks. */
static bool anyNull(const MlirValue *values, intptr_t count) {
  for (intptr_t i = 0; i < count; ++i)
    if (mlirValueIsNull(values[i]))
      return true;
  return false;
}

/* Creating an op of an unknown name succeeds and fails only at
 * verification, far from the typo; catch it where the name is given. */
static bool isRegisteredOp(CageBuilder *b, const char *opName) {
  if (mlirContextIsRegisteredOperation(b->context, str(opName)))
    return true;
  emitError(b, "'%s' is not a registered operation (is its dialect loaded?)",
            opName);
  return false;
}

static bool isRankedTensor(CageBuilder *b, MlirType type, const char *what) {
  if (mlirTypeIsARankedTensor(type))
    return true;
  emitError(b, "%s must be a ranked tensor", what);
  return false;
}

static MlirNamedAttribute named(CageBuilder *b, const char *name,
                                MlirAttribute attr) {
  return mlirNamedAttributeGet(mlirIdentifierGet(b->context, str(name)), attr);
}

/* Scalar operands of linalg ops are their own element type. */
static MlirType elementType(MlirValue value) {
  MlirType type = mlirValueGetType(value);
  return mlirTypeIsAShaped(type) ? mlirShapedTypeGetElementType(type) : type;
}

static MlirOperation insert(CageBuilder *b, MlirOperation op) {
  if (mlirBlockIsNull(b->block))
    return mlirRewriterBaseInsert(b->rewriter, op);
  mlirBlockAppendOwnedOperation(b->block, op);
  return op;
}

static MlirOperation buildOp(CageBuilder *b, const char *opName,
                             intptr_t numOperands, const MlirValue *operands,
                             intptr_t numResults, const MlirType *resultTypes,
                             intptr_t numAttributes,
                             const MlirNamedAttribute *attributes) {
  MlirOperationState state = mlirOperationStateGet(str(opName), b->location);
  mlirOperationStateAddOperands(&state, numOperands, operands);
  mlirOperationStateAddResults(&state, numResults, resultTypes);
  mlirOperationStateAddAttributes(&state, numAttributes, attributes);
  return insert(b, mlirOperationCreate(&state));
}

MlirOperation cageBuildOp(CageBuilder *b, const char *opName,
                          intptr_t numOperands, const MlirValue *operands,
                          intptr_t numResults, const MlirType *resultTypes,
                          intptr_t numAttributes,
                          const MlirNamedAttribute *attributes) {
  if (anyNull(operands, numOperands) || !isRegisteredOp(b, opName))
    return nullOperation;
  return buildOp(b, opName, numOperands, operands, numResults, resultTypes,
                 numAttributes, attributes);
}

static MlirValue buildValue(CageBuilder *b, const char *opName,
                            intptr_t numOperands, const MlirValue *operands,
                            MlirType resultType, intptr_t numAttributes,
                            const MlirNamedAttribute *attributes) {
  MlirOperation op = buildOp(b, opName, numOperands, operands, 1, &resultType,
                             numAttributes, attributes);
  return mlirOperationGetResult(op, 0);
}

/*===--- arith.constant ---------------------------------------------------===*/

static MlirValue buildConstant(CageBuilder *b, MlirAttribute value) {
  MlirNamedAttribute attr = named(b, "value", value);
  return buildValue(b, "arith.constant", 0, NULL, mlirAttributeGetType(value),
                    1, &attr);
}

MlirValue cageBuildConstantFloat(CageBuilder *b, MlirType type, double value) {
  if (!mlirTypeIsAFloat(type)) {
    emitError(b, "a float constant needs a float type");
    return nullValue;
  }
  return buildConstant(b, mlirFloatAttrDoubleGet(b->context, type, value));
}

MlirValue cageBuildConstantF32(CageBuilder *b, float value) {
  return cageBuildConstantFloat(b, mlirF32TypeGet(b->context), value);
}

MlirValue cageBuildConstantI64(CageBuilder *b, int64_t value) {
  MlirType i64 = mlirIntegerTypeGet(b->context, 64);
  return buildConstant(b, mlirIntegerAttrGet(i64, value));
}

MlirValue cageBuildConstantIndex(CageBuilder *b, int64_t value) {
  MlirType index = mlirIndexTypeGet(b->context);
  return buildConstant(b, mlirIntegerAttrGet(index, value));
}

/*===--- Element-wise arith and math ops ----------------------------------===*/

MlirValue cageBuildBinary(CageBuilder *b, const char *opName, MlirValue lhs,
                          MlirValue rhs) {
  MlirValue operands[] = {lhs, rhs};
  if (anyNull(operands, 2) || !isRegisteredOp(b, opName))
    return nullValue;
  return buildValue(b, opName, 2, operands, mlirValueGetType(lhs), 0, NULL);
}

MlirValue cageBuildUnary(CageBuilder *b, const char *opName,
                         MlirValue operand) {
  if (mlirValueIsNull(operand) || !isRegisteredOp(b, opName))
    return nullValue;
  return buildValue(b, opName, 1, &operand, mlirValueGetType(operand), 0, NULL);
}

MlirValue cageBuildCast(CageBuilder *b, const char *opName, MlirValue operand,
                        MlirType resultType) {
  if (mlirValueIsNull(operand) || !isRegisteredOp(b, opName))
    return nullValue;
  return buildValue(b, opName, 1, &operand, resultType, 0, NULL);
}

/* arith.cmpf keeps its predicate as the i64 value of arith::CmpFPredicate
 * (an I64EnumAttr: the generic form prints `predicate = 4 : i64`); there is
 * no `#arith<cmpf ...>` attribute to parse. Listed in that enum's order. */
static const char *const cmpfPredicates[] = {
    "false", "oeq", "ogt", "oge", "olt", "ole", "one", "ord",
    "ueq",   "ugt", "uge", "ult", "ule", "une", "uno", "true"};

static MlirAttribute cmpfPredicate(CageBuilder *b, const char *predicate) {
  intptr_t count = sizeof cmpfPredicates / sizeof cmpfPredicates[0];
  for (intptr_t i = 0; i < count; ++i)
    if (strcmp(predicate, cmpfPredicates[i]) == 0)
      return mlirIntegerAttrGet(mlirIntegerTypeGet(b->context, 64), i);
  emitError(b, "unknown arith.cmpf predicate '%s'", predicate);
  return mlirAttributeGetNull();
}

MlirValue cageBuildCmpF(CageBuilder *b, const char *predicate, MlirValue lhs,
                        MlirValue rhs) {
  MlirValue operands[] = {lhs, rhs};
  if (anyNull(operands, 2))
    return nullValue;
  if (mlirTypeIsAShaped(mlirValueGetType(lhs))) {
    emitError(b, "cageBuildCmpF compares scalars, not shaped values");
    return nullValue;
  }
  MlirAttribute attr = cmpfPredicate(b, predicate);
  if (mlirAttributeIsNull(attr))
    return nullValue;
  MlirNamedAttribute attributes[] = {named(b, "predicate", attr)};
  return buildValue(b, "arith.cmpf", 2, operands,
                    mlirIntegerTypeGet(b->context, 1), 1, attributes);
}

MlirValue cageBuildSelect(CageBuilder *b, MlirValue condition,
                          MlirValue trueValue, MlirValue falseValue) {
  MlirValue operands[] = {condition, trueValue, falseValue};
  if (anyNull(operands, 3))
    return nullValue;
  return buildValue(b, "arith.select", 3, operands, mlirValueGetType(trueValue),
                    0, NULL);
}

/*===--- Tensors ----------------------------------------------------------===*/

MlirValue cageBuildDim(CageBuilder *b, MlirValue tensor, intptr_t dim) {
  if (mlirValueIsNull(tensor))
    return nullValue;
  MlirType type = mlirValueGetType(tensor);
  if (!isRankedTensor(b, type, "the operand of tensor.dim"))
    return nullValue;
  if (dim < 0 || dim >= mlirShapedTypeGetRank(type)) {
    emitError(b, "tensor.dim of dimension %lld of a rank-%lld tensor",
              (long long)dim, (long long)mlirShapedTypeGetRank(type));
    return nullValue;
  }
  MlirValue operands[] = {tensor, cageBuildConstantIndex(b, dim)};
  return buildValue(b, "tensor.dim", 2, operands, mlirIndexTypeGet(b->context),
                    0, NULL);
}

static intptr_t countDynamicDims(MlirType type) {
  intptr_t count = 0;
  for (intptr_t d = 0; d < mlirShapedTypeGetRank(type); ++d)
    count += mlirShapedTypeIsDynamicDim(type, d);
  return count;
}

MlirValue cageBuildEmpty(CageBuilder *b, MlirType tensorType,
                         const MlirValue *dynamicSizes,
                         intptr_t numDynamicSizes) {
  if (!isRankedTensor(b, tensorType, "the type of tensor.empty") ||
      anyNull(dynamicSizes, numDynamicSizes))
    return nullValue;
  if (numDynamicSizes != countDynamicDims(tensorType)) {
    emitError(b, "tensor.empty needs %lld dynamic sizes, got %lld",
              (long long)countDynamicDims(tensorType),
              (long long)numDynamicSizes);
    return nullValue;
  }
  return buildValue(b, "tensor.empty", numDynamicSizes, dynamicSizes,
                    tensorType, 0, NULL);
}

MlirValue cageBuildEmptyLike(CageBuilder *b, MlirValue like) {
  if (mlirValueIsNull(like))
    return nullValue;
  return cageBuildEmptyLikeWithElementType(b, like, elementType(like));
}

MlirValue cageBuildEmptyLikeWithElementType(CageBuilder *b, MlirValue like,
                                            MlirType elementType) {
  if (mlirValueIsNull(like))
    return nullValue;
  MlirType likeType = mlirValueGetType(like);
  if (!isRankedTensor(b, likeType, "the value an empty tensor is made like"))
    return nullValue;
  intptr_t rank = mlirShapedTypeGetRank(likeType);
  int64_t *shape = allocArray(rank, sizeof *shape);
  MlirValue *dynamicSizes = allocArray(rank, sizeof *dynamicSizes);
  intptr_t numDynamicSizes = 0;
  for (intptr_t d = 0; d < rank; ++d) {
    shape[d] = mlirShapedTypeGetDimSize(likeType, d);
    if (mlirShapedTypeIsDynamicDim(likeType, d))
      dynamicSizes[numDynamicSizes++] = cageBuildDim(b, like, d);
  }
  MlirType type = mlirRankedTensorTypeGet(
      rank, shape, elementType, mlirRankedTensorTypeGetEncoding(likeType));
  MlirValue empty = cageBuildEmpty(b, type, dynamicSizes, numDynamicSizes);
  free(dynamicSizes);
  free(shape);
  return empty;
}

/*===--- Linalg -----------------------------------------------------------===*/

static MlirNamedAttribute operandSegmentSizes(CageBuilder *b, int32_t numInputs,
                                              int32_t numOutputs) {
  int32_t sizes[] = {numInputs, numOutputs};
  return named(b, "operandSegmentSizes",
               mlirDenseI32ArrayGet(b->context, 2, sizes));
}

MlirValue cageBuildFill(CageBuilder *b, MlirValue value, MlirValue init) {
  MlirValue operands[] = {value, init};
  if (anyNull(operands, 2) || !isRegisteredOp(b, "linalg.fill"))
    return nullValue;
  MlirType type = mlirValueGetType(init);
  if (!isRankedTensor(b, type, "the init of linalg.fill"))
    return nullValue;
  MlirOperationState state =
      mlirOperationStateGet(str("linalg.fill"), b->location);
  mlirOperationStateAddOperands(&state, 2, operands);
  mlirOperationStateAddResults(&state, 1, &type);
  MlirNamedAttribute segments = operandSegmentSizes(b, 1, 1);
  mlirOperationStateAddAttributes(&state, 1, &segments);
  MlirRegion region = mlirRegionCreate();
  mlirOperationStateAddOwnedRegions(&state, 1, &region);
  MlirOperation fill = mlirOperationCreate(&state);
  /* Named ops get their body from the op's own region builder, which the C
   * API exposes only for an op already created with an empty region. */
  mlirLinalgFillBuiltinNamedOpRegion(fill);
  return mlirOperationGetResult(insert(b, fill), 0);
}

/* Parses one element of an array attribute, reporting what is wrong with
 * it; `index` says which element the error is about. */
typedef MlirAttribute (*ElementParser)(CageBuilder *b, const char *text,
                                       intptr_t index);

static MlirAttribute parseArray(CageBuilder *b, const char *const *texts,
                                intptr_t count, ElementParser parse) {
  MlirAttribute *elements = allocArray(count, sizeof *elements);
  for (intptr_t i = 0; i < count; ++i) {
    elements[i] = parse(b, texts[i], i);
    if (mlirAttributeIsNull(elements[i])) {
      free(elements);
      return mlirAttributeGetNull();
    }
  }
  MlirAttribute array = mlirArrayAttrGet(b->context, count, elements);
  free(elements);
  return array;
}

static MlirAttribute indexingMap(CageBuilder *b, const char *text,
                                 intptr_t index) {
  MlirAttribute map = mlirAttributeParseGet(b->context, str(text));
  if (!mlirAttributeIsNull(map) && mlirAttributeIsAAffineMap(map))
    return map;
  emitError(b, "indexing map %lld is not an affine_map: '%s'", (long long)index,
            text);
  return mlirAttributeGetNull();
}

/* Iterator types are #linalg.iterator_type<...> enum attributes, which the C
 * API can only parse. Checking the word first keeps odd text out of the
 * parser and gives a plainer error. */
static MlirAttribute iteratorType(CageBuilder *b, const char *word,
                                  intptr_t index) {
  if (strcmp(word, "parallel") != 0 && strcmp(word, "reduction") != 0) {
    emitError(b,
              "iterator type %lld must be 'parallel' or 'reduction', got '%s'",
              (long long)index, word);
    return mlirAttributeGetNull();
  }
  char text[64];
  snprintf(text, sizeof text, "#linalg.iterator_type<%s>", word);
  return mlirAttributeParseGet(b->context, str(text));
}

static MlirValue genericOperand(const CageGenericSpec *spec, intptr_t i) {
  return i < spec->numInputs ? spec->inputs[i]
                             : spec->outputs[i - spec->numInputs];
}

/* Lets the body callback run on a block that is not in any op yet; the block
 * is destroyed if the callback leaves an output without a value. */
static MlirBlock buildGenericBody(CageBuilder *b, const CageGenericSpec *spec) {
  intptr_t numArgs = spec->numInputs + spec->numOutputs;
  MlirType *types = allocArray(numArgs, sizeof *types);
  MlirLocation *locations = allocArray(numArgs, sizeof *locations);
  for (intptr_t i = 0; i < numArgs; ++i) {
    types[i] = elementType(genericOperand(spec, i));
    locations[i] = b->location;
  }
  MlirBlock block = mlirBlockCreate(numArgs, types, locations);
  free(locations);
  free(types);

  MlirValue *args = allocArray(numArgs, sizeof *args);
  for (intptr_t i = 0; i < numArgs; ++i)
    args[i] = mlirBlockGetArgument(block, i);
  MlirValue *yielded = allocArray(spec->numOutputs, sizeof *yielded);
  CageBuilder body = cageBuilderAtEndOfBlock(block, b->location);
  spec->body(&body, args, numArgs, yielded, spec->userData);

  if (anyNull(yielded, spec->numOutputs)) {
    emitError(b, "the body of linalg.generic left a yielded value null");
    mlirBlockDestroy(block);
    block = nullBlock;
  } else {
    buildOp(&body, "linalg.yield", spec->numOutputs, yielded, 0, NULL, 0, NULL);
  }
  free(yielded);
  free(args);
  return block;
}

static bool genericOutputsAreTensors(CageBuilder *b,
                                     const CageGenericSpec *spec) {
  for (intptr_t i = 0; i < spec->numOutputs; ++i)
    if (!isRankedTensor(b, mlirValueGetType(spec->outputs[i]),
                        "an output of linalg.generic"))
      return false;
  return true;
}

MlirOperation cageBuildGeneric(CageBuilder *b, const CageGenericSpec *spec) {
  if (anyNull(spec->inputs, spec->numInputs) ||
      anyNull(spec->outputs, spec->numOutputs) ||
      !isRegisteredOp(b, "linalg.generic") ||
      !genericOutputsAreTensors(b, spec))
    return nullOperation;
  MlirAttribute maps = parseArray(
      b, spec->indexingMaps, spec->numInputs + spec->numOutputs, indexingMap);
  if (mlirAttributeIsNull(maps))
    return nullOperation;
  MlirAttribute iterators =
      parseArray(b, spec->iteratorTypes, spec->numLoops, iteratorType);
  if (mlirAttributeIsNull(iterators))
    return nullOperation;
  MlirBlock body = buildGenericBody(b, spec);
  if (mlirBlockIsNull(body))
    return nullOperation;

  MlirOperationState state =
      mlirOperationStateGet(str("linalg.generic"), b->location);
  mlirOperationStateAddOperands(&state, spec->numInputs, spec->inputs);
  mlirOperationStateAddOperands(&state, spec->numOutputs, spec->outputs);
  for (intptr_t i = 0; i < spec->numOutputs; ++i) {
    MlirType type = mlirValueGetType(spec->outputs[i]);
    mlirOperationStateAddResults(&state, 1, &type);
  }
  MlirNamedAttribute attributes[] = {
      named(b, "indexing_maps", maps), named(b, "iterator_types", iterators),
      operandSegmentSizes(b, (int32_t)spec->numInputs,
                          (int32_t)spec->numOutputs)};
  mlirOperationStateAddAttributes(&state, 3, attributes);
  MlirRegion region = mlirRegionCreate();
  mlirRegionAppendOwnedBlock(region, body);
  mlirOperationStateAddOwnedRegions(&state, 1, &region);
  return insert(b, mlirOperationCreate(&state));
}

/* "(d0, d1, d2)" for rank 3, written at `out`; returns the length. */
static int dimList(char *out, size_t size, intptr_t rank) {
  int length = snprintf(out, size, "(");
  for (intptr_t d = 0; d < rank; ++d)
    length += snprintf(out + length, size - (size_t)length, "%sd%lld",
                       d ? ", " : "", (long long)d);
  return length + snprintf(out + length, size - (size_t)length, ")");
}

MlirOperation cageBuildElementwise(CageBuilder *b, const MlirValue *inputs,
                                   intptr_t numInputs, const MlirValue *outputs,
                                   intptr_t numOutputs,
                                   CageGenericBodyBuilder body,
                                   void *userData) {
  if (numOutputs < 1 || anyNull(outputs, numOutputs) ||
      !isRankedTensor(b, mlirValueGetType(outputs[0]),
                      "an output of an element-wise linalg.generic"))
    return nullOperation;
  intptr_t rank = mlirShapedTypeGetRank(mlirValueGetType(outputs[0]));
  char dims[1024];
  if (rank > 64) {
    emitError(b, "element-wise ops of rank %lld are not supported",
              (long long)rank);
    return nullOperation;
  }
  dimList(dims, sizeof dims, rank);
  char identity[2100], scalar[1100];
  snprintf(identity, sizeof identity, "affine_map<%s -> %s>", dims, dims);
  snprintf(scalar, sizeof scalar, "affine_map<%s -> ()>", dims);

  intptr_t numOperands = numInputs + numOutputs;
  const char **maps = allocArray(numOperands, sizeof *maps);
  for (intptr_t i = 0; i < numOperands; ++i) {
    MlirValue v = i < numInputs ? inputs[i] : outputs[i - numInputs];
    maps[i] = mlirValueIsNull(v) || mlirTypeIsAShaped(mlirValueGetType(v))
                  ? identity
                  : scalar;
  }
  const char **iterators = allocArray(rank ? rank : 1, sizeof *iterators);
  for (intptr_t d = 0; d < rank; ++d)
    iterators[d] = "parallel";
  CageGenericSpec spec = {inputs,    numInputs, outputs, numOutputs, maps,
                          iterators, rank,      body,    userData};
  MlirOperation op = cageBuildGeneric(b, &spec);
  free(iterators);
  free(maps);
  return op;
}

/*===--- Functions --------------------------------------------------------===*/

static MlirRegion functionBody(CageBuilder *b, MlirType functionType,
                               MlirBlock *entryBlock) {
  intptr_t numInputs = mlirFunctionTypeGetNumInputs(functionType);
  MlirType *types = allocArray(numInputs, sizeof *types);
  MlirLocation *locations = allocArray(numInputs, sizeof *locations);
  for (intptr_t i = 0; i < numInputs; ++i) {
    types[i] = mlirFunctionTypeGetInput(functionType, i);
    locations[i] = b->location;
  }
  *entryBlock = mlirBlockCreate(numInputs, types, locations);
  free(locations);
  free(types);
  MlirRegion region = mlirRegionCreate();
  mlirRegionAppendOwnedBlock(region, *entryBlock);
  return region;
}

MlirOperation cageBuildFunc(CageBuilder *b, const char *name,
                            MlirType functionType, MlirBlock *entryBlock) {
  *entryBlock = nullBlock;
  if (!mlirTypeIsAFunction(functionType)) {
    emitError(b, "func.func '%s' needs a function type", name);
    return nullOperation;
  }
  MlirOperationState state =
      mlirOperationStateGet(str("func.func"), b->location);
  MlirNamedAttribute attributes[] = {
      named(b, "sym_name", mlirStringAttrGet(b->context, str(name))),
      named(b, "function_type", mlirTypeAttrGet(functionType))};
  mlirOperationStateAddAttributes(&state, 2, attributes);
  MlirRegion body = functionBody(b, functionType, entryBlock);
  mlirOperationStateAddOwnedRegions(&state, 1, &body);
  return insert(b, mlirOperationCreate(&state));
}

MlirOperation cageBuildReturn(CageBuilder *b, const MlirValue *values,
                              intptr_t numValues) {
  if (anyNull(values, numValues))
    return nullOperation;
  return buildOp(b, "func.return", numValues, values, 0, NULL, 0, NULL);
}
