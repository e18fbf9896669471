/* Uses the installed library: the installed header's config must match the
 * library (same backend name, working objects). Exit 0 on success. */
#include <stdio.h>
#include <string.h>
#include <syncplus.h>

int main(void) {
  sp_lock_t l;
  sp_barrier_t b;
  if (strcmp(sp_backend(), SP_BACKEND_NAME) != 0) {
    fprintf(stderr, "header says %s, library is %s\n", SP_BACKEND_NAME,
            sp_backend());
    return 1;
  }
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
