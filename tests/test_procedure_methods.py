"""Procedure methods of the contract: partial_eval, transpose, add_assertion, is_eq."""

from __future__ import annotations

import numpy as np
import pytest

import knit
from knit import SchedulingError, proc
from knit.stdlib.scheduling import divide_loop


@proc
def scale(N: size, M: size, A: f32[N, M] @ DRAM, B: f32[N, M] @ DRAM):
    for i in seq(0, N):
        for j in seq(0, M):
            B[i, j] = 2.0 * A[i, j]


def test_partial_eval_fixes_sizes():
    p = scale.partial_eval(M=4)
    assert str(p).startswith("def scale(N: size, A: f32[N, 4] @ DRAM, B: f32[N, 4] @ DRAM)")
    A = np.arange(12, dtype="f4").reshape(3, 4)
    B = np.zeros_like(A)
    p.compile()(A=A, B=B)
    assert np.array_equal(B, 2 * A)
    q = scale.partial_eval(3, 4)
    assert "N" not in str(q).splitlines()[0]


def test_partial_eval_refuses_bad_values():
    with pytest.raises(SchedulingError, match="not a valid size"):
        scale.partial_eval(M=0)
    with pytest.raises(SchedulingError, match="no size"):
        scale.partial_eval(K=3)


def test_transpose_swaps_dimensions_and_accesses():
    t = scale.transpose("A")
    assert "A: f32[M, N] @ DRAM" in str(t)
    assert "B[i, j] = 2.0 * A[j, i]" in str(t)
    A = np.random.rand(4, 3).astype("f4")
    B = np.zeros((3, 4), "f4")
    t.compile()(A=A, B=B)
    assert np.allclose(B, 2 * A.T)
    assert not t.is_eq(scale)


def test_add_assertion_enables_a_perfect_divide():
    with pytest.raises(SchedulingError, match="multiple of 4"):
        divide_loop(scale, "j", 4, ["jo", "ji"], perfect=True)
    p = scale.add_assertion("M % 4 == 0")
    q = divide_loop(p, "j", 4, ["jo", "ji"], perfect=True)
    assert q.is_eq(p) and not p.is_eq(scale)
    knit.check_equiv(p, q, trials=2)


def test_unsafe_assert_eq_joins_equivalence_classes():
    p = scale.add_assertion("N >= 1")
    assert not p.is_eq(scale)
    p.unsafe_assert_eq(scale)
    assert p.is_eq(scale)
