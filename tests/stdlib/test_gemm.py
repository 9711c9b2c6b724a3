"""knit.stdlib.gemm: the BLIS-style schedule of a plain GEMM, for AVX-512, AVX2 and NEON.

Every kernel is checked against NumPy on sampled sizes in 1..300 (each size class the
schedule cuts: whole tiles, edge rows, edge columns, whole and masked vectors, partial
cache blocks, a K remainder), on windows of larger matrices, on one thread and on the
`par` loop's threads; against the plain procedure with check_equiv; and, for NEON,
compiled for AArch64 and run under qemu. Small cache blocks make small sizes cross
every block boundary, so the tests stay quick.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from test_x86_compiled import cpu_flags

import knit
from knit import proc
from knit.errors import SchedulingError
from knit.stdlib import gemm as G
from knit.stdlib.scheduling import parallelize_loop
from tests.helpers.gemm_text import kernel_of
from tests.helpers.targets import runs_here

HAS = {t: runs_here(t) for t in ("avx512", "avx2")}


@proc
def sgemm(M: size, N: size, K: size, A: [f32][M, K] @ DRAM, B: [f32][K, N] @ DRAM,
          C: [f32][M, N] @ DRAM):
    assert stride(A, 1) == 1
    assert stride(B, 1) == 1
    assert stride(C, 1) == 1
    for i in seq(0, M):
        for j in seq(0, N):
            for k in seq(0, K):
                C[i, j] += A[i, k] * B[k, j]


@proc
def dgemm(M: size, N: size, K: size, A: [f64][M, K] @ DRAM, B: [f64][K, N] @ DRAM,
          C: [f64][M, N] @ DRAM):
    assert stride(A, 1) == 1
    assert stride(B, 1) == 1
    assert stride(C, 1) == 1
    for i in seq(0, M):
        for j in seq(0, N):
            for k in seq(0, K):
                C[i, j] += A[i, k] * B[k, j]


@proc
def gemm_tensors(M: size, N: size, K: size, A: f32[M, K] @ DRAM, B: f32[K, N] @ DRAM,
                 C: f32[M, N] @ DRAM):
    for i in seq(0, M):
        for j in seq(0, N):
            for k in seq(0, K):
                C[i, j] += A[i, k] * B[k, j]


PLAIN = {"f32": sgemm, "f64": dgemm}
DTYPES = {"f32": np.float32, "f64": np.float64}


def small_blocks(target: str, dtype: str) -> G.Blocking:
    """Two register tiles per cache block and KC = 16: sizes below 100 already cross
    every block boundary."""
    isa = G.target(target).isa(dtype)
    return G.Blocking(mc=2 * isa.mr, kc=16, nc=2 * isa.nr)


_SCHEDULED: dict = {}


def scheduled(target: str, dtype: str, parallel: bool = True, blocks: str = "small",
              split: str = "auto"):
    """The kernel `scheduled_proc` calls: its structure is the schedule's."""
    return kernel_of(scheduled_proc(target, dtype, parallel, blocks, split))


def scheduled_proc(target: str, dtype: str, parallel: bool = True, blocks: str = "small",
                   split: str = "auto"):
    """schedule_gemm of the plain procedure, one thread or two (the threaded kernel
    itself, not the call of the one-thread kernel that small problems get:
    test_small_problems_call_the_one_thread_kernel)."""
    key = (target, dtype, parallel, blocks, split)
    if key not in _SCHEDULED:
        blk = small_blocks(target, dtype) if blocks == "small" else None
        _SCHEDULED[key] = G.schedule_gemm(PLAIN[dtype], target, blk, 2 if parallel else 1,
                                          sequential_upto=0, split=split)
    return _SCHEDULED[key]


def sample_sizes(target: str, dtype: str, n: int, seed: int) -> list[tuple[int, int, int]]:
    """(M, N, K) triples in 1..300: the boundaries of the tiles, vectors and blocks of
    this kernel, and random ones."""
    isa = G.target(target).isa(dtype)
    blk = small_blocks(target, dtype)
    half = isa.lanes // 2  # the last columns: a whole half vector, a masked one
    edges = [1, isa.lanes - 1, isa.lanes + 1, isa.mr, isa.mr + 1, isa.nr - 1, isa.nr,
             isa.nr + isa.lanes + 3, blk.mc + 1, blk.nc + isa.nr - 1, blk.kc, blk.kc + 1,
             half, half + 1, isa.nr + isa.lanes + half, 2 * isa.nr + half - 1]
    rng = np.random.default_rng(seed)
    out = [(e, e2, e3) for e, e2, e3 in zip(edges, edges[3:] + edges[:3], edges[6:] + edges[:6])]
    out += [tuple(int(x) for x in rng.integers(1, 301, 3)) for _ in range(n)]
    return out


def callee(q, *names):
    """The procedure q calls by names[0], which calls names[1], ... (twins nest)."""
    for name in names:
        q = q.find(f"{name}(_)").subproc()
    return q


