"""x86 vector hardware as a knit library: the AVX2 and AVX-512 register memories and
the instructions that move data in and out of them and compute on them.

Written with knit's public API only, as a user would write it. Each instruction is an
`@instr`: its C template is what the compiler emits, its body the exact meaning, as
plain loops (so `replace` can find it, and `interpret` can run it). Names and argument
orders are Exo's where Exo has the instruction (`mm256_fmadd_ps(dst, src1, src2)` but
`mm512_fmadd_ps(A, B, C)`, both meaning `dst += src1 * src2`).

Where a body updates only lanes `i < N` (the prefix and masked instructions), the C
merges into the register's old value, so it does exactly what the body says; that is
why register allocations start zeroed (see `_Vectors.alloc`).

Compiling with `-DKNIT_USE_SIMDE` includes SIMDe (Debian package `libsimde-dev`)
instead of `<immintrin.h>`, so the same C runs on machines without AVX-512 (or
without x86). The masked instructions bring small C helpers that also work around
SIMDe 0.7's gaps (no AVX-512 masked loads and stores; AVX2 masked loads that read
every lane).

Exact up to rounding: the FMAs round once where the body rounds twice, and
`avx2_assoc_reduce_add_ps/pd` add in a tree where the body adds in order.
"""

from __future__ import annotations

from typing import ClassVar

from knit import DRAM, Memory, instr
from knit.libs.externs import relu, select
from knit.libs.memories import MemGenError

__all__ = ["AVX2", "AVX512", "prefetch"]  # and every instruction, added at the end

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


# --------------------------------------------------------------------------- prefetch


@instr("_mm_prefetch((const char *) &{A_data}, {locality_hint});", c_global=_INCLUDES)
def prefetch(A: [R][1] @ DRAM, locality_hint: index):
    # changes no memory, so its meaning is to do nothing. (Exo types the hint `size`,
    # but knit's sizes are >= 1, and hint 0 is _MM_HINT_NTA.)
    assert 0 <= locality_hint
    assert locality_hint < 8
    pass  # noqa: PIE790 -- the body, spelled out


# --------------------------------------------------------------------------- AVX2 f32


@instr("{dst_data} = _mm256_setzero_ps();")
def mm256_setzero_ps(dst: [f32][8] @ AVX2):
    assert stride(dst, 0) == 1
    for i in seq(0, 8):
        dst[i] = 0.0


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


@instr("{dst_data} = _mm256_fmadd_ps({src1_data}, {src2_data}, {dst_data});")
def mm256_fmadd_ps(dst: [f32][8] @ AVX2, src1: [f32][8] @ AVX2, src2: [f32][8] @ AVX2):
    assert stride(src1, 0) == 1
    assert stride(src2, 0) == 1
    assert stride(dst, 0) == 1
    for i in seq(0, 8):
        dst[i] += src1[i] * src2[i]


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


@instr("{dst_data} = _mm256_sub_ps(_mm256_setzero_ps(), {src_data});")
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


@instr("{dst_data} = _mm256_fmadd_pd({src1_data}, {src2_data}, {dst_data});")
def mm256_fmadd_pd(dst: [f64][4] @ AVX2, src1: [f64][4] @ AVX2, src2: [f64][4] @ AVX2):
    assert stride(src1, 0) == 1
    assert stride(src2, 0) == 1
    assert stride(dst, 0) == 1
    for i in seq(0, 4):
        dst[i] += src1[i] * src2[i]


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


@instr("{dst_data} = _mm256_sub_pd(_mm256_setzero_pd(), {src_data});")
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


# --------------------------------------------------------------------------- AVX-512 f32


@instr("{dst_data} = _mm512_setzero_ps();")
def mm512_setzero_ps(dst: [f32][16] @ AVX512):
    assert stride(dst, 0) == 1
    for i in seq(0, 16):
        dst[i] = 0.0


@instr("{dst_data} = _mm512_loadu_ps(&{src_data});")
def mm512_loadu_ps(dst: [f32][16] @ AVX512, src: [f32][16] @ DRAM):
    assert stride(src, 0) == 1
    assert stride(dst, 0) == 1
    for i in seq(0, 16):
        dst[i] = src[i]


@instr("_mm512_storeu_ps(&{dst_data}, {src_data});")
def mm512_storeu_ps(dst: [f32][16] @ DRAM, src: [f32][16] @ AVX512):
    assert stride(dst, 0) == 1
    assert stride(src, 0) == 1
    for i in seq(0, 16):
        dst[i] = src[i]


@instr("{dst_data} = _mm512_set1_ps({src_data});")
def mm512_set1_ps(dst: [f32][16] @ AVX512, src: [f32][1]):
    assert stride(dst, 0) == 1
    for i in seq(0, 16):
        dst[i] = src[0]


