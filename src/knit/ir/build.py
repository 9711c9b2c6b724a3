"""Builders of index expressions and conditions, for everything that makes IR: the
rewrites, the analyses, the C backend's window arithmetic. One home for them
(issue 14 item 7: three sets of `add`/`var`/`const` had grown in three layers).

The arithmetic drops the identities (`0 + e -> e`, `e - 0 -> e`, `1 * e -> e`) and
types a sum or product as a stride when an operand is one, else as an index. Nothing
else is folded: a rewrite's result prints as the rewrite built it, and `simplify`
is the one place that normalises.
"""

from __future__ import annotations

from knit.ir import nodes as N, types as T
from knit.ir.sym import Sym


def const(v: int) -> N.Const:
    """An integer literal."""
    return N.Const(v, T.INT)


def var(sym: Sym, typ: T.ScalarT = T.INDEX) -> N.Read:
    """A read of a control variable (an index by default)."""
    return N.Read(sym, (), typ)


def _is(e: N.Expr, v: int) -> bool:
    return isinstance(e, N.Const) and e.val == v


def _index_t(a: N.Expr, b: N.Expr) -> T.ScalarT:
    return T.STRIDE if T.STRIDE in (a.type, b.type) else T.INDEX


def add(a: N.Expr, b: N.Expr) -> N.Expr:
    """a + b."""
    if _is(a, 0):  # 0 + b -> b
        return b
    if _is(b, 0):  # a + 0 -> a
        return a
    return N.BinOp("+", a, b, _index_t(a, b))


def sub(a: N.Expr, b: N.Expr) -> N.Expr:
    """a - b."""
    if _is(b, 0):  # a - 0 -> a
        return a
    return N.BinOp("-", a, b, _index_t(a, b))


def mul(a: N.Expr, b: N.Expr) -> N.Expr:
    """a * b."""
    if _is(a, 1):  # 1 * b -> b
        return b
    if _is(b, 1):  # a * 1 -> a
        return a
    return N.BinOp("*", a, b, _index_t(a, b))


def product(es) -> N.Expr:
    """The product of the expressions (1 for none)."""
    out: N.Expr = const(1)
    for e in es:
        out = mul(out, e)
    return out


def cmp(op: str, a: N.Expr, b: N.Expr) -> N.Expr:
    """a op b, a condition (`<`, `<=`, `==`, ...)."""
    return N.BinOp(op, a, b, T.BOOL)


def lt(a: N.Expr, b: N.Expr) -> N.Expr:
    return cmp("<", a, b)


def le(a: N.Expr, b: N.Expr) -> N.Expr:
    return cmp("<=", a, b)


def and_(*cs: N.Expr) -> N.Expr:
    """The conjunction (`True` for none; literal `True`s dropped)."""
    cs = tuple(c for c in cs if not (isinstance(c, N.Const) and c.val is True))
    out = cs[0] if cs else N.Const(True, T.BOOL)
    for c in cs[1:]:
        out = cmp("and", out, c)
    return out


def window_dim(lo: N.Expr, hi: N.Expr, srcinfo=None) -> N.Expr:
    """The extent hi - lo of a slice as the parser types it (folded when both are
    literals, `hi` from 0): the printer uses it to know what a view's shape parses to."""
    if isinstance(lo, N.Const) and lo.type == T.INT and isinstance(hi, N.Const) \
            and hi.type == T.INT:
        return N.Const(hi.val - lo.val, T.INT, srcinfo)
    if isinstance(lo, N.Const) and lo.type == T.INT and lo.val == 0:
        return hi
    return N.BinOp("-", hi, lo, T.INDEX, srcinfo)
