/* The fault-injection matrix (issue 11), core primitives: mutex, lock,
 * rlock, condition, semaphore, event, each made by *_init and statically
 * (zero-filled or SP_*_INIT). tests/faults.h runs every scenario with each
 * fault site failing the k-th call, for every k along the scenario, and
 * with persistent failures, and checks that the error reaches the caller,
 * nothing is lost, nothing stays locked and nothing hangs.
 *
 * Sites on these primitives (src/fault.h):
 *  - mutex, lock, rlock: none. They need no OS resource, and their headers
 *    say they never fail with SP_ESYS/SP_ENOMEM; the matrix checks that
 *    their scenarios reach no site at all.
 *  - condition: COND_INIT (native backends: sp_cond_init, or the first wait
 *    of a zero-filled condition), LAZY_INIT (zero-filled), SEMA_INIT
 *    (emulated backends: each wait's semaphore), WAIT (each OS wait).
 *  - semaphore, event: the same through their internal condition, plus
 *    LAZY_INIT of a statically initialised semaphore's first call. */
#include "faults.h"

/* The two scenario functions of run_NAME(r, zero): NAME_init_fn for the
 * object made by *_init, NAME_zero_fn for the static (zero-filled) one. */
#define INIT_AND_STATIC(name)                                                  \
  static void name##_init_fn(f_run *r) {                                       \
    run_##name(r, 0);                                                          \
  }                                                                            \
  static void name##_zero_fn(f_run *r) {                                       \
    run_##name(r, 1);                                                          \
  }

/* ---- mutex, lock, rlock: no site may be reached ----------------------- */

/* A lock-like primitive's acquire and release, for the shared loops. */
typedef struct {
  int (*acquire)(void *);
  int (*release)(void *);
  const char *acq, *rel; /* their names in messages */
} ops_t;

static int mutex_lock_(void *m) {
  return sp_mutex_lock(m);
}
static int mutex_unlock_(void *m) {
  return sp_mutex_unlock(m);
}
static int lock_acquire_(void *l) {
  return sp_lock_acquire(l, SP_FOREVER);
}
static int lock_release_(void *l) {
  return sp_lock_release(l);
}
static int rlock_acquire_(void *rl) {
  return sp_rlock_acquire(rl, SP_FOREVER);
}
static int rlock_release_(void *rl) {
  return sp_rlock_release(rl);
}

static const ops_t mutex_ops = {mutex_lock_, mutex_unlock_, "lock", "unlock"};
static const ops_t lock_ops = {lock_acquire_, lock_release_, "acquire",
                               "release"};
static const ops_t rlock_ops = {rlock_acquire_, rlock_release_, "acquire",
                                "release"};

/* 200 times: acquire, count one, release, each call checked. */
static void count_200(f_run *r, const ops_t *o, void *obj, int *count) {
  for (int i = 0; i < 200; i++) {
    if (f_want(r, o->acquire(obj), SP_OK, o->acq)) {
      (*count)++;
      f_want(r, o->release(obj), SP_OK, o->rel);
    }
  }
}

/* Spin (yielding, 20 s at most) until (*word & mask) == want: the other
 * thread sleeps on the lock word. */
static void wait_word(const uint32_t *word, uint32_t mask, uint32_t want) {
  for (int64_t end = t_now_ns() + 20 * SP_NS_PER_S;
       (__atomic_load_n(word, __ATOMIC_SEQ_CST) & mask) != want &&
       t_now_ns() < end;)
    t_yield();
}

/* Run init(obj), once more if it failed at the armed site (it left obj
 * uninitialised); on a second failure flag it, disarm and return 0. */
static int init_twice(f_run *r, int (*init)(void *), void *obj,
                      const char *what) {
  int rc = init(obj);
  if (rc != SP_OK && f_error(r, rc, what))
    rc = init(obj);
  if (rc != SP_OK) {
    f_bad(r, "%s failed twice: %s", what, sp_strerror(rc));
    f_disarm(r);
    return 0;
  }
  return 1;
}

typedef struct {
  f_run *r;
  sp_mutex_t m;
  int count; /* under m */
  int phase; /* atomic */
} mutex_s;

