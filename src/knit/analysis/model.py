"""A cheap search for integer values satisfying a list of formulas, tried before z3.

A goal that does not follow from the facts is the common case of some questions (is
this code reachable? may these two accesses touch one location?), and z3 answers it
by finding a model, at a few milliseconds a query. Most such facts are loop ranges,
size bounds and asserts, stated outside-in: each variable is bounded by linear facts
over the variables before it. So the values are chosen in that order, each from its
bounds given the earlier values (a few candidates: the least, the greatest, a round
number for divisibility asserts), with backtracking under a small budget, and every
fact is evaluated exactly once all its variables have values.

A model found is checked against every formula by exact integer evaluation, so
"satisfiable" is certain; when the search fails (the formulas may be unsatisfiable,
or just harder), it says nothing and z3 decides.
"""

from __future__ import annotations

import itertools

from knit.analysis import affine as A

_BUDGET = 96  # candidate values tried per search before giving up to z3
_ROUND = (64, 80640)  # round numbers (2^8 * 3^2 * 5 * 7) for divisibility asserts


def find_model(formulas) -> dict | None:
    """Values of the base variables (Syms, strides, config fields, bool variables) under
    which every formula in `formulas` holds, or None if the search found none."""
    flat: list = []
    for f in formulas:
        _flatten(f, flat)
    if any(f == A.FALSE for f in flat):
        return None
    flat = [f for f in flat if f != A.TRUE]
    found = _search(flat)
    if found is not None:
        return found
    # the bounds come from linear facts only: a disjunction (`M + N + K <= 192 or
    # N < 64`, a specialized branch) is checked but gives no candidates, so try each
    # way it can hold as a fact of its own (of the first two; the model found is still
    # checked against the disjunction itself)
    ors = [f for f in flat if f[0] == "or"][:2]
    for alts in itertools.product(*(f[1][:3] for f in ors)):
        found = _search(flat + [g for alt in alts for g in _flat(alt)])
        if found is not None:
            return {v: x for v, x in found.items() if v in _vars(flat)}
    return None


def _flat(f) -> list:
    out: list = []
    _flatten(f, out)
    return out


def _vars(flat: list) -> set:
    return {v for f in flat for v in _info(f)[0]}


def _search(flat: list) -> dict | None:
    order: dict = {}
    for f in flat:
        for v in _info(f)[0]:
            order.setdefault(v, len(order))
    reused = _reuse(order, flat)
    if reused is not None:
        return reused
    # the divisors of the floor divisions and modulos each variable is inside: values
    # with the residues at the ends of their range are worth a try
    divisors: dict = {}
    for f in flat:
        for v, ds in _info(f)[2].items():
            divisors.setdefault(v, {}).update(ds)
    closing: list[list] = [[] for _ in order]  # formulas by their last variable
    for f in flat:
        vs = _info(f)[0]
        if not vs:
            if not A.eval_formula(f, {}):
                return None
            continue
        closing[max(order[v] for v in vs)].append(f)
    env: dict = {}
    if not _assign(list(order), closing, env, divisors):
        return None
    # each formula was checked when its last variable got its value; check them all
    # again, so that "satisfiable" never rests on the search's bookkeeping
    if not all(A.eval_formula(f, env) for f in flat):
        return None
    _recent.insert(0, env)
    del _recent[_RECENT:]
    return env


# The last models found. Successive questions are mostly about the same variables (the
# facts at neighbouring statements of one procedure, or of the procedure before and
# after a rewrite, which keeps its variables): a model that satisfies the new formulas
# too answers without a search. It is checked by exact evaluation like any model.
_RECENT = 8
_recent: list[dict] = []


def _reuse(order: dict, flat: list) -> dict | None:
    """A recent model giving a value to every variable of `flat` and satisfying all of
    it, restricted to those variables; or None."""
    for m in _recent:
        if all(v in m for v in order) and all(A.eval_formula(f, m) for f in flat):
            return {v: m[v] for v in order}
    return None


_infos: dict = {}


def _info(f) -> tuple:
    """(f's base variables in order of appearance, {variable: (a, rest)} for those v that
    f (a linear fact a*v + rest >= 0 or == 0) holds outside any floor division or
    product, {variable: {divisor: None}} for those inside one), remembered per formula:
    the same facts come back query after query."""
    hit = _infos.get(f)
    if hit is None:
        vs = tuple(_vars_in_order(f))
        linear: dict = {}
        if f[0] in ("ge", "eq"):
            x = f[1]
            inside: set = set()
            for b in x.terms:
                if isinstance(b, (A.Div, A.Mod, A.Mul)):
                    inside.update(_atom_vars(b))
            for v, a in x.terms.items():
                if not isinstance(v, (A.Div, A.Mod, A.Mul)) and v not in inside:
                    linear[v] = (a, A.Lin({b: c for b, c in x.terms.items() if b != v},
                                          x.const))
        divs: dict = {}
        _divisors(f, divs)
        if len(_infos) > 100_000:
            _infos.clear()
        hit = _infos[f] = (vs, linear, divs)
    return hit


