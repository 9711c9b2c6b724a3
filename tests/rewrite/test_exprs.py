"""Expression and write primitives: commute_expr, left_reassociate_expr, rewrite_expr,
merge_writes, split_write, fold_into_reduce, inline_assign, lift_reduce_constant.

Each has the three kinds of test: the rewritten code, equivalence on random inputs
(compiled C and interpreter), and refusal of the unsafe uses with the reason. Where a
refusal guards a real trap, the would-be result is written out by hand and shown to
compute something else, so the refusal is not vacuous."""

from __future__ import annotations

import re

from refusals import marked_line
from scheduling_checks import assert_body, differs, equiv, refused

from knit import config, proc
from knit.cursors.internal import text_of
from knit.stdlib.scheduling import (
    commute_expr,
    fold_into_reduce,
    inline_assign,
    left_reassociate_expr,
    lift_reduce_constant,
    merge_writes,
    rewrite_expr,
    simplify,
    split_write,
)

# ---------------------------------------------------------------- commute_expr


@proc
def prod_sum(x: f32[3], y: f32[3], z: f32[1]):
    z[0] = (x[0] + y[0]) * (x[1] + y[1] + y[2])


def test_commute_one_expression():
    p = commute_expr(prod_sum, "(x[_] + y[_]) * (x[_] + y[_] + y[_])")
    assert_body(p, "z[0] = (x[1] + y[1] + y[2]) * (x[0] + y[0])")
    equiv(prod_sum, p)


def test_commute_every_match_of_a_pattern_including_nested_ones():
    p = commute_expr(prod_sum, "_ + _")
    assert_body(p, "z[0] = (y[0] + x[0]) * (y[2] + (y[1] + x[1]))")
    equiv(prod_sum, p)


def test_commute_a_list_of_cursors_and_an_index_expression():
    @proc
    def shifted(N: size, x: f32[N + 1], y: f32[N]):
        for i in seq(0, N):
            y[i] = x[i + 1] * 2.0

    p = commute_expr(shifted, [shifted.find("i + 1"), shifted.find("x[_] * 2.0")])
    assert_body(p, """
        for i in seq(0, N):
            y[i] = 2.0 * x[1 + i]
    """)
    equiv(shifted, p)


def test_commute_refuses_other_operators():
    @proc
    def diff(x: f32[3], y: f32[3], z: f32):
        z = x[0] - y[2]  # <- diff

    msg = refused(lambda: commute_expr(diff, "x[0] - y[_]"),
                  "only '+' and '*' can be reordered", "'x[0] - y[2]' is a '-'",
                  prim="commute_expr")
    assert f":{marked_line(__file__, 'diff')}:" in msg.splitlines()[0]
    refused(lambda: commute_expr(diff, "x[0]"), "is not a binary operation")
    refused(lambda: commute_expr(diff, []), "expected at least one expression")


# ---------------------------------------------------------------- left_reassociate_expr


@proc
def sum3(a: f32[1], b: f32[1], c: f32[1]):
    b[0] = a[0] + (b[0] + c[0])


@proc
def prod4(a: f32[1], b: f32[1], c: f32[1]):
    b[0] = (a[0] * b[0]) * (b[0] * c[0])


def test_left_reassociate_sum():
    p = left_reassociate_expr(sum3, "_ + _")
    assert_body(p, "b[0] = a[0] + b[0] + c[0]")
    equiv(sum3, p)
    q = commute_expr(p, [p.find("_ + _")])
    assert_body(q, "b[0] = c[0] + (a[0] + b[0])")
    equiv(sum3, q)


def test_left_reassociate_product():
    p = left_reassociate_expr(prod4, "_ * _")
    assert_body(p, "b[0] = a[0] * b[0] * b[0] * c[0]")
    equiv(prod4, p)


def test_left_reassociate_index_expression():
    @proc
    def idx(N: size, x: f32[N + 4], y: f32[N]):
        for i in seq(0, N):
            y[i] = x[i + (1 + 3)]

    p = left_reassociate_expr(idx, "i + (1 + 3)")
    assert_body(p, """
        for i in seq(0, N):
            y[i] = x[i + 1 + 3]
    """)
    equiv(idx, p)


