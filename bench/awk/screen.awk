# bench/awk/screen.awk: the text report of one run (what scripts/bench.sh
# prints): header, load warning, verdict table, sanity check, then the
# detailed tables, each with its legend.
#
#   awk -f common.awk -f screen.awk -v RES=<results dir> -v CLAIMS=<claims.txt>
#
# Reads what bench/awk/analyze.awk wrote (claims.tsv, figures.tsv,
# status.txt, sanity.txt) and machine.txt, ratios.csv; prints on stdout.
# Every column is as wide as its widest cell, whatever the case names.

BEGIN {
  WIDTH = 100 # wrap legends and notes at this width
  load_claims(CLAIMS)
  load_machine(RES "/machine.txt")
  read_kv(RES "/status.txt")
  header()
  verdicts()
  sanity()
  tables()
}

function read_kv(file,   line, k) {
  while ((getline line < file) > 0) {
    k = index(line, "=")
    if (k > 1) S[substr(line, 1, k - 1)] = substr(line, k + 1)
  }
  close(file)
}

# wrap(text, width, first, rest): text folded at spaces, lines prefixed.
function wrap(text, width, first, rest,   out, line, w, n, i, words) {
  n = split(text, words, " ")
  out = ""; line = first
  for (i = 1; i <= n; i++) {
    w = words[i]
    if (length(line) + length(w) + 1 > width && length(line) > length(rest)) {
      out = out line "\n"; line = rest w
    } else line = (line == first || line == rest) ? line w : line " " w
  }
  return out line
}

function header(   rev, when) {
  rev = M["revision"] (M["dirty"] == 1 ? " (+ uncommitted changes)" : "")
  if (rev == "") rev = "unknown (not a git checkout)"
  print "libsyncplus benchmarks: " M["mode"] " run at revision " rev ", " M["date"] ", " M["elapsed_s"] " s"
  print wrap("machine: " M["cpu"] ", " M["nproc"] " CPUs, " M["kernel"] ", " M["libc"] \
    (M["compiler"] != "" ? ", " M["compiler"] : "") (M["build_type"] != "" ? " (" M["build_type"] ")" : "") \
    "; backends: " M["backends"] "; python3: " M["python3"], WIDTH, "", "  ")
  if (S["load_high"] == 1) {
    print ""
    print wrap("!! HIGH LOAD: " S["load_why"] ".", WIDTH, "", "!! ")
    print "!! The figures below are not to be trusted: re-run on a quieter machine."
  }
}

