"""The buffers a checker sees while walking a proc, and what they view.

A window statement `w = x[a:b, c]` makes `w` a view of `x`; chains of views
resolve to a *region* of a root buffer (an argument or allocation): one
`Interval` or `Point` per root dimension, in root coordinates. Regions give
the shape and strides of a view, and decide whether two views can overlap.
"""

from __future__ import annotations

from dataclasses import dataclass

from knit.analysis import exprs as X
from knit.errors import InternalError
from knit.ir import nodes as N, types as T
from knit.ir.sym import Sym
from knit.memory import DRAM


@dataclass(frozen=True, slots=True)
class Buf:
    name: Sym
    type: T.Type
    mem: type
    view: N.WindowExpr | None = None  # set for window statements


@dataclass(frozen=True, slots=True)
class Region:
    root: Sym
    accs: tuple  # one N.Interval or N.Point per root dimension


class Scope:
    def __init__(self):
        self.bufs: dict[Sym, Buf] = {}

    def declare(self, name: Sym, typ: T.Type, mem) -> None:
        self.bufs[name] = Buf(name, typ, mem or DRAM)

    def declare_view(self, name: Sym, rhs: N.WindowExpr) -> None:
        self.bufs[name] = Buf(name, rhs.type, self.mem(rhs.name), rhs)

    def mem(self, name: Sym):
        buf = self.bufs.get(name)
        return buf.mem if buf else DRAM

    def shape(self, name: Sym) -> tuple:
        return self.bufs[name].type.shape()

    # ------------------------------------------------------------ regions

    def region(self, e: N.Expr) -> Region:
        """The part of a root buffer that a buffer expression denotes."""
        match e:
            case N.WindowExpr(name, accs):
                return _narrow(self.whole(name), accs)
            case N.Read(name, idx) if idx:
                return _narrow(self.whole(name), tuple(N.Point(i) for i in idx))
            case N.Read(name, ()):
                return self.whole(name)
        raise InternalError(f"not a buffer expression: {type(e).__name__}")

    def whole(self, name: Sym) -> Region:
        buf = self.bufs[name]
        if buf.view is not None:
            return self.region(buf.view)
        zero = X.const(0)
        return Region(name, tuple(N.Interval(zero, d) for d in buf.type.shape()))

    def root(self, name: Sym) -> Sym:
        buf = self.bufs.get(name)
        return self.root(buf.view.name) if buf and buf.view is not None else name

    # ------------------------------------------------------------ strides

    def stride(self, e: N.Expr, dim: int) -> N.Expr:
        """The stride, in elements of the root buffer, of dimension `dim` of the
        buffer expression `e` (a window, a whole buffer, or a view's name)."""
        reg = self.region(e)
        rdims = [k for k, a in enumerate(reg.accs) if isinstance(a, N.Interval)]
        r = rdims[dim]
        root = self.bufs[reg.root]
        if root.type.is_win():
            return N.StrideExpr(reg.root, r)
        return X.product(root.type.shape()[r + 1:])

    def resolve_strides(self, e: N.Expr) -> N.Expr:
        """`e` with stride(x, d) replaced by its value wherever x's layout is known
        (dense buffers and views of them); window arguments keep theirs."""
        strides = {}
        for s in _strides_in(e):
            if s.name in self.bufs:
                val = self.stride(N.Read(s.name, (), self.bufs[s.name].type), s.dim)
                if not (isinstance(val, N.StrideExpr) and val.name == s.name):
                    strides[(s.name, s.dim)] = val
        return X.subst(e, {}, strides) if strides else e


def _narrow(base: Region, accs) -> Region:
    """Apply a view's accesses to the interval dimensions of `base`, in order."""
    it = iter(accs)
    out = []
    for b in base.accs:
        if isinstance(b, N.Point):
            out.append(b)
            continue
        a = next(it)
        if isinstance(a, N.Interval):
            out.append(N.Interval(X.add(b.lo, a.lo), X.add(b.lo, a.hi), a.srcinfo))
        else:
            out.append(N.Point(X.add(b.lo, a.pt), a.srcinfo))
    return Region(base.root, tuple(out))


def _strides_in(e) -> list:
    match e:
        case N.StrideExpr():
            return [e]
        case N.USub(arg):
            return _strides_in(arg)
        case N.BinOp(_, lhs, rhs):
            return _strides_in(lhs) + _strides_in(rhs)
    return []
