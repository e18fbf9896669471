#!/usr/bin/env bash
# The test suite, as CI runs it (.ci/run calls this). On a fresh Debian
# machine it installs what is missing (scripts/deps.sh), then runs every
# stage; each prints its own pass/fail counts, and the last line sums them.
#
#   format    every C file formatted by clang-format 14 (.clang-format), the
#             CMake presets valid (dev configured, compile_commands.json)
#   gcc       gcc build (system cmocka), every backend, ctest (with a smoke
#             run of the benches and the examples)
#   tsan      ThreadSanitizer build (gcc), ctest
#   orders    memory-order mutants (scripts/order-mutants.sh): each acquire
#             or release of the fast paths made relaxed in turn, rebuilt
#             under TSan, must be caught by tests/test_orders.c or
#             tests/test_platform.c (TSan checks C11 happens-before, which
#             x86 and qemu-user do not show)
#   asan      AddressSanitizer + UndefinedBehaviorSanitizer (clang), ctest
#   nocmocka  the README's three commands (cmake -S . -B b, build, ctest)
#             from a clean tree as on a machine without libcmocka-dev (its
#             files hidden in a mount namespace): Release by default, the
#             vendored cmocka
#   parent    a parent project consuming the library by add_subdirectory and
#             by FetchContent from this clone, without cmocka: only the
#             library target, no tests, no stray cache variable
#   install   static and shared installed into one prefix, the prefix moved,
#             then consumed by find_package and pkg-config (both kinds)
#   abi       one ABI whatever the backend: the shared library built for each
#             backend, compared by abidiff (libabigail) with the installed
#             headers: no difference allowed (docs/abi.md)
#   musl      musl libc on x86-64 (musl-gcc), vendored cmocka, ctest
#   i386      32-bit x86 (gcc -m32), vendored cmocka, ctest
#   aarch64   64-bit ARM (aarch64-linux-gnu-gcc), ctest under qemu-aarch64
#   windows   mingw-w64 cross build, ctest under wine, static and shared
#             installed into one prefix and consumed (scripts/test-windows.sh)
#   models    spin models of the condition, lock and mutex word
#   python    the Python module (python/tests/stage.sh): clang -Werror,
#             the cmake --install route, CPython's suites on the installed
#             module, valgrind, Debian's python3, a debug CPython, ASan+UBSan
#             and TSan (the gcc stage's ctest runs the suites on every
#             backend's module too)
# Every stage runs the whole test suite of its platform: every test, every
# backend.
#
#   scripts/test.sh [--only STAGE,...] [--skip STAGE,...] [--list]
#
# SYNCPLUS_SKIP_WINDOWS=1 is --skip windows. Build trees go to build/test-*.
# Exit status: 0 only if every stage that ran passed.
set -uo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh

all_stages="format gcc tsan orders asan nocmocka parent install abi musl i386 aarch64 windows models python"
only="" skip=""
[ "${SYNCPLUS_SKIP_WINDOWS:-0}" = 1 ] && skip="windows"
while [ $# -gt 0 ]; do
  case $1 in
    --only) only=$(echo "$2" | tr , ' '); shift 2 ;;
    --skip) skip="$skip $(echo "$2" | tr , ' ')"; shift 2 ;;
    --list) echo "$all_stages"; exit 0 ;;
    *) echo "usage: $0 [--only STAGE,...] [--skip STAGE,...] [--list]" >&2
       exit 2 ;;
  esac
done
for s in $only $skip; do
  case " $all_stages " in *" $s "*) ;; *) echo "unknown stage $s" >&2; exit 2 ;; esac
done
want() {
  case " $skip " in *" $1 "*) return 1 ;; esac
  [ -z "$only" ] && return 0
  case " $only " in *" $1 "*) return 0 ;; esac
  return 1
}

sp_need build cmocka || { echo "cannot install the build dependencies" >&2; exit 1; }

