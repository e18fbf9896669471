/* The peer benches of issue 15: one table of workloads per implementation
 * (each libsyncplus backend, the raw OS primitives, GLib, libuv, C11
 * <threads.h>), and the driver that runs them side by side in one process
 * (bench_pair, bench_contended, bench_barrier, bench_uqueue, bench_sweep).
 *
 * An implementation file (impl_sp.c, impl_raw.c, impl_glib.c, impl_uv.c,
 * impl_c11.c) defines one `const spb_impl` whose entries run one workload
 * on its own primitives; entries it cannot provide are NULL. The workloads
 * common to every mutex/condition pair are written once, in peer_tmpl.h,
 * and instantiated per implementation.
 *
 * The libsyncplus backends share their symbol names, so a process can hold
 * two of them only when they are hidden from each other: where the
 * toolchain allows (ELF: `cc -r` and objcopy), bench/CMakeLists.txt links
 * impl_sp.c with each backend's static library into one relocatable object
 * and keeps only its table global (spb_impl_<backend>); every program then
 * measures every backend and every peer in one run ("multi-backend").
 * Elsewhere each program is built once per backend, with the peers in each
 * (docs/benchmarks.md, "Peers"). */
#ifndef SP_BENCH_PEERS_H
#define SP_BENCH_PEERS_H

#include "bench.h"

/* An uncontended lock+unlock loop: n pairs on an object of its own. */
typedef struct spb_fast {
  const char *case_; /* CSV case, e.g. "fast_gmutex"; NULL ends a list */
  void (*loop)(uint64_t n);
} spb_fast;

/* A windowed workload: runs its threads over one bench_group_run window
 * (bench_o.time_ns after bench_o.warmup_ns) and returns the rate; the
 * window's context switches are then in bench_last_cs_per_s. */
typedef double (*spb_run_fn)(int param);

typedef struct spb_named {
  const char *case_; /* CSV case, or its prefix (param appended); NULL ends */
  spb_run_fn run;
} spb_named;

#define SPB_LIST_MAX 6

typedef struct spb_impl {
  const char *backend; /* the CSV backend column: "sem", "raw", "glib"... */
  void (*setup)(void); /* called once before any workload (may be NULL) */
  /* bench_pair: uncontended fast paths (ns_per_op) */
  spb_fast fast[SPB_LIST_MAX];
  /* bench_pair: a producer and a consumer hand a token back and forth
   * (tx_per_s; param unused) */
  spb_named pair[SPB_LIST_MAX];
  /* bench_contended and bench_sweep: param threads increment one counter
   * under the mutex (ops_per_s); case "counter" */
  spb_run_fn counter;
  /* bench_barrier: param threads pass a barrier (gen_per_s) */
  spb_run_fn barrier;
  /* bench_uqueue: an unbounded queue, param/2 producers and param/2
   * consumers (items_per_s); case prefix uqueue_case */
  const char *uqueue_case;
  spb_run_fn uqueue;
  /* bench_sweep: one thread broadcasts to param waiters and waits until
   * all have woken (wake_per_s: the waiters' wake-ups per second) */
  spb_run_fn bcast;
} spb_impl;

/* A peer that was not built, and why (the #skip reason). */
typedef struct spb_absent {
  const char *backend;
  const char *reason;
} spb_absent;

/* The implementations of this program, NULL-terminated: the libsyncplus
 * backends (generated per program, spb_list_*.c), then the peers that were
 * found (peers_list.c, generated at configure time). */
extern const spb_impl *const spb_sp_impls[];
extern const spb_impl *const spb_peer_impls[];
extern const spb_absent spb_absent_peers[];

/* Experiments (peer_tmpl.h built with TM_HANDOFFS): the fraction of the
 * last counter window's increments made by another thread than the one
 * before (how often the mutex changed hands). */
extern double spb_handoff_ratio;

/* ---- the driver (peers.c) -------------------------------------------- */

/* Every implementation of this program, libsyncplus first, then the peers;
 * returns how many (at most SPB_MAX_IMPLS). */
#define SPB_MAX_IMPLS 16
int spb_impls(const spb_impl **out);

/* Print "#skip,<bench>,<backend>,<case>,<reason>" for every peer that was
 * not built, when `wanted(backend)` says this bench would have measured it
 * (NULL: every peer). */
void spb_skip_absent(const char *case_, int (*wanted)(const char *backend));

/* A cell: one (implementation, case, parameter) of a windowed workload. */
typedef struct spb_cell {
  const char *backend;
  char case_[48];
  const char *metric; /* rate metric, e.g. "ops_per_s" */
  spb_run_fn run;
  int param;
  int n;
  double rate[16], cs[16]; /* per round: rate, context switches per op */
} spb_cell;

/* Run `rounds` rounds over the cells, each cell once per round with a
 * window of window_ms after warmup_ms (the order reverses every round, so
 * a slow minute hits every implementation alike), then print for each cell
 * the median rate and the median context switches per operation
 * ("cs_per_op"; not printed where the OS does not count them). */
void spb_run_cells(spb_cell *cells, int ncells, int rounds, int64_t window_ms,
                   int64_t warmup_ms);

/* Append to cells[*n] the cell "<prefix>_<param>" of run (when it is not
 * NULL and bench_want() selects the case). */
void spb_add_cell(spb_cell *cells, int *n, const char *backend,
                  const char *prefix, spb_run_fn run, int param,
                  const char *metric);

/* A fast-path case for spb_run_fast. */
typedef struct spb_fcell {
  const char *backend;
  const char *case_;
  void (*loop)(uint64_t n);
  uint64_t batch;
  int n;
  double ns[512];
} spb_fcell;

/* Time the loops: calibrate each to a batch of ~batch_us, then `rounds`
 * rounds of one batch per loop (order reversed every round; the first
 * rounds are a warm-up), and print the median ns per lock+unlock pair of
 * each ("ns_per_op"). */
void spb_run_fast(spb_fcell *cells, int ncells, int rounds, int64_t batch_us);

/* A value by mode (smoke, quick, full). */
int spb_by_mode(int smoke, int quick, int full);

#endif
