/* API conventions: result names, version, backend, and every bad input of
 * the core primitives returning its code (no crash, no abort). */
#include "helpers.h"

#include <string.h>

static void test_strerror(void **state) {
  (void)state;
  assert_string_equal("SP_OK", sp_strerror(SP_OK));
  assert_string_equal("SP_BUSY", sp_strerror(SP_BUSY));
  assert_string_equal("SP_TIMEDOUT", sp_strerror(SP_TIMEDOUT));
  assert_string_equal("SP_BROKEN", sp_strerror(SP_BROKEN));
  assert_string_equal("SP_EINVAL", sp_strerror(SP_EINVAL));
  assert_string_equal("SP_EPERM", sp_strerror(SP_EPERM));
  assert_string_equal("SP_ENOMEM", sp_strerror(SP_ENOMEM));
  assert_string_equal("SP_ESYS", sp_strerror(SP_ESYS));
  assert_string_equal("unknown result code", sp_strerror(12345));
  assert_string_equal("unknown result code", sp_strerror(-99));
}

static void test_version_and_backend(void **state) {
  (void)state;
  char expect[32];
  snprintf(expect, sizeof expect, "%d.%d.%d", SP_VERSION_MAJOR,
           SP_VERSION_MINOR, SP_VERSION_PATCH);
  assert_string_equal(expect, sp_version());
  const char *known[] = {"pthread", "sem", "win32", "win32-sem"};
  int found = 0;
  for (size_t i = 0; i < 4; i++)
    found += strcmp(known[i], sp_backend()) == 0;
  assert_int_equal(1, found);
}

static void test_mutex_bad_inputs(void **state) {
  (void)state;
  sp_mutex_t m;
  assert_rc(SP_EINVAL, sp_mutex_init(NULL));
  assert_rc(SP_EINVAL, sp_mutex_destroy(NULL));
  assert_rc(SP_EINVAL, sp_mutex_lock(NULL));
  assert_rc(SP_EINVAL, sp_mutex_trylock(NULL));
  assert_rc(SP_EINVAL, sp_mutex_unlock(NULL));
  memset(&m, 0xA5,
         sizeof m); /* garbage: not an object (zero-filled is valid) */
  assert_rc(SP_EINVAL, sp_mutex_lock(&m));
  assert_rc(SP_EINVAL, sp_mutex_destroy(&m));
  assert_rc(SP_OK, sp_mutex_init(&m));
  assert_rc(SP_EPERM, sp_mutex_unlock(&m)); /* not held */
  assert_rc(SP_OK, sp_mutex_lock(&m));
  assert_rc(SP_EPERM, sp_mutex_lock(&m));    /* would self-deadlock */
  assert_rc(SP_EPERM, sp_mutex_trylock(&m)); /* already held by caller */
  assert_rc(SP_EPERM, sp_mutex_destroy(&m)); /* held */
  assert_rc(SP_OK, sp_mutex_unlock(&m));
  assert_rc(SP_OK, sp_mutex_destroy(&m));
  /* destroyed: every call is SP_EINVAL, a second destroy too */
  assert_rc(SP_EINVAL, sp_mutex_lock(&m));
  assert_rc(SP_EINVAL, sp_mutex_trylock(&m));
  assert_rc(SP_EINVAL, sp_mutex_unlock(&m));
  assert_rc(SP_EINVAL, sp_mutex_destroy(&m));
}

static void test_cond_bad_inputs(void **state) {
  (void)state;
  sp_mutex_t m;
  sp_cond_t c;
  assert_rc(SP_EINVAL, sp_cond_init(NULL));
  assert_rc(SP_EINVAL, sp_cond_destroy(NULL));
  assert_rc(SP_EINVAL, sp_cond_signal(NULL));
  assert_rc(SP_EINVAL, sp_cond_broadcast(NULL));
  assert_rc(SP_OK, sp_mutex_init(&m));
  assert_rc(SP_OK, sp_cond_init(&c));
  assert_rc(SP_EINVAL, sp_cond_wait(NULL, &m, 0));
  assert_rc(SP_EINVAL, sp_cond_wait(&c, NULL, 0));
  assert_rc(SP_EPERM, sp_cond_wait(&c, &m, 0)); /* mutex not held */
  assert_rc(SP_OK, sp_mutex_lock(&m));
  assert_rc(SP_EINVAL, sp_cond_wait(&c, &m, -2));
  assert_rc(SP_EINVAL, sp_cond_wait(&c, &m, INT64_MIN));
  assert_rc(SP_TIMEDOUT, sp_cond_wait(&c, &m, 0));
  assert_rc(SP_TIMEDOUT, sp_cond_wait(&c, &m, 1));
  assert_rc(SP_OK, sp_cond_signal(&c)); /* nobody waits: lost, fine */
  assert_rc(SP_OK, sp_cond_broadcast(&c));
  assert_rc(SP_OK, sp_mutex_unlock(&m));
  assert_rc(SP_OK, sp_cond_destroy(&c));
  assert_rc(SP_EINVAL, sp_cond_signal(&c));
  assert_rc(SP_EINVAL, sp_cond_broadcast(&c));
  assert_rc(SP_OK, sp_mutex_lock(&m));
  assert_rc(SP_EINVAL, sp_cond_wait(&c, &m, 0));
  assert_rc(SP_OK, sp_mutex_unlock(&m));
  assert_rc(SP_EINVAL, sp_cond_destroy(&c));
  assert_rc(SP_OK, sp_mutex_destroy(&m));
}

