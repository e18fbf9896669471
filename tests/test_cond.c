/* sp_cond_t: what CPython's lock_tests.py checks for Condition, plus the
 * interleavings that break naive semaphore emulations (a late waiter
 * stealing a signal, timeouts racing signals) and a producer/consumer
 * stress. */
#include "helpers.h"

#include <string.h>

/* Backends whose condition never returns spuriously (documented in cond.h),
 * where wakeups can be counted exactly. */
#define EXACT_WAKEUPS (t_exact_wakeups())

typedef struct {
  sp_mutex_t m;
  sp_cond_t c;
  int waiting; /* under m: threads that announced they wait */
  int woken;   /* atomic */
  int started; /* atomic */
  int go;      /* under m: predicate for the phased tests */
  int stop;    /* atomic */
  int rc[T_MAX_BUNCH];
  int64_t timeout;
  int violations; /* atomic */
} shared_t;

static void init_shared(shared_t *s) {
  memset(s, 0, sizeof *s);
  assert_rc(SP_OK, sp_mutex_init(&s->m));
  assert_rc(SP_OK, sp_cond_init(&s->c));
}

static void fini_shared(shared_t *s) {
  assert_rc(SP_OK, sp_cond_destroy(&s->c));
  assert_rc(SP_OK, sp_mutex_destroy(&s->m));
}

/* Wait (polling) until `n` threads are inside sp_cond_wait: they announce
 * themselves under the mutex just before waiting, so once the mutex can be
 * taken with waiting == n they are all queued. */
static void wait_for_waiters(shared_t *s, int n) {
  int64_t end = t_now_ns() + 10 * SP_NS_PER_S;
  for (;;) {
    assert_rc(SP_OK, sp_mutex_lock(&s->m));
    int w = s->waiting;
    assert_rc(SP_OK, sp_mutex_unlock(&s->m));
    if (w >= n)
      return;
    if (t_now_ns() > end)
      fail_msg("only %d of %d waiters arrived", w, n);
    t_sleep_ns(200000);
  }
}

/* A waiter with no predicate: it returns on its first wakeup. Used where
 * the test counts wakeups; on backends with spurious wakeups, the checks
 * that could be upset by one are made only with EXACT_WAKEUPS. */
static void plain_waiter(void *p, int i) {
  shared_t *s = p;
  assert_rc(SP_OK, sp_mutex_lock(&s->m));
  s->waiting++;
  s->rc[i] = sp_cond_wait(&s->c, &s->m, s->timeout);
  s->waiting--;
  t_inc(&s->woken);
  assert_rc(SP_OK, sp_mutex_unlock(&s->m));
}

/* A waiter on a predicate: `go` counts the wakeups granted; each waiter
 * takes one (the loop every caller should write). */
static void predicate_waiter(void *p, int i) {
  shared_t *s = p;
  assert_rc(SP_OK, sp_mutex_lock(&s->m));
  s->waiting++;
  while (s->go == 0) {
    int rc = sp_cond_wait(&s->c, &s->m, s->timeout);
    if (rc != SP_OK) {
      s->rc[i] = rc;
      break;
    }
  }
  if (s->go > 0) {
    s->go--;
    s->rc[i] = SP_OK;
  }
  s->waiting--;
  t_inc(&s->woken);
  assert_rc(SP_OK, sp_mutex_unlock(&s->m));
}

static void grant(shared_t *s, int n, int broadcast) {
  assert_rc(SP_OK, sp_mutex_lock(&s->m));
  s->go += n;
  for (int k = 0; k < (broadcast ? 1 : n); k++)
    assert_rc(SP_OK,
              broadcast ? sp_cond_broadcast(&s->c) : sp_cond_signal(&s->c));
  assert_rc(SP_OK, sp_mutex_unlock(&s->m));
}

/* CPython's test_notify: 5 waiters; signal 3 wakes exactly 3; then 2 more;
 * then broadcast wakes all of a second group. Phased: between phases the
 * remaining waiters must stay asleep. */
