"""Exo's precision rule (docs/semantics.md#precision-rule): the operands of a data
operation, and the typed arguments of an extern, have one precision.

`x[i] + y[i]` with `x: f32`, `y: i8` has no meaning in Exo's language: its code
generator refuses it ("Errors occurred during precision checking"). knit refuses it at
the same point, where the program would be given a meaning -- C generated, compiled or
run by the interpreter (frontend/checks.raise_deferred) -- not at the definition, so a
procedure written so still loads and can be rescheduled (e.g. `set_precision` making the
operands agree), as in Exo.

The precision of an operand: a literal (`R`) has none and adopts the other operand's;
a buffer of generic precision `R` is `f32` (how it is compiled); a config field its
declared type. Stores convert (`res: f64 = xloc: f32 + yloc: f32`, `acc: i32 += a: i8 *
b: i8` are fine); what is checked is the operation itself. Instructions' bodies are not
checked (they are never compiled, as in Exo); calls to them are, at the call site, by
the call check (a parameter's precision). Index and bool expressions are not data.
"""

from __future__ import annotations

from knit.errors import KnitTypeError
from knit.ir import nodes as N, types as T
from knit.ir.visit import stmt_exprs, walk_stmts

# id(proc) -> (proc, its error or None), for procedures already looked at; the proc is
# held so that its id is not reused
_seen: dict[int, tuple] = {}


def precision_error(proc: N.Proc) -> KnitTypeError | None:
    """The first operation of mixed precision in `proc` or a procedure it calls (not
    inside instructions), as the error Exo's code generator would raise; else None."""
    done, todo = set(), [proc]
    while todo:
        p = todo.pop()
        if id(p) in done or p.instr is not None:
            continue
        done.add(id(p))
        err = _own_error(p)
        if err is not None:
            return err
        todo.extend(s.f for s in walk_stmts(p.body) if isinstance(s, N.Call))
    return None


def _own_error(p: N.Proc) -> KnitTypeError | None:
    hit = _seen.get(id(p))
    if hit is not None and hit[0] is p:
        return hit[1]
    err = None
    try:
        for s in walk_stmts(p.body):
            for e in stmt_exprs(s):
                _prec(e)
    except KnitTypeError as found:
        err = found
    _seen[id(p)] = (p, err)
    return err


def _prec(e: N.Expr) -> T.ScalarT:
    """The precision of data expression `e` (R: a literal, which adopts the other
    operand's); raises a KnitTypeError at an operation of two precisions."""
    match e:
        case N.Const():
            return T.R if e.type.is_real() else e.type
        case N.Read():
            elem = e.type.basetype()
            return T.F32 if elem == T.R else elem
        case N.USub():
            return _prec(e.arg)
        case N.BinOp():
            lhs, rhs = _prec(e.lhs), _prec(e.rhs)
            if not (e.type.is_real() and lhs.is_real() and rhs.is_real()):
                return e.type
            if lhs == T.R or lhs == rhs:
                return rhs
            if rhs == T.R:
                return lhs
            raise KnitTypeError(
                e.srcinfo, f"Errors occurred during precision checking: cannot compute "
                f"operation '{e.op}' between inconsistent precision types: {lhs} and {rhs}",
                "convert one operand first: store it into a buffer of the other's "
                "precision (a store converts), or change a buffer's precision "
                "(set_precision); Exo's language has no mixed-precision operation")
        case N.Extern():
            precs = [(a, _prec(a)) for a in e.args]
            typed = [p for _, p in precs if p.is_real() and p != T.R]
            if not typed:
                return e.type
            typ = typed[-1]
            for _, p in precs:
                if p.is_real() and p != T.R and p != typ:
                    raise KnitTypeError(
                        e.srcinfo, "Errors occurred during precision checking: all extern "
                        f"arguments must have a same type, got {typ} and {p} "
                        f"(in {e.f.name()}(...))",
                        "convert the arguments to one precision first (store them into "
                        "buffers of that precision)")
            return typ
        case _:  # a window, a stride, a config read: no data operation inside
            return e.type
