"""Exo's higher-level schedules (knit.stdlib.stdlib) and lift_if: what each produces,
that the result computes what the original does (interpreter and C), and that an
impossible request is refused with a message."""

from __future__ import annotations

from scheduling_checks import assert_body, equiv, refused

from knit import proc
from knit.stdlib.scheduling import divide_loop, lift_if
from knit.stdlib.stdlib import (
    binary_specialize,
    cleanup,
    cut_loop_and_unroll,
    dce,
    fma_rule,
    get_enclosing_loop,
    hoist_from_loop,
    hoist_stmt,
    interleave_loop,
    interleave_outer_loop_with_inner_loop,
    jam_stmt,
    nlr_stmts,
    round_loop,
    tile_loops,
    tile_loops_bottom_up,
    unroll_loops,
)


@proc
def scale(n: size, x: f32[n], y: f32[n]):
    for i in seq(0, n):
        x[i] = y[i] * 2.0


def test_round_loop_up_guards_the_extra_iterations():
    p = round_loop(scale, scale.find_loop("i"), 4)
    assert_body(p, """
        for i in seq(0, (n + 3) / 4 * 4):
            if 4 * (i / 4) + i % 4 < n:
                x[4 * (i / 4) + i % 4] = y[4 * (i / 4) + i % 4] * 2.0""")
    equiv(scale, p)


def test_round_loop_down_cuts_a_tail():
    p = round_loop(scale, scale.find_loop("i"), 4, up=False)
    assert_body(p, """
        for i in seq(0, n / 4 * 4):
            x[4 * (i / 4) + i % 4] = y[4 * (i / 4) + i % 4] * 2.0
        for ii in seq(0, n % 4):
            x[ii + n / 4 * 4] = y[ii + n / 4 * 4] * 2.0""")
    equiv(scale, p)


def test_round_loop_refuses_a_bad_factor():
    refused(lambda: round_loop(scale, scale.find_loop("i"), 0), "positive")


@proc
def fmadd(x: f32[8], y: f32[8], z: f32[8]):
    for i in seq(0, 8):
        if i < 16:
            x[i] = y[i] * z[i] + x[i]
        else:
            x[i] = 0.0


def test_dce_removes_the_branch_that_never_runs():
    p = dce(fmadd)
    assert_body(p, """
        for i in seq(0, 8):
            x[i] = y[i] * z[i] + x[i]""")
    equiv(fmadd, p)


def test_dce_leaves_live_branches():
    @proc
    def live(n: size, x: f32[n]):
        for i in seq(0, n):
            if i < 4:
                x[i] = 0.0

    p = dce(live)
    assert str(p) == str(live)
    equiv(live, p)


def test_fma_rule_matches_a_multiply_add():
    got = fma_rule(fmadd, fmadd.find("y[_] * z[_] + x[_]"))
    assert [str(c) for c in got] == ["y[i]", "z[i]", "x[i]"]
    assert fma_rule(fmadd, fmadd.find("y[_] * z[_]")) is None


@proc
def hoistable(n: size, x: f32[n], a: f32):
    for i in seq(0, n):
        a = 3.0
        x[i] = 1.0


def test_hoist_from_loop_moves_the_invariant_statement_out():
    p = hoist_from_loop(hoistable, hoistable.find_loop("i"))
    assert_body(p, """
        a = 3.0
        for i in seq(0, n):
            x[i] = 1.0""")
    equiv(hoistable, p)


def test_hoist_stmt_refuses_a_statement_using_the_loop_variable():
    refused(lambda: hoist_stmt(hoistable, hoistable.find("x[_] = _")),
            "depends on the loop around it", "'i'")


def test_hoist_from_loop_leaves_what_cannot_move():
    p = hoist_from_loop(scale, scale.find_loop("i"))
    assert str(p) == str(scale)


@proc
def copy2d(A: f32[16, 16], B: f32[16, 16]):
    for i in seq(0, 16):
        for j in seq(0, 16):
            A[i, j] = B[i, j]


def test_tile_loops_tiles_a_nest():
    p, inner = tile_loops(copy2d, [(copy2d.find_loop("i"), 4), (copy2d.find_loop("j"), 4)])
    assert_body(p, """
        for io in seq(0, 4):
            for jo in seq(0, 4):
                for ii in seq(0, 4):
                    for ji in seq(0, 4):
                        A[ii + 4 * io, ji + 4 * jo] = B[ii + 4 * io, ji + 4 * jo]""")
    assert [c.name() for c in inner] == ["ii", "ji"]
    equiv(copy2d, p)


