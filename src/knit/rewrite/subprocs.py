"""Sub-procedure primitives: replace (a block by a call, via unification),
replace_all, call_eqv, inline, extract_subproc, insert_noop_call, make_instr.

Each takes the Site its wrapper located (common.Site; make_instr the Procedure) and
returns the new Procedure (common.apply); the callee and new subprocedures are
Procedures reached through knit.ir.handles and common (new_procedure), never through
knit.procedure. A refusal names the primitive the user called (`site.prim`). Each
docstring lists its checks, besides the implicit ones of every primitive
(knit.stdlib.scheduling)."""

from __future__ import annotations

import re

from knit.analysis import effects as E
from knit.cursors import paths as P
from knit.errors import KnitError, SchedulingError
from knit.frontend.fragment import visible_syms
from knit.ir import handles, nodes as N, types as T
from knit.ir.sym import Sym
from knit.ir.visit import stmt_syms, subst_stmts, walk_stmts
from knit.rewrite.checks import inlined_body, subst_type
from knit.rewrite.common import (
    Site,
    apply,
    bad_arg,
    checked,
    derive,
    ir_of,
    new_procedure,
    refuse,
)
from knit.rewrite.unify import UnifyError, unify


def check_call_sites(prim: str, proc, where, before=None) -> None:
    """Re-check a rewritten procedure's (a Procedure's, or IR's) calls, shapes and
    bounds (not its memories: a schedule passes through states where plain code still
    touches registers).

    With `before` (the IR the rewrite started from), only the statements the rewrite
    made (those that are not objects of `before`: the new call, and the loops and ifs
    rebuilt around it) are checked, each under the facts the whole check gives it (its
    kinds, shapes, window bounds, the callee's asserts). Why the rest need not be: a
    statement kept by identity is the same code at the same place, and what runs before
    it leaves the same state as in `before` -- the rewrites that pass `before` (replace,
    call_eqv, insert_noop_call, stage_mem) put there a call proven equal to the block it
    replaces (so the configs it writes, which later code may read, end as they did),
    an equivalent procedure whose differing final configs nothing reads (call_eqv
    checks that), a call whose body is `pass`, or copies through a fresh buffer. So
    each kept statement runs as it did in a procedure already valid: checking it again
    could only refuse it for facts this checker derives less well after the change,
    never for an error."""
    from knit.frontend.checks import check_proc

    ir = ir_of(proc) if handles.is_procedure(proc) else proc
    only = None
    if before is not None:
        old = {id(s) for s in walk_stmts(before.body)}
        only = {id(s) for s in walk_stmts(ir.body) if id(s) not in old}
    try:
        check_proc(ir, memories=False, only=only)
    except KnitError as e:
        first = re.sub(r"^\S+:\d+:\d+: ", "", str(e).splitlines()[0])  # drop the position
        raise refuse(prim, where, f"the new call would not be valid: {first}") from e


def _buf_types(ir, path) -> dict:
    return {sym: typ for sym, typ, _ in visible_syms(ir, path).values()}


def _buf_mems(ir, path) -> dict:
    return {sym: mem for sym, _, mem in visible_syms(ir, path).values()}


# ---------------------------------------------------------------- replace


class MemoryMismatchError(SchedulingError, MemoryError):
    """A mem-aware replace whose buffer lives in another memory than its parameter
    names (a MemoryError too, as Exo's call_site_mem_aware_replace raises)."""


def replace(block: Site, sub, *, mem_aware: bool = False):
    """Replace the block by a call to `sub`. Checks: the block allocates nothing used
    after it; it unifies with sub's body (the arguments found so); with `mem_aware`,
    each buffer lives in the memory its parameter names (else, as in Exo, that is
    checked where C is generated: a later set_memory may move the buffer there); the
    new call passes a call's checks (kinds, shapes, bounds, sub's asserts proven at the
    call)."""
    prim = block.prim
    ir = block.ir
    stmts = block.stmts()
    callee = ir_of(checked(sub))
    path = block.path
    # what the block allocates disappears with it into the call
    _check_locals_stay_inside(block, stmts, "replace a block that holds its uses too")
    facts = E.context_facts(ir, path)
    # loops and windows inside the block are visible to its accesses too
    types = _buf_types(ir, path)
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
        _check_memories(prim, ir, path, callee, args, stmts[0])
    call = N.Call(callee, args, stmts[0].srcinfo)
    new = apply(block, block.replaced((call,)))
    check_call_sites(prim, new, stmts[0], before=ir)
    return new


