"""Rewrites keep every rounding (issue 8, class 5, the rewrite side).

The rules are docs/semantics.md's: an operation is computed in its operands' common
type (#mixed-precision: f32 * f64 is f64), an untyped literal adopts the other operand's
type (#literal-type), narrow integer data is computed in `int` (#int-arith), and a store
converts once (#round-at-store). A rewrite that binds, inlines, merges or splits values
must not move a conversion or change the type an operation is computed in; floats may
be reassociated (as in Exo) only within one precision. Each test gives the sound rewrite
(accepted; interpreter and compiled C agree with the original) or the refusal with its
reason, and shows on chosen inputs that the refused result computes something else."""

from __future__ import annotations

import numpy as np
from scheduling_checks import assert_body, body, differs, equiv, refused

from knit import proc
from knit.stdlib.scheduling import (
    bind_expr,
    inline_assign,
    left_reassociate_expr,
    lift_reduce_constant,
    merge_writes,
    split_write,
)


def checked(p):
    p._check()
    return p


def run(p, **inputs) -> list:
    """The outputs of p on copies of `inputs`: [interpreted, compiled], each a dict."""
    outs = []
    for go in (p.interpret, p.compile()):
        args = {k: v.copy() if isinstance(v, np.ndarray) else v for k, v in inputs.items()}
        go(**args)
        outs.append(args)
    return outs


def same_results(p, q, **inputs) -> bool:
    """p and q give bit-identical outputs on these inputs, interpreted and compiled (and
    the two runs of each agree)."""
    (pi, pc), (qi, qc) = run(p, **inputs), run(q, **inputs)
    arrays = [k for k, v in inputs.items() if isinstance(v, np.ndarray)]
    for k in arrays:
        assert np.array_equal(pi[k], pc[k]) and np.array_equal(qi[k], qc[k]), k
    return all(np.array_equal(pi[k], qi[k]) for k in arrays)


# ---------------------------------------------------------------- bind_expr


@proc
def mixed_product(x: f32[4], z: f64[4], o: f64[4]):
    for i in seq(0, 4):
        o[i] = x[i] * z[i] + x[i]  # f64 + f32: f64 (it was typed f32)


def test_bind_expr_of_an_f32_times_f64_product_binds_an_f64():
    p = bind_expr(mixed_product, "x[_] * z[_]", "t")
    assert_body(p, """
        for i in seq(0, 4):
            t: f64 @ DRAM
            t = x[i] * z[i]
            o[i] = t + x[i]
    """)
    equiv(mixed_product, checked(p))
    ones = np.ones(4, dtype=np.float32)
    tiny = np.full(4, 1e-9)
    assert same_results(mixed_product, p, x=ones, z=tiny, o=np.zeros(4))

    @proc
    def rounded(x: f32[4], z: f64[4], o: f64[4]):  # what was built before: t an f32
        for i in seq(0, 4):
            t: f32
            t = x[i] * z[i]
            o[i] = t + x[i]

    assert not same_results(mixed_product, rounded, x=ones, z=1 + tiny, o=np.zeros(4))


@proc
def narrow_sum(a: i8[4], b: i8[4], o: i32[4]):
    for i in seq(0, 4):
        o[i] = (a[i] + b[i]) * 2


def test_bind_expr_of_narrow_integer_arithmetic_binds_the_int_it_is_computed_in():
    # semantics.md#int-arith: i8 + i8 is computed in int, 100 + 100 is 200
    p = bind_expr(narrow_sum, "a[_] + b[_]", "t")
    assert "t: i32 @ DRAM" in body(p)
    equiv(narrow_sum, checked(p))
    hundreds = np.full(4, 100, dtype=np.int8)
    assert same_results(narrow_sum, p, a=hundreds, b=hundreds, o=np.zeros(4, np.int32))

    @proc
    def wrapped(a: i8[4], b: i8[4], o: i32[4]):  # what was built before: t an i8
        for i in seq(0, 4):
            t: i8
            t = a[i] + b[i]
            o[i] = t * 2

    assert not same_results(narrow_sum, wrapped, a=hundreds, b=hundreds,
                            o=np.zeros(4, np.int32))


