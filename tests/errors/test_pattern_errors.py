"""A pattern that matches nothing says what exists nearby, of the kind it looks for,
and shows a block pattern on one line, never with a literal `\\n` (issue 13)."""

from __future__ import annotations

import pytest

from knit import proc
from knit.cursors.pattern import show
from knit.errors import PatternError
from knit.stdlib import scheduling as S


@proc
def f(N: size, A: f32[N], B: f32[N]):
    for i in seq(0, N):
        A[i] = 0.0
    for k in seq(0, N):
        B[k] += A[k] * 2.0


@proc
def lines():  # statements at known lines, for the listings
    x: f32
    x = 1.0


I_LINE, K_LINE = (f.find(p)._node().srcinfo.line for p in ("for i in _: _", "for k in _: _"))


def message(fn) -> str:
    with pytest.raises(PatternError) as info:
        fn()
    msg = str(info.value)
    assert "\\n" not in msg, msg  # never the two characters backslash, n
    return msg


def test_a_loop_pattern_lists_the_loops():
    msg = message(lambda: S.divide_loop(f, "j", 4, ["jo", "ji"]))
    assert msg.splitlines()[0] == "pattern 'for j in _: _' matches nothing in f"
    assert msg.splitlines()[1] == (f"  loops here: for i in seq(0, N) (line {I_LINE}), "
                                   f"for k in seq(0, N) (line {K_LINE})")


def test_a_loop_nest_pattern_is_shown_on_one_line():
    msg = message(lambda: f.find_loop("i k"))
    assert msg.startswith("pattern 'for i in _: for k in _: _' matches nothing in f\n")
    assert "loops here: for i in seq(0, N)" in msg


def test_a_statement_pattern_lists_statements_of_its_kind():
    assert "assignments here: A[i] = 0.0" in message(lambda: f.find("C[_] = _"))
    assert "reductions here: B[k] += A[k] * 2.0" in message(lambda: f.find("C[_] += _"))
    assert "allocations here: x: f32" in message(lambda: lines.find("y : _"))
    assert "there is no allocation here" in message(lambda: f.find("y : _"))
    assert "there is no if here" in message(lambda: f.find("if _: _"))


def test_an_expression_pattern_lists_expressions_of_its_form():
    assert "expressions of that form here: A[k] * 2.0" in message(lambda: f.find("A[_] * 3.0"))
    assert "expressions of that form here: A[k]" in message(lambda: f.find("A[k + 1]"))
    # nothing of that form: the buffers that are read
    assert "buffers read here: A" in message(lambda: f.find("C[_]"))


def test_a_listing_stays_within_the_block_searched():
    from knit.cursors.find import find

    msg = message(lambda: find(f, "for j in _: _", within=(("body", 1),)))  # in `for k`
    assert "loops here: for k in seq(0, N)" in msg and "for i" not in msg


def test_too_few_matches_says_how_many_there_are():
    msg = message(lambda: f.find("for _ in _: _ #2"))
    assert msg == "pattern 'for _ in _: _ #2' has fewer than 3 matches in f: it has 2 " \
        "(#n counts from 0)"


def test_a_malformed_block_pattern_is_shown_on_one_line():
    msg = message(lambda: f.find("for i in _:\n    A[i] ="))
    assert msg.startswith("pattern 'for i in _: A[i] =' is not valid object code")


@pytest.mark.parametrize("text,shown", [
    ("for j in _: _", "'for j in _: _'"),
    ("for j in _:\n    _", "'for j in _: _'"),
    ("for i in _:\n    for j in _:\n        _", "'for i in _: for j in _: _'"),
    ("x = _\ny = _", "'x = _; y = _'"),
    ("A[_] * 2.0", "'A[_] * 2.0'"),
])
def test_show(text, shown):
    assert show(text) == shown
