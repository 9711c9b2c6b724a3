"""SGEMM, BLIS-style, from three plain loops: the schedule of knit.stdlib.gemm, step by step.

    make demo        (or: .venv/bin/python examples/sgemm.py)

Each step below is one function of knit.stdlib.gemm, itself a short sequence of knit's
checked primitives (divide_loop, reorder_loops, stage_mem, replace, parallelize_loop...).
Every rewrite is proven to keep the meaning; the result is also run against NumPy.
`schedule_gemm(sgemm, "host")` does all of it in one call for this CPU's target
(`host_target()`: "avx512", "avx2" or "neon") -- this file shows the way there, printing
the main loop nest after each step.
"""

from __future__ import annotations

import os
import time
from functools import partial

# one BLAS thread for the comparison (read when NumPy loads OpenBLAS)
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "2")

import numpy as np  # noqa: E402

import knit  # noqa: E402
from knit import proc  # noqa: E402
from knit.stdlib import gemm as G  # noqa: E402
from knit.stdlib.scheduling import simplify  # noqa: E402


@proc
def sgemm(M: size, N: size, K: size, A: [f32][M, K] @ DRAM, B: [f32][K, N] @ DRAM,
          C: [f32][M, N] @ DRAM):
    # A, B and C are windows: views of larger matrices work (lda, ldb, ldc)
    assert stride(A, 1) == 1
    assert stride(B, 1) == 1
    assert stride(C, 1) == 1
    for i in seq(0, M):
        for j in seq(0, N):
            for k in seq(0, K):
                C[i, j] += A[i, k] * B[k, j]


def show(title: str, p, top: int | None = 0, lines: int = 40) -> None:
    print(f"\n== {title} ==")
    text = str(p) if top is None else str(p.body()[top])
    rows = text.splitlines()
    print("\n".join(rows[:lines]) + ("\n    ..." if len(rows) > lines else ""))


