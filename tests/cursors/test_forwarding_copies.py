"""Forwarding through rewrites that copy statements (Exo compatibility, issue 10 item 3
and open difference 6): each copy is a statement of its own, so a cursor to one copy
follows that copy, and a cursor to a copy a later rewrite removes becomes invalid."""

from __future__ import annotations

import pytest
from scheduling_checks import assert_body, equiv

from knit import proc
from knit.cursors.internal import text_of
from knit.stdlib.scheduling import (
    AssignCursor,
    CallCursor,
    ForCursor,
    IfCursor,
    InvalidCursorError,
    divide_loop,
    eliminate_dead_code,
    extract_subproc,
    fuse,
    lift_scope,
    rename,
    reorder_stmts,
    specialize,
    split_write,
    unroll_loop,
)


@proc
def guarded(n: size, x: f32[n]):
    for i in seq(0, n):
        if n > 5:
            x[i] = 1.0


def test_the_tail_copy_of_cut_and_guard_forwards_to_itself():
    # issue 10.3: the tail's `if` used to forward to the main loop's copy
    p = divide_loop(guarded, "i", 4, ["io", "ii"], tail="cut_and_guard")
    main_if, tail_if = p.find("if n > 5: _ #0"), p.find("if n > 5: _ #1")
    p2 = lift_scope(p, tail_if)
    assert_body(p2, """
        for io in seq(0, n / 4):
            for ii in seq(0, 4):
                if n > 5:
                    x[4 * io + ii] = 1.0
        if n % 4 > 0:
            if n > 5:
                for ii in seq(0, n % 4):
                    x[ii + n / 4 * 4] = 1.0
    """)
    assert p2.forward(tail_if) == p2.body()[1].body()[0]
    assert p2.forward(main_if) == p2.find("for ii in _: _ #0").body()[0]
    # the original statement (before the copy) follows the first copy, as before
    assert p2.forward(guarded.find("if _: _")) == p2.forward(main_if)
    equiv(guarded, p2)


def test_each_unrolled_copy_forwards_to_itself():
    @proc
    def three(x: f32[3]):
        for i in seq(0, 3):
            x[i] = 0.0

    p = unroll_loop(three, "i")
    copies = list(p.body())
    p2 = reorder_stmts(p, p.body()[1].expand(0, 1))
    assert_body(p2, """
        x[0] = 0.0
        x[2] = 0.0
        x[1] = 0.0
    """)
    assert [text_of(p2.forward(c)) for c in copies] == ["x[0] = 0.0", "x[1] = 0.0", "x[2] = 0.0"]
    equiv(three, p2)


@proc
def two_writes(n: size, a: f32):
    assert n > 8
    a = 1.0
    a = 2.0


def test_a_specialized_block_forwards_to_the_if():
    # as Exo (its test_specialize_forwarding): the block becomes the if holding its copies
    body = two_writes.body()
    p = specialize(two_writes, body, "n > 4")
    assert p.forward(body) == p.body()
    assert isinstance(p.forward(body)[0], IfCursor)
    # a statement of it follows the first copy (knit's choice; Exo invalidates it)
    assert p.forward(body[0]) == p.body()[0].body()[0]


def test_a_statement_of_the_removed_branch_is_invalid_after_dce():
    p = specialize(two_writes, two_writes.body(), "n > 4")
    then_first = p.body()[0].body()[0]
    else_first = p.body()[0].orelse()[0]
    p2 = eliminate_dead_code(p, p.body()[0])  # n > 8, so the then branch stays
    assert_body(p2, """
        assert n > 8
        a = 1.0
        a = 2.0
    """)
    assert p2.forward(then_first) == p2.body()[0]
    with pytest.raises(InvalidCursorError, match="removed by a rewrite"):
        p2.forward(else_first)
    equiv(two_writes, p2)


