"""Small problems on one thread (variants.small_in_place, schedule_small): where the
blocks are chosen by schedule_gemm, `if N + K <= small_bounds(NR)[0]` (SMALL_UPTO on a 2 MB L2) calls a kernel without
cache blocks or packed copies, its MR x NR tiles along the rows of C reading A and B in
place; checked against NumPy (both sides of the condition, every edge, windows of
larger matrices), against the plain proc, on AVX2 and on NEON under qemu."""

import pytest
from test_gemm import (
    PLAIN,
    callee,
    check_on_arm,
    needs,
    neon_plain,
    run_against_numpy,
    sgemm,
    small_blocks,
)

from knit.stdlib import gemm as G
from knit.stdlib.gemm import variants as V
from knit.stdlib.gemm.variants import schedule_small
from tests.helpers.gemm_text import kernel_of
from tests.helpers.targets import check_equiv_here

_KERNELS: dict = {}


def default_kernel(dtype: str):
    """schedule_gemm's one-thread kernel with its own blocks (built once per proc)."""
    return G.schedule_gemm(PLAIN[dtype], "avx512", threads=1)


def small_kernel(target: str, dtype: str, plain=None):
    key = (target, dtype, plain is None)
    if key not in _KERNELS:
        _KERNELS[key] = schedule_small(plain or PLAIN[dtype], target)
    return _KERNELS[key]


UPTO = V.small_bounds(32)[0]  # (N + K up to which B is read in place, on this L2)