def run_against_numpy(f, dtype, sizes, strided=False, seed=0):
    rng = np.random.default_rng(seed)
    t = DTYPES[dtype]
    tol = 1e-4 if dtype == "f32" else 1e-12
    for m, n, k in sizes:
        if strided:  # windows of larger matrices: lda, ldb, ldc > the row lengths
            A = rng.standard_normal((m + 5, k + 7)).astype(t)[2:2 + m, 3:3 + k]
            B = rng.standard_normal((k + 3, n + 9)).astype(t)[1:1 + k, 5:5 + n]
            big = rng.standard_normal((m + 4, n + 6)).astype(t)
            C = big[3:3 + m, 1:1 + n]
        else:
            A = rng.standard_normal((m, k)).astype(t)
            B = rng.standard_normal((k, n)).astype(t)
            big = None
            C = rng.standard_normal((m, n)).astype(t)
        want = C.astype(np.float64) + A.astype(np.float64) @ B.astype(np.float64)
        before = None if big is None else big.copy()
        f(m, n, k, A, B, C)
        err = np.abs(C - want).max() / max(1.0, np.abs(want).max())
        assert err < tol, f"{m}x{n}x{k}: relative error {err:.2e}"
        if big is not None:  # nothing outside the window of C was touched
            mask = np.ones(big.shape, bool)
            mask[3:3 + m, 1:1 + n] = False
            assert np.array_equal(big[mask], before[mask]), f"{m}x{n}x{k}: wrote outside C"


# ---------------------------------------------------------------- x86, compiled


def needs(target):
    if not HAS[target]:
        pytest.skip(f"this CPU has no {target}")


@pytest.mark.parametrize("dtype", ["f32", "f64"])
@pytest.mark.parametrize("parallel", [False, True], ids=["1-thread", "par"])
def test_avx512_matches_numpy_on_sampled_sizes(dtype, parallel):
    needs("avx512")
    f = scheduled("avx512", dtype, parallel).compile()
    run_against_numpy(f, dtype, sample_sizes("avx512", dtype, 8, seed=1 + parallel))


@pytest.mark.parametrize("dtype", ["f32", "f64"])
def test_avx512_on_windows_of_larger_matrices(dtype):
    needs("avx512")
    f = scheduled("avx512", dtype).compile()
    run_against_numpy(f, dtype, sample_sizes("avx512", dtype, 4, seed=3), strided=True)


@pytest.mark.parametrize("dtype", ["f32", "f64"])
def test_one_thread_on_windows_of_larger_matrices(dtype):
    # (one thread packs whole panels of B: a panel partly past N, read with ldb > N)
    needs("avx512")
    f = scheduled("avx512", dtype, False).compile()
    run_against_numpy(f, dtype, sample_sizes("avx512", dtype, 4, seed=7), strided=True)


def test_default_blocks_match_numpy():
    # the blocks chosen from this machine's caches (larger than every size here)
    needs("avx512")
    f = scheduled("avx512", "f32", False, "default").compile()
    isa = G.target("avx512").isa("f32")
    few = G.variants.few_rows_twin_blocking(isa, G.choose_blocking(isa, 4), 4)
    # (rows of one block of the few-rows twin, and one more: the blocked kernel)
    run_against_numpy(f, "f32", [(300, 300, 300), (1, 300, 257), (299, 33, 1), (45, 65, 600),
                                 (few.mc, 70, few.kc + 3), (few.mc + 1, 40, few.kc + 1)])


@pytest.mark.parametrize("dtype", ["f32", "f64"])
def test_avx2_matches_numpy(dtype):
    needs("avx2")
    f = scheduled("avx2", dtype).compile()
    run_against_numpy(f, dtype, sample_sizes("avx2", dtype, 4, seed=4))
    run_against_numpy(f, dtype, sample_sizes("avx2", dtype, 2, seed=5), strided=True)


# ---------------------------------------------------------------- equivalence


@pytest.mark.parametrize("dtype", ["f32", "f64"])
@pytest.mark.parametrize("parallel", [False, True], ids=["1-thread", "par"])
def test_kernels_are_equivalent_to_the_plain_proc(dtype, parallel):
    needs("avx512")
    q = scheduled_proc("avx512", dtype, parallel)
    assert q.is_eq(PLAIN[dtype])  # derived by checked rewrites only
    isa = G.target("avx512").isa(dtype)
    sizes = {"M": [1, isa.mr - 1, isa.mr + 2, 2 * isa.mr + 1],
             "N": [1, isa.lanes + 2, isa.nr + 5, 2 * isa.nr + 1], "K": [1, 15, 17, 33]}
    report = knit.check_equiv(PLAIN[dtype], q, trials=4, sizes=sizes)
    assert report.trials == 4


