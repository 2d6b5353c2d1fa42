/*===- Emit.c - LLVM-C code generation for the CPU ------------------------===*\
|*                                                                            *|
|* From the LLVM dialect to an object file: mlirTranslateModuleToLLVMIR, a   *|
|* TargetMachine (the host's CPU and features, or a named target), the      *|
|* module's triple and data layout from it (LLVM's loop vectorizer needs     *|
|* both), default<O3> through the new pass manager, and the emitter.         *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#include "Target.h"

#include "cage-c/Target/CPU.h"

#include "mlir-c/Diagnostics.h"
#include "mlir-c/RegisterEverything.h"
#include "mlir-c/Target/LLVMIR.h"

#include <llvm-c/BitWriter.h>
#include <llvm-c/Core.h>
#include <llvm-c/Error.h>
#include <llvm-c/Target.h>
#include <llvm-c/TargetMachine.h>
#include <llvm-c/Transforms/PassBuilder.h>

#include <stdio.h>
#include <string.h>

CageCPUTarget cageCPUTargetGetDefault(void) {
  CageCPUTarget t = {
      .triple = NULL, .cpu = NULL, .features = NULL, .optLevel = 3};
  return t;
}

static void initializeTargets(void) {
  static bool done = false;
  if (done)
    return;
  LLVMInitializeAllTargetInfos();
  LLVMInitializeAllTargets();
  LLVMInitializeAllTargetMCs();
  LLVMInitializeAllAsmPrinters();
  done = true;
}

CageResolvedCPUTarget cageCPUTargetResolve(const CageCPUTarget *t) {
  CageResolvedCPUTarget r = {
      .triple = t->triple ? LLVMNormalizeTargetTriple(t->triple)
                          : LLVMGetDefaultTargetTriple(),
      .cpu = t->cpu,
      .features = t->features};
  bool native = t->cpu && strcmp(t->cpu, "native") == 0;
  if (native || (!t->triple && !t->cpu)) {
    r.cpu = r.hostCPU = LLVMGetHostCPUName();
    if (!r.features)
      r.features = r.hostFeatures = LLVMGetHostCPUFeatures();
  } else if (!r.cpu) {
    r.cpu = "generic";
  }
  if (!r.features)
    r.features = "";
  return r;
}

void cageCPUTargetResolvedDispose(CageResolvedCPUTarget *r) {
  LLVMDisposeMessage(r->triple);
  if (r->hostCPU)
    LLVMDisposeMessage(r->hostCPU);
  if (r->hostFeatures)
    LLVMDisposeMessage(r->hostFeatures);
}

static void emitError(MlirLocation loc, const char *what, const char *detail) {
  char text[1024];
  snprintf(text, sizeof text, "%s%s%s", what, detail ? ": " : "",
           detail ? detail : "");
  mlirEmitError(loc, text);
}

MlirLogicalResult cageCPUEmit(MlirModule module, const CageCPUTarget *target,
                              CageCPUOutputKind kind,
                              MlirStringCallback callback, void *userData) {
  MlirOperation moduleOp = mlirModuleGetOperation(module);
  MlirLocation loc = mlirOperationGetLocation(moduleOp);
  CageCPUTarget t = target ? *target : cageCPUTargetGetDefault();
  if (t.optLevel < 0 || t.optLevel > 3) {
    emitError(loc, "optimization level must be 0, 1, 2 or 3", NULL);
    return mlirLogicalResultFailure();
  }
  initializeTargets();

  CageResolvedCPUTarget resolved = cageCPUTargetResolve(&t);
  const char *triple = resolved.triple, *cpu = resolved.cpu,
             *features = resolved.features;

  MlirLogicalResult result = mlirLogicalResultFailure();
  LLVMContextRef llvmContext = LLVMContextCreate();
  LLVMModuleRef llvmModule = NULL;
  LLVMTargetMachineRef machine = NULL;
  LLVMTargetRef llvmTarget;
  char *error = NULL;

  if (LLVMGetTargetFromTriple(triple, &llvmTarget, &error)) {
    char what[512];
    snprintf(what, sizeof what, "unknown target triple '%s'", triple);
    emitError(loc, what, error);
    goto done;
  }
  machine =
      LLVMCreateTargetMachine(llvmTarget, triple, cpu, features,
                              t.optLevel == 0   ? LLVMCodeGenLevelNone
                              : t.optLevel == 1 ? LLVMCodeGenLevelLess
                              : t.optLevel == 2 ? LLVMCodeGenLevelDefault
                                                : LLVMCodeGenLevelAggressive,
                              LLVMRelocPIC, LLVMCodeModelDefault);
  if (!machine) {
    emitError(loc, "cannot create a target machine for", triple);
    goto done;
  }

  mlirRegisterAllLLVMTranslations(mlirOperationGetContext(moduleOp));
  llvmModule = mlirTranslateModuleToLLVMIR(moduleOp, llvmContext);
  if (!llvmModule) {
    emitError(loc,
              "cannot translate the module to LLVM IR (is it in the "
              "LLVM dialect? run cage-cpu-pipeline first)",
              NULL);
    goto done;
  }
  LLVMSetTarget(llvmModule, triple);
  LLVMTargetDataRef layout = LLVMCreateTargetDataLayout(machine);
  char *layoutString = LLVMCopyStringRepOfTargetData(layout);
  LLVMSetDataLayout(llvmModule, layoutString);
  LLVMDisposeMessage(layoutString);
  LLVMDisposeTargetData(layout);
  /* As clang does: the emitted IR names its CPU, so that llc or a later
   * link-time optimization compiles it for the same machine. */
  for (LLVMValueRef f = LLVMGetFirstFunction(llvmModule); f;
       f = LLVMGetNextFunction(f)) {
    if (LLVMIsDeclaration(f))
      continue;
    LLVMAddTargetDependentFunctionAttr(f, "target-cpu", cpu);
    if (*features)
      LLVMAddTargetDependentFunctionAttr(f, "target-features", features);
  }

  char passes[32];
  snprintf(passes, sizeof passes, "default<O%d>", t.optLevel);
  LLVMPassBuilderOptionsRef passOptions = LLVMCreatePassBuilderOptions();
  LLVMPassBuilderOptionsSetLoopVectorization(passOptions, t.optLevel >= 2);
  LLVMPassBuilderOptionsSetSLPVectorization(passOptions, t.optLevel >= 2);
  LLVMPassBuilderOptionsSetLoopUnrolling(passOptions, t.optLevel >= 2);
  LLVMErrorRef passError =
      LLVMRunPasses(llvmModule, passes, machine, passOptions);
  LLVMDisposePassBuilderOptions(passOptions);
  if (passError) {
    char *message = LLVMGetErrorMessage(passError);
    emitError(loc, "LLVM optimization failed", message);
    LLVMDisposeErrorMessage(message);
    goto done;
  }

  switch (kind) {
  case CageCPUOutputLLVMIR: {
    char *text = LLVMPrintModuleToString(llvmModule);
    callback(mlirStringRefCreate(text, strlen(text)), userData);
    LLVMDisposeMessage(text);
    break;
  }
  case CageCPUOutputBitcode: {
    LLVMMemoryBufferRef buffer = LLVMWriteBitcodeToMemoryBuffer(llvmModule);
    callback(mlirStringRefCreate(LLVMGetBufferStart(buffer),
                                 LLVMGetBufferSize(buffer)),
             userData);
    LLVMDisposeMemoryBuffer(buffer);
    break;
  }
  case CageCPUOutputObject:
  case CageCPUOutputAssembly: {
    LLVMMemoryBufferRef buffer = NULL;
    if (LLVMTargetMachineEmitToMemoryBuffer(
            machine, llvmModule,
            kind == CageCPUOutputObject ? LLVMObjectFile : LLVMAssemblyFile,
            &error, &buffer)) {
      emitError(loc, "code generation failed", error);
      goto done;
    }
    callback(mlirStringRefCreate(LLVMGetBufferStart(buffer),
                                 LLVMGetBufferSize(buffer)),
             userData);
    LLVMDisposeMemoryBuffer(buffer);
    break;
  }
  default:
    emitError(loc, "unknown output kind", NULL);
    goto done;
  }
  result = mlirLogicalResultSuccess();

done:
  if (error)
    LLVMDisposeMessage(error);
  if (llvmModule)
    LLVMDisposeModule(llvmModule);
  if (machine)
    LLVMDisposeTargetMachine(machine);
  LLVMContextDispose(llvmContext);
  cageCPUTargetResolvedDispose(&resolved);
  return result;
}
