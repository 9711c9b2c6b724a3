"""`x += e` into integer data with a float `e` truncates at every step
(docs/semantics.md#round-at-store), so such reductions do not commute and a rewrite may
not reorder them (fuzzer case 200716: lift_scope swapped two loops of one, and the
compiled result changed from -10 to -9). Reductions that do commute still reorder."""

from __future__ import annotations

import pytest

from knit import check_equiv, proc
from knit.cursors.internal import text_of
from knit.errors import SchedulingError
from knit.stdlib.scheduling import lift_scope, reorder_loops


@proc
def truncating(N: size, A: f64[2 * N, 2 * N] @ DRAM, C: i32[N, N + 2] @ DRAM):
    assert N >= 2
    for i in seq(0, N):
        for j in seq(0, N + 2):
            C[0, 0] += C[0, N - i] * A[2 * i + 1, 0]


@proc
def exact(N: size, A: i32[N, N] @ DRAM, C: i32[1] @ DRAM):
    for i in seq(0, N):
        for j in seq(0, N):
            C[0] += A[i, j]


def test_int_plus_float_reductions_are_not_reordered():
    with pytest.raises(SchedulingError, match="would be reversed"):
        lift_scope(truncating, truncating.body()[0].body()[0])
    with pytest.raises(SchedulingError, match="would be reversed"):
        reorder_loops(truncating, "i j")


def test_integer_reductions_still_commute():
    q = reorder_loops(exact, "i j")
    assert text_of(q.body()[0]).startswith("for j in")
    check_equiv(exact, q)
