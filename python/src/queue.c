/* syncplus.Queue, LifoQueue, PriorityQueue and SimpleQueue: queue.Queue,
 * queue.LifoQueue, queue.PriorityQueue and queue.SimpleQueue on the
 * library's sp_queue_t (raising queue.Empty, queue.Full and ShutDown
 * themselves).
 *
 * References: the C queue stores pointers only, so each item travels in a
 * node that holds a strong reference to it. Every node the Python object
 * owns -- in the C queue, or in the hands of a put() that has not stored it
 * yet or a get() that has taken it out but not returned it yet -- is on the
 * object's `nodes` list (GIL-guarded). The list is what the cycle collector
 * traverses and what dealloc/clear release: no item is leaked and none is
 * lost (a put that fails, times out or is interrupted takes its node back;
 * a get that got a node always returns its item).
 *
 * Limits of the library: at most INT_MAX items (a put beyond raises
 * MemoryError, as a full heap would). A Queue subclass cannot override
 * _put/_get/_qsize: the storage is the library's. Assigning `maxsize`
 * calls sp_queue_set_maxsize() (blocked putters see a larger bound at
 * once; shrinking removes nothing, as in CPython).
 *
 * PriorityQueue: sp_queue_init_priority() with sppy_prio_cmp, which orders
 * two nodes by Python's `<` on their items (a < b: before; b < a: after;
 * neither: equal, and the library keeps equal items FIFO). The library
 * calls the comparison with the queue's internal mutex held, in the thread
 * whose put, get or set_maxsize stores or takes an item (never in a
 * blocked waiter: the thread that completes a blocked call does its work).
 * Comparing needs the GIL, so the rule of sppy.h ("never wait for the GIL
 * while holding a library lock") is kept this way: on a priority queue
 * every library call is made WITHOUT the GIL (queue_qcall), and the
 * comparison takes the GIL with PyGILState_Ensure. So no thread holding the
 * GIL ever waits for the queue's mutex, and the comparing thread may wait
 * for the GIL while holding it. A comparison that raises leaves its
 * exception set in the calling thread (the error indicator is per thread
 * state, kept across the GIL release) and answers "equal" -- and so do the
 * later comparisons of that call, without calling Python: the heap stays a
 * heap of every item, only the order among the items concerned is FIFO.
 * After the call the module sees the exception and raises it:
 *  - put(): the item IS in the queue (counted by qsize, unfinished tasks),
 *    as CPython's heappush leaves it in its list; the exception propagates;
 *  - get(): it took the first item, but the comparisons it made to restore
 *    the heap (or to store a blocked putter's item in the freed slot)
 *    raised: the exception propagates and the item taken is released and
 *    counted done (task_done), as CPython's heappop loses it; every other
 *    item stays queued exactly once;
 *  - maxsize = n: the bound is changed and the admitted putters' items are
 *    queued; the exception propagates from the assignment.
 * A thread-local flag (sppy_cmp_off) turns the comparison off while the
 * module drains a queue (dealloc, clear, shutdown(immediate=True)): the
 * order of items being released does not matter, and no Python code runs
 * under the queue's mutex there.
 *
 * shutdown(immediate=False): Python 3.13's, on sp_queue_shutdown(); the
 * exception is queue.ShutDown where the interpreter has it, else
 * syncplus.ShutDown (module.c). An immediate shutdown drains the queue
 * itself (get with timeout 0 after a plain shutdown has stopped the puts,
 * task_done for each) so that it can release the items' references, which
 * the library's immediate shutdown would forget. */
#include "sppy.h"

#include <limits.h>
#include <stddef.h>

typedef struct sppy_node {
  PyObject *obj;
  struct sppy_node *prev, *next;
} sppy_node;

enum { SPPY_FIFO, SPPY_LIFO, SPPY_PRIO };

typedef struct {
  PyObject ob_base; /* PyObject_HEAD */
  sp_queue_t q;
  int kind;           /* SPPY_FIFO, SPPY_LIFO, SPPY_PRIO */
  Py_ssize_t maxsize; /* as given; <= 0: unbounded */
  sppy_node *nodes;   /* every node this object owns (GIL) */
  PyObject *weakreflist;
} QueueObject;

/* ---- nodes (GIL) ------------------------------------------------------ */

