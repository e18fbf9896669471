/* sp_once_t: the routine runs exactly once however many threads race, every
 * caller returns only after it has returned and sees what it wrote, a
 * zero-filled object is valid, a routine that calls its own sp_once gets
 * SP_EPERM, the object can be freed by the last caller, bad input. */
#include "helpers.h"

#include <stdlib.h>
#include <string.h>

static int runs; /* atomic */

static void count_run(void) {
  t_inc(&runs);
}

static void test_runs_once(void **state) {
  (void)state;
  static sp_once_t zero; /* zero-filled: valid */
  sp_once_t init = SP_ONCE_INIT;
  t_store(&runs, 0);
  for (int i = 0; i < 3; i++) {
    assert_rc(SP_OK, sp_once(&zero, count_run));
    assert_int_equal(1, t_load(&runs));
  }
  for (int i = 0; i < 3; i++) {
    assert_rc(SP_OK, sp_once(&init, count_run));
    assert_int_equal(2, t_load(&runs));
  }
}

static void test_bad_input(void **state) {
  (void)state;
  sp_once_t o = SP_ONCE_INIT;
  assert_rc(SP_EINVAL, sp_once(NULL, count_run));
  assert_rc(SP_EINVAL, sp_once(&o, NULL));
  assert_rc(SP_EINVAL, sp_once_arg(NULL, (void (*)(void *))free, NULL));
  assert_rc(SP_EINVAL, sp_once_arg(&o, NULL, NULL));
  /* a refused call changes nothing: the object still runs its routine */
  t_store(&runs, 0);
  assert_rc(SP_OK, sp_once(&o, count_run));
  assert_int_equal(1, t_load(&runs));
}

/* Many threads race on one fresh object per round. The routine waits until
 * every other thread is about to call (so they find it running), stays a
 * moment, and fills a table with plain stores; every caller checks the
 * whole table after its call returns: no caller returns early, and all see
 * the routine's writes. */
enum { NRACE = 16, TABLE = 256 };
typedef struct {
  sp_once_t once;
  int calling; /* atomic: threads about to call sp_once */
  int runs;    /* atomic */
  int table[TABLE];
  int complete; /* plain: written by the routine last */
  int seen_incomplete;
  int rc[NRACE];
} race_t;

static race_t *current;

static void fill_table(void) {
  race_t *r = current;
  t_inc(&r->runs);
  t_wait_for_count(&r->calling, NRACE);
  t_sleep_ns(200000); /* let the others reach their wait */
  for (int i = 0; i < TABLE; i++)
    r->table[i] = i * 7 + 1;
  r->complete = 1;
}

static void race_worker(void *p, int i) {
  race_t *r = p;
  t_inc(&r->calling);
  r->rc[i] = sp_once(&r->once, fill_table);
  int ok = r->complete;
  for (int k = 0; k < TABLE; k++)
    ok = ok && r->table[k] == k * 7 + 1;
  if (!ok)
    t_inc(&r->seen_incomplete);
}

static void test_race_exactly_once(void **state) {
  (void)state;
  long rounds = t_iters(30);
  int64_t deadline = t_stress_deadline();
  static race_t r;
  for (long round = 0; round < rounds && t_now_ns() < deadline; round++) {
    memset(&r, 0, sizeof r);
    current = &r;
    t_bunch b;
    t_bunch_start(&b, NRACE, race_worker, &r);
    t_bunch_join(&b);
    assert_int_equal(1, t_load(&r.runs));
    assert_int_equal(0, r.seen_incomplete);
    for (int i = 0; i < NRACE; i++)
      assert_rc(SP_OK, r.rc[i]);
  }
}

/* The same without waiting inside the routine: the fast path and the
 * transition from running to done race with arrivals. */
typedef struct {
  sp_once_t once;
  int go; /* atomic */
  int runs;
  int value;
  int bad; /* atomic */
} quick_t;

static void quick_routine(void *p) {
  quick_t *q = p;
  q->runs++; /* plain: exactly one thread runs it */
  q->value = 42;
}

