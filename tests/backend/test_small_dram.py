"""A small constant-size DRAM buffer allocated in a loop or in a subprocedure is a C stack
array, not malloc/free (issue 13: stage_mem into DRAM inside a loop called the allocator
every iteration); at the top level of an exported procedure (once per call) it is
malloc'd, as Exo does; larger or variable-size buffers, and memories of users' own, keep
their hooks."""

from __future__ import annotations

import numpy as np

from knit import DRAM, proc
from knit.backend.c.emit import SMALL_DRAM_BYTES
from knit.stdlib.scheduling import simplify, stage_mem


@proc
def rows(N: size, x: f32[N, 8], y: f32[N, 8]):
    for i in seq(0, N):
        for j in seq(0, 8):
            y[i, j] = x[i, j] * 2.0


def _staged():
    return simplify(stage_mem(rows, "for j in _: _", "x[i, 0:8]", "x_tile"))


def test_staged_tile_in_a_loop_is_a_stack_array():
    c = _staged().c_code_str()
    assert "float x_tile[8];" in c
    assert "malloc" not in c and "free(" not in c


def test_staged_tile_runs_like_the_original():
    x = np.random.default_rng(0).random((7, 8), "f4")
    y1, y2, y3 = (np.zeros_like(x) for _ in range(3))
    rows.interpret(x=x, y=y1)
    _staged().interpret(x=x, y=y2)
    _staged().compile()(x=x, y=y3)
    assert np.array_equal(y1, y2) and np.array_equal(y1, y3)


@proc
def sizes(N: size, out: f64[N]):
    for r in seq(0, 2):        # allocated in a loop
        at_limit: f64[512]     # 4096 bytes: the stack
        over: f64[513]         # 4104 bytes: the heap
        var: f64[N]            # variable size: the heap
        for j in seq(0, 512):
            at_limit[j] = 1.0
        for j in seq(0, 513):
            over[j] = 2.0
        for j in seq(0, N):
            var[j] = 3.0
        for j in seq(0, N):
            out[j] = at_limit[0] + over[0] + var[j]


def test_threshold_and_variable_sizes():
    assert SMALL_DRAM_BYTES == 4096
    c = sizes.c_code_str()
    assert "double at_limit[512];" in c and "free(at_limit)" not in c
    assert "double *over = (double*) malloc(513 * sizeof(*over));" in c and "free(over);" in c
    assert "double *var = (double*) malloc(N * sizeof(*var));" in c and "free(var);" in c
    out = np.zeros(5)
    sizes.compile()(out=out)
    assert np.array_equal(out, np.full(5, 6.0))


class MyHeap(DRAM):
    """A user's memory: its hooks are its own, whatever the size."""

    @classmethod
    def alloc(cls, new_name, prim_type, shape, srcinfo):
        return f"{prim_type} *{new_name} = ({prim_type}*) calloc({shape[0]}, sizeof(*{new_name}));"


@proc
def user_mem(y: f32[4]):
    t: f32[4] @ MyHeap
    for j in seq(0, 4):
        t[j] = 1.0
    for j in seq(0, 4):
        y[j] = t[j]


def test_user_memory_keeps_its_hooks():
    c = user_mem.c_code_str()
    assert "calloc(4, sizeof(*t))" in c and "free(t);" in c
    y = np.zeros(4, "f4")
    user_mem.compile()(y=y)
    assert np.array_equal(y, np.ones(4, "f4"))


@proc
def fill(n: size, t: [f32][n]):
    for j in seq(0, n):
        t[j] = 1.0


@proc
def once(y: f32[4]):
    t: f32[4]              # top level of the exported procedure: runs once per call
    fill(4, t)
    for j in seq(0, 4):
        y[j] = t[j] + 1.0


@proc
def staged_sub(y: f32[4]):
    t: f32[4]              # top level of a subprocedure, which a loop may call
    fill(4, t)
    for j in seq(0, 4):
        y[j] = t[j] + 1.0


@proc
def calls_sub(y: f32[3, 4]):
    for i in seq(0, 3):
        staged_sub(y[i, :])


def test_top_level_of_an_exported_procedure_mallocs_as_exo_does():
    c = once.c_code_str()
    assert "float *t = (float*) malloc(4 * sizeof(*t));" in c and "free(t);" in c
    y = np.zeros(4, "f4")
    once.interpret(y=y)
    assert np.array_equal(y, np.full(4, 2.0, "f4"))
    y[:] = 0
    once.compile()(y=y)
    assert np.array_equal(y, np.full(4, 2.0, "f4"))


def test_top_level_of_a_subprocedure_is_on_the_stack():
    c = calls_sub.c_code_str()
    assert "float t[4];" in c and "malloc" not in c
    y1, y2 = np.zeros((3, 4), "f4"), np.zeros((3, 4), "f4")
    calls_sub.interpret(y=y1)
    calls_sub.compile()(y=y2)
    assert np.array_equal(y1, y2) and np.array_equal(y1, np.full((3, 4), 2.0, "f4"))
