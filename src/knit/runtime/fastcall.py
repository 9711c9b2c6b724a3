"""The fast path of a call into compiled code: the checks and the call in C.

A ctypes call alone costs ~0.5 us and binding a call in Python (args.Binder) several
more (an axpy call took ~9 us idle); small kernels are called in loops, where that
decides whether knit is usable. Through its plan the same call takes ~0.2 us
(benchmarks/call_overhead.py).
So each compiled callable also gets a *plan*: a few int64 instructions, built once
from the proc's parameters, that a small CPython extension (`_knitcall`, compiled
once per Python, NumPy and compiler and kept in the knit cache) runs on each call:

    parse each argument (exact int, bool, float, or ndarray of the exact dtype),
    check ranks, shapes (size expressions), layout flags, strides, preconditions
    and overlaps, then call the library's `knit_entry_v(int64 args[])`.

The plan only ever *accepts* a call the full binder would accept, and runs it the
same way; anything it does not handle or that fails a check (a keyword argument,
a NumPy integer for a size, a read-only input, arrays that may overlap, a failed
assert...) goes to the Python path, which gives the exact answer and the error
message. If the extension cannot be built (no Python headers), every call takes
the Python path: slower, never different.

The extension needs Python.h and NumPy's headers; it reads an ndarray's fields
through NumPy's public struct layout (numpy/ndarraytypes.h) without NumPy's C-API
table, and compares dtypes by identity with the canonical dtype objects, as
`x.dtype is np.dtype("float32")` would.
"""

from __future__ import annotations

import ctypes
import os
import sys
import sysconfig
import threading
from array import array

from knit.ir import nodes as N
from knit.runtime.cc import compiler_command, load_library

# ---------------------------------------------------------------- instructions

(CTRL, ARR, SCALAR, INFER, PUSHC, PUSHR, PUSHSTRIDE, BINOP, NEG, CHECKDIM, CHECK,
 OVERLAP, OUT_R, OUT_PTR, OUT_STRIDES) = range(1, 16)
BINOPS = {"+": 0, "-": 1, "*": 2, "/": 3, "%": 4, "<": 5, ">": 6, "<=": 7, ">=": 8,
          "==": 9, "and": 10, "or": 11}
CTRL_INT, CTRL_SIZE, CTRL_BOOL = 0, 1, 2
F_WRITTEN, F_WINDOW = 1, 2
FLOAT_NONE, FLOAT_F32, FLOAT_F64 = 0, 1, 2

