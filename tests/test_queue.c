/* sp_queue_t: FIFO order (also across ring wrap-around and growth), bounded
 * put blocking and timing out, get blocking and timing out, task_done/join
 * (as CPython's test_queue), SP_ENOMEM on injected allocation failure with
 * no item lost, destroy with waiters, every bad input, and stress: many
 * producers and consumers with no item lost or duplicated (counted, checked
 * per item and checksummed), per-producer FIFO order, bounded and unbounded
 * (the latter growing under load). */
#include "helpers.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "../src/test_hooks.h"

#define ITEM(x) ((void *)(uintptr_t)(x))
#define VAL(p)  ((uintptr_t)(p))

typedef struct {
  sp_queue_t q;
  int violations; /* atomic */
  int rc[T_MAX_BUNCH];
  void *got[T_MAX_BUNCH];
  int64_t timeout;
  t_bunch b;
} shared_t;

static void init_shared(shared_t *s, int maxsize) {
  memset(s, 0, sizeof *s);
  assert_rc(SP_OK, sp_queue_init(&s->q, maxsize));
}

/* White box: threads blocked in the queue's three waiter lists (read under
 * its mutex), so a test can wait until its waiters are really blocked. */
static unsigned sleepers(sp_queue_t *q) {
  assert_rc(SP_OK, sp_mutex_lock(&q->mu_));
  unsigned n = q->ngetters_ + q->nputters_ + q->njoiners_;
  assert_rc(SP_OK, sp_mutex_unlock(&q->mu_));
  return n;
}

static void wait_sleepers(sp_queue_t *q, unsigned n) {
  int64_t end = t_now_ns() + 10 * SP_NS_PER_S;
  while (sleepers(q) != n) {
    if (t_now_ns() > end)
      fail_msg("waited 10 s for %u sleepers, have %u", n, sleepers(q));
    t_sleep_ns(100000);
  }
}

static void expect_get(sp_queue_t *q, uintptr_t v) {
  void *item = ITEM(0xdead);
  assert_rc(SP_OK, sp_queue_get(q, &item, 0));
  assert_int_equal(v, VAL(item));
}