def test_microkernels_are_equivalent_in_the_interpreter():
    for name in ("avx512", "avx2", "neon"):
        ref, fast = G.microkernel(name, "f32")
        knit.check_equiv(ref, fast, trials=2, compiled=False, interpret=True)
    for dtype, rows in (("f32", 1), ("f32", 8), ("f64", 8)):
        for half in (False, True):  # masked 512-bit registers, masked 256-bit ones
            ref, fast = G.masked_kernel("avx512", dtype, rows, half)
            knit.check_equiv(ref, fast, trials=3, compiled=False, interpret=True)
    for dtype, lanes in (("f32", 8), ("f64", 4)):  # whole half vectors, 8 rows
        ref, fast = G.microkernel("avx512", dtype, False, (8, lanes), half=True)
        knit.check_equiv(ref, fast, trials=2, compiled=False, interpret=True)
    # AVX2's masked kernels (blends): 256-bit registers, 128-bit ones; whole 128-bit ones
    for dtype, rows in (("f32", 1), ("f32", 6), ("f64", 6)):
        for half in (False, True):
            ref, fast = G.masked_kernel("avx2", dtype, rows, half)
            knit.check_equiv(ref, fast, trials=3, compiled=False, interpret=True)
    for dtype, lanes in (("f32", 4), ("f64", 2)):
        ref, fast = G.microkernel("avx2", dtype, False, (6, lanes), half=True)
        knit.check_equiv(ref, fast, trials=2, compiled=False, interpret=True)


def test_avx2_last_columns_are_vectors():
    """AVX2's last N % NR columns: whole 256-bit vectors, then a rest of more than half
    the lanes one masked 256-bit vector, else a whole 128-bit one and a masked 128-bit
    one (AVX2 masks are blends: any width costs the same), 8 rows at a time and then one
    by one; no scalar loop is left (session 19: they were plain loops)."""
    text = str(scheduled("avx2", "f32", parallel=False))
    for rows in (8, 1):
        assert f"gemm_ukernel_f32_{rows}x8_rows_avx2(K" in text
        assert f"gemm_ukernel_f32_{rows}xn_masked_avx2(N % 8, K" in text
        assert f"gemm_ukernel_f32_{rows}x4_rows_avx2(K" in text
        assert f"gemm_ukernel_f32_{rows}xn_masked_half_avx2(N % 4, K" in text
    masked = G.masked_kernel("avx2", "f32", 8)[1]
    assert "avx2_mask_fmadd_ps(" in str(masked) and "avx2_mask_storeu_ps(" in str(masked)
    # (every statement of the edges' nests is a call: no `C[...] +=` loop is left)
    assert not re.search(r"C\[.*\] \+=", text)


@pytest.mark.parametrize("dtype", ["f32", "f64"])
def test_avx2_kernels_are_equivalent_to_the_plain_proc(dtype):
    """Every AVX2 column rest (N % NR: masked 256-bit vectors, a whole 128-bit one, a
    masked 128-bit one) against the plain loops, compiled and interpreted."""
    needs("avx2")
    q = scheduled_proc("avx2", dtype, parallel=False)
    assert q.is_eq(PLAIN[dtype])
    isa = G.target("avx2").isa(dtype)
    for r in range(1, isa.nr):  # (N = 2 NR + r: every last-columns case)
        sizes = {"M": [1, isa.mr + 1, 2 * isa.mr + 3], "N": 2 * isa.nr + r, "K": [1, 17, 33]}
        assert knit.check_equiv(PLAIN[dtype], q, trials=1, sizes=sizes, seed=r).trials == 1


# ---------------------------------------------------------------- the schedule itself


