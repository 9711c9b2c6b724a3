"""knit.stdlib.gemm on two threads: the blocked kernel's rows shared out (split="rows",
parallelize_rows) or columns (split="cols"), and split="auto", where each thread runs
the one-thread kernel on its part of C's columns or rows (threads_in_parts; the parts
themselves: test_gemm_parts.py). The threaded kernels' results against NumPy at odd sizes, with the
small test blocks and with the blocks chosen for this machine; their structure; and the
race check refusing a rows split whose prefetch reads the other thread's rows."""

from __future__ import annotations

import re

import pytest
from test_gemm import (
    callee,
    dgemm,
    needs,
    run_against_numpy,
    sample_sizes,
    sgemm,
    small_blocks,
)

from knit.errors import SchedulingError
from knit.stdlib import gemm as G
from knit.stdlib.gemm import schedule as S, variants as V
from knit.stdlib.scheduling import divide_loop, fuse, lift_scope
from tests.helpers.gemm_text import kernel_of
from tests.helpers.targets import check_equiv_here

PLAIN = {"f32": sgemm, "f64": dgemm}
_DONE: dict = {}


def threaded(dtype: str, split: str, blocks: str = "small"):
    """The two-thread kernel itself (no one-thread twin for small problems): the kernel
    the scheduled procedure (`scheduled`) calls, whose structure is the schedule's."""
    return kernel_of(scheduled(dtype, split, blocks))


def scheduled(dtype: str, split: str, blocks: str = "small"):
    """schedule_gemm of the plain procedure for two threads, without the one-thread twin."""
    key = (dtype, split, blocks)
    if key not in _DONE:
        isa = G.target("avx512").isa(dtype)
        blk = {"small": small_blocks("avx512", dtype),
               # four MR-row slivers per MC block: two turns per thread
               "deep": G.Blocking(mc=4 * isa.mr, kc=16, nc=4 * isa.nr),
               "machine": None}[blocks]
        _DONE[key] = G.schedule_gemm(PLAIN[dtype], "avx512", blk, threads=2,
                                     sequential_upto=0, split=split)
    return _DONE[key]


