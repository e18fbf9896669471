#!/usr/bin/env bash
# bench/report.sh: turn a bench/run.sh output directory into docs/results.md
# and its plots (PNG via gnuplot, in docs/img/). Needs bash, awk, gnuplot.
#
#   bench/report.sh [--in DIR] [--docs DIR] [--notes FILE]
#
#   --in     run.sh's --out directory (default ./bench-results); reads
#            DIR/results/{summary,ratios}.csv and machine.txt
#   --docs   where results.md and img/ go (default <repo>/docs)
#   --notes  a markdown file inserted as the "Analysis" section (default
#            bench/results_notes.md when it exists)
#
# The page states the machine and run, gives a verdict per target (computed
# here from the medians), then every figure with its spread.
set -u

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
in=./bench-results
docs=$repo/docs
notes=$here/results_notes.md

while [ $# -gt 0 ]; do
  case "$1" in
    --in) in=$2; shift ;;
    --docs) docs=$2; shift ;;
    --notes) notes=$2; shift ;;
    -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "report.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done

res=$in/results
sum=$res/summary.csv
rat=$res/ratios.csv
mach=$res/machine.txt
for f in "$sum" "$rat" "$mach"; do
  [ -f "$f" ] || { echo "report.sh: $f not found (run bench/run.sh first)" >&2; exit 2; }
done
img=$docs/img
mkdir -p "$img"
tmp=$(mktemp -d)
[ -n "${REPORT_KEEP_TMP:-}" ] || trap 'rm -rf "$tmp"' EXIT

mget() { awk -F= -v k="$1" '$1 == k {print substr($0, length(k) + 2); exit}' "$mach"; }
backends=$(mget backends)
be0=${backends%% *}

# val BENCH BACKEND CASE METRIC [FIELD: 6 median, 7 min, 8 max]
val() {
  awk -F, -v b="$1" -v be="$2" -v c="$3" -v m="$4" -v f="${5:-6}" \
    '$1 == b && $2 == be && $3 == c && $4 == m {print $f; exit}' "$sum"
}
ratio() { awk -F, -v b="$1" -v n="$2" -v be="$3" '$1 == b && $2 == n && $3 == be {print $4; exit}' "$rat"; }
# fmt NUMBER: 3 significant digits, k/M suffixes
fmt() {
  [ -z "${1:-}" ] && { echo "n/a"; return; }
  awk -v x="$1" 'BEGIN { a = x < 0 ? -x : x
    if (a >= 1e6) printf "%.3gM", x / 1e6; else if (a >= 1e4) printf "%.3gk", x / 1e3
    else if (a >= 1000) printf "%.0f", x; else printf "%.3g", x }'
}
# cell BENCH BACKEND CASE METRIC: "median [min-max]"
cell() {
  local m lo hi
  m=$(val "$@" 6); lo=$(val "$@" 7); hi=$(val "$@" 8)
  [ -z "$m" ] && { echo "n/a"; return; }
  echo "$(fmt "$m") [$(fmt "$lo")–$(fmt "$hi")]"
}
# cmp A OP B -> 1/0 (floating point)
cmp() { awk -v a="${1:-}" -v b="${3:-}" -v op="$2" 'BEGIN {
  if (a == "" || b == "") { print 0; exit }
  a += 0; b += 0
  print (op == "<" ? a < b : op == "<=" ? a <= b : op == ">" ? a > b : a >= b) }'; }
verdict() { [ "$1" = 1 ] && echo "**met**" || echo "**missed**"; }

have_gnuplot=1
command -v gnuplot >/dev/null 2>&1 || { have_gnuplot=0; echo "report.sh: gnuplot not found, no plots" >&2; }
GP_HEAD='set terminal pngcairo size 900,520 font "sans,10"; set grid ytics; set key top right; set style fill solid 0.8 border -1'
plot() { # plot NAME GNUPLOT_COMMANDS
  [ $have_gnuplot = 1 ] || return 0
  printf '%s\nset output "%s"\n%s\n' "$GP_HEAD" "$img/$1.png" "$2" > "$tmp/$1.gp"
  gnuplot "$tmp/$1.gp" 2>>"$tmp/gnuplot.log" || echo "report.sh: gnuplot failed for $1 (see $tmp/$1.gp)" >&2
}
# bars FILE: label median min max color
bars_cmd() {
  echo "set boxwidth 0.7; set xtics rotate by -25 noenhanced; set key off;
  plot '$1' using 0:2:5:xtic(1) with boxes lc variable, '' using 0:2:3:4 with yerrorbars lc black pt -1"
}