def test_schedule_has_the_blis_structure():
    # (the blocked kernel's tiles shared by columns; rows: tests/stdlib/test_gemm_threads.py)
    text = str(scheduled("avx512", "f32", split="cols"))
    isa = G.target("avx512").isa("f32")
    blk = small_blocks("avx512", "f32")
    # one par loop per NC block; the thread's buffers inside it
    assert re.search(r"for jc in seq.*\n *for jt in par\(0, 2\):\n *Ap: f32\[2, 16, "
                     rf"{isa.mr}\] @ DRAM_ALIGNED64\n *Bs: f32\[16, {isa.nr}\] @ DRAM_ALIGNED64",
                     text)  # packed A: [MC/MR][KC][MR]; a packed sliver of B: [KC][NR]
    # tiles: the KC blocks, the last block (the rest of K joined to it), all of K < KC;
    # edge rows; edge columns (whole, half, quarter and masked vectors, and where the
    # target says so masked full ones for a rest of more than 8 columns, 8 rows at a time
    # in parallel, the last rows one by one on one thread: parallelize_edges)
    assert text.count(" in par(") == 3 + 2 + 5 + isa.masked_wide_rest
    assert f"gemm_ukernel_f32_{isa.mr}x{isa.nr}_avx512(16, Ap[ir, 0:16, 0:{isa.mr}], Bs[0:16" \
        in text
    # the next tile's C is prefetched (a line at a time, by one call), where a next tile
    # exists
    assert re.search(rf"if 1 \+ ir \+ 2 \* ic < M / 8:\n *prefetch_block\({isa.mr}, {isa.nr}, "
                     r"C\[8 \+ 8 \* ir \+ 16 \* ic:16 \+ 8 \* ir \+ 16 \* ic, "
                     r"32 \* jt \+ 64 \* jc \+ 64 \* jq:", text)
    assert text.count("prefetch_block(8, 32, C[") == 2  # KC blocks, last block
    # the last columns: a whole 256-bit vector (8 of them), then masked 256-bit ones,
    # 8 rows at a time, then the rows left one by one
    assert "gemm_ukernel_f32_8x8_rows_avx512(K, A[8 * iw" in text
    assert "gemm_ukernel_f32_8xn_masked_half_avx512(N % 8, K, A[8 * iw" in text
    assert "gemm_ukernel_f32_1xn_masked_half_avx512(N % 8, K" in text
    # a rest of more than 8 columns: one masked 512-bit vector where the target has two
    # full-width multiply-add ports (`Isa.masked_wide_rest`), else 256-bit ones only
    assert ("gemm_ukernel_f32_8xn_masked_avx512(N % 16, K, A[8 * iw" in text) \
        is isa.masked_wide_rest
    assert ("gemm_ukernel_f32_1xn_masked_avx512(N % 16, K" in text) is isa.masked_wide_rest
    assert f"gemm_ukernel_f32_1x{isa.nr}_rows_avx512" in text  # edge rows
    assert blk.kc == 16


def test_one_thread_packs_each_panel_of_b_once():
    # BLIS's order jc, pc, ic, jr, ir: B's KC x NC panel packed once per pc, before the
    # ic loop (not once per MC block of rows), as Bs[NC / NR][KC][NR]; a whole NC block
    # read row by row, unchecked (PREFETCH_ROWS = 8 rows ahead but for the last 8)
    text = str(scheduled("avx512", "f32", False))
    isa = G.target("avx512").isa("f32")
    assert re.search(rf"for jc in seq.*\n *Ap: f32\[2, 16, {isa.mr}\] @ DRAM_ALIGNED64\n"
                     rf" *Bs: f32\[2, 16, {isa.nr}\] @ DRAM_ALIGNED64\n *for pc in seq.*\n"
                     r" *if 64 \+ 64 \* jc <= N:\n *for i0 in seq\(0, 8\):\n"
                     r" *for i1o in seq\(0, 2\):\n *prefetch_block\(1, 32, B\[.*\n"
                     rf" *for i1i in seq\(0, {isa.nr}\):\n *Bs\[i1o, i0, i1i\] = B\[.*\n"
                     r" *for i0 in seq\(8, 16\):\n *for i1o in seq\(0, 2\):\n"
                     rf" *for i1i in seq\(0, {isa.nr}\):\n *Bs\[i1o, i0, i1i\] = B\[.*\n"
                     # the last NC block, partly past N: sliver by sliver, checked
                     r" *else:\n *for i1o in seq\(0, 2\):\n *if .* <= N:\n"
                     r" *for i0 in seq\(0, 16\):", text)
    tiles = text.split("Bs_l:")[0]
    assert tiles.index("Bs[i1o, i0, i1i] = B[") < tiles.index("for ic in seq") \
        < tiles.index("mm256_transpose8x8_ps(Ap[i0o, ") < tiles.index("for jr in seq") \
        < tiles.index("for ir in seq")
    # the slivers partly past M and N are not copied: the tiles read whole ones only
    # (eliminate_dead_stores); whole slivers only, unchecked
    assert "Ap[i0o, i1, i0i] = A[" not in tiles
    assert re.search(r"if 8 \+ 8 \* i0o \+ 16 \* ic <= M:\n *for i1o in seq\(0, 2\):\n"
                     r" *mm256_transpose8x8_ps\(Ap\[i0o, .*\n *for jr in seq", tiles)
    assert not re.search(r"if (8 \* i0o|32 \* i1o) .* < [MN]:", text)
    assert f"Ap[ir, 0:16, 0:{isa.mr}], Bs[jr, 0:16, 0:{isa.nr}]" in tiles
    # the last block of k, KC + K % KC deep, packed as the others
    last = text.split("Bs_l:")[1].split("\n    else:\n")[0]
    assert "for pc in" not in last and f"gemm_ukernel_f32_{isa.mr}x{isa.nr}_avx512(" \
        f"-16 * (K / 16) + K + 16, Ap_l[ir, 0:-16 * (K / 16) + K + 16, 0:{isa.mr}], Bs_l[jr, " \
        in last
    # all of k when K < KC (a small problem) reads A in place, B packed sliver by sliver
    # (by rows, each row would check every sliver of NC: 64^3 ran at 0.74x OpenBLAS)
    rest = text.split("\n    else:\n")[1].split("if M % 8 > 0")[0]
    assert re.search(r" *for i1o in seq\(0, 2\):\n *if .* <= N:\n *for i0 in seq\(0, K\):",
                     rest)
    assert "Ap" not in rest and re.search(
        rf"gemm_ukernel_f32_{isa.mr}x{isa.nr}_rows_avx512\(K, A\[.*, Bs_k\[jr, ", rest)
    # ... and walks the tiles along MR rows of C (ir outside jr): with K < KC the calls
    # are short and C's traffic is the cost, so each row of C streams in order
    assert re.search(r"for ir in seq\(0, 2\):\n *if ir \+ 2 \* ic < M / 8:\n"
                     r" *for jr in seq\(0, 2\):\n *if jr \+ 2 \* jc < N / \d+:\n"
                     rf" *gemm_ukernel_f32_{isa.mr}x{isa.nr}_rows_avx512\(K", rest)


