"""Loop primitives: divide_loop, divide_with_recompute, mult_loops, join_loops, cut_loop,
shift_loop, reorder_loops, unroll_loop, remove_loop, add_loop, parallelize_loop.

Each has the three kinds of test: the rewritten code, equivalence on random inputs
(compiled C and interpreter), and refusal of the unsafe uses with the reason. Where a
refusal guards a real trap, the would-be result is written out by hand and shown to
compute something else, so the refusal is not vacuous."""

from __future__ import annotations

import re

import pytest
from refusals import marked_line
from scheduling_checks import assert_body, differs, equiv, refused

from knit import config, proc
from knit.cursors.internal import text_of
from knit.procedure import parse_proc_string
from knit.stdlib.scheduling import (
    add_loop,
    cut_loop,
    divide_loop,
    divide_with_recompute,
    join_loops,
    mult_loops,
    parallelize_loop,
    remove_loop,
    reorder_loops,
    reorder_stmts,
    shift_loop,
    unroll_loop,
)


@proc
def scale(N: size, x: f32[N], y: f32[N]):
    for i in seq(0, N):  # <- scale loop
        y[i] = 2.0 * x[i]


@proc
def scale8(N: size, x: f32[N], y: f32[N]):
    assert N % 8 == 0
    for i in seq(0, N):
        y[i] = 2.0 * x[i]


@proc
def gemm(N: size, M: size, K: size, A: f32[N, K], B: f32[K, M], C: f32[N, M]):
    for i in seq(0, N):
        for j in seq(0, M):
            for k in seq(0, K):
                C[i, j] += A[i, k] * B[k, j]


# ---------------------------------------------------------------- divide_loop


def test_divide_loop_guard():
    p = divide_loop(scale, "i", 4, ["io", "ii"])
    assert_body(p, """
        for io in seq(0, (N + 3) / 4):
            for ii in seq(0, 4):
                if 4 * io + ii < N:
                    y[4 * io + ii] = 2.0 * x[4 * io + ii]
    """)
    equiv(scale, p, sizes={"N": [1, 3, 4, 9]})


def test_divide_loop_cut():
    p = divide_loop(scale, "i", 4, ["io", "ii"], tail="cut")
    assert_body(p, """
        for io in seq(0, N / 4):
            for ii in seq(0, 4):
                y[4 * io + ii] = 2.0 * x[4 * io + ii]
        for ii in seq(0, N % 4):
            y[ii + N / 4 * 4] = 2.0 * x[ii + N / 4 * 4]
    """)
    equiv(scale, p, sizes={"N": [1, 3, 4, 9]})


def test_divide_loop_cut_and_guard():
    p = divide_loop(scale, "i", 4, ["io", "ii"], tail="cut_and_guard")
    assert_body(p, """
        for io in seq(0, N / 4):
            for ii in seq(0, 4):
                y[4 * io + ii] = 2.0 * x[4 * io + ii]
        if N % 4 > 0:
            for ii in seq(0, N % 4):
                y[ii + N / 4 * 4] = 2.0 * x[ii + N / 4 * 4]
    """)
    equiv(scale, p, sizes={"N": [1, 3, 4, 9]})


def test_divide_loop_perfect_when_an_assert_makes_it_a_multiple():
    p = divide_loop(scale8, "i", 4, ["io", "ii"], perfect=True)
    assert_body(p, """
        assert N % 8 == 0
        for io in seq(0, N / 4):
            for ii in seq(0, 4):
                y[4 * io + ii] = 2.0 * x[4 * io + ii]
    """)
    equiv(scale8, p)


def test_divide_loop_perfect_refused_when_not_a_multiple():
    refused(lambda: divide_loop(scale, "i", 4, ["io", "ii"], perfect=True),
            "cannot prove that the trip count N is a multiple of 4 (perfect=True)",
            "assert N % 4 == 0", prim="divide_loop")
    refused(lambda: divide_loop(scale8, "i", 3, ["io", "ii"], perfect=True),
            "is a multiple of 3")


def test_divide_loop_perfect_would_drop_iterations():
    @proc
    def dropped(N: size, x: f32[N], y: f32[N]):  # what perfect=True would give for N=6
        for io in seq(0, N / 4):
            for ii in seq(0, 4):
                y[4 * io + ii] = 2.0 * x[4 * io + ii]

    differs(scale, dropped, sizes={"N": 6})