# ---------------------------------------------------------------- data ----
# pair: rendezvous rates
: > "$tmp/pair.dat"
ci=1
for be in $backends; do
  for c in cond lock; do
    echo "\"$c ($be)\" $(val pair "$be" $c tx_per_s) $(val pair "$be" $c tx_per_s 7) $(val pair "$be" $c tx_per_s 8) $ci" >> "$tmp/pair.dat"
  done
  ci=$((ci + 1))
done
for c in pthread_cond sem_t futex; do
  v=$(val pair raw $c tx_per_s)
  [ -n "$v" ] && echo "\"raw $c\" $v $(val pair raw $c tx_per_s 7) $(val pair raw $c tx_per_s 8) 7" >> "$tmp/pair.dat"
done
plot pair "set title 'Producer/consumer pair: token round trips per second (median, min-max)'; set ylabel 'transactions/s'; set yrange [0:*]; $(bars_cmd "$tmp/pair.dat")"

# gil targets: kept and e per policy x backend
: > "$tmp/kept.dat"; : > "$tmp/e.dat"
for pol in legacy fair priority; do
  ci=1
  for be in $backends; do
    echo "\"$pol ($be)\" $(val giltest "$be" $pol/pc_lock_cpu1 kept) $(val giltest "$be" $pol/pc_lock_cpu1 kept 7) $(val giltest "$be" $pol/pc_lock_cpu1 kept 8) $ci" >> "$tmp/kept.dat"
    echo "\"$pol ($be)\" $(val giltest "$be" $pol/e e) $(val giltest "$be" $pol/e e 7) $(val giltest "$be" $pol/e e 8) $ci" >> "$tmp/e.dat"
    ci=$((ci + 1))
  done
done
plot giltest "set terminal pngcairo size 1100,480 font 'sans,10'; set output '$img/giltest.png'; set multiplot layout 1,2;
set title 'prod/con via sp\\_lock: rate with 1 CPU thread / without (target >= 0.5, priority)'; set title font ',9';
set arrow 1 from graph 0, first 0.5 to graph 1, first 0.5 nohead dt 2 lc rgb 'red'; set yrange [0:0.6<*];
$(bars_cmd "$tmp/kept.dat");
set title 'e: work/s with 2 CPU threads / with 1 (target >= 0.95 for priority)';
set arrow 1 from graph 0, first 0.95 to graph 1, first 0.95 nohead dt 2 lc rgb 'red'; set yrange [0:1.2];
$(bars_cmd "$tmp/e.dat"); unset multiplot"

# latency vs CPU threads, default backend
for pol in legacy fair priority; do
  : > "$tmp/lat_$pol.dat"
  for n in 0 1 2 4; do
    c=$pol/lat_cpu$n
    echo "$n $(val latency "$be0" $c lat_med_us) $(val latency "$be0" $c lat_med_us 7) $(val latency "$be0" $c lat_med_us 8) $(val latency "$be0" $c lat_p99_us) $(val latency "$be0" $c lat_p99_us 7) $(val latency "$be0" $c lat_p99_us 8)" >> "$tmp/lat_$pol.dat"
  done
