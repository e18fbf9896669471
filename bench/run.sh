#!/usr/bin/env bash
# bench/run.sh: run every bench program for every backend, side by side, and
# aggregate medians, spreads and ratios. Needs only bash and awk.
#
#   bench/run.sh [--smoke|--quick|--full] [--build DIR] [--out DIR]
#                [--repeats R] [--bench NAME[,NAME...]] [--quiet]
#
#   --smoke   a fraction of a second per figure, 1 repeat (CTest: exit 0 and
#             well-formed output, no timing assertions)
#   --quick   default: a few seconds per figure, 3 repeats
#   --full    long windows, 5 repeats (~10-15 minutes on 2 cores)
#   --build   the CMake build directory (default: $SYNCPLUS_BUILD_DIR, else
#             <repo>/build); the binaries are listed in DIR/bench/bench_list.txt
#   --out     output directory (default: ./bench-results); writes
#             DIR/results/{raw,summary,ratios,ratio_decls}.csv, summary.txt
#             (the table printed on the terminal), machine.txt and log.txt
#   --repeats override the number of repeats
#   --bench   run only these bench programs (e.g. --bench pair,queue)
#
# Order: repeat-major. For r in 1..R, every program runs for every backend
# (the backend order alternates between repeats) before repeat r+1 starts, so
# slow drifts of a shared machine hit every backend alike. Each program run
# prints CSV lines "bench,backend,case,metric,value"; raw.csv prefixes them
# with the repeat number. summary.csv has, per (bench, backend, case,
# metric), n, the median, min and max over the repeats; ratios.csv has the
# ratios the programs declare (bench_ratio()), computed as ratio of medians.
set -u

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
mode=quick
build=${SYNCPLUS_BUILD_DIR:-$repo/build}
out=./bench-results
repeats=
only=
quiet=0

while [ $# -gt 0 ]; do
  case "$1" in
    --smoke) mode=smoke ;;
    --quick) mode=quick ;;
    --full) mode=full ;;
    --build) build=$2; shift ;;
    --out) out=$2; shift ;;
    --repeats) repeats=$2; shift ;;
    --bench) only=$2; shift ;;
    --quiet) quiet=1 ;;
    -h|--help) sed -n '2,29p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

# A program that runs longer than this is killed and reported as failed (a
# hung lock must not hang the run): generous, ~10x the expected time.
case $mode in smoke) limit=60 ;; quick) limit=300 ;; full) limit=1200 ;; esac
tmo=""
command -v timeout >/dev/null 2>&1 && tmo="timeout $limit"

if [ -z "$repeats" ]; then
  case $mode in smoke) repeats=1 ;; quick) repeats=3 ;; full) repeats=5 ;; esac
fi

list=$build/bench/bench_list.txt
if [ ! -f "$list" ]; then
  echo "run.sh: $list not found: configure and build first, e.g." >&2
  echo "  cmake -S $repo -B $build -DCMAKE_BUILD_TYPE=Release && cmake --build $build -j" >&2
  exit 2
fi

res=$out/results
mkdir -p "$res"
# One run per output directory at a time.
if ! mkdir "$res/.running" 2>/dev/null; then
  echo "run.sh: another run is writing to $res (else remove $res/.running)" >&2
  exit 2
fi
trap 'rmdir "$res/.running" 2>/dev/null' EXIT
raw=$res/raw.csv
log=$res/log.txt
: > "$log"
echo "repeat,bench,backend,case,metric,value" > "$raw"

