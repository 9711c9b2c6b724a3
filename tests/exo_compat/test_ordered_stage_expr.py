"""ordered_stage_expr: an expression bound to a buffer computed in a loop nest of its
own ahead of its use, lifted out of `n_lifts` loops (a dimension per loop the value
depends on)."""

from __future__ import annotations

import pytest
from scheduling_checks import assert_body, equiv

from knit import proc
from knit.errors import SchedulingError
from knit.stdlib.stdlib import ordered_stage_expr


@proc
def affine(n: size, x: f32[n, 8], y: f32[n, 8], s: f32):
    for i in seq(0, n):
        for j in seq(0, 8):
            y[i, j] = x[i, j] * s + 1.0


def test_stage_out_of_one_loop():
    p = ordered_stage_expr(affine, affine.find("x[_] * s"), "t", "f32")
    assert_body(p, """
        for i in seq(0, n):
            t: f32[8] @ DRAM
            for j in seq(0, 8):
                t[j] = x[i, j] * s
            for j in seq(0, 8):
                y[i, j] = t[j] + 1.0
    """)
    equiv(affine, p)


def test_stage_out_of_two_loops():
    p = ordered_stage_expr(affine, affine.find("x[_] * s"), "t", "f32", n_lifts=2)
    assert_body(p, """
        t: f32[n, 8] @ DRAM
        for i in seq(0, n):
            for j in seq(0, 8):
                t[i, j] = x[i, j] * s
        for i in seq(0, n):
            for j in seq(0, 8):
                y[i, j] = t[i, j] + 1.0
    """)
    equiv(affine, p)


def test_a_value_no_loop_changes_is_computed_once():
    p = ordered_stage_expr(affine, affine.find("s"), "t", "f32", n_lifts=2)
    assert_body(p, """
        t: f32 @ DRAM
        t = s
        for i in seq(0, n):
            for j in seq(0, 8):
                y[i, j] = x[i, j] * t + 1.0
    """)
    equiv(affine, p)


def test_refuses_to_lift_out_of_the_procedure():
    with pytest.raises(SchedulingError, match="ordered_stage_expr: can only lift out of "
                       "loops"):
        ordered_stage_expr(affine, affine.find("x[_] * s"), "t", "f32", n_lifts=3)
