/*===- cage-run.c - JIT-compile and run one function on .npy files --------===*\
|*                                                                            *|
|* cage-run FILE.mlir [--entry F] --in a.npy ... --out r0.npy ...            *|
|*                                                                            *|
|* Parses FILE ("-": stdin), runs cage-cpu-pipeline, JIT-compiles the module *|
|* at O3 with the MLIR execution engine (libomp loaded for the OpenMP loops) *|
|* and calls F (by default the only public function) through the packed     *|
|* wrapper of its _mlir_ciface_ entry point (of F itself with                *|
|* --no-c-interface): arguments from .npy files in order (scalars as 0-d    *|
|* arrays, bf16 as uint16 bits), results to .npy files in order. Inputs are  *|
|* checked against F's signature (count, dtype, rank, static sizes) before   *|
|* anything is compiled. Results of tensor functions are buffers the        *|
|* generated code allocated with malloc: they are written and freed here,    *|
|* each distinct buffer once. A call that fails a run-time check (the       *|
|* module's cage_last_error()) is an error, and nothing is written. Every  *|
|* output goes to a temporary file; all are renamed into place only when   *|
|* all were written.                                                        *|
|*                                                                            *|
|* With --target=cuda: cage-gpu-pipeline instead, and F runs on device 0    *|
|* through its GPU entry point (__cage_cuda_F: the default stream, a        *|
|* status): the arrays are copied to device memory first, the results and  *|
|* --out-arg arguments back after the last call (docs/GPU.md).              *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#define _POSIX_C_SOURCE 200809L /* access */

#include "Npy.h"
#include "Tool.h"

#include "cage-c/Target/CPU.h"
#include "cage-c/Target/CUDA.h"
#include "cage-runtime/CUDA.h"

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
    "usage: cage-run FILE.mlir [--entry F] [--in A.npy]... [--out R.npy]...\n"
    "                [--out-arg N=FILE.npy]... [--repeat N]\n"
    "                [--target=cpu|cuda] [--chip=CHIP] [--cuda-toolkit=DIR]\n"
    "                [--print-ir-after-all] [--perf-listener] "
    "[--gdb-listener]\n"
    "                [pipeline options]\n"
    "\n"
    "JIT-compiles FILE ('-' reads stdin) through cage-cpu-pipeline and calls\n"
    "the public function F once (or N times).\n"
    "\n"
    "  --entry F             the function to call (default: the only public\n"
    "                        function of FILE)\n"
    "  --in FILE.npy         the next argument of F, in order; scalars are\n"
    "                        0-d arrays\n"
    "  --out FILE.npy        where the next result of F goes, in order\n"
    "  --out-arg N=FILE.npy  write argument N (0-based, a memref updated in\n"
    "                        place) after the last call\n"
    "  --repeat N            call F N times (default 1); results of all\n"
    "                        calls but the last are freed\n"
    "  --target=cuda         run F on the NVIDIA GPU (device 0) through\n"
    "                        cage-gpu-pipeline: arrays are copied to the\n"
    "                        device and the outputs back (docs/GPU.md); of\n"
    "                        the pipeline options only --no-fuse-updates\n"
    "                        applies\n"
    "  --chip=CHIP           with --target=cuda: the PTX's chip (default\n"
    "                        sm_80; the driver compiles it for the device)\n"
    "  --cuda-toolkit=DIR    with --target=cuda: the toolkit's libdevice\n"
    "                        (default $CUDA_HOME, else /usr/local/cuda)\n"
    "  --print-ir-after-all  print the module after every pass to stderr\n"
    "  --perf-listener       register LLVM's perf JIT event listener: it\n"
    "                        writes .debug/jit/*/jit-PID.dump under\n"
    "                        $JITDUMPDIR, $TMPDIR or /tmp (for `perf inject\n"
    "                        --jit`)\n"
    "  --gdb-listener        register the JITed code with GDB\n"
    "  --help                this text\n"
    "  --version             cage's and LLVM's version\n"
    "\n"
    "%s"
    "  With --no-c-interface F is called with its own calling convention\n"
    "  (memrefs as separate pointers, offset, sizes and strides).\n"
    "\n"
    "dtypes: f16, f32, f64 (float16/32/64), bf16 (uint16: the bit patterns),\n"
    "i1 (bool), i8, i16, i32, i64, index (int64). Outputs are written to\n"
    "temporary files and renamed into place when all were written; a call\n"
    "that fails a run-time check is an error, and then nothing is written.\n"
    "Threads: OMP_NUM_THREADS. libomp: CAGE_LIBOMP or " CAGE_LIBOMP_PATH ".\n";

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
  bool printIR, perfListener, gdbListener;
  CageCPUPipelineOptions pipeline;
  ToolTargetFlags targets;
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

