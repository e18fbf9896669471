/* The interpreter lock (sp_gil_t): argument checks, mutual exclusion under
 * contention for every policy, and each policy's documented behaviour:
 * PRIORITY's I/O hand-off at the holder's next yield, FIFO order, CPU round
 * robin, the successor woken before a CPU switch, I/O bursts resuming the
 * interrupted CPU slice, and free yields; FAIR's drop request and forced
 * switch; LEGACY's release/re-acquire every yield_skip yields.
 *
 * Orderings are asserted in counts (yields, hand-offs), never in time,
 * except "a FAIR waiter did not get the lock before its interval". A few
 * tests read the private io_waiting_/waiters_ fields (atomically) to know
 * that a thread is queued, and the test seam sp_gil_cpu_head_state_()
 * (src/test_hooks.h) to know that a CPU waiter sleeps: the public API
 * cannot say either. Worker threads
 * count failures in atomics; the main thread asserts them. */
#include "helpers.h"

#include "../src/test_hooks.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

static unsigned t_loadu(unsigned *p) {
  return __atomic_load_n(p, __ATOMIC_SEQ_CST);
}

/* Wait (up to 10 s) until a private counter of *g reaches n. */
static void wait_field(unsigned *field, unsigned n) {
  int64_t end = t_now_ns() + 10 * SP_NS_PER_S;
  while (t_loadu(field) < n) {
    if (t_now_ns() > end)
      fail_msg("waited 10 s for a queued waiter (%u < %u)", t_loadu(field), n);
    t_yield();
  }
}

static void init_gil(sp_gil_t *g, int policy, int64_t interval_ns,
                     unsigned yield_skip) {
  sp_gil_config cfg;
  assert_rc(SP_OK, sp_gil_config_default(&cfg, policy));
  if (interval_ns >= 0)
    cfg.interval_ns = interval_ns;
  if (yield_skip > 0)
    cfg.yield_skip = yield_skip;
  assert_rc(SP_OK, sp_gil_init(g, &cfg));
}

static struct sp_gil_stats get_stats(sp_gil_t *g) {
  struct sp_gil_stats s;
  memset(&s, 0xff, sizeof s);
  assert_rc(SP_OK, sp_gil_stats(g, &s));
  return s;
}

static void spin_work(int n) {
  volatile unsigned x = 0;
  for (int i = 0; i < n; i++)
    x = x * 31u + (unsigned)i;
}

static const int policies[] = {SP_GIL_LEGACY, SP_GIL_FAIR, SP_GIL_PRIORITY};
static const char *policy_names[] = {"legacy", "fair", "priority"};

/* ---- argument checks --------------------------------------------------- */

static void test_bad_inputs(void **state) {
  (void)state;
  sp_gil_t g;
  sp_gil_config cfg;
  struct sp_gil_stats st;
  assert_rc(SP_EINVAL, sp_gil_config_default(NULL, SP_GIL_FAIR));
  assert_rc(SP_EINVAL, sp_gil_config_default(&cfg, 3));
  assert_rc(SP_EINVAL, sp_gil_config_default(&cfg, -1));
  assert_rc(SP_OK, sp_gil_config_default(&cfg, SP_GIL_LEGACY));
  assert_int_equal(1, cfg.yield_skip);
  assert_rc(SP_OK, sp_gil_config_default(&cfg, SP_GIL_FAIR));
  assert_true(cfg.interval_ns == 5 * MS);
  assert_rc(SP_OK, sp_gil_config_default(&cfg, SP_GIL_PRIORITY));
  assert_true(cfg.interval_ns == 5 * MS);
  assert_int_equal(100, cfg.yield_skip);
  assert_int_equal(SP_GIL_PRIORITY, cfg.policy);

  assert_rc(SP_EINVAL, sp_gil_init(NULL, NULL));
  assert_rc(SP_EINVAL, sp_gil_init(NULL, &cfg));
  cfg.policy = 3;
  assert_rc(SP_EINVAL, sp_gil_init(&g, &cfg));
  cfg.policy = -1;
  assert_rc(SP_EINVAL, sp_gil_init(&g, &cfg));
  sp_gil_config_default(&cfg, SP_GIL_FAIR);
  cfg.interval_ns = -1;
  assert_rc(SP_EINVAL, sp_gil_init(&g, &cfg));
  sp_gil_config_default(&cfg, SP_GIL_LEGACY);
  cfg.yield_skip = 0;
  assert_rc(SP_EINVAL, sp_gil_init(&g, &cfg));
  sp_gil_config_default(&cfg, SP_GIL_PRIORITY);
  cfg.yield_skip = 0;
  assert_rc(SP_EINVAL, sp_gil_init(&g, &cfg));

  assert_rc(SP_EINVAL, sp_gil_destroy(NULL));
  assert_rc(SP_EINVAL, sp_gil_acquire(NULL));
  assert_rc(SP_EINVAL, sp_gil_release(NULL));
  assert_rc(SP_EINVAL, sp_gil_yield(NULL));
  assert_rc(SP_EINVAL, sp_gil_stats(NULL, &st));
  memset(&g, 0x77, sizeof g); /* never initialised, not zero-filled */
  assert_rc(SP_EINVAL, sp_gil_acquire(&g));
  assert_rc(SP_EINVAL, sp_gil_release(&g));
  assert_rc(SP_EINVAL, sp_gil_yield(&g));
  assert_rc(SP_EINVAL, sp_gil_stats(&g, &st));
  assert_rc(SP_EINVAL, sp_gil_destroy(&g));
  memset(&g, 0, sizeof g); /* zero-filled: a valid PRIORITY lock */
  assert_rc(SP_EPERM, sp_gil_release(&g));
  assert_rc(SP_OK, sp_gil_destroy(&g));

  assert_rc(SP_OK, sp_gil_init(&g, NULL)); /* PRIORITY defaults */
  assert_rc(SP_EINVAL, sp_gil_stats(&g, NULL));
  st = get_stats(&g);
  assert_true(st.acquisitions == 0 && st.yields == 0 && st.yields_noop == 0 &&
              st.handoffs_io == 0 && st.handoffs_cpu == 0 &&
              st.wait_total_ns == 0 && st.wait_max_ns == 0);
  assert_rc(SP_OK, sp_gil_destroy(&g));
  /* destroyed: every call is SP_EINVAL, a second destroy too */
  assert_rc(SP_EINVAL, sp_gil_acquire(&g));
  assert_rc(SP_EINVAL, sp_gil_release(&g));
  assert_rc(SP_EINVAL, sp_gil_yield(&g));
  assert_rc(SP_EINVAL, sp_gil_stats(&g, &st));
  assert_rc(SP_EINVAL, sp_gil_destroy(&g));
}