def test_reassociate_then_fold_into_a_reduction():
    p = commute_expr(sum3, [sum3.find("_ + _ #1")])
    p = left_reassociate_expr(p, "_ + _")
    p = commute_expr(p, [p.find("_ + _")])
    p = fold_into_reduce(p, "_[_] = _")
    assert_body(p, "b[0] += a[0] + c[0]")
    equiv(sum3, p)


def test_left_reassociate_refusals():
    @proc
    def minus(a: f32, b: f32, c: f32):
        b = a - (b + c)

    @proc
    def mixed(a: f32, b: f32, c: f32):
        b = a + (b - c)

    refused(lambda: left_reassociate_expr(minus, "_ - _"), "'a - (b + c)' is a '-'",
            prim="left_reassociate_expr")
    refused(lambda: left_reassociate_expr(mixed, "_ + _"),
            "the right operand of 'a + (b - c)' must be another '+'")


# ---------------------------------------------------------------- rewrite_expr


@proc
def mod_bound(n: size, x: f32[6]):
    assert n % 4 == 2
    for i in seq(0, 4 + n % 4):
        x[i] = 1.0


def test_rewrite_expr_with_an_assert():
    p = rewrite_expr(mod_bound, "n % 4", "2")
    assert_body(simplify(p), """
        assert n % 4 == 2
        for i in seq(0, 6):
            x[i] = 1.0
    """)
    q = rewrite_expr(mod_bound, "4 + n % 4", 6)
    assert_body(q, """
        assert n % 4 == 2
        for i in seq(0, 6):
            x[i] = 1.0
    """)
    equiv(mod_bound, p)
    equiv(mod_bound, q)


def test_rewrite_expr_with_a_loop_range_and_a_bool():
    @proc
    def tail(n: size, x: f32[n]):
        for i in seq(0, n):
            if i < n:
                x[i] = x[i] + 1.0
        for j in seq(0, n % 4):
            x[j] = 0.0

    p = rewrite_expr(tail, "i < n", "0 <= i")
    p = rewrite_expr(p, "n % 4", "n - n / 4 * 4")
    assert_body(p, """
        for i in seq(0, n):
            if 0 <= i:
                x[i] = x[i] + 1.0
        for j in seq(0, n - n / 4 * 4):
            x[j] = 0.0
    """)
    equiv(tail, p)


def test_rewrite_expr_refuses_an_unproven_equality():
    @proc
    def plain(n: size, x: f32[n]):
        for i in seq(0, n):  # <- plain loop
            x[i] = 0.0

    msg = refused(lambda: rewrite_expr(plain, "n", "n + n % 4"),
                  "cannot prove that 'n' and 'n + n % 4' are equal here", "they differ when n =",
                  prim="rewrite_expr")
    assert f":{marked_line(__file__, 'plain loop')}:" in msg.splitlines()[0]
    refused(lambda: rewrite_expr(plain, "i", "i + 1"), "'i' and 'i + 1'")


def test_rewrite_expr_refuses_data_and_mismatched_kinds():
    @proc
    def data(n: size, x: f32[n], b: bool):
        for i in seq(0, n):
            if b:
                x[i] = x[i] + 1.0

    refused(lambda: rewrite_expr(data, "x[i] + 1.0", "1.0 + x[i]"),
            "index and bool expressions only")
    refused(lambda: rewrite_expr(data, "b", "i"), "'i' is an index value, but 'b' is a bool")


def test_rewrite_expr_refuses_a_result_outside_the_language():
    @proc
    def halves(x: f32[8]):
        for i in seq(0, 8 / 2):
            x[i * 2] = 1.0

    refused(lambda: rewrite_expr(halves, halves.find("8 / 2").rhs(), "1 + 1"),
            "the result would not be valid object code",
            "'/' on index values needs a positive literal divisor (in '8 / (1 + 1)')")
    # a factor of literals only keeps the product affine (as in Exo): accepted
    assert "x[i * (1 + 1)] = 1.0" in str(rewrite_expr(halves, halves.find("i * 2").rhs(),
                                                      "1 + 1"))
    p = rewrite_expr(halves, "i * 2", "i + i")
    assert_body(p, """
        for i in seq(0, 8 / 2):
            x[i + i] = 1.0
    """)
    equiv(halves, p)


