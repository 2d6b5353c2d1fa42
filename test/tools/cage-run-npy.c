// Unit test of the tools' .npy reader and writer (lib/Tools/Npy.c):
// round trips of every dtype and of ranks up to 40000 (no rank limit; a
// header over 65535 bytes is written as version 2.0), one case per parse
// error, and a fuzz loop
// (every truncation and thousands of random byte mutations of a valid file)
// that must never crash, read out of bounds or allocate what the file does
// not hold.
//
// clang-format off
// RUN: %cc -std=c11 -Wall -Wextra -Werror -g -I %cage_src/lib/Tools %s %cage_src/lib/Tools/Npy.c -o %t
// RUN: mkdir -p %t.dir && %t %t.dir | FileCheck %s
// clang-format on

#include "Npy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char dir[512];

// A .npy file in memory from a header dict and raw data (version 1.0).
static size_t makeFile(unsigned char *out, const char *dict, const void *data,
                       size_t dataSize) {
  size_t n = strlen(dict);
  memcpy(out, "\x93NUMPY\x01\x00", 8);
  out[8] = (unsigned char)(n & 0xff);
  out[9] = (unsigned char)(n >> 8);
  memcpy(out + 10, dict, n);
  if (dataSize)
    memcpy(out + 10 + n, data, dataSize);
  return 10 + n + dataSize;
}

static void expectError(const char *name, const void *bytes, size_t size) {
  NpyArray a;
  char error[256] = "";
  if (npyParse(bytes, size, &a, error, sizeof error)) {
    printf("%s: unexpectedly parsed\n", name);
    npyFree(&a);
    return;
  }
  printf("%s: %s\n", name, error);
}

static void expectDictError(const char *name, const char *dict,
                            size_t dataSize) {
  static unsigned char file[4096], data[1024];
  memset(data, 0, sizeof data);
  size_t size = makeFile(file, dict, data, dataSize);
  expectError(name, file, size);
}

static void roundTrip(NpyDType dtype, int rank, const int64_t *shape) {
  NpyArray a;
  char error[256], path[600];
  if (!npyCreate(&a, dtype, rank, shape, error, sizeof error)) {
    printf("allocate: %s\n", error);
    return;
  }
  unsigned char *bytes = a.data;
  for (size_t i = 0; i < a.numBytes; ++i)
    bytes[i] = dtype == NpyBool ? (unsigned char)(i % 2)
                                : (unsigned char)(i * 37 + 11);
  snprintf(path, sizeof path, "%s/round.npy", dir);
  NpyArray b;
  bool ok = npyWrite(path, &a, error, sizeof error) &&
            npyRead(path, &b, error, sizeof error);
  if (!ok) {
    printf("round trip %s: %s\n", npyDTypeName(dtype), error);
    npyFree(&a);
    return;
  }
  ok = b.dtype == a.dtype && b.rank == a.rank && b.numBytes == a.numBytes &&
       memcmp(b.shape, a.shape, sizeof(int64_t) * (size_t)rank) == 0 &&
       memcmp(b.data, a.data, a.numBytes) == 0 && ((uintptr_t)b.data % 64) == 0;
  unsigned char version = 0;
  FILE *f = fopen(path, "rb");
  if (f) {
    unsigned char magic[8];
    if (fread(magic, 1, 8, f) == 8)
      version = magic[6];
    fclose(f);
  }
  printf("round trip %s rank %d: %s (version %d.0)\n", npyDTypeName(dtype),
         rank, ok ? "ok" : "MISMATCH", version);
  npyFree(&a);
  npyFree(&b);
}

static unsigned lcg(unsigned *state) {
  *state = *state * 1664525u + 1013904223u;
  return *state >> 8;
}

