"""A GEMM of one column (N = 1: C = A B with B a vector, a GEMV) as dot products of A's
rows with B's column, vectorized along k:

    Bp[0:K] = B[0:K, 0]                       (B's column, contiguous)
    for io < M / 4:                           (4 rows at once, `ROWS`; par with threads)
        acc[0:4] = 0                          (per row a register of `lanes` partial sums)
        for ko < K / lanes:
            b = Bp[lanes ko:][0:lanes]        (loaded once for the 4 rows)
            for ii < 4: acc[ii] += A[4 io + ii, lanes ko:][0:lanes] * b
        for ii < 4: C[4 io + ii, 0] += the sum of acc[ii]'s lanes   (`Isa.reduce_add`)
        for ii < 4: for kl < K % lanes: C[4 io + ii, 0] += A[...] * Bp[...]
    the M % 4 rows left, one at a time the same way

The tiles of the other kernels vectorize along j, so with one column they use one lane
of each register: a broadcast of A[i, k] and a multiply-add per element of A. Here a
multiply-add takes `lanes` elements of A's row, read in order (the hardware prefetcher
follows), and the kernel runs at the memory's speed. Each C[i, 0] sums its products in
another order (lane by lane, then the lanes in a tree): knit lets reductions reassociate,
as Exo does (docs/verification.md, "Known limits"), and the result may differ from the
plain loop in the last bits. Intel Xeon, knit / OpenBLAS, the tiles -> this kernel
(benchmarks/gemm_ab.py, 3 rounds, one run, idle; two threads --pin, wall clock): one
thread f32 2048 x 1 x 2048 0.70x -> 1.02x, 1000 x 1 x 1000 0.73x -> 1.08x, 100 x 1 x
100 0.53x -> 1.32x, 400 x 1 x 64 0.33x -> 1.05x, 2048 x 1 x 16 0.57x -> 1.24x; f64
2048 x 1 x 2048 0.94x -> 0.99x, 100 x 1 x 100 0.65x -> 1.25x, 64 x 1 x 400 0.51x ->
0.90x; two threads f32 2048 x 1 x 2048 0.70x -> 1.03x, 1000 x 1 x 1000 0.44x -> 1.03x,
300 x 1 x 3000 0.29x -> 0.89x, 4000 x 1 x 4000 0.68x -> 1.09x; f64 300 x 1 x 3000
0.90x -> 1.01x, 100 x 1 x 400 0.51x -> 1.06x. 4 rows at once (`ROWS`) against one
(another run): up to 0.2x more where A is in L2 (f32 400 x 1 x 64 1.19x -> 1.35x, f64
64 x 1 x 400 1.02x -> 1.20x), the same from memory; 2 and 8 rows no better than 4.
"""

from __future__ import annotations

import functools

from knit.procedure import Procedure
from knit.stdlib.gemm.kernels import plain_gemm
from knit.stdlib.gemm.schedule import gemm_parts
from knit.stdlib.gemm.targets import resolve, target
from knit.stdlib.scheduling import (
    divide_loop,
    expand_dim,
    fission,
    lift_alloc,
    parallelize_loop,
    remove_loop,
    rename,
    reorder_loops,
    replace,
    rewrite_expr,
    set_memory,
    simplify,
    stage_mem,
    unroll_loop,
)

# Rows of A multiplied at once, each into a register of partial sums of its own, B's
# column loaded once for them: independent multiply-add chains (one row's chain waits
# for the multiply-add before) and a load of B shared
ROWS = 4


def has_gemv(target_name: str, dtype: str) -> bool:
    """Whether `target_name` has what `schedule_gemv` needs for `dtype`."""
    isa = target(target_name).isa(dtype)
    return isa.zero is not None and isa.reduce_add is not None


