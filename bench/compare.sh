#!/bin/sh
# bench/compare.sh [--changed] OLD NEW: the ratios NEW/OLD between two saved
# bench runs (scripts/bench.sh --compare calls it).
#
# OLD and NEW are result.json files (every run keeps one in
# <out>/runs/<date>-<mode>-<revision>.json; scripts/bench.sh's out is
# build/bench), or results directories holding one. --changed prints only
# the figures whose spreads do not overlap. Needs only a POSIX shell and awk.
set -u
here=$(cd "$(dirname "$0")" && pwd)
all=1
if [ "${1:-}" = --changed ]; then all=0; shift; fi
if [ $# != 2 ]; then
  echo "usage: bench/compare.sh [--changed] OLD NEW (result.json files or results directories)" >&2
  exit 2
fi
resolve() {
  if [ -d "$1" ]; then
    for f in "$1/result.json" "$1/results/result.json"; do
      [ -f "$f" ] && { echo "$f"; return 0; }
    done
    echo "compare: no result.json in $1" >&2
    return 1
  fi
  [ -f "$1" ] || { echo "compare: $1 not found" >&2; return 1; }
  echo "$1"
}
old=$(resolve "$1") || exit 2
new=$(resolve "$2") || exit 2
awk -f "$here/awk/common.awk" -f "$here/awk/compare.awk" -v OLD="$old" -v NEW="$new" -v ALL=$all </dev/null
