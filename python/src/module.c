/* The syncplus Python module: CPython's threading and queue primitives on
 * libsyncplus. This file: the module itself, timeouts, and the one wait
 * loop every blocking call goes through (sppy_wait, see sppy.h). */
#include "sppy.h"

#include <math.h>
#include <time.h>

#ifdef _WIN32
#include <windows.h>
#endif

PyObject *sppy_Empty;
PyObject *sppy_Full;
PyObject *sppy_ShutDown;
PyObject *sppy_BrokenBarrierError;

/* The thread that runs signal handlers, where the interpreter gives no
 * call for it (3.13+): the main thread, taken from threading at import and
 * moved to the forking thread in a child (as CPython's runtime does). */
static unsigned long sppy_main_ident;

/* ---- time ---------------------------------------------------------------
 * CLOCK_MONOTONIC is the library's clock (src/unix) and time.monotonic()'s,
 * so a deadline here and the library's relative timeouts agree; the wait
 * loop still re-checks its own clock before it reports a timeout.
 * ISSUE-13/core: use sp_now_ns() once the library exports it. */
int64_t sppy_now_ns(void) {
#ifdef _WIN32
  static LARGE_INTEGER freq;
  LARGE_INTEGER now;
  if (freq.QuadPart == 0)
    QueryPerformanceFrequency(&freq);
  QueryPerformanceCounter(&now);
  return (int64_t)((double)now.QuadPart * 1e9 / (double)freq.QuadPart);
#else
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
#endif
}

int64_t sppy_deadline(int64_t timeout_ns) {
  if (timeout_ns < 0)
    return SPPY_NEVER;
  int64_t now = sppy_now_ns();
  if (timeout_ns > SPPY_NEVER - now)
    return SPPY_NEVER;
  return now + timeout_ns;
}

/* The longest timeout, in nanoseconds: CPython's PY_TIMEOUT_MAX
 * (microseconds; pythread.h), so that _thread.TIMEOUT_MAX is accepted
 * exactly where _thread accepts it. Spelled out, as pythread.h's value
 * depends on whether _POSIX_THREADS was defined when it was read. */
#ifdef _WIN32
#define SPPY_TIMEOUT_MAX_NS ((int64_t)0xFFFFFFFE * 1000 * 1000)
#else
#define SPPY_TIMEOUT_MAX_NS (INT64_MAX / 1000 * 1000)
#endif

static int sppy_too_large(void) {
  PyErr_SetString(PyExc_OverflowError, "timeout value is too large");
  return -1;
}

int sppy_seconds_to_ns(double seconds, int64_t *timeout_ns) {
  double ns = ceil(seconds * 1e9);
  if (!(ns <= (double)SPPY_TIMEOUT_MAX_NS))
    return sppy_too_large();
  *timeout_ns = (int64_t)ns;
  return 0;
}

/* A timeout object in seconds to nanoseconds, rounded up, as
 * _PyTime_FromSecondsObject(..., _PyTime_ROUND_TIMEOUT) converts it: a
 * float (NaN refused) or anything with __index__. May be negative. */
static int sppy_object_to_ns(PyObject *obj, int64_t *ns) {
  if (PyFloat_Check(obj)) {
    double d = PyFloat_AsDouble(obj);
    if (isnan(d)) {
      PyErr_SetString(PyExc_ValueError, "Invalid value NaN (not a number)");
      return -1;
    }
    double v = ceil(d * 1e9);
    if (!(v > -9223372036854775808.0 && v < 9223372036854775808.0))
      return sppy_too_large();
    *ns = (int64_t)v;
    return 0;
  }
  long long sec = PyLong_AsLongLong(obj);
  if (sec == -1 && PyErr_Occurred()) {
    if (PyErr_ExceptionMatches(PyExc_OverflowError)) {
      PyErr_Clear();
      return sppy_too_large();
    }
    return -1;
  }
  if (sec > INT64_MAX / 1000000000 || sec < INT64_MIN / 1000000000)
    return sppy_too_large();
  *ns = (int64_t)sec * 1000000000;
  return 0;
}

