"""The solver layer: soundness of the fast path and of prove() against brute force,
caching, counterexamples, and what "unknown" means."""

from __future__ import annotations

import itertools
import subprocess
import sys

import pytest
from hypothesis import given, settings, strategies as st

from knit.analysis import affine as A, fastpath, smt
from knit.ir import nodes as N, types as T
from knit.ir.sym import Sym

n_, i_, j_ = Sym("n"), Sym("i"), Sym("j")
N_, I, J = (N.Read(s, (), t) for s, t in ((n_, T.SIZE), (i_, T.INDEX), (j_, T.INDEX)))
VARS = [n_, i_, j_]
RLIMIT0 = smt.RLIMIT
DOMAIN = range(-6, 13)


def lit(v):
    return N.Const(v, T.INT)


def op(o, a, b):
    typ = T.BOOL if o in ("<", "<=", ">", ">=", "==", "and", "or") else T.INDEX
    return N.BinOp(o, a, b, typ)


def envs():
    for vals in itertools.product(DOMAIN, repeat=len(VARS)):
        yield dict(zip(VARS, vals))


def holds_on_domain(facts, goal) -> bool:
    fs = [smt.formula(f) for f in facts]
    g = smt.formula(goal)
    return all(A.eval_formula(g, env) for env in envs()
               if all(A.eval_formula(f, env) for f in fs))


# facts shaped like a checker's: n >= 1, maybe an assert on n, loop ranges for i and j
terms = st.sampled_from([lit(0), lit(1), lit(3), N_, op("-", N_, lit(1)), op("/", N_, lit(4)),
                         op("%", N_, lit(3)), I, op("+", I, lit(1)), op("*", lit(2), I),
                         op("-", N_, I), op("/", I, lit(2))])
asserts = st.sampled_from([None, op(">=", N_, lit(4)), op("==", op("%", N_, lit(4)), lit(0)),
                           op("<=", N_, lit(8))])


@st.composite
def scenarios(draw):
    facts = [op(">=", N_, lit(1))]
    pred = draw(asserts)
    if pred is not None:
        facts.append(pred)
    facts += [op("<=", draw(st.sampled_from([lit(0), lit(1)])), I),
              op("<", I, draw(st.sampled_from([N_, op("/", N_, lit(4)), op("-", N_, lit(2))])))]
    if draw(st.booleans()):
        facts += [op("<=", lit(0), J), op("<", J, draw(st.sampled_from([lit(4), I, N_])))]
    goal = op(draw(st.sampled_from(["<", "<=", ">=", "=="])), draw(terms),
              op("+", draw(terms), draw(st.sampled_from([J, lit(0), lit(-1)]))))
    return facts, goal


@settings(max_examples=300, deadline=None)
@given(scenarios())
def test_fast_path_never_proves_a_false_goal(sc):
    facts, goal = sc
    table = smt.Facts().add(*facts).table()
    if fastpath.proves(table, smt.formula(goal)):
        assert holds_on_domain(facts, goal)


@settings(max_examples=80, deadline=None)
@given(scenarios())
def test_prove_agrees_with_brute_force(sc):
    facts, goal = sc
    proven = smt.prove(facts, goal)
    if proven:
        assert holds_on_domain(facts, goal)
    elif not holds_on_domain(facts, goal):
        ce = smt.counterexample(facts, goal)
        assert ce is not None
        env = {v: ce.value(v) for v in VARS}
        assert all(A.eval_formula(smt.formula(f), env) for f in facts)
        assert not A.eval_formula(smt.formula(goal), env)


@settings(max_examples=60, deadline=None)
@given(scenarios())
def test_expecting_a_proof_gives_the_same_answers(sc):
    # (the quick searches skipped, straight to z3: eliminate_dead_stores' queries)
    facts, goal = sc
    with smt.expecting_proof():  # (an extra fact each: neither answer read from a cache)
        proven = smt.prove([*facts, op(">=", N_, lit(-100))], goal)
    assert not smt._local.expect_proof
    assert proven == smt.prove([*facts, op(">=", N_, lit(-101))], goal)
    if proven:
        assert holds_on_domain(facts, goal)


def test_a_query_z3_gave_up_on_while_expecting_a_proof_is_proven_outside():
    # (the review: the give-up was remembered for the query, which the fast path,
    # skipped while expecting a proof, proves)
    facts = [op("<=", lit(1), N_), op("<=", lit(0), I), op("<", I, N_)]
    goal = op("<", I, op("+", N_, lit(1)))
    try:
        smt.set_rlimit(1)  # z3 gives up on everything
        with smt.expecting_proof():
            assert not smt.prove(facts, goal)
        assert smt.prove(facts, goal)
    finally:
        smt.set_rlimit(RLIMIT0)


