"""knit.stdlib.gemm's GEMV by rows: a GEMM of one column (N = 1) as dot products of
A's rows with B's column, vectorized along k (`knit.stdlib.gemm.gemv`), which the
default kernels choose for N == 1 with at least a register of k (`gemv_by_rows`)."""

from __future__ import annotations

import numpy as np
import pytest
from test_gemm import HAS, PLAIN, callee, check_on_arm, needs, neon_plain, run_against_numpy

import knit
from knit.stdlib import gemm as G
from knit.stdlib.gemm import gemv as GV
from tests.helpers.gemm_text import kernel_of


def lanes(target: str, dtype: str) -> int:
    return G.target(target).isa(dtype).lanes


def gemv_sizes(lanes: int, n: int, seed: int) -> list[tuple[int, int, int]]:
    """M x 1 x K problems: K below, at and around multiples of the lanes (the whole
    registers of k and the rest, element by element), and sampled ones in 1..300."""
    rng = np.random.default_rng(seed)
    ks = [1, lanes - 1, lanes, lanes + 1, 2 * lanes - 1, 3 * lanes + 5]
    out = [(m, 1, k) for m, k in zip([1, 2, 7, 33, 64, 300], ks)]
    return out + [(int(rng.integers(1, 301)), 1, int(rng.integers(1, 301))) for _ in range(n)]


@pytest.mark.parametrize("dtype", ["f32", "f64"])
@pytest.mark.parametrize("threads", [1, 2])
def test_default_kernel_takes_the_gemv_for_one_column(dtype, threads):
    q = G.schedule_gemm(PLAIN[dtype], "avx512", threads=threads)
    name, lane = kernel_of(q).name(), lanes("avx512", dtype)  # (q: a call of it)
    kernel = f"gemm_{dtype}_gemv_avx512" + ("_par" if threads > 1 else "")
    args = "(M, N, K, A[0:M, 0:K], B[0:K, 0:N], C[0:M, 0:N])"
    # with threads, inside the threaded branch (small problems: the one-thread kernel),
    # from a block of rows per thread, and the one-thread GEMV below that
    top = callee(kernel_of(q), f"{name}_par") if threads > 1 else kernel_of(q)
    if threads > 1:
        assert (f"    if N == 1 and {lane} <= K and {threads * GV.ROWS} <= M:\n"
                f"        {kernel}{args}\n    else:\n        if N == 1 and {lane} <= K:\n"
                f"            gemm_{dtype}_gemv_avx512{args}\n        else:\n") in str(top)
    else:
        assert f"    if N == 1 and {lane} <= K:\n        {kernel}{args}\n    else:\n" in str(top)
    gemv = str(callee(top, kernel))
    # B's column copied once; per row a register of partial sums, its lanes summed into C
    assert f"    Bp: {dtype}[K] @ DRAM\n    for i0 in seq(0, K):\n        Bp[i0] = B[i0, 0]" in gemv
    # ROWS rows at once (threads share them out), each a register of partial sums, B's
    # register loaded once for them; the M % ROWS rows left one by one
    rows = GV.ROWS
    assert (f"    for io in {'par' if threads > 1 else 'seq'}(0, M / {rows}):\n"
            f"        acc: {dtype}[{rows}, {lane}] @ AVX512\n") in gemv
    bits = "ps" if dtype == "f32" else "pd"
    assert (f"        for ko in seq(0, K / {lane}):\n            b_reg: {dtype}[{lane}] @ AVX512\n"
            f"            mm512_loadu_{bits}(b_reg[0:{lane}], Bp[") in gemv
    for instr in (f"mm512_setzero_{bits}(acc[ii, 0:{lane}])",
                  f"mm512_fmadd_{bits}(a_reg[0:{lane}], b_reg[0:{lane}], acc[ii, 0:{lane}])",
                  f"mm512_reduce_add_{bits}(acc[ii, 0:{lane}], C[ii + {rows} * io, 0])",
                  f"    for ii in seq(0, M % {rows}):",
                  f"mm512_reduce_add_{bits}(acc[0:{lane}], C[ii + M / {rows} * {rows}, 0])"):
        assert instr in gemv
    assert f"for kl in seq(0, K % {lane}):" in gemv  # the rest of k, element by element


