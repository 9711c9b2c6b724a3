"""Statement primitives: rename, simplify, insert_pass, delete_pass, reorder_stmts.

The whole-procedure ones take the Procedure; the others the Site their wrapper
located (common.Site), and return the new Procedure (common.apply). Besides the
implicit checks of every primitive (knit.stdlib.scheduling), each docstring lists the
checks it makes; a refusal names the primitive the user called (`site.prim`)."""

from __future__ import annotations

from knit.analysis import effects as E
from knit.ir import nodes as N
from knit.ir.visit import stmt_syms
from knit.rewrite import witness as W
from knit.rewrite.checks import accesses_at, facts_at
from knit.rewrite.common import Site, apply, derive, ir_of, refuse


def rename(proc, name: str, prim: str = "rename"):
    """Only the name changes: always safe."""
    return derive(proc, ir_of(proc).with_(name=name), prim=prim)


def simplify(proc, prim: str = "simplify"):
    """Constant folding and algebraic identities on index expressions: always safe."""
    from knit.analysis.simplify import simplify_proc

    return derive(proc, simplify_proc(ir_of(proc), prune=True), prim=prim)


def insert_pass(site: Site):
    """A `pass` at the gap `site`: always safe."""
    return apply(site, site.replaced((N.Pass(),)))


def delete_pass(proc, prim: str = "delete_pass"):
    """Remove every `pass`, and loops and ifs left with nothing to do: always safe."""
    ir = ir_of(proc)
    return derive(proc, ir.with_(body=_drop_pass(ir.body) or (N.Pass(),)), prim=prim)


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


def reorder_stmts(site: Site):
    """Swap the two statements of the block `site`. Checks: the block has two
    statements; the second does not use a buffer or window the first binds; the two
    commute (no location one writes and the other touches; with a witness when not)."""
    prim = site.prim
    stmts = site.stmts()
    if len(stmts) != 2:
        raise refuse(prim, site, f"expected a block of exactly two statements, "
                     f"got {len(stmts)}")
    s1, s2 = stmts
    if isinstance(s1, (N.Alloc, N.WindowStmt)):
        _, used = stmt_syms((s2,))
        if s1.name in used:
            raise refuse(prim, s1, f"the second statement uses '{s1.name.name}', "
                         "which the first one binds")
    facts = facts_at(site)
    hit = E.first_conflict(accesses_at(site, (s1,)), accesses_at(site, (s2,)), facts)
    if hit:
        err = refuse(prim, s1, f"the statements do not commute: the first "
                     f"{hit[0].describe()} and the second {hit[1].describe()}, which may be "
                     "the same location")
        raise W.refusal(err, hit, site, lambda: site.replaced((s2, s1)))
    return apply(site, site.replaced((s2, s1)))
