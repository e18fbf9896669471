/* PRIORITY's starvation bounds (gil.h B1-B3) under the patterns that broke
 * the old design: the thread-pool pattern (many threads, each acquiring as
 * an I/O thread, running a burst shorter or longer than a slice with yields,
 * releasing) and long CPU bursts beside it. Asserted in events only:
 *  - independently of the library's counters: a yielder waits at most
 *    N * 2 * S check points (yields and releases) made by the holders while
 *    it waits, N threads, S = yield_skip (B2: at most N - 1 turns of at most
 *    2 S check points each, plus what is left of the current one). The test
 *    counts the check points itself, under the lock.
 *  - the library's own counters of the bounds: cpu_wait_max_turns <= N - 1
 *    (B2) and io_wait_max_handoffs within B1's formula;
 *  - every thread finishes its work (nobody starves).
 * Checked to fail: with the old push-front "resume" (every yielder that
 * hands to an I/O waiter mid-slice queued at the head of the CPU queue,
 * making it LIFO), every case here fails B2 (a CPU waiter saw 22-23 turns
 * with 12 threads, bound 11). */
#include "helpers.h"

#include <stdlib.h>
#include <string.h>

struct bound_ctx {
  sp_gil_t g;
  int npool, ncpu;
  unsigned S, L;
  int stop;
  int errors;
  int pool_done;
  long iters;
  int64_t deadline;
  /* under the lock */
  uint64_t checks;     /* yields + releases by holders */
  uint64_t max_waited; /* the most check points a yielder waited */
  uint64_t switches;   /* yields that switched */
  int inside;
  int ready;     /* atomic: the start gate */
  int contended; /* atomic: yields that switched */
};

static void spin_work(int n) {
  volatile unsigned x = 0;
  for (int i = 0; i < n; i++)
    x = x * 31u + (unsigned)i;
}

static void enter(struct bound_ctx *c) {
  if (++c->inside != 1) /* under the lock: a second holder is an error */
    t_inc(&c->errors);
}

static void leave(struct bound_ctx *c) {
  c->inside--;
}

/* A check point: count it, yield, and account for the wait. */
static void check_point(struct bound_ctx *c) {
  uint64_t c0 = ++c->checks;
  leave(c);
  int sw = 0;
  if (sp_gil_yield_ex(&c->g, &sw) != SP_OK) {
    t_inc(&c->errors);
    return;
  }
  enter(c);
  if (sw) {
    c->switches++;
    t_inc(&c->contended);
    uint64_t waited = c->checks - c0;
    if (waited > c->max_waited)
      c->max_waited = waited;
  }
}

static void release(struct bound_ctx *c) {
  c->checks++;
  leave(c);
  if (sp_gil_release(&c->g) != SP_OK)
    t_inc(&c->errors);
}

static void bound_thread(void *arg, int idx) {
  struct bound_ctx *c = arg;
  t_inc(&c->ready); /* all start together, so they contend */
  while (t_load(&c->ready) < c->npool + c->ncpu)
    t_yield();
  if (idx < c->npool) {
    /* the thread pool: acquire, a burst, release, "I/O" */
    /* run the iterations, and on until the threads have contended a
     * little (a slow build may run them one after another at first) */
    for (long i = 0; (i < c->iters || t_load(&c->contended) < 50) &&
                     t_now_ns() < c->deadline;
         i++) {
      int cls = (i + idx) % 3 == 0 ? SP_GIL_CPU : SP_GIL_IO;
      if (sp_gil_acquire_ex(&c->g, cls, SP_FOREVER) != SP_OK) {
        t_inc(&c->errors);
        return;
      }
      enter(c);
      if (i % 4 == 0) {
        /* now and then, hold the lock until others queue (at most 2 ms):
         * the pattern needs contention even where the OS runs the threads
         * one after another */
        int64_t end = t_now_ns() + 2 * MS;
        while (__atomic_load_n(&c->g.waiters_, __ATOMIC_SEQ_CST) < 2 &&
               t_now_ns() < end)
          t_yield();
      }
      int burst = (int)((i * 7 + idx * 3) % (3 * c->S));
      for (int k = 0; k < burst; k++) {
        spin_work(200);
        check_point(c);
      }
      release(c);
      if (i % 4 == 0)
        t_yield();
      else
        spin_work(100);
    }
    t_inc(&c->pool_done);
    return;
  }
  /* a long CPU burst: holds the lock and yields until the pool is done */
  if (sp_gil_acquire_ex(&c->g, SP_GIL_CPU, SP_FOREVER) != SP_OK) {
    t_inc(&c->errors);
    return;
  }
  enter(c);
  while (t_load(&c->pool_done) < c->npool) {
    spin_work(20);
    check_point(c);
  }
  release(c);
}

