/* fork() and the library (issue 11, item 6; docs/primitives.md, "Threads,
 * signals and fork"). POSIX only.
 *
 * What the documentation claims, checked here:
 *  - an object that no thread was using when another thread called fork()
 *    (not held, no waiter, no call in progress) is usable in the child,
 *    also when the parent had other threads (one holding another mutex,
 *    one asleep in a condition wait): the library keeps no process-wide
 *    lock, and each object's state is in the object;
 *  - the child's thread has its own id (the thread-id cache is cleared by
 *    a pthread_atfork child handler), so a mutex or rlock that the forking
 *    thread held at fork() is not the child's: its unlock returns SP_EPERM
 *    and its trylock SP_BUSY; the child initialises it again instead. An
 *    sp_lock_t (no owner) held at fork() is released by the child normally.
 *  - the parent's objects are unaffected by the fork. */
#include "helpers.h"

#include <pthread.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/* Linux: the child's thread has a new kernel id, and the cache is cleared.
 * Other POSIX systems number threads with a process-wide counter, so the
 * child's thread keeps the forking thread's id (docs/primitives.md). */
#if defined(__linux__)
#define NEW_ID_IN_CHILD 1
#else
#define NEW_ID_IN_CHILD 0
#endif

static uint32_t word_id(sp_mutex_t *held) {
  return __atomic_load_n(&held->word_, __ATOMIC_SEQ_CST) & ~3u;
}

/* Objects no thread uses at fork(). */
static sp_mutex_t u_mutex = SP_MUTEX_INIT;
static sp_cond_t u_cond = SP_COND_INIT;
static sp_lock_t u_lock = SP_LOCK_INIT;
static sp_rlock_t u_rlock = SP_RLOCK_INIT;
static sp_sem_t u_sem = SP_SEM_INIT(1, 2);
static sp_event_t u_event = SP_EVENT_INIT;
static sp_queue_t u_queue = SP_QUEUE_INIT(4);
static sp_barrier_t u_barrier = SP_BARRIER_INIT(1, NULL, NULL);

/* Objects other parent threads use while it forks. */
static sp_mutex_t busy_mutex = SP_MUTEX_INIT;
static sp_mutex_t cv_mutex = SP_MUTEX_INIT;
static sp_cond_t busy_cond = SP_COND_INIT;
static int stop;     /* under cv_mutex */
static int sleeping; /* atomic */
static int holding;  /* atomic */
static int release;  /* atomic */

static void *cond_sleeper(void *p) {
  (void)p;
  if (sp_mutex_lock(&cv_mutex) != SP_OK)
    return NULL;
  t_store(&sleeping, 1);
  while (!stop)
    if (sp_cond_wait(&busy_cond, &cv_mutex, SP_FOREVER) != SP_OK)
      break;
  (void)sp_mutex_unlock(&cv_mutex);
  return NULL;
}

static void *mutex_holder(void *p) {
  (void)p;
  if (sp_mutex_lock(&busy_mutex) != SP_OK)
    return NULL;
  t_store(&holding, 1);
  while (!t_load(&release))
    t_yield();
  (void)sp_mutex_unlock(&busy_mutex);
  return NULL;
}

/* The child's checks; its exit status is the number of the first failed
 * check (0: all passed). Only _exit, no cmocka, in the child. */
#define CHECK(n, expr)                                                         \
  do {                                                                         \
    if (!(expr))                                                               \
      _exit(n);                                                                \
  } while (0)

