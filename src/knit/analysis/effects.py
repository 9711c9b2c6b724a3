"""Effects: which locations a block of statements reads, writes and reduces into,
as symbolic accesses, and the queries that scheduling checks ask of them.

An `Access` is one syntactic access, in the coordinates of the underlying buffer
(windows are resolved), with the conditions under which it happens (`ctx`: the
loop ranges and if-conditions inside the analysed block) and the loop variables
bound inside the block (`iters`). Two accesses *conflict* when they may touch the
same location and at least one writes — except two reductions, which commute
(knit treats `+=` as associative and commutative, as Exo does).
Every question is decided by the solver; "unknown" is answered "may conflict".

Config fields are variables that statements change, and an expression reads them
when it is evaluated (docs/semantics.md): a window's origin when the window
statement runs, a loop's bounds once at entry, a call's arguments at the call. So a
read of `Cfg.k` after a write to `Cfg.k` is a different unknown from one before: in
the accesses of a block, `Cfg.k` stands for its value where the block starts, and a
value written inside the block is a *version*, a fresh variable renamed apart in
every instance like a loop variable (or the written expression itself). The facts
and windows at a statement (`context_facts`, `windows_at`) likewise stand an
overwritten value for a snapshot variable, shared between the two.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, replace

from knit.analysis import affine as A, fastpath
from knit.analysis.exprs import shared_var
from knit.analysis.smt import Facts, prove
from knit.analysis.written import configs_written_in
from knit.ir import nodes as N, types as T
from knit.ir.printer import expr_str
from knit.ir.srcinfo import NO_SRC
from knit.ir.sym import Sym
from knit.ir.visit import map_expr, node_kinds, subst, walk_expr

# ---------------------------------------------------------------- boolean builders


def _b(op, a, b):
    return N.BinOp(op, a, b, T.BOOL, NO_SRC)


def lt(a, b):
    return _b("<", a, b)


def le(a, b):
    return _b("<=", a, b)


def eq(a, b):
    return _b("==", a, b)


def and_(*cs):
    cs = [c for c in cs if not (isinstance(c, N.Const) and c.val is True)]
    if not cs:
        return N.Const(True, T.BOOL, NO_SRC)
    out = cs[0]
    for c in cs[1:]:
        out = _b("and", out, c)
    return out


def or_(*cs):
    out = cs[0]
    for c in cs[1:]:
        out = _b("or", out, c)
    return out


def not_(c):
    return eq(c, N.Const(False, T.BOOL, NO_SRC))


def ne(a, b):
    return or_(lt(a, b), lt(b, a))


def var(sym: Sym, typ=T.INDEX):
    return N.Read(sym, (), typ, NO_SRC)


def int_(v: int):
    return N.Const(v, T.INT, NO_SRC)


def add(a, b):
    return N.BinOp("+", a, b, T.INDEX, NO_SRC)


def sub(a, b):
    return N.BinOp("-", a, b, T.INDEX, NO_SRC)


# ---------------------------------------------------------------- accesses


@dataclass(frozen=True)
class Access:
    buf: object  # a buffer Sym, or (config, field)
    idx: tuple
    kind: str  # "r", "w" or "+"
    ctx: tuple
    iters: tuple  # loop variables and config versions bound per instance
    srcinfo: object = NO_SRC
    # configs the analysed block writes: where idx or ctx read them, they read the value
    # at the start of this instance of the block, not one value for every instance
    unstable: frozenset = frozenset()
    # a write of a literal: its value (every instance writes the same one), else None
    value: object = None

    def describe(self) -> str:
        verb = {"r": "reads", "w": "writes", "+": "reduces into"}[self.kind]
        if isinstance(self.buf, tuple):
            return f"{verb} {self.buf[0].name()}.{self.buf[1]}"
        idx = f"[{', '.join(expr_str(i) for i in self.idx)}]" if self.idx else ""
        return f"{verb} {self.buf.name}{idx}"


class _Collector:
    def __init__(self, windows: dict | None = None, coarse: bool = False):
        # window sym -> (base buffer, tuple of Interval/Point in base coordinates)
        self.windows = dict(windows or {})
        # calls as the windows they are passed (`_call_windows`), where that can be said
        self.coarse = coarse
        self.bounded = False  # whether a call was
        self.local: set[Sym] = set()  # buffers allocated inside the block
        self.out: list[Access] = []
        # (config, field) -> the expression for its value, once written in the block
        self.cfg: dict = {}
        self.versions: tuple = ()  # the version variables introduced so far

    def block(self, stmts, ctx: tuple, iters: tuple):
        for s in stmts:
            self.stmt(s, ctx, iters)

    def stmt(self, s, ctx, iters):
        match s:
            case N.Assign() | N.Reduce():
                self.exprs(s.idx, ctx, iters)
                self.exprs((s.rhs,), ctx, iters)
                kind = "w" if isinstance(s, N.Assign) else "+"
                if kind == "+" and _truncating(s):
                    # int += float truncates at every step (semantics.md#round-at-store):
                    # such reductions do not commute, so they order like writes; a
                    # write that also reads the old value (x = x + e), which must stay
                    # visible (running it twice is not running it once)
                    kind = "w"
                    self.add(s.name, s.idx, "r", ctx, iters, s.srcinfo)
                self.add(s.name, s.idx, kind, ctx, iters, s.srcinfo,
                         _literal(s.rhs) if kind == "w" else None)
            case N.WriteConfig():
                self.exprs((s.rhs,), ctx, iters)
                self.out.append(Access((s.config, s.field), (), "w", ctx,
                                       iters + self.versions, s.srcinfo,
                                       value=_literal(s.rhs)))
                key = (s.config, s.field)
                if s.rhs.type.is_control():
                    self.cfg[key] = self.now(s.rhs)  # the value it now holds
                else:
                    self.age({key}, s)
            case N.If():
                self.exprs((s.cond,), ctx, iters)
                cond = self.now(s.cond)  # evaluated once, before either branch runs
                before = dict(self.cfg)
                self.block(s.body, ctx + (cond,), iters)
                self.cfg = dict(before)
                self.block(s.orelse, ctx + (not_(cond),), iters)
                self.cfg = before
                self.age(_written_in((s,)), s)
            case N.For():
                self.exprs((s.lo, s.hi), ctx, iters)
                # the bounds are evaluated once, at entry
                i = shared_var(s.iter)
                rng = (le(self.now(s.lo), i), lt(i, self.now(s.hi)))
                written = _written_in(s.body)
                self.age(written, s)  # an iteration starts with what earlier ones left
                self.block(s.body, ctx + rng, iters + (s.iter,))
                self.age(written, s)
            case N.Alloc():
                if not one_per_program(s.mem):  # a `static` buffer outlives the block
                    self.local.add(s.name)
                self.exprs(s.type.shape(), ctx, iters)  # the shape is evaluated here
            case N.WindowStmt():
                self.exprs((s.rhs,), ctx, iters)  # so are the window's bounds
                self.windows[s.name] = self.resolve_window(self.now(s.rhs))
            case N.Call():
                self.call(s, ctx, iters)

    # ------------------------------------------------------------ config versions

    def now(self, e):
        """e as evaluated here: each config field written in the block by its version,
        and the stride of a window by the stride of the buffer it views (so a callee's
        windows of two different arguments are told apart)."""
        if not self.cfg and not self.windows:
            return e

        def version(x):
            if isinstance(x, N.ReadConfig):
                return self.cfg.get((x.config, x.field), x)
            if isinstance(x, N.StrideExpr) and x.name in self.windows:
                return self.stride_of(N.Read(x.name, (), T.INDEX, NO_SRC), x.dim)
            return x

        return map_expr(e, version)

    def age(self, keys, where) -> None:
        """The fields `keys` were (or may have been) written by the statement `where`:
        from now on each has a value of its own, unknown."""
        for cfg, fld in keys:
            if cfg is None:  # a probe standing for an expression (rewrite/configs.py)
                continue
            v = Sym(f"{cfg.name()}.{fld}{_after(where)}")
            self.cfg[(cfg, fld)] = var(v, cfg.lookup_type(fld))
            self.versions += (v,)

    # ------------------------------------------------------------ accesses

    def exprs(self, es, ctx, iters):
        for e in es:
            for x in walk_expr(e):
                if isinstance(x, N.Read) and x.type.is_real():
                    self.add(x.name, x.idx, "r", ctx, iters, x.srcinfo)
                elif isinstance(x, N.ReadConfig):
                    self.out.append(Access((x.config, x.field), (), "r", ctx,
                                           iters + self.versions, x.srcinfo))

    def add(self, name, idx, kind, ctx, iters, srcinfo, value=None):
        buf, idx = self.to_base(name, tuple(self.now(i) for i in idx))
        self.out.append(Access(buf, idx, kind, ctx, iters + self.versions, srcinfo,
                               value=value))

    def to_base(self, name: Sym, idx: tuple):
        """Translate an access through windows to the underlying buffer's coordinates."""
        if name not in self.windows:
            return name, idx
        base, accs = self.windows[name]
        it = iter(idx)
        out = []
        for w in accs:
            out.append(w.pt if isinstance(w, N.Point) else add(w.lo, next(it)))
        return base, tuple(out)

    def resolve_window(self, w: N.WindowExpr):
        """A window expression as (base buffer, accesses in base coordinates)."""
        if w.name not in self.windows:
            return w.name, w.idx
        base, accs = self.windows[w.name]
        inner = iter(w.idx)
        out = []
        for a in accs:
            if isinstance(a, N.Point):
                out.append(a)
                continue
            x = next(inner)
            if isinstance(x, N.Point):
                out.append(N.Point(add(a.lo, x.pt)))
            else:
                out.append(N.Interval(add(a.lo, x.lo), add(a.lo, x.hi)))
        return base, tuple(out)

    def stride_of(self, arg, d: int):
        """The stride of dimension d of a call's buffer argument, in this block's terms."""
        if isinstance(arg, N.WindowExpr):
            base, accs = self.resolve_window(arg)
        elif arg.name in self.windows:
            base, accs = self.windows[arg.name]
        else:
            base, accs = arg.name, None
        k = d if accs is None else [j for j, a in enumerate(accs)
                                    if isinstance(a, N.Interval)][d]
        return N.StrideExpr(base, k, T.STRIDE, NO_SRC)

    def call(self, s: N.Call, ctx, iters):
        if self.coarse and self._call_windows(s, ctx, iters):
            return
        callee = s.f
        env, windows, strides = {}, {}, {}
        for param, arg in zip(callee.args, s.args):
            if param.type.is_control():
                self.exprs((arg,), ctx, iters)
                env[param.name] = self.now(arg)  # arguments are evaluated at the call
                continue
            if isinstance(arg, N.WindowExpr):  # its indices are control values, not reads
                self.exprs((arg,), ctx, iters)
                windows[param.name] = self.resolve_window(self.now(arg))
            elif isinstance(arg, N.Read) and arg.idx:  # a scalar param bound to x[i]
                self.exprs(arg.idx, ctx, iters)
                base, idx = self.to_base(arg.name, tuple(self.now(i) for i in arg.idx))
                windows[param.name] = (base, tuple(N.Point(i) for i in idx))
            elif isinstance(arg, N.Read):  # a whole buffer
                if arg.name in self.windows:
                    windows[param.name] = self.windows[arg.name]
                else:
                    env[param.name] = arg
            if param.type.is_tensor() and param.name in windows:
                # the callee's stride(param, d) is the caller's stride of the argument
                for d in range(len(param.type.shape())):
                    strides[(param.name, d)] = self.stride_of(arg, d)
        sub_ = _Collector(windows)
        sub_.block(callee.body, callee.preds, ())
        fresh = {}
        for a in sub_.out:
            if isinstance(a.buf, Sym) and a.buf in sub_.local:
                continue
            for it in a.iters:  # the same copies each time this call is analysed
                fresh.setdefault(it, _copy(it, s))

            def here(e, a=a):  # a callee expression in the caller's terms
                e = self.now(_rename(e, {i: fresh[i] for i in a.iters}))
                return _subst_strides(subst(e, env), strides)

            buf = a.buf
            if isinstance(buf, Sym) and buf in env:
                buf = env[buf].name
            self.out.append(Access(buf, tuple(here(i) for i in a.idx), a.kind,
                                   ctx + tuple(here(c) for c in a.ctx),
                                   iters + self.versions + tuple(fresh[i] for i in a.iters),
                                   s.srcinfo))
        self.age(_written_in((s,)), s)

    def _call_windows(self, s: N.Call, ctx, iters) -> bool:
        """A call as a bound of its accesses (False, adding nothing, where none is
        said): per buffer parameter it reads (writes, reduces into), one read (write,
        reduction) of some element of the window passed for it -- a callee reaches a
        buffer only through its parameter, inside its shape (proven: a procedure with a
        deferred error is not bounded, rewrite.common.coarse_accesses). Where the
        callee touches anything else (a config, a `static` buffer, a scalar parameter)
        or is passed a window's name, the exact accesses are needed."""
        callee = s.f
        inner, bounded = _callee_summary(callee.body)
        if not bounded and len(inner) < BOUND_FROM:  # (bounded: a call in it has more)
            return False
        params = {p.name: (p, a) for p, a in zip(callee.args, s.args)}
        kinds: dict = {}
        for a in inner:
            entry = params.get(a.buf) if isinstance(a.buf, Sym) else None
            if entry is None or not entry[0].type.is_tensor() \
                    or not isinstance(entry[1], N.WindowExpr):
                return False
            kinds.setdefault(a.buf, set()).add(a.kind)
        for p, arg in zip(callee.args, s.args):  # what the call evaluates, as `call`
            if p.type.is_control() or isinstance(arg, N.WindowExpr):
                self.exprs((arg,), ctx, iters)  # (a window's bounds are control values)
            elif isinstance(arg, N.Read) and arg.idx:  # x[i] for a scalar: i is evaluated
                self.exprs(arg.idx, ctx, iters)
        for name, ks in kinds.items():
            base, accs = self.resolve_window(self.now(params[name][1]))
            idx, where, fresh, v = [], [], [], name
            for w in accs:
                if isinstance(w, N.Point):
                    idx.append(w.pt)
                    continue
                v = _copy(v, s)  # one variable per dimension, the same at each check
                fresh.append(v)
                idx.append(var(v))
                where += [le(w.lo, var(v)), lt(var(v), w.hi)]
            for k in sorted(ks):
                self.out.append(Access(base, tuple(idx), k, ctx + tuple(where),
                                       iters + self.versions + tuple(fresh), s.srcinfo))
        self.age(_written_in((s,)), s)
        self.bounded = True
        return True


