"""When expressions are evaluated (docs/semantics.md#bounds-once, #alloc-shape,
#window-once, #args-at-call): interpreted and compiled code agree."""

from __future__ import annotations

import numpy as np
from semcheck import agree

from knit import DRAM, config, proc


@config
class Cfg:
    n: index
    m: index


@proc
def grow(x: f32[16]):
    Cfg.n = 4
    for i in seq(0, Cfg.n):
        Cfg.n = 8
        if i < 16:
            x[i] = 1.0


def test_a_loop_bound_is_evaluated_once_on_entry():
    # pins semantics.md#bounds-once (C re-read Cfg.n at every iteration: 8 iterations)
    (x,) = agree(grow, [np.zeros(16, np.float32)])
    assert x.sum() == 4


@proc
def shaped(x: f32[4, 4] @ DRAM):
    Cfg.m = 4
    t: f32[4, Cfg.m] @ DRAM
    for i in seq(0, 4):
        for j in seq(0, 4):
            t[i, j] = x[i, j]
    Cfg.m = 8
    for i in seq(0, 4):
        for j in seq(0, 4):
            x[i, j] = t[i, j] + 1.0


def test_an_allocation_keeps_the_shape_it_was_allocated_with():
    # pins semantics.md#alloc-shape (C laid t out again with the new Cfg.m at each access)
    x0 = np.arange(16, dtype=np.float32).reshape(4, 4)
    (x,) = agree(shaped, [x0])
    np.testing.assert_array_equal(x, x0 + 1)


@proc
def windowed(x: f32[8], y: f32[8]):
    Cfg.n = 2
    w = x[Cfg.n:Cfg.n + 4]
    Cfg.n = 0
    for i in seq(0, 4):
        y[i] = w[i]


def test_a_window_is_fixed_when_its_statement_runs():
    # pins semantics.md#window-once (right on main too: the C backend pinned origins)
    x0 = np.arange(8, dtype=np.float32)
    _, y = agree(windowed, [x0, np.zeros(8, np.float32)])
    np.testing.assert_array_equal(y[:4], x0[2:6])


@proc
def takes(k: index, x: f32[8]):
    Cfg.n = 3
    if k >= 0 and k < 8:
        x[k] = 1.0


@proc
def passes(x: f32[8]):
    Cfg.n = 1
    takes(Cfg.n, x)
    takes(Cfg.n, x)


def test_call_arguments_are_evaluated_at_the_call():
    # pins semantics.md#args-at-call (right on main too)
    (x,) = agree(passes, [np.zeros(8, np.float32)])
    assert x.tolist() == [0, 1, 0, 1, 0, 0, 0, 0]
