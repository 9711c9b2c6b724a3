"""knit's one solver layer: integer facts in, proofs out.

    facts = Facts().add(n_ge_1, i_ge_0, i_lt_n)   # knit bool Exprs or formulas
    prove(facts, goal)                            # True only if goal always holds
    counterexample(facts, goal)                   # values that break it, or None

Every analysis (definition-time checks, scheduling primitives) asks here, so
the work is shared: expressions are normalised to `affine` formulas (a canonical,
hashable form), an answer is remembered per (facts, goal), an obvious goal is decided
by `fastpath` without z3, one that does not follow by values that break it (`model`),
and the rest go to z3 behind a cache keyed by the goal and the facts that share
variables with it, and one keyed by the query up to the names of its variables. "Unknown" (the solver gave up, a nonlinear goal) is "not proven":
callers refuse rather than guess, and `gave_up()` tells a refusal that the
solver gave up, so it does not claim the property is false.

Answers do not depend on the machine's load: z3 runs under a deterministic
resource limit (z3's `rlimit`, counted in z3's own work units, not seconds), so
the same query gets the same answer on a busy machine; and a query the solver
gives up on is tried again in a fresh solver, so "gave up" does not depend on
earlier queries either (see _Z3State.refute).

Thread safety: each thread has its own z3 context (z3 contexts must not be
shared between threads); the answer cache is shared (a dict, whose single
get/set operations are atomic in CPython) and holds only deterministic answers.

Variables are integers: index, size, stride and int config fields. `stride(x, d)`
is an opaque integer per (buffer, dim); a caller that knows a dense buffer's
strides substitutes them first. z3 is imported on first use, not with knit.
"""

from __future__ import annotations

import contextlib
import itertools
import threading
import time

from knit.analysis import affine as A, fastpath
from knit.analysis.affine import Lin, NotAffine
from knit.analysis.model import find_model
from knit.errors import InternalError
from knit.ir.sym import Sym

# z3's deterministic work limit per query. The costliest query of the test suite
# uses ~240,000 units (measured with stats()["max_rlimit"] over `pytest tests`), so
# this leaves a margin of ~40x, while a pathological (e.g. nonlinear) query gives up
# after ~2.5-3.5 s on a busy 2-core Zen4 instead of running for minutes. A query that
# gives up is "not proven", the same on any machine under any load.
RLIMIT = 10_000_000
_CACHE_LIMIT = 100_000


class Facts:
    """An immutable conjunction of integer facts; `add` returns an extended copy.

    A fact outside the integer fragment is dropped: knowing less is always safe.
    """

    __slots__ = ("_items", "_set", "_table", "_token", "_parent")

    def __init__(self, items: tuple = (), parent: Facts | None = None):
        self._items = items  # (formula, frozenset of its variables), in order of addition
        self._set = {f for f, _ in items}
        self._table = None
        self._token = None
        # the Facts these extend (their items are a prefix of ours): our bound table is
        # theirs extended, until we have one
        self._parent = parent

    def add(self, *facts) -> Facts:
        new = []
        known = self._set
        for fact in facts:
            try:
                f = formula(fact)
            except NotAffine:
                continue
            if f[0] == "and":
                new += [p for p in f[1] if p != A.TRUE and p not in known]
            elif f != A.TRUE and f not in known:
                new.append(f)
        if not new:
            return self
        # the same facts added to the same ones give the same Facts (immutable), whose
        # bound table and token are then built once: a check walks the same loops and
        # conditions again after each rewrite, and every one starts from no facts
        key = (id(self) if self._items else None, tuple(new))
        hit = _extended.get(key)
        if hit is not None and (hit[0] is self or not self._items):
            return hit[1]
        # (the facts' variables only for a Facts made: most are found above)
        out = Facts(self._items + tuple((p, _vars_of(p)) for p in new), self)
        if len(_extended) > _EXTENDED_LIMIT:
            _extended.clear()
        _extended[key] = (self, out)  # (self kept: its id is not reused while remembered)
        return out

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

    def token(self) -> int:
        """A number standing for these facts in this order (equal facts built anew get the
        same one), so that an answer can be remembered per (facts, goal)."""
        if self._token is None:
            key = tuple(f for f, _ in self._items)
            tok = _tokens.get(key)
            if tok is None:
                if len(_tokens) > _CACHE_LIMIT:
                    _tokens.clear()
                    _answers.clear()
                tok = _tokens.setdefault(key, next(_token_ids))
            self._token = tok
        return self._token

    def table(self) -> fastpath.BoundTable:
        if self._table is None:
            parent = self._parent
            if parent is None:
                self._table = fastpath.BoundTable(self.formulas())
            else:  # the same table as from all the formulas (BoundTable.extended)
                self._table = parent.table().extended(
                    [f for f, _ in self._items[len(parent._items):]])
            self._parent = None  # (not kept alive longer than needed)
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


