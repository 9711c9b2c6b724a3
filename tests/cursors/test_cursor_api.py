"""The cursor API where Exo 1.0 defines it (issue 10, open differences 7 and 8):
expression lists, reflexive ancestry, scoped find, reductions apart from assignments,
invalid cursors, and a bare loop name where a statement is expected."""

from __future__ import annotations

import pytest
from scheduling_checks import assert_body, equiv, refused

from knit import proc
from knit.API_cursors import ExprListCursor, ListCursorPrototype
from knit.errors import PatternError
from knit.stdlib.scheduling import (
    AssignCursor,
    BlockCursor,
    InvalidCursor,
    InvalidCursorError,
    LiteralCursor,
    ReadCursor,
    ReduceCursor,
    divide_loop,
    lift_scope,
    specialize,
)


@proc
def acc(n: size, A: f32[n, 8], y: f32[n]):
    t: f32[n, 8] @ DRAM
    for i in seq(0, n):
        for j in seq(0, 8):
            t[i, j] = A[i, j]
            y[i] += t[i, j] * 2.0


# ---------------------------------------------------------------- expression lists


def test_idx_args_and_shape_are_lists_of_expression_cursors():
    write = acc.find("t[_] = _")
    idx = write.idx()
    assert isinstance(idx, ExprListCursor) and isinstance(idx, ListCursorPrototype)
    assert len(idx) == 2 and [str(e) for e in idx] == ["i", "j"]
    assert all(isinstance(e, ReadCursor) for e in idx)
    assert idx[1] == write.idx()[1] and idx == list(write.idx())
    assert isinstance(idx[0:1], ExprListCursor) and len(idx[0:1]) == 1
    assert idx.parent() == write and idx.proc() is acc
    read = write.rhs()
    assert isinstance(read.idx(), ExprListCursor) and [str(e) for e in read.idx()] == ["i", "j"]
    # a read of a scalar has an empty (and false) index list
    assert len(acc.find("i", many=True)[0].idx()) == 0 and not acc.find("i").idx()


def test_shape_of_an_argument_and_of_an_allocation():
    a = acc.args()[1]
    shape = a.shape()
    assert isinstance(shape, ExprListCursor) and len(shape) == 2
    assert isinstance(shape[0], ReadCursor) and shape[0].name() == "n"
    assert isinstance(shape[1], LiteralCursor) and shape[1].value() == 8 and int(shape[1]) == 8
    assert shape[0].parent() == a
    assert str(shape) == "['n', '8']"  # the texts, as knit's shape() gave before
    t = acc.find("t : _")
    assert [str(d) for d in t.shape()] == ["n", "8"] and t.shape()[1].parent() == t
    assert str(t.shape()[1].type()) == "int"
    with pytest.raises(AssertionError, match="is a scalar"):  # as Exo's API
        acc.args()[0].shape()


def test_an_expression_list_is_still_a_list_and_forwards():
    idx = acc.find("t[_] = _").idx()
    assert isinstance(idx, list) and idx + [] == list(idx)  # what idx() gave before
    p = divide_loop(acc, "j", 4, ["jo", "ji"], perfect=True)
    moved = p.forward(idx)
    assert isinstance(moved, ExprListCursor) and moved.proc() is p
    assert [str(e) for e in moved] == ["i", "4 * jo + ji"]
    assert moved.parent() == p.find("t[_] = _")


def test_shape_cursors_forward():
    p = divide_loop(acc, "j", 4, ["jo", "ji"], perfect=True)
    dim = acc.find("t : _").shape()[0]
    assert str(p.forward(dim)) == "n" and p.forward(dim).parent() == p.find("t : _")
    arg_dim = acc.args()[2].shape()[0]
    assert p.forward(arg_dim) == p.args()[2].shape()[0]


def test_call_and_extern_args():
    @proc
    def callee(m: size, x: f32[m]):
        for k in seq(0, m):
            x[k] = 0.0

    @proc
    def caller(x: f32[4]):
        callee(4, x)

    call = caller.find("callee(_)")
    args = call.args()
    assert isinstance(args, ExprListCursor) and [str(a) for a in args] == ["4", "x"]


# ---------------------------------------------------------------- ancestry and find


def test_is_ancestor_of_is_reflexive_and_sees_blocks_gaps_and_expressions():
    i_loop, j_loop = acc.find_loop("i"), acc.find_loop("j")
    write = acc.find("t[_] = _")
    assert i_loop.is_ancestor_of(i_loop) and write.is_ancestor_of(write)
    assert i_loop.is_ancestor_of(j_loop) and i_loop.is_ancestor_of(write)
    assert not j_loop.is_ancestor_of(i_loop)
    assert j_loop.is_ancestor_of(write.rhs())
    assert j_loop.is_ancestor_of(j_loop.body()) and j_loop.is_ancestor_of(write.after())
    assert not write.is_ancestor_of(j_loop.body())
    assert not i_loop.is_ancestor_of(acc.args()[0])


