#!/bin/sh
# bench/selftest.sh: check the verdict engine (bench/render.sh and
# bench/awk/*) and bench/compare.sh on a fixed, synthetic run whose
# verdicts are known. bench/run.sh --smoke runs it (so the CTest test
# bench/smoke does); by hand: sh bench/selftest.sh. Exit 0 when every check
# passes. Needs only a POSIX shell and awk.
set -u
here=$(cd "$(dirname "$0")" && pwd)
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
fails=0
check() { # check WHAT EXPECTED ACTUAL
  if [ "$2" != "$3" ]; then
    echo "selftest: FAIL $1: expected '$2', got '$3'" >&2
    fails=$((fails + 1))
  fi
}

cat > "$t/claims.txt" <<'EOF'
bench     b
title     A synthetic bench
legend    x = a rate
repeats   quick 3 full 5

metric    e
range     0 1.1
why       cannot exceed 1

claim     ratio_met
title     a ratio that holds
figure    [b:*:fast:x] / [b:raw:base:x]
target    >= 1.5
anchor    [b:raw:base:x] / [b:raw:base:x] self
plausible 0 10

claim     ratio_missed
title     a ratio that does not
figure    [b:sem:fast:x] / [b:raw:base:x]
target    >= 3
plausible 0 10

claim     disagree
title     repeats on both sides of the target
figure    [b:sem:wobbly:x]
target    >= 1
plausible 0 10

claim     implausible
title     a figure outside what is possible
figure    [b:sem:e:e]
target    >= 0.95
plausible 0 1.1

claim     peers
title     the best of the peers that exist
figure    [b:sem:fast:x] / max([b:{raw,glib,absent}:base:x], [b:libuv:nothing:x])
target    >= 1
plausible 0 10

claim     each_worst
title     the worst thread count
each      N 2 4
figure    [b:sem:q_${N}:x] / [b:raw:ring_${N}:x]
target    >= 1
plausible 0 10

claim     missing_row
title     a row that is not there
figure    [b:sem:nothing:x]
target    >= 1
pending   issue 99

claim     missing_bench
title     a bench that is not built
figure    [zz:sem:a:x]
target    >= 1
pending   issue 98

claim     skipped
title     a case the program could not measure
figure    [b:cpython:anchor:x]
target    >= 1
EOF

r=$t/res
mkdir -p "$r"
cat > "$r/machine.txt" <<'EOF'
date=2000-01-01 00:00 UTC
mode=quick
repeats=3
nproc=2
revision=abc1234
dirty=0
backends=sem pthread
built=b
benches=b
not_run=
loadavg_start=0.10 0.10 0.10
others_cpu_before=1.0
others_cpu_during=2.0
others_cpu_after=1.0
steal_during=0.0
elapsed_s=10
loadavg_end=0.20 0.10 0.10
loadavg_max=0.5
EOF
# rows: bench,backend,case,metric and one value per repeat
{
  echo "repeat,bench,backend,case,metric,value"
  while read -r b be c m v1 v2 v3; do
    echo "1,$b,$be,$c,$m,$v1"; echo "2,$b,$be,$c,$m,$v2"; echo "3,$b,$be,$c,$m,$v3"
  done <<'EOF'
b sem fast x 20 21 19
b pthread fast x 16 15 17
b raw base x 10 10 10
b glib base x 12 12 12
b sem wobbly x 0.9 1.1 1.2
b sem e e 1.3 1.4 1.35
b sem q_2 x 10 10 10
b sem q_4 x 8 8 8
b raw ring_2 x 5 5 5
b raw ring_4 x 10 10 10
b pthread noisy x 1 10 100
EOF
} > "$r/raw.csv"
awk -F, 'NR > 1 { k = $2 "," $3 "," $4 "," $5; if (!(k in n)) o[++nk] = k; v[k, ++n[k]] = $6 }
  END { print "bench,backend,case,metric,n,median,min,max"
    for (i = 1; i <= nk; i++) { k = o[i]; a = v[k, 1]; b = v[k, 2]; c = v[k, 3]
      lo = a; if (b < lo) lo = b; if (c < lo) lo = c; hi = a; if (b > hi) hi = b; if (c > hi) hi = c
      med = a + b + c - lo - hi; print k ",3," med "," lo "," hi } }' "$r/raw.csv" > "$r/summary.csv"
echo "bench,backend,case,reason" > "$r/skips.csv"
echo "b,any,anchor,python3 not found" >> "$r/skips.csv"
echo "repeat,bench,backend,seconds,others_cpu_pct,steal_pct,rc" > "$r/programs.csv"
echo "1,b,sem,1.0,2.0,0.0,0" >> "$r/programs.csv"

