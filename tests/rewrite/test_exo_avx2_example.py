"""Exo's AVX2 SGEMM microkernel schedule, in Exo's own spelling, runs under knit.

The schedule is the one examples/avx2_microkernel.py walks through (C kept in twelve
AVX2 registers over the k loop, B loaded two vectors at a time, A broadcast, FMAs), but
written the way an Exo user writes it: star imports of the platform and the scheduling
library, patterns such as "C_reg:_", "for k in _:_", "for i0 in _: _ #1", separate
replace_all calls, and a cursor taken with `avx.find("A_reg[ji] = _").after()`. The
result's code is checked line by line, and the compiled kernel is run against NumPy and
against the three-loop original."""

from __future__ import annotations

import numpy as np
import pytest
from scheduling_checks import assert_body, body, equiv

import knit
from knit import proc
from knit.platforms.x86 import *  # the spelling under test
from knit.runtime.cpuinfo import flags as cpu_flags
from knit.stdlib.scheduling import *


@proc
def rank_k_reduce_6x16(K: size, A: f32[6, K] @ DRAM, B: f32[K, 16] @ DRAM,
                       C: f32[6, 16] @ DRAM):
    for i in seq(0, 6):
        for j in seq(0, 16):
            for k in seq(0, K):
                C[i, j] += A[i, k] * B[k, j]


def stage_c(avx):
    """Output stationary: k outermost, and the 6x16 tile of C in 6x2 vectors of 8."""
    avx = rename(avx, "rank_k_reduce_6x16_scheduled")
    avx = reorder_loops(avx, "j k")
    avx = reorder_loops(avx, "i k")
    avx = divide_loop(avx, "for j in _: _", 8, ["jo", "ji"], perfect=True)
    avx = stage_mem(avx, "for k in _:_", "C[0:6, 0:16]", "C_reg")
    avx = simplify(avx)
    avx = divide_dim(avx, "C_reg:_", 1, 8)
    avx = repeat(divide_loop)(avx, "for i1 in _: _", 8, ["i2", "i3"], perfect=True)
    return simplify(avx)


def registers_for_c(avx):
    avx = set_memory(avx, "C_reg:_", AVX2)
    avx = replace_all(avx, mm256_loadu_ps)
    avx = replace_all(avx, mm256_storeu_ps)
    return simplify(avx)


def registers_for_b(avx):
    avx = stage_mem(avx, "for i in _:_", "B[k, 0:16]", "B_reg")
    avx = simplify(avx)
    avx = divide_loop(avx, "for i0 in _: _ #1", 8, ["io", "ii"], perfect=True)
    avx = divide_dim(avx, "B_reg:_", 0, 8)
    avx = set_memory(avx, "B_reg:_", AVX2)
    avx = simplify(avx)
    avx = replace_all(avx, mm256_loadu_ps)
    return simplify(avx)


def broadcast_a_and_fma(avx):
    avx = bind_expr(avx, "A[i, k]", "A_reg")
    avx = expand_dim(avx, "A_reg", 8, "ji")
    avx = lift_alloc(avx, "A_reg", n_lifts=2)
    avx = fission(avx, avx.find("A_reg[ji] = _").after(), n_lifts=2)
    avx = remove_loop(avx, "for jo in _: _")
    avx = set_memory(avx, "A_reg:_", AVX2)
    avx = replace_all(avx, mm256_broadcast_ss)
    avx = replace_all(avx, mm256_fmadd_ps)
    return simplify(avx)


@pytest.fixture(scope="module")
def phases():
    c = stage_c(rank_k_reduce_6x16)
    regs_c = registers_for_c(c)
    regs_b = registers_for_b(regs_c)
    return c, regs_c, regs_b, broadcast_a_and_fma(regs_b)


