"""The fuzzer's moves: for each scheduling primitive, how to draw random arguments from
a procedure's current loops, statements, gaps, expressions and allocations.

A move is a `Step`: the primitive's name and the Python source of each argument,
written against the current procedure `p` with the public cursor API
(`p.body()[0].body()[1].after()`, `p.find_loop("i #1")`, `p.find("t3 : _")`, ...).
The fuzzer evaluates exactly that source, and prints it in reproducers, so a
reproducer replays what the fuzzer did.

Refusals: each primitive may refuse with `SchedulingError` (which includes
`PatternError`) or `InvalidCursorError`. Primitives that take expression strings may
also raise `ParseFragmentError` (a fragment that does not parse or type-check where it
is used; the fuzzer draws names in scope, so this stays rare). Nothing else is an
acceptable answer to well-typed arguments: the fuzzer never passes a wrong argument
type, so `TypeError` and every other exception count as bugs. `set_memory` may also
end in `MemGenError` when the procedure is compiled (a memory refusing a shape, by
design); the fuzzer avoids the memories that do that (DRAM_STATIC).
"""

from __future__ import annotations

from .catalog import (  # noqa: F401 - BASE_ALLOWED, Catalog, Step: used through this module
    BASE_ALLOWED,
    FRAGMENT_ALLOWED,
    MOVES,
    Catalog,
    Step,
    block_code,
    cond_fragment,
    fresh,
    gap_code,
    index_fragment,
    loop_code,
    move,
    perfect_nests,
    pick,
)

# ---------------------------------------------------------------- loops


@move()
def m_divide_loop(cat, rng):
    site = pick(rng, cat.of("ForCursor"))
    if site is None:
        return None
    q = rng.choice([2, 2, 3, 4])
    v = site.cur.name()
    names = [fresh(rng, f"{v}o"), fresh(rng, f"{v}i")]
    kw = {"tail": repr(rng.choice(["guard", "cut", "cut_and_guard"]))}
    if rng.random() < 0.3:
        kw["perfect"] = "True"
    return Step("divide_loop", [loop_code(cat, site, rng), str(q), repr(names)], kw)


@move(FRAGMENT_ALLOWED)
def m_divide_with_recompute(cat, rng):
    site = pick(rng, cat.of("ForCursor"))
    if site is None:
        return None
    s = rng.choice([2, 3])
    hi = str(site.cur.hi())
    outer = rng.choice([1, 2, repr(f"({hi}) / {s}"), repr(f"({hi}) / {s} - 1")])
    v = site.cur.name()
    return Step("divide_with_recompute", [site.code, str(outer), str(s),
                                          repr([fresh(rng, f"{v}o"), fresh(rng, f"{v}i")])])


@move()
def m_mult_loops(cat, rng):
    C = cat.C
    nests = [s for s in perfect_nests(cat) if isinstance(s.cur.body()[0].hi(), C.LiteralCursor)]
    site = pick(rng, nests) if rng.random() < 0.9 else None
    site = site or pick(rng, perfect_nests(cat)) or pick(rng, cat.of("ForCursor"))
    if site is None:
        return None
    return Step("mult_loops", [loop_code(cat, site, rng), repr(fresh(rng, "m"))])


@move()
def m_join_loops(cat, rng):
    C = cat.C
    pairs = [s for s in cat.of("ForCursor") if isinstance(s.cur.next(), C.ForCursor)]
    site = pick(rng, pairs)
    if site is None:
        return None
    return Step("join_loops", [site.code, f"{site.code}.next()"])


@move(FRAGMENT_ALLOWED)
def m_cut_loop(cat, rng):
    site = pick(rng, cat.of("ForCursor"))
    if site is None:
        return None
    lo, hi = str(site.cur.lo()), str(site.cur.hi())
    cut = rng.choice([f"{lo} + 1", f"{hi} - 1", f"({hi}) / 2", hi, lo, rng.randint(0, 4),
                      f"{lo} + 2"])
    return Step("cut_loop", [loop_code(cat, site, rng), repr(cut) if isinstance(cut, str)
                             else str(cut)])


@move(FRAGMENT_ALLOWED)
def m_shift_loop(cat, rng):
    site = pick(rng, cat.of("ForCursor"))
    if site is None:
        return None
    new_lo = rng.choice(["0", "1", "2", repr(rng.choice(cat.sizes)), "-1"])
    return Step("shift_loop", [loop_code(cat, site, rng), new_lo])


