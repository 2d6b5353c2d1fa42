/*===- Npy.c - NumPy .npy files -------------------------------------------===*/

#include "Npy.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool failf(char *error, size_t errorSize, const char *format, ...) {
  if (error && errorSize) {
    va_list args;
    va_start(args, format);
    vsnprintf(error, errorSize, format, args);
    va_end(args);
  }
  return false;
}

size_t npyDTypeSize(NpyDType dtype) {
  switch (dtype) {
  case NpyBool:
  case NpyInt8:
  case NpyUInt8:
    return 1;
  case NpyInt16:
  case NpyUInt16:
  case NpyFloat16:
    return 2;
  case NpyInt32:
  case NpyUInt32:
  case NpyFloat32:
    return 4;
  case NpyInt64:
  case NpyUInt64:
  case NpyFloat64:
    return 8;
  }
  return 0;
}

const char *npyDTypeName(NpyDType dtype) {
  switch (dtype) {
  case NpyBool:
    return "bool";
  case NpyInt8:
    return "int8";
  case NpyInt16:
    return "int16";
  case NpyInt32:
    return "int32";
  case NpyInt64:
    return "int64";
  case NpyUInt8:
    return "uint8";
  case NpyUInt16:
    return "uint16";
  case NpyUInt32:
    return "uint32";
  case NpyUInt64:
    return "uint64";
  case NpyFloat16:
    return "float16";
  case NpyFloat32:
    return "float32";
  case NpyFloat64:
    return "float64";
  }
  return "?";
}

/* The type code of 'descr' after the byte-order character. */
static const char *dtypeCode(NpyDType dtype) {
  switch (dtype) {
  case NpyBool:
    return "b1";
  case NpyInt8:
    return "i1";
  case NpyInt16:
    return "i2";
  case NpyInt32:
    return "i4";
  case NpyInt64:
    return "i8";
  case NpyUInt8:
    return "u1";
  case NpyUInt16:
    return "u2";
  case NpyUInt32:
    return "u4";
  case NpyUInt64:
    return "u8";
  case NpyFloat16:
    return "f2";
  case NpyFloat32:
    return "f4";
  case NpyFloat64:
    return "f8";
  }
  return "";
}

void npyFree(NpyArray *array) {
  free(array->data);
  free(array->shape);
  array->data = NULL;
  array->shape = NULL;
}

/* Allocates the data of `array` for its dtype and shape (zeroed). */
static bool allocateData(NpyArray *array, char *error, size_t errorSize) {
  size_t count = 1, elementSize = npyDTypeSize(array->dtype);
  if (array->rank < 0 || elementSize == 0 || (array->rank > 0 && !array->shape))
    return failf(error, errorSize, "bad array description");
  for (int i = 0; i < array->rank; ++i) {
    if (array->shape[i] < 0)
      return failf(error, errorSize, "negative dimension %lld",
                   (long long)array->shape[i]);
    uint64_t d = (uint64_t)array->shape[i];
    if (d != 0 && count > SIZE_MAX / d)
      return failf(error, errorSize, "shape too large");
    count *= (size_t)d;
  }
  if (count > (SIZE_MAX - 128) / elementSize)
    return failf(error, errorSize, "shape too large");
  array->numElements = count;
  array->numBytes = count * elementSize;
  size_t allocated = (array->numBytes + 63) / 64 * 64;
  if (allocated == 0)
    allocated = 64;
  array->data = aligned_alloc(64, allocated);
  if (!array->data)
    return failf(error, errorSize, "cannot allocate %zu bytes", allocated);
  memset(array->data, 0, allocated);
  return true;
}

bool npyCreate(NpyArray *array, NpyDType dtype, int rank, const int64_t *shape,
               char *error, size_t errorSize) {
  memset(array, 0, sizeof *array);
  if (rank < 0 || npyDTypeSize(dtype) == 0 || (rank > 0 && !shape))
    return failf(error, errorSize, "bad array description");
  if ((size_t)rank > SIZE_MAX / sizeof(int64_t))
    return failf(error, errorSize, "shape too large");
  array->shape = malloc(sizeof(int64_t) * (rank > 0 ? (size_t)rank : 1));
  if (!array->shape)
    return failf(error, errorSize, "cannot allocate a shape of rank %d", rank);
  if (rank > 0)
    memcpy(array->shape, shape, sizeof(int64_t) * (size_t)rank);
  array->dtype = dtype;
  array->rank = rank;
  if (!allocateData(array, error, errorSize)) {
    npyFree(array);
    return false;
  }
  return true;
}

/*===----------------------------------------------------------------------===*
 * The header: a Python dict literal
 *===----------------------------------------------------------------------===*/

