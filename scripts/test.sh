#!/usr/bin/env bash
# The test suite, as CI runs it (.ci/run calls this). On a fresh Debian
# machine it installs what is missing, then runs every stage:
#   1. gcc build, every backend, ctest (incl. a smoke run of the benches)
#   2. ThreadSanitizer build (gcc), ctest
#   3. AddressSanitizer + UndefinedBehaviorSanitizer build (clang), ctest
#   4. install static and shared; build tests/consumer against each with
#      find_package(syncplus) and with pkg-config
#   5. Windows: cross-build with mingw-w64 and ctest under wine
#      (scripts/test-windows.sh; skip with SYNCPLUS_SKIP_WINDOWS=1)
#   6. model checking with spin (scripts/model-check.sh; skip with
#      SYNCPLUS_SKIP_MODELS=1)
#   7. Python module (python/tests/stage.sh): clang build, cmake --install
#      route, CPython's suites on the installed module, valgrind, Debian's
#      python3, a debug CPython, ASan+UBSan and TSan (stage 1's ctest runs
#      the suites too; skip with SYNCPLUS_SKIP_PYTHON=1)
# Build trees go to build/test-*. Exit status: 0 only if every stage passed.
set -uo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
sp_need_packages cmake make gcc clang libclang-rt-14-dev libcmocka-dev \
  pkg-config || { echo "cannot install the build dependencies" >&2; exit 1; }

jobs=$(nproc 2>/dev/null || echo 2)
passed=0 failed=0 stages_failed=""
t_start=$(date +%s)

# run_ctest STAGE DIR: run ctest in DIR, add its counts to the totals.
run_ctest() {
  local stage=$1 dir=$2 log=$2/ctest.log
  (cd "$dir" && ctest -j"$jobs" --output-on-failure) >"$log" 2>&1
  local rc=$?
  tail -n 25 "$log" | grep -E "tests passed|Failed|\*\*\*|Timeout" || true
  local line p t
  line=$(grep -E "tests passed, [0-9]+ tests failed out of" "$log" | tail -n 1)
  if [ -n "$line" ]; then
    t=$(echo "$line" | sed -E 's/.*out of ([0-9]+).*/\1/')
    p=$(echo "$line" | sed -E 's/.* ([0-9]+) tests failed.*/\1/')
    passed=$((passed + t - p)); failed=$((failed + p))
  fi
  [ $rc -eq 0 ] || { stages_failed="$stages_failed $stage"; grep -B2 -A30 -E "\*\*\*Failed|\*\*\*Timeout|FAILED" "$log" | head -n 120; }
}

# build STAGE DIR CMAKE-ARGS...: configure and build; record failure.
build() {
  local stage=$1 dir=$2; shift 2
  echo "== $stage: configure and build ($dir)"
  if ! cmake -S "${SRC:-.}" -B "$dir" "$@" >"$dir.configure.log" 2>&1; then
    cat "$dir.configure.log"; stages_failed="$stages_failed $stage"; return 1
  fi
  if ! cmake --build "$dir" -j"$jobs" >"$dir.build.log" 2>&1; then
    grep -E "error|warning" "$dir.build.log" | head -n 40
    stages_failed="$stages_failed $stage"; return 1
  fi
}

mkdir -p build
echo "== stage 1: gcc, all backends"
build gcc build/test-gcc -DCMAKE_C_COMPILER=gcc \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo && run_ctest gcc build/test-gcc

echo "== stage 2: ThreadSanitizer (gcc)"
build tsan build/test-tsan -DCMAKE_C_COMPILER=gcc -DSYNCPLUS_SANITIZE=thread \
  -DSYNCPLUS_BUILD_BENCH=OFF && run_ctest tsan build/test-tsan

echo "== stage 3: AddressSanitizer + UndefinedBehaviorSanitizer (clang)"
build asan build/test-asan -DCMAKE_C_COMPILER=clang \
  -DSYNCPLUS_SANITIZE=address -DSYNCPLUS_BUILD_BENCH=OFF &&
  run_ctest asan build/test-asan

