"""Scope primitives: fission, autofission, lift_scope, fuse, specialize,
eliminate_dead_code, add_unsafe_guard — the rewrite, equivalence, refusal."""

from __future__ import annotations

import re

from refusals import marked_line
from scheduling_checks import assert_body, differs, equiv, refused

from knit import config, proc
from knit.stdlib.scheduling import (
    add_unsafe_guard,
    autofission,
    bind_expr,
    eliminate_dead_code,
    fission,
    fuse,
    lift_alloc,
    lift_scope,
    parallelize_loop,
    reorder_loops,
    reorder_stmts,
    specialize,
)


@proc
def two_stage(N: size, x: f32[N], y: f32[N], z: f32[N]):
    for i in seq(0, N):  # <- two_stage loop
        y[i] = x[i] * 2.0
        z[i] = y[i] + 1.0


@proc
def gemm(N: size, M: size, K: size, A: f32[N, K], B: f32[K, M], C: f32[N, M]):
    for i in seq(0, N):
        for j in seq(0, M):
            for k in seq(0, K):
                C[i, j] += A[i, k] * B[k, j]


# ---------------------------------------------------------------- fission


def test_fission_a_loop():
    p = fission(two_stage, two_stage.find("y[_] = _").after())
    assert_body(p, """
        for i in seq(0, N):
            y[i] = x[i] * 2.0
        for i in seq(0, N):
            z[i] = y[i] + 1.0
    """)
    equiv(two_stage, p)


@proc
def carried(N: size, x: f32[N + 1], y: f32[N]):
    for i in seq(0, N):
        y[i] = x[i]
        x[i + 1] = y[i] * 0.5


def test_fission_refuses_to_break_a_producer_consumer_order():
    # x[i + 1] is produced by the second statement and consumed by the first one of the
    # next iteration: split, every read of x would happen before any write
    refused(lambda: fission(carried, carried.find("y[_] = _").after()),
            "splitting the loop would reorder a dependence",
            "the second part writes x[i + 1]", "the first part reads x[i]", prim="fission")

    @proc
    def split(N: size, x: f32[N + 1], y: f32[N]):  # what the rewrite would give
        for i in seq(0, N):
            y[i] = x[i]
        for i in seq(0, N):
            x[i + 1] = y[i] * 0.5

    differs(carried, split, sizes={"N": [2, 3]})


@proc
def nest(N: size, M: size, x: f32[N, M], y: f32[N + 1, M], z: f32[N, M]):
    for i in seq(0, N):
        for j in seq(0, M):
            y[i, j] = x[i, j] * 2.0
            z[i, j] = y[i, j] + 1.0


def test_fission_two_levels():
    p = fission(nest, nest.find("y[_] = _").after(), n_lifts=2)
    assert_body(p, """
        for i in seq(0, N):
            for j in seq(0, M):
                y[i, j] = x[i, j] * 2.0
        for i in seq(0, N):
            for j in seq(0, M):
                z[i, j] = y[i, j] + 1.0
    """)
    equiv(nest, p)


@proc
def next_row(N: size, M: size, x: f32[N, M], y: f32[N + 1, M], z: f32[N, M]):
    for i in seq(0, N):
        for j in seq(0, M):
            y[i, j] = x[i, j] * 2.0
            z[i, j] = y[i + 1, j] + 1.0


def test_fission_one_level_legal_two_levels_not():
    # within one row the parts are independent; across rows z reads the next row of y
    # before the first part overwrites it
    p = fission(next_row, next_row.find("y[_] = _").after(), n_lifts=1)
    equiv(next_row, p)
    refused(lambda: fission(next_row, next_row.find("y[_] = _").after(), n_lifts=2),
            "the second part reads y[i + 1, j]", "the first part writes y[i, j]")


@proc
def branchy(N: size, x: f32[N], y: f32[N]):
    for i in seq(0, N):
        if i < N / 2:
            x[i] = 1.0
            y[i] = 2.0
        else:
            x[i] = 3.0
            y[i] = 4.0


def test_fission_an_if():
    p = fission(branchy, branchy.find("x[i] = 1.0").after())
    assert_body(p, """
        for i in seq(0, N):
            if i < N / 2:
                x[i] = 1.0
            if i < N / 2:
                y[i] = 2.0
            else:
                x[i] = 3.0
                y[i] = 4.0
    """)
    equiv(branchy, p)