def _callee_summary(body: tuple) -> tuple[list[Access], bool]:
    """`coarse_accesses` of a callee's body, remembered per body: what `_call_windows`
    reads of a callee -- which buffers it touches, and how -- is the same in its coarse
    accesses as in its exact ones (a call bounded inside it touches the buffers of the
    windows it is passed, as it does), and the coarse ones are fewer: a one-thread GEMM
    kernel called on each thread's part of C has ~100,000 exact accesses (2.5 s to
    collect), a few hundred coarse ones. (In coarse mode no callee carries a deferred
    error: `rewrite.common.coarse_accesses`, `frontend.checks`.)"""
    hit = _summaries.get(id(body))
    if hit is None or hit[0] is not body:
        if len(_summaries) >= 1024:  # a bound: each entry keeps its body alive
            _summaries.clear()
        hit = _summaries[id(body)] = (body, coarse_accesses(body))
    acc, bounded = hit[1]
    return list(acc), bounded


_summaries: dict = {}  # id(callee body) -> (body, coarse_accesses(body))

# A callee with fewer accesses than this keeps them (`_call_windows`): their exact forms
# are mostly told apart by the fast prover, where a window's bound needs the solver (the
# GEMM schedule, knit.stdlib.gemm, 12 kernels: every call bounded 7.2 s CPU, 82 solver
# queries; from 16 accesses 7.0 s, 30 queries; from 64 12.7 s; none 29 s)
BOUND_FROM = 16

