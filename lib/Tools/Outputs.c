/*===- Outputs.c - Outputs that appear together or not at all -------------===*\
|*                                                                            *|
|* Each output is written to a temporary file in its own directory (so that  *|
|* rename(2) moves it into place atomically, on the same file system), and   *|
|* the temporary files are renamed only once all of them were written: a     *|
|* failed or interrupted run leaves no truncated output and the outputs of  *|
|* an earlier run as they were.                                              *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#define _XOPEN_SOURCE 700 /* mkstemp, fchmod, realpath, strdup */

#include "Tool.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The mode a new file gets from open(path, O_CREAT, 0666), or that of the
 * file it replaces. */
static mode_t outputMode(const char *path) {
  struct stat st;
  if (stat(path, &st) == 0)
    return st.st_mode & 07777;
  mode_t mask = umask(0);
  umask(mask);
  return 0666 & ~mask;
}

const char *toolOutputsAdd(ToolOutputs *outputs, ToolDiagnostics *diagnostics,
                           const char *path) {
  struct stat st;
  bool exists = stat(path, &st) == 0;
  if (exists && S_ISDIR(st.st_mode)) {
    toolError(diagnostics, "cannot write '%s': it is a directory", path);
    return NULL;
  }
  ToolOutput *grown =
      realloc(outputs->files, sizeof *grown * (size_t)(outputs->count + 1));
  if (!grown) {
    toolError(diagnostics, "out of memory");
    return NULL;
  }
  outputs->files = grown;
  /* A device or a pipe (/dev/null, /dev/stdout) is written in place:
   * renaming over it would replace it. A symbolic link is followed, so that
   * the file it names is replaced, not the link. */
  bool direct = exists && !S_ISREG(st.st_mode);
  char *target = exists && !direct ? realpath(path, NULL) : strdup(path);
  if (!target) {
    toolError(diagnostics, "cannot write '%s': %s", path, strerror(errno));
    return NULL;
  }
  if (direct) {
    outputs->files[outputs->count++] =
        (ToolOutput){target, strdup(target), true};
    return outputs->files[outputs->count - 1].temporary;
  }
  /* dir/.name.XXXXXX: hidden, and in the same directory as the output. */
  const char *slash = strrchr(target, '/');
  size_t dirLength = slash ? (size_t)(slash - target) + 1 : 0;
  size_t size = strlen(target) + 16;
  char *temporary = malloc(size);
  if (!temporary) {
    free(target);
    toolError(diagnostics, "out of memory");
    return NULL;
  }
  snprintf(temporary, size, "%.*s.%s.XXXXXX", (int)dirLength, target,
           target + dirLength);
  int fd = mkstemp(temporary);
  if (fd < 0) {
    toolError(diagnostics, "cannot create '%s': %s", path, strerror(errno));
    free(temporary);
    free(target);
    return NULL;
  }
  fchmod(fd, outputMode(target));
  close(fd);
  outputs->files[outputs->count++] = (ToolOutput){target, temporary, false};
  return temporary;
}

bool toolOutputsCommit(ToolOutputs *outputs, ToolDiagnostics *diagnostics) {
  for (int i = 0; i < outputs->count; ++i) {
    ToolOutput *f = &outputs->files[i];
    if (f->direct)
      continue;
    if (rename(f->temporary, f->path) != 0) {
      toolError(diagnostics, "cannot write '%s': %s", f->path, strerror(errno));
      return false;
    }
    free(f->temporary);
    f->temporary = NULL;
  }
  return true;
}

void toolOutputsFree(ToolOutputs *outputs) {
  for (int i = 0; i < outputs->count; ++i) {
    if (outputs->files[i].temporary && !outputs->files[i].direct)
      remove(outputs->files[i].temporary);
    free(outputs->files[i].temporary);
    free(outputs->files[i].path);
  }
  free(outputs->files);
  outputs->files = NULL;
  outputs->count = 0;
}