typedef struct Cursor {
  const char *p, *end;
} Cursor;

static void skipSpace(Cursor *c) {
  while (c->p < c->end &&
         (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
    ++c->p;
}

static bool consume(Cursor *c, char ch) {
  skipSpace(c);
  if (c->p < c->end && *c->p == ch) {
    ++c->p;
    return true;
  }
  return false;
}

/* A quoted string without escapes, into buf. */
static bool parseString(Cursor *c, char *buf, size_t size) {
  skipSpace(c);
  if (c->p >= c->end || (*c->p != '\'' && *c->p != '"'))
    return false;
  char quote = *c->p++;
  size_t n = 0;
  while (c->p < c->end && *c->p != quote) {
    if (*c->p == '\\' || n + 1 >= size)
      return false;
    buf[n++] = *c->p++;
  }
  if (c->p >= c->end)
    return false;
  ++c->p;
  buf[n] = '\0';
  return true;
}

static bool parseWord(Cursor *c, const char *word) {
  skipSpace(c);
  size_t n = strlen(word);
  if ((size_t)(c->end - c->p) < n || strncmp(c->p, word, n) != 0)
    return false;
  c->p += n;
  return true;
}

static bool parseInt(Cursor *c, int64_t *value) {
  skipSpace(c);
  if (c->p >= c->end || *c->p < '0' || *c->p > '9')
    return false;
  int64_t v = 0;
  while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
    int digit = *c->p++ - '0';
    if (v > (INT64_MAX - digit) / 10)
      return false;
    v = v * 10 + digit;
  }
  if (c->p < c->end && (*c->p == 'L' || *c->p == 'l'))
    ++c->p;
  *value = v;
  return true;
}

static bool parseDescr(const char *descr, NpyDType *dtype, char *error,
                       size_t errorSize) {
  size_t n = strlen(descr);
  if (n != 3)
    return failf(error, errorSize, "unsupported dtype '%s'", descr);
  static const NpyDType all[] = {NpyBool,   NpyInt8,    NpyInt16,   NpyInt32,
                                 NpyInt64,  NpyUInt8,   NpyUInt16,  NpyUInt32,
                                 NpyUInt64, NpyFloat16, NpyFloat32, NpyFloat64};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; ++i) {
    if (strcmp(descr + 1, dtypeCode(all[i])) != 0)
      continue;
    char order = descr[0];
    bool oneByte = npyDTypeSize(all[i]) == 1;
    if (order == '>' && !oneByte)
      return failf(error, errorSize,
                   "big-endian dtype '%s' is not supported (use "
                   "arr.astype(arr.dtype.newbyteorder('<')))",
                   descr);
    if (order != '<' && order != '|' && order != '=' &&
        !(order == '>' && oneByte))
      return failf(error, errorSize, "unsupported dtype '%s'", descr);
    *dtype = all[i];
    return true;
  }
  return failf(error, errorSize, "unsupported dtype '%s'", descr);
}

