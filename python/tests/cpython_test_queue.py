"""CPython's own Lib/test/test_queue.py classes, run against syncplus.

test_queue's mixins take the module under test as `queue` (its Queue,
LifoQueue, PriorityQueue, SimpleQueue, Empty, Full); `syncplus_queue` below
stands for that module, with syncplus's classes and CPython's own Empty and
Full (which syncplus raises). A test that cannot apply is skipped here with
its reason; none is changed. (This is 3.11's test_queue; Queue.shutdown,
3.13's, is tested in test_api.py.)
"""
import queue
import types
import unittest

from test import test_queue as tq

import syncplus

syncplus_queue = types.SimpleNamespace(
    Queue=syncplus.Queue,
    SimpleQueue=syncplus.SimpleQueue,
    LifoQueue=syncplus.LifoQueue,
    PriorityQueue=syncplus.PriorityQueue,
    Empty=queue.Empty,
    Full=queue.Full,
)



class QueueTest(tq.QueueTest, unittest.TestCase):
    queue = syncplus_queue


class LifoQueueTest(tq.LifoQueueTest, unittest.TestCase):
    queue = syncplus_queue


class PriorityQueueTest(tq.PriorityQueueTest, unittest.TestCase):
    queue = syncplus_queue


@unittest.skip("subclasses Queue and overrides _put/_get, the pure-Python "
               "queue.Queue's storage hooks; syncplus.Queue's storage is the "
               "library's sp_queue_t and has no such hooks")
class FailingQueueTest(tq.FailingQueueTest, unittest.TestCase):
    queue = syncplus_queue


class SimpleQueueTest(tq.BaseSimpleQueueTest, unittest.TestCase):
    queue = syncplus_queue

    def setUp(self):
        self.type2test = syncplus.SimpleQueue
        super().setUp()

    # The C SimpleQueue's reentrancy test (bpo-14976: put() from __del__
    # during a put()/get()), as CPython runs it for _queue.SimpleQueue.
    test_reentrancy = tq.CSimpleQueueTest.test_reentrancy
