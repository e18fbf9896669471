/* The fault-injection matrix (issue 11), queue and barrier: sp_queue_t of
 * every kind (FIFO, LIFO, priority; bounded and unbounded; with
 * sp_queue_set_maxsize and sp_queue_shutdown) and sp_barrier_t (2 to 4
 * parties, several generations), each made by *_init and statically
 * (SP_QUEUE_INIT*, a zero-filled queue, SP_BARRIER_INIT*), with several
 * threads. tests/faults.h runs every scenario with each fault site failing
 * the k-th call, for every k along the scenario, and with persistent
 * failures.
 *
 * Sites on these primitives (src/fault.h), as queue.h and barrier.h say:
 *  - queue: ALLOC (its storage grows in sp_queue_put and
 *    sp_queue_set_maxsize: SP_ENOMEM to that caller, the queue exactly as
 *    before, so the item was not added and blocked putters stay blocked)
 *    and LAZY_INIT (the first call on a statically initialised queue:
 *    SP_ESYS to that caller, nothing changed, the next call sets it up).
 *    Its waits are on futex words: no SEMA_INIT, COND_INIT or WAIT.
 *  - barrier: LAZY_INIT only (statically initialised), SP_ESYS to the
 *    caller with no arrival counted; a barrier made by sp_barrier_init
 *    reaches no site at all.
 * What is checked: every item comes out exactly once (a failed put that
 * added its item anyway would duplicate it when retried; a failure that
 * dropped another item loses it), FIFO order per producer, an error only
 * where it can occur (a get never sees SP_ENOMEM; a putter blocked while
 * set_maxsize fails stays blocked and is admitted later with SP_OK), the
 * queue's size and maxsize unchanged by a failed call, task_done/join
 * counts exact, and the queue usable and destroyable afterwards; every
 * barrier generation runs its action once, before it releases all its
 * parties with distinct indices, and the barrier ends neither broken nor
 * with waiters, and is destroyable. */
#include "faults.h"

#include <stdint.h>

/* A value (a size, a flag), not a result code: v must be `expected`. */
static void want_int(f_run *r, int v, int expected, const char *what) {
  if (v != expected)
    f_bad(r, "%s: %d, expected %d", what, v, expected);
}

/* Where the library has no futex(2) or WaitOnAddress (the POSIX parking
 * lot, src/unix/platform.c), its futex waits are native condition waits,
 * whose failure there is a spurious wake-up (absorbed, never an error). */
static unsigned park_sites(void) {
#if defined(__linux__) || defined(_WIN32)
  return 0;
#else
  return F_BIT(SP_FAULT_WAIT_);
#endif
}

/* ---- queue ----------------------------------------------------------------
 * Items are the integers 1..Q_IDS as pointers: producer p's i-th item is
 * p * Q_PER + i + 1; the main thread's items follow (Q_FILL of them). The
 * poison pill that ends a consumer compares after every item. */

#define Q_PRODUCERS 3
#define Q_CONSUMERS 3
#define Q_PER       24
#define Q_ITEMS     (Q_PRODUCERS * Q_PER)
#define Q_FILL      4 /* the main thread's items (one more than consumers) */
#define Q_IDS       (Q_ITEMS + Q_FILL)
#define Q_POISON    ((uintptr_t)1 << 20)
#define Q_RESIZED   12 /* shape "resize": the second maxsize */

_Static_assert(Q_FILL > Q_CONSUMERS, "one main item is stored, not handed");

enum { Q_FIFO, Q_LIFO, Q_PRIO };
enum { Q_MADE_INIT, Q_MADE_MACRO, Q_MADE_ZERO };

typedef struct {
  int kind;    /* Q_FIFO, Q_LIFO, Q_PRIO */
  int maxsize; /* 0: unbounded */
  int made;    /* Q_MADE_* */
  int resize;  /* shape: 0 "flow", 1 "resize" (see run_queue) */
} qcfg;

typedef struct {
  f_run *r;
  const qcfg *cfg;
  sp_queue_t q;
  int seen[Q_IDS + 1]; /* atomic: times each item came out */
  int poisons;         /* atomic: poison pills that came out */
  int put;             /* atomic: producers' items added */
  int first;           /* atomic: consumers that received their first item */
  int go;              /* atomic: the consumers may go on (shape "flow") */
  int consumers_done;  /* atomic */
} queue_s;