/* ---- SP_EPERM ----------------------------------------------------------- */

struct other_ctx {
  sp_gil_t *g;
  int release_rc, yield_rc, acquire_rc;
  int got;
};

static void *try_foreign(void *p) {
  struct other_ctx *c = p;
  c->release_rc = sp_gil_release(c->g);
  c->yield_rc = sp_gil_yield(c->g);
  return NULL;
}

static void *acquire_release(void *p) {
  struct other_ctx *c = p;
  c->acquire_rc = sp_gil_acquire(c->g);
  t_store(&c->got, 1);
  if (c->acquire_rc == SP_OK)
    c->release_rc = sp_gil_release(c->g);
  return NULL;
}

static void test_eperm(void **state) {
  (void)state;
  for (int p = 0; p < 3; p++) {
    sp_gil_t g;
    init_gil(&g, policies[p], -1, 0);
    assert_rc(SP_EPERM, sp_gil_release(&g)); /* free */
    assert_rc(SP_EPERM, sp_gil_yield(&g));
    assert_rc(SP_OK, sp_gil_acquire(&g));
    assert_rc(SP_EPERM, sp_gil_acquire(&g)); /* would self-deadlock */
    assert_rc(SP_EPERM, sp_gil_destroy(&g)); /* held */
    struct other_ctx c = {&g, 0, 0, 0, 0};
    t_join(t_start(try_foreign, &c)); /* held by another thread */
    assert_rc(SP_EPERM, c.release_rc);
    assert_rc(SP_EPERM, c.yield_rc);
    assert_rc(SP_OK, sp_gil_yield(&g)); /* still ours */
    /* held and waited on */
    struct other_ctx w = {&g, 0, 0, 0, 0};
    t_thread t = t_start(acquire_release, &w);
    wait_field(&g.waiters_, 1);
    assert_rc(SP_EPERM, sp_gil_destroy(&g));
    assert_rc(SP_OK, sp_gil_release(&g));
    t_join(t);
    assert_rc(SP_OK, w.acquire_rc);
    assert_rc(SP_OK, w.release_rc);
    assert_rc(SP_EPERM, sp_gil_release(&g));
    struct sp_gil_stats st = get_stats(&g);
    assert_true(st.acquisitions == 2);
    /* 1 if the thread was already blocked when the lock was released */
    assert_true(st.handoffs_io <= 1);
    assert_true(st.yields == 1);
    assert_rc(SP_OK, sp_gil_destroy(&g));
  }
}

/* ---- a yield with nobody waiting ----------------------------------------- */

static void test_yield_alone(void **state) {
  (void)state;
  const unsigned skip = 10, n = 1005;
  for (int p = 0; p < 3; p++) {
    sp_gil_t g;
    init_gil(&g, policies[p], -1, skip);
    for (int round = 0; round < 2; round++) {
      assert_rc(SP_OK, sp_gil_acquire(&g));
      for (unsigned i = 0; i < n; i++)
        assert_rc(SP_OK, sp_gil_yield(&g));
      assert_rc(SP_OK, sp_gil_release(&g));
    }
    struct sp_gil_stats st = get_stats(&g);
    assert_true(st.acquisitions == 2);
    assert_true(st.yields == 2 * n);
    assert_true(st.handoffs_io == 0 && st.handoffs_cpu == 0);
    if (policies[p] == SP_GIL_LEGACY) /* the tick counter is global */
      assert_true(st.yields_noop == 2 * n - (2 * n) / skip);
    else
      assert_true(st.yields_noop == st.yields);
    assert_rc(SP_OK, sp_gil_destroy(&g));
  }
}

/* ---- mutual exclusion under heavy contention --------------------------- */

struct mx_ctx {
  sp_gil_t g;
  int inside; /* threads that believe they hold the lock */
  int errors;
  int acquires;
  int yields;
  long iters;
  int64_t deadline;
};

static int mx_enter(struct mx_ctx *c) {
  if (t_inc(&c->inside) != 1)
    t_inc(&c->errors);
  return 0;
}