static void bound_case(int npool, int ncpu, unsigned S, unsigned L) {
  struct bound_ctx *c = calloc(1, sizeof *c);
  assert_non_null(c);
  sp_gil_config cfg;
  assert_rc(SP_OK, sp_gil_config_default(&cfg, SP_GIL_PRIORITY));
  cfg.interval_ns = 60 * SP_NS_PER_S; /* count-based slices only */
  cfg.yield_skip = S;
  cfg.io_burst = L;
  assert_rc(SP_OK, sp_gil_init(&c->g, &cfg));
  c->npool = npool;
  c->ncpu = ncpu;
  c->S = S;
  c->L = L;
  c->iters = t_iters(300);
  c->deadline = t_stress_deadline();
  int n = npool + ncpu;
  t_bunch b;
  t_bunch_start(&b, n, bound_thread, c);
  t_bunch_join(&b);
  assert_int_equal(0, t_load(&c->errors));
  assert_int_equal(npool, t_load(&c->pool_done));
  struct sp_gil_stats st;
  assert_rc(SP_OK, sp_gil_stats(&c->g, &st));
  uint64_t b2_checks = (uint64_t)n * 2 * S;
  double k = n - 2;
  double b1 = (k + 3 + (k + 1) / L) * S / (S - 1.0);
  print_message("  pool %d, cpu %d, S %u, L %u: %llu check points, %llu "
                "switches; a yielder waited at most %llu check points "
                "(bound %llu); turns %llu, most turns seen by a CPU waiter "
                "%llu (bound %d), most hand-offs seen by an I/O waiter %llu "
                "(bound %.1f)\n",
                npool, ncpu, S, L, (unsigned long long)c->checks,
                (unsigned long long)c->switches,
                (unsigned long long)c->max_waited,
                (unsigned long long)b2_checks, (unsigned long long)st.turns,
                (unsigned long long)st.cpu_wait_max_turns, n - 1,
                (unsigned long long)st.io_wait_max_handoffs, b1);
  assert_true(c->switches > 0);
  assert_true(c->max_waited <= b2_checks);
  assert_true(st.cpu_wait_max_turns <= (uint64_t)(n - 1));
  assert_true((double)st.io_wait_max_handoffs <= b1);
  assert_rc(SP_OK, sp_gil_destroy(&c->g));
  free(c);
}

/* The thread pool alone: the pattern of the 2-3 s waits (issue 10). */
static void test_bound_thread_pool(void **state) {
  (void)state;
  bound_case(12, 0, 8, 3);
  bound_case(16, 0, 4, 8);
}

/* The pool beside long CPU bursts. */
static void test_bound_pool_and_cpu(void **state) {
  (void)state;
  bound_case(10, 2, 8, 3);
  bound_case(4, 4, 4, 2);
}

/* Only long CPU bursts: strict round robin in turns. */
static void test_bound_cpu_only(void **state) {
  (void)state;
  bound_case(1, 5, 6, 4);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_bound_thread_pool),
      cmocka_unit_test(test_bound_pool_and_cpu),
      cmocka_unit_test(test_bound_cpu_only),
  };
  return T_RUN("gil_bound", tests);
}
