/* syncplus.Barrier: threading.Barrier.
 *
 * MODULE-SIDE IMPLEMENTATION, to be switched. This is CPython's own
 * algorithm (Lib/threading.py, Barrier) in C, over the module's Lock and
 * condition core (condition.c) instead of the library's sp_barrier_t,
 * because sp_barrier_t cannot give two of threading.Barrier's behaviours:
 *  1. an action that raises breaks the barrier (the other parties get
 *     BrokenBarrierError, the action's thread its exception): the library's
 *     action returns void and runs with the barrier's mutex held, where
 *     sp_barrier_abort() is refused (SP_EPERM);
 *  2. a waiter interrupted by a signal handler leaves without breaking
 *     the barrier (CPython: the exception propagates, the count drops):
 *     sp_barrier_wait() can only be left by its timeout, which breaks the
 *     barrier, so the main thread could not wait in interruptible slices.
 * The switch needs, in the library: an action that can fail and break its
 * generation (e.g. returning int), a default timeout given at init (issue
 * 13 has it), and a wait that can be cut into slices without breaking
 * (e.g. a flag or an _until variant that leaves quietly, breaking only at
 * the caller's final deadline).
 *
 * State (guarded by the barrier's lock, as in CPython): state_ 0 filling,
 * 1 draining, -1 resetting, -2 broken; count_ the threads inside wait(). */
#include "sppy.h"

#include <stddef.h>

typedef struct {
  PyObject ob_base;   /* PyObject_HEAD */
  sppy_condcore core; /* over a syncplus.Lock of its own */
  PyObject *action;   /* callable, or NULL */
  PyObject *timeout;  /* the default timeout: None or seconds */
  Py_ssize_t parties;
  int state;
  Py_ssize_t count;
  PyObject *weakreflist;
} BarrierObject;

static int barrier_ready(BarrierObject *self) {
  if (self->core.lock != NULL)
    return 0;
  PyErr_SetString(PyExc_RuntimeError,
                  "Barrier.__init__() was not called (a subclass's "
                  "__init__ must call it)");
  return -1;
}

static int barrier_init(BarrierObject *self, PyObject *args, PyObject *kwargs) {
  static char *kwlist[] = {"parties", "action", "timeout", NULL};
  PyObject *pobj, *action = Py_None, *timeout = Py_None;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|OO:Barrier", kwlist, &pobj,
                                   &action, &timeout))
    return -1;
  Py_ssize_t parties = PyNumber_AsSsize_t(pobj, PyExc_OverflowError);
  if (parties == -1 && PyErr_Occurred())
    return -1;
  if (parties < 1) {
    PyErr_SetString(PyExc_ValueError, "parties must be >= 1");
    return -1;
  }
  if (self->count > 0) {
    PyErr_SetString(PyExc_RuntimeError,
                    "cannot re-initialise a Barrier that threads wait on");
    return -1;
  }
  sppy_core_clear(&self->core);
  PyObject *lock = PyObject_CallNoArgs((PyObject *)&sppy_LockType);
  if (lock == NULL)
    return -1;
  int r = sppy_core_init(&self->core, lock);
  Py_DECREF(lock);
  if (r < 0)
    return -1;
  Py_XSETREF(self->action, action == Py_None ? NULL : Py_NewRef(action));
  Py_XSETREF(self->timeout, Py_NewRef(timeout));
  self->parties = parties;
  self->state = 0;
  self->count = 0;
  return 0;
}

static int barrier_traverse(BarrierObject *self, visitproc visit, void *arg) {
  Py_VISIT(self->action);
  Py_VISIT(self->timeout);
  return sppy_core_traverse(&self->core, visit, arg);
}

static int barrier_clear(BarrierObject *self) {
  Py_CLEAR(self->action);
  Py_CLEAR(self->timeout);
  sppy_core_clear(&self->core);
  return 0;
}

static void barrier_dealloc(BarrierObject *self) {
  PyObject_GC_UnTrack(self);
  if (self->weakreflist != NULL)
    PyObject_ClearWeakRefs((PyObject *)self);
  barrier_clear(self);
  Py_TYPE(self)->tp_free((PyObject *)self);
}

