#!/usr/bin/env bash
# Cross-build libsyncplus for 64-bit Windows with mingw-w64 and run the whole
# test suite (backends win32 and win32-sem) under wine; then install the
# static and the shared library into one prefix and consume both (CMake and
# pkg-config) under wine. See docs/windows.md.
#
#   scripts/test-windows.sh [extra ctest arguments, e.g. -R cond]
#
# Environment:
#   BUILD_DIR     build directory (default: <repo>/build-win)
#   JOBS          parallel build jobs (default: nproc)
#   TIMEOUT_MULT  SYNCPLUS_TEST_TIMEOUT_MULTIPLIER (default: 4; wine is slower)
#   BUILD_BENCH   SYNCPLUS_BUILD_BENCH (default: ON)
#   KEEP_PREFIX=1 reuse the wine prefix of a previous run (default: a fresh
#                 one, BUILD_DIR/wineprefix, initialised with wineboot)
#   CHECK_INSTALL=0 skip the install-and-consume step
#
# Installs mingw-w64, wine, wine64 and pkg-config (scripts/deps.sh,
# apt-get install -y) when missing.
# Exits nonzero when the build or any test fails.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build-win}
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}
TIMEOUT_MULT=${TIMEOUT_MULT:-4}
T0=$(date +%s)

say() { printf '[test-windows] %s\n' "$*"; }
elapsed() { echo "$(($(date +%s) - T0)) s"; }
# Run a command with its output in a log file; show the log's tail on error.
quiet() {
  local log=$1
  shift
  if ! "$@" >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    say "FAILED: $* (full log: $log)"
    exit 1
  fi
}

find_wine() {
  local w
  for w in wine64 /usr/lib/wine/wine64 /usr/lib64/wine/wine64 wine; do
    if command -v "$w" >/dev/null 2>&1; then
      command -v "$w"
      return 0
    fi
  done
  return 1
}

# ---- tools ----------------------------------------------------------------
# shellcheck source=deps.sh
. "$ROOT/scripts/deps.sh"
if ! sp_need windows || ! sp_need_packages cmake pkg-config; then
  say "FAILED: cannot install mingw-w64, wine, cmake or pkg-config"
  exit 1
fi
WINE=$(find_wine)
WINESERVER=$(command -v wineserver || echo "$(dirname "$WINE")/wineserver")

# ---- build ----------------------------------------------------------------
mkdir -p "$BUILD_DIR"
say "configuring and building in $BUILD_DIR"
quiet "$BUILD_DIR/configure.log" cmake -S "$ROOT" -B "$BUILD_DIR" \
  -DCMAKE_TOOLCHAIN_FILE="$ROOT/cmake/mingw-w64-x86_64.cmake" \
  -DSYNCPLUS_TEST_TIMEOUT_MULTIPLIER="$TIMEOUT_MULT" \
  -DSYNCPLUS_BUILD_BENCH="${BUILD_BENCH:-ON}"
quiet "$BUILD_DIR/build.log" cmake --build "$BUILD_DIR" -j "$JOBS"
say "built ($(elapsed))"

# ---- wine prefix ----------------------------------------------------------
# A private 64-bit prefix: nothing from ~/.wine leaks into the results, and
# no Mono/Gecko installer runs (console programs need neither).
export WINEPREFIX=$BUILD_DIR/wineprefix WINEARCH=win64 WINEDEBUG=-all
export WINEDLLOVERRIDES="mscoree,mshtml="
if [ "${KEEP_PREFIX:-0}" != 1 ]; then
  rm -rf "$WINEPREFIX"
fi
# One persistent wineserver for the whole run, stopped on exit (-k stops only
# this prefix's server). wineboot starts wine's background services under it
# with their output in wineboot.log. Otherwise each test program would start
# them itself, they would hold ctest's output pipe open, and every test
# would last until the server exits (3 s after the program, or never with a
# persistent server).
mkdir -p "$WINEPREFIX"
"$WINESERVER" -p
trap '"$WINESERVER" -k >/dev/null 2>&1 || true' EXIT
say "initialising wine prefix $WINEPREFIX"
quiet "$BUILD_DIR/wineboot.log" "$WINE" wineboot --init </dev/null
say "wine prefix ready ($(elapsed))"

# ---- tests ----------------------------------------------------------------
say "running the tests under $WINE"
rc=0
(cd "$BUILD_DIR" && ctest --output-on-failure "$@") || rc=$?
say "tests done ($(elapsed)), ctest exit code $rc"

# ---- install and consume ----------------------------------------------------
# The test build's library is static (BUILD_SHARED_LIBS defaults to OFF);
# a second, library-only build makes the DLL. Both go into one prefix,
# which tests/consumer/check-install.sh consumes with find_package and
# pkg-config through the mingw-w64 compiler, running the programs under
# wine: a static program must not import libsyncplus.dll (no __imp_
# references: the headers must not say dllimport without SP_USING_SHARED),
# a shared one must.
if [ "${CHECK_INSTALL:-1}" = 1 ]; then
  prefix=$BUILD_DIR/install/prefix
  rm -rf "$BUILD_DIR/install"
  quiet "$BUILD_DIR/install-static.log" \
    cmake --install "$BUILD_DIR" --prefix "$prefix"
  quiet "$BUILD_DIR/shared-configure.log" cmake -S "$ROOT" \
    -B "$BUILD_DIR/install/shared-build" \
    -DCMAKE_TOOLCHAIN_FILE="$ROOT/cmake/mingw-w64-x86_64.cmake" \
    -DBUILD_SHARED_LIBS=ON -DBUILD_TESTING=OFF -DSYNCPLUS_BUILD_BENCH=OFF \
    -DSYNCPLUS_BUILD_EXAMPLES=OFF
  quiet "$BUILD_DIR/shared-build.log" \
    cmake --build "$BUILD_DIR/install/shared-build" -j "$JOBS"
  quiet "$BUILD_DIR/install-shared.log" \
    cmake --install "$BUILD_DIR/install/shared-build" --prefix "$prefix"
  say "static and shared installed into $prefix ($(elapsed))"
  crc=0
  CC=x86_64-w64-mingw32-gcc RUNNER=$WINE EXE=.exe \
    CMAKE_ARGS="-DCMAKE_TOOLCHAIN_FILE=$ROOT/cmake/mingw-w64-x86_64.cmake" \
    CFLAGS=-static-libgcc \
    "$ROOT/tests/consumer/check-install.sh" "$prefix" \
    "$BUILD_DIR/install/consumers" shared static || crc=$?
  say "install check done ($(elapsed)), exit code $crc"
  [ $crc = 0 ] || rc=1
fi
say "done in $(elapsed), exit code $rc"
exit $rc
