"""Cursors: finding (patterns), navigating, inspecting, forwarding through rewrites, and
being accepted by every primitive in place of a pattern."""

from __future__ import annotations

import pytest
from scheduling_checks import assert_body, refused

from knit import proc
from knit.cursors.internal import text_of
from knit.errors import ParseFragmentError, PatternError, SchedulingError
from knit.stdlib.scheduling import (
    ArgCursor,
    BlockCursor,
    ForCursor,
    GapCursor,
    IfCursor,
    InvalidCursor,
    InvalidCursorError,
    add_loop,
    add_unsafe_guard,
    autofission,
    cut_loop,
    delete_pass,
    divide_loop,
    divide_with_recompute,
    eliminate_dead_code,
    fission,
    fuse,
    insert_pass,
    join_loops,
    lift_scope,
    mult_loops,
    parallelize_loop,
    remove_loop,
    reorder_loops,
    reorder_stmts,
    shift_loop,
    specialize,
    unroll_loop,
)


@proc
def mixed(N: size, x: f32[N], y: f32[N]):
    t: f32[N] @ DRAM
    for i in seq(0, N):
        t[i] = x[i] * 2.0
        y[i] = t[i]
    for i in seq(0, N):
        if i < N - 1:
            y[i] = t[i] + t[i + 1]
        else:
            y[i] = t[i]
    for j in seq(0, N):
        y[j] += 1.0


@proc
def gemm(N: size, M: size, K: size, A: f32[N, K], B: f32[K, M], C: f32[N, M]):
    for i in seq(0, N):
        for j in seq(0, M):
            for k in seq(0, K):
                C[i, j] += A[i, k] * B[k, j]


@proc
def gemm_twin(N: size, M: size, K: size, A: f32[N, K], B: f32[K, M], C: f32[N, M]):
    for i in seq(0, N):
        for j in seq(0, M):
            for k in seq(0, K):
                C[i, j] += A[i, k] * B[k, j]


def path_of(c):
    return c._path


# ---------------------------------------------------------------- statement patterns


def test_loop_pattern_finds_first_loop_in_program_order():
    c = mixed.find("for i in _: _")
    assert isinstance(c, ForCursor)
    assert c.name() == "i"
    assert text_of(c.body()[0]) == "t[i] = x[i] * 2.0"


def test_match_number_picks_the_nth_match():
    second = mixed.find("for i in _: _ #1")
    assert isinstance(second.body()[0], IfCursor)
    assert mixed.find_loop("i #1") == second
    assert mixed.find("for _ in _: _ #2").name() == "j"


def test_loop_pattern_with_explicit_range():
    assert mixed.find("for j in seq(0, N): _").name() == "j"
    with pytest.raises(PatternError):
        mixed.find("for j in seq(1, N): _")
    with pytest.raises(PatternError):
        mixed.find("for j in par(0, N): _")


def test_if_pattern_and_condition_pattern():
    c = mixed.find("if _: _")
    assert isinstance(c, IfCursor)
    assert str(c.cond()) == "i < N - 1"
    assert mixed.find("if i < N - 1: _\nelse: _") == c
    with pytest.raises(PatternError):
        mixed.find("if i < N: _")


def test_assign_reduce_and_alloc_patterns():
    a = mixed.find("t[_] = _")
    assert text_of(a) == "t[i] = x[i] * 2.0"
    assert mixed.find("t[i] = _") == a
    assert mixed.find("t = _") == a  # a bare name matches any indices
    r = mixed.find("y[_] += _")
    assert text_of(r) == "y[j] += 1.0"
    assert mixed.find("y += _") == r
    alloc = mixed.find("t : _")
    assert text_of(alloc) == "t: f32[N] @ DRAM"


def test_assign_pattern_match_numbers_count_in_program_order():
    found = [text_of(c) for c in mixed.find_all("y[i] = _")]
    assert found == ["y[i] = t[i]", "y[i] = t[i] + t[i + 1]", "y[i] = t[i]"]
    assert text_of(mixed.find("y[i] = _ #1")) == "y[i] = t[i] + t[i + 1]"


