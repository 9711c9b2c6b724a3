"""Effects: which locations a block of statements reads, writes and reduces into,
as symbolic accesses, and the queries that scheduling checks ask of them.

An `Access` is one syntactic access, in the coordinates of the underlying buffer
(windows are resolved), with the conditions under which it happens (`ctx`: the
loop ranges and if-conditions inside the analysed block) and the loop variables
bound inside the block (`iters`). Two accesses *conflict* when they may touch the
same location and at least one writes — except two reductions, which commute
(knit treats `+=` as associative and commutative, as Exo does).
Every question is decided by the solver; "unknown" is answered "may conflict".
"""

from __future__ import annotations

from dataclasses import dataclass

from knit.ir import nodes as N
from knit.ir import types as T
from knit.ir.srcinfo import NO_SRC
from knit.ir.sym import Sym
from knit.ir.visit import map_expr, subst, walk_expr

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
    iters: tuple
    srcinfo: object = NO_SRC

    def describe(self) -> str:
        from knit.ir.printer import expr_str

        verb = {"r": "reads", "w": "writes", "+": "reduces into"}[self.kind]
        if isinstance(self.buf, tuple):
            return f"{verb} {self.buf[0].name()}.{self.buf[1]}"
        idx = f"[{', '.join(expr_str(i) for i in self.idx)}]" if self.idx else ""
        return f"{verb} {self.buf.name}{idx}"


class _Collector:
    def __init__(self, windows: dict | None = None):
        # window sym -> (base buffer, tuple of Interval/Point in base coordinates)
        self.windows = dict(windows or {})
        self.local: set[Sym] = set()  # buffers allocated inside the block
        self.out: list[Access] = []

    def block(self, stmts, ctx: tuple, iters: tuple):
        for s in stmts:
            self.stmt(s, ctx, iters)

    def stmt(self, s, ctx, iters):
        match s:
            case N.Assign() | N.Reduce():
                self.exprs(s.idx, ctx, iters)
                self.exprs((s.rhs,), ctx, iters)
                kind = "w" if isinstance(s, N.Assign) else "+"
                self.add(s.name, s.idx, kind, ctx, iters, s.srcinfo)
            case N.WriteConfig():
                self.exprs((s.rhs,), ctx, iters)
                self.out.append(Access((s.config, s.field), (), "w", ctx, iters, s.srcinfo))
            case N.If():
                self.exprs((s.cond,), ctx, iters)
                self.block(s.body, ctx + (s.cond,), iters)
                self.block(s.orelse, ctx + (not_(s.cond),), iters)
            case N.For():
                self.exprs((s.lo, s.hi), ctx, iters)
                rng = (le(s.lo, var(s.iter)), lt(var(s.iter), s.hi))
                self.block(s.body, ctx + rng, iters + (s.iter,))
            case N.Alloc():
                self.local.add(s.name)
            case N.WindowStmt():
                self.windows[s.name] = self.resolve_window(s.rhs)
            case N.Call():
                self.call(s, ctx, iters)

    def exprs(self, es, ctx, iters):
        for e in es:
            for x in walk_expr(e):
                if isinstance(x, N.Read) and x.type.is_real():
                    self.add(x.name, x.idx, "r", ctx, iters, x.srcinfo)
                elif isinstance(x, N.ReadConfig):
                    self.out.append(Access((x.config, x.field), (), "r", ctx, iters, x.srcinfo))

    def add(self, name, idx, kind, ctx, iters, srcinfo):
        buf, idx = self.to_base(name, tuple(idx))
        self.out.append(Access(buf, idx, kind, ctx, iters, srcinfo))

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

    def call(self, s: N.Call, ctx, iters):
        callee = s.f
        env, windows = {}, {}
        for param, arg in zip(callee.args, s.args):
            if param.type.is_control():
                env[param.name] = arg
                self.exprs((arg,), ctx, iters)
            elif isinstance(arg, N.WindowExpr):  # its indices are control values, not reads
                windows[param.name] = self.resolve_window(arg)
            elif isinstance(arg, N.Read) and arg.idx:  # a scalar param bound to x[i]
                base, idx = self.to_base(arg.name, arg.idx)
                windows[param.name] = (base, tuple(N.Point(i) for i in idx))
            elif isinstance(arg, N.Read):  # a whole buffer
                if arg.name in self.windows:
                    windows[param.name] = self.windows[arg.name]
                else:
                    env[param.name] = arg
        sub_ = _Collector(windows)
        fresh = {}
        body = callee.body
        sub_.block(body, tuple(subst(p, env) for p in callee.preds), ())
        for a in sub_.out:
            if isinstance(a.buf, Sym) and a.buf in sub_.local:
                continue
            for it in a.iters:
                fresh.setdefault(it, var(it.copy()))
            m = {**env, **fresh}
            buf = a.buf
            if isinstance(buf, Sym) and buf in env:
                buf = env[buf].name
            self.out.append(Access(buf, tuple(subst(i, m) for i in a.idx), a.kind,
                                   ctx + tuple(subst(c, m) for c in a.ctx),
                                   iters + tuple(fresh[i].name for i in a.iters), s.srcinfo))


