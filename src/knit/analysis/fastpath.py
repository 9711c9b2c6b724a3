"""A cheap, sound prover for the easy goals, tried before z3.

To prove `L >= 0` it repeatedly replaces the most recently introduced atom of L by
one of its known bounds: a lower bound where the coefficient is positive, an upper
bound where it is negative. Each replacement can only decrease L, so if L ends as a
constant > -1 (L is an integer), L >= 0 held for every value the facts allow.
Bounds come from facts `a*v + rest >= 0` in which v is the newest atom (so
substitution always moves to older atoms and terminates), and from the definition
of floor division and modulo. It never claims a false goal; it may fail to prove a
true one, and then z3 decides.
"""

from __future__ import annotations

import math
from fractions import Fraction

from knit.analysis.affine import Div, Lin, Mod, Mul, base_vars, mod

_BUDGET = 200  # substitution steps per goal before giving up to z3


class BoundTable:
    """Per-atom lower and upper bounds derived from a list of formulas, with ranks."""

    def __init__(self, formulas):
        self.rank: dict = {}
        self._nvars = 0
        self.lower: dict = {}
        self.upper: dict = {}
        for f in formulas:
            self._add(f)
        self._built = (dict(self.rank), self._nvars)  # the ranks before any search

    def extended(self, formulas) -> BoundTable:
        """The table of this one's formulas followed by `formulas`: the same table as
        BoundTable(all of them), built from this one's state as built (searches rank
        new atoms of their goals; those ranks are not carried over) without adding
        its formulas again (each pair of accesses a dependence check compares adds
        its few facts to the many the pairs share)."""
        out = BoundTable.__new__(BoundTable)
        rank, out._nvars = self._built
        out.rank = dict(rank)
        out.lower, out.upper = dict(self.lower), dict(self.upper)  # tuples inside: shared
        for f in formulas:
            out._add(f)
        out._built = (dict(out.rank), out._nvars)
        return out

    def _add(self, f):
        match f[0]:
            case "ge":
                self._add_ge(f[1])
            case "eq":
                self._add_ge(f[1])
                self._add_ge(-f[1])
            case "and":
                for g in f[1]:
                    self._add(g)

    def _add_ge(self, x: Lin):
        for a in x.terms:
            self.rank_of(a)
        top = max(x.terms, key=self.rank.__getitem__)  # (each ranked just above)
        a = x.terms[top]
        rest = x.without(top)
        # a*top + rest >= 0: top >= -rest/a (a > 0) or top <= rest/(-a) (a < 0)
        bound = rest.scale(Fraction(-1, a) if abs(a) != 1 else -a)
        side = self.lower if a > 0 else self.upper
        side[top] = side.get(top, ()) + (bound,)  # a new tuple: `extended` shares them

    def rank_of(self, atom) -> float:
        """Base variables rank by first appearance; a compound atom ranks just above
        the atoms inside it, so its definition substitutes downwards."""
        r = self.rank.get(atom)
        if r is None:
            if isinstance(atom, (Div, Mod, Mul)):
                inner = [atom.arg] if not isinstance(atom, Mul) else [atom.lhs, atom.rhs]
                r = max((self.rank_of(v) for x in inner for v in x.terms), default=-1.0)
                r += {Mod: 0.25, Div: 0.5, Mul: 0.75}[type(atom)]
            else:
                r, self._nvars = float(self._nvars), self._nvars + 1
            self.rank[atom] = r
        return r

    def bounds(self, atom, lower: bool) -> list[Lin]:
        """Known bounds of `atom` on one side: facts first, then its definition."""
        out = list((self.lower if lower else self.upper).get(atom, ()))
        if isinstance(atom, Mod):  # 0 <= x mod c <= c - 1
            out.append(Lin(const=0 if lower else atom.by - 1))
        elif isinstance(atom, Div):
            c, x = atom.by, atom.arg
            # floor(x/c) = (x - x mod c)/c, best when x mod c is known from a fact
            out.append((x - mod(x, c)).scale(Fraction(1, c)))
            # (x - c + 1)/c <= floor(x/c) <= x/c
            out.append((x.plus(-(c - 1)) if lower else x).scale(Fraction(1, c)))
        return out


def proves(table: BoundTable, goal) -> bool:
    """Whether `goal` follows from the facts behind `table` by bound substitution."""
    match goal[0]:
        case "true":
            return True
        case "ge":
            return nonneg(table, goal[1])
        case "eq":
            return nonneg(table, goal[1]) and nonneg(table, -goal[1])
        case "and":
            return all(proves(table, g) for g in goal[1])
        case "or":
            return any(proves(table, g) for g in goal[1])
    return False