def test_block_pattern_gives_a_block_cursor():
    b = mixed.find("t[_] = _ ; y[_] = _")
    assert isinstance(b, BlockCursor)
    assert len(b) == 2
    assert [text_of(s) for s in b] == ["t[i] = x[i] * 2.0", "y[i] = t[i]"]
    with pytest.raises(PatternError):
        mixed.find("y[_] = _ ; t[_] = _")  # wrong order


def test_loop_nest_shorthand():
    c = gemm.find_loop("i j")
    assert c.name() == "i" and c.body()[0].name() == "j"
    assert gemm.find_loop("j k").name() == "j"
    assert gemm.find_loop("i j k") == gemm.find_loop("i")
    with pytest.raises(PatternError):
        gemm.find_loop("i k")  # k is not directly inside i


def test_find_all_and_many():
    loops = mixed.find_all("for _ in _: _")
    assert [c.name() for c in loops] == ["i", "i", "j"]
    assert mixed.find("for _ in _: _", many=True) == loops
    assert mixed.find_loop("i", many=True) == loops[:2]


# ---------------------------------------------------------------- expression patterns


def test_expression_pattern_read():
    e = gemm.find("A[i, k]")
    assert e.name() == "A"
    assert [str(x) for x in e.idx()] == ["i", "k"]
    assert str(e.parent()) == "A[i, k] * B[k, j]"
    assert text_of(e.parent().parent()) == "C[i, j] += A[i, k] * B[k, j]"


def test_expression_pattern_with_holes_and_operators():
    assert str(gemm.find("_ * _")) == "A[i, k] * B[k, j]"
    assert str(gemm.find("B[_]")) == "B[k, j]"
    assert str(mixed.find("t[i + 1]")) == "t[i + 1]"
    assert str(mixed.find("_ + _")) == "t[i] + t[i + 1]"
    assert str(mixed.find("_ + _ #1")) == "i + 1"
    e = mixed.find("_ * 2.0")
    assert e.op() == "*" and str(e.lhs()) == "x[i]" and e.rhs().value() == 2.0


def test_expression_types():
    assert str(gemm.find("A[i, k]").type()) == "f32"
    assert str(gemm.find_loop("i").hi().type()) == "size"


# ---------------------------------------------------------------- patterns that fail


def test_pattern_matching_nothing_is_a_scheduling_error():
    with pytest.raises(PatternError, match="matches nothing") as info:
        mixed.find("z = _")
    assert isinstance(info.value, SchedulingError)
    assert isinstance(info.value, ParseFragmentError)
    with pytest.raises(SchedulingError, match="matches nothing"):
        gemm.find_loop("q")


def test_match_number_past_the_last_match():
    with pytest.raises(PatternError, match="fewer than 4 matches"):
        mixed.find("for _ in _: _ #3")


def test_bad_patterns():
    with pytest.raises(PatternError, match="not valid object code"):
        mixed.find("for i in")
    with pytest.raises(PatternError, match="matches anything"):
        mixed.find("_")
    with pytest.raises(TypeError, match="expected a pattern string, got int"):
        mixed.find(3)
    with pytest.raises(TypeError, match="expected a pattern string, got NoneType"):
        mixed.find_loop(None)
    # Python would read `#-1` as a comment and silently return the first match
    with pytest.raises(PatternError, match="'#' must be followed by a match number"):
        mixed.find("for i in _: _ #-1")
    with pytest.raises(PatternError, match="match number"):
        mixed.find_loop("i #x")


def test_primitive_given_a_pattern_that_matches_nothing():
    refused(lambda: divide_loop(gemm, "q", 4, ["qo", "qi"]), "matches nothing")


# ---------------------------------------------------------------- allocations and arguments


def test_find_alloc_or_arg():
    t = mixed.find_alloc_or_arg("t")
    assert t.name() == "t" and str(t.type()) == "f32[N]" and [str(d) for d in t.shape()] == ["N"]
    assert t.mem().name() == "DRAM" and t.is_tensor()
    x = mixed.find_alloc_or_arg("x")
    assert isinstance(x, ArgCursor)
    assert x.name() == "x" and [str(d) for d in x.shape()] == ["N"] and x.is_tensor()
    n = mixed.find_alloc_or_arg("N")
    assert str(n.type()) == "size" and not n.is_tensor()
    assert n.parent().is_invalid()
    with pytest.raises(PatternError, match="no allocation or argument named 'q'"):
        mixed.find_alloc_or_arg("q")


