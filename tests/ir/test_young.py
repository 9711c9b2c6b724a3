"""young_only (knit/ir/young.py): while the outermost primitive runs, the cyclic
collector skips the objects that were there before it; afterwards everything is as it
was (nothing left frozen, a program's own frozen objects kept frozen, the collector's
state kept) and garbage cycles are still collected."""

from __future__ import annotations

import gc
import weakref

from knit.ir import young
from knit.procedure import parse_proc_string
from knit.stdlib.scheduling import divide_loop

_SRC = """\
def p(n: size, A: f32[n] @ DRAM):
    assert n % 4 == 0
    for i in seq(0, n):
        A[i] = 0.0
"""


class _Node:
    def __init__(self):
        self.other = self  # a cycle: only the cyclic collector frees it


def test_a_primitive_leaves_nothing_frozen():
    p = parse_proc_string(_SRC, {})
    divide_loop(p, p.find_loop("i"), 4, ["io", "ii"], perfect=True)
    assert gc.get_freeze_count() == 0


def test_a_programs_own_frozen_objects_stay_frozen():
    """A program froze its objects (as before a fork): a garbage cycle among them is
    not collected after a primitive ran (knit did not unfreeze them)."""
    p = parse_proc_string(_SRC, {})
    frozen = _Node()
    ref = weakref.ref(frozen)
    gc.freeze()
    try:
        del frozen
        divide_loop(p, p.find_loop("i"), 4, ["io", "ii"], perfect=True)
        assert gc.get_freeze_count() > 0
        gc.collect()
        assert ref() is not None
    finally:
        gc.unfreeze()
    gc.collect()
    assert ref() is None


def test_the_collector_stays_off_when_the_program_turned_it_off():
    p = parse_proc_string(_SRC, {})
    gc.disable()
    try:
        divide_loop(p, p.find_loop("i"), 4, ["io", "ii"], perfect=True)
        assert not gc.isenabled() and gc.get_freeze_count() == 0
    finally:
        gc.enable()


def test_garbage_cycles_made_inside_and_before_are_collected():
    old = _Node()
    old_ref = weakref.ref(old)
    with young.young_only():
        assert gc.get_freeze_count() > 0  # the objects from before are skipped
        new = _Node()
        new_ref = weakref.ref(new)
        del new
        gc.collect()  # a collection inside sees the young cycle
        assert new_ref() is None
        del old
        gc.collect()
        assert old_ref() is not None  # frozen: waits
    assert gc.get_freeze_count() == 0
    gc.collect()
    assert old_ref() is None  # collected once back among the others


def test_a_full_collection_follows_50_times_its_cost_in_primitives(monkeypatch):
    calls = []
    monkeypatch.setattr(young, "_state", [0.0, 1e-9])  # the last one took no time
    monkeypatch.setattr(gc, "collect", lambda *a: calls.append(a))
    with young.young_only():
        sum(range(10_000))
    assert calls == [(1,), ()]  # the young ones on entry, all on exit
    monkeypatch.setattr(young, "_state", [0.0, 3600.0])  # the last one took an hour
    with young.young_only():
        sum(range(10_000))
    assert calls == [(1,), (), (1,)] and young._state[0] > 0  # the time counted, no
    # full collection yet
