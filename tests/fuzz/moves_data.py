"""Moves for the buffer, memory, sub-procedure, expression and config primitives
(registered in catalog.MOVES on import; see moves.py)."""

from __future__ import annotations

import re

from .catalog import (
    FRAGMENT_ALLOWED,
    Site,
    Step,
    alloc_code,
    block_code,
    fresh,
    gap_code,
    move,
    pick,
)

# ---------------------------------------------------------------- buffers


@move()
def m_bind_expr(cat, rng):
    e = pick(rng, cat.data_exprs())
    if e is None:
        return None
    arg = f"[{e[1]}]" if rng.random() < 0.7 else e[1]
    return Step("bind_expr", [arg, repr(fresh(rng, "b"))])


def _alloc(cat, rng, min_rank=0):
    sites = [s for s in cat.of("AllocCursor") if len(s.cur.shape()) >= min_rank]
    return pick(rng, sites)


@move(FRAGMENT_ALLOWED)
def m_expand_dim(cat, rng):
    site = _alloc(cat, rng)
    if site is None:
        return None
    choices = [("2", "0"), ("4", "1"), (repr(rng.choice(cat.sizes)), "0")]
    for lp in site.loops:
        choices.append((repr(str(lp.hi())), repr(lp.name())))
        choices.append((repr(f"{lp.hi()} + 1"), repr(lp.name())))
    size, idx = rng.choice(choices)
    return Step("expand_dim", [alloc_code(cat, site, rng), size, idx])


@move()
def m_divide_dim(cat, rng):
    site = _alloc(cat, rng, 1)
    if site is None:
        return None
    shape = [str(d) for d in site.cur.shape()]
    d = rng.randrange(len(shape))
    q = rng.choice([q for q in (2, 4) if shape[d].isdigit() and int(shape[d]) % q == 0] or [2])
    return Step("divide_dim", [alloc_code(cat, site, rng), str(d), str(q)])


@move()
def m_mult_dim(cat, rng):
    site = _alloc(cat, rng, 2)
    if site is None:
        return None
    a, b = rng.sample(range(len(site.cur.shape())), 2)
    return Step("mult_dim", [alloc_code(cat, site, rng), str(a), str(b)])


@move()
def m_rearrange_dim(cat, rng):
    site = _alloc(cat, rng, 2)
    if site is None:
        return None
    perm = list(range(len(site.cur.shape())))
    rng.shuffle(perm)
    return Step("rearrange_dim", [alloc_code(cat, site, rng), repr(perm)])


@move(FRAGMENT_ALLOWED)
def m_resize_dim(cat, rng):
    site = _alloc(cat, rng, 1)
    if site is None:
        return None
    shape = [str(d) for d in site.cur.shape()]
    d = rng.randrange(len(shape))
    size = rng.choice([repr(shape[d]), repr(f"{shape[d]} + 1"), repr(f"{shape[d]} - 1"), "8"])
    return Step("resize_dim", [alloc_code(cat, site, rng), str(d), size,
                               str(rng.choice([0, 0, 1]))])


@move()
def m_unroll_buffer(cat, rng):
    site = _alloc(cat, rng, 1)
    if site is None:
        return None
    d = rng.randrange(len(site.cur.shape()))
    return Step("unroll_buffer", [alloc_code(cat, site, rng), str(d)])


@move()
def m_lift_alloc(cat, rng):
    site = _alloc(cat, rng)
    if site is None:
        return None
    kw = {"n_lifts": str(rng.choice([1, 2]))} if rng.random() < 0.4 else {}
    return Step("lift_alloc", [alloc_code(cat, site, rng)], kw)


@move(FRAGMENT_ALLOWED)
def m_autolift_alloc(cat, rng):
    site = _alloc(cat, rng)
    if site is None:
        return None
    kw = {"n_lifts": str(rng.choice([1, 2])), "mode": repr(rng.choice(["row", "col"]))}
    if rng.random() < 0.3:
        kw["keep_dims"] = "True"
    return Step("autolift_alloc", [alloc_code(cat, site, rng)], kw)


@move()
def m_sink_alloc(cat, rng):
    site = _alloc(cat, rng)
    return None if site is None else Step("sink_alloc", [alloc_code(cat, site, rng)])


@move()
def m_delete_buffer(cat, rng):
    site = _alloc(cat, rng)
    return None if site is None else Step("delete_buffer", [alloc_code(cat, site, rng)])


@move()
def m_reuse_buffer(cat, rng):
    allocs = cat.of("AllocCursor")
    if len(allocs) < 2:
        return None
    a, b = sorted(rng.sample(range(len(allocs)), 2))
    return Step("reuse_buffer", [allocs[a].code, allocs[b].code])


@move()
def m_inline_window(cat, rng):
    site = pick(rng, cat.of("WindowStmtCursor"))
    return None if site is None else Step("inline_window", [site.code])


@move()
def m_set_memory(cat, rng):
    site = _alloc(cat, rng)
    if site is None:
        return None
    mem = rng.choice(["DRAM_STACK", "DRAM_ALIGNED32", "DRAM"])
    return Step("set_memory", [alloc_code(cat, site, rng), mem])