jobs=${JOBS:-$(nproc 2>/dev/null || echo 2)}
passed=0 failed=0 stages_failed="" summary=""
t_start=$(date +%s)
echo "== $(date -u '+%F %T') UTC, $(nproc) CPUs, load average: $(cut -d' ' -f1-3 /proc/loadavg)"

# stage_begin NAME / stage_end NAME: a stage's counts and time.
stage_begin() {
  st_name=$1 st_p=$passed st_f=$failed st_t=$(date +%s) st_failed_before="$stages_failed"
  echo
  echo "== stage $1: $2"
}
stage_end() {
  local p=$((passed - st_p)) f=$((failed - st_f)) t=$(($(date +%s) - st_t))
  local verdict=passed
  [ "$stages_failed" != "$st_failed_before" ] || [ $f -gt 0 ] && verdict=FAILED
  echo "-- $st_name: $verdict, $p passed, $f failed, ${t}s"
  summary="$summary$(printf '%-9s %-6s %4d passed %3d failed %5ds' "$st_name" "$verdict" $p $f $t)\n"
}
fail_stage() {
  case " $stages_failed " in *" $1 "*) ;; *) stages_failed="$stages_failed $1" ;; esac
}
check_ok() { passed=$((passed + 1)); echo "   ok: $*"; }
check_fail() { failed=$((failed + 1)); echo "   FAILED: $*"; }

# ctest_counts LOG: add the counts of ctest's summary line in LOG.
ctest_counts() {
  local line p t
  line=$(grep -E "tests passed, [0-9]+ tests failed out of" "$1" | tail -n 1)
  if [ -n "$line" ]; then
    t=$(echo "$line" | sed -E 's/.*out of ([0-9]+).*/\1/')
    p=$(echo "$line" | sed -E 's/.* ([0-9]+) tests failed.*/\1/')
    passed=$((passed + t - p)); failed=$((failed + p))
  fi
}

# run_ctest STAGE DIR [CTEST-ARGS...]: run ctest in DIR, add its counts.
run_ctest() {
  local stage=$1 dir=$2 log=$2/ctest.log
  shift 2
  (cd "$dir" && ctest -j"$jobs" --output-on-failure "$@") >"$log" 2>&1
  local rc=$?
  tail -n 25 "$log" | grep -E "tests passed|Failed|\*\*\*|Timeout" || true
  ctest_counts "$log"
  [ $rc -eq 0 ] || { fail_stage "$stage"; grep -B2 -A30 -E "\*\*\*Failed|\*\*\*Timeout|\*\*\*Exception|FAILED" "$log" | head -n 120; }
  return $rc
}

# build STAGE DIR CMAKE-ARGS...: configure (source ${SRC:-.}) and build;
# record failure. ${WRAP:-} prefixes both commands (e.g. without-cmocka).
build() {
  local stage=$1 dir=$2; shift 2
  echo "   configure and build $dir"
  rm -rf "$dir"
  mkdir -p "$(dirname "$dir")"
  # shellcheck disable=SC2086
  if ! ${WRAP:-} cmake -S "${SRC:-.}" -B "$dir" "$@" >"$dir.configure.log" 2>&1; then
    grep -v "^-- " "$dir.configure.log" | tail -n 40; fail_stage "$stage"; return 1
  fi
  # shellcheck disable=SC2086
  if ! ${WRAP:-} cmake --build "$dir" -j"$jobs" >"$dir.build.log" 2>&1; then
    grep -E "error|warning" "$dir.build.log" | head -n 40
    fail_stage "$stage"; return 1
  fi
}