/* Two outputs with one path: the second would silently replace the first. */
static bool distinctOutputs(const Options *o) {
  const char *paths[2 * MAX_VALUES];
  int n = 0;
  for (int i = 0; i < o->numOuts; ++i)
    paths[n++] = o->outs[i];
  for (int i = 0; i < o->numOutArgs; ++i)
    paths[n++] = o->outArgs[i].path;
  for (int i = 0; i < n; ++i)
    for (int k = 0; k < i; ++k)
      if (strcmp(paths[i], paths[k]) == 0) {
        toolError(&diag, "'%s' is given as an output twice", paths[i]);
        return false;
      }
  return true;
}

static ToolParsed parseArgs(int argc, char **argv, Options *o) {
  memset(o, 0, sizeof *o);
  o->repeat = 1;
  o->pipeline = toolPipelineOptionsGetDefault();
  o->targets = toolTargetFlagsGetDefault();
  for (int i = 1; i < argc; ++i) {
    const char *arg = argv[i], *value;
    if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0)
      return ToolParsedHelp;
    if (strcmp(arg, "--version") == 0)
      return ToolParsedVersion;
    if (toolFlagValue(argc, argv, &i, "--entry", &value)) {
      if (!value || !*value) {
        toolError(&diag, "--entry needs a function name");
        return ToolParsedError;
      }
      o->entry = value;
    } else if (toolFlagValue(argc, argv, &i, "--in", &value)) {
      if (!value) {
        toolError(&diag, "--in needs a .npy file");
        return ToolParsedError;
      }
      if (o->numIns == MAX_VALUES) {
        toolError(&diag, "more than %d --in files", MAX_VALUES);
        return ToolParsedError;
      }
      o->ins[o->numIns++] = value;
    } else if (toolFlagValue(argc, argv, &i, "--out-arg", &value)) {
      const char *eq = value ? strchr(value, '=') : NULL;
      char index[32];
      long n;
      if (!eq || (size_t)(eq - value) >= sizeof index || !eq[1]) {
        toolError(&diag, "--out-arg needs N=FILE.npy");
        return ToolParsedError;
      }
      memcpy(index, value, (size_t)(eq - value));
      index[eq - value] = '\0';
      if (!parseLong(index, &n) || n < 0) {
        toolError(&diag, "--out-arg: '%s' is not an argument number", index);
        return ToolParsedError;
      }
      if (o->numOutArgs == MAX_VALUES) {
        toolError(&diag, "more than %d --out-arg files", MAX_VALUES);
        return ToolParsedError;
      }
      o->outArgs[o->numOutArgs++] = (OutArg){n, eq + 1};
    } else if (toolFlagValue(argc, argv, &i, "--out", &value)) {
      if (!value) {
        toolError(&diag, "--out needs a .npy file");
        return ToolParsedError;
      }
      if (o->numOuts == MAX_VALUES) {
        toolError(&diag, "more than %d --out files", MAX_VALUES);
        return ToolParsedError;
      }
      o->outs[o->numOuts++] = value;
    } else if (toolFlagValue(argc, argv, &i, "--repeat", &value)) {
      if (!parseLong(value, &o->repeat) || o->repeat < 1) {
        toolError(&diag, "--repeat needs a positive count, not '%s'",
                  value ? value : "");
        return ToolParsedError;
      }
    } else if (toolTargetFlag(&diag, argc, argv, &i, &o->targets)) {
      if (diag.errors)
        return ToolParsedError;
    } else if (strcmp(arg, "--print-ir-after-all") == 0) {
      o->printIR = true;
    } else if (strcmp(arg, "--perf-listener") == 0) {
      o->perfListener = true;
    } else if (strcmp(arg, "--gdb-listener") == 0) {
      o->gdbListener = true;
    } else if (toolPipelineFlag(&diag, argc, argv, &i, &o->pipeline)) {
      if (diag.errors)
        return ToolParsedError;
      toolTargetNotePipelineFlag(&o->targets, arg);
    } else if (!toolInputFileArg(&diag, arg, &o->file)) {
      return ToolParsedError;
    }
  }
  if (!o->file) {
    toolError(&diag, "no input file (see --help)");
    return ToolParsedError;
  }
  if (!toolTargetFlagsCheck(&diag, &o->targets))
    return ToolParsedError;
  /* The JIT compiles for the host. */
  toolPipelineForTarget(&o->pipeline, NULL);
  return distinctOutputs(o) ? ToolParsedRun : ToolParsedError;
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
    /* NumPy has no bf16 (without ml_dtypes): its bit patterns as uint16. */
    return NpyUInt16;
  }
  *ok = false;
  return NpyFloat32;
}

