/* sp_queue_t's LIFO and priority kinds (CPython test_queue's LifoQueue and
 * PriorityQueue checks), and the maxsize calls: empty, full, maxsize and
 * set_maxsize (blocked putters admitted when it grows, oldest first, as
 * many as fit; nothing changed when the storage cannot grow). Priority
 * order is checked with a comparison, with FIFO order among equal
 * priorities, single-threaded and under many producers; growth of both
 * kinds under injected allocation failure loses nothing; a comparison that
 * calls back into its queue gets SP_EPERM. Every new bad input returns its
 * code. */
#include "queue_helpers.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "../src/test_hooks.h"

/* Priority items: the priority in bits 16 and up, a tag below. */
#define PITEM(prio, tag) ITEM(((uintptr_t)(prio) << 16) | (uintptr_t)(tag))
#define PRIO(p)          (VAL(p) >> 16)
#define TAG(p)           (VAL(p) & 0xffff)

static int cmp_calls; /* atomic */

/* Lower priority value first; the tag is not compared (ties). */
static int by_prio(const void *a, const void *b) {
  __atomic_add_fetch(&cmp_calls, 1, __ATOMIC_RELAXED);
  uintptr_t x = PRIO(a), y = PRIO(b);
  return (x > y) - (x < y);
}

/* Whole value, larger first (a max-heap order). */
static int by_value_desc(const void *a, const void *b) {
  uintptr_t x = VAL(a), y = VAL(b);
  return (x < y) - (x > y);
}

static void test_bad_inputs(void **state) {
  (void)state;
  sp_queue_t q;
  void *item = ITEM(3);
  assert_rc(SP_EINVAL, sp_queue_init_lifo(NULL, 0));
  assert_rc(SP_EINVAL, sp_queue_init_lifo(&q, -1));
  assert_rc(SP_EINVAL, sp_queue_init_priority(NULL, 0, by_prio));
  assert_rc(SP_EINVAL, sp_queue_init_priority(&q, -1, by_prio));
  assert_rc(SP_EINVAL, sp_queue_init_priority(&q, 0, NULL));
  assert_rc(SP_EINVAL, sp_queue_empty(NULL));
  assert_rc(SP_EINVAL, sp_queue_full(NULL));
  assert_rc(SP_EINVAL, sp_queue_maxsize(NULL));
  assert_rc(SP_EINVAL, sp_queue_set_maxsize(NULL, 1));
  assert_rc(SP_EINVAL, sp_queue_shutdown(NULL, 0));
  assert_rc(SP_EINVAL, sp_queue_is_shutdown(NULL));
  assert_rc(SP_EINVAL, sp_queue_put_until(NULL, item, 0));
  assert_rc(SP_EINVAL, sp_queue_get_until(NULL, &item, 0));
  assert_rc(SP_EINVAL, sp_queue_join_until(NULL, 0));
  memset(&q, 0xA5, sizeof q); /* not an object */
  assert_rc(SP_EINVAL, sp_queue_empty(&q));
  assert_rc(SP_EINVAL, sp_queue_full(&q));
  assert_rc(SP_EINVAL, sp_queue_maxsize(&q));
  assert_rc(SP_EINVAL, sp_queue_set_maxsize(&q, 1));
  assert_rc(SP_EINVAL, sp_queue_shutdown(&q, 1));
  assert_rc(SP_EINVAL, sp_queue_is_shutdown(&q));
  assert_rc(SP_EINVAL, sp_queue_put_until(&q, item, 0));
  assert_rc(SP_EINVAL, sp_queue_get_until(&q, &item, 0));
  assert_rc(SP_EINVAL, sp_queue_join_until(&q, 0));
  /* Bad static initialisers: every call is SP_EINVAL. */
  sp_queue_t bad_prio = SP_QUEUE_INIT_PRIORITY(0, NULL);
  sp_queue_t bad_lifo = SP_QUEUE_INIT_LIFO(-1);
  sp_queue_t *bads[] = {&bad_prio, &bad_lifo};
  for (int i = 0; i < 2; i++) {
    assert_rc(SP_EINVAL, sp_queue_put(bads[i], item, 0));
    assert_rc(SP_EINVAL, sp_queue_get(bads[i], &item, 0));
    assert_rc(SP_EINVAL, sp_queue_size(bads[i]));
    assert_rc(SP_EINVAL, sp_queue_maxsize(bads[i]));
    assert_rc(SP_EINVAL, sp_queue_set_maxsize(bads[i], 3));
    assert_rc(SP_EINVAL, sp_queue_destroy(bads[i]));
  }
  /* New calls on a good queue with bad arguments change nothing. */
  for (int kind = 0; kind < 3; kind++) {
    int rc = kind == 0   ? sp_queue_init(&q, 2)
             : kind == 1 ? sp_queue_init_lifo(&q, 2)
                         : sp_queue_init_priority(&q, 2, by_prio);
    assert_rc(SP_OK, rc);
    assert_rc(SP_EINVAL, sp_queue_set_maxsize(&q, -1));
    assert_rc(SP_EINVAL, sp_queue_set_maxsize(&q, INT_MIN));
    assert_int_equal(2, sp_queue_maxsize(&q));
    assert_rc(SP_EINVAL, sp_queue_get_until(&q, NULL, 0));
    assert_rc(SP_EINVAL, sp_queue_put(&q, item, -2));
    assert_rc(SP_EINVAL, sp_queue_get(&q, &item, -2));
    assert_rc(SP_EINVAL, sp_queue_join(&q, -3));
    assert_int_equal(0, sp_queue_size(&q));
    assert_int_equal(0, sp_queue_is_shutdown(&q));
    assert_rc(SP_OK, sp_queue_destroy(&q));
    assert_rc(SP_EINVAL, sp_queue_empty(&q));
    assert_rc(SP_EINVAL, sp_queue_full(&q));
    assert_rc(SP_EINVAL, sp_queue_maxsize(&q));
    assert_rc(SP_EINVAL, sp_queue_set_maxsize(&q, 1));
    assert_rc(SP_EINVAL, sp_queue_shutdown(&q, 0));
    assert_rc(SP_EINVAL, sp_queue_is_shutdown(&q));
    assert_rc(SP_EINVAL, sp_queue_put_until(&q, item, INT64_MAX));
    assert_rc(SP_EINVAL, sp_queue_get_until(&q, &item, INT64_MAX));
    assert_rc(SP_EINVAL, sp_queue_join_until(&q, INT64_MAX));
  }
}

