/* sp_queue_t: shutdown (the C counterparts of CPython 3.13 test_queue's
 * shutdown tests: empty, non-empty, immediate, allowed transitions,
 * put/get/join after it, blocked getters, putters and joiners woken, put
 * and join, get/task_done/join, all methods in many threads), the _until
 * variants (never early, a passed deadline tries once, one deadline across
 * calls), the hand-off to blocked callers (served oldest first, never
 * overtaken), the lifetime promise for every blocked call (the owner
 * destroys and frees the queue as soon as its call returns), the fault
 * seam (waits make no OS semaphore; first-use set-up failure of the new
 * static initializers), and a stress run of every kind ending in a
 * shutdown. */
#include "queue_helpers.h"

#include <stdlib.h>
#include <string.h>

#include "../src/test_hooks.h"

static int by_value(const void *a, const void *b) {
  uintptr_t x = VAL(a), y = VAL(b);
  return (x > y) - (x < y);
}

/* Make *q of kind 0 (FIFO), 1 (LIFO) or 2 (priority, smallest first). */
static void init_kind(sp_queue_t *q, int kind, int maxsize) {
  int rc = kind == 0   ? sp_queue_init(q, maxsize)
           : kind == 1 ? sp_queue_init_lifo(q, maxsize)
                       : sp_queue_init_priority(q, maxsize, by_value);
  assert_rc(SP_OK, rc);
}

typedef struct {
  sp_queue_t q;
  int rc[T_MAX_BUNCH];
  void *got[T_MAX_BUNCH];
  int64_t timeout;
  int early; /* atomic: a timeout reported before it passed */
} shared_t;

static void do_get(void *p, int i) {
  shared_t *s = p;
  s->rc[i] = sp_queue_get(&s->q, &s->got[i], s->timeout);
}

static void do_put(void *p, int i) {
  shared_t *s = p;
  s->rc[i] = sp_queue_put(&s->q, ITEM(1000 + i), s->timeout);
}

static void do_join(void *p, int i) {
  shared_t *s = p;
  s->rc[i] = sp_queue_join(&s->q, s->timeout);
}

/* ---- shutdown ------------------------------------------------------------ */

static void test_shutdown_empty(void **state) {
  (void)state;
  for (int kind = 0; kind < 3; kind++) {
    sp_queue_t q;
    init_kind(&q, kind, kind == 1 ? 2 : 0);
    assert_int_equal(0, sp_queue_is_shutdown(&q));
    assert_rc(SP_OK, sp_queue_shutdown(&q, 0));
    assert_int_equal(1, sp_queue_is_shutdown(&q));
    void *item = ITEM(7);
    assert_rc(SP_SHUTDOWN, sp_queue_put(&q, ITEM(1), SP_FOREVER));
    assert_rc(SP_SHUTDOWN, sp_queue_put(&q, ITEM(1), 0));
    assert_rc(SP_SHUTDOWN, sp_queue_put_until(&q, ITEM(1), 0));
    assert_rc(SP_SHUTDOWN, sp_queue_get(&q, &item, SP_FOREVER));
    assert_rc(SP_SHUTDOWN, sp_queue_get(&q, &item, 0)); /* not SP_BUSY */
    assert_rc(SP_SHUTDOWN, sp_queue_get_until(&q, &item, 0));
    assert_int_equal(7, VAL(item));
    assert_int_equal(0, sp_queue_size(&q));
    assert_rc(SP_OK, sp_queue_join(&q, 0)); /* nothing pending */
    assert_rc(SP_EPERM, sp_queue_task_done(&q));
    assert_rc(SP_OK, sp_queue_destroy(&q));
  }
  assert_int_equal(SP_SHUTDOWN, 4);
  assert_string_equal("SP_SHUTDOWN", sp_strerror(SP_SHUTDOWN));
}