def test_rows_structure():
    text = str(threaded("f32", "rows"))
    # B's panel packed once per KC block, its slivers dealt out in turn, a par loop of
    # its own (its end: the barrier before the threads read each other's slivers)
    assert re.search(r"for pc in seq.*\n *for i1t in par\(0, 2\):\n *for i1q in seq\(0, 1\):"
                     r"\n *if .*\n *for i0 in seq\(0, 16\):\n *for i1i in seq\(0, 32\):\n"
                     r" *Bs\[i1t \+ 2 \* i1q, i0, i1i\] = B\[", text)
    # then one par loop per KC block: the thread packs its MR-row slivers of A (a whole
    # sliver 8 x 8 at a time, through registers; not the one partly past M, which no
    # tile reads: eliminate_dead_stores) and multiplies them, for every MC block
    assert re.search(r"for i0t in par\(0, 2\):\n *for ic in seq.*\n *for i0q in seq\(0, 1\):"
                     r"\n *if 8 \+ 8 \* i0t \+ 16 \* i0q \+ 16 \* ic <= M:\n.*\n"
                     r" *mm256_transpose8x8_ps\(Ap\[i0t \+ 2 \* i0q, 8 \* i1o:8 \+ 8 \* i1o, 0:8\], "
                     r"A\[8 \* i0t \+ 16 \* i0q \+ 16 \* ic:.*\n *for jr in seq", text)
    assert "Ap[i0t + 2 * i0q, i1, i0i] = A[" not in text
    assert "gemm_ukernel_f32_8x32_avx512(16, Ap[i0t + 2 * irq, 0:16, 0:8], Bs[jr, 0:16, 0:32]" \
        ", C[8 * i0t + 16 * ic + 16 * irq:" in text
    # the prefetch goes to the thread's own next tile, two tiles below
    assert re.search(r"if 2 \+ i0t \+ 2 \* ic \+ 2 \* irq < M / 8:\n *prefetch_block\(8, 32, "
                     r"C\[16 \+ 8 \* i0t \+ 16 \* ic \+ 16 \* irq:24 \+ 8 \* i0t "
                     r"\+ 16 \* ic \+ 16 \* irq, ", text)
    # all of K < KC (A read in place): one region per NC block, where each thread packs
    # all of B's panel into a panel of its own (_private_panel), then walks its MR-row
    # slivers along the row, tile by tile (tiles_along_rows), as one thread does
    assert re.search(r"for jc in seq.*\n *for irt in par\(0, 2\):\n"
                     r" *Bs_k: f32\[2, K, 32\] @ DRAM_ALIGNED64\n *for i1o in seq\(0, 2\):\n"
                     r" *if .*\n *for i0 in seq\(0, K\):\n *for i1i in seq\(0, 32\):\n"
                     r" *Bs_k\[i1o, i0, i1i\] = B\[", text)
    assert re.search(r"\n( *)for ic in seq.*\n *for irq in seq.*\n"
                     r" *if irt \+ 2 \* ic \+ 2 \* irq < M / 8:\n *for jr in seq.*\n *if jr .*\n"
                     r" *gemm_ukernel_f32_8x32_rows_avx512\(K, A\[8 \* irt.*Bs_k\[jr", text)
    # KC blocks, the last block: a B region and a tile region each; all of K < KC: one
    # region; edges
    assert text.count("for i1t in par(0, 2)") == 2
    assert text.count("for i0t in par(0, 2)") == 2 and text.count("for irt in par(0, 2)") == 1
    wide_rest = G.target("avx512").isa("f32").masked_wide_rest  # (a masked 512-bit rest)
    assert text.count(" in par(") == 2 * 2 + 1 + 2 + 5 + wide_rest
    # (parallelize_edges) no region for a loop of no iteration: `for iq < M % 8 / 4` and
    # `for jv < N % 32 / 16` (0 or 1) stay outside; the last M % 8 rows of the last
    # columns, one-row kernels, stay on one thread
    assert re.search(r"for iq in seq\(0, M % 8 / 4\):\n *for jo in par\(0, N / 32\):", text)
    assert re.search(r"if M % 4 > 0:\n *for jo in par\(0, N / 32\):\n *for ie in seq", text)
    assert re.search(r"for jv in seq\(0, N % 32 / 16\):\n *for iw in par\(0, M / 8\):", text)
    assert re.search(r"for jh in seq\(0, N % 16 / 8\):\n *for iw in par\(0, M / 8\):", text)
    assert "for ie in par(" not in text
    assert text.count("for ie in seq(0, M % 8)") == 5 + wide_rest
    assert "jt" not in text and "Bs: f32[2, 16, 32]" in text  # B's whole panel, shared


def test_rows_all_of_k_give_each_thread_its_own_panel_of_b_f64():
    # f64 packs A in the all-of-k nest too (Isa.all_k_like_blocks): the shared packed A
    # stays outside the region (each thread packs its own slivers), B's panel inside
    text = str(threaded("f64", "rows"))
    assert re.search(r"for jc in seq.*\n *Ap_k: f64\[.*\n *for i0t in par\(0, 2\):\n"
                     r" *Bs_k: f64\[2, K, 16\] @ DRAM_ALIGNED64\n *for i1o in seq\(0, 2\):", text)
    assert "Bs_k[i1t" not in text


