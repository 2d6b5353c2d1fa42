/*===- Reference/Reference.h - Plain C reference of every cage op -*- C -*-===*\
|*                                                                            *|
|* The numerical oracle: straightforward loops computing every op and every  *|
|* mode of docs/Semantics.md §1, against which the compiled CPU and GPU code *|
|* is compared (bit for bit: quantize, STE, masks, quant_error, the         *|
|* optimizers, the CAGE update and the stored bf16 optimizer state). No      *|
|* MLIR, only libm.                                                          *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

/* Conventions of every function below.
 *
 * Tensors are dense, row-major float arrays described by (rank, dims):
 * rank >= 1 and every dims[k] >= 1. The innermost dimension
 * n = dims[rank - 1] is the "row"; rows = dims[0] * ... * dims[rank - 2]
 * (1 for rank 1). numel = rows * n, and the linear index of an element is
 * its offset in the array.
 *
 * Status: every entry point returns CageRefOk (0) on success and a non-zero
 * CageRefStatus otherwise. All arguments are validated before anything is
 * written; on failure no output (and no in-place state) has been touched.
 * Outputs may alias inputs of the same shape: results are computed into
 * scratch memory and copied out at the end (the in-place optimizers read
 * each element before writing it).
 *
 * Floating point: the library is compiled with -ffp-contract=off (no fused
 * multiply-add: every a * b + c below is two roundings) and without
 * -ffast-math, on a target with FLT_EVAL_METHOD == 0 (checked at compile
 * time), and assumes the default rounding mode (round to nearest even). All
 * arithmetic is in f32 unless a comment says double. NaN and infinite
 * inputs are outside the contract (no op promises anything for them), with
 * one exception: the bf16 store of the bf16-state optimizers is defined for
 * every f32, NaN and infinities included (see "bf16 optimizer state").
 *
 * ---------------------------------------------------------------------------
 * Orders and precisions fixed here where docs/Semantics.md §1 leaves them
 * open; the compiled code must reproduce them.
 *
 * Scale groups (1.1). For element (row, col), col in [0, n):
 *   tensor: group 0 of 1, n_group = numel;
 *   row:    group row of rows, n_group = n;
 *   group:  group row * (n / group_size) + col / group_size of
 *           rows * (n / group_size), n_group = group_size.
 * In all three cases group g is the contiguous run of linear indices
 * [g * n_group, (g + 1) * n_group), and its elements are visited in
 * increasing index order wherever an order matters.
 * With scale = operand, alpha is a flat array of that many values in group
 * order, which is the row-major order of the operand's shape ([] for
 * tensor, the leading dims for row, leading dims + n / group_size for
 * group). Operand alphas must be finite and > 0.
 *
 * Clip value alpha (1.1), over the group's values after rotation:
 *   absmax:       m = max |x| over the group, scanned in index order with
 *                 m = (|x| > m) ? |x| : m from m = 0; alpha = m if
 *                 m > 1e-8f, else 1e-8f.
 *   rms_gaussian: sum = +0.0, then sum += (double)x * (double)x in
 *                 increasing index order, in double (each square is exact);
 *                 mean = (float)(sum / (double)n_group);
 *                 alpha = (c_b * sqrtf(mean)) + 1e-8f, c_b the f32 constant
 *                 of the table (2.51393f for b = 4), the product rounded to
 *                 f32 before the addition.
 *
 * Grids (1.1), rnd = the rounding mode:
 *   int:      qmax = 2^(b-1) - 1, qmin = -2^(b-1) (exact in f32);
 *             s = alpha / qmax; z = x / s (both f32 divisions);
 *             r = clamp(rnd(z), qmin, qmax); q = r * s.
 *             Clipped: rintf(z) < qmin or rintf(z) > qmax.
 *   centered: step = (2.0f * alpha) / (float)(2^b - 1);
 *             c = clamp(x, -alpha, alpha); y = (c / step) + 0.5f;
 *             l = clamp(rnd(y), 1 - 2^(b-1), 2^(b-1));
 *             q = (l - 0.5f) * step. Clipped: |x| > alpha.
 *   nearest:    rnd(y) = rintf(y) (round half to even).
 *   stochastic: rnd(y) = floorf(y) + (u < y - floorf(y) ? 1.0f : 0.0f),
 *             u = cageRefPhiloxUniform(seed, i), i = the linear index of the
 *             element in the (rotated, same-shaped) tensor. Literally a sum:
 *             rnd(-0.0f) = -0.0f + 0.0f = +0.0f.
 *   The clamp of the level index l is a no-op with nearest rounding; with
 *   stochastic rounding it matters: for about one alpha in ten, y =
 *   -alpha / step + 0.5 rounds in f32 to just below 1 - 2^(b-1), and rnd
 *   could go down to -2^(b-1), a level outside the grid.
 *   A consequence of section 1 as written, reproduced as it is:
 *   y - floorf(y) is exact except for y in (-1, 0) with bits below
 *     2^-24, where it rounds (to 1.0f for tiny |y|: rnd(y) is then always
 *     0). Deterministic, so reproducible; the bias is below 2^-24.
 *
 * Hadamard rotation (1.1), blockwise along the innermost dimension, each
 * block of B = block elements in place, in f32:
 *   for h = 1, 2, 4, ..., B/2:
 *     for each j0 = 0, 2h, 4h, ... < B:  for j = j0 .. j0 + h - 1:
 *       a = x[j]; b = x[j + h]; x[j] = a + b; x[j + h] = a - b;
 *   then x[j] = x[j] * (float)(1.0 / sqrt((double)B)) for every j.
 * This is x * H_B with H[i][j] = (-1)^popcount(i & j) / sqrt(B), up to the
 * f32 roundings of that order. Q(x) = q(x*H)*H: rotate, find the scales on
 * the rotated values, quantize, rotate back with the same transform.
 *
 * Masks and STE (1.2): clipping is judged with rintf whatever the rounding
 * mode (no seed). "dy (.) mask" is a select, not a product:
 * dx = clipped ? +0.0f : dy (so dx keeps dy's bits where not clipped and is
 * +0.0f, never -0.0f or NaN, where clipped). With rotation:
 * dx = H(select(clipped(x*H), 0, dy*H)).
 *
 * LSQ gradient (1.2), per group, with the group's alpha:
 *   int:      s = alpha / qmax; z = x / s; r = rintf(z);
 *             d = (r - z) / qmax if qmin <= r <= qmax,
 *                 qmin / qmax    if r < qmin, 1.0f if r > qmax.
 *   centered: h = (float)(2^b - 1) / 2.0f; r = rintf(((x * h) / alpha) + 0.5f);
 *             d = ((r - 0.5f) / h) - (x / alpha) if |x| <= alpha,
 *                 1.0f if x > alpha, -1.0f if x < -alpha.
 *   sum = +0.0, then sum += (double)dy_i * (double)d_i (exact products) in
 *         double, in increasing index order (so a group of -0.0 terms gives
 *         +0.0); gamma = 1.0f / sqrtf((float)(n_group * qmax)) (an integer
 *         product, converted once); dalpha = (float)sum * gamma. With
 *         rotation x and dy are x*H and dy*H.
 *
 * quant_error (1.3): keep: e = w - Q(w), one f32 subtraction per element
 * (with rotation too). zero_clipped without rotation: e = clipped(w) ? +0.0f
 * : w - Q(w); with rotation: e = H(clipped(w*H) ? +0.0f : (w*H - q(w*H))).
 *
 * lambda_schedule (1.3): r = (float)t / (float)T; r = (r < 1.0f) ? r : 1.0f;
 *   lambda_t = 0.0f if r <= s, else linear_ramp: (lambda * (r - s)) /
 *   (1.0f - s), constant: lambda.
 *
 * AdamW (1.3), per element, in f32, with the bias corrections bc1 and bc2
 * computed once per call: bc = (float)(1.0 - p), p = beta^t in double by
 * binary exponentiation (p = 1.0, sq = (double)beta; for each bit of t from
 * the lowest: if the bit is set p = p * sq; then sq = sq * sq), the same on
 * every target:
 *   w = w * (1.0f - lr * wd);
 *   m = (beta1 * m) + ((1.0f - beta1) * g);
 *   v = (beta2 * v) + ((1.0f - beta2) * (g * g));
 *   mhat = m / bc1;  vhat = v / bc2;
 *   w = w - ((lr * mhat) / (sqrtf(vhat) + eps)).
 *
 * SGD (1.3), per element, in f32:
 *   if (wd != 0) g = g + wd * w;
 *   if (mu != 0) { b = (mu * b) + ((1.0f - dampening) * g);
 *                  d = nesterov ? g + mu * b : b; } else d = g;
 *   w = w - lr * d.
 * The weight decay is skipped when wd == 0, as torch does (g + 0 * w would
 * turn a -0.0f gradient into +0.0f).
 *
 * CAGE update (1.3): e = quant_error(w) from the w given (before weight
 * decay). Coupled: g' = g + lambda_t * e, then the optimizer with g';
 * decoupled: the optimizer with g, then c = lr * lambda_t (f32, once) and
 * w = w - c * e. Whatever lambda_t is: with lambda_t == 0 the result is the
 * plain optimizer step except for the sign of zero results (w - 0 * e turns
 * a -0.0f weight into +0.0f, g + 0 * e a -0.0f gradient) and in every scale
 * group (or Hadamard block) that holds a non-finite w: its alpha is then
 * infinite or NaN, so e is NaN across the group, and 0 * e with it.
 *
 * bf16 optimizer state (the *Bf16State entry points: cage.adamw, cage.sgd
 * and cage.update with m, v or b stored as bf16). A bf16 is a uint16_t
 * holding the high 16 bits of an f32 (sign, 8 exponent bits, the top 7
 * mantissa bits); w and g stay f32, the arithmetic is f32.
 *   load:  the f32 whose bits are (uint32_t)h << 16 (exact).
 *   step:  exactly the f32 step above (AdamW, SGD, the CAGE update: the same
 *          operations in the same order, the same per-call constants), on
 *          the loaded m, v / b. w is written from those f32 results, so it is
 *          bit for bit the f32 step's w from the same (loaded) state, and
 *          SGD's Nesterov term uses the f32 b before its store. The new f32
 *          m, v / b are then stored as below. With momentum == 0, b is
 *          neither read nor written (and may be NULL).
 *   store: element i (its linear index in the tensor; 0 .. n-1 for the
 *          plain steps) takes the 32-bit word out[i mod 4] of one
 *          Philox4x32-10 call per four elements, with section 1.4's key =
 *          (seed low 32, seed high 32) and counter = (floor(i/4) low 32,
 *          floor(i/4) high 32, 0, 0); m and b are rounded with r = the
 *          word's low 16 bits, v with its high 16 bits. x (the new f32
 *          value) becomes h = bf16sr(x, r): with u32 the bits of x and
 *          lo = u32 & 0xFFFF,
 *            x NaN:        h = (u32 >> 16 & 0x8000) | 0x7FC0 (the quiet NaN
 *                          of its sign);
 *            else:         h = (u32 >> 16) + (r < lo ? 1 : 0), an unsigned
 *                          comparison of two 16-bit integers (lo == 0 never
 *                          rounds: +-0, +-Inf and every value on the bf16
 *                          grid are exact).
 *          u32 >> 16 is x truncated toward zero; + 1 (an integer add on the
 *          bits, the sign bit untouched) is the next bf16 away from zero,
 *          the carry going into the exponent where the mantissa is full
 *          (0x3F7F + 1 = 0x3F80 = 1.0; 0x007F + 1 = 0x0080, the smallest
 *          normal: subnormals are on the same grid). A value rounds up
 *          (magnitude up: a negative value away from zero) with probability
 *          lo / 2^16 exactly, so E[h] = x (unbiased). Nothing saturates:
 *          rounding up the largest finite bf16 0x7F7F (3.38953139e38) gives
 *          0x7F80 = Inf (0xFF80 = -Inf below zero), so an f32 beyond it is
 *          stored as +-Inf with probability lo / 2^16.
 *   seed:  the caller passes a new seed every step (seed = t, for example).
 *          With a fixed seed element i draws the same words every step, so
 *          its roundings are correlated across steps (a state that stays
 *          between the same two bf16 values rounds the same way every time,
 *          and the rounding is no longer unbiased over time). Two tensors
 *          stepped with the same seed draw the same words index by index,
 *          and cage.quantize with rounding = stochastic under the same seed
 *          draws from the same Philox stream: give them different seeds
 *          where that correlation matters.
 *   exactness: the stored bf16 state is part of the oracle bit for bit. m, v
 *          and b come from multiplications and additions only (no powf, no
 *          division, no sqrt), so compiled code without contraction into
 *          FMA reproduces them exactly; a one-ulp difference in the f32
 *          value would change lo by one and flip the store with probability
 *          2^-16 into a whole bf16 ulp (2^-8 relative) apart.
 * ------------------------------------------------------------------------ */