static void test_bad_inputs(void **state) {
  (void)state;
  sp_queue_t q;
  void *item = ITEM(77);
  assert_rc(SP_EINVAL, sp_queue_init(NULL, 0));
  assert_rc(SP_EINVAL, sp_queue_init(&q, -1));
  assert_rc(SP_EINVAL, sp_queue_init(&q, INT_MIN));
  assert_rc(SP_EINVAL, sp_queue_destroy(NULL));
  assert_rc(SP_EINVAL, sp_queue_put(NULL, item, 0));
  assert_rc(SP_EINVAL, sp_queue_get(NULL, &item, 0));
  assert_rc(SP_EINVAL, sp_queue_size(NULL));
  assert_rc(SP_EINVAL, sp_queue_task_done(NULL));
  assert_rc(SP_EINVAL, sp_queue_join(NULL, 0));
  memset(&q, 0xA5,
         sizeof q); /* garbage: not an object (zero-filled is valid) */
  assert_rc(SP_EINVAL, sp_queue_put(&q, item, 0));
  assert_rc(SP_EINVAL, sp_queue_get(&q, &item, 0));
  assert_rc(SP_EINVAL, sp_queue_size(&q));
  assert_rc(SP_EINVAL, sp_queue_task_done(&q));
  assert_rc(SP_EINVAL, sp_queue_join(&q, 0));
  assert_rc(SP_EINVAL, sp_queue_destroy(&q));
  for (int maxsize = 0; maxsize <= 2; maxsize += 2) {
    assert_rc(SP_OK, sp_queue_init(&q, maxsize));
    assert_rc(SP_EPERM, sp_queue_task_done(&q)); /* nothing was put */
    assert_rc(SP_EINVAL, sp_queue_put(&q, item, -2));
    assert_rc(SP_EINVAL, sp_queue_put(&q, item, INT64_MIN));
    assert_int_equal(0, sp_queue_size(&q)); /* a bad put stored nothing */
    assert_rc(SP_OK, sp_queue_join(&q, 0));
    assert_rc(SP_OK, sp_queue_put(&q, item, 0));
    assert_rc(SP_EINVAL, sp_queue_get(&q, NULL, 0));
    assert_rc(SP_EINVAL, sp_queue_get(&q, NULL, SP_FOREVER));
    item = ITEM(5);
    assert_rc(SP_EINVAL, sp_queue_get(&q, &item, -2));
    assert_rc(SP_EINVAL, sp_queue_get(&q, &item, INT64_MIN));
    assert_int_equal(5, VAL(item));         /* not written */
    assert_int_equal(1, sp_queue_size(&q)); /* a bad get took nothing */
    assert_rc(SP_EINVAL, sp_queue_join(&q, -2));
    assert_rc(SP_EINVAL, sp_queue_join(&q, INT64_MIN));
    expect_get(&q, 77);
    assert_rc(SP_BUSY, sp_queue_join(&q, 0)); /* got but not done */
    assert_rc(SP_OK, sp_queue_task_done(&q));
    assert_rc(SP_EPERM, sp_queue_task_done(&q));
    assert_rc(SP_OK, sp_queue_join(&q, 0));
    item = ITEM(77);
    assert_rc(SP_OK, sp_queue_put(&q, item, 0)); /* destroy frees items */
    assert_rc(SP_OK, sp_queue_destroy(&q));
    assert_rc(SP_EINVAL, sp_queue_put(&q, item, 0));
    assert_rc(SP_EINVAL, sp_queue_get(&q, &item, 0));
    assert_rc(SP_EINVAL, sp_queue_size(&q));
    assert_rc(SP_EINVAL, sp_queue_task_done(&q));
    assert_rc(SP_EINVAL, sp_queue_join(&q, 0));
    assert_rc(SP_EINVAL, sp_queue_destroy(&q));
  }
}

static void test_fifo(void **state) {
  (void)state;
  sp_queue_t q;
  assert_rc(SP_OK, sp_queue_init(&q, 0));
  void *item = ITEM(1);
  assert_rc(SP_BUSY, sp_queue_get(&q, &item, 0));
  assert_int_equal(1, VAL(item));
  for (uintptr_t i = 0; i < 1000; i++) /* 0 is NULL: a valid item */
    assert_rc(SP_OK, sp_queue_put(&q, ITEM(i), i % 2 ? 0 : SP_FOREVER));
  assert_int_equal(1000, sp_queue_size(&q));
  for (uintptr_t i = 0; i < 1000; i++)
    expect_get(&q, i);
  assert_int_equal(0, sp_queue_size(&q));
  assert_rc(SP_BUSY, sp_queue_get(&q, &item, 0));
  assert_rc(SP_OK, sp_queue_destroy(&q));
}

/* The ring wraps, then grows while wrapped, for every starting offset:
 * order is kept and nothing is lost or repeated. */
