"""vectorize and auto_stage_mem (knit.stdlib.stdlib): the staged and vectorized code,
its equivalence to the original (interpreter and C), and refusals."""

from __future__ import annotations

import pytest
from scheduling_checks import assert_body, equiv, refused

from knit import DRAM, proc
from knit.platforms.x86 import (
    AVX2,
    mm256_broadcast_ss_scalar,
    mm256_fmadd_ps,
    mm256_loadu_ps,
    mm256_storeu_ps,
)
from knit.stdlib.stdlib import (
    auto_stage_mem,
    fma_rule,
    parallelize_reduction,
    set_memory,
    vectorize,
)


@proc
def axpy(n: size, x: f32[n], y: f32[n], a: f32):
    assert n % 8 == 0
    for i in seq(0, n):
        y[i] += a * x[i]


def test_vectorize_stages_each_operation_into_vectors():
    p = vectorize(axpy, axpy.find_loop("i"), 8, "f32", AVX2, rules=[fma_rule], tail="cut")
    assert_body(p, """
        assert n % 8 == 0
        for io in seq(0, n / 8):
            var0: f32[8] @ AVX2
            var1: f32[8] @ AVX2
            var2: f32[8] @ AVX2
            var3: f32[8] @ AVX2
            for ii in seq(0, 8):
                var1[ii] = y[8 * io + ii]
            for ii in seq(0, 8):
                var2[ii] = a
            for ii in seq(0, 8):
                var3[ii] = x[8 * io + ii]
            for ii in seq(0, 8):
                var0[ii] = var1[ii] + var2[ii] * var3[ii]
            for ii in seq(0, 8):
                y[8 * io + ii] = var0[ii]
        for ii in seq(0, n % 8):
            y[ii + n / 8 * 8] += a * x[ii + n / 8 * 8]""")


def test_vectorize_with_instructions_is_equivalent():
    instrs = [mm256_loadu_ps, mm256_storeu_ps, mm256_fmadd_ps, mm256_broadcast_ss_scalar]
    p = vectorize(axpy, axpy.find_loop("i"), 8, "f32", AVX2, instructions=instrs,
                  rules=[fma_rule], tail="cut")
    text = str(p)
    for name in ("mm256_loadu_ps", "mm256_storeu_ps", "mm256_broadcast_ss_scalar"):
        assert name in text, text
    # y lives in DRAM, so its staged copy and the sum are different vectors: as in Exo,
    # `var0 = var1 + var2 * var3` stays, as fmadd reduces into its destination
    assert "var0[ii] = var1[ii] + var2[ii] * var3[ii]" in text


def test_vectorize_into_dram_is_equivalent():
    # the same staging with ordinary memory runs, so it can be compared with the original
    p = vectorize(axpy, axpy.find_loop("i"), 8, "f32", DRAM, rules=[fma_rule], tail="cut")
    assert "var0" not in str(p)  # as in Exo: what is already in DRAM is not staged
    equiv(axpy, p, sizes={"n": 16})
    p = vectorize(axpy, axpy.find_loop("i"), 8, "f32", DRAM, tail="cut_and_predicate")
    equiv(axpy, p, sizes={"n": 16})


@proc
def acc_axpy(x: f32[8, 8], a: f32[8]):
    acc: f32[8]
    for j in seq(0, 8):
        acc[j] = 0.0
    for i in seq(0, 8):
        for j in seq(0, 8):
            acc[j] += a[i] * x[i, j]
    for j in seq(0, 8):
        x[0, j] = acc[j]


def test_vectorize_uses_fmadd_for_an_accumulator_in_registers():
    # as Exo's SGEMM schedule: the accumulator already lives in vector registers, so
    # the staged sum folds back into a reduction that the FMA instruction matches
    instrs = [mm256_loadu_ps, mm256_fmadd_ps, mm256_broadcast_ss_scalar]
    p = set_memory(acc_axpy, "acc", AVX2)
    p = vectorize(p, p.find_loop("i").body()[0], 8, "f32", AVX2, instructions=instrs,
                  rules=[fma_rule],
                  tail="cut")
    assert "mm256_fmadd_ps(acc[8 * jo + 0:8 * jo + 8], var0[0:8], var1[0:8])" in str(p), str(p)


@proc
def mm(M: size, K: size, A: f32[M, K], B: f32[K, 8], C: f32[M, 8]):
    assert M % 4 == 0
    for i in seq(0, M / 4):
        for k in seq(0, K):
            for ii in seq(0, 4):
                for j in seq(0, 8):
                    C[4 * i + ii, j] += A[4 * i + ii, k] * B[k, j]


def test_auto_stage_mem_finds_the_tile():
    p = auto_stage_mem(mm, mm.find_loop("k"), "C", "C_reg")
    assert_body(p, """
        assert M % 4 == 0
        for i in seq(0, M / 4):
            C_reg: f32[4, 8] @ DRAM
            for i0 in seq(0, 4):
                for i1 in seq(0, 8):
                    C_reg[i0, i1] = C[4 * i + 0 + i0, i1]
            for k in seq(0, K):
                for ii in seq(0, 4):
                    for j in seq(0, 8):
                        C_reg[4 * i + ii - (4 * i + 0), j] += A[4 * i + ii, k] * B[k, j]
            for i0 in seq(0, 4):
                for i1 in seq(0, 8):
                    C[4 * i + 0 + i0, i1] = C_reg[i0, i1]""")
    equiv(mm, p, sizes={"M": 8, "K": 3})


def test_auto_stage_mem_returns_cursors():
    p, (alloc, load, block, store) = auto_stage_mem(mm, mm.find_loop("ii"), "B", rc=True)
    assert alloc.name() == "var0" and str(alloc.shape()) == "['8']"
    assert load.name() == "i0" and block[0].name() == "ii"
    assert not store  # B is only read: nothing to store back
    equiv(mm, p, sizes={"M": 4, "K": 2})


def test_auto_stage_mem_refuses_an_unknown_buffer():
    refused(lambda: auto_stage_mem(mm, mm.find_loop("k"), "D", "t"),
            "no declaration of 'D' found")


def test_parallelize_reduction_refuses_a_non_reduction():
    @proc
    def rows(x: f32[4, 8], y: f32[4]):
        for i in seq(0, 4):
            for j in seq(0, 8):
                y[i] += x[i, j]

    refused(lambda: parallelize_reduction(rows, rows.find("y[_] += _"), nth_loop=2),
            "isn't a reduction over the specified loop")
    with pytest.raises(TypeError, match="ReduceCursor"):
        parallelize_reduction(rows, rows.find_loop("j"))
