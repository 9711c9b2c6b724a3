"""The schedule fuzzer as a test: fixed cases, no new bugs.

Runs `fuzz.fuzz` on the cases FUZZ_SEED .. FUZZ_SEED + FUZZ_CI_CASES - 1 (environment
variables, default 0 and 30: the same programs and schedules on every machine) and
fails on any bug that is not a known, open one, printing its shrunk reproducer.
known.py lists the open bugs; each has an `xfail(strict=True)` test in
test_regressions.py or test_findings.py that starts failing when the bug is fixed --
then delete both entries. Longer runs: `make fuzz FUZZ_SECONDS=600`.
"""

from __future__ import annotations

import os

import pytest

from .fuzz import fuzz, print_report
from .known import KNOWN, known


@pytest.mark.slow
def test_schedules_never_change_results():
    n = int(os.environ.get("FUZZ_CI_CASES", "30"))
    seed = int(os.environ.get("FUZZ_SEED", "0"))
    lines = []
    report = fuzz(seed, 1e9, jobs=1, step_timeout=60, shrink_seconds=60,
                  cases=list(range(seed, seed + n)),
                  should_shrink=lambda b: known(b) is None, log=lines.append)
    print_report(report, log=lines.append)
    text = "\n".join(lines)
    print(text)
    checked = sum(c["checked"] for c in report.stats.values())
    # the run must have done real work, or passing it means nothing
    assert report.cases == n and checked >= 2 * n, text
    new = [b for b in report.bugs.values() if known(b) is None]
    assert not new, "the schedule fuzzer found bugs:\n\n" + \
        "\n\n".join(f"{b.kind} in {b.prim}\n{b.traceback}\n{b.reproducer()}" for b in new)


def test_known_bugs_name_regression_tests():
    from . import test_findings, test_regressions

    for *_, tests in KNOWN:
        for name in tests.split(", "):
            assert hasattr(test_regressions, name) or hasattr(test_findings, name), name


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


# ---------------------------------------------------------------- the backend checks

_WRONG_INSTR = '''@instr("{x_data} = 2.0f;")
def wrong_one(x: [f32][1] @ DRAM):
    x[0] = 1.0
'''


def test_backend_diff_catches_wrong_compiled_code_with_every_compiler():
    # an instr whose C template disagrees with its body: compiled code that is wrong
    # the way a miscompile is; each compiler on the machine must show it
    from knit import DRAM
    from knit.procedure import parse_proc_string

    from .backends import backend_diff, compilers

    scope = {"DRAM": DRAM}
    scope["wrong_one"] = parse_proc_string(_WRONG_INSTR, scope)
    p = parse_proc_string("""def f(N: size, A: f32[N] @ DRAM):
    for i in seq(0, N):
        wrong_one(A[i:i + 1])
""", scope)
    assert compilers() and "gcc" in compilers()
    for cc in compilers():
        d = backend_diff(p, {"N": 3}, seed=1, ccs=(cc,))
        assert d is not None and d.mode == cc and d.buffer == "A", d
        assert (d.expected, d.got) == (1.0, 2.0)
        assert f"compiled with {cc}" in d.message()
    right = parse_proc_string(_SRC, {"DRAM": DRAM})
    assert backend_diff(right, {"N": 5}, seed=1) is None


