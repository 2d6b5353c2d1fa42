/*===- Ptxas.c - PTX to cubin with the CUDA toolkit's ptxas ---------------===*\
|*                                                                            *|
|* LLVM makes PTX; only NVIDIA's ptxas assembles it into a cubin (machine    *|
|* code for one chip). The PTX goes to a temporary file, ptxas runs as a    *|
|* child process with its messages on our stderr, and the cubin is read     *|
|* back, so that the caller writes it like any other output.               *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#define _XOPEN_SOURCE 700 /* mkstemp, posix_spawn, waitpid, access */

#include "Tool.h"

#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* A fresh file from `pattern` (ending in XXXXXX), closed; false if none. */
static bool makeTemporary(char *pattern) {
  int fd = mkstemp(pattern);
  if (fd < 0)
    return false;
  close(fd);
  return true;
}

static bool writeFile(const char *path, MlirStringRef data) {
  FILE *f = fopen(path, "wb");
  bool ok = f && fwrite(data.data, 1, data.length, f) == data.length;
  return f && fclose(f) == 0 && ok;
}

static bool readFile(const char *path, char **data, size_t *length) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return false;
  bool ok = fseek(f, 0, SEEK_END) == 0;
  long size = ok ? ftell(f) : -1;
  ok = size >= 0 && fseek(f, 0, SEEK_SET) == 0;
  *data = ok ? malloc((size_t)size + 1) : NULL;
  ok = *data && fread(*data, 1, (size_t)size, f) == (size_t)size;
  fclose(f);
  if (!ok) {
    free(*data);
    *data = NULL;
    return false;
  }
  *length = (size_t)size;
  return true;
}

/* Runs argv[0] and waits; its exit status, or -1 (errno set) if it could
 * not start, or 128 + the signal that ended it. */
static int run(char *const argv[]) {
  pid_t pid;
  int error = posix_spawn(&pid, argv[0], NULL, NULL, argv, environ);
  if (error) {
    errno = error;
    return -1;
  }
  int status;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR)
      return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

bool toolAssemblePTX(ToolDiagnostics *diagnostics, const char *toolkit,
                     const char *chip, MlirStringRef ptx, char **cubin,
                     size_t *length) {
  const char *directory = cageCUDAToolkitDirectory(toolkit);
  size_t size = strlen(directory) + sizeof "/bin/ptxas";
  char *ptxas = malloc(size);
  if (!ptxas) {
    toolError(diagnostics, "out of memory");
    return false;
  }
  snprintf(ptxas, size, "%s/bin/ptxas", directory);
  struct stat info;
  if (stat(ptxas, &info) != 0 || !S_ISREG(info.st_mode) ||
      access(ptxas, X_OK) != 0) {
    toolError(diagnostics,
              "no ptxas at %s, which --emit=cubin needs: install the CUDA "
              "toolkit, or name its directory with --cuda-toolkit=DIR or "
              "$CUDA_HOME (--emit=ptx needs no toolkit beyond libdevice)",
              ptxas);
    free(ptxas);
    return false;
  }
  const char *tmp = getenv("TMPDIR");
  if (!tmp || !*tmp)
    tmp = "/tmp";
  char input[4096], output[4096];
  snprintf(input, sizeof input, "%s/cage-ptx-XXXXXX", tmp);
  snprintf(output, sizeof output, "%s/cage-cubin-XXXXXX", tmp);
  bool haveInput = makeTemporary(input);
  bool haveOutput = haveInput && makeTemporary(output);
  bool ok = false;
  if (!haveOutput) {
    toolError(diagnostics, "cannot create a temporary file in %s: %s", tmp,
              strerror(errno));
  } else if (!writeFile(input, ptx)) {
    toolError(diagnostics, "cannot write the PTX to %s", input);
  } else {
    char arch[64];
    snprintf(arch, sizeof arch, "-arch=%s", chip);
    char outputFlag[] = "-o";
    char *argv[] = {ptxas, arch, input, outputFlag, output, NULL};
    int status = run(argv);
    if (status < 0)
      toolError(diagnostics, "cannot run %s: %s", ptxas, strerror(errno));
    else if (status != 0)
      toolError(diagnostics, "%s -arch=%s failed (exit status %d)", ptxas, chip,
                status);
    else if (!(ok = readFile(output, cubin, length)))
      toolError(diagnostics, "cannot read the cubin that ptxas wrote");
  }
  if (haveInput)
    remove(input);
  if (haveOutput)
    remove(output);
  free(ptxas);
  return ok;
}
