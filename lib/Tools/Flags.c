/*===- Flags.c - The command line conventions of the tools ----------------===*/

#include "Tool.h"

#include "cage-c/Version.h"

#include <llvm-c/Core.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool toolFlagValue(int argc, char **argv, int *i, const char *name,
                   const char **value) {
  size_t n = strlen(name);
  const char *arg = argv[*i];
  if (strncmp(arg, name, n) != 0)
    return false;
  if (arg[n] == '=') {
    *value = arg + n + 1;
    return true;
  }
  if (arg[n] != '\0')
    return false;
  if (*i + 1 >= argc) {
    *value = NULL;
    return true;
  }
  *value = argv[++*i];
  return true;
}

ToolTargetFlags toolTargetFlagsGetDefault(void) {
  return (ToolTargetFlags){.gpu = cageCUDATargetGetDefault()};
}

void toolTargetNoteFlag(ToolTargetFlags *flags, const char *flag, bool cuda) {
  const char **first = cuda ? &flags->gpuFlag : &flags->cpuFlag;
  if (!*first)
    *first = flag;
}

void toolTargetNotePipelineFlag(ToolTargetFlags *flags, const char *flag) {
  if (strcmp(flag, "--no-fuse-updates") == 0)
    flags->gpu.fuseUpdates = false;
  else
    toolTargetNoteFlag(flags, flag, false);
}

bool toolTargetFlag(ToolDiagnostics *diagnostics, int argc, char **argv, int *i,
                    ToolTargetFlags *flags) {
  const char *value;
  if (toolFlagValue(argc, argv, i, "--target", &value)) {
    if (!value || (strcmp(value, "cpu") != 0 && strcmp(value, "cuda") != 0))
      toolError(diagnostics, "--target must be cpu or cuda, not '%s'",
                value ? value : "");
    else
      flags->cuda = strcmp(value, "cuda") == 0;
    return true;
  }
  static const char *const gpuFlags[] = {"--chip", "--cuda-toolkit"};
  for (int k = 0; k < 2; ++k) {
    if (!toolFlagValue(argc, argv, i, gpuFlags[k], &value))
      continue;
    if (!value || !*value) {
      toolError(diagnostics, "%s needs a value", gpuFlags[k]);
      return true;
    }
    *(k == 0 ? &flags->gpu.chip : &flags->gpu.toolkit) = value;
    toolTargetNoteFlag(flags, gpuFlags[k], true);
    return true;
  }
  return false;
}

bool toolTargetFlagsCheck(ToolDiagnostics *diagnostics,
                          const ToolTargetFlags *flags) {
  if (flags->cuda && flags->cpuFlag)
    toolError(diagnostics,
              "%s is an option of the CPU target, not of --target=cuda",
              flags->cpuFlag);
  else if (!flags->cuda && flags->gpuFlag)
    toolError(diagnostics, "%s needs --target=cuda", flags->gpuFlag);
  else
    return true;
  return false;
}

const char toolPipelineFlagsHelp[] =
    "cage-cpu-pipeline options (docs/Passes.md):\n"
    "  --no-vectorize        {vectorize=false}: loops for LLVM's vectorizer\n"
    "  --vector-width=N      {vector-width=N}: f32 lanes of the vector tiles\n"
    "                        (default: the target's registers, 16 with\n"
    "                        AVX-512, 8 with AVX2, 4 with SSE or NEON)\n"
    "  --no-threads          {threads=false}: no OpenMP (no libomp needed)\n"
    "  --no-fuse-updates     {fuse-updates=false}: no cage-fuse-correction,\n"
    "                        no cage-fuse-multi-tensor\n"
    "  --no-fuse-elementwise {fuse-elementwise=false}\n"
    "  --no-c-interface      {c-interface=false}: no _mlir_ciface_ wrappers\n"
    "  --no-hoist-allocations {hoist-allocations=false}: allocate buffers\n"
    "                        where they are needed, not all at the entry\n";

CageCPUPipelineOptions toolPipelineOptionsGetDefault(void) {
  CageCPUPipelineOptions o = cageCPUPipelineOptionsGetDefault();
  o.vectorWidth = 0;
  return o;
}

void toolPipelineForTarget(CageCPUPipelineOptions *pipeline,
                           const CageCPUTarget *target) {
  if (pipeline->vectorWidth < 1)
    pipeline->vectorWidth = cageCPUTargetVectorWidth(target);
}

bool toolPipelineFlag(ToolDiagnostics *diagnostics, int argc, char **argv,
                      int *i, CageCPUPipelineOptions *pipeline) {
  const char *arg = argv[*i], *value;
  if (toolFlagValue(argc, argv, i, "--vector-width", &value)) {
    char *end = NULL;
    errno = 0;
    long n = value ? strtol(value, &end, 10) : 0;
    if (!value || !*value || *end || errno || n < 1 || n > 1024)
      toolError(diagnostics, "--vector-width needs a number in [1, 1024]");
    else
      pipeline->vectorWidth = n;
  } else if (strcmp(arg, "--no-vectorize") == 0) {
    pipeline->vectorize = false;
  } else if (strcmp(arg, "--no-threads") == 0) {
    pipeline->threads = false;
  } else if (strcmp(arg, "--no-fuse-updates") == 0) {
    pipeline->fuseUpdates = false;
  } else if (strcmp(arg, "--no-fuse-elementwise") == 0) {
    pipeline->fuseElementwise = false;
  } else if (strcmp(arg, "--no-c-interface") == 0) {
    pipeline->cInterface = false;
  } else if (strcmp(arg, "--no-hoist-allocations") == 0) {
    pipeline->hoistAllocations = false;
  } else {
    return false;
  }
  return true;
}

bool toolInputFileArg(ToolDiagnostics *diagnostics, const char *arg,
                      const char **file) {
  if (arg[0] == '-' && arg[1] != '\0') {
    toolError(diagnostics, "unknown option '%s' (see --help)", arg);
    return false;
  }
  if (*file) {
    toolError(diagnostics, "more than one input file ('%s' and '%s')", *file,
              arg);
    return false;
  }
  *file = arg;
  return true;
}

void toolPrintVersion(const char *tool) {
  int cage = cageGetAPIVersion();
  unsigned major, minor, patch;
  LLVMGetVersion(&major, &minor, &patch);
  printf("%s, cage version %d.%d\n  LLVM version %u.%u.%u\n", tool, cage >> 16,
         cage & 0xffff, major, minor, patch);
}
