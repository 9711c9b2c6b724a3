"""AVX2's masked forms: the lanes i < N of a 256- or 128-bit register, for CPUs without
AVX-512 (AMD Zen 2 and 3, Intel before Skylake-SP). knit.stdlib.gemm's last N % NR
columns take them (its AVX2 target): without them those columns ran as scalar loops.

AVX2 masks are vectors of lanes (all ones: on), not AVX-512's mask registers. Loads and
stores have masked forms (vmaskmov: lanes off are not read, so nothing past an array's
end is touched); the others compute every lane and blend the result into the old value
(vblendv), so that, as each body says, lanes i >= N keep their value. A blend costs a
vector µop: a masked multiply-add is two, against one of a whole vector.
"""

from __future__ import annotations

from knit import DRAM, inexact, instr
from knit.platforms.x86.memories import (  # the memories and C helpers
    _INCLUDES,
    _PREFIX_EPI32,
    _PREFIX_EPI64,
    AVX2,
    XMM,
    _once,
)

# the 128-bit masks of lanes i < n, and masked loads that merge into the old value
# (SIMDe 0.7's portable maskload reads every lane, past the end: lane by lane there)
_PREFIX128 = _INCLUDES + "\n" + _once("KNIT_MM_PREFIX", """\
static inline __m128i knit_mm_prefix_epi32(int n) {
    return _mm_cmpgt_epi32(_mm_set1_epi32(n), _mm_setr_epi32(0, 1, 2, 3));
}
static inline __m128i knit_mm_prefix_epi64(int n) {
    return _mm_cmpgt_epi64(_mm_set1_epi64x(n), _mm_set_epi64x(1, 0));
}
static inline __m128 knit_mm_mask_loadu_ps(__m128 old, int n, const float *p) {
#ifdef KNIT_USE_SIMDE
    float v[4];
    _mm_storeu_ps(v, old);
    for (int i = 0; i < n; i++) v[i] = p[i];
    return _mm_loadu_ps(v);
#else
    __m128i m = knit_mm_prefix_epi32(n);
    return _mm_blendv_ps(old, _mm_maskload_ps(p, m), _mm_castsi128_ps(m));
#endif
}
static inline __m128d knit_mm_mask_loadu_pd(__m128d old, int n, const double *p) {
#ifdef KNIT_USE_SIMDE
    double v[2];
    _mm_storeu_pd(v, old);
    for (int i = 0; i < n; i++) v[i] = p[i];
    return _mm_loadu_pd(v);
#else
    __m128i m = knit_mm_prefix_epi64(n);
    return _mm_blendv_pd(old, _mm_maskload_pd(p, m), _mm_castsi128_pd(m));
#endif
}""")
_M256_PS = _INCLUDES + "\n" + _PREFIX_EPI32
_M256_PD = _INCLUDES + "\n" + _PREFIX_EPI64

# ------------------------------------------------------------------ 256-bit, f32 and f64


@instr("{dst_data} = _mm256_blendv_ps({dst_data}, _mm256_broadcast_ss(&{src_data}), "
       "_mm256_castsi256_ps(knit_mm256_prefix_epi32({N})));", c_global=_M256_PS)
def avx2_mask_set1_ps(N: size, dst: [f32][8] @ AVX2, src: [f32][1]):
    assert N >= 1
    assert N <= 8
    assert stride(dst, 0) == 1
    for i in seq(0, 8):
        if i < N:
            dst[i] = src[0]


@inexact(2, "fused: rounds once where the body rounds twice")
@instr("{C_data} = _mm256_blendv_ps({C_data}, _mm256_fmadd_ps({A_data}, {B_data}, {C_data}), "
       "_mm256_castsi256_ps(knit_mm256_prefix_epi32({N})));", c_global=_M256_PS)
def avx2_mask_fmadd_ps(N: size, A: [f32][8] @ AVX2, B: [f32][8] @ AVX2, C: [f32][8] @ AVX2):
    assert N >= 1
    assert N <= 8
    assert stride(A, 0) == 1
    assert stride(B, 0) == 1
    assert stride(C, 0) == 1
    for i in seq(0, 8):
        if i < N:
            C[i] += A[i] * B[i]


@instr("{dst_data} = _mm256_blendv_pd({dst_data}, _mm256_broadcast_sd(&{src_data}), "
       "_mm256_castsi256_pd(knit_mm256_prefix_epi64({N})));", c_global=_M256_PD)
def avx2_mask_set1_pd(N: size, dst: [f64][4] @ AVX2, src: [f64][1]):
    assert N >= 1
    assert N <= 4
    assert stride(dst, 0) == 1
    for i in seq(0, 4):
        if i < N:
            dst[i] = src[0]


@inexact(2, "fused: rounds once where the body rounds twice")
@instr("{C_data} = _mm256_blendv_pd({C_data}, _mm256_fmadd_pd({A_data}, {B_data}, {C_data}), "
       "_mm256_castsi256_pd(knit_mm256_prefix_epi64({N})));", c_global=_M256_PD)
