/* Message passing through every release/acquire pair of the API: the
 * "MP" litmus test (writer: data = v; <release>; reader: <acquire>; read
 * data) run in a loop, with plain (non-atomic) data, for each primitive's
 * hand-over: a mutex, a Lock passed between threads, an RLock, a
 * semaphore, a condition with its predicate, an event's lock-free fast path
 * (sp_event_is_set), a queue, a barrier, and a condition that changes
 * mutex (its binding CAS). Each pair is used with nothing else between the
 * two threads, so the data is ordered by that pair alone.
 *
 * What it proves where: on hardware with a weak memory model (ARM, POWER)
 * an order that is too weak shows as a reader seeing its flag but stale
 * data, which the assertions catch; qemu-user runs aarch64 code on the
 * x86-64 host's TSO memory, so the aarch64 stage cannot show that (only
 * compiler reorderings). Under ThreadSanitizer, which checks the C11
 * happens-before relation whatever the hardware, a too-weak order is a data
 * race report on the plain data: scripts/order-mutants.sh weakens each
 * order of the library in turn and checks that this test (under TSan)
 * reports it. */
#include "helpers.h"

#include <string.h>

#define ROUNDS 3000
#define NDATA  4

typedef struct mp {
  long data[NDATA]; /* plain: the message */
  long seen;        /* plain: the reader's last round (for the writer) */
  long flag;        /* plain, under the primitive (mutex, cond, rlock) */
  sp_mutex_t m, m2;
  sp_cond_t c;
  sp_lock_t l[2];
  sp_rlock_t r;
  sp_sem_t s[2];
  sp_event_t e[2];
  sp_queue_t q[2];
  sp_barrier_t b;
  long rounds;
} mp;

static void write_msg(mp *x, long v) {
  for (int i = 0; i < NDATA; i++)
    x->data[i] = v * NDATA + i;
}

static void check_msg(mp *x, long v, const char *what) {
  for (int i = 0; i < NDATA; i++)
    if (x->data[i] != v * NDATA + i)
      fail_msg("%s: round %ld: data[%d] = %ld, expected %ld (stale: the "
               "hand-over does not order memory)",
               what, v, i, x->data[i], v * NDATA + i);
}

static void mp_init(mp *x) {
  memset(x, 0, sizeof *x);
  x->rounds = t_iters(ROUNDS);
  assert_rc(SP_OK, sp_mutex_init(&x->m));
  assert_rc(SP_OK, sp_mutex_init(&x->m2));
  assert_rc(SP_OK, sp_cond_init(&x->c));
  for (int i = 0; i < 2; i++) {
    assert_rc(SP_OK, sp_lock_init(&x->l[i]));
    assert_rc(SP_OK, sp_sem_init(&x->s[i], 0, 0));
    assert_rc(SP_OK, sp_event_init(&x->e[i]));
    assert_rc(SP_OK, sp_queue_init(&x->q[i], 1));
  }
  assert_rc(SP_OK, sp_rlock_init(&x->r));
  assert_rc(SP_OK, sp_barrier_init(&x->b, 2, NULL, NULL));
}

static void mp_destroy(mp *x) {
  assert_rc(SP_OK, sp_barrier_destroy(&x->b));
  assert_rc(SP_OK, sp_rlock_destroy(&x->r));
  for (int i = 0; i < 2; i++) {
    assert_rc(SP_OK, sp_queue_destroy(&x->q[i]));
    assert_rc(SP_OK, sp_event_destroy(&x->e[i]));
    assert_rc(SP_OK, sp_sem_destroy(&x->s[i]));
    assert_rc(SP_OK, sp_lock_destroy(&x->l[i]));
  }
  assert_rc(SP_OK, sp_cond_destroy(&x->c));
  assert_rc(SP_OK, sp_mutex_destroy(&x->m2));
  assert_rc(SP_OK, sp_mutex_destroy(&x->m));
}

/* Run writer(x) on a new thread and reader(x) on this one. */
static void run_pair(void *(*writer)(void *), void (*reader)(mp *)) {
  mp *x = test_malloc(sizeof *x);
  mp_init(x);
  t_thread t = t_start(writer, x);
  reader(x);
  t_join(t);
  mp_destroy(x);
  test_free(x);
}

