"""Scope primitives: fission, autofission, lift_scope, fuse, specialize,
eliminate_dead_code, add_unsafe_guard."""

from __future__ import annotations

from knit.analysis import effects as E
from knit.analysis.exprs import var
from knit.analysis.smt import prove
from knit.cursors import cursor as C, paths as P
from knit.cursors.forward import sid_index
from knit.ir import nodes as N
from knit.ir.printer import expr_str
from knit.ir.visit import free_syms, stmt_syms, subst_stmts
from knit.rewrite import witness as W
from knit.rewrite.checks import accesses_at, check_no_race, check_stable, facts_at
from knit.rewrite.common import (
    check_bindings_stay_visible,
    derive,
    refuse,
    replace_stmts,
    site_of,
)
from knit.rewrite.loops import _fresh_copy, _same_block

# ---------------------------------------------------------------- fission


def fission(proc, gap: C.GapCursor, n_lifts: int, unsafe: bool = False):
    _check_depth(gap, n_lifts, "fission")
    for _ in range(n_lifts):
        proc, gap = _fission_once(proc, gap, unsafe)
    return proc


def _check_depth(gap: C.GapCursor, n_lifts: int, prim: str) -> None:
    depth = len(gap._parent)
    if 0 < depth < n_lifts:
        raise refuse(prim, gap.anchor(), f"n_lifts={n_lifts}, but the gap is inside only "
                     f"{depth} loop(s) or if(s)")


def _fission_once(proc, gap: C.GapCursor, unsafe: bool, prim: str = "fission"):
    block = gap._block()
    if not gap._parent:
        raise refuse(prim, gap.anchor(), "the gap is at the top level of the proc: there "
                     "is no loop or if around it to split")
    if gap._idx == 0 or gap._idx == len(block):
        raise refuse(prim, gap.anchor(), "the gap is at the edge of a block: there is "
                     "nothing to split off on one side")
    parent_cur = C.make_stmt_cursor(proc, gap._parent)
    scope = parent_cur._node()
    pre, post = block[:gap._idx], block[gap._idx:]
    _check_no_shared_bindings("fission", scope, pre, post)
    if not unsafe:
        _check_split(proc, parent_cur, scope, pre, post, gap._field, prim)
    first, second = _split_scope(scope, gap._field, pre, post)
    new = replace_stmts(proc, parent_cur, (first, second), unsafe=unsafe, prim=prim)
    p = parent_cur._path
    return new, C.GapCursor(new, p[:-1], p[-1][0], p[-1][1] + 1)


def _check_no_shared_bindings(prim, scope, pre, post):
    """A buffer or window bound before the split must not be used after it: the second
    copy of the scope would not see it."""
    _, used = stmt_syms(post)
    for s in pre:
        if isinstance(s, (N.Alloc, N.WindowStmt)) and s.name in used:
            name = s.name.name
            if isinstance(s, N.WindowStmt):
                raise refuse(prim, scope, f"the window '{name}' is bound before the split and "
                             "used after it", "inline it first: inline_window(p, "
                             f"'{name} = _')")
            raise refuse(prim, scope, f"'{name}' is allocated before the split and used after "
                         f"it", f"lift the allocation out first: lift_alloc(p, '{name} : _')")


