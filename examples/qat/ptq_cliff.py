#!/usr/bin/python3
"""Experiment 4 of docs/QAT.md: the PTQ cliff on the digits MLP.

The task of digits.py (same split, model, training and methods) at every
bit width from 8 down to 2: test accuracy of PTQ (round to nearest of the
FP-trained weights, no retraining) against QAT (STE-AdamW, CAGE coupled and
decoupled, lambda from the validation sweep at each bit width), with the
full-precision accuracy as the reference line. report.py draws it as one
plot (accuracy against bits).

    ptq_cliff.py [--quick] [--out DIR] [--bits 8,7,6,5,4,3,2] [--seeds 5]
                 [--methods fp,ptq,ste,cage-coupled,cage-decoupled]
                 [--lambdas 1,3,10,30] [--epochs 50] [--resume] ...

Every option of digits.py applies (digits.py --help).
"""

import sys

import digits

if __name__ == "__main__":
    # --quick: one seed, 5 epochs, no sweep (lambda 10): 21 compiles of a few seconds.
    quick = dict(digits.QUICK, lambdas="10")
    sys.exit(digits.main("ptq_cliff", bits=(8, 7, 6, 5, 4, 3, 2), quick=quick, doc=__doc__))