def test_divide_loop_with_a_nonzero_lower_bound():
    @proc
    def from2(N: size, x: f32[N + 2]):
        for i in seq(2, N + 2):
            x[i] = x[i] + 1.0

    p = divide_loop(from2, "i", 3, ["io", "ii"])
    assert_body(p, """
        for io in seq(0, (N + 2 - 2 + 2) / 3):
            for ii in seq(0, 3):
                if 3 * io + ii < N + 2 - 2:
                    x[2 + (3 * io + ii)] = x[2 + (3 * io + ii)] + 1.0
    """)
    equiv(from2, p)
    q = divide_loop(from2, "i", 3, ["io", "ii"], tail="cut")
    equiv(from2, q, sizes={"N": [1, 2, 3, 7]})


# a range that may be negative: @proc refuses it (docs/semantics.md#loop-range), but a
# rewrite's result, or its printed text parsed back, may hold one
maybe_backwards = parse_proc_string("""def maybe_backwards(N: size, x: f32[N + 4] @ DRAM):
    for i in seq(0, N - 4):  # no iteration when N < 4
        x[i + 4] = 1.0
""", {}, __file__)


def test_divide_loop_cut_refuses_a_range_that_may_be_backwards():
    refused(lambda: divide_loop(maybe_backwards, "i", 4, ["io", "ii"], tail="cut"),
            "cannot prove 0 <= N - 4", "tail loop seq(0, (N - 4) % 4) would still run",
            prim="divide_loop")

    # what the rewrite would give; N = 1 writes x[0] (text: its range may be negative)
    cut = parse_proc_string("""def cut(N: size, x: f32[N + 4] @ DRAM):
    for io in seq(0, (N - 4) / 4):
        for ii in seq(0, 4):
            x[4 * io + ii + 4] = 1.0
    for ii in seq(0, (N - 4) % 4):
        x[4 * ((N - 4) / 4) + ii + 4] = 1.0
""", {}, __file__)

    differs(maybe_backwards, cut, sizes={"N": [1, 2]})
    p = divide_loop(maybe_backwards, "i", 4, ["io", "ii"])  # the guard is fine
    equiv(maybe_backwards, p, sizes={"N": [1, 2, 5, 9]})


def test_divide_loop_argument_errors():
    refused(lambda: divide_loop(scale, "i", 0, ["io", "ii"]),
            "div_const must be a positive integer, got 0")
    refused(lambda: divide_loop(scale, "i", 4, ["io"]), "expected a list of 2 new names")
    refused(lambda: divide_loop(scale, "i", 4, ["io", "ii"], tail="wrap"),
            "tail must be 'guard', 'cut' or 'cut_and_guard'")
    refused(lambda: divide_loop(scale, "y[_] = _", 4, ["io", "ii"]), "expected a loop")


def test_refusal_message_shows_position_code_and_hint():
    msg = refused(lambda: divide_loop(scale, "i", 4, ["io", "ii"], perfect=True))
    line = marked_line(__file__, "scale loop")
    lines = msg.splitlines()
    assert re.match(rf"^{re.escape(__file__)}:{line}:5: divide_loop: cannot prove", lines[0])
    assert lines[1:4] == ["  in:", "    for i in seq(0, N):", "        y[i] = 2.0 * x[i]"]
    assert "tail='guard'" in lines[-1]


# ---------------------------------------------------------------- divide_with_recompute


@proc
def blur(N: size, x: f32[N + 2], y: f32[N]):
    assert N >= 4
    for i in seq(0, N):
        y[i] = x[i] + x[i + 1] + x[i + 2]


def test_divide_with_recompute():
    p = divide_with_recompute(blur, "i", "N / 4", 4, ["io", "ii"])
    assert_body(p, """
        assert N >= 4
        for io in seq(0, N / 4):
            for ii in seq(0, 4 + (N - (N - N % 4))):
                y[4 * io + ii] = x[4 * io + ii] + x[4 * io + ii + 1] + x[4 * io + ii + 2]
    """)
    equiv(blur, p, sizes={"N": [4, 5, 7, 8, 13]}, trials=4)


