"""Bugs the schedule fuzzer found, each reduced by hand to a few lines.

Each test states what must hold -- the primitive refuses with SchedulingError, or its
result is a valid program that agrees with the original and prints back to itself.
An open bug's test is marked `open_bug(...)` (xfail, strict, with the exception it
fails with), so it fails (XPASS) as soon as the bug is fixed: then replace the marker
by a `# Found by the fuzzer (fixed): ...` comment and delete the bug's entry in
known.py. Fixed bugs keep their test, as a regression test.
"""

from __future__ import annotations

import functools

import pytest

import knit
import knit.stdlib.scheduling as S
from knit.errors import BoundsError, SchedulingError
from knit.procedure import parse_proc_string

from . import gen
from .same import check_roundtrip


@functools.lru_cache(maxsize=None)
def _prelude() -> dict:
    return gen.exec_prelude()


def parse(text: str, **extra):
    return parse_proc_string(text, {**_prelude()["scope"], **extra})


def open_bug(exc, reason: str):
    """An open knit bug: the test fails with `exc` until it is fixed (then XPASS fails)."""
    return pytest.mark.xfail(strict=True, raises=exc, reason=f"knit bug: {reason}")


def sound(p, rewrite, sizes=None):
    """rewrite(p) is refused with SchedulingError, or gives a procedure that agrees
    with p on random inputs and prints as object code that parses back to itself."""
    try:
        out = rewrite(p)
    except SchedulingError:
        return
    q = out[0] if isinstance(out, tuple) else out  # extract_subproc: (proc, subproc)
    knit.check_equiv(p, q, trials=3, sizes=sizes)
    check_roundtrip(q, p._scope)


def test_sound_accepts_a_correct_rewrite():
    # the helper itself must be able to pass, or every test below proves nothing
    p = parse("""
def f(N: size, A: f32[N] @ DRAM):
    for i in seq(0, N):
        A[i] = 2.0 * A[i]
""")
    sound(p, lambda p: S.divide_loop(p, "i", 2, ["io", "ii"], tail="cut"))


def test_sound_rejects_a_wrong_result():
    p = parse("""
def f(N: size, A: f32[N] @ DRAM):
    for i in seq(0, N):
        A[i] = 2.0 * A[i]
""")
    wrong = S.add_unsafe_guard(p, p.body()[0].body()[0], "i < 1")
    with pytest.raises(AssertionError):
        sound(p, lambda p: wrong, sizes={"N": [3, 4]})


# ---------------------------------------------------------------- empty blocks


# Found by the fuzzer (fixed): inline_window leaves an empty loop body, which prints as `for i
# in seq(0, N):` with nothing under it
def test_inline_window_of_the_only_statement():
    p = parse("""
def f(N: size, A: f32[N, 4] @ DRAM):
    for i in seq(0, N):
        w = A[i, 0:2]
""")
    sound(p, lambda p: S.inline_window(p, p.body()[0].body()[0]))


# Found by the fuzzer (fixed): delete_buffer leaves an empty if body, which prints as `if i <
# 2:` with nothing under it
def test_delete_buffer_of_the_only_statement():
    p = parse("""
def f(N: size, A: f32[N] @ DRAM):
    for i in seq(0, N):
        if i < 2:
            t: f32[4] @ DRAM
        A[i] = 1.0
""")
    sound(p, lambda p: S.delete_buffer(p, p.find("t : _")))


# ---------------------------------------------------------------- extract_subproc


# Found by the fuzzer (fixed): extract_subproc moves an allocation into the subproc while the
# caller still uses the buffer (KeyError in checks)
def test_extract_subproc_of_an_allocation_used_later():
    p = parse("""
def f(N: size, A: f32[N] @ DRAM):
    t: f32[N] @ DRAM
    for i in seq(0, N):
        t[i] = A[i]
    for i in seq(0, N):
        A[i] = t[i] + 1.0
""")
    sound(p, lambda p: S.extract_subproc(p, p.body()[0], "sub"))


# Found by the fuzzer (fixed): extract_subproc passes a buffer and a window of it to a subproc
# that writes them (AliasError at the call)
def test_extract_subproc_with_a_window_of_a_passed_buffer():
    p = parse("""
def f(N: size, A: f32[N, 4] @ DRAM):
    for i in seq(0, N):
        w = A[i, 0:2]
        w[0] = 1.0
        A[i, 3] = w[1]
""")
    sound(p, lambda p: S.extract_subproc(p, p.body()[0].body()[1].expand(0, 1), "sub"))


