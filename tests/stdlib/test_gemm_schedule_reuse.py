"""Work schedule_gemm does not do twice (issue 9, item 4): the one-thread kernel is
built once per type, target, blocks and register block in a process
(`one_thread_kernel`): schedule_gemm(p, threads=1) makes p's nest a call of it, and a
threaded kernel's one-thread twin (small problems) and its threads' parts call it too,
not a second schedule of an extracted copy; the threaded kernel is built once too
(`threaded_kernel`). The reuse must never answer for another procedure: one differing
in a type, an assert, a memory, or only in being defined apart, gets a procedure of its
own, proven equal to it (a call of the kernel of its type: the kernels are of the plain
GEMM, shared by every procedure of that type).
"""

from __future__ import annotations

import numpy as np
import pytest
from test_gemm import needs, small_blocks

from knit.stdlib import gemm as G
from tests.helpers.gemm_text import kernel_of, plain_gemm


def plain(t: str = "f32", mem: str = "DRAM", extra: str = ""):
    return plain_gemm(t, mem, extra)


def body(p) -> str:
    return str(p).split("\n", 1)[1]  # the code past the def line (the name differs)


BLK = small_blocks("avx2", "f32")


def test_threaded_kernel_calls_the_one_thread_kernel_of_its_parts():
    p = plain()
    one = G.schedule_gemm(p, "avx2", BLK, threads=1)
    plain_part, part = G.one_thread_kernel("f32", "avx2", BLK, None)
    # one thread: p's nest a call of the kernel, built once (asked again, the same one)
    assert str(one).split("\n")[-1].strip() == \
        f"{part.name()}(M, N, K, A[0:M, 0:K], B[0:K, 0:N], C[0:M, 0:N])"
    assert kernel_of(one) is part
    assert kernel_of(G.schedule_gemm(plain(), "avx2", BLK, threads=1)) is part
    two = G.schedule_gemm(p, "avx2", BLK, threads=2)
    # two threads: p's nest a call of the threaded kernel, built once too
    plain_two, threaded = G.threaded_kernel("f32", "avx2", BLK, 2, None, G.SEQUENTIAL_UPTO,
                                            "auto")
    assert kernel_of(two) is threaded
    assert kernel_of(G.schedule_gemm(plain(), "avx2", BLK, threads=2)) is threaded
    k = threaded.name()
    text = str(threaded)
    assert ("if M + N + K <= 280 or (N < 32 or N < 64 and N % 16 > 0) and M + N + K <= 360:\n"
            f"        {k}_seq(M, N, K, A, B, C)") in text
    seq = threaded.find(f"{k}_seq(_)").subproc()
    assert f"{part.name()}(M, N, K, A[0:M, 0:K]" in str(seq)
    parts = str(threaded.find(f"{k}_par(_)").subproc().find(f"{k}_par_tiles(_)").subproc()
                .find(f"{k}_par_tiles_rows(_)").subproc())
    assert parts.count(f"{part.name()}(") == 2  # the same kernel
    # proven equal (derived by checked rewrites): the kernel to the plain GEMM it was
    # scheduled from, as its calls need, and the one- and two-thread procedures to p
    assert part.is_eq(plain_part) and threaded.is_eq(plain_two)
    assert one.is_eq(p) and two.is_eq(p)


@pytest.mark.parametrize("other", [
    lambda: plain("f64"),  # another type
    lambda: plain(extra="    assert M >= 3\n"),  # another assert
    lambda: plain(mem="DRAM_ALIGNED64"),  # another memory
    lambda: plain(),  # the same text, defined apart: another procedure
], ids=["type", "assert", "memory", "defined-apart"])
def test_reuse_never_answers_for_another_proc(other):
    p = plain()
    one = G.schedule_gemm(p, "avx2", None, threads=1)
    q = other()
    mine = G.schedule_gemm(q, "avx2", None, threads=1)
    assert mine is not one and mine.is_eq(q) and not mine.is_eq(p)
    dtype = "f64" if "f64" in str(q).split("\n")[0] else "f32"
    assert kernel_of(mine) is G.one_thread_kernel(dtype, "avx2", None, None)[1]
    # its code is q's: the assert, the type and the memory it was given
    text = str(mine)
    assert str(q).split("\n")[0] == text.split("\n")[0]
    assert ("assert M >= 3" in text) == ("assert M >= 3" in str(q))
    # and its threaded kernel is q's
    two = G.schedule_gemm(q, "avx2", None, threads=2)
    assert two.is_eq(q) and not two.is_eq(p)
    assert kernel_of(two) is G.threaded_kernel(dtype, "avx2", None, 2, None,
                                               G.SEQUENTIAL_UPTO, "auto")[1]
    assert str(q).split("\n")[0] == str(two).split("\n")[0]


def test_threaded_kernel_with_its_reused_twin_matches_numpy():
    needs("avx2")
    p = plain()
    G.schedule_gemm(p, "avx2", BLK, threads=1)
    f = G.schedule_gemm(p, "avx2", BLK, threads=2).compile()
    rng = np.random.default_rng(0)
    for m, n, k in ((5, 7, 3), (17, 40, 9), (70, 90, 50)):  # the twin, then the par kernel
        A = rng.standard_normal((m, k)).astype(np.float32)
        B = rng.standard_normal((k, n)).astype(np.float32)
        C = rng.standard_normal((m, n)).astype(np.float32)
        want = C + A @ B
        f(m, n, k, A, B, C)
        np.testing.assert_allclose(C, want, rtol=1e-4, atol=1e-4)


def test_interpreted_twin_matches_numpy():
    p = plain()
    two = G.schedule_gemm(p, "avx2", BLK, threads=2)
    rng = np.random.default_rng(1)
    m, n, k = 5, 7, 3  # M + N + K <= 280: the one-thread twin runs
    A = rng.standard_normal((m, k)).astype(np.float32)
    B = rng.standard_normal((k, n)).astype(np.float32)
    C = rng.standard_normal((m, n)).astype(np.float32)
    want = C + A @ B
    two.interpret(m, n, k, A, B, C)
    np.testing.assert_allclose(C, want, rtol=1e-4, atol=1e-4)