static void test_wrap_and_grow(void **state) {
  (void)state;
  for (int maxsize = 0; maxsize <= 13; maxsize += 13) {
    for (uintptr_t offset = 0; offset < 20; offset++) {
      sp_queue_t q;
      assert_rc(SP_OK, sp_queue_init(&q, maxsize));
      uintptr_t next_put = 0, next_get = 0;
      for (uintptr_t i = 0; i < offset; i++) {
        assert_rc(SP_OK, sp_queue_put(&q, ITEM(next_put++), 0));
        if (q.count_ > 3)
          expect_get(&q, next_get++);
      }
      for (int round = 0; round < 5; round++) {
        /* Fill up (to maxsize, or to 40 more items), then drain half. */
        for (;;) {
          int rc = sp_queue_put(&q, ITEM(next_put), 0);
          if (rc == SP_BUSY)
            break;
          assert_rc(SP_OK, rc);
          next_put++;
          if (maxsize == 0 && next_put - next_get >= 40u * (round + 1))
            break;
        }
        if (maxsize > 0)
          assert_int_equal(maxsize, sp_queue_size(&q));
        uintptr_t n = (next_put - next_get) / 2;
        for (uintptr_t i = 0; i < n; i++)
          expect_get(&q, next_get++);
      }
      while (next_get < next_put)
        expect_get(&q, next_get++);
      assert_int_equal(0, sp_queue_size(&q));
      if (maxsize > 0)
        assert_true(q.cap_ <= (size_t)maxsize); /* growth stops at max */
      assert_rc(SP_OK, sp_queue_destroy(&q));
    }
  }
}

static void timed_get(void *p, int i) {
  shared_t *s = p;
  int64_t t0 = t_now_ns();
  s->rc[i] = sp_queue_get(&s->q, &s->got[i], s->timeout);
  if (s->rc[i] == SP_TIMEDOUT && t_now_ns() - t0 < s->timeout)
    t_inc(&s->violations);
}

static void timed_put(void *p, int i) {
  shared_t *s = p;
  int64_t t0 = t_now_ns();
  s->rc[i] = sp_queue_put(&s->q, ITEM(100 + i), s->timeout);
  if (s->rc[i] == SP_TIMEDOUT && t_now_ns() - t0 < s->timeout)
    t_inc(&s->violations);
}

static void timed_join(void *p, int i) {
  shared_t *s = p;
  int64_t t0 = t_now_ns();
  s->rc[i] = sp_queue_join(&s->q, s->timeout);
  if (s->rc[i] == SP_TIMEDOUT && t_now_ns() - t0 < s->timeout)
    t_inc(&s->violations);
}

/* A bounded queue: put blocks while full, times out no earlier than asked,
 * and a blocked put completes when a get makes room, in order. */
static void test_bounded_put(void **state) {
  (void)state;
  shared_t s;
  init_shared(&s, 3);
  for (uintptr_t i = 1; i <= 3; i++)
    assert_rc(SP_OK, sp_queue_put(&s.q, ITEM(i), 0));
  assert_rc(SP_BUSY, sp_queue_put(&s.q, ITEM(9), 0));
  const int64_t timeouts[] = {1 * MS, 10 * MS, 50 * MS};
  for (int k = 0; k < 3; k++) {
    s.timeout = timeouts[k];
    t_bunch_start(&s.b, 3, timed_put, &s);
    t_bunch_join(&s.b);
    for (int i = 0; i < 3; i++)
      assert_rc(SP_TIMEDOUT, s.rc[i]);
  }
  assert_int_equal(0, t_load(&s.violations));
  assert_int_equal(3, sp_queue_size(&s.q));
  /* Two blocked putters; each get lets exactly one in. */
  s.timeout = SP_FOREVER;
  t_bunch_start(&s.b, 2, timed_put, &s);
  wait_sleepers(&s.q, 2);
  expect_get(&s.q, 1);
  t_wait_for_count(&s.b.finished, 1);
  wait_sleepers(&s.q, 1);
  assert_int_equal(3, sp_queue_size(&s.q));
  assert_int_equal(1, t_load(&s.b.finished));
  expect_get(&s.q, 2);
  t_bunch_join(&s.b);
  assert_rc(SP_OK, s.rc[0]);
  assert_rc(SP_OK, s.rc[1]);
  expect_get(&s.q, 3);
  void *a, *b;
  assert_rc(SP_OK, sp_queue_get(&s.q, &a, 0));
  assert_rc(SP_OK, sp_queue_get(&s.q, &b, 0));
  assert_true((VAL(a) == 100 && VAL(b) == 101) ||
              (VAL(a) == 101 && VAL(b) == 100));
  assert_int_equal(0, sp_queue_size(&s.q));
  assert_rc(SP_OK, sp_queue_destroy(&s.q));
}