/* "(2, 3)", "(5,)", "()": the shape as NumPy prints it; malloc'ed (null
 * when out of memory). */
static char *shapeString(const int64_t *shape, int rank) {
  size_t size = 8 + 24 * (size_t)rank, n = 1;
  char *buf = malloc(size);
  if (!buf)
    return NULL;
  buf[0] = '(';
  for (int i = 0; i < rank; ++i)
    n += (size_t)snprintf(buf + n, size - n,
                          rank == 1 ? "%lld,"
                          : i       ? ", %lld"
                                    : "%lld",
                          (long long)shape[i]);
  snprintf(buf + n, size - n, ")");
  return buf;
}

/* The shape of a type, "?" for dynamic sizes: "(?, 128)"; malloc'ed. */
static char *typeShapeString(const ToolValueType *t) {
  size_t size = 8 + 24 * (size_t)t->rank, n = 1;
  char *buf = malloc(size);
  if (!buf)
    return NULL;
  buf[0] = '(';
  for (int i = 0; i < t->rank; ++i) {
    if (t->shape[i] < 0)
      n += (size_t)snprintf(buf + n, size - n, i ? ", ?" : "?");
    else
      n += (size_t)snprintf(buf + n, size - n, i ? ", %lld" : "%lld",
                            (long long)t->shape[i]);
  }
  snprintf(buf + n, size - n, t->rank == 1 ? ",)" : ")");
  return buf;
}

/* Memref descriptor: {allocated, aligned, offset, sizes[r], strides[r]},
 * 3 + 2r words of 8 bytes, for any rank r. */
static int64_t descriptorWord(const unsigned char *desc, int w) {
  int64_t word;
  memcpy(&word, desc + 8 * (size_t)w, sizeof word);
  return word;
}

static void setDescriptorWord(unsigned char *desc, int w, int64_t word) {
  memcpy(desc + 8 * (size_t)w, &word, sizeof word);
}

static void *descriptorPointer(const unsigned char *desc, int w) {
  uintptr_t p;
  memcpy(&p, desc + 8 * (size_t)w, sizeof p);
  return (void *)p;
}

/* A C-order descriptor over `data`. */
static void packDescriptor(unsigned char *desc, void *data, int rank,
                           const int64_t *shape) {
  uintptr_t p = (uintptr_t)data;
  memset(desc, 0, 24);
  memcpy(desc, &p, sizeof p);
  memcpy(desc + 8, &p, sizeof p);
  int64_t stride = 1;
  for (int i = rank - 1; i >= 0; --i) {
    setDescriptorWord(desc, 3 + i, shape[i]);
    setDescriptorWord(desc, 3 + rank + i, stride);
    stride *= shape[i] > 0 ? shape[i] : 1;
  }
}

/* Copies the strided memref of descriptor `desc` into the C-order `out`
 * (allocated here). */