#ifndef CAGE_REFERENCE_REFERENCE_H
#define CAGE_REFERENCE_REFERENCE_H

#include "cage-c/Dialect/CageEnums.h"

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define CAGE_REF_EXPORT __declspec(dllexport)
#elif defined(__GNUC__)
#define CAGE_REF_EXPORT __attribute__((visibility("default")))
#else
#define CAGE_REF_EXPORT
#endif

/** The status of every entry point; CageRefOk is 0, the others non-zero. */
typedef enum CageRefStatus {
  CageRefOk = 0,
  /** A required pointer is NULL, or a pointer that must be NULL is not. */
  CageRefErrorNull = 1,
  /** rank < 1, a dimension < 1, or numel too large. */
  CageRefErrorShape = 2,
  /** A quantizer parameter is out of range, or group_size / block does not
   * divide the innermost dimension, or the quantizer is not allowed here
   * (stochastic rounding or operand scales for quant_error / update). */
  CageRefErrorQuantizer = 3,
  /** Another argument is out of range: an enum, a hyper-parameter, a step
   * count, an operand alpha that is not finite and > 0. */
  CageRefErrorArgument = 4,
  /** Scratch memory could not be allocated. */
  CageRefErrorMemory = 5,
} CageRefStatus;

/** A short English description of a status ("ok", "null pointer", ...). */
CAGE_REF_EXPORT const char *cageRefStatusString(int status);