@instr("{dst_data} = _mm512_set1_ps(*{val_data});")
def mm512_broadcast_ss_scalar(dst: [f32][16] @ AVX512, val: f32):
    assert stride(dst, 0) == 1
    for i in seq(0, 16):
        dst[i] = val


@instr("{out_data} = _mm512_add_ps({x_data}, {y_data});")
def mm512_add_ps(out: [f32][16] @ AVX512, x: [f32][16] @ AVX512, y: [f32][16] @ AVX512):
    assert stride(out, 0) == 1
    assert stride(x, 0) == 1
    assert stride(y, 0) == 1
    for i in seq(0, 16):
        out[i] = x[i] + y[i]


@instr("{out_data} = _mm512_sub_ps({x_data}, {y_data});")
def mm512_sub_ps(out: [f32][16] @ AVX512, x: [f32][16] @ AVX512, y: [f32][16] @ AVX512):
    assert stride(out, 0) == 1
    assert stride(x, 0) == 1
    assert stride(y, 0) == 1
    for i in seq(0, 16):
        out[i] = x[i] - y[i]


@instr("{out_data} = _mm512_mul_ps({x_data}, {y_data});")
def mm512_mul_ps(out: [f32][16] @ AVX512, x: [f32][16] @ AVX512, y: [f32][16] @ AVX512):
    assert stride(out, 0) == 1
    assert stride(x, 0) == 1
    assert stride(y, 0) == 1
    for i in seq(0, 16):
        out[i] = x[i] * y[i]


@instr("{out_data} = _mm512_max_ps({x_data}, {y_data});")
def mm512_max_ps(out: [f32][16] @ AVX512, x: [f32][16] @ AVX512, y: [f32][16] @ AVX512):
    assert stride(out, 0) == 1
    assert stride(x, 0) == 1
    assert stride(y, 0) == 1
    for i in seq(0, 16):
        out[i] = select(y[i], x[i], x[i], y[i])


@instr("{dst_data} = _mm512_max_ps({src_data}, _mm512_setzero_ps());")
def mm512_relu_ps(dst: [f32][16] @ AVX512, src: [f32][16] @ AVX512):
    assert stride(dst, 0) == 1
    assert stride(src, 0) == 1
    for i in seq(0, 16):
        dst[i] = relu(src[i])


@instr("{C_data} = _mm512_fmadd_ps({A_data}, {B_data}, {C_data});")
def mm512_fmadd_ps(A: [f32][16] @ AVX512, B: [f32][16] @ AVX512, C: [f32][16] @ AVX512):
    assert stride(A, 0) == 1
    assert stride(B, 0) == 1
    assert stride(C, 0) == 1
    for i in seq(0, 16):
        C[i] += A[i] * B[i]


@instr("{out_data} = _mm512_mask_add_ps({out_data}, " + _K16 + ", {x_data}, {y_data});")
def mm512_mask_add_ps(N: size, out: [f32][16] @ AVX512, x: [f32][16] @ AVX512,
                      y: [f32][16] @ AVX512):
    assert N <= 16  # not in Exo; without it the C's mask would shift by N >= 32
    assert stride(out, 0) == 1
    assert stride(x, 0) == 1
    assert stride(y, 0) == 1
    for i in seq(0, 16):
        if i < N:
            out[i] = x[i] + y[i]


@instr("{C_data} = _mm512_mask_mov_ps({C_data}, " + _K16
       + ", _mm512_fmadd_ps({A_data}, {B_data}, {C_data}));")
def mm512_mask_fmadd_ps(N: size, A: [f32][16] @ AVX512, B: [f32][16] @ AVX512,
                        C: [f32][16] @ AVX512):
    assert N >= 1
    assert N < 16
    assert stride(A, 0) == 1
    assert stride(B, 0) == 1
    assert stride(C, 0) == 1
    for i in seq(0, 16):
        if i < N:
            C[i] += A[i] * B[i]


@instr("{dst_data} = _mm512_mask_mov_ps({dst_data}, " + _K16 + ", _mm512_set1_ps({src_data}));")
def mm512_mask_set1_ps(N: size, dst: [f32][16] @ AVX512, src: [f32][1]):
    assert N >= 1
    assert N < 16
    assert stride(dst, 0) == 1
    for i in seq(0, 16):
        if i < N:
            dst[i] = src[0]


@instr("{dst_data} = _mm512_mask_loadu_ps({dst_data}, " + _K16 + ", &{src_data});",
       c_global=_SIMDE_MASK_LOADU_PS)
def mm512_maskz_loadu_ps(N: size, dst: [f32][16] @ AVX512, src: [f32][N] @ DRAM):
    # Exo's name and meaning: lanes >= N keep their value (merge, not zero, masking)
    assert stride(src, 0) == 1
    assert stride(dst, 0) == 1
    assert N <= 16
    for i in seq(0, 16):
        if i < N:
            dst[i] = src[i]


