"""Which kernel runs: `schedule_gemm`, the entry point, and the twins it chooses between,
`if <condition on M, N, K>: p_a(...) else: p_b(...)`, each branch a schedule of its own
(`_twins`; the blocked kernel itself is knit.stdlib.gemm.schedule's `blocked_kernel`).
Every kernel is scheduled from the plain GEMM (M, N, K as parameters) once per process
(`one_thread_kernel`, `threaded_kernel`); schedule_gemm makes the user's nest a call
of it.

- `gemv_by_rows`: one column (N = 1) as dot products of A's rows with B's column
  (`knit.stdlib.gemm.gemv`), one thread or threads; else
- `small_in_place`: one thread, small problems (N + K small), few rows (up to 6 MR f32,
  4 MR f64: `PASS_ROWS_MR`), up to 16 MR rows with B at most half of L2, or (f32) up
  to 5 NR columns with K <= 2048 read A and B in place, without cache blocks: `few_rows_in_passes` -- fewer rows than MR, or that few rows with B larger
  than L2, in passes over k (`schedule_k_passes`), the others `schedule_small`;
- `rows_in_one_block`: one thread, rows of one MC block take blocks with NC cut to L2;
- `small_runs_sequential`: threads only where the problem is large enough to share out;
- `few_rows_by_columns`: threads, fewer rows than MR, or than 3 MR with B larger than
  L2: column chunks shared out, each in passes over k (`k_passes_by_columns`); else
- `threads_in_parts`: each thread runs the one-thread kernel on its part of C's
  columns (M < N) or rows (`knit.stdlib.gemm.parts`).

With split "rows" or "cols" the threads share the tiles of the blocked kernel instead
(`schedule.blocked_kernel`: `parallelize_rows`, `parallelize`)."""

from __future__ import annotations

import functools
import math
from dataclasses import replace

from knit.procedure import Procedure
from knit.stdlib.gemm import schedule as S  # the steps
from knit.stdlib.gemm.gemv import ROWS as GEMV_ROWS, gemv_kernel, has_gemv
from knit.stdlib.gemm.kernels import microkernel, plain_gemm
from knit.stdlib.gemm.parts import threads_take_parts
from knit.stdlib.gemm.targets import (
    Blocking,
    _isa,
    a_l2_share,
    cache_sizes,
    check_arguments,
    check_blocking,
    check_shape,
    choose_blocking,
    resolve,
    target,
)
from knit.stdlib.sched_subprocs import extract_subproc, inline, replace as replace_block
from knit.stdlib.scheduling import (
    call_eqv,
    delete_pass,
    divide_loop,
    eliminate_dead_code,
    fission,
    lift_scope,
    parallelize_loop,
    rename,
    reorder_loops,
    rewrite_expr,
    simplify,
    specialize,
)
from knit.stdlib.vectorizing import bound_loop_by_if

# One thread on a problem with N + K at most this multiplies A and B where they are,
# without cache blocks (`small_in_place`): B (K x N, at most 256 x 256 x its element) is
# read by every MR rows of C from L1 or L2, and a packed copy costs more than it saves
# (100^3 f32: the packing took 0.8 of 21 us). Measured on AMD Zen 4 (session 8, 768
# lost at 384^3), L2 of SMALL_UPTO_L2, where a square f32 B of 256 x 256 takes a
# quarter; `small_bounds` keeps that share on a smaller L2
SMALL_UPTO = 512
SMALL_UPTO_L2 = 1 << 20

# Fewer rows than MR (a GEMV at M = 1): the product in passes of this many k each
# (`schedule_k_passes`)
K_PASS = 8
# ... and, one thread, up to this many MR rows where B is larger than L2 (per element
# type), and up to SMALL_ROWS_MR MR rows where it is at most half of L2, B read in place
# (`small_in_place`, `in_place_bounds`). f32 up to 6 MR (Intel Xeon, one thread, knit /
# OpenBLAS, blocked -> passes: 36 x 1000 x 1000 0.73x -> 0.85x, 44 x 1500 x 1500 0.71x
# -> 0.90x, 48 x 600 x 600 0.80x -> 1.24x, 33 x 3000 x 500 0.81x -> 1.02x; 7 MR lost:
# 56 x 700 x 700 0.89x -> 0.74x); f64 up to 4 MR (6: 48 x 600 x 600 0.92x -> 0.83x,
# 44 x 1500 x 1500 0.76x -> 0.85x)
PASS_ROWS_MR = {"f32": 6, "f64": 4}
SMALL_ROWS_MR = 16
# ... and, one thread, f32: up to this many NR columns with K up to SMALL_NARROW_K (B at
# most 1.3 MB), any M, read in place too (`small_in_place`). Intel Xeon, one thread,
# knit / OpenBLAS, blocked -> in place: 2048 x 64 x 2048 1.07x -> 1.42x, 1000 x 100 x
# 1000 0.97x -> 1.11x, 300 x 100 x 2000 0.90x -> 1.12x, 150 x 150 x 1500 0.87x -> 1.01x,
# 250 x 128 x 1024 1.09x -> 1.29x, 2048 x 128 x 2048 1.05x / 1.03x, 256 x 160 x 2048
# 1.09x / 1.08x; but 128 x 200 x 2000 0.98x -> 0.90x, and f64 lost (150 x 150 x 1500
# 1.12x -> 0.79x, 100 x 100 x 2000 1.19x -> 0.99x)
SMALL_NARROW_NR = {"f32": 5}
SMALL_NARROW_K = 2048
SMALL_NARROW_L2, SMALL_NARROW_AT_NR = 2 << 20, 32  # (the Xeon's L2 and AVX-512's NR)
# ... and, with threads, fewer than this many MR rows where B is larger than L2
# (`few_rows_by_columns`)
PASS_ROWS_MR_THREADS = 3
# ... and, with threads, in chunks of this many columns, from WIDE_FROM columns on of the
# second (`k_passes_by_columns`)
PASS_COLUMNS = (128, 512)
WIDE_FROM = 2048


