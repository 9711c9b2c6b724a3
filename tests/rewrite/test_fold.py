"""resize_dim(..., fold=True): circular buffers."""

from __future__ import annotations

import pytest

import knit
from knit import SchedulingError, proc
from knit.stdlib.scheduling import resize_dim


@proc
def blur(N: size, x: f32[N + 2] @ DRAM, y: f32[N] @ DRAM):
    t: f32[N + 2] @ DRAM
    for i in seq(0, N + 2):
        t[i] = 2.0 * x[i]
        if i >= 2:
            y[i - 2] = t[i - 2] + t[i - 1] + t[i]


@proc
def two_loops(N: size, x: f32[N] @ DRAM, y: f32[N] @ DRAM):
    t: f32[N] @ DRAM
    for i in seq(0, N):
        t[i] = x[i]
    for i in seq(0, N):
        y[i] = t[i]


@proc
def strided(N: size, x: f32[2 * N] @ DRAM, y: f32[N] @ DRAM):
    t: f32[2 * N] @ DRAM
    for i in seq(0, N):
        t[2 * i] = x[2 * i]
        y[i] = t[2 * i]


def test_fold_makes_a_circular_buffer():
    p = resize_dim(blur, "t", 0, 3, 0, fold=True)
    text = str(p)
    assert "t: f32[3] @ DRAM" in text
    assert "t[i % 3] = 2.0 * x[i]" in text
    assert "y[i - 2] = t[(i - 2) % 3] + t[(i - 1) % 3] + t[i % 3]" in text
    assert p.is_eq(blur)
    knit.check_equiv(blur, p, trials=4)


def test_fold_refuses_a_buffer_too_small_for_one_iteration():
    with pytest.raises(SchedulingError, match="circular buffer of 2 is too small: cannot "
                       "prove t\\[i\\] and a later access t\\[i - 2\\] are less than 2 apart"):
        resize_dim(blur, "t", 0, 2, 0, fold=True)


def test_fold_refuses_a_second_loop_reading_old_values():
    # folding t to 1 element would make the second loop read only the last value
    with pytest.raises(SchedulingError, match="circular buffer of 1 is too small: cannot "
                       "prove t\\[i\\] and a later access t\\[i\\]"):
        resize_dim(two_loops, "t", 0, 1, 0, fold=True)


def test_fold_accepts_a_strided_index_each_iteration_rewrites_first():
    # each iteration writes t[2 * i] before reading it: one element is enough
    p = resize_dim(strided, "t", 0, 1, 0, fold=True)
    assert "t[2 * i % 1] = x[2 * i]" in str(p)
    knit.check_equiv(strided, p, trials=4)


def test_fold_needs_a_literal_size():
    with pytest.raises(SchedulingError, match="positive integer literal"):
        resize_dim(blur, "t", 0, "N", 0, fold=True)