static bool gather(const unsigned char *desc, const ToolValueType *t,
                   NpyArray *out, const char *what) {
  bool ok;
  NpyDType dtype = npyType(t->element, &ok);
  int rank = t->rank;
  /* sizes, strides and the index of an element, rank each. */
  int64_t *words = malloc(sizeof(int64_t) * 3 * (rank > 0 ? (size_t)rank : 1));
  if (!words) {
    toolError(&diag, "out of memory");
    return false;
  }
  int64_t *sizes = words, *strides = words + rank, *index = words + 2 * rank;
  for (int i = 0; i < rank; ++i) {
    sizes[i] = descriptorWord(desc, 3 + i);
    strides[i] = descriptorWord(desc, 3 + rank + i);
    index[i] = 0;
    if (sizes[i] < 0) {
      toolError(&diag, "%s has a negative size", what);
      free(words);
      return false;
    }
  }
  char error[256];
  if (!npyCreate(out, dtype, rank, sizes, error, sizeof error)) {
    toolError(&diag, "%s: %s", what, error);
    free(words);
    return false;
  }
  const unsigned char *base = descriptorPointer(desc, 1);
  int64_t offset0 = descriptorWord(desc, 2);
  if (out->numElements != 0 && !base) {
    toolError(&diag, "%s has a null data pointer", what);
    npyFree(out);
    free(words);
    return false;
  }
  size_t es = toolElementSize(t->element);
  unsigned char *dst = out->data;
  for (size_t k = 0; k < out->numElements; ++k) {
    int64_t offset = offset0;
    for (int i = 0; i < rank; ++i)
      offset += index[i] * strides[i];
    memcpy(dst + k * es, base + offset * (int64_t)es, es);
    for (int i = rank - 1; i >= 0; --i) {
      if (++index[i] < sizes[i])
        break;
      index[i] = 0;
    }
  }
  free(words);
  return true;
}

/*===----------------------------------------------------------------------===*
 * main
 *===----------------------------------------------------------------------===*/

typedef struct Call {
  const char *entry;
  int numArgs, numResults;
  ToolValueType argTypes[MAX_VALUES], resultTypes[MAX_VALUES];
  NpyArray inputs[MAX_VALUES];
  unsigned char *argStorage[MAX_VALUES]; /* descriptor or scalar */
  void *argPointers[MAX_VALUES];         /* the descriptors' addresses */
  /* The arguments of the packed wrapper: pointers to each argument (and
   * result) of the function it calls. */
  void **packed;
  /* Results: a struct (or one descriptor) behind a pointer, or returned by
   * value (a scalar; any results without the C interface). */
  bool resultByPointer, resultByValue;
  unsigned char *resultStorage;
  void *resultPointer;
  size_t resultOffsets[MAX_VALUES];
  /* With --target=cuda: the entry point's stream and status, and the
   * device copies of the arrays. */
  void *stream;
  int32_t status;
  CageCudaDevicePointer deviceArgs[MAX_VALUES];
} Call;

static bool checkSignature(MlirOperation func, Call *call, const Options *o) {
  MlirType type = toolFunctionType(func);
  call->numArgs = (int)mlirFunctionTypeGetNumInputs(type);
  call->numResults = (int)mlirFunctionTypeGetNumResults(type);
  if (call->numArgs > MAX_VALUES || call->numResults > MAX_VALUES) {
    toolError(&diag, "'%s' has more than %d arguments or results", call->entry,
              MAX_VALUES);
    call->numArgs = call->numResults = 0; /* nothing to release */
    return false;
  }
  char why[256], typeText[256];
  for (int i = 0; i < call->numArgs; ++i) {
    MlirType t = mlirFunctionTypeGetInput(type, i);
    if (!toolDescribeType(t, &call->argTypes[i], why, sizeof why)) {
      toolTypeString(t, typeText, sizeof typeText);
      toolError(&diag, "argument %d of '%s' has type %s: %s", i, call->entry,
                typeText, why);
      return false;
    }
  }
  for (int i = 0; i < call->numResults; ++i) {
    MlirType t = mlirFunctionTypeGetResult(type, i);
    if (!toolDescribeType(t, &call->resultTypes[i], why, sizeof why)) {
      toolTypeString(t, typeText, sizeof typeText);
      toolError(&diag, "result %d of '%s' has type %s: %s", i, call->entry,
                typeText, why);
      return false;
    }
  }
  if (o->numIns != call->numArgs) {
    toolError(&diag, "'%s' takes %d argument%s but %d --in file%s given",
              call->entry, call->numArgs, call->numArgs == 1 ? "" : "s",
              o->numIns, o->numIns == 1 ? " was" : "s were");
    return false;
  }
  if (o->numOuts != call->numResults) {
    toolError(&diag, "'%s' returns %d result%s but %d --out file%s given",
              call->entry, call->numResults, call->numResults == 1 ? "" : "s",
              o->numOuts, o->numOuts == 1 ? " was" : "s were");
    return false;
  }
  for (int k = 0; k < o->numOutArgs; ++k) {
    long n = o->outArgs[k].index;
    if (n >= call->numArgs || !call->argTypes[n].shaped) {
      toolError(&diag,
                "--out-arg %ld: '%s' has no tensor or memref argument %ld", n,
                call->entry, n);
      return false;
    }
  }
  return true;
}

