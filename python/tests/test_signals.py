"""Signals and blocked calls: Ctrl-C (a signal handler that raises)
interrupts every blocking call of the module in the main thread, as it
interrupts CPython's own lock, and leaves the object as CPython would; a
handler that does not raise lets the call go on, its timeout unchanged.

The library retries EINTR inside its waits, so the module waits in slices
and runs the handlers between them (python/src/module.c, sppy_wait). A call
that could not be interrupted would hang here until ctest's timeout.
"""
import contextlib
import os
import queue
import signal
import subprocess
import sys
import textwrap
import threading
import time
import unittest

import syncplus

from test_api import n_waiting, wait_until

POSIX = hasattr(signal, "setitimer")


class Interrupt(Exception):
    pass


@contextlib.contextmanager
def alarm(after, handler=None, every=0.0):
    """SIGALRM `after` seconds from now (then every `every` seconds);
    the handler raises Interrupt unless another is given."""
    def raise_interrupt(signum, frame):
        raise Interrupt

    old = signal.signal(signal.SIGALRM, handler or raise_interrupt)
    signal.setitimer(signal.ITIMER_REAL, after, every)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0, 0)
        signal.signal(signal.SIGALRM, old)


@unittest.skipUnless(POSIX, "needs signal.setitimer (POSIX)")
class InterruptTests(unittest.TestCase):
    def interrupted(self, call):
        with self.assertRaises(Interrupt):
            with alarm(0.05):  # inside: the signal may come before call()
                call()

    def test_lock(self):
        lk = syncplus.Lock()
        lk.acquire()
        self.interrupted(lk.acquire)
        self.interrupted(lambda: lk.acquire(timeout=600))
        self.assertTrue(lk.locked())
        lk.release()
        self.assertFalse(lk.locked())
        with lk:
            pass

    def test_rlock(self):
        r = syncplus.RLock()
        t = threading.Thread(target=r.acquire)
        t.start()
        t.join()  # another thread owns it
        self.interrupted(r.acquire)
        self.assertEqual(r._recursion_count(), 0)
        self.assertFalse(r._is_owned())

    def test_condition(self):
        for make in (syncplus.Condition,
                     lambda: syncplus.Condition(syncplus.Lock()),
                     lambda: syncplus.Condition(threading.RLock())):
            cond = make()
            with cond:
                if isinstance(cond._lock, syncplus.RLock):
                    cond.acquire()  # level 2, restored after the wait
                self.interrupted(cond.wait)
                self.interrupted(lambda: cond.wait(600))
                self.interrupted(lambda: cond.wait_for(lambda: False))
                self.assertTrue(cond._is_owned())
                self.assertEqual(n_waiting(cond), 0)
                if isinstance(cond._lock, syncplus.RLock):
                    self.assertEqual(cond._recursion_count(), 2)
                    cond.release()
            # still a working condition
            results = []
            t = threading.Thread(
                target=lambda: results.append(self.wait_notified(cond)))
            t.start()
            wait_until(lambda: n_waiting(cond) == 1, "waiting")
            with cond:
                cond.notify()
            t.join()
            self.assertEqual(results, [True])

    @staticmethod
    def wait_notified(cond):
        with cond:
            return cond.wait(600)

    def test_semaphore_event(self):
        s = syncplus.Semaphore(0)
        self.interrupted(s.acquire)
        self.assertEqual(s._value, 0)
        b = syncplus.BoundedSemaphore(1)
        b.acquire()
        self.interrupted(lambda: b.acquire(timeout=600))
        b.release()
        e = syncplus.Event()
        self.interrupted(e.wait)
        self.assertFalse(e.is_set())

    def test_barrier(self):
        b = syncplus.Barrier(2)
        self.interrupted(b.wait)
        # CPython: the interrupted party leaves; the barrier is not broken.
        self.assertEqual(b.n_waiting, 0)
        self.assertFalse(b.broken)
        got = []
        t = threading.Thread(target=lambda: got.append(b.wait()))
        t.start()
        got.append(b.wait())
        t.join()
        self.assertEqual(sorted(got), [0, 1])

    def test_queue(self):
        q = syncplus.Queue(1)
        self.interrupted(q.get)
        item = object()
        q.put(0)
        base = sys.getrefcount(item)
        self.interrupted(lambda: q.put(item))
        self.interrupted(lambda: q.put(item, timeout=600))
        self.assertEqual(sys.getrefcount(item), base)
        self.assertEqual(q.qsize(), 1)
        self.interrupted(q.join)  # one task pending
        q.get()
        q.task_done()
        q.join()
        sq = syncplus.SimpleQueue()
        self.interrupted(sq.get)
        self.assertTrue(sq.empty())

    def test_handler_that_does_not_raise(self):
        # The call goes on: a timeout still passes in full, a blocked call
        # still completes when unblocked.
        ticks = []
        handler = lambda signum, frame: ticks.append(1)  # noqa: E731
        lk = syncplus.Lock()
        lk.acquire()
        with alarm(0.01, handler, every=0.01):
            t0 = time.monotonic()
            self.assertFalse(lk.acquire(timeout=0.2))
            self.assertGreaterEqual(time.monotonic() - t0, 0.2)
            q = syncplus.Queue()
            t0 = time.monotonic()
            self.assertRaises(queue.Empty, q.get, timeout=0.2)
            self.assertGreaterEqual(time.monotonic() - t0, 0.2)
            before = len(ticks)
            t = threading.Thread(
                target=lambda: (wait_until(lambda: len(ticks) > before + 3,
                                           "signals"), lk.release()))
            t.start()
            self.assertTrue(lk.acquire())
            t.join()
        self.assertGreater(len(ticks), 3)

    def test_event_set_and_cleared_by_a_handler(self):
        # set() then clear() while the main thread is between two slices of
        # its wait (the handler runs there): the waiter was waiting when the
        # flag was set, so wait() returns True (CPython issue 13502).
        # (Every 10 ms: a signal handled before wait() began proves nothing,
        # the next one comes while it waits.)
        e = syncplus.Event()

        def handler(signum, frame):
            e.set()
            e.clear()

        with alarm(0.01, handler, every=0.01):
            self.assertTrue(e.wait(30))  # 30: a bound, never reached
        self.assertFalse(e.is_set())

    def test_wakeup_passed_on_when_interrupted(self):
        # The main thread is the oldest waiter. The handler (run by the main
        # thread between slices of its wait, while another thread holds the
        # lock) notifies once, which picks the main thread's waiter, then
        # raises. The main thread leaves with the exception and passes the
        # wakeup it had received to the next waiter: no wakeup is lost.
        lk = syncplus.Lock()
        cond = syncplus.Condition(lk)
        other = []
        hold = threading.Event()
        release = threading.Event()

        def second_waiter():
            with cond:
                t0 = time.monotonic()
                other.append(cond.wait(30))  # 30: a bound, never reached
                other.append(time.monotonic() - t0)

        def holder():
            wait_until(lambda: n_waiting(cond) == 2, "two waiters")
            with lk:
                hold.set()
                release.wait()

        def handler(signum, frame):
            if hold.is_set() and not release.is_set():  # once
                cond.notify()  # the lock is held (by holder): allowed
                release.set()
                raise Interrupt

        t2 = threading.Thread(target=second_waiter)
        th = threading.Thread(target=holder)
        with alarm(0.01, handler, every=0.01):
            with self.assertRaises(Interrupt):
                with cond:
                    # the main thread queues first: the second waiter and
                    # the holder wait for the lock it holds until then
                    t2.start()
                    th.start()
                    cond.wait(600)
        th.join()
        t2.join()
        self.assertEqual(other[0], True)
        self.assertEqual(n_waiting(cond), 0)


