/* The interpreter lock's API beyond acquire/release/yield (issue 10 item 3,
 * issue 11's GIL items), for every policy:
 *  - try and timed acquire (never early), acquire_until, the class hint;
 *  - sp_gil_held, sp_gil_yield_ex, sp_gil_stats_reset, zero-filled locks;
 *  - the GIL-aware blocking waits on every primitive, where the item comes
 *    from a thread that needs the GIL to produce it (no deadlock);
 *  - sp_gil_after_fork_child in a real child process (POSIX);
 *  - SP_ESYS paths through the wait fault seam (src/test_hooks.h): the
 *    error reaches the caller, nothing deadlocks, the lock stays usable;
 *  - the release-touch regression: a worker releases, the owner acquires,
 *    destroys, poisons and frees the lock, thousands of times (run it under
 *    ASan and TSan: a touch after the free is reported there).
 * Orderings are asserted in events; the only time assertion is "a timed
 * acquire did not return before its timeout". */
#include "helpers.h"

#include "../src/test_hooks.h"

#include <stdlib.h>
#include <string.h>

#ifndef _WIN32
#include <sys/wait.h>
#include <unistd.h>
#endif

static const int policies[] = {SP_GIL_LEGACY, SP_GIL_FAIR, SP_GIL_PRIORITY};

static unsigned t_loadu(unsigned *p) {
  return __atomic_load_n(p, __ATOMIC_SEQ_CST);
}

/* Wait (up to 10 s) until a private counter of *g reaches n. */
static void wait_field(unsigned *field, unsigned n) {
  int64_t end = t_now_ns() + 10 * SP_NS_PER_S;
  while (t_loadu(field) < n) {
    if (t_now_ns() > end)
      fail_msg("waited 10 s for a waiter (%u < %u)", t_loadu(field), n);
    t_yield();
  }
}

/* In a thread: count rc as an error unless it is SP_OK. */
static void count_error(int *errors, int rc) {
  if (rc != SP_OK)
    t_inc(errors);
}

/* Release our hold, join the other thread, check it saw no error, and
 * destroy the lock. */
static void release_join_destroy(sp_gil_t *g, t_thread th, int *errors) {
  assert_rc(SP_OK, sp_gil_release(g));
  t_join(th);
  assert_int_equal(0, t_load(errors));
  assert_rc(SP_OK, sp_gil_destroy(g));
}

/* n yields of the held lock, each SP_OK. */
static void yield_n(sp_gil_t *g, int n) {
  for (int i = 0; i < n; i++)
    assert_rc(SP_OK, sp_gil_yield(g));
}

static void init_gil(sp_gil_t *g, int policy) {
  sp_gil_config cfg;
  assert_rc(SP_OK, sp_gil_config_default(&cfg, policy));
  cfg.interval_ns = 2 * MS;
  assert_rc(SP_OK, sp_gil_init(g, &cfg));
}

/* ---- bad inputs of the new calls --------------------------------------- */

static int op_ok(void *arg, int64_t t) {
  (void)arg;
  (void)t;
  return SP_OK;
}

static void test_new_bad_inputs(void **state) {
  (void)state;
  sp_gil_t g;
  sp_gil_config cfg;
  assert_rc(SP_OK, sp_gil_config_default(&cfg, SP_GIL_PRIORITY));
  assert_int_equal(8, cfg.io_burst);
  assert_int_equal(100, cfg.yield_skip);
  assert_rc(SP_OK, sp_gil_config_default(&cfg, SP_GIL_LEGACY));
  assert_int_equal(1, cfg.yield_skip); /* Python 2 with a yield per check */
  assert_rc(SP_EINVAL, sp_gil_acquire_ex(NULL, SP_GIL_IO, SP_FOREVER));
  assert_rc(SP_EINVAL, sp_gil_acquire_until(NULL, SP_GIL_IO, 0));
  assert_rc(SP_EINVAL, sp_gil_yield_ex(NULL, NULL));
  assert_rc(SP_EINVAL, sp_gil_held(NULL));
  assert_rc(SP_EINVAL, sp_gil_stats_reset(NULL));
  assert_rc(SP_EINVAL, sp_gil_after_fork_child(NULL));
  assert_rc(SP_EINVAL, sp_gil_call_blocking(NULL, SP_GIL_IO, op_ok, NULL, 0));
  for (size_t p = 0; p < 3; p++) {
    init_gil(&g, policies[p]);
    assert_rc(SP_EINVAL, sp_gil_acquire_ex(&g, 2, SP_FOREVER));
    assert_rc(SP_EINVAL, sp_gil_acquire_ex(&g, -1, SP_FOREVER));
    assert_rc(SP_EINVAL, sp_gil_acquire_ex(&g, SP_GIL_IO, -2));
    assert_rc(SP_EINVAL, sp_gil_acquire_until(&g, 7, INT64_MAX));
    assert_rc(SP_EPERM, sp_gil_stats_reset(&g)); /* not held */
    assert_rc(SP_EPERM, sp_gil_yield_ex(&g, NULL));
    assert_int_equal(0, sp_gil_held(&g));
    assert_rc(SP_EPERM,
              sp_gil_call_blocking(&g, SP_GIL_IO, op_ok, NULL, SP_FOREVER));
    assert_rc(SP_OK, sp_gil_acquire_ex(&g, SP_GIL_CPU, 0));
    assert_int_equal(1, sp_gil_held(&g));
    assert_rc(SP_EPERM, sp_gil_acquire_ex(&g, SP_GIL_CPU, 0));
    assert_rc(SP_EINVAL, sp_gil_call_blocking(&g, SP_GIL_IO, NULL, NULL, 0));
    assert_rc(SP_EINVAL, sp_gil_call_blocking(&g, 5, op_ok, NULL, 0));
    assert_rc(SP_EINVAL, sp_gil_call_blocking(&g, SP_GIL_IO, op_ok, NULL, -3));
    assert_rc(SP_EINVAL, sp_gil_cond_wait(&g, NULL, NULL, -3));
    assert_rc(SP_EINVAL, sp_gil_barrier_wait(&g, NULL, -3, NULL));
    assert_rc(SP_OK, sp_gil_call_blocking(&g, SP_GIL_IO, op_ok, NULL, 0));
    assert_int_equal(1, sp_gil_held(&g));
    assert_rc(SP_OK, sp_gil_release(&g));
    assert_rc(SP_OK, sp_gil_destroy(&g));
    assert_rc(SP_EINVAL, sp_gil_held(&g));
    assert_rc(SP_EINVAL, sp_gil_acquire_ex(&g, SP_GIL_IO, 0));
    assert_rc(SP_EINVAL, sp_gil_after_fork_child(&g));
  }
  /* garbage is not a lock */
  memset(&g, 0x5a, sizeof g);
  assert_rc(SP_EINVAL, sp_gil_acquire(&g));
  assert_rc(SP_EINVAL, sp_gil_held(&g));
}