/** The parameters of #cage.quantizer, field for field. group_size is read
 * only with granularity = group and block only with rotation = hadamard;
 * both must then be powers of two dividing the innermost dimension (block
 * >= 2). bits is 2..8. */
typedef struct CageRefQuantizer {
  int64_t bits;
  CageGranularity granularity;
  int64_t groupSize;
  CageScaleKind scale;
  CageLevels levels;
  CageRotation rotation;
  int64_t block;
  CageRounding rounding;
} CageRefQuantizer;

/** The defaults of #cage.quantizer<>: 4 bits, row, group_size 128, absmax,
 * int, no rotation, block 128, nearest. */
CAGE_REF_EXPORT CageRefQuantizer cageRefQuantizerDefault(void);

/** The hyper-parameters of #cage.adamw (section 1.3). Valid: 0 <= beta1,
 * beta2 < 1, eps > 0, weightDecay >= 0, all finite. */
typedef struct CageRefAdamW {
  float beta1;
  float beta2;
  float eps;
  float weightDecay;
} CageRefAdamW;

/** The hyper-parameters of #cage.sgd (section 1.3). Valid: momentum >= 0,
 * 0 <= dampening <= 1, weightDecay >= 0, all finite; nesterov needs
 * momentum > 0 and dampening == 0. */