# Found by the fuzzer (fixed): extract_subproc passes a window argument as a plain Read; the
# printed `sub(N, A)` parses to a WindowExpr
def test_extract_subproc_passing_a_window_argument():
    p = parse("""
def f(N: size, A: [f32][N] @ DRAM):
    for i in seq(0, N):
        A[i] = 1.0
""")
    sound(p, lambda p: S.extract_subproc(p, p.body()[0], "sub"))


# ---------------------------------------------------------------- types and memories


# Found by the fuzzer (fixed): set_window makes an argument a window although it is passed to
# a callee that takes a dense tensor
def test_set_window_on_an_argument_passed_to_a_dense_parameter():
    dense = parse("""
def helper_dense(x: f32[4] @ DRAM):
    x[0] = 1.0
""")
    p = parse("""
def f(A: f32[4] @ DRAM):
    helper_dense(A)
""", helper_dense=dense)
    sound(p, lambda p: S.set_window(p, "A", True))


# Found by the fuzzer (fixed): set_precision changes a buffer that is passed to an f32 window
# parameter; the generated C does not compile
def test_set_precision_of_a_buffer_passed_to_a_call():
    p = parse("""
def f(A: f32[4] @ DRAM):
    t: f32[4] @ DRAM
    for i in seq(0, 4):
        t[i] = A[i]
    helper_f(4, t[0:4])
    for i in seq(0, 4):
        A[i] = t[i]
""")
    sound(p, lambda p: S.set_precision(p, "t", "f64"))


# Found by the fuzzer (fixed): set_precision leaves the old type on the expressions reading
# the buffer (f32 - f64 stays f32; parsed it is R)
def test_set_precision_retypes_the_expressions_that_read_it():
    p = parse("""
def f(A: f32[4] @ DRAM):
    t: f32 @ DRAM
    t = 3.0
    A[0] = A[1] - t
""")
    sound(p, lambda p: S.set_precision(p, "t", "f64"))


# Found by the fuzzer (fixed): bind_expr binds a literal of an i32 expression to an f64 buffer
# and keeps the expression typed i32
def test_bind_expr_of_a_literal_in_an_integer_expression():
    p = parse("""
def f(A: i32[4] @ DRAM):
    A[0] = A[1] + 1
""")
    sound(p, lambda p: S.bind_expr(p, [p.body()[0].rhs().rhs()], "b"))


# Found by the fuzzer (fixed): autolift_alloc adds a dimension N - 1, which is 0 when N = 1
# (the loop is then empty): the result fails the checks
def test_autolift_alloc_out_of_a_loop_that_may_be_empty():
    p = parse("""
def f(N: size, A: f32[N] @ DRAM):
    for i in seq(0, N - 1):
        t: f32 @ DRAM
        t = A[i]
        A[i + 1] = t
""")
    sound(p, lambda p: S.autolift_alloc(p, "t : _", keep_dims=True), sizes={"N": [1, 2, 3]})


# Found by the fuzzer (fixed): lift_alloc moves `t: f32[N - 1]` out of the loop that made N -
# 1 >= 1 true (it runs only when N >= 2): outside, the size may be 0
def test_lift_alloc_out_of_the_loop_that_guarantees_its_size():
    p = parse("""
def f(N: size, A: f32[N] @ DRAM):
    for i in seq(0, N - 1):
        t: f32[N - 1] @ DRAM
        t[i] = A[i]
        A[i] = t[i]
""")
    sound(p, lambda p: S.lift_alloc(p, "t : _"), sizes={"N": [1, 2, 3]})


# ---------------------------------------------------------------- wrong results


# Found by the fuzzer (fixed): replace proves the loop bounds equal under the facts of the
# loop body, which contradict each other in an empty loop: `for k in seq(2, 2)` becomes
# helper_f(2, A[0:2]) (found after cut_loop(p, loop, hi))
def test_replace_an_empty_loop():
    p = parse("""
def f(A: f32[6] @ DRAM):
    for k in seq(2, 2):
        A[k] = 0.5 * A[k] + 1.0
""")
    sound(p, lambda p: S.replace(p, p.body()[0], _prelude()["helper_f"]))


# Found by the fuzzer (fixed): expand_dim does not rewrite a read of the buffer in a config
# write (`FuzzCfg.x = t` keeps the 0-d read of what is now t[N]); the C backend then stops
# with a bare StopIteration
def test_expand_dim_of_a_buffer_read_by_a_config_write():
    p = parse("""
def f(N: size, A: f32[N] @ DRAM):
    for i in seq(0, N):
        t: f32 @ DRAM
        t = A[i]
        FuzzCfg.x = t
        A[i] = FuzzCfg.x
""")
    sound(p, lambda p: S.expand_dim(p, "t : _", "N", "i"))


