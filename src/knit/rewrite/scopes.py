"""Scope primitives: fission, autofission, lift_scope, fuse, specialize,
eliminate_dead_code, add_unsafe_guard. Each takes the Site(s) its wrapper located
(common.Site), checks, and returns the new Procedure (common.apply); a refusal names
the primitive the user called (`site.prim`), also where one primitive runs another
(lift_scope reordering two loops, autofission removing one). Each docstring lists its
checks, besides the implicit ones of every primitive (knit.stdlib.scheduling)."""

from __future__ import annotations

from knit.analysis import effects as E
from knit.analysis.byvalue import invariant_stores, split_keeps_values
from knit.analysis.exprs import var
from knit.analysis.smt import prove
from knit.cursors import paths as P
from knit.cursors.forward import sid_index
from knit.ir import nodes as N
from knit.ir.printer import expr_str, printed_names
from knit.ir.visit import free_syms, stmt_syms, subst_stmts, walk_stmts
from knit.rewrite import witness as W
from knit.rewrite.checks import accesses_at, check_no_race, check_stable, facts_at
from knit.rewrite.common import (
    Site,
    apply,
    check_bindings_stay_visible,
    derive,
    ir_of,
    refuse,
)
from knit.rewrite.loops import _fresh_copy, _same_block

# ---------------------------------------------------------------- fission


def fission(gap: Site, n_lifts: int, unsafe: bool = False):
    """Split the loops or ifs around the gap, n_lifts levels up. Checks, at each level:
    the gap is inside a scope and not at the edge of its block; nothing bound before
    it is used after it; unless `unsafe`: no later iteration of the first part and
    earlier one of the second touch one location, one writing (an idempotent,
    loop-invariant first part, two writes of the same literal, and the reorderings
    analysis/byvalue.py proves keep every value, excepted); the first part (and,
    splitting an else branch, the then branch) writes no config the bounds or the
    condition read. Splitting an if gives Exo's forms: `if c: pre` then
    `if c: post else: E` (then branch), `if c: B else: pre` then
    `if c: pass else: post` (else branch)."""
    _check_depth(gap, n_lifts)
    proc = gap.proc
    for _ in range(n_lifts):
        proc, gap = _fission_once(gap, unsafe)
    return proc


def _check_depth(gap: Site, n_lifts: int) -> None:
    depth = len(gap.parent_path)
    if 0 < depth < n_lifts:
        raise refuse(gap.prim, gap, f"n_lifts={n_lifts}, but the gap is inside only "
                     f"{depth} loop(s) or if(s)")


def _fission_once(gap: Site, unsafe: bool):
    """One level of fission: the new procedure and the gap between the two parts."""
    prim = gap.prim
    block = gap.block()
    if not gap.parent_path:
        raise refuse(prim, gap, "the gap is at the top level of the proc: there "
                     "is no loop or if around it to split")
    if gap.index == 0 or gap.index == len(block):
        raise refuse(prim, gap, "the gap is at the edge of a block: there is "
                     "nothing to split off on one side")
    scope_site = gap.at(gap.parent_path)
    scope = scope_site.node()
    pre, post = block[:gap.index], block[gap.index:]
    _check_no_shared_bindings(prim, scope_site, pre, post)
    if not unsafe:
        _check_split(scope_site, scope, pre, post, gap.field)
    first, second = _split_scope(scope, gap.field, pre, post)
    new = apply(scope_site, scope_site.replaced((first, second)), unsafe=unsafe)
    (field, i), parent = scope_site.path[-1], scope_site.parent_path
    return new, Site(new, parent + ((field, i + 1),), i + 1, prim,
                     anchor=parent + ((field, i + 1),))


def _check_no_shared_bindings(prim, scope_site, pre, post):
    """A buffer or window bound before the split must not be used after it: the second
    copy of the scope would not see it."""
    _, used = stmt_syms(post)
    for s in pre:
        if isinstance(s, (N.Alloc, N.WindowStmt)) and s.name in used:
            # named as the procedure prints them: a second `t` in scope is `t_1`, and
            # the hint's pattern must find this `t`, not an earlier one
            ir = scope_site.ir
            printed = printed_names(ir)
            name = printed.get(s.name, s.name.name)
            pattern = _pattern_of(ir, s)
            if isinstance(s, N.WindowStmt):
                raise refuse(prim, scope_site.node(), f"the window '{name}' is bound before "
                             "the split and used after it",
                             f"inline it first: inline_window(p, '{pattern}')", printed=printed)
            raise refuse(prim, scope_site.node(), f"'{name}' is allocated before the split "
                         "and used after it",
                         f"lift the allocation out first: lift_alloc(p, '{pattern}')",
                         printed=printed)


