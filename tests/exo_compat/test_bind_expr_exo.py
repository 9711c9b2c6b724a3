"""bind_expr as Exo 1.0 behaves: several cursors bind those on the first one's
expression (Exo's neon/AVX2 `simple_math` schedules pass every `y[_]`, of the main loop
and of the tail), and an expression of generic-precision data binds to an `R` scalar."""

from __future__ import annotations

from refusals import refused
from scheduling_checks import assert_body, equiv

from knit import proc
from knit.stdlib.scheduling import bind_expr, divide_loop


@proc
def cube(n: size, x: R[n], y: R[n]):
    for i in seq(0, n):
        x[i] = x[i] * y[i] * y[i]


def test_bind_the_matches_of_the_first_expression_and_leave_the_tail():
    p = divide_loop(cube, "i", 4, ["io", "ii"], tail="cut_and_guard")
    q = bind_expr(p, p.find("y[_]", many=True), "yv")
    assert_body(q, """
        for io in seq(0, n / 4):
            for ii in seq(0, 4):
                yv: R @ DRAM
                yv = y[4 * io + ii]
                x[4 * io + ii] = x[4 * io + ii] * yv * yv
        if n % 4 > 0:
            for ii in seq(0, n % 4):
                x[ii + n / 4 * 4] = x[ii + n / 4 * 4] * y[ii + n / 4 * 4] * y[ii + n / 4 * 4]
    """)
    equiv(cube, q, sizes={"n": 7})


def test_an_r_literal_next_to_r_data_binds_to_r():
    @proc
    def scale(n: size, x: R[n]):
        for i in seq(0, n):
            x[i] = x[i] * 0.1

    p = bind_expr(scale, "0.1", "c")
    assert "c: R @ DRAM" in str(p)
    equiv(scale, p, sizes={"n": 5})


def test_expressions_that_print_alike_but_differ_stay_refused():
    @proc
    def twice(n: size, x: R[n], y: R[n]):
        for i in seq(0, n):
            x[i] = y[i] * 2.0
        for i in seq(0, n):
            x[i] += y[i] * 2.0

    refused(lambda: bind_expr(twice, "y[_] * 2.0", "t"), "the expressions differ",
            "they read variables of the same name")