/* ---- zero-filled and SP_GIL_INIT ---------------------------------------- */

static sp_gil_t static_gil = SP_GIL_INIT;

struct zero_ctx {
  sp_gil_t *g;
  int errors;
  int count;
};

static void zero_thread(void *arg, int idx) {
  (void)idx;
  struct zero_ctx *c = arg;
  for (int i = 0; i < 200; i++) {
    if (sp_gil_acquire(c->g) != SP_OK) {
      t_inc(&c->errors);
      return;
    }
    c->count++; /* under the lock */
    if (sp_gil_yield(c->g) != SP_OK || sp_gil_release(c->g) != SP_OK)
      t_inc(&c->errors);
  }
}

static void test_zero_filled(void **state) {
  (void)state;
  /* first use by several threads at once: set up once, race-free */
  struct zero_ctx c = {&static_gil, 0, 0};
  t_bunch b;
  t_bunch_start(&b, 4, zero_thread, &c);
  t_bunch_join(&b);
  assert_int_equal(0, t_load(&c.errors));
  assert_int_equal(800, c.count);
  struct sp_gil_stats st;
  assert_rc(SP_OK, sp_gil_stats(&static_gil, &st));
  assert_true(st.acquisitions == 800);
  assert_rc(SP_OK, sp_gil_destroy(&static_gil));
  assert_rc(SP_EINVAL, sp_gil_acquire(&static_gil)); /* destroyed */
  assert_rc(SP_OK, sp_gil_init(&static_gil, NULL));
  assert_rc(SP_OK, sp_gil_destroy(&static_gil));
  sp_gil_t *h = calloc(1, sizeof *h);
  assert_non_null(h);
  assert_rc(SP_OK, sp_gil_acquire_ex(h, SP_GIL_CPU, 0));
  assert_int_equal(1, sp_gil_held(h));
  assert_rc(SP_OK, sp_gil_release(h));
  assert_rc(SP_OK, sp_gil_destroy(h));
  free(h);
}

/* ---- try and timed acquire, acquire_until ---------------------------------
 */

struct hold_ctx {
  sp_gil_t *g;
  int held;
  int release;
  int errors;
};

static void *holder_thread(void *p) {
  struct hold_ctx *c = p;
  count_error(&c->errors, sp_gil_acquire(c->g));
  t_store(&c->held, 1);
  while (!t_load(&c->release))
    t_yield(); /* holds it without a check point: nobody gets it */
  count_error(&c->errors, sp_gil_release(c->g));
  return NULL;
}

static void test_timed_acquire(void **state) {
  (void)state;
  for (size_t p = 0; p < 3; p++) {
    sp_gil_t g;
    init_gil(&g, policies[p]);
    struct hold_ctx c = {&g, 0, 0, 0};
    t_thread th = t_start(holder_thread, &c);
    t_wait_for_count(&c.held, 1);
    for (int cls = SP_GIL_IO; cls <= SP_GIL_CPU; cls++) {
      assert_rc(SP_BUSY, sp_gil_acquire_ex(&g, cls, 0));
      assert_rc(SP_BUSY, sp_gil_acquire_until(&g, cls, t_now_ns() - MS));
      for (int k = 0; k < 3; k++) {
        int64_t timeout = (k + 1) * 5 * MS;
        int64_t t0 = t_now_ns();
        assert_rc(SP_TIMEDOUT, sp_gil_acquire_ex(&g, cls, timeout));
        assert_true(t_now_ns() - t0 >= timeout); /* never early */
        int64_t dl = t_now_ns() + timeout;
        assert_rc(SP_TIMEDOUT, sp_gil_acquire_until(&g, cls, dl));
        assert_true(t_now_ns() >= dl);
        assert_int_equal(0, sp_gil_held(&g));
      }
    }
    /* the timed-out waiters left: nobody else is queued */
    assert_int_equal(0, (int)t_loadu(&g.io_waiting_));
    assert_int_equal(0, (int)t_loadu(&g.cpu_waiting_));
    t_store(&c.release, 1);
    /* a timed acquire that gets the lock in time */
    assert_rc(SP_OK, sp_gil_acquire_ex(&g, SP_GIL_IO, 10 * SP_NS_PER_S));
    assert_int_equal(1, sp_gil_held(&g));
    release_join_destroy(&g, th, &c.errors);
  }
}

/* A timed-out waiter races with hand-offs: many short timeouts against a
 * holder that keeps handing over; every call ends in SP_OK (holding it) or
 * SP_TIMEDOUT (not holding it), and the lock stays consistent. */
struct race_ctx {
  sp_gil_t g;
  int stop;
  int errors;
  int got;
  int timeouts;
  int inside;
  int64_t deadline;
};

