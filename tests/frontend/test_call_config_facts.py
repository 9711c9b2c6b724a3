"""After a call, the definition-time checks know the config values the callee sets last,
unconditionally, from its size/index parameters (fuzzer case 101039: extract_subproc of
`Cfg.n = N` left a caller whose `t: f32[Cfg.n]` could no longer be proven non-empty).
Pins docs/semantics.md#config-read: the value is the argument's at the call."""

from __future__ import annotations

import pytest

from knit import check_equiv, config, proc
from knit.errors import KnitError
from knit.stdlib.scheduling import extract_subproc


@config
class Cc:
    n: size
    k: index


@proc
def set_n(N: size):
    Cc.n = N


@proc
def set_n_maybe(N: size, k: index):
    assert k >= 0
    if k == 0:
        Cc.n = N


@proc
def set_n_then_k(N: size):
    Cc.n = N + 1
    Cc.k = N


def test_extract_subproc_of_a_config_write_gives_a_valid_program():
    @proc
    def f(N: size, A: f32[N + 4] @ DRAM):
        assert N >= 3
        Cc.k = 0
        Cc.n = N
        t: f32[Cc.n] @ DRAM
        t[Cc.n - 1] = A[0]
        A[1] = t[N - 1]

    p, _ = extract_subproc(f, f.body()[1].as_block(), "sub")
    assert "sub(N)" in str(p)
    check_equiv(f, p)  # compiles and runs: the caller's checks accept it


def test_the_value_a_callee_sets_is_known_after_the_call():
    @proc
    def g(N: size, A: f32[N + 1] @ DRAM):
        set_n_then_k(N)
        A[Cc.n - 1] = 1.0   # Cc.n = N + 1
        A[Cc.k] = 2.0       # Cc.k = N

    A = __import__("numpy").zeros(5, "f4")
    g.interpret(N=4, A=A)
    assert A.tolist() == [0, 0, 0, 0, 2.0]


def test_a_conditional_write_teaches_nothing():
    with pytest.raises(KnitError, match="out of bounds|may not be positive"):
        @proc
        def h(N: size, A: f32[N] @ DRAM):
            Cc.n = 1
            set_n_maybe(N + 5, 1)
            A[Cc.n - 1] = 1.0  # Cc.n may be N + 5: refused


def test_an_argument_that_reads_the_config_teaches_nothing():
    # learning `Cc.n == Cc.n + 3` (the argument read after the call) would be a
    # contradiction that proves anything, this access included
    with pytest.raises(KnitError, match="out of bounds"):
        @proc
        def h(N: size, A: f32[N] @ DRAM):
            Cc.n = N
            set_n(Cc.n + 3)
            A[Cc.n + 100] = 1.0