_extended: dict = {}  # (id(facts) or None when empty, formulas added) -> (facts, result)
# each entry keeps a whole Facts alive (a chain of n facts: O(n^2) items); measured after
# the 12-kernel GEMM build: 7,639 entries, max RSS 272 -> 292 MB (review, session 11)
_EXTENDED_LIMIT = 20_000
_fact_vars: dict = {}


def _vars_of(f) -> frozenset:
    """The variables of a fact, remembered: the same facts are added again and again."""
    out = _fact_vars.get(f)
    if out is None:
        if len(_fact_vars) > _CACHE_LIMIT:
            _fact_vars.clear()
        out = _fact_vars[f] = frozenset(A.formula_vars(f))
    return out


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
    _local.gave_up = None
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
    # the same facts and goal come back often (a proc checked again after each rewrite,
    # one access shape asked about in many places): answer them as the first time
    key = (facts.token(), g)
    hit = _answers.get(key)
    if hit is not None:
        _stats["repeated"] += 1
        if isinstance(hit, str):  # the solver gave up on this query before
            _local.gave_up = hit
            return False
        return hit
    out = _decide(facts, g)
    if not (_local.expect_proof and _local.gave_up):  # (the fast path, skipped there,
        _answers[key] = out or _local.gave_up or False  # may prove what z3 gave up on)
    return out


def _decide(facts: Facts, g) -> bool:
    if g == A.TRUE or g in facts:
        _stats["syntactic"] += 1
        return True
    if g[0] == "and":
        return all(_prove(facts, x) for x in g[1])
    # (bound substitution never proves False: it proves `L >= 0` forms; a question
    # whether facts contradict each other skips building the table)
    if g != A.FALSE and not _local.expect_proof and fastpath.proves(facts.table(), g):
        _stats["syntactic"] += 1
        return True
    goal_vars = A.formula_vars(g)
    # a goal without variables can only follow from contradictory facts: use them all
    key = (facts.relevant(goal_vars) if goal_vars else frozenset(facts.formulas()), g)
    hit = _cache.get(key)
    if hit is not None:
        _stats["cached"] += 1
        if isinstance(hit, str):  # the solver gave up on this query before
            _local.gave_up = hit
            return False
        return hit
    if len(_cache) > _CACHE_LIMIT:
        _cache.clear()
    if not _local.expect_proof and _countermodel(facts, g):
        # values break the goal: z3 would find some too
        _stats["model"] += 1
        _cache[key] = False
        return False
    # the same query up to the names of its variables (each check renames loop variables
    # apart with fresh copies): the same answer, when that answer was a proof or a model
    canon = canonical(key[0], g)
    hit = _canon_cache.get(canon)
    if hit is not None:
        _stats["cached"] += 1
        _cache[key] = hit
        return hit
    status, _, why = _z3().refute(key[0], g)
    result = status == "unsat"
    if status == "unknown":
        _local.gave_up = why
        _cache[key] = why  # the same query gives up again: the limit is deterministic
        return False
    if len(_canon_cache) > _CACHE_LIMIT:
        _canon_cache.clear()
    _cache[key] = _canon_cache[canon] = result
    return result


