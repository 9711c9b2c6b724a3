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


# ---------------------------------------------------------------- replace: allocations


@instr("for (int i_ = 0; i_ < {n}; i_++) {y}.data[i_] = 2 * {x}.data[i_];")
def double_via_tmp(n: size, x: [i32][n], y: [i32][n]):
    for i in seq(0, n):
        a: i32 @ DRAM
        a = x[i]
        a += x[i]
        y[i] = a


@proc
def doubles(X: i32[8], Y: i32[8]):
    for i in seq(0, 8):
        t: i32 @ DRAM
        t = X[i]
        t += X[i]
        Y[i] = t


def test_replace_matches_a_local_allocation():
    p = checked(replace(doubles, "for i in _: _", double_via_tmp))
    assert_body(p, "double_via_tmp(8, X[0:8], Y[0:8])")
    equiv(doubles, p)
    x = np.arange(8, dtype=np.int32)
    y = np.zeros(8, dtype=np.int32)
    p.compile()(X=x, Y=y)
    assert (y == 2 * x).all()


@instr("for (int i_ = 0; i_ < {n}; i_++) {y}.data[i_] = {x}.data[i_] + 1.0f;")
def add_one_via_row(n: size, x: [f32][n], y: [f32][n]):
    a: f32[n] @ DRAM
    for i in seq(0, n):
        a[i] = x[i]
    for i in seq(0, n):
        y[i] = a[i] + 1.0


@proc
def add_one(X: f32[6], Y: f32[6]):
    t: f32[6] @ DRAM
    for i in seq(0, 6):
        t[i] = X[i]
    for i in seq(0, 6):
        Y[i] = t[i] + 1.0


def _three(p):
    """The allocation and the two loops after it."""
    return p.find("t : _").expand(0, 2)


def test_replace_matches_a_tensor_allocation_solving_its_size():
    p = checked(replace(add_one, _three(add_one), add_one_via_row))
    assert_body(p, "add_one_via_row(6, X[0:6], Y[0:6])")
    equiv(add_one, p)


@proc
def add_one_and_keep(X: f32[6], Y: f32[6]):
    t: f32[6] @ DRAM
    for i in seq(0, 6):
        t[i] = X[i]
    for i in seq(0, 6):
        Y[i] = t[i] + 1.0
    X[0] = t[0]


@proc
def add_one_f64_tmp(X: f32[6], Y: f32[6]):
    t: f64[6] @ DRAM
    for i in seq(0, 6):
        t[i] = X[i]
    for i in seq(0, 6):
        Y[i] = t[i] + 1.0


@proc
def add_one_f64_io(X: f64[6], Y: f64[6]):
    t: f32[6] @ DRAM
    for i in seq(0, 6):
        t[i] = X[i]
    for i in seq(0, 6):
        Y[i] = t[i] + 1.0


@proc
def add_one_shifted(X: f32[6], Y: f32[6]):
    t: f32[7] @ DRAM
    for i in seq(0, 6):
        t[i + 1] = X[i]
    for i in seq(0, 6):
        Y[i] = t[i] + 1.0


def test_replace_refuses_unsound_allocation_matches():
    # the block's allocation is read after it: the call would take it away
    refused(lambda: replace(add_one_and_keep, _three(add_one_and_keep),
                            add_one_via_row),
            "the block defines 't', which is used after it; replace a block that holds "
            "its uses too", prim="replace")
    refused(lambda: replace(add_one_f64_tmp, _three(add_one_f64_tmp),
                            add_one_via_row),
            "the body's 'a' holds f32 but the block's 't' holds f64", prim="replace")
    # a parameter's data of another type: the message tells the body's from the block's
    refused(lambda: replace(add_one_f64_io, _three(add_one_f64_io), add_one_via_row),
            "the body's parameter 'x' holds f32 but the block's 'X' holds f64",
            prim="replace")
    # t is bigger: n = 7 from its shape, but the loops run to 6
    refused(lambda: replace(add_one_shifted, _three(add_one_shifted),
                            add_one_via_row),
            "the block does not match the body of add_one_via_row: cannot prove 7 equals 6",
            prim="replace")


