"""Programs for the differential test: each runs interpreted and compiled (gcc and clang,
default flags) on awkward inputs, and every result must agree bit for bit.

`CORPUS` maps a name to (procedure, make_args, signed_zeros): make_args(rng) gives the
arguments; signed_zeros=False where the meaning leaves the sign of a zero open
(docs/semantics.md#externs, fmaxf of zeros of opposite signs).
"""

from __future__ import annotations

import numpy as np

from knit import DRAM, config, proc
from knit.libs.externs import expf, fmaxf, relu, select, sigmoid, sin, sqrt
from knit.stdlib.scheduling import divide_loop, rename, reorder_loops, unroll_loop

_F_EDGE = [np.nan, -np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, -1.0]
_I_EDGE = {"i8": [-128, 127, 0, -1, 1], "ui8": [0, 255, 1, 128], "ui16": [0, 65535, 1],
           "i32": [-(2**31), 2**31 - 1, 0, -1, 1, 2**30]}


def awkward(rng, shape, dtype) -> np.ndarray:
    """Random values of dtype, a third of them awkward: NaN, ±0, ±inf, subnormals, the
    largest finite values; integer extremes for integer types."""
    dt = np.dtype(dtype)
    n = int(np.prod(shape))
    if dt.kind == "f":
        info = np.finfo(dt)
        edge = _F_EDGE + [info.smallest_subnormal, -info.smallest_subnormal,
                          info.tiny / 2, info.max, -info.max, info.eps]
        x = (rng.standard_normal(n) * 4).astype(dt)
    else:
        info = np.iinfo(dt)
        edge = _I_EDGE[{"int8": "i8", "uint8": "ui8", "uint16": "ui16", "int32": "i32"}[dt.name]]
        x = rng.integers(info.min, int(info.max) + 1, n, dtype=np.int64).astype(dt)
    pick = rng.random(n) < 1 / 3
    x[pick] = np.array(edge, dtype=np.float64 if dt.kind == "f" else np.int64)[
        rng.integers(0, len(edge), pick.sum())].astype(dt)
    return x.reshape(shape)


# ---------------------------------------------------------------- issue 8 class 7


@proc
def distributed(N: size, M: size, A: i32[N + 4, M + 4] @ DRAM, B: i32[N + 4, M + 4] @ DRAM):
    assert N >= 1
    assert M >= 1
    for i in seq(0, N):
        for j in seq(0, M):
            t: i32 @ DRAM
            t = A[i + 2, j + 1]
            A[i, j + 1] += A[i, j + 1] - B[i + 2, j + 2]
            B[i + 1, j] += B[i + 1, j + 1]
            B[i + 2, j + 1] += t


# gcc 12.2 -O3 miscompiled exactly this (tree loop distribution): 13 elements of A differed
distributed_cut = rename(divide_loop(distributed, "for j in _:_", 4, ["jo", "ji"], tail="cut"),
                         "distributed_cut")


def _distributed_args(rng):
    N, M = 13, 9
    return [N, M, rng.integers(-100, 100, (N + 4, M + 4)).astype(np.int32),
            rng.integers(-100, 100, (N + 4, M + 4)).astype(np.int32)]


# gcc 12.2's loop vectorizer (at -O3, and at -O2 for constant trip counts) runs this
# loop two iterations at a time though the second's B[2 * io + 2] is the first's
# B[2 * io + 2] updated: the fuzzer's case 3943 (session 12), a divide_loop by 2 of
# `helper(B[i + 2]); B[i] += B[i]`, the helper inlined
@proc
def vectorized_dependence(M: size, B: f32[2 * M + 2] @ DRAM):
    for io in seq(0, M):
        B[2 * io + 2] = 0.5 * B[2 * io + 2] + 1.0
        B[2 * io] += B[2 * io]
        B[2 * io + 3] = 0.5 * B[2 * io + 3] + 1.0
        B[2 * io + 1] += B[2 * io + 1]


def _vectorized_args(rng):
    M = 8
    return [M, rng.standard_normal(2 * M + 2).astype(np.float32)]


# ---------------------------------------------------------------- float arithmetic


@proc
def gemm(N: size, M: size, K: size, A: f32[N, K], B: f32[K, M], C: f32[N, M]):
    for i in seq(0, N):
        for j in seq(0, M):
            for k in seq(0, K):
                C[i, j] += A[i, k] * B[k, j]


gemm_sched = rename(unroll_loop(divide_loop(reorder_loops(gemm, "j k"), "for j in _:_", 4,
                                            ["jo", "ji"], tail="cut"), "ji"), "gemm_sched")


def _gemm_args(rng):
    N, M, K = 5, 11, 7
    return [N, M, K, awkward(rng, (N, K), np.float32), awkward(rng, (K, M), np.float32),
            awkward(rng, (N, M), np.float32)]


@proc
def mixed(N: size, h: f16[N], x: f32[N], d: f64[N], k: i32[N], o16: f16[N], o32: f32[N],
          o64: f64[N], oi: i32[N]):
    for i in seq(0, N):
        o16[i] = h[i] * h[i] + h[i] * 0.1 - 3.0
        o32[i] = x[i] * d[i] + x[i] * 0.1 + h[i]
        o64[i] = (x[i] + h[i]) * (d[i] - 1.0) / 3.0 + k[i]
        o32[i] += d[i] * 1e-9
        o16[i] += x[i]
        oi[i] = k[i] * 3 + k[i] / 7 - (k[i] + 2147483647)
        oi[i] += k[i] * k[i]


