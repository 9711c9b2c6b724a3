"""Refusals with a witness (issue 12, item 3): a refusal whose condition the solver can
break shows the values that break it, and for reorder_loops, reorder_stmts,
parallelize_loop, fission and stage_mem a tiny input on which the rewrite computes a
different element than the original.

The values shown are checked by running them: each test takes the input printed in
the message, runs the original and a hand-written copy of the unchecked rewrite (not
knit's own, so a wrong witness cannot agree with itself), and asserts the two differ
at the element shown, with the values shown."""

from __future__ import annotations

import ast
import importlib
import inspect
import re
import sys
from pathlib import Path

import numpy as np
import pytest

from knit import config, proc
from knit.errors import BoundsError, SchedulingError
from knit.stdlib.scheduling import (
    fission,
    parallelize_loop,
    reorder_loops,
    reorder_stmts,
    stage_mem,
)

_RUN = re.compile(r"Run on the input (?P<inputs>.*?): the original computes "
                  r"(?P<buf>\w+)\[(?P<idx>[\d, ]+)\] = (?P<want>\S+), but .* computes "
                  r"(?P<got>\S+)\.$", re.M)
_FAILS = re.compile(r"Run on the input (?P<inputs>.*), (?P<how>.*) fails: (?P<why>.*)\.$",
                    re.M)


def refusal(f) -> str:
    with pytest.raises(SchedulingError) as info:
        f()
    return str(info.value)


def parse_inputs(text: str) -> dict:
    """'N = 2, x = [8, 6, 5]' -> {'N': 2, 'x': [8, 6, 5]}."""
    parts = re.split(r", (?=\w+ = )", text)
    return {k: ast.literal_eval(v) for k, v in (p.split(" = ", 1) for p in parts)}


def run(p, inputs: dict) -> dict:
    """Run p in the interpreter on the inputs (by argument name); the arrays after."""
    args = []
    for a in p.args():
        v = inputs[a.name()]
        args.append(np.array(v, dtype=np.float32) if isinstance(v, list) else v)
    p.interpret(*args)
    return {a.name(): v for a, v in zip(p.args(), args) if isinstance(v, np.ndarray)}


def check_differs(msg: str, original, rewritten) -> dict:
    """The message's input makes `original` and `rewritten` (a hand-written unchecked
    rewrite) differ at the element it names, with the values it names."""
    m = _RUN.search(msg)
    assert m, f"no run witness in:\n{msg}"
    inputs = parse_inputs(m["inputs"])
    idx = tuple(int(i) for i in m["idx"].split(", "))
    want, got = run(original, inputs), run(rewritten, inputs)
    assert want[m["buf"]][idx] == float(m["want"])
    assert got[m["buf"]][idx] == float(m["got"])
    assert float(m["want"]) != float(m["got"])
    return inputs


def side_values(msg: str) -> list[tuple[dict, tuple]]:
    """'the first access (i = 0, j = 1) writes x[1, 1]; the second (i = 1, j = 0) reads
    x[1, 1]' -> [({'i': 0, 'j': 1}, (1, 1)), ({'i': 1, 'j': 0}, (1, 1))]."""
    out = []
    for vals, addr in re.findall(r"(?:first access|second) (?:\(([^)]*)\) )?"
                                 r"(?:writes|reads|reduces into) \w+(?:\[([-\d, ]+)\])?", msg):
        env = {k: int(v) for k, v in (p.split(" = ") for p in vals.split(", ") if p)}
        out.append((env, tuple(int(i) for i in addr.split(", ")) if addr else ()))
    return out


# ---------------------------------------------------------------- reorder_loops


@proc
def wave(N: size, M: size, x: f32[N + 1, M + 1]):
    for i in seq(0, N):
        for j in seq(0, M):
            x[i + 1, j] = x[i, j + 1] + 1.0


