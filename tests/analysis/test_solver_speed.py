"""The solver layer's shortcuts decide what z3 decides (issue 9, items 4 and 5):
the model search before z3, answers remembered per (facts, goal), answers shared
between queries equal up to the names of their variables, and the same copies of
loop variables for each check of the same code."""

from __future__ import annotations

import itertools

from hypothesis import given, settings, strategies as st

from knit import proc
from knit.analysis import affine as A, effects as E, model, smt
from knit.ir import nodes as N, types as T
from knit.ir.sym import Sym

n_, i_, j_ = Sym("n"), Sym("i"), Sym("j")
N_, I, J = (N.Read(s, (), t) for s, t in ((n_, T.SIZE), (i_, T.INDEX), (j_, T.INDEX)))
DOMAIN = range(-6, 13)


def lit(v):
    return N.Const(v, T.INT)


def op(o, a, b):
    typ = T.BOOL if o in ("<", "<=", ">", ">=", "==", "and", "or") else T.INDEX
    return N.BinOp(o, a, b, typ)


def satisfiable_on_domain(forms) -> bool:
    for vals in itertools.product(DOMAIN, repeat=3):
        env = dict(zip((n_, i_, j_), vals))
        if all(A.eval_formula(f, env) for f in forms):
            return True
    return False


terms = st.sampled_from([lit(0), lit(2), N_, op("-", N_, lit(1)), op("/", N_, lit(4)),
                         op("%", N_, lit(3)), I, op("+", I, lit(1)), op("*", lit(2), I),
                         op("-", N_, I), op("/", I, lit(2)), J, op("%", J, lit(4))])
cmps = st.sampled_from(["<", "<=", ">=", "==", ">"])


@st.composite
def fact_lists(draw):
    facts = [op(">=", N_, lit(1)), op("<=", lit(0), I), op("<", I, N_)]
    for _ in range(draw(st.integers(0, 4))):
        facts.append(op(draw(cmps), draw(terms), draw(terms)))
    return [smt.formula(f) for f in facts]


# ---------------------------------------------------------------- the model search


@settings(max_examples=300, deadline=None)
@given(fact_lists())
def test_a_model_found_satisfies_every_formula(forms):
    env = model.find_model(forms)
    if env is not None:
        assert all(A.eval_formula(f, env) for f in forms)
    else:  # says nothing; nothing to check but that it did not claim a model
        pass


def test_the_search_finds_loop_nests_under_sizes_and_asserts():
    # like a reachable statement deep in a blocked nest: sizes >= 1, divisibility, and
    # ranges that are empty for small sizes (the search must back up to a larger N)
    io, ii = Sym("io"), Sym("ii")
    IO, II = N.Read(io, (), T.INDEX), N.Read(ii, (), T.INDEX)
    facts = [op(">=", N_, lit(1)), op("==", op("%", N_, lit(6)), lit(0)),
             op("<=", lit(0), IO), op("<", IO, op("/", N_, lit(32))),
             op("<=", lit(0), II), op("<", II, lit(8))]
    forms = [smt.formula(f) for f in facts]
    env = model.find_model(forms)
    assert env is not None and all(A.eval_formula(f, env) for f in forms)
    assert env[n_] >= 32 and env[n_] % 6 == 0


def test_the_search_finds_no_model_of_contradictory_facts():
    forms = [smt.formula(f) for f in (op("<=", lit(0), I), op("<", I, N_),
                                      op("<=", N_, lit(0)))]
    assert model.find_model(forms) is None


def test_a_model_decides_a_goal_that_does_not_follow_without_z3():
    facts = [op(">=", N_, lit(1)), op("<=", lit(0), I), op("<", I, N_)]
    goal = op("<", op("+", I, lit(1)), N_)  # false for i = n - 1
    smt.clear_cache()
    smt.reset_stats()
    assert not smt.prove(facts, goal)
    assert smt.gave_up() is None  # a refusal can say "is false", not "gave up"
    st_ = smt.stats()
    assert st_["model"] == 1 and st_["z3"] == 0, st_


@settings(max_examples=100, deadline=None)
@given(fact_lists())
def test_prove_false_is_what_brute_force_says_of_the_facts(forms):
    # reachability (rewrite/common.reachable) asks this of every cursor's context
    smt.clear_cache()
    proven = smt.prove(forms, A.FALSE)
    if proven:
        assert not satisfiable_on_domain(forms)


# ---------------------------------------------------------------- memory


def test_equal_facts_and_goal_are_answered_once():
    facts = smt.Facts().add(op(">=", N_, lit(1)), op("<=", lit(0), I), op("<", I, N_))
    goal = op("<", I, op("+", N_, lit(1)))
    smt.clear_cache()
    smt.reset_stats()
    assert smt.prove(facts, goal)
    again = smt.Facts().add(op(">=", N_, lit(1)), op("<=", lit(0), I), op("<", I, N_))
    assert smt.prove(again, op("<", I, op("+", N_, lit(1))))
    st_ = smt.stats()
    assert st_["queries"] == 2 and st_["repeated"] == 1, st_