def test_args_and_body():
    assert [a.name() for a in mixed.args()] == ["N", "x", "y"]
    b = mixed.body()
    assert isinstance(b, BlockCursor) and len(b) == 4
    assert b.parent().is_invalid()


# ---------------------------------------------------------------- navigation


def test_parent_next_prev():
    a = mixed.find("t[_] = _")
    assert a.parent() == mixed.find_loop("i")
    assert text_of(a.next()) == "y[i] = t[i]"
    assert a.next().prev() == a
    assert a.prev().is_invalid() and not a.prev()
    assert a.next(2).is_invalid()
    loop = mixed.find_loop("i")
    assert loop.next(2).name() == "j"
    assert loop.parent().is_invalid()
    assert loop.parent().parent().is_invalid()  # an invalid cursor stays invalid


def test_invalid_cursor_refuses_to_be_used():
    bad = mixed.find_loop("j").next()
    assert isinstance(bad, InvalidCursor) and bad.is_invalid()
    assert not bad
    with pytest.raises(InvalidCursorError, match="past the end of a block"):
        bad.body()
    with pytest.raises(SchedulingError, match="expected a loop, got an invalid cursor"):
        divide_loop(mixed, bad, 4, ["a", "b"])


def test_body_orelse_and_block_access():
    c = mixed.find("if _: _")
    assert [text_of(s) for s in c.body()] == ["y[i] = t[i] + t[i + 1]"]
    assert [text_of(s) for s in c.orelse()] == ["y[i] = t[i]"]
    loop = mixed.find_loop("i")
    assert loop.body()[0].parent() == loop
    assert loop.body()[-1] == loop.body()[1]
    with pytest.raises(IndexError):
        loop.body()[2]


def test_if_without_else_has_an_invalid_orelse():
    p = specialize(mixed, mixed.find_loop("j"), "N > 4")
    inner = p.find("if N > 4: _")
    assert inner.orelse()  # specialize keeps an else branch
    q = add_unsafe_guard(mixed, mixed.find_loop("j"), "N > 4")
    assert q.find("if N > 4: _").orelse().is_invalid()


def test_block_slicing_len_iter():
    body = mixed.body()
    assert len(body[1:3]) == 2
    assert [type(s).__name__ for s in body[1:]] == ["ForCursor", "ForCursor", "ForCursor"]
    assert body[1:3][0] == body[1]
    with pytest.raises(IndexError):
        body[3:1]
    assert list(body[0:1]) == [mixed.find("t : _")]


def test_gaps_before_after_and_anchor():
    a = mixed.find("t[_] = _")
    g = a.after()
    assert isinstance(g, GapCursor)
    assert g == a.next().before()
    assert g.anchor() == a
    assert a.next().before().anchor() == a.next()
    assert a.as_block().after() == g
    assert g.parent() == mixed.find_loop("i")


def test_as_block_and_expand():
    a = mixed.find("t[_] = _")
    b = a.as_block()
    assert len(b) == 1 and b[0] == a and b.as_block() is b
    assert len(a.expand(0, 1)) == 2
    assert len(a.expand(0, 5)) == 2  # clamped to the block
    assert a.expand() == a.parent().body()
    loop = mixed.find_loop("i #1")
    whole = loop.expand(1, 0)
    assert [s.name() for s in whole] == ["i", "i"]
    assert whole.anchor().is_invalid()  # the proc body has no parent statement
    assert len(loop.expand()) == 4
    with pytest.raises(ValueError, match="non-negative"):
        loop.expand(-1, 0)


def test_ancestors():
    outer = gemm.find_loop("i")
    inner = gemm.find("C[_] += _")
    assert outer.is_ancestor_of(inner)
    assert not inner.is_ancestor_of(outer)
    assert outer.is_ancestor_of(outer)  # reflexive, as in Exo


