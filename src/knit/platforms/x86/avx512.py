"""AVX-512 instructions (f32 and f64)."""

from __future__ import annotations

from knit import DRAM, inexact, instr
from knit.libs.externs import relu, select
from knit.platforms.x86.memories import (  # the memories and C helpers
    _K8,
    _K16,
    _SIMDE_MASK_LOADU_PD,
    _SIMDE_MASK_LOADU_PS,
    _SIMDE_MASK_STOREU_PD,
    _SIMDE_MASK_STOREU_PS,
    AVX2,
    AVX512,
    XMM,
    _once,
)

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


# The load above, its register kept as a register: an empty asm statement says the
# register may have changed, so the compiler cannot fold the load into each instruction
# that reads it. gcc 12 folds a row of B into every row's multiply-add in kernels of
# few rows (the 4 x 32 kernel of a GEMM's last rows, B read in place: 8 loads of 64
# bytes a k, each across two cache lines, for 8 multiply-adds): 100 x 96 x 100 f32
# took 17.1 us against 18.1 with B's row loaded once (Zen 4, thread CPU time). (Under
# SIMDe, or a compiler without GNU asm, a plain load.)
_KEEP_PS, _KEEP_PD = (_once(f"KNIT_KEEP_{t.upper()}", f"""\
static inline {v} knit_keep_{t}({v} x) {{
#if defined(__GNUC__) && !defined(KNIT_USE_SIMDE)
    __asm__("" : "+v"(x));
#endif
    return x;
}}""") for t, v in (("ps", "__m512"), ("pd", "__m512d")))


@instr("{dst_data} = knit_keep_ps(_mm512_loadu_ps(&{src_data}));", c_global=_KEEP_PS)
def mm512_loadu_ps_kept(dst: [f32][16] @ AVX512, src: [f32][16] @ DRAM):
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


@instr("{dst_data} = _mm512_max_ps({src_data}, (__m512){{0}});")  # Exo's text
def mm512_relu_ps(dst: [f32][16] @ AVX512, src: [f32][16] @ AVX512):
    assert stride(dst, 0) == 1
    assert stride(src, 0) == 1
    for i in seq(0, 16):
        dst[i] = relu(src[i])


@inexact(2, "fused: rounds once where the body rounds twice")
@instr("{C_data} = _mm512_fmadd_ps({A_data}, {B_data}, {C_data});")
def mm512_fmadd_ps(A: [f32][16] @ AVX512, B: [f32][16] @ AVX512, C: [f32][16] @ AVX512):
    assert stride(A, 0) == 1
    assert stride(B, 0) == 1
    assert stride(C, 0) == 1
    for i in seq(0, 16):
        C[i] += A[i] * B[i]


# The lanes added into one scalar, the end of a dot product (knit.stdlib.gemm's GEMV
# by rows): the halves added in turn, as gcc's `_mm512_reduce_add_ps` does, written out
# because SIMDe 0.7 has no `_mm512_reduce_add_ps`/`_pd`
_REDUCE_ADD_PS = _once("KNIT_MM512_REDUCE_ADD_PS", """\
static inline float knit_mm512_reduce_add_ps(__m512 x) {
    __m256 h = _mm256_add_ps(_mm512_castps512_ps256(x),
                             _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(x), 1)));
    __m128 q = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
    q = _mm_add_ps(q, _mm_movehl_ps(q, q));
    return _mm_cvtss_f32(_mm_add_ss(q, _mm_shuffle_ps(q, q, 1)));
}""")


@inexact(16, "adds in a tree where the body adds in order")
@instr("*{result} += knit_mm512_reduce_add_ps({x_data});", c_global=_REDUCE_ADD_PS)
def mm512_reduce_add_ps(x: [f32][16] @ AVX512, result: f32):
    # the hardware adds in a tree: equal to this loop up to reassociation
    assert stride(x, 0) == 1
    for i in seq(0, 16):
        result += x[i]


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


@inexact(2, "fused: rounds once where the body rounds twice")
@instr("{C_data} = _mm512_mask_mov_ps({C_data}, " + _K16
       + ", _mm512_fmadd_ps({A_data}, {B_data}, {C_data}));")