@move()
def m_reorder_loops(cat, rng):
    C = cat.C
    nests = perfect_nests(cat) if rng.random() < 0.85 else \
        [s for s in cat.of("ForCursor") if isinstance(s.cur.body()[0], C.ForCursor)]
    site = pick(rng, nests) or pick(rng, cat.of("ForCursor"))
    if site is None:
        return None
    inner = site.cur.body()[0]
    if isinstance(inner, C.ForCursor) and rng.random() < 0.3:
        # the "i j" shorthand: the first such nest in program order
        return Step("reorder_loops", [repr(f"{site.cur.name()} {inner.name()}")])
    return Step("reorder_loops", [loop_code(cat, site, rng)])


@move()
def m_unroll_loop(cat, rng):
    C = cat.C
    loops = cat.of("ForCursor")
    const = [s for s in loops if isinstance(s.cur.hi(), C.LiteralCursor) and
             isinstance(s.cur.lo(), C.LiteralCursor) and
             s.cur.hi().value() - s.cur.lo().value() <= 8]
    site = pick(rng, const if const and rng.random() < 0.85 else loops)
    return None if site is None else Step("unroll_loop", [loop_code(cat, site, rng)])


@move()
def m_remove_loop(cat, rng):
    site = pick(rng, cat.of("ForCursor"))
    return None if site is None else Step("remove_loop", [loop_code(cat, site, rng)])


@move(FRAGMENT_ALLOWED)
def m_add_loop(cat, rng):
    site = pick(rng, cat.sites)
    if site is None:
        return None
    hi = rng.choice(["2", "1", repr(rng.choice(cat.sizes)), repr(index_fragment(cat, site, rng))])
    kw = {"guard": "True"} if rng.random() < 0.4 else {}
    return Step("add_loop", [block_code(cat, site, rng), repr(fresh(rng, "a")), hi], kw)


@move()
def m_parallelize_loop(cat, rng):
    site = pick(rng, cat.of("ForCursor"))
    return None if site is None else Step("parallelize_loop", [loop_code(cat, site, rng)])


# ---------------------------------------------------------------- scopes


@move()
def m_fission(cat, rng):
    g = gap_code(cat, rng, inner_only=True, between=0.85)
    if g is None:
        return None
    kw = {"n_lifts": str(rng.choice([1, 1, 2, 3]))} if rng.random() < 0.5 else {}
    return Step("fission", [g[1]], kw)


@move()
def m_autofission(cat, rng):
    g = gap_code(cat, rng, inner_only=True, between=0.85)
    if g is None:
        return None
    kw = {"n_lifts": str(rng.choice([1, 1, 2, 3]))} if rng.random() < 0.5 else {}
    return Step("autofission", [g[1]], kw)


@move()
def m_lift_scope(cat, rng):
    sites = [s for s in cat.of("ForCursor", "IfCursor") if s.cur.parent()]
    only = [s for s in sites if len(s.cur.parent().body()) == 1 and
            (s.cur.parent().orelse().is_invalid() if isinstance(s.cur.parent(), cat.C.IfCursor)
             else True)]
    site = pick(rng, only if only and rng.random() < 0.85 else sites)
    return None if site is None else Step("lift_scope", [site.code])


@move()
def m_fuse(cat, rng):
    C = cat.C
    pairs = [s for s in cat.of("ForCursor", "IfCursor")
             if isinstance(s.cur.next(), (C.ForCursor, C.IfCursor))]
    site = pick(rng, pairs)
    return None if site is None else Step("fuse", [site.code, f"{site.code}.next()"])


@move(FRAGMENT_ALLOWED)
def m_specialize(cat, rng):
    site = pick(rng, cat.sites)
    if site is None:
        return None
    conds = [cond_fragment(cat, site, rng) for _ in range(rng.choice([1, 1, 2]))]
    arg = repr(conds[0]) if len(conds) == 1 and rng.random() < 0.5 else repr(conds)
    return Step("specialize", [block_code(cat, site, rng), arg])


@move()
def m_eliminate_dead_code(cat, rng):
    site = pick(rng, cat.of("IfCursor") if rng.random() < 0.7 else cat.of("ForCursor"))
    return None if site is None else Step("eliminate_dead_code", [site.code])


# ---------------------------------------------------------------- statements