static void *mutex_other(void *p) {
  mutex_s *s = p;
  f_want(s->r, sp_mutex_timedlock(&s->m, MS), SP_TIMEDOUT, "timedlock");
  f_want(s->r, sp_mutex_trylock(&s->m), SP_BUSY, "trylock");
  t_store(&s->phase, 1);
  if (!f_want(s->r, sp_mutex_lock(&s->m), SP_OK, "lock (sleeps)"))
    return NULL;
  s->count++;
  f_want(s->r, sp_mutex_unlock(&s->m), SP_OK, "unlock");
  count_200(s->r, &mutex_ops, &s->m, &s->count);
  return NULL;
}

static void run_mutex(f_run *r, int zero) {
  mutex_s s;
  memset(&s, 0, sizeof s);
  s.r = r;
  if (!zero)
    f_want(r, sp_mutex_init(&s.m), SP_OK, "sp_mutex_init");
  f_want(r, sp_mutex_lock(&s.m), SP_OK, "lock");
  t_thread t = t_start(mutex_other, &s);
  f_wait_count(r, &s.phase, 1);
  /* The other thread sleeps on the word (waiters bit) before we unlock. */
  wait_word(&s.m.word_, 1u, 1u);
  f_want(r, sp_mutex_unlock(&s.m), SP_OK, "unlock (wakes)");
  count_200(r, &mutex_ops, &s.m, &s.count);
  t_join(t);
  f_disarm(r);
  if (s.count != 401)
    f_bad(r, "count %d, expected 401", s.count);
  f_want(r, sp_mutex_destroy(&s.m), SP_OK, "destroy");
}

INIT_AND_STATIC(mutex)

typedef struct {
  f_run *r;
  sp_lock_t l;
  sp_rlock_t rl;
  int count; /* under l / rl */
  int phase; /* atomic */
} lock_s;

static void *lock_other(void *p) {
  lock_s *s = p;
  f_want(s->r, sp_lock_acquire(&s->l, MS), SP_TIMEDOUT, "timed acquire");
  t_store(&s->phase, 1);
  if (!f_want(s->r, sp_lock_acquire(&s->l, SP_FOREVER), SP_OK, "acquire"))
    return NULL;
  s->count++;
  /* Released by the main thread (a lock has no owner). */
  t_store(&s->phase, 2);
  count_200(s->r, &lock_ops, &s->l, &s->count);
  return NULL;
}

static void run_lock(f_run *r, int zero) {
  lock_s s;
  memset(&s, 0, sizeof s);
  s.r = r;
  if (!zero)
    f_want(r, sp_lock_init(&s.l), SP_OK, "sp_lock_init");
  f_want(r, sp_lock_acquire(&s.l, SP_FOREVER), SP_OK, "acquire");
  t_thread t = t_start(lock_other, &s);
  f_wait_count(r, &s.phase, 1);
  wait_word(&s.l.state_, ~0u, 2u);
  f_want(r, sp_lock_release(&s.l), SP_OK, "release (wakes)");
  f_wait_count(r, &s.phase, 2);
  f_want(r, sp_lock_release(&s.l), SP_OK, "release of the other's hold");
  count_200(r, &lock_ops, &s.l, &s.count);
  t_join(t);
  f_disarm(r);
  if (s.count != 401)
    f_bad(r, "count %d, expected 401", s.count);
  f_want(r, sp_lock_locked(&s.l), 0, "locked");
  f_want(r, sp_lock_destroy(&s.l), SP_OK, "destroy");
}

INIT_AND_STATIC(lock)

static void *rlock_other(void *p) {
  lock_s *s = p;
  f_want(s->r, sp_rlock_acquire(&s->rl, MS), SP_TIMEDOUT, "timed acquire");
  t_store(&s->phase, 1);
  for (int i = 0; i < 200; i++) {
    if (f_want(s->r, sp_rlock_acquire(&s->rl, SP_FOREVER), SP_OK, "acq")) {
      f_want(s->r, sp_rlock_acquire(&s->rl, 0), SP_OK, "nested acquire");
      s->count++;
      f_want(s->r, sp_rlock_release(&s->rl), SP_OK, "nested release");
      f_want(s->r, sp_rlock_release(&s->rl), SP_OK, "release");
    }
  }
  return NULL;
}