def test_staging_c_keeps_the_meaning_before_any_register(phases):
    c = phases[0]
    assert_body(c, """
        C_reg: f32[6, 2, 8] @ DRAM
        for i0 in seq(0, 6):
            for i2 in seq(0, 2):
                for i3 in seq(0, 8):
                    C_reg[i0, i2, i3] = C[i0, i3 + 8 * i2]
        for k in seq(0, K):
            for i in seq(0, 6):
                for jo in seq(0, 2):
                    for ji in seq(0, 8):
                        C_reg[i, jo, ji] += A[i, k] * B[k, ji + 8 * jo]
        for i0 in seq(0, 6):
            for i2 in seq(0, 2):
                for i3 in seq(0, 8):
                    C[i0, i3 + 8 * i2] = C_reg[i0, i2, i3]
    """)
    equiv(rank_k_reduce_6x16, c, trials=2)


def test_the_registers_for_c_and_b_are_filled_by_vector_loads(phases):
    regs_c, regs_b = phases[1], phases[2]
    assert "mm256_loadu_ps(C_reg[i0, i2, 0:8], C[i0, 8 * i2:8 + 8 * i2])" in body(regs_c)
    assert "mm256_storeu_ps(C[i0, 8 * i2:8 + 8 * i2], C_reg[i0, i2, 0:8])" in body(regs_c)
    assert "mm256_loadu_ps(B_reg[io, 0:8], B[k, 8 * io:8 + 8 * io])" in body(regs_b)
    for p in phases[1:]:
        assert p.is_eq(rank_k_reduce_6x16)


def test_the_whole_schedule_gives_exos_microkernel(phases):
    avx = phases[-1]
    assert avx.name() == "rank_k_reduce_6x16_scheduled"
    assert_body(avx, """
        C_reg: f32[6, 2, 8] @ AVX2
        for i0 in seq(0, 6):
            for i2 in seq(0, 2):
                mm256_loadu_ps(C_reg[i0, i2, 0:8], C[i0, 8 * i2:8 + 8 * i2])
        for k in seq(0, K):
            B_reg: f32[2, 8] @ AVX2
            for io in seq(0, 2):
                mm256_loadu_ps(B_reg[io, 0:8], B[k, 8 * io:8 + 8 * io])
            for i in seq(0, 6):
                A_reg: f32[8] @ AVX2
                mm256_broadcast_ss(A_reg[0:8], A[i, k:1 + k])
                for jo in seq(0, 2):
                    mm256_fmadd_ps(C_reg[i, jo, 0:8], A_reg[0:8], B_reg[jo, 0:8])
        for i0 in seq(0, 6):
            for i2 in seq(0, 2):
                mm256_storeu_ps(C[i0, 8 * i2:8 + 8 * i2], C_reg[i0, i2, 0:8])
    """)
    assert avx.is_eq(rank_k_reduce_6x16)


needs_avx2 = pytest.mark.skipif(not {"avx2", "fma"} <= cpu_flags(),
                                reason="this CPU cannot run AVX2/FMA code")


@needs_avx2
def test_the_compiled_microkernel_matches_numpy(phases):
    avx = phases[-1]
    src = avx.c_code_str()
    assert "_mm256_fmadd_ps(" in src and "_mm256_broadcast_ss(" in src
    run = avx.compile()
    rng = np.random.default_rng(7)
    for K in (1, 5, 64):
        A = rng.uniform(-1, 1, (6, K)).astype(np.float32)
        B = rng.uniform(-1, 1, (K, 16)).astype(np.float32)
        C = rng.uniform(-1, 1, (6, 16)).astype(np.float32)
        want = C.astype(np.float64) + A.astype(np.float64) @ B.astype(np.float64)
        run(K, A, B, C)
        np.testing.assert_allclose(C, want, rtol=1e-4, atol=1e-4 * K)


@needs_avx2
def test_the_compiled_microkernel_agrees_with_the_three_loops(phases):
    knit.check_equiv(rank_k_reduce_6x16, phases[-1], trials=2, interpret=True,
                     sizes={"K": [1, 3, 8]})
