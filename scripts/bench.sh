#!/usr/bin/env bash
# The main job: on a fresh Debian machine, install what is missing, build
# libsyncplus (Release, every backend), run the benchmark suite side by side
# and print its comparison table.
#
#   scripts/bench.sh            quick mode (a few seconds per figure)
#   scripts/bench.sh --full     the long run behind docs/results.md, then
#                               regenerate docs/results.md and its plots
#   scripts/bench.sh --smoke    a fraction of a second per figure
# Other arguments go to bench/run.sh (e.g. --bench pair,queue).
# Results: build/bench/results/ (CSV, summary.txt, machine.txt).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
sp_need_packages cmake make gcc || {
  echo "cannot install the build dependencies" >&2; exit 1; }
full=0
for a in "$@"; do [ "$a" = --full ] && full=1; done
if [ $full = 1 ]; then
  sp_need_packages gnuplot-nox || echo "gnuplot not available: no plots" >&2
fi

build=build/bench
echo "== building (Release) in $build"
mkdir -p "$build"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DSYNCPLUS_BUILD_TESTS=OFF \
  >"$build.configure.log" 2>&1 || { cat "$build.configure.log"; exit 1; }
cmake --build "$build" -j"$(nproc 2>/dev/null || echo 2)" >"$build.build.log" 2>&1 ||
  { grep -E "error|warning" "$build.build.log" | head -n 40; exit 1; }

bench/run.sh --build "$build" --out "$build" "$@"
if [ $full = 1 ]; then
  bench/report.sh --in "$build" --docs docs
fi
