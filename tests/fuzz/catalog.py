"""What the fuzzer's moves draw on: `Step` (one primitive call as Python source),
the move registry, and `Catalog`, every statement of a procedure with the source of a
cursor to it, its enclosing loops and its expressions; plus the helpers that turn
cursors into argument source (navigation, or now and then a pattern string)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

BASE_ALLOWED = ("SchedulingError", "InvalidCursorError")
FRAGMENT_ALLOWED = BASE_ALLOWED + ("ParseFragmentError",)


@dataclass
class Step:
    prim: str
    args: list  # Python source of each positional argument after the procedure
    kwargs: dict = field(default_factory=dict)
    # the cursors were taken on `p_prev`, the procedure before the previous accepted
    # step, so the primitive must forward them (p.forward) through that step
    old_cursors: bool = False

    def call(self) -> str:
        parts = ["p", *self.args, *(f"{k}={v}" for k, v in self.kwargs.items())]
        return f"{self.prim}({', '.join(parts)})"

    def code(self) -> str:
        """One line of the schedule: `p = prim(p, ...)`."""
        lhs = "p, _sub" if self.prim == "extract_subproc" else "p"
        return f"{lhs} = {self.call()}"


@dataclass
class Move:
    name: str
    choose: object  # (Catalog, Random) -> Step | None
    allowed: tuple  # names of the exception classes that mean "refused"


MOVES: dict[str, Move] = {}


def move(allowed=BASE_ALLOWED):
    def register(f):
        name = f.__name__.removeprefix("m_")
        MOVES[name] = Move(name, f, allowed)
        return f

    return register


# ---------------------------------------------------------------- what a proc offers


@dataclass
class Site:
    cur: object  # a statement cursor
    code: str  # Python source that evaluates to the cursor
    loops: tuple  # enclosing ForCursors, outermost first


class Catalog:
    """Every statement of a procedure with the source of a cursor to it, its enclosing
    loops, and the expression cursors inside it."""

    def __init__(self, p, var: str = "p"):
        from knit.cursors import cursor as C
        from knit.ir import types as T

        self.p, self.C, self.var = p, C, var  # var: the name of p in the step's source
        self.sites: list[Site] = []
        self.sizes = [a.name() for a in p.args() if a.type() == T.SIZE]
        self.bools = [a.name() for a in p.args() if a.type() == T.BOOL]
        self.tensors = [a for a in p.args() if a.is_tensor()]
        self._walk(p.body(), f"{var}.body()", ())

    def _walk(self, block, code, loops):
        C = self.C
        for k in range(len(block)):
            c = block[k]
            ccode = f"{code}[{k}]"
            self.sites.append(Site(c, ccode, loops))
            if isinstance(c, C.ForCursor):
                self._walk(c.body(), f"{ccode}.body()", loops + (c,))
            elif isinstance(c, C.IfCursor):
                self._walk(c.body(), f"{ccode}.body()", loops)
                if not c.orelse().is_invalid():
                    self._walk(c.orelse(), f"{ccode}.orelse()", loops)

    def of(self, *kinds) -> list[Site]:
        kinds = tuple(getattr(self.C, k) for k in kinds)
        return [s for s in self.sites if isinstance(s.cur, kinds)]

    def with_next(self) -> list[Site]:
        return [s for s in self.sites if not s.cur.next().is_invalid()]

    def exprs(self, site: Site) -> list[tuple]:
        """(expression cursor, its source) for every expression in the statement."""
        C, c, code = self.C, site.cur, site.code
        roots = []
        if isinstance(c, (C.AssignCursor, C.ReduceCursor)):
            roots += [(e, f"{code}.idx()[{i}]") for i, e in enumerate(c.idx())]
            roots.append((c.rhs(), f"{code}.rhs()"))
        elif isinstance(c, C.IfCursor):
            roots.append((c.cond(), f"{code}.cond()"))
        elif isinstance(c, C.ForCursor):
            roots += [(c.lo(), f"{code}.lo()"), (c.hi(), f"{code}.hi()")]
        elif isinstance(c, C.CallCursor):
            roots += [(e, f"{code}.args()[{i}]") for i, e in enumerate(c.args())]
        elif isinstance(c, C.WindowStmtCursor):
            roots.append((c.winexpr(), f"{code}.winexpr()"))
        elif isinstance(c, C.AssignConfigCursor):
            roots.append((c.rhs(), f"{code}.rhs()"))
        out = []
        for e, ecode in roots:
            self._sub_exprs(e, ecode, out)
        return out

    def _sub_exprs(self, e, code, out):
        C = self.C
        out.append((e, code))
        if isinstance(e, C.BinaryOpCursor):
            self._sub_exprs(e.lhs(), f"{code}.lhs()", out)
            self._sub_exprs(e.rhs(), f"{code}.rhs()", out)
        elif isinstance(e, C.UnaryMinusCursor):
            self._sub_exprs(e.arg(), f"{code}.arg()", out)
        elif isinstance(e, (C.ExternFunctionCursor,)):
            for i, a in enumerate(e.args()):
                self._sub_exprs(a, f"{code}.args()[{i}]", out)
        elif isinstance(e, C.ReadCursor):
            for i, a in enumerate(e.idx()):
                self._sub_exprs(a, f"{code}.idx()[{i}]", out)
        elif isinstance(e, C.WindowExprCursor):
            for i, w in enumerate(e.idx()):
                if isinstance(w, tuple):
                    self._sub_exprs(w[0], f"{code}.idx()[{i}][0]", out)
                    self._sub_exprs(w[1], f"{code}.idx()[{i}][1]", out)
                else:
                    self._sub_exprs(w, f"{code}.idx()[{i}]", out)

    def all_exprs(self) -> list[tuple]:
        return [x for s in self.sites for x in self.exprs(s)]

    def data_exprs(self) -> list[tuple]:
        """Data-valued expressions on the right of `=` / `+=`."""
        out = []
        for s in self.of("AssignCursor", "ReduceCursor"):
            for e, code in self.exprs(s):
                if ".rhs()" in code and "idx()" not in code.split(".rhs()", 1)[1] and \
                        e.type().is_real():
                    out.append((e, code))
        return out

    def index_exprs(self) -> list[tuple]:
        return [(e, c) for e, c in self.all_exprs()
                if e.type().is_indexable() and not isinstance(e, self.C.WindowExprCursor)]

    def names_at(self, site: Site | None) -> list[str]:
        """Index names usable in an expression fragment at the site: sizes and loops."""
        return self.sizes + ([lp.name() for lp in site.loops] if site else [])


# ---------------------------------------------------------------- argument helpers


def fresh(rng: random.Random, base: str) -> str:
    return f"{base}{rng.randrange(1000)}"


def loop_code(cat: Catalog, site: Site, rng: random.Random) -> str:
    """A loop cursor as navigation source, or now and then as a pattern string."""
    if rng.random() < 0.3 and cat.var == "p":
        name = site.cur.name()
        paths = [c._path for c in cat.p.find_all(f"for {name} in _: _")]
        k = paths.index(site.cur._path)
        return repr(f"{name} #{k}" if k else name) if rng.random() < 0.5 else \
            f"{cat.var}.find_loop({f'{name} #{k}'!r})"
    return site.code


def alloc_code(cat: Catalog, site: Site, rng: random.Random) -> str:
    if rng.random() < 0.3 and cat.var == "p":
        name = site.cur.name()
        paths = [c._path for c in cat.p.find_all(f"{name} : _")]
        k = paths.index(site.cur._path)
        pat = f"{name} : _" + (f" #{k}" if k else "")
        return repr(pat) if rng.random() < 0.5 else f"{cat.var}.find({pat!r})"
    return site.code


def pick(rng, xs):
    return rng.choice(xs) if xs else None


def block_code(cat: Catalog, site: Site, rng: random.Random) -> str:
    """The statement alone, or the statement and up to two following ones."""
    n = 0
    while n < 2 and rng.random() < 0.4 and not site.cur.next(n + 1).is_invalid():
        n += 1
    return f"{site.code}.expand(0, {n})" if n else \
        (site.code if rng.random() < 0.5 else f"{site.code}.as_block()")


def gap_code(cat: Catalog, rng: random.Random, inner_only: bool = False,
             between: float = 0.0) -> tuple | None:
    """A gap; with probability `between`, one between two statements of a block."""
    sites = [s for s in cat.sites if s.cur.parent() or not inner_only]
    mid = [s for s in sites if not s.cur.next().is_invalid()]
    if mid and rng.random() < between:
        site = rng.choice(mid)
        return site, rng.choice([f"{site.code}.after()", f"{site.code}.next().before()"])
    site = pick(rng, sites)
    if site is None:
        return None
    return site, f"{site.code}.{rng.choice(['after', 'before'])}()"


def perfect_nests(cat: Catalog) -> list[Site]:
    C = cat.C
    return [s for s in cat.of("ForCursor") if len(s.cur.body()) == 1 and
            isinstance(s.cur.body()[0], C.ForCursor)]


def index_fragment(cat: Catalog, site: Site | None, rng: random.Random) -> str:
    names = cat.names_at(site)
    a = rng.choice(names)
    return rng.choice([a, f"{a} - 1", f"{a} + 1", f"{a} / 2", str(rng.randint(0, 4))])


def cond_fragment(cat: Catalog, site: Site | None, rng: random.Random) -> str:
    names = cat.names_at(site)
    if cat.bools and rng.random() < 0.2:
        return rng.choice(cat.bools)
    a = rng.choice(names)
    op = rng.choice(["<", ">", "==", "<=", ">="])
    return f"{a} {op} {rng.choice([0, 1, 2, 3, 4] + names)}"


