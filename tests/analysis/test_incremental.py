"""The incremental machinery that keeps scheduling fast (issue 9, item 4) gives the same
answers as computing afresh: a fact table extended from the one of a prefix of the
facts, the race check's memory of independent loops, simplify's memory of statements
and expressions, and the consistency of the facts at a statement. Each is compared,
on random programs and random facts, with the answer computed with the memory
cleared or the structure built from scratch."""
# ruff: noqa: F821 - object code names (size, f32, seq, DRAM) are knit's, not Python's

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings, strategies as st
from test_simplify import evaluate

from knit import proc
from knit.analysis import effects as E, fastpath, simplify as SIMP, smt
from knit.ir import nodes as N, types as T
from knit.ir.printer import proc_str
from knit.ir.sym import Sym
from knit.procedure import parse_proc_string
from knit.stdlib.scheduling import divide_loop, parallelize_loop, reorder_loops, simplify

n_, i_, j_, k_ = Sym("n"), Sym("i"), Sym("j"), Sym("k")
N_, I, J, K = (N.Read(s, (), t) for s, t in ((n_, T.SIZE), (i_, T.INDEX), (j_, T.INDEX),
                                             (k_, T.INDEX)))


def lit(v):
    return N.Const(v, T.INT)


def op(o, a, b):
    typ = T.BOOL if o in ("<", "<=", ">", ">=", "==", "and", "or") else T.INDEX
    return N.BinOp(o, a, b, typ)


# ---------------------------------------------------------------- the fact table

terms = st.sampled_from([lit(0), lit(2), N_, op("-", N_, lit(1)), op("/", N_, lit(4)),
                         op("%", N_, lit(3)), I, op("+", I, lit(1)), op("*", lit(2), J),
                         op("-", N_, I), op("/", I, lit(2)), op("+", op("*", lit(4), I), J),
                         K, op("%", K, lit(8))])
facts_st = st.lists(st.builds(lambda o, a, b: op(o, a, b),
                              st.sampled_from(["<", "<=", ">=", "=="]), terms, terms),
                    min_size=0, max_size=8)


def _state(t: fastpath.BoundTable):
    """The table as built (its ranks before any search ranked a goal's atoms)."""
    return t._built, {a: list(b) for a, b in t.lower.items()}, \
        {a: list(b) for a, b in t.upper.items()}


@settings(max_examples=300, deadline=None)
@given(facts_st, facts_st, facts_st, st.lists(st.tuples(terms, terms), max_size=6))
def test_an_extended_fact_table_is_the_table_of_all_the_facts(head, mid, tail, goals):
    """Facts built in steps (each `add` extends the table of the facts before it, some
    of whose tables were searched in between, which ranks new atoms) have the table
    BoundTable gives all their formulas at once, and prove the same goals."""
    base = smt.Facts().add(*head)
    for a, b in goals[:2]:  # searches on the prefix's table rank atoms of their goals
        fastpath.proves(base.table(), smt.formula(op("<=", a, b)))
    middle = base.add(*mid)
    whole = middle.add(*tail)
    fresh = fastpath.BoundTable(whole.formulas())
    assert _state(whole.table()) == _state(fresh)
    if whole is not base:  # (a table searched before answers as it did: not compared)
        for a, b in goals:
            g = smt.formula(op("<=", a, b))
            assert fastpath.proves(whole.table(), g) == fastpath.proves(fresh, g)
    # a table asked for first, then extended: the same again
    assert _state(smt.Facts().add(*head, *mid).table()) == \
        _state(fastpath.BoundTable(smt.Facts().add(*head, *mid).formulas()))


def test_extending_a_table_leaves_the_one_it_extends_as_it_was():
    base = smt.Facts().add(op(">=", N_, lit(1)), op("<=", lit(0), I), op("<", I, N_))
    before = _state(base.table())
    base.add(op("<", I, lit(4)), op("<=", I, op("-", N_, lit(3)))).table()
    assert _state(base.table()) == before


# ---------------------------------------------------------------- races


def _accesses(rng, it):
    bufs = [Sym("a"), Sym("b")]
    out = []
    for _ in range(rng.randrange(1, 7)):
        c = rng.randrange(0, 3)
        idx = op("+", op("*", lit(rng.choice([1, 2])), E.var(it)), lit(c)) \
            if rng.random() < 0.85 else lit(c)
        out.append(E.Access(rng.choice(bufs), (idx,), rng.choice("rrw+"), (), ()))
    return out