_copies: dict = {}
# the roles a copy plays in a query (owners for _copy)
_SIDE_X, _SIDE_Y, _RACE_1, _RACE_2 = "side x", "side y", "race 1", "race 2"


def _copy(sym: Sym, owner) -> Sym:
    """A copy of `sym` for `owner` (a statement, or a role such as one side of a
    comparison), the same one each time: renamed apart from everything else in a query,
    yet equal between two checks of the same code, so their queries are equal and the
    second is answered from memory (smt). A copy appears only in analysis formulas,
    never in a program."""
    key = (sym, id(owner))
    hit = _copies.get(key)
    if hit is not None and hit[0] is owner:
        return hit[1]
    if len(_copies) > 100_000:
        _copies.clear()
    out = sym.copy()
    _copies[key] = (owner, out)
    return out


def _truncating(s: N.Reduce) -> bool:
    """Whether `x += e` truncates at each step: x is integer data and e is typed float.
    An untyped literal (R) takes x's integer type (semantics.md#literal-type), so
    `x += 1` is an integer sum and commutes."""
    return not s.type.is_float() and s.rhs.type.is_float() and s.rhs.type != T.R


def _after(s) -> str:
    """' after line 12': names the value a config field has after statement s wrote it."""
    line = getattr(getattr(s, "srcinfo", None), "line", 0)
    return f" after line {line}" if line else "'"


