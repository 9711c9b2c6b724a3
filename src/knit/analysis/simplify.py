"""The expression simplifier behind the `simplify` primitive and every rewrite's clean-up.

`simplify_expr(e, ranges)` returns an expression equal to `e` for every value of its free
variables allowed by `ranges` (inclusive integer bounds per control variable; a `size`
variable is always >= 1). `simplify_proc(p)` simplifies every expression of a procedure,
learning ranges on the way down (sizes, loop bounds, preconditions, `if` conditions). It
changes expressions only: `if True:` stays (removing it is `eliminate_dead_code`'s job).

Index expressions (int, index, size, stride) are normalised to a canonical sum
`c1*t1 + c2*t2 + ... + c0`: like terms combined, zero terms dropped, constants folded.
A term is a variable, `stride(x, d)`, a config field, `(sum) / c`, `(sum) % c` (c > 0,
floor semantics as in Python), or an opaque product of non-constant strides. Printing
follows first appearance in the input, the constant last, the coefficient first, and
subtraction instead of negative coefficients: `8 * io + ii - 3`, `N - i`, `3 - i`.
The division and modulo rules (`_Simplifier.div`, `.mod`, `.tidy`) hold for every
integer value of the terms, except those marked "when the range proves", which use the
interval of the remainder: `(8 * io + ii) / 8 -> io` needs 0 <= ii < 8. New nodes get
the types the parser would give them; a new root keeps the type of the node it replaces.

Bool expressions: constant and interval-decided comparisons fold to True/False, the
`and`/`or` identities apply, and terms common to both sides of a comparison cancel.
Deciding uses interval arithmetic over `ranges` only (no symbolic proof: that is z3's job
in analysis/smt.py).

Data expressions (real types) are simplified only by IEEE-754-exact rules, and floating-
point arithmetic is never reassociated:
  - `x * 1.0`, `x / 1.0`, `x - 0.0` and `x + -0.0` become `x` (exact for every x).
  - `x + 0.0` is KEPT: -0.0 + 0.0 is +0.0, so it is not an identity. (Exo folds it, which
    can turn a +0.0 result into -0.0; knit keeps the program's meaning.) For integer data
    types (i8, ui8, ui16, i32) `x + 0 -> x` does hold and is applied.
  - `x * 0.0` is never folded (x may be NaN or infinite, or -0.0 would be lost).
  - Literal arithmetic folds only when exact: typed float literals are rounded to their
    precision; untyped `R` literals (whose C precision comes from context) fold only when
    operands and result are integers of magnitude <= 2048, exact in every precision.
"""

from __future__ import annotations

import functools
import math
import operator
import struct
from dataclasses import replace
from math import gcd

from knit.ir import nodes as N, types as T
from knit.ir.printer import WrittenInt
from knit.ir.srcinfo import NO_SRC
from knit.ir.sym import Sym

Range = tuple[int | None, int | None]
_ANY: Range = (None, None)
_INDEX_KINDS = frozenset({"int", "index", "size", "stride"})
_COMPARE = frozenset({"<", ">", "<=", ">=", "=="})


def simplify_expr(e: N.Expr, ranges: dict[Sym, Range] | None = None) -> N.Expr:
    """An expression equal to `e` wherever each variable lies in its range (see module doc).

    The result keeps `e`'s type and srcinfo when it is a newly built node; `e` itself is
    returned when nothing simplifies."""
    # a function of e and the ranges alone: an expression object met again under the
    # same ranges (a statement rebuilt around it, the procedure simplified again) is
    # answered as the first time
    key = (id(e), frozenset(ranges.items()) if ranges else None)
    hit = _EXPRS.get(key)
    if hit is not None and hit[0] is e:
        return hit[1]
    # and so is an expression equal to one met before, down to every position and
    # literal's written form, under the same ranges of the variables it reads (the only
    # ones the simplifier looks up): a rewrite rebuilds statements around copies of the
    # same index expressions, and an enclosing loop's new bounds change nothing here
    skey = _same_key(e, ranges)
    shit = _SAME.get(skey) if skey is not None else None
    if shit is not None and _identical(shit[0], e):
        out = e if shit[1] is shit[0] else shit[1]
    else:
        out = _Simplifier(ranges).simp(e)
        if out == e:
            out = e
        elif out.srcinfo is NO_SRC:
            out = out.with_(srcinfo=e.srcinfo)
        if skey is not None:
            if len(_SAME) >= 50_000:
                _SAME.clear()
            _SAME[skey] = (e, out)
    if len(_EXPRS) >= 50_000:  # a bound: each entry keeps two expressions alive
        _EXPRS.clear()
    _EXPRS[key] = (e, out)
    return out


_EXPRS: dict = {}  # (id(expr), ranges) -> (expr, simplify_expr of it)
_SAME: dict = {}  # (expr, ranges of its variables) -> (expr, simplify_expr of it)


def _same_key(e: N.Expr, ranges) -> tuple | None:
    """(e, the ranges of the variables e reads, in its sub-expressions and in the
    dimensions of its tensor types, which the simplifier simplifies too), or None for an
    expression of a kind not listed here."""
    names = set()
    stack = [e]
    while stack:
        x = stack.pop()
        if not isinstance(x, _SAME_KINDS):
            return None
        if x.type.is_tensor():
            stack.extend(x.type.dims)
        if isinstance(x, N.Read):
            names.add(x.name)
            stack.extend(x.idx)
        elif isinstance(x, N.BinOp):
            stack.append(x.lhs)
            stack.append(x.rhs)
        elif isinstance(x, N.USub):
            stack.append(x.arg)
        elif isinstance(x, N.WindowExpr):
            names.add(x.name)
            for w in x.idx:
                stack.extend((w.lo, w.hi) if isinstance(w, N.Interval) else (w.pt,))
    if not ranges:
        return e, None
    return e, frozenset((v, r) for v, r in ranges.items() if v in names)


