"""Memory primitives: stage_mem (copy a window into a new buffer around a block),
bind_expr, and the annotations set_memory, set_precision, set_window."""

from __future__ import annotations

from knit.analysis import effects as E
from knit.analysis.exprs import add, const, sub, var
from knit.analysis.smt import prove
from knit.cursors import cursor as C
from knit.cursors import paths as P
from knit.ir import nodes as N
from knit.ir import types as T
from knit.ir.printer import expr_str
from knit.ir.sym import Sym
from knit.ir.visit import map_expr
from knit.memory import DRAM
from knit.rewrite.bufaccess import indexed_accesses, map_accesses, uses
from knit.rewrite.common import bad_arg, refuse

# ---------------------------------------------------------------- annotations


def set_type_and_mem(proc, cur, *, mem=None, elem=None, window=None):
    """Change an allocation's or argument's memory, precision or window-ness."""
    node = cur._node()
    typ = node.type
    if elem is not None:
        if typ.is_tensor():
            typ = T.TensorT(typ.dims, typ.is_window, elem)
        else:
            typ = elem
    if window is not None:
        if not typ.is_tensor():
            raise bad_arg("set_window", f"'{node.name.name}' is a scalar, not a tensor")
        typ = T.TensorT(typ.dims, window, typ.elem)
    new = node.with_(type=typ) if isinstance(node, N.Alloc) else \
        N.FnArg(node.name, typ, node.mem, node.srcinfo)
    if mem is not None:
        new = new.with_(mem=mem) if isinstance(new, N.Alloc) else \
            N.FnArg(new.name, new.type, mem, new.srcinfo)
    ir = proc._loopir_proc
    if isinstance(cur, C.ArgCursor):
        args = list(ir.args)
        args[cur._idx] = new
        ir = ir.with_(args=tuple(args))
        if elem is not None:
            ir = _retype_uses(ir, node.name, elem)
        return proc._derive(ir)
    ir = P.replace_stmt(ir, cur._path, (new,))
    if elem is not None:
        ir = _retype_uses(ir, node.name, elem)
    return proc._derive(ir)


def _retype_uses(ir: N.Proc, buf: Sym, elem) -> N.Proc:
    """Reads and writes of buf carry the element type; keep them in sync."""

    def fe(e):
        if isinstance(e, N.Read) and e.name is buf and not e.type.is_tensor():
            return e.with_(type=elem)
        return e

    def fs(s):
        if isinstance(s, (N.Assign, N.Reduce)):
            s = s.with_(rhs=map_expr(s.rhs, fe), idx=tuple(map_expr(i, fe) for i in s.idx))
            return s.with_(type=elem) if s.name is buf else s
        if isinstance(s, N.For):
            return s.with_(body=tuple(fs(b) for b in s.body))
        if isinstance(s, N.If):
            return s.with_(body=tuple(fs(b) for b in s.body), orelse=tuple(fs(b) for b in s.orelse))
        if isinstance(s, N.Call):
            return s.with_(args=tuple(map_expr(a, fe) for a in s.args))
        return s

    return ir.with_(body=tuple(fs(s) for s in ir.body))


# ---------------------------------------------------------------- bind_expr


def bind_expr(proc, curs: list, name: str):
    prim = "bind_expr"
    first = curs[0]
    e = first._node()
    if not e.type.is_real():
        raise bad_arg(prim, f"only data expressions can be bound; {expr_str(e)} is a "
                      f"{e.type} value")
    for c in curs[1:]:
        if c._node() != e:
            raise bad_arg(prim, f"the expressions differ: {expr_str(e)} vs {expr_str(c._node())}")
    spath = first._stmt
    parent, (field, i) = spath[:-1], spath[-1]
    last_i = i
    for c in curs[1:]:
        p = c._stmt
        if p[:-1] != parent or p[-1][0] != field or p[-1][1] < i:
            raise refuse(prim, P.stmt_at(proc._loopir_proc, spath), "every expression must "
                         "be in the same statement as the first, or in a later statement of "
                         "the same block")
        last_i = max(last_i, p[-1][1])
    block = P.block_of(proc._loopir_proc, parent, field)
    _check_unchanged(prim, proc, e, block[i:last_i], spath)
    sym = Sym(name)
    elem = e.type if e.type != T.R else T.F32
    targets = {(c._stmt, c._epath) for c in curs}
    new_block = list(block)
    for k in range(i, last_i + 1):
        s = block[k]
        for sp, ep in sorted(targets):
            if sp[-1][1] == k and sp[:-1] == parent:
                s = P.replace_expr(s, ep, N.Read(sym, (), elem, e.srcinfo))
        new_block[k] = s
    src = block[i].srcinfo
    bind = (N.Alloc(sym, elem, DRAM, src), N.Assign(sym, elem, (), e, src))
    new = tuple(new_block[:i]) + bind + tuple(new_block[i:])
    ir = P.replace_block(proc._loopir_proc, parent, field, 0, len(block), new)
    return proc._derive(ir)


