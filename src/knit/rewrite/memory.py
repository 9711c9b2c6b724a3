"""Memory primitives: stage_mem (copy a window into a new buffer around a block),
bind_expr, and the annotations set_memory, set_precision, set_window.

Each takes the Site its wrapper located (a block's for stage_mem, buffers.buf_site's
for the annotations, common.site_of's for bind_expr), checks, builds the new IR and ends
with common.apply, which derives the new Procedure."""

from __future__ import annotations

from knit.analysis import effects as E
from knit.analysis.exprs import add, const, sub, var
from knit.analysis.simplify import simplify_expr
from knit.analysis.smt import prove
from knit.analysis.written import block_writes
from knit.cursors import paths as P
from knit.errors import SchedulingError
from knit.ir import nodes as N, types as T
from knit.ir.printer import expr_str
from knit.ir.sym import Sym
from knit.ir.visit import (
    free_syms,
    map_expr,
    map_stmt_exprs,
    stmt_exprs,
    stmt_syms,
    walk_expr,
    walk_stmts,
)
from knit.memory import DRAM
from knit.rewrite import witness as W
from knit.rewrite.bufaccess import (
    indexed_accesses,
    map_accesses,
    open_reads,
    rename_buffer,
    uses,
)
from knit.rewrite.common import Site, apply, bad_arg, refuse
from knit.rewrite.exprs import NARROW_INTS, arith_type, exact_in, value_type

# ---------------------------------------------------------------- annotations


def set_type_and_mem(site: Site, *, mem=None, elem=None, window=None):
    """Change an allocation's or argument's memory, precision or window-ness (the buffer
    Site of buffers.buf_site)."""
    prim, node = site.prim, site.node()
    if mem is not None:
        _check_calls_accept(prim, site.ir, node, mem)
    typ = node.type
    if elem is not None:
        if typ.is_tensor():
            typ = T.TensorT(typ.dims, typ.is_window, elem)
        else:
            typ = elem
    if window is not None:
        if not typ.is_tensor():
            raise bad_arg(prim, f"'{node.name.name}' is a scalar, not a tensor")
        typ = T.TensorT(typ.dims, window, typ.elem)
    _check_calls_still_fit(prim, site.ir, node, elem, window)
    new = node.with_(type=typ) if isinstance(node, N.Alloc) else \
        N.FnArg(node.name, typ, node.mem, node.srcinfo)
    if mem is not None:
        new = new.with_(mem=mem) if isinstance(new, N.Alloc) else \
            N.FnArg(new.name, new.type, mem, new.srcinfo)
    ir = site.replaced((new,))  # an argument's path (("args", i),) replaces it the same way
    if elem is not None:
        ir = _retype_uses(ir, node.name, elem)
    return apply(site, ir)


def _check_calls_still_fit(prim, ir: N.Proc, node, elem, window) -> None:
    """A buffer passed to a call must still fit the callee's parameter: its precision
    (unless the parameter is generic, R), and a dense parameter takes no window."""
    buf = node.name
    names = _names_of(ir, buf)
    for s in walk_stmts(ir.body):
        if not isinstance(s, N.Call):
            continue
        for p, a in zip(s.f.args, s.args):
            if p.type.is_control() or getattr(a, "name", None) not in names:
                continue
            held = p.type.basetype()
            via = "" if a.name is buf else f" (as its window '{a.name.name}')"
            if elem is not None and not T.holds(held, elem):
                raise refuse(prim, s, f"'{buf.name}' is passed{via} to "
                             f"{s.f.name}, whose parameter '{p.name.name}' holds {held}")
            if window and p.type.is_tensor() and not p.type.is_win():
                raise refuse(prim, s, f"'{buf.name}' is passed{via} to {s.f.name}, "
                             f"whose parameter '{p.name.name}' is a dense tensor, not a window")


def _names_of(ir: N.Proc, buf: Sym) -> set:
    """buf, the windows of it, and the windows of those: what a call may be passed."""
    names = {buf}
    for s in walk_stmts(ir.body):  # program order: a window is defined before its windows
        if isinstance(s, N.WindowStmt) and s.rhs.name in names:
            names.add(s.name)
    return names