int main(int argc, char **argv) {
  if (argc < 2)
    return 2;
  snprintf(dir, sizeof dir, "%s", argv[1]);

  // CHECK-COUNT-12: round trip {{.*}} rank 2: ok (version 1.0)
  static const NpyDType all[] = {NpyBool,   NpyInt8,    NpyInt16,   NpyInt32,
                                 NpyInt64,  NpyUInt8,   NpyUInt16,  NpyUInt32,
                                 NpyUInt64, NpyFloat16, NpyFloat32, NpyFloat64};
  int64_t shape23[] = {2, 3};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; ++i)
    roundTrip(all[i], 2, shape23);
  // CHECK: round trip float32 rank 0: ok (version 1.0)
  // CHECK: round trip float32 rank 1: ok (version 1.0)
  // CHECK: round trip int64 rank 4: ok (version 1.0)
  // CHECK: round trip float64 rank 3: ok (version 1.0)
  int64_t empty[] = {0}, four[] = {1, 1, 1, 5}, zero3[] = {4, 0, 2};
  roundTrip(NpyFloat32, 0, NULL);
  roundTrip(NpyFloat32, 1, empty);
  roundTrip(NpyInt64, 4, four);
  roundTrip(NpyFloat64, 3, zero3);
  // Any rank: 33 and 64 (more than NumPy 1.x and 2.x make), 70 with sizes
  // 1 and 2 (2^5 elements), and 40000, whose header needs version 2.0.
  // CHECK: round trip float32 rank 33: ok (version 1.0)
  // CHECK: round trip uint8 rank 64: ok (version 1.0)
  // CHECK: round trip float64 rank 70: ok (version 1.0)
  // CHECK: round trip int16 rank 40000: ok (version 2.0)
  static int64_t high[40000];
  for (int i = 0; i < 40000; ++i)
    high[i] = i < 70 && i % 14 == 3 ? 2 : 1;
  roundTrip(NpyFloat32, 33, high);
  roundTrip(NpyUInt8, 64, high);
  roundTrip(NpyFloat64, 70, high);
  roundTrip(NpyInt16, 40000, high);

  // What NumPy itself writes, version 2.0, Python 2 style 'L' suffixes,
  // double quotes and no trailing commas are all fine.
  static unsigned char file[8192];
  float data[6] = {1, 2, 3, 4, 5, 6};
  NpyArray a;
  char error[256];
  const char *good[] = {
      "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }    \n",
      "{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (2L, 3L)}",
      "{'shape': (2,3), 'fortran_order': False, 'descr': '=f4'}",
      "{'descr': '<f4', 'fortran_order': True, 'shape': (6,)}",
      "{'descr': '<f4', 'fortran_order': True, 'shape': (1, 6, 1)}",
  };
  // CHECK-COUNT-5: good header: ok
  for (size_t i = 0; i < sizeof good / sizeof good[0]; ++i) {
    size_t size = makeFile(file, good[i], data, sizeof data);
    bool ok = npyParse(file, size, &a, error, sizeof error);
    printf("good header: %s\n",
           ok && a.numElements == 6 && memcmp(a.data, data, 24) == 0 ? "ok"
                                                                     : error);
    if (ok)
      npyFree(&a);
  }
  {
    const char *dict =
        "{'descr': '<f4', 'fortran_order': False, 'shape': (6,)}";
    size_t n = strlen(dict);
    memcpy(file, "\x93NUMPY\x02\x00", 8);
    file[8] = (unsigned char)n;
    file[9] = file[10] = file[11] = 0;
    memcpy(file + 12, dict, n);
    memcpy(file + 12 + n, data, sizeof data);
    bool ok = npyParse(file, 12 + n + sizeof data, &a, error, sizeof error);
    // CHECK: version 2.0: ok
    printf("version 2.0: %s\n", ok ? "ok" : error);
    if (ok)
      npyFree(&a);
  }

  // One case per error.
  // CHECK: bad magic: not a .npy file (bad magic string)
  expectError("bad magic", "PK\x03\x04 not numpy at all", 22);
  // CHECK: too short: not a .npy file (bad magic string)
  expectError("too short", "\x93NUMPY", 6);
  // CHECK: version 9: unsupported .npy version 9.0
  expectError("version 9", "\x93NUMPY\x09\x00\x00\x00", 10);
  // CHECK: header past the end: truncated header: 4096 bytes announced, 3
  expectError("header past the end", "\x93NUMPY\x01\x00\x00\x10{'d", 13);
  // CHECK: no dict: malformed header: expected '{'
  expectDictError("no dict", "'descr': '<f4'", 0);
  // CHECK: missing shape: malformed header: missing 'shape'
  expectDictError("missing shape", "{'descr': '<f4', 'fortran_order': False}",
                  0);
  // CHECK: missing descr: malformed header: missing 'descr'
  expectDictError("missing descr", "{'fortran_order': False, 'shape': ()}", 4);
  // CHECK: twice: malformed header: 'descr' twice
  expectDictError("twice", "{'descr': '<f4', 'descr': '<f4'}", 0);
  // CHECK: unknown key: malformed header: unexpected key 'strides'
  expectDictError("unknown key",
                  "{'descr': '<f4', 'fortran_order': False, 'shape': (), "
                  "'strides': ()}",
                  4);
  // CHECK: unterminated: malformed header: expected ',' or '}'
  expectDictError("unterminated",
                  "{'descr': '<f4', 'fortran_order': False, 'shape': ()", 4);
  // CHECK: text after: malformed header: text after the dict
  expectDictError("text after",
                  "{'descr': '<f4', 'fortran_order': False, 'shape': ()} x", 4);
  // CHECK: order not bool: malformed header: 'fortran_order' is not True {{.*}}
  expectDictError("order not bool",
                  "{'descr': '<f4', 'fortran_order': 0, 'shape': ()}", 4);
  // CHECK: fortran: Fortran-order arrays are not supported (save
  // CHECK-SAME: np.ascontiguousarray(arr))
  expectDictError("fortran",
                  "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3)}",
                  24);
  // CHECK: big-endian: big-endian dtype '>f4' is not supported
  expectDictError("big-endian",
                  "{'descr': '>f4', 'fortran_order': False, 'shape': ()}", 4);
  // CHECK: complex: unsupported dtype '<c8'
  expectDictError("complex",
                  "{'descr': '<c8', 'fortran_order': False, 'shape': ()}", 8);
  // CHECK: object: unsupported dtype '|O'
  expectDictError("object",
                  "{'descr': '|O', 'fortran_order': False, 'shape': ()}", 8);
  // CHECK: unicode: unsupported dtype '<U3'
  expectDictError("unicode",
                  "{'descr': '<U3', 'fortran_order': False, 'shape': ()}", 12);
  // CHECK: structured: unsupported dtype: 'descr' is not a simple type string
  // CHECK-SAME: (structured arrays are not supported)
  expectDictError("structured",
                  "{'descr': [('a', '<f4')], 'fortran_order': False, "
                  "'shape': ()}",
                  4);
  // CHECK: negative: malformed header: bad dimension in 'shape'
  expectDictError("negative",
                  "{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}",
                  0);
  // CHECK: bad tuple: malformed header: expected ',' or ')' in 'shape'
  expectDictError("bad tuple",
                  "{'descr': '<f4', 'fortran_order': False, 'shape': (2 3)}",
                  24);
  // CHECK: int overflow: malformed header: bad dimension in 'shape'
  expectDictError("int overflow",
                  "{'descr': '<f4', 'fortran_order': False, 'shape': "
                  "(99999999999999999999,)}",
                  0);
  // CHECK: size overflow: shape too large
  expectDictError("size overflow",
                  "{'descr': '<f8', 'fortran_order': False, 'shape': "
                  "(4294967296, 4294967296)}",
                  0);
  // A huge shape in a small file is refused before anything is allocated.
  // CHECK: huge: truncated data: the shape needs 4000000000000000000 bytes,
  // CHECK-SAME: the file has 8
  expectDictError("huge",
                  "{'descr': '<f4', 'fortran_order': False, 'shape': "
                  "(1000000000, 1000000000)}",
                  8);
  // A rank above NumPy's is read like any other; its sizes are checked
  // against the file all the same.
  {
    const char *dict =
        "{'descr': '<f4', 'fortran_order': False, 'shape': "
        "(1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,"
        "1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,"
        "1,1,1,1,1,1,1,1,1,3)}";
    size_t size = makeFile(file, dict, data, 12);
    bool ok = npyParse(file, size, &a, error, sizeof error);
    // CHECK: rank 70: ok
    printf("rank 70: %s\n", ok && a.rank == 70 && a.shape[69] == 3 &&
                                    a.numElements == 3 &&
                                    memcmp(a.data, data, 12) == 0
                                ? "ok"
                                : error);
    if (ok)
      npyFree(&a);
  }
  // CHECK: rank 70 truncated: truncated data: the shape needs 12 bytes, the
  // CHECK-SAME: file has 8
  expectDictError(
      "rank 70 truncated",
      "{'descr': '<f4', 'fortran_order': False, 'shape': "
      "(1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,"
      "1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,"
      "1,1,1,1,1,1,1,1,1,3)}",
      8);
  // 2^70 elements.
  // CHECK: rank 70 overflow: shape too large
  expectDictError(
      "rank 70 overflow",
      "{'descr': '<i1', 'fortran_order': False, 'shape': "
      "(2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,"
      "2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,"
      "2,2,2,2,2,2,2,2,2,2)}",
      8);
  // CHECK: empty dimension: malformed header: bad dimension in 'shape'
  expectDictError("empty dimension",
                  "{'descr': '<f4', 'fortran_order': False, 'shape': (1,,2)}",
                  8);
  // CHECK: open tuple: malformed header: bad dimension in 'shape'
  expectDictError("open tuple",
                  "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, ",
                  0);
  // CHECK: truncated data: truncated data: the shape needs 24 bytes, the
  // CHECK-SAME: file has 20
  expectDictError("truncated data",
                  "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)}",
                  20);
  // CHECK: trailing bytes: 4 bytes after the data (not a single .npy array)
  expectDictError("trailing bytes",
                  "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2)}",
                  20);
  // CHECK: quote: malformed header: expected 'key': value
  expectDictError("quote", "{'descr: '<f4'}", 0);

  // Files on disk.
  char path[600];
  snprintf(path, sizeof path, "%s/does-not-exist.npy", dir);
  // CHECK: missing file: {{.*}}does-not-exist.npy: cannot open: No such file
  if (!npyRead(path, &a, error, sizeof error))
    printf("missing file: %s\n", error);
  NpyArray w;
  npyCreate(&w, NpyFloat32, 0, NULL, error, sizeof error);
  snprintf(path, sizeof path, "%s/no-such-dir/out.npy", dir);
  // CHECK: unwritable: {{.*}}no-such-dir/out.npy: cannot create: No such file
  if (!npyWrite(path, &w, error, sizeof error))
    printf("unwritable: %s\n", error);
  npyFree(&w);

  // Fuzzing: every truncation of a valid file fails, except the whole file;
  // random mutations of the header and length bytes parse or fail cleanly.
  size_t size = makeFile(
      file, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }   \n",
      data, sizeof data);
  int parsedPrefixes = 0;
  for (size_t n = 0; n <= size; ++n) {
    unsigned char *copy = malloc(n ? n : 1);
    memcpy(copy, file, n);
    if (npyParse(copy, n, &a, error, sizeof error)) {
      ++parsedPrefixes;
      npyFree(&a);
    }
    free(copy);
  }
  // CHECK: truncations: 1 of {{[0-9]+}} parse
  printf("truncations: %d of %zu parse\n", parsedPrefixes, size + 1);
  unsigned state = 12345;
  int parsed = 0, rejected = 0;
  for (int k = 0; k < 20000; ++k) {
    unsigned char *copy = malloc(size);
    memcpy(copy, file, size);
    int flips = 1 + (int)(lcg(&state) % 4);
    for (int f = 0; f < flips; ++f) {
      size_t at = 6 + lcg(&state) % (size - 6 - sizeof data);
      static const char alphabet[] = "0123456789(),: '{}<>|=fiubTFLe\n\x00\xff";
      copy[at] = (unsigned char)alphabet[lcg(&state) % (sizeof alphabet - 1)];
    }
    size_t n = size - (lcg(&state) % 3 == 0 ? lcg(&state) % 8 : 0);
    if (npyParse(copy, n, &a, error, sizeof error)) {
      ++parsed;
      if (a.numBytes != n - (size - sizeof data) && a.numBytes > n)
        printf("fuzz: data larger than the file\n");
      npyFree(&a);
    } else {
      ++rejected;
    }
    free(copy);
  }
  // CHECK-NOT: fuzz: data larger
  // CHECK: fuzz: 20000 mutated files, {{[0-9]+}} parsed, {{[0-9]+}} rejected
  printf("fuzz: %d mutated files, %d parsed, %d rejected\n", parsed + rejected,
         parsed, rejected);
  return 0;
}
