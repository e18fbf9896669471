#!/usr/bin/env bash
# The Python module's stage of scripts/test.sh (stage 1's ctest already ran
# CPython's lock_tests/test_queue classes and the module's own tests against
# every backend's module, built with gcc). This stage adds, for the default
# backend:
#   1. the module built with clang -Werror, installed the documented way
#      (cmake --install --component python into a prefix, found through
#      Python's user site: PYTHONUSERBASE=prefix), and CPython's suites and
#      the API checks run against the installed module;
#   2. valgrind (memcheck) on a workload of every type;
#   3. Debian's python3 (when it is not the interpreter above): the module
#      built for it, with its test package (libpython3.X-testsuite);
#   4. a debug build of CPython (python3-dbg): the leak loops with
#      sys.gettotalrefcount, and the API checks, on a Py_DEBUG interpreter;
#   5. sanitizers: the module and the library built with ASan+UBSan (clang)
#      and with TSan (gcc), the suites run by the (uninstrumented)
#      interpreter with the sanitizer's runtime preloaded (no fork suite
#      under TSan: it cannot start threads in a child forked from a
#      threaded process).
#
#   python/tests/stage.sh BUILD_DIR
# Needs: cmake, clang; installs python3-dev, python3-dbg, valgrind and the
# test package with apt-get when missing (scripts/deps.sh). A part whose
# interpreter cannot be had is skipped with a printed reason. Last line:
# "python stage: P passed, F failed, S skipped". Exit 0 if nothing failed.
set -uo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
out=${1:-build/test-python}
mkdir -p "$out"
out=$(cd "$out" && pwd)
. scripts/deps.sh
jobs=$(nproc 2>/dev/null || echo 2)
passed=0 failed=0 skipped=0

ok() { echo "  ok: $*"; passed=$((passed + 1)); }
bad() { echo "  FAILED: $*"; failed=$((failed + 1)); }
skip() { echo "  skipped: $*"; skipped=$((skipped + 1)); }

# has_headers PY: the interpreter has Python.h.
has_headers() {
  "$1" -c 'import os, sysconfig, sys
sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"],
                                        "Python.h")))' 2>/dev/null
}

# build_module NAME PY [CMAKE ARGS...]: configure and build the module for
# interpreter PY in $out/NAME; echo the build dir.
build_module() {
  local name=$1 py=$2 dir=$out/$1; shift 2
  if ! cmake -S "$root" -B "$dir" -DSYNCPLUS_BUILD_PYTHON=ON \
      -DSYNCPLUS_BUILD_TESTS=OFF -DSYNCPLUS_BUILD_BENCH=OFF \
      -DPython3_EXECUTABLE="$py" "$@" >"$dir.configure.log" 2>&1; then
    tail -n 30 "$dir.configure.log" >&2; return 1
  fi
  # the module of the default backend only (stage 1 built every backend's)
  local be
  be=$(awk -F= '/^SYNCPLUS_BACKEND:/ {print $2}' "$dir/CMakeCache.txt")
  if ! cmake --build "$dir" -j"$jobs" --target "syncplus_python_${be//-/_}" \
      >"$dir.build.log" 2>&1; then
    grep -E "error|warning" "$dir.build.log" | head -n 40 >&2; return 1
  fi
  echo "$dir"
}

# suites LABEL PY DIR SUITE...: run.py SUITE with the module in DIR.
suites() {
  local label=$1 py=$2 dir=$3; shift 3
  local s rc
  for s in "$@"; do
    PYTHONPATH=$dir PYTHONMALLOC=debug "$py" -X faulthandler \
      python/tests/run.py "$s" --expect-dir "$dir" >"$out/$label-$s.log" 2>&1
    rc=$?
    grep -E "^$s: " "$out/$label-$s.log" | sed "s/^/  $label /"
    case $rc in
      0) ok "$label $s" ;;
      77) skip "$label $s: $(grep -m1 SKIP "$out/$label-$s.log")" ;;
      *) bad "$label $s (log: $out/$label-$s.log)"
         grep -E -A15 "^(FAIL|ERROR):|Fatal Python" "$out/$label-$s.log" |
           head -n 60 ;;
    esac
  done
}

py=$(command -v python3 || true)
sp_need_packages python3-dev valgrind clang || echo "  (apt-get failed)"

echo "-- 1. clang -Werror, cmake --install, the suites on the installed module"
if [ -z "$py" ] || ! has_headers "$py"; then
  skip "no python3 with development headers"
