"""replace_all says what it did (issue 13): a line on stderr per call listing what it
replaced (none with quiet=True), the list kept on the result (Replacements.of), and a
NothingReplacedWarning when nothing matched; bind_expr on several different expressions
lists them with their locations."""

from __future__ import annotations

import inspect
import warnings

import pytest

import knit
from knit import proc
from knit.errors import KnitWarning, NothingReplacedWarning, SchedulingError
from knit.platforms.x86 import AVX2, mm256_loadu_ps, mm256_storeu_ps
from knit.stdlib import scheduling as S
from knit.stdlib.sched_subprocs import Replacements
from tests.helpers.instrs import double4


@proc
def g(A: f32[16], B: f32[16]):
    for k in seq(0, 16):
        B[k] = A[k] * 2.0


def staged():
    """A loaded into two 8-lane AVX2 vectors by a copy loop that matches mm256_loadu_ps."""
    p = S.stage_mem(g, "for k in _: _", "A[0:16]", "Ac")
    p = S.divide_dim(p, "Ac", 0, 8)
    p = S.divide_loop(p, "for i0 in _: _", 8, ["io", "ii"], perfect=True)
    return S.set_memory(S.simplify(p), "Ac", AVX2)


def test_replace_all_reports_what_it_replaced(capsys):
    p = staged()
    copy_line = p.find("for ii in _: _")._node().srcinfo.line
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # something was replaced: no warning
        q = S.replace_all(p, [mm256_loadu_ps, mm256_storeu_ps])
    assert "mm256_loadu_ps(Ac[io + 0, 0:8], A[8 * io + 0:8 * io + 8])" in str(q)
    assert [(name, src.line) for name, src in Replacements.of(q)] == \
        [("mm256_loadu_ps", copy_line)]
    err = capsys.readouterr().err
    assert err == f"replace_all: 1 block replaced in g: mm256_loadu_ps at line {copy_line}\n"


def test_replace_all_reports_each_block_and_keeps_the_meaning(capsys):
    p = S.divide_loop(g, "k", 4, ["ko", "ki"], perfect=True)
    line = p.find("for ki in _: _")._node().srcinfo.line
    q = S.replace_all(p, double4)
    assert "double4(B[4 * ko + 0:4 * ko + 4], A[4 * ko + 0:4 * ko + 4])" in str(q)
    assert capsys.readouterr().err == \
        f"replace_all: 1 block replaced in g: double4 at line {line}\n"
    knit.check_equiv(g, q, trials=2)  # interpreter and compiled C agree with g


def test_quiet_replace_all_prints_nothing(capsys):
    q = S.replace_all(staged(), mm256_loadu_ps, quiet=True)
    assert capsys.readouterr().err == ""
    assert len(Replacements.of(q)) == 1


def test_replace_all_that_replaces_nothing_warns():
    with pytest.warns(NothingReplacedWarning) as record:
        q = S.replace_all(g, [mm256_loadu_ps, mm256_storeu_ps], quiet=True)
    line = inspect.currentframe().f_lineno - 1
    assert q is g and Replacements.of(q) == ()
    w = record[0]
    assert issubclass(w.category, KnitWarning)
    assert (w.filename, w.lineno) == (__file__, line)  # the user's call
    assert str(w.message).startswith("replace_all: nothing in g matches the body of "
                                     "mm256_loadu_ps, mm256_storeu_ps")


def test_replace_all_inside_knit_is_silent(capsys):
    """knit's own schedules (knit.stdlib.gemm) call replace_all; the user did not."""
    from knit.stdlib.sched_subprocs import _called_by_user

    assert _called_by_user.__doc__
    with warnings.catch_warnings():
        warnings.simplefilter("error", NothingReplacedWarning)
        exec(compile("S.replace_all(g, mm256_loadu_ps)",
                     S.__file__, "exec"), {"S": S, "g": g, "mm256_loadu_ps": mm256_loadu_ps})
    assert capsys.readouterr().err == ""


def test_replace_all_argument_errors_are_refusals():
    with pytest.raises(SchedulingError, match="replace_all: expected a procedure, got int"):
        S.replace_all(g, [3])


# ---------------------------------------------------------------- bind_expr


@proc
def two(N: size, A: f32[N], B: f32[N]):
    for i in seq(0, N):
        A[i] = B[i] * 2.0
    for i in seq(0, N):
        B[i] += A[i] * 2.0


def test_bind_expr_on_different_matches_binds_those_of_the_first():
    # as Exo: the matches on the first match's expression are bound, the others stay
    p = S.bind_expr(two, "_ * 2.0", "t")
    assert "t = B[i] * 2.0" in str(p) and "B[i] += A[i] * 2.0" in str(p)
    knit.check_equiv(two, p, trials=2)


def test_bind_expr_on_the_same_expression_in_two_loops_says_why_they_differ():
    @proc
    def same(N: size, A: f32[N], B: f32[N]):
        for i in seq(0, N):
            A[i] = B[i] * 2.0
        for i in seq(0, N):
            A[i] += B[i] * 2.0

    with pytest.raises(SchedulingError, match="they read different variables|variables of "
                       "the same name") as info:
        S.bind_expr(same, "B[_] * 2.0", "t")
    assert str(info.value).count(" at ") >= 2


def test_bind_expr_of_one_match_and_of_equal_matches_still_works():
    p = S.bind_expr(two, "B[_] * 2.0", "t")
    assert "t = B[i] * 2.0" in str(p)
    knit.check_equiv(two, p, trials=2)
