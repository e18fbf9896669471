"""The syncplus module's own tests: CPython compatibility beyond lock_tests
(arguments, results and exceptions compared with threading's and queue's
own classes, reprs, subclassing, weak references), its references to the
objects it stores, and the promises it makes beyond CPython's (no wakeup
lost to a timeout race, timeouts never early, waits release the GIL).
Bounds are counted in events, never in time, except "did not return before
its timeout".
"""
import gc
import math
import queue
import re
import sys
import threading
import time
import unittest
import weakref

import syncplus

SHORT = 0.05  # seconds: a timeout that is meant to pass


def outcome(fn, *args, **kwargs):
    """("ok", result) or ("raise", exception type)."""
    try:
        return ("ok", fn(*args, **kwargs))
    except Exception as e:  # noqa: BLE001 - compared, not handled
        return ("raise", type(e))


def n_waiting(cond):
    """The number of threads waiting on a Condition, from its repr."""
    return int(re.search(r", (\d+)\)>$", repr(cond)).group(1))


def wait_until(pred, what, limit=100000):
    """Poll pred() (yielding the CPU) until it is true: bounded in polls."""
    for _ in range(limit):
        if pred():
            return
        time.sleep(0.0005)
    raise AssertionError(f"never happened: {what}")


class CompatibilityTests(unittest.TestCase):
    """Each call made on syncplus's class and on CPython's gives the same
    result, or raises the same exception type."""

    def same(self, make_sp, make_py, call, *args, **kwargs):
        got = outcome(call, make_sp(), *args, **kwargs)
        want = outcome(call, make_py(), *args, **kwargs)
        self.assertEqual(got, want, f"{call} {args} {kwargs}")

    def test_lock_acquire_arguments(self):
        release = lambda lk: lk.release() if lk.locked() else None  # noqa
        cases = [((), {}), ((False,), {}), ((True, 0.01), {}),
                 ((), {"timeout": -1}), ((), {"timeout": -1.0}),
                 ((), {"timeout": -100}), ((), {"timeout": -0.5}),
                 ((), {"timeout": 1e100}), ((), {"timeout": 2 ** 70}),
                 ((), {"timeout": syncplus.TIMEOUT_MAX}),
                 ((), {"timeout": syncplus.TIMEOUT_MAX + 1}),
                 ((), {"timeout": math.nan}), ((), {"timeout": None}),
                 ((), {"timeout": "x"}), ((), {"blocking": "x"}),
                 ((None,), {}), ((0, 0), {}), ((0,), {"timeout": -1}),
                 ((1, 2, 3), {}), ((), {"x": 1}), ((), {"timeout": True}),
                 ((), {"timeout": 0})]
        for sp_type, py_type in ((syncplus.Lock, threading.Lock),
                                 (syncplus.RLock, threading.RLock)):
            for args, kwargs in cases:
                with self.subTest(type=sp_type, args=args, kwargs=kwargs):
                    a, b = sp_type(), py_type()
                    got = outcome(a.acquire, *args, **kwargs)
                    want = outcome(b.acquire, *args, **kwargs)
                    self.assertEqual(got, want)

    def test_misuse(self):
        def acquired(make):
            def f():
                x = make()
                x.acquire()
                return x
            return f

        S, T, Q = syncplus, threading, queue
        cases = [
            # (syncplus factory, CPython factory, call, args, kwargs)
            (S.Lock, T.Lock, lambda x: x.release(), (), {}),
            (S.RLock, T.RLock, lambda x: x.release(), (), {}),
            (S.RLock, T.RLock, lambda x: x._release_save(), (), {}),
            (S.RLock, T.RLock, lambda x, s: x._acquire_restore(s), (1,), {}),
            (S.RLock, T.RLock, lambda x, s: x._acquire_restore(s), ((1,),),
             {}),
            (S.RLock, T.RLock, lambda x: x._is_owned(), (), {}),
            (lambda: S.Semaphore(2), lambda: T.Semaphore(2),
             lambda x, *a, **k: x.acquire(*a, **k), (False, 1), {}),
            (lambda: S.Semaphore(2), lambda: T.Semaphore(2),
             lambda x, *a, **k: x.release(*a, **k), (0,), {}),
            (lambda: S.Semaphore(2), lambda: T.Semaphore(2),
             lambda x, *a, **k: x.release(*a, **k), (1.5,), {}),
            (lambda: S.Semaphore(2), lambda: T.Semaphore(2),
             lambda x, **k: x.acquire(**k), (), {"timeout": -1}),
            (lambda: S.Semaphore(2), lambda: T.Semaphore(2),
             lambda x, **k: x.acquire(**k), (), {"timeout": "x"}),
            (lambda: S.Semaphore(0), lambda: T.Semaphore(0),
             lambda x, **k: x.acquire(**k), (), {"timeout": -1}),
            (lambda: S.Semaphore(0), lambda: T.Semaphore(0),
             lambda x, **k: x.acquire(**k), (), {"timeout": 0.01}),
            (lambda: S.Semaphore(0), lambda: T.Semaphore(0),
             lambda x, *a: x.acquire(*a), (False,), {}),
            (S.BoundedSemaphore, T.BoundedSemaphore, lambda x: x.release(),
             (), {}),
            (lambda: S.BoundedSemaphore(0), lambda: T.BoundedSemaphore(0),
             lambda x: x.release(), (), {}),
            (lambda: S.BoundedSemaphore(0), lambda: T.BoundedSemaphore(0),
             lambda x: x.acquire(timeout=0.01), (), {}),
            (S.Event, T.Event, lambda x, *a: x.wait(*a), (-1,), {}),
            (S.Event, T.Event, lambda x, *a: x.wait(*a), (0,), {}),
            (S.Event, T.Event, lambda x, *a: x.wait(*a), (math.nan,), {}),
            (S.Event, T.Event, lambda x, *a: x.wait(*a), ("x",), {}),
            (S.Event, T.Event, lambda x, *a: x.wait(*a), (1e100,), {}),
            (S.Condition, T.Condition, lambda x: x.wait(), (), {}),
            (S.Condition, T.Condition, lambda x: x.notify(), (), {}),
            (S.Condition, T.Condition, lambda x: x.notify_all(), (), {}),
            (S.Condition, T.Condition, lambda x: x.wait_for(bool), (), {}),
            (acquired(S.Condition), acquired(T.Condition),
             lambda x, *a: x.wait(*a), (-1,), {}),
            (acquired(S.Condition), acquired(T.Condition),
             lambda x, *a: x.wait(*a), (0,), {}),
            (acquired(S.Condition), acquired(T.Condition),
             lambda x, *a: x.wait(*a), (math.nan,), {}),
            (acquired(S.Condition), acquired(T.Condition),
             lambda x, *a: x.wait(*a), (1e100,), {}),
            (acquired(S.Condition), acquired(T.Condition),
             lambda x, *a: x.wait(*a), ("x",), {}),
            (acquired(S.Condition), acquired(T.Condition),
             lambda x, *a: x.notify(*a), (-5,), {}),
            (acquired(S.Condition), acquired(T.Condition),
             lambda x, *a: x.wait_for(lambda: 0, *a), (-1,), {}),
            (acquired(S.Condition), acquired(T.Condition),
             lambda x, *a: x.wait_for(lambda: 7, *a), (-1,), {}),
            (acquired(S.Condition), acquired(T.Condition),
             lambda x, *a: x.wait_for(lambda: "", *a), (0.01,), {}),
            (acquired(S.Condition), acquired(T.Condition),
             lambda x, *a: x.wait_for(lambda: 0, *a), ("x",), {}),
            (lambda: S.Barrier(1, timeout=-1), lambda: T.Barrier(1, timeout=-1),
             lambda x, *a: x.wait(*a), (), {}),
            (lambda: S.Barrier(2, timeout=-1), lambda: T.Barrier(2, timeout=-1),
             lambda x, *a: x.wait(*a), (), {}),
            (lambda: S.Barrier(2), lambda: T.Barrier(2),
             lambda x, *a: x.wait(*a), (0.01,), {}),
            (lambda: S.Barrier(2), lambda: T.Barrier(2),
             lambda x, *a: x.wait(*a), ("x",), {}),
            (lambda: S.Queue(2), lambda: Q.Queue(2),
             lambda x, **k: x.put(1, **k), (), {"timeout": -1}),
            (lambda: S.Queue(2), lambda: Q.Queue(2),
             lambda x, **k: x.get(**k), (), {"timeout": -1}),
            (lambda: S.Queue(2), lambda: Q.Queue(2),
             lambda x, *a: x.get(*a), (False, -1), {}),
            (lambda: S.Queue(2), lambda: Q.Queue(2),
             lambda x, *a: x.get(*a), (True, 0), {}),
            (lambda: S.Queue(2), lambda: Q.Queue(2),
             lambda x: x.task_done(), (), {}),
            (lambda: S.Queue(2), lambda: Q.Queue(2),
             lambda x: x.get(timeout=1e100), (), {}),
            (lambda: S.Queue(), lambda: Q.Queue(),
             lambda x, **k: x.put(1, **k), (), {"timeout": -1}),
            (lambda: S.Queue(1), lambda: Q.Queue(1),
             lambda x: (x.put(1), x.get(timeout=1e100))[1], (), {}),
            (lambda: S.Queue(1), lambda: Q.Queue(1),
             lambda x: (x.put(1), x.put(2, timeout=0))[1], (), {}),
            (lambda: S.Queue(1), lambda: Q.Queue(1),
             lambda x: (x.put(1), x.put(2, False, -5))[1], (), {}),
            (lambda: S.Queue(1), lambda: Q.Queue(1),
             lambda x: (x.put(1), x.full(), x.empty(), x.qsize(),
                        x.maxsize), (), {}),
            (lambda: S.Queue(-3), lambda: Q.Queue(-3),
             lambda x: (x.put(1), x.full(), x.maxsize), (), {}),
            (S.SimpleQueue, Q.SimpleQueue, lambda x, **k: x.get(**k), (),
             {"timeout": -1}),
            (S.SimpleQueue, Q.SimpleQueue, lambda x, **k: x.get(**k), (),
             {"timeout": 1e100}),
            (S.SimpleQueue, Q.SimpleQueue, lambda x, *a: x.get(*a),
             (False, 5), {}),
            (S.SimpleQueue, Q.SimpleQueue, lambda x, **k: x.get(**k), (),
             {"timeout": math.nan}),
            (S.SimpleQueue, Q.SimpleQueue,
             lambda x: (x.put(1, False, -4), x.get()), (), {}),
            (S.SimpleQueue, Q.SimpleQueue, lambda x: x.get(block=0), (), {}),
            (S.SimpleQueue, Q.SimpleQueue, lambda x: x.put(), (), {}),
            (S.SimpleQueue, lambda: Q.SimpleQueue(),
             lambda x: type(x)(1), (), {}),
        ]
        if hasattr(T.RLock(), "_recursion_count"):  # 3.11.7+, not 3.11.2
            cases += [
                (S.RLock, T.RLock, lambda x: x._recursion_count(), (), {}),
                (acquired(S.RLock), acquired(T.RLock),
                 lambda x: x._recursion_count(), (), {})]
        for make_sp, make_py, call, args, kwargs in cases:
            with self.subTest(call=call, args=args, kwargs=kwargs,
                              sp=make_sp):
                self.same(make_sp, make_py, call, *args, **kwargs)

    def test_constructors(self):
        S, T = syncplus, threading
        for sp_type, py_type, args in [
                (S.Semaphore, T.Semaphore, (-1,)),
                (S.Semaphore, T.Semaphore, (-sys.maxsize,)),
                (S.BoundedSemaphore, T.BoundedSemaphore, (-1,)),
                (S.Condition, T.Condition, (object(),)),
                (S.Condition, T.Condition, (None,)),
                (S.Event, T.Event, (1,)),
                (S.Barrier, T.Barrier, ()),
                (S.Queue, queue.Queue, (1, 2)),
                (S.SimpleQueue, queue.SimpleQueue, (1,))]:
            with self.subTest(type=sp_type, args=args):
                self.assertEqual(outcome(lambda: type(sp_type(*args))),
                                 outcome(lambda: type(py_type(*args)))
                                 if outcome(py_type, *args)[0] == "raise"
                                 else ("ok", sp_type))

    def test_deviations(self):
        # Where CPython accepts nonsense that then misbehaves, syncplus
        # refuses it (documented in python/README.md).
        self.assertRaises(ValueError, syncplus.Barrier, 0)
        self.assertRaises(ValueError, syncplus.Barrier, -1)
        self.assertRaises(TypeError, syncplus.Barrier, 1.5)
        self.assertRaises(TypeError, syncplus.Queue, "x")
        self.assertRaises(TypeError, syncplus.Queue, 1.5)
        self.assertRaises(TypeError, syncplus.Semaphore, 1.5)
        self.assertRaises(ValueError, syncplus.Queue().get, timeout=math.nan)
        c = syncplus.Condition()
        with c:
            self.assertRaises(TypeError, c.notify, 1.5)
        # The library's values are ints.
        self.assertRaises(OverflowError, syncplus.Semaphore, 2 ** 31)
        s = syncplus.Semaphore(2 ** 31 - 1)
        self.assertRaises(OverflowError, s.release)
        self.assertEqual(s._value, 2 ** 31 - 1)
        q = syncplus.Queue(3)
        with self.assertRaises(TypeError):
            q.maxsize = 1.5
        with self.assertRaises(AttributeError):
            del q.maxsize
        self.assertEqual(q.maxsize, 3)

    def test_exceptions_are_cpythons(self):
        self.assertIs(syncplus.Empty, queue.Empty)
        self.assertIs(syncplus.Full, queue.Full)
        self.assertIs(syncplus.BrokenBarrierError, threading.BrokenBarrierError)
        self.assertRaises(queue.Empty, syncplus.Queue().get_nowait)
        self.assertRaises(queue.Empty, syncplus.SimpleQueue().get_nowait)
        q = syncplus.Queue(1)
        q.put(1)
        self.assertRaises(queue.Full, q.put_nowait, 2)
        b = syncplus.Barrier(2)
        b.abort()
        self.assertRaises(threading.BrokenBarrierError, b.wait)

    def test_deprecated_aliases(self):
        e = syncplus.Event()
        with self.assertWarns(DeprecationWarning):
            self.assertFalse(e.isSet())
        c = syncplus.Condition()
        with c, self.assertWarns(DeprecationWarning):
            c.notifyAll()

    def test_module(self):
        self.assertIn(syncplus.backend, ("sem", "pthread", "win32",
                                         "win32-sem"))
        self.assertEqual(syncplus.TIMEOUT_MAX, threading.TIMEOUT_MAX)
        self.assertRegex(syncplus.__version__, r"^\d+\.\d+\.\d+$")
        self.assertEqual(queue.Queue[int].__origin__, queue.Queue)
        self.assertEqual(syncplus.Queue[int].__origin__, syncplus.Queue)
        self.assertEqual(syncplus.SimpleQueue[int].__origin__,
                         syncplus.SimpleQueue)