@proc
def wave_swapped(N: size, M: size, x: f32[N + 1, M + 1]):
    for j in seq(0, M):
        for i in seq(0, N):
            x[i + 1, j] = x[i, j + 1] + 1.0


def test_reorder_loops_shows_the_conflicting_iterations_and_addresses():
    msg = refusal(lambda: reorder_loops(wave, "i"))
    assert "a dependence between iterations would be reversed" in msg
    sizes = dict(re.search(r"Counterexample with N = (?P<N>\d+), M = (?P<M>\d+)",
                           msg).groupdict())
    n, m = int(sizes["N"]), int(sizes["M"])
    (w, wa), (r, ra) = side_values(msg)
    # the write x[i+1, j] and the read x[i, j+1] at the values shown: one address,
    assert wa == (w["i"] + 1, w["j"]) and ra == (r["i"], r["j"] + 1) and wa == ra
    # in range, and in an order the reordering reverses (i1 < i2, j2 < j1)
    assert 0 <= w["i"] < n and 0 <= r["i"] < n and 0 <= w["j"] < m and 0 <= r["j"] < m
    assert w["i"] < r["i"] and r["j"] < w["j"]


def test_reorder_loops_witness_input_breaks_the_rewrite():
    msg = refusal(lambda: reorder_loops(wave, "i"))
    inputs = check_differs(msg, wave, wave_swapped)
    assert inputs["N"] <= 6 and inputs["M"] <= 6  # tiny


def test_witness_is_kept_on_the_error():
    with pytest.raises(SchedulingError) as info:
        reorder_loops(wave, "i")
    w = info.value.witness
    assert set(w.sizes) == {"N", "M"} and w.element[0] == "x"
    assert w.original != w.rewritten
    assert "the rewrite computes" in w.text


@proc
def wave8(x: f32[9, 9]):
    for i in seq(0, 8):
        for j in seq(0, 8):
            x[i + 1, j] = x[i, j + 1] + 1.0


@proc
def wave8_swapped(x: f32[9, 9]):
    for j in seq(0, 8):
        for i in seq(0, 8):
            x[i + 1, j] = x[i, j + 1] + 1.0


def test_an_input_too_large_to_print_is_given_by_its_recipe():
    msg = refusal(lambda: reorder_loops(wave8, "i"))
    m = re.search(r"x filled in argument order by numpy\.random\.default_rng\((\d+)\)"
                  r"\.integers\(1, 10, shape\): the original computes x\[(\d+), (\d+)\] = "
                  r"(\S+), but the rewrite computes (\S+)\.", msg)
    assert m, msg
    x = np.random.default_rng(int(m[1])).integers(1, 10, (9, 9)).astype(np.float32)
    a, b = x.copy(), x.copy()
    wave8.interpret(a)
    wave8_swapped.interpret(b)
    k = (int(m[2]), int(m[3]))
    assert a[k] == float(m[4]) and b[k] == float(m[5]) and a[k] != b[k]


# ---------------------------------------------------------------- reorder_stmts


@proc
def first_last(N: size, x: f32[N], y: f32[N]):
    x[0] = 2.0
    y[N - 1] = x[N - 1]


@proc
def first_last_swapped(N: size, x: f32[N], y: f32[N]):
    y[N - 1] = x[N - 1]
    x[0] = 2.0


def test_reorder_stmts_witness():
    msg = refusal(lambda: reorder_stmts(first_last, first_last.find("x[_] = _").expand(0, 1)))
    assert "the statements do not commute" in msg
    # they conflict only when N - 1 == 0: the solver must have found N = 1
    assert "Counterexample with N = 1: the first access writes x[0]; the second reads x[0]" \
        in msg
    check_differs(msg, first_last, first_last_swapped)


# ---------------------------------------------------------------- parallelize_loop


@proc
def prefix(N: size, x: f32[N + 1]):
    for i in seq(0, N):
        x[i + 1] = x[i] + 1.0


