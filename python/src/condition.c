/* syncplus.Condition: threading.Condition, over the module's RLock (the
 * default), its Lock, or any lock object (as CPython accepts).
 *
 * MODULE-SIDE IMPLEMENTATION, to be switched (ISSUE-13). The library's
 * sp_cond_t waits only with an sp_mutex_t, whose owner alone may unlock
 * it and which has no timed lock; a Python Condition's lock is a Lock (any
 * thread releases it, timed acquire) or an RLock (released completely
 * around the wait, level restored). Issue 13 adds a condition over an
 * sp_lock_t/sp_rlock_t and sp_cond_notify(c, n). Until then the algorithm
 * is CPython's own threading.Condition, in C:
 *
 *  - each waiting thread has a waiter whose sp_lock_t it holds; wait()
 *    appends the waiter to the condition's FIFO, releases the user's lock
 *    (completely, for an RLock), and blocks acquiring the waiter's lock;
 *  - notify(n) pops up to n waiters from the head and releases their
 *    locks; notify_all() pops them all.
 * The FIFO is guarded by the GIL, and a waiter is queued before the user's
 * lock is released, so a notify (made with that lock held) always finds
 * every thread that waits: no lost wakeup, and no stolen one (only queued
 * waiters are woken). Unlike CPython's, a wakeup racing with a timeout is
 * never lost: the waiter whose wait timed out looks, with the GIL, whether
 * it is still queued; if a notify already popped it, it takes the wakeup
 * and returns True. A waiter interrupted by a signal handler that raises
 * passes a wakeup it already received to the next waiter.
 * A waiter's lock is held by its thread whenever the waiter is idle, so
 * waiters are recycled through a pool (GIL-guarded) without re-arming.
 *
 * The switch: in sppy_core_wait(), replace the waiter/FIFO with the
 * library's wait over the user's sp_lock_t/sp_rlock_t (SPPY_KIND_LOCK and
 * SPPY_KIND_RLOCK; the RLock's level bookkeeping is saved and restored
 * around it) in sppy_wait() slices, and in sppy_core_notify() call
 * sp_cond_notify(c, n); SPPY_KIND_OTHER (a foreign lock object) keeps this
 * algorithm. Nothing outside this file changes. */
#include "sppy.h"

#include <stddef.h>
#include <string.h>

/* ---- the waiter pool ------------------------------------------------------
 */

#define SPPY_POOL_MAX 256
static sppy_waiter *sppy_pool;
static int sppy_pool_n;

sppy_waiter *sppy_waiter_get(void) {
  sppy_waiter *w = sppy_pool;
  if (w != NULL) {
    sppy_pool = w->next;
    sppy_pool_n--;
    w->next = w->prev = NULL;
    return w;
  }
  w = PyMem_RawCalloc(1, sizeof *w);
  if (w == NULL) {
    PyErr_NoMemory();
    return NULL;
  }
  int rc = sp_lock_init(&w->lock);
  if (rc == SP_OK)
    rc = sp_lock_acquire(&w->lock, 0);
  if (rc != SP_OK) {
    (void)sp_lock_destroy(&w->lock);
    PyMem_RawFree(w);
    sppy_raise(rc, "sp_lock_init");
    return NULL;
  }
  return w;
}

static void sppy_waiter_free(sppy_waiter *w) {
  (void)sp_lock_release(&w->lock);
  (void)sp_lock_destroy(&w->lock);
  PyMem_RawFree(w);
}

void sppy_waiter_put(sppy_waiter *w) {
  w->queued = 0;
  w->prev = NULL;
  if (sppy_pool_n >= SPPY_POOL_MAX) {
    sppy_waiter_free(w);
    return;
  }
  w->next = sppy_pool;
  sppy_pool = w;
  sppy_pool_n++;
}

void sppy_waiter_pool_free(void) {
  while (sppy_pool != NULL) {
    sppy_waiter *w = sppy_pool;
    sppy_pool = w->next;
    sppy_waiter_free(w);
  }
  sppy_pool_n = 0;
}

