"""benchmarks/schedule_speed.py's growth tables (issue 9, item 5) build programs and
schedules from one number; these run each kind small, so that the tables keep timing
what they say they time (a schedule that no longer applies would print '-')."""

from __future__ import annotations

import importlib.util
import os

import pytest

_PATH = os.path.join(os.path.dirname(__file__), "..", "benchmarks", "schedule_speed.py")


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("schedule_speed_bench", _PATH)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize("kind,n", [("body", 4), ("depth", 3), ("nests", 3)])
def test_growth_kinds_reorder_and_split(bench, kind, n):
    p = bench.growth_proc(kind, n)
    first, second = bench.growth_steps(kind, n, p)
    reordered, split = first(), second(None)
    assert reordered.is_eq(p) and split.is_eq(p)
    loops = len(p.find_loop("i" if kind != "depth" else "i0", many=True))
    assert str(reordered) != str(p)
    # the split made one more nest where there was one
    outer = "i" if kind != "depth" else "i0"
    assert len(split.find_loop(outer, many=True)) == loops + 1


def test_growth_steps_cycle_gives_the_program_back(bench):
    p = bench.growth_proc("steps", 5)
    schedule, forward = bench.growth_steps("steps", 5, p)
    q = schedule()
    assert q.is_eq(p) and str(q) == str(p)
    assert forward(q).name() == "i"  # the first loop, forwarded through all five steps


def test_growth_depth_source_has_the_depth(bench):
    src = bench.growth_source("depth", 4)
    assert [ln.strip() for ln in src.splitlines()][:4] == [
        f"for i{d} in seq(0, N):" for d in range(4)]
    assert "D[i3, i2, i1, i0]" in src
