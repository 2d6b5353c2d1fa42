/*===- cage-run.c - JIT-compile and run one function on .npy files --------===*\
|*                                                                            *|
|* cage-run FILE.mlir --entry F --in a.npy ... --out r0.npy ...              *|
|*                                                                            *|
|* Parses FILE, runs cage-cpu-pipeline, JIT-compiles the module at O3 with   *|
|* the MLIR execution engine (libomp loaded for the OpenMP loops) and calls  *|
|* F through the packed wrapper of its _mlir_ciface_ entry point: arguments  *|
|* from .npy files in order (scalars as 0-d arrays), results to .npy files   *|
|* in order. Inputs are checked against F's signature (count, dtype, rank,   *|
|* static sizes) before anything is compiled. Results of tensor functions    *|
|* are buffers the generated code allocated with malloc: they are written    *|
|* and freed here, each distinct buffer once.                                *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#include "Npy.h"
#include "Tool.h"

#include "cage-c/Target/CPU.h"

#include "mlir-c/BuiltinTypes.h"
#include "mlir-c/ExecutionEngine.h"
#include "mlir-c/IR.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef CAGE_LIBOMP_PATH
#define CAGE_LIBOMP_PATH "libomp.so"
#endif

#define MAX_VALUES 1024

static const char usage[] =
    "usage: cage-run FILE.mlir --entry F [--in A.npy]... [--out R.npy]...\n"
    "                [--out-arg N=FILE.npy]... [--repeat N]\n"
    "                [--print-ir-after-all] [--no-vectorize] [--no-threads]\n"
    "                [--no-fuse-updates]\n"
    "\n"
    "JIT-compiles FILE through cage-cpu-pipeline and calls the public\n"
    "function F once (or N times).\n"
    "\n"
    "  --entry F             the function to call\n"
    "  --in FILE.npy         the next argument of F, in order; scalars are\n"
    "                        0-d arrays\n"
    "  --out FILE.npy        where the next result of F goes, in order\n"
    "  --out-arg N=FILE.npy  write argument N (0-based, a memref updated in\n"
    "                        place) after the last call\n"
    "  --repeat N            call F N times (default 1); results of all\n"
    "                        calls but the last are freed\n"
    "  --print-ir-after-all  print the module after every pass to stderr\n"
    "  --no-vectorize        cage-cpu-pipeline{vectorize=false}\n"
    "  --no-threads          cage-cpu-pipeline{threads=false} (no OpenMP)\n"
    "  --no-fuse-updates     cage-cpu-pipeline{fuse-updates=false}\n"
    "  --help                this text\n"
    "\n"
    "dtypes: f16, f32, f64 (float16/32/64), i1 (bool), i8, i16, i32, i64,\n"
    "index (int64). Threads: OMP_NUM_THREADS. libomp: CAGE_LIBOMP "
    "or " CAGE_LIBOMP_PATH ".\n";

typedef struct OutArg {
  long index;
  const char *path;
} OutArg;

typedef struct Options {
  const char *file, *entry;
  const char *ins[MAX_VALUES];
  int numIns;
  const char *outs[MAX_VALUES];
  int numOuts;
  OutArg outArgs[MAX_VALUES];
  int numOutArgs;
  long repeat;
  bool printIR;
  CageCPUPipelineOptions pipeline;
} Options;

static ToolDiagnostics diag = {"cage-run", NULL, 0};

/*===----------------------------------------------------------------------===*
 * Command line
 *===----------------------------------------------------------------------===*/

static bool parseLong(const char *s, long *value) {
  if (!s || !*s)
    return false;
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (*end || errno)
    return false;
  *value = v;
  return true;
}