def _check_calls_accept(prim, ir: N.Proc, node, mem) -> None:
    """Every call the buffer (or a window of it) is passed to must take it in the new
    memory."""
    names = _names_of(ir, node.name)
    for s in walk_stmts(ir.body):
        if not isinstance(s, N.Call):
            continue
        for p, a in zip(s.f.args, s.args):
            if getattr(a, "name", None) in names and p.mem is not None and \
                    not issubclass(mem, p.mem):
                via = "" if a.name is node.name else f" (as its window '{a.name.name}')"
                raise refuse(prim, s, f"'{node.name.name}' is passed{via} to "
                             f"{s.f.name}, whose argument '{p.name.name}' lives in "
                             f"{p.mem.name()}, not {mem.name()}")


def _retype_uses(ir: N.Proc, buf: Sym, elem) -> N.Proc:
    """Reads, writes and windows of buf, and of the windows taken of it, carry the
    element type: keep them in sync."""
    names = {buf}

    def retype(t):
        return T.TensorT(t.dims, t.is_window, elem) if t.is_tensor() else elem

    def fe(e):
        if isinstance(e, (N.Read, N.WindowExpr)) and e.name in names and e.type.is_numeric():
            return e.with_(type=retype(e.type))
        return rejoin(e)

    def block(stmts):
        return tuple(stmt(s) for s in stmts)

    def stmt(s):
        def m(e):
            return map_expr(e, fe)

        match s:
            case N.Assign() | N.Reduce():
                s = s.with_(idx=tuple(map(m, s.idx)), rhs=m(s.rhs))
                return s.with_(type=elem) if s.name in names else s
            case N.WindowStmt():
                s = s.with_(rhs=m(s.rhs))
                if s.rhs.name in names:  # accesses through the window see the new type
                    names.add(s.name)
                return s
            case N.For():
                return s.with_(body=block(s.body))
            case N.If():
                return s.with_(cond=m(s.cond), body=block(s.body), orelse=block(s.orelse))
            case N.Call():
                return s.with_(args=tuple(map(m, s.args)))
            case N.WriteConfig():
                return s.with_(rhs=m(s.rhs))
        return s

    return ir.with_(body=block(ir.body))


def rejoin(e):
    """A data operation typed from its (already typed) operands, as the parser types it:
    equal types stay, a literal (R) adopts the other, mixed precisions give R."""
    if isinstance(e, N.BinOp) and e.type.is_real():
        return e.with_(type=T.join_real(e.lhs.type, e.rhs.type))
    if isinstance(e, N.USub) and e.type.is_real():
        return e.with_(type=e.arg.type)
    if isinstance(e, N.Extern):
        from knit.extern import ExternTypeError

        try:
            return e.with_(type=e.f.typecheck([a.type for a in e.args]))
        except ExternTypeError:  # the operands were accepted before; keep the old type
            return e
    return e


# ---------------------------------------------------------------- bind_expr


def bind_expr(sites: list, name: str):
    """`sites`: the expression Sites of the occurrences, all in one procedure."""
    first = sites[0]
    prim, ir = first.prim, first.ir
    e = first.expr()
    if not e.type.is_real():
        raise bad_arg(prim, f"only data expressions can be bound; {expr_str(e)} is a "
                      f"{e.type} value")
    for c in sites[1:]:
        if c.expr() != e:
            why = " (they read variables of the same name, e.g. the iterators of two " \
                "loops; bind them one at a time)" if expr_str(c.expr()) == expr_str(e) else ""
            raise bad_arg(prim, f"the expressions differ: {expr_str(e)} vs "
                          f"{expr_str(c.expr())}{why}")
    sites = sorted(sites, key=lambda c: (c.path, c.epath))
    parent, field, i, j = _common_block(sites[0].path, sites[-1].path)
    block = P.block_of(ir, parent, field)
    region = block[i:j + 1]
    bound, _ = stmt_syms(region)
    inner = [v.name for v in free_syms(e) & bound]
    if inner:
        raise refuse(prim, block[i], f"{expr_str(e)} uses '{inner[0]}', which is bound between "
                     "the expressions; bind them one at a time")
    # the last statement reads before it writes, unless it is a loop, an if or a call
    last_simple = isinstance(region[-1], (N.Assign, N.Reduce))
    _check_unchanged(first, e, region[:-1] if last_simple else region,
                     parent + ((field, i),))
    sym = Sym(name)
    elem = _bound_type(prim, e, ir, sites)
    read = N.Read(sym, (), elem, e.srcinfo)
    for c in sites:
        s = P.replace_expr(P.stmt_at(ir, c.path), c.epath, read)
        ir = P.replace_stmt(ir, c.path, (map_stmt_exprs(s, rejoin),))
    src = block[i].srcinfo
    bind = (N.Alloc(sym, elem, DRAM, src), N.Assign(sym, elem, (), e, src))
    return apply(first, P.replace_block(ir, parent, field, i, i, bind))