def test_fission_the_else_branch_of_an_if_and_its_loop():
    p = fission(branchy, branchy.find("x[i] = 3.0").after(), n_lifts=2)
    assert_body(p, """
        for i in seq(0, N):
            if i < N / 2:
                x[i] = 1.0
                y[i] = 2.0
            else:
                x[i] = 3.0
        for i in seq(0, N):
            if i < N / 2:
                pass
            else:
                y[i] = 4.0
    """)
    equiv(branchy, p)


def test_fission_refuses_to_split_an_allocation_from_its_uses():
    @proc
    def tmp(N: size, x: f32[N]):
        for i in seq(0, N):
            t: f32[1]
            t[0] = x[i]
            x[i] = t[0] * 2.0

    refused(lambda: fission(tmp, tmp.find("t[_] = _").after()),
            "'t' is allocated before the split and used after it", "lift_alloc")


@proc
def two_ts(a: f32[8], c: f32[8]):
    t: f32[8]
    for i in seq(0, 8):
        t[i] = 2.0 * a[i]
        c[i] = t[i]


def test_fission_refusal_names_the_buffer_as_printed_and_its_hint_finds_it():
    # a second `t` inside the loop prints as `t_1`: the message and the code shown say
    # `t_1`, and the hint's pattern is the one that finds it (`t : _ #1`), not the
    # first `t`
    p = bind_expr(two_ts, "2.0", "t")
    assert "t_1 = 2.0" in str(p)
    msg = refused(lambda: fission(p, p.find("t = 2.0").after()),
                  "'t_1' is allocated before the split and used after it",
                  "t_1 = 2.0", "lift_alloc(p, 't : _ #1')")
    assert "t_1: f32 @ DRAM" in msg
    q = lift_alloc(p, "t : _ #1")
    assert "t_1: f32 @ DRAM\n    for i in seq(0, 8):" in str(q)
    equiv(p, fission(q, q.find("t = 2.0").after()))


def test_fission_refuses_to_split_a_window_from_its_uses():
    @proc
    def rows(N: size, A: f32[N, 4]):
        for i in seq(0, N):
            row = A[i, :]
            row[0] = 1.0

    refused(lambda: fission(rows, rows.find("row = _").after()),
            "the window 'row' is bound before the split and used after it", "inline_window")


def test_fission_sees_a_dependence_through_a_window():
    @proc
    def shifted(N: size, x: f32[N + 1], y: f32[N]):
        w = x[1:N + 1]
        for i in seq(0, N):
            y[i] = x[i]
            w[i] = 2.0

    # w[i] is x[i + 1], read by the next iteration's first statement
    refused(lambda: fission(shifted, shifted.find("y[_] = _").after()),
            "the second part writes x[1 + i]", "the first part reads x[i]")


def test_fission_refuses_gaps_with_nothing_to_split():
    refused(lambda: fission(two_stage, two_stage.find_loop("i").after()),
            "the gap is at the top level", prim="fission")
    refused(lambda: fission(two_stage, two_stage.find("y[_] = _").before()),
            "the gap is at the edge of a block")
    refused(lambda: fission(nest, nest.find("y[_] = _").after(), n_lifts=3),
            "n_lifts=3, but the gap is inside only 2 loop(s)")


def test_fission_unsafe_disable_checks():
    p = fission(carried, carried.find("y[_] = _").after(), unsafe_disable_checks=True)
    assert not p.is_eq(carried)
    differs(carried, p, sizes={"N": [2, 3]})


def test_fission_message_format():
    msg = refused(lambda: fission(carried, carried.find("y[_] = _").after()))
    assert re.match(rf"^{re.escape(__file__)}:\d+:5: fission: splitting the loop", msg)
    line = marked_line(__file__, "two_stage loop")
    msg = refused(lambda: fission(two_stage, two_stage.find_loop("i").after()))
    assert msg.startswith(f"{__file__}:{line}:5: fission: the gap is at the top level")
    assert "\n  in:\n    for i in seq(0, N):\n" in msg


# ---------------------------------------------------------------- autofission


@proc
def reset_in_loop(N: size, x: f32[N], y: f32[N], s: f32[1]):
    for i in seq(0, N):
        s[0] = 0.0
        y[i] = x[i] + 1.0