/* ---- mutex: the message and its flag under the mutex; the reader polls.
 * Also the writer waits, under the mutex, until the reader has seen the
 * round, so both directions go through the mutex only. */
static void *mutex_writer(void *arg) {
  mp *x = arg;
  for (long v = 1; v <= x->rounds; v++) {
    for (;;) { /* the reader has taken the previous round */
      assert_rc(SP_OK, sp_mutex_lock(&x->m));
      int ready = x->seen == v - 1;
      if (ready) {
        write_msg(x, v);
        x->flag = v;
      }
      assert_rc(SP_OK, sp_mutex_unlock(&x->m));
      if (ready)
        break;
      t_yield();
    }
  }
  return NULL;
}
static void mutex_reader(mp *x) {
  for (long v = 1; v <= x->rounds;) {
    assert_rc(SP_OK, sp_mutex_lock(&x->m));
    if (x->flag == v) {
      check_msg(x, v, "mutex");
      x->seen = v++;
    }
    assert_rc(SP_OK, sp_mutex_unlock(&x->m));
    t_yield();
  }
}
static void test_mp_mutex(void **state) {
  (void)state;
  run_pair(mutex_writer, mutex_reader);
}

/* ---- Lock: two Locks passed back and forth (a Lock may be released by
 * another thread than its acquirer). l[0] "writer may write", l[1]
 * "reader may read"; both start held. */
static void *lock_writer(void *arg) {
  mp *x = arg;
  for (long v = 1; v <= x->rounds; v++) {
    assert_rc(SP_OK, sp_lock_acquire(&x->l[0], SP_FOREVER));
    if (x->seen != v - 1)
      fail_msg("lock: the reader's round %ld not seen", v - 1);
    write_msg(x, v);
    assert_rc(SP_OK, sp_lock_release(&x->l[1]));
  }
  return NULL;
}
static void lock_reader(mp *x) {
  for (long v = 1; v <= x->rounds; v++) {
    assert_rc(SP_OK, sp_lock_acquire(&x->l[1], SP_FOREVER));
    check_msg(x, v, "lock");
    x->seen = v;
    assert_rc(SP_OK, sp_lock_release(&x->l[0]));
  }
}
static void test_mp_lock(void **state) {
  (void)state;
  mp *x = test_malloc(sizeof *x);
  mp_init(x);
  assert_rc(SP_OK, sp_lock_acquire(&x->l[1], 0)); /* reader waits */
  t_thread t = t_start(lock_writer, x);
  lock_reader(x);
  t_join(t);
  assert_rc(SP_OK, sp_lock_release(&x->l[1])); /* taken in the last round */
  mp_destroy(x);
  test_free(x);
}

/* ---- RLock: as the mutex, taken twice (nested). */
static void *rlock_writer(void *arg) {
  mp *x = arg;
  for (long v = 1; v <= x->rounds; v++) {
    for (;;) {
      assert_rc(SP_OK, sp_rlock_acquire(&x->r, SP_FOREVER));
      assert_rc(SP_OK, sp_rlock_acquire(&x->r, SP_FOREVER));
      int ready = x->seen == v - 1;
      if (ready) {
        write_msg(x, v);
        x->flag = v;
      }
      assert_rc(SP_OK, sp_rlock_release(&x->r));
      assert_rc(SP_OK, sp_rlock_release(&x->r));
      if (ready)
        break;
      t_yield();
    }
  }
  return NULL;
}
static void rlock_reader(mp *x) {
  for (long v = 1; v <= x->rounds;) {
    assert_rc(SP_OK, sp_rlock_acquire(&x->r, SP_FOREVER));
    if (x->flag == v) {
      check_msg(x, v, "rlock");
      x->seen = v++;
    }
    assert_rc(SP_OK, sp_rlock_release(&x->r));
    t_yield();
  }
}
static void test_mp_rlock(void **state) {
  (void)state;
  run_pair(rlock_writer, rlock_reader);
}

