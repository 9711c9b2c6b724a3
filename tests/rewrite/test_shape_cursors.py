"""A dimension cursor from `shape()` is part of a type, not of the code: the expression
primitives refuse it by name (they crashed on it inside knit before), while reading
it (text, int) keeps working."""

from __future__ import annotations

import pytest

from knit import proc
from knit.errors import SchedulingError
from knit.stdlib.scheduling import bind_expr, commute_expr, rewrite_expr
from tests.helpers.refusals import expect_error, refused


@proc
def copy_through(N: size, x: f32[N, 8] @ DRAM):
    t: f32[N, 8] @ DRAM
    for i in seq(0, N):
        for j in seq(0, 8):
            t[i, j] = x[i, j]
            x[i, j] = t[i, j] * 2.0


def test_dimension_cursors_still_read():
    dims = copy_through.find("t : _").shape()
    assert [str(d) for d in dims] == ["N", "8"]
    assert int(dims[1]) == 8


@pytest.mark.parametrize("prim, call", [
    ("rewrite_expr", lambda d: rewrite_expr(copy_through, d, "4 + 4")),
    ("bind_expr", lambda d: bind_expr(copy_through, d, "z")),
    ("commute_expr", lambda d: commute_expr(copy_through, [d])),
])
def test_allocation_dimension_is_refused_at_the_allocation(prim, call):
    d = copy_through.find("t : _").shape()[1]
    msg = refused(lambda: call(d), "expected an expression of the code",
                  "a dimension of the type of 't'", "resize_dim", prim=prim)
    assert "t: f32[N, 8] @ DRAM" in msg  # the allocation is shown


def test_parameter_dimension_is_refused_by_name():
    d = copy_through.args()[1].shape()[0]
    expect_error(lambda: rewrite_expr(copy_through, d, "N"), SchedulingError,
                 "rewrite_expr: expected an expression of the code",
                 "a dimension of the type of 'x'")


def test_code_expressions_are_still_rewritten():
    p = rewrite_expr(copy_through, copy_through.find("t[i, j] = _").idx()[1], "j + 0")
    assert "t[i, j + 0] = x[i, j]" in str(p)
    assert p.is_eq(copy_through)
