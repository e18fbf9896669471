#!/usr/bin/env bash
# Memory-order mutants: evidence that the test suite checks the memory
# orders of the fast paths against the C11 model, on an x86-64 machine.
#
# x86's TSO hardware (and qemu-user, which runs aarch64 code on it) forgives
# a missing acquire or release that ARM or POWER would not. ThreadSanitizer
# does not: it tracks the C11 happens-before relation of every atomic by its
# order, whatever the hardware, so a too-weak order is a data race report on
# the plain data the order should have published. This script builds the
# library ("sem" backend) with TSan, then, one mutant at a time, weakens one
# order of the library (an acquire or a release made relaxed, a TSan
# annotation removed) in a copy of the file, rebuilds, and runs the test
# that should catch it (tests/test_orders.c: message passing through every
# primitive's hand-over; tests/test_platform.c: the per-waiter semaphores'
# ping-pong). Each mutant must be caught (a TSan report, exit status 66, or
# a failed assertion); the unmutated build must pass clean. A mutant that
# survives means a weak order the suite would not see: the script fails.
#
#   scripts/order-mutants.sh [BUILD-DIR]     (default build/order-mutants)
#
# Mutations are made by redefining an atomics macro of src/internal.h for one
# file (its copy sees a mutated copy of internal.h) or by an exact string
# replacement; a mutation that no longer matches the source fails the
# script, so it cannot rot silently when the code changes.
set -uo pipefail
cd "$(dirname "$0")/.."
out=${1:-build/order-mutants}
CC=${CC:-gcc}
jobs=${JOBS:-2}
rm -rf "$out"
mkdir -p "$out/obj" "$out/gen/syncplus"
cat >"$out/gen/syncplus/version.h" <<'EOF'
#define SP_VERSION_MAJOR 0
#define SP_VERSION_MINOR 0
#define SP_VERSION_PATCH 0
#define SP_VERSION_STRING "0.0.0"
#define SP_VERSION_NUMBER 0
EOF
cflags="-std=c11 -O1 -g -fsanitize=thread -D_GNU_SOURCE -Wall -Wextra -Werror"
libdefs="-DSP_BUILDING_LIBRARY_ -DSP_BACKEND_NAME_=\"sem\""
incs="-Iinclude -I$out/gen -Isrc -Isrc/unix"
# The "sem" backend's sources: every portable src/*.c but the native
# condition, and the POSIX platform layer (a file added to src/ is taken in).
libsrc="$(ls src/*.c | grep -v -x src/cond_native.c | tr '\n' ' ')src/unix/platform.c"
export TSAN_OPTIONS="halt_on_error=1 exitcode=66 report_signal_unsafe=0"
export SP_STRESS_SECONDS=${SP_STRESS_SECONDS:-2}

# compile SRC OBJ [EXTRA-FLAGS...]
compile() {
  local src=$1 obj=$2; shift 2
  # shellcheck disable=SC2086
  $CC $cflags $libdefs "$@" $incs -c "$src" -o "$obj" 2>"$obj.log" ||
    { cat "$obj.log"; return 1; }
}
export -f compile
export CC cflags libdefs incs

echo "   building the library and the tests with ThreadSanitizer ($CC)"
for s in $libsrc tests/helpers.c tests/test_orders.c tests/test_platform.c; do
  echo "$s $out/obj/$(echo "$s" | tr / _).o"
done | xargs -P "$jobs" -n 2 bash -c 'compile "$0" "$1"' || {
  echo "   FAILED: the unmutated build"; exit 1; }
libobjs() { # the library's objects, with $1's object replaced by $2
  for s in $libsrc; do
    if [ "$s" = "${1:-}" ]; then echo "$2"; else echo "$out/obj/$(echo "$s" | tr / _).o"; fi
  done
}
# link PROG TEST-OBJ LIB-OBJS...
link() {
  local prog=$1 tobj=$2; shift 2
  $CC -fsanitize=thread -o "$prog" "$tobj" "$out/obj/tests_helpers.c.o" "$@" \
    -lcmocka -lpthread 2>"$prog.log" || { cat "$prog.log"; return 1; }
}
# run PROG: 0 clean, 66 TSan report, else a failed test.
run() {
  timeout 300 "$1" >"$1.out" 2>&1
}

fails=0
for t in orders platform; do
  link "$out/base_$t" "$out/obj/tests_test_$t.c.o" $(libobjs) || exit 1
  if run "$out/base_$t"; then
    echo "   ok: unmutated: test_$t is clean under TSan"
  else
    echo "   FAILED: unmutated: test_$t fails under TSan"; tail -n 30 "$out/base_$t.out"
    fails=$((fails + 1))
  fi
done

# mutate NAME FILE TEST MACRO-EDITS...: FILE (a library source) compiled
# against a copy of src/internal.h in which each MACRO-EDIT "old=new"
# replaces the definition's order (e.g. "sp_cas_acquire_=RELAXED": its
# success order becomes relaxed).
mutate_macro() {
  local name=$1 file=$2 test=$3; shift 3
  local dir=$out/m-$name
  mkdir -p "$dir"
  cp "$file" "$dir/"
  python3 - "$dir/internal.h" "$@" <<'EOF' || return 1
import re, sys
dst, edits = sys.argv[1], sys.argv[2:]
s = open("src/internal.h").read()
for e in edits:
    macro, order = e.split("=")
    # the macro's #define, up to the end of its (possibly continued) line
    m = re.search(r"#define %s\((?:[^\n]*\\\n)*[^\n]*" % re.escape(macro), s)
    if not m:
        sys.exit("mutant: no #define %s in src/internal.h" % macro)
    d = m.group(0)
    new = re.sub(r"__ATOMIC_(ACQUIRE|RELEASE|ACQ_REL|SEQ_CST)",
                 "__ATOMIC_" + order, d, count=1)
    if new == d:
        sys.exit("mutant: %s has no order to weaken" % macro)
    s = s.replace(d, new)
open(dst, "w").write(s)
EOF
  local obj=$dir/$(basename "$file").o
  compile "$dir/$(basename "$file")" "$obj" -I"$dir" || return 1
  link "$dir/test" "$out/obj/tests_test_$test.c.o" $(libobjs "$file" "$obj")
}