# ---------------------------------------------------------------- par loops

_PAR = """
def f(N: size, A: f32[N] @ DRAM):
    for i in par(0, N):
        t: f32 @ DRAM
        t = A[i]
        A[i] = t + 1.0
"""


# Found by the fuzzer (fixed): lift_alloc moved a buffer out of a par loop; every iteration
# then wrote the one shared buffer (RaceError in the checks).
def test_lift_alloc_out_of_a_par_loop():
    sound(parse(_PAR), lambda p: S.lift_alloc(p, "t : _"))


# Found by the fuzzer (fixed): autolift_alloc moved a buffer out of a par loop without a
# dimension for it (the accesses do not use i): a race.
def test_autolift_alloc_out_of_a_par_loop():
    sound(parse(_PAR), lambda p: S.autolift_alloc(p, "t : _"))


# Found by the fuzzer (fixed): write_config inserted a config write into a par loop, where the
# iterations race on it.
def test_write_config_in_a_par_loop():
    p = parse("""
def f(N: size, A: f32[N] @ DRAM):
    for i in par(0, N):
        A[i] = 1.0
""")
    cfg = _prelude()["FuzzCfg"]
    sound(p, lambda p: S.write_config(p, p.body()[0].body()[0].after(), cfg, "y", "3"))


# Found by the fuzzer (fixed): stage_mem inside a par loop copied the whole window in and out
# in every iteration: a race.
def test_stage_mem_in_a_par_loop():
    p = parse("""
def f(N: size, B: f32[N] @ DRAM):
    for j in par(0, N):
        B[j] = 0.5 * B[j] + 1.0
""")
    sound(p, lambda p: S.stage_mem(p, p.body()[0].body()[0], "B[0:N]", "s"))


# ---------------------------------------------------------------- more results that fail checks


# Found by the fuzzer (fixed): fuse proved seq(0, N + 2) == seq(0, l) from the contradictory
# facts of the empty loop `for l in seq(2, 2)`; the fused body failed the bounds check.
def test_fuse_inside_an_empty_loop():
    p = parse("""
def f(N: size, A: f32[N + 2] @ DRAM, B: f32[2] @ DRAM):
    for l in seq(2, 2):
        for m in seq(0, N + 2):
            A[m] = 1.0
        for n in seq(0, l):
            B[n] = 2.0
""")
    sound(p, lambda p: S.fuse(p, p.body()[0].body()[0], p.body()[0].body()[1]))


# Found by the fuzzer (fixed): set_memory moved a buffer to DRAM_STACK although it is passed
# to a callee whose parameter lives in DRAM; the printed code was rejected.
def test_set_memory_of_a_buffer_passed_to_a_call():
    p = parse("""
def f(A: f32[4] @ DRAM):
    t: f32[4] @ DRAM
    for i in seq(0, 4):
        t[i] = A[i]
    helper_f(4, t[0:4])
    for i in seq(0, 4):
        A[i] = t[i]
""")
    sound(p, lambda p: S.set_memory(p, "t : _", _prelude()["DRAM_STACK"]))


# Found by the fuzzer (fixed): inline_assign substituted the value but kept the old type on
# the expression (3.0 * b was f32; 3.0 * 0.5 parses as R).
def test_inline_assign_retypes_the_expression():
    p = parse("""
def f(N: size, A: f32[N] @ DRAM):
    for i in seq(0, N):
        b: f32 @ DRAM
        b = 0.5
        A[i] = 3.0 * b
""")
    sound(p, lambda p: S.inline_assign(p, p.body()[0].body()[1]))


# ---------------------------------------------------------------- copies that share a symbol
# cut_loop (like every rewrite that copies a block) keeps one Sym for an allocation or
# window bound in both copies; rewrites keyed on the Sym then reach into the other copy.


# Found by the fuzzer (fixed): after cut_loop + remove_loop, reorder_stmts put one copy of `w1
# = A[1:3]` (one Sym for both copies) in the scope of the other; the inner one printed as w1
# and parsed as an assignment to the window.
def test_reorder_window_statements_copied_by_cut_loop():
    p = parse("""
def f(N: size, A: f32[2 * N] @ DRAM):
    assert N >= 2
    for i in seq(0, N + 1):
        w1 = A[1:3]
""")

    def schedule(p):
        p = S.cut_loop(p, "i", "0 + 2")
        p = S.remove_loop(p, p.body()[1])
        return S.reorder_stmts(p, p.body()[0].expand(0, 1))

    sound(p, schedule)


