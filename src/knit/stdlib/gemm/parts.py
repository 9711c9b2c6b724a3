"""Threads as parts of C: each thread runs the one-thread kernel on its own part of C's
rows or columns, a whole GEMM of its own.

    for t in par(0, T):
        gemm_part(hi(t) - lo(t), N, K, A[lo(t):hi(t), :], B, C[lo(t):hi(t), :])    (rows)
        gemm_part(M, hi(t) - lo(t), K, A, B[:, lo(t):hi(t)], C[:, lo(t):hi(t)])    (columns)

with lo(t) = t w, w the multiple of u nearest to S / T for S = M or N and u = MR or NR,
the last part taking the rest (`part_bounds`). One parallel region per call and no barrier; each thread packs what
its part reads (rows: all of B; columns: all of A) into buffers of its own, where the
tiles of the two-thread blocked kernel (`schedule.parallelize_rows`, `parallelize`)
share B's packed panel, wait at a barrier per KC block, and run a region per block.
Measured against that kernel on the Intel Xeon of sessions 10-17 (f32, two threads,
--pin, `benchmarks/gemm_ab.py`, the parts made by hand in the dumped C first, 3 rounds,
knit / OpenBLAS): 512^3 0.92x -> 1.14x (columns) / 1.11x (rows), 1024^3 0.93x -> 1.02x
/ 1.00x, 2048^3 0.89x -> 0.95x / 0.96x, 333^3 1.02x -> 1.22x / 1.35x, 150 x 150 x 1500
0.96x -> 1.25x / 1.04x, 100 x 100 x 2000 0.93x -> 1.69x / 1.34x, 4096 x 4096 x 256
0.71x -> 0.96x / 0.72x; few rows (20 x 2048 x 2048: 1.49x against 0.89x / 1.15x) and
one column keep their kernels (`variants`).

Scheduled with the public primitives from the plain nest: the loop along the split is
cut into T pieces (`cut_loop`); each piece gets a loop of one iteration, t = k
(`add_loop`, `shift_loop`, `eliminate_dead_code`), and its bounds are written as the
same expressions of t (`rewrite_expr`, proven from t = k), so that the T loops are one
(`join_loops`) and parallel (`parallelize_loop` proves that the parts write disjoint
rows or columns of C); the piece's nest then becomes a call of the plain GEMM with M, N
and K as parameters (`replace`: unification finds the windows), and that call one of
its one-thread kernel (`call_eqv`). The bounds hold products of t and a size: the
solver relates them, t being 0 .. T - 1.
"""

from __future__ import annotations

from knit.procedure import Procedure
from knit.stdlib.gemm.schedule import gemm_parts
from knit.stdlib.sched_subprocs import replace as replace_block
from knit.stdlib.scheduling import (
    add_loop,
    call_eqv,
    cut_loop,
    eliminate_dead_code,
    join_loops,
    parallelize_loop,
    reorder_loops,
    rewrite_expr,
    shift_loop,
    simplify,
    specialize,
)


def part_bounds(size: str, parts: int, unit: int, t: str) -> tuple[str, str, str]:
    """(w, lo(t), hi(t)) as object code: `parts` parts of seq(0, size), each w long but
    the last, which takes the rest, w the multiple of `unit` nearest to size / parts
    (rounded down, 300 columns of 32 would be 128 and 172; to the nearest, 160 and
    140); `t` the part's index."""
    w = f"{unit} * ((2 * {size} + {parts * unit}) / {2 * parts * unit})"
    return (w, f"{t} * ({w})",
            f"({t} + 1) * ({w}) + ({t} + 1) / {parts} * ({size} - {parts} * ({w}))")


def parts_fit(size: str, parts: int, unit: int) -> str:
    """The condition (object code) under which every part `part_bounds` makes has an
    iteration: w >= unit and (parts - 1) w < size."""
    w = part_bounds(size, parts, unit, "t")[0]
    return f"{unit} <= {w} and {parts - 1} * ({w}) < {size}"