static void mx_leave(struct mx_ctx *c) {
  __atomic_sub_fetch(&c->inside, 1, __ATOMIC_SEQ_CST);
}

static void mx_thread(void *arg, int idx) {
  struct mx_ctx *c = arg;
  int io = idx % 2 == 0; /* even: I/O style, odd: CPU style */
  for (long i = 0; i < c->iters && t_now_ns() < c->deadline; i++) {
    if (sp_gil_acquire(&c->g) != SP_OK) {
      t_inc(&c->errors);
      return;
    }
    t_inc(&c->acquires);
    mx_enter(c);
    int nyield = io ? 1 : 8;
    for (int k = 0; k < nyield; k++) {
      spin_work(50);
      mx_leave(c);
      t_inc(&c->yields);
      if (sp_gil_yield(&c->g) != SP_OK)
        t_inc(&c->errors);
      mx_enter(c);
    }
    mx_leave(c);
    if (sp_gil_release(&c->g) != SP_OK)
      t_inc(&c->errors);
    if (io && i % 4 == 0)
      t_yield(); /* "blocking call" */
  }
}

static void test_mutual_exclusion(void **state) {
  (void)state;
  for (int p = 0; p < 3; p++) {
    struct mx_ctx *c = calloc(1, sizeof *c);
    assert_non_null(c);
    init_gil(&c->g, policies[p], 100 * 1000, 3);
    c->iters = t_iters(20000);
    c->deadline = t_stress_deadline();
    t_bunch b;
    t_bunch_start(&b, 4, mx_thread, c);
    t_bunch_join(&b);
    assert_int_equal(0, t_load(&c->errors));
    assert_int_equal(0, t_load(&c->inside));
    struct sp_gil_stats st = get_stats(&c->g);
    assert_true(st.acquisitions == (uint64_t)t_load(&c->acquires));
    assert_true(st.yields == (uint64_t)t_load(&c->yields));
    assert_true(st.yields_noop <= st.yields);
    assert_true(st.handoffs_io <= st.acquisitions);
    assert_true(st.wait_max_ns <= st.wait_total_ns);
    print_message("  %s: %d acquires, %d yields, %llu io / %llu cpu "
                  "hand-offs, %llu no-op yields\n",
                  policy_names[p], t_load(&c->acquires), t_load(&c->yields),
                  (unsigned long long)st.handoffs_io,
                  (unsigned long long)st.handoffs_cpu,
                  (unsigned long long)st.yields_noop);
    assert_rc(SP_OK, sp_gil_destroy(&c->g));
    free(c);
  }
}

/* ---- PRIORITY: an I/O waiter gets the lock at the holder's next yield -- */

struct next_ctx {
  sp_gil_t g;
  int stop;
  int ready;
  int yields;   /* number of the CPU thread's current/last yield */
  int seen_at;  /* yield number at which the CPU thread saw a queued waiter */
  int sync;     /* 1: the CPU thread waits until the waiter is queued */
  int sync_ack; /* the CPU thread is in that wait */
  int errors;
};

static void *next_cpu(void *p) {
  struct next_ctx *c = p;
  if (sp_gil_acquire(&c->g) != SP_OK)
    t_inc(&c->errors);
  t_store(&c->ready, 1);
  int64_t end = t_now_ns() + 60 * SP_NS_PER_S;
  while (!t_load(&c->stop)) {
    spin_work(200);
    int n = t_inc(&c->yields); /* the yield we are about to make */
    if (t_load(&c->sync)) {
      t_store(&c->sync_ack, 1);
      while (t_loadu(&c->g.io_waiting_) == 0 && t_now_ns() < end)
        t_yield();
    }
    if (t_loadu(&c->g.io_waiting_) > 0 && t_load(&c->seen_at) == 0)
      t_store(&c->seen_at, n);
    if (sp_gil_yield(&c->g) != SP_OK)
      t_inc(&c->errors);
  }
  if (sp_gil_release(&c->g) != SP_OK)
    t_inc(&c->errors);
  return NULL;
}