def test_rewrite_expr_refuses_inside_code_that_never_runs():
    @proc
    def dead(n: size, x: f32[n + 1]):
        for i in seq(2, 2):
            for j in seq(0, n):
                x[j] = 1.0

    refused(lambda: rewrite_expr(dead, dead.find_loop("j").hi(), "n + 1"),
            "this code never runs")


@config
class Bound:
    n: index


def test_rewrite_expr_forgets_facts_about_a_config_the_proc_writes():
    @proc
    def stale(x: f32[8]):
        assert Bound.n == 4
        Bound.n = 6
        for i in seq(0, Bound.n):
            x[i] = 0.0

    refused(lambda: rewrite_expr(stale, "Bound.n", "4"), "cannot prove that 'Bound.n' and '4'")


# ---------------------------------------------------------------- merge_writes


def test_merge_writes_all_four_cases():
    @proc
    def four(x: f32[4], y: f32[4], out: f32[4, 10]):
        for i in seq(0, 10):
            if i < 5:
                tmp: f32[4]
                tmp[0] = x[0]
                tmp[0] = y[0]
                tmp[1] = x[1]
                tmp[1] += y[1]
                tmp[2] = y[2]
                tmp[2] += x[2]
                tmp[2] = y[2]
                tmp[3] = 0.0
                tmp[3] += x[3]
                tmp[3] += y[3]
                for k in seq(0, 4):
                    out[k, i] = tmp[k]

    p = merge_writes(four, "tmp[0] = x[0]; tmp[0] = y[0]")
    p = merge_writes(p, "tmp[1] = x[1]; tmp[1] += y[1]")
    p = merge_writes(p, "tmp[2] += x[2]; tmp[2] = y[2]")
    p = merge_writes(p, "tmp[3] += x[3]; tmp[3] += y[3]")
    assert_body(p, """
        for i in seq(0, 10):
            if i < 5:
                tmp: f32[4] @ DRAM
                tmp[0] = y[0]
                tmp[1] = x[1] + y[1]
                tmp[2] = y[2]
                tmp[2] = y[2]
                tmp[3] = 0.0
                tmp[3] += x[3] + y[3]
                for k in seq(0, 4):
                    out[k, i] = tmp[k]
    """)
    equiv(four, p)


@proc
def chain(w: f32[1], x: f32[1], y: f32[1], z: f32[1]):
    z[0] = w[0]
    z[0] += x[0]
    z[0] += y[0]
    w[0] = x[0]


def test_merge_writes_consecutively():
    p = merge_writes(chain, "z[0] = w[0]; z[0] += x[0]")
    p = merge_writes(p, "z[0] = w[0] + x[0]; z[0] += y[0]")
    assert_body(p, """
        z[0] = w[0] + x[0] + y[0]
        w[0] = x[0]
    """)
    equiv(chain, p)


def test_merge_writes_proves_the_same_location():
    @proc
    def diag(x: f32[3], y: f32[3], out: f32[4, 4]):
        for i in seq(0, 3):
            for j in seq(0, 3):
                if i < 2:
                    out[i + j, j] = x[i]
                    out[j + i, j] += y[j]

    p = merge_writes(diag, "out[i+j, j] = x[i]; out[_] += y[j]")
    assert_body(p, """
        for i in seq(0, 3):
            for j in seq(0, 3):
                if i < 2:
                    out[i + j, j] = x[i] + y[j]
    """)
    equiv(diag, p)