#define SPPY_NODE_POOL_MAX 4096
static sppy_node *sppy_node_pool;
static int sppy_node_pool_n;

static sppy_node *node_new(QueueObject *self, PyObject *obj) {
  sppy_node *n = sppy_node_pool;
  if (n != NULL) {
    sppy_node_pool = n->next;
    sppy_node_pool_n--;
  } else {
    n = PyMem_Malloc(sizeof *n);
    if (n == NULL) {
      PyErr_NoMemory();
      return NULL;
    }
  }
  Py_INCREF(obj);
  n->obj = obj;
  n->prev = NULL;
  n->next = self->nodes;
  if (self->nodes != NULL)
    self->nodes->prev = n;
  self->nodes = n;
  return n;
}

static void node_free(sppy_node *n) {
  if (sppy_node_pool_n >= SPPY_NODE_POOL_MAX) {
    PyMem_Free(n);
    return;
  }
  n->next = sppy_node_pool;
  sppy_node_pool = n;
  sppy_node_pool_n++;
}

/* Unlink n and return its item (the reference passes to the caller). */
static PyObject *node_take(QueueObject *self, sppy_node *n) {
  if (n->prev != NULL)
    n->prev->next = n->next;
  else
    self->nodes = n->next;
  if (n->next != NULL)
    n->next->prev = n->prev;
  PyObject *obj = n->obj;
  node_free(n);
  return obj;
}

static void node_drop(QueueObject *self, sppy_node *n) {
  PyObject *obj = node_take(self, n);
  Py_DECREF(obj);
}

/* ---- the priority queue's comparison ---------------------------------- */

#if defined(_MSC_VER) && !defined(__clang__)
#define SPPY_TLS __declspec(thread)
#else
#define SPPY_TLS _Thread_local
#endif

/* Nonzero while this thread drains a queue: comparisons answer "equal". */
static SPPY_TLS int sppy_cmp_off;

/* The library's comparison of two nodes (see the head). */
static int sppy_prio_cmp(const void *a, const void *b) {
  if (sppy_cmp_off)
    return 0;
  PyGILState_STATE g = PyGILState_Ensure();
  int c = 0;
  if (!PyErr_Occurred()) { /* after a failure: "equal", no Python code */
    PyObject *x = ((const sppy_node *)a)->obj;
    PyObject *y = ((const sppy_node *)b)->obj;
    int lt = PyObject_RichCompareBool(x, y, Py_LT);
    if (lt > 0)
      c = -1;
    else if (lt == 0 && PyObject_RichCompareBool(y, x, Py_LT) > 0)
      c = 1;
  }
  PyGILState_Release(g);
  return c;
}

/* rc = call, on self->q: without the GIL on a priority queue (its
 * comparison takes the GIL while the queue's mutex is held). */
#define SPPY_QCALL(self, rc, call)                                             \
  do {                                                                         \
    if ((self)->kind == SPPY_PRIO) {                                           \
      PyThreadState *sppy_ts_ = PyEval_SaveThread();                           \
      (rc) = (call);                                                           \
      PyEval_RestoreThread(sppy_ts_);                                          \
    } else {                                                                   \
      (rc) = (call);                                                           \
    }                                                                          \
  } while (0)

/* sppy_call() for the queue: its first try is made through SPPY_QCALL. */
static int queue_call(QueueObject *self, sppy_wait_fn fn, void *arg,
                      int64_t timeout_ns) {
  if (self->kind != SPPY_PRIO)
    return sppy_call(fn, arg, timeout_ns, 1);
  int rc;
  SPPY_QCALL(self, rc, fn(arg, 0));
  if (rc == SP_BUSY && timeout_ns != 0)
    rc = sppy_wait(fn, arg, sppy_deadline(timeout_ns), 1);
  return rc == SP_BUSY ? SP_TIMEDOUT : rc;
}

/* ---- construction and the collector ----------------------------------- */

/* Empty the C queue and release every item. Only when no other thread can
 * use the queue (dealloc, clear, re-initialisation without waiters). */
static void nodes_release(sppy_node *list) {
  while (list != NULL) { /* Py_DECREF may run code that puts new items */
    sppy_node *n = list;
    list = n->next;
    PyObject *obj = n->obj;
    node_free(n);
    Py_DECREF(obj);
  }
}

