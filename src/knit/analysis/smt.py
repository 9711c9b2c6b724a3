"""knit's one solver layer: integer facts in, proofs out.

    facts = Facts().add(n_ge_1, i_ge_0, i_lt_n)   # knit bool Exprs or formulas
    prove(facts, goal)                            # True only if goal always holds
    counterexample(facts, goal)                   # values that break it, or None

Every analysis (definition-time checks, scheduling primitives) asks here, so
the work is shared: expressions are normalised to `affine` formulas (a canonical,
hashable form), an obvious goal is decided by `fastpath` without z3, and the rest
go to one long-lived z3 solver (push/pop per query) behind a cache keyed by the
goal and the facts that share variables with it. "Unknown" (a timeout, a
nonlinear goal) is "not proven": callers refuse rather than guess.

Variables are integers: index, size, stride and int config fields. `stride(x, d)`
is an opaque integer per (buffer, dim); a caller that knows a dense buffer's
strides substitutes them first. z3 is imported on first use, not with knit.
"""

from __future__ import annotations

import time

from knit.analysis import affine as A
from knit.analysis import fastpath
from knit.analysis.affine import Lin, NotAffine
from knit.ir.sym import Sym

TIMEOUT_MS = 2000  # per z3 query; a timeout is "not proven"
_CACHE_LIMIT = 100_000


class Facts:
    """An immutable conjunction of integer facts; `add` returns an extended copy.

    A fact outside the integer fragment is dropped: knowing less is always safe.
    """

    __slots__ = ("_items", "_set", "_table")

    def __init__(self, items: tuple = ()):
        self._items = items  # (formula, frozenset of its variables), in order of addition
        self._set = {f for f, _ in items}
        self._table = None

    def add(self, *facts) -> Facts:
        new = []
        for fact in facts:
            try:
                f = formula(fact)
            except NotAffine:
                continue
            parts = f[1] if f[0] == "and" else (f,)
            new += [(p, frozenset(A.formula_vars(p))) for p in parts
                    if p != A.TRUE and p not in self._set]
        return Facts(self._items + tuple(new)) if new else self

    def without(self, drop) -> Facts:
        """The facts none of whose variables satisfy `drop(var)`."""
        kept = tuple(it for it in self._items if not any(drop(v) for v in it[1]))
        return self if len(kept) == len(self._items) else Facts(kept)

    def formulas(self) -> list:
        return [f for f, _ in self._items]

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, f) -> bool:
        return f in self._set

    def __repr__(self) -> str:
        return f"Facts({self.formulas()!r})"

    def table(self) -> fastpath.BoundTable:
        if self._table is None:
            self._table = fastpath.BoundTable(self.formulas())
        return self._table

    def relevant(self, vars_: set) -> frozenset:
        """The facts connected to `vars_` through shared variables (the rest cannot
        matter unless they contradict each other)."""
        todo, seen, out = set(vars_), set(), set()
        pending = list(self._items)
        while todo:
            seen |= todo
            todo = set()
            rest = []
            for f, vs in pending:
                if not vs or vs & seen:
                    out.add(f)
                    todo |= vs - seen
                else:
                    rest.append((f, vs))
            pending = rest
        out.update(f for f, vs in pending if not vs)
        return frozenset(out)


def formula(e):
    """The formula of a knit bool expression (a formula passes through unchanged)."""
    if isinstance(e, tuple):
        return e
    return A.formula_of(e)


def neg(e):
    """The negation of a bool expression or formula, as a formula."""
    return A.negate(formula(e))


def lin(e) -> Lin:
    return e if isinstance(e, Lin) else A.lin_of(e)


def _as_facts(facts) -> Facts:
    return facts if isinstance(facts, Facts) else Facts().add(*facts)


# ---------------------------------------------------------------- the API


def prove(facts, goal) -> bool:
    """Whether `goal` holds for every assignment of integers satisfying `facts`.

    `facts` is a Facts or an iterable of bool Exprs/formulas; `goal` an Expr or a
    formula. False means "not proven", never "proven false".
    """
    facts = _as_facts(facts)
    try:
        g = formula(goal)
    except NotAffine:
        return False
    return _prove(facts, g)


def prove_eq(facts, a, b) -> bool:
    """Whether the integer expressions a and b are always equal under `facts`."""
    try:
        return prove(facts, A.eq0(lin(a) - lin(b)))
    except NotAffine:
        return False


def prove_ge(facts, a, b) -> bool:
    """Whether a >= b always holds under `facts`."""
    try:
        return prove(facts, A.ge0(lin(a) - lin(b)))
    except NotAffine:
        return False


def _prove(facts: Facts, g) -> bool:
    _stats["queries"] += 1
    if g == A.TRUE or g in facts:
        _stats["syntactic"] += 1
        return True
    if g[0] == "and":
        return all(_prove(facts, x) for x in g[1])
    if fastpath.proves(facts.table(), g):
        _stats["syntactic"] += 1
        return True
    goal_vars = A.formula_vars(g)
    # a goal without variables can only follow from contradictory facts: use them all
    key = (facts.relevant(goal_vars) if goal_vars else frozenset(facts.formulas()), g)
    hit = _cache.get(key)
    if hit is not None:
        _stats["cached"] += 1
        return hit
    if len(_cache) > _CACHE_LIMIT:
        _cache.clear()
    result = _z3().refute(key[0], g)[0] == "unsat"
    _cache[key] = result
    return result