def _common_block(p1, p2):
    """(parent path, field, i, j): the innermost block holding both statements, and the
    positions in it of the statements that contain them."""
    k = 0
    while k < min(len(p1), len(p2)) and p1[k] == p2[k]:
        k += 1
    if k < min(len(p1), len(p2)) and p1[k][0] == p2[k][0]:
        return p1[:k], p1[k][0], p1[k][1], p2[k][1]
    field, i = p1[k - 1]  # one contains the other, or they sit in two branches of an if
    return p1[:k - 1], field, i, i


def _bound_type(prim, e, ir, sites):
    """The precision of the new scalar: the one every occurrence of e is computed in
    (they may differ for literals; refused then), or Exo's (e's own type) where every
    occurrence is stored whole, so the scalar gives each store the same value."""
    if _stored_whole_alike(e, ir, sites):
        return e.type
    types = {}
    for c in sites:
        types.setdefault(_bound_type_at(prim, e, ir, c), c)
    if len(types) > 1:
        (t1, c1), (t2, c2) = list(types.items())[:2]
        raise refuse(prim, P.stmt_at(ir, c2.path), f"{expr_str(e)} is used as {t1} in one "
                     f"place and as {t2} in another, so no one scalar can hold it for both",
                     "bind the occurrences of each precision separately")
    return next(iter(types))


def _bound_type_at(prim, e, ir, site):
    """The type whose values e takes at cur (semantics.md#literal-type): its own (for
    narrow integer arithmetic, the `int` it is computed in). Literals only (type R) are
    computed in double and converted once, where they meet a typed operand or are
    stored: bound whole, they take that type; a part of them can be bound in double
    only where that is the type they are converted to (or they are stored as is)."""
    if e.type != T.R:
        return value_type(e)
    if not _literals_only(e):
        return T.R  # generic-precision data, computed as float (backend/c/generic.py)
    stmt, path = P.stmt_at(ir, site.path), site.epath
    j = len(path)  # depth of the largest literals-only expression holding e
    while j > 1 and P.expr_at(stmt, path[:j - 1]).type == T.R and \
            _literals_only(P.expr_at(stmt, path[:j - 1])):
        j -= 1
    if j > 1:
        op = P.expr_at(stmt, path[:j - 1]).type  # the operand type it adopts: R data is R
        ctx = op if op == T.R else arith_type(op)
    elif isinstance(stmt, N.Reduce):
        ctx = arith_type(stmt.type)  # x += e adds e as x's type
    else:
        ctx = None  # stored: converted once, at the store
    if j == len(path):
        return ctx or getattr(stmt, "type", None) or T.F64
    if ctx in (None, T.F64):
        return T.F64  # literal arithmetic is double arithmetic
    top = P.expr_at(stmt, path[:j])
    raise refuse(prim, stmt, f"{expr_str(e)} is part of {expr_str(top)}, an expression of "
                 f"literals only, computed in double and then converted to {ctx}: a part "
                 f"bound on its own would be rounded to {ctx} separately",
                 f"bind the whole of {expr_str(top)}")


def _stored_whole_alike(e, ir, sites) -> bool:
    """Whether Exo's type for the scalar, e's own, keeps every store's value: each
    occurrence is the whole right-hand side of a store into e's type (narrow integer
    arithmetic, computed in `int`, is cut to that type at the store anyway; the cut
    commutes with `+=`), or e is a literal exact in float -- R is float -- and each
    occurrence is assigned (converted once, from the same value)."""
    if e.type == T.R:
        if not isinstance(e, N.Const) or isinstance(e.val, bool) or \
                not exact_in(e, T.F32):
            return False
        kinds = (N.Assign,)
    elif e.type.name in NARROW_INTS:
        kinds = (N.Assign, N.Reduce)
    else:
        return False
    for c in sites:
        stmt = P.stmt_at(ir, c.path)
        if not (isinstance(stmt, kinds) and c.epath == (("rhs", None),) and
                (e.type == T.R or stmt.type == e.type)):
            return False
    return True