def avx2_mask_fmadd_pd(N: size, A: [f64][4] @ AVX2, B: [f64][4] @ AVX2, C: [f64][4] @ AVX2):
    assert N >= 1
    assert N <= 4
    assert stride(A, 0) == 1
    assert stride(B, 0) == 1
    assert stride(C, 0) == 1
    for i in seq(0, 4):
        if i < N:
            C[i] += A[i] * B[i]


# ------------------------------------------------------------------ 128-bit, f32 and f64
# The GEMM's last columns after whole 256-bit vectors: 4 f32 (2 f64) of them are one
# whole 128-bit vector (knit.platforms.x86's mm_loadu_ps, mm_fmadd_ps, ...: SSE and FMA),
# fewer these masked ones.


@instr("{dst_data} = knit_mm_mask_loadu_ps({dst_data}, {N}, &{src_data});",
       c_global=_PREFIX128)
def avx2_mm_mask_loadu_ps(N: size, dst: [f32][4] @ XMM, src: [f32][N] @ DRAM):
    assert stride(src, 0) == 1
    assert stride(dst, 0) == 1
    assert N <= 4
    for i in seq(0, 4):
        if i < N:
            dst[i] = src[i]


@instr("_mm_maskstore_ps(&{dst_data}, knit_mm_prefix_epi32({N}), {src_data});",
       c_global=_PREFIX128)
def avx2_mm_mask_storeu_ps(N: size, dst: [f32][N] @ DRAM, src: [f32][4] @ XMM):
    assert stride(src, 0) == 1
    assert stride(dst, 0) == 1
    assert N <= 4
    for i in seq(0, 4):
        if i < N:
            dst[i] = src[i]


@instr("{dst_data} = _mm_blendv_ps({dst_data}, _mm_broadcast_ss(&{src_data}), "
       "_mm_castsi128_ps(knit_mm_prefix_epi32({N})));", c_global=_PREFIX128)
def avx2_mm_mask_set1_ps(N: size, dst: [f32][4] @ XMM, src: [f32][1]):
    assert N >= 1
    assert N <= 4
    assert stride(dst, 0) == 1
    for i in seq(0, 4):
        if i < N:
            dst[i] = src[0]


@inexact(2, "fused: rounds once where the body rounds twice")
@instr("{C_data} = _mm_blendv_ps({C_data}, _mm_fmadd_ps({A_data}, {B_data}, {C_data}), "
       "_mm_castsi128_ps(knit_mm_prefix_epi32({N})));", c_global=_PREFIX128)
def avx2_mm_mask_fmadd_ps(N: size, A: [f32][4] @ XMM, B: [f32][4] @ XMM, C: [f32][4] @ XMM):
    assert N >= 1
    assert N <= 4
    assert stride(A, 0) == 1
    assert stride(B, 0) == 1
    assert stride(C, 0) == 1
    for i in seq(0, 4):
        if i < N:
            C[i] += A[i] * B[i]


@instr("{dst_data} = knit_mm_mask_loadu_pd({dst_data}, {N}, &{src_data});",
       c_global=_PREFIX128)
def avx2_mm_mask_loadu_pd(N: size, dst: [f64][2] @ XMM, src: [f64][N] @ DRAM):
    assert stride(src, 0) == 1
    assert stride(dst, 0) == 1
    assert N <= 2
    for i in seq(0, 2):
        if i < N:
            dst[i] = src[i]


@instr("_mm_maskstore_pd(&{dst_data}, knit_mm_prefix_epi64({N}), {src_data});",
       c_global=_PREFIX128)
def avx2_mm_mask_storeu_pd(N: size, dst: [f64][N] @ DRAM, src: [f64][2] @ XMM):
    assert stride(src, 0) == 1
    assert stride(dst, 0) == 1
    assert N <= 2
    for i in seq(0, 2):
        if i < N:
            dst[i] = src[i]


@instr("{dst_data} = _mm_blendv_pd({dst_data}, _mm_set1_pd({src_data}), "
       "_mm_castsi128_pd(knit_mm_prefix_epi64({N})));", c_global=_PREFIX128)
def avx2_mm_mask_set1_pd(N: size, dst: [f64][2] @ XMM, src: [f64][1]):
    assert N >= 1
    assert N <= 2
    assert stride(dst, 0) == 1
    for i in seq(0, 2):
        if i < N:
            dst[i] = src[0]


@inexact(2, "fused: rounds once where the body rounds twice")
@instr("{C_data} = _mm_blendv_pd({C_data}, _mm_fmadd_pd({A_data}, {B_data}, {C_data}), "
       "_mm_castsi128_pd(knit_mm_prefix_epi64({N})));", c_global=_PREFIX128)
def avx2_mm_mask_fmadd_pd(N: size, A: [f64][2] @ XMM, B: [f64][2] @ XMM, C: [f64][2] @ XMM):
    assert N >= 1
    assert N <= 2
    assert stride(A, 0) == 1
    assert stride(B, 0) == 1
    assert stride(C, 0) == 1
    for i in seq(0, 2):
        if i < N:
            C[i] += A[i] * B[i]