static void quick_worker(void *p, int i) {
  (void)i;
  quick_t *q = p;
  while (!t_load(&q->go))
    t_yield();
  if (sp_once_arg(&q->once, quick_routine, q) != SP_OK || q->value != 42)
    t_inc(&q->bad);
}

static void test_race_arg_form(void **state) {
  (void)state;
  long rounds = t_iters(200);
  int64_t deadline = t_stress_deadline();
  static quick_t q;
  for (long round = 0; round < rounds && t_now_ns() < deadline; round++) {
    memset(&q, 0, sizeof q);
    t_bunch b;
    t_bunch_start(&b, 4, quick_worker, &q);
    t_store(&q.go, 1);
    t_bunch_join(&b);
    assert_int_equal(1, q.runs);
    assert_int_equal(0, t_load(&q.bad));
  }
}

/* A routine that calls sp_once on its own object gets SP_EPERM; one that
 * calls another object's sp_once nests normally. */
static sp_once_t outer = SP_ONCE_INIT, inner = SP_ONCE_INIT;
static int inner_runs, recursive_rc = 12345, nested_rc = 12345;

static void inner_routine(void) {
  inner_runs++;
}

static void outer_routine(void) {
  recursive_rc = sp_once(&outer, outer_routine);
  nested_rc = sp_once(&inner, inner_routine);
}

static void test_recursive_call(void **state) {
  (void)state;
  assert_rc(SP_OK, sp_once(&outer, outer_routine));
  assert_rc(SP_EPERM, recursive_rc);
  assert_rc(SP_OK, nested_rc);
  assert_int_equal(1, inner_runs);
  assert_rc(SP_OK, sp_once(&outer, outer_routine)); /* done: no more EPERM */
  assert_rc(SP_OK, sp_once(&inner, inner_routine));
  assert_int_equal(1, inner_runs);
}

/* The two forms on one object: the first to arrive runs, no other. */
static int form_runs;
static void form_plain(void) {
  form_runs += 1;
}
static void form_arg(void *p) {
  form_runs += *(int *)p;
}

static void test_mixed_forms(void **state) {
  (void)state;
  sp_once_t o = SP_ONCE_INIT;
  int ten = 10;
  form_runs = 0;
  assert_rc(SP_OK, sp_once_arg(&o, form_arg, &ten));
  assert_rc(SP_OK, sp_once(&o, form_plain));
  assert_rc(SP_OK, sp_once_arg(&o, form_arg, &ten));
  assert_int_equal(10, form_runs);
}

/* Lifetime: the object lives on the heap and the last caller to return
 * frees it, while the runner may still be finishing its call (ASan checks
 * that nothing touches it after it became "done"). */
typedef struct {
  sp_once_t *once;
  int left; /* atomic: callers that have not returned */
  int go;   /* atomic */
} life_t;

static void life_routine(void) {
  t_yield();
}

static void life_worker(void *p, int i) {
  (void)i;
  life_t *lf = p;
  while (!t_load(&lf->go))
    t_yield();
  sp_once_t *o = lf->once;
  assert_rc(SP_OK, sp_once(o, life_routine));
  if (__atomic_sub_fetch(&lf->left, 1, __ATOMIC_ACQ_REL) == 0)
    free(o);
}

static void test_last_caller_frees(void **state) {
  (void)state;
  long rounds = t_iters(300);
  int64_t deadline = t_stress_deadline();
  static life_t lf;
  for (long round = 0; round < rounds && t_now_ns() < deadline; round++) {
    lf.once = calloc(1, sizeof(sp_once_t)); /* zero-filled: valid */
    assert_non_null(lf.once);
    t_store(&lf.left, 3);
    t_store(&lf.go, 0);
    t_bunch b;
    t_bunch_start(&b, 3, life_worker, &lf);
    t_store(&lf.go, 1);
    t_bunch_join(&b);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_runs_once),
      cmocka_unit_test(test_bad_input),
      cmocka_unit_test(test_race_exactly_once),
      cmocka_unit_test(test_race_arg_form),
      cmocka_unit_test(test_recursive_call),
      cmocka_unit_test(test_mixed_forms),
      cmocka_unit_test(test_last_caller_frees),
  };
  return T_RUN("once", tests);
}
