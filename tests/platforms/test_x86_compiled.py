"""knit.platforms.x86 compiled to C and run, against NumPy and the interpreter.

AVX2 code runs natively when this CPU has AVX2 and FMA, else through SIMDe. AVX-512
code always runs through SIMDe (`-DKNIT_USE_SIMDE`, no `-march`: SIMDe's portable
code), and natively too when the CPU has AVX-512F. SIMDe is Debian's `libsimde-dev`;
its tests are skipped, saying so, when its headers are missing. Every build uses
-Wall -Wextra -Werror: the generated C must compile warning-free.
"""

from __future__ import annotations

import functools
import os
import subprocess
import tempfile

import numpy as np
import pytest
from x86_cases import (
    CASES,
    FAMILIES,
    MASK_LOAD,
    MASK_STORE,
    PREFIX_LOAD,
    PREFIX_STORE,
    kernel,
    run_case,
)

from knit import DRAM, proc
from knit.platforms.x86 import (
    AVX2,
    AVX512,
    avx2_mask_loadu_ps,
    avx2_mask_storeu_ps,
    mm256_broadcast_ss,
    mm256_broadcast_ss_scalar,
    mm256_fmadd_ps,
    mm256_loadu_ps,
    mm256_storeu_ps,
    mm512_fmadd_ps,
    mm512_loadu_ps,
    mm512_mask_storeu_ps,
    mm512_maskz_loadu_ps,
    mm512_set1_ps,
    mm512_storeu_ps,
)
from knit.runtime.cpuinfo import flags as cpu_flags

WARNINGS = ["-Wall", "-Wextra", "-Werror"]
FLAGS = {
    "native": ["-O2", "-march=native", *WARNINGS],
    # -Wno-psabi: GCC notes that 32/64-byte vectors pass differently without -mavx
    "simde": ["-O2", "-DKNIT_USE_SIMDE", "-Wno-psabi", *WARNINGS],
}
SIMDE_MISSING = "SIMDe headers not found: install Debian's libsimde-dev (apt-get install " \
                "libsimde-dev)"


@functools.cache
def have_simde() -> bool:
    """Whether the C compiler finds SIMDe's AVX-512 header."""
    cc = os.environ.get("CC") or "cc"
    with tempfile.TemporaryDirectory() as d:
        src = os.path.join(d, "probe.c")
        with open(src, "w") as f:
            f.write("#define SIMDE_ENABLE_NATIVE_ALIASES\n#include <simde/x86/avx512.h>\n"
                    "int main(void) { return 0; }\n")
        r = subprocess.run([*cc.split(), "-fsyntax-only", src], capture_output=True,
                           check=False)
    return r.returncode == 0


NATIVE_AVX2 = {"avx2", "fma"} <= cpu_flags()
NATIVE_AVX512 = "avx512f" in cpu_flags()
_EDGE_SHAPES = (MASK_LOAD, MASK_STORE, PREFIX_LOAD, PREFIX_STORE)


def modes_for(case) -> list:
    """The builds a case runs in, as pytest params (skipped ones say why)."""
    simde = pytest.param("simde", marks=pytest.mark.skipif(not have_simde(),
                                                           reason=SIMDE_MISSING))
    if case.family.startswith("avx512"):  # (avx512vl: 256-bit registers, AVX-512 forms)
        return [simde, *(["native"] if NATIVE_AVX512 else [])]
    if not NATIVE_AVX2:
        return [simde]
    # the edge instructions have C of their own for SIMDe: run that too
    return ["native", *([simde] if case.shape in _EDGE_SHAPES else [])]


def _params():
    for case in CASES:
        for mode in modes_for(case):
            name = mode if isinstance(mode, str) else mode.values[0]
            marks = () if isinstance(mode, str) else mode.marks
            yield pytest.param(case, name, marks=marks, id=f"{case.instr}-{name}")


def compiled(p, mode: str):
    return p.compile(flags=FLAGS[mode])


@pytest.mark.parametrize("case, mode", list(_params()))
def test_compiled_instruction_matches_numpy(case, mode):
    run = compiled(kernel(case), mode)
    for n in case.shape.ns(FAMILIES[case.family].W):
        run_case(case, lambda k, **args: run(**args), n, seed=1)


def avx2_mode() -> str:
    if NATIVE_AVX2:
        return "native"
    if not have_simde():
        pytest.skip(SIMDE_MISSING + " (and this CPU lacks AVX2/FMA)")
    return "simde"


