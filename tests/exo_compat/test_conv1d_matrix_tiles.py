"""A 1-D convolution scheduled onto 4x4 matrix tiles of a user-defined accelerator: the
steps Exo's `examples/rvm_conv1d` takes (a RISC-V matrix extension reached through
inline assembly), written here in knit's words. Tiling, staging the output in a tile,
splitting the zeroing and the store out of the accumulation, lifting the channel loop
over three loops, growing a scalar into a tile, tile memories from a `StaticMemory`
library class, `replace_all` with the four tile instructions, then unrolling and buffer
clean-ups. The scheduled procedure computes what the plain one does (the interpreter
runs the instructions' bodies) and its C calls each instruction."""

from __future__ import annotations

import pytest

import knit.API_cursors as pc
from knit import check_equiv, instr, proc
from knit.errors import SchedulingError
from knit.libs.memories import DRAM_STATIC, StaticMemory
from knit.memory import MemGenError
from knit.stdlib.scheduling import (
    expand_dim,
    fission,
    lift_alloc,
    lift_scope,
    remove_loop,
    rename,
    reorder_loops,
    reorder_stmts,
    replace_all,
    reuse_buffer,
    set_memory,
    simplify,
    unroll_buffer,
    unroll_loop,
)
from knit.stdlib.stdlib import auto_stage_mem, tile_loops

OC, IC, N, W = 16, 4, 16, 4


@proc
def conv1d(data: i32[IC, N], kernels: i32[OC, IC, W], out: i32[OC, N]):
    for i in seq(0, OC):
        for j in seq(0, N):
            out[i, j] = 0.0
            for c in seq(0, IC):
                for r in seq(0, W):
                    y: i32
                    if j + r < N:
                        y = data[c, j + r]
                    else:
                        y = 0
                    out[i, j] += kernels[i, c, r] * y


class TILE(StaticMemory):
    """Eight 4x4 tile registers named "m0".."m7"; only instructions touch them."""
    StaticMemory.init_state(8)
    names: dict = {}

    @classmethod
    def can_read(cls):
        return False

    @classmethod
    def alloc(cls, new_name, prim_type, shape, srcinfo):
        if [str(s) for s in shape] != ["4", "4"]:
            raise MemGenError(f"a tile is 4x4, not {shape}")
        n = cls.find_free_chunk()
        cls.mark(n)
        cls.names[new_name] = n
        return f'#define {new_name} "m{7 - n}"'

    @classmethod
    def free(cls, new_name, prim_type, shape, srcinfo):
        cls.unmark(cls.names.pop(new_name))
        return f"#undef {new_name}"


@instr('asm volatile("mld.w "{dst_int}", (%1), %0" :: "r"(4*({src}.strides[0])), '
       '"r"(&{src_data}));')
def tile_load(dst: [i32][4, 4] @ TILE, src: [i32][4, 4] @ DRAM):
    assert stride(src, 1) == 1
    assert stride(dst, 1) == 1
    for i in seq(0, 4):
        for j in seq(0, 4):
            dst[i, j] = src[i, j]


@instr('asm volatile("mzero "{dst_int});')
def tile_zero(dst: [i32][4, 4] @ TILE):
    assert stride(dst, 1) == 1
    for i in seq(0, 4):
        for j in seq(0, 4):
            dst[i, j] = 0.0


@instr('asm volatile("mst.w "{src_int}", (%1), %0" :: "r"(4*({dst}.strides[0])), '
       '"r"(&{dst_data}));')
def tile_store(src: [i32][4, 4] @ TILE, dst: [i32][4, 4] @ DRAM):
    assert stride(src, 1) == 1
    assert stride(dst, 1) == 1
    for i in seq(0, 4):
        for j in seq(0, 4):
            dst[i, j] = src[i, j]


@instr('asm volatile("mmasa.w "{md_int}", "{ms1_int}", "{ms2_int});')
def tile_mac(md: [i32][4, 4] @ TILE, ms1: [i32][4, 4] @ TILE, ms2: [i32][4, 4] @ TILE):
    assert stride(md, 1) == 1
    assert stride(ms1, 1) == 1
    assert stride(ms2, 1) == 1
    for i in seq(0, 4):
        for j in seq(0, 4):
            for k in seq(0, 4):
                md[i, j] += ms2[i, k] * ms1[j, k]