def test_interleave_gives_each_iteration_its_own_allocation():
    @proc
    def with_alloc(A: f32[16, 16]):
        for i in seq(0, 16):
            t: f32
            for j in seq(0, 16):
                t = 1.0
                A[i, j] = t

    p = interleave_outer_loop_with_inner_loop(with_alloc, with_alloc.find_loop("i"),
                                              with_alloc.find_loop("j"), 4,
                                              (False, False, False))
    assert "t: f32[4] @ DRAM" in str(p)
    equiv(with_alloc, p)


def test_cleanup_and_unroll_loops():
    p = cleanup(divide_loop(copy2d, "i", 16, ["io", "ii"], perfect=True))
    assert [c.name() for c in p.find_loop("_", many=True)] == ["ii", "j"]
    equiv(copy2d, p)
    small = unroll_loops(scale)  # nothing with literal bounds: unchanged
    assert str(small) == str(scale)


def test_navigation():
    assign = copy2d.find("A[_] = _")
    assert get_enclosing_loop(copy2d, assign).name() == "j"
    assert get_enclosing_loop(copy2d, assign, 2).name() == "i"
    assert [type(s).__name__ for s in nlr_stmts(copy2d)] == \
        ["ForCursor", "ForCursor", "AssignCursor"]


@proc
def guarded(n: size, x: f32[n], c: bool):
    for i in seq(0, n):
        if c:
            x[i] = 1.0


def test_lift_if_moves_the_if_outside():
    p = lift_if(guarded, guarded.find("if _: _"))
    assert_body(p, """
        if c:
            for i in seq(0, n):
                x[i] = 1.0""")
    equiv(guarded, p)


def test_lift_if_says_how_many_lifts_remained():
    refused(lambda: lift_if(guarded, guarded.find("if _: _"), n_lifts=2),
            "lift_if: could not fully lift the if statement: 1 lift(s) remain")


def test_lift_if_refuses_what_is_not_an_if():
    refused(lambda: lift_if(guarded, guarded.find("x[_] = _")), "expected an if statement")


def test_formatted_expr_str_fills_holes_with_cursor_text():
    from knit.stdlib.scheduling import FormattedExprStr, cut_loop

    loop = scale.find_loop("i")
    cut = FormattedExprStr("_ - 1", loop.hi())
    assert cut == "(n) - 1"
    p = cut_loop(scale, loop, cut)
    assert_body(p, """
        for i in seq(0, n - 1):
            x[i] = y[i] * 2.0
        for i in seq(n - 1, n):
            x[i] = y[i] * 2.0""")
    equiv(scale, p, sizes={"n": 5})


def test_formatted_expr_str_refusals():
    import pytest

    from knit.errors import ParseFragmentError
    from knit.stdlib.scheduling import FormattedExprStr

    with pytest.raises(ParseFragmentError, match="more holes than expressions"):
        FormattedExprStr("1 + _ + _", scale.find_loop("i").hi())
    with pytest.raises(TypeError, match="must be a ExprCursor"):
        FormattedExprStr("_ + 1", scale.find_loop("i"))


def test_match_parent():
    from knit.stdlib.inspection import match_parent

    assign = copy2d.find("A[_] = _")
    a, b = match_parent(assign, copy2d.find_loop("i"))
    assert a == copy2d.find_loop("i") and b == copy2d.find_loop("i")
    a, b = match_parent(assign, copy2d.find_loop("j"))
    assert a == b == copy2d.find_loop("j")


def test_tile_loops_bottom_up_guards_both_tails():
    @proc
    def copy(M: size, N: size, A: f32[M, N], B: f32[M, N]):
        for i in seq(0, M):
            for j in seq(0, N):
                A[i, j] = B[i, j]

    p = tile_loops_bottom_up(copy, copy.body()[0], (4, 8))
    assert_body(p, """
        for io in seq(0, M / 4):
            for jo in seq(0, N / 8):
                for ii in seq(0, 4):
                    for ji in seq(0, 8):
                        A[4 * io + ii, 8 * jo + ji] = B[4 * io + ii, 8 * jo + ji]
            if N % 8 > 0:
                for ii in seq(0, 4):
                    for ji in seq(0, N % 8):
                        A[4 * io + ii, ji + N / 8 * 8] = B[4 * io + ii, ji + N / 8 * 8]
        if M % 4 > 0:
            for jo in seq(0, N / 8):
                for ii in seq(0, M % 4):
                    for ji in seq(0, 8):
                        A[ii + M / 4 * 4, 8 * jo + ji] = B[ii + M / 4 * 4, 8 * jo + ji]
            if N % 8 > 0:
                for ii in seq(0, M % 4):
                    for ji in seq(0, N % 8):
                        LAST""".replace("LAST", "A[ii + M / 4 * 4, ji + N / 8 * 8] = "
                                             "B[ii + M / 4 * 4, ji + N / 8 * 8]"))
    equiv(copy, p, sizes={"M": 6, "N": 11})
    refused(lambda: tile_loops_bottom_up(scale, scale.body()[0], (4, 4)),
            "did not find a nested loop")


