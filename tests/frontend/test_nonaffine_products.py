"""Products in index expressions. A factor made of literals only (`(10 + 2) * m`) keeps
the product affine; a product of two non-constants (`n * m`, `i * m + j`) is accepted
too, and the analyses read it as an opaque term tied to its factors only through the
solver: what cannot be proven about it is refused, never assumed."""

from __future__ import annotations

from refusals import expect_error, refused
from scheduling_checks import assert_body, equiv

import knit
from knit import proc
from knit.errors import BoundsError
from knit.ir import types as T
from knit.procedure import parse_proc_string
from knit.stdlib.scheduling import expand_dim, rename, reorder_loops, simplify


def test_a_literal_factor_keeps_the_product_affine():
    @proc
    def f(n: size, m: size):
        x: R[n, (10 + 2) * m - m * 12 + 10]
        for i in seq(0, (2 + 2) * (n + 2) - n * 4):
            pass

    assert f.find("x: _")._node().type.shape()[1].type == T.INDEX
    assert_body(simplify(f), """
        x: R[n, 10] @ DRAM
        for i in seq(0, 8):
            pass""")


@proc
def via_flat(n: size, m: size, A: f32[n, m], B: f32[n, m]):
    tmp: f32[n * m]
    for i in seq(0, n):
        for j in seq(0, m):
            tmp[i * m + j] = A[i, j]
    for i in seq(0, n):
        for j in seq(0, m):
            B[i, j] = 2.0 * tmp[i * m + j]


@proc
def direct(n: size, m: size, A: f32[n, m], B: f32[n, m]):
    for i in seq(0, n):
        for j in seq(0, m):
            B[i, j] = 2.0 * A[i, j]


def test_a_product_of_sizes_and_a_row_major_index_are_proven_in_bounds():
    assert "tmp: f32[n * m] @ DRAM" in str(via_flat)
    assert "tmp[i * m + j] = A[i, j]" in str(via_flat)
    again = parse_proc_string(str(via_flat), via_flat._scope)
    assert str(again) == str(via_flat)


def test_interpreter_and_c_agree_on_a_non_affine_index():
    knit.check_equiv(rename(direct, "via_flat"), via_flat, trials=3, interpret=True)


def test_an_access_that_may_leave_the_buffer_is_refused():
    def bad():
        @proc
        def f(n: size, x: f32[n]):
            for i in seq(0, n):
                for j in seq(0, n):
                    x[i * j] = 0.0

    expect_error(bad, BoundsError, "x[i * j]", line=bad.__code__.co_firstlineno + 5)


def test_a_dependence_through_a_product_is_not_assumed_away():
    @proc
    def last_wins(n: size, A: f32[n, n], y: f32[4]):
        for i in seq(0, n):
            for j in seq(0, n):
                y[i * j % 4] = A[i, j]

    # swapping the loops changes which write to y[0] comes last
    refused(lambda: reorder_loops(last_wins, "i j"), prim="reorder_loops")


@proc
def scalar_in_nest(n: size, m: size, arr: f32[n, m]):
    for i in seq(0, n):
        for j in seq(0, m):
            tmp: f32
            tmp = 1.0
            arr[i, j] = tmp


def test_expand_dim_with_a_product_of_sizes():
    p = expand_dim(scalar_in_nest, "tmp : _", "(n + 1) * (1 + m)", "i * m + j")
    assert_body(p, """
        for i in seq(0, n):
            for j in seq(0, m):
                tmp: f32[(n + 1) * (1 + m)] @ DRAM
                tmp[i * m + j] = 1.0
                arr[i, j] = tmp[i * m + j]""")
    equiv(scalar_in_nest, p)


def test_expand_dim_refuses_a_product_index_out_of_the_new_dimension():
    refused(lambda: expand_dim(scalar_in_nest, "tmp : _", "n * m", "i * m + j + 1"),
            prim="expand_dim")
