# bench/awk/compare.awk: the ratios between two saved runs (result.json
# files written by bench/awk/json.awk, one array element per line).
#
#   awk -f common.awk -f compare.awk -v OLD=<old result.json> -v NEW=<new> [-v ALL=1]
#
# Prints both runs' revision, machine, settings and load, the claims side by
# side, then every figure present in both runs with NEW/OLD of the medians;
# "*" marks a figure whose two spreads [min-max] do not overlap (a change
# larger than the noise of either run). ALL=0 prints only those.

BEGIN {
  WIDTH = 100
  if (ALL == "") ALL = 1
  load(OLD, "o")
  load(NEW, "n")
  print "== compare: NEW / OLD"
  hdr("OLD", OLD, "o")
  hdr("NEW", NEW, "n")
  if (R["o", "cpu"] != R["n", "cpu"] || R["o", "nproc"] != R["n", "nproc"] || R["o", "kernel"] != R["n", "kernel"])
    print "   note: the machines differ: compare ratios within each run rather than figures across them"
  if (R["o", "mode"] != R["n", "mode"])
    print "   note: the modes differ (" R["o", "mode"] " vs " R["n", "mode"] "): windows and repeats differ"
  if (R["o", "high"] == "true" || R["n", "high"] == "true")
    print "   note: a run had HIGH LOAD (" (R["o", "high"] == "true" ? "OLD" : "") (R["o", "high"] == "true" && R["n", "high"] == "true" ? " and " : "") (R["n", "high"] == "true" ? "NEW" : "") "): its figures are not to be trusted"
  claims()
  figures()
}

# jget(line, key): the value of "key" in a one-line JSON object ("" if
# absent or null); strings unescaped.
function jget(line, key,   i, s, out, c) {
  i = index(line, "\"" key "\": ")
  if (i == 0) return ""
  s = substr(line, i + length(key) + 4)
  if (substr(s, 1, 1) != "\"") {
    sub(/[,}].*/, "", s)
    return (s == "null") ? "" : s
  }
  out = ""
  for (i = 2; i <= length(s); i++) {
    c = substr(s, i, 1)
    if (c == "\\") { i++; out = out substr(s, i, 1); continue }
    if (c == "\"") break
    out = out c
  }
  return out
}

