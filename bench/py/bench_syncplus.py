#!/usr/bin/env python3
"""bench/py/bench_syncplus.py: the seeds' Python-level experiments, in real
Python, syncplus's classes beside CPython's own in one run (issue 17).

    bench_syncplus.py [--mode smoke|quick|full] [--ratios] [--only PREFIX]
                      [--time-ms N] [--warmup-ms N] [--backend NAME]

Cases (each measured for syncplus, backend "syncplus", and for CPython's
class, backend "cpython": docs/benchmarks.md's names; the claims py_cond
and py_queue of bench/claims.txt read them):
  cond_pair       tx_per_s     a producer/consumer pair handing one token
                               through a Condition() (the default, over an
                               RLock): syncplus.Condition vs
                               threading.Condition (the seed: a native
                               condition gave the pair ~3x the rate)
  lock_pair       tx_per_s     the same pair through two Locks (one
                               "empty", one "full"): syncplus.Lock vs
                               threading.Lock (_thread.lock, already C)
  queue_N         items_per_s  N threads (N/2 producers, N/2 consumers,
                               N = 2, 4, 100) through a Queue(64):
                               syncplus.Queue vs queue.Queue (the seed: a
                               native queue ~1.33x queue.Queue)
  fast_lock, fast_rlock, fast_cond, fast_queue
                  ns_per_op    one thread, nothing to wait for: `with lock`,
                               `with rlock`, `with cond: cond.notify()`,
                               q.put(x); q.get() (the uncontended paths)
Output: one CSV line per figure on stdout, "py,backend,case,metric,value",
as bench/run.sh reads them (it runs this once per repeat, among the other
benches, and takes medians; the module is the one of the library's default
backend); with --ratios, the ratio declarations ("#ratio,...") instead;
"#skip,py,any,*,reason" when the module cannot be imported. Within a run
the two implementations of a case are measured back to back, in
alternating order.
"""
import argparse
import os
import queue
import sys
import threading
import time

BENCH = "py"
# (window, warm-up) seconds per figure, by mode
MODES = {"smoke": (0.03, 0.01), "quick": (0.25, 0.05), "full": (1.0, 0.2)}
QUEUE_THREADS = (2, 4, 100)
QUEUE_MAXSIZE = 64


def ratios():
    decl = [("Condition pair: syncplus vs threading", "cond_pair",
             "tx_per_s"),
            ("Lock pair: syncplus vs threading", "lock_pair", "tx_per_s")]
    for n in QUEUE_THREADS:
        decl.append((f"Queue {n} threads: syncplus vs queue.Queue",
                     f"queue_{n}", "items_per_s"))
    for case in ("fast_lock", "fast_rlock", "fast_cond", "fast_queue"):
        decl.append((f"{case} time: syncplus / CPython", case, "ns_per_op"))
    for name, case, metric in decl:
        print(f"#ratio,{BENCH},{name},syncplus,{case},cpython,{case},{metric}")


def measure(counts, window, warmup):
    """Events per second over one window: the sum of counts (a list the
    worker threads bump) read before and after it."""
    time.sleep(warmup)
    c0, t0 = sum(counts), time.perf_counter()
    time.sleep(window)
    c1, t1 = sum(counts), time.perf_counter()
    return (c1 - c0) / (t1 - t0)