_SOURCE = r"""
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#define NPY_NO_DEPRECATED_API NPY_1_7_API_VERSION
#include <numpy/ndarraytypes.h>
#include <stdint.h>
#include <string.h>
#include <float.h>
#include <stddef.h>

enum { CTRL = 1, ARR, SCALAR, INFER, PUSHC, PUSHR, PUSHSTRIDE, BINOP, NEG, CHECKDIM, CHECK,
       OVERLAP, OUT_R, OUT_PTR, OUT_STRIDES };
#define MAXP 64
#define MAXOUT 512
#define MAXSTACK 64
#define LIMIT 2147483648LL

typedef struct {
    PyObject_HEAD
    vectorcallfunc vc;      /* how CPython calls a plan without building a tuple */
    void (*fn)(const int64_t *);
    PyObject *ndarray;      /* the ndarray type */
    PyObject *descrs;       /* tuple of the canonical dtype objects the plan names */
    int64_t *prog[2];       /* the programs for all arguments / sizes left out */
    Py_ssize_t nargs[2], len[2];
} Plan;

static void plan_dealloc(Plan *self) {
    Py_XDECREF(self->ndarray);
    Py_XDECREF(self->descrs);
    PyMem_Free(self->prog[0]);
    PyMem_Free(self->prog[1]);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int copy_prog(PyObject *buf, int64_t **out, Py_ssize_t *len) {
    Py_buffer view;
    if (PyObject_GetBuffer(buf, &view, PyBUF_SIMPLE) < 0) return -1;
    *len = view.len / 8;
    *out = PyMem_Malloc(view.len ? view.len : 8);
    if (!*out) { PyBuffer_Release(&view); PyErr_NoMemory(); return -1; }
    memcpy(*out, view.buf, view.len);
    PyBuffer_Release(&view);
    return 0;
}

/* Plan(fn_address, ndarray, descrs, nargs_all, prog_all, nargs_data, prog_data) */
static int plan_init(Plan *self, PyObject *args, PyObject *kw) {
    unsigned long long fn;
    PyObject *nd, *descrs, *p0, *p1;
    Py_ssize_t n0, n1;
    if (!PyArg_ParseTuple(args, "KOO!nOnO", &fn, &nd, &PyTuple_Type, &descrs, &n0, &p0,
                          &n1, &p1))
        return -1;
    self->fn = (void (*)(const int64_t *))(uintptr_t)fn;
    Py_INCREF(nd); self->ndarray = nd;
    Py_INCREF(descrs); self->descrs = descrs;
    self->nargs[0] = n0; self->nargs[1] = n1;
    if (copy_prog(p0, &self->prog[0], &self->len[0]) < 0) return -1;
    if (copy_prog(p1, &self->prog[1], &self->len[1]) < 0) return -1;
    return 0;
}

static inline int64_t floordiv(int64_t a, int64_t b) {
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

static inline int64_t floormod(int64_t a, int64_t b) {
    int64_t r = a % b;
    return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r;
}

/* Whether no two elements of a (non-negative strided) array share memory: sorted by
   stride, each stride covers the span of the smaller ones (as args._distinct_elements). */
static int distinct(PyArrayObject *a, int64_t item) {
    int n = PyArray_NDIM(a), k = 0, i, j;
    int64_t s[NPY_MAXDIMS], d[NPY_MAXDIMS], span = item;
    for (i = 0; i < n; i++) {
        if (PyArray_DIMS(a)[i] == 0) return 1;
        if (PyArray_DIMS(a)[i] > 1) {
            s[k] = PyArray_STRIDES(a)[i];
            d[k] = PyArray_DIMS(a)[i];
            k++;
        }
    }
    for (i = 1; i < k; i++)
        for (j = i; j > 0 && s[j - 1] > s[j]; j--) {
            int64_t t = s[j]; s[j] = s[j - 1]; s[j - 1] = t;
            t = d[j]; d[j] = d[j - 1]; d[j - 1] = t;
        }
    for (i = 0; i < k; i++) {
        if (s[i] < span) return 0;
        span = s[i] * (d[i] - 1) + span;
    }
    return 1;
}

/* Run a plan: 1 = called, 0 = not handled here (the Python path decides), -1 = error. */
static int run(Plan *self, PyObject *const *args, Py_ssize_t nargs) {
    int w;
    if (nargs == self->nargs[0]) w = 0;
    else if (nargs == self->nargs[1]) w = 1;
    else return 0;
    const int64_t *pc = self->prog[w], *end = pc + self->len[w];
    int64_t R[MAXP], OUT[MAXOUT], stack[MAXSTACK], lo[MAXP], hi[MAXP];
    PyArrayObject *A[MAXP];
    int64_t item[MAXP];
    union { float f; double d; } scratch[MAXP];
    int sp = 0;
    while (pc < end) {
        switch (*pc) {
        case CTRL: {  /* slot reg kind */
            PyObject *v = args[pc[1]];
            int64_t x;
            if (pc[3] == 2) {
                if (v == Py_True) x = 1; else if (v == Py_False) x = 0; else return 0;
            } else {
                int overflow;
                if (!PyLong_CheckExact(v)) return 0;
                x = PyLong_AsLongLongAndOverflow(v, &overflow);
                if (overflow || (x == -1 && PyErr_Occurred())) { PyErr_Clear(); return 0; }
                if (x <= -LIMIT || x >= LIMIT || (pc[3] == 1 && x < 1)) return 0;
            }
            R[pc[2]] = x;
            pc += 4; break;
        }
        case ARR: case SCALAR: {  /* slot ref descr ndim flags itemsize floatkind */
            PyObject *v = args[pc[1]];
            int64_t r = pc[2], flags = pc[5], it = pc[6];
            item[r] = it;
            if ((PyObject *)Py_TYPE(v) == self->ndarray) {
                PyArrayObject *a = (PyArrayObject *)v;
                int nd = PyArray_NDIM(a), f = PyArray_FLAGS(a), i;
                if ((PyObject *)PyArray_DESCR(a) != PyTuple_GET_ITEM(self->descrs, pc[3]))
                    return 0;
                if (nd != pc[4] || !(f & NPY_ARRAY_ALIGNED)) return 0;
                if ((flags & 1) && !(f & NPY_ARRAY_WRITEABLE)) return 0;
                if (!(flags & 2) && !(f & NPY_ARRAY_C_CONTIGUOUS)) return 0;
                int64_t span = 0;
                for (i = 0; i < nd; i++) {
                    int64_t s = PyArray_STRIDES(a)[i], d = PyArray_DIMS(a)[i];
                    if (flags & 2) {
                        if (s < 0 || s % it) return 0;
                        if (s == 0 && d > 1 && (flags & 1)) return 0;
                    }
                    if (d == 0) { span = -it; break; }
                    span += (d - 1) * s;
                }
                if ((flags & 3) == 3 && !distinct(a, it)) return 0;
                A[r] = a;
                lo[r] = (int64_t)(intptr_t)PyArray_DATA(a);
                hi[r] = lo[r] + span + it;
            } else if (*pc == SCALAR && pc[7] != 0 && PyFloat_CheckExact(v)) {
                double x = PyFloat_AS_DOUBLE(v);
                A[r] = NULL;
                if (pc[7] == 1) {
                    if (x == x && (x > FLT_MAX || x < -FLT_MAX) && x - x == 0) return 0;
                    scratch[r].f = (float)x;
                } else {
                    scratch[r].d = x;
                }
                lo[r] = (int64_t)(intptr_t)&scratch[r];
                hi[r] = lo[r];  /* a private copy overlaps nothing */
            } else {
                return 0;
            }
            pc += *pc == SCALAR ? 8 : 7; break;
        }
        case INFER: {  /* reg ref dim */
            int64_t x = PyArray_DIMS(A[pc[2]])[pc[3]];
            if (x < 1 || x >= LIMIT) return 0;
            R[pc[1]] = x;
            pc += 4; break;
        }
        case PUSHC: if (sp >= MAXSTACK) return 0; stack[sp++] = pc[1]; pc += 2; break;
        case PUSHR: if (sp >= MAXSTACK) return 0; stack[sp++] = R[pc[1]]; pc += 2; break;
        case PUSHSTRIDE:
            if (sp >= MAXSTACK) return 0;
            stack[sp++] = PyArray_STRIDES(A[pc[1]])[pc[2]] / item[pc[1]];
            pc += 3; break;
        case NEG: stack[sp - 1] = -stack[sp - 1]; pc += 1; break;
        case BINOP: {
            int64_t b = stack[--sp], a = stack[--sp], x;
            switch (pc[1]) {
            case 0: if (__builtin_add_overflow(a, b, &x)) return 0; break;
            case 1: if (__builtin_sub_overflow(a, b, &x)) return 0; break;
            case 2: if (__builtin_mul_overflow(a, b, &x)) return 0; break;
            case 3: if (b == 0) return 0; x = floordiv(a, b); break;
            case 4: if (b == 0) return 0; x = floormod(a, b); break;
            case 5: x = a < b; break;
            case 6: x = a > b; break;
            case 7: x = a <= b; break;
            case 8: x = a >= b; break;
            case 9: x = a == b; break;
            case 10: x = a && b; break;
            default: x = a || b; break;
            }
            stack[sp++] = x;
            pc += 2; break;
        }
        case CHECKDIM:  /* ref dim */
            if (PyArray_DIMS(A[pc[1]])[pc[2]] != stack[--sp]) return 0;
            pc += 3; break;
        case CHECK: if (!stack[--sp]) return 0; pc += 1; break;
        case OVERLAP:  /* ref ref */
            if (lo[pc[1]] < hi[pc[2]] && lo[pc[2]] < hi[pc[1]]) return 0;
            pc += 3; break;
        case OUT_R: OUT[pc[2]] = R[pc[1]]; pc += 3; break;
        case OUT_PTR: OUT[pc[2]] = lo[pc[1]]; pc += 3; break;
        case OUT_STRIDES: {  /* ref pos */
            PyArrayObject *a = A[pc[1]];
            int i;
            for (i = 0; i < PyArray_NDIM(a); i++)
                OUT[pc[2] + i] = PyArray_STRIDES(a)[i] / item[pc[1]];
            pc += 3; break;
        }
        default:
            PyErr_SetString(PyExc_SystemError, "knit: bad call plan (a bug in knit)");
            return -1;
        }
    }
    Py_BEGIN_ALLOW_THREADS
    self->fn(OUT);
    Py_END_ALLOW_THREADS
    return 1;
}

/* plan(args_tuple): None when the call ran, NotImplemented when the Python path must
   take it. */
static PyObject *plan_call(PyObject *self, PyObject *const *args, size_t nargsf,
                           PyObject *kwnames) {
    if (PyVectorcall_NARGS(nargsf) != 1 || kwnames || !PyTuple_CheckExact(args[0])) {
        PyErr_SetString(PyExc_TypeError, "a plan takes one tuple");
        return NULL;
    }
    PyObject *t = args[0];
    int r = run((Plan *)self, &PyTuple_GET_ITEM(t, 0), PyTuple_GET_SIZE(t));
    if (r < 0) return NULL;
    if (r == 0) Py_RETURN_NOTIMPLEMENTED;
    Py_RETURN_NONE;
}

static PyTypeObject PlanType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "_knitcall.Plan",
    .tp_basicsize = sizeof(Plan),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_VECTORCALL,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)plan_init,
    .tp_dealloc = (destructor)plan_dealloc,
    .tp_call = PyVectorcall_Call,
    .tp_vectorcall_offset = offsetof(Plan, vc),
};

static PyObject *plan_new(PyTypeObject *type, PyObject *args, PyObject *kw) {
    PyObject *self = PyType_GenericNew(type, args, kw);
    if (self) ((Plan *)self)->vc = plan_call;
    return self;
}

static struct PyModuleDef moddef = { PyModuleDef_HEAD_INIT, "_knitcall",
                                     "knit's call plans (see knit.runtime.fastcall)", -1 };

PyMODINIT_FUNC PyInit__knitcall(void) {
    PlanType.tp_new = plan_new;
    if (PyType_Ready(&PlanType) < 0) return NULL;
    PyObject *m = PyModule_Create(&moddef);
    if (!m) return NULL;
    Py_INCREF(&PlanType);
    if (PyModule_AddObject(m, "Plan", (PyObject *)&PlanType) < 0) {
        Py_DECREF(&PlanType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
"""


