"""eliminate_dead_code on code that never runs (the loops, conditions and assertions
around it contradict each other) deletes it, where other primitives refuse to touch
it: the rewrite, equivalence (interpreter and C), and refusals."""

from __future__ import annotations

from scheduling_checks import assert_body, equiv, refused

from knit import proc
from knit.stdlib.scheduling import eliminate_dead_code, reorder_loops, specialize


@proc
def fill(n: size, x: f32[n]):
    for i in seq(0, n):
        x[i] = 1.0


def test_eliminate_a_loop_in_a_branch_that_never_runs():
    # a size is >= 1, so the else branch of `if 0 < n` never runs
    p = specialize(fill, fill.find_loop("i"), "0 < n")
    q = eliminate_dead_code(p, p.find_loop("i #1"))
    assert_body(q, """\
        if 0 < n:
            for i in seq(0, n):
                x[i] = 1.0
        else:
            pass""")
    equiv(fill, q, sizes={"n": [1, 2, 5]})


@proc
def guarded(n: size, x: f32[8]):
    assert n >= 4
    if n < 2:
        for i in seq(0, 2):
            if i < n:
                x[i] = 2.0
    x[0] += 1.0


def test_eliminate_an_if_inside_code_the_assertions_exclude():
    q = eliminate_dead_code(guarded, guarded.find("if i < n: _"))
    assert_body(q, """\
        assert n >= 4
        if n < 2:
            for i in seq(0, 2):
                x[i] = 2.0
        x[0] += 1.0""")
    equiv(guarded, q, sizes={"n": [4, 6]})


@proc
def maybe_runs(n: size, x: f32[n]):
    if n > 2:
        x[0] = 1.0
    else:
        for i in seq(0, n):
            x[i] = 2.0


def test_eliminate_refuses_a_loop_that_may_run():
    refused(lambda: eliminate_dead_code(maybe_runs, maybe_runs.find_loop("i")),
            "cannot prove the loop never runs (n <= 0)", prim="eliminate_dead_code")


@proc
def dead_nest(n: size, x: f32[4, 4]):
    if n < 1:
        for i in seq(0, 4):
            for j in seq(0, 4):
                x[i, j] = 0.0


def test_other_primitives_still_refuse_code_that_never_runs():
    refused(lambda: reorder_loops(dead_nest, "i j"),
            "this code never runs: the loops and conditions around it cannot all hold",
            prim="reorder_loops")
