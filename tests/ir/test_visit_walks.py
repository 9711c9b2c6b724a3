"""walk_stmts and walk_expr (knit/ir/visit.py) walk with a stack: the same nodes, the
same objects, in the same pre-order as the recursive definitions they replace."""

from __future__ import annotations

import random

from knit.ir import nodes as N
from knit.ir.visit import stmt_exprs, walk_expr, walk_stmts
from knit.libs.externs import select
from knit.procedure import parse_proc_string


def _stmts(stmts):
    for s in stmts:
        yield s
        if isinstance(s, N.For):
            yield from _stmts(s.body)
        elif isinstance(s, N.If):
            yield from _stmts(s.body)
            yield from _stmts(s.orelse)


def _exprs(e):
    yield e
    match e:
        case N.Read(idx=idx):
            children = idx
        case N.USub(arg=a):
            children = (a,)
        case N.BinOp(lhs=a, rhs=b):
            children = (a, b)
        case N.Extern(args=args):
            children = args
        case N.WindowExpr(idx=idx):
            children = [x for w in idx
                        for x in ((w.lo, w.hi) if isinstance(w, N.Interval) else (w.pt,))]
        case _:
            children = ()
    for c in children:
        yield from _exprs(c)


_LEAVES = ["x[i, j]", "y[j]", "2.0", "-x[j, i]", "select(x[i, j], y[i], 1.0, y[j])",
           "x[(i + j) % 4, j / 2]"]
_STMTS = ["x[i, j] = {e}", "y[j] += {e}",
          "if i < j:\n{ind}    y[j] = {e}\n{ind}else:\n{ind}    x[i, j] = {e}",
          "if j == 0:\n{ind}    y[i] += {e}",
          "for k in seq(0, n):\n{ind}    x[k, j] = {e}"]


def _random_proc(rng: random.Random):
    lines = ["def p(n: size, x: f32[n, n] @ DRAM, y: f32[n] @ DRAM):", "    assert n >= 4"]
    for _ in range(rng.randrange(1, 4)):
        lines += ["    for i in seq(0, n):", "        for j in seq(0, n):"]
        for _ in range(rng.randrange(1, 5)):
            e = " * ".join(rng.choice(_LEAVES) for _ in range(rng.randrange(1, 4)))
            text = rng.choice(_STMTS).format(e=e, ind="            ")
            lines.append("            " + text)
    return parse_proc_string("\n".join(lines) + "\n", {"select": select}).INTERNAL_proc()


def test_the_walks_are_the_recursive_pre_orders():
    rng = random.Random(3)
    for _ in range(60):
        ir = _random_proc(rng)
        got, want = list(walk_stmts(ir.body)), list(_stmts(ir.body))
        assert len(got) == len(want) and all(map(lambda a, b: a is b, got, want))
        for s in got:
            for e in stmt_exprs(s):
                got_e, want_e = list(walk_expr(e)), list(_exprs(e))
                assert len(got_e) == len(want_e)
                assert all(map(lambda a, b: a is b, got_e, want_e))


def test_a_walk_of_nothing_and_of_a_leaf():
    assert list(walk_stmts(())) == []
    c = N.Const(1, None)
    assert list(walk_expr(c)) == [c]


def test_the_walks_of_a_kernel_with_windows_and_instruction_calls():
    from knit.stdlib.gemm.kernels import microkernel

    ir = microkernel("avx2", "f32")[1].INTERNAL_proc()
    got, want = list(walk_stmts(ir.body)), list(_stmts(ir.body))
    assert len(got) == len(want) and all(map(lambda a, b: a is b, got, want))
    windows = 0
    for s in got:
        for e in stmt_exprs(s):
            got_e, want_e = list(walk_expr(e)), list(_exprs(e))
            assert len(got_e) == len(want_e)
            assert all(map(lambda a, b: a is b, got_e, want_e))
            windows += sum(isinstance(x, N.WindowExpr) for x in got_e)
    assert windows > 0