def _literals_only(e) -> bool:
    """Whether e reads no data (only literals and control values)."""
    return not any(isinstance(x, N.Read) and x.type.is_real() for x in walk_expr(e))


def _check_unchanged(site: Site, e, between, spath):
    """Nothing the expression reads may be written by the statements it is moved over."""
    ir = site.ir
    facts = E.context_facts(ir, spath)
    windows = E.windows_at(ir, spath)  # writes through a window count too
    reads = E.accesses((N.Assign(Sym("_"), T.R, (), e),), windows)
    reads = [a for a in reads if a.kind == "r"]
    writes = E.writes(E.accesses(tuple(between), windows))
    hit = E.first_conflict(writes, reads, facts)
    if hit:
        err = refuse(site.prim, P.stmt_at(ir, spath), f"{expr_str(e)} may change "
                     f"between its uses: a statement {hit[0].describe()}")
        raise W.why_conflict(err, hit, site.proc)


# ---------------------------------------------------------------- stage_mem


# the kinds of use (`_check_stageable`) that change the staged window
WRITES = frozenset({"write", "reduce", "written window"})


def stage_mem(site: Site, win, name: str, accum: bool):
    """site: a block's Site. win: a window x[..] with slices, a point x[i, j], or a
    scalar buffer x. The staged buffer has one dimension per slice (none: a scalar)."""
    try:
        return _stage_mem(site, win, name, accum)
    except SchedulingError as err:
        # a refusal with a counterexample: show it break the rewrite made unchecked
        raise W.add_run(err, site.proc, lambda: _stage_mem(site, win, name, accum,
                                                           checked=False)) from None


def _stage_mem(site: Site, win, name: str, accum: bool, checked: bool = True):
    """`checked=False` skips the checks that the block stays inside the window and
    that nothing bypasses the staging buffer: only to build a refusal's witness."""
    prim, ir = site.prim, site.ir
    stmts = site.stmts()
    path0 = site.path
    facts = E.context_facts(ir, path0)
    buf, accs = win.name, _accesses_of(win)
    btype = _buffer_type(ir, buf, path0)
    if btype is None:
        raise bad_arg(prim, f"'{buf.name}' is not a buffer visible here")
    elem = btype.basetype()
    # as Exo, an access that never falls in the window is not staged: set apart under
    # another name while the rest is rewritten
    apart = buf.copy()
    stmts = _set_apart_outside(stmts, buf, apart, accs, facts) if checked else stmts
    kinds = _check_stageable(prim, site.proc, stmts, buf, accs, facts, accum, checked)
    if "window" in kinds and block_writes(stmts, buf):
        kinds |= {"written window"}  # else every window of buf is only read (callees too)
    if checked:
        _check_no_bypass(site, stmts, win, kinds, facts)
    _check_windows_end_with_block(site, buf)
    calls = _check_strides_unread(prim, stmts, buf, _same_strides(accs, btype, facts))
    new_buf = Sym(name)
    ivals = [w for w in accs if isinstance(w, N.Interval)]
    for w in ivals:  # a buffer dimension must be at least 1
        if not prove(facts, E.le(const(1), _extent(w))):
            err = refuse(prim, stmts[0], f"the staged window {expr_str(win)} may be empty "
                         f"(its extent {expr_str(_extent(w))} may be 0), and a buffer needs "
                         "at least one element", "add an assert that makes it non-empty, or "
                         "specialize the block on that condition")
            raise W.why(err, facts, E.le(const(1), _extent(w)), site.proc)
    staged_t = T.TensorT(tuple(_extent(w) for w in ivals), False, elem) if ivals else elem
    body = map_accesses(stmts, buf, lambda idx: _to_staged(accs, idx),
                        on_win=lambda w: _win_to_staged(accs, w, new_buf))
    body = rename_buffer(rename_buffer(body, buf, new_buf), apart, buf)
    src = stmts[0].srcinfo
    copy = _Copy(buf, btype, accs, new_buf, elem, _in_bounds(accs, btype, facts), src)
    pre, post = [], []
    if accum:
        pre, post = [copy.loops("zero")], [copy.loops("accum")]
    else:
        if kinds & WRITES:  # a block that only reads the window stores nothing back
            post = [copy.loops("store")]
        if not _load_unneeded(body, post, new_buf, accs, kinds, facts):
            pre = [copy.loops("load")]
    new = (N.Alloc(new_buf, staged_t, DRAM, src), *pre, *body, *post)
    out = apply(site, site.replaced(new), unsafe=not checked)
    if calls:  # a callee's asserts on its arguments' shapes and strides hold again
        from knit.rewrite.subprocs import check_call_sites

        check_call_sites(prim, out, stmts[0], before=site.ir)
    return out


