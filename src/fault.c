/* The fault-injection seam (src/fault.h). Each site has a call counter and
 * a window [first, last] of failing call numbers; a site is armed while its
 * first is nonzero or its counting flag is set. sp_fault_armed_ is the number
 * of armed sites, so the library's sp_fault_hit_ costs one relaxed load while
 * no test uses the seam. */
#include "fault.h"

#include <limits.h>

int sp_fault_armed_;

static struct {
  int on;     /* armed (atomic) */
  long calls; /* calls since armed (atomic) */
  long first; /* first failing call, 0: none (atomic) */
  long last;  /* last failing call (atomic) */
} sp_fault_sites_[SP_FAULT_NSITES_];

static int sp_fault_valid_(int site) {
  return site >= 0 && site < SP_FAULT_NSITES_;
}

int sp_fault_hit_slow_(int site) {
  if (!sp_fault_valid_(site) ||
      !__atomic_load_n(&sp_fault_sites_[site].on, __ATOMIC_ACQUIRE))
    return 0;
  long n =
      __atomic_add_fetch(&sp_fault_sites_[site].calls, 1, __ATOMIC_SEQ_CST);
  long first = __atomic_load_n(&sp_fault_sites_[site].first, __ATOMIC_RELAXED);
  long last = __atomic_load_n(&sp_fault_sites_[site].last, __ATOMIC_RELAXED);
  return first != 0 && n >= first && n <= last;
}

static void sp_fault_arm_(int site, long first, long last) {
  if (!sp_fault_valid_(site))
    return;
  int was_on =
      __atomic_exchange_n(&sp_fault_sites_[site].on, 0, __ATOMIC_SEQ_CST);
  __atomic_store_n(&sp_fault_sites_[site].calls, 0, __ATOMIC_SEQ_CST);
  __atomic_store_n(&sp_fault_sites_[site].first, first, __ATOMIC_SEQ_CST);
  __atomic_store_n(&sp_fault_sites_[site].last, last, __ATOMIC_SEQ_CST);
  __atomic_store_n(&sp_fault_sites_[site].on, 1, __ATOMIC_SEQ_CST);
  if (!was_on)
    __atomic_add_fetch(&sp_fault_armed_, 1, __ATOMIC_SEQ_CST);
}

void sp_fault_set_(int site, long k) {
  if (k < 0)
    k = 0;
  sp_fault_arm_(site, k, k);
}

void sp_fault_set_from_(int site, long k) {
  if (k < 1)
    k = 1;
  sp_fault_arm_(site, k, LONG_MAX);
}

long sp_fault_count_(int site) {
  if (!sp_fault_valid_(site))
    return 0;
  return __atomic_load_n(&sp_fault_sites_[site].calls, __ATOMIC_SEQ_CST);
}

void sp_fault_clear_(void) {
  for (int s = 0; s < SP_FAULT_NSITES_; s++) {
    if (__atomic_exchange_n(&sp_fault_sites_[s].on, 0, __ATOMIC_SEQ_CST))
      __atomic_sub_fetch(&sp_fault_armed_, 1, __ATOMIC_SEQ_CST);
    __atomic_store_n(&sp_fault_sites_[s].first, 0, __ATOMIC_SEQ_CST);
  }
}
