#!/bin/sh
# bench/render.sh RESULTS_DIR: judge a run's figures against
# bench/claims.txt and write its reports (bench/run.sh calls it at the end
# of every run; run it by hand to re-render a run after editing claims.txt).
#
# Reads RESULTS_DIR/{machine.txt,summary.csv,raw.csv,ratios.csv,
# programs.csv,skips.csv}; writes claims.tsv, figures.tsv, status.txt,
# sanity.txt, summary.txt (the text report scripts/bench.sh prints) and
# result.json (the machine-readable result). Needs only a POSIX shell and awk.
set -u
here=$(cd "$(dirname "$0")" && pwd)
res=${1:?usage: bench/render.sh RESULTS_DIR}
claims=${SP_BENCH_CLAIMS:-$here/claims.txt}
a=$here/awk
for f in machine.txt summary.csv raw.csv; do
  [ -f "$res/$f" ] || { echo "render.sh: $res/$f not found" >&2; exit 2; }
done
# Files of older runs may lack these.
[ -f "$res/programs.csv" ] || echo "repeat,bench,backend,seconds,others_cpu_pct,steal_pct,rc" > "$res/programs.csv"
[ -f "$res/skips.csv" ] || echo "bench,backend,case,reason" > "$res/skips.csv"
[ -f "$res/ratios.csv" ] || echo "bench,ratio,backend,value" > "$res/ratios.csv"

awk -f "$a/common.awk" -f "$a/analyze.awk" -v RES="$res" -v CLAIMS="$claims" </dev/null &&
  awk -f "$a/common.awk" -f "$a/screen.awk" -v RES="$res" -v CLAIMS="$claims" </dev/null > "$res/summary.txt" &&
  awk -f "$a/common.awk" -f "$a/json.awk" -v RES="$res" </dev/null > "$res/result.json"