static bool loadInputs(Call *call, const Options *o) {
  char error[600];
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
      toolError(&diag, "%s: argument %d of '%s' needs dtype %s (%s%s), not %s",
                o->ins[i], i, call->entry, npyDTypeName(want),
                toolElementName(t->element),
                t->element == ToolBF16 ? " as its bit patterns" : "",
                npyDTypeName(a->dtype));
      return false;
    }
    int rank = t->shaped ? t->rank : 0;
    bool shapeOk = a->rank == rank;
    for (int d = 0; shapeOk && d < rank; ++d)
      shapeOk = t->shape[d] < 0 || t->shape[d] == a->shape[d];
    if (!shapeOk) {
      char *actual = shapeString(a->shape, a->rank);
      char *expected = t->shaped ? typeShapeString(t) : NULL;
      const char *needed = !t->shaped ? "() (a scalar)"
                           : expected ? expected
                                      : "?";
      toolError(&diag, "%s: argument %d of '%s' needs shape %s, not %s",
                o->ins[i], i, call->entry, needed, actual ? actual : "?");
      free(actual);
      free(expected);
      return false;
    }
    call->argStorage[i] = calloc(1, t->shaped ? toolValueSize(t) : 16);
    if (!call->argStorage[i]) {
      toolError(&diag, "out of memory");
      return false;
    }
    if (t->shaped) {
      packDescriptor(call->argStorage[i], a->data, rank, a->shape);
      call->argPointers[i] = call->argStorage[i];
    } else {
      memcpy(call->argStorage[i], a->data, toolElementSize(t->element));
    }
  }
  return true;
}

/* The arguments of the packed wrapper. Of _mlir_ciface_F: a result pointer
 * first when F returns a memref or several values, then a pointer to each
 * argument (a descriptor pointer for memrefs), then a slot for a scalar
 * result returned by value. Of F itself (no C interface): every field of a
 * memref descriptor is an argument of its own, and the results come back by
 * value as one struct, laid out as the C interface's. */
static bool packArguments(Call *call, bool cInterface, bool cuda) {
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
  size_t count = 3; /* the result pointer, the result, the stream */
  for (int i = 0; i < call->numArgs; ++i)
    count += cInterface || !call->argTypes[i].shaped
                 ? 1
                 : 3 + 2 * (size_t)call->argTypes[i].rank;
  call->packed = calloc(count, sizeof(void *));
  if (!call->resultStorage || !call->packed) {
    toolError(&diag, "out of memory");
    return false;
  }
  /* The GPU's entry point returns a status: every result by pointer. */
  call->resultByPointer =
      cInterface &&
      (call->numResults > 1 ||
       (call->numResults == 1 && (call->resultTypes[0].shaped || cuda)));
  call->resultByValue = call->numResults > 0 && !call->resultByPointer;
  size_t n = 0;
  if (cuda)
    call->packed[n++] = &call->stream;
  if (call->resultByPointer) {
    call->resultPointer = call->resultStorage;
    call->packed[n++] = &call->resultPointer;
  }
  for (int i = 0; i < call->numArgs; ++i) {
    const ToolValueType *t = &call->argTypes[i];
    if (!t->shaped)
      call->packed[n++] = call->argStorage[i];
    else if (cInterface)
      call->packed[n++] = &call->argPointers[i];
    else
      for (int w = 0; w < 3 + 2 * t->rank; ++w)
        call->packed[n++] = call->argStorage[i] + 8 * w;
  }
  if (call->resultByValue)
    call->packed[n++] = call->resultStorage;
  if (cuda)
    call->packed[n++] = &call->status;
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
    void *allocated =
        descriptorPointer(call->resultStorage + call->resultOffsets[i], 0);
    bool seen = allocated == NULL || isInputBuffer(call, allocated);
    for (int k = 0; k < numOwned && !seen; ++k)
      seen = owned[k] == allocated;
    if (!seen)
      owned[numOwned++] = allocated;
  }
  for (int k = 0; k < numOwned; ++k)
    free(owned[k]);
}

