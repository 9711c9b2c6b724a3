"""The schedule fuzzer as a test: a fixed seed, a bounded time, no new bugs.

Runs `fuzz.fuzz` from case FUZZ_SEED for FUZZ_CI_SECONDS (environment variables,
default 0 and 60) and fails on any bug that is not a known, open one, printing its
shrunk reproducer. known.py lists the open bugs; each has an `xfail(strict=True)` test
in test_regressions.py that starts failing when the bug is fixed -- then delete both
entries. Longer runs: `make fuzz FUZZ_SECONDS=600`.
"""

from __future__ import annotations

import os

import pytest

from .fuzz import fuzz, print_report
from .known import KNOWN, known


@pytest.mark.slow
def test_schedules_never_change_results():
    seconds = float(os.environ.get("FUZZ_CI_SECONDS", "60"))
    seed = int(os.environ.get("FUZZ_SEED", "0"))
    lines = []
    report = fuzz(seed, seconds, jobs=1, step_timeout=60, shrink_seconds=60,
                  should_shrink=lambda b: known(b) is None, log=lines.append)
    print_report(report, log=lines.append)
    text = "\n".join(lines)
    print(text)
    checked = sum(c["checked"] for c in report.stats.values())
    # the run must have done real work, or passing it means nothing
    assert report.cases >= 20 and checked >= 50, text
    new = [b for b in report.bugs.values() if known(b) is None]
    assert not new, "the schedule fuzzer found bugs:\n\n" + \
        "\n\n".join(f"{b.kind} in {b.prim}\n{b.traceback}\n{b.reproducer()}" for b in new)


def test_known_bugs_name_regression_tests():
    from . import test_regressions

    for *_, tests in KNOWN:
        for name in tests.split(", "):
            assert hasattr(test_regressions, name), name


_SRC = """def f(N: size, A: f32[N] @ DRAM):
    for i in seq(0, N):
        A[i] = 2.0 * A[i]
"""


def test_the_harness_catches_a_wrong_rewrite():
    # a rewrite that changes results (add_unsafe_guard, declared equal by hand) must
    # come out as a mismatch, and its reproducer must fail the same way when run
    from knit.equiv import EquivalenceError
    from knit.procedure import parse_proc_string

    from .catalog import Step
    from .fuzz import Bug, Runner, reproducer

    r = Runner()
    step = Step("add_unsafe_guard", ["p.body()[0].body()[0]", "'i < 1'"])
    p0 = parse_proc_string(_SRC, r.scope)
    verdict, q = r.apply(p0, step)
    assert verdict == "accepted"
    assert r.check(p0, q, {"N": [3]}, 0)["kind"] == "provenance"  # not proven equal
    p0.unsafe_assert_eq(q)
    bug = r.check(p0, q, {"N": [3]}, 0)
    assert bug["kind"] == "mismatch"
    text = reproducer(Bug("mismatch", step.prim, "", bug["message"], "", 0, _SRC, {"N": [3]},
                          [step]))
    with pytest.raises(EquivalenceError):
        exec(compile(text, "<reproducer>", "exec"), {})


def test_the_harness_counts_refusals_and_bad_arguments():
    from .catalog import Step
    from .fuzz import Runner

    r = Runner()
    from knit.procedure import parse_proc_string

    p0 = parse_proc_string(_SRC, r.scope)
    assert r.apply(p0, Step("remove_loop", ["p.body()[0]"]))[0] == "refused"
    assert r.apply(p0, Step("remove_loop", ["p.body()[5]"]))[0] == "badarg"
    # a TypeError is not a refusal the fuzzer accepts
    assert r.apply(p0, Step("divide_loop", ["p.body()[0]", "2", "['a', 'b']"],
                            {"tail": "'cut'"}))[0] == "accepted"
    verdict, info = r.apply(p0, Step("divide_loop", ["3.5", "2", "['a', 'b']"]))
    assert verdict == "bug" and info["exc"] == "TypeError"


def test_the_harness_catches_hangs_and_crashes():
    # a step that never returns, and one that kills its process (as a segfault in
    # compiled code would): the worker reports them and is replaced
    import multiprocessing

    from .catalog import Step
    from .fuzz import Worker, _worker_env

    w = Worker(multiprocessing.get_context("spawn"), _worker_env())
    try:
        ok = Step("rename", ["'g'"])  # first, so the worker has imported knit
        assert w.call(("replay", _SRC, {"N": [2]}, [ok], 0), timeout=60)["kind"] == "none"
        sleep = Step("rename", ["__import__('time').sleep(60) or 'x'"])
        assert w.call(("replay", _SRC, {}, [sleep], 0), timeout=3)["kind"] == "hang"
        die = Step("rename", ["__import__('os')._exit(3) or 'x'"])
        assert w.call(("replay", _SRC, {}, [die], 0), timeout=60)["kind"] == "crash"
    finally:
        w.stop()
