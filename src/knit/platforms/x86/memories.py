"""The AVX2 and AVX-512 register memories, and the C helpers the masked instructions
need (see the package docstring)."""

from __future__ import annotations

from typing import ClassVar

from knit.libs.memories import VectorRegisters

# C type name -> knit name, for messages
_INCLUDES = """\
#ifdef KNIT_USE_SIMDE
#ifndef SIMDE_ENABLE_NATIVE_ALIASES
#define SIMDE_ENABLE_NATIVE_ALIASES
#endif
#include <simde/x86/avx512.h>
#else
#include <immintrin.h>
#endif"""

def _once(guard: str, code: str) -> str:
    """`code` guarded so that a file defines it once. Each helper is its own instr
    global, so a file holds only the helpers it calls (Clang warns of unused ones)."""
    return f"#ifndef {guard}\n#define {guard}\n{code}\n#endif"


# prefetch_block: an address every 64 bytes from the start of m rows of n elements, ld
# apart (a macro: _mm_prefetch takes its hint as a constant)
_PREFETCH_BLOCK = _INCLUDES + "\n" + _once("KNIT_PREFETCH_BLOCK_H", """\
#define KNIT_PREFETCH_BLOCK(p, m, n, ld, hint) do { \\
    for (int_fast32_t knit_r = 0; knit_r < (m); knit_r++) \\
        for (int_fast32_t knit_c = 0; knit_c < (n); knit_c += 64 / (int_fast32_t) sizeof(*(p))) \\
            _mm_prefetch((const char *) ((p) + knit_r * (ld) + knit_c), (hint)); \\
} while (0)""")

# AVX2 masked stores take a mask of lanes i < n.
_PREFIX_EPI32 = _once("KNIT_MM256_PREFIX_EPI32", """\
static inline __m256i knit_mm256_prefix_epi32(int n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}""")
_PREFIX_EPI64 = _once("KNIT_MM256_PREFIX_EPI64", """\
static inline __m256i knit_mm256_prefix_epi64(int n) {
    return _mm256_cmpgt_epi64(_mm256_set1_epi64x(n), _mm256_setr_epi64x(0, 1, 2, 3));
}""")

# Transposes for packing a GEMM's A (knit.stdlib.gemm): rows of a matrix in, its
# columns out, through registers. Functions rather than statements in the template, so
# that the C reads as one call per block; the includes come with them (their
# instructions take memory operands only, whose memory brings no includes).
_TRANSPOSE8X8_PS = _INCLUDES + "\n" + _once("KNIT_MM256_TRANSPOSE8X8_PS", """\
static inline void knit_mm256_transpose8x8_ps(float *dst, int_fast32_t ld_dst,
                                              const float *src, int_fast32_t ld_src) {
    __m256 r[8], t[8], s[8];
    for (int i = 0; i < 8; i++) r[i] = _mm256_loadu_ps(src + i * ld_src);
    for (int i = 0; i < 8; i += 2) {  /* pairs of rows interleaved */
        t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 8; i += 4) {  /* four rows' elements side by side */
        s[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44);
        s[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xEE);
        s[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44);
        s[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
    }
    for (int j = 0; j < 4; j++) {  /* low halves: columns 0-3, high halves: 4-7 */
        _mm256_storeu_ps(dst + j * ld_dst, _mm256_permute2f128_ps(s[j], s[j + 4], 0x20));
        _mm256_storeu_ps(dst + (j + 4) * ld_dst, _mm256_permute2f128_ps(s[j], s[j + 4], 0x31));
    }
}""")
_TRANSPOSE8X4_PD = _INCLUDES + "\n" + _once("KNIT_MM256_TRANSPOSE8X4_PD", """\
static inline void knit_mm256_transpose8x4_pd(double *dst, int_fast32_t ld_dst,
                                              const double *src, int_fast32_t ld_src) {
    for (int h = 0; h < 8; h += 4) {  /* rows h..h+3 -> columns h..h+3 of dst */
        __m256d r0 = _mm256_loadu_pd(src + h * ld_src), r1 = _mm256_loadu_pd(src + (h + 1) * ld_src),
                r2 = _mm256_loadu_pd(src + (h + 2) * ld_src), r3 = _mm256_loadu_pd(src + (h + 3) * ld_src);
        __m256d t0 = _mm256_unpacklo_pd(r0, r1), t1 = _mm256_unpackhi_pd(r0, r1),
                t2 = _mm256_unpacklo_pd(r2, r3), t3 = _mm256_unpackhi_pd(r2, r3);
        _mm256_storeu_pd(dst + h, _mm256_permute2f128_pd(t0, t2, 0x20));
        _mm256_storeu_pd(dst + ld_dst + h, _mm256_permute2f128_pd(t1, t3, 0x20));
        _mm256_storeu_pd(dst + 2 * ld_dst + h, _mm256_permute2f128_pd(t0, t2, 0x31));
        _mm256_storeu_pd(dst + 3 * ld_dst + h, _mm256_permute2f128_pd(t1, t3, 0x31));
    }
}""")