/*===----------------------------------------------------------------------===*
 * The GPU (--target=cuda)
 *===----------------------------------------------------------------------===*/

static bool cudaFailed(const char *what) {
  toolError(&diag, "%s: %s", what, cageCudaLastError());
  return false;
}

static CageCudaDevicePointer deviceAddress(const void *p) {
  return (CageCudaDevicePointer)(uintptr_t)p;
}

/* Each array argument into device memory, its descriptor pointing there. */
static bool uploadArguments(Call *call) {
  for (int i = 0; i < call->numArgs; ++i) {
    if (!call->argTypes[i].shaped)
      continue;
    const NpyArray *a = &call->inputs[i];
    size_t bytes = a->numElements * npyDTypeSize(a->dtype);
    if (cageCudaMalloc(&call->deviceArgs[i], bytes) ||
        cageCudaCopyToDevice(call->deviceArgs[i], a->data, bytes))
      return cudaFailed("cannot copy the arguments to the GPU");
    setDescriptorWord(call->argStorage[i], 0, (int64_t)call->deviceArgs[i]);
    setDescriptorWord(call->argStorage[i], 1, (int64_t)call->deviceArgs[i]);
  }
  return true;
}

/* Argument n (updated in place) back into its host array, which its
 * descriptor then describes again. */
static bool downloadArgument(Call *call, long n) {
  NpyArray *a = &call->inputs[n];
  if (cageCudaCopyToHost(a->data, call->deviceArgs[n],
                         a->numElements * npyDTypeSize(a->dtype)))
    return cudaFailed("cannot copy an argument from the GPU");
  setDescriptorWord(call->argStorage[n], 0, (int64_t)(uintptr_t)a->data);
  setDescriptorWord(call->argStorage[n], 1, (int64_t)(uintptr_t)a->data);
  return true;
}

static bool isDeviceArgument(const Call *call, CageCudaDevicePointer p) {
  for (int i = 0; i < call->numArgs; ++i)
    if (call->argTypes[i].shaped && call->deviceArgs[i] == p)
      return true;
  return false;
}

/* Frees the device buffers of the results of one call, each once (not the
 * arguments' buffers, which a function may return). */
static void freeDeviceResults(Call *call) {
  CageCudaDevicePointer owned[MAX_VALUES];
  int numOwned = 0;
  for (int i = 0; i < call->numResults; ++i) {
    if (!call->resultTypes[i].shaped)
      continue;
    CageCudaDevicePointer p = deviceAddress(
        descriptorPointer(call->resultStorage + call->resultOffsets[i], 0));
    bool seen = p == 0 || isDeviceArgument(call, p);
    for (int k = 0; k < numOwned && !seen; ++k)
      seen = owned[k] == p;
    if (!seen)
      owned[numOwned++] = p;
  }
  for (int k = 0; k < numOwned; ++k)
    cageCudaFree(owned[k]);
}

/* Each array result into a host buffer of its own (malloc), which its
 * descriptor then describes (the code returns dense buffers); the device
 * buffers are freed. */
static bool downloadResults(Call *call) {
  bool ok = true;
  void *host[MAX_VALUES] = {NULL};
  for (int i = 0; ok && i < call->numResults; ++i) {
    const ToolValueType *t = &call->resultTypes[i];
    if (!t->shaped)
      continue;
    unsigned char *desc = call->resultStorage + call->resultOffsets[i];
    size_t count = 1, size = toolElementSize(t->element);
    for (int d = 0; d < t->rank; ++d)
      count *= (size_t)descriptorWord(desc, 3 + d);
    host[i] = malloc(count ? count * size : 1);
    CageCudaDevicePointer from =
        deviceAddress(descriptorPointer(desc, 1)) +
        (CageCudaDevicePointer)(descriptorWord(desc, 2) * (int64_t)size);
    ok = host[i] && cageCudaCopyToHost(host[i], from, count * size) == 0;
    if (!ok)
      host[i] ? cudaFailed("cannot copy a result from the GPU")
              : toolError(&diag, "out of memory");
  }
  freeDeviceResults(call);
  for (int i = 0; i < call->numResults; ++i) {
    if (!call->resultTypes[i].shaped)
      continue;
    unsigned char *desc = call->resultStorage + call->resultOffsets[i];
    setDescriptorWord(desc, 0, (int64_t)(uintptr_t)host[i]);
    setDescriptorWord(desc, 1, (int64_t)(uintptr_t)host[i]);
    setDescriptorWord(desc, 2, 0);
  }
  return ok;
}

