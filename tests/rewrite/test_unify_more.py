"""replace and inline on what Exo's instruction libraries and Gemmini apps use:

- inline of a procedure whose inner calls pass windows typed with its own sizes:
  the sizes are substituted in the window types too (`x[0:n, 0:4]` becomes `[4, 4]`).
"""

from __future__ import annotations

import numpy as np
from scheduling_checks import assert_body, equiv, refused

from knit import instr, proc
from knit.stdlib.scheduling import inline, replace, simplify


def checked(p):
    p._check()
    return p


# ---------------------------------------------------------------- inline: sizes in types


@instr("for (int r_ = 0; r_ < {n}; r_++) for (int c_ = 0; c_ < 4; c_++) "
       "{x}.data[r_ * {x}.strides[0] + c_] = 2.0f;")
def leaf(n: size, x: [f32][n, 4]):
    assert stride(x, 1) == 1
    for i in seq(0, n):
        for j in seq(0, 4):
            x[i, j] = 2.0


@proc
def wrapped(n: size, x: [f32][n, 4]):
    assert stride(x, 1) == 1
    leaf(n, x)


@proc
def user(y: f32[2, 4, 4]):
    for a in seq(0, 2):
        wrapped(4, y[a, 0:4, 0:4])


def test_inline_substitutes_sizes_in_the_window_types_of_inner_calls():
    p = checked(inline(user, "wrapped(_)"))
    assert_body(p, "for a in seq(0, 2):\n    leaf(4, y[a, 0:4, 0:4])")
    window = p._loopir_proc.body[0].body[0].args[1]
    assert [d.val for d in window.type.shape()] == [4, 4]  # was [n, 4]: n is not in scope
    equiv(user, p)
    y = np.zeros((2, 4, 4), dtype=np.float32)
    p.compile()(y=y)
    assert (y == 2).all()


@proc
def dense_leaf(n: size, x: f32[n, 4]):
    for i in seq(0, n):
        for j in seq(0, 4):
            x[i, j] = 1.0


@proc
def dense_wrapped(n: size, x: f32[n, 4]):
    dense_leaf(n, x)


@proc
def dense_user(y: f32[3, 4]):
    dense_wrapped(3, y)


def test_inline_substitutes_sizes_in_the_type_of_a_whole_buffer_passed_on():
    p = checked(inline(dense_user, "dense_wrapped(_)"))
    assert_body(p, "dense_leaf(3, y)")
    equiv(dense_user, p)


def test_inline_refuses_an_instruction():
    p = inline(user, "wrapped(_)")
    refused(lambda: inline(p, "leaf(_)"), "leaf is an instruction; inlining would lose "
            "its C code", prim="inline")


# ---------------------------------------------------------------- replace: bool conditions


@instr("if ({act}) for (int i_ = 0; i_ < 4; i_++) {x}.data[i_] = 0.0f;")
def zero_if(act: bool, x: [f32][4]):
    for i in seq(0, 4):
        if act == True:
            x[i] = 0.0


@proc
def zero_when(act: bool, y: f32[4]):
    for i in seq(0, 4):
        if act == True:
            y[i] = 0.0


def test_replace_unifies_act_eq_true_with_act_after_simplify():
    s = simplify(zero_when)
    assert "if act:" in str(s)  # what the instr body's `act == True` must now face
    p = checked(replace(s, "for i in _: _", zero_if))
    assert_body(p, "zero_if(act, y[0:4])")
    equiv(zero_when, p)
    for act in (True, False):
        y = np.ones(4, dtype=np.float32)
        p.compile()(act=act, y=y)
        assert (y == (0 if act else 1)).all()


@instr("if (!{act}) for (int i_ = 0; i_ < 4; i_++) {x}.data[i_] = 0.0f;")
def zero_unless(act: bool, x: [f32][4]):
    for i in seq(0, 4):
        if act == False:
            x[i] = 0.0


@proc
def zero_unless_written_backwards(flag: bool, y: f32[4]):
    for i in seq(0, 4):
        if False == flag:
            y[i] = 0.0


def test_replace_unifies_false_eq_c_with_c_eq_false():
    p = checked(replace(zero_unless_written_backwards, "for i in _: _", zero_unless))
    assert_body(p, "zero_unless(flag, y[0:4])")
    equiv(zero_unless_written_backwards, p)


@instr("if ({act}) for (int i_ = 0; i_ < 4; i_++) { {x}.data[i_] = 0.0f; "
       "{x}.data[i_] += 1.0f; }")
def zero_then_one_if(act: bool, x: [f32][4]):
    for i in seq(0, 4):
        if act == True:
            x[i] = 0.0
        if act == True:
            x[i] += 1.0


@proc
def two_flags(a: bool, b: bool, y: f32[4]):
    for i in seq(0, 4):
        if a:
            y[i] = 0.0
        if b == True:
            y[i] += 1.0


def test_replace_refuses_two_different_flags_for_one_parameter():
    refused(lambda: replace(two_flags, "for i in _: _", zero_then_one_if),
            "the block does not match the body of zero_then_one_if: cannot prove a equals b",
            prim="replace")


def test_replace_passes_a_negated_flag_as_the_condition():
    # `if act` facing `if flag == False`: act = (flag == False), which is sound
    p = checked(replace(zero_unless_written_backwards, "for i in _: _", zero_if))
    assert_body(p, "zero_if(flag == False, y[0:4])")
    equiv(zero_unless_written_backwards, p)
