"""GEMM scheduling: from three plain loops to a BLIS-style kernel, with the public API.

    from knit.stdlib.gemm import schedule_gemm
    fast = schedule_gemm(gemm)            # this CPU's target ("host"), or "avx512",
                                          # "avx2", "neon"; threads=1 or 2

`gemm` is any procedure of the shape

    for i in seq(0, M):
        for j in seq(0, N):
            for k in seq(0, K):
                C[i, j] += A[i, k] * B[k, j]

(any names; A, B, C tensors, or windows -- views of larger matrices -- with unit stride
along their rows; f32 or f64; sizes parameters, numbers or expressions, one name for
several loops, with any assertions). The result computes the same thing, proven step
by step like any schedule: `gemm` with its nest a call of the kernel of the plain GEMM
(M, N, K as parameters), built once per type, target, blocks, shape and threads in a
process and called by every procedure scheduled with them (`one_thread_kernel`,
`threaded_kernel`; the threads' parts call the one-thread kernel too). That kernel
is organised as BLIS organises it (Van Zee and van de Geijn, "BLIS: A Framework for
Rapidly Instantiating BLAS Functionality", 2015):

    for jc: NC columns of C at a time
      for pc: KC of the k range
        pack B[pc, jc] into Bs[NC / NR][KC][NR]    (the KC x NC panel, once, in L3)
        for ic: MC rows                            (A's MC x KC block, in L2)
          pack A[ic, pc] into Ap[MC / MR][KC][MR]
          for jr: NR-column slivers                (a KC x NR sliver, in L1 or L2 ...)
            for ir: MR rows                        (... while the MR-row tiles pass)
              microkernel: C[MR, NR] += Ap[ir] * Bs[jr]   (MR x NR of C in registers)

Where 512-bit multiply-adds run at full width (two a cycle: Intel's AVX-512, not Zen 4)
the register kernels' k loop runs in chunks of 4 (`Isa.k_unroll`, then the K % 4 left),
so that the loop's own control costs a quarter of what it did per multiply-add.

With threads > 1, each thread runs the one-thread kernel on its own part of C's
columns (M < N) or rows: one par loop, a whole GEMM per thread (`threads_in_parts`,
module `parts`). With split="rows" or "cols" the threads instead share the tiles of
the blocked kernel (the same blocks): the MR-row slivers of each MC block in turn
(`parallelize_rows`: per KC block, a par loop packing B's panel sliver by sliver, then
one over the tiles, each thread packing the slivers of A it reads), or the NR-column
slivers of each NC block (`parallelize`: one par loop per NC block, each thread packing
its own slivers of B, two side by side and row by row where NC allows, and all of A). All of k in a small problem (K < KC) reads A in place, with
the MR x NR kernel on rows of A; each thread walks those tiles along MR rows of C
(`tiles_along_rows`: for ir: for jr), as C's traffic is their cost.

The edges are cut off first and kept as loop nests of their own: K % KC joined to the
last block of k (KC + K % KC deep, not a pass of its own over C); the last M % MR rows by 4- and 1-row kernels reading A and B in
place (one thread: in passes over k, `edge_rows_in_passes`); the last N % NR columns (B's copied once, side by side) by whole-vector kernels,
then (AVX-512) a whole 256-bit vector, then up to a quarter of the lanes a whole or
masked 128-bit one, more a masked 256-bit one (AVX2: more than half the lanes one masked
256-bit vector, else a whole or masked 128-bit one, masks as blends,
`knit.platforms.x86.avx2_masked`; plain loops on NEON), or, where
a masked 512-bit multiply-add costs what a 256-bit one does (`Isa.masked_wide_rest`),
more than half the lanes one masked 512-bit vector, 8 rows at a time. With threads > 1, small problems (M + N + K <= 280, or N < 2 NR) call a one-thread twin of
the kernel. Cache blocks that run past the matrix are guarded (their copies too), so no
user array is padded. Cache blocks come from this machine's cache sizes
(`choose_blocking`) unless given; then one thread on a small problem (N + K <= 512; on
an L2 under 1 MB the same share of it: `small_bounds`)
takes a kernel of its own, without cache blocks or packed copies, its MR x NR tiles
along the rows of C reading A and B in place (`small_in_place`, `schedule_small`), and
so do a few tiles of rows (M <= 6 MR f32, 4 MR f64), up to 16 MR rows where B takes
at most half of L2, and (f32) up to 5 NR columns with K <= 2048 (less on an L2 under 2 MB); on rows of one MC block (M <= MC) a narrower NC, so that B's
packed panel stays in L2 (`rows_in_one_block`). Fewer rows than MR (a GEMV at M = 1),
and that few rows where B is larger than L2, run in passes over 8 k at a time, B read
a few whole rows at a time (`schedule_k_passes`); with threads, fewer than 3 MR rows
where B is larger than L2 too, in column chunks shared out (`k_passes_by_columns`).
One column (N = 1, a GEMV: C = A x) with at least a register of k runs as dot products
of A's rows with B's column, vectorized along k, 4 rows at a time (threads share out
the rows; `gemv_by_rows`, module `gemv`; where schedule_gemm chooses the variants: not
with blocks given on one thread, nor split "rows" or "cols"): the tiles would use one
lane of each register.

Modules: `targets` (registers and instructions from knit.platforms; blocks from cache
sizes), `kernels` (the register kernels, each scheduled from plain loops), `schedule`
(the steps, each an ordinary function from procedure to procedure, and `blocked_kernel`,
which puts them together), `gemv` (one column as dot products), `parts` (threads each
running a kernel on a part of C), `variants` (`schedule_gemm` and which kernel runs:
branches on the problem's size, each scheduled on its own).
"""

