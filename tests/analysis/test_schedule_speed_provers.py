"""The cheap provers added for scheduling speed (issue 9, item 4), each against brute
force on small domains: fastpath.distinct (two instances of one index told apart by a
digit, the race check of a par loop without the solver), and the model search's
disjunctions and reuse of recent models (reachability without z3). Every one is a
sufficient condition: a claim it makes must hold on every point of the domain."""

from __future__ import annotations

import itertools

from hypothesis import given, settings, strategies as st

from knit.analysis import affine as A, effects as E, fastpath, model, smt
from knit.analysis.affine import Lin
from knit.ir import nodes as N, types as T
from knit.ir.sym import Sym

U = [Sym(f"u{k}") for k in range(3)]  # one instance's digits
W = [Sym(f"w{k}") for k in range(3)]  # the other's


def ge(lin: Lin):
    return A.ge0(lin)


def rng(v, lo, hi):  # lo <= v <= hi
    return [ge(Lin({v: 1}, -lo)), ge(Lin({v: -1}, hi))]


@st.composite
def digit_cases(draw):
    """Two instances sum c_k u_k and sum c_k w_k of one index with ranges per digit,
    and a relation between one pair (u < w, u != w as two cases, or none)."""
    n = draw(st.integers(1, 3))
    coeffs = draw(st.lists(st.integers(1, 12), min_size=n, max_size=n, unique=True))
    ranges = [(draw(st.integers(0, 2)), draw(st.integers(0, 4))) for _ in range(n)]
    ranges = [(lo, max(lo, hi)) for lo, hi in ranges]
    facts = []
    for k, (lo, hi) in enumerate(ranges):
        facts += rng(U[k], lo, hi) + rng(W[k], lo, hi)
    k = draw(st.integers(0, n - 1))
    rel = draw(st.sampled_from(["lt", "gt", "none"]))
    if rel == "lt":
        facts.append(ge(Lin({W[k]: 1, U[k]: -1}, -1)))
    elif rel == "gt":
        facts.append(ge(Lin({U[k]: 1, W[k]: -1}, -1)))
    x = Lin({U[j]: c for j, c in enumerate(coeffs)}, draw(st.integers(0, 2)))
    y = Lin({W[j]: c for j, c in enumerate(coeffs)}, x.const)
    return facts, x, y, ranges


@settings(max_examples=400, deadline=None)
@given(digit_cases())
def test_distinct_never_claims_two_instances_may_not_meet_when_they_can(case):
    facts, x, y, ranges = case
    table = smt.Facts().add(*facts).table()
    if not fastpath.distinct(table, x, y):
        return
    vs = [v for k in range(len(ranges)) for v in (U[k], W[k])]
    doms = [range(lo - 1, hi + 2) for lo, hi in ranges for _ in (0, 1)]
    for vals in itertools.product(*doms):
        env = dict(zip(vs, vals))
        if all(A.eval_formula(f, env) for f in facts):
            assert A.eval_lin(x, env) != A.eval_lin(y, env), env


def test_distinct_proves_a_mixed_radix_index_and_refuses_an_overlapping_one():
    # 32 jt + 16 i2 + i, i < 16, i2 < 2, jt < 2, jt1 < jt2: two iterations never meet
    i, i2, jt = U
    j, j2, jt_ = W
    facts = (rng(i, 0, 15) + rng(j, 0, 15) + rng(i2, 0, 1) + rng(j2, 0, 1)
             + rng(jt, 0, 1) + rng(jt_, 0, 1) + [ge(Lin({jt_: 1, jt: -1}, -1))])
    table = smt.Facts().add(*facts).table()
    assert fastpath.distinct(table, Lin({jt: 32, i2: 16, i: 1}), Lin({jt_: 32, j2: 16, j: 1}))
    # a digit 16 under i < 17 overlaps: 16 * 1 + 0 == 16 * 0 + 16, not shown
    wide = smt.Facts().add(*(rng(i, 0, 16) + rng(j, 0, 16) + rng(i2, 0, 1) + rng(j2, 0, 1)
                             + [ge(Lin({j2: 1, i2: -1}, -1))])).table()
    assert not fastpath.distinct(wide, Lin({i2: 16, i: 1}), Lin({j2: 16, j: 1}))
    # no pair proven different: nothing shown
    loose = smt.Facts().add(*(rng(i, 0, 15) + rng(j, 0, 15))).table()
    assert not fastpath.distinct(loose, Lin({i: 1}), Lin({j: 1}))