def _check_split(proc, cur, scope, pre, post, field, prim: str = "fission"):
    if isinstance(scope, N.If):
        # the second if evaluates the condition again, after the first one's branch ran
        # (pre, or the other branch when the condition went the other way)
        other = scope.orelse if field == "body" else scope.body
        check_stable(prim, scope, [scope.cond], cur, tuple(pre) + tuple(other),
                     "condition")
        return
    # the second loop's bounds are evaluated after the first loop ran
    check_stable(prim, scope, [scope.lo, scope.hi], cur, pre)
    facts = facts_at(cur)
    a, b = accesses_at(cur, pre), accesses_at(cur, post)
    if _invariant_and_idempotent(scope, pre, a, b, facts):
        return
    i1, i2 = var(scope.iter.copy()), var(scope.iter.copy())
    rel = [E.le(scope.lo, i1), E.lt(i1, scope.hi), E.le(scope.lo, i2), E.lt(i2, scope.hi),
           E.lt(i2, i1)]
    # after the split, pre(i1) runs before post(i2) even when i2 < i1
    hit = E.first_conflict(b, a, facts, ren_x={scope.iter: i2}, ren_y={scope.iter: i1},
                           relation=rel)
    if hit:
        err = refuse(prim, scope, "splitting the loop would reorder a dependence: an "
                     f"iteration of the second part {hit[0].describe()} and a later iteration "
                     f"of the first part {hit[1].describe()}, which may be the same location")
        raise W.refusal(err, hit, proc, lambda: replace_stmts(
            proc, cur, _split_scope(scope, field, pre, post), unsafe=True, prim=prim))


def _invariant_and_idempotent(loop, pre, a, b, facts) -> bool:
    """When the first part does not use the loop variable and is idempotent, every
    iteration of it writes the same values, so the second part reads the same values
    whichever iteration wrote them; only the second part must not write what the
    first part reads."""
    _, used = stmt_syms(pre)
    if loop.iter in used or any(x.kind == "+" for x in a):
        return False
    if E.first_conflict(E.writes(a), E.reads(a), facts):
        return False
    i1, i2 = var(loop.iter.copy()), var(loop.iter.copy())
    rel = [E.le(loop.lo, i1), E.lt(i1, loop.hi), E.le(loop.lo, i2), E.lt(i2, loop.hi)]
    ren = {"ren_x": {loop.iter: i1}, "ren_y": {loop.iter: i2}, "relation": rel}
    # the second part must not change what the first reads, nor write what it writes
    return E.first_conflict(E.writes(b), E.reads(a) + E.writes(a), facts, **ren) is None


def _split_scope(scope, field, pre, post):
    if isinstance(scope, N.For):
        it = scope.iter.copy()
        second = N.For(it, scope.lo, scope.hi, subst_stmts(post, {scope.iter: var(it)}),
                       scope.mode, scope.srcinfo)
        return scope.with_(body=tuple(pre)), second
    if field == "body":
        return scope.with_(body=tuple(pre)), N.If(scope.cond, tuple(post), (), scope.srcinfo)
    # splitting the else branch: the first if keeps the then branch
    return scope.with_(orelse=tuple(pre)), N.If(E.not_(scope.cond), tuple(post), (),
                                                scope.srcinfo)


def autofission(proc, gap: C.GapCursor, n_lifts: int):
    """fission, then drop the loops around either part that no longer need them, at
    every level that was split (as Exo does), each removal checked by remove_loop."""
    _check_depth(gap, n_lifts, "fission")
    parts = []  # sids of the two halves made at each level, innermost level first
    for _ in range(n_lifts):
        # its refusals say "fission" (test_autofission_refuses_what_fission_refuses)
        proc, gap = _fission_once(proc, gap, False)
        block = gap._block()
        parts += [block[gap._idx - 1].sid, block[gap._idx].sid]
    for sid in parts:  # inner loops first, so the outer ones' bodies no longer use them
        path = sid_index(proc).get(sid)
        if path is not None:
            proc = _try_remove_loop(proc, path)
    return proc


def _try_remove_loop(proc, path):
    from knit.errors import SchedulingError
    from knit.rewrite.loops import remove_loop

    if not P.is_valid_stmt_path(proc._loopir_proc, path):
        return proc
    cur = C.make_stmt_cursor(proc, path)
    if not isinstance(cur, C.ForCursor):
        return proc
    try:
        return derive(proc, remove_loop(site_of(cur, "autofission"), guard=False),
                      prim="autofission")
    except SchedulingError:
        return proc


# ---------------------------------------------------------------- lift_scope