from knit.stdlib.gemm.gemv import gemv_kernel, schedule_gemv
from knit.stdlib.gemm.kernels import (
    masked_kernel,
    microkernel,
    microkernel_ref,
    pad_loop,
    schedule_masked_kernel,
    schedule_microkernel,
)
from knit.stdlib.gemm.parts import in_parts, part_bounds, threads_take_parts
from knit.stdlib.gemm.schedule import (
    EDGE_ROWS,
    LAST,
    MAIN,
    REST,
    GemmParts,
    block_for_caches,
    call_microkernel,
    cut_edges,
    edge_column_kernels,
    edge_columns,
    edge_rows,
    edge_rows_in_passes,
    gemm_parts,
    pack_panels,
    parallelize,
    parallelize_edges,
    prefetch_next_tile,
    tiles_along_rows,
)
from knit.stdlib.gemm.targets import (
    TARGETS,
    Blocking,
    Isa,
    Target,
    cache_sizes,
    choose_blocking,
    host_target,
    target,
)
from knit.stdlib.gemm.variants import (
    PASS_ROWS_MR,
    PASS_ROWS_MR_THREADS,
    SEQUENTIAL_UPTO,
    SMALL_NARROW_K,
    SMALL_NARROW_NR,
    SMALL_ROWS_MR,
    SMALL_UPTO,
    few_rows_blocking,
    few_rows_by_columns,
    few_rows_in_passes,
    gemv_by_rows,
    in_place_bounds,
    k_passes_by_columns,
    one_thread_kernel,
    one_thread_variants,
    rows_in_one_block,
    schedule_gemm,
    schedule_k_passes,
    schedule_small,
    small_in_place,
    small_runs_sequential,
    threaded_kernel,
    threads_in_parts,
)

__all__ = ["EDGE_ROWS", "LAST", "MAIN", "REST", "PASS_ROWS_MR", "PASS_ROWS_MR_THREADS", "SEQUENTIAL_UPTO", "SMALL_NARROW_K", "SMALL_NARROW_NR", "SMALL_ROWS_MR", "SMALL_UPTO", "TARGETS", "Blocking", "GemmParts", "Isa", "Target", "block_for_caches", "cache_sizes",
           "call_microkernel", "choose_blocking", "cut_edges", "edge_column_kernels", "edge_columns",
           "edge_rows", "edge_rows_in_passes", "few_rows_blocking", "gemm_parts", "gemv_by_rows", "gemv_kernel", "host_target", "masked_kernel", "microkernel", "microkernel_ref",
           "pack_panels", "pad_loop", "parallelize", "parallelize_edges", "prefetch_next_tile",
           "one_thread_variants", "rows_in_one_block", "few_rows_by_columns", "few_rows_in_passes",
           "in_place_bounds", "k_passes_by_columns", "one_thread_kernel", "threaded_kernel", "threads_in_parts", "threads_take_parts", "in_parts", "part_bounds", "schedule_k_passes",
           "schedule_gemm", "schedule_gemv", "schedule_masked_kernel", "schedule_microkernel", "schedule_small",
           "small_in_place", "small_runs_sequential", "target", "tiles_along_rows"]