static void test_notify_phased(void **state) {
  (void)state;
  shared_t s;
  init_shared(&s);
  s.timeout = 20 * SP_NS_PER_S;
  t_bunch b;
  t_bunch_start(&b, 5, predicate_waiter, &s);
  wait_for_waiters(&s, 5);
  t_sleep_ns(10 * MS);
  assert_int_equal(0, t_load(&s.woken));
  grant(&s, 3, 0);
  t_wait_for_count(&s.woken, 3);
  t_sleep_ns(20 * MS);
  assert_int_equal(3, t_load(&s.woken));
  grant(&s, 2, 0);
  t_wait_for_count(&s.woken, 5);
  t_bunch_join(&b);
  for (int i = 0; i < 5; i++)
    assert_rc(SP_OK, s.rc[i]);

  /* broadcast wakes every waiter */
  t_store(&s.woken, 0);
  t_bunch_start(&b, 6, predicate_waiter, &s);
  wait_for_waiters(&s, 6);
  grant(&s, 6, 1);
  t_wait_for_count(&s.woken, 6);
  t_bunch_join(&b);
  for (int i = 0; i < 6; i++)
    assert_rc(SP_OK, s.rc[i]);
  fini_shared(&s);
}

/* Without a predicate: signal wakes exactly one of N, broadcast all. */
static void test_signal_wakes_one_broadcast_all(void **state) {
  (void)state;
  shared_t s;
  init_shared(&s);
  s.timeout = 20 * SP_NS_PER_S;
  t_bunch b;
  t_bunch_start(&b, 4, plain_waiter, &s);
  wait_for_waiters(&s, 4);
  assert_rc(SP_OK, sp_mutex_lock(&s.m));
  assert_rc(SP_OK, sp_cond_signal(&s.c));
  assert_rc(SP_OK, sp_mutex_unlock(&s.m));
  t_wait_for_count(&s.woken, 1);
  t_sleep_ns(30 * MS);
  if (EXACT_WAKEUPS)
    assert_int_equal(1, t_load(&s.woken));
  assert_rc(SP_OK, sp_mutex_lock(&s.m));
  assert_rc(SP_OK, sp_cond_broadcast(&s.c));
  assert_rc(SP_OK, sp_mutex_unlock(&s.m));
  t_wait_for_count(&s.woken, 4);
  t_bunch_join(&b);
  for (int i = 0; i < 4; i++)
    assert_rc(SP_OK, s.rc[i]);
  fini_shared(&s);
}

/* A signal made while nobody waits is lost: a later waiter times out. */
static void test_signal_without_waiter_is_lost(void **state) {
  (void)state;
  shared_t s;
  init_shared(&s);
  assert_rc(SP_OK, sp_mutex_lock(&s.m));
  assert_rc(SP_OK, sp_cond_signal(&s.c));
  assert_rc(SP_OK, sp_cond_broadcast(&s.c));
  assert_rc(SP_OK, sp_mutex_unlock(&s.m));
  s.timeout = 30 * MS;
  t_bunch b;
  t_bunch_start(&b, 1, plain_waiter, &s);
  t_bunch_join(&b);
  if (EXACT_WAKEUPS)
    assert_rc(SP_TIMEDOUT, s.rc[0]);
  else if (s.rc[0] != SP_TIMEDOUT && s.rc[0] != SP_OK)
    fail_msg("unexpected %s", sp_strerror(s.rc[0]));
  fini_shared(&s);
}

/* A waiter that arrives after a signal must not steal it: the first waiter
 * wakes, the late one times out. Repeated, because the race is narrow.
 * With a stolen wakeup the first waiter would sleep until its timeout. */
static void *first_waiter(void *p) {
  shared_t *s = p;
  assert_rc(SP_OK, sp_mutex_lock(&s->m));
  s->waiting++;
  int rc;
  do { /* a spurious return is retried: we want the signal itself */
    rc = sp_cond_wait(&s->c, &s->m, 10 * SP_NS_PER_S);
  } while (rc == SP_OK && s->go == 0);
  s->rc[0] = rc;
  s->waiting--;
  assert_rc(SP_OK, sp_mutex_unlock(&s->m));
  return NULL;
}

