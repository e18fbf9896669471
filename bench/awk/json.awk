# bench/awk/json.awk: the machine-readable result of one run (result.json).
#
#   awk -f common.awk -f json.awk -v RES=<results dir>
#
# One JSON object: "format", "run" (revision, date, mode, repeats, elapsed),
# "machine" (cpu, nproc, kernel, libc, compiler, build type), "settings",
# "load" (load averages, others' CPU share, the load verdict), "claims",
# "figures", "ratios", "programs" and "sanity". Every element of an array
# is on a line of its own, so line-oriented tools (bench/compare.sh) can
# read it without a JSON parser.

BEGIN {
  load_machine(RES "/machine.txt")
  read_kv(RES "/status.txt")
  print "{"
  print "  \"format\": \"libsyncplus-bench-result/1\","
  print "  \"run\": {" kv("date") ", " kv("mode") ", \"repeats\": " jnum(M["repeats"]) ", \"elapsed_s\": " jnum(M["elapsed_s"]) \
    ", " kv("revision") ", \"dirty\": " (M["dirty"] == 1 ? "true" : "false") ", " kv("bench_revision") "},"
  print "  \"machine\": {" kv("cpu") ", \"nproc\": " jnum(M["nproc"]) ", " kv("kernel") ", " kv("libc") ", " kv("compiler") ", " kv("python3") "},"
  print "  \"settings\": {" kv("build_type") ", " kv("backends") ", " kv("built") ", " kv("benches") ", " kv("not_run") ", " kv("repeats_by_bench") "},"
  print "  \"load\": {\"high\": " (S["load_high"] == 1 ? "true" : "false") ", \"why\": " json(S["load_why"]) \
    ", " kv("loadavg_start") ", " kv("loadavg_end") ", \"loadavg_max\": " jnum(M["loadavg_max"]) \
    ", \"others_cpu_pct_before\": " jnum(M["others_cpu_before"]) ", \"others_cpu_pct_during\": " jnum(M["others_cpu_during"]) \
    ", \"others_cpu_pct_after\": " jnum(M["others_cpu_after"]) ", \"steal_pct_during\": " jnum(M["steal_during"]) "},"
  print "  \"counts\": {\"met\": " S["n_met"] + 0 ", \"missed\": " S["n_missed"] + 0 ", \"noisy\": " S["n_noisy"] + 0 \
    ", \"not_measured\": " S["n_not_measured"] + 0 ", \"implausible_figures\": " S["n_implausible"] + 0 ", \"noisy_figures\": " S["n_wide"] + 0 "},"
  array("claims", RES "/claims.tsv", "\t", \
    "id backend verdict figure lo hi n anchor anchor_label x_anchor op target note title issue text", \
    "s s s n n n n n s n s n s s s s")
  array("figures", RES "/figures.tsv", "\t", "bench backend case metric n median min max flag why", "s s s s n n n n s s")
  array("ratios", RES "/ratios.csv", ",", "bench ratio backend value", "s s s n")
  array("programs", RES "/programs.csv", ",", "repeat bench backend seconds others_cpu_pct steal_pct rc", "n s s n n n n")
  lines("sanity", RES "/sanity.txt")
  print "}"
}

function read_kv(file,   line, k) {
  while ((getline line < file) > 0) {
    k = index(line, "=")
    if (k > 1) S[substr(line, 1, k - 1)] = substr(line, k + 1)
  }
  close(file)
}

function kv(k) { return json(k) ": " json(M[k]) }

# array(name, file, sep, fields, types): the rows of file (header skipped)
# as objects; types "s" string, "n" number.
function array(name, file, sep, fields, types,   line, nf, f, t, a, i, o, first, n) {
  nf = split(fields, f, " ")
  split(types, t, " ")
  print "  \"" name "\": ["
  first = 1
  n = 0
  while ((getline line < file) > 0) {
    if (n++ == 0) continue
    split(line, a, sep)
    o = "{"
    for (i = 1; i <= nf; i++)
      o = o (i > 1 ? ", " : "") json(f[i]) ": " (t[i] == "n" ? jnum(a[i]) : json(a[i]))
    o = o "}"
    if (!first) print prev ","
    prev = "    " o
    first = 0
  }
  close(file)
  if (!first) print prev
  print "  ],"
}

function lines(name, file,   line, first) {
  print "  \"" name "\": ["
  first = 1
  while ((getline line < file) > 0) {
    if (!first) print prev ","
    prev = "    " json(line)
    first = 0
  }
  close(file)
  if (!first) print prev
  print "  ]"
}