@proc
def two(x: f32[8], y: f32[8]):
    for i in seq(0, 8):
        x[i] = 1.0
        y[i] = 2.0


def test_interleave_loop():
    p = interleave_loop(two, two.find_loop("i"), 2)
    assert_body(p, """
        for io in seq(0, 8 / 2):
            x[2 * io + 0] = 1.0
            x[2 * io + 1] = 1.0
            y[2 * io + 0] = 2.0
            y[2 * io + 1] = 2.0
        for ii in seq(0, 8 % 2):
            x[ii + 8 / 2 * 2] = 1.0
            y[ii + 8 / 2 * 2] = 2.0""")
    equiv(two, p)
    refused(lambda: interleave_loop(two, two.find_loop("i"), 2, tail="sideways"),
            "unknown tail strategy")


def test_cut_loop_and_unroll_peels_the_first_iteration():
    p = cut_loop_and_unroll(two, two.find_loop("i"), 1)
    assert_body(p, """
        x[0] = 1.0
        y[0] = 2.0
        for i in seq(0, 7):
            x[i + 1] = 1.0
            y[i + 1] = 2.0""")
    equiv(two, p)


def test_binary_specialize_one_copy_per_value():
    @proc
    def bs(n: size, x: f32[n]):
        assert n < 4
        for i in seq(0, n):
            x[i] = 1.0

    p, (stmts,) = binary_specialize(bs, bs.find_loop("i"), "n", [1, 2, 3], rc=True)
    assert str(p).count("for i in seq(0, n):") == 3 and len(stmts) == 3
    equiv(bs, p)
    refused(lambda: binary_specialize(bs, bs.find_loop("i"), "n", [1]), "one value")


def test_jam_stmt_moves_a_statement_into_the_next_loop():
    @proc
    def js(x: f32[8], a: f32):
        a = 1.0
        for i in seq(0, 8):
            x[i] = 2.0

    p = jam_stmt(js, js.find("a = _"))
    assert_body(p, """
        for i in seq(0, 8):
            x[i] = 2.0
            a = 1.0""")
    equiv(js, p)
    refused(lambda: jam_stmt(js, js.find_loop("i")), "next statement must be a loop")


def test_cse_binds_a_repeated_read_once():
    from knit.stdlib.stdlib import cse

    @proc
    def sq(x: f32[8], y: f32[8]):
        for i in seq(0, 8):
            y[i] = x[i] * x[i] + x[i]

    p = cse(sq, sq.find_loop("i").body(), "f32")
    assert_body(p, """
        for i in seq(0, 8):
            var0: f32 @ DRAM
            var0 = x[i]
            y[i] = var0 * var0 + var0""")
    equiv(sq, p)


def test_abs_rule_matches_a_select_absolute_value():
    from knit.libs.externs import select  # noqa: F401 - used by the proc below
    from knit.stdlib.stdlib import abs_rule

    @proc
    def absval(x: f32[8], y: f32[8]):
        for i in seq(0, 8):
            y[i] = select(0.0, x[i], x[i], -x[i])

    rhs = absval.find_loop("i").body()[0].rhs()
    assert [[str(c) for c in group] for group in abs_rule(absval, rhs)] == \
        [["x[i]", "x[i]", "x[i]"]]
    assert abs_rule(scale, scale.find("y[_] * 2.0")) is None


def test_inline_copies_removes_a_same_memory_copy():
    from knit.stdlib.stdlib import inline_copies

    @proc
    def via(x: f32[8], y: f32[8]):
        t: f32[8]
        for i in seq(0, 8):
            t[i] = x[i]
            y[i] = t[i]

    p = inline_copies(via)
    assert_body(p, """
        t: f32[8] @ DRAM
        for i in seq(0, 8):
            y[i] = x[i]""")
    equiv(via, p)