def test_divide_with_recompute_refuses_chunks_past_the_end():
    refused(lambda: divide_with_recompute(blur, "i", "N / 2", 4, ["io", "ii"]),
            "cannot prove N / 2 * 4 <= N", prim="divide_with_recompute")


def test_divide_with_recompute_refuses_no_chunks():
    # zero chunks would run nothing, although 0 * 4 <= N
    refused(lambda: divide_with_recompute(blur, "i", 0, 4, ["io", "ii"]),
            "cannot prove 0 >= 1")
    @proc
    def blur_any(N: size, x: f32[N + 2], y: f32[N]):
        for i in seq(0, N):
            y[i] = x[i] + x[i + 1] + x[i + 2]

    refused(lambda: divide_with_recompute(blur_any, "i", "N / 4", 4, ["io", "ii"]),
            "cannot prove N / 4 >= 1")


def test_divide_with_recompute_refuses_a_reduction():
    @proc
    def accum(N: size, x: f32[N], y: f32[N]):
        assert N >= 4
        for i in seq(0, N):
            y[i] += x[i]

    refused(lambda: divide_with_recompute(accum, "i", "N / 4", 4, ["io", "ii"]),
            "not idempotent", "reduces into y[i]")


@proc
def shift_left(x: f32[9]):
    for i in seq(0, 8):
        x[i] = x[i + 1]


def test_divide_with_recompute_refuses_a_dependence_on_later_iterations():
    # each iteration is idempotent on its own, but iteration 3 computed again after
    # iteration 4 reads x[4], which iteration 4 overwrote
    refused(lambda: divide_with_recompute(shift_left, "i", 2, 3, ["io", "ii"]),
            "computed again after later ones reads x[i + 1]",
            "a later iteration writes x[i]")

    @proc
    def recomputed(x: f32[9]):  # what the rewrite would give
        for io in seq(0, 2):
            for ii in seq(0, 3 + (8 - 2 * 3)):
                x[3 * io + ii] = x[3 * io + ii + 1]

    differs(shift_left, recomputed)


def test_divide_with_recompute_accepts_a_forward_dependence():
    @proc
    def prefix(x: f32[9]):
        for i in seq(0, 8):
            x[i + 1] = x[i] * 0.5

    p = divide_with_recompute(prefix, "i", 2, 3, ["io", "ii"])
    equiv(prefix, p)


def test_divide_with_recompute_needs_a_loop_from_zero():
    @proc
    def from1(N: size, x: f32[N + 1]):
        for i in seq(1, N + 1):
            x[i] = 1.0

    refused(lambda: divide_with_recompute(from1, "i", 1, 1, ["io", "ii"]),
            "the loop must start at 0", "shift_loop")


# ---------------------------------------------------------------- mult_loops


@proc
def rows(N: size, x: f32[N, 4]):
    for i in seq(0, N):
        for j in seq(0, 4):
            x[i, j] = x[i, j] * 3.0


def test_mult_loops():
    p = mult_loops(rows, "i j", "ij")
    assert_body(p, """
        for ij in seq(0, N * 4):
            x[ij / 4, ij % 4] = x[ij / 4, ij % 4] * 3.0
    """)
    equiv(rows, p)


def test_mult_loops_refusals():
    refused(lambda: mult_loops(gemm, "i j", "ij"), "the inner loop's bound M must be a "
            "positive literal", prim="mult_loops")

    @proc
    def imperfect(N: size, x: f32[N, 4]):
        for i in seq(0, N):
            x[i, 0] = 0.0
            for j in seq(0, 4):
                x[i, j] = 1.0

    refused(lambda: mult_loops(imperfect, "i", "ij"), "must be exactly one loop")


def test_mult_loops_keeps_a_parallel_loop_only_if_both_were():
    p = mult_loops(parallelize_loop(rows, "i"), "i j", "ij")
    assert p.find_loop("ij")._node().mode == "seq"  # j was sequential inside each i
    equiv(rows, p)


# ---------------------------------------------------------------- join_loops


@proc
def two_halves(N: size, x: f32[2 * N]):
    for i in seq(0, N):
        x[i] = x[i] * 2.0
    for i in seq(N, 2 * N):
        x[i] = x[i] * 2.0


def test_join_loops():
    p = join_loops(two_halves, "i #0", "i #1")
    assert_body(p, """
        for i in seq(0, 2 * N):
            x[i] = x[i] * 2.0
    """)
    equiv(two_halves, p)


