"""Schedules written once as Python functions over cursors and applied to several
procedures: cursors taken before a step are forwarded to the procedure after it."""

from __future__ import annotations

from scheduling_checks import assert_body, equiv, refused

from knit import proc
from knit.cursors.internal import text_of
from knit.stdlib.scheduling import (
    divide_loop,
    lift_scope,
    parallelize_loop,
    reorder_loops,
    simplify,
)


def tile2d(p, loop, a: int, b: int):
    """Tile the 2-D nest whose outer loop is `loop` (a cursor or a loop name) into a x b
    blocks: `for i: for j: s` -> `for io: for jo: for ii: (if ...) for ji: (if ...) s`."""
    loop = p.find_loop(loop) if isinstance(loop, str) else loop
    inner = loop.body()[0]
    i, j = loop.name(), inner.name()
    p = divide_loop(p, loop, a, [f"{i}o", f"{i}i"])
    # `inner` was taken before the first step: forward it to the current procedure
    p = divide_loop(p, p.forward(inner), b, [f"{j}o", f"{j}i"])
    # for io: for ii: if ..: for jo: ..  ->  for io: for ii: for jo: if ..: ..
    p = lift_scope(p, p.forward(inner))
    # the loop right inside io is ii; swap it with jo
    return reorder_loops(p, p.forward(loop).body()[0])


def parallel_rows(p, loop):
    """Parallelize the outer loop of a nest after tiling it by 2 x 4."""
    loop = p.find_loop(loop) if isinstance(loop, str) else loop
    p = tile2d(p, loop, 2, 4)
    return parallelize_loop(p, p.forward(loop))


@proc
def matadd(N: size, M: size, A: f32[N, M], B: f32[N, M], C: f32[N, M]):
    for i in seq(0, N):
        for j in seq(0, M):
            C[i, j] = A[i, j] + B[i, j]


@proc
def gemm(N: size, M: size, K: size, A: f32[N, K], B: f32[K, M], C: f32[N, M]):
    for r in seq(0, N):
        for c in seq(0, M):
            for k in seq(0, K):
                C[r, c] += A[r, k] * B[k, c]


def test_tile2d_on_a_matrix_add():
    p = tile2d(matadd, "i", 4, 8)
    assert_body(p, """
        for io in seq(0, (N + 3) / 4):
            for jo in seq(0, (M + 7) / 8):
                for ii in seq(0, 4):
                    if 4 * io + ii < N:
                        for ji in seq(0, 8):
                            if 8 * jo + ji < M:
                                C[4 * io + ii, 8 * jo + ji] = A[4 * io + ii, 8 * jo + ji] + B[4 * io + ii, 8 * jo + ji]
    """)
    equiv(matadd, p, sizes={"N": [1, 4, 5, 9], "M": [3, 8, 11]})


def test_tile2d_on_gemm_with_other_names_and_a_cursor():
    p = tile2d(gemm, gemm.find_loop("r"), 2, 3)
    names = [c.name() for c in p.find_all("for _ in _: _")]
    assert names == ["ro", "co", "ri", "ci", "k"]
    assert p.forward(gemm.find("C[_] += _")).parent().name() == "k"
    equiv(gemm, p, sizes={"N": [1, 3, 4], "M": [2, 5, 6], "K": [1, 3]})


def test_tile2d_on_an_inner_nest_after_another_schedule():
    p = reorder_loops(gemm, "c k")
    # a cursor follows its loop, not its position: the c loop is now inside k
    assert p.forward(gemm.find_loop("c")).parent().name() == "k"
    p = tile2d(p, p.forward(gemm.find_loop("r")).body()[0], 2, 2)
    names = [c.name() for c in p.find_all("for _ in _: _")]
    assert names == ["r", "ko", "co", "ki", "ci"]
    equiv(gemm, simplify(p), sizes={"N": [1, 3], "M": [3, 4], "K": [2, 5]})


def test_schedules_compose():
    p = parallel_rows(matadd, "i")
    assert text_of(p.find_loop("io")).startswith("for io in par(0, (N + 1) / 2):")
    equiv(matadd, p)
    q = parallel_rows(gemm, "r")
    equiv(gemm, q, sizes={"K": [1, 2, 5]})


def test_a_reusable_schedule_is_refused_where_it_is_unsafe():
    @proc
    def antidiag(N: size, A: f32[N + 1, N + 1]):
        for i in seq(0, N):
            for j in seq(0, N):
                A[i + 1, j] = A[i, j + 1] + 1.0

    # tiles reorder iterations (i, j) and (i + 1, j - 1) across a tile boundary
    refused(lambda: tile2d(antidiag, "i", 2, 2), "a dependence between iterations would be "
            "reversed", prim="reorder_loops")