def schedule_step_by_step(target: str = "avx512"):
    g = G.gemm_parts(sgemm)
    isa = G.target(target).isa("f32")
    mr, nr = isa.mr, isa.nr
    blk = G.choose_blocking(isa, 4, threads=2)  # (the blocks of the two-thread kernel)
    print(f"target {target}: {isa.lanes} floats per register, a {mr} x {nr} block of C in "
          f"{mr * nr // isa.lanes} registers; cache blocks from this machine's caches "
          f"{G.cache_sizes()}: MC = {blk.mc}, KC = {blk.kc}, NC = {blk.nc}")

    # 1. Cut the loops into whole MR x NR tiles and the edges (nothing is padded): the
    #    tiles with k in blocks of KC and, when K >= KC, a last block of KC + K % KC
    #    (the rest of K joined to it, not a pass of its own over C); all of k when
    #    K < KC; the last M % MR rows; the last N % NR columns. The three tile nests
    #    are G.MAIN, G.LAST and G.REST (paths into `if K >= KC: ... else: ...`).
    p = G.cut_edges(sgemm, g, mr, nr, blk.kc)
    show("1. whole tiles and edges (cut_edges): five nests", p, None, 60)

    # 2. Cache blocking, in BLIS's order, per thread: NC columns (jc), the thread (jt,
    #    which takes every other NR-column sliver of the block), KC of k (pc), MC rows
    #    (ic), the thread's slivers (jq), MR rows (ir). Blocks partly past the matrix
    #    are guarded, not padded.
    for top in (G.MAIN, G.LAST, G.REST):
        p = G.block_for_caches(p, top, top == G.MAIN, mr, nr, blk, threads=2)
    show("2. cache blocks (block_for_caches)", p)

    # 3. Packing: stage_mem copies A's MC x KC block and each KC x NR sliver of B into
    #    buffers laid out as the microkernel reads them (Ap[MC/MR][KC][MR], Bs[KC][NR]),
    #    private to each thread; A's copy streams and checks bounds once per MR rows,
    #    and a whole MR-row sliver goes through the target's transposing instruction
    #    (isa.pack_a: 8 x 8 floats per call on AVX-512) instead of element by element.
    #    (With one thread, B's whole KC x NC panel is packed once per pc instead.) The
    #    last block's buffers are KC + K % KC deep. All of k when K < KC (a small
    #    problem) reads A in place (None: no copy).
    names = {G.MAIN: ("Ap", "Bs"), G.LAST: ("Ap_l", "Bs_l"), G.REST: (None, "Bs_k")}
    for top in names:
        p = G.pack_panels(p, top, g, mr, nr, blk, 2, names[top], transpose=isa.pack_a)
    show("3. packed panels (pack_panels)", p)

    # 4. The microkernel: a plain rank-K update of an MR x NR block, scheduled onto
    #    registers (C stays in registers for the whole k loop; per k, NR/lanes loads of
    #    B, MR broadcasts of A, MR*NR/lanes FMAs).
    ref, fast = G.microkernel(target, "f32")
    show("4a. the microkernel, as written", ref, None)
    show("4b. ... and scheduled (schedule_microkernel)", fast, None)

    # 5. `replace` finds the microkernel's loops in the GEMM by unification (windows of
    #    the packed buffers and of C), `call_eqv` swaps in the scheduled twin, with
    #    K = KC + K % KC in the last block; all of k < KC calls the same kernel on MR
    #    rows of A in place.
    p = G.call_microkernel(p, G.MAIN, ref, fast)
    p = G.call_microkernel(p, G.LAST, ref, fast, depth=g.k)
    p = G.call_microkernel(p, G.REST, *G.microkernel(target, "f32", False, (mr, nr)),
                           depth=g.k)
    # (With one thread, the K < KC nest then walks its tiles along MR rows of C,
    #  G.tiles_along_rows: each call is K deep only, and C's rows stream in order.)
    # ... and before each call, the next tile's C is prefetched, a cache line at a time
    #    (the call specialized on a next tile existing, so that the prefetch is inside C)
    #    (on targets with a prefetch instruction: NEON's library has none)
    prefetch = G.target(target).prefetch
    for top in (G.MAIN, G.LAST) if prefetch is not None else ():
        p = G.prefetch_next_tile(p, top, g, mr, nr, blk, 2, prefetch)
    show("5. the microkernel called (call_microkernel)", p)

    # 6. The edges: rows by 4 x NR and 1 x NR kernels reading A and B in place, columns
    #    by whole vectors, then (AVX-512) a whole 256-bit vector and masked 256-bit ones
    #    (a masked 512-bit multiply-add costs more) or (AVX2) masked 256-bit and whole or
    #    masked 128-bit ones, eight rows at a time (eight FMA chains), then one by one.
    p = G.edge_rows(p, 1, g, G.microkernel(target, "f32", False, (4, nr)),
                    G.microkernel(target, "f32", False, (1, nr)))
    p = G.edge_columns(p, 2, g, isa.lanes, *G.edge_column_kernels(target, "f32"))
    show("6. the edges", p, None, 200)

    # 7. Two threads, last (a procedure holding par loops makes every later check
    #    dearer): the jt loops become `par`, one OpenMP region per NC block, and the
    #    edges share out their rows or columns; parallelize_loop proves that the threads
    #    touch disjoint parts of C and buffers.
    p = G.parallelize_edges(p, g)
    for top in (G.MAIN, G.LAST, G.REST):
        p = G.parallelize(p, top)
    p = simplify(p)
    show("7. the par loops (parallelize)", p)

    # 8. Small problems do not pay for a parallel region: schedule_gemm(threads=2) wraps
    #    the kernel above and its one-thread twin in `if M + N + K <= 280 or (N < 2 NR or
    #    N < 4 NR and N % NR > 0) and M + N + K <= 360` (small_runs_sequential: too few
    #    columns to share, unless the rows are many), each branch an extracted procedure;
    #    and one column (N == 1, a GEMV) takes dot products of A's rows with B's column
    #    instead, vectorized along k (gemv_by_rows: the tiles would use one lane).
    #
    # 9. What schedule_gemm(threads=2) runs by default (split="auto") is simpler still:
    #    each thread calls the one-thread kernel on its own half of C's columns (M < N)
    #    or rows, `for t in par(0, 2): gemm_f32_<target>(M, hi(t) - lo(t), K, A,
    #    B[:, lo(t):hi(t)], C[:, lo(t):hi(t)])` (knit.stdlib.gemm.parts: the loop cut in
    #    two, rolled into a par loop by join_loops, each half replaced by a call). One
    #    parallel region and no barrier per call; the tiles shared as above (split="cols"
    #    or "rows") ran 0.89-0.99x OpenBLAS's two threads at 512-2048 here, the halves
    #    0.95-1.14x. The steps above stay the blocked kernel a thread runs, and
    #    split="cols" gives them as they are. (schedule_gemm builds each kernel once,
    #    for the plain GEMM, and makes sgemm's nest a call of it.)
    return p


