"""The expressions the primitives build, written as Exo 1.0 builds them.

Exo's primitives build some identities they could drop — `(n + 0) / 1` and `1 * io + ii`
when a loop is divided by 1, `4 * i + 0` for an argument `replace` solved, `(c) == True`
for the condition `extract_subproc` turns into an assert. knit builds the same
expressions (a program scheduled under Exo prints as itself under knit); they mean what
the folded forms mean, which the equivalence checks below pin, and `simplify` folds them.
"""

from __future__ import annotations

import pytest
from scheduling_checks import assert_body, equiv, well_formed

from knit import proc
from knit.errors import PreconditionError
from knit.stdlib.scheduling import divide_loop, extract_subproc, replace, simplify


@proc
def fill(N: size, x: f32[N]):
    for i in seq(0, N):
        x[i] = 3.0


def test_divide_by_1_with_a_guard_keeps_the_identities():
    p = divide_loop(fill, "i", 1, ["io", "ii"], tail="guard")
    assert_body(p, """
        for io in seq(0, (N + 0) / 1):
            for ii in seq(0, 1):
                if 1 * io + ii < N:
                    x[1 * io + ii] = 3.0
    """)
    equiv(fill, p, sizes={"N": [1, 2, 5]})
    assert_body(simplify(p), """
        for io in seq(0, N):
            for ii in seq(0, 1):
                if ii + io < N:
                    x[ii + io] = 3.0
    """)


def test_divide_by_1_with_a_cut_multiplies_the_tail_start_by_1():
    p = divide_loop(fill, "i", 1, ["io", "ii"], tail="cut")
    assert_body(p, """
        for io in seq(0, N / 1):
            for ii in seq(0, 1):
                x[1 * io + ii] = 3.0
        for ii in seq(0, N % 1):
            x[ii + N / 1 * 1] = 3.0
    """)
    equiv(fill, p, sizes={"N": [1, 2, 5]})


def test_divide_by_4_builds_what_it_built_before():
    p = divide_loop(fill, "i", 4, ["io", "ii"], tail="guard")
    assert_body(p, """
        for io in seq(0, (N + 3) / 4):
            for ii in seq(0, 4):
                if 4 * io + ii < N:
                    x[4 * io + ii] = 3.0
    """)
    equiv(fill, p, sizes={"N": [1, 3, 4, 9]})


@proc
def branchy(N: size, M: size, x: f32[N, M]):
    assert N >= 4
    assert M >= 2
    if N < 10 and M < 4:
        for i in seq(0, 4):
            x[i, 0] += 2.0
    else:
        for i in seq(0, 4):
            x[i, 1] += 1.0


def test_extract_subproc_asserts_the_branch_taken_as_cond_equals_true_or_false():
    p, then = extract_subproc(branchy, "for i in _:_ #0", "then_part")
    p, other = extract_subproc(p, "for i in _:_ #0", "else_part")
    assert_body(then, """
        assert N >= 4
        assert M >= 2
        assert (N < 10 and M < 4) == True
        for i in seq(0, 4):
            x[i, 0] += 2.0
    """)
    assert_body(other, """
        assert N >= 4
        assert M >= 2
        assert (N < 10 and M < 4) == False
        for i in seq(0, 4):
            x[i, 1] += 1.0
    """)
    equiv(branchy, p, sizes={"N": [4, 9, 12], "M": [1, 3, 4, 7]})
    well_formed(then)
    well_formed(other)


def test_the_subproc_refuses_a_call_where_the_branch_would_not_be_taken():
    # the assert is the condition itself: a call where it is false is an error
    then = extract_subproc(branchy, "for i in _:_ #0", "then_part")[1]
    with pytest.raises(PreconditionError,
                       match=r"requires `\(N < 10 and M < 4\) == True`, which could not be proven"):
        proc_calling(then)


def proc_calling(then):
    @proc
    def caller(x: f32[12, 2]):
        then(12, 2, x)

    return caller


@proc
def add4(dst: [f32][4], a: [f32][4], b: [f32][4]):
    for k in seq(0, 4):
        dst[k] = a[k] + b[k]


@proc
def add_rows(N: size, z: f32[N], x: f32[N], y: f32[N]):
    assert N % 4 == 0
    for i in seq(0, N / 4):
        for j in seq(0, 4):
            z[4 * i + j] = x[4 * i + j] + y[4 * i + j]


def test_replace_writes_a_solved_window_as_terms_plus_a_constant():
    p = replace(add_rows, "for j in _:_", add4)
    assert_body(p, """
        assert N % 4 == 0
        for i in seq(0, N / 4):
            add4(z[4 * i + 0:4 * i + 4], x[4 * i + 0:4 * i + 4], y[4 * i + 0:4 * i + 4])
    """)
    equiv(add_rows, p, sizes={"N": [4, 8, 12]})
    assert "add4(z[4 * i:4 + 4 * i]" in str(simplify(p))  # simplify folds the + 0


@proc
def copy_n(n: size, src: [f32][n], dst: [f32][n]):
    assert n <= 8
    for k in seq(0, n):
        dst[k] = src[k]


@proc
def copy_tail(N: size, q: index, x: f32[24], y: f32[24]):
    assert N <= 8
    assert q >= 0
    assert q <= 1
    for k in seq(0, N):
        y[8 * q + k + 1] = x[N / 2 + k]


def test_replace_writes_a_size_argument_n_plus_0_and_a_quotient_as_a_term():
    p = replace(copy_tail, "for k in _:_", copy_n)
    assert_body(p, """
        assert N <= 8
        assert q >= 0
        assert q <= 1
        copy_n(N + 0, x[N / 2 + 0:N / 2 + N + 0], y[8 * q + 1:N + 8 * q + 1])
    """)
    equiv(copy_tail, p, sizes={"N": [1, 5, 8]})