def test_threads_keep_blis_order_where_k_is_one_pass():
    # (tiles_along_rows is the one-thread kernel's: the threads' slivers stay outside)
    text = str(scheduled("avx512", "f32", split="cols"))
    rest = text.split("\n    else:\n")[1].split("if M % 8 > 0")[0]
    assert rest.index("for jq in seq") < rest.index("for ir in seq")


def test_microkernel_uses_only_registers_and_instructions():
    _, fast = G.microkernel("avx512", "f32")
    text = str(fast)
    # (a second copy of the body for K % k_unroll where the k loop is in chunks)
    chunks = G.target("avx512").isa("f32").k_unroll > 1
    assert text.count("mm512_fmadd_ps(") == 1 + chunks and "+=" not in text
    assert "C_reg: f32[8, 2, 16] @ AVX512" in text


@pytest.mark.parametrize("dtype", ["f32", "f64"])
def test_kernels_keep_the_row_of_b_in_registers(dtype):
    """B's row is loaded once per k by the kept load (`Isa.load_kept`), whose C stops gcc
    from folding it into each row's multiply-add (the 4-row kernel of the last rows
    re-read B per row); the kernel stays equivalent, compiled and interpreted."""
    from knit.platforms.x86 import avx512
    from knit.runtime.jit import jit_source

    isa = G.target("avx512").isa(dtype)
    assert isa.load_kept is getattr(avx512, f"mm512_loadu_{'ps' if dtype == 'f32' else 'pd'}_kept")
    assert G.target("avx2").isa(dtype).load_kept is None  # (the plain load there)
    ref, fast = G.microkernel("avx512", dtype, False, (4, isa.nr))
    text = str(fast)
    # B's loads, not C's (a second copy for K % k_unroll where the k loop is in chunks)
    assert text.count(f"{isa.load_kept.name()}(B_reg[") == 1 + (isa.k_unroll > 1)
    assert text.count(f"{isa.load.name()}(C_reg[") == 1
    c = jit_source(fast._loopir_proc)[0]
    t = "ps" if dtype == "f32" else "pd"
    assert re.search(rf"B_reg\[io\] = knit_keep_{t}\(_mm512_loadu_{t}\(&B\.data\[", c)
    assert '__asm__("" : "+v"(x));' in c
    knit.check_equiv(ref, fast, trials=2, compiled=False, interpret=True)
    if "avx512f" in cpu_flags():
        knit.check_equiv(ref, fast, trials=3)


def test_blocks_come_from_the_cache_sizes_and_can_be_overridden():
    isa = G.target("avx512", split_fma=True).isa("f32")  # (Zen 4's, as its caches below)
    blk = G.choose_blocking(isa, 4, caches=(32 << 10, 1 << 20, 32 << 20))
    # a KC x NR sliver of B spans kc_l1s L1 caches (4 on AVX-512: a deeper KC, fewer
    # C tiles loaded and stored), and fits it where kc_l1s = 1
    assert isa.kc_l1s * (32 << 10) // 2 < blk.kc * isa.nr * 4 <= isa.kc_l1s * (32 << 10)
    # threads take the same KC and NC (no sliver of B is packed twice for a deeper KC);
    # one thread's block of A takes a quarter of L2 (the sliver of B streams from L2
    # beside it), threads' half (each core multiplies its own slivers of the block)
    two = G.choose_blocking(isa, 4, caches=(32 << 10, 1 << 20, 32 << 20), threads=2)
    assert (two.kc, two.nc) == (blk.kc, blk.nc) and two.mc == 2 * blk.mc
    assert blk.mc * blk.kc * 4 == (1 << 20) // 4
    ymm = G.target("avx2").isa("f32")
    assert ymm.kc_l1s == 1
    assert G.choose_blocking(ymm, 4, caches=(32 << 10, 1 << 20, 32 << 20)).kc * ymm.nr * 4 \
        == 32 << 10
    assert blk.mc * blk.kc * 4 <= 1 << 20  # an MC x KC block of A fits L2
    assert blk.mc % (2 * isa.mr) == 0 and blk.nc % (2 * isa.nr) == 0
    q = kernel_of(G.schedule_gemm(sgemm, "avx512", G.Blocking(mc=16, kc=8, nc=64), threads=1))
    assert "Ap: f32[2, 8, 8]" in str(q) and "for jc in seq(0, (32 + N) / 64)" in str(q)