def _check_unchanged(prim, proc, e, between, spath):
    """Nothing the expression reads may be written by the statements it is moved over."""
    facts = E.context_facts(proc._loopir_proc, spath)
    reads = E.accesses((N.Assign(Sym("_"), T.R, (), e),))
    reads = [a for a in reads if a.kind == "r"]
    writes = E.writes(E.accesses(tuple(between)))
    hit = E.first_conflict(writes, reads, facts)
    if hit:
        raise refuse(prim, P.stmt_at(proc._loopir_proc, spath), f"{expr_str(e)} may change "
                     f"between its uses: a statement {hit[0].describe()}")


# ---------------------------------------------------------------- stage_mem


def stage_mem(proc, block: C.BlockCursor, win: N.WindowExpr, name: str, accum: bool):
    prim = "stage_mem"
    stmts = block._stmts()
    path0 = block._parent + ((block._field, block._lo),)
    facts = E.context_facts(proc._loopir_proc, path0)
    buf = win.name
    btype = _buffer_type(proc, buf, path0)
    if btype is None:
        raise bad_arg(prim, f"'{buf.name}' is not a buffer visible here")
    elem = btype.basetype()
    ivals = [(k, w) for k, w in enumerate(win.idx) if isinstance(w, N.Interval)]
    if not ivals:
        raise bad_arg(prim, "the window must have at least one slice, e.g. x[i, 0:8]")
    shape = tuple(_extent(w) for _, w in ivals)
    new_buf = Sym(name)
    _check_block_inside(prim, stmts, buf, win, facts)
    us = uses(stmts, buf)
    kinds = {k for k, _ in us}
    if "whole" in kinds or "stride" in kinds:
        raise refuse(prim, stmts[0], f"'{buf.name}' is passed whole to a call or its strides "
                     "are read inside the block")
    if accum and kinds - {"reduce"}:
        raise refuse(prim, stmts[0], f"accum=True needs a block that only reduces into "
                     f"'{buf.name}' (+=), but it also "
                     f"{'reads' if 'read' in kinds else 'writes'} it")
    body = map_accesses(stmts, buf, lambda idx: _to_staged(win, idx),
                        on_win=lambda w: _win_to_staged(win, w, new_buf))
    body = _rename_writes(body, buf, new_buf)
    body = _rename_reads(body, buf, new_buf, elem)
    src = stmts[0].srcinfo
    alloc = N.Alloc(new_buf, T.TensorT(shape, False, elem), DRAM, src)
    inbounds = _window_in_bounds(win, btype, facts)
    pre, post = [], []
    if accum:
        pre = [_copy_loops(win, ivals, new_buf, buf, elem, "zero", inbounds, btype, src)]
        post = [_copy_loops(win, ivals, new_buf, buf, elem, "accum", inbounds, btype, src)]
    else:
        if kinds & {"read", "reduce", "write", "window"}:
            pre = [_copy_loops(win, ivals, new_buf, buf, elem, "load", inbounds, btype, src)]
        if kinds & {"write", "reduce", "window"}:
            post = [_copy_loops(win, ivals, new_buf, buf, elem, "store", inbounds, btype, src)]
    new = (alloc, *pre, *body, *post)
    ir = P.replace_block(proc._loopir_proc, block._parent, block._field, block._lo, block._hi,
                         new)
    return proc._derive(ir)


def _buffer_type(proc, buf, path):
    from knit.frontend.fragment import visible_syms

    for sym, typ, _ in visible_syms(proc._loopir_proc, path).values():
        if sym is buf and typ.is_tensor():
            return typ
    return None