/* ---- the FIFO (GIL) --------------------------------------------------------
 */

static void core_push(sppy_condcore *c, sppy_waiter *w) {
  w->next = NULL;
  w->prev = c->tail;
  if (c->tail != NULL)
    c->tail->next = w;
  else
    c->head = w;
  c->tail = w;
  w->queued = 1;
  c->nwaiters++;
}

static void core_unlink(sppy_condcore *c, sppy_waiter *w) {
  if (w->prev != NULL)
    w->prev->next = w->next;
  else
    c->head = w->next;
  if (w->next != NULL)
    w->next->prev = w->prev;
  else
    c->tail = w->prev;
  w->prev = w->next = NULL;
  w->queued = 0;
  c->nwaiters--;
}

/* Wake up to n queued waiters, oldest first. */
static void core_wake(sppy_condcore *c, Py_ssize_t n) {
  while (n > 0 && c->head != NULL) {
    sppy_waiter *w = c->head;
    core_unlink(c, w);
    /* A queued waiter's lock is held (by its thread): this cannot fail. */
    (void)sp_lock_release(&w->lock);
    n--;
  }
}

void sppy_core_forget_waiters(sppy_condcore *c) {
  while (c->head != NULL) {
    sppy_waiter *w = c->head;
    core_unlink(c, w);
    /* Its thread does not exist in this process: a new, held lock. */
    if (sp_lock_init(&w->lock) == SP_OK &&
        sp_lock_acquire(&w->lock, 0) == SP_OK)
      sppy_waiter_put(w);
  }
}

/* ---- the lock --------------------------------------------------------------
 */

/* An optional attribute: a new reference, or NULL without an exception
 * when it is absent; -1 on another error. */
static int core_optional(PyObject *lock, const char *name, PyObject **out) {
  *out = PyObject_GetAttrString(lock, name);
  if (*out != NULL)
    return 0;
  if (!PyErr_ExceptionMatches(PyExc_AttributeError))
    return -1;
  PyErr_Clear();
  return 0;
}

int sppy_core_init(sppy_condcore *c, PyObject *lock) {
  memset(c, 0, sizeof *c);
  if (lock == NULL || lock == Py_None) {
    lock = PyObject_CallNoArgs((PyObject *)&sppy_RLockType);
    if (lock == NULL)
      return -1;
  } else {
    Py_INCREF(lock);
  }
  c->lock = lock;
  /* Exact types only: a subclass may override acquire/release, and
   * CPython's Condition calls the lock's own methods. */
  if (Py_IS_TYPE(lock, &sppy_RLockType)) {
    c->kind = SPPY_KIND_RLOCK;
    return 0;
  }
  if (Py_IS_TYPE(lock, &sppy_LockType)) {
    c->kind = SPPY_KIND_LOCK;
    return 0;
  }
  c->kind = SPPY_KIND_OTHER;
  c->acquire = PyObject_GetAttrString(lock, "acquire");
  c->release = c->acquire ? PyObject_GetAttrString(lock, "release") : NULL;
  if (c->release == NULL ||
      core_optional(lock, "_release_save", &c->release_save) < 0 ||
      core_optional(lock, "_acquire_restore", &c->acquire_restore) < 0 ||
      core_optional(lock, "_is_owned", &c->is_owned) < 0) {
    sppy_core_clear(c);
    return -1;
  }
  return 0;
}

void sppy_core_clear(sppy_condcore *c) {
  Py_CLEAR(c->lock);
  Py_CLEAR(c->acquire);
  Py_CLEAR(c->release);
  Py_CLEAR(c->release_save);
  Py_CLEAR(c->acquire_restore);
  Py_CLEAR(c->is_owned);
}

int sppy_core_traverse(sppy_condcore *c, visitproc visit, void *arg) {
  Py_VISIT(c->lock);
  Py_VISIT(c->acquire);
  Py_VISIT(c->release);
  Py_VISIT(c->release_save);
  Py_VISIT(c->acquire_restore);
  Py_VISIT(c->is_owned);
  return 0;
}

