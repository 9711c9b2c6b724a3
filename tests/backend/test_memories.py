"""Memories in C: knit.libs.memories, and a register-like memory from user code."""

from __future__ import annotations

import numpy as np
import pytest
from backend_cc import strict_compile
from vec4 import NOALLOC, VEC4, vadd, vload, vstore

from knit import DRAM, instr, proc
from knit.backend.c import compile_procs_to_strings
from knit.libs.memories import DRAM_ALIGNED32, DRAM_ALIGNED64, DRAM_STACK, DRAM_STATIC, MemGenError


def c_of(p) -> str:
    return compile_procs_to_strings([p], "t.h")[0]


@proc
def vec_add(N: size, x: f32[N, 4], y: f32[N, 4], z: f32[N, 4]):
    for i in seq(0, N):
        r: f32[3, 4] @ VEC4
        vload(r[0, :], x[i, :])
        vload(r[1, :], y[i, :])
        vadd(r[2, :], r[0, :], r[1, :])
        vstore(z[i, :], r[2, :])


def test_register_memory_through_instrs(tmp_path):
    c, h = compile_procs_to_strings([vec_add], "v.h")
    assert "typedef float knit_test_v4" in c and "knit_test_v4 r[3];" in c
    assert "r[2] = r[0] + r[1];" in c and "__builtin_memcpy(&r[0], &x[(i) * 4], 16);" in c
    assert strict_compile("gcc", c, h, "v.h", tmp_path).returncode == 0
    x, y = np.random.rand(5, 4).astype(np.float32), np.random.rand(5, 4).astype(np.float32)
    z = np.zeros((5, 4), np.float32)
    vec_add.compile()(x, y, z)
    np.testing.assert_array_equal(z, x + y)


def test_vec4_alloc_error_is_reraised_with_srcinfo():
    @proc
    def wrong_width(x: f32[8]):
        r: f32[2, 8] @ VEC4
        vload(r[0, 0:4], x[0:4])
        vstore(x[4:8], r[0, 0:4])

    with pytest.raises(MemGenError) as info:
        wrong_width.c_code_str()
    msg = str(info.value)
    assert "test_memories.py:" in msg and "VEC4.alloc" in msg and "f32[..., 4]" in msg
    assert "r: f32[2, 8] @ VEC4" in msg  # the offending line, quoted


def test_memory_without_alloc_is_a_memgenerror():
    @proc
    def uses_noalloc(x: f32[2]):
        t: f32[2] @ NOALLOC
        t[0] = x[0]
        x[1] = t[0]

    with pytest.raises(MemGenError, match="NOALLOC cannot allocate"):
        uses_noalloc.c_code_str()


def test_dram_static_needs_constant_sizes():
    @proc
    def static_n(N: size, x: f32[N]):
        t: f32[N] @ DRAM_STATIC
        for i in seq(0, N):
            t[i] = x[i]
            x[i] = t[i] + 1.0

    with pytest.raises(MemGenError) as info:
        static_n.c_code_str()
    msg = str(info.value)
    assert "DRAM_STATIC needs constant sizes" in msg and "'N'" in msg
    assert "test_memories.py:" in msg and "t: f32[N] @ DRAM_STATIC" in msg


@proc
def every_dram(N: size, x: f32[N], out: f32[N]):
    a: f32[N, 2] @ DRAM_STACK
    b: f32[4, 2] @ DRAM_STATIC
    c: f32[N] @ DRAM_ALIGNED32
    d: f32[N] @ DRAM_ALIGNED64
    s1: f32 @ DRAM_STACK
    s2: f32 @ DRAM_STATIC
    s3: f32 @ DRAM_ALIGNED64
    s1 = 1.0
    s2 = 2.0
    s3 = 3.0
    b[3, 1] = s2
    for i in seq(0, N):
        a[i, 1] = x[i] * s1
        c[i] = a[i, 1] + b[3, 1]
        d[i] = c[i] * s3
        out[i] = d[i]


