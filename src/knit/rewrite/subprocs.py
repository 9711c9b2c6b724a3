"""Sub-procedure primitives: replace (a block by a call, via unification),
replace_all, call_eqv, inline, extract_subproc, insert_noop_call, make_instr."""

from __future__ import annotations

from knit.analysis import effects as E
from knit.cursors import cursor as C
from knit.cursors import paths as P
from knit.errors import KnitError, SchedulingError
from knit.frontend.fragment import visible_syms
from knit.ir import nodes as N
from knit.ir import types as T
from knit.ir.sym import Sym
from knit.ir.visit import stmt_syms, subst_stmts, walk_stmts
from knit.rewrite.common import bad_arg, refuse, replace_stmts
from knit.rewrite.unify import UnifyError, unify


def check_call_sites(prim: str, proc, where) -> None:
    """Re-check a rewritten procedure's calls, shapes and bounds (not its memories: a
    schedule passes through states where plain code still touches registers)."""
    from knit.frontend.checks import check_proc

    try:
        check_proc(proc._loopir_proc, memories=False)
    except KnitError as e:
        first = str(e).splitlines()[0].split(": ", 1)[-1]
        raise refuse(prim, where, f"the new call would not be valid: {first}") from e


def _buf_types(proc, path) -> dict:
    return {sym: typ for sym, typ, _ in visible_syms(proc._loopir_proc, path).values()}


def _buf_mems(proc, path) -> dict:
    return {sym: mem for sym, _, mem in visible_syms(proc._loopir_proc, path).values()}


# ---------------------------------------------------------------- replace


def replace(proc, block: C.BlockCursor, sub, *, mem_aware: bool = True):
    prim = "replace"
    stmts = block._stmts()
    callee = sub._loopir_proc
    sub._check()
    path = block._parent + ((block._field, block._lo),)
    facts = E.context_facts(proc._loopir_proc, path)
    # loops and windows inside the block are visible to its accesses too
    types = _buf_types(proc, path)
    for s in walk_stmts(stmts):
        if isinstance(s, N.Alloc):
            types[s.name] = s.type
        elif isinstance(s, N.WindowStmt):
            types[s.name] = s.rhs.type
    try:
        args = unify(callee, stmts, facts, types)
    except UnifyError as e:
        raise refuse(prim, stmts[0], f"the block does not match the body of "
                     f"{callee.name}: {e}") from None
    if mem_aware:
        _check_memories(prim, proc, path, callee, args, stmts[0])
    call = N.Call(callee, args, stmts[0].srcinfo)
    new = replace_stmts(proc, block, (call,))
    check_call_sites(prim, new, stmts[0])
    return new


def _check_memories(prim, proc, path, callee, args, where):
    mems = _buf_mems(proc, path)
    for p, a in zip(callee.args, args):
        if p.type.is_control():
            continue
        mem = mems.get(a.name)
        if mem is not None and p.mem is not None and mem is not p.mem:
            raise refuse(prim, where, f"argument '{p.name.name}' of {callee.name} must live in "
                         f"{p.mem.name()}, but '{a.name.name}' lives in {mem.name()}",
                         f"set_memory(p, '{a.name.name}', {p.mem.name()}) first")


def replace_all(proc, subs):
    """Replace every block that matches one of `subs`, in program order."""
    for sub in subs:
        n = len(sub._loopir_proc.body)
        start = 0
        while True:
            hit = _next_match(proc, sub, n, start)
            if hit is None:
                break
            proc, start = hit
    return proc


def _next_match(proc, sub, n, start):
    paths = list(P.stmt_paths(proc._loopir_proc))
    for k in range(start, len(paths)):
        path, _ = paths[k]
        parent, (field, i) = path[:-1], path[-1]
        block = P.block_of(proc._loopir_proc, parent, field)
        if i + n > len(block):
            continue
        cur = C.BlockCursor(proc, parent, field, i, i + n)
        try:
            return replace(proc, cur, sub), k + 1
        except SchedulingError:
            continue
    return None


# ---------------------------------------------------------------- call_eqv and inline


