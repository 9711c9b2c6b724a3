"""The kernels whose generated C runs under AddressSanitizer and UBSan.

Each Kernel is a procedure and the argument values to call it with (one dict per call:
sizes, indices and bools; buffers are allocated and filled by the driver). Sizes are
chosen to leave tails (13 is not a multiple of 4 or 8) and to reach the edges of every
buffer. Plain object code covers the constructs of the language; the scheduled kernels
cover the code shapes the primitives produce (guards, cut tails, staged copies that
may leave the buffer, lifted and expanded allocations), where an off-by-one in a
rewrite or in the C backend would show up as an access outside a buffer.
"""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import dataclass, field
from pathlib import Path

from knit import DRAM, config, instr, proc
from knit.libs.externs import expf, fmaxf, relu, select, sigmoid, sin, sqrt
from knit.libs.memories import DRAM_ALIGNED32, DRAM_STACK, DRAM_STATIC
from knit.platforms.x86 import (
    AVX2,
    avx2_mask_loadu_ps,
    avx2_mask_storeu_ps,
    mm256_add_ps,
    mm256_loadu_ps,
    mm256_storeu_ps,
)
from knit.stdlib import scheduling as S

# plain-language kernels shared with the C backend's tests (tests/backend/programs.py)
_spec = importlib.util.spec_from_file_location(
    "backend_programs", Path(__file__).parent.parent / "backend" / "programs.py")
backend_programs = sys.modules["backend_programs"] = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(backend_programs)
transpose3 = backend_programs.tensor3
floor_divmod = backend_programs.divmod_
flags_and_indices = backend_programs.bools
axpy_win, scal = backend_programs.axpy_win, backend_programs.scal


@dataclass
class Kernel:
    name: str
    proc: object
    calls: list[dict] = field(default_factory=list)
    avx2: bool = False  # needs -march=native and a CPU with AVX2


# ---------------------------------------------------------------- loops and indexing


@proc
def matmul(N: size, M: size, K: size, A: f32[N, K], B: f32[K, M], C: f32[N, M]):
    for i in seq(0, N):
        for j in seq(0, M):
            for k in seq(0, K):
                C[i, j] += A[i, k] * B[k, j]





# ---------------------------------------------------------------- windows and calls



@proc
def window_rows(N: size, M: size, A: [f32][N, M], B: f32[N, M], c: f32):  # noqa: RUF016
    for i in seq(0, N):
        row = A[i, :]
        axpy_win(M, row, B[i, 0:M], c)
    w = B[0:N, 0:M]
    last = w[N - 1, :]
    for j in seq(0, M):
        last[j] += 1.0



@instr("knit_san_scale({n}, &{x_data}, {x}.strides[0], {s});",
       c_global="static void knit_san_scale(int_fast32_t n, float* p, int_fast32_t st, "
                "const float* s) { for (int_fast32_t i = 0; i < n; i++) p[i * st] *= *s; }")
def scale_instr(n: size, x: [f32][n] @ DRAM, s: f32 @ DRAM):
    for i in seq(0, n):
        x[i] = x[i] * s


@proc
def nested_calls(N: size, x: f32[N], y: f32[4, N], s: f32):
    assert N >= 4
    scal(N, x, s)
    for r in seq(0, 4):
        axpy_win(N, x[0:N], y[r, 0:N], x[r])
    axpy_win(N - 1, y[0, 0:N - 1], y[1, 1:N], s)
    scale_instr(4, y[0:4, N - 1], s)
    scal(N, x, y[3, N - 1])


# ---------------------------------------------------------------- allocations


@proc
def allocations(N: size, x: f32[N], out: f32[N]):
    a: f32[N] @ DRAM
    b: f32[N] @ DRAM_STACK
    c: f32[8] @ DRAM_STATIC
    d: f32[N, 2] @ DRAM_ALIGNED32
    t: f32 @ DRAM_STACK
    for i in seq(0, N):
        a[i] = x[i]
        b[i] = a[i] + 1.0
        d[i, 1] = b[i]
    for i in seq(0, 8):
        c[i] = 2.0
    t = c[7]
    for i in seq(0, N):
        out[i] = d[i, 1] * t


@proc
def loop_allocations(N: size, x: f64[N], out: f64[N]):
    for i in seq(0, N):
        t: f64[2] @ DRAM
        t[0] = x[i]
        if i < 2:
            u: f64 @ DRAM_STACK
            u = 3.0
            t[1] = u
        else:
            t[1] = 1.0
        out[i] = t[0] * t[1]


# ---------------------------------------------------------------- configs, externs, par


@config
class SanCfg:
    scale: f32
    off: index
    flag: bool