/* CPython's LifoQueue: the newest item first; wrap-free growth. */
static void test_lifo_order(void **state) {
  (void)state;
  sp_queue_t q;
  assert_rc(SP_OK, sp_queue_init_lifo(&q, 0));
  for (uintptr_t i = 0; i < 1000; i++)
    assert_rc(SP_OK, sp_queue_put(&q, ITEM(i), 0));
  assert_int_equal(1000, sp_queue_size(&q));
  for (uintptr_t i = 1000; i-- > 500;)
    expect_get(&q, i);
  for (uintptr_t i = 2000; i < 2010; i++)
    assert_rc(SP_OK, sp_queue_put(&q, ITEM(i), 0));
  for (uintptr_t i = 2010; i-- > 2000;)
    expect_get(&q, i);
  for (uintptr_t i = 500; i-- > 0;)
    expect_get(&q, i);
  void *item;
  assert_rc(SP_BUSY, sp_queue_get(&q, &item, 0));
  for (uintptr_t i = 0; i < 1010; i++)
    assert_rc(SP_OK, sp_queue_task_done(&q));
  assert_rc(SP_EPERM, sp_queue_task_done(&q));
  assert_rc(SP_OK, sp_queue_destroy(&q));
  /* The static initializer makes the same kind. */
  sp_queue_t s = SP_QUEUE_INIT_LIFO(3);
  for (uintptr_t i = 1; i <= 3; i++)
    assert_rc(SP_OK, sp_queue_put(&s, ITEM(i), 0));
  assert_rc(SP_BUSY, sp_queue_put(&s, ITEM(4), 0));
  expect_get(&s, 3);
  expect_get(&s, 2);
  assert_rc(SP_OK, sp_queue_destroy(&s));
}

/* A blocked putter's item enters a full LIFO queue when a get makes room:
 * it is then the newest. */
typedef struct {
  sp_queue_t q;
  int rc[T_MAX_BUNCH];
  void *got[T_MAX_BUNCH];
  uintptr_t base;
  int next; /* atomic: put_one's result slot */
} shared_t;

