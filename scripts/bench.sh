#!/usr/bin/env bash
# The main job: on a fresh Debian machine, install what is missing, build
# libsyncplus (Release, every backend), run the benchmarks side by side and
# print first the verdict table (does each claim hold here, today?), then
# the sanity check of the run (load, noise, implausible figures) and the
# detailed tables, each with a legend.
#
#   scripts/bench.sh             default run, under 3 minutes on 2 cores
#   scripts/bench.sh --full      the long run (~15 min), then regenerate
#                                docs/results.md and its plots from it
#   scripts/bench.sh --smoke     a fraction of a second per figure
#   scripts/bench.sh --compare OLD NEW [--changed]
#                                the ratios NEW/OLD between two saved runs
#                                (result.json files or results directories;
#                                every run is saved in build/bench/runs/)
# Other arguments go to bench/run.sh (e.g. --bench pair,queue, --repeats 5).
# Results: build/bench/results/ (summary.txt = what is printed, result.json,
# CSVs); the claims and their targets: bench/claims.txt.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" = --compare ]; then
  shift
  changed=""
  args=()
  for a in "$@"; do
    if [ "$a" = --changed ]; then changed=--changed; else args+=("$a"); fi
  done
  if [ ${#args[@]} != 2 ]; then
    echo "usage: scripts/bench.sh --compare OLD NEW [--changed]" >&2
    echo "saved runs: $(ls build/bench/runs/*.json 2>/dev/null | tail -n 4 | tr '\n' ' ')" >&2
    exit 2
  fi
  exec sh bench/compare.sh $changed "${args[@]}"
fi

. scripts/deps.sh
sp_need_packages cmake make gcc || {
  echo "cannot install the build dependencies" >&2; exit 1; }
full=0
for a in "$@"; do [ "$a" = --full ] && full=1; done
if [ $full = 1 ]; then
  sp_need_packages gnuplot-nox || echo "gnuplot not available: no plots" >&2
  sp_need valgrind ||
    echo "valgrind not available: no instruction counts (bench icount)" >&2
fi
# The peers of issue 15 (GLib, libuv; C11 threads come with the C library),
# found by pkg-config when the build is configured; absent ones are reported
# as skipped.
sp_need peers ||
  echo "cannot install GLib and libuv: the bench reports them as absent" >&2

build=build/bench
echo "== building (Release) in $build"
mkdir -p "$build"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DSYNCPLUS_BUILD_TESTS=OFF \
  >"$build.configure.log" 2>&1 || { cat "$build.configure.log"; exit 1; }
cmake --build "$build" -j"$(nproc 2>/dev/null || echo 2)" >"$build.build.log" 2>&1 ||
  { grep -E "error|warning" "$build.build.log" | head -n 40; exit 1; }

if [ $full = 1 ]; then
  echo "== running the full benchmark (about 15 minutes)"
else
  echo "== running the benchmarks (under 3 minutes; --full for the long run)"
fi
rc=0
bench/run.sh --build "$build" --out "$build" "$@" || rc=$?
if [ $full = 1 ]; then
  bench/report.sh --in "$build" --docs docs || rc=1
fi
exit $rc