static void test_priority_io_next_yield(void **state) {
  (void)state;
  struct next_ctx *c = calloc(1, sizeof *c);
  assert_non_null(c);
  init_gil(&c->g, SP_GIL_PRIORITY, 10 * SP_NS_PER_S, 1000000);
  t_thread cpu = t_start(next_cpu, c);
  t_wait_for_count(&c->ready, 1);
  long rounds = t_iters(2000);
  int64_t deadline = t_stress_deadline();
  int measured = 0, max_diff = 0, max_from_call = 0;
  long r;
  for (r = 0; r < rounds && t_now_ns() < deadline; r++) {
    int sync = r % 2 == 0;
    if (sync) { /* the CPU thread waits for us before its next yield */
      t_store(&c->sync, 1);
      t_wait_for_count(&c->sync_ack, 1);
    }
    int before = t_load(&c->yields);
    assert_rc(SP_OK, sp_gil_acquire(&c->g));
    /* The CPU thread is now queued in its yield: the counters are still. */
    int got = t_load(&c->yields);
    int seen = t_load(&c->seen_at);
    t_store(&c->sync, 0);
    t_store(&c->sync_ack, 0);
    t_store(&c->seen_at, 0);
    if (sync && seen == 0)
      fail_msg("round %ld: the CPU thread never saw the waiter queued", r);
    if (seen != 0) {
      measured++;
      if (got - seen > max_diff)
        max_diff = got - seen;
      if (got - seen > 1)
        fail_msg("round %ld: queued at yield %d, got the lock at yield %d", r,
                 seen, got);
    }
    if (got - before > max_from_call)
      max_from_call = got - before;
    assert_rc(SP_OK, sp_gil_release(&c->g));
    if (r % 8 == 0)
      t_sleep_ns(20000); /* "I/O" */
  }
  t_store(&c->stop, 1);
  t_join(cpu);
  assert_int_equal(0, t_load(&c->errors));
  assert_true(measured >= (int)(r / 2));
  struct sp_gil_stats st = get_stats(&c->g);
  assert_true(st.acquisitions == (uint64_t)r + 1);
  /* every round the I/O thread waited in acquire and the CPU thread waited
   * in yield, or the I/O thread took the lock back from the CPU thread
   * before that one ran again (its yield then covers two rounds);
   * yield_skip and interval are huge, so no other hand-off */
  assert_true(st.takebacks <= (uint64_t)r);
  assert_true(st.handoffs_io == (uint64_t)r);
  assert_true(st.handoffs_cpu == (uint64_t)r - st.takebacks);
  assert_true(st.yields - st.yields_noop == (uint64_t)r - st.takebacks);
  print_message("  %ld rounds, %d measured, max %d yields from queued to "
                "owner, max %d from the acquire call, %llu take-backs\n",
                r, measured, max_diff, max_from_call,
                (unsigned long long)st.takebacks);
  assert_rc(SP_OK, sp_gil_destroy(&c->g));
  free(c);
}

/* ---- PRIORITY: I/O waiters in arrival order, before the CPU thread ----- */

struct fifo_ctx {
  sp_gil_t *g;
  int pos;
  int order[8];
  int errors;
};

static struct fifo_ctx *fifo_global;

static void *fifo_waiter(void *p) {
  int idx = (int)(intptr_t)p;
  struct fifo_ctx *c = fifo_global;
  if (sp_gil_acquire(c->g) != SP_OK) {
    t_inc(&c->errors);
    return NULL;
  }
  c->order[t_inc(&c->pos) - 1] = idx;
  if (sp_gil_release(c->g) != SP_OK)
    t_inc(&c->errors);
  return NULL;
}

static void test_priority_fifo(void **state) {
  (void)state;
  enum { N = 6 };
  for (int mode = 0; mode < 2; mode++) { /* 0: main yields, 1: releases */
    sp_gil_t g;
    struct fifo_ctx c;
    memset(&c, 0, sizeof c);
    c.g = &g;
    fifo_global = &c;
    /* no time-based slice end: under a slow emulator (wine) six hand-offs
     * may take longer than the default 5 ms, and a slice that is over
     * rightly gives the yielder its turn back before the last waiters */
    init_gil(&g, SP_GIL_PRIORITY, 60 * SP_NS_PER_S, 0);
    assert_rc(SP_OK, sp_gil_acquire(&g));
    t_thread th[N];
    for (int i = 0; i < N; i++) {
      th[i] = t_start(fifo_waiter, (void *)(intptr_t)i);
      wait_field(&g.io_waiting_, (unsigned)i + 1);
    }
    if (mode == 0) {
      assert_rc(SP_OK, sp_gil_yield(&g));
      /* every I/O waiter went first, in order, then the lock came back */
      assert_int_equal(N, t_load(&c.pos));
      assert_rc(SP_OK, sp_gil_release(&g));
    } else {
      assert_rc(SP_OK, sp_gil_release(&g));
    }
    for (int i = 0; i < N; i++)
      t_join(th[i]);
    assert_int_equal(0, t_load(&c.errors));
    assert_int_equal(N, t_load(&c.pos));
    for (int i = 0; i < N; i++)
      assert_int_equal(i, c.order[i]);
    struct sp_gil_stats st = get_stats(&g);
    assert_true(st.acquisitions == N + 1);
    assert_true(st.handoffs_io == N);
    assert_true(st.handoffs_cpu == (mode == 0 ? 1u : 0u));
    assert_true(st.yields == (mode == 0 ? 1u : 0u));
    assert_true(st.yields_noop == 0);
    assert_true(st.wait_max_ns <= st.wait_total_ns);
    assert_rc(SP_OK, sp_gil_destroy(&g));
  }
}

/* ---- PRIORITY: CPU threads take turns ------------------------------------ */

struct rr_ctx {
  sp_gil_t g;
  int stop;
  int errors;
  long n;
  int64_t deadline;
  int count[4];
  int turns[4];
  int last;
  int min_turns; /* stop once every thread had this many turns (0: off) */
  int nthreads;
};

static void rr_thread(void *arg, int idx) {
  struct rr_ctx *c = arg;
  if (sp_gil_acquire(&c->g) != SP_OK) {
    t_inc(&c->errors);
    return;
  }
  while (!t_load(&c->stop)) {
    if (t_load(&c->last) != idx) {
      t_store(&c->last, idx);
      int turns = t_inc(&c->turns[idx]);
      if (c->min_turns > 0 && turns >= c->min_turns) {
        int all = 1;
        for (int i = 0; i < c->nthreads; i++)
          all &= t_load(&c->turns[i]) >= c->min_turns;
        if (all)
          t_store(&c->stop, 1);
      }
    }
    int n = t_inc(&c->count[idx]);
    if (n >= c->n || t_now_ns() >= c->deadline)
      t_store(&c->stop, 1);
    spin_work(100);
    if (sp_gil_yield(&c->g) != SP_OK)
      t_inc(&c->errors);
  }
  if (sp_gil_release(&c->g) != SP_OK)
    t_inc(&c->errors);
}