static void put_base_plus_i(void *p, int i) {
  shared_t *s = p;
  s->rc[i] = sp_queue_put(&s->q, ITEM(s->base + (uintptr_t)i), SP_FOREVER);
}

static void *put_one(void *p) {
  shared_t *s = p;
  int i = __atomic_fetch_add(&s->next, 1, __ATOMIC_SEQ_CST);
  s->rc[i] = sp_queue_put(&s->q, ITEM(s->base), SP_FOREVER);
  return NULL;
}

static void test_lifo_blocked_putter(void **state) {
  (void)state;
  shared_t s;
  memset(&s, 0, sizeof s);
  assert_rc(SP_OK, sp_queue_init_lifo(&s.q, 2));
  assert_rc(SP_OK, sp_queue_put(&s.q, ITEM(1), 0));
  assert_rc(SP_OK, sp_queue_put(&s.q, ITEM(2), 0));
  s.base = 9;
  t_thread t = t_start(put_one, &s);
  wait_blocked(&s.q, 1);
  expect_get(&s.q, 2); /* room: 9 goes in, on top */
  t_join(t);
  assert_rc(SP_OK, s.rc[0]);
  expect_get(&s.q, 9);
  expect_get(&s.q, 1);
  assert_rc(SP_OK, sp_queue_destroy(&s.q));
}

/* CPython's PriorityQueue: items come out in priority order; equal
 * priorities in put order (the tag counts puts of that priority). */
static void test_priority_order(void **state) {
  (void)state;
  sp_queue_t q;
  assert_rc(SP_OK, sp_queue_init_priority(&q, 0, by_prio));
  unsigned seed = 12345;
  unsigned tags[64] = {0};
  const int n = 3000;
  for (int i = 0; i < n; i++) {
    seed = seed * 1103515245u + 12345u;
    unsigned prio = (seed >> 16) % 64;
    assert_rc(SP_OK, sp_queue_put(&q, PITEM(prio, tags[prio]++), 0));
    if (i % 7 == 3) { /* interleave some gets */
      void *a;
      assert_rc(SP_OK, sp_queue_get(&q, &a, 0));
      assert_rc(SP_OK, sp_queue_put(&q, a, 0)); /* back in, as newest */
    }
  }
  /* The re-puts above changed the tags' order: check priorities only. */
  uintptr_t last_prio = 0;
  int count = 0;
  void *item;
  while (sp_queue_get(&q, &item, 0) == SP_OK) {
    assert_true(PRIO(item) >= last_prio);
    last_prio = PRIO(item);
    count++;
  }
  assert_int_equal(n, count);
  assert_rc(SP_OK, sp_queue_destroy(&q));

  /* FIFO among equal priorities, exactly. */
  assert_rc(SP_OK, sp_queue_init_priority(&q, 0, by_prio));
  memset(tags, 0, sizeof tags);
  for (int i = 0; i < n; i++) {
    seed = seed * 1103515245u + 12345u;
    unsigned prio = (seed >> 16) % 8; /* many ties */
    assert_rc(SP_OK, sp_queue_put(&q, PITEM(prio, tags[prio]++), 0));
  }
  unsigned next_tag[8] = {0};
  last_prio = 0;
  for (int i = 0; i < n; i++) {
    assert_rc(SP_OK, sp_queue_get(&q, &item, 0));
    assert_true(PRIO(item) >= last_prio);
    last_prio = PRIO(item);
    assert_int_equal(next_tag[PRIO(item)], TAG(item));
    next_tag[PRIO(item)]++;
  }
  assert_rc(SP_BUSY, sp_queue_get(&q, &item, 0));
  assert_rc(SP_OK, sp_queue_destroy(&q));

  /* Another order (largest first), through the static initializer; NULL
   * is an item like any other. */
  sp_queue_t s = SP_QUEUE_INIT_PRIORITY(0, by_value_desc);
  const uintptr_t vals[] = {5, 0, 9, 3, 9, 7, 1};
  for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++)
    assert_rc(SP_OK, sp_queue_put(&s, ITEM(vals[i]), 0));
  const uintptr_t sorted[] = {9, 9, 7, 5, 3, 1, 0};
  for (size_t i = 0; i < sizeof sorted / sizeof sorted[0]; i++)
    expect_get(&s, sorted[i]);
  assert_rc(SP_OK, sp_queue_destroy(&s));
}