def test_autofission_drops_the_loop_around_an_invariant_part():
    p = autofission(reset_in_loop, reset_in_loop.find("s[_] = _").after())
    assert_body(p, """
        s[0] = 0.0
        for i in seq(0, N):
            y[i] = x[i] + 1.0
    """)
    equiv(reset_in_loop, p)


def test_autofission_drops_loops_at_every_level():
    @proc
    def reset_in_nest(N: size, M: size, x: f32[N, M], s: f32[1]):
        for i in seq(0, N):
            for j in seq(0, M):
                s[0] = 0.0
                x[i, j] = 1.0

    p = autofission(reset_in_nest, reset_in_nest.find("s[_] = _").after(), n_lifts=2)
    assert_body(p, """
        s[0] = 0.0
        for i in seq(0, N):
            for j in seq(0, M):
                x[i, j] = 1.0
    """)
    equiv(reset_in_nest, p)


def test_autofission_keeps_loops_that_are_needed():
    p = autofission(two_stage, two_stage.find("y[_] = _").after())
    assert [c.name() for c in p.find_all("for _ in _: _")] == ["i", "i"]
    equiv(two_stage, p)


def test_autofission_refuses_what_fission_refuses():
    refused(lambda: autofission(carried, carried.find("y[_] = _").after()),
            "would reorder a dependence", prim="autofission")


# ---------------------------------------------------------------- lift_scope


@proc
def cond_in_loop(N: size, x: f32[N]):
    for i in seq(0, N):
        if N > 4:
            x[i] = 1.0
        else:
            x[i] = 2.0


def test_lift_an_if_out_of_a_loop():
    p = lift_scope(cond_in_loop, "if _: _")
    assert_body(p, """
        if N > 4:
            for i in seq(0, N):
                x[i] = 1.0
        else:
            for i in seq(0, N):
                x[i] = 2.0
    """)
    equiv(cond_in_loop, p, sizes={"N": [2, 4, 5, 7]})


def test_lift_scope_refuses_a_condition_on_the_loop_variable():
    refused(lambda: lift_scope(branchy, "if _: _"),
            "the condition i < N / 2 depends on the loop variable 'i'", prim="lift_scope")


@proc
def loop_in_if(N: size, x: f32[N]):
    if N > 4:
        for i in seq(0, N):
            x[i] = 1.0


def test_lift_a_loop_out_of_an_if():
    p = lift_scope(loop_in_if, "for i in _: _")
    assert_body(p, """
        for i in seq(0, N):
            if N > 4:
                x[i] = 1.0
    """)
    equiv(loop_in_if, p, sizes={"N": [2, 5, 7]})


def test_lift_a_loop_out_of_an_if_with_else_is_refused():
    @proc
    def with_else(N: size, x: f32[N]):
        if N > 4:
            for i in seq(0, N):
                x[i] = 1.0
        else:
            x[0] = 2.0

    refused(lambda: lift_scope(with_else, "for i in _: _"), "has an else branch")


@proc
def nested_ifs(N: size, M: size, x: f32[4]):
    if N > 2:
        if M > 2:
            x[0] = 1.0
        else:
            x[1] = 1.0
    else:
        x[2] = 1.0


def test_lift_an_if_out_of_an_if():
    p = lift_scope(nested_ifs, "if M > 2: _")
    assert_body(p, """
        if M > 2:
            if N > 2:
                x[0] = 1.0
            else:
                x[2] = 1.0
        else:
            if N > 2:
                x[1] = 1.0
            else:
                x[2] = 1.0
    """)
    equiv(nested_ifs, p, sizes={"N": [1, 3], "M": [1, 3]}, trials=6)


def test_lift_a_loop_out_of_a_loop_reorders_them():
    p = lift_scope(gemm, "for j in _: _")
    assert str(p) == str(reorder_loops(gemm, "i j"))
    equiv(gemm, p)

    @proc
    def antidiag(N: size, A: f32[N + 1, N + 1]):
        for i in seq(0, N):
            for j in seq(0, N):
                A[i + 1, j] = A[i, j + 1] + 1.0

    refused(lambda: lift_scope(antidiag, "for j in _: _"), "would be reversed")


def test_lift_scope_refusals():
    refused(lambda: lift_scope(two_stage, "for i in _: _"), "at the top level")
    refused(lambda: lift_scope(reset_in_loop, "s[_] = _"), "expected a loop or an if",
            prim="lift_scope")

    @proc
    def two_ifs(N: size, x: f32[N]):
        for i in seq(0, N):
            if N > 4:
                x[i] = 1.0
            x[i] = x[i] + 1.0

    refused(lambda: lift_scope(two_ifs, "if _: _"), "the only one in the body")