function load(file, w,   line, sect, k, n) {
  if ((getline line < file) <= 0) { print "compare: cannot read " file > "/dev/stderr"; exit 2 }
  if (line != "{") { print "compare: " file " is not a bench result.json" > "/dev/stderr"; exit 2 }
  sect = ""
  while ((getline line < file) > 0) {
    if (line ~ /^  "run": /) {
      R[w, "date"] = jget(line, "date"); R[w, "mode"] = jget(line, "mode")
      R[w, "repeats"] = jget(line, "repeats"); R[w, "revision"] = jget(line, "revision")
      R[w, "dirty"] = jget(line, "dirty"); R[w, "elapsed"] = jget(line, "elapsed_s")
    } else if (line ~ /^  "machine": /) {
      R[w, "cpu"] = jget(line, "cpu"); R[w, "nproc"] = jget(line, "nproc")
      R[w, "kernel"] = jget(line, "kernel"); R[w, "libc"] = jget(line, "libc")
    } else if (line ~ /^  "load": /) {
      R[w, "high"] = jget(line, "high"); R[w, "others"] = jget(line, "others_cpu_pct_during")
      R[w, "load"] = jget(line, "loadavg_start")
    } else if (line ~ /^  "[a-z_]+": \[/) {
      sect = line; sub(/^  "/, "", sect); sub(/".*/, "", sect)
    } else if (line ~ /^    \{/ && sect == "claims") {
      k = jget(line, "id") SUBSEP jget(line, "backend")
      CL[w, k] = 1
      if (!(k in CSEEN)) { CSEEN[k] = 1; CORD[++NCO] = k }
      CV[w, k] = jget(line, "verdict"); CF[w, k] = jget(line, "figure")
      CLO[w, k] = jget(line, "lo"); CHI[w, k] = jget(line, "hi"); CN[w, k] = jget(line, "n")
      CT[k] = jget(line, "title"); COP[k] = jget(line, "op") " " jget(line, "target")
    } else if (line ~ /^    \{/ && sect == "figures") {
      k = jget(line, "bench") SUBSEP jget(line, "backend") SUBSEP jget(line, "case") SUBSEP jget(line, "metric")
      if (!((w, k) in FIG)) { FIG[w, k] = 1; if (w == "o") FORD[++NFO] = k; else if (!(("o", k) in FIG)) NEWONLY++ }
      FM[w, k] = jget(line, "median"); FLO[w, k] = jget(line, "min"); FHI[w, k] = jget(line, "max")
    }
  }
  close(file)
}

function hdr(name, file, w,   rev) {
  rev = R[w, "revision"] (R[w, "dirty"] == "true" ? "+dirty" : "")
  print "   " name ": " file
  print "        revision " rev ", " R[w, "date"] ", " R[w, "mode"] " mode, " R[w, "repeats"] " repeats, " R[w, "elapsed"] " s; " \
    R[w, "cpu"] ", " R[w, "nproc"] " CPUs, " R[w, "kernel"] ", " R[w, "libc"] "; others used " \
    (R[w, "others"] == "" ? "?" : R[w, "others"]) "% CPU" (R[w, "high"] == "true" ? " (HIGH LOAD)" : "")
}

function cell(w, k) {
  if (!((w, k) in CL)) return "-"
  if (CV[w, k] == "NOT MEASURED") return "not measured"
  return fmt(CF[w, k]) (CN[w, k] > 1 ? " [" fmt(CLO[w, k]) "-" fmt(CHI[w, k]) "]" : "") " " CV[w, k]
}

function claims(   i, k, p, w1, w2, w3, w4, r, a, b) {
  print ""
  print "-- claims (figure [spread] verdict)"
  w1 = length("claim"); w2 = length("backend"); w3 = length("OLD"); w4 = length("NEW")
  for (i = 1; i <= NCO; i++) {
    k = CORD[i]; split(k, p, SUBSEP)
    if (length(CT[k]) > w1) w1 = length(CT[k])
    if (length(p[2]) > w2) w2 = length(p[2])
    if (length(cell("o", k)) > w3) w3 = length(cell("o", k))
    if (length(cell("n", k)) > w4) w4 = length(cell("n", k))
  }
  print "   " pad("claim", w1) "  " pad("backend", w2) "  " pad("target", 8) "  " pad("OLD", w3) "  " pad("NEW", w4) "  NEW/OLD"
  for (i = 1; i <= NCO; i++) {
    k = CORD[i]; split(k, p, SUBSEP)
    a = CF["o", k]; b = CF["n", k]
    r = (a != "" && b != "" && a + 0 != 0 && CV["o", k] != "NOT MEASURED" && CV["n", k] != "NOT MEASURED") ? sprintf("%.3g", b / a) : ""
    print "   " pad(CT[k], w1) "  " pad(p[2], w2) "  " pad(COP[k], 8) "  " pad(cell("o", k), w3) "  " pad(cell("n", k), w4) "  " r
  }
}

function figures(   i, k, p, w, nw, nb, r, ch, line, lastb, nch, ncmp, o, n) {
  print ""
  print "-- figures: NEW/OLD of the medians; * = the spreads of the two runs do not overlap" (ALL ? "" : " (only those shown)")
  for (i = 1; i <= 4; i++) w[i] = 0
  for (i = 1; i <= NFO; i++) {
    k = FORD[i]
    if (!(("n", k) in FIG)) { OLDONLY++; continue }
    split(k, p, SUBSEP)
    for (nb = 1; nb <= 4; nb++) if (length(p[nb]) > w[nb]) w[nb] = length(p[nb])
  }
  nch = ncmp = 0
  lastb = ""
  for (i = 1; i <= NFO; i++) {
    k = FORD[i]
    if (!(("n", k) in FIG)) continue
    split(k, p, SUBSEP)
    o = FM["o", k]; n = FM["n", k]
    r = (o + 0 != 0) ? sprintf("%.3g", n / o) : "-"
    ch = (FHI["n", k] + 0 < FLO["o", k] + 0 || FLO["n", k] + 0 > FHI["o", k] + 0) ? "*" : ""
    ncmp++
    if (ch != "") nch++
    if (!ALL && ch == "") continue
    if (p[1] != lastb) {
      print "   " pad("bench", w[1]) "  " pad("backend", w[2]) "  " pad("case", w[3]) "  " pad("metric", w[4]) "  " rpad("OLD", 9) "  " rpad("NEW", 9) "  " rpad("NEW/OLD", 8)
      lastb = p[1]
    }
    line = "   " pad(p[1], w[1]) "  " pad(p[2], w[2]) "  " pad(p[3], w[3]) "  " pad(p[4], w[4]) "  " rpad(fmt(o), 9) "  " rpad(fmt(n), 9) "  " rpad(r, 8) " " ch
    sub(/ +$/, "", line)
    print line
  }
  print ""
  print ncmp " figures in both runs, " nch " of them (*) changed by more than either run's spread; " (OLDONLY + 0) " only in OLD, " (NEWONLY + 0) " only in NEW."
}