class ReprTests(unittest.TestCase):
    def test_reprs(self):
        lk = syncplus.Lock()
        self.assertRegex(repr(lk), r"^<unlocked syncplus\.Lock object at 0x")
        lk.acquire()
        self.assertRegex(repr(lk), r"^<locked syncplus\.Lock object at 0x")
        r = syncplus.RLock()
        self.assertRegex(repr(r), r"^<unlocked syncplus\.RLock object "
                                  r"owner=0 count=0 at 0x[0-9a-f]+>$")
        r.acquire()
        r.acquire()
        self.assertRegex(repr(r), rf"^<locked syncplus\.RLock object "
                                  rf"owner={threading.get_ident()} count=2 "
                                  rf"at 0x[0-9a-f]+>$")
        c = syncplus.Condition(r)
        self.assertEqual(repr(c), f"<Condition({r!r}, 0)>")
        self.assertRegex(repr(syncplus.Semaphore(3)),
                         r"^<syncplus\.Semaphore at 0x[0-9a-f]+: value=3>$")
        self.assertRegex(repr(syncplus.BoundedSemaphore(3)),
                         r"^<syncplus\.BoundedSemaphore at 0x[0-9a-f]+: "
                         r"value=3/3>$")
        e = syncplus.Event()
        self.assertRegex(repr(e), r"^<syncplus\.Event at 0x[0-9a-f]+: unset>$")
        b = syncplus.Barrier(3)
        self.assertRegex(repr(b), r"^<syncplus\.Barrier at 0x[0-9a-f]+: "
                                  r"waiters=0/3>$")
        self.assertRegex(repr(syncplus.Queue()),
                         r"^<syncplus\.Queue object at 0x")

    def test_subclass_reprs(self):
        class MySem(syncplus.BoundedSemaphore):
            pass

        class MyLock(syncplus.Lock):
            pass

        self.assertRegex(repr(MySem(2)),
                         r"^<test_api\.ReprTests\.test_subclass_reprs\.<locals>"
                         r"\.MySem at 0x[0-9a-f]+: value=2/2>$")
        self.assertRegex(repr(MyLock()), r"^<unlocked MyLock object at 0x")


