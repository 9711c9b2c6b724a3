"""The expressions the primitives build, written as Exo 1.0 builds them.

Exo's primitives build some identities they could drop — `(n + 0) / 1` and `1 * io + ii`
when a loop is divided by 1, `4 * i + 0` for an argument `replace` solved, `(c) == True`
for the condition `extract_subproc` turns into an assert. knit builds the same
expressions (a program scheduled under Exo prints as itself under knit); they mean what
the folded forms mean, which the equivalence checks below pin, and `simplify` folds them.
"""

from __future__ import annotations

from scheduling_checks import assert_body, equiv

from knit import proc
from knit.stdlib.scheduling import divide_loop, simplify


@proc
def fill(N: size, x: f32[N]):
    for i in seq(0, N):
        x[i] = 3.0


def test_divide_by_1_with_a_guard_keeps_the_identities():
    p = divide_loop(fill, "i", 1, ["io", "ii"], tail="guard")
    assert_body(p, """
        for io in seq(0, (N + 0) / 1):
            for ii in seq(0, 1):
                if 1 * io + ii < N:
                    x[1 * io + ii] = 3.0
    """)
    equiv(fill, p, sizes={"N": [1, 2, 5]})
    assert_body(simplify(p), """
        for io in seq(0, N):
            for ii in seq(0, 1):
                if ii + io < N:
                    x[ii + io] = 3.0
    """)


def test_divide_by_1_with_a_cut_multiplies_the_tail_start_by_1():
    p = divide_loop(fill, "i", 1, ["io", "ii"], tail="cut")
    assert_body(p, """
        for io in seq(0, N / 1):
            for ii in seq(0, 1):
                x[1 * io + ii] = 3.0
        for ii in seq(0, N % 1):
            x[ii + N / 1 * 1] = 3.0
    """)
    equiv(fill, p, sizes={"N": [1, 2, 5]})


def test_divide_by_4_builds_what_it_built_before():
    p = divide_loop(fill, "i", 4, ["io", "ii"], tail="guard")
    assert_body(p, """
        for io in seq(0, (N + 3) / 4):
            for ii in seq(0, 4):
                if 4 * io + ii < N:
                    x[4 * io + ii] = 3.0
    """)
    equiv(fill, p, sizes={"N": [1, 3, 4, 9]})
