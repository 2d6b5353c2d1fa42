/*===- workload.h - The parameters and optimizer state of a benchmark -----===*\
|*                                                                            *|
|* A workload is a list of 2-D fp32 parameters, each with its gradient g and  *|
|* its AdamW state m, v, in one huge-page-advised arena. Every step           *|
|* implementation (probe, hand-written, compiled) runs on the same buffers.   *|
|* Optionally each tensor also has bf16 copies of m and v (m16, v16, after    *|
|* every fp32 array in the arena): the compiled bf16-state step runs on w, g  *|
|* and those.                                                                 *|
|*                                                                            *|
|* Consecutive arrays are `pad` bytes apart beyond their page-rounded sizes.  *|
|* With no pad, w, g, m and v of a 4096 x 4096 tensor start 64 MiB apart,     *|
|* all address bits below 2^26 equal, and the divider-bound steps (hand and   *|
|* compiled alike, not the probe) run up to a third slower on this machine;   *|
|* a pad of a few 4 KiB pages (84 KiB by default) avoids that artifact.       *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef CAGE_BENCH_WORKLOAD_H
#define CAGE_BENCH_WORKLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** One parameter: rows x cols, row-major, and its g, m, v of the same shape;
 * m16, v16 (bf16 bits) when the workload has bf16 state, else NULL. */
typedef struct BenchTensor {
  float *w, *g, *m, *v;
  uint16_t *m16, *v16;
  int64_t rows, cols;
} BenchTensor;

typedef struct Workload {
  BenchTensor *tensors;
  int count;
  int64_t numel; /* over all tensors */
  void *arena;
  size_t arenaBytes;
} Workload;

/** Allocates `count` tensors of rows x cols, arrays `pad` bytes apart (a
 * multiple of 64), and fills them (in parallel, on the current OpenMP
 * thread count) with reproducible values from `seed`: w in (-1, 1), g in
 * (-1e-2, 1e-2), m in (-1e-3, 1e-3), v in (0, 1e-4), so that every page is
 * touched before anything is timed. With bf16State, also m16 and v16: the
 * bf16 truncations of m and v, placed after all fp32 arrays (which are
 * where they would be without them), `pad` bytes apart as well. */
bool workloadCreate(Workload *wl, int count, int64_t rows, int64_t cols,
                    size_t pad, uint64_t seed, bool bf16State);
/** A workload of the given shapes (one tensor each), as above. */
bool workloadCreateShapes(Workload *wl, int count, const int64_t *rows,
                          const int64_t *cols, size_t pad, uint64_t seed,
                          bool bf16State);
void workloadDestroy(Workload *wl);

/** The state a step writes (w, m, v of every tensor), saved or restored. */
typedef struct Snapshot {
  float *data; /* 3 * numel floats: all w, then all m, then all v */
  int64_t numel;
} Snapshot;

bool snapshotCreate(Snapshot *s, int64_t numel);
void snapshotDestroy(Snapshot *s);
void snapshotSave(Snapshot *s, const Workload *wl);
void snapshotRestore(const Snapshot *s, Workload *wl);
/** Whether the workload's w, m, v equal the snapshot bit for bit; if not,
 * *where receives the first differing flat index into the snapshot. */
bool snapshotEqualsBits(const Snapshot *s, const Workload *wl, int64_t *where);

/** The state the bf16-state step writes: w (fp32), m16 and v16 of every
 * tensor, saved or restored. */
typedef struct Bf16Snapshot {
  float *w;        /* numel floats: all w */
  uint16_t *m, *v; /* numel each: all m16, all v16 */
  int64_t numel;
} Bf16Snapshot;

bool bf16SnapshotCreate(Bf16Snapshot *s, int64_t numel);
void bf16SnapshotDestroy(Bf16Snapshot *s);
void bf16SnapshotSave(Bf16Snapshot *s, const Workload *wl);
void bf16SnapshotRestore(const Bf16Snapshot *s, Workload *wl);
/** Whether the workload's w, m16, v16 equal the snapshot bit for bit; if
 * not, *array gets 0, 1 or 2 (w, m, v) and *where the first differing flat
 * index into that array over all tensors. */
bool bf16SnapshotEqualsBits(const Bf16Snapshot *s, const Workload *wl,
                            int *array, int64_t *where);

#endif /* CAGE_BENCH_WORKLOAD_H */
