"""Arm NEON (AArch64 Advanced SIMD) as a knit library: the `Neon` register memory and
the instructions that move data in and out of its 128-bit registers and compute on them.

Written with knit's public API only, as a user would write it. Each instruction is an
`@instr`: its C template (an `<arm_neon.h>` intrinsic) is what the compiler emits, its
body the exact meaning, as plain loops (so `replace` can find it, and `interpret` can
run it). Names and argument orders are Exo's where Exo has the instruction
(`neon_vfmla_4xf32_4xf32(dst, lhs, rhs, lane)` means `dst[i] += lhs[i] * rhs[lane]`);
`neon_vsub_*`, `neon_vdiv_*`, `neon_vmax_*` and the f64 lane forms are additions.

One register holds 4 f32 (`float32x4_t`), 2 f64 (`float64x2_t`) or 8 f16
(`float16x8_t`). The f16 arithmetic needs the Armv8.2 half-precision extension: compile
with e.g. `-march=armv8.2-a+fp16`; the f16 loads, stores and broadcasts do not.

Exact up to rounding: the multiply-adds are fused (`vfmaq_*`, one rounding where the
body rounds twice; Exo emits `vmlaq_*`, which GCC contracts into the same fused
instruction by default), and `neon_assoc_reduce_add_instr_*` adds pairwise where the
body adds in order. The lane forms (`neon_vfmla_*`, `neon_vfmla2_*`) need `lane` to be
a constant in the C: unroll the loop over lanes (`unroll_loop`) before compiling.

Without an Arm machine, the C runs under emulation: Debian's `gcc-aarch64-linux-gnu`
cross-compiles it (`aarch64-linux-gnu-gcc -static`) and `qemu-user` runs it
(`qemu-aarch64 ./a.out`); tests/platforms/test_neon.py does exactly that.
"""

from __future__ import annotations

from typing import ClassVar

from knit import DRAM, inexact, instr
from knit.libs.externs import select
from knit.libs.memories import VectorRegisters

__all__ = ["Neon", "Neon4f"]  # and every instruction, added at the end

# C type name -> knit name, for messages

class Neon(VectorRegisters):
    """128-bit NEON q registers. A buffer's last dimension is one register (exactly 4
    f32, 2 f64 or 8 f16 values); the dimensions before it make a C array of registers.

    `t: f32[4] @ Neon` is `float32x4_t t;` and `t: f32[4, 2, 4] @ Neon` is
    `float32x4_t t[4][2];`, zeroed (`= {0}`) where an instruction could read a lane
    the program has not written (see VectorRegisters). As for the x86 registers, a C
    array indexed by constants (loops over registers unrolled) stays in registers.
    """

    types: ClassVar[dict[str, tuple[int, str]]] = {
        "float": (4, "float32x4_t"), "double": (2, "float64x2_t"),
        "_Float16": (8, "float16x8_t")}

    @classmethod
    def global_(cls) -> str:
        return "#include <arm_neon.h>"


# Exo's name before it also held f64 (Exo 0.x); the same memory, so old schedules run
Neon4f = Neon


# --------------------------------------------------------------------------- f32 x 4


@instr("{dst_data} = vld1q_f32(&{src_data});")
def neon_vld_4xf32(dst: [f32][4] @ Neon, src: [f32][4] @ DRAM):
    assert stride(src, 0) == 1
    assert stride(dst, 0) == 1
    for i in seq(0, 4):
        dst[i] = src[i]


@instr("vst1q_f32(&{dst_data}, {src_data});")
def neon_vst_4xf32(dst: [f32][4] @ DRAM, src: [f32][4] @ Neon):
    assert stride(src, 0) == 1
    assert stride(dst, 0) == 1
    for i in seq(0, 4):
        dst[i] = src[i]


@instr("{dst_data} = vld1q_dup_f32(&{src_data});")
def neon_broadcast_4xf32(dst: [f32][4] @ Neon, src: [f32][1] @ DRAM):
    assert stride(dst, 0) == 1
    for i in seq(0, 4):
        dst[i] = src[0]


@instr("{dst_data} = vld1q_dup_f32({src_data});")
def neon_broadcast_4xf32_scalar(dst: [f32][4] @ Neon, src: f32 @ DRAM):
    assert stride(dst, 0) == 1
    for i in seq(0, 4):
        dst[i] = src