def _pattern_of(ir: N.Proc, s: N.Stmt) -> str:
    """The pattern finding the allocation or window statement `s`: `t : _` or `t = _`,
    with `#k` when k statements of that kind and name come before it."""
    kind = type(s)
    same = [x for x in walk_stmts(ir.body) if type(x) is kind and x.name.name == s.name.name]
    k = next(i for i, x in enumerate(same) if x is s)
    text = f"{s.name.name} : _" if kind is N.Alloc else f"{s.name.name} = _"
    return text + (f" #{k}" if k else "")


def _check_split(site: Site, scope, pre, post, field):
    prim = site.prim
    if isinstance(scope, N.If):
        # the second if evaluates the condition again, after the first one ran: splitting
        # the then branch, the first if has no else, so only pre may have run; splitting
        # the else branch, the first if ran either its then branch or pre
        ran = tuple(pre) if field == "body" else tuple(scope.body) + tuple(pre)
        check_stable(prim, scope, [scope.cond], site, ran, "condition")
        return
    # the second loop's bounds are evaluated after the first loop ran
    check_stable(prim, scope, [scope.lo, scope.hi], site, pre)
    facts = facts_at(site)
    a, b = accesses_at(site, pre), accesses_at(site, post)
    if invariant_stores(scope, pre, a, b, facts):
        return
    i1, i2 = var(scope.iter.copy()), var(scope.iter.copy())
    rel = [E.le(scope.lo, i1), E.lt(i1, scope.hi), E.le(scope.lo, i2), E.lt(i2, scope.hi),
           E.lt(i2, i1)]
    # after the split, pre(i1) runs before post(i2) even when i2 < i1
    ren = {"ren_x": {scope.iter: i2}, "ren_y": {scope.iter: i1}, "relation": rel}
    hit = E.first_conflict(b, a, facts, same_writes_commute=True, **ren)
    windows = E.windows_at(site.ir, site.path)
    if hit and not split_keeps_values(scope, tuple(pre), tuple(post), facts, windows):
        hit = _unexcused(site, scope, pre, post, b, facts, ren, windows) or hit
        err = refuse(prim, scope, "splitting the loop would reorder a dependence: an "
                     f"iteration of the second part {hit[0].describe()} and a later iteration "
                     f"of the first part {hit[1].describe()}, which may be the same location")
        raise W.refusal(err, hit, site, lambda: site.replaced(
            _split_scope(scope, field, pre, post)))


def _unexcused(site, scope, pre, post, b, facts, ren, windows):
    """Where several statements of the first part conflict with the second, the conflict
    of one that could not be split off alone either (e.g. the `res` zeroing beside
    invariant weight loads): the pair the refusal names. None when there is no such one."""
    if len(pre) < 2:
        return None
    for s in pre:
        a = accesses_at(site, (s,))
        hit = E.first_conflict(b, a, facts, same_writes_commute=True, **ren)
        if hit and not invariant_stores(scope, (s,), a, b, facts) and \
                not split_keeps_values(scope, (s,), tuple(post), facts, windows):
            return hit
    return None


def _split_scope(scope, field, pre, post):
    if isinstance(scope, N.For):
        it = scope.iter.copy()
        second = N.For(it, scope.lo, scope.hi, subst_stmts(post, {scope.iter: var(it)}),
                       scope.mode, scope.srcinfo)
        return scope.with_(body=tuple(pre)), second
    # Exo's forms: the second if keeps the else branch (splitting the then branch), or
    # gets an empty then branch (splitting the else branch)
    if field == "body":
        return scope.with_(body=tuple(pre), orelse=()), N.If(scope.cond, tuple(post),
                                                             scope.orelse, scope.srcinfo)
    return scope.with_(orelse=tuple(pre)), N.If(scope.cond, (N.Pass(),), tuple(post),
                                                scope.srcinfo)