/* get blocks while empty, times out no earlier than asked, and blocked
 * getters each receive one item. */
static void test_get_blocks(void **state) {
  (void)state;
  shared_t s;
  init_shared(&s, 0);
  const int64_t timeouts[] = {1 * MS, 10 * MS, 50 * MS};
  for (int k = 0; k < 3; k++) {
    s.timeout = timeouts[k];
    t_bunch_start(&s.b, 3, timed_get, &s);
    t_bunch_join(&s.b);
    for (int i = 0; i < 3; i++)
      assert_rc(SP_TIMEDOUT, s.rc[i]);
  }
  assert_int_equal(0, t_load(&s.violations));
  s.timeout = SP_FOREVER;
  t_bunch_start(&s.b, 4, timed_get, &s);
  wait_sleepers(&s.q, 4);
  assert_rc(SP_OK, sp_queue_put(&s.q, ITEM(10), 0));
  t_wait_for_count(&s.b.finished, 1);
  wait_sleepers(&s.q, 3);
  assert_int_equal(1, t_load(&s.b.finished)); /* one item, one getter */
  for (uintptr_t i = 11; i < 14; i++)
    assert_rc(SP_OK, sp_queue_put(&s.q, ITEM(i), 0));
  t_bunch_join(&s.b);
  uintptr_t sum = 0;
  for (int i = 0; i < 4; i++) {
    assert_rc(SP_OK, s.rc[i]);
    sum += VAL(s.got[i]);
  }
  assert_int_equal(10 + 11 + 12 + 13, sum);
  assert_int_equal(0, sp_queue_size(&s.q));
  assert_rc(SP_OK, sp_queue_destroy(&s.q));
}

/* CPython test_queue's queue_join_test: workers get, add and task_done;
 * join returns once every item was marked, and every joiner wakes. */
typedef struct {
  sp_queue_t q;
  long sum; /* under sum_mu */
  sp_mutex_t sum_mu;
  int done_calls; /* atomic */
} join_t;

static void join_worker(void *p, int i) {
  join_t *j = p;
  (void)i;
  for (;;) {
    void *item;
    if (sp_queue_get(&j->q, &item, SP_FOREVER) != SP_OK)
      break;
    if (item == ITEM(UINTPTR_MAX)) { /* stop */
      sp_queue_task_done(&j->q);
      break;
    }
    assert_rc(SP_OK, sp_mutex_lock(&j->sum_mu));
    j->sum += (long)VAL(item);
    sp_mutex_unlock(&j->sum_mu);
    t_sleep_ns(10000);
    t_inc(&j->done_calls);
    sp_queue_task_done(&j->q);
  }
}

