"""f16 operations with an integer operand (docs/semantics.md#f16, #mixed-precision,
#round-at-store): the integer is rounded to f16 first, every f16 operation rounds to
f16, and `x += e` adds in f16 whichever side is the integer. gcc and clang evaluate
`_Float16` in float, so C that leaves these conversions implicit computes something
else (fuzzer cases 300095 and 201417)."""

from __future__ import annotations

import numpy as np
from semcheck import agree

from knit import proc
from knit.libs.externs import sqrt


@proc
def int_plus_half(N: size, A: i32[N], B: f16[N]):
    for i in seq(0, N):
        A[i] += B[i]


def test_int_accumulator_adds_in_f16():
    # pins semantics.md#round-at-store and #f16 (fuzzer case 300095: gcc added in float,
    # -2 + 6.1e-05 truncated to -1 instead of rounding to f16 -2.0 first)
    A = np.array([-2, -2, 2049, 7, 1000], np.int32)
    B = np.array([6.104e-05, -0.0455, 0.5, 1, 0.25], np.float16)
    want = agree(int_plus_half, [5, A, B])
    np.testing.assert_array_equal(want[1], [-2, -2, 2048, 8, 1000])


@proc
def half_plus_int(N: size, A: f16[N], B: i32[N]):
    for i in seq(0, N):
        A[i] += B[i]


def test_int_operand_of_f16_sum_rounds_to_f16_first():
    # pins semantics.md#mixed-precision and #f16 (fuzzer case 201417: gcc converted the
    # i32 to float, so INT_MAX + -INT_MAX was finite; in f16 both are infinite: NaN)
    A = np.array([0.5, np.inf, 0, -1], np.float16)
    B = np.array([2049, -(2**31), 2**31 - 1, 70000], np.int32)
    want = agree(half_plus_int, [4, A, B])
    got = want[1]
    assert got[0] == 2048  # 2049 rounds to 2048 (ties to even), + 0.5 rounds back
    assert np.isnan(got[1])  # inf + -inf
    assert got[2] == np.inf and got[3] == np.inf  # beyond 65504: inf


@proc
def half_expr(N: size, A: f16[N], B: i32[N], C: f16[N]):
    for i in seq(0, N):
        C[i] = B[i] * A[i] + sqrt(B[i] + A[i])


def test_int_operand_inside_f16_expressions():
    # pins semantics.md#f16 and #externs: each integer operand is rounded to f16
    A = np.array([3, 1, -1, 0.25], np.float16)
    B = np.array([2049, 4097, 3, 70000], np.int32)
    want = agree(half_expr, [4, A, B, np.zeros(4, np.float16)])
    with np.errstate(over="ignore"):
        b = B.astype(np.float16)
    np.testing.assert_array_equal(want[3], b * A + np.sqrt(b + A))
