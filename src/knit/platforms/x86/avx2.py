"""AVX2 instructions (f32 and f64) and prefetch."""

from __future__ import annotations

from knit import DRAM, inexact, instr
from knit.libs.externs import select
from knit.platforms.x86.memories import (  # the memories and C helpers
    _INCLUDES,
    _MASK_LOADU_PD,
    _MASK_LOADU_PS,
    _PREFETCH_BLOCK,
    _PREFIX_EPI32,
    _PREFIX_EPI64,
    _TRANSPOSE8X4_PD,
    _TRANSPOSE8X8_PS,
    AVX2,
)

# --------------------------------------------------------------------------- prefetch


@instr("_mm_prefetch((const char *) &{A_data}, {locality_hint});", c_global=_INCLUDES)
def prefetch(A: [R][1] @ DRAM, locality_hint: index):
    # changes no memory, so its meaning is to do nothing. (Exo types the hint `size`,
    # but knit's sizes are >= 1, and hint 0 is _MM_HINT_NTA.)
    assert 0 <= locality_hint
    assert locality_hint < 8
    pass  # noqa: PIE790 -- the body, spelled out


@instr("KNIT_PREFETCH_BLOCK(&{A_data}, {m}, {n}, {A}.strides[0], {locality_hint});",
       c_global=_PREFETCH_BLOCK)
def prefetch_block(m: size, n: size, A: [R][m, n] @ DRAM, locality_hint: index):
    # `prefetch` of an address every 64 bytes from the start of each of the m rows of A
    # (a GEMM's next C tile, knit.stdlib.gemm; a row that does not start on a cache
    # line may leave its last line out): one call where a call of prefetch per 64
    # bytes would be, each of which a schedule inserts and checks. Like prefetch, it
    # changes no memory.
    assert stride(A, 1) == 1
    assert 0 <= locality_hint
    assert locality_hint < 8
    pass  # noqa: PIE790 -- the body, spelled out


# --------------------------------------------------------------------------- AVX2 f32


@instr("{dst_data} = _mm256_setzero_ps();")
def mm256_setzero_ps(dst: [f32][8] @ AVX2):
    assert stride(dst, 0) == 1
    for i in seq(0, 8):
        dst[i] = 0.0


@instr("{out_data} = _mm256_setzero_ps();")
def avx2_set0_ps(out: [f32][8] @ AVX2):
    # Exo's name for mm256_setzero_ps
    assert stride(out, 0) == 1
    for i in seq(0, 8):
        out[i] = 0.0


@instr("_mm256_storeu_ps(&{dst_data}, _mm256_add_ps(_mm256_loadu_ps(&{dst_data}), {val_data}));")
def avx2_fmadd_memu_ps(dst: [f32][8] @ DRAM, val: [f32][8] @ AVX2):
    # Exo's name: adds a register into memory (Exo's C multiplies by ones in an FMA,
    # which rounds the same as this add)
    assert stride(dst, 0) == 1
    assert stride(val, 0) == 1
    for i in seq(0, 8):
        dst[i] += val[i]


@instr("{dst_data} = _mm256_loadu_ps(&{src_data});")
def mm256_loadu_ps(dst: [f32][8] @ AVX2, src: [f32][8] @ DRAM):
    assert stride(src, 0) == 1
    assert stride(dst, 0) == 1
    for i in seq(0, 8):
        dst[i] = src[i]


@instr("_mm256_storeu_ps(&{dst_data}, {src_data});")
def mm256_storeu_ps(dst: [f32][8] @ DRAM, src: [f32][8] @ AVX2):
    assert stride(src, 0) == 1
    assert stride(dst, 0) == 1
    for i in seq(0, 8):
        dst[i] = src[i]


@instr("{out_data} = _mm256_broadcast_ss(&{val_data});")
def mm256_broadcast_ss(out: [f32][8] @ AVX2, val: [f32][1]):
    assert stride(out, 0) == 1
    for i in seq(0, 8):
        out[i] = val[0]


@instr("{out_data} = _mm256_broadcast_ss({val_data});")
def mm256_broadcast_ss_scalar(out: [f32][8] @ AVX2, val: f32):
    assert stride(out, 0) == 1
    for i in seq(0, 8):
        out[i] = val


@instr("{out_data} = _mm256_set1_ps(*{val_data});")
def mm256_set1_ps(out: [f32][8] @ AVX2, val: f32):
    assert stride(out, 0) == 1
    for i in seq(0, 8):
        out[i] = val