def mm512_mask_fmadd_ps(N: size, A: [f32][16] @ AVX512, B: [f32][16] @ AVX512,
                        C: [f32][16] @ AVX512):
    assert N >= 1
    assert N <= 16
    assert stride(A, 0) == 1
    assert stride(B, 0) == 1
    assert stride(C, 0) == 1
    for i in seq(0, 16):
        if i < N:
            C[i] += A[i] * B[i]


@instr("{dst_data} = _mm512_mask_mov_ps({dst_data}, " + _K16 + ", _mm512_set1_ps({src_data}));")
def mm512_mask_set1_ps(N: size, dst: [f32][16] @ AVX512, src: [f32][1]):
    assert N >= 1
    assert N <= 16
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


# (as mm512_loadu_ps_kept)
@instr("{dst_data} = knit_keep_pd(_mm512_loadu_pd(&{src_data}));", c_global=_KEEP_PD)
def mm512_loadu_pd_kept(dst: [f64][8] @ AVX512, src: [f64][8] @ DRAM):
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


@inexact(2, "fused: rounds once where the body rounds twice")
@instr("{C_data} = _mm512_fmadd_pd({A_data}, {B_data}, {C_data});")
def mm512_fmadd_pd(A: [f64][8] @ AVX512, B: [f64][8] @ AVX512, C: [f64][8] @ AVX512):
    assert stride(A, 0) == 1
    assert stride(B, 0) == 1
    assert stride(C, 0) == 1
    for i in seq(0, 8):
        C[i] += A[i] * B[i]


_REDUCE_ADD_PD = _once("KNIT_MM512_REDUCE_ADD_PD", """\
static inline double knit_mm512_reduce_add_pd(__m512d x) {
    __m256d h = _mm256_add_pd(_mm512_castpd512_pd256(x), _mm512_extractf64x4_pd(x, 1));
    __m128d q = _mm_add_pd(_mm256_castpd256_pd128(h), _mm256_extractf128_pd(h, 1));
    return _mm_cvtsd_f64(_mm_add_sd(q, _mm_unpackhi_pd(q, q)));
}""")


@inexact(8, "adds in a tree where the body adds in order")
@instr("*{result} += knit_mm512_reduce_add_pd({x_data});", c_global=_REDUCE_ADD_PD)
def mm512_reduce_add_pd(x: [f64][8] @ AVX512, result: f64):
    # the hardware adds in a tree: equal to this loop up to reassociation
    assert stride(x, 0) == 1
    for i in seq(0, 8):
        result += x[i]


@inexact(2, "fused: rounds once where the body rounds twice")
@instr("{C_data} = _mm512_mask_mov_pd({C_data}, " + _K8
       + ", _mm512_fmadd_pd({A_data}, {B_data}, {C_data}));")
def mm512_mask_fmadd_pd(N: size, A: [f64][8] @ AVX512, B: [f64][8] @ AVX512,
                        C: [f64][8] @ AVX512):
    assert N >= 1
    assert N <= 8
    assert stride(A, 0) == 1
    assert stride(B, 0) == 1
    assert stride(C, 0) == 1
    for i in seq(0, 8):
        if i < N:
            C[i] += A[i] * B[i]


@instr("{dst_data} = _mm512_mask_mov_pd({dst_data}, " + _K8 + ", _mm512_set1_pd({src_data}));")
def mm512_mask_set1_pd(N: size, dst: [f64][8] @ AVX512, src: [f64][1]):
    assert N >= 1
    assert N <= 8
    assert stride(dst, 0) == 1
    for i in seq(0, 8):
        if i < N:
            dst[i] = src[0]


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


# ------------------------------------------------ AVX-512VL: masked 256-bit registers
# The masked forms on 256-bit registers (AVX-512VL; every AVX-512 CPU but Xeon Phi has
# it). A masked 512-bit multiply-add costs Zen 4 about 1.4 cycles, a masked 256-bit one
# 0.8 (a C loop of 8 rows, n = 4 lanes): the GEMM's last n <= 8 (f32) columns use these.


def _simde_masked256(intrinsic: str, code: str, bits: int = 256) -> str:
    # as memories._simde_masked, for SIMDe releases without the 256- (128-) bit masked forms
    pre = "_mm256_" if bits == 256 else "_mm_"
    op = intrinsic.removeprefix(pre)
    return (f"#if defined(KNIT_USE_SIMDE) && !defined({intrinsic})\n{code}\n"
            f"#define {intrinsic} knit{bits}_{op}\n#endif")


