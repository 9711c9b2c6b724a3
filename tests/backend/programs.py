"""Object code exercising every construct the C backend emits (used by test_c_backend)."""

from __future__ import annotations

from knit import DRAM, config, instr, proc
from knit.libs.externs import expf, fmaxf, relu, select, sigmoid, sin, sqrt
from knit.libs.memories import DRAM_ALIGNED32, DRAM_ALIGNED64, DRAM_STACK, DRAM_STATIC

NEG_INF = float("-inf")


@config
class Cfg:
    scale: f32
    off: index
    flag: bool


# ---------------------------------------------------------------- loops and tensors


@proc
def gemm(N: size, M: size, K: size, A: f32[N, K] @ DRAM, B: f32[K, M] @ DRAM,
         C: f32[N, M] @ DRAM):
    for i in seq(0, N):
        for j in seq(0, M):
            for k in seq(0, K):
                C[i, j] += A[i, k] * B[k, j]


@proc
def tensor3(N: size, x: f64[N, 3, 4], y: f64[4, N]):
    for i in seq(0, N):
        for k in seq(0, 4):
            y[k, i] = x[i, 2, k] - x[i, 0, 3 - k]


# ---------------------------------------------------------------- windows


@proc
def axpy_win(n: size, x: [f32][n], y: [f32][n], a: f32):
    for i in seq(0, n):
        y[i] += a * x[i]


@proc
def windows(N: size, M: size, A: [f32][N, M], B: f32[N, M], c: f32):
    for i in seq(0, N):
        row = A[i, :]
        brow = B[i, 0:M]
        axpy_win(M, row, brow, c)
        axpy_win(M, A[i, 0:M], B[i, :], A[i, 0])
    w = B[0:N, 0:M]
    w2 = w[1:N, 0]
    for j in seq(0, N - 1):
        w2[j] += 1.0


@proc
def window_strides(N: size, A: [f32][N, 4], out: f32[N]):
    assert stride(A, 1) == 1 and N >= 2
    for i in seq(0, N):
        out[i] = A[i, 3] + A[i, 0]
    w = A[1:N, 1:3]
    out[0] = w[0, 1]


@proc
def stride_expr(N: size, A: [f64][N, 2], out: f64[N]):
    for i in seq(0, N):
        if stride(A, 0) == 2:
            out[i] = A[i, 1]
        else:
            out[i] = -1.0


# ---------------------------------------------------------------- index arithmetic


@proc
def divmod_(N: size, k: index, x: f32[N], y: f32[N]):
    assert N >= 8
    for i in seq(0, N):
        y[i] = x[(i - 5) % 8] + x[(i + k) % 8]
    for i in seq(0, 8):
        if (i - 4) / 2 < 0:
            y[i] = 0.0
    for i in seq(0, N / 2):
        y[2 * i] += x[(2 * i + 1) / 2]


@proc
def lower_bounds(N: size, x: f32[N + 8], y: f32[N + 8]):
    # C's `/` where a lower bound proves the dividend non-negative, the helper elsewhere
    for i in seq(0, ((N + 7) / 8 - 1 + 3) / 4):
        y[i] = x[i]
    for i in seq(1, N):
        y[(i - 1) / 2] += x[(i - 1) % 2]
        y[i] += x[(i - 2) / 2 + 1]


@proc
def preconditions(N: size, k: index, x: f32[N]):
    assert N >= 4 and k >= 0
    assert k % 2 == 0
    assert (k - 8) / 4 < N
    assert 80 == 82 - 3 + 1
    for i in seq(0, N - 2):
        x[i] = x[i + 2] * 0.5


@proc
def bools(N: size, b: bool, k: index, x: f32[N]):
    for i in seq(0, N):
        if (b and i < k) or (i == 3) == b:
            x[i] = -x[i]
        else:
            x[i] = x[i] - -1.0


# ---------------------------------------------------------------- allocations


@proc
def allocs(N: size, x: f32[N], out: f32[N]):
    a: f32[N] @ DRAM
    b: f32[N] @ DRAM_STACK
    c: f32[8] @ DRAM_STATIC
    d: f32[N, 2] @ DRAM_ALIGNED64
    e: f32[3] @ DRAM_ALIGNED32
    t: f32
    unused: f32[4] @ DRAM_STACK
    dead: f32
    dead = 1.0
    for i in seq(0, N):
        a[i] = x[i]
        b[i] = a[i] + 1.0
        d[i, 1] = b[i]
    for i in seq(0, 8):
        c[i] = 2.0
    e[2] = 0.5
    t = c[3] + e[2]
    for i in seq(0, N):
        out[i] = d[i, 1] * t


@proc
def alias_after_last_use(N: size, x: f32[N], out: f32[N]):
    a: f32[N] @ DRAM  # last read through the window w: freed after that loop
    for i in seq(0, N):
        a[i] = x[i] * 2.0
    w = a[0:N]
    b: f32[N] @ DRAM  # last used in the first loop below
    for i in seq(0, N):
        b[i] = w[i] + 1.0
        out[i] = b[i]
    for i in seq(0, N):
        out[i] += w[i]