# ---------------------------------------------------------------- inspection


def test_loop_inspection():
    loop = gemm.find_loop("k")
    assert loop.name() == "k"
    assert str(loop.lo()) == "0" and str(loop.hi()) == "K"
    assert loop.lo().value() == 0
    assert loop.hi().name() == "K"


def test_assign_inspection():
    r = gemm.find("C[_] += _")
    assert r.name() == "C"
    assert [str(i) for i in r.idx()] == ["i", "j"]
    assert str(r.rhs()) == "A[i, k] * B[k, j]"
    assert str(r.type()) == "f32"
    a = mixed.find("t[_] = _")
    assert a.name() == "t" and str(a.rhs()) == "x[i] * 2.0"


def test_cursor_equality_and_hash():
    a, b = gemm.find_loop("j"), gemm.find_loop("i").body()[0]
    assert a == b and hash(a) == hash(b)
    assert a != gemm.find_loop("i")
    assert a != gemm_twin.find_loop("j")  # same code, different procedure


# ---------------------------------------------------------------- forwarding


def test_forward_a_loop_through_a_sequence_of_rewrites():
    k = gemm.find_loop("k")
    red = gemm.find("C[_] += _")
    p1 = divide_loop(gemm, k, 4, ["ko", "ki"])
    p2 = reorder_loops(p1, "j ko")
    p3 = simplify_free(p2)
    fk = p3.forward(k)
    assert fk.name() == "ko" and fk.parent().name() == "i"
    assert text_of(p3.forward(red)) == "C[i, j] += A[i, 4 * ko + ki] * B[4 * ko + ki, j]"
    assert p3.forward(red).parent().parent().name() == "ki"
    assert p2.forward(p1.forward(k)) == p2.forward(k)


def simplify_free(p):
    """A rewrite that keeps every statement: inserting and deleting a pass."""
    return delete_pass(insert_pass(p, p.find("C[_] += _").after()))


def test_forward_blocks_gaps_and_expressions():
    body = gemm.find_loop("k").body()
    gap = gemm.find_loop("k").after()
    e = gemm.find("A[i, k]")
    p = divide_loop(gemm, "k", 2, ["ko", "ki"], perfect=False)
    fb = p.forward(body)
    assert isinstance(fb, BlockCursor) and len(fb) == 1
    assert text_of(fb[0]) == "C[i, j] += A[i, 2 * ko + ki] * B[2 * ko + ki, j]"  # same statement
    assert fb.parent().cond() and str(fb.parent().cond()) == "2 * ko + ki < K"
    assert p.forward(gap).anchor() == p.find_loop("ko")
    assert str(p.forward(e)) == "A[i, 2 * ko + ki]"


def test_gap_follows_its_anchor_statement():
    @proc
    def two(x: f32[2]):
        x[0] = 1.0
        x[1] = 2.0

    g = two.find("x[0] = _").after()  # anchored to x[0] = 1.0
    p = reorder_stmts(two, "x[0] = _ ; x[1] = _")
    fg = p.forward(g)
    assert fg.anchor() == p.find("x[0] = _")
    assert fg._idx == 2  # after x[0] = 1.0, now the last statement
    h = two.find("x[1] = _").before()  # the same place, anchored to x[1] = 2.0
    assert p.forward(h)._idx == 0


def test_forward_a_removed_statement_is_an_error():
    p = insert_pass(gemm, gemm.find("C[_] += _").after())
    pass_c = p.find("pass")
    q = delete_pass(p)
    with pytest.raises(InvalidCursorError, match="removed by a rewrite"):
        q.forward(pass_c)


def test_forward_an_unrolled_loop_is_an_error_but_its_body_survives():
    @proc
    def small(x: f32[3]):
        for i in seq(0, 3):
            x[i] = 0.0

    loop = small.find_loop("i")
    stmt = small.find("x[_] = _")
    p = unroll_loop(small, loop)
    with pytest.raises(InvalidCursorError):
        p.forward(loop)
    assert text_of(p.forward(stmt)) == "x[0] = 0.0"  # the first copy