def _set_apart_outside(stmts, buf, apart, accs, facts) -> tuple:
    """stmts with each element access of buf that lies outside the window whenever it
    runs made to `apart` (it neither sees nor changes a staged element, so it may keep
    reading and writing buf). Windows of buf stay: they are checked to lie inside."""

    def outside(idx, f) -> bool:
        inside = [E.eq(i, w.pt) if isinstance(w, N.Point) else
                  E.and_(E.le(w.lo, i), E.lt(i, w.hi)) for i, w in zip(idx, accs)]
        return len(idx) == len(accs) and bool(idx) and prove(f, E.not_(E.and_(*inside)))

    def fe(f):
        def m(e):
            if isinstance(e, N.Read) and e.name is buf and e.idx and outside(e.idx, f):
                return e.with_(name=apart)
            return e
        return m

    def block(ss, f):
        return tuple(stmt(x, f) for x in ss)

    def stmt(x, f):
        if isinstance(x, N.For):
            inner = f + [E.le(x.lo, var(x.iter)), E.lt(var(x.iter), x.hi)]
            return x.with_(body=block(x.body, inner))
        if isinstance(x, N.If):
            return x.with_(cond=map_expr(x.cond, fe(f)), body=block(x.body, f + [x.cond]),
                           orelse=block(x.orelse, f + [E.not_(x.cond)]))
        x = map_stmt_exprs(x, fe(f))
        if isinstance(x, (N.Assign, N.Reduce)) and x.name is buf and outside(x.idx, f):
            x = x.with_(name=apart)
        return x

    return block(stmts, list(facts))


def _load_unneeded(body, post, new_buf, accs, kinds, facts) -> bool:
    """Whether the copy into the staging buffer may be left out, as Exo leaves it out:
    the block does not read the window (for a point: its first access is a write), and
    no value loaded could be seen: every element the block or the copy back reads was
    written by the block before (surely, not under a condition the read may escape)."""
    if any(isinstance(w, N.Interval) for w in accs) and kinds & {"read", "reduce", "window"}:
        return False
    if not open_reads((*body, *post), new_buf, facts):
        return True
    # a copy back of a few elements the block writes one by one (t[0] = .., t[1] = ..):
    # element by element, each read is covered by one write
    # (none when the extents are not small literals: then nothing is proven)
    reads = _each_element_read(accs, new_buf)
    return bool(post) and bool(reads) and not open_reads((*body, *reads), new_buf, facts)


def _each_element_read(accs, new_buf, most: int = 64) -> tuple:
    """Statements reading each element of the staging buffer once, if its extents are
    literals with at most `most` elements in all (else none)."""
    import itertools

    extents = [simplify_expr(_extent(w)) for w in accs if isinstance(w, N.Interval)]
    if not all(isinstance(x, N.Const) for x in extents):
        return ()
    sizes = [x.val for x in extents]
    count = 1
    for n in sizes:
        count *= n
    if count > most:
        return ()
    sink = Sym("_")
    return tuple(N.Assign(sink, T.R, (), N.Read(new_buf, tuple(map(const, k)), T.R))
                 for k in itertools.product(*map(range, sizes)))


def _accesses_of(win) -> tuple:
    if isinstance(win, N.WindowExpr):
        return win.idx
    return tuple(N.Point(i) for i in win.idx)  # a point x[i, j], or a scalar x


