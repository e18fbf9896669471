/* The library inside a plugin loaded with dlopen() (tests/dlopen_module.c,
 * which links the static library), as the Python extension module is: the
 * loader must accept the library's thread-local (the cached thread id), on
 * threads created after the load and on threads that existed before it,
 * and the ids must be distinct and the locks exclusive across them. musl's
 * loader refuses a dlopen'd object with initial-exec TLS ("initial-exec TLS
 * resolves to dynamic definition"), so src/unix/platform_impl.h uses that
 * model with glibc only; this test fails on musl with it. The module's
 * path is the program's first argument. */
#include "helpers.h"

#include <dlfcn.h>

static const char *module_path;

typedef uint32_t (*self_fn)(void);
typedef int (*work_fn)(long);
typedef long (*count_fn)(long *);

static struct {
  self_fn self;
  work_fn work;
  count_fn count;
  int loaded; /* atomic */
} mod;

#define ITERS    20000
#define NTHREADS 4

struct worker {
  uint32_t id;
  int rc;
  int wait_for_load;
};

static void *worker_main(void *arg) {
  struct worker *w = arg;
  if (w->wait_for_load) /* a thread that existed before dlopen() */
    t_wait_for_count(&mod.loaded, 1);
  w->id = mod.self();
  w->rc = mod.work(t_iters(ITERS));
  if (mod.self() != w->id)
    w->rc = -10;
  return NULL;
}

static void test_dlopen_plugin(void **state) {
  (void)state;
  struct worker w[NTHREADS];
  t_thread t[NTHREADS];
  w[0] = (struct worker){0, 99, 1};
  t[0] = t_start(worker_main, &w[0]); /* before the load */
  void *h = dlopen(module_path, RTLD_NOW | RTLD_LOCAL);
  if (h == NULL)
    fail_msg("dlopen(%s): %s", module_path, dlerror());
  *(void **)&mod.self = dlsym(h, "spdl_self");
  *(void **)&mod.work = dlsym(h, "spdl_work");
  *(void **)&mod.count = dlsym(h, "spdl_count");
  assert_non_null(mod.self);
  assert_non_null(mod.work);
  assert_non_null(mod.count);
  t_store(&mod.loaded, 1);
  for (int i = 1; i < NTHREADS; i++) {
    w[i] = (struct worker){0, 99, 0};
    t[i] = t_start(worker_main, &w[i]);
  }
  uint32_t me = mod.self();
  assert_int_equal(0, mod.work(t_iters(ITERS)));
  for (int i = 0; i < NTHREADS; i++) {
    t_join(t[i]);
    assert_int_equal(0, w[i].rc);
    assert_true(w[i].id != 0 && (w[i].id & 3) == 0 && w[i].id != me);
    for (int j = 0; j < i; j++)
      assert_true(w[i].id != w[j].id);
  }
  long bad = -1;
  assert_int_equal((NTHREADS + 1) * t_iters(ITERS), mod.count(&bad));
  assert_int_equal(0, bad);
  assert_int_equal(0, dlclose(h));
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s MODULE\n", argv[0]);
    return 2;
  }
  module_path = argv[1];
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_dlopen_plugin),
  };
  return T_RUN("dlopen", tests);
}
