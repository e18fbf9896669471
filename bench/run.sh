#!/usr/bin/env bash
# bench/run.sh: run every bench program for every backend, side by side,
# aggregate medians, spreads and ratios, judge the claims of
# bench/claims.txt and print the verdict table, the sanity check and the
# detailed tables. Needs only a POSIX shell and awk (ctest runs it with sh).
#
#   bench/run.sh [--smoke|--quick|--full] [--build DIR] [--out DIR]
#                [--repeats R] [--bench NAME[,NAME...]] [--quiet]
#
#   --smoke   a fraction of a second per figure, 1 repeat of every program
#             (CTest: exit 0 and well-formed output, no timing assertions)
#   --quick   default: a few seconds per figure, the quick repeats of each
#             bench in bench/claims.txt (3; 0 = --full only)
#   --full    long windows, the full repeats (5)
#   --build   the CMake build directory (default: $SYNCPLUS_BUILD_DIR, else
#             <repo>/build); the programs are listed in DIR/bench/bench_list.txt
#             and DIR/bench/bench_list.d/*.txt
#   --out     output directory (default: ./bench-results); writes DIR/results/
#             (see docs/benchmarks.md) and keeps a copy of each run's
#             result.json in DIR/runs/ for scripts/bench.sh --compare
#   --repeats override the number of repeats of every bench
#   --bench   run only these bench programs (e.g. --bench pair,queue; a bench
#             named here runs even if its mode has 0 repeats)
#
# Order: repeat-major. For r in 1..R, every program runs for every backend
# (the backend order alternates between repeats) before repeat r+1 starts, so
# slow drifts of a shared machine hit every backend alike. Each program run
# prints CSV lines "bench,backend,case,metric,value" (and "#skip,bench,
# backend,case,reason" for what it cannot measure here); raw.csv prefixes
# them with the repeat number. Around every program run the CPU time used by
# other processes is measured (/proc/stat minus this run's own), and the
# load average is sampled, for the sanity check.
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
    -h|--help) sed -n '2,32p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

# A program that runs longer than this is killed and reported as failed (a
# hung lock must not hang the run): generous, ~10x the expected time.
case $mode in smoke) limit=60 ;; quick) limit=300 ;; full) limit=1200 ;; esac
tmo=""
command -v timeout >/dev/null 2>&1 && tmo="timeout $limit"

list=$build/bench/bench_list.txt
if [ ! -f "$list" ]; then
  echo "run.sh: $list not found: configure and build first, e.g." >&2
  echo "  cmake -S $repo -B $build -DCMAKE_BUILD_TYPE=Release && cmake --build $build -j" >&2
  exit 2
fi
claims=$here/claims.txt

res=$out/results
mkdir -p "$res"
# One run per output directory at a time.
if ! mkdir "$res/.running" 2>/dev/null; then
  echo "run.sh: another run is writing to $res (else remove $res/.running)" >&2
  exit 2
fi
sampler=
cleanup() {
  [ -n "$sampler" ] && kill "$sampler" 2>/dev/null
  rmdir "$res/.running" 2>/dev/null
}
trap cleanup EXIT
trap 'exit 130' INT TERM
raw=$res/raw.csv
log=$res/log.txt
: > "$log"
echo "repeat,bench,backend,case,metric,value" > "$raw"
echo "bench,backend,case,reason" > "$res/skips.csv"
echo "repeat,bench,backend,seconds,others_cpu_pct,steal_pct,rc" > "$res/programs.csv"
rm -f "$res/summary.txt" "$res/result.json" "$res/claims.tsv"

