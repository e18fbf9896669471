/* Helpers shared by the queue tests (tests/test_queue_kinds.c and
 * tests/test_queue_shutdown.c): items as small integers, a checked
 * non-blocking get, the white-box count of blocked calls, and the test
 * registration that clears the fault seam before and after each test.
 *
 * Header-only (static inline): each test file includes it once. */
#ifndef SP_TEST_QUEUE_HELPERS_H
#define SP_TEST_QUEUE_HELPERS_H

#include "helpers.h"

#include "../src/test_hooks.h"

#define ITEM(x) ((void *)(uintptr_t)(x))
#define VAL(p)  ((uintptr_t)(p))

/* A get that must succeed at once with the item v. */
static inline void expect_get(sp_queue_t *q, uintptr_t v) {
  void *item = ITEM(0xdead);
  assert_rc(SP_OK, sp_queue_get(q, &item, 0));
  assert_int_equal(v, VAL(item));
}

/* White box: threads blocked in the queue's lists (under its mutex). */
static inline unsigned blocked(sp_queue_t *q) {
  assert_rc(SP_OK, sp_mutex_lock(&q->mu_));
  unsigned n = q->ngetters_ + q->nputters_ + q->njoiners_;
  assert_rc(SP_OK, sp_mutex_unlock(&q->mu_));
  return n;
}

/* Wait (up to 10 s) until exactly n calls are blocked in the queue. */
static inline void wait_blocked(sp_queue_t *q, unsigned n) {
  int64_t end = t_now_ns() + 10 * SP_NS_PER_S;
  while (blocked(q) != n) {
    if (t_now_ns() > end)
      fail_msg("waited 10 s for %u blocked calls, have %u", n, blocked(q));
    t_sleep_ns(100000);
  }
}

/* cmocka setup and teardown: no fault injection left armed. */
static inline int reset_faults(void **state) {
  (void)state;
  sp_fault_clear_();
  return 0;
}

#define QTEST(f) cmocka_unit_test_setup_teardown(f, reset_faults, reset_faults)

#endif
