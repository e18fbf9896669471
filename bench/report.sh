#!/usr/bin/env bash
# bench/report.sh: turn a bench/run.sh output directory into docs/results.md
# and its plots (PNG via gnuplot, in docs/img/). Needs bash, awk, gnuplot
# (without gnuplot the page is written without plots).
#
#   bench/report.sh [--in DIR] [--docs DIR] [--notes FILE]
#
#   --in     run.sh's --out directory (default ./bench-results); reads
#            DIR/results/ (claims.tsv, figures.tsv, ratios.csv, machine.txt,
#            sanity.txt: bench/render.sh writes them at the end of each run)
#   --docs   where results.md and img/ go (default <repo>/docs)
#   --notes  a markdown file inserted as the "Analysis" section (default
#            bench/results_notes.md); its first line may name the revision
#            it was written for: <!-- notes for revision: abc1234 -->
#
# The page states the revision the figures come from (and the revision of
# the bench code), the machine and its load, the verdict on every claim of
# bench/claims.txt (the same table scripts/bench.sh prints), then every
# bench's legend, plots and figures with their spreads.
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
    -h|--help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "report.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done

res=$in/results
[ -f "$res/claims.tsv" ] || sh "$here/render.sh" "$res" || exit 2
for f in claims.tsv figures.tsv ratios.csv machine.txt sanity.txt status.txt; do
  [ -f "$res/$f" ] || { echo "report.sh: $res/$f not found (run bench/run.sh first)" >&2; exit 2; }
done
fig=$res/figures.tsv
mach=$res/machine.txt
img=$docs/img
mkdir -p "$img"
tmp=$(mktemp -d)
[ -n "${REPORT_KEEP_TMP:-}" ] || trap 'rm -rf "$tmp"' EXIT
# awk programs below get the helpers of common.awk (fmt...) prepended
COMMON=$(cat "$here/awk/common.awk")

mget() { awk -F= -v k="$1" '$1 == k {print substr($0, length(k) + 2); exit}' "$mach"; }
backends=$(mget backends)
have() { awk -F'\t' -v b="$1" -v m="$2" '$1 == b && $4 ~ m {f = 1; exit} END {exit !f}' "$fig"; }