@instr("{dst_data} = vdupq_n_f32(0.0f);")
def neon_zero_4xf32(dst: [f32][4] @ Neon):
    assert stride(dst, 0) == 1
    for i in seq(0, 4):
        dst[i] = 0.0


@instr("{dst_data} = {src_data};")
def neon_reg_copy_4xf32(dst: [f32][4] @ Neon, src: [f32][4] @ Neon):
    assert stride(dst, 0) == 1
    assert stride(src, 0) == 1
    for i in seq(0, 4):
        dst[i] = src[i]


@instr("{dst_data} = vaddq_f32({lhs_data}, {rhs_data});")
def neon_vadd_4xf32(dst: [f32][4] @ Neon, lhs: [f32][4] @ Neon, rhs: [f32][4] @ Neon):
    assert stride(dst, 0) == 1
    assert stride(lhs, 0) == 1
    assert stride(rhs, 0) == 1
    for i in seq(0, 4):
        dst[i] = lhs[i] + rhs[i]


@instr("{dst_data} = vaddq_f32({src_data}, {dst_data});")
def neon_reduce_vadd_4xf32(dst: [f32][4] @ Neon, src: [f32][4] @ Neon):
    assert stride(dst, 0) == 1
    assert stride(src, 0) == 1
    for i in seq(0, 4):
        dst[i] += src[i]


@instr("{dst_data} = vsubq_f32({lhs_data}, {rhs_data});")
def neon_vsub_4xf32(dst: [f32][4] @ Neon, lhs: [f32][4] @ Neon, rhs: [f32][4] @ Neon):
    assert stride(dst, 0) == 1
    assert stride(lhs, 0) == 1
    assert stride(rhs, 0) == 1
    for i in seq(0, 4):
        dst[i] = lhs[i] - rhs[i]


@instr("{dst_data} = vmulq_f32({lhs_data}, {rhs_data});")
def neon_vmul_4xf32(dst: [f32][4] @ Neon, lhs: [f32][4] @ Neon, rhs: [f32][4] @ Neon):
    assert stride(dst, 0) == 1
    assert stride(lhs, 0) == 1
    assert stride(rhs, 0) == 1
    for i in seq(0, 4):
        dst[i] = lhs[i] * rhs[i]


@instr("{dst_data} = vmulq_f32({lhs_data}, {rhs_data});")
def neon_vmul2_4xf32(dst: [f32][4] @ Neon, lhs: [f32][4] @ Neon, rhs: [f32][4] @ Neon):
    # Exo's second name for neon_vmul_4xf32. Exo's C multiplies dst by rhs, which is not
    # its body; knit's computes the body, lhs * rhs
    assert stride(dst, 0) == 1
    assert stride(lhs, 0) == 1
    assert stride(rhs, 0) == 1
    for i in seq(0, 4):
        dst[i] = lhs[i] * rhs[i]


@instr("{dst_data} = vdivq_f32({lhs_data}, {rhs_data});")
def neon_vdiv_4xf32(dst: [f32][4] @ Neon, lhs: [f32][4] @ Neon, rhs: [f32][4] @ Neon):
    assert stride(dst, 0) == 1
    assert stride(lhs, 0) == 1
    assert stride(rhs, 0) == 1
    for i in seq(0, 4):
        dst[i] = lhs[i] / rhs[i]


# vmaxq_f32 returns NaN when either input is NaN, which no plain body can say; a compare
# and a bit-select do exactly what the body says (lhs if lhs > rhs, else rhs: so rhs when
# either is NaN, and rhs for -0.0 against 0.0), like x86's maxps.
@instr("{dst_data} = vbslq_f32(vcgtq_f32({lhs_data}, {rhs_data}), {lhs_data}, {rhs_data});")
def neon_vmax_4xf32(dst: [f32][4] @ Neon, lhs: [f32][4] @ Neon, rhs: [f32][4] @ Neon):
    assert stride(dst, 0) == 1
    assert stride(lhs, 0) == 1
    assert stride(rhs, 0) == 1
    for i in seq(0, 4):
        dst[i] = select(rhs[i], lhs[i], lhs[i], rhs[i])


@instr("{dst_data} = vnegq_f32({src_data});")
def neon_vneg_4xf32(dst: [f32][4] @ Neon, src: [f32][4] @ Neon):
    assert stride(dst, 0) == 1
    assert stride(src, 0) == 1
    for i in seq(0, 4):
        dst[i] = -src[i]