def in_parts(p: Procedure, loop, size: str, parts: int, unit: int, t: str,
             parallel: bool = True) -> Procedure:
    """`for x in seq(0, size): S` (`loop`, a cursor into p) ->
    `for t in par(0, parts): for x in seq(lo(t), hi(t)): S` (`part_bounds`), where
    `parts_fit` holds (every part has an iteration) and the iterations of the loop are
    independent; parallel=False leaves `for t in seq(0, parts)` for the caller to make
    parallel."""
    w, lo, hi = part_bounds(size, parts, unit, t)
    pieces = [loop]
    for k in range(1, parts):  # for x in seq((k - 1) w, k w): S; for x in seq(k w, size): S
        p = cut_loop(p, p.forward(pieces[-1]), f"{k} * ({w})")
        last = p.forward(pieces[-1])
        pieces[-1:] = [last, last.next()]
    ts = []
    for k, piece in enumerate(pieces):  # for t in seq(k, k + 1): for x in seq(lo(t), hi(t))
        p = add_loop(p, p.forward(piece), t, 1, guard=True)
        guard = p.forward(piece).parent()
        tloop = guard.parent()
        if k:
            p = shift_loop(p, p.forward(tloop), k)
        p = eliminate_dead_code(p, p.forward(guard))
        p = rewrite_expr(p, p.forward(piece).lo(), lo)
        p = rewrite_expr(p, p.forward(piece).hi(), hi)
        ts.append(tloop)
    for nxt in ts[1:]:
        p = join_loops(p, p.forward(ts[0]), p.forward(nxt))
    return parallelize_loop(p, p.forward(ts[0])) if parallel else p


def threads_take_parts(p: Procedure, along: str, parts: int, unit: int,
                       kernel: tuple[Procedure, Procedure]) -> Procedure:
    """`if <parts fit>: <the parts> else: kernel(...)`, S = M (`along` "rows") or N
    ("cols"): `parts` threads each multiplying a part of C's rows or columns (about
    S / parts, a multiple of `unit` but the last) by a call of kernel = (plain, fast),
    the plain GEMM with M, N, K as parameters and its one-thread schedule; where S is
    too small for every part to have a row or column (`parts_fit`), one call on all of
    C."""
    if along not in ("rows", "cols"):
        raise ValueError(f"threads_take_parts: along must be 'rows' or 'cols', not {along!r}")
    g = gemm_parts(p)
    plain, fast = kernel
    size, x = (g.m, g.i) if along == "rows" else (g.n, g.j)
    taken = {g.i, g.j, g.k, g.m, g.n, g.kk, g.a, g.b, g.c}
    t = "t"
    while t in taken:  # (a name of p's: t_, t__, ...)
        t += "_"
    q = specialize(p, p.body()[0], [parts_fit(size, parts, unit)])
    nest = q.body()[0].body()[0]
    if along == "cols":  # for j: for i: for k, so that the parts of j are outermost
        q = reorder_loops(q, q.forward(nest))
        nest = q.body()[0].body()[0]
    # (made parallel once the parts are calls: each rewrite of a par loop checks it again)
    q = in_parts(q, nest, size, parts, unit, t, parallel=False)
    piece = q.body()[0].body()[0].body()[0]  # for x in seq(lo(t), hi(t))
    q = shift_loop(q, piece, 0)
    if along == "cols":  # for i: for j in seq(0, hi(t) - lo(t)): for k
        q = reorder_loops(q, q.forward(piece))
        piece = q.body()[0].body()[0].body()[0]
    assert piece.name() == g.i, piece.name()  # the nest is the GEMM again, on a part
    q = replace_block(q, q.forward(piece), plain)
    q = replace_block(q, q.body()[0].orelse()[0], plain)
    q = parallelize_loop(q, q.body()[0].body()[0])
    q = call_eqv(q, q.body()[0].body()[0].body()[0], fast)
    q = call_eqv(q, q.body()[0].orelse()[0], fast)
    return simplify(q)
