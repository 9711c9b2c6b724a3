"""Rewriting every access to one buffer, and the facts that hold at each access.
Shared by the buffer and memory primitives."""

from __future__ import annotations

from collections.abc import Callable

from knit.analysis import effects as E
from knit.analysis.exprs import shared_var
from knit.ir import nodes as N
from knit.ir.sym import Sym
from knit.ir.visit import map_expr, map_stmt_exprs, walk_expr

IdxFn = Callable[[tuple], tuple]


def map_accesses(stmts, buf: Sym, on_idx: IdxFn, on_win=None, on_whole=None) -> tuple:
    """Rebuild stmts with every indexed access `buf[idx]` given on_idx(idx), every
    window `buf[...]` given on_win(window) and every whole-buffer use given
    on_whole(read); a callback of None leaves those untouched."""

    def fe(e):
        if isinstance(e, N.Read) and e.name is buf:
            if e.idx:
                return e.with_(idx=tuple(on_idx(e.idx)))
            return on_whole(e) if on_whole else e
        if isinstance(e, N.WindowExpr) and e.name is buf and on_win is not None:
            return on_win(e)
        return e

    def fs(s):
        if isinstance(s, (N.Assign, N.Reduce)):
            rhs = map_expr(s.rhs, fe)
            idx = tuple(map_expr(i, fe) for i in s.idx)
            if s.name is buf:
                idx = tuple(on_idx(idx)) if idx else idx
            return s.with_(idx=idx, rhs=rhs)
        if isinstance(s, N.For):
            return s.with_(lo=map_expr(s.lo, fe), hi=map_expr(s.hi, fe),
                           body=tuple(fs(b) for b in s.body))
        if isinstance(s, N.If):
            return s.with_(cond=map_expr(s.cond, fe), body=tuple(fs(b) for b in s.body),
                           orelse=tuple(fs(b) for b in s.orelse))
        if isinstance(s, N.Call):
            return s.with_(args=tuple(map_expr(a, fe) for a in s.args))
        if isinstance(s, N.WindowStmt):
            return s.with_(rhs=map_expr(s.rhs, fe))
        if isinstance(s, N.WriteConfig):
            return s.with_(rhs=map_expr(s.rhs, fe))
        return s

    return tuple(fs(s) for s in stmts)


def uses(stmts, buf: Sym) -> list:
    """Every use of buf in stmts as (kind, node, facts-free): 'read', 'write', 'reduce',
    'window', 'whole' (passed whole to a call), 'stride'."""
    out = []
    for s, _ in walk_with_facts(stmts, []):
        if isinstance(s, (N.Assign, N.Reduce)) and s.name is buf:
            out.append(("write" if isinstance(s, N.Assign) else "reduce", s))
        for e in _own_exprs(s):
            for x in walk_expr(e):
                if isinstance(x, N.Read) and x.name is buf:
                    out.append(("read" if x.idx or not x.type.is_tensor() else "whole", x))
                elif isinstance(x, N.WindowExpr) and x.name is buf:
                    out.append(("window", x))
                elif isinstance(x, N.StrideExpr) and x.name is buf:
                    out.append(("stride", x))
    return out


def _own_exprs(s):
    from knit.ir.visit import stmt_exprs

    return stmt_exprs(s)


def walk_with_facts(stmts, facts: list):
    """(statement, facts holding at it) for every statement, pre-order."""
    for s in stmts:
        yield s, facts
        if isinstance(s, N.For):
            i = shared_var(s.iter)  # (the facts' nodes: remembered by identity)
            inner = facts + [E.le(s.lo, i), E.lt(i, s.hi)]
            yield from walk_with_facts(s.body, inner)
        elif isinstance(s, N.If):
            yield from walk_with_facts(s.body, facts + [s.cond])
            yield from walk_with_facts(s.orelse, facts + [E.not_(s.cond)])


def indexed_accesses(stmts, buf: Sym, facts: list):
    """(idx tuple, node, facts) for every indexed access of buf (reads and writes), and
    (window node, node, facts) for windows."""
    for s, f in walk_with_facts(stmts, facts):
        if isinstance(s, (N.Assign, N.Reduce)) and s.name is buf and s.idx:
            yield s.idx, s, f
        for e in _own_exprs(s):
            for x in walk_expr(e):
                if isinstance(x, N.Read) and x.name is buf and x.idx:
                    yield x.idx, x, f
                elif isinstance(x, N.WindowExpr) and x.name is buf:
                    yield x, x, f


