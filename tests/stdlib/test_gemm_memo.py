"""Work the GEMM schedule builds once per process (issue 9, item 4): the register
kernels (a function of target, dtype, packing and shape), and the edges of every kernel
whose last rows and columns are the same statements (knit.rewrite.isolate: the edges
of kernels that differ only in their cache blocks, or in their threads). A hit answers
with the code a miss makes; another input (target, dtype, shape, the edges' options)
is not answered from it."""

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


def test_a_kernel_is_built_once_per_target_dtype_packing_and_shape():
    a = G.microkernel("neon", "f64", False, (4, 6))
    assert G.microkernel("neon", "f64", False, (4, 6)) is a
    assert G.microkernel("neon", "f64", False, (1, 6)) is not a  # another shape
    assert G.microkernel("neon", "f32", False, (4, 12))[0].name() != a[0].name()  # dtype
    assert G.microkernel("avx2", "f64", False, (4, 8))[1] is not a[1]  # another target
    assert G.microkernel("neon", "f64", True, None) is not a  # packed


def forget() -> None:
    """Forget the edges met and the kernels built (one per type, target, blocks, shape
    and threads in a process: schedule_gemm(p) calls it)."""
    isolate._MEMO.clear()
    G.one_thread_kernel.cache_clear()
    G.threaded_kernel.cache_clear()


@pytest.fixture
def fresh_memo():
    forget()
    yield
    forget()


def _edges_made(monkeypatch, *dtypes: str) -> list:
    """The edge schedules made (not answered from the memo), by name, once the NEON
    GEMM in passes of each of `dtypes` (built once per process, with edges of its own:
    the one-thread kernel's last rows call it) is built."""
    from knit.stdlib.gemm.variants import _sized

    for dtype in dtypes:
        _sized(dtype, "neon", None, "passes")
    made: list = []
    for name in ("edge_rows", "edge_rows_in_passes", "edge_columns"):
        orig = getattr(S, name)

        def counted(*args, _orig=orig, _name=name, **kw):
            made.append(_name)
            return _orig(*args, **kw)

        monkeypatch.setattr(S, name, counted)
    return made


def test_kernels_that_differ_in_their_blocks_share_their_edges(fresh_memo, monkeypatch):
    made = _edges_made(monkeypatch, "f64")
    p = plain()
    wide, narrow = G.Blocking(128, 1024, 1020), G.Blocking(128, 1024, 252)
    first = G.schedule_gemm(p, "neon", wide, threads=1)
    # (one thread: the last rows a call of the GEMM in passes, a few steps, each time)
    assert made == ["edge_rows_in_passes", "edge_columns"]
    # the same edges (statements, parameters, asserts, options), from another object
    # (gemm_parts is made anew for each kernel): answered, not made again
    second = G.schedule_gemm(plain(), "neon", narrow, threads=1)
    assert made == ["edge_rows_in_passes", "edge_columns", "edge_rows_in_passes"]
    # the answer is the code a schedule of its own makes
    forget()
    again = G.schedule_gemm(plain(), "neon", narrow, threads=1)
    assert made == ["edge_rows_in_passes", "edge_columns", "edge_rows_in_passes"] + \
        ["edge_rows_in_passes", "edge_columns"]
    assert c_of(second) == c_of(again)
    assert c_of(first) != c_of(second)  # (the blocks differ)


def test_other_edges_are_not_answered_from_the_memo(fresh_memo, monkeypatch):
    made = _edges_made(monkeypatch, "f32", "f64")
    blk = G.Blocking(128, 1024, 1020)
    G.schedule_gemm(plain("f64"), "neon", blk, threads=1)
    assert made == ["edge_rows_in_passes", "edge_columns"]
    G.schedule_gemm(plain("f32"), "neon", G.Blocking(128, 1024, 1008), threads=1)
    assert made[2:] == ["edge_rows_in_passes", "edge_columns"]  # another dtype
    # the small kernel's edges: B read in place, the last rows 4 at a time (other options)
    G.schedule_small(plain("f64"), "neon")
    assert made[4:] == ["edge_rows", "edge_columns"]


def test_one_and_two_threads_share_their_edges(fresh_memo, monkeypatch):
    made = _edges_made(monkeypatch, "f64")
    blk = G.Blocking(128, 1024, 1020)
    G.schedule_gemm(plain(), "neon", blk, threads=1)
    n = len(made)
    par = G.schedule_gemm(plain(), "neon", blk, threads=2, sequential_upto=0,
                          split="rows")
    # the same last columns, then made parallel; the last rows in column blocks, shared
    # out (one thread takes them in passes over k: edge_rows_in_passes)
    assert made[n:] == ["edge_rows"]
    assert "par(" in str(kernel_of(par))