class SubclassTests(unittest.TestCase):
    def test_subclasses_with_their_own_init(self):
        class JobQueue(syncplus.Queue):
            def __init__(self, name, maxsize):
                super().__init__(maxsize)
                self.name = name

        q = JobQueue("jobs", 1)
        q.put(1)
        self.assertTrue(q.full())
        self.assertEqual((q.name, q.maxsize), ("jobs", 1))

        class Flag(syncplus.Event):
            def __init__(self, initially):
                super().__init__()
                if initially:
                    self.set()

        self.assertTrue(Flag(True).is_set())

        class Gate(syncplus.Barrier):
            pass

        self.assertEqual(Gate(1).wait(), 0)

        class Forgetful(syncplus.Condition):
            def __init__(self):
                pass  # never calls Condition.__init__

        with self.assertRaises(RuntimeError):
            Forgetful().acquire()

    def test_condition_honours_overridden_lock_methods(self):
        calls = []

        class CountingRLock(syncplus.RLock):
            def acquire(self, *args, **kwargs):
                calls.append("acquire")
                return super().acquire(*args, **kwargs)

        # As CPython's: Condition.acquire is the lock's own (overridden)
        # acquire; `with` uses the lock's __enter__.
        c = syncplus.Condition(CountingRLock())
        self.assertTrue(c.acquire())
        self.assertFalse(c.wait(0))
        c.release()
        self.assertEqual(calls, ["acquire"])

    def test_reinit(self):
        q = syncplus.Queue(1)
        q.put(object())
        q.__init__(2)
        self.assertEqual((q.qsize(), q.maxsize), (0, 2))
        s = syncplus.Semaphore(1)
        s.__init__(5)
        self.assertEqual(s._value, 5)

    def test_weakrefs(self):
        for make in (syncplus.Lock, syncplus.RLock, syncplus.Condition,
                     syncplus.Semaphore, syncplus.BoundedSemaphore,
                     syncplus.Event, lambda: syncplus.Barrier(2),
                     syncplus.Queue, syncplus.SimpleQueue):
            with self.subTest(make=make):
                x = make()
                ref = weakref.ref(x)
                self.assertIs(ref(), x)
                del x
                gc.collect()
                self.assertIsNone(ref())


