"""Buffer primitives: reshape (expand, divide, multiply, rearrange, resize, unroll),
move (lift, sink, autolift), reuse and delete allocations, inline windows.

Each takes the Site its wrapper located with buf_site (an allocation's path, or
`(("args", i),)` for an argument) or common.site_of, checks, builds the new IR and
ends with common.apply, which derives the new Procedure."""

from __future__ import annotations

from knit.analysis import effects as E
from knit.analysis.exprs import add, const, mul, sub, var
from knit.analysis.smt import prove
from knit.cursors import cursor as C, paths as P
from knit.ir import nodes as N, types as T
from knit.ir.printer import expr_str
from knit.ir.visit import free_syms, walk_stmts
from knit.rewrite import witness as W
from knit.rewrite.bufaccess import (
    indexed_accesses,
    map_accesses,
    open_reads,
    rename_buffer,
    replace_scalar,
    substitute_window,
    uses,
)
from knit.rewrite.common import Site, apply, bad_arg, reachable, refuse, site_of

# ---------------------------------------------------------------- locate


def buf_site(proc, x, prim: str, *, alloc_only: bool = False) -> Site:
    """The Site of a buffer given as a name, pattern or cursor (the locate step): its
    allocation's path, or `(("args", i),)` for the i-th argument (see is_arg)."""
    from knit.rewrite.common import _describe, _own

    if isinstance(x, str):
        cur = proc.find_alloc_or_arg(x)
    elif isinstance(x, C.Cursor):
        cur = _own(proc, x, prim)
    else:
        raise TypeError(f"{prim}: expected a buffer name, pattern or cursor, got "
                        f"{type(x).__name__}")
    what = "an allocation" if alloc_only else "an allocation or argument"
    if isinstance(cur, C.ArgCursor):
        site = Site(proc, (("args", proc.args().index(cur)),), None, prim)
        if alloc_only:  # point at the argument's declaration
            raise refuse(prim, site.node(), f"expected {what}, got the argument "
                         f"'{cur.name()}'")
        return site
    if isinstance(cur, C.AllocCursor):
        return site_of(reachable(cur, prim), prim)
    if isinstance(cur, C.StmtCursor):
        raise refuse(prim, cur, f"expected {what}, got another statement")
    raise bad_arg(prim, f"expected {what}, got {_describe(cur)}")


def is_arg(site: Site) -> bool:
    """Whether the buffer site is an argument's (else an allocation's)."""
    return site.path[0][0] == "args"


def _scope(site: Site):
    """(parent path, field, lo, hi, statements) of the block part where the buffer is
    visible: the body for an argument, the statements after an allocation."""
    if is_arg(site):
        body = site.ir.body
        return (), "body", 0, len(body), body
    parent, (field, i) = site.path[:-1], site.path[-1]
    block = P.block_of(site.ir, parent, field)
    return parent, field, i + 1, len(block), block[i + 1:]


def _facts_after(site: Site) -> list:
    return E.context_facts(site.ir, (("body", 0),) if is_arg(site) else site.path)


def _rebuilt(site: Site, new_decl_type, stmts_new) -> N.Proc:
    """The IR with the declaration's type and the statements of the buffer's scope
    replaced."""
    node = site.node()
    if is_arg(site):
        args = list(site.ir.args)
        args[site.path[0][1]] = node.__class__(node.name, new_decl_type, node.mem, node.srcinfo)
        return site.ir.with_(args=tuple(args), body=stmts_new)
    parent, field, lo, hi, _ = _scope(site)
    return P.replace_block(site.ir, parent, field, lo - 1, hi,
                           (node.with_(type=new_decl_type), *stmts_new))


def _no_whole_uses(site: Site, stmts, buf, allow_windows=True):
    why = {"whole": "is passed whole to a call", "stride": "has its strides read",
           "window": "has a window taken of it"}
    for kind, node in uses(stmts, buf):
        if kind in ("whole", "stride") or (kind == "window" and not allow_windows):
            raise refuse(site.prim, _stmt_of(site), f"'{buf.name}' {why[kind]} "
                         f"({expr_str(node)}), so its shape cannot change here")


def _stmt_of(site: Site):
    """The allocation statement, which refusals show (an argument has none)."""
    return None if is_arg(site) else site.node()