@inexact(2, "fused: rounds once where the body rounds twice")
@instr("{dst_data} = vfmaq_f32({dst_data}, {lhs_data}, {rhs_data});")
def neon_vfmadd_4xf32_4xf32(dst: [f32][4] @ Neon, lhs: [f32][4] @ Neon,
                            rhs: [f32][4] @ Neon):
    assert stride(dst, 0) == 1
    assert stride(lhs, 0) == 1
    assert stride(rhs, 0) == 1
    for i in seq(0, 4):
        dst[i] += lhs[i] * rhs[i]


@inexact(2, "fused: rounds once where the body rounds twice")
@instr("{dst_data} = vfmaq_f32({res_data}, {lhs_data}, {rhs_data});")
def neon_vfmadd_ex_4xf32_4xf32(dst: [f32][4] @ Neon, res: [f32][4] @ Neon,
                               lhs: [f32][4] @ Neon, rhs: [f32][4] @ Neon):
    assert stride(dst, 0) == 1
    assert stride(res, 0) == 1
    assert stride(lhs, 0) == 1
    assert stride(rhs, 0) == 1
    for i in seq(0, 4):
        dst[i] = res[i] + lhs[i] * rhs[i]


@inexact(2, "fused: rounds once where the body rounds twice")
@instr("{dst_data} = vfmaq_n_f32({dst_data}, {lhs_data}, {rhs_data});")
def neon_vfmadd_4xf32_1xf32(dst: [f32][4] @ Neon, lhs: [f32][4] @ Neon,
                            rhs: [f32][1] @ DRAM):
    assert stride(dst, 0) == 1
    assert stride(lhs, 0) == 1
    for i in seq(0, 4):
        dst[i] += lhs[i] * rhs[0]


@inexact(2, "fused: rounds once where the body rounds twice")
@instr("{dst_data} = vfmaq_n_f32({dst_data}, {rhs_data}, {lhs_data});")
def neon_vfmadd_1xf32_4xf32(dst: [f32][4] @ Neon, lhs: [f32][1] @ DRAM,
                            rhs: [f32][4] @ Neon):
    assert stride(dst, 0) == 1
    assert stride(rhs, 0) == 1
    for i in seq(0, 4):
        dst[i] += lhs[0] * rhs[i]


@inexact(2, "fused: rounds once where the body rounds twice")
@instr("{dst_data} = vfmaq_laneq_f32({dst_data}, {lhs_data}, {rhs_data}, {lane});")
def neon_vfmla_4xf32_4xf32(dst: [f32][4] @ Neon, lhs: [f32][4] @ Neon,
                           rhs: [f32][4] @ Neon, lane: index):
    assert stride(dst, 0) == 1
    assert stride(lhs, 0) == 1
    assert stride(rhs, 0) == 1
    assert lane >= 0
    assert lane < 4
    for i in seq(0, 4):
        dst[i] += lhs[i] * rhs[lane]


@inexact(2, "fused: rounds once where the body rounds twice")
@instr("{dst_data} = vfmaq_laneq_f32({b_data}, {lhs_data}, {rhs_data}, {lane});")
def neon_vfmla2_4xf32_4xf32(dst: [f32][4] @ Neon, b: [f32][4] @ Neon, lhs: [f32][4] @ Neon,
                            rhs: [f32][4] @ Neon, lane: index):
    # Exo's form for beta = 0 kernels: the sum lands in a register other than b
    assert stride(dst, 0) == 1
    assert stride(b, 0) == 1
    assert stride(lhs, 0) == 1
    assert stride(rhs, 0) == 1
    assert lane >= 0
    assert lane < 4
    for i in seq(0, 4):
        dst[i] = b[i] + lhs[i] * rhs[lane]


@inexact(4, "adds in a tree where the body adds in order")
@instr("*{result} += vaddvq_f32({x_data});")
def neon_assoc_reduce_add_instr_4xf32(result: f32 @ DRAM, x: [f32][4] @ Neon):
    # the hardware adds pairwise: equal to this loop up to reassociation
    assert stride(x, 0) == 1
    for i in seq(0, 4):
        result += x[i]


# --------------------------------------------------------------------------- f64 x 2


@instr("{dst_data} = vld1q_f64(&{src_data});")
def neon_vld_2xf64(dst: [f64][2] @ Neon, src: [f64][2] @ DRAM):
    assert stride(src, 0) == 1
    assert stride(dst, 0) == 1
    for i in seq(0, 2):
        dst[i] = src[i]