_SAME_KINDS = (N.Read, N.Const, N.BinOp, N.USub, N.StrideExpr, N.ReadConfig, N.WindowExpr)


def _identical(a, b) -> bool:
    """Whether two equal expressions also agree in what equality ignores and the result
    can show: every node's position (windows' accesses and tensor types' dimensions
    included), each literal's written form (1 == 1.0 == True, 0.0 == -0.0, and
    WrittenInt(1) == 1.0 print differently), and whether a window is written whole."""
    if a is b:
        return True
    if type(a) is not type(b) or a.srcinfo != b.srcinfo:
        return False
    if isinstance(a, (N.Interval, N.Point)):
        return all(map(_identical, _waccess_parts(a), _waccess_parts(b)))
    if a.type.is_tensor() and not all(map(_identical, a.type.dims, b.type.dims)):
        return False
    if isinstance(a, N.Const):
        return type(a.val) is type(b.val) and repr(a.val) == repr(b.val)
    if isinstance(a, N.Read):
        return all(map(_identical, a.idx, b.idx))
    if isinstance(a, N.BinOp):
        return _identical(a.lhs, b.lhs) and _identical(a.rhs, b.rhs)
    if isinstance(a, N.USub):
        return _identical(a.arg, b.arg)
    if isinstance(a, N.WindowExpr):
        return a.whole == b.whole and all(map(_identical, a.idx, b.idx))
    return True  # StrideExpr, ReadConfig: no sub-expressions


def _waccess_parts(w) -> tuple:
    return (w.lo, w.hi) if isinstance(w, N.Interval) else (w.pt,)


def index_range(e: N.Expr, ranges: dict[Sym, Range] | None = None) -> Range:
    """Inclusive bounds of an index expression by interval arithmetic (None: unbounded)."""
    s = _Simplifier(ranges)
    return s.range(s.lin(e))


# ---------------------------------------------------------------- intervals


def _add_r(a: Range, b: Range) -> Range:
    lo = None if a[0] is None or b[0] is None else a[0] + b[0]
    hi = None if a[1] is None or b[1] is None else a[1] + b[1]
    return lo, hi


def _scale_r(r: Range, k: int) -> Range:
    lo = None if r[0] is None else r[0] * k
    hi = None if r[1] is None else r[1] * k
    return (lo, hi) if k >= 0 else (hi, lo)


