"""Rewriting every access to one buffer, and the facts that hold at each access.
Shared by the buffer and memory primitives."""

from __future__ import annotations

from collections.abc import Callable

from knit.analysis import effects as E
from knit.cursors import cursor as C
from knit.cursors import paths as P
from knit.ir import nodes as N
from knit.ir.sym import Sym
from knit.ir.visit import map_expr, walk_expr

IdxFn = Callable[[tuple], tuple]


def buffer_scope(proc, cur):
    """(parent path, field, lo, hi, node) of the statements where the buffer at `cur`
    (an AllocCursor or ArgCursor) is visible, and its declaring node."""
    if isinstance(cur, C.ArgCursor):
        return (), "body", 0, len(proc._loopir_proc.body), cur._node()
    parent, (field, i) = cur._path[:-1], cur._path[-1]
    block = P.block_of(proc._loopir_proc, parent, field)
    return parent, field, i + 1, len(block), cur._node()


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
            inner = facts + [E.le(s.lo, E.var(s.iter)), E.lt(E.var(s.iter), s.hi)]
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
