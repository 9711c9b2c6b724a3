"""The register kernels of the GEMM: the MR x NR microkernel on packed slivers, the
row kernels of the edges (A and B read in place), the masked kernel of the last columns;
each written as plain loops and scheduled onto a target's registers."""

from __future__ import annotations

import functools
from dataclasses import replace

from knit import DRAM
from knit.procedure import Procedure, parse_proc_string
from knit.stdlib.gemm.targets import Isa, _isa, resolve, target
from knit.stdlib.sched_buffers import bind_expr, resize_dim
from knit.stdlib.scheduling import (
    cut_loop,
    delete_pass,
    divide_dim,
    divide_loop,
    eliminate_dead_code,
    expand_dim,
    fission,
    lift_alloc,
    remove_loop,
    rename,
    repeat,
    replace_all,
    set_memory,
    simplify,
    stage_mem,
    unroll_loop,
)

_KERNEL = """\
def {name}(K: size, A: [{t}]{ashape} @ DRAM, B: [{t}][K, {nr}] @ DRAM, C: [{t}][{mr}, {nr}] @ DRAM):
    assert stride(A, 1) == 1
    assert stride(B, 1) == 1
    assert stride(C, 1) == 1
    for k in seq(0, K):
        for i in seq(0, {mr}):
            for j in seq(0, {nr}):
                C[i, j] += {aread} * B[k, j]
"""


_SIZED = """\
def {name}(M: size, N: size, K: size, A: [{t}][M, K] @ DRAM, B: [{t}][K, N] @ DRAM,
           C: [{t}][M, N] @ DRAM):
{asserts}    assert stride(A, 1) == 1
    assert stride(B, 1) == 1
    assert stride(C, 1) == 1
    for i in seq(0, M):
        for j in seq(0, N):
            for k in seq(0, K):
                C[i, j] += A[i, k] * B[k, j]
"""


def plain_gemm(name: str, dtype: str, one_column: bool = False) -> Procedure:
    """The plain GEMM called `name` on `dtype`, M, N and K as parameters, A, B, C
    windows with unit stride along their rows (the kernels the variants call:
    unification finds the sizes and windows of each call); with `one_column`, also
    `assert N == 1` (the GEMV's, `knit.stdlib.gemm.gemv`)."""
    asserts = "    assert N == 1\n" if one_column else ""
    return parse_proc_string(_SIZED.format(name=name, t=dtype, asserts=asserts),
                             {"DRAM": DRAM})


@functools.cache
def microkernel_ref(dtype: str, mr: int, nr: int, packed: bool = True) -> Procedure:
    """C[mr, nr] += A * B[K, nr]: the rank-K update of one register block, as plain
    loops. A is a packed sliver, k-major (`A[k, i]`), or with packed=False rows of the
    user's matrix (`A[i, k]`), as the edge rows use it."""
    name = f"gemm_ukernel_{dtype}_{mr}x{nr}" + ("" if packed else "_rows")
    ashape, aread = (f"[K, {mr}]", "A[k, i]") if packed else (f"[{mr}, K]", "A[i, k]")
    text = _KERNEL.format(name=name, t=dtype, mr=mr, nr=nr, ashape=ashape, aread=aread)
    return parse_proc_string(text, {"DRAM": DRAM})


def schedule_microkernel(ref: Procedure, isa: Isa, suffix: str, mr: int | None = None,
                         a_read: str = "A[k, i]", unroll: int = 1) -> Procedure:
    """Keep the mr x nr block of C in registers for the whole k loop; per k, load nr
    elements of B into nr / lanes registers, broadcast each of the mr elements of A and
    multiply-add (the schedule of examples/avx2_microkernel.py, for any register file).
    unroll > 1: the k loop in chunks of `unroll` (`for ko: for ku < unroll`, which the C
    compiler unrolls), then the K % unroll left."""
    mr, nr, w = mr or isa.mr, isa.nr, isa.lanes
    p = rename(ref, f"{ref.name()}_{suffix}")
    p = divide_loop(p, "for j in _: _", w, ["jo", "ji"], perfect=True)
    # C in registers: load before the k loop, store after
    p = stage_mem(p, "for k in _: _", f"C[0:{mr}, 0:{nr}]", "C_reg")
    p = simplify(p)
    p = divide_dim(p, "C_reg : _", 1, w)
    p = repeat(divide_loop)(p, "for i1 in _: _", w, ["i2", "i3"], perfect=True)
    p = set_memory(simplify(p), "C_reg : _", isa.memory)
    p = replace_all(p, [isa.load, isa.store])
    # a row of B: nr / lanes vector loads per k
    p = stage_mem(p, "for i in _: _", f"B[k, 0:{nr}]", "B_reg")
    p = simplify(p)
    p = divide_loop(p, "for i0 in _: _ #1", w, ["io", "ii"], perfect=True)
    p = divide_dim(p, "B_reg : _", 0, w)
    p = set_memory(simplify(p), "B_reg : _", isa.memory)
    # (kept in its registers: gcc 12 folded it into each row's multiply-add in the 4 x 32
    # kernel, 8 loads of B a k where 2 do; `Isa.load_kept`)
    p = replace_all(p, isa.load_kept or isa.load)
    # A[k, i] broadcast to all lanes, once per row
    p = bind_expr(p, a_read, "A_reg")
    p = expand_dim(p, "A_reg", w, "ji")
    p = lift_alloc(p, "A_reg", n_lifts=2)
    p = fission(p, p.find("A_reg[ji] = _").after(), n_lifts=2)
    p = remove_loop(p, "for jo in _: _")
    p = set_memory(p, "A_reg : _", isa.memory)
    p = replace_all(p, isa.broadcast)
    p = replace_all(p, isa.fmadd)
    if unroll > 1:
        p = divide_loop(p, "for k in _: _", unroll, ["ko", "ku"], tail="cut")
    return simplify(p)