@instr("for (int i_ = 0; i_ < 4; i_++) {y}.data[i_] = {x}.data[i_];")
def copy_via_tmp(x: [i32][4], y: [i32][4]):
    for i in seq(0, 4):
        a: i32 @ DRAM
        a = x[i]
        y[i] = a


@proc
def copy_into_local(X: i32[4], Y: i32[4]):
    for i in seq(0, 4):
        t: i32 @ DRAM
        t = X[i]
        t = t
    for i in seq(0, 4):
        Y[i] = X[i]


def test_replace_refuses_a_parameter_standing_for_the_blocks_allocation():
    refused(lambda: replace(copy_into_local, "for i in _: _ #0", copy_via_tmp),
            "'y' would stand for 't', which the block allocates: the call, outside the "
            "block, cannot see it", prim="replace")


# ---------------------------------------------------------------- replace: calls


@proc
def zero4(x: [i32][4]):
    for i in seq(0, 4):
        x[i] = 0


@proc
def one4(x: [i32][4]):
    for i in seq(0, 4):
        x[i] = 1


@instr("for (int k_ = 0; k_ < 2; k_++) for (int i_ = 0; i_ < 4; i_++) "
       "{x}.data[k_ * {x}.strides[0] + i_] = 0;")
def zero_rows(x: [i32][2, 4]):
    assert stride(x, 1) == 1
    for k in seq(0, 2):
        zero4(x[k, 0:4])


@proc
def zero_two_rows(Z: i32[3, 4]):
    for k in seq(0, 2):
        zero4(Z[k + 1, 0:4])


def test_replace_matches_a_call_in_the_body():
    p = checked(replace(zero_two_rows, "for k in _: _", zero_rows))
    assert_body(p, "zero_rows(Z[1:3, 0:4])")
    equiv(zero_two_rows, p)
    z = np.ones((3, 4), dtype=np.int32)
    p.compile()(Z=z)
    assert (z[0] == 1).all() and (z[1:] == 0).all()


@instr("{x}.data[0] = 0;")
def zero_first_row(x: [i32][4, 4]):
    zero4(x[0, 0:4])


@proc
def zero_first_column(B: i32[4, 4]):
    zero4(B[0:4, 0])


@proc
def one_two_rows(Z: i32[3, 4]):
    for k in seq(0, 2):
        one4(Z[k + 1, 0:4])


def test_replace_refuses_unsound_call_matches():
    # the corner is the same, but the body passes a row where the block passes a column
    refused(lambda: replace(zero_first_column, "zero4(_)", zero_first_row),
            "the body's call would pass B[0, 0:4] where the block passes B[0:4, 0]",
            prim="replace")
    refused(lambda: replace(one_two_rows, "for k in _: _", zero_rows),
            "the body calls zero4 where the block calls one4", prim="replace")


# a call on local scalars and a scalar parameter, as Exo's Gemmini `st_acc_i8` has


@proc
def scale_into(x: i32, out: f32, scale: f32):
    tmp: f32 @ DRAM
    tmp = x
    out = tmp * scale


@proc
def store_scaled(n: size, scale: f32, src: [i32][n], dst: [f32][n]):
    for i in seq(0, n):
        t: f32 @ DRAM
        scale_into(src[i], t, scale)
        dst[i] = t


@proc
def scaled(s: f32, A: i32[8], B: f32[8]):
    for i in seq(0, 8):
        u: f32 @ DRAM
        scale_into(A[i], u, s)
        B[i] = u


@proc
def scaled_in_place(s: f32, A: i32[8], B: f32[8]):
    for i in seq(0, 8):
        u: f32 @ DRAM
        scale_into(A[i], B[i], s)
        B[i] = u


def test_replace_matches_a_call_on_local_scalars():
    p = checked(replace(scaled, "for i in _: _", store_scaled))
    assert_body(p, "store_scaled(8, s, A[0:8], B[0:8])")
    equiv(scaled, p)


def test_replace_refuses_a_local_of_the_body_facing_another_buffer():
    refused(lambda: replace(scaled_in_place, "for i in _: _", store_scaled),
            "the body's 't' faces 'B', not 'u', which the block allocates in its place",
            prim="replace")
