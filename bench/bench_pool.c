/* bench_pool (issue 10): the seed's PythonPlus thread-pool web server,
 * driven by ApacheBench (`ab`, Debian's apache2-utils).
 *
 * The server: an accept thread pushes each connection on an sp_queue_t; 16
 * worker threads pop them (sp_gil_queue_get: the GIL-aware wait) and serve
 * their requests: recv the HTTP request (GIL released), 100 us of simulated
 * interpreter work under the GIL (yielding every NET_CHECK_UNITS units),
 * send the reply (GIL released); with keep-alive, the next request on the
 * same connection. Optionally one CPU-bound interpreter thread runs beside.
 * Every thread is an interpreter thread; the no-GIL control runs the same
 * code without the lock. ab runs as a child process on 127.0.0.1.
 *
 * Cases (docs/benchmarks.md's contract): P/ab_cC[_k][_cpu] for P = nogil,
 * legacy, fair, priority, C = ab's concurrency (1, 10), _k = keep-alive,
 * _cpu = one CPU-bound thread; quick runs ab_c10 and ab_c10_cpu, full all
 * eight. Metrics:
 *   rps                 ab's requests per second
 *   lat_p50_ms, lat_p99_ms, lat_max_ms   ab's percentiles (whole ms)
 *   srv_p50_us, srv_p99_us, srv_max_us  measured at the server: request
 *                       read -> reply sent
 *   failed              ab's failed requests (should be 0)
 *   cpu_units_per_s     the CPU thread's progress (_cpu)
 *   gil_wait_max_us     the longest single GIL wait in the run
 *   period_max_us       the longest time a holder went without a check
 *                       point (a yield or a release): the OS preempting a
 *                       holder stretches it, and every time bound with it
 *   cpu_wait_max_turns, io_wait_max_handoffs  PRIORITY: B2 and B1 as seen
 *                       (turns_bound: threads - 1)
   gil_wait_bound_us   PRIORITY: gil.h's B2 in time for the configuration:
 *                       (threads - 1) turns of min(2 yield_skip P,
 *                       interval + 100 us) + P each, P = the longest period
 *                       the holders had in the run (period_max_us; at least
 *                       the nominal NET_CHECK_UNITS units);
 *                       gil_wait_bound_nominal_us with the nominal P
 * and priority/config gil_wait_bound_us: the same with the most threads and
 * the longest period of all PRIORITY cases (the claim's denominator).
 * When ab is missing: a #skip line (bench/run.sh installs it). */
#include "net.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BE (sp_backend())

#ifdef _WIN32
int main(void) {

  fprintf(stderr, "bench_pool: POSIX sockets only, skipped\n");
  return 0;
}
#else
#include <sys/wait.h>
#include <unistd.h>

enum { TP_WORKERS = 16, TP_WORK_NS = 100000, TP_LAT_CAP = 1 << 18 };
enum { NPOL = 4 };
static const int POLICIES[NPOL] = {-1, SP_GIL_LEGACY, SP_GIL_FAIR,
                                   SP_GIL_PRIORITY};

static unsigned tp_units;         /* units of work in 100 us */
static double tp_prio_period_max; /* ns: the longest over PRIORITY cases */
static double tp_unit_ns;

typedef struct tp_server {
  sp_gil_t gil;
  sp_gil_t *g;
  sp_queue_t q;
  int lfd, port;
  int stop; /* atomic */
  int ncpu;
  bench_counter cpu_units;
  bench_thread acceptor, cpu, workers[TP_WORKERS];
  double *lat[TP_WORKERS]; /* per worker: request latencies (ns) */
  size_t nlat[TP_WORKERS];
  int widx[TP_WORKERS];
  double period_max[TP_WORKERS + 2]; /* per thread: the longest period */
} tp_server;

static tp_server S;

static const char REPLY_KA[] = "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n"
                               "Content-Length: 12\r\nConnection: "
                               "Keep-Alive\r\n\r\nhello world\n";
static const char REPLY[] = "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n"
                            "Content-Length: 12\r\nConnection: close\r\n\r\n"
                            "hello world\n";

static int tp_get(net_interp *t, void **item) {
  if (t->gil != NULL)
    return sp_gil_queue_get(t->gil, &S.q, item, 20 * 1000000);
  return sp_queue_get(&S.q, item, 20 * 1000000);
}