def canonical(facts, goal) -> tuple:
    """(facts, goal) with every variable (Sym) renamed to a number, a key equal for two
    queries only when one is the other with its variables renamed one-to-one, and
    usually equal when it is (else a miss, never a wrong answer).

    Numbers are given in order of first appearance, the formulas and the terms in each
    taken in the order of their shapes: printed with each variable's *colour* instead of
    its identity. A colour starts as the variable's name and is refined twice by the
    shapes of the formulas it appears in (so i and its renamed copy i', one below the
    other in `i < i'`, get different colours and a fixed order)."""
    forms = list(facts) + [goal]
    col: dict = {}
    for f in forms:
        for v in _syms(f):
            col[v] = v.name
    for _ in range(2):
        sig: dict = {v: [] for v in col}
        for f in forms:
            for v in _syms(f):
                sig[v].append(_shape_formula(f, col, v))
        col = {v: str(hash((col[v], *sorted(sig[v])))) for v in col}
    shaped = sorted(((_shape_formula(f, col), f) for f in facts), key=lambda t: t[0])
    names: dict = {}
    out = frozenset(_rename_formula(f, names, col) for _, f in shaped)
    return out, _rename_formula(goal, names, col)


def _syms(f) -> set:
    """The Syms a formula mentions (strides by their buffer)."""
    return {v.buf if isinstance(v, A.Stride) else v for v in A.formula_vars(f)
            if isinstance(v, (Sym, A.Stride))}


def _shape_formula(f, col: dict, mark=None) -> str:
    match f[0]:
        case "ge":
            return f"ge({_shape_lin(f[1], col, mark)})"
        case "eq":  # x == 0 and -x == 0 are one fact (eq0 picks a sign by identities)
            return f"eq({min(_shape_lin(f[1], col, mark), _shape_lin(-f[1], col, mark))})"
        case "and" | "or":
            inner = sorted(_shape_formula(g, col, mark) for g in f[1])
            return f"{f[0]}({','.join(inner)})"
        case "bvar":
            return f"b({_shape_atom(f[1], col, mark)},{f[2]})"
    return f[0]


def _shape_lin(x: Lin, col: dict, mark=None) -> str:
    return "+".join(sorted(f"{c}*{_shape_atom(a, col, mark)}" for a, c in x.terms.items())) \
        + f"+{x.const}"


def _shape_atom(a, col: dict, mark=None) -> str:
    if isinstance(a, Sym):
        return "@" if a is mark else col[a]
    if isinstance(a, A.Stride):
        return f"stride({'@' if a.buf is mark else col[a.buf]},{a.dim})"
    if isinstance(a, (A.Div, A.Mod)):
        return f"{type(a).__name__}({_shape_lin(a.arg, col, mark)},{a.by})"
    if isinstance(a, A.Mul):
        inner = sorted((_shape_lin(a.lhs, col, mark), _shape_lin(a.rhs, col, mark)))
        return f"Mul({','.join(inner)})"
    return f"cfg({a.config.name()}.{a.field})"


def _rename_formula(f, names: dict, col: dict):
    match f[0]:
        case "ge":
            return ("ge", _rename_lin(f[1], names, col))
        case "eq":  # either sign: numbered from the one with the smaller shape
            x, y = sorted((f[1], -f[1]), key=lambda z: _shape_lin(z, col))
            return ("eq", frozenset((_rename_lin(x, names, col), _rename_lin(y, names, col))))
        case "and" | "or":
            parts = sorted(f[1], key=lambda g: _shape_formula(g, col))
            return (f[0], frozenset(_rename_formula(g, names, col) for g in parts))
        case "bvar":
            return ("bvar", _rename_atom(f[1], names, col), f[2])
    return f


def _rename_lin(x: Lin, names: dict, col: dict):
    terms = sorted(x.terms.items(), key=lambda t: (_shape_atom(t[0], col), t[1]))
    return frozenset((_rename_atom(a, names, col), c) for a, c in terms), x.const


def _rename_atom(a, names: dict, col: dict):
    if isinstance(a, Sym):
        return ("v", names.setdefault(a, len(names)))
    if isinstance(a, A.Stride):
        return ("s", names.setdefault(a.buf, len(names)), a.dim)
    if isinstance(a, A.Div):
        return ("/", _rename_lin(a.arg, names, col), a.by)
    if isinstance(a, A.Mod):
        return ("%", _rename_lin(a.arg, names, col), a.by)
    if isinstance(a, A.Mul):
        lhs, rhs = sorted((a.lhs, a.rhs), key=lambda x: _shape_lin(x, col))
        return ("*", frozenset((_rename_lin(lhs, names, col), _rename_lin(rhs, names, col))))
    return a  # a config field: the same field in both queries


