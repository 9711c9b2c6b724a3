"""The knit IR: immutable trees of frozen dataclasses. A rewrite builds new nodes.

Grammar (kept in sync with the classes below by tests/ir/test_nodes.py):

    proc    ::= Proc(name, args: FnArg*, preds: expr*, body: stmt*, instr: InstrInfo?)
    FnArg   ::= FnArg(name: Sym, type, mem)
    stmt    ::= Assign(name, type, idx: expr*, rhs: expr)
              | Reduce(name, type, idx: expr*, rhs: expr)
              | WriteConfig(config, field, rhs: expr)
              | Pass()
              | If(cond: expr, body: stmt*, orelse: stmt*)
              | For(iter: Sym, lo: expr, hi: expr, body: stmt*, mode)
              | Alloc(name: Sym, type, mem)
              | Call(f: Proc, args: expr*)
              | WindowStmt(name: Sym, rhs: WindowExpr)
    expr    ::= Read(name, idx: expr*, type)
              | Const(val, type)
              | USub(arg: expr, type)
              | BinOp(op, lhs: expr, rhs: expr, type)
              | Extern(f, args: expr*, type)
              | WindowExpr(name, idx: waccess*, type, whole: bool)
              | StrideExpr(name, dim, type)
              | ReadConfig(config, field, type)
    waccess ::= Interval(lo: expr, hi: expr) | Point(pt: expr)

Every node ends with `srcinfo` (statements then with `sid`, their identity across
rewrites); both are excluded from equality. Variables are
`Sym`s (identity), so equality of two trees is syntactic equality with binding
respected; `knit.ir.visit.alpha_eq` compares modulo renaming of bound symbols.
"""

from __future__ import annotations

import itertools
from dataclasses import MISSING, dataclass, field, fields, replace
from operator import attrgetter
from typing import Any

from knit.ir.srcinfo import NO_SRC, SrcInfo
from knit.ir.sym import Sym
from knit.ir.types import BOOL, INT, STRIDE, ScalarT, TensorT, Type

_node = dataclass(frozen=True, slots=True)


def _src() -> Any:
    return field(default=NO_SRC, compare=False, repr=False)


_sids = itertools.count(1)


def _sid() -> Any:
    """A statement's identity across rewrites: `with_` keeps it, a constructor makes a new
    one. Cursors are forwarded through rewrites by it. Excluded from equality."""
    return field(default_factory=lambda: next(_sids), compare=False, repr=False)


# ---------------------------------------------------------------- expressions


def rebuild(node, changes: dict):
    """dataclasses.replace(node, **changes), without its per-call walk over the fields'
    metadata (a rewrite builds nodes by the hundred thousand): the constructor gets every
    field, the changed ones from `changes`."""
    cls = type(node)
    hit = _INIT_FIELDS.get(cls)
    if hit is None:
        names = tuple(f.name for f in fields(cls) if f.init)
        hit = _INIT_FIELDS[cls] = (attrgetter(*names) if len(names) > 1 else
                                   (lambda n, name=names[0]: (getattr(n, name),)),
                                   {name: i for i, name in enumerate(names)})
    values, position = hit
    args = list(values(node))  # every field's value at once, the changed ones replaced
    for name, value in changes.items():
        i = position.get(name)
        if i is None:  # an unknown field: replace's own error
            return replace(node, **changes)
        args[i] = value
    return cls(*args)


# node class -> (a getter of its init fields' values in order, field name -> position)
_INIT_FIELDS: dict[type, tuple] = {}


class Expr:
    # _h: the node's hash, computed when first asked (see _cache_hash)
    __slots__ = ("_h",)

    def with_(self, **changes):
        return rebuild(self, changes)

    def __str__(self):
        # the expression as code, as Exo's IR prints (Exo's stdlib reads
        # `proc.INTERNAL_proc().preds` this way); repr() stays the dataclass's
        from knit.ir.printer import expr_str

        return expr_str(self)


@_node
class Read(Expr):
    name: Sym
    idx: tuple[Expr, ...]
    type: Type
    srcinfo: SrcInfo = _src()