static void *late_waiter(void *p) {
  shared_t *s = p;
  assert_rc(SP_OK, sp_mutex_lock(&s->m));
  t_inc(&s->started);
  s->rc[1] = sp_cond_wait(&s->c, &s->m, 50 * MS);
  assert_rc(SP_OK, sp_mutex_unlock(&s->m));
  return NULL;
}

static void test_late_waiter_does_not_steal(void **state) {
  (void)state;
  for (int round = 0; round < 20; round++) {
    shared_t s;
    init_shared(&s);
    t_thread a = t_start(first_waiter, &s);
    wait_for_waiters(&s, 1);
    assert_rc(SP_OK, sp_mutex_lock(&s.m));
    s.go = 1;
    assert_rc(SP_OK, sp_cond_signal(&s.c));
    /* The late waiter starts now and competes for the mutex with the
     * woken waiter once we let go. */
    t_thread b = t_start(late_waiter, &s);
    if (round & 1)
      t_sleep_ns(1 * MS);
    assert_rc(SP_OK, sp_mutex_unlock(&s.m));
    t_join(a);
    t_join(b);
    assert_rc(SP_OK, s.rc[0]);
    if (EXACT_WAKEUPS)
      assert_rc(SP_TIMEDOUT, s.rc[1]);
    fini_shared(&s);
  }
}

static void test_timeout_no_earlier_than_asked(void **state) {
  (void)state;
  shared_t s;
  init_shared(&s);
  const int64_t tos[] = {1, 1000, 1 * MS, 10 * MS, 60 * MS};
  assert_rc(SP_OK, sp_mutex_lock(&s.m));
  for (size_t k = 0; k < 5; k++) {
    int64_t t0 = t_now_ns();
    int rc = sp_cond_wait(&s.c, &s.m, tos[k]);
    int64_t elapsed = t_now_ns() - t0;
    if (rc == SP_TIMEDOUT && elapsed < tos[k])
      fail_msg("timed out after %lld ns, asked %lld", (long long)elapsed,
               (long long)tos[k]);
    if (EXACT_WAKEUPS)
      assert_rc(SP_TIMEDOUT, rc);
    assert_true(sp_mutex_unlock(&s.m) == SP_OK &&
                sp_mutex_lock(&s.m) == SP_OK); /* we held it again */
  }
  assert_rc(SP_OK, sp_mutex_unlock(&s.m));
  fini_shared(&s);
}

/* Misuse is reported, not undefined: signalling without the waiters' mutex,
 * waiting with a second mutex, destroying with waiters. */
static void test_mutex_rules(void **state) {
  (void)state;
  shared_t s;
  init_shared(&s);
  s.timeout = 20 * SP_NS_PER_S;
  sp_mutex_t other;
  assert_rc(SP_OK, sp_mutex_init(&other));
  t_bunch b;
  t_bunch_start(&b, 1, predicate_waiter, &s);
  wait_for_waiters(&s, 1);
  assert_rc(SP_EPERM, sp_cond_signal(&s.c));    /* mutex not held */
  assert_rc(SP_EPERM, sp_cond_broadcast(&s.c)); /* mutex not held */
  assert_rc(SP_EPERM, sp_cond_destroy(&s.c));   /* a thread waits */
  assert_rc(SP_OK, sp_mutex_lock(&other));
  assert_rc(SP_EINVAL, sp_cond_wait(&s.c, &other, 0)); /* second mutex */
  assert_rc(SP_OK, sp_mutex_unlock(&other));
  grant(&s, 1, 0);
  t_bunch_join(&b);
  assert_rc(SP_OK, s.rc[0]);
  /* With no waiter left, another mutex may be used. */
  assert_rc(SP_OK, sp_mutex_lock(&other));
  int rc = sp_cond_wait(&s.c, &other, 0);
  if (rc != SP_TIMEDOUT && (EXACT_WAKEUPS || rc != SP_OK))
    fail_msg("wait with a new mutex: %s", sp_strerror(rc));
  assert_rc(SP_OK, sp_mutex_unlock(&other));
  assert_rc(SP_OK, sp_mutex_destroy(&other));
  fini_shared(&s);
}