# ---------------------------------------------------------------- fuse


@proc
def two_loops(N: size, x: f32[N], y: f32[N], z: f32[N]):
    for i in seq(0, N):
        y[i] = x[i] * 2.0
    for j in seq(0, N):
        z[j] = y[j] + 1.0


def test_fuse_loops():
    p = fuse(two_loops, "for i in _: _", "for j in _: _")
    assert_body(p, """
        for i in seq(0, N):
            y[i] = x[i] * 2.0
            z[i] = y[i] + 1.0
    """)
    equiv(two_loops, p)


@proc
def reads_ahead(N: size, x: f32[N + 1], y: f32[N + 1], z: f32[N]):
    for i in seq(0, N):
        y[i + 1] = x[i] * 2.0
    for j in seq(0, N):
        z[j] = y[j + 1] + y[j]


def test_fuse_refuses_reading_what_a_later_iteration_writes():
    # z[j] reads y[j + 1], which the first loop writes in its iteration j + 1: fused, the
    # read would come first and see the old value
    @proc
    def reads_later(N: size, x: f32[N], y: f32[N + 1], z: f32[N]):
        for i in seq(0, N):
            y[i] = x[i] * 2.0
        for j in seq(0, N):
            z[j] = y[j + 1]

    refused(lambda: fuse(reads_later, "for i in _: _", "for j in _: _"),
            "fusing would reorder a dependence", "the second loop reads y[i + 1]",
            "the first loop, which writes y[i]", prim="fuse")

    @proc
    def fused(N: size, x: f32[N], y: f32[N + 1], z: f32[N]):  # what the rewrite would give
        for i in seq(0, N):
            y[i] = x[i] * 2.0
            z[i] = y[i + 1]

    differs(reads_later, fused, sizes={"N": [2, 3]})


def test_fuse_accepts_reading_what_earlier_iterations_wrote():
    # z[j] reads y[j + 1] and y[j], written by iterations j and j - 1 of the first loop
    p = fuse(reads_ahead, "for i in _: _", "for j in _: _")
    equiv(reads_ahead, p)


def test_fuse_refuses_different_ranges():
    @proc
    def ragged(N: size, x: f32[N], y: f32[N]):
        for i in seq(0, N):
            x[i] = 1.0
        for i in seq(0, N - 1):
            y[i] = 1.0

    refused(lambda: fuse(ragged, "for i in _: _", "for i in _: _ #1"),
            "cannot prove the loops have the same range: seq(0, N) vs seq(0, N - 1)")


def test_fuse_refuses_statements_that_are_not_adjacent_or_alike():
    refused(lambda: fuse(two_loops, "for j in _: _", "for i in _: _"),
            "must be consecutive")

    @proc
    def loop_then_if(N: size, x: f32[N]):
        for i in seq(0, N):
            x[i] = 1.0
        if N > 2:
            x[0] = 2.0

    refused(lambda: fuse(loop_then_if, "for i in _: _", "if _: _"),
            "expected two loops or two ifs", prim="fuse")


def test_fuse_unsafe_disable_check():
    @proc
    def reads_later(N: size, x: f32[N], y: f32[N + 1], z: f32[N]):
        for i in seq(0, N):
            y[i] = x[i] * 2.0
        for j in seq(0, N):
            z[j] = y[j + 1]

    p = fuse(reads_later, "for i in _: _", "for j in _: _", unsafe_disable_check=True)
    assert not p.is_eq(reads_later)
    differs(reads_later, p, sizes={"N": [2, 3]})


def test_fuse_parallel_loops():
    p = parallelize_loop(parallelize_loop(two_loops, "i"), "j")
    q = fuse(p, "for i in _: _", "for j in _: _")
    assert "for i in par(0, N):" in str(q)
    equiv(two_loops, q)


def test_fuse_a_parallel_loop_with_a_racy_second_body():
    @proc
    def gather(N: size, x: f32[N], s: f32[1]):
        for i in seq(0, N):
            x[i] = 1.0
        for i in seq(0, N):
            s[0] = x[i]

    p = parallelize_loop(gather, "i")
    refused(lambda: fuse(p, "for i in _: _", "for i in _: _ #1"),
            "iterations of the parallel loop 'i' would race", "writes s[0]")


