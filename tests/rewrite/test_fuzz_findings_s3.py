"""Issue 8, fuzzer findings 300051, 300262, 300062, 200183, 200132, 201485.

1. A reduction `x += e` into integer data with a float-typed `e` truncates at every step
   (docs/semantics.md#round-at-store); the effects analysis orders it like a write. It
   also *reads* x, and that read was lost: add_loop, remove_loop, divide_with_recompute
   and fission (autofission) took `C[0] += e` for an overwrite and accepted running it
   twice, or once instead of N times (300051, 300262, 300062). An untyped literal
   (`x += 1`) takes x's integer type (semantics.md#literal-type): such a reduction is an
   integer sum and commutes like any other.
2. The definition-time checks lost what was known of a config after an `if` or a loop
   writing it, so the sound results of add_loop(guard=True), divide_loop(tail='cut' /
   'cut_and_guard') and specialize failed their own bounds check (200183, 200132,
   201485). The checks now drop a branch that cannot run, keep what the first
   iteration of a loop sets and every iteration keeps, name a field's value before an
   if or loop (so the facts of both paths about an earlier value stay the same), and
   keep a path's facts conditioned on taking it. They still reject what may really be
   out of bounds.
"""

from __future__ import annotations

import pytest
from scheduling_checks import assert_body, differs, equiv, refused, well_formed

from knit import config, proc
from knit.errors import BoundsError
from knit.procedure import parse_proc_string
from knit.stdlib.scheduling import (
    add_loop,
    autofission,
    divide_loop,
    divide_with_recompute,
    fission,
    remove_loop,
    reorder_loops,
    specialize,
)


@config
class Cf:
    k: index
    n: size


@proc
def bump(n: size, x: [i32][n] @ DRAM):
    for k in seq(0, n):
        x[k] += 1


# ---------------------------------------------------------------- 1. truncating reductions


@proc
def call_reduces(N: size, A: i32[2 * N, N + 2] @ DRAM):
    for i in seq(0, N - 1):
        for j in seq(0, N):
            bump(1, A[i + j, i:i + 1])


def test_add_loop_refuses_a_call_that_reduces_into_integers():  # fuzzer 300051
    refused(lambda: add_loop(call_reduces, call_reduces.body()[0], "a", 2),
            "the body is not idempotent", "reduces into A[i + j, i + k]", prim="add_loop")
    # the would-be result computes something else
    differs(call_reduces, add_loop(call_reduces, call_reduces.body()[0], "a", 2,
                                   unsafe_disable_check=True), sizes={"N": [2, 3]})


@proc
def literal_reduce(N: size, C: i32[N, 4] @ DRAM):
    assert N >= 4
    Cf.k = 1
    for i in seq(0, N + 1):
        C[Cf.k, 1] += 2


def test_remove_loop_refuses_an_integer_reduction():  # fuzzer 300262
    loop = literal_reduce.find_loop("i")
    refused(lambda: remove_loop(literal_reduce, loop), "the body is not idempotent",
            "reduces into C[Cf.k, 1]", prim="remove_loop")
    differs(literal_reduce, remove_loop(literal_reduce, loop, unsafe_disable_check=True))


@proc
def truncating_reduce(N: size, C: i32[4] @ DRAM, x: f32[4] @ DRAM):
    for i in seq(0, N):
        C[0] += 8.0 * x[1]


def test_truncating_reduction_reads_its_target():
    loop = truncating_reduce.find_loop("i")
    refused(lambda: remove_loop(truncating_reduce, loop), "the body is not idempotent",
            "writes C[0]", "reads C[0]", prim="remove_loop")
    refused(lambda: add_loop(truncating_reduce, loop, "a", 2), "the body is not idempotent",
            "writes C[0]", "reads C[0]", prim="add_loop")
    refused(lambda: divide_with_recompute(truncating_reduce, loop, 1, 1, ["io", "ii"]),
            "not idempotent", prim="divide_with_recompute")
    differs(truncating_reduce, remove_loop(truncating_reduce, loop, unsafe_disable_check=True),
            sizes={"N": [3, 4]})


@proc
def counts(A: i32[2, 6] @ DRAM):
    for i in seq(0, 8):
        for j in seq(0, i):
            A[0, 0] += 1
            A[0, 1] += A[0, 0]


def test_fission_refuses_to_split_an_integer_count_from_its_use():  # fuzzer 300062
    gap = counts.body()[0].body()[0].body()[0].after()
    for rewrite in (lambda: autofission(counts, gap), lambda: fission(counts, gap)):
        refused(rewrite, "splitting the loop would reorder a dependence",
                "reduces into A[0, 0]", "reads A[0, 0]")
    differs(counts, fission(counts, gap, unsafe_disable_checks=True))


@proc
def idempotent_int(N: size, C: i32[N, 4] @ DRAM):
    for i in seq(0, N):
        C[i, 0] = 2


@proc
def int_sums(N: size, C: i32[2] @ DRAM, A: i32[N, N] @ DRAM):
    for i in seq(0, N):
        for j in seq(0, N):
            C[0] += 2
            C[1] += A[i, j]