static void run_rlock(f_run *r, int zero) {
  lock_s s;
  memset(&s, 0, sizeof s);
  s.r = r;
  if (!zero)
    f_want(r, sp_rlock_init(&s.rl), SP_OK, "sp_rlock_init");
  f_want(r, sp_rlock_acquire(&s.rl, SP_FOREVER), SP_OK, "acquire");
  f_want(r, sp_rlock_acquire(&s.rl, SP_FOREVER), SP_OK, "nested acquire");
  t_thread t = t_start(rlock_other, &s);
  f_wait_count(r, &s.phase, 1);
  wait_word(&s.rl.word_, 1u, 1u);
  f_want(r, sp_rlock_release(&s.rl), SP_OK, "nested release");
  f_want(r, sp_rlock_release(&s.rl), SP_OK, "release (wakes)");
  count_200(r, &rlock_ops, &s.rl, &s.count);
  t_join(t);
  f_disarm(r);
  if (s.count != 400)
    f_bad(r, "count %d, expected 400", s.count);
  f_want(r, sp_rlock_is_owned(&s.rl), 0, "is_owned");
  f_want(r, sp_rlock_destroy(&s.rl), SP_OK, "destroy");
}

INIT_AND_STATIC(rlock)

/* ---- condition ----------------------------------------------------------
 * Two waiters consume items that the main thread signals one at a time
 * (each signal made while both sleep), then both wait for a broadcast, then
 * each makes a short timed wait. A wait that fails must leave the mutex
 * held and consume no signal: the waiter re-tests its predicate and waits
 * again; every item is consumed exactly once. */

#define COND_ITEMS 6

typedef struct {
  f_run *r;
  sp_mutex_t m;
  sp_cond_t c;
  int items; /* under m */
  int got;   /* under m */
  int phase; /* under m */
  int woke;  /* under m */
} cond_s;

/* One checked wait: whatever it returns, the caller holds m again. */
static int cond_wait_checked(cond_s *s, int64_t timeout_ns, const char *what) {
  int rc = sp_cond_wait(&s->c, &s->m, timeout_ns);
  if (sp_mutex_trylock(&s->m) != SP_EPERM)
    f_bad(s->r, "%s: the mutex is not held after a wait that returned %s", what,
          sp_strerror(rc));
  if (rc != SP_OK && rc != SP_TIMEDOUT)
    (void)f_error(s->r, rc, what);
  return rc;
}

static void *cond_waiter(void *p) {
  cond_s *s = p;
  f_run *r = s->r;
  if (!f_want(r, sp_mutex_lock(&s->m), SP_OK, "lock"))
    return NULL;
  int errors = 0;
  while (s->phase == 0 && errors < F_RETRIES) {
    if (s->items > 0) {
      s->items--;
      s->got++;
      continue;
    }
    if (cond_wait_checked(s, SP_FOREVER, "wait for an item") < 0)
      errors++;
  }
  while (s->phase < 2 && errors < F_RETRIES)
    if (cond_wait_checked(s, SP_FOREVER, "wait for the broadcast") < 0)
      errors++;
  s->woke++;
  int rc = cond_wait_checked(s, MS, "timed wait");
  if (rc == SP_OK && t_exact_wakeups())
    f_bad(r, "a timed wait nobody signalled returned SP_OK");
  if (errors >= F_RETRIES)
    f_bad(r, "a waiter gave up after %d errors", errors);
  f_want(r, sp_mutex_unlock(&s->m), SP_OK, "unlock");
  return NULL;
}

static int cond_init_(void *c) {
  return sp_cond_init(c);
}

