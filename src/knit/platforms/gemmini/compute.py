"""The systolic array: `C (+)= A x B` on blocks of at most 16x16x16 (preload B and C,
then compute with A), and its configuration (`config_matmul`, the weight-stationary
dataflow). `matmul_acc_i8` accumulates into C; `matmul_i8` overwrites it.

The bodies are Exo's: A and B are copied into int32 temporaries, then multiplied (so
that `replace` matches the loops of Exo's applications, which are written so).
Prototypes are written over DRAM and moved with `on_accelerator` (see loads.py)."""

from __future__ import annotations

from knit import DRAM, instr, proc
from knit.platforms.gemmini.configs import SIM, ConfigMatmul, on_accelerator
from knit.platforms.gemmini.memories import GEMM_ACCUM, GEMM_SCRATCH
from knit.stdlib.scheduling import make_instr, rename, replace, write_config

_CONFIG_EX = "gemmini_extended_config_ex(GEMMINI_WS, 0, 0, 1, 0, 0);\n"


def _matmul_c(accumulate: bool) -> str:
    c_addr = "(uint64_t) &{C_data}" + (" | GEMMINI_ACCUMULATE_BIT" if accumulate else "")
    return (f"gemmini_extended_preload((uint64_t) &{{B_data}}, {c_addr}, "
            "{M}, {K}, {M}, {N});\n"
            "gemmini_extended_compute_preloaded((uint64_t) &{A_data}, GEMMINI_NO_ADDR, "
            "{K}, {N}, 16, 16);")


@instr(_CONFIG_EX, c_global=SIM)
def config_matmul():
    ConfigMatmul.done = True


@proc
def _matmul_i8(N: size, M: size, K: size, A: [i8][N, 16] @ DRAM,
               B: [i8][K, 16] @ DRAM, C: [i32][N, 16] @ DRAM):
    assert N <= 16
    assert M <= 16
    assert K <= 16
    assert stride(A, 0) == 16
    assert stride(B, 0) == 16
    assert stride(C, 0) == 16
    for i in seq(0, N):
        for j in seq(0, M):
            C[i, j] = 0.0
            for k in seq(0, K):
                a: i32
                b: i32
                a = A[i, k]
                b = B[k, j]
                C[i, j] += a * b


_matmul_i8 = on_accelerator(_matmul_i8, A=GEMM_SCRATCH, B=GEMM_SCRATCH, C=GEMM_ACCUM)


@proc
def _matmul_acc_i8(N: size, M: size, K: size, A: [i8][N, 16] @ DRAM,
                   B: [i8][K, 16] @ DRAM, C: [i32][N, 16] @ DRAM):
    assert N <= 16
    assert M <= 16
    assert K <= 16
    assert stride(A, 0) == 16
    assert stride(B, 0) == 16
    assert stride(C, 0) == 16
    for i in seq(0, N):
        for j in seq(0, M):
            for k in seq(0, K):
                a: i32
                b: i32
                a = A[i, k]
                b = B[k, j]
                C[i, j] += a * b


_matmul_acc_i8 = on_accelerator(_matmul_acc_i8, A=GEMM_SCRATCH, B=GEMM_SCRATCH, C=GEMM_ACCUM)


do_matmul_i8 = rename(make_instr(_matmul_i8, _matmul_c(False), SIM), "do_matmul_i8")
matmul_i8 = rename(make_instr(_matmul_i8, _CONFIG_EX + _matmul_c(False), SIM), "matmul_i8")
do_matmul_acc_i8 = rename(make_instr(_matmul_acc_i8, _matmul_c(True), SIM),
                          "do_matmul_acc_i8")
matmul_acc_i8 = rename(make_instr(_matmul_acc_i8, _CONFIG_EX + _matmul_c(True), SIM),
                       "matmul_acc_i8")


def _v2(p, name: str, do):
    """`p` as `config_matmul(); do(...)`, by checked rewrites (a plain proc)."""
    p = rename(p, name)
    p = write_config(p, p.body()[0].before(), ConfigMatmul, "done", "True")
    p = replace(p, "for i in _:_", do)
    return replace(p, "ConfigMatmul.done = _", config_matmul)


matmul_i8_v2 = _v2(_matmul_i8, "matmul_i8_v2", do_matmul_i8)
matmul_acc_i8_v2 = _v2(_matmul_acc_i8, "matmul_acc_i8_v2", do_matmul_acc_i8)