static int core_call_true(PyObject *fn, PyObject *arg) {
  PyObject *r = arg ? PyObject_CallOneArg(fn, arg) : PyObject_CallNoArgs(fn);
  if (r == NULL)
    return -1;
  int t = PyObject_IsTrue(r);
  Py_DECREF(r);
  return t;
}

static int core_call_void(PyObject *fn) {
  PyObject *r = PyObject_CallNoArgs(fn);
  if (r == NULL)
    return -1;
  Py_DECREF(r);
  return 0;
}

int sppy_core_is_owned(sppy_condcore *c) {
  switch (c->kind) {
  case SPPY_KIND_LOCK: {
    /* CPython's default: owned when it cannot be acquired now. */
    int r = sp_lock_locked(&((sppy_LockObject *)c->lock)->lock);
    return r < 0 ? sppy_raise(r, "sp_lock_locked") : r;
  }
  case SPPY_KIND_RLOCK:
    return sppy_rlock_is_owned((sppy_RLockObject *)c->lock);
  default:
    if (c->is_owned != NULL)
      return core_call_true(c->is_owned, NULL);
    PyObject *f = PyBool_FromLong(0);
    int got = core_call_true(c->acquire, f);
    Py_DECREF(f);
    if (got <= 0)
      return got < 0 ? -1 : 1;
    return core_call_void(c->release) < 0 ? -1 : 0;
  }
}

int sppy_core_acquire(sppy_condcore *c) {
  switch (c->kind) {
  case SPPY_KIND_LOCK:
    return sppy_lock_acquire((sppy_LockObject *)c->lock, SPPY_FOREVER, 1) < 0
               ? -1
               : 0;
  case SPPY_KIND_RLOCK:
    return sppy_rlock_acquire((sppy_RLockObject *)c->lock, SPPY_FOREVER, 1) < 0
               ? -1
               : 0;
  default:
    return core_call_void(c->acquire);
  }
}

int sppy_core_release(sppy_condcore *c) {
  switch (c->kind) {
  case SPPY_KIND_LOCK:
    return sppy_lock_release((sppy_LockObject *)c->lock);
  case SPPY_KIND_RLOCK:
    return sppy_rlock_release((sppy_RLockObject *)c->lock);
  default:
    return core_call_void(c->release);
  }
}

/* What _release_save() saved, for _acquire_restore(). */
typedef struct {
  unsigned long count; /* RLOCK: the level */
  PyObject *state;     /* OTHER with _release_save: its result (owned) */
} core_saved;

static int core_release_save(sppy_condcore *c, core_saved *s) {
  s->count = 0;
  s->state = NULL;
  switch (c->kind) {
  case SPPY_KIND_LOCK:
    return sppy_lock_release((sppy_LockObject *)c->lock);
  case SPPY_KIND_RLOCK:
    s->count = sppy_rlock_release_all((sppy_RLockObject *)c->lock);
    return s->count == 0 ? -1 : 0;
  default:
    if (c->release_save != NULL) {
      s->state = PyObject_CallNoArgs(c->release_save);
      return s->state == NULL ? -1 : 0;
    }
    return core_call_void(c->release);
  }
}

/* Re-acquire after a wait. Not interruptible for the module's locks (the
 * caller must hold the lock again whatever happens, and CPython's RLock
 * restore is not interruptible either); a foreign lock's own methods
 * decide. Consumes s->state. */
static int core_acquire_restore(sppy_condcore *c, core_saved *s) {
  switch (c->kind) {
  case SPPY_KIND_LOCK:
    return sppy_lock_acquire((sppy_LockObject *)c->lock, SPPY_FOREVER, 0) < 0
               ? -1
               : 0;
  case SPPY_KIND_RLOCK:
    return sppy_rlock_acquire_restore((sppy_RLockObject *)c->lock, s->count);
  default: {
    int r;
    if (c->acquire_restore != NULL) {
      PyObject *st = s->state ? s->state : Py_None;
      PyObject *res = PyObject_CallOneArg(c->acquire_restore, st);
      r = res == NULL ? -1 : 0;
      Py_XDECREF(res);
    } else {
      r = core_call_void(c->acquire);
    }
    Py_CLEAR(s->state);
    return r;
  }
  }
}

