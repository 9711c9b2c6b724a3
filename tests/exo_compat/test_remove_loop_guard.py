"""remove_loop on a loop that may run no iteration: the idempotent body stays, guarded
by `if hi > lo` (Exo's rewrite), instead of a refusal. A body that is not idempotent is
still refused, guard or not."""

from __future__ import annotations

import pytest
from scheduling_checks import assert_body, equiv

from knit import proc
from knit.errors import SchedulingError
from knit.stdlib.scheduling import remove_loop


@proc
def fill_quarter(M: size, K: size, A: f32[M]):
    for k in seq(0, K / 4):
        for i in seq(0, M):
            A[i] = 1.0


def test_remove_loop_guards_when_the_trip_count_may_be_zero():
    p = remove_loop(fill_quarter, "k")
    assert_body(p, """
        if K / 4 > 0:
            for i in seq(0, M):
                A[i] = 1.0
    """)
    equiv(fill_quarter, p, sizes={"K": [1, 3, 4, 9]})


def test_remove_loop_needs_no_guard_when_the_loop_surely_runs():
    @proc
    def surely(M: size, K: size, A: f32[M]):
        assert K >= 4
        for k in seq(0, K / 4):
            for i in seq(0, M):
                A[i] = 1.0

    p = remove_loop(surely, "k")
    assert_body(p, """
        assert K >= 4
        for i in seq(0, M):
            A[i] = 1.0
    """)
    equiv(surely, p, sizes={"K": [4, 9]})


def test_remove_loop_still_refuses_a_body_that_is_not_idempotent():
    @proc
    def bump(K: size, A: f32[1]):
        for k in seq(0, K / 4):
            A[0] += 1.0

    with pytest.raises(SchedulingError, match="remove_loop: .*not idempotent"):
        remove_loop(bump, "k")