static int q_cmp(const void *a, const void *b) {
  uintptr_t x = (uintptr_t)a, y = (uintptr_t)b;
  return x < y ? -1 : x > y;
}

static void *q_item(uintptr_t id) {
  return (void *)id;
}

/* The producer of item id (Q_PRODUCERS: the main thread) and its rank. */
static int q_source(uintptr_t id) {
  return id > Q_ITEMS ? Q_PRODUCERS : (int)((id - 1) / Q_PER);
}

/* Wait until the list length *n of q (read under its mutex) is at least
 * want; 0 (recorded) after 20 s: "never happened". */
static int q_wait_list(f_run *r, sp_queue_t *q, unsigned *n, unsigned want) {
  int64_t end = t_now_ns() + 20 * SP_NS_PER_S;
  for (;;) {
    if (sp_mutex_lock(&q->mu_) != SP_OK) {
      f_bad(r, "cannot lock the queue's internal mutex");
      return 0;
    }
    unsigned v = *n;
    (void)sp_mutex_unlock(&q->mu_);
    if (v >= want)
      return 1;
    if (t_now_ns() > end) {
      f_bad(r, "never saw %u blocked calls (have %u)", want, v);
      return 0;
    }
    t_yield();
  }
}

/* A list length read under the queue's mutex. */
static unsigned q_list_len(f_run *r, sp_queue_t *q, unsigned *n) {
  if (sp_mutex_lock(&q->mu_) != SP_OK) {
    f_bad(r, "cannot lock the queue's internal mutex");
    return 0;
  }
  unsigned v = *n;
  (void)sp_mutex_unlock(&q->mu_);
  return v;
}

/* A put that did not return SP_OK: the armed site's error (SP_ENOMEM from
 * the storage, SP_ESYS from a static queue's first use) is counted and
 * the put retried; anything else is unexpected. */
static int q_put_failed(queue_s *s, int rc, const char *what) {
  if (rc == SP_ENOMEM || rc == SP_ESYS)
    return f_error(s->r, rc, what);
  f_bad(s->r, "%s: unexpected %s (%d)", what, sp_strerror(rc), rc);
  return 0;
}

/* A get, or a call that never allocates, may fail only at a static
 * queue's first use (SP_ESYS): SP_ENOMEM there is a bug. */
static int q_other_failed(queue_s *s, int rc, const char *what) {
  if (rc == SP_ESYS)
    return f_error(s->r, rc, what);
  f_bad(s->r, "%s: unexpected %s (%d)", what, sp_strerror(rc), rc);
  return 0;
}

/* Put item until it is added (bounded retries). */
static int q_put(queue_s *s, uintptr_t id, int64_t timeout_ns,
                 const char *what) {
  for (int tries = 0; tries < F_RETRIES; tries++) {
    int rc = sp_queue_put(&s->q, q_item(id), timeout_ns);
    if (rc == SP_OK)
      return 1;
    if (!q_put_failed(s, rc, what))
      return 0;
  }
  f_bad(s->r, "%s: gave up after %d errors", what, F_RETRIES);
  return 0;
}

/* Record an item that came out; per-source order checks in `last`
 * (FIFO: increasing; LIFO drained alone: decreasing). */
static void q_record(queue_s *s, uintptr_t id, uintptr_t *last, int dir) {
  if (id == Q_POISON) {
    t_inc(&s->poisons);
    return;
  }
  if (id < 1 || id > Q_IDS) {
    f_bad(s->r, "got an item that was never put: %lu", (unsigned long)id);
    return;
  }
  if (t_inc(&s->seen[id]) != 1)
    f_bad(s->r, "item %lu came out twice", (unsigned long)id);
  int src = q_source(id);
  if (dir > 0 && last[src] != 0 && id <= last[src])
    f_bad(s->r, "FIFO order: item %lu after %lu of the same producer",
          (unsigned long)id, (unsigned long)last[src]);
  if (dir < 0 && last[src] != 0 && id >= last[src])
    f_bad(s->r, "LIFO order: item %lu after %lu of the same producer",
          (unsigned long)id, (unsigned long)last[src]);
  last[src] = id;
}

