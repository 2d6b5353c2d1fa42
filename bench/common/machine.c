/*===- machine.c - What the results were measured on ----------------------===*\
|*                                                                            *|
|* See machine.h.                                                             *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#include "machine.h"

#include <stdio.h>
#include <string.h>

/* The value of a "key : value" line of /proc/cpuinfo, without the newline. */
static const char *valueOf(char *line) {
  char *value = strchr(line, ':');
  if (!value)
    return "";
  value += 1 + (value[1] == ' ');
  value[strcspn(value, "\n")] = '\0';
  return value;
}

void machineCpuModel(char *out, size_t size) {
  snprintf(out, size, "unknown");
  FILE *f = fopen("/proc/cpuinfo", "r");
  if (!f)
    return;
  char line[512], name[256] = "", family[32] = "", model[32] = "";
  /* The first processor's lines (a blank line ends them). */
  while (fgets(line, sizeof line, f) && line[0] != '\n') {
    if (strncmp(line, "model name", 10) == 0)
      snprintf(name, sizeof name, "%s", valueOf(line));
    else if (strncmp(line, "cpu family", 10) == 0)
      snprintf(family, sizeof family, "%s", valueOf(line));
    else if (strncmp(line, "model", 5) == 0 &&
             (line[5] == ' ' || line[5] == '\t'))
      snprintf(model, sizeof model, "%s", valueOf(line));
  }
  fclose(f);
  if (!name[0])
    return;
  if (family[0] && model[0])
    snprintf(out, size, "%s (family %s, model %s)", name, family, model);
  else
    snprintf(out, size, "%s", name);
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