# uses_vendored_cmocka STAGE DIR: the configure log says the vendored cmocka
# was built, and no test program needs a shared libcmocka.
uses_vendored_cmocka() {
  local stage=$1 dir=$2 prog
  if ! grep -q "syncplus tests: vendored cmocka" "$dir.configure.log"; then
    check_fail "$stage: the vendored cmocka was not used"; fail_stage "$stage"; return 1
  fi
  prog=$(find "$dir/tests" -maxdepth 1 -name 'test_api_*' -type f | head -n 1)
  if [ -z "$prog" ] || readelf -d "$prog" | grep -q "NEEDED.*cmocka"; then
    check_fail "$stage: $prog missing or linked to a shared cmocka"; fail_stage "$stage"; return 1
  fi
  check_ok "$stage: vendored cmocka built and linked into $(basename "$prog")"
}

# is_arch STAGE DIR PATTERN: the test programs are of the expected kind.
is_arch() {
  local stage=$1 dir=$2 pattern=$3 desc
  desc=$(file -L "$dir/tests/test_api_sem" 2>/dev/null)
  if echo "$desc" | grep -qE "$pattern"; then
    check_ok "$stage: test programs are$(echo "$desc" | cut -d: -f2 | cut -d, -f1-2)"
  else
    check_fail "$stage: test programs are not /$pattern/: $desc"; fail_stage "$stage"
  fi
}

mkdir -p build

# ---- format -------------------------------------------------------------------
if want format; then
  stage_begin format "clang-format 14 over every C file; CMake presets"
  fmt=""
  for c in clang-format-14 clang-format; do
    if command -v $c >/dev/null && $c --version | grep -qE "version 14\."; then
      fmt=$c; break
    fi
  done
  if [ -z "$fmt" ]; then
    sp_need format && fmt=clang-format-14
  fi
  if [ -n "$fmt" ] && command -v $fmt >/dev/null; then
    if git rev-parse --git-dir >/dev/null 2>&1; then
      files=$(git ls-files -- '*.c' '*.h' | grep -v '^third_party/')
    else
      files=$(find . -name '*.[ch]' -not -path './third_party/*' \
              -not -path './build*' | sed 's|^\./||' | sort)
    fi
    bad=""
    n=0
    for f in $files; do
      n=$((n + 1))
      $fmt --style=file --dry-run --Werror "$f" >/dev/null 2>&1 || bad="$bad $f"
    done
    if [ -z "$bad" ]; then
      check_ok "format: $n files match .clang-format ($($fmt --version | sed 's/.*version //'))"
    else
      check_fail "format: not formatted (run $fmt -i on them):$bad"
      fail_stage format
    fi
  else
    check_fail "format: no clang-format 14"; fail_stage format
  fi
  # Presets: all parse, and `dev` configures with compile_commands.json.
  if cmake --list-presets=all >build/test-presets.log 2>&1 &&
     rm -rf build/test-presets &&
     cmake --preset dev -B build/test-presets >>build/test-presets.log 2>&1 &&
     [ -s build/test-presets/compile_commands.json ]; then
    check_ok "presets: $(cmake --list-presets 2>/dev/null | grep -c '^  "') configure presets; dev configures and exports compile_commands.json"
  else
    tail -n 20 build/test-presets.log
    check_fail "presets"; fail_stage format
  fi
  stage_end
fi

# ---- gcc, tsan, asan ----------------------------------------------------------
if want gcc; then
  stage_begin gcc "gcc, all backends, system cmocka"
  # valgrind: the instruction-count check of the fast paths (bench/icount);
  # the peers: their rows in the benches' smoke run
  sp_need valgrind peers ||
    echo "gcc: cannot install valgrind or the bench peers: bench/icount is skipped, the peers' rows too"
  build gcc build/test-gcc -DCMAKE_C_COMPILER=gcc \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSYNCPLUS_CMOCKA=system &&
    run_ctest gcc build/test-gcc
  stage_end
fi

if want tsan; then
  stage_begin tsan "ThreadSanitizer (gcc)"
  build tsan build/test-tsan -DCMAKE_C_COMPILER=gcc -DSYNCPLUS_SANITIZE=thread \
    -DSYNCPLUS_BUILD_BENCH=OFF && run_ctest tsan build/test-tsan
  stage_end