@instr("{out_data} = _mm256_add_ps({x_data}, {y_data});")
def mm256_add_ps(out: [f32][8] @ AVX2, x: [f32][8] @ AVX2, y: [f32][8] @ AVX2):
    assert stride(out, 0) == 1
    assert stride(x, 0) == 1
    assert stride(y, 0) == 1
    for i in seq(0, 8):
        out[i] = x[i] + y[i]


@instr("{out_data} = _mm256_sub_ps({x_data}, {y_data});")
def mm256_sub_ps(out: [f32][8] @ AVX2, x: [f32][8] @ AVX2, y: [f32][8] @ AVX2):
    assert stride(out, 0) == 1
    assert stride(x, 0) == 1
    assert stride(y, 0) == 1
    for i in seq(0, 8):
        out[i] = x[i] - y[i]


@instr("{out_data} = _mm256_mul_ps({x_data}, {y_data});")
def mm256_mul_ps(out: [f32][8] @ AVX2, x: [f32][8] @ AVX2, y: [f32][8] @ AVX2):
    assert stride(out, 0) == 1
    assert stride(x, 0) == 1
    assert stride(y, 0) == 1
    for i in seq(0, 8):
        out[i] = x[i] * y[i]


@instr("{out_data} = _mm256_div_ps({x_data}, {y_data});")
def mm256_div_ps(out: [f32][8] @ AVX2, x: [f32][8] @ AVX2, y: [f32][8] @ AVX2):
    assert stride(out, 0) == 1
    assert stride(x, 0) == 1
    assert stride(y, 0) == 1
    for i in seq(0, 8):
        out[i] = x[i] / y[i]


@instr("{out_data} = _mm256_max_ps({x_data}, {y_data});")
def mm256_max_ps(out: [f32][8] @ AVX2, x: [f32][8] @ AVX2, y: [f32][8] @ AVX2):
    # maxps returns its second operand unless x > y (so y when either is NaN)
    assert stride(out, 0) == 1
    assert stride(x, 0) == 1
    assert stride(y, 0) == 1
    for i in seq(0, 8):
        out[i] = select(y[i], x[i], x[i], y[i])


@inexact(2, "fused: rounds once where the body rounds twice")
@instr("{dst_data} = _mm256_fmadd_ps({src1_data}, {src2_data}, {dst_data});")
def mm256_fmadd_ps(dst: [f32][8] @ AVX2, src1: [f32][8] @ AVX2, src2: [f32][8] @ AVX2):
    assert stride(src1, 0) == 1
    assert stride(src2, 0) == 1
    assert stride(dst, 0) == 1
    for i in seq(0, 8):
        dst[i] += src1[i] * src2[i]


@inexact(2, "fused: rounds once where the body rounds twice")
@instr("{dst_data} = _mm256_fmadd_ps({lhs_data}, _mm256_broadcast_ss(&{rhs_data}), "
       "{dst_data});")
def mm256_fmadd_ps_broadcast(dst: [f32][8] @ AVX2, lhs: [f32][8] @ AVX2,
                             rhs: [f32][1] @ DRAM):
    assert stride(dst, 0) == 1
    assert stride(lhs, 0) == 1
    for i in seq(0, 8):
        dst[i] += lhs[i] * rhs[0]


@instr("{out_data} = _mm256_blendv_ps({z_data}, {y_data}, "
       "_mm256_cmp_ps({x_data}, {v_data}, _CMP_LT_OQ));")
def avx2_select_ps(out: [f32][8] @ AVX2, x: [f32][8] @ AVX2, v: [f32][8] @ AVX2,
                   y: [f32][8] @ AVX2, z: [f32][8] @ AVX2):
    assert stride(out, 0) == 1
    assert stride(x, 0) == 1
    assert stride(v, 0) == 1
    assert stride(y, 0) == 1
    assert stride(z, 0) == 1
    for i in seq(0, 8):
        out[i] = select(x[i], v[i], y[i], z[i])


# -x flips the sign bit (0 - x would give +0.0 for +0.0)
@instr("{dst_data} = _mm256_xor_ps({src_data}, _mm256_set1_ps(-0.0f));")
def avx2_sign_ps(dst: [f32][8] @ AVX2, src: [f32][8] @ AVX2):
    assert stride(dst, 0) == 1
    assert stride(src, 0) == 1
    for i in seq(0, 8):
        dst[i] = -src[i]


@instr("{dst_data} = {src_data};")
def avx2_reg_copy_ps(dst: [f32][8] @ AVX2, src: [f32][8] @ AVX2):
    assert stride(dst, 0) == 1
    assert stride(src, 0) == 1
    for i in seq(0, 8):
        dst[i] = src[i]