# Found by the fuzzer (fixed): after cut_loop both loops allocated the same Sym t; expand_dim
# of the lifted copy rewrote the other copy's accesses too, whose allocation stayed 0-d
# (InternalError in the interpreter).
def test_expand_dim_of_an_allocation_copied_by_cut_loop():
    p = parse("""
def f(N: size, A: f32[N] @ DRAM):
    for i in seq(0, N):
        t: f32 @ DRAM
        t = A[i]
        A[i] = t + 1.0
""")

    def schedule(p):
        p = S.cut_loop(p, "i", "N - 1")
        p = S.lift_alloc(p, p.body()[0].body()[0])
        return S.expand_dim(p, p.body()[0], "N", "0")

    sound(p, schedule)


# Found by the fuzzer (fixed): stage_mem of the window C[1:N] allocated s: i32[N - 1], which is
# 0 elements for N = 1; the window must now be proven non-empty.
def test_stage_mem_of_a_window_that_may_be_empty():
    p = parse("""
def f(N: size, C: i32[N] @ DRAM):
    for i in seq(1, N):
        C[i] += 1
""")
    sound(p, lambda p: S.stage_mem(p, p.body()[0], "C[1:N]", "s"), sizes={"N": [1, 2, 3]})


# Found by the fuzzer (fixed): cut_loop at 3 of `for k in seq(0, 2)` inside the dead
# `if i < 0:` was "proven" from the contradictory facts there; the result failed the
# bounds check (t1[j, k] with k < 3 in a dimension of size 2).
def test_cut_loop_in_dead_code():
    p = parse("""
def f(N: size, A: f32[2 * N] @ DRAM):
    for i in seq(2, N):
        if i < 0:
            t1: f32[4, 2] @ DRAM
            for j in seq(0, 4):
                for k in seq(0, 2):
                    t1[j, k] = A[0]
            A[i] = t1[0, 0]
""")
    sound(p, lambda p: S.cut_loop(p, "k", 3))


# Found by the fuzzer (fixed): in dead code (`for j in seq(2, 2)`) the contradictory facts
# proved anything; stage_mem then divide_dim made a buffer with an empty dimension.
def test_no_rewrites_inside_code_that_never_runs():
    p = parse("""
def f(N: size, A: f32[N, 2 * N] @ DRAM):
    assert N >= 2
    for i in seq(0, 4):
        for j in seq(2, 2):
            t1: f32[N + 1] @ DRAM
            for k in seq(0, N + 1):
                t1[k] = A[0, 0]
""")
    sound(p, lambda p: S.stage_mem(p, p.body()[0].body()[0].body()[1],
                                   "A[j:j + 1, 1:2 * N]", "s68"))
    with pytest.raises(SchedulingError, match="this code never runs"):
        S.stage_mem(p, p.body()[0].body()[0].body()[1], "A[j:j + 1, 1:2 * N]", "s68")


# Found by the fuzzer (fixed): lifting `if c2: A` (no else) out of `if c1: ... else: D`
# left the new else branch `if c1:` with an empty body, which does not print back.
def test_lift_an_if_without_else_out_of_an_if_with_else():
    p = parse("""
def f(N: size, A: f32[N] @ DRAM):
    for i in seq(0, N):
        if i < 3:
            if i > 0:
                A[i] = 1.0
        else:
            A[i] = 2.0
""")
    sound(p, lambda p: S.lift_scope(p, p.find("if i > 0: _")))


# Found by the fuzzer (fixed): a rewrite that empties the whole body (inline_window of a
# window nothing uses) left a proc whose printed `pass` parsed back to one statement.
def test_a_rewrite_never_leaves_an_empty_body():
    p = parse("""
def f(N: size, A: f32[N] @ DRAM):
    w = A[0:N]
""")
    sound(p, lambda p: S.inline_window(p, p.body()[0]))


def test_unrolling_a_negated_variable_gives_a_literal_that_parses_back():
    # fuzzer seed 0 case 962: simplify prints `N - j` as `-j + N` (Exo's normal form);
    # unroll_loop put 1 for j, leaving -(1) as a negation of a literal, which prints `-1`
    # and parses back as the literal -1: the procedure did not print as itself
    p = parse("""
def f(N: size, B: f32[N, 2 * N] @ DRAM):
    assert N >= 2
    for j in seq(0, 3):
        B[0, N - j] = 2.0 * B[0, j]
""")
    sound(p, lambda p: S.unroll_loop(S.simplify(p), "j"))