@proc
def prefix_reversed(N: size, x: f32[N + 1]):
    for k in seq(0, N):  # i = N - 1 - k: the iterations in reverse order
        x[N - k] = x[N - 1 - k] + 1.0


def test_parallelize_loop_witness():
    msg = refusal(lambda: parallelize_loop(prefix, "i"))
    assert "would race" in msg
    (w, wa), (r, ra) = side_values(msg)
    assert wa == (w["i"] + 1,) and ra == (r["i"],) and wa == ra and w["i"] != r["i"]
    assert "running the loop's iterations in reverse order" in msg
    check_differs(msg, prefix, prefix_reversed)


def test_the_hint_stays_the_last_line():
    msg = refusal(lambda: parallelize_loop(prefix, "i"))
    assert msg.splitlines()[-1].startswith("give each iteration its own accumulator")


@config
class Gain:
    k: f32


def test_running_a_witness_keeps_the_interpreters_config_values():
    from knit.runtime.interp import config_value, reset_configs

    @proc
    def set_gain(g: f32):
        Gain.k = g

    set_gain.interpret(np.array(3.0, dtype=np.float32))
    try:
        refusal(lambda: parallelize_loop(prefix, "i"))  # runs both programs
        assert config_value(Gain, "k") == 3.0
    finally:
        reset_configs()


# ---------------------------------------------------------------- fission


@proc
def shift_copy(N: size, x: f32[N + 1], y: f32[N]):
    for i in seq(0, N):
        y[i] = x[i]
        x[i + 1] = 2.0


@proc
def shift_copy_split(N: size, x: f32[N + 1], y: f32[N]):
    for i in seq(0, N):
        y[i] = x[i]
    for i in seq(0, N):
        x[i + 1] = 2.0


def test_fission_witness():
    msg = refusal(lambda: fission(shift_copy, shift_copy.find("y[_] = _").after()))
    assert "splitting the loop would reorder a dependence" in msg
    (a, aa), (b, ba) = side_values(msg)
    assert aa == ba
    check_differs(msg, shift_copy, shift_copy_split)


# ---------------------------------------------------------------- stage_mem


@proc
def row_sum(N: size, A: f32[N, 4], B: f32[N]):
    for i in seq(0, N):
        for j in seq(0, 4):
            A[i, j] += B[i]


@proc
def row_sum_staged(N: size, A: f32[N, 4], B: f32[N]):
    for i in seq(0, N):
        a: f32
        a = A[i, 0]
        for j in seq(0, 4):
            a += B[i]  # every A[i, j] became the one staged element
        A[i, 0] = a


def test_stage_mem_witness_differing_element():
    msg = refusal(lambda: stage_mem(row_sum, "for j in _: _", "A[i, 0]", "a"))
    assert "outside the window A[i, 0]" in msg
    assert re.search(r"Counterexample: N = \d+, j = [1-3]\.", msg)
    check_differs(msg, row_sum, row_sum_staged)


@proc
def zero_row(N: size, A: f32[N, 8]):
    for i in seq(0, N):
        for j in seq(0, 8):
            A[i, j] = 0.0


def test_stage_mem_witness_out_of_bounds():
    msg = refusal(lambda: stage_mem(zero_row, "for j in _: _", "A[i, 0:4]", "A_st"))
    j = int(re.search(r"Counterexample: N = \d+, j = (\d+)\.", msg)[1])
    assert 4 <= j < 8  # an index the window does not cover
    m = _FAILS.search(msg)
    assert m and f"index {j} is out of bounds for dimension 0 of 'A_st'" in m["why"]
    run(zero_row, parse_inputs(m["inputs"]))  # the original runs fine on it
    # the unchecked rewrite, written by hand, is not even a valid program: knit's own
    # definition-time bounds check refuses the access the witness names
    with pytest.raises(BoundsError, match=r"A_st\[j\] may be out of bounds"):
        @proc
        def zero_row_staged(N: size, A: f32[N, 8]):
            for i in seq(0, N):
                A_st: f32[4]
                for k in seq(0, 4):
                    A_st[k] = A[i, k]
                for j in seq(0, 8):
                    A_st[j] = 0.0
                for k in seq(0, 4):
                    A[i, k] = A_st[k]