@pytest.mark.parametrize("dtype", ["f32", "f64"])
@pytest.mark.parametrize("threads", [1, 2])
def test_default_kernel_matches_numpy_on_one_column(dtype, threads):
    needs("avx512")
    f = G.schedule_gemm(PLAIN[dtype], "avx512", threads=threads).compile()
    sizes = gemv_sizes(lanes("avx512", dtype), 6, seed=60 + threads)
    sizes += [(m, 1, 2 * lanes("avx512", dtype) + 3) for m in range(1, 2 * GV.ROWS + 2)]
    # (with threads, past the one-thread twin's sizes: the par kernel's rows, and rows
    # fewer than a block per thread)
    sizes += [(400, 1, 300), (3, 1, 700), (7, 1, 700), (8, 1, 700),
              (1000, 1, lanes("avx512", dtype))]
    run_against_numpy(f, dtype, sizes, seed=61)
    run_against_numpy(f, dtype, sizes[::2], strided=True, seed=62)


@pytest.mark.parametrize("dtype", ["f32", "f64"])
@pytest.mark.parametrize("threads", [1, 2])
def test_gemv_kernel_is_equivalent_to_the_plain_one(dtype, threads):
    ref, fast = GV.gemv_kernel(dtype, "avx512", threads)
    assert fast.is_eq(ref)  # derived by checked rewrites only
    lane = lanes("avx512", dtype)
    sizes = {"M": [1, 3, 17], "N": [1], "K": [1, lane - 1, lane, 2 * lane + 3]}
    knit.check_equiv(ref, fast, trials=3, sizes=sizes, compiled=False, interpret=True)
    if HAS["avx512"]:  # compiled too where AVX-512 runs
        assert knit.check_equiv(ref, fast, trials=3, sizes=sizes).trials == 3


@pytest.mark.parametrize("dtype", ["f32", "f64"])
def test_avx2_gemv_matches_numpy(dtype):
    q = G.schedule_gemm(PLAIN[dtype], "avx2", threads=1)
    assert f"gemm_{dtype}_gemv_avx2(" in str(kernel_of(q))
    bits = "ps" if dtype == "f32" else "pd"
    assert f"avx2_assoc_reduce_add_{bits}(" in str(callee(kernel_of(q), f"gemm_{dtype}_gemv_avx2"))
    needs("avx2")
    run_against_numpy(q.compile(), dtype, gemv_sizes(lanes("avx2", dtype), 3, seed=63),
                      seed=64)


@pytest.mark.parametrize("dtype", ["f32", "f64"])
def test_neon_gemv_runs_on_aarch64(dtype):
    q = G.schedule_gemm(neon_plain[dtype], "neon", threads=1)
    lane = lanes("neon", dtype)
    assert f"if N == 1 and {lane} <= K:" in str(kernel_of(q))
    _, fast = GV.gemv_kernel(dtype, "neon", 1)
    assert f"neon_assoc_reduce_add_instr_{lane}x{dtype}(" in str(fast)
    check_on_arm(q, dtype, [(1, 1, lane), (5, 1, 3 * lane + 1), (37, 1, 20)], seed=65)


def test_fewer_k_than_lanes_keep_the_tiles():
    # K < lanes: no whole register of k, the condition sends it to the tiles (whose
    # last columns take one lane): still right
    needs("avx512")
    f = G.schedule_gemm(PLAIN["f32"], "avx512", threads=1).compile()
    run_against_numpy(f, "f32", [(300, 1, 15), (2, 1, 1), (100, 1, 7)], seed=66)