# Up to M + N + K = 280 (93 x 93 x 93), a threaded GEMM calls the one-thread kernel: its
# parallel regions (the tiles', and one per class of last rows and columns) cost more
# than the work they share. Measured by the wall clock on both sides (two threads with
# `sequential_upto=0` against the one-thread kernel, gemm_ab.py --threads 2 --pin, knit /
# OpenBLAS 2T): f32 88^3 0.85x against 1.11-1.14x, 92^3 0.70x / 1.02x, 100 x 100 x 80
# 0.98x / 1.01-1.06x, 64 x 100 x 100 1.07-1.10x / 1.14x; f64 88^3 0.85-0.87x / 1.00x,
# 92^3 0.82-0.85x / 0.99-1.01x; but 96^3 f32 1.21-1.31x / 1.03x, f64 1.07-1.10x / 0.99-
# 1.02x, 80 x 96 x 112 f32 1.22-1.24x / 1.09-1.11x. The threshold is the same for f32
# and f64 (NR 32 and 16): the regions' cost, not the slivers, once few columns are
# shared by rows (the blocked kernel's tiles, before session 17). (OpenBLAS's cut-off
# is M N K <= 64^3; knit's conditions are affine, hence the sum.)
SEQUENTIAL_UPTO = 280
# ... and up to M + N + K = 360 where the columns are too few to share: at most one
# NR-column sliver per thread, or, where the last sliver is partial, fewer than two whole
# ones per thread (`small_runs_sequential`). Beyond, the rows are shared: before this
# bound every such problem ran on one thread, whatever M and K (Intel Xeon, f32, --pin,
# wall clock, one thread / two: 2048 x 32 x 2048 127 / 229 GFLOP/s, 512 x 32 x 512 153 /
# 252, 100 x 100 x 2048 122 / 197, 128 x 100 x 1000 139 / 202, 200 x 100 x 200 183 /
# 232; but 120 x 100 x 120 179 / 163, 140 x 100 x 140 179 / 174, 100 x 100 x 160 176 /
# 147, 160 x 100 x 100 176 / 170; 160 x 32 x 160 219 / 233, the one miss)
NARROW_UPTO = 360


def schedule_gemm(p: Procedure, target_name: str = "host", blocking: Blocking | None = None,
                  threads: int = 2, shape: tuple[int, int] | None = None,
                  sequential_upto: int = SEQUENTIAL_UPTO, split: str = "auto") -> Procedure:
    """The BLIS-style kernel of the plain GEMM `p` for `target_name` ("avx512", "avx2",
    "neon", or "host", the default: this CPU's, `host_target`); `blocking` overrides
    the cache blocks chosen from this machine's caches; `shape` the (MR, NR) of the register block (MR >= 2; NR a multiple of the lanes of a
    register, at least two registers). p's nest becomes a call of the kernel
    of the plain GEMM (M, N, K as parameters), built once per process for the type,
    target, blocks, shape and threads and called by every procedure scheduled with
    them (and split and sequential_upto with threads): `one_thread_kernel` (threads=1,
    sequential C), `threaded_kernel`. A user procedure named as a kernel keeps its name
    in C, and the kernel is renamed (`gemm_f32_avx512_1`). So p's
    sizes may be written in any way unification solves -- names, numbers, expressions
    (`seq(0, 64)`, `seq(0, M + 1)`), one name for several loops -- and p may assert
    what it likes about them. threads > 1 shares the work out to that many iterations of `par` loops (OpenMP; run with
    OMP_NUM_THREADS=threads): with split="auto", each thread runs the one-thread kernel
    (of the blocks given, if any) on its own part of C's columns where M < N, else of
    its rows (`threads_in_parts`), but for fewer rows than MR, or than 3 MR where B is
    larger than L2 (`few_rows_by_columns`); with split="rows", the blocked kernel's
    MR-row slivers of each MC block in turn (`parallelize_rows`), with "cols", each NC
    block's NR-column slivers in turn (`parallelize`), and the edges' rows or columns
    too. With threads > 1,
    problems with M + N + K <= `sequential_upto`, or too few columns to share, call the
    one-thread kernel instead (`small_runs_sequential`; 0: never). One column (N == 1,
    a GEMV) with at least a register of k runs as dot products of A's rows
    (`gemv_by_rows`) in the kernels whose variants are chosen here: one thread with
    `blocking` None, and threads with split="auto" (small problems: the one-thread
    kernel's); one thread with blocks given keeps the tiles, and so do threads with
    split="rows" or "cols" past the small problems."""
    check_arguments(blocking, threads)
    target_name = resolve(target_name)
    target(target_name)  # (an unknown name refused before anything is built)
    g = S.gemm_parts(p)
    shape = check_shape(shape, target_name, g.dtype)
    if split not in ("auto", "rows", "cols"):
        raise ValueError(f"schedule_gemm: split must be 'auto', 'rows' or 'cols', not {split!r}")
    if threads > 1 and type(sequential_upto) is not int:
        raise ValueError(f"schedule_gemm: sequential_upto must be an int; got "
                         f"{sequential_upto!r}")
    # (blocks that do not fit the register block or the threads: refused here, before
    # any kernel is built)
    _blocks(g.dtype, target_name, blocking, threads, shape, split)
    # p's nest a call of the kernel of the plain GEMM: whatever p's sizes are -- names,
    # numbers, expressions, one name for two sizes -- its assertions and its names,
    # unification finds the call, and the kernel is scheduled once for all procedures
    if threads == 1:
        kernel = one_thread_kernel(g.dtype, target_name, blocking, shape)
    else:
        kernel = threaded_kernel(g.dtype, target_name, blocking, threads, shape,
                                 max(0, sequential_upto), split)  # (<= 0: never)
    return _calls_of(p, (p.body(),), kernel)


def _blocks(dtype: str, target_name: str, blocking: Blocking | None, threads: int,
            shape: tuple[int, int] | None, split: str) -> Blocking:
    """The cache blocks of a kernel: `blocking`, or chosen from this machine's caches
    for the threads that share a block's slivers (the blocked kernel's, split "rows" or
    "cols"; split="auto" gives each thread the one-thread kernel, whose blocks need only
    be whole tiles), checked against the register block."""
    isa = _isa(target_name, dtype, shape)
    sharing = threads if split != "auto" else 1
    blk = blocking or choose_blocking(isa, 4 if dtype == "f32" else 8, threads=sharing)
    check_blocking(blk, isa.mr, isa.nr, sharing)
    return blk


# the kernels kept per process (`one_thread_kernel`, `threaded_kernel`: each holds its
# procedures, twins and register kernels): enough for every target, type and thread
# count a program schedules, not for every block a search tries (benchmarks/tune.py)
KERNELS_KEPT = 32


@functools.lru_cache(maxsize=KERNELS_KEPT)
def threaded_kernel(dtype: str, target_name: str, blocking: Blocking | None, threads: int,
                    shape: tuple[int, int] | None, upto: int, split: str
                    ) -> tuple[Procedure, Procedure]:
    """(plain, fast): the plain GEMM with M, N, K as parameters (`kernels.plain_gemm`)
    and its kernel for `threads` threads (`schedule_gemm`'s arguments), built once per
    process (the last KERNELS_KEPT of them): small problems (`upto` >= 0, see
    `small_runs_sequential`) on one thread, the others shared out by `split`."""
    if target_name == "host":  # (named and kept under the target it is for)
        return threaded_kernel(dtype, resolve(target_name), blocking, threads, shape, upto,
                               split)
    name = f"gemm_{dtype}_{target_name}_{threads}t" + _suffix(blocking, shape)
    if split != "auto":
        name += f"_{split}"
    if upto != SEQUENTIAL_UPTO:
        name += f"_upto{upto}"
    plain = plain_gemm(name, dtype)
    return plain, rename(_threaded(plain, target_name, blocking, threads, shape, upto, split),
                         name)