static void run_cond(f_run *r, int zero) {
  cond_s s;
  memset(&s, 0, sizeof s);
  s.r = r;
  if (!zero) {
    f_want(r, sp_mutex_init(&s.m), SP_OK, "sp_mutex_init");
    if (!init_twice(r, cond_init_, &s.c, "sp_cond_init"))
      return;
  }
  t_thread t[2] = {t_start(cond_waiter, &s), t_start(cond_waiter, &s)};
  for (int i = 0; i < COND_ITEMS; i++) {
    if (!f_wait_waiters(r, &s.m, &s.c, 2))
      break;
    f_want(r, sp_mutex_lock(&s.m), SP_OK, "lock");
    s.items++;
    f_want(r, sp_cond_signal(&s.c), SP_OK, "signal");
    f_want(r, sp_mutex_unlock(&s.m), SP_OK, "unlock");
  }
  for (int64_t end = t_now_ns() + 20 * SP_NS_PER_S;;) {
    f_want(r, sp_mutex_lock(&s.m), SP_OK, "lock");
    int done = s.got == COND_ITEMS;
    if (done || t_now_ns() > end) {
      s.phase = 1; /* both waiters now wait for the broadcast */
      f_want(r, sp_cond_broadcast(&s.c), SP_OK, "broadcast (phase 1)");
      f_want(r, sp_mutex_unlock(&s.m), SP_OK, "unlock");
      break;
    }
    f_want(r, sp_mutex_unlock(&s.m), SP_OK, "unlock");
    t_yield();
  }
  f_wait_waiters(r, &s.m, &s.c, 2);
  f_want(r, sp_mutex_lock(&s.m), SP_OK, "lock");
  s.phase = 2;
  f_want(r, sp_cond_broadcast(&s.c), SP_OK, "broadcast");
  f_want(r, sp_mutex_unlock(&s.m), SP_OK, "unlock");
  t_join(t[0]);
  t_join(t[1]);
  f_disarm(r);
  if (s.got != COND_ITEMS || s.items != 0 || s.woke != 2)
    f_bad(r, "got %d items (left %d), %d woken; expected %d, 0, 2", s.got,
          s.items, s.woke, COND_ITEMS);
  /* Usable, nothing locked, destroyable. */
  f_want(r, sp_mutex_lock(&s.m), SP_OK, "lock after");
  f_want(r, sp_cond_wait(&s.c, &s.m, 0), SP_TIMEDOUT, "wait after");
  f_want(r, sp_cond_signal(&s.c), SP_OK, "signal after");
  f_want(r, sp_mutex_unlock(&s.m), SP_OK, "unlock after");
  f_want(r, sp_cond_destroy(&s.c), SP_OK, "cond destroy");
  f_want(r, sp_mutex_destroy(&s.m), SP_OK, "mutex destroy");
}

INIT_AND_STATIC(cond)

/* ---- semaphore ------------------------------------------------------------
 * Two consumers take 4 units each (one waits forever, one with a long
 * timeout); the producer releases 2 units while both sleep, then 1 unit at
 * a time, each while one sleeps. An acquire that fails leaves the value as
 * it was and is retried; every unit is taken exactly once, and the value
 * ends at 0. Variants: sp_sem_init, SP_SEM_INIT, a bounded SP_SEM_INIT. */

#define SEM_QUOTA 4

typedef struct {
  f_run *r;
  sp_sem_t s;
  int got;   /* atomic */
  int bound; /* 0 or 2 */
} sem_s;

static void sem_consumer(void *p, int i) {
  sem_s *s = p;
  int errors = 0;
  for (int have = 0; have < SEM_QUOTA && errors < F_RETRIES;) {
    int rc = sp_sem_acquire(&s->s, i == 0 ? SP_FOREVER : 30 * SP_NS_PER_S);
    if (rc == SP_OK) {
      have++;
      t_inc(&s->got);
    } else if (!f_error(s->r, rc, "acquire")) {
      break;
    } else {
      errors++;
    }
  }
}

/* A call that may fail at the armed site: retried. */
#define F_RETRY(r, call, expected, what)                                       \
  do {                                                                         \
    int tries_ = 0;                                                            \
    while (!f_want((r), (call), (expected), (what)) && (r)->bad == 0 &&        \
           ++tries_ < F_RETRIES) {                                             \
    }                                                                          \
  } while (0)

static int sem_init_(void *s) {
  return sp_sem_init(s, 0, 0);
}

