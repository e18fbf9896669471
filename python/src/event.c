/* syncplus.Event: threading.Event on the library's sp_event_t.
 *
 * The library promises that a thread waiting when the flag is set returns
 * SP_OK even if the flag is cleared again before it runs (CPython issue
 * 13502). A waiter that waits in slices (the signal-handling thread, see
 * sppy_wait) is between two library calls now and then; `sets` counts the
 * set() calls, and a waiter that sees it move since it started returns
 * True, so a set() followed by clear() while it was between slices is not
 * missed either. */
#include "sppy.h"

#include <stddef.h>

typedef struct {
  PyObject ob_base; /* PyObject_HEAD */
  sp_event_t event;
  uint64_t sets; /* set() calls so far (atomic; written with the GIL) */
  PyObject *weakreflist;
} EventObject;

static PyObject *event_new(PyTypeObject *type, PyObject *args,
                           PyObject *kwargs) {
  (void)args;
  (void)kwargs;
  EventObject *self = (EventObject *)type->tp_alloc(type, 0);
  if (self == NULL)
    return NULL;
  int rc = sp_event_init(&self->event);
  if (rc != SP_OK) {
    Py_DECREF(self);
    return sppy_raise(rc, "sp_event_init"), NULL;
  }
  return (PyObject *)self;
}

static int event_init(EventObject *self, PyObject *args, PyObject *kwargs) {
  (void)self;
  static char *kwlist[] = {NULL};
  return PyArg_ParseTupleAndKeywords(args, kwargs, ":Event", kwlist) ? 0 : -1;
}

static void event_dealloc(EventObject *self) {
  if (self->weakreflist != NULL)
    PyObject_ClearWeakRefs((PyObject *)self);
  (void)sp_event_destroy(&self->event);
  Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *event_is_set(EventObject *self, PyObject *unused) {
  (void)unused;
  int r = sp_event_is_set(&self->event);
  if (r < 0)
    return sppy_raise(r, "sp_event_is_set"), NULL;
  return PyBool_FromLong(r);
}

static PyObject *event_isSet(EventObject *self, PyObject *unused) {
  if (PyErr_WarnEx(PyExc_DeprecationWarning,
                   "isSet() is deprecated, use is_set() instead", 1) < 0)
    return NULL;
  return event_is_set(self, unused);
}

static PyObject *event_set(EventObject *self, PyObject *unused) {
  (void)unused;
  int rc = sp_event_set(&self->event);
  if (rc != SP_OK)
    return sppy_raise(rc, "sp_event_set"), NULL;
  sppy_inc_(&self->sets);
  Py_RETURN_NONE;
}

static PyObject *event_clear(EventObject *self, PyObject *unused) {
  (void)unused;
  int rc = sp_event_clear(&self->event);
  if (rc != SP_OK)
    return sppy_raise(rc, "sp_event_clear"), NULL;
  Py_RETURN_NONE;
}

typedef struct {
  EventObject *self;
  uint64_t start; /* `sets` when the wait began */
} event_wait_ctx;

static int sppy_op_event(void *arg, int64_t timeout_ns) {
  event_wait_ctx *c = arg;
  if (sppy_load_(&c->self->sets) != c->start)
    return SP_OK; /* set while this waiter was between two slices */
  return sp_event_wait(&c->self->event, timeout_ns);
}

static PyObject *event_wait(EventObject *self, PyObject *args,
                            PyObject *kwargs) {
  static char *kwlist[] = {"timeout", NULL};
  PyObject *timeout = Py_None;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|O:wait", kwlist, &timeout))
    return NULL;
  event_wait_ctx c = {self, sppy_load_(&self->sets)};
  int rc = sp_event_wait(&self->event, 0);
  if (rc == SP_OK)
    Py_RETURN_TRUE;
  if (rc != SP_BUSY)
    return sppy_raise(rc, "sp_event_wait"), NULL;
  int64_t timeout_ns;
  if (sppy_wait_timeout(timeout, &timeout_ns) < 0)
    return NULL;
  if (timeout_ns == 0)
    Py_RETURN_FALSE;
  rc = sppy_wait(sppy_op_event, &c, sppy_deadline(timeout_ns), 1);
  if (rc == SP_OK)
    Py_RETURN_TRUE;
  if (rc == SP_TIMEDOUT)
    Py_RETURN_FALSE;
  return sppy_raise(rc, "sp_event_wait"), NULL;
}

/* CPython's Event._at_fork_reinit() makes its condition new and keeps the
 * flag: the same here, with a new sp_event_t. */
static PyObject *event_at_fork_reinit(EventObject *self, PyObject *unused) {
  (void)unused;
  int flag = sp_event_is_set(&self->event) > 0;
  int rc = sp_event_init(&self->event);
  if (rc == SP_OK && flag)
    rc = sp_event_set(&self->event);
  if (rc != SP_OK)
    return sppy_raise(rc, "sp_event_init"), NULL;
  Py_RETURN_NONE;
}

static PyObject *event_repr(EventObject *self) {
  PyObject *name = sppy_type_name((PyObject *)self);
  if (name == NULL)
    return NULL;
  PyObject *r =
      PyUnicode_FromFormat("<%U at %p: %s>", name, self,
                           sp_event_is_set(&self->event) > 0 ? "set" : "unset");
  Py_DECREF(name);
  return r;
}

static PyMethodDef event_methods[] = {
    {"is_set", (PyCFunction)event_is_set, METH_NOARGS,
     "is_set() -> bool\n\nWhether the flag is set."},
    {"isSet", (PyCFunction)event_isSet, METH_NOARGS, NULL},
    {"set", (PyCFunction)event_set, METH_NOARGS,
     "set()\n\nSet the flag and wake every waiting thread."},
    {"clear", (PyCFunction)event_clear, METH_NOARGS,
     "clear()\n\nClear the flag."},
    {"wait", (PyCFunction)(void (*)(void))event_wait,
     METH_VARARGS | METH_KEYWORDS,
     "wait(timeout=None) -> bool\n\nWait until the flag is set, at most "
     "timeout seconds; True if it was set (even if cleared since)."},
    {"_at_fork_reinit", (PyCFunction)event_at_fork_reinit, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL}};

PyTypeObject sppy_EventType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "syncplus.Event",
    .tp_basicsize = sizeof(EventObject),
    .tp_dealloc = (destructor)event_dealloc,
    .tp_repr = (reprfunc)event_repr,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .tp_doc = "Event()\n\nthreading.Event on the library's sp_event_t.",
    .tp_weaklistoffset = offsetof(EventObject, weakreflist),
    .tp_methods = event_methods,
    .tp_init = (initproc)event_init,
    .tp_new = event_new,
};
