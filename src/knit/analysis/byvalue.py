"""Reorderings that keep every value although they reorder a dependence.

The dependence check (effects.first_conflict) compares locations: two accesses of one
location, one writing, must keep their order. Some writes store a value the location
already holds, or the same value in every iteration; moving them across the other
accesses leaves every value as it was. This module recognises two such shapes, for
splitting `for k in seq(lo, hi): pre; post` into `for k: pre` then `for k: post`
(fission, autofission), where the split runs every `pre(k)` before every `post(k')`,
and one shape for fusing `for k: first` with `for k: second` (fuse), where the fused
loop runs `second(k)` before `first(k')` for k < k':

- a restored copy (`restored_copy`): `pre` copies S into D, and `post` ends by copying
  D back into S with the same index map. Every `pre(k)` after the first then stores,
  at every point, the value already there (the copy-in is redundant after the exact
  inverse copy-back). This is the register staging of a GEMM micro-kernel:
  `C_reg = C`, `C_reg += A * B`, `C = C_reg` over k.
- repeated stores (`repeated_stores`): `post` does not depend on k and stores the same
  values in every iteration, from locations `pre` may write but that `post` itself
  never writes; `pre` never touches what `post` writes. Only the last `post` counts,
  and it reads what the last `pre` left, in either order (the copy-back above, split
  off the reduction).
- invariant stores (`invariant_stores`), for either: the first part does not depend on
  k and stores values computed from locations nobody writes, and the second part never
  writes what the first touches. Every iteration of the first part then stores the
  same values, so which one ran last before the second part reads them does not
  matter: a loop-invariant load split off its loop, or a copy of B's panel fused into
  each thread's iteration of a GEMM (each thread packs the whole panel).

Each function answers True only when the whole split is proven to keep every value; the
caller then skips its location-based check. The argument of each is in its docstring.
"""

from __future__ import annotations

from knit.analysis import effects as E
from knit.analysis.exprs import var
from knit.ir import nodes as N
from knit.ir.visit import stmt_exprs, stmt_syms, subst, walk_expr, walk_stmts


def split_keeps_values(loop: N.For, pre, post, facts, windows: dict) -> bool:
    """Whether splitting `loop`'s body into `pre` and `post` (each a tuple of
    statements) keeps every value, by one of the two rules of this module. `facts` hold
    where the loop stands; `windows` are the windows bound there."""
    return restored_copy(loop, pre, post, facts, windows) or \
        repeated_stores(loop, pre, post, facts, windows)


# ---------------------------------------------------------------- a restored copy


def restored_copy(loop: N.For, pre, post, facts, windows: dict) -> bool:
    """`pre` is one copy nest P: loops over v (bounds not reading k, configs or data)
    around `D[F(v)] = S[G(v)]`, D and S two different buffers of one precision, F
    one-to-one over the nest (different points write different locations). `post`
    holds a nest R over the same v (the same bounds) whose innermost body copies back,
    `S[G(v)] = D[F(v)]`, and whose points are independent (as if each loop were par).
    After R's copy-back nothing in `post` writes D or S.

    Why the split keeps every value. Let Inv be "D[F(v)] == S[G(v)] for every v of
    the nest".
    1. In a state where Inv holds, P changes nothing: each of its writes stores the
       value already there, so Inv still holds for the next one.
    2. P establishes Inv: point v sets D[F(v)] to S[G(v)]; no later point writes
       D[F(v)] again (F is one-to-one) or S (P writes only D, and D is not S).
    3. Every post(k) ends with Inv, whatever state it starts in: R's point v sets
       S[G(v)] to D[F(v)]; other points of R write neither location (they are
       independent), and nothing after R in `post` writes D or S.
    The original runs P, post(lo), P, post(lo+1), ...: by 3 and 1 every P after the
    first changes nothing, so it is P, post(lo), post(lo+1), .... The split runs P
    once per k and then the posts: by 2 and 1 that is the same. P does not read k, and
    with no iteration both run nothing."""
    if len(pre) != 1:
        return False
    p = _copy_nest(pre[0])
    if p is None:
        return False
    loops, cp = p
    dst, src = cp.name, cp.rhs.name
    if dst == src or dst in windows or src in windows or cp.type != cp.rhs.type:
        return False
    _, used = stmt_syms(pre)
    if loop.iter in used or any(isinstance(x, N.ReadConfig) for x in _exprs_of(pre)):
        return False
    k_facts = list(facts) + [E.le(loop.lo, var(loop.iter)), E.lt(var(loop.iter), loop.hi)]
    if not _independent(loops, (cp,), k_facts, windows, writes_only=True):
        return False
    if any(isinstance(s, N.WindowStmt) for s in walk_stmts(post)):
        return False  # accesses through windows bound in post: not followed here
    for j, q in enumerate(post):
        back = _copy_back(q, loops, cp)
        if back is None:
            continue
        r_loops, body, at = back
        later = tuple(body[at + 1:]) + tuple(post[j + 1:])
        if any(a.kind != "r" and a.buf in (dst, src) for a in E.accesses(later, windows)):
            continue
        if _independent(r_loops, body, k_facts, windows):
            return True
    return False


def _copy_nest(s):
    """(loops, assign) when s is loops, each holding one statement, around one
    `D[...] = S[...]`; else None."""
    loops = []
    while isinstance(s, N.For) and len(s.body) == 1:
        loops.append(s)
        s = s.body[0]
    if isinstance(s, N.Assign) and isinstance(s.rhs, N.Read) and s.rhs.type.is_real():
        return loops, s
    return None