function verdicts(   f, line, a, n, i, w, hdr, row, fig, tgt, anc, xa, cols, c, note, nm, nrow, rep) {
  f = RES "/claims.tsv"
  nrow = 0
  while ((getline line < f) > 0) {
    if (line ~ /^id\t/) continue
    split(line, a, "\t")
    nrow++
    V[nrow, 1] = a[3]
    V[nrow, 2] = (a[1] == prev) ? "" : a[14]
    prev = a[1]
    V[nrow, 3] = (a[2] == "-") ? "" : a[2]
    if (a[3] == "NOT MEASURED") {
      V[nrow, 4] = "not measured (" a[13] ")"
      V[nrow, 5] = V[nrow, 6] = V[nrow, 7] = V[nrow, 8] = V[nrow, 9] = ""
      NMROW[nrow] = 1
      continue
    }
    fig = fmt(a[4])
    if (a[7] > 1) fig = fig " [" fmt(a[5]) "-" fmt(a[6]) "]"
    V[nrow, 4] = fig
    V[nrow, 5] = a[11] " " a[12]
    V[nrow, 6] = (a[8] != "") ? fmt(a[8]) " " a[9] : ""
    V[nrow, 7] = (a[10] != "") ? fmt(a[10]) : ""
    V[nrow, 8] = a[13]
  }
  close(f)
  rep = (M["repeats"] > 1) ? "medians of up to " M["repeats"] " interleaved repeats, [min-max] over the repeats" : "1 repeat: no spread"
  print ""
  print "== Verdicts: does libsyncplus do what the seeds and the issues claim, here, today?"
  print wrap("(this run: " rep "; x anchor = this run's figure / the anchor's, a reference measured in this run or the seed's published figure; details of every claim in bench/claims.txt)", WIDTH, "   ", "   ")
  H[1] = "verdict"; H[2] = "claim"; H[3] = "backend"; H[4] = "this run [spread]"
  H[5] = "target"; H[6] = "anchor"; H[7] = "x anchor"; H[8] = "note"
  cols = 8
  for (c = 1; c <= cols; c++) W[c] = length(H[c])
  for (i = 1; i <= nrow; i++)
    for (c = 1; c <= cols; c++) {
      if (NMROW[i] && c >= 4) continue
      if (c < cols && length(V[i, c]) > W[c]) W[c] = length(V[i, c])
    }
  hdr = ""
  for (c = 1; c < cols; c++) hdr = hdr pad(H[c], W[c]) "  "
  print hdr H[cols]
  for (i = 1; i <= nrow; i++) {
    row = pad(V[i, 1], W[1]) "  " pad(V[i, 2], W[2]) "  " pad(V[i, 3], W[3]) "  "
    if (NMROW[i]) { print row V[i, 4]; continue }
    for (c = 4; c < cols; c++) row = row pad(V[i, c], W[c]) "  "
    note = V[i, cols]
    if (length(row) + length(note) > WIDTH + 50 && note != "") {
      sub(/ +$/, "", row)
      print row
      print wrap(note, WIDTH, pad("", W[1] + 2) "  note: ", pad("", W[1] + 10))
    } else {
      row = row note
      sub(/ +$/, "", row)
      print row
    }
  }
  print ""
  printf "%d MET, %d MISSED, %d NOISY, %d NOT MEASURED", S["n_met"], S["n_missed"], S["n_noisy"], S["n_not_measured"]
  print (S["n_noisy"] > 0 ? " (NOISY: the repeats disagree, the spread is wider than the figure, or the figure is implausible: re-run on a quieter machine)" : "")
}

function sanity(   f, line) {
  print ""
  print "== Sanity check"
  f = RES "/sanity.txt"
  while ((getline line < f) > 0) {
    if (line ~ /^  /) print "   " line
    else print wrap(line, WIDTH, "   ", "     ")
  }
  close(f)
}

# ----------------------------------------------------------------- tables ----

function tables(   f, line, a, nb, i, b, k, be, nbe, j, known, nr, r) {
  f = RES "/figures.tsv"
  nb = 0
  while ((getline line < f) > 0) {
    if (line ~ /^bench\t/) continue
    split(line, a, "\t")
    b = a[1]
    if (!(b in TB)) { TB[b] = 1; TORD[++nb] = b }
    r = a[3] SUBSEP a[4]
    if (!((b, r) in TROW)) { TROW[b, r] = 1; TR[b, ++TNR[b]] = r }
    TBE[b, a[2]] = 1
    if (!(a[2] in BESEEN)) { BESEEN[a[2]] = 1; BEORD[++NBEO] = a[2] }
    CELLV[b, r, a[2]] = fmt(a[6])
    CELLS[b, r, a[2]] = (a[5] > 1) ? sprintf("±%.0f%%", spreadpct(a[6], a[7], a[8])) : ""
    CELLF[b, r, a[2]] = a[9]
  }
  close(f)
  f = RES "/ratios.csv"
  while ((getline line < f) > 0) {
    if (line ~ /^bench,ratio,/) continue
    n = split(line, a, ",")
    b = a[1]
    if (!((b, a[2]) in RSEEN)) { RSEEN[b, a[2]] = 1; RN[b, ++RNN[b]] = a[2] }
    RV[b, a[2], a[3]] = sprintf("%.2f", a[4])
    RBE[b, a[3]] = 1
  }
  close(f)
  # columns: the library's backends, raw, the peers/anchors, none
  nbe = split(M["backends"], be, " ")
  for (i = 1; i <= nbe; i++) known[be[i]] = 1
  be[++nbe] = "raw"; known["raw"] = 1; known["none"] = 1
  for (i = 1; i <= NBEO; i++) if (!(BEORD[i] in known)) be[++nbe] = BEORD[i]
  be[++nbe] = "none"

  print ""
  print "== Detailed tables"
  print wrap("cells: median over the repeats, ±half the min-max spread in % of the median; ! = outside the physically plausible range, ~ = spread wider than the median (see the sanity check). The raw OS baselines run in each backend's program, so they have twice the samples.", WIDTH, "   ", "   ")
  # benches in claims.txt order, then the others
  n = 0
  for (i = 1; i <= NB; i++) if (BNAME[i] in TB) ORD[++n] = BNAME[i]
  for (i = 1; i <= nb; i++) if (!(TORD[i] in BSEEN)) ORD[++n] = TORD[i]
  for (i = 1; i <= n; i++) table(ORD[i], be, nbe)
}