@settings(max_examples=400, deadline=None)
@given(digit_cases(), st.booleans())
def test_distinct_with_an_unbounded_greatest_digit_never_claims_what_fails(case, lower):
    # the greatest digit without bounds (or with only a lower one): a claim must hold for
    # every value of it, sampled on a window well past the smaller digits' ranges
    facts, x, y, ranges = case
    top = max(range(len(ranges)), key=lambda k: x.terms[U[k]])
    free = {U[top], W[top]}
    facts = [f for f in facts if not (A.formula_vars(f) <= free and len(A.formula_vars(f)) == 1)]
    if lower:
        facts += [ge(Lin({U[top]: 1})), ge(Lin({W[top]: 1}))]
    table = smt.Facts().add(*facts).table()
    if not fastpath.distinct(table, x, y):
        return
    vs = [v for k in range(len(ranges)) for v in (U[k], W[k])]
    doms = [range(-6, 12) if k == top else range(lo - 1, hi + 2)
            for k, (lo, hi) in enumerate(ranges) for _ in (0, 1)]
    for vals in itertools.product(*doms):
        env = dict(zip(vs, vals))
        if all(A.eval_formula(f, env) for f in facts):
            assert A.eval_lin(x, env) != A.eval_lin(y, env), env


def test_distinct_needs_no_bound_on_the_greatest_digit():
    # a row of C dealt out to two threads: i + 6 t + 12 q + 252 ic, i < 6, t < 2, q < 21,
    # ic unbounded (the MC blocks of M), t1 < t2: the threads never meet (was a z3 query)
    (i, t, q), (j, t_, q_) = U, W
    ic, ic_ = Sym("ic1"), Sym("ic2")
    digits = rng(i, 0, 5) + rng(j, 0, 5) + rng(t, 0, 1) + rng(t_, 0, 1) + rng(q, 0, 20) \
        + rng(q_, 0, 20) + [ge(Lin({ic: 1})), ge(Lin({ic_: 1}))]
    facts = digits + [ge(Lin({t_: 1, t: -1}, -1))]
    table = smt.Facts().add(*facts).table()
    assert fastpath.distinct(table, Lin({i: 1, t: 6, q: 12, ic: 252}),
                             Lin({j: 1, t_: 6, q_: 12, ic_: 252}))
    # a greatest digit no greater than the rest can add up to (251): not shown
    # (i = 0, t = 0, q = 20, ic = 1 meets i = 5, t = 1, q = 20, ic = 0 at 491 -- or not;
    # the argument does not apply, so it claims nothing)
    assert not fastpath.distinct(table, Lin({i: 1, t: 6, q: 12, ic: 251}),
                                 Lin({j: 1, t_: 6, q_: 12, ic_: 251}))
    # a smaller digit unbounded: not shown (q unbounded makes 12 q reach anything)
    loose = smt.Facts().add(*[f for f in facts if q not in A.formula_vars(f)]).table()
    assert not fastpath.distinct(loose, Lin({i: 1, t: 6, q: 12, ic: 252}),
                                 Lin({j: 1, t_: 6, q_: 12, ic_: 252}))