@move()
def m_set_precision(cat, rng):
    # (an integer output may be computed from the buffer: a value rounded to another
    # float type converts to another integer there, which no tolerance covers -- case
    # 3071 of session 17, t1: f32 -> f64 of a product of i32 values added into A: i32)
    if any(re.search(r"\b(i8|ui8|ui16|i32)\b", str(t.type())) for t in cat.tensors):
        return None
    sites = [s for s in cat.of("AllocCursor") if str(s.cur.type()).startswith(("f32", "f64"))]
    site = pick(rng, sites)
    if site is None:
        return None
    return Step("set_precision", [alloc_code(cat, site, rng), repr(rng.choice(["f64", "f32"]))])


@move()
def m_set_window(cat, rng):
    a = pick(rng, cat.tensors)
    if a is None:
        return None
    return Step("set_window", [repr(a.name()), rng.choice(["True", "False"])])


def _buffers_in(cat: Catalog, site: Site, n: int) -> dict:
    """Buffers read or written by the n + 1 statements from `site` on: name -> rank."""
    C, out = cat.C, {}
    stmts = [site.cur] + [site.cur.next(k) for k in range(1, n + 1)]
    subs = [x for x in cat.sites if any(x.cur == s or s.is_ancestor_of(x.cur) for s in stmts)]
    for x in subs:
        if isinstance(x.cur, (C.AssignCursor, C.ReduceCursor)):
            out[x.cur.name()] = len(x.cur.idx())
        for e, _ in cat.exprs(x):
            if isinstance(e, C.ReadCursor) and e.idx():
                out[e.name()] = len(e.idx())
    return out


@move(FRAGMENT_ALLOWED)
def m_stage_mem(cat, rng):
    site = pick(rng, cat.sites)
    if site is None:
        return None
    n = 0
    while n < 2 and rng.random() < 0.3 and not site.cur.next(n + 1).is_invalid():
        n += 1
    bufs = _buffers_in(cat, site, n)
    if not bufs:
        return None
    name = rng.choice(sorted(bufs))
    shape = _shape_of(cat, name)
    if shape is None:
        return None
    parts = []
    for d in shape:
        r = rng.random()
        if r < 0.55:
            parts.append(f"0:{d}")
        elif r < 0.75 and site.loops:
            v = rng.choice(site.loops).name()
            parts.append(rng.choice([v, f"{v}:{v} + 1", f"{v}:{v} + 2"]))
        else:
            parts.append(rng.choice([f"1:{d}", f"0:{d} - 1", "0", "0:2"]))
    if not any(":" in x for x in parts):
        parts[-1] = f"0:{shape[-1]}"
    block = f"{site.code}.expand(0, {n})" if n else site.code
    kw = {"accum": "True"} if rng.random() < 0.2 else {}
    return Step("stage_mem", [block, repr(f"{name}[{', '.join(parts)}]"),
                              repr(fresh(rng, "s"))], kw)


def _shape_of(cat: Catalog, name: str):
    for a in cat.tensors:
        if a.name() == name:
            return a.shape()
    for s in cat.of("AllocCursor"):
        if s.cur.name() == name:
            return s.cur.shape() or None
    return None


# ---------------------------------------------------------------- sub-procedures


@move()
def m_inline(cat, rng):
    site = pick(rng, cat.of("CallCursor"))
    return None if site is None else Step("inline", [site.code])


@move()
def m_call_eqv(cat, rng):
    sites = [s for s in cat.of("CallCursor") if s.cur.subproc().name() == "helper_f"]
    site = pick(rng, sites)
    return None if site is None else Step("call_eqv", [site.code, "helper_f_alt"])


@move()
def m_extract_subproc(cat, rng):
    site = pick(rng, cat.sites)
    if site is None:
        return None
    return Step("extract_subproc", [block_code(cat, site, rng), repr(fresh(rng, "sub"))])


@move()
def m_replace(cat, rng):
    C = cat.C
    loops = [s for s in cat.of("ForCursor") if len(s.cur.body()) == 1 and
             isinstance(s.cur.body()[0], (C.AssignCursor, C.ReduceCursor))]
    shaped = [(s, _helper_for(str(s.cur.body()[0]))) for s in loops]
    shaped = [x for x in shaped if x[1]]
    nests = [s for s in cat.of("ForCursor") if len(s.cur.body()) == 1 and
             isinstance(s.cur.body()[0], C.ForCursor)]
    x = rng.random()
    if shaped and x < 0.5:
        site, helper = rng.choice(shaped)
        return Step("replace", [site.code, helper])
    if nests and x < 0.65:  # tri_f: a triangular nest, or a square it must not match
        return Step("replace", [rng.choice(nests).code, "tri_f"])
    site = pick(rng, loops) if loops and rng.random() < 0.8 else pick(rng, cat.sites)
    if site is None:
        return None
    helper = rng.choice(["helper_f", "helper_i", "helper2_f", "helper_s_f32"] + INSTRS)
    return Step("replace", [site.code, helper])