def test_a_whole_sliver_is_packed_through_the_transpose():
    # AVX-512 f32 (MR = 8): A's whole MR-row slivers 8 x 8 at a time through the
    # target's transposing instruction, the K % 8 rows of the last block of k and the
    # sliver partly past M element by element; f64 and another MR element by element
    text = str(scheduled("avx512", "f32", False))
    assert G.target("avx512").isa("f32").pack_a is not None
    assert re.search(r"if 8 \+ 8 \* i0o \+ 16 \* ic <= M:\n *for i1o in seq\(0, 2\):\n"
                     r" *mm256_transpose8x8_ps\(Ap\[i0o, 8 \* i1o:8 \+ 8 \* i1o, 0:8\], ", text)
    # the last block of k, KC + K % KC deep: its K % 8 rows element by element
    assert "mm256_transpose8x8_ps(Ap_l[i0o, 8 * i1o:8 + 8 * i1o, 0:8], " in text
    assert re.search(r"for i1i in seq\(0, K % 8\):\n *for i0i in seq\(0, 8\):\n"
                     r" *Ap_l\[i0o, i1i \+ ", text)
    assert text.count("mm256_transpose8x8_ps(") == 2  # the KC blocks, the last block
    assert "transpose" not in str(scheduled("avx512", "f64", False))
    six = G.schedule_gemm(PLAIN["f32"], "avx512", G.Blocking(mc=12, kc=16, nc=64), threads=1,
                          shape=(6, 32))
    assert "transpose" not in str(kernel_of(six))
    needs("avx512")
    run_against_numpy(six.compile(), "f32", [(13, 70, 37), (6, 32, 16), (17, 33, 9)], seed=3)


def test_the_copy_of_b_prefetches_rows_ahead_on_one_thread():
    # the row-by-row copy of a whole NC block of B prefetches the row PREFETCH_ROWS
    # ahead beside each NR columns' copy (a line at a time); the last rows of the block
    # copy without (the prefetched row stays inside B); a KC no deeper than the
    # distance prefetches nothing
    needs("avx512")
    ahead = G.schedule.PREFETCH_ROWS
    for kc in (2 * ahead, ahead):
        q = G.schedule_gemm(sgemm, "avx512", G.Blocking(mc=16, kc=kc, nc=64), threads=1)
        text = str(kernel_of(q))
        if kc > ahead:
            assert f"for i0 in seq(0, {kc - ahead}):" in text
            assert f"for i0 in seq({kc - ahead}, {kc}):" in text
            assert (f"prefetch_block(1, 32, B[{ahead} + i0 + {kc} * pc:{ahead + 1} + i0 + "
                    f"{kc} * pc, 32 * i1o + 64 * jc:32 + 32 * i1o + 64 * jc], 3)") in text
            assert text.count("prefetch_block(1, 32, B[") == 2  # 2 tile nests
        else:
            assert "prefetch_block(1, 32, B[" not in text
        run_against_numpy(q.compile(), "f32", [(17, 130, 3), (9, 64, 4 * kc + 5),
                                               (16, 200, 2 * kc - 1), (24, 96, kc)],
                          strided=True, seed=13)
    # two threads sharing columns copy their slivers without it
    two = G.schedule_gemm(sgemm, "avx512", small_blocks("avx512", "f32"), threads=2,
                          sequential_upto=0, split="cols")
    assert " in par(" in str(kernel_of(two))
    assert "prefetch_block(1, 32, B[" not in str(kernel_of(two))


def test_tensor_arguments_work_too():
    needs("avx512")
    q = G.schedule_gemm(gemm_tensors, "avx512", small_blocks("avx512", "f32"))
    run_against_numpy(q.compile(), "f32", [(29, 70, 33), (1, 1, 1)])


