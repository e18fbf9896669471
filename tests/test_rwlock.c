/* sp_rwlock_t: readers share, writers exclude, the per-thread rules
 * (nested reads, refused upgrades, unlock by a non-holder), timeouts that
 * are never early, the phase-fair policy checked in events (a registered
 * writer is never overtaken by a new reader, waiting readers go before the
 * next writer, a writer that gives up lets the readers behind it in),
 * mutual exclusion under mixed stress, the lifetime rule, static
 * initialisation and every bad input.
 *
 * The policy tests watch the lock's word (src/rwlock_word.h) to know when a
 * thread has registered as a waiter, instead of sleeping and hoping. */
#include "helpers.h"

#include "../src/rwlock_word.h"

#include <stdlib.h>
#include <string.h>

static uint64_t word_of(sp_rwlock_t *l) {
  return __atomic_load_n(&l->word_, __ATOMIC_SEQ_CST);
}

/* Wait (bounded) until the lock's word shows `n` registered readers
 * (rs = 1) or writers (rs = 0). */
static void wait_registered(sp_rwlock_t *l, int rs, uint64_t n) {
  int64_t end = t_now_ns() + 10 * SP_NS_PER_S;
  for (;;) {
    uint64_t w = word_of(l);
    if ((rs ? SP_RW_RS_(w) : SP_RW_NW_(w)) == n)
      return;
    if (t_now_ns() > end)
      fail_msg("waited 10 s for %llu registered %s; word %#llx",
               (unsigned long long)n, rs ? "readers" : "writers",
               (unsigned long long)w);
    t_sleep_ns(50000);
  }
}

/* A thread that runs one lock call and records its result and when it
 * returned (in a global sequence of events). */
enum { OP_RD, OP_WR, OP_UNLOCK, OP_RD_UNTIL, OP_WR_UNTIL };
static int seq; /* atomic: event counter */

typedef struct {
  sp_rwlock_t *l;
  int op;
  int64_t arg; /* timeout or deadline */
  int hold;    /* 1: keep the lock until `release` is set, then unlock */
  int release; /* atomic */
  int started; /* atomic */
  int done;    /* atomic: 1 once the call returned */
  int rc;
  int at;          /* seq value when the call returned */
  int64_t elapsed; /* of the call */
  sp_thread_t t;
} actor_t;

static void *actor_main(void *p) {
  actor_t *a = p;
  t_store(&a->started, 1);
  int64_t t0 = t_now_ns();
  switch (a->op) {
  case OP_RD:
    a->rc = sp_rwlock_rdlock(a->l, a->arg);
    break;
  case OP_WR:
    a->rc = sp_rwlock_wrlock(a->l, a->arg);
    break;
  case OP_RD_UNTIL:
    a->rc = sp_rwlock_rdlock_until(a->l, a->arg);
    break;
  case OP_WR_UNTIL:
    a->rc = sp_rwlock_wrlock_until(a->l, a->arg);
    break;
  default:
    a->rc = sp_rwlock_unlock(a->l);
  }
  a->elapsed = t_now_ns() - t0;
  a->at = t_inc(&seq);
  t_store(&a->done, 1);
  if (a->hold && a->rc == SP_OK) {
    while (!t_load(&a->release))
      t_yield();
    assert_rc(SP_OK, sp_rwlock_unlock(a->l));
  }
  return NULL;
}

static void actor_start(actor_t *a, sp_rwlock_t *l, int op, int64_t arg,
                        int hold) {
  memset(a, 0, sizeof *a);
  a->l = l;
  a->op = op;
  a->arg = arg;
  a->hold = hold;
  assert_rc(SP_OK, sp_thread_start(&a->t, actor_main, a));
}

static void actor_finish(actor_t *a) {
  t_store(&a->release, 1);
  assert_rc(SP_OK, sp_thread_join(&a->t, NULL));
}

/* Run one call in another thread and return its result. */
static int other_thread(sp_rwlock_t *l, int op, int64_t arg) {
  actor_t a;
  actor_start(&a, l, op, arg, 0);
  assert_rc(SP_OK, sp_thread_join(&a.t, NULL));
  if (a.rc == SP_OK &&
      (op == OP_RD || op == OP_WR || op == OP_RD_UNTIL || op == OP_WR_UNTIL))
    fail_msg("other_thread: the lock was taken and not released");
  return a.rc;
}

/* ---- basics ---------------------------------------------------------- */