def wait_until_blocked(pid):
    """Return once the main thread of process pid sleeps (Linux: its state
    in /proc is S for a few consecutive reads), so that a signal sent now
    interrupts the blocking call rather than arriving before it (on a
    loaded machine the child may not have reached the call yet, and a
    signal handled before the call does not interrupt the wait that
    follows, with CPython's own locks as with these). Elsewhere, a short
    sleep."""
    stat = "/proc/%d/task/%d/stat" % (pid, pid)
    if not os.path.exists(stat):
        time.sleep(0.2)
        return
    seen = 0
    for _ in range(6000):  # at most ~60 s
        try:
            with open(stat) as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            return  # it exited: the caller's checks report it
        seen = seen + 1 if state == "S" else 0
        if seen >= 5:
            return
        time.sleep(0.01)


@unittest.skipUnless(POSIX, "needs POSIX signals")
class CtrlCTests(unittest.TestCase):
    """A real SIGINT to a child interpreter blocked in each call: it dies of
    KeyboardInterrupt, as with CPython's own primitives."""

    CASES = {
        "Lock.acquire": "x = syncplus.Lock(); x.acquire(); READY; "
                        "x.acquire()",
        "RLock.acquire": "x = syncplus.RLock(); "
                         "t = threading.Thread(target=x.acquire); t.start(); "
                         "t.join(); READY; x.acquire()",
        "Condition.wait": "c = syncplus.Condition(); c.acquire(); READY; "
                          "c.wait()",
        "Semaphore.acquire": "s = syncplus.Semaphore(0); READY; s.acquire()",
        "Event.wait": "e = syncplus.Event(); READY; e.wait()",
        "Barrier.wait": "b = syncplus.Barrier(2); READY; b.wait()",
        "Queue.get": "q = syncplus.Queue(); READY; q.get()",
        "Queue.put": "q = syncplus.Queue(1); q.put(1); READY; q.put(2)",
        "Queue.join": "q = syncplus.Queue(); q.put(1); READY; q.join()",
        "SimpleQueue.get": "q = syncplus.SimpleQueue(); READY; q.get()",
    }

    def test_ctrl_c(self):
        for name, code in self.CASES.items():
            with self.subTest(call=name):
                src = "import sys, threading, syncplus\n" + code.replace(
                    "READY", "print('ready', flush=True)").replace("; ", "\n")
                p = subprocess.Popen(
                    [sys.executable, "-c", textwrap.dedent(src)],
                    stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                    text=True)
                try:
                    self.assertEqual(p.stdout.readline().strip(), "ready")
                    wait_until_blocked(p.pid)
                    p.send_signal(signal.SIGINT)
                    out, err = p.communicate(timeout=60)
                finally:
                    if p.poll() is None:
                        p.kill()
                        p.communicate()
                self.assertNotEqual(p.returncode, 0)
                self.assertIn("KeyboardInterrupt", err)


if __name__ == "__main__":
    unittest.main()