def _suffix(blocking: Blocking | None, shape: tuple[int, int] | None) -> str:
    """A kernel's name after its type, target (and threads): the register block and
    the cache blocks when given."""
    out = "" if shape is None else f"_{shape[0]}x{shape[1]}"
    return out + ("" if blocking is None else
                  f"_{blocking.mc}x{blocking.kc}x{blocking.nc}")


def _threaded(p: Procedure, target_name: str, blocking: Blocking | None, threads: int,
              shape: tuple[int, int] | None, upto: int, split: str) -> Procedure:
    """The kernel of the plain GEMM p for `threads` (see `threaded_kernel`)."""
    if upto > 0:  # (the twin calls the one-thread kernel the threads' parts call)
        return small_runs_sequential(p, target_name, blocking, threads, shape, upto, split)
    if split == "auto":
        return gemv_by_rows(p, target_name, threads,
                            few_rows_by_columns(p, target_name, blocking, threads, shape))
    g = S.gemm_parts(p)
    blk = _blocks(g.dtype, target_name, blocking, threads, shape, split)
    return S.blocked_kernel(p, g, target_name, blk, threads, shape, split)


@functools.lru_cache(maxsize=KERNELS_KEPT)
def one_thread_kernel(dtype: str, target_name: str, blocking: Blocking | None,
                      shape: tuple[int, int] | None) -> tuple[Procedure, Procedure]:
    """(plain, fast): the plain GEMM with M, N, K as parameters (`kernels.plain_gemm`)
    and its one-thread kernel, built once per process (the last KERNELS_KEPT of them):
    `one_thread_variants` where the
    blocks are chosen here (`blocking` None), else the blocked kernel of `blocking`
    (`_blocked`). `schedule_gemm(p, threads=1)` makes p's nest a call of it, and with
    threads each thread runs it on its part of C (`threads_in_parts`), or one thread
    on all of a small problem (`small_runs_sequential`): one schedule for all of them
    (the whole GEMM schedule of every target, both types, one and two threads: 12.0 ->
    8.3-8.7 s CPU, Intel Xeon, `schedule_speed.py --gemm`)."""
    if target_name == "host":  # (named and kept under the target it is for)
        return one_thread_kernel(dtype, resolve(target_name), blocking, shape)
    name = f"gemm_{dtype}_{target_name}" + _suffix(blocking, shape)
    plain = plain_gemm(name, dtype)
    if blocking is None:
        isa = _isa(target_name, dtype, shape)
        elem_bytes = 4 if dtype == "f32" else 8
        blk = choose_blocking(isa, elem_bytes)
        fast = one_thread_variants(plain, target_name, blk,
                                   few_rows_twin_blocking(isa, blk, elem_bytes), shape)
    else:
        fast = _blocked(plain, target_name, blocking, shape)
    return plain, rename(fast, name)


def _blocked(p: Procedure, target_name: str, blk: Blocking, shape: tuple[int, int] | None
             ) -> Procedure:
    """The one-thread blocked kernel of p for the blocks `blk`, its last rows in passes
    where few (`schedule.blocked_kernel`)."""
    g = S.gemm_parts(p)
    return S.blocked_kernel(p, g, target_name, blk, 1, shape, "auto",
                            _sized(g.dtype, target_name, shape, "passes"))


def one_thread_variants(p: Procedure, target_name: str, blk: Blocking, few: Blocking,
                        shape: tuple[int, int] | None) -> Procedure:
    """schedule_gemm's one-thread kernel where it chose the blocks `blk` itself: one
    column as dot products (`gemv_by_rows`), small problems read in place
    (`small_in_place`), the others take the blocked kernel, whose rows of one MC block
    take the blocks `few` where their NC differs (`rows_in_one_block`) and they are more
    than the few rows `small_in_place` takes (M <= PASS_ROWS_MR MR: AVX-512 f64 on AMD
    Zen 3's caches, 32 KB L1 and 512 KB L2, gave `few` one MC block of 32 rows, 4 MR, a
    twin that never runs, which schedule_gemm refused)."""
    g = S.gemm_parts(p)
    isa = _isa(target_name, g.dtype, shape)
    passes_take = PASS_ROWS_MR[g.dtype] * isa.mr

    def big(q: Procedure) -> Procedure:
        if few != blk and few.mc > passes_take:
            return rows_in_one_block(q, target_name, blk, few, shape)
        return _blocked(q, target_name, blk, shape)

    upto = small_bounds(isa.nr)[0]
    return gemv_by_rows(p, target_name, 1, small_in_place(p, target_name, shape, upto, big))


def gemv_by_rows(p: Procedure, target_name: str, threads: int, out: Procedure) -> Procedure:
    """`if N == 1 and L <= K: gemv(...) else: <out's body>`, `out` a kernel scheduled
    from p and L the lanes of a register: one column (a GEMV) as dot products of A's
    rows with B's column (`knit.stdlib.gemm.gemv`). Threads share out blocks of
    `gemv.ROWS` rows, from `threads` blocks on; fewer rows take the one-thread GEMV (a
    parallel region for one block cost more than it shared: f32, two threads against
    one, 1 x 1 x 4096 2.2 / 1.2 us, 7 x 1 x 10000 7.3 / 5.2 us, 3 x 1 x 100000 66 / 56
    us). Where the target has no lane sum (`Isa.reduce_add`), `out`. K < L leaves no
    whole register of k: out's tiles (one lane of each register) run. (out's body
    inlined, not a call: its twins keep their names.)"""
    g = S.gemm_parts(p)
    if not has_gemv(target_name, g.dtype):
        return out
    cond = f"{g.n} == 1 and {_isa(target_name, g.dtype, None).lanes} <= {g.kk}"
    out = _before(p, cond, gemv_kernel(g.dtype, target_name, 1), out)
    if threads == 1:
        return out
    return _before(p, f"{cond} and {threads * GEMV_ROWS} <= {g.m}",
                   gemv_kernel(g.dtype, target_name, threads), out)


def _before(p: Procedure, cond: str, kernel: tuple[Procedure, Procedure], out: Procedure
            ) -> Procedure:
    """`if cond: <a call of kernel = (plain, fast)> else: <out's body>`, `out` a kernel
    scheduled from p."""
    q = _calls_of_itself(p, cond)
    q = call_eqv(q, q.body()[0].orelse()[0], out)
    q = inline(q, q.body()[0].orelse()[0])
    q = inline(q, q.body()[0].body()[0])
    return _calls_of(q, (q.body()[0].body(),), kernel)