typedef struct CageRefSgd {
  float momentum;
  float dampening;
  bool nesterov;
  float weightDecay;
} CageRefSgd;

/*===----------------------------------------------------------------------===*
 * exp and erf of f32 (section 1.7)
 *===----------------------------------------------------------------------===*/

/** exp(x) and erf(x) as compiled code computes math.exp and math.erf of f32
 * (cage-convert-math-to-arith): the polynomials of section 1.7 with the
 * constants of cage/Math/ExpErf.h, every operation rounded to f32. Defined
 * for every f32: NaN gives x, exp overflows to +inf above 88.7228394 and is
 * 0 below -103.972084, erf(±inf) = ±1. */
CAGE_REF_EXPORT float cageRefExpF32(float x);
CAGE_REF_EXPORT float cageRefErfF32(float x);

/*===----------------------------------------------------------------------===*
 * Philox4x32-10 and stochastic rounding (section 1.4)
 *===----------------------------------------------------------------------===*/

/** Philox4x32-10 exactly as Random123's philox4x32(ctr, key): 10 rounds,
 * multipliers 0xD2511F53 / 0xCD9E8D57, Weyl key increments 0x9E3779B9 /
 * 0xBB67AE85. Writes the 4 output words to out. */
CAGE_REF_EXPORT int cageRefPhilox4x32(const uint32_t counter[4],
                                      const uint32_t key[2], uint32_t out[4]);