static bool parseHeader(const char *text, size_t length, NpyArray *array,
                        char *error, size_t errorSize) {
  Cursor c = {text, text + length};
  bool haveDescr = false, haveOrder = false, haveShape = false;
  bool fortran = false;
  if (!consume(&c, '{'))
    return failf(error, errorSize, "malformed header: expected '{'");
  while (!consume(&c, '}')) {
    char key[32];
    if (!parseString(&c, key, sizeof key) || !consume(&c, ':'))
      return failf(error, errorSize, "malformed header: expected 'key': value");
    if (strcmp(key, "descr") == 0) {
      char descr[32];
      if (haveDescr)
        return failf(error, errorSize, "malformed header: 'descr' twice");
      if (!parseString(&c, descr, sizeof descr))
        return failf(error, errorSize,
                     "unsupported dtype: 'descr' is not a simple type string "
                     "(structured arrays are not supported)");
      if (!parseDescr(descr, &array->dtype, error, errorSize))
        return false;
      haveDescr = true;
    } else if (strcmp(key, "fortran_order") == 0) {
      if (haveOrder)
        return failf(error, errorSize,
                     "malformed header: 'fortran_order' twice");
      if (parseWord(&c, "True"))
        fortran = true;
      else if (parseWord(&c, "False"))
        fortran = false;
      else
        return failf(error, errorSize,
                     "malformed header: 'fortran_order' is not True or False");
      haveOrder = true;
    } else if (strcmp(key, "shape") == 0) {
      if (haveShape)
        return failf(error, errorSize, "malformed header: 'shape' twice");
      if (!consume(&c, '('))
        return failf(error, errorSize,
                     "malformed header: 'shape' is not a tuple");
      /* As many dimensions as the tuple has: the shape grows with the
       * header, which the file's size bounds. */
      size_t capacity = 4;
      array->rank = 0;
      array->shape = malloc(sizeof(int64_t) * capacity);
      if (!array->shape)
        return failf(error, errorSize, "out of memory");
      while (!consume(&c, ')')) {
        int64_t d;
        if (!parseInt(&c, &d))
          return failf(error, errorSize,
                       "malformed header: bad dimension in 'shape'");
        if (array->rank == INT_MAX)
          return failf(error, errorSize,
                       "malformed header: more than %d dimensions in 'shape'",
                       INT_MAX);
        if ((size_t)array->rank == capacity) {
          int64_t *grown =
              capacity > SIZE_MAX / (2 * sizeof(int64_t))
                  ? NULL
                  : realloc(array->shape, sizeof(int64_t) * 2 * capacity);
          if (!grown)
            return failf(error, errorSize, "out of memory");
          array->shape = grown;
          capacity *= 2;
        }
        array->shape[array->rank++] = d;
        if (!consume(&c, ',')) {
          if (!consume(&c, ')'))
            return failf(error, errorSize,
                         "malformed header: expected ',' or ')' in 'shape'");
          break;
        }
      }
      haveShape = true;
    } else {
      return failf(error, errorSize, "malformed header: unexpected key '%s'",
                   key);
    }
    if (!consume(&c, ',')) {
      if (!consume(&c, '}'))
        return failf(error, errorSize, "malformed header: expected ',' or '}'");
      break;
    }
  }
  skipSpace(&c);
  if (c.p != c.end)
    return failf(error, errorSize, "malformed header: text after the dict");
  if (!haveDescr || !haveOrder || !haveShape)
    return failf(error, errorSize, "malformed header: missing '%s'",
                 !haveDescr   ? "descr"
                 : !haveOrder ? "fortran_order"
                              : "shape");
  if (fortran) {
    /* Fortran and C order agree when at most one dimension exceeds 1. */
    int big = 0;
    for (int i = 0; i < array->rank; ++i)
      big += array->shape[i] > 1;
    if (big > 1)
      return failf(error, errorSize,
                   "Fortran-order arrays are not supported (save "
                   "np.ascontiguousarray(arr))");
  }
  return true;
}

/* npyParse, which frees what this leaves in `array` when it fails. */
static bool parse(const unsigned char *b, size_t size, NpyArray *array,
                  char *error, size_t errorSize) {
  if (size < 10 || memcmp(b, "\x93NUMPY", 6) != 0)
    return failf(error, errorSize, "not a .npy file (bad magic string)");
  unsigned major = b[6];
  size_t headerLength, headerStart;
  if (major == 1) {
    headerLength = (size_t)b[8] | (size_t)b[9] << 8;
    headerStart = 10;
  } else if (major == 2 || major == 3) {
    if (size < 12)
      return failf(error, errorSize, "truncated header");
    headerLength = (size_t)b[8] | (size_t)b[9] << 8 | (size_t)b[10] << 16 |
                   (size_t)b[11] << 24;
    headerStart = 12;
  } else {
    return failf(error, errorSize, "unsupported .npy version %u.%u", major,
                 (unsigned)b[7]);
  }
  if (headerLength > size - headerStart)
    return failf(error, errorSize,
                 "truncated header: %zu bytes announced, %zu present",
                 headerLength, size - headerStart);
  if (!parseHeader((const char *)b + headerStart, headerLength, array, error,
                   errorSize))
    return false;
  size_t dataStart = headerStart + headerLength;
  size_t present = size - dataStart;
  /* Check the size before allocating: a huge shape in a small file is an
   * error, not an allocation. */
  size_t count = 1, elementSize = npyDTypeSize(array->dtype);
  bool overflow = false;
  for (int i = 0; i < array->rank; ++i)
    if (array->shape[i] == 0)
      count = 0;
  for (int i = 0; i < array->rank && count != 0; ++i) {
    uint64_t d = (uint64_t)array->shape[i];
    if (count > SIZE_MAX / d)
      overflow = true;
    else
      count *= (size_t)d;
  }
  if (overflow || count > SIZE_MAX / elementSize)
    return failf(error, errorSize, "shape too large");
  size_t expected = count * elementSize;
  if (present < expected)
    return failf(error, errorSize,
                 "truncated data: the shape needs %zu bytes, the file has %zu",
                 expected, present);
  if (present > expected)
    return failf(error, errorSize,
                 "%zu bytes after the data (not a single .npy array)",
                 present - expected);
  if (!allocateData(array, error, errorSize))
    return false;
  memcpy(array->data, b + dataStart, expected);
  return true;
}

