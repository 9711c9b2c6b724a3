"""knit.ir.build, the one home of the index-expression and condition builders: the
identities it drops, the types it gives, and that what it builds means what it says
(checked against Python's integers on a small domain)."""

from __future__ import annotations

import itertools

import pytest

from knit.backend.c import windows
from knit.ir import build as B, nodes as N, types as T
from knit.ir.sym import Sym

i, j = Sym("i"), Sym("j")


def _eval(e, env: dict) -> int:
    match e:
        case N.Const(val):
            return val
        case N.Read(name):
            return env[name]
        case N.BinOp("+", a, b):
            return _eval(a, env) + _eval(b, env)
        case N.BinOp("-", a, b):
            return _eval(a, env) - _eval(b, env)
        case N.BinOp("*", a, b):
            return _eval(a, env) * _eval(b, env)
        case N.BinOp("<", a, b):
            return _eval(a, env) < _eval(b, env)
        case N.BinOp("<=", a, b):
            return _eval(a, env) <= _eval(b, env)
        case N.BinOp("and", a, b):
            return _eval(a, env) and _eval(b, env)
    raise AssertionError(f"unexpected {e!r}")


def test_identities_are_dropped():
    x = B.var(i)
    assert B.add(B.const(0), x) is x and B.add(x, B.const(0)) is x
    assert B.sub(x, B.const(0)) is x
    assert B.mul(B.const(1), x) is x and B.mul(x, B.const(1)) is x
    assert B.product([]) == B.const(1)
    assert B.product([x]) is x


def test_nothing_else_is_folded():
    # a rewrite's result prints as built; simplify normalises
    assert B.add(B.const(2), B.const(3)) == N.BinOp("+", B.const(2), B.const(3), T.INDEX)
    assert B.sub(B.const(0), B.var(i)) == N.BinOp("-", B.const(0), B.var(i), T.INDEX)


def test_types():
    assert B.var(i).type == T.INDEX and B.var(i, T.SIZE).type == T.SIZE
    assert B.add(B.var(i), B.var(j)).type == T.INDEX
    stride = N.StrideExpr(j, 0)
    assert B.mul(B.var(i), stride).type == T.STRIDE
    assert B.lt(B.var(i), B.var(j)).type == T.BOOL


def test_and_drops_literal_truths():
    c = B.lt(B.var(i), B.var(j))
    assert B.and_() == N.Const(True, T.BOOL)
    assert B.and_(N.Const(True, T.BOOL), c) is c
    assert B.and_(c, c) == B.cmp("and", c, c)


@pytest.mark.parametrize("vi, vj", list(itertools.product(range(-2, 3), repeat=2)))
def test_what_is_built_means_what_it_says(vi, vj):
    env = {i: vi, j: vj}
    x, y = B.var(i), B.var(j)
    for k in range(-1, 3):
        c = B.const(k)
        assert _eval(B.add(x, c), env) == vi + k
        assert _eval(B.add(c, y), env) == k + vj
        assert _eval(B.sub(x, c), env) == vi - k
        assert _eval(B.mul(c, x), env) == k * vi
        assert _eval(B.product([x, c, y]), env) == vi * k * vj
    assert _eval(B.and_(B.le(x, y), B.lt(y, B.const(2))), env) == (vi <= vj and vj < 2)


def test_the_c_backend_folds_literals_on_top():
    assert windows.add(B.const(2), B.const(3)) == B.const(5)
    assert windows.mul(B.const(2), B.const(3)) == B.const(6)
    assert windows.add(B.var(i), B.const(0)) == B.var(i)
    assert windows.mul(B.var(i), B.var(j)) == B.mul(B.var(i), B.var(j))