def accesses(stmts, windows: dict | None = None) -> list[Access]:
    """The accesses of a block, excluding those of buffers allocated inside it."""
    c = _Collector(windows)
    c.block(stmts, (), ())
    return [a for a in c.out if not (isinstance(a.buf, Sym) and a.buf in c.local)]


def resolve_window(windows: dict, w: N.WindowExpr):
    """A window expression as (underlying buffer, accesses in its coordinates), seeing
    through the windows in `windows`."""
    return _Collector(windows).resolve_window(w)


def race(loop: N.For, facts, acc):
    """A pair of accesses by two different iterations of `loop` (its body's accesses are
    `acc`) that may touch one location, one of them writing or reducing; None if the
    iterations are independent and may run in parallel."""
    i1, i2 = var(loop.iter.copy()), var(loop.iter.copy())
    rng = [le(loop.lo, i1), lt(i1, loop.hi), le(loop.lo, i2), lt(i2, loop.hi), lt(i1, i2)]
    return first_conflict(acc, acc, facts, ren_x={loop.iter: i1}, ren_y={loop.iter: i2},
                          relation=rng, reduces_commute=False)


def windows_at(proc: N.Proc, path) -> dict:
    """Window bindings visible just before the statement at `path`."""
    c = _Collector()
    node = proc
    for field, i in path:
        block = getattr(node, field)
        for s in block[:i]:
            if isinstance(s, N.WindowStmt):
                c.windows[s.name] = c.resolve_window(s.rhs)
        node = block[i]
    return c.windows


def context_facts(proc: N.Proc, path) -> list:
    """What holds at the statement at `path`: sizes >= 1, asserts, enclosing loop
    ranges and if-conditions.

    A fact that reads a config is kept only when nothing in its scope writes that
    config (the proc for asserts, the loop or if for its range or condition): a config
    written after the fact was established may no longer satisfy it."""
    facts = [le(int_(1), var(a.name, T.SIZE)) for a in proc.args if a.type == T.SIZE]
    facts += _stable(list(proc.preds), proc.body)
    node = proc
    for k, (field, i) in enumerate(path[:-1]):
        node = getattr(node, field)[i]
        nxt_field = path[k + 1][0]
        if isinstance(node, N.For):
            facts += _stable([le(node.lo, var(node.iter)), lt(var(node.iter), node.hi)],
                             node.body)
        elif isinstance(node, N.If):
            fact = node.cond if nxt_field == "body" else not_(node.cond)
            facts += _stable([fact], node.body + node.orelse)
    return facts


def _stable(facts: list, scope) -> list:
    """The facts that read no config written in the statements `scope`."""
    if not any(config_reads(f) for f in facts):
        return facts
    written = written_configs(accesses(scope))
    return [f for f in facts if not config_reads(f) & written]


def config_reads(e) -> set:
    """The (config, field) pairs an expression reads."""
    return {(x.config, x.field) for x in walk_expr(e) if isinstance(x, N.ReadConfig)}


def written_configs(acc) -> set:
    """The (config, field) pairs that some of the accesses write."""
    return {a.buf for a in acc if isinstance(a.buf, tuple) and a.kind != "r"}


# ---------------------------------------------------------------- queries


def conflicting(a: Access, b: Access, *, reduces_commute: bool = True) -> bool:
    """Whether the kinds of a and b can conflict at all (same buffer, a write involved)."""
    if a.buf != b.buf or (a.kind == "r" and b.kind == "r"):
        return False
    return not (reduces_commute and a.kind == "+" and b.kind == "+")


def first_conflict(xs, ys, facts, *, ren_x=None, ren_y=None, relation=(),
                   reduces_commute: bool = True):
    """The first pair (x, y) of accesses that may touch the same location, or None.

    Loop variables bound inside each access are renamed apart; `ren_x`/`ren_y` rename
    further free variables of each side (e.g. the iterator of the loop being
    reordered), and `relation` (boolean expressions over the renamed variables) says
    which pairs of instances are compared. A config that xs or ys write has no single
    value over the analysed code, so each of its reads counts as an unknown of its own."""
    from knit.analysis.smt import prove

    written = written_configs(list(xs) + list(ys))
    facts = [_forget(f, written) for f in facts]
    relation = [_forget(r, written) for r in relation]
    for x in xs:
        for y in ys:
            if not conflicting(x, y, reduces_commute=reduces_commute):
                continue
            cx, ix = _instance(x, ren_x or {}, written)
            cy, iy = _instance(y, ren_y or {}, written)
            if len(ix) != len(iy):
                return x, y
            hyps = facts + list(cx) + list(cy) + relation
            goal = or_(*[ne(a, b) for a, b in zip(ix, iy)]) if ix else \
                N.Const(False, T.BOOL, NO_SRC)
            if not prove(hyps, goal):
                return x, y
    return None


def _instance(a: Access, ren: dict, written: set):
    m = {s: var(s.copy()) for s in a.iters}
    m.update(ren)
    return (tuple(_forget(subst(c, m), written) for c in a.ctx),
            tuple(_forget(subst(i, m), written) for i in a.idx))


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
