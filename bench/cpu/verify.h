/*===- verify.h - The hand-written step against the C reference -----------===*\
|*                                                                            *|
|* --verify: the hand-written kernel against cageRefUpdateAdamW of            *|
|* lib/Reference, bit for bit, on awkward shapes (1 element, odd row          *|
|* lengths, rows that are all zero or below the 1e-8 clip floor, several      *|
|* tensors of different shapes in one call), row and group-128 scales,        *|
|* coupled and decoupled, lambda_t = 10, 0.37, 0 and -0, three consecutive    *|
|* steps, on 1, 2 and 3 threads.                                              *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef CAGE_BENCH_VERIFY_H
#define CAGE_BENCH_VERIFY_H

/** Prints one line per case and a summary; returns the number of failed
 * cases. */
int verifyHandAgainstReference(void);

#endif /* CAGE_BENCH_VERIFY_H */
