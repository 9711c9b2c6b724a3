"""The checks rewrites of several families share: what holds at a site (facts_at,
accesses_at), and the conditions most primitives prove (check_stable, check_no_race,
check_idempotent), plus what a call does in its caller's terms (inlined_body), which
the dependence checks of several families look through. Each refusal names the
primitive `prim` it is given."""

from __future__ import annotations

from knit.analysis import effects as E
from knit.ir import nodes as N
from knit.ir.visit import map_block_exprs, subst_stmts, walk_stmts
from knit.rewrite import witness as W
from knit.rewrite.bufaccess import replace_scalar
from knit.rewrite.common import Site, coarse_accesses, refuse, site_of

# ---------------------------------------------------------------- what holds at a site


def facts_at(site) -> list:
    """What holds at the statement (or the block's first statement, or the gap)
    `site`, a Site or a located cursor (those point into code that runs: see
    common.reachable)."""
    site = _site(site)
    return E.context_facts(site.ir, site.path)


def accesses_at(site, stmts) -> list:
    """The accesses of `stmts` located at `site`, seeing the windows bound there."""
    site = _site(site)
    return E.accesses(stmts, E.windows_at(site.ir, site.path))


def coarse_accesses_at(site, stmts) -> tuple[list, bool]:
    """`accesses_at`, each call of a large callee that can be bounded by its windows as
    those windows, and whether one was (knit.analysis.effects.coarse_accesses)."""
    site = _site(site)
    return coarse_accesses(site.ir, stmts, E.windows_at(site.ir, site.path))


def _site(at) -> Site:
    return at if isinstance(at, Site) else site_of(at)


# ---------------------------------------------------------------- the shared conditions


def check_stable(prim: str, where, exprs, cur, stmts, what: str = "loop bounds") -> None:
    """Refuse when `stmts` (located at `cur`) write a config that `exprs` read.

    Loop bounds and if-conditions are evaluated once, where they stand; a rewrite that
    evaluates them again, or at another time, needs them unchanged by the statements
    that now run in between."""
    read = set().union(*(E.config_reads(e) for e in exprs))
    if not read:
        return
    for a in accesses_at(cur, stmts):
        if a.kind != "r" and a.buf in read:
            raise refuse(prim, where, f"the body {a.describe()}, which the {what} read: they "
                         "would be evaluated again after it changed")


def check_no_race(prim: str, loop: N.For, facts, acc, where=None, cur=None,
                  coarse=None) -> None:
    """Refuse unless the iterations of `loop` (its body's accesses are `acc`) can run in
    parallel: no location touched by two different iterations is written or reduced
    into by either, and no parallel loop inside (they do not nest). `cur`, the Site of
    the statement where `loop` stands in its proc, lets the refusal show a witness.
    With `coarse`, the body's `coarse_accesses_at`, `acc` is a function giving the exact
    ones, called only where the coarse ones may race (`E.race_free`)."""
    where = where if where is not None else loop
    if any(isinstance(s, N.For) and s.mode == "par" for s in walk_stmts(loop.body)):
        raise refuse(prim, where, "the loop would contain another parallel loop; parallel "
                     "loops do not nest")
    # parallel iterations race on any shared location one of them writes or reduces
    hit = E.race(loop, facts, acc) if coarse is None else E.race_free(loop, facts, acc, coarse)
    if hit:
        what = "reduce into" if "+" in (hit[0].kind, hit[1].kind) else "touch"
        err = refuse(prim, where, f"iterations of the parallel loop '{loop.iter.name}' would "
                     f"race: two different iterations may {what} the same location (one "
                     f"{hit[0].describe()}, another {hit[1].describe()})",
                     "give each iteration its own accumulator (e.g. stage_mem) or "
                     "parallelize an outer loop whose iterations are independent")
        raise W.race(err, hit, cur, loop)


def check_idempotent(prim: str, where, body, facts, acc, proc=None) -> None:
    """Running `body` twice in a row must equal running it once: it reduces into nothing
    and never reads a location it writes. `acc` are the body's accesses."""
    red = [a for a in acc if a.kind == "+"]
    if red:
        raise refuse(prim, where, f"the body is not idempotent: it {red[0].describe()}, "
                     "so running it again would change the result")
    hit = E.first_conflict(E.writes(acc), E.reads(acc), facts)
    if hit:
        err = refuse(prim, where, f"the body is not idempotent: it {hit[0].describe()} and "
                     f"{hit[1].describe()}, which may be the same location")
        raise W.why_conflict(err, hit, proc)


# ---------------------------------------------------------------- a call, inlined


def inlined_body(call: N.Call) -> tuple:
    """The callee's body with its parameters replaced by the call's arguments (and its
    own loops and buffers renamed apart): what the call does, in the caller's terms."""
    from knit.rewrite.bufaccess import fresh_copy

    callee = call.f
    body = fresh_copy(callee.body)
    env, windows = {}, {}
    for p, a in zip(callee.args, call.args):
        if p.type.is_control() or (not p.type.is_tensor() and not isinstance(a, N.Read)):
            env[p.name] = a
        elif isinstance(a, N.WindowExpr):
            windows[p.name] = a
        elif p.type.is_tensor():  # a whole buffer
            env[p.name] = a
        else:  # a scalar parameter bound to x[i] or to a scalar: an element
            windows[p.name] = a
    body = subst_stmts(body, env)
    sizes = {p.name: a for p, a in zip(callee.args, call.args) if p.type.is_control()}
    body = map_block_exprs(body, lambda e: _with_sizes_substituted(e, sizes))
    for pname, w in windows.items():
        body = _inline_window(body, pname, w)
    return body


def _with_sizes_substituted(e, sizes):
    """A window or whole buffer whose type names the callee's sizes (`x[0:n, 0:4]` of
    type [n, 4], passed on to an inner call) gets the type in the caller's terms: subst
    replaces the expressions of a tree, not those of its types."""
    if isinstance(e, (N.WindowExpr, N.Read)) and e.type.is_tensor():
        return e.with_(type=subst_type(e.type, sizes))
    return e


def _inline_window(stmts, pname, w):
    """Accesses of parameter pname become accesses of the argument window/element."""
    from knit.rewrite.bufaccess import substitute_window

    if isinstance(w, N.Read):  # scalar param bound to buf[idx]
        return replace_scalar(stmts, pname, w)
    return substitute_window(stmts, pname, w)


def subst_type(t, env):
    from knit.ir.visit import map_type, subst as sub

    return map_type(t, lambda e: sub(e, env) if isinstance(e, N.Read) else e)