@instr("vst1q_f64(&{dst_data}, {src_data});")
def neon_vst_2xf64(dst: [f64][2] @ DRAM, src: [f64][2] @ Neon):
    assert stride(src, 0) == 1
    assert stride(dst, 0) == 1
    for i in seq(0, 2):
        dst[i] = src[i]


@instr("{dst_data} = vld1q_dup_f64(&{src_data});")
def neon_broadcast_2xf64(dst: [f64][2] @ Neon, src: [f64][1] @ DRAM):
    assert stride(dst, 0) == 1
    for i in seq(0, 2):
        dst[i] = src[0]


@instr("{dst_data} = vld1q_dup_f64({src_data});")
def neon_broadcast_2xf64_scalar(dst: [f64][2] @ Neon, src: f64 @ DRAM):
    assert stride(dst, 0) == 1
    for i in seq(0, 2):
        dst[i] = src


@instr("{dst_data} = vdupq_n_f64(0.0);")
def neon_zero_2xf64(dst: [f64][2] @ Neon):
    assert stride(dst, 0) == 1
    for i in seq(0, 2):
        dst[i] = 0.0


@instr("{dst_data} = {src_data};")
def neon_reg_copy_2xf64(dst: [f64][2] @ Neon, src: [f64][2] @ Neon):
    assert stride(dst, 0) == 1
    assert stride(src, 0) == 1
    for i in seq(0, 2):
        dst[i] = src[i]


@instr("{dst_data} = vaddq_f64({lhs_data}, {rhs_data});")
def neon_vadd_2xf64(dst: [f64][2] @ Neon, lhs: [f64][2] @ Neon, rhs: [f64][2] @ Neon):
    assert stride(dst, 0) == 1
    assert stride(lhs, 0) == 1
    assert stride(rhs, 0) == 1
    for i in seq(0, 2):
        dst[i] = lhs[i] + rhs[i]


@instr("{dst_data} = vaddq_f64({src_data}, {dst_data});")
def neon_reduce_vadd_2xf64(dst: [f64][2] @ Neon, src: [f64][2] @ Neon):
    assert stride(dst, 0) == 1
    assert stride(src, 0) == 1
    for i in seq(0, 2):
        dst[i] += src[i]


@instr("{dst_data} = vsubq_f64({lhs_data}, {rhs_data});")
def neon_vsub_2xf64(dst: [f64][2] @ Neon, lhs: [f64][2] @ Neon, rhs: [f64][2] @ Neon):
    assert stride(dst, 0) == 1
    assert stride(lhs, 0) == 1
    assert stride(rhs, 0) == 1
    for i in seq(0, 2):
        dst[i] = lhs[i] - rhs[i]


@instr("{dst_data} = vmulq_f64({lhs_data}, {rhs_data});")
def neon_vmul_2xf64(dst: [f64][2] @ Neon, lhs: [f64][2] @ Neon, rhs: [f64][2] @ Neon):
    assert stride(dst, 0) == 1
    assert stride(lhs, 0) == 1
    assert stride(rhs, 0) == 1
    for i in seq(0, 2):
        dst[i] = lhs[i] * rhs[i]


@instr("{dst_data} = vdivq_f64({lhs_data}, {rhs_data});")
def neon_vdiv_2xf64(dst: [f64][2] @ Neon, lhs: [f64][2] @ Neon, rhs: [f64][2] @ Neon):
    assert stride(dst, 0) == 1
    assert stride(lhs, 0) == 1
    assert stride(rhs, 0) == 1
    for i in seq(0, 2):
        dst[i] = lhs[i] / rhs[i]


@instr("{dst_data} = vbslq_f64(vcgtq_f64({lhs_data}, {rhs_data}), {lhs_data}, {rhs_data});")
def neon_vmax_2xf64(dst: [f64][2] @ Neon, lhs: [f64][2] @ Neon, rhs: [f64][2] @ Neon):
    # as neon_vmax_4xf32: lhs if lhs > rhs, else rhs
    assert stride(dst, 0) == 1
    assert stride(lhs, 0) == 1
    assert stride(rhs, 0) == 1
    for i in seq(0, 2):
        dst[i] = select(rhs[i], lhs[i], lhs[i], rhs[i])


@instr("{dst_data} = vnegq_f64({src_data});")
def neon_vneg_2xf64(dst: [f64][2] @ Neon, src: [f64][2] @ Neon):
    assert stride(dst, 0) == 1
    assert stride(src, 0) == 1
    for i in seq(0, 2):
        dst[i] = -src[i]


