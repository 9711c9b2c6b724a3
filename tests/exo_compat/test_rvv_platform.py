"""knit.platforms.rvv: Exo's RVV instructions load, `replace` finds them in plain code
(binding the vector length), the scheduled procedure computes what the plain one does
(interpreter: this machine runs no RVV code), and its C passes clang's RISC-V front end
when clang is installed. Arrays of RVV registers are refused at code generation: C has
no arrays of a sizeless type."""

from __future__ import annotations

import shutil
import subprocess

import pytest

import knit
from knit import compile_procs_to_strings, proc
from knit.core.memory import MemGenError
from knit.platforms.rvv import RVV, rvv_vfmacc_4xf32_4xf32, rvv_vld_4xf32, rvv_vst_4xf32
from knit.stdlib.scheduling import replace, set_memory


@proc
def fma4(C: f32[4], A: f32[4], B: f32[4]):
    c: f32[4]
    a: f32[4]
    b: f32[4]
    for i in seq(0, 4):
        c[i] = C[i]
    for i in seq(0, 4):
        a[i] = A[i]
    for i in seq(0, 4):
        b[i] = B[i]
    for i in seq(0, 4):
        c[i] += a[i] * b[i]
    for i in seq(0, 4):
        C[i] = c[i]


def _scheduled():
    p = fma4
    for buf in "cab":  # knit's replace wants the registers' memory first
        p = set_memory(p, buf, RVV)
    for _ in range(3):
        p = replace(p, "for i in _: _ #0", rvv_vld_4xf32)
    p = replace(p, "for i in _: _ #0", rvv_vfmacc_4xf32_4xf32)
    return replace(p, "for i in _: _ #0", rvv_vst_4xf32)


def test_replace_binds_the_vector_length():
    p = _scheduled()
    text = str(p)
    assert "rvv_vld_4xf32(c[0:4], C[0:4], 4)" in text
    assert "rvv_vfmacc_4xf32_4xf32(c[0:4], a[0:4], b[0:4], 4)" in text
    assert "rvv_vst_4xf32(C[0:4], c[0:4], 4)" in text
    knit.check_equiv(fma4, p, trials=3, compiled=False, interpret=True)


def test_c_uses_the_intrinsics():
    c, _ = compile_procs_to_strings([_scheduled()], "rvv_test.h")
    assert "#include <riscv_vector.h>" in c
    assert "vfloat32m1_t c;" in c
    assert "__riscv_vfmacc_vv_f32m1(c, a, b, (4));" in c  # Exo puts {vl} in parentheses


def test_c_passes_clangs_riscv_front_end():
    c, _ = compile_procs_to_strings([_scheduled()], "rvv_test.h")
    clang = shutil.which("clang")
    if clang is None:
        pytest.skip("clang not installed: the RISC-V syntax check needs it")
    # no RISC-V C library here: check freestanding, without the hosted headers
    src = "\n".join(ln for ln in c.splitlines()
                    if not ln.startswith(("#include <std", '#include "rvv_test.h"')))
    r = subprocess.run([clang, "--target=riscv64-linux-gnu", "-march=rv64gcv",
                        "-ffreestanding", "-fsyntax-only", "-x", "c", "-"], input=src,
                       text=True, capture_output=True)
    if "riscv_vector.h' file not found" in r.stderr or \
            "implicit declaration of function '__riscv_" in r.stderr:
        pytest.skip("this clang lacks the RVV header or its __riscv_ intrinsic names (17+)")
    assert r.returncode == 0, r.stderr


def test_an_array_of_rvv_registers_is_refused_at_code_generation():
    @proc
    def two_regs(C: f32[2, 4]):
        c: f32[2, 4] @ RVV
        for j in seq(0, 2):
            rvv_vld_4xf32(c[j, 0:4], C[j, 0:4], 4)
            rvv_vst_4xf32(C[j, 0:4], c[j, 0:4], 4)

    with pytest.raises(MemGenError, match="'c' is an array of RVV registers .* sizeless "
                       "C type: C has no arrays of it"):
        compile_procs_to_strings([two_regs], "two_regs.h")