class QueueReferenceTests(unittest.TestCase):
    def test_put_get_keep_one_reference(self):
        for make in (syncplus.Queue, lambda: syncplus.Queue(2),
                     syncplus.SimpleQueue):
            q = make()
            item = object()
            base = sys.getrefcount(item)
            q.put(item)
            self.assertEqual(sys.getrefcount(item), base + 1)
            self.assertIs(q.get(), item)
            self.assertEqual(sys.getrefcount(item), base)

    def test_failed_puts_keep_nothing(self):
        q = syncplus.Queue(1)
        q.put(0)
        item = object()
        base = sys.getrefcount(item)
        for call in (lambda: q.put_nowait(item),
                     lambda: q.put(item, timeout=0.001),
                     lambda: q.put(item, timeout=0)):
            self.assertRaises(queue.Full, call)
        self.assertRaises(ValueError, q.put, item, timeout=-1)
        self.assertEqual(sys.getrefcount(item), base)

    def test_dropped_queue_releases_its_items(self):
        class Item:
            pass

        for make in (syncplus.Queue, syncplus.SimpleQueue):
            q = make()
            refs = []
            for _ in range(100):
                it = Item()
                refs.append(weakref.ref(it))
                q.put(it)
            del it, q
            self.assertTrue(all(r() is None for r in refs))

    def test_cycles_through_items_are_collected(self):
        class Item:
            pass

        for make in (syncplus.Queue, syncplus.SimpleQueue):
            q = make()
            it = Item()
            it.q = q
            q.put(it)
            q.put(q)
            ref = weakref.ref(q)
            del q, it
            gc.collect()
            self.assertIsNone(ref(), make)

    def test_cycles_through_conditions_and_barriers_are_collected(self):
        class Lock(syncplus.RLock):
            pass

        lock = Lock()
        c = syncplus.Condition(lock)
        lock.cond = c
        ref_c = weakref.ref(c)
        b = syncplus.Barrier(1, action=lambda: b)
        ref_b = weakref.ref(b)
        del c, lock, b
        gc.collect()
        self.assertIsNone(ref_c())
        self.assertIsNone(ref_b())

    def test_items_travel_in_order_between_threads(self):
        # FIFO for one producer; every item arrives exactly once.
        for make in (lambda: syncplus.Queue(8), syncplus.SimpleQueue):
            q = make()
            n = 20000
            got = []

            def consume():
                for _ in range(n):
                    got.append(q.get())

            t = threading.Thread(target=consume)
            t.start()
            for i in range(n):
                q.put(i)
            t.join()
            self.assertEqual(got, list(range(n)))

    def test_join_and_task_done(self):
        q = syncplus.Queue()
        done = []

        def worker():
            while True:
                x = q.get()
                if x is None:
                    q.task_done()
                    return
                done.append(x)
                q.task_done()

        ts = [threading.Thread(target=worker) for _ in range(4)]
        for t in ts:
            t.start()
        for i in range(1000):
            q.put(i)
        q.join()
        self.assertEqual(sorted(done), list(range(1000)))
        for _ in ts:
            q.put(None)
        q.join()
        for t in ts:
            t.join()
        self.assertRaises(ValueError, q.task_done)