static void q_producer(void *p, int i) {
  queue_s *s = p;
  f_run *r = s->r;
  for (int k = 0; k < Q_PER; k++) {
    uintptr_t id = (uintptr_t)(i * Q_PER + k + 1);
    if (k == 0 && s->cfg->resize) {
      /* The queue is full and nobody gets: this put blocks until
       * set_maxsize admits it, whatever failed meanwhile. */
      if (!f_want(r, sp_queue_put(&s->q, q_item(id), SP_FOREVER), SP_OK,
                  "a put blocked while set_maxsize fails"))
        return;
    } else if (!q_put(s, id, SP_FOREVER, "put")) {
      return;
    }
    t_inc(&s->put);
  }
}

static void q_consumer(void *p, int i) {
  queue_s *s = p;
  f_run *r = s->r;
  (void)i;
  uintptr_t last[Q_PRODUCERS + 1] = {0};
  int errors = 0, first = 1;
  for (int n = 0; n < Q_IDS + Q_CONSUMERS + F_RETRIES; n++) {
    void *item = NULL;
    int rc = sp_queue_get(&s->q, &item, SP_FOREVER);
    if (rc == SP_SHUTDOWN && s->cfg->resize)
      break; /* shut down and empty */
    if (rc != SP_OK) {
      if (!q_other_failed(s, rc, "get") || ++errors >= F_RETRIES)
        break;
      continue;
    }
    uintptr_t id = (uintptr_t)item;
    q_record(s, id, last, s->cfg->kind == Q_FIFO ? 1 : 0);
    f_want(r, sp_queue_task_done(&s->q), SP_OK, "task_done");
    if (id == Q_POISON)
      break;
    if (first && !s->cfg->resize) {
      t_inc(&s->first);
      if (!f_wait_count(r, &s->go, 1))
        break;
    }
    first = 0;
  }
  if (errors >= F_RETRIES)
    f_bad(r, "a consumer gave up after %d errors", errors);
  t_inc(&s->consumers_done);
}

/* Make the queue (SP_OK, or the scenario gave up). */
static int q_make(queue_s *s) {
  const qcfg *c = s->cfg;
  if (c->made == Q_MADE_ZERO)
    return 1; /* memset by the caller: an unbounded FIFO queue */
  if (c->made == Q_MADE_MACRO) {
    sp_queue_t fifo = SP_QUEUE_INIT(c->maxsize);
    sp_queue_t lifo = SP_QUEUE_INIT_LIFO(c->maxsize);
    sp_queue_t prio = SP_QUEUE_INIT_PRIORITY(c->maxsize, q_cmp);
    s->q = c->kind == Q_FIFO ? fifo : c->kind == Q_LIFO ? lifo : prio;
    return 1;
  }
  int rc = c->kind == Q_FIFO ? sp_queue_init(&s->q, c->maxsize)
           : c->kind == Q_LIFO
               ? sp_queue_init_lifo(&s->q, c->maxsize)
               : sp_queue_init_priority(&s->q, c->maxsize, q_cmp);
  if (rc != SP_OK) { /* documented never to fail but for SP_EINVAL */
    f_bad(s->r, "sp_queue_init*: %s", sp_strerror(rc));
    return 0;
  }
  return 1;
}

/* Shape "flow": the consumers block in get first (on a static queue they
 * race for its first use), the main thread's first items are handed to
 * them, and they pause; the producers then fill the queue (unbounded: to
 * half their items, so the storage grows several times; bounded: until
 * every producer blocks), the consumers go on, and poison pills end them;
 * the main thread drains what is left (LIFO: the items under the pills).
 *
 * Shape "resize" (bounded): the main thread alone fills the queue (each
 * failed put leaves the size unchanged); the producers block; set_maxsize
 * admits them (a failed one leaves maxsize, size and the blocked putters
 * as they were); the consumers start, the queue is made unbounded while
 * they run, and a shutdown after the last put ends them. */
