"""check_equiv: the empirical equivalence check users run themselves."""

from __future__ import annotations

import pytest

import knit
from knit import proc
from knit.equiv import EquivalenceError, check_backends
from knit.stdlib.scheduling import divide_loop, reorder_loops


@proc
def axpy(N: size, a: f32[1] @ DRAM, x: f32[N] @ DRAM, y: f32[N] @ DRAM):
    for i in seq(0, N):
        y[i] += a[0] * x[i]


@proc
def axpy_wrong(N: size, a: f32[1] @ DRAM, x: f32[N] @ DRAM, y: f32[N] @ DRAM):
    # a hand-written "schedule" that forgets the last element
    for i in seq(0, N - 1):
        y[i] += a[0] * x[i]
    y[N - 1] = y[N - 1]


@proc
def axpy_reassoc(N: size, a: f32[1] @ DRAM, x: f32[N] @ DRAM, y: f32[N] @ DRAM):
    for i in seq(0, N):
        y[i] += x[i] * a[0]


@proc
def isum(N: size, x: i32[N] @ DRAM, s: i32[1] @ DRAM):
    for i in seq(0, N):
        s[0] += x[i]


@proc
def isum_off(N: size, x: i32[N] @ DRAM, s: i32[1] @ DRAM):
    for i in seq(0, N):
        s[0] += x[i]
    s[0] += 1


@proc
def other_sig(N: size, x: f32[N] @ DRAM):
    pass


def test_a_checked_schedule_passes():
    p = divide_loop(axpy, "i", 4, ["io", "ii"], tail="cut")
    report = knit.check_equiv(axpy, p, trials=4)
    assert report.trials == 4 and all(s["N"] >= 1 for s in report.sizes)


def test_a_wrong_hand_written_schedule_is_caught_and_shrunk():
    with pytest.raises(EquivalenceError) as e:
        knit.check_equiv(axpy, axpy_wrong, trials=5)
    msg = str(e.value)
    assert "axpy and axpy_wrong differ" in msg
    assert "N=1" in msg  # shrunk to the smallest failing size
    assert "y[0]" in msg  # the differing index


def test_floating_point_tolerance_accepts_reordered_products():
    knit.check_equiv(axpy, axpy_reassoc, trials=3)


def test_integers_compare_exactly():
    with pytest.raises(EquivalenceError, match="s\\[0\\]"):
        knit.check_equiv(isum, isum_off, trials=2)


def test_fixed_sizes_are_used():
    report = knit.check_equiv(axpy, axpy, trials=2, sizes={"N": 5})
    assert [s["N"] for s in report.sizes] == [5, 5]


def test_signature_mismatch_is_an_argument_error():
    with pytest.raises(ValueError, match="arguments"):
        knit.check_equiv(axpy, other_sig)


def test_reorder_schedule_agrees_on_interpreter_and_compiled():
    @proc
    def add2(N: size, M: size, A: f32[N, M] @ DRAM, B: f32[N, M] @ DRAM):
        for i in seq(0, N):
            for j in seq(0, M):
                B[i, j] += A[i, j]

    q = reorder_loops(add2, "i j")
    knit.check_equiv(add2, q, trials=3, interpret=True)
    check_backends(q, trials=2)


@proc
def make_inf(N: size, x: f32[N] @ DRAM, y: f32[N] @ DRAM):
    for i in seq(0, N):
        y[i] = (x[i] * 0.0 + 1.0) / 0.0


@proc
def make_big(N: size, x: f32[N] @ DRAM, y: f32[N] @ DRAM):
    for i in seq(0, N):
        y[i] = (x[i] * 0.0 + 1.0) * 1000000.0


@proc
def make_nan(N: size, x: f32[N] @ DRAM, y: f32[N] @ DRAM):
    for i in seq(0, N):
        y[i] = (x[i] * 0.0) / 0.0


def test_infinities_and_nans_are_compared_deliberately():
    knit.check_equiv(make_inf, make_inf, trials=2)  # inf == inf
    knit.check_equiv(make_nan, make_nan, trials=2)  # NaN matches NaN
    with pytest.raises(EquivalenceError):
        knit.check_equiv(make_inf, make_big, trials=2)  # inf is not "close" to 1e6
    with pytest.raises(EquivalenceError):
        knit.check_equiv(make_nan, make_big, trials=2)


@proc
def axpy_wrong_tail(N: size, a: f32[1] @ DRAM, x: f32[N] @ DRAM, y: f32[N] @ DRAM):
    # whole chunks of 16 right, the rest written at the start of y (found by outside
    # testing: the default sizes were multiples of 4, 8, 16 or at most 12, never a
    # whole chunk of 16 and a rest)
    for io in seq(0, N / 16):
        for ii in seq(0, 16):
            y[16 * io + ii] += a[0] * x[16 * io + ii]
    for ti in seq(0, N % 16):
        y[ti] += a[0] * x[ti]


def test_default_sizes_run_whole_chunks_and_a_tail():
    with pytest.raises(EquivalenceError, match="axpy and axpy_wrong_tail differ"):
        knit.check_equiv(axpy, axpy_wrong_tail)
    report = knit.check_equiv(axpy, axpy, trials=5)
    kinds = [s["N"] for s in report.sizes]
    assert 17 <= kinds[0] <= 47 and kinds[0] % 16  # blocks of 16 and a tail first
    assert kinds[1] % 4 == 0 and 9 <= kinds[3] <= 31 and kinds[3] % 8  # multiples; 8 + tail


@proc
def shifted(N: size, k: index, x: f32[N] @ DRAM, y: f32[N] @ DRAM):
    assert -3 <= k and k <= 0
    for i in seq(0, N):
        y[i] = x[i] * 2.0


def test_index_arguments_may_be_negative():
    report = knit.check_equiv(shifted, shifted, trials=8)
    assert {s["k"] for s in report.sizes} - {0}  # not only k = 0 (drawn from -12..12)


def test_interpreter_only_runs_keep_the_small_sizes():
    # the tails' sizes (17..47) in a deep nest would cost the interpreter minutes
    report = knit.check_equiv(axpy, axpy, trials=5, compiled=False, interpret=True)
    assert all(s["N"] <= 32 for s in report.sizes)
    report = check_backends(axpy, trials=5)
    assert all(s["N"] <= 32 for s in report.sizes)