def _countermodel(facts: Facts, g) -> bool:
    """Whether the cheap search (analysis/model.py) finds values satisfying every fact
    but not the goal: then the goal does not follow, whatever z3 would say."""
    neg = A.negate(g)
    alts = neg[1] if neg[0] == "or" else (neg,)
    fs = facts.formulas()
    return any(find_model(fs + [alt]) is not None for alt in alts[:4])


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
    _local.gave_up = None
    try:
        g = formula(goal)
    except NotAffine:
        return None
    # asked afresh in canonical form: a long-lived solver's model depends on what it
    # was asked before, so the values a refusal shows would vary from run to run
    state = _CanonicalZ3State()
    status, model, why = state.refute(sorted(facts.formulas(), key=_canonical), g)
    if status == "unknown":
        _local.gave_up = why
    return Counterexample(model, state) if status == "sat" else None


def gave_up() -> str | None:
    """Why the solver gave up on this thread's most recent query (`prove`, `prove_eq`,
    `prove_ge`, `counterexample`), or None if it answered. A refusal that follows a
    failed proof uses it to say "could not prove" instead of "is false"."""
    return _local.gave_up


def take_gave_up() -> str | None:
    """`gave_up()`, then forget it (so a later, unrelated refusal does not repeat it)."""
    why, _local.gave_up = _local.gave_up, None
    return why


class side_queries:
    """`with smt.side_queries():` queries made inside (a witness search after a refusal,
    say) leave `gave_up()` as it was before them."""

    def __enter__(self):
        self._before = _local.gave_up

    def __exit__(self, *exc):
        _local.gave_up = self._before
        return False


def set_rlimit(units: int) -> None:
    """z3's deterministic work limit per query (see RLIMIT); a query that runs out is
    "not proven". Affects every thread."""
    global RLIMIT
    RLIMIT = int(units)
    clear_cache()  # answers may differ under another limit


def stats() -> dict:
    """Counters since the last reset: queries, syntactic, cached, z3 calls, z3 seconds,
    z3 queries that gave up, and the most z3 work units (rlimit) one query used.
    (Counters are shared by all threads and may miss increments under contention.)"""
    return dict(_stats)


def reset_stats() -> None:
    for k in _stats:
        _stats[k] = 0


def clear_cache() -> None:
    _cache.clear()
    _fact_vars.clear()
    _canon_cache.clear()
    _answers.clear()
    _tokens.clear()
    A.clear_memo()


_stats = {"queries": 0, "repeated": 0, "syntactic": 0, "cached": 0, "model": 0, "z3": 0,
          "z3_seconds": 0.0, "gave_up": 0, "max_rlimit": 0}
_cache: dict = {}  # key -> True/False, or why the solver gave up (a str)
# (Facts.token(), goal) -> True/False, or why the solver gave up; tokens are never
# reused (a count), so clearing _tokens cannot make two different facts share one
_answers: dict = {}
_tokens: dict = {}
_canon_cache: dict = {}  # canonical(facts, goal) -> True/False (never "gave up")
_token_ids = itertools.count(1)


class _Local(threading.local):
    gave_up: str | None = None
    state: _Z3State | None = None
    expect_proof: bool = False  # inside `expecting_proof()`


@contextlib.contextmanager
def expecting_proof():
    """Within: queries go to z3 without the fast path (analysis/fastpath.py) and the
    cheap search for a counterexample (analysis/model.py) first, for a caller whose
    queries usually hold and are out of the fast path's reach (eliminate_dead_stores:
    the sliver a guard leaves against the ones a kernel reads, told apart through
    N / NR), where both only cost. The answers are the same, but where z3 gives up:
    then not proven, and not remembered as such for the queries outside, which the fast
    path may prove."""
    before = _local.expect_proof
    _local.expect_proof = True
    try:
        yield
    finally:
        _local.expect_proof = before


_local = _Local()


# ---------------------------------------------------------------- z3