def test_forward_something_that_is_not_a_cursor():
    with pytest.raises(TypeError, match="forward: expected a cursor, got str"):
        gemm.forward("k")


def test_forward_to_an_unrelated_procedure_is_an_error():
    c = gemm.find_loop("k")
    with pytest.raises(InvalidCursorError, match="not derived from"):
        gemm_twin.forward(c)
    newer = divide_loop(gemm, "k", 4, ["ko", "ki"])
    with pytest.raises(InvalidCursorError, match="not derived from"):
        gemm.forward(newer.find_loop("ko"))  # backwards in history


def test_primitive_refuses_a_cursor_of_an_unrelated_procedure():
    msg = refused(lambda: divide_loop(gemm_twin, gemm.find_loop("k"), 4, ["ko", "ki"]),
                  "belongs to a different procedure")
    assert "'gemm'" in msg and "'gemm_twin'" in msg


def test_primitive_refuses_a_cursor_of_a_newer_version():
    newer = divide_loop(gemm, "k", 4, ["ko", "ki"])
    refused(lambda: reorder_loops(gemm, newer.find_loop("j")),
            "it was taken on a newer version of 'gemm'")


def test_primitive_forwards_a_cursor_of_an_older_version():
    k = gemm.find_loop("k")
    red = gemm.find("C[_] += _")
    p = reorder_loops(gemm, "j k")
    p = divide_loop(p, k, 4, ["ko", "ki"], tail="cut")  # k was taken on gemm
    p = divide_loop(p, p.forward(k).body()[0], 2, ["kio", "kii"], perfect=True)
    assert p.forward(red).parent().name() == "j"
    assert p.forward(k).name() == "ko"
    assert_body(p, """
        for i in seq(0, N):
            for ko in seq(0, K / 4):
                for kio in seq(0, 2):
                    for kii in seq(0, 2):
                        for j in seq(0, M):
                            C[i, j] += A[i, 4 * ko + (2 * kio + kii)] * B[4 * ko + (2 * kio + kii), j]
            for ki in seq(0, K % 4):
                for j in seq(0, M):
                    C[i, j] += A[i, ki + K / 4 * 4] * B[ki + K / 4 * 4, j]
    """)


# ---------------------------------------------------------------- cursors in place of patterns


@proc
def playground(N: size, x: f32[N], y: f32[N], z: f32[8]):
    for i in seq(0, N):
        x[i] = 1.0
        y[i] = 2.0
    for i in seq(0, N):
        y[i] += x[i]
    for j in seq(0, 8):
        z[j] = 0.0
    for k in seq(0, 2):
        for m in seq(0, 4):
            z[4 * k + m] = 3.0
    z[0] = 4.0


WITH_R = add_loop(playground, "z[0] = _", "r", 2)
CUT = cut_loop(playground, "j", 3)
GUARDED = specialize(playground, "z[0] = _", "N > 0")


