"""The GEMM schedule cuts the loop nest into tiles and edges (`cut_edges`) once per
content (knit.rewrite.isolate): kernels of one plain GEMM that share MR, NR and KC --
the blocked kernel, its twins with other MC and NC, the threaded ones, each with other
assertions of when it runs -- cut the same nest the same way. A hit answers with the
code a cut of its own makes; another KC (or MR, NR) is cut again."""

from __future__ import annotations

import pytest

from knit import compile_procs_to_strings
from knit.rewrite import isolate
from knit.stdlib import gemm as G
from knit.stdlib.gemm import schedule as S
from tests.helpers.gemm_text import kernel_of, plain_gemm as plain


def c_of(p) -> str:
    c, h = compile_procs_to_strings([p], "g.h")
    return c


@pytest.fixture
def cuts(monkeypatch) -> list:
    """The cuts made (not answered from the memo): their KC, in order."""
    forget()
    made: list = []
    orig = S.cut_edges

    def counted(p, g, mr, nr, kc):
        made.append(kc)
        return orig(p, g, mr, nr, kc)

    monkeypatch.setattr(S, "cut_edges", counted)
    yield made
    forget()


def forget() -> None:
    """Forget the cuts met and the kernels built (one per type, target, blocks, shape
    and threads in a process: schedule_gemm(p) calls it)."""
    isolate._MEMO.clear()
    G.one_thread_kernel.cache_clear()
    G.threaded_kernel.cache_clear()


def blocked(p, blk):
    """The one-thread blocked kernel of p itself for the blocks `blk`."""
    from knit.stdlib.gemm.variants import _blocked

    return _blocked(p, "neon", blk, None)


def test_kernels_with_the_same_kc_share_their_cut(cuts):
    wide, narrow = G.Blocking(128, 1024, 1020), G.Blocking(128, 1024, 252)
    first = G.schedule_gemm(plain(), "neon", wide, threads=1)
    assert cuts == [1024]
    # other blocks, and an assertion of its own (a twin's `M <= ...`; the blocked kernel
    # of such a procedure, as the twins build it: schedule_gemm itself schedules the
    # plain GEMM, whatever p asserts): the same cut
    second = blocked(plain(extra="    assert M >= 8\n"), narrow)
    assert cuts == [1024]
    # the answer is the code a cut of its own makes
    forget()
    again = blocked(plain(extra="    assert M >= 8\n"), narrow)
    assert cuts == [1024, 1024]
    assert c_of(second) == c_of(again)
    assert c_of(first) != c_of(second)  # (the blocks differ)


def test_another_kc_or_dtype_is_cut_again(cuts):
    G.schedule_gemm(plain(), "neon", G.Blocking(128, 1024, 1020), threads=1)
    G.schedule_gemm(plain(), "neon", G.Blocking(128, 512, 1020), threads=1)
    assert cuts == [1024, 512]
    G.schedule_gemm(plain("f32"), "neon", G.Blocking(128, 512, 1008), threads=1)
    assert cuts == [1024, 512, 512]  # another dtype: other statements


def test_one_and_two_threads_share_their_cut(cuts):
    blk = G.Blocking(128, 1024, 1020)
    G.schedule_gemm(plain(), "neon", blk, threads=1)
    par = G.schedule_gemm(plain(), "neon", blk, threads=2, sequential_upto=0, split="rows")
    assert cuts == [1024]
    assert "par(" in str(kernel_of(par))
