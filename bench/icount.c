/* bench_icount: the uncontended fast paths of every backend and peer
 * (the `fast` loops of bench/peers.h) under callgrind, for
 * bench/callgrind.sh. Each loop runs N1 and then N2 times between
 * callgrind client requests (zero the counts, dump them as
 * "<backend> <case> <n>"); callgrind.sh divides the difference of the two
 * dumps by N2 - N1, so the call, the set-up and the client requests cancel
 * out and what is left is the instructions of one lock+unlock pair plus
 * the calling loop's (about 7: the calls, their argument, the increment,
 * compare and branch). Outside valgrind the client
 * requests do nothing.
 *
 * Prints "config <compiler>-<major> <build type> <arch>" (the reference
 * counts in bench/icount.ref hold for one configuration) and one line
 * "case <backend> <case>" per loop. */
#include <stdio.h>
#include <valgrind/callgrind.h>

#include "peers.h"

#ifndef SPB_BUILD_TYPE
#define SPB_BUILD_TYPE ""
#endif
#define SPB_STR2_(x) #x
#define SPB_STR_(x)  SPB_STR2_(x)
#if defined(__clang__)
#define SPB_CC_ "clang-" SPB_STR_(__clang_major__)
#elif defined(__GNUC__)
#define SPB_CC_ "gcc-" SPB_STR_(__GNUC__)
#else
#define SPB_CC_ "cc"
#endif
#if defined(__x86_64__)
#define SPB_ARCH_ "x86_64"
#elif defined(__aarch64__)
#define SPB_ARCH_ "aarch64"
#elif defined(__i386__)
#define SPB_ARCH_ "i386"
#else
#define SPB_ARCH_ "other"
#endif

int main(int argc, char **argv) {
  static const int64_t times_ms[3] = {1, 1, 1};
  int rc = bench_init(argc, argv, "icount", "all", times_ms);
  if (rc != 0)
    return rc == 1 ? 0 : 2;
  printf("config %s %s %s\n", SPB_CC_,
         SPB_BUILD_TYPE[0] != '\0' ? SPB_BUILD_TYPE : "none", SPB_ARCH_);
  const spb_impl *impl[SPB_MAX_IMPLS];
  int ni = spb_impls(impl);
  static const uint64_t N[2] = {1000, 11000};
  for (int i = 0; i < ni; i++)
    for (int k = 0; k < SPB_LIST_MAX && impl[i]->fast[k].case_ != NULL; k++) {
      const spb_fast *f = &impl[i]->fast[k];
      char tag[128];
      f->loop(100); /* first use: lazy set-up, page faults */
      for (int j = 0; j < 2; j++) {
        snprintf(tag, sizeof tag, "%s %s %llu", impl[i]->backend, f->case_,
                 (unsigned long long)N[j]);
        CALLGRIND_ZERO_STATS;
        f->loop(N[j]);
        CALLGRIND_DUMP_STATS_AT(tag);
      }
      printf("case %s %s\n", impl[i]->backend, f->case_);
    }
  return 0;
}