static void freeDeviceArguments(Call *call) {
  for (int i = 0; i < call->numArgs; ++i)
    if (call->deviceArgs[i]) {
      cageCudaFree(call->deviceArgs[i]);
      call->deviceArgs[i] = 0;
    }
}

/* Writes `out` to a temporary file of `outputs` for `path`. */
static bool writeOutput(ToolOutputs *outputs, const char *path, NpyArray *out) {
  char error[600];
  const char *temporary = toolOutputsAdd(outputs, &diag, path);
  bool ok = temporary && npyWrite(temporary, out, error, sizeof error);
  if (temporary && !ok)
    toolError(&diag, "cannot write '%s': %s", path, error);
  npyFree(out);
  return ok;
}

static bool writeResults(Call *call, const Options *o) {
  char error[600], what[64];
  ToolOutputs outputs = {0};
  bool ok = true;
  for (int i = 0; ok && i < call->numResults; ++i) {
    const ToolValueType *t = &call->resultTypes[i];
    NpyArray out;
    memset(&out, 0, sizeof out);
    snprintf(what, sizeof what, "result %d", i);
    if (t->shaped) {
      ok = gather(call->resultStorage + call->resultOffsets[i], t, &out, what);
    } else {
      bool known;
      ok = npyCreate(&out, npyType(t->element, &known), 0, NULL, error,
                     sizeof error);
      if (ok)
        memcpy(out.data, call->resultStorage + call->resultOffsets[i],
               toolElementSize(t->element));
      else
        toolError(&diag, "%s: %s", what, error);
    }
    ok = ok && writeOutput(&outputs, o->outs[i], &out);
  }
  for (int k = 0; ok && k < o->numOutArgs; ++k) {
    long n = o->outArgs[k].index;
    NpyArray out;
    memset(&out, 0, sizeof out);
    snprintf(what, sizeof what, "argument %ld", n);
    ok = gather(call->argStorage[n], &call->argTypes[n], &out, what) &&
         writeOutput(&outputs, o->outArgs[k].path, &out);
  }
  ok = ok && toolOutputsCommit(&outputs, &diag);
  toolOutputsFree(&outputs);
  return ok;
}

static void releaseCall(Call *call) {
  for (int i = 0; i < call->numArgs; ++i) {
    npyFree(&call->inputs[i]);
    free(call->argStorage[i]);
    toolValueTypeFree(&call->argTypes[i]);
  }
  for (int i = 0; i < call->numResults; ++i)
    toolValueTypeFree(&call->resultTypes[i]);
  free(call->resultStorage);
  free(call->packed);
}