/* Release the lock, keeping the pending exception (if any) as the one that
 * propagates. */
static void barrier_unlock_keep_error(BarrierObject *self) {
  sppy_exc e;
  sppy_exc_save(&e);
  (void)sppy_core_release(&self->core);
  sppy_exc_restore(&e);
}

static int barrier_notify_all(BarrierObject *self) {
  return sppy_core_notify(&self->core, PY_SSIZE_T_MAX);
}

static void barrier_break(BarrierObject *self) {
  self->state = -2;
  (void)barrier_notify_all(self);
}

static int barrier_broken_error(void) {
  PyErr_SetNone(sppy_BrokenBarrierError);
  return -1;
}

/* The last party: run the action, then release the generation. */
static int barrier_release(BarrierObject *self) {
  if (self->action != NULL) {
    PyObject *r = PyObject_CallNoArgs(self->action);
    if (r == NULL) {
      sppy_exc e;
      sppy_exc_save(&e);
      barrier_break(self);
      sppy_exc_restore(&e);
      return -1;
    }
    Py_DECREF(r);
  }
  self->state = 1;
  return barrier_notify_all(self);
}

/* Wait for the generation to be released: wait_for(state != 0, timeout),
 * one deadline for the whole wait. */
static int barrier_wait_released(BarrierObject *self, PyObject *timeout) {
  int64_t end = SPPY_NEVER;
  if (timeout != Py_None) {
    double seconds = PyFloat_AsDouble(timeout);
    if (seconds == -1.0 && PyErr_Occurred())
      return -1;
    int64_t ns = 0;
    if (seconds > 0 && sppy_seconds_to_ns(seconds, &ns) < 0)
      return -1;
    end = ns == 0 ? sppy_now_ns() : sppy_deadline(ns);
  }
  int first = 1;
  while (self->state == 0) {
    int64_t wait_ns = SPPY_FOREVER;
    if (end != SPPY_NEVER) {
      int64_t now = sppy_now_ns();
      if (now >= end && !first)
        break;
      wait_ns = now >= end ? 0 : end - now;
    }
    first = 0;
    if (sppy_core_wait(&self->core, wait_ns) < 0)
      return -1;
  }
  if (self->state == 0) { /* timed out: break the barrier */
    barrier_break(self);
    return barrier_broken_error();
  }
  if (self->state < 0)
    return barrier_broken_error();
  return 0;
}

static PyObject *barrier_wait(BarrierObject *self, PyObject *args,
                              PyObject *kwargs) {
  static char *kwlist[] = {"timeout", NULL};
  PyObject *timeout = Py_None;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|O:wait", kwlist, &timeout))
    return NULL;
  if (barrier_ready(self) < 0)
    return NULL;
  if (timeout == Py_None)
    timeout = self->timeout;
  Py_INCREF(timeout); /* __init__ may run meanwhile */
  if (sppy_core_acquire(&self->core) < 0) {
    Py_DECREF(timeout);
    return NULL;
  }
  /* Enter: wait while the previous generation drains or resets. */
  while (self->state == -1 || self->state == 1) {
    if (sppy_core_wait(&self->core, SPPY_FOREVER) < 0)
      goto fail_locked;
  }
  if (self->state < 0) {
    barrier_broken_error();
    goto fail_locked;
  }
  Py_ssize_t index = self->count++;
  int r = index + 1 == self->parties ? barrier_release(self)
                                     : barrier_wait_released(self, timeout);
  /* Exit: the last one out of a released or reset generation opens the
   * barrier for the next. */
  self->count--;
  if (self->count == 0 && (self->state == -1 || self->state == 1)) {
    self->state = 0;
    if (r < 0) {
      sppy_exc e;
      sppy_exc_save(&e);
      (void)barrier_notify_all(self);
      sppy_exc_restore(&e);
    } else if (barrier_notify_all(self) < 0) {
      r = -1;
    }
  }
  if (r < 0)
    goto fail_locked;
  Py_DECREF(timeout);
  if (sppy_core_release(&self->core) < 0)
    return NULL;
  return PyLong_FromSsize_t(index);
fail_locked:
  Py_DECREF(timeout);
  barrier_unlock_keep_error(self);
  return NULL;
}