def test_merge_writes_of_a_literal_the_buffer_holds_exactly():
    @proc
    def init(y: f32, z: f32[1]):
        x: f32
        x = 0.0
        x += y
        z[0] = x

    p = merge_writes(init, "x = 0.0; x += y")
    assert_body(p, """
        x: f32 @ DRAM
        x = 0.0 + y
        z[0] = x
    """)
    equiv(init, p)


@proc
def reads_first(x: f32[5], y: f32[3]):
    for i in seq(0, 3):
        if i > 0:
            x[2 * i - 1] = x[i] + y[i]
            x[2 * i - 1] += x[i]  # <- reads_first


def test_merge_writes_refuses_a_second_value_reading_the_location():
    msg = refused(lambda: merge_writes(reads_first, "x[2*i-1] = _; x[2*i-1] += x[i]"),
                  "the second statement's right-hand side reads x[i], which the first "
                  "statement writes", prim="merge_writes")
    assert f":{marked_line(__file__, 'reads_first')}:" in msg.splitlines()[0]

    @proc
    def merged(x: f32[5], y: f32[3]):  # what merging would give
        for i in seq(0, 3):
            if i > 0:
                x[2 * i - 1] = x[i] + y[i] + x[i]

    differs(reads_first, merged)


def test_merge_writes_refuses_other_shapes():
    @proc
    def guarded(x: f32, y: f32):
        for i in seq(0, 10):
            y = x
            if i > 5:
                y = x

    @proc
    def two_names(x: f32, y: f32):
        x = y
        y += x

    @proc
    def windowed(x: f32[3, 3], y: f32):
        z = x[0:3, 0:2]
        for i in seq(0, 2):
            z[i, 1] = y
            z[i + 1, 1] += y

    refused(lambda: merge_writes(guarded, "y = x; _"),
            "expected two consecutive assignments or reductions")
    refused(lambda: merge_writes(two_names, "x = y; y += x"),
            "cannot prove that the two statements write the same location: x and y")
    refused(lambda: merge_writes(windowed, "z[i, 1] = y; z[i+1, 1] += y"),
            "z[i, 1] and z[i + 1, 1]")
    refused(lambda: merge_writes(windowed, windowed.body()[1].body()[0]),
            "expected a block of two statements, got 1")


def test_merge_writes_refuses_skipping_a_conversion():
    @proc
    def narrow(a: f64, b: f32, z: f32):
        x: f32
        x = a
        x += b
        z = x

    refused(lambda: merge_writes(narrow, "x = a; x += b"),
            "'a' is an f64 value but x holds f32",
            "merging would change where the value is converted")


# ---------------------------------------------------------------- split_write


@proc
def sums(x: i8[1], y: i8, z: i8):
    x[0] = y + 2.0
    x[0] += z + 4.0


def test_split_write():
    p = split_write(sums, sums.body()[0])
    p = split_write(p, p.body()[2])
    assert_body(p, """
        x[0] = y
        x[0] += 2.0
        x[0] += z
        x[0] += 4.0
    """)
    equiv(sums, p)


def test_split_write_then_merge_gives_back_the_original():
    p = split_write(sums, sums.body()[0])
    p = split_write(p, p.body()[2])
    p = merge_writes(p, p.body()[0].expand(0, 1))
    p = merge_writes(p, p.body()[1].expand(0, 1))
    assert str(p) == str(sums)
    equiv(sums, p)


def test_split_write_refuses_a_non_addition():
    @proc
    def products(x: f32):
        x = 1.0 * 2.0
        x += 4.0

    for s in products.body():
        refused(lambda s=s: split_write(products, s), "is not an addition",
                prim="split_write")
    refused(lambda: split_write(products, products.body()[0].expand(0, 1)),
            "expected a statement, got a block")


@proc
def self_read(x: f32[1], y: f32):
    x[0] = y + x[0]


def test_split_write_refuses_a_second_operand_reading_the_location():
    refused(lambda: split_write(self_read, "x = _"), "the second operand 'x[0]' reads x[0]",
            "the value the first part writes")

    @proc
    def split(x: f32[1], y: f32):  # what splitting would give
        x[0] = y
        x[0] += x[0]

    differs(self_read, split)


