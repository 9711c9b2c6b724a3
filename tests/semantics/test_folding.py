"""`simplify` folds data expressions by the same rules the interpreter and C follow
(docs/semantics.md#literal-type, #f16, #int-arith): simplifying never changes a value."""

from __future__ import annotations

import numpy as np
import pytest

from knit.analysis.simplify import simplify_expr
from knit.errors import ArgumentError
from knit.ir import nodes as N, types as T
from knit.procedure import parse_proc_string
from knit.stdlib.scheduling import simplify

LITERALS = ["0.0", "-0.0", "1.0", "0.5", "0.1", "3.0", "2048.0", "16777216.0", "1e-40",
            "65504.0", "1e300", "7.0"]
READS = ["x[0]", "h[0]", "d[0]", "k[0]"]
DESTS = {"f16": np.float16, "f32": np.float32, "f64": np.float64, "i32": np.int32}
HEAD = "def f(x: f32[1], h: f16[1], d: f64[1], k: i32[1], o: {t}[1]):\n    o[0] = {e}\n"


def random_expr(rng, depth: int) -> str:
    if depth == 0 or rng.random() < 0.25:
        pool = LITERALS if rng.random() < 0.6 else READS
        return pool[rng.integers(len(pool))]
    if rng.random() < 0.1:
        return f"-({random_expr(rng, depth - 1)})"
    op = "+-*/"[rng.integers(4)]
    return f"({random_expr(rng, depth - 1)} {op} {random_expr(rng, depth - 1)})"


def result(p, dest: str):
    args = [np.array([1.5], np.float32), np.array([-0.0], np.float16),
            np.array([1e-310]), np.array([-7], np.int32), np.zeros(1, DESTS[dest])]
    p.interpret(*args)
    return args[-1]


@pytest.mark.parametrize("seed", range(4))
def test_simplify_keeps_the_value_of_every_data_expression(seed):
    # pins semantics.md#literal-type (and #f16, #int-arith through the folds)
    rng = np.random.default_rng(seed)
    checked = 0
    for _ in range(60):
        dest = list(DESTS)[rng.integers(len(DESTS))]
        p = parse_proc_string(HEAD.format(t=dest, e=random_expr(rng, 3)), {})
        try:
            want = result(p, dest)
        except ArgumentError:  # an integer division by zero or a float that does not fit
            continue
        got = result(simplify(p), dest)
        assert want.tobytes() == got.tobytes() or (np.isnan(want) & np.isnan(got)).all(), \
            f"{p}\nsimplified:\n{simplify(p)}\ngives {got[0]!r}, not {want[0]!r}"
        checked += 1
    assert checked > 30


def test_negating_the_smallest_i32_literal_is_not_folded():
    # pins semantics.md#int-arith (-(-2^31) wraps: no i32 literal holds 2^31)
    e = N.USub(N.Const(-(2**31), T.I32, None), T.I32, None)
    assert simplify_expr(e) == e
    e = N.USub(N.Const(5, T.I32, None), T.I32, None)
    assert simplify_expr(e) == N.Const(-5, T.I32, None)