/* Gets drain the queue, then fail; puts fail although there is room. */
static void test_shutdown_nonempty(void **state) {
  (void)state;
  for (int kind = 0; kind < 3; kind++) {
    sp_queue_t q;
    init_kind(&q, kind, 5);
    for (uintptr_t i = 1; i <= 3; i++)
      assert_rc(SP_OK, sp_queue_put(&q, ITEM(i), 0));
    assert_rc(SP_OK, sp_queue_shutdown(&q, 0));
    assert_rc(SP_SHUTDOWN, sp_queue_put(&q, ITEM(4), 0));
    assert_int_equal(3, sp_queue_size(&q));
    assert_rc(SP_BUSY, sp_queue_join(&q, 0));
    uintptr_t sum = 0;
    for (int i = 0; i < 3; i++) {
      void *item;
      assert_rc(SP_OK, sp_queue_get(&q, &item, i == 0 ? SP_FOREVER : 0));
      sum += VAL(item);
      assert_rc(SP_OK, sp_queue_task_done(&q));
    }
    assert_int_equal(6, sum);
    void *item;
    assert_rc(SP_SHUTDOWN, sp_queue_get(&q, &item, 0));
    assert_rc(SP_SHUTDOWN, sp_queue_get(&q, &item, 10 * MS));
    assert_rc(SP_OK, sp_queue_join(&q, 0));
    assert_rc(SP_OK, sp_queue_destroy(&q));
  }
}

/* Immediate: the items are dropped and counted done; join returns. */
static void test_shutdown_immediate(void **state) {
  (void)state;
  for (int kind = 0; kind < 3; kind++) {
    sp_queue_t q;
    init_kind(&q, kind, 0);
    for (uintptr_t i = 1; i <= 5; i++)
      assert_rc(SP_OK, sp_queue_put(&q, ITEM(i), 0));
    void *item;
    assert_rc(SP_OK, sp_queue_get(&q, &item, 0)); /* got, not yet done */
    assert_rc(SP_OK, sp_queue_shutdown(&q, 1));
    assert_int_equal(0, sp_queue_size(&q));
    assert_int_equal(1, sp_queue_empty(&q));
    assert_rc(SP_SHUTDOWN, sp_queue_get(&q, &item, 0));
    assert_rc(SP_BUSY, sp_queue_join(&q, 0)); /* the one got is pending */
    assert_rc(SP_OK, sp_queue_task_done(&q));
    assert_rc(SP_OK, sp_queue_join(&q, 0));
    assert_rc(SP_EPERM, sp_queue_task_done(&q));
    assert_rc(SP_OK, sp_queue_destroy(&q));
  }
  /* More items dropped than pending (task_done called early): the pending
   * count stops at 0, as CPython's "if unfinished_tasks > 0". */
  sp_queue_t q;
  assert_rc(SP_OK, sp_queue_init(&q, 0));
  assert_rc(SP_OK, sp_queue_put(&q, ITEM(1), 0));
  assert_rc(SP_OK, sp_queue_put(&q, ITEM(2), 0));
  assert_rc(SP_OK, sp_queue_task_done(&q));
  assert_rc(SP_OK, sp_queue_shutdown(&q, 1));
  assert_rc(SP_OK, sp_queue_join(&q, 0));
  assert_rc(SP_EPERM, sp_queue_task_done(&q));
  assert_rc(SP_OK, sp_queue_destroy(&q));
}

/* CPython's test_shutdown_allowed_transitions: shutdown may be repeated;
 * an immediate one after a plain one drops what is left. */
static void test_shutdown_transitions(void **state) {
  (void)state;
  sp_queue_t q;
  assert_rc(SP_OK, sp_queue_init(&q, 0));
  assert_rc(SP_OK, sp_queue_put(&q, ITEM(1), 0));
  assert_rc(SP_OK, sp_queue_put(&q, ITEM(2), 0));
  assert_rc(SP_OK, sp_queue_shutdown(&q, 0));
  assert_rc(SP_OK, sp_queue_shutdown(&q, 0));
  assert_int_equal(2, sp_queue_size(&q));
  expect_get(&q, 1);
  assert_rc(SP_OK, sp_queue_shutdown(&q, 1));
  assert_int_equal(0, sp_queue_size(&q));
  assert_rc(SP_OK, sp_queue_shutdown(&q, 0));
  assert_rc(SP_OK, sp_queue_shutdown(&q, 1));
  assert_int_equal(1, sp_queue_is_shutdown(&q));
  assert_rc(SP_BUSY, sp_queue_join(&q, 0)); /* item 1 was got, not done */
  assert_rc(SP_OK, sp_queue_task_done(&q));
  assert_rc(SP_OK, sp_queue_join(&q, 0));
  assert_rc(SP_OK, sp_queue_destroy(&q));
  /* A statically initialised queue can be shut down before any use. */
  sp_queue_t s = SP_QUEUE_INIT_PRIORITY(0, by_value);
  assert_rc(SP_OK, sp_queue_shutdown(&s, 1));
  assert_rc(SP_SHUTDOWN, sp_queue_put(&s, ITEM(1), 0));
  assert_rc(SP_OK, sp_queue_destroy(&s));
}