def _mask_load_store_c(t: str, c: str, lanes: int, bits: int = 256) -> tuple[str, str]:
    vec = {256: "__m256", 128: "__m128"}[bits] + ("" if c == "ps" else "d")
    pre = "_mm256_" if bits == 256 else "_mm_"
    load = _simde_masked256(f"{pre}mask_loadu_{c}", f"""\
static inline {vec} knit{bits}_mask_loadu_{c}({vec} src, uint8_t k, const {t} *p) {{
    {t} v[{lanes}];
    {pre}storeu_{c}(v, src);
    for (int i = 0; i < {lanes}; i++) if ((k >> i) & 1) v[i] = p[i];
    return {pre}loadu_{c}(v);
}}""", bits)
    store = _simde_masked256(f"{pre}mask_storeu_{c}", f"""\
static inline void knit{bits}_mask_storeu_{c}({t} *p, uint8_t k, {vec} a) {{
    {t} v[{lanes}];
    {pre}storeu_{c}(v, a);
    for (int i = 0; i < {lanes}; i++) if ((k >> i) & 1) p[i] = v[i];
}}""", bits)
    return load, store


_SIMDE_MASK256_PS = _mask_load_store_c("float", "ps", 8)
_SIMDE_MASK256_PD = _mask_load_store_c("double", "pd", 4)


@inexact(2, "fused: rounds once where the body rounds twice")
@instr("{C_data} = _mm256_mask_mov_ps({C_data}, " + _K8
       + ", _mm256_fmadd_ps({A_data}, {B_data}, {C_data}));")
def mm256_mask_fmadd_ps(N: size, A: [f32][8] @ AVX2, B: [f32][8] @ AVX2, C: [f32][8] @ AVX2):
    assert N >= 1
    assert N <= 8
    assert stride(A, 0) == 1
    assert stride(B, 0) == 1
    assert stride(C, 0) == 1
    for i in seq(0, 8):
        if i < N:
            C[i] += A[i] * B[i]


@instr("{dst_data} = _mm256_mask_mov_ps({dst_data}, " + _K8 + ", _mm256_set1_ps({src_data}));")
def mm256_mask_set1_ps(N: size, dst: [f32][8] @ AVX2, src: [f32][1]):
    assert N >= 1
    assert N <= 8
    assert stride(dst, 0) == 1
    for i in seq(0, 8):
        if i < N:
            dst[i] = src[0]


@instr("{dst_data} = _mm256_mask_loadu_ps({dst_data}, " + _K8 + ", &{src_data});",
       c_global=_SIMDE_MASK256_PS[0])
def mm256_maskz_loadu_ps(N: size, dst: [f32][8] @ AVX2, src: [f32][N] @ DRAM):
    # as mm512_maskz_loadu_ps: lanes >= N keep their value
    assert stride(src, 0) == 1
    assert stride(dst, 0) == 1
    assert N <= 8
    for i in seq(0, 8):
        if i < N:
            dst[i] = src[i]


@instr("_mm256_mask_storeu_ps(&{dst_data}, " + _K8 + ", {src_data});",
       c_global=_SIMDE_MASK256_PS[1])
def mm256_mask_storeu_ps(N: size, dst: [f32][N] @ DRAM, src: [f32][8] @ AVX2):
    assert stride(src, 0) == 1
    assert stride(dst, 0) == 1
    assert N <= 8
    for i in seq(0, 8):
        if i < N:
            dst[i] = src[i]


@inexact(2, "fused: rounds once where the body rounds twice")
@instr("{C_data} = _mm256_mask_mov_pd({C_data}, " + _K8
       + ", _mm256_fmadd_pd({A_data}, {B_data}, {C_data}));")
def mm256_mask_fmadd_pd(N: size, A: [f64][4] @ AVX2, B: [f64][4] @ AVX2, C: [f64][4] @ AVX2):
    assert N >= 1
    assert N <= 4
    assert stride(A, 0) == 1
    assert stride(B, 0) == 1
    assert stride(C, 0) == 1
    for i in seq(0, 4):
        if i < N:
            C[i] += A[i] * B[i]


@instr("{dst_data} = _mm256_mask_mov_pd({dst_data}, " + _K8 + ", _mm256_set1_pd({src_data}));")
def mm256_mask_set1_pd(N: size, dst: [f64][4] @ AVX2, src: [f64][1]):
    assert N >= 1
    assert N <= 4
    assert stride(dst, 0) == 1
    for i in seq(0, 4):
        if i < N:
            dst[i] = src[0]