def call_eqv(proc, cur: C.CallCursor, eqv):
    prim = "call_eqv"
    call = cur._node()
    from knit.procedure import procedure_of

    old = procedure_of(call.f)
    if old is None or not eqv.is_eq(old):
        raise refuse(prim, call, f"{eqv.name()} is not known to be equivalent to "
                     f"{call.f.name}",
                     "derive it from that procedure by scheduling, or declare it with "
                     "unsafe_assert_eq")
    new_f = eqv._loopir_proc
    if len(new_f.args) != len(call.f.args):
        raise refuse(prim, call, "the two procedures take different arguments")
    return replace_stmts(proc, cur, (call.with_(f=new_f),))


def inline(proc, cur: C.CallCursor):
    prim = "inline"
    call: N.Call = cur._node()
    callee = call.f
    if callee.instr is not None:
        raise bad_arg(prim, f"{callee.name} is an instruction; inlining would lose its C code")
    body = _fresh(callee.body)
    env, windows = {}, {}
    for p, a in zip(callee.args, call.args):
        if p.type.is_control() or (not p.type.is_tensor() and not isinstance(a, N.Read)):
            env[p.name] = a
        elif isinstance(a, N.WindowExpr):
            windows[p.name] = a
        elif p.type.is_tensor():  # a whole buffer
            env[p.name] = a
        else:  # a scalar parameter bound to x[i]: becomes a point window
            windows[p.name] = a
    body = subst_stmts(body, {k: v for k, v in env.items()})
    for pname, w in windows.items():
        body = _inline_window(body, pname, w)
    return replace_stmts(proc, cur, body)


def _fresh(stmts):
    from knit.rewrite.loops import _fresh_copy

    return tuple(_fresh_copy(stmts))


def _inline_window(stmts, pname, w):
    """Accesses of parameter pname become accesses of the argument window/element."""
    from knit.rewrite.bufaccess import map_accesses
    from knit.rewrite.buffers import _rename_writes

    from knit.analysis.exprs import add

    if isinstance(w, N.Read):  # scalar param bound to buf[idx]
        return _index_scalar_param(stmts, pname, w)

    def on_idx(idx):
        it = iter(idx)
        return tuple(a.pt if isinstance(a, N.Point) else add(a.lo, next(it)) for a in w.idx)

    def on_win(x):
        it = iter(x.idx)
        out = []
        for a in w.idx:
            if isinstance(a, N.Point):
                out.append(a)
                continue
            b = next(it)
            out.append(N.Point(add(a.lo, b.pt)) if isinstance(b, N.Point) else
                       N.Interval(add(a.lo, b.lo), add(a.lo, b.hi)))
        return x.with_(name=w.name, idx=tuple(out))

    stmts = map_accesses(stmts, pname, on_idx, on_win, lambda r: w)
    return _rename_writes(stmts, pname, w.name)


def _index_scalar_param(stmts, pname, read: N.Read):
    from knit.ir.visit import map_expr

    def fe(e):
        if isinstance(e, N.Read) and e.name is pname:
            return read
        return e

    def fs(s):
        if isinstance(s, (N.Assign, N.Reduce)):
            s = s.with_(rhs=map_expr(s.rhs, fe), idx=tuple(map_expr(i, fe) for i in s.idx))
            if s.name is pname:
                s = s.with_(name=read.name, idx=read.idx)
            return s
        if isinstance(s, N.For):
            return s.with_(body=tuple(fs(b) for b in s.body))
        if isinstance(s, N.If):
            return s.with_(cond=map_expr(s.cond, fe), body=tuple(fs(b) for b in s.body),
                           orelse=tuple(fs(b) for b in s.orelse))
        if isinstance(s, N.Call):
            return s.with_(args=tuple(map_expr(a, fe) for a in s.args))
        return s

    return tuple(fs(s) for s in stmts)


# ---------------------------------------------------------------- extract_subproc


