"""Splitting a weighted sum into vector-shaped loops, one per operation: what Exo's
`examples/quiz2` teaches, written here in knit's words. Every operand of the right-hand
side is bound to a scalar (recursively, through cursors), then each scalar is grown to
8 lanes, lifted out of the lane loop, and the lane loop is split after its assignment.

Done one scalar at a time, the first split comes while the other scalars are still
allocated inside the lane loop, before the split point and used after it: `fission`
refuses, naming the buffer and the fix. The refusal is needed — the split it refuses
would leave the second loop reading a scalar no iteration of it wrote (written out by
hand below, it computes something else). Growing and lifting every scalar first, then
splitting, is accepted and keeps the meaning."""

from __future__ import annotations

import pytest
from scheduling_checks import assert_body, equiv

import knit
import knit.API_cursors as pc
from knit import proc
from knit.equiv import EquivalenceError
from knit.errors import SchedulingError
from knit.stdlib.scheduling import bind_expr, divide_loop, expand_dim, fission, lift_alloc, rename


@proc
def weighted_sum(N: size, a: f32[N], b: f32[N], c: f32[N]):
    assert N % 8 == 0
    for i in seq(0, N):
        c[i] = 2.0 * a[i] + 3.0 * b[i]


def bind_operands(p, assign, count: int = 0):
    """Bind both operands of every binary operation on the right of `assign` (a
    cursor), innermost last, to scalars named `t`; return p and how many were bound."""
    if isinstance(assign.rhs(), pc.BinaryOpCursor):
        for operand in (lambda s: s.rhs().lhs(), lambda s: s.rhs().rhs()):
            p = bind_expr(p, operand(p.forward(assign)), "t")
            count += 1
            p, count = bind_operands(p, p.forward(assign).prev(), count)
    return p, count


@pytest.fixture(scope="module")
def bound():
    p = rename(weighted_sum, "weighted_sum_split")
    p = divide_loop(p, "i", 8, ["io", "ii"], perfect=True)
    return bind_operands(p, p.find("c[_] = _"))


def lanes_for(p, k: int):
    alloc = p.find(f"t : _ #{k}")
    return lift_alloc(expand_dim(p, alloc, 8, "ii"), alloc)


def split_after(p, k: int):
    return fission(p, p.find(f"t = _ #{k}").after())


def test_six_operands_are_bound(bound):
    p, count = bound
    assert count == 6
    assert_body(p, """
        assert N % 8 == 0
        for io in seq(0, N / 8):
            for ii in seq(0, 8):
                t: f32 @ DRAM
                t_1: f32 @ DRAM
                t_1 = 2.0
                t_2: f32 @ DRAM
                t_2 = a[8 * io + ii]
                t = t_1 * t_2
                t_3: f32 @ DRAM
                t_4: f32 @ DRAM
                t_4 = 3.0
                t_5: f32 @ DRAM
                t_5 = b[8 * io + ii]
                t_3 = t_4 * t_5
                c[8 * io + ii] = t + t_3
    """)


def test_splitting_before_the_other_scalars_are_lifted_is_refused(bound):
    p, count = bound
    p = lanes_for(p, 0)
    # the first `t` is lifted already: this one prints as `t_1`, found by `t : _ #1`
    with pytest.raises(SchedulingError, match=r"fission: 't_1' is allocated before the split "
                       r"and used after it(.|\n)*lift the allocation out first: "
                       r"lift_alloc\(p, 't : _ #1'\)"):
        split_after(p, 0)


@proc
def split_hiding_the_scalar(N: size, a: f32[N], b: f32[N], c: f32[N]):
    # the refused split, by hand: the first loop writes its own scalar `two`; the
    # second half of the body, now a loop of its own, has an allocation of `two`
    # that nothing writes (the allocation cannot be in scope on both sides)
    assert N % 8 == 0
    for io in seq(0, N / 8):
        s: f32[8]
        for ii in seq(0, 8):
            two: f32
            two = 2.0
        for ii in seq(0, 8):
            two: f32
            x: f32
            x = a[8 * io + ii]
            s[ii] = two * x
            u: f32
            three: f32
            three = 3.0
            y: f32
            y = b[8 * io + ii]
            u = three * y
            c[8 * io + ii] = s[ii] + u


def test_the_refused_split_would_compute_something_else():
    # interpreted: a buffer nothing wrote holds NaN there (in C it is undefined)
    with pytest.raises(EquivalenceError, match=r"differ \(interpreted\) for N=8: c\[0\] is "
                       r"\S+ vs nan \(8 element\(s\) differ\)"):
        knit.check_equiv(weighted_sum, split_hiding_the_scalar, trials=2, compiled=False,
                         interpret=True, sizes={"N": [8, 16]})


@pytest.fixture(scope="module")
def split(bound):
    p, count = bound
    for k in range(count):
        p = lanes_for(p, k)
    for k in range(count):
        p = split_after(p, k)
    return p


def test_lifting_every_scalar_first_lets_each_operation_have_its_loop(split):
    assert_body(split, """
        assert N % 8 == 0
        for io in seq(0, N / 8):
            t: f32[8] @ DRAM
            t_1: f32[8] @ DRAM
            t_2: f32[8] @ DRAM
            t_3: f32[8] @ DRAM
            t_4: f32[8] @ DRAM
            t_5: f32[8] @ DRAM
            for ii in seq(0, 8):
                t_1[ii] = 2.0
            for ii in seq(0, 8):
                t_2[ii] = a[8 * io + ii]
            for ii in seq(0, 8):
                t[ii] = t_1[ii] * t_2[ii]
            for ii in seq(0, 8):
                t_4[ii] = 3.0
            for ii in seq(0, 8):
                t_5[ii] = b[8 * io + ii]
            for ii in seq(0, 8):
                t_3[ii] = t_4[ii] * t_5[ii]
            for ii in seq(0, 8):
                c[8 * io + ii] = t[ii] + t_3[ii]
    """)
    equiv(weighted_sum, split, sizes={"N": [8, 24]}, max_size=24)