static void race_thread(void *arg, int idx) {
  struct race_ctx *c = arg;
  long n = t_iters(3000);
  for (long i = 0; i < n && t_now_ns() < c->deadline; i++) {
    int cls = (idx + (int)i) % 2 ? SP_GIL_CPU : SP_GIL_IO;
    int rc = sp_gil_acquire_ex(&c->g, cls, (i % 5) * 20000);
    if (rc == SP_OK) {
      if (t_inc(&c->inside) != 1) {
        t_inc(&c->errors);
        print_error("two holders\n");
      }
      t_inc(&c->got);
      int y = SP_OK, h = sp_gil_held(&c->g);
      __atomic_sub_fetch(&c->inside, 1, __ATOMIC_SEQ_CST);
      if (h != 1 || (y = sp_gil_yield(&c->g)) != SP_OK) {
        t_inc(&c->errors);
        print_error("held %d yield %s\n", h, sp_strerror(y));
      }
      if (t_inc(&c->inside) != 1) {
        t_inc(&c->errors);
        print_error("two holders after a yield\n");
      }
      __atomic_sub_fetch(&c->inside, 1, __ATOMIC_SEQ_CST);
      count_error(&c->errors, sp_gil_release(&c->g));
    } else if (rc == SP_TIMEDOUT || rc == SP_BUSY) {
      t_inc(&c->timeouts);
      if (sp_gil_held(&c->g) != 0) {
        t_inc(&c->errors);
        print_error("timed out, yet held\n");
      }
    } else {
      t_inc(&c->errors);
      print_error("acquire: %s\n", sp_strerror(rc));
    }
  }
}

static void test_timed_acquire_races(void **state) {
  (void)state;
  for (size_t p = 0; p < 3; p++) {
    struct race_ctx *c = calloc(1, sizeof *c);
    assert_non_null(c);
    init_gil(&c->g, policies[p]);
    c->deadline = t_stress_deadline();
    t_bunch b;
    t_bunch_start(&b, 4, race_thread, c);
    t_bunch_join(&b);
    assert_int_equal(0, t_load(&c->errors));
    assert_true(t_load(&c->got) > 0);
    print_message("  policy %d: %d acquired, %d timed out\n", policies[p],
                  t_load(&c->got), t_load(&c->timeouts));
    assert_rc(SP_OK, sp_gil_destroy(&c->g)); /* nobody left in a queue */
    free(c);
  }
}

/* ---- the class hint (PRIORITY) --------------------------------------------
 */

struct order_ctx {
  sp_gil_t *g;
  int pos;
  int order[4];
  int errors;
};

struct order_arg {
  struct order_ctx *c;
  int id;
  int cls;
};

static void *order_thread(void *p) {
  struct order_arg *a = p;
  if (sp_gil_acquire_ex(a->c->g, a->cls, SP_FOREVER) != SP_OK) {
    t_inc(&a->c->errors);
    return NULL;
  }
  a->c->order[a->c->pos++] = a->id; /* under the lock */
  count_error(&a->c->errors, sp_gil_release(a->c->g));
  return NULL;
}

static void test_class_hint(void **state) {
  (void)state;
  sp_gil_t g;
  sp_gil_config cfg;
  sp_gil_config_default(&cfg, SP_GIL_PRIORITY);
  cfg.interval_ns = 60 * SP_NS_PER_S;
  cfg.yield_skip = 1000000;
  assert_rc(SP_OK, sp_gil_init(&g, &cfg));
  struct order_ctx c;
  memset(&c, 0, sizeof c);
  c.g = &g;
  assert_rc(SP_OK, sp_gil_acquire(&g));
  /* a CPU-class waiter queues first, then an I/O one */
  struct order_arg a0 = {&c, 0, SP_GIL_CPU}, a1 = {&c, 1, SP_GIL_IO};
  t_thread t0 = t_start(order_thread, &a0);
  wait_field(&g.cpu_waiting_, 1);
  /* a yield with only a CPU-class waiter, slice not over: keeps the lock */
  int switched = -1;
  assert_rc(SP_OK, sp_gil_yield_ex(&g, &switched));
  assert_int_equal(0, switched);
  assert_int_equal(0, t_load(&c.pos));
  t_thread t1 = t_start(order_thread, &a1);
  wait_field(&g.io_waiting_, 1);
  /* the yield hands to the I/O waiter, which jumps ahead of the CPU one;
   * the yielder (owner of the turn) resumes before the CPU waiter */
  assert_rc(SP_OK, sp_gil_yield_ex(&g, &switched));
  assert_int_equal(1, switched);
  assert_int_equal(1, c.pos);
  assert_int_equal(1, c.order[0]);
  assert_rc(SP_OK, sp_gil_release(&g)); /* to the CPU waiter now */
  t_join(t0);
  t_join(t1);
  assert_int_equal(0, t_load(&c.errors));
  assert_int_equal(2, c.pos);
  assert_int_equal(0, c.order[1]);
  struct sp_gil_stats st;
  assert_rc(SP_OK, sp_gil_stats(&g, &st));
  assert_true(st.handoffs_io == 1);
  assert_true(st.handoffs_cpu == 2); /* the yielder back, the CPU waiter */
  assert_true(st.turns == 1);        /* the CPU waiter's turn */
  assert_rc(SP_OK, sp_gil_destroy(&g));
}

/* ---- yield_ex and stats_reset ----------------------------------------------
 */