int sppy_parse_acquire_args(PyObject *args, PyObject *kwargs, const char *fn,
                            int64_t *timeout_ns) {
  static char *kwlist[] = {"blocking", "timeout", NULL};
  int blocking = 1;
  PyObject *timeout = NULL;
  (void)fn; /* every caller is an acquire() */
  if ((args == NULL || PyTuple_GET_SIZE(args) != 0 || kwargs != NULL) &&
      !PyArg_ParseTupleAndKeywords(args, kwargs, "|iO:acquire", kwlist,
                                   &blocking, &timeout))
    return -1;
  const int64_t unset = -(int64_t)1000000000; /* timeout=-1 */
  int64_t ns = unset;
  if (timeout != NULL && sppy_object_to_ns(timeout, &ns) < 0)
    return -1;
  if (!blocking && ns != unset) {
    PyErr_SetString(PyExc_ValueError,
                    "can't specify a timeout for a non-blocking call");
    return -1;
  }
  if (ns < 0 && ns != unset) {
    PyErr_SetString(PyExc_ValueError, "timeout value must be positive");
    return -1;
  }
  if (!blocking)
    *timeout_ns = 0;
  else if (ns == unset)
    *timeout_ns = SPPY_FOREVER;
  else if (ns > SPPY_TIMEOUT_MAX_NS)
    return sppy_too_large();
  else
    *timeout_ns = ns;
  return 0;
}

int sppy_wait_timeout(PyObject *timeout, int64_t *timeout_ns) {
  if (timeout == NULL || timeout == Py_None) {
    *timeout_ns = SPPY_FOREVER;
    return 0;
  }
  double d = PyFloat_AsDouble(timeout);
  if (d == -1.0 && PyErr_Occurred())
    return -1;
  if (!(d > 0)) { /* CPython: `if timeout > 0: ... else: try once` */
    *timeout_ns = 0;
    return 0;
  }
  return sppy_seconds_to_ns(d, timeout_ns);
}

int sppy_queue_timeout(PyObject *timeout, int check_max, int64_t *timeout_ns) {
  if (timeout == NULL || timeout == Py_None) {
    *timeout_ns = SPPY_FOREVER;
    return 0;
  }
  double d = PyFloat_AsDouble(timeout);
  if (d == -1.0 && PyErr_Occurred())
    return -1;
  if (isnan(d)) {
    PyErr_SetString(PyExc_ValueError, "Invalid value NaN (not a number)");
    return -1;
  }
  if (d < 0) {
    PyErr_SetString(PyExc_ValueError,
                    "'timeout' must be a non-negative number");
    return -1;
  }
  if (!check_max) {
    *timeout_ns = d > 0 ? 1 : 0; /* validated only; converted when waiting */
    return 0;
  }
  if (d == 0) {
    *timeout_ns = 0;
    return 0;
  }
  return sppy_seconds_to_ns(d, timeout_ns);
}

/* ---- waiting ------------------------------------------------------------ */

int sppy_is_signal_thread(void) {
#if PY_VERSION_HEX < 0x030D0000
  return _PyOS_IsMainThread();
#else
  return PyThread_get_thread_ident() == sppy_main_ident;
#endif
}

/* Why slices: the library retries EINTR inside its waits (its promise is
 * that a timeout is never early and a signal never fails a wait), so a
 * signal cannot end a library wait. The signal-handling thread therefore
 * waits at most SPPY_SLICE_NS at a time, all slices measured against one
 * deadline, and runs the handlers (PyErr_CheckSignals) in between, with
 * the GIL. Other threads never run handlers (CPython runs them in the main
 * thread only), so they wait in one call. A slice that times out changed
 * nothing (sppy.h), so slicing loses no wakeup. */