@functools.cache
def microkernel(target_name: str, dtype: str, packed: bool = True,
                shape: tuple[int, int] | None = None, half: bool = False,
                quarter: bool = False) -> tuple[Procedure, Procedure]:
    """(plain, scheduled) microkernel of `target` for `dtype`: MR x NR on packed
    slivers, or (packed=False) the 1 x NR kernel of the edge rows, reading A and B
    where they are; with half (quarter), on the target's registers of half (a quarter
    of) the width (`shape` given)."""
    if target_name == "host":  # (named and kept under the target it is for)
        return microkernel(resolve(target_name), dtype, packed, shape, half, quarter)
    if half or quarter:
        isa = target(target_name).isa(dtype).half
        isa = replace(isa.quarter if quarter else isa, mr=shape[0], nr=shape[1])
    else:
        isa = _isa(target_name, dtype, shape)
    mr = isa.mr if packed or shape else 1
    ref = microkernel_ref(dtype, mr, isa.nr, packed)
    return ref, schedule_microkernel(ref, isa, target_name, mr,
                                     "A[k, i]" if packed else "A[i, k]", isa.k_unroll)


# ---------------------------------------------------------------- finding the parts



_MASKED = """\
def {name}(n: size, K: size, A: [{t}][{mr}, K] @ DRAM, B: [{t}][K, n] @ DRAM, C: [{t}][{mr}, n] @ DRAM):
    assert n < {w}
    assert stride(A, 1) == 1
    assert stride(B, 1) == 1
    assert stride(C, 1) == 1
    for k in seq(0, K):
        for i in seq(0, {mr}):
            for j in seq(0, n):
                C[i, j] += A[i, k] * B[k, j]
"""


@functools.cache
def masked_kernel(target_name: str, dtype: str, mr: int = 1, half: bool = False,
                  quarter: bool = False) -> tuple[Procedure, Procedure] | None:
    """(plain, scheduled) kernel for the last n < lanes columns of mr rows:
    C[0:mr, 0:n] += A[0:mr, 0:K] * B[0:K, 0:n], a register per row, with masked
    instructions (None where the target has none); with half (quarter), on registers
    of half (a quarter of) the width (n < lanes / 2, lanes / 4)."""
    if target_name == "host":  # (named and kept under the target it is for)
        return masked_kernel(resolve(target_name), dtype, mr, half, quarter)
    isa = target(target_name).isa(dtype)
    if half or quarter:
        isa = isa.half
    if quarter and isa is not None:
        isa = isa.quarter
    if isa is None or isa.masked is None:
        return None
    w = isa.lanes
    name = f"gemm_ukernel_{dtype}_{mr}xn_masked" + ("_quarter" if quarter
                                                    else "_half" if half else "")
    ref = parse_proc_string(_MASKED.format(name=name, t=dtype, w=w, mr=mr), {"DRAM": DRAM})
    return ref, schedule_masked_kernel(ref, isa, target_name)


def pad_loop(p: Procedure, loop, w: int) -> Procedure:
    """`for j in seq(0, n): S`, where n <= w is known -> `for j in seq(0, w): if j < n: S`
    (divide by w with a guard; the one whole chunk is unrolled, the others never run)."""
    name = loop.name()
    p = divide_loop(p, loop, w, [name + "o", name], tail="guard")
    outer = p.forward(loop)
    p = cut_loop(p, outer, 1)
    p = eliminate_dead_code(p, p.forward(outer).next())
    p = unroll_loop(p, p.forward(outer))
    return delete_pass(simplify(p))


def schedule_masked_kernel(ref: Procedure, isa: Isa, suffix: str) -> Procedure:
    """C's row and B's row in one register each, loaded and stored with masks; A's
    element broadcast; the lanes past n untouched throughout."""
    load, store, set1, fmadd = isa.masked
    w = isa.lanes
    p = rename(ref, f"{ref.name()}_{suffix}")
    p = pad_loop(p, p.find_loop("j"), w)
    mr = int(ref.args()[4].shape()[0])
    p = stage_mem(p, "for k in _: _", f"C[0:{mr}, 0:n]", "C_reg")
    p = resize_dim(p, "C_reg", 1, w, 0)
    p = pad_loop(p, p.find_loop("i1"), w)
    p = pad_loop(p, p.find_loop("i1 #1"), w)
    p = set_memory(p, "C_reg : _", isa.memory)
    p = replace_all(p, [load, store])
    p = stage_mem(p, "for i in _: _", "B[k, 0:n]", "B_reg")
    p = resize_dim(p, "B_reg", 0, w, 0)
    p = pad_loop(p, p.find("B_reg[_] = _").parent(), w)
    p = set_memory(p, "B_reg : _", isa.memory)
    p = replace_all(p, load)
    p = bind_expr(p, "A[i, k]", "A_reg")
    p = expand_dim(p, "A_reg", w, "j")
    # a register per row, allocated in the row's iteration: the masked broadcast into a
    # fresh register zeroes the lanes past n, where one register for all rows merges
    # into the last row's value, a chain through the rows (8 x 4 of 16 lanes, K = 400,
    # Zen 4: 0.40 ns a multiply-add against 0.50; of 8 lanes 0.22 against 0.25)
    p = lift_alloc(p, "A_reg", n_lifts=2)
    p = fission(p, p.find("A_reg[j] = _").after(), n_lifts=2)
    p = set_memory(p, "A_reg : _", isa.memory)
    p = replace_all(p, [set1, fmadd])
    return simplify(p)