def test_split_write_refuses_skipping_a_conversion():
    @proc
    def round_twice(a: f32, b: f32, x: i8):
        x = a + b

    refused(lambda: split_write(round_twice, "x = _"), "'a' is an f32 value but x holds i8")


# ---------------------------------------------------------------- fold_into_reduce


def test_fold_into_reduce():
    @proc
    def acc(m: size, n: size, a: f32[m, n], x: f32):
        for i in seq(0, m):
            for j in seq(0, n):
                a[i, j] = a[i, j] + x * x

    p = fold_into_reduce(acc, acc.find("a[_] = _"))
    assert_body(p, """
        for i in seq(0, m):
            for j in seq(0, n):
                a[i, j] += x * x
    """)
    equiv(acc, p)


def test_fold_into_reduce_proves_the_location():
    @proc
    def same(n: size, a: f32[n + 1], x: f32):
        for i in seq(0, n):
            a[i + 1] = a[1 + i] + x

    p = fold_into_reduce(same, "a[_] = _")
    assert_body(p, """
        for i in seq(0, n):
            a[i + 1] += x
    """)
    equiv(same, p)


def test_fold_into_reduce_refusals():
    @proc
    def shapes(m: size, n: size, a: f32[m, n + 1], x: f32):
        for i in seq(0, m):
            for j in seq(0, n):
                a[i, j] = a[i, j] * x
                a[i, j] = a[i, j + 1] + x
                a[i, j] = x + a[i, j]
                a[i, j] = a[i, j] + a[i, j]
                a[i, j] += x

    stmts = shapes.find_loop("j").body()
    refused(lambda: fold_into_reduce(shapes, stmts[0]), "is not an addition",
            prim="fold_into_reduce")
    refused(lambda: fold_into_reduce(shapes, stmts[1]),
            "the left operand of the addition, 'a[i, j + 1]', is not a read of a[i, j]")
    msg = refused(lambda: fold_into_reduce(shapes, stmts[2]), "'x', is not a read of a[i, j]")
    assert "commute_expr can put it on the left" in msg
    refused(lambda: fold_into_reduce(shapes, stmts[3]),
            "a reduction must not read what it accumulates into")
    refused(lambda: fold_into_reduce(shapes, stmts[4]), "expected an assignment")


# ---------------------------------------------------------------- inline_assign


def test_inline_assign_into_later_reads_of_the_location():
    @proc
    def lanes(n: size, y: i8[n], z: i8[n]):
        for i in seq(0, n):
            x: i8[5]
            x[2] = 3.0
            x[1] = 1.0
            y[i] = x[1] + x[2]
            a: i8
            a = x[1]
            z[i] = a

    p = inline_assign(lanes, lanes.find("x[1] = _"))
    assert_body(p, """
        for i in seq(0, n):
            x: i8[5] @ DRAM
            x[2] = 3.0
            y[i] = 1.0 + x[2]
            a: i8 @ DRAM
            a = 1.0
            z[i] = a
    """)
    equiv(lanes, p)


def test_inline_assign_of_a_scalar_allocated_outside_the_loop():
    @proc
    def staged(n: size, a: f32[n], b: f32[n]):
        tmp: f32
        for i in seq(0, n):
            tmp = a[i]
            b[i] = tmp * 2.0

    p = inline_assign(staged, "tmp = _")
    assert_body(p, """
        tmp: f32 @ DRAM
        for i in seq(0, n):
            b[i] = a[i] * 2.0
    """)
    equiv(staged, p)


def test_inline_assign_with_no_later_read_deletes_a_dead_store():
    @proc
    def dead(b: f32[1]):
        a: f32
        a = 1.0
        b[0] = 2.0

    p = inline_assign(dead, "a = _")
    assert_body(p, """
        a: f32 @ DRAM
        b[0] = 2.0
    """)
    equiv(dead, p)


@proc
def carried(n: size, a: f32[n], b: f32[n]):
    tmp: f32
    tmp = 0.0
    for i in seq(0, n):
        b[i] = tmp  # <- reads last
        tmp = a[i]  # <- carried
        b[i] += tmp


