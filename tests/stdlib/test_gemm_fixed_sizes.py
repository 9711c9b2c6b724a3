"""schedule_gemm on a GEMM whose sizes are written as numbers (`for i in seq(0, 64)`),
all or some of them, or as expressions (`seq(0, M + 1)`): the nest becomes a call of
the kernel scheduled for M, N and K as parameters, with the numbers or expressions
found by unification. (Before, the schedule's steps met numbers' edges as loops of no
iteration and refused them as code that never runs, and expressions' twins as
conditions that cannot all hold.)"""

from __future__ import annotations

import numpy as np
import pytest
from test_gemm import needs

from knit import proc
from knit.errors import SchedulingError
from knit.stdlib import gemm as G
from tests.helpers.targets import check_equiv_here


@proc
def fixed(A: f32[72, 100], B: f32[100, 37], C: f32[72, 37]):
    for i in seq(0, 72):
        for j in seq(0, 37):
            for k in seq(0, 100):
                C[i, j] += A[i, k] * B[k, j]


@proc
def some_fixed(M: size, A: f64[M, 300], B: f64[300, 40], C: f64[M, 40]):
    for i in seq(0, M):
        for j in seq(0, 40):
            for k in seq(0, 300):
                C[i, j] += A[i, k] * B[k, j]


@proc
def fixed_windows(A: [f32][16, 16], B: [f32][16, 16], C: [f32][16, 16]):
    for i in seq(0, 16):
        for j in seq(0, 16):
            for k in seq(0, 16):
                C[i, j] += A[i, k] * B[k, j]


@pytest.mark.parametrize("threads", [1, 2])
def test_all_sizes_numbers(threads):
    q = G.schedule_gemm(fixed, "avx512", threads=threads, sequential_upto=0)
    text = str(q)
    # the user's signature, the nest now a call of the kernel for M, N, K given
    assert text.startswith("def fixed(A: f32[72, 100] @ DRAM, B: f32[100, 37] @ DRAM")
    kernel = "gemm_f32_avx512" if threads == 1 else "gemm_f32_avx512_2t_upto0"
    assert f"{kernel}(72, 37, 100, A[0:72, 0:100], B[0:100, 0:37], C[0:72, 0:37])" in text
    c = q.c_code_str()  # the scheduled kernel (its twins), not plain loops
    assert "gemm_ukernel_f32_8x32_avx512(" in c and ("#pragma omp" in c) == (threads == 2)
    needs("avx512")
    rng = np.random.default_rng(1)
    A = rng.standard_normal((72, 100)).astype("f4")
    B = rng.standard_normal((100, 37)).astype("f4")
    C = rng.standard_normal((72, 37)).astype("f4")
    want = C.astype("f8") + A.astype("f8") @ B.astype("f8")
    q.compile()(A=A, B=B, C=C)
    assert np.abs(C - want).max() < 1e-3


def test_some_sizes_numbers_are_equivalent_to_the_plain_proc():
    q = G.schedule_gemm(some_fixed, "avx512", threads=1)
    report = check_equiv_here(some_fixed, q, "avx512", trials=2, sizes={"M": [1, 9, 17]})
    assert report.trials == 2
    needs("avx512")
    rng = np.random.default_rng(2)
    for m in (1, 8, 23):
        A, B = rng.standard_normal((m, 300)), rng.standard_normal((300, 40))
        C = rng.standard_normal((m, 40))
        want = C + A @ B
        q.compile()(M=m, A=A, B=B, C=C)
        assert np.abs(C - want).max() < 1e-10


@proc
def sized_by_expressions(M: size, N: size, K: size, A: f32[M + 1, K], B: f32[K, 2 * N],
                         C: f32[M + 1, 2 * N]):
    for i in seq(0, M + 1):
        for j in seq(0, 2 * N):
            for k in seq(0, K):
                C[i, j] += A[i, k] * B[k, j]


