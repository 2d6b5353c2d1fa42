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

const char toolPipelineFlagsHelp[] =
    "cage-cpu-pipeline options (docs/Passes.md):\n"
    "  --no-vectorize        {vectorize=false}: loops for LLVM's vectorizer\n"
    "  --vector-width=N      {vector-width=N}: lanes of the vector tiles\n"
    "                        (default 16)\n"
    "  --no-threads          {threads=false}: no OpenMP (no libomp needed)\n"
    "  --no-fuse-updates     {fuse-updates=false}: no cage-fuse-correction,\n"
    "                        no cage-fuse-multi-tensor\n"
    "  --no-fuse-elementwise {fuse-elementwise=false}\n"
    "  --no-c-interface      {c-interface=false}: no _mlir_ciface_ wrappers\n"
    "  --no-hoist-allocations {hoist-allocations=false}: allocate buffers\n"
    "                        where they are needed, not all at the entry\n";

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