# ---------------------------------------------------------------- plots ----
have_gnuplot=1
command -v gnuplot >/dev/null 2>&1 || { have_gnuplot=0; echo "report.sh: gnuplot not found, no plots" >&2; }
# One colour per backend, the same in every plot.
color() {
  case $1 in
    sem) echo 2062260 ;; pthread) echo 16744206 ;; win32) echo 9725885 ;; win32-sem) echo 9197131 ;;
    raw) echo 8355711 ;; glib) echo 2924588 ;; libuv) echo 14034728 ;; c11) echo 1556175 ;;
    cpython) echo 14907330 ;; syncplus) echo 2062260 ;; *) echo 12369186 ;;
  esac
}
hex() { printf '#%06x' "$(color "$1")"; }
GP_HEAD='set terminal pngcairo size 1000,560 font "sans,10"; set grid ytics; set style fill solid 0.85 border -1; set key noenhanced'
plot() { # plot NAME GNUPLOT_COMMANDS
  [ $have_gnuplot = 1 ] || return 0
  printf '%s\nset output "%s"\n%s\n' "$GP_HEAD" "$img/$1.png" "$2" > "$tmp/$1.gp"
  if gnuplot "$tmp/$1.gp" 2>>"$tmp/gnuplot.log"; then PLOTS="$PLOTS $1"
  else echo "report.sh: gnuplot failed for $1:" >&2; tail -n 5 "$tmp/gnuplot.log" >&2; fi
}
PLOTS=""
# key_cmd DATAFILE: a legend entry (a coloured box) per backend in column 6
key_cmd() {
  local be k=""
  for be in $(awk '{print $NF}' "$1" | awk '!s[$0]++'); do
    k="$k, NaN with boxes lc rgb '$(hex "$be")' title '$be'"
  done
  echo "$k"
}
# bars_data BENCH METRIC_REGEX CASE_REGEX [STRIP_REGEX] [num]: "label"
# median min max color backend; the library's backends first (grouped by
# case), then the raw primitives, the peers and anchors, and "none"; with
# "num", first grouped by the number that ends the case (a thread count).
# The label is the case (without what STRIP_REGEX matches) and the backend.
bars_data() {
  awk -F'\t' -v b="$1" -v m="$2" -v c="$3" -v strip="${4:-}" -v bynum="${5:-}" -v bes="$backends" '
    BEGIN { n = split(bes, o, " "); for (i = 1; i <= n; i++) rank[o[i]] = i }
    NR > 1 && $1 == b && $4 ~ m && $3 ~ c {
      cls = ($2 in rank) ? 0 : ($2 == "raw") ? 1 : ($2 == "none") ? 3 : 2
      if (!(($3) in co)) co[$3] = ++nc
      if (!(($2) in bo)) bo[$2] = ++nb
      l = $3; if (strip != "") sub(strip, "", l)
      g = 0; if (bynum != "" && match($3, /[0-9]+$/)) g = substr($3, RSTART) + 0
      printf "%06d %d %04d %04d %04d\t%s\t%s\t%s\t%s\t%s\n", g, cls, (cls == 0 ? co[$3] : bo[$2]), (cls == 0 ? rank[$2] : co[$3]), NR, $2, l, $6, $7, $8 }' "$fig" |
  sort | cut -f2- |
  while IFS='	' read -r be c v lo hi; do
    printf '"%s (%s)" %s %s %s %s %s\n' "$c" "$be" "$v" "$lo" "$hi" "$(color "$be")" "$be"
  done
}
# tline VALUE TITLE [DASHTYPE]: a red target line, as a plot element with
# its own entry in the key (no label to overlap the data)
tline() {
  echo ", $1 with lines dt ${3:-2} lw 2 lc rgb '#e00000' title '$2'"
}
# bars NAME TITLE YLABEL DATAFILE [GNUPLOT SETTINGS] [PLOT ELEMENTS]: a bar
# per row, coloured by backend, min-max error bars, labels under the bars.
# With "log" in the settings the bars start at 1 (ratios to a target).
bars() {
  local n w base=0
  n=$(wc -l < "$4")
  [ "$n" -gt 0 ] || return 0
  w=$(( n * 36 + 300 )); [ $w -lt 900 ] && w=900
  case "${5:-}" in *log*) base=1 ;; esac
  # linear scale: at most 2.5x the largest median, so that one wild repeat
  # (a clipped error bar) does not flatten every bar
  ymax=$(awk '$(NF - 4) + 0 > m {m = $(NF - 4) + 0} END {print 2.5 * m}' "$4")
  # k/M labels for large figures, plain numbers for ratios
  yfmt=$(awk -v m="$ymax" 'BEGIN {print (m >= 2500) ? "%.1s%c" : "%g"}')
  [ $base = 1 ] && yfmt='%.0s%c'

  plot "$1" "set terminal pngcairo size $w,580 font 'sans,10'; set output '$img/$1.png';
    set title \"$2\" noenhanced; set ylabel \"$3\"; set xtics rotate by -40 noenhanced font ',8';
    set bmargin 10; set key outside right top; set xrange [-0.7:$n-0.3]; set format y '$yfmt'; ${5:-set yrange [0:$ymax]};
    plot '$4' using 0:($base):(\$0-0.38):(\$0+0.38):($base):2:5:xtic(1) with boxxyerror lc rgb variable notitle, \
      '' using 0:2:3:4 with yerrorbars lc black pt 7 ps 0.5 notitle $(key_cmd "$4") ${6:-}"
}