def split_off(p, stmt):
    """Move `stmt` first in its block, then fission the loops around it just after it,
    innermost first, while knit proves each split keeps the meaning (the first refusal
    ends it): `stmt` ends up in a loop nest of its own."""
    try:
        while True:
            s = p.forward(stmt)
            p = reorder_stmts(p, s.expand(1, 0))
    except SchedulingError:
        pass
    gap = p.forward(stmt).after()
    try:
        while True:
            p = fission(p, gap)
            gap = p.forward(gap).parent().after()
    except SchedulingError:
        pass
    return p


def grow(p, alloc, loops):
    """Give the allocation one dimension per enclosing loop named in `loops` (inner
    first) and lift it out of each."""
    alloc = p.forward(alloc)
    loop = alloc.parent()
    while isinstance(loop, pc.ForCursor):
        if loop.name() in loops:
            p = expand_dim(p, alloc, loop.hi().value(), loop.name())
            p = lift_alloc(p, alloc)
        loop = p.forward(loop).parent()
    return p


def drop_loops(p, stmt, count):
    """Remove `count` of the loops around `stmt` whose body does not use their variable
    (walking outwards; a loop whose variable is used stays)."""
    loop = p.forward(stmt).parent()
    while count and isinstance(loop, pc.ForCursor):
        outer = loop.parent()
        try:
            p = remove_loop(p, loop)
            count -= 1
        except SchedulingError:
            pass
        loop = p.forward(outer)
    return p


def schedule(p):
    p = rename(p, "conv1d_tiles")
    c_loop = p.find_loop("c")
    y_alloc = p.find("y : _")
    y_load = p.find("y = data[_]")
    p, _ = tile_loops(p, [(p.find_loop("i"), 4), (p.find_loop("j"), 4)], perfect=True)
    p, _ = tile_loops(p, [(p.find_loop("io"), 4)], perfect=True)
    p = reorder_loops(p, p.find_loop("ioi"))

    # the 4x4 output tile of one (ioi) step, zeroed, accumulated and stored back
    p, (_, out_tile, body, _) = auto_stage_mem(p, p.find_loop("c").expand(1, 0), "out",
                                               "out_tile", rc=True)
    p = grow(p, out_tile, {"ioi", "ii", "ji"})
    p = split_off(p, body)
    p = split_off(p, body[0])
    for _ in range(3):
        p = lift_scope(p, c_loop)

    # y: one scalar per (ji, r) becomes a 4x4 tile loaded once per channel
    p = grow(p, y_alloc, {"r", "ji"})
    p = lift_alloc(p, y_alloc, n_lifts=2)
    p = split_off(p, p.forward(y_load).parent())
    p = drop_loops(p, p.forward(y_load).parent(), 2)

    ii_loop = p.forward(c_loop).body()[2].body()[0]
    p, (kernel_tile, _, _, _) = auto_stage_mem(p, ii_loop, "kernels", "kernel_tile", rc=True)
    p = simplify(expand_dim(p, kernel_tile, 4, ii_loop.parent().name()))
    p = lift_alloc(p, kernel_tile)
    p, (data_tile, _, _, _) = auto_stage_mem(p, ii_loop.parent(), "y", "data_tile", rc=True)

    p = set_memory(p, y_alloc, DRAM_STATIC)
    for tile in (out_tile, kernel_tile, data_tile):
        p = set_memory(p, tile, TILE)
    p = replace_all(p, [tile_zero, tile_store, tile_load, tile_mac])
    for _ in range(3):
        p = unroll_loop(p, "ioi")
    p = simplify(p)
    p = unroll_buffer(p, kernel_tile, 0)
    p = reuse_buffer(p, "kernel_tile_0: _", "kernel_tile_3: _")
    return unroll_buffer(p, "out_tile", 0)


@pytest.fixture(scope="module")
def scheduled():
    return schedule(conv1d)


def test_scheduled_onto_tiles_computes_the_convolution(scheduled):
    p = scheduled
    text = str(p)
    for name in ("tile_zero", "tile_load", "tile_mac", "tile_store"):
        assert f"{name}(" in text
    # every multiply-accumulate runs in a tile: four per channel, one per output tile
    assert text.count("tile_mac(") == 4 and "+=" not in text
    assert "y: i32[4, 4] @ DRAM_STATIC" in text
    check_equiv(conv1d, p, trials=2, compiled=False, interpret=True)


def test_its_c_calls_the_tile_instructions(scheduled):
    c = scheduled.c_code_str()
    assert c.count('asm volatile("mmasa.w "') == 4
    assert 'asm volatile("mzero "' in c and 'asm volatile("mst.w "' in c
    assert "#define out_tile_0 " in c and "#undef out_tile_0" in c
    assert "static int32_t y[" in c
