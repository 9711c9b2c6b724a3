"""replace: an argument can never use a loop variable of the replaced block (issue 8,
class 4).

The call stands where the block was, outside its loops: an instruction parameter that
unification would bind to an expression of the block's own loop variables (a triangular
nest's inner bound, a condition on the loop variable, an element-wise copy taken for a
broadcast) is refused, naming the parameter and the variable. The same parameter bound
from an expression outside the block is accepted, and then must also equal the inner
expression where it faces it. Accepted results run the same in the interpreter and as
compiled C."""

from __future__ import annotations

import numpy as np
from scheduling_checks import assert_body, body, equiv, refused

from knit import instr, proc
from knit.stdlib.scheduling import replace


def checked(p):
    p._check()
    return p


# ---------------------------------------------------------------- a bound of an inner loop


@instr("for (int r_ = 0; r_ < {n}; r_++) for (int c_ = 0; c_ < {m}; c_++) "
       "if (c_ < 8) {x}.data[r_ * {x}.strides[0] + c_] = 0.0f;")
def zero_rect(n: size, m: index, x: [f32][n, 8]):
    assert stride(x, 1) == 1
    for i in seq(0, n):
        for j in seq(0, m):
            if j < 8:
                x[i, j] = 0.0


@instr("for (int c_ = 0; c_ < {m}; c_++) if (c_ < 8) {x}.data[c_ * {x}.strides[0]] = 0.0f;")
def zero_rect_row(m: index, x: [f32][8]):
    for j in seq(0, m):
        if j < 8:
            x[j] = 0.0


@proc
def lower(A: f32[8, 8]):
    for i in seq(0, 8):
        for j in seq(0, i + 1):
            if j < 8:
                A[i, j] = 0.0


def test_replace_refuses_a_triangular_nest():
    refused(lambda: replace(lower, "for i in _: _", zero_rect),
            "the block does not match the body of zero_rect: the argument 'm' would be "
            "i + 1, which uses 'i', a loop variable of the block: the call, outside the "
            "block, cannot see it", prim="replace")


def test_replace_of_a_rectangular_nest_and_an_inner_nest_of_the_triangle():
    @proc
    def rect(A: f32[8, 8]):
        for i in seq(0, 8):
            for j in seq(0, 5):
                if j < 8:
                    A[i, j] = 0.0

    p = replace(rect, "for i in _: _", zero_rect)
    assert_body(p, "zero_rect(8, 5, A[0:8, 0:8])")
    equiv(rect, checked(p))
    # one row of the triangle: i is outside the replaced block, so it can be an argument
    q = replace(lower, "for j in _: _", zero_rect_row)
    assert "zero_rect_row(i + 1, A[i + 0, 0:8])" in body(q)
    equiv(lower, checked(q))
    a = np.ones((8, 8), dtype=np.float32)
    q.interpret(A=a)
    assert (a == np.triu(np.ones((8, 8), dtype=np.float32), 1)).all()


# ---------------------------------------------------------------- a condition


@instr("if ({c}) for (int k_ = 0; k_ < {n}; k_++) {x}.data[k_ * {x}.strides[0]] = 0.0f;")
def zero_if(n: size, c: bool, x: [f32][n]):
    for i in seq(0, n):
        if c:
            x[i] = 0.0


def test_replace_refuses_a_condition_on_the_blocks_loop_variable():
    @proc
    def half(A: f32[8]):
        for i in seq(0, 8):
            if i < 4:
                A[i] = 0.0

    refused(lambda: replace(half, "for i in _: _", zero_if),
            "the argument 'c' would be i < 4, which uses 'i', a loop variable of the block",
            prim="replace")


def test_replace_with_a_condition_outside_the_block():
    @proc
    def rows_below(n: size, A: f32[8, 8]):
        for r in seq(0, 8):
            for i in seq(0, 8):
                if r < n:
                    A[r, i] = 0.0

    p = replace(rows_below, "for i in _: _", zero_if)
    assert "zero_if(8, r < n, A[r + 0, 0:8])" in body(p)
    equiv(rows_below, checked(p), sizes={"n": [1, 5, 8, 12]})


@instr("if ({c}) {{ for (int k_ = 0; k_ < 4; k_++) {x}.data[k_ * {x}.strides[0]] = 0.0f; "
       "*{y_data} = 0.0f; }}")
def zero_both_if(c: bool, x: [f32][4], y: f32):
    for i in seq(0, 4):
        if c:
            x[i] = 0.0
    if c:
        y = 0.0


def test_replace_finds_a_parameter_outside_and_proves_it_equal_inside():
    @proc
    def both(n: size, A: f32[4], B: f32[2]):
        for i in seq(0, 4):
            if i < n + 4:  # always true: the same condition as 0 < n
                A[i] = 0.0
        if 0 < n:
            B[1] = 0.0

    blk = both.find_loop("i").expand(0, 1)
    p = replace(both, blk, zero_both_if)
    assert "zero_both_if(0 < n, A[0:4], B[1])" in body(p)
    equiv(both, checked(p))

    @proc
    def differ(n: size, A: f32[4], B: f32[2]):
        for i in seq(0, 4):
            if i < n:  # not the same as 0 < n for every i
                A[i] = 0.0
        if 0 < n:
            B[1] = 0.0

    refused(lambda: replace(differ, differ.find_loop("i").expand(0, 1), zero_both_if),
            "cannot prove 0 < n equals i < n", prim="replace")


# ---------------------------------------------------------------- a broadcast


@instr("for (int k_ = 0; k_ < {n}; k_++) if ({k} < {n} && {k} >= 0) "
       "{x}.data[k_ * {x}.strides[0]] = {y}.data[{k} * {y}.strides[0]];")
def bcast(n: size, k: index, x: [f32][n], y: [f32][n]):
    for i in seq(0, n):
        if k < n and k >= 0:
            x[i] = y[k]


def test_replace_refuses_an_elementwise_copy_as_a_broadcast():
    @proc
    def copy(A: f32[8], B: f32[8]):
        for i in seq(0, 8):
            if i < 8 and i >= 0:
                A[i] = B[i]

    refused(lambda: replace(copy, "for i in _: _", bcast),
            "the argument 'k' would be i, which uses 'i', a loop variable of the block",
            prim="replace")


def test_replace_of_a_real_broadcast():
    @proc
    def spread(A: f32[8], B: f32[8]):
        for i in seq(0, 8):
            if 3 < 8 and 3 >= 0:
                A[i] = B[3]

    p = replace(spread, "for i in _: _", bcast)
    assert_body(p, "bcast(8, 3, A[0:8], B[0:8])")
    equiv(spread, checked(p))


@instr("/* refused below: never compiled */")
def zero_two_if(c: bool, x: [f32][4], y: [f32][4], z: f32):
    for i in seq(0, 4):
        if c:
            x[i] = 0.0
    for i in seq(0, 4):
        if c:
            y[i] = 0.0
    if c:
        z = 0.0


def test_replace_proves_every_inner_place_a_parameter_faced():
    @proc
    def second_differs(n: size, A: f32[4], B: f32[4], C: f32[2]):
        for i in seq(0, 4):
            if i < n + 4:  # the same as 0 < n
                A[i] = 0.0
        for i in seq(0, 4):
            if i < n:  # not the same as 0 < n for every i
                B[i] = 0.0
        if 0 < n:
            C[1] = 0.0

    blk = second_differs.find_loop("i").expand(0, 2)
    refused(lambda: replace(second_differs, blk, zero_two_if),
            "cannot prove 0 < n equals i < n", prim="replace")
