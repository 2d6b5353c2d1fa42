/*===- machine.c - What the results were measured on ----------------------===*\
|*                                                                            *|
|* See machine.h.                                                             *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#include "machine.h"

#include <stdio.h>
#include <string.h>

void machineCpuModel(char *out, size_t size) {
  snprintf(out, size, "unknown");
  FILE *f = fopen("/proc/cpuinfo", "r");
  if (!f)
    return;
  char line[512];
  while (fgets(line, sizeof line, f)) {
    if (strncmp(line, "model name", 10) != 0)
      continue;
    const char *value = strchr(line, ':');
    if (!value)
      break;
    value += 1 + (value[1] == ' ');
    snprintf(out, size, "%s", value);
    out[strcspn(out, "\n")] = '\0';
    break;
  }
  fclose(f);
}

double machineLoadAverage(void) {
  double load = -1.0;
  FILE *f = fopen("/proc/loadavg", "r");
  if (f) {
    if (fscanf(f, "%lf", &load) != 1)
      load = -1.0;
    fclose(f);
  }
  return load;
}
