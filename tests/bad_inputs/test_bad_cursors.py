"""Stale, foreign and invalid cursors, and values of the wrong Python type where a
primitive or a Procedure method expects a procedure, a cursor or a pattern.

A wrong Python type may raise TypeError (as Python's builtins do), but only on purpose:
the message names the primitive and what it expected. An accidental TypeError or
AttributeError from deep inside knit is a bug."""

from __future__ import annotations

from refusals import deliberate_type_error, expect_error, marked_line

from knit import proc
from knit.cursors.cursor import InvalidCursorError
from knit.errors import SchedulingError
from knit.stdlib.scheduling import (
    add_loop,
    divide_loop,
    expand_dim,
    fission,
    inline,
    insert_pass,
    repeat,
    sched_seq,
    simplify,
    stage_mem,
    unroll_loop,
)


@proc
def scale(N: size, A: f32[N]):
    for i in seq(0, N):
        A[i] = A[i] * 2.0


def define_host():
    @proc
    def host(N: size, A: f32[N], B: f32[4]):
        scale(N, A)
        for j in seq(0, 4):  # <- loop j
            B[j] = 1.0
        B[0] = 2.0
    return host


host = define_host()
LOOP_J = marked_line(define_host, "loop j")


# ---------------------------------------------------------------- foreign cursors


def test_cursor_of_an_unrelated_procedure():
    expect_error(lambda: divide_loop(host, scale.find_loop("i"), 2, ["io", "ii"]), SchedulingError,
                 "the cursor belongs to a different procedure ('scale'), not to 'host'")


def test_cursor_of_a_later_version_used_on_an_earlier_one():
    later = divide_loop(host, "j", 2, ["jo", "ji"])
    expect_error(lambda: unroll_loop(host, later.find_loop("ji")), SchedulingError,
                 "the cursor belongs to a different procedure")


def test_cursor_of_a_different_procedure_with_the_same_name():
    def other():
        @proc
        def host(N: size, A: f32[N], B: f32[4]):
            for j in seq(0, 4):
                B[j] = 0.0
        return host
    expect_error(lambda: unroll_loop(host, other().find_loop("j")), SchedulingError,
                 "the cursor belongs to a different procedure")


# ---------------------------------------------------------------- stale cursors


def test_cursor_of_a_statement_removed_by_unrolling():
    loop = host.find_loop("j")
    unrolled = unroll_loop(host, loop)
    expect_error(lambda: divide_loop(unrolled, loop, 2, ["a", "b"]), InvalidCursorError,
                 "the statement the cursor pointed at was removed by a rewrite")


def test_cursor_of_a_call_removed_by_inlining():
    call = host.find("scale(_)")
    inlined = inline(host, call)
    expect_error(lambda: inline(inlined, call), InvalidCursorError,
                 "was removed by a rewrite:\nscale(N, A)")


def test_gap_anchored_to_a_removed_statement():
    gap = host.find_loop("j").before()
    unrolled = unroll_loop(host, "j")
    expect_error(lambda: insert_pass(unrolled, gap), InvalidCursorError,
                 "was removed by a rewrite")


def test_block_whose_statement_was_removed():
    block = host.find_loop("j").as_block()
    unrolled = unroll_loop(host, "j")
    expect_error(lambda: add_loop(unrolled, block, "k", 2), InvalidCursorError,
                 "was removed by a rewrite")


# ---------------------------------------------------------------- invalid cursors


def test_navigating_from_an_invalid_cursor():
    past_end = host.find("B[0] = _").next()
    assert not past_end
    expect_error(lambda: past_end.body(), InvalidCursorError,
                 "cannot call body() on an invalid cursor: navigated past the end of a block")


def test_parent_of_the_proc_body():
    expect_error(lambda: host.body().parent().name(), InvalidCursorError,
                 "the proc body has no parent statement")


def test_else_branch_that_does_not_exist():
    def define():
        @proc
        def f(N: size, A: f32[N]):
            for i in seq(0, N):
                if i < 2:
                    A[i] = 0.0
        return f
    f = define()
    expect_error(lambda: f.find("if _: _").orelse().before(), InvalidCursorError,
                 "this if has no else branch")


def test_invalid_cursor_given_to_a_primitive():
    expect_error(lambda: fission(host, host.find_loop("j").prev(2)), SchedulingError,
                 "fission: expected a gap (stmt.before() or stmt.after()), got an invalid cursor")


# ---------------------------------------------------------------- cursors of the wrong kind


def test_gap_where_a_loop_is_expected():
    expect_error(lambda: divide_loop(host, host.find_loop("j").after(), 2, ["a", "b"]),
                 SchedulingError, "divide_loop: expected a loop, got a gap")


def test_argument_where_a_loop_is_expected():
    expect_error(lambda: divide_loop(host, host.args()[0], 2, ["a", "b"]), SchedulingError,
                 "divide_loop: expected a loop, got an argument")


def test_statement_where_a_loop_is_expected():
    def define():
        @proc
        def f(N: size, A: f32[N]):
            for i in seq(0, N):
                A[i] = 0.0  # <-
        return f
    f = define()
    expect_error(lambda: divide_loop(f, f.find("A[i] = _"), 2, ["a", "b"]), SchedulingError,
                 "divide_loop: expected a loop, got 'A[i] = 0.0'", line=marked_line(define),
                 file=__file__)


# ---------------------------------------------------------------- wrong Python types


def test_string_where_a_gap_cursor_is_needed():
    deliberate_type_error(lambda: fission(host, "B[j] = _"), "fission",
                          "expected a gap cursor (e.g. c.after()), got str")


def test_int_where_a_loop_is_needed():
    deliberate_type_error(lambda: divide_loop(host, 3, 2, ["a", "b"]), "divide_loop",
                          "expected a loop cursor or pattern, got int")


def test_none_where_a_block_is_needed():
    deliberate_type_error(lambda: stage_mem(host, None, "B[0:4]", "Bs"), "stage_mem",
                          "expected a block cursor or pattern, got NoneType")


def test_int_where_a_buffer_is_needed():
    deliberate_type_error(lambda: expand_dim(host, 5, 4, 0), "expand_dim",
                          "expected a buffer name, pattern or cursor, got int")


def test_procedure_name_instead_of_the_procedure():
    deliberate_type_error(lambda: divide_loop("host", "j", 2, ["a", "b"]), "divide_loop",
                          "expected a Procedure as the first argument, got str")


def test_ir_instead_of_the_procedure():
    deliberate_type_error(lambda: simplify(host._loopir_proc), "simplify",
                          "expected a Procedure as the first argument, got Proc")


def test_undecorated_function_instead_of_a_procedure():
    def plain(N, A):
        pass
    deliberate_type_error(lambda: unroll_loop(plain, "j"), "unroll_loop",
                          "expected a Procedure as the first argument, got function")


def test_repeat_zero_times():
    deliberate_type_error(lambda: repeat(simplify, n_times=0), "repeat",
                          "n_times must be None or a positive int")


def test_sched_seq_with_a_non_callable():
    deliberate_type_error(lambda: sched_seq(host, [simplify, "unroll_loop"]), "sched_seq",
                          "expected a callable or (callable, args...)")


def test_find_loop_of_none():
    expect_error(lambda: host.find_loop(None), TypeError, "expected a pattern string", exact=False)


def test_forward_a_string():
    expect_error(lambda: host.forward("j"), TypeError, "cursor", exact=False)