def _check_stageable(prim, proc, stmts, buf, accs, facts, accum, checked: bool = True) -> set:
    """The kinds of use of buf in the block, after checking that staging keeps them."""
    kinds = {k for k, _ in uses(stmts, buf)}
    if not kinds:
        raise refuse(prim, stmts[0], f"the block does not access '{buf.name}'; there is "
                     "nothing to stage")
    if "whole" in kinds or "stride" in kinds:
        raise refuse(prim, stmts[0], f"'{buf.name}' is passed whole to a call or its strides "
                     "are read inside the block")
    if "window" in kinds and not any(isinstance(w, N.Interval) for w in accs):
        raise refuse(prim, stmts[0], f"the block takes a window of '{buf.name}', which a "
                     "scalar staging buffer cannot give; stage a slice such as x[i:i+1]")
    bounds = [x for w in accs for x in ((w.lo, w.hi) if isinstance(w, N.Interval) else (w.pt,))]
    read = set().union(*map(E.config_reads, bounds))
    # (the block's accesses, callees' included, only when the window reads a config)
    changed = read and E.written_configs(E.accesses(stmts)) & read
    if changed:
        config, field = min(changed, key=str)
        raise refuse(prim, stmts[0], f"the window reads {config.name()}.{field}, which the "
                     "block writes, so the window would move under it")
    if accum and kinds - {"reduce"}:
        raise refuse(prim, stmts[0], f"accum=True needs a block that only reduces into "
                     f"'{buf.name}' (+=), but it also "
                     f"{'reads' if 'read' in kinds else 'writes'} it")
    if checked:
        _check_block_inside(prim, stmts, buf, accs, facts, proc)
    return kinds


def _check_no_bypass(site: Site, stmts, win, kinds, facts) -> None:
    """The memory of the staged window may also be reached under other names: the
    buffer that a staged window variable is a window of, or other windows of that
    buffer. Such an access bypasses the staging buffer, so it must not touch the staged
    region where the block writes the staged buffer (the copy back would undo or hide
    it), nor write the region the block reads from the staging buffer."""
    buf = win.name
    windows = E.windows_at(site.ir, site.path)
    root, region = E.resolve_window(windows, N.WindowExpr(buf, _accesses_of(win), T.R))
    staged = _region_access(root, region, kinds)
    names = [root] + [w for w, (base, _) in windows.items() if base is root]
    for other in names:
        if other is buf or not uses(stmts, other):
            continue
        hit = E.first_conflict([staged], _accesses_named(stmts, other, names + [buf],
                                                         windows, root),
                               facts, reduces_commute=False)
        if hit is None:
            continue
        how = f"through the window '{other.name}'" if other is not root else \
            f"directly, not through the window '{buf.name}'"
        hint = "inline_window it first" if other is not root else \
            f"stage a window of '{root.name}' instead (inline_window '{buf.name}' first)"
        err = refuse(site.prim, stmts[0], f"the block accesses '{root.name}' {how}, which "
                     f"would bypass the staging buffer: it {hit[1].describe()}"
                     f"{_at_line(hit[1])}, which may lie in the staged window {_win_str(win)}",
                     hint)
        raise W.why_conflict(err, hit, site.proc)


def _region_access(root, region, kinds) -> E.Access:
    """The staged region of `root` as one access: one bound variable per slice. A block
    that writes the staged buffer stores it back: a write of the whole region."""
    idx, ctx, iters = [], [], []
    for a in region:
        if isinstance(a, N.Point):
            idx.append(a.pt)
            continue
        k = Sym("k")
        iters.append(k)
        idx.append(var(k))
        ctx += [E.le(a.lo, var(k)), E.lt(var(k), a.hi)]
    kind = "w" if kinds & WRITES else "r"
    return E.Access(root, tuple(idx), kind, tuple(ctx), tuple(iters))


def _accesses_named(stmts, name, names, windows, root) -> list:
    """The accesses of `root`'s memory that the block makes under `name` only (including
    through windows of it the block defines): the other names are masked."""
    for other in names:
        if other is not name:
            stmts = rename_buffer(stmts, other, Sym("_masked"))
    seen = {name: windows[name]} if name in windows else {}
    return [a for a in E.accesses(stmts, seen) if a.buf is root]


def _same_strides(accs, btype, facts) -> bool:
    """Whether the staging buffer has buf's strides in every staged dimension: buf is
    dense and the window spans whole dimensions after its first slice."""
    if btype.is_win():
        return False
    first = next((k for k, w in enumerate(accs) if isinstance(w, N.Interval)), len(accs))
    return all(isinstance(w, N.Interval) and prove(facts, E.eq(_extent(w), d))
               for w, d in list(zip(accs, btype.shape()))[first + 1:])


