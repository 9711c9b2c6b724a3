"""Bounds: every access, window slice and tensor dimension, proven for all values
the facts in scope allow (sizes >= 1, asserts, enclosing loops and ifs).

A failure names the access, the dimension and its size, and, when z3 finds one,
values of the variables that take the index out of range.
"""

from __future__ import annotations

from knit.analysis import affine as A, exprs as X, smt
from knit.errors import BoundsError, KnitTypeError
from knit.ir import nodes as N
from knit.ir.printer import expr_str

_HINT = "add an assert on the sizes to the proc, or guard the access with an if"


def check_access(access: N.Expr, idx, shape, facts: smt.Facts) -> None:
    """`access` (a Read, or a Read built from an Assign's target) indexes a buffer of
    `shape` with `idx`; prove 0 <= idx[d] < shape[d] for every d."""
    for d, (i, n) in enumerate(zip(idx, shape)):
        low = X.cmp("<=", X.const(0), i)
        high = X.cmp("<", i, n)
        for goal in (low, high):
            if not smt.prove(facts, goal):
                why = smt.take_gave_up()
                if why:
                    what = f"could not prove {expr_str(access)} in bounds: dimension {d} " \
                           f"has size {dim_str(n)} {gave_up_note(why)}"
                    raise BoundsError(X.src_of(i, access), what, _HINT)
                what = f"{expr_str(access)} {_may(goal)} out of bounds: dimension {d} has " \
                       f"size {dim_str(n)}"
                raise BoundsError(X.src_of(i, access), what + _witness(facts, goal, n, i),
                                  _HINT)


def check_window(w: N.WindowExpr, shape, facts: smt.Facts) -> None:
    """Every slice of the window lies inside its buffer: 0 <= lo <= hi <= size,
    and every point 0 <= pt < size."""
    for d, (acc, n) in enumerate(zip(w.idx, shape)):
        if isinstance(acc, N.Point):
            _check_point(w, d, acc, n, facts)
            continue
        goals = [(X.cmp("<=", X.const(0), acc.lo), "starts before 0"),
                 (X.cmp("<=", acc.lo, acc.hi), "ends before it starts"),
                 (X.cmp("<=", acc.hi, n), f"ends past the size {dim_str(n)}")]
        for goal, how in goals:
            claim = how.replace("starts", "starts no").replace("ends", "ends no") \
                .replace("no before", "no earlier than").replace("no past", "no later than")
            if not smt.prove(facts, goal):
                why = smt.take_gave_up()
                if why:
                    what = f"could not prove the window {expr_str(w)} in bounds: that its " \
                           f"slice {expr_str(acc.lo)}:{expr_str(acc.hi)} in dimension {d} " \
                           f"{claim} {gave_up_note(why)}"
                    raise BoundsError(X.src_of(acc, w), what, _HINT)
                what = f"the window {expr_str(w)} may be out of bounds: its slice " \
                       f"{expr_str(acc.lo)}:{expr_str(acc.hi)} in dimension {d} {how}"
                ce = smt.counterexample(facts, goal)
                if ce is not None:
                    vals = ce.describe(_vars(acc.lo, acc.hi, n))
                    what += f" (for {vals} the slice is {ce.value(acc.lo)}:" \
                            f"{ce.value(acc.hi)})" if vals else ""
                raise BoundsError(X.src_of(acc, w), what, _HINT)


def _check_point(w, d, acc: N.Point, n, facts) -> None:
    for goal in (X.cmp("<=", X.const(0), acc.pt), X.cmp("<", acc.pt, n)):
        if not smt.prove(facts, goal):
            why = smt.take_gave_up()
            if why:
                what = f"could not prove the window {expr_str(w)} in bounds: dimension {d} " \
                       f"has size {dim_str(n)} {gave_up_note(why)}"
                raise BoundsError(X.src_of(acc.pt, acc, w), what, _HINT)
            what = f"the window {expr_str(w)} may be out of bounds: dimension {d} has " \
                   f"size {dim_str(n)}"
            raise BoundsError(X.src_of(acc.pt, acc, w),
                              what + _witness(facts, goal, n, acc.pt), _HINT)