static void run_queue(f_run *r, const qcfg *cfg) {
  queue_s *s = calloc(1, sizeof *s);
  if (s == NULL) {
    f_bad(r, "out of memory");
    f_disarm(r);
    return;
  }
  s->r = r;
  s->cfg = cfg;
  if (!q_make(s)) {
    f_disarm(r);
    free(s);
    return;
  }
  t_bunch consumers, producers;
  if (!cfg->resize) {
    t_bunch_start(&consumers, Q_CONSUMERS, q_consumer, s);
    q_wait_list(r, &s->q, &s->q.ngetters_, Q_CONSUMERS);
    for (int i = 0; i < Q_FILL; i++)
      q_put(s, Q_ITEMS + 1 + (uintptr_t)i, SP_FOREVER, "main put");
    f_wait_count(r, &s->first, Q_CONSUMERS);
    t_bunch_start(&producers, Q_PRODUCERS, q_producer, s);
    if (cfg->maxsize > 0)
      q_wait_list(r, &s->q, &s->q.nputters_, Q_PRODUCERS);
    else
      f_wait_count(r, &s->put, Q_ITEMS / 2);
    t_store(&s->go, 1);
    t_bunch_join(&producers);
    for (int i = 0; i < Q_CONSUMERS; i++)
      q_put(s, Q_POISON, SP_FOREVER, "poison put");
    t_bunch_join(&consumers);
  } else {
    for (int i = 0; i < Q_FILL; i++) {
      for (int tries = 0; tries < F_RETRIES; tries++) {
        int rc = sp_queue_put(&s->q, q_item(Q_ITEMS + 1 + (uintptr_t)i), 0);
        if (rc == SP_OK || !q_put_failed(s, rc, "fill put"))
          break;
        int size = sp_queue_size(&s->q);
        if (size != i)
          f_bad(r, "a failed put changed the size: %d, expected %d", size, i);
      }
    }
    f_want(r, sp_queue_put(&s->q, q_item(Q_IDS + 1), 0), SP_BUSY,
           "put(0) on a full queue");
    t_bunch_start(&producers, Q_PRODUCERS, q_producer, s);
    q_wait_list(r, &s->q, &s->q.nputters_, Q_PRODUCERS);
    for (int tries = 0; tries < F_RETRIES; tries++) {
      int rc = sp_queue_set_maxsize(&s->q, Q_RESIZED);
      if (rc == SP_OK || !q_put_failed(s, rc, "set_maxsize"))
        break;
      if (rc == SP_ENOMEM) { /* nothing changed */
        want_int(r, sp_queue_maxsize(&s->q), cfg->maxsize,
                 "maxsize after a failed set_maxsize");
        want_int(r, sp_queue_size(&s->q), Q_FILL,
                 "size after a failed set_maxsize");
        unsigned n = q_list_len(r, &s->q, &s->q.nputters_);
        if (n != Q_PRODUCERS)
          f_bad(r,
                "%u putters blocked after a failed set_maxsize, "
                "expected %d",
                n, Q_PRODUCERS);
      }
    }
    t_bunch_start(&consumers, Q_CONSUMERS, q_consumer, s);
    for (int tries = 0; tries < F_RETRIES; tries++) {
      int rc = sp_queue_set_maxsize(&s->q, 0);
      if (rc == SP_OK || !q_put_failed(s, rc, "set_maxsize(0)"))
        break;
      want_int(r, sp_queue_maxsize(&s->q), Q_RESIZED,
               "maxsize after a failed set_maxsize(0)");
    }
    t_bunch_join(&producers);
    f_want(r, sp_queue_shutdown(&s->q, 0), SP_OK, "shutdown");
    t_bunch_join(&consumers);
  }
  /* Whatever is left (LIFO: under the pills), in its order. */
  uintptr_t last[Q_PRODUCERS + 1] = {0};
  uintptr_t prev = 0;
  for (int n = 0; n <= Q_IDS + Q_CONSUMERS; n++) {
    void *item = NULL;
    int rc = sp_queue_get(&s->q, &item, 0);
    if (rc == SP_BUSY || rc == SP_SHUTDOWN)
      break;
    if (rc != SP_OK) {
      f_bad(r, "drain: %s", sp_strerror(rc));
      break;
    }
    uintptr_t id = (uintptr_t)item;
    if (cfg->kind == Q_PRIO && id < prev)
      f_bad(r, "priority order: %lu after %lu", (unsigned long)id,
            (unsigned long)prev);
    prev = id;
    q_record(s, id, last,
             cfg->kind == Q_FIFO   ? 1
             : cfg->kind == Q_LIFO ? -1
                                   : 0);
    f_want(r, sp_queue_task_done(&s->q), SP_OK, "task_done (drain)");
  }
  f_disarm(r);
  /* Nothing lost, nothing doubled, nothing pending. */
  for (int id = 1; id <= Q_IDS; id++)
    if (t_load(&s->seen[id]) != 1) {
      f_bad(r, "item %d came out %d times (%d items put by producers)", id,
            t_load(&s->seen[id]), t_load(&s->put));
      break;
    }
  if (t_load(&s->put) != Q_ITEMS)
    f_bad(r, "%d producers' puts returned SP_OK, expected %d", t_load(&s->put),
          Q_ITEMS);
  if (t_load(&s->poisons) != (cfg->resize ? 0 : Q_CONSUMERS))
    f_bad(r, "%d poison pills came out", t_load(&s->poisons));
  if (t_load(&s->consumers_done) != Q_CONSUMERS)
    f_bad(r, "%d consumers finished", t_load(&s->consumers_done));
  want_int(r, sp_queue_size(&s->q), 0, "size after");
  f_want(r, sp_queue_join(&s->q, 0), SP_OK, "join(0): every item done");
  f_want(r, sp_queue_task_done(&s->q), SP_EPERM, "one task_done too many");
  unsigned blocked = q_list_len(r, &s->q, &s->q.ngetters_) +
                     q_list_len(r, &s->q, &s->q.nputters_) +
                     q_list_len(r, &s->q, &s->q.njoiners_);
  if (blocked != 0)
    f_bad(r, "%u calls still blocked", blocked);
  /* Usable afterwards. */
  if (cfg->resize) {
    want_int(r, sp_queue_is_shutdown(&s->q), 1, "is_shutdown");
    f_want(r, sp_queue_put(&s->q, q_item(1), 0), SP_SHUTDOWN, "put after");
    void *item = NULL;
    f_want(r, sp_queue_get(&s->q, &item, 0), SP_SHUTDOWN, "get after");
    want_int(r, sp_queue_maxsize(&s->q), 0, "maxsize after");
  } else {
    want_int(r, sp_queue_maxsize(&s->q), cfg->maxsize, "maxsize after");
    for (uintptr_t id = 1; id <= 3; id++)
      f_want(r, sp_queue_put(&s->q, q_item(id), 0), SP_OK, "put after");
    uintptr_t want[3][3] = {{1, 2, 3}, {3, 2, 1}, {1, 2, 3}};
    for (int i = 0; i < 3; i++) {
      void *item = NULL;
      if (f_want(r, sp_queue_get(&s->q, &item, 0), SP_OK, "get after") &&
          (uintptr_t)item != want[cfg->kind][i])
        f_bad(r, "get after: item %lu, expected %lu",
              (unsigned long)(uintptr_t)item,
              (unsigned long)want[cfg->kind][i]);
      f_want(r, sp_queue_task_done(&s->q), SP_OK, "task_done after");
    }
    want_int(r, sp_queue_empty(&s->q), 1, "empty after");
  }
  f_want(r, sp_queue_destroy(&s->q), SP_OK, "destroy");
  f_want(r, sp_queue_size(&s->q), SP_EINVAL, "size after destroy");
  free(s);
}

