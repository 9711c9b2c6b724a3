"""Static checks run when a procedure is defined (Procedure calls `check_proc`).

One walk over the body carries the facts in scope at each statement: every size
argument is >= 1, the proc's asserts, the ranges of the enclosing loops and the
conditions of the enclosing ifs (negated in else branches). Against those facts:

- bounds of every access, window and tensor dimension  (boundscheck.py, BoundsError)
- call sites: sizes, shapes, callee asserts, aliasing  (callcheck.py)
- (memories only instructions may touch: checked where C is generated, as in Exo)
- `par` loops nested in `par` loops                    (here, KnitSyntaxError)
- `par` loops whose iterations may race                (here, RaceError)

Some of these Exo makes only when it compiles (a racing `par` loop, a call argument
of another precision than its parameter's), or never (an access through a window
statement outside the window, a window statement outside its buffer): with `defer=True` (a procedure's definition) such an error is recorded
against the procedure, not raised, and `raise_deferred` raises it wherever the program
would be given a meaning -- compiled, run by the interpreter, turned into C, run by a
refusal's witness -- for the procedure itself, any procedure derived from it by
scheduling, and any caller (a callee's error is found by following the calls). So the
definition is accepted as in Exo, and no program without a meaning ever runs.

Instructions are checked on first use: when a call to one is checked, or when
their Procedure first runs. Config fields are variables that statements change:
a write `Cfg.f = e` turns the facts about Cfg.f into facts about its old value (a
fresh variable) and learns Cfg.f == e, and a loop does so, on entry, for what its
body (or a callee) may write. After an if, or a loop, that writes configs, the facts are
those both paths establish (a branch that cannot run adds nothing), plus each path's
own facts conditioned on taking it; a loop also keeps what its first iteration
establishes and every iteration preserves (induction). An expression is evaluated where it stands
(docs/semantics.md): an allocation's shape and a window's bounds read a config once,
so the buffer's shape is a fresh variable equal to the field's value there, and a
loop's range facts are about the bounds' values at entry.
"""

from __future__ import annotations

import warnings

from knit.analysis import affine as A, effects as E, exprs as X, smt
from knit.analysis.affine import FALSE, TRUE, CfgField, NotAffine, rename_formula
from knit.analysis.written import configs_written_in, written_configs
from knit.errors import (
    BoundsError,
    KnitError,
    KnitSyntaxError,
    KnitTypeError,
    PreconditionError,
    RaceError,
    RefusedLaterWarning,
)
from knit.frontend import boundscheck as B
from knit.frontend.callcheck import check_call
from knit.frontend.configdeps import check_config_writes
from knit.frontend.scope import Scope
from knit.ir import nodes as N, types as T
from knit.ir.sym import Sym
from knit.ir.visit import map_expr, map_type, stmt_exprs, walk_expr, walk_stmts

# Procs (by identity) that passed; lets a call skip re-checking its callee.
_checked: set = set()

# id(proc) -> (proc, the first deferred error of its definition): procs accepted with
# an error that refuses them where they would be given a meaning (see the docstring).
# The proc is held so that its id is not reused; there are few (erroneous programs).
_deferred: dict[int, tuple] = {}


def deferred_error(proc: N.Proc) -> KnitError | None:
    """The deferred error of `proc` or of a procedure it calls (directly or not), if any."""
    if not _deferred:
        return None
    seen, todo = set(), [proc]
    while todo:
        p = todo.pop()
        if id(p) in seen:
            continue
        seen.add(id(p))
        hit = _deferred.get(id(p))
        if hit is not None and hit[0] is p:
            return hit[1]
        todo.extend(_callees(p.body))
    return None


def _callees(stmts):
    for s in stmts:
        if isinstance(s, N.Call):
            yield s.f
        elif isinstance(s, N.For):
            yield from _callees(s.body)
        elif isinstance(s, N.If):
            yield from _callees(s.body)
            yield from _callees(s.orelse)


def defer_like(new: N.Proc, old: N.Proc) -> None:
    """`new` (made by scheduling `old`) carries the deferred error of `old` or of its
    callees: a rewrite of a program without a meaning has none either, whatever the
    rewrite (whose checks assumed a meaning) left of the error."""
    err = deferred_error(old)
    if err is not None:
        _deferred[id(new)] = (new, err)