done
plot latency "set title 'I/O latency: send -> I/O thread holds the GIL again ($be0 backend; median solid, p99 dashed; min-max over repeats)'; set title font ',9';
set logscale y; set xlabel 'CPU threads running'; set ylabel 'microseconds'; set xtics (0,1,2,4); set xrange [-0.3:4.3]; set key top left;
set arrow 1 from graph 0, first 100 to graph 1, first 100 nohead dt 3 lc rgb 'gray40'; set arrow 2 from graph 0, first 1000 to graph 1, first 1000 nohead dt 3 lc rgb 'gray40';
plot '$tmp/lat_legacy.dat' u 1:2:3:4 w yerrorlines lc 1 lw 2 t 'legacy median', '' u 1:5:6:7 w yerrorlines lc 1 dt 2 t 'legacy p99', \
     '$tmp/lat_fair.dat' u 1:2:3:4 w yerrorlines lc 2 lw 2 t 'fair median', '' u 1:5:6:7 w yerrorlines lc 2 dt 2 t 'fair p99', \
     '$tmp/lat_priority.dat' u 1:2:3:4 w yerrorlines lc 3 lw 2 t 'priority median', '' u 1:5:6:7 w yerrorlines lc 3 dt 2 t 'priority p99'"

# bandwidth
for pol in legacy fair priority; do
  : > "$tmp/bw_$pol.dat"
  for n in 0 1 2 3 4; do
    c=$pol/bw_cpu$n
    echo "$n $(val latency "$be0" $c pct_of_0) $(val latency "$be0" $c pct_of_0 7) $(val latency "$be0" $c pct_of_0 8)" >> "$tmp/bw_$pol.dat"
  done
done
plot bandwidth "set title 'ccbench I/O bandwidth: echo round trips/s with N CPU threads, % of the 0-thread rate ($be0 backend)'; set title font ',9';
set logscale y; set xlabel 'CPU threads running'; set ylabel '% of 0-thread rate'; set xrange [-0.3:4.3]; set key bottom left;
plot '$tmp/bw_legacy.dat' u 1:2:3:4 w yerrorlines lw 2 t 'legacy', '$tmp/bw_fair.dat' u 1:2:3:4 w yerrorlines lw 2 t 'fair', '$tmp/bw_priority.dat' u 1:2:3:4 w yerrorlines lw 2 t 'priority'"

# sweep: e against median latency
awk -F, -v be="$be0" '$1 == "gilsweep" && $2 == be {v[$3, $4] = $6; if (!($3 in s)) {o[++n] = $3; s[$3] = 1}}
  END { for (i = 1; i <= n; i++) { c = o[i]
    f = (c ~ /^fair/) ? "fair" : "prio"
    l = c; sub(/^prio_/, "", l)
    print l, v[c, "lat_med_us"], v[c, "lat_p99_us"], v[c, "e"], v[c, "pc_tx_per_s"] > ("'"$tmp"'/sweep_" f ".dat") } }' "$sum"
touch "$tmp/sweep_fair.dat" "$tmp/sweep_prio.dat"
plot sweep "set terminal pngcairo size 1100,480 font 'sans,10'; set output '$img/sweep.png'; set multiplot layout 1,2;
set title 'e (CPU throughput, 2 threads / 1) vs I/O latency with 2 CPU threads ($be0)'; set title font ',9';
set logscale x; set xlabel 'I/O latency median, us'; set ylabel 'e'; set key bottom right; set yrange [0:1.2];
plot '$tmp/sweep_fair.dat' u 2:4 w p pt 7 ps 1.2 t 'fair (interval)', '' u 2:4:1 w labels offset 0,1 font ',7' noenhanced notitle, \
     '$tmp/sweep_prio.dat' u 2:4 w p pt 5 ps 1.2 t 'priority (yield_skip, interval)', '' u 2:4:1 w labels offset 0,-1 font ',7' noenhanced notitle;
set title 'prod/con tx/s (1 CPU thread) vs I/O latency p99'; set xlabel 'I/O latency p99, us'; set ylabel 'tx/s'; set logscale y; set yrange [*:*];
plot '$tmp/sweep_fair.dat' u 3:5 w p pt 7 ps 1.2 t 'fair', '' u 3:5:1 w labels offset 0,1 font ',7' noenhanced notitle, \
     '$tmp/sweep_prio.dat' u 3:5 w p pt 5 ps 1.2 t 'priority', '' u 3:5:1 w labels offset 0,-1 font ',7' noenhanced notitle; unset multiplot"