/* ---- wait and notify
 * --------------------------------------------------------- */

static int sppy_op_waiter(void *arg, int64_t timeout_ns) {
  return sp_lock_acquire((sp_lock_t *)arg, timeout_ns);
}

/* wait() once ownership is known: 1 notified, 0 timed out, -1 error. */
static int core_wait_owned(sppy_condcore *c, int64_t timeout_ns) {
  sppy_waiter *w = sppy_waiter_get();
  if (w == NULL)
    return -1;
  core_push(c, w);
  core_saved s;
  if (core_release_save(c, &s) < 0) {
    core_unlink(c, w);
    sppy_waiter_put(w);
    return -1;
  }
  int rc = sppy_call(sppy_op_waiter, &w->lock, timeout_ns, 1);
  int rearmed = 1; /* w->lock is held again */
  if (rc != SP_OK) {
    if (w->queued) {
      core_unlink(c, w); /* not notified: leave the FIFO */
    } else if (sp_lock_acquire(&w->lock, 0) == SP_OK) {
      /* A notify popped it after the wait gave up: the wakeup is this
       * waiter's. Take it after a timeout; pass it on when interrupted. */
      if (rc == SP_TIMEDOUT)
        rc = SP_OK;
      else
        core_wake(c, 1);
    } else {
      rearmed = 0; /* cannot happen: a notify released it */
    }
  }
  if (rearmed)
    sppy_waiter_put(w);
  else
    sppy_waiter_free(w);
  int result = rc == SP_OK ? 1 : rc == SP_TIMEDOUT ? 0 : -1;
  if (result < 0 && rc != SPPY_INTR)
    sppy_raise(rc, "sp_lock_acquire");
  if (result < 0) {
    sppy_exc e;
    sppy_exc_save(&e);
    (void)core_acquire_restore(c, &s);
    sppy_exc_restore(&e);
    return -1;
  }
  if (core_acquire_restore(c, &s) < 0)
    return -1;
  return result;
}

static int core_not_owned(const char *what) {
  PyErr_Format(PyExc_RuntimeError, "cannot %s on un-acquired lock", what);
  return -1;
}

int sppy_core_wait(sppy_condcore *c, int64_t timeout_ns) {
  int owned = sppy_core_is_owned(c);
  if (owned <= 0)
    return owned < 0 ? -1 : core_not_owned("wait");
  return core_wait_owned(c, timeout_ns);
}

int sppy_core_notify(sppy_condcore *c, Py_ssize_t n) {
  int owned = sppy_core_is_owned(c);
  if (owned <= 0)
    return owned < 0 ? -1 : core_not_owned("notify");
  core_wake(c, n);
  return 0;
}

/* ---- the Condition type
 * ------------------------------------------------------ */

typedef struct {
  PyObject ob_base; /* PyObject_HEAD */
  sppy_condcore core;
  PyObject *weakreflist;
} CondObject;

static int cond_ready(CondObject *self) {
  if (self->core.lock != NULL)
    return 0;
  PyErr_SetString(PyExc_RuntimeError,
                  "Condition.__init__() was not called (a subclass's "
                  "__init__ must call it)");
  return -1;
}

static int cond_init(CondObject *self, PyObject *args, PyObject *kwargs) {
  static char *kwlist[] = {"lock", NULL};
  PyObject *lock = Py_None;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|O:Condition", kwlist, &lock))
    return -1;
  if (self->core.nwaiters > 0) {
    PyErr_SetString(PyExc_RuntimeError,
                    "cannot re-initialise a Condition that threads wait on");
    return -1;
  }
  sppy_core_clear(&self->core);
  return sppy_core_init(&self->core, lock);
}

static int cond_traverse(CondObject *self, visitproc visit, void *arg) {
  return sppy_core_traverse(&self->core, visit, arg);
}

static int cond_clear(CondObject *self) {
  sppy_core_clear(&self->core);
  return 0;
}

