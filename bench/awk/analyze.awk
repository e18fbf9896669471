# bench/awk/analyze.awk: judge the claims of bench/claims.txt against one
# run, and check every figure for plausibility and noise.
#
#   awk -f common.awk -f analyze.awk -v RES=<results dir> -v CLAIMS=<claims.txt>
#
# Reads RES/{machine.txt,summary.csv,raw.csv,programs.csv,skips.csv}; writes
#   RES/claims.tsv   one row per claim (and backend): verdict, figure, spread...
#   RES/figures.tsv  summary.csv plus a flag per figure ("!" implausible,
#                    "~" spread wider than the median) and why
#   RES/status.txt   key=value: the load verdict and counts
#   RES/sanity.txt   the sanity check, as lines of text
#
# A claim's figure is its expression evaluated on the medians (a ratio of
# medians, as everywhere in the bench); its spread is the min-max of the
# same expression evaluated repeat by repeat (a row measured twice in a
# repeat, e.g. a raw baseline run by each backend's program, counts with
# its mean). Verdict: NOT MEASURED when a row is absent; NOISY when the
# figure is implausible, its spread is wider than the figure, or the
# repeats disagree about the verdict; else MET or MISSED by the median.

BEGIN {
  BUSY_PCT = 20   # others' CPU share (%) during a bench that flags it busy
  HIGH_RUN = 15   # ... during the whole run that makes the run "high load"
  HIGH_AT = 30    # ... in the second before or after the run, or in one bench
  HIGH_STEAL = 10 # CPU stolen by the hypervisor (%) during the run
  BUDGET_S = 165  # the quick run's benchmarks (the build and set-up take the rest of 3 min)

  load_claims(CLAIMS)
  load_machine(RES "/machine.txt")
  nlb = split(M["backends"], LIBBE, " ")
  for (i = 1; i <= nlb; i++) LIBSET[LIBBE[i]] = 1
  nbuilt = split(("built" in M) ? M["built"] : M["benches"], tmp, " ")
  for (i = 1; i <= nbuilt; i++) BUILT[tmp[i]] = 1
  n = split(M["benches"], tmp, " ")
  for (i = 1; i <= n; i++) RAN[tmp[i]] = 1
  n = split(M["not_run"], tmp, " ")
  for (i = 1; i <= n; i++) NOTRUN[tmp[i]] = 1

  # medians and per-repeat means
  NK = 0
  f = RES "/summary.csv"
  while ((getline line < f) > 0) {
    if (line ~ /^bench,/) continue
    split(line, a, ",")
    k = a[1] ":" a[2] ":" a[3] ":" a[4]
    KEYS[++NK] = k
    KN[k] = a[5] + 0; MED[k] = a[6] + 0; MIN[k] = a[7] + 0; MAX[k] = a[8] + 0
    KB[k] = a[1]; KBE[k] = a[2]; KC[k] = a[3]; KM[k] = a[4]
  }
  close(f)
  RR = 0
  f = RES "/raw.csv"
  while ((getline line < f) > 0) {
    if (line ~ /^repeat,/) continue
    split(line, a, ",")
    k = a[2] ":" a[3] ":" a[4] ":" a[5]
    RSUM[k, a[1]] += a[6]; RCNT[k, a[1]]++
    if (a[1] + 0 > RR) RR = a[1] + 0
  }
  close(f)
  f = RES "/programs.csv"
  while ((getline line < f) > 0) {
    if (line ~ /^repeat,/) continue
    split(line, a, ",")
    if (a[7] != 0) FAILED[a[2]] = 1
    if (a[5] == "-") { SECS[a[2]] += a[4]; continue }
    SECS[a[2]] += a[4]; if (!(a[2] in SECS_SEEN)) { SECS_SEEN[a[2]] = 1; SECORD[++NSEC] = a[2] }
    OS[a[2], a[3]] += a[5]; ON[a[2], a[3]]++
    OS[a[2]] += a[5]; ON[a[2]]++
  }
  close(f)
  f = RES "/skips.csv"
  while ((getline line < f) > 0) {
    if (line ~ /^bench,backend,case,reason/) continue
    n = split(line, a, ",")
    r = a[4]
    for (i = 5; i <= n; i++) r = r "," a[i]
    NSK++; SKB[NSK] = a[1]; SKBE[NSK] = a[2]; SKC[NSK] = a[3]; SKR[NSK] = r
  }
  close(f)

  figure_flags()
  RUNHIGH = run_high()
  out = RES "/claims.tsv"
  print "id\tbackend\tverdict\tfigure\tlo\thi\tn\tanchor\tanchor_label\tx_anchor\top\ttarget\tnote\ttitle\tissue\ttext" > out
  for (c = 1; c <= NC; c++) judge(c)
  close(out)
  load_status()
}

