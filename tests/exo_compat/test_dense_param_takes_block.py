"""A dense-tensor parameter takes a window that is one contiguous row-major block of a
dense buffer (as Exo accepts `foo(tmp[0, 0, :], A[i:i + 2])`); other windows are
refused, since the callee indexes its parameter with its own row-major strides."""

from __future__ import annotations

import numpy as np
import pytest

from knit import proc
from knit.errors import KnitTypeError


@proc
def add_pair(dst: i8[2], src: i8[2]):
    dst[0] += src[0]
    dst[1] += src[1]


@proc
def add_rows(M: f32[3, 4], out: f32[4]):
    for i in seq(0, 3):
        for j in seq(0, 4):
            out[j] += M[i, j]


@proc
def blocks(n: size, A: i8[n], B: f32[2, 3, 4], out: f32[4]):
    assert n > 4
    tmp: i8[3, 2, 2]
    for k in seq(0, 2):
        tmp[1, 0, k] = 1.0
    for i in seq(0, n - 2):
        add_pair(A[i:i + 2], tmp[1, 0, :])  # a row of tmp, a slice of A
    add_rows(B[1, 0:3, 0:4], out)  # every dimension after the first slice whole


def test_contiguous_blocks_compile_and_run_like_the_interpreter():
    c = blocks.c_code_str()
    assert "add_pair(ctxt, &A[i], &tmp[4]);" in c
    assert "add_rows(ctxt, &B[12], out);" in c
    A = np.arange(8, dtype=np.int8)
    B = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    out1, out2 = np.zeros(4, np.float32), np.zeros(4, np.float32)
    A1, A2 = A.copy(), A.copy()
    blocks.interpret(8, A1, B, out1)
    blocks.compile()(8, A2, B, out2)
    np.testing.assert_array_equal(A1, A2)
    np.testing.assert_array_equal(out1, out2)
    np.testing.assert_array_equal(out1, B[1].sum(axis=0))


def test_a_partial_inner_dimension_is_refused():
    with pytest.raises(KnitTypeError, match="argument 'M' of add_rows is a dense tensor; "
                       "cannot pass a window that is not one contiguous block"):
        @proc
        def f(B: f32[2, 3, 8], out: f32[4]):
            add_rows(B[0, 0:3, 0:4], out)


def test_a_window_of_a_window_is_refused():
    with pytest.raises(KnitTypeError, match="argument 'dst' of add_pair is a dense tensor; "
                       "cannot pass a window that is not one contiguous block"):
        @proc
        def f(A: [i8][4], B: i8[2]):
            add_pair(A[0:2], B)