static void cond_dealloc(CondObject *self) {
  PyObject_GC_UnTrack(self);
  if (self->weakreflist != NULL)
    PyObject_ClearWeakRefs((PyObject *)self);
  sppy_core_clear(&self->core);
  Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *cond_acquire(CondObject *self, PyObject *args,
                              PyObject *kwargs) {
  if (cond_ready(self) < 0)
    return NULL;
  if (self->core.kind == SPPY_KIND_OTHER)
    return PyObject_Call(self->core.acquire, args, kwargs);
  int64_t timeout_ns;
  if (sppy_parse_acquire_args(args, kwargs, "acquire", &timeout_ns) < 0)
    return NULL;
  int r =
      self->core.kind == SPPY_KIND_LOCK
          ? sppy_lock_acquire((sppy_LockObject *)self->core.lock, timeout_ns, 1)
          : sppy_rlock_acquire((sppy_RLockObject *)self->core.lock, timeout_ns,
                               1);
  return r < 0 ? NULL : PyBool_FromLong(r);
}

static PyObject *cond_release(CondObject *self, PyObject *args,
                              PyObject *kwargs) {
  if (cond_ready(self) < 0)
    return NULL;
  if (self->core.kind == SPPY_KIND_OTHER)
    return PyObject_Call(self->core.release, args, kwargs);
  if (PyTuple_GET_SIZE(args) != 0 ||
      (kwargs != NULL && PyDict_GET_SIZE(kwargs) != 0)) {
    PyErr_SetString(PyExc_TypeError, "release() takes no arguments");
    return NULL;
  }
  if (sppy_core_release(&self->core) < 0)
    return NULL;
  Py_RETURN_NONE;
}

static PyObject *cond_enter(CondObject *self, PyObject *unused) {
  (void)unused;
  if (cond_ready(self) < 0)
    return NULL;
  if (self->core.kind == SPPY_KIND_OTHER)
    return PyObject_CallMethod(self->core.lock, "__enter__", NULL);
  if (sppy_core_acquire(&self->core) < 0)
    return NULL;
  Py_RETURN_TRUE;
}

static PyObject *cond_exit(CondObject *self, PyObject *args) {
  if (cond_ready(self) < 0)
    return NULL;
  if (self->core.kind == SPPY_KIND_OTHER) {
    PyObject *m = PyObject_GetAttrString(self->core.lock, "__exit__");
    if (m == NULL)
      return NULL;
    PyObject *r = PyObject_Call(m, args, NULL);
    Py_DECREF(m);
    return r;
  }
  if (sppy_core_release(&self->core) < 0)
    return NULL;
  Py_RETURN_NONE;
}

static PyObject *cond_is_owned(CondObject *self, PyObject *unused) {
  (void)unused;
  if (cond_ready(self) < 0)
    return NULL;
  int r = sppy_core_is_owned(&self->core);
  return r < 0 ? NULL : PyBool_FromLong(r);
}

static PyObject *cond_release_save(CondObject *self, PyObject *unused) {
  (void)unused;
  if (cond_ready(self) < 0)
    return NULL;
  if (self->core.kind == SPPY_KIND_RLOCK)
    return PyObject_CallMethod(self->core.lock, "_release_save", NULL);
  core_saved s;
  if (core_release_save(&self->core, &s) < 0)
    return NULL;
  if (s.state != NULL)
    return s.state;
  Py_RETURN_NONE;
}

static PyObject *cond_acquire_restore(CondObject *self, PyObject *state) {
  if (cond_ready(self) < 0)
    return NULL;
  switch (self->core.kind) {
  case SPPY_KIND_RLOCK:
    return PyObject_CallMethod(self->core.lock, "_acquire_restore", "(O)",
                               state);
  case SPPY_KIND_LOCK: /* CPython's default: self._lock.acquire() */
    if (sppy_lock_acquire((sppy_LockObject *)self->core.lock, SPPY_FOREVER, 1) <
        0)
      return NULL;
    Py_RETURN_NONE;
  default:
    if (self->core.acquire_restore != NULL)
      return PyObject_CallOneArg(self->core.acquire_restore, state);
    return PyObject_CallNoArgs(self->core.acquire);
  }
}

static PyObject *cond_recursion_count(CondObject *self, PyObject *unused) {
  (void)unused;
  if (cond_ready(self) < 0)
    return NULL;
  return PyObject_CallMethod(self->core.lock, "_recursion_count", NULL);
}

static PyObject *cond_at_fork_reinit(CondObject *self, PyObject *unused) {
  (void)unused;
  if (cond_ready(self) < 0)
    return NULL;
  PyObject *r = PyObject_CallMethod(self->core.lock, "_at_fork_reinit", NULL);
  if (r == NULL)
    return NULL;
  Py_DECREF(r);
  sppy_core_forget_waiters(&self->core);
  Py_RETURN_NONE;
}

static PyObject *cond_wait(CondObject *self, PyObject *args, PyObject *kwargs) {
  static char *kwlist[] = {"timeout", NULL};
  PyObject *timeout = Py_None;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|O:wait", kwlist, &timeout))
    return NULL;
  if (cond_ready(self) < 0)
    return NULL;
  int owned = sppy_core_is_owned(&self->core);
  if (owned <= 0)
    return owned < 0 ? NULL : (core_not_owned("wait"), NULL);
  int64_t timeout_ns;
  if (sppy_wait_timeout(timeout, &timeout_ns) < 0)
    return NULL;
  int r = core_wait_owned(&self->core, timeout_ns);
  return r < 0 ? NULL : PyBool_FromLong(r);
}

/* wait_for(predicate, timeout=None), CPython's loop: one deadline, taken
 * at the first wait, for the whole call. */
static PyObject *cond_wait_for(CondObject *self, PyObject *args,
                               PyObject *kwargs) {
  static char *kwlist[] = {"predicate", "timeout", NULL};
  PyObject *pred, *timeout = Py_None;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|O:wait_for", kwlist, &pred,
                                   &timeout))
    return NULL;
  if (cond_ready(self) < 0)
    return NULL;
  double seconds = 0;
  if (timeout != Py_None) {
    seconds = PyFloat_AsDouble(timeout);
    if (seconds == -1.0 && PyErr_Occurred())
      return NULL;
  }
  PyObject *result = PyObject_CallNoArgs(pred);
  int64_t end = 0;
  int first = 1;
  for (;;) {
    if (result == NULL)
      return NULL;
    int t = PyObject_IsTrue(result);
    if (t != 0) {
      if (t < 0)
        Py_CLEAR(result);
      return result;
    }
    int64_t wait_ns = SPPY_FOREVER;
    if (timeout != Py_None) {
      if (first) {
        wait_ns = 0;
        if (seconds > 0 && sppy_seconds_to_ns(seconds, &wait_ns) < 0)
          break;
        end = wait_ns == 0 ? sppy_now_ns() : sppy_deadline(wait_ns);
      } else {
        int64_t now = sppy_now_ns();
        if (now >= end)
          return result; /* falsy: the predicate's last value */
        wait_ns = end - now;
      }
    }
    first = 0;
    if (sppy_core_wait(&self->core, wait_ns) < 0)
      break;
    Py_DECREF(result);
    result = PyObject_CallNoArgs(pred);
  }
  Py_DECREF(result);
  return NULL;
}