/* A full bounded priority queue: a blocked putter's item is inserted in
 * order when a get makes room, and a blocked getter receives the first
 * item put. */
static void *get_one(void *p) {
  shared_t *s = p;
  s->rc[0] = sp_queue_get(&s->q, &s->got[0], SP_FOREVER);
  return NULL;
}

static void test_priority_blocking(void **state) {
  (void)state;
  shared_t s;
  memset(&s, 0, sizeof s);
  assert_rc(SP_OK, sp_queue_init_priority(&s.q, 3, by_prio));
  t_thread t = t_start(get_one, &s);
  wait_blocked(&s.q, 1);
  assert_rc(SP_OK, sp_queue_put(&s.q, PITEM(50, 0), 0));
  t_join(t);
  assert_rc(SP_OK, s.rc[0]);
  assert_int_equal(50, PRIO(s.got[0]));
  assert_rc(SP_OK, sp_queue_put(&s.q, PITEM(5, 0), 0));
  assert_rc(SP_OK, sp_queue_put(&s.q, PITEM(1, 0), 0));
  assert_rc(SP_OK, sp_queue_put(&s.q, PITEM(9, 0), 0));
  assert_int_equal(1, sp_queue_full(&s.q));
  s.base = VAL(PITEM(0, 7)); /* the most urgent */
  t = t_start(put_one, &s);
  wait_blocked(&s.q, 1);
  expect_get(&s.q, VAL(PITEM(1, 0)));
  t_join(t);
  assert_rc(SP_OK, s.rc[0]);
  expect_get(&s.q, VAL(PITEM(0, 7)));
  expect_get(&s.q, VAL(PITEM(5, 0)));
  expect_get(&s.q, VAL(PITEM(9, 0)));
  assert_rc(SP_OK, sp_queue_destroy(&s.q));
}

/* Priority order under many producers: P threads put items of random
 * priorities tagged (producer, sequence); after they finish, the drain is
 * in priority order, and within a priority each producer's items come out
 * in its own put order (the queue's FIFO-among-equals promise, seen per
 * producer). Then the same with consumers draining concurrently: nothing
 * is lost or repeated. */
#define NP  8
#define PER (t_iters(3000) < 4000 ? t_iters(3000) : 4000)
#define MKP(prio, prod, seq)                                                   \
  ITEM(((uintptr_t)(prio) << 24) | ((uintptr_t)(prod) << 16) | (uintptr_t)(seq))
#define P_PRIO(p) (VAL(p) >> 24)
#define P_PROD(p) ((VAL(p) >> 16) & 0xff)
#define P_SEQ(p)  (VAL(p) & 0xffff)

static int by_p_prio(const void *a, const void *b) {
  uintptr_t x = P_PRIO(a), y = P_PRIO(b);
  return (x > y) - (x < y);
}

typedef struct {
  sp_queue_t q;
  long per;
  int bad;            /* atomic */
  long got;           /* atomic */
  int *seen;          /* [NP * per], atomic */
  int producers_done; /* atomic */
} many_t;

static void many_producer(void *p, int i) {
  many_t *m = p;
  unsigned seed = 77u + (unsigned)i * 1000003u;
  for (long k = 0; k < m->per; k++) {
    seed = seed * 1103515245u + 12345u;
    void *item = MKP((seed >> 16) % 16, i, k);
    int rc;
    do
      rc = sp_queue_put(&m->q, item, k % 3 == 0 ? 0 : 1000000);
    while (rc == SP_BUSY || rc == SP_TIMEDOUT);
    if (rc != SP_OK)
      t_store(&m->bad, 1);
  }
}

static void many_consumer(void *p, int i) {
  many_t *m = p;
  (void)i;
  for (;;) {
    void *item;
    int rc = sp_queue_get(&m->q, &item, 2 * MS);
    if (rc == SP_TIMEDOUT) {
      if (t_load(&m->producers_done))
        return;
      continue;
    }
    if (rc != SP_OK) {
      t_store(&m->bad, 2);
      return;
    }
    long idx = (long)P_PROD(item) * m->per + (long)P_SEQ(item);
    __atomic_add_fetch(&m->seen[idx], 1, __ATOMIC_RELAXED);
    __atomic_add_fetch(&m->got, 1, __ATOMIC_RELAXED);
  }
}

