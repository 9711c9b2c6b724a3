"""Exo's `platforms/rvv.py` library as knit gives it (`knit.platforms.rvv`): every name an
Exo program imports from it, the meaning of each of its eight instructions for every
vector length (lanes from `vl` on are left alone), and schedules of our own on a
vector of `n <= 4` lanes (arrays of 4, the tail of a longer loop): `replace` binds the
vector length to the loop's extent `n`, including for the scalar forms (broadcast, fused multiply-add with a scalar on either
side). tests/exo_compat/test_rvv_platform.py covers the constant-length load/FMA/store
path and the C front end; this machine runs no RVV code, so results are interpreted."""

from __future__ import annotations

import numpy as np
import pytest

import knit
import knit.platforms.rvv as rvv
from knit import compile_procs_to_strings, proc
from knit.platforms.rvv import (
    RVV,
    rvv_broadcast_4xf32,
    rvv_broadcast_4xf32_0,
    rvv_broadcast_4xf32_scalar,
    rvv_vfmacc_1xf32_4xf32,
    rvv_vfmacc_4xf32_1xf32,
    rvv_vfmacc_4xf32_4xf32,
    rvv_vld_4xf32,
    rvv_vst_4xf32,
)
from knit.stdlib.scheduling import replace, simplify

EXO_RVV_NAMES = ("RVV rvv_vld_4xf32 rvv_vst_4xf32 rvv_broadcast_4xf32 "
                 "rvv_broadcast_4xf32_scalar rvv_broadcast_4xf32_0 rvv_vfmacc_4xf32_4xf32 "
                 "rvv_vfmacc_4xf32_1xf32 rvv_vfmacc_1xf32_4xf32").split()


def test_every_name_exos_rvv_library_exports_is_there():
    star = {}
    exec("from knit.platforms.rvv import *", star)
    assert [n for n in EXO_RVV_NAMES if n not in star] == []
    assert sorted(n for n in rvv.__all__ if n.startswith("rvv_")) == sorted(EXO_RVV_NAMES[1:])


def _f32(*values):
    return np.array(values, dtype=np.float32)


# instruction -> (its arguments as a function of fresh arrays, the lanes' NumPy meaning)
X, Y, S = _f32(1, 2, 3, 4), _f32(-1, 0.5, 8, 2), _f32(3)
MEANINGS = {
    rvv_vld_4xf32: (lambda d: (d, X.copy()), lambda d: X),
    rvv_vst_4xf32: (lambda d: (d, X.copy()), lambda d: X),
    rvv_broadcast_4xf32: (lambda d: (d, S.copy()), lambda d: np.full(4, S[0])),
    rvv_broadcast_4xf32_scalar: (lambda d: (d, np.float32(S[0])), lambda d: np.full(4, S[0])),
    rvv_broadcast_4xf32_0: (lambda d: (d,), lambda d: np.zeros(4, np.float32)),
    rvv_vfmacc_4xf32_4xf32: (lambda d: (d, X.copy(), Y.copy()), lambda d: d + X * Y),
    rvv_vfmacc_4xf32_1xf32: (lambda d: (d, X.copy(), S.copy()), lambda d: d + X * S[0]),
    rvv_vfmacc_1xf32_4xf32: (lambda d: (d, S.copy(), Y.copy()), lambda d: d + S[0] * Y),
}


@pytest.mark.parametrize("vl", [1, 2, 3, 4])
@pytest.mark.parametrize("op", list(MEANINGS), ids=lambda op: op.name())
def test_an_instruction_touches_the_first_vl_lanes_as_its_body_says(op, vl):
    args_of, meaning = MEANINGS[op]
    dst = _f32(10, 20, 30, 40)
    want = np.where(np.arange(4) < vl, meaning(dst.copy()), dst)
    op.interpret(*args_of(dst), vl)
    np.testing.assert_array_equal(dst, want)


@proc
def axpy_short(n: size, a: f32[1], x: f32[4], y: f32[4]):
    assert n <= 4
    for i in seq(0, n):
        y[i] += x[i] * a[0]