@proc
def config_window(N: size, x: f32[N], y: f32[N]):
    SanCfg.scale = 2.0
    SanCfg.off = 1
    SanCfg.flag = True
    w = x[SanCfg.off:N]
    SanCfg.off = 0
    for i in seq(0, N - 1):
        if SanCfg.flag:
            y[i] = w[i] * SanCfg.scale


@proc
def extern_calls(N: size, x: f32[N], y: f64[N], o: f32[N], p: f64[N]):
    for i in seq(0, N):
        o[i] = select(x[i], 0.0, relu(x[i]), sqrt(x[i] * x[i])) + sin(x[i]) + expf(x[i]) \
            + fmaxf(x[i], 0.5) + sigmoid(x[i])
        p[i] = sqrt(y[i] * y[i]) + expf(-y[i])


@proc
def par_rows(N: size, M: size, x: f32[N, M], y: f32[N, M]):
    for i in par(0, N):
        t: f32[4] @ DRAM_STACK
        for j in seq(0, M):
            t[j % 4] = x[i, j]
            y[i, j] = t[j % 4] * 3.0


# ---------------------------------------------------------------- data types


@proc
def integer_types(N: size, d: i8[N], e: ui8[N], f: ui16[N], g: i32[N], o8: i8[N],
                  ou8: ui8[N], ou16: ui16[N], oi: i32[N]):
    for i in seq(0, N):
        o8[i] = d[i] + d[i]
        o8[i] += d[i]
        ou8[i] = e[i] * 2.0
        ou16[i] = f[i] + f[i]
        oi[i] = g[i] * 3.0 + 1


@proc
def mixed_precision(N: size, a: f64[N], b: f32[N], h: f16[N], o32: f32[N], o64: f64[N]):
    for i in seq(0, N):
        o32[i] = a[i] * b[i] + h[i]
        o64[i] = b[i] * 2.0 + a[i]


# ---------------------------------------------------------------- scheduled kernels


@proc
def saxpy(N: size, a: f32, x: f32[N], y: f32[N]):
    for i in seq(0, N):
        y[i] += a * x[i]


@proc
def blur(N: size, x: f32[N + 2], y: f32[N]):
    assert N >= 3
    for i in seq(0, N):
        y[i] = x[i] + x[i + 1] + x[i + 2]


@proc
def blur4(N: size, x: f32[N + 2], y: f32[N]):
    assert N >= 4
    for i in seq(0, N):
        y[i] = x[i] + x[i + 1] + x[i + 2]


@proc
def row_sums(N: size, M: size, A: f32[N, M], s: f32[N]):
    for i in seq(0, N):
        for j in seq(0, M):
            s[i] += A[i, j]


def _tails():
    guard = S.divide_loop(saxpy, "i", 4, ["io", "ii"], tail="guard")
    cut = S.rename(S.divide_loop(saxpy, "i", 8, ["io", "ii"], tail="cut"), "saxpy_cut")
    cag = S.rename(S.divide_loop(saxpy, "i", 8, ["io", "ii"], tail="cut_and_guard"),
                   "saxpy_cut_and_guard")
    return S.rename(guard, "saxpy_guard"), cut, cag


def _staged_blur():
    p = S.divide_loop(blur, "i", 4, ["io", "ii"], tail="cut")
    # the window x[4 * io:4 * io + 6] of each chunk, copied into a local buffer
    p = S.stage_mem(p, "for ii in _: _", "x[4 * io:4 * io + 6]", "xs")
    return S.rename(S.simplify(p), "blur_staged")


def _staged_row_sums():
    p = S.divide_loop(row_sums, "j", 8, ["jo", "ji"], tail="guard")
    # a window that may run past the end of the row: its copies are guarded
    p = S.stage_mem(p, "for ji in _: _", "A[i, 8 * jo:8 * jo + 8]", "As")
    return S.rename(S.simplify(p), "row_sums_staged")


def _reshaped_matmul():
    p = S.reorder_loops(matmul, "j k")
    p = S.divide_loop(p, "j", 4, ["jo", "ji"], tail="cut_and_guard")
    p = S.stage_mem(p, "for k in _: _", "C[i, 0:M]", "Crow")
    p = S.simplify(p)
    return S.rename(p, "matmul_scheduled")


def _lifted():
    p = S.bind_expr(saxpy, "a * x[i]", "ax")
    p = S.expand_dim(p, "ax", "N", "i")
    p = S.lift_alloc(p, "ax")
    p = S.fission(p, p.find("ax[_] = _").after())
    return S.rename(S.simplify(p), "saxpy_lifted")


def _cut_and_shifted():
    p = S.cut_loop(blur, "i", 3)
    p = S.shift_loop(p, "i #1", 0)
    return S.rename(S.simplify(p), "blur_cut_shifted")