def test_race_answers_as_computed_afresh_on_random_loops():
    """Random loops and bodies, each checked twice (the second time from memory) and
    against a check with the memory cleared; one remembered independent loop never
    lets a racy body with the same iterator and bounds through."""
    rng = random.Random(3)
    it = Sym("i")
    loop = N.For(it, lit(0), N_, (N.Pass(),), "par")
    facts = [op(">=", N_, lit(1))]
    seen = {True: 0, False: 0}
    for _ in range(120):
        acc = _accesses(rng, it)
        first = E.race(loop, facts, acc)
        again = E.race(loop, facts, acc)
        E._race_free.clear()
        fresh = E.race(loop, facts, acc)
        assert (first is None) == (again is None) == (fresh is None), acc
        seen[fresh is None] += 1
    assert seen[True] > 10 and seen[False] > 10  # both answers occur


def test_a_remembered_independent_loop_does_not_vouch_for_other_bounds_or_facts():
    it = Sym("i")
    a = Sym("a")
    acc = [E.Access(a, (op("%", E.var(it), lit(4)),), "w", (), ())]
    small = N.For(it, lit(0), lit(4), (N.Pass(),), "par")
    assert E.race(small, [], acc) is None  # i % 4 differs for i < 4
    large = N.For(it, lit(0), lit(8), (N.Pass(),), "par")
    assert E.race(large, [], acc) is not None  # not for i < 8
    loop_n = N.For(it, lit(0), N_, (N.Pass(),), "par")
    assert E.race(loop_n, [op("<=", N_, lit(4))], acc) is None
    assert E.race(loop_n, [op("<=", N_, lit(5))], acc) is not None


def test_a_par_loop_changed_inside_is_checked_again():
    """parallelize_loop's result is not checked twice for the same loop, but a rewrite
    that changes what a par loop touches is still refused when it would race."""

    @proc
    def p(n: size, x: f32[n + 1]):
        for i in seq(0, n):
            x[i] = 1.0

    q = parallelize_loop(p, p.find_loop("i"))
    E._race_free.clear()
    smt.reset_stats()
    before = len(E._race_free)
    q2 = parallelize_loop(p, p.find_loop("i"))
    assert len(E._race_free) == before + 1  # proven once, its post-check from memory
    assert str(q2) == str(q)
    with pytest.raises(Exception, match="race"):
        @proc
        def racy(n: size, x: f32[n + 1]):
            for i in seq(0, n):
                x[i] = 1.0
                x[i + 1] = 2.0

        parallelize_loop(racy, racy.find_loop("i"))


# ---------------------------------------------------------------- simplify


_BODIES = ["x[{e}] = 1.0", "x[{e}] += 2.0", "if {e} < 4:\n{ind}    x[{e}] = 0.0"]
_EXPRS = ["i", "i + 0", "(8 * i + j) / 8", "(8 * i + j) % 8", "j + 1 - 1", "2 * j / 2",
          "(i + 3) / 4 + j % 4", "i * 1 + 0 * j"]


def _random_proc(rng):
    """Two loop nests over i < {n or 8} and j < 8 with random index expressions."""
    lines = ["def r(n: size, x: f32[64 * n + 64] @ DRAM):"]
    for _ in range(2):
        hi = rng.choice(["n", "8", "2"])
        lines.append(f"    for i in seq(0, {hi}):")
        lines.append("        for j in seq(0, 8):")
        for _ in range(rng.randrange(1, 4)):
            body = rng.choice(_BODIES).format(e=rng.choice(_EXPRS), ind="            ")
            lines.append("            " + body.splitlines()[0])
            lines += body.splitlines()[1:]
    return parse_proc_string("\n".join(lines) + "\n", {})


def test_simplify_remembers_nothing_that_changes_its_answer():
    """Random procedures simplified, rescheduled and simplified again: the same code
    with the memories of statements and expressions as with them cleared before each
    simplify."""
    rng = random.Random(11)
    for _ in range(25):
        p = _random_proc(rng)
        steps = [lambda q: simplify(q),
                 lambda q: divide_loop(q, q.find_loop("j"), 2, ["jo", "ji"], perfect=True),
                 lambda q: simplify(q),
                 lambda q: reorder_loops(q, q.find_loop("i")),
                 lambda q: simplify(q)]
        remembered = fresh = p
        for step in steps:
            remembered, got = _attempt(step, remembered)
            SIMP._SIMPLIFIED.clear()
            SIMP._EXPRS.clear()
            SIMP._SAME.clear()
            fresh, want = _attempt(step, fresh)
            assert got == want  # the same refusal, or none
            assert proc_str(remembered._loopir_proc) == proc_str(fresh._loopir_proc)