def _check_memories(prim, ir, path, callee, args, where):
    mems = _buf_mems(ir, path)
    for p, a in zip(callee.args, args):
        if p.type.is_control():
            continue
        mem = mems.get(a.name)
        if mem is not None and p.mem is not None and not issubclass(mem, p.mem):
            err = refuse(prim, where, f"failed due to memory type mismatch: argument "
                         f"'{p.name.name}' of {callee.name} must live in {p.mem.name()}, but "
                         f"'{a.name.name}' lives in {mem.name()}",
                         f"set_memory(p, '{a.name.name}', {p.mem.name()}) first")
            raise MemoryMismatchError(str(err)) from None


def replace_all(proc, subs, done: list | None = None, *, mem_aware: bool = True,
                prim: str = "replace_all"):
    """Replace every block that matches one of `subs`, in program order; appends
    (sub, the block's first statement) to `done` for each replacement. `mem_aware`:
    as for replace, whether a buffer must live in the memory the parameter names.
    Checks: replace's, at each block tried; a block where one fails is left alone."""
    for sub in subs:
        n = len(ir_of(sub).body)
        start = 0
        while True:
            hit = _next_match(proc, sub, n, start, done, mem_aware, prim)
            if hit is None:
                break
            proc, start = hit
    return proc


def _next_match(proc, sub, n, start, done, mem_aware: bool, prim: str):
    ir = ir_of(proc)
    paths = list(P.stmt_paths(ir))
    want = None  # the nesting of sub's body, which a matching block has too
    for k in range(start, len(paths)):
        path, _ = paths[k]
        parent, (field, i) = path[:-1], path[-1]
        block = P.block_of(ir, parent, field)
        if i + n > len(block):
            continue
        if want is None:
            try:  # (replace's first step, and its refusal)
                want = _shapes(ir_of(checked(sub)).body)
            except SchedulingError:
                return None
        if _shapes(block[i:i + n]) != want:
            continue  # unify would refuse it: the statements differ in kind or nesting
        try:
            new = replace(Site(proc, path, i + n, prim), sub, mem_aware=mem_aware)
        except SchedulingError:
            continue
        if done is not None:
            done.append((sub, block[i]))
        return new, k + 1
    return None


def _shapes(stmts) -> tuple:
    """The kinds of `stmts` and of the statements nested in them, with the lengths of
    their bodies: what `unify` compares before anything else (a body and a block of
    different shapes never unify), so that replace_all skips, without building the
    facts at each candidate block, the many that cannot match."""
    return tuple(_shape(s) for s in stmts)


def _shape(s) -> tuple:
    hit = _SHAPES.get(id(s))
    if hit is not None and hit[0] is s:
        return hit[1]
    if isinstance(s, N.For):
        out = (N.For, _shapes(s.body))
    elif isinstance(s, N.If):
        out = (N.If, _shapes(s.body), _shapes(s.orelse))
    else:
        out = (type(s),)
    if len(_SHAPES) >= 20_000:  # a bound: each entry keeps its statement alive
        _SHAPES.clear()
    _SHAPES[id(s)] = (s, out)
    return out


_SHAPES: dict = {}  # id(stmt) -> (stmt, _shape of it)


# ---------------------------------------------------------------- call_eqv and inline


def call_eqv(site: Site, eqv):
    """Call `eqv` instead of the procedure the call at `site` names. Checks: the two are
    known equivalent (Procedure.is_eq); they declare their parameters alike; the new
    call passes a call's checks; the caller reads no config field whose final value
    the two may leave different, after the call."""
    prim = site.prim
    call = site.node()
    old = handles.procedure_of(call.f)
    if old is None or not eqv.is_eq(old):
        raise refuse(prim, call, f"{eqv.name()} is not known to be equivalent to "
                     f"{call.f.name}",
                     "derive it from that procedure by scheduling, or declare it with "
                     "unsafe_assert_eq")
    new_f = ir_of(eqv)
    if len(new_f.args) != len(call.f.args):
        raise refuse(prim, call, "the two procedures take different arguments")
    for a, b in zip(call.f.args, new_f.args):
        if not _same_param(a, b):
            raise refuse(prim, call, f"parameter '{b.name.name}' of {eqv.name()} is declared "
                         f"{_param_str(b)}, but {_param_str(a)} in {call.f.name}; the "
                         "arguments of this call may not fit it")
    ir = site.replaced((call.with_(f=new_f),))
    check_call_sites(prim, ir, call, before=site.ir)
    changed = _check_final_configs_unread(prim, old, eqv, ir, site.path, call)
    return apply(site, ir, final_configs=changed)