class Key:
    """An item ordered by `prio` alone (Python's `<` only); `tag` tells
    equal ones apart."""

    def __init__(self, prio, tag=None):
        self.prio, self.tag = prio, tag

    def __lt__(self, other):
        return self.prio < other.prio

    def __repr__(self):
        return f"Key({self.prio}, {self.tag})"


class Boom(Exception):
    pass


class Touchy:
    """Compares by value, but raises Boom against any other Touchy whose
    value is in `bad` (or when `bad` holds "all")."""
    bad = set()

    def __init__(self, v):
        self.v = v

    def __lt__(self, other):
        if "all" in Touchy.bad or {self.v, other.v} & Touchy.bad:
            raise Boom(self.v, other.v)
        return self.v < other.v


class QueueKindTests(unittest.TestCase):
    def test_lifo_order(self):
        q = syncplus.LifoQueue()
        for i in range(5):
            q.put(i)
        self.assertEqual([q.get() for _ in range(5)], [4, 3, 2, 1, 0])

    def test_priority_order_and_fifo_among_equals(self):
        q = syncplus.PriorityQueue()
        keys = [Key(1, "a"), Key(0, "b"), Key(1, "c"), Key(0, "d"),
                Key(2, "e"), Key(1, "f"), Key(0, "g")]
        for k in keys:
            q.put(k)
        got = [q.get_nowait().tag for _ in keys]
        self.assertEqual(got, ["b", "d", "g", "a", "c", "f", "e"])
        for i in (5, 3, 9, 1, 7, 3):
            q.put((i, str(i)))
        self.assertEqual([q.get()[0] for _ in range(6)], [1, 3, 3, 5, 7, 9])

    def test_priority_same_results_as_cpython(self):
        import random
        rnd = random.Random(7)
        data = [rnd.randrange(50) for _ in range(500)]
        sp, py = syncplus.PriorityQueue(), queue.PriorityQueue()
        out_sp, out_py = [], []
        for i, x in enumerate(data):
            sp.put(x)
            py.put(x)
            if i % 3 == 2:
                out_sp.append(sp.get())
                out_py.append(py.get())
        while not py.empty():
            out_sp.append(sp.get_nowait())
            out_py.append(py.get_nowait())
        self.assertTrue(sp.empty())
        self.assertEqual(out_sp, out_py)

    def test_priority_put_comparison_raises(self):
        # The put's exception propagates; the item is queued and counted
        # (as CPython's heappush leaves it in its list).
        Touchy.bad = set()
        q = syncplus.PriorityQueue()
        a, b, x = Touchy(1), Touchy(3), Touchy(2)
        q.put(a)
        q.put(b)
        Touchy.bad = {2}
        with self.assertRaises(Boom):
            q.put(x)
        self.assertEqual(q.qsize(), 3)
        Touchy.bad = set()
        self.assertEqual([q.get().v for _ in range(3)], [1, 2, 3])
        for _ in range(3):
            q.task_done()
        q.join()  # every put counted once
        self.assertRaises(ValueError, q.task_done)

    def test_priority_get_comparison_raises(self):
        # The get's exception propagates; the item it took is released and
        # counted done; every other item is still there, exactly once.
        Touchy.bad = set()
        q = syncplus.PriorityQueue()
        items = [Touchy(v) for v in (1, 2, 3, 4, 5)]
        for it in items:
            q.put(it)
        taken = weakref.ref(items[0])
        del it
        Touchy.bad = {"all"}
        with self.assertRaises(Boom):
            q.get()
        Touchy.bad = set()
        del items[0]
        self.assertIsNone(taken())  # released, not kept nor leaked
        self.assertEqual(q.qsize(), 4)
        self.assertEqual(sorted(q.get().v for _ in range(4)), [2, 3, 4, 5])
        for _ in range(4):
            q.task_done()
        q.join()  # the lost item was counted done
        self.assertRaises(ValueError, q.task_done)

    def test_priority_comparison_that_releases_the_gil(self):
        # __lt__ lets other threads run (sleep) while the comparing thread
        # holds the queue's mutex: the other threads' calls must neither
        # deadlock (they wait for the mutex without the GIL) nor corrupt
        # the queue.
        class Slow:
            def __init__(self, v):
                self.v = v

            def __lt__(self, other):
                time.sleep(0)
                return self.v < other.v

        q = syncplus.PriorityQueue(8)
        n, producers = 300, 3
        got = []

        def produce(k):
            for i in range(n):
                q.put(Slow(i * producers + k))

        def consume():
            for _ in range(n * producers):
                got.append(q.get().v)
                q.qsize(), q.full(), q.empty()
                q.task_done()

        ts = [threading.Thread(target=produce, args=(k,))
              for k in range(producers)] + [threading.Thread(target=consume)]
        for t in ts:
            t.start()
        q.join()
        for t in ts:
            t.join()
        self.assertEqual(sorted(got), list(range(n * producers)))

    def test_priority_blocked_putter_stored_by_get(self):
        q = syncplus.PriorityQueue(2)
        q.put(5)
        q.put(1)
        t = threading.Thread(target=q.put, args=(0,))
        t.start()
        wait_until(lambda: t.is_alive() and q.qsize() == 2, "put blocked")
        self.assertEqual(q.get(), 1)
        t.join()
        self.assertEqual([q.get(), q.get()], [0, 5])

    def test_maxsize_shrink_and_grow(self):
        for make in (syncplus.Queue, syncplus.LifoQueue,
                     syncplus.PriorityQueue):
            q = make(3)
            for i in range(3):
                q.put(i)
            q.maxsize = 2
            self.assertEqual(q.maxsize, 2)
            self.assertTrue(q.full())
            self.assertRaises(queue.Full, q.put_nowait, 9)
            q.get()
            self.assertRaises(queue.Full, q.put_nowait, 9)  # 2 >= 2
            q.get()
            q.put_nowait(9)
            self.assertRaises(queue.Full, q.put_nowait, 9)
            q.maxsize = 0  # unbounded
            for i in range(10):
                q.put_nowait(i)
            self.assertFalse(q.full())
            self.assertEqual(q.qsize(), 12)

    def test_maxsize_grow_admits_a_blocked_putter(self):
        # CPython's assignment wakes nobody; the library admits the blocked
        # putter at once (no get needed): the thread finishes by itself.
        q = syncplus.Queue(1)
        q.put(1)
        t = threading.Thread(target=q.put, args=(2,))
        t.start()
        wait_until(lambda: t.is_alive() and q.qsize() == 1, "put blocked")
        q.maxsize = 2
        t.join()
        self.assertEqual((q.qsize(), q.full()), (2, True))
        self.assertEqual([q.get(), q.get()], [1, 2])

    def test_maxsize_same_results_as_cpython(self):
        def shrink(x):
            for i in range(4):
                x.put(i)
            x.maxsize = 2
            r = [x.full(), outcome(x.put_nowait, 7), x.get(), x.get(),
                 outcome(x.put_nowait, 8), x.qsize()]
            x.maxsize = -1
            return r + [x.full(), outcome(x.put_nowait, 9), x.qsize()]

        for make_sp, make_py in ((syncplus.Queue, queue.Queue),
                                 (syncplus.LifoQueue, queue.LifoQueue),
                                 (syncplus.PriorityQueue,
                                  queue.PriorityQueue)):
            self.assertEqual(shrink(make_sp(5)), shrink(make_py(5)))