# The claims at a glance: each measured claim's figure over its target.
awk -F'\t' 'NR > 1 && $3 != "NOT MEASURED" && $4 != "" {
    s = ($11 ~ />/) ? $4 / $12 : $12 / $4
    lo = ($11 ~ />/) ? $5 / $12 : $12 / $6; hi = ($11 ~ />/) ? $6 / $12 : $12 / $5
    if (s <= 0) next
    be = ($2 == "-") ? "none" : $2
    printf "\"%s%s\" %g %g %g %s\n", $1, ($2 == "-" ? "" : " (" $2 ")"), s, (lo > 0 ? lo : s), (hi > 0 ? hi : s), be }' \
  "$res/claims.tsv" | while read -r l; do
    be=${l##* }; echo "${l% *} $(color "$be") $be"; done > "$tmp/claims.dat"
bars claims "Every measured claim: this run's figure / its target (above 1: the claim holds here; upper bounds inverted; log scale; min-max over the repeats)" \
  "figure / target" "$tmp/claims.dat" "set logscale y; set yrange [*:*]; set format y '%g'" "$(tline 1 'target')"

if have pair .; then
  bars_data pair '^tx_per_s$' . > "$tmp/pair_tx.dat"
  bars pair "Producer/consumer pair: token round trips per second, every backend, raw primitives and peers (median, min-max)" "transactions/s" "$tmp/pair_tx.dat"
  bars_data pair '^ns_per_op$' . > "$tmp/pair_fast.dat"
  bars fastpath "Uncontended lock+unlock: ns per pair (lower is better; median, min-max)" "ns per lock+unlock" "$tmp/pair_fast.dat"
fi
if have queue .; then
  bars_data queue '^items_per_s$' . '' num > "$tmp/queue.dat"
  bars queue "Queue: items per second, N threads (half producers, half consumers), maxsize 64 (median, min-max)" "items/s" "$tmp/queue.dat"
fi
if have giltest .; then
  bars_data giltest '^kept$' '^(legacy|fair|priority)/' '/.*' > "$tmp/kept.dat"
  bars giltest_kept "GIL: prod/con rate through sp_lock with 1 CPU thread / without, per policy (log scale: bars from 1)" \
    "rate kept (with / without)" "$tmp/kept.dat" "set logscale y; set yrange [*:*]; set format y '%g'" \
    "$(tline 0.5 'target: PRIORITY >= 0.5')"
  bars_data giltest '^e$' '^(legacy|fair|priority)/' '/.*' > "$tmp/e.dat"
  bars giltest_e "GIL: e = work/s of 2 CPU threads / of 1, per policy (cannot exceed 1)" "e" "$tmp/e.dat" \
    "set yrange [0:1.19]; set format y '%g'" "$(tline 0.95 'target: PRIORITY >= 0.95')"
fi
# Line colours of the three policies in the GIL plots.
POLC_legacy='#7f7f7f'; POLC_fair='#9467bd'; POLC_priority='#2ca02c'
nbe=$(echo $backends | wc -w)
if have latency lat_; then
  # one panel per backend; median solid, p99 dashed; the two targets
  cmds="set terminal pngcairo size $(( 600 * nbe + 40 )),680 font 'sans,10'; set output '$img/latency.png';
    set multiplot layout 1,$nbe title 'I/O latency: a socket wake-up until the I/O thread holds the GIL again (median solid, p99 dashed; min-max over repeats)' font ',11';"
  for be in $backends; do
    els=""
    for pol in legacy fair priority; do
      for n in 0 1 2 4; do
        awk -F'\t' -v be="$be" -v c="$pol/lat_cpu$n" -v n="$n" '
          $2 == be && $3 == c && $4 == "lat_med_us" {m = $6 " " $7 " " $8}
          $2 == be && $3 == c && $4 == "lat_p99_us" {p = $6 " " $7 " " $8}
          END { if (m != "") print n, m, p }' "$fig"
      done > "$tmp/lat_${be}_$pol.dat"
      eval "col=\$POLC_$pol"
      els="$els '$tmp/lat_${be}_$pol.dat' u 1:2:3:4 w yerrorlines lc rgb '$col' lw 2 pt 7 t '$pol median', '' u 1:5:6:7 w yerrorlines lc rgb '$col' lw 1 dt 2 pt 6 t '$pol p99',"
    done
    cmds="$cmds set title 'backend $be'; set logscale y; set xlabel 'CPU-bound threads running'; set ylabel 'microseconds';
      set xtics (0,1,2,4); set xrange [-0.3:4.3]; set yrange [1:*]; set format y '%.0s%c'; set key below font ',9' maxrows 4;
      plot ${els%,} $(tline 100 'target: PRIORITY median < 100 us') $(tline 1000 'target: PRIORITY p99 < 1 ms' 3);"
  done
  plot latency "$cmds unset multiplot"
fi
if have latency pct_of_0; then
  cmds="set terminal pngcairo size $(( 600 * nbe + 40 )),540 font 'sans,10'; set output '$img/bandwidth.png';
    set multiplot layout 1,$nbe title 'ccbench I/O bandwidth: echo round trips/s with N CPU-bound threads, % of the 0-thread rate (min-max over repeats)' font ',11';"
  for be in $backends; do
    els=""
    for pol in legacy fair priority; do
      awk -F'\t' -v be="$be" -v p="$pol" '$2 == be && $3 ~ ("^" p "/bw_cpu") && $4 == "pct_of_0" {
        n = $3; sub(/.*bw_cpu/, "", n); print n, $6, $7, $8 }' "$fig" > "$tmp/bw_${be}_$pol.dat"
      eval "col=\$POLC_$pol"
      els="$els '$tmp/bw_${be}_$pol.dat' u 1:2:3:4 w yerrorlines lc rgb '$col' lw 2 pt 7 t '$pol',"
    done
    cmds="$cmds set title 'backend $be'; set logscale y; set xlabel 'CPU-bound threads running'; set ylabel '% of the 0-thread rate';
      set xrange [-0.3:4.3]; set xtics 1; set key below font ',9' maxrows 2;
      plot ${els%,}, 100 with lines dt 3 lc rgb 'black' title 'the rate with no CPU thread';"
  done
  plot bandwidth "$cmds unset multiplot"