def _check_final_configs_unread(prim, old, eqv, ir, path, call) -> frozenset:
    """Procedures equal up to a config rewrite may leave different values in the config
    fields it touched: the caller must not read them after the call (the call itself in
    a later iteration included). The caller then differs in the same way: the fields
    returned."""
    from knit.rewrite.configs import configs_that_may_differ, first_reader_after

    changed = configs_that_may_differ(old, eqv)
    for cfg, fld in sorted(changed, key=lambda k: (k[0].name(), k[1])):
        reader = first_reader_after(ir, path, (cfg, fld))
        if reader is not None:
            from knit.ir.printer import stmt_str

            line = reader.srcinfo.line if reader.srcinfo is not None else 0
            raise refuse(prim, call, f"the new callee may leave another value in "
                         f"{cfg.name()}.{fld} than {call.f.name} does (a config rewrite "
                         "changed that field), and this procedure reads it after the call",
                         f"it is read by{f' line {line}' if line else ''}: "
                         f"{stmt_str(reader).splitlines()[0]}")
    return changed


def _same_param(a: N.FnArg, b: N.FnArg) -> bool:
    ta, tb = a.type, b.type
    if ta.is_control() or tb.is_control():
        return ta == tb
    return ta.basetype() == tb.basetype() and ta.is_tensor() == tb.is_tensor() and \
        (not ta.is_tensor() or (ta.is_win() == tb.is_win() and
                                len(ta.shape()) == len(tb.shape()))) and a.mem is b.mem


def _param_str(a: N.FnArg) -> str:
    from knit.ir.printer import Names, type_str

    mem = f" @ {a.mem.name()}" if a.mem is not None else ""
    return f"`{type_str(a.type, Names())}{mem}`"


def inline(site: Site):
    """Replace the call at `site` by the callee's body, its parameters replaced by the
    arguments. Checks: the callee is not an instruction; no argument reads a config
    field the callee writes (it would be evaluated again after the write)."""
    prim = site.prim
    call: N.Call = site.node()
    if call.f.instr is not None:
        raise refuse(prim, call, f"{call.f.name} is an instruction; inlining would lose its "
                     "C code")
    changed = arguments_changed_by_callee(call)
    if changed:
        (cfg, fld), arg = changed
        from knit.ir.printer import expr_str

        raise refuse(prim, call, f"the argument {expr_str(arg)} reads {cfg.name()}.{fld}, "
                     f"which {call.f.name} writes: the call evaluates it once, before the "
                     "body runs; inlined, the uses after that write would see the new value",
                     "bind the argument to a variable (or window) before the call first")
    return apply(site, site.replaced(inlined_body(call) or (N.Pass(call.srcinfo),)))


def arguments_changed_by_callee(call: N.Call):
    """((config, field), argument) when an argument reads a config field that the callee
    (or a procedure it calls) may write before it uses the parameter, else None:
    substituted into the body, the argument would be evaluated again after that write."""
    from knit.analysis.written import written_configs
    from knit.rewrite.buffers import use_after_write

    written = written_configs(call.f)
    if not written:
        return None
    for p, a in zip(call.f.args, call.args):
        hit = use_after_write(call.f.body, p.name, E.config_reads(a) & written)
        if hit is not None:
            return hit[0], a
    return None


# ---------------------------------------------------------------- extract_subproc