def test_bind_expr_of_narrow_arithmetic_stored_whole_keeps_its_type():
    """As Exo: `i8` for an `i8` sum that is the whole value stored into `i8` buffers
    (assigned or added): the store cuts the `int` sum to 8 bits either way, and the cut
    commutes with `+=`."""
    @proc
    def stores(a: i8[4], b: i8[4], c: i8[4], d: i8[4]):
        for i in seq(0, 4):
            c[i] = a[i] + b[i]
            d[i] += a[i] + b[i]

    p = bind_expr(stores, stores.find("a[_] + b[_]", many=True), "t")
    assert_body(p, """
        for i in seq(0, 4):
            t: i8 @ DRAM
            t = a[i] + b[i]
            c[i] = t
            d[i] += t
    """)
    equiv(stores, checked(p))
    hundreds = np.full(4, 100, dtype=np.int8)
    assert same_results(stores, p, a=hundreds, b=hundreds, c=np.zeros(4, np.int8),
                        d=np.full(4, 90, dtype=np.int8))

    @proc
    def mixed(a: i8[4], b: i8[4], c: i8[4], o: i32[4]):
        for i in seq(0, 4):
            c[i] = a[i] + b[i]
            o[i] = a[i] + b[i]  # stored into i32: the scalar must hold the int sum

    q = bind_expr(mixed, mixed.find("a[_] + b[_]", many=True), "t")
    assert "t: i32 @ DRAM" in body(q)
    equiv(mixed, checked(q))


def test_bind_expr_of_an_assigned_literal_exact_in_float_binds_an_r():
    """As Exo: a literal assigned whole binds to an `R` scalar (a float) when float holds
    it exactly, so every store converts the same value; 0.1 is not exact in float."""
    @proc
    def twos(x: i8[4], y: f64[4]):
        for i in seq(0, 4):
            x[i] = 2.0
            y[i] = 2.0

    p = bind_expr(twos, twos.find("2.0", many=True), "two")
    assert "two: R @ DRAM" in body(p)
    equiv(twos, checked(p))

    @proc
    def added(x: i32[4]):
        for i in seq(0, 4):
            x[i] += 2.5  # adds 2 (the literal takes i32): not an R scalar

    q = bind_expr(added, "2.5", "c")
    assert "c: i32 @ DRAM" in body(q)
    equiv(added, checked(q))

    @proc
    def as_float(x: i32[4]):  # what an R scalar would give: x + 2.5 in float, cut
        for i in seq(0, 4):
            c: R
            c = 2.5
            x[i] += c

    # -3 + 2 is -1; -3 + 2.5 is -0.5, cut to 0
    assert not same_results(added, as_float, x=np.full(4, -3, dtype=np.int32))


@proc
def tenths(x: f32[4], y: f64[4]):
    for i in seq(0, 4):
        x[i] = 0.1
        y[i] = 0.1


def test_bind_expr_refuses_a_literal_used_in_two_precisions():
    refused(lambda: bind_expr(tenths, tenths.find("0.1", many=True), "c"),
            "0.1 is used as f32 in one place and as f64 in another",
            "bind the occurrences of each precision separately", prim="bind_expr")
    p = bind_expr(tenths, tenths.find("0.1"), "c")  # one at a time: fine
    assert "c: f32 @ DRAM" in body(p)
    q = bind_expr(p, p.find("0.1", many=True)[-1], "d")
    assert "d: f64 @ DRAM" in body(q)
    equiv(tenths, checked(q))

    @proc
    def one_f32(x: f32[4], y: f64[4]):  # what was built before: 0.1 rounded to f32 for y
        c: f32
        c = 0.1
        for i in seq(0, 4):
            x[i] = c
            y[i] = c

    differs(tenths, one_f32)


@proc
def scaled(x: f32[4], y: f64[4]):
    for i in seq(0, 4):
        y[i] = x[i] * (0.1 + 0.2)