# ---------------------------------------------------------- expressions ----

function tokenize(s,   i, c, n, j, rest) {
  NT = 0
  n = length(s)
  i = 1
  while (i <= n) {
    c = substr(s, i, 1)
    rest = substr(s, i)
    if (c == " " || c == "\t") { i++; continue }
    if (c == "[") {
      j = index(rest, "]")
      if (j == 0) { ERR = "unclosed ["; return 0 }
      T[++NT] = "S" substr(rest, 2, j - 2); i += j; continue
    }
    if (c == "(" || c == ")" || c == "*" || c == "/" || c == ",") { T[++NT] = c; i++; continue }
    if (match(rest, /^[0-9]*\.?[0-9]+([eE][-+]?[0-9]+)?/)) {
      T[++NT] = "N" substr(rest, 1, RLENGTH); i += RLENGTH; continue
    }
    if (match(rest, /^[a-z]+/)) { T[++NT] = "F" substr(rest, 1, RLENGTH); i += RLENGTH; continue }
    ERR = "bad character '" c "'"
    return 0
  }
  T[NT + 1] = ""
  return 1
}

# eval(expr, be, r): the value of expr for backend be (replacing "*" in
# selectors' backend field), on medians (r = 0) or repeat r; "NA" if a row
# is absent (MISS names the first one).
function eval(expr, be, r,   v) {
  ERR = ""
  if (!tokenize(expr)) return "NA"
  EBE = be; ER = r; P = 1
  v = p_expr()
  if (ERR == "" && P <= NT) ERR = "unexpected '" T[P] "'"
  return (ERR != "") ? "NA" : v
}

function p_expr(   v, w, op) {
  v = p_term()
  while (P <= NT && (T[P] == "*" || T[P] == "/")) {
    op = T[P++]
    w = p_term()
    if (v == "NA" || w == "NA") v = "NA"
    else if (op == "*") v = v * w
    else if (w == 0) { v = "NA"; if (MISS == "") MISS = "a zero denominator" }
    else v = v / w
  }
  return v
}

function p_term(   t, v, f, best, bestn, cnt, x, s, parts) {
  t = T[P++]
  if (t == "(") {
    v = p_expr()
    if (T[P] != ")") ERR = "expected )"
    P++
    return v
  }
  if (substr(t, 1, 1) == "N") return substr(t, 2) + 0
  if (substr(t, 1, 1) == "S") return sel_value(substr(t, 2), 0)
  if (t == "Fmin" || t == "Fmax") {
    f = substr(t, 2)
    if (T[P] != "(") { ERR = "expected ( after " f; return "NA" }
    P++
    best = "NA"; bestn = ""; cnt = 0
    for (;;) {
      if (substr(T[P], 1, 1) == "S" && (T[P + 1] == "," || T[P + 1] == ")")) {
        # a bare selector may match several rows
        s = sel_expand(substr(T[P], 2))
        P++
        for (x = 1; x <= NSEL; x++) {
          v = value(SEL[x])
          if (v == "NA") continue
          cnt++
          if (best == "NA" || (f == "min" ? v < best : v > best)) { best = v; bestn = SEL[x] }
        }
      } else {
        v = p_expr()
        if (v != "NA") {
          cnt++
          if (best == "NA" || (f == "min" ? v < best : v > best)) { best = v; bestn = "an expression" }
        }
      }
      if (T[P] == ",") { P++; continue }
      if (T[P] == ")") { P++; break }
      ERR = "expected , or ) in " f "()"
      return "NA"
    }
    if (ER == 0 && cnt > 1) {
      split(bestn, parts, ":")
      PICK = PICK (PICK == "" ? "" : ", ") (f == "min" ? "fastest" : "best") " of " cnt ": " parts[2] " " parts[3]
    }
    if (best == "NA" && MISS == "") MISS = "no row matching " t
    return best
  }
  ERR = "unexpected '" t "'"
  return "NA"
}

