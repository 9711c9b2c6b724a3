"""call_eqv(p, callee, scheduled): a Procedure in place of the call cursor names the
first call of it (Exo's short-hand), as `"callee(_)"` does."""

from __future__ import annotations

import pytest
from scheduling_checks import assert_body, equiv

from knit import proc
from knit.errors import PatternError
from knit.stdlib.scheduling import call_eqv, divide_loop, rename


@proc
def scale8(x: f32[8]):
    for i in seq(0, 8):
        x[i] = x[i] * 2.0


scale8_fast = rename(divide_loop(scale8, "i", 4, ["io", "ii"], perfect=True), "scale8_fast")


@proc
def twice(x: f32[8], y: f32[8]):
    scale8(x)
    scale8(y)


def test_call_eqv_takes_the_procedure_for_its_first_call():
    p = call_eqv(twice, scale8, scale8_fast)
    assert_body(p, """
        scale8_fast(x)
        scale8(y)
    """)
    equiv(twice, p)


def test_call_eqv_with_a_procedure_that_is_not_called():
    @proc
    def other(x: f32[8]):
        for i in seq(0, 8):
            x[i] = 0.0

    with pytest.raises(PatternError, match=r"pattern 'other\(_\)' matches nothing in twice"):
        call_eqv(twice, other, other)
