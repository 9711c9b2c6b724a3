"""Buffer primitives: expand_dim, divide_dim, mult_dim, rearrange_dim, resize_dim,
unroll_buffer, lift_alloc, autolift_alloc, sink_alloc, delete_buffer, reuse_buffer,
inline_window.

Each has the three kinds of test: the rewritten code, equivalence on random inputs
(compiled C and interpreter) with the proof-based is_eq, and refusal of the unsafe uses
with the reason. Where a refusal guards a real trap, the would-be result is written out
by hand and shown to compute something else."""

from __future__ import annotations

import pytest
from refusals import marked_line
from scheduling_checks import assert_body, body, differs, equiv, refused

from knit import config, instr, proc
from knit.errors import ParseFragmentError, SchedulingError
from knit.procedure import parse_proc_string
from knit.stdlib.scheduling import (
    autolift_alloc,
    delete_buffer,
    divide_dim,
    expand_dim,
    inline_window,
    lift_alloc,
    mult_dim,
    rearrange_dim,
    resize_dim,
    reuse_buffer,
    sink_alloc,
    unroll_buffer,
)


def checked(p):
    """p passes the definition-time checks (types, shapes, bounds) after a rewrite."""
    p._check()
    return p


# ---------------------------------------------------------------- expand_dim


@proc
def double_each(N: size, x: f32[N], y: f32[N]):
    for i in seq(0, N):
        a: f32  # <- alloc a
        a = x[i]
        y[i] = a * 2.0


def test_expand_dim_scalar_gets_a_dimension_indexed_by_the_loop():
    p = expand_dim(double_each, "a : _", "N", "i")
    assert_body(p, """
        for i in seq(0, N):
            a: f32[N] @ DRAM
            a[i] = x[i]
            y[i] = a[i] * 2.0
    """)
    equiv(double_each, checked(p))


@proc
def nest(n: size, m: size, x: f32[n, m], y: f32[n, m]):
    for i in seq(0, n):
        for j in seq(0, m):
            a: f32[m]
            a[j] = x[i, j]
            y[i, j] = a[j] + 1.0


def test_expand_dim_sizes_and_indices_that_fit():
    cases = {("n", "i"): "a[i, j]", ("n + m", "i"): "a[i, j]", ("40 + 1", "10"): "a[10, j]",
             ("n", "n - 1"): "a[n - 1, j]", (3, 2): "a[2, j]"}
    for (size, index), access in cases.items():
        p = expand_dim(nest, "a : _", size, index)
        assert f"y[i, j] = {access} + 1.0" in body(p), (size, index)
        equiv(nest, checked(p), trials=1)


@proc
def bump(m: size, a: [f32][m]):
    a[0] += 1.0


@proc
def windows_of_a(n: size, m: size, y: f32[n, m]):
    for i in seq(0, n):
        a: f32[m]
        for j in seq(0, m):
            a[j] = y[i, j]
        bump(m, a[0:m])
        for j in seq(0, m):
            y[i, j] = a[j]


def test_expand_dim_puts_the_index_in_front_of_windows_too():
    p = expand_dim(windows_of_a, "a : _", "n", "i")
    assert "bump(m, a[i, 0:m])" in body(p)
    equiv(windows_of_a, checked(p))


def test_expand_dim_refuses_an_index_that_may_be_out_of_range():
    refused(lambda: expand_dim(nest, "a : _", "n", "i - j"),
            "cannot prove the index i - j lies in [0, n)", prim="expand_dim")
    refused(lambda: expand_dim(nest, "a : _", "n", "j"), "cannot prove the index j lies in [0, n)")
    refused(lambda: expand_dim(nest, "a : _", 4, 4), "cannot prove the index 4 lies in [0, 4)")


def test_expand_dim_refuses_a_size_that_may_not_be_positive():
    refused(lambda: expand_dim(nest, "a : _", "n - m", "0"),
            "cannot prove the new dimension n - m is positive", prim="expand_dim")
    refused(lambda: expand_dim(nest, "a : _", "10 - 20", "0"),
            "cannot prove the new dimension 10 - 20 is positive")


def test_expand_dim_refusal_points_at_the_allocation():
    msg = refused(lambda: expand_dim(double_each, "a : _", "N", "i + 1"))
    assert msg.startswith(f"{__file__}:{marked_line(__file__, 'alloc a')}:9: expand_dim: ")
    assert "    a: f32 @ DRAM" in msg.splitlines()


@config
class Cfg:
    k: index


@proc
def with_config(A: f32[4]):
    Cfg.k = 1
    a: f32[4]
    a[0] = A[0]
    Cfg.k = 2
    A[1] = a[0]


def test_expand_dim_and_resize_dim_refuse_an_index_that_reads_a_configuration():
    refused(lambda: expand_dim(with_config, "a : _", 4, "Cfg.k % 4"),
            "the index Cfg.k % 4 reads a configuration, which may change between the "
            "accesses", prim="expand_dim")
    refused(lambda: resize_dim(with_config, "a : _", 0, 8, "Cfg.k"),
            "the offset Cfg.k reads a configuration", prim="resize_dim")


def test_expand_dim_names_must_be_in_scope_at_the_allocation():
    @proc
    def outside(n: size, x: f32):
        a: f32
        for i in seq(0, n):
            x = a  # noqa: F841

    with pytest.raises(ParseFragmentError, match="'i' is not defined"):
        expand_dim(outside, "a : _", "n", "i")


