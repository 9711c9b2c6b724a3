"""smt.Facts.add: the same facts added to the same Facts give the same (immutable)
object, so its bound table and token are built once; other facts, or another parent,
another object; the answers are those of facts built apart."""

from __future__ import annotations

from knit.analysis import affine as A, smt
from knit.ir.sym import Sym


def _ge(x: Sym, k: int):
    return A.ge0(A.Lin({x: 1}, -k))


def test_the_same_facts_added_to_the_same_facts_are_one_object():
    i, n = Sym("i"), Sym("n")
    a = smt.Facts().add(_ge(n, 1))
    b = smt.Facts().add(_ge(n, 1))  # another empty root: the same result
    assert a is b
    assert a.add(_ge(i, 0)) is b.add(_ge(i, 0))
    assert a.add(_ge(i, 1)) is not a.add(_ge(i, 0))  # other facts
    c = smt.Facts().add(_ge(n, 2))
    assert c.add(_ge(i, 0)) is not a.add(_ge(i, 0))  # another parent
    assert a.add(_ge(n, 1)) is a  # nothing new


def test_shared_facts_answer_as_facts_built_apart():
    i, n = Sym("i"), Sym("n")
    shared = smt.Facts().add(_ge(n, 1)).add(_ge(i, 3))
    assert smt.prove(shared, _ge(i, 2))
    assert not smt.prove(shared, _ge(i, 4))
    apart = smt.Facts((( _ge(n, 1), frozenset({n})), (_ge(i, 3), frozenset({i}))))
    assert smt.prove(apart, _ge(i, 2)) and not smt.prove(apart, _ge(i, 4))
    assert shared.formulas() == apart.formulas()