static void run_sem(f_run *r, int variant) {
  sem_s s;
  memset(&s, 0, sizeof s);
  s.r = r;
  if (variant == 0) {
    if (!init_twice(r, sem_init_, &s.s, "sp_sem_init"))
      return;
  } else if (variant == 1) {
    sp_sem_t z = SP_SEM_INIT(0, 0);
    s.s = z;
  } else {
    sp_sem_t z = SP_SEM_INIT(0, 2);
    s.s = z;
    s.bound = 2;
  }
  F_RETRY(r, sp_sem_acquire(&s.s, 0), SP_BUSY, "acquire(0) on 0");
  t_bunch b;
  t_bunch_start(&b, 2, sem_consumer, &s);
  f_wait_waiters(r, &s.s.mu_, &s.s.cv_, 2);
  F_RETRY(r, sp_sem_release(&s.s, 2), SP_OK, "release(2)");
  for (int i = 2; i < 2 * SEM_QUOTA; i++) {
    /* Wait for a sleeper unless the units are not taken yet. */
    f_wait_count(r, &s.got, i);
    f_wait_waiters(r, &s.s.mu_, &s.s.cv_, 1);
    F_RETRY(r, sp_sem_release(&s.s, 1), SP_OK, "release(1)");
  }
  t_bunch_join(&b);
  f_disarm(r);
  if (t_load(&s.got) != 2 * SEM_QUOTA)
    f_bad(r, "%d units taken, expected %d", t_load(&s.got), 2 * SEM_QUOTA);
  f_want(r, sp_sem_value(&s.s), 0, "value after");
  if (s.bound)
    f_want(r, sp_sem_release(&s.s, 3), SP_EPERM, "release past the bound");
  f_want(r, sp_sem_release(&s.s, 1), SP_OK, "release after");
  f_want(r, sp_sem_acquire(&s.s, 0), SP_OK, "acquire after");
  f_want(r, sp_sem_destroy(&s.s), SP_OK, "destroy");
}

static void sem_init_fn(f_run *r) {
  run_sem(r, 0);
}
static void sem_static_fn(f_run *r) {
  run_sem(r, 1);
}
static void sem_bounded_fn(f_run *r) {
  run_sem(r, 2);
}

/* ---- event ----------------------------------------------------------------
 * Two waiters wait for a set (one forever, one with a long timeout), twice:
 * each round the main thread sets the event once both sleep, and clears it
 * after both returned. A failed wait is retried and must not miss the set:
 * each waiter returns SP_OK once per round. */

typedef struct {
  f_run *r;
  sp_event_t e;
  int round; /* atomic: the round the waiters may start */
  int done;  /* atomic: waits that returned SP_OK */
} event_s;

static void event_waiter(void *p, int i) {
  event_s *s = p;
  for (int round = 1; round <= 2; round++) {
    if (!f_wait_count(s->r, &s->round, round))
      return;
    int errors = 0;
    for (;;) {
      int rc = sp_event_wait(&s->e, i == 0 ? SP_FOREVER : 30 * SP_NS_PER_S);
      if (rc == SP_OK)
        break;
      if (!f_error(s->r, rc, "event wait") || ++errors >= F_RETRIES)
        return;
    }
    t_inc(&s->done);
  }
}

static int event_init_(void *e) {
  return sp_event_init(e);
}

static void run_event(f_run *r, int zero) {
  event_s s;
  memset(&s, 0, sizeof s);
  s.r = r;
  if (!zero) {
    if (!init_twice(r, event_init_, &s.e, "sp_event_init"))
      return;
  }
  t_bunch b;
  t_bunch_start(&b, 2, event_waiter, &s);
  for (int round = 1; round <= 2; round++) {
    t_store(&s.round, round);
    f_wait_waiters(r, &s.e.mu_, &s.e.cv_, 2);
    f_want(r, sp_event_set(&s.e), SP_OK, "set");
    f_wait_count(r, &s.done, 2 * round);
    f_want(r, sp_event_clear(&s.e), SP_OK, "clear");
  }
  t_bunch_join(&b);
  int rc = sp_event_wait(&s.e, MS);
  if (rc != SP_TIMEDOUT)
    f_want(r, rc, SP_TIMEDOUT, "timed wait on a clear event");
  f_disarm(r);
  if (t_load(&s.done) != 4)
    f_bad(r, "%d waits saw their set, expected 4", t_load(&s.done));
  f_want(r, sp_event_is_set(&s.e), 0, "is_set after");
  f_want(r, sp_event_wait(&s.e, 0), SP_BUSY, "wait(0) after");
  f_want(r, sp_event_set(&s.e), SP_OK, "set after");
  f_want(r, sp_event_wait(&s.e, 0), SP_OK, "wait(0) after set");
  f_want(r, sp_event_destroy(&s.e), SP_OK, "destroy");
}