# queue
: > "$tmp/queue.dat"
for n in 2 4 100; do
  ci=1
  for be in $backends; do
    echo "\"$n thr, $be\" $(val queue "$be" sp_bounded_$n items_per_s) $(val queue "$be" sp_bounded_$n items_per_s 7) $(val queue "$be" sp_bounded_$n items_per_s 8) $ci" >> "$tmp/queue.dat"
    ci=$((ci + 1))
  done
  echo "\"$n thr, raw ring\" $(val queue raw ring_$n items_per_s) $(val queue raw ring_$n items_per_s 7) $(val queue raw ring_$n items_per_s 8) 7" >> "$tmp/queue.dat"
done
plot queue "set title 'Queue: items/s, half producers half consumers, maxsize 64 (median, min-max)'; set ylabel 'items/s'; set yrange [0:*]; $(bars_cmd "$tmp/queue.dat")"

# ------------------------------------------------------------ verdicts ----
vrows=""
# (i) priority kept >= 0.5 and e >= 0.95
for be in $backends; do
  k=$(val giltest "$be" priority/pc_lock_cpu1 kept); e=$(val giltest "$be" priority/e e)
  ok=$(( $(cmp "$k" ">=" 0.5) * $(cmp "$e" ">=" 0.95) ))
  vrows="$vrows| (i) PRIORITY prod/con keeps >= 50% with a CPU thread, e >= 0.95 | $be | kept $(fmt "$k") (legacy $(fmt "$(val giltest "$be" legacy/pc_lock_cpu1 kept)"), fair $(fmt "$(val giltest "$be" fair/pc_lock_cpu1 kept)")); e $(fmt "$e") (legacy $(fmt "$(val giltest "$be" legacy/e e)"), fair $(fmt "$(val giltest "$be" fair/e e)")) | $(verdict $ok) |
"
done
# (ii) priority latency with CPU threads: median < 100 us, p99 < 1 ms
for be in $backends; do
  ok=1; figs=""
  for n in 1 2 4; do
    m=$(val latency "$be" priority/lat_cpu$n lat_med_us); p=$(val latency "$be" priority/lat_cpu$n lat_p99_us)
    ok=$(( ok * $(cmp "$m" "<" 100) * $(cmp "$p" "<" 1000) ))
    figs="$figs $n CPU: $(fmt "$m") / $(fmt "$p") us;"
  done
  fm=$(val latency "$be" fair/lat_cpu1 lat_med_us)
  vrows="$vrows| (ii) PRIORITY I/O latency with CPU threads: median < 100 us, p99 < 1 ms | $be | median / p99:${figs} (fair, 1 CPU: median $(fmt "$fm") us) | $(verdict $ok) |
"
done
# (iii) sem backend prod/con through sp_cond >= 1.3x pthread backend
r=$(ratio pair "cond: sem vs pthread" -)
r2=$(ratio giltest "nogil/pc_cond: sem vs pthread" -)
vrows="$vrows| (iii) sem backend prod/con through sp_cond >= 1.3x the pthread backend | sem/pthread | bench_pair cond: $(fmt "$r")x ($(cell pair sem cond tx_per_s) vs $(cell pair pthread cond tx_per_s) tx/s); giltest nogil/pc_cond: $(fmt "$r2")x | $(verdict "$(cmp "$r" ">=" 1.3)") |
"