static const qcfg q_cfgs[] = {
#define Q_FLOW(kind, max, made)                                                \
  { kind, max, made, 0 }
#define Q_RESIZE(kind, made)                                                   \
  { kind, 4, made, 1 }
    Q_FLOW(Q_FIFO, 0, Q_MADE_INIT),  Q_FLOW(Q_FIFO, 0, Q_MADE_MACRO),
    Q_FLOW(Q_FIFO, 0, Q_MADE_ZERO),  Q_FLOW(Q_FIFO, 5, Q_MADE_INIT),
    Q_FLOW(Q_FIFO, 5, Q_MADE_MACRO), Q_RESIZE(Q_FIFO, Q_MADE_INIT),
    Q_RESIZE(Q_FIFO, Q_MADE_MACRO),  Q_FLOW(Q_LIFO, 0, Q_MADE_INIT),
    Q_FLOW(Q_LIFO, 0, Q_MADE_MACRO), Q_FLOW(Q_LIFO, 5, Q_MADE_INIT),
    Q_FLOW(Q_LIFO, 5, Q_MADE_MACRO), Q_RESIZE(Q_LIFO, Q_MADE_INIT),
    Q_RESIZE(Q_LIFO, Q_MADE_MACRO),  Q_FLOW(Q_PRIO, 0, Q_MADE_INIT),
    Q_FLOW(Q_PRIO, 0, Q_MADE_MACRO), Q_FLOW(Q_PRIO, 5, Q_MADE_INIT),
    Q_FLOW(Q_PRIO, 5, Q_MADE_MACRO), Q_RESIZE(Q_PRIO, Q_MADE_INIT),
    Q_RESIZE(Q_PRIO, Q_MADE_MACRO),
#undef Q_FLOW
#undef Q_RESIZE
};
#define Q_NCFGS ((int)(sizeof q_cfgs / sizeof q_cfgs[0]))

