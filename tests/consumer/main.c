/* A program using an installed (or add_subdirectory'd) libsyncplus as a
 * user's would: the headers it was compiled with must match the library it
 * runs with (same version, working objects). Exit 0 on success. */
#include <stdio.h>
#include <string.h>
#include <syncplus.h>

static sp_mutex_t m = SP_MUTEX_INIT;

#if !defined(SP_VERSION_NUMBER) ||                                             \
    SP_VERSION_NUMBER !=                                                       \
        SP_VERSION_MAJOR * 10000 + SP_VERSION_MINOR * 100 + SP_VERSION_PATCH
#error "syncplus/version.h: SP_VERSION_NUMBER missing or wrong"
#endif

/* The build says which library it links: a shared one's users must see
 * SP_USING_SHARED (the target's interface, syncplus.pc), a static one's not. */
#ifdef SYNCPLUS_CONSUMER_EXPECT_SHARED
#if SYNCPLUS_CONSUMER_EXPECT_SHARED && !defined(SP_USING_SHARED)
#error "linking the shared library without SP_USING_SHARED"
#elif !SYNCPLUS_CONSUMER_EXPECT_SHARED && defined(SP_USING_SHARED)
#error "linking the static library with SP_USING_SHARED"
#endif
#endif

int main(void) {
  sp_lock_t l;
  sp_barrier_t b;
  if (strcmp(sp_version(), SP_VERSION_STRING) != 0) {
    fprintf(stderr, "headers are %s, library is %s\n", SP_VERSION_STRING,
            sp_version());
    return 1;
  }
  if (sp_backend() == NULL || sp_backend()[0] == '\0' ||
      sp_mutex_lock(&m) != SP_OK || sp_mutex_unlock(&m) != SP_OK)
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
  printf("consumer OK: libsyncplus %s (%d), backend %s\n", sp_version(),
         SP_VERSION_NUMBER, sp_backend());
  return 0;
}