int sppy_wait(sppy_wait_fn fn, void *arg, int64_t deadline, int interruptible) {
  int sig = interruptible && sppy_is_signal_thread();
  for (;;) {
    int64_t t;
    if (deadline == SPPY_NEVER) {
      t = sig ? SPPY_SLICE_NS : SP_FOREVER;
    } else {
      int64_t now = sppy_now_ns();
      if (now >= deadline)
        return SP_TIMEDOUT;
      t = deadline - now;
      if (sig && t > SPPY_SLICE_NS)
        t = SPPY_SLICE_NS;
    }
    PyThreadState *ts = PyEval_SaveThread();
    int rc = fn(arg, t);
    PyEval_RestoreThread(ts);
    if (rc != SP_TIMEDOUT && rc != SP_BUSY)
      return rc;
    if (sig && PyErr_CheckSignals() < 0)
      return SPPY_INTR;
  }
}

int sppy_call(sppy_wait_fn fn, void *arg, int64_t timeout_ns,
              int interruptible) {
  int rc = fn(arg, 0);
  if (rc == SP_BUSY && timeout_ns != 0)
    rc = sppy_wait(fn, arg, sppy_deadline(timeout_ns), interruptible);
  return rc == SP_BUSY ? SP_TIMEDOUT : rc;
}

int sppy_raise(int rc, const char *what) {
  if (rc == SPPY_INTR)
    return -1;
  if (rc == SP_ENOMEM)
    PyErr_NoMemory();
  else if (rc == SP_ESYS)
    PyErr_Format(PyExc_OSError, "syncplus: %s: the operating system refused",
                 what);
  else
    PyErr_Format(PyExc_SystemError, "syncplus: %s returned %s", what,
                 sp_strerror(rc));
  return -1;
}

void sppy_exc_save(sppy_exc *e) {
#if PY_VERSION_HEX >= 0x030C0000
  e->exc = PyErr_GetRaisedException();
#else
  PyErr_Fetch(&e->type, &e->value, &e->tb);
  PyErr_NormalizeException(&e->type, &e->value, &e->tb);
  if (e->tb != NULL && e->value != NULL)
    PyException_SetTraceback(e->value, e->tb);
#endif
}

/* Raise the saved exception again; if cleanup raised a new one, that one
 * propagates with the saved one as its __context__ (a `finally:` block's
 * behaviour). */
void sppy_exc_restore(sppy_exc *e) {
#if PY_VERSION_HEX >= 0x030C0000
  PyObject *now = PyErr_GetRaisedException();
  if (now == NULL) {
    PyErr_SetRaisedException(e->exc);
    return;
  }
  PyException_SetContext(now, e->exc);
  PyErr_SetRaisedException(now);
#else
  if (!PyErr_Occurred()) {
    PyErr_Restore(e->type, e->value, e->tb);
    return;
  }
  PyObject *t, *v, *tb;
  PyErr_Fetch(&t, &v, &tb);
  PyErr_NormalizeException(&t, &v, &tb);
  if (v != NULL && e->value != NULL)
    PyException_SetContext(v, e->value); /* steals e->value */
  else
    Py_XDECREF(e->value);
  Py_XDECREF(e->type);
  Py_XDECREF(e->tb);
  PyErr_Restore(t, v, tb);
#endif
}

/* "__module__", interned once: a new string per lookup would also churn
 * CPython's type attribute cache, which keeps the last name it saw. */
static PyObject *sppy_str_module;

PyObject *sppy_type_name(PyObject *self) {
  PyTypeObject *tp = Py_TYPE(self);
  if (sppy_str_module == NULL &&
      (sppy_str_module = PyUnicode_InternFromString("__module__")) == NULL)
    return NULL;
  PyObject *mod = PyObject_GetAttr((PyObject *)tp, sppy_str_module);
  if (mod == NULL)
    return NULL;
  PyObject *qualname = PyType_GetQualName(tp);
  if (qualname == NULL) {
    Py_DECREF(mod);
    return NULL;
  }
  PyObject *name = PyUnicode_FromFormat("%S.%S", mod, qualname);
  Py_DECREF(mod);
  Py_DECREF(qualname);
  return name;
}