/* Timeouts racing signals, exact accounting. Skipped on backends
 * without spurious wakeups: on the native ones a spurious return cannot be
 * told from a doubled wakeup, and test_timeout_races_signal_tokens covers
 * them. Signallers signal only while some waiter is "unclaimed"; signallers
 * signal only while some waiter is "unclaimed"; a waiter that returns SP_OK was
 * claimed by exactly one signal, one that times out releases its claim. At the
 * end every signal produced exactly one SP_OK: none lost, none doubled. */
typedef struct {
  shared_t s;
  int unclaimed; /* under m */
  long sent;     /* under m */
  long ok;       /* under m */
  long timeouts; /* under m */
  int64_t deadline;
  long iters;
} race_t;

static void race_waiter(void *p, int i) {
  race_t *r = p;
  unsigned x = (unsigned)i * 2654435761u + 1;
  for (long k = 0; k < r->iters && !t_load(&r->s.stop); k++) {
    x = x * 1103515245u + 12345u;
    int64_t to = (int64_t)((x >> 8) % 300000); /* 0 .. 300 us */
    assert_rc(SP_OK, sp_mutex_lock(&r->s.m));
    r->unclaimed++;
    int rc = sp_cond_wait(&r->s.c, &r->s.m, to);
    if (rc == SP_OK) {
      r->ok++;
    } else {
      assert_rc(SP_TIMEDOUT, rc);
      r->unclaimed--;
      r->timeouts++;
    }
    assert_rc(SP_OK, sp_mutex_unlock(&r->s.m));
  }
}

static void race_signaller(void *p, int i) {
  race_t *r = p;
  long k = 0;
  while (t_now_ns() < r->deadline && k < r->iters * 4) {
    assert_rc(SP_OK, sp_mutex_lock(&r->s.m));
    if (r->unclaimed > 0) {
      if ((k + i) % 7 == 0) {
        /* broadcast claims every waiter */
        assert_rc(SP_OK, sp_cond_broadcast(&r->s.c));
        r->sent += r->unclaimed;
        r->unclaimed = 0;
      } else {
        assert_rc(SP_OK, sp_cond_signal(&r->s.c));
        r->sent++;
        r->unclaimed--;
      }
    }
    assert_rc(SP_OK, sp_mutex_unlock(&r->s.m));
    k++;
    if ((k & 3) == 0)
      t_yield();
  }
  t_store(&r->s.stop, 1);
}

static void race_thread(void *p, int i) {
  if (i < 2)
    race_signaller(p, i);
  else
    race_waiter(p, i);
}

static void test_timeout_races_signal_exact(void **state) {
  (void)state;
  if (!EXACT_WAKEUPS)
    skip(); /* native backends: test_timeout_races_signal_tokens */
  race_t r;
  memset(&r, 0, sizeof r);
  init_shared(&r.s);
  r.iters = t_iters(200000);
  r.deadline = t_stress_deadline();
  t_bunch b;
  t_bunch_start(&b, 6, race_thread, &r);
  t_bunch_join(&b);
  assert_int_equal(0, r.unclaimed);
  assert_int_equal(r.sent, r.ok);
  assert_true(r.ok > 0);
  assert_true(r.timeouts > 0);
  fini_shared(&r.s);
}

/* Timeouts racing signals, token conservation (every backend): producers
 * add tokens and signal once per token; consumers take tokens, waiting with
 * timeouts from 0 to forever. No token may be lost or taken twice, and the
 * forever-waiters must all finish: a wakeup absorbed by a timed-out waiter
 * would leave one asleep with tokens available. */
typedef struct {
  shared_t s;
  long tokens;   /* under m */
  long produced; /* under m */
  long consumed; /* under m */
  long per_producer;
  int consumers_left; /* atomic */
} tokens_t;