def extract_subproc(block: Site, name: str, include_asserts: bool):
    """Move a block into a new procedure and call it: returns (new proc, subproc).
    Checks: the block allocates (or windows) nothing used after it; windows made before
    it read no config written since; the buffers' shapes use only sizes the block
    passes; the subprocedure passes the front end's checks on its own."""
    prim = block.prim
    ir = block.ir
    stmts = block.stmts()
    path = block.path
    _check_locals_stay_inside(block, stmts)
    stmts = _without_outer_windows(prim, ir, path, stmts)
    visible = visible_syms(ir, path)
    need = _free_with_sizes(stmts, visible)
    args, call_args, env = [], [], {}
    for n, (sym, typ, mem) in visible.items():
        if sym not in need:
            continue
        new_sym = Sym(n)
        env[sym] = E.var(new_sym, typ if not typ.is_tensor() else T.INDEX)
        if typ.is_control():
            args.append((new_sym, typ if typ != T.INT else T.INDEX, None))
            call_args.append(E.var(sym, typ))
        else:
            args.append((new_sym, typ, mem or _default_mem()))
            call_args.append(_whole_arg(sym, typ))
    fn_args = tuple(N.FnArg(s, subst_type(t, env), m) for s, t, m in args)
    missing = _missing_size_args(fn_args, env)
    if missing:
        raise refuse(prim, stmts[0], f"the shapes of the buffers use {missing}, which the "
                     "block does not use; not supported yet")
    preds = _subproc_preds(ir, path, env) if include_asserts else ()
    sub_ir = N.Proc(name, fn_args, preds, subst_stmts(stmts, env), None, stmts[0].srcinfo)
    try:
        sub = new_procedure(sub_ir, block.proc)
    except KnitError as e:
        raise refuse(prim, stmts[0], f"the extracted procedure does not check: "
                     f"{str(e).splitlines()[0]}") from e
    call = N.Call(sub_ir, tuple(call_args), stmts[0].srcinfo)
    # the new procedure's scope names the subproc, so its printed code names a known proc
    new = apply(block, block.replaced((call,)), names={name: sub})
    return new, sub


def _check_locals_stay_inside(block: Site, stmts,
                              hint="extract a block that holds its uses too"):
    """What the block allocates (or windows) moves into the subproc (or call) with it."""
    from knit.rewrite.bufaccess import uses

    later = block.block()[block.hi:]
    for s in stmts:
        if isinstance(s, (N.Alloc, N.WindowStmt)) and uses(later, s.name):
            raise refuse(block.prim, s, f"the block defines '{s.name.name}', which is used after "
                         f"it; {hint}")


def _without_outer_windows(prim, ir, path, stmts):
    """The block with each window defined before it (`w = A[i, 0:2]`) replaced by its
    definition, so the subproc takes the buffer itself (passing A and a window of it
    to a procedure that writes them would alias)."""
    from knit.ir.visit import free_syms
    from knit.rewrite.bufaccess import substitute_window, uses

    visible = visible_syms(ir, path)
    types = {sym: typ for sym, typ, _ in visible.values()}
    known = {sym for sym, _, _ in visible.values()}
    for alias, (base, accs) in E.windows_at(ir, path).items():
        if alias not in types or not uses(stmts, alias):
            continue
        w = N.WindowExpr(base, accs, types[alias])
        # its bounds were evaluated by the window statement: substituted, they are
        # evaluated in the block, so the configs they read must not have changed
        read = E.config_reads(w)
        if not free_syms(w) <= known | {base} or _written_in(stmts) & read:
            raise refuse(prim, stmts[0], f"the block uses the window "
                         f"'{alias.name}', whose bounds read a config field written since "
                         "the window was made (or in the block); the subprocedure would "
                         "see its new value", "inline_window it or extract a block that "
                         "holds the window statement too")
        stmts = substitute_window(stmts, alias, w)
    return stmts


def _written_in(stmts) -> frozenset:
    from knit.analysis.written import configs_written_in

    return configs_written_in(tuple(stmts))


def _whole_arg(sym, typ):
    """A whole buffer as a call argument; a window-typed one as the window of all of it
    (what `f(x)` parses to)."""
    if typ.is_tensor() and typ.is_win():
        return N.WindowExpr(sym, tuple(N.Interval(E.int_(0), d) for d in typ.shape()), typ,
                            whole=True)
    return N.Read(sym, (), typ)


def _subproc_preds(ir, path, env) -> tuple:
    """What held at the block, in the subproc's names (sizes are positive anyway)."""
    sizes = {a.name for a in ir.args if a.type == T.SIZE}
    taken = _taken_conds(ir, path)
    return tuple(_subst_expr(_as_taken(f) if any(f is c for c in taken) else f, env)
                 for f in E.context_facts(ir, path)
                 if _only_uses(f, env) and not _size_positive(f, sizes))