@_node
class Const(Expr):
    val: Any  # int, float or bool
    type: ScalarT
    srcinfo: SrcInfo = _src()


@_node
class USub(Expr):
    arg: Expr
    type: ScalarT
    srcinfo: SrcInfo = _src()


@_node
class BinOp(Expr):
    op: str  # + - * / % < > <= >= == and or
    lhs: Expr
    rhs: Expr
    type: ScalarT
    srcinfo: SrcInfo = _src()


@_node
class Extern(Expr):
    f: Any  # a knit.libs.externs.Extern
    args: tuple[Expr, ...]
    type: ScalarT
    srcinfo: SrcInfo = _src()


class _WAccess:
    __slots__ = ("_h",)  # as Expr's


@_node
class Interval(_WAccess):
    lo: Expr
    hi: Expr
    srcinfo: SrcInfo = _src()


@_node
class Point(_WAccess):
    pt: Expr
    srcinfo: SrcInfo = _src()


WAccess = Interval | Point


@_node
class WindowExpr(Expr):
    name: Sym
    idx: tuple[WAccess, ...]
    type: TensorT  # always a window type: the shape of the slice
    srcinfo: SrcInfo = _src()
    # written as the bare name (`f(x)` for a window parameter): idx is then the window of
    # all of x, which every consumer reads; only the printer looks at `whole`, to print
    # `x` back. Not part of equality: `f(x)` and `f(x[0:n])` mean the same.
    whole: bool = field(default=False, compare=False, repr=False)

    def with_(self, **changes):
        # still the whole buffer only if it names the same buffer through intervals from 0
        # (a substituted size keeps it whole; composing with another window does not)
        if self.whole and "whole" not in changes:
            name = changes.get("name", self.name)
            idx = changes.get("idx", self.idx)
            changes["whole"] = name == self.name and len(idx) == len(self.idx) and all(
                isinstance(w, Interval) and isinstance(w.lo, Const) and w.lo.val == 0
                for w in idx)
        return rebuild(self, changes)


@_node
class StrideExpr(Expr):
    name: Sym
    dim: int
    type: ScalarT = STRIDE
    srcinfo: SrcInfo = _src()


@_node
class ReadConfig(Expr):
    config: Any  # a knit.Config
    field: str
    type: ScalarT
    srcinfo: SrcInfo = _src()


# ---------------------------------------------------------------- statements


class Stmt:
    __slots__ = ()

    def with_(self, **changes):
        return rebuild(self, changes)


@_node
class Assign(Stmt):
    name: Sym
    type: ScalarT  # the element type of the buffer written
    idx: tuple[Expr, ...]
    rhs: Expr
    srcinfo: SrcInfo = _src()
    sid: int = _sid()


@_node
class Reduce(Stmt):
    name: Sym
    type: ScalarT
    idx: tuple[Expr, ...]
    rhs: Expr
    srcinfo: SrcInfo = _src()
    sid: int = _sid()


@_node
class WriteConfig(Stmt):
    config: Any
    field: str
    rhs: Expr
    srcinfo: SrcInfo = _src()
    sid: int = _sid()


@_node
class Pass(Stmt):
    srcinfo: SrcInfo = _src()
    sid: int = _sid()


@_node
class If(Stmt):
    cond: Expr
    body: tuple[Stmt, ...]
    orelse: tuple[Stmt, ...]
    srcinfo: SrcInfo = _src()
    sid: int = _sid()


@_node
class For(Stmt):
    iter: Sym
    lo: Expr
    hi: Expr
    body: tuple[Stmt, ...]
    mode: str  # "seq" or "par"
    srcinfo: SrcInfo = _src()
    sid: int = _sid()


@_node
class Alloc(Stmt):
    name: Sym
    type: Type
    mem: Any  # a Memory subclass
    srcinfo: SrcInfo = _src()
    sid: int = _sid()


@_node
class Call(Stmt):
    f: Proc
    args: tuple[Expr, ...]
    srcinfo: SrcInfo = _src()
    sid: int = _sid()


