"""One error taxonomy (issue 14 item 5): a wrong argument is a knit user error (a
KnitError, and the builtin class it used to be), a broken invariant inside knit is an
InternalError; plus the call cursor's sub-procedure (issue 14 item 6)."""

from __future__ import annotations

import gc

import pytest

from knit import Procedure, check_equiv, compile_procs_to_strings, proc
from knit.analysis import affine as A, smt
from knit.errors import (
    InternalError,
    KnitError,
    KnitTypeError,
    ProcedureTypeError,
    SchedulingError,
)
from knit.ir import handles
from knit.ir.printer import expr_str, stmt_str
from knit.stdlib.scheduling import call_eqv, divide_loop, rename, replace, simplify


@proc
def g(N: size, x: f32[N]):
    for i in seq(0, N):
        x[i] = 0.0


@proc
def f(N: size, y: f32[N]):
    g(N, y)


# ------------------------------------------------------------ a Procedure expected


@pytest.mark.parametrize("call, prim", [
    (lambda: f.is_eq("g"), "is_eq"),
    (lambda: f.unsafe_assert_eq(g._loopir_proc), "unsafe_assert_eq"),
    (lambda: divide_loop("f", "i", 2, ["io", "ii"]), "divide_loop"),
    (lambda: simplify(g._loopir_proc), "simplify"),
    (lambda: replace(g, g.find_loop("i"), "zero"), "replace"),
    (lambda: compile_procs_to_strings([g, "f"], "x.h"), "compile_procs"),
    (lambda: check_equiv(g, 3), "check_equiv"),
])
def test_a_non_procedure_argument_is_one_error_class(call, prim):
    with pytest.raises(ProcedureTypeError) as info:
        call()
    assert str(info.value).startswith(f"{prim}: ")
    # one class, still caught as either class it used to be
    assert isinstance(info.value, TypeError)
    assert isinstance(info.value, SchedulingError)
    assert type(info.value) is ProcedureTypeError


# ------------------------------------------------------------ wrong API arguments


def test_forwarding_a_non_cursor_is_a_knit_type_error():
    with pytest.raises(KnitTypeError, match="forward: expected a cursor, got str"):
        f.forward("i")


def test_a_non_string_pattern_is_a_knit_type_error():
    with pytest.raises(KnitTypeError, match="expected a pattern string, got int"):
        g.find(3)


# ------------------------------------------------------------ broken invariants


@pytest.mark.parametrize("call, phrase", [
    (lambda: expr_str(object()), "expr_str: not an expression: object"),
    (lambda: stmt_str(42), "stmt_str: not a statement: int"),
    (lambda: A.negate(("nonsense",)), "not a formula"),
    (lambda: A.eval_formula(("nonsense",), {}), "not a formula"),
    (lambda: A.compare("<>", A.Lin(const=0), A.Lin(const=1)), "not a comparison operator"),
    (lambda: smt._z3_name("x"), "not a variable"),
])
def test_a_broken_invariant_is_an_internal_error(call, phrase):
    with pytest.raises(InternalError, match=phrase) as info:
        call()
    assert not isinstance(info.value, (TypeError, ValueError))  # not a user's mistake


def test_internal_errors_are_knit_errors_but_not_user_errors():
    from knit.errors import is_user_error

    assert issubclass(InternalError, KnitError)
    assert not is_user_error(InternalError("x"))
    assert is_user_error(ProcedureTypeError("x"))


# ------------------------------------------------------------ CallCursor.subproc


def test_subproc_is_the_called_procedure():
    @proc
    def g_alike(N: size, x: f32[N]):
        for i in seq(0, N):
            x[i] = 0.0

    sub = f.find("g(_)").subproc()
    assert sub is g
    assert sub.is_eq(g)
    assert not sub.is_eq(g_alike)  # written alike, but nothing proved them equal


def test_subproc_after_scheduling_the_caller_and_the_callee():
    g2 = divide_loop(rename(g, "g2"), "i", 4, ["io", "ii"], tail="cut")
    h = call_eqv(f, "g(_)", g2)  # the call now names g2, proven equal to g
    sub = simplify(h).find("g2(_)").subproc()
    assert sub is g2
    assert sub.is_eq(g2) and sub.is_eq(g)


def test_subproc_of_a_callee_whose_procedure_is_gone():
    ir = g._loopir_proc.with_(name="lost")  # a callee no live Procedure wraps
    assert handles.procedure_of(ir) is None
    p = handles.wrap(ir)
    assert isinstance(p, Procedure) and p.INTERNAL_proc() is ir
    assert handles.wrap(ir) is p  # the new handle is found again while it lives
    assert not p.is_eq(g)  # nothing proved it equal to g
    del p
    gc.collect()
    assert handles.procedure_of(ir) is None


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def test_every_user_error_shares_the_user_error_base():
    """Every error class knit defines is a UserError, except InternalError (a knit
    bug): `except knit.UserError` catches exactly the mistakes a user can fix."""
    import knit.equiv  # noqa: F401 - the modules that define error classes
    import knit.instrcheck  # noqa: F401
    import knit.memory  # noqa: F401
    import knit.platforms.gemmini  # noqa: F401
    from knit import UserError
    from knit.cursors.cursor import InvalidCursorError

    knit_classes = [c for c in _subclasses(KnitError) if c.__module__.startswith("knit")]
    assert len(knit_classes) > 15  # the scan found the taxonomy, not an empty list
    for cls in knit_classes:
        assert issubclass(cls, UserError) != (cls is InternalError), cls
    assert issubclass(InvalidCursorError, UserError) and issubclass(SchedulingError, UserError)
    assert not issubclass(InternalError, UserError)


def test_knit_raises_no_bare_knit_error():
    """knit's own refusals are UserErrors (so their tracebacks are cut to the user's
    frames); a bare KnitError is left to user libraries."""
    import re
    from pathlib import Path

    src = Path(__file__).resolve().parents[2] / "src" / "knit"
    bare = [f"{p.relative_to(src)}:{i}" for p in src.rglob("*.py")
            for i, line in enumerate(p.read_text().splitlines(), 1)
            if re.search(r"raise KnitError\(", line)]
    assert not bare, bare
