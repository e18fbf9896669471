/* How an interpreter uses sp_gil_t: a toy interpreter with two CPU-bound
 * threads and one I/O-bound thread, run once under each policy. Each thread
 * acquires the lock when it starts, calls sp_gil_yield() at its check
 * points, releases the lock around blocking calls and re-acquires it after,
 * and releases it when it ends. The program prints how long the I/O thread
 * waited to get the lock back after each blocking call.
 *
 * Built by the test suite (tests/CMakeLists.txt) as gil_example and run as
 * a test. Usage: gil_example [legacy|fair|priority]   (default: all three) */
#include <syncplus.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { CHECK_INTERVAL = 100, IO_CALLS = 40 };

static sp_gil_t gil;   /* the interpreter lock */
static int stop;       /* set by the I/O thread when it is done (atomic) */
static int failures;   /* calls that did not return SP_OK (atomic) */

static void check(int rc) {
  if (rc != SP_OK) {
    fprintf(stderr, "gil call failed: %s\n", sp_strerror(rc));
    __atomic_add_fetch(&failures, 1, __ATOMIC_RELAXED);
  }
}

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * SP_NS_PER_S + ts.tv_nsec;
}

static void blocking_call(void) { /* stands for read(), recv(), ... */
  struct timespec ts = {0, 200 * 1000};
  nanosleep(&ts, NULL);
}

/* A CPU-bound thread: interprets until told to stop (or for 1 s). */
static void *cpu_thread(void *arg) {
  volatile unsigned long *acc = arg;
  int64_t end = now_ns() + SP_NS_PER_S;
  check(sp_gil_acquire(&gil));                      /* thread start */
  for (unsigned long pc = 1;; pc++) {
    *acc += pc * 2654435761u;                       /* one "instruction" */
    if (pc % CHECK_INTERVAL == 0) {                 /* check point */
      if (__atomic_load_n(&stop, __ATOMIC_RELAXED) || now_ns() > end)
        break;
      check(sp_gil_yield(&gil));
    }
  }
  check(sp_gil_release(&gil));                      /* thread end */
  return NULL;
}

/* An I/O-bound thread: a little interpreting between blocking calls. */
static void *io_thread(void *arg) {
  int64_t *latency = arg; /* [0] total, [1] max */
  check(sp_gil_acquire(&gil));
  for (int i = 0; i < IO_CALLS; i++) {
    for (volatile int k = 0; k < 1000; k++) {
    }
    check(sp_gil_release(&gil));                    /* around the call */
    blocking_call();
    int64_t t0 = now_ns();
    check(sp_gil_acquire(&gil));                    /* back from I/O */
    int64_t waited = now_ns() - t0;
    latency[0] += waited;
    if (waited > latency[1])
      latency[1] = waited;
  }
  __atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
  check(sp_gil_release(&gil));
  return NULL;
}

static void run(int policy, const char *name) {
  sp_gil_config cfg;
  check(sp_gil_config_default(&cfg, policy));
  check(sp_gil_init(&gil, &cfg));
  __atomic_store_n(&stop, 0, __ATOMIC_RELAXED);
  unsigned long acc[2] = {0, 0};
  int64_t latency[2] = {0, 0};
  pthread_t cpu[2], io;
  for (int i = 0; i < 2; i++)
    pthread_create(&cpu[i], NULL, cpu_thread, &acc[i]);
  pthread_create(&io, NULL, io_thread, latency);
  pthread_join(io, NULL);
  for (int i = 0; i < 2; i++)
    pthread_join(cpu[i], NULL);
  struct sp_gil_stats st;
  check(sp_gil_stats(&gil, &st));
  check(sp_gil_destroy(&gil));
  printf("%-8s I/O thread back from I/O: avg %8.1f us, max %8.1f us; "
         "hand-offs io %llu cpu %llu; yields %llu (%llu no-op)\n",
         name, (double)latency[0] / IO_CALLS / 1e3, (double)latency[1] / 1e3,
         (unsigned long long)st.handoffs_io,
         (unsigned long long)st.handoffs_cpu, (unsigned long long)st.yields,
         (unsigned long long)st.yields_noop);
}

int main(int argc, char **argv) {
  static const char *names[] = {"legacy", "fair", "priority"};
  for (int p = SP_GIL_LEGACY; p <= SP_GIL_PRIORITY; p++)
    if (argc < 2 || strcmp(argv[1], names[p]) == 0)
      run(p, names[p]);
  return failures == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