/* 0: run; 1: error; 2: --help. */
static int parseArgs(int argc, char **argv, Options *o) {
  memset(o, 0, sizeof *o);
  o->repeat = 1;
  o->pipeline = cageCPUPipelineOptionsGetDefault();
  for (int i = 1; i < argc; ++i) {
    const char *arg = argv[i], *value;
    if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0)
      return 2;
    if (toolFlagValue(argc, argv, &i, "--entry", &value)) {
      if (!value || !*value) {
        toolError(&diag, "--entry needs a function name");
        return 1;
      }
      o->entry = value;
    } else if (toolFlagValue(argc, argv, &i, "--in", &value)) {
      if (!value) {
        toolError(&diag, "--in needs a .npy file");
        return 1;
      }
      if (o->numIns == MAX_VALUES) {
        toolError(&diag, "more than %d --in files", MAX_VALUES);
        return 1;
      }
      o->ins[o->numIns++] = value;
    } else if (toolFlagValue(argc, argv, &i, "--out-arg", &value)) {
      const char *eq = value ? strchr(value, '=') : NULL;
      char index[32];
      long n;
      if (!eq || (size_t)(eq - value) >= sizeof index || !eq[1]) {
        toolError(&diag, "--out-arg needs N=FILE.npy");
        return 1;
      }
      memcpy(index, value, (size_t)(eq - value));
      index[eq - value] = '\0';
      if (!parseLong(index, &n) || n < 0) {
        toolError(&diag, "--out-arg: '%s' is not an argument number", index);
        return 1;
      }
      if (o->numOutArgs == MAX_VALUES) {
        toolError(&diag, "more than %d --out-arg files", MAX_VALUES);
        return 1;
      }
      o->outArgs[o->numOutArgs++] = (OutArg){n, eq + 1};
    } else if (toolFlagValue(argc, argv, &i, "--out", &value)) {
      if (!value) {
        toolError(&diag, "--out needs a .npy file");
        return 1;
      }
      if (o->numOuts == MAX_VALUES) {
        toolError(&diag, "more than %d --out files", MAX_VALUES);
        return 1;
      }
      o->outs[o->numOuts++] = value;
    } else if (toolFlagValue(argc, argv, &i, "--repeat", &value)) {
      if (!parseLong(value, &o->repeat) || o->repeat < 1) {
        toolError(&diag, "--repeat needs a positive count, not '%s'",
                  value ? value : "");
        return 1;
      }
    } else if (strcmp(arg, "--print-ir-after-all") == 0) {
      o->printIR = true;
    } else if (toolPipelineFlag(arg, &o->pipeline)) {
      continue;
    } else if (!toolInputFileArg(&diag, arg, &o->file)) {
      return 1;
    }
  }
  if (!o->file) {
    toolError(&diag, "no input file (see --help)");
    return 1;
  }
  if (!o->entry) {
    toolError(&diag, "no --entry function (see --help)");
    return 1;
  }
  return 0;
}

/*===----------------------------------------------------------------------===*
 * Values
 *===----------------------------------------------------------------------===*/

static NpyDType npyType(ToolElement e, bool *ok) {
  *ok = true;
  switch (e) {
  case ToolF16:
    return NpyFloat16;
  case ToolF32:
    return NpyFloat32;
  case ToolF64:
    return NpyFloat64;
  case ToolI1:
    return NpyBool;
  case ToolI8:
    return NpyInt8;
  case ToolI16:
    return NpyInt16;
  case ToolI32:
    return NpyInt32;
  case ToolI64:
  case ToolIndex:
    return NpyInt64;
  case ToolBF16:
    break;
  }
  *ok = false;
  return NpyFloat32;
}

static void shapeString(const int64_t *shape, int rank, char *buf,
                        size_t size) {
  size_t n = (size_t)snprintf(buf, size, "(");
  for (int i = 0; i < rank && n < size; ++i)
    n += (size_t)snprintf(buf + n, size - n,
                          rank == 1 ? "%lld,"
                          : i       ? ", %lld"
                                    : "%lld",
                          (long long)shape[i]);
  if (n < size)
    snprintf(buf + n, size - n, ")");
}

