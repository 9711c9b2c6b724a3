"""Cursor answers that are Exo 1.0's API contract (docs/exo-compatibility.md): an
argument cursor's mem() and shape() only where Exo gives them, and a statement
split_write took apart is no longer there (its block is)."""

from __future__ import annotations

import pytest
from scheduling_checks import equiv

from knit import DRAM, proc
from knit.cursors.internal import text_of
from knit.stdlib.scheduling import InvalidCursorError, rename, split_write


@proc
def args_of_all_kinds(n: size, x: f32[n], y: [f64][8], r: R, s: stride, flag: bool,
                      i: index):
    assert i < n
    pass


def test_mem_of_a_size_or_index_argument_is_an_assertion_error():
    n, i = args_of_all_kinds.args()[0], args_of_all_kinds.args()[6]
    for arg, kind in ((n, "size"), (i, "index")):
        with pytest.raises(AssertionError, match=f"'{arg.name()}' is a {kind} argument"):
            arg.mem()
    # the rest answer as in Exo: data in its memory, a bool or stride in DRAM
    assert [a.mem() for a in args_of_all_kinds.args()[1:6]] == [DRAM] * 5


def test_shape_of_a_scalar_argument_is_an_assertion_error():
    for arg in [args_of_all_kinds.args()[k] for k in (0, 3, 4, 5, 6)]:
        assert not arg.is_tensor()
        with pytest.raises(AssertionError, match="is a scalar"):
            arg.shape()
    x, y = args_of_all_kinds.args()[1], args_of_all_kinds.args()[2]
    assert [str(d) for d in x.shape()] == ["n"] and y.shape()[0].value() == 8


@proc
def two_sums(x: i32, a: i32, b: i32):
    x += a + b
    x = 3 + b


def test_split_write_invalidates_the_statement_and_forwards_its_block():
    first, second, body = two_sums.body()[0], two_sums.body()[1], two_sums.body()
    p = split_write(two_sums, first)
    with pytest.raises(InvalidCursorError, match="no longer exists"):
        p.forward(first)
    assert p.forward(first.as_block()) == p.body()[:2]
    assert p.forward(second) == p.body()[2]
    assert p.forward(body) == p.body()
    q = split_write(p, second)
    with pytest.raises(InvalidCursorError):
        q.forward(first.rhs())
    with pytest.raises(InvalidCursorError, match="taken apart"):
        q.forward(second)
    assert q.forward(first.as_block()) == q.body()[:2]
    assert q.forward(second.as_block()) == q.body()[2:]
    assert q.forward(body) == q.body()
    assert [text_of(s) for s in q.body()] == ["x += a", "x += b", "x = 3", "x += b"]
    equiv(two_sums, q)


def test_a_cursor_taken_after_the_split_follows_later_rewrites():
    p = split_write(two_sums, two_sums.body()[0])
    half = p.body()[0]
    r = rename(p, "renamed")
    assert text_of(r.forward(half)) == "x += a"
    with pytest.raises(InvalidCursorError, match="taken apart"):
        r.forward(two_sums.body()[0])  # through two rewrites: still the split
    # split again: the half is taken apart now
    s = split_write(r, r.body()[2])
    assert text_of(s.forward(half)) == "x += a"