@functools.cache
def gemv_kernel(dtype: str, target_name: str, threads: int) -> tuple[Procedure, Procedure]:
    """(plain, scheduled): the plain GEMM with M, N, K as parameters and `assert N == 1`,
    and its `schedule_gemv` for `threads`, built once per process (as
    `variants._sized`)."""
    if target_name == "host":  # (named and kept under the target it is for)
        return gemv_kernel(dtype, resolve(target_name), threads)
    name = f"gemm_{dtype}_gemv_{target_name}" + ("_par" if threads > 1 else "")
    part = plain_gemm(name, dtype, one_column=True)
    return part, rename(schedule_gemv(part, target_name, threads), name)


def schedule_gemv(p: Procedure, target_name: str, threads: int = 1) -> Procedure:
    """The nest of `plain_gemm(..., one_column=True)` (loops i, j, k; `assert N == 1`)
    as dot products (the module's docstring); threads > 1 share out the blocks of rows
    (a `par` loop: each row is one C[i, 0], B's column is copied before)."""
    isa = target(target_name).isa(gemm_parts(p).dtype)
    lanes, reg = isa.lanes, isa.memory
    p = rewrite_expr(p, p.find_loop("j").hi(), "1")  # (assert N == 1)
    p = unroll_loop(p, p.find_loop("j"))
    p = stage_mem(p, p.find_loop("i"), "B[0:K, 0]", "Bp")
    p = divide_loop(p, p.find_loop("k"), lanes, ["ko", "kl"], tail="cut")
    # partial sums: acc[kl] over ko, then added into C[i, 0]
    p = reorder_loops(p, p.find_loop("ko"))
    p = stage_mem(p, p.find_loop("ko"), "C[i, 0]", "acc", accum=True)
    p = expand_dim(p, "acc", lanes, "kl")
    p = lift_alloc(p, "acc")
    p = fission(p, p.find_loop("ko").before())
    p = fission(p, p.find_loop("ko").after())
    p = reorder_loops(p, p.find_loop("kl #1"))
    p = simplify(p)
    p = set_memory(p, "acc", reg)
    p = stage_mem(p, p.find_loop("ko").body(), f"A[i, {lanes} * ko:{lanes} * ko + {lanes}]",
                  "a_reg")
    p = stage_mem(p, p.find_loop("ko").body(), f"Bp[{lanes} * ko:{lanes} * ko + {lanes}]",
                  "b_reg")
    p = simplify(p)
    p = set_memory(p, "a_reg", reg)
    p = set_memory(p, "b_reg", reg)
    p = replace(p, p.find_loop("kl"), isa.zero)
    p = replace(p, p.find_loop("i0 #1"), isa.load)
    p = replace(p, p.find_loop("i0 #1"), isa.load)
    p = replace(p, p.find_loop("kl"), isa.fmadd)
    p = replace(p, p.find_loop("kl"), isa.reduce_add)
    p = rows_at_once(p, ROWS)
    if threads > 1:
        p = parallelize_loop(p, p.find_loop("io"))
    return simplify(p)


def rows_at_once(p: Procedure, rows: int) -> Procedure:
    """`schedule_gemv`'s row loop `rows` rows at a time (`ROWS`), the M % rows rows
    left one by one: their registers of partial sums side by side, B's register loaded
    once per k for all of them."""
    p = divide_loop(p, p.find_loop("i"), rows, ["io", "ii"], tail="cut")
    p = expand_dim(p, p.find("acc : _"), rows, "ii")
    p = lift_alloc(p, p.find("acc : _"))
    for n in range(3):  # zero | k loop | sum of the lanes | the rest of k
        p = fission(p, p.find_loop(f"ii #{n}").body()[0].after())
    p = reorder_loops(p, p.find_loop("ii #1"))  # ii ko -> ko ii
    p = lift_alloc(p, p.find("b_reg : _"))
    p = fission(p, p.find_loop("ii #1").body()[0].after())
    return remove_loop(p, p.find_loop("ii #1"))  # B's load, the same for every row
