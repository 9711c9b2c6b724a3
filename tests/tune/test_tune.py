"""knit.tune: the search keeps only checked schedules, times them, caches the results."""

from __future__ import annotations

import pytest

import knit
from knit import proc
from knit.stdlib.scheduling import divide_loop, simplify, unroll_loop
from knit.tuning import measure as M, search as S
from knit.tuning.report import NOT_EQUIVALENT, OK, REFUSED

FAST = dict(rounds=2, samples=3, target=1e-4, quiet=True)  # tests check logic, not speed


@proc
def scale(x: f32[48] @ DRAM, y: f32[48] @ DRAM):
    for i in seq(0, 48):
        y[i] = 2.0 * x[i]


@proc
def other(x: f32[48] @ DRAM, y: f32[48] @ DRAM):  # same signature, another result
    for i in seq(0, 48):
        y[i] = 3.0 * x[i]


def split(p, q: int, unroll: bool):
    p = divide_loop(p, "i", q, ["io", "ii"], perfect=True)
    if unroll:
        p = unroll_loop(p, "ii")
    return simplify(p)


@pytest.fixture(autouse=True)
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("KNIT_CACHE_DIR", str(tmp_path))
    return tmp_path


def test_exhaustive_tries_every_point_and_explains_refusals():
    r = knit.tune(split, {"q": [4, 5, 8], "unroll": [False, True]}, proc=scale, **FAST)
    assert r.strategy == "exhaustive" and len(r.points) == 6
    by = {(p.params["q"], p.params["unroll"]): p for p in r.points}
    for unroll in (False, True):  # 48 is not a multiple of 5: divide_loop refuses
        assert by[5, unroll].status == REFUSED
        assert "multiple of 5" in by[5, unroll].reason, by[5, unroll].reason
        for q in (4, 8):
            assert by[q, unroll].status == OK and len(by[q, unroll].samples) >= 2
            assert all(t > 0 for t in by[q, unroll].samples)
    assert r.params in [p.params for p in r.points if p.status == OK]
    assert r.time == min(p.time for p in r.points if p.status == OK)
    # the best is the schedule of its parameters, proven and checked equal to the original
    assert str(r.best) == str(split(scale, **r.params))
    assert r.best.is_eq(scale)
    knit.check_equiv(scale, r.best, trials=2)
    assert r.baseline is not None and r.baseline > 0
    table = r.table()
    assert table.splitlines()[0].split()[:3] == ["q", "unroll", "time/call"]
    assert "refused" in table and "multiple of 5" in table


def test_a_schedule_that_changes_the_result_is_rejected():
    def wrong(p, k: int):
        return other if k == 1 else split(p, 4, False)

    r = knit.tune(wrong, {"k": [0, 1]}, proc=scale, **FAST)
    bad = next(p for p in r.points if p.params == {"k": 1})
    assert bad.status == NOT_EQUIVALENT and bad.samples == []
    assert "y" in bad.reason  # check_equiv names the buffer that differs
    assert r.params == {"k": 0}


def test_second_run_is_read_from_the_cache(monkeypatch):
    space = {"q": [4, 6], "unroll": [False, True]}
    first = knit.tune(split, space, proc=scale, **FAST)
    assert first.cache_hits == 0

    def no_build(*a, **k):
        raise AssertionError("a cached point was built again")

    monkeypatch.setattr(M, "build", no_build)
    monkeypatch.setattr(knit, "check_equiv", no_build)
    second = knit.tune(split, space, proc=scale, **FAST)
    assert second.cache_hits == 4
    assert second.params == first.params
    assert {repr(p.params): p.samples for p in second.points} == \
        {repr(p.params): p.samples for p in first.points}
    assert second.baseline == first.baseline


def test_the_cache_key_names_flags_schedule_and_proc(monkeypatch):
    space = {"q": [4], "unroll": [False]}
    knit.tune(split, space, proc=scale, **FAST)
    assert knit.tune(split, space, proc=scale, flags=["-O2"], **FAST).cache_hits == 0
    assert knit.tune(split, space, proc=scale, cache=False, **FAST).cache_hits == 0

    def split2(p, q, unroll):  # another schedule function: other entries
        return split(p, q, unroll)

    assert knit.tune(split2, space, proc=scale, **FAST).cache_hits == 0
    assert knit.tune(split, space, proc=scale, **FAST).cache_hits == 1


def test_random_then_local_search_finds_the_minimum_of_a_known_cost(monkeypatch):
    """Timing replaced by a known bowl-shaped cost: the local search must reach its
    minimum, trying far fewer points than the space holds."""

    def fake_time(self, cands):
        for _, _, pt in cands:
            if not pt.params:  # the unscheduled procedure
                pt.samples.append(1.0)
                continue
            q, u = pt.params["q"], pt.params["u"]
            pt.samples.append(1e-6 * (1 + (q - 12) ** 2 + (u - 3) ** 2))

    monkeypatch.setattr(S._Run, "_time", fake_time)
    space = {"q": [1, 2, 3, 4, 6, 8, 12, 16, 24, 48], "u": list(range(12))}

    def sched(p, q, u):
        return split(p, q, False)

    r = knit.tune(sched, space, proc=scale, exhaustive_max=10, budget=60, seed=1, **FAST)
    assert r.strategy == "random + local"
    assert r.params == {"q": 12, "u": 3}
    assert len(r.points) < 120
    assert any("converged" in n for n in r.notes)


def test_progress_bar_and_quiet(capsys):
    space = {"q": [4], "unroll": [False]}
    knit.tune(split, space, proc=scale, cache=False, **FAST)
    assert capsys.readouterr().err == ""
    knit.tune(split, space, proc=scale, cache=False, **{**FAST, "quiet": False})
    assert "1/1" in capsys.readouterr().err  # tqdm's bar


def test_bad_arguments_are_refused():
    with pytest.raises(TypeError, match="proc must be a Procedure"):
        knit.tune(split, {"q": [4]}, proc=None)
    with pytest.raises(TypeError, match="non-empty list"):
        knit.tune(split, {"q": []}, proc=scale)
    with pytest.raises(TypeError, match="make_schedule returned int"):
        knit.tune(lambda p, q: 3, {"q": [4]}, proc=scale, **FAST)


def test_time_procedures_times_each_from_c():
    t = M.time_procedures({"a": scale, "b": split(scale, 8, True)}, {}, rounds=2, samples=3,
                          target=1e-4)
    assert set(t) == {"a", "b"} and all(0 < v < 1 for v in t.values())


def test_median_and_spread():
    assert M.median([3.0, 1.0, 2.0]) == 2.0 and M.median([4.0, 1.0, 2.0, 3.0]) == 2.5
    assert M.spread([1.0, 1.0, 1.0, 1.0]) == 0.0
    assert M.spread([1.0, 2.0, 2.0, 3.0]) == pytest.approx(0.5)