def test_auto_shares_columns_for_few_rows_else_rows():
    q = G.schedule_gemm(sgemm, "avx512", small_blocks("avx512", "f32"), threads=2)
    k = kernel_of(q)  # (sgemm's nest a call of it)
    name = k.name()
    text = str(k)
    assert ("if M + N + K <= 280 or (N < 64 or N < 128 and N % 32 > 0) and M + N + K <= 360:"
            f"\n        {name}_seq(") in text
    par = k.find(f"{name}_par(_)").subproc()
    # fewer rows than MR, or than PASS_ROWS_MR_THREADS MR with B larger than L2: the
    # passes by columns (test_gemm_passes.py); the parts else
    l2 = V.in_place_bounds("f32")[1]
    assert (f"if 128 <= N and (1 < M or N < 1536) and (M < 8 or M < {8 * V.PASS_ROWS_MR_THREADS}"
            f" and {l2} < K + N):\n"
            f"                {name}_par_passes(M, N, K") in str(par)  # (after the GEMV's twins)
    par = callee(par, f"{name}_par_tiles")
    assert f"if M < N:\n        {name}_par_tiles_cols(M, N, K" in str(par)
    assert f"else:\n        {name}_par_tiles_rows(M, N, K" in str(par)
    cols, rows = (str(par.find(f"{name}_par_tiles_{s}(_)").subproc()) for s in ("cols", "rows"))
    kernel = V.one_thread_kernel("f32", "avx512", small_blocks("avx512", "f32"), None)[1].name()
    for text, (size, unit) in ((cols, ("N", 32)), (rows, ("M", 8))):
        assert "for t in par(0, 2):" in text and text.count(" in par(") == 1
        assert text.count(f"{kernel}(") == 2  # the parts, and all of C where they do not fit
        # each part about half, a multiple of the unit but the last: where both have one
        w = f"{unit} * (({unit} + {size}) / {2 * unit})"
        assert f"if {unit} <= {w} and {w} < {size}:" in text
    assert "B[0:K, t * (" in cols and "A[t * (" in rows
    assert q.is_eq(sgemm)
    # both sides of each condition, and their boundaries (M + N + K > 280: the threads;
    # (15, 15, 90), (40, 64, 89), (1, 200, 33) run the one-thread twin; few columns up
    # to M + N + K = 360 too, past it the threads)
    needs("avx512")
    run_against_numpy(q.compile(), "f32", [(8, 64, 209), (9, 64, 208), (16, 65, 200),
                                           (16, 64, 201), (17, 300, 50), (16, 256, 15),
                                           (16, 255, 15), (9, 257, 15), (15, 255, 16),
                                           (8, 280, 9), (8, 255, 20), (100, 64, 120),
                                           (15, 15, 90), (40, 64, 89), (1, 200, 33),
                                           (200, 32, 128), (200, 33, 127), (150, 100, 111),
                                           (150, 100, 110), (300, 8, 300)])


@pytest.mark.parametrize("dtype", ["f32", "f64"])
@pytest.mark.parametrize("blocks", ["small", "deep"])
def test_rows_match_numpy_on_sampled_sizes(dtype, blocks):
    needs("avx512")
    f = threaded(dtype, "rows", blocks).compile()
    run_against_numpy(f, dtype, sample_sizes("avx512", dtype, 6, seed=5), seed=5)
    run_against_numpy(f, dtype, sample_sizes("avx512", dtype, 3, seed=6), strided=True, seed=6)


@pytest.mark.parametrize("split", ["rows", "cols"])
def test_machine_blocks_match_numpy_at_odd_sizes(split):
    # the blocks of the benchmark (MC, KC, NC from the caches): sizes across one MC and
    # one KC block, an odd number of MR-row slivers, N below and above one NR sliver
    needs("avx512")
    f = threaded("f32", split, "machine").compile()
    blk = G.choose_blocking(G.target("avx512").isa("f32"), 4)
    mc, kc = blk.mc, blk.kc
    run_against_numpy(f, "f32", [(mc + 9, 70, kc + 1), (3 * 8 + 5, 333, 2 * kc - 3),
                                 (101, 31, 300), (mc - 8, 2 * 32 + 1, kc - 1)], seed=3)