fi

if want orders; then
  stage_begin orders "memory-order mutants: each fast path's acquire/release weakened in turn, caught by TSan"
  mkdir -p build
  scripts/order-mutants.sh build/test-orders 2>&1 | tee build/test-orders.log
  [ "${PIPESTATUS[0]}" = 0 ] || fail_stage orders
  passed=$((passed + $(grep -c "^   ok: " build/test-orders.log)))
  failed=$((failed + $(grep -c "^   FAILED: " build/test-orders.log)))
  stage_end
fi

if want asan; then
  stage_begin asan "AddressSanitizer + UndefinedBehaviorSanitizer (clang)"
  build asan build/test-asan -DCMAKE_C_COMPILER=clang \
    -DSYNCPLUS_SANITIZE=address -DSYNCPLUS_BUILD_BENCH=OFF &&
    run_ctest asan build/test-asan
  stage_end
fi

# ---- a machine without libcmocka-dev ---------------------------------------------
# nocmocka_wrap: how to hide cmocka: the mount namespace when it can be made,
# else (not root, no overlayfs) CMake told to ignore the directories that
# hold it (find_path/find_library then fail as they would without it).
nocmocka_wrap() {
  local rc=0
  scripts/without-cmocka.sh true >build/test-nocmocka-probe.log 2>&1 || rc=$?
  if [ $rc = 0 ]; then
    WRAP=scripts/without-cmocka.sh
    NOCMOCKA_ARGS=()
    grep "without-cmocka:" build/test-nocmocka-probe.log | sed 's/^/   /'
  else
    WRAP=""
    local dirs
    dirs=$(dpkg -L libcmocka-dev libcmocka0 2>/dev/null |
           grep -E '/(cmocka\.h|libcmocka\.so[.0-9]*)$' | xargs -r -n1 dirname |
           sort -u | tr '\n' ';')
    NOCMOCKA_ARGS=("-DCMAKE_IGNORE_PATH=$dirs")
    echo "   no mount namespace here: cmocka hidden from CMake by CMAKE_IGNORE_PATH=$dirs"
  fi
}

if want nocmocka; then
  stage_begin nocmocka "the README's commands on a machine without libcmocka-dev"
  nocmocka_wrap
  # Exactly the README's commands (no build type, no option), from a clean
  # tree (build() removes it first).
  if build nocmocka build/test-nocmocka "${NOCMOCKA_ARGS[@]}"; then
    uses_vendored_cmocka nocmocka build/test-nocmocka
    if grep -q "^CMAKE_BUILD_TYPE:STRING=Release$" build/test-nocmocka/CMakeCache.txt &&
       grep -q "^SYNCPLUS_WERROR:BOOL=ON$" build/test-nocmocka/CMakeCache.txt; then
      check_ok "nocmocka: default build type Release, SYNCPLUS_WERROR on at top level"
    else
      check_fail "nocmocka: default build type or SYNCPLUS_WERROR wrong"; fail_stage nocmocka
    fi
    run_ctest nocmocka build/test-nocmocka
  fi
  # BUILD_TESTING=OFF (CTest's switch) builds no test and needs no cmocka.
  if build nocmocka build/test-notesting -DBUILD_TESTING=OFF \
       "${NOCMOCKA_ARGS[@]}"; then
    n=$(cd build/test-notesting && ctest -N | sed -nE 's/^Total Tests: ([0-9]+)/\1/p')
    if [ "${n:-x}" = 0 ] && ! grep -q "syncplus tests:" build/test-notesting.configure.log &&
       [ -z "$(find build/test-notesting -name 'test_api_*' -type f)" ]; then
      check_ok "nocmocka: -DBUILD_TESTING=OFF: no test built or registered, no cmocka lookup"
    else
      check_fail "nocmocka: -DBUILD_TESTING=OFF still builds or registers tests ($n)"
      fail_stage nocmocka
    fi
  fi
  WRAP=""
  stage_end