# The programs: "name backend command..." lines of the build's list and of
# any list another subdirectory registers in bench_list.d/. Backend "any"
# marks a program that does not depend on the library's backend (it runs
# once per repeat).
all=$(cat "$list" "$build"/bench/bench_list.d/*.txt 2>/dev/null |
  awk 'NF >= 3 && $1 !~ /^#/')
built=$(printf '%s\n' "$all" | awk '!seen[$1]++ {print $1}')
progs=$(printf '%s\n' "$all" | awk -v only="$only" '
  BEGIN { n = split(only, o, ","); for (i = 1; i <= n; i++) want[o[i]] = 1 }
  only == "" || ($1 in want)')
if [ -n "$only" ]; then
  for n in $(echo "$only" | tr , ' '); do
    printf '%s\n' "$built" | grep -qx "$n" ||
      echo "run.sh: no bench program '$n' in this build (have: $(echo $built))" >&2
  done
fi
if [ -z "$progs" ]; then
  echo "run.sh: no bench program selected" >&2
  exit 2
fi
# The repeats of each bench in this mode (bench/claims.txt, else 3/5).
reps=$(printf '%s\n' "$progs" | awk '!seen[$1]++ {print $1}' | awk -v mode="$mode" \
  -v force="$repeats" -v only=",$only," -v cf="$claims" '
  BEGIN {
    while ((getline l < cf) > 0) {
      if (l ~ /^bench[ \t]/) { split(l, f, /[ \t]+/); b = f[2]; q[b] = 3; fu[b] = 5 }
      else if (l ~ /^[ \t]*$/) b = ""
      else if (b != "" && l ~ /^repeats[ \t]/) {
        n = split(l, f, /[ \t]+/)
        for (i = 2; i < n; i += 2) { if (f[i] == "quick") q[b] = f[i + 1]; if (f[i] == "full") fu[b] = f[i + 1] }
      }
    }
  }
  { r = (mode == "smoke") ? 1 : (mode == "quick") ? (($1 in q) ? q[$1] : 3) : (($1 in fu) ? fu[$1] : 5)
    if (force != "" && (r > 0 || index(only, "," $1 ",") > 0)) r = force
    else if (r == 0 && index(only, "," $1 ",") > 0) r = (mode == "full") ? 5 : 3
    print $1, r }')
rmax=$(printf '%s\n' "$reps" | awk '$2 > m {m = $2} END {print m + 0}')
names=$(printf '%s\n' "$reps" | awk '$2 > 0 {print $1}')
skipped=$(printf '%s\n' "$reps" | awk '$2 == 0 {print $1}')
backends=$(printf '%s\n' "$progs" | awk '$2 != "any" && !seen[$2]++ {print $2}')
# The thread-pool experiment drives its server with ApacheBench.
if [ "$mode" != smoke ] && printf '%s\n' $names | grep -qx pool && ! command -v ab >/dev/null 2>&1; then
  . "$repo/scripts/deps.sh"
  sp_need_packages apache2-utils || echo "run.sh: cannot install apache2-utils (ab): bench_pool skips its cases" >&2
fi
if [ -z "$names" ]; then
  echo "run.sh: every selected bench has 0 repeats in $mode mode" >&2
  exit 2
fi
for p in $(printf '%s\n' "$progs" | awk '{print $3}'); do
  case $p in
    */*) [ -x "$p" ] || { echo "run.sh: $p is missing: build first (cmake --build $build)" >&2; exit 2; } ;;
    *) command -v "$p" >/dev/null 2>&1 || { echo "run.sh: command $p not found" >&2; exit 2; } ;;
  esac
done

# CPU accounting, in clock ticks: "busy steal total ours". busy (user,
# nice, system: what processes are charged for) and total are the whole
# machine's (/proc/stat), ours the CPU time of this shell and every child it
# has waited for (so: of the bench programs). Interrupt time is left out of
# busy: the loopback traffic of the bench's own servers is counted there,
# not in its processes.
cpu_snap() {
  if [ -r /proc/stat ] && [ -r /proc/$$/stat ]; then
    read -r _ u n s i w q sq st _rest < /proc/stat
    ours=$(awk '{ sub(/.*\) /, ""); print $12 + $13 + $14 + $15 }' /proc/$$/stat)
    echo "$((u + n + s)) $st $((u + n + s + i + w + q + sq + st)) $ours"
  else
    echo "- - - -"
  fi
}
# others_pct A B: % of the machine's CPU used by other processes (and %
# stolen by the hypervisor) between snapshots A and B ("-" when they are
# less than 50 ticks, half a second of one CPU, apart: too coarse).
others_pct() {
  echo "$1 $2" | awk '$1 == "-" || $7 - $3 < 50 {print "- -"; exit}
    { busy = $5 - $1 - ($8 - $4); if (busy < 0) busy = 0
      printf "%.1f %.1f\n", 100 * busy / ($7 - $3), 100 * ($6 - $2) / ($7 - $3) }'
}
now_cs() { # centiseconds of uptime (monotonic)
  if [ -r /proc/uptime ]; then read -r up _ < /proc/uptime; echo "$up" | tr -d .
  else echo "$(date +%s)00"; fi
}
load1() { cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo -; }