static void queue_release_items(QueueObject *self) {
  void *p;
  sppy_cmp_off = 1; /* no other thread uses the queue: no GIL wait */
  while (sp_queue_get(&self->q, &p, 0) == SP_OK)
    ;
  sppy_cmp_off = 0;
  sppy_node *list = self->nodes;
  self->nodes = NULL;
  nodes_release(list);
}

static PyObject *queue_new(PyTypeObject *type, PyObject *args,
                           PyObject *kwargs) {
  (void)args;
  (void)kwargs;
  QueueObject *self = (QueueObject *)type->tp_alloc(type, 0);
  if (self == NULL)
    return NULL;
  int rc = sp_queue_init(&self->q, 0);
  if (rc != SP_OK) {
    Py_DECREF(self);
    return sppy_raise(rc, "sp_queue_init"), NULL;
  }
  return (PyObject *)self;
}

static PyObject *simplequeue_new(PyTypeObject *type, PyObject *args,
                                 PyObject *kwargs) {
  static char *kwlist[] = {NULL};
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, ":SimpleQueue", kwlist))
    return NULL;
  return queue_new(type, args, kwargs);
}

static int queue_setup(QueueObject *self, PyObject *args, PyObject *kwargs,
                       const char *fmt, int kind) {
  static char *kwlist[] = {"maxsize", NULL};
  PyObject *mobj = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, fmt, kwlist, &mobj))
    return -1;
  Py_ssize_t maxsize = 0;
  if (mobj != NULL) {
    maxsize = PyNumber_AsSsize_t(mobj, NULL); /* clamps */
    if (maxsize == -1 && PyErr_Occurred())
      return -1;
  }
  /* The library's bound: 1..INT_MAX; larger ones cannot be reached
   * anyway (a queue holds at most INT_MAX items). */
  int cmax = maxsize <= 0 || maxsize > INT_MAX ? 0 : (int)maxsize;
  int rc = sp_queue_destroy(&self->q);
  if (rc == SP_EPERM) {
    PyErr_SetString(PyExc_RuntimeError,
                    "cannot re-initialise a queue that threads wait on");
    return -1;
  }
  /* A new, empty queue, as CPython's __init__ makes; the old items are
   * released once the new queue exists (their __del__ may use it). */
  sppy_node *old = self->nodes;
  self->nodes = NULL;
  rc = kind == SPPY_LIFO ? sp_queue_init_lifo(&self->q, cmax)
       : kind == SPPY_PRIO
           ? sp_queue_init_priority(&self->q, cmax, sppy_prio_cmp)
           : sp_queue_init(&self->q, cmax);
  if (rc != SP_OK) {
    self->nodes = old; /* still released by dealloc */
    return sppy_raise(rc, "sp_queue_init");
  }
  self->kind = kind;
  self->maxsize = maxsize;
  nodes_release(old);
  return 0;
}

static int queue_init(QueueObject *self, PyObject *args, PyObject *kwargs) {
  return queue_setup(self, args, kwargs, "|O:Queue", SPPY_FIFO);
}

static int lifoqueue_init(QueueObject *self, PyObject *args, PyObject *kwargs) {
  return queue_setup(self, args, kwargs, "|O:LifoQueue", SPPY_LIFO);
}

static int priorityqueue_init(QueueObject *self, PyObject *args,
                              PyObject *kwargs) {
  return queue_setup(self, args, kwargs, "|O:PriorityQueue", SPPY_PRIO);
}

static int queue_traverse(QueueObject *self, visitproc visit, void *arg) {
  for (sppy_node *n = self->nodes; n != NULL; n = n->next)
    Py_VISIT(n->obj);
  return 0;
}

static int queue_clear(QueueObject *self) {
  queue_release_items(self);
  return 0;
}

static void queue_dealloc(QueueObject *self) {
  PyObject_GC_UnTrack(self);
  if (self->weakreflist != NULL)
    PyObject_ClearWeakRefs((PyObject *)self);
  queue_release_items(self);
  (void)sp_queue_destroy(&self->q);
  Py_TYPE(self)->tp_free((PyObject *)self);
}

/* ---- put and get ------------------------------------------------------------
 */