def _before(s) -> str:
    line = getattr(getattr(s, "srcinfo", None), "line", 0)
    return f" before line {line}" if line else "'"


def _written_in(stmts) -> frozenset:
    return configs_written_in(tuple(stmts))


def _rename(e, m: dict):
    """e with each variable in `m` renamed to m[var], keeping the type of each read."""
    if not m:
        return e
    return map_expr(e, lambda x: x.with_(name=m[x.name])
                    if isinstance(x, N.Read) and not x.idx and x.name in m else x)


def _subst_strides(e, strides: dict):
    if not strides:
        return e
    return map_expr(e, lambda x: strides.get((x.name, x.dim), x)
                    if isinstance(x, N.StrideExpr) else x)


_accesses_memo: dict = {}


def one_per_program(mem) -> bool:
    hook = getattr(mem, "one_per_program", None)  # (Exo's memories have no such hook)
    return bool(hook and hook())


def accesses(stmts, windows: dict | None = None) -> list[Access]:
    """The accesses of a block, excluding those of buffers allocated inside it."""
    if windows or type(stmts) is not tuple:
        return _accesses(stmts, windows)
    # a block (an immutable tuple) outside windows: the same accesses every time, e.g.
    # for the race check of each par loop after each rewrite of the proc around it
    hit = _accesses_memo.get(id(stmts))
    if hit is None or hit[0] is not stmts:
        if len(_accesses_memo) > 10_000:
            _accesses_memo.clear()
        hit = _accesses_memo[id(stmts)] = (stmts, _accesses(stmts, None))
    return list(hit[1])