static void typeShapeString(const ToolValueType *t, char *buf, size_t size) {
  size_t n = (size_t)snprintf(buf, size, "(");
  for (int i = 0; i < t->rank && n < size; ++i) {
    if (t->shape[i] < 0)
      n += (size_t)snprintf(buf + n, size - n, i ? ", ?" : "?");
    else
      n += (size_t)snprintf(buf + n, size - n, i ? ", %lld" : "%lld",
                            (long long)t->shape[i]);
  }
  if (n < size)
    snprintf(buf + n, size - n, t->rank == 1 ? ",)" : ")");
}

/* Memref descriptor: {allocated, aligned, offset, sizes[r], strides[r]}. */
static void packDescriptor(unsigned char *desc, void *data, int rank,
                           const int64_t *shape) {
  uintptr_t p = (uintptr_t)data;
  int64_t words[3 + 2 * TOOL_MAX_RANK];
  memcpy(&words[0], &p, sizeof p);
  memcpy(&words[1], &p, sizeof p);
  words[2] = 0;
  int64_t stride = 1;
  for (int i = rank - 1; i >= 0; --i) {
    words[3 + i] = shape[i];
    words[3 + rank + i] = stride;
    stride *= shape[i] > 0 ? shape[i] : 1;
  }
  memcpy(desc, words, 8 * (3 + 2 * (size_t)rank));
}

typedef struct Descriptor {
  void *allocated, *aligned;
  int64_t offset;
  int64_t sizes[TOOL_MAX_RANK], strides[TOOL_MAX_RANK];
} Descriptor;

static void unpackDescriptor(const unsigned char *desc, int rank,
                             Descriptor *d) {
  int64_t words[3 + 2 * TOOL_MAX_RANK];
  memcpy(words, desc, 8 * (3 + 2 * (size_t)rank));
  uintptr_t p;
  memcpy(&p, &words[0], sizeof p);
  d->allocated = (void *)p;
  memcpy(&p, &words[1], sizeof p);
  d->aligned = (void *)p;
  d->offset = words[2];
  for (int i = 0; i < rank; ++i) {
    d->sizes[i] = words[3 + i];
    d->strides[i] = words[3 + rank + i];
  }
}

/* Copies the strided memref `d` into the C-order `out` (allocated here). */
static bool gather(const Descriptor *d, const ToolValueType *t, NpyArray *out,
                   const char *what) {
  bool ok;
  out->dtype = npyType(t->element, &ok);
  out->rank = t->rank;
  for (int i = 0; i < t->rank; ++i) {
    if (d->sizes[i] < 0) {
      toolError(&diag, "%s has a negative size", what);
      return false;
    }
    out->shape[i] = d->sizes[i];
  }
  char error[256];
  if (!npyAllocate(out, error, sizeof error)) {
    toolError(&diag, "%s: %s", what, error);
    return false;
  }
  if (out->numElements == 0)
    return true;
  if (!d->aligned) {
    toolError(&diag, "%s has a null data pointer", what);
    npyFree(out);
    return false;
  }
  size_t es = toolElementSize(t->element);
  const unsigned char *base = (const unsigned char *)d->aligned;
  unsigned char *dst = out->data;
  int64_t index[TOOL_MAX_RANK] = {0};
  for (size_t k = 0; k < out->numElements; ++k) {
    int64_t offset = d->offset;
    for (int i = 0; i < t->rank; ++i)
      offset += index[i] * d->strides[i];
    memcpy(dst + k * es, base + offset * (int64_t)es, es);
    for (int i = t->rank - 1; i >= 0; --i) {
      if (++index[i] < d->sizes[i])
        break;
      index[i] = 0;
    }
  }
  return true;
}

/*===----------------------------------------------------------------------===*
 * main
 *===----------------------------------------------------------------------===*/

typedef struct Call {
  int numArgs, numResults;
  ToolValueType argTypes[MAX_VALUES], resultTypes[MAX_VALUES];
  NpyArray inputs[MAX_VALUES];
  unsigned char *argStorage[MAX_VALUES]; /* descriptor or scalar */
  void *argPointers[MAX_VALUES];         /* what args[i] points to */
  void *packed[MAX_VALUES + 2];
  /* Results: a struct (or one descriptor) behind a pointer, or a scalar
   * returned by value. */
  bool resultByPointer, resultByValue;
  unsigned char *resultStorage;
  void *resultPointer;
  size_t resultOffsets[MAX_VALUES];
} Call;