function table(b, be, nbe,   cols, c, j, r, w1, w2, wv, ws, line, hdr, parts, x, k, wr) {
  print ""
  print "-- " b (b in BTITLE ? ": " BTITLE[b] : "")
  if (b in BLEGEND) print wrap("legend: " BLEGEND[b], WIDTH, "   ", "           ")
  cols = 0
  for (j = 1; j <= nbe; j++) if ((b, be[j]) in TBE) COL[++cols] = be[j]
  w1 = length("case"); w2 = length("metric")
  for (r = 1; r <= TNR[b]; r++) {
    split(TR[b, r], parts, SUBSEP)
    if (length(parts[1]) > w1) w1 = length(parts[1])
    if (length(parts[2]) > w2) w2 = length(parts[2])
  }
  for (c = 1; c <= cols; c++) {
    wv[c] = 0; ws[c] = 0
    for (r = 1; r <= TNR[b]; r++) {
      k = b SUBSEP TR[b, r] SUBSEP COL[c]
      if (!(k in CELLV)) continue
      if (length(CELLV[k]) > wv[c]) wv[c] = length(CELLV[k])
      x = CELLS[k] CELLF[k]
      if (length(x) > ws[c]) ws[c] = length(x)
    }
    if (wv[c] + ws[c] + 1 < length(COL[c])) wv[c] = length(COL[c]) - ws[c] - 1
  }
  hdr = "   " pad("case", w1) "  " pad("metric", w2)
  for (c = 1; c <= cols; c++) hdr = hdr "  " pad(COL[c], wv[c] + ws[c] + 1)
  sub(/ +$/, "", hdr)
  print hdr
  for (r = 1; r <= TNR[b]; r++) {
    split(TR[b, r], parts, SUBSEP)
    line = "   " pad(parts[1], w1) "  " pad(parts[2], w2)
    for (c = 1; c <= cols; c++) {
      k = b SUBSEP TR[b, r] SUBSEP COL[c]
      if (k in CELLV) line = line "  " rpad(CELLV[k], wv[c]) " " pad(CELLS[k] CELLF[k], ws[c])
      else line = line "  " rpad(".", wv[c]) " " pad("", ws[c])
    }
    sub(/ +$/, "", line)
    print line
  }
  if (RNN[b] > 0) {
    wr = length("ratios (of medians)")
    for (r = 1; r <= RNN[b]; r++) if (length(RN[b, r]) > wr) wr = length(RN[b, r])
    hdr = "   " pad("ratios (of medians)", wr)
    ncol = 0
    for (j = 1; j <= nbe; j++) if ((b, be[j]) in RBE) RCOL[++ncol] = be[j]
    if ((b, "-") in RBE) RCOL[++ncol] = "-"
    for (c = 1; c <= ncol; c++) hdr = hdr "  " rpad(RCOL[c] == "-" ? "value" : RCOL[c], 8)
    print hdr
    for (r = 1; r <= RNN[b]; r++) {
      line = "   " pad(RN[b, r], wr)
      for (c = 1; c <= ncol; c++) {
        k = b SUBSEP RN[b, r] SUBSEP RCOL[c]
        line = line "  " rpad((k in RV) ? RV[k] : "", 8)
      }
      sub(/ +$/, "", line)
      print line
    }
  }
}