def test_bind_expr_of_part_of_a_literal_expression():
    # 0.1 + 0.2 is computed in double, then rounded once to the f32 it multiplies
    refused(lambda: bind_expr(scaled, "0.1", "c"),
            "0.1 is part of 0.1 + 0.2, an expression of literals only, computed in double "
            "and then converted to f32: a part bound on its own would be rounded to f32 "
            "separately", "bind the whole of 0.1 + 0.2", prim="bind_expr")
    p = bind_expr(scaled, "0.1 + 0.2", "c")
    assert "c: f32 @ DRAM" in body(p) and "y[i] = x[i] * c" in body(p)
    equiv(scaled, checked(p))

    @proc
    def part_f64(x: f32[4], y: f64[4]):  # what was built before: an f64 product
        for i in seq(0, 4):
            c: f64
            c = 0.1
            y[i] = x[i] * (c + 0.2)

    differs(scaled, part_f64)

    @proc
    def stored(y: f32[4]):  # stored as is: a part may be bound in double
        for i in seq(0, 4):
            y[i] = 0.1 * 3.0

    q = bind_expr(stored, "0.1", "c")
    assert "c: f64 @ DRAM" in body(q)
    equiv(stored, checked(q))


# ---------------------------------------------------------------- inline_assign


def test_inline_assign_refuses_dropping_the_rounding_of_a_mixed_sum():
    @proc
    def rounds(x: f32[1], z: f64[1], o: f64[1]):
        t: f32
        t = x[0] * z[0] + x[0]  # an f64 value, rounded to f32 by the store
        o[0] = t * z[0]

    refused(lambda: inline_assign(rounds, "t = _"),
            "'x[0] * z[0] + x[0]' is an f64 value but t holds f32: inlining would change "
            "where the value is converted to f32", prim="inline_assign")

    @proc
    def inlined(x: f32[1], z: f64[1], o: f64[1]):  # what was built before
        o[0] = (x[0] * z[0] + x[0]) * z[0]

    ins = {"x": np.ones(1, np.float32), "z": np.full(1, 1 + 1e-9), "o": np.zeros(1)}
    assert not same_results(rounds, inlined, **ins)


def test_inline_assign_of_an_f32_value_into_an_f64_expression():
    @proc
    def exact(x: f32[4], y: f32[4], z: f64[4], o: f64[4]):
        for i in seq(0, 4):
            t: f32
            t = x[i] * y[i]  # an f32 product: reading t back gives it exactly
            o[i] = t * z[i]

    p = inline_assign(exact, "t = _")
    assert "o[i] = x[i] * y[i] * z[i]" in body(p)
    equiv(exact, checked(p))


def test_inline_assign_refuses_a_literal_that_would_adopt_another_type():
    @proc
    def halves(u: i32[4], o: f32[4]):
        for i in seq(0, 4):
            t: f32
            t = 0.5
            o[i] = t * u[i]  # an f32 product

    refused(lambda: inline_assign(halves, "t = _"),
            "with '0.5' in place of t, '0.5 * u[i]' would be computed in i32, not in f32 "
            "as before", prim="inline_assign")

    @proc
    def inlined(u: i32[4], o: f32[4]):  # what was built before: 0.5 adopts i32, is 0
        for i in seq(0, 4):
            o[i] = 0.5 * u[i]

    differs(halves, inlined)

    @proc
    def same_type(x: f32[4], o: f32[4]):
        for i in seq(0, 4):
            t: f32
            t = 0.5
            o[i] = t * x[i]

    p = inline_assign(same_type, "t = _")  # 0.5 adopts f32 as t was: fine
    assert "o[i] = 0.5 * x[i]" in body(p)
    equiv(same_type, checked(p))


def test_inline_assign_refuses_narrow_integer_arithmetic():
    @proc
    def wraps(a: i8[1], b: i8[1], o: i32[1]):
        t: i8
        t = a[0] + b[0]  # computed in int, wrapped to i8 by the store
        o[0] = t * 2

    refused(lambda: inline_assign(wraps, "t = _"),
            "'a[0] + b[0]' is computed in i32 (as C computes i8 arithmetic) and may not fit "
            "i8, which t holds: inlining would change where the value is converted to i8",
            prim="inline_assign")

    @proc
    def inlined(a: i8[1], b: i8[1], o: i32[1]):  # what was built before
        o[0] = (a[0] + b[0]) * 2

    hundred = np.full(1, 100, dtype=np.int8)
    assert not same_results(wraps, inlined, a=hundred, b=hundred, o=np.zeros(1, np.int32))


# ---------------------------------------------------------------- merge_writes, split_write


@proc
def two_f64_adds(x: f32[1], a: f64[1], b: f64[1]):
    x[0] += a[0]
    x[0] += b[0]


