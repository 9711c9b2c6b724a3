"""A 6x16 rank-K update scheduled onto AVX2 registers, then called from C: what Exo's
`examples/avx2_matmul` does (its Python schedule, compiled by `exocc`, and a `main.c`
calling both kernels through Exo's C ABI), written here in knit's words.

The schedule makes the update output stationary (k outermost, the 6x16 block of C held
in twelve 8-lane registers over the whole k loop), loads a row of B as two vectors,
broadcasts one element of A and accumulates with FMAs; loops are passed as cursors,
found once and forwarded where a later step needs them again. The library is then written to C twice, by
`compile_procs` and by the `exocc`-compatible command (`knit.main`, honouring
`__all__`), and a C program of our own includes the header, calls the plain and the
scheduled kernel with a NULL context first (Exo's ABI) and compares both with a
reference sum; its inputs are small integers, so every result is exact."""

from __future__ import annotations

import subprocess
import textwrap

import pytest
from test_x86_compiled import NATIVE_AVX2

import knit
from knit import compile_procs, proc
from knit.main import main as exocc
from knit.platforms.x86 import (
    AVX2,
    mm256_broadcast_ss,
    mm256_fmadd_ps,
    mm256_loadu_ps,
    mm256_storeu_ps,
)
from knit.stdlib.scheduling import (
    bind_expr,
    divide_dim,
    divide_loop,
    expand_dim,
    fission,
    lift_alloc,
    remove_loop,
    rename,
    reorder_loops,
    repeat,
    replace_all,
    set_memory,
    simplify,
    stage_mem,
)

needs_avx2 = pytest.mark.skipif(not NATIVE_AVX2, reason="this CPU cannot run AVX2/FMA code")


@proc
def mac_6x16(K: size, A: f32[6, K] @ DRAM, B: f32[K, 16] @ DRAM, C: f32[6, 16] @ DRAM):
    for i in seq(0, 6):
        for j in seq(0, 16):
            for k in seq(0, K):
                C[i, j] += A[i, k] * B[k, j]


def k_outermost(p):
    """Move k out over j, then over i, and split the 16 columns into two vectors."""
    k = p.find_loop("k")
    p = reorder_loops(p, p.find_loop("j"))
    p = reorder_loops(p, p.find_loop("i"))
    p = divide_loop(p, p.find_loop("j"), 8, ["jv", "jl"], perfect=True)
    return p, p.forward(k)


def accumulator_in_registers(p, k):
    """Stage the whole 6x16 block of C around the k loop in `acc`, shaped 6x2x8 so
    each row of 8 is a register, loaded and stored by vector instructions."""
    p = simplify(stage_mem(p, k, "C[0:6, 0:16]", "acc"))
    p = divide_dim(p, "acc : _", 1, 8)
    p = simplify(repeat(divide_loop)(p, "for i1 in _: _", 8, ["v", "l"], perfect=True))
    p = set_memory(p, "acc : _", AVX2)
    p = replace_all(p, [mm256_loadu_ps, mm256_storeu_ps])
    return simplify(p)


def b_row_in_registers(p):
    """Stage the row B[k, 0:16] used by one k step in two registers."""
    i = p.find_loop("i")
    p = simplify(stage_mem(p, i, "B[k, 0:16]", "brow"))
    load = p.forward(i).prev()  # the loop stage_mem put just before i
    p = divide_loop(p, load, 8, ["bv", "bl"], perfect=True)
    p = divide_dim(p, "brow : _", 0, 8)
    p = simplify(set_memory(p, "brow : _", AVX2))
    return simplify(replace_all(p, mm256_loadu_ps))


def broadcast_a_then_fma(p):
    """Bind A[i, k] to a scalar, grow it to a register of 8 copies filled before the
    column loops (fission), drop the now useless vector loop around the fill, and
    map the fill and the multiply-adds to instructions."""
    p = bind_expr(p, p.find("A[i, k]"), "abc")
    p = expand_dim(p, "abc : _", 8, "jl")
    p = lift_alloc(p, "abc : _", n_lifts=2)
    fill = p.find("abc[jl] = _")
    p = fission(p, fill.after(), n_lifts=2)
    p = remove_loop(p, p.forward(fill).parent().parent())
    p = set_memory(p, "abc : _", AVX2)
    p = replace_all(p, [mm256_broadcast_ss, mm256_fmadd_ps])
    return simplify(p)


def schedule(p):
    p = rename(p, "mac_6x16_avx2")
    p, k = k_outermost(p)
    p = accumulator_in_registers(p, k)
    p = b_row_in_registers(p)
    return broadcast_a_then_fma(p)


@pytest.fixture(scope="module")
def scheduled():
    return schedule(mac_6x16)