static void test_lock_bad_inputs(void **state) {
  (void)state;
  sp_lock_t l;
  assert_rc(SP_EINVAL, sp_lock_init(NULL));
  assert_rc(SP_EINVAL, sp_lock_destroy(NULL));
  assert_rc(SP_EINVAL, sp_lock_acquire(NULL, 0));
  assert_rc(SP_EINVAL, sp_lock_release(NULL));
  assert_rc(SP_EINVAL, sp_lock_locked(NULL));
  assert_rc(SP_OK, sp_lock_init(&l));
  assert_rc(SP_EINVAL, sp_lock_acquire(&l, -2));
  assert_rc(SP_EINVAL, sp_lock_acquire(&l, INT64_MIN));
  assert_int_equal(0, sp_lock_locked(&l)); /* a bad timeout changes nothing */
  assert_rc(SP_EPERM, sp_lock_release(&l));
  assert_rc(SP_OK, sp_lock_acquire(&l, 0));
  assert_rc(SP_EINVAL, sp_lock_acquire(&l, -5));
  assert_rc(SP_OK, sp_lock_release(&l));
  assert_rc(SP_OK, sp_lock_destroy(&l));
  assert_rc(SP_EINVAL, sp_lock_acquire(&l, 0));
  assert_rc(SP_EINVAL, sp_lock_release(&l));
  assert_rc(SP_EINVAL, sp_lock_locked(&l));
  assert_rc(SP_EINVAL, sp_lock_destroy(&l));
}

static void test_barrier_bad_inputs(void **state) {
  (void)state;
  sp_barrier_t b;
  unsigned idx = 77;
  assert_rc(SP_EINVAL, sp_barrier_init(NULL, 2, NULL, NULL));
  assert_rc(SP_EINVAL, sp_barrier_init(&b, 0, NULL, NULL));
  assert_rc(SP_EINVAL, sp_barrier_destroy(NULL));
  assert_rc(SP_EINVAL, sp_barrier_wait(NULL, SP_FOREVER, &idx));
  assert_rc(SP_EINVAL, sp_barrier_abort(NULL));
  assert_rc(SP_EINVAL, sp_barrier_reset(NULL));
  assert_rc(SP_EINVAL, sp_barrier_broken(NULL));
  assert_rc(SP_EINVAL, sp_barrier_n_waiting(NULL));
  assert_rc(SP_EINVAL, sp_barrier_parties(NULL));
  assert_rc(SP_OK, sp_barrier_init(&b, 3, NULL, NULL));
  assert_rc(SP_EINVAL, sp_barrier_wait(&b, -3, &idx)); /* -2: the default */
  assert_int_equal(77, idx);
  assert_int_equal(0, sp_barrier_n_waiting(&b)); /* bad call left no trace */
  assert_int_equal(0, sp_barrier_broken(&b));
  assert_int_equal(3, sp_barrier_parties(&b));
  assert_rc(SP_OK, sp_barrier_destroy(&b));
  assert_rc(SP_EINVAL, sp_barrier_wait(&b, 0, &idx));
  assert_rc(SP_EINVAL, sp_barrier_parties(&b));
  assert_rc(SP_EINVAL, sp_barrier_destroy(&b));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_strerror),
      cmocka_unit_test(test_version_and_backend),
      cmocka_unit_test(test_mutex_bad_inputs),
      cmocka_unit_test(test_cond_bad_inputs),
      cmocka_unit_test(test_lock_bad_inputs),
      cmocka_unit_test(test_barrier_bad_inputs),
  };
  return T_RUN("api", tests);
}
