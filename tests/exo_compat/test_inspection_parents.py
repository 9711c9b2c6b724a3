"""knit.stdlib.inspection.get_parents with `up_to`, as Exo's: the ancestors from the
innermost out, up to and including `up_to`, and none when `up_to` is the statement
itself (halide_compute_at asks for the loops between a target loop and itself)."""

from __future__ import annotations

from knit import proc
from knit.stdlib.inspection import get_parents


@proc
def three(n: size, x: f32[n, n, n]):
    for i in seq(0, n):
        for j in seq(0, n):
            for k in seq(0, n):
                x[i, j, k] = 0.0


def test_parents_up_to_an_ancestor_include_it():
    s, i, j, k = three.find("x[_] = _"), *(three.find_loop(v) for v in "ijk")
    assert list(get_parents(three, s, up_to=j)) == [k, j]
    assert list(get_parents(three, s)) == [k, j, i]


def test_no_parents_up_to_the_statement_itself():
    j = three.find_loop("j")
    assert list(get_parents(three, j, up_to=j)) == []