class QueueShutdownTests(unittest.TestCase):
    """Python 3.13's Queue.shutdown (the interpreter's queue.ShutDown when
    it has one)."""

    def test_exception(self):
        if hasattr(queue, "ShutDown"):
            self.assertIs(syncplus.ShutDown, queue.ShutDown)
        else:
            self.assertTrue(issubclass(syncplus.ShutDown, Exception))
        self.assertFalse(hasattr(syncplus.SimpleQueue(), "shutdown"))

    def test_shutdown(self):
        for make in (syncplus.Queue, syncplus.LifoQueue,
                     syncplus.PriorityQueue):
            q = make()
            q.put(1)
            q.put(2)
            self.assertFalse(q.is_shutdown)
            q.shutdown()
            self.assertTrue(q.is_shutdown)
            self.assertRaises(syncplus.ShutDown, q.put, 3)
            self.assertRaises(syncplus.ShutDown, q.put_nowait, 3)
            self.assertEqual(sorted([q.get(), q.get_nowait()]), [1, 2])
            self.assertRaises(syncplus.ShutDown, q.get)
            self.assertRaises(syncplus.ShutDown, q.get, timeout=SHORT)
            self.assertRaises(syncplus.ShutDown, q.get_nowait)
            q.task_done()
            q.task_done()
            q.join()

    def test_blocked_calls_raise(self):
        for make in (syncplus.Queue, syncplus.PriorityQueue):
            q = make(1)
            results = []

            def call(fn, *a):
                results.append(outcome(fn, *a))

            getter = threading.Thread(target=call, args=(q.get,))
            getter.start()
            q2 = make(1)
            q2.put(0)
            putter = threading.Thread(target=call, args=(q2.put, 1))
            putter.start()
            time.sleep(SHORT)  # let both block (either way they must end)
            self.assertEqual(results, [])
            q.shutdown()
            q2.shutdown()
            getter.join()
            putter.join()
            self.assertEqual(results, [("raise", syncplus.ShutDown)] * 2)
            self.assertEqual(q2.get(), 0)

    def test_immediate(self):
        class Item:
            def __init__(self, v):
                self.v = v

            def __lt__(self, other):
                return self.v < other.v

        for make in (syncplus.Queue, syncplus.LifoQueue,
                     syncplus.PriorityQueue):
            q = make()
            items = [Item(i) for i in range(50)]
            refs = [weakref.ref(it) for it in items]
            for it in items:
                q.put(it)
            first = q.get()
            del items, it
            q.shutdown(immediate=True)
            self.assertEqual(q.qsize(), 0)
            self.assertTrue(all(r() is None for r in refs if r() is not first))
            self.assertRaises(syncplus.ShutDown, q.get_nowait)
            q.task_done()  # the one got; the dropped ones count as done
            q.join()
            self.assertRaises(ValueError, q.task_done)

    def test_immediate_wakes_joiners(self):
        q = syncplus.Queue()
        for i in range(3):
            q.put(i)
        t = threading.Thread(target=q.join)
        t.start()
        time.sleep(SHORT)
        q.shutdown(immediate=True)
        t.join()  # hangs (and the suite times out) if join is not woken
        self.assertTrue(q.is_shutdown)