# The programs to run: "name backend path" lines, in list order (the
# Python module's bench, when python/ built it, is listed apart).
pylist=$build/python/bench_list.txt; [ -f "$pylist" ] || pylist=
progs=$(awk -v only="$only" '
  BEGIN { n = split(only, o, ","); for (i = 1; i <= n; i++) want[o[i]] = 1 }
  NF == 3 && (only == "" || ($1 in want))' "$list" $pylist)
if [ -z "$progs" ]; then
  echo "run.sh: no bench program selected" >&2
  exit 2
fi
for p in $(printf '%s\n' "$progs" | awk '{print $3}'); do
  if [ ! -x "$p" ]; then
    echo "run.sh: $p is missing: build first (cmake --build $build)" >&2
    exit 2
  fi
done
names=$(printf '%s\n' "$progs" | awk '!seen[$1]++ {print $1}')
backends=$(printf '%s\n' "$progs" | awk '!seen[$2]++ {print $2}')

# The machine.
{
  echo "date=$(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "mode=$mode"
  echo "repeats=$repeats"
  echo "nproc=$(nproc 2>/dev/null || getconf _NPROCESSORS_ONLN)"
  echo "cpu=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo 2>/dev/null)"
  echo "kernel=$(uname -s) $(uname -r) $(uname -m)"
  libc=$(getconf GNU_LIBC_VERSION 2>/dev/null || ldd --version 2>&1 | head -n 1)
  echo "libc=$libc"
  cc=$(awk -F= '/^CMAKE_C_COMPILER:/ {print $2}' "$build/CMakeCache.txt" 2>/dev/null)
  [ -n "$cc" ] && echo "compiler=$("$cc" --version 2>/dev/null | head -n 1)"
  echo "build_type=$(awk -F= '/^CMAKE_BUILD_TYPE:/ {print $2}' "$build/CMakeCache.txt" 2>/dev/null)"
  rev=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null)
  if [ -n "$rev" ] && [ -n "$(git -C "$repo" status --porcelain 2>/dev/null | head -n 1)" ]; then
    rev="$rev (+ uncommitted changes)"
  fi
  echo "revision=$rev"
  echo "loadavg_start=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)"
  echo "backends=$(echo $backends)"
  echo "benches=$(echo $names)"
} > "$res/machine.txt"

# The ratios each program declares (asked once per program, any backend).
: > "$res/ratio_decls.csv"
for n in $names; do
  p=$(printf '%s\n' "$progs" | awk -v n="$n" '$1 == n {print $3; exit}')
  "$p" --ratios 2>>"$log" | sed -n 's/^#ratio,//p' >> "$res/ratio_decls.csv"
done

fail=0
t_start=$(date +%s)
[ $quiet = 1 ] || echo "bench: mode=$mode repeats=$repeats build=$build out=$out" >&2
for r in $(seq 1 "$repeats"); do
  # alternate the backend order between repeats
  if [ $((r % 2)) = 1 ]; then order=$backends; else order=$(printf '%s\n' $backends | awk '{a[NR]=$0} END {for (i=NR;i>0;i--) print a[i]}'); fi
  for n in $names; do
    for be in $order; do
      p=$(printf '%s\n' "$progs" | awk -v n="$n" -v b="$be" '$1 == n && $2 == b {print $3; exit}')
      [ -n "$p" ] || continue
      t0=$(date +%s)
      [ $quiet = 1 ] || printf 'bench: [%d/%d] %-10s %-8s ' "$r" "$repeats" "$n" "$be" >&2
      echo "== repeat $r: $p --mode $mode" >> "$log"
      outp=$($tmo "$p" --mode "$mode" 2>>"$log")
      rc=$?
      bad=$(printf '%s\n' "$outp" | awk -F, 'NF != 5 || $5 !~ /^-?[0-9.]+([eE][-+]?[0-9]+)?$|^-?(inf|nan)$/ {c++} END {print c+0}')
      nlines=$(printf '%s\n' "$outp" | grep -c ,)
      if [ $rc != 0 ] || [ "$bad" != 0 ] || [ "$nlines" = 0 ]; then
        echo "run.sh: $p failed (exit $rc, $bad malformed lines, $nlines lines); see $log" >&2
        printf '%s\n' "$outp" >> "$log"
        fail=1
      fi
      printf '%s\n' "$outp" | awk -F, -v r="$r" 'NF == 5 {print r "," $0}' >> "$raw"
      [ $quiet = 1 ] || echo "$nlines figures, $(( $(date +%s) - t0 ))s" >&2
    done
  done
done
elapsed=$(( $(date +%s) - t_start ))
echo "elapsed_s=$elapsed" >> "$res/machine.txt"
echo "loadavg_end=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)" >> "$res/machine.txt"

# summary.csv: median, min, max per (bench, backend, case, metric).
awk -F, '
  NR == 1 { next }
  { k = $2 "," $3 "," $4 "," $5
    if (!(k in n)) { order[++nk] = k }
    v[k, ++n[k]] = $6 + 0 }
  END {
    print "bench,backend,case,metric,n,median,min,max"
    for (i = 1; i <= nk; i++) {
      k = order[i]; m = n[k]
      for (a = 1; a <= m; a++) s[a] = v[k, a]
      for (a = 2; a <= m; a++) { x = s[a]; b = a - 1
        while (b >= 1 && s[b] > x) { s[b + 1] = s[b]; b-- } s[b + 1] = x }
      med = (m % 2) ? s[(m + 1) / 2] : (s[m / 2] + s[m / 2 + 1]) / 2
      printf "%s,%d,%.6g,%.6g,%.6g\n", k, m, med, s[1], s[m]
    }
  }' "$raw" > "$res/summary.csv"