/* ---- semaphores: s[1] "a message", s[0] "taken". */
static void *sem_writer(void *arg) {
  mp *x = arg;
  for (long v = 1; v <= x->rounds; v++) {
    if (v > 1)
      assert_rc(SP_OK, sp_sem_acquire(&x->s[0], SP_FOREVER));
    write_msg(x, v);
    assert_rc(SP_OK, sp_sem_release(&x->s[1], 1));
  }
  return NULL;
}
static void sem_reader(mp *x) {
  for (long v = 1; v <= x->rounds; v++) {
    assert_rc(SP_OK, sp_sem_acquire(&x->s[1], SP_FOREVER));
    check_msg(x, v, "semaphore");
    assert_rc(SP_OK, sp_sem_release(&x->s[0], 1));
  }
}
static void test_mp_semaphore(void **state) {
  (void)state;
  run_pair(sem_writer, sem_reader);
}

/* ---- condition: the predicate under the mutex, waits both ways. */
static void *cond_writer(void *arg) {
  mp *x = arg;
  for (long v = 1; v <= x->rounds; v++) {
    assert_rc(SP_OK, sp_mutex_lock(&x->m));
    while (x->seen != v - 1)
      assert_rc(SP_OK, sp_cond_wait(&x->c, &x->m, SP_FOREVER));
    write_msg(x, v);
    x->flag = v;
    assert_rc(SP_OK, sp_cond_broadcast(&x->c));
    assert_rc(SP_OK, sp_mutex_unlock(&x->m));
  }
  return NULL;
}
static void cond_reader(mp *x) {
  for (long v = 1; v <= x->rounds; v++) {
    assert_rc(SP_OK, sp_mutex_lock(&x->m));
    while (x->flag != v)
      assert_rc(SP_OK, sp_cond_wait(&x->c, &x->m, SP_FOREVER));
    check_msg(x, v, "condition");
    x->seen = v;
    assert_rc(SP_OK, sp_cond_broadcast(&x->c));
    assert_rc(SP_OK, sp_mutex_unlock(&x->m));
  }
}
static void test_mp_condition(void **state) {
  (void)state;
  run_pair(cond_writer, cond_reader);
}

/* ---- event: the lock-free fast path (sp_event_is_set) both ways: e[1]
 * "a message" (the reader clears it), e[0] "taken" (the writer clears
 * it). */
static void *event_writer(void *arg) {
  mp *x = arg;
  for (long v = 1; v <= x->rounds; v++) {
    if (v > 1) {
      while (sp_event_is_set(&x->e[0]) != 1)
        t_yield();
      if (x->seen != v - 1)
        fail_msg("event: the reader's round %ld not seen", v - 1);
      assert_rc(SP_OK, sp_event_clear(&x->e[0]));
    }
    write_msg(x, v);
    assert_rc(SP_OK, sp_event_set(&x->e[1]));
  }
  return NULL;
}
static void event_reader(mp *x) {
  for (long v = 1; v <= x->rounds; v++) {
    while (sp_event_is_set(&x->e[1]) != 1)
      t_yield();
    check_msg(x, v, "event"); /* before clear, which takes the mutex */
    x->seen = v;
    assert_rc(SP_OK, sp_event_clear(&x->e[1]));
    assert_rc(SP_OK, sp_event_set(&x->e[0]));
  }
}
static void test_mp_event(void **state) {
  (void)state;
  run_pair(event_writer, event_reader);
}

/* ---- queue: the message travels as a pointer; q[0] returns it. */
static void *queue_writer(void *arg) {
  mp *x = arg;
  for (long v = 1; v <= x->rounds; v++) {
    void *back = NULL;
    if (v > 1)
      assert_rc(SP_OK, sp_queue_get(&x->q[0], &back, SP_FOREVER));
    write_msg(x, v);
    assert_rc(SP_OK, sp_queue_put(&x->q[1], x->data, SP_FOREVER));
  }
  return NULL;
}
static void queue_reader(mp *x) {
  for (long v = 1; v <= x->rounds; v++) {
    void *item = NULL;
    assert_rc(SP_OK, sp_queue_get(&x->q[1], &item, SP_FOREVER));
    assert_ptr_equal(x->data, item);
    check_msg(x, v, "queue");
    assert_rc(SP_OK, sp_queue_put(&x->q[0], item, SP_FOREVER));
  }
}
static void test_mp_queue(void **state) {
  (void)state;
  run_pair(queue_writer, queue_reader);
}