static PyObject *cond_notify(CondObject *self, PyObject *args,
                             PyObject *kwargs) {
  static char *kwlist[] = {"n", NULL};
  PyObject *nobj = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|O:notify", kwlist, &nobj))
    return NULL;
  if (cond_ready(self) < 0)
    return NULL;
  Py_ssize_t n = 1;
  if (nobj != NULL) {
    n = PyNumber_AsSsize_t(nobj, NULL); /* clamps huge values */
    if (n == -1 && PyErr_Occurred())
      return NULL;
  }
  if (sppy_core_notify(&self->core, n) < 0)
    return NULL;
  Py_RETURN_NONE;
}

static PyObject *cond_notify_all(CondObject *self, PyObject *unused) {
  (void)unused;
  if (cond_ready(self) < 0)
    return NULL;
  if (sppy_core_notify(&self->core, PY_SSIZE_T_MAX) < 0)
    return NULL;
  Py_RETURN_NONE;
}

static PyObject *cond_notifyAll(CondObject *self, PyObject *unused) {
  if (PyErr_WarnEx(PyExc_DeprecationWarning,
                   "notifyAll() is deprecated, use notify_all() instead",
                   1) < 0)
    return NULL;
  return cond_notify_all(self, unused);
}

static PyObject *cond_repr(CondObject *self) {
  if (self->core.lock == NULL)
    return PyUnicode_FromString("<Condition(uninitialised)>");
  return PyUnicode_FromFormat("<Condition(%R, %zd)>", self->core.lock,
                              self->core.nwaiters);
}