def lift_scope(proc, cur):
    prim = "lift_scope"
    inner = cur._node()
    parent_cur = cur.parent()
    if parent_cur.is_invalid():
        raise refuse(prim, inner, "the statement is at the top level: there is no "
                     "scope to lift it out of")
    outer = parent_cur._node()
    field = cur._path[-1][0]
    if len(getattr(outer, field)) != 1:
        raise refuse(prim, inner, "the statement must be the only one in the body of "
                     "its enclosing scope", "fission the other statements out first")
    if isinstance(outer, N.For) and isinstance(inner, N.For):
        from knit.rewrite.loops import reorder_loops

        # lifting a loop out of a loop reorders them
        return derive(proc, reorder_loops(site_of(parent_cur, prim)), prim=prim)
    new = _lift(proc, parent_cur, outer, inner, field)
    return replace_stmts(proc, parent_cur, (new,), prim=prim)


def _lift(proc, parent_cur, outer, inner, field):
    if isinstance(outer, N.For):  # for i: if c: A else: B  ->  if c: for i: A else: for i: B
        if outer.iter in free_syms(inner.cond):
            raise refuse("lift_scope", inner, f"the condition {expr_str(inner.cond)} depends "
                         f"on the loop variable '{outer.iter.name}'")
        check_stable("lift_scope", inner, [inner.cond], parent_cur, inner.body + inner.orelse,
                     "condition")
        body = (outer.with_(body=inner.body),)
        orelse = (_loop_copy(outer, inner.orelse),) if inner.orelse else ()
        return inner.with_(body=body, orelse=orelse)
    if isinstance(inner, N.For):  # if c: for i: A  ->  for i: if c: A
        if outer.orelse or field == "orelse":
            raise refuse("lift_scope", inner, "cannot lift a loop out of an if that has an "
                         "else branch")
        check_stable("lift_scope", outer, [outer.cond], parent_cur, inner.body, "condition")
        return inner.with_(body=(outer.with_(body=inner.body),))
    # if c1: (if c2: A else: B) [else: D]  ->  if c2: (if c1: A else: D) else: (if c1: B else: D)
    if field == "orelse":
        raise refuse("lift_scope", inner, "lifting an if out of an else branch is not supported",
                     "lift it from the then branch, or rewrite the condition")
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


def _loop_copy(loop: N.For, body):
    it = loop.iter.copy()
    return N.For(it, loop.lo, loop.hi, subst_stmts(body, {loop.iter: var(it)}), loop.mode,
                 loop.srcinfo)


# ---------------------------------------------------------------- fuse


def fuse(proc, cur1, cur2, unsafe: bool = False):
    prim = "fuse"
    s1, s2 = cur1._node(), cur2._node()
    consecutive = cur1._path[:-1] == cur2._path[:-1] and \
        cur1._path[-1][0] == cur2._path[-1][0] and cur2._path[-1][1] == cur1._path[-1][1] + 1
    if not consecutive:
        raise refuse(prim, s1, "the two statements must be consecutive in one block")
    if type(s1) is not type(s2) or not isinstance(s1, (N.For, N.If)):
        raise refuse(prim, s1, "expected two loops or two ifs")
    facts = facts_at(cur1)
    if isinstance(s1, N.If):
        new = _fuse_ifs(cur1, s1, s2)
    else:
        new = _fuse_loops(cur1, s1, s2, facts, unsafe)
    return replace_stmts(proc, cur1.as_block().expand(0, 1), (new,), unsafe=unsafe, prim=prim)


def _fuse_ifs(cur1, s1: N.If, s2: N.If) -> N.If:
    if not _same_expr(s1.cond, s2.cond):
        raise refuse("fuse", s1, f"the conditions differ: {expr_str(s1.cond)} vs "
                     f"{expr_str(s2.cond)}")
    # the second condition was evaluated after the first if's branch ran
    check_stable("fuse", s1, [s1.cond], cur1, s1.body + s1.orelse, "condition")
    return s1.with_(body=s1.body + s2.body, orelse=s1.orelse + s2.orelse)