@instr("{dst_data} = _mm256_add_ps({src_data}, {dst_data});")
def avx2_reduce_add_wide_ps(dst: [f32][8] @ AVX2, src: [f32][8] @ AVX2):
    assert stride(dst, 0) == 1
    assert stride(src, 0) == 1
    for i in seq(0, 8):
        dst[i] += src[i]


@inexact(8, "adds in a tree where the body adds in order")
@instr("""\
{{
    __m128 knit_h = _mm_add_ps(_mm256_castps256_ps128({x_data}),
                               _mm256_extractf128_ps({x_data}, 1));
    knit_h = _mm_add_ps(knit_h, _mm_movehl_ps(knit_h, knit_h));
    knit_h = _mm_add_ss(knit_h, _mm_shuffle_ps(knit_h, knit_h, 1));
    *{result} += _mm_cvtss_f32(knit_h);
}}""")
def avx2_assoc_reduce_add_ps(x: [f32][8] @ AVX2, result: f32):
    # the hardware adds in a tree: equal to this loop up to reassociation
    assert stride(x, 0) == 1
    for i in seq(0, 8):
        result += x[i]


@instr("{dst_data} = knit_mm256_mask_loadu_ps({dst_data}, {bound}, &{src_data});",
       c_global=_MASK_LOADU_PS)
def mm256_prefix_load_ps(dst: [f32][8] @ AVX2, src: [f32][8] @ DRAM, bound: size):
    assert stride(src, 0) == 1
    assert stride(dst, 0) == 1
    assert bound <= 8
    for i in seq(0, 8):
        if i < bound:
            dst[i] = src[i]


@instr("_mm256_maskstore_ps(&{dst_data}, knit_mm256_prefix_epi32({bound}), {src_data});",
       c_global=_PREFIX_EPI32)
def mm256_prefix_store_ps(dst: [f32][8] @ DRAM, src: [f32][8] @ AVX2, bound: size):
    assert stride(dst, 0) == 1
    assert stride(src, 0) == 1
    assert bound <= 8
    for i in seq(0, 8):
        if i < bound:
            dst[i] = src[i]


@instr("{dst_data} = knit_mm256_mask_loadu_ps({dst_data}, {N}, &{src_data});",
       c_global=_MASK_LOADU_PS)
def avx2_mask_loadu_ps(N: size, dst: [f32][8] @ AVX2, src: [f32][N] @ DRAM):
    # like mm256_prefix_load_ps, but src holds only N values: for the edge of an array
    assert stride(src, 0) == 1
    assert stride(dst, 0) == 1
    assert N <= 8
    for i in seq(0, 8):
        if i < N:
            dst[i] = src[i]


@instr("_mm256_maskstore_ps(&{dst_data}, knit_mm256_prefix_epi32({N}), {src_data});",
       c_global=_PREFIX_EPI32)
def avx2_mask_storeu_ps(N: size, dst: [f32][N] @ DRAM, src: [f32][8] @ AVX2):
    assert stride(src, 0) == 1
    assert stride(dst, 0) == 1
    assert N <= 8
    for i in seq(0, 8):
        if i < N:
            dst[i] = src[i]


@instr("knit_mm256_transpose8x8_ps(&{dst_data}, {dst}.strides[0], &{src_data}, "
       "{src}.strides[0]);", c_global=_TRANSPOSE8X8_PS)
def mm256_transpose8x8_ps(dst: [f32][8, 8] @ DRAM, src: [f32][8, 8] @ DRAM):
    # dst's rows are src's columns: eight 8-float rows loaded, shuffled in registers,
    # stored (a GEMM's packing of A, knit.stdlib.gemm)
    assert stride(dst, 1) == 1
    assert stride(src, 1) == 1
    for j in seq(0, 8):
        for i in seq(0, 8):
            dst[j, i] = src[i, j]


# --------------------------------------------------------------------------- AVX2 f64


@instr("{dst_data} = _mm256_setzero_pd();")
def mm256_setzero_pd(dst: [f64][4] @ AVX2):
    assert stride(dst, 0) == 1
    for i in seq(0, 4):
        dst[i] = 0.0


@instr("{dst_data} = _mm256_loadu_pd(&{src_data});")
def mm256_loadu_pd(dst: [f64][4] @ AVX2, src: [f64][4] @ DRAM):
    assert stride(src, 0) == 1
    assert stride(dst, 0) == 1
    for i in seq(0, 4):
        dst[i] = src[i]


