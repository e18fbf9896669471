#!/bin/sh
# The real-CPython anchor of the Beazley experiment (bench/python/
# beazley_anchor.py), as a bench program for bench/run.sh: same options
# (--mode smoke|quick|full, --ratios), CSV rows on stdout. Without python3
# it says so and prints a #skip line (docs/benchmarks.md's contract).
here=$(cd "$(dirname "$0")" && pwd)
for a in "$@"; do [ "$a" = --ratios ] && exit 0; done
if ! command -v python3 >/dev/null 2>&1; then
  echo "bench: python3 not found: the CPython anchor of the Beazley experiment is skipped" >&2
  echo "#skip,beazley,cpython,cpython/*,python3 not found"
  exit 0
fi
exec python3 "$here/beazley_anchor.py" "$@"