static void test_task_done_and_join(void **state) {
  (void)state;
  shared_t s;
  init_shared(&s, 0);
  /* Joiners wait while work is pending and time out no earlier than asked. */
  assert_rc(SP_OK, sp_queue_put(&s.q, ITEM(1), 0));
  assert_rc(SP_BUSY, sp_queue_join(&s.q, 0));
  s.timeout = 20 * MS;
  t_bunch_start(&s.b, 2, timed_join, &s);
  t_bunch_join(&s.b);
  assert_rc(SP_TIMEDOUT, s.rc[0]);
  assert_rc(SP_TIMEDOUT, s.rc[1]);
  assert_int_equal(0, t_load(&s.violations));
  /* Every joiner is woken by the last task_done, not before. */
  assert_rc(SP_OK, sp_queue_put(&s.q, ITEM(2), 0));
  s.timeout = SP_FOREVER; /* (a timed joiner would hide a missed wakeup) */
  t_bunch_start(&s.b, 3, timed_join, &s);
  wait_sleepers(&s.q, 3);
  expect_get(&s.q, 1);
  expect_get(&s.q, 2);
  assert_rc(SP_OK, sp_queue_task_done(&s.q));
  t_sleep_ns(5 * MS);
  assert_int_equal(0, t_load(&s.b.finished)); /* one still pending */
  assert_int_equal(3, (int)sleepers(&s.q));
  assert_rc(SP_OK, sp_queue_task_done(&s.q));
  t_bunch_join(&s.b);
  for (int i = 0; i < 3; i++)
    assert_rc(SP_OK, s.rc[i]);
  assert_rc(SP_EPERM, sp_queue_task_done(&s.q));
  assert_rc(SP_OK, sp_queue_destroy(&s.q));

  /* The worker pool of CPython's queue_join_test, run twice. */
  join_t j;
  memset(&j, 0, sizeof j);
  assert_rc(SP_OK, sp_queue_init(&j.q, 0));
  assert_rc(SP_OK, sp_mutex_init(&j.sum_mu));
  t_bunch b;
  t_bunch_start(&b, 2, join_worker, &j);
  for (int round = 1; round <= 2; round++) {
    for (uintptr_t i = 0; i < 100; i++)
      assert_rc(SP_OK, sp_queue_put(&j.q, ITEM(i), SP_FOREVER));
    assert_rc(SP_OK, sp_queue_join(&j.q, SP_FOREVER));
    assert_int_equal(100 * round, t_load(&j.done_calls));
    assert_rc(SP_OK, sp_mutex_lock(&j.sum_mu));
    assert_int_equal(round * 4950, j.sum);
    assert_rc(SP_OK, sp_mutex_unlock(&j.sum_mu));
  }
  for (int i = 0; i < 2; i++)
    assert_rc(SP_OK, sp_queue_put(&j.q, ITEM(UINTPTR_MAX), SP_FOREVER));
  assert_rc(SP_OK, sp_queue_join(&j.q, SP_FOREVER));
  t_bunch_join(&b);
  assert_rc(SP_EPERM, sp_queue_task_done(&j.q));
  assert_rc(SP_OK, sp_mutex_destroy(&j.sum_mu));
  assert_rc(SP_OK, sp_queue_destroy(&j.q));
}

/* Injected allocation failure: put returns SP_ENOMEM and the queue is
 * exactly as before (size, order, pending task count); once allocation
 * works again, everything continues. Covers the first allocation, growth
 * while wrapped, growth of a bounded queue, and a later growth failing
 * after an earlier one succeeded. */