# ratios.csv: bench,ratio,backend,value (ratio of medians).
awk -F, -v bes="$(echo $backends)" '
  FNR == NR { if (FNR > 1) med[$1 "," $2 "," $3 "," $4] = $6; next }
  { bench = $1; name = $2; nb = $3; nc = $4; db = $5; dc = $6; met = $7
    nbe = (nb == "*") ? split(bes, list, " ") : 1
    if (nb != "*") list[1] = nb
    for (i = 1; i <= nbe; i++) {
      b = list[i]; d = (db == "*") ? b : db
      kn = bench "," b "," nc "," met; kd = bench "," d "," dc "," met
      if ((kn in med) && (kd in med) && med[kd] != 0)
        printf "%s,%s,%s,%.4g\n", bench, name, (nb == "*") ? b : "-", med[kn] / med[kd]
    }
  }' "$res/summary.csv" "$res/ratio_decls.csv" > "$res/ratios.tmp"
{ echo "bench,ratio,backend,value"; cat "$res/ratios.tmp"; } > "$res/ratios.csv"
rm -f "$res/ratios.tmp"

# The terminal table: per bench, one row per case/metric, one column per
# backend ("raw"/"none" last): median [min-max]; then the ratios.
awk -F, -v bes="$(echo $backends)" -v mach="$res/machine.txt" '
  function fmt(x,   a) {
    a = x < 0 ? -x : x
    if (a >= 1e6) return sprintf("%.3gM", x / 1e6)
    if (a >= 1e4) return sprintf("%.3gk", x / 1e3)
    if (a >= 1000) return sprintf("%.0f", x)
    return sprintf("%.3g", x)
  }
  FILENAME == mach { split($0, kv, "="); if (kv[1] ~ /^(date|mode|repeats|nproc|cpu|kernel|libc|compiler|revision|loadavg_start|loadavg_end)$/) m = m sprintf("  %-13s %s\n", kv[1], substr($0, length(kv[1]) + 2)); next }
  FILENAME ~ /summary.csv$/ {
    if (FNR == 1) next
    b = $1; row = $3 " " $4
    if (!(b in seenb)) { benches[++nb] = b; seenb[b] = 1 }
    if (!((b, row) in seenr)) { rows[b, ++nr[b]] = row; seenr[b, row] = 1 }
    if (!((b, $2) in seenc)) { seenc[b, $2] = 1 }
    cell[b, row, $2] = ($5 > 1) ? sprintf("%s [%s-%s]", fmt($6), fmt($7), fmt($8)) : fmt($6)
    next
  }
  { if (FNR == 1) next
    rk = $1 SUBSEP $2
    if (!(rk in seenq)) { rat[$1, ++nq[$1]] = $2; seenq[rk] = 1 }
    rv[$1, $2, $3] = sprintf("%.2f", $4) }
  END {
    printf "machine:\n%s", m
    nbe = split(bes, be, " "); be[++nbe] = "raw"; be[++nbe] = "none"
    for (i = 1; i <= nb; i++) {
      b = benches[i]; nc = 0
      for (j = 1; j <= nbe; j++) if ((b, be[j]) in seenc) col[++nc] = be[j]
      printf "\n== %s\n%-34s", b, "case metric"
      for (j = 1; j <= nc; j++) printf " %-24s", col[j]
      printf "\n"
      for (r = 1; r <= nr[b]; r++) {
        row = rows[b, r]; printf "%-34s", row
        for (j = 1; j <= nc; j++) printf " %-24s", ((b, row, col[j]) in cell) ? cell[b, row, col[j]] : "."
        printf "\n"
      }
      if (nq[b] > 0) {
        printf "  %-40s", "ratios (of medians)"
        for (j = 1; j <= nbe - 2; j++) printf " %-10s", be[j]
        printf "\n"
        for (q = 1; q <= nq[b]; q++) {
          name = rat[b, q]; printf "  %-40s", name
          if ((b, name, "-") in rv) { printf " %s\n", rv[b, name, "-"]; continue }
          for (j = 1; j <= nbe - 2; j++) printf " %-10s", ((b, name, be[j]) in rv) ? rv[b, name, be[j]] : "."
          printf "\n"
        }
      }
    }
  }' "$res/machine.txt" "$res/summary.csv" "$res/ratios.csv" > "$res/summary.txt"

[ $quiet = 1 ] || cat "$res/summary.txt"
echo "bench: $mode run took ${elapsed}s; results in $res" >&2
exit $fail
