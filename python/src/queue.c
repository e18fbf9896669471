/* syncplus.Queue and syncplus.SimpleQueue: queue.Queue and
 * queue.SimpleQueue on the library's sp_queue_t (raising queue.Empty and
 * queue.Full themselves).
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
 * MemoryError, as a full heap would); maxsize is fixed at __init__ (the
 * library has no way to change it; ISSUE-13 lists "a maxsize that can
 * change"), so `maxsize` is read-only here. A Queue subclass cannot
 * override _put/_get/_qsize: the storage is the library's.
 * ISSUE-13: LifoQueue uses sp_queue_init_lifo() where the library has it
 * (SPPY_HAVE_QUEUE_LIFO, set by CMake from the header). PriorityQueue and
 * shutdown() wait for the library (see python/README.md). */
#include "sppy.h"

#include <limits.h>
#include <stddef.h>

typedef struct sppy_node {
  PyObject *obj;
  struct sppy_node *prev, *next;
} sppy_node;

typedef struct {
  PyObject ob_base; /* PyObject_HEAD */
  sp_queue_t q;
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
  while (sp_queue_get(&self->q, &p, 0) == SP_OK)
    ;
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

enum { SPPY_FIFO, SPPY_LIFO };

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
#ifdef SPPY_HAVE_QUEUE_LIFO
  rc = kind == SPPY_LIFO ? sp_queue_init_lifo(&self->q, cmax)
                         : sp_queue_init(&self->q, cmax);
#else
  (void)kind;
  rc = sp_queue_init(&self->q, cmax);
#endif
  if (rc != SP_OK) {
    self->nodes = old; /* still released by dealloc */
    return sppy_raise(rc, "sp_queue_init");
  }
  self->maxsize = maxsize;
  nodes_release(old);
  return 0;
}

static int queue_init(QueueObject *self, PyObject *args, PyObject *kwargs) {
  return queue_setup(self, args, kwargs, "|O:Queue", SPPY_FIFO);
}

#ifdef SPPY_HAVE_QUEUE_LIFO
static int lifoqueue_init(QueueObject *self, PyObject *args, PyObject *kwargs) {
  return queue_setup(self, args, kwargs, "|O:LifoQueue", SPPY_LIFO);
}
#endif

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

/* put(), with `timeout` already validated where CPython validates it:
 * converted (OverflowError if too large) only when a wait is needed. */
static PyObject *queue_put_impl(QueueObject *self, PyObject *item, int block,
                                PyObject *timeout) {
  sppy_node *n = node_new(self, item);
  if (n == NULL)
    return NULL;
  queue_op_ctx c = {&self->q, n};
  int rc = sp_queue_put(&self->q, n, 0);
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
  if (rc == SP_OK)
    Py_RETURN_NONE;
  node_drop(self, n);
  if (rc == SP_BUSY || rc == SP_TIMEDOUT)
    PyErr_SetNone(sppy_Full);
  else
    sppy_raise(rc, "sp_queue_put");
  return NULL;
}

/* get(), likewise. */
static PyObject *queue_get_impl(QueueObject *self, int block,
                                PyObject *timeout) {
  queue_op_ctx c = {&self->q, NULL};
  int rc = sp_queue_get(&self->q, &c.item, 0);
  if (rc == SP_BUSY && block) {
    int64_t timeout_ns;
    if (sppy_queue_timeout(timeout, 1, &timeout_ns) < 0)
      return NULL;
    rc = timeout_ns == 0
             ? SP_TIMEDOUT
             : sppy_wait(sppy_op_get, &c, sppy_deadline(timeout_ns), 1);
  }
  if (rc == SP_OK)
    return node_take(self, (sppy_node *)c.item);
  if (rc == SP_BUSY || rc == SP_TIMEDOUT)
    PyErr_SetNone(sppy_Empty);
  else
    sppy_raise(rc, "sp_queue_get");
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

static PyObject *queue_get(QueueObject *self, PyObject *args,
                           PyObject *kwargs) {
  static char *kwlist[] = {"block", "timeout", NULL};
  PyObject *timeout = Py_None;
  int block = 1;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|pO:get", kwlist, &block,
                                   &timeout))
    return NULL;
  /* CPython checks a blocking get's timeout up front, empty or not. */
  int64_t unused;
  if (block && sppy_queue_timeout(timeout, 0, &unused) < 0)
    return NULL;
  return queue_get_impl(self, block, timeout);
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
  /* queue.SimpleQueue.get (C): every timeout is checked up front. */
  static char *kwlist[] = {"block", "timeout", NULL};
  PyObject *timeout = Py_None;
  int block = 1;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|pO:get", kwlist, &block,
                                   &timeout))
    return NULL;
  int64_t unused;
  if (block && sppy_queue_timeout(timeout, 1, &unused) < 0)
    return NULL;
  return queue_get_impl(self, block, timeout);
}

/* ---- the rest of the API
 * ------------------------------------------------------ */

static PyObject *queue_task_done(QueueObject *self, PyObject *unused) {
  (void)unused;
  int rc = sp_queue_task_done(&self->q);
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
  int rc = sppy_call(sppy_op_join, &self->q, SPPY_FOREVER, 1);
  if (rc == SP_OK)
    Py_RETURN_NONE;
  return sppy_raise(rc, "sp_queue_join"), NULL;
}

static Py_ssize_t queue_size(QueueObject *self) {
  int n = sp_queue_size(&self->q);
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
 * 0 < maxsize <= qsize()). ISSUE-13: sp_queue_empty/sp_queue_full say the
 * same. */
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
    {"maxsize", (getter)queue_get_maxsize, NULL,
     "the bound given to __init__ (read-only: the library's bound is fixed)",
     NULL},
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

#ifdef SPPY_HAVE_QUEUE_LIFO
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
#endif