@proc
def nested_allocs(N: size, x: f64[N], out: f64[N]):
    for i in seq(0, N):
        t: f64[N + 1] @ DRAM  # a variable size: on the heap (constant small ones are not)
        t[0] = x[i]
        if i < 2:
            u: f64 @ DRAM
            u = 3.0
            t[1] = u
        else:
            t[1] = 1.0
        out[i] = t[0] * t[1]


# ---------------------------------------------------------------- data types


@proc
def mixed(N: size, a: f64[N], b: f32[N], o32: f32[N], o64: f64[N]):
    for i in seq(0, N):
        o32[i] = a[i] * b[i] + 0.5
        o64[i] = b[i] * 2.0 + a[i]


@proc
def ints(N: size, d: i8[N], e: ui8[N], f: ui16[N], g: i32[N], o8: i8[N], ou8: ui8[N],
         ou16: ui16[N], oi: i32[N]):
    for i in seq(0, N):
        o8[i] = d[i] + d[i]
        o8[i] += d[i]
        ou8[i] = e[i] * 2.0
        ou16[i] = f[i] + f[i]
        oi[i] = g[i] * 3.0 + 1


@proc
def halves(N: size, c: f16[N], o16: f16[N], o32: f32[N]):
    for i in seq(0, N):
        o16[i] = c[i] + c[i] * 0.25
        o32[i] = c[i]


# ---------------------------------------------------------------- externs and configs


@proc
def externs(N: size, x: f32[N], y: f64[N], o: f32[N], p: f64[N]):
    for i in seq(0, N):
        o[i] = select(x[i], 0.0, relu(x[i]), sqrt(x[i] * x[i])) + sin(x[i]) + expf(x[i]) \
            + fmaxf(x[i], 0.5) + sigmoid(x[i])
        p[i] = sqrt(y[i] * y[i]) + expf(-y[i])


@proc
def infinities(N: size, x: f64[N], o: f32[N]):
    for i in seq(0, N):
        o[i] = select(x[i], 0.0, NEG_INF, x[i])


@proc
def configs(N: size, x: f32[N], y: f32[N]):
    Cfg.scale = 2.0
    Cfg.off = 1
    Cfg.flag = True
    w = x[Cfg.off:N]
    Cfg.off = 0
    for i in seq(0, N - 1):
        if Cfg.flag:
            y[i] = w[i] * Cfg.scale


@proc
def read_config(s: f32):
    s = Cfg.scale + 1.0


# ---------------------------------------------------------------- names and scopes


@proc
def names(N: size, int: f32[N], free: f32[N]):
    for i in seq(0, N):
        double: f32
        double = int[i]
        for i in seq(0, 1):
            free[i] = double
    for i in seq(0, N):
        free[i] += int[i]


@proc
def par_loop(N: size, x: f32[N], y: f32[N]):
    for i in par(0, N):
        t: f32[4] @ DRAM_STACK
        t[0] = x[i]
        y[i] = t[0] * 3.0


@proc
def unused_args(N: size, M: size, x: f32[N], s: f32):
    pass


# ---------------------------------------------------------------- calls and instrs


@proc
def scal(n: size, x: f32[n], a: f32):
    for i in seq(0, n):
        x[i] = x[i] * a


@proc
def calls(N: size, x: f32[N], y: f32[4, N], s: f32):
    assert N >= 4
    scal(N, x, s)
    for r in seq(0, 4):
        axpy_win(N, x[0:N], y[r, 0:N], x[r])
    axpy_win(N - 1, y[0, 0:N - 1], y[1, 1:N], s)
    scal(N, x, y[2, 0])


@instr("{dst_data} = {src_data} * 2.0f;")
def dbl(dst: [f32][1] @ DRAM, src: [f32][1] @ DRAM):
    dst[0] = src[0] * 2.0


@instr("knit_test_scale({n}, &{x_data}, {x}.strides[0], {s});",
       c_global="static void knit_test_scale(int_fast32_t n, float* p, int_fast32_t st, "
                "const float* s) { for (int_fast32_t i = 0; i < n; i++) p[i * st] *= *s; }")
def scale_instr(n: size, x: [f32][n] @ DRAM, s: f32 @ DRAM):
    for i in seq(0, n):
        x[i] = x[i] * s


@instr("""
{{
    /* {x_int} is the buffer */
    {y_data} = *{s} + {x}[{k}];
}}
""")
def copy_plus(k: index, x: f32[4] @ DRAM, y: [f32][1] @ DRAM, s: f32 @ DRAM):
    assert k >= 0 and k < 4
    y[0] = s + x[k]


@proc
def instrs(N: size, A: f32[N, 4], B: [f32][N, 4], c: f32):
    assert N >= 2
    dbl(B[0, 0:1], A[0, 0:1])
    scale_instr(4, B[N - 1, 0:4], c)
    t: f32[4] @ DRAM
    for i in seq(0, 4):
        t[i] = A[1, i]
    copy_plus(2, t, B[1, 3:4], c)
