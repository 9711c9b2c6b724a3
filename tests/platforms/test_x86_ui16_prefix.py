"""knit.platforms.x86's ui16 and prefix-f32 instructions (avx2_ui16_prefix.py), beyond
check_instr's randomized comparison (test_check_instr.py covers every instr): the
divide-by-3 trick on every 16-bit value, the wrapping add at the top of the range, the
prefix forms keeping the lanes past `bound`, and `replace` finding them in plain loops.
Compiled natively where the CPU has AVX2, else through SIMDe."""

from __future__ import annotations

import numpy as np
import pytest
from test_x86_compiled import avx2_mode, compiled

from knit import proc
from knit.errors import SchedulingError
from knit.platforms.x86 import (
    AVX2,
    avx2_ui16_divide_by_3,
    mm256_add_epi16,
    mm256_loadu_ps,
    mm256_loadu_si256,
    mm256_prefix_add_ps,
    mm256_prefix_broadcast_ss,
    mm256_prefix_div_ps,
    mm256_prefix_mul_ps,
    mm256_prefix_sub_ps,
    mm256_storeu_ps,
    mm256_storeu_si256,
)
from knit.stdlib.scheduling import replace, replace_all


@proc
def thirds(n: size, x: ui16[n, 16], y: ui16[n, 16], s: ui16[n, 16], q: ui16[n, 16]):
    for k in seq(0, n):
        a: ui16[16] @ AVX2
        b: ui16[16] @ AVX2
        c: ui16[16] @ AVX2
        mm256_loadu_si256(a, x[k, :])
        mm256_loadu_si256(b, y[k, :])
        mm256_add_epi16(c, a, b)
        mm256_storeu_si256(s[k, :], c)
        avx2_ui16_divide_by_3(c, a)
        mm256_storeu_si256(q[k, :], c)


def test_divide_by_3_is_the_floor_quotient_of_every_ui16_and_add_wraps():
    x = np.arange(1 << 16, dtype=np.uint16).reshape(-1, 16)
    y = np.flip(x).copy()  # sums from 0 + 65535 up: every row has carries
    y[-1] = 65535  # and 65535 + 65535 wraps to 65534
    s, q = np.zeros_like(x), np.zeros_like(x)
    compiled(thirds, avx2_mode())(n=x.shape[0], x=x, y=y, s=s, q=q)
    np.testing.assert_array_equal(q, x // 3)
    np.testing.assert_array_equal(s, ((x.astype(np.uint32) + y) % (1 << 16)).astype(np.uint16))
    # the interpreter (the bodies' meaning) agrees, on the extreme rows
    rows = np.r_[0:2, -2:0]
    si, qi = np.zeros((4, 16), np.uint16), np.zeros((4, 16), np.uint16)
    thirds.interpret(n=4, x=x[rows].copy(), y=y[rows].copy(), s=si, q=qi)
    np.testing.assert_array_equal(qi, q[rows])
    np.testing.assert_array_equal(si, s[rows])


@proc
def prefix_ops(m: size, x: f32[8], y: f32[8], v: f32[1], o: f32[5, 8]):
    assert m <= 8
    a: f32[8] @ AVX2
    b: f32[8] @ AVX2
    c: f32[5, 8] @ AVX2
    mm256_loadu_ps(a, x)
    mm256_loadu_ps(b, y)
    for r in seq(0, 5):
        mm256_loadu_ps(c[r, :], o[r, :])  # the lanes past m must come back unchanged
    mm256_prefix_add_ps(c[0, :], a, b, m)
    mm256_prefix_sub_ps(c[1, :], a, b, m)
    mm256_prefix_mul_ps(c[2, :], a, b, m)
    mm256_prefix_div_ps(c[3, :], a, b, m)
    mm256_prefix_broadcast_ss(c[4, :], v, m)
    for r in seq(0, 5):
        mm256_storeu_ps(o[r, :], c[r, :])


@pytest.mark.parametrize("m", [1, 3, 7, 8])
def test_prefix_forms_write_the_first_lanes_and_keep_the_rest(m):
    rng = np.random.default_rng(m)
    x = rng.standard_normal(8).astype(np.float32)
    y = (rng.standard_normal(8) + 3).astype(np.float32)
    v = np.array([2.5], np.float32)
    old = np.full((5, 8), -7.0, np.float32)
    want = old.copy()
    want[:, :m] = np.stack([x + y, x - y, x * y, x / y, np.repeat(v, 8)])[:, :m]
    for run in (prefix_ops.interpret, compiled(prefix_ops, avx2_mode())):
        o = old.copy()
        run(m=m, x=x, y=y, v=v, o=o)
        np.testing.assert_array_equal(o, want)


def test_replace_finds_the_ui16_division_and_keeps_the_meaning():
    @proc
    def third(x: ui16[16], q: ui16[16]):
        a: ui16[16] @ AVX2
        b: ui16[16] @ AVX2
        for i in seq(0, 16):
            a[i] = x[i]
        for i in seq(0, 16):
            b[i] = a[i] / 3.0
        for i in seq(0, 16):
            q[i] = b[i]

    vec = replace_all(third, [mm256_loadu_si256, avx2_ui16_divide_by_3, mm256_storeu_si256])
    assert "avx2_ui16_divide_by_3(b[0:16], a[0:16])" in str(vec)
    assert "for i" not in str(vec)
    x = np.array([0, 1, 2, 3, 5, 6, 299, 300, 301, 32767, 32768, 40000, 65533, 65534,
                  65535, 7], np.uint16)
    for run in (third.interpret, vec.interpret, compiled(vec, avx2_mode())):
        q = np.zeros(16, np.uint16)
        run(x=x, q=q)
        np.testing.assert_array_equal(q, x // 3)


def test_replace_refuses_a_division_by_another_constant():
    @proc
    def fifth(x: ui16[16] @ AVX2, q: ui16[16] @ AVX2):
        for i in seq(0, 16):
            q[i] = x[i] / 5.0

    with pytest.raises(SchedulingError, match="does not match the body of "
                       "avx2_ui16_divide_by_3: the constants 3.0 and 5.0 differ"):
        replace(fifth, fifth.find_loop("i"), avx2_ui16_divide_by_3)