def _taken_conds(ir, path) -> list:
    """The conditions of the `if`s whose body (not else branch) holds the block."""
    out, node = [], ir
    for k, (field, i) in enumerate(path[:-1]):
        node = getattr(node, field)[i]
        if isinstance(node, N.If) and path[k + 1][0] == "body":
            out.append(node.cond)
    return out


def _as_taken(cond):
    """`cond == True`: the branch taken, as Exo writes it (the else branch's fact is
    already `cond == False`); the same truth value."""
    return N.BinOp("==", cond, N.Const(True, T.BOOL), T.BOOL, cond.srcinfo)


def _free_with_sizes(stmts, visible) -> set:
    """The block's free variables, and the sizes the shapes of its buffers name."""
    from knit.ir.visit import free_syms

    bound, used = stmt_syms(stmts)
    need = used - bound
    while True:
        extra = set()
        for sym, typ, _ in visible.values():
            if sym in need and typ.is_tensor():
                extra |= set().union(*(free_syms(d) for d in typ.shape()))
        if extra <= need:
            return need
        need |= extra


def _size_positive(f, sizes) -> bool:
    """`1 <= n` for a size n: true of every size, so not worth an assert."""
    return isinstance(f, N.BinOp) and f.op == "<=" and isinstance(f.lhs, N.Const) and \
        f.lhs.val == 1 and isinstance(f.rhs, N.Read) and f.rhs.name in sizes


def _default_mem():
    from knit.memory import DRAM

    return DRAM


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


def insert_noop_call(gap: Site, instr, args: list):
    """Insert a call to the no-op `instr` at the gap. Checks: instr's body is only
    `pass`; the arguments are as many, and of the kinds, its parameters take; the call
    passes a call's checks (shapes, bounds, asserts)."""
    prim = gap.prim
    ir = ir_of(instr)
    if any(not isinstance(s, N.Pass) for s in ir.body):
        raise bad_arg(prim, f"{ir.name} is not a no-op: its body does more than `pass`")
    if len(args) != len(ir.args):
        raise bad_arg(prim, f"{ir.name} takes {len(ir.args)} arguments, got {len(args)}")
    for p, a in zip(ir.args, args):
        _check_arg_kind(prim, ir.name, p, a)
    call = N.Call(ir, tuple(args), _gap_srcinfo(gap))
    new = apply(gap, gap.replaced((call,)))
    check_call_sites(prim, new, call, before=gap.ir)
    return new


def _gap_srcinfo(gap: Site):
    """The position of the statement next to the gap, for the new call's messages."""
    block, i = gap.block(), gap.index
    near = block[i] if i < len(block) else block[-1] if block else None
    return near.srcinfo if near is not None else N.Pass().srcinfo


def _check_arg_kind(prim, fname, p, a):
    """The argument is the kind of value the parameter takes (the call's checks then
    look at shapes, bounds and asserts)."""
    from knit.ir.printer import expr_str

    t = p.type
    if t.is_control():
        ok = a.type == T.BOOL if t == T.BOOL else a.type.is_indexable()
        want = "a condition" if t == T.BOOL else "an index expression"
    elif t.is_tensor():
        ok = isinstance(a, (N.WindowExpr, N.Read)) and a.type.is_tensor() and \
            len(a.type.shape()) == len(t.shape())
        want = f"a {len(t.shape())}-dimensional {'window' if t.is_win() else 'tensor'}"
    else:
        ok = isinstance(a, N.Read) and a.type.is_numeric() and not a.type.is_tensor()
        want = "a scalar or an element x[i]"
    if not ok:
        raise bad_arg(prim, f"argument '{p.name.name}' of {fname} must be {want}, got "
                      f"{expr_str(a)}")


def make_instr(proc, c_instr: str, c_global: str, prim: str = "make_instr"):
    """The same procedure, emitted as the given C: its body stays the meaning (what the
    interpreter runs and what replace unifies with), so it is proven equal to `proc`.
    No checks beyond the implicit ones."""
    ir = ir_of(proc).with_(instr=N.InstrInfo(c_instr, c_global))
    return derive(proc, ir, prim=prim)
