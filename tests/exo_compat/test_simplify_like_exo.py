"""`simplify` as Exo's: it keeps the procedure's asserts, uses an `if E == c` inside that
branch, drops branches and loops that cannot run (only the primitive does: rewrites'
own clean-ups keep their statements), and `divide_loop(perfect=True)` divides literal
bounds (`seq(0, 4)`, which unroll_loop takes)."""

from __future__ import annotations

import pytest
from scheduling_checks import assert_body, equiv

from knit import proc
from knit.errors import SchedulingError
from knit.stdlib.scheduling import divide_loop, simplify, unroll_loop


@proc
def div_by_four(N: size, x: f32[N]):
    assert N >= 1
    assert N % 4 == 0
    for io in seq(0, N / 4):
        for ii in seq(0, 4):
            x[(io * 4 + ii) / 4] = 1.0


def test_simplify_keeps_an_assert_that_sizes_already_imply():
    p = simplify(div_by_four)
    assert_body(p, """
        assert N >= 1
        assert N % 4 == 0
        for io in seq(0, N / 4):
            for ii in seq(0, 4):
                x[io] = 1.0
    """)
    equiv(div_by_four, p, sizes={"N": 8})


@proc
def by_residue(n: size, x: f32[n, 4]):
    for i in seq(0, n):
        if i % 4 == 2:
            x[i, i % 4] = 1.0
        else:
            x[i, i % 4] = 4.0
        x[i, i % 4] += 1.0
        if i / 4 == 0:
            x[i, i % 4] = 2.0


def test_simplify_uses_an_equality_inside_its_branch_only():
    p = simplify(by_residue)
    # i % 4 is 2 in the then-branch; i / 4 == 0 makes i % 4 read as i; the else
    # branch and the statements after the `if` keep i % 4
    assert_body(p, """
        for i in seq(0, n):
            if i % 4 == 2:
                x[i, 2] = 1.0
            else:
                x[i, i % 4] = 4.0
            x[i, i % 4] += 1.0
            if i / 4 == 0:
                x[i, i] = 2.0
    """)
    equiv(by_residue, p, sizes={"n": 9})


@proc
def decided(n: size, x: f32[n]):
    if n > 4 or True:
        x[0] = 1.0
    if False and n == 1:
        x[0] = 2.0
    else:
        x[0] += 3.0
    for i in seq(0, n % 1):
        x[i] = 5.0


def test_simplify_drops_decided_branches_and_loops_that_run_no_iteration():
    p = simplify(decided)
    assert_body(p, """
        x[0] = 1.0
        x[0] += 3.0
    """)
    equiv(decided, p, sizes={"n": 3})


def test_simplify_keeps_undecided_ifs_and_loops_that_may_run():
    @proc
    def undecided(n: size, m: index, x: f32[n]):
        assert m <= n and m >= 0  # m may be 0: the loop may run no iteration
        if m > 0:
            x[0] = 1.0
        for i in seq(0, m):
            x[i] = 2.0

    assert simplify(undecided) == undecided  # nothing to fold: the same procedure


def test_cut_by_one_then_simplify_leaves_no_empty_tail():
    @proc
    def zeros(n: size, x: f32[n]):
        for i in seq(0, n):
            x[i] = 0.0

    cut = divide_loop(zeros, "i", 1, ["io", "ii"], tail="cut")
    assert "for ii in seq(0, n % 1)" in str(cut)  # divide_loop itself does not fold
    p = simplify(cut)
    assert_body(p, """
        for io in seq(0, n):
            for ii in seq(0, 1):
                x[ii + io] = 0.0
    """)
    equiv(zeros, p, sizes={"n": 5})


@proc
def sixty_four(x: f32[64]):
    for i in seq(0, 64):
        x[i] = 1.0


def test_divide_loop_perfect_divides_literal_bounds():
    p = divide_loop(sixty_four, "i", 16, ["io", "ii"], perfect=True)
    assert_body(p, """
        for io in seq(0, 4):
            for ii in seq(0, 16):
                x[16 * io + ii] = 1.0
    """)
    equiv(sixty_four, p)
    u = unroll_loop(p, "io")  # literal bounds: unroll_loop takes the outer loop
    assert str(u).count("for ii in seq(0, 16)") == 4
    equiv(sixty_four, u)


def test_divide_loop_perfect_literal_bounds_not_from_zero():
    @proc
    def shifted(x: f32[70]):
        for i in seq(6, 70):
            x[i] = 1.0

    p = divide_loop(shifted, "i", 16, ["io", "ii"], perfect=True)
    assert "for io in seq(0, 4)" in str(p)
    equiv(shifted, p)


def test_divide_loop_perfect_refuses_a_literal_that_does_not_divide():
    @proc
    def sixty(x: f32[60]):
        for i in seq(0, 60):
            x[i] = 1.0

    with pytest.raises(SchedulingError, match=r"divide_loop: cannot prove that the trip "
                       r"count 60 is a multiple of 16 \(perfect=True\)"):
        divide_loop(sixty, "i", 16, ["io", "ii"], perfect=True)


@proc
def remainder_bound(n: size, x: f32[n + 5]):
    assert n % 4 == 0
    for i in seq(0, n % 4 + 5):
        x[i] = 1.0


def test_simplify_reads_an_asserted_equality():
    p = simplify(remainder_bound)
    assert_body(p, """
        assert n % 4 == 0
        for i in seq(0, 5):
            x[i] = 1.0
    """)
    equiv(remainder_bound, p, sizes={"n": [4, 8]})


def test_an_asserted_equality_is_the_primitives_only():
    # rewrites' own clean-ups (prune=False) do not read the asserts as facts
    from knit.analysis.simplify import simplify_proc

    ir = simplify_proc(remainder_bound.INTERNAL_proc())
    assert "seq(0, n % 4 + 5)" in str(ir) or ir is remainder_bound.INTERNAL_proc()


@proc
def shifted_blur(n: size, A: f32[n + 3]):
    assert n % 4 == 0
    for i in seq(0, n + 3):
        A[i] = 1.0


def test_divide_with_recompute_leaves_the_remainder_to_fold():
    # the extra iterations are written hi - (X - X % 4) for outer_hi = X / 4 (as Exo),
    # so `n % 4` can be rewritten to 0 under the assert and the inner loop runs 7
    from knit.stdlib.scheduling import divide_with_recompute, rewrite_expr

    p = divide_with_recompute(shifted_blur, shifted_blur.find_loop("i"), "n / 4", 4,
                              ["io", "ii"])
    assert "for ii in seq(0, 4 + (n + 3 - (n - n % 4))):" in str(p)
    p = simplify(rewrite_expr(p, "n % 4", 0))
    assert_body(p, """
        assert n % 4 == 0
        for io in seq(0, n / 4):
            for ii in seq(0, 7):
                A[ii + 4 * io] = 1.0
    """)
    equiv(shifted_blur, p, sizes={"n": [4, 8]})
