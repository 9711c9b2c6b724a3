"""Every primitive's recorded arguments survive the text form: the fuzzer's schedules
(tests/fuzz, read-only here) are recorded, written as a script, read back and replayed
on the original procedure, which must give an alpha-equal procedure."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the `fuzz` package

from fuzz import gen  # noqa: E402
from fuzz.fuzz import Runner  # noqa: E402

from knit.ir.visit import alpha_eq  # noqa: E402
from knit.procedure import parse_proc_string  # noqa: E402
from knit.trace import Trace, replay  # noqa: E402

SEEDS = range(40)


@pytest.fixture(scope="module")
def runner():
    return Runner()


def fuzz_schedule(runner, seed: int, max_steps: int = 8, only=None):
    """The fuzzer's case `seed` (its moves limited to `only`): the root, the result and
    the primitives accepted with a change (an unchanged result records no step)."""
    g = gen.generate(seed)
    p0 = parse_proc_string(g.src, runner.scope)
    rng = random.Random(seed * 7919 + 17)
    moves = runner.moves.available(only)
    names = sorted(moves)
    p, prev, accepted = p0, None, []
    for _ in range(rng.randint(2, max_steps)):
        old = prev is not None and rng.random() < 0.15  # cursors of an older proc
        cat = runner.moves.Catalog(prev, "p_prev") if old else runner.moves.Catalog(p)
        step = moves[rng.choice(names)].choose(cat, rng)
        if step is None:
            continue
        verdict, out = runner.apply(p, step, prev)
        if verdict == "accepted" and out is not p:
            accepted.append(step.prim)
            p, prev = out, p
    return p0, p, accepted


def check_round_trip(runner, p0, p, accepted):
    t = p.trace()
    assert [s.prim for s in t] == accepted
    assert t.root is p0
    text = t.script()
    back = Trace.from_script(text, runner.ns)
    assert back.steps == t.steps, text
    q = replay(back, p0)
    assert alpha_eq(q._loopir_proc, p._loopir_proc), f"{text}\n{q}\n---\n{p}"
    # and the script runs as Python
    ns = dict(runner.ns)
    exec(compile(text, "<trace script>", "exec"), ns)
    assert alpha_eq(ns["schedule"](p0)._loopir_proc, p._loopir_proc)


@pytest.mark.parametrize("seed", SEEDS)
def test_fuzz_schedule_round_trips_through_its_script(runner, seed):
    check_round_trip(runner, *fuzz_schedule(runner, seed))


def _primitives():
    from fuzz import moves

    return sorted(moves.available())


@pytest.mark.parametrize("prim", _primitives())
def test_each_primitive_round_trips(runner, prim):
    """Cases whose moves are `prim` and the moves that set it up (the fuzzer's FOLLOW
    table; bind_expr makes buffers), until one accepts `prim`; then the round trip."""
    setup = {prim, "bind_expr"} | {m for m, nxt in runner.moves.FOLLOW.items() if prim in nxt}
    for only in ({prim}, setup):
        for seed in range(60):
            p0, p, accepted = fuzz_schedule(runner, seed, 6, only=only)
            if prim in accepted:
                check_round_trip(runner, p0, p, accepted)
                return
    pytest.fail(f"the fuzzer's moves never had {prim} accepted in 60 cases")