INIT_AND_STATIC(event)

/* ---- the matrix -------------------------------------------------------- */

/* The sites a condition wait reaches on this backend. */
static unsigned cond_sites(void) {
  return f_native_cond() ? F_BIT(SP_FAULT_COND_INIT_) | F_BIT(SP_FAULT_WAIT_)
                         : F_BIT(SP_FAULT_SEMA_INIT_) | F_BIT(SP_FAULT_WAIT_);
}

static void run_spec(f_spec s) {
  f_matrix(&s);
}

/* A failing OS wait may be absorbed: a waiter chosen by a signal while its
 * wait failed takes that wakeup (SP_OK) instead of the error. */
#define WAIT_INEXACT F_BIT(SP_FAULT_WAIT_)

/* A primitive's *_init and static scenarios (and a third, bounded, for
 * the semaphore). waits: 0 for the primitives that must reach no site, 1
 * for those that wait on a condition (its sites; static: LAZY_INIT too). */
typedef struct {
  const char *init_name, *static_name, *bounded_name;
  f_scenario_fn init_fn, zero_fn, bounded_fn;
  int waits;
} variants_t;

static const variants_t mutex_v = {
    "mutex/init", "mutex/static", NULL, mutex_init_fn, mutex_zero_fn, NULL, 0};
static const variants_t lock_v = {
    "lock/init", "lock/static", NULL, lock_init_fn, lock_zero_fn, NULL, 0};
static const variants_t rlock_v = {
    "rlock/init", "rlock/static", NULL, rlock_init_fn, rlock_zero_fn, NULL, 0};
static const variants_t cond_v = {
    "cond/init", "cond/static", NULL, cond_init_fn, cond_zero_fn, NULL, 1};
static const variants_t sem_v = {"sem/init",
                                 "sem/static",
                                 "sem/bounded",
                                 sem_init_fn,
                                 sem_static_fn,
                                 sem_bounded_fn,
                                 1};
static const variants_t event_v = {
    "event/init", "event/static", NULL, event_init_fn, event_zero_fn, NULL, 1};

/* The test of one primitive: the matrix of each of its variants (*state). */
static void test_variants(void **state) {
  const variants_t *v = *state;
  unsigned sites = v->waits ? cond_sites() : 0;
  unsigned zsites = v->waits ? sites | F_BIT(SP_FAULT_LAZY_INIT_) : 0;
  unsigned inexact = v->waits ? WAIT_INEXACT : 0;
  run_spec((f_spec){v->init_name, v->init_fn, sites, sites, inexact, 0});
  run_spec((f_spec){v->static_name, v->zero_fn, zsites, zsites, inexact, 0});
  if (v->bounded_fn)
    run_spec(
        (f_spec){v->bounded_name, v->bounded_fn, zsites, zsites, inexact, 0});
}

/* A cmocka test named name (as before the table) running test_variants. */
#define VARIANTS_TEST(name, v)                                                 \
  { name, test_variants, NULL, NULL, (void *)&(v) }

int main(void) {
  const struct CMUnitTest tests[] = {
      VARIANTS_TEST("test_mutex", mutex_v),
      VARIANTS_TEST("test_lock", lock_v),
      VARIANTS_TEST("test_rlock", rlock_v),
      VARIANTS_TEST("test_cond", cond_v),
      VARIANTS_TEST("test_semaphore", sem_v),
      VARIANTS_TEST("test_event", event_v),
  };
  f_watchdog_start();
  int rc = T_RUN("faults_core", tests);
  f_watchdog_stop();
  return rc;
}
