"""tile_loops_bottom_up over a three-deep nest: every copy made for the tails (the
cut-and-guard tail of each divided loop duplicates the loops inside it) gets the same
loop order as the main tile, inner tile loops innermost (`ko io jo ki ii ji`), as Exo's
SGEMM application needs for its per-tile staging."""

from __future__ import annotations

from scheduling_checks import equiv

from knit import proc
from knit.stdlib.stdlib import tile_loops_bottom_up


@proc
def mm(M: size, N: size, K: size, A: f32[M, K], B: f32[K, N], C: f32[M, N]):
    for k in seq(0, K):
        for i in seq(0, M):
            for j in seq(0, N):
                C[i, j] += A[i, k] * B[k, j]


def _loop_orders(p) -> list[str]:
    """The loop variables from each outermost loop down to the statement, per nest."""
    orders, stack = [], []
    for line in str(p).splitlines()[1:]:
        depth = (len(line) - len(line.lstrip())) // 4
        text = line.strip()
        del stack[depth - 1:]
        stack.append(text.split()[1] if text.startswith("for ") else "")
        if text.startswith("C["):
            orders.append(" ".join(v for v in stack if v))
    return orders


def test_every_tail_copy_has_the_tile_loops_innermost():
    p = tile_loops_bottom_up(mm, mm.body()[0], (8, 6, 4))
    orders = _loop_orders(p)
    assert orders[0] == "ko io jo ki ii ji"
    assert len(orders) == 8  # main tile and the tails of k, i, j and their combinations
    for order in orders:
        loops = order.split()
        # whatever tail a nest is in, ki (or k's tail) comes after jo and before ii
        assert loops[-1] == "ji" and loops[-2] == "ii" and loops[-3] == "ki", order
    equiv(mm, p, sizes={"M": [5, 7, 13], "N": [3, 4, 9], "K": [7, 8, 17]})
