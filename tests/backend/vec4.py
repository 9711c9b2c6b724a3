"""A register-like memory written with the public API only, and instrs that use it."""

from __future__ import annotations

from knit import DRAM, Memory, instr
from knit.libs.memories import MemGenError


class VEC4(Memory):
    """Vectors of 4 floats (GCC vector extension); plain code may not touch them."""

    @classmethod
    def global_(cls):
        return "typedef float knit_test_v4 __attribute__((vector_size(16)));"

    @classmethod
    def alloc(cls, new_name, prim_type, shape, srcinfo):
        if not shape or shape[-1] != "4" or prim_type != "float":
            raise MemGenError(f"VEC4 holds f32[..., 4] buffers, not {prim_type}{shape}")
        n = " * ".join(shape[:-1]) or "1"
        return f"knit_test_v4 {new_name}[{n}];"

    @classmethod
    def free(cls, new_name, prim_type, shape, srcinfo):
        return ""

    @classmethod
    def window(cls, basetyp, baseptr, indices, strides, srcinfo):
        return f"{baseptr}[{indices[0] if len(indices) > 1 else '0'}]"

    @classmethod
    def can_read(cls):
        return False


class NOALLOC(Memory):
    """A memory that forgot to implement alloc."""


@instr("__builtin_memcpy(&{dst_data}, &{src_data}, 16);")
def vload(dst: [f32][4] @ VEC4, src: [f32][4] @ DRAM):
    assert stride(src, 0) == 1
    for i in seq(0, 4):
        dst[i] = src[i]


@instr("__builtin_memcpy(&{dst_data}, &{src_data}, 16);")
def vstore(dst: [f32][4] @ DRAM, src: [f32][4] @ VEC4):
    assert stride(dst, 0) == 1
    for i in seq(0, 4):
        dst[i] = src[i]


@instr("{dst_data} = {a_data} + {b_data};")
def vadd(dst: [f32][4] @ VEC4, a: [f32][4] @ VEC4, b: [f32][4] @ VEC4):
    for i in seq(0, 4):
        dst[i] = a[i] + b[i]