def test_race_check_still_finds_the_overlapping_race():
    # for t in par(0, 2): A[16 t + k] = 0, k < 17: iterations t and t+1 both write A[16]
    t, k = Sym("t"), Sym("k")
    tv, kv = N.Read(t, (), T.INDEX), N.Read(k, (), T.INDEX)
    a = Sym("A")

    def c(v):
        return N.Const(v, T.INT)

    idx = N.BinOp("+", N.BinOp("*", c(16), tv, T.INDEX), kv, T.INDEX)
    body = (N.For(k, c(0), c(17), (N.Assign(a, T.F32, (idx,), N.Const(0.0, T.F32)),), "seq"),)
    loop = N.For(t, c(0), c(2), body, "par")
    assert E.race(loop, [], E.accesses(loop.body)) is not None
    ok = N.For(k, c(0), c(16), body[0].body, "seq")
    assert E.race(loop.with_(body=(ok,)), [], E.accesses((ok,))) is None


def test_model_search_tries_each_side_of_a_disjunction():
    # K >= 256, (M + N + K <= 192 or N <= 63), N / 32 >= 1: only N in 32..63 works, which
    # no bound of a linear fact proposes
    m_, n_, k_ = Sym("M"), Sym("N"), Sym("K")
    fs = [ge(Lin({k_: 1}, -256)), ge(Lin({m_: 1}, -1)), ge(Lin({n_: 1}, -1)),
          A.disj([ge(Lin({m_: -1, n_: -1, k_: -1}, 192)), ge(Lin({n_: -1}, 63))]),
          ge(Lin({A.Div(Lin({n_: 1}), 32): 1}, -1))]
    env = model.find_model(fs)
    assert env is not None and set(env) == {m_, n_, k_}
    assert all(A.eval_formula(f, env) for f in fs)


def test_model_search_reuses_a_recent_model_only_when_it_satisfies_everything():
    a, b = Sym("a"), Sym("b")
    first = model.find_model([ge(Lin({a: 1}, -3)), ge(Lin({b: 1}, -5))])
    assert first is not None
    again = model.find_model([ge(Lin({a: 1}, -3))])
    assert again is not None and A.eval_formula(ge(Lin({a: 1}, -3)), again)
    # a recent model that breaks a new fact is not taken: a's value must move
    tight = [ge(Lin({a: -1}, first[a] - 1)), ge(Lin({a: 1}, -(first[a] - 1)))]
    out = model.find_model(tight)
    assert out is not None and out[a] == first[a] - 1
    assert model.find_model([ge(Lin({a: 1}, -3)), ge(Lin({a: -1}, 2))]) is None  # unsat


def test_distinct_tries_the_related_pair_first(monkeypatch):
    # 16 u1 + u0 against 16 w1 + w0 with u1 < w1: the pair (u1, w1) tells the two apart;
    # its searches come first, before the pair (u0, w0) that no fact relates
    facts = rng(U[0], 0, 15) + rng(W[0], 0, 15) + rng(U[1], 0, 3) + rng(W[1], 0, 3) \
        + [ge(Lin({W[1]: 1, U[1]: -1}, -1))]
    table = smt.Facts().add(*facts).table()
    asked = []
    search = fastpath.nonneg
    monkeypatch.setattr(fastpath, "nonneg", lambda t, x: asked.append(x) or search(t, x))
    assert fastpath.distinct(table, Lin({U[0]: 1, U[1]: 16}), Lin({W[0]: 1, W[1]: 16}))
    assert set(asked[0].terms) == {U[1], W[1]}
    assert all(set(x.terms) == {U[1], W[1]} for x in asked)  # proven by that pair alone


@settings(max_examples=300, deadline=None)
@given(digit_cases())
def test_distinct_answers_alike_in_any_order_of_the_digits(case):
    facts, x, y, _ = case
    first = fastpath.distinct(smt.Facts().add(*facts).table(), x, y)
    keep = fastpath._related_first
    try:  # the digits in the order the difference lists them
        fastpath._related_first = lambda table, pos, neg: list(pos)
        assert fastpath.distinct(smt.Facts().add(*facts).table(), x, y) == first
        fastpath._related_first = lambda table, pos, neg: list(reversed(pos))
        assert fastpath.distinct(smt.Facts().add(*facts).table(), x, y) == first
    finally:
        fastpath._related_first = keep
