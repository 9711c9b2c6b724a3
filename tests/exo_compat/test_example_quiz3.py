"""Shrinking a producer's buffer to one tile of a fused, tiled two-pass blur: what Exo's
`examples/quiz3` teaches, written here in knit's words (tests/exo_compat/
test_sink_alloc_tiles.py covers the `sink_alloc` step it needed on its own).

The buffer is sunk into each tile loop in turn and resized to the tile's extent in
that dimension (`resize_dim` with the tile's offset), then lifted out of the inner
tile loop: the tiles of a row reuse one small buffer (Exo 1.0.0 gives the same code;
the quiz's README shows the buffer one level higher). Which loops to sink into is
found by walking up from the innermost tile loop through `parent()`; a walk that
starts at the loop's parent forgets the loop itself, and only the row dimension
shrinks. Both results compute the blur; a dimension smaller than a tile reads, or
offset by the wrong loop, is refused."""

from __future__ import annotations

import pytest
from scheduling_checks import assert_body, equiv

import knit.API_cursors as pc
from knit import proc
from knit.errors import SchedulingError
from knit.stdlib.scheduling import lift_alloc, rename, resize_dim, simplify, sink_alloc

TILE = (4, 8)  # rows, columns of an output tile
HALO = (TILE[0] + 2, TILE[1])  # rows, columns of the horizontal pass one tile needs


@proc
def blur_tiles(W: size, H: size, out: f32[H, W], inp: f32[H + 2, W + 2]):
    assert H % 4 == 0
    assert W % 8 == 0
    horiz: f32[H + 2, W]
    for yo in seq(0, H / 4):
        for xo in seq(0, W / 8):
            for yi in seq(0, 6):
                for xi in seq(0, 8):
                    horiz[yi + 4 * yo, xi + 8 * xo] = (inp[yi + 4 * yo, xi + 8 * xo]
                                                       + inp[yi + 4 * yo, xi + 8 * xo + 1]
                                                       + inp[yi + 4 * yo, xi + 8 * xo + 2])
            for yi in seq(0, 4):
                for xi in seq(0, 8):
                    out[yi + 4 * yo, xi + 8 * xo] = (horiz[yi + 4 * yo, xi + 8 * xo]
                                                     + horiz[yi + 4 * yo + 1, xi + 8 * xo]
                                                     + horiz[yi + 4 * yo + 2, xi + 8 * xo])


def loops_from(cursor):
    """The loops around `cursor` and `cursor` itself, outermost first."""
    loops = []
    while not isinstance(cursor, pc.InvalidCursor):
        loops.append(cursor)
        cursor = cursor.parent()
    return loops[::-1]


def loops_above(cursor):
    """Only the loops around `cursor` (not `cursor`): the quiz's mistaken walk."""
    return loops_from(cursor.parent())


def one_tile_buffer(p, loops):
    alloc = p.find("horiz : _")
    for dim, loop in enumerate(loops):
        p = sink_alloc(p, alloc)
        p = resize_dim(p, alloc, dim, HALO[dim], f"{TILE[dim]} * {p.forward(loop).name()}")
    return simplify(lift_alloc(p, alloc))  # out of the inner tile loop: one per row of tiles


def test_walking_up_from_the_inner_tile_loop_finds_both_tile_loops():
    xo = blur_tiles.find_loop("xo")
    assert [c.name() for c in loops_from(xo)] == ["yo", "xo"]
    assert [c.name() for c in loops_above(xo)] == ["yo"]


@pytest.fixture(scope="module")
def shrunk():
    p = rename(blur_tiles, "blur_tiles_small")
    return one_tile_buffer(p, loops_from(p.find_loop("xo")))


def test_both_dimensions_shrink_to_one_tile(shrunk):
    assert_body(shrunk, """
        assert H % 4 == 0
        assert W % 8 == 0
        for yo in seq(0, H / 4):
            horiz: f32[6, 8] @ DRAM
            for xo in seq(0, W / 8):
                for yi in seq(0, 6):
                    for xi in seq(0, 8):
                        horiz[yi, xi] = inp[yi + 4 * yo, xi + 8 * xo] + inp[yi + 4 * yo, 1 + xi + 8 * xo] + inp[yi + 4 * yo, 2 + xi + 8 * xo]
                for yi in seq(0, 4):
                    for xi in seq(0, 8):
                        out[yi + 4 * yo, xi + 8 * xo] = horiz[yi, xi] + horiz[1 + yi, xi] + horiz[2 + yi, xi]
    """)
    equiv(blur_tiles, shrunk, sizes={"H": [4, 8], "W": [8, 16]}, max_size=16)


def test_the_walk_that_forgets_the_loop_shrinks_only_the_rows():
    p = rename(blur_tiles, "blur_tiles_rows")
    p = one_tile_buffer(p, loops_above(p.find_loop("xo")))
    text = str(p)
    assert "horiz: f32[6, W] @ DRAM" in text
    assert "horiz[yi, xi + 8 * xo] = " in text
    equiv(blur_tiles, p, sizes={"H": [4, 8], "W": [8, 16]}, max_size=16)


def test_a_buffer_smaller_than_a_tile_reads_or_offset_by_the_wrong_loop_is_refused():
    p = sink_alloc(blur_tiles, "horiz : _")
    with pytest.raises(SchedulingError, match=r"resize_dim: the access horiz\[yi \+ 4 \* yo - "
                       r"4 \* yo, xi \+ 8 \* xo\] may fall outside the new shape \(index "
                       r"yi \+ 4 \* yo - 4 \* yo of size 5\)"):
        resize_dim(p, "horiz : _", 0, HALO[0] - 1, "4 * yo")
    with pytest.raises(SchedulingError, match=r"may fall outside the new shape \(index "
                       r"xi \+ 8 \* xo - 8 \* yo of size 8\)"):
        resize_dim(p, "horiz : _", 1, HALO[1], "8 * yo")  # the columns' offset is 8 * xo
