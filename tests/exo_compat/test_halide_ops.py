"""knit.stdlib.halide_scheduling_ops (Exo's Halide-style operations): compute_at fuses
the producer's loop into the consumer's, recomputing the values each iteration reads;
store_at shrinks the producer's buffer to what one iteration uses; with a prologue,
the first values are computed once before the loop. Each is a sequence of primitives;
compute_at without a prologue fuses with the check off (as Exo does: the overlapping
chunks recompute values a later iteration writes again), so its result is not proven
equal (is_eq is False) and is tested here on random inputs instead."""

from __future__ import annotations

import pytest
from scheduling_checks import assert_body, equiv

from knit import proc
from knit.errors import SchedulingError
from knit.stdlib.halide_scheduling_ops import (
    IndexRange,
    bounds_inference,
    compute_at,
    store_at,
    tile,
)
from knit.stdlib.scheduling import rename


@proc
def blur1d(n: size, out: f32[n], inp: f32[n + 3]):
    mid: f32[n + 1]
    for i in seq(0, n + 1):
        mid[i] = inp[i] + inp[i + 1] + inp[i + 2]
    for i in seq(0, n):
        out[i] = mid[i] + mid[i + 1]


def test_bounds_inference_of_the_consumer_reads():
    loop = blur1d.find_loop("i #1")
    r = bounds_inference(blur1d, loop, "mid", 0)
    assert r == IndexRange((("i", 1),), 0, 1)
    assert (r.get_size(), r.get_stride_of("i"), r.get_bounds()) == (2, 1, ("i + 0", "i + 2"))


def test_compute_at_then_store_at():
    p = compute_at(blur1d, blur1d.find("mid = _"), blur1d.find_loop("i #1"))
    assert_body(p, """
        mid: f32[1 + n] @ DRAM
        for i in seq(0, n):
            for ii in seq(0, 2):
                mid[i + ii] = inp[i + ii] + inp[1 + i + ii] + inp[2 + i + ii]
            out[i] = mid[i] + mid[1 + i]
    """)
    equiv(blur1d, p, sizes={"n": [1, 4, 6]}, proven=False)
    q = store_at(p, p.find("mid : _"), p.find_loop("i"))
    assert_body(q, """
        for i in seq(0, n):
            mid: f32[2] @ DRAM
            for ii in seq(0, 2):
                mid[ii] = inp[i + ii] + inp[1 + i + ii] + inp[2 + i + ii]
            out[i] = mid[0] + mid[1]
    """)
    equiv(blur1d, q, sizes={"n": [1, 4, 6]}, proven=False)


@proc
def box2(out: f32[6, 6], inp: f32[7, 7]):
    mid: f32[7, 7]
    for y in seq(0, 7):
        for x in seq(0, 7):
            mid[y, x] = inp[y, x] * 2.0
    for y in seq(0, 6):
        for x in seq(0, 6):
            out[y, x] = mid[y, x] + mid[y, x + 1] + mid[y + 1, x] + mid[y + 1, x + 1]


def test_compute_at_with_a_prologue():
    p = compute_at(box2, box2.find("mid = _"), box2.find_loop("x #1"), with_prologue=True)
    assert_body(p, """
        mid: f32[7, 7] @ DRAM
        for y in seq(0, 1):
            for x in seq(0, 7):
                mid[y, x] = inp[y, x] * 2.0
        for y in seq(0, 6):
            for x in seq(0, 1):
                mid[1 + y, x] = inp[1 + y, x] * 2.0
            for x in seq(0, 6):
                mid[1 + y, 1 + x] = inp[1 + y, 1 + x] * 2.0
                out[y, x] = mid[y, x] + mid[y, 1 + x] + mid[1 + y, x] + mid[1 + y, 1 + x]
    """)
    equiv(box2, p)


def test_tile_orders_the_tile_loops_inside():
    p = tile(box2, box2.find_loop("y #1"), box2.find_loop("x #1"), ["yo", "yi"],
             ["xo", "xi"], 3, 2)
    assert "for yo in seq(0, 2):\n        for xo in seq(0, 3):\n            for yi in seq(0, 3):" \
        in str(p)
    equiv(box2, p)


def test_compute_at_refuses_a_loop_that_indexes_two_dimensions():
    @proc
    def diagonal(out: f32[4], inp: f32[4, 4]):
        mid: f32[4, 4]
        for y in seq(0, 4):
            for x in seq(0, 4):
                mid[y, x] = inp[y, x]
        for i in seq(0, 4):
            out[i] = mid[i, i]

    with pytest.raises(SchedulingError, match="'i' indexes 2 dimensions of 'mid'; "
                       "compute_at/store_at need exactly one"):
        compute_at(diagonal, diagonal.find("mid = _"), diagonal.find_loop("i"))


def test_rename_keeps_working_on_the_results():  # the ops return ordinary procedures
    p = rename(compute_at(blur1d, blur1d.find("mid = _"), blur1d.find_loop("i #1")), "b")
    assert p.name() == "b"


def test_an_assert_e_equals_c_is_used_by_the_simplify_after_each_step():
    # Exo's halide ops read each `assert E == c` of the proc (str of the IR's preds) and
    # put c for E before simplifying; str() of a knit IR expression prints it as code
    # (it printed the dataclass, so the rewrite never fired)
    from knit.stdlib.halide_scheduling_ops import _simplify_with_preds

    @proc
    def f(n: size, m: size, x: f32[n, m]):
        assert n == 4
        assert m % 4 == 0
        for i in seq(0, n):
            for j in seq(0, m):
                x[i, j] = 0.0

    assert [str(p) for p in f.INTERNAL_proc().preds] == ["n == 4", "m % 4 == 0"]
    g = _simplify_with_preds(f)
    assert "for i in seq(0, 4):" in str(g) and "for j in seq(0, m):" in str(g)
    equiv(f, g, sizes=[{"n": 4, "m": 8}])
