/* syncplus.Lock (sp_lock_t) and syncplus.RLock (sp_rlock_t): CPython's
 * _thread.lock and _thread.RLock, with the same methods, arguments,
 * results, reprs and exceptions.
 *
 * RLock keeps the owner's thread ident and recursion level beside the
 * library's sp_rlock_t, for its repr (as CPython prints them), for
 * _recursion_count() and for _release_save()/_acquire_restore(), which
 * release an rlock completely and restore its level (what a Condition over
 * an RLock needs). Only the owner changes them, with the GIL held, right
 * after its sp_rlock_acquire() and right before its sp_rlock_release(), so
 * they always describe the library's rlock as the owner sees it.
 * ISSUE-13: sp_rlock_count() gives the level; the owner's ident stays here
 * (the library's thread ids are not Python's).
 *
 * fork(): in CPython, an RLock that the forking thread owns is still that
 * thread's in the child (its owner is pthread_self(), which the child's
 * thread keeps), so `with rlock: os.fork()` releases it in both processes.
 * The library's owner is its own thread id, which a library may renew in a
 * forked child (the kernel gives the child's thread a new id). So the
 * owned rlocks are on a list (GIL), and after a fork the child makes each
 * one its forking thread owns a new sp_rlock_t held at the same level by
 * that thread (sppy_rlocks_after_fork, from os.register_at_fork). Rlocks
 * owned by the parent's other threads stay locked, as in CPython. */
#include "sppy.h"

#include <limits.h>
#include <stddef.h>

/* ---- Lock ---------------------------------------------------------------- */

static int sppy_op_lock(void *arg, int64_t timeout_ns) {
  return sp_lock_acquire((sp_lock_t *)arg, timeout_ns);
}

int sppy_lock_acquire(sppy_LockObject *self, int64_t timeout_ns,
                      int interruptible) {
  int rc = sppy_call(sppy_op_lock, &self->lock, timeout_ns, interruptible);
  if (rc == SP_OK)
    return 1;
  if (rc == SP_TIMEDOUT)
    return 0;
  return sppy_raise(rc, "sp_lock_acquire");
}

int sppy_lock_release(sppy_LockObject *self) {
  int rc = sp_lock_release(&self->lock);
  if (rc == SP_OK)
    return 0;
  if (rc == SP_EPERM) {
    PyErr_SetString(PyExc_RuntimeError, "release unlocked lock");
    return -1;
  }
  return sppy_raise(rc, "sp_lock_release");
}

static PyObject *lock_new(PyTypeObject *type, PyObject *args,
                          PyObject *kwargs) {
  static char *kwlist[] = {NULL};
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, ":Lock", kwlist))
    return NULL;
  sppy_LockObject *self = (sppy_LockObject *)type->tp_alloc(type, 0);
  if (self == NULL)
    return NULL;
  int rc = sp_lock_init(&self->lock);
  if (rc != SP_OK) {
    Py_DECREF(self); /* lock_dealloc on a zero-filled lock: no-op */
    sppy_raise(rc, "sp_lock_init");
    return NULL;
  }
  return (PyObject *)self;
}

