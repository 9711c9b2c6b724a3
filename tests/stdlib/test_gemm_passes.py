"""Fewer rows than MR (a GEMV at M = 1), and on one thread up to PASS_ROWS_MR MR rows
where B is larger than L2: the product in passes over K_PASS k each
(variants.schedule_k_passes), on one thread; with threads, the columns in chunks shared
out, each chunk in passes (k_passes_by_columns). Checked against NumPy on both sides of
each condition (M = MR - 1 and MR, K below, at and past a pass, the last columns,
windows of larger matrices), and against the plain proc."""

import pytest
from test_gemm import PLAIN, callee, check_on_arm, needs, neon_plain, run_against_numpy

from knit.stdlib import gemm as G
from knit.stdlib.gemm import variants as V
from tests.helpers.gemm_text import kernel_of


def test_passes_have_the_structure():
    q = V.schedule_k_passes(PLAIN["f32"], "avx512")
    text = str(q)
    d = V.K_PASS
    assert f"for ko in seq(0, K / {d}):\n        gemm_f32_small_avx512(M, N, {d}, " in text
    assert f"if K % {d} > 0:\n        gemm_f32_small_avx512(M, N, K % {d}, " in text
    assert q.is_eq(PLAIN["f32"])


@pytest.mark.parametrize("dtype", ["f32", "f64"])
def test_passes_match_numpy(dtype):
    needs("avx512")
    mr = G.target("avx512").isa(dtype).mr
    f = V.schedule_k_passes(PLAIN[dtype], "avx512").compile()
    d = V.K_PASS
    sizes = [(1, 1, 1), (1, 33, d - 1), (1, 100, d), (1, 257, d + 1), (mr - 1, 70, 3 * d + 5),
             (2, 300, 300), (mr, 64, 2 * d), (mr + 3, 17, 29)]
    run_against_numpy(f, dtype, sizes, seed=41)
    run_against_numpy(f, dtype, sizes, strided=True, seed=42)