def rename_buffer(stmts, old: Sym, new: Sym) -> tuple:
    """stmts with every reference to buffer `old` (reads, writes, windows, strides,
    whole-buffer arguments) made to `new`. Types are kept: a scalar buffer's reads stay
    data reads (substituting an index variable would turn them into index reads)."""

    def fe(e):
        if isinstance(e, (N.Read, N.WindowExpr, N.StrideExpr)) and e.name is old:
            return e.with_(name=new)
        return e

    def fs(s):
        if isinstance(s, (N.Assign, N.Reduce)) and s.name is old:
            s = s.with_(name=new)
        if isinstance(s, N.For):
            return s.with_(body=tuple(fs(b) for b in s.body))
        if isinstance(s, N.If):
            return s.with_(body=tuple(fs(b) for b in s.body),
                           orelse=tuple(fs(b) for b in s.orelse))
        return s

    return tuple(fs(map_stmt_exprs(s, fe)) for s in stmts)


def fresh_copy(stmts) -> tuple:
    """A copy of stmts whose loop variables, allocations and windows are fresh Syms (so
    the copy can sit next to the original, e.g. when a call is inlined twice)."""
    from knit.ir.visit import stmt_syms, subst_stmts

    bound, _ = stmt_syms(stmts)
    new = {s: s.copy() for s in bound}
    iters = {s: E.var(n) for s, n in new.items() if _is_iter(stmts, s)}
    out = subst_stmts(stmts, iters)
    for s, n in new.items():
        if s not in iters:
            out = rename_buffer(out, s, n)
    return tuple(_rebind(out, new))


def _is_iter(stmts, sym) -> bool:
    from knit.ir.visit import walk_stmts

    return any(isinstance(s, N.For) and s.iter is sym for s in walk_stmts(stmts))


def _rebind(stmts, new: dict):
    for s in stmts:
        if isinstance(s, N.For):
            s = s.with_(iter=new.get(s.iter, s.iter), body=tuple(_rebind(s.body, new)))
        elif isinstance(s, N.If):
            s = s.with_(body=tuple(_rebind(s.body, new)), orelse=tuple(_rebind(s.orelse, new)))
        elif isinstance(s, (N.Alloc, N.WindowStmt)) and s.name in new:
            s = s.with_(name=new[s.name])
        yield s


# ---------------------------------------------------------------- reads that see old values


class _Coverage:
    """Walks a loop body keeping the locations of `buf` that are surely written so far in
    the current iteration (`must`: (index tuple, bound loops, conditions) triples, a bound
    loop being (iter, lo, hi) of a loop that ran completely since, the conditions those
    of the ifs the write stood in: written where they hold). A read or reduction of a
    location not surely written before it in the same iteration is *open*: its value may
    come from an earlier iteration."""

    def __init__(self, buf: Sym, facts: list):
        self.buf, self.facts = buf, list(facts)
        self.col = E._Collector()
        self.open: list = []

    def block(self, stmts, must: list, ctx: tuple, iters: tuple):
        for s in stmts:
            self.stmt(s, must, ctx, iters)

    def stmt(self, s, must, ctx, iters):
        if isinstance(s, N.For):
            inner = list(must)
            rng = (E.le(s.lo, E.var(s.iter)), E.lt(E.var(s.iter), s.hi))
            self.block(s.body, inner, ctx + rng, iters + (s.iter,))
            # what every iteration wrote is written for all values of the iterator
            must += [(idx, bound + ((s.iter, s.lo, s.hi),), conds) for idx, bound, conds in
                     inner[len(must):]]
        elif isinstance(s, N.If):  # a write in a branch is sure where its condition holds
            for cond, branch in ((s.cond, s.body), (E.not_(s.cond), s.orelse)):
                inner = list(must)
                self.block(branch, inner, ctx + (cond,), iters)
                if not _has_config((cond,)):  # (a config may change before the read)
                    must += [(idx, bound, (*conds, cond)) for idx, bound, conds in
                             inner[len(must):]]
        elif isinstance(s, N.Call):
            from knit.rewrite.checks import inlined_body
            from knit.rewrite.subprocs import arguments_changed_by_callee

            if arguments_changed_by_callee(s) is None:
                self.block(inlined_body(s), must, ctx, iters)
                return
            # inlined, an argument would be re-read after the callee changed it: take
            # the call as a whole, none of its writes sure, every read open
            self.col.out = []
            self.col.stmt(s, ctx, iters)
            self.open += [a for a in self.col.out if a.buf is self.buf and a.kind != "w"]
        else:
            self.col.out = []
            self.col.stmt(s, ctx, iters)
            for a in self.col.out:
                if a.buf is self.buf and a.kind != "w" and not self.covered(a, must):
                    self.open.append(a)
            for a in self.col.out:
                if a.buf is self.buf and a.kind != "r" and not _has_config(a.idx):
                    must.append((a.idx, (), ()))

    def covered(self, a, must) -> bool:
        hyps = self.facts + list(a.ctx)
        return any(len(idx) == len(a.idx) and _covers(idx, bound, a.idx, hyps, conds)
                   for idx, bound, conds in must)


