"""Extern calls and integer literals in the C text Exo 1.0 writes, where that text
computes what the interpreter computes (docs/exo-compatibility.md, "Externs"), and knit's
own text where Exo's would not.

Each text is pinned; the interpreter and the compiled C (every compiler) agree bit for
bit on edge inputs (NaN, -0.0, infinities, the ends of integer ranges, values that wrap);
two generated files calling the same externs link into one program.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from backend_cc import have, strict_compile

from knit import proc
from knit.backend.c import compile_procs_to_strings
from knit.libs.externs import expf, fmaxf, relu, select, sigmoid, sigmoid as sig, sin, sqrt

sys.path.insert(0, str(Path(__file__).parents[1] / "semantics"))
from semcheck import agree  # noqa: E402

NAN, INF = np.nan, np.inf


def body(p) -> str:
    c, _ = compile_procs_to_strings([p], "t.h")
    return c


def lines(p) -> list[str]:
    return [ln.strip() for ln in body(p).splitlines()]


# ------------------------------------------------------------ f32: Exo's text

@proc
def f32_calls(N: size, x: f32[N], y: f32[N], r: f32[N], s: f32[N], q: f32[N], g: f32[N],
              k: f32[N]):
    for i in seq(0, N):
        r[i] = relu(x[i] + y[i])
        s[i] = sin(x[i] * y[i])
        q[i] = sqrt(x[i] + y[i])
        g[i] = sigmoid(x[i] + y[i])
        k[i] = relu(3.0)


def test_f32_calls_are_written_as_exo_writes_them():
    text = lines(f32_calls)
    assert "r[i] = _relu_float((float)x[i] + y[i]);" in text
    assert "s[i] = sin((float)x[i] * y[i]);" in text
    assert "q[i] = sqrt((float)(x[i] + y[i]));" in text
    assert "g[i] = sigmoid((float)(x[i] + y[i]));" in text
    assert "k[i] = _relu_float((float)3.0f);" in text
    c = body(f32_calls)
    # Exo's helper definitions, each declared static first (internal linkage)
    assert "static float _relu_float(float x);" in c
    assert "float _relu_float(float x) {\n    if (x > 0.0) return x;\n    else return 0.0;\n}" in c
    assert "static float sigmoid(float x);" in c
    assert "float sigmoid(float x) {\n    return 1 / (1 + exp(-x));\n}" in c


EDGES = np.array([NAN, -0.0, 0.0, INF, -INF, 1e-45, -1e-45, 3.4e38, -3.4e38, 88.7, -88.7,
                  -103.9, 1.0, -1.0, 0.5, 1e10], np.float32)


def test_f32_calls_agree_on_edge_inputs():
    rng = np.random.default_rng(10)
    x = np.concatenate([EDGES, EDGES[::-1], rng.uniform(-30, 30, 2000).astype(np.float32)])
    y = np.concatenate([EDGES[::-1], EDGES, rng.uniform(-30, 30, 2000).astype(np.float32)])
    outs = [np.zeros_like(x) for _ in range(5)]
    _, _, r, s, q, g, k = agree(f32_calls, [x, y, *outs])
    assert (k == 3).all() and np.isnan(q[0]) and r[0] == 0 and not np.signbit(r[1])
    # sigmoid is computed in double and rounded once: the interpreter computes that
    with np.errstate(over="ignore"):
        want = (1 / (1 + np.exp(-(x.astype(np.float64) + y).astype(np.float32)
                                .astype(np.float64)))).astype(np.float32)
    np.testing.assert_array_equal(g, want)


# ------------------------------------------------------------ knit's text kept

@proc
def kept(N: size, x: f32[N], y: f32[N], d: f64[N], e: f32[N], m: f32[N], h: f16[N]):
    for i in seq(0, N):
        y[i] = sin(x[i]) + 1.0      # a libm double inside an f32 operation
        d[i] = sqrt(x[i])           # stored into f64: Exo's text would not round to f32
        y[i] += sqrt(x[i])          # `+=` adds the double first
        e[i] = expf(x[i])           # libm's expf is not correctly rounded
        m[i] = fmaxf(x[i], e[i])    # fmax leaves the sign of a zero unspecified
        h[i] = relu(h[i])           # f16 converts through KNIT_F16


def test_calls_exo_writes_differently_keep_knits_text():
    text = lines(kept)
    assert "y[i] = ((float)sin((double)(x[i]))) + 1.0f;" in text
    assert "d[i] = (double)(((float)sqrt((double)(x[i]))));" in text
    assert "y[i] += ((float)sqrt((double)(x[i])));" in text
    assert "e[i] = ((float)exp((double)(x[i])));" in text
    assert "m[i] = knit_fmaxf(x[i], e[i]);" in text
    assert not any("_relu__Float16" in ln for ln in text)


def test_kept_texts_agree():
    x = np.concatenate([EDGES, np.linspace(-5, 5, 50, dtype=np.float32)])
    args = [x, np.ones_like(x), np.zeros(x.size), np.zeros_like(x), np.zeros_like(x),
            np.linspace(-3, 3, x.size).astype(np.float16)]
    agree(kept, args)


@proc
def mixed_first_operand(N: size, a: i32[N], b: i32[N], x: f32[N], o: f32[N]):
    for i in seq(0, N):
        o[i] = relu(a[i] * b[i] + x[i])  # a * b is an int product, then a float sum


def test_a_cast_that_would_change_an_operation_keeps_knits_text():
    # Exo's `(float)a[i] * b[i] + x[i]` would multiply in float, not wrap in int
    text = lines(mixed_first_operand)
    assert "o[i] = ((a[i] * b[i] + x[i]) > 0 ? (a[i] * b[i] + x[i]) : 0);" in text
    a = np.array([2**16, 46341, -7, 3], np.int32)
    *_, o = agree(mixed_first_operand, [a, a, np.full(4, 0.5, np.float32),
                                        np.zeros(4, np.float32)])
    assert o[0] == 0.5  # 2^32 wrapped to 0 in int


# ------------------------------------------------------------ integers

@proc
def i8_calls(N: size, x: i8[N], y: i8[N], z: i8[N], s: i8[N], r: i8[N], c: i8[N],
             q: ui8[N]):
    for i in seq(0, N):
        z[i] = select(x[i] * 2, y[i], z[i] + y[i], -x[i])
        s[i] = sin(x[i] * 2)
        r[i] = relu(x[i] * 2)
        c[i] = relu(3.0)
        q[i] = sqrt(q[i])


def test_integer_calls_are_written_as_exo_writes_them():
    text = lines(i8_calls)
    assert "z[i] = _select_int8_t((int8_t)x[i] * ((int8_t) 2), (int8_t)y[i], " \
        "(int8_t)z[i] + y[i], (int8_t)-x[i]);" in text
    assert "s[i] = sin((int8_t)x[i] * ((int8_t) 2));" in text
    assert "r[i] = _relu_int8_t((int8_t)x[i] * ((int8_t) 2));" in text
    assert "c[i] = _relu_int8_t((int8_t)((int8_t) 3.0));" in text
    assert "q[i] = sqrt((uint8_t)(q[i]));" in text


def test_relu_and_select_take_their_type_and_agree():
    # pins docs/semantics.md#externs: relu and select are functions of their type; an
    # i8 argument computed in int wraps to i8 first (relu(2 * 100) = relu(-56) = 0)
    x = np.array([100, -128, 127, -1, 0, 64, -64, 3], np.int8)
    y = np.array([-56, 0, -2, -2, 0, -128, 127, 6], np.int8)
    z = np.array([1, 2, 3, 4, 5, 6, 7, 8], np.int8)
    zeros = [np.zeros(8, np.int8) for _ in range(3)]
    q = np.array([0, 1, 4, 255, 254, 100, 2, 9], np.uint8)
    _, _, z2, s, r, c, q2 = agree(i8_calls, [x, y, z, *zeros, q])
    assert r.tolist() == [0, 0, 0, 0, 0, 0, 0, 6]
    assert c.tolist() == [3] * 8 and q2.tolist() == [0, 1, 2, 15, 15, 10, 1, 3]
    # select(x * 2 wrapped, y, z + y, -x): 200 -> -56, not < -56: -x = -100
    # x = -128: -256 wraps to 0, not < 0: -x = 128 wraps to -128
    assert z2[0] == -100 and z2[1] == -128
    assert s.tolist() == np.trunc(np.sin(2.0 * x.astype(np.int32))).astype(np.int8).tolist()


@proc
def i8_wrap_division(N: size, x: i8[N], o: i8[N], p: i8[N]):
    for i in seq(0, N):
        o[i] = relu(x[i] * 2 / 3)       # the cast binds x[i], an i8 already
        p[i] = relu((x[i] + x[i]) / 3)  # it would bind x[i] + x[i], before a division


def test_a_narrow_cast_before_a_division_keeps_knits_text():
    text = lines(i8_wrap_division)
    assert "o[i] = _relu_int8_t((int8_t)x[i] * ((int8_t) 2) / ((int8_t) 3));" in text
    # (int8_t)(x[i] + x[i]) / 3 would wrap the sum, then divide
    assert "p[i] = (int32_t)((((int8_t)((x[i] + x[i]) / ((int8_t) 3))) > 0 ? " \
        "((int8_t)((x[i] + x[i]) / ((int8_t) 3))) : 0));" in text
    x = np.array([100, -128, 127, -100, 1, 90, -90, 0], np.int8)
    _, o, p = agree(i8_wrap_division, [x, np.zeros(8, np.int8), np.zeros(8, np.int8)])
    # 200 / 3 = 66 wraps to 66 (not (-56) / 3 = -18)
    assert o[0] == 66 and p[0] == 66


@proc
def literal_relus(N: size, x: i8[N], f: f32[N]):
    for i in seq(0, N):
        x[i] = relu(-120.5)
        x[i] += relu(3.7)
        f[i] = relu(0.1)
        f[i] += relu(0.1) + relu(-0.1)  # literals only: computed in double


def test_relu_of_literals_computes_in_the_stored_type():
    # relu commutes with rounding and truncation: relu of the literal converted to the
    # type is the double result converted (what the interpreter computes)
    text = lines(literal_relus)
    assert "x[i] = _relu_int8_t((int8_t)((int8_t) -120.5));" in text
    assert "f[i] = _relu_float((float)0.1f);" in text
    assert "f[i] += (float)(_relu_double((double)0.1) + _relu_double((double)-0.1));" in text
    x, f = agree(literal_relus, [np.ones(2, np.int8), np.ones(2, np.float32)])
    assert x.tolist() == [3, 3] and f.tolist() == [np.float32(0.1) + np.float32(0.1)] * 2


# ------------------------------------------------------------ literals as written

@proc
def literals(N: size, x: i8[N], u: ui16[N], w: i32[N], f: i8[N]):
    for i in seq(0, N):
        x[i] = 1.0
        u[i] = u[i] / 3.0
        w[i] = 2
        f[i] = -2.75


def test_an_integer_literal_prints_as_written():
    text = lines(literals)
    assert "x[i] = ((int8_t) 1.0);" in text
    assert "u[i] = u[i] / ((uint16_t) 3.0);" in text
    assert "w[i] = ((int32_t) 2);" in text
    assert "f[i] = ((int8_t) -2.75);" in text  # C truncates: -2, as the interpreter
    x, u, w, f = agree(literals, [np.zeros(3, np.int8), np.array([7, 65535, 2], np.uint16),
                                  np.zeros(3, np.int32), np.zeros(3, np.int8)])
    assert x.tolist() == [1] * 3 and u.tolist() == [2, 21845, 0] and f.tolist() == [-2] * 3


# ------------------------------------------------------------ files and names

@proc
def first(N: size, x: f32[N], s: i8[N]):
    for i in seq(0, N):
        x[i] = sigmoid(relu(x[i]))
        s[i] = select(s[i], s[i], s[i], s[i])


@proc
def second(N: size, x: f32[N], s: i8[N]):
    for i in seq(0, N):
        x[i] = relu(sigmoid(x[i]))
        s[i] = select(s[i], s[i], s[i], s[i])


@pytest.mark.skipif(not have("gcc"), reason="needs gcc")
def test_two_generated_files_using_the_same_externs_link(tmp_path):
    objs = []
    for p in (first, second):
        c, h = compile_procs_to_strings([p], f"{p.name()}.h")
        assert "_relu_float(" in c and "sigmoid((float)" in c and "_select_int8_t(" in c
        r = strict_compile("gcc", c, h, f"{p.name()}.h", tmp_path / p.name())
        assert r.returncode == 0, r.stderr
        objs.append(str(tmp_path / p.name() / "out.o"))
    (tmp_path / "main.c").write_text(
        '#include <stdint.h>\n#include "first/first.h"\n#include "second/second.h"\n'
        "int main(void) {\n"
        "    float x[2] = {-1.0f, 2.0f}; int8_t s[2] = {1, 2};\n"
        "    first(0, 2, x, s); second(0, 2, x, s);\n"
        "    return !(x[0] > 0.62f && x[0] < 0.63f);  /* relu(sigmoid(sigmoid(0))) */\n}\n")
    exe = tmp_path / "prog"
    r = subprocess.run(["gcc", "-std=c11", "-Wall", "-Werror", str(tmp_path / "main.c"), *objs,
                        "-lm", "-o", str(exe)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr  # no duplicate _relu_float, sigmoid, ...
    assert subprocess.run([str(exe)]).returncode == 0


@proc
def helper_named_variable(N: size, x: f32[N]):
    for i in seq(0, N):
        _relu_float: f32
        _relu_float = relu(x[i])
        x[i] = _relu_float


def test_a_variable_named_like_a_helper_is_renamed():
    c = body(helper_named_variable)
    assert "float _relu_float_1;" in c and "_relu_float_1 = _relu_float((float)x[i]);" in c


@proc
def sigmoid(N: size, x: f32[N]):  # noqa: F811 (the extern is `sig` here)
    for i in seq(0, N):
        x[i] = sig(x[i])


def test_a_function_named_like_a_helper_keeps_knits_text(tmp_path):
    # the file can define only one `sigmoid`: the procedure's
    text = lines(sigmoid)
    assert "x[i] = ((float)(1 / (1 + exp(-(double)(x[i])))));" in text
    c, h = compile_procs_to_strings([sigmoid], "t.h")
    assert strict_compile("gcc", c, h, "t.h", tmp_path).returncode == 0
    x = np.concatenate([EDGES, np.linspace(-40, 40, 101, dtype=np.float32)])
    agree(sigmoid, [x])