/** u in [0, 1) for element i under seed: key = (seed low 32 bits, seed high
 * 32 bits), counter = (i low 32, i high 32, 0, 0), u = (out[0] >> 8) *
 * 2^-24 (exact in f32). */
CAGE_REF_EXPORT float cageRefPhiloxUniform(uint64_t seed, uint64_t index);

/** rnd(y) of section 1.4: floorf(y) + (u < y - floorf(y) ? 1 : 0) with
 * u = cageRefPhiloxUniform(seed, index). */
CAGE_REF_EXPORT float cageRefRoundStochastic(float y, uint64_t seed,
                                             uint64_t index);

/** bf16sr(x, r) of "bf16 optimizer state" above for element `index` of a
 * state tensor under seed: r is the low 16 bits of the element's word (what
 * m and the SGD buffer b use) when high == 0, its high 16 bits (v's)
 * otherwise. Returns the bf16 bits. */
CAGE_REF_EXPORT uint16_t cageRefBf16FromF32Stochastic(float x, uint64_t seed,
                                                      uint64_t index, int high);

/** The f32 value of the bf16 bits h: the f32 with bits (uint32_t)h << 16
 * (exact; NaN payloads and signed zeros kept). */
CAGE_REF_EXPORT float cageRefF32FromBf16(uint16_t h);

/*===----------------------------------------------------------------------===*
 * Quantizer (sections 1.1, 1.2)
 *===----------------------------------------------------------------------===*/

/** The number of scale groups (alpha values) of quantizer q on a tensor of
 * shape (rank, dims): the element count of the scale operand's shape. */
CAGE_REF_EXPORT int cageRefNumGroups(const CageRefQuantizer *q, int64_t rank,
                                     const int64_t *dims, int64_t *numGroups);

/** y = x * H blockwise along the innermost dimension (block B, a power of
 * two >= 2 dividing it), by the fast Walsh-Hadamard transform above. Since
 * H is its own inverse, applying it twice gives x back up to rounding. */
CAGE_REF_EXPORT int cageRefHadamard(int64_t rank, const int64_t *dims,
                                    int64_t block, const float *x, float *y);

/** The clip values alpha[numGroups] that scale = absmax or rms_gaussian
 * finds for x (on x * H with rotation). Fails for scale = operand. */
CAGE_REF_EXPORT int cageRefClipValues(const CageRefQuantizer *q, int64_t rank,
                                      const int64_t *dims, const float *x,
                                      float *alpha);

/** y = Q(x) (cage.quantize). alpha: numGroups values when scale = operand,
 * else NULL. seed keys the Philox stream when rounding = stochastic and is
 * ignored otherwise. */
CAGE_REF_EXPORT int cageRefQuantize(const CageRefQuantizer *q, int64_t rank,
                                    const int64_t *dims, const float *x,
                                    const float *alpha, uint64_t seed,
                                    float *y);

/** clipped[i] = 1 where element i is clipped, else 0, judged with round half
 * to even whatever q's rounding mode. With rotation, element i is the i-th
 * element of x * H (the mask lives in the rotated domain). alpha as in
 * cageRefQuantize. */
CAGE_REF_EXPORT int cageRefClippedMask(const CageRefQuantizer *q, int64_t rank,
                                       const int64_t *dims, const float *x,
                                       const float *alpha,
                                       unsigned char *clipped);

/** cage.ste: dx from dy (both shaped like x). With scale = operand, alpha
 * (numGroups values) is required and dalpha (numGroups values) receives the
 * LSQ gradient; otherwise both must be NULL. The rounding mode of q is
 * ignored (no seed). */
CAGE_REF_EXPORT int cageRefSte(const CageRefQuantizer *q,
                               CageEstimator estimator, int64_t rank,
                               const int64_t *dims, const float *dy,
                               const float *x, const float *alpha, float *dx,
                               float *dalpha);