# The machine.
rev=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null)
dirty=0
if [ -n "$rev" ] && [ -n "$(git -C "$repo" status --porcelain 2>/dev/null | head -n 1)" ]; then
  dirty=1
fi
brev=$(git -C "$repo" log -1 --format=%h -- bench scripts/bench.sh 2>/dev/null)
{
  echo "date=$(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "mode=$mode"
  echo "repeats=$rmax"
  echo "repeats_by_bench=$(printf '%s\n' "$reps" | awk '{printf "%s%s=%s", (NR > 1 ? " " : ""), $1, $2}')"
  echo "nproc=$(nproc 2>/dev/null || getconf _NPROCESSORS_ONLN)"
  echo "cpu=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo 2>/dev/null)"
  echo "kernel=$(uname -s) $(uname -r) $(uname -m)"
  libc=$(getconf GNU_LIBC_VERSION 2>/dev/null || ldd --version 2>&1 | head -n 1)
  echo "libc=$libc"
  cc=$(awk -F= '/^CMAKE_C_COMPILER:/ {print $2}' "$build/CMakeCache.txt" 2>/dev/null)
  [ -n "$cc" ] && echo "compiler=$("$cc" --version 2>/dev/null | head -n 1)"
  echo "build_type=$(awk -F= '/^CMAKE_BUILD_TYPE:/ {print $2}' "$build/CMakeCache.txt" 2>/dev/null)"
  echo "revision=$rev"
  echo "dirty=$dirty"
  echo "bench_revision=$brev"
  echo "python3=$(command -v python3 >/dev/null 2>&1 && python3 -c 'import platform; print(platform.python_version())' 2>/dev/null || echo absent)"
  echo "backends=$(echo $backends)"
  echo "built=$(echo $built)"
  echo "benches=$(echo $names)"
  echo "not_run=$(echo $skipped)"
  echo "loadavg_start=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)"
} > "$res/machine.txt"

# The ratios each program declares (asked once per program, any backend).
: > "$res/ratio_decls.csv"
for n in $names; do
  p=$(printf '%s\n' "$progs" | awk -v n="$n" '$1 == n {for (i = 3; i <= NF; i++) printf "%s ", $i; exit}')
  $p --ratios 2>>"$log" | sed -n 's/^#ratio,//p' >> "$res/ratio_decls.csv"
done

# Is the machine busy right now? One second of others' CPU before we start.
[ $quiet = 1 ] || echo "bench: measuring the machine's load for 1 s" >&2
s0=$(cpu_snap); sleep 1; s1=$(cpu_snap)
set -- $(others_pct "$s0" "$s1")
echo "others_cpu_before=$1" >> "$res/machine.txt"
echo "steal_before=$2" >> "$res/machine.txt"

# The load average, sampled every 2 s during the run.
echo "seconds,load1" > "$res/load.csv"
t_start=$(now_cs)
(
  while :; do
    echo "$(( ($(now_cs) - t_start) / 100 )),$(load1)" >> "$res/load.csv"
    sleep 2
  done
) &
sampler=$!