static void token_thread(void *p, int i) {
  tokens_t *t = p;
  if (i < 2) { /* producer */
    for (long k = 0; k < t->per_producer; k++) {
      assert_rc(SP_OK, sp_mutex_lock(&t->s.m));
      t->tokens++;
      t->produced++;
      assert_rc(SP_OK, sp_cond_signal(&t->s.c));
      assert_rc(SP_OK, sp_mutex_unlock(&t->s.m));
      if ((k & 7) == 0)
        t_yield();
    }
    return;
  }
  /* consumer: takes its share, exactly */
  const int64_t tos[] = {SP_FOREVER, 0, 2000, 100000, SP_FOREVER};
  long share = t->per_producer * 2 / 4;
  for (long k = 0; k < share; k++) {
    assert_rc(SP_OK, sp_mutex_lock(&t->s.m));
    while (t->tokens == 0) {
      int rc = sp_cond_wait(&t->s.c, &t->s.m, tos[(i + k) % 5]);
      if (rc != SP_OK && rc != SP_TIMEDOUT)
        fail_msg("wait: %s", sp_strerror(rc));
    }
    t->tokens--;
    t->consumed++;
    assert_rc(SP_OK, sp_mutex_unlock(&t->s.m));
  }
  __atomic_sub_fetch(&t->consumers_left, 1, __ATOMIC_SEQ_CST);
}

static void test_timeout_races_signal_tokens(void **state) {
  (void)state;
  tokens_t t;
  memset(&t, 0, sizeof t);
  init_shared(&t.s);
  t.per_producer = 2 * t_iters(20000); /* even, so shares divide */
  t.consumers_left = 4;
  t_bunch b;
  t_bunch_start(&b, 6, token_thread, &t);
  t_bunch_join(&b);
  assert_int_equal(0, t_load(&t.consumers_left));
  assert_int_equal(2 * t.per_producer, t.produced);
  assert_int_equal(t.produced, t.consumed);
  assert_int_equal(0, t.tokens);
  fini_shared(&t.s);
}

/* Producer/consumer through a bounded ring with two conditions: every item
 * arrives exactly once (count and checksum), per-producer order kept. */
#define RING 16
typedef struct {
  sp_mutex_t m;
  sp_cond_t not_empty, not_full;
  uint64_t ring[RING];
  int head, count;
  long per_producer;
  uint64_t sum_in, sum_out; /* under m */
  long received;            /* under m */
  long last_seen[4];        /* per producer, consumers check order */
  int order_errors;         /* atomic */
} pc_t;

static void pc_thread(void *p, int i) {
  pc_t *q = p;
  if (i < 3) { /* producers 0..2 */
    for (long k = 1; k <= q->per_producer; k++) {
      uint64_t item = ((uint64_t)i << 40) | (uint64_t)k;
      assert_rc(SP_OK, sp_mutex_lock(&q->m));
      while (q->count == RING)
        assert_rc(SP_OK, sp_cond_wait(&q->not_full, &q->m, SP_FOREVER));
      q->ring[(q->head + q->count) % RING] = item;
      q->count++;
      q->sum_in += item * 2654435761u;
      assert_rc(SP_OK, sp_cond_signal(&q->not_empty));
      assert_rc(SP_OK, sp_mutex_unlock(&q->m));
    }
    return;
  }
  /* one consumer per remaining thread; each takes items until all are in */
  for (;;) {
    assert_rc(SP_OK, sp_mutex_lock(&q->m));
    while (q->count == 0 && q->received < 3 * q->per_producer)
      (void)!sp_cond_wait(&q->not_empty, &q->m, 100 * MS);
    if (q->count == 0) {
      assert_rc(SP_OK, sp_mutex_unlock(&q->m));
      return;
    }
    uint64_t item = q->ring[q->head];
    q->head = (q->head + 1) % RING;
    q->count--;
    q->received++;
    q->sum_out += item * 2654435761u;
    int prod = (int)(item >> 40);
    long seq = (long)(item & 0xffffffffffu);
    if (seq <= q->last_seen[prod]) /* FIFO ring: per-producer order */
      t_inc(&q->order_errors);
    q->last_seen[prod] = seq;
    if (q->received == 3 * q->per_producer)
      assert_rc(SP_OK, sp_cond_broadcast(&q->not_empty));
    assert_rc(SP_OK, sp_cond_signal(&q->not_full));
    assert_rc(SP_OK, sp_mutex_unlock(&q->m));
  }
}