def _check_in_bounds(site: Site, stmts, buf, dims, facts):
    """Every access of buf in stmts (already rewritten) lies inside `dims`."""
    for idx, _node, f in indexed_accesses(stmts, buf, facts):
        if isinstance(idx, N.WindowExpr):
            pairs = [(w.lo, w.hi, d) if isinstance(w, N.Interval) else (w.pt, None, d)
                     for w, d in zip(idx.idx, dims)]
            for lo, hi, d in pairs:
                goal = E.and_(E.le(const(0), lo), E.le(hi, d)) if hi is not None else \
                    E.and_(E.le(const(0), lo), E.lt(lo, d))
                if not prove(f, goal):
                    err = refuse(site.prim, _stmt_of(site), f"the window {expr_str(idx)} may "
                                 "fall outside the new shape")
                    raise W.why(err, f, goal, site.proc)
            continue
        for i, d in zip(idx, dims):
            if not prove(f, E.and_(E.le(const(0), i), E.lt(i, d))):
                shown = f"{buf.name}[{', '.join(map(expr_str, idx))}]"
                err = refuse(site.prim, _stmt_of(site), f"the access {shown} may fall outside "
                             f"the new shape (index {expr_str(i)} of size {expr_str(d)})")
                raise W.why(err, f, E.and_(E.le(const(0), i), E.lt(i, d)), site.proc)


def _tensor(site: Site):
    node = site.node()
    if not node.type.is_tensor():
        raise refuse(site.prim, node, f"'{node.name.name}' is a scalar, not a tensor")
    return node.type


def _dim_index(prim, node, k) -> int:
    t = node.type
    if not isinstance(k, int) or not 0 <= k < len(t.dims):
        raise refuse(prim, node, f"dimension {k!r} is out of range for the "
                     f"{len(t.dims)}-d buffer '{node.name.name}'")
    return k


# ---------------------------------------------------------------- reshaping


def expand_dim(site: Site, size: N.Expr, index: N.Expr):
    return apply(site, _expanded(site, size, index, "row"))


def _expanded(site: Site, size: N.Expr, index: N.Expr, mode: str) -> N.Proc:
    """The IR with a new dimension of `size` on the buffer, indexed by `index` in every
    access: first (mode 'row') or last ('col')."""
    node = site.node()
    buf, typ = node.name, node.type
    stmts = _scope(site)[4]
    _check_new_dim(site.prim, node, _facts_after(site), size, index)
    _no_whole_uses(site, stmts, buf)
    if mode == "row":
        new_t = T.TensorT((size, *typ.shape()), False, typ.basetype())
        new = map_accesses(stmts, buf, lambda idx: (index, *idx),
                           on_win=lambda w: w.with_(idx=(N.Point(index), *w.idx)))
    else:
        new_t = T.TensorT((*typ.shape(), size), False, typ.basetype())
        new = map_accesses(stmts, buf, lambda idx: (*idx, index),
                           on_win=lambda w: w.with_(idx=(*w.idx, N.Point(index))))
    if not typ.is_tensor():  # scalar reads/writes have no idx: add it
        new = _index_scalar(new, buf, index, new_t)
    return _rebuilt(site, new_t, new)


def _check_stable(prim, node, e, what):
    """e is copied into every access: it must have one value over the buffer's scope,
    which a configuration field (written anywhere) need not have."""
    from knit.ir.visit import walk_expr

    if any(isinstance(x, N.ReadConfig) for x in walk_expr(e)):
        raise refuse(prim, node, f"the {what} {expr_str(e)} reads a configuration, which "
                     "may change between the accesses")


def _check_new_dim(prim, node, facts, size, index):
    _check_stable(prim, node, index, "index")
    if not prove(facts, E.lt(const(0), size)):
        err = refuse(prim, node, f"cannot prove the new dimension {expr_str(size)} is positive")
        raise W.why(err, facts, E.lt(const(0), size), None)
    if not prove(facts, E.and_(E.le(const(0), index), E.lt(index, size))):
        err = refuse(prim, node, f"cannot prove the index {expr_str(index)} lies in "
                     f"[0, {expr_str(size)})")
        raise W.why(err, facts, E.and_(E.le(const(0), index), E.lt(index, size)), None)


def _index_scalar(stmts, buf, index, new_t):
    return replace_scalar(stmts, buf, N.Read(buf, (index,), new_t.basetype()))