class Counterexample:
    """Integer values satisfying the facts but not the goal."""

    def __init__(self, model, z3state):
        self._model = model
        self._z3 = z3state

    def value(self, e) -> int | None:
        """The value of an integer Expr/Lin or a variable under this assignment."""
        try:
            x = Lin.atom(e) if isinstance(e, (Sym, A.Stride, A.CfgField)) else lin(e)
            v = self._model.eval(self._z3.lin(x), model_completion=True)
            return v.as_long()
        except (NotAffine, AttributeError):
            return None

    def describe(self, variables) -> str:
        """`N = 1, i = 0` for the given variables (Syms, Stride, CfgField atoms)."""
        parts = []
        for v in variables:
            val = self.value(v)
            if val is not None:
                parts.append(f"{A.atom_str(v)} = {val}")
        return ", ".join(parts)


def counterexample(facts, goal) -> Counterexample | None:
    """An assignment satisfying all `facts` where `goal` is false, if z3 finds one."""
    facts = _as_facts(facts)
    try:
        g = formula(goal)
    except NotAffine:
        return None
    status, model = _z3().refute(frozenset(facts.formulas()), g)
    return Counterexample(model, _z3()) if status == "sat" else None


def set_timeout(ms: int) -> None:
    """The per-query z3 time limit; a query that runs out is "not proven"."""
    global TIMEOUT_MS
    TIMEOUT_MS = ms
    if _state is not None:
        _state.solver.set("timeout", ms)
    _cache.clear()  # answers may differ under another limit


def stats() -> dict:
    """Counters since the last reset: queries, syntactic, cached, z3 calls, z3 seconds."""
    return dict(_stats)


def reset_stats() -> None:
    for k in _stats:
        _stats[k] = 0


def clear_cache() -> None:
    _cache.clear()


_stats = {"queries": 0, "syntactic": 0, "cached": 0, "z3": 0, "z3_seconds": 0.0}
_cache: dict = {}


# ---------------------------------------------------------------- z3


class _Z3State:
    """One z3 solver reused for every query, and the translation of atoms to z3."""

    def __init__(self):
        import z3

        self.z3 = z3
        self.solver = z3.Solver()
        self.solver.set("timeout", TIMEOUT_MS)
        self._vars: dict = {}

    def refute(self, facts, goal) -> tuple[str, object]:
        """('unsat', None) if facts imply goal; ('sat', model) if not; else 'unknown'."""
        z3, s = self.z3, self.solver
        t0 = time.perf_counter()
        s.push()
        try:
            for f in facts:
                s.add(self.formula(f))
            s.add(z3.Not(self.formula(goal)))
            r = s.check()
            model = s.model() if r == z3.sat else None
        finally:
            s.pop()
            _stats["z3"] += 1
            _stats["z3_seconds"] += time.perf_counter() - t0
        return str(r), model

    def var(self, atom):
        v = self._vars.get(atom)
        if v is None:
            v = self.z3.Int(_z3_name(atom))
            self._vars[atom] = v
        return v

    def lin(self, x: Lin):
        z3 = self.z3
        terms = [self.atom(a) * c if c != 1 else self.atom(a) for a, c in x.terms.items()]
        if x.const or not terms:
            terms.append(z3.IntVal(x.const))
        return terms[0] if len(terms) == 1 else z3.Sum(terms)

    def atom(self, a):
        if isinstance(a, A.Div):
            return self.lin(a.arg) / a.by  # z3's div is Euclidean: floor for c > 0
        if isinstance(a, A.Mod):
            return self.lin(a.arg) % a.by
        if isinstance(a, A.Mul):
            return self.lin(a.lhs) * self.lin(a.rhs)
        return self.var(a)

    def formula(self, f):
        z3 = self.z3
        match f[0]:
            case "true":
                return z3.BoolVal(True)
            case "false":
                return z3.BoolVal(False)
            case "ge":
                return self.lin(f[1]) >= 0
            case "eq":
                return self.lin(f[1]) == 0
            case "and":
                return z3.And([self.formula(g) for g in f[1]])
            case "or":
                return z3.Or([self.formula(g) for g in f[1]])
            case "bvar":
                b = self._vars.get(("bool", f[1]))
                if b is None:
                    b = self._vars[("bool", f[1])] = z3.Bool(_z3_name(f[1]))
                return b if f[2] else z3.Not(b)
        raise ValueError(f"not a formula: {f!r}")


def _z3_name(atom) -> str:
    # unique per atom: Syms by id, configs by identity
    if isinstance(atom, Sym):
        return f"{atom.name}!{atom.id}"
    if isinstance(atom, A.Stride):
        return f"stride({atom.buf.name}!{atom.buf.id},{atom.dim})"
    if isinstance(atom, A.CfgField):
        return f"{atom.config.name()}.{atom.field}!{id(atom.config)}"
    raise TypeError(f"not a variable: {atom!r}")


_state: _Z3State | None = None


def _z3() -> _Z3State:
    global _state
    if _state is None:
        _state = _Z3State()
    return _state