def test_expand_dim_refuses_a_buffer_passed_whole():
    @proc
    def whole(m: size, a: f32[m]):
        a[0] += 1.0

    @proc
    def passes_a(n: size, m: size):
        for i in seq(0, n):
            a: f32[m]
            whole(m, a)

    refused(lambda: expand_dim(passes_a, "a : _", "n", "i"),
            "'a' is passed whole to a call (a), so its shape cannot change here",
            prim="expand_dim")


# ---------------------------------------------------------------- divide_dim and mult_dim


@proc
def tile12(n: size, m: size, A: f32[n + m + 12], B: f32[n, 12, m]):
    x: f32[n, 12, m]  # <- alloc x
    for i in seq(0, n):
        for j in seq(0, 12):
            for k in seq(0, m):
                x[i, j, k] = A[i + j + k]
    for i in seq(0, n):
        for j in seq(0, 12):
            for k in seq(0, m):
                B[i, j, k] = x[i, j, k] * 2.0


def test_divide_dim():
    p = divide_dim(tile12, "x", 1, 4)
    assert_body(p, """
        x: f32[n, 3, 4, m] @ DRAM
        for i in seq(0, n):
            for j in seq(0, 12):
                for k in seq(0, m):
                    x[i, j / 4, j % 4, k] = A[i + j + k]
        for i in seq(0, n):
            for j in seq(0, 12):
                for k in seq(0, m):
                    B[i, j, k] = x[i, j / 4, j % 4, k] * 2.0
    """)
    equiv(tile12, checked(p))


def test_divide_dim_refuses_a_size_that_is_not_a_multiple():
    refused(lambda: divide_dim(tile12, "x", 1, 5),
            "cannot prove dimension 1 (12) is a multiple of 5", prim="divide_dim")
    refused(lambda: divide_dim(tile12, "x", 0, 2), "cannot prove dimension 0 (n) is a multiple")


def test_divide_dim_argument_errors():
    refused(lambda: divide_dim(tile12, "x", 3, 4),
            "dimension 3 is out of range for the 3-d buffer 'x'", prim="divide_dim")
    refused(lambda: divide_dim(tile12, "x", 1, 0), "quotient must be an integer >= 1, got 0")
    refused(lambda: divide_dim(tile12, "A", 0, 4), "expected an allocation, got the argument 'A'")


@proc
def rows_of_16(y: f32[16]):
    x: f32[16]
    for i in seq(0, 16):
        x[i] = y[i]
    bump(4, x[4:8])
    bump(8, x[4:12])
    for i in seq(0, 16):
        y[i] = x[i]


def test_divide_dim_keeps_windows_inside_one_row_and_refuses_others():
    refused(lambda: divide_dim(rows_of_16, "x", 0, 4),
            "the window x[4:12] spans several rows of the divided dimension", prim="divide_dim")

    @proc
    def rows_of_4(y: f32[16]):
        x: f32[16]
        for i in seq(0, 16):
            x[i] = y[i]
        bump(4, x[4:8])
        for i in seq(0, 16):
            y[i] = x[i]

    p = divide_dim(rows_of_4, "x", 0, 4)
    assert "bump(4, x[4 / 4, 0:8 - 4])" in body(p)
    equiv(rows_of_4, checked(p))


def test_mult_dim():
    p = mult_dim(tile12, "x", 0, 1)
    assert_body(p, """
        x: f32[12 * n, m] @ DRAM
        for i in seq(0, n):
            for j in seq(0, 12):
                for k in seq(0, m):
                    x[12 * i + j, k] = A[i + j + k]
        for i in seq(0, n):
            for j in seq(0, 12):
                for k in seq(0, m):
                    B[i, j, k] = x[12 * i + j, k] * 2.0
    """)
    equiv(tile12, checked(p))


def test_divide_then_mult_dim_gives_the_dimension_back():
    p = mult_dim(divide_dim(tile12, "x", 1, 4), "x", 1, 2)
    assert "x: f32[n, 12, m] @ DRAM" in body(p)
    assert "B[i, j, k] = x[i, 4 * (j / 4) + j % 4, k] * 2.0" in body(p)
    equiv(tile12, checked(p))


def test_mult_dim_refusals():
    refused(lambda: mult_dim(tile12, "x", 0, 2), "the lower dimension m must be a literal",
            prim="mult_dim")
    refused(lambda: mult_dim(tile12, "x", 2, 2), "cannot multiply a dimension by itself")
    refused(lambda: mult_dim(tile12, "x", 3, 2), "dimension 3 is out of range")


def test_mult_dim_refuses_windows():
    refused(lambda: mult_dim(rows_2d, "x", 0, 1),
            "'x' has a window taken of it (x[1, 0:4]), so its shape cannot change here",
            prim="mult_dim")


@proc
def rows_2d(y: f32[4, 4]):
    x: f32[4, 4]
    for i in seq(0, 4):
        for j in seq(0, 4):
            x[i, j] = y[i, j]
    bump(4, x[1, 0:4])
    for i in seq(0, 4):
        for j in seq(0, 4):
            y[i, j] = x[i, j]


# ---------------------------------------------------------------- rearrange_dim