def test_inputs_hold_the_awkward_values():
    import numpy as np

    from knit import DRAM
    from knit.procedure import parse_proc_string

    from .backends import make_inputs, same_bits

    p = parse_proc_string("""def f(N: size, A: f32[N] @ DRAM, B: i32[N] @ DRAM,
      H: f16[N] @ DRAM):
    A[0] = 0.0
""", {"DRAM": DRAM})
    seen_f, seen_i, seen_h = set(), set(), set()
    for seed in range(20):
        x = make_inputs(p._loopir_proc, {"N": 64}, seed)
        assert x["A"].dtype == np.float32 and x["H"].dtype == np.float16
        a = x["A"]
        seen_f |= {"nan"} if np.isnan(a).any() else set()
        seen_f |= {"-0"} if ((a == 0) & np.signbit(a)).any() else set()
        seen_f |= {"inf"} if np.isposinf(a).any() else set()
        seen_f |= {"sub"} if ((a != 0) & (np.abs(a) < np.finfo(np.float32).tiny)).any() \
            else set()
        seen_i |= set(int(v) for v in x["B"]) & {2**31 - 1, -(2**31)}
        seen_h |= {"sub"} if ((x["H"] != 0) & (np.abs(x["H"]) < 6.2e-5)).any() else set()
    assert seen_f == {"nan", "-0", "inf", "sub"} and len(seen_i) == 2 and seen_h
    # the interpreter and C must agree bit for bit: -0.0 is not 0.0, NaN is NaN
    assert not same_bits(np.float32([-0.0]), np.float32([0.0]))[0]
    assert same_bits(np.float32([np.nan]), np.float32([-np.nan]))[0]


# ---------------------------------------------------------------- the generators


def test_the_generator_writes_every_class_of_issue_8():
    # each class of program the fuzzer must keep generating (issue 8), over 300 seeds,
    # and programs the checker accepts (a rejected one tests nothing)
    import re

    from knit.procedure import parse_proc_string

    from . import gen

    scope = gen.exec_prelude()["scope"]
    classes = {
        "config in a window origin": r"= \w+\[[^\]]*FuzzCfg\.[kn][^\]]*:",
        "config in an allocation shape": r": \w+\[[^\]]*FuzzCfg\.n",
        "config in a loop bound": r"seq\([^)]*FuzzCfg\.[kn]",
        "config in a condition": r"if [^:]*FuzzCfg\.[kn]",
        "config in a call argument": r"helper_\w+\([^)]*FuzzCfg\.[kn]",
        "a stride-branching callee on a column": r"helper_s_\w+\(\d, \w+\[[^\]]*:[^\]]*, ",
        "an element argument": r"helper_e\(",
        "an index argument": r"helper_k\(",
        "f16 data": r"f16\[", "f64 data": r"f64\[",
        "an extern that may get a bad argument": r"(sqrt|expf|sigmoid|sin)\(",
        "a triangular nest shaped like tri_f": r"for (\w+) in seq\(0, \d\):\n\s+for \w+ in "
                                               r"seq\(0, \1\):\n\s+\w+\[.*\] \+= 1\.0",
        "an untyped literal": r"16777216\.0|3\.0 / 2\.0|0\.1\b",
        "a window statement": r"\n\s+w\d+ = \w+\[",
        "an observation of config state": r"\n    \w+\[[^\]]*\] = FuzzCfg\.[xy]\n$",
        "a window whose origin's field is written before the window is used":
            r"w\d+ = \w+\[[^\]]*FuzzCfg\.k[^\n]*\n\s+FuzzCfg\.k = ",
        "row and column calls of a stride-branching callee":
            r"helper_s_\w+\(\d, \w+\[[^\]]*\]\)\n\s+helper_s_",
        "an overrun the checks must refuse": r"FuzzCfg\.n = 1\n\s+\w+: f32\[FuzzCfg\.n\]",
    }
    seen, rejected = set(), 0
    for seed in range(300):
        src = gen.generate(seed).src
        seen |= {c for c, pat in classes.items() if re.search(pat, src)}
        if _writes_config_in_loop(src):
            seen.add("config written in a loop")
        try:
            parse_proc_string(src, scope)
        except Exception:  # noqa: BLE001
            rejected += 1
    assert seen == set(classes) | {"config written in a loop"}, set(classes) - seen
    assert rejected <= 15, rejected  # the overruns, and C2 in FINDINGS.md