def test_a_statement_of_the_then_branch_is_invalid_when_the_else_branch_stays():
    p = specialize(two_writes, two_writes.body(), "n < 4")
    then_first = p.body()[0].body()[0]
    else_second = p.body()[0].orelse()[1]
    p2 = eliminate_dead_code(p, p.body()[0])  # n > 8: only the else branch runs
    assert_body(p2, """
        assert n > 8
        a = 1.0
        a = 2.0
    """)
    assert p2.forward(else_second) == p2.body()[1]
    with pytest.raises(InvalidCursorError, match="removed by a rewrite"):
        p2.forward(then_first)
    # what was there before specialize followed the then branch, which is gone
    with pytest.raises(InvalidCursorError):
        p2.forward(two_writes.body()[0])
    equiv(two_writes, p2)


def test_fused_loops_forward_as_in_exo():
    # the intent of Exo's test_fuse_loops (forwarding)
    @proc
    def pair(n: size, x: f32[n], y: f32[n]):
        for i in seq(0, n):
            y[i] = x[i]
        for j in seq(0, n):
            x[j] = y[j] + 1.0

    first, second = pair.find_loop("i"), pair.find_loop("j")
    body1, body2, both = first.body(), second.body(), first.expand(0, 1)
    p = fuse(pair, first, second)
    assert p.forward(body1)[-1].next() == p.forward(body2)[0]
    # the block of both loops loses the loop fuse removed: it is the fused loop
    assert p.forward(both) == p.find_loop("i").as_block()
    with pytest.raises(InvalidCursorError, match="removed by a rewrite"):
        p.forward(second)
    equiv(pair, p)


def test_a_block_whose_statements_are_all_removed_is_invalid():
    p = specialize(two_writes, two_writes.body(), "n > 4")
    else_block = p.body()[0].orelse()
    p2 = eliminate_dead_code(p, p.body()[0])
    with pytest.raises(InvalidCursorError, match="none of its statements is left"):
        p2.forward(else_block)


def test_split_write_still_grows_a_block_but_not_a_later_cursor():
    @proc
    def sums(x: f32, a: f32, b: f32):
        x = a + b

    blk = sums.body()
    p = split_write(sums, sums.body()[0])
    assert len(p.forward(blk)) == 2
    # a block taken after the split is of the first half only, and stays so
    later = p.body()[0].as_block()
    p2 = rename(p, "sums2")
    assert len(p2.forward(later)) == 1
    with pytest.raises(InvalidCursorError, match="taken apart"):  # the statement: as Exo
        p.forward(sums.body()[0])
    assert isinstance(p2.forward(p.body()[0]), AssignCursor)  # a later one still follows


def test_a_loop_copied_by_divide_loop_keeps_the_original_loop_cursor():
    p = divide_loop(guarded, "i", 4, ["io", "ii"], tail="cut")
    assert isinstance(p.forward(guarded.find_loop("i")), ForCursor)
    assert p.forward(guarded.find_loop("i")) == p.find_loop("io")


def test_a_block_replaced_by_a_call_forwards_to_the_call():
    # as in Exo (its test_extract_subproc_forwarding): the block is where the call is
    @proc
    def zero_then_add(n: size, x: f32[n, 2]):
        assert n >= 8
        x[0, 0] = 0.0
        for i in seq(0, 8):
            x[i, 0] += 2.0

    whole, inner = zero_then_add.body(), zero_then_add.find_loop("i").body()
    p, _ = extract_subproc(zero_then_add, inner, "add_two")
    assert isinstance(p.forward(inner)[0], CallCursor) and len(p.forward(inner)) == 1
    assert p.forward(whole) == p.body()
    p2, _ = extract_subproc(zero_then_add, whole, "all_of_it")
    assert len(p2.forward(whole)) == 1 and isinstance(p2.forward(whole)[0], CallCursor)
    equiv(zero_then_add, p2)
    # a block removed with nothing in its place stays invalid
    sp = specialize(zero_then_add, whole, "n > 4")
    p3 = eliminate_dead_code(sp, sp.body()[0])
    with pytest.raises(InvalidCursorError, match="none of its statements is left"):
        p3.forward(sp.body()[0].orelse())