def extract_subproc(proc, block: C.BlockCursor, name: str, include_asserts: bool):
    """Move a block into a new procedure and call it: returns (new proc, subproc)."""
    prim = "extract_subproc"
    stmts = block._stmts()
    path = block._parent + ((block._field, block._lo),)
    visible = visible_syms(proc._loopir_proc, path)
    bound, used = stmt_syms(stmts)
    free = [(n, v) for n, v in visible.items() if v[0] in used and v[0] not in bound]
    args, call_args, env = [], [], {}
    for n, (sym, typ, mem) in free:
        new_sym = Sym(n)
        env[sym] = E.var(new_sym, typ if not typ.is_tensor() else T.INDEX)
        if typ.is_tensor():
            typ2 = T.TensorT(typ.dims, typ.is_window, typ.elem)
            args.append((new_sym, typ2, mem or _default_mem()))
            call_args.append(N.Read(sym, (), typ))
        elif typ.is_control():
            args.append((new_sym, typ if typ != T.INT else T.INDEX, None))
            call_args.append(E.var(sym, typ))
        else:
            args.append((new_sym, typ, mem or _default_mem()))
            call_args.append(N.Read(sym, (), typ))
    # shapes may name sizes of the caller that the block does not use directly
    fn_args = tuple(N.FnArg(s, _subst_type(t, env), m) for s, t, m in args)
    missing = _missing_size_args(fn_args, env)
    if missing:
        raise refuse(prim, stmts[0], f"the shapes of the buffers use {missing}, which the "
                     "block does not use; not supported yet")
    preds = ()
    if include_asserts:
        preds = tuple(_subst_expr(f, env) for f in E.context_facts(proc._loopir_proc, path)
                      if _only_uses(f, env))
    body = subst_stmts(stmts, env)
    sub_ir = N.Proc(name, fn_args, preds, body, None, stmts[0].srcinfo)
    from knit.procedure import Procedure

    try:
        sub = Procedure(sub_ir, proc._scope)
    except KnitError as e:
        raise refuse(prim, stmts[0], f"the extracted procedure does not check: "
                     f"{str(e).splitlines()[0]}") from e
    call = N.Call(sub_ir, tuple(call_args), stmts[0].srcinfo)
    return replace_stmts(proc, block, (call,)), sub


def _default_mem():
    from knit.memory import DRAM

    return DRAM


def _subst_type(t, env):
    from knit.ir.visit import map_type, subst as sub

    return map_type(t, lambda e: sub(e, env) if isinstance(e, N.Read) else e)


def _subst_expr(e, env):
    from knit.ir.visit import subst as sub

    return sub(e, env)


def _only_uses(e, env) -> bool:
    from knit.ir.visit import free_syms

    return free_syms(e) <= set(env)


def _missing_size_args(fn_args, env) -> str:
    from knit.ir.visit import free_syms

    known = {a.name for a in fn_args}
    for a in fn_args:
        for d in a.type.shape():
            extra = free_syms(d) - known
            if extra:
                return ", ".join(sorted(s.name for s in extra))
    return ""


# ---------------------------------------------------------------- noop calls, make_instr


def insert_noop_call(proc, gap: C.GapCursor, instr, args: list):
    prim = "insert_noop_call"
    ir = instr._loopir_proc
    if any(not isinstance(s, N.Pass) for s in ir.body):
        raise bad_arg(prim, f"{ir.name} is not a no-op: its body does more than `pass`")
    if len(args) != len(ir.args):
        raise bad_arg(prim, f"{ir.name} takes {len(ir.args)} arguments, got {len(args)}")
    call = N.Call(ir, tuple(args))
    new_ir = P.replace_block(proc._loopir_proc, gap._parent, gap._field, gap._idx, gap._idx,
                             (call,))
    new = proc._derive(new_ir)
    check_call_sites(prim, new, call)
    return new


def make_instr(proc, c_instr: str, c_global: str):
    from knit.procedure import Procedure

    ir = proc._loopir_proc.with_(instr=N.InstrInfo(c_instr, c_global))
    new = Procedure(ir, proc._scope, check=False)
    new._parent = proc
    new._eqv = proc._eqv
    return new
