"""Config primitives: bind_config, delete_config, write_config. Each reads
locate -> check -> build.

All three add or remove a write `Cfg.f = e`, and share one check, as in Exo: no read
of Cfg.f that follows the write (later in its block, in a later iteration of a loop
around it, or after that loop; callees and their asserts included) may see the value
it writes, unless the write provably does not change Cfg.f (`Cfg.f = e` right after
another `Cfg.f = e`, nothing in between changing e). What the procedure leaves in Cfg.f
for its caller may change: as in Exo, the procedures are then equal except for the
final value of that config field.

Each primitive takes the Site its wrapper located (common.Site) and returns the new
Procedure (common.apply, which records the field whose final value may differ); a
refusal names the primitive the user called (`site.prim`).
"""

from __future__ import annotations

from knit.analysis import effects as E
from knit.analysis.smt import prove
from knit.analysis.written import configs_written_in
from knit.cursors import paths as P
from knit.ir import nodes as N, types as T
from knit.ir.printer import expr_str, stmt_str
from knit.ir.visit import stmt_exprs, walk_expr
from knit.rewrite.common import Site, apply, final_configs_of, parent_of, refuse
from knit.rewrite.exprs import more_facts

_READ, _KILL, _NONE = "read", "kill", "none"


# ---------------------------------------------------------------- the shared check


def check_unobserved(prim: str, ir: N.Proc, path, doing: str) -> None:
    """Refuse unless no read may see the value that the config write at `path` stores
    (or the write provably leaves the field unchanged). `doing`: 'inserting' etc."""
    w: N.WriteConfig = P.stmt_at(ir, path)
    if _is_redundant(ir, path):
        return
    key = (w.config, w.field)
    reader = _first_reader(ir, path, key)
    if reader is not None:
        line = reader.srcinfo.line if reader.srcinfo is not None else 0
        code = stmt_str(reader).splitlines()[0]
        raise refuse(prim, w, f"{doing} this write would change the value of "
                     f"{w.config.name()}.{w.field} that a later statement reads",
                     f"it is read by{f' line {line}' if line else ''}: {code}")


def _first_reader(ir, path, key):
    """A statement that may read `key` after the write at `path` and before any write
    that surely replaces it; None if there is none."""
    facts = E.context_facts(ir, path)
    field, i = path[-1]
    st, where = _first_use(P.block_of(ir, path[:-1], field)[i + 1:], key, facts)
    while st != _KILL:
        if st == _READ:
            return where
        if len(path) == 1:
            return None  # the value reaches the end of the procedure
        parent = P.stmt_at(ir, path[:-1])
        if isinstance(parent, N.For):  # a later iteration, up to the write again
            st, where = _first_use(parent.body[:path[-1][1] + 1], key,
                                   E.context_facts(ir, path))
            if st == _READ:
                return where
        path = path[:-1]
        field, i = path[-1]
        st, where = _first_use(P.block_of(ir, path[:-1], field)[i + 1:], key,
                               E.context_facts(ir, path))
    return None


def _first_use(stmts, key, facts) -> tuple[str, object]:
    """Whether running `stmts` may read `key` before writing it (_READ, with the reading
    statement), surely writes it first (_KILL), or neither (_NONE)."""
    for s in stmts:
        st, where = _stmt_use(s, key, facts)
        if st != _NONE:
            return st, where
    return _NONE, None


def _stmt_use(s, key, facts) -> tuple[str, object]:
    if any(_reads_key(e, key) for e in stmt_exprs(s)):
        return _READ, s  # a statement evaluates its expressions before it writes
    match s:
        case N.WriteConfig(config, field):
            return (_KILL if (config, field) == key else _NONE), s
        case N.If(cond, body, orelse):
            a, wa = _first_use(body, key, more_facts(facts, cond))
            b, wb = _first_use(orelse, key, more_facts(facts, E.not_(cond)))
            if _READ in (a, b):
                return _READ, wa if a == _READ else wb
            return (_KILL if a == b == _KILL else _NONE), s
        case N.For(it, lo, hi, body):
            inner = more_facts(facts, E.le(lo, E.var(it)), E.lt(E.var(it), hi))
            st, where = _first_use(body, key, inner)
            if st == _KILL and not prove(facts, E.lt(lo, hi)):
                return _NONE, s  # the loop may not run at all
            return st, where
        case N.Call(f):
            if any(_reads_key(p, key) for p in f.preds):
                return _READ, s  # the callee's precondition depends on the field
            return _first_use(f.body, key, [])[0], s
    return _NONE, s