/* Blocked getters, putters and joiners are woken by a shutdown. */
static void test_shutdown_wakes_blocked(void **state) {
  (void)state;
  for (int kind = 0; kind < 3; kind++) {
    for (int immediate = 0; immediate <= 1; immediate++) {
      shared_t s;
      memset(&s, 0, sizeof s);
      s.timeout = SP_FOREVER;
      /* Getters of an empty queue. */
      init_kind(&s.q, kind, 2);
      t_bunch b;
      t_bunch_start(&b, 4, do_get, &s);
      wait_blocked(&s.q, 4);
      assert_rc(SP_OK, sp_queue_shutdown(&s.q, immediate));
      t_bunch_join(&b);
      for (int i = 0; i < 4; i++)
        assert_rc(SP_SHUTDOWN, s.rc[i]);
      assert_rc(SP_OK, sp_queue_destroy(&s.q));
      /* Putters of a full queue: woken, their items not added. */
      init_kind(&s.q, kind, 2);
      assert_rc(SP_OK, sp_queue_put(&s.q, ITEM(1), 0));
      assert_rc(SP_OK, sp_queue_put(&s.q, ITEM(2), 0));
      t_bunch_start(&b, 3, do_put, &s);
      wait_blocked(&s.q, 3);
      assert_rc(SP_OK, sp_queue_shutdown(&s.q, immediate));
      t_bunch_join(&b);
      for (int i = 0; i < 3; i++)
        assert_rc(SP_SHUTDOWN, s.rc[i]);
      assert_int_equal(immediate ? 0 : 2, sp_queue_size(&s.q));
      if (!immediate) {
        void *item;
        uintptr_t sum = 0;
        for (int i = 0; i < 2; i++) {
          assert_rc(SP_OK, sp_queue_get(&s.q, &item, 0));
          sum += VAL(item);
          assert_rc(SP_OK, sp_queue_task_done(&s.q));
        }
        assert_int_equal(3, sum);
      }
      assert_rc(SP_OK, sp_queue_join(&s.q, 0)); /* failed puts not counted */
      assert_rc(SP_OK, sp_queue_destroy(&s.q));
      /* Joiners: a plain shutdown leaves them waiting for task_done; an
       * immediate one drops the items and releases them. */
      init_kind(&s.q, kind, 0);
      assert_rc(SP_OK, sp_queue_put(&s.q, ITEM(1), 0));
      assert_rc(SP_OK, sp_queue_put(&s.q, ITEM(2), 0));
      t_bunch_start(&b, 3, do_join, &s);
      wait_blocked(&s.q, 3);
      assert_rc(SP_OK, sp_queue_shutdown(&s.q, immediate));
      if (!immediate) {
        t_sleep_ns(5 * MS);
        assert_int_equal(0, t_load(&b.finished));
        assert_int_equal(3, (int)blocked(&s.q));
        void *item;
        assert_rc(SP_OK, sp_queue_get(&s.q, &item, 0));
        assert_rc(SP_OK, sp_queue_get(&s.q, &item, 0));
        assert_rc(SP_OK, sp_queue_task_done(&s.q));
        assert_rc(SP_OK, sp_queue_task_done(&s.q));
      }
      t_bunch_join(&b);
      for (int i = 0; i < 3; i++)
        assert_rc(SP_OK, s.rc[i]);
      assert_rc(SP_OK, sp_queue_destroy(&s.q));
    }
  }
}

/* CPython's test_shutdown_put_join and test_shutdown_get_task_done_join:
 * a join pending on items a consumer is processing returns once they are
 * done, or at once when an immediate shutdown drops them. */
static void *consume_all(void *p) {
  shared_t *s = p;
  for (;;) {
    void *item;
    int rc = sp_queue_get(&s->q, &item, SP_FOREVER);
    if (rc == SP_SHUTDOWN)
      return NULL;
    if (rc != SP_OK) {
      s->rc[1] = rc;
      return NULL;
    }
    t_sleep_ns(100000);
    if (sp_queue_task_done(&s->q) != SP_OK)
      s->rc[1] = SP_EPERM;
  }
}

