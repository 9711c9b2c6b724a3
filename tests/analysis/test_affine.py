"""The quasi-affine normal form against brute-force evaluation on small domains."""

from __future__ import annotations

import itertools

from hypothesis import given, settings, strategies as st

from knit.analysis import affine as A
from knit.ir import nodes as N, types as T
from knit.ir.sym import Sym

VARS = [Sym("a"), Sym("b"), Sym("c")]
DOMAIN = range(-4, 5)


def read(s):
    return N.Read(s, (), T.INDEX)


def lit(v):
    return N.Const(v, T.INT)


def _combine(children):
    binop = st.tuples(st.sampled_from(["+", "-"]), children, children).map(
        lambda t: N.BinOp(t[0], t[1], t[2], T.INDEX))
    scale = st.tuples(st.integers(-4, 4), children).map(
        lambda t: N.BinOp("*", lit(t[0]), t[1], T.INDEX))
    divmod_ = st.tuples(st.sampled_from(["/", "%"]), children, st.integers(1, 5)).map(
        lambda t: N.BinOp(t[0], t[1], lit(t[2]), T.INDEX))
    neg = children.map(lambda e: N.USub(e, T.INDEX))
    return binop | scale | divmod_ | neg


index_exprs = st.recursive(
    st.sampled_from(VARS).map(read) | st.integers(-6, 6).map(lit), _combine, max_leaves=8)


def _logic(children):
    return st.tuples(st.sampled_from(["and", "or"]), children, children).map(
        lambda t: N.BinOp(t[0], t[1], t[2], T.BOOL))


comparisons = st.tuples(st.sampled_from(["<", "<=", ">", ">=", "=="]), index_exprs,
                        index_exprs).map(lambda t: N.BinOp(t[0], t[1], t[2], T.BOOL))
bool_exprs = st.recursive(comparisons, _logic, max_leaves=4)


def py_eval(e, env):
    """Reference semantics, written independently of knit: floor division and modulo."""
    match e:
        case N.Const(v):
            return v
        case N.Read(s):
            return env[s]
        case N.USub(x):
            return -py_eval(x, env)
        case N.BinOp(op, lhs, rhs):
            x, y = py_eval(lhs, env), py_eval(rhs, env)
            return {"+": lambda: x + y, "-": lambda: x - y, "*": lambda: x * y,
                    "/": lambda: x // y, "%": lambda: x % y, "<": lambda: x < y,
                    "<=": lambda: x <= y, ">": lambda: x > y, ">=": lambda: x >= y,
                    "==": lambda: x == y, "and": lambda: x and y, "or": lambda: x or y}[op]()
    raise TypeError(e)


def envs():
    for vals in itertools.product(DOMAIN, repeat=len(VARS)):
        yield dict(zip(VARS, vals))


@settings(max_examples=100, deadline=None)
@given(index_exprs)
def test_linear_form_evaluates_like_the_expression(e):
    x = A.lin_of(e)
    for env in envs():
        assert A.eval_lin(x, env) == py_eval(e, env)


@settings(max_examples=100, deadline=None)
@given(bool_exprs)
def test_formula_evaluates_like_the_expression(e):
    f = A.formula_of(e)
    for env in envs():
        assert A.eval_formula(f, env) == py_eval(e, env)


@settings(max_examples=100, deadline=None)
@given(bool_exprs)
def test_negation_is_the_complement(e):
    f = A.formula_of(e)
    g = A.negate(f)
    for env in envs():
        assert A.eval_formula(g, env) == (not A.eval_formula(f, env))


def test_equal_expressions_get_equal_forms():
    a, b = read(VARS[0]), read(VARS[1])
    e1 = N.BinOp("+", N.BinOp("*", lit(2), a, T.INDEX), b, T.INDEX)
    e2 = N.BinOp("-", N.BinOp("+", b, N.BinOp("*", lit(3), a, T.INDEX), T.INDEX), a, T.INDEX)
    assert A.lin_of(e1) == A.lin_of(e2) and hash(A.lin_of(e1)) == hash(A.lin_of(e2))


def test_division_pulls_out_multiples():
    a = read(VARS[0])
    # (4a + 8) / 4 = a + 2 and (4a + 9) % 4 = 1: multiples of the divisor come out
    e = N.BinOp("/", N.BinOp("+", N.BinOp("*", lit(4), a, T.INDEX), lit(8), T.INDEX), lit(4),
                T.INDEX)
    assert A.lin_of(e) == A.Lin({VARS[0]: 1}, 2)
    m = N.BinOp("%", N.BinOp("+", N.BinOp("*", lit(4), a, T.INDEX), lit(9), T.INDEX), lit(4),
                T.INDEX)
    assert A.lin_of(m) == A.Lin(const=1)


def test_comparisons_are_tightened_over_integers():
    a = read(VARS[0])
    # 2a >= 1  <=>  a >= 1 over the integers
    f = A.formula_of(N.BinOp(">=", N.BinOp("*", lit(2), a, T.INDEX), lit(1), T.BOOL))
    assert f == ("ge", A.Lin({VARS[0]: 1}, -1))
    # 2a == 1 has no integer solution
    assert A.formula_of(N.BinOp("==", N.BinOp("*", lit(2), a, T.INDEX), lit(1), T.BOOL)) \
        == A.FALSE


def test_data_is_not_affine():
    x = N.Read(Sym("x"), (lit(0),), T.F32)
    try:
        A.lin_of(x)
    except A.NotAffine:
        return
    raise AssertionError("a data read has no linear form")
