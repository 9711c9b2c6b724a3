"""knit prints programs in the forms Exo 1.0 prints them (issue 10): `simplify`'s normal
form of index sums (constant first, variables by coefficient then name), the written
shape of a sum that has a division or modulo term, parameters' dimensions as written,
data literals as written (`1` and `1.0` both kept), `@ DRAM` on stride and bool
parameters, and the operand order of the expressions primitives build. Each form is
checked to be the same program: it parses back to itself, and interpreter and C agree
with the original."""

from __future__ import annotations

import numpy as np
import pytest
from scheduling_checks import assert_body, equiv, well_formed

from knit import proc
from knit.API_scheduling import divide_loop, inline_window, resize_dim, simplify
from knit.errors import KnitError


def test_simplify_prints_constant_first_then_terms_by_coefficient_and_name():
    @proc
    def foo(n: size, m: size, x: f32[100], y: f32[60]):
        assert n < 5 and m < 7 and m > 4
        for i in seq(0, 4):
            for j in seq(0, 4):
                x[(2 * j + 3 + 8 * i) / 3] = 1.0
                x[(2 * j + 3 + 8 * i) % 5] = 2.0
        y[10 * m - 8 * n] = 3.0
        for i in seq(1, n + 1):
            x[i - 1] = 4.0
            x[i + n - 1] = 5.0

    bar = simplify(foo)
    assert_body(bar, """
        assert n < 5 and m < 7 and m > 4
        for i in seq(0, 4):
            for j in seq(0, 4):
                x[(3 + 2 * j + 8 * i) / 3] = 1.0
                x[(3 + 2 * j + 8 * i) % 5] = 2.0
        y[-(8 * n) + 10 * m] = 3.0
        for i in seq(1, 1 + n):
            x[-1 + i] = 4.0
            x[-1 + i + n] = 5.0""")
    equiv(foo, bar)


def test_simplify_keeps_the_written_shape_of_a_sum_with_a_division():
    @proc
    def foo(n: size, x: f32[n]):
        for i in seq(0, n % 4):
            x[i + n / 4 * 4] = 1.0
        for i in seq(0, n % 4):
            x[4 * (n / 4) + i + 1 - 1] = 2.0  # shortened: printed in normal form

    bar = simplify(foo)
    assert_body(bar, """
        for i in seq(0, n % 4):
            x[i + n / 4 * 4] = 1.0
        for i in seq(0, n % 4):
            x[i + 4 * (n / 4)] = 2.0""")
    equiv(foo, bar)


def test_simplify_still_simplifies_what_it_did():
    @proc
    def foo(n: size, x: f32[n + 1 - 1], y: f32[n + 1]):
        for io in seq(0, n / 8):
            for ii in seq(0, 8):
                x[(8 * io + ii) / 8 * 8 + (8 * io + ii) % 8] = y[n - n + 1]

    bar = simplify(foo)
    # the parameter that shortens is simplified; `n + 1` keeps its written form
    assert str(bar).splitlines()[0] == \
        "def foo(n: size, x: f32[n] @ DRAM, y: f32[n + 1] @ DRAM):"
    assert_body(bar, """
        for io in seq(0, n / 8):
            for ii in seq(0, 8):
                x[ii + 8 * io] = y[1]""")
    equiv(foo, bar)


def test_data_literals_print_as_written():
    @proc
    def foo(n: size, x: i8[n], y: f32[n]):
        for i in seq(0, n):
            x[i] = 1
            x[i] += 1.0
            y[i] = -2
            y[i] += 1 + 2
            y[i] = y[i] / 4.0

    assert_body(foo, """
        for i in seq(0, n):
            x[i] = 1
            x[i] += 1.0
            y[i] = -2
            y[i] += 1 + 2
            y[i] = y[i] / 4.0""")
    well_formed(foo)
    bar = simplify(foo)
    assert "y[i] += 3\n" in str(bar) + "\n"  # literal arithmetic on integers stays integral
    equiv(foo, bar)
    x, y = np.zeros(3, np.int8), np.zeros(3, np.float32)
    foo.interpret(3, x, y)
    assert x.tolist() == [2, 2, 2] and y.tolist() == [0.25, 0.25, 0.25]


def test_stride_and_bool_parameters_print_with_dram_and_parse_back():
    @proc
    def foo(n: size, s: stride @ DRAM, b: bool, x: f32[n]):
        if b:
            x[0] = 1.0

    assert str(foo).splitlines()[0] == \
        "def foo(n: size, s: stride @ DRAM, b: bool @ DRAM, x: f32[n] @ DRAM):"
    well_formed(foo)


def test_dram_is_accepted_on_stride_and_bool_parameters_only():
    with pytest.raises(KnitError, match="an index value lives in no memory"):
        @proc
        def foo(n: size, i: index @ DRAM):
            pass


def test_divide_loop_cut_and_guard_builds_the_tail_as_exo_does():
    @proc
    def foo(n: size, x: f32[n]):
        for i in seq(0, n):
            x[i] = 1.0

    bar = divide_loop(foo, "i", 4, ["io", "ii"], tail="cut_and_guard")
    assert_body(bar, """
        for io in seq(0, n / 4):
            for ii in seq(0, 4):
                x[4 * io + ii] = 1.0
        if n % 4 > 0:
            for ii in seq(0, n % 4):
                x[ii + n / 4 * 4] = 1.0""")
    equiv(foo, bar)


def test_inline_window_adds_the_window_start_after_the_index():
    @proc
    def foo(n: size, x: f32[n, n]):
        assert n > 4
        y = x[2:n - 2, 1:n - 3]
        for i in seq(0, n - 4):
            y[i, i] = 1.0

    bar = inline_window(foo, "y = _")
    assert_body(bar, """
        assert n > 4
        for i in seq(0, n - 4):
            x[i + 2, i + 1] = 1.0""")
    equiv(foo, bar)


def test_resize_dim_subtracts_a_negative_offset_as_written():
    @proc
    def foo(x: f32[10]):
        a: f32[8]
        for i in seq(1, 8):
            a[i] = 1.0
        for i in seq(1, 8):
            x[i] = a[i]

    bar = resize_dim(foo, "a", 0, 10, -1)
    assert_body(bar, """
        a: f32[10] @ DRAM
        for i in seq(1, 8):
            a[i - -1] = 1.0
        for i in seq(1, 8):
            x[i] = a[i - -1]""")
    equiv(foo, bar)