def test_fast_path_handles_loop_nests_and_divisibility():
    facts = smt.Facts().add(op(">=", N_, lit(1)), op("==", op("%", N_, lit(4)), lit(0)),
                            op("<=", lit(0), I), op("<", I, op("/", N_, lit(4))),
                            op("<=", lit(0), J), op("<", J, lit(4)))
    table = facts.table()
    four_i_j = op("+", op("*", lit(4), I), J)
    assert fastpath.proves(table, smt.formula(op("<", four_i_j, N_)))
    assert fastpath.proves(table, smt.formula(op(">=", four_i_j, lit(0))))
    last = op("-", op("*", lit(4), op("/", N_, lit(4))), lit(1))
    assert fastpath.proves(table, smt.formula(op(">=", last, lit(0))))
    assert not fastpath.proves(table, smt.formula(op("<", op("+", four_i_j, lit(1)), N_)))


def test_queries_are_cached():
    facts = smt.Facts().add(op(">=", N_, lit(1)), op("<=", lit(0), I), op("<", I, N_),
                            op("==", op("%", N_, lit(3)), lit(1)))
    goal = op("<", op("+", I, lit(1)), N_)  # false: not syntactic (a model or z3 decides)
    smt.clear_cache()
    smt.reset_stats()
    assert not smt.prove(facts, goal)
    assert not smt.prove(facts, goal)
    again = smt.Facts().add(op(">=", N_, lit(1)), op("<=", lit(0), I), op("<", I, N_),
                            op("==", op("%", N_, lit(3)), lit(1)))
    assert not smt.prove(again, goal)  # equal facts built anew hit the same entry
    st_ = smt.stats()
    assert st_["z3"] + st_["model"] == 1 and st_["cached"] + st_["repeated"] == 2, st_


def test_irrelevant_facts_do_not_split_the_cache():
    k = Sym("k")
    K = N.Read(k, (), T.INDEX)
    base = [op(">=", N_, lit(1)), op("<=", lit(0), I), op("<", I, N_)]
    goal = op("<", op("*", lit(2), I), op("+", N_, I))  # needs z3? 2i < n + i <=> i < n
    smt.clear_cache()
    smt.reset_stats()
    smt.prove(base, goal)
    smt.prove(base + [op("<", K, lit(5))], goal)
    assert smt.stats()["z3"] <= 1


def test_unknown_is_not_proven_and_says_the_solver_gave_up():
    x, y, z = (N.Read(Sym(c), (), T.STRIDE) for c in "xyz")
    # x^3 + y^3 != z^3 for positive integers: true, but far beyond z3's nonlinear reach
    cube = lambda v: op("*", v, op("*", v, v))  # noqa: E731
    facts = [op(">=", v, lit(1)) for v in (x, y, z)]
    goal = op("or", op("<", op("+", cube(x), cube(y)), cube(z)),
              op(">", op("+", cube(x), cube(y)), cube(z)))
    old = smt.RLIMIT
    try:
        smt.set_rlimit(20_000)
        for _ in range(2):  # asked again, the cached answer still says why
            assert smt.prove(facts, goal) is False
            assert "work limit of 20,000 units ran out" in smt.gave_up()
        assert smt.counterexample(facts, goal) is None
        assert "work limit" in smt.take_gave_up()
        assert smt.gave_up() is None  # taken
        assert smt.prove([op(">=", x, lit(1))], op(">=", x, lit(0)))
        assert smt.gave_up() is None  # an answered query clears it
    finally:
        smt.set_rlimit(old)


def test_the_work_limit_is_deterministic_not_a_clock():
    """Under z3's rlimit the same query gets the same answer however loaded the machine
    and whatever was asked before (a fresh solver per query)."""
    x, y, z = (N.Read(Sym(c), (), T.STRIDE) for c in "xyz")
    cube = lambda v: op("*", v, op("*", v, v))  # noqa: E731
    facts = [op(">=", v, lit(1)) for v in (x, y, z)]
    goal = op("or", op("<", op("+", cube(x), cube(y)), cube(z)),
              op(">", op("+", cube(x), cube(y)), cube(z)))
    old, answers = smt.RLIMIT, []
    try:
        for _ in range(3):
            smt.set_rlimit(5_000)  # also empties the cache, so z3 runs each time
            answers.append((smt.prove(facts, goal), smt.gave_up()))
            smt.prove([op(">=", x, lit(2))], op(">=", x, lit(1)))  # history between
    finally:
        smt.set_rlimit(old)
    assert answers[0] == answers[1] == answers[2]
    assert answers[0][1] is not None  # this limit is too small for the query


def test_floor_semantics_of_negative_division():
    facts = [op("==", I, lit(-1))]
    assert smt.prove(facts, op("==", op("/", I, lit(4)), lit(-1)))
    assert smt.prove(facts, op("==", op("%", I, lit(4)), lit(3)))
    # and the same with the value hidden behind an inequality, so z3 must decide
    facts = [op("<=", I, lit(-1)), op(">=", I, lit(-3))]
    assert smt.prove(facts, op("==", op("/", I, lit(4)), lit(-1)))


