# bench/awk/common.awk: helpers shared by the bench/awk programs (POSIX awk;
# tested with mawk, Debian's default, and gawk).

# fmt(x): 3 significant digits, k/M suffixes ("23.5k", "1.44M", "0.967").
function fmt(x,   a) {
  if (x == "" || x == "NA") return "-"
  x += 0
  a = x < 0 ? -x : x
  if (a >= 1e9) return sprintf("%.3gG", x / 1e9)
  if (a >= 1e6) return sprintf("%.3gM", x / 1e6)
  if (a >= 1e4) return sprintf("%.3gk", x / 1e3)
  if (a >= 1000) return sprintf("%.0f", x)
  return sprintf("%.3g", x)
}

# spreadpct(med, lo, hi): half the min-max spread in % of the median.
function spreadpct(med, lo, hi,   a) {
  a = med < 0 ? -med : med
  if (a == 0) return (hi == lo) ? 0 : 999
  return 100 * (hi - lo) / 2 / a
}

function trim(s) {
  sub(/^[ \t]+/, "", s)
  sub(/[ \t]+$/, "", s)
  return s
}

# replace(s, from, to): every literal occurrence of `from` replaced.
function replace(s, from, to,   out, i) {
  out = ""
  while ((i = index(s, from)) > 0) {
    out = out substr(s, 1, i - 1) to
    s = substr(s, i + length(from))
  }
  return out s
}

# glob2re(g): a shell-like pattern ("*", "?", "{a,b}") as an anchored regex.
function glob2re(g,   re, i, c, inb) {
  re = ""
  inb = 0
  for (i = 1; i <= length(g); i++) {
    c = substr(g, i, 1)
    if (c == "*") re = re ".*"
    else if (c == "?") re = re "."
    else if (c == "{") { re = re "("; inb = 1 }
    else if (c == "}" && inb) { re = re ")"; inb = 0 }
    else if (c == "," && inb) re = re "|"
    else if (c ~ /[A-Za-z0-9_]/) re = re c
    else if (c == "^" || c == "\\") re = re "\\" c
    else re = re "[" c "]"
  }
  return "^" re "$"
}

# pad(s, w): s left-aligned in w columns.
function pad(s, w) {
  while (length(s) < w) s = s " "
  return s
}
function rpad(s, w) {
  while (length(s) < w) s = " " s
  return s
}

# load_claims(file): parse bench/claims.txt into
#   NB, BNAME[i], BTITLE[name], BLEGEND[name]
#   NM, MGLOB[i], MLO[i], MHI[i], MWHY[i], MNOSPREAD[i]
#   NC, C_ID[i], C_TITLE[i], C_TEXT[i], C_ISSUE[i], C_FIG[i], C_EACHV[i],
#   C_EACHL[i], C_OP[i], C_TV[i], C_ANCH[i], C_ANCHL[i], C_SEED[i],
#   C_SEEDL[i], C_PLO[i], C_PHI[i], C_PEND[i]
function load_claims(file,   line, kind, key, val, f, n, i) {
  NB = NM = NC = 0
  kind = ""
  while ((getline line < file) > 0) {
    if (line ~ /^#/) continue
    if (line ~ /^[ \t]*$/) { kind = ""; continue }
    key = line
    sub(/[ \t].*/, "", key)
    val = line
    sub(/^[^ \t]+[ \t]*/, "", val)
    val = trim(val)
    if (key == "bench") { kind = "b"; BNAME[++NB] = val; BSEEN[val] = NB; continue }
    if (key == "metric") {
      kind = "m"; MGLOB[++NM] = val; MRE[NM] = glob2re(val)
      MLO[NM] = "-inf"; MHI[NM] = "inf"; MNOSPREAD[NM] = 0; continue
    }
    if (key == "claim") {
      kind = "c"; C_ID[++NC] = val; C_PLO[NC] = "-inf"; C_PHI[NC] = "inf"
      C_EACHV[NC] = ""; C_EACHL[NC] = ""; C_ANCH[NC] = ""; C_SEED[NC] = ""
      C_PEND[NC] = ""; C_TEXT[NC] = ""; C_ISSUE[NC] = ""; C_TITLE[NC] = val
      continue
    }
    if (kind == "b") {
      if (key == "title") BTITLE[BNAME[NB]] = val
      else if (key == "legend") BLEGEND[BNAME[NB]] = val
    } else if (kind == "m") {
      if (key == "range") { split(val, f, /[ \t]+/); MLO[NM] = f[1]; MHI[NM] = f[2] }
      else if (key == "why") MWHY[NM] = val
      else if (key == "spread" && val == "ignore") MNOSPREAD[NM] = 1
    } else if (kind == "c") {
      if (key == "title") C_TITLE[NC] = val
      else if (key == "text") C_TEXT[NC] = val
      else if (key == "issue") C_ISSUE[NC] = val
      else if (key == "figure") C_FIG[NC] = val
      else if (key == "each") {
        C_EACHV[NC] = val; sub(/[ \t].*/, "", C_EACHV[NC])
        C_EACHL[NC] = val; sub(/^[^ \t]+[ \t]*/, "", C_EACHL[NC])
      } else if (key == "target") {
        split(val, f, /[ \t]+/); C_OP[NC] = f[1]; C_TV[NC] = f[2] + 0
      } else if (key == "anchor" || key == "seed") {
        # "EXPR LABEL" / "NUMBER LABEL": the label is the last word
        n = split(val, f, /[ \t]+/)
        i = (n > 1) ? f[n] : ""
        if (n > 1) val = trim(substr(val, 1, length(val) - length(f[n])))
        if (key == "anchor") { C_ANCH[NC] = val; C_ANCHL[NC] = i }
        else { C_SEED[NC] = val; C_SEEDL[NC] = i }
      } else if (key == "plausible") {
        split(val, f, /[ \t]+/); C_PLO[NC] = f[1]; C_PHI[NC] = f[2]
      } else if (key == "pending") C_PEND[NC] = val
    }
  }
  close(file)
}

function num(x) {
  if (x == "inf") return 1e308
  if (x == "-inf") return -1e308
  return x + 0
}

# load_machine(file): M[key] = value for the key=value lines.
function load_machine(file,   line, k) {
  while ((getline line < file) > 0) {
    k = index(line, "=")
    if (k > 1) M[substr(line, 1, k - 1)] = substr(line, k + 1)
  }
  close(file)
}

# json(s): s as a JSON string literal.
function json(s) {
  s = replace(s, "\\", "\\\\")
  s = replace(s, "\"", "\\\"")
  s = replace(s, "\t", " ")
  return "\"" s "\""
}
# jnum(x): a JSON number, or null.
function jnum(x) {
  if (x == "" || x == "NA" || x == "-") return "null"
  return sprintf("%.6g", x)
}