def autofission(gap: Site, n_lifts: int):
    """fission, then drop the loops around either part that no longer need them, at
    every level that was split (as Exo does). More levels than there are scopes around
    the gap split every one of them (as Exo's autofission does; `fission` refuses).
    Checks: fission's, at each level; each removal is remove_loop's, and a loop whose
    removal is not proven is kept."""
    if gap.parent_path:  # at the top level, _fission_once says there is nothing to split
        n_lifts = min(n_lifts, len(gap.parent_path))
    proc = gap.proc
    parts = []  # sids of the two halves made at each level, innermost level first
    for _ in range(n_lifts):
        proc, gap = _fission_once(gap, False)
        block = gap.block()
        parts += [block[gap.index - 1].sid, block[gap.index].sid]
    for sid in parts:  # inner loops first, so the outer ones' bodies no longer use them
        path = sid_index(proc).get(sid)
        if path is not None:
            proc = _try_remove_loop(proc, path, gap.prim)
    if ir_of(proc).instr is not None:
        # as Exo's autofission (its DoFissionLoops) does: an instruction's fissioned
        # body makes a plain procedure, whose calls compile to that body's C
        proc = derive(proc, ir_of(proc).with_(instr=None), prim=gap.prim)
    return proc


def _try_remove_loop(proc, path, prim: str):
    from knit.errors import SchedulingError
    from knit.rewrite.loops import remove_loop

    ir = ir_of(proc)
    if not P.is_valid_stmt_path(ir, path) or not isinstance(P.stmt_at(ir, path), N.For):
        return proc
    site = Site(proc, path, None, prim)
    try:
        return apply(site, remove_loop(site, guard=False))
    except SchedulingError:
        return proc


# ---------------------------------------------------------------- lift_scope


def lift_scope(site: Site):
    """Swap the loop or if at `site` with the loop or if around it. Checks: it is the
    only statement of that scope's body; lifting a loop out of a loop: reorder_loops'
    checks; an if out of a loop: its condition does not depend on the loop variable,
    nor read a config the branches write; a loop out of an if: the if has no else
    branch and the body writes no config the condition reads; an if out of an if
    (either branch): none beyond the only-statement one."""
    prim = site.prim
    inner = site.node()
    if not site.parent_path:
        raise refuse(prim, inner, "the statement is at the top level: there is no "
                     "scope to lift it out of")
    outer_site = site.at(site.parent_path)
    outer = outer_site.node()
    field = site.field
    if len(getattr(outer, field)) != 1:
        raise refuse(prim, inner, "the statement must be the only one in the body of "
                     "its enclosing scope", "fission the other statements out first")
    if isinstance(outer, N.For) and isinstance(inner, N.For):
        from knit.rewrite.loops import reorder_loops

        # lifting a loop out of a loop reorders them
        return apply(outer_site, reorder_loops(outer_site))
    new = _lift(outer_site, outer, inner, field)
    return apply(outer_site, outer_site.replaced((new,)))


def _lift(outer_site: Site, outer, inner, field):
    prim = outer_site.prim
    if isinstance(outer, N.For):  # for i: if c: A else: B  ->  if c: for i: A else: for i: B
        if outer.iter in free_syms(inner.cond):
            raise refuse(prim, inner, f"the condition {expr_str(inner.cond)} depends "
                         f"on the loop variable '{outer.iter.name}'")
        check_stable(prim, inner, [inner.cond], outer_site, inner.body + inner.orelse,
                     "condition")
        body = (outer.with_(body=inner.body),)
        orelse = (_loop_copy(outer, inner.orelse),) if inner.orelse else ()
        return inner.with_(body=body, orelse=orelse)
    if isinstance(inner, N.For):  # if c: for i: A  ->  for i: if c: A
        if outer.orelse or field == "orelse":
            raise refuse(prim, inner, "cannot lift a loop out of an if that has an "
                         "else branch")
        check_stable(prim, outer, [outer.cond], outer_site, inner.body, "condition")
        return inner.with_(body=(outer.with_(body=inner.body),))
    # if c1: (if c2: A else: B) [else: D]  ->  if c2: (if c1: A else: D) else: (if c1: B else: D)
    if field == "orelse":
        return _lift_from_else(outer, inner)
    d = outer.orelse
    then = (outer.with_(body=inner.body),)
    if inner.orelse:
        other = (N.If(outer.cond, inner.orelse, tuple(_fresh_copy(d)) if d else (),
                      outer.srcinfo),)
    elif d:  # no B: the else branch runs D exactly when c1 fails (a body is never empty)
        other = (N.If(E.not_(outer.cond), tuple(_fresh_copy(d)), (), outer.srcinfo),)
    else:
        other = ()
    return inner.with_(body=then, orelse=other)


