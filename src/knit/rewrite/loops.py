"""Loop primitives: divide, multiply, join, cut, shift, reorder, unroll, remove, add,
parallelize. Each takes the Site its wrapper located (common.Site: the statement or
block, and the primitive its refusals name), checks, and returns the new IR; the
wrapper derives the new Procedure from it (common.apply)."""

from __future__ import annotations

from knit.analysis import effects as E
from knit.analysis.exprs import add, cmp, const, mul, sub, var
from knit.analysis.smt import prove
from knit.ir import nodes as N, types as T
from knit.ir.printer import expr_str
from knit.ir.sym import Sym
from knit.ir.visit import _AlphaEq, free_syms, stmt_syms, subst_stmts
from knit.rewrite import witness as W
from knit.rewrite.checks import (
    accesses_at,
    check_idempotent,
    check_no_race,
    check_stable,
    coarse_accesses_at,
    facts_at,
)
from knit.rewrite.common import Site, check_bindings_stay_visible, derive, refuse


def _new_iter(name: str) -> Sym:
    return Sym(name)


def _floordiv(a, c: int):
    return N.BinOp("/", a, const(c), T.INDEX)


def _mod(a, c: int):
    return N.BinOp("%", a, const(c), T.INDEX)


def _chunk_index(quot: int, o, i):
    """`quot * o + i`, written out even for quot = 1 (`1 * io + ii`), as Exo writes it."""
    return N.BinOp("+", N.BinOp("*", const(quot), o, T.INDEX), i, T.INDEX)


# ---------------------------------------------------------------- divide_loop


def divide_loop(site: Site, quot: int, outer: str, inner: str, tail: str, perfect: bool):
    prim = site.prim
    loop: N.For = site.node()
    facts = facts_at(site)
    n = sub(loop.hi, loop.lo)
    o_sym, i_sym = _new_iter(outer), _new_iter(inner)
    o, i = var(o_sym), var(i_sym)

    def body_at(idx):  # the body with the old iterator replaced by lo + idx
        return subst_stmts(loop.body, {loop.iter: add(loop.lo, idx) if not _is_zero(loop.lo)
                                       else idx})

    # the bounds move into the body (lo + idx, the guard, the tail's start)
    check_stable(prim, loop, [loop.lo, loop.hi], site, loop.body)

    if perfect:
        if not prove(facts, E.eq(_mod(n, quot), const(0))):
            err = refuse(prim, loop, f"cannot prove that the trip count "
                         f"{expr_str(n)} is a multiple of {quot} (perfect=True)",
                         "add an assert such as `assert N % {q} == 0` to the proc, or use "
                         "tail='guard' or 'cut'".replace("{q}", str(quot)))
            raise W.why(err, facts, E.eq(_mod(n, quot), const(0)), site.proc)
        inner_loop = N.For(i_sym, const(0), const(quot), body_at(_chunk_index(quot, o, i)),
                           "seq", loop.srcinfo)
        return site.replaced((loop.with_(iter=o_sym, lo=const(0),
                                                    hi=_exact_quotient(_diff(loop.hi, loop.lo), quot),
                                                    body=(inner_loop,)),))
    if tail == "guard":
        idx = _chunk_index(quot, o, i)
        guarded = N.If(E.lt(idx, n), body_at(idx), (), loop.srcinfo)
        inner_loop = N.For(i_sym, const(0), const(quot), (guarded,), "seq", loop.srcinfo)
        # `(n + q - 1) / q`, with `+ 0` kept for q = 1 (Exo's `(n + 0) / 1`)
        hi = _floordiv(N.BinOp("+", n, const(quot - 1), T.INDEX), quot)
        return site.replaced((loop.with_(iter=o_sym, lo=const(0), hi=hi,
                                                    body=(inner_loop,)),))
    # "cut" and "cut_and_guard": the main loop over whole chunks, then the tail
    if not prove(facts, E.le(loop.lo, loop.hi)):
        # with hi < lo the original runs nothing, but n % q (floor) would be positive
        raise refuse(prim, loop, f"cannot prove {expr_str(loop.lo)} <= "
                     f"{expr_str(loop.hi)}: when the range is empty the wrong way round, the "
                     f"tail loop seq(0, {expr_str(_mod(n, quot))}) would still run",
                     "use tail='guard', or add an assert that makes the range non-negative")
    main_inner = N.For(i_sym, const(0), const(quot), body_at(_chunk_index(quot, o, i)),
                       "seq", loop.srcinfo)
    main = loop.with_(iter=o_sym, lo=const(0), hi=_floordiv(n, quot), body=(main_inner,))
    t_sym = _new_iter(inner)
    tail_body = subst_stmts(loop.body, {loop.iter: add(loop.lo, add(  # Exo's order
        var(t_sym), N.BinOp("*", _floordiv(n, quot), const(quot), T.INDEX)))})
    tail_loop = N.For(t_sym, const(0), _mod(n, quot), tuple(_fresh_copy(tail_body)), "seq",
                      loop.srcinfo)
    if tail == "cut_and_guard":
        tail_loop = N.If(cmp(">", _mod(n, quot), const(0)), (tail_loop,), (), loop.srcinfo)
    return site.replaced((main, tail_loop))