def raise_deferred(proc: N.Proc) -> None:
    """Refuse to give `proc` a meaning if it, or a procedure it calls, was defined with a
    deferred error: raise that error (file:line:col of the offending code)."""
    err = deferred_error(proc)
    if err is not None:
        raise err.with_traceback(None)


def _join(a: smt.Facts, b: smt.Facts) -> smt.Facts:
    """The facts that hold after one of two paths: those of each that the other
    establishes too (the same formula, or one that follows from the other's facts)."""
    return smt.Facts().add(*(f for f in a.formulas() if f in b or smt.prove(b, f)),
                           *(f for f in b.formulas() if f not in a and smt.prove(a, f)))


def _merge(cond, a: smt.Facts, b: smt.Facts) -> smt.Facts:
    """The facts after `if cond: (path ending with facts a) else: (path ending with
    facts b)`: those both establish, and each one only a path establishes, conditioned on
    taking that path (`not cond or f`), so that a later statement that runs exactly when
    one of the paths did (the parts of a divided loop) can use them. cond None: unknown,
    only the common facts."""
    out = _join(a, b)
    if cond is None:
        return out
    return out.add(*(A.disj([A.negate(cond), f]) for f in a.formulas() if f not in out),
                   *(A.disj([cond, f]) for f in b.formulas() if f not in out))


def _written_below(body) -> bool:
    """Whether `body` writes a config other than by a statement `Cfg.f = e` of its own
    (inside an if, a loop or a call): only then may the first iteration know more of
    it than the last one."""
    return bool(configs_written_in(tuple(s for s in body if not isinstance(s, N.WriteConfig))))


def _unreachable(facts: smt.Facts) -> bool:
    """Whether `facts` contradict each other: the code they guard never runs."""
    return smt.prove(facts, FALSE)


def check_proc(proc: N.Proc, *, memories: bool = True, only=None,
               defer: bool = False, written: bool = False) -> None:
    """Check `proc` and raise the first KnitError found; a no-op once it passed.

    defer=True (a definition): an error of the kinds Exo reports only when it compiles
    is recorded (see raise_deferred) and the check goes on; the others are raised.

    memories=False skips the memory-access check: scheduling passes through states
    where plain code still touches registers, until `replace` maps it onto instrs;
    that check runs again when the procedure is compiled or run.

    `only` (a set of statement ids) checks those statements alone, each under the
    same facts the whole check would give it: the walk still gathers the facts of
    every statement, but makes no check (no solver query for bounds, shapes or a
    callee's asserts) of the others. For a rewrite that made those statements and
    kept the rest (see rewrite/subprocs.check_call_sites): `only` must then hold every
    statement object the rewrite made, the loops and ifs rebuilt around the new ones
    included; a loop or if outside `only`, holding no statement of it and writing no
    config, is skipped whole.

    written=True (a procedure the user wrote, at its @proc definition) also makes
    Exo's definition-time rule on loops: every range must be provably non-negative
    (boundscheck.check_range), and the values it writes into configs must not depend
    on loop iterations (configdeps.py). Rewrites' results are not held to these: an
    empty range they make runs zero times (docs/semantics.md#loop-range)."""
    if proc in _checked:
        return
    checker = _Checker(proc)
    checker.plain = checker.plain and memories
    checker.only = only
    checker.defer = defer
    checker.written = written
    if written:
        check_config_writes(proc)
    checker.run()
    if checker.deferred is not None:
        if _deferred.get(id(proc), (None,))[0] is not proc:  # said once per procedure
            where = proc.srcinfo  # the warning points at the definition
            warnings.warn_explicit(RefusedLaterWarning(
                f"{proc.name} is defined, but will not be compiled or run: "
                f"{checker.deferred}"), RefusedLaterWarning,
                where.filename or "<knit>", where.line or 0)
        _deferred[id(proc)] = (proc, checker.deferred)
    elif memories:
        _checked.add(proc)


def _by_element_only(f: N.Proc, param: Sym) -> bool:
    """Whether `f` uses the buffer parameter `param` only element by element: no window
    of it, and not passed whole to another call (whose windows of it are not checked
    against the caller's buffer)."""
    for s in walk_stmts(f.body):
        for e in stmt_exprs(s):
            for x in walk_expr(e):
                if isinstance(x, N.WindowExpr) and x.name == param:
                    return False
        if isinstance(s, N.Call) and any(isinstance(a, N.Read) and a.name == param
                                         and not a.idx for a in s.args):
            return False
    return True