def coarse_accesses(stmts, windows: dict | None = None) -> tuple[list[Access], bool]:
    """(accesses, bounded): `accesses`, but each call of a callee with many accesses
    (BOUND_FROM) that can be bounded by the windows it is passed as those windows
    (`_Collector._call_windows`): fewer, coarser accesses, for a first, cheap race
    check (`race_free`); `bounded`, whether a call was (if not, they are the exact
    accesses)."""
    c = _Collector(windows, coarse=True)
    c.block(stmts, (), ())
    return _kept(c), c.bounded


def race_free(loop: N.For, facts, exact, coarse: tuple[list[Access], bool]) -> tuple | None:
    """`race` of `loop` by its body's `coarse` accesses (`coarse_accesses`) first,
    then, where some call was bounded and those may race, by the `exact()` ones: the
    callees' own accesses are compared only where the windows they are passed cannot
    tell the iterations apart (a par loop over calls of a large kernel, each on its
    own window: 5.3 s -> ~0.1 s a check)."""
    acc, bounded = coarse
    hit = race(loop, facts, acc)
    return race(loop, facts, exact()) if hit is not None and bounded else hit


def _accesses(stmts, windows: dict | None) -> list[Access]:
    c = _Collector(windows)
    c.block(stmts, (), ())
    return _kept(c)


def _kept(c: _Collector) -> list[Access]:
    """The collected accesses but those of buffers allocated in the block."""
    out = [a for a in c.out if not (isinstance(a.buf, Sym) and a.buf in c.local)]
    written = written_configs(c.out)
    return [replace(a, unstable=written) for a in out] if written else out


def resolve_window(windows: dict, w: N.WindowExpr):
    """A window expression as (underlying buffer, accesses in its coordinates), seeing
    through the windows in `windows`."""
    return _Collector(windows).resolve_window(w)


def race(loop: N.For, facts, acc):
    """A pair of accesses by two different iterations of `loop` (its body's accesses are
    `acc`, or its `coarse_accesses`: no pair among those, none among the exact ones,
    each of which lies within one of them) that may touch one location, one of them
    writing or reducing; None if the iterations are independent and may run in
    parallel."""
    # the answer depends on nothing but the loop's variable and bounds, the facts and
    # the accesses: a question asked again (parallelize_loop proves its loop free of
    # races, then the post-check of its result asks about the same loop; a rewrite
    # elsewhere rebuilds a par loop the post-check asks about again) is answered as
    # the first time. Only "independent" is remembered: a race is a refusal, whose
    # witness is built from a fresh answer. (IR nodes and accesses compare
    # structurally, variables as objects, positions not at all.)
    try:
        key = (loop.iter, loop.lo, loop.hi, tuple(facts), tuple(acc))
        if key in _race_free:
            return None
    except TypeError:  # a node holding an unhashable value: not remembered
        key = None
    i1, i2 = var(_copy(loop.iter, _RACE_1)), var(_copy(loop.iter, _RACE_2))
    rng = [le(loop.lo, i1), lt(i1, loop.hi), le(loop.lo, i2), lt(i2, loop.hi), lt(i1, i2)]
    hit = first_conflict(acc, acc, facts, ren_x={loop.iter: i1}, ren_y={loop.iter: i2},
                         relation=rng, reduces_commute=False)
    if hit is None and key is not None:
        if len(_race_free) >= 4096:  # a bound: each key keeps its expressions alive
            _race_free.clear()
        _race_free.add(key)
    return hit