def divide_dim(site: Site, k: int, q: int):
    prim, node = site.prim, site.node()
    buf, typ = node.name, _tensor(site)
    k = _dim_index(prim, node, k)
    stmts = _scope(site)[4]
    facts = _facts_after(site)
    d = typ.dims[k]
    if not prove(facts, E.eq(N.BinOp("%", d, const(q), T.INDEX), const(0))):
        err = refuse(prim, node, f"cannot prove dimension {k} ({expr_str(d)}) is a multiple "
                     f"of {q}")
        raise W.why(err, facts, E.eq(N.BinOp("%", d, const(q), T.INDEX), const(0)),
                    site.proc)
    if not prove(facts, E.le(const(q), d)):  # the outer dimension d / q must not be 0
        err = refuse(prim, node, f"cannot prove dimension {k} ({expr_str(d)}) is at least "
                     f"{q}")
        raise W.why(err, facts, E.le(const(q), d), site.proc)
    _no_whole_uses(site, stmts, buf)
    hi = _fold_div(d, q)

    def on_idx(idx):
        e = idx[k]
        return (*idx[:k], N.BinOp("/", e, const(q), T.INDEX),
                N.BinOp("%", e, const(q), T.INDEX), *idx[k + 1:])

    new = map_accesses(stmts, buf, on_idx, on_win=lambda w: _divide_window(prim, node, w, k, q,
                                                                           facts))
    new_t = T.TensorT((*typ.dims[:k], hi, const(q), *typ.dims[k + 1:]), typ.is_window, typ.elem)
    return apply(site, _rebuilt(site, new_t, new))


