"""Generic precision `R` in C: data of type `R` is `float` (as Exo 1.0 compiles it).

Before emission every buffer, argument and expression typed `R` is retyped `f32`, in the
procedure and in every procedure it calls. Literals keep their untyped `R` (they take the
type of their context, docs/semantics.md#literal-type), so an expression of literals
only stays untyped. The runtime binds `R` arguments to float32 arrays (runtime/args.py),
so the compiled code and the interpreter see the same data.
"""

from __future__ import annotations

from dataclasses import replace

from knit.errors import KnitTypeError
from knit.ir import nodes as N, types as T
from knit.ir.visit import map_expr, walk_stmts


def r_as_f32(proc: N.Proc, memo: dict) -> N.Proc:
    """`proc` with its `R` data typed f32 (memo: original -> retyped, kept across calls
    so that a callee shared by several callers stays one procedure)."""
    if proc in memo:
        return memo[proc]
    if not _uses_r(proc):
        memo[proc] = proc
        return proc
    out = proc.with_(args=tuple(replace(a, type=_type(a.type)) for a in proc.args),
                     body=_block(proc.body, memo))
    memo[proc] = out
    return out


def c_scalar(t: T.ScalarT) -> T.ScalarT:
    """The precision C stores data of scalar type t in (`R` is f32)."""
    return T.F32 if t == T.R else t


def _type(t):
    if t.is_tensor():
        return T.TensorT(tuple(map_expr(d, _expr_node) for d in t.dims), t.is_window,
                         c_scalar(t.elem))
    return c_scalar(t)


def _expr_node(e):
    match e:
        case N.Read() if e.type.basetype() == T.R:  # an element, or a whole buffer
            return e.with_(type=_type(e.type))
        case N.USub(arg=a) if e.type == T.R and a.type == T.F32:
            return e.with_(type=T.F32)
        case N.BinOp(lhs=lhs, rhs=rhs) if e.type == T.R and T.F32 in (lhs.type, rhs.type):
            return e.with_(type=T.F32)
        case N.Extern(args=args) if e.type == T.R and any(a.type == T.F32 for a in args):
            return e.with_(type=T.F32)
        case N.WindowExpr() if e.type.elem == T.R:
            return e.with_(type=_type(e.type))
    return e


def _expr(e):
    return map_expr(e, _expr_node)


def _block(stmts, memo) -> tuple:
    return tuple(_stmt(s, memo) for s in stmts)


def _stmt(s, memo):
    match s:
        case N.Assign() | N.Reduce():
            return s.with_(type=c_scalar(s.type), idx=tuple(map(_expr, s.idx)),
                           rhs=_expr(s.rhs))
        case N.WriteConfig():
            return s.with_(rhs=_expr(s.rhs))
        case N.If():
            return s.with_(cond=_expr(s.cond), body=_block(s.body, memo),
                           orelse=_block(s.orelse, memo))
        case N.For():
            return s.with_(lo=_expr(s.lo), hi=_expr(s.hi), body=_block(s.body, memo))
        case N.Alloc():
            return s.with_(type=_type(s.type))
        case N.Call() if s.f.instr is not None:  # an instruction's R parameter is a
            return s.with_(args=tuple(map(_expr, s.args)))  # template hole: any data
        case N.Call():
            _check_call(s)
            return s.with_(f=r_as_f32(s.f, memo), args=tuple(map(_expr, s.args)))
        case N.WindowStmt():
            return s.with_(rhs=_expr(s.rhs))
    return s


def _check_call(s: N.Call) -> None:
    """A callee's R parameter is a float* in C: it cannot take data of another type."""
    for a, p in zip(s.args, s.f.args):
        if p.type.is_control() or p.type.basetype() != T.R:
            continue
        held = a.type.basetype()
        if held not in (T.R, T.F32):
            raise KnitTypeError(a.srcinfo, f"argument '{p.name.name}' of {s.f.name} has "
                                f"the generic type R, compiled as float, but gets {held} "
                                "data", f"give {s.f.name} a copy with {held} parameters "
                                "(set_precision), or pass f32 data")


def _uses_r(proc: N.Proc) -> bool:
    """Whether any argument, allocation, access or callee of proc has data of type R
    (cheap test first: most procedures have none)."""
    if any(a.type.basetype() == T.R for a in proc.args):
        return True
    for s in walk_stmts(proc.body):
        if isinstance(s, N.Alloc) and s.type.basetype() == T.R:
            return True
        if isinstance(s, (N.Assign, N.Reduce)) and s.type == T.R:
            return True
        if isinstance(s, N.Call) and s.f.instr is None and _uses_r(s.f):
            return True
    return False