def _attempt(step, q):
    try:
        return step(q), None
    except Exception as e:  # a refusal: kept as its message (the witness's values,
        # which the solver's memory of earlier queries may choose differently, left out)
        return q, str(e).splitlines()[0]


def test_one_statement_under_other_ranges_is_simplified_for_those():
    """The same statement object under two loops of different ranges: each gets the
    answer of its own ranges (j / 8 is 0 for j < 8, not for j < 16)."""
    x = Sym("x")
    jj = Sym("j")
    s = N.Assign(x, T.F32, (op("/", E.var(jj), lit(8)),), N.Const(1.0, T.F32))
    a = SIMP._stmt(s, {jj: (0, 7)}, SIMP._Ctx(True, ()))
    b = SIMP._stmt(s, {jj: (0, 15)}, SIMP._Ctx(True, ()))
    assert isinstance(a.idx[0], N.Const) and a.idx[0].val == 0
    assert b.idx[0] == s.idx[0]
    e = op("%", E.var(jj), lit(8))
    assert SIMP.simplify_expr(e, {jj: (0, 7)}) == E.var(jj)
    assert SIMP.simplify_expr(e, {jj: (0, 15)}) == e


def _fresh_simplify(e, ranges=None):
    SIMP._EXPRS.clear()
    SIMP._SAME.clear()
    return SIMP.simplify_expr(e, ranges)


def _positions(e):
    from knit.ir.visit import walk_expr

    return [x.srcinfo for x in walk_expr(e)]


def test_equal_expressions_at_other_positions_keep_their_own_positions():
    """Two copies of `i + 0 + j * 1` that compare equal (positions are outside equality)
    but sit at other positions: each result carries its own copy's positions, as a
    fresh simplify gives it, not the first copy's (errors point at them)."""
    from knit.ir.srcinfo import SrcInfo

    def copy(line):
        at = SrcInfo("f.py", line, 4)
        return N.BinOp("+", N.BinOp("+", N.Read(i_, (), T.INDEX, at), N.Const(0, T.INT, at),
                                    T.INDEX, at),
                       N.BinOp("*", N.Read(j_, (), T.INDEX, at), N.Const(1, T.INT, at),
                               T.INDEX, at), T.INDEX, at)
    a, b = copy(3), copy(9)
    assert a == b and a is not b
    SIMP._EXPRS.clear()
    SIMP._SAME.clear()
    got_a = SIMP.simplify_expr(a)
    got_b = SIMP.simplify_expr(b)
    assert _positions(got_a) == _positions(_fresh_simplify(a))
    assert _positions(got_b) == _positions(_fresh_simplify(b))
    assert {x.line for x in _positions(got_b)} == {9}
    # the same position again: answered from memory, the same result
    twin = copy(9)
    SIMP._EXPRS.clear()  # only the memory of equal expressions left
    SIMP.simplify_expr(b)
    assert SIMP.simplify_expr(twin) == got_b
    assert _positions(SIMP.simplify_expr(twin)) == _positions(got_b)


def test_equal_literals_written_differently_are_not_shared():
    """`x * 1.0 + 2` and `x * 1.0 + 2.0` compare equal (2 == 2.0) but print differently:
    each simplifies to its own form (`x + 2`, `x + 2.0`); so do 0.0 and -0.0."""
    from knit.ir.printer import WrittenInt, expr_str

    xs = Sym("x")

    def data(v):
        x = N.Read(xs, (), T.F32)
        return N.BinOp("+", N.BinOp("*", x, N.Const(1.0, T.F32), T.F32), N.Const(v, T.F32),
                       T.F32)
    printed = []
    for first, second in ((WrittenInt(2), 2.0), (2.0, WrittenInt(2)), (0.0, -0.0),
                          (-0.0, 0.0)):
        a, b = data(first), data(second)
        assert a == b
        SIMP._EXPRS.clear()
        SIMP._SAME.clear()
        got_a, got_b = SIMP.simplify_expr(a), SIMP.simplify_expr(b)
        want_a, want_b = _fresh_simplify(a), _fresh_simplify(b)
        assert expr_str(got_a) == expr_str(want_a)
        assert expr_str(got_b) == expr_str(want_b)
        printed.append((expr_str(got_a), expr_str(got_b)))
    # (the pairs are equal as dictionary keys too: a list, in the order above)
    assert printed == [("x + 2", "x + 2.0"), ("x + 2.0", "x + 2"),
                       ("x + 0.0", "x"), ("x", "x + 0.0")]  # x + -0.0 is x; x + 0.0 is not