@pytest.mark.parametrize("dtype", ["f32", "f64"])
def test_one_thread_takes_passes_below_mr_rows(dtype):
    needs("avx512")
    isa = G.target("avx512").isa(dtype)
    mr, nr = isa.mr, isa.nr
    one = G.schedule_gemm(PLAIN[dtype], "avx512", threads=1)
    q = kernel_of(one)  # (the one-thread kernel it calls)
    name = q.name()
    half_l2, l2 = V.in_place_bounds(dtype)
    rows, small_rows = V.PASS_ROWS_MR[dtype] * mr, V.SMALL_ROWS_MR * mr
    # (after the GEMV's twin, N == 1: test_gemm_gemv.py)
    assert (f"if K + N <= {V.small_bounds(nr)[0]} or M <= {rows} or M <= {small_rows} and "
            f"K + N <= {half_l2}") in str(q)  # (f32: or few columns; test_gemm_small.py)
    small = callee(q, f"{name}_small")
    assert (f"if {nr} <= N and (M < {mr} or M <= {rows} and {l2} < N + K):\n"
            f"        {name}_small_passes(M, N, K, A, B, C)") in str(small)
    # each side of each condition: fewer rows than MR; up to PASS_ROWS_MR MR rows where
    # B is larger than L2 (passes), not (read in place); up to SMALL_ROWS_MR MR rows
    # where it is at most half of L2 (in place), not (blocked)
    sizes = [(1, 600, 700), (mr - 1, 300, 300), (mr, 300, 300), (1, 5, 2000), (3, 1000, 9),
             (1, nr - 1, 900), (2, nr, 900), (rows, l2 - 400, 401), (rows + 1, l2 - 400, 401),
             (rows - 3, l2 // 2, l2 // 2), (small_rows, half_l2 // 2, half_l2 // 2),
             (small_rows + 1, half_l2 // 2, half_l2 // 2), (rows + 5, half_l2 - 99, 100)]
    f = one.compile()
    run_against_numpy(f, dtype, sizes, seed=43)
    run_against_numpy(f, dtype, sizes[:3] + sizes[-5:-3], strided=True, seed=44)


@pytest.mark.parametrize("dtype", ["f32", "f64"])
def test_passes_by_columns_match_numpy(dtype):
    needs("avx512")
    for width in V.PASS_COLUMNS:
        q = V.k_passes_by_columns(PLAIN[dtype], "avx512", None, width)
        name = PLAIN[dtype].name()
        assert f"if N / {width} % 2 == 1:\n        {name}_odd(" in str(q)
        # an odd count of whole chunks: the rest is the par loop's last chunk, which
        # the thread with a whole chunk fewer takes
        odd = str(callee(q, f"{name}_odd"))
        assert f"for jo in par(0, ({width - 1} + N) / {width}):" in odd
        assert f"(M, -({width} * jo) + N, K, A[0:M, 0:K], B[0:K, {width} * jo:N]," in odd
        # an even count: the rest on one thread after the par loop
        even = str(callee(q, f"{name}_even"))
        assert f"for jo in par(0, N / {width}):" in even and f"if N % {width} > 0:" in even
        assert q.is_eq(PLAIN[dtype])
        f = q.compile()
        # even and odd counts of whole chunks, with and without a rest
        sizes = [(1, width - 1, 40), (1, width, 17), (1, 2 * width + 3, 70),
                 (5, 3 * width, V.K_PASS + 1), (7, width + 1, 1), (2, 3 * width + 5, 9),
                 (1, 4 * width + 7, 12)]
        run_against_numpy(f, dtype, sizes, seed=45)
        run_against_numpy(f, dtype, sizes[2:4], strided=True, seed=46)


def test_threads_take_passes_below_mr_rows_narrow_or_wide():
    needs("avx512")
    mr = G.target("avx512").isa("f32").mr
    q = G.schedule_gemm(PLAIN["f32"], "avx512", threads=2)
    name = kernel_of(q).name()  # (q: a call of it)
    par = callee(kernel_of(q), f"{name}_par")
    narrow = V.PASS_COLUMNS[0]
    _, l2 = V.in_place_bounds("f32")
    rows = V.PASS_ROWS_MR_THREADS * mr
    one_row = V.ONE_ROW_PARTS_BYTES // 4  # (one long row: the threads' parts)
    assert (f"if {narrow} <= N and (1 < M or N < {one_row}) and (M < {mr} or M < {rows} and "
            f"{l2} < K + N):\n"
            f"                {name}_par_passes(M, N, K, A[0:M, 0:K], B[0:K, 0:N], C[0:M, 0:N])"
            ) in str(par)  # (after the GEMV's twins, N == 1: test_gemm_gemv.py)
    passes = str(callee(par, f"{name}_par_passes"))
    assert f"if N < {V.WIDE_FROM}:\n        {name}_par_passes_narrow(" in passes
    f = q.compile()
    run_against_numpy(f, "f32", [(1, V.WIDE_FROM - 1, 300), (1, V.WIDE_FROM, 200),
                                 (mr - 1, 700, 300), (mr, 700, 300), (2, 1000, 20),
                                 (1, narrow - 1, 2000), (3, narrow, 2000),
                                 (rows - 1, l2 - 500, 501), (rows, l2 - 500, 501),
                                 (rows - 1, l2 // 2, l2 // 2), (1, one_row - 1, 30),
                                 (1, one_row, 30), (2, one_row + 3, 20)], seed=47)


@pytest.mark.parametrize("dtype", ["f32", "f64"])
def test_avx2_passes_match_numpy(dtype):
    needs("avx2")
    f = V.schedule_k_passes(PLAIN[dtype], "avx2").compile()
    mr = G.target("avx2").isa(dtype).mr
    run_against_numpy(f, dtype, [(1, 77, 300), (mr - 1, 40, 9), (mr + 2, 9, 17)], seed=48)


@pytest.mark.parametrize("dtype", ["f32", "f64"])
def test_neon_passes_run_on_aarch64(dtype):
    q = V.schedule_k_passes(neon_plain[dtype], "neon")
    isa = G.target("neon").isa(dtype)
    check_on_arm(q, dtype, [(1, isa.nr + 5, V.K_PASS + 3), (isa.mr - 1, 3 * isa.nr - 1, 41)],
                 seed=49)