def _fold_div(d, q):
    if isinstance(d, N.Const):
        return const(d.val // q)
    return N.BinOp("/", d, const(q), T.INDEX)


def _divide_window(prim, node, w, k, q, facts):
    acc = w.idx[k]
    if isinstance(acc, N.Point):
        e = acc.pt
        return w.with_(idx=(*w.idx[:k], N.Point(N.BinOp("/", e, const(q), T.INDEX)),
                            N.Point(N.BinOp("%", e, const(q), T.INDEX)), *w.idx[k + 1:]))
    # an interval survives only if it stays inside one row of q elements
    lo, hi = acc.lo, acc.hi
    ok = prove(facts, E.eq(N.BinOp("%", lo, const(q), T.INDEX), const(0))) and \
        prove(facts, E.le(sub(hi, lo), const(q)))
    if not ok:
        raise refuse(prim, node, f"the window {expr_str(w)} spans several rows of the divided "
                     "dimension")
    return w.with_(idx=(*w.idx[:k], N.Point(N.BinOp("/", lo, const(q), T.INDEX)),
                        N.Interval(const(0), sub(hi, lo)), *w.idx[k + 1:]))


def mult_dim(site: Site, hi_k: int, lo_k: int):
    prim, node = site.prim, site.node()
    buf, typ = node.name, _tensor(site)
    hi_k, lo_k = _dim_index(prim, node, hi_k), _dim_index(prim, node, lo_k)
    if hi_k == lo_k:
        raise refuse(prim, node, "cannot multiply a dimension by itself")
    c = typ.dims[lo_k]
    if not isinstance(c, N.Const):
        raise refuse(prim, node, f"the lower dimension {expr_str(c)} must be a literal")
    stmts = _scope(site)[4]
    _no_whole_uses(site, stmts, buf, allow_windows=False)

    def on_idx(idx):
        merged = add(mul(const(c.val), idx[hi_k]), idx[lo_k])
        return tuple(merged if j == hi_k else e for j, e in enumerate(idx) if j != lo_k)

    dims = tuple(mul(const(c.val), d) if j == hi_k else d for j, d in enumerate(typ.dims)
                 if j != lo_k)
    dims = tuple(const(d.lhs.val * d.rhs.val) if _both_const(d) else d for d in dims)
    new_t = T.TensorT(dims, typ.is_window, typ.elem)
    return apply(site, _rebuilt(site, new_t, map_accesses(stmts, buf, on_idx)))


def _both_const(d) -> bool:
    return isinstance(d, N.BinOp) and isinstance(d.lhs, N.Const) and isinstance(d.rhs, N.Const)


def rearrange_dim(site: Site, perm: list):
    prim, node = site.prim, site.node()
    buf, typ = node.name, _tensor(site)
    if sorted(perm) != list(range(len(typ.dims))):
        raise refuse(prim, node, f"{perm!r} is not a permutation of the dimensions "
                     f"0..{len(typ.dims) - 1} of '{node.name.name}'")
    stmts = _scope(site)[4]
    _no_whole_uses(site, stmts, buf, allow_windows=False)
    new_t = T.TensorT(tuple(typ.dims[j] for j in perm), typ.is_window, typ.elem)
    new = map_accesses(stmts, buf, lambda idx: tuple(idx[j] for j in perm))
    return apply(site, _rebuilt(site, new_t, new))


def resize_dim(site: Site, k: int, size: N.Expr, offset: N.Expr):
    prim, node = site.prim, site.node()
    buf, typ = node.name, _tensor(site)
    k = _dim_index(prim, node, k)
    stmts = _scope(site)[4]
    facts = _facts_after(site)
    if not prove(facts, E.lt(const(0), size)):
        err = refuse(prim, node, f"cannot prove the new size {expr_str(size)} is positive")
        raise W.why(err, facts, E.lt(const(0), size), site.proc)
    _check_stable(prim, node, offset, "offset")
    _no_whole_uses(site, stmts, buf)

    def shift(e):  # e - offset, as Exo writes it (`i - -1` for the offset -1)
        return sub(e, offset)

    def on_win(w):
        acc = w.idx[k]
        new = N.Point(shift(acc.pt)) if isinstance(acc, N.Point) else \
            N.Interval(shift(acc.lo), shift(acc.hi))
        return w.with_(idx=(*w.idx[:k], new, *w.idx[k + 1:]))

    new = map_accesses(stmts, buf, lambda idx: (*idx[:k], shift(idx[k]), *idx[k + 1:]),
                       on_win=on_win)
    dims = (*typ.dims[:k], size, *typ.dims[k + 1:])
    _check_in_bounds(site, new, buf, dims, facts)
    return apply(site, _rebuilt(site, T.TensorT(dims, typ.is_window, typ.elem), new))


def fold_dim(site: Site, k: int, size: int):
    """resize_dim(..., fold=True): a circular buffer, `x[.., e, ..]` -> `x[.., e % size, ..]`.

    Safe when no value is overwritten through the fold before it is read: see
    rewrite/folding.py for the rule and its proof."""
    from knit.rewrite.folding import check_fold

    prim, node = site.prim, site.node()
    buf, typ = node.name, _tensor(site)
    k = _dim_index(prim, node, k)
    stmts = _scope(site)[4]
    _no_whole_uses(site, stmts, buf)
    check_fold(prim, node, stmts, buf, k, size, _facts_after(site))

    def on_idx(idx):
        return (*idx[:k], N.BinOp("%", idx[k], const(size), T.INDEX), *idx[k + 1:])

    def on_win(w):
        pt = w.idx[k].pt
        return w.with_(idx=(*w.idx[:k], N.Point(N.BinOp("%", pt, const(size), T.INDEX)),
                            *w.idx[k + 1:]))

    new = map_accesses(stmts, buf, on_idx, on_win=on_win)
    dims = (*typ.dims[:k], const(size), *typ.dims[k + 1:])
    return apply(site, _rebuilt(site, T.TensorT(dims, typ.is_window, typ.elem), new))


def unroll_buffer(site: Site, k: int):
    prim, node = site.prim, site.node()
    buf, typ = node.name, _tensor(site)
    k = _dim_index(prim, node, k)
    n = typ.dims[k]
    if not isinstance(n, N.Const):
        raise refuse(prim, node, f"dimension {k} ({expr_str(n)}) must be a literal")
    parent, field, lo, hi, stmts = _scope(site)
    used = set()
    for idx, _, _ in indexed_accesses(stmts, buf, []):
        e = idx.idx[k].pt if isinstance(idx, N.WindowExpr) and \
            isinstance(idx.idx[k], N.Point) else (None if isinstance(idx, N.WindowExpr)
                                                  else idx[k])
        if not isinstance(e, N.Const):
            raise refuse(prim, node, f"every access must use a literal index in dimension {k}; "
                         f"found {expr_str(e) if e is not None else 'a slice'}")
        if not 0 <= e.val < n.val:
            raise refuse(prim, node, f"the index {e.val} in dimension {k} is outside "
                         f"[0, {n.val})")
        used.add(e.val)
    _no_whole_uses(site, stmts, buf)
    rest = typ.dims[:k] + typ.dims[k + 1:]
    new_t = T.TensorT(rest, False, typ.elem) if rest else typ.elem
    parts = [buf.copy() for _ in range(n.val)]
    for j, p in enumerate(parts):
        p.name = f"{buf.name}_{j}"
    new = _split_accesses(stmts, buf, k, parts)
    # as Exo, one buffer per index the accesses use (the others would be dead)
    allocs = tuple(N.Alloc(parts[j], new_t, node.mem, node.srcinfo) for j in sorted(used))
    # (an unused buffer in a loop of its own leaves `pass`, not an empty body)
    return apply(site, _replace_keeping_a_body(site.ir, parent, field, lo - 1, hi,
                                               (*allocs, *new), node.srcinfo))


def _split_accesses(stmts, buf, k, parts):

    def fe(e):
        if isinstance(e, N.Read) and e.name is buf:
            j = e.idx[k].val
            return e.with_(name=parts[j], idx=e.idx[:k] + e.idx[k + 1:])
        if isinstance(e, N.WindowExpr) and e.name is buf:
            j = e.idx[k].pt.val
            return e.with_(name=parts[j], idx=e.idx[:k] + e.idx[k + 1:])
        return e

    out = []
    for s in stmts:
        s = _map_all(s, fe)
        out.append(s)

    def fix(s):
        if isinstance(s, (N.Assign, N.Reduce)) and s.name is buf:
            j = s.idx[k].val
            return s.with_(name=parts[j], idx=s.idx[:k] + s.idx[k + 1:])
        if isinstance(s, N.For):
            return s.with_(body=tuple(fix(b) for b in s.body))
        if isinstance(s, N.If):
            return s.with_(body=tuple(fix(b) for b in s.body),
                           orelse=tuple(fix(b) for b in s.orelse))
        return s

    return tuple(fix(s) for s in out)


def _map_all(s, fe):
    from knit.ir.visit import map_stmt_exprs

    return map_stmt_exprs(s, fe)


# ---------------------------------------------------------------- delete, reuse, inline


def delete_buffer(site: Site):
    node = site.node()
    parent, field, lo, _, stmts = _scope(site)
    if uses(stmts, node.name):
        raise refuse(site.prim, node, f"'{node.name.name}' is still used")
    return apply(site, _replace_keeping_a_body(site.ir, parent, field, lo - 1, lo, (),
                                               node.srcinfo))


def _replace_keeping_a_body(ir, parent, field, lo, hi, new, src):
    """P.replace_block, with `pass` where a loop's or if's body would become empty (an
    empty else branch is simply dropped)."""
    block = P.block_of(ir, parent, field)
    if field == "body" and parent and not new and lo == 0 and hi == len(block):
        new = (N.Pass(src),)
    return P.replace_block(ir, parent, field, lo, hi, new)


def reuse_buffer(keep: Site, drop: Site):
    prim = drop.prim
    x, y = keep.node(), drop.node()
    if x.type != y.type or x.mem is not y.mem:
        raise refuse(prim, y, f"'{y.name.name}' and '{x.name.name}' differ in type, shape or "
                     "memory")
    # y's allocation must be in x's scope
    xp, yp = keep.path, drop.path
    if not (yp[:len(xp) - 1] == xp[:-1] and yp[len(xp) - 1][0] == xp[-1][0] and
            yp[len(xp) - 1][1] > xp[-1][1]):
        raise refuse(prim, y, f"'{y.name.name}' is not allocated in the scope of "
                     f"'{x.name.name}'")
    parent, field, lo, hi, after = _scope(drop)
    _check_same_size(prim, keep, x, y)
    _check_dead_from_first_write(prim, keep, drop, after)
    new = rename_buffer(after, y.name, x.name)
    return apply(drop, _replace_keeping_a_body(drop.ir, parent, field, lo - 1, hi, new,
                                               y.srcinfo))


def _check_same_size(prim, keep: Site, x, y) -> None:
    """Equal shapes that read a config field are equal sizes only if nothing writes the
    field between the two allocations (each evaluates its shape where it stands)."""
    from knit.analysis.written import configs_written_in

    read = set().union(*(E.config_reads(d) for d in x.type.shape())) \
        if x.type.is_tensor() else set()
    if not read:
        return
    scope = _scope(keep)[4]
    changed = read & configs_written_in(tuple(scope))
    if changed:
        cfg, fld = next(iter(changed))
        raise refuse(prim, y, f"the shapes read {cfg.name()}.{fld}, which is written in the "
                     f"scope of '{x.name.name}': the two allocations may have different "
                     "sizes")


def _check_dead_from_first_write(prim, keep: Site, drop: Site, after):
    """x may not be used once y holds a value: y's writes would clobber it."""
    ir, x, y = drop.ir, keep.node(), drop.node()
    why = (f"'{x.name.name}' is still used after '{y.name.name}' is written, so it "
           "cannot be reused")
    rest = _statements_after(ir, drop.path)
    loop = _outermost_loop_between(ir, keep.path, drop.path)
    if loop is not None:  # the loop's body runs again after y is written
        scope = [P.stmt_at(ir, loop)] + _statements_after(ir, loop)
        if _uses_any(scope, _names_of(ir, x.name, drop.path, scope)):
            raise refuse(prim, y, why + f" (both are used in a loop around '{y.name.name}')")
        return
    first = next((k for k, s in enumerate(after) if _writes(s, y.name)), None)
    if first is None:
        return
    names = _names_of(ir, x.name, drop.path, rest)
    later = list(after[first + 1:]) + rest[len(after):]
    s = after[first]
    simple = isinstance(s, (N.Assign, N.Reduce))  # reads its operands, then writes y
    if _uses_any(later, names) or (not simple and _uses_any([s], names)):
        raise refuse(prim, y, why)


def _names_of(ir, buf, path, stmts) -> set:
    """buf and the windows into it: those visible at path and those stmts take."""
    names = {buf} | {w for w, (base, _) in E.windows_at(ir, path).items() if base is buf}
    for s in walk_stmts(stmts):
        if isinstance(s, N.WindowStmt) and s.rhs.name in names:
            names.add(s.name)
    return names


def _uses_any(stmts, names) -> bool:
    return any(uses(stmts, n) for n in names)


def _outermost_loop_between(ir, xp, yp):
    """The path of the outermost loop that encloses y's allocation but not x's."""
    for d in range(len(xp), len(yp)):
        if isinstance(P.stmt_at(ir, yp[:d]), N.For):
            return yp[:d]
    return None


def _writes(s, buf) -> bool:
    return any(k in ("write", "reduce", "window", "whole") for k, _ in uses([s], buf))


def use_after_write(stmts, name, keys):
    """((config, field), statement) for the first statement of `stmts` that uses `name`
    after one of the config fields `keys` may have been written (a loop that writes
    one and uses `name` counts: a later iteration uses it after the write), or None.
    A statement evaluates its expressions before it writes (a call's arguments too)."""
    from knit.analysis.written import configs_written_in

    if not keys:
        return None
    written: set = set()
    for s in stmts:
        mine = configs_written_in((s,)) & keys
        if uses((s,), name):
            if written:
                return next(iter(written)), s
            if mine and isinstance(s, N.For):
                return next(iter(mine)), s
            if mine and isinstance(s, N.If):
                for branch in (s.body, s.orelse):
                    hit = use_after_write(branch, name, keys)
                    if hit is not None:
                        return hit
        written |= mine
    return None


def _statements_after(proc_ir, path):
    """Every statement that runs after the statement at `path` in its enclosing blocks
    (later siblings at every level)."""
    out = []
    for depth in range(len(path), 0, -1):
        parent, (field, i) = path[:depth - 1], path[depth - 1]
        out += list(P.block_of(proc_ir, parent, field)[i + 1:])
    return out


def inline_window(site: Site):
    prim = site.prim
    node: N.WindowStmt = site.node()
    parent, (field, i) = site.path[:-1], site.path[-1]
    block = P.block_of(site.ir, parent, field)
    # the window's bounds were evaluated once, by the window statement; inlined, they
    # are evaluated at each use
    hit = use_after_write(block[i + 1:], node.name, E.config_reads(node.rhs))
    if hit is not None:
        (cfg, fld), use = hit
        raise refuse(prim, node, f"the window reads {cfg.name()}.{fld}, which is "
                     f"written before a use of '{node.name.name}' (line {use.srcinfo.line}); "
                     "inlined, that use would see the new value",
                     "inline the window before the config write is added, or bind the "
                     "config's value to a variable first")
    new = substitute_window(block[i + 1:], node.name, node.rhs)
    return apply(site, _replace_keeping_a_body(site.ir, parent, field, i, len(block), new,
                                               node.srcinfo))


# ---------------------------------------------------------------- moving allocations


def lift_alloc(site: Site, n_lifts: int):
    for _ in range(n_lifts):
        site = _lifted(site)
    return site.proc


def _lifted(site: Site) -> Site:
    """One level of lift_alloc: the allocation moved just before the loop or if around
    it, as a new Procedure (whose post-checks run at every level); the moved
    allocation's Site in it."""
    prim, node, path = site.prim, site.node(), site.path
    if len(path) == 1:
        raise refuse(prim, node, "the allocation is already at the top level")
    pp, (field, i) = path[:-1], path[-1]
    scope = P.stmt_at(site.ir, pp)
    bound = {scope.iter} if isinstance(scope, N.For) else set()
    dims_vars = set().union(*(free_syms(d) for d in node.type.shape())) \
        if node.type.is_tensor() else set()
    if bound & dims_vars:
        raise refuse(prim, node, f"the buffer's shape depends on the loop variable "
                     f"'{scope.iter.name}'")
    _check_sizes_outside(prim, site.ir, node, pp)
    _check_shape_evaluated_alike(prim, node, scope, "out of")
    # remove it from the scope, put it just before the scope
    ir = _replace_keeping_a_body(site.ir, pp, field, i, i + 1, (), node.srcinfo)
    ir = P.replace_block(ir, pp[:-1], pp[-1][0], pp[-1][1], pp[-1][1], (node,))
    return Site(apply(site, ir), pp, None, prim)


def _check_sizes_outside(prim, ir: N.Proc, node, scope_path):
    """The shape must be valid where the allocation goes: a size the scope guaranteed
    (`N - 1` inside a loop that runs only when N >= 2) may be 0 outside it."""
    facts = E.context_facts(ir, scope_path)
    for d in node.type.shape() if node.type.is_tensor() else ():
        if not prove(facts, E.le(const(1), d)):
            kind = "loop" if isinstance(P.stmt_at(ir, scope_path), N.For) else "if"
            raise refuse(prim, node, f"the size {expr_str(d)} may not be positive outside "
                         f"the {kind}")


def _check_shape_evaluated_alike(prim, node, scope, how: str) -> None:
    """The shape is evaluated where the allocation stands: moved out of a loop it is
    evaluated once instead of in every iteration, moved into one in every iteration
    instead of once, and moved out of an if before the statements that precede it."""
    from knit.analysis.written import configs_written_in

    if not node.type.is_tensor():
        return
    read = set().union(*(E.config_reads(d) for d in node.type.shape()))
    stmts = scope.body + scope.orelse if isinstance(scope, N.If) else scope.body
    changed = read & configs_written_in(tuple(stmts))
    if changed:
        cfg, fld = next(iter(changed))
        kind = "loop" if isinstance(scope, N.For) else "if"
        raise refuse(prim, node, f"the shape reads {cfg.name()}.{fld}, which the {kind} "
                     f"writes: moved {how} the {kind}, the shape would be evaluated with "
                     "another value")


def sink_alloc(site: Site):
    prim, node = site.prim, site.node()
    parent, (field, i) = site.path[:-1], site.path[-1]
    block = P.block_of(site.ir, parent, field)
    if i + 1 >= len(block) or not isinstance(block[i + 1], (N.For, N.If)):
        raise refuse(prim, node, "the statement after the allocation must be a loop or an if")
    scope, scope_path = block[i + 1], parent + ((field, i + 1),)
    later = _statements_after(site.ir, scope_path)
    if uses(later, node.name):
        raise refuse(prim, node, f"'{node.name.name}' is used after the "
                     f"{'loop' if isinstance(scope, N.For) else 'if'}")
    if isinstance(scope, N.For):
        _check_shape_evaluated_alike(prim, node, scope, "into")
        _check_no_carried_values(site, node, scope, scope_path)
        new_scope = scope.with_(body=(node, *scope.body))
    else:  # each branch gets its own buffer
        new_scope = scope.with_(body=(node, *scope.body))
        if scope.orelse:
            new_scope = new_scope.with_(orelse=_fresh_alloc(node, scope.orelse))
    return apply(site, site.span(2).replaced((new_scope,)))


def _check_no_carried_values(site: Site, node, loop, path):
    """No iteration may read a value of the buffer that an earlier iteration wrote:
    inside the loop, every iteration would get a fresh buffer."""
    facts = E.context_facts(site.ir, path)
    writes = [a for a in E.accesses(loop.body) if a.buf is node.name and a.kind != "r"]
    reads = open_reads(loop.body, node.name, facts + [E.le(loop.lo, var(loop.iter)),
                                                      E.lt(var(loop.iter), loop.hi)])
    i1, i2 = var(loop.iter.copy()), var(loop.iter.copy())
    rel = [E.le(loop.lo, i1), E.lt(i1, loop.hi), E.le(loop.lo, i2), E.lt(i2, loop.hi),
           E.lt(i1, i2)]
    hit = E.first_conflict(writes, reads, facts, ren_x={loop.iter: i1},
                           ren_y={loop.iter: i2}, relation=rel, reduces_commute=False)
    if hit:
        err = refuse(site.prim, node, f"a value written to '{node.name.name}' in one "
                     f"iteration may be read in a later one (the statement that "
                     f"{hit[1].describe()} may see it)")
        raise W.why_conflict(err, hit, site.proc)


def _fresh_alloc(node, stmts):
    sym = node.name.copy()
    return (N.Alloc(sym, node.type, node.mem, node.srcinfo), *rename_buffer(stmts, node.name, sym))


def autolift_alloc(site: Site, n_lifts: int, mode: str, size, keep_dims: bool):
    """Lift out of loops. With keep_dims, the buffer grows by the loop's extent (a new
    dimension indexed by the iterator) when its accesses or values depend on the loop
    variable; without, as Exo, it does not (except out of a par loop whose variable its
    accesses use, where one buffer would be shared by racing iterations)."""
    prim = site.prim
    for _ in range(n_lifts):
        node, path = site.node(), site.path
        if len(path) == 1:
            raise refuse(prim, node, "the allocation is already at the top level")
        scope = P.stmt_at(site.ir, path[:-1])
        if isinstance(scope, N.For):
            parent_block = P.block_of(site.ir, path[:-1], path[-1][0])
            used = any(scope.iter in free_syms(i) for idx, _, _ in
                       indexed_accesses(parent_block, node.name, []) if not
                       isinstance(idx, N.WindowExpr) for i in idx) or \
                _depends(parent_block, node.name, scope.iter)
            if keep_dims:  # (as Exo) also for a loop the buffer's values depend on
                grow = used or scope.iter in _value_deps(scope.body, node.name)
            else:
                # as Exo, no dimension: the accesses keep their indices in one buffer
                # for all iterations (lift_alloc's checked rewrite). Out of a par loop
                # that would be shared by racing iterations: a dimension per iteration.
                grow = used and scope.mode == "par"
            if grow:
                extent, index = _lift_extent(scope, size, keep_dims, _facts_after(site))
                site = Site(apply(site, _expanded(site, extent, index, mode)), path, None, prim)
        site = _lifted(site)
    return site.proc


def _lift_extent(loop: N.For, size, keep_dims: bool, facts: list):
    """The new dimension's extent and index for a lift out of `loop`. With keep_dims and
    a loop from a `lo >= 0`, Exo's shape: the loop variable itself indexes a dimension
    of `hi`, or `hi + 1` when `hi` is not a literal (Exo's rule; the extra row is
    unused). Otherwise the exact extent `hi - lo`, indexed by `i - lo`. `_expanded`
    proves the extent positive and the index within it either way."""
    lo, hi = loop.lo, loop.hi
    if keep_dims and prove(facts, E.le(const(0), lo)):
        if size is not None:
            return size, var(loop.iter)
        return (hi if isinstance(hi, N.Const) else add(hi, const(1))), var(loop.iter)
    return (size if size is not None else sub(hi, lo)), sub(var(loop.iter), lo)


def _value_deps(stmts, buf) -> set:
    """The names whose values the values stored in `buf` may depend on in `stmts` (as
    Exo's LoopIR_Dependencies): what its writes' indices and right-hand sides read,
    what decides whether they run (conditions, loop bounds), transitively. A call is
    taken to write every buffer it is passed, from all of its arguments."""
    deps: dict = {}
    alias: dict = {}

    def add(name, syms):
        name = alias.get(name, name)
        deps.setdefault(name, set()).update(syms)

    def visit(block, ctx):
        for s in block:
            if isinstance(s, (N.Assign, N.Reduce)):
                add(s.name, ctx.union(*map(free_syms, (*s.idx, s.rhs))))
            elif isinstance(s, N.WindowStmt):
                alias[s.name] = alias.get(s.rhs.name, s.rhs.name)
                add(s.name, free_syms(s.rhs))
            elif isinstance(s, N.If):
                inner = ctx | free_syms(s.cond)
                visit(s.body, inner)
                visit(s.orelse, inner)
            elif isinstance(s, N.For):
                add(s.iter, free_syms(s.lo) | free_syms(s.hi))
                visit(s.body, ctx)
            elif isinstance(s, N.Call):
                reads = ctx.union(*map(free_syms, s.args))
                for a in s.args:
                    if isinstance(a, (N.Read, N.WindowExpr)):
                        add(a.name, reads)

    visit(stmts, frozenset())
    seen, todo = set(), [alias.get(buf, buf)]
    while todo:
        for d in deps.get(todo.pop(), ()):
            if d not in seen:
                seen.add(d)
                todo.append(d)
    return seen


def _depends(stmts, buf, it) -> bool:
    for idx, _, _ in indexed_accesses(stmts, buf, []):
        exprs = [x for w in idx.idx for x in ((w.lo, w.hi) if isinstance(w, N.Interval)
                                             else (w.pt,))] \
            if isinstance(idx, N.WindowExpr) else list(idx)
        if any(it in free_syms(e) for e in exprs):
            return True
    return False
