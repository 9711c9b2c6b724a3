"""Scheduling and compiling from many threads at once (issue 15): no crash, no raw
z3 exception, and every thread gets the answer it would get alone."""

from __future__ import annotations

import threading

import numpy as np

from knit import proc
from knit.analysis import smt
from knit.errors import SchedulingError
from knit.stdlib.scheduling import divide_loop, reorder_loops, reorder_stmts, simplify

THREADS = 12


@proc
def parity(N: size, k: index, m: index, x: f32[4 * N + 2]):
    assert k >= 0 and k < N and m >= 0 and m < N
    x[2 * k] = 1.0
    x[2 * m + 1] = 2.0


@proc
def clash(N: size, k: index, m: index, x: f32[4 * N + 2]):
    assert k >= 0 and k < N and m >= 0 and m < N
    x[2 * k] = 1.0
    x[4 * m] = 2.0


@proc
def scale(N: size, M: size, x: f32[N, M]):
    assert N % 4 == 0
    for i in seq(0, N):
        for j in seq(0, M):
            x[i, j] = x[i, j] * 2.0


def work(i: int) -> tuple:
    """Schedule (z3 queries: one proven, one refused), compile and run."""
    a = reorder_stmts(parity, parity.find("x[_] = 1.0").expand(0, 1))
    try:
        reorder_stmts(clash, clash.find("x[_] = 1.0").expand(0, 1))
        refused = ""
    except SchedulingError as err:
        refused = str(err).splitlines()[0]
    s = divide_loop(scale, "for i in _:_", 4, ["io", "ii"], perfect=True)
    s = simplify(reorder_loops(s, "for ii in _:_"))
    x = np.full((8, 3 + i % 3), float(i % 3), np.float32)
    s.compile()(x)
    return str(a), refused, str(s), x.tolist()


def run_threads(n: int) -> list:
    results, errors = [None] * n, []
    barrier = threading.Barrier(n)

    def body(i):
        try:
            barrier.wait()
            results[i] = work(i)
        except BaseException as err:  # noqa: BLE001 -- reported below, with the thread
            errors.append((i, repr(err)))

    threads = [threading.Thread(target=body, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    assert not any(t.is_alive() for t in threads), "a thread hangs"
    assert not errors, errors
    return results


def test_many_threads_schedule_and_compile_like_one():
    smt.clear_cache()  # so the threads really query z3 at the same time
    alone = [work(i) for i in range(3)]
    for _ in range(2):
        smt.clear_cache()
        results = run_threads(THREADS)
        for i, r in enumerate(results):
            assert r == alone[i % 3], i
    assert "could not" not in alone[0][1] and "do not commute" in alone[0][1]
    assert alone[1][3] == np.full((8, 4), 2.0).tolist()