def test_rearrange_dim():
    p = rearrange_dim(tile12, "x : _", [2, 0, 1])
    b = body(p)
    assert "x: f32[m, n, 12] @ DRAM" in b
    assert "x[k, i, j] = A[i + j + k]" in b and "B[i, j, k] = x[k, i, j] * 2.0" in b
    equiv(tile12, checked(p))


def test_rearrange_dim_refusals():
    refused(lambda: rearrange_dim(tile12, "x", [1, 1, 0]),
            "[1, 1, 0] is not a permutation of the dimensions 0..2 of 'x'", prim="rearrange_dim")
    refused(lambda: rearrange_dim(tile12, "x", [1, 0]), "is not a permutation")
    refused(lambda: rearrange_dim(tile12, "x", 5),
            "permute_vector must be a list of dimension indices, got 5")
    refused(lambda: rearrange_dim(rows_2d, "x", [1, 0]), "'x' has a window taken of it")


# ---------------------------------------------------------------- resize_dim


@proc
def middle(x: f32[10]):
    y: f32[10]
    for i in seq(1, 9):
        y[i] = x[i]
    for i in seq(1, 9):
        x[i] = y[i] + 1.0


def test_resize_dim_shrinks_and_shifts():
    p = resize_dim(middle, "y", 0, 8, 1)
    assert_body(p, """
        y: f32[8] @ DRAM
        for i in seq(1, 9):
            y[i - 1] = x[i]
        for i in seq(1, 9):
            x[i] = y[i - 1] + 1.0
    """)
    equiv(middle, checked(p))


def test_resize_dim_grows_and_a_negative_offset_is_subtracted_as_exo_writes_it():
    p = resize_dim(middle, "y", 0, 12, -2)
    assert "y: f32[12] @ DRAM" in body(p) and "y[i - -2] = x[i]" in body(p)
    equiv(middle, checked(p))


def test_resize_dim_with_a_symbolic_size_and_windows():
    @proc
    def shifted(n: size, x: f32[n], z: f32[n, 3]):
        assert n > 4
        y: f32[n, n]
        for i in seq(2, n - 1):
            for j in seq(0, 3):
                y[i, j] = x[i]
        for i in seq(2, n - 1):
            bump(3, y[i, 0:3])
        for i in seq(2, n - 1):
            for j in seq(0, 3):
                z[i, j] = y[i, j]

    p = resize_dim(shifted, "y", 0, "n - 3", 2)
    b = body(p)
    assert "y: f32[n - 3, n] @ DRAM" in b and "bump(3, y[i - 2, 0:3])" in b
    equiv(shifted, checked(p), sizes={"n": [5, 7]})
    refused(lambda: resize_dim(shifted, "y", 1, 2, 0),
            "the access y[i, j] may fall outside the new shape (index j of size 2)",
            prim="resize_dim")
    refused(lambda: resize_dim(shifted, "y", 1, 3, 1), "the access y[i, j - 1] may fall")

    @proc
    def window_only(n: size):
        y: f32[n, 8]
        for i in seq(0, n):
            bump(3, y[i, 2:5])

    p = resize_dim(window_only, "y", 1, 3, 2)
    assert "bump(3, y[i, 2 - 2:5 - 2])" in body(p)
    checked(p)
    refused(lambda: resize_dim(window_only, "y", 1, 3, 3),
            "the window y[i, 2 - 3:5 - 3] may fall outside the new shape")


def test_resize_dim_refuses_accesses_outside_the_new_size():
    refused(lambda: resize_dim(middle, "y", 0, 7, 1),
            "the access y[i - 1] may fall outside the new shape (index i - 1 of size 7)",
            prim="resize_dim")
    refused(lambda: resize_dim(middle, "y", 0, 8, 2), "the access y[i - 2] may fall outside")
    refused(lambda: resize_dim(middle, "y", 0, 0, 0), "cannot prove the new size 0 is positive")
    refused(lambda: resize_dim(middle, "y", 0, 7, 1, fold=True), "circular buffer of 7 is too small")


# ---------------------------------------------------------------- unroll_buffer


@proc
def pairs(n: size, A: f32[n], B: f32[n]):
    for i in seq(0, n):
        t: f32[3, 2]
        t[0, 1] = A[i]
        t[1, 0] = A[i] + t[0, 1]
        B[i] = t[1, 0] * t[0, 1]


def test_unroll_buffer_dimension_0_and_1():
    # as Exo, only the buffers of the indices used are allocated (no t_2)
    p = unroll_buffer(pairs, "t : _", 0)
    assert_body(p, """
        for i in seq(0, n):
            t_0: f32[2] @ DRAM
            t_1: f32[2] @ DRAM
            t_0[1] = A[i]
            t_1[0] = A[i] + t_0[1]
            B[i] = t_1[0] * t_0[1]
    """)
    equiv(pairs, checked(p))
    q = unroll_buffer(pairs, "t : _", 1)
    assert "B[i] = t_0[1] * t_1[0]" in body(q)
    equiv(pairs, checked(q))