@_node
class WindowStmt(Stmt):
    name: Sym
    rhs: WindowExpr
    srcinfo: SrcInfo = _src()
    sid: int = _sid()


# ---------------------------------------------------------------- procedures


@_node
class FnArg:
    name: Sym
    type: Type
    mem: Any  # a Memory subclass for tensors and real scalars, None for control args
    srcinfo: SrcInfo = _src()


@_node
class InstrInfo:
    c_instr: str
    c_global: str


@dataclass(frozen=True, slots=True, eq=False)  # procedures compare by identity
class Proc:
    name: str
    args: tuple[FnArg, ...]
    preds: tuple[Expr, ...]
    body: tuple[Stmt, ...]
    instr: InstrInfo | None = None
    srcinfo: SrcInfo = _src()

    def with_(self, **changes) -> Proc:
        return replace(self, **changes)


EXPR_NODES = (Read, Const, USub, BinOp, Extern, WindowExpr, StrideExpr, ReadConfig)
STMT_NODES = (Assign, Reduce, WriteConfig, Pass, If, For, Alloc, Call, WindowStmt)


_set = object.__setattr__  # (frozen dataclasses refuse their own __setattr__)


def _cache_hash(cls) -> None:
    """Give `cls` the hash its dataclass would (of the fields equality compares),
    remembered in the node: expressions are immutable, and the same ones are hashed
    again and again as parts of keys (an access's indices, the facts at a statement,
    ...), which walked the whole tree each time."""
    get = attrgetter(*[f.name for f in fields(cls) if f.compare])
    one = len([f for f in fields(cls) if f.compare]) == 1

    def __hash__(self) -> int:
        h = getattr(self, "_h", None)  # (not try/except: most nodes are hashed once)
        if h is None:
            h = hash((get(self),) if one else get(self))
            _set(self, "_h", h)
        return h

    cls.__hash__ = __hash__


for _cls in (*EXPR_NODES, Interval, Point):
    _cache_hash(_cls)


_NO_SID = object()  # `sid` not given: a new statement's own


def _fast_init(cls) -> None:
    """Give `cls` the constructor its dataclass generated -- the same parameters and
    defaults, a fresh sid when none is given -- that stores each field through its
    slot's own setter instead of looking `object.__setattr__` and then the slot up by
    name per field: rewrites and analyses build nodes by the hundred thousand (the
    GEMM schedule: 608,466; 0.59 -> 0.35 us for a BinOp)."""
    env: dict = {"_NO_SID": _NO_SID, "_sids": _sids}
    params, lines = [], []
    for f in fields(cls):
        env[f"_set_{f.name}"] = cls.__dict__[f.name].__set__
        if f.default is not MISSING:
            env[f"_d_{f.name}"] = f.default
            params.append(f"{f.name}=_d_{f.name}")
        elif f.default_factory is not MISSING:  # only a statement's sid has one
            assert f.name == "sid", (cls, f.name)
            params.append("sid=_NO_SID")
            lines.append("    if sid is _NO_SID: sid = next(_sids)")
        else:
            params.append(f.name)
        lines.append(f"    _set_{f.name}(self, {f.name})")
    src = f"def __init__(self, {', '.join(params)}):\n" + "\n".join(lines) + "\n"
    exec(src, env)
    init = env["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    cls.__init__ = init


for _cls in (*EXPR_NODES, Interval, Point, *STMT_NODES, FnArg):
    _fast_init(_cls)


def child_fields(node) -> list[str]:
    """Names of the fields of `node` that hold IR (expressions, statements, accesses)."""
    return [f.name for f in fields(node) if f.name not in _LEAF_FIELDS]


_LEAF_FIELDS = {"name", "type", "val", "op", "f", "field", "config", "mem", "mode", "iter",
                "dim", "srcinfo", "instr", "sid"}


def const(val, typ: ScalarT = INT, srcinfo: SrcInfo = NO_SRC) -> Const:
    return Const(val, typ, srcinfo)


def true(srcinfo: SrcInfo = NO_SRC) -> Const:
    return Const(True, BOOL, srcinfo)