def _fuse_loops(cur1, s1: N.For, s2: N.For, facts, unsafe: bool) -> N.For:
    if not unsafe:  # the second loop's bounds were evaluated after the first loop ran
        check_stable("fuse", s1, [s2.lo, s2.hi], cur1, s1.body)
    same = E.and_(E.eq(s1.lo, s2.lo), E.eq(s1.hi, s2.hi))
    if not (prove(facts, E.eq(s1.lo, s2.lo)) and prove(facts, E.eq(s1.hi, s2.hi))):
        err = refuse("fuse", s1, f"cannot prove the loops have the same range: "
                     f"seq({expr_str(s1.lo)}, {expr_str(s1.hi)}) vs "
                     f"seq({expr_str(s2.lo)}, {expr_str(s2.hi)})")
        raise W.why(err, facts, same, cur1._proc)
    body2 = subst_stmts(s2.body, {s2.iter: var(s1.iter)})
    fused = s1.with_(body=s1.body + body2)
    if unsafe:
        return fused
    a, b = accesses_at(cur1, s1.body), accesses_at(cur1, body2)
    i1, i2 = var(s1.iter.copy()), var(s1.iter.copy())
    rel = [E.le(s1.lo, i1), E.lt(i1, s1.hi), E.le(s1.lo, i2), E.lt(i2, s1.hi),
           E.lt(i2, i1)]
    # fused, the second body at i2 runs before the first body at a later i1
    hit = E.first_conflict(b, a, facts, ren_x={s1.iter: i2}, ren_y={s1.iter: i1},
                           relation=rel)
    if hit:
        err = refuse("fuse", s1, "fusing would reorder a dependence: the second loop "
                     f"{hit[0].describe()} in an iteration that would now run before a "
                     f"later iteration of the first loop, which {hit[1].describe()}")
        raise W.why_conflict(err, hit, cur1._proc)
    if fused.mode == "par":  # the second loop's body now runs in parallel iterations too
        check_no_race("fuse", fused, facts, accesses_at(cur1, fused.body), s1)
    return fused


def _same_expr(a, b) -> bool:
    return a == b or _same_block((N.If(a, (N.Pass(),), ()),), (N.If(b, (N.Pass(),), ()),))


# ---------------------------------------------------------------- specialize and guards


def specialize(proc, block: C.BlockCursor, conds: list):
    prim = "specialize"
    stmts = block._stmts()
    check_bindings_stay_visible(prim, block)
    out = tuple(_fresh_copy(stmts))
    for c in reversed(conds):
        out = (N.If(c, tuple(_fresh_copy(stmts)), out, stmts[0].srcinfo),)
    # the first copy keeps the original statements' identities for forwarding
    first = out[0]
    out = (first.with_(body=tuple(stmts)),)
    return replace_stmts(proc, block, out, prim=prim)


def eliminate_dead_code(proc, cur):
    prim = "eliminate_dead_code"
    s = cur._node()
    facts = facts_at(cur)
    if isinstance(s, N.If):
        if prove(facts, s.cond):
            return replace_stmts(proc, cur, s.body, prim=prim)
        if prove(facts, E.not_(s.cond)):
            return replace_stmts(proc, cur, s.orelse or (N.Pass(s.srcinfo),), prim=prim)
        err = refuse(prim, s, f"cannot prove the condition "
                     f"{expr_str(s.cond)} is always true or always false here")
        raise W.why(err, facts, s.cond, proc)
    if isinstance(s, N.For):
        if prove(facts, E.le(s.hi, s.lo)):
            return replace_stmts(proc, cur, (N.Pass(s.srcinfo),), prim=prim)
        err = refuse(prim, s, f"cannot prove the loop never runs "
                     f"({expr_str(s.hi)} <= {expr_str(s.lo)})")
        raise W.why(err, facts, E.le(s.hi, s.lo), proc)
    raise refuse(prim, s, "expected an if or a loop")


def add_unsafe_guard(proc, block: C.BlockCursor, cond):
    prim = "add_unsafe_guard"
    stmts = block._stmts()
    check_bindings_stay_visible(prim, block)
    return replace_stmts(proc, block, (N.If(cond, tuple(stmts), (), stmts[0].srcinfo),),
                         unsafe=True, prim=prim)
