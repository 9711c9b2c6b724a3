"""`replace` solves a control argument from a guard whose shape differs from the
instruction's (`i < bound` facing `i + m < n` gives bound = n - m), and passes a value
of its own for a parameter the instruction never reads (Exo's: False, 0). Both are
checked as before: the guard is proven equal once the argument is found, and the call
must be valid (its windows in bounds, its sizes positive)."""

from __future__ import annotations

import pytest
from scheduling_checks import assert_body, equiv

from knit import proc
from knit.errors import SchedulingError
from knit.stdlib.scheduling import replace, simplify


@proc
def copy_first(dst: [f32][8], src: [f32][8], bound: size):
    for i in seq(0, 8):
        if i < bound:
            dst[i] = src[i]


@proc
def guarded_by_offset(n: size, m: size, x: f32[n], y: f32[8]):
    assert n >= 8
    assert n - m >= 1
    assert n - m <= 8
    for i in seq(0, 8):
        if i + m < n:
            y[i] = x[i]


def test_replace_solves_the_bound_from_a_shifted_guard():
    p = replace(guarded_by_offset, guarded_by_offset.find_loop("i"), copy_first)
    assert_body(simplify(p), """
        assert n >= 8
        assert -m + n >= 1
        assert -m + n <= 8
        copy_first(y[0:8], x[0:8], -m + n)
    """)
    equiv(guarded_by_offset, p, sizes={"n": [8, 9, 12], "m": [4, 5, 6, 7]})


@proc
def guarded_le(n: size, m: size, x: f32[n], y: f32[8]):
    assert n >= 8
    assert n - m >= 1
    assert n - m <= 7
    for i in seq(0, 8):
        if i + m <= n:
            y[i] = x[i]


def test_replace_reads_le_as_lt_plus_one():
    p = replace(guarded_le, guarded_le.find_loop("i"), copy_first)
    assert "copy_first(y[0:8], x[0:8], 1 - m + n)" in str(simplify(p))
    equiv(guarded_le, p, sizes={"n": [8, 10], "m": [3, 4, 5, 6, 7]})


@proc
def tail_of_sixteen(N: size, x: f32[24], y: f32[24]):
    assert N >= 17
    assert N <= 24
    for ji in seq(0, 8):
        if ji + 16 < N:
            y[ji + 16] = x[ji + 16]


def test_replace_the_issues_case_bound_is_n_minus_sixteen():
    p = replace(tail_of_sixteen, tail_of_sixteen.find_loop("ji"), copy_first)
    assert_body(p, """
        assert N >= 17
        assert N <= 24
        copy_first(y[16:24], x[16:24], N + -16)
    """)
    equiv(tail_of_sixteen, p, sizes={"N": [17, 20, 24]})


def test_replace_passes_a_window_past_the_buffer_that_no_access_leaves():
    # as Exo's test_unify9 has it, x has n elements and n may be 2: x[0:8] reaches past
    # x, but copy_first reads x[i] only for i < n - m (frontend/checks.py,
    # reaches_only_inside; tests/backend/test_window_past_end.py runs both ways)
    @proc
    def short_x(n: size, m: size, x: f32[n], y: f32[8]):
        assert n - m >= 1
        assert n - m <= 8
        for i in seq(0, 8):
            if i + m < n:
                y[i] = x[i]

    p = replace(short_x, short_x.find_loop("i"), copy_first)
    assert "copy_first(y[0:8], x[0:8], n - m)" in str(p) or \
        "copy_first(y[0:8], x[0:8], -m + n)" in str(simplify(p))


def test_replace_refuses_a_guard_it_cannot_match():
    @proc
    def doubled(n: size, x: f32[8], y: f32[8]):
        assert n <= 8
        for i in seq(0, 8):
            if 2 * i < n:
                y[i] = x[i]

    with pytest.raises(SchedulingError, match=r"replace: the block does not match the body "
                       r"of copy_first: cannot prove i < n equals 2 \* i < n"):
        replace(doubled, doubled.find_loop("i"), copy_first)


@proc
def copy_square(flag: bool, n: size, src: R[n, n], dst: R[n, n], at: index):
    for i in seq(0, n):
        for j in seq(0, n):
            dst[i, j] = src[i, j]


@proc
def five_by_five(x: R[5, 5], y: R[5, 5]):
    for i in seq(0, 5):
        for j in seq(0, 5):
            x[i, j] = y[i, j]


def test_replace_passes_a_value_for_parameters_the_body_never_reads():
    p = replace(five_by_five, "for i in _: _", copy_square)
    assert_body(p, "copy_square(False, 5, y, x, 0)")
    equiv(five_by_five, p)


def test_replace_still_needs_a_parameter_that_an_assert_reads():
    @proc
    def checked_square(flag: bool, n: size, src: R[n, n], dst: R[n, n], at: index):
        assert at < n
        for i in seq(0, n):
            for j in seq(0, n):
                dst[i, j] = src[i, j]

    with pytest.raises(SchedulingError, match="replace: the block does not match the body "
                       "of checked_square: cannot determine the argument 'at'"):
        replace(five_by_five, "for i in _: _", checked_square)