/* ---- the module -------------------------------------------------------- */

/* os.register_at_fork(after_in_child=...): the forking thread is the main
 * thread of the child, as CPython's PyOS_AfterFork_Child and
 * threading._after_fork make it, and the rlocks it owns are still its own
 * (locks.c). The objects themselves are reinitialised only where CPython
 * reinitialises its own (their _at_fork_reinit()). */
static PyObject *sppy_after_fork_child(PyObject *module, PyObject *unused) {
  (void)module;
  (void)unused;
  sppy_main_ident = PyThread_get_thread_ident();
  sppy_rlocks_after_fork();
  Py_RETURN_NONE;
}

static PyMethodDef sppy_module_methods[] = {
    {"_after_fork_child", sppy_after_fork_child, METH_NOARGS,
     "Called in a forked child: the forking thread becomes the main thread."},
    {NULL, NULL, 0, NULL}};

static void sppy_module_free(void *module) {
  (void)module;
  sppy_waiter_pool_free();
  Py_CLEAR(sppy_Empty);
  Py_CLEAR(sppy_Full);
  Py_CLEAR(sppy_ShutDown);
  Py_CLEAR(sppy_BrokenBarrierError);
  Py_CLEAR(sppy_str_module);
}

PyDoc_STRVAR(sppy_module_doc,
             "CPython's threading and queue primitives on libsyncplus.\n\n"
             "Lock, RLock, Condition, Semaphore, BoundedSemaphore, Event,\n"
             "Barrier, Queue, LifoQueue, PriorityQueue and SimpleQueue with\n"
             "the signatures, semantics and exceptions of threading and\n"
             "queue (Python 3.11; Queue.shutdown and ShutDown: 3.13), written\n"
             "in C on the libsyncplus primitives. Blocking calls release\n"
             "the GIL and can be interrupted by a signal handler (Ctrl-C)\n"
             "in the main thread. See python/README.md.");

static struct PyModuleDef sppy_module = {PyModuleDef_HEAD_INIT,
                                         "syncplus",
                                         sppy_module_doc,
                                         -1,
                                         sppy_module_methods,
                                         NULL,
                                         NULL,
                                         NULL,
                                         sppy_module_free};

static PyObject *sppy_import_attr(const char *module, const char *name) {
  PyObject *m = PyImport_ImportModule(module);
  if (m == NULL)
    return NULL;
  PyObject *a = PyObject_GetAttrString(m, name);
  Py_DECREF(m);
  return a;
}

static int sppy_add_type(PyObject *m, PyTypeObject *tp, const char *name) {
  if (PyType_Ready(tp) < 0)
    return -1;
  return PyModule_AddObjectRef(m, name, (PyObject *)tp);
}

/* threading.main_thread().ident, or the calling thread's. */
static unsigned long sppy_threading_main_ident(void) {
  unsigned long ident = PyThread_get_thread_ident();
  PyObject *mt = sppy_import_attr("threading", "main_thread");
  PyObject *t = mt ? PyObject_CallNoArgs(mt) : NULL;
  PyObject *id = t ? PyObject_GetAttrString(t, "ident") : NULL;
  if (id != NULL && PyLong_Check(id)) {
    unsigned long v = PyLong_AsUnsignedLong(id);
    if (!PyErr_Occurred())
      ident = v;
  }
  PyErr_Clear();
  Py_XDECREF(id);
  Py_XDECREF(t);
  Py_XDECREF(mt);
  return ident;
}

