#!/usr/bin/env python3
"""cage-run on a module lowered first by the front of cage-gpu-pipeline:
cage-autodiff, the update fusion (cage-fuse-correction,
cage-fuse-multi-tensor) and cage-lower-to-linalg{per-element-updates=true},
whose fused optimizer steps are a reduction per scale group and one
element-wise generic per parameter. The integration tests pass this script
where they pass cage-run, so the GPU's lowering of the step is checked on the
CPU, bit for bit against lib/Reference, without a GPU.

usage: per_element_updates.py MODULE [cage-run arguments...]
with $CAGE_OPT and $CAGE_RUN naming the tools.
"""

import os
import subprocess
import sys

PIPELINE = ("builtin.module(cage-autodiff,func.func(cage-fuse-correction,"
            "cage-fuse-multi-tensor,cage-verify,"
            "cage-lower-to-linalg{per-element-updates=true}))")


def main(argv):
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    lowered = subprocess.run(
        [os.environ["CAGE_OPT"], argv[0], "--pass-pipeline=" + PIPELINE],
        capture_output=True)
    if lowered.returncode != 0:
        sys.stderr.buffer.write(lowered.stderr)
        return lowered.returncode
    run = subprocess.run([os.environ["CAGE_RUN"], "-"] + argv[1:],
                         input=lowered.stdout)
    return run.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