static void test_yield_ex_and_reset(void **state) {
  (void)state;
  for (size_t p = 0; p < 3; p++) {
    sp_gil_t g;
    init_gil(&g, policies[p]);
    assert_rc(SP_OK, sp_gil_acquire(&g));
    int sw = -1;
    assert_rc(SP_OK, sp_gil_yield_ex(&g, &sw));
    assert_int_equal(0, sw); /* nobody waits */
    assert_rc(SP_OK, sp_gil_yield_ex(&g, NULL));
    struct sp_gil_stats st;
    assert_rc(SP_OK, sp_gil_stats(&g, &st));
    assert_true(st.yields == 2 && st.acquisitions == 1);
    assert_rc(SP_OK, sp_gil_stats_reset(&g));
    assert_rc(SP_OK, sp_gil_stats(&g, &st));
    assert_true(st.yields == 0 && st.acquisitions == 0 && st.wait_max_ns == 0 &&
                st.yields_noop == 0);
    assert_rc(SP_OK, sp_gil_release(&g));
    assert_rc(SP_OK, sp_gil_destroy(&g));
  }
}

struct sw_ctx {
  sp_gil_t *g;
  int got;
  int errors;
};

static void *sw_waiter(void *p) {
  struct sw_ctx *c = p;
  count_error(&c->errors, sp_gil_acquire(c->g));
  t_store(&c->got, 1);
  count_error(&c->errors, sp_gil_release(c->g));
  return NULL;
}

static void test_yield_ex_switched(void **state) {
  (void)state;
  for (size_t p = 0; p < 3; p++) {
    sp_gil_t g;
    init_gil(&g, policies[p]);
    assert_rc(SP_OK, sp_gil_acquire(&g));
    struct sw_ctx c = {&g, 0, 0};
    t_thread th = t_start(sw_waiter, &c);
    wait_field(&g.waiters_, 1);
    int sw = 0;
    int64_t end = t_now_ns() + 10 * SP_NS_PER_S;
    while (!sw && t_now_ns() < end) {
      assert_rc(SP_OK, sp_gil_yield_ex(&g, &sw));
      /* switched <=> the waiter held the lock meanwhile */
      assert_int_equal(sw, t_load(&c.got));
      if (!sw)
        t_yield();
    }
    /* LEGACY promises nothing: its waiter may lose every race */
    if (policies[p] != SP_GIL_LEGACY)
      assert_int_equal(1, sw);
    release_join_destroy(&g, th, &c.errors);
  }
}

/* ---- GIL-aware blocking waits ------------------------------------------ */

/* The producer needs the GIL to produce: without the GIL-aware wait the
 * consumer, blocking with the GIL held, would deadlock. */
struct blk_ctx {
  sp_gil_t g;
  sp_queue_t q, q1;
  sp_lock_t l;
  sp_rlock_t r;
  sp_sem_t s;
  sp_event_t e;
  sp_mutex_t m;
  sp_cond_t cv;
  sp_barrier_t b;
  int flag; /* under m */
  int which;
  int consumer_in; /* atomic: the consumer is (about to be) blocked */
  int errors;
};

enum {
  BK_QGET,
  BK_QPUT,
  BK_QJOIN,
  BK_LOCK,
  BK_RLOCK,
  BK_SEM,
  BK_EVENT,
  BK_COND,
  BK_BARRIER,
  BK_N
};
static const char *bk_names[BK_N] = {"queue get", "queue put", "queue join",
                                     "lock",      "rlock",     "semaphore",
                                     "event",     "condition", "barrier"};

static void *blk_producer(void *p) {
  struct blk_ctx *c = p;
  if (c->which == BK_LOCK) { /* hold the lock before the consumer tries */
    count_error(&c->errors, sp_lock_acquire(&c->l, SP_FOREVER));
  }
  if (c->which == BK_RLOCK) {
    count_error(&c->errors, sp_rlock_acquire(&c->r, SP_FOREVER));
  }
  t_store(&c->consumer_in, 2); /* the consumer may start */
  while (t_load(&c->consumer_in) != 1)
    t_yield();
  /* produce, as an interpreter thread: the GIL first */
  count_error(&c->errors, sp_gil_acquire(&c->g));
  int rc = SP_OK;
  void *item;
  switch (c->which) {
  case BK_QGET:
    rc = sp_queue_put(&c->q, (void *)(intptr_t)42, SP_FOREVER);
    break;
  case BK_QPUT:
    rc = sp_gil_queue_get(&c->g, &c->q1, &item, SP_FOREVER);
    break;
  case BK_QJOIN:
    rc = sp_gil_queue_get(&c->g, &c->q, &item, SP_FOREVER);
    if (rc == SP_OK)
      rc = sp_queue_task_done(&c->q);
    break;
  case BK_LOCK:
    rc = sp_lock_release(&c->l);
    break;
  case BK_RLOCK:
    rc = sp_rlock_release(&c->r);
    break;
  case BK_SEM:
    rc = sp_sem_release(&c->s, 1);
    break;
  case BK_EVENT:
    rc = sp_event_set(&c->e);
    break;
  case BK_COND:
    rc = sp_gil_mutex_lock(&c->g, &c->m);
    if (rc == SP_OK) {
      c->flag = 1;
      rc = sp_cond_signal(&c->cv);
      sp_mutex_unlock(&c->m);
    }
    break;
  case BK_BARRIER:
    rc = sp_gil_barrier_wait(&c->g, &c->b, SP_FOREVER, NULL);
    break;
  }
  count_error(&c->errors, rc);
  count_error(&c->errors, sp_gil_release(&c->g));
  return NULL;
}

