#!/usr/bin/env bash
# `make check`: runs the whole lit suite in build/test and ends with the line
# `N passed, N failed` (expected failures count as passed; unresolved, timed
# out and unexpectedly passing tests as failed; unsupported ones as neither).
set -uo pipefail
build=${1:-build}
results="$build/test/results.json"
rm -f "$results"
/usr/lib/llvm-22/bin/lit -sv --order=lexical --output "$results" "$build/test"
status=$?
if [ ! -f "$results" ]; then
  echo "0 passed, 1 failed"
  exit 1
fi
/usr/bin/python3 - "$results" <<'PY'
import json, sys
tests = json.load(open(sys.argv[1]))["tests"]
ok = {"PASS", "XFAIL"}
bad = {"FAIL", "XPASS", "UNRESOLVED", "TIMEOUT"}
passed = sum(t["code"] in ok for t in tests)
failed = sum(t["code"] in bad for t in tests)
print(f"{passed} passed, {failed} failed")
PY
exit $status
