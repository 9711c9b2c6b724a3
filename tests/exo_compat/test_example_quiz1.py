"""Doubling an array with AVX2 instructions of our own: what Exo's `examples/quiz1`
teaches, written here in knit's words. The schedule builds the vector code's shape (a
register of twos filled once, the input staged in, the product staged out), but
`replace_all` matches an instruction only where the buffers already live in the
instruction's memory: without `set_memory` nothing is replaced (knit says so with a
warning) and the code stays scalar; with it, every loop becomes an instruction call.
Both schedules compute what the plain loop does. Replacing one block by hand skips
that memory check, and C generation refuses the result, naming the buffer to move."""

from __future__ import annotations

import pytest
from scheduling_checks import assert_body
from test_x86_compiled import NATIVE_AVX2

import knit
from knit import instr, proc
from knit.errors import MemoryAccessError, NothingReplacedWarning
from knit.platforms.x86 import AVX2
from knit.stdlib.scheduling import (
    bind_expr,
    divide_loop,
    expand_dim,
    fission,
    lift_alloc,
    remove_loop,
    rename,
    replace,
    replace_all,
    set_memory,
    simplify,
    stage_mem,
)


@instr("{dst_data} = _mm256_loadu_ps(&{src_data});")
def v8_load(dst: [f32][8] @ AVX2, src: [f32][8] @ DRAM):
    assert stride(src, 0) == 1
    assert stride(dst, 0) == 1
    for lane in seq(0, 8):
        dst[lane] = src[lane]


@instr("_mm256_storeu_ps(&{dst_data}, {src_data});")
def v8_store(dst: [f32][8] @ DRAM, src: [f32][8] @ AVX2):
    assert stride(src, 0) == 1
    assert stride(dst, 0) == 1
    for lane in seq(0, 8):
        dst[lane] = src[lane]


@instr("{dst_data} = _mm256_mul_ps({a_data}, {b_data});")
def v8_mul(dst: [f32][8] @ AVX2, a: [f32][8] @ AVX2, b: [f32][8] @ AVX2):
    assert stride(dst, 0) == 1
    assert stride(a, 0) == 1
    assert stride(b, 0) == 1
    for lane in seq(0, 8):
        dst[lane] = a[lane] * b[lane]


@instr("{dst_data} = _mm256_set1_ps(2.0f);")
def v8_twos(dst: [f32][8] @ AVX2):
    assert stride(dst, 0) == 1
    for lane in seq(0, 8):
        dst[lane] = 2.0


VECTOR_OPS = [v8_twos, v8_mul, v8_load, v8_store]


@proc
def twice(N: size, src: f32[N], dst: f32[N]):
    assert N % 8 == 0
    for i in seq(0, N):
        dst[i] = 2.0 * src[i]


def vector_shape(p):
    """Chunks of 8; a register of twos filled once before the chunk loop; the chunk of
    `src` staged in `sv` and the chunk of `dst` staged out of `dv`."""
    p = rename(p, "twice_avx2")
    p = divide_loop(p, "i", 8, ["io", "ii"], perfect=True)
    p = bind_expr(p, "2.0", "twos")
    fill = p.find("twos = _")
    p = expand_dim(p, "twos : _", 8, "ii")
    p = lift_alloc(p, "twos : _", n_lifts=2)
    p = fission(p, p.forward(fill).after(), n_lifts=2)
    p = remove_loop(p, p.forward(fill).parent().parent())
    chunk = p.find_loop("ii #1")
    p = stage_mem(p, chunk, "dst[8 * io:8 * io + 8]", "dv")
    p = stage_mem(p, chunk, "src[8 * io:8 * io + 8]", "sv")
    return simplify(p)


@pytest.fixture(scope="module")
def forgot_memories():
    p = vector_shape(twice)
    with pytest.warns(NothingReplacedWarning) as warned:
        q = replace_all(p, VECTOR_OPS)
    assert q == p
    return q, str(warned[0].message)


@pytest.fixture(scope="module")
def vectorized():
    p = vector_shape(twice)
    for buf in ("twos", "dv", "sv"):
        p = set_memory(p, buf, AVX2)
    return replace_all(p, VECTOR_OPS)


def test_without_the_registers_memory_nothing_is_replaced(forgot_memories):
    p, message = forgot_memories
    assert message.startswith("replace_all: nothing in twice_avx2 matches the body of "
                              "v8_twos, v8_mul, v8_load, v8_store; the procedure is returned "
                              "unchanged")
    assert "memories" in message
    assert_body(p, """
        assert N % 8 == 0
        twos: f32[8] @ DRAM
        for ii in seq(0, 8):
            twos[ii] = 2.0
        for io in seq(0, N / 8):
            dv: f32[8] @ DRAM
            sv: f32[8] @ DRAM
            for i0 in seq(0, 8):
                sv[i0] = src[i0 + 8 * io]
            for ii in seq(0, 8):
                dv[ii] = twos[ii] * sv[ii]
            for i0 in seq(0, 8):
                dst[i0 + 8 * io] = dv[i0]
    """)


def test_in_registers_every_loop_becomes_an_instruction(vectorized):
    assert_body(vectorized, """
        assert N % 8 == 0
        twos: f32[8] @ AVX2
        v8_twos(twos[0:8])
        for io in seq(0, N / 8):
            dv: f32[8] @ AVX2
            sv: f32[8] @ AVX2
            v8_load(sv[0:8], src[8 * io + 0:8 * io + 8])
            v8_mul(dv[0:8], twos[0:8], sv[0:8])
            v8_store(dst[8 * io + 0:8 * io + 8], dv[0:8])
    """)
    c = vectorized.c_code_str()
    for intrinsic in ("_mm256_set1_ps(2.0f)", "_mm256_loadu_ps(&", "_mm256_mul_ps(",
                      "_mm256_storeu_ps(&"):
        assert intrinsic in c
    assert "__m256 twos;" in c  # one register, not an array of floats


def test_both_schedules_double_the_array(forgot_memories, vectorized):
    sizes = {"N": [8, 16, 40]}
    knit.check_equiv(twice, forgot_memories[0], trials=2, sizes=sizes, interpret=True)
    knit.check_equiv(twice, vectorized, trials=2, sizes=sizes, interpret=True,
                     compiled=NATIVE_AVX2)
    assert vectorized.is_eq(twice)


def test_a_block_replaced_by_hand_in_the_wrong_memory_is_refused_by_c_generation():
    p = vector_shape(twice)
    p = replace(p, p.find_loop("i0"), v8_load)  # `sv` is still in DRAM
    assert "v8_load(sv[0:8], src[8 * io + 0:8 * io + 8])" in str(p)
    with pytest.raises(MemoryAccessError, match=r"argument 'dst' of v8_load lives in AVX2, "
                       r"but 'sv' lives in DRAM(.|\n)*set_memory\(p, 'sv', AVX2\)"):
        p.c_code_str()