def test_sound_integer_rewrites_stay_accepted():
    q = add_loop(idempotent_int, idempotent_int.body()[0], "a", 2)
    assert_body(q, """
        for a in seq(0, 2):
            for i in seq(0, N):
                C[i, 0] = 2""")
    equiv(idempotent_int, q)
    # `C[0] += 2` is an integer sum (the literal is an i32): it commutes
    q = reorder_loops(int_sums, "i j")
    assert_body(q, """
        for j in seq(0, N):
            for i in seq(0, N):
                C[0] += 2
                C[1] += A[i, j]""")
    equiv(int_sums, q)


# ---------------------------------------------------------------- 2. the definition-time checks


@proc
def sets_n(N: size, A: i32[N - 1, N + 2] @ DRAM, B: f64[N] @ DRAM):
    assert N >= 2
    Cf.n = N
    for i in seq(0, Cf.n + 1):
        A[0, i] += B[Cf.n - 1]


@pytest.mark.parametrize("hi", ["1", "N"])
def test_add_loop_guard_over_a_config_write_is_valid(hi):  # fuzzer 200183
    q = add_loop(sets_n, sets_n.body()[0], "a", hi, guard=True)
    assert_body(q, f"""
        assert N >= 2
        for a in seq(0, {hi}):
            if a == 0:
                Cf.n = N
        for i in seq(0, Cf.n + 1):
            A[0, i] += B[Cf.n - 1]""")
    equiv(sets_n, q, sizes={"N": [2, 3, 5]})


@proc
def sets_k(N: size, C: i32[2 * N, 2 * N] @ DRAM):
    assert N >= 3
    for a in seq(0, 1):
        Cf.k = 0
    for i in seq(Cf.k, N + 2):
        C[i, i] += C[i, i]


@proc
def sets_k_n_times(N: size, C: i32[2 * N, 2 * N] @ DRAM):
    for a in seq(0, N):
        Cf.k = 0
    for i in seq(Cf.k, N):
        C[i, i] += C[i, i]


@pytest.mark.parametrize("tail", ["cut_and_guard", "cut", "guard"])
@pytest.mark.parametrize("p", [sets_k, sets_k_n_times])
def test_divide_loop_over_a_config_write_is_valid(p, tail):  # fuzzer 200132
    q = divide_loop(p, "a", 4, ["ao", "ai"], tail=tail)
    equiv(p, q, sizes={"N": [3, 4, 5, 8, 9]})


@proc
def sized_by_config(N: size, B: f32[4, 2 * N] @ DRAM, C: f32[4] @ DRAM):
    assert N >= 3
    Cf.k = 1
    Cf.n = 3
    t1: f32[Cf.n + 1, Cf.n + 1] @ DRAM
    for j in seq(0, Cf.n + 1):
        for k in seq(0, Cf.n + 1):
            t1[j, k] = C[0]
    Cf.n = 8
    t1[Cf.k + 2, 1] += C[Cf.k - 1] + B[1, 0]
    B[0, 1] = t1[Cf.k + 2, 1]


@pytest.mark.parametrize("cond", ["N <= 1", "N <= 4"])
def test_specialize_over_a_config_write_is_valid(cond):  # fuzzer 201485
    q = specialize(sized_by_config, sized_by_config.body()[4:6], cond)
    assert str(q).count("Cf.n = 8") == 2
    equiv(sized_by_config, q, sizes={"N": [3, 4, 5, 6]})


_MAY_BE_OUT = "may be out of bounds"


def test_checks_still_reject_what_may_be_out_of_bounds():
    # only a later iteration writes, and it writes an index out of range
    # (from text: @proc refuses a config write steered by a loop variable, Exo's rule,
    # semantics.md#config-loop-invariant; parsed text and rewrites may hold one)
    with pytest.raises(BoundsError, match=_MAY_BE_OUT):
        parse_proc_string("""def later_iteration(N: size, x: f32[4] @ DRAM):
    Cf.k = 0
    for a in seq(0, N):
        if a == 1:
            Cf.k = 7
    x[Cf.k] = 1.0
""", {"Cf": Cf}, __file__)

    # a loop that may not run leaves the old value
    with pytest.raises(BoundsError, match=_MAY_BE_OUT):
        @proc
        def may_not_run(N: size, x: f32[4] @ DRAM):
            Cf.k = 9
            for a in seq(0, N - 1):
                Cf.k = 0
            x[Cf.k] = 1.0

    # either branch may have run: only the facts of both hold
    with pytest.raises(BoundsError, match=_MAY_BE_OUT):
        @proc
        def either(N: size, x: f32[4] @ DRAM):
            if N > 2:
                Cf.k = 1
            else:
                Cf.k = 5
            x[Cf.k] = 1.0


def test_checks_accept_what_is_in_bounds():
    # the first iteration sets Cf.k; later ones keep it
    # (from text, as later_iteration above)
    first_iteration = parse_proc_string("""def first_iteration(N: size, x: f32[4] @ DRAM):
    Cf.k = 0
    for a in seq(0, N):
        if a == 0:
            Cf.k = 3
    x[Cf.k] = 1.0
""", {"Cf": Cf}, __file__)

    # each path's facts hold where the same condition says it was taken
    @proc
    def same_path(N: size, x: f32[4] @ DRAM, y: f32[6] @ DRAM):
        if N > 2:
            Cf.k = 1
        else:
            Cf.k = 5
        y[Cf.k] = 1.0
        if N > 2:
            x[Cf.k] = 1.0

    for p in (first_iteration, same_path):
        well_formed(p)
        equiv(p, p, sizes={"N": [1, 2, 3, 4]})
