"""extract_ptx.py MODULE.mlir DIR: writes the PTX of every gpu.binary of the
printed module (its objects' `assembly = "..."`, MLIR's string escapes
undone) to DIR/<binary>.ptx and prints the file names, one per line."""
import os
import re
import sys

text = open(sys.argv[1]).read()
out = sys.argv[2]
os.makedirs(out, exist_ok=True)
binary = re.compile(r'gpu\.binary @(\w+)\s*\[(.*?)\]\s*$', re.M)
assembly = re.compile(r'assembly = "((?:[^"\\]|\\.)*)"')
unescape = lambda s: re.sub(r'\\([0-9A-Fa-f]{2}|\\|")',
                            lambda m: m.group(1) if m.group(1) in ('\\', '"')
                            else chr(int(m.group(1), 16)), s)
count = 0
for name, objects in binary.findall(text):
    for i, ptx in enumerate(assembly.findall(objects)):
        path = os.path.join(out, "%s%s.ptx" % (name, "" if i == 0 else "_%d" % i))
        with open(path, "w") as f:
            f.write(unescape(ptx))
        print(path)
        count += 1
if count == 0:
    sys.exit("extract_ptx.py: no gpu.binary with PTX in " + sys.argv[1])