static void test_read_write_basic(void **state) {
  (void)state;
  sp_rwlock_t l;
  assert_rc(SP_OK, sp_rwlock_init(&l));
  assert_rc(SP_OK, sp_rwlock_rdlock(&l, SP_FOREVER));
  assert_rc(SP_OK, sp_rwlock_unlock(&l));
  assert_rc(SP_OK, sp_rwlock_wrlock(&l, SP_FOREVER));
  assert_rc(SP_OK, sp_rwlock_unlock(&l));
  assert_rc(SP_OK, sp_rwlock_rdlock(&l, 0));
  assert_rc(SP_OK, sp_rwlock_unlock(&l));
  assert_rc(SP_OK, sp_rwlock_wrlock(&l, 0));
  assert_rc(SP_OK, sp_rwlock_unlock(&l));
  assert_rc(SP_OK, sp_rwlock_rdlock(&l, 10 * MS));
  assert_rc(SP_OK, sp_rwlock_unlock(&l));
  assert_rc(SP_OK, sp_rwlock_wrlock(&l, 10 * MS));
  assert_rc(SP_OK, sp_rwlock_unlock(&l));
  assert_rc(SP_OK, sp_rwlock_rdlock_until(&l, t_now_ns() + 10 * MS));
  assert_rc(SP_OK, sp_rwlock_unlock(&l));
  assert_rc(SP_OK, sp_rwlock_wrlock_until(&l, INT64_MAX));
  assert_rc(SP_OK, sp_rwlock_unlock(&l));
  /* a deadline already passed still tries once */
  assert_rc(SP_OK, sp_rwlock_rdlock_until(&l, 0));
  assert_rc(SP_OK, sp_rwlock_unlock(&l));
  assert_rc(SP_OK, sp_rwlock_wrlock_until(&l, -5));
  assert_rc(SP_OK, sp_rwlock_unlock(&l));
  assert_rc(SP_OK, sp_rwlock_destroy(&l));
}

/* Readers share: n threads hold the read lock at the same time (each
 * keeps it until all n have it). */
typedef struct {
  sp_rwlock_t l;
  int inside; /* atomic */
  int n;
  int rc[T_MAX_BUNCH];
} share_t;

static void share_worker(void *p, int i) {
  share_t *s = p;
  s->rc[i] = sp_rwlock_rdlock(&s->l, SP_FOREVER);
  t_inc(&s->inside);
  t_wait_for_count(&s->inside, s->n);
  assert_rc(SP_OK, sp_rwlock_unlock(&s->l));
}

static void test_readers_share(void **state) {
  (void)state;
  static share_t s;
  memset(&s, 0, sizeof s);
  s.n = 8;
  t_bunch b;
  t_bunch_start(&b, s.n, share_worker, &s);
  t_bunch_join(&b);
  for (int i = 0; i < s.n; i++)
    assert_rc(SP_OK, s.rc[i]);
  assert_int_equal(0, (int)(word_of(&s.l) & ~SP_RW_PHASE_));
}

/* What the other threads get while one thread holds the lock. */
static void test_try_while_held(void **state) {
  (void)state;
  sp_rwlock_t l = SP_RWLOCK_INIT;
  assert_rc(SP_OK, sp_rwlock_wrlock(&l, SP_FOREVER));
  assert_rc(SP_BUSY, other_thread(&l, OP_RD, 0));
  assert_rc(SP_BUSY, other_thread(&l, OP_WR, 0));
  assert_rc(SP_TIMEDOUT, other_thread(&l, OP_RD_UNTIL, 0));
  assert_rc(SP_TIMEDOUT, other_thread(&l, OP_WR_UNTIL, 0));
  assert_rc(SP_EPERM, other_thread(&l, OP_UNLOCK, 0));
  assert_rc(SP_OK, sp_rwlock_unlock(&l));

  assert_rc(SP_OK, sp_rwlock_rdlock(&l, SP_FOREVER));
  assert_rc(SP_BUSY, other_thread(&l, OP_WR, 0));
  assert_rc(SP_TIMEDOUT, other_thread(&l, OP_WR_UNTIL, 0));
  assert_rc(SP_EPERM, other_thread(&l, OP_UNLOCK, 0));
  /* another reader gets in (it releases right away) */
  actor_t a;
  actor_start(&a, &l, OP_RD, 0, 1);
  t_wait_for_count(&a.done, 1);
  assert_rc(SP_OK, a.rc);
  actor_finish(&a);
  assert_rc(SP_OK, sp_rwlock_unlock(&l));
  assert_rc(SP_OK, sp_rwlock_destroy(&l));
}

/* ---- per-thread rules ------------------------------------------------ */

static void test_nested_reads(void **state) {
  (void)state;
  sp_rwlock_t l = SP_RWLOCK_INIT;
  for (int i = 0; i < 5; i++)
    assert_rc(SP_OK, sp_rwlock_rdlock(&l, i == 0 ? SP_FOREVER : 0));
  assert_int_equal(1, (int)SP_RW_R_(word_of(&l))); /* one reader thread */
  for (int i = 0; i < 5; i++) {
    assert_rc(SP_BUSY, other_thread(&l, OP_WR, 0));
    assert_rc(SP_OK, sp_rwlock_unlock(&l));
  }
  assert_rc(SP_EPERM, sp_rwlock_unlock(&l));
  assert_rc(SP_OK, sp_rwlock_wrlock(&l, 0));
  assert_rc(SP_OK, sp_rwlock_unlock(&l));
}