static void test_enomem_loses_nothing(void **state) {
  (void)state;
  sp_queue_t q;
  void *item;
  /* The very first allocation fails. */
  assert_rc(SP_OK, sp_queue_init(&q, 0));
  sp_fault_set_from_(SP_FAULT_ALLOC_, 1); /* every allocation fails */
  assert_rc(SP_ENOMEM, sp_queue_put(&q, ITEM(1), 0));
  assert_rc(SP_ENOMEM, sp_queue_put(&q, ITEM(1), SP_FOREVER));
  sp_fault_clear_();
  assert_int_equal(0, sp_queue_size(&q));
  assert_rc(SP_OK, sp_queue_join(&q, 0)); /* no task was counted */
  assert_rc(SP_BUSY, sp_queue_get(&q, &item, 0));
  assert_rc(SP_OK, sp_queue_destroy(&q));

  for (int maxsize = 0; maxsize <= 100; maxsize += 100) {
    assert_rc(SP_OK, sp_queue_init(&q, maxsize));
    uintptr_t next_put = 0, next_get = 0;
    /* Make the ring wrap: fill the first block, take 3, put 3 more. */
    while (q.cap_ == 0 || q.count_ < q.cap_)
      assert_rc(SP_OK, sp_queue_put(&q, ITEM(next_put++), 0));
    size_t cap = q.cap_;
    for (int i = 0; i < 3; i++)
      expect_get(&q, next_get++);
    for (int i = 0; i < 3; i++)
      assert_rc(SP_OK, sp_queue_put(&q, ITEM(next_put++), 0));
    assert_true(q.head_ != 0 && q.count_ == cap); /* full and wrapped */
    sp_fault_set_from_(SP_FAULT_ALLOC_, 1);       /* every allocation fails */
    for (int i = 0; i < 3; i++)
      assert_rc(SP_ENOMEM, sp_queue_put(&q, ITEM(9999), 10 * MS));
    assert_int_equal((int)cap, sp_queue_size(&q));
    assert_true(q.cap_ == cap);
    /* One growth may succeed, then the next fails. */
    sp_fault_set_from_(SP_FAULT_ALLOC_, 2); /* all but the next fail */
    while (q.count_ < q.cap_ || q.cap_ == cap)
      assert_rc(SP_OK, sp_queue_put(&q, ITEM(next_put++), 0));
    size_t cap2 = q.cap_;
    assert_true(cap2 > cap);
    if (maxsize == 0 || cap2 < (size_t)maxsize) {
      assert_rc(SP_ENOMEM, sp_queue_put(&q, ITEM(9999), 0));
      assert_int_equal((int)cap2, sp_queue_size(&q));
    }
    sp_fault_clear_();
    for (int i = 0; i < 5; i++)
      assert_rc(SP_OK, sp_queue_put(&q, ITEM(next_put++), 0));
    assert_int_equal((int)(next_put - next_get), sp_queue_size(&q));
    while (next_get < next_put) /* every item, in order, none extra */
      expect_get(&q, next_get++);
    assert_rc(SP_BUSY, sp_queue_get(&q, &item, 0));
    for (uintptr_t i = 0; i < next_put; i++)
      assert_rc(SP_OK, sp_queue_task_done(&q));
    assert_rc(SP_EPERM, sp_queue_task_done(&q)); /* failed puts not counted */
    assert_rc(SP_OK, sp_queue_join(&q, 0));
    assert_rc(SP_OK, sp_queue_destroy(&q));
  }
}

static void *block_in_get(void *p) {
  shared_t *s = p;
  s->rc[0] = sp_queue_get(&s->q, &s->got[0], SP_FOREVER);
  return NULL;
}

static void *block_in_put(void *p) {
  shared_t *s = p;
  s->rc[1] = sp_queue_put(&s->q, ITEM(2), SP_FOREVER);
  return NULL;
}

static void *block_in_join(void *p) {
  shared_t *s = p;
  s->rc[2] = sp_queue_join(&s->q, SP_FOREVER);
  return NULL;
}

static void test_destroy_with_waiters(void **state) {
  (void)state;
  shared_t s;
  init_shared(&s, 1);
  /* A getter waits. */
  t_thread t = t_start(block_in_get, &s);
  wait_sleepers(&s.q, 1);
  assert_rc(SP_EPERM, sp_queue_destroy(&s.q));
  assert_rc(SP_OK, sp_queue_put(&s.q, ITEM(1), 0)); /* still usable */
  t_join(t);
  assert_rc(SP_OK, s.rc[0]);
  assert_int_equal(1, VAL(s.got[0]));
  /* A putter waits on a full queue. */
  assert_rc(SP_OK, sp_queue_put(&s.q, ITEM(3), 0));
  t = t_start(block_in_put, &s);
  wait_sleepers(&s.q, 1);
  assert_rc(SP_EPERM, sp_queue_destroy(&s.q));
  expect_get(&s.q, 3);
  t_join(t);
  assert_rc(SP_OK, s.rc[1]);
  /* A joiner waits for 3 pending tasks. */
  t = t_start(block_in_join, &s);
  wait_sleepers(&s.q, 1);
  assert_rc(SP_EPERM, sp_queue_destroy(&s.q));
  expect_get(&s.q, 2);
  for (int i = 0; i < 3; i++)
    assert_rc(SP_OK, sp_queue_task_done(&s.q));
  t_join(t);
  assert_rc(SP_OK, s.rc[2]);
  assert_rc(SP_OK, sp_queue_destroy(&s.q));
}

