"""Issue 8, classes 1 and 2: the analysis models an expression where it is evaluated.

Class 1 (docs/semantics.md: a window's bounds are evaluated by the window statement, an
allocation's shape by the allocation, a call's arguments at the call): a config field
read there keeps that value when the field is written later, so every primitive that
moves or substitutes such an expression checks that no write lies in between.
Class 2: a callee's `stride(x, d)` is the caller's stride of the argument, so two calls
with differently laid-out windows are told apart.

Each primitive has the three kinds of test: the rewrite where it is sound (printed,
then equivalence, interpreted and compiled), the refusal with its reason, and, where a
refusal guards a real trap, the would-be result written out by hand and shown to
compute something else."""

from __future__ import annotations

from scheduling_checks import assert_body, differs, equiv, refused

from knit import config, proc
from knit.analysis import effects as E
from knit.stdlib.scheduling import (
    call_eqv,
    delete_config,
    eliminate_dead_code,
    extract_subproc,
    fission,
    inline,
    inline_window,
    lift_alloc,
    parallelize_loop,
    reorder_stmts,
    reuse_buffer,
    sink_alloc,
    specialize,
)


@config
class Cfg:
    k: index
    n: size


@config
class Ld:
    s: f32


# ---------------------------------------------------------------- reorder_stmts


@proc
def window_then_write(x: f32[16]):
    Cfg.k = 0
    w = x[Cfg.k:Cfg.k + 4]
    Cfg.k = 2
    w[2] = 1.0
    x[Cfg.k] = 2.0


def test_reorder_writes_through_a_window_made_before_the_config_changed():
    # pins semantics.md#window-once
    # the example: w[2] is x[2] (the origin was 0), the second write is x[2] too
    msg = refused(lambda: reorder_stmts(window_then_write,
                                        window_then_write.find("w[2] = _").expand(0, 1)),
                  "do not commute", "writes x[Cfg.k before line", "writes x[Cfg.k]",
                  prim="reorder_stmts")
    assert "+ 2]" in msg

    @proc
    def swapped(x: f32[16]):
        Cfg.k = 0
        w = x[Cfg.k:Cfg.k + 4]
        Cfg.k = 2
        x[Cfg.k] = 2.0
        w[2] = 1.0

    differs(window_then_write, swapped)


def test_reorder_writes_through_a_window_whose_origin_did_not_change():
    @proc
    def same_origin(x: f32[16]):
        Cfg.k = 0
        w = x[Cfg.k:Cfg.k + 4]
        w[2] = 1.0
        x[Cfg.k + 5] = 2.0

    p = reorder_stmts(same_origin, same_origin.find("w[2] = _").expand(0, 1))
    assert_body(p, """
        Cfg.k = 0
        w = x[Cfg.k:Cfg.k + 4]
        x[Cfg.k + 5] = 2.0
        w[2] = 1.0
    """)
    equiv(same_origin, p)


def test_reorder_a_window_statement_past_a_write_of_its_origin():
    # pins semantics.md#window-once
    @proc
    def made_then_moved(x: f32[16]):
        Cfg.k = 0
        w = x[Cfg.k:Cfg.k + 4]
        Cfg.k = 2
        w[0] = 1.0

    refused(lambda: reorder_stmts(made_then_moved,
                                  made_then_moved.find("w = _").expand(0, 1)),
            "the first reads Cfg.k and the second writes Cfg.k", prim="reorder_stmts")

    @proc
    def moved(x: f32[16]):
        Cfg.k = 0
        Cfg.k = 2
        w = x[Cfg.k:Cfg.k + 4]
        w[0] = 1.0

    differs(made_then_moved, moved)


def test_reorder_an_allocation_past_a_write_of_its_size():
    # pins semantics.md#alloc-shape
    @proc
    def sized(x: f32[16]):
        Cfg.n = 4
        t: f32[Cfg.n]
        Cfg.n = 8
        t[3] = 1.0
        x[0] = t[3]

    refused(lambda: reorder_stmts(sized, sized.find("t : _").expand(0, 1)),
            "the first reads Cfg.n and the second writes Cfg.n", prim="reorder_stmts")