def small_bounds(nr: int, caches=None) -> tuple[int, int]:
    """(N + K, K) bounds of `small_in_place` on this machine's L2 (`caches`: as
    `choose_blocking`'s) for a register block NR columns wide: SMALL_UPTO and
    SMALL_NARROW_K where L2 is at least as large as where they were measured, else the
    same shares of it -- a square B of N + K = SMALL_UPTO a quarter of Zen 4's 1 MB
    (f32; N + K as the root of L2), SMALL_NARROW_NR NR columns of SMALL_NARROW_K rows
    five eighths of the Xeon's 2 MB (K in proportion to L2 / NR). Neither grows past
    what was measured. AMD Zen 3 (512 KB, AVX2's NR = 16): (362, 1024); with the
    unscaled bounds B in place filled its whole L2 (one thread, knit / OpenBLAS,
    benchmarks/gemm_ab.py, in place -> blocked: f32 256^3 0.80x -> 1.02x, 2048 x 64 x
    2048 0.83x -> 1.17x; f64 256^3 0.72x -> 1.05x; but 2048 x 64 x 512 1.16x -> 0.88x,
    1000 x 80 x 1000 0.84x -> 0.78x stay in place, 2048 x 64 x 1024 0.94x both)."""
    l2 = (caches or cache_sizes())[1]
    upto = min(SMALL_UPTO, math.isqrt(SMALL_UPTO * SMALL_UPTO * l2 // SMALL_UPTO_L2))
    narrow = min(SMALL_NARROW_K, SMALL_NARROW_K * l2 // SMALL_NARROW_L2
                 * SMALL_NARROW_AT_NR // nr)
    return upto, narrow


def in_place_bounds(dtype: str, caches=None) -> tuple[int, int]:
    """(N + K up to which up to SMALL_ROWS_MR MR rows read B in place, N + K from which
    up to PASS_ROWS_MR MR rows go in passes over k) for `dtype` ("f32", "f64"): a
    square B of half of L2, and of all of it (f32 on a 2 MB L2: 1024, 1448; f64: 724,
    1024). `caches`: as `choose_blocking`'s."""
    elem_bytes = 4 if dtype == "f32" else 8
    l2 = (caches or cache_sizes())[1]
    return 2 * math.isqrt(l2 // 2 // elem_bytes), 2 * math.isqrt(l2 // elem_bytes)


def small_in_place(p: Procedure, target_name: str, shape: tuple[int, int] | None,
                   upto: int, big) -> Procedure:
    """`if N + K <= upto or M <= P MR or M <= 16 MR and N + K <= H [or N <= 5 NR and
    K <= W]: p_small(...) else: p_big(...)`, one thread, P = PASS_ROWS_MR (6 f32,
    4 f64), H the N + K of a square B of half of L2 (`in_place_bounds`), the bracket
    f32's (`SMALL_NARROW_NR`; W from `small_bounds`, 2048 on a 2 MB L2): p_small is
    `few_rows_in_passes` (no cache blocks, nothing packed), p_big `big(p_big)` (the blocked kernel). N + K, not
    K x N (the size of B): the conditions are affine.
    With fewer rows than MR no whole tile runs, and the blocked kernel packed all of B
    for none: f32 4 x 2048 x 2048 16.1 -> 46.9 GFLOP/s, 7 x 1000 x 1000 15.4 -> 24.2,
    1 x 2048 x 2048 3.5 -> 4.4 (0.30x OpenBLAS: its one-row kernel reads B down 32
    columns at a time, a page per k); f64 4 x 2048 x 2048 7.0 -> 12.9 (Intel Xeon,
    benchmarks/gemm_ab.py, one thread, idle). With a few tiles of rows the packed
    panel serves few tiles, and the last M % MR rows read B again in place: up to P MR
    rows, and up to 16 MR where B takes at most half of L2, run faster on B in place
    or in passes (Intel Xeon, 2 MB L2, one thread, knit / OpenBLAS, blocked -> here:
    f32 20 x 500 x 500 0.73x -> 1.45x, 13 x 300 x 300 0.83x -> 1.45x, 24 x 1000 x 300
    0.70x -> 1.15x, 64 x 500 x 500 0.92x -> 1.11x, 100 x 300 x 700 0.89x -> 1.14x,
    128 x 400 x 400 1.07x -> 1.23x, 20 x 2000 x 2000 0.63x -> 1.19x (passes), 32 x 2000
    x 2000 0.86x -> 1.13x (passes); f64 20 x 500 x 500 0.63x -> 0.95x, 13 x 300 x 300
    0.84x -> 1.49x, 20 x 2000 x 2000 0.49x -> 1.12x, 32 x 2000 x 2000 0.77x -> 0.96x,
    64 x 200 x 500 1.08x -> 1.55x. Beyond: f32 64 x 700 x 700 0.89x in place against
    0.70x, 300 x 500 x 500 0.94x against 0.88x, 64 x 2000 x 2000 in passes 0.75x
    against 0.94x (48 rows: 0.93x against 0.87x, within f32's P); f64 64 x 500 x 500
    0.98x blocked, 0.67x in place.)"""
    g = S.gemm_parts(p)
    isa = _isa(target_name, g.dtype, shape)
    mr = isa.mr
    b_half_l2, _ = in_place_bounds(g.dtype)
    nk = f"{g.n} + {g.kk}"
    cond = (f"{nk} <= {upto} or {g.m} <= {PASS_ROWS_MR[g.dtype] * mr} or "
            f"{g.m} <= {SMALL_ROWS_MR * mr} and {nk} <= {b_half_l2}")
    if g.dtype in SMALL_NARROW_NR:
        cond += (f" or {g.n} <= {SMALL_NARROW_NR[g.dtype] * isa.nr} and "
                 f"{g.kk} <= {small_bounds(isa.nr)[1]}")
    return _twins(p, cond,
                  ("small", lambda q: few_rows_in_passes(q, target_name, shape)),
                  ("big", big))


def few_rows_in_passes(p: Procedure, target_name: str, shape: tuple[int, int] | None
                       ) -> Procedure:
    """`if NR <= N and (M < MR or M <= P MR and L < N + K): p_passes(...) else:
    p_small(...)`, P = PASS_ROWS_MR, L the N + K of a square B of all of L2
    (`in_place_bounds`): `schedule_k_passes` for fewer rows than a tile, or a few tiles
    of rows where B is larger than L2 (each tile would read it from L3 or memory), else
    `schedule_small` -- the one its passes call, with M, N, K as parameters (`_sized`:
    the edges are scheduled once for both). Under NR columns a call every K_PASS k costs more than
    B's order saves (f32 1 x 1 x 100000 103 -> 210 us, 1 x 4 x 100000 102 -> 187 us in
    passes; the crossing near 17-40 columns: the session 14 review). Up to P MR rows,
    in passes against in place (f32, one thread, knit / OpenBLAS): 20 x 1000 x 1000
    1.17x / 0.75x, 12 x 2000 x 2000 1.80x / 0.91x, 16 x 4000 x 1000 1.31x / 0.69x;
    but 20 x 500 x 500 1.07x / 1.43x, 24 x 1000 x 300 1.08x / 1.43x (B in L2)."""
    g = S.gemm_parts(p)
    isa = _isa(target_name, g.dtype, shape)
    _, b_l2 = in_place_bounds(g.dtype)
    cond = (f"{isa.nr} <= {g.n} and ({g.m} < {isa.mr} or "
            f"{g.m} <= {PASS_ROWS_MR[g.dtype] * isa.mr} and {b_l2} < {g.n} + {g.kk})")
    return _twins(p, cond,
                  ("passes", lambda q: schedule_k_passes(q, target_name, shape)),
                  ("small", lambda q: _calls_of(q, (q.body(),),
                                                _sized(g.dtype, target_name, shape, "small"))))


def schedule_k_passes(p: Procedure, target_name: str, shape: tuple[int, int] | None = None,
                      depth: int = K_PASS) -> Procedure:
    """The product as passes over `depth` k each (and one over the K % depth left), each
    pass `schedule_small`'s kernel on a `depth`-column slice of A and `depth` rows of B:

        for ko < K / depth: small(M, N, depth, A[:, depth ko:], B[depth ko:, :], C)
        if K % depth > 0:   small(M, N, K % depth, A[:, ...], B[...], C)

    For few rows (a GEMV at M = 1): all of k at once reads B down NR columns at a time,
    a cache line or two of each of K rows (a page apart), which the hardware prefetcher
    does not follow; in passes B is read `depth` whole rows at a time, each from left to
    right, and C's few rows stay in L1 or L2 between passes (in L1 up to 48 KB: f32 1 x
    12288, 7 x 1700). Each C[i, j] still adds its products in k's order. Intel Xeon,
    one thread, benchmarks/gemm_ab.py, knit / OpenBLAS before -> after (depth 4, 16, 32
    no better): f32 1 x 2048 x 2048 0.31x -> 1.01x,
    1 x 512 x 512 0.58x -> 1.08x, 7 x 1000 x 1000 0.65x -> 1.71x, 3 x 333 x 333 0.54x ->
    1.00x, 1 x 100 x 100 1.39x -> 1.13-1.18x; f64 1 x 2048 x 2048 0.29x -> 1.01x,
    7 x 1000 x 1000 0.46x -> 1.06x, 4 x 2048 x 2048 0.79x -> 1.83x."""
    g = S.gemm_parts(p)
    p = divide_loop(p, p.find_loop(g.k), depth, ["ko", "ku"], tail="cut_and_guard")
    p = fission(p, p.find_loop("ko").after(), n_lifts=2)
    p = reorder_loops(p, p.find_loop(g.j))  # i j ko ku -> ko i j ku
    p = reorder_loops(p, p.find_loop(g.i))
    p = lift_scope(p, p.find("if _: _"))  # i j (if K % depth > 0: ...) -> if: i j ...
    p = lift_scope(p, p.find("if _: _"))
    return _calls_of(p, (p.find_loop("ko").body(), p.body()[-1].body()),
                     _sized(g.dtype, target_name, shape, "small"))


@functools.cache
def _sized(dtype: str, target_name: str, shape: tuple[int, int] | None, kernel: str
           ) -> tuple[Procedure, Procedure]:
    """(plain, scheduled): the plain GEMM with M, N, K as parameters
    (`kernels.plain_gemm`) and its `schedule_small` ("small") or `schedule_k_passes`
    ("passes", K_PASS deep) kernel, built once per process (like `kernels.microkernel`:
    K_PASS changed after the first call changes nothing)."""
    name = f"gemm_{dtype}_{kernel}_{target_name}" + (f"_{shape[0]}x{shape[1]}" if shape else "")
    part = plain_gemm(name, dtype)
    schedule = schedule_small if kernel == "small" else schedule_k_passes
    return part, rename(schedule(part, target_name, shape), name)


def _calls_of(p: Procedure, blocks, kernel: tuple[Procedure, Procedure]) -> Procedure:
    """Each GEMM nest of `blocks` (cursors into p) a call of kernel = (plain, fast), the
    plain GEMM with M, N, K as parameters and its schedule: unification finds the sizes
    and windows of each call."""
    part, fast = kernel
    for block in blocks:
        p = replace_block(p, p.forward(block), part)
    for n in range(len(blocks)):  # (fast has part's name)
        p = call_eqv(p, p.find(f"{part.name()}(_) #{n}"), fast)
    return simplify(p)


def few_rows_by_columns(p: Procedure, target_name: str, blocking: Blocking | None,
                        threads: int, shape: tuple[int, int] | None) -> Procedure:
    """`if PASS_COLUMNS[0] <= N and (1 < M or N < R) and (M < MR or M < 3 MR and L < N +
    K): p_passes(...) else: <threads_in_parts>`, threads, L the N + K of a square B of
    all of L2 (`in_place_bounds`), R the columns of `ONE_ROW_PARTS_BYTES`: fewer rows
    than a tile, or than three where B is larger than L2 (but one long row),
    take `k_passes_by_columns`, in chunks of PASS_COLUMNS[0] columns, or PASS_COLUMNS[1]
    from WIDE_FROM columns on (with fewer columns than a chunk, one thread would do all:
    f32 1 x 64 x 100000 660 -> 900 us, the session 14 review; the tiles share them
    out). Below 3 MR rows (Intel Xeon, two threads, --pin, knit / OpenBLAS, tiles ->
    passes): f32 15 x 1000 x 1000 0.69x -> 0.97x, 10 x 3000 x 3000 0.69x -> 1.43x,
    9 x 1000 x 1000 0.79x -> 1.04x, 13 x 1500 x 1500 0.86x -> 1.17x, 20 x 2048 x 2048
    1.02x -> 1.51x, 18 x 3000 x 3000 0.76x -> 1.05x, 23 x 1500 x 700 0.78x -> 0.95x;
    f64 12 x 2000 x 2000 0.57x -> 0.94x, 15 x 1000 x 1000 0.55x -> 0.83x, 20 x 2048 x
    2048 0.81x -> 1.27x, 23 x 1500 x 700 0.62x -> 0.87x (20 x 700 x 900 1.00x -> 0.96x).
    From 3 MR rows the tiles, shared by columns, are as fast or faster: f32 32 x 2000 x
    2000 1.21x against 0.87x in passes, 24 x 3000 x 500 1.26x / 1.00x."""
    g = S.gemm_parts(p)
    mr = _isa(target_name, g.dtype, shape).mr
    narrow, wide = PASS_COLUMNS

    def passes(q: Procedure) -> Procedure:
        return _twins(q, f"{g.n} < {WIDE_FROM}",
                      ("narrow", lambda r: k_passes_by_columns(r, target_name, shape, narrow)),
                      ("wide", lambda r: k_passes_by_columns(r, target_name, shape, wide)))

    _, b_l2 = in_place_bounds(g.dtype)
    one_row = ONE_ROW_PARTS_BYTES // (4 if g.dtype == "f32" else 8)
    cond = (f"{narrow} <= {g.n} and (1 < {g.m} or {g.n} < {one_row}) and ({g.m} < {mr} or "
            f"{g.m} < {PASS_ROWS_MR_THREADS * mr} and {b_l2} < {g.n} + {g.kk})")
    return _twins(p, cond,
                  ("passes", passes),
                  ("tiles", lambda q: threads_in_parts(q, target_name, blocking, threads,
                                                       shape)))


# One row of C whose row of B holds at least this many bytes (f32 1536 columns, f64 768)
# takes threads_in_parts (each thread the one-thread kernel's passes on half of the
# columns), not the column chunks of `few_rows_by_columns`: Intel Xeon, two threads,
# --pin, 3 rounds, knit / OpenBLAS, chunks -> parts: f32 1 x 2048 x 2048 0.89x -> 1.00x,
# 1 x 2500 x 2500 0.76x -> 1.08x, 1 x 3000 x 3000 0.74x -> 1.04x, 1 x 4096 x 4096 0.77x
# -> 0.98x, 1 x 3000 x 500 0.93x -> 1.06x, 1 x 1500 x 1500 1.05x / 1.07x; f64 1 x 2048 x
# 2048 0.82x -> 0.96x, 1 x 1000 x 1000 0.97x -> 1.17x, 1 x 3000 x 3000 0.77x -> 0.99x;
# but f32 1 x 1000 x 1000 1.14x -> 0.94x, and from 2 rows the chunks (f32 7 x 1000 x
# 1000 1.49x / 0.95x, 15 x 1000 x 1000 1.24x / 0.78x, 20 x 2048 x 2048 1.36x / 1.02x;
# 2 x 3000 x 3000 2.03x / 2.23x, 4 x 3000 x 3000 2.35x / 2.35x: even)
ONE_ROW_PARTS_BYTES = 6144

# threads_in_parts: the threads take C's columns where this holds (M, N, K: {m}, {n},
# {k}), else rows. Each thread packs all of what its part does not split: columns, all
# of A (M x K); rows, all of B (K x N). Intel Xeon, f32, two threads, --pin, knit /
# OpenBLAS, columns / rows (the parts made by hand in the dumped C, 3 rounds): 512^3
# 1.14x / 1.11x, 1024^3 1.02x / 1.00x, 2048^3 0.95x / 0.96x, 150 x 150 x 1500 1.25x /
# 1.04x, 100 x 100 x 2000 1.69x / 1.34x, 64 x 2048 x 2048 1.26x / 0.99x, 4096 x 4096 x
# 256 0.96x / 0.72x, 1000 x 100 x 1000 1.05x / 1.21x, 256^3 1.09x / 1.20x, 333^3 1.22x /
# 1.35x. Squares take the rows (session 18: the scheduled kernels, `gemm_ab.py --threads
# 2 --pin --rounds 3`, two runs in either order, columns / rows: f32 256^3 1.23x, 1.07x /
# 1.32x, 1.24x; 333^3 1.03x, 1.02x / 1.30x, 1.31x; 777^3 0.94x, 0.96x / 0.99x, 0.97x;
# 150 x 150 x 1500 1.12x, 1.08x / 1.21x, 1.25x; 512^3, 1024^3, 2048^3 within 0.04x;
# f64 333^3 1.06x / 1.19x, 256^3 2.08x / 2.21x, 512^3 1.07x / 1.02x; but f32 100 x 100 x
# 2000 1.72x / 1.43x, K twenty times M)
PARTS_COLS_WHEN = "{m} < {n}"


def threads_in_parts(p: Procedure, target_name: str, blocking: Blocking | None,
                     threads: int, shape: tuple[int, int] | None) -> Procedure:
    """`if M < N: p_cols(...) else: p_rows(...)` (`PARTS_COLS_WHEN`), threads: each
    thread runs the one-thread kernel of the plain GEMM (`one_thread_kernel`, with the
    blocks given, if any) on its own part of C's columns or rows
    (`knit.stdlib.gemm.parts`); each copies all of the operand its part does not split
    (columns: A; rows: B), and the rule is the measured one."""
    g = S.gemm_parts(p)
    isa = _isa(target_name, g.dtype, shape)
    kernel = one_thread_kernel(g.dtype, target_name, blocking, shape)
    return _twins(p, PARTS_COLS_WHEN.format(m=g.m, n=g.n, k=g.kk),
                  ("cols", lambda q: threads_take_parts(q, "cols", threads, isa.nr, kernel)),
                  ("rows", lambda q: threads_take_parts(q, "rows", threads, isa.mr, kernel)))


def k_passes_by_columns(p: Procedure, target_name: str, shape: tuple[int, int] | None,
                        width: int) -> Procedure:
    """Fewer rows than a tile, threads: the columns in chunks of `width`, shared out
    (a `par` loop: OpenMP's static schedule gives each thread a run of chunks), each
    chunk's product `schedule_k_passes` (all its k in passes). The N % width columns
    left: with an even count of whole chunks, on one thread after the others
    (`_chunks_then_rest`); with an odd count, as the par loop's last chunk
    (`_chunks_with_last`), where the thread with one whole chunk fewer takes them --
    either way no thread waits for more than a chunk:

        if N / width % 2 == 1:
            for jo in par(0, (N + width - 1) / width): (a whole chunk, or the last)
        else:
            for jo in par(0, N / width): passes(M, width, K, A, B[:, width jo:], ...)
            if N % width > 0: passes(M, N % width, K, A, B[:, ...], C[:, ...])

    Wide chunks read longer runs of each row of B per pass, narrow ones share out
    fewer columns evenly. (The width does not depend on the threads: with T threads,
    N under T chunks leaves some idle -- measured with two.) Intel Xeon, two threads,
    --pin, wall clock, knit / OpenBLAS with chunks of 128 / 256 / 512 columns (the
    blocked kernel before): f32 1 x 512 x 512 1.26x / 0.85x / 0.97x (1.04x), 1 x 777 x
    777 0.73x / 0.58x / 0.32x (0.58x), 7 x 1000 x 1000 1.33x / 1.16x / 0.91x (0.95x),
    5 x 1500 x 700 1.99x / 1.82x / 1.54x (1.61x), 1 x 2048 x 2048 0.67x / 0.82x / 0.91x
    (0.30x), 1 x 4096 x 4096 0.64x / 0.80x / 0.88x (0.43x). The odd counts' last chunk
    in the par loop (session 16; before, their rest ran on one thread after the
    others), `gemm_ab.py --threads 2 --pin`, 3 rounds, idle, before -> after: f32 1 x
    3000 x 3000 0.61x -> 0.82x, 1 x 1000 x 1000 0.85x -> 1.28x, 1 x 700 x 700 0.87x ->
    1.06x, 7 x 1000 x 1000 1.21x -> 1.61x, 1 x 2000 x 2000 0.78x -> 0.85x; f64 1 x 3000
    x 3000 0.61x -> 0.82x, 12 x 2000 x 2000 0.79x -> 0.99x; even counts as before (f32
    1 x 2500 x 2500 0.77x / 0.78x, 3 x 333 x 333 0.81x / 0.79x). The last chunk in the
    par loop for every N lost where the count is even (a model of two threads' shares:
    half the N in 128..4096 slower, 3 x 333 x 333 f64 1.03x -> 0.94x measured)."""
    return _twins(p, f"{S.gemm_parts(p).n} / {width} % 2 == 1",
                  ("odd", lambda q: _chunks_with_last(q, target_name, shape, width)),
                  ("even", lambda q: _chunks_then_rest(q, target_name, shape, width)))


def _chunks_then_rest(p: Procedure, target_name: str, shape: tuple[int, int] | None,
                      width: int) -> Procedure:
    """`k_passes_by_columns`' whole chunks in a par loop, then the N % width columns
    left on one thread."""
    g = S.gemm_parts(p)
    p = divide_loop(p, p.find_loop(g.j), width, ["jo", "ji"], tail="cut_and_guard")
    p = fission(p, p.find_loop("jo").after())
    p = reorder_loops(p, p.find_loop(g.i))  # i jo ji k -> jo i ji k
    p = lift_scope(p, p.find("if _: _"))  # i (if N % width > 0: ...) -> if: i ...
    p = _calls_of(p, (p.find_loop("jo").body(), p.body()[-1].body()),
                  _sized(g.dtype, target_name, shape, "passes"))
    # (the race check bounds each call by its windows: the kernel's own accesses unread)
    return parallelize_loop(p, p.find_loop("jo"))


def _chunks_with_last(p: Procedure, target_name: str, shape: tuple[int, int] | None,
                      width: int) -> Procedure:
    """`k_passes_by_columns`' chunks in a par loop, the last one the N % width columns
    left where there are some:

        for jo in par(0, (N + width - 1) / width):
            if width jo + width <= N: passes(M, width, K, A, B[:, width jo:], C[:, ...])
            else: passes(M, N - width jo, K, A, B[:, width jo:N], C[:, width jo:N])"""
    g = S.gemm_parts(p)
    p = divide_loop(p, p.find_loop(g.j), width, ["jo", "ji"], tail="guard")
    p = reorder_loops(p, p.find_loop(g.i))  # i jo ji k -> jo i ji k
    p = specialize(p, p.find_loop("jo").body()[0], [f"{width} * jo + {width} <= {g.n}"])
    whole = p.find_loop("jo").body()[0]  # a whole chunk: its guard always holds
    p = eliminate_dead_code(p, whole.body()[0].body()[0].body()[0])
    last = p.find_loop("jo").body()[0].orelse()[0]  # the last, partial chunk:
    p = rewrite_expr(p, last.body()[0].body()[0].cond(),  # ji < N - width jo
                     f"ji < {g.n} - {width} * jo")
    p = bound_loop_by_if(p, p.forward(last).body()[0])
    p = simplify(delete_pass(p))
    chunk = p.find_loop("jo").body()[0]
    p = _calls_of(p, (chunk.body(), chunk.orelse()),
                  _sized(g.dtype, target_name, shape, "passes"))
    return parallelize_loop(p, p.find_loop("jo"))


def schedule_small(p: Procedure, target_name: str, shape: tuple[int, int] | None = None
                   ) -> Procedure:
    """The one-thread kernel of a small problem: the whole MR x NR tiles along the rows
    of C (`tiles_along_rows`' order: MR rows of A stay in L1 while B passes), each a
    call of the MR x NR kernel reading A and B in place, all of k at once; then the
    same edge rows and columns as the blocked kernel (`edge_rows`, `edge_columns`):

        for io < M / MR: for jo < N / NR: kernel(K, A[MR rows], B[:, NR columns], C tile)
        if M % MR > 0: ... the last rows
        if N % NR > 0: ... the last columns

    Without cache blocks nothing bounds the slivers each call reads: for problems
    whose B fits in L2 (`small_in_place`). Against the blocked kernel's all-of-k nest,
    which packs B's K x NC panel first: 100^3 f32 20.2 us against 21.0 (C timed alone,
    thread CPU time), 64^3 4.83 against 5.12."""
    g = S.gemm_parts(p)
    isa = _isa(target_name, g.dtype, shape)
    mr, nr = isa.mr, isa.nr
    # as cut_edges: the whole tiles, the last rows, the last columns
    p = divide_loop(p, p.find_loop(g.j), nr, ["jo", "ji"], tail="cut_and_guard")
    p = fission(p, p.find_loop("jo").after())
    p = divide_loop(p, p.body()[0], mr, ["io", "ii"], tail="cut_and_guard")
    for inner in ("ii", "ji", "ii"):  # io ii jo ji k -> io jo k ii ji
        p = reorder_loops(p, S._find(p, 0, inner))
    p = S.call_microkernel(p, 0, *microkernel(target_name, g.dtype, False, (mr, nr)),
                           depth=g.k)
    # B's last columns read in place: B is small here (N + K <= small_bounds), in L1 or L2,
    # and the blocked kernel's copy of them cost 0.5 us of 100^3 f32's 20 (C timed alone)
    return simplify(S.schedule_edges(p, g, target_name, isa, copy_b=False, column_quads=True))


def few_rows_blocking(blk: Blocking, nr: int, elem_bytes: int, caches=None) -> Blocking:
    """`blk` with NC cut (to a multiple of 2 NR) so that a KC x NC panel of B fits L2:
    the blocks of a problem whose rows are one MC block (`rows_in_one_block`)."""
    l2 = (caches or cache_sizes())[1]
    nc = max(2 * nr, l2 // (blk.kc * elem_bytes) // (2 * nr) * (2 * nr))
    return Blocking(blk.mc, blk.kc, min(blk.nc, nc))


def few_rows_twin_blocking(isa, blk: Blocking, elem_bytes: int, caches=None) -> Blocking:
    """The blocks of one thread's twin for the rows of one block of A (`rows_in_one_block`,
    M <= its MC), NC cut so that B's panel at `blk`'s KC fills L2 (`few_rows_blocking`);
    where the target says so (`Isa.few_rows_same_a`: AVX-512 with full-width
    multiply-adds), f64's KC halved and MC such that A's MC x KC block is as large as
    in `blk`; elsewhere MC twice `blk`'s (one block as half of L2 holds it where A's
    block takes a quarter, `a_l2_share`: Zen 4's rule). `caches`: as `choose_blocking`'s.

    f64's KC halved, NC kept: the panel takes half of L2 beside A's block and C's
    rows. Intel Xeon (2 MB L2, KC 512), one thread, benchmarks/gemm_ab.py, load
    1.2-1.8: blocks given, 64 x 2048 x 2048 61.4 / 66.9 -> 68.2 / 74.4 GFLOP/s (two
    runs; NC 256 with KC 512: 64.4, KC 128: 73.7, KC 384: 67.7, KC 256 with NC 1024:
    66.4); the twin so made against main, each listed twice: 64 x 2048 x 2048 64.2,
    65.6 -> 70.9, 68.5, 200 x 1024 x 1024 80.8, 81.4 -> 83.6, 83.9, 256^3, 333^3,
    512^3 within the noise. f32 keeps KC: 64 x 2048 x 2048 134.1, 131.0 -> 137.2,
    141.7, but 333^3 178.3, 173.7 -> 171.7, 166.2 (K = 333 >= KC / 2: packed in a last
    block of k, no longer all of k with A in place).

    MC: the twin's rows against `blk`'s blocks (same machine, f32, each listed twice,
    load ~3): 64 x 2048 x 2048 138.0, 138.2 against 121.7, 122.8 GFLOP/s, 256 x 1024 x
    1024 183.0, 183.2 against 171.8, 172.4, 300 x 2048 x 2048 and 333^3 even, but 400 x
    1024 x 1024 184.4, 184.2 against 191.7, 190.5 and 512 x 1024 x 1024 184.3, 185.1
    against 196.7, 196.7; f64 (KC 256 against 512) 128-256 rows x 1024 x 1024 +3-13%,
    512 x 1024 x 1024 even. MC was twice `blk`'s (one block as half of L2 holds it) for
    both: f32 rows up to 512 took the twin. (Zen 4, not measured since: M = 72, 100,
    120 f32 ran 1-2% slower in two 64-row blocks than in one of 128.)"""
    if not isa.few_rows_same_a:  # (Zen 4's rule: one block twice blk's, at blk's KC)
        return few_rows_blocking(replace(blk, mc=blk.mc * a_l2_share(isa, 1) // 2), isa.nr,
                                 elem_bytes, caches)
    kc = max(16, blk.kc // 32 * 16) if elem_bytes == 8 else blk.kc
    few = few_rows_blocking(replace(blk, mc=blk.mc * (blk.kc // kc)), isa.nr, elem_bytes,
                            caches)
    return replace(few, kc=kc)


def rows_in_one_block(p: Procedure, target_name: str, blocking: Blocking, few: Blocking,
                      shape: tuple[int, int] | None) -> Procedure:
    """`if M <= few.MC: p_few(...) else: p_many(...)`, one thread: the rows of one MC
    block of `few` take the blocks `few` (NC cut so that B's packed KC x NC panel stays
    in L2, `few_rows_blocking`), the others `blocking`. With one MC block, each sliver of the
    panel serves only M / MR tiles, right after the whole panel was packed: a panel
    in L3 (KC x NC = 1024 x 1024 f32, 4 MB) is read back from L3, one in L2 from L2
    (64 x 2048 x 2048 f32: 1.12x OpenBLAS with NC = 256 against 1.05x, interleaved;
    but 1024^3 ran 1-4% slower with NC = 256 or 512: A's block is packed once per NC
    block)."""
    g = S.gemm_parts(p)
    return _twins(p, f"{g.m} <= {few.mc}",
                  ("few", lambda q: _blocked(q, target_name, few, shape)),
                  ("many", lambda q: _blocked(q, target_name, blocking, shape)))


def small_runs_sequential(p: Procedure, target_name: str, blocking: Blocking | None,
                          threads: int, shape: tuple[int, int] | None, upto: int,
                          split: str = "auto") -> Procedure:
    """`if <small>: p_seq(...) else: p_par(...)`: p_seq calls the one-thread kernel of
    the plain GEMM that the threads' parts call (`one_thread_kernel`: one schedule for
    both, built once per process), p_par the other branch moved into a procedure of its
    own (extract_subproc, which keeps p's asserts) and scheduled for `threads`; the threads are used only where the
    problem is large enough to share out: M + N + K above `upto`, and, up to
    `NARROW_UPTO`, an NR-column sliver per thread and, where the last sliver is partial,
    two whole ones per thread (its edge regions cost each thread a fixed time: f32,
    --pin, one / two threads' GFLOP/s 100^3 161, 154 / 135, 136; 112^3 195, 198 / 165,
    164; 120^3 183 / 141; but 96^3 190, 182 / 215, 217, 128^3 185, 192 / 290, 283 and
    150^3 166 / 185). Past NARROW_UPTO the rows are shared however few the columns."""
    g = S.gemm_parts(p)
    nr = _isa(target_name, g.dtype, shape).nr
    size = f"{g.m} + {g.n} + {g.kk}"
    small = (f"{size} <= {upto} or ({g.n} < {threads * nr} or {g.n} < {2 * threads * nr} "
             f"and {g.n} % {nr} > 0) and {size} <= {max(upto, NARROW_UPTO)}")
    kernel = one_thread_kernel(g.dtype, target_name, blocking, shape)
    # (the one-thread kernel the threads' parts call: scheduled once for both)
    return _twins(p, small,
                  ("seq", lambda q: _calls_of(q, (q.body(),), kernel)),
                  ("par", lambda q: _threaded(q, target_name, blocking, threads, shape, 0,
                                              split)))


def _twins(p: Procedure, cond: str, then: tuple[str, object], orelse: tuple[str, object]
           ) -> Procedure:
    """`if cond: p_a(...) else: p_b(...)` with (a, f) = then and (b, g) = orelse: each
    branch moved into a procedure of its own (extract_subproc, which keeps p's
    asserts) and scheduled by its function (f(p_a), g(p_b))."""
    twins = ((then, lambda q: q.body()[0].body()), (orelse, lambda q: q.body()[0].orelse()))
    q = specialize(p, p.body()[0], [cond])
    for (suffix, schedule), branch in twins:
        q, plain = extract_subproc(q, branch(q), f"{p.name()}_{suffix}")
        q = call_eqv(q, branch(q)[0], schedule(plain))
    return q


def _calls_of_itself(p: Procedure, cond: str) -> Procedure:
    """`if cond: p(...) else: p(...)`: p's body a call of p, on both sides of `cond`
    (for a side to become a call of a kernel scheduled from p, by `call_eqv`)."""
    q = simplify(replace_block(p, p.body(), p))
    return specialize(q, q.body()[0], [cond])