def test_cols_take_slivers_two_side_by_side_where_nc_allows():
    # NC = 4 NR: each thread's two slivers of the NC block side by side (sliver_group),
    # packed once per pc, ic into Bs[2][KC][NR], row by row where both are inside N
    # (each row of B read 2 NR columns at a time), else sliver by sliver, checked
    blk = G.Blocking(mc=16, kc=16, nc=128)
    assert S.sliver_group(blk, 32, 2) == 2 and S.sliver_group(blk, 32, 1) == 1
    assert S.sliver_group(G.Blocking(mc=16, kc=16, nc=64), 32, 2) == 1  # NC = 2 NR
    text = str(threaded("f32", "cols", "deep"))
    assert "Bs: f32[2, 16, 32] @ DRAM_ALIGNED64" in text
    assert re.search(r"for jq in seq\(0, 1\):\n *if 64 \+ 64 \* jt \+ 128 \* jc \+ 128 \* jq <= N:"
                     r"\n *for i0 in seq\(0, 16\):\n *for i1o in seq\(0, 2\):\n *for i1i in seq"
                     r"\(0, 32\):\n *Bs\[i1o, i0, i1i\] = B\[i0 \+ 16 \* pc, i1i \+ 32 \* i1o \+ 64 \* jt"
                     r" \+ 128 \* jc \+ 128 \* jq\]", text)
    # the sliver 2 (2 jq + jt) + jg of the NC block, its tiles, the prefetch of the next
    assert re.search(r"for jg in seq\(0, 2\):\n *if jg \+ 2 \* jt \+ 4 \* jc \+ 4 \* jq < N / 32:", text)
    assert "Bs[jg, 0:16, 0:32], C[8 * ir + 32 * ic:8 + 8 * ir + 32 * ic, 32 * jg + 64 * jt + " \
        "128 * jc + 128 * jq:" in text
    assert "prefetch_block(8, 32, C[8 + 8 * ir + 32 * ic:16 + 8 * ir + 32 * ic, 32 * jg + " \
        "64 * jt + 128 * jc + 128 * jq:" in text


@pytest.mark.parametrize("dtype", ["f32", "f64"])
def test_cols_in_groups_match_numpy_on_sampled_sizes(dtype):
    # N across groups partly past N (one sliver of the pair inside, or part of one)
    needs("avx512")
    f = threaded(dtype, "cols", "deep").compile()
    nr = G.target("avx512").isa(dtype).nr
    edges = [(9, nr + 1, 17), (17, 2 * nr + 3, 40), (20, 3 * nr - 1, 33), (8, 5 * nr, 16),
             (31, 7 * nr + 5, 50)]
    run_against_numpy(f, dtype, edges + sample_sizes("avx512", dtype, 5, seed=7), seed=7)
    run_against_numpy(f, dtype, sample_sizes("avx512", dtype, 3, seed=8), strided=True, seed=8)


def test_cols_in_groups_are_equivalent_to_the_plain_proc():
    q = scheduled("f64", "cols", "deep")
    assert q.is_eq(dgemm)
    isa = G.target("avx512").isa("f64")
    sizes = {"M": [1, isa.mr + 1, 3 * isa.mr + 2], "N": [1, isa.nr + 3, 3 * isa.nr + 1,
                                                         5 * isa.nr - 2], "K": [1, 17, 33]}
    assert check_equiv_here(dgemm, q, "avx512", trials=4, sizes=sizes).trials == 4


def test_rows_are_equivalent_to_the_plain_proc():
    q = scheduled("f64", "rows", "deep")
    assert q.is_eq(dgemm)
    isa = G.target("avx512").isa("f64")
    sizes = {"M": [1, isa.mr + 1, 3 * isa.mr + 2, 5 * isa.mr - 1],
             "N": [1, isa.nr + 3, 2 * isa.nr + 1], "K": [1, 17, 33]}
    assert check_equiv_here(dgemm, q, "avx512", trials=4, sizes=sizes).trials == 4


