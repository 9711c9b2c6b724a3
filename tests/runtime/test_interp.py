"""The reference interpreter: every construct, against NumPy on random inputs."""

from __future__ import annotations

import numpy as np
import pytest

from knit import DRAM, config, instr, proc
from knit.errors import ArgumentError, InternalError
from knit.ir import nodes as N, types as T
from knit.libs.externs import expf, fmaxf, relu, select, sigmoid, sin, sqrt
from knit.runtime.interp import config_value, interpret, reset_configs

rng = np.random.default_rng(0)


def rand(*shape, dtype=np.float32):
    return rng.standard_normal(shape).astype(dtype)


# ---------------------------------------------------------------- loops, if, assign, reduce


@proc
def gemm(N: size, M: size, K: size, A: f32[N, K] @ DRAM, B: f32[K, M] @ DRAM,
         C: f32[N, M] @ DRAM):
    for i in seq(0, N):
        for j in seq(0, M):
            for k in seq(0, K):
                C[i, j] += A[i, k] * B[k, j]


def test_gemm_matches_numpy():
    A, B, C = rand(5, 7), rand(7, 3), rand(5, 3)
    expect = C + A @ B
    gemm.interpret(A, B, C)
    np.testing.assert_allclose(C, expect, rtol=1e-5, atol=1e-5)


@proc
def parity(N: size, x: f32[N], y: f32[N]):
    for i in par(0, N):
        if i % 2 == 0:
            y[i] = x[i] * 2.0
        else:
            y[i] = -x[i]


def test_par_loop_and_if_else():
    x, y = rand(9), np.zeros(9, np.float32)
    parity.interpret(x, y)
    expect = np.where(np.arange(9) % 2 == 0, x * np.float32(2), -x)
    np.testing.assert_array_equal(y, expect)


@proc
def dot(N: size, x: f32[N], y: f32[N], s: f32):
    s = 0.0
    for i in seq(0, N):
        s += x[i] * y[i]


def test_scalar_argument_is_written_back():
    x, y = rand(16), rand(16)
    s = np.array(123.0, np.float32)
    dot.interpret(x, y, s)
    expect = np.float32(0)
    for a, b in zip(x, y):
        expect = np.float32(expect + a * b)
    assert s[()] == expect  # accumulated in f32, left to right, as C does


@proc
def shifted(x: f32[8], y: f32[8]):
    # floor semantics for index / and %: (i - 3) % 4 is never negative
    for i in seq(0, 8):
        y[(i - 3) % 4] += x[i]
        y[4 + (i - 5) / 2] += 1.0