int main(int argc, char **argv) {
  Options o;
  switch (parseArgs(argc, argv, &o)) {
  case ToolParsedHelp:
    printf(usage, toolPipelineFlagsHelp);
    return 0;
  case ToolParsedVersion:
    toolPrintVersion("cage-run");
    return 0;
  case ToolParsedError:
    return 1;
  case ToolParsedRun:
    break;
  }
  diag.file = toolInputName(o.file);

  static Call call;
  char entry[512];
  int status = 1;
  ToolInput input = {0};
  MlirContext ctx = toolCreateContext(&diag);
  MlirModule module = toolParseInput(ctx, &diag, o.file, &input);
  MlirExecutionEngine jit = {NULL};
  if (mlirModuleIsNull(module))
    goto done;
  MlirOperation func = o.entry ? toolLookupEntry(module, &diag, o.entry)
                               : toolOnlyPublicFunction(module, &diag);
  if (mlirOperationIsNull(func))
    goto done;
  MlirStringRef funcName = toolFunctionName(func);
  snprintf(entry, sizeof entry, "%.*s", (int)funcName.length, funcName.data);
  call.entry = entry;
  if (!checkSignature(func, &call, &o) || !loadInputs(&call, &o) ||
      !packArguments(&call, o.pipeline.cInterface, o.targets.cuda))
    goto done;
  /* The GPU before anything is compiled: none is a clear error at once. */
  if (o.targets.cuda &&
      (cageCudaInit(0) != CageCudaOk ? !cudaFailed("cannot use the GPU")
                                     : !uploadArguments(&call)))
    goto done;

  if (o.targets.cuda
          ? !toolRunCUDAPipeline(ctx, &diag, module, &o.targets.gpu, o.printIR)
          : !toolRunPipeline(ctx, &diag, module, &o.pipeline, o.printIR))
    goto done;

  const char *libomp = getenv("CAGE_LIBOMP");
  if (!libomp || !*libomp)
    libomp = CAGE_LIBOMP_PATH;
  /* libomp when threads run; the code needs no other library but libc
   * and libm (cage-cpu-expand-strided-copies). */
  MlirStringRef libs[1] = {mlirStringRefCreateFromCString(libomp)};
  int numLibs = 0;
  /* The GPU's code calls the CUDA runtime, which cage-run is linked with. */
  if (o.pipeline.threads && !o.targets.cuda) {
    if (access(libomp, R_OK) != 0) {
      toolError(&diag,
                "cannot load the OpenMP runtime '%s' (set CAGE_LIBOMP, or "
                "use --no-threads)",
                libomp);
      goto done;
    }
    numLibs = 1;
  }

  /* The error status of the run-time checks (cage-cpu-runtime-checks): a
   * call that fails one returns at once with undefined results. */
  MlirSymbolTable symbols =
      mlirSymbolTableCreate(mlirModuleGetOperation(module));
  bool checked =
      !o.targets.cuda &&
      !mlirOperationIsNull(mlirSymbolTableLookup(
          symbols, mlirStringRefCreateFromCString("cage_last_error")));
  mlirSymbolTableDestroy(symbols);
  jit = cageCPUExecutionEngineCreate(module, 3, numLibs, libs, o.perfListener,
                                     o.gdbListener, toolReportError, &diag);
  if (mlirExecutionEngineIsNull(jit))
    goto done;
  char name[512];
  snprintf(name, sizeof name, "%s%s",
           o.targets.cuda          ? "__cage_cuda_"
           : o.pipeline.cInterface ? "_mlir_ciface_"
                                   : "",
           call.entry);
  void *wrapper = mlirExecutionEngineLookupPacked(
      jit, mlirStringRefCreateFromCString(name));
  if (!wrapper) {
    toolError(&diag,
              "cannot find or link '%s' in the compiled code (unresolved "
              "symbols are listed above)",
              name);
    goto done;
  }
  void *lastError =
      checked ? mlirExecutionEngineLookup(
                    jit, mlirStringRefCreateFromCString("cage_last_error"))
              : NULL;
  /* Global constructors, once every symbol resolved. */
  mlirExecutionEngineInitialize(jit);
  void (*packed)(void **);
  const char *(*lastErrorFn)(void) = NULL;
  memcpy(&packed, &wrapper, sizeof packed);
  if (lastError)
    memcpy(&lastErrorFn, &lastError, sizeof lastErrorFn);
  for (long r = 0; r < o.repeat; ++r) {
    if (r > 0)
      o.targets.cuda ? freeDeviceResults(&call) : freeResults(&call);
    packed(call.packed);
    if (o.targets.cuda && call.status != CageCudaOk) {
      /* Nothing of a failed call is left to free. */
      toolError(&diag, "'%s' %s: %s", call.entry,
                call.status == CageCudaCheckFailed ? "failed a run-time check"
                                                   : "failed on the GPU",
                cageCudaLastError());
      goto done;
    }
    const char *failed = lastErrorFn ? lastErrorFn() : NULL;
    if (failed) {
      /* The results are undefined (no buffers to free): write nothing. */
      toolError(&diag, "'%s' failed a run-time check: %s", call.entry, failed);
      goto done;
    }
  }
  bool downloaded = true;
  if (o.targets.cuda) {
    downloaded = downloadResults(&call);
    for (int k = 0; downloaded && k < o.numOutArgs; ++k)
      downloaded = downloadArgument(&call, o.outArgs[k].index);
  }
  status = downloaded && writeResults(&call, &o) ? 0 : 1;
  freeResults(&call);

done:
  freeDeviceArguments(&call);
  if (!mlirExecutionEngineIsNull(jit))
    mlirExecutionEngineDestroy(jit);
  releaseCall(&call);
  if (!mlirModuleIsNull(module))
    mlirModuleDestroy(module);
  toolInputFree(&input);
  mlirContextDestroy(ctx);
  return status;
}