def test_unroll_buffer_to_scalars_and_through_window_points():
    @proc
    def copy_pair(a: [f32][2], b: [f32][2]):
        a[0] = b[0]
        a[1] = b[1]

    @proc
    def two_halves(A: f32[4]):
        t: f32[2, 2]
        copy_pair(t[0, 0:2], A[0:2])
        copy_pair(t[1, 0:2], A[2:4])
        copy_pair(A[0:2], t[1, 0:2])

    p = unroll_buffer(two_halves, "t : _", 0)
    assert "copy_pair(A[0:2], t_1[0:2])" in body(p)
    equiv(two_halves, checked(p))
    q = unroll_buffer(unroll_buffer(pairs, "t : _", 0), "t_1 : _", 0)
    assert "t_1_0: f32 @ DRAM" in body(q) and "B[i] = t_1_0 * t_0[1]" in body(q)
    equiv(pairs, checked(q))


def test_unroll_buffer_refuses_a_non_literal_index():
    @proc
    def by_loop(n: size, A: f32[n]):
        t: f32[10]
        for j in seq(0, 10):
            t[j] = A[0]

    refused(lambda: unroll_buffer(by_loop, "t : _", 0),
            "every access must use a literal index in dimension 0; found j", prim="unroll_buffer")


def test_unroll_buffer_refusals():
    @proc
    def sized(n: size, A: f32[n]):
        t: f32[n]
        t[0] = A[0]

    refused(lambda: unroll_buffer(sized, "t : _", 0), "dimension 0 (n) must be a literal",
            prim="unroll_buffer")
    refused(lambda: unroll_buffer(double_each, "a : _", 0), "'a' is a scalar, not a tensor")
    refused(lambda: unroll_buffer(pairs, "t : _", 2), "dimension 2 is out of range")
    refused(lambda: unroll_buffer(halves, "t : _", 1), "found a slice")

    @proc
    def dead_index(n: size, A: f32[n]):
        t: f32[3]
        t[0] = A[0]
        if n < 1:  # never runs (sizes are positive), so its index is not checked
            t[5] = A[0]
        A[0] = t[0]

    refused(lambda: unroll_buffer(dead_index, "t : _", 0),
            "the index 5 in dimension 0 is outside [0, 3)", prim="unroll_buffer")


@proc
def halves(A: f32[4]):
    t: f32[2, 2]
    t[0, 0] = A[0]
    bump(2, t[0, 0:2])
    A[1] = t[0, 1]


# ---------------------------------------------------------------- lift_alloc and autolift_alloc


@proc
def inner_tmp(n: size, A: f32[n], B: f32[n]):
    for i in seq(0, n):
        for j in seq(0, n):
            tmp: f32
            tmp = A[i]
            B[j] += tmp


def test_lift_alloc_two_levels():
    p = lift_alloc(inner_tmp, "tmp : _", n_lifts=2)
    assert_body(p, """
        tmp: f32 @ DRAM
        for i in seq(0, n):
            for j in seq(0, n):
                tmp = A[i]
                B[j] += tmp
    """)
    equiv(inner_tmp, checked(p))


def test_lift_alloc_out_of_an_if_and_out_of_an_otherwise_empty_loop():
    @proc
    def guarded(n: size, A: f32[n]):
        if n > 3:
            t: f32[n]
            t[0] = A[0]
            A[1] = t[0]

    p = lift_alloc(guarded, "t : _")
    assert body(p).startswith("t: f32[n] @ DRAM\nif n > 3:")
    equiv(guarded, checked(p))

    @proc
    def only_alloc():
        for i in seq(0, 4):
            tmp: f32  # noqa: F842

    q = lift_alloc(only_alloc, "tmp : _")
    assert_body(q, """
        tmp: f32 @ DRAM
        for i in seq(0, 4):
            pass
    """)
    checked(q)

    @proc
    def only_in_else(n: size, A: f32[n]):
        if n > 2:
            A[0] = 1.0
        else:
            t: f32  # noqa: F842

    r = lift_alloc(only_in_else, "t : _")  # an empty else branch is simply gone
    assert_body(r, """
        t: f32 @ DRAM
        if n > 2:
            A[0] = 1.0
    """)
    equiv(only_in_else, checked(r), sizes={"n": [1, 3]})


def test_lift_alloc_refuses_a_shape_that_depends_on_the_loop():
    @proc
    def growing(n: size, A: f32[n]):
        for k in seq(0, n):
            for i in seq(0, n):
                t: f32[k + 1]
                t[k] = A[i]

    refused(lambda: lift_alloc(growing, "t : _", n_lifts=2),
            "the buffer's shape depends on the loop variable 'k'", prim="lift_alloc")
    p = lift_alloc(growing, "t : _")  # out of i only: fine
    assert body(p).startswith("for k in seq(0, n):\n    t: f32[k + 1] @ DRAM")
    equiv(growing, checked(p))


def test_lift_alloc_refuses_a_size_only_the_scope_makes_positive():
    @proc
    def shrinking(N: size, A: f32[N]):
        for i in seq(0, N - 1):
            t: f32[N - 1]
            t[i] = A[i]
            A[i] = t[i] * 2.0

    refused(lambda: lift_alloc(shrinking, "t : _"),
            "the size N - 1 may not be positive outside the loop", prim="lift_alloc")

    # from text: @proc refuses the range N - 2, negative for N = 1 (semantics.md#loop-range)
    scalar_t = parse_proc_string("""def scalar_t(N: size, A: f32[N] @ DRAM):
    for i in seq(0, N - 2):
        t: f32 @ DRAM
        t = A[i]
        A[i + 1] = t
""", {}, __file__)

    # Exo's extent `hi + 1` is N - 1, which N = 1 makes 0 outside the loop
    refused(lambda: autolift_alloc(scalar_t, "t : _", keep_dims=True),
            "the size N - 2 + 1 may not be positive outside the loop", prim="autolift_alloc")
    p = lift_alloc(scalar_t, "t : _")  # a scalar has no size to lose
    equiv(scalar_t, checked(p), sizes={"N": [1, 2, 4]})