static void test_upgrade_refused(void **state) {
  (void)state;
  sp_rwlock_t l = SP_RWLOCK_INIT;
  assert_rc(SP_OK, sp_rwlock_rdlock(&l, SP_FOREVER));
  /* at once, whatever the timeout: no deadlock */
  assert_rc(SP_EPERM, sp_rwlock_wrlock(&l, SP_FOREVER));
  assert_rc(SP_EPERM, sp_rwlock_wrlock(&l, 0));
  assert_rc(SP_EPERM, sp_rwlock_wrlock(&l, 5 * MS));
  assert_rc(SP_EPERM, sp_rwlock_wrlock_until(&l, INT64_MAX));
  /* still a reader, once */
  assert_rc(SP_OK, sp_rwlock_unlock(&l));
  assert_rc(SP_EPERM, sp_rwlock_unlock(&l));
  /* two readers both trying to upgrade: both refused, neither hangs */
  assert_rc(SP_OK, sp_rwlock_rdlock(&l, SP_FOREVER));
  actor_t a;
  actor_start(&a, &l, OP_RD, SP_FOREVER, 1);
  t_wait_for_count(&a.done, 1);
  assert_rc(SP_OK, a.rc);
  assert_rc(SP_EPERM, sp_rwlock_wrlock(&l, SP_FOREVER));
  actor_finish(&a);
  assert_rc(SP_OK, sp_rwlock_unlock(&l));
  assert_rc(SP_OK, sp_rwlock_destroy(&l));
}

static void test_writer_rules(void **state) {
  (void)state;
  sp_rwlock_t l = SP_RWLOCK_INIT;
  assert_rc(SP_OK, sp_rwlock_wrlock(&l, SP_FOREVER));
  assert_rc(SP_EPERM, sp_rwlock_wrlock(&l, SP_FOREVER));
  assert_rc(SP_EPERM, sp_rwlock_wrlock(&l, 0));
  assert_rc(SP_EPERM, sp_rwlock_rdlock(&l, SP_FOREVER));
  assert_rc(SP_EPERM, sp_rwlock_rdlock_until(&l, INT64_MAX));
  assert_rc(SP_OK, sp_rwlock_unlock(&l));
  assert_rc(SP_EPERM, sp_rwlock_unlock(&l));
  assert_rc(SP_OK, sp_rwlock_destroy(&l));
}

/* A thread may hold read locks on many rwlocks at once (past the
 * per-thread table's inline slots), nested, released in any order. */
static void test_many_read_locks(void **state) {
  (void)state;
  enum { N = 40 };
  static sp_rwlock_t ls[N];
  memset(ls, 0, sizeof ls);
  for (int i = 0; i < N; i++) {
    assert_rc(SP_OK, sp_rwlock_rdlock(&ls[i], SP_FOREVER));
    assert_rc(SP_OK, sp_rwlock_rdlock(&ls[i], 0));
  }
  for (int i = 0; i < N; i += 7) {
    assert_rc(SP_EPERM, sp_rwlock_wrlock(&ls[i], 0));
    assert_rc(SP_BUSY, other_thread(&ls[i], OP_WR, 0));
  }
  /* release in a scrambled order, one level at a time */
  for (int round = 0; round < 2; round++)
    for (int k = 0; k < N; k++) {
      int i = (k * 17 + round * 5) % N;
      assert_rc(SP_OK, sp_rwlock_unlock(&ls[i]));
    }
  for (int i = 0; i < N; i++) {
    assert_rc(SP_EPERM, sp_rwlock_unlock(&ls[i]));
    assert_rc(SP_OK, sp_rwlock_wrlock(&ls[i], 0));
    assert_rc(SP_OK, sp_rwlock_unlock(&ls[i]));
    assert_rc(SP_OK, sp_rwlock_destroy(&ls[i]));
  }
}

/* ---- timeouts -------------------------------------------------------- */

