/*===- IR/Text.c - Printing MLIR objects into a fixed buffer --------------===*/

#include "IR/Text.h"

#include <ctype.h>
#include <string.h>

CageText cageTextOver(char *buffer, size_t size) {
  CageText t = {buffer, size, 0};
  if (size > 0)
    buffer[0] = '\0';
  return t;
}

void cageTextAppend(MlirStringRef s, void *userData) {
  CageText *t = userData;
  if (t->size == 0)
    return;
  size_t room = t->size - 1 - t->length;
  size_t n = s.length < room ? s.length : room;
  memcpy(t->data + t->length, s.data, n);
  t->length += n;
  t->data[t->length] = '\0';
}

bool cageIsCIdentifier(MlirStringRef s) {
  if (s.length == 0 || s.length >= 200)
    return false;
  for (size_t i = 0; i < s.length; ++i) {
    unsigned char c = (unsigned char)s.data[i];
    if (!(isalpha(c) || c == '_' || (i > 0 && isdigit(c))))
      return false;
  }
  return true;
}
