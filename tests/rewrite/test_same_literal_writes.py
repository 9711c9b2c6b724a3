"""Two writes of the same literal to one location commute, so fuse and fission may
reorder them (either order leaves that value): the rewrite, equivalence, and the
refusal of the neighbours where the other write stores something else."""

from __future__ import annotations

from scheduling_checks import assert_body, differs, equiv, refused

from knit import config, proc
from knit.stdlib.scheduling import fission, fuse


@config
class Tile:
    rows: index


@proc
def set_rows_twice(n: size, x: f32[n]):
    for i in seq(0, n):
        Tile.rows = 4
        x[i] = 1.0
    for j in seq(0, n):
        Tile.rows = 4
        x[j] += 2.0


def test_fuse_loops_writing_the_same_literal_to_a_config():
    p = fuse(set_rows_twice, "for i in _: _", "for j in _: _")
    assert_body(p, """\
        for i in seq(0, n):
            Tile.rows = 4
            x[i] = 1.0
            Tile.rows = 4
            x[i] += 2.0""")
    equiv(set_rows_twice, p, sizes={"n": [1, 3]})


@proc
def set_then_read(n: size, x: f32[n], y: f32[n]):
    for i in seq(0, n):
        y[0] = 4.0
    for j in seq(0, n):
        x[j] = y[0]
        y[0] = 8.0


def test_fuse_refuses_when_the_other_write_stores_another_value():
    # fused, iteration 1 writes y[0] = 4.0 again after iteration 0 wrote 8.0, and
    # x[1] reads 4.0 instead of 8.0
    refused(lambda: fuse(set_then_read, "for i in _: _", "for j in _: _"),
            "fusing would reorder a dependence", prim="fuse")

    @proc
    def fused_anyway(n: size, x: f32[n], y: f32[n]):
        for i in seq(0, n):
            y[0] = 4.0
            x[i] = y[0]
            y[0] = 8.0

    differs(set_then_read, fused_anyway, sizes={"n": [2, 3]})


@proc
def zero_and_scale(n: size, acc: f32[2], x: f32[n]):
    for i in seq(0, n):
        acc[0] = 0.0
        x[i] = x[i] * 2.0
        acc[0] = 0.0
        acc[1] = x[i]


def test_fission_moves_a_write_of_the_same_literal_ahead():
    gap = zero_and_scale.find("x[_] = _").after()
    p = fission(zero_and_scale, gap, n_lifts=1)
    assert_body(p, """\
        for i in seq(0, n):
            acc[0] = 0.0
            x[i] = x[i] * 2.0
        for i in seq(0, n):
            acc[0] = 0.0
            acc[1] = x[i]""")
    equiv(zero_and_scale, p, sizes={"n": [1, 4]})


@proc
def read_then_reset(n: size, acc: f32[1], x: f32[n]):
    for i in seq(0, n):
        x[i] = acc[0]
        acc[0] = 0.0
        acc[0] = 1.0


def test_fission_refuses_when_the_other_write_stores_another_value():
    # split, x[1] reads the 0.0 of the first part instead of the 1.0 of iteration 0
    gap = read_then_reset.find("acc[0] = 0.0").after()
    refused(lambda: fission(read_then_reset, gap, n_lifts=1),
            "splitting the loop would reorder a dependence", "writes acc[0]",
            prim="fission")

    @proc
    def split_anyway(n: size, acc: f32[1], x: f32[n]):
        for i in seq(0, n):
            x[i] = acc[0]
            acc[0] = 0.0
        for i in seq(0, n):
            acc[0] = 1.0

    differs(read_then_reset, split_anyway, sizes={"n": [2, 3]})