def sizes_around(dtype: str, target: str = "avx512") -> list[tuple[int, int, int]]:
    """(M, N, K) in 1..300: whole tiles, each edge (4-row, 1-row, whole, half, quarter
    and masked columns), and N + K at the condition's boundary and past it."""
    isa = G.target(target).isa(dtype)
    mr, nr, lanes = isa.mr, isa.nr, isa.lanes
    return [(1, 1, 1), (mr, nr, 1), (2 * mr, 2 * nr, 33), (mr + 4, nr + lanes, 17),
            (mr + 5, nr + lanes // 2, 9), (3 * mr + 3, 3 * nr + lanes // 4, 100),
            (mr - 1, nr - 1, 300), (100, 100, 100), (64, 64, 64), (37, 212, UPTO - 212),
            (29, 213, UPTO - 212), (300, 256, 256), (5, 300, 211), (300, 3, 300),
            (mr - 1, 300, 300), (mr, 300, 300), (1, 2 * nr + 1, 600)]


def test_default_kernel_branches_on_small_problems():
    isa = G.target("avx512").isa("f32")
    q = kernel_of(default_kernel("f32"))  # (gemm_f32_avx512)
    text = str(q)
    # (and a few tiles of rows, or more where B takes at most half of L2: B's packed
    # panel would serve few tiles)
    half_l2, l2 = V.in_place_bounds("f32")
    rows, small_rows = V.PASS_ROWS_MR["f32"] * isa.mr, V.SMALL_ROWS_MR * isa.mr
    narrow = V.SMALL_NARROW_NR["f32"] * isa.nr  # (and few columns with K not too deep)
    upto, narrow_k = V.small_bounds(isa.nr)  # (the shares of this machine's L2)
    assert (f"if K + N <= {upto} or M <= {rows} or M <= {small_rows} and K + N <= "
            f"{half_l2} or N <= {narrow} and K <= {narrow_k}:\n"
            "            gemm_f32_avx512_small(M, N, K, A[0:M, 0:K], B[0:K, 0:N], C[0:M, 0:N])"
            "\n        else:\n            gemm_f32_avx512_big(M, N, K, A[0:M, 0:K], B[0:K, 0:N], C[0:M, 0:N])") in text  # (after the
    # GEMV's twin, N == 1: test_gemm_gemv.py)
    # ... fewer rows than MR, and a few tiles of rows with B larger than L2, in passes
    # over k (test_gemm_passes.py), the others tiled
    small = q.find("gemm_f32_avx512_small(_)").subproc()
    assert (f"if {isa.nr} <= N and (M < {isa.mr} or M <= {rows} and {l2} < N + K):\n"
            "        gemm_f32_avx512_small_passes(M, N, K, A, B, C)\n    else:\n"
            "        gemm_f32_avx512_small_small(M, N, K, A, B, C)") in str(small)
    small = callee(small, "gemm_f32_avx512_small_small")  # a call of the sized kernel the passes call
    assert "gemm_f32_small_avx512(M, N, K, " in str(small)
    small = str(callee(small, "gemm_f32_small_avx512"))
    # the whole tiles along rows of C, reading A and B in place, nothing packed
    assert (f"    for io in seq(0, M / {isa.mr}):\n        for jo in seq(0, N / {isa.nr}):\n"
            f"            gemm_ukernel_f32_{isa.mr}x{isa.nr}_rows_avx512(K, "
            f"A[{isa.mr} * io:{isa.mr} + {isa.mr} * io, 0:K], "
            f"B[0:K, {isa.nr} * jo:{isa.nr} + {isa.nr} * jo]") in small
    allocs = [line.split(":")[0].strip() for line in small.split("\n") if "] @ DRAM" in line
              and "def " not in line]
    assert allocs == []  # (the last columns too read B in place: no copy of them)
    assert " in par(" not in small and "for jc " not in small
    # the blocked kernel for the others (its cache blocks, B packed)
    big = str(q.find("gemm_f32_avx512_big(_)").subproc())
    assert "gemm_f32_avx512_big_few" in big or "for jc " in big
    # (last: the C runs where the CPU has AVX-512) both sides of the few columns'
    # bounds, M past the other bounds
    needs("avx512")
    f = default_kernel("f32").compile()
    run_against_numpy(f, "f32", [(small_rows + 3, narrow, narrow_k),
                                 (small_rows + 3, narrow + 1, 900),
                                 (small_rows + 1, narrow - 5, narrow_k + 1)],
                      seed=48)


def test_given_blocks_take_no_small_twin():
    q = G.schedule_gemm(sgemm, "avx512", small_blocks("avx512", "f32"), threads=1)
    assert "_small" not in str(kernel_of(q)) and "N + K <=" not in str(kernel_of(q))


@pytest.mark.parametrize("dtype", ["f32", "f64"])
@pytest.mark.parametrize("strided", [False, True], ids=["contiguous", "strided"])
def test_default_kernel_matches_numpy_on_both_sides(dtype, strided):
    needs("avx512")
    f = default_kernel(dtype).compile()
    run_against_numpy(f, dtype, sizes_around(dtype), strided=strided, seed=11)


@pytest.mark.parametrize("dtype", ["f32", "f64"])
def test_small_kernel_alone_matches_numpy_past_its_condition(dtype):
    # schedule_small is correct at every size (only its speed asks for small ones)
    needs("avx512")
    f = small_kernel("avx512", dtype).compile()
    run_against_numpy(f, dtype, sizes_around(dtype) + [(70, 300, 300)], strided=True, seed=3)


@pytest.mark.parametrize("dtype", ["f32", "f64"])
def test_small_kernels_are_equivalent_to_the_plain_proc(dtype):
    isa = G.target("avx512").isa(dtype)
    for q in (small_kernel("avx512", dtype), default_kernel(dtype)):
        assert q.is_eq(PLAIN[dtype])  # derived by checked rewrites only
        report = check_equiv_here(PLAIN[dtype], q, "avx512", trials=4, sizes={
            "M": [1, isa.mr - 1, isa.mr + 4, 2 * isa.mr + 5],
            "N": [1, isa.lanes // 4 + 1, isa.nr + isa.lanes + 3, 2 * isa.nr + 1],
            "K": [1, 7, 33]})
        assert report.trials == 4


@pytest.mark.parametrize("dtype", ["f32", "f64"])
def test_avx2_small_kernel_matches_numpy(dtype):
    needs("avx2")
    f = small_kernel("avx2", dtype).compile()
    run_against_numpy(f, dtype, sizes_around(dtype, "avx2"), seed=4)
    f = G.schedule_gemm(PLAIN[dtype], "avx2", threads=1).compile()
    run_against_numpy(f, dtype, sizes_around(dtype, "avx2")[-6:], strided=True, seed=5)


@pytest.mark.parametrize("dtype", ["f32", "f64"])
def test_neon_small_kernel_runs_on_aarch64(dtype):
    isa = G.target("neon").isa(dtype)
    q = small_kernel("neon", dtype, neon_plain[dtype])
    assert f"gemm_ukernel_{dtype}_{isa.mr}x{isa.nr}_rows_neon(" in str(q)
    check_on_arm(q, dtype, [(1, 1, 1), (isa.mr + 3, isa.nr + 5, 9),
                            (2 * isa.mr + 1, 3 * isa.nr - 1, 17)], seed=8)


def test_small_kernel_refuses_what_is_not_a_gemm():
    from test_gemm import not_gemm_two

    with pytest.raises(ValueError, match="three perfectly nested loops"):
        schedule_small(not_gemm_two, "avx512")
    with pytest.raises(ValueError, match="unknown target|target"):
        schedule_small(sgemm, "sse9")
