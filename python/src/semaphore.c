/* syncplus.Semaphore and syncplus.BoundedSemaphore: threading's, on the
 * library's sp_sem_t (bound 0: unbounded; bound > 0: bounded).
 *
 * Limits of the library: a value is an int, so a value above INT_MAX
 * (CPython's is unbounded) raises OverflowError. BoundedSemaphore(0) is the
 * one bounded semaphore the library cannot express (its bound 0 means
 * "unbounded"): every release of it raises ValueError here, before the
 * library is called, which is exactly CPython's behaviour (its value can
 * never exceed 0). */
#include "sppy.h"

#include <limits.h>
#include <stddef.h>

typedef struct {
  PyObject ob_base; /* PyObject_HEAD */
  sp_sem_t sem;
  int initial; /* BoundedSemaphore: the bound */
  int bounded;
  int configured; /* __init__ has run (it may run again) */
  PyObject *weakreflist;
} SemObject;

static int sem_value_arg(PyObject *obj, const char *what, int *out) {
  int overflow;
  long long v = PyLong_AsLongLongAndOverflow(obj, &overflow);
  if (v == -1 && PyErr_Occurred())
    return -1;
  if (overflow != 0)
    v = overflow < 0 ? LLONG_MIN : LLONG_MAX;
  if (v > INT_MAX) {
    PyErr_Format(PyExc_OverflowError,
                 "syncplus: a semaphore's %s is at most %d", what, INT_MAX);
    return -1;
  }
  *out = v < INT_MIN ? INT_MIN : (int)v;
  return 0;
}

static PyObject *sem_new(PyTypeObject *type, PyObject *args, PyObject *kwargs) {
  (void)args;
  (void)kwargs;
  SemObject *self = (SemObject *)type->tp_alloc(type, 0);
  if (self == NULL)
    return NULL;
  self->bounded = PyObject_TypeCheck(self, &sppy_BoundedSemaphoreType);
  self->initial = 1;
  int rc = sp_sem_init(&self->sem, 1, self->bounded ? 1 : 0);
  if (rc != SP_OK) {
    Py_DECREF(self);
    return sppy_raise(rc, "sp_sem_init"), NULL;
  }
  return (PyObject *)self;
}

static int sem_init(SemObject *self, PyObject *args, PyObject *kwargs) {
  static char *kwlist[] = {"value", NULL};
  PyObject *vobj = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|O:Semaphore", kwlist, &vobj))
    return -1;
  int value = 1;
  if (vobj != NULL && sem_value_arg(vobj, "value", &value) < 0)
    return -1;
  if (value < 0) {
    PyErr_SetString(PyExc_ValueError, "semaphore initial value must be >= 0");
    return -1;
  }
  int rc = sp_sem_destroy(&self->sem);
  if (rc == SP_EPERM) {
    PyErr_SetString(PyExc_RuntimeError,
                    "cannot re-initialise a semaphore that threads wait on");
    return -1;
  }
  rc = sp_sem_init(&self->sem, value, self->bounded ? value : 0);
  if (rc != SP_OK)
    return sppy_raise(rc, "sp_sem_init");
  self->initial = value;
  self->configured = 1;
  return 0;
}

static void sem_dealloc(SemObject *self) {
  if (self->weakreflist != NULL)
    PyObject_ClearWeakRefs((PyObject *)self);
  (void)sp_sem_destroy(&self->sem);
  Py_TYPE(self)->tp_free((PyObject *)self);
}

static int sppy_op_sem(void *arg, int64_t timeout_ns) {
  return sp_sem_acquire((sp_sem_t *)arg, timeout_ns);
}

/* 1 acquired, 0 not, -1 exception. */
static int sem_acquire_impl(SemObject *self, int blocking, PyObject *timeout) {
  if (!blocking && timeout != Py_None) {
    PyErr_SetString(PyExc_ValueError,
                    "can't specify timeout for non-blocking acquire");
    return -1;
  }
  int rc = sp_sem_acquire(&self->sem, 0);
  if (rc == SP_OK)
    return 1;
  if (rc != SP_BUSY)
    return sppy_raise(rc, "sp_sem_acquire");
  if (!blocking)
    return 0;
  int64_t timeout_ns;
  if (sppy_wait_timeout(timeout, &timeout_ns) < 0)
    return -1;
  if (timeout_ns == 0)
    return 0;
  rc = sppy_wait(sppy_op_sem, &self->sem, sppy_deadline(timeout_ns), 1);
  if (rc == SP_OK)
    return 1;
  if (rc == SP_TIMEDOUT)
    return 0;
  return sppy_raise(rc, "sp_sem_acquire");
}

static PyObject *sem_acquire(SemObject *self, PyObject *args,
                             PyObject *kwargs) {
  static char *kwlist[] = {"blocking", "timeout", NULL};
  int blocking = 1;
  PyObject *timeout = Py_None;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|pO:acquire", kwlist,
                                   &blocking, &timeout))
    return NULL;
  int r = sem_acquire_impl(self, blocking, timeout);
  return r < 0 ? NULL : PyBool_FromLong(r);
}