def avx512_modes() -> list[str]:
    modes = ["native"] if NATIVE_AVX512 else []
    if have_simde():
        modes.append("simde")
    if not modes:
        pytest.skip(SIMDE_MISSING + " (and this CPU lacks AVX-512F)")
    return modes


# ---------------------------------------------------------------- IEEE corner cases

_X = [np.nan, 1.0, -0.0, 0.0, 2.0, np.nan, -np.inf, 3.0]
_Y = [1.0, np.nan, 0.0, -0.0, 2.0, -np.nan, 5.0, -3.0]


def _bits(a):
    return a.view(np.uint32 if a.dtype == np.float32 else np.uint64)


@pytest.mark.parametrize("instr", ["mm256_max_ps", "mm256_max_pd", "avx2_select_ps"])
def test_nan_and_signed_zero_as_the_hardware_does(instr):
    case = next(c for c in CASES if c.instr == instr)
    f = FAMILIES[case.family]
    x = np.array(_X[:f.W], f.dtype)
    y = np.array(_Y[:f.W], f.dtype)
    if instr == "avx2_select_ps":
        args = {"x": x, "v": y, "y": np.arange(8, dtype=f.dtype), "z": -np.arange(8, dtype=f.dtype)}
        out = "o"
    else:
        args = {"x": x, "y": y}
        out = "z"
    results = []
    for run in (kernel(case).interpret, compiled(kernel(case), avx2_mode())):
        a = {k: v.copy() for k, v in args.items()}
        a[out] = np.zeros(f.W, f.dtype)
        run(**a)
        results.append(a[out])
    want = case.ref(*(args[k] for k in args))
    np.testing.assert_array_equal(_bits(results[0]), _bits(want))
    np.testing.assert_array_equal(_bits(results[1]), _bits(want))


def test_relu_of_nan_and_negative_zero():
    case = next(c for c in CASES if c.instr == "mm512_relu_ps")
    x = np.array([np.nan, -0.0, 0.0, -1.0, 1.5, -np.inf, np.inf, -np.nan] * 2, np.float32)
    want = np.where(x > 0, x, np.float32(0))
    runs = [kernel(case).interpret] + [compiled(kernel(case), m) for m in avx512_modes()]
    for run in runs:
        y = np.full(16, 7.0, np.float32)
        run(x=x.copy(), y=y)
        np.testing.assert_array_equal(_bits(y), _bits(want))


# ---------------------------------------------------------------- whole kernels


@proc
def sgemm_6x16(K: size, A: f32[6, K] @ DRAM, B: f32[K, 16] @ DRAM, C: f32[6, 16] @ DRAM):
    # Exo's AVX2 example after scheduling: C held in 12 registers across the k loop
    C_reg: f32[6, 2, 8] @ AVX2
    for i in seq(0, 6):
        for jo in seq(0, 2):
            mm256_loadu_ps(C_reg[i, jo, :], C[i, 8 * jo:8 * jo + 8])
    for k in seq(0, K):
        B_reg: f32[2, 8] @ AVX2
        for jo in seq(0, 2):
            mm256_loadu_ps(B_reg[jo, :], B[k, 8 * jo:8 * jo + 8])
        for i in seq(0, 6):
            A_reg: f32[8] @ AVX2
            mm256_broadcast_ss(A_reg, A[i, k:k + 1])
            for jo in seq(0, 2):
                mm256_fmadd_ps(C_reg[i, jo, :], A_reg, B_reg[jo, :])
    for i in seq(0, 6):
        for jo in seq(0, 2):
            mm256_storeu_ps(C[i, 8 * jo:8 * jo + 8], C_reg[i, jo, :])


def test_sgemm_microkernel():
    rng = np.random.default_rng(2)
    K = 37
    A = rng.standard_normal((6, K)).astype(np.float32)
    B = rng.standard_normal((K, 16)).astype(np.float32)
    C0 = rng.standard_normal((6, 16)).astype(np.float32)
    want = C0 + A.astype(np.float64) @ B.astype(np.float64)
    code = sgemm_6x16.c_code_str()
    assert "__m256 C_reg[6][2];" in code  # loaded whole first: not zeroed, as in Exo
    assert "C_reg[i][jo] = _mm256_fmadd_ps(A_reg, B_reg[jo], C_reg[i][jo]);" in code
    for run in (sgemm_6x16.interpret, compiled(sgemm_6x16, avx2_mode())):
        C = C0.copy()
        run(K, A, B, C)
        np.testing.assert_allclose(C, want, rtol=1e-4, atol=1e-4)