static void *tp_worker(void *p) {
  int idx = *(int *)p;
  net_interp t = {
      .gil = S.g, .x = (uint64_t)idx + 5, .period_max = &S.period_max[idx]};
  char buf[2048];
  net_gil_acquire(&t, SP_GIL_CPU); /* thread start */
  while (!bench_load(&S.stop)) {
    void *item;
    net_period(&t, 0);
    int rc = tp_get(&t, &item); /* releases the GIL while it waits */
    net_period(&t, 1);
    if (rc == SP_TIMEDOUT || rc == SP_BUSY)
      continue;
    if (rc != SP_OK)
      bench_die("queue get");
    int fd = (int)(intptr_t)item;
    for (;;) {
      net_gil_release(&t);
      int n = net_recv_until(fd, buf, sizeof buf, "\r\n\r\n");
      int64_t t0 = bench_now_ns();
      net_gil_acquire(&t, SP_GIL_IO);
      if (n <= 0)
        break;
      int ka = strstr(buf, "Keep-Alive") != NULL ||
               strstr(buf, "keep-alive") != NULL;
      net_work(&t, tp_units); /* the request's interpreter work */
      net_gil_release(&t);
      int w = ka ? net_send_all(fd, REPLY_KA, sizeof REPLY_KA - 1)
                 : net_send_all(fd, REPLY, sizeof REPLY - 1);
      int64_t t1 = bench_now_ns();
      net_gil_acquire(&t, SP_GIL_IO);
      if (S.nlat[idx] < TP_LAT_CAP)
        S.lat[idx][S.nlat[idx]++] = (double)(t1 - t0);
      if (w != 0 || !ka)
        break;
    }
    net_close(fd);
  }
  net_gil_release(&t);
  return NULL;
}

static void *tp_acceptor(void *p) {
  (void)p;
  net_interp t = {
      .gil = S.g, .x = 1, .period_max = &S.period_max[TP_WORKERS + 1]};
  net_gil_acquire(&t, SP_GIL_CPU);
  while (!bench_load(&S.stop)) {
    net_gil_release(&t);
    int fd = net_accept(S.lfd, 20);
    net_gil_acquire(&t, SP_GIL_CPU); /* an accept loop: no queue jumping */
    if (fd == -1)
      break;
    if (fd < 0)
      continue;
    int rc =
        t.gil != NULL
            ? sp_gil_queue_put(t.gil, &S.q, (void *)(intptr_t)fd, SP_FOREVER)
            : sp_queue_put(&S.q, (void *)(intptr_t)fd, SP_FOREVER);
    if (rc != SP_OK)
      bench_die("queue put");
  }
  net_gil_release(&t);
  return NULL;
}

static void *tp_cpu(void *p) {
  (void)p;
  net_interp t = {.gil = S.g,
                  .x = 9,
                  .units = &S.cpu_units,
                  .period_max = &S.period_max[TP_WORKERS]};
  net_gil_acquire(&t, SP_GIL_CPU);
  while (!bench_load(&S.stop))
    net_work(&t, NET_CHECK_UNITS);
  net_gil_release(&t);
  return NULL;
}

/* gil.h's B2 in time for PRIORITY's defaults, `threads` threads and the
 * yield period `period` (ns): (threads - 1) turns of min(2 yield_skip P,
 * interval + 100 us) + P each, in us. */
static double tp_bound_us(int threads, double period) {
  sp_gil_config cfg;
  sp_gil_config_default(&cfg, SP_GIL_PRIORITY);
  double turn = 2.0 * cfg.yield_skip * period;
  double cap = (double)cfg.interval_ns + 100000;
  if (turn > cap)
    turn = cap;
  return (threads - 1) * (turn + period) / 1e3;
}

static double tp_period_max_ns(void) {
  double m = 0;
  for (int i = 0; i < TP_WORKERS + 2; i++)
    if (S.period_max[i] > m)
      m = S.period_max[i];
  return m;
}

static void tp_start(int policy, int ncpu) {
  memset(S.period_max, 0, sizeof S.period_max);
  for (int i = 0; i < TP_WORKERS; i++)
    S.nlat[i] = 0;
  S.stop = 0;
  S.ncpu = ncpu;
  S.cpu_units.n = 0;
  S.g = NULL;
  if (policy >= 0) {
    sp_gil_config cfg;
    sp_gil_config_default(&cfg, policy);
    if (sp_gil_init(&S.gil, &cfg) != SP_OK)
      bench_die("sp_gil_init");
    S.g = &S.gil;
  }
  if (sp_queue_init(&S.q, 0) != SP_OK)
    bench_die("sp_queue_init");
  S.lfd = net_listen(&S.port);
  if (S.lfd < 0)
    bench_die("listen on 127.0.0.1");
  for (int i = 0; i < TP_WORKERS; i++) {
    S.widx[i] = i;
    bench_thread_start(&S.workers[i], tp_worker, &S.widx[i]);
  }
  bench_thread_start(&S.acceptor, tp_acceptor, NULL);
  if (ncpu)
    bench_thread_start(&S.cpu, tp_cpu, NULL);
}