static void lock_dealloc(sppy_LockObject *self) {
  if (self->weakreflist != NULL)
    PyObject_ClearWeakRefs((PyObject *)self);
  /* No thread can wait on it (a waiter holds a reference), and a locked
   * sp_lock_t may be destroyed. */
  (void)sp_lock_destroy(&self->lock);
  Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *lock_acquire(sppy_LockObject *self, PyObject *args,
                              PyObject *kwargs) {
  int64_t timeout_ns;
  if (sppy_parse_acquire_args(args, kwargs, "acquire", &timeout_ns) < 0)
    return NULL;
  int r = sppy_lock_acquire(self, timeout_ns, 1);
  if (r < 0)
    return NULL;
  return PyBool_FromLong(r);
}

static PyObject *lock_enter(sppy_LockObject *self, PyObject *unused) {
  (void)unused;
  int r = sppy_lock_acquire(self, SPPY_FOREVER, 1);
  if (r < 0)
    return NULL;
  return PyBool_FromLong(r);
}

static PyObject *lock_release(sppy_LockObject *self, PyObject *unused) {
  (void)unused;
  if (sppy_lock_release(self) < 0)
    return NULL;
  Py_RETURN_NONE;
}

static PyObject *lock_exit(sppy_LockObject *self, PyObject *args) {
  (void)args;
  return lock_release(self, NULL);
}

static PyObject *lock_locked(sppy_LockObject *self, PyObject *unused) {
  (void)unused;
  int r = sp_lock_locked(&self->lock);
  if (r < 0)
    return sppy_raise(r, "sp_lock_locked"), NULL;
  return PyBool_FromLong(r);
}

/* CPython's lock._at_fork_reinit(): in a forked child, make the lock a new
 * unlocked one, whatever state the parent's threads left it in. */
static PyObject *lock_at_fork_reinit(sppy_LockObject *self, PyObject *unused) {
  (void)unused;
  int rc = sp_lock_init(&self->lock);
  if (rc != SP_OK)
    return sppy_raise(rc, "sp_lock_init"), NULL;
  Py_RETURN_NONE;
}

static PyObject *lock_repr(sppy_LockObject *self) {
  return PyUnicode_FromFormat("<%s %s object at %p>",
                              sp_lock_locked(&self->lock) > 0 ? "locked"
                                                              : "unlocked",
                              Py_TYPE(self)->tp_name, self);
}

PyDoc_STRVAR(lock_acquire_doc,
             "acquire(blocking=True, timeout=-1) -> bool\n\n"
             "Lock the lock, waiting at most timeout seconds (-1: no limit)\n"
             "if blocking; return whether it was acquired. The wait\n"
             "releases the GIL and runs signal handlers in the main thread.");

static PyMethodDef lock_methods[] = {
    {"acquire", (PyCFunction)(void (*)(void))lock_acquire,
     METH_VARARGS | METH_KEYWORDS, lock_acquire_doc},
    {"acquire_lock", (PyCFunction)(void (*)(void))lock_acquire,
     METH_VARARGS | METH_KEYWORDS, lock_acquire_doc},
    {"__enter__", (PyCFunction)lock_enter, METH_NOARGS, lock_acquire_doc},
    {"release", (PyCFunction)lock_release, METH_NOARGS,
     "release()\n\nRelease the lock (any thread may); RuntimeError if it is "
     "not locked."},
    {"release_lock", (PyCFunction)lock_release, METH_NOARGS, NULL},
    {"__exit__", (PyCFunction)lock_exit, METH_VARARGS, NULL},
    {"locked", (PyCFunction)lock_locked, METH_NOARGS,
     "locked() -> bool\n\nWhether the lock is locked."},
    {"locked_lock", (PyCFunction)lock_locked, METH_NOARGS, NULL},
    {"_at_fork_reinit", (PyCFunction)lock_at_fork_reinit, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL}};

PyTypeObject sppy_LockType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "syncplus.Lock",
    .tp_basicsize = sizeof(sppy_LockObject),
    .tp_dealloc = (destructor)lock_dealloc,
    .tp_repr = (reprfunc)lock_repr,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .tp_doc = "Lock()\n\nA lock with threading.Lock's semantics on the "
              "library's sp_lock_t: not reentrant, released by any thread.",
    .tp_weaklistoffset = offsetof(sppy_LockObject, weakreflist),
    .tp_methods = lock_methods,
    .tp_new = lock_new,
};

/* ---- RLock --------------------------------------------------------------- */

static sppy_RLockObject *sppy_owned; /* rlocks with count > 0 (GIL) */

static void rlock_owned_link(sppy_RLockObject *self) {
  self->owned_prev = NULL;
  self->owned_next = sppy_owned;
  if (sppy_owned != NULL)
    sppy_owned->owned_prev = self;
  sppy_owned = self;
}

static void rlock_owned_unlink(sppy_RLockObject *self) {
  if (self->owned_prev != NULL)
    self->owned_prev->owned_next = self->owned_next;
  else if (sppy_owned == self)
    sppy_owned = self->owned_next;
  else
    return; /* not on the list */
  if (self->owned_next != NULL)
    self->owned_next->owned_prev = self->owned_prev;
  self->owned_prev = self->owned_next = NULL;
}

void sppy_rlocks_after_fork(void) {
  unsigned long me = PyThread_get_thread_ident();
  for (sppy_RLockObject *r = sppy_owned; r != NULL; r = r->owned_next) {
    if (r->owner != me || r->count == 0)
      continue;
    if (sp_rlock_init(&r->rlock) != SP_OK)
      continue;
    for (unsigned long i = 0; i < r->count; i++)
      if (sp_rlock_acquire(&r->rlock, 0) != SP_OK)
        break;
  }
}

static int sppy_op_rlock(void *arg, int64_t timeout_ns) {
  return sp_rlock_acquire((sp_rlock_t *)arg, timeout_ns);
}

int sppy_rlock_is_owned(sppy_RLockObject *self) {
  return self->count > 0 && self->owner == PyThread_get_thread_ident();
}