fi
if have gilsweep '^e$'; then
  # e and prod/con against latency, one row of panels per backend; each
  # configuration its own marker and colour, named in the key (no labels)
  cmds="set terminal pngcairo size 1250,$(( 430 * nbe + 60 )) font 'sans,10'; set output '$img/sweep.png';
    set multiplot layout $nbe,2 title 'GIL policy sweep with 2 CPU-bound threads: CPU efficiency and prod/con rate against I/O latency' font ',11';"
  for be in $backends; do
    awk -F'\t' -v be="$be" '$1 == "gilsweep" && $2 == be {v[$3, $4] = $6; if (!($3 in s)) {o[++n] = $3; s[$3] = 1}}
      END { for (i = 1; i <= n; i++) { c = o[i]; print c, v[c, "lat_med_us"], v[c, "lat_p99_us"], v[c, "e"], v[c, "pc_tx_per_s"] } }' \
      "$fig" > "$tmp/sweep_$be.dat"
    p1=""; p2=""; i=0; nf=0; np=0
    while read -r c _; do
      i=$((i + 1))
      # FAIR configurations in purples, PRIORITY ones in greens
      case $c in
        fair*) nf=$((nf + 1)); col=$(printf '#%02x%02x%02x' $((120 + nf * 25)) $((40 + nf * 20)) $((160 + nf * 20))) ;;
        *) np=$((np + 1)); col=$(printf '#%02x%02x%02x' $((10 + np * 18)) $((110 + np * 18)) $((20 + np * 25))) ;;
      esac
      pt=$(( (i - 1) % 13 + 1 ))
      p1="$p1 '$tmp/sweep_$be.dat' every ::$((i - 1))::$((i - 1)) u 2:4 w p pt $pt ps 1.8 lw 2 lc rgb '$col' notitle,"
      p2="$p2 '$tmp/sweep_$be.dat' every ::$((i - 1))::$((i - 1)) u 3:5 w p pt $pt ps 1.8 lw 2 lc rgb '$col' t '$c',"
    done < "$tmp/sweep_$be.dat"
    cmds="$cmds set lmargin 10; set rmargin 3; unset key;
      set title 'e vs I/O latency median (backend $be)'; set logscale x; unset logscale y; set xlabel 'I/O latency median, us'; set ylabel 'e (2 threads / 1)';
      set yrange [0:1.15]; unset key;
      set arrow 1 from graph 0, first 0.95 to graph 1, first 0.95 nohead dt 2 lw 2 lc rgb '#e00000' front;
      plot ${p1%,}; unset arrow 1;
      set title 'prod/con rate with 1 CPU thread vs I/O latency p99 (backend $be)'; set xlabel 'I/O latency p99, us'; set ylabel 'transactions/s';
      set logscale y; set yrange [*:*]; set rmargin 24; set key outside right top font ',8' spacing 1.1 noopaque nobox;
      plot ${p2%,}, NaN with lines dt 2 lw 2 lc rgb '#e00000' title 'target e >= 0.95 (left)';"
  done
  plot sweep "$cmds unset multiplot"
fi
# The benches of the other issues, when their rows exist.
if have beazley '^kept$'; then
  bars_data beazley '^kept$' . '/.*' > "$tmp/beazley.dat"
  bars beazley "Beazley's experiment: perf2 requests/s during a long fib / alone, per policy" "rate kept" "$tmp/beazley.dat" \
    "set yrange [0:1.2]" "$(tline 0.5 'target: PRIORITY >= 0.5')"
fi
if have pool '^gil_wait_max_us$'; then
  bars_data pool '^gil_wait_max_us$' . > "$tmp/pool.dat"
  bars pool "Thread-pool server: longest GIL wait per policy and scenario (log scale)" "microseconds" "$tmp/pool.dat" "set logscale y; set yrange [*:*]"