def test_small_problems_call_the_one_thread_kernel():
    needs("avx512")
    q = G.schedule_gemm(sgemm, "avx512", small_blocks("avx512", "f32"), threads=2)
    isa = G.target("avx512").isa("f32")
    kernel = kernel_of(q)  # (sgemm's nest a call of it)
    name = kernel.name()
    text = str(kernel)
    assert (f"if M + N + K <= 280 or (N < {2 * isa.nr} or N < {4 * isa.nr} and N % {isa.nr} > 0)"
            f" and M + N + K <= {G.variants.NARROW_UPTO}:\n        {name}_seq(M, N, K,") in text
    assert f"else:\n        {name}_par(M, N, K," in text
    assert q.is_eq(sgemm)
    seq_, par = (kernel.find(f"{name}_{s}(_)").subproc() for s in ("seq", "par"))
    assert " in par(" not in str(seq_)
    assert all("for t in par(0, 2):" in str(callee(par, f"{name}_par_tiles", f"{name}_par_tiles_{s}"))
               for s in ("cols", "rows"))
    assert all(" in par(" in str(callee(par, f"{name}_par_passes", f"{name}_par_passes_{w}",
                                        f"{name}_par_passes_{w}_{parity}"))
               for w in ("narrow", "wide") for parity in ("odd", "even"))
    # both sides of the condition, and its boundary
    run_against_numpy(q.compile(), "f32", [(64, 64, 152), (64, 64, 153), (300, 63, 20),
                                           (40, 64, 89), (200, 100, 150), (1, 1, 1),
                                           (200, 4 * isa.nr, 150), (200, 4 * isa.nr - 1, 150),
                                           (200, 3 * isa.nr, 150), (100, 100, 160),
                                           (100, 100, 161), (2000, 30, 100)])
    report = knit.check_equiv(sgemm, q, trials=3, sizes={"M": [1, 17, 70], "N": [1, 33, 70],
                                                         "K": [1, 20, 90]})
    assert report.trials == 3
    # and the threads' kernel: M + N + K > 280, N >= 2 NR, and 4 NR or whole slivers (or
    # M + N + K > NARROW_UPTO)
    report = knit.check_equiv(sgemm, q, trials=2, sizes={"M": [150, 171], "N": [96, 130],
                                                         "K": [70, 83]})
    assert report.trials == 2 and all(sum(s.values()) > 280 for s in report.sizes)


def test_sequential_upto_zero_or_less_means_never():
    blk = small_blocks("avx512", "f32")
    never = kernel_of(G.schedule_gemm(sgemm, "avx512", blk, threads=2, sequential_upto=0))
    assert "_seq(" not in str(never)
    assert kernel_of(G.schedule_gemm(sgemm, "avx512", blk, threads=2,
                                     sequential_upto=-5)) is never
    with pytest.raises(ValueError, match="sequential_upto must be an int; got '280'"):
        G.schedule_gemm(sgemm, "avx512", blk, threads=2, sequential_upto="280")
    G.schedule_gemm(sgemm, "avx512", blk, threads=1, sequential_upto=None)  # (unused)


def test_the_par_loop_is_race_checked():
    # the packed buffers are allocated once per jc (and thread): a parallel ic or pc
    # loop would have its iterations write the same buffer
    q = scheduled("avx512", "f32", parallel=False)
    for loop in ("ic", "pc"):
        with pytest.raises(SchedulingError, match="race|written|writes"):
            parallelize_loop(q, q.find_loop(loop))


@pytest.mark.parametrize("bad, phrase", [
    ("two statements", "three perfectly nested loops"),
    ("wrong statement", "expected the statement"),
])
def test_refuses_what_is_not_a_gemm(bad, phrase):
    p = not_gemm_two if bad == "two statements" else not_gemm_transposed
    with pytest.raises(ValueError, match=phrase):
        G.schedule_gemm(p, "avx512")


def test_refuses_bad_targets_and_blocks():
    with pytest.raises(ValueError, match="unknown GEMM target 'sse'"):
        G.schedule_gemm(sgemm, "sse")
    # (the blocked kernel's threads share a block's slivers: split "rows" or "cols")
    with pytest.raises(ValueError, match="NC of NR x threads = 64"):
        G.schedule_gemm(sgemm, "avx512", G.Blocking(mc=16, kc=16, nc=32), split="cols")
    with pytest.raises(ValueError, match="MC a multiple of MR x threads = 16"):
        G.schedule_gemm(sgemm, "avx512", G.Blocking(mc=20, kc=16, nc=64), split="rows")
    with pytest.raises(ValueError, match="MC a multiple of MR = 8"):  # (auto: whole tiles)
        G.schedule_gemm(sgemm, "avx512", G.Blocking(mc=20, kc=16, nc=64))
    with pytest.raises(ValueError, match="NR must be a multiple of 16"):
        G.schedule_gemm(sgemm, "avx512", shape=(4, 20))
    # one MR-row or NR-column sliver per block (multiples, but too small): a clear error,
    # not a crash in the packing steps (IndexError before)
    # (and one row of k per KC block: LookupError or IndexError before)
    for blk, threads in ((G.Blocking(mc=16, kc=16, nc=32), 1), (G.Blocking(mc=8, kc=16, nc=64), 1),
                         (G.Blocking(mc=16, kc=1, nc=64), 1), (G.Blocking(mc=16, kc=1, nc=64), 2)):
        with pytest.raises(ValueError, match=r"MC must be at least 2 x MR = 16, NC at "
                                             r"least 2 x NR = 64 and KC at least 2; got "
                                             r"Blocking"):
            G.schedule_gemm(sgemm, "avx512", blk, threads=threads)
    # arguments of the wrong kind: a clear error before anything is computed from them
    # (ZeroDivisionError, AttributeError or a scheduling error deep inside before)
    for threads in (0, -2, 1.0, "2"):
        with pytest.raises(ValueError, match=r"threads must be an int >= 1; got"):
            G.schedule_gemm(sgemm, "avx512", threads=threads)
    for blk in ((96, 256, 1024), G.Blocking(96.0, 256, 1024)):
        with pytest.raises(ValueError, match=r"blocking must be None or a Blocking\(mc, kc, "
                                             r"nc\) of ints; got"):
            G.schedule_gemm(sgemm, "avx512", blk)