static void test_timeouts_never_early(void **state) {
  (void)state;
  sp_rwlock_t l = SP_RWLOCK_INIT;
  const int64_t to[] = {1, 100000, 2 * MS, 15 * MS};
  /* writer holds: readers and writers time out */
  assert_rc(SP_OK, sp_rwlock_wrlock(&l, SP_FOREVER));
  for (size_t i = 0; i < sizeof to / sizeof to[0]; i++) {
    for (int op = OP_RD; op <= OP_WR; op++) {
      actor_t a;
      actor_start(&a, &l, op, to[i], 0);
      assert_rc(SP_OK, sp_thread_join(&a.t, NULL));
      assert_rc(SP_TIMEDOUT, a.rc);
      if (a.elapsed < to[i])
        fail_msg("timeout %lld returned after %lld ns", (long long)to[i],
                 (long long)a.elapsed);
    }
    int64_t deadline = t_now_ns() + to[i];
    assert_rc(SP_TIMEDOUT, other_thread(&l, OP_RD_UNTIL, deadline));
    assert_true(t_now_ns() >= deadline);
    deadline = t_now_ns() + to[i];
    assert_rc(SP_TIMEDOUT, other_thread(&l, OP_WR_UNTIL, deadline));
    assert_true(t_now_ns() >= deadline);
  }
  assert_rc(SP_OK, sp_rwlock_unlock(&l));
  /* reader holds: writers time out */
  assert_rc(SP_OK, sp_rwlock_rdlock(&l, SP_FOREVER));
  for (size_t i = 0; i < sizeof to / sizeof to[0]; i++) {
    actor_t a;
    actor_start(&a, &l, OP_WR, to[i], 0);
    assert_rc(SP_OK, sp_thread_join(&a.t, NULL));
    assert_rc(SP_TIMEDOUT, a.rc);
    assert_true(a.elapsed >= to[i]);
  }
  assert_rc(SP_OK, sp_rwlock_unlock(&l));
  /* nothing is left registered */
  assert_int_equal(0, (int)(word_of(&l) & ~SP_RW_PHASE_));
  assert_rc(SP_OK, sp_rwlock_destroy(&l));
}

/* ---- the policy, in events ------------------------------------------- */

/* A writer that waits for readers makes new readers wait behind it: a
 * try-read fails, a timed read times out, a blocking read gets in only
 * after the writer. A nested read by a current reader still goes in. */
static void test_writer_not_overtaken(void **state) {
  (void)state;
  static sp_rwlock_t l;
  memset(&l, 0, sizeof l);
  t_store(&seq, 0);
  assert_rc(SP_OK, sp_rwlock_rdlock(&l, SP_FOREVER)); /* reader A (main) */
  actor_t w, b;
  actor_start(&w, &l, OP_WR, SP_FOREVER, 1);
  wait_registered(&l, 0, 1);
  assert_rc(SP_BUSY, other_thread(&l, OP_RD, 0));
  assert_rc(SP_TIMEDOUT, other_thread(&l, OP_RD, 2 * MS));
  assert_rc(SP_OK, sp_rwlock_rdlock(&l, 0)); /* nested: no deadlock */
  assert_rc(SP_OK, sp_rwlock_unlock(&l));
  actor_start(&b, &l, OP_RD, SP_FOREVER, 1);
  wait_registered(&l, 1, 1);
  assert_int_equal(0, t_load(&w.done));
  assert_int_equal(0, t_load(&b.done));
  assert_rc(SP_OK, sp_rwlock_unlock(&l)); /* A leaves: the writer goes */
  t_wait_for_count(&w.done, 1);
  assert_rc(SP_OK, w.rc);
  assert_int_equal(0, t_load(&b.done)); /* still behind the writer */
  actor_finish(&w);
  t_wait_for_count(&b.done, 1);
  assert_rc(SP_OK, b.rc);
  assert_true(w.at < b.at);
  actor_finish(&b);
  assert_rc(SP_OK, sp_rwlock_destroy(&l));
}

/* Readers that waited for a writer all get the lock at its unlock, before
 * a writer that was waiting too (one reader phase between writers). */
static void test_waiting_readers_before_next_writer(void **state) {
  (void)state;
  enum { NR = 3 };
  static sp_rwlock_t l;
  memset(&l, 0, sizeof l);
  t_store(&seq, 0);
  assert_rc(SP_OK, sp_rwlock_wrlock(&l, SP_FOREVER)); /* writer 1 (main) */
  actor_t r[NR], w2;
  for (int i = 0; i < NR; i++) {
    actor_start(&r[i], &l, OP_RD, SP_FOREVER, 1);
    wait_registered(&l, 1, (uint64_t)i + 1);
  }
  actor_start(&w2, &l, OP_WR, SP_FOREVER, 1);
  wait_registered(&l, 0, 1);
  assert_rc(SP_OK, sp_rwlock_unlock(&l));
  /* all readers get in together, while writer 2 still waits */
  for (int i = 0; i < NR; i++) {
    t_wait_for_count(&r[i].done, 1);
    assert_rc(SP_OK, r[i].rc);
  }
  assert_int_equal(0, t_load(&w2.done));
  assert_int_equal(NR, (int)SP_RW_R_(word_of(&l)));
  for (int i = 0; i < NR; i++)
    actor_finish(&r[i]);
  t_wait_for_count(&w2.done, 1);
  assert_rc(SP_OK, w2.rc);
  for (int i = 0; i < NR; i++)
    assert_true(r[i].at < w2.at);
  actor_finish(&w2);
  assert_rc(SP_OK, sp_rwlock_destroy(&l));
}

/* A writer that gives up lets in the readers that waited behind it (they
 * were blocked by it only), without waiting for the current reader. */
