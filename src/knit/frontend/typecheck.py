"""Typing rules of object code expressions, used by the parser as it builds IR.

Each rule returns the typed node or raises KnitTypeError naming the construct.
"""

from __future__ import annotations

from knit.errors import KnitTypeError
from knit.ir import nodes as N, types as T
from knit.ir.printer import WrittenInt


def an(t) -> str:
    """A type with its article, for messages: 'an index', 'a size', 'an f32'."""
    name = str(t)
    vowel = name in ("R", "f16", "f32", "f64", "i8", "i32") or name[0] in "aeiou"
    return f"{'an' if vowel else 'a'} {name}"


ARITH = ("+", "-", "*", "/", "%")
COMPARE = ("<", ">", "<=", ">=", "==")
LOGIC = ("and", "or")


def as_data(e: N.Expr) -> N.Expr:
    """Integer literals used as data become real literals (`x[i] = 0`, `x = 1 + 2`):
    an expression of type `int` is made of literals only. They keep printing as
    written (`0`, not `0.0`: WrittenInt)."""
    if e.type != T.INT:
        return e
    if isinstance(e, N.Const):
        return N.Const(WrittenInt(e.val), T.R, e.srcinfo)
    if isinstance(e, N.USub):
        arg = as_data(e.arg)
        if isinstance(arg, N.Const):
            return N.Const(-arg.val, T.R, e.srcinfo)
        return N.USub(arg, T.R, e.srcinfo)
    if isinstance(e, N.BinOp) and e.op in ("+", "-", "*", "/"):
        return N.BinOp(e.op, as_data(e.lhs), as_data(e.rhs), T.R, e.srcinfo)
    return e


def is_const_int(e: N.Expr) -> bool:
    return isinstance(e, N.Const) and e.type == T.INT


def binop(op: str, lhs: N.Expr, rhs: N.Expr, srcinfo) -> N.Expr:
    lt, rt = lhs.type, rhs.type
    if lt.is_tensor() or rt.is_tensor():
        raise KnitTypeError(srcinfo, f"cannot apply '{op}' to a whole tensor",
                            "index the tensor down to a scalar, e.g. A[i, j]")
    if op in LOGIC:
        for side in (lhs, rhs):
            if side.type != T.BOOL:
                raise KnitTypeError(side.srcinfo, f"'{op}' needs bool operands, "
                                    f"got {an(side.type)} value")
        return N.BinOp(op, lhs, rhs, T.BOOL, srcinfo)
    if lt.is_real() or rt.is_real():
        return _data_binop(op, lhs, rhs, srcinfo)
    if op in COMPARE:
        return _compare(op, lhs, rhs, srcinfo)
    return _index_binop(op, lhs, rhs, srcinfo)


def _data_binop(op, lhs, rhs, srcinfo):
    lhs, rhs = as_data(lhs), as_data(rhs)
    for side in (lhs, rhs):
        if not side.type.is_real():
            raise KnitTypeError(side.srcinfo, f"cannot mix {an(side.type)} value with data "
                                f"in '{op}'", "index and data values are kept apart in knit")
    if op in COMPARE:
        raise KnitTypeError(srcinfo, "comparisons of data values cannot steer control flow",
                            "use select(a, b, x, y) (from knit.libs.externs) for a "
                            "data-dependent choice")
    if op == "%":
        raise KnitTypeError(srcinfo, "'%' is defined on index values only")
    return N.BinOp(op, lhs, rhs, T.join_real(lhs.type, rhs.type), srcinfo)


def _compare(op, lhs, rhs, srcinfo):
    ok = {lhs.type.kind, rhs.type.kind} <= {"int", "index", "size", "stride"}
    if op == "==" and lhs.type == rhs.type == T.BOOL:
        ok = True
    if not ok:
        raise KnitTypeError(srcinfo, f"cannot compare {an(lhs.type)} value with {an(rhs.type)} "
                            "value")
    return N.BinOp(op, lhs, rhs, T.BOOL, srcinfo)


def _index_binop(op, lhs, rhs, srcinfo):
    for side in (lhs, rhs):
        if not side.type.is_indexable() and side.type != T.STRIDE:
            raise KnitTypeError(side.srcinfo, f"'{op}' needs index or size operands, "
                                f"got {an(side.type)} value")
    if T.STRIDE in (lhs.type, rhs.type):
        typ = T.STRIDE
    elif lhs.type == rhs.type == T.INT:
        typ = T.INT
    elif op in ("+", "*", "/", "%") and {lhs.type, rhs.type} <= {T.SIZE, T.INT}:
        typ = T.SIZE  # a sum or product of sizes is a size
        if op in ("/", "%"):
            typ = T.INDEX  # may be zero
    else:
        typ = T.INDEX
    # A product of two non-constant index expressions (`n * m`, `i * m + j`) is accepted
    # (Exo accepts it in scheduling fragments and knit prints what it accepts, so a
    # printed proc parses back): the analyses read it as an opaque term (analysis/affine
    # `Mul`), related to its factors only by the solver, so what cannot be proven about
    # it is refused, never assumed. A factor made of literals only (`(10 + 2) * m`) keeps
    # the product affine.
    if op in ("/", "%"):
        if not is_const_int(rhs) or rhs.val <= 0:
            raise KnitTypeError(srcinfo, f"'{op}' on index values needs a positive literal "
                                "divisor")
    return N.BinOp(op, lhs, rhs, typ, srcinfo)


def usub(arg: N.Expr, srcinfo) -> N.Expr:
    if arg.type.is_tensor() or arg.type == T.BOOL:
        raise KnitTypeError(srcinfo, f"cannot negate {an(arg.type)} value")
    typ = arg.type if arg.type.is_real() or arg.type == T.INT else T.INDEX
    if arg.type == T.STRIDE:
        typ = T.STRIDE
    return N.USub(arg, typ, srcinfo)


def check_index(e: N.Expr, what: str) -> N.Expr:
    if not e.type.is_indexable():
        raise KnitTypeError(e.srcinfo, f"{what} must be an index expression, "
                            f"got {an(e.type)} value")
    return e


def check_bool(e: N.Expr, what: str) -> N.Expr:
    if e.type != T.BOOL:
        raise KnitTypeError(e.srcinfo, f"{what} must be a bool, got {an(e.type)} value")
    return e


def check_data(e: N.Expr, what: str) -> N.Expr:
    e = as_data(e)
    if not e.type.is_real():
        raise KnitTypeError(e.srcinfo, f"{what} must be a data value, got {an(e.type)} value",
                            "index values cannot be stored in data buffers")
    return e


def retyped(e: N.Expr) -> N.Expr:
    """A data operation typed again from its operands (after an operand was replaced):
    the type the parser would give the printed code."""
    if isinstance(e, N.BinOp) and e.type.is_real():
        typ = T.join_real(e.lhs.type, e.rhs.type)
        return e if typ == e.type else e.with_(type=typ)
    if isinstance(e, N.USub) and e.type.is_real() and e.arg.type != e.type:
        return e.with_(type=e.arg.type)
    return e
