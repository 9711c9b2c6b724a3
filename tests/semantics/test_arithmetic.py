"""Data arithmetic (docs/semantics.md#literal-type, #round-at-store, #int-arith,
#float-to-int, #f16, #no-contraction): interpreted and compiled code agree, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest
from semcheck import agree, run

from knit import proc
from knit.backend.c import compile_procs_to_strings
from knit.errors import ArgumentError, KnitTypeError


@proc
def literals(x: f32[2], k: i32[1]):
    x[0] = 16777216.0 + 1.0 + 1.0
    x[1] = 0.1 + 0.2
    k[0] = 3.0 / 2.0 * 2.0


def test_an_expression_of_literals_is_computed_in_double_then_converted_once():
    # pins semantics.md#literal-type
    x, k = agree(literals, [np.zeros(2, np.float32), np.zeros(1, np.int32)])
    assert x[0] == 16777218 and x[1] == np.float32(0.1 + 0.2)
    assert k[0] == 3  # not C's integer division of 3 by 2


@proc
def double_literal(N: size, a: f64[N], b: f32[N], o: f32[N]):
    for i in seq(0, N):
        o[i] = a[i] * b[i] + 0.1


def test_a_literal_in_a_double_operation_is_a_double():
    # pins semantics.md#literal-type (main wrote 0.1f inside the double expression)
    c, _ = compile_procs_to_strings([double_literal], "d.h")
    assert "0.1f" not in c and "+ 0.1)" in c
    a = np.full(4, 1.0, np.float64)
    b = np.array([0.0, 1.0, -0.0, 3.0], np.float32)
    _, _, o = agree(double_literal, [a, b, np.zeros(4, np.float32)])
    assert o[0] == np.float32(0.1)


@proc
def int_literal(x: i32[2]):
    x[0] = x[0] + 2.5
    x[1] = x[1] * (0.5 + 0.5)


def test_a_literal_in_an_integer_operation_is_truncated():
    # pins semantics.md#literal-type
    (x,) = agree(int_literal, [np.array([7, 7], np.int32)])
    assert x.tolist() == [9, 7]


@proc
def too_big(x: i32[1]):
    x[0] = x[0] + 1e10


def test_a_literal_that_does_not_fit_integer_data_is_an_error():
    # pins semantics.md#float-to-int
    with pytest.raises(KnitTypeError, match="does not fit i32"):
        compile_procs_to_strings([too_big], "t.h")
    with pytest.raises(ArgumentError, match="out of range"):
        too_big.interpret(np.zeros(1, np.int32))


@proc
def reduce_into_int(x: i32[1], e: f32[1]):
    x[0] += e[0]


def test_reducing_a_float_into_an_int_converts_the_sum():
    # pins semantics.md#round-at-store (C converted e first: 7 + (int)-0.5 = 7)
    x, _ = agree(reduce_into_int, [np.array([7], np.int32), np.array([-0.5], np.float32)])
    assert x[0] == 6


@proc
def reduce_into_f32(x: f32[1], e: f64[1]):
    x[0] += e[0]


def test_reducing_a_double_into_a_float_rounds_the_sum_once():
    # pins semantics.md#round-at-store
    x, _ = agree(reduce_into_f32, [np.array([1.0], np.float32), np.array([2.0**-24 + 2.0**-50])])
    assert x[0] == np.float32(1.0 + 2.0**-23)  # (float)(1 + e); (float)e first gives 1.0


@proc
def wraps(x: i32[2]):
    x[0] = x[0] * 2 / 2
    x[1] = x[1] + 1


def test_integer_data_wraps_in_32_bits():
    # pins semantics.md#int-arith (without -fwrapv gcc folds x * 2 / 2 to x)
    (x,) = agree(wraps, [np.array([2**30, 2**31 - 1], np.int32)])
    assert x.tolist() == [-(2**30), -(2**31)]


@proc
def divides(x: i32[1], y: i32[1]):
    x[0] = x[0] / y[0]


def test_integer_division_overflow_is_an_error():
    # pins semantics.md#int-arith
    (x, _) = run(divides, [np.array([-7], np.int32), np.array([2], np.int32)], "interp")
    assert x[0] == -3  # toward zero
    with pytest.raises(ArgumentError, match="integer division overflows"):
        divides.interpret(np.array([-(2**31)], np.int32), np.array([-1], np.int32))


@proc
def to_i8(x: f32[1], z: i8[1]):
    z[0] = x[0]


def test_a_float_out_of_the_integer_range_is_an_error():
    # pins semantics.md#float-to-int (main wrapped 200.5 to -56; C leaves it undefined)
    (_, z) = agree(to_i8, [np.array([-99.9], np.float32), np.zeros(1, np.int8)])
    assert z[0] == -99
    with pytest.raises(ArgumentError, match="converting 200 to int8 is undefined"):
        to_i8.interpret(np.array([200.5], np.float32), np.zeros(1, np.int8))


@proc
def halves(N: size, a: f16[N], b: f16[N], c: f16[N], o: f16[N]):
    for i in seq(0, N):
        o[i] = a[i] * b[i] + c[i]


def test_every_f16_operation_rounds_to_f16():
    # pins semantics.md#f16 (gcc computed _Float16 in float: 55 of 64 results differed)
    rng = np.random.default_rng(1)
    a, b, c = (rng.standard_normal(64).astype(np.float16) for _ in range(3))
    *_, o = agree(halves, [a, b, c, np.zeros(64, np.float16)])
    np.testing.assert_array_equal(o, (a * b) + c)  # NumPy rounds each float16 operation


@proc
def fma_shape(N: size, a: f32[N], b: f32[N], c: f32[N], o: f32[N]):
    for i in seq(0, N):
        o[i] = a[i] * b[i] + c[i]


def test_a_product_and_a_sum_are_not_fused():
    # pins semantics.md#no-contraction (-O3 -march=native made an FMA of it)
    a = np.full(16, 1 + 2.0**-12, np.float32)
    c = np.full(16, -(1 + 2.0**-11), np.float32)
    *_, o = agree(fma_shape, [a, a.copy(), c, np.zeros(16, np.float32)])
    assert (o == 0).all()  # a fused a*a+c gives 2^-24
