"""The check behind resize_dim(..., fold=True): may dimension k of a buffer become a
circular buffer of `size` elements (`x[.., e, ..]` -> `x[.., e % size, ..]`)?

The rule (a sliding window): for any two accesses A and B of the buffer where an
instance of A runs before, or in the same statement as, an instance of B, their indices
in dimension k satisfy `e_A - e_B < size`. It is enough: let element e be written, then
element e' = e + m*size (m != 0) be written, then e be read. The first and second give
e - e' < size, the second and third e' - e < size, so |e - e'| < size and e' = e.
Hence no value is overwritten through the fold while it may still be read. Indices only
grow or fall back by less than `size`; jumping forward is free (Exo's rule too).

Each pair is proven with the solver over two copies of the loop variables: the common
loops' iterations ordered lexicographically (A's first), or all equal when A does not
follow B in the program text."""

from __future__ import annotations

from knit.analysis import effects as E
from knit.analysis.exprs import const, sub
from knit.analysis.smt import prove
from knit.ir import nodes as N
from knit.ir.printer import expr_str
from knit.ir.visit import stmt_exprs, subst, walk_expr
from knit.rewrite.common import refuse


class _Access:
    """One access of the buffer: its index in the folded dimension, what it does ("r",
    "w", or "rw": a reduction or a window passed to a call, both in either order), the
    loops around it ((path of the loop, iter, mode) outermost first), its statement's
    path (an if's branches add 0 or 1 after the if's path) and the conditions there."""

    def __init__(self, e, shown, kind, loops, path, facts):
        self.e, self.shown, self.kind = e, shown, kind
        self.loops, self.path, self.facts = loops, path, facts


def _accesses(prim, node, stmts, buf, k, ifs: set):
    """Every access of buf in stmts; the paths of the ifs go into `ifs`."""
    out = []

    def point(x):
        acc = x.idx[k]
        if not isinstance(acc, N.Point):
            raise refuse(prim, node, f"fold=True needs a single index in dimension {k} of "
                         f"every access of '{buf.name}'; found the slice {expr_str(x)}")
        return acc.pt

    def visit(block, loops, path, facts):
        for j, s in enumerate(block):
            here = path + (j,)
            if isinstance(s, N.For):
                rng = [E.le(s.lo, E.var(s.iter)), E.lt(E.var(s.iter), s.hi)]
                visit(s.body, loops + ((here, s.iter, s.mode),), here, facts + rng)
                continue
            if isinstance(s, N.If):
                ifs.add(here)
                visit(s.body, loops, here + (0,), facts + [s.cond])
                visit(s.orelse, loops, here + (1,), facts + [E.not_(s.cond)])
                continue
            if isinstance(s, (N.Assign, N.Reduce)) and s.name is buf and s.idx:
                shown = f"{buf.name}[{', '.join(expr_str(i) for i in s.idx)}]"
                kind = "w" if isinstance(s, N.Assign) else "rw"
                out.append(_Access(s.idx[k], shown, kind, loops, here, facts))
            for top in stmt_exprs(s):
                for x in walk_expr(top):
                    if isinstance(x, N.Read) and x.name is buf and x.idx:
                        out.append(_Access(x.idx[k], expr_str(x), "r", loops, here, facts))
                    elif isinstance(x, N.WindowExpr) and x.name is buf:
                        if isinstance(s, N.WindowStmt):
                            # the accesses happen later, through the window's name
                            raise refuse(prim, node, f"fold=True cannot follow the accesses "
                                         f"through the window {s.name.name} = {expr_str(x)}")
                        out.append(_Access(point(x), expr_str(x), "rw", loops, here,
                                           facts))

    visit(stmts, (), (), [])
    return out


def check_fold(prim, node, stmts, buf, k: int, size: int, facts) -> None:
    """Refuse unless folding dimension k of buf to `size` keeps every value that is read
    (the rule in the module docstring); stmts are the buffer's scope, facts the facts
    holding there."""
    ifs = set()
    accs = _accesses(prim, node, stmts, buf, k, ifs)
    for a in accs:
        for b in accs:
            if not _close_after(a, b, size, facts, ifs):
                raise refuse(prim, node, f"a circular buffer of {size} is too small: cannot "
                             f"prove {a.shown} and a later access {b.shown} are less "
                             f"than {size} apart in dimension {k}, so a value could be "
                             "overwritten before it is read")


def _close_after(a: _Access, b: _Access, size: int, facts, ifs: set) -> bool:
    """Whether e_a - e_b < size for every instance of a running before, or in the same
    statement as, an instance of b."""
    common = 0
    while (common < min(len(a.loops), len(b.loops)) and
           a.loops[common][0] == b.loops[common][0]):
        common += 1
    # b's copy of the loop variables
    fresh = {lp[1]: lp[1].copy() for lp in b.loops}
    env = {s: E.var(c) for s, c in fresh.items()}
    base = list(facts) + list(a.facts) + [subst(f, env) for f in b.facts]
    goal = E.lt(sub(a.e, subst(b.e, env)), const(size))
    same = []
    for m in range(common):
        it, mode = a.loops[m][1], a.loops[m][2]
        ia, ib = E.var(it), env[it]
        orders = [E.lt(ia, ib)] if mode == "seq" else [E.lt(ia, ib), E.lt(ib, ia)]
        for o in orders:
            if not prove(base + same + [o], goal):
                return False
        same.append(E.eq(ia, ib))
    if _may_precede_in_one_pass(a, b, ifs):
        return prove(base + same, goal)
    return True


def _may_precede_in_one_pass(a: _Access, b: _Access, ifs: set) -> bool:
    """Whether, in one iteration of their common loops, a may run before b (or with it):
    a comes first in the program text and is not in the other branch of an if, or both
    are in one statement and a is not its write (a statement reads, then writes)."""
    if a.path == b.path:
        return not (a.kind == "w" and b.kind == "r")
    if a.path > b.path:
        return False
    d = next(j for j, (x, y) in enumerate(zip(a.path, b.path)) if x != y)
    return a.path[:d] not in ifs
