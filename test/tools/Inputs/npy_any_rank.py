"""NumPy .npy files of any rank, for the tests of cage-run beyond NumPy's own
rank limit (32 dimensions before NumPy 2.0, 64 since): the headers are
written and read with numpy.lib.format, the data handled as flat arrays, so
that no ndarray of that rank is ever made.

    npy_any_rank.py write OUT DTYPE SHAPE SEED   random values (integers:
                                                 small ones) in C order
    npy_any_rank.py show FILE...                 "name: version rank shape"
    npy_any_rank.py expect OUT EXPR IN...        OUT has the shape of the
                                                 first IN and, bit for bit,
                                                 the values of EXPR (NumPy,
                                                 on the flat inputs a, b, c,
                                                 ...)
    npy_any_rank.py same A B                     the same values in any
                                                 shape

SHAPE is a comma-separated list in which "N*K" stands for K dimensions of
size N: "2,1*38,5" is a rank-40 shape. Each check prints "NAME: ok" or
"NAME: MISMATCH ..." and exits 1 on a mismatch.
"""

import sys

import numpy as np
from numpy.lib import format as npf


def parse_shape(text):
    shape = []
    for part in text.split(","):
        if not part:
            continue
        if "*" in part:
            size, count = part.split("*")
            shape += [int(size)] * int(count)
        else:
            shape.append(int(part))
    return tuple(shape)


def write(path, shape, flat):
    header = {"descr": npf.dtype_to_descr(flat.dtype),
              "fortran_order": False, "shape": tuple(shape)}
    with open(path, "wb") as f:
        npf.write_array_header_1_0(f, header)
        f.write(np.ascontiguousarray(flat).tobytes())


def read(path):
    """(version, shape, flat data) of a file that may have any rank."""
    with open(path, "rb") as f:
        version = npf.read_magic(f)
        if version == (1, 0):
            shape, fortran, dtype = npf.read_array_header_1_0(f)
        else:
            shape, fortran, dtype = npf.read_array_header_2_0(f)
        assert not fortran, path
        data = np.frombuffer(f.read(), dtype=dtype)
    count = 1
    for d in shape:
        count *= d
    assert data.size == count, "%s: %d values for shape %s" % (
        path, data.size, shape)
    return version, tuple(shape), data


def name(path):
    return path.rsplit("/", 1)[-1]


def report(label, ok, why=""):
    print("%s: %s" % (label, "ok" if ok else "MISMATCH " + why))
    return ok


def main(argv):
    command = argv[1]
    if command == "write":
        out, dtype, shape, seed = argv[2], np.dtype(argv[3]), \
            parse_shape(argv[4]), int(argv[5])
        count = 1
        for d in shape:
            count *= d
        rng = np.random.default_rng(seed)
        if dtype.kind == "f":
            flat = rng.standard_normal(count).astype(dtype)
        else:
            flat = rng.integers(-100, 100, count).astype(dtype)
        write(out, shape, flat)
        return 0
    if command == "show":
        for path in argv[2:]:
            version, shape, data = read(path)
            print("%s: %d.%d rank %d %s %s" % (
                name(path), version[0], version[1], len(shape),
                "(" + ", ".join(str(d) for d in shape) + ")", data.dtype))
        return 0
    if command == "expect":
        out, expr, ins = argv[2], argv[3], argv[4:]
        _, shape, got = read(out)
        env = {"np": np}
        first = None
        for letter, path in zip("abcdefgh", ins):
            _, in_shape, env[letter] = read(path)
            first = first or in_shape
        want = np.asarray(eval(expr, env)).astype(got.dtype)
        if shape != first:
            return 0 if report(name(out), False, "shape %s, not %s" % (
                shape, first)) else 1
        same = want.shape == got.shape and want.tobytes() == got.tobytes()
        return 0 if report(name(out), same, "values") else 1
    if command == "same":
        _, shape_a, a = read(argv[2])
        _, shape_b, b = read(argv[3])
        same = a.dtype == b.dtype and a.tobytes() == b.tobytes()
        return 0 if report("%s = %s" % (name(argv[2]), name(argv[3])), same,
                           "values") else 1
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