# ---------------------------------------------------------------- inline_window


def test_inline_window_refuses_a_use_after_its_origin_changed():
    # pins semantics.md#window-once
    refused(lambda: inline_window(window_then_write, "w = _"),
            "the window reads Cfg.k, which is written before a use of 'w'",
            "inlined, that use would see the new value", prim="inline_window")

    @proc
    def substituted(x: f32[16]):
        Cfg.k = 0
        Cfg.k = 2
        x[Cfg.k + 2] = 1.0
        x[Cfg.k] = 2.0

    differs(window_then_write, substituted)


def test_inline_window_when_the_origin_changes_only_after_the_last_use():
    @proc
    def used_then_changed(x: f32[16]):
        Cfg.k = 0
        w = x[Cfg.k:Cfg.k + 4]
        w[2] = 1.0
        Cfg.k = 2
        x[Cfg.k] = 2.0

    p = inline_window(used_then_changed, "w = _")
    assert_body(p, """
        Cfg.k = 0
        x[2 + Cfg.k] = 1.0
        Cfg.k = 2
        x[Cfg.k] = 2.0
    """)
    equiv(used_then_changed, p)


def test_inline_window_refuses_a_use_in_a_loop_that_changes_the_origin():
    # pins semantics.md#window-once
    @proc
    def in_loop(x: f32[16]):
        Cfg.k = 0
        w = x[Cfg.k:Cfg.k + 4]
        for i in seq(0, 3):
            w[i] = 1.0
            Cfg.k = 4

    refused(lambda: inline_window(in_loop, "w = _"),
            "the window reads Cfg.k, which is written before a use of 'w'",
            prim="inline_window")


# ---------------------------------------------------------------- inline


@proc
def set_k(k: index):
    Cfg.k = k


@proc
def write_at(x: f32[16], j: index):
    assert j >= 0
    assert j < 8
    Cfg.k = 8
    x[j] = 1.0


@proc
def write_at_first(x: f32[16], j: index):
    assert j >= 0
    assert j < 8
    x[j] = 1.0
    set_k(8)


def test_inline_refuses_an_argument_the_callee_changes_before_using_it():
    # pins semantics.md#args-at-call
    @proc
    def caller(x: f32[16]):
        Cfg.k = 2
        write_at(x, Cfg.k)

    refused(lambda: inline(caller, "write_at(_)"),
            "the argument Cfg.k reads Cfg.k, which write_at writes",
            "the call evaluates it once", prim="inline")

    @proc
    def inlined(x: f32[16]):
        Cfg.k = 2
        Cfg.k = 8
        x[Cfg.k] = 1.0

    differs(caller, inlined)


def test_inline_refuses_a_window_argument_the_callee_changes():
    # pins semantics.md#args-at-call
    @proc
    def put(w: [f32][4]):
        set_k(8)
        w[0] = 1.0

    @proc
    def caller(x: f32[16]):
        Cfg.k = 2
        put(x[Cfg.k:Cfg.k + 4])

    refused(lambda: inline(caller, "put(_)"),
            "the argument x[Cfg.k:Cfg.k + 4] reads Cfg.k, which put writes", prim="inline")


def test_inline_when_the_callee_changes_the_config_after_the_last_use():
    @proc
    def caller(x: f32[16]):
        Cfg.k = 2
        write_at_first(x, Cfg.k)

    p = inline(caller, "write_at_first(_)")
    assert_body(p, """
        Cfg.k = 2
        x[Cfg.k] = 1.0
        set_k(8)
    """)
    equiv(caller, p)


# ---------------------------------------------------------------- extract_subproc


def test_extract_subproc_refuses_a_window_whose_origin_changed():
    # pins semantics.md#window-once
    refused(lambda: extract_subproc(window_then_write, "w[2] = _", "sub"),
            "the block uses the window 'w', whose bounds read a config field written since",
            prim="extract_subproc")