/* Stress: P producers put (producer, seq) items, C consumers get them; some
 * puts and gets use short timeouts and retry. Each item is seen exactly once
 * (per-item counters), the count and the sum match, and every consumer sees
 * each producer's items in increasing order (FIFO per producer). Consumers
 * stop on a stop item after the producers are done. */
#define NPROD     4
#define NCONS     4
#define STOP_ITEM ITEM(UINTPTR_MAX)

typedef struct {
  sp_queue_t q;
  long per_producer;
  int64_t deadline;
  long produced[NPROD];   /* written by each producer, read after join */
  int *seen;              /* [NPROD * per_producer], atomic */
  int violations;         /* atomic */
  long consumed;          /* atomic */
  unsigned long long sum; /* atomic */
  int max_size;           /* atomic */
  int consumers_go;       /* atomic */
} mpmc_t;

static void producer(void *p, int i) {
  mpmc_t *m = p;
  const int64_t tos[] = {SP_FOREVER, 0, 2000, 100000};
  long k = 0;
  for (; k < m->per_producer; k++) {
    if (k > 0 && (k & 63) == 0 && t_now_ns() > m->deadline)
      break;
    void *item = ITEM(((uintptr_t)i << 24) | (uintptr_t)k);
    int rc;
    int attempt = 0;
    do
      rc = sp_queue_put(&m->q, item, tos[(k + attempt++) % 4]);
    while (rc == SP_BUSY || rc == SP_TIMEDOUT);
    if (rc != SP_OK) {
      t_inc(&m->violations);
      break;
    }
    if ((k & 255) == 0) {
      int size = sp_queue_size(&m->q);
      if (size > __atomic_load_n(&m->max_size, __ATOMIC_RELAXED))
        __atomic_store_n(&m->max_size, size, __ATOMIC_RELAXED);
    }
  }
  m->produced[i] = k;
}

static void consumer(void *p, int i) {
  mpmc_t *m = p;
  const int64_t tos[] = {SP_FOREVER, 0, 2000, 100000};
  long last[NPROD];
  for (int j = 0; j < NPROD; j++)
    last[j] = -1;
  while (!t_load(&m->consumers_go))
    t_sleep_ns(100000);
  for (long k = 0;; k++) {
    void *item;
    int rc = sp_queue_get(&m->q, &item, tos[(i + k) % 4]);
    if (rc == SP_BUSY || rc == SP_TIMEDOUT)
      continue;
    if (rc != SP_OK) {
      t_inc(&m->violations);
      break;
    }
    sp_queue_task_done(&m->q);
    if (item == STOP_ITEM)
      break;
    uintptr_t v = VAL(item);
    int prod = (int)(v >> 24);
    long seq = (long)(v & 0xffffff);
    if (prod >= NPROD || seq >= m->per_producer || seq <= last[prod]) {
      t_inc(&m->violations);
      continue;
    }
    last[prod] = seq;
    __atomic_add_fetch(&m->seen[prod * m->per_producer + seq], 1,
                       __ATOMIC_RELAXED);
    __atomic_add_fetch(&m->consumed, 1, __ATOMIC_RELAXED);
    __atomic_add_fetch(&m->sum, (unsigned long long)v, __ATOMIC_RELAXED);
  }
}