/* ---- barrier: each party writes its half, the barrier, each reads the
 * other's half, the barrier again (so the next round's writes come after
 * the reads). */
static void barrier_side(mp *x, int me) {
  for (long v = 1; v <= x->rounds; v++) {
    x->data[me] = v * 2 + me;
    assert_rc(SP_OK, sp_barrier_wait(&x->b, SP_FOREVER, NULL));
    if (x->data[1 - me] != v * 2 + 1 - me)
      fail_msg("barrier: round %ld: the other half is %ld, expected %ld", v,
               x->data[1 - me], v * 2 + 1 - me);
    assert_rc(SP_OK, sp_barrier_wait(&x->b, SP_FOREVER, NULL));
  }
}
static void *barrier_writer(void *arg) {
  barrier_side(arg, 1);
  return NULL;
}
static void barrier_reader(mp *x) {
  barrier_side(x, 0);
}
static void test_mp_barrier(void **state) {
  (void)state;
  run_pair(barrier_writer, barrier_reader);
}

/* ---- a condition passed between two mutexes. The writer waits on c with
 * m (timing out at once, so it binds and unbinds c), round after round
 * until the reader is done; the reader waits on c with m2, which is refused
 * (SP_EINVAL) while c is bound to m and admitted when it is free. Nothing
 * else orders the two threads (the stop flag is relaxed): the writer's last
 * write of c's waiter count must be ordered before the reader's first by
 * the binding itself (the release store that unbinds, the acquiring CAS
 * that binds). */
static void *rebind_writer(void *arg) {
  mp *x = arg;
  while (!__atomic_load_n(&x->flag, __ATOMIC_RELAXED)) {
    assert_rc(SP_OK, sp_mutex_lock(&x->m));
    int rc = sp_cond_wait(&x->c, &x->m, 1);
    if (rc != SP_TIMEDOUT && rc != SP_EINVAL)
      fail_msg("rebind: writer got %s", sp_strerror(rc));
    assert_rc(SP_OK, sp_mutex_unlock(&x->m));
    t_yield();
  }
  return NULL;
}
static void rebind_reader(mp *x) {
  long admitted = 0, refused = 0;
  int64_t stress_end = t_stress_deadline(), end = t_now_ns() + 10 * SP_NS_PER_S;
  while (admitted < x->rounds / 4 &&
         (t_now_ns() < stress_end || (admitted == 0 && t_now_ns() < end))) {
    assert_rc(SP_OK, sp_mutex_lock(&x->m2));
    int rc = sp_cond_wait(&x->c, &x->m2, 1);
    if (rc == SP_TIMEDOUT)
      admitted++;
    else if (rc == SP_EINVAL)
      refused++;
    else
      fail_msg("rebind: reader got %s", sp_strerror(rc));
    assert_rc(SP_OK, sp_mutex_unlock(&x->m2));
    t_yield();
  }
  __atomic_store_n(&x->flag, 1, __ATOMIC_RELAXED);
  print_message("rebind: the reader was admitted %ld times, refused %ld\n",
                admitted, refused);
  if (admitted == 0)
    fail_msg("rebind: the reader was never admitted in 10 s");
}
static void test_mp_condition_rebind(void **state) {
  (void)state;
  run_pair(rebind_writer, rebind_reader);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_mp_mutex),
      cmocka_unit_test(test_mp_lock),
      cmocka_unit_test(test_mp_rlock),
      cmocka_unit_test(test_mp_semaphore),
      cmocka_unit_test(test_mp_condition),
      cmocka_unit_test(test_mp_event),
      cmocka_unit_test(test_mp_queue),
      cmocka_unit_test(test_mp_barrier),
      cmocka_unit_test(test_mp_condition_rebind),
  };
  return T_RUN("orders", tests);
}
