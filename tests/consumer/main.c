/* Uses the installed library: the installed headers must match the library
 * (same version; the object sizes are the same for every backend), and its
 * objects must work, statically initialised ones too. Exit 0 on success. */
#include <stdio.h>
#include <string.h>
#include <syncplus.h>

static sp_mutex_t m = SP_MUTEX_INIT;

int main(void) {
  sp_lock_t l;
  sp_barrier_t b;
  char expect[32];
  snprintf(expect, sizeof expect, "%d.%d.%d", SP_VERSION_MAJOR,
           SP_VERSION_MINOR, SP_VERSION_PATCH);
  if (strcmp(sp_version(), expect) != 0) {
    fprintf(stderr, "header says %s, library is %s\n", expect, sp_version());
    return 1;
  }
  if (sp_mutex_lock(&m) != SP_OK || sp_mutex_unlock(&m) != SP_OK)
    return 1;
  if (sp_lock_init(&l) != SP_OK || sp_lock_acquire(&l, 0) != SP_OK ||
      sp_lock_acquire(&l, 0) != SP_BUSY || sp_lock_release(&l) != SP_OK ||
      sp_lock_release(&l) != SP_EPERM || sp_lock_destroy(&l) != SP_OK)
    return 1;
  unsigned idx = 9;
  if (sp_barrier_init(&b, 1, NULL, NULL) != SP_OK ||
      sp_barrier_wait(&b, 0, &idx) != SP_OK || idx != 0 ||
      sp_barrier_destroy(&b) != SP_OK)
    return 1;
  printf("consumer OK: libsyncplus %s, backend %s\n", sp_version(),
         sp_backend());
  return 0;
}