static bool checkSignature(MlirOperation func, Call *call, const Options *o) {
  MlirType type = toolFunctionType(func);
  call->numArgs = (int)mlirFunctionTypeGetNumInputs(type);
  call->numResults = (int)mlirFunctionTypeGetNumResults(type);
  if (call->numArgs > MAX_VALUES || call->numResults > MAX_VALUES) {
    toolError(&diag, "'%s' has more than %d arguments or results", o->entry,
              MAX_VALUES);
    return false;
  }
  char why[256], typeText[256];
  for (int i = 0; i < call->numArgs; ++i) {
    MlirType t = mlirFunctionTypeGetInput(type, i);
    if (!toolDescribeType(t, &call->argTypes[i], why, sizeof why)) {
      toolTypeString(t, typeText, sizeof typeText);
      toolError(&diag, "argument %d of '%s' has type %s: %s", i, o->entry,
                typeText, why);
      return false;
    }
  }
  for (int i = 0; i < call->numResults; ++i) {
    MlirType t = mlirFunctionTypeGetResult(type, i);
    if (!toolDescribeType(t, &call->resultTypes[i], why, sizeof why)) {
      toolTypeString(t, typeText, sizeof typeText);
      toolError(&diag, "result %d of '%s' has type %s: %s", i, o->entry,
                typeText, why);
      return false;
    }
  }
  if (o->numIns != call->numArgs) {
    toolError(&diag, "'%s' takes %d argument%s but %d --in file%s given",
              o->entry, call->numArgs, call->numArgs == 1 ? "" : "s", o->numIns,
              o->numIns == 1 ? " was" : "s were");
    return false;
  }
  if (o->numOuts != call->numResults) {
    toolError(&diag, "'%s' returns %d result%s but %d --out file%s given",
              o->entry, call->numResults, call->numResults == 1 ? "" : "s",
              o->numOuts, o->numOuts == 1 ? " was" : "s were");
    return false;
  }
  for (int k = 0; k < o->numOutArgs; ++k) {
    long n = o->outArgs[k].index;
    if (n >= call->numArgs || !call->argTypes[n].shaped) {
      toolError(&diag,
                "--out-arg %ld: '%s' has no tensor or memref argument %ld", n,
                o->entry, n);
      return false;
    }
  }
  return true;
}

static bool loadInputs(Call *call, const Options *o) {
  char error[600], expected[256], actual[256];
  for (int i = 0; i < call->numArgs; ++i) {
    const ToolValueType *t = &call->argTypes[i];
    NpyArray *a = &call->inputs[i];
    if (!npyRead(o->ins[i], a, error, sizeof error)) {
      toolError(&diag, "%s", error);
      return false;
    }
    bool ok;
    NpyDType want = npyType(t->element, &ok);
    if (!ok) {
      toolError(&diag, "argument %d: element type %s cannot come from .npy", i,
                toolElementName(t->element));
      return false;
    }
    if (a->dtype != want) {
      toolError(&diag, "%s: argument %d of '%s' needs dtype %s (%s), not %s",
                o->ins[i], i, o->entry, npyDTypeName(want),
                toolElementName(t->element), npyDTypeName(a->dtype));
      return false;
    }
    int rank = t->shaped ? t->rank : 0;
    bool shapeOk = a->rank == rank;
    for (int d = 0; shapeOk && d < rank; ++d)
      shapeOk = t->shape[d] < 0 || t->shape[d] == a->shape[d];
    if (!shapeOk) {
      shapeString(a->shape, a->rank, actual, sizeof actual);
      if (t->shaped)
        typeShapeString(t, expected, sizeof expected);
      else
        snprintf(expected, sizeof expected, "() (a scalar)");
      toolError(&diag, "%s: argument %d of '%s' needs shape %s, not %s",
                o->ins[i], i, o->entry, expected, actual);
      return false;
    }
    if (t->shaped) {
      call->argStorage[i] = calloc(1, toolValueSize(t));
      if (!call->argStorage[i]) {
        toolError(&diag, "out of memory");
        return false;
      }
      packDescriptor(call->argStorage[i], a->data, rank, a->shape);
      call->argPointers[i] = call->argStorage[i];
      call->packed[i] = &call->argPointers[i];
    } else {
      call->argStorage[i] = calloc(1, 16);
      if (!call->argStorage[i]) {
        toolError(&diag, "out of memory");
        return false;
      }
      memcpy(call->argStorage[i], a->data, toolElementSize(t->element));
      call->packed[i] = call->argStorage[i];
    }
  }
  return true;
}

