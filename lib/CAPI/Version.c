/*===- Version.c - C API version ------------------------------------------===*/

#include "cage-c/Version.h"

int cageGetAPIVersion(void) {
  return (CAGE_C_API_VERSION_MAJOR << 16) | CAGE_C_API_VERSION_MINOR;
}