def _lift_from_else(outer: N.If, inner: N.If) -> N.If:
    """if c1: D else: (if c2: A else: B)  ->  if c2: (if c1: D else: A) else: (if c1: D
    else: B). Both conditions are evaluated one after the other with nothing run in
    between, in either order, so each branch runs under the same conditions as before."""
    d = outer.body  # never empty
    then = (outer.with_(orelse=inner.body),)
    other = (N.If(outer.cond, tuple(_fresh_copy(d)), inner.orelse, outer.srcinfo),)
    return inner.with_(body=then, orelse=other)


def _loop_copy(loop: N.For, body):
    it = loop.iter.copy()
    return N.For(it, loop.lo, loop.hi, subst_stmts(body, {loop.iter: var(it)}), loop.mode,
                 loop.srcinfo)


# ---------------------------------------------------------------- fuse


def fuse(site1: Site, site2: Site, unsafe: bool = False):
    """Fuse two consecutive loops (or ifs) into one. Checks: consecutive in one block;
    two loops with provably equal ranges, or two ifs with the same condition; the first
    body writes no config the second's bounds (condition) read; unless `unsafe`: no
    iteration of the second loop now runs before a later iteration of the first that
    touches the same location (one writing; two writes of the same literal commute, and
    a first loop whose iterations all store the same values, which analysis/byvalue.py
    `invariant_stores` proves, is excepted); a fused parallel loop does not race."""
    prim = site1.prim
    s1, s2 = site1.node(), site2.node()
    consecutive = site1.parent_path == site2.parent_path and \
        site1.field == site2.field and site2.index == site1.index + 1
    if not consecutive:
        raise refuse(prim, s1, "the two statements must be consecutive in one block")
    if type(s1) is not type(s2) or not isinstance(s1, (N.For, N.If)):
        raise refuse(prim, s1, "expected two loops or two ifs")
    facts = facts_at(site1)
    if isinstance(s1, N.If):
        new = _fuse_ifs(site1, s1, s2)
    else:
        new = _fuse_loops(site1, s1, s2, facts, unsafe)
    return apply(site1, site1.span(2).replaced((new,)), unsafe=unsafe)


def _fuse_ifs(site1: Site, s1: N.If, s2: N.If) -> N.If:
    if not _same_expr(s1.cond, s2.cond):
        # conditions written differently (`a == b`, `a - b == 0`) fuse when they are
        # proven to hold together, under what holds at the first if
        facts = facts_at(site1)
        same = E.and_(E.or_(E.not_(s1.cond), s2.cond), E.or_(E.not_(s2.cond), s1.cond))
        if not prove(facts, same):
            err = refuse(site1.prim, s1, f"the conditions differ: {expr_str(s1.cond)} vs "
                         f"{expr_str(s2.cond)}, and they could not be proven equivalent")
            raise W.why(err, facts, same, site1)
    # the second condition was evaluated after the first if's branch ran; the fused
    # if evaluates the first one, before either branch
    check_stable(site1.prim, s1, [s1.cond, s2.cond], site1, s1.body + s1.orelse,
                 "condition")
    return s1.with_(body=s1.body + s2.body, orelse=s1.orelse + s2.orelse)


