"""fuse of two ifs whose conditions are written differently but proven equivalent, and
lift_scope of an if out of the else branch of another: the rewrite, equivalence
(interpreter and compiled C), and the refusal of the unsound neighbour."""

from __future__ import annotations

from scheduling_checks import assert_body, differs, equiv, refused

from knit import config, proc
from knit.stdlib.scheduling import fuse, lift_scope

# ---------------------------------------------------------------- fuse: equivalent conditions


@proc
def diff_is_zero(lo: index, hi: index, acc: f32[3]):
    assert lo >= 0
    assert hi >= 0
    if hi == lo:
        acc[0] += 1.0
    if hi - lo == 0:
        acc[1] += 2.0
    else:
        acc[2] += 3.0


def test_fuse_ifs_whose_conditions_are_equal_as_integers():
    p = fuse(diff_is_zero, "if hi == lo: _", "if hi - lo == 0: _")
    assert_body(p, """\
        assert lo >= 0
        assert hi >= 0
        if hi == lo:
            acc[0] += 1.0
            acc[1] += 2.0
        else:
            acc[2] += 3.0""")
    equiv(diff_is_zero, p, sizes={"lo": [0, 1, 3], "hi": [0, 1, 3]})


@proc
def equal_under_assert(n: size, out: f32[4]):
    assert n >= 3
    for i in seq(0, 2):
        if i < n:
            out[i] = 1.0
        if i + 1 < n:
            out[i + 2] = 2.0


def test_fuse_ifs_whose_conditions_agree_where_they_stand():
    # i < 2 <= n - 1, so both conditions hold on every iteration: equivalent there
    p = fuse(equal_under_assert, "if i < n: _", "if i + 1 < n: _")
    assert_body(p, """\
        assert n >= 3
        for i in seq(0, 2):
            if i < n:
                out[i] = 1.0
                out[i + 2] = 2.0""")
    equiv(equal_under_assert, p, sizes={"n": [3, 4, 6]})


@proc
def off_by_one(n: size, out: f32[2]):
    if n > 3:
        out[0] = 1.0
    if n >= 3:
        out[1] = 1.0


def test_fuse_refuses_conditions_that_differ_at_one_value():
    msg = refused(lambda: fuse(off_by_one, "if n > 3: _", "if n >= 3: _"),
                  "the conditions differ: n > 3 vs n >= 3, and they could not be "
                  "proven equivalent", prim="fuse")
    assert "n = 3" in msg, msg  # the value where they differ

    @proc
    def fused_anyway(n: size, out: f32[2]):
        if n > 3:
            out[0] = 1.0
            out[1] = 1.0

    differs(off_by_one, fused_anyway, sizes={"n": [3]})


@config
class Mode:
    k: index


@proc
def flips_its_condition(out: f32[2]):
    if Mode.k == 1:
        Mode.k = 0
        out[0] = 1.0
    if 1 - Mode.k == 0:
        out[1] = 1.0


def test_fuse_refuses_equivalent_conditions_the_first_branch_changes():
    # the conditions are equivalent, but the first branch writes Mode.k: the second
    # condition is read after that write
    refused(lambda: fuse(flips_its_condition, "if Mode.k == 1: _", "if 1 - Mode.k == 0: _"),
            "the body writes Mode.k, which the condition read", prim="fuse")


# ---------------------------------------------------------------- lift_scope out of an else


@proc
def nested_in_else(n: size, x: f32[3]):
    if n > 4:
        x[0] = 1.0
    else:
        if n > 1:
            x[1] = 2.0
        else:
            x[2] = 3.0


def test_lift_if_out_of_else_branch():
    p = lift_scope(nested_in_else, "if n > 1: _")
    assert_body(p, """\
        if n > 1:
            if n > 4:
                x[0] = 1.0
            else:
                x[1] = 2.0
        else:
            if n > 4:
                x[0] = 1.0
            else:
                x[2] = 3.0""")
    equiv(nested_in_else, p, sizes={"n": [1, 2, 4, 5, 7]})


@proc
def else_without_else(n: size, x: f32[3]):
    for i in seq(0, 3):
        if i == 0:
            x[i] = 1.0
        else:
            if n > i:
                x[i] += 2.0


def test_lift_if_without_else_out_of_else_branch():
    p = lift_scope(else_without_else, "if n > i: _")
    assert_body(p, """\
        for i in seq(0, 3):
            if n > i:
                if i == 0:
                    x[i] = 1.0
                else:
                    x[i] += 2.0
            else:
                if i == 0:
                    x[i] = 1.0""")
    equiv(else_without_else, p, sizes={"n": [1, 2, 3, 5]})


@proc
def two_in_else(n: size, x: f32[3]):
    if n > 4:
        x[0] = 1.0
    else:
        x[2] = 0.0
        if n > 1:
            x[1] = 2.0


def test_lift_refuses_an_if_not_alone_in_the_else_branch():
    refused(lambda: lift_scope(two_in_else, "if n > 1: _"),
            "the statement must be the only one in the body of its enclosing scope",
            prim="lift_scope")