fi

# ---- a parent project -------------------------------------------------------------
if want parent; then
  stage_begin parent "a parent project: add_subdirectory and FetchContent, without cmocka"
  nocmocka_wrap
  head=$(git rev-parse HEAD 2>/dev/null || echo "")
  if [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then
    echo "   note: uncommitted changes; FetchContent uses the commit $head"
  fi
  for mode in subdirectory fetchcontent; do
    dir=build/test-parent-$mode
    extra=()
    # The FetchContent parent builds shared libraries (BUILD_SHARED_LIBS is
    # the parent's): syncplus follows it.
    [ $mode = fetchcontent ] && extra=(-DSYNCPLUS_PARENT_TAG="$head" -DBUILD_SHARED_LIBS=ON)
    if [ $mode = fetchcontent ] && [ -z "$head" ]; then
      check_fail "parent: FetchContent needs a git clone"; fail_stage parent; continue
    fi
    if SRC=tests/parent build parent $dir -DSYNCPLUS_PARENT_MODE=$mode \
         -DSYNCPLUS_PARENT_SOURCE="$PWD" "${extra[@]}" "${NOCMOCKA_ARGS[@]}"; then
      grep -E "parent: syncplus" $dir.configure.log | sed 's/^-- /   /'
      n=$(cd $dir && ctest -N | sed -nE 's/^Total Tests: ([0-9]+)/\1/p')
      if [ "$n" = 1 ]; then
        check_ok "parent ($mode): only the library target; the parent's ctest has only its own test"
      else
        check_fail "parent ($mode): the parent's ctest lists $n tests"; fail_stage parent
      fi
      run_ctest parent $dir
    else
      check_fail "parent ($mode): configure or build failed ($dir.*.log)"
    fi
  done
  WRAP=""
  stage_end
fi

# ---- install: static and shared in one prefix, moved, consumed ----------------------
if want install; then
  stage_begin install "static and shared in one prefix, moved, find_package and pkg-config"
  root=build/test-install
  rm -rf $root
  prefix=$PWD/$root/prefix
  # check_install LOG: count check-install.sh's verdicts.
  check_install() {
    grep "check-install:" "$1" | sed 's/^/   /'
    local ok bad
    ok=$(grep -c "check-install: [a-z]* via .*consumer OK" "$1")
    bad=$(grep -c "check-install: FAIL" "$1")
    passed=$((passed + ok)); failed=$((failed + bad))
  }
  ok=1
  for kind in static shared; do
    shared=OFF; [ $kind = shared ] && shared=ON
    # Configured for another prefix: `cmake --install --prefix` decides,
    # and nothing may keep the configure-time one.
    build install $root/$kind -DBUILD_SHARED_LIBS=$shared -DBUILD_TESTING=OFF \
      -DSYNCPLUS_BUILD_BENCH=OFF -DSYNCPLUS_BUILD_EXAMPLES=OFF \
      -DCMAKE_INSTALL_PREFIX=/nonexistent/configure-time-prefix &&
      cmake --install $root/$kind --prefix "$prefix" >$root/$kind.install.log 2>&1 ||
      { ok=0; check_fail "install: $kind build or install failed"; fail_stage install; }
    if [ $ok = 1 ] && [ $kind = static ]; then
      # A prefix with only the static library: syncplus::syncplus is it.
      tests/consumer/check-install.sh "$prefix" $root/consumers-static-only \
        static any >$root/static-only.log 2>&1 || fail_stage install
      check_install $root/static-only.log
    fi
  done
  if [ $ok = 1 ]; then
    # Move the prefix; consume it from there, from another working directory.
    moved=$PWD/$root/elsewhere/moved-prefix
    mkdir -p "$(dirname "$moved")"
    mv "$prefix" "$moved"
    stale=$(grep -rIl -e "$prefix" -e /nonexistent/configure-time-prefix -e "$PWD/build" "$moved" || true)
    if [ -z "$stale" ]; then
      check_ok "install: no absolute path of the build or the install prefix in any installed text file"
    else
      check_fail "install: absolute paths in $stale"; fail_stage install
    fi
    tests/consumer/check-install.sh "$moved" $root/consumers shared static any \
      >$root/consumers.log 2>&1 || fail_stage install
    check_install $root/consumers.log
    lib=$(find "$moved" -name 'libsyncplus.so.*.*' -type f | head -n 1)
    soname=$(readelf -d "$lib" | sed -nE 's/.*SONAME.*\[(.*)\]/\1/p')
    # Only the public sp_ symbols are exported.
    badsyms=$(nm -D --defined-only "$lib" | awk '$2 ~ /[TDBR]/ {print $3}' |
              grep -v '^sp_' || true)
    if [ -z "$badsyms" ] && [ -n "$soname" ]; then
      check_ok "install: $(basename "$lib") (SONAME $soname) exports only sp_ symbols"
    else
      check_fail "install: SONAME '$soname'; non-public symbols exported: $badsyms"
      fail_stage install
    fi
  fi
  stage_end
fi

# ---- abi: the same ABI for every backend ----------------------------------------------
if want abi; then
  stage_begin abi "the shared library of every backend compared by abidiff"
  if sp_need abi; then
    # The default backend first; the cache's help text lists them all.
    first="" ok=1 backends=""
    if build abi build/test-abi-default -DBUILD_SHARED_LIBS=ON \
         -DBUILD_TESTING=OFF -DSYNCPLUS_BUILD_BENCH=OFF \
         -DSYNCPLUS_BUILD_EXAMPLES=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo; then
      first=$(sed -nE 's/^SYNCPLUS_BACKEND:STRING=(.*)/\1/p' build/test-abi-default/CMakeCache.txt)
      backends=$(sed -nE 's/^\/\/Backend of the library: one of (.*)/\1/p' build/test-abi-default/CMakeCache.txt | tr ';' ' ')
      rm -rf build/test-abi-$first
      mv build/test-abi-default build/test-abi-$first
    else
      ok=0
    fi
    echo "   backends: $backends (default $first)"
    for be in $backends; do
      [ $ok = 1 ] || break
      [ "$be" = "$first" ] && continue
      build abi build/test-abi-$be -DBUILD_SHARED_LIBS=ON -DBUILD_TESTING=OFF \
        -DSYNCPLUS_BUILD_BENCH=OFF -DSYNCPLUS_BUILD_EXAMPLES=OFF \
        -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSYNCPLUS_BACKEND=$be || ok=0
    done
    [ -n "$backends" ] && [ "$backends" != "$first" ] || ok=0
    if [ $ok = 1 ]; then
      for be in $backends; do
        [ "$be" = "$first" ] && continue
        a=build/test-abi-$first/libsyncplus.so b=build/test-abi-$be/libsyncplus.so
        if abidiff --headers-dir1 include --headers-dir2 include \
             --hd1 build/test-abi-$first/gen/include \
             --hd2 build/test-abi-$be/gen/include "$a" "$b" \
             >build/test-abi-$be.abidiff 2>&1; then
          check_ok "abi: $first and $be libraries have the same ABI (abidiff: $(grep -c . build/test-abi-$be.abidiff) lines, no change)"
        else
          head -n 40 build/test-abi-$be.abidiff | sed 's/^/   /'
          check_fail "abi: the $first and $be libraries differ (build/test-abi-$be.abidiff)"
          fail_stage abi
        fi
      done
    else
      check_fail "abi: build failed"
    fi
  else
    check_fail "abi: cannot install abigail-tools"; fail_stage abi
  fi
  stage_end
fi

# ---- other platforms: musl, i386, aarch64 -----------------------------------------
if want musl; then
  stage_begin musl "musl libc on x86-64 (musl-gcc), vendored cmocka"
  if sp_need musl; then
    build musl build/test-musl \
      -DCMAKE_TOOLCHAIN_FILE="$PWD/cmake/musl-x86_64.toolchain.cmake" && {
      is_arch musl build/test-musl "ld-musl-x86_64|statically linked"
      uses_vendored_cmocka musl build/test-musl
      run_ctest musl build/test-musl
    }
  else
    check_fail "musl: cannot install musl-tools"; fail_stage musl
  fi
  stage_end
fi

# i386_atomic64_check: every 64-bit atomic of the library is on an 8-byte
# aligned field. The i386 ABI aligns int64_t/uint64_t struct members to 4
# bytes; an atomic access to one (gcc: x87 fild/fistp or SSE movq) is atomic
# only when it does not cross a cache line, so a statistic or a word can
# tear. gcc says nothing; clang makes such an access a libatomic call and
# warns (-Watomic-alignment). So the library of both backends is built with
# clang -m32, those warnings kept as warnings, and each file that has one
# fails the check. atomic64_pending lists files whose fix is written but
# waits for their owner (empty now: src/gil.c's statistics were the last);
# such a file is reported, not failed, and a listed file that has become
# clean fails the check until it is taken off the list.
atomic64_pending=""
i386_atomic64_check() {
  local dir=build/test-i386-clang log f bad="" flagged
  log=$dir.build.log
  rm -rf "$dir"
  if ! CFLAGS=-Wno-error=atomic-alignment cmake -S . -B "$dir" \
       -DCMAKE_TOOLCHAIN_FILE="$PWD/cmake/i386-linux.toolchain.cmake" \
       -DCMAKE_C_COMPILER=clang -DSYNCPLUS_BUILD_BENCH=OFF \
       >"$dir.configure.log" 2>&1 ||
     ! cmake --build "$dir" -j"$jobs" --target syncplus_be_sem syncplus_be_pthread \
       >"$log" 2>&1; then
    grep -E "error" "$log" "$dir.configure.log" | head -n 20
    check_fail "i386: the library does not build with clang -m32"; fail_stage i386
    return 1
  fi
  flagged=$(grep -E "warning: .*\[-Watomic-alignment\]" "$log" |
            sed -E "s|^$PWD/||; s|:[0-9]+:[0-9]+:.*||" | sort -u)
  for f in $flagged; do
    case " $atomic64_pending " in
      *" $f "*) echo "   pending: $f: 64-bit atomics on 4-byte aligned fields (fix written, not applied)" ;;
      *) bad="$bad $f" ;;
    esac
  done
  for f in $atomic64_pending; do
    echo "$flagged" | grep -qx "$f" ||
      bad="$bad $f(clean now: take it off atomic64_pending)"
  done
  if [ -n "$bad" ]; then
    for f in $bad; do
      grep -F "$f:" "$log" | grep -F "[-Watomic-alignment]" | head -n 5
    done
    check_fail "i386: 64-bit atomics on 4-byte aligned fields:$bad"; fail_stage i386
  else
    check_ok "i386: clang -m32 builds the library; every 64-bit atomic is 8-byte aligned${atomic64_pending:+ (but in the pending$(printf ' %s' $atomic64_pending))}"
  fi
}