@proc
def if_twice(N: size, x: f32[4]):
    if N > 2:
        x[0] = 1.0
    else:
        x[2] = 1.0
    if N > 2:
        x[1] = 1.0


def test_fuse_ifs():
    p = fuse(if_twice, "if _: _", "if _: _ #1")
    assert_body(p, """
        if N > 2:
            x[0] = 1.0
            x[1] = 1.0
        else:
            x[2] = 1.0
    """)
    equiv(if_twice, p, sizes={"N": [1, 2, 3, 5]})


def test_fuse_refuses_ifs_with_different_conditions():
    @proc
    def two_conds(N: size, M: size, x: f32[4]):
        if N > 2:
            x[0] = 1.0
        if M > 2:
            x[1] = 1.0

    refused(lambda: fuse(two_conds, "if _: _", "if _: _ #1"),
            "the conditions differ: N > 2 vs M > 2")


# ---------------------------------------------------------------- configs read by conditions


@config
class Flags:
    on: bool
    n: index


@proc
def flips_in_else(N: size, x: f32[N]):
    Flags.on = N > 2
    if Flags.on:
        x[0] = 1.0
        x[N - 1] = 2.0
    else:
        Flags.on = True


def test_fission_of_an_if_whose_else_branch_changes_the_condition():
    # splitting the then branch, the else branch moves into the second if (Exo's form),
    # which evaluates the condition before it runs: setting Flags.on there is harmless
    p = fission(flips_in_else, flips_in_else.find("x[0] = _").after())
    assert_body(p, """
        Flags.on = N > 2
        if Flags.on:
            x[0] = 1.0
        if Flags.on:
            x[N - 1] = 2.0
        else:
            Flags.on = True
    """)
    equiv(flips_in_else, p, sizes={"N": [1, 2, 3, 5]})


@proc
def flips_in_then(N: size, x: f32[N]):
    Flags.on = N > 2
    if Flags.on:
        Flags.on = False
    else:
        x[0] = 1.0
        x[N - 1] = 2.0


def test_fission_of_an_else_branch_whose_then_branch_changes_the_condition():
    # split after x[0] = 1.0, the second `if Flags.on: pass else: ...` would run after
    # the then branch cleared Flags.on, and write x[N - 1] although the original did not
    refused(lambda: fission(flips_in_then, flips_in_then.find("x[0] = _").after()),
            "the body writes Flags.on, which the condition read", prim="fission")

    @proc
    def split(N: size, x: f32[N]):  # what the rewrite would give
        Flags.on = N > 2
        if Flags.on:
            Flags.on = False
        else:
            x[0] = 1.0
        if Flags.on:
            pass
        else:
            x[N - 1] = 2.0

    differs(flips_in_then, split, sizes={"N": [3, 4]})


def test_lift_scope_refuses_a_condition_the_body_changes():
    @proc
    def toggles(N: size, x: f32[N]):
        Flags.on = True
        for i in seq(0, N):
            if Flags.on:
                Flags.on = False
                x[i] = 1.0

    refused(lambda: lift_scope(toggles, "if _: _"), "writes Flags.on, which the condition "
            "read", prim="lift_scope")


def test_fuse_refuses_bounds_changed_by_the_first_loop():
    @proc
    def regrow(N: size, x: f32[N]):
        Flags.n = 2
        for i in seq(0, Flags.n):
            Flags.n = 3
        for i in seq(0, Flags.n):
            if i < N:
                x[i] = 1.0

    refused(lambda: fuse(regrow, "for i in _: _", "for i in _: _ #1"),
            "the body writes Flags.n, which the loop bounds read")


def test_fuse_ifs_refuses_a_condition_changed_by_the_first_branch():
    @proc
    def switch_off(N: size, x: f32[N]):
        Flags.on = True
        if Flags.on:
            Flags.on = False
        if Flags.on:
            x[0] = 1.0

    refused(lambda: fuse(switch_off, "if _: _", "if _: _ #1"), "writes Flags.on")


def test_eliminate_dead_code_forgets_conditions_on_changed_configs():
    @proc
    def stale(x: f32[4]):
        Flags.n = 1
        if Flags.n == 1:
            Flags.n = 2
            if Flags.n == 1:
                x[0] = 1.0

    refused(lambda: eliminate_dead_code(stale, "if _: _ #1"),
            "cannot prove the condition Flags.n == 1")