def test_lift_alloc_refusals():
    refused(lambda: lift_alloc(inner_tmp, "tmp : _", n_lifts=3),
            "the allocation is already at the top level", prim="lift_alloc")
    refused(lambda: lift_alloc(inner_tmp, "tmp : _", n_lifts=0),
            "n_lifts must be an integer >= 1, got 0")


def test_autolift_alloc_adds_a_dimension_per_loop_the_accesses_use():
    @proc
    def per_row(n: size, A: f32[n, 4], B: f32[n, 4]):
        for i in seq(0, n):
            for j in seq(0, 4):
                t: f32[2]
                t[1] = A[i, j]
                B[i, j] = t[1]

    p = autolift_alloc(per_row, "t : _", n_lifts=1, keep_dims=True)
    assert "t: f32[4, 2] @ DRAM" in body(p) and "B[i, j] = t[j, 1]" in body(p)
    equiv(per_row, checked(p))
    q = autolift_alloc(per_row, "t : _", n_lifts=2, mode="col", keep_dims=True)
    assert body(q).startswith("t: f32[2, 4, n + 1] @ DRAM") and \
        "t[1, j, i] = A[i, j]" in body(q)
    equiv(per_row, checked(q))
    r = autolift_alloc(per_row, "t : _", n_lifts=2)  # accesses use neither loop
    assert body(r).startswith("t: f32[2] @ DRAM")
    equiv(per_row, checked(r))


def test_autolift_alloc_keep_dims_adds_no_dimension_for_a_loop_the_values_ignore():
    """As Exo (the Gemmini matmul relies on it): with keep_dims, a loop gives a dimension
    when the buffer's values depend on its variable; `t` holds A[i] whatever j is, so
    lifting it out of j too is a plain (checked) lift_alloc."""
    @proc
    def reuse(n: size, A: f32[n], B: f32[4, n]):
        for j in seq(0, 4):
            for i in seq(0, n):
                t: f32
                t = A[i]
                B[j, i] = t * 2.0

    p = autolift_alloc(reuse, "t : _", n_lifts=2, keep_dims=True)
    assert body(p).startswith("t: f32[n + 1] @ DRAM") and "t[i] = A[i]" in body(p)
    equiv(reuse, checked(p))
    q = autolift_alloc(reuse, "t : _", n_lifts=2)  # without keep_dims: no dimension
    assert body(q).startswith("t: f32 @ DRAM")
    equiv(reuse, checked(q))

    @proc
    def counted(n: size, A: f32[n], B: f32[4, n]):
        for j in seq(0, 4):
            for i in seq(0, n):
                t: f32
                t = A[i]
                if j > 1:  # whether t is written depends on j: a dimension for j
                    t = 0.0
                B[j, i] = t

    r = autolift_alloc(counted, "t : _", n_lifts=2, keep_dims=True)
    assert body(r).startswith("t: f32[4, n + 1] @ DRAM")
    equiv(counted, checked(r))


def test_autolift_alloc_extends_windows_too():
    @proc
    def bumped(n: size, A: f32[n, 4], B: f32[n, 4]):
        for i in seq(0, n):
            t: f32[4]
            for j in seq(0, 4):
                t[j] = A[i, j]
            bump(4, t[0:4])
            for j in seq(0, 4):
                B[i, j] = t[j]

    p = autolift_alloc(bumped, "t : _", keep_dims=True)
    assert "bump(4, t[i, 0:4])" in body(p)
    equiv(bumped, checked(p))
    q = autolift_alloc(bumped, "t : _", mode="col", keep_dims=True)
    assert "t: f32[4, n + 1] @ DRAM" in body(q) and "bump(4, t[0:4, i])" in body(q)
    equiv(bumped, checked(q))


def test_autolift_alloc_of_a_scalar_indexed_by_the_loop():
    p = autolift_alloc(double_each, "a : _", n_lifts=1, keep_dims=True)
    assert_body(p, """
        a: f32[N + 1] @ DRAM
        for i in seq(0, N):
            a[i] = x[i]
            y[i] = a[i] * 2.0
    """)
    equiv(double_each, checked(p))