# ---------------------------------------------------------------- building the extension

PREFIX = "knitcall-"  # its cache entry's name: <PREFIX><key>.so

_module = None
_failed: dict = {}  # compiler command -> why it could not build the extension
_module_lock = threading.Lock()


def extension(command: list[str] | None = None):
    """The `_knitcall` module, built with `command` (default $CC, else cc) and cached
    on first use; None if it cannot be built here (then calls take the Python path).
    A failure is remembered per compiler, so a broken compiler does not disable the
    fast path for a working one."""
    global _module
    command = compiler_command(None) if command is None else command
    if _module is not None or tuple(command) in _failed:
        return _module
    with _module_lock:
        if _module is None and tuple(command) not in _failed:
            try:
                _module = _load(command)
            except Exception as err:  # noqa: BLE001 -- any failure: use the Python path
                _failed[tuple(command)] = f"{type(err).__name__}: {err}"
    return _module


def unavailable() -> dict:
    """Why the extension could not be built, per compiler command (empty if it was
    built, or never tried): calls then take the Python path."""
    return dict(_failed)


def _load(command: list[str]):
    import importlib.machinery
    import importlib.util

    import numpy as np

    if os.environ.get("KNIT_NO_FASTCALL"):
        raise RuntimeError("KNIT_NO_FASTCALL is set")
    py_inc = sysconfig.get_paths()["include"]
    if not os.path.exists(os.path.join(py_inc, "Python.h")):
        raise RuntimeError(f"no Python.h in {py_inc} (install the Python headers, e.g. "
                           "python3-dev)")
    flags = ["-O2", "-fPIC", "-shared", f"-I{py_inc}", f"-I{np.get_include()}"]
    abi = f"{sys.version}|{sys.abiflags}|numpy {np.__version__}|{sys.implementation.name}"
    source = f"/* {abi} */\n{_SOURCE}"
    path = load_library(source, command, flags, "_knitcall",
                            entry="PyInit__knitcall", prefix=PREFIX)._name
    loader = importlib.machinery.ExtensionFileLoader("_knitcall", path)
    spec = importlib.util.spec_from_file_location("_knitcall", path, loader=loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


# ---------------------------------------------------------------- plans


class _Unsupported(Exception):
    """A parameter or expression the plan language does not cover."""


def make_plan(binder, lib, command: list[str] | None = None):
    """The plan of a compiled proc's calls, or None (every call takes the Python path)."""
    import numpy as np

    ext = extension(command)
    if ext is None or not hasattr(lib, "knit_entry_v"):
        return None
    try:
        descrs: list = []
        progs = [_program(binder, binder.order_all, descrs),
                 _program(binder, binder.order_data, descrs)]
    except _Unsupported:
        return None
    fn = ctypes.cast(lib.knit_entry_v, ctypes.c_void_p).value
    return ext.Plan(fn, np.ndarray, tuple(descrs), len(binder.order_all), progs[0],
                    len(binder.order_data), progs[1])


def _program(binder, order: tuple, descrs: list) -> bytes:
    import numpy as np

    params = binder.params
    if len(params) > 60:
        raise _Unsupported
    code: list[int] = []
    given = set(order)
    reg = {p.sym: i for i, p in enumerate(params)}
    for slot, i in enumerate(order):
        p = params[i]
        if p.kind in ("size", "index", "stride", "bool"):
            kind = {"size": CTRL_SIZE, "bool": CTRL_BOOL}.get(p.kind, CTRL_INT)
            code += [CTRL, slot, i, kind]
            continue
        if p.dtype is None:  # a generic-typed parameter: the Python path checks it
            raise _Unsupported
        if p.dtype not in descrs:
            descrs.append(p.dtype)
        d = descrs.index(p.dtype)
        flags = (F_WRITTEN if p.written else 0) | (F_WINDOW if p.window else 0)
        if p.kind == "tensor":
            code += [ARR, slot, i, d, len(p.dims), flags, p.dtype.itemsize]
        else:
            fk = {np.dtype("float32"): FLOAT_F32, np.dtype("float64"): FLOAT_F64}.get(
                p.dtype, FLOAT_NONE)
            code += [SCALAR, slot, i, d, 0, flags, p.dtype.itemsize, fk]
    for i in binder.sources:
        if i not in given:
            j, dim = binder.sources[i][0]
            code += [INFER, i, j, dim]
    for i, a in enumerate(binder.proc.args):
        if a.type.is_tensor():
            for dim, e in enumerate(a.type.dims):
                code += _expr(e, reg) + [CHECKDIM, i, dim]
    for e in binder.proc.preds:
        code += _expr(e, reg) + [CHECK]
    for i, j in binder.pairs:
        code += [OVERLAP, i, j]
    pos = 0
    for i, a in enumerate(binder.proc.args):
        t = a.type
        if t.is_control():
            code += [OUT_R, i, pos]
            pos += 1
        elif t.is_tensor() and t.is_win():
            code += [OUT_PTR, i, pos, OUT_STRIDES, i, pos + 1]
            pos += 1 + len(t.shape())
        else:
            code += [OUT_PTR, i, pos]
            pos += 1
    if pos > 500:
        raise _Unsupported
    return array("q", code).tobytes()


def _expr(e: N.Expr, reg: dict) -> list[int]:
    match e:
        case N.Const(val) if isinstance(val, (bool, int)) and -2**62 < val < 2**62:
            return [PUSHC, int(val)]
        case N.Read(name, ()) if name in reg:
            return [PUSHR, reg[name]]
        case N.BinOp(op, lhs, rhs) if op in BINOPS:
            return _expr(lhs, reg) + _expr(rhs, reg) + [BINOP, BINOPS[op]]
        case N.USub(arg):
            return _expr(arg, reg) + [NEG]
        case N.StrideExpr(name, dim) if name in reg:
            return [PUSHSTRIDE, reg[name], dim]
    raise _Unsupported