@move()
def m_reorder_stmts(cat, rng):
    site = pick(rng, cat.with_next())
    return None if site is None else Step("reorder_stmts", [f"{site.code}.expand(0, 1)"])


@move()
def m_eliminate_dead_stores(cat, rng):
    # (most writes are of arguments or read again: refused; a staged copy-in whose
    # block was rewritten not to read it, a buffer written and never read: accepted)
    site = pick(rng, cat.sites)
    return None if site is None else Step("eliminate_dead_stores", [site.code])


@move()
def m_simplify(cat, rng):
    return Step("simplify", [])


@move()
def m_insert_pass(cat, rng):
    g = gap_code(cat, rng)
    return None if g is None else Step("insert_pass", [g[1]])


@move()
def m_delete_pass(cat, rng):
    return Step("delete_pass", [])


@move()
def m_rename(cat, rng):
    return Step("rename", [repr(fresh(rng, "renamed"))])



from . import moves_data  # noqa: E402,F401 - registers the buffer, call, expression and config moves

# After an accepted step, the fuzzer now and then draws one of these next: the moves
# that undo or build on it (join what cut_loop cut, fuse what fission split, ...).
FOLLOW = {
    "cut_loop": ["join_loops"], "fission": ["fuse", "reorder_stmts"], "autofission": ["fuse"],
    "divide_loop": ["mult_loops", "reorder_loops", "unroll_loop", "lift_scope"],
    "lift_alloc": ["sink_alloc", "expand_dim", "eliminate_dead_stores"], "bind_expr": ["inline_assign", "lift_alloc"],
    "stage_mem": ["inline_assign", "lift_alloc", "divide_dim", "sink_alloc",
                  "eliminate_dead_stores"],
    "unroll_loop": ["unroll_buffer", "merge_writes"], "split_write": ["merge_writes"],
    "fold_into_reduce": ["split_write"], "inline": ["replace", "replace_all"],
    "extract_subproc": ["inline"], "specialize": ["eliminate_dead_code"],
    "insert_pass": ["delete_pass"], "expand_dim": ["lift_alloc", "divide_dim"],
    "reorder_loops": ["parallelize_loop", "fission"], "add_loop": ["remove_loop"],
    "shift_loop": ["simplify"], "call_eqv": ["inline"], "inline_window": ["simplify"],
}


# ---------------------------------------------------------------- configs
# FuzzCfg (gen.PRELUDE) has the fields x: f32, y: i32, b: bool.

_FIELD = {"f32": "x", "i32": "y", "bool": "b"}


@move(FRAGMENT_ALLOWED)
def m_write_config(cat, rng):
    g = gap_code(cat, rng)
    if g is None:
        return None
    f, rhs = rng.choice([("x", "2.0"), ("x", "0.5"), ("y", "3"), ("b", "True")] +
                        [("b", b) for b in cat.bools])
    return Step("write_config", [g[1], "FuzzCfg", repr(f), repr(rhs)])


@move()
def m_bind_config(cat, rng):
    C = cat.C
    reads = [(e, c) for e, c in cat.all_exprs()
             if isinstance(e, C.ReadCursor) and not e.idx() and str(e.type()) in _FIELD]
    e = pick(rng, reads)
    if e is None:
        return None
    return Step("bind_config", [e[1], "FuzzCfg", repr(_FIELD[str(e[0].type())])])


@move()
def m_delete_config(cat, rng):
    site = pick(rng, cat.of("AssignConfigCursor"))
    return None if site is None else Step("delete_config", [site.code])


def available(only=None) -> dict[str, Move]:
    """The moves whose primitive knit.stdlib.scheduling exports (optionally a subset)."""
    import knit.stdlib.scheduling as S

    out = {n: m for n, m in MOVES.items() if callable(getattr(S, n, None))}
    if only:
        out = {n: m for n, m in out.items() if n in only}
    return out


def missing() -> list[str]:
    """Scheduling primitives knit exports that the fuzzer has no move for."""
    import knit.stdlib.scheduling as S

    skip = {"repeat", "sched_seq", "add_unsafe_guard", "make_instr"}
    names = [n for n in dir(S) if not n.startswith("_") and n[0].islower() and
             callable(getattr(S, n)) and getattr(getattr(S, n), "__module__", "")
             .startswith("knit.stdlib")]
    return sorted(n for n in names if n not in MOVES and n not in skip)