static void test_shutdown_join(void **state) {
  (void)state;
  for (int immediate = 0; immediate <= 1; immediate++) {
    shared_t s;
    memset(&s, 0, sizeof s);
    assert_rc(SP_OK, sp_queue_init(&s.q, 0));
    for (uintptr_t i = 0; i < 50; i++)
      assert_rc(SP_OK, sp_queue_put(&s.q, ITEM(i), 0));
    t_thread t = t_start(consume_all, &s);
    assert_rc(SP_OK, sp_queue_shutdown(&s.q, immediate));
    assert_rc(SP_OK, sp_queue_join(&s.q, SP_FOREVER));
    t_join(t);
    assert_rc(SP_OK, s.rc[1]);
    assert_int_equal(0, sp_queue_size(&s.q));
    assert_rc(SP_EPERM, sp_queue_task_done(&s.q));
    assert_rc(SP_OK, sp_queue_destroy(&s.q));
  }
}

/* CPython's _shutdown_all_methods_in_many_threads: producers, consumers
 * and joiners run while the queue is shut down. Every call returns OK,
 * SP_SHUTDOWN or a timeout; nothing hangs; every item put is got once,
 * or dropped (immediate); join returns once all is done. */
typedef struct {
  sp_queue_t q;
  int immediate;
  int stop;   /* atomic */
  long puts;  /* atomic: puts that returned SP_OK */
  long gets;  /* atomic: gets that returned SP_OK */
  int bad;    /* atomic */
  long *seen; /* [8 << 16], atomic */
} all_t;

static void all_worker(void *p, int i) {
  all_t *a = p;
  int role = i % 3;
  int64_t end = t_now_ns() + 10 * SP_NS_PER_S; /* a bound, not a timing */
  for (long k = 0; role != 0 || k < 0xffff; k++) {
    if ((k & 255) == 0 && t_now_ns() > end) {
      t_store(&a->bad, 3);
      return;
    }
    int rc;
    if (role == 0) {
      rc = sp_queue_put(&a->q, ITEM(((uintptr_t)i << 16) | (uintptr_t)k),
                        k % 2 ? 0 : MS);
      if (rc == SP_OK)
        __atomic_add_fetch(&a->puts, 1, __ATOMIC_SEQ_CST);
    } else if (role == 1) {
      void *item;
      rc = sp_queue_get(&a->q, &item, k % 2 ? 0 : MS);
      if (rc == SP_OK) {
        __atomic_add_fetch(&a->gets, 1, __ATOMIC_SEQ_CST);
        __atomic_add_fetch(&a->seen[VAL(item)], 1, __ATOMIC_RELAXED);
        if (sp_queue_task_done(&a->q) != SP_OK)
          t_store(&a->bad, 1);
      }
    } else {
      rc = sp_queue_join(&a->q, MS);
    }
    if (rc == SP_SHUTDOWN)
      return;
    if (rc != SP_OK && rc != SP_BUSY && rc != SP_TIMEDOUT)
      t_store(&a->bad, 2);
    if (role == 2 && t_load(&a->stop))
      return;
  }
}

static void test_shutdown_many_threads(void **state) {
  (void)state;
  for (int kind = 0; kind < 3; kind++) {
    for (int immediate = 0; immediate <= 1; immediate++) {
      all_t a;
      memset(&a, 0, sizeof a);
      a.seen = calloc((size_t)12 << 16, sizeof(long));
      assert_non_null(a.seen);
      init_kind(&a.q, kind, 4);
      t_bunch b;
      t_bunch_start(&b, 12, all_worker, &a);
      t_sleep_ns(20 * MS);
      assert_rc(SP_OK, sp_queue_shutdown(&a.q, immediate));
      t_store(&a.stop, 1);
      /* Producers and consumers return on SP_SHUTDOWN (consumers once
       * the queue is drained); joiners stop on the flag. */
      t_bunch_join(&b);
      assert_int_equal(0, t_load(&a.bad));
      long left = sp_queue_size(&a.q);
      assert_int_equal(0, left); /* drained or dropped */
      if (!immediate)
        assert_int_equal(a.puts, a.gets);
      else
        assert_true(a.gets <= a.puts);
      for (long k = 0; k < (12L << 16); k++)
        assert_true(a.seen[k] <= 1);
      assert_rc(SP_OK, sp_queue_join(&a.q, 0));
      assert_rc(SP_EPERM, sp_queue_task_done(&a.q));
      free(a.seen);
      assert_rc(SP_OK, sp_queue_destroy(&a.q));
    }
  }
}

/* ---- _until --------------------------------------------------------------
 */