fail=0
run_start=$(cpu_snap)
[ $quiet = 1 ] || echo "bench: mode=$mode repeats=$rmax build=$build out=$out" >&2
for r in $(seq 1 "$rmax"); do
  # alternate the backend order between repeats
  if [ $((r % 2)) = 1 ]; then order="$backends any"; else order="any $(printf '%s\n' $backends | awk '{a[NR]=$0} END {for (i=NR;i>0;i--) print a[i]}')"; fi
  for n in $names; do
    nr=$(printf '%s\n' "$reps" | awk -v n="$n" '$1 == n {print $2}')
    [ "$r" -le "$nr" ] || continue
    for be in $order; do
      p=$(printf '%s\n' "$progs" | awk -v n="$n" -v b="$be" '$1 == n && $2 == b {for (i = 3; i <= NF; i++) printf "%s ", $i; exit}')
      [ -n "$p" ] || continue
      t0=$(now_cs)
      [ $quiet = 1 ] || printf 'bench: [%d/%d] %-10s %-8s ' "$r" "$nr" "$n" "$be" >&2
      echo "== repeat $r: $p--mode $mode" >> "$log"
      c0=$(cpu_snap)
      outp=$($tmo $p --mode "$mode" 2>>"$log")
      rc=$?
      c1=$(cpu_snap)
      secs=$(( ($(now_cs) - t0) ))
      bad=$(printf '%s\n' "$outp" | awk -F, '/^#/ {next} NF != 5 || $5 !~ /^-?[0-9.]+([eE][-+]?[0-9]+)?$|^-?(inf|nan)$/ {c++} END {print c+0}')
      nlines=$(printf '%s\n' "$outp" | grep -v '^#' | grep -c ,)
      nskip=$(printf '%s\n' "$outp" | grep -c '^#skip,')
      if [ $rc != 0 ] || [ "$bad" != 0 ] || [ $((nlines + nskip)) = 0 ]; then
        echo "run.sh: $p failed (exit $rc, $bad malformed lines, $nlines lines); see $log" >&2
        printf '%s\n' "$outp" >> "$log"
        fail=1
        [ $rc != 0 ] || rc=1
      fi
      printf '%s\n' "$outp" | awk -F, -v r="$r" '!/^#/ && NF == 5 {print r "," $0}' >> "$raw"
      printf '%s\n' "$outp" | sed -n 's/^#skip,//p' >> "$res/skips.csv"
      set -- $(others_pct "$c0" "$c1")
      echo "$r,$n,$be,$(awk -v c="$secs" 'BEGIN {printf "%.2f", c / 100}'),$1,$2,$rc" >> "$res/programs.csv"
      [ $quiet = 1 ] || echo "$nlines figures, $((secs / 100))s, others used $1% CPU" >&2
    done
  done
done
run_end=$(cpu_snap)
elapsed=$(( ($(now_cs) - t_start) / 100 ))
kill "$sampler" 2>/dev/null
wait "$sampler" 2>/dev/null
sampler=
set -- $(others_pct "$run_start" "$run_end")
{
  echo "elapsed_s=$elapsed"
  echo "others_cpu_during=$1"
  echo "steal_during=$2"
  echo "loadavg_end=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)"
  echo "loadavg_max=$(awk -F, 'NR > 1 && $2 + 0 > m {m = $2 + 0} END {print m + 0}' "$res/load.csv")"
} >> "$res/machine.txt"
s0=$(cpu_snap); sleep 1; s1=$(cpu_snap)
set -- $(others_pct "$s0" "$s1")
echo "others_cpu_after=$1" >> "$res/machine.txt"

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

# Verdicts, sanity check, tables (summary.txt) and result.json. A smoke run
# (CTest) also checks the verdict engine on a run whose verdicts are known.
sh "$here/render.sh" "$res" || fail=1
if [ $mode = smoke ]; then sh "$here/selftest.sh" || fail=1; fi
stamp=$(date -u '+%Y%m%d-%H%M%S')
if [ -f "$res/result.json" ]; then
  mkdir -p "$out/runs"
  cp "$res/result.json" "$out/runs/$stamp-$mode-${rev:-norev}.json"
fi

if [ $quiet = 0 ] && [ -f "$res/summary.txt" ]; then
  cat "$res/summary.txt"
  awk -F'\t' 'NR > 1 {c[$3]++} END {
    printf "\nverdicts: %d MET, %d MISSED, %d NOISY, %d NOT MEASURED (the table is at the top)\n",
      c["MET"], c["MISSED"], c["NOISY"], c["NOT MEASURED"] }' "$res/claims.tsv"
fi
echo "bench: $mode run took ${elapsed}s; results in $res (result.json, summary.txt; this run saved as $out/runs/$stamp-$mode-${rev:-norev}.json)" >&2
exit $fail
