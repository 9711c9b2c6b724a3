"""Statement primitives: rename, simplify, insert_pass, delete_pass, reorder_stmts."""

from __future__ import annotations

from knit.analysis import effects as E
from knit.cursors import cursor as C, paths as P
from knit.ir import nodes as N
from knit.ir.visit import stmt_syms
from knit.rewrite import witness as W
from knit.rewrite.checks import accesses_at, facts_at
from knit.rewrite.common import derive, refuse, replace_stmts


def rename(proc, name: str):
    prim = "rename"
    return derive(proc, proc._loopir_proc.with_(name=name), prim=prim)


def simplify(proc):
    prim = "simplify"
    from knit.analysis.simplify import simplify_proc

    return derive(proc, simplify_proc(proc._loopir_proc, prune=True), prim=prim)


def insert_pass(proc, gap: C.GapCursor):
    prim = "insert_pass"
    ir = P.replace_block(proc._loopir_proc, gap._parent, gap._field, gap._idx, gap._idx,
                         (N.Pass(),))
    return derive(proc, ir, prim=prim)


def delete_pass(proc):
    """Remove every `pass`, and loops and ifs left with nothing to do."""
    prim = "delete_pass"
    body = _drop_pass(proc._loopir_proc.body)
    return derive(proc, proc._loopir_proc.with_(body=body or (N.Pass(),)), prim=prim)


def _drop_pass(stmts) -> tuple:
    out = []
    for s in stmts:
        if isinstance(s, N.Pass):
            continue
        if isinstance(s, N.For):
            body = _drop_pass(s.body)
            if not body:
                continue
            s = s.with_(body=body)
        elif isinstance(s, N.If):
            body, orelse = _drop_pass(s.body), _drop_pass(s.orelse)
            if not body and not orelse:
                continue
            s = s.with_(body=body or (N.Pass(s.srcinfo),), orelse=orelse)
        out.append(s)
    return tuple(out)


def reorder_stmts(proc, block: C.BlockCursor):
    prim = "reorder_stmts"
    if len(block) != 2:
        raise refuse(prim, block, f"expected a block of exactly two statements, "
                     f"got {len(block)}")
    s1, s2 = block._stmts()
    if isinstance(s1, (N.Alloc, N.WindowStmt)):
        _, used = stmt_syms((s2,))
        if s1.name in used:
            raise refuse(prim, s1, f"the second statement uses '{s1.name.name}', "
                         "which the first one binds")
    facts = facts_at(block[0])
    hit = E.first_conflict(accesses_at(block, (s1,)), accesses_at(block, (s2,)), facts)
    if hit:
        err = refuse(prim, s1, f"the statements do not commute: the first "
                     f"{hit[0].describe()} and the second {hit[1].describe()}, which may be "
                     "the same location")
        raise W.refusal(err, hit, proc, lambda: replace_stmts(proc, block, (s2, s1),
                                                              unsafe=True, prim=prim))
    return replace_stmts(proc, block, (s2, s1), prim=prim)