def test_reordering_a_config_write_after_a_loop_that_never_runs():
    # fuzzer seed 0 case 1288: moving `FuzzCfg.k = 2` below the empty `for i in seq(2, 2)`
    # is sound, but the result failed the bounds check: the proof about
    # A[FuzzCfg.k - i, FuzzCfg.k] sent the solver only the facts sharing its variables,
    # and `2 <= i < 2`, which says the body never runs, was not among them
    p = parse("""
def f(N: size, M: size, A: f32[M - 1, 2 * N] @ DRAM):
    assert N >= 2
    assert M >= 2
    FuzzCfg.k = 2
    for i in seq(2, 2):
        A[FuzzCfg.k - i, FuzzCfg.k] += A[i - 1, FuzzCfg.k - i - 1]
""")
    q = S.reorder_stmts(p, p.body()[0].expand(0, 1))
    assert str(q).splitlines()[-1].strip() == "FuzzCfg.k = 2"
    knit.check_equiv(p, q, trials=2, sizes={"N": [2, 3], "M": [2, 3]})
    check_roundtrip(q, p._scope)


def test_a_live_loop_still_needs_its_accesses_proven():
    # the same access in a loop that runs is refused: the dead-code allowance above
    # applies only to bodies whose facts contradict each other
    with pytest.raises(BoundsError, match=r"A\[FuzzCfg.k - i, FuzzCfg.k\] may be out"):
        parse("""
def f(N: size, M: size, A: f32[M - 1, 2 * N] @ DRAM):
    assert N >= 2
    assert M >= 2
    for i in seq(2, 3):
        A[FuzzCfg.k - i, FuzzCfg.k] += 1.0
    FuzzCfg.k = 2
""")


def test_a_view_passed_whole_prints_what_parses_back_to_its_bounds():
    # fuzzer seed 0 case 867: `f(w1)` of a view w1 = B[i, i - 1:i]; simplify made the
    # call's window w1[0:1] while the view's printed slices parse to the extent
    # i - (i - 1): printed as `w1`, it parsed back to other bounds
    p = parse("""
def f(M: size, A: f32[6, 6] @ DRAM, B: f32[M + 2, 4] @ DRAM):
    assert M >= 3
    for i in seq(1, 4):
        w1 = B[i, i - 1:i]
        helper2_f(1, A[i, i:i + 1], w1)
""")
    assert "helper2_f(1, A[i, i:i + 1], w1)" in str(p)  # as written
    sound(p, S.simplify)
    sound(p, lambda p: S.shift_loop(p, p.body()[0], "M"))


def test_extract_subproc_refuses_a_subprocedure_that_could_not_compile():
    # fuzzer seed 0 case 702: the view B[j, j:j + 3] is inside B only under the loops'
    # bounds, which the subprocedure (asserts left out) does not have. A definition
    # with such a view is taken with a warning and refused when compiled (as Exo); a
    # rewrite must refuse instead of making a procedure that cannot be compiled
    p = parse("""
def f(N: size, B: f32[2 * N, 2 * N] @ DRAM):
    assert N >= 2
    for i in seq(0, N + 1):
        for j in seq(0, i):
            w1 = B[j, j:j + 3]
""")
    with pytest.raises(SchedulingError, match="the extracted procedure does not check: .*"
                       r"the window B\[j, j:j \+ 3\] may be out of bounds"):
        S.extract_subproc(p, p.body()[0].body()[0].body()[0], "sub", include_asserts=False)
    sound(p, lambda p: S.extract_subproc(p, p.body()[0].body()[0].body()[0], "sub"))


def test_unroll_buffer_of_an_unused_buffer_leaves_pass_in_its_loop():
    # fuzzer seed 0 case 3638 (session 9): the loop's body was the buffer alone; unrolled
    # into no buffer (none of its indices used), the loop printed with no body
    p = parse("""
def f(N: size, B: f32[N] @ DRAM):
    for i in seq(0, 3):
        t1: f32[4] @ DRAM
""")
    q = S.unroll_buffer(p, p.body()[0].body()[0], 0)
    assert "pass" in str(q)
    sound(p, lambda p: S.unroll_buffer(p, p.body()[0].body()[0], 0))