def _touches(f: N.Proc, param: Sym) -> bool:
    """Whether the body of `f` reads, writes or reduces into an element of `param`."""
    for s in walk_stmts(f.body):
        if isinstance(s, N.Assign | N.Reduce) and s.name == param:
            return True
        if any(isinstance(x, N.Read) and x.name == param
               for e in stmt_exprs(s) for x in walk_expr(e)):
            return True
    return False


class _Checker:
    def __init__(self, proc: N.Proc):
        self.proc = proc
        self.plain = proc.instr is None  # instruction bodies may touch any memory
        self.scope = Scope()
        self.writes_configs = bool(written_configs(proc))
        self.windows: dict = {}  # window -> (buffer, accesses), for the race check
        # walking a loop body again only for its facts (`invariant`): no checks, which
        # the first walk made under weaker facts, and no invariants of inner loops
        self.replaying = False
        self.only = None  # ids of the statements to check; None: all
        self.defer = False  # record (not raise) the errors Exo makes only at compile
        self.deferred: KnitError | None = None  # the first one recorded
        self.written = False  # a user's definition: loop ranges must be non-negative

    def later(self, err: KnitError) -> None:
        """An error Exo reports only when the program is compiled (or never): raised
        now, or with `defer` kept for raise_deferred (the first one)."""
        if not self.defer:
            raise err
        if self.deferred is None:
            self.deferred = err

    def quiet(self, s: N.Stmt) -> bool:
        """Whether to walk `s` for its facts only, checking nothing of its own."""
        return self.replaying or (self.only is not None and id(s) not in self.only)

    def run(self) -> None:
        facts = smt.Facts()
        for a in self.proc.args:
            if a.type == T.SIZE:
                facts = facts.add(X.cmp(">=", X.shared_var(a.name, T.SIZE), X.const(1)))
            elif not a.type.is_control():
                self.scope.declare(a.name, a.type, a.mem)
        facts = self.add(facts, *self.proc.preds)
        if self.defer and self.proc.preds and _unreachable(facts):
            # a procedure no call can run is a mistake in its asserts (e.g. a stride a
            # dense tensor does not have): say so where it is written, as Exo does
            raise KnitTypeError(self.proc.preds[0].srcinfo,
                                f"the asserts of '{self.proc.name}' are always "
                                "unsatisfiable (with the sizes >= 1 and the tensors' "
                                "strides): no call could run it",
                                "fix or remove the assert that cannot hold")
        for a in self.proc.args:
            if a.type.is_tensor():
                B.check_dims(a.name.name, a.type, facts, a.srcinfo)
        self.block(self.proc.body, facts, in_par=False)

    def add(self, facts: smt.Facts, *conds) -> smt.Facts:
        """`facts` and `conds` (bool Exprs or formulas)."""
        conds = [c if isinstance(c, tuple) else self.scope.resolve_strides(c) for c in conds]
        return facts.add(*conds)

    def forget(self, facts: smt.Facts, stmts) -> smt.Facts:
        """`facts` with the config fields that `stmts` may write renamed to fresh
        variables: what was known of them holds of their old values."""
        if not self.writes_configs:
            return facts
        fields = {CfgField(c, f) for c, f in configs_written_in(stmts)}
        if not fields or len(facts.without(fields.__contains__)) == len(facts):
            return facts
        old = {f: Sym(f"{f.config.name()}.{f.field}") for f in fields}
        return smt.Facts().add(*(rename_formula(f, old) for f in facts.formulas()))

    def at_entry(self, facts: smt.Facts, s: N.Stmt) -> smt.Facts:
        """`facts` restated before the branches or iterations of `s`: what they say of a
        config field that `s` may write becomes a fact about a variable naming its value
        here, equal to the field. The same, but the paths through `s` then forget the
        field, not that value: facts of both paths about it (e.g. the size of a buffer
        allocated with it) stay the same formulas, which `_join` keeps."""
        if not self.writes_configs:
            return facts
        fields = {CfgField(c, f) for c, f in configs_written_in((s,))}
        fields = {f for f in fields if len(facts.without({f}.__contains__)) < len(facts)}
        if not fields:
            return facts
        line = f" before line {s.srcinfo.line}" if s.srcinfo.line else "'"
        old = {f: Sym(f"{f.config.name()}.{f.field}{line}") for f in fields}
        out = smt.Facts().add(*(rename_formula(f, old) for f in facts.formulas()))
        for f, v in old.items():
            typ = f.config.lookup_type(f.field)
            if typ.is_control() and typ != T.BOOL:
                out = out.add(X.cmp("==", N.ReadConfig(f.config, f.field, typ), X.var(v, typ)))
        return out

    def evaluated(self, facts: smt.Facts, exprs):
        """(f, facts): f maps an expression reading config fields among `exprs` to one
        reading fresh variables, equal in `facts` to the fields' values now, so that
        what is evaluated here keeps that value when the fields change later."""
        snap = {}
        for e in exprs:
            for x in walk_expr(e):
                if isinstance(x, N.ReadConfig) and (x.config, x.field) not in snap:
                    line = f" (line {x.srcinfo.line})" if x.srcinfo.line else ""
                    v = N.Read(Sym(f"{x.config.name()}.{x.field}{line}"), (), x.type,
                               x.srcinfo)
                    snap[(x.config, x.field)] = v
                    if x.type.is_control() and x.type != T.BOOL:
                        facts = facts.add(X.cmp("==", v, x))
        if not snap:
            return None, facts

        def f(e):
            return map_expr(e, lambda x: snap.get((x.config, x.field), x)
                            if isinstance(x, N.ReadConfig) else x)

        return f, facts

    def negation(self, cond: N.Expr):
        try:
            return smt.neg(self.scope.resolve_strides(cond))
        except NotAffine:
            return TRUE  # a condition we cannot reason about gives no fact

    # ------------------------------------------------------------ statements

    def block(self, stmts, facts: smt.Facts, in_par: bool) -> smt.Facts:
        """Check `stmts` under `facts`; return the facts that hold after them."""
        for s in stmts:
            facts = self.stmt(s, facts, in_par)
        return facts

    def body(self, stmts, facts: smt.Facts, in_par: bool) -> smt.Facts:
        """Check a loop's or a branch's body. A body that never runs (its facts contradict
        each other, e.g. `for i in seq(2, 2)`) is checked with the contradiction made
        explicit: a proof about an access sends the solver only the facts that share its
        variables, so `A[Cfg.k, 0]` in that loop would not see that `2 <= i < 2` (nor a
        loop range there, boundscheck.check_range's KnitTypeError, its bounds: `if n < 0:`
        for a size; a type error that needs no proof is raised again by the retry)."""
        deferred = self.deferred
        try:
            return self.block(stmts, facts, in_par)
        except (BoundsError, PreconditionError, KnitTypeError):
            if not _unreachable(facts):
                raise
            self.deferred = deferred  # what the failed pass recorded, the retry records
            return self.block(stmts, facts.add(FALSE), in_par)

    def stmt(self, s: N.Stmt, facts: smt.Facts, in_par: bool) -> smt.Facts:
        """Check `s` under `facts`; return the facts that still hold after it."""
        if self.only is not None and isinstance(s, N.For | N.If) and id(s) not in self.only \
                and not (self.writes_configs and configs_written_in((s,))):
            # a statement kept from before holds only kept ones (a made one would have
            # rebuilt it): nothing in it to check, and writing no config, it leaves the
            # facts as they were (what it declares is visible inside it alone)
            return facts
        match s:
            case N.Assign(name, _, idx, rhs) | N.Reduce(name, _, idx, rhs) \
                    if not self.quiet(s):
                target = N.Read(name, idx, s.type, s.srcinfo)
                self.access(target, "write to" if isinstance(s, N.Assign) else
                            "reduce into", facts)
                self.expr(rhs, facts)
            case N.WriteConfig(rhs=rhs):
                if not self.quiet(s):
                    self.expr(rhs, facts)
                return self.write_config(s, facts)
            case N.If(cond, body, orelse):
                facts = self.at_entry(facts, s)
                into_then = self.add(facts, cond)
                into_other = self.add(facts, self.negation(cond))
                then = self.body(body, into_then, in_par)
                other = self.body(orelse, into_other, in_par) if orelse else into_other
                if self.writes_configs and configs_written_in((s,)):
                    # what holds after either branch; a branch that cannot run (e.g. the
                    # else of `if i == 0` in the first iteration) adds nothing
                    if _unreachable(into_then):
                        return other
                    if _unreachable(into_other):
                        return then
                    return _merge(self.guard(cond, (s,)), then, other)
            case N.For():
                facts = self.at_entry(facts, s)
                after = self.for_(s, facts, in_par)
                if after is not None:
                    return after
            case N.Alloc(name, typ, mem):
                if not self.quiet(s):
                    B.check_dims(name.name, typ, facts, s.srcinfo)
                at_alloc, facts = self.evaluated(facts, typ.shape())
                if at_alloc is not None:  # the buffer keeps the size it was allocated with
                    typ = map_type(typ, at_alloc)
                self.scope.declare(name, typ, mem)
            case N.Call():
                if not self.quiet(s):
                    self.call(s, facts)
                if self.writes_configs and written_configs(s.f):
                    return self.after_call(s, facts)
            case N.WindowStmt(name, rhs):
                if not self.quiet(s):
                    try:  # Exo does not check a window statement's bounds
                        self.window(rhs, facts)
                    except BoundsError as e:
                        self.later(e)
                at_window, facts = self.evaluated(facts, (rhs, *rhs.type.shape()))
                if at_window is not None:  # the window keeps the origin it was made with
                    rhs = at_window(rhs).with_(type=map_type(rhs.type, at_window))
                self.scope.declare_view(name, rhs)
                self.windows[name] = E.resolve_window(self.windows, rhs)
        return self.forget(facts, (s,))

    def write_config(self, s: N.WriteConfig, facts: smt.Facts) -> smt.Facts:
        """The facts after `Cfg.f = e`: the old ones about Cfg.f, of its old value, and
        Cfg.f == e."""
        after = self.forget(facts, (s,))
        if s.rhs.type.is_control() and s.rhs.type != T.BOOL:
            field = N.ReadConfig(s.config, s.field, s.rhs.type)
            rhs = self.scope.resolve_strides(s.rhs)
            if CfgField(s.config, s.field) not in X.control_vars(rhs):
                after = after.add(X.cmp("==", field, rhs))
        return after

    def for_(self, s: N.For, facts: smt.Facts, in_par: bool) -> smt.Facts | None:
        """Check a loop; the facts after it when they are better than forgetting what
        its body writes, else None."""
        if s.mode == "par" and in_par:
            raise KnitSyntaxError(s.srcinfo, f"the par loop over '{s.iter.name}' is nested "
                                  "inside another par loop",
                                  "only one level of par loops is supported; make this "
                                  "loop seq")
        if self.written and not self.quiet(s):
            B.check_range(s, facts)
        if s.mode == "par" and self.plain and not self.quiet(s):
            self.check_race(s, facts)
        i = X.shared_var(s.iter)
        # what one iteration writes, the next sees: forget it, bounds included
        inner = self.add(facts, X.cmp("<=", s.lo, i), X.cmp("<", i, s.hi))
        inner = self.forget(inner, s.body)
        end = self.body(s.body, inner, in_par or s.mode == "par")
        # a loop that surely runs leaves the configs as its last iteration does (what
        # holds at the end of every iteration); the facts about i hold of that one. One
        # that may not run leaves what holds both then and before it.
        if s.mode == "seq" and self.writes_configs and configs_written_in(s.body):
            if not self.replaying and _written_below(s.body):
                end = end.add(*self.invariant(s, facts, inner, in_par))
            runs = X.cmp("<", s.lo, s.hi)
            if smt.prove(facts, runs):
                return end
            return _merge(self.guard(runs, s.body), end.without({s.iter}.__contains__), facts)
        return None

    def guard(self, cond: N.Expr, stmts):
        """The formula of `cond`, evaluated before `stmts` ran, to state facts after them
        (`cond or ...`); None if they may change it (it reads a config they write) or it
        is outside the integer fragment."""
        if E.config_reads(cond) & configs_written_in(tuple(stmts)):
            return None
        try:
            return smt.formula(self.scope.resolve_strides(cond))
        except NotAffine:
            return None

    def invariant(self, s: N.For, facts: smt.Facts, inner: smt.Facts, in_par: bool):
        """Facts about configs that hold after every iteration of the loop `s` (which
        surely runs), by induction: those the first iteration establishes that every
        iteration keeps. E.g. `for a in seq(0, N): if a == 0: Cfg.k = 2` (add_loop with
        guard=True) leaves Cfg.k == 2, which the last iteration alone does not show.
        The extra walks only gather facts: they are under stronger facts than the
        checked walk, so they would find no new error (if one raises, nothing is
        learned), and they compute no invariant of inner loops (so the cost stays
        linear in the nesting depth)."""
        i = X.shared_var(s.iter)
        mine = {s.iter}.__contains__
        self.replaying = True
        try:
            first = self.add(facts, X.cmp("==", i, s.lo), X.cmp("<", i, s.hi))
            cands = self.block(s.body, first, in_par).without(mine).formulas()
            for _ in range(3):  # each round drops a fact some iteration may not keep
                if not cands:
                    break
                end = self.block(s.body, self.add(inner, *cands), in_par)
                kept = [f for f in cands if smt.prove(end, f)]
                if len(kept) == len(cands):
                    return cands
                cands = kept
        except KnitError:
            pass
        finally:
            self.replaying = False
        return []

    def check_race(self, s: N.For, facts: smt.Facts) -> None:
        """Iterations of a par loop run at once: none may write or reduce into a location
        another iteration touches (the same proof parallelize_loop makes: each call of a
        large callee first bounded by the windows it is passed, `E.race_free`, unless a
        callee carries a deferred error, whose accesses its windows may not bound)."""
        def exact():
            return E.accesses(s.body, self.windows)

        if any(deferred_error(f) is not None for f in _callees(s.body)):
            accesses = exact()  # (collected once: race_free may ask for them again)
            exact, coarse = (lambda: accesses), (accesses, False)
        else:
            coarse = E.coarse_accesses(s.body, self.windows)
        hit = E.race_free(s, list(facts.formulas()), exact, coarse)
        if hit:  # Exo refuses it when it compiles the loop
            self.later(RaceError(s.srcinfo, f"iterations of the par loop over "
                                 f"'{s.iter.name}' may race: one {hit[0].describe()} and "
                                 f"another {hit[1].describe()}",
                                 "make the loop seq, or give each iteration its own "
                                 "locations"))

    def call(self, s: N.Call, facts: smt.Facts) -> None:
        if s.f.instr is not None:  # instrs are checked lazily: on their first call
            check_proc(s.f, defer=self.defer)  # its deferred error: found through the call
        for param, arg in zip(s.f.args, s.args):
            if not param.type.is_control() and not T.holds(param.type.basetype(),
                                                      arg.type.basetype()):
                # Exo refuses it when it compiles ("precision checking")
                self.later(KnitTypeError(arg.srcinfo, f"argument '{param.name.name}' of "
                                         f"{s.f.name} holds {param.type.basetype()}, got "
                                         f"{arg.type.basetype()} data"))
        for arg in s.args:
            if isinstance(arg, N.WindowExpr):
                self.window_arg(s, arg, facts)
            elif isinstance(arg, N.Read) and arg.idx:
                B.check_access(arg, arg.idx, self.scope.shape(arg.name), facts)
        check_call(s, facts, self.scope)

    def after_call(self, s: N.Call, facts: smt.Facts) -> smt.Facts:
        """The facts after a call that writes configs: forgotten what it may write, then
        learned `Cfg.f == e` for each field the callee's body sets last, at its top level,
        to a control expression of its size/index parameters (e.g. a subproc extracted
        from `Cfg.n = N`): the value does not depend on the path taken through the
        callee."""
        after = self.forget(facts, (s,))
        params = {a.name: v for a, v in zip(s.f.args, s.args)
                  if a.type.is_control() and a.type != T.BOOL}
        body = s.f.body
        for k, w in enumerate(body):
            if not isinstance(w, N.WriteConfig) or not w.rhs.type.is_control() or \
                    w.rhs.type == T.BOOL or (w.config, w.field) in configs_written_in(body[k + 1:]):
                continue
            vs = X.control_vars(w.rhs)
            if not all(isinstance(v, Sym) and v in params for v in vs):
                continue  # reads a config, a stride or a local: not known to the caller
            value = X.subst(w.rhs, params)
            if X.control_vars(value) and not all(isinstance(v, Sym)
                                                 for v in X.control_vars(value)):
                continue  # the argument reads a config (which the call may change)
            field = N.ReadConfig(w.config, w.field, w.rhs.type)
            after = after.add(X.cmp("==", field, value))
        return after

    def window(self, w: N.WindowExpr, facts: smt.Facts) -> None:
        B.check_window(w, self.scope.shape(w.name), facts)

    def window_arg(self, s: N.Call, w: N.WindowExpr, facts: smt.Facts) -> None:
        """A window passed to a call lies inside its buffer, or (as Exo allows) reaches
        past its end while every access the callee makes through it stays inside (see
        `reaches_only_inside`). Else the window's refusal, with its counterexample."""
        try:
            self.window(w, facts)
        except BoundsError as err:
            why = self.reaches_only_inside(s, w, facts)
            if why is None:
                return
            what = str(err).split("\n")[0].removeprefix(f"{err.srcinfo}: ")
            raise BoundsError(err.srcinfo, what, f"a window may reach past its buffer only "
                              f"where no access goes: here {why}; {B._HINT}") from None

    def reaches_only_inside(self, s: N.Call, w: N.WindowExpr, facts: smt.Facts):
        """None if the window `w`, an argument of the call `s`, is harmless though it may
        extend past its buffer, else why not (for the refusal). Harmless: its origin is
        an element of the buffer (or the end of a dense 1-D one), so C's pointer
        arithmetic stays inside the object; its slices do not run backwards; the callee
        uses it element by element (an instruction: not at all); and every access of the
        callee through it, under the callee's asserts, loops and ifs, lands inside the
        buffer. A window is a view: only the elements read or written must exist."""
        if w.name in self.windows:  # the interpreter's view of it ends with the view
            return f"'{w.name.name}' is a window statement's view, not a buffer"
        param = next(p.name for p, a in zip(s.f.args, s.args) if a is w)
        if not _by_element_only(s.f, param):  # its windows could start past the buffer
            return f"{s.f.name} makes a window of '{param.name}' or passes it on whole"
        if s.f.instr is not None and _touches(s.f, param):
            # its C may load or store the whole window (a vector), not only the elements
            # its semantics name: only an instruction that touches none (a prefetch) may
            return f"{s.f.name} is an instruction that accesses '{param.name}'"
        shape = self.scope.shape(w.name)
        typ = self.scope.bufs[w.name].type
        end_ok = len(shape) == 1 and not typ.is_window  # &x[n] is defined C
        goals = []
        for acc, n in zip(w.idx, shape):
            if isinstance(acc, N.Point):
                goals += [X.cmp("<=", X.const(0), acc.pt), X.cmp("<", acc.pt, n)]
            else:
                goals += [X.cmp("<=", X.const(0), acc.lo), X.cmp("<=", acc.lo, acc.hi),
                          X.cmp("<=" if end_ok else "<", acc.lo, n)]
        try:
            if not all(smt.prove(facts, g) for g in goals):
                return f"its origin may not be an element of '{w.name.name}'"
            for a in E.accesses((s,), self.windows):
                if a.buf != w.name:
                    continue
                inside = self.add(facts, *a.ctx)
                for i, n in zip(a.idx, shape):
                    if not (smt.prove(inside, X.cmp("<=", X.const(0), i))
                            and smt.prove(inside, X.cmp("<", i, n))):
                        return f"{s.f.name} {a.describe()}, which may be outside"
            return None
        except (NotAffine, KnitError):
            return "the accesses through it could not be followed"
        finally:
            smt.take_gave_up()  # a proof that failed here is no refusal of its own

    # ------------------------------------------------------------ expressions

    def expr(self, e: N.Expr, facts: smt.Facts) -> None:
        match e:
            case N.Read() if not e.type.is_control():
                self.access(e, "read", facts)
            case N.USub(arg):
                self.expr(arg, facts)
            case N.BinOp(_, lhs, rhs):
                self.expr(lhs, facts)
                self.expr(rhs, facts)
            case N.Extern(_, args):
                for a in args:
                    self.expr(a, facts)
            case N.WindowExpr():
                self.window(e, facts)

    def access(self, e: N.Read, verb: str, facts: smt.Facts) -> None:
        """A read, write or reduction of one element by plain or instruction code."""
        # Plain code touching an instruction-only memory (AVX2, ...) is refused where C
        # is generated (backend/c/cexpr.py), as Exo does: prototype procedures that do so
        # load, and the interpreter gives them a meaning (the buffer is an array).
        if e.idx:
            try:
                B.check_access(e, e.idx, self.scope.shape(e.name), facts)
            except BoundsError as err:
                if e.name not in self.windows:
                    raise
                self.later(err)  # through a window statement: Exo does not check it