def test_equal_expressions_under_other_ranges_of_their_variables_are_not_shared():
    """The memory of equal expressions is keyed by the ranges of the variables they read:
    a copy of `j % 8` under j < 8 and one under j < 16 each get their own answer, while a
    range of a variable the expression does not read changes nothing."""
    jj, other = Sym("j"), Sym("o")
    SIMP._EXPRS.clear()
    SIMP._SAME.clear()
    assert SIMP.simplify_expr(op("%", E.var(jj), lit(8)), {jj: (0, 7)}) == E.var(jj)
    again = op("%", E.var(jj), lit(8))
    assert SIMP.simplify_expr(again, {jj: (0, 15)}) == again
    third = op("%", E.var(jj), lit(8))
    assert SIMP.simplify_expr(third, {jj: (0, 7), other: (0, 3)}) == E.var(jj)
    fourth = op("%", E.var(jj), lit(8))
    assert SIMP.simplify_expr(fourth, {jj: (0, 7), other: (5, 9)}) == E.var(jj)


def test_equal_windows_written_whole_or_sliced_are_not_shared():
    """`x` (a whole window) and `x[0:n + 0]` compare equal (`whole` is outside equality)
    but print differently: each keeps its own form after simplifying; and a window
    whose type's dimension reads a variable is keyed by that variable's range too."""
    from knit.ir.printer import expr_str

    xs = Sym("x")

    def window(whole, hi, access=None):
        dim = N.BinOp("+", N_, hi, T.SIZE)
        return N.WindowExpr(xs, (N.Interval(lit(0), access or dim),),
                            T.TensorT((dim,), True, T.F32), whole=whole)
    SIMP._EXPRS.clear()
    SIMP._SAME.clear()
    got = [expr_str(SIMP.simplify_expr(window(w, lit(0)))) for w in (True, False, True)]
    want = [expr_str(_fresh_simplify(window(w, lit(0)))) for w in (True, False, True)]
    assert got == want and got[0] != got[1]
    # n + k / 4 under k < 4 is n: the window's type (alone) reads k, and so does its
    # memory key
    kk = Sym("k")
    kd = op("/", N.Read(kk, (), T.INDEX), lit(4))
    SIMP._EXPRS.clear()
    SIMP._SAME.clear()
    small = SIMP.simplify_expr(window(False, kd, N_), {kk: (0, 3)})
    large = SIMP.simplify_expr(window(False, kd, N_), {kk: (0, 7)})
    assert small.type.dims == (N_,) and large.type.dims != (N_,)
    fresh = _fresh_simplify(window(False, kd, N_), {kk: (0, 7)})
    assert large.type.dims == fresh.type.dims


# ---------------------------------------------------------------- consistency


def test_consistent_agrees_with_prove_on_random_facts():
    rng = random.Random(5)
    pool = [op(">=", N_, lit(1)), op("<=", N_, lit(3)), op("<=", lit(0), I), op("<", I, N_),
            op("<", I, lit(2)), op(">=", I, lit(3)), op("==", op("%", N_, lit(2)), lit(1)),
            op("==", N_, lit(2)), op("<", J, I), op("<=", lit(0), J)]
    seen = {True: 0, False: 0}
    for _ in range(200):
        facts = rng.sample(pool, rng.randrange(1, 6))
        want = not smt.prove(facts, N.Const(False, T.BOOL))
        assert E.consistent(facts) == want == E.consistent(facts), facts
        seen[want] += 1
    assert seen[True] > 10 and seen[False] > 10