@instr("_mm256_storeu_pd(&{dst_data}, {src_data});")
def mm256_storeu_pd(dst: [f64][4] @ DRAM, src: [f64][4] @ AVX2):
    assert stride(src, 0) == 1
    assert stride(dst, 0) == 1
    for i in seq(0, 4):
        dst[i] = src[i]


@instr("{out_data} = _mm256_broadcast_sd(&{val_data});")
def mm256_broadcast_sd(out: [f64][4] @ AVX2, val: [f64][1]):
    assert stride(out, 0) == 1
    for i in seq(0, 4):
        out[i] = val[0]


@instr("{out_data} = _mm256_broadcast_sd({val_data});")
def mm256_broadcast_sd_scalar(out: [f64][4] @ AVX2, val: f64):
    assert stride(out, 0) == 1
    for i in seq(0, 4):
        out[i] = val


@instr("{dst_data} = _mm256_cvtps_pd(_mm256_castps256_ps128({src_data}));")
def avx2_convert_f32_lower_to_f64(dst: [f64][4] @ AVX2, src: [f32][8] @ AVX2):
    # Exo's name: lanes 0-3 of an f32 register widened to f64 (exact)
    assert stride(dst, 0) == 1
    assert stride(src, 0) == 1
    for i in seq(0, 4):
        dst[i] = src[i]


@instr("{dst_data} = _mm256_cvtps_pd(_mm256_extractf128_ps({src_data}, 1));")
def avx2_convert_f32_upper_to_f64(dst: [f64][4] @ AVX2, src: [f32][8] @ AVX2):
    # Exo's name: lanes 4-7 of an f32 register widened to f64 (exact)
    assert stride(dst, 0) == 1
    assert stride(src, 0) == 1
    for i in seq(0, 4):
        dst[i] = src[4 + i]


@instr("{out_data} = _mm256_set1_pd(*{val_data});")
def mm256_set1_pd(out: [f64][4] @ AVX2, val: f64):
    assert stride(out, 0) == 1
    for i in seq(0, 4):
        out[i] = val


@instr("{out_data} = _mm256_add_pd({x_data}, {y_data});")
def mm256_add_pd(out: [f64][4] @ AVX2, x: [f64][4] @ AVX2, y: [f64][4] @ AVX2):
    assert stride(out, 0) == 1
    assert stride(x, 0) == 1
    assert stride(y, 0) == 1
    for i in seq(0, 4):
        out[i] = x[i] + y[i]


@instr("{out_data} = _mm256_sub_pd({x_data}, {y_data});")
def mm256_sub_pd(out: [f64][4] @ AVX2, x: [f64][4] @ AVX2, y: [f64][4] @ AVX2):
    assert stride(out, 0) == 1
    assert stride(x, 0) == 1
    assert stride(y, 0) == 1
    for i in seq(0, 4):
        out[i] = x[i] - y[i]


@instr("{out_data} = _mm256_mul_pd({x_data}, {y_data});")
def mm256_mul_pd(out: [f64][4] @ AVX2, x: [f64][4] @ AVX2, y: [f64][4] @ AVX2):
    assert stride(out, 0) == 1
    assert stride(x, 0) == 1
    assert stride(y, 0) == 1
    for i in seq(0, 4):
        out[i] = x[i] * y[i]


@instr("{out_data} = _mm256_div_pd({x_data}, {y_data});")
def mm256_div_pd(out: [f64][4] @ AVX2, x: [f64][4] @ AVX2, y: [f64][4] @ AVX2):
    assert stride(out, 0) == 1
    assert stride(x, 0) == 1
    assert stride(y, 0) == 1
    for i in seq(0, 4):
        out[i] = x[i] / y[i]


@instr("{out_data} = _mm256_max_pd({x_data}, {y_data});")
def mm256_max_pd(out: [f64][4] @ AVX2, x: [f64][4] @ AVX2, y: [f64][4] @ AVX2):
    assert stride(out, 0) == 1
    assert stride(x, 0) == 1
    assert stride(y, 0) == 1
    for i in seq(0, 4):
        out[i] = select(y[i], x[i], x[i], y[i])


@inexact(2, "fused: rounds once where the body rounds twice")
@instr("{dst_data} = _mm256_fmadd_pd({src1_data}, {src2_data}, {dst_data});")
def mm256_fmadd_pd(dst: [f64][4] @ AVX2, src1: [f64][4] @ AVX2, src2: [f64][4] @ AVX2):
    assert stride(src1, 0) == 1
    assert stride(src2, 0) == 1
    assert stride(dst, 0) == 1
    for i in seq(0, 4):
        dst[i] += src1[i] * src2[i]