def test_autolift_alloc_keep_dims_extent_is_exos():
    """keep_dims gives Exo's shape: out of `seq(lo, hi)` with `lo >= 0` a dimension of
    `hi` for a literal bound, `hi + 1` otherwise, indexed by the loop variable; from a
    `lo` that may be negative, the exact extent `hi - lo` indexed by `i - lo`."""
    @proc
    def shifted(n: size, m: size, A: f32[8, n + m], B: f32[8, n + m]):
        for i in seq(0, 8):
            for j in seq(m, n + m):
                t: f32
                t = A[i, j] * 2.0
                B[i, j] = t + 1.0

    p = autolift_alloc(shifted, "t : _", n_lifts=2, keep_dims=True)
    assert_body(p, """
        t: f32[8, n + m + 1] @ DRAM
        for i in seq(0, 8):
            for j in seq(m, n + m):
                t[i, j] = A[i, j] * 2.0
                B[i, j] = t[i, j] + 1.0
    """)
    equiv(shifted, checked(p), sizes={"n": [1, 3], "m": [1, 2]})

    @proc
    def from_below(n: size, m: size, A: f32[n + 2], B: f32[n + 2]):
        for j in seq(2 - m, n + 2 - m):
            t: f32
            t = A[j + m]
            B[j + m] = t

    r = autolift_alloc(from_below, "t : _", keep_dims=True)
    assert body(r).startswith("t: f32[n + 2 - m - (2 - m)] @ DRAM") and \
        "t[j - (2 - m)] = A[j + m]" in body(r)
    equiv(from_below, checked(r), sizes={"n": [1, 4], "m": [1, 2, 3]})

    @proc
    def from_two(n: size, A: f32[n + 2], B: f32[n + 2]):
        for j in seq(2, n + 2):
            t: f32
            t = A[j]
            B[j] = t

    q = autolift_alloc(from_two, "t : _", keep_dims=True)
    assert body(q).startswith("t: f32[n + 2 + 1] @ DRAM") and "t[j] = A[j]" in body(q)
    equiv(from_two, checked(q), sizes={"n": [1, 4]})


def test_autolift_alloc_refuses_a_size_smaller_than_the_loop():
    @proc
    def per_j(n: size, A: f32[n, 4], B: f32[n, 4]):
        for i in seq(0, n):
            for j in seq(0, 4):
                t: f32[4]
                t[j] = A[i, j]
                B[i, j] = t[j]

    for mode in ("row", "col"):
        refused(lambda m=mode: autolift_alloc(per_j, "t : _", n_lifts=1, mode=m, size=2,
                                              keep_dims=True),
                "cannot prove the index j lies in [0, 2)", prim="autolift_alloc")
    p = autolift_alloc(per_j, "t : _", n_lifts=1, mode="col", size=8, keep_dims=True)
    assert "t: f32[4, 8] @ DRAM" in body(p)
    equiv(per_j, checked(p))
    refused(lambda: autolift_alloc(per_j, "t : _", n_lifts=3),
            "the allocation is already at the top level")
    refused(lambda: autolift_alloc(per_j, "t : _", mode="diagonal"),
            "mode must be 'row' or 'col'")


# ---------------------------------------------------------------- sink_alloc


@proc
def hoisted(n: size, A: f32[n, 8], B: f32[n, 8]):
    t: f32[8]  # <- alloc t
    for i in seq(0, n):
        for j in seq(0, 8):
            t[j] = A[i, j]
        for j in seq(0, 8):
            B[i, j] = t[7 - j] * 2.0


def test_sink_alloc_into_a_loop_that_writes_before_reading():
    p = sink_alloc(hoisted, "t : _")
    assert_body(p, """
        for i in seq(0, n):
            t: f32[8] @ DRAM
            for j in seq(0, 8):
                t[j] = A[i, j]
            for j in seq(0, 8):
                B[i, j] = t[7 - j] * 2.0
    """)
    equiv(hoisted, checked(p))


def test_sink_alloc_of_a_scalar_written_first_in_each_iteration():
    @proc
    def scalar_first(n: size, A: f32[n], B: f32[n]):
        s: f32
        for i in seq(0, n):
            s = A[i]
            s += 1.0
            B[i] = s

    p = sink_alloc(scalar_first, "s : _")
    assert body(p).startswith("for i in seq(0, n):\n    s: f32 @ DRAM")
    equiv(scalar_first, checked(p))


def test_sink_alloc_into_an_if_with_an_else_gives_each_branch_a_buffer():
    @proc
    def branches(n: size, A: f32[n], B: f32[n]):
        t: f32
        if n > 2:
            t = A[0]
            B[0] = t
        else:
            t = A[0] * 2.0
            B[0] = t

    p = sink_alloc(branches, "t : _")
    assert_body(p, """
        if n > 2:
            t: f32 @ DRAM
            t = A[0]
            B[0] = t
        else:
            t: f32 @ DRAM
            t = A[0] * 2.0
            B[0] = t
    """)
    equiv(branches, checked(p), sizes={"n": [1, 3]})
    # the else branch's buffer is another symbol, and its reads stay data reads
    orelse = p._loopir_proc.body[0].orelse
    assert orelse[0].name is not p._loopir_proc.body[0].body[0].name
    assert orelse[2].rhs.type.is_real()


@proc
def carried(n: size, A: f32[n], B: f32[n]):
    acc: f32  # <- accumulator alloc
    for i in seq(0, n):
        if i == 0:
            acc = 0.0
        acc += A[i]
        B[i] = acc


def test_sink_alloc_sees_a_write_under_the_condition_its_read_is_under():
    """A write under `if c` covers a later read in the same iteration under a condition
    that implies c; a read that may run when c did not hold may see an earlier
    iteration's value."""
    @proc
    def guarded(n: size, m: size, A: f32[n], B: f32[n]):
        t: f32[1]
        for i in seq(0, n):
            if i < m:
                t[0] = A[i]
            if i + 1 < m:
                B[i] = t[0] * 2.0

    p = sink_alloc(guarded, "t : _")
    assert body(p).startswith("for i in seq(0, n):\n    t: f32[1] @ DRAM")
    equiv(guarded, checked(p), sizes={"n": [4], "m": [1, 3, 6]})

    @proc
    def unguarded(n: size, m: size, A: f32[n], B: f32[n]):
        t: f32[1]
        for i in seq(0, n):
            if i < m:
                t[0] = A[i]
            B[i] = t[0] * 2.0

    refused(lambda: sink_alloc(unguarded, "t : _"),
            "a value written to 't' in one iteration may be read in a later one",
            prim="sink_alloc")


