/* The README's first example, built and run by ctest (example/ready). */
#include <syncplus.h>

static sp_mutex_t m = SP_MUTEX_INIT; /* or sp_mutex_init(&m) */
static sp_cond_t ready_cv = SP_COND_INIT;
static int ready;

int wait_until_ready(void) { /* 1 if ready, 0 after 2 s */
  if (sp_mutex_lock(&m) != SP_OK)
    return 0;
  while (!ready) {
    if (sp_cond_wait(&ready_cv, &m, 2 * SP_NS_PER_S) != SP_OK)
      break; /* SP_TIMEDOUT, or an error */
  }
  int r = ready;
  sp_mutex_unlock(&m);
  return r;
}

void set_ready(void) {
  if (sp_mutex_lock(&m) != SP_OK)
    return;
  ready = 1;
  sp_cond_broadcast(&ready_cv); /* with the mutex held */
  sp_mutex_unlock(&m);
}

int main(void) {
  set_ready();
  return wait_until_ready() ? 0 : 1;
}
