/* net: see net.h. */
#include "net.h"

#ifndef _WIN32
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static void net_timeouts_(int fd) {
  struct timeval tv = {NET_IO_TIMEOUT_MS / 1000, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

int net_listen(int *port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0)
    return -1;
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 128) != 0 ||
      getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
    close(fd);
    return -1;
  }
  *port = ntohs(a.sin_port);
  return fd;
}

int net_accept(int lfd, int timeout_ms) {
  struct pollfd p = {lfd, POLLIN, 0};
  int r = poll(&p, 1, timeout_ms);
  if (r == 0)
    return -2;
  if (r < 0)
    return errno == EINTR ? -2 : -1;
  int fd = accept(lfd, NULL, NULL);
  if (fd < 0)
    return errno == EAGAIN || errno == EINTR ? -2 : -1;
  net_timeouts_(fd);
  return fd;
}

int net_connect(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0)
    return -1;
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons((unsigned short)port);
  net_timeouts_(fd);
  if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

int net_send_all(int fd, const void *buf, size_t n) {
  const char *p = buf;
  while (n > 0) {
    ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return -1;
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

int net_recv_until(int fd, char *buf, size_t cap, const char *delim) {
  size_t n = 0, dl = strlen(delim);
  while (n + 1 < cap) {
    ssize_t r = recv(fd, buf + n, cap - 1 - n, 0);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0)
      return -1;
    if (r == 0)
      break;
    n += (size_t)r;
    buf[n] = 0;
    if (n >= dl && memcmp(buf + n - dl, delim, dl) == 0)
      break;
  }
  buf[n] = 0;
  return (int)n;
}

void net_close(int fd) {
  if (fd >= 0)
    close(fd);
}
#endif

static void net_check_(int rc, const char *what) {
  if (rc != SP_OK)
    bench_die(what);
}

/* A check point of a holder: the period since the last one. */
void net_period(net_interp *t, int start) {
  if (t->period_max == NULL)
    return;
  int64_t now = bench_now_ns();
  if (!start && (double)(now - t->since) > *t->period_max)
    *t->period_max = (double)(now - t->since);
  t->since = now;
}

void net_gil_acquire(net_interp *t, int cls) {
  if (t->gil != NULL)
    net_check_(sp_gil_acquire_ex(t->gil, cls, SP_FOREVER), "gil acquire");
  net_period(t, 1);
}

void net_gil_release(net_interp *t) {
  net_period(t, 0);
  if (t->gil != NULL)
    net_check_(sp_gil_release(t->gil), "gil release");
}

static void net_tick_(net_interp *t, unsigned units) {
  t->ticks += units;
  if (t->ticks >= NET_CHECK_UNITS) {
    if (t->units != NULL)
      bench_count(t->units, t->ticks);
    t->ticks = 0;
    net_period(t, 0);
    if (t->gil != NULL)
      net_check_(sp_gil_yield(t->gil), "gil yield");
    net_period(t, 1);
  }
}

void net_work(net_interp *t, unsigned units) {
  while (units > 0) {
    unsigned u = NET_CHECK_UNITS - t->ticks;
    if (u > units)
      u = units;
    t->x = bench_work(t->x, u);
    units -= u;
    net_tick_(t, u);
  }
}

uint64_t net_fib(net_interp *t, int n, const int *abort) {
  if (bench_load(abort))
    return 0;
  t->x = bench_work(t->x, 1);
  net_tick_(t, 1);
  if (n < 2)
    return (uint64_t)n;
  return net_fib(t, n - 1, abort) + net_fib(t, n - 2, abort);
}

void net_stats_reset(sp_gil_t *g) {
  if (g == NULL)
    return;
  net_check_(sp_gil_acquire_ex(g, SP_GIL_CPU, SP_FOREVER), "gil acquire");
  net_check_(sp_gil_stats_reset(g), "gil stats reset");
  net_check_(sp_gil_release(g), "gil release");
}

const char *net_policy_name(int policy) {
  switch (policy) {
  case SP_GIL_LEGACY:
    return "legacy";
  case SP_GIL_FAIR:
    return "fair";
  case SP_GIL_PRIORITY:
    return "priority";
  default:
    return "nogil";
  }
}