def test_context_facts_keep_their_objects_and_dead_code_is_still_refused():
    @proc
    def p(n: size, x: f32[n]):
        for i in seq(0, n):
            if i < 0:
                for j in seq(0, 4):
                    x[i] = 1.0
            else:
                x[i] = 2.0

    ir = p._loopir_proc
    then = (("body", 0), ("body", 0), ("body", 0))
    other = (("body", 0), ("body", 0), ("orelse", 0))
    f1, f2 = E.context_facts(ir, then), E.context_facts(ir.with_(name="q"), then)
    assert len(f1) == len(f2) and all(a is b for a, b in zip(f1, f2))
    assert not E.consistent(f1)
    assert E.consistent(E.context_facts(ir, other))
    divide_loop(p, p.find_loop("i"), 2, ["io", "ii"], tail="guard")  # code that runs
    with pytest.raises(Exception, match="never runs"):
        divide_loop(p, p.find_loop("j"), 2, ["jo", "ji"], perfect=True)


# ---------------------------------------------------------------- hashes of IR nodes


def test_an_expressions_remembered_hash_is_its_structural_hash():
    """Equal expressions (equality ignores positions) hash alike, whether their hashes
    were computed before or not, and unequal ones are told apart as keys."""
    rng = random.Random(2)
    leaves = [I, J, N_, lit(0), lit(3), N.Const(3, T.INDEX), N.Const(2.5, T.F32)]

    def build(depth):
        if depth == 0 or rng.random() < 0.3:
            return rng.choice(leaves)
        return op(rng.choice("+-*/%"), build(depth - 1), build(depth - 1))

    def copy(e):  # the same tree, new objects at another position
        if isinstance(e, N.BinOp):
            return N.BinOp(e.op, copy(e.lhs), copy(e.rhs), e.type, E.NO_SRC)
        return e.with_()

    table = {}
    for _ in range(300):
        e = build(4)
        if rng.random() < 0.5:
            hash(e)  # remembered before the copy is made and compared
        c = copy(e)
        assert c == e and hash(c) == hash(e)
        table.setdefault(e, []).append(e)
        assert c in table
    w = N.Interval(I, op("+", I, lit(4)))
    assert hash(w) == hash(N.Interval(I, op("+", I, lit(4)))) and w in {w}
    assert N.Point(I) != N.Point(J) and len({N.Point(I), N.Point(J), N.Point(I)}) == 2


# ---------------------------------------------------------------- the simplifier's memory of linear forms


class _Forgetful(SIMP._Simplifier):
    """The simplifier with no memory of linear forms: each asked for afresh."""

    def lin(self, e):
        return self._lin(e)


def _shared_sum(rng: random.Random, depth: int) -> N.Expr:
    """A random index expression whose sub-expressions are often the same object met
    again (as a rewrite builds them), under / and % by literals of many divisors."""
    pool = [N_, I, J, K, lit(rng.randrange(0, 40))]
    for _ in range(depth):
        a, b = rng.choice(pool), rng.choice(pool)
        o = rng.choice(["+", "-", "*", "/", "%"])
        if o in ("*", "/", "%"):
            b = lit(rng.choice([1, 2, 3, 4, 6, 8, 12, 16, 24, 48, 60, 512]))
        pool.append(op(o, a, b))
    return pool[-1]


def test_remembered_linear_forms_give_the_answer_computed_afresh():
    """Random expressions full of shared sub-expressions, under random ranges: the same
    simplified expression (text and tree) as a simplifier that computes every linear
    form again, and the same value as the original at every point of the ranges."""
    from knit.ir.printer import expr_str

    rng = random.Random(5)
    for _ in range(400):
        e = _shared_sum(rng, rng.randrange(1, 9))
        ranges = {}
        for s in (i_, j_, k_):
            if rng.random() < 0.7:
                lo = rng.randrange(-3, 10)
                ranges[s] = (lo, lo + rng.randrange(0, 20))
        got, want = SIMP._Simplifier(ranges).simp(e), _Forgetful(ranges).simp(e)
        assert expr_str(got) == expr_str(want) and got == want
        for _ in range(20):
            env = {s: rng.randint(*ranges.get(s, (-9, 9))) for s in (i_, j_, k_)}
            env[n_] = rng.randrange(1, 30)
            assert evaluate(got, env) == evaluate(e, env)


def test_the_divisors_the_division_rule_tries_are_every_divisor_greatest_first():
    for c in range(1, 700):
        assert SIMP._divisors(c) == tuple(g for g in range(c - 1, 1, -1) if c % g == 0)