def test_join_loops_refuses_different_bodies():
    @proc
    def other_const(N: size, x: f32[2 * N]):
        for i in seq(0, N):
            x[i] = x[i] * 2.0
        for i in seq(N, 2 * N):
            x[i] = x[i] * 3.0

    @proc
    def other_buffer(N: size, x: f32[2 * N], y: f32[2 * N]):
        for i in seq(0, N):
            x[i] = 2.0
        for i in seq(N, 2 * N):
            y[i] = 2.0

    for p in (other_const, other_buffer):
        refused(lambda p=p: join_loops(p, "i #0", "i #1"), "the two loops' bodies differ",
                prim="join_loops")


def test_join_loops_refuses_a_gap_between_ranges():
    @proc
    def gap(N: size, x: f32[2 * N]):
        for i in seq(0, N):
            x[i] = 2.0
        for i in seq(N + 1, 2 * N):
            x[i] = 2.0

    refused(lambda: join_loops(gap, "i #0", "i #1"),
            "cannot prove the first loop ends (N) where the second begins (N + 1)")


# parsed from text: @proc refuses a negative range (docs/semantics.md#loop-range)
backwards_first = parse_proc_string("""def backwards_first(x: f32[8] @ DRAM):
    for i in seq(5, 3):
        x[i] = x[i] + 1.0
    for i in seq(3, 8):
        x[i] = x[i] + 1.0
""", {}, __file__)


def test_join_loops_refuses_an_empty_range_written_backwards():
    refused(lambda: join_loops(backwards_first, "i #0", "i #1"),
            "cannot prove the first loop's range is not empty the wrong way round (5 <= 3)")

    @proc
    def joined(x: f32[8]):  # what joining would give: iterations 3 and 4 are lost
        for i in seq(5, 8):
            x[i] = x[i] + 1.0

    differs(backwards_first, joined)


def test_join_loops_refuses_loops_that_are_not_consecutive():
    @proc
    def apart(N: size, x: f32[2 * N]):
        for i in seq(0, N):
            x[i] = 2.0
        x[0] = 1.0
        for i in seq(N, 2 * N):
            x[i] = 2.0

    refused(lambda: join_loops(apart, "i #0", "i #1"), "must be consecutive statements")


def test_join_loops_refuses_a_parallel_and_a_sequential_loop():
    p = parallelize_loop(two_halves, "i #1")
    refused(lambda: join_loops(p, "i #0", "i #1"), "one loop is 'seq' and the other 'par'")


def test_join_parallel_loops_rechecks_races():
    @proc
    def mirrored(N: size, x: f32[2 * N]):
        for i in seq(0, N):
            x[i] = 1.0
        for i in seq(N, 2 * N):
            x[i] = 1.0

    p = parallelize_loop(parallelize_loop(mirrored, "i #0"), "i #1")
    q = join_loops(p, "i #0", "i #1")
    assert "for i in par(0, 2 * N):" in str(q)
    equiv(mirrored, q)


# ---------------------------------------------------------------- cut_loop, shift_loop


def test_cut_loop():
    p = cut_loop(scale, "i", "N / 2")
    assert_body(p, """
        for i in seq(0, N / 2):
            y[i] = 2.0 * x[i]
        for i in seq(N / 2, N):
            y[i] = 2.0 * x[i]
    """)
    equiv(scale, p)


def test_cut_loop_refuses_a_point_outside_the_range():
    refused(lambda: cut_loop(scale, "i", 3), "cannot prove 0 <= 3 <= N", prim="cut_loop")
    refused(lambda: cut_loop(scale, "i", "N + 1"), "cannot prove 0 <= N + 1 <= N")


def test_cut_loop_inside_the_range_by_an_assert():
    @proc
    def at_least3(N: size, x: f32[N], y: f32[N]):
        assert N >= 3
        for i in seq(0, N):
            y[i] = 2.0 * x[i]

    p = cut_loop(at_least3, "i", 3)
    assert [(str(c.lo()), str(c.hi())) for c in p.find_loop("i", many=True)] == \
        [("0", "3"), ("3", "N")]
    equiv(at_least3, p)