def order_key(f) -> str:
    """A formula as text that names each variable with its creation number: the same for
    the same formula in every run of the same program (unlike hash(), which follows
    addresses and per-process string hashing), so sorting by it gives one order."""
    if isinstance(f, Lin):
        return " + ".join([f"{c}*{_atom_key(a)}" for a, c in f.terms.items()]
                          + [str(f.const)])
    if isinstance(f, tuple):
        return "(" + ", ".join(order_key(x) for x in f) + ")"
    if isinstance(f, (frozenset, set)):
        return "{" + ", ".join(sorted(order_key(x) for x in f)) + "}"
    return _atom_key(f) if not isinstance(f, (str, int, bool)) else repr(f)


def _atom_key(a) -> str:
    if isinstance(a, Sym):
        return repr(a)  # name_id: ids count up in creation order
    if isinstance(a, A.Stride):
        return f"stride({a.buf!r}, {a.dim})"
    if isinstance(a, (A.Div, A.Mod)):
        return f"({order_key(a.arg)}) {'/' if isinstance(a, A.Div) else '%'} {a.by}"
    if isinstance(a, A.Mul):
        return f"({order_key(a.lhs)}) * ({order_key(a.rhs)})"
    return A.atom_str(a)  # a config field: its config's name and the field


class _Z3State:
    """One thread's z3 context, and the translation of atoms to z3 in it."""

    def __init__(self):
        import z3

        self.z3 = z3
        self.ctx = z3.Context()
        self._vars: dict = {}
        self._formulas: dict = {}  # formula -> its z3 term: facts recur across queries
        self._limit = RLIMIT
        self.solver = self._fresh()
        self._last_reason = ""

    def refute(self, facts, goal) -> tuple[str, object, str]:
        """('unsat', None, '') if facts imply goal; ('sat', model, '') if not; else
        ('unknown', None, why).

        The query runs in this thread's long-lived solver (push/pop: ~0.2 ms, where a
        fresh solver's set-up costs ~0.6 ms). A proof or a counterexample is a fact
        whichever solver finds it; only running out of work could depend on what the
        solver was asked before, so "unknown" is decided again by a fresh solver: an
        answer never depends on the machine's load, and "gave up" never on history."""
        t0 = time.perf_counter()
        try:
            r, model, used = self._check(self.solver, facts, goal, scoped=True)
            if r == "unknown":
                r, model, used = self._check(self._fresh(), facts, goal, scoped=False)
        finally:
            _stats["z3"] += 1
            _stats["z3_seconds"] += time.perf_counter() - t0
        why = ""
        if r == "unknown":
            why = _reason(self._last_reason, used)
            _stats["gave_up"] += 1
        if used > _stats["max_rlimit"]:
            _stats["max_rlimit"] = used
        return r, model, why

    def _fresh(self):
        # the incremental SMT core without preprocessing tactics, as push/pop runs
        s = self.z3.SimpleSolver(ctx=self.ctx)
        s.set("rlimit", RLIMIT)
        return s

    def _check(self, s, facts, goal, scoped: bool):
        z3 = self.z3
        if self._limit != RLIMIT:  # set_rlimit() was called
            self.solver, self._limit = self._fresh(), RLIMIT
            s = self.solver if scoped else s
        before = _rlimit_used(s) if scoped else 0
        if scoped:
            s.push()
        try:
            # in an order of their own, not the caller's: the facts often come as a
            # frozenset, whose order follows the addresses of the objects in them and so
            # changes from one process to the next, and z3's work (hence whether a hard
            # query stays under RLIMIT) depends on the order it is given
            for f in sorted(facts, key=order_key):
                s.add(self.formula(f))
            s.add(z3.Not(self.formula(goal)))
            r = s.check()
            model = s.model() if r == z3.sat else None
            if r == z3.unknown:
                self._last_reason = s.reason_unknown()
            used = _rlimit_used(s) - before
        finally:
            if scoped:
                s.pop()
        return str(r), model, used

    def var(self, atom):
        v = self._vars.get(atom)
        if v is None:
            v = self.z3.Int(self._name(atom), ctx=self.ctx)
            self._vars[atom] = v
        return v

    def lin(self, x: Lin):
        z3 = self.z3
        terms = [self.atom(a) * c if c != 1 else self.atom(a) for a, c in x.terms.items()]
        if x.const or not terms:
            terms.append(z3.IntVal(x.const, ctx=self.ctx))
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
        out = self._formulas.get(f)
        if out is None:
            if len(self._formulas) > _CACHE_LIMIT:
                self._formulas.clear()
            out = self._formulas[f] = self._formula(f)
        return out

    def _formula(self, f):
        z3 = self.z3
        match f[0]:
            case "true":
                return z3.BoolVal(True, ctx=self.ctx)
            case "false":
                return z3.BoolVal(False, ctx=self.ctx)
            case "ge":
                return self.lin(f[1]) >= 0
            case "eq":
                return self.lin(f[1]) == 0
            case "and":
                return z3.And(*[self.formula(g) for g in f[1]], self.ctx)
            case "or":
                return z3.Or(*[self.formula(g) for g in f[1]], self.ctx)
            case "bvar":
                b = self._vars.get(("bool", f[1]))
                if b is None:
                    b = self._vars[("bool", f[1])] = z3.Bool(self._name(f[1]), ctx=self.ctx)
                return b if f[2] else z3.Not(b)
        raise InternalError(f"not a formula: {f!r}")

    def _name(self, atom) -> str:
        return _z3_name(atom)


