/* The README's first example, built and run by ctest (example/ready). */
#include <syncplus.h>

static sp_mutex_t m = SP_MUTEX_INIT; /* or sp_mutex_init(&m) */
static sp_cond_t ready_cv = SP_COND_INIT;
static int ready;

static int is_ready(void *arg) { /* the predicate, called with m held */
  (void)arg;
  return ready;
}

int wait_until_ready(void) { /* 1 if ready, 0 after 2 s in all */
  if (sp_mutex_lock(&m) != SP_OK)
    return 0;
  int rc = sp_cond_wait_for(&ready_cv, &m, is_ready, NULL, 2 * SP_NS_PER_S);
  sp_mutex_unlock(&m);
  return rc == SP_OK; /* else SP_TIMEDOUT, or an error */
}

static void *set_ready(void *arg) { /* runs in another thread */
  (void)arg;
  if (sp_mutex_lock(&m) == SP_OK) {
    ready = 1;
    sp_cond_broadcast(&ready_cv); /* with the mutex held */
    sp_mutex_unlock(&m);
  }
  return NULL;
}

int main(void) {
  sp_thread_t t;
  if (sp_thread_start(&t, set_ready, NULL) != SP_OK)
    return 1;
  int ok = wait_until_ready();
  if (sp_thread_join(&t, NULL) != SP_OK)
    return 1;
  return ok ? 0 : 1;
}