class ConditionTests(unittest.TestCase):
    def start_waiters(self, cond, n, results, timeout=None):
        threads = []
        for i in range(n):
            def f(i=i):
                with cond:
                    results.append((i, cond.wait(timeout)))
            t = threading.Thread(target=f)
            t.start()
            threads.append(t)
            # one at a time, so that the FIFO order is known
            wait_until(lambda: n_waiting(cond) == i + 1, "waiter queued")
        return threads

    def test_notify_wakes_oldest_first(self):
        for make in (syncplus.Condition,
                     lambda: syncplus.Condition(syncplus.Lock()),
                     lambda: syncplus.Condition(threading.RLock())):
            cond = make()
            results = []
            threads = self.start_waiters(cond, 4, results)
            for expected in ([0], [0, 1, 2], [0, 1, 2, 3]):
                with cond:
                    cond.notify(len(expected) - len(results))
                wait_until(lambda: len(results) == len(expected), "woken")
                self.assertEqual(sorted(i for i, _ in results), expected)
            for t in threads:
                t.join()
            self.assertTrue(all(r for _, r in results))

    def test_no_wakeup_lost_to_a_timeout(self):
        # A waiter's timeout races with notifies: whenever the notifier
        # found the waiter queued (so notify() chose it), that wait() must
        # return True. Counted exactly: True results == notifies that found
        # a waiter. CPython's Condition fails this (a wakeup that lands as
        # the waiter times out is lost: in 5 of 20 runs of this loop); this
        # one may not. The notifier's check and notify() must be one step:
        # a long switch interval keeps the GIL with it between them (the
        # waiter runs when the notifier blocks or sleeps), else a waiter
        # that timed out could leave the queue in between (it leaves before
        # it re-acquires the lock) and the notify would find nobody.
        old_interval = sys.getswitchinterval()
        sys.setswitchinterval(100)
        self.addCleanup(sys.setswitchinterval, old_interval)
        for make in (syncplus.Condition,
                     lambda: syncplus.Condition(syncplus.Lock())):
            cond = make()
            rounds = 3000
            results = []
            notified = []
            stop = threading.Event()

            def waiter():
                for i in range(rounds):
                    with cond:
                        results.append(cond.wait(0.0001 * (i % 7)))
                stop.set()

            t = threading.Thread(target=waiter)
            t.start()
            i = 0
            while not stop.is_set():
                with cond:
                    if n_waiting(cond):
                        cond.notify()
                        notified.append(1)
                i += 1
                if i % 3:
                    time.sleep(0)  # let the waiter run
            t.join()
            self.assertEqual(len(results), rounds)
            self.assertEqual(results.count(True), len(notified))

    def test_notify_needs_the_lock_of_the_condition(self):
        lk = syncplus.Lock()
        cond = syncplus.Condition(lk)
        self.assertRaises(RuntimeError, cond.notify)
        self.assertRaises(RuntimeError, cond.wait, 0)
        r = syncplus.RLock()
        cond = syncplus.Condition(r)
        holder = threading.Thread(target=r.acquire)
        holder.start()
        holder.join()  # another thread owns r now
        self.assertRaises(RuntimeError, cond.notify)

    def test_wait_restores_the_recursion_level(self):
        r = syncplus.RLock()
        cond = syncplus.Condition(r)
        for _ in range(3):
            r.acquire()
        self.assertFalse(cond.wait(0.001))
        self.assertEqual(r._recursion_count(), 3)
        other = []
        t = threading.Thread(target=lambda: other.append(r.acquire(False)))
        t.start()
        t.join()
        self.assertEqual(other, [False])
        for _ in range(3):
            r.release()
        self.assertEqual(r._recursion_count(), 0)

    def test_wait_for_one_deadline(self):
        # wait_for's timeout covers the whole loop, however many wakeups
        # that did not satisfy the predicate come in.
        cond = syncplus.Condition()
        stop = threading.Event()

        def nagger():
            while not stop.is_set():
                with cond:
                    cond.notify_all()
                time.sleep(0.001)

        t = threading.Thread(target=nagger)
        t.start()
        try:
            with cond:
                t0 = time.monotonic()
                self.assertFalse(cond.wait_for(lambda: False, timeout=0.2))
                dt = time.monotonic() - t0
            self.assertGreaterEqual(dt, 0.2)
            self.assertLess(dt, 60)  # it does end
        finally:
            stop.set()
            t.join()

    def test_release_save_and_acquire_restore(self):
        for lock in (syncplus.RLock(), syncplus.Lock(), threading.RLock(),
                     threading.Lock()):
            cond = syncplus.Condition(lock)
            cond.acquire()
            self.assertTrue(cond._is_owned())
            state = cond._release_save()
            self.assertFalse(cond._is_owned())
            cond._acquire_restore(state)
            self.assertTrue(cond._is_owned())
            cond.release()

    def test_acquire_release_forward(self):
        cond = syncplus.Condition(syncplus.Lock())
        self.assertTrue(cond.acquire(False))
        self.assertFalse(cond.acquire(timeout=0.001))
        self.assertRaises(TypeError, cond.release, 1)
        cond.release()
        self.assertRaises(RuntimeError, cond.release)


