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
    with pytest.raises(SchedulingError, match="too small: .* needs at least 3"):
        resize_dim(blur, "t", 0, 2, 0, fold=True)


def test_fold_refuses_uses_in_two_loops():
    # folding t to 1 element would make the second loop read only the last value
    with pytest.raises(SchedulingError, match="inside one sequential loop"):
        resize_dim(two_loops, "t", 0, 1, 0, fold=True)


def test_fold_refuses_indices_other_than_i_plus_c():
    with pytest.raises(SchedulingError, match="'i \\+ c' for a literal c; found 2 \\* i"):
        resize_dim(strided, "t", 0, 2, 0, fold=True)


def test_fold_needs_a_literal_size():
    with pytest.raises(SchedulingError, match="positive integer literal"):
        resize_dim(blur, "t", 0, "N", 0, fold=True)