@inexact(2, "fused: rounds once where the body rounds twice")
@instr("{dst_data} = vfmaq_f64({dst_data}, {lhs_data}, {rhs_data});")
def neon_vfmadd_2xf64_2xf64(dst: [f64][2] @ Neon, lhs: [f64][2] @ Neon,
                            rhs: [f64][2] @ Neon):
    assert stride(dst, 0) == 1
    assert stride(lhs, 0) == 1
    assert stride(rhs, 0) == 1
    for i in seq(0, 2):
        dst[i] += lhs[i] * rhs[i]


@inexact(2, "fused: rounds once where the body rounds twice")
@instr("{dst_data} = vfmaq_n_f64({dst_data}, {lhs_data}, {rhs_data});")
def neon_vfmadd_2xf64_1xf64(dst: [f64][2] @ Neon, lhs: [f64][2] @ Neon,
                            rhs: [f64][1] @ DRAM):
    assert stride(dst, 0) == 1
    assert stride(lhs, 0) == 1
    for i in seq(0, 2):
        dst[i] += lhs[i] * rhs[0]


@inexact(2, "fused: rounds once where the body rounds twice")
@instr("{dst_data} = vfmaq_n_f64({dst_data}, {rhs_data}, {lhs_data});")
def neon_vfmadd_1xf64_2xf64(dst: [f64][2] @ Neon, lhs: [f64][1] @ DRAM,
                            rhs: [f64][2] @ Neon):
    assert stride(dst, 0) == 1
    assert stride(rhs, 0) == 1
    for i in seq(0, 2):
        dst[i] += lhs[0] * rhs[i]


@inexact(2, "fused: rounds once where the body rounds twice")
@instr("{dst_data} = vfmaq_laneq_f64({dst_data}, {lhs_data}, {rhs_data}, {lane});")
def neon_vfmla_2xf64_2xf64(dst: [f64][2] @ Neon, lhs: [f64][2] @ Neon,
                           rhs: [f64][2] @ Neon, lane: index):
    assert stride(dst, 0) == 1
    assert stride(lhs, 0) == 1
    assert stride(rhs, 0) == 1
    assert lane >= 0
    assert lane < 2
    for i in seq(0, 2):
        dst[i] += lhs[i] * rhs[lane]


@inexact(2, "adds in a tree where the body adds in order")
@instr("*{result} += vaddvq_f64({x_data});")
def neon_assoc_reduce_add_instr_2xf64(result: f64 @ DRAM, x: [f64][2] @ Neon):
    assert stride(x, 0) == 1
    for i in seq(0, 2):
        result += x[i]


# --------------------------------------------------------------------------- f32 <-> f64


@instr("{dst_data} = vcvt_f64_f32(vget_low_f32({src_data}));")
def neon_convert_f32_lower_to_f64(dst: [f64][2] @ Neon, src: [f32][4] @ Neon):
    assert stride(dst, 0) == 1
    assert stride(src, 0) == 1
    for i in seq(0, 2):
        dst[i] = src[i]


@instr("{dst_data} = vcvt_high_f64_f32({src_data});")
def neon_convert_f32_upper_to_f64(dst: [f64][2] @ Neon, src: [f32][4] @ Neon):
    assert stride(dst, 0) == 1
    assert stride(src, 0) == 1
    for i in seq(0, 2):
        dst[i] = src[2 + i]


# --------------------------------------------------------------------------- f16 x 8
# knit's f16 is C's _Float16; <arm_neon.h> takes float16_t (GCC's __fp16), the same
# bits, hence the pointer casts.


@instr("{dst_data} = vld1q_f16((const float16_t *) &{src_data});")
def neon_vld_8xf16(dst: [f16][8] @ Neon, src: [f16][8] @ DRAM):
    assert stride(src, 0) == 1
    assert stride(dst, 0) == 1
    for i in seq(0, 8):
        dst[i] = src[i]


@instr("vst1q_f16((float16_t *) &{dst_data}, {src_data});")
def neon_vst_8xf16(dst: [f16][8] @ DRAM, src: [f16][8] @ Neon):
    assert stride(src, 0) == 1
    assert stride(dst, 0) == 1
    for i in seq(0, 8):
        dst[i] = src[i]