def test_extract_subproc_of_a_window_whose_origin_did_not_change():
    @proc
    def stable(x: f32[16]):
        Cfg.k = 2
        w = x[Cfg.k:Cfg.k + 4]
        if Cfg.k < 8:
            if Cfg.k >= 0:
                w[1] = 1.0

    p, sub = extract_subproc(stable, "w[1] = _", "sub")
    assert_body(p, """
        Cfg.k = 2
        w = x[Cfg.k:Cfg.k + 4]
        if Cfg.k < 8:
            if Cfg.k >= 0:
                sub(x)
    """)
    assert "x[1 + Cfg.k] = 1.0" in str(sub)
    equiv(stable, p)


# ---------------------------------------------------------------- lift_alloc, sink_alloc


def test_lift_alloc_refuses_a_shape_the_loop_changes():
    # pins semantics.md#alloc-shape
    @proc
    def grown(x: f32[16], y: f32[16]):
        Cfg.n = 2
        if Cfg.n >= 1:
            for i in seq(0, 4):
                Cfg.n = 4
                t: f32[Cfg.n]
                t[3] = x[i]
                y[i] = t[3]

    refused(lambda: lift_alloc(grown, "t : _"),
            "the shape reads Cfg.n, which the loop writes: moved out of the loop",
            prim="lift_alloc")


def test_sink_alloc_refuses_a_shape_the_loop_changes():
    # pins semantics.md#alloc-shape
    @proc
    def shrunk(x: f32[16], y: f32[16]):
        Cfg.n = 4
        t: f32[Cfg.n]
        for i in seq(0, 4):
            Cfg.n = 2
            t[3] = x[i]
            y[i] = t[3]

    refused(lambda: sink_alloc(shrunk, "t : _"),
            "the shape reads Cfg.n, which the loop writes: moved into the loop",
            prim="sink_alloc")


def test_sink_alloc_of_a_config_shape_the_loop_leaves_alone():
    @proc
    def kept(x: f32[16], y: f32[16]):
        Cfg.n = 4
        t: f32[Cfg.n]
        for i in seq(0, 4):
            t[3] = x[i]
            y[i] = t[3]

    p = sink_alloc(kept, "t : _")
    assert_body(p, """
        Cfg.n = 4
        for i in seq(0, 4):
            t: f32[Cfg.n] @ DRAM
            t[3] = x[i]
            y[i] = t[3]
    """)
    equiv(kept, p)


# ---------------------------------------------------------------- call_eqv


@proc
def set_scale(x: f32[4]):
    Ld.s = 2.0
    x[0] = 1.0


def test_call_eqv_refuses_a_callee_whose_final_config_the_caller_reads():
    # pins semantics.md#config-read
    quiet = delete_config(set_scale, "Ld.s = _")  # sound inside set_scale: nothing reads it

    @proc
    def caller(x: f32[4], y: f32[8]):
        Ld.s = 5.0
        set_scale(x)
        y[0] = Ld.s

    refused(lambda: call_eqv(caller, "set_scale(_)", quiet),
            "the new callee may leave another value in Ld.s than set_scale does",
            "it is read by line", prim="call_eqv")
    body = caller._loopir_proc.body
    swapped = caller._derive(caller._loopir_proc.with_(body=(
        body[0], body[1].with_(f=quiet._loopir_proc), body[2])), unsafe=True)
    differs(caller, swapped)  # y[0] is 2.0, then 5.0


def test_call_eqv_when_the_caller_overwrites_the_config_first():
    quiet = delete_config(set_scale, "Ld.s = _")

    @proc
    def caller(x: f32[4], y: f32[8]):
        set_scale(x)
        Ld.s = 3.0
        y[0] = Ld.s

    p = call_eqv(caller, "set_scale(_)", quiet)
    assert_body(p, """
        set_scale(x)
        Ld.s = 3.0
        y[0] = Ld.s
    """)
    assert p._loopir_proc.body[0].f is quiet._loopir_proc
    equiv(caller, p)