def test_every_statement_is_an_avx2_instruction(scheduled):
    text = str(scheduled)
    assert text.count("mm256_loadu_ps(") == 2 and text.count("mm256_storeu_ps(") == 1
    assert "mm256_broadcast_ss(abc[0:8], A[i, k:1 + k])" in text
    assert "mm256_fmadd_ps(acc[i, jv, 0:8], abc[0:8], brow[jv, 0:8])" in text
    for buf in ("acc: f32[6, 2, 8] @ AVX2", "brow: f32[2, 8] @ AVX2", "abc: f32[8] @ AVX2"):
        assert buf in text
    # no plain arithmetic is left: every load, multiply-add and store is a call
    assert "+=" not in text and " = " not in text.split("\n", 1)[1]
    assert scheduled.is_eq(mac_6x16)


@needs_avx2
def test_the_scheduled_kernel_agrees_with_the_plain_one(scheduled):
    knit.check_equiv(mac_6x16, scheduled, trials=2, interpret=True, sizes={"K": [1, 3, 9]})


MAIN_C = textwrap.dedent(r"""
    #include <stdio.h>
    #include "HEADER"

    enum { KMAX = 131 };
    static float A[6 * KMAX], B[KMAX * 16], plain[6 * 16], fast[6 * 16];

    /* Small integers: every product and sum below is exact in float. */
    static float small(int n) { return (float)(n % 7 - 3); }

    int main(void) {
        static const int ks[] = {1, 2, 7, 64, KMAX};
        int bad = 0;
        for (unsigned t = 0; t < sizeof ks / sizeof ks[0]; t++) {
            int K = ks[t];
            for (int i = 0; i < 6 * K; i++) A[i] = small(3 * i + t);
            for (int i = 0; i < K * 16; i++) B[i] = small(5 * i + 1);
            for (int i = 0; i < 6 * 16; i++) plain[i] = fast[i] = small(i);
            mac_6x16(NULL, K, A, B, plain);
            mac_6x16_avx2(NULL, K, A, B, fast);
            double total = 0;
            for (int i = 0; i < 6; i++)
                for (int j = 0; j < 16; j++) {
                    float want = small(16 * i + j);
                    for (int k = 0; k < K; k++) want += A[i * K + k] * B[k * 16 + j];
                    bad += plain[16 * i + j] != want || fast[16 * i + j] != want;
                    total += want;
                }
            printf("K=%d sum=%.1f\n", K, total);
        }
        printf("mismatches=%d\n", bad);
        return bad != 0;
    }
""")


def build_and_run(directory, header: str, c_file) -> list[str]:
    main = directory / "main.c"
    main.write_text(MAIN_C.replace("HEADER", header))
    exe = directory / "run"
    r = subprocess.run(["gcc", "-O2", "-march=native", "-Wall", "-Werror", "-o", str(exe),
                        str(main), str(c_file)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    out = subprocess.run([str(exe)], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout.splitlines()


def expected_lines() -> list[str]:
    lines = []
    for t, K in enumerate((1, 2, 7, 64, 131)):
        A = [[(3 * (i * K + k) + t) % 7 - 3 for k in range(K)] for i in range(6)]
        B = [[(5 * (k * 16 + j) + 1) % 7 - 3 for j in range(16)] for k in range(K)]
        total = sum((16 * i + j) % 7 - 3 + sum(A[i][k] * B[k][j] for k in range(K))
                    for i in range(6) for j in range(16))
        lines.append(f"K={K} sum={total:.1f}")
    return lines + ["mismatches=0"]


def test_header_declares_exos_abi(scheduled, tmp_path):
    compile_procs([mac_6x16, scheduled], tmp_path, "mac.c", "mac.h")
    # (one parameter list may be wrapped over several lines)
    h = " ".join((tmp_path / "mac.h").read_text().split()).replace("( ", "(").replace(" )", ")")
    for name in ("mac_6x16", "mac_6x16_avx2"):
        assert f"void {name}(void *ctxt, int_fast32_t K, const float* A, const float* B, " \
               f"float* C);" in h
    c = (tmp_path / "mac.c").read_text()
    assert c.count("_mm256_fmadd_ps(") == 1 and "_mm256_broadcast_ss(" in c


@needs_avx2
def test_a_c_program_calls_both_kernels_through_compile_procs(scheduled, tmp_path):
    compile_procs([mac_6x16, scheduled], tmp_path, "mac.c", "mac.h")
    assert build_and_run(tmp_path, "mac.h", tmp_path / "mac.c") == expected_lines()


LIBRARY = textwrap.dedent("""
    # a user library for exocc: the kernels come from the test module already loaded
    import sys

    _here = sys.modules[{module!r}]
    mac_6x16 = _here.mac_6x16
    mac_6x16_avx2 = _here.schedule(mac_6x16)
    unused = _here.mac_6x16  # not in __all__: not compiled twice
    __all__ = ["mac_6x16", "mac_6x16_avx2"]
""")


@needs_avx2
def test_a_c_program_calls_both_kernels_through_exocc(tmp_path):
    lib = tmp_path / "x86_kernels.py"
    lib.write_text(LIBRARY.format(module=__name__))
    out = tmp_path / "out"
    assert exocc(["-o", str(out), "--stem", "avx2_mac", str(lib)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["avx2_mac.c", "avx2_mac.d", "avx2_mac.h"]
    assert build_and_run(out, "avx2_mac.h", out / "avx2_mac.c") == expected_lines()