static void blk_case(int policy, int which) {
  struct blk_ctx *c = calloc(1, sizeof *c);
  assert_non_null(c);
  init_gil(&c->g, policy);
  assert_rc(SP_OK, sp_queue_init(&c->q, 0));
  assert_rc(SP_OK, sp_queue_init(&c->q1, 1));
  assert_rc(SP_OK, sp_lock_init(&c->l));
  assert_rc(SP_OK, sp_rlock_init(&c->r));
  assert_rc(SP_OK, sp_sem_init(&c->s, 0, 0));
  assert_rc(SP_OK, sp_event_init(&c->e));
  assert_rc(SP_OK, sp_mutex_init(&c->m));
  assert_rc(SP_OK, sp_cond_init(&c->cv));
  assert_rc(SP_OK, sp_barrier_init(&c->b, 2, NULL, NULL));
  c->which = which;
  if (which == BK_QPUT)
    assert_rc(SP_OK, sp_queue_put(&c->q1, NULL, 0)); /* full */
  if (which == BK_QJOIN)
    assert_rc(SP_OK, sp_queue_put(&c->q, NULL, 0)); /* one unfinished */
  t_thread th = t_start(blk_producer, c);
  t_wait_for_count(&c->consumer_in, 2);
  assert_rc(SP_OK, sp_gil_acquire(&c->g));
  t_store(&c->consumer_in, 1);
  int rc = SP_OK;
  void *item = NULL;
  switch (which) {
  case BK_QGET:
    rc = sp_gil_queue_get(&c->g, &c->q, &item, SP_FOREVER);
    assert_true(item == (void *)(intptr_t)42);
    break;
  case BK_QPUT:
    rc = sp_gil_queue_put(&c->g, &c->q1, (void *)(intptr_t)7, SP_FOREVER);
    break;
  case BK_QJOIN:
    rc = sp_gil_queue_join(&c->g, &c->q, SP_FOREVER);
    break;
  case BK_LOCK:
    rc = sp_gil_lock_acquire(&c->g, &c->l, SP_FOREVER);
    break;
  case BK_RLOCK:
    rc = sp_gil_rlock_acquire(&c->g, &c->r, SP_FOREVER);
    if (rc == SP_OK)
      assert_rc(SP_OK, sp_rlock_release(&c->r));
    break;
  case BK_SEM:
    rc = sp_gil_sem_acquire(&c->g, &c->s, SP_FOREVER);
    break;
  case BK_EVENT:
    rc = sp_gil_event_wait(&c->g, &c->e, SP_FOREVER);
    break;
  case BK_COND:
    assert_rc(SP_OK, sp_gil_mutex_lock(&c->g, &c->m));
    while (rc == SP_OK && !c->flag)
      rc = sp_gil_cond_wait(&c->g, &c->cv, &c->m, SP_FOREVER);
    sp_mutex_unlock(&c->m);
    break;
  case BK_BARRIER:
    rc = sp_gil_barrier_wait(&c->g, &c->b, SP_FOREVER, NULL);
    break;
  }
  if (rc != SP_OK)
    fail_msg("policy %d, %s: %s", policy, bk_names[which], sp_strerror(rc));
  assert_int_equal(1, sp_gil_held(&c->g)); /* the GIL is back */
  assert_rc(SP_OK, sp_gil_release(&c->g));
  t_join(th);
  assert_int_equal(0, t_load(&c->errors));
  if (which == BK_LOCK)
    assert_rc(SP_OK, sp_lock_release(&c->l));
  assert_rc(SP_OK, sp_barrier_destroy(&c->b));
  assert_rc(SP_OK, sp_cond_destroy(&c->cv));
  assert_rc(SP_OK, sp_mutex_destroy(&c->m));
  assert_rc(SP_OK, sp_event_destroy(&c->e));
  assert_rc(SP_OK, sp_sem_destroy(&c->s));
  assert_rc(SP_OK, sp_rlock_destroy(&c->r));
  assert_rc(SP_OK, sp_lock_destroy(&c->l));
  void *x;
  while (sp_queue_get(&c->q1, &x, 0) == SP_OK)
    ;
  assert_rc(SP_OK, sp_queue_destroy(&c->q1));
  assert_rc(SP_OK, sp_queue_destroy(&c->q));
  assert_rc(SP_OK, sp_gil_destroy(&c->g));
  free(c);
}

static void test_blocking_waits(void **state) {
  (void)state;
  for (size_t p = 0; p < 3; p++)
    for (int w = 0; w < BK_N; w++)
      blk_case(policies[p], w);
}

/* Timeouts and the try step: the GIL is held on every return. */
static int op_count_calls;
static int op_busy_then_ok(void *arg, int64_t t) {
  (void)arg;
  op_count_calls++;
  return t == 0 ? SP_BUSY : SP_OK;
}

static void test_blocking_timeouts(void **state) {
  (void)state;
  for (size_t p = 0; p < 3; p++) {
    sp_gil_t g;
    sp_queue_t q;
    init_gil(&g, policies[p]);
    assert_rc(SP_OK, sp_queue_init(&q, 0));
    assert_rc(SP_OK, sp_gil_acquire(&g));
    void *item;
    assert_rc(SP_BUSY, sp_gil_queue_get(&g, &q, &item, 0));
    assert_int_equal(1, sp_gil_held(&g));
    int64_t t0 = t_now_ns();
    assert_rc(SP_TIMEDOUT, sp_gil_queue_get(&g, &q, &item, 10 * MS));
    assert_true(t_now_ns() - t0 >= 10 * MS);
    assert_int_equal(1, sp_gil_held(&g));
    assert_rc(SP_OK, sp_queue_put(&q, &q, 0));
    assert_rc(SP_OK, sp_gil_queue_get(&g, &q, &item, SP_FOREVER));
    assert_true(item == &q);
    /* the generic call: tried once with the GIL, then blocks without it */
    op_count_calls = 0;
    assert_rc(SP_OK, sp_gil_call_blocking(&g, SP_GIL_CPU, op_busy_then_ok, NULL,
                                          SP_FOREVER));
    assert_int_equal(2, op_count_calls);
    op_count_calls = 0;
    assert_rc(SP_BUSY,
              sp_gil_call_blocking(&g, SP_GIL_CPU, op_busy_then_ok, NULL, 0));
    assert_int_equal(1, op_count_calls);
    assert_int_equal(1, sp_gil_held(&g));
    assert_rc(SP_OK, sp_gil_release(&g));
    assert_rc(SP_OK, sp_queue_destroy(&q));
    assert_rc(SP_OK, sp_gil_destroy(&g));
  }
}

