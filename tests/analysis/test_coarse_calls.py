"""The race check's first, cheap pass (effects.coarse_accesses, race(coarse=...)): a
call is bounded by the windows it is passed -- a callee reaches a buffer only through
its parameters -- and only where that bound finds a possible race are the callee's
exact accesses checked. So a par loop over calls of a large kernel on disjoint windows
is proven without the kernel's accesses (knit.stdlib.gemm's passes by columns: 5.3 s ->
~0.1 s); a call that touches a config or a `static` buffer keeps its exact accesses;
and precision is kept: overlapping windows whose exact accesses are disjoint are still
accepted, and real races refused with the exact pair."""

from __future__ import annotations

import pytest
from scheduling_checks import equiv, refused

from knit import config, proc
from knit.analysis import effects as E
from knit.libs.memories import DRAM_STATIC
from knit.stdlib.sched_buffers import set_memory
from knit.stdlib.sched_subprocs import call_eqv
from knit.stdlib.scheduling import parallelize_loop


@pytest.fixture(autouse=True)
def bound_every_call(monkeypatch):
    """The callees here are small: bound them all (the default bounds only callees of
    BOUND_FROM accesses or more, test_a_small_callee_keeps_its_exact_accesses)."""
    monkeypatch.setattr(E, "BOUND_FROM", 1)


@proc
def row_sum(n: size, K: size, src: [f32][n, K], dst: [f32][n]):
    for i in seq(0, n):
        for k in seq(0, K):
            dst[i] += src[i, k]


@proc
def by_chunks(M: size, K: size, A: f32[M, K], y: f32[M]):
    assert M % 4 == 0
    for io in seq(0, M / 4):
        row_sum(4, K, A[4 * io:4 * io + 4, 0:K], y[4 * io:4 * io + 4])


@proc
def overlapping_chunks(M: size, K: size, A: f32[M + 4, K], y: f32[M + 4]):
    for io in seq(0, M):
        row_sum(4, K, A[io:io + 4, 0:K], y[io:io + 4])


def _loop_body(p):
    return p._loopir_proc.body[-1].body


def test_a_call_is_bounded_by_its_windows():
    coarse, bounded = E.coarse_accesses(_loop_body(by_chunks))
    coarse = [a.describe() for a in coarse]
    exact = [a.describe() for a in E.accesses(_loop_body(by_chunks))]
    # one read of A's window, one reduction into y's: not the callee's statements
    assert bounded and len(coarse) == 2 and coarse[0].startswith("reads A[") \
        and coarse[1].startswith("reduces into y[")
    assert any("src" not in d and "A[" in d for d in exact)


def test_disjoint_windows_are_proven_by_the_bound():
    p = parallelize_loop(by_chunks, "io")
    assert "#pragma omp parallel for" in p.c_code_str()
    equiv(by_chunks, p)
    body = _loop_body(p)
    loop = p._loopir_proc.body[-1]
    # the bound alone proves it: no pair among the coarse accesses
    facts = []
    assert E.race(loop, facts, E.coarse_accesses(body)[0]) is None

    def exact():
        raise AssertionError("the exact accesses were collected")

    assert E.race_free(loop, facts, exact, E.coarse_accesses(body)) is None


def test_overlapping_windows_are_refused_with_the_exact_pair():
    got = refused(lambda: parallelize_loop(overlapping_chunks, "io"), "would race",
                  prim="parallelize_loop")
    assert "y[" in got


@proc
def first_of(n: size, v: [f32][n]):
    v[0] = v[0] + 1.0


@proc
def own_firsts(N: size, x: f32[N]):
    for i in seq(0, N):
        first_of(N - i, x[i:N])


def test_overlapping_windows_with_disjoint_accesses_are_still_accepted():
    # x[i:N] overlap for every two iterations; each writes only x[i]
    p = parallelize_loop(own_firsts, "i")
    equiv(own_firsts, p)


@config
class Cnt:
    n: index


def test_a_call_touching_a_config_keeps_its_exact_accesses():
    @proc
    def sets(n: size, v: [f32][n]):
        Cnt.n = 1
        v[0] = 1.0

    @proc
    def caller(N: size, x: f32[N, 4]):
        for i in seq(0, N):
            sets(4, x[i, 0:4])

    assert not E.coarse_accesses(_loop_body(caller))[1]  # (no call bounded)
    refused(lambda: parallelize_loop(caller, "i"), "Cnt.n", prim="parallelize_loop")


def test_a_race_found_by_the_bound_is_reported_by_the_exact_accesses():
    @proc
    def caller(N: size, x: f32[N], y: f32[4]):
        for i in seq(0, N):
            first_of(4, y)

    body = _loop_body(caller)
    assert [a.describe() for a in E.coarse_accesses(body)[0]] == ["reads y[v]", "writes y[v]"]
    refused(lambda: parallelize_loop(caller, "i"), "would race", "y[0 + 0]",
            prim="parallelize_loop")


def test_a_callee_with_a_static_buffer_keeps_its_exact_accesses():
    @proc
    def scratch(v: [f32][4]):
        t: f32[4]
        for j in seq(0, 4):
            t[j] = v[j]
        for j in seq(0, 4):
            v[j] = t[j] * 2.0

    scratch_static = set_memory(scratch, "t : _", DRAM_STATIC)

    @proc
    def caller(N: size, x: f32[N, 4]):
        for i in seq(0, N):
            scratch(x[i, 0:4])

    p = parallelize_loop(caller, "i")  # a stack buffer: private to each call
    equiv(caller, p)
    shared = call_eqv(caller, caller.find("scratch(_)"), scratch_static)
    assert not E.coarse_accesses(_loop_body(shared))[1]
    refused(lambda: parallelize_loop(shared, "i"), "race", prim="parallelize_loop")


def test_a_small_callee_keeps_its_exact_accesses(monkeypatch):
    monkeypatch.undo()
    assert E.BOUND_FROM > len(E.accesses(row_sum._loopir_proc.body))
    acc, bounded = E.coarse_accesses(_loop_body(by_chunks))
    assert not bounded
    assert [a.describe() for a in acc] == [a.describe() for a in E.accesses(_loop_body(by_chunks))]


def test_a_scalar_argument_s_index_is_evaluated_as_at_the_call():
    # the callee never reads s, but the call evaluates b[C.k]: a read of Cnt.n
    @proc
    def first_only(v: [f32][4], s: f32):
        v[0] = 1.0

    @proc
    def caller(N: size, x: f32[N, 4], b: f32[4]):
        assert Cnt.n >= 0
        assert Cnt.n < 4
        for i in seq(0, N):
            first_only(x[i, 0:4], b[Cnt.n])

    acc, bounded = E.coarse_accesses(_loop_body(caller))
    assert bounded and "reads Cnt.n" in [a.describe() for a in acc]


def test_a_callee_with_a_deferred_error_is_not_bounded_by_its_window():
    # its write w[4] is outside the window passed, v (the error is deferred): the
    # window does not bound what it touches, and the exact accesses race
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")

        @proc
        def past_its_window(v: [f32][4]):
            w = v[0:8]
            w[4] = v[0]

        @proc
        def caller(N: size, x: f32[4 * N + 8]):
            for i in seq(0, N):
                past_its_window(x[4 * i:4 * i + 4])

    refused(lambda: parallelize_loop(caller, "i"), "would race", prim="parallelize_loop")