def _copy_back(q, loops, cp):
    """(R's loops, R's innermost body, the copy-back's position in it) when q is a nest
    over the same ranges as `loops` (each loop but the innermost holding one statement)
    whose innermost body holds `S[G(v)] = D[F(v)]`; else None."""
    r_loops, body, ren = [], (q,), {}
    for lp in loops:
        if len(body) != 1 or not isinstance(body[0], N.For):
            return None
        r = body[0]
        if subst(r.lo, ren) != lp.lo or subst(r.hi, ren) != lp.hi:
            return None
        ren[r.iter] = var(lp.iter)
        r_loops.append(r)
        body = r.body
    for at, s in enumerate(body):
        if not (isinstance(s, N.Assign) and isinstance(s.rhs, N.Read)):
            continue
        if s.name == cp.rhs.name and s.rhs.name == cp.name and s.type == cp.type and \
                tuple(subst(i, ren) for i in s.idx) == cp.rhs.idx and \
                tuple(subst(i, ren) for i in s.rhs.idx) == cp.idx:
            return r_loops, body, at
    return None


def _independent(loops, body, facts, windows, writes_only: bool = False) -> bool:
    """Whether the points of the nest `loops` around `body` are independent: at every
    level, two different iterations (the outer levels' variables equal) touch no common
    location that one of them writes (with `writes_only`, that both write)."""
    facts = list(facts)
    for k, lp in enumerate(loops):
        inner = (loops[k + 1],) if k + 1 < len(loops) else tuple(body)
        acc = E.accesses(inner, windows)
        if writes_only:
            acc = E.writes(acc)
        if E.race(lp, facts, acc) is not None:
            return False
        facts += [E.le(lp.lo, var(lp.iter)), E.lt(var(lp.iter), lp.hi)]
    return True


def _exprs_of(stmts):
    """Every expression node of `stmts`, nested statements included."""
    for s in walk_stmts(stmts):
        for e in stmt_exprs(s):
            yield from walk_expr(e)


# ---------------------------------------------------------------- repeated stores


def repeated_stores(loop: N.For, pre, post, facts, windows: dict) -> bool:
    """`post` does not read k, touches no config, reduces into nothing and never reads
    a location it writes; no iteration of `pre` reads or writes a location `post`
    writes.

    Why the split keeps every value. Call W the locations `post` writes, X all others.
    `pre` reads and writes only X, so what it leaves in X does not depend on where the
    posts run: the same in both orders. Every post(k) is the same code (k unread),
    whose control flow reads no data and no config, so it writes the same locations W,
    with values computed from X alone (it reads no location of W). In the original the
    last post runs after the last pre and overwrites all of W with values computed from
    the final X; in the split every post runs after the last pre, and each writes those
    same values. With no iteration both run nothing."""
    _, used = stmt_syms(post)
    if loop.iter in used:
        return False
    a, b = E.accesses(pre, windows), E.accesses(post, windows)
    if any(x.kind == "+" or isinstance(x.buf, tuple) for x in b):
        return False
    if any(isinstance(x, N.ReadConfig) for x in _exprs_of(post)):
        return False
    if E.first_conflict(E.writes(b), E.reads(b), facts) is not None:
        return False  # it reads a location it writes, in one instance or across two
    i1, i2 = var(loop.iter.copy()), var(loop.iter.copy())
    rel = [E.le(loop.lo, i1), E.lt(i1, loop.hi), E.le(loop.lo, i2), E.lt(i2, loop.hi)]
    return E.first_conflict(E.writes(b), a, facts, ren_x={loop.iter: i1},
                            ren_y={loop.iter: i2}, relation=rel) is None


# ---------------------------------------------------------------- invariant stores


def invariant_stores(loop: N.For, first, a, b, facts) -> bool:
    """`first` (statements of `loop`'s body, whose accesses are `a`) does not read k
    and reduces into nothing; no location it writes is one it reads (in any two of its
    instances); `b` (the accesses of the statements the reordering moves across it, in
    terms of `loop.iter`) writes, in any iteration, no location `first` reads or writes.

    Why reordering `first(k)` with the other part's iterations keeps every value (used
    by fission, which runs every `first(k)` before all of the second part, and by fuse,
    which runs `second(k)` before `first(k')` for k < k'). Call R the locations `first`
    reads, W those it writes. Nobody writes R (`first` reads none it writes; the other
    part writes none), so R holds its initial values throughout, in both orders. Every
    `first(k)` is the same code (k unread) over the same R, so it writes the same
    locations W with the same values, computed from R. After the first instance has run,
    later ones store what W already holds and change nothing; the other part never
    writes W. So every instance of the other part sees, in W, the values of the first
    instance, and elsewhere what only it wrote, in both orders; the final state is the
    same. (Its first instance runs before the other part's first instance in both
    orders; with no iteration both run nothing.)"""
    _, used = stmt_syms(first)
    if loop.iter in used or any(x.kind == "+" for x in a):
        return False
    if E.first_conflict(E.writes(a), E.reads(a), facts):
        return False
    i1, i2 = var(loop.iter.copy()), var(loop.iter.copy())
    rel = [E.le(loop.lo, i1), E.lt(i1, loop.hi), E.le(loop.lo, i2), E.lt(i2, loop.hi)]
    return E.first_conflict(E.writes(b), E.reads(a) + E.writes(a), facts,
                            ren_x={loop.iter: i1}, ren_y={loop.iter: i2},
                            relation=rel) is None
