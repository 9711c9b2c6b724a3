"""The GEMM schedule: edges cut off, cache blocks, packing, the kernels called, threads.
Each step is a function of (procedure, ...) -> procedure, over knit's primitives;
`blocked_kernel` puts them together (schedule_gemm, in knit.stdlib.gemm.variants,
chooses the blocks and the kernels for each size)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from knit.cursors.internal import text_of
from knit.procedure import Procedure
from knit.rewrite.isolate import on_statements
from knit.stdlib.gemm.kernels import masked_kernel, microkernel
from knit.stdlib.gemm.targets import Blocking, _isa, target
from knit.stdlib.sched_buffers import sink_alloc
from knit.stdlib.sched_subprocs import replace as replace_block
from knit.stdlib.scheduling import (
    add_loop,
    call_eqv,
    cut_loop,
    divide_dim,
    divide_loop,
    fission,
    fuse,
    insert_noop_call,
    lift_alloc,
    lift_scope,
    parallelize_loop,
    rearrange_dim,
    reorder_loops,
    reorder_stmts,
    set_memory,
    shift_loop,
    simplify,
    specialize,
    stage_mem,
)


@dataclass(frozen=True)
class GemmParts:
    """What schedule_gemm needs to know of the user's procedure."""

    i: str
    j: str
    k: str
    m: str  # the loop bounds, as object code
    n: str
    kk: str
    a: str
    b: str
    c: str
    dtype: str


def gemm_parts(p: Procedure) -> GemmParts:
    """The names in `for i: for j: for k: C[i, j] += A[i, k] * B[k, j]`, or a
    ValueError saying what does not fit."""
    body = list(p.body())
    loops = []
    cur = body[0] if len(body) == 1 else None
    while cur is not None and hasattr(cur, "hi") and len(loops) < 3:
        loops.append(cur)
        inner = list(cur.body())
        cur = inner[0] if len(inner) == 1 else None
    if len(loops) != 3 or cur is None or not hasattr(cur, "rhs"):
        raise ValueError(f"schedule_gemm: {p.name()} is not three perfectly nested loops "
                         "around one statement")
    i, j, k = (str(x.name()) for x in loops)
    want = f"{{c}}[{i}, {j}] += {{a}}[{i}, {k}] * {{b}}[{k}, {j}]"
    rhs = cur.rhs()
    try:
        a, b = rhs.lhs().name(), rhs.rhs().name()
    except AttributeError:
        a = b = "?"
    text = text_of(cur).strip()
    c = cur.name()
    if text != want.format(a=a, b=b, c=c):
        raise ValueError(f"schedule_gemm: expected the statement {want.format(a='A', b='B', c='C')}"
                         f" in {p.name()}, found {text}")
    found = re.search(r"\b(f32|f64)\b", str(p.find_alloc_or_arg(c).type()))
    if found is None:
        raise ValueError(f"schedule_gemm: {c} must be f32 or f64")
    dtype = found.group(1)
    return GemmParts(i, j, k, str(loops[0].hi()), str(loops[1].hi()), str(loops[2].hi()),
                     a, b, c, dtype)


# ---------------------------------------------------------------- the schedule


def _find(p: Procedure, top: int, name: str):
    """The first loop called `name` inside the top-level statement `top` of p."""
    todo = [_top(p, top)]
    while todo:
        s = todo.pop(0)
        if hasattr(s, "hi") and s.name() == name:
            return s
        for blk in ("body", "orelse"):
            if hasattr(s, blk):
                sub = getattr(s, blk)()
                todo[0:0] = list(sub) if sub else []
    raise LookupError(f"no loop {name} in statement {top}")  # a bug in this module


def cut_edges(p: Procedure, g: GemmParts, mr: int, nr: int, kc: int) -> Procedure:
    """Cut the loops into the whole microkernel tiles and the edges, as three statements:

        if K >= kc:
            for jo, io, pc < K / kc - 1: for kk < kc, ii < mr, ji < nr   the tiles, k by kc
            for jo, io: for k < kc + K % kc ...      the tiles, the last block of k
        else: for jo, io: for k < K ...             the tiles, all of k (K < kc)
        if M % mr > 0: for ii < M % mr: ...          the last M % mr rows
        for i: if N % nr > 0: ...                    the last N % nr columns

    The rest of K joins the last block (kc to 2 kc - 1 deep) rather than making a
    pass of its own: each pass over k loads and stores all of C (777^3 f64: 0.86x
    OpenBLAS with K % kc = 9 in a fourth pass over C)."""
    p = divide_loop(p, p.find_loop(g.j), nr, ["jo", "ji"], tail="cut_and_guard")
    p = fission(p, p.find_loop("jo").after())
    p = divide_loop(p, p.body()[0], mr, ["io", "ii"], tail="cut_and_guard")
    for outer in ("ii", "io", "ji", "ii"):  # io ii jo ji k -> jo io k ii ji
        p = reorder_loops(p, _find(p, 0, outer))
    p = specialize(p, _find(p, 0, g.k), [f"{kc} <= {g.kk}"])
    for _ in range(2):  # `if K >= kc` out of the io and jo loops
        p = lift_scope(p, [s for s in _walk(p.body()[0]) if _is_if(s)][0])
    p = cut_loop(p, _find(p, MAIN, g.k), f"{kc} * (({g.kk}) / {kc}) - {kc}")
    p = divide_loop(p, _find(p, MAIN, g.k), kc, ["pc", "kk"], perfect=True)
    p = shift_loop(p, _find(p, MAIN, g.k), 0)
    return fission(p, _find(p, MAIN, "pc").after(), n_lifts=2)


# the three tile nests of cut_edges: paths (statement, branch, statement) in the proc
MAIN, LAST, REST = (0, "body", 0), (0, "body", 1), (0, "orelse", 0)


def _top(p: Procedure, top):
    """The statement `top` of p: an index into its body, or a path (index, branch,
    index) into an `if` there."""
    if isinstance(top, int):
        return p.body()[top]
    i, branch, j = top
    return list(getattr(p.body()[i], branch)())[j]


def _walk(s):
    yield s
    for blk in ("body", "orelse"):
        if hasattr(s, blk):
            sub = getattr(s, blk)()
            for t in (sub or []):
                yield from _walk(t)


