"""Affine forms over sizes, loop variables and config fields, and what the generator
knows where it stands: the loop variables' ranges, the buffers in scope and the values
the index config fields hold (`bounds` replaces a config read by its current value)."""

from __future__ import annotations

from dataclasses import dataclass, field

# ---------------------------------------------------------------- affine forms


class Lin:
    """An affine form sum(coef * var) + const over sizes and loop variables."""

    __slots__ = ("c", "k")

    def __init__(self, coefs=None, const: int = 0):
        self.c = {v: a for v, a in (coefs or {}).items() if a != 0}
        self.k = const

    def __add__(self, o):
        o = o if isinstance(o, Lin) else Lin({}, o)
        out = dict(self.c)
        for v, a in o.c.items():
            out[v] = out.get(v, 0) + a
        return Lin(out, self.k + o.k)

    def __sub__(self, o):
        o = o if isinstance(o, Lin) else Lin({}, o)
        return self + o.scale(-1)

    def scale(self, a: int):
        return Lin({v: a * x for v, x in self.c.items()}, a * self.k)

    def code(self) -> str:
        """Object code: positive terms first, so `N - 1 - i` prints as `N - i - 1`."""
        terms = sorted(self.c.items(), key=lambda t: (t[1] < 0, t[0]))
        out = ""
        for v, a in terms:
            mag = abs(a)
            t = v if mag == 1 else f"{mag} * {v}"
            out += (t if not out else f" + {t}") if a > 0 else \
                (f"-{t}" if not out else f" - {t}")
        if self.k or not out:
            out += str(self.k) if not out else (f" + {self.k}" if self.k > 0 else
                                                 f" - {-self.k}")
        return out


def lin(v: str | None = None, k: int = 0, a: int = 1) -> Lin:
    return Lin({v: a} if v else {}, k)


@dataclass
class Var:
    """A loop variable: its range as affine forms over the sizes (lo <= v <= top)."""

    name: str
    lo: Lin
    top: Lin


@dataclass
class Buf:
    name: str
    elem: str
    dims: list  # Lin per dimension, over sizes only
    kind: str  # "arg", "alloc", "window"
    root: str = ""  # the argument or allocation a window views

    def __post_init__(self):
        self.root = self.root or self.name


@dataclass
class Env:
    sizes: dict  # size name -> proven lower bound
    vars: list = field(default_factory=list)
    bufs: list = field(default_factory=list)
    bools: list = field(default_factory=list)
    cfg: bool = False  # FuzzCfg.x and FuzzCfg.y are written first, so readable
    # the value each index config field ("FuzzCfg.k") holds here, None if unknown: one
    # dict for the whole program, updated in program order (gen_configs.py)
    state: dict = field(default_factory=dict)

    def inner(self) -> Env:
        return Env(self.sizes, list(self.vars), list(self.bufs), self.bools, self.cfg,
                   self.state)


def holds(env: Env, f: Lin) -> bool:
    """Whether f >= 0 for every size at or above its lower bound (f over sizes only)."""
    if any(v not in env.sizes or a < 0 for v, a in f.c.items()):
        return False
    return f.k + sum(a * env.sizes[v] for v, a in f.c.items()) >= 0


def bounds(env: Env, e: Lin) -> tuple[Lin, Lin]:
    """(min, max) of e over the loop variables' ranges, as forms over the sizes."""
    vars_ = {v.name: v for v in env.vars}
    lo, hi = Lin({}, e.k), Lin({}, e.k)
    for name, a in e.c.items():
        if name in env.state:  # a config field: its current value's range
            vlo, vhi = bounds(env, env.state[name])
            lo = lo + (vlo.scale(a) if a > 0 else vhi.scale(a))
            hi = hi + (vhi.scale(a) if a > 0 else vlo.scale(a))
        elif name in vars_:
            v = vars_[name]
            lo = lo + (v.lo.scale(a) if a > 0 else v.top.scale(a))
            hi = hi + (v.top.scale(a) if a > 0 else v.lo.scale(a))
        else:
            lo, hi = lo + lin(name, a=a), hi + lin(name, a=a)
    return lo, hi


def fits(env: Env, e: Lin, dim: Lin, width: int = 1) -> bool:
    """0 <= e and e + width <= dim wherever e is evaluated."""
    lo, hi = bounds(env, e)
    return holds(env, lo) and holds(env, dim - hi - width)




def subst(env: Env, e: Lin) -> Lin:
    """e with each config field replaced by the value it holds now (to keep a range
    that stays true after the field is written again)."""
    out = Lin({}, e.k)
    for name, a in e.c.items():
        out = out + (env.state[name].scale(a) if name in env.state else lin(name, a=a))
    return out


def mentions(e: Lin | None, names) -> bool:
    return e is not None and any(n in e.c for n in names)