def _calls():
    """(name, call with patterns, call with cursors of `playground`)."""
    pg = playground
    return [
        ("divide_loop", lambda: divide_loop(pg, "i", 4, ["io", "ii"]),
         lambda: divide_loop(pg, pg.find_loop("i"), 4, ["io", "ii"])),
        ("divide_with_recompute", lambda: divide_with_recompute(pg, "j", 2, 3, ["jo", "ji"]),
         lambda: divide_with_recompute(pg, pg.find_loop("j"), 2, 3, ["jo", "ji"])),
        ("mult_loops", lambda: mult_loops(pg, "k m", "km"),
         lambda: mult_loops(pg, pg.find_loop("k"), "km")),
        ("cut_loop", lambda: cut_loop(pg, "j", 3), lambda: cut_loop(pg, pg.find_loop("j"), 3)),
        ("shift_loop", lambda: shift_loop(pg, "j", 1),
         lambda: shift_loop(pg, pg.find_loop("j"), 1)),
        ("reorder_loops", lambda: reorder_loops(pg, "k m"),
         lambda: reorder_loops(pg, pg.find_loop("k"))),
        ("unroll_loop", lambda: unroll_loop(pg, "m"),
         lambda: unroll_loop(pg, pg.find_loop("m"))),
        ("parallelize_loop", lambda: parallelize_loop(pg, "j"),
         lambda: parallelize_loop(pg, pg.find_loop("j"))),
        ("add_loop", lambda: add_loop(pg, "z[0] = _", "r", 2),
         lambda: add_loop(pg, pg.find("z[0] = _"), "r", 2)),
        ("remove_loop", lambda: remove_loop(WITH_R, "r"),
         lambda: remove_loop(WITH_R, WITH_R.find_loop("r"))),
        ("join_loops", lambda: join_loops(CUT, "j", "j #1"),
         lambda: join_loops(CUT, CUT.find_loop("j"), CUT.find_loop("j #1"))),
        ("eliminate_dead_code", lambda: eliminate_dead_code(GUARDED, "if _: _"),
         lambda: eliminate_dead_code(GUARDED, GUARDED.find("if _: _"))),
        ("fission", None, lambda: fission(pg, pg.find("x[_] = _").after())),
        ("autofission", None, lambda: autofission(pg, pg.find("x[_] = _").after())),
        ("lift_scope", lambda: lift_scope(pg, "for m in _: _"),
         lambda: lift_scope(pg, pg.find_loop("m"))),
        ("fuse", lambda: fuse(pg, "for i in _: _ #0", "for i in _: _ #1"),
         lambda: fuse(pg, pg.find_loop("i"), pg.find_loop("i #1"))),
        ("specialize", lambda: specialize(pg, "for j in _: _", "N > 2"),
         lambda: specialize(pg, pg.find_loop("j"), "N > 2")),
        ("add_unsafe_guard", lambda: add_unsafe_guard(pg, "z[0] = _", "N > 2"),
         lambda: add_unsafe_guard(pg, pg.find("z[0] = _"), "N > 2")),
        ("reorder_stmts", lambda: reorder_stmts(pg, "x[_] = _ ; y[_] = _"),
         lambda: reorder_stmts(pg, pg.find("x[_] = _").expand(0, 1))),
        ("insert_pass", None, lambda: insert_pass(pg, pg.find("z[0] = _").before())),
    ]


@pytest.mark.parametrize("name,with_pattern,with_cursor", _calls(), ids=lambda x: x
                         if isinstance(x, str) else "")
def test_every_primitive_accepts_cursors(name, with_pattern, with_cursor):
    by_cursor = with_cursor()
    if with_pattern is not None:
        assert str(by_cursor) == str(with_pattern())
    assert str(by_cursor) != str(by_cursor._parent)  # the rewrite did something


def _old_cursor_calls():
    """(name, base procedure, make(P, Q)): the primitive applied to P with cursors of Q."""
    P0 = playground
    return [
        ("divide_loop", P0, lambda P, Q: divide_loop(P, Q.find_loop("i"), 4, ["io", "ii"])),
        ("divide_with_recompute", P0,
         lambda P, Q: divide_with_recompute(P, Q.find_loop("j"), 2, 3, ["jo", "ji"])),
        ("mult_loops", P0, lambda P, Q: mult_loops(P, Q.find_loop("k"), "km")),
        ("cut_loop", P0, lambda P, Q: cut_loop(P, Q.find_loop("j"), 3)),
        ("shift_loop", P0, lambda P, Q: shift_loop(P, Q.find_loop("j"), 1)),
        ("reorder_loops", P0, lambda P, Q: reorder_loops(P, Q.find_loop("k"))),
        ("unroll_loop", P0, lambda P, Q: unroll_loop(P, Q.find_loop("m"))),
        ("parallelize_loop", P0, lambda P, Q: parallelize_loop(P, Q.find_loop("j"))),
        ("add_loop", P0, lambda P, Q: add_loop(P, Q.find("z[0] = _"), "r", 2)),
        ("remove_loop", WITH_R, lambda P, Q: remove_loop(P, Q.find_loop("r"))),
        ("join_loops", CUT, lambda P, Q: join_loops(P, Q.find_loop("j"), Q.find_loop("j #1"))),
        ("eliminate_dead_code", GUARDED, lambda P, Q: eliminate_dead_code(P, Q.find("if _: _"))),
        ("fission", P0, lambda P, Q: fission(P, Q.find("x[_] = _").after())),
        ("autofission", P0, lambda P, Q: autofission(P, Q.find("x[_] = _").after())),
        ("lift_scope", P0, lambda P, Q: lift_scope(P, Q.find_loop("m"))),
        ("fuse", P0, lambda P, Q: fuse(P, Q.find_loop("i"), Q.find_loop("i #1"))),
        ("specialize", P0, lambda P, Q: specialize(P, Q.find_loop("j"), "N > 2")),
        ("add_unsafe_guard", P0, lambda P, Q: add_unsafe_guard(P, Q.find("z[0] = _"), "N > 2")),
        ("reorder_stmts", P0,
         lambda P, Q: reorder_stmts(P, Q.find("x[_] = _").expand(0, 1))),
        ("insert_pass", P0, lambda P, Q: insert_pass(P, Q.find("z[0] = _").before())),
    ]