def test_shift_loop():
    p = shift_loop(scale, "i", 1)
    assert_body(p, """
        for i in seq(1, 1 + N):
            y[i - 1] = 2.0 * x[i - 1]
    """)
    equiv(scale, p)
    q = shift_loop(p, "i", 0)
    equiv(scale, q)


def test_shift_loop_refuses_a_negative_start():
    refused(lambda: shift_loop(scale, "i", -1), "cannot prove the new lower bound -1 is >= 0",
            prim="shift_loop")
    refused(lambda: shift_loop(scale, "i", "N - 2"), "N - 2 is >= 0")


# ---------------------------------------------------------------- reorder_loops


def test_reorder_loops_gemm():
    p = reorder_loops(gemm, "j k")
    assert_body(p, """
        for i in seq(0, N):
            for k in seq(0, K):
                for j in seq(0, M):
                    C[i, j] += A[i, k] * B[k, j]
    """)
    equiv(gemm, p)
    q = reorder_loops(reorder_loops(p, "i k"), "i j")
    assert [c.name() for c in q.find_all("for _ in _: _")] == ["k", "j", "i"]
    equiv(gemm, q)


@proc
def stencil_diag(N: size, A: f32[N + 1, N + 1]):
    for i in seq(0, N):
        for j in seq(0, N):
            A[i + 1, j + 1] = A[i, j] + 1.0


@proc
def stencil_antidiag(N: size, A: f32[N + 1, N + 1]):
    for i in seq(0, N):
        for j in seq(0, N):
            A[i + 1, j] = A[i, j + 1] + 1.0


def test_reorder_loops_legal_stencil():
    # iteration (i, j) feeds (i + 1, j + 1): later in both loops, so either order works
    p = reorder_loops(stencil_diag, "i j")
    assert p.find_loop("j").body()[0].name() == "i"
    equiv(stencil_diag, p)


def test_reorder_loops_illegal_stencil():
    # iteration (i, j) feeds (i + 1, j - 1): later in i but earlier in j
    refused(lambda: reorder_loops(stencil_antidiag, "i j"),
            "a dependence between iterations would be reversed",
            "writes A[i + 1, j]", "reads A[i, j + 1]", prim="reorder_loops")

    @proc
    def interchanged(N: size, A: f32[N + 1, N + 1]):  # what the rewrite would give
        for j in seq(0, N):
            for i in seq(0, N):
                A[i + 1, j] = A[i, j + 1] + 1.0

    differs(stencil_antidiag, interchanged, sizes={"N": [2, 3, 4]})


def test_reorder_loops_dependences_inside_one_loop_are_kept():
    @proc
    def rows_scan(N: size, A: f32[N, N + 1]):
        for i in seq(0, N):
            for j in seq(0, N):
                A[i, j + 1] = A[i, j] * 0.5

    @proc
    def cols_scan(N: size, A: f32[N + 1, N]):
        for i in seq(0, N):
            for j in seq(0, N):
                A[i + 1, j] = A[i, j] * 0.5

    for p in (rows_scan, cols_scan):
        equiv(p, reorder_loops(p, "i j"))


def test_reorder_loops_refuses_an_imperfect_nest():
    @proc
    def init_then_sum(N: size, x: f32[N, N], s: f32[N]):
        for i in seq(0, N):
            s[i] = 0.0
            for j in seq(0, N):
                s[i] += x[i, j]

    refused(lambda: reorder_loops(init_then_sum, "i"), "not perfectly nested",
            "fission the other statements out first")


def test_reorder_loops_refuses_a_triangular_nest():
    @proc
    def tri(N: size, x: f32[N, N]):
        for i in seq(0, N):
            for j in seq(0, i):
                x[i, j] = 0.0

    refused(lambda: reorder_loops(tri, "i j"), "the inner loop's bounds depend on 'i'")


def test_reorder_loops_moves_a_parallel_loop_inward():
    p = reorder_loops(parallelize_loop(gemm, "i"), "i j")
    assert "for i in par(0, N):" in str(p.find_loop("i"))
    equiv(gemm, p)


def test_reorder_loops_refuses_a_parallel_loop_outward_that_would_race():
    @proc
    def skew(N: size, A: f32[2 * N], B: f32[N]):
        for i in seq(0, N):
            for j in seq(0, N):
                A[i - j + N] = B[i]

    p = parallelize_loop(skew, "j")  # j iterations write distinct A[i - j + N] for one i
    refused(lambda: reorder_loops(p, "i j"), "iterations of the parallel loop 'j' would race")