static void test_writer_timeout_releases_readers(void **state) {
  (void)state;
  static sp_rwlock_t l;
  /* The reader B must register before the writer's timeout ends; on a slow
   * machine (wine, sanitizers) it may not, and the round is tried again
   * with a longer timeout. */
  for (int64_t timeout = 30 * MS;; timeout *= 2) {
    if (timeout > 4 * SP_NS_PER_S)
      fail_msg("the reader never registered before the writer timed out");
    memset(&l, 0, sizeof l);
    assert_rc(SP_OK, sp_rwlock_rdlock(&l, SP_FOREVER)); /* reader A (main) */
    actor_t w, b;
    actor_start(&w, &l, OP_WR, timeout, 0);
    wait_registered(&l, 0, 1);
    actor_start(&b, &l, OP_RD, SP_FOREVER, 1);
    while (SP_RW_RS_(word_of(&l)) == 0 && !t_load(&w.done))
      t_sleep_ns(50000);
    if (SP_RW_RS_(word_of(&l)) == 0) { /* too late: try again */
      t_wait_for_count(&b.done, 1);
      actor_finish(&b);
      assert_rc(SP_OK, sp_rwlock_unlock(&l));
      assert_rc(SP_OK, sp_thread_join(&w.t, NULL));
      continue;
    }
    t_wait_for_count(&w.done, 1);
    assert_rc(SP_TIMEDOUT, w.rc);
    assert_true(w.elapsed >= timeout);
    t_wait_for_count(&b.done, 1); /* while A still reads */
    assert_rc(SP_OK, b.rc);
    assert_int_equal(2, (int)SP_RW_R_(word_of(&l)));
    actor_finish(&b);
    assert_rc(SP_OK, sp_rwlock_unlock(&l));
    assert_rc(SP_OK, sp_thread_join(&w.t, NULL));
    assert_int_equal(0, (int)(word_of(&l) & ~SP_RW_PHASE_));
    break;
  }
}

/* A reader that times out while registered leaves nothing behind: the
 * writer's unlock grants nobody. */
static void test_reader_timeout_leaves(void **state) {
  (void)state;
  static sp_rwlock_t l;
  memset(&l, 0, sizeof l);
  assert_rc(SP_OK, sp_rwlock_wrlock(&l, SP_FOREVER));
  actor_t r;
  actor_start(&r, &l, OP_RD, 20 * MS, 0);
  assert_rc(SP_OK, sp_thread_join(&r.t, NULL));
  assert_rc(SP_TIMEDOUT, r.rc);
  assert_true(r.elapsed >= 20 * MS);
  assert_int_equal(0, (int)SP_RW_RS_(word_of(&l)));
  assert_rc(SP_OK, sp_rwlock_unlock(&l));
  assert_int_equal(0, (int)(word_of(&l) & ~SP_RW_PHASE_));
  assert_rc(SP_OK, sp_rwlock_destroy(&l));
}

/* ---- stress ---------------------------------------------------------- */

/* Readers overlap so that the lock always has one (a reader-preferring
 * lock would never let the writer in); the writer takes it `writes` times.
 * Event check of writer priority: a reader that saw a writer registered
 * before calling rdlock gets in only after that writer's next acquisition
 * (the writer's acquisition counter moved). The writer fills a table with
 * plain stores that readers check whole (exclusion; TSan sees the data). */
enum { TBL = 64 };
typedef struct {
  sp_rwlock_t l;
  int stop;       /* atomic */
  int wgen;       /* atomic: writer acquisitions so far */
  int overtakes;  /* atomic: violations of writer priority */
  int torn;       /* atomic: readers that saw a half-written table */
  int excl;       /* atomic: exclusion violations */
  int readers_in; /* atomic */
  int writers_in; /* atomic */
  long reads;     /* atomic */
  int table[TBL];
} prio_t;

static void check_table(prio_t *s) {
  int v = s->table[0];
  for (int k = 1; k < TBL; k++)
    if (s->table[k] != v + k) {
      t_inc(&s->torn);
      return;
    }
}

static void prio_reader(void *p, int i) {
  (void)i;
  prio_t *s = p;
  while (!t_load(&s->stop)) {
    int g = t_load(&s->wgen);
    int registered = SP_RW_NW_(word_of(&s->l)) != 0;
    assert_rc(SP_OK, sp_rwlock_rdlock(&s->l, SP_FOREVER));
    if (registered && t_load(&s->wgen) == g)
      t_inc(&s->overtakes);
    t_inc(&s->readers_in);
    if (t_load(&s->writers_in) != 0)
      t_inc(&s->excl);
    check_table(s);
    for (int k = 0; k < 3; k++) /* hold a moment, so readers overlap */
      t_yield();
    __atomic_sub_fetch(&s->readers_in, 1, __ATOMIC_SEQ_CST);
    __atomic_add_fetch(&s->reads, 1, __ATOMIC_RELAXED);
    assert_rc(SP_OK, sp_rwlock_unlock(&s->l));
  }
}