def test_dram_variants_c_text_and_results(tmp_path):
    c, h = compile_procs_to_strings([every_dram], "m.h")
    assert "float a[N * 2];" in c and "static float b[4 * 2];" in c
    assert "float *c = (float*) aligned_alloc(32, (N * sizeof(float) + 31) / 32 * 32);" in c
    assert "aligned_alloc(64," in c and "free(d);\n    free(c);" in c
    assert "float s1;" in c and "static float s2;" in c and "float s3;" in c
    assert strict_compile("gcc", c, h, "m.h", tmp_path).returncode == 0
    x, out = np.random.rand(6).astype(np.float32), np.zeros(6, np.float32)
    every_dram.compile()(x, out)
    np.testing.assert_allclose(out, (x + 2) * 3, rtol=1e-6)


@instr("*{ok} = (float) ((uintptr_t) &{x_data} % 64 == 0);")
def is_aligned64(x: [f32][1] @ DRAM_ALIGNED64, ok: f32 @ DRAM):
    ok = 1.0


@proc
def check_alignment(N: size, ok: f32):
    for i in seq(0, N):
        t: f32[13] @ DRAM_ALIGNED64
        is_aligned64(t[0:1], ok)


def test_aligned_dram_is_aligned():
    ok = np.array(-1.0, np.float32)
    check_alignment.compile()(8, ok)
    assert ok == 1.0  # the last of 8 allocations; each writes 1 only if aligned


def test_memories_are_dram():
    for m in (DRAM_STACK, DRAM_STATIC, DRAM_ALIGNED32, DRAM_ALIGNED64):
        assert issubclass(m, DRAM) and m.can_read()


def test_this_modules_programs_are_warning_free(tmp_path):
    c, h = compile_procs_to_strings([vec_add, every_dram, check_alignment], "all.h")
    r = strict_compile("gcc", c, h, "all.h", tmp_path)
    assert r.returncode == 0, r.stderr


class OneAtATime(DRAM):
    """Storage for one live buffer (a register that a memory hands out): a second
    allocation while the first is live is refused. Frees come right after a buffer's
    last use, so buffers used one after the other may share it."""

    live = 0

    @classmethod
    def alloc(cls, new_name, prim_type, shape, srcinfo):
        if cls.live:
            raise MemGenError("OneAtATime holds one buffer at a time")
        cls.live += 1
        return f"{prim_type} {new_name}[{shape[0]}];"

    @classmethod
    def free(cls, new_name, prim_type, shape, srcinfo):
        cls.live -= 1
        return ""


@proc
def one_after_another(x: f32[16], y: f32[16]):
    a: f32[16] @ OneAtATime
    for i in seq(0, 16):
        a[i] = x[i] * 2.0
    for i in seq(0, 16):
        y[i] = a[i]
    b: f32[16] @ OneAtATime
    for i in seq(0, 16):
        b[i] = y[i] + 1.0
    for i in seq(0, 16):
        y[i] = b[i]


@proc
def both_live(x: f32[16], y: f32[16]):
    a: f32[16] @ OneAtATime
    for i in seq(0, 16):
        a[i] = x[i] * 2.0
    b: f32[16] @ OneAtATime
    for i in seq(0, 16):
        b[i] = y[i] + 1.0
    for i in seq(0, 16):
        y[i] = a[i] + b[i]


def test_a_buffer_is_freed_after_its_last_use_so_storage_is_reused():
    OneAtATime.live = 0
    c = c_of(one_after_another)
    assert OneAtATime.live == 0  # every alloc freed
    x = np.random.rand(16).astype(np.float32)
    want, got = np.zeros(16, np.float32), np.zeros(16, np.float32)
    one_after_another.interpret(x, want)
    one_after_another.compile()(x, got)
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(got, x * np.float32(2.0) + np.float32(1.0))
    assert c.index("y[i] = a[i];") < c.index("float b[16];")


def test_two_live_buffers_are_refused_by_the_memory():
    OneAtATime.live = 0
    with pytest.raises(MemGenError) as err:
        c_of(both_live)
    OneAtATime.live = 0
    msg = str(err.value)
    assert "test_memories.py:" in msg and "OneAtATime.alloc" in msg
    assert "holds one buffer at a time" in msg and "b: f32[16] @ OneAtATime" in msg
