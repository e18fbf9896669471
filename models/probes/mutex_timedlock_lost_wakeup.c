/* Reproducer for models/README.md finding 2 on a real build (win32 or
 * win32-sem backend, run under Wine): a timed sp_mutex lock whose futex wait
 * absorbs the unlock's wake-up returns SP_TIMEDOUT and leaves an untimed
 * locker asleep on a free mutex (mutex.pml -DABSORB).
 *
 * Each round: main holds the mutex; T calls sp_mutex_timedlock_until with a
 * deadline 10 ms ahead and goes to sleep first; U calls sp_mutex_lock and
 * sleeps behind it; main unlocks within about a millisecond of T's deadline.
 * WakeByAddressSingle picks T (the first sleeper); if T's WaitOnAddress
 * reports a timeout all the same, T returns SP_TIMEDOUT and nobody wakes U.
 * The program then reports "LOST WAKE-UP" and exits 1 (U is still asleep 3 s
 * later although the mutex is free). Not part of CI: it is timing-based.
 *
 * Build against a mingw-w64 build of the library, run under Wine:
 *   cmake -S . -B build/win -DCMAKE_TOOLCHAIN_FILE=cmake/mingw-w64-x86_64.cmake
 * \ -DSYNCPLUS_BUILD_TESTS=OFF -DSYNCPLUS_BUILD_BENCH=OFF cmake --build
 * build/win -j2
 *   x86_64-w64-mingw32-gcc -O2 -Iinclude -Iinclude/syncplus -Ibuild/win \
 *     -o lost.exe models/probes/mutex_timedlock_lost_wakeup.c \
 *     build/win/libsyncplus.a -lsynchronization
 *   wine lost.exe 1500
 * Seen on the core branch at 8b11c05 under Wine 8.0 (Debian 12): a lost
 * wake-up within 1500 rounds in 5 of 6 runs (rounds 3 to 1185); with the fix
 * proposed in models/README.md, 2 x 1500 rounds and none. */
#define _WIN32_WINNT 0x0602
#include <windows.h>

#include <stdio.h>
#include <stdlib.h>

#include "syncplus.h"

#define D_MS 10

static sp_mutex_t m;
static volatile LONG t_rc, t_started, u_started;
static int64_t t_deadline;

static DWORD WINAPI timed_locker(void *arg) {
  (void)arg;
  t_deadline = sp_now_ns() + D_MS * SP_NS_PER_MS;
  t_started = 1;
  int rc = sp_mutex_timedlock_until(&m, t_deadline);
  if (rc == SP_OK)
    (void)sp_mutex_unlock(&m);
  t_rc = rc;
  return 0;
}

static DWORD WINAPI untimed_locker(void *arg) {
  (void)arg;
  u_started = 1;
  if (sp_mutex_lock(&m) == SP_OK)
    (void)sp_mutex_unlock(&m);
  return 0;
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 1500, timeouts = 0;
  for (int i = 0; i < n; i++) {
    if (sp_mutex_init(&m) != SP_OK || sp_mutex_lock(&m) != SP_OK)
      return 2;
    t_rc = -1;
    t_started = u_started = 0;
    HANDLE th = CreateThread(NULL, 0, timed_locker, NULL, 0, NULL);
    while (!t_started)
      Sleep(0);
    Sleep(3); /* T asleep first */
    HANDLE uh = CreateThread(NULL, 0, untimed_locker, NULL, 0, NULL);
    while (!u_started)
      Sleep(0);
    if (th == NULL || uh == NULL)
      return 2;
    /* unlock from 0.3 ms before to 1.2 ms after T's deadline */
    int64_t at = t_deadline - 300000 + (int64_t)(i % 16) * 100000;
    while (sp_now_ns() < at)
      YieldProcessor();
    (void)sp_mutex_unlock(&m);
    WaitForSingleObject(th, INFINITE);
    if (WaitForSingleObject(uh, 3000) == WAIT_TIMEOUT) {
      int tr = sp_mutex_trylock(&m);
      if (tr == SP_OK)
        (void)sp_mutex_unlock(&m);
      printf("round %d: LOST WAKE-UP: the timed lock returned %ld (%d = "
             "SP_TIMEDOUT); the untimed locker is still asleep 3 s later; "
             "trylock: %d (%d = SP_OK: the mutex is free)\n",
             i, (long)t_rc, SP_TIMEDOUT, tr, SP_OK);
      fflush(stdout);
      ExitProcess(1);
    }
    if (t_rc == SP_TIMEDOUT)
      timeouts++;
    CloseHandle(th);
    CloseHandle(uh);
    if (sp_mutex_destroy(&m) != SP_OK)
      return 3;
  }
  printf("%d rounds, %d timed out, no lost wake-up\n", n, timeouts);
  return 0;
}
