"""sink_alloc into a tiled producer/consumer loop (Exo's examples/quiz3): each read of
the buffer in an iteration reads what that iteration wrote at `yi + 4 * yo`, so every
iteration may have a fresh buffer. A read of an earlier iteration's value stays refused."""

from __future__ import annotations

import pytest
from scheduling_checks import assert_body, equiv

from knit import proc
from knit.errors import SchedulingError
from knit.stdlib.scheduling import sink_alloc


@proc
def tiled_blur(H: size, out: f32[H], inp: f32[H + 2]):
    assert H % 4 == 0
    tmp: f32[H + 2]
    for yo in seq(0, H / 4):
        for yi in seq(0, 6):
            tmp[yi + 4 * yo] = inp[yi + 4 * yo] * 2.0
        for yi in seq(0, 4):
            out[yi + 4 * yo] = tmp[yi + 4 * yo] + tmp[yi + 4 * yo + 2]


def test_sink_into_tiles_whose_reads_the_same_iteration_wrote():
    p = sink_alloc(tiled_blur, "tmp : _")
    assert_body(p, """
        assert H % 4 == 0
        for yo in seq(0, H / 4):
            tmp: f32[H + 2] @ DRAM
            for yi in seq(0, 6):
                tmp[yi + 4 * yo] = inp[yi + 4 * yo] * 2.0
            for yi in seq(0, 4):
                out[yi + 4 * yo] = tmp[yi + 4 * yo] + tmp[yi + 4 * yo + 2]
    """)
    equiv(tiled_blur, p, sizes={"H": 8})


@proc
def carries_a_row(H: size, out: f32[H], inp: f32[H]):
    assert H % 4 == 0
    tmp: f32[H]
    for yo in seq(0, H / 4):
        for yi in seq(0, 4):
            tmp[yi + 4 * yo] = inp[yi + 4 * yo]
        if yo > 0:
            out[4 * yo] = tmp[4 * yo - 1]


def test_sink_refused_when_an_iteration_reads_an_earlier_ones_row():
    with pytest.raises(SchedulingError, match="sink_alloc: a value written to 'tmp' in one "
                       "iteration may be read in a later one"):
        sink_alloc(carries_a_row, "tmp : _")