# ---------------------------------------------------------------- unroll_loop


def test_unroll_loop():
    p = unroll_loop(rows, "j")
    assert_body(p, """
        for i in seq(0, N):
            x[i, 0] = x[i, 0] * 3.0
            x[i, 1] = x[i, 1] * 3.0
            x[i, 2] = x[i, 2] * 3.0
            x[i, 3] = x[i, 3] * 3.0
    """)
    equiv(rows, p)


def test_unroll_loop_copies_allocations_and_inner_loops():
    @proc
    def staged(x: f32[2, 4]):
        for i in seq(0, 2):
            t: f32[4]
            for j in seq(0, 4):
                t[j] = x[i, j]
            for j in seq(0, 4):
                x[i, j] = t[3 - j] * 2.0

    p = unroll_loop(staged, "i")
    assert len(p.find_all("t : _")) == 2
    assert len({c._node().name for c in p.find_all("t : _")}) == 2  # distinct buffers
    equiv(staged, p)


def test_unroll_loop_copies_of_a_scalar_buffer_are_still_analysed():
    @proc
    def scalar_tmp(x: f32[2], y: f32[2]):
        for i in seq(0, 2):
            s: f32
            s = x[i]
            y[i] = s * 2.0

    p = unroll_loop(scalar_tmp, "i")
    equiv(scalar_tmp, p)
    # the copy's reads of its own `s` must still count as reads of a buffer
    refused(lambda: reorder_stmts(p, p.find("s = _ #1").expand(0, 1)),
            "the first writes s and the second reads s")


def test_unroll_loop_refuses_symbolic_bounds():
    refused(lambda: unroll_loop(scale, "i"), "the loop bounds must be literal constants",
            prim="unroll_loop")


# ---------------------------------------------------------------- remove_loop


@proc
def repeated(N: size, x: f32[N], y: f32[1]):
    for r in seq(0, N):
        y[0] = x[0] * 2.0


def test_remove_loop():
    p = remove_loop(repeated, "r")
    assert_body(p, """
        y[0] = x[0] * 2.0
    """)
    equiv(repeated, p)


def test_remove_loop_refuses_a_body_that_uses_the_loop_variable():
    refused(lambda: remove_loop(scale, "i"), "the body uses the loop variable 'i'",
            prim="remove_loop")


@proc
def accumulate(N: size, x: f32[N], y: f32[1]):
    for r in seq(0, N):
        y[0] += x[0]


def test_remove_loop_refuses_a_non_idempotent_body():
    refused(lambda: remove_loop(accumulate, "r"), "not idempotent", "reduces into y[0]")

    @proc
    def doubling(N: size, y: f32[1]):
        for r in seq(0, N):
            y[0] = y[0] * 2.0

    refused(lambda: remove_loop(doubling, "r"), "not idempotent", "writes y[0]",
            "reads y[0]")


def test_remove_loop_guards_a_loop_that_may_not_run():
    # (as Exo does) the body runs once exactly when the loop ran at least once
    @proc
    def maybe_empty(N: size, x: f32[N], y: f32[1]):
        for r in seq(0, N - 1):
            y[0] = x[0]

    p = remove_loop(maybe_empty, "r")
    assert_body(p, """
        if N - 1 > 0:
            y[0] = x[0]
    """)
    equiv(maybe_empty, p, sizes={"N": [1, 2, 3]})


def test_remove_loop_unsafe_disable_check():
    p = remove_loop(accumulate, "r", unsafe_disable_check=True)
    assert not p.is_eq(accumulate)
    differs(accumulate, p, sizes={"N": [2, 3]})
    q = remove_loop(repeated, "r", unsafe_disable_check=True)
    equiv(repeated, q, proven=False)  # right here, but nothing proved it


# ---------------------------------------------------------------- add_loop


def test_add_loop():
    p = add_loop(repeated, "for r in _: _", "k", 3)
    assert_body(p, """
        for k in seq(0, 3):
            for r in seq(0, N):
                y[0] = x[0] * 2.0
    """)
    equiv(repeated, p)
    q = add_loop(scale, "y[_] = _", "k", "N")
    assert text_of(q.find_loop("k")).startswith("for k in seq(0, N):")
    equiv(scale, q)