static void child_uses_unused_objects(uint32_t parent_id) {
  void *item = NULL;
  unsigned index = 9;
  CHECK(1, sp_mutex_lock(&u_mutex) == SP_OK);
  CHECK(2, !NEW_ID_IN_CHILD || word_id(&u_mutex) != parent_id);
  CHECK(3, sp_cond_wait(&u_cond, &u_mutex, MS) == SP_TIMEDOUT);
  CHECK(4, sp_cond_signal(&u_cond) == SP_OK);
  CHECK(5, sp_mutex_unlock(&u_mutex) == SP_OK);
  CHECK(6, sp_lock_acquire(&u_lock, 0) == SP_OK);
  CHECK(7, sp_lock_acquire(&u_lock, MS) == SP_TIMEDOUT);
  CHECK(8, sp_lock_release(&u_lock) == SP_OK);
  CHECK(9, sp_rlock_acquire(&u_rlock, 0) == SP_OK);
  CHECK(10, sp_rlock_acquire(&u_rlock, 0) == SP_OK);
  CHECK(11, sp_rlock_release(&u_rlock) == SP_OK);
  CHECK(12, sp_rlock_release(&u_rlock) == SP_OK);
  CHECK(13, sp_sem_acquire(&u_sem, 0) == SP_OK);
  CHECK(14, sp_sem_acquire(&u_sem, MS) == SP_TIMEDOUT);
  CHECK(15, sp_sem_release(&u_sem, 2) == SP_OK);
  CHECK(16, sp_sem_release(&u_sem, 1) == SP_EPERM);
  CHECK(17, sp_event_wait(&u_event, MS) == SP_TIMEDOUT);
  CHECK(18, sp_event_set(&u_event) == SP_OK);
  CHECK(19, sp_event_wait(&u_event, SP_FOREVER) == SP_OK);
  CHECK(20, sp_queue_put(&u_queue, &item, 0) == SP_OK);
  CHECK(21, sp_queue_get(&u_queue, &item, 0) == SP_OK && item == &item);
  CHECK(22, sp_queue_get(&u_queue, &item, MS) == SP_TIMEDOUT);
  CHECK(23, sp_barrier_wait(&u_barrier, MS, &index) == SP_OK && index == 0);
  CHECK(24, sp_mutex_destroy(&u_mutex) == SP_OK);
  CHECK(25, sp_cond_destroy(&u_cond) == SP_OK);
  CHECK(26, sp_sem_destroy(&u_sem) == SP_OK);
  CHECK(27, sp_event_destroy(&u_event) == SP_OK);
  CHECK(28, sp_queue_destroy(&u_queue) == SP_OK);
  CHECK(29, sp_barrier_destroy(&u_barrier) == SP_OK);
  /* A mutex another parent thread held at fork() stays held in the child
   * (by an id no child thread has). */
  CHECK(30, sp_mutex_trylock(&busy_mutex) == SP_BUSY);
  CHECK(31, sp_mutex_unlock(&busy_mutex) == SP_EPERM);
  _exit(0);
}

static void wait_child(pid_t pid) {
  int status = 0;
  assert_int_equal(pid, waitpid(pid, &status, 0));
  if (!WIFEXITED(status))
    fail_msg("the child did not exit (status %d)", status);
  if (WEXITSTATUS(status) != 0)
    fail_msg("the child's check %d failed", WEXITSTATUS(status));
}

static void test_child_of_multithreaded_parent(void **state) {
  (void)state;
  const char *why = t_fork_with_threads_unsupported();
  if (why != NULL) {
    print_message("  skipped: %s\n", why);
    skip();
  }
  t_thread a = t_start(cond_sleeper, NULL);
  t_thread b = t_start(mutex_holder, NULL);
  t_wait_for_count(&sleeping, 1);
  t_wait_for_count(&holding, 1);
  sp_mutex_t probe = SP_MUTEX_INIT;
  assert_rc(SP_OK, sp_mutex_lock(&probe));
  uint32_t my_id = word_id(&probe);
  assert_rc(SP_OK, sp_mutex_unlock(&probe));
  fflush(stdout);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0)
    child_uses_unused_objects(my_id);
  wait_child(pid);
  /* The parent's threads and objects are unaffected. */
  t_store(&release, 1);
  assert_rc(SP_OK, sp_mutex_lock(&cv_mutex));
  stop = 1;
  assert_rc(SP_OK, sp_cond_broadcast(&busy_cond));
  assert_rc(SP_OK, sp_mutex_unlock(&cv_mutex));
  t_join(a);
  t_join(b);
  assert_rc(SP_OK, sp_mutex_lock(&u_mutex));
  assert_rc(SP_OK, sp_mutex_unlock(&u_mutex));
}