def test_a_thread_reading_the_others_slivers_of_a_is_refused():
    # parallelize_rows deals A's MR-row slivers out in the same turns as the tiles, so
    # each thread reads only the slivers it packed, and the two loops fuse into one par
    # loop. Dealt out in halves instead (thread 0 packing slivers 0 and 1 of the MC
    # block but multiplying 0 and 2), fusing is refused: thread 0 would read a sliver
    # before thread 1 packs it
    q = kernel_of(G.schedule_gemm(sgemm, "avx512", G.Blocking(mc=32, kc=16, nc=64), threads=1))
    q = S._deal_out(q, S.MAIN, "i1o", 2, "i1")
    q = S._deal_out(q, S.MAIN, "ir", 2, "ir")
    for _ in range(2):
        q = lift_scope(q, S._find(q, S.MAIN, "irt"))
    halves = divide_loop(q, S._find(q, S.MAIN, "i0o"), 2, ["i0t", "i0q"], perfect=True)
    with pytest.raises(SchedulingError, match=r"fuse: fusing would reorder a dependence: the "
                       r"second loop reads Ap\[2 \* irq \+ i0t"):
        fuse(halves, S._find(halves, S.MAIN, "i0t"), S._find(halves, S.MAIN, "irt"))
    turns = S._deal_out(q, S.MAIN, "i0o", 2, "i0")  # the same turns: accepted
    fused = fuse(turns, S._find(turns, S.MAIN, "i0t"), S._find(turns, S.MAIN, "irt"))
    assert "for i0t in seq(0, 2)" in str(fused) and "for irt" not in str(fused).split(
        "for pc")[1].split("for jc")[0]


def test_refuses_an_unknown_split():
    with pytest.raises(ValueError, match="split must be 'auto', 'rows' or 'cols', not 'k'"):
        G.schedule_gemm(sgemm, "avx512", threads=2, split="k")



@pytest.mark.parametrize("dtype", ["f32", "f64"])
def test_the_benchmarks_kernel_matches_numpy_on_sampled_sizes(dtype):
    # schedule_gemm(threads=2) as benchmarks/sgemm.py calls it: this machine's blocks,
    # the one-thread twin for small problems, the threads' parts of columns (M < N) or
    # rows (sizes in 1..300 fall on both sides of each condition and of the parts' own
    # blocks), dense and strided
    needs("avx512")
    q = G.schedule_gemm(PLAIN[dtype], "avx512", threads=2)
    blk = G.choose_blocking(G.target("avx512").isa(dtype), 4 if dtype == "f32" else 8)
    mc = blk.mc
    nr = G.target("avx512").isa(dtype).nr
    mr = G.target("avx512").isa(dtype).mr
    name = kernel_of(q).name()  # (q: a call of it)
    assert "if M < N:" in str(callee(kernel_of(q), f"{name}_par", f"{name}_par_tiles"))
    f = q.compile()
    h = mc // 2
    edges = [(mc, mc + 1, 300), (mc + 1, mc + 1, 129), (mc + 9, 65, 257), (40, 64, 89),
             (h, h, 70), (h + 1, h + 1, 70), (h + 1, 4 * h + 5, 33), (h + 1, 4 * h + 4, 33),
             (mc, 4 * mc + 1, 9), (mc, mc, blk.kc - 1), (mc, mc, blk.kc),
             (100, 8 * nr, 70), (100, 8 * nr - 1, 70), (40, 64, 89),
             (4 * mr, 8 * nr - 1, 200), (4 * mr + 1, 8 * nr - 1, 200)]
    run_against_numpy(f, dtype, edges + sample_sizes("avx512", dtype, 8, seed=11), seed=11)
    run_against_numpy(f, dtype, sample_sizes("avx512", dtype, 4, seed=12), strided=True,
                      seed=12)