SP_BENCH_CLAIMS=$t/claims.txt sh "$here/render.sh" "$r" || { echo "selftest: render.sh failed" >&2; exit 1; }

v() { awk -F'\t' -v id="$1" -v be="$2" '$1 == id && $2 == be {print $'"${3:-3}"'; exit}' "$r/claims.tsv"; }
check "ratio_met sem verdict" MET "$(v ratio_met sem)"
check "ratio_met sem figure (median of 20/10, 21/10, 19/10)" 2 "$(v ratio_met sem 4)"
check "ratio_met sem spread" "1.9-2.1" "$(v ratio_met sem 5)-$(v ratio_met sem 6)"
check "ratio_met pthread figure" 1.6 "$(v ratio_met pthread 4)"
check "ratio_met anchor" 1 "$(v ratio_met sem 8)"
check "ratio_met x anchor" 2 "$(v ratio_met sem 10)"
check "ratio_missed verdict" MISSED "$(v ratio_missed -)"
check "disagree verdict" NOISY "$(v disagree -)"
check "disagree note" "median meets; 2/3 repeats meet" "$(v disagree - 13)"
check "implausible verdict" NOISY "$(v implausible -)"
check "peers: best present peer (glib 12)" 1.667 "$(v peers -  4)"
check "peers note" "best of 2: glib base" "$(v peers - 13)"
check "each_worst figure (min of 2 and 0.8)" 0.8 "$(v each_worst - 4)"
check "each_worst verdict" MISSED "$(v each_worst -)"
check "each_worst note" "worst: N=4" "$(v each_worst - 13)"
check "missing_row verdict" "NOT MEASURED" "$(v missing_row -)"
check "missing_row why" "no row [b:sem:nothing:x]; pending: issue 99" "$(v missing_row - 13)"
check "missing_bench why" "no bench_zz in this build; pending: issue 98" "$(v missing_bench - 13)"
check "skipped why" "bench_b: python3 not found" "$(v skipped - 13)"
f() { awk -F'\t' -v c="$1" -v be="$2" '$3 == c && $2 == be {print $9; exit}' "$r/figures.tsv"; }
check "figure flag: implausible e" "!" "$(f e sem)"
check "figure flag: spread wider than the median" "~" "$(f noisy pthread)"
check "figure flag: none" "" "$(f fast sem)"
check "load verdict" "load_high=0" "$(grep '^load_high=' "$r/status.txt")"
grep -q '^NOISY  *disagree\|^NOISY  *repeats on both sides' "$r/summary.txt" ||
  { echo "selftest: FAIL the verdict table lacks the NOISY row" >&2; fails=$((fails + 1)); }
grep -q '^!!' "$r/summary.txt" &&
  { echo "selftest: FAIL a quiet run printed the load warning" >&2; fails=$((fails + 1)); }
if command -v python3 >/dev/null 2>&1; then
  python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); assert len(d["claims"]) == 10, len(d["claims"])' \
    "$r/result.json" || { echo "selftest: FAIL result.json is not valid JSON" >&2; fails=$((fails + 1)); }
fi

# A busy run: the warning at the top, and the comparison of the two.
cp -r "$r" "$t/busy"
sed -i 's/^others_cpu_during=.*/others_cpu_during=40.0/' "$t/busy/machine.txt"
SP_BENCH_CLAIMS=$t/claims.txt sh "$here/render.sh" "$t/busy" || exit 1
check "high load verdict" "load_high=1" "$(grep '^load_high=' "$t/busy/status.txt")"
check "the warning comes right after the header" "!!" "$(sed -n '4p' "$t/busy/summary.txt" | cut -c1-2)"
out=$(sh "$here/compare.sh" "$r/result.json" "$t/busy/result.json") || { echo "selftest: FAIL compare.sh" >&2; exit 1; }
echo "$out" | grep -q 'a run had HIGH LOAD (NEW)' ||
  { echo "selftest: FAIL compare does not warn about the busy run" >&2; fails=$((fails + 1)); }
check "compare: figures in both, none changed" "11 figures in both runs, 0 of them (*) changed by more than either run's spread; 0 only in OLD, 0 only in NEW." \
  "$(echo "$out" | tail -n 1)"

if [ $fails = 0 ]; then echo "selftest: the verdict engine passed every check" >&2; exit 0; fi
echo "selftest: $fails check(s) failed" >&2
exit 1