/** cage.quant_error: e = w - Q(w), keep or zero_clipped. q must have
 * rounding = nearest and scale != operand, as the op requires. */
CAGE_REF_EXPORT int cageRefQuantError(const CageRefQuantizer *q,
                                      CageErrorMode error, int64_t rank,
                                      const int64_t *dims, const float *w,
                                      float *e);

/*===----------------------------------------------------------------------===*
 * Schedule and optimizers (section 1.3)
 *===----------------------------------------------------------------------===*/

/** cage.lambda_schedule: *lambdaT = lambda_t at step t of total. Valid:
 * lambda >= 0 and finite, 0 <= silence < 1, total >= 1 (t may be any
 * value; t <= 0 gives 0). */
CAGE_REF_EXPORT int cageRefLambdaSchedule(CageScheduleKind kind, float lambda,
                                          float silence, int64_t t,
                                          int64_t total, float *lambdaT);

/** cage.adamw, in place on w, m, v (n elements, n >= 0), g read only; lr
 * finite, t >= 1 (the 1-based count of updates, this one included). */
CAGE_REF_EXPORT int cageRefAdamW(const CageRefAdamW *opt, int64_t n, float *w,
                                 const float *g, float *m, float *v, float lr,
                                 int64_t t);

/** cage.sgd, in place on w and b (n elements, n >= 0), g read only; lr
 * finite. With momentum 0, b is left untouched (and may be NULL). */
CAGE_REF_EXPORT int cageRefSgd(const CageRefSgd *opt, int64_t n, float *w,
                               const float *g, float *b, float lr);

/** cage.update with #cage.adamw: the CAGE step, in place on w, m, v of shape
 * (rank, dims). q as for cageRefQuantError; lambdaT finite (the op's
 * lambda operand, i.e. lambda_t; the correction is applied whatever it is,
 * see "CAGE update" above). */
CAGE_REF_EXPORT int
cageRefUpdateAdamW(const CageRefQuantizer *q, CageErrorMode error,
                   CageCoupling coupling, const CageRefAdamW *opt, int64_t rank,
                   const int64_t *dims, float *w, const float *g, float *m,
                   float *v, float lr, float lambdaT, int64_t t);

/** cage.update with #cage.sgd: as cageRefUpdateAdamW, in place on w and b
 * (b may be NULL with momentum 0). */
CAGE_REF_EXPORT int cageRefUpdateSgd(const CageRefQuantizer *q,
                                     CageErrorMode error, CageCoupling coupling,
                                     const CageRefSgd *opt, int64_t rank,
                                     const int64_t *dims, float *w,
                                     const float *g, float *b, float lr,
                                     float lambdaT);

/*===----------------------------------------------------------------------===*
 * Optimizers with bf16 state ("bf16 optimizer state" above)
 *===----------------------------------------------------------------------===*/

/** cageRefAdamW with m and v stored as bf16 (n elements each, updated in
 * place): the f32 step on the loaded m, v, then m, v stored with stochastic
 * rounding under seed (element i uses index i; m the low 16 bits of its
 * word, v the high 16 bits). The same
 * validation and statuses as cageRefAdamW; seed may be any value (vary it
 * from step to step). */
CAGE_REF_EXPORT int cageRefAdamWBf16State(const CageRefAdamW *opt, int64_t n,
                                          float *w, const float *g, uint16_t *m,
                                          uint16_t *v, float lr, int64_t t,
                                          uint64_t seed);

/** cageRefSgd with the momentum buffer b stored as bf16 (low 16 bits). With
 * momentum 0, b is untouched (and may be NULL) and seed is unused. */
CAGE_REF_EXPORT int cageRefSgdBf16State(const CageRefSgd *opt, int64_t n,
                                        float *w, const float *g, uint16_t *b,
                                        float lr, uint64_t seed);

/** cageRefUpdateAdamW with bf16 m, v: the CAGE step of (rank, dims) (e from
 * w before weight decay, coupled or decoupled) whose optimizer step is
 * cageRefAdamWBf16State's, element i being the linear index in the tensor.
 * The same validation and statuses as cageRefUpdateAdamW. */