def test_call_eqv_refuses_a_loop_whose_next_call_reads_the_config():
    @proc
    def accumulate(x: f32[4]):
        x[0] = Ld.s
        Ld.s = 2.0

    quiet = delete_config(accumulate, "Ld.s = _")

    @proc
    def caller(x: f32[4]):
        for i in seq(0, 2):
            accumulate(x)

    refused(lambda: call_eqv(caller, "accumulate(_)", quiet),
            "the new callee may leave another value in Ld.s", prim="call_eqv")


# ---------------------------------------------------------------- class 2: strides


@proc
def put(a: [f32][4], k: index, v: f32):
    if stride(a, 0) > k:
        a[1] = v
    else:
        a[2] = v


def test_callee_strides_are_the_arguments_strides():
    @proc
    def two_calls(A: f32[4, 4], B: f32[4]):
        put(A[0, 0:4], 0, B[0])
        put(A[0:4, 1], 0, B[1])

    acc = [a for a in E.accesses(two_calls._loopir_proc.body) if a.kind == "w"]
    conds = {str(a.ctx[0]) for a in acc}
    assert any("stride(A, 1)" in c for c in conds), conds
    assert any("stride(A, 0)" in c for c in conds), conds


def test_reorder_calls_that_conflict_only_under_the_actual_strides():
    @proc
    def crossing(A: f32[4, 4], B: f32[4]):
        put(A[1, 0:4], 1, B[0])
        put(A[0:4, 2], 3, B[1])

    # the row window has stride 1 (1 > 1 fails: it writes A[1, 2]), the column window
    # stride 4 (4 > 3: it writes A[1, 2]): one location. With the callee's own
    # stride(a, 0) for both calls, s <= 1 and s > 3 looked exclusive
    refused(lambda: reorder_stmts(crossing, crossing.find("put(_)").expand(0, 1)),
            "do not commute", "writes A[1, 0 + 2]", "writes A[0 + 1, 2]",
            prim="reorder_stmts")

    @proc
    def swapped(A: f32[4, 4], B: f32[4]):
        put(A[0:4, 2], 3, B[1])
        put(A[1, 0:4], 1, B[0])

    differs(crossing, swapped)


def test_reorder_calls_on_disjoint_rows():
    @proc
    def rows(A: f32[4, 4], B: f32[4]):
        put(A[0, 0:4], 2, B[0])
        put(A[1, 0:4], 2, B[1])

    p = reorder_stmts(rows, rows.find("put(_)").expand(0, 1))
    assert_body(p, """
        put(A[1, 0:4], 2, B[1])
        put(A[0, 0:4], 2, B[0])
    """)
    equiv(rows, p)


def test_parallelize_refuses_a_race_seen_only_through_the_actual_strides():
    @proc
    def rows_and_cols(A: f32[4, 4], B: f32[4]):
        for i in seq(0, 4):
            put(A[i, 0:4], i, B[i])
            put(A[0:4, i], i, B[3 - i])

    # iteration 1 writes A[1, 2] through its row (stride 1 > 1 fails), iteration 2 writes
    # A[1, 2] through its column (stride 4 > 2): a race
    refused(lambda: parallelize_loop(rows_and_cols, "for i in _:_"),
            "iterations of the parallel loop 'i' would race", prim="parallelize_loop")


def test_parallelize_calls_on_rows():
    @proc
    def rows(A: f32[4, 4], B: f32[4]):
        for i in seq(0, 4):
            put(A[i, 0:4], i, B[i])

    p = parallelize_loop(rows, "for i in _:_")
    assert_body(p, """
        for i in par(0, 4):
            put(A[i, 0:4], i, B[i])
    """)
    equiv(rows, p)


# ---------------------------------------------------------------- loop bounds at entry


@proc
def bound_changed_in_body(x: f32[8]):
    Cfg.n = 4
    if Cfg.n <= 4:
        for i in seq(0, Cfg.n):
            Cfg.n = 8
            if i < 4:
                x[i] = 1.0