def best_gflops(f, flops: float, reps: int, rounds: int = 7) -> float:
    best = float("inf")
    for _ in range(rounds):
        t = time.perf_counter()
        for _ in range(reps):
            f()
        best = min(best, (time.perf_counter() - t) / reps)
    return flops / best / 1e9


def same_code(p, q) -> bool:
    """Whether procedures p and q hold the same code, whatever their names."""
    return str(p).split("\n", 1)[1] == str(q).split("\n", 1)[1]


def main() -> None:
    # this CPU's target: AVX-512 where it has it, else AVX2 (or NEON on Arm)
    target = G.host_target()
    t = time.perf_counter()
    fast = schedule_step_by_step(target)
    took = time.perf_counter() - t
    # the steps above are those of schedule_gemm's split="cols" (split="auto", the
    # default: step 9), which makes sgemm's nest a call of the kernel they make
    library = G.schedule_gemm(sgemm, target, sequential_upto=0, split="cols")
    assert same_code(fast, library.body()[0].subproc()), "the steps are schedule_gemm's"
    print(f"\nscheduled in {took:.2f} s (printing included); proven equivalent by its rewrite "
          f"history: {fast.is_eq(sgemm)}")
    knit.check_equiv(sgemm, fast, trials=3, sizes={"M": [3, 15, 29], "N": [5, 33, 70],
                                                   "K": [1, 7, 20]})
    print("and agreeing with the plain loops on 3 random inputs (compiled C and interpreter)")

    one = G.schedule_gemm(sgemm, target, threads=1).compile()
    two = G.schedule_gemm(sgemm, target, threads=2).compile()
    print(f"\n== SGEMM ({target}), GFLOP/s (best of 7), NumPy on 1 OpenBLAS thread; load average "
          f"{open('/proc/loadavg').read().split()[:3]} ==")
    print(f"{'M=N=K':>6} {'knit 1T':>8} {'NumPy 1T':>9} {'ratio':>6} {'knit 2T':>8}")
    rng = np.random.default_rng(0)
    for n in (128, 256, 333, 512, 1024):
        A, B = rng.random((n, n), "f4"), rng.random((n, n), "f4")
        C = np.zeros((n, n), "f4")
        one(n, n, n, A, B, C)
        assert np.allclose(C, A @ B, rtol=1e-4), "knit disagrees with NumPy"
        reps = max(1, int(5e7 / n ** 3))
        flops = 2.0 * n ** 3
        g1 = best_gflops(partial(one, n, n, n, A, B, C), flops, reps)
        gn = best_gflops(partial(np.matmul, A, B), flops, reps)
        g2 = best_gflops(partial(two, n, n, n, A, B, C), flops, reps)
        print(f"{n:>6} {g1:>8.1f} {gn:>9.1f} {g1 / gn:>6.2f} {g2:>8.1f}")
    print("\nThe full comparison (2 threads, f64, peak, plot): benchmarks/sgemm.py")


if __name__ == "__main__":
    main()