def test_inline_assign_refuses_a_value_read_in_the_next_iteration():
    msg = refused(lambda: inline_assign(carried, "tmp = a[i]"),
                  "the value written is also seen where it would not be replaced",
                  f"at line {marked_line(__file__, 'reads last')} reads tmp",
                  prim="inline_assign")
    assert f":{marked_line(__file__, 'carried')}:" in msg.splitlines()[0]

    @proc
    def inlined(n: size, a: f32[n], b: f32[n]):  # what inlining would give
        tmp: f32
        tmp = 0.0
        for i in seq(0, n):
            b[i] = tmp
            b[i] += a[i]

    differs(carried, inlined, sizes={"n": [2, 3, 5]})


@proc
def overwritten(a: f32[4], b: f32[4]):
    tmp: f32
    tmp = a[0]
    a[0] = 2.0
    b[0] = tmp


def test_inline_assign_refuses_when_the_value_changes_before_the_read():
    refused(lambda: inline_assign(overwritten, "tmp = _"), "writes a[0] before a read of tmp",
            "may change the value of 'a[0]'")

    @proc
    def inlined(a: f32[4], b: f32[4]):  # what inlining would give
        a[0] = 2.0
        b[0] = a[0]

    differs(overwritten, inlined)


def test_inline_assign_refuses_when_the_location_is_overwritten_before_a_read():
    @proc
    def twice(b: f32[2]):
        x: f32
        x = 1.0
        b[0] = x
        x = 2.0
        b[1] = x

    refused(lambda: inline_assign(twice, "x = 1.0"), "writes x before a read of x",
            "which may overwrite x")


def test_inline_assign_refuses_other_cases():
    @proc
    def various(n: size, a: f32[n], b: f32[n + 1]):
        t: f32[n]
        for i in seq(0, n):
            t[i] = a[i]
            b[i] = t[i]
        for i in seq(0, n):
            b[i] += t[i]
        for i in seq(0, n):
            w: f64
            w = a[i]
            b[i] = w
        a[0] = b[1]
        b[0] = a[0]

    refused(lambda: inline_assign(various, "t = _"), "reads t[i], which may be the same")
    refused(lambda: inline_assign(various, "w = _"), "'a[i]' is an f32 value but w holds f64")
    refused(lambda: inline_assign(various, "a = _"), "'a' is an argument of the procedure")
    refused(lambda: inline_assign(various, "b[_] += _"), "expected an assignment")


def test_inline_assign_sees_reads_through_a_window():
    @proc
    def aliased(out: f32[2]):
        x: f32[2]
        x[0] = 5.0
        w = x[0:1]
        x[0] = 1.0
        x[1] = 2.0
        out[0] = w[0] + x[0]
        out[1] = x[1]

    refused(lambda: inline_assign(aliased, "x[0] = 1.0"), "reads x[0 + 0]")
    p = inline_assign(aliased, "x[1] = _")
    assert_body(p, """
        x: f32[2] @ DRAM
        x[0] = 5.0
        w = x[0:1]
        x[0] = 1.0
        out[0] = w[0] + x[0]
        out[1] = 2.0
    """)
    equiv(aliased, p)

    @proc
    def inlined(out: f32[2]):  # what inlining x[0] would give
        x: f32[2]
        x[0] = 5.0
        w = x[0:1]
        x[1] = 2.0
        out[0] = w[0] + 1.0
        out[1] = x[1]

    differs(aliased, inlined)


def test_cursors_follow_the_rewritten_statement():
    @proc
    def acc(n: size, a: f32[n], x: f32):
        for i in seq(0, n):
            a[i] = a[i] + x

    c = acc.find("a[_] = _")
    p = fold_into_reduce(acc, c)
    assert text_of(p.forward(c)) == "a[i] += x"
    q = commute_expr(acc, "a[i] + x")
    assert str(q.forward(c.rhs())) == "x + a[i]"


# ---------------------------------------------------------------- lift_reduce_constant


