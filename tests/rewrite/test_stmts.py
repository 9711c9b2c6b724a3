"""Statement primitives (rename, simplify, insert_pass, delete_pass, reorder_stmts) and the
combinators (repeat, sched_seq): the rewrite, equivalence, refusal."""

from __future__ import annotations

import re

import pytest
from refusals import marked_line
from scheduling_checks import assert_body, equiv, refused

from knit import config, proc
from knit.cursors.internal import text_of
from knit.errors import SchedulingError
from knit.stdlib.scheduling import (
    delete_pass,
    divide_loop,
    insert_pass,
    rename,
    reorder_loops,
    reorder_stmts,
    repeat,
    sched_seq,
    shift_loop,
    simplify,
    unroll_loop,
)


@proc
def gemm(N: size, M: size, K: size, A: f32[N, K], B: f32[K, M], C: f32[N, M]):
    for i in seq(0, N):
        for j in seq(0, M):
            for k in seq(0, K):
                C[i, j] += A[i, k] * B[k, j]


@proc
def two_writes(N: size, x: f32[N], y: f32[N]):
    for i in seq(0, N):
        x[i] = 1.0  # <- two_writes first
        y[i] = x[i] + 2.0


# ---------------------------------------------------------------- rename


def test_rename():
    p = rename(gemm, "sgemm")
    assert p.name() == "sgemm"
    assert str(p).startswith("def sgemm(N: size, M: size, K: size,")
    equiv(gemm, p)


def test_rename_refuses_a_bad_name():
    refused(lambda: rename(gemm, "not a name"), "'not a name' is not a valid name")
    refused(lambda: rename(gemm, 3), "3 is not a valid name")
    # (outside testing: `def for(...)` was printed, refused only when compiled)
    refused(lambda: rename(gemm, "for"), "'for' is a Python keyword")


def test_primitives_refuse_a_non_procedure():
    with pytest.raises(TypeError, match="expected a Procedure"):
        rename("gemm", "x")


# ---------------------------------------------------------------- simplify (smoke)


def test_simplify_cleans_up_index_arithmetic():
    p = shift_loop(divide_loop(two_writes, "i", 4, ["io", "ii"], tail="cut"), "ii", 1)
    q = simplify(p)
    assert "4 * io + (ii - 1)" in str(p)
    assert "x[-1 + ii + 4 * io] = 1.0" in str(q)
    equiv(two_writes, q)
    assert q.is_eq(p)


# ---------------------------------------------------------------- insert_pass, delete_pass


def test_insert_pass_and_delete_pass():
    p = insert_pass(two_writes, two_writes.find("x[_] = _").after())
    assert_body(p, """
        for i in seq(0, N):
            x[i] = 1.0
            pass
            y[i] = x[i] + 2.0
    """)
    equiv(two_writes, p)
    q = delete_pass(p)
    assert str(q) == str(two_writes)
    assert q.is_eq(two_writes)


def test_insert_pass_at_the_start_of_the_proc():
    p = insert_pass(two_writes, two_writes.body().before())
    assert_body(p, """
        pass
        for i in seq(0, N):
            x[i] = 1.0
            y[i] = x[i] + 2.0
    """)


def test_delete_pass_removes_loops_left_empty():
    @proc
    def empties(N: size, x: f32[N]):
        for i in seq(0, N):
            pass
        for i in seq(0, N):
            if i == 0:
                pass
            else:
                x[i] = 1.0
        pass  # noqa: PIE790 - the statement under test

    p = delete_pass(empties)
    assert_body(p, """
        for i in seq(0, N):
            if i == 0:
                pass
            else:
                x[i] = 1.0
    """)
    equiv(empties, p)


def test_insert_pass_needs_a_gap():
    refused(lambda: insert_pass(two_writes, two_writes.find("x[_] = _")),
            "expected a gap (stmt.before() or stmt.after())")
    with pytest.raises(TypeError, match="expected a gap cursor"):
        insert_pass(two_writes, "x[_] = _")


# ---------------------------------------------------------------- reorder_stmts


@proc
def independent(N: size, x: f32[N], y: f32[N]):
    for i in seq(0, N):
        x[i] = 1.0
        y[i] = 2.0


def test_reorder_independent_statements():
    p = reorder_stmts(independent, "x[_] = _ ; y[_] = _")
    assert_body(p, """
        for i in seq(0, N):
            y[i] = 2.0
            x[i] = 1.0
    """)
    equiv(independent, p)


def test_reorder_refuses_a_producer_and_its_consumer():
    msg = refused(lambda: reorder_stmts(two_writes, "x[_] = _ ; y[_] = _"),
                  "do not commute", "the first writes x[i]", "the second reads x[i]",
                  prim="reorder_stmts")
    assert "y[i] = x[i] + 2.0" not in msg.splitlines()[0]


def test_reorder_two_reductions_into_one_location_commute():
    @proc
    def two_sums(N: size, x: f32[N], s: f32[1]):
        for i in seq(0, N):
            s[0] += x[i]
            s[0] += 2.0 * x[i]

    p = reorder_stmts(two_sums, "s[_] += _ ; s[_] += _")
    assert_body(p, """
        for i in seq(0, N):
            s[0] += 2.0 * x[i]
            s[0] += x[i]
    """)
    equiv(two_sums, p)


def test_reorder_refuses_a_reduction_and_a_write():
    @proc
    def sum_then_set(N: size, x: f32[N], s: f32[N]):
        for i in seq(0, N):
            s[i] += x[i]
            s[N - 1 - i] = 0.0

    refused(lambda: reorder_stmts(sum_then_set, "s[_] += _ ; s[_] = _"),
            "reduces into s[i]", "writes s[N - 1 - i]")