static void test_priority_many_producers(void **state) {
  (void)state;
  for (int round = 0; round < 2; round++) {
    many_t m;
    memset(&m, 0, sizeof m);
    m.per = PER;
    assert_rc(SP_OK,
              sp_queue_init_priority(&m.q, round == 0 ? 0 : 64, by_p_prio));
    m.seen = calloc((size_t)(NP * m.per), sizeof(int));
    assert_non_null(m.seen);
    t_bunch cons, prod;
    if (round == 1)
      t_bunch_start(&cons, 4, many_consumer, &m);
    t_bunch_start(&prod, NP, many_producer, &m);
    t_bunch_join(&prod);
    t_store(&m.producers_done, 1);
    if (round == 0) {
      long last_seq[16][NP];
      memset(last_seq, 0xff, sizeof last_seq); /* -1 */
      uintptr_t last_prio = 0;
      void *item;
      long n = 0;
      while (sp_queue_get(&m.q, &item, 0) == SP_OK) {
        uintptr_t pr = P_PRIO(item);
        long prod_i = (long)P_PROD(item), seq = (long)P_SEQ(item);
        assert_true(pr >= last_prio);
        last_prio = pr;
        assert_true(seq > last_seq[pr][prod_i]); /* FIFO among equals */
        last_seq[pr][prod_i] = seq;
        m.seen[prod_i * m.per + seq]++;
        n++;
      }
      m.got = n;
    } else {
      t_bunch_join(&cons);
    }
    assert_int_equal(0, t_load(&m.bad));
    assert_int_equal(NP * m.per, m.got);
    for (long k = 0; k < NP * m.per; k++)
      assert_int_equal(1, m.seen[k]);
    free(m.seen);
    assert_rc(SP_OK, sp_queue_destroy(&m.q));
  }
}

/* A comparison that calls back into its own queue gets SP_EPERM (it runs
 * with the queue's mutex held), and nothing deadlocks. */
static sp_queue_t *g_reentry_q;
static int g_reentry_rc[4];
static int reentrant_cmp(const void *a, const void *b) {
  void *item;
  g_reentry_rc[0] = sp_queue_size(g_reentry_q);
  g_reentry_rc[1] = sp_queue_put(g_reentry_q, ITEM(1), 0);
  g_reentry_rc[2] = sp_queue_get(g_reentry_q, &item, 0);
  g_reentry_rc[3] = sp_queue_shutdown(g_reentry_q, 1);
  return by_value_desc(a, b);
}

static void test_priority_cmp_reentry(void **state) {
  (void)state;
  sp_queue_t q;
  assert_rc(SP_OK, sp_queue_init_priority(&q, 0, reentrant_cmp));
  g_reentry_q = &q;
  assert_rc(SP_OK, sp_queue_put(&q, ITEM(1), 0));
  assert_rc(SP_OK, sp_queue_put(&q, ITEM(2), 0)); /* compares */
  for (int i = 0; i < 4; i++)
    assert_rc(SP_EPERM, g_reentry_rc[i]);
  assert_int_equal(2, sp_queue_size(&q));
  assert_int_equal(0, sp_queue_is_shutdown(&q));
  expect_get(&q, 2);
  expect_get(&q, 1);
  assert_rc(SP_OK, sp_queue_destroy(&q));
}

/* empty, full, maxsize (CPython's qsize/empty/full checks). */
static void test_empty_full_maxsize(void **state) {
  (void)state;
  for (int kind = 0; kind < 3; kind++) {
    sp_queue_t q;
    for (int max = 0; max <= 3; max += 3) {
      int rc = kind == 0   ? sp_queue_init(&q, max)
               : kind == 1 ? sp_queue_init_lifo(&q, max)
                           : sp_queue_init_priority(&q, max, by_value_desc);
      assert_rc(SP_OK, rc);
      assert_int_equal(max, sp_queue_maxsize(&q));
      assert_int_equal(1, sp_queue_empty(&q));
      assert_int_equal(0, sp_queue_full(&q));
      for (uintptr_t i = 1; i <= 3; i++) {
        assert_rc(SP_OK, sp_queue_put(&q, ITEM(i), 0));
        assert_int_equal(0, sp_queue_empty(&q));
        assert_int_equal(max > 0 && i == 3, sp_queue_full(&q));
      }
      if (max > 0)
        assert_rc(SP_BUSY, sp_queue_put(&q, ITEM(4), 0));
      void *item;
      assert_rc(SP_OK, sp_queue_get(&q, &item, 0));
      assert_int_equal(0, sp_queue_full(&q));
      assert_rc(SP_OK, sp_queue_get(&q, &item, 0));
      assert_rc(SP_OK, sp_queue_get(&q, &item, 0));
      assert_int_equal(1, sp_queue_empty(&q));
      assert_rc(SP_OK, sp_queue_destroy(&q));
    }
  }
  sp_queue_t z;
  memset(&z, 0, sizeof z); /* zero-filled: unbounded FIFO */
  assert_int_equal(0, sp_queue_maxsize(&z));
  assert_int_equal(1, sp_queue_empty(&z));
  assert_int_equal(0, sp_queue_full(&z));
  assert_rc(SP_OK, sp_queue_destroy(&z));
}