def check_dims(name: str, typ, facts: smt.Facts, srcinfo) -> None:
    """Every dimension of a tensor type is at least 1."""
    for d, n in enumerate(typ.shape()):
        goal = X.cmp(">=", n, X.const(1))
        if not smt.prove(facts, goal):
            why = smt.take_gave_up()
            what = f"dimension {d} of '{name}' may not be positive: its size is " \
                   f"{expr_str(n)}"
            if why:
                what = f"could not prove dimension {d} of '{name}' positive: its size is " \
                       f"{expr_str(n)} {gave_up_note(why)}"
            ce = None if why else smt.counterexample(facts, goal)
            if ce is not None and not isinstance(n, N.Const):
                what += f", which is {ce.value(n)} for {ce.describe(_vars(n))}"
            raise BoundsError(X.src_of(n) or srcinfo, what,
                              "tensor dimensions must be at least 1: assert it on the "
                              "sizes, e.g. `assert N >= 2`")


def gave_up_note(why: str) -> str:
    """What a refusal says when z3 gave up: no counterexample exists to show, and the
    claim may well hold."""
    return f"(the solver gave up: {why}; the claim may hold, but it was not proven)"


def _may(goal) -> str:
    """'is' when the goal is false whatever the variables are, else 'may be'."""
    try:
        return "is" if smt.formula(goal) == A.FALSE else "may be"
    except A.NotAffine:
        return "may be"


def _witness(facts, goal, n, i) -> str:
    """'; for N = 1, i = 0 the index is 1', or '' when no counterexample is found."""
    ce = smt.counterexample(facts, goal)
    if ce is None:
        return ""
    vals = ce.describe(_vars(n, i))
    return f"; for {vals} the index is {ce.value(i)}" if vals else ""


def _vars(*es) -> list:
    out = []
    for e in es:
        for v in X.control_vars(e):
            if v not in out:
                out.append(v)
    return out


def dim_str(n: N.Expr) -> str:
    """A dimension as object code, folded to a number when it is constant."""
    try:
        x = A.lin_of(n)
    except A.NotAffine:
        return expr_str(n)
    return str(x.const) if x.is_const() else expr_str(n)


_RANGE_HINT = ("if an empty range is meant, put the loop under `if {hi} > {lo}:`; else "
               "assert on the sizes what makes {hi} >= {lo}, or fix the bounds")


def check_range(loop: N.For, facts: smt.Facts) -> None:
    """A loop written by the user: its range `seq(lo, hi)` must be provably non-empty
    or empty, never negative (hi - lo >= 0), under the facts in scope. This is Exo's
    definition-time rule (docs/semantics.md#loops): a range whose length may be
    negative is most often a mistake in the bounds, so it is refused where it is
    written, not run zero times."""
    goal = X.cmp("<=", loop.lo, loop.hi)
    if smt.prove(facts, goal):
        return
    lo, hi = expr_str(loop.lo), expr_str(loop.hi)
    sub = f"({lo})" if isinstance(loop.lo, N.BinOp | N.USub) else lo
    length = f"{hi} - {sub}" if lo != "0" else hi
    head = f"expected the length of the range of the loop over '{loop.iter.name}', " \
           f"seq({lo}, {hi}), to always be non-negative"
    why = smt.take_gave_up()
    if why:
        what = f"{head}: could not prove {hi} >= {lo} {gave_up_note(why)}"
    else:
        what = f"{head}, but {length} {'is' if _may(goal) == 'is' else 'may be'} negative"
        ce = smt.counterexample(facts, goal)
        vals = ce.describe(_vars(loop.lo, loop.hi)) if ce is not None else ""
        if vals:
            what += f" (for {vals})"
    if X.control_vars(loop.lo) or X.control_vars(loop.hi):
        hint = _RANGE_HINT.format(lo=lo, hi=hi)
    else:
        hint = "fix the bounds (a loop meant never to run can be removed)"
    raise KnitTypeError(loop.srcinfo, what, hint)