def test_add_loop_with_guard_runs_the_block_once():
    p = add_loop(accumulate, "y[_] += _", "k", 4, guard=True)
    assert_body(p, """
        for r in seq(0, N):
            for k in seq(0, 4):
                if k == 0:
                    y[0] += x[0]
    """)
    equiv(accumulate, p)


def test_add_loop_refuses_a_non_idempotent_block():
    refused(lambda: add_loop(accumulate, "y[_] += _", "k", 4), "not idempotent",
            prim="add_loop")


def test_add_loop_refuses_a_loop_that_may_not_run():
    refused(lambda: add_loop(repeated, "for r in _: _", "k", 0),
            "cannot prove the new loop's bound 0 is positive")
    refused(lambda: add_loop(repeated, "for r in _: _", "k", "N - 1"), "bound N - 1 is positive")


def test_add_loop_refuses_to_hide_an_allocation_from_its_uses():
    @proc
    def staged_tmp(N: size, x: f32[N]):
        t: f32[4]
        t[0] = x[0] * 2.0
        x[N - 1] = t[0]

    refused(lambda: add_loop(staged_tmp, "t : _", "r", 2),
            "'t' is allocated in the block and used after it", prim="add_loop")


def test_add_loop_unsafe_disable_check():
    p = add_loop(accumulate, "y[_] += _", "k", 2, unsafe_disable_check=True)
    assert not p.is_eq(accumulate)
    differs(accumulate, p)


# ---------------------------------------------------------------- parallelize_loop


def test_parallelize_an_independent_loop():
    p = parallelize_loop(gemm, "i")
    assert_body(p, """
        for i in par(0, N):
            for j in seq(0, M):
                for k in seq(0, K):
                    C[i, j] += A[i, k] * B[k, j]
    """)
    assert "#pragma omp parallel for" in p.c_code_str()
    equiv(gemm, p)


def test_parallelize_refuses_a_reduction():
    refused(lambda: parallelize_loop(gemm, "k"), "iterations of the parallel loop 'k' would "
            "race", "reduce into", "C[i, j]", prim="parallelize_loop")


def test_parallelize_refuses_nesting():
    p = parallelize_loop(gemm, "i")
    refused(lambda: parallelize_loop(p, "j"), "already inside a parallel loop")
    q = parallelize_loop(gemm, "j")
    refused(lambda: parallelize_loop(q, "i"), "contain another parallel loop")


def test_parallelize_sees_a_race_through_a_window():
    @proc
    def neighbours(N: size, x: f32[N + 1]):
        w = x[1:N + 1]
        for i in seq(0, N):
            w[i] = x[i] * 2.0

    @proc
    def own_cells(N: size, x: f32[N + 1]):
        w = x[1:N + 1]
        for i in seq(0, N):
            w[i] = x[i + 1] * 2.0

    refused(lambda: parallelize_loop(neighbours, "i"), "writes x[1 + i]", "reads x[i]")
    p = parallelize_loop(own_cells, "i")
    equiv(own_cells, p)


@proc
def double_first(n: size, v: [f32][n]):
    v[0] = v[0] * 2.0


def test_parallelize_sees_a_race_inside_a_call():
    @proc
    def same_cell(N: size, x: f32[N]):
        for i in seq(0, N):
            double_first(N, x[0:N])

    @proc
    def own_cell(N: size, x: f32[N]):
        for i in seq(0, N):
            double_first(N - i, x[i:N])

    refused(lambda: parallelize_loop(same_cell, "i"), "would race", "x[0 + 0]")
    p = parallelize_loop(own_cell, "i")
    equiv(own_cell, p)


# ---------------------------------------------------------------- configs


@config
class Lim:
    n: index


@proc
def bounded_by_config(N: size, x: f32[N]):
    Lim.n = N
    for i in seq(0, Lim.n):
        if i < N:
            x[i] = x[i] + 1.0


# from text: @proc refuses a config write steered by a loop variable (Exo's rule,
# semantics.md#config-loop-invariant); parsed text and rewrites may hold one
shrinks_its_bound = parse_proc_string("""def shrinks_its_bound(N: size, x: f32[N] @ DRAM):
    Lim.n = N
    for i in seq(0, Lim.n):
        if i == 1:
            Lim.n = 1
        if i < N:
            x[i] = x[i] + 1.0
""", {"Lim": Lim}, __file__)