/* Arguments of the packed wrapper of _mlir_ciface_F: a result pointer first
 * when F returns a memref or several values, then F's arguments, then a
 * slot for a scalar returned by value. */
static bool layoutResults(Call *call) {
  size_t offset = 0, align = 1;
  for (int i = 0; i < call->numResults; ++i) {
    size_t a = toolValueAlign(&call->resultTypes[i]);
    offset = (offset + a - 1) / a * a;
    call->resultOffsets[i] = offset;
    offset += toolValueSize(&call->resultTypes[i]);
    align = a > align ? a : align;
  }
  size_t size = (offset + align - 1) / align * align;
  call->resultStorage = calloc(1, size > 16 ? size : 16);
  if (!call->resultStorage) {
    toolError(&diag, "out of memory");
    return false;
  }
  call->resultByPointer = call->numResults > 1 || (call->numResults == 1 &&
                                                   call->resultTypes[0].shaped);
  call->resultByValue = call->numResults == 1 && !call->resultByPointer;
  int first = call->resultByPointer ? 1 : 0;
  memmove(&call->packed[first], &call->packed[0],
          sizeof(void *) * (size_t)call->numArgs);
  if (call->resultByPointer) {
    call->resultPointer = call->resultStorage;
    call->packed[0] = &call->resultPointer;
  }
  if (call->resultByValue)
    call->packed[first + call->numArgs] = call->resultStorage;
  return true;
}

/* Whether `p` is the buffer of an input (never freed here). */
static bool isInputBuffer(const Call *call, const void *p) {
  for (int i = 0; i < call->numArgs; ++i)
    if (call->argTypes[i].shaped && call->inputs[i].data == p)
      return true;
  return false;
}

/* Frees the buffers of the results of one call, each once: first collects
 * the distinct ones, then frees them. */
static void freeResults(Call *call) {
  void *owned[MAX_VALUES];
  int numOwned = 0;
  for (int i = 0; i < call->numResults; ++i) {
    if (!call->resultTypes[i].shaped)
      continue;
    Descriptor d;
    unpackDescriptor(call->resultStorage + call->resultOffsets[i],
                     call->resultTypes[i].rank, &d);
    bool seen = d.allocated == NULL || isInputBuffer(call, d.allocated);
    for (int k = 0; k < numOwned && !seen; ++k)
      seen = owned[k] == d.allocated;
    if (!seen)
      owned[numOwned++] = d.allocated;
  }
  for (int k = 0; k < numOwned; ++k)
    free(owned[k]);
}

static bool writeResults(Call *call, const Options *o) {
  char error[600], what[64];
  for (int i = 0; i < call->numResults; ++i) {
    const ToolValueType *t = &call->resultTypes[i];
    NpyArray out;
    memset(&out, 0, sizeof out);
    snprintf(what, sizeof what, "result %d", i);
    if (t->shaped) {
      Descriptor d;
      unpackDescriptor(call->resultStorage + call->resultOffsets[i], t->rank,
                       &d);
      if (!gather(&d, t, &out, what))
        return false;
    } else {
      bool ok;
      out.dtype = npyType(t->element, &ok);
      out.rank = 0;
      if (!npyAllocate(&out, error, sizeof error)) {
        toolError(&diag, "%s: %s", what, error);
        return false;
      }
      memcpy(out.data, call->resultStorage + call->resultOffsets[i],
             toolElementSize(t->element));
    }
    bool ok = npyWrite(o->outs[i], &out, error, sizeof error);
    npyFree(&out);
    if (!ok) {
      toolError(&diag, "%s", error);
      return false;
    }
  }
  for (int k = 0; k < o->numOutArgs; ++k) {
    long n = o->outArgs[k].index;
    Descriptor d;
    unpackDescriptor(call->argStorage[n], call->argTypes[n].rank, &d);
    NpyArray out;
    memset(&out, 0, sizeof out);
    snprintf(what, sizeof what, "argument %ld", n);
    if (!gather(&d, &call->argTypes[n], &out, what))
      return false;
    bool ok = npyWrite(o->outArgs[k].path, &out, error, sizeof error);
    npyFree(&out);
    if (!ok) {
      toolError(&diag, "%s", error);
      return false;
    }
  }
  return true;
}