_race_free: set = set()  # (iter, lo, hi, facts, accesses) of loops found independent


# ---------------------------------------------------------------- what holds at a statement


def windows_at(proc: N.Proc, path) -> dict:
    """Window bindings visible just before the statement at `path`. A config field the
    origin read and that was written since is a snapshot variable (see `_state_at`)."""
    return _state_at(proc, path)[1]


def context_facts(proc: N.Proc, path) -> list:
    """What holds at the statement at `path`: sizes >= 1, asserts, enclosing loop
    ranges and if-conditions.

    Each fact is about the values it was established with: a config field written
    after that (before the statement, or later in an enclosing loop's body, which an
    earlier iteration ran) is a snapshot variable standing for the old value, the same
    one the windows at `path` use."""
    return list(_state_at(proc, path)[0])


_state_cache: dict = {}


def _state_at(proc: N.Proc, path):
    key = (id(proc), tuple(path))
    hit = _state_cache.get(key)
    if hit is not None and hit[0] is proc:
        return hit[1]
    if len(_state_cache) > 256:
        _state_cache.clear()
    out = _walk_to(proc, path)
    _state_cache[key] = (proc, out)
    return out


def _walk_to(proc: N.Proc, path):
    facts = [_size_fact(a.name) for a in proc.args if a.type == T.SIZE]
    facts += list(proc.preds)
    # the config fields the facts and windows read: only their writes matter
    live = set().union(*(config_reads(f) for f in facts))
    c = _Collector()
    node = proc
    for k, (field, i) in enumerate(path):
        block = getattr(node, field)
        for s in block[:i]:
            if isinstance(s, N.WindowStmt):
                c.windows[s.name] = c.resolve_window(s.rhs)
                live |= config_reads(s.rhs)
            if live:
                facts = _snapshot(c, facts, _written_in((s,)) & live, s)
        if k == len(path) - 1:
            break
        node = block[i]
        if isinstance(node, N.For):
            facts += _range_facts(node)
            live |= config_reads(node.lo) | config_reads(node.hi)
            # an earlier iteration ran the whole body, writes after `path` included
            if live:
                facts = _snapshot(c, facts, _written_in(node.body) & live, node)
        elif isinstance(node, N.If):
            facts.append(node.cond if path[k + 1][0] == "body" else _negated(node.cond))
            live |= config_reads(node.cond)
    return tuple(facts), c.windows


# The facts a size, a loop or an `else` gives, built once per variable, bounds or
# condition object: the facts at a statement are then the same objects after every
# rewrite that kept the loops around it, and what is derived from them (their normal
# forms, and whether they contradict each other: see consistent) is remembered by them.
_fact_memo: dict = {}


def _remember_fact(kind: str, objs: tuple, make):
    """make(), remembered by the identity of the objects `objs` it is made of."""
    key = (kind, *map(id, objs))
    hit = _fact_memo.get(key)
    if hit is not None and all(map(operator.is_, hit[0], objs)):
        return hit[1]
    if len(_fact_memo) > 50_000:
        _fact_memo.clear()
    out = make()
    _fact_memo[key] = (objs, out)  # (the objects kept alive: their ids stay theirs)
    return out


def _size_fact(sym: Sym):
    return _remember_fact("size", (sym,), lambda: le(int_(1), shared_var(sym, T.SIZE)))


def _range_facts(loop: N.For) -> list:
    it, lo, hi = loop.iter, loop.lo, loop.hi
    return list(_remember_fact("range", (it, lo, hi), lambda: (le(lo, shared_var(it)),
                                                              lt(shared_var(it), hi))))


def _negated(cond):
    return _remember_fact("not", (cond,), lambda: not_(cond))


_consistent_memo: dict = {}


def consistent(facts) -> bool:
    """Whether `facts` (a sequence of bool expressions, e.g. context_facts) may all hold
    together: not proven contradictory. Remembered by the fact objects (immutable),
    which context_facts keeps from one rewrite to the next."""
    facts = tuple(facts)
    key = tuple(map(id, facts))
    hit = _consistent_memo.get(key)
    if hit is not None and all(map(operator.is_, hit[0], facts)):
        return hit[1]
    out = not prove(facts, N.Const(False, T.BOOL))
    if len(_consistent_memo) > 20_000:
        _consistent_memo.clear()
    _consistent_memo[key] = (facts, out)
    return out