class _CanonicalZ3State(_Z3State):
    """A z3 context of its own for one counterexample query, the query in a canonical
    form: sub-formulas and terms sorted by their text, variables named in the order
    they first appear (not by their ids). The model found then depends on the question
    alone: the same refusal shows the same values in every run and process."""

    def _name(self, atom) -> str:
        return f"{_atom_text(atom)}!{len(self._vars)}"

    def lin(self, x: Lin):
        return super().lin(Lin(dict(sorted(x.terms.items(), key=_term_text)), x.const))

    def _formula(self, f):
        if f[0] in ("and", "or"):
            f = (f[0], sorted(f[1], key=_canonical))
        return super()._formula(f)


def _term_text(term) -> str:
    atom, coeff = term
    return f"{A.atom_str(atom)}*{coeff}"


def _atom_text(atom) -> str:
    return A.atom_str(atom) if isinstance(atom, (Sym, A.Stride, A.CfgField)) else str(atom)


def _canonical(f) -> str:
    """A formula as text that does not depend on the order its parts were made in."""
    match f[0]:
        case "ge" | "eq":
            terms = sorted(_term_text(t) for t in f[1].terms.items())
            return f"{f[0]} {' + '.join(terms)} + {f[1].const}"
        case "and" | "or":
            return f"{f[0]}({', '.join(sorted(_canonical(g) for g in f[1]))})"
        case "bvar":
            return f"bvar {_atom_text(f[1])} {f[2]}"
    return f[0]


def _z3_name(atom) -> str:
    # unique per atom: Syms by id, configs by identity
    if isinstance(atom, Sym):
        return f"{atom.name}!{atom.id}"
    if isinstance(atom, A.Stride):
        return f"stride({atom.buf.name}!{atom.buf.id},{atom.dim})"
    if isinstance(atom, A.CfgField):
        return f"{atom.config.name()}.{atom.field}!{id(atom.config)}"
    raise InternalError(f"not a variable: {atom!r}")


def _reason(z3_reason: str, used: int) -> str:
    """Why z3 said unknown, in words. z3 reports its work limit running out as
    "canceled" (or "max. resource limit exceeded"), so the units used decide."""
    if used >= RLIMIT or "resource" in z3_reason:
        return f"its work limit of {RLIMIT:,} units ran out; see knit.analysis.smt.set_rlimit"
    return f"z3 said: {z3_reason or 'unknown'}"


def _rlimit_used(solver) -> int:
    """z3's work units counted so far. Its index among the ~90 statistics is tried
    first where it was found last: reading every key cost ~80 us a query."""
    import z3  # loaded already: a solver exists

    st = solver.statistics()
    ctx, n = st.ctx.ref(), len(st)
    for i in (_rlimit_index[0], *range(n)):
        if i < n and z3.Z3_stats_get_key(ctx, st.stats, i) == "rlimit count":
            _rlimit_index[0] = i
            return z3.Z3_stats_get_uint_value(ctx, st.stats, i)
    return 0


_rlimit_index = [0]  # where "rlimit count" was last found


def _z3() -> _Z3State:
    """This thread's z3 state (z3 contexts are not thread-safe)."""
    state = _local.state
    if state is None:
        state = _local.state = _Z3State()
    return state
