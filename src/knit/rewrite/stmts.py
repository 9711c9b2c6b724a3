"""Statement primitives: rename, simplify, insert_pass, delete_pass, reorder_stmts,
eliminate_dead_stores.

The whole-procedure ones take the Procedure; the others the Site their wrapper
located (common.Site), and return the new Procedure (common.apply). Besides the
implicit checks of every primitive (knit.stdlib.scheduling), each docstring lists the
checks it makes; a refusal names the primitive the user called (`site.prim`)."""

from __future__ import annotations

from knit.analysis import effects as E, smt
from knit.cursors import paths as P
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


def eliminate_dead_stores(site: Site):
    """Delete the statement `site` when all it does is write locations that nothing
    reads: of buffers the procedure allocates (not its arguments, not a `static`
    buffer, which the next call sees), none of which any other statement in the
    buffer's scope reads, before or after, in any iteration (e.g. the part of a packed
    copy no kernel reads); a statement that writes only buffers of its own does nothing
    seen outside it. Checks: the statement writes no config and no buffer but such
    local ones, and no read elsewhere in a written buffer's scope may touch a location
    it writes (with the pair that may when not)."""
    prim = site.prim
    s = site.node()
    if isinstance(s, N.Pass):
        raise refuse(prim, s, "expected a statement that writes, not `pass` (delete_pass "
                     "removes it)")
    if isinstance(s, (N.Alloc, N.WindowStmt)):
        raise refuse(prim, s, "expected a statement that writes (an assignment, a loop, "
                     "an if or a call), not a declaration")
    local = _allocs_around(site)
    args = {a.name for a in site.ir.args}
    writes = [a for a in accesses_at(site, (s,)) if a.kind != "r"]
    for a in writes:
        if isinstance(a.buf, tuple):
            raise refuse(prim, s, f"it {a.describe()}: configs outlive the procedure")
        if a.buf in args:
            raise refuse(prim, s, f"it {a.describe()}, which the caller sees: only "
                         "writes of buffers this procedure allocates can be dead")
        if a.buf not in local:  # (a callee's `static` buffer: its accesses reach here)
            raise refuse(prim, s, f"it {a.describe()}, a static buffer of a callee, "
                         "which the next call sees")
    facts = facts_at(site)
    without = site.replaced((N.Pass(s.srcinfo),))
    for buf in dict.fromkeys(a.buf for a in writes):
        path = local[buf]
        if E.one_per_program(P.stmt_at(site.ir, path).mem):
            raise refuse(prim, s, f"'{buf.name}' is static: the next call reads what "
                         "this one leaves")
        (field, i), parent = path[-1], path[:-1]
        scope = P.block_of(without, parent, field)[i + 1:]
        reads = [a for a in E.accesses(scope, E.windows_at(without, parent + ((field, i),)))
                 if a.buf == buf and a.kind != "w"]
        with smt.expecting_proof():
            hit = E.first_conflict([a for a in writes if a.buf == buf], reads, facts)
        if hit:
            err = refuse(prim, s, f"the statement {hit[0].describe()} and another "
                         f"{hit[1].describe()}, which may be the same location")
            raise W.refusal(err, hit, site, lambda: without)
    return apply(site, without)


def _allocs_around(site: Site) -> dict:
    """buffer Sym -> path of its Alloc, for the buffers allocated before `site` in the
    blocks that hold it (those visible there)."""
    out = {}
    for depth in range(len(site.path)):
        (field, i), parent = site.path[depth], site.path[:depth]
        block = P.block_of(site.ir, parent, field)
        for j, t in enumerate(block[:i]):
            if isinstance(t, N.Alloc):
                out[t.name] = parent + ((field, j),)
    return out
