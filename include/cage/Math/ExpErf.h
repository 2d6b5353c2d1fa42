/*===- cage/Math/ExpErf.h - The constants of exp and erf of f32 ---*- C -*-===*\
|*                                                                            *|
|* docs/Semantics.md §1.7: the f32 constants of the polynomials that compiled *|
|* code evaluates for math.exp and math.erf (cage-convert-math-to-arith) and  *|
|* that lib/Reference evaluates in the same order. Hexadecimal literals: the  *|
|* exact f32 values. The polynomials are minimax fits in relative error       *|
|* (scripts/fit_exp_erf.py derives them and measures their error).            *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef CAGE_MATH_EXPERF_H
#define CAGE_MATH_EXPERF_H

/* exp(x) = 2^n·exp(r), n = roundeven(x·log2 e), r = (x − n·ln2_hi) −
 * n·ln2_lo; ln2_hi has 9 significant bits, so n·ln2_hi is exact for the
 * |n| <= 150 that occur. exp is +inf above kCageExpMax, 0 below
 * kCageExpMin. */
static const float kCageExpLog2E = 0x1.715476p+0f;   /* 1.44269502 */
static const float kCageExpLn2Hi = 0x1.63p-1f;       /* 0.693359375 */
static const float kCageExpLn2Lo = -0x1.bd0106p-13f; /* ln 2 − ln2_hi */
static const float kCageExpMax = 0x1.62e43p+6f;      /* 88.7228394 */
static const float kCageExpMin = -0x1.9fe36ap+6f;    /* −103.972084 */
/* exp(r) = (P(r)·r² + r) + 1 on [−ln2/2, ln2/2]; P's coefficients, constant
 * term first. */
enum { kCageExpNumP = 6 };
static const float kCageExpP[kCageExpNumP] = {0x1p-1f,         0x1.555554p-3f,
                                              0x1.55548ep-5f,  0x1.11127p-7f,
                                              0x1.6d8cf4p-10f, 0x1.9f08aap-13f};

/* erf is odd; for a = |x| < kCageErfSplit, s = a², erf(a) =
 * a + a·(R(s)·s + (c0 − 1)), c0 = 2/√π rounded: the leading term a is
 * kept exact. R's coefficients, constant term first. */
static const float kCageErfSplit = 0x1.99999ap-1f; /* 0.8 */
static const float kCageErfC0Minus1 = 0x1.06ebbp-3f;
enum { kCageErfNumR = 6 };
static const float kCageErfR[kCageErfNumR] = {
    -0x1.812746p-2f, 0x1.ce2edep-4f,   -0x1.b8231ap-6f,
    0x1.55ac1cp-8f,  -0x1.b35f34p-11f, 0x1.7fe712p-14f};
/* For a >= kCageErfSplit: b = min(a, 4) (erf rounds to 1 from 3.92 on),
 * t = b·kCageErfT1 − kCageErfT0 (b from [0.8, 4] onto [−1, 1]),
 * erf(a) = 1 − exp(−(b·b))·Q(t), exp as above. Q's coefficients, constant
 * term first. */
static const float kCageErfLargeMax = 4.0f;
static const float kCageErfT1 = 0x1.4p-1f; /* 0.625 */
static const float kCageErfT0 = 0x1.8p+0f; /* 1.5 */
enum { kCageErfNumQ = 11 };
static const float kCageErfQ[kCageErfNumQ] = {
    0x1.bf7d98p-3f,  -0x1.04dd6cp-3f, 0x1.1e48fep-4f, -0x1.3ac126p-5f,
    0x1.4524a2p-6f,  0x1.ae563ep-16f, 0x1.14b2c6p-6f, -0x1.6a1feep-10f,
    -0x1.71f2a6p-7f, -0x1.4c3e1ap-7f, -0x1.0a2acep-9f};

#endif /* CAGE_MATH_EXPERF_H */