static void test_priority_cpu_round_robin(void **state) {
  (void)state;
  const unsigned skip = 8;
  for (int k = 2; k <= 4; k++) {
    struct rr_ctx *c = calloc(1, sizeof *c);
    assert_non_null(c);
    /* count-based slices only: interval out of reach */
    init_gil(&c->g, SP_GIL_PRIORITY, 60 * SP_NS_PER_S, skip);
    c->n = t_iters(20000);
    c->deadline = t_stress_deadline();
    c->last = -1;
    c->nthreads = k;
    assert_rc(SP_OK, sp_gil_acquire(&c->g));
    t_bunch b;
    t_bunch_start(&b, k, rr_thread, c);
    wait_field(&c->g.io_waiting_, (unsigned)k);
    assert_rc(SP_OK, sp_gil_release(&c->g));
    t_bunch_join(&b);
    assert_int_equal(0, t_load(&c->errors));
    int mn = INT_MAX, mx = 0;
    for (int i = 0; i < k; i++) {
      int v = t_load(&c->count[i]);
      mn = v < mn ? v : mn;
      mx = v > mx ? v : mx;
    }
    int tmn = INT_MAX, tmx = 0, tsum = 0;
    for (int i = 0; i < k; i++) {
      int v = t_load(&c->turns[i]);
      tmn = v < tmn ? v : tmn;
      tmx = v > tmx ? v : tmx;
      tsum += v;
    }
    print_message("  %d CPU threads: yields per thread %d..%d, turns %d..%d\n",
                  k, mn, mx, tmn, tmx);
    /* strict round robin: the threads take turns in a fixed order, so their
     * turn counts differ by at most one; every turn after a thread's first
     * (an I/O hand-off from the start) is a CPU hand-off. A slice is at
     * least yield_skip yields (the handover waits for the successor to
     * run), so no thread has more than n / skip + 1 turns. */
    assert_true(tmn >= 2);
    assert_true(tmx - tmn <= 1);
    assert_true(tmx <= mx / (int)skip + 1);
    struct sp_gil_stats st = get_stats(&c->g);
    assert_true((uint64_t)tsum <= (uint64_t)k + st.handoffs_cpu);
    assert_true(st.handoffs_io == (uint64_t)k);
    assert_rc(SP_OK, sp_gil_destroy(&c->g));
    free(c);
  }
  /* time-based slices: yield_skip out of reach, interval 200 us */
  struct rr_ctx *c = calloc(1, sizeof *c);
  assert_non_null(c);
  init_gil(&c->g, SP_GIL_PRIORITY, 200 * 1000, UINT_MAX);
  c->n = LONG_MAX;
  c->deadline = t_stress_deadline();
  c->last = -1;
  c->nthreads = 2;
  c->min_turns = 5;
  t_bunch b;
  t_bunch_start(&b, 2, rr_thread, c);
  t_bunch_join(&b);
  assert_int_equal(0, t_load(&c->errors));
  assert_true(t_load(&c->turns[0]) >= 2 && t_load(&c->turns[1]) >= 2);
  assert_true(get_stats(&c->g).handoffs_cpu >= 2);
  assert_rc(SP_OK, sp_gil_destroy(&c->g));
  free(c);
}

/* ---- PRIORITY: a due CPU switch wakes the successor before handing over -- */

struct succ_ctx {
  sp_gil_t g;
  int in;    /* the other thread holds the lock and yields */
  int turns; /* times the other thread got the lock back in a yield */
  int stop;
  int errors;
};

static void *succ_thread(void *p) {
  struct succ_ctx *c = p;
  if (sp_gil_acquire(&c->g) != SP_OK)
    t_inc(&c->errors);
  t_store(&c->in, 1);
  while (!t_load(&c->stop)) {
    if (sp_gil_yield(&c->g) != SP_OK)
      t_inc(&c->errors);
    t_inc(&c->turns);
  }
  if (sp_gil_release(&c->g) != SP_OK)
    t_inc(&c->errors);
  return NULL;
}