CAGE_REF_EXPORT int
cageRefUpdateAdamWBf16State(const CageRefQuantizer *q, CageErrorMode error,
                            CageCoupling coupling, const CageRefAdamW *opt,
                            int64_t rank, const int64_t *dims, float *w,
                            const float *g, uint16_t *m, uint16_t *v, float lr,
                            float lambdaT, int64_t t, uint64_t seed);

/** cageRefUpdateSgd with a bf16 buffer b (may be NULL with momentum 0), as
 * cageRefUpdateAdamWBf16State. */
CAGE_REF_EXPORT int cageRefUpdateSgdBf16State(
    const CageRefQuantizer *q, CageErrorMode error, CageCoupling coupling,
    const CageRefSgd *opt, int64_t rank, const int64_t *dims, float *w,
    const float *g, uint16_t *b, float lr, float lambdaT, uint64_t seed);

/*===----------------------------------------------------------------------===*
 * FOGZO (section 1.6)
 *
 * The first-order-guided zeroth-order estimate of section 1.6 for a set P of
 * numParams parameters (P's order is the order of the params array; k below
 * is a parameter's 0-based index in it). Orders and precisions fixed here
 * where section 1.6 leaves them open; compiled code must reproduce them:
 *
 *   r      = (float)t / (float)T (an f32 division); r = (r < 1.0f) ? r : 1.0f.
 *            FOGZO is active iff r > start. When it is not, G = g (copied,
 *            bit for bit) and the loss is not called.
 *   norm   = sqrt(sum) in double, sum = +0.0, then
 *            sum += (double)g_i * (double)g_i over the parameters in order
 *            and their elements in increasing index order.
 *   nf     = 1.0f if norm < 1e-12; else (float)norm (direction unit_norm:
 *            ghat has norm 1) or (float)(norm / sqrt((double)n)) (unit_rms:
 *            ghat has RMS 1 per element, as u has; n the total number of
 *            elements of P), in double. ghat_i = g_i / nf (f32).
 *   beta   = betaMin + ((1.0f - betaMin) * (1.0f - r))  (f32, in that order).
 *   sigma  = +1.0f if (o[0] & 1) == 0 else -1.0f, o = Philox4x32-10 with
 *            key = (seed low 32, seed high 32) and counter = (0, 0,
 *            0xFFFFFFFF, t low 32).
 *   cb     = sqrtf(beta) * sigma;  cu = sqrtf(1.0f - beta).
 *   u_k,i  = ((2.0f * a) - 1.0f) * 0x1.bb67aep+0f (the f32 nearest sqrt(3)),
 *            a = (float)(o[0] >> 8) * 2^-24, o = Philox4x32-10 with the same
 *            key and counter = (i low 32, i high 32, k low 32, t low 32);
 *            i is the linear index of the element in parameter k. 2a - 1 is
 *            exact; the product is the only rounding.
 *   v_i    = (cb * ghat_i) + (cu * u_i)  (two f32 products, then the sum).
 *   h      = sum / (double)count, sum = +0.0, then for each quantized
 *            parameter in order and each of its scale groups in order
 *            sum += (double)n_group * (double)step_g; count = the number of
 *            elements of the quantized parameters. step_g = alpha_g / qmax
 *            (int grid) or (2.0f * alpha_g) / (float)(2^b - 1) (centered),
 *            in f32, alpha_g the group's clip value as cage.quantize finds
 *            it on w (on w * H with rotation). Unquantized parameters
 *            (q == NULL) contribute nothing.
 *   eps    = the settings' epsilon if it is > 0, else
 *            (float)(h / (2.0 * sqrt(3.0))) (double; eps_bar = 1/(2 sqrt 3)).
 *   probes = w+_i = w_i + (eps * v_i), w-_i = w_i - (eps * v_i) (f32, the
 *            product then the sum); L+ = loss(w+), then L- = loss(w-): plus
 *            first, each call given every parameter of P.
 *   G_i    = scale * v_i, scale = (L+ - L-) / (2.0f * eps) (f32).
 * Sign and noise counters share the key: the sign's counter equals the noise
 * counter of element 0 of parameter 0xFFFFFFFF, a parameter index P never
 * reaches in practice.
 * Shapes have rank >= 1 here, as for every function of this library: a
 * parameter of rank 0 (compiled code takes one) is given as rank 1 of size
 * 1, the same element at the same index 0.
 *===----------------------------------------------------------------------===*/