static void tp_stop(void) {
  bench_store(&S.stop, 1);
  bench_thread_join(&S.acceptor);
  if (S.ncpu)
    bench_thread_join(&S.cpu);
  for (int i = 0; i < TP_WORKERS; i++)
    bench_thread_join(&S.workers[i]);
  void *item;
  while (sp_queue_get(&S.q, &item, 0) == SP_OK)
    net_close((int)(intptr_t)item);
  net_close(S.lfd);
  if (sp_queue_destroy(&S.q) != SP_OK)
    bench_die("sp_queue_destroy");
  if (S.g != NULL && sp_gil_destroy(S.g) != SP_OK)
    bench_die("sp_gil_destroy");
}

/* ---- ab ---- */

typedef struct ab_result {
  double rps, p50, p99, max, failed, complete;
} ab_result;

static int ab_path(char *out, size_t n) {
  static const char *dirs[] = {"/usr/bin/ab", "/usr/local/bin/ab",
                               "/usr/sbin/ab"};
  for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++)
    if (access(dirs[i], X_OK) == 0) {
      snprintf(out, n, "%s", dirs[i]);
      return 0;
    }
  return -1;
}

static double ab_field(const char *text, const char *key) {
  const char *p = strstr(text, key);
  return p != NULL ? atof(p + strlen(key)) : -1;
}

/* Run ab against the server; 0 on success. */
static int ab_run(const char *ab, int conc, int ka, int seconds, int n,
                  ab_result *r) {
  char url[64], tsec[16], nreq[16], cc[16];
  snprintf(url, sizeof url, "http://127.0.0.1:%d/", S.port);
  snprintf(tsec, sizeof tsec, "%d", seconds);
  snprintf(nreq, sizeof nreq, "%d", n);
  snprintf(cc, sizeof cc, "%d", conc);
  int pfd[2];
  if (pipe(pfd) != 0)
    return -1;
  pid_t pid = fork();
  if (pid < 0)
    return -1;
  if (pid == 0) {
    dup2(pfd[1], 1);
    close(pfd[0]);
    close(pfd[1]);
    if (ka)
      execl(ab, "ab", "-q", "-r", "-s", "10", "-t", tsec, "-n", nreq, "-c", cc,
            "-k", url, (char *)NULL);
    else
      execl(ab, "ab", "-q", "-r", "-s", "10", "-t", tsec, "-n", nreq, "-c", cc,
            url, (char *)NULL);
    _exit(127);
  }
  close(pfd[1]);
  static char text[65536];
  size_t len = 0;
  for (;;) {
    ssize_t k = read(pfd[0], text + len, sizeof text - 1 - len);
    if (k <= 0)
      break;
    len += (size_t)k;
  }
  text[len] = 0;
  close(pfd[0]);
  int st = 0;
  waitpid(pid, &st, 0);
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
    fprintf(stderr, "bench_pool: ab failed:\n%s\n", text);
    return -1;
  }
  r->rps = ab_field(text, "Requests per second:");
  if (r->rps < 0)
    fprintf(stderr, "bench_pool: no rate in ab's output:\n%s\n", text);
  r->failed = ab_field(text, "Failed requests:");
  r->complete = ab_field(text, "Complete requests:");
  r->p50 = ab_field(text, "  50%");
  r->p99 = ab_field(text, "  99%");
  r->max = ab_field(text, " 100%");
  return r->rps < 0 ? -1 : 0;
}

