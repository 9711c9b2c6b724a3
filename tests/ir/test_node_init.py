"""knit.ir.nodes._fast_init: every node class's constructor takes the parameters its
dataclass declares, with their defaults, gives a new statement a fresh sid and keeps
a given one; the nodes stay frozen and `dataclasses.replace` works as before."""

from __future__ import annotations

import dataclasses
import inspect

import pytest

from knit.ir import nodes as N, types as T
from knit.ir.srcinfo import NO_SRC, SrcInfo
from knit.ir.sym import Sym

CLASSES = (*N.EXPR_NODES, N.Interval, N.Point, *N.STMT_NODES, N.FnArg)


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_the_parameters_are_the_dataclass_fields(cls):
    params = list(inspect.signature(cls.__init__).parameters.values())[1:]
    fs = [f for f in dataclasses.fields(cls) if f.init]
    assert [p.name for p in params] == [f.name for f in fs]
    for p, f in zip(params, fs):
        if f.default is not dataclasses.MISSING:
            assert p.default is f.default
        elif f.default_factory is dataclasses.MISSING:
            assert p.default is inspect.Parameter.empty


def test_fields_defaults_and_sids():
    i, n = Sym("i"), Sym("n")
    e = N.BinOp("+", N.Read(i, (), T.INDEX), N.Const(1, T.INT), T.INDEX)
    assert (e.op, e.type, e.srcinfo) == ("+", T.INDEX, NO_SRC)
    assert e.lhs == N.Read(i, (), T.INDEX) and e.rhs.val == 1
    where = SrcInfo("f.py", 3)
    a = N.For(i, N.Const(0, T.INT), N.Read(n, (), T.SIZE), (N.Pass(),), "seq", where)
    b = N.For(i, N.Const(0, T.INT), N.Read(n, (), T.SIZE), (N.Pass(),), "seq")
    assert a.srcinfo is where and b.srcinfo is NO_SRC
    assert a.sid != b.sid and b.sid > a.sid  # each a new statement's own, in order
    assert a == b  # positions and sids are not compared
    assert a.with_(mode="par").sid == a.sid == dataclasses.replace(a, mode="par").sid
    assert N.Pass(where, sid=a.sid).sid == a.sid  # a sid given is kept
    w = N.WindowExpr(n, (), T.INDEX)
    assert w.whole is False and N.WindowExpr(n, (), T.INDEX, whole=True).whole is True
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.mode = "par"
    with pytest.raises(TypeError):
        N.Read(i)  # idx and type missing