# ------------------------------------------------------------ tables ----
# mdtable BENCH: rows case+metric, one column per backend (+ raw, none)
mdtable() {
  awk -F, -v b="$1" -v bes="$backends raw none" '
    function fmt(x,   a) { a = x < 0 ? -x : x
      if (a >= 1e6) return sprintf("%.3gM", x / 1e6); if (a >= 1e4) return sprintf("%.3gk", x / 1e3)
      if (a >= 1000) return sprintf("%.0f", x); return sprintf("%.3g", x) }
    NR > 1 && $1 == b { row = $3 " | " $4
      if (!(row in seen)) { rows[++nr] = row; seen[row] = 1 }
      used[$2] = 1
      cell[row, $2] = ($5 > 1) ? sprintf("%s [%s–%s]", fmt($6), fmt($7), fmt($8)) : fmt($6) }
    END { nb = split(bes, be, " "); nc = 0
      for (j = 1; j <= nb; j++) if (be[j] in used) col[++nc] = be[j]
      printf "| case | metric |"; for (j = 1; j <= nc; j++) printf " %s |", col[j]; printf "\n|---|---|"
      for (j = 1; j <= nc; j++) printf "---|"; printf "\n"
      for (r = 1; r <= nr; r++) { printf "| %s |", rows[r]
        for (j = 1; j <= nc; j++) printf " %s |", ((rows[r], col[j]) in cell) ? cell[rows[r], col[j]] : ""
        printf "\n" } }' "$sum"
}
rtable() {
  awk -F, -v b="$1" 'NR == 1 { print "| ratio (of medians) | backend | value |\n|---|---|---|" }
    NR > 1 && $1 == b { printf "| %s | %s | %.2f |\n", $2, $3, $4 }' "$rat"
}
imgline() { [ -f "$img/$1.png" ] && echo "![$2](img/$1.png)"; }

# ---------------------------------------------------------------- page ----
out=$docs/results.md
{
  echo "# Benchmark results"
  echo
  echo "Generated by \`bench/report.sh\` from a \`bench/run.sh --$(mget mode)\` run; see"
  echo "[benchmarks.md](benchmarks.md) for the method and how to reproduce. Every"
  echo "figure is the median over $(mget repeats) interleaved repeats, with the spread"
  echo "[min–max] over those repeats; ratios are ratios of medians from the same run."
  echo
  echo "## Machine"
  echo
  echo "| | |"
  echo "|---|---|"
  for k in date nproc cpu kernel libc compiler build_type revision mode repeats elapsed_s loadavg_start loadavg_end; do
    echo "| $k | $(mget $k) |"
  done
  echo
  echo "A shared, noisy 2-core virtual machine: absolute rates move by 2x or more"
  echo "from one minute to the next; compare ratios within the run."
  echo
  echo "## Verdicts"
  echo
  echo "| target | backend | measured (medians) | verdict |"
  echo "|---|---|---|---|"
  printf '%s' "$vrows"
  echo
  if [ -f "$notes" ]; then
    echo "## Analysis"
    echo
    cat "$notes"
    echo
  fi
  echo "## Interpreter lock (bench_giltest)"
  echo
  echo "Simulated interpreter (bench/gilsim.h): 30-40 ns work units, sp_gil_yield"
  echo "every 100 units (~3 us, Python 2's check interval), the GIL released around every blocking call."
  echo "\`kept\` = pc_lock_cpu1 / pc_lock, \`e\` = cpu2 / cpu1, both per run."
  echo
  imgline giltest "kept fraction and e per policy"
  echo
  mdtable giltest
  echo
  rtable giltest
  echo
  echo "## I/O latency and bandwidth (bench_latency)"
  echo
  imgline latency "latency vs CPU threads"
  echo
  imgline bandwidth "ccbench bandwidth"
  echo
  mdtable latency
  echo
  rtable latency
  echo
  echo "## Policy sweep (bench_gilsweep)"
  echo
  echo "FAIR interval; PRIORITY yield_skip and interval (case names: \`fair_i<us>\`,"
  echo "\`prio_s<yield_skip>_i<us>\`). e and I/O latency with 2 CPU threads; prod/con with 1."
  echo
  imgline sweep "sweep trade-off"
  echo
  mdtable gilsweep
  echo
  echo "## Producer/consumer pair and fast paths (bench_pair)"
  echo
  imgline pair "pair rates"
  echo
  mdtable pair
  echo
  rtable pair
  echo
  echo "## Queue (bench_queue)"
  echo
  imgline queue "queue rates"
  echo
  mdtable queue
  echo
  rtable queue
} > "$out"
echo "report.sh: wrote $out and $(ls "$img"/*.png 2>/dev/null | wc -l) images in $img" >&2