static void tp_case(const char *ab, int policy, int conc, int ka, int ncpu,
                    int seconds, int nreq) {
  char c[64];
  const char *pn = net_policy_name(policy);
  snprintf(c, sizeof c, "%s/ab_c%d%s%s", pn, conc, ka ? "_k" : "",
           ncpu ? "_cpu" : "");
  if (!bench_want(c))
    return;
  tp_start(policy, ncpu);
  if (S.g != NULL) {
    net_stats_reset(S.g);
  }
  uint64_t u0 = __atomic_load_n(&S.cpu_units.n, __ATOMIC_RELAXED);
  int64_t t0 = bench_now_ns();
  ab_result r;
  memset(&r, 0, sizeof r);
  int rc = ab_run(ab, conc, ka, seconds, nreq, &r);
  int64_t t1 = bench_now_ns();
  uint64_t u1 = __atomic_load_n(&S.cpu_units.n, __ATOMIC_RELAXED);
  sp_gil_stats_t st;
  memset(&st, 0, sizeof st);
  if (S.g != NULL)
    sp_gil_stats(S.g, &st);
  tp_stop();
  if (rc != 0) {
    bench_emit(BE, c, "ab_failed", 1);
    return;
  }
  static double all[TP_WORKERS * TP_LAT_CAP / 4];
  size_t n = 0;
  for (int i = 0; i < TP_WORKERS; i++)
    for (size_t k = 0; k < S.nlat[i] && n < sizeof all / sizeof all[0]; k++)
      all[n++] = S.lat[i][k];
  bench_emit(BE, c, "rps", r.rps);
  bench_emit(BE, c, "lat_p50_ms", r.p50);
  bench_emit(BE, c, "lat_p99_ms", r.p99);
  bench_emit(BE, c, "lat_max_ms", r.max);
  bench_emit(BE, c, "failed", r.failed);
  if (n > 0) {
    bench_emit(BE, c, "srv_p50_us", bench_median(all, n) / 1e3);
    bench_emit(BE, c, "srv_p99_us", bench_quantile(all, n, 0.99) / 1e3);
    bench_emit(BE, c, "srv_max_us", bench_max(all, n) / 1e3);
  }
  if (ncpu)
    bench_emit(BE, c, "cpu_units_per_s",
               (double)(u1 - u0) * 1e9 / (double)(t1 - t0));
  if (S.g == NULL)
    return;
  bench_emit(BE, c, "gil_wait_max_us", (double)st.wait_max_ns / 1e3);
  bench_emit(BE, c, "period_max_us", tp_period_max_ns() / 1e3);
  if (policy == SP_GIL_PRIORITY) {
    int threads = TP_WORKERS + 1 + ncpu + 1; /* + the stats resetter */
    bench_emit(BE, c, "cpu_wait_max_turns", (double)st.cpu_wait_max_turns);
    bench_emit(BE, c, "turns_bound", threads - 1);
    bench_emit(BE, c, "io_wait_max_handoffs", (double)st.io_wait_max_handoffs);
    /* B2 with the longest period the holders really had (the OS may
     * preempt a holder between two check points), and with the nominal
     * one (NET_CHECK_UNITS units: an unloaded machine) */
    double pmax = tp_period_max_ns();
    double nominal = NET_CHECK_UNITS * tp_unit_ns;
    bench_emit(BE, c, "gil_wait_bound_us",
               tp_bound_us(threads, pmax > nominal ? pmax : nominal));
    bench_emit(BE, c, "gil_wait_bound_nominal_us",
               tp_bound_us(threads, nominal));
    if (pmax > tp_prio_period_max)
      tp_prio_period_max = pmax;
  }
}

int main(int argc, char **argv) {
  static const int64_t times_ms[3] = {200, 1000, 1000};
  int rc = bench_init(argc, argv, "pool", BE, times_ms);
  if (rc != 0)
    return rc == 1 ? 0 : 2;
  if (bench_o.list_ratios)
    return 0;
  char ab[256];
  if (ab_path(ab, sizeof ab) != 0) {
    fprintf(stderr, "bench_pool: ab not found (apache2-utils): skipped\n");
    printf("#skip,pool,%s,*,ab (apache2-utils) not installed\n", BE);
    return 0;
  }
  uint64_t x = 1;
  double best = 1e9;
  for (int r = 0; r < 5; r++) {
    int64_t t0 = bench_now_ns();
    x = bench_work(x, 20000);
    double ns = (double)(bench_now_ns() - t0) / 20000.0;
    best = ns < best ? ns : best;
  }
  tp_unit_ns = best + (double)(x & 1) * 1e-9;
  tp_units = (unsigned)(TP_WORK_NS / tp_unit_ns);
  for (int i = 0; i < TP_WORKERS; i++) {
    S.lat[i] = malloc(TP_LAT_CAP * sizeof(double));
    if (S.lat[i] == NULL)
      bench_die("out of memory");
  }
  int seconds = (int)(bench_o.time_ns / 1000000000);
  if (seconds < 1)
    seconds = 1;
  int nreq = bench_level() == 0 ? 300 : bench_level() == 1 ? 1000 : 20000;
  static const int confs[8][3] = {{10, 0, 0}, {10, 0, 1}, {10, 1, 0},
                                  {10, 1, 1}, {1, 0, 0},  {1, 0, 1},
                                  {1, 1, 0},  {1, 1, 1}};
  int nconf = bench_level() == 2 ? 8 : 2;
  for (int k = 0; k < nconf; k++)
    for (int p = 0; p < NPOL; p++)
      tp_case(ab, POLICIES[p], confs[k][0], confs[k][1], confs[k][2], seconds,
              nreq);
  /* the bound of the claim: the most threads (with the CPU thread), the
   * longest period any PRIORITY case had */
  double nominal = NET_CHECK_UNITS * tp_unit_ns;
  if (bench_want("priority/"))
    bench_emit(BE, "priority/config", "gil_wait_bound_us",
               tp_bound_us(TP_WORKERS + 3, tp_prio_period_max > nominal
                                               ? tp_prio_period_max
                                               : nominal));
  for (int i = 0; i < TP_WORKERS; i++)
    free(S.lat[i]);
  return 0;
}
#endif
