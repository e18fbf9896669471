/* Probe for the assumption behind mutex.pml -DABSORB: can WaitOnAddress
 * report a timeout (FALSE, ERROR_TIMEOUT) although WakeByAddressSingle
 * picked the waiter? If it can, that wake-up is "absorbed": no other
 * sleeper gets it (models/README.md, finding 2).
 *
 * Thread B waits on `word` with a 1 ms timeout while main calls
 * WakeByAddressSingle once at about that time. Under Wine the wake-up is an
 * alert on B's thread id, which stays pending if B had already timed out
 * after the waker took it off the queue: B's next wait (30 ms, word
 * unchanged) then returns TRUE at once. A timed-out first wait followed by
 * such an immediate second one counts as absorbed. With NOWAKE set in the
 * environment, main never wakes (the control: it must count 0).
 *
 * Build and run (not part of CI: it is timing-based):
 *   x86_64-w64-mingw32-gcc -O2 -o woa.exe \
 *     models/probes/wait_on_address_absorb.c -lsynchronization
 *   wine woa.exe 1500; NOWAKE=1 wine woa.exe 600
 * A round takes a few ms to 30 ms. Seen with Wine 8.0 (Debian 12): 1 to 3
 * absorbed in 300 to 1500 rounds; the control counts 0. */
#define _WIN32_WINNT 0x0602
#include <windows.h>

#include <stdio.h>
#include <stdlib.h>

static volatile LONG word = 1;
static volatile LONG go, done;
static BOOL first_ok, second_ok;
static DWORD first_error;
static double second_ms;
static LARGE_INTEGER freq;

static double now_ms(void) {
  LARGE_INTEGER c;
  QueryPerformanceCounter(&c);
  return (double)c.QuadPart * 1000.0 / (double)freq.QuadPart;
}

static DWORD WINAPI waiter(void *arg) {
  LONG one = 1;
  (void)arg;
  for (;;) {
    while (!go)
      YieldProcessor();
    go = 0;
    first_ok = WaitOnAddress(&word, &one, sizeof one, 1);
    first_error = first_ok ? 0 : GetLastError();
    while (done != 1)
      YieldProcessor();
    double t = now_ms();
    second_ok = WaitOnAddress(&word, &one, sizeof one, 30);
    second_ms = now_ms() - t;
    done = 2;
  }
  return 0;
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 1500;
  int absorbed = 0, timeouts = 0, woken = 0;
  QueryPerformanceFrequency(&freq);
  if (CreateThread(NULL, 0, waiter, NULL, 0, NULL) == NULL)
    return 2;
  for (int i = 0; i < n; i++) {
    done = 0;
    go = 1;
    while (go)
      YieldProcessor();
    double t0 = now_ms(), delay = 0.6 + (i % 20) * 0.05;
    while (now_ms() - t0 < delay)
      YieldProcessor();
    if (!getenv("NOWAKE"))
      WakeByAddressSingle((void *)&word);
    Sleep(3);
    done = 1;
    while (done != 2)
      Sleep(0);
    if (first_ok) {
      woken++;
    } else {
      timeouts++;
      if (first_error == ERROR_TIMEOUT && second_ok && second_ms < 5)
        absorbed++;
    }
  }
  printf("rounds %d woken %d timed-out %d absorbed %d\n", n, woken, timeouts,
         absorbed);
  return 0;
}