static void test_writer_priority_stress(void **state) {
  (void)state;
  static prio_t s;
  memset(&s, 0, sizeof s);
  for (int k = 0; k < TBL; k++)
    s.table[k] = k;
  t_bunch b;
  t_bunch_start(&b, 4, prio_reader, &s);
  long writes = t_iters(300);
  int64_t deadline = t_stress_deadline();
  long done = 0;
  for (; done < writes && (done < 10 || t_now_ns() < deadline); done++) {
    assert_rc(SP_OK, sp_rwlock_wrlock(&s.l, SP_FOREVER));
    t_inc(&s.wgen);
    if (t_inc(&s.writers_in) != 1 || t_load(&s.readers_in) != 0)
      t_inc(&s.excl);
    int base = (int)done * 1000;
    for (int k = 0; k < TBL; k++)
      s.table[k] = base + k;
    __atomic_sub_fetch(&s.writers_in, 1, __ATOMIC_SEQ_CST);
    assert_rc(SP_OK, sp_rwlock_unlock(&s.l));
    t_yield();
  }
  t_store(&s.stop, 1);
  t_bunch_join(&b);
  assert_true(done >= 10);
  assert_int_equal(0, t_load(&s.overtakes));
  assert_int_equal(0, t_load(&s.torn));
  assert_int_equal(0, t_load(&s.excl));
  assert_int_equal(0, (int)(word_of(&s.l) & ~SP_RW_PHASE_));
}

/* Readers and writers with every kind of call and timeout: exclusion, the
 * table stays whole, every SP_TIMEDOUT came no earlier than its timeout,
 * and the lock ends idle. `write_pct` sets the mix. */
typedef struct {
  prio_t p;
  int write_pct;
  long iters;
  int64_t deadline;
  int early;               /* atomic: timeouts returned early */
  long ok, timedout, busy; /* atomic */
} mix_t;

static unsigned rnd(unsigned *x) {
  *x = *x * 1103515245u + 12345u;
  return *x >> 16;
}

static void mix_worker(void *p, int i) {
  mix_t *m = p;
  prio_t *s = &m->p;
  unsigned x = 2654435761u * (unsigned)(i + 1);
  for (long it = 0; it < m->iters && t_now_ns() < m->deadline; it++) {
    int write = (int)(rnd(&x) % 100) < m->write_pct;
    int kind = (int)(rnd(&x) % 5);
    int64_t timeout = kind == 0   ? 0
                      : kind == 1 ? SP_FOREVER
                      : kind == 2 ? 1000
                      : kind == 3 ? 200000
                                  : 2 * MS;
    int until = rnd(&x) % 2;
    int64_t t0 = t_now_ns(), dl = timeout < 0 ? INT64_MAX : t0 + timeout;
    int rc;
    if (write)
      rc = until && timeout != 0 ? sp_rwlock_wrlock_until(&s->l, dl)
                                 : sp_rwlock_wrlock(&s->l, timeout);
    else
      rc = until && timeout != 0 ? sp_rwlock_rdlock_until(&s->l, dl)
                                 : sp_rwlock_rdlock(&s->l, timeout);
    if (rc == SP_TIMEDOUT) {
      if (t_now_ns() - t0 < timeout)
        t_inc(&m->early);
      __atomic_add_fetch(&m->timedout, 1, __ATOMIC_RELAXED);
      continue;
    }
    if (rc == SP_BUSY) {
      assert_true(timeout == 0);
      __atomic_add_fetch(&m->busy, 1, __ATOMIC_RELAXED);
      continue;
    }
    assert_rc(SP_OK, rc);
    __atomic_add_fetch(&m->ok, 1, __ATOMIC_RELAXED);
    if (write) {
      if (t_inc(&s->writers_in) != 1 || t_load(&s->readers_in) != 0)
        t_inc(&s->excl);
      int base = (int)rnd(&x);
      for (int k = 0; k < TBL; k++)
        s->table[k] = base + k;
      if (rnd(&x) % 4 == 0)
        t_yield();
      __atomic_sub_fetch(&s->writers_in, 1, __ATOMIC_SEQ_CST);
    } else {
      t_inc(&s->readers_in);
      if (t_load(&s->writers_in) != 0)
        t_inc(&s->excl);
      check_table(s);
      if (rnd(&x) % 4 == 0) { /* nested read */
        assert_rc(SP_OK, sp_rwlock_rdlock(&s->l, 0));
        check_table(s);
        assert_rc(SP_OK, sp_rwlock_unlock(&s->l));
      }
      if (rnd(&x) % 4 == 0)
        t_yield();
      __atomic_sub_fetch(&s->readers_in, 1, __ATOMIC_SEQ_CST);
    }
    assert_rc(SP_OK, sp_rwlock_unlock(&s->l));
  }
}