@proc
def one_f64_add(x: f32[1], a: f64[1], b: f64[1]):  # merged: the f32 rounding between goes
    x[0] += a[0] + b[0]


# 0.4 of an f32 ulp at 1.0, twice: rounded away each time, but not once summed
NEAR_ONE = {"x": np.ones(1, np.float32), "a": np.full(1, 0.4 * 2.0**-23),
            "b": np.full(1, 0.4 * 2.0**-23)}


def test_merge_writes_refuses_reductions_of_another_precision():
    refused(lambda: merge_writes(two_f64_adds, two_f64_adds.body()[0].expand(0, 1)),
            "'a[0]' is an f64 value but x[0] holds f32: merging would change where the value "
            "is converted to f32", prim="merge_writes")
    assert not same_results(two_f64_adds, one_f64_add, **NEAR_ONE)


def test_split_write_refuses_a_reduction_of_another_precision():
    refused(lambda: split_write(one_f64_add, "x[_] += _"),
            "'a[0]' is an f64 value but x[0] holds f32: splitting would change where the "
            "value is converted to f32", prim="split_write")


def test_merge_and_split_of_reductions_in_the_buffers_precision():
    @proc
    def same(x: f64[1], a: f64[1], b: f32[1]):
        x[0] += a[0]
        x[0] += 0.5
        x[0] = x[0] * 2.0
        x[0] += b[0]

    p = merge_writes(same, same.body()[0].expand(0, 1))  # f64 + literal: f64
    assert body(p).startswith("x[0] += a[0] + 0.5")
    equiv(same, checked(p))
    q = split_write(p, "x[_] += _")
    assert str(q) == str(same)
    equiv(same, checked(q))
    # b is f32: x += b adds it as f64, but a f32 partial sum would round it
    r = merge_writes(p, p.body()[1].expand(0, 1))
    assert "x[0] = x[0] * 2.0 + b[0]" in body(r)  # the assignment's value is stored exactly
    equiv(same, checked(r))


@proc
def half_then_ints(x: f32[4], u: i32[4]):
    for i in seq(0, 4):
        x[i] = 0.5
        x[i] += u[i]  # x[i] + u[i]: an f32 sum


def test_merge_writes_refuses_a_literal_that_would_adopt_another_type():
    refused(lambda: merge_writes(half_then_ints, "x[_] = 0.5; x[_] += _"),
            "'0.5 + u[i]' would be computed in i32, but x[i] + u[i] is computed in f32: "
            "merging would change the result", prim="merge_writes")

    @proc
    def merged(x: f32[4], u: i32[4]):  # what was built before: 0.5 adopts i32
        for i in seq(0, 4):
            x[i] = 0.5 + u[i]

    differs(half_then_ints, merged)


def test_split_write_refuses_a_literal_that_would_adopt_another_type():
    @proc
    def int_sum(x: f64[4], u: i32[4]):
        for i in seq(0, 4):
            x[i] = 0.5 + u[i]  # 0.5 adopts i32: 0 + u[i]

    refused(lambda: split_write(int_sum, "x[_] = _"),
            "'0.5 + u[i]' would be computed in i32, but x[i] + u[i] is computed in f64: "
            "splitting would change the result", prim="split_write")

    @proc
    def split(x: f64[4], u: i32[4]):  # what was built before
        for i in seq(0, 4):
            x[i] = 0.5
            x[i] += u[i]

    differs(int_sum, split)


# ---------------------------------------------------------------- reassociation


def test_left_reassociate_refuses_a_partial_result_in_another_precision():
    @proc
    def mixed(a: f32[1], b: f32[1], c: f64[1], o: f64[1]):
        o[0] = a[0] + (b[0] + c[0])  # both sums in f64

    refused(lambda: left_reassociate_expr(mixed, mixed.find("a[_] + _")),
            "'a[0] + b[0]' is computed in f32 but 'a[0] + (b[0] + c[0])' in f64: "
            "reassociating would change the precision of a partial result",
            prim="left_reassociate_expr")

    @proc
    def reassociated(a: f32[1], b: f32[1], c: f64[1], o: f64[1]):  # what was built before
        o[0] = a[0] + b[0] + c[0]

    ins = {"a": np.ones(1, np.float32), "b": np.full(1, 2.0**-24, np.float32),
           "c": np.zeros(1), "o": np.zeros(1)}
    assert not same_results(mixed, reassociated, **ins)

    @proc
    def folds(x: f32[1], o: f32[1]):
        o[0] = 2.0 * (3.0 * x[0])

    p = left_reassociate_expr(folds, folds.find("2.0 * _"))  # literals fold: allowed
    assert "o[0] = 2.0 * 3.0 * x[0]" in body(p)
    equiv(folds, checked(p))