static void test_until(void **state) {
  (void)state;
  sp_queue_t q;
  assert_rc(SP_OK, sp_queue_init(&q, 1));
  void *item = ITEM(5);
  int64_t past = sp_now_ns() - SP_NS_PER_S;
  /* A passed deadline tries once: succeeds when it can, else SP_TIMEDOUT
   * (never SP_BUSY). */
  assert_rc(SP_OK, sp_queue_join_until(&q, past));
  assert_rc(SP_TIMEDOUT, sp_queue_get_until(&q, &item, past));
  assert_rc(SP_TIMEDOUT, sp_queue_get_until(&q, &item, 0));
  assert_rc(SP_OK, sp_queue_put_until(&q, ITEM(1), past));
  assert_rc(SP_TIMEDOUT, sp_queue_put_until(&q, ITEM(2), past));
  assert_rc(SP_TIMEDOUT, sp_queue_join_until(&q, past));
  assert_rc(SP_OK, sp_queue_get_until(&q, &item, past));
  assert_int_equal(1, VAL(item));
  /* Never early, for every timed call. */
  const int64_t waits[] = {1 * MS, 5 * MS, 20 * MS};
  for (int k = 0; k < 3; k++) {
    int64_t t0 = sp_now_ns(), d = t0 + waits[k];
    assert_rc(SP_TIMEDOUT, sp_queue_join_until(&q, d));
    assert_true(sp_now_ns() >= d);
    assert_rc(SP_OK, sp_queue_task_done(&q));
    d = sp_now_ns() + waits[k];
    assert_rc(SP_TIMEDOUT, sp_queue_get_until(&q, &item, d));
    assert_true(sp_now_ns() >= d);
    assert_rc(SP_OK, sp_queue_put(&q, ITEM(3), 0));
    d = sp_now_ns() + waits[k];
    assert_rc(SP_TIMEDOUT, sp_queue_put_until(&q, ITEM(4), d));
    assert_true(sp_now_ns() >= d);
    expect_get(&q, 3);
    /* The relative forms too. */
    t0 = sp_now_ns();
    assert_rc(SP_TIMEDOUT, sp_queue_get(&q, &item, waits[k]));
    assert_true(sp_now_ns() - t0 >= waits[k]);
  }
  /* One deadline across calls: a loop of gets keeps it (the items there
   * are taken at once, then the last call waits until the deadline). */
  assert_rc(SP_OK, sp_queue_set_maxsize(&q, 0));
  assert_rc(SP_OK, sp_queue_put(&q, ITEM(6), 0));
  assert_rc(SP_OK, sp_queue_put(&q, ITEM(7), 0));
  int64_t deadline = sp_now_ns() + 30 * MS;
  int calls = 0, rc;
  while ((rc = sp_queue_get_until(&q, &item, deadline)) == SP_OK)
    calls++;
  assert_rc(SP_TIMEDOUT, rc);
  assert_int_equal(2, calls);
  assert_true(sp_now_ns() >= deadline);
  /* INT64_MAX: no limit (a getter blocked until a put). */
  shared_t s;
  memset(&s, 0, sizeof s);
  assert_rc(SP_OK, sp_queue_init(&s.q, 0));
  s.timeout = SP_FOREVER;
  t_bunch b;
  t_bunch_start(&b, 1, do_get, &s);
  wait_blocked(&s.q, 1);
  assert_rc(SP_OK, sp_queue_put_until(&s.q, ITEM(9), INT64_MAX));
  t_bunch_join(&b);
  assert_rc(SP_OK, s.rc[0]);
  assert_int_equal(9, VAL(s.got[0]));
  assert_rc(SP_OK, sp_queue_put(&s.q, ITEM(8), 0));
  assert_rc(SP_OK, sp_queue_get_until(&s.q, &item, INT64_MAX));
  assert_rc(SP_OK, sp_queue_task_done(&s.q));
  assert_rc(SP_OK, sp_queue_task_done(&s.q));
  assert_rc(SP_OK, sp_queue_join_until(&s.q, INT64_MAX));
  assert_rc(SP_OK, sp_queue_destroy(&s.q));
  assert_rc(SP_OK, sp_queue_destroy(&q));
}

/* ---- hand-off ------------------------------------------------------------ */

static void *get_one(void *p) {
  shared_t *s = p;
  int i = __atomic_fetch_add(&s->early, 1, __ATOMIC_SEQ_CST);
  s->rc[i] = sp_queue_get(&s->q, &s->got[i], SP_FOREVER);
  return NULL;
}

