"""Checks at a call site: size arguments, argument shapes, the callee's asserts,
and aliasing between the buffers passed.

The callee's parameters are bound to the actual arguments (control values by
substitution, `stride(param, d)` by the stride of the buffer passed), so the
callee's shapes and asserts become claims about the caller's variables, proven
from the caller's facts.
"""

from __future__ import annotations

from itertools import combinations

from knit.analysis import affine as A, exprs as X, smt
from knit.analysis.written import written_args
from knit.errors import AliasError, KnitTypeError, PreconditionError
from knit.frontend.boundscheck import dim_str, gave_up_note
from knit.frontend.scope import Scope
from knit.ir import nodes as N, types as T
from knit.ir.printer import expr_str


def check_call(call: N.Call, facts: smt.Facts, scope: Scope) -> None:
    syms, strides = _binding(call, scope)
    _check_sizes(call, facts)
    _check_shapes(call, facts, scope, syms)
    _check_dense_windows(call, facts, scope)
    _check_preconditions(call, facts, scope, syms, strides)
    _check_aliasing(call, facts, scope)


def _binding(call: N.Call, scope: Scope):
    """callee Sym -> actual expression; (callee Sym, dim) -> actual stride."""
    syms, strides = {}, {}
    for param, arg in zip(call.f.args, call.args):
        if param.type.is_control():
            syms[param.name] = arg
        elif param.type.is_tensor():
            for d in range(len(param.type.shape())):
                strides[(param.name, d)] = scope.stride(arg, d)
    return syms, strides


def _where(call: N.Call, param: N.FnArg) -> str:
    return f"argument '{param.name.name}' of {call.f.name}"


def _check_sizes(call: N.Call, facts: smt.Facts) -> None:
    for param, arg in zip(call.f.args, call.args):
        if param.type == T.SIZE:
            goal = X.cmp(">=", arg, X.const(1))
            if not smt.prove(facts, goal):
                why = smt.take_gave_up()
                if why:
                    raise KnitTypeError(X.src_of(arg, call),
                                        f"{_where(call, param)} is a size and must be at "
                                        f"least 1: could not prove {expr_str(arg)} >= 1 "
                                        f"{gave_up_note(why)}",
                                        "assert the size is positive, or guard the call "
                                        "with an if")
                what = f"{_where(call, param)} is a size and must be at least 1, but " \
                       f"{expr_str(arg)} may be smaller"
                raise KnitTypeError(X.src_of(arg, call), what + _example(facts, goal, arg),
                                    "assert the size is positive, or guard the call with "
                                    "an if")


def _check_shapes(call: N.Call, facts, scope: Scope, syms: dict) -> None:
    for param, arg in zip(call.f.args, call.args):
        if not param.type.is_tensor():
            continue
        actual = arg.type.shape() if isinstance(arg, N.WindowExpr) else scope.shape(arg.name)
        for d, (want, got) in enumerate(zip(param.type.shape(), actual)):
            want = X.subst(want, syms)
            if not smt.prove_eq(facts, want, got):
                why = smt.take_gave_up()
                what = f"{_where(call, param)}: dimension {d} must have size " \
                       f"{dim_str(want)}, but {expr_str(arg)} has size {dim_str(got)} there"
                if why:
                    what = f"{_where(call, param)}: dimension {d} must have size " \
                           f"{dim_str(want)}; could not prove that {expr_str(arg)}'s size " \
                           f"{dim_str(got)} equals it {gave_up_note(why)}"
                ce = None if why else smt.counterexample(facts, X.cmp("==", want, got))
                vs = _vars(want, got)
                if ce is not None and vs:
                    what += f" (for {ce.describe(vs)}: {ce.value(want)} vs {ce.value(got)})"
                raise KnitTypeError(X.src_of(arg, call), what,
                                    f"pass a buffer or window of the shape "
                                    f"{call.f.name} expects")


