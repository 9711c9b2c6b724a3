"""Built-in externs at their edge cases (docs/semantics.md#externs): the interpreter
gives what C's libm gives."""

from __future__ import annotations

import numpy as np
from semcheck import agree

from knit import proc
from knit.libs.externs import expf, fmaxf, relu, select, sigmoid, sin, sqrt

INF, NAN = np.inf, np.nan


@proc
def maxes(N: size, a: f32[N], b: f32[N], o: f32[N]):
    for i in seq(0, N):
        o[i] = fmaxf(a[i], b[i])


def test_fmaxf_ignores_a_nan_operand():
    # pins semantics.md#externs (the interpreter's max(NaN, 1) was NaN)
    a = np.array([NAN, 1, NAN, -INF, 2], np.float32)
    b = np.array([1, NAN, NAN, 3, -0.5], np.float32)
    *_, o = agree(maxes, [a, b, np.zeros(5, np.float32)])
    assert o[:2].tolist() == [1, 1] and np.isnan(o[2]) and o[3:].tolist() == [3, 2]


def test_fmaxf_of_zeros_of_both_signs_is_plus_zero():
    # pins semantics.md#externs (fuzzer case 200986: gcc and clang gave fmax(-0.0, 0.0)
    # as -0.0, the interpreter 0.0; C leaves the sign unspecified, knit defines it)
    a = np.array([-0.0, 0.0, -0.0, 0.0, -0.0, NAN, -0.0], np.float32)
    b = np.array([0.0, -0.0, -0.0, 0.0, NAN, -0.0, -1], np.float32)
    *_, o = agree(maxes, [a, b, np.zeros(7, np.float32)])
    assert np.signbit(o).tolist() == [False, False, True, False, True, True, True]
    assert (o == 0).all()


@proc
def maxes_mixed(N: size, a: f64[N], b: f16[N], c: i32[N], o: f64[N], p: f16[N], q: i32[N]):
    for i in seq(0, N):
        o[i] = fmaxf(a[i], -a[i])
        p[i] = fmaxf(b[i], -b[i])
        q[i] = fmaxf(c[i], 0.0)


def test_fmaxf_of_zeros_in_every_type():
    # pins semantics.md#externs: the same rule computed in double, f16 and integers
    a = np.array([0.0, -0.0, NAN, -2], np.float64)
    c = np.array([-3, 0, 2**31 - 1, -(2**31)], np.int32)
    *_, o, p, q = agree(maxes_mixed, [a, a.astype(np.float16), c, np.zeros(4), np.zeros(4, np.float16),
                                     np.zeros(4, np.int32)])
    assert not np.signbit(o[:2]).any() and not np.signbit(p[:2]).any()
    assert o[3] == 2 and p[3] == 2 and q.tolist() == [0, 0, 2**31 - 1, 0]


@proc
def roots(N: size, x: f32[N], y: f64[N], o: f32[N], p: f64[N]):
    for i in seq(0, N):
        o[i] = sqrt(x[i])
        p[i] = sqrt(y[i])


def test_sqrt_of_a_negative_is_nan():
    # pins semantics.md#externs (the interpreter raised a math domain error)
    x = np.array([-1, -0.0, INF, 2, NAN, 1e-45], np.float32)
    *_, o, p = agree(roots, [x, x.astype(np.float64), np.zeros(6, np.float32), np.zeros(6)])
    assert np.isnan(o[0]) and np.isnan(p[0]) and np.signbit(o[1]) and o[2] == INF


@proc
def exps(N: size, x: f64[N], o: f64[N], s: f64[N]):
    for i in seq(0, N):
        o[i] = expf(x[i])
        s[i] = sigmoid(x[i])


def test_exp_overflow_is_infinity_and_sigmoid_saturates():
    # pins semantics.md#externs (the interpreter raised OverflowError as an ArgumentError)
    x = np.array([1000, -1000, INF, -INF, NAN, 0.0])
    _, o, s = agree(exps, [x, np.zeros(6), np.zeros(6)])
    assert o[:4].tolist() == [INF, 0, INF, 0] and np.isnan(o[4])
    assert s[:4].tolist() == [1, 0, 1, 0] and s[5] == 0.5


@proc
def choices(N: size, x: f32[N], v: f32[N], o: f32[N], r: f32[N]):
    for i in seq(0, N):
        o[i] = select(x[i], v[i], 1.0, 2.0)
        r[i] = relu(x[i])


def test_select_and_relu_on_nan_and_negative_zero():
    # pins semantics.md#externs (right on main too)
    x = np.array([NAN, -0.0, 1, -1], np.float32)
    v = np.array([0, 0, NAN, 0], np.float32)
    *_, o, r = agree(choices, [x, v, np.zeros(4, np.float32), np.zeros(4, np.float32)])
    assert o.tolist() == [2, 2, 2, 1]
    assert r[0] == 0 and not np.signbit(r[1]) and r[2:].tolist() == [1, 0]


@proc
def half_max(N: size, a: f16[N], b: f16[N], c: f16[N], o: f16[N]):
    for i in seq(0, N):
        o[i] = fmaxf(a[i], b[i]) * c[i] + c[i]


def test_an_extern_on_f16_returns_an_f16():
    # pins semantics.md#externs and #f16 (C multiplied libm's double result in double)
    rng = np.random.default_rng(2)
    a, b, c = (rng.standard_normal(64).astype(np.float16) for _ in range(3))
    *_, o = agree(half_max, [a, b, c, np.zeros(64, np.float16)])
    np.testing.assert_array_equal(o, np.fmax(a, b) * c + c)


@proc
def int_exp(N: size, c: i8[N], x: f32[N], o: f32[N]):
    for i in seq(0, N):
        o[i] = expf(c[i]) * x[i]


def test_an_extern_on_integers_gives_a_32_bit_int():
    # pins semantics.md#externs (C converted exp(5) = 148.4 to int8_t, the interpreter to int)
    c = np.array([5, 0, -3, 2], np.int8)
    *_, o = agree(int_exp, [c, np.full(4, 0.5, np.float32), np.zeros(4, np.float32)])
    assert o.tolist() == [74, 0.5, 0, 3.5]


@proc
def int_sigmoid(N: size, A: i32[N]):
    for k in seq(0, N):
        A[k] += sigmoid(A[k])


def test_sigmoid_of_int_min_negates_in_floating_point():
    # pins semantics.md#externs: the argument converts to double before `-x`; the C
    # negated the int, and -INT_MIN overflowed (fuzzer case 100205: 1 compiled, 0 here)
    a = np.array([-2**31, -5, 0, 7], np.int32)
    (out,) = agree(int_sigmoid, [a])
    assert out.tolist() == [-2**31, -5, 0, 7]


@proc
def f32_libm(N: size, x: f32[N], s: f32[N], e: f32[N], g: f32[N]):
    for i in seq(0, N):
        s[i] = sin(x[i])
        e[i] = expf(x[i])
        g[i] = sigmoid(x[i])


def test_f32_libm_functions_agree_bit_for_bit():
    # pins semantics.md#externs: libm in double, rounded once (sinf/expf are not
    # correctly rounded: fuzzer case 100605 saw sin differ by an ulp)
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.uniform(-20, 20, 4000), rng.uniform(-1, 1, 4000)]).astype(np.float32)
    zeros = [np.zeros_like(x) for _ in range(3)]
    _, s, e, g = agree(f32_libm, [x, *zeros])
    assert s.dtype == np.float32 and np.isfinite(s).all()