/* Blocked getters are served oldest first, and an item put while a getter
 * waits is that getter's: a newcomer cannot take it (CPython may let it). */
static void test_handoff_order(void **state) {
  (void)state;
  for (int kind = 0; kind < 3; kind++) {
    shared_t s;
    memset(&s, 0, sizeof s);
    init_kind(&s.q, kind, 0);
    t_thread t[3];
    for (int i = 0; i < 3; i++) {
      t[i] = t_start(get_one, &s);
      wait_blocked(&s.q, (unsigned)i + 1);
    }
    for (uintptr_t v = 10; v < 13; v++) {
      assert_rc(SP_OK, sp_queue_put(&s.q, ITEM(v), 0));
      void *item;
      assert_rc(SP_BUSY, sp_queue_get(&s.q, &item, 0)); /* handed over */
    }
    for (int i = 0; i < 3; i++) {
      t_join(t[i]);
      assert_rc(SP_OK, s.rc[i]);
      assert_int_equal(10 + i, VAL(s.got[i]));
    }
    /* Blocked putters: a get admits the oldest; a newcomer's put waits
     * behind them. */
    assert_rc(SP_OK, sp_queue_set_maxsize(&s.q, 1));
    assert_rc(SP_OK, sp_queue_put(&s.q, ITEM(1), 0));
    s.timeout = SP_FOREVER;
    t_bunch b;
    t_bunch_start(&b, 1, do_put, &s); /* ITEM(1000) */
    wait_blocked(&s.q, 1);
    expect_get(&s.q, 1);
    assert_rc(SP_BUSY, sp_queue_put(&s.q, ITEM(2), 0)); /* 1000 took it */
    t_bunch_join(&b);
    assert_rc(SP_OK, s.rc[0]);
    expect_get(&s.q, 1000);
    for (int i = 0; i < 5; i++)
      assert_rc(SP_OK, sp_queue_task_done(&s.q));
    assert_rc(SP_OK, sp_queue_join(&s.q, 0));
    assert_rc(SP_OK, sp_queue_destroy(&s.q));
  }
}

/* ---- lifetime ------------------------------------------------------------
 * The owner blocks in a call; a worker completes it (put to a blocked get,
 * get from a full queue to a blocked put, the last task_done to a join, a
 * shutdown, a maxsize change); the owner destroys the queue, poisons and
 * frees it as soon as its call returns, while the worker may still be in
 * its call. Half the rounds release the owner as soon as it is queued
 * (it is likely still spinning), half once it announced that it sleeps
 * (white box: a node's first field is its state word; 1 = sleeping). */
typedef struct {
  int op;   /* which release this round */
  int deep; /* wait until the owner sleeps */
  sp_queue_t *q;
} job_t;

typedef struct {
  job_t job;
  int seq;  /* atomic: jobs posted */
  int done; /* atomic: jobs finished */
  int quit; /* atomic */
  int bad;  /* atomic */
} runner_t;

static int owner_sleeps(sp_queue_t *q) {
  int asleep = 0;
  if (sp_mutex_lock(&q->mu_) != SP_OK)
    return 0;
  void *w = q->getters_   ? (void *)q->getters_
            : q->putters_ ? (void *)q->putters_
                          : (void *)q->joiners_;
  if (w != NULL)
    asleep = __atomic_load_n((uint32_t *)w, __ATOMIC_SEQ_CST) == 1;
  (void)sp_mutex_unlock(&q->mu_);
  return asleep;
}

static void *runner_main(void *p) {
  runner_t *r = p;
  for (int seen = 0;;) {
    while (t_load(&r->seq) == seen && !t_load(&r->quit))
      t_yield();
    if (t_load(&r->quit))
      return NULL;
    seen++;
    job_t j = r->job;
    int64_t end = t_now_ns() + 10 * SP_NS_PER_S;
    while (blocked(j.q) == 0 || (j.deep && !owner_sleeps(j.q))) {
      if (t_now_ns() > end) {
        t_store(&r->bad, 1);
        break;
      }
      t_yield();
    }
    void *item;
    int rc;
    switch (j.op) {
    case 0:
      rc = sp_queue_put(j.q, j.q, 0);
      break;
    case 1:
      rc = sp_queue_get(j.q, &item, 0);
      break;
    case 2:
      rc = sp_queue_task_done(j.q);
      break;
    case 3:
      rc = sp_queue_shutdown(j.q, j.deep);
      break;
    default:
      rc = sp_queue_set_maxsize(j.q, 0);
      break;
    }
    if (rc != SP_OK)
      t_store(&r->bad, 10 + j.op);
    t_store(&r->done, seen);
  }
}