def test_divide_loop_bounded_by_a_config():
    p = divide_loop(bounded_by_config, "i", 2, ["io", "ii"])
    equiv(bounded_by_config, p)


def test_loop_bound_config_written_in_the_body_is_refused():
    # the bound is evaluated once; the rewritten loops would evaluate it again later
    why = "the body writes Lim.n, which the loop bounds read"
    p = shrinks_its_bound
    refused(lambda: divide_loop(p, "i", 2, ["io", "ii"]), why, prim="divide_loop")
    refused(lambda: divide_loop(p, "i", 2, ["io", "ii"], tail="cut"), why)
    q = shift_loop(p, "i", 1)  # only the lower bound moves into the body: still fine
    equiv(p, q, sizes={"N": [2, 3, 5]})

    # what divide_loop would give
    guard_rereads = parse_proc_string("""def guard_rereads(N: size, x: f32[N] @ DRAM):
    Lim.n = N
    for io in seq(0, (Lim.n + 1) / 2):
        for ii in seq(0, 2):
            if 2 * io + ii < Lim.n:
                if 2 * io + ii == 1:
                    Lim.n = 1
                if 2 * io + ii < N:
                    x[2 * io + ii] = x[2 * io + ii] + 1.0
""", {"Lim": Lim}, __file__)

    differs(shrinks_its_bound, guard_rereads, sizes={"N": [3, 4, 5]})


def test_cut_and_join_refuse_bounds_read_after_the_body_changed_them():
    # `N + Lim.n - Lim.n` is N on entry, but the second loop would evaluate it later
    cut_me = parse_proc_string("""def cut_me(N: size, x: f32[N] @ DRAM):
    for i in seq(0, N + Lim.n - Lim.n):
        Lim.n = i
        x[0] = 1.0
""", {"Lim": Lim}, __file__)

    refused(lambda: cut_loop(cut_me, "i", 0), "the body writes Lim.n, which the loop bounds "
            "read", prim="cut_loop")

    join_me = parse_proc_string("""def join_me(N: size, x: f32[2 * N] @ DRAM):
    for i in seq(0, N):
        Lim.n = i
        x[i] = 1.0
    for i in seq(N, 2 * N + Lim.n - Lim.n):
        Lim.n = i
        x[i] = 1.0
""", {"Lim": Lim}, __file__)

    refused(lambda: join_loops(join_me, "i #0", "i #1"), "the body writes Lim.n, which the "
            "loop bounds read", prim="join_loops")


def test_reorder_refuses_an_inner_bound_config_written_in_the_body():
    # from text: @proc refuses seq(0, Lim.n), which the body's write leaves unbounded
    # (semantics.md#loop-range)
    grows = parse_proc_string("""def grows(N: size, A: f32[2, 2] @ DRAM):
    Lim.n = 1
    for i in seq(0, 2):
        for j in seq(0, Lim.n):
            if i == 0 and j == 0:
                Lim.n = 2
            if j < 2:
                A[i, j] = 1.0
""", {"Lim": Lim}, __file__)

    refused(lambda: reorder_loops(grows, "i j"), "the body writes Lim.n, which the loop "
            "bounds read", prim="reorder_loops")


def test_parallelize_refuses_a_config_write():
    sets_config = parse_proc_string("""def sets_config(N: size, x: f32[N] @ DRAM):
    for i in seq(0, N):
        Lim.n = i
        x[i] = 1.0
""", {"Lim": Lim}, __file__)  # from text, as shrinks_its_bound

    refused(lambda: parallelize_loop(sets_config, "i"), "writes Lim.n")


@pytest.mark.parametrize("prim", ["divide_loop", "reorder_loops", "cut_loop"])
def test_error_messages_name_the_primitive_and_the_statement(prim):
    calls = {"divide_loop": lambda: divide_loop(scale, "i", 4, ["a", "b"], perfect=True),
             "reorder_loops": lambda: reorder_loops(stencil_antidiag, "i"),
             "cut_loop": lambda: cut_loop(scale, "i", 7)}
    msg = refused(calls[prim], prim=prim)
    assert "\n  in:\n    for i in seq(0, N):\n" in msg