static void releaseCall(Call *call) {
  for (int i = 0; i < call->numArgs; ++i) {
    npyFree(&call->inputs[i]);
    free(call->argStorage[i]);
  }
  free(call->resultStorage);
}

int main(int argc, char **argv) {
  Options o;
  int parsed = parseArgs(argc, argv, &o);
  if (parsed == 2) {
    fputs(usage, stdout);
    return 0;
  }
  if (parsed)
    return 1;
  diag.file = o.file;

  static Call call;
  int status = 1;
  MlirContext ctx = toolCreateContext(&diag);
  MlirModule module = toolParseFile(ctx, &diag, o.file);
  MlirExecutionEngine jit = {NULL};
  if (mlirModuleIsNull(module))
    goto done;
  MlirOperation func = toolLookupEntry(module, &diag, o.entry);
  if (mlirOperationIsNull(func) || !checkSignature(func, &call, &o) ||
      !loadInputs(&call, &o) || !layoutResults(&call))
    goto done;

  if (!toolRunPipeline(ctx, &diag, module, &o.pipeline, o.printIR))
    goto done;

  const char *libomp = getenv("CAGE_LIBOMP");
  if (!libomp || !*libomp)
    libomp = CAGE_LIBOMP_PATH;
  MlirStringRef libs[1] = {mlirStringRefCreateFromCString(libomp)};
  int numLibs = 0;
  if (o.pipeline.threads) {
    if (access(libomp, R_OK) != 0) {
      toolError(&diag,
                "cannot load the OpenMP runtime '%s' (set CAGE_LIBOMP, or "
                "use --no-threads)",
                libomp);
      goto done;
    }
    numLibs = 1;
  }
  jit = mlirExecutionEngineCreate(module, 3, numLibs, libs, false, false);
  if (mlirExecutionEngineIsNull(jit)) {
    toolError(&diag, "cannot JIT-compile '%s'", o.file);
    goto done;
  }
  /* LookupPacked takes the wrapped function's name, InvokePacked the name
   * without the _mlir_ciface_ prefix it adds. */
  char name[512];
  snprintf(name, sizeof name, "_mlir_ciface_%s", o.entry);
  if (!mlirExecutionEngineLookupPacked(jit,
                                       mlirStringRefCreateFromCString(name))) {
    toolError(&diag,
              "cannot find or link '%s' in the compiled code (unresolved "
              "symbols are listed above)",
              name);
    goto done;
  }
  MlirStringRef entry = mlirStringRefCreateFromCString(o.entry);
  for (long r = 0; r < o.repeat; ++r) {
    if (r > 0)
      freeResults(&call);
    if (mlirLogicalResultIsFailure(
            mlirExecutionEngineInvokePacked(jit, entry, call.packed))) {
      toolError(&diag, "calling '%s' failed", name);
      goto done;
    }
  }
  status = writeResults(&call, &o) ? 0 : 1;
  freeResults(&call);

done:
  if (!mlirExecutionEngineIsNull(jit))
    mlirExecutionEngineDestroy(jit);
  releaseCall(&call);
  if (!mlirModuleIsNull(module))
    mlirModuleDestroy(module);
  mlirContextDestroy(ctx);
  return status;
}