def _flatten(f, out: list) -> None:
    if f[0] == "and":
        for g in f[1]:
            _flatten(g, out)
    else:
        out.append(f)


def _vars_in_order(f) -> list:
    """The base variables of f, in order of appearance (dicts keep insertion order)."""
    out: dict = {}
    _collect(f, out)
    return list(out)


def _collect(f, out: dict) -> None:
    match f[0]:
        case "ge" | "eq":
            _collect_lin(f[1], out)
        case "and" | "or":
            for g in f[1]:
                _collect(g, out)
        case "bvar":
            for v in _atom_vars(f[1]):
                out.setdefault(v, None)


def _collect_lin(x: A.Lin, out: dict) -> None:
    for a in x.terms:
        for v in _atom_vars(a):
            out.setdefault(v, None)


def _atom_vars(a) -> list:
    if isinstance(a, (A.Div, A.Mod)):
        out: dict = {}
        _collect_lin(a.arg, out)
        return list(out)
    if isinstance(a, A.Mul):
        out = {}
        _collect_lin(a.lhs, out)
        _collect_lin(a.rhs, out)
        return list(out)
    return [a]


class _OutOfBudget(Exception):
    pass


def _assign(vars_: list, closing: list, env: dict, divisors: dict) -> bool:
    """Values for vars_ in order, each checked against the formulas it closes, by
    backtracking that jumps back to the latest variable a failure depends on
    (conflict-directed backjumping: a variable that played no part is not retried)."""
    index = {v: k for k, v in enumerate(vars_)}
    blame = [{index[w] for f in fs for w in _info(f)[0]} for fs in closing]
    budget = [_BUDGET]

    def go(k: int):  # None when solved, else the indices of the variables to blame
        if k == len(vars_):
            return None
        v = vars_[k]
        conflict: set = set()
        cands = _candidates(v, closing[k], env, divisors.get(v, ()))
        if not cands:
            return blame[k] - {k}
        for val in cands:
            budget[0] -= 1
            if budget[0] < 0:
                raise _OutOfBudget
            env[v] = val
            bad = next((f for f in closing[k] if not A.eval_formula(f, env)), None)
            if bad is not None:
                conflict |= {index[w] for w in _info(bad)[0]} - {k}
                continue
            sub = go(k + 1)
            if sub is None:
                return None
            if k not in sub:  # this variable is not to blame: jump back over it
                del env[v]
                return sub
            conflict |= sub - {k}
        del env[v]
        return conflict

    try:
        return go(0) is None
    except _OutOfBudget:
        return False


def _candidates(v, fs: list, env: dict, divs) -> list:
    """Values worth trying for v: its bounds from the linear facts it closes, given the
    values before it."""
    if any(f[0] == "bvar" and f[1] == v for f in fs):
        return [True, False]
    lo = hi = None
    for f in fs:
        lin = _info(f)[1].get(v)
        if lin is None:  # not linear in v (v inside a floor division or product)
            continue
        a, rest = lin
        r = A.eval_lin(rest, env)
        if f[0] == "eq":  # a*v + r == 0
            if r % a:
                return []
            val = -r // a
            lo = val if lo is None else max(lo, val)
            hi = val if hi is None else min(hi, val)
            continue
        if a > 0:  # v >= ceil(-r / a)
            b = -(r // a)
            lo = b if lo is None else max(lo, b)
        else:  # v <= floor(r / -a)
            b = r // -a
            hi = b if hi is None else min(hi, b)
    base = 0 if lo is None else lo
    residues = [base + (r - base) % c for c in list(divs)[:3] for r in (c - 1, c // 2)]
    if lo is not None and hi is not None:
        if lo > hi:
            return []
        out = [lo, hi, (lo + hi) // 2] + [_round_up(lo, m) for m in _ROUND] + residues
        return _unique(c for c in out if lo <= c <= hi)
    if lo is not None:
        return _unique([lo] + [_round_up(lo, m) for m in _ROUND] + residues + [lo + 1])
    if hi is not None:
        return _unique([hi, hi - 1, _round_down(hi, _ROUND[0])])
    return [0, 1, _ROUND[0], _ROUND[1]]


def _divisors(f, out: dict) -> None:
    match f[0]:
        case "ge" | "eq":
            _lin_divisors(f[1], out)
        case "and" | "or":
            for g in f[1]:
                _divisors(g, out)


def _lin_divisors(x: A.Lin, out: dict) -> None:
    for a in x.terms:
        if isinstance(a, (A.Div, A.Mod)):
            for v in _atom_vars(a):
                out.setdefault(v, {})[a.by] = None
            _lin_divisors(a.arg, out)
        elif isinstance(a, A.Mul):
            _lin_divisors(a.lhs, out)
            _lin_divisors(a.rhs, out)


def _round_up(x: int, m: int) -> int:
    return -(-x // m) * m


def _round_down(x: int, m: int) -> int:
    return x // m * m


def _unique(xs) -> list:
    out: list = []
    for x in xs:
        if x not in out:
            out.append(x)
    return out