else
  py=$("$py" -c 'import sys; print(sys.executable)')
  prefix=$out/prefix
  rm -rf "$prefix"
  # -gdwarf-4: valgrind 3.19 cannot read clang 14's DWARF 5.
  if dir=$(build_module clang "$py" -DCMAKE_C_COMPILER=clang \
             -DCMAKE_C_FLAGS=-gdwarf-4 \
             -DCMAKE_BUILD_TYPE=RelWithDebInfo \
             -DCMAKE_INSTALL_PREFIX="$prefix") &&
     cmake --install "$dir" --component python >"$out/install.log" 2>&1; then
    site=$(PYTHONUSERBASE=$prefix "$py" -c 'import site; print(site.getusersitepackages())')
    found=$(cd / && PYTHONUSERBASE=$prefix "$py" -c 'import syncplus; print(syncplus.__file__)' 2>&1)
    case $found in
      "$site"/syncplus*) ok "installed into $site, imported from there" ;;
      *) bad "installed module not imported from $site: $found" ;;
    esac
    # (stage 1's ctest ran every suite on every backend's module; here the
    # installed one must pass CPython's suites and the API checks)
    suites installed "$py" "$site" lock_tests test_queue api
    echo "-- 2. valgrind"
    PYTHONPATH=$site "$py" python/tests/valgrind.py >"$out/valgrind.log" 2>&1
    case $? in
      0) ok "valgrind: $(grep '^valgrind:' "$out/valgrind.log")" ;;
      77) skip "valgrind not installed" ;;
      *) bad "valgrind"; tail -n 60 "$out/valgrind.log" ;;
    esac
  else
    bad "clang build or install (logs in $out)"
  fi
fi

echo "-- 3. Debian's python3"
deb=/usr/bin/python3
if [ ! -x "$deb" ]; then
  skip "no $deb"
elif [ "$("$deb" -c 'import sys; print(sys.executable)')" = "$py" ]; then
  skip "$deb is the interpreter of part 1"
else
  v=$("$deb" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
  sp_need_packages python3-dev "libpython$v-testsuite" ||
    echo "  (apt-get failed: the CPython suites will be skipped)"
  if ! has_headers "$deb"; then
    skip "$deb has no headers (python3-dev)"
  elif dir=$(build_module debian "$deb"); then
    suites debian "$deb" "$dir/python/$("$deb" -c 'print()' >/dev/null;
      awk -F= '/^SYNCPLUS_BACKEND:/ {print $2}' "$dir/CMakeCache.txt")" \
      lock_tests test_queue api
  else
    bad "build for $deb"
  fi
fi

echo "-- 4. a debug build of CPython (python3-dbg)"
sp_need_packages python3-dbg || echo "  (apt-get failed)"
dbg=$(command -v python3-dbg || true)
if [ -z "$dbg" ] || ! has_headers "$dbg"; then
  skip "no python3-dbg with headers"
elif dir=$(build_module debug "$dbg" -DCMAKE_BUILD_TYPE=Debug); then
  be=$(awk -F= '/^SYNCPLUS_BACKEND:/ {print $2}' "$dir/CMakeCache.txt")
  suites debug "$dbg" "$dir/python/$be" leaks api
else
  bad "build for $dbg"
fi

echo "-- 5. sanitizers (ASan+UBSan, TSan)"
# sanitized LABEL RUNTIME DIR SUITE...: suites with RUNTIME preloaded.
sanitized() {
  local label=$1 rt=$2 dir=$3; shift 3
  local s rc
  for s in "$@"; do
    LD_PRELOAD=$rt ASAN_OPTIONS=detect_leaks=0 \
      UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
      TSAN_OPTIONS=report_signal_unsafe=0:halt_on_error=1 \
      PYTHONMALLOC=malloc PYTHONPATH=$dir "$py" python/tests/run.py "$s" \
      --expect-dir "$dir" >"$out/$label-$s.log" 2>&1
    rc=$?
    grep -E "^$s: " "$out/$label-$s.log" | sed "s/^/  $label /"
    if [ $rc = 0 ] && ! grep -qE "ERROR: AddressSanitizer|runtime error:|WARNING: ThreadSanitizer" "$out/$label-$s.log"; then
      ok "$label $s"
    elif [ $rc = 77 ]; then
      skip "$label $s: $(grep -m1 SKIP "$out/$label-$s.log")"
    else
      bad "$label $s (log: $out/$label-$s.log)"
      grep -E -A20 "^(FAIL|ERROR):|Sanitizer|runtime error" "$out/$label-$s.log" | head -n 40
    fi
  done
}
if [ -z "$py" ] || ! has_headers "$py"; then
  skip "no python3 with development headers"
else
  be=$(awk -F= '/^SYNCPLUS_BACKEND:/ {print $2}' "$out/clang/CMakeCache.txt" 2>/dev/null)
  be=${be:-sem}
  asan_rt=$(clang -print-file-name=libclang_rt.asan-x86_64.so 2>/dev/null)
  if [ -f "$asan_rt" ] && dir=$(build_module asan "$py" -DCMAKE_C_COMPILER=clang \
         -DSYNCPLUS_SANITIZE=address); then
    sanitized asan "$asan_rt" "$dir/python/$be" api lock_tests test_queue \
      signals fork leaks
  else
    skip "ASan: no clang ASan runtime, or the build failed"
  fi
  tsan_rt=$(gcc -print-file-name=libtsan.so 2>/dev/null)
  if [ -f "$tsan_rt" ] && dir=$(build_module tsan "$py" -DCMAKE_C_COMPILER=gcc \
         -DSYNCPLUS_SANITIZE=thread); then
    sanitized tsan "$tsan_rt" "$dir/python/$be" api lock_tests test_queue \
      signals leaks
  else
    skip "TSan: no libtsan, or the build failed"
  fi
fi

echo "python stage: $passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