static void test_priority_wakes_successor(void **state) {
  (void)state;
  struct succ_ctx *c = calloc(1, sizeof *c);
  assert_non_null(c);
  /* yield_skip 1: every yield that sees a CPU waiter is due to switch */
  init_gil(&c->g, SP_GIL_PRIORITY, 60 * SP_NS_PER_S, 1);
  assert_int_equal(-1, sp_gil_cpu_head_state_(&c->g));
  assert_rc(SP_OK, sp_gil_acquire(&c->g));
  t_thread th = t_start(succ_thread, c);
  wait_field(&c->g.io_waiting_, 1);
  assert_rc(SP_OK, sp_gil_release(&c->g)); /* to the other thread */
  t_wait_for_count(&c->in, 1);
  /* Come back as an I/O thread: its next yield hands over to us and it
   * queues as a CPU waiter, then goes to sleep (yielders do not spin). */
  assert_rc(SP_OK, sp_gil_acquire(&c->g));
  int64_t end = t_now_ns() + 10 * SP_NS_PER_S;
  while (sp_gil_cpu_head_state_(&c->g) != SP_GW_PARKED_) {
    if (t_now_ns() > end)
      fail_msg("the CPU waiter never went to sleep (state %d)",
               sp_gil_cpu_head_state_(&c->g));
    t_yield();
  }
  long rounds = t_iters(200);
  for (long r = 0; r < rounds; r++) {
    struct sp_gil_stats s0 = get_stats(&c->g);
    int turns = t_load(&c->turns);
    /* Due, with the successor asleep: keep the lock and wake it. */
    assert_rc(SP_OK, sp_gil_yield(&c->g));
    struct sp_gil_stats s1 = get_stats(&c->g);
    assert_int_equal(turns, t_load(&c->turns));
    assert_true(s1.yields_noop == s0.yields_noop + 1);
    /* Later yields hand over once it runs (or within 1 ms of the call). */
    long n = 0;
    while (t_load(&c->turns) == turns) {
      if (t_now_ns() > end + 10 * SP_NS_PER_S)
        fail_msg("round %ld: never handed over", r);
      assert_rc(SP_OK, sp_gil_yield(&c->g));
      n++;
    }
    assert_true(n >= 1);
    /* We are back from our yield: the other thread handed the lock back
     * (after waking us the same way) and sleeps again before its next turn
     * is due; wait for that so the next round starts the same way. */
    end = t_now_ns() + 10 * SP_NS_PER_S;
    while (sp_gil_cpu_head_state_(&c->g) != SP_GW_PARKED_) {
      if (t_now_ns() > end)
        fail_msg("round %ld: the CPU waiter never went to sleep", r);
      t_yield();
    }
  }
  t_store(&c->stop, 1);
  assert_rc(SP_OK, sp_gil_release(&c->g));
  t_join(th);
  assert_int_equal(0, t_load(&c->errors));
  struct sp_gil_stats st = get_stats(&c->g);
  assert_true(st.handoffs_cpu >= 2 * (uint64_t)rounds);
  assert_rc(SP_OK, sp_gil_destroy(&c->g));
  free(c);
}

/* ---- PRIORITY: I/O threads cannot starve a waiting CPU thread ----------- */

enum { SV_CPU = 0, SV_LOG = 1 << 16 };

struct starve_ctx {
  sp_gil_t g;
  int stop;
  int io_done;
  int cpu_in; /* the CPU thread holds the lock (or waits for it) */
  int errors;
  int last;        /* id of the last thread that got the lock (under g) */
  int pos;         /* log length (under g) */
  int log[SV_LOG]; /* ids of the successive holders (under g) */
  long rounds;
  int64_t deadline;
};

static void sv_log(struct starve_ctx *c, int id) {
  if (c->last != id && c->pos < SV_LOG)
    c->log[c->pos++] = id;
  c->last = id;
}

static void sv_thread(void *arg, int idx) {
  struct starve_ctx *c = arg;
  if (idx == SV_CPU) { /* CPU-bound: yields until the I/O threads are done */
    if (sp_gil_acquire(&c->g) != SP_OK)
      t_inc(&c->errors);
    sv_log(c, idx);
    t_store(&c->cpu_in, 1);
    while (t_load(&c->io_done) < 2) {
      if (sp_gil_yield(&c->g) != SP_OK)
        t_inc(&c->errors);
      sv_log(c, idx);
    }
    if (sp_gil_release(&c->g) != SP_OK)
      t_inc(&c->errors);
    return;
  }
  /* two I/O threads that come back at once: the I/O queue rarely empties */
  t_wait_for_count(&c->cpu_in, 1);
  for (long i = 0; i < c->rounds && t_now_ns() < c->deadline; i++) {
    if (sp_gil_acquire(&c->g) != SP_OK)
      t_inc(&c->errors);
    sv_log(c, idx);
    spin_work(50);
    if (sp_gil_release(&c->g) != SP_OK)
      t_inc(&c->errors);
  }
  t_inc(&c->io_done);
}

static void test_priority_io_cannot_starve_cpu(void **state) {
  (void)state;
  const unsigned skip = 3;
  struct starve_ctx *c = calloc(1, sizeof *c);
  assert_non_null(c);
  sp_gil_config cfg;
  assert_rc(SP_OK, sp_gil_config_default(&cfg, SP_GIL_PRIORITY));
  cfg.interval_ns = 60 * SP_NS_PER_S;
  cfg.yield_skip = 1000000; /* only io_burst matters here */
  cfg.io_burst = skip;
  assert_rc(SP_OK, sp_gil_init(&c->g, &cfg));
  c->rounds = t_iters(5000);
  c->deadline = t_stress_deadline();
  c->last = -1;
  t_bunch b;
  t_bunch_start(&b, 3, sv_thread, c);
  t_bunch_join(&b);
  assert_int_equal(0, t_load(&c->errors));
  /* The CPU thread waits whenever it does not hold the lock. It hands the
   * lock to one I/O thread; at most io_burst (`skip`) hand-offs in a row go
   * to I/O threads before it gets the lock back (B3). */
  int run = 0, max_run = 0, cpu_turns = 0;
  for (int i = 0; i < c->pos; i++) {
    if (c->log[i] == SV_CPU) {
      run = 0;
      cpu_turns++;
    } else if (++run > max_run) {
      max_run = run;
    }
  }
  print_message("  %d holders logged, %d CPU turns, longest I/O run %d\n",
                c->pos, cpu_turns, max_run);
  assert_true(max_run <= (int)skip + 1);
  assert_true(cpu_turns >= 2);
  assert_rc(SP_OK, sp_gil_destroy(&c->g));
  free(c);
}