echo "== stage 4: install (static, shared) and build consumers against it"
for kind in static shared; do
  shared=OFF; [ $kind = shared ] && shared=ON
  prefix=$PWD/build/test-install-$kind/prefix
  rm -rf "$prefix"
  if build install-$kind build/test-install-$kind -DBUILD_SHARED_LIBS=$shared \
      -DSYNCPLUS_BUILD_TESTS=OFF -DSYNCPLUS_BUILD_BENCH=OFF \
      -DCMAKE_INSTALL_PREFIX="$prefix" &&
     cmake --install build/test-install-$kind >/dev/null &&
     SRC=tests/consumer build consumer-$kind build/test-consumer-$kind \
      -DCMAKE_PREFIX_PATH="$prefix" &&
     (cd build/test-consumer-$kind && ctest --output-on-failure) \
      >build/test-consumer-$kind.log 2>&1 &&
     tests/consumer/pkgconfig.sh "$prefix" build/test-consumer-$kind; then
    if [ $kind = shared ]; then
      # Only the public sp_ symbols are exported.
      lib=$(find "$prefix" -name 'libsyncplus.so.*' | head -n 1)
      bad=$(nm -D --defined-only "$lib" | awk '$2 ~ /[TDBR]/ {print $3}' |
            grep -v '^sp_' || true)
      if [ -n "$bad" ]; then
        echo "non-public symbols exported: $bad"; failed=$((failed + 1))
        stages_failed="$stages_failed exports"
      fi
    fi
    echo "consumer-$kind: find_package and pkg-config builds passed"
    passed=$((passed + 1))
  else
    cat build/test-consumer-$kind.log 2>/dev/null | tail -n 20
    failed=$((failed + 1)); stages_failed="$stages_failed consumer-$kind"
  fi
done

if [ "${SYNCPLUS_SKIP_WINDOWS:-0}" != 1 ] && [ -x scripts/test-windows.sh ]; then
  echo "== stage 5: Windows (mingw-w64 cross-build, ctest under wine)"
  if BUILD_DIR=$PWD/build/test-windows scripts/test-windows.sh >build/test-windows.log 2>&1; then
    ok=1
  else
    ok=0
  fi
  tail -n 30 build/test-windows.log | grep -E "tests passed|Failed|\*\*\*|Timeout" || true
  line=$(grep -E "tests passed, [0-9]+ tests failed out of" build/test-windows.log | tail -n 1)
  if [ -n "$line" ]; then
    t=$(echo "$line" | sed -E 's/.*out of ([0-9]+).*/\1/')
    p=$(echo "$line" | sed -E 's/.* ([0-9]+) tests failed.*/\1/')
    passed=$((passed + t - p)); failed=$((failed + p))
  fi
  if [ $ok = 0 ]; then
    stages_failed="$stages_failed windows"; tail -n 80 build/test-windows.log
  fi
fi

# --- stage 6: model checking of the hard algorithms with spin (models/,
# issue 11; scripts/model-check.sh installs spin if missing). Skip with
# SYNCPLUS_SKIP_MODELS=1. Self-contained block, owned by the "models" helper.
if [ "${SYNCPLUS_SKIP_MODELS:-0}" != 1 ]; then
  echo "== stage 6: model checking (spin, scripts/model-check.sh)"
  if bash scripts/model-check.sh; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1)); stages_failed="$stages_failed models"
  fi
fi
# --- end of model checking ---

# --- stage 7: the Python module (python/, issue 17). Self-contained block,
# owned by the "python" helper.
if [ "${SYNCPLUS_SKIP_PYTHON:-0}" != 1 ]; then
  echo "== stage 7: Python module (python/tests/stage.sh)"
  python/tests/stage.sh build/test-python >build/test-python.log 2>&1
  rc=$?
  grep -E "^  (ok|FAILED|skipped):|^python stage:" build/test-python.log
  line=$(grep -E "^python stage: " build/test-python.log | tail -n 1)
  p=$(echo "$line" | sed -nE 's/.*: ([0-9]+) passed.*/\1/p')
  f=$(echo "$line" | sed -nE 's/.* ([0-9]+) failed.*/\1/p')
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-1}))
  [ $rc = 0 ] || { stages_failed="$stages_failed python"; tail -n 60 build/test-python.log; }
fi
# --- end of the Python module ---

echo "== done in $(( $(date +%s) - t_start )) s"
[ -z "$stages_failed" ] || echo "failed stages:$stages_failed"
echo "suite: $passed passed, $failed failed"
[ -z "$stages_failed" ] && [ "$failed" = 0 ]
