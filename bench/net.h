/* net: what the network experiments (bench_beazley, bench_threadpool) share:
 * loopback TCP sockets with bounded waits, and the simulated interpreter
 * thread of bench/gilsim.h (units of work, sp_gil_yield every
 * NET_CHECK_UNITS units, the GIL released around every blocking call).
 *
 * Every socket is on 127.0.0.1; every blocking call has a timeout
 * (SO_RCVTIMEO/SO_SNDTIMEO, poll), so no loop can hang: servers and clients
 * exit by themselves. POSIX only (the Windows build compiles a stub). */
#ifndef SP_BENCH_NET_H
#define SP_BENCH_NET_H

#include "bench.h"

#include <syncplus.h>

#define NET_CHECK_UNITS   100   /* units of work between two sp_gil_yield */
#define NET_IO_TIMEOUT_MS 10000 /* the longest any socket call blocks */

/* Sockets. All return -1 on failure (errors are not fatal: a client whose
 * server went away just stops). */
int net_listen(int *port);               /* 127.0.0.1, ephemeral port */
int net_accept(int lfd, int timeout_ms); /* -2 on timeout */
int net_connect(int port);
int net_send_all(int fd, const void *buf, size_t n);
/* Read until `delim` (a string, e.g. "\n" or "\r\n\r\n") has arrived or the
 * buffer is full; returns the bytes read (0 on EOF), -1 on error. */
int net_recv_until(int fd, char *buf, size_t cap, const char *delim);
void net_close(int fd);

/* An interpreter thread: optional GIL (NULL: the no-GIL control). */
typedef struct net_interp {
  sp_gil_t *gil;
  unsigned ticks;
  uint64_t x;
  bench_counter *units; /* if not NULL, counts the units done */
  int64_t since;        /* with period_max: the last check point (ns) */
  int64_t pad_;
  double *period_max; /* if not NULL: the longest time between two check
                         points (acquire, yield, release) while holding */
} net_interp;

void net_gil_acquire(net_interp *t, int cls);
void net_gil_release(net_interp *t);
/* With period_max: a check point (start 0: measure the period since the
 * last one) or a new start (1: the thread just got the GIL back, e.g. from
 * a GIL-aware wait). */
void net_period(net_interp *t, int start);
/* Interpret `units` units, yielding at every check interval. */
void net_work(net_interp *t, unsigned units);
/* The interpreted fib(n): one unit per call; stops early (returning 0) once
 * *abort is set (checked at every call). */
uint64_t net_fib(net_interp *t, int n, const int *abort);

/* The GIL statistics over a window: reset at its start (as the holder). */
void net_stats_reset(sp_gil_t *g);

/* "legacy", "fair", "priority", or "nogil" for -1. */
const char *net_policy_name(int policy);

#endif