/* ---- PRIORITY: an I/O burst interrupts a CPU slice, which then resumes -- */

enum { RS_IO = 2, RS_LOG = 1 << 16 };

struct resume_ctx {
  sp_gil_t g;
  int done;
  int cpu_in;
  int errors;
  int last;        /* under g */
  int pos;         /* under g */
  int log[RS_LOG]; /* ids of the successive holders (under g) */
};

static void rs_log(struct resume_ctx *c, int id) {
  if (c->last != id && c->pos < RS_LOG)
    c->log[c->pos++] = id;
  c->last = id;
}

static void rs_cpu(void *arg, int idx) {
  struct resume_ctx *c = arg;
  if (sp_gil_acquire(&c->g) != SP_OK)
    t_inc(&c->errors);
  rs_log(c, idx);
  t_inc(&c->cpu_in);
  while (!t_load(&c->done)) {
    spin_work(50);
    if (sp_gil_yield(&c->g) != SP_OK)
      t_inc(&c->errors);
    rs_log(c, idx);
  }
  if (sp_gil_release(&c->g) != SP_OK)
    t_inc(&c->errors);
}

static void test_priority_io_resumes_slice(void **state) {
  (void)state;
  struct resume_ctx *c = calloc(1, sizeof *c);
  assert_non_null(c);
  /* count-based slices of 64 yields: an I/O turn usually comes in the
   * middle of one */
  init_gil(&c->g, SP_GIL_PRIORITY, 60 * SP_NS_PER_S, 64);
  c->last = -1;
  t_bunch b;
  t_bunch_start(&b, 2, rs_cpu, c);
  t_wait_for_count(&c->cpu_in, 2);
  long rounds = t_iters(3000);
  int64_t deadline = t_stress_deadline();
  for (long r = 0; r < rounds && t_now_ns() < deadline; r++) {
    assert_rc(SP_OK, sp_gil_acquire(&c->g));
    rs_log(c, RS_IO);
    spin_work(50);
    assert_rc(SP_OK, sp_gil_release(&c->g));
    spin_work(200);
  }
  t_store(&c->done, 1);
  t_bunch_join(&b);
  assert_int_equal(0, t_load(&c->errors));
  /* An I/O turn in the middle of a CPU thread's slice goes back to that
   * thread (it waits at the head of the CPU queue, ahead of the other CPU
   * thread), so most I/O turns resume the thread they interrupted; the one
   * that comes when the slice is over goes to the other CPU thread. The
   * slice counts the yields made during I/O bursts too, so neither CPU
   * thread starves however often the I/O thread comes back. */
  int io_turns = 0, resumed = 0, turns[2] = {0, 0}, prev_cpu = -1;
  for (int i = 0; i < c->pos; i++) {
    int id = c->log[i];
    if (id == RS_IO) {
      if (i > 0 && i + 1 < c->pos) {
        io_turns++;
        resumed += c->log[i - 1] == c->log[i + 1];
      }
      continue;
    }
    if (id != prev_cpu)
      turns[id]++;
    prev_cpu = id;
  }
  print_message("  %d holders logged, %d I/O turns, %d resumed the "
                "interrupted thread; CPU turns %d and %d\n",
                c->pos, io_turns, resumed, turns[0], turns[1]);
  assert_true(io_turns >= 100 || io_turns == (int)rounds);
  assert_true(resumed * 2 >= io_turns);
  assert_true(turns[0] >= 3 && turns[1] >= 3);
  assert_rc(SP_OK, sp_gil_destroy(&c->g));
  free(c);
}

/* ---- FAIR: drop request after one interval, forced switch ---------------- */

struct fair_ctx {
  sp_gil_t g;
  int stop;
  int holding;
  int in_yield;
  int done_yields; /* yields that returned */
  int errors;
};

static void *fair_holder(void *p) {
  struct fair_ctx *c = p;
  if (sp_gil_acquire(&c->g) != SP_OK)
    t_inc(&c->errors);
  t_store(&c->holding, 1);
  while (!t_load(&c->stop)) {
    spin_work(100);
    t_store(&c->in_yield, 1);
    if (sp_gil_yield(&c->g) != SP_OK)
      t_inc(&c->errors);
    t_store(&c->in_yield, 0);
    t_inc(&c->done_yields);
  }
  if (sp_gil_release(&c->g) != SP_OK)
    t_inc(&c->errors);
  return NULL;
}