# sel_expand(sel): SEL[1..NSEL] = the keys the selector matches (a literal
# selector gives itself, present or not).
function sel_expand(sel,   f, n, i, re) {
  n = split(sel, f, ":")
  if (n != 4) { ERR = "selector [" sel "] needs bench:backend:case:metric"; NSEL = 0; return }
  if (f[2] == "*" && EBE != "") f[2] = EBE
  sel = f[1] ":" f[2] ":" f[3] ":" f[4]
  NSEL = 0
  if (sel !~ /[*?{]/) { SEL[++NSEL] = sel; return }
  re = glob2re(f[1]) ":" glob2re(f[2]) ":" glob2re(f[3]) ":" glob2re(f[4])
  gsub(/\$:\^/, ":", re)
  for (i = 1; i <= NK; i++) if (KEYS[i] ~ re) SEL[++NSEL] = KEYS[i]
}

function sel_value(sel,   n) {
  sel_expand(sel)
  if (NSEL == 1) return value(SEL[1])
  if (NSEL == 0 && ERR == "") { if (MISS == "") MISS = "no row [" sel "]" }
  else if (NSEL > 1) ERR = "[" sel "] matches " NSEL " rows: use min() or max()"
  return "NA"
}

function value(k) {
  if (ER == 0) {
    if (k in MED) return MED[k]
  } else if ((k, ER) in RCNT) return RSUM[k, ER] / RCNT[k, ER]
  if (MISS == "") MISS = "no row [" k "]"
  return "NA"
}

# ----------------------------------------------------------------- claims ----

function meets(x, c) {
  if (C_OP[c] == ">=") return x >= C_TV[c]
  if (C_OP[c] == ">") return x > C_TV[c]
  if (C_OP[c] == "<=") return x <= C_TV[c]
  return x < C_TV[c]
}
# worse(a, b, c): 1 if a is further from meeting the target than b
function worse(a, b, c) {
  return (C_OP[c] ~ />/) ? a < b : a > b
}

function judge(c,   fig, per_be, i, n, b, nrow, rowbe, e, t) {
  fig = C_FIG[c]
  if (!tokenize(fig)) { emit_error(c, "figure: " ERR); return }
  # per backend if any selector's backend field is "*"; the benches it reads
  per_be = 0
  NCB = 0
  for (i = 1; i <= NT; i++) {
    if (substr(T[i], 1, 1) != "S") continue
    split(substr(T[i], 2), e, ":")
    if (e[2] == "*") per_be = 1
    if (e[1] !~ /[*?{$]/ && !((c, e[1]) in CBSEEN)) { CBSEEN[c, e[1]] = 1; CB[++NCB] = e[1]; CBCASES[e[1]] = "" }
    if (e[1] in CBCASES) CBCASES[e[1]] = CBCASES[e[1]] " " e[3]
  }
  if (!per_be || nlb == 0) { judge_row(c, "-"); return }
  # one row per backend; a single NOT MEASURED row when none has a figure
  nrow = 0
  for (b = 1; b <= nlb; b++) nrow += judge_row(c, LIBBE[b], 1)
  if (nrow == 0) judge_row(c, "all")
  else for (b = 1; b <= nlb; b++) judge_row(c, LIBBE[b])
}

# judge_row(c, be[, probe]): with probe, only say whether the row has a
# figure (1) and remember when it does not; without, print the row.
function judge_row(c, be, probe,   nv, vals, v, expr, fv, r, fr, fvr, nvr, best, worstv, worstf, fig, lo, hi, n, k,
                   anc, ancl, x, note, nmeet, verdict, why, flags, missing, incomplete, pick, bm, bn, i, srt) {
  ebe = (be == "all" || be == "-") ? "" : be
  if (C_EACHV[c] != "") nv = split(C_EACHL[c], vals, /[ \t]+/)
  else { nv = 1; vals[1] = "" }
  worstv = ""; worstf = "NA"; missing = ""; incomplete = ""; MISS = ""; PICK = ""; pick = ""
  for (r = 1; r <= RR; r++) fr[r] = "NA"
  for (v = 1; v <= nv; v++) {
    expr = C_FIG[c]
    if (C_EACHV[c] != "") expr = replace(expr, "${" C_EACHV[c] "}", vals[v])
    MISS = ""; PICK = ""
    fv = eval(expr, ebe, 0)
    if (ERR != "") { if (probe) return 1; emit_error(c, ERR); return }
    if (fv == "NA") {
      if (missing == "") missing = MISS
      if (C_EACHV[c] != "") incomplete = incomplete (incomplete == "" ? "" : ",") vals[v]
      continue
    }
    # this value's figure: the median of its per-repeat figures (ratios
    # within a repeat compare rows measured close in time), else the
    # expression on the medians
    nvr = 0
    for (r = 1; r <= RR; r++) {
      x = eval(expr, ebe, r)
      if (x == "NA") continue
      fvr[++nvr] = x
      if (fr[r] == "NA" || worse(x, fr[r], c)) fr[r] = x
    }
    if (nvr > 0) fv = median(fvr, nvr)
    if (worstf == "NA" || worse(fv, worstf, c)) { worstf = fv; worstv = vals[v]; pick = PICK }
  }
  if (probe) return worstf != "NA"
  if (worstf == "NA") {
    emit(c, be, "NOT MEASURED", "", "", "", 0, "", "", "", not_measured_why(c, be, missing))
    return
  }
  n = 0; nmeet = 0
  for (r = 1; r <= RR; r++) {
    if (fr[r] == "NA") continue
    srt[++n] = fr[r]
    if (n == 1 || fr[r] < lo) lo = fr[r]
    if (n == 1 || fr[r] > hi) hi = fr[r]
    if (meets(fr[r], c)) nmeet++
  }
  if (n == 0) { lo = hi = fig = worstf }
  else fig = median(srt, n)
  # anchor: this run's reference, else the seed's figure
  anc = ""; ancl = ""
  if (C_ANCH[c] != "") {
    MISS = ""
    anc = eval(C_ANCH[c], ebe, 0)
    if (anc == "NA") anc = ""
    else ancl = C_ANCHL[c]
  }
  if (anc == "" && C_SEED[c] != "") { anc = C_SEED[c] + 0; ancl = C_SEEDL[c] }
  x = (anc != "" && anc != 0) ? fig / anc : ""
  # flags
  note = ""
  if (C_EACHV[c] != "" && nv > 1) note = "worst: " C_EACHV[c] "=" worstv
  if (pick != "") note = note (note == "" ? "" : "; ") pick
  flags = ""
  if (fig < num(C_PLO[c]) || fig > num(C_PHI[c]))
    flags = flags "; implausible (not in " C_PLO[c] ".." C_PHI[c] ")"
  else if (n > 1 && (lo < num(C_PLO[c]) || hi > num(C_PHI[c])))
    flags = flags "; a repeat implausible (not in " C_PLO[c] ".." C_PHI[c] ")"
  if (n > 1 && hi - lo > (fig < 0 ? -fig : fig))
    flags = flags "; spread > figure"
  if (n > 1 && nmeet > 0 && nmeet < n)
    flags = flags "; " nmeet "/" n " repeats meet"
  if (flags != "") {
    verdict = "NOISY"
    flags = "median " (meets(fig, c) ? "meets" : "misses") flags
  } else verdict = meets(fig, c) ? "MET" : "MISSED"
  if (n == 1 && RR > 1) flags = flags "; 1 repeat only"
  if (incomplete != "") flags = flags "; not measured at " C_EACHV[c] "=" incomplete
  # busy machine during the benches it reads
  bm = 0
  for (i = 1; i <= NCB; i++) {
    k = (be != "-" && be != "all" && ((CB[i], be) in ON)) ? OS[CB[i], be] / ON[CB[i], be] : \
        ((CB[i] in ON) ? OS[CB[i]] / ON[CB[i]] : 0)
    if (k > bm) { bm = k; bn = CB[i] }
  }
  # (not repeated on every row when the whole run is flagged at the top)
  if (bm >= BUSY_PCT && !RUNHIGH) flags = flags sprintf("; busy (others %.0f%% CPU)", bm)
  sub(/^; /, "", flags)
  if (flags != "") note = note (note == "" ? "" : "; ") flags
  emit(c, be, verdict, fig, lo, hi, n, anc, ancl, x, note)
}

function not_measured_why(c, be, missing,   i, b, why, s, pend) {
  why = ""
  for (i = 1; i <= NCB && why == ""; i++) {
    b = CB[i]
    if (!(b in BUILT)) why = "no bench_" b " in this build"
    else if (b in NOTRUN) why = "bench_" b " runs only with --full"
    else if (!(b in RAN)) why = "bench_" b " was not selected (--bench)"
    else if (b in FAILED) why = "bench_" b " failed (see log.txt)"
    else for (s = 1; s <= NSK; s++)
      if (SKB[s] == b && (be == "-" || be == "all" || SKBE[s] == be || !(SKBE[s] in LIBSET)) && skip_case(SKC[s], CBCASES[b])) {
        why = "bench_" b ": " SKR[s]; break
      }
  }
  if (why == "") why = missing
  if (why == "") why = "no figure"
  pend = C_PEND[c]
  if (pend != "" && why ~ /^no (bench_|row)/) why = why "; pending: " pend
  return why
}

# skip_case(skc, cases): 1 if a #skip line's case (a pattern: "*", "{a,b}")
# concerns one of the claim's cases (patterns themselves: ${VAR} and
# wildcards stand for anything).
function skip_case(skc, cases,   n, i, a, cre, x) {
  n = split(cases, a, " ")
  for (i = 1; i <= n; i++) {
    x = a[i]
    gsub(/\$\{[A-Za-z_]+\}/, "*", x)
    cre = glob2re(x)
    if (skc ~ cre || a[i] ~ glob2re(skc)) return 1
    x = skc; gsub(/[*?]/, "", x)
    if (x != "" && index(a[i], x) == 1) return 1
  }
  return 0
}

function emit_error(c, msg) {
  emit(c, "-", "NOT MEASURED", "", "", "", 0, "", "", "", "claims.txt error: " msg)
  print "analyze.awk: claim " C_ID[c] ": " msg > "/dev/stderr"
}

# median(a, n): the median of a[1..n] (sorts a).
function median(a, n,   i, j, x) {
  for (i = 2; i <= n; i++) {
    x = a[i]; j = i - 1
    while (j >= 1 && a[j] > x) { a[j + 1] = a[j]; j-- }
    a[j + 1] = x
  }
  return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}

function cl(x) { return (x == "NA") ? "" : x }
function g(x) { return (x == "" || x == "NA") ? "" : sprintf("%.4g", x) }

function emit(c, be, verdict, fig, lo, hi, n, anc, ancl, x, note) {
  gsub(/\t/, " ", note)
  print C_ID[c] "\t" be "\t" verdict "\t" g(fig) "\t" g(lo) "\t" g(hi) "\t" n "\t" g(anc) "\t" ancl "\t" g(x) \
    "\t" C_OP[c] "\t" C_TV[c] "\t" note "\t" C_TITLE[c] "\t" C_ISSUE[c] "\t" C_TEXT[c] > out
  CNT[verdict]++
}

# ---------------------------------------------------------------- figures ----

function figure_flags(   i, k, m, j, flag, why, f, w, a, lo, hi) {
  f = RES "/figures.tsv"
  print "bench\tbackend\tcase\tmetric\tn\tmedian\tmin\tmax\tflag\twhy" > f
  NIMP = NWIDE = 0
  for (i = 1; i <= NK; i++) {
    k = KEYS[i]; m = KM[k]
    flag = ""; why = ""
    for (j = 1; j <= NM; j++) if (m ~ MRE[j]) break
    if (j <= NM) {
      lo = num(MLO[j]); hi = num(MHI[j])
      if (MED[k] < lo || MED[k] > hi) {
        flag = "!"
        why = "outside " MLO[j] ".." MHI[j] ": " MWHY[j]
        NIMP++
        IMP[NIMP] = sprintf("%s %s %s %s = %s (%s)", KB[k], KBE[k], KC[k], m, fmt(MED[k]), why)
      }
    }
    a = MED[k] < 0 ? -MED[k] : MED[k]
    if (KN[k] > 1 && MAX[k] - MIN[k] > a && !(j <= NM && MNOSPREAD[j])) {
      flag = flag "~"
      w = "spread " fmt(MIN[k]) ".." fmt(MAX[k]) " wider than the median"
      why = (why == "") ? w : why "; " w
      NWIDE++
      WIDE[NWIDE] = sprintf("%s %s %s %s = %s [%s-%s]", KB[k], KBE[k], KC[k], m, fmt(MED[k]), fmt(MIN[k]), fmt(MAX[k]))
    }
    print KB[k] "\t" KBE[k] "\t" KC[k] "\t" m "\t" KN[k] "\t" MED[k] "\t" MIN[k] "\t" MAX[k] "\t" flag "\t" why > f
  }
  close(f)
}

# ------------------------------------------------------------------- load ----

# run_high(): 1 if the whole run counts as high load (the thresholds above)
function run_high(   od, b, k, l1) {
  od = M["others_cpu_during"]
  if (od == "" || od == "-") {
    split(M["loadavg_start"], l1, " ")
    return l1[1] + 0 >= 0.75 * (M["nproc"] + 0)
  }
  if (od + 0 >= HIGH_RUN || M["others_cpu_before"] + 0 >= HIGH_AT || M["others_cpu_after"] + 0 >= HIGH_AT || M["steal_during"] + 0 >= HIGH_STEAL)
    return 1
  for (b in ON) if (index(b, SUBSEP) == 0 && OS[b] / ON[b] >= HIGH_AT) return 1
  return 0
}

function load_status(   f, s, high, why, ob, od, oa, st, b, k, busy, nb, l1, np, bn, i) {
  ob = M["others_cpu_before"]; od = M["others_cpu_during"]; oa = M["others_cpu_after"]
  st = M["steal_during"]; np = M["nproc"] + 0
  high = 0; why = ""
  busy = ""; nb = 0
  # benches in claims.txt order, then the others that ran
  for (i = 1; i <= NB; i++) {
    b = BNAME[i]
    if (!(b in ON)) continue
    k = OS[b] / ON[b]
    BUSYB[b] = k
    if (k >= BUSY_PCT) { busy = busy sprintf(" bench_%s %.0f%%,", b, k); nb++ }
    if (k >= HIGH_AT) high = 1
  }
  for (b in ON) if (index(b, SUBSEP) == 0 && !(b in BSEEN)) {
    k = OS[b] / ON[b]
    if (k >= BUSY_PCT) { busy = busy sprintf(" bench_%s %.0f%%,", b, k); nb++ }
    if (k >= HIGH_AT) high = 1
  }
  sub(/,$/, "", busy)
  if (od != "" && od != "-") {
    if (od + 0 >= HIGH_RUN) high = 1
    if (ob + 0 >= HIGH_AT || oa + 0 >= HIGH_AT) high = 1
    if (st + 0 >= HIGH_STEAL) high = 1
    why = sprintf("other processes used %s%% of the %d CPUs during the run (%s%% in the second before, %s%% after)", od, np, ob, oa)
    if (st + 0 >= 1) why = why sprintf("; the hypervisor stole %s%%", st)
    if (busy != "") why = why ";" busy
  } else {
    split(M["loadavg_start"], l1, " ")
    if (l1[1] + 0 >= 0.75 * np) high = 1
    why = sprintf("load average %s at the start on %d CPUs (no /proc/stat: others' CPU time unknown)", l1[1], np)
  }
  f = RES "/status.txt"
  print "load_high=" high > f
  print "load_why=" why > f
  print "busy_benches=" busy > f
  print "n_met=" CNT["MET"] + 0 > f
  print "n_missed=" CNT["MISSED"] + 0 > f
  print "n_noisy=" CNT["NOISY"] + 0 > f
  print "n_not_measured=" CNT["NOT MEASURED"] + 0 > f
  print "n_implausible=" NIMP + 0 > f
  print "n_wide=" NWIDE + 0 > f
  close(f)

  f = RES "/sanity.txt"
  split(M["loadavg_start"], l1, " ")
  s = sprintf("load average (1 min): %s at the start, %s at most while sampled, %s at the end, on %d CPUs (includes the bench's own threads)", \
    l1[1], M["loadavg_max"], substr(M["loadavg_end"], 1, index(M["loadavg_end"] " ", " ") - 1), np)
  print s > f
  if (od != "" && od != "-")
    print sprintf("CPU used by other processes: %s%% in the second before the run, %s%% during it, %s%% after (the machine's CPU time minus the bench's own)%s", \
      ob, od, oa, (busy != "") ? "; busy during:" busy : "") > f
  print (high ? "HIGH LOAD: " why "." : "load: quiet enough (others used less than " HIGH_RUN "% of the CPUs; no bench above " HIGH_AT "%).") > f
  s = ""
  for (i = 1; i <= NSEC; i++) s = s sprintf("%s %.0f s, ", SECORD[i], SECS[SECORD[i]])
  sub(/, $/, "", s)
  print "time: " M["elapsed_s"] " s in all; per bench (all repeats and backends): " s > f
  if (M["mode"] == "quick" && M["elapsed_s"] + 0 > BUDGET_S)
    print "OVER BUDGET: the default run's benchmarks took " M["elapsed_s"] " s, more than the " BUDGET_S " s they may take (scripts/bench.sh must stay under 3 minutes with the build): trim the repeats of a bench in bench/claims.txt." > f
  if (NIMP > 0) {
    print NIMP " implausible figure(s) (! in the tables):" > f
    for (i = 1; i <= NIMP && i <= 10; i++) print "  ! " IMP[i] > f
    if (NIMP > 10) print "  ... and " NIMP - 10 " more (figures.tsv)" > f
  }
  if (NWIDE > 0) {
    print NWIDE " noisy figure(s) whose spread over the repeats is wider than the median (~ in the tables):" > f
    for (i = 1; i <= NWIDE && i <= 6; i++) print "  ~ " WIDE[i] > f
    if (NWIDE > 6) print "  ... and " NWIDE - 6 " more (figures.tsv)" > f
  }
  if (high || NIMP > 0 || NWIDE > 0 || CNT["NOISY"] > 0)
    print "advice: figures flagged ! or ~ and NOISY verdicts are not to be trusted; re-run on a quieter machine (stop other builds and tests; check with `uptime`), or with more repeats (--repeats 5)." > f
  close(f)
}