static PyObject *cond_get_lock(CondObject *self, void *closure) {
  (void)closure;
  if (cond_ready(self) < 0)
    return NULL;
  Py_INCREF(self->core.lock);
  return self->core.lock;
}

static PyMethodDef cond_methods[] = {
    {"acquire", (PyCFunction)(void (*)(void))cond_acquire,
     METH_VARARGS | METH_KEYWORDS, "acquire(*args) -> the lock's acquire()"},
    {"release", (PyCFunction)(void (*)(void))cond_release,
     METH_VARARGS | METH_KEYWORDS, "release() -> the lock's release()"},
    {"__enter__", (PyCFunction)cond_enter, METH_NOARGS, NULL},
    {"__exit__", (PyCFunction)cond_exit, METH_VARARGS, NULL},
    {"wait", (PyCFunction)(void (*)(void))cond_wait,
     METH_VARARGS | METH_KEYWORDS,
     "wait(timeout=None) -> bool\n\nRelease the lock, wait until notified "
     "or until timeout seconds passed, re-acquire it; True if notified."},
    {"wait_for", (PyCFunction)(void (*)(void))cond_wait_for,
     METH_VARARGS | METH_KEYWORDS,
     "wait_for(predicate, timeout=None)\n\nWait until predicate() is true, "
     "at most timeout seconds in all; return its last value."},
    {"notify", (PyCFunction)(void (*)(void))cond_notify,
     METH_VARARGS | METH_KEYWORDS,
     "notify(n=1)\n\nWake up to n of the threads waiting, oldest first."},
    {"notify_all", (PyCFunction)cond_notify_all, METH_NOARGS,
     "notify_all()\n\nWake every thread waiting."},
    {"notifyAll", (PyCFunction)cond_notifyAll, METH_NOARGS, NULL},
    {"_is_owned", (PyCFunction)cond_is_owned, METH_NOARGS, NULL},
    {"_release_save", (PyCFunction)cond_release_save, METH_NOARGS, NULL},
    {"_acquire_restore", (PyCFunction)cond_acquire_restore, METH_O, NULL},
    {"_recursion_count", (PyCFunction)cond_recursion_count, METH_NOARGS, NULL},
    {"_at_fork_reinit", (PyCFunction)cond_at_fork_reinit, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL}};

static PyGetSetDef cond_getset[] = {
    {"_lock", (getter)cond_get_lock, NULL, NULL, NULL},
    {NULL, NULL, NULL, NULL, NULL}};

PyTypeObject sppy_ConditionType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "syncplus.Condition",
    .tp_basicsize = sizeof(CondObject),
    .tp_dealloc = (destructor)cond_dealloc,
    .tp_repr = (reprfunc)cond_repr,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "Condition(lock=None)\n\nthreading.Condition: over a new "
              "syncplus.RLock by default, or the lock given (a syncplus or "
              "threading Lock/RLock, or any object with acquire/release).",
    .tp_traverse = (traverseproc)cond_traverse,
    .tp_clear = (inquiry)cond_clear,
    .tp_weaklistoffset = offsetof(CondObject, weakreflist),
    .tp_methods = cond_methods,
    .tp_getset = cond_getset,
    .tp_init = (initproc)cond_init,
    .tp_new = PyType_GenericNew,
};