def test_index_arithmetic_uses_floor_division_and_modulo():
    x, y = rand(8), np.zeros(8, np.float32)
    shifted.interpret(x, y)
    expect = np.zeros(8, np.float32)
    for i in range(8):
        expect[(i - 3) % 4] += x[i]
        expect[4 + (i - 5) // 2] += 1
    np.testing.assert_array_equal(y, expect)


# ---------------------------------------------------------------- allocations


@proc
def prefix_sums(N: size, x: f32[N], y: f32[N]):
    acc: f32 @ DRAM
    acc = 0.0
    tmp: f32[N] @ DRAM
    for i in seq(0, N):
        acc += x[i]
        tmp[i] = acc
    for i in seq(0, N):
        y[i] = tmp[N - 1 - i]


def test_allocations():
    x, y = rand(10), np.zeros(10, np.float32)
    prefix_sums.interpret(x, y)
    np.testing.assert_allclose(y, np.cumsum(x)[::-1], rtol=1e-5, atol=1e-6)


@proc
def read_uninit(N: size, y: f32[N], z: i8[N]):
    t: f32[N] @ DRAM
    u: i8[N] @ DRAM
    for i in seq(0, N):
        y[i] = t[i]
        z[i] = u[i]


def test_uninitialised_memory_reads_as_poison():
    y, z = np.zeros(3, np.float32), np.zeros(3, np.int8)
    read_uninit.interpret(y, z)
    assert np.isnan(y).all()
    assert (z == 127).all()


# ---------------------------------------------------------------- windows and calls


@proc
def scale_row(M: size, row: [f32][M], a: f32):
    for j in seq(0, M):
        row[j] = row[j] * a


@proc
def scale_rows(N: size, M: size, A: f32[N, M], s: f32[N]):
    for i in seq(0, N):
        scale_row(M, A[i, 0:M], s[i])


def test_call_with_point_window_size_and_scalar():
    A, s = rand(4, 6), rand(4)
    expect = A * s[:, None]
    scale_rows.interpret(A, s)
    np.testing.assert_array_equal(A, expect)


@proc
def column_window(N: size, A: f32[N, 4], out: f32[N]):
    w = A[0:N, 2]
    v = w[1:N]
    for i in seq(0, N):
        out[i] = w[i]
    for i in seq(0, N - 1):
        v[i] = 0.0


def test_window_statements_are_views():
    A, out = rand(5, 4), np.zeros(5, np.float32)
    before = A.copy()
    column_window.interpret(A, out)
    np.testing.assert_array_equal(out, before[:, 2])
    expect = before.copy()
    expect[1:, 2] = 0
    np.testing.assert_array_equal(A, expect)  # writes through the window of a window


@proc
def set_elem(x: f32, v: f32):
    x = v


@proc
def swap_scalars(a: f32[2], tmp: f32[1]):
    set_elem(tmp[0], a[0])
    set_elem(a[0], a[1])
    set_elem(a[1], tmp[0])


def test_real_scalar_parameters_are_views_of_elements():
    a, tmp = np.array([1.0, 2.0], np.float32), np.zeros(1, np.float32)
    swap_scalars.interpret(a, tmp)
    assert a.tolist() == [2.0, 1.0] and tmp[0] == 1.0


@instr("{dst_data} = 2 * {src_data};")
def double1(dst: [R][1] @ DRAM, src: [R][1] @ DRAM):
    dst[0] = src[0] * 2.0


@proc
def double_all_f32(N: size, x: f32[N], y: f32[N]):
    for i in seq(0, N):
        double1(y[i:i + 1], x[i:i + 1])


@proc
def double_all_f64(N: size, x: f64[N], y: f64[N]):
    for i in seq(0, N):
        double1(y[i:i + 1], x[i:i + 1])


def test_instr_runs_its_body_at_each_precision():
    x32, y32 = rand(6), np.zeros(6, np.float32)
    double_all_f32.interpret(x32, y32)
    np.testing.assert_array_equal(y32, x32 * np.float32(2))
    x64, y64 = rand(6, dtype=np.float64), np.zeros(6)
    double_all_f64.interpret(x64, y64)
    np.testing.assert_array_equal(y64, x64 * 2)


@proc
def fill_dense(N: size, x: f32[N]):
    for i in seq(0, N):
        x[i] = 1.0


@proc
def fill_row(N: size, row: [f32][N]):
    for i in seq(0, N):
        row[i] = 3.0 + row[i]


@proc
def fill_rows(N: size, y: f32[2, N]):
    for r in seq(0, 2):
        fill_row(N, y[r, 0:N])


def test_call_with_dense_argument_and_window_rows():
    x = np.zeros(4, np.float32)
    fill_dense.interpret(x)
    assert (x == 1).all()
    y = rand(2, 5)
    expect = y + np.float32(3)
    fill_rows.interpret(y)
    np.testing.assert_array_equal(y, expect)


# ---------------------------------------------------------------- strides


@proc
def probe_stride(s: stride, y: [f32][1]):
    if s == 3:
        y[0] = 30.0
    else:
        y[0] = -1.0


@proc
def stride_probe(N: size, x: [f32][N], y: f32[2]):
    assert stride(x, 0) >= 1
    if stride(x, 0) == 1:
        y[0] = 1.0
    else:
        y[0] = 2.0
    probe_stride(stride(x, 0), y[1:2])


def test_stride_expressions_count_elements():
    y = np.zeros(2, np.float32)
    stride_probe.interpret(np.zeros(4, np.float32), y)
    assert y.tolist() == [1.0, -1.0]
    buf = np.zeros(12, np.float32)
    stride_probe.interpret(buf[::3], y)
    assert y.tolist() == [2.0, 30.0]


# ---------------------------------------------------------------- configs


@config
class Settings:
    scale: f32
    count: index
    on: bool


@proc
def set_scale(v: f32):
    Settings.scale = v
    Settings.count = 3
    Settings.on = True


@proc
def use_scale(N: size, x: f32[N]):
    if Settings.count > 0:  # a loop range must be non-negative (semantics.md#loop-range)
        for i in seq(0, Settings.count):
            if i < N:
                x[i] = x[i] * Settings.scale


@proc
def set_and_use(N: size, x: f32[N]):
    Settings.scale = 0.5
    Settings.count = N
    use_scale(N, x)


def test_configs_default_to_zero_and_persist_across_calls():
    reset_configs()
    assert config_value(Settings, "scale") == 0 and config_value(Settings, "count") == 0
    assert config_value(Settings, "on") is False
    set_scale.interpret(np.array(4.0, np.float32))
    assert config_value(Settings, "scale") == 4.0
    assert config_value(Settings, "scale").dtype == np.float32
    x = rand(5)
    expect = x.copy()
    expect[:3] *= np.float32(4)
    use_scale.interpret(x)  # a later call sees the values the earlier one wrote
    np.testing.assert_array_equal(x, expect)
    set_and_use.interpret(x)
    np.testing.assert_array_equal(x, expect * np.float32(0.5))
    assert config_value(Settings, "count") == 5
    reset_configs()


# ---------------------------------------------------------------- externs


@proc
def externs(N: size, x: f32[N], y: f32[N], out: f32[7, N]):
    for i in seq(0, N):
        out[0, i] = select(x[i], y[i], 1.0, -1.0)
        out[1, i] = relu(x[i])
        out[2, i] = sqrt(x[i] * x[i])
        out[3, i] = sin(x[i])
        out[4, i] = expf(x[i])
        out[5, i] = fmaxf(x[i], y[i])
        out[6, i] = sigmoid(x[i])


def test_externs():
    x, y = rand(8), rand(8)
    out = np.zeros((7, 8), np.float32)
    externs.interpret(x, y, out)
    np.testing.assert_array_equal(out[0], np.where(x < y, 1, -1))
    np.testing.assert_array_equal(out[1], np.maximum(x, 0))
    np.testing.assert_allclose(out[2], np.abs(x), rtol=1e-6)
    np.testing.assert_allclose(out[3], np.sin(x), rtol=1e-6)
    np.testing.assert_allclose(out[4], np.exp(x), rtol=1e-6)
    np.testing.assert_array_equal(out[5], np.maximum(x, y))
    np.testing.assert_allclose(out[6], 1 / (1 + np.exp(-x)), rtol=1e-6)


# ---------------------------------------------------------------- arithmetic like C


@proc
def int_ops(N: size, a: i8[N], b: i8[N], q: i8[N], s: i8[N], u: ui8[N], w: ui16[N]):
    for i in seq(0, N):
        q[i] = a[i] / b[i]
        s[i] = a[i] + b[i]
        u[i] = a[i] * 3.0
        w[i] = a[i] - 1000.0


def c_div(a, b):
    q = abs(a) // abs(b)
    return q if (a < 0) == (b < 0) else -q


def test_integer_data_promotes_truncates_and_wraps():
    a = np.array([100, -7, 7, -128, 127], np.int8)
    b = np.array([100, 2, -2, 3, 127], np.int8)
    q, s = np.zeros(5, np.int8), np.zeros(5, np.int8)
    u, w = np.zeros(5, np.uint8), np.zeros(5, np.uint16)
    int_ops.interpret(a, b, q, s, u, w)
    ai, bi = a.astype(int), b.astype(int)
    assert q.tolist() == [c_div(x, y) for x, y in zip(ai, bi)]  # -7 / 2 == -3, as in C
    assert s.tolist() == [(x + y + 128) % 256 - 128 for x, y in zip(ai, bi)]
    assert u.tolist() == [(3 * x) % 256 for x in ai]
    assert w.tolist() == [(x - 1000) % 65536 for x in ai]


@proc
def i32_mul(N: size, a: i32[N], b: i32[N]):
    for i in seq(0, N):
        b[i] = a[i] * a[i]


def test_i32_arithmetic_wraps_at_32_bits():
    a = np.array([3, 65536, 2**31 - 1, -46341], np.int32)
    b = np.zeros(4, np.int32)
    i32_mul.interpret(a, b)
    expect = [((int(x) * int(x) + 2**31) % 2**32) - 2**31 for x in a]
    assert b.tolist() == expect


def test_integer_division_by_zero_is_an_argument_error():
    a, b = np.ones(2, np.int8), np.array([1, 0], np.int8)
    outs = [np.zeros(2, t) for t in (np.int8, np.int8, np.uint8, np.uint16)]
    with pytest.raises(ArgumentError, match="integer division by zero"):
        int_ops.interpret(a, b, *outs)


@proc
def fdiv(N: size, a: f32[N], b: f32[N], c: f32[N]):
    for i in seq(0, N):
        c[i] = a[i] / b[i]


def test_float_division_by_zero_follows_ieee():
    a = np.array([1, -1, 0], np.float32)
    c = np.zeros(3, np.float32)
    fdiv.interpret(a, np.zeros(3, np.float32), c)
    assert c[0] == np.inf and c[1] == -np.inf and np.isnan(c[2])


@proc
def half(N: size, x: f16[N], y: f16[N]):
    for i in seq(0, N):
        y[i] = x[i] * x[i] + x[i] / 3.0


def test_f16_computes_in_half_precision():
    x, y = rand(32, dtype=np.float16), np.zeros(32, np.float16)
    half.interpret(x, y)
    expect = x * x + x / np.float16(3)  # rounded to f16 after each operation
    np.testing.assert_array_equal(y, expect)


@proc
def by_tenth(N: size, x: f32[N], y: f32[N], z: f32[N]):
    for i in seq(0, N):
        y[i] = x[i] * 0.1
        z[i] = 0.1 * x[i]


def test_literal_adopts_the_precision_of_the_other_operand():
    x, y, z = rand(2000), np.zeros(2000, np.float32), np.zeros(2000, np.float32)
    by_tenth.interpret(x, y, z)
    in_f32 = x * np.float32(0.1)
    in_f64 = (x.astype(np.float64) * 0.1).astype(np.float32)
    assert (in_f32 != in_f64).any()  # the two rules differ on these inputs
    np.testing.assert_array_equal(y, in_f32)
    np.testing.assert_array_equal(z, in_f32)


@proc
def mixed(N: size, x: f32[N], d: f64[N], y: f32[N], z: f32[N], r: f64[N]):
    for i in seq(0, N):
        y[i] = x[i] * d[i]
        z[i] = d[i] * x[i]
        r[i] = sqrt(x[i])  # sqrtf: computed in f32, then widened


def test_mixed_precision_promotes_like_c():
    x, d = np.abs(rand(2000)), rand(2000, dtype=np.float64)
    y, z, r = np.zeros(2000, np.float32), np.zeros(2000, np.float32), np.zeros(2000)
    mixed.interpret(x, d, y, z, r)
    in_f64 = (x.astype(np.float64) * d).astype(np.float32)
    assert (in_f64 != x * d.astype(np.float32)).any()
    np.testing.assert_array_equal(y, in_f64)
    np.testing.assert_array_equal(z, in_f64)
    np.testing.assert_array_equal(r, np.sqrt(x).astype(np.float64))
    assert (r != np.sqrt(x.astype(np.float64))).any()


# ---------------------------------------------------------------- internal checks


def _with_loop_bound(p: N.Proc, hi: N.Expr) -> N.Proc:
    loop = p.body[0]
    return p.with_(body=(loop.with_(hi=hi),) + p.body[1:])


@proc
def copy(N: size, x: f32[N], y: f32[N]):
    for i in seq(0, N):
        y[i] = x[i]


def test_out_of_bounds_index_is_an_internal_error():
    ir = copy._loopir_proc
    too_far = _with_loop_bound(ir, N.BinOp("+", ir.body[0].hi, N.const(1), T.INDEX))
    x, y = rand(4), np.zeros(4, np.float32)
    with pytest.raises(InternalError, match="index 4 is out of bounds for dimension 0"):
        interpret(too_far, (x, y), {})


def test_negative_index_does_not_wrap_around():
    ir = copy._loopir_proc
    loop = ir.body[0]
    from_minus_one = ir.with_(body=(loop.with_(lo=N.const(-1)),))
    x, y = rand(4), np.zeros(4, np.float32)
    with pytest.raises(InternalError, match="index -1 is out of bounds"):
        interpret(from_minus_one, (x, y), {})


def test_out_of_bounds_window_is_an_internal_error():
    ir = double_all_f32._loopir_proc
    wide = _with_loop_bound(ir, N.BinOp("+", ir.body[0].hi, N.const(2), T.INDEX))
    # y[4:5] starts at the end of y: its view is empty (a call's window may reach past
    # its buffer where no access goes), and the callee's access of it is the error
    with pytest.raises(InternalError, match="index 0 is out of bounds for dimension 0 of "
                       "'dst' \\(extent 0\\)"):
        interpret(wide, (rand(4), np.zeros(4, np.float32)), {})
    wider = _with_loop_bound(ir, N.BinOp("+", ir.body[0].hi, N.const(2), T.INDEX))
    wider = wider.with_(body=(wider.body[0].with_(lo=N.const(5)),))
    with pytest.raises(InternalError, match="slice 5:6 is out of bounds"):
        interpret(wider, (rand(4), np.zeros(4, np.float32)), {})


@proc
def needs_even(N: size, x: f32[4]):
    assert N % 2 == 0
    for i in seq(0, 4):
        x[i] = 0.0


@proc
def calls_needs_even(x: f32[4]):
    needs_even(4, x)


def test_violated_callee_precondition_is_an_internal_error():
    ir = calls_needs_even._loopir_proc
    call = ir.body[0]
    bad = ir.with_(body=(call.with_(args=(N.const(3),) + call.args[1:]),))
    with pytest.raises(InternalError, match="precondition `N % 2 == 0`"):
        interpret(bad, (np.zeros(4, np.float32),), {})
    x = np.ones(4, np.float32)
    calls_needs_even.interpret(x)
    assert (x == 0).all()


@proc
def literals_only(y: f32[1]):
    y[0] = 16777216.0 + 1.0 + 1.0  # literals compute in double, as C does


def test_arithmetic_on_literals_is_double_then_stored():
    y = np.zeros(1, np.float32)
    literals_only.interpret(y)
    assert y[0] == 16777218.0  # in f32 each + 1.0 would round back to 16777216


@proc
def int_with_float(N: size, a: i32[N], x: f32[N], y: f32[N], b: i32[N]):
    for i in seq(0, N):
        y[i] = a[i] * x[i]
        b[i] = -a[i] / 2.0


def test_integer_operands_convert_to_the_float_type_and_negation_wraps():
    a = np.array([16777217, -(2**31), 7], np.int32)
    x = np.array([1.0000001, 1.0, -0.5], np.float32)
    y, b = np.zeros(3, np.float32), np.zeros(3, np.int32)
    int_with_float.interpret(a, x, y, b)
    np.testing.assert_array_equal(y, a.astype(np.float32) * x)
    assert b.tolist() == [-8388608, -(2**30), -3]  # -(-2**31) wraps to -2**31; C truncates


@proc
def to_int(N: size, x: f32[N], z: i8[N]):
    for i in seq(0, N):
        z[i] = x[i]
        z[i] += 100.0


def test_float_to_integer_store_truncates_and_must_fit():
    # pins semantics.md#float-to-int (out of range is undefined in C, so an error here)
    x = np.array([2.7, -2.7, 27.5, -0.5], np.float32)
    z = np.zeros(4, np.int8)
    to_int.interpret(x, z)
    assert z.tolist() == [102, 98, 127, 100]
    with pytest.raises(ArgumentError, match="converting 200 to int8 is undefined in C"):
        to_int.interpret(np.array([200.5], np.float32), np.zeros(1, np.int8))
    with pytest.raises(ArgumentError, match="converting nan to an integer is undefined in C"):
        to_int.interpret(np.array([np.nan], np.float32), np.zeros(1, np.int8))


@proc
def flagged(N: size, x: f32[N], on: bool, k: index):
    for i in seq(0, N):
        if on and i == k:
            x[i] = 5.0


def test_bool_and_index_arguments():
    x = np.zeros(4, np.float32)
    flagged.interpret(x, False, 2)
    assert (x == 0).all()
    flagged.interpret(x, True, 2)
    assert x.tolist() == [0, 0, 5, 0]
    flagged.interpret(x, on=True, k=-1)  # an index may be negative
    assert x.tolist() == [0, 0, 5, 0]
