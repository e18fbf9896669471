/* The README's first example, built and run by ctest (example/ready). */
#include <syncplus.h>

static sp_mutex_t m;
static sp_cond_t ready_cv;
static int ready;

int wait_until_ready(void) { /* 1 if ready, 0 after 2 s */
  sp_mutex_lock(&m);
  while (!ready) {
    if (sp_cond_wait(&ready_cv, &m, 2 * SP_NS_PER_S) == SP_TIMEDOUT)
      break;
  }
  int r = ready;
  sp_mutex_unlock(&m);
  return r;
}

void set_ready(void) {
  sp_mutex_lock(&m);
  ready = 1;
  sp_cond_broadcast(&ready_cv); /* with the mutex held */
  sp_mutex_unlock(&m);
}

int main(void) {
  if (sp_mutex_init(&m) != SP_OK || sp_cond_init(&ready_cv) != SP_OK)
    return 1;
  set_ready();
  return wait_until_ready() ? 0 : 1;
}