def _reads_key(e, key) -> bool:
    return any(isinstance(x, N.ReadConfig) and (x.config, x.field) == key
               for x in walk_expr(e))


def _is_redundant(ir, path) -> bool:
    """Whether the write at `path` stores the value the field already holds: it is
    `Cfg.f = Cfg.f`, or an equal write `Cfg.f = e` comes earlier in the same block with
    nothing in between that writes Cfg.f or anything e reads."""
    w: N.WriteConfig = P.stmt_at(ir, path)
    key = (w.config, w.field)
    if isinstance(w.rhs, N.ReadConfig) and (w.rhs.config, w.rhs.field) == key:
        return True
    if _reads_key(w.rhs, key):
        return False
    field, i = path[-1]
    block = P.block_of(ir, path[:-1], field)
    for k in range(i - 1, -1, -1):
        t = block[k]
        if isinstance(t, N.WriteConfig) and (t.config, t.field) == key and t.rhs == w.rhs:
            return not _changes(ir, path[:-1] + ((field, k),), block[k + 1:i], w.rhs)
        if key in configs_written_in((t,)):
            return False
    return False


def _changes(ir, path, stmts, e) -> bool:
    """Whether running `stmts` (at `path`) may change the value of the expression `e`."""
    probe = N.WriteConfig(None, "", e)
    windows = E.windows_at(ir, path)
    reads = E.reads(E.accesses((probe,), windows))
    writes = E.writes(E.accesses(tuple(stmts), windows))
    return E.first_conflict(writes, reads, E.context_facts(ir, path)) is not None


# ---------------------------------------------------------------- the primitives


def bind_config(site: Site, config, field: str):
    """`s[x]` -> `Cfg.f = x; s[Cfg.f]` for the expression site x. Checks: x is a scalar
    data or bool variable of the field's type, not a buffer passed to a call; the
    config may be written (not disable_rw); no read may see the value written (see
    check_unobserved)."""
    prim = site.prim
    e = site.expr()
    stmt = site.node()
    if not isinstance(e, N.Read) or e.idx or not (e.type.is_real() or e.type == T.BOOL):
        raise refuse(prim, stmt, f"'{expr_str(e)}' is not a scalar data variable or a bool "
                     "variable: only those can be bound to a config field (index and size "
                     "values may depend on loop iterations)")
    ftype = check_field(prim, stmt, config, field)
    if e.type != ftype:
        raise refuse(prim, stmt, f"'{expr_str(e)}' is {_an(e.type)} value but "
                     f"{config.name()}.{field} is {_an(ftype)} field")
    if isinstance(stmt, N.Call) and e.type.is_real():
        raise refuse(prim, stmt, f"'{expr_str(e)}' is a buffer passed to "
                     f"'{stmt.f.name}', not a value: it cannot be replaced by a config "
                     "field")
    write = N.WriteConfig(config, field, e, e.srcinfo)
    ir, path = _insert(site.ir, site.path, write)
    check_unobserved(prim, ir, path, "binding")
    spath = path[:-1] + ((path[-1][0], path[-1][1] + 1),)
    read = N.ReadConfig(config, field, ftype, e.srcinfo)
    new_stmt = P.replace_expr(P.stmt_at(ir, spath), site.epath, read)
    return apply(site, P.replace_stmt(ir, spath, (new_stmt,)), final_configs=_field(write))


def delete_config(site: Site):
    """Delete the config write at `site`. Checks: it is a config write; no read may see
    the value it wrote (see check_unobserved)."""
    prim = site.prim
    s = site.node()
    if not isinstance(s, N.WriteConfig):
        raise refuse(prim, s, "expected a config write `Cfg.field = e`")
    check_unobserved(prim, site.ir, site.path, "deleting")
    # a loop or if body left empty keeps a `pass`
    new = () if len(site.block()) > 1 else (N.Pass(s.srcinfo),)
    return apply(site, site.replaced(new), final_configs=_field(s))