@instr("{dst_data} = _mm256_mask_loadu_pd({dst_data}, " + _K8 + ", &{src_data});",
       c_global=_SIMDE_MASK256_PD[0])
def mm256_maskz_loadu_pd(N: size, dst: [f64][4] @ AVX2, src: [f64][N] @ DRAM):
    # as mm512_maskz_loadu_ps: lanes >= N keep their value
    assert stride(src, 0) == 1
    assert stride(dst, 0) == 1
    assert N <= 4
    for i in seq(0, 4):
        if i < N:
            dst[i] = src[i]


@instr("_mm256_mask_storeu_pd(&{dst_data}, " + _K8 + ", {src_data});",
       c_global=_SIMDE_MASK256_PD[1])
def mm256_mask_storeu_pd(N: size, dst: [f64][N] @ DRAM, src: [f64][4] @ AVX2):
    assert stride(src, 0) == 1
    assert stride(dst, 0) == 1
    assert N <= 4
    for i in seq(0, 4):
        if i < N:
            dst[i] = src[i]


# ---------------- 128-bit registers, whole (SSE, FMA) and masked (AVX-512VL)
# The GEMM's last columns after whole 512- and 256-bit vectors: 4 f32 (2 f64) of them
# are one whole 128-bit vector, an unmasked multiply-add (Zen 4: 0.5 cycles, against 0.8
# for a masked 256-bit one), and fewer are masked 128-bit ones.


_SIMDE_MASK128_PS = _mask_load_store_c("float", "ps", 4, 128)
_SIMDE_MASK128_PD = _mask_load_store_c("double", "pd", 2, 128)


@instr("{dst_data} = _mm_loadu_ps(&{src_data});")
def mm_loadu_ps(dst: [f32][4] @ XMM, src: [f32][4] @ DRAM):
    assert stride(src, 0) == 1
    assert stride(dst, 0) == 1
    for i in seq(0, 4):
        dst[i] = src[i]


@instr("_mm_storeu_ps(&{dst_data}, {src_data});")
def mm_storeu_ps(dst: [f32][4] @ DRAM, src: [f32][4] @ XMM):
    assert stride(dst, 0) == 1
    assert stride(src, 0) == 1
    for i in seq(0, 4):
        dst[i] = src[i]


@instr("{dst_data} = _mm_set1_ps({src_data});")
def mm_set1_ps(dst: [f32][4] @ XMM, src: [f32][1]):
    assert stride(dst, 0) == 1
    for i in seq(0, 4):
        dst[i] = src[0]


@inexact(2, "fused: rounds once where the body rounds twice")
@instr("{C_data} = _mm_fmadd_ps({A_data}, {B_data}, {C_data});")
def mm_fmadd_ps(A: [f32][4] @ XMM, B: [f32][4] @ XMM, C: [f32][4] @ XMM):
    assert stride(A, 0) == 1
    assert stride(B, 0) == 1
    assert stride(C, 0) == 1
    for i in seq(0, 4):
        C[i] += A[i] * B[i]


@inexact(2, "fused: rounds once where the body rounds twice")
@instr("{C_data} = _mm_mask_mov_ps({C_data}, " + _K8
       + ", _mm_fmadd_ps({A_data}, {B_data}, {C_data}));")
def mm_mask_fmadd_ps(N: size, A: [f32][4] @ XMM, B: [f32][4] @ XMM, C: [f32][4] @ XMM):
    assert N >= 1
    assert N <= 4
    assert stride(A, 0) == 1
    assert stride(B, 0) == 1
    assert stride(C, 0) == 1
    for i in seq(0, 4):
        if i < N:
            C[i] += A[i] * B[i]


@instr("{dst_data} = _mm_mask_mov_ps({dst_data}, " + _K8 + ", _mm_set1_ps({src_data}));")
def mm_mask_set1_ps(N: size, dst: [f32][4] @ XMM, src: [f32][1]):
    assert N >= 1
    assert N <= 4
    assert stride(dst, 0) == 1
    for i in seq(0, 4):
        if i < N:
            dst[i] = src[0]


@instr("{dst_data} = _mm_mask_loadu_ps({dst_data}, " + _K8 + ", &{src_data});",
       c_global=_SIMDE_MASK128_PS[0])