class EventTests(unittest.TestCase):
    # A set() then clear() while threads wait: CPython's
    # EventTests.test_set_and_clear, and test_signals.py for the main
    # thread's slices (deterministic there: the handler runs inside wait).

    def test_at_fork_reinit_keeps_the_flag(self):
        e = syncplus.Event()
        e._at_fork_reinit()
        self.assertFalse(e.is_set())
        e.set()
        e._at_fork_reinit()
        self.assertTrue(e.is_set())
        self.assertTrue(e.wait(0))


class BarrierTests(unittest.TestCase):
    def test_action_exception_breaks_the_barrier(self):
        class Boom(Exception):
            pass

        def action():
            raise Boom

        n = 4
        b = syncplus.Barrier(n, action=action)
        results = []

        def f():
            try:
                b.wait()
                results.append("ok")
            except Boom:
                results.append("boom")
            except threading.BrokenBarrierError:
                results.append("broken")

        ts = [threading.Thread(target=f) for _ in range(n)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        self.assertEqual(sorted(results), ["boom"] + ["broken"] * (n - 1))
        self.assertTrue(b.broken)
        self.assertRaises(threading.BrokenBarrierError, b.wait)
        b.reset()
        self.assertFalse(b.broken)

    def test_action_runs_once_per_generation_before_release(self):
        n, generations = 3, 50
        runs = []
        b = syncplus.Barrier(n, action=lambda: runs.append(1))
        seen = []

        def f():
            for g in range(generations):
                b.wait()
                seen.append(len(runs) >= g + 1)

        ts = [threading.Thread(target=f) for _ in range(n)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        self.assertEqual(len(runs), generations)
        self.assertTrue(all(seen))

    def test_indices(self):
        n = 6
        b = syncplus.Barrier(n)
        got = []
        ts = [threading.Thread(target=lambda: got.append(b.wait()))
              for _ in range(n)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        self.assertEqual(sorted(got), list(range(n)))


class TimeoutTests(unittest.TestCase):
    """Timed waits never return before their timeout, in the main thread
    (which waits in slices) and in another thread (one wait)."""

    def blocked_calls(self):
        held = syncplus.Lock()
        held.acquire()
        rheld = syncplus.RLock()
        t = threading.Thread(target=rheld.acquire)
        t.start()
        t.join()
        cond = syncplus.Condition()
        full = syncplus.Queue(1)
        full.put(0)
        b = syncplus.Barrier(2)

        def cond_wait(timeout):
            with cond:
                return cond.wait(timeout)

        def cond_wait_for(timeout):
            with cond:
                return cond.wait_for(lambda: False, timeout)

        def barrier_wait(timeout):
            try:
                b.wait(timeout)
            except threading.BrokenBarrierError:
                b.reset()
                return False
            return True

        def raises(exc, fn):
            def call(timeout):
                try:
                    fn(timeout)
                except exc:
                    return False
                return True
            return call

        return {
            "Lock.acquire": lambda t: held.acquire(timeout=t),
            "RLock.acquire": lambda t: rheld.acquire(timeout=t),
            "Condition.wait": cond_wait,
            "Condition.wait_for": cond_wait_for,
            "Semaphore.acquire": lambda t: syncplus.Semaphore(0).acquire(
                timeout=t),
            "Event.wait": lambda t: syncplus.Event().wait(t),
            "Barrier.wait": barrier_wait,
            "Queue.get": raises(queue.Empty,
                                lambda t: syncplus.Queue().get(timeout=t)),
            "Queue.put": raises(queue.Full, lambda t: full.put(1, timeout=t)),
            "SimpleQueue.get": raises(
                queue.Empty, lambda t: syncplus.SimpleQueue().get(timeout=t)),
        }

    def check(self, results):
        for name, timeout, ok, dt in results:
            with self.subTest(call=name, timeout=timeout):
                self.assertFalse(ok)
                self.assertGreaterEqual(dt, timeout)

    def run_calls(self):
        results = []
        for name, call in self.blocked_calls().items():
            for timeout in (0.001, 0.013, SHORT):
                t0 = time.monotonic()
                ok = call(timeout)
                results.append((name, timeout, ok, time.monotonic() - t0))
        return results

    def test_main_thread(self):
        self.check(self.run_calls())

    def test_other_thread(self):
        results = []
        t = threading.Thread(target=lambda: results.extend(self.run_calls()))
        t.start()
        t.join()
        self.assertTrue(results)
        self.check(results)


class GILTests(unittest.TestCase):
    def test_blocked_calls_let_other_threads_run(self):
        # While a thread is blocked in each call, this thread runs Python
        # code (counted) and then unblocks it. A call that kept the GIL
        # while blocked would hang here.
        lk = syncplus.Lock()
        lk.acquire()
        cond = syncplus.Condition()
        q = syncplus.Queue()
        ev = syncplus.Event()
        sem = syncplus.Semaphore(0)
        b = syncplus.Barrier(2)

        def cond_wait():
            with cond:
                cond.wait()

        def cond_notify():
            with cond:
                cond.notify()

        cases = [(lk.acquire, lk.release), (cond_wait, cond_notify),
                 (q.get, lambda: q.put(1)), (ev.wait, ev.set),
                 (sem.acquire, sem.release), (b.wait, b.wait)]
        for block, unblock in cases:
            with self.subTest(block=block):
                started = threading.Event()

                def f():
                    started.set()
                    block()

                t = threading.Thread(target=f)
                t.start()
                started.wait()
                count = 0
                for _ in range(100000):
                    count += 1
                self.assertEqual(count, 100000)
                if block == cond_wait:
                    wait_until(lambda: n_waiting(cond) == 1, "waiting")
                unblock()
                t.join()


if __name__ == "__main__":
    unittest.main()
