"""A refusal's counterexample depends on the question alone: the values a message shows
("for N = 1, i = 2, j = 0") are the same whatever the thread's solver was asked before
and whatever order the facts were gathered in (analysis/smt.py, `counterexample`).
Before, the long-lived solver's model changed with its history: the fuzzer's case 1888
showed N = 4 in some runs and N = 5 in others."""

from __future__ import annotations

import pytest

from knit.errors import KnitError
from knit.procedure import parse_proc_string

SUSPECT = """\
def f(N: size, L: size, B: f32[2 * N, L + 3]):
    for i in seq(0, N + 4):
        for j in seq(0, L):
            B[i + j, 1] = 0.0
"""

UNRELATED = """\
def g(M: size, K: size, A: f32[M + {k}, K]):
    for i in seq(0, M + {k3}):
        for j in seq(0, K):
            A[i, j + {k}] = 0.0
"""


def _message(text: str) -> str:
    with pytest.raises(KnitError) as info:
        parse_proc_string(text, {})
    return next(line for line in str(info.value).splitlines() if " for " in line)


def test_the_same_refusal_shows_the_same_values_after_any_history():
    first = _message(SUSPECT)
    assert "may be out of bounds" in first and "the index is" in first
    seen = {first}
    for k in range(10):  # unrelated refusals in between: the solver's history grows
        _message(UNRELATED.format(k=k, k3=k + 3))
        seen.add(_message(SUSPECT))
    assert seen == {first}
