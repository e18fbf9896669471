/* How an interpreter uses sp_gil_t: a toy interpreter with two CPU-bound
 * threads, one I/O-bound thread and one consumer thread, run once under
 * each policy. Each thread takes the lock when it starts (as a CPU waiter:
 * a new thread does not jump the queue), calls sp_gil_yield_ex() at its
 * check points, releases the lock around blocking calls and re-acquires it
 * after (as an I/O waiter: served first), blocks on the library's own queue
 * through the GIL-aware sp_gil_queue_get() (never with the lock held: that
 * would stop every other thread, or deadlock when the producer needs the
 * lock), and releases the lock when it ends. The program prints how long
 * the I/O thread waited to get the lock back after each blocking call.
 *
 * Built by the test suite (tests/CMakeLists.txt) as gil_example and run as
 * a test. Usage: gil_example [legacy|fair|priority]   (default: all three) */
#include <syncplus.h>

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { CHECK_INTERVAL = 100, IO_CALLS = 40 };

static sp_gil_t gil;  /* the interpreter lock */
static sp_queue_t q;  /* I/O thread -> consumer */
static int stop;      /* set by the I/O thread when it is done (atomic) */
static int failures;  /* calls that did not return SP_OK (atomic) */
static long consumed; /* items the consumer got (under the GIL) */

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
  unsigned long *switches = arg;
  volatile unsigned long acc = 0;
  int64_t end = now_ns() + SP_NS_PER_S;
  check(sp_gil_acquire_ex(&gil, SP_GIL_CPU, SP_FOREVER)); /* thread start */
  for (unsigned long pc = 1;; pc++) {
    acc += pc * 2654435761u;        /* one "instruction" */
    if (pc % CHECK_INTERVAL == 0) { /* check point */
      if (__atomic_load_n(&stop, __ATOMIC_RELAXED) || now_ns() > end)
        break;
      int switched;
      check(sp_gil_yield_ex(&gil, &switched));
      *switches += (unsigned long)switched;
    }
  }
  check(sp_gil_release(&gil)); /* thread end */
  return (void *)(uintptr_t)(acc & 1);
}

/* An I/O-bound thread: a little interpreting between blocking calls; it
 * hands each result to the consumer through the queue. */
static void *io_thread(void *arg) {
  int64_t *latency = arg; /* [0] total, [1] max */
  check(sp_gil_acquire_ex(&gil, SP_GIL_CPU, SP_FOREVER));
  for (intptr_t i = 1; i <= IO_CALLS; i++) {
    for (volatile int k = 0; k < 1000; k++) {
    }
    check(sp_gil_release(&gil)); /* around the call */
    blocking_call();
    int64_t t0 = now_ns();
    check(sp_gil_acquire(&gil)); /* back from I/O */
    int64_t waited = now_ns() - t0;
    latency[0] += waited;
    if (waited > latency[1])
      latency[1] = waited;
    check(sp_gil_queue_put(&gil, &q, (void *)i, SP_FOREVER));
  }
  check(sp_gil_queue_put(&gil, &q, NULL, SP_FOREVER)); /* the end */
  __atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
  check(sp_gil_release(&gil));
  return NULL;
}

/* A consumer: waits for items without holding the lock while it waits. */
static void *consumer_thread(void *arg) {
  (void)arg;
  check(sp_gil_acquire_ex(&gil, SP_GIL_CPU, SP_FOREVER));
  for (;;) {
    void *item;
    check(sp_gil_queue_get(&gil, &q, &item, SP_FOREVER)); /* GIL held again */
    if (item == NULL)
      break;
    consumed++;
  }
  check(sp_gil_release(&gil));
  return NULL;
}

static void run(int policy, const char *name) {
  sp_gil_config cfg;
  check(sp_gil_config_default(&cfg, policy));
  check(sp_gil_init(&gil, &cfg));
  check(sp_queue_init(&q, 0));
  __atomic_store_n(&stop, 0, __ATOMIC_RELAXED);
  consumed = 0;
  unsigned long switches[2] = {0, 0};
  int64_t latency[2] = {0, 0};
  pthread_t cpu[2], io, cons;
  for (int i = 0; i < 2; i++)
    pthread_create(&cpu[i], NULL, cpu_thread, &switches[i]);
  pthread_create(&cons, NULL, consumer_thread, NULL);
  pthread_create(&io, NULL, io_thread, latency);
  pthread_join(io, NULL);
  pthread_join(cons, NULL);
  for (int i = 0; i < 2; i++)
    pthread_join(cpu[i], NULL);
  struct sp_gil_stats st;
  check(sp_gil_stats(&gil, &st));
  check(sp_queue_destroy(&q));
  check(sp_gil_destroy(&gil));
  if (consumed != IO_CALLS) {
    fprintf(stderr, "%s: consumed %ld of %d items\n", name, consumed, IO_CALLS);
    __atomic_add_fetch(&failures, 1, __ATOMIC_RELAXED);
  }
  printf("%-8s I/O thread back from I/O: avg %8.1f us, max %8.1f us; "
         "hand-offs io %llu cpu %llu; CPU threads switched %lu times; "
         "longest wait %.1f us\n",
         name, (double)latency[0] / IO_CALLS / 1e3, (double)latency[1] / 1e3,
         (unsigned long long)st.handoffs_io,
         (unsigned long long)st.handoffs_cpu, switches[0] + switches[1],
         (double)st.wait_max_ns / 1e3);
}

int main(int argc, char **argv) {
  static const char *names[] = {"legacy", "fair", "priority"};
  for (int p = SP_GIL_LEGACY; p <= SP_GIL_PRIORITY; p++)
    if (argc < 2 || strcmp(argv[1], names[p]) == 0)
      run(p, names[p]);
  return failures == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