/* set_maxsize: shrinking keeps the items and makes puts wait; growing
 * admits blocked putters oldest first, as many as fit; 0 admits all. */
static void test_set_maxsize(void **state) {
  (void)state;
  for (int kind = 0; kind < 2; kind++) {
    shared_t s;
    memset(&s, 0, sizeof s);
    assert_rc(SP_OK,
              kind == 0 ? sp_queue_init(&s.q, 4) : sp_queue_init_lifo(&s.q, 4));
    for (uintptr_t i = 1; i <= 4; i++)
      assert_rc(SP_OK, sp_queue_put(&s.q, ITEM(i), 0));
    /* Shrink below the size: nothing removed, full, puts wait. */
    assert_rc(SP_OK, sp_queue_set_maxsize(&s.q, 2));
    assert_int_equal(2, sp_queue_maxsize(&s.q));
    assert_int_equal(4, sp_queue_size(&s.q));
    assert_int_equal(1, sp_queue_full(&s.q));
    assert_rc(SP_BUSY, sp_queue_put(&s.q, ITEM(5), 0));
    void *item;
    assert_rc(SP_OK, sp_queue_get(&s.q, &item, 0));
    assert_rc(SP_OK, sp_queue_get(&s.q, &item, 0));
    assert_int_equal(1, sp_queue_full(&s.q)); /* 2 of 2 */
    /* Five putters block, one after the other (so their order is known). */
    s.base = 100;
    t_thread t[5];
    for (int i = 0; i < 5; i++) {
      s.base = 100 + (uintptr_t)i;
      t[i] = t_start(put_one, &s);
      wait_blocked(&s.q, (unsigned)i + 1);
    }
    /* Growing to 4 admits the two oldest. */
    assert_rc(SP_OK, sp_queue_set_maxsize(&s.q, 4));
    assert_int_equal(4, sp_queue_size(&s.q));
    wait_blocked(&s.q, 3);
    /* 0 (unbounded) admits the rest. */
    assert_rc(SP_OK, sp_queue_set_maxsize(&s.q, 0));
    assert_int_equal(7, sp_queue_size(&s.q));
    assert_int_equal(0, sp_queue_full(&s.q));
    for (int i = 0; i < 5; i++) {
      t_join(t[i]);
      assert_rc(SP_OK, s.rc[i]);
    }
    /* Order: FIFO shows admission order 100..104 after the 2 left. */
    if (kind == 0) {
      uintptr_t left[2];
      for (int i = 0; i < 2; i++) {
        assert_rc(SP_OK, sp_queue_get(&s.q, &item, 0));
        left[i] = VAL(item);
      }
      assert_int_equal(3, left[0]);
      assert_int_equal(4, left[1]);
      for (uintptr_t v = 100; v < 105; v++)
        expect_get(&s.q, v);
    } else {
      for (uintptr_t v = 105; v-- > 100;)
        expect_get(&s.q, v);
      expect_get(&s.q, 2);
      expect_get(&s.q, 1);
    }
    assert_int_equal(1, sp_queue_empty(&s.q));
    /* A put works again without waiting. */
    assert_rc(SP_OK, sp_queue_put(&s.q, ITEM(1), 0));
    assert_rc(SP_OK, sp_queue_destroy(&s.q));
  }
}

/* set_maxsize whose growth fails: SP_ENOMEM, nothing changed (maxsize,
 * items, blocked putters); then it works. Also growth of the LIFO and
 * priority storage under injected failure loses nothing. */