@pytest.mark.parametrize("threads", [1, 2])
def test_sizes_written_as_expressions(threads):
    q = G.schedule_gemm(sized_by_expressions, "avx512", threads=threads)
    kernel = "gemm_f32_avx512" if threads == 1 else "gemm_f32_avx512_2t"
    assert f"{kernel}(1 + M, 2 * N, K, A[0:1 + M, 0:K]" in str(q)
    assert check_equiv_here(sized_by_expressions, q, "avx512", trials=3).trials == 3
    needs("avx512")
    f = q.compile()
    rng = np.random.default_rng(threads)
    for m, n, k in ((1, 1, 1), (5, 7, 3), (70, 33, 90), (300, 150, 20)):
        A = rng.standard_normal((m + 1, k)).astype("f4")
        B = rng.standard_normal((k, 2 * n)).astype("f4")
        C = rng.standard_normal((m + 1, 2 * n)).astype("f4")
        want = C.astype("f8") + A.astype("f8") @ B.astype("f8")
        f(M=m, N=n, K=k, A=A, B=B, C=C)
        assert np.abs(C - want).max() < 1e-3, (m, n, k)


def test_windows_without_unit_strides_are_refused_with_the_reason():
    # the vector loads need each row's elements side by side: a window whose last
    # stride nothing asserts cannot take the kernel
    with pytest.raises(SchedulingError, match="stride"):
        G.schedule_gemm(fixed_windows, "avx512", threads=1)


@proc
def square(N: size, A: f32[N, N], B: f32[N, N], C: f32[N, N]):
    for i in seq(0, N):
        for j in seq(0, N):
            for k in seq(0, N):
                C[i, j] += A[i, k] * B[k, j]


@proc
def stated(M: size, N: size, K: size, A: f32[M, K], B: f32[K, N], C: f32[M, N]):
    assert N % 16 == 0
    assert K >= 2
    for i in seq(0, M):
        for j in seq(0, N):
            for k in seq(0, K):
                C[i, j] += A[i, k] * B[k, j]


@proc
def named_like_the_schedule(M: size, jo: size, ko: size, A: f32[M, ko], B: f32[ko, jo],
                            C: f32[M, jo]):
    for t in seq(0, M):
        for ji in seq(0, jo):
            for k in seq(0, ko):
                C[t, ji] += A[t, k] * B[k, ji]


CASES = {  # proc, M N K of each run (from the names its sizes have)
    "square": (square, lambda m, n, k: {"N": m}, lambda m, n, k: (m, m, m)),
    "stated": (stated, lambda m, n, k: {"M": m, "N": 16 * n, "K": k + 1},
               lambda m, n, k: (m, 16 * n, k + 1)),
    "names": (named_like_the_schedule, lambda m, n, k: {"M": m, "jo": n, "ko": k},
              lambda m, n, k: (m, n, k)),
}


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("threads", [1, 2])
def test_one_size_for_two_loops_assertions_and_the_schedules_names(case, threads):
    # a square GEMM (one size for the three loops), assertions on the sizes, sizes and
    # loops named as the schedule names its own: with threads, each was refused inside
    # the schedule ("this code never runs", or a size captured by a loop of its own);
    # the nest is now a call of the kernel for M, N, K, found by unification
    p, args, mnk = CASES[case]
    q = G.schedule_gemm(p, "avx512", threads=threads)
    assert check_equiv_here(p, q, "avx512", trials=2).trials == 2
    needs("avx512")
    f = q.compile()
    rng = np.random.default_rng(threads)
    for m, n, k in ((1, 1, 1), (9, 3, 17), (70, 5, 90), (300, 13, 20)):
        mm, nn, kk = mnk(m, n, k)
        A = rng.standard_normal((mm, kk)).astype("f4")
        B = rng.standard_normal((kk, nn)).astype("f4")
        C = rng.standard_normal((mm, nn)).astype("f4")
        want = C.astype("f8") + A.astype("f8") @ B.astype("f8")
        f(**args(m, n, k), A=A, B=B, C=C)
        assert np.abs(C - want).max() < 1e-3, (case, m, n, k)