@proc
def saxpy(N: size, a: f32, x: f32[N] @ DRAM, y: f32[N] @ DRAM):
    # y += a * x for any N: whole registers, then one masked register for the tail
    av: f32[8] @ AVX2
    mm256_broadcast_ss_scalar(av, a)
    for io in seq(0, N / 8):
        xv: f32[8] @ AVX2
        yv: f32[8] @ AVX2
        mm256_loadu_ps(xv, x[8 * io:8 * io + 8])
        mm256_loadu_ps(yv, y[8 * io:8 * io + 8])
        mm256_fmadd_ps(yv, av, xv)
        mm256_storeu_ps(y[8 * io:8 * io + 8], yv)
    if N % 8 > 0:
        xt: f32[8] @ AVX2
        yt: f32[8] @ AVX2
        avx2_mask_loadu_ps(N % 8, xt, x[8 * (N / 8):N])
        avx2_mask_loadu_ps(N % 8, yt, y[8 * (N / 8):N])
        mm256_fmadd_ps(yt, av, xt)
        avx2_mask_storeu_ps(N % 8, y[8 * (N / 8):N], yt)


@pytest.mark.parametrize("N", [1, 7, 8, 13, 64, 67])
def test_saxpy_with_masked_tail(N):
    rng = np.random.default_rng(N)
    x = rng.standard_normal(N).astype(np.float32)
    y0 = rng.standard_normal(N).astype(np.float32)
    a = np.float32(1.75)
    for run in (saxpy.interpret, compiled(saxpy, avx2_mode())):
        y = y0.copy()
        run(N, a, x, y)
        np.testing.assert_allclose(y, y0 + a * x, rtol=1e-6, atol=1e-6)


@proc
def sgemm_4x32(K: size, A: f32[4, K] @ DRAM, B: f32[K, 32] @ DRAM, C: f32[4, 32] @ DRAM):
    # the same schedule for AVX-512, whose FMA takes the accumulator last
    C_reg: f32[4, 2, 16] @ AVX512
    for i in seq(0, 4):
        for jo in seq(0, 2):
            mm512_loadu_ps(C_reg[i, jo, :], C[i, 16 * jo:16 * jo + 16])
    for k in seq(0, K):
        B_reg: f32[2, 16] @ AVX512
        for jo in seq(0, 2):
            mm512_loadu_ps(B_reg[jo, :], B[k, 16 * jo:16 * jo + 16])
        for i in seq(0, 4):
            A_reg: f32[16] @ AVX512
            mm512_set1_ps(A_reg, A[i, k:k + 1])
            for jo in seq(0, 2):
                mm512_fmadd_ps(A_reg, B_reg[jo, :], C_reg[i, jo, :])
    for i in seq(0, 4):
        for jo in seq(0, 2):
            mm512_storeu_ps(C[i, 16 * jo:16 * jo + 16], C_reg[i, jo, :])


def test_avx512_microkernel():
    rng = np.random.default_rng(3)
    K = 21
    A = rng.standard_normal((4, K)).astype(np.float32)
    B = rng.standard_normal((K, 32)).astype(np.float32)
    C0 = rng.standard_normal((4, 32)).astype(np.float32)
    want = C0 + A.astype(np.float64) @ B.astype(np.float64)
    runs = [sgemm_4x32.interpret] + [compiled(sgemm_4x32, m) for m in avx512_modes()]
    for run in runs:
        C = C0.copy()
        run(K, A, B, C)
        np.testing.assert_allclose(C, want, rtol=1e-4, atol=1e-4)


@proc
def copy_edge_avx512(N: size, x: f32[N] @ DRAM, y: f32[N] @ DRAM):
    # partial registers on both sides: lanes past N are never read or written
    assert N <= 16
    v: f32[16] @ AVX512
    mm512_maskz_loadu_ps(N, v, x[0:N])
    mm512_mask_storeu_ps(N, y[0:N], v)


def test_avx512_masked_copy_stays_inside_the_arrays():
    # the arrays end exactly at N: a full-width access would read or write past them
    for run in [copy_edge_avx512.interpret] + [compiled(copy_edge_avx512, m)
                                               for m in avx512_modes()]:
        for N in (1, 9, 16):
            buf = np.full(N + 16, -5.0, np.float32)
            x = np.arange(N, dtype=np.float32)
            y = buf[:N]
            run(N, x, y)
            np.testing.assert_array_equal(y, x)
            np.testing.assert_array_equal(buf[N:], -5.0)
