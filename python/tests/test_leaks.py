"""Leak checks: loops of every operation of the module (puts and gets,
waits that time out, are notified or are interrupted, failing calls that
raise), as CPython's regrtest -R checks its own modules: after warm-up
runs, each further run of N operations must leave the number of allocated
memory blocks (sys.getallocatedblocks), the memory traced by tracemalloc,
and on a debug build of CPython the total reference count
(sys.gettotalrefcount) where they were. A leak of one block or reference
per operation would show as N. Counted in operations, not in time.
"""
import gc
import queue
import signal
import sys
import threading
import tracemalloc
import unittest

import syncplus

N = 1000  # operations per run
WARMUP = 3
RUNS = 4
TOTALREFCOUNT = getattr(sys, "gettotalrefcount", None)


def measure():
    gc.collect()
    return (sys.getallocatedblocks(),
            TOTALREFCOUNT() if TOTALREFCOUNT else 0,
            tracemalloc.get_traced_memory()[0])


class LeakTests(unittest.TestCase):
    def check(self, workload):
        for _ in range(WARMUP):
            workload()
        tracemalloc.start()
        try:
            deltas = []
            for _ in range(RUNS):
                before = measure()
                workload()
                after = measure()
                deltas.append(tuple(a - b for a, b in zip(after, before)))
        finally:
            tracemalloc.stop()
        blocks = [d[0] for d in deltas]
        refs = [d[1] for d in deltas]
        traced = [d[2] for d in deltas]
        # Noise from the interpreter's own caches is a few blocks; a leak
        # per operation is N per run, in every run.
        msg = f"blocks {blocks}, refs {refs}, traced bytes {traced}"
        self.assertFalse(all(b > N // 10 for b in blocks), msg)
        self.assertLess(sum(blocks), N // 4, msg)
        self.assertLess(sum(traced), 16 * N, msg)
        if TOTALREFCOUNT:
            self.assertFalse(all(r > 0 for r in refs), msg)
            self.assertLess(sum(refs), N // 4, msg)

    def test_queue_put_get(self):
        def work():
            for make in (syncplus.Queue, lambda: syncplus.Queue(4),
                         syncplus.SimpleQueue):
                q = make()
                for i in range(N // 3):
                    q.put([i])
                    q.get()
        self.check(work)

    def test_queue_full_empty_timeouts(self):
        def work():
            q = syncplus.Queue(1)
            sq = syncplus.SimpleQueue()
            for i in range(N // 4):
                self.assertRaises(queue.Empty, q.get_nowait)
                self.assertRaises(queue.Empty, sq.get, timeout=1e-6)
                q.put(object())
                self.assertRaises(queue.Full, q.put, object(), timeout=1e-6)
                self.assertRaises(ValueError, q.get, timeout=-1)
                q.get()
                q.task_done()
            q.join()
        self.check(work)

    def test_queues_dropped_with_items(self):
        def work():
            for i in range(N // 10):
                q = syncplus.Queue()
                for j in range(10):
                    q.put((i, j))
                sq = syncplus.SimpleQueue()
                sq.put([sq])  # a cycle through the queue
                del q, sq
        self.check(work)

    def test_queue_kinds_maxsize_shutdown(self):
        class Bad:
            def __lt__(self, other):
                raise ValueError("no order")

        def work():
            for make in (syncplus.LifoQueue, syncplus.PriorityQueue):
                q = make(3)
                for i in range(N // 10):
                    q.put((i, [i]))
                    q.put((i, [i]))
                    q.maxsize = 1
                    self.assertRaises(queue.Full, q.put_nowait, (i, [i]))
                    q.maxsize = 3
                    q.get()
                    q.get()
                q.put((0, [0]))
                q.shutdown()
                self.assertRaises(syncplus.ShutDown, q.put, [1])
                q.get()
                self.assertRaises(syncplus.ShutDown, q.get)
            for i in range(N // 10):
                q = syncplus.PriorityQueue()
                q.put(Bad())
                self.assertRaises(ValueError, q.put, Bad())  # queued
                self.assertRaises(ValueError, q.put, Bad())
                self.assertRaises(ValueError, q.get)  # released
                self.assertRaises(TypeError, q.put, [i])  # queued
                q.shutdown(immediate=True)  # releases the rest
                q.join()
        self.check(work)

    def test_queue_between_threads(self):
        def work():
            q = syncplus.Queue(2)

            def consume():
                for _ in range(N):
                    q.get()
                    q.task_done()

            t = threading.Thread(target=consume)
            t.start()
            for i in range(N):
                q.put(str(i))
            q.join()
            t.join()
        self.check(work)

    def test_locks(self):
        def work():
            lk, r = syncplus.Lock(), syncplus.RLock()
            for _ in range(N // 4):
                with lk:
                    self.assertFalse(lk.acquire(timeout=1e-6))
                self.assertRaises(RuntimeError, lk.release)
                with r:
                    r.acquire()
                    state = r._release_save()
                    r._acquire_restore(state)
                    r.release()
                    repr(r)
                self.assertRaises(RuntimeError, r.release)
                self.assertRaises(ValueError, lk.acquire, timeout=-5)
        self.check(work)

    def test_conditions(self):
        def work():
            for make in (syncplus.Condition,
                         lambda: syncplus.Condition(syncplus.Lock()),
                         lambda: syncplus.Condition(threading.RLock())):
                cond = make()
                with cond:
                    for _ in range(N // 6):
                        cond.wait(0)
                        cond.wait(1e-6)  # a timed wait that times out
                        cond.notify()
                        cond.wait_for(lambda: [], 1e-6)
                self.assertRaises(RuntimeError, cond.wait)
        self.check(work)

    def test_condition_ping_pong(self):
        def work():
            cond = syncplus.Condition()
            state = [0]

            def other():
                for _ in range(N // 2):
                    with cond:
                        cond.wait_for(lambda: state[0] == 1)
                        state[0] = 0
                        cond.notify()

            t = threading.Thread(target=other)
            t.start()
            for _ in range(N // 2):
                with cond:
                    cond.wait_for(lambda: state[0] == 0)
                    state[0] = 1
                    cond.notify()
            t.join()
        self.check(work)

    def test_semaphores_events_barriers(self):
        def work():
            s, b = syncplus.Semaphore(1), syncplus.BoundedSemaphore(1)
            e = syncplus.Event()
            bar = syncplus.Barrier(1, action=lambda: None)

            def boom():
                raise KeyError

            broken = syncplus.Barrier(1, action=boom)
            for _ in range(N // 5):
                with s, b:
                    self.assertFalse(s.acquire(timeout=1e-6))
                self.assertRaises(ValueError, b.release)
                e.set()
                e.wait()
                e.clear()
                e.wait(1e-6)
                bar.wait()
                self.assertRaises(KeyError, broken.wait)
                broken.reset()
                repr(bar)
        self.check(work)

    @unittest.skipUnless(hasattr(signal, "setitimer"), "needs setitimer")
    def test_interrupted_waits(self):
        class Interrupt(Exception):
            pass

        def raise_interrupt(signum, frame):
            raise Interrupt

        def work():
            old = signal.signal(signal.SIGALRM, raise_interrupt)
            try:
                lk = syncplus.Lock()
                lk.acquire()
                q = syncplus.Queue(1)
                q.put(0)
                cond = syncplus.Condition()
                for call in [lk.acquire, syncplus.Queue().get,
                             lambda: q.put(object()),
                             lambda: cond.__enter__() and cond.wait()] * 3:
                    try:  # the signal may come before call() starts
                        signal.setitimer(signal.ITIMER_REAL, 0.001)
                        call()
                    except Interrupt:
                        pass
                    if cond._is_owned():
                        cond.release()
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
                signal.signal(signal.SIGALRM, old)
        self.check(work)

    def test_objects_passed_in_are_released(self):
        lock = syncplus.RLock()
        action, timeout = (lambda: None), 12.5
        base = [sys.getrefcount(x) for x in (lock, action, timeout)]
        c = syncplus.Condition(lock)
        b = syncplus.Barrier(2, action, timeout)
        self.assertEqual([sys.getrefcount(x) for x in (lock, action, timeout)],
                         [base[0] + 1, base[1] + 1, base[2] + 1])
        del c, b
        self.assertEqual([sys.getrefcount(x) for x in (lock, action, timeout)],
                         base)

    @unittest.skipUnless(TOTALREFCOUNT, "sys.gettotalrefcount needs a debug "
                         "build of CPython (scripts/test.sh's python stage "
                         "runs this file on python3-dbg)")
    def test_debug_build(self):
        # The checks above also compared sys.gettotalrefcount(); this test
        # only records that they did.
        self.assertTrue(TOTALREFCOUNT)


if __name__ == "__main__":
    unittest.main()
