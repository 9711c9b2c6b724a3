"""FormattedExprStr fills its holes with expression cursors: the expression must mean,
where the primitive reads it, what it means at the cursor. A name there that is another
variable (a loop `i` where the cursor read a buffer `i` declared later) or no variable at
all is refused, as Exo refuses an expression whose variable is not in scope."""

from __future__ import annotations

import pytest
from scheduling_checks import assert_body, equiv

from knit import proc
from knit.errors import ParseFragmentError
from knit.stdlib.scheduling import FormattedExprStr, expand_dim


@proc
def shadowed(n: size, arr: f32[n]):
    for i in seq(0, n):
        tmp: f32
        tmp = 1.0
        arr[i] = tmp
    i: f32
    i = 1.0
    j: f32
    j = i


def test_a_hole_whose_variable_is_another_one_at_the_site_is_refused():
    later_i = shadowed.find("j = i").rhs()  # the f32 `i`, not the loop's
    with pytest.raises(ParseFragmentError,
                       match=r"expand_dim: 'i' in '\(i\)' \(the expression i\) not found in "
                             r"current environment: the variable it reads at the cursor is "
                             r"another variable here"):
        expand_dim(shadowed, "tmp : _", "n", FormattedExprStr("_", later_i))


def test_a_hole_whose_variable_is_not_in_scope_at_the_site_is_refused():
    @proc
    def later(n: size, arr: f32[n]):
        tmp: f32
        tmp = 1.0
        for k in seq(0, n):
            arr[k] = tmp

    k = later.find("arr[_] = _").idx()[0]  # the loop variable, unknown before the loop
    with pytest.raises(ParseFragmentError, match=r"'k' in '\(k\)' .* not found in current "
                                                 r"environment: .* is not visible here"):
        expand_dim(later, "tmp : _", "n", FormattedExprStr("_", k))


def test_holes_whose_variables_are_the_ones_in_scope_are_used():
    loop_i = shadowed.find("arr[_] = _").idx()[0]
    n = shadowed.find_loop("i").hi()
    p = expand_dim(shadowed, "tmp : _", FormattedExprStr("_", n), FormattedExprStr("_", loop_i))
    assert_body(p, """
        for i in seq(0, n):
            tmp: f32[n] @ DRAM
            tmp[i] = 1.0
            arr[i] = tmp[i]
        i: f32 @ DRAM
        i = 1.0
        j: f32 @ DRAM
        j = i
    """)
    equiv(shadowed, p)