def nonneg(table: BoundTable, x: Lin) -> bool:
    return _search(table, x, [_BUDGET])


def _search(table: BoundTable, x: Lin, budget: list[int]) -> bool:
    if x.is_const():
        return x.const > -1  # x is an integer in truth, so x > -1 means x >= 0
    top = max(x.terms, key=table.rank_of)
    a = x.terms[top]
    rest = x.without(top)
    bounds = table.bounds(top, lower=a > 0)
    if a > 0 and isinstance(top, Div) and _search(table, top.arg, budget):
        bounds.append(Lin())  # x >= 0 implies floor(x / c) >= 0
    for b in bounds:
        budget[0] -= 1
        if budget[0] < 0:
            return False
        if top in b.terms:  # a bound mentioning its own atom cannot make progress
            continue
        if _search(table, rest + b.scale(a), budget):
            return True
    return False


def distinct(table: BoundTable, x: Lin, y: Lin) -> bool:
    """Whether x != y follows from the facts behind `table` by a mixed-radix argument,
    the shape of two instances of one index (two iterations of a loop, renamed apart):
    x - y = sum of c_k * (u_k - w_k), one pair of atoms per coefficient c_k > 0, each
    atom but the greatest digit's between constant bounds, and each c_k greater than
    what all smaller digits can add up to: c_k > sum over j < k of c_j * span_j (span_j,
    the width of the range u_j and w_j share). Then x == y forces u_k == w_k for every k
    -- at the greatest k where u_k != w_k, |c_k * (u_k - w_k)| >= c_k exceeds the rest
    -- so a pair the facts prove different (u < w or w < u) proves x != y. Exact integer
    reasoning: sound, and it never claims what it cannot show (False: "not shown")."""
    d = x - y
    if d.const != 0 or not d.terms:
        return False
    pos: dict = {}
    neg: dict = {}
    for a, c in d.terms.items():
        side = pos if c > 0 else neg
        if abs(c) in side:
            return False
        side[abs(c)] = a
    if pos.keys() != neg.keys():
        return False
    below = 0  # the most the smaller digits can add up to
    digits = sorted(pos)
    for c in digits:
        if c <= below:
            return False
        if c == digits[-1]:  # the greatest digit's span bounds nothing above it: it may
            break  # be unbounded (the outer block of a dealt-out index, `252 * ic`)
        ru, rw = _const_range(table, pos[c]), _const_range(table, neg[c])
        if ru is None or rw is None:
            return False
        below += c * (max(ru[1], rw[1]) - min(ru[0], rw[0]))
    return any(nonneg(table, Lin({pos[c]: 1, neg[c]: -1}, -1))
               or nonneg(table, Lin({pos[c]: -1, neg[c]: 1}, -1))
               for c in _related_first(table, pos, neg))


def _related_first(table: BoundTable, pos: dict, neg: dict) -> list:
    """The digits of `distinct`, those whose pair of atoms a fact relates (a bound of
    one names the other: `i1 < i2`, two iterations told apart) first: the pair that
    tells the instances apart is most often one of those, and a pair no fact relates
    mostly fails after the whole search. Any order gives the same answer (any() of the
    same searches) provided no search ranks a new variable, which would number it by
    the order of the searches: kept as it is unless every variable is ranked already."""
    digits = list(pos)
    if len(digits) < 2 or not all(v in table.rank for c in digits
                                  for a in (pos[c], neg[c]) for v in base_vars(a)):
        return digits
    return sorted(digits, key=lambda c: not _relates(table, pos[c], neg[c]))


def _relates(table: BoundTable, u, w) -> bool:
    """Whether a known bound of u mentions w or one of w mentions u."""
    for side in (table.lower, table.upper):
        if any(w in b.terms for b in side.get(u, ())) or \
                any(u in b.terms for b in side.get(w, ())):
            return True
    return False


def _const_range(table: BoundTable, atom) -> tuple[int, int] | None:
    """(least, greatest) value of `atom` by the constant bounds the facts give, or None."""
    lo = [b.const for b in table.bounds(atom, lower=True) if b.is_const()]
    hi = [b.const for b in table.bounds(atom, lower=False) if b.is_const()]
    if not lo or not hi:
        return None
    return math.ceil(max(lo)), math.floor(min(hi))