@proc
def not_gemm_two(M: size, N: size, A: f32[M, N] @ DRAM, C: f32[M, N] @ DRAM):
    for i in seq(0, M):
        for j in seq(0, N):
            C[i, j] = 0.0
            C[i, j] += A[i, j]


@proc
def not_gemm_transposed(M: size, N: size, K: size, A: f32[K, M] @ DRAM, B: f32[K, N] @ DRAM,
                        C: f32[M, N] @ DRAM):
    for i in seq(0, M):
        for j in seq(0, N):
            for k in seq(0, K):
                C[i, j] += A[k, i] * B[k, j]


# ---------------------------------------------------------------- NEON, under qemu


@pytest.mark.parametrize("dtype", ["f32", "f64"])
def test_neon_kernel_runs_on_aarch64(dtype):
    isa = G.target("neon").isa(dtype)
    blk = G.Blocking(mc=2 * isa.mr, kc=8, nc=2 * isa.nr)
    plain = neon_plain[dtype]
    q = G.schedule_gemm(plain, "neon", blk, threads=1)
    assert f"gemm_ukernel_{dtype}_{isa.mr}x{isa.nr}_neon(" in str(kernel_of(q))
    _, fast = G.microkernel("neon", dtype)
    assert f"neon_vfmadd_{isa.lanes}x{dtype}_{isa.lanes}x{dtype}(" in str(fast)
    check_on_arm(q, dtype, [(1, 1, 1), (isa.mr + 3, isa.nr + 5, 9),
                            (2 * isa.mr + 1, 3 * isa.nr - 1, 17), (37, 29, 20)], seed=6)


def check_on_arm(q, dtype: str, sizes, seed: int) -> None:
    """Run the kernel q under qemu-aarch64 on random M x N x K problems of `sizes`,
    against NumPy in double precision."""
    from test_neon import run_on_arm

    rng = np.random.default_rng(seed)
    t = DTYPES[dtype]
    runs, wants = [], []
    for m, n, k in sizes:
        A, B = rng.standard_normal((m, k)).astype(t), rng.standard_normal((k, n)).astype(t)
        C = rng.standard_normal((m, n)).astype(t)
        wants.append(C.astype(np.float64) + A.astype(np.float64) @ B.astype(np.float64))
        runs.append((q, {"M": m, "N": n, "K": k, "A": A, "B": B, "C": C}))
    for got, want in zip(run_on_arm(runs), wants):
        np.testing.assert_allclose(got["C"], want, rtol=1e-4 if dtype == "f32" else 1e-12,
                                   atol=1e-4 if dtype == "f32" else 1e-12)


@proc
def neon_sgemm(M: size, N: size, K: size, A: f32[M, K] @ DRAM, B: f32[K, N] @ DRAM,
               C: f32[M, N] @ DRAM):
    for i in seq(0, M):
        for j in seq(0, N):
            for k in seq(0, K):
                C[i, j] += A[i, k] * B[k, j]


@proc
def neon_dgemm(M: size, N: size, K: size, A: f64[M, K] @ DRAM, B: f64[K, N] @ DRAM,
               C: f64[M, N] @ DRAM):
    for i in seq(0, M):
        for j in seq(0, N):
            for k in seq(0, K):
                C[i, j] += A[i, k] * B[k, j]


neon_plain = {"f32": neon_sgemm, "f64": neon_dgemm}


def test_blocks_shallower_than_the_transpose_pack_a_element_by_element():
    # KC = 4 < the 8 rows of AVX-512's transposing copy: no whole block to transpose
    # (a loop of no iteration, which replace refuses), so A's slivers go element by
    # element, and the kernel still matches NumPy
    q = G.schedule_gemm(PLAIN["f32"], "avx512", G.Blocking(mc=16, kc=4, nc=64), threads=1,
                        sequential_upto=0)
    assert "Ap[" in str(kernel_of(q)) and "transpose" not in str(kernel_of(q))
    needs("avx512")
    run_against_numpy(q.compile(), "f32", [(17, 70, 11), (16, 64, 4), (9, 33, 13)], seed=5)
