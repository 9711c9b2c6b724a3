"""Misusing the loop and scope primitives: bad arguments are refused naming the argument;
unsafe or impossible rewrites are refused at the line of the statement they concern
(marked `# <-`)."""

from __future__ import annotations

from refusals import expect_error, marked_line

from knit import proc
from knit.errors import ParseFragmentError, SchedulingError
from knit.stdlib.scheduling import (
    add_loop,
    cut_loop,
    divide_loop,
    eliminate_dead_code,
    fission,
    fuse,
    join_loops,
    lift_scope,
    mult_loops,
    parallelize_loop,
    remove_loop,
    reorder_loops,
    shift_loop,
    unroll_loop,
)


@proc
def nest(N: size, M: size, A: f32[N, M]):
    for i in seq(0, N):
        for j in seq(0, M):
            A[i, j] = 0.0


# ---------------------------------------------------------------- divide_loop arguments


def test_divide_loop_by_zero():
    expect_error(lambda: divide_loop(nest, "i", 0, ["io", "ii"]), SchedulingError,
                 "divide_loop: div_const must be a positive integer, got 0")


def test_divide_loop_by_a_float():
    expect_error(lambda: divide_loop(nest, "i", 4.0, ["io", "ii"]), SchedulingError,
                 "div_const must be a positive integer, got 4.0")


def test_divide_loop_one_new_name():
    expect_error(lambda: divide_loop(nest, "i", 4, ["io"]), SchedulingError,
                 "divide_loop: expected a list of 2 new names, got ['io']")


def test_divide_loop_names_not_a_list():
    expect_error(lambda: divide_loop(nest, "i", 4, "io ii"), SchedulingError,
                 "expected a list of 2 new names, got 'io ii'")


def test_divide_loop_name_not_an_identifier():
    expect_error(lambda: divide_loop(nest, "i", 4, ["io", "1x"]), SchedulingError,
                 "divide_loop: '1x' is not a valid name")


def test_divide_loop_unknown_tail():
    expect_error(lambda: divide_loop(nest, "i", 4, ["io", "ii"], tail="x"), SchedulingError,
                 "tail must be 'guard', 'cut' or 'cut_and_guard', got 'x'")


def test_divide_loop_perfect_not_proven():
    def define():
        @proc
        def f(N: size, A: f32[N]):
            for i in seq(0, N):  # <-
                A[i] = 0.0
        return f
    f = define()
    expect_error(lambda: divide_loop(f, "i", 4, ["io", "ii"], perfect=True), SchedulingError,
                 "cannot prove that the trip count N is a multiple of 4", line=marked_line(define),
                 file=__file__)


# ---------------------------------------------------------------- reordering and splitting


def test_reorder_loops_not_nested():
    def define():
        @proc
        def f(N: size, A: f32[N], B: f32[N]):
            for i in seq(0, N):  # <-
                A[i] = 1.0
            for j in seq(0, N):
                B[j] = 2.0
        return f
    f = define()
    expect_error(lambda: reorder_loops(f, "i"), SchedulingError,
                 "reorder_loops: the loops are not perfectly nested", line=marked_line(define),
                 file=__file__)


def test_reorder_loops_reverses_a_dependence():
    def define():
        @proc
        def f(N: size, M: size, A: f32[N + 1, M + 1]):
            for i in seq(0, N):  # <-
                for j in seq(0, M):
                    A[i + 1, j] = A[i, j + 1]
        return f
    f = define()
    expect_error(lambda: reorder_loops(f, "i j"), SchedulingError, "reorder_loops:",
                 line=marked_line(define), file=__file__)


def test_fission_at_the_edge_of_a_block_names_the_statement():
    def define():
        @proc
        def f(N: size, A: f32[N], B: f32[N]):
            for i in seq(0, N):
                A[i] = 1.0  # <-
                B[i] = 2.0
        return f
    f = define()
    gap = f.find("A[i] = _").before()
    expect_error(lambda: fission(f, gap), SchedulingError, "the gap is at the edge of a block",
                 line=marked_line(define), file=__file__)


def test_fission_reorders_a_dependence():
    def define():
        @proc
        def f(N: size, A: f32[N + 1], B: f32[N], C: f32[N]):
            for i in seq(0, N):  # <-
                A[i] = B[i]
                C[i] = A[i + 1]
        return f
    f = define()
    expect_error(lambda: fission(f, f.find("A[i] = _").after()), SchedulingError,
                 "splitting the loop would reorder a dependence", line=marked_line(define),
                 file=__file__)


def test_fission_zero_lifts():
    expect_error(lambda: fission(nest, nest.find("A[i, j] = _").after(), n_lifts=0),
                 SchedulingError, "fission: n_lifts must be a positive integer, got 0")


# ---------------------------------------------------------------- joining and fusing


def test_fuse_non_adjacent_loops():
    def define():
        @proc
        def f(N: size, A: f32[N], B: f32[N], C: f32[N]):
            for i in seq(0, N):  # <-
                A[i] = 1.0
            for i in seq(0, N):
                B[i] = 2.0
            for i in seq(0, N):
                C[i] = 3.0
        return f
    f = define()
    expect_error(lambda: fuse(f, f.find_loop("i"), f.find_loop("i #2")), SchedulingError,
                 "fuse: the two statements must be consecutive in one block",
                 line=marked_line(define), file=__file__)