fi
if have contended '^ops_per_s$'; then
  bars_data contended '^ops_per_s$' . '' num > "$tmp/contended.dat"
  bars contended "Contended counter: operations per second beside the peers" "ops/s" "$tmp/contended.dat"
fi
if have barrier '^gen_per_s$'; then
  bars_data barrier '^gen_per_s$' . '' num > "$tmp/barrier.dat"
  bars barrier "Barrier: generations per second beside the peers" "generations/s" "$tmp/barrier.dat"
fi
if have py '_per_s$'; then
  bars_data py '_per_s$' . '' num > "$tmp/py.dat"
  bars py "Python level: the syncplus module vs CPython's threading and queue" "per second" "$tmp/py.dat" "set logscale y; set yrange [*:*]"
fi

# docs/img holds only this generator's plots: drop those this run did not
# draw (a bench that is gone, a plot renamed), so no stale figure remains.
if [ $have_gnuplot = 1 ]; then
  for f in "$img"/*.png; do
    [ -f "$f" ] || continue
    n=$(basename "$f" .png)
    case " $PLOTS " in *" $n "*) ;; *) rm -f "$f"; echo "report.sh: removed the stale plot $f" >&2 ;; esac
  done
fi

# ------------------------------------------------------------- markdown ----
imgline() { case " $PLOTS " in *" $1 "*) echo; echo "![$2](img/$1.png)" ;; esac; }

verdict_md() {
  awk -F'\t' "$COMMON"'
    NR == 1 { print "| verdict | claim | backend | this run [spread] | target | anchor | × anchor | note |"
              print "|---|---|---|---|---|---|---|---|"; next }
    { v = ($3 == "MET" || $3 == "MISSED") ? "**" $3 "**" : $3
      t = ($1 == prev) ? "″" : $14 " <sub>(" $15 ")</sub>"; prev = $1
      be = ($2 == "-") ? "" : $2
      if ($3 == "NOT MEASURED") { printf "| %s | %s | %s | not measured (%s) | %s %s | | | |\n", v, t, be, $13, $11, $12; next }
      fig = fmt($4) (($7 > 1) ? " [" fmt($5) "–" fmt($6) "]" : "")
      printf "| %s | %s | %s | %s | %s %s | %s | %s | %s |\n", v, t, be, fig, $11, $12, ($8 != "" ? fmt($8) " " $9 : ""), ($10 != "" ? fmt($10) : ""), $13 }' \
    "$res/claims.tsv" | sed 's/<=/≤/g; s/>=/≥/g'
}
claims_text() {
  awk -F'\t' 'NR > 1 && !s[$1]++ { printf "- **%s** (`%s`, %s): %s\n", $14, $1, $15, $16 }' "$res/claims.tsv"
}
mdtable() { # mdtable BENCH
  awk -F'\t' -v b="$1" -v bes="$backends raw" "$COMMON"'
    NR > 1 && $1 == b { row = $3 " | " $4
      if (!(row in seen)) { rows[++nr] = row; seen[row] = 1 }
      if (!($2 in used)) { used[$2] = 1; ub[++nu] = $2 }
      cell[row, $2] = (($5 > 1) ? sprintf("%s [%s–%s]", fmt($6), fmt($7), fmt($8)) : fmt($6)) ($9 != "" ? " " $9 : "") }
    END { nb = split(bes, be, " "); nc = 0
      for (j = 1; j <= nb; j++) if (be[j] in used) { col[++nc] = be[j]; done[be[j]] = 1 }
      for (j = 1; j <= nu; j++) if (!(ub[j] in done) && ub[j] != "none") col[++nc] = ub[j]
      if ("none" in used) col[++nc] = "none"
      printf "| case | metric |"; for (j = 1; j <= nc; j++) printf " %s |", col[j]; printf "\n|---|---|"
      for (j = 1; j <= nc; j++) printf "---|"; printf "\n"
      for (r = 1; r <= nr; r++) { printf "| %s |", rows[r]
        for (j = 1; j <= nc; j++) printf " %s |", ((rows[r], col[j]) in cell) ? cell[rows[r], col[j]] : ""
        printf "\n" } }' "$fig"
}
rtable() {
  awk -F, -v b="$1" '$1 == b { if (!h++) print "| ratio (of medians) | backend | value |\n|---|---|---|"
    printf "| %s | %s | %.2f |\n", $2, $3, $4 }' "$res/ratios.csv"
}
benchinfo() { # benchinfo BENCH FIELD (title|legend)
  awk -v b="$1" -v k="$2" '/^bench[ \t]/ {cur = $2; next} /^[ \t]*$/ {cur = ""}
    cur == b && $1 == k { sub(/^[^ \t]+[ \t]+/, ""); print; exit }' "$here/claims.txt"
}

rev=$(mget revision)
dirty=$(mget dirty)
brev=$(mget bench_revision)
nrev=$(sed -n '1s/.*notes for revision: *\([0-9a-f]*\).*/\1/p' "$notes" 2>/dev/null)
out=$docs/results.md
{
  echo "# Benchmark results"
  echo
  echo "Generated by \`scripts/bench.sh --full\` (\`bench/report.sh\`) from a \`$(mget mode)\` run at"
  echo "revision **\`$rev\`** (bench code, \`bench/\` and \`scripts/bench.sh\`, last changed at \`$brev\`) on $(mget date)."
  if [ "$dirty" = 1 ]; then
    echo
    echo "> **Warning: the run was made from a tree with uncommitted changes; these figures"
    echo "> match no revision exactly.** Re-run \`scripts/bench.sh --full\` from a clean checkout."
  fi
  if grep -q '^load_high=1' "$res/status.txt"; then
    echo
    echo "> **Warning: HIGH LOAD during this run: $(sed -n 's/^load_why=//p' "$res/status.txt").**"
    echo "> The figures are not to be trusted; re-run on a quiet machine."
  fi
  echo
  echo "See [benchmarks.md](benchmarks.md) for the method, the claims and how to reproduce."
  echo "Every figure is the median over up to $(mget repeats) interleaved repeats with its spread"
  echo "[min–max] over those repeats; a claim's figure is the median of its per-repeat"
  echo "values (ratios compare rows measured side by side in the same repeat)."
  echo
  echo "## Verdicts"
  echo
  echo "The same table \`scripts/bench.sh\` prints first. × anchor = this run's figure / the"
  echo "anchor's (a reference measured in the same run, or the seed's published figure);"
  echo "NOISY = the repeats disagree about the verdict, the spread is wider than the"
  echo "figure, or the figure is physically implausible."
  echo
  verdict_md
  imgline claims "claims relative to their targets"
  echo
  echo "### The claims"
  echo
  claims_text
  echo
  echo "## Machine, load and sanity check"
  echo
  echo "| | |"
  echo "|---|---|"
  for k in date nproc cpu kernel libc compiler build_type python3 revision bench_revision mode repeats repeats_by_bench elapsed_s loadavg_start loadavg_max loadavg_end others_cpu_before others_cpu_during others_cpu_after steal_during; do
    echo "| $k | $(mget $k) |"
  done
  echo
  sed 's/^/    /' "$res/sanity.txt"
  echo
  echo "A shared 2-core virtual machine: absolute rates move by 2x or more from one"
  echo "minute to the next; compare ratios within the run. \`others_cpu\` is the share"
  echo "of the machine's CPU time used by other processes (from /proc/stat, minus the"
  echo "bench's own)."
  if [ -f "$notes" ]; then
    echo
    echo "## Analysis"
    echo
    if [ -n "$nrev" ] && [ "$nrev" != "$rev" ]; then
      echo "> These notes were written by hand for the run at revision \`$nrev\`; the figures"
      echo "> on this page come from \`$rev\`. Where they differ, the tables are right and the"
      echo "> notes are stale."
      echo
    fi
    sed '1{/notes for revision/d}' "$notes"
  fi
  for b in $(awk -F'\t' 'NR > 1 && !s[$1]++ {print $1}' "$fig"); do
    t=$(benchinfo "$b" title)
    echo
    echo "## ${t:-bench_$b}"
    echo
    l=$(benchinfo "$b" legend)
    [ -n "$l" ] && { echo "Legend: $l."; echo; }
    case $b in
      pair) imgline pair "pair rates"; imgline fastpath "fast paths" ;;
      giltest) imgline giltest_kept "kept per policy"; imgline giltest_e "e per policy" ;;
      latency) imgline latency "latency vs CPU threads"; imgline bandwidth "ccbench bandwidth" ;;
      gilsweep) imgline sweep "policy sweep" ;;
      *) imgline "$b" "$b" ;;
    esac
    echo
    mdtable "$b"
    r=$(rtable "$b")
    [ -n "$r" ] && { echo; echo "$r"; }
  done
} > "$out"
echo "report.sh: wrote $out and $(echo $PLOTS | wc -w) plots in $img ($PLOTS )" >&2