def test_find_is_scoped_to_the_cursor():
    @proc
    def two(n: size, x: i8[n]):
        for i in seq(0, n):
            x[i] = 1.0
        if n > 1:
            for i in seq(0, n):
                x[i] = 0.0

    the_if = two.find("if _: _")
    assert the_if.find("for i in _: _") == two.find("for i in _: _ #1")
    assert the_if.find("x[_] = _") == two.find("x[_] = _ #1")
    assert the_if.find("x[_] = _", many=True) == [two.find("x[_] = _ #1")]
    # a statement's find includes the statement itself, and its expressions
    loop = two.find_loop("i")
    assert loop.find("for i in _: _") == loop
    assert [str(e) for e in loop.find("i", many=True)] == ["i"]
    # a block: its statements and what is in them; an expression: its parts
    assert two.body().find("for i in _: _ #1") == two.find("for i in _: _ #1")
    assert two.find("x[_] = _ #1").rhs().find("0.0") == two.find("x[_] = _ #1").rhs()
    with pytest.raises(PatternError, match="matches nothing"):
        loop.find("if _: _")
    with pytest.raises(PatternError, match="fewer than 2 matches"):
        the_if.find("x[_] = _ #1")


def test_find_in_a_statement_does_not_run_past_it():
    @proc
    def seqs(x: f32):
        x = 1.0
        x = 2.0

    first = seqs.body()[0]
    with pytest.raises(PatternError):
        first.find("x = _ ; x = _")
    assert isinstance(seqs.body().find("x = _ ; x = _"), BlockCursor)


# ---------------------------------------------------------------- kinds


def test_a_reduction_is_not_an_assignment():
    red, asg = acc.find("y[_] += _"), acc.find("t[_] = _")
    assert isinstance(red, ReduceCursor) and not isinstance(red, AssignCursor)
    assert isinstance(asg, AssignCursor) and not isinstance(asg, ReduceCursor)
    assert red.name() == "y" and [str(e) for e in red.idx()] == ["i"]
    assert str(red.rhs()) == "t[i, j] * 2.0"


def test_invalid_cursor_behaves_like_exos():
    bad = acc.body()[0].prev()
    assert isinstance(bad, InvalidCursor) and not bad and bad.parent() is bad
    with pytest.raises(InvalidCursorError, match="no procedure"):
        bad.proc()
    with pytest.raises(InvalidCursorError, match="cannot call name"):
        bad.name()
    with pytest.raises(AttributeError):  # Exo's InvalidCursor has no name()
        bad.name()
    assert not hasattr(bad, "body") and not hasattr(bad, "__len__")
    with pytest.raises(InvalidCursorError, match="cannot find"):
        bad.find("_ = _")


# ---------------------------------------------------------------- a bare loop name


@proc
def nest(n: size, x: f32[n, 4]):
    for i in seq(0, n):
        for jo in seq(0, 4):
            if n > 2:
                x[i, jo] = 1.0


def test_a_bare_name_is_the_loop_of_that_name_where_a_statement_is_expected():
    p = lift_scope(nest, "jo")
    assert_body(p, """
        for jo in seq(0, 4):
            for i in seq(0, n):
                if n > 2:
                    x[i, jo] = 1.0
    """)
    assert p == lift_scope(nest, nest.find_loop("jo"))
    equiv(nest, p)
    # where a block is expected, and with a match number
    sp = specialize(nest, "jo", "n > 3")
    assert str(sp) == str(specialize(nest, nest.find_loop("jo").as_block(), "n > 3"))
    equiv(nest, sp)
    assert lift_scope(nest, "jo #0") == p


def test_a_bare_name_that_is_no_loop_is_refused():
    refused(lambda: lift_scope(nest, "k"), "for k in _: _", "matches nothing")
    refused(lambda: lift_scope(nest, "jo #1"), "fewer than 2 matches")
    # a bare name is still an expression pattern for find and expression arguments
    assert isinstance(nest.find("n"), ReadCursor)


def test_a_call_pattern_finds_an_extern_call_when_no_procedure_call_matches():
    from knit.libs.externs import select

    @proc
    def pick(x: f32):
        x = select(0.0, 1.0, 2.0, 3.0)

    found = pick.find("select(_)")
    assert found == pick.body()[0].rhs() and found.name() == "select"
    with pytest.raises(PatternError, match="matches nothing"):
        pick.find("nosuch(_)")