def test_fuse_loops_of_different_ranges():
    def define():
        @proc
        def f(N: size, M: size, A: f32[N], B: f32[M]):
            for i in seq(0, N):  # <-
                A[i] = 1.0
            for i in seq(0, M):
                B[i] = 2.0
        return f
    f = define()
    expect_error(lambda: fuse(f, f.find_loop("i"), f.find_loop("i #1")), SchedulingError,
                 "fuse:", line=marked_line(define), file=__file__)


def test_join_loops_that_do_not_meet():
    def define():
        @proc
        def f(N: size, A: f32[N]):
            for i in seq(0, N):  # <-
                A[i] = 1.0
            for i in seq(0, N):
                A[i] = 1.0
        return f
    f = define()
    expect_error(lambda: join_loops(f, f.find_loop("i"), f.find_loop("i #1")), SchedulingError,
                 "cannot prove the first loop ends (N) where the second begins (0)",
                 line=marked_line(define), file=__file__)


def test_mult_loops_with_a_non_literal_inner_loop():
    def define():
        @proc
        def f(N: size, M: size, A: f32[N, M]):
            for i in seq(0, N):  # <-
                for j in seq(0, M):
                    A[i, j] = 0.0
        return f
    f = define()
    expect_error(lambda: mult_loops(f, "i j", "k"), SchedulingError, "mult_loops:",
                 line=marked_line(define), file=__file__)


# ---------------------------------------------------------------- ranges


def test_cut_loop_outside_its_range():
    def define():
        @proc
        def f(N: size, A: f32[N]):
            for i in seq(0, N):  # <-
                A[i] = 0.0
        return f
    f = define()
    expect_error(lambda: cut_loop(f, "i", "N + 1"), SchedulingError,
                 "cut_loop: cannot prove 0 <= N + 1 <= N", line=marked_line(define), file=__file__)


def test_cut_loop_at_an_undefined_name():
    expect_error(lambda: cut_loop(nest, "i", "K"), ParseFragmentError,
                 "cut_loop: cannot use 'K' here: name 'K' is not defined")


def test_shift_loop_below_zero():
    def define():
        @proc
        def f(N: size, A: f32[N]):
            for i in seq(0, N):  # <-
                A[i] = 0.0
        return f
    f = define()
    expect_error(lambda: shift_loop(f, "i", -1), SchedulingError,
                 "cannot prove the new lower bound -1 is >= 0", line=marked_line(define),
                 file=__file__)


def test_unroll_a_loop_with_a_symbolic_bound():
    def define():
        @proc
        def f(N: size, A: f32[N]):
            for i in seq(0, N):  # <-
                A[i] = 0.0
        return f
    f = define()
    expect_error(lambda: unroll_loop(f, "i"), SchedulingError,
                 "unroll_loop: the loop bounds must be literal constants", line=marked_line(define),
                 file=__file__)


# ---------------------------------------------------------------- adding and removing loops


def test_remove_a_loop_whose_body_uses_its_variable():
    def define():
        @proc
        def f(N: size, A: f32[N]):
            for i in seq(0, N):  # <-
                A[i] = 0.0
        return f
    f = define()
    expect_error(lambda: remove_loop(f, "i"), SchedulingError,
                 "remove_loop: the body uses the loop variable 'i'", line=marked_line(define),
                 file=__file__)


def test_add_loop_around_a_reduction():
    def define():
        @proc
        def f(N: size, A: f32[N], s: f32):
            for i in seq(0, N):
                s += A[i]  # <-
        return f
    f = define()
    expect_error(lambda: add_loop(f, f.find("s += _"), "k", 2), SchedulingError,
                 "add_loop: the body is not idempotent", line=marked_line(define), file=__file__)


def test_add_loop_that_never_runs():
    def define():
        @proc
        def f(N: size, A: f32[N]):
            for i in seq(0, N):  # <-
                A[i] = 0.0
        return f
    f = define()
    expect_error(lambda: add_loop(f, f.find_loop("i"), "k", 0), SchedulingError,
                 "cannot prove the new loop's bound 0 is positive", line=marked_line(define),
                 file=__file__)


def test_parallelize_a_loop_with_a_race():
    def define():
        @proc
        def f(N: size, A: f32[N + 1]):
            for i in seq(0, N):  # <-
                A[i + 1] = A[i] + 1.0
        return f
    f = define()
    expect_error(lambda: parallelize_loop(f, "i"), SchedulingError,
                 "iterations of the parallel loop 'i' would race", line=marked_line(define),
                 file=__file__)


def test_eliminate_dead_code_of_a_live_loop():
    def define():
        @proc
        def f(N: size, A: f32[N]):
            for i in seq(0, N):  # <-
                A[i] = 0.0
        return f
    f = define()
    expect_error(lambda: eliminate_dead_code(f, f.find_loop("i")), SchedulingError,
                 "cannot prove the loop never runs", line=marked_line(define), file=__file__)


def test_lift_scope_of_an_assignment():
    def define():
        @proc
        def f(N: size, A: f32[N]):
            for i in seq(0, N):
                A[i] = 0.0  # <-
        return f
    f = define()
    expect_error(lambda: lift_scope(f, f.find("A[i] = _")), SchedulingError,
                 "expected a loop or an if", line=marked_line(define), file=__file__)


def test_lift_scope_at_the_top_level():
    def define():
        @proc
        def f(N: size, A: f32[N]):
            for i in seq(0, N):  # <-
                A[i] = 0.0
        return f
    f = define()
    expect_error(lambda: lift_scope(f, f.find_loop("i")), SchedulingError,
                 "there is no scope to lift it out of", line=marked_line(define), file=__file__)