int sppy_rlock_acquire(sppy_RLockObject *self, int64_t timeout_ns,
                       int interruptible) {
  if (sppy_rlock_is_owned(self)) {
    if (self->count == ULONG_MAX) {
      PyErr_SetString(PyExc_OverflowError, "Internal lock count overflowed");
      return -1;
    }
    int rc = sp_rlock_acquire(&self->rlock, 0); /* nested: never blocks */
    if (rc != SP_OK)
      return sppy_raise(rc, "sp_rlock_acquire");
    self->count++;
    return 1;
  }
  int rc = sppy_call(sppy_op_rlock, &self->rlock, timeout_ns, interruptible);
  if (rc == SP_OK) {
    self->owner = PyThread_get_thread_ident();
    self->count = 1;
    rlock_owned_link(self);
    return 1;
  }
  if (rc == SP_TIMEDOUT)
    return 0;
  return sppy_raise(rc, "sp_rlock_acquire");
}

static int sppy_rlock_unowned(void) {
  PyErr_SetString(PyExc_RuntimeError, "cannot release un-acquired lock");
  return -1;
}

int sppy_rlock_release(sppy_RLockObject *self) {
  if (!sppy_rlock_is_owned(self))
    return sppy_rlock_unowned();
  if (--self->count == 0) {
    self->owner = 0;
    rlock_owned_unlink(self);
  }
  int rc = sp_rlock_release(&self->rlock);
  return rc == SP_OK ? 0 : sppy_raise(rc, "sp_rlock_release");
}

unsigned long sppy_rlock_release_all(sppy_RLockObject *self) {
  if (!sppy_rlock_is_owned(self)) {
    sppy_rlock_unowned();
    return 0;
  }
  unsigned long count = self->count;
  self->count = 0;
  self->owner = 0;
  rlock_owned_unlink(self);
  for (unsigned long i = 0; i < count; i++) {
    int rc = sp_rlock_release(&self->rlock);
    if (rc != SP_OK) {
      sppy_raise(rc, "sp_rlock_release");
      return 0;
    }
  }
  return count;
}

int sppy_rlock_acquire_restore(sppy_RLockObject *self, unsigned long count) {
  int rc = sppy_call(sppy_op_rlock, &self->rlock, SPPY_FOREVER, 0);
  if (rc != SP_OK)
    return sppy_raise(rc, "sp_rlock_acquire");
  for (unsigned long i = 1; i < count; i++) {
    rc = sp_rlock_acquire(&self->rlock, 0);
    if (rc != SP_OK) {
      while (i-- > 0)
        sp_rlock_release(&self->rlock);
      return sppy_raise(rc, "sp_rlock_acquire");
    }
  }
  self->owner = PyThread_get_thread_ident();
  self->count = count;
  rlock_owned_link(self);
  return 0;
}

static PyObject *rlock_new(PyTypeObject *type, PyObject *args,
                           PyObject *kwargs) {
  static char *kwlist[] = {NULL};
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, ":RLock", kwlist))
    return NULL;
  sppy_RLockObject *self = (sppy_RLockObject *)type->tp_alloc(type, 0);
  if (self == NULL)
    return NULL;
  int rc = sp_rlock_init(&self->rlock);
  if (rc != SP_OK) {
    Py_DECREF(self);
    sppy_raise(rc, "sp_rlock_init");
    return NULL;
  }
  return (PyObject *)self;
}