static void test_lifetime_release_then_free(void **state) {
  (void)state;
  runner_t r;
  memset(&r, 0, sizeof r);
  t_thread t = t_start(runner_main, &r);
  long rounds = t_iters(4000), k;
  int64_t deadline = t_stress_deadline();
  for (k = 0; k < rounds && ((k & 31) != 0 || t_now_ns() < deadline); k++) {
    int op = (int)(k % 5), kind = (int)((k / 5) % 3);
    sp_queue_t *q = malloc(sizeof *q);
    assert_non_null(q);
    init_kind(q, kind, 1);
    void *item = NULL;
    if (op == 1 || op == 4)
      assert_rc(SP_OK, sp_queue_put(q, ITEM(1), 0)); /* full */
    if (op == 2) {
      assert_rc(SP_OK, sp_queue_put(q, ITEM(1), 0));
      assert_rc(SP_OK, sp_queue_get(q, &item, 0)); /* pending */
    }
    r.job.op = op;
    r.job.deep = (int)((k / 15) % 2);
    r.job.q = q;
    t_inc(&r.seq);
    switch (op) {
    case 0:
      assert_rc(SP_OK, sp_queue_get(q, &item, SP_FOREVER));
      assert_ptr_equal(q, item);
      break;
    case 1:
    case 4:
      assert_rc(SP_OK, sp_queue_put(q, ITEM(2), SP_FOREVER));
      break;
    case 2:
      assert_rc(SP_OK, sp_queue_join(q, SP_FOREVER));
      break;
    default:
      assert_rc(SP_SHUTDOWN, sp_queue_get(q, &item, SP_FOREVER));
      break;
    }
    assert_rc(SP_OK, sp_queue_destroy(q));
    memset(q, 0xDD, sizeof *q);
    free(q);
    int64_t end = t_now_ns() + 10 * SP_NS_PER_S;
    while (t_load(&r.done) != t_load(&r.seq)) {
      if (t_now_ns() > end)
        fail_msg("the worker did not finish in 10 s");
      t_yield();
    }
  }
  t_store(&r.quit, 1);
  t_join(t);
  assert_int_equal(0, t_load(&r.bad));
  assert_true(k > 0);
}

/* ---- fault seam ------------------------------------------------------------
 * The queue's waits take no OS semaphore: with the semaphore site failing,
 * blocking calls still work and the site is never reached. The new static
 * initializers' first-use set-up fails like the others, then works. */
static void test_faults(void **state) {
  (void)state;
  shared_t s;
  memset(&s, 0, sizeof s);
  assert_rc(SP_OK, sp_queue_init_lifo(&s.q, 1));
  sp_fault_set_from_(SP_FAULT_SEMA_INIT_, 1);
  s.timeout = SP_FOREVER;
  t_bunch b;
  t_bunch_start(&b, 2, do_get, &s);
  wait_blocked(&s.q, 2);
  assert_rc(SP_OK, sp_queue_put(&s.q, ITEM(1), SP_FOREVER));
  assert_rc(SP_OK, sp_queue_put(&s.q, ITEM(2), SP_FOREVER));
  t_bunch_join(&b);
  assert_rc(SP_OK, s.rc[0]);
  assert_rc(SP_OK, s.rc[1]);
  void *item;
  assert_rc(SP_TIMEDOUT, sp_queue_get(&s.q, &item, MS));
  assert_rc(SP_TIMEDOUT, sp_queue_join(&s.q, MS));
  assert_int_equal(0, sp_fault_count_(SP_FAULT_SEMA_INIT_));
  sp_fault_clear_();
  assert_rc(SP_OK, sp_queue_destroy(&s.q));

  sp_queue_t l = SP_QUEUE_INIT_LIFO(0), p = SP_QUEUE_INIT_PRIORITY(0, by_value);
  sp_queue_t *qs[] = {&l, &p};
  for (int i = 0; i < 2; i++) {
    sp_fault_set_(SP_FAULT_LAZY_INIT_, 1);
    assert_rc(SP_ESYS, sp_queue_put(qs[i], ITEM(1), 0));
    assert_rc(SP_OK, sp_queue_put(qs[i], ITEM(1), 0));
    assert_rc(SP_OK, sp_queue_put(qs[i], ITEM(2), 0));
    expect_get(qs[i], i == 0 ? 2 : 1);
    assert_int_equal(1, sp_queue_size(qs[i]));
    assert_rc(SP_OK, sp_queue_destroy(qs[i]));
  }
  sp_fault_clear_();
}