@inexact(2, "fused: rounds once where the body rounds twice")
@instr("{dst_data} = _mm256_fmadd_pd({lhs_data}, _mm256_broadcast_sd(&{rhs_data}), "
       "{dst_data});")
def mm256_fmadd_pd_broadcast(dst: [f64][4] @ AVX2, lhs: [f64][4] @ AVX2,
                             rhs: [f64][1] @ DRAM):
    assert stride(dst, 0) == 1
    assert stride(lhs, 0) == 1
    for i in seq(0, 4):
        dst[i] += lhs[i] * rhs[0]


@instr("{out_data} = _mm256_blendv_pd({z_data}, {y_data}, "
       "_mm256_cmp_pd({x_data}, {v_data}, _CMP_LT_OQ));")
def avx2_select_pd(out: [f64][4] @ AVX2, x: [f64][4] @ AVX2, v: [f64][4] @ AVX2,
                   y: [f64][4] @ AVX2, z: [f64][4] @ AVX2):
    assert stride(out, 0) == 1
    assert stride(x, 0) == 1
    assert stride(v, 0) == 1
    assert stride(y, 0) == 1
    assert stride(z, 0) == 1
    for i in seq(0, 4):
        out[i] = select(x[i], v[i], y[i], z[i])


@instr("{dst_data} = _mm256_xor_pd({src_data}, _mm256_set1_pd(-0.0));")
def avx2_sign_pd(dst: [f64][4] @ AVX2, src: [f64][4] @ AVX2):
    assert stride(dst, 0) == 1
    assert stride(src, 0) == 1
    for i in seq(0, 4):
        dst[i] = -src[i]


@instr("{dst_data} = {src_data};")
def avx2_reg_copy_pd(dst: [f64][4] @ AVX2, src: [f64][4] @ AVX2):
    assert stride(dst, 0) == 1
    assert stride(src, 0) == 1
    for i in seq(0, 4):
        dst[i] = src[i]


@instr("{dst_data} = _mm256_add_pd({src_data}, {dst_data});")
def avx2_reduce_add_wide_pd(dst: [f64][4] @ AVX2, src: [f64][4] @ AVX2):
    assert stride(dst, 0) == 1
    assert stride(src, 0) == 1
    for i in seq(0, 4):
        dst[i] += src[i]


@inexact(4, "adds in a tree where the body adds in order")
@instr("""\
{{
    __m128d knit_h = _mm_add_pd(_mm256_castpd256_pd128({x_data}),
                                _mm256_extractf128_pd({x_data}, 1));
    knit_h = _mm_add_sd(knit_h, _mm_unpackhi_pd(knit_h, knit_h));
    *{result} += _mm_cvtsd_f64(knit_h);
}}""")
def avx2_assoc_reduce_add_pd(x: [f64][4] @ AVX2, result: f64):
    # the hardware adds in a tree: equal to this loop up to reassociation
    assert stride(x, 0) == 1
    for i in seq(0, 4):
        result += x[i]


@instr("{dst_data} = knit_mm256_mask_loadu_pd({dst_data}, {N}, &{src_data});",
       c_global=_MASK_LOADU_PD)
def avx2_mask_loadu_pd(N: size, dst: [f64][4] @ AVX2, src: [f64][N] @ DRAM):
    assert stride(src, 0) == 1
    assert stride(dst, 0) == 1
    assert N <= 4
    for i in seq(0, 4):
        if i < N:
            dst[i] = src[i]


@instr("_mm256_maskstore_pd(&{dst_data}, knit_mm256_prefix_epi64({N}), {src_data});",
       c_global=_PREFIX_EPI64)
def avx2_mask_storeu_pd(N: size, dst: [f64][N] @ DRAM, src: [f64][4] @ AVX2):
    assert stride(src, 0) == 1
    assert stride(dst, 0) == 1
    assert N <= 4
    for i in seq(0, 4):
        if i < N:
            dst[i] = src[i]


@instr("knit_mm256_transpose8x4_pd(&{dst_data}, {dst}.strides[0], &{src_data}, "
       "{src}.strides[0]);", c_global=_TRANSPOSE8X4_PD)
def mm256_transpose8x4_pd(dst: [f64][4, 8] @ DRAM, src: [f64][8, 4] @ DRAM):
    # dst's rows are src's columns (4 x 4 blocks through registers)
    assert stride(dst, 1) == 1
    assert stride(src, 1) == 1
    for j in seq(0, 4):
        for i in seq(0, 8):
            dst[j, i] = src[i, j]