/* Held by the forking thread at fork(). */
static void test_held_across_fork(void **state) {
  (void)state;
  sp_mutex_t m = SP_MUTEX_INIT;
  sp_rlock_t r = SP_RLOCK_INIT;
  sp_lock_t l = SP_LOCK_INIT;
  assert_rc(SP_OK, sp_mutex_lock(&m));
  assert_rc(SP_OK, sp_rlock_acquire(&r, SP_FOREVER));
  assert_rc(SP_OK, sp_lock_acquire(&l, SP_FOREVER));
  uint32_t parent_id = word_id(&m);
  fflush(stdout);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    sp_mutex_t probe = SP_MUTEX_INIT;
    CHECK(1, sp_mutex_lock(&probe) == SP_OK);
    CHECK(3, sp_mutex_unlock(&probe) == SP_OK);
    if (NEW_ID_IN_CHILD) {
      CHECK(2, word_id(&probe) != parent_id); /* the cache was cleared */
      /* Not the child's: refused. */
      CHECK(4, sp_mutex_unlock(&m) == SP_EPERM);
      CHECK(5, sp_mutex_trylock(&m) == SP_BUSY);
      CHECK(6, sp_rlock_is_owned(&r) == 0);
      CHECK(7, sp_rlock_release(&r) == SP_EPERM);
    }
    /* What the child does instead: initialise them again. */
    CHECK(8, sp_mutex_init(&m) == SP_OK);
    CHECK(9, sp_mutex_lock(&m) == SP_OK && sp_mutex_unlock(&m) == SP_OK);
    CHECK(10, sp_rlock_init(&r) == SP_OK);
    CHECK(11, sp_rlock_acquire(&r, 0) == SP_OK);
    CHECK(12, sp_rlock_release(&r) == SP_OK);
    /* A lock has no owner: the child may release it. */
    CHECK(13, sp_lock_release(&l) == SP_OK);
    CHECK(14, sp_lock_acquire(&l, 0) == SP_OK);
    _exit(0);
  }
  wait_child(pid);
  /* The parent still holds all three. */
  assert_rc(SP_EPERM, sp_mutex_trylock(&m));
  assert_rc(SP_OK, sp_mutex_unlock(&m));
  assert_int_equal(1, sp_rlock_is_owned(&r));
  assert_rc(SP_OK, sp_rlock_release(&r));
  assert_rc(SP_OK, sp_lock_release(&l));
  assert_rc(SP_OK, sp_mutex_destroy(&m));
  assert_rc(SP_OK, sp_rlock_destroy(&r));
  assert_rc(SP_OK, sp_lock_destroy(&l));
}

/* A grandchild (fork in the child) gets its own id too: the child handler
 * stays registered. */
static void test_grandchild_id(void **state) {
  (void)state;
  if (!NEW_ID_IN_CHILD)
    return;
  sp_mutex_t m = SP_MUTEX_INIT;
  assert_rc(SP_OK, sp_mutex_lock(&m));
  uint32_t parent_id = word_id(&m);
  assert_rc(SP_OK, sp_mutex_unlock(&m));
  fflush(stdout);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    CHECK(1, sp_mutex_lock(&m) == SP_OK);
    uint32_t child_id = word_id(&m);
    CHECK(2, child_id != parent_id);
    CHECK(3, sp_mutex_unlock(&m) == SP_OK);
    pid_t g = fork();
    CHECK(4, g >= 0);
    if (g == 0) {
      CHECK(5, sp_mutex_lock(&m) == SP_OK);
      CHECK(6, word_id(&m) != child_id && word_id(&m) != parent_id);
      CHECK(7, sp_mutex_unlock(&m) == SP_OK);
      _exit(0);
    }
    int status = 0;
    CHECK(8, waitpid(g, &status, 0) == g);
    CHECK(9, WIFEXITED(status));
    if (WEXITSTATUS(status) != 0)
      _exit(10 + WEXITSTATUS(status));
    _exit(0);
  }
  wait_child(pid);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_child_of_multithreaded_parent),
      cmocka_unit_test(test_held_across_fork),
      cmocka_unit_test(test_grandchild_id),
  };
  return T_RUN("fork", tests);
}