/* ---- stress ----------------------------------------------------------------
 * Every kind, bounded and not: producers put tagged items with mixed
 * timeouts until the time is up; consumers get until SP_SHUTDOWN; the main
 * thread shuts the queue down once the producers are done. Every item put
 * is got exactly once (a plain shutdown drains). */
#define SP_NPROD 4
#define SP_NCONS 4

typedef struct {
  sp_queue_t q;
  int64_t deadline;
  long per;
  long produced[SP_NPROD];
  int *seen; /* atomic */
  int bad;   /* atomic */
} mp_t;

static void mp_producer(void *p, int i) {
  mp_t *m = p;
  const int64_t tos[] = {SP_FOREVER, 0, 2000, 100000};
  long k = 0;
  for (; k < m->per; k++) {
    if (k > 0 && (k & 63) == 0 && t_now_ns() > m->deadline)
      break;
    int rc, attempt = 0;
    do
      rc = sp_queue_put(&m->q, ITEM(((uintptr_t)i << 20) | (uintptr_t)k),
                        tos[(k + attempt++) % 4]);
    while (rc == SP_BUSY || rc == SP_TIMEDOUT);
    if (rc != SP_OK) {
      t_store(&m->bad, 1);
      break;
    }
  }
  m->produced[i] = k;
}

static void mp_consumer(void *p, int i) {
  mp_t *m = p;
  const int64_t tos[] = {SP_FOREVER, 0, 2000, 100000};
  for (long k = 0;; k++) {
    void *item;
    int rc = sp_queue_get(&m->q, &item, tos[(i + k) % 4]);
    if (rc == SP_BUSY || rc == SP_TIMEDOUT)
      continue;
    if (rc == SP_SHUTDOWN)
      return;
    if (rc != SP_OK) {
      t_store(&m->bad, 2);
      return;
    }
    uintptr_t v = VAL(item);
    long idx = (long)(v >> 20) * m->per + (long)(v & 0xfffff);
    __atomic_add_fetch(&m->seen[idx], 1, __ATOMIC_RELAXED);
    (void)!sp_queue_task_done(&m->q);
  }
}

static void test_stress_kinds(void **state) {
  (void)state;
  int64_t end = t_stress_deadline();
  int runs = 6;
  for (int r = 0; r < runs; r++) {
    mp_t m;
    memset(&m, 0, sizeof m);
    init_kind(&m.q, r % 3, r < 3 ? 16 : 0);
    m.per = t_iters(20000);
    m.deadline = t_now_ns() + (end - t_now_ns()) / (runs - r);
    m.seen = calloc((size_t)(SP_NPROD * m.per), sizeof(int));
    assert_non_null(m.seen);
    t_bunch cons, prod;
    t_bunch_start(&cons, SP_NCONS, mp_consumer, &m);
    t_bunch_start(&prod, SP_NPROD, mp_producer, &m);
    t_bunch_join(&prod);
    assert_rc(SP_OK, sp_queue_shutdown(&m.q, 0));
    t_bunch_join(&cons);
    assert_int_equal(0, t_load(&m.bad));
    long total = 0;
    for (int p = 0; p < SP_NPROD; p++) {
      total += m.produced[p];
      for (long k = 0; k < m.per; k++)
        if (m.seen[p * m.per + k] != (k < m.produced[p]))
          fail_msg("kind %d: producer %d item %ld seen %d times", r % 3, p, k,
                   m.seen[p * m.per + k]);
    }
    assert_true(total > 0);
    assert_int_equal(0, sp_queue_size(&m.q));
    assert_rc(SP_OK, sp_queue_join(&m.q, 0));
    free(m.seen);
    assert_rc(SP_OK, sp_queue_destroy(&m.q));
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      QTEST(test_shutdown_empty),
      QTEST(test_shutdown_nonempty),
      QTEST(test_shutdown_immediate),
      QTEST(test_shutdown_transitions),
      QTEST(test_shutdown_wakes_blocked),
      QTEST(test_shutdown_join),
      QTEST(test_shutdown_many_threads),
      QTEST(test_until),
      QTEST(test_handoff_order),
      QTEST(test_lifetime_release_then_free),
      QTEST(test_faults),
      QTEST(test_stress_kinds),
  };
  return T_RUN("queue_shutdown", tests);
}
