"""The AVX2 and AVX-512 register memories, and the C helpers the masked instructions
need (see the package docstring)."""

from __future__ import annotations

from typing import ClassVar

from knit import Memory
from knit.libs.memories import MemGenError

# C type name -> knit name, for messages
_KNIT_TYPES = {"float": "f32", "double": "f64", "_Float16": "f16", "int8_t": "i8",
               "uint8_t": "ui8", "uint16_t": "ui16", "int32_t": "i32"}

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


# AVX2 masked stores take a mask of lanes i < n.
_PREFIX_EPI32 = _once("KNIT_MM256_PREFIX_EPI32", """\
static inline __m256i knit_mm256_prefix_epi32(int n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}""")
_PREFIX_EPI64 = _once("KNIT_MM256_PREFIX_EPI64", """\
static inline __m256i knit_mm256_prefix_epi64(int n) {
    return _mm256_cmpgt_epi64(_mm256_set1_epi64x(n), _mm256_setr_epi64x(0, 1, 2, 3));
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


class _Vectors(Memory):
    """Vector registers. A buffer's last dimension is one register (exactly `lanes`
    values); the dimensions before it make a C array of registers.

    `t: f32[8] @ AVX2` is `__m256 t = {0};` and `t: f32[2, 3, 8] @ AVX2` is
    `__m256 t[2][3] = {0};`. Whether such an array stays in registers is up to the C
    compiler. Measured on a 6x16 SGEMM kernel (GCC 12): with constant indices (the
    schedule unrolled the loops over registers, as Exo's schedules do) GCC keeps it all
    in registers; while C still loops over the index, GCC -O3 keeps the FMAs in
    registers but stores every accumulator back to the stack each iteration, and -O2
    leaves the array in memory (Clang -O3 keeps it in registers either way). A C
    backend could emit one plain local per register instead; this hook stays with the
    simple, always-correct array.
    """

    types: ClassVar[dict[str, tuple[int, str]]] = {}  # C type -> (lanes, C vector type)

    @classmethod
    def global_(cls) -> str:
        return _INCLUDES

    @classmethod
    def alloc(cls, new_name, prim_type, shape, srcinfo):
        lanes, vtype = cls._vector_type(new_name, prim_type)
        if not shape:
            raise MemGenError(f"'{new_name}' is a scalar, but {cls.name()} holds whole "
                              f"vectors; allocate {_KNIT_TYPES[prim_type]}[{lanes}] instead")
        if shape[-1] != str(lanes):
            raise MemGenError(f"the last dimension of '{new_name}' is {shape[-1]}, but one "
                              f"{cls.name()} register holds exactly {lanes} "
                              f"{_KNIT_TYPES[prim_type]} values; make it {lanes} "
                              "(e.g. with divide_dim)")
        for extent in shape[:-1]:
            if not extent.isdigit():
                raise MemGenError(f"'{new_name}' has the extent '{extent}', but registers "
                                  "are allocated in fixed numbers; use constant extents")
        # zeroed so that instructions merging into old lanes never read an uninitialized
        # variable; GCC -O3 drops the zeroing when a write comes first (same code, measured)
        dims = "".join(f"[{e}]" for e in shape[:-1])
        return f"{vtype} {new_name}{dims} = {{0}};"

    @classmethod
    def _vector_type(cls, new_name, prim_type) -> tuple[int, str]:
        if prim_type not in cls.types:
            kinds = " or ".join(_KNIT_TYPES[t] for t in cls.types)
            raise MemGenError(f"'{new_name}' holds {_KNIT_TYPES.get(prim_type, prim_type)} "
                              f"data, but {cls.name()} registers hold {kinds} values")
        return cls.types[prim_type]

    @classmethod
    def free(cls, new_name, prim_type, shape, srcinfo):
        return ""

    @classmethod
    def window(cls, basetyp, baseptr, indices, strides, srcinfo):
        """The register holding the window's first element: `t` or `t[i][j]`."""
        if strides[-1] != "1":
            raise MemGenError(f"the lanes of {cls.name()} register '{baseptr}' must be "
                              f"contiguous, but have stride {strides[-1]}")
        if indices[-1] != "0":
            raise MemGenError(f"a window into {cls.name()} register '{baseptr}' must start "
                              f"at lane 0, but starts at lane {indices[-1]}; instructions "
                              "take whole registers")
        return baseptr + "".join(f"[{i}]" for i in indices[:-1])

    @classmethod
    def can_read(cls) -> bool:
        return False  # only instructions touch registers

    @classmethod
    def write(cls, s, lhs, rhs):
        raise MemGenError(f"{cls.name()} registers are written by instructions only")

    @classmethod
    def reduce(cls, s, lhs, rhs):
        raise MemGenError(f"{cls.name()} registers are written by instructions only")


class AVX2(_Vectors):
    """256-bit AVX2 registers: 8 f32 (`__m256`) or 4 f64 (`__m256d`) per register."""

    types: ClassVar = {"float": (8, "__m256"), "double": (4, "__m256d")}


class AVX512(_Vectors):
    """512-bit AVX-512 registers: 16 f32 (`__m512`) or 8 f64 (`__m512d`) per register."""

    types: ClassVar = {"float": (16, "__m512"), "double": (8, "__m512d")}


_K16 = "(uint16_t) ((1u << {N}) - 1u)"  # AVX-512 mask of lanes i < N
_K8 = "(uint8_t) ((1u << {N}) - 1u)"