def _writes_config_in_loop(src: str) -> bool:
    loops = []  # indentation of the enclosing `for` lines
    for line in src.splitlines():
        ind = len(line) - len(line.lstrip())
        loops = [k for k in loops if k < ind]
        if line.lstrip().startswith("for "):
            loops.append(ind)
        elif loops and line.lstrip().startswith(("FuzzCfg.k = ", "FuzzCfg.n = ")):
            return True
    return False


def test_smaller_sources_drop_one_statement_at_a_time():
    from .gen import smaller_sources

    src = "def f(N: size):\n    assert N >= 2\n    for i in seq(0, N):\n        a\n        b\n"
    cands = list(smaller_sources(src))
    assert "def f(N: size):\n    assert N >= 2\n    for i in seq(0, N):\n        a\n" in cands
    assert "def f(N: size):\n    assert N >= 2\n" in cands  # the loop and its body
    assert "def f(N: size):\n    assert N >= 2\n    a\n    b\n" in cands  # the body alone
    assert all("assert N >= 2" in c for c in cands)


def test_compare_reports_acceptance_per_primitive():
    from .compare import compare

    a = {"cases": 10, "stats": {"fuse": {"attempted": 10, "accepted": 8},
                                "rename": {"attempted": 4, "accepted": 4}}}
    b = {"cases": 10, "stats": {"fuse": {"attempted": 10, "accepted": 6},
                                "rename": {"attempted": 4, "accepted": 4}}}
    lines, worse = compare(a, b, drop=5)
    assert worse == ["fuse"]
    row = next(x for x in lines if x.startswith("fuse"))
    assert "80.0%" in row and "60.0%" in row and "-2" in row
    assert compare(a, a)[1] == []


def test_a_compilers_error_line_survives_the_cut():
    # known.py tells backend errors apart by the compiler's `error:` line, which a long
    # cache path may push past the part of the message that is kept
    from .backends import _short_error

    msg = "command: cc " + "/very/long/path" * 60 + "\nx.c:12:5: error: _Float16 is not supported"
    assert "error: _Float16 is not supported" in _short_error(msg)
    assert _short_error("short\nx.c:1:1: error: e") == "short\nx.c:1:1: error: e"


_PRECISION_SRC = '''
def f(N: size, A: f64[N] @ DRAM, C: f64[N] @ DRAM):
    for i in seq(0, N):
        t1: f64 @ DRAM
        t1 = 2.0 * C[i]
        A[i] += t1
'''


def test_a_precision_change_is_compared_at_the_new_precision():
    # fuzzer case 201202: set_precision(t1, 'f32') rounds to f32 on purpose; the f64
    # output's own tolerance (1e-10) called that a mismatch. The fuzzer compares at the
    # narrowest precision either version computes in, and still catches a wrong result.
    from knit.equiv import RTOL, EquivalenceError
    from knit.procedure import parse_proc_string

    from .backends import precision_rtol, precision_tolerance
    from .catalog import Step
    from .fuzz import Runner

    r = Runner()
    p0 = parse_proc_string(_PRECISION_SRC, r.scope)
    verdict, q = r.apply(p0, Step("set_precision", ["'t1'", "'f32'"]))
    assert verdict == "accepted"
    assert precision_rtol(p0, q) == RTOL["f32"] and precision_rtol(p0, p0) is None
    with pytest.raises(EquivalenceError):  # at f64's tolerance: f32 rounding shows
        r.knit.check_equiv(p0, q, trials=2, sizes={"N": [6]}, seed=1)
    assert r.check(p0, q, {"N": [6]}, 1) is None
    assert RTOL["f64"] == 1e-10  # restored
    wrong = parse_proc_string(_PRECISION_SRC.replace("2.0 *", "2.001 *"), r.scope)
    wrong = r.apply(wrong, Step("set_precision", ["'t1'", "'f32'"]))[1]
    p0.unsafe_assert_eq(wrong)
    with precision_tolerance(p0, wrong):
        with pytest.raises(EquivalenceError):
            r.knit.check_equiv(p0, wrong, trials=2, sizes={"N": [6]}, seed=1)