/* ---- after fork --------------------------------------------------------- */

#ifndef _WIN32
struct fork_ctx {
  sp_gil_t *g;
  int queued;
  int errors;
};

static void *fork_waiter(void *p) {
  struct fork_ctx *c = p;
  t_store(&c->queued, 1);
  count_error(&c->errors, sp_gil_acquire(c->g));
  count_error(&c->errors, sp_gil_release(c->g));
  return NULL;
}

/* In the child: what an interpreter does after fork. 0 if all is well. */
static int fork_child_body(sp_gil_t *g) {
  if (sp_gil_after_fork_child(g) != SP_OK)
    return 10;
  if (sp_gil_held(g) != 1)
    return 11;
  struct sp_gil_stats st;
  if (sp_gil_stats(g, &st) != SP_OK || st.acquisitions != 0)
    return 12;
  if (sp_gil_yield(g) != SP_OK)
    return 13;
  if (sp_gil_release(g) != SP_OK || sp_gil_held(g) != 0)
    return 14;
  struct fork_ctx c = {g, 0, 0};
  if (sp_gil_acquire(g) != SP_OK)
    return 15;
  /* a new thread in the child can use it */
  t_thread th = t_start(fork_waiter, &c);
  while (!t_load(&c.queued))
    t_yield();
  for (int i = 0; i < 100; i++)
    if (sp_gil_yield(g) != SP_OK)
      return 16;
  if (sp_gil_release(g) != SP_OK)
    return 17;
  t_join(th);
  if (c.errors != 0)
    return 18;
  if (sp_gil_destroy(g) != SP_OK)
    return 19;
  return 0;
}

#if defined(__SANITIZE_THREAD__)
#define T_TSAN_ 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define T_TSAN_ 1
#endif
#endif

