#!/bin/sh
# bench/callgrind.sh: instructions per uncontended operation, counted by
# valgrind's callgrind (exact and repeatable on a noisy machine, unlike a
# clock), for every backend's sp_mutex, sp_rlock, sp_lock and sp_gil_yield
# (no waiter) and for the raw and peer mutexes: the `fast` loops of
# bench/peers.h, run by the bench_icount program (bench/icount.c).
#
#   bench/callgrind.sh [--build DIR] [--mode smoke|quick|full] [--ratios]
#   bench/callgrind.sh --table [--build DIR]
#   bench/callgrind.sh --check [--build DIR] [--ref FILE]
#
# Default: the CSV rows of bench "icount" (icount,<backend>,<case>,
# instr_per_op,<value>), as bench/run.sh expects of a bench program (it runs
# this script in --full runs; bench/claims.txt). --table prints a table with
# the reference counts. --check compares the libsyncplus rows with the
# reference (bench/icount.ref) and exits 1 when one needs more instructions
# than its reference plus the tolerance; the reference holds for one
# configuration (compiler and major version, build type, architecture):
# another build is reported, not checked. CTest runs --check (test
# bench/icount). After an intended change, update bench/icount.ref from
# --table's output.
#
# Method: each loop runs N1 = 1000 and N2 = 11000 lock+unlock pairs between
# callgrind client requests; (instructions(N2) - instructions(N1)) / 10000
# leaves one pair plus the calling loop (two calls, their argument, the
# increment, compare and branch: about 7 instructions, the same in every
# row). Exit 0 with a "#skip" line when valgrind or the program is missing
# (a bench program must not fail for a missing tool); --check then exits
# 77 (CTest: skipped).
set -u
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
build=${SYNCPLUS_BUILD_DIR:-$repo/build}
ref=$here/icount.ref
what=csv
while [ $# -gt 0 ]; do
  case "$1" in
    --build) build=$2; shift ;;
    --ref) ref=$2; shift ;;
    --mode) shift ;;
    --ratios) exit 0 ;;
    --table) what=table ;;
    --check) what=check ;;
    -h|--help) sed -n '2,30p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "callgrind.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done

skip() {
  if [ $what = csv ]; then
    echo "#skip,icount,any,*,$1"
    exit 0
  fi
  echo "callgrind.sh: $1: not checked" >&2
  exit 77
}
command -v valgrind >/dev/null 2>&1 || skip "valgrind is not installed"
list=$build/bench/icount_list.txt
[ -f "$list" ] || skip "no bench_icount in $build (valgrind/callgrind.h not found at configure time)"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sp-icount.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
: > "$tmp/counts"
config=
while read -r prog; do
  [ -n "$prog" ] || continue
  [ -x "$prog" ] || skip "$prog is missing (build first)"
  if ! valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.%p" \
      "$prog" > "$tmp/out" 2> "$tmp/err"; then
    cat "$tmp/err" >&2
    echo "callgrind.sh: $prog failed under valgrind" >&2
    exit 1
  fi
  config=$(sed -n 's/^config //p' "$tmp/out")
  # each dump: "desc: Trigger: Client Request: <backend> <case> <n>" and
  # "totals: <instructions>"
  for f in "$tmp"/cg.*; do
    awk '/^desc: Trigger: Client Request: / {
           sub(/^desc: Trigger: Client Request: /, ""); tag = $0 }
         /^totals:/ && tag != "" { print tag, $2; tag = "" }' "$f"
  done >> "$tmp/counts"
  rm -f "$tmp"/cg.*
done < "$list"

# backend case instructions-per-op
sort -k1,1 -k2,2 -k3,3n "$tmp/counts" |
awk '{ k = $1 " " $2
       if (!(k in n1)) { order[++nk] = k; n1[k] = $3; t1[k] = $4 }
       else { n2[k] = $3; t2[k] = $4 } }
     END { for (i = 1; i <= nk; i++) { k = order[i]
             if (n2[k] > n1[k]) printf "%s %.2f\n", k, (t2[k] - t1[k]) / (n2[k] - n1[k]) } }' \
  > "$tmp/per_op"
[ -s "$tmp/per_op" ] || { echo "callgrind.sh: no counts from $list" >&2; exit 1; }

if [ $what = csv ]; then
  awk '{ printf "icount,%s,%s,instr_per_op,%s\n", $1, $2, $3 }' "$tmp/per_op"
  exit 0
fi

refconfig=$(sed -n 's/^config //p' "$ref" 2>/dev/null)
tol=$(sed -n 's/^tolerance //p' "$ref" 2>/dev/null)
[ -n "$tol" ] || tol=2
checked=0
[ "$config" = "$refconfig" ] && checked=1
echo "instructions per uncontended operation (callgrind; each row includes the ~7 of the calling loop)"
echo "build: $config; reference ($ref): ${refconfig:-none}, tolerance +-$tol"
[ $checked = 1 ] || echo "this build's configuration differs from the reference's: counts are reported, not checked"
awk -v chk=$checked -v tol="$tol" -v what=$what -v ref="$ref" '
  BEGIN { while ((getline l < ref) > 0) { n = split(l, f, /[ \t]+/)
            if (l !~ /^#/ && n == 3 && f[1] != "config" && f[1] != "tolerance") r[f[1] " " f[2]] = f[3] } }
  { k = $1 " " $2; v = $3 + 0; note = ""
    if (k in r) {
      d = v - r[k]
      if (!chk) note = "(reference " r[k] ")"
      else if (d > tol) { note = "REGRESSION: reference " r[k] " +-" tol; bad++ }
      else if (d < -tol) note = "fewer than the reference " r[k] ": update bench/icount.ref"
      else note = "ok (reference " r[k] ")"
    }
    printf "  %-8s %-22s %8.2f  %s\n", $1, $2, v, note }
  END { if (bad) printf "%d regression(s): a fast path needs more instructions than bench/icount.ref says\n", bad
        if (bad && what == "check") exit 1 }
' "$tmp/per_op"
