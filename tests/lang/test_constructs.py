"""Every language construct through the whole chain: parse -> print -> re-parse (an
equal procedure) -> interpret -> compile, interpreted and compiled results compared
on random inputs."""

from __future__ import annotations

import pytest

from knit import DRAM, Memory, config, instr, proc
from knit.equiv import check_backends
from knit.ir.visit import alpha_eq
from knit.libs.externs import expf, fmaxf, relu, select, sigmoid, sin, sqrt
from knit.libs.memories import DRAM_STACK, DRAM_STATIC
from knit.procedure import parse_proc_string

WIDTH = 4  # a Python constant used inside object code


class MyDRAM(DRAM):
    """A user-defined memory (a DRAM variant), to show memories are user classes."""


@config
class Cfg:
    scale: f32
    n: size


@instr("{dst_data} = {src_data} + {src_data};")
def double1(dst: [f32][1] @ DRAM, src: [f32][1] @ DRAM):
    dst[0] = src[0] + src[0]


@proc
def scale_row(n: size, x: [f32][n] @ DRAM, s: f32):
    for i in seq(0, n):
        x[i] = x[i] * s


@proc
def p_loops(N: size, M: size, A: f32[N, M] @ DRAM, B: f32[N, M] @ DRAM):
    for i in seq(0, N):
        for j in seq(0, M):
            B[i, j] = A[i, j] * 2.0 + 1.0


@proc
def p_par(N: size, A: f32[N] @ DRAM, B: f32[N] @ DRAM):
    for i in par(0, N):
        B[i] = A[i] + A[i]


@proc
def p_if(N: size, A: f32[N] @ DRAM, B: f32[N] @ DRAM):
    for i in seq(0, N):
        if i < 2:
            B[i] = A[i]
        elif i % 2 == 0 and i >= 4:
            B[i] = -A[i]
        else:
            B[i] = 0.0
            pass


@proc
def p_reduce(N: size, M: size, A: f32[N, M] @ DRAM, s: f32[N] @ DRAM):
    for i in seq(0, N):
        for j in seq(0, M):
            s[i] += A[i, j]


@proc
def p_alloc(N: size, A: f64[N] @ DRAM, B: f64[N] @ DRAM):
    t: f64 @ DRAM
    u: f64[4] @ DRAM_STACK
    v: f64[4] @ DRAM_STATIC
    w: f64[N] @ MyDRAM
    for i in seq(0, N):
        t = A[i]
        u[i % 4] = t
        v[i % 4] = u[i % 4]
        w[i] = v[i % 4]
        B[i] = w[i]


@proc
def p_windows(N: size, A: f32[N, 8] @ DRAM, B: f32[N, 8] @ DRAM):
    assert N >= 2
    for i in seq(0, N):
        row = A[i, 0:8]
        half = row[4:8]
        for j in seq(0, 4):
            B[i, j] = half[j]
            B[i, j + 4] = row[j]


@proc
def p_calls(N: size, A: f32[N, 8] @ DRAM, s: f32[1] @ DRAM):
    for i in seq(0, N):
        scale_row(8, A[i, 0:8], s[0])
        double1(A[i, 0:1], A[i, 1:2])


@proc
def p_asserts_strides(N: size, x: [f32][N] @ DRAM, y: f32[N] @ DRAM):
    assert N % 4 == 0
    assert stride(x, 0) == 1
    for i in seq(0, N / 4):
        for j in seq(0, WIDTH):
            y[4 * i + j] = x[N - 1 - (4 * i + j)]


@proc
def p_config(N: size, A: f32[N] @ DRAM):
    Cfg.scale = 3.0
    Cfg.n = N
    for i in seq(0, Cfg.n):
        A[i] = A[i] * Cfg.scale


@proc
def p_externs(N: size, A: f32[N] @ DRAM, B: f32[N] @ DRAM):
    for i in seq(0, N):
        B[i] = select(A[i], 0.0, relu(A[i]), sqrt(A[i] * A[i]))
        B[i] += sin(A[i]) + expf(A[i]) + fmaxf(A[i], 0.5) + sigmoid(A[i])


@proc
def p_ints(N: size, a: i8[N] @ DRAM, b: ui8[N] @ DRAM, c: ui16[N] @ DRAM, d: i32[N] @ DRAM):
    for i in seq(0, N):
        d[i] = d[i] * 3 + a[i] - 7
        c[i] += c[i] * 2
        b[i] = b[i] + 1
        a[i] = -a[i]


@proc
def p_f16(N: size, A: f16[N] @ DRAM, B: f16[N] @ DRAM):
    for i in seq(0, N):
        B[i] = A[i] * 0.5 + A[i]


@proc
def p_index_args(N: size, k: index, flag: bool, A: f32[N] @ DRAM):
    assert k >= 0 and k < N
    if flag:
        A[k] = 1.0
    for i in seq(k, N):
        A[i] += 2.0


PROCS = [p_loops, p_par, p_if, p_reduce, p_alloc, p_windows, p_calls, p_asserts_strides,
         p_config, p_externs, p_ints, p_f16, p_index_args, scale_row]


@pytest.mark.parametrize("p", PROCS, ids=lambda p: p.name())
def test_print_parses_back_to_an_equal_proc(p):
    again = parse_proc_string(str(p), p._scope)
    assert alpha_eq(p._loopir_proc, again._loopir_proc), str(again)
    assert str(again) == str(p)


@pytest.mark.parametrize("p", PROCS, ids=lambda p: p.name())
def test_interpreted_and_compiled_agree(p):
    check_backends(p, trials=3)


def test_instr_prints_its_template_as_exo_does():
    lines = str(double1).splitlines()
    assert lines[0].startswith("def double1(")
    assert lines[1] == "    # @instr {dst_data} = {src_data} + {src_data};"
    again = parse_proc_string(str(double1), double1._scope)  # a comment: a plain proc
    assert not again.is_instr()
    assert alpha_eq(double1._loopir_proc.with_(instr=None), again._loopir_proc)


def test_memory_classes_are_user_code():
    assert issubclass(MyDRAM, Memory)
    assert "MyDRAM" in str(p_alloc)


@proc
def p_literal_data(x: f32[1] @ DRAM):
    x[0] = 1 + 2 * 3 - 1 / 2  # integer literals used as data are real literals


def test_integer_literal_arithmetic_used_as_data():
    assert "x[0] = 1 + 2 * 3 - 1 / 2" in str(p_literal_data)  # printed as written
    import numpy as np

    a = np.zeros(1, np.float32)
    p_literal_data.interpret(a)
    assert a[0] == 6.5
    check_backends(p_literal_data, trials=1)