def test_facts_about_a_loop_variable_use_the_bound_at_entry():
    # pins semantics.md#bounds-once
    # docs/semantics.md: the bound is evaluated once, at entry (then at most 4), so
    # i < 4 always holds although the body sets Cfg.n to 8
    p = eliminate_dead_code(bound_changed_in_body, "if i < 4: _")
    assert_body(p, """
        Cfg.n = 4
        if Cfg.n <= 4:
            for i in seq(0, Cfg.n):
                Cfg.n = 8
                x[i] = 1.0
    """)
    equiv(bound_changed_in_body, p)  # compiled too: C evaluates the bound at entry


def test_a_bound_the_body_changes_is_not_the_value_after_the_change():
    @proc
    def grown(x: f32[8]):
        Cfg.n = 8
        if Cfg.n >= 8:
            for i in seq(0, 4):
                Cfg.n = 2
                if i < Cfg.n:
                    x[i] = 1.0

    refused(lambda: eliminate_dead_code(grown, "if i < Cfg.n: _"),
            "cannot prove the condition i < Cfg.n", prim="eliminate_dead_code")


# ---------------------------------------------------------------- reuse_buffer


def test_reuse_buffer_refuses_allocations_sized_by_a_config_written_between():
    # pins semantics.md#alloc-shape
    @proc
    def two_sizes(x: f32[8]):
        Cfg.n = 2
        t: f32[Cfg.n]
        t[1] = x[1]
        x[0] = t[1]
        Cfg.n = 8
        u: f32[Cfg.n]
        u[7] = x[2]
        x[3] = u[7]

    refused(lambda: reuse_buffer(two_sizes, "t : _", "u : _"),
            "the shapes read Cfg.n, which is written in the scope of 't'",
            prim="reuse_buffer")


def test_reuse_buffer_of_allocations_sized_by_an_unchanged_config():
    @proc
    def one_size(x: f32[8]):
        Cfg.n = 8
        t: f32[Cfg.n]
        t[1] = x[1]
        x[0] = t[1]
        u: f32[Cfg.n]
        u[7] = x[2]
        x[3] = u[7]

    p = reuse_buffer(one_size, "t : _", "u : _")
    assert_body(p, """
        Cfg.n = 8
        t: f32[Cfg.n] @ DRAM
        t[1] = x[1]
        x[0] = t[1]
        t[7] = x[2]
        x[3] = t[7]
    """)
    equiv(one_size, p)


# ---------------------------------------------------------------- the checker follows writes


def test_fission_after_a_config_write_gives_a_valid_program():
    # found by the fuzzer: after the first loop (which surely runs) Cfg.n is N, so the
    # second loop's B[0, Cfg.n] is in bounds; the checker used to forget Cfg.n there
    @proc
    def f(N: size, B: f64[4, N + 1]):
        Cfg.k = 2
        for i in seq(Cfg.k, N + 2):
            Cfg.n = N
            B[0, Cfg.n] += 1.5

    p = fission(f, f.find_loop("i").body()[0].after())
    assert_body(p, """
        Cfg.k = 2
        for i in seq(Cfg.k, N + 2):
            Cfg.n = N
        for i in seq(Cfg.k, N + 2):
            B[0, Cfg.n] += 1.5
    """)
    equiv(f, p, sizes={"N": [1, 3]})


def test_specialize_over_a_config_write_gives_a_valid_program():
    # both branches write Cfg.n = 1: after the if, Cfg.n is 1 (the checker joins them)
    @proc
    def f(N: size, A: f32[N + 2]):
        assert N >= 3
        Cfg.n = 1
        A[1] = 0.0
        A[0] += A[Cfg.n]

    p = specialize(f, f.body()[0].expand(0, 1), ["N > 2"])
    assert_body(p, """
        assert N >= 3
        if N > 2:
            Cfg.n = 1
            A[1] = 0.0
        else:
            Cfg.n = 1
            A[1] = 0.0
        A[0] += A[Cfg.n]
    """)
    equiv(f, p, sizes={"N": [3, 4]})