def test_reorder_accepts_provably_different_indices():
    @proc
    def halves(N: size, x: f32[2 * N]):
        for i in seq(0, N):
            x[i] = x[i] + 1.0
            x[N + i] = x[i]

    refused(lambda: reorder_stmts(halves, "x[i] = _ ; x[N + i] = _"), "do not commute")

    @proc
    def apart(N: size, x: f32[2 * N]):
        for i in seq(0, N):
            x[i] = 1.0
            x[N + i] = 2.0

    p = reorder_stmts(apart, "x[i] = _ ; x[N + i] = _")
    equiv(apart, p)


def test_reorder_refuses_to_move_a_use_before_its_allocation():
    @proc
    def with_tmp(x: f32[4]):
        t: f32[1]
        t[0] = x[0]
        x[1] = t[0]

    refused(lambda: reorder_stmts(with_tmp, "t : _ ; t[_] = _"),
            "the second statement uses 't', which the first one binds")


def test_reorder_needs_two_statements():
    refused(lambda: reorder_stmts(gemm, gemm.find_loop("k")),
            "expected a block of exactly two statements, got 1")


# windows: the conflict is only visible in the underlying buffer's coordinates


@proc
def through_window(N: size, x: f32[N + 1], y: f32[N]):
    w = x[1:N + 1]
    for i in seq(0, N):
        w[i] = 2.0
        y[i] = x[i + 1]


@proc
def beside_window(N: size, x: f32[N + 1], y: f32[N]):
    w = x[1:N + 1]
    for i in seq(0, N):
        w[i] = 2.0
        y[i] = x[i]


def test_reorder_sees_a_conflict_through_a_window():
    refused(lambda: reorder_stmts(through_window, "w[_] = _ ; y[_] = _"),
            "the first writes x[1 + i]", "the second reads x[i + 1]")


def test_reorder_through_a_window_when_locations_differ():
    p = reorder_stmts(beside_window, "w[_] = _ ; y[_] = _")
    equiv(beside_window, p)


# calls: the conflict is inside the called procedure's body


@proc
def double_first(n: size, v: [f32][n]):
    v[0] = v[0] * 2.0


@proc
def call_then_read(N: size, x: f32[N], y: f32[N], z: f32[N]):
    for i in seq(0, N):
        double_first(N - i, x[i:N])
        y[i] = x[i]


@proc
def call_then_other(N: size, x: f32[N], y: f32[N], z: f32[N]):
    for i in seq(0, N):
        double_first(N - i, x[i:N])
        y[i] = z[i]


def test_reorder_sees_a_conflict_inside_a_call():
    refused(lambda: reorder_stmts(call_then_read, "double_first(_) ; y[_] = _"),
            "the first writes x[i + 0]", "the second reads x[i]")


def test_reorder_a_call_with_an_independent_statement():
    p = reorder_stmts(call_then_other, "double_first(_) ; y[_] = _")
    assert_body(p, """
        for i in seq(0, N):
            y[i] = z[i]
            double_first(N - i, x[i:N])
    """)
    equiv(call_then_other, p)


# configs


@config
class Mode:
    scale: f32
    n: index


@proc
def config_use(N: size, x: f32[N]):
    Mode.scale = 2.0
    x[0] = Mode.scale
    Mode.scale = 3.0


def test_reorder_refuses_a_config_write_and_its_read():
    refused(lambda: reorder_stmts(config_use, "x[_] = _ ; Mode.scale = _"),
            "the first reads Mode.scale", "the second writes Mode.scale")
    refused(lambda: reorder_stmts(config_use, "Mode.scale = _ ; x[_] = _"),
            "the first writes Mode.scale")


# ---------------------------------------------------------------- error messages


def test_refusal_message_format():
    msg = refused(lambda: reorder_stmts(two_writes, "x[_] = _ ; y[_] = _"))
    line = marked_line(__file__, "two_writes first")
    lines = msg.splitlines()
    assert re.match(rf"^{re.escape(__file__)}:{line}:9: reorder_stmts: the statements do not "
                    "commute: the first writes x\\[i\\]", lines[0]), lines[0]
    assert lines[1] == "  in:"
    assert lines[2] == "    x[i] = 1.0"


# ---------------------------------------------------------------- combinators


@proc
def cube(x: f32[2, 2, 2]):
    for i in seq(0, 2):
        for j in seq(0, 2):
            for k in seq(0, 2):
                x[i, j, k] = 1.0


def test_repeat_until_the_pattern_no_longer_matches():
    p = repeat(unroll_loop)(cube, "for _ in _: _")
    assert len(p.body()) == 8
    assert "for" not in str(p)
    assert text_of(p.body()[7]) == "x[1, 1, 1] = 1.0"
    equiv(cube, p)


def test_repeat_n_times():
    p = repeat(unroll_loop, 2)(cube, "for _ in _: _")
    assert [s.name() for s in p.body()] == ["k", "k", "j"]  # i, then the first j
    with pytest.raises(SchedulingError, match="matches nothing"):
        repeat(unroll_loop, 9)(cube, "for _ in _: _")
    with pytest.raises(TypeError, match="n_times"):
        repeat(unroll_loop, 0)


def test_sched_seq():
    p = sched_seq(gemm, [(reorder_loops, "j k"), (divide_loop, "j", 4, ["jo", "ji"]),
                         lambda q: rename(q, "tiled")])
    assert p.name() == "tiled"
    assert p.find_loop("i").body()[0].name() == "k"
    equiv(gemm, p)
    with pytest.raises(TypeError, match="expected a callable"):
        sched_seq(gemm, ["reorder_loops"])
