"""resize_dim(..., fold=True) as a sliding window over the whole scope of a buffer
(Exo's blur and unsharp schedules): a prologue loop fills the first rows, a second loop
slides. Accepted when no access falls back `size` or more elements behind an earlier
one; refused when a value would be overwritten before it is read."""

from __future__ import annotations

import pytest
from scheduling_checks import assert_body, equiv

from knit import proc
from knit.errors import SchedulingError
from knit.stdlib.scheduling import resize_dim


@proc
def rows_blur(H: size, inp: f32[H + 2], out: f32[H]):
    t: f32[H + 2]
    for r in seq(0, 2):
        t[r] = inp[r] * 2.0
    for r in seq(0, H):
        t[r + 2] = inp[r + 2] * 2.0
        out[r] = t[r] + t[r + 1] + t[r + 2]


def test_fold_a_prologue_then_a_sliding_loop():
    p = resize_dim(rows_blur, "t", 0, 3, 0, fold=True)
    assert_body(p, """
        t: f32[3] @ DRAM
        for r in seq(0, 2):
            t[r % 3] = inp[r] * 2.0
        for r in seq(0, H):
            t[(r + 2) % 3] = inp[r + 2] * 2.0
            out[r] = t[r % 3] + t[(r + 1) % 3] + t[(r + 2) % 3]
    """)
    equiv(rows_blur, p, proven=True, sizes={"H": 6})


def test_fold_refuses_a_window_of_two_rows_for_three():
    with pytest.raises(SchedulingError, match="circular buffer of 2 is too small: cannot "
                       r"prove t\[r \+ 2\] and a later access t\[r\] are less than 2 apart"):
        resize_dim(rows_blur, "t", 0, 2, 0, fold=True)


@proc
def jumps(x: f32[10]):
    t: f32[10]
    t[0] = x[0]
    t[2] = x[2] + t[0]
    t[7] = x[7] + t[2]
    t[5] = x[5] + t[7]
    x[1] = t[5] + t[7]


def test_fold_accepts_jumps_forward_and_small_steps_back():
    # 0, 2, 7, 5: forward freely; back by 2 < 3
    p = resize_dim(jumps, "t", 0, 3, 0, fold=True)
    assert_body(p, """
        t: f32[3] @ DRAM
        t[0 % 3] = x[0]
        t[2 % 3] = x[2] + t[0 % 3]
        t[7 % 3] = x[7] + t[2 % 3]
        t[5 % 3] = x[5] + t[7 % 3]
        x[1] = t[5 % 3] + t[7 % 3]
    """)
    equiv(jumps, p)


def test_fold_refuses_a_step_back_as_large_as_the_buffer():
    # folded to 2, t[5] and t[7] share a slot while both are still read
    with pytest.raises(SchedulingError, match=r"circular buffer of 2 is too small: cannot "
                       r"prove t\[7\] and a later access t\[5\]"):
        resize_dim(jumps, "t", 0, 2, 0, fold=True)


@proc
def branches(c: bool, N: size, x: f32[N + 4], y: f32[N]):
    t: f32[N + 4]
    t[0] = x[0]
    t[1] = x[1]
    if c:
        for i in seq(0, N):
            t[i + 2] = x[i + 2]
            y[i] = t[i] + t[i + 2]
    else:
        for i in seq(0, N):
            t[i + 2] = x[i + 2] * 2.0
            y[i] = t[i + 1]


def test_fold_through_both_branches_of_an_if():
    p = resize_dim(branches, "t", 0, 3, 0, fold=True)
    assert "t[(i + 2) % 3] = x[i + 2] * 2.0" in str(p)
    assert "y[i] = t[i % 3] + t[(i + 2) % 3]" in str(p)
    equiv(branches, p, sizes={"N": 5})
    with pytest.raises(SchedulingError, match=r"cannot prove t\[i \+ 2\] and a later access "
                       r"t\[i\] are less than 2 apart"):
        resize_dim(branches, "t", 0, 2, 0, fold=True)


@proc
def through_window(N: size, x: f32[N + 1, 4], y: f32[N, 4]):
    t: f32[N + 1, 4]
    for i in seq(0, N + 1):
        for j in seq(0, 4):
            t[i, j] = x[i, j]
    for i in seq(0, N):
        w = t[i, :]
        for j in seq(0, 4):
            y[i, j] = w[j]


def test_fold_refuses_accesses_through_a_named_window():
    # the reads happen later, through w: the rule cannot place them in time
    with pytest.raises(SchedulingError, match=r"cannot follow the accesses through the "
                       r"window w = t\[i, 0:4\]"):
        resize_dim(through_window, "t", 0, 2, 0, fold=True)