def test_counterexample_breaks_the_goal():
    facts = [op(">=", N_, lit(1)), op("<=", lit(0), I), op("<", I, N_)]
    goal = op("<", op("+", I, lit(1)), N_)
    ce = smt.counterexample(facts, goal)
    n, i = ce.value(n_), ce.value(i_)
    assert 0 <= i < n and i + 1 >= n
    assert ce.value(op("+", I, lit(1))) == i + 1
    assert ce.describe([n_, i_]) == f"n = {n}, i = {i}"
    assert smt.counterexample(facts, op("<", I, N_)) is None


def test_contradictory_facts_prove_anything():
    facts = [op("<", I, lit(0)), op(">", I, lit(0))]
    assert smt.prove(facts, op("==", I, lit(7)))


def test_bool_variables_and_else_branches():
    b = Sym("b")
    B = N.Read(b, (), T.BOOL)
    facts = smt.Facts().add(op("or", B, op("<", I, lit(0))), smt.neg(B))
    assert smt.prove(facts, op("<", I, lit(0)))
    assert not smt.prove(facts, op("<", I, lit(-1)))


def test_strides_and_configs_are_variables():
    x = Sym("x")
    s = N.StrideExpr(x, 0)
    assert smt.prove([op("==", s, lit(1))], op("<", s, lit(2)))
    assert not smt.prove([], op(">=", s, lit(1)))  # a window's stride is any integer


def test_facts_without_and_untranslatable_facts():
    data = N.BinOp("<", N.Read(Sym("x"), (lit(0),), T.F32), N.Const(1.0, T.R), T.BOOL)
    facts = smt.Facts().add(op("<", I, lit(3)), data, op("<", J, lit(2)))
    assert len(facts) == 2  # the data comparison is dropped: knowing less is safe
    fewer = facts.without(lambda v: v is j_)
    assert len(fewer) == 1
    assert smt.prove(facts, op("<", J, lit(2))) and not smt.prove(fewer, op("<", J, lit(2)))
    assert not smt.prove(facts, data)  # a goal outside the integer fragment: not proven


def test_import_knit_does_not_load_z3():
    code = "import sys, knit; assert 'z3' not in sys.modules, 'z3 loaded by import knit'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_constant_goal_in_dead_code():
    # under `if n < 1` (impossible for a size), even `0 <= -1` holds
    facts = [op(">=", N_, lit(1)), op("<", N_, lit(1))]
    assert smt.prove(facts, op("<=", lit(0), lit(-1)))
    assert not smt.prove([op(">=", N_, lit(1))], op("<=", lit(0), lit(-1)))


def test_a_refusal_says_when_the_solver_gave_up():
    from knit import proc
    from knit.errors import SchedulingError
    from knit.stdlib.scheduling import reorder_stmts

    @proc
    def f(N: size, k: index, m: index, x: f32[4 * N + 2]):
        assert k >= 0 and k < N and m >= 0 and m < N
        x[2 * k] = 1.0
        x[2 * m + 1] = 2.0

    reorder_stmts(f, f.find("x[_] = 1.0").expand(0, 1))  # z3 proves it under the default
    old = smt.RLIMIT
    try:
        smt.set_rlimit(1)
        with pytest.raises(SchedulingError) as info:
            reorder_stmts(f, f.find("x[_] = 1.0").expand(0, 1))
    finally:
        smt.set_rlimit(old)
    msg = str(info.value)
    assert "reorder_stmts: could not prove (the solver gave up: its work limit of 1 units " \
        "ran out; see knit.analysis.smt.set_rlimit); the rewrite may be safe, but what it " \
        "could not rule out is: the statements do not commute" in msg, msg
    assert smt.gave_up() is None  # the refusal took it


def test_z3_is_given_the_facts_in_one_order_whatever_the_callers():
    # a frozenset of facts iterates in an order that follows addresses, so it changes
    # between processes; z3's work, and so whether a hard query stays under its limit,
    # depends on the order of its assertions: they go in sorted by order_key
    Lin = A.Lin
    i, j, n = Sym("i"), Sym("j"), Sym("n")
    facts = [A.ge0(Lin({n: 1, i: -1}) - Lin({}, 1)), A.ge0(Lin({i: 1})),
             A.ge0(Lin({j: 1, i: -1})), A.eq0(Lin({n: 1}, -8)), A.ge0(Lin({j: 1}))]
    goal = A.ge0(Lin({n: 1, j: -1}))
    st = smt._Z3State()
    seen = []
    for order in (facts, facts[::-1], facts[2:] + facts[:2]):
        s = st._fresh()
        st._check(s, order, goal, scoped=False)
        seen.append([a.sexpr() for a in s.assertions()])
    assert seen[0] == seen[1] == seen[2] and len(seen[0]) == len(facts) + 1
    assert smt.order_key(facts[0]) != smt.order_key(A.ge0(Lin({Sym("n"): 1, i: -1}, -1)))