def test_sink_alloc_refuses_a_value_carried_between_iterations():
    msg = refused(lambda: sink_alloc(carried, "acc : _"),
                  "a value written to 'acc' in one iteration may be read in a later one",
                  prim="sink_alloc")
    assert f":{marked_line(__file__, 'accumulator alloc')}:5:" in msg.splitlines()[0]


def test_sink_alloc_refuses_reads_of_other_iterations_values():
    @proc
    def previous(n: size, A: f32[n], B: f32[n]):
        t: f32[n]
        for i in seq(0, n):
            t[i] = A[i]
            if i > 0:
                B[i] = t[i - 1]

    @proc
    def shifted_read(n: size, A: f32[n, 8], B: f32[n, 8]):
        t: f32[9]
        for i in seq(0, n):
            for j in seq(0, 8):
                t[j] = A[i, j]
            for j in seq(0, 8):
                B[i, j] = t[j + 1]

    refused(lambda: sink_alloc(previous, "t : _"), "reads t[i - 1] may see it")
    refused(lambda: sink_alloc(shifted_read, "t : _"), "reads t[j + 1] may see it")


@instr("for (int k_ = 0; k_ < 4; k_++) {dst}.data[k_ * {dst}.strides[0]] = "
       "{src}.data[k_ * {src}.strides[0]];")
def copy4(dst: [f32][4], src: [f32][4]):
    for i in seq(0, 4):
        dst[i] = src[i]


def test_sink_alloc_sees_what_calls_write():
    @proc
    def by_calls(n: size, A: f32[n, 4], B: f32[n, 4]):
        t: f32[4]
        for i in seq(0, n):
            copy4(t[0:4], A[i, 0:4])
            copy4(B[i, 0:4], t[0:4])

    p = sink_alloc(by_calls, "t : _")
    assert body(p).startswith("for i in seq(0, n):\n    t: f32[4] @ DRAM")
    equiv(by_calls, checked(p))

    @proc
    def half_written(n: size, A: f32[n, 4], B: f32[n, 4]):
        t: f32[8]
        for i in seq(0, n):
            copy4(t[0:4], A[i, 0:4])
            copy4(B[i, 0:4], t[2:6])

    refused(lambda: sink_alloc(half_written, "t : _"),
            "a value written to 't' in one iteration may be read in a later one",
            prim="sink_alloc")


def test_sink_alloc_refusals_of_place():
    @proc
    def used_after(n: size, A: f32[n], B: f32[n]):
        t: f32[4]
        for i in seq(0, n):
            t[0] = A[i]
        B[0] = t[0]

    @proc
    def no_scope(A: f32[4]):
        t: f32[4]  # noqa: F842
        A[0] = 1.0

    refused(lambda: sink_alloc(used_after, "t : _"), "'t' is used after the loop",
            prim="sink_alloc")
    refused(lambda: sink_alloc(no_scope, "t : _"),
            "the statement after the allocation must be a loop or an if")


# ---------------------------------------------------------------- delete_buffer


def test_delete_buffer():
    @proc
    def unused(n: size, A: f32[n]):
        a: f32[10]  # noqa: F842
        A[0] = 1.0

    p = delete_buffer(unused, "a : _")
    assert_body(p, "A[0] = 1.0")
    equiv(unused, checked(p))

    @proc
    def only():
        a: f32[10]  # noqa: F842

    assert_body(delete_buffer(only, "a : _"), "pass")


def test_delete_buffer_of_the_only_statement_of_a_body_leaves_pass():
    @proc
    def lone(n: size, A: f32[n]):
        for i in seq(0, n):
            if i < 2:
                t: f32[4]  # noqa: F842
            A[i] = 1.0

    p = delete_buffer(lone, "t : _")
    assert_body(p, """
        for i in seq(0, n):
            if i < 2:
                pass
            A[i] = 1.0
    """)
    equiv(lone, checked(p))


def test_delete_buffer_refuses_a_used_buffer():
    refused(lambda: delete_buffer(hoisted, "t : _"), "'t' is still used", prim="delete_buffer")
    refused(lambda: delete_buffer(hoisted, "A"), "expected an allocation, got the argument 'A'")


# ---------------------------------------------------------------- reuse_buffer


@proc
def two_scalars(a: f32, b: f32):
    aa: f32
    bb: f32
    aa = a
    bb = b
    c: f32
    c = aa + bb
    b = c


def test_reuse_buffer_may_read_the_old_value_in_the_first_write():
    p = reuse_buffer(two_scalars, "bb : _", "c : _")
    assert_body(p, """
        aa: f32 @ DRAM
        bb: f32 @ DRAM
        aa = a
        bb = b
        bb = aa + bb
        b = bb
    """)
    equiv(two_scalars, checked(p))
    # the renamed reads are still data reads (an index-typed read hides from the analyses)
    assert p._loopir_proc.body[-1].rhs.type.is_real()


