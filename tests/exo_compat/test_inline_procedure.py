"""`inline(p, callee)` with a Procedure inlines its first call, as Exo's `inline` reads a
Procedure as the pattern `name(_)` (Exo's Gemmini schedules call it so): the rewrite,
equivalence, and the refusal when the procedure is not called."""

from __future__ import annotations

from refusals import expect_error
from scheduling_checks import assert_body, equiv

from knit import proc
from knit.errors import PatternError
from knit.stdlib.scheduling import inline


@proc
def add1(n: size, x: f32[n]):
    for i in seq(0, n):
        x[i] += 1.0


@proc
def set2(n: size, x: f32[n]):
    for i in seq(0, n):
        x[i] = 2.0


@proc
def caller(n: size, a: f32[n], b: f32[n]):
    add1(n, a)
    add1(n, b)


def test_inline_given_the_procedure_inlines_its_first_call():
    p = inline(caller, add1)
    assert_body(p, """
        for i in seq(0, n):
            a[i] += 1.0
        add1(n, b)
    """)
    equiv(caller, p)
    p = inline(p, add1)  # then the next one
    assert_body(p, """
        for i in seq(0, n):
            a[i] += 1.0
        for i in seq(0, n):
            b[i] += 1.0
    """)
    equiv(caller, p)


def test_inline_refuses_a_procedure_that_is_not_called():
    expect_error(lambda: inline(caller, set2), PatternError,
                 "pattern 'set2(_)' matches nothing in caller")