static void test_producer_consumer_stress(void **state) {
  (void)state;
  pc_t q;
  memset(&q, 0, sizeof q);
  assert_rc(SP_OK, sp_mutex_init(&q.m));
  assert_rc(SP_OK, sp_cond_init(&q.not_empty));
  assert_rc(SP_OK, sp_cond_init(&q.not_full));
  q.per_producer = t_iters(30000);
  t_bunch b;
  t_bunch_start(&b, 6, pc_thread, &q);
  t_bunch_join(&b);
  assert_int_equal(3 * q.per_producer, q.received);
  assert_true(q.sum_in == q.sum_out);
  assert_int_equal(0, t_load(&q.order_errors));
  for (int i = 0; i < 3; i++)
    assert_int_equal(q.per_producer, q.last_seen[i]);
  assert_rc(SP_OK, sp_cond_destroy(&q.not_full));
  assert_rc(SP_OK, sp_cond_destroy(&q.not_empty));
  assert_rc(SP_OK, sp_mutex_destroy(&q.m));
}

/* Issue 11, item 3: two first waiters with different mutexes, at the same
 * moment, on a condition nobody waits on: exactly one is admitted, the other
 * gets SP_EINVAL (the binding used to be a load and a separate store, which
 * could admit both). */
typedef struct {
  sp_cond_t c;
  sp_mutex_t m[2];
  int gate;  /* atomic */
  int ready; /* atomic: threads holding their mutex */
  int go[2]; /* under m[i] */
  int rc[2]; /* atomic: result + 100, 0 while waiting */
} bind_t;

static void bind_waiter(void *p, int i) {
  bind_t *b = p;
  assert_rc(SP_OK, sp_mutex_lock(&b->m[i]));
  t_inc(&b->ready);
  while (!t_load(&b->gate))
    ;
  int rc = SP_OK;
  while (rc == SP_OK && !b->go[i])
    rc = sp_cond_wait(&b->c, &b->m[i], SP_FOREVER);
  t_store(&b->rc[i], rc + 100);
  assert_rc(SP_OK, sp_mutex_unlock(&b->m[i]));
}

static void test_two_first_waiters_two_mutexes(void **state) {
  (void)state;
  long rounds = t_iters(1000), k;
  int64_t deadline = t_stress_deadline();
  for (k = 0; k < rounds && t_now_ns() < deadline; k++) {
    bind_t b;
    memset(&b, 0, sizeof b); /* zero-filled objects */
    t_bunch bunch;
    t_bunch_start(&bunch, 2, bind_waiter, &b);
    t_wait_for_count(&b.ready, 2);
    t_store(&b.gate, 1);
    /* One of them must be refused at once. */
    int64_t end = t_now_ns() + 5 * SP_NS_PER_S;
    int refused = -1;
    while (refused < 0) {
      for (int i = 0; i < 2; i++)
        if (t_load(&b.rc[i]) == SP_EINVAL + 100)
          refused = i;
      if (refused < 0 && t_now_ns() > end)
        fail_msg("round %ld: both first waiters were admitted", k);
      if (refused < 0)
        t_yield();
    }
    int admitted = 1 - refused;
    assert_rc(SP_OK, sp_mutex_lock(&b.m[admitted]));
    assert_int_equal(0, t_load(&b.rc[admitted])); /* still waiting */
    b.go[admitted] = 1;
    assert_rc(SP_OK, sp_cond_signal(&b.c));
    assert_rc(SP_OK, sp_mutex_unlock(&b.m[admitted]));
    t_bunch_join(&bunch);
    assert_int_equal(SP_OK + 100, t_load(&b.rc[admitted]));
    assert_rc(SP_OK, sp_cond_destroy(&b.c));
  }
  assert_true(k > 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_notify_phased),
      cmocka_unit_test(test_signal_wakes_one_broadcast_all),
      cmocka_unit_test(test_signal_without_waiter_is_lost),
      cmocka_unit_test(test_late_waiter_does_not_steal),
      cmocka_unit_test(test_timeout_no_earlier_than_asked),
      cmocka_unit_test(test_mutex_rules),
      cmocka_unit_test(test_timeout_races_signal_tokens),
      cmocka_unit_test(test_producer_consumer_stress),
      cmocka_unit_test(test_timeout_races_signal_exact),
      cmocka_unit_test(test_two_first_waiters_two_mutexes),
  };
  return T_RUN("cond", tests);
}