@proc
def axpy_short_rvv(n: size, a: f32[1], x: f32[4], y: f32[4]):
    # registers in plain code: a prototype, to be mapped onto instructions
    assert n <= 4
    xv: f32[4] @ RVV
    yv: f32[4] @ RVV
    for i in seq(0, n):
        xv[i] = x[i]
    for i in seq(0, n):
        yv[i] = y[i]
    for i in seq(0, n):
        yv[i] += xv[i] * a[0]
    for i in seq(0, n):
        y[i] = yv[i]


@proc
def broadcast_sums(n: size, t: f32, s: f32[1], x: f32[4], y: f32[4]):
    assert n <= 4
    for i in seq(0, n):
        y[i] = 0.0
        y[i] += s[0] * x[i]
        y[i] += t * x[i]
        y[i] += x[i] * s[0]


@proc
def broadcast_sums_rvv(n: size, t: f32, s: f32[1], x: f32[4], y: f32[4]):
    assert n <= 4
    tv: f32[4] @ RVV
    sv: f32[4] @ RVV
    xv: f32[4] @ RVV
    yv: f32[4] @ RVV
    for i in seq(0, n):
        tv[i] = t
    for i in seq(0, n):
        sv[i] = s[0]
    for i in seq(0, n):
        xv[i] = x[i]
    for i in seq(0, n):
        yv[i] = 0.0
    for i in seq(0, n):
        yv[i] += s[0] * xv[i]
    for i in seq(0, n):
        yv[i] += tv[i] * xv[i]
    for i in seq(0, n):
        yv[i] += xv[i] * sv[i]
    for i in seq(0, n):
        y[i] = yv[i]


def onto_instructions(p, instrs):
    for op in instrs:
        p = replace(p, "for i in _: _ #0", op)
    return simplify(p)


@pytest.fixture(scope="module")
def axpy_mapped():
    return onto_instructions(axpy_short_rvv, [rvv_vld_4xf32, rvv_vld_4xf32,
                                              rvv_vfmacc_4xf32_1xf32, rvv_vst_4xf32])


def test_replace_binds_the_vector_length_to_the_loops_extent(axpy_mapped):
    text = str(axpy_mapped)
    assert "rvv_vld_4xf32(xv[0:4], x[0:4], n)" in text
    assert "rvv_vfmacc_4xf32_1xf32(yv[0:4], xv[0:4], a[0:1], n)" in text
    assert "rvv_vst_4xf32(y[0:4], yv[0:4], n)" in text
    knit.check_equiv(axpy_short, axpy_mapped, trials=4, compiled=False, interpret=True)


def test_the_broadcasts_and_the_fma_with_a_scalar_are_found_too():
    p = onto_instructions(broadcast_sums_rvv, [
        rvv_broadcast_4xf32_scalar, rvv_broadcast_4xf32, rvv_vld_4xf32, rvv_broadcast_4xf32_0,
        rvv_vfmacc_1xf32_4xf32, rvv_vfmacc_4xf32_4xf32, rvv_vfmacc_4xf32_4xf32, rvv_vst_4xf32])
    text = str(p)
    assert "rvv_broadcast_4xf32_scalar(tv[0:4], t, n)" in text
    assert "rvv_broadcast_4xf32(sv[0:4], s[0:1], n)" in text
    assert "rvv_broadcast_4xf32_0(yv[0:4], n)" in text
    assert "rvv_vfmacc_1xf32_4xf32(yv[0:4], s[0:1], xv[0:4], n)" in text
    assert "rvv_vfmacc_4xf32_4xf32(yv[0:4], tv[0:4], xv[0:4], n)" in text
    assert "for i in" not in text
    knit.check_equiv(broadcast_sums, p, trials=4, compiled=False, interpret=True)


def test_c_passes_the_vector_length_and_puts_vfmacc_vfs_scalar_first(axpy_mapped):
    c, _ = compile_procs_to_strings([axpy_mapped], "axpy_rvv.h")
    assert "vfloat32m1_t xv;" in c and "vfloat32m1_t yv;" in c
    assert "xv = __riscv_vle32_v_f32m1(&x[0], (n));" in c
    # vd[i] += f * vs2[i]: the scalar operand a[0] comes before the vector xv
    assert "yv = __riscv_vfmacc_vf_f32m1(yv, a[0], xv, (n));" in c
    assert "__riscv_vse32_v_f32m1(&y[0], yv, (n));" in c