static PyObject *sem_enter(SemObject *self, PyObject *unused) {
  (void)unused;
  int r = sem_acquire_impl(self, 1, Py_None);
  return r < 0 ? NULL : PyBool_FromLong(r);
}

static int sem_too_many(void) {
  PyErr_SetString(PyExc_ValueError, "Semaphore released too many times");
  return -1;
}

static int sem_release_impl(SemObject *self, int n) {
  if (n < 1) {
    PyErr_SetString(PyExc_ValueError, "n must be one or more");
    return -1;
  }
  if (self->bounded && self->initial == 0)
    return sem_too_many(); /* the library cannot bound at 0 (see above) */
  int rc = sp_sem_release(&self->sem, n);
  if (rc == SP_OK)
    return 0;
  if (rc == SP_EPERM) {
    if (self->bounded)
      return sem_too_many();
    PyErr_Format(PyExc_OverflowError,
                 "syncplus: a semaphore's value is at most %d", INT_MAX);
    return -1;
  }
  return sppy_raise(rc, "sp_sem_release");
}

static PyObject *sem_release(SemObject *self, PyObject *args,
                             PyObject *kwargs) {
  static char *kwlist[] = {"n", NULL};
  PyObject *nobj = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|O:release", kwlist, &nobj))
    return NULL;
  int n = 1;
  if (nobj != NULL && sem_value_arg(nobj, "release count", &n) < 0)
    return NULL;
  if (sem_release_impl(self, n) < 0)
    return NULL;
  Py_RETURN_NONE;
}

static PyObject *sem_exit(SemObject *self, PyObject *args) {
  (void)args;
  if (sem_release_impl(self, 1) < 0)
    return NULL;
  Py_RETURN_NONE;
}

static PyObject *sem_repr(SemObject *self) {
  PyObject *name = sppy_type_name((PyObject *)self);
  if (name == NULL)
    return NULL;
  int value = sp_sem_value(&self->sem);
  PyObject *r =
      self->bounded
          ? PyUnicode_FromFormat("<%U at %p: value=%d/%d>", name, self, value,
                                 self->initial)
          : PyUnicode_FromFormat("<%U at %p: value=%d>", name, self, value);
  Py_DECREF(name);
  return r;
}

static PyObject *sem_get_value(SemObject *self, void *closure) {
  (void)closure;
  return PyLong_FromLong(sp_sem_value(&self->sem));
}

static PyObject *sem_get_initial(SemObject *self, void *closure) {
  (void)closure;
  return PyLong_FromLong(self->initial);
}

PyDoc_STRVAR(sem_acquire_doc,
             "acquire(blocking=True, timeout=None) -> bool\n\n"
             "Decrement the value, waiting while it is 0 (at most timeout\n"
             "seconds if given); return whether it was decremented.");

static PyMethodDef sem_methods[] = {
    {"acquire", (PyCFunction)(void (*)(void))sem_acquire,
     METH_VARARGS | METH_KEYWORDS, sem_acquire_doc},
    {"__enter__", (PyCFunction)sem_enter, METH_NOARGS, sem_acquire_doc},
    {"release", (PyCFunction)(void (*)(void))sem_release,
     METH_VARARGS | METH_KEYWORDS,
     "release(n=1)\n\nAdd n to the value, waking up to n waiters."},
    {"__exit__", (PyCFunction)sem_exit, METH_VARARGS, NULL},
    {NULL, NULL, 0, NULL}};

static PyGetSetDef sem_getset[] = {
    {"_value", (getter)sem_get_value, NULL, "the value (read-only)", NULL},
    {NULL, NULL, NULL, NULL, NULL}};

static PyGetSetDef bsem_getset[] = {
    {"_initial_value", (getter)sem_get_initial, NULL, "the bound", NULL},
    {NULL, NULL, NULL, NULL, NULL}};

PyTypeObject sppy_SemaphoreType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "syncplus.Semaphore",
    .tp_basicsize = sizeof(SemObject),
    .tp_dealloc = (destructor)sem_dealloc,
    .tp_repr = (reprfunc)sem_repr,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .tp_doc = "Semaphore(value=1)\n\nthreading.Semaphore on the library's "
              "sp_sem_t.",
    .tp_weaklistoffset = offsetof(SemObject, weakreflist),
    .tp_methods = sem_methods,
    .tp_getset = sem_getset,
    .tp_init = (initproc)sem_init,
    .tp_new = sem_new,
};

PyTypeObject sppy_BoundedSemaphoreType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "syncplus.BoundedSemaphore",
    .tp_basicsize = sizeof(SemObject),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .tp_doc = "BoundedSemaphore(value=1)\n\nthreading.BoundedSemaphore: a "
              "release past the initial value raises ValueError.",
    .tp_getset = bsem_getset,
    .tp_base = &sppy_SemaphoreType,
};