static void run_mix(int write_pct, int threads) {
  static mix_t m;
  memset(&m, 0, sizeof m);
  for (int k = 0; k < TBL; k++)
    m.p.table[k] = k;
  m.write_pct = write_pct;
  m.iters = t_iters(20000);
  m.deadline = t_stress_deadline();
  t_bunch b;
  t_bunch_start(&b, threads, mix_worker, &m);
  t_bunch_join(&b);
  assert_int_equal(0, t_load(&m.early));
  assert_int_equal(0, t_load(&m.p.torn));
  assert_int_equal(0, t_load(&m.p.excl));
  assert_true(m.ok > 0);
  assert_int_equal(0, (int)(word_of(&m.p.l) & ~SP_RW_PHASE_));
  assert_rc(SP_OK, sp_rwlock_destroy(&m.p.l));
}

static void test_mix_read_mostly(void **state) {
  (void)state;
  run_mix(10, 4);
}

static void test_mix_write_heavy(void **state) {
  (void)state;
  run_mix(60, 4);
}

static void test_mix_many_threads(void **state) {
  (void)state;
  run_mix(30, 12);
}

/* ---- lifetime -------------------------------------------------------- */

/* The lock lives on the heap; the thread that gets it after another one's
 * unlock destroys and frees it at once (ASan: the unlocker touches nothing
 * after its release). Both directions: reader unlock -> writer frees,
 * writer unlock -> granted reader frees. */
typedef struct {
  sp_rwlock_t *l;
  int locked; /* atomic */
} life_t;

static void *life_reader(void *p) {
  life_t *lf = p;
  sp_rwlock_t *l = lf->l;
  assert_rc(SP_OK, sp_rwlock_rdlock(l, SP_FOREVER));
  t_store(&lf->locked, 1);
  t_yield();
  assert_rc(SP_OK, sp_rwlock_unlock(l)); /* the writer frees l next */
  return NULL;
}

static void *life_waiting_reader(void *p) {
  life_t *lf = p;
  sp_rwlock_t *l = lf->l;
  assert_rc(SP_OK, sp_rwlock_rdlock(l, SP_FOREVER)); /* granted */
  assert_rc(SP_OK, sp_rwlock_unlock(l));
  assert_rc(SP_OK, sp_rwlock_destroy(l));
  free(l);
  return NULL;
}

static void test_unlocker_never_touches_freed_lock(void **state) {
  (void)state;
  long rounds = t_iters(300);
  int64_t deadline = t_stress_deadline();
  for (long i = 0; i < rounds && t_now_ns() < deadline; i++) {
    life_t lf;
    lf.l = calloc(1, sizeof(sp_rwlock_t));
    assert_non_null(lf.l);
    t_store(&lf.locked, 0);
    sp_thread_t t;
    assert_rc(SP_OK, sp_thread_start(&t, life_reader, &lf));
    t_wait_for_count(&lf.locked, 1);
    assert_rc(SP_OK, sp_rwlock_wrlock(lf.l, SP_FOREVER));
    assert_rc(SP_OK, sp_rwlock_unlock(lf.l));
    assert_rc(SP_OK, sp_rwlock_destroy(lf.l));
    free(lf.l);
    assert_rc(SP_OK, sp_thread_join(&t, NULL));

    lf.l = calloc(1, sizeof(sp_rwlock_t));
    assert_non_null(lf.l);
    assert_rc(SP_OK, sp_rwlock_wrlock(lf.l, SP_FOREVER));
    assert_rc(SP_OK, sp_thread_start(&t, life_waiting_reader, &lf));
    if (i % 2 == 0)
      wait_registered(lf.l, 1, 1);
    assert_rc(SP_OK, sp_rwlock_unlock(lf.l)); /* the reader frees it */
    assert_rc(SP_OK, sp_thread_join(&t, NULL));
  }
}

/* ---- static initialisation, destroy, bad input ----------------------- */

static sp_rwlock_t file_scope; /* zero-filled */

static void test_static_init(void **state) {
  (void)state;
  static sp_rwlock_t with_macro = SP_RWLOCK_INIT;
  sp_rwlock_t *ls[] = {&file_scope, &with_macro};
  for (int i = 0; i < 2; i++) {
    assert_rc(SP_OK, sp_rwlock_rdlock(ls[i], SP_FOREVER));
    assert_rc(SP_BUSY, other_thread(ls[i], OP_WR, 0));
    assert_rc(SP_OK, sp_rwlock_unlock(ls[i]));
    assert_rc(SP_OK, sp_rwlock_wrlock(ls[i], 0));
    assert_rc(SP_OK, sp_rwlock_unlock(ls[i]));
  }
  assert_rc(SP_OK, sp_rwlock_destroy(&with_macro)); /* allowed, not needed */
  assert_rc(SP_EINVAL, sp_rwlock_rdlock(&with_macro, 0));
}

