"""knit.stdlib.gemm's f64 kernel on AVX-512 treats its third tile nest, all of k in one
pass (K < KC), as the other nests (`Isa.all_k_like_blocks`): A packed, where f32 reads
A's rows in place, and B's panel copied row by row, where f32 copies it down each
sliver. The choice, and the kernel against NumPy and the plain procedure at sizes that
cross that nest's tiles, blocks and edges."""

from __future__ import annotations

import re

import pytest
from test_gemm import dgemm, needs, run_against_numpy, sgemm

import knit
from knit.cursors.internal import text_of
from knit.stdlib import gemm as G
from tests.helpers.gemm_text import kernel_of

BLOCKS = G.Blocking(mc=16, kc=16, nc=32)  # K < 16: the all-of-k nest; 2 tiles per block
_DONE: dict = {}


def scheduled(plain, target="avx512", threads=1, blocks=BLOCKS):
    key = (plain.name(), target, threads, blocks)
    if key not in _DONE:
        q = G.schedule_gemm(plain, target, blocks, threads=threads, sequential_upto=0)
        _DONE[key] = kernel_of(q) if threads == 1 else q  # (one thread: what q calls)
    return _DONE[key]


def all_k_nest(q) -> str:
    """The text of the all-of-k tile nest (the `else` of `if KC <= K`) of a one-thread
    kernel, alone."""
    nest = q.body()[0].orelse()[0]
    assert nest.name() == "jc"
    return text_of(nest)


# B's panel of an NC block inside N, copied row by row: each row's NC columns NR at a time
BY_ROWS = re.compile(r"for i0 in seq\(0, K\):\n\s+for i1o in seq\(0, \d+\):\n\s+for i1i")


def test_f64_avx512_packs_a_where_all_of_k_is_one_pass():
    isa = G.target("avx512").isa("f64")
    assert isa.all_k_like_blocks
    nest = all_k_nest(scheduled(dgemm))
    assert "Ap_k: f64[2, K, 8]" in nest and "Bs_k: f64[2, K, 16]" in nest
    # the packed kernel (A k-major), not the one on rows of A
    assert "gemm_ukernel_f64_8x16_avx512(K, Ap_k[ir, 0:K, 0:8]" in nest
    assert "_rows_avx512(" not in nest
    assert BY_ROWS.search(nest)


@pytest.mark.parametrize("plain, target", [(sgemm, "avx512"), (dgemm, "avx2")],
                         ids=["f32-avx512", "f64-avx2"])
def test_other_types_and_targets_read_a_in_place_there(plain, target):
    dtype = "f32" if plain is sgemm else "f64"
    isa = G.target(target).isa(dtype)
    assert not isa.all_k_like_blocks
    blocks = G.Blocking(mc=2 * isa.mr, kc=16, nc=2 * isa.nr)
    nest = all_k_nest(scheduled(plain, target, blocks=blocks))
    assert "Ap_k" not in nest and f"_{isa.mr}x{isa.nr}_rows_{target}(" in nest
    assert "Bs_k" in nest and not BY_ROWS.search(nest)  # down each sliver


def sizes() -> list[tuple[int, int, int]]:
    """K below KC = 16 (and one at it), M and N across MR, MC, NR and NC and their edges."""
    return [(1, 1, 1), (8, 16, 15), (9, 17, 1), (16, 32, 7), (17, 33, 15), (31, 47, 3),
            (33, 65, 16), (40, 100, 11), (7, 70, 5), (100, 31, 9)]


@pytest.mark.parametrize("threads", [1, 2])
def test_packed_all_of_k_matches_numpy(threads):
    needs("avx512")
    f = scheduled(dgemm, threads=threads).compile()
    run_against_numpy(f, "f64", sizes(), seed=51 + threads)
    run_against_numpy(f, "f64", sizes()[1::2], strided=True, seed=61 + threads)


def test_packed_all_of_k_is_equivalent_to_the_plain_proc():
    needs("avx512")
    q = scheduled(dgemm)  # (the one-thread kernel dgemm calls, for the plain GEMM)
    assert q.is_eq(G.one_thread_kernel("f64", "avx512", BLOCKS, None)[0])
    fixed = {"M": [1, 9, 17, 33], "N": [1, 17, 33, 47], "K": [1, 7, 15]}
    assert knit.check_equiv(dgemm, q, trials=4, sizes=fixed).trials == 4


def test_machine_blocks_all_of_k_matches_numpy():
    # this machine's blocks (KC = 1024 on Zen 4): N + K > 512 takes the blocked kernel,
    # whose all-of-k nest packs A; M past one MC block takes its many-rows twin
    needs("avx512")
    f = G.schedule_gemm(dgemm, "avx512", threads=1).compile()
    kc = G.choose_blocking(G.target("avx512").isa("f64"), 8).kc
    run_against_numpy(f, "f64", [(75, 600, kc - 1), (300, 521, 40), (13, 700, 200)], seed=71)
    run_against_numpy(f, "f64", [(75, 600, kc - 1)], strided=True, seed=72)
