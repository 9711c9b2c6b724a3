"""Small IR expression helpers for analyses: builders, substitution, variables."""

from __future__ import annotations

from knit.analysis.affine import CfgField, Stride
from knit.ir import nodes as N, types as T
from knit.ir.srcinfo import NO_SRC
from knit.ir.sym import Sym

_consts: dict = {}


def const(v: int) -> N.Const:
    # one node per small literal: nodes are immutable, and a shared node is normalised
    # once (affine's memo is by node identity)
    out = _consts.get(v) if -64 <= v <= 64 and type(v) is int else None
    if out is None:
        out = N.Const(v, T.INT)
        if -64 <= v <= 64 and type(v) is int:
            _consts[v] = out
    return out


def var(sym: Sym, typ: T.ScalarT = T.INDEX) -> N.Read:
    return N.Read(sym, (), typ)


_shared_vars: dict = {}


def shared_var(sym: Sym, typ: T.ScalarT = T.INDEX) -> N.Read:
    """A read of the variable `sym`, one node per (variable, type): for the facts and
    goals of an analysis, whose memories are by node identity. Never for IR a rewrite
    builds (a node there stands for its own place)."""
    key = (sym, typ)
    out = _shared_vars.get(key)
    if out is None:
        if len(_shared_vars) >= 50_000:  # a bound: each entry keeps its variable alive
            _shared_vars.clear()
        out = _shared_vars[key] = N.Read(sym, (), typ)
    return out


def _index_t(a: N.Expr, b: N.Expr) -> T.ScalarT:
    return T.STRIDE if T.STRIDE in (a.type, b.type) else T.INDEX


def add(a: N.Expr, b: N.Expr) -> N.Expr:
    if isinstance(a, N.Const) and a.val == 0:
        return b
    if isinstance(b, N.Const) and b.val == 0:
        return a
    return N.BinOp("+", a, b, _index_t(a, b))


def sub(a: N.Expr, b: N.Expr) -> N.Expr:
    if isinstance(b, N.Const) and b.val == 0:
        return a
    return N.BinOp("-", a, b, _index_t(a, b))


def mul(a: N.Expr, b: N.Expr) -> N.Expr:
    if isinstance(a, N.Const) and a.val == 1:
        return b
    if isinstance(b, N.Const) and b.val == 1:
        return a
    return N.BinOp("*", a, b, _index_t(a, b))


def cmp(op: str, a: N.Expr, b: N.Expr) -> N.Expr:
    return N.BinOp(op, a, b, T.BOOL)


def product(es) -> N.Expr:
    out: N.Expr = const(1)
    for e in es:
        out = mul(out, e)
    return out


def subst(e, syms: dict, strides: dict | None = None):
    """`e` with each Read of a Sym in `syms` replaced by syms[sym], and each
    stride(x, d) with (x, d) in `strides` by strides[(x, d)]. Keeps srcinfo."""
    strides = strides or {}

    def go(e):
        match e:
            case N.Read(name, ()) if name in syms:
                return syms[name]
            case N.Read(name, idx):
                return e.with_(idx=tuple(go(i) for i in idx))
            case N.StrideExpr(name, dim) if (name, dim) in strides:
                return strides[(name, dim)]
            case N.USub(arg):
                return e.with_(arg=go(arg))
            case N.BinOp(_, lhs, rhs):
                return e.with_(lhs=go(lhs), rhs=go(rhs))
            case N.Extern(_, args):
                return e.with_(args=tuple(go(a) for a in args))
            case N.WindowExpr(name, idx):
                return e.with_(idx=tuple(go_w(w) for w in idx))
        return e

    def go_w(w):
        if isinstance(w, N.Interval):
            return N.Interval(go(w.lo), go(w.hi), w.srcinfo)
        return N.Point(go(w.pt), w.srcinfo)

    return go(e)


def control_vars(e) -> list:
    """The variables of an integer expression in order of first appearance: Syms,
    and (buf, dim) / (config, field) pairs as `affine` atoms."""
    out: list = []

    def go(e):
        match e:
            case N.Read(name, ()) if e.type.is_control():
                v = name
            case N.StrideExpr(name, dim):
                v = Stride(name, dim)
            case N.ReadConfig(cfg, fld):
                v = CfgField(cfg, fld)
            case N.USub(arg):
                return go(arg)
            case N.BinOp(_, lhs, rhs):
                go(lhs)
                go(rhs)
                return
            case _:
                return
        if v not in out:
            out.append(v)

    go(e)
    return out


def src_of(*nodes):
    """The first real source position among `nodes` (generated nodes have none)."""
    for n in nodes:
        s = getattr(n, "srcinfo", None)
        if s is not None and s is not NO_SRC and s.line > 0:
            return s
    return None