def mm_maskz_loadu_ps(N: size, dst: [f32][4] @ XMM, src: [f32][N] @ DRAM):
    # as mm512_maskz_loadu_ps: lanes >= N keep their value
    assert stride(src, 0) == 1
    assert stride(dst, 0) == 1
    assert N <= 4
    for i in seq(0, 4):
        if i < N:
            dst[i] = src[i]


@instr("_mm_mask_storeu_ps(&{dst_data}, " + _K8 + ", {src_data});",
       c_global=_SIMDE_MASK128_PS[1])
def mm_mask_storeu_ps(N: size, dst: [f32][N] @ DRAM, src: [f32][4] @ XMM):
    assert stride(src, 0) == 1
    assert stride(dst, 0) == 1
    assert N <= 4
    for i in seq(0, 4):
        if i < N:
            dst[i] = src[i]


@instr("{dst_data} = _mm_loadu_pd(&{src_data});")
def mm_loadu_pd(dst: [f64][2] @ XMM, src: [f64][2] @ DRAM):
    assert stride(src, 0) == 1
    assert stride(dst, 0) == 1
    for i in seq(0, 2):
        dst[i] = src[i]


@instr("_mm_storeu_pd(&{dst_data}, {src_data});")
def mm_storeu_pd(dst: [f64][2] @ DRAM, src: [f64][2] @ XMM):
    assert stride(dst, 0) == 1
    assert stride(src, 0) == 1
    for i in seq(0, 2):
        dst[i] = src[i]


@instr("{dst_data} = _mm_set1_pd({src_data});")
def mm_set1_pd(dst: [f64][2] @ XMM, src: [f64][1]):
    assert stride(dst, 0) == 1
    for i in seq(0, 2):
        dst[i] = src[0]


@inexact(2, "fused: rounds once where the body rounds twice")
@instr("{C_data} = _mm_fmadd_pd({A_data}, {B_data}, {C_data});")
def mm_fmadd_pd(A: [f64][2] @ XMM, B: [f64][2] @ XMM, C: [f64][2] @ XMM):
    assert stride(A, 0) == 1
    assert stride(B, 0) == 1
    assert stride(C, 0) == 1
    for i in seq(0, 2):
        C[i] += A[i] * B[i]


@inexact(2, "fused: rounds once where the body rounds twice")
@instr("{C_data} = _mm_mask_mov_pd({C_data}, " + _K8
       + ", _mm_fmadd_pd({A_data}, {B_data}, {C_data}));")
def mm_mask_fmadd_pd(N: size, A: [f64][2] @ XMM, B: [f64][2] @ XMM, C: [f64][2] @ XMM):
    assert N >= 1
    assert N <= 2
    assert stride(A, 0) == 1
    assert stride(B, 0) == 1
    assert stride(C, 0) == 1
    for i in seq(0, 2):
        if i < N:
            C[i] += A[i] * B[i]


@instr("{dst_data} = _mm_mask_mov_pd({dst_data}, " + _K8 + ", _mm_set1_pd({src_data}));")
def mm_mask_set1_pd(N: size, dst: [f64][2] @ XMM, src: [f64][1]):
    assert N >= 1
    assert N <= 2
    assert stride(dst, 0) == 1
    for i in seq(0, 2):
        if i < N:
            dst[i] = src[0]


@instr("{dst_data} = _mm_mask_loadu_pd({dst_data}, " + _K8 + ", &{src_data});",
       c_global=_SIMDE_MASK128_PD[0])
def mm_maskz_loadu_pd(N: size, dst: [f64][2] @ XMM, src: [f64][N] @ DRAM):
    # as mm512_maskz_loadu_ps: lanes >= N keep their value
    assert stride(src, 0) == 1
    assert stride(dst, 0) == 1
    assert N <= 2
    for i in seq(0, 2):
        if i < N:
            dst[i] = src[i]


@instr("_mm_mask_storeu_pd(&{dst_data}, " + _K8 + ", {src_data});",
       c_global=_SIMDE_MASK128_PD[1])
def mm_mask_storeu_pd(N: size, dst: [f64][N] @ DRAM, src: [f64][2] @ XMM):
    assert stride(src, 0) == 1
    assert stride(dst, 0) == 1
    assert N <= 2
    for i in seq(0, 2):
        if i < N:
            dst[i] = src[i]