def _covers(widx, bound, ridx, hyps, conds=()) -> bool:
    """Whether the location ridx is among those written at widx for some values of the
    bound loop variables in their ranges (each bound variable must be a whole index)
    for which the write's conditions held."""
    from knit.analysis.exprs import sub
    from knit.analysis.smt import prove
    from knit.ir.visit import free_syms, subst

    env, goals = {}, []
    names = {b[0] for b in bound}
    for w, r in zip(widx, ridx):
        if isinstance(w, N.Read) and w.name in names and w.name not in env:
            env[w.name] = r
            continue
        # `it + c` (c free of bound variables, e.g. yi + 32 * yo): guess it = r - c; the
        # equality is still proven below with the other goals, so a wrong guess only
        # fails the proof
        free = (free_syms(w) & names) - set(env)
        if len(free) == 1 and not (free_syms(w) & set(env)):
            it = free.pop()
            env[it] = sub(r, subst(w, {it: N.const(0)}))
        goals.append((w, r))
    if set(env) != names:
        return False
    goal = [E.eq(subst(w, env), r) for w, r in goals] + [subst(c, env) for c in conds]
    for it, lo, hi in bound:
        goal += [E.le(subst(lo, env), env[it]), E.lt(env[it], subst(hi, env))]
    return prove(hyps, E.and_(*goal))


def _has_config(idx) -> bool:
    return any(isinstance(x, N.ReadConfig) for i in idx for x in walk_expr(i))


def open_reads(body, buf: Sym, facts: list) -> list:
    """The reads (and reductions) of buf in a loop body that may see a value written
    in an earlier iteration, as effect accesses (see _Coverage)."""
    cov = _Coverage(buf, facts)
    cov.block(body, [], (), ())
    return cov.open


def substitute_window(stmts, name: Sym, w: N.WindowExpr) -> tuple:
    """stmts with the window `name` replaced by its definition w = x[...]: `name[i, ..]`
    becomes an access of x at the window's offsets, a window of name a window of x, a
    whole use w itself, and stride(name, d) the stride of x in the dimension d is."""
    from knit.analysis.exprs import add

    dims = [k for k, a in enumerate(w.idx) if isinstance(a, N.Interval)]

    def on_idx(idx):
        it = iter(idx)
        # index + window start, in Exo's order (`x[i + 2]`)
        return tuple(a.pt if isinstance(a, N.Point) else add(next(it), a.lo) for a in w.idx)

    def on_win(x):
        it = iter(x.idx)
        out = []
        for a in w.idx:
            if isinstance(a, N.Point):
                out.append(a)
                continue
            b = next(it)
            out.append(N.Point(add(b.pt, a.lo)) if isinstance(b, N.Point) else
                       N.Interval(add(b.lo, a.lo), add(b.hi, a.lo)))
        # all of a window of all of a buffer is all of it: still passed by name
        return x.with_(name=w.name, idx=tuple(out), whole=x.whole and w.whole)

    def stride(e):
        if isinstance(e, N.StrideExpr) and e.name is name:
            return e.with_(name=w.name, dim=dims[e.dim])
        return e

    new = map_accesses(stmts, name, on_idx, on_win, lambda r: w.with_(srcinfo=r.srcinfo))
    new = tuple(map_stmt_exprs(s, stride) for s in new)
    return rename_buffer(new, name, w.name)


def replace_scalar(stmts, buf: Sym, element: N.Read) -> tuple:
    """Every use of the scalar buffer `buf` (reads of `buf`, writes `buf = e`) becomes a
    use of `element` (e.g. `x[i]`): for expand_dim of a scalar, and for inlining a
    scalar parameter bound to an element."""

    def fe(e):
        if isinstance(e, N.Read) and e.name is buf and not e.idx:
            return element.with_(srcinfo=e.srcinfo)
        return e

    def fs(s):
        if isinstance(s, (N.Assign, N.Reduce)):
            s = s.with_(rhs=map_expr(s.rhs, fe), idx=tuple(map_expr(i, fe) for i in s.idx))
            if s.name is buf and not s.idx:
                s = s.with_(name=element.name, idx=element.idx)
            return s
        if isinstance(s, N.For):
            return s.with_(body=tuple(fs(b) for b in s.body))
        if isinstance(s, N.If):
            return s.with_(cond=map_expr(s.cond, fe), body=tuple(fs(b) for b in s.body),
                           orelse=tuple(fs(b) for b in s.orelse))
        if isinstance(s, (N.Call, N.WriteConfig, N.WindowStmt)):
            return map_stmt_exprs(s, fe)
        return s

    return tuple(fs(s) for s in stmts)