def test_a_remembered_give_up_is_still_a_give_up():
    x, y = Sym("x"), Sym("y")
    X, Y = N.Read(x, (), T.INDEX), N.Read(y, (), T.INDEX)
    # true, but nonlinear (x*y is a product of unknowns): under a work limit of one
    # unit z3 gives up, and no model exists for the search to find
    facts = [op(">=", X, lit(2)), op(">=", Y, lit(2))]
    goal = op(">=", op("*", X, Y), lit(4))
    old = smt.RLIMIT
    smt.set_rlimit(1)
    try:
        assert not smt.prove(facts, goal)
        why = smt.gave_up()
        assert why is not None and "work limit" in why
        assert not smt.prove(facts, goal)  # from memory: the same answer, the same why
        assert smt.gave_up() == why
    finally:
        smt.set_rlimit(old)


# ---------------------------------------------------------------- renaming


def test_queries_equal_up_to_renaming_share_a_key():
    def query(i, j, gap=-1):
        rng = [A.ge0(A.Lin({i: 1})), A.ge0(A.Lin({i: -1, n_: 1}, -1)),
               A.ge0(A.Lin({j: 1})), A.ge0(A.Lin({j: -1, n_: 1}, -1)),
               A.ge0(A.Lin({j: 1, i: -1}, gap))]  # i < j (gap -1) or i <= j (gap 0)
        return frozenset(rng), A.eq0(A.Lin({i: 2, j: -2}))

    i1, j1, i2, j2 = Sym("i"), Sym("i"), Sym("i"), Sym("i")
    assert smt.canonical(*query(i1, j1)) == smt.canonical(*query(i2, j2))
    assert smt.canonical(*query(i1, j1)) == smt.canonical(*query(j2, i2))  # a renaming too
    # i <= j: the same names and shapes but one constant, another query
    assert smt.canonical(*query(i1, j1)) != smt.canonical(*query(i2, j2, gap=0))


def test_renamed_queries_are_not_confused_with_different_ones():
    a, b = Sym("k"), Sym("k")
    one = (frozenset([A.ge0(A.Lin({a: 1})), A.ge0(A.Lin({b: 1}))]), A.ge0(A.Lin({a: 1, b: 1})))
    same_var = (frozenset([A.ge0(A.Lin({a: 1}))]), A.ge0(A.Lin({a: 2})))
    assert smt.canonical(*one) != smt.canonical(*same_var)


def test_a_renamed_query_is_answered_from_memory_with_the_same_answer():
    def ask(i, j, n):
        I_, J_, N__ = (N.Read(s, (), T.INDEX) for s in (i, j, n))
        facts = [op(">=", N__, lit(1)), op("<=", lit(0), I_), op("<", I_, N__),
                 op("<=", lit(0), J_), op("<", J_, N__), op("<", I_, J_)]
        # 4i + 0..3 never meets 4j + 0..3 for i < j: needs integer reasoning (z3)
        goal = op("or", op("<", op("*", lit(4), I_), op("*", lit(4), J_)),
                  op(">", op("*", lit(4), I_), op("*", lit(4), J_)))
        return smt.prove(facts, goal)

    smt.clear_cache()
    smt.reset_stats()
    first = ask(Sym("i"), Sym("j"), Sym("n"))
    z3_calls = smt.stats()["z3"]
    second = ask(Sym("i"), Sym("j"), Sym("n"))
    assert first and second
    assert smt.stats()["z3"] == z3_calls


# ---------------------------------------------------------------- effects


def test_a_race_check_asked_again_is_answered_from_memory():
    @proc
    def par(N: size, A: f32[N, 8]):
        for i in par(0, N):
            for j in seq(0, 8):
                A[i, j] = 1.0

    ir = par._loopir_proc
    loop = ir.body[0]
    facts = E.context_facts(ir, (("body", 0),))
    assert E.race(loop, facts, E.accesses(loop.body)) is None
    smt.reset_stats()
    assert E.race(loop, facts, E.accesses(loop.body)) is None
    st_ = smt.stats()
    assert st_["queries"] == st_["repeated"], st_


def test_a_racy_loop_is_still_caught_and_its_copies_are_apart():
    @proc
    def racy(N: size, A: f32[N + 1]):
        for i in seq(0, N):
            A[i] = 1.0
            A[i + 1] = 2.0

    ir = racy._loopir_proc
    loop = ir.body[0]
    facts = E.context_facts(ir, (("body", 0),))
    for _ in range(2):  # the second time from memory, the same answer
        hit = E.race(loop, facts, E.accesses(loop.body))
        assert hit is not None
        assert {hit[0].describe(), hit[1].describe()} <= {"writes A[i]", "writes A[i + 1]"}


def test_two_calls_of_one_callee_keep_their_instances_apart():
    @proc
    def put(M: size, x: f32[M]):
        for k in seq(0, M):
            x[k] = 0.0

    @proc
    def two(N: size, A: f32[2 * N]):
        put(N, A[0:N])
        put(N, A[N:2 * N])

    ir = two._loopir_proc
    acc = E.accesses(ir.body)
    facts = E.context_facts(ir, (("body", 0),))
    # the two calls write disjoint halves; a write against the other's write is no
    # conflict, but each call against itself (k vs k') shares locations
    first, second = [a for a in acc if a.kind == "w"]
    assert E.first_conflict([first], [second], facts) is None
    assert E.first_conflict([first], [first], facts) is not None