if want i386; then
  stage_begin i386 "32-bit x86 (gcc -m32), vendored cmocka"
  if sp_need i386; then
    build i386 build/test-i386 \
      -DCMAKE_TOOLCHAIN_FILE="$PWD/cmake/i386-linux.toolchain.cmake" && {
      is_arch i386 build/test-i386 "ELF 32-bit.*Intel 80386"
      uses_vendored_cmocka i386 build/test-i386
      run_ctest i386 build/test-i386
    }
    i386_atomic64_check
  else
    check_fail "i386: cannot install libc6-dev-i386 lib32gcc-dev"; fail_stage i386
  fi
  stage_end
fi

if want aarch64; then
  stage_begin aarch64 "64-bit ARM (aarch64-linux-gnu-gcc), ctest under qemu-aarch64"
  if sp_need aarch64; then
    # qemu-user translates every instruction: 8x the timeouts (as wine's 4x).
    build aarch64 build/test-aarch64 \
      -DCMAKE_TOOLCHAIN_FILE="$PWD/cmake/aarch64-linux-gnu.toolchain.cmake" \
      -DSYNCPLUS_TEST_TIMEOUT_MULTIPLIER=8 && {
      is_arch aarch64 build/test-aarch64 "ELF 64-bit.*ARM aarch64"
      uses_vendored_cmocka aarch64 build/test-aarch64
      if grep -q "^CMAKE_CROSSCOMPILING_EMULATOR:.*qemu-aarch64" build/test-aarch64/CMakeCache.txt ||
         grep -q "qemu-aarch64" build/test-aarch64/CTestTestfile.cmake build/test-aarch64/tests/CTestTestfile.cmake 2>/dev/null; then
        check_ok "aarch64: ctest runs the programs under qemu-aarch64"
      else
        check_fail "aarch64: no qemu-aarch64 emulator"; fail_stage aarch64
      fi
      run_ctest aarch64 build/test-aarch64
    }
  else
    check_fail "aarch64: cannot install the cross compiler or qemu-user"; fail_stage aarch64
  fi
  stage_end