# ---------------------------------------------------------------- specialize


def test_specialize():
    p = specialize(two_stage, "for i in _: _", ["N < 4", "N < 8"])
    assert_body(p, """
        if N < 4:
            for i in seq(0, N):
                y[i] = x[i] * 2.0
                z[i] = y[i] + 1.0
        else:
            if N < 8:
                for i in seq(0, N):
                    y[i] = x[i] * 2.0
                    z[i] = y[i] + 1.0
            else:
                for i in seq(0, N):
                    y[i] = x[i] * 2.0
                    z[i] = y[i] + 1.0
    """)
    equiv(two_stage, p, sizes={"N": [2, 5, 9]})
    assert p.find("y[_] = _") == p.forward(two_stage.find("y[_] = _"))


@proc
def staged_tmp(N: size, x: f32[N]):
    t: f32[4]
    t[0] = x[0] * 2.0
    x[N - 1] = t[0]


def test_specialize_and_guard_refuse_to_hide_an_allocation_from_its_uses():
    why = "'t' is allocated in the block and used after it"
    refused(lambda: specialize(staged_tmp, "t : _", "N > 2"), why, prim="specialize")
    refused(lambda: add_unsafe_guard(staged_tmp, "t : _", "N > 2"), why,
            prim="add_unsafe_guard")
    whole = staged_tmp.body()
    p = specialize(staged_tmp, whole, "N > 2")  # the allocation with all its uses is fine
    equiv(staged_tmp, p, sizes={"N": [1, 3, 4]})


def test_specialize_copies_keep_scalar_buffers_visible_to_the_analysis():
    @proc
    def scalar_tmp(N: size, x: f32[N], y: f32[N]):
        for i in seq(0, N):
            s: f32
            s = x[i]
            y[i] = s * 2.0

    p = specialize(scalar_tmp, "for i in _: _", "N > 1")
    equiv(scalar_tmp, p)
    refused(lambda: reorder_stmts(p, p.find("s = _ #1").expand(0, 1)),
            "the first writes s and the second reads s")


def test_specialize_refusals():
    refused(lambda: specialize(two_stage, "for i in _: _", []), "at least one condition")
    refused(lambda: specialize(two_stage, "for i in _: _", "N + 1"), "is not a condition")


# ---------------------------------------------------------------- eliminate_dead_code


def test_eliminate_dead_code_true_false_and_empty_loop():
    @proc
    def dead(N: size, x: f32[N]):
        if N > 0:
            x[0] = 1.0
        else:
            x[0] = 2.0
        for i in seq(0, N):
            if i < N:
                x[i] = x[i] + 1.0
            if N < i:
                x[i] = 0.0
        for i in seq(N, N):
            x[i] = 3.0

    p = eliminate_dead_code(dead, "if N > 0: _")
    p = eliminate_dead_code(p, "if i < N: _")
    p = eliminate_dead_code(p, "if N < i: _")
    p = eliminate_dead_code(p, "for i in seq(N, N): _")
    assert_body(p, """
        x[0] = 1.0
        for i in seq(0, N):
            x[i] = x[i] + 1.0
            pass
        pass
    """)
    equiv(dead, p)


def test_eliminate_dead_code_refuses_a_live_branch():
    refused(lambda: eliminate_dead_code(cond_in_loop, "if _: _"),
            "cannot prove the condition N > 4 is always true or always false here",
            prim="eliminate_dead_code")
    refused(lambda: eliminate_dead_code(two_stage, "for i in _: _"),
            "cannot prove the loop never runs (N <= 0)")
    refused(lambda: eliminate_dead_code(two_stage, "y[_] = _"), "expected an if or a loop")


# ---------------------------------------------------------------- add_unsafe_guard


def test_add_unsafe_guard():
    p = add_unsafe_guard(two_stage, "z[_] = _", "N > 0")
    assert_body(p, """
        for i in seq(0, N):
            y[i] = x[i] * 2.0
            if N > 0:
                z[i] = y[i] + 1.0
    """)
    equiv(two_stage, p, proven=False)  # right, but nothing proved it
    q = add_unsafe_guard(two_stage, "z[_] = _", "N > 3")
    assert not q.is_eq(two_stage)
    differs(two_stage, q, sizes={"N": [1, 2]})
