"""Session 10's scheduling-speed changes (docs/performance.md, "Scheduling speed (session
10)"): each skips work whose answer is known without it, and must not change a result."""

from __future__ import annotations

import knit
from knit import instr, proc
from knit.rewrite import subprocs
from knit.stdlib import scheduling as S
from tests.helpers.instrs import double4


@proc
def two_nests(A: f32[16], B: f32[16], C: f32[16]):
    for k in seq(0, 16):
        C[k] = 0.0
        C[k] += A[k]
    for k in seq(0, 16):
        B[k] = A[k] * 2.0


def test_replace_all_tries_unify_only_on_blocks_shaped_like_the_body(monkeypatch):
    """A block whose statements differ in kind or nesting from the body never unifies:
    replace_all does not try it (before: every statement of the procedure was tried,
    with its facts built)."""
    p = S.divide_loop(two_nests, "for k in _: _", 4, ["ko", "ki"], perfect=True)
    p = S.divide_loop(p, "for k in _: _", 4, ["ko2", "ki2"], perfect=True)
    tried = []
    real = subprocs.unify

    def counting(callee, stmts, *args):
        tried.append(tuple(type(s).__name__ for s in stmts))
        return real(callee, stmts, *args)

    monkeypatch.setattr(subprocs, "unify", counting)
    q = S.replace_all(p, double4, quiet=True)
    # the one `for` holding one assignment (the second nest's inner loop) is tried; the
    # first nest's inner loop holds two statements, the outer loops hold loops
    assert tried == [("For",)]
    assert "double4(B[4 * ko2 + 0:4 * ko2 + 4], A[4 * ko2 + 0:4 * ko2 + 4])" in str(q)
    assert "C[4 * ko + ki] += A[4 * ko + ki]" in str(q)  # the first nest is kept
    knit.check_equiv(two_nests, q, trials=2)


def test_replace_all_with_a_body_of_two_statements_matches_pairs():
    @instr("{dst}.data[0] = {src}.data[0]; {dst}.data[1] = {src}.data[1];")
    def copy2(dst: [f32][2] @ DRAM, src: [f32][2] @ DRAM):
        dst[0] = src[0]
        dst[1] = src[1]

    @proc
    def f(A: f32[4], B: f32[4]):
        B[0] = A[0]
        B[1] = A[1]
        for i in seq(0, 2):
            B[i + 2] = A[i + 2]

    q = S.replace_all(f, copy2, quiet=True)
    assert "copy2(B[0:2], A[0:2])" in str(q)
    assert "for i in seq(0, 2)" in str(q)


def test_a_simplified_statement_is_not_simplified_again(monkeypatch):
    """simplify after simplify: the statements the first one rebuilt are its own
    output, known simplified under the same ranges; nothing is walked again, and the
    result is the same procedure."""
    from knit.analysis import simplify as simp

    @proc
    def f(N: size, A: f32[N + 8]):
        for i in seq(0, N):
            for j in seq(0, 1 + 3):
                A[i + j + 0 * i] = 1.0

    once = S.simplify(f)
    assert "A[i + j] = 1.0" in str(once) and "seq(0, 4)" in str(once)
    walked = []
    real = simp._simplified_stmt

    def counting(s, ranges, ctx):
        walked.append(type(s).__name__)
        return real(s, ranges, ctx)

    monkeypatch.setattr(simp, "_simplified_stmt", counting)
    twice = S.simplify(once)
    assert walked == []
    assert str(twice) == str(once)
    assert simp.simplify_proc(once._loopir_proc, prune=True) is once._loopir_proc


def test_node_kinds_spares_walks_of_expressions_met_before(monkeypatch):
    """config_reads and simplify's use of facts look for one kind of node: an
    expression met before is not walked again to find that it has none; one that has
    some still gives them."""
    from knit.analysis import effects as E, simplify as simp
    from knit.ir import nodes as N, types as T, visit
    from knit.ir.srcinfo import NO_SRC
    from knit.ir.sym import Sym

    i = N.Read(Sym("i"), (), T.INDEX, NO_SRC)
    e = N.BinOp("+", i, N.Const(1, T.INT, NO_SRC), T.INDEX, NO_SRC)
    stride = N.StrideExpr(Sym("A"), 0, T.STRIDE, NO_SRC)
    facts = ((stride, N.Const(1, T.STRIDE, NO_SRC)),)
    assert E.config_reads(e) == set() and simp._use_facts(e, facts) is e
    walks = []
    real = visit.walk_expr

    def counting(x):
        walks.append(x)
        return real(x)

    monkeypatch.setattr(visit, "walk_expr", counting)
    monkeypatch.setattr(E, "walk_expr", counting)
    assert E.config_reads(e) == set()
    assert simp._use_facts(e, facts) is e
    assert walks == []
    # an expression that holds a fact's left-hand side is still rewritten
    with_stride = N.BinOp("*", stride, i, T.INDEX, NO_SRC)
    out = simp._use_facts(with_stride, facts)
    assert isinstance(out, N.BinOp) and isinstance(out.lhs, N.Const) and out.lhs.val == 1
    assert visit.node_kinds(with_stride) >= {N.BinOp, N.StrideExpr, N.Read}