# mutate_text NAME HEADER TEST "old" "new": an exact replacement in a copy
# of a platform header that the test includes (the test is recompiled).
mutate_text() {
  local name=$1 header=$2 test=$3 old=$4 new=$5
  local dir=$out/m-$name
  mkdir -p "$dir"
  python3 - "$header" "$dir/$(basename "$header")" "$old" "$new" <<'EOF' || return 1
import sys
src, dst, old, new = sys.argv[1:5]
s = open(src).read()
if old not in s:
    sys.exit("mutant: %r not found in %s" % (old, src))
open(dst, "w").write(s.replace(old, new))
EOF
  # shellcheck disable=SC2086
  $CC $cflags -I"$dir" $incs -c "tests/test_$test.c" -o "$dir/test.o" 2>"$dir/test.o.log" ||
    { cat "$dir/test.o.log"; return 1; }
  link "$dir/test" "$dir/test.o" $(libobjs)
}

# check NAME WHAT: run the mutant's test; it must fail.
check() {
  local name=$1 what=$2 dir=$out/m-$1 rc=0
  run "$dir/test" || rc=$?
  if [ $rc = 66 ]; then
    echo "   ok: caught by $(grep "RUN" "$dir/test.out" | tail -n 1 | awk '{print $NF}'), TSan: $(grep -m1 SUMMARY "$dir/test.out" | sed -E "s|.*: ||; s|$out/m-[^/]*/|src/|"): $what"
  elif [ $rc != 0 ]; then
    echo "   ok: caught (the test failed, status $rc): $what"
  else
    echo "   FAILED: survived: $what"; fails=$((fails + 1))
  fi
}

m() { # NAME WHAT BUILD-COMMAND...
  local name=$1 what=$2; shift 2
  if "$@"; then check "$name" "$what"; else
    echo "   FAILED: mutant $name does not apply: $what"; fails=$((fails + 1)); fi
}

m mutex-acquire "sp_mutex_t: lock's acquiring CAS and fetch-or made relaxed (src/mutex.c)" \
  mutate_macro mutex-acquire src/mutex.c orders sp_cas_acquire_=RELAXED sp_fetch_or_acquire_=RELAXED
m mutex-release "sp_mutex_t: unlock's releasing CAS and exchange made relaxed (src/mutex.c)" \
  mutate_macro mutex-release src/mutex.c orders sp_cas_release_=RELAXED sp_xchg_release_=RELAXED
m lock-acquire "sp_lock_t: acquire's CAS and exchange made relaxed (src/lock.c)" \
  mutate_macro lock-acquire src/lock.c orders sp_cas_acquire_=RELAXED sp_xchg_acq_rel_=RELAXED
m lock-release "sp_lock_t: release's exchange made relaxed (src/lock.c)" \
  mutate_macro lock-release src/lock.c orders sp_xchg_release_=RELAXED
m rlock-acquire "sp_rlock_t: the fast acquiring CAS made relaxed (src/rlock.c)" \
  mutate_macro rlock-acquire src/rlock.c orders sp_cas_acquire_=RELAXED
m rlock-release "sp_rlock_t: the fast releasing CAS made relaxed (src/rlock.c)" \
  mutate_macro rlock-release src/rlock.c orders sp_cas_release_=RELAXED
m event-set "sp_event_t: the flag's release store made relaxed (src/event.c)" \
  mutate_macro event-set src/event.c orders sp_store_release_=RELAXED
m event-is-set "sp_event_t: the fast path's acquire load made relaxed (src/event.c)" \
  mutate_macro event-is-set src/event.c orders sp_load_acquire_=RELAXED
m cond-bind "sp_cond_t: the mutex binding's CAS and unbinding store made relaxed (src/cond.c)" \
  mutate_macro cond-bind src/cond.c orders sp_cas_acquire_=RELAXED sp_store_release_=RELAXED
m wsema-v "wait-on-address semaphore: V's release fetch-add made relaxed" \
  mutate_text wsema-v src/unix/platform_impl.h platform \
  "__atomic_fetch_add(&s->word, 1u, __ATOMIC_RELEASE)" \
  "__atomic_fetch_add(&s->word, 1u, __ATOMIC_RELAXED)"
m wsema-p "wait-on-address semaphore: P's acquiring CAS made relaxed" \
  mutate_text wsema-p src/unix/platform_impl.h platform \
  "__ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
        return SP_OK;" \
  "__ATOMIC_RELAXED, __ATOMIC_RELAXED))
        return SP_OK;"
m sem-tsan "sem_t: the TSan annotations of sem_post/sem_clockwait removed" \
  mutate_text sem-tsan src/unix/platform_impl.h platform \
  "#define SP_TSAN_ACQUIRE_(p) __tsan_acquire(p)" \
  "#define SP_TSAN_ACQUIRE_(p) ((void)(p))"

if [ $fails -gt 0 ]; then
  echo "   $fails FAILED"
  exit 1
fi