def _extent(w: N.Interval):
    if isinstance(w.lo, N.Const) and isinstance(w.hi, N.Const):
        return const(w.hi.val - w.lo.val)
    return sub(w.hi, w.lo)


def _check_block_inside(prim, stmts, buf, win, facts):
    """Every access of buf in the block must fall inside the staged window."""
    for idx, node, f in indexed_accesses(stmts, buf, facts):
        if isinstance(idx, N.WindowExpr):
            pts = [(a.pt, a.pt) if isinstance(a, N.Point) else (a.lo, sub(a.hi, const(1)))
                   for a in idx.idx]
        else:
            pts = [(i, i) for i in idx]
        for (lo, hi), w in zip(pts, win.idx):
            goal = E.and_(E.eq(lo, w.pt), E.eq(hi, w.pt)) if isinstance(w, N.Point) else \
                E.and_(E.le(w.lo, lo), E.lt(hi, w.hi))
            if not prove(f, goal):
                raise refuse(prim, None, f"the block accesses {expr_str(node) if isinstance(node, N.Expr) else buf.name} "
                             f"outside the window {expr_str(win)}",
                             "stage a larger window, or a smaller block")


def _to_staged(win, idx):
    return tuple(sub(i, w.lo) for i, w in zip(idx, win.idx) if isinstance(w, N.Interval))


def _win_to_staged(win, w, new_buf):
    out = []
    for a, b in zip(w.idx, win.idx):
        if isinstance(b, N.Point):
            continue
        out.append(N.Point(sub(a.pt, b.lo)) if isinstance(a, N.Point) else
                   N.Interval(sub(a.lo, b.lo), sub(a.hi, b.lo)))
    return w.with_(name=new_buf, idx=tuple(out))


def _rename_writes(stmts, old, new):
    def fs(s):
        if isinstance(s, (N.Assign, N.Reduce)) and s.name is old:
            return s.with_(name=new)
        if isinstance(s, N.For):
            return s.with_(body=tuple(fs(b) for b in s.body))
        if isinstance(s, N.If):
            return s.with_(body=tuple(fs(b) for b in s.body), orelse=tuple(fs(b) for b in s.orelse))
        return s

    return tuple(fs(s) for s in stmts)


def _rename_reads(stmts, old, new, elem):
    from knit.ir.visit import map_stmt_exprs

    def fe(e):
        if isinstance(e, N.Read) and e.name is old and e.idx:
            return e.with_(name=new)
        return e

    return tuple(map_stmt_exprs(s, fe) for s in stmts)


def _window_in_bounds(win, btype, facts) -> list:
    """Per window dimension: whether the interval provably lies inside the buffer."""
    out = []
    for w, d in zip(win.idx, btype.dims):
        if isinstance(w, N.Point):
            out.append(True)
        else:
            out.append(prove(facts, E.and_(E.le(const(0), w.lo), E.le(w.hi, d))))
    return out


def _copy_loops(win, ivals, new_buf, buf, elem, kind, inbounds, btype, src):
    """Loops over the window copying between the buffer and the staging buffer
    (`i0, i1, ...` for the window's slices), guarded where the window may leave the
    buffer."""
    iters = [Sym(f"i{n}") for n in range(len(ivals))]
    staged = tuple(var(s) for s in iters)
    it = iter(staged)
    orig = tuple(w.pt if isinstance(w, N.Point) else add(w.lo, next(it)) for w in win.idx)
    s_read = N.Read(new_buf, staged, elem, src)
    b_read = N.Read(buf, orig, elem, src)
    if kind == "load":
        stmt = N.Assign(new_buf, elem, staged, b_read, src)
    elif kind == "store":
        stmt = N.Assign(buf, elem, orig, s_read, src)
    elif kind == "zero":
        stmt = N.Assign(new_buf, elem, staged, N.Const(0.0, T.R, src), src)
    else:
        stmt = N.Reduce(buf, elem, orig, s_read, src)
    guards = [E.and_(E.le(const(0), o), E.lt(o, d))
              for (o, d, ok, w) in zip(orig, btype.dims, inbounds, win.idx)
              if not ok and isinstance(w, N.Interval)]
    if guards and kind != "zero":
        stmt = N.If(E.and_(*guards), (stmt,), (), src)
    for sym, (_, w) in reversed(list(zip(iters, ivals))):
        stmt = N.For(sym, const(0), _extent(w), (stmt,), "seq", src)
    return stmt
