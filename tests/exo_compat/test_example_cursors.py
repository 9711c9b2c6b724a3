"""Cursors on a matrix-vector product: what Exo's `examples/cursors` walks through,
written here in knit's words. A loop is found by name and by pattern (the same cursor),
navigated (body, parent), printed (the whole procedure with the place marked), and
then used on procedures scheduled from the one it was found in: a primitive takes a
cursor of an ancestor procedure and forwards it itself, so passing it directly and
passing `p.forward(c)` give equal procedures. A scheduling operator of our own, built
from primitives, takes cursors of the original procedure for every step."""

from __future__ import annotations

import pytest
from scheduling_checks import assert_body, equiv

import knit.API_cursors as pc
from knit import proc
from knit.errors import SchedulingError
from knit.stdlib.scheduling import divide_loop, lift_scope, rename


@proc
def matvec(M: size, N: size, A: f32[M, N], x: f32[N], y: f32[M]):
    assert M % 8 == 0
    assert N % 8 == 0
    for i in seq(0, M):
        for j in seq(0, N):
            y[i] += A[i, j] * x[j]


@proc
def unrelated(M: size, y: f32[M]):
    for i in seq(0, M):
        y[i] = 0.0


ROWS = matvec.find_loop("i")
COLS = ROWS.body()[0]
UPDATE = COLS.body()[0]

SIGNATURE = "def {}(M: size, N: size, A: f32[M, N] @ DRAM, x: f32[N] @ DRAM, y: f32[M] @ DRAM):"


def test_a_loop_found_by_name_is_the_loop_found_by_pattern():
    assert ROWS == matvec.find("for i in _: _")
    assert COLS == matvec.find("for j in _: _") and COLS != ROWS
    assert isinstance(ROWS, pc.ForCursor) and ROWS.name() == "i"


def test_navigation_goes_down_through_bodies_and_back_up_through_parents():
    assert isinstance(UPDATE, pc.ReduceCursor) and UPDATE.name() == "y"
    assert str(UPDATE.rhs()) == "A[i, j] * x[j]"
    assert UPDATE.parent() == COLS and COLS.parent() == ROWS
    assert ROWS.is_ancestor_of(UPDATE) and not UPDATE.is_ancestor_of(ROWS)
    # above the outermost statement there is no loop: an invalid cursor
    assert isinstance(ROWS.parent(), pc.InvalidCursor)


def test_a_cursor_prints_its_procedure_with_the_place_marked():
    assert str(COLS) == "\n".join([
        SIGNATURE.format("matvec"),
        "    for i in seq(0, M):",
        "        for j in seq(0, N):  # <-- NODE",
        "            y[i] += A[i, j] * x[j]",
    ])


@pytest.fixture(scope="module")
def tiled():
    """Rename, then divide both loops by 8, each step given the ORIGINAL cursors."""
    p = rename(matvec, "matvec_tiles")
    p = divide_loop(p, ROWS, 8, ["io", "ii"], perfect=True)
    return divide_loop(p, COLS, 8, ["jo", "ji"], perfect=True)


def test_cursors_of_the_original_forward_to_what_each_rewrite_made(tiled):
    assert tiled.forward(ROWS).name() == "io" and tiled.forward(COLS).name() == "jo"
    assert "                    y[8 * io + ii] += A[8 * io + ii, 8 * jo + ji] * x[8 * jo + ji]" \
        "  # <-- NODE" in str(tiled.forward(UPDATE)).splitlines()
    assert tiled.forward(COLS).parent().name() == "ii"


def test_a_primitive_forwards_an_ancestors_cursor_itself(tiled):
    direct = lift_scope(tiled, COLS)
    forwarded = lift_scope(tiled, tiled.forward(COLS))
    assert direct == forwarded and direct != tiled
    assert str(direct.forward(COLS)) == "\n".join([
        SIGNATURE.format("matvec_tiles"),
        "    for io in seq(0, M / 8):",
        "        for jo in seq(0, N / 8):  # <-- NODE",
        "            for ii in seq(0, 8):",
        "                for ji in seq(0, 8):",
        "                    y[8 * io + ii] += A[8 * io + ii, 8 * jo + ji] * x[8 * jo + ji]",
    ])


def tile_rows_and_cols(p, rows, cols, size: int):
    """A scheduling operator of our own: `size` x `size` tiles of two nested loops,
    given as cursors of `p` or of any procedure `p` was scheduled from."""
    r, c = rows.name(), cols.name()
    p = divide_loop(p, rows, size, [r + "t", r + "e"], perfect=True)
    p = divide_loop(p, cols, size, [c + "t", c + "e"], perfect=True)
    return lift_scope(p, p.forward(cols))


def test_an_operator_of_our_own_tiles_with_the_original_cursors():
    p = tile_rows_and_cols(matvec, ROWS, COLS, 8)
    assert_body(p, """
        assert M % 8 == 0
        assert N % 8 == 0
        for it in seq(0, M / 8):
            for jt in seq(0, N / 8):
                for ie in seq(0, 8):
                    for je in seq(0, 8):
                        y[8 * it + ie] += A[8 * it + ie, 8 * jt + je] * x[8 * jt + je]
    """)
    equiv(matvec, p, sizes={"M": [8, 16], "N": [8, 24]}, max_size=24)


def test_an_operator_given_forwarded_cursors_gives_the_same_procedure():
    renamed = rename(matvec, "matvec_tiles")
    a = tile_rows_and_cols(renamed, ROWS, COLS, 8)
    b = tile_rows_and_cols(renamed, renamed.forward(ROWS), renamed.forward(COLS), 8)
    # the same code; not `==`: each divide_loop makes new variables, and Procedure
    # equality (as Exo's) compares variables, not their names
    assert str(a) == str(b) and a != b


def test_forwarding_into_a_procedure_not_scheduled_from_the_cursors_is_refused(tiled):
    with pytest.raises(pc.InvalidCursorError, match="cannot forward a cursor of 'matvec' to "
                       "'unrelated': the procedure was not derived from the cursor's procedure"):
        unrelated.forward(ROWS)
    with pytest.raises(pc.InvalidCursorError, match="cannot forward a cursor of "
                       "'matvec_tiles' to 'matvec'"):
        matvec.forward(tiled.forward(ROWS))


def test_a_tile_that_does_not_divide_the_loop_is_refused(tiled):
    with pytest.raises(SchedulingError, match=r"divide_loop: cannot prove that the trip count "
                       r"N / 8 is a multiple of 3 \(perfect=True\)"):
        divide_loop(tiled, COLS, 3, ["a", "b"], perfect=True)