def write_config(gap: Site, config, field: str, rhs: N.Expr):
    """Insert `Cfg.f = rhs` at the gap. Checks: the config may be written (not
    disable_rw); rhs is a literal, a stride or a scalar data or bool variable, fitting
    the field's type; no read may see the value written (see check_unobserved)."""
    prim = gap.prim
    anchor = gap.shown()
    ftype = check_field(prim, anchor, config, field)
    rhs = _check_written_value(prim, anchor, rhs, config, field, ftype)
    write = N.WriteConfig(config, field, rhs, getattr(anchor, "srcinfo", rhs.srcinfo))
    ir, path = _insert(gap.ir, gap.path, write)
    check_unobserved(prim, ir, path, "inserting")
    return apply(gap, ir, final_configs=_field(write))


def _field(w: N.WriteConfig) -> frozenset:
    """The field `w` writes: the new procedure is equal to its parent except for the
    value it leaves there (call_eqv then checks that no caller reads it)."""
    return frozenset({(w.config, w.field)})


def configs_that_may_differ(a, b) -> frozenset:
    """The config fields whose final value may differ between two procedures of one
    equivalence class: those changed by the config rewrites between each and their
    nearest common ancestor (all of them, when they have none: related by
    unsafe_assert_eq, or by call_eqv of such fields)."""
    chain_a, chain_b = _ancestry(a), _ancestry(b)
    pos_b = {id(x): k for k, x in enumerate(chain_b)}
    ka, kb = len(chain_a), len(chain_b)
    for k, x in enumerate(chain_a):
        if id(x) in pos_b:
            ka, kb = k, pos_b[id(x)]
            break
    out: set = set()
    for x in chain_a[:ka] + chain_b[:kb]:
        out |= final_configs_of(x)
    return frozenset(out)


def _ancestry(p) -> list:
    out = []
    while p is not None:
        out.append(p)
        p = parent_of(p)
    return out


def first_reader_after(ir, path, key):
    """A statement that may read config field `key` after the statement at `path` ran
    (later in its block, a later iteration of an enclosing loop, after the loop) before
    a write that surely replaces it; None if there is none."""
    return _first_reader(ir, path, key)


def _insert(ir, path, stmt):
    """`ir` with `stmt` inserted before position `path`, and the new statement's path."""
    field, i = path[-1]
    return P.replace_block(ir, path[:-1], field, i, i, (stmt,)), path


def check_field(prim: str, where, config, field: str) -> T.ScalarT:
    if config.disable_rw:
        raise refuse(prim, where, f"config {config.name()} is declared with disable_rw=True: "
                     "only instructions' semantics may read or write it")
    return config.lookup_type(field)


def _check_written_value(prim, where, rhs, config, field, ftype) -> N.Expr:
    """As in Exo: a literal, a stride, or a scalar data or bool variable, of the field's
    kind (an index or size variable may depend on loop iterations)."""
    from knit.frontend.typecheck import as_data

    name = f"{config.name()}.{field}"
    if isinstance(rhs, N.Read) and not (not rhs.idx and (rhs.type.is_real() or
                                                         rhs.type == T.BOOL)):
        raise refuse(prim, where, f"cannot write '{expr_str(rhs)}' to {name}: only a literal, "
                     "a stride, or a scalar data or bool variable can be written to a config "
                     "field (index values may depend on loop iterations)")
    if not isinstance(rhs, (N.Read, N.StrideExpr, N.Const)):
        raise refuse(prim, where, f"cannot write '{expr_str(rhs)}' to {name}: expected a "
                     "literal, a stride expression or a variable",
                     "bind the value to a scalar first (bind_expr)")
    if ftype.is_real():
        rhs = as_data(rhs)
        ok = rhs.type == ftype or (isinstance(rhs, N.Const) and rhs.type == T.R)
    elif ftype == T.BOOL:
        ok = rhs.type == T.BOOL
    else:
        ok = rhs.type.kind in ("int", "index", "size", "stride")
        if ok and ftype == T.SIZE and isinstance(rhs, N.Const):
            ok = rhs.val >= 1
    if not ok:
        raise refuse(prim, where, f"{name} is {_an(ftype)} field and cannot hold "
                     f"'{expr_str(rhs)}' ({_an(rhs.type)} value)")
    return rhs


def _an(t) -> str:
    from knit.frontend.typecheck import an

    return an(t)