@pytest.mark.parametrize("name,base,make", _old_cursor_calls(),
                         ids=[c[0] for c in _old_cursor_calls()])
def test_every_primitive_forwards_a_cursor_of_an_older_version(name, base, make):
    newer = delete_pass(insert_pass(base, base.body().before()))  # same code, two steps on
    assert str(make(newer, base)) == str(make(newer, newer))


def test_loop_primitives_accept_cursors_of_an_older_version():
    pg = playground
    j, km, i1, i2 = pg.find_loop("j"), pg.find_loop("k"), pg.find_loop("i"), pg.find_loop("i #1")
    z0 = pg.find("z[0] = _")
    p = insert_pass(pg, z0.before())  # every cursor above is now one version old
    p = cut_loop(p, j, 4)
    p = shift_loop(p, j, 2)
    p = reorder_loops(p, km)
    p = fuse(p, i1, i2)
    p = add_loop(p, z0, "r", 2, guard=True)
    assert_body(p, """
        for i in seq(0, N):
            x[i] = 1.0
            y[i] = 2.0
            y[i] += x[i]
        for j in seq(2, 6):
            z[j - 2] = 0.0
        for j in seq(4, 8):
            z[j] = 0.0
        for m in seq(0, 4):
            for k in seq(0, 2):
                z[4 * k + m] = 3.0
        pass
        for r in seq(0, 2):
            if r == 0:
                z[0] = 4.0
    """)


def test_join_loops_accepts_cursors_of_an_older_version():
    j = playground.find_loop("j")
    p = cut_loop(playground, j, 4)
    second = p.find_loop("j #1")
    p2 = insert_pass(p, second.after())
    q = delete_pass(join_loops(p2, j, second))
    assert str(q) == str(playground)


def test_eliminate_dead_code_and_remove_loop_accept_old_cursors():
    p0 = specialize(playground, playground.find("z[0] = _"), "N > 0")
    branch = p0.find("if _: _")
    p1 = add_loop(p0, p0.find("z[0] = _"), "r", 3)
    p2 = eliminate_dead_code(p1, branch)
    p3 = remove_loop(p2, p1.find_loop("r"))
    assert_body(p3, """
        for i in seq(0, N):
            x[i] = 1.0
            y[i] = 2.0
        for i in seq(0, N):
            y[i] += x[i]
        for j in seq(0, 8):
            z[j] = 0.0
        for k in seq(0, 2):
            for m in seq(0, 4):
                z[4 * k + m] = 3.0
        z[0] = 4.0
    """)


def test_a_block_forwards_over_a_statement_split_in_two():
    from knit.stdlib.scheduling import split_write

    @proc
    def two_terms(x: f32[1] @ DRAM, a: f32[1] @ DRAM, b: f32[1] @ DRAM):
        x[0] = a[0] + b[0]

    blk = two_terms.find("x[_] = _").as_block()
    p = split_write(two_terms, two_terms.find("x[_] = _"))
    assert len(p.forward(blk)) == 2
