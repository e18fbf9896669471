#!/bin/sh
# Consume an installed libsyncplus as users would, from wherever the prefix
# now is, and check that each program links the library it asked for.
#
#   tests/consumer/check-install.sh PREFIX OUTDIR [KIND...]
#
# KIND is shared, static or any (default: shared static). For each kind:
#   cmake:      tests/consumer with find_package(syncplus COMPONENTS KIND)
#   pkg-config: main.c built with `pkg-config --cflags --libs syncplus`
#               (shared) or `syncplus-static` (static), pkg-config seeing
#               only PREFIX's .pc files
# (any: find_package(syncplus) without components, whose syncplus::syncplus
# must be the shared library if the prefix has one, else the static one),
# and then: a static program must contain the library (sp_version defined,
# no libsyncplus among its needed libraries), a shared one must load
# libsyncplus from PREFIX; each runs and must print "consumer OK".
# Every line of output that matters starts with "check-install:".
#
# Environment (for cross builds; defaults for a native build):
#   CC            compiler for the pkg-config builds (cc)
#   CMAKE_ARGS    extra cmake arguments, e.g. -DCMAKE_TOOLCHAIN_FILE=...
#   RUNNER        runs a program (e.g. wine); empty: run it directly
#   EXE           program suffix (.exe for Windows)
#   CFLAGS        extra flags for the pkg-config builds
set -u
here=$(cd "$(dirname "$0")" && pwd)
prefix=$(cd "$1" && pwd) out=$2
shift 2
kinds=${*:-shared static}
CC=${CC:-cc} RUNNER=${RUNNER:-} EXE=${EXE:-} CMAKE_ARGS=${CMAKE_ARGS:-}
mkdir -p "$out"
out=$(cd "$out" && pwd)
fail=0

say() { echo "check-install: $*"; }
bad() { say "FAIL: $*"; fail=1; }

# A Windows build (mingw-w64): programs find the DLL in the prefix's bin/.
windows=0
case "$CC" in *mingw*) windows=1 ;; esac
[ $windows = 1 ] && export WINEPATH="$prefix/bin"
# A cross build's find_package searches only below CMAKE_FIND_ROOT_PATH (the
# toolchain files append theirs to this one).
cross_args=""
[ -n "$CMAKE_ARGS" ] && cross_args="-DCMAKE_FIND_ROOT_PATH=$prefix"

# check_links KIND PROGRAM: the program uses the kind of library it asked for.
check_links() {
  l_kind=$1 l_prog=$2
  if [ $windows = 1 ]; then
    imports=$(x86_64-w64-mingw32-objdump -p "$l_prog" | grep "DLL Name" || true)
    case "$l_kind:$imports" in
      shared:*libsyncplus*) ;;
      static:*libsyncplus*) bad "$l_prog imports libsyncplus" ;;
      static:*) ;;
      *) bad "$l_prog does not import libsyncplus.dll" ;;
    esac
    return
  fi
  needed=$(readelf -d "$l_prog" | grep NEEDED || true)
  case "$l_kind:$needed" in
    static:*libsyncplus*) bad "$l_prog needs libsyncplus: $needed" ;;
    static:*)
      nm "$l_prog" | grep -q " T sp_version$" ||
        bad "$l_prog lacks sp_version" ;;
    shared:*libsyncplus.so*)
      # Which file the loader picks (ldd only understands native programs).
      if [ -z "$RUNNER" ]; then
        where=$(ldd "$l_prog" | awk '/libsyncplus/ {print $3}')
        case "$where" in
          "$prefix"/*) ;;
          *) bad "$l_prog loads libsyncplus from '$where', not $prefix" ;;
        esac
      fi ;;
    *) bad "$l_prog does not need libsyncplus.so: $needed" ;;
  esac
}

# run KIND HOW PROGRAM
run() {
  r_kind=$1 r_how=$2 r_prog=$3
  check_links "$r_kind" "$r_prog"
  # Output to a file, not a pipe: a program started under wine may leave
  # wine's background services holding a pipe open long after it exits.
  r_log=$r_prog.out
  if (cd / && $RUNNER "$r_prog" >"$r_log" 2>&1 </dev/null) &&
     grep -q "consumer OK" "$r_log"; then
    o=$(cat "$r_log")
    say "$r_kind via $r_how: $o"
  else
    bad "$r_kind via $r_how: $r_prog failed: $(cat "$r_log")"
  fi
}

for kind in $kinds; do
  # ---- CMake: find_package ----
  b=$out/cmake-$kind
  rm -rf "$b"
  expect=$kind
  if [ "$kind" = any ]; then
    expect=static
    [ -n "$(find "$prefix" -name syncplus-shared-targets.cmake)" ] &&
      expect=shared
  fi
  # shellcheck disable=SC2086
  if cmake -S "$here" -B "$b" -DCMAKE_PREFIX_PATH="$prefix" \
       -DSYNCPLUS_CONSUMER_KIND=$kind $CMAKE_ARGS $cross_args >"$b.log" 2>&1 &&
     cmake --build "$b" >>"$b.log" 2>&1; then
    how=find_package; [ "$kind" = any ] && how="find_package (no components)"
    run "$expect" "$how" "$b/consumer$EXE"
  else
    tail -n 30 "$b.log"; bad "$kind via find_package: configure/build failed"
  fi

  # ---- pkg-config ----
  [ "$kind" = any ] && continue
  pc=syncplus; [ "$kind" = static ] && pc=syncplus-static
  pcdir=$(dirname "$(find "$prefix" -name "$pc.pc" | head -n 1)")
  if [ ! -f "$pcdir/$pc.pc" ]; then
    bad "no $pc.pc under $prefix"; continue
  fi
  # Only this prefix's .pc files, none of the system's.
  export PKG_CONFIG_LIBDIR="$pcdir" PKG_CONFIG_PATH=
  cflags=$(pkg-config --cflags "$pc") && libs=$(pkg-config --libs "$pc") ||
    { bad "pkg-config $pc failed"; continue; }
  say "$pc.pc: cflags '$cflags', libs '$libs'"
  rpath=""
  if [ "$kind" = shared ] && [ $windows = 0 ]; then
    rpath="-Wl,-rpath,$(pkg-config --variable=libdir "$pc")"
  fi
  def=0; [ "$kind" = shared ] && def=1
  prog=$out/pc-$kind$EXE
  # shellcheck disable=SC2086
  if $CC -std=c11 -Wall -Wextra -Werror ${CFLAGS:-} $cflags \
       -DSYNCPLUS_CONSUMER_EXPECT_SHARED=$def "$here/main.c" -o "$prog" \
       $libs $rpath >"$out/pc-$kind.log" 2>&1; then
    run "$kind" pkg-config "$prog"
  else
    cat "$out/pc-$kind.log"; bad "$kind via pkg-config: build failed"
  fi
  unset PKG_CONFIG_LIBDIR PKG_CONFIG_PATH
done
exit $fail