static void run_mpmc(int maxsize, int consumers_late, int64_t deadline) {
  mpmc_t m;
  memset(&m, 0, sizeof m);
  assert_rc(SP_OK, sp_queue_init(&m.q, maxsize));
  m.per_producer = t_iters(40000);
  if (m.per_producer > 0xffffff)
    m.per_producer = 0xffffff;
  m.deadline = deadline;
  m.seen = calloc((size_t)(NPROD * m.per_producer), sizeof(int));
  assert_non_null(m.seen);
  t_bunch cons, prod;
  t_store(&m.consumers_go, !consumers_late);
  t_bunch_start(&cons, NCONS, consumer, &m);
  t_bunch_start(&prod, NPROD, producer, &m);
  int size_at_go = -1, all_produced_at_go = 0;
  if (consumers_late) {
    /* Let the producers fill an unbounded queue before anyone consumes. */
    int64_t end = t_now_ns() + 100 * MS;
    while (t_now_ns() < end && t_load(&prod.finished) < NPROD)
      t_sleep_ns(MS);
    all_produced_at_go = t_load(&prod.finished) == NPROD;
    size_at_go = sp_queue_size(&m.q);
    t_store(&m.consumers_go, 1);
  }
  t_bunch_join(&prod);
  for (int i = 0; i < NCONS; i++)
    assert_rc(SP_OK, sp_queue_put(&m.q, STOP_ITEM, SP_FOREVER));
  assert_rc(SP_OK, sp_queue_join(&m.q, SP_FOREVER));
  t_bunch_join(&cons);
  assert_int_equal(0, t_load(&m.violations));
  long total = 0;
  unsigned long long sum = 0;
  for (int p = 0; p < NPROD; p++) {
    total += m.produced[p];
    for (long k = 0; k < m.per_producer; k++) {
      int expect = k < m.produced[p];
      if (m.seen[p * m.per_producer + k] != expect)
        fail_msg("producer %d item %ld seen %d times", p, k,
                 m.seen[p * m.per_producer + k]);
      if (expect)
        sum += ((unsigned long long)p << 24) | (unsigned long long)k;
    }
  }
  assert_true(total > 0);
  assert_int_equal(total, m.consumed);
  assert_true(sum == m.sum);
  assert_int_equal(0, sp_queue_size(&m.q));
  assert_rc(SP_EPERM, sp_queue_task_done(&m.q));
  if (maxsize > 0) {
    assert_true(m.max_size <= maxsize);
    assert_true(m.q.cap_ <= (size_t)maxsize);
  } else if (consumers_late) {
    /* It grew under load to hold everything put before consumers ran. */
    assert_true(size_at_go > 0);
    if (all_produced_at_go)
      assert_int_equal(total, size_at_go);
    assert_true(m.q.cap_ >= (size_t)size_at_go);
  }
  free(m.seen);
  assert_rc(SP_OK, sp_queue_destroy(&m.q));
}

static void test_stress_mpmc_bounded(void **state) {
  (void)state;
  int64_t end = t_stress_deadline();
  int64_t half = t_now_ns() + (end - t_now_ns()) / 2;
  run_mpmc(1, 0, half);
  run_mpmc(16, 0, end);
}

static void test_stress_mpmc_unbounded(void **state) {
  (void)state;
  int64_t end = t_stress_deadline();
  int64_t half = t_now_ns() + (end - t_now_ns()) / 2;
  run_mpmc(0, 0, half);
  run_mpmc(0, 1, end); /* grows under load */
}

/* Every test starts with allocation working, even after a failed one. */
static int reset_alloc(void **state) {
  (void)state;
  sp_fault_clear_();
  return 0;
}

#define QTEST(f) cmocka_unit_test_setup(f, reset_alloc)

int main(void) {
  const struct CMUnitTest tests[] = {
      QTEST(test_bad_inputs),           QTEST(test_fifo),
      QTEST(test_wrap_and_grow),        QTEST(test_bounded_put),
      QTEST(test_get_blocks),           QTEST(test_task_done_and_join),
      QTEST(test_enomem_loses_nothing), QTEST(test_destroy_with_waiters),
      QTEST(test_stress_mpmc_bounded),  QTEST(test_stress_mpmc_unbounded),
  };
  return T_RUN("queue", tests);
}