def _zero_and_loop(p, zeroing: str):
    """The block of the statement matching `zeroing` and the loop after it."""
    return p.find(zeroing).expand(0, 1)


@proc
def scaled_sum(n: size, x: f32[n], s: f32, out: f32[1]):
    acc: f32
    acc = 0.0
    for i in seq(0, n):
        acc += s * x[i]
    out[0] = acc


def test_lift_reduce_constant():
    p = lift_reduce_constant(scaled_sum, scaled_sum.find_loop("i").expand(1, 0))
    assert_body(p, """
        acc: f32 @ DRAM
        acc = 0.0
        for i in seq(0, n):
            acc += x[i]
        acc = s * acc
        out[0] = acc
    """)
    equiv(scaled_sum, p)


def test_lift_reduce_constant_through_nested_loops_and_ifs():
    @proc
    def nested(x: f32[2], y: f32[8], out: f32[2]):
        x[0] = 0.0
        for i in seq(0, 8):
            for k in seq(0, 8):
                if k < i:
                    x[0] += 3.0 * y[k]
            x[0] += 3.0 * y[i]
            x[1] += 2.0 * y[i]
        out[0] = x[0]

    p = lift_reduce_constant(nested, _zero_and_loop(nested, "x[0] = 0.0"))
    assert_body(p, """
        x[0] = 0.0
        for i in seq(0, 8):
            for k in seq(0, 8):
                if k < i:
                    x[0] += y[k]
            x[0] += y[i]
            x[1] += 2.0 * y[i]
        x[0] = 3.0 * x[0]
        out[0] = x[0]
    """)
    equiv(nested, p)


def test_lift_reduce_constant_with_an_outer_loop_constant():
    @proc
    def rows(x: f32, y: f32[8], out: f32[8]):
        for j in seq(0, 8):
            x = 0.0
            for i in seq(0, 8):
                x += y[j] * y[i]
            out[j] = x

    p = lift_reduce_constant(rows, _zero_and_loop(rows, "x = 0.0"))
    assert_body(p, """
        for j in seq(0, 8):
            x = 0.0
            for i in seq(0, 8):
                x += y[i]
            x = y[j] * x
            out[j] = x
    """)
    equiv(rows, p)


def test_lift_reduce_constant_refuses_a_constant_from_inside_the_loop():
    @proc
    def dot(n: size, x: f32[n], y: f32[n], out: f32):
        d: f32
        d = 0.0
        for i in seq(0, n):
            d += y[i] * x[i]
        out = d

    @proc
    def local(n: size, x: f32[n], y: f32[n]):
        d: f32
        d = 0.0
        for i in seq(0, n):
            a: f32
            a = x[i]
            d += a * (y[i] * x[i])

    refused(lambda: lift_reduce_constant(dot, dot.find_loop("i").expand(1, 0)),
            "the constant 'y[i]' depends on 'i', which is defined inside the loop",
            prim="lift_reduce_constant")
    refused(lambda: lift_reduce_constant(local, local.find_loop("i").expand(1, 0)),
            "the constant 'a' depends on 'a'")


@proc
def changing(y: f32[8], out: f32[8]):
    x: f32
    for j in seq(0, 8):
        x = 0.0
        for i in seq(0, 8):
            y[1] = 0.0
            x += y[j] * y[i]
        out[j] = x


def test_lift_reduce_constant_refuses_a_constant_the_loop_may_write():
    refused(lambda: lift_reduce_constant(changing, _zero_and_loop(changing, "x = 0.0")),
            "the loop writes y[1]", "the constant 'y[j]' reads y[j]",
            prim="lift_reduce_constant")


def test_lift_reduce_constant_allows_writes_to_other_locations():
    @proc
    def elsewhere(y: f32[8], out: f32[1]):
        x: f32
        x = 0.0
        for i in seq(0, 8):
            y[1] = 0.0
            x += y[2] * y[i]
        out[0] = x

    p = lift_reduce_constant(elsewhere, _zero_and_loop(elsewhere, "x = 0.0"))
    assert_body(p, """
        x: f32 @ DRAM
        x = 0.0
        for i in seq(0, 8):
            y[1] = 0.0
            x += y[i]
        x = y[2] * x
        out[0] = x
    """)
    equiv(elsewhere, p)