def block_for_caches(p: Procedure, top: int, has_pc: bool, mr: int, nr: int,
                     blk: Blocking, threads: int) -> Procedure:
    """Order one tile nest as BLIS does, for each thread: NC columns at a time (jc),
    then (jt, threads > 1) the thread, KC of k (pc), MC rows (ic), the thread's NR-column
    slivers of the NC block (jq: sliver threads * jq + jt; jr with one thread; where
    `sliver_group` says 2, jq, jg: sliver 2 (threads * jq + jt) + jg, two side by side),
    MR rows (ir). Blocks and slivers partly past the matrix are guarded, not padded:

        for jc: for jt: for pc: for ic: for jq: if <sliver inside>: for ir: if <tile inside>:
            for kk < KC: for ii < MR: for ji < NR: ...
    """
    p = divide_loop(p, _find(p, top, "jo"), blk.nc // nr, ["jc", "jr"], tail="guard")
    sls = ["jr"]  # the sliver loops, outer to inner
    grp = sliver_group(blk, nr, threads)
    if grp > 1:  # jr = grp * jrg + jg: the thread's slivers side by side, grp at a time
        p = divide_loop(p, _find(p, top, "jr"), grp, ["jrg", "jg"], perfect=True)
        sls = ["jrg", "jg"]
    if threads > 1:  # jr (or jrg) = threads * jq + jt; jt outside
        p = divide_loop(p, _find(p, top, sls[0]), threads, ["jq", "jt"], perfect=True)
        p = reorder_loops(p, _find(p, top, "jq"))
        sls[0] = "jq"
    # the sliver's guard down below io and pc, so that the loops nest perfectly
    for inner in ("io", "pc")[:1 + has_pc]:
        p = lift_scope(p, _find(p, top, inner))
    if has_pc:  # sl io pc -> pc sl io
        p = reorder_loops(p, _find(p, top, "io"))
        p = _outward_past(p, top, sls)
    p = divide_loop(p, _find(p, top, "io"), blk.mc // mr, ["ic", "ir"], tail="guard")
    p = _outward_past(p, top, sls)  # sl ic -> ic sl
    for _ in range(2):  # the sliver's guard back up, above ir
        p = lift_scope(p, _sliver_guard(p, top, sls[-1]))
    return p


def sliver_group(blk: Blocking, nr: int, threads: int) -> int:
    """How many NR-column slivers of B a thread takes side by side when threads share
    columns (`block_for_caches`): 2 where NC allows, so that the thread packs 2 NR
    columns of each row of B at once (`pack_panels`), not one sliver down its KC rows,
    a row of B apart each (64 x 2048 x 2048 f64: 19% less CPU time, gemm_ab --threads 2
    --thread-cpu; 4 side by side gained 2% more, but leave a thread up to 4 slivers
    more than the other in the last NC block); 1 with one thread."""
    return 2 if threads > 1 and blk.nc % (2 * nr * threads) == 0 else 1


def _sliver_expr(blk: Blocking, nr: int, threads: int) -> str:
    """The index of the NR-column sliver of B within its NC block, in the loops of
    `block_for_caches`."""
    if threads == 1:
        return "jr"
    if sliver_group(blk, nr, threads) == 1:
        return f"{threads} * jq + jt"
    return f"{sliver_group(blk, nr, threads)} * ({threads} * jq + jt) + jg"


def _outward_past(p: Procedure, top: int, sls: list) -> Procedure:
    """The loop just inside the sliver loops `sls` (outer to inner) moved out of them."""
    for sl in reversed(sls):
        p = reorder_loops(p, _find(p, top, sl))
    return p


def _sliver_guard(p: Procedure, top: int, sl: str):
    return [s for s in _walk(_find(p, top, sl)) if _is_if(s) and sl in str(s.cond())][0]


def _is_loop(s, name: str) -> bool:
    return hasattr(s, "hi") and s.name() == name


def _is_if(s) -> bool:
    return hasattr(s, "cond") and not hasattr(s, "hi")


def pack_panels(p: Procedure, top: int, g: GemmParts, mr: int, nr: int, blk: Blocking,
                threads: int, names: tuple[str | None, str], row_threads: int = 1,
                transpose: Procedure | None = None) -> Procedure:
    """Copy the MC x KC block of A (for each pc, ic) and B into buffers laid out as the
    microkernel reads them, aligned to cache lines, private to each thread: A into
    Ap[MC / MR][KC][MR], allocated once per thread and NC block, written in order (MR
    rows of A read side by side) and checked against M once per MR rows. With one
    thread, B's whole KC x NC panel once per pc into Bp[NC / NR][KC][NR] (BLIS's order:
    jc, pc, ic, jr, ir); with threads, each of the thread's NR-column slivers once per
    pc, ic into Bs[KC][NR] (a thread's slivers are every other one, not a window), or,
    where the thread takes them two side by side (`sliver_group`), each pair into
    Bs[2][KC][NR], row by row as one thread packs its panel.
    names = (A's buffer or None: A read in place, B's buffer); `transpose`: the
    target's instruction that copies an MR x T block of A to T x MR (`Isa.pack_a`), for
    A's whole slivers, or None: element by element."""
    from knit.libs.memories import DRAM_ALIGNED64

    ap, bs = names
    has_pc = _has(p, top, "pc")
    k0, kext = _k_block(p, top, g, blk)
    col0 = f"{blk.nc} * jc + {nr} * ({_sliver_expr(blk, nr, threads)})"
    sl = "jq" if threads > 1 else "jr"
    grp = sliver_group(blk, nr, threads)
    if ap is not None:
        p = stage_mem(p, _find(p, top, sl), f"{g.a}[{blk.mc} * ic:{blk.mc} * ic + {blk.mc}, "
                      f"{k0}:{k0} + {kext}]", ap)
    if threads == 1:  # the whole KC x NC panel of B, once per pc
        c0 = f"{blk.nc} * jc"
        p = stage_mem(p, _find(p, top, "ic"), f"{g.b}[{k0}:{k0} + {kext}, {c0}:{c0} + {blk.nc}]",
                      bs)
    elif grp == 1:
        p = stage_mem(p, _find(p, top, "ir"), f"{g.b}[{k0}:{k0} + {kext}, {col0}:{col0} + {nr}]",
                      bs)
    else:  # the thread's grp slivers side by side, once per pc, ic
        c0 = f"{blk.nc} * jc + {grp * nr} * ({threads} * jq + jt)"
        p = stage_mem(p, _find(p, top, "jg"),
                      f"{g.b}[{k0}:{k0} + {kext}, {c0}:{c0} + {grp * nr}]", bs)
    if threads == 1:
        # (threads sharing rows deal the panel's copy out sliver by sliver:
        # parallelize_rows)
        # (all of k in one pass, K < KC: row by row too where A is packed there,
        # `Isa.all_k_like_blocks`)
        by_rows = (top != REST or ap is not None) and row_threads == 1
        p = _pack_b_by_slivers(p, top, g, nr, blk, bs, by_rows=by_rows)
    elif grp > 1:  # row by row where the grp slivers are all inside N
        p = _pack_b_by_slivers(p, top, g, nr, blk, bs, by_rows=True, start=c0, width=grp * nr)
    p = set_memory(p, f"{bs} : _", DRAM_ALIGNED64)
    if ap is not None:
        p = _pack_a_by_rows(p, top, g, mr, blk, ap)
        # out of ic and pc: once per thread and jc
        p = lift_alloc(p, f"{ap} : _", n_lifts=1 + has_pc)
    if threads == 1:  # out of pc; the last block of k has no pc
        p = simplify(lift_alloc(p, f"{bs} : _") if has_pc else p)
    else:  # out of the sliver's guard and loop (grp > 1: its group's loop), ic and pc
        p = simplify(lift_alloc(p, f"{bs} : _", n_lifts=(3 if grp == 1 else 2) + has_pc))
    if ap is not None and transpose is not None:  # (on Ap's simplified indices)
        p = _transpose_a_slivers(p, top, mr, blk.kc, transpose)
    return p


def _k_block(p: Procedure, top, g: GemmParts, blk: Blocking) -> tuple[str, str]:
    """(first row, rows) of the KC block of k that the tile nest `top` multiplies."""
    if _has(p, top, "pc"):
        return f"{blk.kc} * pc", str(blk.kc)
    if top == LAST:
        k0 = f"{blk.kc} * (({g.kk}) / {blk.kc}) - {blk.kc}"
        return k0, f"({g.kk}) - ({k0})"
    return "0", g.kk


# rows of B the packing reads ahead (`prefetch_rows_of_b`)
PREFETCH_ROWS = 8


def prefetch_rows_of_b(p: Procedure, top, g: GemmParts, nr: int, blk: Blocking, bs: str,
                       prefetch, ahead: int = PREFETCH_ROWS) -> Procedure:
    """In the row-by-row copy of B's panel (`_pack_b_by_slivers`, one thread: an NC
    block inside N), prefetch row k + `ahead` while row k is copied, NR columns at a
    time beside their copy (one call of the target's block prefetch, a line at a time):

        for i0 < KC - ahead: for i1o: prefetch_block(1, NR, B[k0 + i0 + ahead, ...]); copy NR
        for i0 in KC - ahead .. KC: for i1o: copy NR

    Each row of the block is NC elements of a row of B, N apart, so the hardware's
    stream prefetcher restarts on every row (a page of its own with N >= 1024 f32):
    64 x 2048 x 2048 f32 (NC = 256, B's copy a fifth of the time) ran 4-5% faster
    (best call and the sum of phase minima, C edited by hand, load ~10); 16 rows ahead
    did as well as 8. (`prefetch`: the target's instruction of a block, `Target.prefetch`.)"""
    k0, kext = _k_block(p, top, g, blk)
    if blk.kc <= ahead:  # (a block of k is KC deep, or deeper: the last one)
        return p
    loop = [s for s in _walk(_top(p, top)) if _is_loop(s, "i0") and _is_loop(s.body()[0], "i1o")
            and f"{bs}[" in text_of(s)][0]
    p = cut_loop(p, loop, f"{kext} - {ahead}")
    row = f"{k0} + i0 + {ahead}"
    copy = p.forward(loop).body()[0].body()[0]  # the NR columns' copy, in i1o
    col = f"{blk.nc} * jc + {nr} * i1o"
    return insert_noop_call(p, copy.before(), prefetch,
                            [1, nr, f"{g.b}[{row}:{row} + 1, {col}:{col} + {nr}]", 3])


def _pack_a_by_rows(p: Procedure, top: int, g: GemmParts, mr: int, blk: Blocking,
                    ap: str) -> Procedure:
    """A's block copy -> Ap[MC / MR][KC][MR], MR rows of A side by side, checked
    against M once per MR rows."""
    from knit.libs.memories import DRAM_ALIGNED64

    p = divide_dim(p, f"{ap} : _", 0, mr)
    p = rearrange_dim(p, f"{ap} : _", [0, 2, 1])
    p = set_memory(p, f"{ap} : _", DRAM_ALIGNED64)
    copy = [s for s in _walk(_top(p, top)) if hasattr(s, "hi")
            and s.name().startswith("i0") and f"{ap}[" in text_of(s)][0]
    p = divide_loop(p, copy, mr, ["i0o", "i0i"], perfect=True)  # i0 i1 -> i0o i1 i0i
    p = reorder_loops(p, _find(p, top, "i0i"))
    return _guard_per_sliver(p, top, "i0o", f"{blk.mc} * ic + {mr} * i0o", mr, g.m)


def _transpose_a_slivers(p: Procedure, top: int, mr: int, kc: int, transpose: Procedure
                         ) -> Procedure:
    """The copy of A's whole MR-row slivers (`_pack_a_by_rows`) in T x MR blocks through
    `transpose` (an instruction `dst[T, MR] = src[MR, T]` transposed), the K % T rows
    left element by element; nothing where its MR is another or KC < T (no whole
    block). Element by element, a sliver's copy gathers MR elements K apart for each
    vector it stores; f32 AVX-512 2048 x 64 x 2048 one thread: 147.8 -> 157.5 / 160.9
    GFLOP/s (benchmarks/gemm_ab.py, the schedule's C and the C edited by hand the same
    way, load 0.7-1)."""
    t = transpose.args()[0].shape()[0].value()  # k rows per block
    if transpose.args()[1].shape()[0].value() != mr or kc < t:
        return p
    whole = _nth_loop(p, top, "i0o", 0).body()[0].body()[0]  # for i1: for i0i: copy
    p = divide_loop(p, whole, t, ["i1o", "i1i"], tail="cut")
    whole = _nth_loop(p, top, "i0o", 0).body()[0].body()[0]  # for i1o: for i1i: ...
    return replace_block(p, whole.body()[0], transpose)


def _pack_b_by_slivers(p: Procedure, top: int, g: GemmParts, nr: int, blk: Blocking,
                       bs: str, by_rows: bool, start: str | None = None,
                       width: int | None = None) -> Procedure:
    """B's panel copy `for i0 < KC: for i1 < NC` -> Bp[NC / NR][KC][NR], checked against
    N once per NR columns (whole slivers unchecked, the one partly past N element by
    element, the ones past N skipped). by_rows: an NC block wholly inside N (all but
    the last) is read row by row (each row's NC columns in order, NR at a time into
    their slivers), unchecked; otherwise sliver by sliver (down its KC rows, a page
    apart). By rows ran 64 x 2048 x 2048 f32, where packing B is a third of the time, 5%
    faster (1.01x -> 1.06x OpenBLAS, interleaved, one thread); checked row by row, every
    row would check every sliver of NC, which narrow or small problems paid for (64^3
    0.74x against 1.05x OpenBLAS; 1024 x 48 x 1024 with NC = 4096 0.88x against 0.94x).
    (start, width): the copied columns, when not the NC block (the default)."""
    from knit.stdlib.scheduling import eliminate_dead_code, specialize

    p = divide_dim(p, f"{bs} : _", 1, nr)
    p = rearrange_dim(p, f"{bs} : _", [1, 0, 2])
    copy = [s for s in _walk(_top(p, top)) if hasattr(s, "hi")
            and s.name().startswith("i0") and f"{bs}[" in text_of(s)][0]
    p = divide_loop(p, copy.body()[0], nr, ["i1o", "i1i"], perfect=True)
    nth = 0
    if by_rows:
        start, width = start or f"{blk.nc} * jc", width or blk.nc
        p = specialize(p, p.forward(copy), [f"{start} + {width} <= {g.n}"])
        spec = p.forward(copy).parent()
        whole = spec.body()[0]
        p = eliminate_dead_code(p, [s for s in _walk(whole) if _is_if(s)][0])
        copy, nth = p.forward(spec).orelse()[0], 1
    p = reorder_loops(p, p.forward(copy))  # i0 i1o i1i -> i1o i0 i1i
    return _guard_per_sliver(p, top, "i1o", f"{start or f'{blk.nc} * jc'} + {nr} * i1o", nr,
                             g.n, nth)


def _has(p: Procedure, top: int, name: str) -> bool:
    try:
        _find(p, top, name)
    except LookupError:
        return False
    return True


def call_microkernel(p: Procedure, top, ref: Procedure, fast: Procedure,
                     depth: str = "kk") -> Procedure:
    """Replace the k loop `depth` of one tile nest by a call of the plain microkernel `ref`
    (unification finds the windows of Ap, Bp and C), then call its scheduled twin."""
    return _call(p, top, _find(p, top, depth), ref, fast)


def prefetch_next_tile(p: Procedure, top: int, g: GemmParts, mr: int, nr: int,
                       blk: Blocking, threads: int, prefetch, step: int = 1) -> Procedure:
    """Before each microkernel call, prefetch the C tile the next call reads (MR rows
    below, the same columns; `step` x MR rows below where the threads take the MR-row
    slivers in turn, `parallelize_rows`): the kernel loads its C tile first thing, and
    on a large matrix that tile is in L3 or memory while the last KC x MR x NR
    multiply-adds ran.
    The call is specialized on `the next tile is inside` so that the prefetched rows
    are provably inside C (a prefetch is checked as any call), then a prefetch of the
    tile, a cache line at a time (`prefetch`: the target's instruction of a block,
    `Target.prefetch`)."""
    from knit.stdlib.scheduling import specialize

    col0 = f"{blk.nc} * jc + {nr} * ({_sliver_expr(blk, nr, threads)})"
    call = [s for s in _walk(_top(p, top)) if hasattr(s, "subproc")
            and not s.subproc().is_instr()][0]  # (not A's packing)
    p = specialize(p, call, [f"{blk.mc // mr} * ic + ir + {step} < {g.m} / {mr}"])
    call = p.forward(call)  # the call, in the specialized branch
    row = f"{blk.mc} * ic + {mr} * ir + {mr * step}"
    return insert_noop_call(p, call.before(), prefetch,
                            [mr, nr, f"{g.c}[{row}:{row} + {mr}, {col0}:{col0} + {nr}]", 3])


def tiles_along_rows(p: Procedure, top) -> Procedure:
    """`for jr: if: for ir: if: kernel` -> `for ir: if: for jr: if: kernel`: with all of
    k in one pass (K < KC), each call loads and stores its C tile after only K
    multiply-adds per element, so C's traffic is the cost; along the MR rows of C
    (the tile to the right next) each row of C streams from memory in order, where down
    the NR-column sliver every tile is MR new rows. B's packed panel (K x NC, in L2) is
    read once per MR rows instead of once per sliver, and A's MR rows stay in L1."""
    p = lift_scope(p, _find(p, top, "ir"))  # for jr: for ir: if jr: if ir
    p = reorder_loops(p, _find(p, top, "jr"))  # for ir: for jr: if jr: if ir
    for _ in range(2):  # the row guard up: for ir: if ir: for jr: if jr
        guard = [s for s in _walk(_find(p, top, "ir")) if _is_if(s) and "ir" in str(s.cond())]
        p = lift_scope(p, guard[0])
    return p


def _nth_loop(p: Procedure, top: int, name: str, n: int):
    """The n-th loop called `name` (in walk order) inside the top-level statement `top`."""
    return [s for s in _walk(_top(p, top)) if hasattr(s, "hi") and s.name() == name][n]


def _guard_per_sliver(p: Procedure, top: int, sliver: str, start: str, q: int, end: str,
                      nth: int = 0) -> Procedure:
    """`for s: B` (the nth loop called s) whose B checks each element against `end` ->
    for s: if the sliver [start, start + q) is inside: B unchecked; (else nothing). The
    copy of a sliver partly past `end` (B checked per element) is deleted: the tiles
    read whole slivers only (the last rows and columns are statements of their own),
    so nothing reads it (`eliminate_dead_stores` proves it). f32, one thread,
    benchmarks/gemm_ab.py, the C with and without it (idle, 5 rounds, knit / OpenBLAS):
    100 x 100 x 2000 0.79x -> 0.94x, 150 x 150 x 1500 0.79x -> 0.86x, 777^3 0.95x ->
    0.99x, 333^3 1.08x -> 1.11x: element by element, a guarded copy of the partial
    sliver of B (K x NR for N % NR columns) and of A cost as much as a tenth of the
    time."""
    from knit.stdlib.scheduling import (
        delete_pass,
        eliminate_dead_code,
        eliminate_dead_stores,
        specialize,
    )

    p = specialize(p, _nth_loop(p, top, sliver, nth).body(),
                   [f"{start} + {q} <= {end}", f"{start} < {end}"])

    def guard(branch):  # the per-element check inside one branch
        return [s for s in _walk(branch) if hasattr(s, "cond") and not hasattr(s, "hi")][0]

    spec = _nth_loop(p, top, sliver, nth).body()[0]
    p = eliminate_dead_code(p, guard(spec.orelse()[0].orelse()[0]))  # outside: never
    spec = _nth_loop(p, top, sliver, nth).body()[0]
    p = eliminate_dead_code(p, guard(spec.body()[0]))  # whole sliver: always
    spec = _nth_loop(p, top, sliver, nth).body()[0]
    p = eliminate_dead_stores(p, spec.orelse()[0])  # partly inside: never read
    return delete_pass(p)


def edge_rows_in_passes(p: Procedure, top: int, g: GemmParts, nr: int, kernel) -> Procedure:
    """The last M % MR rows (statement `top`) as one call of kernel = (plain, fast): the
    GEMM with M, N, K as parameters and its passes over k (variants.schedule_k_passes),
    B read a few whole rows at a time rather than down each NR-column sliver (`edge_rows`
    reads all of B, a page apart per k, once per class of rows: from L3 or memory where
    B is large). One thread (`blocked_kernel`; the threads share `edge_rows`' column
    blocks out). Intel Xeon, benchmarks/gemm_ab.py, 5 rounds, knit / OpenBLAS, edge_rows
    -> passes: f32 333^3 1.10x -> 1.13x, 777^3 0.97x -> 0.98x, 1025^3 0.98x -> 1.00x,
    513^3 0.98x -> 1.00x, 150 x 150 x 1500 0.85x -> 0.89x, 300 x 300 x 3000 0.90x ->
    0.93x; f64 777^3 1.01x -> 1.04x, 1025^3 1.03x -> 1.06x, 150 x 150 x 1500 1.05x ->
    1.12x; 100^3 (not blocked) unchanged."""
    from knit.stdlib.scheduling import delete_pass, eliminate_dead_code, mult_loops

    p = simplify(mult_loops(p, _find(p, top, "jo"), "j"))
    # (the call's N, NR (N / NR), must be at least 1: no call where N < NR)
    p = specialize(p, _top(p, top).body()[0], [f"{nr} <= {g.n}"])
    p = delete_pass(eliminate_dead_code(p, _top(p, top).body()[0].orelse()[0].body()[0]))
    part, fast = kernel
    p = replace_block(p, _top(p, top).body()[0].body(), part)
    call = [s for s in _walk(_top(p, top)) if hasattr(s, "subproc")][0]
    return call_eqv(p, call, fast)


def schedule_edges(p: Procedure, g: GemmParts, target_name: str, isa, *,
                   copy_b: bool = True, column_quads: bool = False,
                   rows_in_passes=None) -> Procedure:
    """The last rows (statement 1, `edge_rows`) and the last columns (statement 2,
    `edge_columns`) of every kernel, each scheduled on its statement alone, once for all
    the kernels that share it (knit.rewrite.isolate: the blocked kernel, its twins and
    the threaded ones cut the same edges). The edges need the unit strides the user
    asserted, not the conditions each twin was cut off under. `copy_b` and
    `column_quads` go to `edge_columns` and `edge_column_kernels` (the small kernel's
    last columns read B in place, their last rows 4 at a time); `rows_in_passes`, a
    (plain, fast) GEMM in passes over k, makes the last rows one call of it instead
    (`edge_rows_in_passes`)."""
    mr, nr = isa.mr, isa.nr
    quads = microkernel(target_name, g.dtype, False, (4, nr)) if mr > 4 else None
    if rows_in_passes is not None:  # (plain, fast): `edge_rows_in_passes`, a few steps
        # on the whole procedure (its delete_pass would take isolation's holes too)
        p = edge_rows_in_passes(p, 1, g, nr, rows_in_passes)
    else:
        p = on_statements(p, 1, 2, edge_rows, 1, g, quads,
                          microkernel(target_name, g.dtype, False, (1, nr)), keep=_is_stride)
    # the last columns 8 rows at a time: 8 accumulators hide the multiply-add's latency
    # (4 did not: 777 x 777 ran at 0.89x OpenBLAS with 4, its 9 last columns the cause)
    return on_statements(p, 2, 3, edge_columns, 2, g, isa.lanes,
                         *edge_column_kernels(target_name, g.dtype, quads=column_quads),
                         copy_b, keep=_is_stride)


def _is_stride(assertion: str) -> bool:
    return assertion.startswith("stride(")


def edge_rows(p: Procedure, top: int, g: GemmParts, quads, ones) -> Procedure:
    """The last M % MR rows, NR columns at a time, with kernels reading A and B in place:
    four rows at a time by the 4 x NR kernel `quads` (None: none), the rest one by one by
    the 1 x NR kernel `ones`."""
    if quads is not None:
        p = divide_loop(p, _find(p, top, "ii"), 4, ["iq", "ii"], tail="cut_and_guard")
        for loop in ("ji", "ii", "ii"):  # iq ii jo ji k -> iq jo k ii ji
            p = reorder_loops(p, _find(p, top, loop))
        p = _call(p, top, _find(p, top, g.k), *quads)
    p = divide_loop(p, _find(p, top, "ii"), 1, ["ie", "i1"], perfect=True)
    for loop in ("ji", "i1", "i1"):  # ie i1 jo ji k -> ie jo k i1 ji
        p = reorder_loops(p, _find(p, top, loop))
    return _call(p, top, _find(p, top, g.k), *ones)


def edge_columns(p: Procedure, top: int, g: GemmParts, lanes: int, rows: dict,
                 masked: dict | None, half: tuple[int, dict, dict | None] | None = None,
                 quarter: tuple[int, dict, dict] | None = None, copy_b: bool = True
                 ) -> Procedure:
    """The last N % NR columns, all rows: whole vectors of `lanes` columns by the
    R x lanes kernels `rows` ({R: kernel, 1: kernel}: R rows at a time, then one by one,
    so that R accumulators hide the multiply-add's latency), the last (N % NR) % lanes
    columns likewise by the `masked` kernels (or, on a target without masks, by plain
    loops with k outside, along a row of C). With `half` = (lanes / 2, R x lanes / 2
    kernels, masked kernels on those registers), the last (N % NR) % lanes columns are a
    whole half vector if there are lanes / 2 of them, then the rest masked, on registers
    of half the width (cheaper per multiply-add than a masked full one). With `quarter`
    (the same on registers of a quarter of the width) too, that rest is a whole quarter
    vector if there are lanes / 4 columns, unmasked, then the rest masked on quarter
    registers (100^3 f32: its 4 last columns took 15% of the time, masked 256-bit).
    With `half` and `masked` both (`Isa.masked_wide_rest`), a rest of more than lanes / 2
    columns is one masked full vector instead, one multiply-add per row and k, not two
    (Intel Xeon, f32, one thread, benchmarks/gemm_ab.py, knit / OpenBLAS, rest masked
    full-width for every rest: 1000 x 13 x 1000 1.09x -> 1.52x, 200 x 13 x 300 0.67x ->
    0.82x, 200 x 31 x 300 1.36x -> 1.56x, 500 x 9 x 500 1.02x -> 1.14x, 333^3 and 777^3
    within the noise; but rests up to lanes / 2 lost: 1000 x 5 x 1000 1.67x -> 1.16x,
    1000 x 20 x 1000 1.22x -> 0.88x, 200 x 24 x 300 1.26x -> 0.98x, 100^3 1.08x ->
    1.00x). The kernels read B's last columns from a copy made once
    (`_copy_last_columns`), or, with copy_b=False, in place (where B is small, the copy
    costs more than it saves)."""
    p = lift_scope(p, [s for s in _walk(_top(p, top)) if _is_if(s)][0])
    p = reorder_loops(p, _find(p, top, "ji"))  # ji k -> k ji
    p = divide_loop(p, _find(p, top, "ji"), lanes, ["jv", "jw"], tail="cut_and_guard")
    p = fission(p, _find(p, top, "jv").after(), n_lifts=2)
    p = reorder_loops(p, _find(p, top, g.k))  # whole vectors: i k jv jw -> i jv k jw
    # the rest: i k (if: jw) -> if: i k jw
    last = len(list(p.body()[top].body())) - 1
    for _ in range(2):
        p = lift_scope(p, [s for s in _walk(list(p.body()[top].body())[last]) if _is_if(s)][0])
    if half is not None:
        hl, half_rows, half_masked = half
        at = (last,)
        if masked is not None:  # a rest of more than half the lanes: one masked vector
            #     if: i k jw -> if: [if r <= hl: i k jw  else: i k jw]
            nest = _at(p, top, (last, 0))
            jw = [s for s in _walk(nest) if hasattr(s, "hi") and s.name() == "jw"][0]
            p = specialize(p, nest, [f"{jw.hi()} <= {hl}"])
            p = _rows_then_kernels(p, top, (last, 0, ("orelse", 0)), g, (g.k,), masked)
            at = (last, 0)
        # the rest: a whole half vector (jh), then the rest of it masked:
        #     if: i k jw -> if: [i jh k jx; if: i k jx]
        p = _whole_then_rest(p, top, at, g, "jw", hl, ("jh", "jx"))
        if quarter is not None:
            # ... that rest: up to a quarter of the lanes, a whole quarter vector (jq)
            # or a masked one; more, one masked half vector (one pass over A's rows, not
            # a whole quarter and a masked one: 333^3 f32 ran 3% slower with two)
            #     if: i k jx -> if: [if r <= ql: [i jq k jy; if: i k jy] else: i k jx]
            ql, quarter_rows, quarter_masked = quarter
            nest = _at(p, top, at + (1, 0))
            jx = [s for s in _walk(nest) if hasattr(s, "hi") and s.name() == "jx"][0]
            p = specialize(p, nest, [f"{jx.hi()} <= {ql}"])
            p = _rows_then_kernels(p, top, at + (1, 0, ("orelse", 0)), g, (g.k,),
                                   half_masked)
            p = _whole_then_rest(p, top, at + (1, 0), g, "jx", ql, ("jq", "jy"))
            p = _rows_then_kernels(p, top, at + (1, 0, 1), g, (g.k,), quarter_masked)
            p = _rows_then_kernels(p, top, at + (1, 0, 0), g, ("jq", g.k), quarter_rows)
        else:
            p = _rows_then_kernels(p, top, at + (1,), g, (g.k,), half_masked)
        p = _rows_then_kernels(p, top, at + (0,), g, ("jh", g.k), half_rows)
    elif masked is not None:  # the rest first: the vectors' row split adds a nest before it
        p = _rows_then_kernels(p, top, (last,), g, (g.k,), masked)
    p = _rows_then_kernels(p, top, (0,), g, ("jv", g.k), rows)
    return _copy_last_columns(p, top, g) if copy_b else p


def _copy_last_columns(p: Procedure, top: int, g: GemmParts) -> Procedure:
    """B's last N % NR columns (all K rows) copied once, side by side, before the edge
    columns' kernels read them (each MR rows' call reads all of them): in place, each
    row of them is a cache line of its own, N apart, from L3 where B is larger than L2
    (777^3 f32: the one last column's masked kernel took 2% of the time for 0.1% of the
    multiply-adds), where the copy (K x 31 at most) stays in L1."""
    cond = str(_top(p, top).cond())
    rest = re.fullmatch(r"(.+) > 0", cond)
    if rest is None:  # a bug in this module: cut_edges makes `if N % NR > 0`
        raise LookupError(f"no `if N % NR > 0` at statement {top}: {cond}")
    window = f"{g.b}[0:{g.kk}, {g.n} - ({rest.group(1)}):{g.n}]"
    return simplify(stage_mem(p, _top(p, top).body(), window, f"{g.b}_last"))


def _whole_then_rest(p: Procedure, top: int, path: tuple, g: GemmParts, name: str,
                     lanes: int, names: tuple[str, str]) -> Procedure:
    """`if: for i: for k: for <name> < r: S` at `path` of statement `top` ->
    `if: [for i: for w < r / lanes: for k: for x < lanes: S;
           if r % lanes > 0: for i: for k: for x < r % lanes: S]`, (w, x) = names."""
    def loop(q, n):
        return [s for s in _walk(_at(q, top, path)) if hasattr(s, "hi") and s.name() == n][0]

    p = divide_loop(p, loop(p, name), lanes, list(names), tail="cut_and_guard")
    p = fission(p, loop(p, names[0]).after(), n_lifts=2)
    p = reorder_loops(p, loop(p, g.k))  # i k w x -> i w k x
    for _ in range(2):
        p = lift_scope(p, [s for s in _walk(_at(p, top, path + (1,))) if _is_if(s)][0])
    return p


def edge_column_kernels(target_name: str, dtype: str, quads: bool = False
                        ) -> tuple[dict, dict | None, tuple | None, tuple | None]:
    """The kernels of `edge_columns` on `target_name`: (rows, masked, half, quarter),
    EDGE_ROWS rows at a time and one by one: whole vectors; where the target has
    half-width masked registers (AVX-512, AVX2), half = (their lanes, whole half vectors,
    masked half vectors) and masked = the masked full vectors for a rest of more than
    half the lanes where the target says so (`Isa.masked_wide_rest`), else None; without
    half, masked full vectors (None: none, plain loops); where it has quarter-width ones too, quarter = (their lanes, whole quarter
    vectors, masked quarter vectors). With quads, 4 rows at a time too, before the last
    M % 4 one by one (`_rows_then_kernels`)."""
    isa = target(target_name).isa(dtype)
    rows = (EDGE_ROWS, 4, 1) if quads and EDGE_ROWS > 4 else (EDGE_ROWS, 1)
    whole = {r: microkernel(target_name, dtype, False, (r, isa.lanes)) for r in rows}
    if isa.half is not None and isa.half.masked is not None:
        hl = isa.half.lanes
        quarter = None
        q = isa.half.quarter
        if q is not None and q.masked is not None:
            quarter = (q.lanes, {r: microkernel(target_name, dtype, False, (r, q.lanes),
                                                quarter=True) for r in rows},
                       {r: masked_kernel(target_name, dtype, r, quarter=True) for r in rows})
        masked = ({r: masked_kernel(target_name, dtype, r) for r in rows}
                  if isa.masked_wide_rest else None)
        return whole, masked, (
            hl, {r: microkernel(target_name, dtype, False, (r, hl), half=True) for r in rows},
            {r: masked_kernel(target_name, dtype, r, half=True) for r in rows}), quarter
    if isa.masked is None:
        return whole, None, None, None
    return whole, {r: masked_kernel(target_name, dtype, r) for r in rows}, None, None


def _at(p: Procedure, top: int, path: tuple):
    """The statement at `path` (indices into bodies; ("orelse", i): into an `if`'s else
    branch) in the top-level statement `top`."""
    s = _top(p, top)
    for i in path:
        s = list(s.orelse())[i[1]] if isinstance(i, tuple) else list(s.body())[i]
    return s


def _rows_then_kernels(p: Procedure, top: int, path: tuple, g: GemmParts, past: tuple,
                       kernels: dict) -> Procedure:
    """In the nest at `path` of statement `top`: rows R at a time (`for iw`, then `for
    ie` the M % R others), the row loop moved inward past the loops `past`, and the k
    loop replaced by the R-row and the 1-row kernel; where `kernels` has a 4-row one,
    the M % R rows 4 at a time first (`for iq`)."""
    r = max(kernels)

    def nest(q):
        return _at(q, top, path)

    def loop(q, name, within):
        return [s for s in _walk(within) if hasattr(s, "hi") and s.name() == name][0]

    p = divide_loop(p, loop(p, g.i, nest(p)), r, ["iw", "i1"], tail="cut_and_guard")
    for _ in past:
        p = reorder_loops(p, loop(p, "i1", loop(p, "iw", nest(p))))
    p = _call(p, top, loop(p, g.k, loop(p, "iw", nest(p))), *kernels[r])
    tail = [s for s in _walk(_top(p, top)) if hasattr(s, "hi") and s.name() == "i1"][0]
    if 4 in kernels and r > 4:  # M % R rows: 4 at a time, then one by one
        p = divide_loop(p, tail, 4, ["iq", "i1"], tail="cut_and_guard")
        iq = [s for s in _walk(_top(p, top)) if hasattr(s, "hi") and s.name() == "i1"][0]
        iq = iq.parent()
        for _ in past:
            p = reorder_loops(p, loop(p, "i1", p.forward(iq)))
        p = _call(p, top, loop(p, g.k, p.forward(iq)), *kernels[4])
        tail = [s for s in _walk(_top(p, top)) if hasattr(s, "hi") and s.name() == "i1"][0]
    p = divide_loop(p, tail, 1, ["ie", "i1"], perfect=True)
    for _ in past:
        p = reorder_loops(p, [s for s in _walk(_top(p, top)) if hasattr(s, "hi")
                              and s.name() == "i1"][0])
    ie = [s for s in _walk(_top(p, top)) if hasattr(s, "hi") and s.name() == "ie"][0]
    return _call(p, top, loop(p, g.k, ie), *kernels[1])


def _call(p: Procedure, top: int, block, ref: Procedure, fast: Procedure) -> Procedure:
    """Replace `block` by a call of `ref`, then of its scheduled twin `fast`."""
    p = replace_block(p, block, ref)
    call = [s for s in _walk(_top(p, top)) if hasattr(s, "subproc")
            and s.subproc().name() == ref.name()][0]
    return call_eqv(p, call, fast)


def parallelize(p: Procedure, top: int) -> Procedure:
    """Columns shared out (split="cols"): the threads' loop jt becomes `par`, one OpenMP
    region per NC block. Each thread writes its own slivers of C and its own packed
    buffers; parallelize_loop proves it (no two iterations touch a location one of them
    writes)."""
    return parallelize_loop(p, _find(p, top, "jt"))


def parallelize_rows(p: Procedure, top, threads: int, packs_a: bool) -> Procedure:
    """Rows shared out (split="rows"), on the one-thread nest: the MR-row slivers of each
    MC block in turn (sliver threads * irq + irt to thread irt), each thread packing the
    slivers of A it multiplies (into the shared Ap: no sliver packed twice), all of them
    reading the one packed panel of B, which they pack first, sliver by sliver in turn
    (a par loop of its own: its end is the barrier before the others' slivers are read):

        for jc: for pc:
            for i1t in par(0, threads): for i1q: <pack B's sliver threads * i1q + i1t>
            for i0t in par(0, threads): for ic:
                for i0q: <pack A's sliver threads * i0q + i0t>
                for jr: for irq: <tile of rows threads * irq + i0t>

    (with all of k in one pass, K < KC, A is read in place and each thread walks its
    slivers' tiles along the rows, `tiles_along_rows`: for irt: for ic: for irq: for jr;
    2048 x 2048 x 64 f32 spent 29% less CPU time than down the slivers, gemm_ab
    --threads 2 --thread-cpu, load 4-7)

    Against columns shared out: no packing of A twice, and no cache line of C written
    by both threads (each thread's slivers of a row of C meet the other's at their
    ends, and NumPy's arrays start 16 bytes past a line); 1024^3 f32 spent 15% more
    cycles than one thread did (kernel and packing, perf), 1-4% with rows. But each core
    reads the whole panel of B, half of it packed by the other: with one MC block of
    rows (64 x 2048 x 2048) that cost more than packing A twice (split="cols" there).
    parallelize_loop proves each par loop free of races."""
    private = top == REST  # all of k in one pass: each thread packs all of B's panel
    if not private:
        p = _deal_out(p, top, "i1o", threads, "i1")  # B's slivers
    p = _deal_out(p, top, "ir", threads, "ir")  # C's (and A's) MR-row slivers
    # the thread's loop out of the sliver's guard and loop: for irt: for jr: if: for irq
    # (tiles along rows, `tiles_along_rows`: irt is already the outermost under ic)
    while not _is_loop(_find(p, top, "irt").parent(), "ic"):
        p = lift_scope(p, _find(p, top, "irt"))
    t = "irt"
    if packs_a:
        p = _deal_out(p, top, "i0o", threads, "i0")  # A's slivers, in the same turns
        p = fuse(p, _find(p, top, "i0t"), _find(p, top, "irt"))
        t = "i0t"
    # the thread's loop out of ic: one parallel region per KC block, not per MC block
    p = reorder_loops(p, _find(p, top, "ic"))
    if private:
        p = _private_panel(p, top, t, threads)
    # the loops made par as the final simplify leaves them: proven free of races once
    # (a par loop a later step changes is proven again, ~0.1 s for one with A's packing)
    p = simplify(p)
    if not private:
        p = parallelize_loop(p, _find(p, top, "i1t"))
    return parallelize_loop(p, _find(p, top, t))


def _private_panel(p: Procedure, top, t: str, threads: int) -> Procedure:
    """All of k in one pass (K < KC): each thread packs the whole panel of B into a
    panel of its own, then multiplies its rows, in one parallel region per NC block:

        for jc: for t in par(0, threads): Bs_k: ...; <pack all of B's slivers>; <tiles>

    Twice the packing, but no barrier between packing and tiles and no line of the panel
    written by one core and read by the other: f64 256^3 73-90 -> 102-105 GFLOP/s, f32
    512^3 184 -> 212 (C edited by hand, docs/performance.md). The pack repeated per
    thread is `add_loop` (it is idempotent); fuse accepts it before the thread's loop
    (every iteration stores the same values: analysis/byvalue.py), and the panel
    allocated in the loop's body is each thread's own."""
    pack = _find(p, top, "i1o")
    # the packed A's allocation out of the way: the pack and the threads' loop adjacent
    if not hasattr(pack.next(), "hi"):  # Ap_k's allocation, before the pack
        p = reorder_stmts(p, pack.expand(0, 1))
        pack = _find(p, top, "i1o")
    p = add_loop(p, pack, t, str(threads))
    p = fuse(p, _find(p, top, t), _nth_loop(p, top, t, 1))
    # the panel's allocation (above the packed A's) next to the loop, then into it
    while not hasattr(p.find("Bs_k : _").next(), "hi"):
        p = reorder_stmts(p, p.find("Bs_k : _").expand(0, 1))
    return sink_alloc(p, p.find("Bs_k : _"))


def _deal_out(p: Procedure, top, name: str, threads: int, prefix: str) -> Procedure:
    """`for x < n: S` -> `for {prefix}t < threads: for {prefix}q < n / threads: S` with
    x = threads * q + t: iteration t takes every threads-th x (n a multiple of threads,
    check_blocking)."""
    q, t = f"{prefix}q", f"{prefix}t"
    p = divide_loop(p, _find(p, top, name), threads, [q, t], perfect=True)
    return reorder_loops(p, _find(p, top, q))


def parallelize_edges(p: Procedure, g: GemmParts) -> Procedure:
    """The edge rows run their NR-column blocks in parallel, the edge columns their
    blocks of EDGE_ROWS rows. A loop of at most one iteration around them (`for iq <
    M % 8 / 4`, `for jv < N % 32 / 16`...) stays outside the par loop, so that no
    parallel region starts without work; the last M % EDGE_ROWS rows of the last
    columns (`for ie`: at most 7 one-row kernels per vector of columns) run on one
    thread, as a parallel region costs more than they do. 333^3 f32 (rows 328-332,
    columns 320-332) started 8 regions after the tiles' 2, two of them empty; with
    their minimum times (instrumented C, 3000 calls): 47 us of the call's 371, 10 us
    of them the regions' cost beyond the threads' work."""
    rows = 1
    if _has(p, rows, "iq"):  # for iq < M % 8 / 4: for jo in par
        p = parallelize_loop(p, _find(p, rows, "iq").body()[0])
    if _has(p, rows, "ie"):  # ie jo -> jo ie, then par: one region for M % 4 rows
        p = reorder_loops(p, _find(p, rows, "ie"))
        p = parallelize_loop(p, [s for s in _walk(p.body()[rows]) if _is_loop(s, "jo")
                                 and _is_loop(s.body()[0], "ie")][0])
    cols = 2
    for name in ("iw", g.i):
        while True:
            loops = [s for s in _walk(p.body()[cols]) if _is_loop(s, name)
                     and "par(" not in text_of(s).split("\n")[0]]
            if not loops:
                break
            body = list(loops[0].body())
            if name == "iw" and len(body) == 1 and hasattr(body[0], "hi"):
                # iw jv -> jv iw: jv < N % 32 / 16 and jh < N % 16 / 8 run once or never
                p = reorder_loops(p, loops[0])
                loops = [s for s in _walk(p.body()[cols]) if _is_loop(s, name)
                         and "par(" not in text_of(s).split("\n")[0]]
            p = parallelize_loop(p, loops[0])
    return p


# rows of C per call of the last columns' kernels (then one by one)
EDGE_ROWS = 8


def blocked_kernel(p: Procedure, g: GemmParts, target_name: str, blk: Blocking, threads: int,
                   shape: tuple[int, int] | None, split: str, rows_in_passes=None
                   ) -> Procedure:
    """The blocked kernel for the blocks `blk` and `threads` sharing `split` ("rows" or
    "cols"): schedule_gemm's (knit.stdlib.gemm.variants) past its choice of twins.
    `rows_in_passes`: as `schedule_edges`' (one thread: the GEMM in passes over k)."""
    isa = _isa(target_name, g.dtype, shape)
    mr, nr = isa.mr, isa.nr
    rows = threads if threads > 1 and split == "rows" else 1  # threads sharing rows
    cols = threads // rows  # threads sharing columns
    ref, fast = microkernel(target_name, g.dtype, True, shape)
    prefetch = target(target_name).prefetch
    # the kernels of one plain GEMM with the same MR, NR and KC (the blocked one, its
    # twins with other MC and NC, the threaded ones; each asserting when it runs) cut
    # the same nest: made once, on the nest and the strides alone (knit.rewrite.isolate)
    p = on_statements(p, 0, 1, cut_edges, g, mr, nr, blk.kc, keep=_is_stride)
    # all of k when K < KC reads A in place: packing an MR-row sliver of A costs as much
    # as the K multiply-adds it feeds per NR columns when N is small (64^3: 0.85x
    # OpenBLAS with A packed); unless the target packs it there (`Isa.all_k_like_blocks`)
    packed = (ref, fast)
    rest = (("Ap_k", "Bs_k"), packed) if isa.all_k_like_blocks else (
        (None, "Bs_k"), microkernel(target_name, g.dtype, False, (mr, nr)))
    nests = ((MAIN, ("Ap", "Bs"), packed), (LAST, ("Ap_l", "Bs_l"), packed), (REST, *rest))
    for top, names, kernel in nests:
        p = block_for_caches(p, top, top == MAIN, mr, nr, blk, cols)
        p = pack_panels(p, top, g, mr, nr, blk, cols, names, row_threads=rows,
                        transpose=isa.pack_a)
        p = call_microkernel(p, top, *kernel, depth="kk" if top == MAIN else g.k)
        if prefetch is not None and top != REST:
            p = prefetch_next_tile(p, top, g, mr, nr, blk, cols, prefetch, step=rows)
            if threads == 1:
                p = prefetch_rows_of_b(p, top, g, nr, blk, names[1], prefetch)
        if top == REST and cols == 1:
            p = tiles_along_rows(p, top)
    p = schedule_edges(p, g, target_name, isa, rows_in_passes=rows_in_passes)
    if threads > 1:  # last: a proc with par loops costs every later check more
        # (simplified first: a par loop the final simplify changes is proven again)
        p = on_statements(simplify(p), 1, 3, parallelize_edges, g, keep=_is_stride)
        for top, names, _ in nests:
            p = (parallelize_rows(p, top, rows, names[0] is not None) if rows > 1
                 else parallelize(p, top))
    return simplify(p)
