/*===- workload.c - The parameters and optimizer state of a benchmark -----===*\
|*                                                                            *|
|* One arena per workload holds w, g, m, v of every tensor, tensor after      *|
|* tensor, each array `pad` bytes after the page-rounded end of the previous  *|
|* one; then, with bf16 state, m16 and v16 of every tensor, likewise (so the  *|
|* fp32 arrays are where they are without them). Values come from a           *|
|* counter-based generator (splitmix64 of seed and index), so that parallel   *|
|* filling is reproducible whatever the thread count.                         *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#include "workload.h"

#include "memory.h"

#include <stdlib.h>
#include <string.h>

enum { kPage = 4096 };

/* A float in [0, 1) from (seed, index). */
static float uniform(uint64_t seed, uint64_t index) {
  return (float)(benchSplitMix64(seed ^ benchSplitMix64(index)) >> 40) *
         0x1p-24f;
}

static void fill(BenchTensor *t, uint64_t seed) {
  int64_t n = t->rows * t->cols;
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) {
    t->w[i] = 2.0f * uniform(seed, 4 * (uint64_t)i) - 1.0f;
    t->g[i] = 2e-2f * uniform(seed, 4 * (uint64_t)i + 1) - 1e-2f;
    t->m[i] = 2e-3f * uniform(seed, 4 * (uint64_t)i + 2) - 1e-3f;
    t->v[i] = 1e-4f * uniform(seed, 4 * (uint64_t)i + 3);
  }
}

/* The bf16 state: the high halves of m and v (truncation: exact on load). */
static void fillBf16(BenchTensor *t) {
  int64_t n = t->rows * t->cols;
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) {
    uint32_t m, v;
    memcpy(&m, &t->m[i], sizeof m);
    memcpy(&v, &t->v[i], sizeof v);
    t->m16[i] = (uint16_t)(m >> 16);
    t->v16[i] = (uint16_t)(v >> 16);
  }
}

/* The distance from one array's start to the next's, for elements of
 * `size` bytes. */
static size_t arrayStride(int64_t rows, int64_t cols, size_t size, size_t pad) {
  size_t bytes = (size_t)(rows * cols) * size;
  return (bytes + kPage - 1) / kPage * kPage + pad;
}

bool workloadCreateShapes(Workload *wl, int count, const int64_t *rows,
                          const int64_t *cols, size_t pad, uint64_t seed,
                          bool bf16State) {
  memset(wl, 0, sizeof *wl);
  size_t total = 0;
  for (int k = 0; k < count; ++k) {
    total += 4 * arrayStride(rows[k], cols[k], sizeof(float), pad);
    if (bf16State)
      total += 2 * arrayStride(rows[k], cols[k], sizeof(uint16_t), pad);
  }
  wl->tensors = calloc((size_t)count, sizeof *wl->tensors);
  wl->arena = benchAllocate(total);
  if (!wl->tensors || !wl->arena) {
    workloadDestroy(wl);
    return false;
  }
  wl->count = count;
  wl->arenaBytes = total;
  char *p = wl->arena;
  for (int k = 0; k < count; ++k) {
    BenchTensor *t = &wl->tensors[k];
    size_t bytes = arrayStride(rows[k], cols[k], sizeof(float), pad);
    t->rows = rows[k];
    t->cols = cols[k];
    t->w = (float *)p;
    t->g = (float *)(p + bytes);
    t->m = (float *)(p + 2 * bytes);
    t->v = (float *)(p + 3 * bytes);
    p += 4 * bytes;
    fill(t, benchSplitMix64(seed + (uint64_t)k));
    wl->numel += rows[k] * cols[k];
  }
  for (int k = 0; bf16State && k < count; ++k) {
    BenchTensor *t = &wl->tensors[k];
    size_t bytes = arrayStride(rows[k], cols[k], sizeof(uint16_t), pad);
    t->m16 = (uint16_t *)p;
    t->v16 = (uint16_t *)(p + bytes);
    p += 2 * bytes;
    fillBf16(t);
  }
  return true;
}

bool workloadCreate(Workload *wl, int count, int64_t rows, int64_t cols,
                    size_t pad, uint64_t seed, bool bf16State) {
  int64_t *r = malloc((size_t)count * sizeof *r);
  int64_t *c = malloc((size_t)count * sizeof *c);
  bool ok = r && c;
  for (int k = 0; ok && k < count; ++k) {
    r[k] = rows;
    c[k] = cols;
  }
  ok = ok && workloadCreateShapes(wl, count, r, c, pad, seed, bf16State);
  free(r);
  free(c);
  return ok;
}

void workloadDestroy(Workload *wl) {
  free(wl->tensors);
  free(wl->arena);
  memset(wl, 0, sizeof *wl);
}

bool snapshotCreate(Snapshot *s, int64_t numel) {
  s->numel = numel;
  s->data = benchAllocate(3 * (size_t)numel * sizeof(float));
  return s->data != NULL;
}