def test_lift_reduce_constant_refuses_a_factor_of_another_precision():
    @proc
    def scaled_sum(n: size, x: f32[1], c: f64[1], e: f32[n]):
        x[0] = 0.0
        for i in seq(0, n):
            x[0] += c[0] * e[i]  # f64 products, rounded to f32 at each add

    refused(lambda: lift_reduce_constant(scaled_sum, scaled_sum.body()[0].expand(0, 1)),
            "'c[0] * e[i]' would be computed in f64, but x[0] holds f32: lifting the factor "
            "would change the precision of the products or of the sum",
            prim="lift_reduce_constant")

    @proc
    def lifted(n: size, x: f32[1], c: f64[1], e: f32[n]):  # what was built before
        x[0] = 0.0
        for i in seq(0, n):
            x[0] += e[i]
        x[0] = c[0] * x[0]

    # 3 * 2**-24 survives an f64 product added to 3.0 in f32; 2**-24 added to 1.0 in f32
    # does not, so the f32 sum scaled afterwards loses it
    ins = {"n": 2, "x": np.zeros(1, np.float32), "c": np.full(1, 3.0),
           "e": np.array([1.0, 2.0**-24], np.float32)}
    assert not same_results(scaled_sum, lifted, **ins)


def test_merge_and_split_of_two_literals():
    @proc
    def exact(x: f32[1]):
        x[0] = 1.0
        x[0] += 0.5  # both held exactly by f32: one rounding of an exact sum either way

    p = merge_writes(exact, exact.body()[0].expand(0, 1))
    assert body(p) == "x[0] = 1.0 + 0.5"
    equiv(exact, checked(p))
    assert str(split_write(p, "x[_] = _")) == str(exact)

    @proc
    def inexact(x: f32[1]):
        x[0] = 1.0
        x[0] += 0.1  # rounded to f32 before the f32 sum; merged, summed in double first

    refused(lambda: merge_writes(inexact, inexact.body()[0].expand(0, 1)),
            "'1.0 + 0.1' would be computed in double (literals only), but x[0] + 0.1 is "
            "computed in f32", prim="merge_writes")


def test_lift_reduce_constant_of_a_narrower_factor_converted_exactly():
    @proc
    def f64_sum(n: size, x: f64[1], c: f32[1], e: f64[n]):
        x[0] = 0.0
        for i in seq(0, n):
            x[0] += c[0] * e[i]  # c converted exactly: every operation is f64

    p = lift_reduce_constant(f64_sum, f64_sum.body()[0].expand(0, 1))
    assert "x[0] = c[0] * x[0]" in body(p)
    equiv(f64_sum, checked(p))

    @proc
    def f32_products(n: size, x: f64[1], c: f32[1], e: f32[n]):
        x[0] = 0.0
        for i in seq(0, n):
            x[0] += c[0] * e[i]  # f32 products, added in f64

    refused(lambda: lift_reduce_constant(f32_products, f32_products.body()[0].expand(0, 1)),
            "'c[0] * e[i]' would be computed in f32, but x[0] holds f64")


def test_merge_writes_of_reductions_of_a_narrower_type():
    @proc
    def adds(x: f64[1], a: f32[1], b: f64[1]):
        x[0] += a[0]  # a converted exactly: both sums are f64
        x[0] += b[0]

    p = merge_writes(adds, adds.body()[0].expand(0, 1))
    assert body(p) == "x[0] += a[0] + b[0]"
    equiv(adds, checked(p))
    assert str(split_write(p, "x[_] += _")) == str(adds)

    @proc
    def f32_adds(x: f64[1], a: f32[1], b: f32[1]):
        x[0] += a[0]
        x[0] += b[0]

    refused(lambda: merge_writes(f32_adds, f32_adds.body()[0].expand(0, 1)),
            "'a[0] + b[0]' would be computed in f32, but x[0] holds f64: merging would round "
            "a partial sum to f32", prim="merge_writes")