def _snapshot(c: _Collector, facts: list, keys, where) -> list:
    """Facts and windows (in c) with the fields `keys` replaced by a snapshot variable of
    their old value: the statement `where` (may have) just written them."""
    if not keys:
        return facts
    snap = {}

    def old(x):
        if isinstance(x, N.ReadConfig) and (x.config, x.field) in keys:
            k = (x.config, x.field)
            if k not in snap:
                snap[k] = Sym(f"{x.config.name()}.{x.field}{_before(where)}")
            return var(snap[k], x.type)
        return x

    facts = [map_expr(f, old) if config_reads(f) & keys else f for f in facts]
    for w, (base, accs) in list(c.windows.items()):
        if any(config_reads(x) & keys for a in accs for x in _acc_exprs(a)):
            c.windows[w] = (base, tuple(_map_acc(a, old) for a in accs))
    return facts


def _acc_exprs(a):
    return (a.lo, a.hi) if isinstance(a, N.Interval) else (a.pt,)


def _map_acc(a, f):
    if isinstance(a, N.Interval):
        return N.Interval(map_expr(a.lo, f), map_expr(a.hi, f), a.srcinfo)
    return N.Point(map_expr(a.pt, f), a.srcinfo)


def config_reads(e) -> set:
    """The (config, field) pairs an expression reads."""
    if N.ReadConfig not in node_kinds(e):  # most read none: known without a walk
        return set()
    return {(x.config, x.field) for x in walk_expr(e) if isinstance(x, N.ReadConfig)}


def written_configs(acc) -> set:
    """The (config, field) pairs that some of the accesses write."""
    return {a.buf for a in acc if isinstance(a.buf, tuple) and a.kind != "r"}


# ---------------------------------------------------------------- queries


def conflicting(a: Access, b: Access, *, reduces_commute: bool = True,
                same_writes_commute: bool = False) -> bool:
    """Whether the kinds of a and b can conflict at all (same buffer, a write involved).
    With `same_writes_commute`, two writes of the same literal do not: either order
    leaves that value (for reordering checks; not for races, which C forbids)."""
    if a.buf != b.buf or (a.kind == "r" and b.kind == "r"):
        return False
    if same_writes_commute and a.kind == b.kind == "w" and a.value is not None and \
            _same_literal(a.value, b.value):
        return False
    return not (reduces_commute and a.kind == "+" and b.kind == "+")


def _literal(rhs):
    """The value a write of `rhs` stores when `rhs` is a literal (with its type, so 0
    and 0.0 stay apart), else None."""
    if isinstance(rhs, N.Const) and not isinstance(rhs.val, bool):
        return (str(rhs.type), repr(rhs.val))  # repr: -0.0 is not 0.0, nan is itself
    return None


def _same_literal(x, y) -> bool:
    return x is not None and y is not None and x == y


def first_conflict(xs, ys, facts, *, ren_x=None, ren_y=None, relation=(),
                   reduces_commute: bool = True, same_writes_commute: bool = False):
    """The first pair (x, y) of accesses that may touch the same location, or None.

    Loop variables bound inside each access are renamed apart; `ren_x`/`ren_y` rename
    further free variables of each side (e.g. the iterator of the loop being
    reordered), and `relation` (boolean expressions over the renamed variables) says
    which pairs of instances are compared. A config that xs or ys write has no single
    value over the analysed code, so each of its reads counts as an unknown of its own.

    Near-linear in the accesses (issue 9): the facts are built once, accesses are
    grouped by buffer, and each distinct pair of access *shapes* (kind, indices,
    conditions, bound variables) is proven once, for its first occurrence."""

    xs, ys = list(xs), list(ys)
    written = written_configs(xs + ys)
    for a in (*xs, *ys):
        written |= a.unstable
    base = Facts().add(*(_forget(f, written) for f in facts),
                       *(_forget(r, written) for r in relation))
    by_buf: dict = {}
    for y in _distinct(ys):
        by_buf.setdefault(y.buf, []).append(y)
    side_x, side_y = _Side(ren_x or {}, written, _SIDE_X), _Side(ren_y or {}, written, _SIDE_Y)
    for x in _distinct(xs):
        for y in by_buf.get(x.buf, ()):
            if not conflicting(x, y, reduces_commute=reduces_commute,
                               same_writes_commute=same_writes_commute):
                continue
            cx, ix = side_x.instance(x)
            cy, iy = side_y.instance(y)
            if ix is None or iy is None or len(ix) != len(iy):
                return Conflict(x, y)
            facts_xy = base.add(*cx, *cy)
            # two instances of one index, told apart by a digit (fastpath.distinct):
            # proven without the search for values or the solver
            if any(fastpath.distinct(facts_xy.table(), a, b) for a, b in zip(ix, iy)):
                continue
            goal = A.disj([A.disj([A.ge0((a - b).plus(-1)), A.ge0((b - a).plus(-1))])
                           for a, b in zip(ix, iy)]) if ix else A.FALSE
            if not prove(facts_xy, goal):
                return Conflict(x, y, facts_xy, goal, ix, iy, ren_x, ren_y)
    return None


