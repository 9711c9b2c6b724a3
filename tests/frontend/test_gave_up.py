"""When z3 gives up (its deterministic work limit runs out), a definition-time check
says it could not prove the claim, never that it is false or has a counterexample."""

from __future__ import annotations

import pytest

from knit import proc
from knit.analysis import smt
from knit.errors import BoundsError, PreconditionError, RefusedLaterWarning


@pytest.fixture
def tiny_rlimit():
    old = smt.RLIMIT
    smt.set_rlimit(1)  # every query that reaches z3 gives up (the cache is emptied)
    yield
    smt.set_rlimit(old)


@proc
def needs_even(n: size, x: [f32][n]):
    assert n % 2 == 0
    pass


def _gave_up(msg: str) -> None:
    assert "the solver gave up: its work limit of 1 units ran out" in msg
    assert "the claim may hold, but it was not proven" in msg
    assert " for " not in msg.split("(the solver")[0]  # no made-up counterexample


def test_an_access_the_solver_gave_up_on(tiny_rlimit):
    with pytest.raises(BoundsError) as e:
        @proc
        def f(N: size, x: f32[N]):
            assert N % 4 == 0
            for i in seq(0, N):
                x[i + 3 - i % 4] = 0.0
    msg = str(e.value)
    assert "could not prove x[i + 3 - i % 4] in bounds: dimension 0 has size N" in msg
    assert "may be out of bounds" not in msg
    _gave_up(msg)


def test_a_window_the_solver_gave_up_on(tiny_rlimit):
    with pytest.warns(RefusedLaterWarning):  # a window statement: refused where it runs
        @proc
        def g(N: size, x: f32[N]):
            assert N % 4 == 0
            for i in seq(0, N):
                y = x[i - i % 4:i - i % 4 + 4]
    with pytest.raises(BoundsError) as e:
        g.c_code_str()
    msg = str(e.value)
    assert "could not prove the window x[i - i % 4:i - i % 4 + 4] in bounds" in msg
    assert "starts no earlier than 0" in msg
    _gave_up(msg)


def test_a_precondition_the_solver_gave_up_on(tiny_rlimit):
    with pytest.raises(PreconditionError) as e:
        @proc
        def h(N: size, M: size, x: f32[N]):
            assert N == 2 * M
            needs_even(N, x[0:N])
    msg = str(e.value)
    assert "needs_even requires `n % 2 == 0`, which could not be proven" in msg
    assert "it fails for" not in msg
    _gave_up(msg)


def test_the_same_programs_are_accepted_with_the_default_limit():
    @proc
    def f(N: size, x: f32[N]):
        assert N % 4 == 0
        for i in seq(0, N):
            x[i + 3 - i % 4] = 0.0

    @proc
    def h(N: size, M: size, x: f32[N]):
        assert N == 2 * M
        needs_even(N, x[0:N])


def test_a_real_counterexample_is_still_shown():
    with pytest.raises(BoundsError) as e:
        @proc
        def f(N: size, x: f32[N]):
            for i in seq(0, N):
                x[i + 1] = 0.0
    assert "may be out of bounds" in str(e.value) or "is out of bounds" in str(e.value)
    assert "gave up" not in str(e.value)