static void test_destroy_refused_while_used(void **state) {
  (void)state;
  sp_rwlock_t l;
  assert_rc(SP_OK, sp_rwlock_init(&l));
  assert_rc(SP_OK, sp_rwlock_rdlock(&l, SP_FOREVER));
  assert_rc(SP_EPERM, sp_rwlock_destroy(&l));
  assert_rc(SP_OK, sp_rwlock_unlock(&l));
  assert_rc(SP_OK, sp_rwlock_wrlock(&l, SP_FOREVER));
  assert_rc(SP_EPERM, sp_rwlock_destroy(&l));
  /* a waiting reader, then a waiting writer, keep it alive too */
  actor_t r, w;
  actor_start(&r, &l, OP_RD, SP_FOREVER, 1);
  wait_registered(&l, 1, 1);
  assert_rc(SP_OK, sp_rwlock_unlock(&l));
  t_wait_for_count(&r.done, 1); /* r holds it now */
  actor_start(&w, &l, OP_WR, SP_FOREVER, 1);
  wait_registered(&l, 0, 1);
  actor_finish(&r); /* w gets it */
  t_wait_for_count(&w.done, 1);
  assert_rc(SP_EPERM, sp_rwlock_destroy(&l));
  actor_finish(&w);
  assert_rc(SP_OK, sp_rwlock_destroy(&l));
  assert_rc(SP_EINVAL, sp_rwlock_destroy(&l));
  assert_rc(SP_EINVAL, sp_rwlock_rdlock(&l, 0));
  assert_rc(SP_EINVAL, sp_rwlock_wrlock(&l, 0));
  assert_rc(SP_EINVAL, sp_rwlock_rdlock_until(&l, 0));
  assert_rc(SP_EINVAL, sp_rwlock_wrlock_until(&l, 0));
  assert_rc(SP_EINVAL, sp_rwlock_unlock(&l));
  assert_rc(SP_OK, sp_rwlock_init(&l)); /* usable again */
  assert_rc(SP_OK, sp_rwlock_wrlock(&l, 0));
  assert_rc(SP_OK, sp_rwlock_unlock(&l));
  assert_rc(SP_OK, sp_rwlock_destroy(&l));
}

static void test_bad_input(void **state) {
  (void)state;
  assert_rc(SP_EINVAL, sp_rwlock_init(NULL));
  assert_rc(SP_EINVAL, sp_rwlock_destroy(NULL));
  assert_rc(SP_EINVAL, sp_rwlock_rdlock(NULL, 0));
  assert_rc(SP_EINVAL, sp_rwlock_wrlock(NULL, 0));
  assert_rc(SP_EINVAL, sp_rwlock_rdlock_until(NULL, 0));
  assert_rc(SP_EINVAL, sp_rwlock_wrlock_until(NULL, 0));
  assert_rc(SP_EINVAL, sp_rwlock_unlock(NULL));
  sp_rwlock_t l = SP_RWLOCK_INIT;
  assert_rc(SP_EINVAL, sp_rwlock_rdlock(&l, -2));
  assert_rc(SP_EINVAL, sp_rwlock_wrlock(&l, INT64_MIN));
  assert_int_equal(0, (int)word_of(&l)); /* refused calls change nothing */
  sp_rwlock_t junk;
  memset(&junk, 0xAB, sizeof junk);
  assert_rc(SP_EINVAL, sp_rwlock_rdlock(&junk, 0));
  assert_rc(SP_EINVAL, sp_rwlock_wrlock(&junk, 0));
  assert_rc(SP_EINVAL, sp_rwlock_unlock(&junk));
  assert_rc(SP_EINVAL, sp_rwlock_destroy(&junk));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_read_write_basic),
      cmocka_unit_test(test_readers_share),
      cmocka_unit_test(test_try_while_held),
      cmocka_unit_test(test_nested_reads),
      cmocka_unit_test(test_upgrade_refused),
      cmocka_unit_test(test_writer_rules),
      cmocka_unit_test(test_many_read_locks),
      cmocka_unit_test(test_timeouts_never_early),
      cmocka_unit_test(test_writer_not_overtaken),
      cmocka_unit_test(test_waiting_readers_before_next_writer),
      cmocka_unit_test(test_writer_timeout_releases_readers),
      cmocka_unit_test(test_reader_timeout_leaves),
      cmocka_unit_test(test_writer_priority_stress),
      cmocka_unit_test(test_mix_read_mostly),
      cmocka_unit_test(test_mix_write_heavy),
      cmocka_unit_test(test_mix_many_threads),
      cmocka_unit_test(test_unlocker_never_touches_freed_lock),
      cmocka_unit_test(test_static_init),
      cmocka_unit_test(test_destroy_refused_while_used),
      cmocka_unit_test(test_bad_input),
  };
  return T_RUN("rwlock", tests);
}