static void rlock_dealloc(sppy_RLockObject *self) {
  if (self->weakreflist != NULL)
    PyObject_ClearWeakRefs((PyObject *)self);
  /* An rlock may be dropped while locked (CPython allows it). The owner's
   * own levels are undone; one owned by another thread is left as is: no
   * thread waits on it (a waiter holds a reference), and an idle locked
   * sp_rlock_t holds no OS resource on any backend, so freeing its memory
   * loses nothing. */
  if (sppy_rlock_is_owned(self)) {
    while (self->count > 0 && sp_rlock_release(&self->rlock) == SP_OK)
      self->count--;
  }
  rlock_owned_unlink(self);
  (void)sp_rlock_destroy(&self->rlock);
  Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *rlock_acquire(sppy_RLockObject *self, PyObject *args,
                               PyObject *kwargs) {
  int64_t timeout_ns;
  if (sppy_parse_acquire_args(args, kwargs, "acquire", &timeout_ns) < 0)
    return NULL;
  int r = sppy_rlock_acquire(self, timeout_ns, 1);
  if (r < 0)
    return NULL;
  return PyBool_FromLong(r);
}

static PyObject *rlock_enter(sppy_RLockObject *self, PyObject *unused) {
  (void)unused;
  int r = sppy_rlock_acquire(self, SPPY_FOREVER, 1);
  if (r < 0)
    return NULL;
  return PyBool_FromLong(r);
}

static PyObject *rlock_release(sppy_RLockObject *self, PyObject *unused) {
  (void)unused;
  if (sppy_rlock_release(self) < 0)
    return NULL;
  Py_RETURN_NONE;
}

static PyObject *rlock_exit(sppy_RLockObject *self, PyObject *args) {
  (void)args;
  return rlock_release(self, NULL);
}

static PyObject *rlock_is_owned_py(sppy_RLockObject *self, PyObject *unused) {
  (void)unused;
  return PyBool_FromLong(sppy_rlock_is_owned(self));
}

static PyObject *rlock_release_save(sppy_RLockObject *self, PyObject *unused) {
  (void)unused;
  unsigned long owner = self->owner;
  unsigned long count = sppy_rlock_release_all(self);
  if (count == 0)
    return NULL;
  return Py_BuildValue("(kk)", count, owner);
}

static PyObject *rlock_acquire_restore(sppy_RLockObject *self, PyObject *args) {
  unsigned long count, owner;
  if (!PyArg_ParseTuple(args, "(kk):_acquire_restore", &count, &owner))
    return NULL;
  if (count == 0) {
    PyErr_SetString(PyExc_ValueError,
                    "_acquire_restore() needs a recursion level of 1 or more");
    return NULL;
  }
  if (sppy_rlock_acquire_restore(self, count) < 0)
    return NULL;
  Py_RETURN_NONE;
}

static PyObject *rlock_recursion_count(sppy_RLockObject *self,
                                       PyObject *unused) {
  (void)unused;
  return PyLong_FromUnsignedLong(sppy_rlock_is_owned(self) ? self->count : 0);
}

static PyObject *rlock_at_fork_reinit(sppy_RLockObject *self,
                                      PyObject *unused) {
  (void)unused;
  int rc = sp_rlock_init(&self->rlock);
  if (rc != SP_OK)
    return sppy_raise(rc, "sp_rlock_init"), NULL;
  self->owner = 0;
  self->count = 0;
  rlock_owned_unlink(self);
  Py_RETURN_NONE;
}

static PyObject *rlock_repr(sppy_RLockObject *self) {
  return PyUnicode_FromFormat("<%s %s object owner=%lu count=%lu at %p>",
                              self->count > 0 ? "locked" : "unlocked",
                              Py_TYPE(self)->tp_name, self->owner, self->count,
                              self);
}

PyDoc_STRVAR(rlock_acquire_doc,
             "acquire(blocking=True, timeout=-1) -> bool\n\n"
             "Lock the rlock; its owner may acquire it again (a level is\n"
             "counted). Waits at most timeout seconds (-1: no limit) if\n"
             "blocking; returns whether it was acquired.");

static PyMethodDef rlock_methods[] = {
    {"acquire", (PyCFunction)(void (*)(void))rlock_acquire,
     METH_VARARGS | METH_KEYWORDS, rlock_acquire_doc},
    {"__enter__", (PyCFunction)rlock_enter, METH_NOARGS, rlock_acquire_doc},
    {"release", (PyCFunction)rlock_release, METH_NOARGS,
     "release()\n\nUndo one acquire by the owner; RuntimeError otherwise."},
    {"__exit__", (PyCFunction)rlock_exit, METH_VARARGS, NULL},
    {"_is_owned", (PyCFunction)rlock_is_owned_py, METH_NOARGS, NULL},
    {"_release_save", (PyCFunction)rlock_release_save, METH_NOARGS, NULL},
    {"_acquire_restore", (PyCFunction)rlock_acquire_restore, METH_VARARGS,
     NULL},
    {"_recursion_count", (PyCFunction)rlock_recursion_count, METH_NOARGS, NULL},
    {"_at_fork_reinit", (PyCFunction)rlock_at_fork_reinit, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL}};

PyTypeObject sppy_RLockType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "syncplus.RLock",
    .tp_basicsize = sizeof(sppy_RLockObject),
    .tp_dealloc = (destructor)rlock_dealloc,
    .tp_repr = (reprfunc)rlock_repr,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .tp_doc = "RLock()\n\nA reentrant lock with threading.RLock's semantics "
              "on the library's sp_rlock_t.",
    .tp_weaklistoffset = offsetof(sppy_RLockObject, weakreflist),
    .tp_methods = rlock_methods,
    .tp_new = rlock_new,
};