static void test_fair_drop_request(void **state) {
  (void)state;
  const int64_t interval = 2 * MS;
  const int rounds = 5;
  struct fair_ctx *c = calloc(1, sizeof *c);
  assert_non_null(c);
  init_gil(&c->g, SP_GIL_FAIR, interval, 0);
  t_thread h = t_start(fair_holder, c);
  t_wait_for_count(&c->holding, 1);
  for (int r = 0; r < rounds; r++) {
    int64_t t0 = t_now_ns();
    assert_rc(SP_OK, sp_gil_acquire(&c->g));
    int64_t waited = t_now_ns() - t0;
    /* only a drop request, set after a full interval, makes the holder
     * let go */
    assert_true(waited >= interval);
    /* the holder dropped in a yield and cannot have taken it back */
    assert_int_equal(1, t_load(&c->in_yield));
    int done = t_load(&c->done_yields);
    t_sleep_ns(MS);
    assert_int_equal(done, t_load(&c->done_yields));
    assert_int_equal(1, t_load(&c->in_yield));
    assert_rc(SP_OK, sp_gil_release(&c->g));
    /* the holder gets it back (nobody else waits) */
    t_wait_for_count(&c->done_yields, done + 1);
  }
  t_store(&c->stop, 1);
  t_join(h);
  assert_int_equal(0, t_load(&c->errors));
  struct sp_gil_stats st = get_stats(&c->g);
  assert_true(st.acquisitions == (uint64_t)rounds + 1);
  assert_true(st.handoffs_io == (uint64_t)rounds);
  assert_true(st.handoffs_cpu == (uint64_t)rounds);
  assert_true(st.yields - st.yields_noop == (uint64_t)rounds);
  assert_true(st.wait_max_ns >= interval);
  assert_rc(SP_OK, sp_gil_destroy(&c->g));
  free(c);
}

/* FAIR with no waiter: the holder's yields never drop, however long. */
static void test_fair_no_request_without_waiter(void **state) {
  (void)state;
  sp_gil_t g;
  init_gil(&g, SP_GIL_FAIR, 0, 0);
  assert_rc(SP_OK, sp_gil_acquire(&g));
  int64_t end = t_now_ns() + 3 * MS;
  while (t_now_ns() < end)
    assert_rc(SP_OK, sp_gil_yield(&g));
  assert_rc(SP_OK, sp_gil_release(&g));
  struct sp_gil_stats st = get_stats(&g);
  assert_true(st.yields > 0 && st.yields_noop == st.yields);
  assert_true(st.handoffs_io == 0 && st.handoffs_cpu == 0);
  assert_rc(SP_OK, sp_gil_destroy(&g));
}

/* ---- LEGACY: release + re-acquire every yield_skip yields ---------------- */

struct legacy_ctx {
  sp_gil_t g;
  int holding;
  int count; /* yields the holder started */
  int done;  /* the holder left its loop */
  int got;   /* the waiter has the lock */
  int errors;
  long max;
  int64_t deadline;
};

static void *legacy_holder(void *p) {
  struct legacy_ctx *c = p;
  if (sp_gil_acquire(&c->g) != SP_OK)
    t_inc(&c->errors);
  t_store(&c->holding, 1);
  while (!t_load(&c->got) && t_load(&c->count) < c->max &&
         t_now_ns() < c->deadline) {
    spin_work(100);
    t_inc(&c->count);
    if (sp_gil_yield(&c->g) != SP_OK)
      t_inc(&c->errors);
  }
  t_store(&c->done, 1);
  if (sp_gil_release(&c->g) != SP_OK)
    t_inc(&c->errors);
  return NULL;
}

static void test_legacy_check_interval(void **state) {
  (void)state;
  const unsigned skip = 7;
  struct legacy_ctx *c = calloc(1, sizeof *c);
  assert_non_null(c);
  init_gil(&c->g, SP_GIL_LEGACY, -1, skip);
  c->max = t_iters(200000);
  c->deadline = t_stress_deadline();
  t_thread h = t_start(legacy_holder, c);
  t_wait_for_count(&c->holding, 1);
  assert_rc(SP_OK, sp_gil_acquire(&c->g));
  int count = t_load(&c->count);
  int done = t_load(&c->done);
  t_store(&c->got, 1);
  /* The lock is only let go in every skip-th yield (or at the end). */
  if (!done)
    assert_int_equal(0, count % (int)skip);
  assert_rc(SP_OK, sp_gil_release(&c->g));
  t_join(h);
  assert_int_equal(0, t_load(&c->errors));
  struct sp_gil_stats st = get_stats(&c->g);
  print_message("  legacy: the waiter got the lock after %d holder yields "
                "(%s)\n",
                count, done ? "holder finished" : "in a yield");
  assert_true(st.acquisitions == 2);
  /* 0 if the waiter's first try hit the release window of a yield */
  assert_true(st.handoffs_io <= 1);
  assert_true(st.yields == (uint64_t)t_load(&c->count));
  assert_true(st.yields - st.yields_noop == st.yields / skip);
  assert_rc(SP_OK, sp_gil_destroy(&c->g));
  free(c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_bad_inputs),
      cmocka_unit_test(test_eperm),
      cmocka_unit_test(test_yield_alone),
      cmocka_unit_test(test_mutual_exclusion),
      cmocka_unit_test(test_priority_io_next_yield),
      cmocka_unit_test(test_priority_fifo),
      cmocka_unit_test(test_priority_cpu_round_robin),
      cmocka_unit_test(test_priority_wakes_successor),
      cmocka_unit_test(test_priority_io_resumes_slice),
      cmocka_unit_test(test_priority_io_cannot_starve_cpu),
      cmocka_unit_test(test_fair_drop_request),
      cmocka_unit_test(test_fair_no_request_without_waiter),
      cmocka_unit_test(test_legacy_check_interval),
  };
  return T_RUN("gil", tests);
}
