"""RISC-V Vector (RVV 1.0) as a knit library: the `RVV` register memory and Exo 1.0's f32
instructions on it, under Exo's names and argument orders, so a schedule written for
Exo's `exo.platforms.rvv` runs with `knit.platforms.rvv`.

Each instruction takes the active vector length `vl` (0 <= vl <= 4) as its last
argument and touches lanes 0 .. vl - 1 only, as its body says: `rvv_vld_4xf32(dst, src,
vl)` is `for i in seq(0, vl): dst[i] = src[i]`. The C templates are the `__riscv_*`
intrinsics of `<riscv_vector.h>` (LMUL 1, `vfloat32m1_t`); one register is taken to hold
4 f32, the least a VLEN >= 128 machine gives.

RVV vector types are sizeless in C: a variable of one can be declared, but not an array
of them, nor one initialised with `{0}`. So `t: f32[4] @ RVV` is `vfloat32m1_t t;` and a
buffer with more dimensions is refused where C is generated (divide or unroll it into
single registers first). Without a RISC-V machine the C can be checked with
`clang --target=riscv64-linux-gnu -march=rv64gcv -fsyntax-only`.
"""

from __future__ import annotations

from typing import ClassVar

from knit import DRAM, instr
from knit.libs.memories import MemGenError, VectorRegisters

__all__ = ["RVV"]  # and every instruction, added at the end


class RVV(VectorRegisters):
    """RVV vector registers holding 4 f32 each (`vfloat32m1_t`); only the instructions
    below read or write them."""

    types: ClassVar[dict[str, tuple[int, str]]] = {"float": (4, "vfloat32m1_t")}

    @classmethod
    def global_(cls) -> str:
        return "#include <riscv_vector.h>"

    @classmethod
    def alloc(cls, new_name, prim_type, shape, srcinfo):
        lanes, vtype = cls._vector_type(new_name, prim_type)
        if len(shape) > 1:
            raise MemGenError(f"'{new_name}' is an array of RVV registers ({shape}), but "
                              f"{vtype} is a sizeless C type: C has no arrays of it; "
                              "split the buffer into single registers (e.g. unroll the "
                              "loops over it and unroll_buffer)")
        super().alloc(new_name, prim_type, shape, srcinfo)  # the shape checks
        return f"{vtype} {new_name};"

    @classmethod
    def alloc_zeroed(cls, new_name, prim_type, shape, srcinfo):
        # a sizeless type takes no `= {0}`: declared as alloc declares it (as in Exo)
        return cls.alloc(new_name, prim_type, shape, srcinfo)


@instr("{dst_data} = __riscv_vle32_v_f32m1(&{src_data}, {vl});")
def rvv_vld_4xf32(dst: [f32][4] @ RVV, src: [f32][4] @ DRAM, vl: size):
    assert stride(src, 0) == 1
    assert stride(dst, 0) == 1
    assert vl <= 4
    for i in seq(0, vl):
        dst[i] = src[i]


@instr("__riscv_vse32_v_f32m1(&{dst_data}, {src_data}, {vl});")
def rvv_vst_4xf32(dst: [f32][4] @ DRAM, src: [f32][4] @ RVV, vl: size):
    assert stride(src, 0) == 1
    assert stride(dst, 0) == 1
    assert vl <= 4
    for i in seq(0, vl):
        dst[i] = src[i]


@instr("{dst_data} = __riscv_vfmv_v_f_f32m1({src_data}, {vl});")
def rvv_broadcast_4xf32(dst: [f32][4] @ RVV, src: [f32][1] @ DRAM, vl: size):
    assert stride(dst, 0) == 1
    assert vl <= 4
    for i in seq(0, vl):
        dst[i] = src[0]


@instr("{dst_data} = __riscv_vfmv_v_f_f32m1({src_data}, {vl});")
def rvv_broadcast_4xf32_scalar(dst: [f32][4] @ RVV, src: f32 @ DRAM, vl: size):
    assert stride(dst, 0) == 1
    assert vl <= 4
    for i in seq(0, vl):
        dst[i] = src


@instr("{dst_data} = __riscv_vfmv_v_f_f32m1(0.0f, {vl});")
def rvv_broadcast_4xf32_0(dst: [f32][4] @ RVV, vl: size):
    assert stride(dst, 0) == 1
    assert vl <= 4
    for i in seq(0, vl):
        dst[i] = 0.0


@instr("{dst_data} = __riscv_vfmacc_vv_f32m1({dst_data}, {lhs_data}, {rhs_data}, {vl});")
def rvv_vfmacc_4xf32_4xf32(dst: [f32][4] @ RVV, lhs: [f32][4] @ RVV,
                           rhs: [f32][4] @ RVV, vl: size):
    assert stride(dst, 0) == 1
    assert stride(lhs, 0) == 1
    assert stride(rhs, 0) == 1
    assert vl <= 4
    for i in seq(0, vl):
        dst[i] += lhs[i] * rhs[i]


# vfmacc.vf takes the scalar first: vd[i] += f * vs2[i]
@instr("{dst_data} = __riscv_vfmacc_vf_f32m1({dst_data}, {rhs_data}, {lhs_data}, {vl});")
def rvv_vfmacc_4xf32_1xf32(dst: [f32][4] @ RVV, lhs: [f32][4] @ RVV,
                           rhs: [f32][1] @ DRAM, vl: size):
    assert stride(dst, 0) == 1
    assert stride(lhs, 0) == 1
    assert vl <= 4
    for i in seq(0, vl):
        dst[i] += lhs[i] * rhs[0]


@instr("{dst_data} = __riscv_vfmacc_vf_f32m1({dst_data}, {lhs_data}, {rhs_data}, {vl});")
def rvv_vfmacc_1xf32_4xf32(dst: [f32][4] @ RVV, lhs: [f32][1] @ DRAM,
                           rhs: [f32][4] @ RVV, vl: size):
    assert stride(dst, 0) == 1
    assert stride(rhs, 0) == 1
    assert vl <= 4
    for i in seq(0, vl):
        dst[i] += lhs[0] * rhs[i]


__all__ += [n for n in sorted(dir()) if n.startswith("rvv_")]