/* One scenario function per configuration (f_spec takes a plain
 * function). */
#define Q_FN(i)                                                                \
  static void queue_fn_##i(f_run *r) {                                         \
    run_queue(r, &q_cfgs[i]);                                                  \
  }
Q_FN(0)
Q_FN(1)
Q_FN(2)
Q_FN(3)
Q_FN(4)
Q_FN(5)
Q_FN(6)
Q_FN(7)
Q_FN(8)
Q_FN(9)
Q_FN(10)
Q_FN(11)
Q_FN(12)
Q_FN(13)
Q_FN(14)
Q_FN(15)
Q_FN(16)
Q_FN(17)
Q_FN(18)
static const f_scenario_fn queue_fns[] = {
    queue_fn_0,  queue_fn_1,  queue_fn_2,  queue_fn_3,  queue_fn_4,
    queue_fn_5,  queue_fn_6,  queue_fn_7,  queue_fn_8,  queue_fn_9,
    queue_fn_10, queue_fn_11, queue_fn_12, queue_fn_13, queue_fn_14,
    queue_fn_15, queue_fn_16, queue_fn_17, queue_fn_18};
_Static_assert(sizeof queue_fns / sizeof queue_fns[0] ==
                   sizeof q_cfgs / sizeof q_cfgs[0],
               "one function per queue configuration");

/* ---- barrier --------------------------------------------------------------
 * `parties` threads pass B_GENS generations; each generation's action
 * counts itself, and each party checks after its wait that exactly its
 * generation's actions ran (one per generation, before the release) and
 * records its index. A static barrier's first calls race (the parties'
 * waits and the main thread's sp_barrier_parties): a failed set-up reaches
 * its caller (SP_ESYS, no arrival counted), which calls again. */

#define B_GENS      8
#define B_MAX_PARTY 4

typedef struct {
  f_run *r;
  sp_barrier_t b;
  unsigned parties;
  int actions;                    /* atomic */
  int index[B_GENS][B_MAX_PARTY]; /* atomic: indices seen per generation */
  int passed;                     /* atomic: successful waits */
} barrier_s;

static void b_action(void *arg) {
  barrier_s *s = arg;
  t_inc(&s->actions);
}

static void b_party(void *p, int i) {
  barrier_s *s = p;
  f_run *r = s->r;
  for (int g = 0; g < B_GENS; g++) {
    int errors = 0;
    for (;;) {
      unsigned idx = B_MAX_PARTY;
      int rc;
      switch ((i + g) % 3) { /* each entry point */
      case 0:
        rc = sp_barrier_wait(&s->b, SP_FOREVER, &idx);
        break;
      case 1:
        rc = sp_barrier_wait(&s->b, SP_DEFAULT_TIMEOUT, &idx);
        break;
      default:
        rc = sp_barrier_wait_until(&s->b, INT64_MAX, &idx);
        break;
      }
      if (rc == SP_OK) {
        if (idx >= s->parties) {
          f_bad(r, "generation %d: index %u of %u parties", g, idx, s->parties);
        } else {
          t_inc(&s->index[g][idx]);
        }
        int a = t_load(&s->actions);
        if (a != g + 1)
          f_bad(r, "generation %d released after %d actions, expected %d", g, a,
                g + 1);
        t_inc(&s->passed);
        break;
      }
      if (rc != SP_ESYS || !f_error(r, rc, "barrier wait") ||
          ++errors >= F_RETRIES) {
        if (rc != SP_ESYS)
          f_bad(r, "barrier wait: unexpected %s (%d)", sp_strerror(rc), rc);
        else if (errors >= F_RETRIES)
          f_bad(r, "a party gave up after %d errors", errors);
        /* Let the other parties go (they see SP_BROKEN, recorded). */
        (void)sp_barrier_abort(&s->b);
        return;
      }
    }
  }
}