static void test_set_maxsize_enomem(void **state) {
  (void)state;
  shared_t s;
  memset(&s, 0, sizeof s);
  assert_rc(SP_OK, sp_queue_init_priority(&s.q, 8, by_value_desc));
  for (uintptr_t i = 1; i <= 8; i++)
    assert_rc(SP_OK, sp_queue_put(&s.q, ITEM(i), 0));
  assert_true(s.q.cap_ == 8);
  t_bunch b;
  s.base = 50;
  t_bunch_start(&b, 3, put_base_plus_i, &s);
  wait_blocked(&s.q, 3);
  sp_fault_set_from_(SP_FAULT_ALLOC_, 1);
  assert_rc(SP_ENOMEM, sp_queue_set_maxsize(&s.q, 100));
  assert_rc(SP_ENOMEM, sp_queue_set_maxsize(&s.q, 0));
  assert_int_equal(8, sp_queue_maxsize(&s.q));
  assert_int_equal(8, sp_queue_size(&s.q));
  assert_int_equal(3, (int)blocked(&s.q));
  /* Shrinking needs no memory. */
  assert_rc(SP_OK, sp_queue_set_maxsize(&s.q, 7));
  assert_int_equal(3, (int)blocked(&s.q));
  sp_fault_clear_();
  assert_rc(SP_OK, sp_queue_set_maxsize(&s.q, 10));
  wait_blocked(&s.q, 1);
  assert_int_equal(10, sp_queue_size(&s.q));
  assert_rc(SP_OK, sp_queue_set_maxsize(&s.q, 11));
  t_bunch_join(&b);
  for (int i = 0; i < 3; i++)
    assert_rc(SP_OK, s.rc[i]);
  const uintptr_t order[] = {52, 51, 50, 8, 7, 6, 5, 4, 3, 2, 1};
  for (size_t i = 0; i < 11; i++)
    expect_get(&s.q, order[i]);
  assert_rc(SP_OK, sp_queue_destroy(&s.q));

  /* Growth failure of LIFO and priority storage: nothing lost. */
  for (int kind = 1; kind <= 2; kind++) {
    sp_queue_t q;
    assert_rc(SP_OK, kind == 1 ? sp_queue_init_lifo(&q, 0)
                               : sp_queue_init_priority(&q, 0, by_value_desc));
    uintptr_t n = 0;
    sp_fault_set_from_(SP_FAULT_ALLOC_, 1); /* the first allocation */
    assert_rc(SP_ENOMEM, sp_queue_put(&q, ITEM(1), 0));
    assert_int_equal(0, sp_queue_size(&q));
    sp_fault_clear_();
    for (int round = 0; round < 4; round++) {
      while (q.count_ < q.cap_ || q.cap_ == 0) {
        assert_rc(SP_OK, sp_queue_put(&q, ITEM(n + 1), 0));
        n++;
      }
      sp_fault_set_from_(SP_FAULT_ALLOC_, 1);
      assert_rc(SP_ENOMEM, sp_queue_put(&q, ITEM(999999), SP_FOREVER));
      assert_int_equal((int)n, sp_queue_size(&q));
      sp_fault_clear_();
      assert_rc(SP_OK, sp_queue_put(&q, ITEM(n + 1), 0));
      n++;
    }
    for (uintptr_t v = n; v >= 1; v--) /* LIFO and largest-first agree */
      expect_get(&q, v);
    void *item;
    assert_rc(SP_BUSY, sp_queue_get(&q, &item, 0));
    for (uintptr_t v = 0; v < n; v++)
      assert_rc(SP_OK, sp_queue_task_done(&q));
    assert_rc(SP_EPERM, sp_queue_task_done(&q)); /* failed puts not counted */
    assert_rc(SP_OK, sp_queue_destroy(&q));
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      QTEST(test_bad_inputs),           QTEST(test_lifo_order),
      QTEST(test_lifo_blocked_putter),  QTEST(test_priority_order),
      QTEST(test_priority_blocking),    QTEST(test_priority_many_producers),
      QTEST(test_priority_cmp_reentry), QTEST(test_empty_full_maxsize),
      QTEST(test_set_maxsize),          QTEST(test_set_maxsize_enomem),
  };
  return T_RUN("queue_kinds", tests);
}
