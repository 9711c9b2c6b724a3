"""Quasi-affine normal form of knit index expressions, and integer formulas over it.

An index expression normalises to a `Lin`: `sum(coeff * atom) + const`. An atom is
a control variable (its `Sym`), `Stride(buf, dim)`, `CfgField(config, field)`, or an
opaque quasi-affine term over a `Lin`: `Div(x, c)` = floor(x / c) and `Mod(x, c)` =
x - c * floor(x / c) for a literal c > 0, and `Mul(x, y)` for a product of two
non-constant expressions (strides only). Equal expressions up to the ring laws of
+ - * by constants get equal `Lin`s, so a `Lin` is a canonical, hashable key.

A bool expression normalises to a formula, a small tuple:

    ("true",) | ("false",)
    ("ge", lin)               lin >= 0
    ("eq", lin)               lin == 0
    ("and", (f, ...)) | ("or", (f, ...))
    ("bvar", atom, polarity)  a bool variable or config field, or its negation

Negation is pushed to the leaves (`negate`), so there is no "not" node. Every
variable is an integer: comparisons are tightened with that in mind (x > 0 is x - 1 >= 0).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from knit.errors import InternalError
from knit.ir import nodes as N
from knit.ir.sym import Sym


class NotAffine(Exception):
    """An expression outside the integer fragment (data values, externs, tensors)."""


# ---------------------------------------------------------------- atoms


@dataclass(frozen=True, slots=True)
class Stride:
    buf: Sym
    dim: int


@dataclass(frozen=True, slots=True)
class CfgField:
    config: object  # a knit.Config (hashed by identity)
    field: str


@dataclass(frozen=True, slots=True)
class Div:
    arg: Lin
    by: int


@dataclass(frozen=True, slots=True)
class Mod:
    arg: Lin
    by: int


@dataclass(frozen=True, slots=True)
class Mul:
    lhs: Lin
    rhs: Lin


Atom = Sym | Stride | CfgField | Div | Mod | Mul


def base_vars(atom) -> set:
    """The variables (Syms, strides, config fields) an atom depends on."""
    if isinstance(atom, (Div, Mod)):
        return atom.arg.vars()
    if isinstance(atom, Mul):
        return atom.lhs.vars() | atom.rhs.vars()
    return {atom}


def atom_str(atom) -> str:
    """An atom as object code, for messages."""
    if isinstance(atom, Sym):
        return atom.name
    if isinstance(atom, Stride):
        return f"stride({atom.buf.name}, {atom.dim})"
    if isinstance(atom, CfgField):
        return f"{atom.config.name()}.{atom.field}"
    if isinstance(atom, Div):
        return f"({atom.arg}) / {atom.by}"
    if isinstance(atom, Mod):
        return f"({atom.arg}) % {atom.by}"
    return f"({atom.lhs}) * ({atom.rhs})"


# ---------------------------------------------------------------- linear forms


class Lin:
    """sum(coeff * atom) + const; immutable. Coefficients are ints (Fractions only
    inside the fast prover's bounds)."""

    __slots__ = ("terms", "const", "_hash")

    def __init__(self, terms: dict | None = None, const=0):
        self.terms = {a: c for a, c in terms.items() if c != 0} if terms else {}
        self.const = const
        self._hash = None

    @staticmethod
    def _of(terms: dict, const) -> Lin:
        """A Lin of `terms` that already has no zero coefficient (not copied)."""
        out = Lin.__new__(Lin)
        out.terms, out.const, out._hash = terms, const, None
        return out

    @staticmethod
    def atom(a) -> Lin:
        return Lin({a: 1})

    def is_const(self) -> bool:
        return not self.terms

    def vars(self) -> set:
        out = set()
        for a in self.terms:
            out |= base_vars(a)
        return out

    def __add__(self, other: Lin) -> Lin:
        if not other.terms:
            return Lin._of(self.terms, self.const + other.const)
        terms = dict(self.terms)
        for a, c in other.terms.items():
            c += terms.get(a, 0)
            if c:
                terms[a] = c
            else:
                del terms[a]
        return Lin._of(terms, self.const + other.const)

    def __sub__(self, other: Lin) -> Lin:
        terms = dict(self.terms)
        for a, c in other.terms.items():
            c = terms.get(a, 0) - c
            if c:
                terms[a] = c
            else:
                del terms[a]
        return Lin._of(terms, self.const - other.const)

    def __neg__(self) -> Lin:
        return Lin._of({a: -c for a, c in self.terms.items()}, -self.const)

    def scale(self, k) -> Lin:
        if k == 0:
            return Lin()
        return Lin._of({a: c * k for a, c in self.terms.items()}, self.const * k)

    def plus(self, k) -> Lin:
        return Lin._of(self.terms, self.const + k)

    def without(self, atom) -> Lin:
        """This form without its term in `atom` (that very object)."""
        return Lin._of({a: c for a, c in self.terms.items() if a is not atom}, self.const)

    def __eq__(self, other) -> bool:
        return isinstance(other, Lin) and self.const == other.const \
            and self.terms == other.terms

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash((self.const, frozenset(self.terms.items())))
        return self._hash

    def __repr__(self) -> str:
        parts = [f"{c}*{atom_str(a)}" for a, c in self.terms.items()]
        return " + ".join(parts + [str(self.const)])


def div(x: Lin, c: int) -> Lin:
    """floor(x / c) for c > 0, pulling out the part of x divisible by c."""
    if c == 1:
        return x
    exact = Lin({a: k // c for a, k in x.terms.items() if k % c == 0})
    rest = Lin({a: k for a, k in x.terms.items() if k % c != 0}, x.const)
    if rest.is_const():
        return exact.plus(rest.const // c)
    # floor((c*X + q*c + r) / c) = X + q + floor(r' / c), with r' = rest - q*c
    q = rest.const // c
    return exact.plus(q) + Lin.atom(Div(rest.plus(-q * c), c))


def mod(x: Lin, c: int) -> Lin:
    """x mod c for c > 0 (always in 0 .. c-1), dropping multiples of c."""
    if c == 1:
        return Lin()
    rest = Lin({a: k % c for a, k in x.terms.items() if k % c != 0}, x.const % c)
    if rest.is_const():
        return rest
    return Lin.atom(Mod(rest, c))


def mul(x: Lin, y: Lin) -> Lin:
    if x.is_const():
        return y.scale(x.const)
    if y.is_const():
        return x.scale(y.const)
    lhs, rhs = (x, y) if hash(x) <= hash(y) else (y, x)
    return Lin.atom(Mul(lhs, rhs))


# Normal forms by node identity: IR nodes are immutable and rewrites share unchanged
# subtrees, so the same node is normalised again and again (every re-check of a proc,
# every query on the same access). An entry holds its node, so its id is not reused.
_MEMO_LIMIT = 200_000
_lin_memo: dict = {}
_formula_memo: dict = {}
_cmp_memo: dict = {}  # (op, id(lhs), id(rhs)) -> (lhs, rhs, formula)
_CMP = frozenset(("<", "<=", ">", ">=", "=="))


def _remembered(memo: dict, e, compute):
    """compute(e), remembered by e's identity (NotAffine too, raised again)."""
    hit = memo.get(id(e))
    if hit is not None and hit[0] is e:
        if isinstance(hit[1], NotAffine):
            raise NotAffine(*hit[1].args)
        return hit[1]
    try:
        out = compute(e)
    except NotAffine as err:
        out = err
    if len(memo) > _MEMO_LIMIT:
        memo.clear()
    memo[id(e)] = (e, out)
    if isinstance(out, NotAffine):
        raise out
    return out


def clear_memo() -> None:
    _lin_memo.clear()
    _formula_memo.clear()
    _cmp_memo.clear()


def lin_of(e: N.Expr) -> Lin:
    """The linear form of an integer expression; NotAffine outside that fragment."""
    return _remembered(_lin_memo, e, _lin_of)


def _lin_of(e: N.Expr) -> Lin:
    match e:
        case N.Const(val) if isinstance(val, int) and not isinstance(val, bool):
            return Lin(const=val)
        case N.Read(name, ()) if e.type.kind in ("int", "index", "size", "stride"):
            return Lin.atom(name)
        case N.StrideExpr(name, dim):
            return Lin.atom(Stride(name, dim))
        case N.ReadConfig(cfg, fld) if e.type.kind in ("int", "index", "size", "stride"):
            return Lin.atom(CfgField(cfg, fld))
        case N.USub(arg):
            return -lin_of(arg)
        case N.BinOp("+", lhs, rhs):
            return lin_of(lhs) + lin_of(rhs)
        case N.BinOp("-", lhs, rhs):
            return lin_of(lhs) - lin_of(rhs)
        case N.BinOp("*", lhs, rhs):
            return mul(lin_of(lhs), lin_of(rhs))
        case N.BinOp("/" | "%", lhs, rhs):
            d = lin_of(rhs)
            if not d.is_const() or d.const <= 0:
                raise NotAffine(f"division by a non-positive or non-literal: {d}")
            x = lin_of(lhs)
            return div(x, d.const) if e.op == "/" else mod(x, d.const)
    raise NotAffine(f"not an integer expression: {type(e).__name__}")


# ---------------------------------------------------------------- formulas

TRUE = ("true",)
FALSE = ("false",)


def ge0(x: Lin):
    """The formula x >= 0, tightened over the integers (divided by the gcd)."""
    if x.is_const():
        return TRUE if x.const >= 0 else FALSE
    g = _gcd(x)
    if g > 1:
        x = Lin._of({a: c // g for a, c in x.terms.items()}, x.const // g)  # (none 0)
    return ("ge", x)


def eq0(x: Lin):
    """The formula x == 0, with a canonical sign."""
    if x.is_const():
        return TRUE if x.const == 0 else FALSE
    g = _gcd(x)
    if x.const % g != 0:
        return FALSE
    lead = min(x.terms, key=hash)
    sign = 1 if x.terms[lead] > 0 else -1
    return ("eq", Lin._of({a: c // g * sign for a, c in x.terms.items()},
                          x.const // g * sign))  # (g divides each c: none becomes 0)


def _gcd(x: Lin) -> int:
    g = 0
    for c in x.terms.values():
        g = math.gcd(g, c)
    return g or 1


def conj(items):
    out = []
    for f in items:
        if f == FALSE:
            return FALSE
        if f == TRUE:
            continue
        out.extend(f[1] if f[0] == "and" else (f,))
    return TRUE if not out else out[0] if len(out) == 1 else ("and", tuple(out))


def disj(items):
    out = []
    for f in items:
        if f == TRUE:
            return TRUE
        if f == FALSE:
            continue
        out.extend(f[1] if f[0] == "or" else (f,))
    return FALSE if not out else out[0] if len(out) == 1 else ("or", tuple(out))


def negate(f):
    match f[0]:
        case "true":
            return FALSE
        case "false":
            return TRUE
        case "ge":  # not (x >= 0)  <=>  -x - 1 >= 0
            return ge0((-f[1]).plus(-1))
        case "eq":
            return disj([ge0(f[1].plus(-1)), ge0((-f[1]).plus(-1))])
        case "and":
            return disj([negate(g) for g in f[1]])
        case "or":
            return conj([negate(g) for g in f[1]])
        case "bvar":
            return ("bvar", f[1], not f[2])
    raise InternalError(f"not a formula: {f!r}")


def compare(op: str, a: Lin, b: Lin):
    """The formula `a op b` for an integer comparison."""
    match op:
        case "<":
            return ge0((b - a).plus(-1))
        case "<=":
            return ge0(b - a)
        case ">":
            return ge0((a - b).plus(-1))
        case ">=":
            return ge0(a - b)
        case "==":
            return eq0(a - b)
    raise InternalError(f"compare: not a comparison operator: {op!r}")


def formula_of(e: N.Expr):
    """The formula of a bool expression; NotAffine outside the integer fragment."""
    if isinstance(e, N.BinOp) and e.op in _CMP and e.lhs.type.kind != "bool":
        # a comparison is often built anew around the same operands (a bound to prove):
        # remember it by theirs
        key = (e.op, id(e.lhs), id(e.rhs))
        hit = _cmp_memo.get(key)
        if hit is not None and hit[0] is e.lhs and hit[1] is e.rhs:
            return hit[2]
        out = compare(e.op, lin_of(e.lhs), lin_of(e.rhs))
        if len(_cmp_memo) > _MEMO_LIMIT:
            _cmp_memo.clear()
        _cmp_memo[key] = (e.lhs, e.rhs, out)
        return out
    return _remembered(_formula_memo, e, _formula_of)


def _formula_of(e: N.Expr):
    match e:
        case N.Const(val) if isinstance(val, bool):
            return TRUE if val else FALSE
        case N.Read(name, ()) if e.type.kind == "bool":
            return ("bvar", name, True)
        case N.ReadConfig(cfg, fld) if e.type.kind == "bool":
            return ("bvar", CfgField(cfg, fld), True)
        case N.BinOp("and", lhs, rhs):
            return conj([formula_of(lhs), formula_of(rhs)])
        case N.BinOp("or", lhs, rhs):
            return disj([formula_of(lhs), formula_of(rhs)])
        case N.BinOp("==", lhs, rhs) if lhs.type.kind == "bool":
            a, b = formula_of(lhs), formula_of(rhs)
            return disj([conj([a, b]), conj([negate(a), negate(b)])])
        case N.BinOp("<" | "<=" | ">" | ">=" | "==", lhs, rhs):
            return compare(e.op, lin_of(lhs), lin_of(rhs))
    raise NotAffine(f"not a bool expression: {type(e).__name__}")


def formula_vars(f) -> set:
    match f[0]:
        case "ge" | "eq":
            return f[1].vars()
        case "and" | "or":
            out = set()
            for g in f[1]:
                out |= formula_vars(g)
            return out
        case "bvar":
            return base_vars(f[1])
    return set()


# ---------------------------------------------------------------- evaluation


def eval_lin(x: Lin, env: dict):
    """The value of x when each base variable `v` has value env[v] (KeyError if missing)."""
    total = x.const
    for a, c in x.terms.items():
        total += c * eval_atom(a, env)
    return total


def eval_atom(a, env: dict):
    if isinstance(a, Div):
        return eval_lin(a.arg, env) // a.by
    if isinstance(a, Mod):
        return eval_lin(a.arg, env) % a.by
    if isinstance(a, Mul):
        return eval_lin(a.lhs, env) * eval_lin(a.rhs, env)
    return env[a]


def eval_formula(f, env: dict) -> bool:
    match f[0]:
        case "true":
            return True
        case "false":
            return False
        case "ge":
            return eval_lin(f[1], env) >= 0
        case "eq":
            return eval_lin(f[1], env) == 0
        case "and":
            return all(eval_formula(g, env) for g in f[1])
        case "or":
            return any(eval_formula(g, env) for g in f[1])
        case "bvar":
            return bool(env[f[1]]) == f[2]
    raise InternalError(f"not a formula: {f!r}")




# ---------------------------------------------------------------- renaming


def rename_lin(x: Lin, m: dict) -> Lin:
    """x with each base variable v in `m` replaced by the variable m[v]."""
    terms: dict = {}
    for a, c in x.terms.items():
        a = rename_atom(a, m)
        terms[a] = terms.get(a, 0) + c
    return Lin(terms, x.const)


def rename_atom(a, m: dict):
    if isinstance(a, Div):
        return Div(rename_lin(a.arg, m), a.by)
    if isinstance(a, Mod):
        return Mod(rename_lin(a.arg, m), a.by)
    if isinstance(a, Mul):
        return Mul(rename_lin(a.lhs, m), rename_lin(a.rhs, m))
    return m.get(a, a)


def rename_formula(f, m: dict):
    """f with each base variable v in `m` replaced by the variable m[v]."""
    match f[0]:
        case "ge" | "eq":
            return (f[0], rename_lin(f[1], m))
        case "and" | "or":
            return (f[0], tuple(rename_formula(g, m) for g in f[1]))
        case "bvar":
            return ("bvar", rename_atom(f[1], m), f[2])
    return f