# ---------------------------------------------------------------- solver values only


def test_unproven_bound_shows_values():
    from knit.stdlib.scheduling import divide_loop

    @proc
    def fill(N: size, x: f32[N]):
        for i in seq(0, N):
            x[i] = 1.0

    msg = refusal(lambda: divide_loop(fill, "i", 4, ["io", "ii"], perfect=True))
    n = int(re.search(r"Counterexample: N = (\d+)\.", msg)[1])
    assert n % 4 != 0  # really not a multiple of 4
    assert msg.splitlines()[-1].startswith("add an assert")


def test_undecided_says_could_not_prove():
    from knit.analysis import effects as E
    from knit.rewrite import witness as W

    @proc
    def g(N: size, x: f32[N]):
        x[0] = 1.0

    a = E.accesses(g._loopir_proc.body)[0]
    note, values = W.conflict(E.Conflict(a, a), g._loopir_proc)  # outside the solver
    assert note.startswith("Could not prove they touch different locations") and \
        values is None


def test_sound_rewrites_are_still_accepted():
    @proc
    def indep(N: size, M: size, x: f32[N, M]):
        for i in seq(0, N):
            for j in seq(0, M):
                x[i, j] = x[i, j] + 1.0

    assert "for j in seq(0, M)" in str(reorder_loops(indep, "i")).splitlines()[1]
    assert "par(0, N)" in str(parallelize_loop(indep, "i"))


# ---------------------------------------------------------------- the bad-input corpus

_PROOF_FAILURE = re.compile(r"cannot prove|could not be proven|\bmay\b|would race|"
                            r"outside the window|would be reversed")
_CONCRETE = re.compile(r"\b\w+ = -?\d+\b|It is false as written")
_UNDECIDED = "found no counterexample"


def corpus_refusals() -> list[SchedulingError]:
    """Every SchedulingError the bad-input corpus (tests/bad_inputs) provokes, collected
    by running its tests with `expect_error` (tests/helpers/refusals.py) recording the
    error it returns."""
    here = Path(__file__).parents[1] / "bad_inputs"
    sys.path.insert(0, str(here))
    try:
        checks = importlib.import_module("refusals")
        seen = []

        def recording(fn, cls, *phrases, **kw):
            err = checks.expect_error(fn, cls, *phrases, **kw)
            seen.append(err)
            return err

        for path in sorted(here.glob("test_*.py")):
            mod = importlib.import_module(path.stem)
            old = mod.expect_error
            mod.expect_error = recording
            try:
                for name, fn in vars(mod).items():
                    if name.startswith("test_") and inspect.isfunction(fn) and \
                            not inspect.signature(fn).parameters:
                        fn()
            finally:
                mod.expect_error = old
    finally:
        sys.path.remove(str(here))
    return [e for e in seen if isinstance(e, SchedulingError)]


def test_corpus_refusals_with_a_counterexample_show_values(capsys):
    errs = corpus_refusals()
    proof = [str(e) for e in errs if _PROOF_FAILURE.search(str(e).splitlines()[0])]
    decided = [m for m in proof if _UNDECIDED not in m]
    shown = [m for m in decided if _CONCRETE.search(m)]
    missing = [m.splitlines()[0] for m in decided if not _CONCRETE.search(m)]
    with capsys.disabled():
        print(f"\nwitness: {len(shown)}/{len(decided)} refusals with a counterexample show "
              f"concrete values ({len(errs)} scheduling refusals in the corpus, "
              f"{len(proof)} proof failures)")
        for m in missing:
            print("  without values:", m)
    assert len(decided) >= 10  # the corpus really exercises proof failures
    assert len(shown) >= 0.9 * len(decided)