# the prelude's instruction library (gen.PRELUDE)
INSTRS = ["add1_f", "copy_f", "addv_f", "bcast_f", "tri_f"]


def _helper_for(body: str) -> str | None:
    """The helper or instr whose body the loop body looks like (see gen.PRELUDE)."""
    if " = 0.5 * " in body and body.endswith(" + 1.0"):
        return "helper_f"
    if body.endswith(" += 1"):
        return "helper_i"
    if " += 2.0 * " in body:
        return "helper2_f"
    if body.endswith(" += 1.0"):
        return "add1_f"
    if body.count("[") == 2 and " += " in body:
        return "addv_f"
    if body.count("[") == 2 and " = " in body:
        return "copy_f"  # or bcast_f, drawn among the others
    return None


@move()
def m_replace_all(cat, rng):
    return Step("replace_all", [rng.choice(["helper_f", "[helper_f, helper_i]",
                                            "[helper2_f, helper_i]", "add1_f",
                                            "[copy_f, bcast_f]", "[tri_f, addv_f]"])])


@move(FRAGMENT_ALLOWED)
def m_insert_noop_call(cat, rng):
    g = gap_code(cat, rng)
    f32 = [a for a in cat.tensors if str(a.type()).startswith("f32")]
    if g is None or not f32:
        return None
    a = rng.choice(f32)
    idx = ["0"] * (len(a.shape()) - 1) + ["0:1"]
    return Step("insert_noop_call", [g[1], "noop_f", repr(["1", f"{a.name()}[{', '.join(idx)}]"])])


# ---------------------------------------------------------------- expressions and writes
# (registered only if knit.stdlib.scheduling exports them; see available())


@move()
def m_commute_expr(cat, rng):
    C = cat.C
    es = [x for x in cat.all_exprs() if isinstance(x[0], C.BinaryOpCursor) and
          x[0].op() in ("+", "*")]
    e = pick(rng, es)
    return None if e is None else Step("commute_expr", [f"[{e[1]}]"])


@move()
def m_left_reassociate_expr(cat, rng):
    C = cat.C
    es = [x for x in cat.all_exprs() if isinstance(x[0], C.BinaryOpCursor) and
          x[0].op() in ("+", "*")]
    nested = [x for x in es if isinstance(x[0].rhs(), C.BinaryOpCursor) and
              x[0].rhs().op() == x[0].op()]
    e = pick(rng, nested if nested and rng.random() < 0.85 else es)
    return None if e is None else Step("left_reassociate_expr", [e[1]])


@move(FRAGMENT_ALLOWED)
def m_rewrite_expr(cat, rng):
    es = cat.index_exprs()
    e = pick(rng, es)
    if e is None:
        return None
    text = str(e[0])
    new = rng.choice([f"{text} + 0", f"0 + {text}", f"({text}) * 1", f"{text} + 1",
                      f"({text}) * 2 - ({text})", f"({text}) / 1"])
    if e[0].type().name == "bool":
        new = rng.choice([f"not ({text})" if False else f"({text}) and ({text})",
                          f"({text}) or ({text})", "True", "False"])
    return Step("rewrite_expr", [e[1], repr(new)])


@move()
def m_merge_writes(cat, rng):
    C = cat.C
    writes = (C.AssignCursor, C.ReduceCursor)
    sites = [s for s in cat.of("AssignCursor", "ReduceCursor")
             if isinstance(s.cur.next(), writes)]
    site = pick(rng, sites)
    return None if site is None else Step("merge_writes", [f"{site.code}.expand(0, 1)"])


@move()
def m_split_write(cat, rng):
    C, sites = cat.C, cat.of("AssignCursor", "ReduceCursor")
    sums = [s for s in sites if isinstance(s.cur.rhs(), C.BinaryOpCursor) and
            s.cur.rhs().op() == "+"]
    site = pick(rng, sums if sums and rng.random() < 0.85 else sites)
    return None if site is None else Step("split_write", [site.code])


@move()
def m_fold_into_reduce(cat, rng):
    site = pick(rng, cat.of("AssignCursor", "ReduceCursor"))
    return None if site is None else Step("fold_into_reduce", [site.code])


@move()
def m_inline_assign(cat, rng):
    C, allocs = cat.C, {s.cur.name() for s in cat.of("AllocCursor")}
    sites = cat.of("AssignCursor")
    local = [s for s in sites if s.cur.name() in allocs]
    site = pick(rng, local if local and rng.random() < 0.85 else sites)
    return None if site is None else Step("inline_assign", [site.code])


@move()
def m_lift_reduce_constant(cat, rng):
    C = cat.C
    pairs = [s for s in cat.of("AssignCursor", "ReduceCursor")
             if isinstance(s.cur.next(), C.ForCursor)]
    site = pick(rng, pairs if pairs and rng.random() < 0.9 else cat.sites)
    return None if site is None else \
        Step("lift_reduce_constant", [f"{site.code}.expand(0, 1)" if not
                                      site.cur.next().is_invalid() else site.code])