void snapshotDestroy(Snapshot *s) {
  free(s->data);
  s->data = NULL;
}

/* Copies between the snapshot and the workload's w, m, v, in either
 * direction. */
static void transfer(float *snapshot, int64_t numel, const Workload *wl,
                     bool save) {
  int64_t offset = 0;
  for (int k = 0; k < wl->count; ++k) {
    const BenchTensor *t = &wl->tensors[k];
    size_t bytes = (size_t)(t->rows * t->cols) * sizeof(float);
    float *arrays[3] = {t->w, t->m, t->v};
    for (int a = 0; a < 3; ++a) {
      float *saved = snapshot + a * numel + offset;
      if (save)
        memcpy(saved, arrays[a], bytes);
      else
        memcpy(arrays[a], saved, bytes);
    }
    offset += t->rows * t->cols;
  }
}

void snapshotSave(Snapshot *s, const Workload *wl) {
  transfer(s->data, s->numel, wl, true);
}

void snapshotRestore(const Snapshot *s, Workload *wl) {
  transfer(s->data, s->numel, wl, false);
}

bool snapshotEqualsBits(const Snapshot *s, const Workload *wl, int64_t *where) {
  int64_t offset = 0;
  for (int k = 0; k < wl->count; ++k) {
    const BenchTensor *t = &wl->tensors[k];
    int64_t n = t->rows * t->cols;
    const float *arrays[3] = {t->w, t->m, t->v};
    for (int a = 0; a < 3; ++a) {
      const float *saved = s->data + a * s->numel + offset;
      if (memcmp(saved, arrays[a], (size_t)n * sizeof(float)) == 0)
        continue;
      for (int64_t i = 0; i < n; ++i)
        if (memcmp(&saved[i], &arrays[a][i], sizeof(float)) != 0) {
          *where = a * s->numel + offset + i;
          return false;
        }
    }
    offset += n;
  }
  return true;
}

bool bf16SnapshotCreate(Bf16Snapshot *s, int64_t numel) {
  s->numel = numel;
  s->w = benchAllocate((size_t)numel * sizeof(float));
  s->m = benchAllocate((size_t)numel * sizeof(uint16_t));
  s->v = benchAllocate((size_t)numel * sizeof(uint16_t));
  if (s->w && s->m && s->v)
    return true;
  bf16SnapshotDestroy(s);
  return false;
}

void bf16SnapshotDestroy(Bf16Snapshot *s) {
  free(s->w);
  free(s->m);
  free(s->v);
  s->w = NULL;
  s->m = s->v = NULL;
}

/* Copies between the snapshot and the workload's w, m16, v16, in either
 * direction. */
static void transferBf16(const Bf16Snapshot *s, const Workload *wl, bool save) {
  int64_t offset = 0;
  for (int k = 0; k < wl->count; ++k) {
    const BenchTensor *t = &wl->tensors[k];
    int64_t n = t->rows * t->cols;
    void *live[3] = {t->w, t->m16, t->v16};
    void *saved[3] = {s->w + offset, s->m + offset, s->v + offset};
    size_t bytes[3] = {(size_t)n * sizeof(float), (size_t)n * sizeof(uint16_t),
                       (size_t)n * sizeof(uint16_t)};
    for (int a = 0; a < 3; ++a) {
      if (save)
        memcpy(saved[a], live[a], bytes[a]);
      else
        memcpy(live[a], saved[a], bytes[a]);
    }
    offset += n;
  }
}

void bf16SnapshotSave(Bf16Snapshot *s, const Workload *wl) {
  transferBf16(s, wl, true);
}

void bf16SnapshotRestore(const Bf16Snapshot *s, Workload *wl) {
  transferBf16(s, wl, false);
}

bool bf16SnapshotEqualsBits(const Bf16Snapshot *s, const Workload *wl,
                            int *array, int64_t *where) {
  int64_t offset = 0;
  for (int k = 0; k < wl->count; ++k) {
    const BenchTensor *t = &wl->tensors[k];
    int64_t n = t->rows * t->cols;
    const char *live[3] = {(const char *)t->w, (const char *)t->m16,
                           (const char *)t->v16};
    const char *saved[3] = {(const char *)(s->w + offset),
                            (const char *)(s->m + offset),
                            (const char *)(s->v + offset)};
    size_t size[3] = {sizeof(float), sizeof(uint16_t), sizeof(uint16_t)};
    for (int a = 0; a < 3; ++a) {
      if (memcmp(saved[a], live[a], (size_t)n * size[a]) == 0)
        continue;
      for (int64_t i = 0; i < n; ++i)
        if (memcmp(saved[a] + i * size[a], live[a] + i * size[a], size[a]) !=
            0) {
          *array = a;
          *where = offset + i;
          return false;
        }
    }
    offset += n;
  }
  return true;
}