typedef struct {
  sp_queue_t *q;
  void *item;
} queue_op_ctx;

static int sppy_op_put(void *arg, int64_t timeout_ns) {
  queue_op_ctx *c = arg;
  return sp_queue_put(c->q, c->item, timeout_ns);
}

static int sppy_op_get(void *arg, int64_t timeout_ns) {
  queue_op_ctx *c = arg;
  return sp_queue_get(c->q, &c->item, timeout_ns);
}

static int sppy_op_join(void *arg, int64_t timeout_ns) {
  return sp_queue_join((sp_queue_t *)arg, timeout_ns);
}

/* The exception for a failed put/get/join result. */
static void queue_raise(int rc, int full, const char *what) {
  if (rc == SP_BUSY || rc == SP_TIMEDOUT)
    PyErr_SetNone(full ? sppy_Full : sppy_Empty);
  else if (rc == SP_SHUTDOWN)
    PyErr_SetNone(sppy_ShutDown);
  else
    sppy_raise(rc, what);
}

/* put(), with `timeout` already validated where CPython validates it:
 * converted (OverflowError if too large) only when a wait is needed. */
static PyObject *queue_put_impl(QueueObject *self, PyObject *item, int block,
                                PyObject *timeout) {
  sppy_node *n = node_new(self, item);
  if (n == NULL)
    return NULL;
  queue_op_ctx c = {&self->q, n};
  int rc;
  SPPY_QCALL(self, rc, sp_queue_put(&self->q, n, 0));
  if (rc == SP_BUSY && block) {
    int64_t timeout_ns;
    if (sppy_queue_timeout(timeout, 1, &timeout_ns) < 0) {
      node_drop(self, n);
      return NULL;
    }
    rc = timeout_ns == 0
             ? SP_TIMEDOUT
             : sppy_wait(sppy_op_put, &c, sppy_deadline(timeout_ns), 1);
  }
  if (rc == SP_OK) {
    /* a priority queue's comparison raised: the item is queued (head) */
    if (self->kind == SPPY_PRIO && PyErr_Occurred())
      return NULL;
    Py_RETURN_NONE;
  }
  node_drop(self, n);
  queue_raise(rc, 1, "sp_queue_put");
  return NULL;
}

/* get(), likewise. */
static PyObject *queue_get_impl(QueueObject *self, int block,
                                PyObject *timeout) {
  queue_op_ctx c = {&self->q, NULL};
  int rc;
  SPPY_QCALL(self, rc, sp_queue_get(&self->q, &c.item, 0));
  if (rc == SP_BUSY && block) {
    int64_t timeout_ns;
    if (sppy_queue_timeout(timeout, 1, &timeout_ns) < 0)
      return NULL;
    rc = timeout_ns == 0
             ? SP_TIMEDOUT
             : sppy_wait(sppy_op_get, &c, sppy_deadline(timeout_ns), 1);
  }
  if (rc == SP_OK) {
    PyObject *obj = node_take(self, (sppy_node *)c.item);
    if (self->kind == SPPY_PRIO && PyErr_Occurred()) {
      /* a comparison raised while the heap was restored (head): the item
       * taken is released and counted done, the exception propagates */
      int done;
      SPPY_QCALL(self, done, sp_queue_task_done(&self->q));
      (void)done;
      Py_DECREF(obj);
      return NULL;
    }
    return obj;
  }
  queue_raise(rc, 0, "sp_queue_get");
  return NULL;
}

static PyObject *queue_put(QueueObject *self, PyObject *args,
                           PyObject *kwargs) {
  static char *kwlist[] = {"item", "block", "timeout", NULL};
  PyObject *item, *timeout = Py_None;
  int block = 1;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|pO:put", kwlist, &item,
                                   &block, &timeout))
    return NULL;
  /* CPython checks the timeout of a blocking put on a bounded queue up
   * front (ValueError when negative), full or not. */
  int64_t unused;
  if (block && self->maxsize > 0 && sppy_queue_timeout(timeout, 0, &unused) < 0)
    return NULL;
  return queue_put_impl(self, item, block, timeout);
}

static PyObject *queue_put_nowait(QueueObject *self, PyObject *item) {
  return queue_put_impl(self, item, 0, Py_None);
}