def test_lift_reduce_constant_refuses_a_constant_the_loop_writes():
    @proc
    def wrote(y: f32[8], out: f32[1]):
        x: f32
        x = 0.0
        for i in seq(0, 8):
            x += y[0] * y[i]
            y[0] = y[i]
        out[0] = x

    refused(lambda: lift_reduce_constant(wrote, _zero_and_loop(wrote, "x = 0.0")),
            "the loop writes y[0]", "may change inside the loop")

    @proc
    def lifted(y: f32[8], out: f32[1]):  # what lifting would give
        x: f32
        x = 0.0
        for i in seq(0, 8):
            x += y[i]
            y[0] = y[i]
        x = y[0] * x
        out[0] = x

    differs(wrote, lifted)


def test_lift_reduce_constant_refuses_other_uses_of_the_accumulator():
    @proc
    def uses(y: f32[8], z: f32[8]):
        x: f32[4]
        for j in seq(0, 2):
            x[2 * j + 1] = 0.0
            x[j + 2] = 0.0
            for i in seq(0, 8):
                x[2 * j + 1] += 3.0 * y[i]
                x[j + 2] += 2.0 * y[i]
        x[0] = 0.0
        for i in seq(0, 8):
            z[i] = x[0]
            x[0] += 2.0 * y[i]

    refused(lambda: lift_reduce_constant(uses, _zero_and_loop(uses, "x[j + 2] = 0.0")),
            "the loop also reduces into x[2 * j + 1]", "which may be the accumulator x[j + 2]")
    refused(lambda: lift_reduce_constant(uses, _zero_and_loop(uses, "x[0] = 0.0")),
            "the loop also reads x[0]")


def test_lift_reduce_constant_refuses_other_shapes():
    @proc
    def shapes(y: f32[8], z: f32):
        x: f32
        x = 0.0
        for i in seq(0, 8):
            x += 3.0 * y[i]
            x += 2.0 * y[i]
        x = 1.0
        for i in seq(0, 8):
            x += 3.0 * y[i]
        x = 0.0
        for i in seq(0, 8):
            x += y[i]
        x = 0.0
        for i in seq(0, 8):
            z += 3.0 * y[i]
        x = 0.0
        x = 0.0

    blocks = [shapes.body()[k].expand(0, 1) for k in (1, 3, 5, 7, 9)]
    refused(lambda: lift_reduce_constant(shapes, blocks[0]),
            "scale by different constants: '3.0' and '2.0'")
    refused(lambda: lift_reduce_constant(shapes, blocks[1]),
            "the first statement must set the accumulator to zero")
    refused(lambda: lift_reduce_constant(shapes, blocks[2]),
            "'x += y[i]' is not of the form `x += c * e`")
    refused(lambda: lift_reduce_constant(shapes, blocks[3]), "found no reduction `x += c * e`")
    refused(lambda: lift_reduce_constant(shapes, blocks[4]),
            "the second statement must be a loop")


def test_lift_reduce_constant_refuses_an_integer_accumulator_with_float_factors():
    @proc
    def ints(y: f32[8], z: i32):
        x: i32
        x = 0.0
        for i in seq(0, 8):
            x += 0.5 * y[i]
        z = x

    refused(lambda: lift_reduce_constant(ints, _zero_and_loop(ints, "x = 0.0")),
            "x holds i32, so each product is converted")


def test_refusal_message_format():
    msg = refused(lambda: lift_reduce_constant(changing, _zero_and_loop(changing, "x = 0.0")))
    first = msg.splitlines()[0]
    assert re.match(rf"^{re.escape(__file__)}:\d+:9: lift_reduce_constant: the loop writes",
                    first)
    assert msg.splitlines()[1:4] == ["  in:", "    for i in seq(0, 8):", "        y[1] = 0.0"]