fi

# ---- Windows ------------------------------------------------------------------------
if want windows && [ -x scripts/test-windows.sh ]; then
  stage_begin windows "mingw-w64 cross build, ctest under wine, install and consume"
  if BUILD_DIR=$PWD/build/test-windows JOBS=$jobs scripts/test-windows.sh \
       >build/test-windows.log 2>&1; then
    ok=1
  else
    ok=0
  fi
  tail -n 40 build/test-windows.log | grep -E "tests passed|Failed|\*\*\*|Timeout" || true
  ctest_counts build/test-windows.log
  grep "check-install:" build/test-windows.log | sed 's/^/   /'
  passed=$((passed + $(grep -c "check-install: [a-z]* via .*consumer OK" build/test-windows.log)))
  failed=$((failed + $(grep -c "check-install: FAIL" build/test-windows.log)))
  if [ $ok = 0 ]; then
    fail_stage windows
    grep -v "check-install:" build/test-windows.log | tail -n 80
  fi
  stage_end
fi

# Model checking of the hard algorithms with spin (models/, issue 11;
# scripts/model-check.sh installs spin if missing).
if want models; then
  stage_begin models "spin models of the condition, lock and mutex word"
  if bash scripts/model-check.sh; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1)); fail_stage models
  fi
  stage_end