static PyObject *barrier_reset(BarrierObject *self, PyObject *unused) {
  (void)unused;
  if (barrier_ready(self) < 0 || sppy_core_acquire(&self->core) < 0)
    return NULL;
  if (self->count > 0) {
    if (self->state == 0 || self->state == -2)
      self->state = -1; /* the waiters leave with BrokenBarrierError */
  } else {
    self->state = 0;
  }
  int r = barrier_notify_all(self);
  if (sppy_core_release(&self->core) < 0 || r < 0)
    return NULL;
  Py_RETURN_NONE;
}

static PyObject *barrier_abort(BarrierObject *self, PyObject *unused) {
  (void)unused;
  if (barrier_ready(self) < 0 || sppy_core_acquire(&self->core) < 0)
    return NULL;
  barrier_break(self);
  if (sppy_core_release(&self->core) < 0)
    return NULL;
  Py_RETURN_NONE;
}

static PyObject *barrier_get_parties(BarrierObject *self, void *closure) {
  (void)closure;
  return PyLong_FromSsize_t(self->parties);
}

static PyObject *barrier_get_n_waiting(BarrierObject *self, void *closure) {
  (void)closure;
  return PyLong_FromSsize_t(self->state == 0 ? self->count : 0);
}

static PyObject *barrier_get_broken(BarrierObject *self, void *closure) {
  (void)closure;
  return PyBool_FromLong(self->state == -2);
}

static PyObject *barrier_repr(BarrierObject *self) {
  PyObject *name = sppy_type_name((PyObject *)self);
  if (name == NULL)
    return NULL;
  PyObject *r = self->state == -2
                    ? PyUnicode_FromFormat("<%U at %p: broken>", name, self)
                    : PyUnicode_FromFormat(
                          "<%U at %p: waiters=%zd/%zd>", name, self,
                          self->state == 0 ? self->count : 0, self->parties);
  Py_DECREF(name);
  return r;
}

static PyMethodDef barrier_methods[] = {
    {"wait", (PyCFunction)(void (*)(void))barrier_wait,
     METH_VARARGS | METH_KEYWORDS,
     "wait(timeout=None) -> int\n\nWait until `parties` threads called it; "
     "return this thread's index (0 to parties-1). BrokenBarrierError if "
     "the barrier is or gets broken, reset, or the timeout passes."},
    {"reset", (PyCFunction)barrier_reset, METH_NOARGS,
     "reset()\n\nReturn to the empty state; waiting threads get "
     "BrokenBarrierError."},
    {"abort", (PyCFunction)barrier_abort, METH_NOARGS,
     "abort()\n\nBreak the barrier."},
    {NULL, NULL, 0, NULL}};

static PyGetSetDef barrier_getset[] = {
    {"parties", (getter)barrier_get_parties, NULL, NULL, NULL},
    {"n_waiting", (getter)barrier_get_n_waiting, NULL, NULL, NULL},
    {"broken", (getter)barrier_get_broken, NULL, NULL, NULL},
    {NULL, NULL, NULL, NULL, NULL}};

PyTypeObject sppy_BarrierType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "syncplus.Barrier",
    .tp_basicsize = sizeof(BarrierObject),
    .tp_dealloc = (destructor)barrier_dealloc,
    .tp_repr = (reprfunc)barrier_repr,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "Barrier(parties, action=None, timeout=None)\n\n"
              "threading.Barrier (raising threading.BrokenBarrierError).",
    .tp_traverse = (traverseproc)barrier_traverse,
    .tp_clear = (inquiry)barrier_clear,
    .tp_weaklistoffset = offsetof(BarrierObject, weakreflist),
    .tp_methods = barrier_methods,
    .tp_getset = barrier_getset,
    .tp_init = (initproc)barrier_init,
    .tp_new = PyType_GenericNew,
};
