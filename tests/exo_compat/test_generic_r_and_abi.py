"""Exo 1.0 compatibility: generic precision R is float when run or compiled, and
compile_procs writes Exo's C ABI (`void *ctxt` first) with a header C++ accepts."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest

from knit import compile_procs, compile_procs_to_strings, proc
from knit.API_types import ExoType
from knit.errors import ArgumentTypeError, KnitTypeError, SchedulingError
from knit.stdlib.scheduling import set_precision


@proc
def bump(y: f32[8]):
    for i in seq(0, 8):
        y[i] += 1.0


@proc
def scale_r(x: R[8], y: R[8]):
    t: R
    for i in seq(0, 8):
        t = x[i]
        y[i] = t * 2.0 + 0.5
    bump(y)  # R data passed to an f32 parameter: R is float


def test_r_compiles_as_float():
    c, h = compile_procs_to_strings([scale_r], "s.h")
    assert "void scale_r(void *ctxt, const float* restrict x, float* restrict y) {" in c
    assert "    float t;\n" in c
    assert "void scale_r(void *ctxt, const float* x, float* y);" in h


def test_r_runs_alike_interpreted_and_compiled():
    x = np.arange(8, dtype=np.float32) / 3
    y1, y2 = np.zeros(8, np.float32), np.zeros(8, np.float32)
    scale_r.interpret(x, y1)
    scale_r.compile()(x, y2)
    np.testing.assert_array_equal(y1, y2)
    np.testing.assert_array_equal(y1, x * np.float32(2.0) + np.float32(1.5))


@proc
def gemv_r(m: size, n: size, A: [R][m, n], x: [R][n], y: [R][m]):
    for i in seq(0, m):
        for j in seq(0, n):
            y[i] += A[i, j] * x[j]


def test_r_window_arguments_run_alike_interpreted_and_compiled():
    # the JIT's entry point named the window structs of R (`struct exo_win_2Rc`), which
    # the compiled file defines as f32's: the C did not compile
    rng = np.random.default_rng(3)
    A = rng.standard_normal((7, 12)).astype(np.float32)
    x = rng.standard_normal(12).astype(np.float32)
    y1, y2 = np.ones(5, np.float32), np.ones(5, np.float32)
    gemv_r.interpret(5, 6, A[1:6, ::2], x[::2], y1)
    gemv_r.compile()(5, 6, A[1:6, ::2], x[::2], y2)
    np.testing.assert_array_equal(y1, y2)
    np.testing.assert_allclose(y1, 1 + A[1:6, ::2] @ x[::2], rtol=1e-5)


def test_r_arguments_take_float32_only():
    x = np.arange(8, dtype=np.float64)
    with pytest.raises(ArgumentTypeError, match="argument 'x' expects float32 elements, got a "
                       "float64 array"):
        scale_r.interpret(x, np.zeros(8, np.float32))


def test_f64_data_to_an_r_parameter_is_refused_in_c():
    @proc
    def caller(y: f64[8], z: f32[8]):
        scale_r(z, y)

    with pytest.raises(KnitTypeError, match="argument 'y' of scale_r has the generic type "
                       "R, compiled as float, but gets f64 data"):
        compile_procs_to_strings([caller], "c.h")


@proc
def f64_copy(x: f64[8], y: f64[8]):
    for i in seq(0, 8):
        y[i] = x[i]


@pytest.mark.parametrize("typ", ["R", ExoType.F32])
def test_set_precision_to_r_or_an_exotype(typ):
    p = set_precision(f64_copy, "x", typ)
    assert str(p).startswith(f"def f64_copy(x: {'R' if typ == 'R' else 'f32'}[8] @ DRAM")
    x = np.arange(8, dtype=np.float32)
    y1, y2 = np.zeros(8), np.zeros(8)
    p.interpret(x, y1)
    p.compile()(x, y2)
    np.testing.assert_array_equal(y1, y2)
    np.testing.assert_array_equal(y1, x)


def test_set_precision_unknown_name_is_refused():
    with pytest.raises(SchedulingError, match="set_precision: unknown precision 'f99'; use "
                       "f16 f32 f64 i8 ui8 ui16 i32 R"):
        set_precision(f64_copy, "x", "f99")


# ---------------------------------------------------------------- Exo's C ABI

@proc
def axpy(n: size, a: f32, x: f32[n], y: f32[n]):
    for i in seq(0, n):
        y[i] += a * x[i]


DRIVER = r"""
#include <stdio.h>
#include "axpy.h"
int main(void) {
    float a = 2.0f, x[5] = {1, 2, 3, 4, 5}, y[5] = {0};
    axpy(NULL, 5, &a, x, y);
    for (int i = 0; i < 5; i++) printf("%g ", y[i]);
    return 0;
}
"""


def test_compile_procs_writes_exo_abi_and_a_c_driver_runs(tmp_path):
    compile_procs([axpy], tmp_path, "axpy.c", "axpy.h")
    h = (tmp_path / "axpy.h").read_text()
    assert "void axpy(void *ctxt, int_fast32_t n, const float* a, const float* x, " \
        "float* y);" in " ".join(h.split()).replace("( ", "(").replace(" )", ")")
    assert "restrict" not in h
    (tmp_path / "main.c").write_text(DRIVER)
    exe = tmp_path / "run"
    subprocess.run(["gcc", "-O2", "-o", str(exe), str(tmp_path / "main.c"),
                    str(tmp_path / "axpy.c")], check=True, capture_output=True)
    out = subprocess.run([str(exe)], check=True, capture_output=True, text=True).stdout
    assert out.split() == ["2", "4", "6", "8", "10"]


@pytest.mark.skipif(shutil.which("g++") is None, reason="needs g++")
def test_header_is_valid_cpp(tmp_path):
    compile_procs([axpy, scale_r], tmp_path, "k.c", "k.h")
    (tmp_path / "use.cpp").write_text('#include "k.h"\nint main() { float a = 1, x[2] = '
                                      '{1, 2}, y[2] = {0}; axpy(nullptr, 2, &a, x, y); }\n')
    r = subprocess.run(["g++", "-std=c++17", "-Wall", "-Werror", "-c", "-o",
                        str(tmp_path / "use.o"), str(tmp_path / "use.cpp")],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_knit_abi_on_request_and_ctxt_named_parameter():
    c, h = compile_procs_to_strings([axpy], "a.h", ctxt=False)
    assert "void axpy(int_fast32_t n, const float* a, const float* x, float* y);" in h
    assert "ctxt" not in c

    @proc
    def uses_ctxt_name(ctxt: f32[2]):
        ctxt[0] = 1.0

    c, h = compile_procs_to_strings([uses_ctxt_name], "u.h")
    assert "void uses_ctxt_name(void *ctxt, float* restrict ctxt_1)" in c


# ------------------------------------------- instruction-only memories in plain code

from knit.errors import MemoryAccessError  # noqa: E402
from knit.platforms.x86 import AVX2, mm256_loadu_ps, mm256_storeu_ps  # noqa: E402
from knit.stdlib.scheduling import replace  # noqa: E402


@proc  # a prototype: plain code on AVX2 registers is accepted as a definition
def through_register(x: f32[8], y: f32[8]):
    v: f32[8] @ AVX2
    for i in seq(0, 8):
        v[i] = x[i]
    for i in seq(0, 8):
        y[i] = v[i]


def test_plain_code_on_registers_is_refused_where_c_is_generated():
    with pytest.raises(MemoryAccessError, match="'v' lives in AVX2, which only "
                       "instructions may read or write"):
        through_register.c_code_str()


def test_prototype_becomes_compilable_after_replace():
    p = replace(through_register, "for i in _: _ #0", mm256_loadu_ps)
    p = replace(p, "for i in _: _ #0", mm256_storeu_ps)
    assert "mm256_loadu_ps(v[0:8], x[0:8])" in str(p)
    x = np.arange(8, dtype=np.float32)
    y0, y1, y2 = (np.zeros(8, np.float32) for _ in range(3))
    through_register.interpret(x, y0)  # the prototype has a meaning: v is an array
    p.interpret(x, y1)
    p.compile()(x, y2)
    np.testing.assert_array_equal(y0, x)
    np.testing.assert_array_equal(y1, x)
    np.testing.assert_array_equal(y2, x)