/* get(block=True, timeout=None): CPython checks a blocking get's timeout
 * up front, empty or not; SimpleQueue's C get checks every timeout
 * (`strict`, as sppy_queue_timeout). */
static PyObject *queue_get_args(QueueObject *self, PyObject *args,
                                PyObject *kwargs, int strict) {
  static char *kwlist[] = {"block", "timeout", NULL};
  PyObject *timeout = Py_None;
  int block = 1;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|pO:get", kwlist, &block,
                                   &timeout))
    return NULL;
  int64_t unused;
  if (block && sppy_queue_timeout(timeout, strict, &unused) < 0)
    return NULL;
  return queue_get_impl(self, block, timeout);
}

static PyObject *queue_get(QueueObject *self, PyObject *args,
                           PyObject *kwargs) {
  return queue_get_args(self, args, kwargs, 0);
}

static PyObject *queue_get_nowait(QueueObject *self, PyObject *unused) {
  (void)unused;
  return queue_get_impl(self, 0, Py_None);
}

static PyObject *simplequeue_put(QueueObject *self, PyObject *args,
                                 PyObject *kwargs) {
  /* queue.SimpleQueue.put: block and timeout are accepted and ignored (it
   * is unbounded and never blocks). */
  static char *kwlist[] = {"item", "block", "timeout", NULL};
  PyObject *item, *block = Py_True, *timeout = Py_None;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|OO:put", kwlist, &item,
                                   &block, &timeout))
    return NULL;
  return queue_put_impl(self, item, 1, Py_None);
}

static PyObject *simplequeue_get(QueueObject *self, PyObject *args,
                                 PyObject *kwargs) {
  return queue_get_args(self, args, kwargs, 1);
}

/* ---- the rest of the API
 * ------------------------------------------------------ */

static PyObject *queue_task_done(QueueObject *self, PyObject *unused) {
  (void)unused;
  int rc;
  SPPY_QCALL(self, rc, sp_queue_task_done(&self->q));
  if (rc == SP_OK)
    Py_RETURN_NONE;
  if (rc == SP_EPERM)
    PyErr_SetString(PyExc_ValueError, "task_done() called too many times");
  else
    sppy_raise(rc, "sp_queue_task_done");
  return NULL;
}

static PyObject *queue_join(QueueObject *self, PyObject *unused) {
  (void)unused;
  int rc = queue_call(self, sppy_op_join, &self->q, SPPY_FOREVER);
  if (rc == SP_OK)
    Py_RETURN_NONE;
  return sppy_raise(rc, "sp_queue_join"), NULL;
}

static Py_ssize_t queue_size(QueueObject *self) {
  int n;
  SPPY_QCALL(self, n, sp_queue_size(&self->q));
  if (n < 0)
    return sppy_raise(n, "sp_queue_size");
  return n;
}

static PyObject *queue_qsize(QueueObject *self, PyObject *unused) {
  (void)unused;
  Py_ssize_t n = queue_size(self);
  return n < 0 ? NULL : PyLong_FromSsize_t(n);
}

/* empty() and full() as CPython defines them (qsize() == 0, and
 * 0 < maxsize <= qsize(), with maxsize as the user set it: the library's
 * bound is that, or unbounded beyond INT_MAX). */
static PyObject *queue_empty(QueueObject *self, PyObject *unused) {
  (void)unused;
  Py_ssize_t n = queue_size(self);
  return n < 0 ? NULL : PyBool_FromLong(n == 0);
}

static PyObject *queue_full(QueueObject *self, PyObject *unused) {
  (void)unused;
  Py_ssize_t n = queue_size(self);
  return n < 0 ? NULL
               : PyBool_FromLong(self->maxsize > 0 && n >= self->maxsize);
}

static PyObject *queue_get_maxsize(QueueObject *self, void *closure) {
  (void)closure;
  return PyLong_FromSsize_t(self->maxsize);
}

/* q.maxsize = n: an int, as __init__ takes it (<= 0: unbounded). Unlike
 * CPython's plain attribute, a larger bound admits blocked putters at once;
 * a smaller one removes nothing (puts wait until gets make room). */