static void test_after_fork(void **state) {
  (void)state;
#ifdef T_TSAN_
  /* ThreadSanitizer does not support fork() with live threads (it reports
   * the parent's threads as leaked in the child and exits 66); the plain
   * and ASan builds run this test. */
  print_message("  skipped under ThreadSanitizer (fork with threads)\n");
  return;
#endif
  const char *why = t_fork_with_threads_unsupported();
  if (why != NULL) {
    print_message("  skipped: %s\n", why);
    skip();
  }
  for (size_t p = 0; p < 3; p++) {
    for (int holding = 0; holding < 2; holding++) {
      sp_gil_t g;
      init_gil(&g, policies[p]);
      struct fork_ctx c = {&g, 0, 0};
      t_thread th;
      if (holding) {
        /* fork while holding, with another thread waiting in the queue */
        assert_rc(SP_OK, sp_gil_acquire(&g));
        th = t_start(fork_waiter, &c);
        wait_field(&g.waiters_, 1);
      } else {
        th = t_start(fork_waiter, &c); /* it may hold it at fork time */
        t_wait_for_count(&c.queued, 1);
      }
      fflush(NULL);
      pid_t pid = fork();
      assert_true(pid >= 0);
      if (pid == 0)
        _exit(fork_child_body(&g));
      int st = 0;
      assert_true(waitpid(pid, &st, 0) == pid);
      if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        fail_msg("policy %d holding %d: child failed (status %d)", policies[p],
                 holding, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
      if (holding)
        assert_rc(SP_OK, sp_gil_release(&g));
      t_join(th);
      assert_int_equal(0, t_load(&c.errors));
      assert_rc(SP_OK, sp_gil_destroy(&g));
    }
  }
}
#endif

/* ---- SP_ESYS: a failing wait never deadlocks ------------------------------
 */

struct esys_ctx {
  sp_gil_t g;
  int holding;
  int stop;
  int errors;
  int rc;
  int done;
};

/* A zeroed context on the heap, its lock initialised with that policy. */
static struct esys_ctx *esys_new(int policy) {
  struct esys_ctx *c = calloc(1, sizeof *c);
  assert_non_null(c);
  init_gil(&c->g, policy);
  return c;
}

static void *esys_holder(void *p) {
  struct esys_ctx *c = p;
  count_error(&c->errors, sp_gil_acquire(&c->g));
  t_store(&c->holding, 1);
  while (!t_load(&c->stop)) {
    int rc = sp_gil_yield(&c->g);
    if (rc != SP_OK) { /* a yield that handed over and could not wait */
      if (rc != SP_ESYS || sp_gil_held(&c->g) != 0)
        t_inc(&c->errors);
      while ((rc = sp_gil_acquire(&c->g)) == SP_ESYS)
        t_yield(); /* until the seam is turned off */
      count_error(&c->errors, rc);
    }
    t_yield();
  }
  count_error(&c->errors, sp_gil_release(&c->g));
  return NULL;
}

static void *esys_waiter(void *p) {
  struct esys_ctx *c = p;
  c->rc = sp_gil_acquire(&c->g);
  t_store(&c->done, 1);
  if (c->rc == SP_OK && sp_gil_release(&c->g) != SP_OK)
    t_inc(&c->errors);
  return NULL;
}

static void test_esys_waits(void **state) {
  (void)state;
  for (size_t p = 0; p < 3; p++) {
    /* k = how many waits work before they fail: the first fails, or a later
     * one (FAIR: after the timed wait that set a drop request) */
    for (int k = 0; k < 3; k++) {
      struct esys_ctx *c = esys_new(policies[p]);
      t_thread h = t_start(esys_holder, c);
      t_wait_for_count(&c->holding, 1);
      sp_gil_set_wait_fail_after_(k);
      t_thread w = t_start(esys_waiter, c);
      /* the waiter either fails with SP_ESYS or (if the holder let go while
       * a wait still worked) gets the lock: never stuck */
      int64_t end = t_now_ns() + 20 * SP_NS_PER_S;
      while (!t_load(&c->done) && t_now_ns() < end)
        t_sleep_ns(MS);
      sp_gil_set_wait_fail_after_(-1);
      if (!t_load(&c->done)) {
        t_store(&c->stop, 1); /* unstick it for the report */
        t_join(w);
        fail_msg("policy %d k %d: the waiter never returned", policies[p], k);
      }
      t_join(w);
      /* FAIR's condition waits can fail; LEGACY and PRIORITY wait on futex
       * words, which cannot */
      if (c->rc != SP_OK && (c->rc != SP_ESYS || policies[p] != SP_GIL_FAIR))
        fail_msg("policy %d k %d: %s", policies[p], k, sp_strerror(c->rc));
      /* the lock still works: the holder lets go, we take it */
      t_store(&c->stop, 1);
      t_join(h);
      assert_int_equal(0, t_load(&c->errors));
      assert_rc(SP_OK, sp_gil_acquire(&c->g));
      assert_rc(SP_OK, sp_gil_release(&c->g));
      assert_rc(SP_OK, sp_gil_destroy(&c->g));
      free(c);
    }
  }
}

/* FAIR: a waiter sets a drop request, then its wait fails: the holder's
 * next yield and release must not wait forever for a switch. */
static void test_fair_esys_drop_request(void **state) {
  (void)state;
  struct esys_ctx *c = esys_new(SP_GIL_FAIR);
  assert_rc(SP_OK, sp_gil_acquire(&c->g));
  sp_gil_set_wait_fail_after_(1); /* the interval wait works, then fail */
  t_thread w = t_start(esys_waiter, c);
  t_wait_for_count(&c->done, 1);
  sp_gil_set_wait_fail_after_(-1);
  t_join(w);
  assert_rc(SP_ESYS, c->rc);
  assert_int_equal(0, (int)t_loadu(&c->g.fair_waiters_));
  assert_int_equal(0, t_load(&c->g.drop_request_)); /* cleared on leaving */
  yield_n(&c->g, 100);
  assert_rc(SP_OK, sp_gil_release(&c->g));
  assert_rc(SP_OK, sp_gil_destroy(&c->g));
  free(c);
}

/* PRIORITY and LEGACY wait on futex words: no OS object is created, so no
 * wait can fail. With every fault seam armed, a yield that hands the lock
 * to an I/O thread (which holds it long enough for the yielder to sleep)
 * still gets it back, and the I/O thread, asleep before, still gets it. */
struct yesys_ctx {
  sp_gil_t g;
  int got;
  int errors;
};

static void *yesys_io(void *p) {
  struct yesys_ctx *c = p;
  count_error(&c->errors, sp_gil_acquire(&c->g));
  t_store(&c->got, 1);
  t_sleep_ns(5 * MS); /* the yielder gives up spinning and sleeps */
  count_error(&c->errors, sp_gil_release(&c->g));
  return NULL;
}

static void test_futex_waits_cannot_fail(void **state) {
  (void)state;
  static const int pols[2] = {SP_GIL_PRIORITY, SP_GIL_LEGACY};
  for (int p = 0; p < 2; p++) {
    struct yesys_ctx *c = calloc(1, sizeof *c);
    assert_non_null(c);
    init_gil(&c->g, pols[p]);
    assert_rc(SP_OK, sp_gil_acquire(&c->g));
    t_thread th = t_start(yesys_io, c);
    wait_field(&c->g.waiters_, 1);
    if (pols[p] == SP_GIL_PRIORITY) { /* it sleeps before the seams arm */
      int64_t end = t_now_ns() + 10 * SP_NS_PER_S;
      while (sp_gil_io_head_state_(&c->g) != SP_GW_PARKED_) {
        if (t_now_ns() > end)
          fail_msg("the I/O waiter never went to sleep");
        t_yield();
      }
    }
    sp_gil_set_wait_fail_after_(0);
    sp_fault_set_from_(SP_FAULT_SEMA_INIT_, 1);
    int rc = SP_OK;
    if (pols[p] == SP_GIL_PRIORITY) {
      rc = sp_gil_yield(&c->g); /* hands over, sleeps, gets it back */
    } else { /* LEGACY: release, let the waiter in, take it back */
      rc = sp_gil_release(&c->g);
      while (rc == SP_OK && !t_load(&c->got))
        t_yield();
      if (rc == SP_OK)
        rc = sp_gil_acquire(&c->g);
    }
    sp_fault_clear_();
    sp_gil_set_wait_fail_after_(-1);
    assert_rc(SP_OK, rc);
    assert_int_equal(1, sp_gil_held(&c->g));
    assert_int_equal(1, t_load(&c->got));
    release_join_destroy(&c->g, th, &c->errors);
    free(c);
  }
}

/* FAIR through the library-wide fault seam: its condition wait fails when
 * the wait's per-waiter semaphore cannot be created (the sem and win32-sem
 * backends, where a condition wait creates one; the native conditions of
 * the other backends create none, and the GIL's own seam above covers
 * them): the waiter gets SP_ESYS, the holder is not left waiting. */
static void test_fair_esys_fault_seam(void **state) {
  (void)state;
  int emulated = strcmp(sp_backend(), "sem") == 0 ||
                 strcmp(sp_backend(), "win32-sem") == 0;
  struct esys_ctx *c = esys_new(SP_GIL_FAIR);
  assert_rc(SP_OK, sp_gil_acquire(&c->g));
  sp_fault_set_from_(SP_FAULT_SEMA_INIT_, 1);
  t_thread w = t_start(esys_waiter, c);
  if (emulated) {
    t_wait_for_count(&c->done, 1);
    sp_fault_clear_();
    t_join(w);
    assert_rc(SP_ESYS, c->rc);
    assert_int_equal(0, (int)t_loadu(&c->g.fair_waiters_));
  } else {
    /* nothing to fail: the waiter gets the lock once we let it go */
    wait_field(&c->g.fair_waiters_, 1);
    yield_n(&c->g, 10);
    assert_rc(SP_OK, sp_gil_release(&c->g));
    t_join(w);
    sp_fault_clear_();
    assert_rc(SP_OK, c->rc);
    assert_rc(SP_OK, sp_gil_acquire(&c->g));
  }
  yield_n(&c->g, 100);
  assert_rc(SP_OK, sp_gil_release(&c->g));
  assert_int_equal(0, t_load(&c->errors));
  assert_rc(SP_OK, sp_gil_destroy(&c->g));
  free(c);
}

/* ---- release-touch regression ------------------------------------------- */

/* A worker holds the lock; the owner queues for it (or spins on a try
 * after a timed-out acquire); the worker releases (the slow path, with a
 * waiter); the owner acquires, destroys, poisons and frees it at once. The
 * release hook (src/test_hooks.h) sleeps right after the release has made
 * the lock available, so the owner has time to free it: under ASan any
 * later touch by the release is a use-after-free report, under TSan a race.
 * Checked to fail: the previous FAIR drop (it read drop_request_ and
 * counted itself in waiters_ after unlocking mu_) gives a heap-use-after-
 * free in sp_fair_drop_ under ASan here. */
struct touch_ctx {
  sp_gil_t *volatile g;
  int phase;    /* 1: worker, acquire; 2: worker holds; 3: owner queued;
                   4: worker released; 0: quit */
  int spinning; /* this iteration: the owner spins on try-acquire */
  int errors;
};

static void *touch_worker(void *p) {
  struct touch_ctx *c = p;
  for (;;) {
    int ph;
    while ((ph = t_load(&c->phase)) != 1 && ph != -1)
      t_yield();
    if (ph == -1)
      return NULL;
    sp_gil_t *g = c->g;
    count_error(&c->errors, sp_gil_acquire(g));
    t_store(&c->phase, 2);
    while (t_load(&c->phase) != 3)
      t_yield();
    /* the owner is inside acquire (queued, or about to be), or spins on
     * try-acquire after a timed-out acquire left the state word at "held,
     * waited on", so that this release takes its slow path while the
     * owner can take the lock by the fast path at any instant */
    int64_t end = t_now_ns() + 5 * MS;
    while (!c->spinning && t_loadu(&g->waiters_) == 0 && t_now_ns() < end)
      t_yield();
    count_error(&c->errors, sp_gil_release(g)); /* the call under test */
    t_store(&c->phase, 4);
  }
}

static void touch_pause(void) {
  t_sleep_ns(20000); /* the owner destroys and frees meanwhile, if it can */
}

static void test_release_touch(void **state) {
  (void)state;
  sp_gil_set_release_hook_(touch_pause);
  for (size_t p = 0; p < 3; p++) {
    struct touch_ctx c;
    memset(&c, 0, sizeof c);
    t_thread w = t_start(touch_worker, &c);
    long n = t_iters(1000), i;
    int64_t deadline = t_stress_deadline();
    for (i = 0; i < n && t_now_ns() < deadline; i++) {
      sp_gil_t *g = malloc(sizeof *g);
      assert_non_null(g);
      init_gil(g, policies[p]);
      c.g = g;
      c.spinning = (int)(i % 2);
      t_store(&c.phase, 1);
      while (t_load(&c.phase) != 2)
        t_yield();
      if (c.spinning) {
        /* a timed-out acquire: LEGACY leaves its state word at 2 */
        assert_rc(SP_TIMEDOUT, sp_gil_acquire_ex(g, SP_GIL_IO, 1000));
        t_store(&c.phase, 3);
        int rc0;
        while ((rc0 = sp_gil_acquire_ex(g, SP_GIL_IO, 0)) == SP_BUSY)
          ;
        assert_rc(SP_OK, rc0);
      } else {
        t_store(&c.phase, 3);
        assert_rc(SP_OK, sp_gil_acquire(g));
      }
      assert_rc(SP_OK, sp_gil_release(g));
      /* A FAIR releaser may still wait for its switch: destroy says
       * SP_EPERM until it has returned. */
      int rc;
      int64_t end = t_now_ns() + 10 * SP_NS_PER_S;
      while ((rc = sp_gil_destroy(g)) == SP_EPERM && t_now_ns() < end)
        t_yield();
      assert_rc(SP_OK, rc);
      memset(g, 0xdd, sizeof *g);
      free(g);
      while (t_load(&c.phase) != 4) /* the worker returned from release */
        t_yield();
    }
    t_store(&c.phase, -1);
    t_join(w);
    assert_int_equal(0, t_load(&c.errors));
    print_message("  policy %d: %ld iterations\n", policies[p], i);
  }
  sp_gil_set_release_hook_(NULL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_new_bad_inputs),
      cmocka_unit_test(test_zero_filled),
      cmocka_unit_test(test_timed_acquire),
      cmocka_unit_test(test_timed_acquire_races),
      cmocka_unit_test(test_class_hint),
      cmocka_unit_test(test_yield_ex_and_reset),
      cmocka_unit_test(test_yield_ex_switched),
      cmocka_unit_test(test_blocking_waits),
      cmocka_unit_test(test_blocking_timeouts),
#ifndef _WIN32
      cmocka_unit_test(test_after_fork),
#endif
      cmocka_unit_test(test_esys_waits),
      cmocka_unit_test(test_fair_esys_drop_request),
      cmocka_unit_test(test_futex_waits_cannot_fail),
      cmocka_unit_test(test_fair_esys_fault_seam),
      cmocka_unit_test(test_release_touch),
  };
  return T_RUN("gil_api", tests);
}