bool npyParse(const void *bytes, size_t size, NpyArray *array, char *error,
              size_t errorSize) {
  memset(array, 0, sizeof *array);
  if (parse(bytes, size, array, error, errorSize))
    return true;
  npyFree(array);
  memset(array, 0, sizeof *array);
  return false;
}

bool npyRead(const char *path, NpyArray *array, char *error, size_t errorSize) {
  memset(array, 0, sizeof *array);
  FILE *f = fopen(path, "rb");
  if (!f)
    return failf(error, errorSize, "%s: cannot open: %s", path,
                 strerror(errno));
  unsigned char *bytes = NULL;
  size_t size = 0, capacity = 0;
  for (;;) {
    if (size == capacity) {
      capacity = capacity ? capacity * 2 : 65536;
      unsigned char *grown = realloc(bytes, capacity);
      if (!grown) {
        free(bytes);
        fclose(f);
        return failf(error, errorSize, "%s: out of memory", path);
      }
      bytes = grown;
    }
    size_t n = fread(bytes + size, 1, capacity - size, f);
    size += n;
    if (n == 0)
      break;
  }
  bool readError = ferror(f);
  fclose(f);
  if (readError) {
    free(bytes);
    return failf(error, errorSize, "%s: read error", path);
  }
  char message[512];
  bool ok = npyParse(bytes, size, array, message, sizeof message);
  free(bytes);
  if (!ok)
    return failf(error, errorSize, "%s: %s", path, message);
  return true;
}

bool npyWrite(const char *path, const NpyArray *array, char *error,
              size_t errorSize) {
  if (array->rank < 0 || (array->rank > 0 && !array->shape))
    return failf(error, errorSize, "%s: bad array description", path);
  /* The dict, then spaces and a newline so that the data starts at a
   * multiple of 64 bytes, as NumPy does: up to 22 bytes a dimension. */
  size_t capacity = 128 + 64 + 24 * (size_t)array->rank;
  char *header = malloc(capacity);
  if (!header)
    return failf(error, errorSize, "%s: out of memory", path);
  int n = snprintf(
      header, capacity, "{'descr': '%c%s', 'fortran_order': False, 'shape': (",
      npyDTypeSize(array->dtype) == 1 ? '|' : '<', dtypeCode(array->dtype));
  size_t used = n > 0 ? (size_t)n : capacity;
  for (int i = 0; i < array->rank && used < capacity; ++i) {
    n = snprintf(header + used, capacity - used,
                 array->rank == 1 ? "%lld,"
                 : i              ? ", %lld"
                                  : "%lld",
                 (long long)array->shape[i]);
    used = n > 0 ? used + (size_t)n : capacity;
  }
  if (used < capacity) {
    n = snprintf(header + used, capacity - used, "), }");
    used = n > 0 ? used + (size_t)n : capacity;
  }
  if (used + 64 >= capacity) {
    free(header);
    return failf(error, errorSize, "%s: header too long", path);
  }
  /* Version 1.0 has a 2-byte header length, 2.0 a 4-byte one. */
  size_t prefixSize = 10;
  size_t length = (prefixSize + used + 1 + 63) / 64 * 64 - prefixSize;
  if (length > 0xffff) {
    prefixSize = 12;
    length = (prefixSize + used + 1 + 63) / 64 * 64 - prefixSize;
  }
  if (length > 0xffffffff) {
    free(header);
    return failf(error, errorSize, "%s: header too long", path);
  }
  memset(header + used, ' ', length - 1 - used);
  header[length - 1] = '\n';
  unsigned char prefix[12] = {0x93,
                              'N',
                              'U',
                              'M',
                              'P',
                              'Y',
                              prefixSize == 10 ? 1 : 2,
                              0,
                              (unsigned char)(length & 0xff),
                              (unsigned char)(length >> 8 & 0xff),
                              (unsigned char)(length >> 16 & 0xff),
                              (unsigned char)(length >> 24 & 0xff)};
  FILE *f = fopen(path, "wb");
  if (!f) {
    free(header);
    return failf(error, errorSize, "%s: cannot create: %s", path,
                 strerror(errno));
  }
  bool ok = fwrite(prefix, 1, prefixSize, f) == prefixSize &&
            fwrite(header, 1, length, f) == length &&
            (array->numBytes == 0 ||
             fwrite(array->data, 1, array->numBytes, f) == array->numBytes);
  ok = (fclose(f) == 0) && ok;
  free(header);
  if (!ok)
    return failf(error, errorSize, "%s: write error", path);
  return true;
}