static int queue_set_maxsize(QueueObject *self, PyObject *value,
                             void *closure) {
  (void)closure;
  if (value == NULL) {
    PyErr_SetString(PyExc_AttributeError, "cannot delete maxsize");
    return -1;
  }
  Py_ssize_t maxsize = PyNumber_AsSsize_t(value, NULL); /* clamps */
  if (maxsize == -1 && PyErr_Occurred())
    return -1;
  int cmax = maxsize <= 0 || maxsize > INT_MAX ? 0 : (int)maxsize;
  int rc;
  SPPY_QCALL(self, rc, sp_queue_set_maxsize(&self->q, cmax));
  if (rc != SP_OK)
    return sppy_raise(rc, "sp_queue_set_maxsize");
  self->maxsize = maxsize;
  /* a priority queue's comparison raised while admitting putters (head) */
  return self->kind == SPPY_PRIO && PyErr_Occurred() ? -1 : 0;
}

static PyObject *queue_get_is_shutdown(QueueObject *self, void *closure) {
  (void)closure;
  int rc;
  SPPY_QCALL(self, rc, sp_queue_is_shutdown(&self->q));
  if (rc < 0)
    return sppy_raise(rc, "sp_queue_is_shutdown"), NULL;
  return PyBool_FromLong(rc);
}

/* shutdown(immediate=False), Python 3.13's (see the head). */
static PyObject *queue_shutdown(QueueObject *self, PyObject *args,
                                PyObject *kwargs) {
  static char *kwlist[] = {"immediate", NULL};
  int immediate = 0;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|p:shutdown", kwlist,
                                   &immediate))
    return NULL;
  int rc;
  SPPY_QCALL(self, rc, sp_queue_shutdown(&self->q, 0));
  if (rc != SP_OK)
    return sppy_raise(rc, "sp_queue_shutdown"), NULL;
  while (immediate) { /* puts are refused now: drain what is left */
    void *p;
    sppy_cmp_off = 1;
    SPPY_QCALL(self, rc, sp_queue_get(&self->q, &p, 0));
    sppy_cmp_off = 0;
    if (rc != SP_OK)
      break;
    PyObject *obj = node_take(self, (sppy_node *)p);
    SPPY_QCALL(self, rc, sp_queue_task_done(&self->q)); /* as CPython */
    Py_DECREF(obj); /* may run code that uses the queue */
  }
  Py_RETURN_NONE;
}

static PyMethodDef queue_methods[] = {
    {"put", (PyCFunction)(void (*)(void))queue_put,
     METH_VARARGS | METH_KEYWORDS,
     "put(item, block=True, timeout=None)\n\nAppend item, waiting while a "
     "bounded queue is full (at most timeout seconds); queue.Full if it "
     "stays full."},
    {"get", (PyCFunction)(void (*)(void))queue_get,
     METH_VARARGS | METH_KEYWORDS,
     "get(block=True, timeout=None)\n\nRemove and return the oldest item, "
     "waiting while the queue is empty; queue.Empty if it stays empty."},
    {"task_done", (PyCFunction)queue_task_done, METH_NOARGS,
     "task_done()\n\nMark one item got as processed."},
    {"join", (PyCFunction)queue_join, METH_NOARGS,
     "join()\n\nWait until every item put has been marked task_done()."},
    {"full", (PyCFunction)queue_full, METH_NOARGS,
     "full() -> bool\n\n0 < maxsize <= qsize()."},
    {"get_nowait", (PyCFunction)queue_get_nowait, METH_NOARGS,
     "get_nowait()\n\nget(False)."},
    {"put_nowait", (PyCFunction)queue_put_nowait, METH_O,
     "put_nowait(item)\n\nput(item, False)."},
    {"qsize", (PyCFunction)queue_qsize, METH_NOARGS,
     "qsize() -> int\n\nThe number of items in the queue."},
    {"empty", (PyCFunction)queue_empty, METH_NOARGS,
     "empty() -> bool\n\nqsize() == 0."},
    {"shutdown", (PyCFunction)(void (*)(void))queue_shutdown,
     METH_VARARGS | METH_KEYWORDS,
     "shutdown(immediate=False)\n\nPython 3.13's: puts raise ShutDown from "
     "now on, gets raise it once the queue is empty, blocked calls raise it "
     "at once; immediate=True also drops the queued items (counted done)."},
    {"__class_getitem__", Py_GenericAlias, METH_O | METH_CLASS, "See PEP 585"},
    {NULL, NULL, 0, NULL}};