def _check_dense_windows(call, facts, scope: Scope) -> None:
    """A window name passed to a dense parameter (which assumes the row-major strides
    of its own shape, as C takes its first element's address): its strides must be
    proven row-major here, e.g. from the caller's `assert stride(y, 0) == 1`."""
    for param, arg in zip(call.f.args, call.args):
        if not (param.type.is_tensor() and not param.type.is_win()
                and isinstance(arg, N.Read) and arg.type.is_tensor() and arg.type.is_win()):
            continue
        shape = arg.type.shape()
        for d in range(len(shape)):
            want = X.product(shape[d + 1:])
            got = scope.resolve_strides(scope.stride(arg, d))
            if smt.prove_eq(facts, got, want):
                continue
            why = smt.take_gave_up()
            claim = f"stride({arg.name.name}, {d}) == {expr_str(want)}"
            raise KnitTypeError(X.src_of(arg, call),
                                f"{_where(call, param)} is a dense tensor, so the window "
                                f"'{arg.name.name}' must be one contiguous block: could not "
                                f"prove {claim}" + (f" {gave_up_note(why)}" if why else ""),
                                f"pass a contiguous block, assert {claim} in the caller "
                                f"(for a window parameter), or declare {call.f.name}'s "
                                f"parameter a window [{param.type.basetype()}][...]")


def _check_preconditions(call, facts, scope: Scope, syms, strides) -> None:
    for pred in call.f.preds:
        actual = scope.resolve_strides(X.subst(pred, syms, strides))
        if smt.prove(facts, actual):
            continue
        why = smt.take_gave_up()
        what = f"{call.f.name} requires `{expr_str(pred)}`, which could not be proven " \
               f"at this call"
        if expr_str(actual) != expr_str(pred):
            what += f" (with these arguments: `{expr_str(actual)}`)"
        if why:
            what += f" {gave_up_note(why)}"
        ce = None if why else smt.counterexample(facts, actual)
        vs = _vars(actual)
        if ce is not None and vs:
            what += f"; it fails for {ce.describe(vs)}"
        raise PreconditionError(call.srcinfo, what,
                                "assert it in the caller, or guard the call with an if")


def _check_aliasing(call: N.Call, facts, scope: Scope) -> None:
    writes = written_args(call.f)
    bufs = [(k, scope.region(a)) for k, (p, a) in enumerate(zip(call.f.args, call.args))
            if not p.type.is_control()]
    for (k1, r1), (k2, r2) in combinations(bufs, 2):
        if r1.root is not r2.root or not ({k1, k2} & writes):
            continue
        if _provably_disjoint(facts, r1, r2):
            continue
        why = smt.take_gave_up()
        p1, p2 = call.f.args[k1].name.name, call.f.args[k2].name.name
        written = p1 if k1 in writes else p2
        overlap = "and the two may overlap" if not why else \
            f"and it could not prove the two disjoint {gave_up_note(why)}"
        raise AliasError(X.src_of(call.args[k2], call),
                         f"'{r1.root.name}' is passed to both '{p1}' and '{p2}' of "
                         f"{call.f.name}, which writes '{written}', {overlap}",
                         "pass windows that are disjoint, or copy one of them to a "
                         "separate buffer first")


def _provably_disjoint(facts, r1, r2) -> bool:
    """Whether, in some dimension, the two regions never meet."""
    parts = []
    for a, b in zip(r1.accs, r2.accs):
        alo, ahi = _span(a)
        blo, bhi = _span(b)
        try:
            parts.append(A.disj([smt.formula(X.cmp("<=", ahi, blo)),
                                 smt.formula(X.cmp("<=", bhi, alo))]))
        except A.NotAffine:
            continue  # this dimension cannot show disjointness; others still may
    return smt.prove(facts, A.disj(parts))


def _span(acc):
    if isinstance(acc, N.Interval):
        return acc.lo, acc.hi
    return acc.pt, X.add(acc.pt, X.const(1))


def _example(facts, goal, e) -> str:
    ce = smt.counterexample(facts, goal)
    vs = _vars(e)
    if ce is None or not vs:
        return ""
    return f" (it is {ce.value(e)} for {ce.describe(vs)})"


def _vars(*es) -> list:
    out = []
    for e in es:
        out += [v for v in X.control_vars(e) if v not in out]
    return out