def _recomputed():
    # overlapping chunks: the last one is longer and covers the N % 4 tail
    p = S.divide_with_recompute(blur4, "i", "N / 4", 4, ["io", "ii"])
    return S.rename(S.simplify(p), "blur_recomputed")


def _parallel_chunks():
    p = S.divide_loop(saxpy, "i", 4, ["io", "ii"], tail="cut")
    return S.rename(S.parallelize_loop(p, "io"), "saxpy_par_chunks")


def _merged_and_unrolled():
    p = S.mult_loops(transpose3, "i k", "ik")
    q = S.unroll_loop(transpose3, "k")
    return S.rename(S.simplify(p), "transpose3_merged"), S.rename(q, "transpose3_unrolled")


# ---------------------------------------------------------------- AVX2


@proc
def vadd(N: size, x: f32[N], y: f32[N], z: f32[N]):
    assert N >= 1
    xr: f32[8] @ AVX2
    yr: f32[8] @ AVX2
    zr: f32[8] @ AVX2
    for io in seq(0, N / 8):
        mm256_loadu_ps(xr, x[8 * io:8 * io + 8])
        mm256_loadu_ps(yr, y[8 * io:8 * io + 8])
        mm256_add_ps(zr, xr, yr)
        mm256_storeu_ps(z[8 * io:8 * io + 8], zr)
    if N % 8 > 0:
        # the tail: masked loads and stores of the last N % 8 elements
        avx2_mask_loadu_ps(N % 8, xr, x[8 * (N / 8):N])
        avx2_mask_loadu_ps(N % 8, yr, y[8 * (N / 8):N])
        mm256_add_ps(zr, xr, yr)
        avx2_mask_storeu_ps(N % 8, z[8 * (N / 8):N], zr)


SIZES_1D = [{"N": 1}, {"N": 13}, {"N": 32}]


def kernels() -> list[Kernel]:
    """Every test kernel with its calls (built on first use: scheduling takes time)."""
    guard, cut, cag = _tails()
    merged, unrolled = _merged_and_unrolled()
    return [
        Kernel("matmul", matmul, [{"N": 5, "M": 7, "K": 3}, {"N": 1, "M": 1, "K": 1}]),
        Kernel("transpose3", transpose3, [{"N": 1}, {"N": 6}]),
        Kernel("floor_divmod", floor_divmod, [{"N": 8, "k": 0}, {"N": 13, "k": 5}]),
        Kernel("flags_and_indices", flags_and_indices,
               [{"N": 13, "b": True, "k": 4}, {"N": 2, "b": False, "k": 0}]),
        Kernel("window_rows", window_rows, [{"N": 3, "M": 5}, {"N": 1, "M": 1}]),
        Kernel("nested_calls", nested_calls, [{"N": 4}, {"N": 9}]),
        Kernel("allocations", allocations, SIZES_1D),
        Kernel("loop_allocations", loop_allocations, SIZES_1D),
        Kernel("config_window", config_window, SIZES_1D),
        Kernel("extern_calls", extern_calls, SIZES_1D),
        Kernel("par_rows", par_rows, [{"N": 7, "M": 5}, {"N": 1, "M": 9}]),
        Kernel("integer_types", integer_types, SIZES_1D),
        Kernel("mixed_precision", mixed_precision, SIZES_1D),
        Kernel("saxpy_guard", guard, SIZES_1D),
        Kernel("saxpy_cut", cut, SIZES_1D),
        Kernel("saxpy_cut_and_guard", cag, SIZES_1D),
        Kernel("blur_staged", _staged_blur(), [{"N": 4}, {"N": 13}]),
        Kernel("row_sums_staged", _staged_row_sums(), [{"N": 2, "M": 13}, {"N": 3, "M": 8}]),
        Kernel("matmul_scheduled", _reshaped_matmul(),
               [{"N": 3, "M": 13, "K": 2}, {"N": 2, "M": 4, "K": 5}]),
        Kernel("saxpy_lifted", _lifted(), SIZES_1D),
        Kernel("blur_cut_shifted", _cut_and_shifted(), [{"N": 3}, {"N": 13}]),
        Kernel("blur_recomputed", _recomputed(), [{"N": 4}, {"N": 7}, {"N": 15}]),
        Kernel("saxpy_par_chunks", _parallel_chunks(), SIZES_1D),
        Kernel("transpose3_merged", merged, [{"N": 1}, {"N": 5}]),
        Kernel("transpose3_unrolled", unrolled, [{"N": 1}, {"N": 5}]),
        Kernel("vadd_avx2_masked_tail", vadd, SIZES_1D + [{"N": 8}], avx2=True),
    ]
