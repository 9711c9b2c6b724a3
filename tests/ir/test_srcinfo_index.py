"""mark_generated's index of a derived procedure (knit.ir.srcinfo._Index): made from the
index of the procedure it came from and what the rewrite changed, it holds what an
index made from scratch holds (statement ids, sids, expression ids), and knows that no
two statements share a sid exactly when that is so -- so separate_copies skips its walk
only then, and still separates the copies a rewrite made (unroll_loop, cut_and_guard)."""

from __future__ import annotations

import pytest

from knit import proc
from knit.ir import srcinfo as SI
from knit.ir.visit import walk_stmts
from knit.stdlib.scheduling import (
    cut_loop,
    divide_loop,
    simplify,
    stage_mem,
    unroll_loop,
)


@pytest.fixture
def compared(monkeypatch):
    """Every index mark_generated makes, compared with one made from scratch."""
    import knit.procedure as KP

    seen = {"derived": 0, "distinct": 0, "copies": 0}
    orig = SI.mark_generated

    def check(old, new):
        out = orig(old, new)
        last = SI._state.last
        if last is not None and last.proc is out and last._stmts is not None:
            derived = last._base is not None
            fresh = SI._Index(out)
            assert last.stmts() == fresh.stmts()
            if last.distinct is not None:
                assert last.distinct == fresh.distinct
                seen["distinct"] += 1
                seen["copies"] += not fresh.distinct
            assert last.exprs() == fresh.exprs()
            seen["derived"] += derived
        return out

    monkeypatch.setattr(KP, "mark_generated", check)
    return seen


@proc
def blur(n: size, x: f32[n + 2], y: f32[n]):
    for i in seq(0, n):
        tmp: f32
        tmp = x[i] + x[i + 1]
        y[i] = tmp + x[i + 2]


def _schedule(p):
    p = divide_loop(p, "for i in _: _", 4, ["io", "ii"], tail="cut_and_guard")
    p = simplify(p)
    p = stage_mem(p, "for ii in _: _", "x[4 * io:4 * io + 6]", "xs")
    p = simplify(p)
    p = unroll_loop(p, p.find_loop("i0"))  # copies of the staging loop's body
    return simplify(p)


def test_the_derived_index_is_the_one_made_from_scratch(compared):
    p = _schedule(blur)
    assert compared["derived"] >= 3  # (derived from the one before, not from scratch)
    assert compared["distinct"] >= 5
    sids = [s.sid for s in walk_stmts(p.INTERNAL_proc().body)]
    assert len(sids) == len(set(sids))  # the unrolled copies separated


@proc
def two_loops(n: size, a: f32[n], b: f32[n]):
    assert n >= 4
    for i in seq(0, n):
        a[i] = 1.0
    for j in seq(0, n):
        b[j] = a[j]


def test_copies_a_rewrite_makes_are_separated(compared):
    p = cut_loop(two_loops, two_loops.find_loop("i"), 2)  # two copies of the body
    sids = [s.sid for s in walk_stmts(p.INTERNAL_proc().body)]
    assert len(sids) == len(set(sids))
    p = unroll_loop(divide_loop(p, p.find_loop("j"), 2, ["jo", "ji"], tail="cut"),
                    "ji")
    sids = [s.sid for s in walk_stmts(p.INTERNAL_proc().body)]
    assert len(sids) == len(set(sids))
    assert compared["copies"] >= 2  # (known to hold copies, before separate_copies)


def test_distinct_sids_is_known_only_for_the_last_indexed_procedure():
    p = _schedule(blur)
    ir = p.INTERNAL_proc()
    # (the last derivation's result may be this procedure: then it is known)
    other = ir.with_(body=ir.body + ir.body)  # every statement twice: not distinct
    assert not SI.distinct_sids(other)


def test_the_gemm_schedule_indexes_as_from_scratch(compared):
    from knit.stdlib.gemm import one_thread_kernel, schedule_gemm
    from tests.helpers.gemm_text import plain_gemm

    one_thread_kernel.cache_clear()  # (built once per process: built here)
    schedule_gemm(plain_gemm("f64"), "neon", threads=1)
    assert compared["derived"] > 100