def _div_r(r: Range, c: int) -> Range:
    return (None if r[0] is None else r[0] // c, None if r[1] is None else r[1] // c)


def _meet(a: Range, b: Range) -> Range:
    lo = a[0] if b[0] is None else b[0] if a[0] is None else max(a[0], b[0])
    hi = a[1] if b[1] is None else b[1] if a[1] is None else min(a[1], b[1])
    return lo, hi


def _same_quotient(r: Range, c: int) -> int | None:
    """floor(y / c) when it is the same for every y in r, else None."""
    if r[0] is None or r[1] is None or r[0] // c != r[1] // c:
        return None
    return r[0] // c


@functools.lru_cache(maxsize=1024)
def _divisors(c: int) -> tuple[int, ...]:
    """The divisors g of c with 1 < g < c, greatest first."""
    return tuple(g for g in range(c - 1, 1, -1) if c % g == 0)


def _trunc_rem(k: int, c: int) -> int:
    """k minus the multiple of c nearest zero (keeps the sign: -9 % 8 -> -1, not 7)."""
    return k % c if k >= 0 else -(-k % c)


# ---------------------------------------------------------------- linear forms


class _Lin:
    """sum(coeff * term) + const. Terms are keys into _Simplifier.info, in order of first
    appearance; a coefficient may be 0 until `clean()` (so order survives cancellation)."""

    __slots__ = ("const", "terms")

    def __init__(self, terms: dict, const: int):
        self.terms, self.const = terms, const

    def add(self, other: _Lin, k: int = 1) -> _Lin:
        terms = dict(self.terms)
        for t, c in other.terms.items():
            terms[t] = terms.get(t, 0) + k * c
        return _Lin(terms, self.const + k * other.const)

    def scale(self, k: int) -> _Lin:
        return _Lin({t: c * k for t, c in self.terms.items()}, self.const * k)

    def plus(self, k: int) -> _Lin:
        return _Lin(self.terms, self.const + k)

    def clean(self) -> _Lin:
        return _Lin({t: c for t, c in self.terms.items() if c}, self.const)

    def is_const(self) -> bool:
        return not any(self.terms.values())

    def key(self):
        return frozenset((t, c) for t, c in self.terms.items() if c), self.const


def _const(v, typ: T.ScalarT = T.INT) -> N.Const:
    return N.Const(v, typ, NO_SRC)


def _itype(op: str, a: T.ScalarT, b: T.ScalarT) -> T.ScalarT:
    """The type the parser gives `a op b` (frontend/typecheck.py), so printed code re-parses
    to the same types: stride is contagious, literals stay int, sums of sizes are sizes."""
    if T.STRIDE in (a, b):
        return T.STRIDE
    if a == b == T.INT:
        return T.INT
    if op in ("+", "*") and a in (T.SIZE, T.INT) and b in (T.SIZE, T.INT):
        return T.SIZE
    return T.INDEX


def _mk(op: str, a: N.Expr, b: N.Expr) -> N.BinOp:
    return N.BinOp(op, a, b, _itype(op, a.type, b.type), NO_SRC)


def _neg(a: N.Expr) -> N.USub:
    typ = T.STRIDE if a.type == T.STRIDE else T.INT if a.type == T.INT else T.INDEX
    return N.USub(a, typ, NO_SRC)


# ---------------------------------------------------------------- the simplifier


class _Simplifier:
    def __init__(self, ranges: dict[Sym, Range] | None):
        self.ranges = ranges or {}
        # term key -> (expression, range, (op, arg _Lin, divisor) for / and % terms)
        self.info: dict = {}
        # id(e) -> (e, lin(e)): `printed` asks again for the linear form of each operand
        # of a sum it rebuilds (quadratic in the depth otherwise); a function of e, the
        # ranges and the terms already met, which are only ever added to, never changed
        self.lins: dict = {}

    def simp(self, e: N.Expr) -> N.Expr:
        """Dispatch on the type of e."""
        t = e.type
        if t.is_tensor():
            return self.tensor(e)
        if t.kind in _INDEX_KINDS:
            return self.index(e)
        if t.kind == "bool":
            return self.boolean(e)
        return self.data(e)

    # ------------------------------------------------------------ index expressions

    def index(self, e: N.Expr) -> N.Expr:
        out = self.printed(e)
        if isinstance(out, (N.BinOp, N.USub)):  # a new root: e's type and position
            out = out.with_(type=e.type, srcinfo=e.srcinfo)
        elif isinstance(out, N.Const):
            out = N.Const(out.val, T.INT, e.srcinfo)  # literals are int (divisors must be)
        return out

    def part(self, e: N.Expr) -> N.Expr:
        """`index` of an operand in `shape`: typed as the parser types the printed form (`-1 * N` is
        a size as written, `-N` an index), so the printed code re-parses to the same tree;
        only the root keeps the original's type (`index`)."""
        out = self.printed(e)
        if isinstance(out, N.Const):
            return N.Const(out.val, T.INT, e.srcinfo)
        return out.with_(srcinfo=e.srcinfo) if isinstance(out, (N.BinOp, N.USub)) else out

    def printed(self, e: N.Expr) -> N.Expr:
        """The simplified form of an index expression, printed as Exo prints it: a sum of
        variables in Exo's normal form (`build`); a sum with a division, modulo, stride or
        config term keeps the shape it was written in, its parts simplified, unless
        simplifying combines or drops some of its summands (then `build`'s form)."""
        x = self.tidy(self.lin(e))
        if self.plain(x):
            return self.build(x)
        s = self.shape(e)
        return s if _summands(s) == _parts(x) else self.build(x)

    def written(self, e: N.Expr) -> N.Expr:
        """e itself when it is a sum of variables and literals that simplifying would not
        shorten (it combines, folds or drops none of its summands); otherwise its
        simplified form."""
        if e.type.kind in _INDEX_KINDS and _linear_syntax(e):
            x = self.lin(e)
            if self.plain(x) and _summands(e) == _parts(x):
                return e
        return self.simp(e)

    def plain(self, x: _Lin) -> bool:
        """Whether every term of x is a variable (Exo normalises only such sums)."""
        return all(_is_var(self.info[t][0]) for t, k in x.terms.items() if k)

    def shape(self, e: N.Expr) -> N.Expr:
        """e with the operands of its + - * and unary - simplified in place, and Exo's
        identities folded (literal arithmetic, `0 + x`, `x - 0`, `0 - x`, `1 * x`)."""
        match e:
            case N.BinOp(op="+" | "-" | "*" as op, lhs=a, rhs=b):
                a, b = self.part(a), self.part(b)
                folded = _fold_index(op, a, b)
                return folded if folded is not None else _mk(op, a, b)
            case N.USub(arg=a):
                a = self.part(a)
                return _const(-a.val) if isinstance(a, N.Const) else _neg(a)
        return self.build(self.tidy(self.lin(e)))

    def lin(self, e: N.Expr) -> _Lin:
        """The linear form of an index expression (callers never change it in place)."""
        hit = self.lins.get(id(e))
        if hit is not None and hit[0] is e:
            return hit[1]
        out = self._lin(e)
        self.lins[id(e)] = (e, out)  # (e kept: its id is not reused while remembered)
        return out

    def _lin(self, e: N.Expr) -> _Lin:
        match e:
            case N.Const(val=v) if type(v) is int:
                return _Lin({}, v)
            case N.USub(arg=a):
                return self.lin(a).scale(-1)
            case N.BinOp(op="+", lhs=a, rhs=b):
                return self.lin(a).add(self.lin(b))
            case N.BinOp(op="-", lhs=a, rhs=b):
                return self.lin(a).add(self.lin(b), -1)
            case N.BinOp(op="*", lhs=a, rhs=b):
                return self.mul(e, self.lin(a), self.lin(b))
            case N.BinOp(op="/" | "%", lhs=a, rhs=b):
                x, d = self.tidy(self.lin(a)), self.lin(b)
                if d.is_const() and d.const > 0:
                    return self.div(x, d.const, a) if e.op == "/" else \
                        self.mod(x, d.const, a)
                return self.opaque(N.BinOp(e.op, self.build(x), self.build(d), e.type))
        return self.leaf(e)

    def leaf(self, e: N.Expr) -> _Lin:
        if isinstance(e, N.Read) and not e.idx:
            rng = self.ranges.get(e.name, _ANY)
            if e.type == T.SIZE:
                rng = _meet(rng, (1, None))  # a size is positive
            return self.term(e, e, rng)
        if isinstance(e, (N.StrideExpr, N.ReadConfig)):
            return self.term(e, e, _ANY)
        return self.opaque(self.children(e))

    def children(self, e: N.Expr) -> N.Expr:
        """e with the arguments of a read or an extern call simplified."""
        if isinstance(e, N.Read) and e.idx:
            return e.with_(idx=tuple(self.simp(i) for i in e.idx))
        if isinstance(e, N.Extern):
            return e.with_(args=tuple(self.simp(x) for x in e.args))
        return e

    def opaque(self, e: N.Expr) -> _Lin:
        return self.term(e, e, _ANY)

    def term(self, key, e: N.Expr, rng: Range, how=None) -> _Lin:
        if key not in self.info:
            self.info[key] = (e, rng, how)
        return _Lin({key: 1}, 0)

    def mul(self, e: N.BinOp, a: _Lin, b: _Lin) -> _Lin:
        if b.is_const():
            return a.scale(b.const)  # x * c -> c*x, folded into the sum
        if a.is_const():
            return b.scale(a.const)  # c * x
        # a product of two non-constants (strides only): an opaque term
        return self.opaque(N.BinOp("*", self.build(a), self.build(b), e.type))

    def div(self, x: _Lin, c: int, src: N.Expr | None = None) -> _Lin:
        """floor(x / c) for a literal c > 0; `src`, an expression of value x, gives the
        printed form of the dividend when the division stays whole."""
        x = x.clean()
        if c == 1:
            return x  # x / 1 -> x
        if x.is_const():
            return _Lin({}, x.const // c)  # fold: 7 / 2 -> 3
        inner = self.single(x, "/")
        if inner is not None:  # (x / a + k) / b -> (x + a*k) / (a*b)
            arg, a = inner
            return self.div(arg.plus(a * x.const), a * c)
        g = gcd(c, *x.terms.values())
        if g > 1:  # (g*x + k) / (g*c) -> (x + k // g) / c
            return self.div(_Lin({t: k // g for t, k in x.terms.items()}, x.const // g), c // g)
        # (c*x + y) / c -> x + y / c: pull out the terms (and constant) divisible by c
        exact = _Lin({t: k // c for t, k in x.terms.items() if k % c == 0}, 0)
        rest = _Lin({t: k for t, k in x.terms.items() if k % c}, _trunc_rem(x.const, c))
        exact.const = (x.const - rest.const) // c
        q = _same_quotient(self.range(rest), c)
        if q is not None:
            return exact.plus(q)  # y / c -> q when the range of y proves floor(y / c) = q
        for g in _divisors(c):  # (g*y + r) / (g*m) -> y / m when 0 <= r < g
            small = _Lin({t: k for t, k in x.terms.items() if k % g}, x.const % g)
            lo, hi = self.range(small)
            if lo is not None and hi is not None and 0 <= lo and hi < g:
                big = _Lin({t: k // g for t, k in x.terms.items() if k % g == 0},
                           (x.const - small.const) // g)
                return self.div(big, c // g)
        # otherwise the division stays whole, as Exo keeps it: pulling out only the
        # divisible terms (`(8*i + 2*j + 3) / 3 -> (8*i + 2*j) / 3 + 1`) is no simpler
        key = ("/", x.key(), c)
        return self.term(key, _mk("/", self.operand(x, src), _const(c)),
                         _div_r(self.range(x), c), ("/", x, c))

    def mod(self, x: _Lin, c: int, src: N.Expr | None = None) -> _Lin:
        """x mod c (in 0 .. c-1) for a literal c > 0 (`src` as for `div`)."""
        x = x.clean()
        if c == 1:
            return _Lin({}, 0)  # x % 1 -> 0
        if x.is_const():
            return _Lin({}, x.const % c)  # fold: -7 % 3 -> 2
        inner = self.single(x, "%")
        if inner is not None and inner[1] % c == 0:  # (x % a + k) % b -> (x + k) % b, b | a
            return self.mod(inner[0].plus(x.const), c)
        # (c*x + y) % c -> y % c: the terms with a coefficient divisible by c dropped,
        # the others kept as written (Exo's form: `(8*i + 3) % 5` stays)
        rest = _Lin({t: k for t, k in x.terms.items() if k % c},
                    x.const if x.const % c else 0).clean()
        if rest.is_const():
            return _Lin({}, rest.const % c)
        q = _same_quotient(self.range(rest), c)
        if q is not None:
            return rest.plus(-q * c)  # y % c -> y - q*c when the range proves floor(y/c) = q
        key = ("%", rest.key(), c)
        src = src if rest.key() == x.key() else None
        return self.term(key, _mk("%", self.operand(rest, src), _const(c)), (0, c - 1),
                         ("%", rest, c))

    def operand(self, x: _Lin, src: N.Expr | None) -> N.Expr:
        """The printed dividend of a division or modulo that stays: x in normal form, or
        the shape of `src` (of value x) when x has terms other than variables."""
        return self.build(x) if src is None or self.plain(x) else self.printed(src)

    def single(self, x: _Lin, op: str):
        """(arg, divisor) when x is `arg op divisor + k`, a lone / or % term with coeff 1."""
        if len(x.terms) != 1:
            return None
        (t, k), = x.terms.items()
        how = self.info[t][2]
        return (how[1], how[2]) if k == 1 and how is not None and how[0] == op else None

    def tidy(self, x: _Lin) -> _Lin:
        """c*m*(y / c) + m*(y % c) -> m*y: a quotient and its remainder recombine."""
        for t in [t for t in x.terms if isinstance(t, tuple) and t[0] == "%"]:
            k, (_, arg, c) = x.terms[t], self.info[t][2]
            q = ("/", t[1], c)
            if k and x.terms.get(q) == k * c:
                x = x.add(_Lin({t: k, q: k * c}, 0), -1).add(arg, k)
        return x

    def range(self, x: _Lin) -> Range:
        rng = (x.const, x.const)
        for t, k in x.terms.items():
            if k:
                rng = _add_r(rng, _scale_r(self.info[t][1], k))
        return rng

    def build(self, x: _Lin) -> N.Expr:
        """The normal form Exo's `simplify` prints: the constant first, then the variables
        by coefficient, then name (`-1 + i`, `3 + 2 * j + 8 * i`, `ii + 4 * io`,
        `-(8 * n) + 10 * m`), each added or, when its coefficient is negative, subtracted.
        Other terms (divisions, strides, ...) follow in order of first appearance."""
        items = [(self.info[t][0], k) for t, k in x.terms.items() if k]
        variables = sorted((p for p in items if _is_var(p[0])),
                           key=lambda p: (p[1], p[0].name.name, p[0].name.id))
        out = _const(x.const) if x.const else None
        for e, k in variables + [p for p in items if not _is_var(p[0])]:
            t = e if abs(k) == 1 else _mk("*", _const(abs(k)), e)
            if out is None:
                out = t if k > 0 else _neg(t)
            else:
                out = _mk("+" if k > 0 else "-", out, t)
        return out if out is not None else _const(0)

    # ------------------------------------------------------------ bool expressions

    def boolean(self, e: N.Expr) -> N.Expr:
        match e:
            case N.BinOp(op=op, lhs=a, rhs=b) if op in _COMPARE and a.type.kind in _INDEX_KINDS:
                return self.compare(e, op, a, b)
            case N.BinOp(op=op, lhs=a, rhs=b):
                a, b = self.simp(a), self.simp(b)
                out = _bool_rule(op, a, b)
                return out if out is not None else e.with_(lhs=a, rhs=b)
        return self.children(e)

    def compare(self, e: N.BinOp, op: str, a: N.Expr, b: N.Expr) -> N.Expr:
        x, y = self.tidy(self.lin(a)), self.tidy(self.lin(b))
        decided = _decide(op, self.range(x.add(y, -1)))
        if decided is not None:
            return N.Const(decided, T.BOOL, e.srcinfo)  # the ranges decide it
        x1, y1 = _cancel(x, y)  # i + 1 < N + 3 -> i < N + 2;  8*io + ii < 8*io + 8 -> ii < 8
        # a side nothing cancelled from is printed as a lone index expression would be
        lhs = self.index(a) if x1.key() == x.key() and not self.plain(x) else self.build(x1)
        rhs = self.index(b) if y1.key() == y.key() and not self.plain(y) else self.build(y1)
        return e.with_(lhs=lhs, rhs=rhs)

    # ------------------------------------------------------------ data expressions

    def data(self, e: N.Expr) -> N.Expr:
        match e:
            case N.BinOp(op=op, lhs=a, rhs=b):
                a, b = self.simp(a), self.simp(b)
                out = _fold_data(op, a, b, e.type)
                if out is None:
                    out = _data_rule(op, a, b)
                if out is not None and out.type == e.type:
                    return out
                return e.with_(lhs=a, rhs=b)
            case N.USub(arg=a):
                a = self.simp(a)
                if isinstance(a, N.Const) and a.type == e.type and _fits(-a.val, e.type):
                    return N.Const(-a.val, e.type, e.srcinfo)  # -(c) -> the literal -c
                if isinstance(a, N.USub) and a.arg.type == e.type:
                    return a.arg  # -(-x) -> x (negation is exact)
                return e.with_(arg=a)
        return self.children(e)

    # ------------------------------------------------------------ tensors and windows

    def tensor(self, e: N.Expr) -> N.Expr:
        typ = self.type(e.type)
        if isinstance(e, N.WindowExpr):
            return e.with_(idx=tuple(self.waccess(w) for w in e.idx), type=typ)
        if isinstance(e, N.Read):
            return e.with_(idx=tuple(self.simp(i) for i in e.idx), type=typ)
        return e

    def waccess(self, w):
        if isinstance(w, N.Interval):
            return N.Interval(self.simp(w.lo), self.simp(w.hi), w.srcinfo)
        return N.Point(self.simp(w.pt), w.srcinfo)

    def type(self, t: T.Type) -> T.Type:
        if not t.is_tensor():
            return t
        dims = tuple(self.simp(d) for d in t.dims)
        return t if dims == t.dims else T.TensorT(dims, t.is_window, t.elem)


def _is_var(e: N.Expr) -> bool:
    return isinstance(e, N.Read) and not e.idx


def _linear_syntax(e: N.Expr) -> bool:
    """Whether e is written with + - * and unary - of variables and literals only."""
    match e:
        case N.BinOp(op="+" | "-" | "*", lhs=a, rhs=b):
            return _linear_syntax(a) and _linear_syntax(b)
        case N.USub(arg=a):
            return _linear_syntax(a)
    return isinstance(e, N.Const) or _is_var(e)


def _parts(x: _Lin) -> int:
    """How many summands x prints as: its terms and its constant."""
    return sum(1 for k in x.terms.values() if k) + (1 if x.const else 0)


def _summands(e: N.Expr) -> int:
    """How many summands e is written with (a literal factor does not count)."""
    match e:
        case N.BinOp(op="+" | "-", lhs=a, rhs=b):
            return _summands(a) + _summands(b)
        case N.USub(arg=a):
            return _summands(a)
        case N.BinOp(op="*", lhs=N.Const(), rhs=a) | N.BinOp(op="*", lhs=a, rhs=N.Const()):
            return _summands(a)
    return 1


def _fold_index(op: str, a: N.Expr, b: N.Expr) -> N.Expr | None:
    """Exo's identities of index arithmetic, or None."""
    ka = a.val if isinstance(a, N.Const) else None
    kb = b.val if isinstance(b, N.Const) else None
    if ka is not None and kb is not None:
        return _const({"+": operator.add, "-": operator.sub, "*": operator.mul}[op](ka, kb))
    if op == "+" and ka == 0:
        return b
    if op in "+-" and kb == 0:
        return a
    if op == "-" and ka == 0:
        return _neg(b)
    if op == "*" and (ka == 0 or kb == 0):
        return _const(0)
    if op == "*" and ka == 1:
        return b
    if op == "*" and kb == 1:
        return a
    return None


# ---------------------------------------------------------------- rule tables


# op: (proven true, proven false), given lo <= lhs - rhs <= hi
_DECIDE = {
    "<": (lambda lo, hi: hi < 0, lambda lo, hi: lo >= 0),
    "<=": (lambda lo, hi: hi <= 0, lambda lo, hi: lo > 0),
    ">": (lambda lo, hi: lo > 0, lambda lo, hi: hi <= 0),
    ">=": (lambda lo, hi: lo >= 0, lambda lo, hi: hi < 0),
    "==": (lambda lo, hi: lo == hi == 0, lambda lo, hi: lo > 0 or hi < 0),
}


def _decide(op: str, d: Range) -> bool | None:
    """`lhs op rhs` from the range d of lhs - rhs, or None when d does not decide it."""
    lo = -math.inf if d[0] is None else d[0]
    hi = math.inf if d[1] is None else d[1]
    proves_true, proves_false = _DECIDE[op]
    return True if proves_true(lo, hi) else False if proves_false(lo, hi) else None


def _cancel(x: _Lin, y: _Lin) -> tuple[_Lin, _Lin]:
    """Subtract what both sides of a comparison share; the net stays on the side where it
    is positive, so `x op y` keeps its meaning and both sides read naturally."""
    xt, yt = dict(x.terms), dict(y.terms)
    for t, k in xt.items():
        if t in yt:  # assigned in place, so the printed order stays
            d = k - yt[t]
            xt[t], yt[t] = max(d, 0), max(-d, 0)
    xc, yc = x.const, y.const
    if xc and yc:
        xc, yc = max(xc - yc, 0), max(yc - xc, 0)
    return _Lin(xt, xc).clean(), _Lin(yt, yc).clean()


def _bool_rule(op: str, a: N.Expr, b: N.Expr) -> N.Expr | None:
    match op, a, b:
        case "and", N.Const(val=True), _:  # True and c -> c
            return b
        case "and", _, N.Const(val=True):  # c and True -> c
            return a
        case "and", N.Const(val=False), _:  # False and c -> False
            return a
        case "and", _, N.Const(val=False):  # c and False -> False
            return b
        case "or", N.Const(val=True), _:  # True or c -> True
            return a
        case "or", _, N.Const(val=True):  # c or True -> True
            return b
        case "or", N.Const(val=False), _:  # False or c -> c
            return b
        case "or", _, N.Const(val=False):  # c or False -> c
            return a
        case "and" | "or", _, _ if a == b:  # c and c -> c, c or c -> c
            return a
        case "==", N.Const(val=True), _:  # True == c -> c
            return b
        case "==", _, N.Const(val=True):  # c == True -> c
            return a
        case "==", N.Const(), N.Const():  # fold
            return _const(a.val == b.val, T.BOOL)
        case "==", _, _ if a == b:  # c == c -> True
            return _const(True, T.BOOL)
    return None


def _data_rule(op: str, a: N.Expr, b: N.Expr) -> N.Expr | None:
    """IEEE-exact identities; the caller keeps the result only if its type is unchanged."""
    match op, a, b:
        case "*", _, N.Const(val=1.0):  # x * 1.0 -> x
            return a
        case "*", N.Const(val=1.0), _:  # 1.0 * x -> x
            return b
        case "/", _, N.Const(val=1.0):  # x / 1.0 -> x
            return a
        case "-", _, N.Const(val=0.0) if _sign(b.val) > 0:  # x - 0.0 -> x
            return a
        case "+", _, N.Const(val=0.0) if _sign(b.val) < 0:  # x + -0.0 -> x
            return a
        case "+", N.Const(val=0.0), _ if _sign(a.val) < 0:  # -0.0 + x -> x
            return b
        case "+" | "-", _, N.Const(val=0.0) if _int_data(a):  # x +- 0 -> x (ints)
            return a
        case "+", N.Const(val=0.0), _ if _int_data(b):  # 0 + x -> x (ints)
            return b
    return None


def _sign(v) -> float:
    return math.copysign(1.0, v)


def _int_data(e: N.Expr) -> bool:
    return e.type.is_real() and not e.type.is_float()


_ARITH = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv}
_INT_BOUNDS = {"i8": (-(2**7), 2**7 - 1), "ui8": (0, 2**8 - 1), "ui16": (0, 2**16 - 1),
               "i32": (-(2**31), 2**31 - 1)}
_EXACT_R = 2048  # every integer of at most this magnitude is exact in f16, f32, f64, ints


def _fold_data(op: str, a: N.Expr, b: N.Expr, typ: T.ScalarT) -> N.Const | None:
    """c1 op c2 for literals of the expression's type, when the result is exact: computed
    as docs/semantics.md says (untyped literals in double, #literal-type; each float
    operation rounded to its type, #f16; integers only within their range, #int-arith)."""
    if not (isinstance(a, N.Const) and isinstance(b, N.Const) and a.type == b.type == typ):
        return None
    if op not in _ARITH or (op == "/" and b.val == 0):
        return None
    if typ == T.R:
        v = _ARITH[op](a.val, b.val)
        ok = all(float(x).is_integer() and abs(x) <= _EXACT_R for x in (a.val, b.val, v))
        if ok and op != "/" and isinstance(a.val, WrittenInt) and isinstance(b.val, WrittenInt):
            return _const(WrittenInt(v), typ)  # 1 + 2 -> 3, as written in integers
        return _const(float(v), typ) if ok else None
    if typ.is_float():
        x, y = _round(a.val, typ), _round(b.val, typ)
        if x is None or y is None or (op == "/" and y == 0):
            return None
        v = _round(_ARITH[op](x, y), typ)
        return _const(v, typ) if v is not None else None
    lo, hi = _INT_BOUNDS.get(typ.name, (0, -1))
    if op == "/" or not all(float(x).is_integer() for x in (a.val, b.val)):
        return None
    v = _ARITH[op](a.val, b.val)
    return _const(type(a.val)(v), typ) if lo <= v <= hi else None


def _fits(v, typ: T.ScalarT) -> bool:
    """Whether v is a value of typ: -(-2^31) is not an i32 (it wraps, semantics.md#int-arith)."""
    lo, hi = _INT_BOUNDS.get(typ.name, (None, None))
    return lo is None or lo <= v <= hi


def _round(v: float, typ: T.ScalarT) -> float | None:
    """v rounded to the precision of typ (once: the double result of + - * / of two values
    of a narrower precision, rounded again, is the correctly rounded result), or None if
    it overflows or is not finite."""
    fmt = {"f32": "f", "f16": "e"}.get(typ.name)
    try:
        v = struct.unpack(fmt, struct.pack(fmt, v))[0] if fmt else float(v)
    except OverflowError:
        return None
    return v if math.isfinite(v) else None


# ---------------------------------------------------------------- procedures


def simplify_proc(proc: N.Proc, prune: bool = False) -> N.Proc:
    """Every expression of `proc` simplified, with ranges from sizes (>= 1), loop bounds,
    preconditions of the form `v op literal`, and `if` conditions; inside the branch of
    an `if E == c` (E not a lone variable), E itself reads as c. Statements are rebuilt
    with `with_`, so their identities (sids) survive; unchanged parts are shared.

    A precondition that simplifies to True is kept as written (`assert N >= 1` on a size
    states what the caller must pass; dropping it would change the procedure's contract
    as printed). With `prune` (the `simplify` primitive, as Exo's), statements that
    cannot matter go too: an `if` whose condition folds to a literal is replaced by the
    branch that runs, and a loop `seq(c, d)` over literals with d <= c, which runs no
    iteration, is removed. Rewrites' own clean-ups keep statements (prune=False)."""
    ranges = {a.name: (1, None) for a in proc.args if a.type == T.SIZE}
    args = tuple(_arg(a, ranges) for a in proc.args)
    preds = tuple(p if _is_true(q) else q
                  for p, q in ((p, simplify_expr(p, ranges)) for p in proc.preds))
    # the primitive also reads each `assert E == c` as E = c in the body (Exo's
    # halide ops rewrite `n % 4` to 0 under `assert n % 4 == 0` before simplifying)
    facts = tuple(f for p in preds for f in _equalities(p) if not _reads_config(f[0])) \
        if prune else ()
    body = _block(proc.body, _narrow(ranges, preds, True), _Ctx(prune, facts))
    if prune and not body:
        body = (N.Pass(proc.srcinfo),)
    if _all_same(args, proc.args) and _all_same(preds, proc.preds) and \
            _all_same(body, proc.body):
        return proc
    return proc.with_(args=args, preds=preds, body=body)


class _Ctx:
    """What the statements of a block are simplified under besides ranges: whether to
    prune (see simplify_proc) and the facts `E == c` of the enclosing `if`s."""

    __slots__ = ("prune", "facts", "kinds")

    def __init__(self, prune: bool, facts: tuple):
        self.prune, self.facts = prune, facts
        self.kinds = frozenset(type(lhs) for lhs, _ in facts)  # (what _use_facts looks for)

    def under(self, cond: N.Expr) -> _Ctx:
        # not a config's value: the branch may write the config before it reads E again
        # (`if Cfg.n == 2: Cfg.n = 5; for i in seq(0, Cfg.n)`), as for asserts above
        new = tuple(f for f in _equalities(cond) if not _reads_config(f[0]))
        return self if not new else _Ctx(self.prune, self.facts + new)


def _equalities(cond: N.Expr):
    """(E, literal) for each conjunct `E == c` / `c == E` of an index condition, E not a
    lone variable (ranges already pin those); and, from `X / m == 0`, X % m reads as X."""
    for c in _conjuncts(cond):
        if not (isinstance(c, N.BinOp) and c.op == "=="):
            continue
        e, k = (c.lhs, c.rhs) if isinstance(c.rhs, N.Const) else (c.rhs, c.lhs)
        if not (isinstance(k, N.Const) and type(k.val) is int) or isinstance(e, N.Const) \
                or (isinstance(e, N.Read) and not e.idx) or not _is_index(e):
            continue
        yield e, k.with_(type=e.type)
        if isinstance(e, N.BinOp) and e.op == "/" and k.val == 0:
            yield e.with_(op="%"), e.lhs


def _reads_config(e: N.Expr) -> bool:
    from knit.ir.visit import walk_expr

    return any(isinstance(x, N.ReadConfig) for x in walk_expr(e))


def _is_index(e: N.Expr) -> bool:
    return getattr(e.type, "name", None) in _INDEX_KINDS


def _is_true(e: N.Expr) -> bool:
    return isinstance(e, N.Const) and e.val is True


def _use_facts(e: N.Expr, facts, kinds: frozenset | None = None) -> N.Expr:
    """e with every sub-expression equal to a fact's E replaced by its value (`kinds`: the
    classes of the facts' Es, when known: _Ctx.kinds)."""
    if not facts:
        return e
    from knit.ir.visit import node_kinds, walk_expr

    if kinds is None:
        kinds = frozenset(type(lhs) for lhs, _ in facts)
    if kinds.isdisjoint(node_kinds(e)):
        return e  # no node of a fact's kind in e (known without a walk)
    if not any(type(x) in kinds and any(x == lhs for lhs, _ in facts) for x in walk_expr(e)):
        return e  # no fact's E in e: nothing to replace (and no copy of e to build)

    def f(x):
        for lhs, val in facts:
            if x == lhs:
                return val
        return x
    from knit.ir.visit import map_expr

    return map_expr(e, f)


def _arg(a: N.FnArg, ranges) -> N.FnArg:
    """A parameter with its dimensions simplified; a dimension simplifying cannot shorten
    keeps its written form (`f32[n + 1]` stays: Exo's simplify leaves parameters alone)."""
    if not a.type.is_tensor():
        return a
    simp = _Simplifier(ranges)
    dims = tuple(simp.written(d) for d in a.type.dims)
    if dims == a.type.dims:
        return a
    return replace(a, type=T.TensorT(dims, a.type.is_window, a.type.elem))


def _all_same(xs, ys) -> bool:
    return len(xs) == len(ys) and all(x is y for x, y in zip(xs, ys))


def _block(stmts, ranges, ctx: _Ctx) -> tuple:
    out = []
    for s in stmts:
        new = _stmt(s, ranges, ctx)
        if ctx.prune:
            if isinstance(new, N.If) and isinstance(new.cond, N.Const):
                out.extend(new.body if new.cond.val else new.orelse)
                continue
            if isinstance(new, N.For) and (not new.body or isinstance(new.lo, N.Const) and
                                           isinstance(new.hi, N.Const) and
                                           new.hi.val <= new.lo.val):
                continue  # runs no iteration, or does nothing in one
            if isinstance(new, N.If) and not new.body and not new.orelse:
                continue
            if isinstance(new, N.If) and not new.body:
                new = new.with_(body=(N.Pass(new.srcinfo),))
        out.append(new)
    out = tuple(out)
    return stmts if _all_same(out, stmts) else out


def _stmt(s: N.Stmt, ranges, ctx: _Ctx) -> N.Stmt:
    """s simplified under `ranges` and `ctx`: a function of the three alone, so a
    statement met again under the same ones (a schedule simplifies the whole procedure
    after each step, and most statements are the objects of the step before) is
    answered as the first time, without walking it again: only the changed subtrees
    are simplified anew (statements by object, which are immutable; ranges and facts
    structurally)."""
    try:
        key = (id(s), ctx.prune, ctx.facts, frozenset(ranges.items()))
        hit = _SIMPLIFIED.get(key)
    except TypeError:  # an unhashable fact: not remembered
        key = hit = None
    if hit is not None and hit[0] is s:
        return hit[1]
    new = _simplified_stmt(s, ranges, ctx)
    if key is not None:
        if len(_SIMPLIFIED) >= 20_000:  # a bound: each entry keeps two statements alive
            _SIMPLIFIED.clear()
        _SIMPLIFIED[key] = (s, new)
        if new is not s:
            # and the result, met again under the same ranges and facts (the next
            # step's simplify, when that step kept it), is its own simplified form: the
            # forms simplify_expr returns are normal forms (no statement of tests/
            # analysis, rewrite, stdlib or the GEMM schedule changes when simplified
            # again), so it is not walked a second time
            _SIMPLIFIED[(id(new),) + key[1:]] = (new, new)
    return new


_SIMPLIFIED: dict = {}  # (id(stmt), prune, facts, ranges) -> (stmt, its simplified form)


def _simplified_stmt(s: N.Stmt, ranges, ctx: _Ctx) -> N.Stmt:
    def f(e):
        out = simplify_expr(_use_facts(e, ctx.facts, ctx.kinds), ranges)
        if ctx.facts:  # a fact's E may appear only once the expression is in normal form
            again = _use_facts(out, ctx.facts, ctx.kinds)
            out = out if again is out or again == out else simplify_expr(again, ranges)
        return out
    match s:
        case N.Assign() | N.Reduce():
            new = s.with_(idx=tuple(map(f, s.idx)), rhs=f(s.rhs))
        case N.WriteConfig():
            new = s.with_(rhs=f(s.rhs))
        case N.If():
            cond = f(s.cond)
            body = _block(s.body, _narrow(ranges, [cond], True), ctx.under(cond))
            orelse = _block(s.orelse, _narrow(ranges, [cond], False), ctx)
            new = s.with_(cond=cond, body=body, orelse=orelse)
        case N.For():
            lo, hi = f(s.lo), f(s.hi)
            inner = dict(ranges)  # lo <= iter <= hi - 1, over all values lo and hi may take
            hi_r = index_range(hi, ranges)[1]
            inner[s.iter] = (index_range(lo, ranges)[0], None if hi_r is None else hi_r - 1)
            body = _block(s.body, inner, ctx)
            new = s.with_(lo=lo, hi=hi, body=body)
        case N.Alloc():
            new = s.with_(type=_Simplifier(ranges).type(s.type))
        case N.Call():
            new = s.with_(args=tuple(map(f, s.args)))
        case N.WindowStmt():
            new = s.with_(rhs=f(s.rhs))
        case _:
            return s
    return s if new == s else new


_FLIP = {"<": ">", ">": "<", "<=": ">=", ">=": "<=", "==": "=="}  # k op v -> v flip(op) k
_NEGATE = {"<": ">=", ">=": "<", ">": "<=", "<=": ">"}  # not (v op k) -> v negate(op) k


def _narrow(ranges: dict, conds, holds: bool) -> dict:
    """`ranges` tightened by the facts `v op literal` the conditions give: every conjunct
    when the conditions hold, the negation of a lone comparison when it fails."""
    facts = [c for cond in conds for c in _conjuncts(cond)] if holds else conds
    out = ranges
    for c in facts:
        bound = _var_bound(c, holds)
        if bound is not None:
            out = dict(ranges) if out is ranges else out
            out[bound[0]] = _meet(out.get(bound[0], _ANY), bound[1])
    return out


def _var_bound(c: N.Expr, holds: bool):
    """(v, range) from a comparison of a variable v with an int literal, or None."""
    if not (isinstance(c, N.BinOp) and c.op in _FLIP):
        return None
    op, v, k = (c.op, c.lhs, c.rhs) if isinstance(c.rhs, N.Const) else \
        (_FLIP[c.op], c.rhs, c.lhs)
    op = op if holds else _NEGATE.get(op)
    if op is None or not (isinstance(v, N.Read) and not v.idx and isinstance(k, N.Const)
                          and type(k.val) is int):
        return None
    n = k.val
    return v.name, {"<": (None, n - 1), "<=": (None, n), ">": (n + 1, None),
                    ">=": (n, None), "==": (n, n)}[op]


def _conjuncts(e: N.Expr) -> list:
    if isinstance(e, N.BinOp) and e.op == "and":
        return _conjuncts(e.lhs) + _conjuncts(e.rhs)
    return [e]