def _exact_quotient(n, quot: int):
    """n / quot where quot divides n: the literal itself for a literal n (so a loop over
    `seq(0, 64)` divided by 16 runs `seq(0, 4)`, which unroll_loop accepts), else `n / quot`."""
    if isinstance(n, N.Const) and type(n.val) is int:
        return const(n.val // quot)
    return _floordiv(n, quot)


def _diff(a, b):
    """a - b, folded when both are literals."""
    if isinstance(a, N.Const) and isinstance(b, N.Const):
        return const(a.val - b.val)
    return sub(a, b)


def _sum(a, b):
    """a + b, folded when both are literals; `a - c` for a negative literal b = -c."""
    if isinstance(a, N.Const) and isinstance(b, N.Const):
        return const(a.val + b.val)
    if isinstance(b, N.Const) and b.val < 0:
        return sub(a, const(-b.val))
    return add(a, b)


def _is_zero(e) -> bool:
    return isinstance(e, N.Const) and e.val == 0


# ---------------------------------------------------------------- divide_with_recompute


def divide_with_recompute(site: Site, outer_hi, outer_stride: int, outer: str, inner: str):
    prim = site.prim
    loop: N.For = site.node()
    if not _is_zero(loop.lo):
        raise refuse(prim, loop, "the loop must start at 0",
                     "shift it first with shift_loop(p, loop, 0)")
    if loop.mode == "par":
        raise refuse(prim, loop, "the loop is parallel: overlapping chunks would run the "
                     "same iterations at the same time", "divide it before parallelizing")
    facts = facts_at(site)
    # the iterations past the whole chunks; for outer_hi = X / stride written, as Exo
    # does, hi - (X - X % stride), so an `assert X % stride == 0` can fold it
    if isinstance(outer_hi, N.BinOp) and outer_hi.op == "/" and \
            isinstance(outer_hi.rhs, N.Const) and outer_hi.rhs.val == outer_stride:
        extra = sub(loop.hi, sub(outer_hi.lhs, _mod(outer_hi.lhs, outer_stride)))
    else:
        extra = sub(loop.hi, mul(outer_hi, const(outer_stride)))
    if not prove(facts, E.le(const(1), outer_hi)):
        err = refuse(prim, loop, f"cannot prove {expr_str(outer_hi)} >= 1: with no chunk, "
                     "no iteration would run")
        raise W.why(err, facts, E.le(const(1), outer_hi), site.proc)
    if not prove(facts, E.le(const(0), extra)):
        err = refuse(prim, loop, f"cannot prove {expr_str(outer_hi)} * {outer_stride} <= "
                     f"{expr_str(loop.hi)}: the chunks would run past the loop's end")
        raise W.why(err, facts, E.le(const(0), extra), site.proc)
    check_stable(prim, loop, [loop.hi, outer_hi], site, loop.body)
    acc = accesses_at(site, loop.body)
    check_idempotent(prim, loop, loop.body, facts, acc, site.proc)
    _check_rerun_after_later(loop, facts, acc, site.proc)
    o_sym, i_sym = _new_iter(outer), _new_iter(inner)
    idx = add(mul(const(outer_stride), var(o_sym)), var(i_sym))
    inner_loop = N.For(i_sym, const(0), add(const(outer_stride), extra),
                       subst_stmts(loop.body, {loop.iter: idx}), "seq", loop.srcinfo)
    return site.replaced((loop.with_(iter=o_sym, hi=outer_hi,
                                                body=(inner_loop,)),))


def _check_rerun_after_later(loop: N.For, facts, acc, proc=None) -> None:
    """The iterations in the overlap of two chunks run again after later iterations ran:
    nothing an iteration reads or writes may be written by a later one."""
    i1, i2 = var(loop.iter.copy()), var(loop.iter.copy())
    rel = [E.le(loop.lo, i1), E.lt(i1, i2), E.lt(i2, loop.hi)]
    hit = E.first_conflict(acc, E.writes(acc), facts, ren_x={loop.iter: i1},
                           ren_y={loop.iter: i2}, relation=rel)
    if hit:
        err = refuse("divide_with_recompute", loop, "an iteration that is computed again "
                     f"after later ones {hit[0].describe()}, and a later iteration "
                     f"{hit[1].describe()}, which may be the same location")
        raise W.why_conflict(err, hit, proc)


# ---------------------------------------------------------------- mult_loops


def mult_loops(site: Site, name: str):
    prim = site.prim
    outer: N.For = site.node()
    if len(outer.body) != 1 or not isinstance(outer.body[0], N.For):
        raise refuse(prim, outer, "the loop's body must be exactly one loop")
    inner: N.For = outer.body[0]
    c = inner.hi
    if not (_is_zero(outer.lo) and _is_zero(inner.lo)):
        raise refuse(prim, outer, "both loops must start at 0")
    if not (isinstance(c, N.Const) and c.val > 0):
        raise refuse(prim, outer, f"the inner loop's bound {expr_str(c)} must be a "
                     "positive literal")
    k = _new_iter(name)
    body = subst_stmts(inner.body, {outer.iter: _floordiv(var(k), c.val),
                                    inner.iter: _mod(var(k), c.val)})
    # iterations of the merged loop run in parallel only if those of both loops did
    mode = "par" if outer.mode == inner.mode == "par" else "seq"
    new = outer.with_(iter=k, hi=mul(outer.hi, const(c.val)), body=body, mode=mode)
    return site.replaced((new,))


# ---------------------------------------------------------------- join, cut, shift


def join_loops(site: Site, site2: Site):
    prim = site.prim
    l1, l2 = site.node(), site2.node()
    if site.path[:-1] != site2.path[:-1] or site2.path[-1][1] != site.path[-1][1] + 1 or \
            site.path[-1][0] != site2.path[-1][0]:
        raise refuse(prim, l1, "the two loops must be consecutive statements")
    if l1.mode != l2.mode:
        raise refuse(prim, l1, f"one loop is '{l1.mode}' and the other '{l2.mode}'")
    facts = facts_at(site)
    # the second loop's bounds were evaluated after the first loop ran
    check_stable(prim, l1, [l2.lo, l2.hi], site, l1.body)
    if not prove(facts, E.eq(l1.hi, l2.lo)):
        err = refuse(prim, l1, f"cannot prove the first loop ends ({expr_str(l1.hi)}) "
                     f"where the second begins ({expr_str(l2.lo)})")
        raise W.why(err, facts, E.eq(l1.hi, l2.lo), site.proc)
    for lp, which in ((l1, "first"), (l2, "second")):
        if not prove(facts, E.le(lp.lo, lp.hi)):
            err = refuse(prim, l1, f"cannot prove the {which} loop's range is not empty the "
                         f"wrong way round ({expr_str(lp.lo)} <= {expr_str(lp.hi)}): the "
                         "joined loop would run iterations neither loop ran")
            raise W.why(err, facts, E.le(lp.lo, lp.hi), site.proc)
    b2 = subst_stmts(l2.body, {l2.iter: var(l1.iter)})
    if not _same_block(l1.body, b2):
        raise refuse(prim, l1, "the two loops' bodies differ")
    new = l1.with_(hi=l2.hi)
    if new.mode == "par":
        check_no_race(prim, new, facts, accesses_at(site, new.body), l1)
    return site.span(2).replaced((new,))


def _same_block(a, b) -> bool:
    """Whether two blocks are equal up to renaming the variables bound inside them; the
    variables they use from outside must be the same."""
    eq = _AlphaEq()
    for blk in (a, b):
        bound, used = stmt_syms(blk)
        if not all(eq.bind(s, s) for s in used - bound):
            return False
    return eq.block(tuple(a), tuple(b))


def cut_loop(site: Site, cut):
    prim = site.prim
    loop: N.For = site.node()
    facts = facts_at(site)
    if not prove(facts, E.and_(E.le(loop.lo, cut), E.le(cut, loop.hi))):
        err = refuse(prim, loop, f"cannot prove {expr_str(loop.lo)} <= {expr_str(cut)} "
                     f"<= {expr_str(loop.hi)}")
        raise W.why(err, facts, E.and_(E.le(loop.lo, cut), E.le(cut, loop.hi)), site.proc)
    # the second loop's bounds are evaluated after the first part ran
    check_stable(prim, loop, [cut, loop.hi], site, loop.body)
    first = loop.with_(hi=cut)
    it2 = loop.iter.copy()
    body2 = _fresh_copy(subst_stmts(loop.body, {loop.iter: var(it2)}))
    second = N.For(it2, cut, loop.hi, tuple(body2), loop.mode, loop.srcinfo)
    return site.replaced((first, second))


def shift_loop(site: Site, new_lo):
    prim = site.prim
    loop: N.For = site.node()
    facts = facts_at(site)
    if not prove(facts, E.le(const(0), new_lo)):
        err = refuse(prim, loop, f"cannot prove the new lower bound "
                     f"{expr_str(new_lo)} is >= 0")
        raise W.why(err, facts, E.le(const(0), new_lo), site.proc)
    # the old lower bound moves into the body, evaluated in every iteration
    check_stable(prim, loop, [loop.lo, new_lo], site, loop.body)
    it = loop.iter.copy()
    body = subst_stmts(loop.body, {loop.iter: _sum(var(it), _diff(loop.lo, new_lo))})
    new = loop.with_(iter=it, lo=new_lo, hi=_sum(new_lo, _diff(loop.hi, loop.lo)), body=body)
    return site.replaced((new,))


# ---------------------------------------------------------------- reorder


def reorder_loops(site: Site):
    prim = site.prim
    outer: N.For = site.node()
    if len(outer.body) != 1 or not isinstance(outer.body[0], N.For):
        raise refuse(prim, outer, "the loops are not perfectly nested: the outer "
                     "loop's body must be exactly the inner loop",
                     "fission the other statements out first")
    inner: N.For = outer.body[0]
    if outer.iter in free_syms(inner.lo) | free_syms(inner.hi):
        raise refuse(prim, outer, f"the inner loop's bounds depend on "
                     f"'{outer.iter.name}'")
    # the outer bounds are now evaluated for every inner iteration, the inner ones once
    check_stable(prim, outer, [outer.lo, outer.hi, inner.lo, inner.hi], site,
                 inner.body)
    facts = facts_at(site)
    acc = accesses_at(site, inner.body)
    i1, i2 = var(outer.iter.copy()), var(outer.iter.copy())
    j1, j2 = var(inner.iter.copy()), var(inner.iter.copy())
    rng = [E.le(outer.lo, i1), E.lt(i1, outer.hi), E.le(outer.lo, i2), E.lt(i2, outer.hi),
           E.le(inner.lo, j1), E.lt(j1, inner.hi), E.le(inner.lo, j2), E.lt(j2, inner.hi)]
    # iteration (i1, j1) runs before (i2, j2) originally and after it once reordered
    relation = rng + [E.lt(i1, i2), E.lt(j2, j1)]
    hit = E.first_conflict(acc, acc, facts, ren_x={outer.iter: i1, inner.iter: j1},
                           ren_y={outer.iter: i2, inner.iter: j2}, relation=relation)
    new_outer = inner.with_(body=(outer.with_(body=inner.body),))
    if hit:
        err = refuse(prim, outer, "a dependence between iterations would be "
                     f"reversed: one iteration {hit[0].describe()} and a later one "
                     f"{hit[1].describe()}, which may be the same location")
        raise W.refusal(err, hit, site.proc,
                        lambda: derive(site.proc, site.replaced((new_outer,)), unsafe=True))
    if new_outer.mode == "par":  # its iterations now include every outer iteration
        check_no_race(prim, new_outer, facts, accesses_at(site, new_outer.body),
                      outer)
    return site.replaced((new_outer,))


# ---------------------------------------------------------------- unroll, remove, add


def unroll_loop(site: Site):
    prim = site.prim
    loop: N.For = site.node()
    if not (isinstance(loop.lo, N.Const) and isinstance(loop.hi, N.Const)):
        raise refuse(prim, loop, "the loop bounds must be literal constants",
                     "divide the loop first, e.g. divide_loop(p, loop, 4, ...)")
    stmts = []
    for v in range(loop.lo.val, loop.hi.val):
        stmts += _fresh_copy(subst_stmts(loop.body, {loop.iter: const(v)}))
    if not stmts:
        stmts = [N.Pass(loop.srcinfo)]
    return site.replaced(tuple(stmts))


def _fresh_copy(stmts) -> list:
    """A copy whose loops, allocations and windows bind fresh Syms, so it can sit beside
    the original (a Sym is bound in one place only)."""
    from knit.rewrite.bufaccess import fresh_copy

    return list(fresh_copy(stmts))

def remove_loop(site: Site, unsafe_disable_check: bool = False, guard: bool = True):
    """The loop's body in place of the loop (it must not use the loop variable and must
    be idempotent). A loop that may run no iteration leaves its body guarded by
    `if hi > lo` (Exo's rewrite), or, with guard=False (autofission, which keeps such
    loops), is refused."""
    prim = site.prim
    loop: N.For = site.node()
    _, used = stmt_syms(loop.body)
    if loop.iter in used:
        raise refuse(prim, loop, f"the body uses the loop variable "
                     f"'{loop.iter.name}'")
    body = loop.body
    if not unsafe_disable_check:
        facts = facts_at(site)
        check_idempotent(prim, loop, loop.body, facts, accesses_at(site, loop.body),
                         site.proc)
        if not prove(facts, E.lt(loop.lo, loop.hi)):
            if not guard:
                err = refuse(prim, loop, "cannot prove the loop runs at least once "
                             f"({expr_str(loop.lo)} < {expr_str(loop.hi)})",
                             "add an assert, or specialize on the condition first")
                raise W.why(err, facts, E.lt(loop.lo, loop.hi), site.proc)
            # the loop may run no iteration: the body runs once exactly when it runs
            # at least once (as Exo: `if hi > lo:`)
            body = (N.If(N.BinOp(">", loop.hi, loop.lo, T.BOOL), loop.body, (),
                         loop.srcinfo),)
    return site.replaced(body)  # unsafe_disable_check: the wrapper derives it unchecked


def add_loop(site: Site, name: str, hi, guard: bool, unsafe_disable_check: bool):
    prim = site.prim
    stmts = site.stmts()
    check_bindings_stay_visible(prim, site.cursor())
    it = Sym(name)
    facts = facts_at(site)
    if not prove(facts, E.lt(const(0), hi)):
        err = refuse(prim, stmts[0], f"cannot prove the new loop's bound "
                     f"{expr_str(hi)} is positive: the block would never run")
        raise W.why(err, facts, E.lt(const(0), hi), site.proc)
    body = tuple(stmts)
    if guard:
        body = (N.If(E.eq(var(it), const(0)), body, (), stmts[0].srcinfo),)
    elif not unsafe_disable_check:
        check_idempotent(prim, stmts[0], stmts, facts, accesses_at(site, stmts),
                         site.proc)
    loop = N.For(it, const(0), hi, body, "seq", stmts[0].srcinfo)
    return site.replaced((loop,))


# ---------------------------------------------------------------- parallelize


def parallelize_loop(site: Site):
    prim = site.prim
    loop: N.For = site.node()
    if _inside_par(site.ir, site.path):
        raise refuse(prim, loop, "the loop is already inside a parallel loop",
                     "parallel loops do not nest: parallelize only the outer one")
    check_no_race(prim, loop, facts_at(site), lambda: accesses_at(site, loop.body),
                  cur=site.cursor(), coarse=coarse_accesses_at(site, loop.body))
    return site.replaced((loop.with_(mode="par"),))


def _inside_par(proc_ir, path) -> bool:
    node = proc_ir
    for field, i in path[:-1]:
        node = getattr(node, field)[i]
        if isinstance(node, N.For) and node.mode == "par":
            return True
    return False