@instr("{dst_data} = vld1q_dup_f16((const float16_t *) &{src_data});")
def neon_broadcast_8xf16(dst: [f16][8] @ Neon, src: [f16][1] @ DRAM):
    assert stride(dst, 0) == 1
    for i in seq(0, 8):
        dst[i] = src[0]


@instr("{dst_data} = vreinterpretq_f16_u16(vdupq_n_u16(0));")
def neon_zero_8xf16(dst: [f16][8] @ Neon):
    assert stride(dst, 0) == 1
    for i in seq(0, 8):
        dst[i] = 0.0


@instr("{dst_data} = vaddq_f16({lhs_data}, {rhs_data});")
def neon_vadd_8xf16(dst: [f16][8] @ Neon, lhs: [f16][8] @ Neon, rhs: [f16][8] @ Neon):
    assert stride(dst, 0) == 1
    assert stride(lhs, 0) == 1
    assert stride(rhs, 0) == 1
    for i in seq(0, 8):
        dst[i] = lhs[i] + rhs[i]


@instr("{dst_data} = vmulq_f16({lhs_data}, {rhs_data});")
def neon_vmul_8xf16(dst: [f16][8] @ Neon, lhs: [f16][8] @ Neon, rhs: [f16][8] @ Neon):
    assert stride(dst, 0) == 1
    assert stride(lhs, 0) == 1
    assert stride(rhs, 0) == 1
    for i in seq(0, 8):
        dst[i] = lhs[i] * rhs[i]


@inexact(2, "fused: rounds once where the body rounds twice")
@instr("{dst_data} = vfmaq_f16({dst_data}, {lhs_data}, {rhs_data});")
def neon_vfmadd_8xf16_8xf16(dst: [f16][8] @ Neon, lhs: [f16][8] @ Neon,
                            rhs: [f16][8] @ Neon):
    assert stride(dst, 0) == 1
    assert stride(lhs, 0) == 1
    assert stride(rhs, 0) == 1
    for i in seq(0, 8):
        dst[i] += lhs[i] * rhs[i]


@inexact(2, "fused: rounds once where the body rounds twice")
@instr("{dst_data} = vfmaq_f16({res_data}, {lhs_data}, {rhs_data});")
def neon_vfmadd_ex_8xf16_8xf16(dst: [f16][8] @ Neon, res: [f16][8] @ Neon,
                               lhs: [f16][8] @ Neon, rhs: [f16][8] @ Neon):
    assert stride(dst, 0) == 1
    assert stride(res, 0) == 1
    assert stride(lhs, 0) == 1
    assert stride(rhs, 0) == 1
    for i in seq(0, 8):
        dst[i] = res[i] + lhs[i] * rhs[i]


@inexact(2, "fused: rounds once where the body rounds twice")
@instr("{dst_data} = vfmaq_n_f16({dst_data}, {lhs_data}, {rhs_data});")
def neon_vfmadd_8xf16_1xf16(dst: [f16][8] @ Neon, lhs: [f16][8] @ Neon,
                            rhs: [f16][1] @ DRAM):
    assert stride(dst, 0) == 1
    assert stride(lhs, 0) == 1
    for i in seq(0, 8):
        dst[i] += lhs[i] * rhs[0]


@inexact(2, "fused: rounds once where the body rounds twice")
@instr("{dst_data} = vfmaq_n_f16({dst_data}, {rhs_data}, {lhs_data});")
def neon_vfmadd_1xf16_8xf16(dst: [f16][8] @ Neon, lhs: [f16][1] @ DRAM,
                            rhs: [f16][8] @ Neon):
    assert stride(dst, 0) == 1
    assert stride(rhs, 0) == 1
    for i in seq(0, 8):
        dst[i] += lhs[0] * rhs[i]


@inexact(2, "fused: rounds once where the body rounds twice")
@instr("{dst_data} = vfmaq_laneq_f16({dst_data}, {lhs_data}, {rhs_data}, {lane});")
def neon_vfmla_8xf16_8xf16(dst: [f16][8] @ Neon, lhs: [f16][8] @ Neon,
                           rhs: [f16][8] @ Neon, lane: index):
    assert stride(dst, 0) == 1
    assert stride(lhs, 0) == 1
    assert stride(rhs, 0) == 1
    assert lane >= 0
    assert lane < 8
    for i in seq(0, 8):
        dst[i] += lhs[i] * rhs[lane]


__all__ += [n for n in sorted(dir()) if n.startswith("neon_")]