/** The settings of FOGZO. Valid: 0 <= betaMin <= 1, 0 <= start < 1,
 * epsilon >= 0, all finite, direction one of CageFogzoDirection. epsilon == 0
 * derives eps from the grid (h above; at least one parameter must then be
 * quantized); epsilon > 0 is used as eps instead (for parameters without a
 * quantizer, e.g. smooth test functions). seed keys every Philox call (sign
 * and noise). direction: the scale nf of ghat above. */
typedef struct CageRefFogzo {
  float betaMin;
  float start;
  uint64_t seed;
  float epsilon;
  CageFogzoDirection direction;
} CageRefFogzo;

/** One parameter of P: its shape (rank, dims), weights w and STE gradient g
 * (both numel floats) and its quantizer q, or NULL for an unquantized
 * parameter (it takes no part in h). q must have rounding = nearest and
 * scale != operand (the clip values are found on w). */
typedef struct CageRefFogzoParam {
  int64_t rank;
  const int64_t *dims;
  const float *w;
  const float *g;
  const CageRefQuantizer *q;
} CageRefFogzoParam;

/** The loss of the step's batch with every parameter of P replaced by
 * params[k] (numel floats of parameter k's shape, valid during the call
 * only). context is passed through. */
typedef float (*CageRefFogzoLoss)(void *context, const float *const *params);

/** What a step computed (optional). active = 0 on an inactive step, with
 * every other field 0. Otherwise norm is the divisor of g in double (nf =
 * (float)norm: ||g||, ||g|| / sqrt(n) with unit_rms, 1.0 when ||g|| was
 * below 1e-12), and beta, sigma, epsilon, lossPlus,
 * lossMinus and scale are beta_t, sigma, eps, L+, L- and the factor of v. */
typedef struct CageRefFogzoTrace {
  int active;
  double norm;
  float beta;
  float sigma;
  float epsilon;
  float lossPlus;
  float lossMinus;
  float scale;
} CageRefFogzoTrace;

/** One FOGZO estimate at step t of T (t >= 1, T >= 1): G[k] (numel floats of
 * parameter k, may alias params[k].g or any input of the same shape)
 * receives G_k. numParams >= 1. Calls loss twice on an active step (plus
 * first), never on an inactive one; G and *trace (trace may be NULL) are
 * written after both calls. Statuses: CageRefErrorNull for a NULL s, params,
 * loss, G, G[k], params[k].dims, .w or .g; CageRefErrorShape for a bad
 * shape; CageRefErrorQuantizer for an invalid quantizer, rounding =
 * stochastic or scale = operand; CageRefErrorArgument for bad settings,
 * t < 1, T < 1, numParams < 1, or epsilon == 0 with no quantized parameter;
 * CageRefErrorMemory. Validation covers everything, whether or not the step
 * is active, before the loss is called or anything is written. */
CAGE_REF_EXPORT int cageRefFogzo(const CageRefFogzo *s, int64_t t, int64_t T,
                                 int64_t numParams,
                                 const CageRefFogzoParam *params,
                                 CageRefFogzoLoss loss, void *context,
                                 float *const *G, CageRefFogzoTrace *trace);

/** sigma of step t under seed (+1.0f or -1.0f); only t's low 32 bits count. */
CAGE_REF_EXPORT float cageRefFogzoSign(uint64_t seed, int64_t t);

/** u of element index of parameter param at step t under seed; only the low
 * 32 bits of t and param count, index as a 64-bit unsigned value. */
CAGE_REF_EXPORT float cageRefFogzoNoise(uint64_t seed, int64_t t, int64_t param,
                                        int64_t index);

/** *h = the mean quantization step of P at the weights params[k].w (h
 * above). params[k].g is not read (may be NULL). The statuses of
 * cageRefFogzo for params; CageRefErrorNull for a NULL h;
 * CageRefErrorArgument when no parameter is quantized. */
CAGE_REF_EXPORT int
cageRefFogzoStep(int64_t numParams, const CageRefFogzoParam *params, double *h);

#ifdef __cplusplus
}
#endif

#endif /* CAGE_REFERENCE_REFERENCE_H */