def _mixed_args(rng):
    N = 64
    return [N, awkward(rng, N, np.float16), awkward(rng, N, np.float32),
            awkward(rng, N, np.float64), awkward(rng, N, np.int32), np.zeros(N, np.float16),
            np.zeros(N, np.float32), np.zeros(N, np.float64), np.zeros(N, np.int32)]


@proc
def mixed_no_f16(N: size, x: f32[N], d: f64[N], k: i32[N], c: i8[N], u: ui8[N], w: ui16[N],
                 o32: f32[N], o64: f64[N], oi: i32[N], o8: i8[N]):
    for i in seq(0, N):
        o32[i] = x[i] * d[i] + x[i] * 0.1 + 16777216.0 + 1.0 + 1.0
        o64[i] = -x[i] + (0.0 - d[i]) * (2.0 / 3.0) + k[i]
        o32[i] += d[i] * 1e-9 + c[i]
        oi[i] = c[i] + u[i] * w[i] - k[i] * 7 + 3.0 / 2.0 * 2.0
        o8[i] = c[i] * u[i] + w[i]
        o8[i] += c[i]


def _mixed_no_f16_args(rng):
    N = 64
    return [N, awkward(rng, N, np.float32), awkward(rng, N, np.float64),
            awkward(rng, N, np.int32), awkward(rng, N, np.int8), awkward(rng, N, np.uint8),
            awkward(rng, N, np.uint16), np.zeros(N, np.float32), np.zeros(N, np.float64),
            np.zeros(N, np.int32), np.zeros(N, np.int8)]


@proc
def fused_shape(N: size, a: f64[N], b: f64[N], c: f64[N], o: f64[N], s: f64[1]):
    s[0] = 0.0
    for i in seq(0, N):
        o[i] = a[i] * b[i] + c[i] - a[i] * c[i]
        s[0] += a[i] * b[i]


def _fused_args(rng):
    N = 64
    return [N, *(awkward(rng, N, np.float64) for _ in range(3)), np.zeros(N), np.zeros(1)]


# ---------------------------------------------------------------- externs


@proc
def libm(N: size, x: f32[N], y: f32[N], d: f64[N], o: f32[N], p: f64[N], q: f32[N]):
    for i in seq(0, N):
        o[i] = sqrt(x[i]) + relu(y[i]) * select(x[i], y[i], x[i], -y[i])
        p[i] = sqrt(d[i]) - fmaxf(d[i], x[i]) + sqrt(2.0)
        q[i] = fmaxf(x[i], y[i])


def _libm_args(rng):
    N = 64
    return [N, awkward(rng, N, np.float32), awkward(rng, N, np.float32),
            awkward(rng, N, np.float64), np.zeros(N, np.float32), np.zeros(N),
            np.zeros(N, np.float32)]


@proc
def transcendental(N: size, d: f64[N], o: f64[N]):
    for i in seq(0, N):
        o[i] = expf(d[i]) + sigmoid(d[i]) * sin(d[i])


def _transcendental_args(rng):
    N = 64
    return [N, awkward(rng, N, np.float64), np.zeros(N)]


# ---------------------------------------------------------------- configs and windows


@config
class DCfg:
    n: index
    s: f32


@proc
def config_reads(x: f32[16], y: f32[16]):
    DCfg.n = 3
    DCfg.s = 0.1
    w = x[DCfg.n:DCfg.n + 8]
    t: f32[4] @ DRAM
    for i in seq(0, DCfg.n + 1):
        DCfg.n = 7
        if i < 4:
            t[i] = w[i] * DCfg.s
    DCfg.s = 3.0
    for i in seq(0, 8):
        y[i] = w[i] + DCfg.s
    for i in seq(0, 4):
        y[i + 8] = t[i]


def _config_args(rng):
    return [awkward(rng, 16, np.float32), np.zeros(16, np.float32)]


@proc
def scale_row(M: size, r: [f32][M], s: f64[1], acc: f16[1]):
    for j in seq(0, M):
        r[j] = r[j] * s[0] + 0.5
        acc[0] += r[j]


@proc
def calls(N: size, A: f32[N, 8], s: f64[1], acc: f16[1]):
    for i in seq(0, N):
        scale_row(4, A[i, i % 4:i % 4 + 4], s, acc)


def _calls_args(rng):
    N = 6
    return [N, awkward(rng, (N, 8), np.float32), awkward(rng, 1, np.float64),
            np.zeros(1, np.float16)]


CORPUS = {
    "distributed": (distributed, _distributed_args, True),
    "distributed_cut": (distributed_cut, _distributed_args, True),
    "vectorized_dependence": (vectorized_dependence, _vectorized_args, True),
    "gemm": (gemm, _gemm_args, True),
    "gemm_sched": (gemm_sched, _gemm_args, True),
    "mixed": (mixed, _mixed_args, True),
    "mixed_no_f16": (mixed_no_f16, _mixed_no_f16_args, True),
    "fused_shape": (fused_shape, _fused_args, True),
    "libm": (libm, _libm_args, False),
    "config_reads": (config_reads, _config_args, True),
    "calls": (calls, _calls_args, True),
}
# libm's exp and sin may differ from the interpreter's in the last place
# (docs/semantics.md#externs): compared with a tolerance, edge cases exactly
INEXACT = {"transcendental": (transcendental, _transcendental_args)}