def _check_strides_unread(prim, stmts, buf, same_strides: bool) -> bool:
    """Unless it has the same strides, the staging buffer must not be seen through them:
    the block may not read the strides of a window it takes of buf, nor pass one to a
    callee whose body reads them. Returns whether such a window is passed to a call
    (whose asserts must then be checked again)."""
    names, calls = {buf}, False
    for s in walk_stmts(stmts):  # program order: a window is defined before its uses
        if isinstance(s, N.WindowStmt) and s.rhs.name in names:
            names.add(s.name)
        if same_strides:
            calls = calls or isinstance(s, N.Call) and \
                any(getattr(a, "name", None) in names for a in s.args)
            continue
        for e in stmt_exprs(s):
            for x in walk_expr(e):
                if isinstance(x, N.StrideExpr) and x.name in names - {buf}:
                    raise refuse(prim, s, f"the block reads {expr_str(x)} of a window of "
                                 f"'{buf.name}', which would be a window of the staging "
                                 "buffer, with other strides", "inline_window it first")
        if not isinstance(s, N.Call):
            continue
        for p, a in zip(s.f.args, s.args):
            if getattr(a, "name", None) not in names:
                continue
            calls = True
            if _reads_stride(s.f, p.name):
                raise refuse(prim, s, f"{s.f.name} reads the strides of its parameter "
                             f"'{p.name.name}', which would be a window of the staging "
                             f"buffer, with other strides than '{buf.name}'")
    return calls


def _reads_stride(f: N.Proc, param: Sym) -> bool:
    """Whether f's body (not its asserts: those are checked at each call) reads a stride
    of param or of a window of it, or passes either to a callee that does."""
    names = {param}
    for s in walk_stmts(f.body):
        if isinstance(s, N.WindowStmt) and s.rhs.name in names:
            names.add(s.name)
        if any(isinstance(x, N.StrideExpr) and x.name in names
               for e in stmt_exprs(s) for x in walk_expr(e)):
            return True
        if isinstance(s, N.Call) and any(getattr(a, "name", None) in names and
                                         _reads_stride(s.f, p.name)
                                         for p, a in zip(s.f.args, s.args)):
            return True
    return False


def _check_windows_end_with_block(site: Site, buf) -> None:
    """A window of buf that the block defines becomes a window of the staging buffer,
    which holds buf's values only inside the block: it must not be used after it."""
    parent, (field, _) = site.path[:-1], site.path[-1]
    rest = P.block_of(site.ir, parent, field)[site.hi:]
    redirected = {buf}
    for s in site.stmts():
        if not (isinstance(s, N.WindowStmt) and s.rhs.name in redirected):
            continue
        redirected.add(s.name)
        if uses(rest, s.name):
            raise refuse(site.prim, s, f"the block defines the window '{s.name.name}' of "
                         f"'{buf.name}', which is used after the block; it would then be a "
                         f"window of the staging buffer, which no longer holds "
                         f"'{buf.name}' there", "end the block after the last use of "
                         f"'{s.name.name}', or inline_window it first")


def _at_line(access) -> str:
    line = getattr(access.srcinfo, "line", 0)
    return f" at line {line}" if line else ""


def _win_str(win) -> str:
    accs = _accesses_of(win)
    return f"{win.name.name}[{', '.join(_acc_str(w) for w in accs)}]" if accs else \
        win.name.name


def _buffer_type(ir: N.Proc, buf, path):
    from knit.frontend.fragment import visible_syms

    for sym, typ, _ in visible_syms(ir, path).values():
        if sym is buf and typ.is_numeric():
            return typ
    return None


def _extent(w: N.Interval):
    return simplify_expr(sub(w.hi, w.lo))


def _check_block_inside(prim, stmts, buf, accs, facts, proc=None):
    """Every access of buf in the block must fall inside the staged window."""
    for idx, node, f in indexed_accesses(stmts, buf, facts):
        if isinstance(idx, N.WindowExpr):
            _check_window_keeps_dims(prim, stmts, idx, buf, accs)
            pts = [(a.pt, a.pt) if isinstance(a, N.Point) else (a.lo, sub(a.hi, const(1)))
                   for a in idx.idx]
        else:
            pts = [(i, i) for i in idx]
        for (lo, hi), w in zip(pts, accs):
            goal = E.and_(E.eq(lo, w.pt), E.eq(hi, w.pt)) if isinstance(w, N.Point) else \
                E.and_(E.le(w.lo, lo), E.lt(hi, w.hi))
            if not prove(f, goal):
                what = expr_str(node) if isinstance(node, N.Expr) else \
                    f"{buf.name}[{', '.join(expr_str(i) for i in idx)}]"
                err = refuse(prim, stmts[0], f"the block accesses {what} outside the window "
                             f"{buf.name}[{', '.join(_acc_str(w) for w in accs)}]",
                             "stage a larger window, or a smaller block")
                raise W.why(err, f, goal, proc)