static void run_barrier(f_run *r, unsigned parties, int made_static) {
  barrier_s *s = calloc(1, sizeof *s);
  if (s == NULL) {
    f_bad(r, "out of memory");
    f_disarm(r);
    return;
  }
  s->r = r;
  s->parties = parties;
  if (made_static) {
    sp_barrier_t z = SP_BARRIER_INIT(parties, b_action, s);
    s->b = z;
  } else {
    int rc = sp_barrier_init(&s->b, parties, b_action, s);
    if (rc != SP_OK) { /* documented never to fail but for SP_EINVAL */
      f_bad(r, "sp_barrier_init: %s", sp_strerror(rc));
      f_disarm(r);
      free(s);
      return;
    }
  }
  t_bunch b;
  t_bunch_start(&b, (int)parties, b_party, s);
  for (int tries = 0; tries < F_RETRIES; tries++) {
    int rc = sp_barrier_parties(&s->b);
    if (rc == (int)parties)
      break;
    if (rc != SP_ESYS || !f_error(r, rc, "sp_barrier_parties")) {
      if (rc != SP_ESYS)
        f_bad(r, "sp_barrier_parties: %d", rc);
      break;
    }
  }
  t_bunch_join(&b);
  f_disarm(r);
  int want = B_GENS * (int)parties;
  if (t_load(&s->passed) != want)
    f_bad(r, "%d waits passed, expected %d", t_load(&s->passed), want);
  if (t_load(&s->actions) != B_GENS)
    f_bad(r, "%d actions for %d generations", t_load(&s->actions), B_GENS);
  for (int g = 0; g < B_GENS; g++)
    for (unsigned i = 0; i < parties; i++)
      if (t_load(&s->index[g][i]) != 1)
        f_bad(r, "generation %d: index %u given %d times", g, i,
              t_load(&s->index[g][i]));
  want_int(r, sp_barrier_broken(&s->b), 0, "broken after");
  want_int(r, sp_barrier_n_waiting(&s->b), 0, "n_waiting after");
  want_int(r, sp_barrier_parties(&s->b), (int)parties, "parties after");
  f_want(r, sp_barrier_destroy(&s->b), SP_OK, "destroy");
  free(s);
}

static void barrier_init2_fn(f_run *r) {
  run_barrier(r, 2, 0);
}
static void barrier_init3_fn(f_run *r) {
  run_barrier(r, 3, 0);
}
static void barrier_init4_fn(f_run *r) {
  run_barrier(r, 4, 0);
}
static void barrier_static2_fn(f_run *r) {
  run_barrier(r, 2, 1);
}
static void barrier_static3_fn(f_run *r) {
  run_barrier(r, 3, 1);
}
static void barrier_static4_fn(f_run *r) {
  run_barrier(r, 4, 1);
}

/* ---- the matrix -------------------------------------------------------- */

static void test_queue(void **state) {
  (void)state;
  static const char *const kinds[] = {"fifo", "lifo", "prio"};
  static const char *const made[] = {"init", "static", "zero"};
  char names[Q_NCFGS][40];
  for (int i = 0; i < Q_NCFGS; i++) {
    const qcfg *c = &q_cfgs[i];
    if (c->resize)
      snprintf(names[i], sizeof names[i], "queue/%s/resize/%s", kinds[c->kind],
               made[c->made]);
    else if (c->maxsize > 0)
      snprintf(names[i], sizeof names[i], "queue/%s/bounded/%s", kinds[c->kind],
               made[c->made]);
    else
      snprintf(names[i], sizeof names[i], "queue/%s/%s", kinds[c->kind],
               made[c->made]);
    unsigned must = F_BIT(SP_FAULT_ALLOC_);
    if (c->made != Q_MADE_INIT)
      must |= F_BIT(SP_FAULT_LAZY_INIT_);
    f_spec spec = {
        names[i], queue_fns[i], must, must | park_sites(), park_sites(), 0};
    f_matrix(&spec);
  }
}

static void test_barrier(void **state) {
  (void)state;
  unsigned none = park_sites();
  unsigned lazy = F_BIT(SP_FAULT_LAZY_INIT_);
  f_spec specs[] = {
      {"barrier/init/2", barrier_init2_fn, 0, none, none, 0},
      {"barrier/init/3", barrier_init3_fn, 0, none, none, 0},
      {"barrier/init/4", barrier_init4_fn, 0, none, none, 0},
      {"barrier/static/2", barrier_static2_fn, lazy, lazy | none, none, 0},
      {"barrier/static/3", barrier_static3_fn, lazy, lazy | none, none, 0},
      {"barrier/static/4", barrier_static4_fn, lazy, lazy | none, none, 0},
  };
  for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++)
    f_matrix(&specs[i]);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_queue),
      cmocka_unit_test(test_barrier),
  };
  f_watchdog_start();
  int rc = T_RUN("faults_qb", tests);
  f_watchdog_stop();
  return rc;
}