def fast_ns(stmt, window):
    """Nanoseconds per call of stmt() in one thread, over about `window`
    seconds (batches of 1000 calls, the median batch)."""
    batches = []
    end = time.perf_counter() + window
    while time.perf_counter() < end or len(batches) < 3:
        t0 = time.perf_counter_ns()
        for _ in range(1000):
            stmt()
        batches.append((time.perf_counter_ns() - t0) / 1000)
    batches.sort()
    return batches[len(batches) // 2]


def fast_cases(mod_lock, mod_rlock, mod_cond, mod_queue, window):
    lk, rl, cv, q = mod_lock(), mod_rlock(), mod_cond(), mod_queue()

    def with_lock():
        with lk:
            pass

    def with_rlock():
        with rl:
            pass

    def notify():
        with cv:
            cv.notify()

    def put_get():
        q.put(1)
        q.get()

    return {"fast_lock": lambda: fast_ns(with_lock, window),
            "fast_rlock": lambda: fast_ns(with_rlock, window),
            "fast_cond": lambda: fast_ns(notify, window),
            "fast_queue": lambda: fast_ns(put_get, window)}


def finish(threads, kick):
    """Stop the workers: kick() unblocks whoever waits for a peer that has
    gone, until every thread has left (bounded: 10000 kicks)."""
    for _ in range(10000):
        if not any(t.is_alive() for t in threads):
            return
        kick()
        for t in threads:
            t.join(0.001)
    raise RuntimeError("bench workers did not stop")


def condition_pair(Condition, window, warmup):
    cv = Condition()
    token = [0]
    stop = [False]
    count = [0]

    def producer():
        while True:
            with cv:
                while token[0] and not stop[0]:
                    cv.wait()
                if stop[0]:
                    cv.notify()
                    return
                token[0] = 1
                cv.notify()

    def consumer():
        while True:
            with cv:
                while not token[0] and not stop[0]:
                    cv.wait()
                if stop[0]:
                    cv.notify()
                    return
                token[0] = 0
                count[0] += 1
                cv.notify()

    threads = [threading.Thread(target=producer),
               threading.Thread(target=consumer)]
    for t in threads:
        t.start()
    rate = measure(count, window, warmup)
    with cv:
        stop[0] = True
        cv.notify_all()

    def kick():
        with cv:
            cv.notify_all()

    finish(threads, kick)
    return rate


def lock_pair(Lock, window, warmup):
    empty, full = Lock(), Lock()
    full.acquire()  # no token yet
    stop = [False]
    count = [0]

    # At the end, finish()'s kicks release the locks too: a release that
    # finds its lock already released then is expected.
    def producer():
        while not stop[0]:
            empty.acquire()
            try:
                full.release()
            except RuntimeError:
                if not stop[0]:
                    raise

    def consumer():
        while not stop[0]:
            full.acquire()
            count[0] += 1
            try:
                empty.release()
            except RuntimeError:
                if not stop[0]:
                    raise

    threads = [threading.Thread(target=producer),
               threading.Thread(target=consumer)]
    for t in threads:
        t.start()
    rate = measure(count, window, warmup)
    stop[0] = True

    def kick():
        for lk in (empty, full):
            try:
                lk.release()
            except RuntimeError:
                pass

    finish(threads, kick)
    return rate


def queue_run(Queue, nthreads, window, warmup):
    q = Queue(QUEUE_MAXSIZE)
    stop = [False]
    half = nthreads // 2
    counts = [0] * half

    def producer():
        put = q.put
        while not stop[0]:
            put(1)

    def consumer(i):
        get = q.get
        while True:
            if get() is None or stop[0]:
                return
            counts[i] += 1

    threads = [threading.Thread(target=producer) for _ in range(half)]
    threads += [threading.Thread(target=consumer, args=(i,))
                for i in range(half)]
    for t in threads:
        t.start()
    rate = measure(counts, window, warmup)
    stop[0] = True

    def kick():
        for _ in range(QUEUE_MAXSIZE):
            try:
                q.get_nowait()  # room for a blocked producer
            except queue.Empty:
                break
        for _ in range(half):
            try:
                q.put_nowait(None)  # wakes a blocked consumer
            except queue.Full:
                break

    finish(threads, kick)
    return rate


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mode", choices=sorted(MODES), default="quick")
    ap.add_argument("--ratios", action="store_true")
    ap.add_argument("--only", default="")
    ap.add_argument("--time-ms", type=float)
    ap.add_argument("--warmup-ms", type=float)
    ap.add_argument("--backend", help="the backend the module must have")
    args = ap.parse_args()
    if args.ratios:
        ratios()
        return 0

    try:
        import syncplus
    except ImportError as e:
        print(f"#skip,{BENCH},any,*,the syncplus module cannot be imported "
              f"({e})")
        return 0
    if args.backend and syncplus.backend != args.backend:
        print(f"bench_syncplus: {syncplus.__file__} is backend "
              f"{syncplus.backend}, not {args.backend}", file=sys.stderr)
        return 2
    window, warmup = MODES[args.mode]
    if args.time_ms is not None:
        window = args.time_ms / 1000
    if args.warmup_ms is not None:
        warmup = args.warmup_ms / 1000
    print(f"bench_syncplus: python {sys.version.split()[0]}, syncplus "
          f"{syncplus.__file__} (backend {syncplus.backend}), switch interval {sys.getswitchinterval()}s, "
          f"load {os.getloadavg()[0]:.2f}", file=sys.stderr)

    cases = [("cond_pair", "tx_per_s",
              lambda C: condition_pair(C, window, warmup),
              syncplus.Condition, threading.Condition),
             ("lock_pair", "tx_per_s",
              lambda L: lock_pair(L, window, warmup),
              syncplus.Lock, threading.Lock)]
    for n in QUEUE_THREADS:
        cases.append((f"queue_{n}", "items_per_s",
                      lambda Q, n=n: queue_run(Q, n, window, warmup),
                      syncplus.Queue, queue.Queue))
    fast_window = window / 5
    ours_fast = fast_cases(syncplus.Lock, syncplus.RLock, syncplus.Condition,
                           syncplus.Queue, fast_window)
    cpython_fast = fast_cases(threading.Lock, threading.RLock,
                              threading.Condition, queue.Queue, fast_window)
    for case in ours_fast:
        cases.append((case, "ns_per_op", lambda f: f(), ours_fast[case],
                      cpython_fast[case]))
    for i, (case, metric, run, ours, cpythons) in enumerate(cases):
        if not case.startswith(args.only):
            continue
        order = [("syncplus", ours), ("cpython", cpythons)]
        if i % 2:
            order.reverse()
        for backend, impl in order:
            value = run(impl)
            print(f"{BENCH},{backend},{case},{metric},{value:.6g}",
                  flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