def _fuse_loops(site1: Site, s1: N.For, s2: N.For, facts, unsafe: bool) -> N.For:
    prim = site1.prim
    if not unsafe:  # the second loop's bounds were evaluated after the first loop ran
        check_stable(prim, s1, [s2.lo, s2.hi], site1, s1.body)
    same = E.and_(E.eq(s1.lo, s2.lo), E.eq(s1.hi, s2.hi))
    if not (prove(facts, E.eq(s1.lo, s2.lo)) and prove(facts, E.eq(s1.hi, s2.hi))):
        err = refuse(prim, s1, f"cannot prove the loops have the same range: "
                     f"seq({expr_str(s1.lo)}, {expr_str(s1.hi)}) vs "
                     f"seq({expr_str(s2.lo)}, {expr_str(s2.hi)})")
        raise W.why(err, facts, same, site1)
    body2 = subst_stmts(s2.body, {s2.iter: var(s1.iter)})
    fused = s1.with_(body=s1.body + body2)
    if unsafe:
        return fused
    a, b = accesses_at(site1, s1.body), accesses_at(site1, body2)
    i1, i2 = var(s1.iter.copy()), var(s1.iter.copy())
    rel = [E.le(s1.lo, i1), E.lt(i1, s1.hi), E.le(s1.lo, i2), E.lt(i2, s1.hi),
           E.lt(i2, i1)]
    # fused, the second body at i2 runs before the first body at a later i1
    hit = E.first_conflict(b, a, facts, ren_x={s1.iter: i2}, ren_y={s1.iter: i1},
                           relation=rel, same_writes_commute=True)
    if hit and not invariant_stores(s1, s1.body, a, b, facts):
        err = refuse(prim, s1, "fusing would reorder a dependence: the second loop "
                     f"{hit[0].describe()} in an iteration that would now run before a "
                     f"later iteration of the first loop, which {hit[1].describe()}")
        raise W.why_conflict(err, hit, site1)
    if fused.mode == "par":  # the second loop's body now runs in parallel iterations too
        check_no_race(prim, fused, facts, accesses_at(site1, fused.body), s1)
    return fused


def _same_expr(a, b) -> bool:
    return a == b or _same_block((N.If(a, (N.Pass(),), ()),), (N.If(b, (N.Pass(),), ()),))


# ---------------------------------------------------------------- specialize and guards


def specialize(block: Site, conds: list):
    """`B` -> `if c0: B elif c1: B ... else: B`: always safe. Checks: the block binds
    no buffer or window that statements after it use."""
    stmts = block.stmts()
    check_bindings_stay_visible(block.prim, block)
    out = tuple(_fresh_copy(stmts))
    for c in reversed(conds):
        out = (N.If(c, tuple(_fresh_copy(stmts)), out, stmts[0].srcinfo),)
    # the first copy keeps the original statements' identities for forwarding
    first = out[0]
    out = (first.with_(body=tuple(stmts)),)
    return apply(block, block.replaced(out))


def eliminate_dead_code(site: Site):
    """An if whose condition is provably constant -> the branch taken; a loop that
    provably never runs -> `pass`. Checks: one of those is proven (else the values
    that break it)."""
    prim = site.prim
    s = site.node()
    facts = facts_at(site)
    if isinstance(s, N.If):
        if prove(facts, s.cond):
            return apply(site, site.replaced(s.body))
        if prove(facts, E.not_(s.cond)):
            return apply(site, site.replaced(s.orelse or (N.Pass(s.srcinfo),)))
        err = refuse(prim, s, f"cannot prove the condition "
                     f"{expr_str(s.cond)} is always true or always false here")
        raise W.why(err, facts, s.cond, site)
    if isinstance(s, N.For):
        if prove(facts, E.le(s.hi, s.lo)):
            return apply(site, site.replaced((N.Pass(s.srcinfo),)))
        err = refuse(prim, s, f"cannot prove the loop never runs "
                     f"({expr_str(s.hi)} <= {expr_str(s.lo)})")
        raise W.why(err, facts, E.le(s.hi, s.lo), site)
    raise refuse(prim, s, "expected an if or a loop")


def add_unsafe_guard(block: Site, cond):
    """UNSAFE: wrap the block in `if cond:`, unchecked (the result is not proven
    equal). Checks: only that the block binds no buffer or window used after it."""
    stmts = block.stmts()
    check_bindings_stay_visible(block.prim, block)
    return apply(block, block.replaced((N.If(cond, tuple(stmts), (), stmts[0].srcinfo),)),
                 unsafe=True)
