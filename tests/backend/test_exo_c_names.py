"""C names a harness written for Exo uses: window structs are `struct exo_win_<n><t>`
(guard `EXO_WIN_<N><T>`), with Exo's layout, so such a harness compiles and runs
against knit's header unchanged."""

from __future__ import annotations

import subprocess

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