# AVX2 masked loads merge lanes i < n into the register's old value (the instructions'
# bodies leave lanes >= n alone). SIMDe 0.7's portable maskload reads every lane, past
# the end of the array: go lane by lane there.
_MASK_LOADU_PS = _once("KNIT_MM256_MASK_LOADU_PS", """\
static inline __m256 knit_mm256_mask_loadu_ps(__m256 old, int n, const float *p) {
#ifdef KNIT_USE_SIMDE
    float v[8];
    _mm256_storeu_ps(v, old);
    for (int i = 0; i < n; i++) v[i] = p[i];
    return _mm256_loadu_ps(v);
#else
    __m256i m = _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    return _mm256_blendv_ps(old, _mm256_maskload_ps(p, m), _mm256_castsi256_ps(m));
#endif
}""")
_MASK_LOADU_PD = _once("KNIT_MM256_MASK_LOADU_PD", """\
static inline __m256d knit_mm256_mask_loadu_pd(__m256d old, int n, const double *p) {
#ifdef KNIT_USE_SIMDE
    double v[4];
    _mm256_storeu_pd(v, old);
    for (int i = 0; i < n; i++) v[i] = p[i];
    return _mm256_loadu_pd(v);
#else
    __m256i m = _mm256_cmpgt_epi64(_mm256_set1_epi64x(n), _mm256_setr_epi64x(0, 1, 2, 3));
    return _mm256_blendv_pd(old, _mm256_maskload_pd(p, m), _mm256_castsi256_pd(m));
#endif
}""")


def _simde_masked(intrinsic: str, code: str) -> str:
    """`code` defining `knit_<op>` as `intrinsic`, for SIMDe releases that lack it (< 0.8).
    With native aliases a newer SIMDe defines the intrinsic as a macro, which the #if
    tests; the #define makes a second copy of this text a no-op."""
    op = intrinsic.removeprefix("_mm512_")
    return (f"#if defined(KNIT_USE_SIMDE) && !defined({intrinsic})\n{code}\n"
            f"#define {intrinsic} knit_{op}\n#endif")


_SIMDE_MASK_LOADU_PS = _simde_masked("_mm512_mask_loadu_ps", """\
static inline __m512 knit_mask_loadu_ps(__m512 src, uint16_t k, const float *p) {
    float v[16];
    _mm512_storeu_ps(v, src);
    for (int i = 0; i < 16; i++) if ((k >> i) & 1) v[i] = p[i];
    return _mm512_loadu_ps(v);
}""")
_SIMDE_MASK_STOREU_PS = _simde_masked("_mm512_mask_storeu_ps", """\
static inline void knit_mask_storeu_ps(float *p, uint16_t k, __m512 a) {
    float v[16];
    _mm512_storeu_ps(v, a);
    for (int i = 0; i < 16; i++) if ((k >> i) & 1) p[i] = v[i];
}""")
_SIMDE_MASK_LOADU_PD = _simde_masked("_mm512_mask_loadu_pd", """\
static inline __m512d knit_mask_loadu_pd(__m512d src, uint8_t k, const double *p) {
    double v[8];
    _mm512_storeu_pd(v, src);
    for (int i = 0; i < 8; i++) if ((k >> i) & 1) v[i] = p[i];
    return _mm512_loadu_pd(v);
}""")
_SIMDE_MASK_STOREU_PD = _simde_masked("_mm512_mask_storeu_pd", """\
static inline void knit_mask_storeu_pd(double *p, uint8_t k, __m512d a) {
    double v[8];
    _mm512_storeu_pd(v, a);
    for (int i = 0; i < 8; i++) if ((k >> i) & 1) p[i] = v[i];
}""")


class _Vectors(VectorRegisters):
    """x86 vector registers (the shared behaviour is knit.libs.memories.VectorRegisters)."""

    @classmethod
    def global_(cls) -> str:
        return _INCLUDES


class AVX2(_Vectors):
    """256-bit AVX2 registers: 8 f32 (`__m256`), 4 f64 (`__m256d`) or 16 ui16
    (`__m256i`) per register."""

    types: ClassVar = {"float": (8, "__m256"), "double": (4, "__m256d"),
                       "uint16_t": (16, "__m256i")}


class AVX512(_Vectors):
    """512-bit AVX-512 registers: 16 f32 (`__m512`) or 8 f64 (`__m512d`) per register."""

    types: ClassVar = {"float": (16, "__m512"), "double": (8, "__m512d")}


class XMM(_Vectors):
    """128-bit registers: 4 f32 (`__m128`) or 2 f64 (`__m128d`) per register (SSE and
    AVX; AVX-512VL's masked forms in avx512.py, AVX's in avx2_masked.py)."""

    types: ClassVar = {"float": (4, "__m128"), "double": (2, "__m128d")}


_K16 = "(uint16_t) ((1u << {N}) - 1u)"  # AVX-512 mask of lanes i < N
_K8 = "(uint8_t) ((1u << {N}) - 1u)"