def test_reuse_buffer_of_tensors():
    @proc
    def stages(A: f32[8], B: f32[8]):
        x: f32[8]
        for i in seq(0, 8):
            x[i] = A[i] * 2.0
        for i in seq(0, 8):
            B[i] = x[i]
        y: f32[8]
        for i in seq(0, 8):
            y[i] = B[i] + 1.0
        for i in seq(0, 8):
            A[i] = y[i]

    p = reuse_buffer(stages, "x : _", "y : _")
    assert "y" not in body(p) and "x[i] = B[i] + 1.0" in body(p)
    equiv(stages, checked(p))


def test_reuse_buffer_refuses_a_buffer_used_after_the_first_write():
    @proc
    def still_used(a: f32, b: f32):
        x: f32
        x = a
        y: f32
        y = 2.0
        b = x + y  # noqa: F841

    refused(lambda: reuse_buffer(still_used, "x : _", "y : _"),
            "'x' is still used after 'y' is written, so it cannot be reused",
            prim="reuse_buffer")


@proc
def in_a_loop(n: size, a: f32, B: f32[n]):
    x: f32
    x = a
    for i in seq(0, n):
        B[i] = x
        y: f32
        y = B[i] * 2.0
        B[i] = y


def test_reuse_buffer_refuses_a_buffer_read_again_in_the_next_iteration():
    refused(lambda: reuse_buffer(in_a_loop, "x : _", "y : _"),
            "'x' is still used after 'y' is written", "both are used in a loop around 'y'",
            prim="reuse_buffer")

    @proc
    def reused(n: size, a: f32, B: f32[n]):  # what the rewrite would give
        x: f32
        x = a
        for i in seq(0, n):
            B[i] = x
            x = B[i] * 2.0
            B[i] = x

    differs(in_a_loop, reused, sizes={"n": [2, 3]})


def test_reuse_buffer_sees_uses_through_windows():
    @proc
    def via_window(A: f32[8], out: f32):
        x: f32[8]
        w = x[0:4]
        x[0] = A[0]
        y: f32[8]
        y[0] = A[1]
        A[2] = y[0]
        out = w[0]  # noqa: F841

    refused(lambda: reuse_buffer(via_window, "x : _", "y : _"),
            "'x' is still used after 'y' is written", prim="reuse_buffer")

    @proc
    def reused(A: f32[8], out: f32):  # what the rewrite would give
        x: f32[8]
        w = x[0:4]
        x[0] = A[0]
        x[0] = A[1]
        A[2] = x[0]
        out = w[0]  # noqa: F841

    differs(via_window, reused)


def test_reuse_buffer_refusals_of_kind():
    @proc
    def mixed(a: f32, b: f64):
        x: f32  # noqa: F842
        y: f64
        y = b
        b = y

    refused(lambda: reuse_buffer(mixed, "x : _", "y : _"),
            "'y' and 'x' differ in type, shape or memory", prim="reuse_buffer")
    refused(lambda: reuse_buffer(two_scalars, "a", "c : _"),
            "'a' is an argument; its final value is the procedure's result")
    refused(lambda: reuse_buffer(two_scalars, "c : _", "bb : _"),
            "'bb' is not allocated in the scope of 'c'")


# ---------------------------------------------------------------- inline_window


@proc
def through_window(n: size, m: size, x: f32[n, m]):
    assert n > 4
    assert m > 4
    y = x[2:n - 2, 1:m - 3]
    for i in seq(0, n - 4):
        for j in seq(0, m - 4):
            a: f32
            a = x[i, j] * y[i, j]
            y[i, j] = a + x[i + 1, j + 1]


def test_inline_window_rewrites_reads_and_writes():
    p = inline_window(through_window, "y = _")
    assert_body(p, """
        assert n > 4
        assert m > 4
        for i in seq(0, n - 4):
            for j in seq(0, m - 4):
                a: f32 @ DRAM
                a = x[i, j] * x[i + 2, j + 1]
                x[i + 2, j + 1] = a + x[i + 1, j + 1]
    """)
    equiv(through_window, checked(p), sizes={"n": [5, 7], "m": [5, 6]})


def test_inline_window_of_windows_whole_uses_and_strides():
    @proc
    def takes_stride(s: stride):
        pass

    @proc
    def uses_y(n: size, x: f32[n, 8, 4]):
        assert n > 2
        y = x[1, 0:8, 2]
        y[3] = 1.0
        bump(4, y[2:6])
        bump(8, y)
        takes_stride(stride(y, 0))

    p = inline_window(uses_y, "y = _")
    assert_body(p, """
        assert n > 2
        x[1, 3, 2] = 1.0
        bump(4, x[1, 2:6, 2])
        bump(8, x[1, 0:8, 2])
        takes_stride(stride(x, 1))
    """)
    equiv(uses_y, checked(p), sizes={"n": [3, 4]})


def test_inline_window_of_the_only_statement_of_a_body_leaves_pass():
    @proc
    def lone(n: size, A: f32[n, 4]):
        for i in seq(0, n):
            w = A[i, 0:2]  # noqa: F841

    p = inline_window(lone, lone.find("w = _"))
    assert_body(p, """
        for i in seq(0, n):
            pass
    """)
    equiv(lone, checked(p))


def test_inline_window_refuses_other_statements():
    refused(lambda: inline_window(through_window, "a : _"), "expected a window statement",
            prim="inline_window")
    with pytest.raises(SchedulingError, match="expected a window statement"):
        inline_window(through_window, "a = _")