PyMODINIT_FUNC PyInit_syncplus(void) {
  PyObject *m = PyModule_Create(&sppy_module);
  if (m == NULL)
    return NULL;
  /* The exceptions are CPython's own, so that code catching queue.Empty or
   * threading.BrokenBarrierError works unchanged. */
  if (sppy_Empty == NULL) {
    sppy_Empty = sppy_import_attr("queue", "Empty");
    sppy_Full = sppy_import_attr("queue", "Full");
    sppy_BrokenBarrierError =
        sppy_import_attr("threading", "BrokenBarrierError");
    if (sppy_Empty == NULL || sppy_Full == NULL ||
        sppy_BrokenBarrierError == NULL)
      goto fail;
  }
  /* Queue.shutdown()'s exception: queue.ShutDown where the interpreter has
   * it (3.13+), else the module's own (a subclass of Exception, as
   * queue.ShutDown is). */
  if (sppy_ShutDown == NULL) {
    sppy_ShutDown = sppy_import_attr("queue", "ShutDown");
    if (sppy_ShutDown == NULL) {
      if (!PyErr_ExceptionMatches(PyExc_AttributeError))
        goto fail;
      PyErr_Clear();
      sppy_ShutDown = PyErr_NewExceptionWithDoc(
          "syncplus.ShutDown",
          "Raised by put() and get() on a queue that was shut down "
          "(queue.ShutDown on Python 3.13+).",
          NULL, NULL);
      if (sppy_ShutDown == NULL)
        goto fail;
    }
  }
  sppy_main_ident = sppy_threading_main_ident();
  if (sppy_add_type(m, &sppy_LockType, "Lock") < 0 ||
      sppy_add_type(m, &sppy_RLockType, "RLock") < 0 ||
      sppy_add_type(m, &sppy_ConditionType, "Condition") < 0 ||
      sppy_add_type(m, &sppy_SemaphoreType, "Semaphore") < 0 ||
      sppy_add_type(m, &sppy_BoundedSemaphoreType, "BoundedSemaphore") < 0 ||
      sppy_add_type(m, &sppy_EventType, "Event") < 0 ||
      sppy_add_type(m, &sppy_BarrierType, "Barrier") < 0 ||
      sppy_add_type(m, &sppy_QueueType, "Queue") < 0 ||
      sppy_add_type(m, &sppy_SimpleQueueType, "SimpleQueue") < 0)
    goto fail;
  if (sppy_add_type(m, &sppy_LifoQueueType, "LifoQueue") < 0 ||
      sppy_add_type(m, &sppy_PriorityQueueType, "PriorityQueue") < 0)
    goto fail;
  if (PyModule_AddObjectRef(m, "Empty", sppy_Empty) < 0 ||
      PyModule_AddObjectRef(m, "Full", sppy_Full) < 0 ||
      PyModule_AddObjectRef(m, "ShutDown", sppy_ShutDown) < 0 ||
      PyModule_AddObjectRef(m, "BrokenBarrierError", sppy_BrokenBarrierError) <
          0)
    goto fail;
  PyObject *tmax = sppy_import_attr("_thread", "TIMEOUT_MAX");
  int added = tmax ? PyModule_AddObjectRef(m, "TIMEOUT_MAX", tmax) : -1;
  Py_XDECREF(tmax);
  if (added < 0)
    goto fail;
  if (PyModule_AddStringConstant(m, "backend", sp_backend()) < 0 ||
      PyModule_AddStringConstant(m, "library_version", sp_version()) < 0 ||
      PyModule_AddStringConstant(m, "__version__", sp_version()) < 0)
    goto fail;
  /* After a fork the forking thread runs the signal handlers. */
  PyObject *reg = sppy_import_attr("os", "register_at_fork");
  if (reg != NULL) {
    PyObject *hook = PyObject_GetAttrString(m, "_after_fork_child");
    PyObject *kw = hook ? Py_BuildValue("{sO}", "after_in_child", hook) : NULL;
    PyObject *args = kw ? PyTuple_New(0) : NULL;
    PyObject *r = args ? PyObject_Call(reg, args, kw) : NULL;
    Py_XDECREF(r);
    Py_XDECREF(args);
    Py_XDECREF(kw);
    Py_XDECREF(hook);
    Py_DECREF(reg);
    if (r == NULL)
      goto fail;
  } else {
    PyErr_Clear(); /* no fork on this platform */
  }
  return m;
fail:
  Py_DECREF(m);
  return NULL;
}
