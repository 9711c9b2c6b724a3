"""replace: a dense-tensor parameter of the replacing procedure takes a whole dense
buffer of the caller (Exo's `bar(5, y, x)`), never part of one."""

from __future__ import annotations

import numpy as np
import pytest

from knit import proc
from knit.errors import SchedulingError
from knit.stdlib.scheduling import replace


@proc
def corner_copy(n: size, m: size, src: f32[n, n], dst: f32[n, n]):
    assert m < n
    for i in seq(m, n):
        for j in seq(m, n):
            dst[i, j] = src[i, j]


@proc
def copies_corner(x: f32[5, 5], y: f32[5, 5]):
    for i in seq(3, 5):
        for j in seq(3, 5):
            x[i, j] = y[i, j]


def test_whole_buffers_pass_to_dense_parameters():
    p = replace(copies_corner, "for i in _: _", corner_copy)
    assert str(p) == ("def copies_corner(x: f32[5, 5] @ DRAM, y: f32[5, 5] @ DRAM):\n"
                      "    corner_copy(5, 3, y, x)")
    y = np.arange(25, dtype=np.float32).reshape(5, 5)
    expected = np.zeros((5, 5), np.float32)
    copies_corner.interpret(expected, y)
    for run in (p.interpret, p.compile()):
        x = np.zeros((5, 5), np.float32)
        run(x, y)
        np.testing.assert_array_equal(x, expected)


@proc
def copies_corner_of_taller(x: f32[6, 5], y: f32[5, 5]):
    for i in seq(3, 5):
        for j in seq(3, 5):
            x[i, j] = y[i, j]


def test_part_of_a_buffer_is_refused_for_a_dense_parameter():
    # x[0:5, 0:5] of a 6x5 buffer is contiguous here, but a part in general is not:
    # the callee would index it with its own row length
    with pytest.raises(SchedulingError, match="'dst' is a dense tensor: it takes a whole "
                       "dense buffer, not part of 'x' or a window"):
        replace(copies_corner_of_taller, "for i in _: _", corner_copy)


@proc
def copies_corner_of_window(x: [f32][5, 5], y: f32[5, 5]):
    for i in seq(3, 5):
        for j in seq(3, 5):
            x[i, j] = y[i, j]


def test_a_window_is_refused_for_a_dense_parameter():
    with pytest.raises(SchedulingError, match="'dst' is a dense tensor: it takes a whole "
                       "dense buffer, not part of 'x' or a window"):
        replace(copies_corner_of_window, "for i in _: _", corner_copy)