static PyMethodDef simplequeue_methods[] = {
    {"put", (PyCFunction)(void (*)(void))simplequeue_put,
     METH_VARARGS | METH_KEYWORDS,
     "put(item, block=True, timeout=None)\n\nAppend item (never blocks)."},
    {"get", (PyCFunction)(void (*)(void))simplequeue_get,
     METH_VARARGS | METH_KEYWORDS,
     "get(block=True, timeout=None)\n\nRemove and return the oldest item, "
     "waiting while the queue is empty; queue.Empty if it stays empty."},
    {"get_nowait", (PyCFunction)queue_get_nowait, METH_NOARGS,
     "get_nowait()\n\nget(False)."},
    {"put_nowait", (PyCFunction)queue_put_nowait, METH_O,
     "put_nowait(item)\n\nput(item, False)."},
    {"qsize", (PyCFunction)queue_qsize, METH_NOARGS,
     "qsize() -> int\n\nThe number of items in the queue."},
    {"empty", (PyCFunction)queue_empty, METH_NOARGS,
     "empty() -> bool\n\nqsize() == 0."},
    {"__class_getitem__", Py_GenericAlias, METH_O | METH_CLASS, "See PEP 585"},
    {NULL, NULL, 0, NULL}};

static PyGetSetDef queue_getset[] = {
    {"maxsize", (getter)queue_get_maxsize, (setter)queue_set_maxsize,
     "the bound (<= 0: unbounded); assigning changes it on the live queue",
     NULL},
    {"is_shutdown", (getter)queue_get_is_shutdown, NULL,
     "True once shutdown() was called", NULL},
    {NULL, NULL, NULL, NULL, NULL}};

PyTypeObject sppy_QueueType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "syncplus.Queue",
    .tp_basicsize = sizeof(QueueObject),
    .tp_dealloc = (destructor)queue_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "Queue(maxsize=0)\n\nqueue.Queue on the library's sp_queue_t "
              "(FIFO; maxsize <= 0: unbounded).",
    .tp_traverse = (traverseproc)queue_traverse,
    .tp_clear = (inquiry)queue_clear,
    .tp_weaklistoffset = offsetof(QueueObject, weakreflist),
    .tp_methods = queue_methods,
    .tp_getset = queue_getset,
    .tp_init = (initproc)queue_init,
    .tp_new = queue_new,
};

PyTypeObject sppy_SimpleQueueType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "syncplus.SimpleQueue",
    .tp_basicsize = sizeof(QueueObject),
    .tp_dealloc = (destructor)queue_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "SimpleQueue()\n\nqueue.SimpleQueue on the library's "
              "sp_queue_t (unbounded FIFO, no task tracking).",
    .tp_traverse = (traverseproc)queue_traverse,
    .tp_clear = (inquiry)queue_clear,
    .tp_weaklistoffset = offsetof(QueueObject, weakreflist),
    .tp_methods = simplequeue_methods,
    .tp_new = simplequeue_new,
};

PyTypeObject sppy_LifoQueueType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "syncplus.LifoQueue",
    .tp_basicsize = sizeof(QueueObject),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "LifoQueue(maxsize=0)\n\nqueue.LifoQueue on the library's "
              "sp_queue_init_lifo().",
    .tp_traverse = (traverseproc)queue_traverse,
    .tp_clear = (inquiry)queue_clear,
    .tp_init = (initproc)lifoqueue_init,
    .tp_base = &sppy_QueueType,
};

PyTypeObject sppy_PriorityQueueType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "syncplus.PriorityQueue",
    .tp_basicsize = sizeof(QueueObject),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "PriorityQueue(maxsize=0)\n\nqueue.PriorityQueue on the "
              "library's sp_queue_init_priority(): the smallest item by "
              "Python's `<` first, equal items in put order. A comparison "
              "that raises propagates from the put or get that made it.",
    .tp_traverse = (traverseproc)queue_traverse,
    .tp_clear = (inquiry)queue_clear,
    .tp_init = (initproc)priorityqueue_init,
    .tp_base = &sppy_QueueType,
};
