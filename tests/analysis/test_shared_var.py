"""analysis.exprs.shared_var: one read node per (variable, type), so that the facts the
checks build at each loop (`lo <= i`, `i < hi`) are the same objects after every rewrite
that kept the loop, and their comparisons' formulas are remembered by identity."""

from __future__ import annotations

from knit.analysis import affine as A, exprs as X
from knit.ir import nodes as N, types as T
from knit.ir.sym import Sym


def test_one_node_per_variable_and_type():
    i, j = Sym("i"), Sym("i")  # the same name, another variable
    a = X.shared_var(i)
    assert a is X.shared_var(i) and a is X.shared_var(i, T.INDEX)
    assert a == X.var(i) and a.type == T.INDEX and a.idx == ()
    assert X.shared_var(j) is not a and X.shared_var(j) != a  # variables by identity
    assert X.shared_var(i, T.SIZE) is not a and X.shared_var(i, T.SIZE).type == T.SIZE


def test_a_comparison_around_it_is_remembered():
    i, n = Sym("i"), Sym("n")
    hi = N.Read(n, (), T.SIZE)
    first = A.formula_of(X.cmp("<", X.shared_var(i), hi))
    again = A.formula_of(X.cmp("<", X.shared_var(i), hi))  # a new comparison node
    assert again is first  # remembered by its operands' identity
    assert A.formula_of(X.cmp("<", X.var(i), hi)) == first  # a fresh read: equal, anew
