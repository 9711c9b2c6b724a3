"""C names a harness written for Exo uses: window structs are `struct exo_win_<n><t>`
(guard `EXO_WIN_<N><T>`), with Exo's layout, so such a harness compiles and runs
against knit's header unchanged."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest
from backend_cc import have

from knit import compile_procs_to_strings, proc


@proc
def scale_row(n: size, x: [f32][n]):
    for i in seq(0, n):
        x[i] = 2.0 * x[i]


@proc
def scale_col(n: size, A: f32[n, 3]):
    scale_row(n, A[:, 1])


HARNESS = r'''
#include <stdio.h>
#include "lib.h"
int main(void) {
    float a[6] = {1, 2, 3, 4, 5, 6};
    struct exo_win_1f32 w = { &a[1], { 2 } };   /* a[1], a[3], a[5] */
    scale_row(NULL, 3, w);
    float A[6] = {1, 2, 3, 4, 5, 6};
    scale_col(NULL, 2, A);
    printf("%g %g %g %g %g %g|%g %g\n", a[0], a[1], a[2], a[3], a[4], a[5], A[1], A[4]);
    return 0;
}
'''


def test_window_struct_names_are_exos():
    c, h = compile_procs_to_strings([scale_row, scale_col], "lib.h")
    assert "#ifndef EXO_WIN_1F32\n#define EXO_WIN_1F32\nstruct exo_win_1f32 {" in h
    assert "knit_win" not in h + c
    assert "(struct exo_win_1f32){ &A[1], { 3 } }" in c.replace("(1)", "1")


@pytest.mark.skipif(not have("gcc"), reason="needs gcc")
def test_exo_harness_compiles_and_runs(tmp_path):
    c, h = compile_procs_to_strings([scale_row, scale_col], "lib.h")
    (tmp_path / "lib.h").write_text(h)
    (tmp_path / "lib.c").write_text(c)
    (tmp_path / "main.c").write_text(HARNESS)
    exe = tmp_path / "a.out"
    r = subprocess.run(["gcc", "-std=c11", "-O1", "-Wall", "-Werror", str(tmp_path / "lib.c"),
                        str(tmp_path / "main.c"), "-o", str(exe)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    out = subprocess.run([str(exe)], capture_output=True, text=True).stdout.strip()
    assert out == "1 4 3 8 5 12|4 10"


# A window statement of a DRAM buffer is a C variable holding Exo's window struct, and
# elements are read through it, as Exo writes it (`y.data[i * y.strides[0]]`).
@proc
def column_copy(n: size, m: size, x: f32[n, m]):
    y = x[:, 0]
    z: f32[n]
    for i in seq(0, n):
        z[i] = y[i]


@proc
def window_of_window(n: size, m: size, x: f32[n, m], o: f32[n]):
    assert m >= 2
    y = x[:, 1:m]
    w = y[1:n, 0]
    for i in seq(0, n - 1):
        o[i] = w[i]
        y[i, 0] = 2.0


def _body(p) -> list[str]:
    c = p.c_code_str()
    start = c.index("(void) ctxt;")  # the definition's first statement
    return [line.strip() for line in c[start:].splitlines()]


def test_a_window_statement_is_exos_struct_variable():
    body = _body(column_copy)
    assert body[:3] == ["(void) ctxt;",
                        "struct exo_win_1f32c y = (struct exo_win_1f32c){ &x[0], { m } };",
                        "float *z = (float*) malloc(n * sizeof(*z));"]
    assert "z[i] = y.data[i * y.strides[0]];" in body
    # a malloc'd buffer only written is used by its free: no `(void) z;`, as in Exo
    assert "(void) z;" not in body and "free(z);" in body


def test_a_written_window_and_a_window_of_it():
    body = _body(window_of_window)
    assert "struct exo_win_2f32 y = (struct exo_win_2f32){ &x[1], { m, 1 } };" in body
    assert "struct exo_win_1f32 w = (struct exo_win_1f32){ &y.data[y.strides[0]], " \
           "{ y.strides[0] } };" in body
    assert "y.data[i * y.strides[0]] = 2.0f;" in body


def test_window_statements_mean_the_same_compiled_and_interpreted():
    from knit.equiv import check_backends

    for p in (column_copy, window_of_window):
        check_backends(p, trials=4)
    x = np.arange(12, dtype=np.float32).reshape(4, 3)
    o = np.zeros(4, np.float32)
    window_of_window.compile()(n=4, m=3, x=x, o=o)
    assert list(o) == [4.0, 7.0, 10.0, 0.0]  # x[1:, 1], read before row i is written
    assert list(x[:3, 1]) == [2.0, 2.0, 2.0] and x[3, 1] == 10.0


@proc
def unused_window(n: size, x: f32[n] @ DRAM):
    y = x[0:1]
    pass


def test_an_unused_window_is_marked_used():
    body = _body(unused_window)
    assert body[2:4] == ["struct exo_win_1f32c y = (struct exo_win_1f32c){ &x[0], { 1 } };",
                         "(void) y;"]
    assert "(void) y;" not in _body(column_copy)  # used windows get no mark


@pytest.mark.skipif(not have("gcc"), reason="needs gcc")
def test_window_statements_compile_without_warnings(tmp_path):
    c, h = compile_procs_to_strings([column_copy, window_of_window, unused_window], "lib.h")
    (tmp_path / "lib.h").write_text(h)
    (tmp_path / "lib.c").write_text(c)
    r = subprocess.run(["gcc", "-std=c11", "-O2", "-Wall", "-Wextra", "-Werror", "-c",
                        str(tmp_path / "lib.c"), "-o", str(tmp_path / "lib.o")],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