fi

# ---- python: the Python module (python/, issue 17; python/tests/stage.sh).
# Self-contained block, owned by the "python" helper.
if want python; then
  stage_begin python "the Python module: install route, CPython's suites, valgrind, debug CPython, sanitizers"
  python/tests/stage.sh build/test-python >build/test-python.log 2>&1
  rc=$?
  grep -E "^  (ok|FAILED|skipped):" build/test-python.log | sed 's/^  /   /'
  line=$(grep -E "^python stage: " build/test-python.log | tail -n 1)
  p=$(echo "$line" | sed -nE 's/.*: ([0-9]+) passed.*/\1/p')
  f=$(echo "$line" | sed -nE 's/.* ([0-9]+) failed.*/\1/p')
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-1}))
  [ $rc = 0 ] || { fail_stage python; tail -n 60 build/test-python.log; }
  stage_end
fi

echo
echo "== summary ($(nproc) CPUs, load average now $(cut -d' ' -f1-3 /proc/loadavg))"
printf "%b" "$summary"
echo "== done in $(( $(date +%s) - t_start )) s"
[ -z "$stages_failed" ] || echo "failed stages:$stages_failed"
echo "suite: $passed passed, $failed failed"
[ -z "$stages_failed" ] && [ "$failed" = 0 ]
