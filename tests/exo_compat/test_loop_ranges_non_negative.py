"""A loop the user writes must have a range that cannot be negative (Exo's
definition-time rule, docs/semantics.md#loop-range): `seq(lo, hi)` is refused at the
@proc unless the sizes, asserts and enclosing loops and ifs prove hi - lo >= 0.
Rewrites' results are not held to it: an empty range they make runs zero times."""

from __future__ import annotations

import numpy as np
from refusals import expect_error, marked_line

from knit import proc
from knit.errors import KnitTypeError
from knit.procedure import parse_proc_string


def _refused_at(fn, where, *phrases):
    """fn() raises a KnitTypeError (a TypeError) at the line marked in `where`."""
    return expect_error(fn, KnitTypeError, *phrases, line=marked_line(where))


def test_a_constant_negative_range_is_refused():
    def define():
        @proc
        def never():
            for i in seq(0, -2):  # <-
                pass

    err = _refused_at(define, define, "loop over 'i'", "seq(0, -2)", "non-negative",
                      "-2 is negative", "fix the bounds")
    assert isinstance(err, TypeError)  # Exo's tests match TypeError


def test_a_range_negative_in_the_first_iteration_is_refused_with_values():
    def define():
        @proc
        def tri(n: size):
            for i in seq(0, n):
                for j in seq(0, i - 1):  # <-
                    pass

    _refused_at(define, define, "loop over 'j'", "seq(0, i - 1)",
                "i - 1 may be negative (for i = 0)", "if i - 1 > 0:")


def test_a_range_below_its_start_is_refused():
    def define():
        @proc
        def shifted(n: size):
            for i in seq(0, n):
                for j in seq(n, i + 1):  # <-
                    pass

    _refused_at(define, define, "seq(n, i + 1)", "i + 1 - n may be negative",
                "assert on the sizes what makes i + 1 >= n")


def test_an_index_parameter_bound_needs_an_assert():
    def define():
        @proc
        def by_index(n: index, x: f32[8]):
            for i in seq(0, n):  # <-
                x[0] = 1.0

    _refused_at(define, define, "seq(0, n)", "n may be negative")

    @proc
    def asserted(n: index, x: f32[8]):
        assert n >= 0
        for i in seq(0, n):
            x[0] = 1.0

    x = np.zeros(8, np.float32)
    asserted.interpret(n=0, x=x)
    assert x[0] == 0.0
    asserted.interpret(n=3, x=x)
    assert x[0] == 1.0


def test_the_else_branch_of_a_tail_guard_proves_its_range():
    # the tail of a loop divided by 8: the else branch knows n - 8 * i < 8, and the
    # outer loop's range knows 8 * i < n + 7, so n - 8 * i >= 0 there
    @proc
    def tail(n: size, dst: f32[n], src: f32[n]):
        for i in seq(0, (n + 7) / 8):
            if n - 8 * i >= 8:
                pass
            else:
                for j in seq(0, n - 8 * i):
                    dst[8 * i + j] = src[8 * i + j]

    for n in (1, 7, 8, 13):
        src = np.arange(n, dtype=np.float32)
        dst = np.zeros(n, np.float32)
        tail.compile()(n=n, dst=dst, src=src)
        assert np.array_equal(dst[n - n % 8:], src[n - n % 8:])


def test_a_wrong_tail_range_is_refused():
    def define():
        @proc
        def tail9(n: size, dst: f32[n], src: f32[n]):
            for i in seq(0, (n + 7) / 8):
                if n - 8 * i >= 8:
                    pass
                else:
                    for j in seq(0, n - 9 * i):  # <-
                        dst[8 * i + j] = src[8 * i + j]

    _refused_at(define, define, "seq(0, n - 9 * i)", "may be negative")


def test_asserts_and_guards_make_a_range_acceptable():
    @proc
    def guarded(n: size, m: size, x: f32[n]):
        assert m <= n
        for i in seq(m, n):
            x[i] = 2.0
        for i in seq(0, n):
            if i >= 2:
                for j in seq(0, i - 2):
                    x[j] += 1.0

    x = np.zeros(5, np.float32)
    guarded.interpret(n=5, m=5, x=x)  # an empty range runs zero times
    assert np.array_equal(x, [2.0, 1.0, 0.0, 0.0, 0.0])


def test_a_range_in_code_that_never_runs_is_not_refused():
    # the facts that make the branch dead share no variable with the range's bound
    @proc
    def dead(n: size, m: size, x: f32[n]):
        if n < 0:
            for i in seq(0, m - 4):
                x[0] = 1.0
        for i in seq(0, 0):
            for j in seq(0, m - 5):
                x[0] = 2.0

    x = np.zeros(3, np.float32)
    dead.interpret(n=3, m=1, x=x)
    assert not x.any()


def test_text_parsed_back_is_not_held_to_the_rule():
    # parse_proc_string reads printed code back (str(p) again), which a rewrite made,
    # not a definition: a range there that may be negative runs zero times
    text = """def tri(n: size, x: f32[n] @ DRAM):
    for i in seq(0, n):
        for j in seq(0, i - 1):
            x[j] += 1.0
"""
    p = parse_proc_string(text, {})
    x = np.zeros(4, np.float32)
    p.interpret(n=4, x=x)  # i = 0, 1: no iteration
    assert np.array_equal(x, [2.0, 1.0, 0.0, 0.0])
    y = np.zeros(4, np.float32)
    p.compile()(n=4, x=y)
    assert np.array_equal(x, y)
    assert str(parse_proc_string(str(p), {})) == str(p)


def test_the_length_of_a_range_from_a_sum_is_written_with_parentheses():
    def define():
        @proc
        def pair(n: size):
            for i in seq(0, n):
                for j in seq(i + 1, n - 1):  # <-
                    pass

    _refused_at(define, define, "seq(i + 1, n - 1)", "n - 1 - (i + 1) may be negative")