@instr("_mm512_mask_storeu_ps(&{dst_data}, " + _K16 + ", {src_data});",
       c_global=_SIMDE_MASK_STOREU_PS)
def mm512_mask_storeu_ps(N: size, dst: [f32][N] @ DRAM, src: [f32][16] @ AVX512):
    assert stride(src, 0) == 1
    assert stride(dst, 0) == 1
    assert N <= 16
    for i in seq(0, 16):
        if i < N:
            dst[i] = src[i]


# --------------------------------------------------------------------------- AVX-512 f64


@instr("{dst_data} = _mm512_setzero_pd();")
def mm512_setzero_pd(dst: [f64][8] @ AVX512):
    assert stride(dst, 0) == 1
    for i in seq(0, 8):
        dst[i] = 0.0


@instr("{dst_data} = _mm512_loadu_pd(&{src_data});")
def mm512_loadu_pd(dst: [f64][8] @ AVX512, src: [f64][8] @ DRAM):
    assert stride(src, 0) == 1
    assert stride(dst, 0) == 1
    for i in seq(0, 8):
        dst[i] = src[i]


@instr("_mm512_storeu_pd(&{dst_data}, {src_data});")
def mm512_storeu_pd(dst: [f64][8] @ DRAM, src: [f64][8] @ AVX512):
    assert stride(dst, 0) == 1
    assert stride(src, 0) == 1
    for i in seq(0, 8):
        dst[i] = src[i]


@instr("{dst_data} = _mm512_set1_pd({src_data});")
def mm512_set1_pd(dst: [f64][8] @ AVX512, src: [f64][1]):
    assert stride(dst, 0) == 1
    for i in seq(0, 8):
        dst[i] = src[0]


@instr("{dst_data} = _mm512_set1_pd(*{val_data});")
def mm512_broadcast_sd_scalar(dst: [f64][8] @ AVX512, val: f64):
    assert stride(dst, 0) == 1
    for i in seq(0, 8):
        dst[i] = val


@instr("{out_data} = _mm512_add_pd({x_data}, {y_data});")
def mm512_add_pd(out: [f64][8] @ AVX512, x: [f64][8] @ AVX512, y: [f64][8] @ AVX512):
    assert stride(out, 0) == 1
    assert stride(x, 0) == 1
    assert stride(y, 0) == 1
    for i in seq(0, 8):
        out[i] = x[i] + y[i]


@instr("{out_data} = _mm512_sub_pd({x_data}, {y_data});")
def mm512_sub_pd(out: [f64][8] @ AVX512, x: [f64][8] @ AVX512, y: [f64][8] @ AVX512):
    assert stride(out, 0) == 1
    assert stride(x, 0) == 1
    assert stride(y, 0) == 1
    for i in seq(0, 8):
        out[i] = x[i] - y[i]


@instr("{out_data} = _mm512_mul_pd({x_data}, {y_data});")
def mm512_mul_pd(out: [f64][8] @ AVX512, x: [f64][8] @ AVX512, y: [f64][8] @ AVX512):
    assert stride(out, 0) == 1
    assert stride(x, 0) == 1
    assert stride(y, 0) == 1
    for i in seq(0, 8):
        out[i] = x[i] * y[i]


@instr("{C_data} = _mm512_fmadd_pd({A_data}, {B_data}, {C_data});")
def mm512_fmadd_pd(A: [f64][8] @ AVX512, B: [f64][8] @ AVX512, C: [f64][8] @ AVX512):
    assert stride(A, 0) == 1
    assert stride(B, 0) == 1
    assert stride(C, 0) == 1
    for i in seq(0, 8):
        C[i] += A[i] * B[i]


@instr("{dst_data} = _mm512_mask_loadu_pd({dst_data}, " + _K8 + ", &{src_data});",
       c_global=_SIMDE_MASK_LOADU_PD)
def mm512_maskz_loadu_pd(N: size, dst: [f64][8] @ AVX512, src: [f64][N] @ DRAM):
    # as mm512_maskz_loadu_ps: lanes >= N keep their value
    assert stride(src, 0) == 1
    assert stride(dst, 0) == 1
    assert N <= 8
    for i in seq(0, 8):
        if i < N:
            dst[i] = src[i]


@instr("_mm512_mask_storeu_pd(&{dst_data}, " + _K8 + ", {src_data});",
       c_global=_SIMDE_MASK_STOREU_PD)
def mm512_mask_storeu_pd(N: size, dst: [f64][N] @ DRAM, src: [f64][8] @ AVX512):
    assert stride(src, 0) == 1
    assert stride(dst, 0) == 1
    assert N <= 8
    for i in seq(0, 8):
        if i < N:
            dst[i] = src[i]


__all__ += [n for n in sorted(dir()) if n.startswith(("mm256_", "mm512_", "avx2_"))]
