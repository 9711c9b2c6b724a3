"""AVX2 instructions on 16 ui16 lanes (`__m256i`), and f32 arithmetic on a prefix of
the 8 lanes: the ones Exo 1.0's x86 library has beyond knit's `avx2` module, used by
its Halide-style apps (blur on ui16 images, unsharp on f32).

As everywhere in knit.platforms, each body is the exact meaning and the C does it:
ui16 arithmetic wraps modulo 2^16 (as knit's ui16 `+` does), so `mm256_add_epi16` is
the wrapping `_mm256_add_epi16` (Exo's uses the saturating `_mm256_adds_epu16`, which
differs from its body when a sum overflows); `x / 3.0` on ui16 is the floor of the
quotient, which `mulhi(x, 43691) >> 1` gives for every 16-bit x (43691 = ceil(2^17 / 3),
and the error term stays below one step for x < 2^16). The prefix forms compute all 8
lanes and keep the old value of lanes `i >= bound` (a blend), as their bodies say.
"""

from __future__ import annotations

from knit import DRAM, instr
from knit.platforms.x86.memories import _PREFIX_EPI32, AVX2

# --------------------------------------------------------------------------- ui16


@instr("{dst_data} = _mm256_loadu_si256((const __m256i *) &{src_data});")
def mm256_loadu_si256(dst: [ui16][16] @ AVX2, src: [ui16][16] @ DRAM):
    assert stride(src, 0) == 1
    assert stride(dst, 0) == 1
    for i in seq(0, 16):
        dst[i] = src[i]


@instr("_mm256_storeu_si256((__m256i *) &{dst_data}, {src_data});")
def mm256_storeu_si256(dst: [ui16][16] @ DRAM, src: [ui16][16] @ AVX2):
    assert stride(src, 0) == 1
    assert stride(dst, 0) == 1
    for i in seq(0, 16):
        dst[i] = src[i]


@instr("{out_data} = _mm256_add_epi16({x_data}, {y_data});")
def mm256_add_epi16(out: [ui16][16] @ AVX2, x: [ui16][16] @ AVX2, y: [ui16][16] @ AVX2):
    assert stride(out, 0) == 1
    assert stride(x, 0) == 1
    assert stride(y, 0) == 1
    for i in seq(0, 16):
        out[i] = x[i] + y[i]


@instr("{out_data} = _mm256_srli_epi16("
       "_mm256_mulhi_epu16({x_data}, _mm256_set1_epi16((short) 43691)), 1);")
def avx2_ui16_divide_by_3(out: [ui16][16] @ AVX2, x: [ui16][16] @ AVX2):
    assert stride(out, 0) == 1
    assert stride(x, 0) == 1
    for i in seq(0, 16):
        out[i] = x[i] / 3.0


# --------------------------------------------------------------------------- f32 prefix
# `bound` lanes are computed into `out`; the others keep their value.


def _blend(op: str) -> str:
    return ("{out_data} = _mm256_blendv_ps({out_data}, " + op +
            ", _mm256_castsi256_ps(knit_mm256_prefix_epi32({bound})));")


@instr(_blend("_mm256_add_ps({x_data}, {y_data})"), c_global=_PREFIX_EPI32)
def mm256_prefix_add_ps(out: [f32][8] @ AVX2, x: [f32][8] @ AVX2, y: [f32][8] @ AVX2,
                        bound: size):
    assert stride(out, 0) == 1
    assert stride(x, 0) == 1
    assert stride(y, 0) == 1
    assert bound <= 8
    for i in seq(0, 8):
        if i < bound:
            out[i] = x[i] + y[i]


@instr(_blend("_mm256_sub_ps({x_data}, {y_data})"), c_global=_PREFIX_EPI32)
def mm256_prefix_sub_ps(out: [f32][8] @ AVX2, x: [f32][8] @ AVX2, y: [f32][8] @ AVX2,
                        bound: size):
    assert stride(out, 0) == 1
    assert stride(x, 0) == 1
    assert stride(y, 0) == 1
    assert bound <= 8
    for i in seq(0, 8):
        if i < bound:
            out[i] = x[i] - y[i]


@instr(_blend("_mm256_mul_ps({x_data}, {y_data})"), c_global=_PREFIX_EPI32)
def mm256_prefix_mul_ps(out: [f32][8] @ AVX2, x: [f32][8] @ AVX2, y: [f32][8] @ AVX2,
                        bound: size):
    assert stride(out, 0) == 1
    assert stride(x, 0) == 1
    assert stride(y, 0) == 1
    assert bound <= 8
    for i in seq(0, 8):
        if i < bound:
            out[i] = x[i] * y[i]


@instr(_blend("_mm256_div_ps({x_data}, {y_data})"), c_global=_PREFIX_EPI32)
def mm256_prefix_div_ps(out: [f32][8] @ AVX2, x: [f32][8] @ AVX2, y: [f32][8] @ AVX2,
                        bound: size):
    assert stride(out, 0) == 1
    assert stride(x, 0) == 1
    assert stride(y, 0) == 1
    assert bound <= 8
    for i in seq(0, 8):
        if i < bound:
            out[i] = x[i] / y[i]


@instr(_blend("_mm256_broadcast_ss(&{val_data})"), c_global=_PREFIX_EPI32)
def mm256_prefix_broadcast_ss(out: [f32][8] @ AVX2, val: [f32][1], bound: size):
    assert stride(out, 0) == 1
    assert bound <= 8
    for i in seq(0, 8):
        if i < bound:
            out[i] = val[0]