def _check_window_keeps_dims(prim, stmts, w: N.WindowExpr, buf, accs) -> None:
    """A slice of a window the block takes (e.g. a call argument A[i:i+1, k]) that falls
    on a point of the staged window has no dimension of the staging buffer to become:
    the window would lose a dimension (and no longer fit what it is passed to)."""
    for d, (a, s) in enumerate(zip(w.idx, accs)):
        if isinstance(a, N.Interval) and isinstance(s, N.Point):
            wider = list(accs)
            wider[d] = N.Interval(s.pt, add(s.pt, const(1)))
            raise refuse(prim, stmts[0], f"the block takes the window {expr_str(w)}, whose "
                         f"slice {_acc_str(a)} falls on the point {expr_str(s.pt)} of the "
                         f"staged window {buf.name}[{', '.join(_acc_str(x) for x in accs)}]: "
                         "the staging buffer has no dimension there, and the window would "
                         "lose one", f"stage a slice there, e.g. "
                         f"{buf.name}[{', '.join(_acc_str(x) for x in wider)}]")


def _acc_str(w) -> str:
    return expr_str(w.pt) if isinstance(w, N.Point) else f"{expr_str(w.lo)}:{expr_str(w.hi)}"


def _to_staged(accs, idx):
    return tuple(sub(i, w.lo) for i, w in zip(idx, accs) if isinstance(w, N.Interval))


def _win_to_staged(accs, w, new_buf):
    out = []
    for a, b in zip(w.idx, accs):
        if isinstance(b, N.Point):
            continue
        out.append(N.Point(sub(a.pt, b.lo)) if isinstance(a, N.Point) else
                   N.Interval(sub(a.lo, b.lo), sub(a.hi, b.lo)))
    return w.with_(name=new_buf, idx=tuple(out))


def _in_bounds(accs, btype, facts) -> list:
    """Per window dimension: whether the slice or point provably starts at 0 or later,
    and whether it provably ends inside the buffer."""
    out = []
    for w, d in zip(accs, btype.shape()):
        lo, last = (w.lo, sub(w.hi, const(1))) if isinstance(w, N.Interval) else (w.pt, w.pt)
        out.append((prove(facts, E.le(const(0), lo)), prove(facts, E.lt(last, d))))
    return out


class _Copy:
    """Loops over the window copying between the buffer and the staging buffer (`i0,
    i1, ...` for the window's slices), guarded where the window may leave the buffer."""

    def __init__(self, buf, btype, accs, new_buf, elem, inbounds, src):
        self.buf, self.btype, self.accs = buf, btype, accs
        self.new_buf, self.elem, self.inbounds, self.src = new_buf, elem, inbounds, src

    def loops(self, kind: str):
        ivals = [w for w in self.accs if isinstance(w, N.Interval)]
        iters = [Sym(f"i{n}") for n in range(len(ivals))]
        staged = tuple(var(s) for s in iters)
        it = iter(staged)
        orig = tuple(w.pt if isinstance(w, N.Point) else add(w.lo, next(it))
                     for w in self.accs)
        stmt = self.stmt(kind, staged, orig)
        guards = []
        for o, d, (lo_ok, hi_ok) in zip(orig, self.btype.shape(), self.inbounds):
            guards += ([] if lo_ok else [E.le(const(0), o)]) + ([] if hi_ok else [E.lt(o, d)])
        if guards and kind != "zero":
            stmt = N.If(E.and_(*guards), (stmt,), (), self.src)
        for sym, w in reversed(list(zip(iters, ivals))):
            stmt = N.For(sym, const(0), _extent(w), (stmt,), "seq", self.src)
        return stmt

    def stmt(self, kind, staged, orig):
        elem, src = self.elem, self.src
        s_read = N.Read(self.new_buf, staged, elem, src)
        b_read = N.Read(self.buf, orig, elem, src)
        if kind == "load":
            return N.Assign(self.new_buf, elem, staged, b_read, src)
        if kind == "store":
            return N.Assign(self.buf, elem, orig, s_read, src)
        if kind == "zero":
            return N.Assign(self.new_buf, elem, staged, N.Const(0.0, T.R, src), src)
        return N.Reduce(self.buf, elem, orig, s_read, src)
