"""fork(): the module's objects after os.fork(), as CPython's own behave.

CPython does not reinitialise a user's locks in a forked child: a lock
another thread held at the fork stays locked (and the child calls
_at_fork_reinit() on the objects it knows are stale, as threading does for
its own). An RLock owned by the forking thread is still that thread's in
the child. Condition and Event have _at_fork_reinit() like CPython's; the
forking thread becomes the main thread of the child (it runs the signal
handlers), also when it was not the parent's main thread. Every child is
bounded by alarm(60) and reports through a pipe.
"""
import os
import signal
import threading
import traceback
import unittest

import syncplus

from test_api import n_waiting, wait_until

HAS_FORK = hasattr(os, "fork")


def in_child(fn):
    """Run fn() in a forked child; return "ok" or the child's traceback."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        os.close(r)
        signal.alarm(60)  # a hung child dies (SIGALRM's default action)
        try:
            fn()
            msg = "ok"
        except BaseException:  # noqa: BLE001 - reported to the parent
            msg = traceback.format_exc()
        os.write(w, msg.encode())
        os._exit(0)
    os.close(w)
    chunks = []
    while True:
        b = os.read(r, 65536)
        if not b:
            break
        chunks.append(b)
    os.close(r)
    _, status = os.waitpid(pid, 0)
    out = b"".join(chunks).decode()
    if not out:
        out = f"child died (wait status {status})"
    return out


class Holder:
    """A thread that takes something and keeps it until told to stop."""

    def __init__(self, take, give_back):
        self.stop = threading.Event()
        self.has = threading.Event()

        def run():
            take()
            self.has.set()
            self.stop.wait()
            give_back()

        self.thread = threading.Thread(target=run)
        self.thread.start()
        self.has.wait()

    def finish(self):
        self.stop.set()
        self.thread.join()


@unittest.skipUnless(HAS_FORK, "needs os.fork")
class ForkTests(unittest.TestCase):
    def assertChildOk(self, fn):
        self.assertEqual(in_child(fn), "ok")

    def test_lock_held_by_another_thread(self):
        lk = syncplus.Lock()
        h = Holder(lk.acquire, lk.release)
        try:
            def child():
                assert lk.locked()  # as CPython's: the holder is gone
                assert not lk.acquire(timeout=0.01)
                lk._at_fork_reinit()
                assert not lk.locked()
                with lk:
                    assert lk.locked()
            self.assertChildOk(child)
        finally:
            h.finish()

    def test_rlock_owned_by_the_forking_thread(self):
        r = syncplus.RLock()
        r.acquire()
        r.acquire()
        try:
            def child():
                assert r._is_owned()
                assert r._recursion_count() == 2
                r.release()
                r.release()
                got = []
                t = threading.Thread(target=lambda: got.append(
                    r.acquire(timeout=30) and (r.release() or True)))
                t.start()
                t.join()
                assert got == [True], got
            self.assertChildOk(child)
        finally:
            r.release()
            r.release()

    def test_rlock_owned_by_another_thread(self):
        r = syncplus.RLock()
        h = Holder(r.acquire, r.release)
        try:
            def child():
                assert not r._is_owned()
                assert not r.acquire(timeout=0.01)
                r._at_fork_reinit()
                assert r.acquire(timeout=30)
                assert r._recursion_count() == 1
                r.release()
            self.assertChildOk(child)
        finally:
            h.finish()

    def test_condition_with_a_waiter_of_the_parent(self):
        cond = syncplus.Condition()
        done = []

        def waiter():
            with cond:
                done.append(cond.wait(60))

        t = threading.Thread(target=waiter)
        t.start()
        wait_until(lambda: n_waiting(cond) == 1, "waiting")
        try:
            def child():
                # The waiting thread does not exist here.
                assert n_waiting(cond) == 1
                cond._at_fork_reinit()
                assert n_waiting(cond) == 0
                got = []

                def w():
                    with cond:
                        got.append(cond.wait(30))

                t2 = threading.Thread(target=w)
                t2.start()
                wait_until(lambda: n_waiting(cond) == 1, "child waiter")
                with cond:
                    cond.notify()
                t2.join()
                assert got == [True], got
            self.assertChildOk(child)
        finally:
            with cond:
                cond.notify()
            t.join()
        self.assertEqual(done, [True])

    def test_event_at_fork_reinit(self):
        e = syncplus.Event()
        e.set()

        def child():
            e._at_fork_reinit()
            assert e.is_set() and e.wait(0)
            e.clear()
            t = threading.Timer(0.01, e.set)
            t.start()
            assert e.wait(30)
            t.join()
        self.assertChildOk(child)

    def test_everything_works_in_the_child(self):
        def child():
            q = syncplus.Queue(4)
            b = syncplus.Barrier(3)
            sem = syncplus.BoundedSemaphore(2)
            total = []

            def worker():
                b.wait()
                while True:
                    x = q.get()
                    if x is None:
                        q.task_done()
                        return
                    with sem:
                        total.append(x)
                    q.task_done()

            ts = [threading.Thread(target=worker) for _ in range(2)]
            for t in ts:
                t.start()
            b.wait()
            for i in range(1000):
                q.put(i)
            q.put(None)
            q.put(None)
            q.join()
            for t in ts:
                t.join()
            assert sorted(total) == list(range(1000))
        self.assertChildOk(child)

    def test_forking_thread_runs_the_signal_handlers(self):
        # Fork from a thread that is not the parent's main thread: in the
        # child it is the main thread, so a handler that raises interrupts
        # its blocked acquire (as with CPython's locks).
        result = []

        def fork_here():
            def child():
                class Interrupt(Exception):
                    pass

                def handler(signum, frame):
                    raise Interrupt

                assert threading.current_thread() is threading.main_thread()
                signal.signal(signal.SIGUSR1, handler)
                lk = syncplus.Lock()
                lk.acquire()
                threading.Timer(0.05, os.kill,
                                (os.getpid(), signal.SIGUSR1)).start()
                try:
                    lk.acquire()
                except Interrupt:
                    return
                raise AssertionError("not interrupted")
            result.append(in_child(child))

        t = threading.Thread(target=fork_here)
        t.start()
        t.join()
        self.assertEqual(result, ["ok"])


if __name__ == "__main__":
    unittest.main()