class Conflict(tuple):
    """The pair (x, y) first_conflict found, with what a counterexample needs
    (rewrite/witness.py): the facts, the goal "x and y touch different locations" that
    could not be proven, each side's indices as linear forms and its renamings. The
    facts are None when the accesses are outside the integer fragment."""

    def __new__(cls, x, y, facts=None, goal=None, ix=None, iy=None, ren_x=None,
                ren_y=None):
        out = super().__new__(cls, (x, y))
        out.facts, out.goal, out.ix, out.iy = facts, goal, ix, iy
        out.ren_x, out.ren_y = ren_x or {}, ren_y or {}
        return out


def _distinct(acc) -> list:
    """The first access of each shape, in order (later ones conflict alike)."""
    seen: set = set()
    out = []
    for a in acc:
        key = (a.buf, a.kind, a.idx, a.ctx, a.iters, a.unstable, a.value)
        try:
            if key in seen:
                continue
            seen.add(key)
        except TypeError:  # a node holding an unhashable value: keep it, unshared
            pass
        out.append(a)
    return out


class _Side:
    """One side of a comparison: each access instance renamed apart once, as formulas
    (conditions) and linear forms (indices; None outside the integer fragment)."""

    def __init__(self, ren: dict, written: set, role: str):
        self.ren, self.written, self.role = ren, written, role
        self.memo: dict = {}
        # renamings of variables to variables are applied to the normal forms (which
        # are remembered per node) rather than to the expressions
        self.sym_ren = {k: v.name for k, v in ren.items()} \
            if all(isinstance(v, N.Read) and not v.idx for v in ren.values()) else None

    def instance(self, a: Access):
        out = self.memo.get(id(a))
        if out is None:
            if self.sym_ren is not None and not self.written:
                conds, lins = _instance_forms(a, self.sym_ren, self.role)
            else:
                conds, lins = _instance_exprs(a, self.ren, self.written, self.role)
            out = self.memo[id(a)] = (conds, lins, a)
        return out[0], out[1]


def _instance_forms(a: Access, ren: dict, role: str):
    m = dict(ren)
    m.update((s, _copy(s, role)) for s in a.iters)  # the access's own loops first
    conds = []
    for c in a.ctx:
        try:
            conds.append(A.rename_formula(A.formula_of(c), m))
        except A.NotAffine:
            pass  # knowing less is safe
    try:
        lins = tuple(A.rename_lin(A.lin_of(i), m) for i in a.idx)
    except A.NotAffine:
        lins = None
    return conds, lins


def _instance_exprs(a: Access, ren: dict, written: set, role: str):
    ctx, idx = _instance(a, ren, written, role)
    conds = []
    for c in ctx:
        try:
            conds.append(A.formula_of(c))
        except A.NotAffine:
            pass  # knowing less is safe
    try:
        lins = tuple(A.lin_of(i) for i in idx)
    except A.NotAffine:
        lins = None
    return conds, lins


def _instance(a: Access, ren: dict, written: set, role: str | None = None):
    """a's conditions and indices with its loop variables renamed to copies for `role`
    (fresh ones without a role) and then the free variables by `ren`."""
    m = {s: s.copy() if role is None else _copy(s, role) for s in a.iters}

    def inst(e):
        return _forget(subst(_rename(e, m), ren), written)

    return tuple(inst(c) for c in a.ctx), tuple(inst(i) for i in a.idx)


def _forget(e, written: set):
    """e with every read of a config in `written` replaced by a fresh unknown."""
    if not written or not config_reads(e) & written:
        return e

    def unknown(x):
        if isinstance(x, N.ReadConfig) and (x.config, x.field) in written:
            return var(Sym(f"{x.config.name()}_{x.field}"), x.type)
        return x

    return map_expr(e, unknown)


def writes(acc: list[Access]) -> list[Access]:
    return [a for a in acc if a.kind != "r"]


def reads(acc: list[Access]) -> list[Access]:
    return [a for a in acc if a.kind == "r"]
