"""Writes .npy files, well-formed or not, with the standard library only
(the error tests of cage-run do not need NumPy).

    write_npy.py OUT DESCR SHAPE [--fortran] [--truncate N] [--magic TEXT]
                                 [--header TEXT] [--extra N] [--first N]

SHAPE is "2,3" or "" for a 0-d array; the data is N, N+1, N+2, ... (N =
--first, default 0) in the dtype of DESCR ('<f4', '<f8', '<i8', '<i4', '|b1', '>f4', ...).
--truncate N drops the last N bytes; --magic replaces the magic string;
--header replaces the whole header dict; --extra appends N zero bytes.
"""

import argparse
import struct

CODES = {"f2": "e", "f4": "f", "f8": "d", "i1": "b", "i2": "h", "i4": "i",
         "i8": "q", "u1": "B", "u2": "H", "u4": "I", "u8": "Q", "b1": "?"}

p = argparse.ArgumentParser()
p.add_argument("out")
p.add_argument("descr")
p.add_argument("shape")
p.add_argument("--fortran", action="store_true")
p.add_argument("--truncate", type=int, default=0)
p.add_argument("--magic")
p.add_argument("--header")
p.add_argument("--extra", type=int, default=0)
p.add_argument("--first", type=int, default=0)
a = p.parse_args()

shape = tuple(int(d) for d in a.shape.split(",") if d)
count = 1
for d in shape:
    count *= d
order = ">" if a.descr[0] == ">" else "<"
code = CODES.get(a.descr[1:], "f")
values = [bool(i % 2) if code == "?" else a.first + i for i in range(count)]
body = struct.pack(order + code * count, *values)
shape_text = "(%s)" % ("".join("%d," % d for d in shape) if len(shape) == 1
                       else ", ".join(str(d) for d in shape))
header = a.header if a.header is not None else (
    "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }"
    % (a.descr, "True" if a.fortran else "False", shape_text))
header = header.encode()
pad = 64 - (10 + len(header) + 1) % 64
header += b" " * (pad % 64) + b"\n"
magic = a.magic.encode("latin-1") if a.magic is not None else b"\x93NUMPY"
data = magic + b"\x01\x00" + struct.pack("<H", len(header)) + header + body
data += b"\0" * a.extra
if a.truncate:
    data = data[:-a.truncate]
open(a.out, "wb").write(data)
