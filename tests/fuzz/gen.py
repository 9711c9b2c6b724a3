"""Random well-formed knit procedures, as object code text.

`generate(seed)` returns a `Generated`: the text of one procedure (parsed later with
`parse_proc_string` and the scope `PRELUDE` builds) and the sizes `check_equiv` may draw.

What a program can contain: loop nests of depth 1-4 (`seq(lo, hi)` over sizes, sizes
plus offsets, constants, or an outer loop variable: triangular nests), 1-3 argument
buffers (f32 and i32, rank 1-2, dimensions such as `N + 2`, `2 * M` or `8`), affine
indices (`i + 1`, `2 * j`, `N - 1 - i`, `i + j`, constants), guards (`if i < 3:`,
`if i + 1 < N:`, with `else`; accesses under `if i + 2 < N:` may rely on it), `=` and
`+=` (also `x = x + e` and `x = e1; x += e2`), scalar and tensor allocations (always
fully initialised before any read, so a program never reads undefined memory; now and
then one nothing uses), scalar accumulators (`t = 0.0; for k: t += 2.0 * e`), window
statements (`w = A[i, 1:5]`), calls of helper procs taking windows, loops shaped like a
helper's body (so `replace` can find them), a bool argument, config reads and writes
(`FuzzCfg.x`), `pass`, and the externs `relu`, `fmaxf`, `select`.

Accesses are in bounds by construction: every index is an affine form whose range over
the enclosing loops (interval arithmetic over the sizes' lower bounds, which `assert`s
state) is checked against the dimension before it is used. Data values stay small: i32
arithmetic only adds, subtracts and multiplies (a ring, so every legal reordering gives
the same bits, wrap-around included); f32 values come from [-1, 1] inputs.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

# Helper procs and instructions every generated program may call, and the scope its
# text is parsed in. The fuzzer executes this text, and prints it at the top of every
# reproducer, so a reproducer is self-contained.
PRELUDE = '''\
from knit import DRAM, Config
from knit.ir.types import BOOL, F32, I32
from knit.libs.externs import fmaxf, relu, select
from knit.libs.memories import DRAM_ALIGNED32, DRAM_STACK
from knit.procedure import parse_proc_string
from knit.stdlib.scheduling import divide_loop, rename, simplify

scope = {"DRAM": DRAM, "DRAM_STACK": DRAM_STACK, "DRAM_ALIGNED32": DRAM_ALIGNED32,
         "relu": relu, "fmaxf": fmaxf, "select": select}
FuzzCfg = scope["FuzzCfg"] = Config("FuzzCfg", {"x": F32, "y": I32, "b": BOOL})
scope["helper_f"] = parse_proc_string("""
def helper_f(n: size, x: [f32][n] @ DRAM):
    for k in seq(0, n):
        x[k] = 0.5 * x[k] + 1.0
""", scope)
scope["helper_i"] = parse_proc_string("""
def helper_i(n: size, x: [i32][n] @ DRAM):
    for k in seq(0, n):
        x[k] += 1
""", scope)
scope["helper2_f"] = parse_proc_string("""
def helper2_f(n: size, x: [f32][n] @ DRAM, y: [f32][n] @ DRAM):
    for k in seq(0, n):
        y[k] += 2.0 * x[k]
""", scope)
scope["noop_f"] = parse_proc_string("""@instr("/* noop {x_data} */")
def noop_f(n: size, x: [f32][n] @ DRAM):
    pass
""", scope)
# helper_f scheduled (so call_eqv accepts it), under its own name
scope["helper_f_alt"] = rename(simplify(divide_loop(scope["helper_f"], "k", 2, ["ko", "ki"],
                                                    tail="cut")), "helper_f_alt")
helper_f, helper_i, helper2_f, noop_f, helper_f_alt = (
    scope[n] for n in ("helper_f", "helper_i", "helper2_f", "noop_f", "helper_f_alt"))
'''

# f32 and i32 helpers of one window, and the inline loop body each one replaces
HELPER1 = {"f32": ("helper_f", "{x} = 0.5 * {x} + 1.0"), "i32": ("helper_i", "{x} += 1")}

LOOP_NAMES = "ijklmnpqrs"


def exec_prelude() -> dict:
    """The namespace PRELUDE builds (fresh): `scope` (for parse_proc_string), the helper
    procs, the memories and the imports."""
    env: dict = {}
    exec(compile(PRELUDE, "<fuzz prelude>", "exec"), env)
    return env


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

    def inner(self) -> Env:
        return Env(self.sizes, list(self.vars), list(self.bufs), self.bools, self.cfg)


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
        if name in vars_:
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


# ---------------------------------------------------------------- the generator


@dataclass
class Generated:
    seed: int
    src: str
    sizes: dict  # size name -> the values check_equiv may choose


class Gen:
    def __init__(self, seed: int):
        self.seed = seed
        self.rng = random.Random(seed)
        self.counter = 0
        self.loop_no = 0
        self.refined = None  # set by cond(): (loop variable, its bound under the condition)
        self.max_depth = self.rng.choice([1, 2, 2, 3, 3, 3, 4, 4])

    def fresh(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    def loop_name(self) -> str:
        n = self.loop_no
        self.loop_no += 1
        base = LOOP_NAMES[n % len(LOOP_NAMES)]
        return base if n < len(LOOP_NAMES) else f"{base}{n // len(LOOP_NAMES)}"

    # ------------------------------------------------------------ signature

    def signature(self) -> tuple[str, Env, dict]:
        r = self.rng
        names = ["N"] if r.random() < 0.5 else ["N", "M"]
        sizes, preds, values = {}, [], {}
        for s in names:
            low = r.choice([1, 1, 2, 2, 3, 4])
            if r.random() < 0.15:
                preds.append(f"{s} % 4 == 0")
                values[s] = [4, 8]
                low = max(low, 4)
            else:
                values[s] = list(range(low, 8))
            if low > 1:
                preds.append(f"{s} >= {low}")
            sizes[s] = low
        env = Env(sizes)
        args = [f"{s}: size" for s in names]
        if r.random() < 0.15:
            args.append("flag: bool")
            env.bools.append("flag")
        for b in "ABC"[: r.choice([1, 2, 2, 3, 3])]:
            elem = r.choice(["f32", "f32", "i32"])
            dims = [self.dim(env, names) for _ in range(r.choice([1, 2, 2]))]
            env.bufs.append(Buf(b, elem, dims, "arg"))
            args.append(f"{b}: {elem}[{', '.join(d.code() for d in dims)}] @ DRAM")
        head = f"def fz{self.seed}({', '.join(args)}):"
        lines = [head] + [f"    assert {p}" for p in preds]
        return "\n".join(lines), env, values

    def dim(self, env: Env, names) -> Lin:
        r = self.rng
        while True:
            s = r.choice(names)
            d = r.choice([lin(None, r.choice([4, 6, 8])), lin(s), lin(s), lin(s, 1),
                          lin(s, 2), lin(s, a=2), lin(s, -1)])
            if holds(env, d - 1):  # every dimension is at least 1
                return d

    # ------------------------------------------------------------ statements

    def block(self, env: Env, depth: int, ind: str, n: int | None = None) -> list[str]:
        out = []
        env = env.inner()
        for _ in range(n if n is not None else self.rng.choice([1, 1, 2, 2, 3])):
            out += self.stmt(env, depth, ind)
        return out or [f"{ind}pass"]

    def stmt(self, env: Env, depth: int, ind: str) -> list[str]:
        r = self.rng
        kinds = {"write": 6, "if": 1.5 if env.vars else 0.3, "alloc": 1, "window": 0.8,
                 "call": 0.8, "helper_loop": 0.5, "accumulate": 0.6, "dead_alloc": 0.1,
                 "pass": 0.1}
        if depth < self.max_depth:
            kinds["loop"] = 6 if depth == 0 else 3
        kind = r.choices(list(kinds), weights=list(kinds.values()))[0]
        out = getattr(self, f"s_{kind}")(env, depth, ind)
        return out if out is not None else self.s_write(env, depth, ind)

    def s_pass(self, env, depth, ind):
        return [f"{ind}pass"]

    def s_loop(self, env: Env, depth: int, ind: str, hi: Lin | None = None):
        r = self.rng
        v = self.loop_name()
        lo_k = r.choice([0, 0, 0, 0, 1, 2])
        top_var = None
        if hi is None:
            choice = r.random()
            sizes = list(env.sizes)
            if choice < 0.15 and env.vars:
                outer = r.choice(env.vars)  # triangular: for j in seq(0, i)
                lo_k, top_var = 0, outer
            elif choice < 0.45:
                hi = lin(None, r.choice([2, 3, 4, 5, 8]))
            else:
                hi = lin(r.choice(sizes), r.choice([0, 0, 0, 1, 2, -1]))
        if top_var is not None:
            lo_txt, hi_txt = "0", top_var.name
            var = Var(v, lin(None, 0), top_var.top - 1)
        else:
            lo_txt, hi_txt = str(lo_k), hi.code()
            var = Var(v, lin(None, lo_k), hi - 1)
        inner = env.inner()
        inner.vars.append(var)
        if depth + 1 < self.max_depth and r.random() < 0.3:  # a perfect nest
            body = self.s_loop(inner, depth + 1, ind + "    ")
        else:
            body = self.block(inner, depth + 1, ind + "    ")
        return [f"{ind}for {v} in seq({lo_txt}, {hi_txt}):"] + body

    def s_if(self, env: Env, depth: int, ind: str):
        r = self.rng
        self.refined = None
        cond = self.cond(env)
        then = env
        if self.refined is not None:  # `if i + 2 < N:` bounds i inside: i <= N - 3
            name, top = self.refined
            then = env.inner()
            then.vars = [Var(v.name, v.lo, top) if v.name == name else v for v in env.vars]
        out = [f"{ind}if {cond}:"] + self.block(then, depth, ind + "    ")
        if r.random() < 0.3:
            out += [f"{ind}else:"] + self.block(env, depth, ind + "    ")
        return out

    def cond(self, env: Env) -> str:
        r = self.rng
        if env.bools and r.random() < 0.3:
            return r.choice(env.bools)
        if not env.vars or r.random() < 0.15:
            return f"{r.choice(list(env.sizes))} > {r.choice([1, 2, 3, 4])}"
        v = r.choice(env.vars).name
        c = r.choice(["<", "<", ">", "==", "<=", ">="])
        kind = r.random()
        if kind < 0.5:
            text = f"{v} {c} {r.choice([0, 1, 2, 3])}"
        elif kind < 0.75:
            k, n = r.choice([1, 2]), r.choice(list(env.sizes))
            text = f"{v} + {k} < {n}"
            self.refined = (v, lin(n, -k - 1))  # accesses like A[i + 2] need this guard
        else:
            w = r.choice(env.vars).name
            text = f"{v} {c} {w}"
        if r.random() < 0.1:
            text = f"{text} and {r.choice(list(env.sizes))} > 2"
        return text

    # ------------------------------------------------------------ accesses

    def index(self, env: Env, dim: Lin, width: int = 1) -> Lin | None:
        """A random affine index e with 0 <= e and e + width <= dim; None if none found."""
        r = self.rng
        vs = [v.name for v in env.vars]
        for _ in range(16):
            form = r.random()
            if not vs or form < 0.12:
                e = lin(None, r.choice([0, 0, 1, 2, 3]))
            elif form < 0.6:
                e = lin(r.choice(vs), r.choice([0, 0, 0, 1, 2, -1]))
            elif form < 0.7:
                e = lin(r.choice(vs), r.choice([0, 1]), a=2)
            elif form < 0.82:
                a, b = r.choice(vs), r.choice(vs)
                e = lin(a) + lin(b, r.choice([0, 0, -1, 1])) if a != b else lin(a)
            else:  # reversed: N - 1 - i
                e = lin(r.choice(list(env.sizes)), r.choice([-1, -1, -2, 0])) - lin(r.choice(vs))
            if fits(env, e, dim, width):
                return e
        e = lin(None, 0)
        return e if fits(env, e, dim, width) else None

    def access(self, env: Env, buf: Buf) -> str | None:
        idx = [self.index(env, d) for d in buf.dims]
        if any(i is None for i in idx):
            return None
        return f"{buf.name}[{', '.join(i.code() for i in idx)}]" if idx else buf.name

    def readable(self, env: Env, elem: str) -> list[Buf]:
        return [b for b in env.bufs if b.elem == elem]

    def rhs(self, env: Env, elem: str, depth: int = 0) -> str:
        r = self.rng
        x = r.random()
        bufs = self.readable(env, elem)
        if bufs and (x < 0.5 or depth >= 2):
            acc = self.access(env, r.choice(bufs))
            if acc is not None:
                return acc
        if env.cfg and x < 0.56:
            return "FuzzCfg.x" if elem == "f32" else "FuzzCfg.y"
        if x < 0.62 or depth >= 2:
            return r.choice(["0.5", "2.0", "1.0", "3.0", "-1.0"] if elem == "f32" else
                            ["1", "2", "3"])
        if elem == "f32" and x < 0.7:
            f = r.choice(["relu", "fmaxf", "select"])
            n = {"relu": 1, "fmaxf": 2, "select": 4}[f]
            return f"{f}({', '.join(self.rhs(env, elem, depth + 1) for _ in range(n))})"
        if x < 0.74:
            return f"-{self.rhs(env, elem, 2)}"
        op = r.choice(["+", "+", "-", "*"])
        a, b = self.rhs(env, elem, depth + 1), self.rhs(env, elem, depth + 1)
        if elem == "i32" and not any(ch.isalpha() for ch in a + b):
            return a  # `3 * 2` would be an index value, not data
        if " " in b and (op in "-*" or r.random() < 0.3):  # `a + (b + c)` now and then
            b = f"({b})"
        if op == "*" and " " in a:
            a = f"({a})"
        return f"{a} {op} {b}"

    def s_write(self, env: Env, depth: int, ind: str):
        r = self.rng
        targets = [b for b in env.bufs]
        if not targets:
            return [f"{ind}pass"]
        buf = r.choice(targets)
        lhs = self.access(env, buf)
        if lhs is None:
            return [f"{ind}pass"]
        x = r.random()
        if x < 0.1:  # `x = x + e`, what fold_into_reduce folds
            return [f"{ind}{lhs} = {lhs} + {self.rhs(env, buf.elem, 1)}"]
        if x < 0.18:  # `x = e1; x += e2`, what merge_writes merges
            return [f"{ind}{lhs} = {self.rhs(env, buf.elem, 1)}",
                    f"{ind}{lhs} += {self.rhs(env, buf.elem, 1)}"]
        op = r.choice(["=", "+=", "+="])
        return [f"{ind}{lhs} {op} {self.rhs(env, buf.elem)}"]

    def s_accumulate(self, env: Env, depth: int, ind: str):
        """`t: f32; t = 0.0; for k: t += 2.0 * e; X[..] = t`: a scalar accumulator, the
        shape lift_reduce_constant, inline_assign and stage_mem look for."""
        r = self.rng
        if depth >= self.max_depth:
            return None
        elem = r.choice(["f32", "f32", "i32"])
        targets = [b for b in env.bufs if b.elem == elem]
        if not targets:
            return None
        t, v = self.fresh("t"), self.loop_name()
        hi = r.choice([lin(None, r.choice([2, 3, 4])), lin(r.choice(list(env.sizes)))])
        inner = env.inner()
        inner.vars.append(Var(v, lin(None, 0), hi - 1))
        c = "2.0" if elem == "f32" else "2"
        out = [f"{ind}{t}: {elem} @ DRAM", f"{ind}{t} = {'0.0' if elem == 'f32' else '0'}",
               f"{ind}for {v} in seq(0, {hi.code()}):",
               f"{ind}    {t} += {c} * {self.rhs(inner, elem, 2)}"]
        lhs = self.access(env, r.choice(targets))
        if lhs is not None:
            out.append(f"{ind}{lhs} {r.choice(['=', '+='])} {t}")
        return out

    def s_dead_alloc(self, env: Env, depth: int, ind: str):
        """An allocation nothing uses (delete_buffer's case)."""
        return [f"{ind}{self.fresh('t')}: {self.rng.choice(['f32', 'i32'])}[4] @ DRAM"]

    # ------------------------------------------------------------ allocations

    def s_alloc(self, env: Env, depth: int, ind: str):
        r = self.rng
        elem = r.choice(["f32", "f32", "i32"])
        rank = r.choice([0, 1, 1, 2])
        rank = min(rank, self.max_depth - depth + 1, 2)
        sizes = list(env.sizes)
        dims = [r.choice([lin(None, r.choice([2, 4, 8])), lin(r.choice(sizes)),
                          lin(r.choice(sizes), 1)]) for _ in range(max(rank, 0))]
        name = self.fresh("t")
        buf = Buf(name, elem, dims, "alloc")
        decl = f"{ind}{name}: {elem}[{', '.join(d.code() for d in dims)}] @ DRAM" if dims \
            else f"{ind}{name}: {elem} @ DRAM"
        out = [decl]
        # initialise every element before anything reads it
        inner, idx, loop_ind = env.inner(), [], ind
        for d in dims:
            v = self.loop_name()
            out.append(f"{loop_ind}for {v} in seq(0, {d.code()}):")
            inner.vars.append(Var(v, lin(None, 0), d - 1))
            idx.append(v)
            loop_ind += "    "
        lhs = f"{name}[{', '.join(idx)}]" if idx else name
        out.append(f"{loop_ind}{lhs} = {self.rhs(inner, elem, 1)}")
        env.bufs.append(buf)
        return out

    # ------------------------------------------------------------ windows and calls

    def window(self, env: Env, buf: Buf, width: int) -> str | None:
        """`buf[e, lo:lo + width]`: the last dimension sliced, the others points."""
        if not buf.dims:
            return None
        parts = []
        for d in buf.dims[:-1]:
            e = self.index(env, d)
            if e is None:
                return None
            parts.append(e.code())
        lo = self.index(env, buf.dims[-1], width)
        if lo is None:
            return None
        parts.append(f"{lo.code()}:{(lo + width).code()}")
        return f"{buf.name}[{', '.join(parts)}]"

    def s_window(self, env: Env, depth: int, ind: str):
        r = self.rng
        cands = [b for b in env.bufs if b.kind != "window" and b.dims]
        if not cands:
            return None
        buf = r.choice(cands)
        width = r.choice([1, 2, 3, 4])
        w = self.window(env, buf, width)
        if w is None:
            return None
        name = self.fresh("w")
        env.bufs.append(Buf(name, buf.elem, [lin(None, width)], "window", buf.root))
        return [f"{ind}{name} = {w}"]

    def s_call(self, env: Env, depth: int, ind: str):
        r = self.rng
        cands = [b for b in env.bufs if b.dims]
        if not cands:
            return None
        buf = r.choice(cands)
        width = r.choice([1, 2, 3, 4])
        if buf.kind == "window":
            width = buf.dims[0].k
        w = buf.name if buf.kind == "window" else self.window(env, buf, width)
        if w is None:
            return None
        others = [b for b in cands if b.elem == "f32" and b.root != buf.root]
        if buf.elem == "f32" and others and r.random() < 0.4:
            src = r.choice(others)
            x = src.name if src.kind == "window" and src.dims[0].k == width else \
                (self.window(env, src, width) if src.kind != "window" else None)
            if x is not None:
                return [f"{ind}helper2_f({width}, {x}, {w})"]
        return [f"{ind}{HELPER1[buf.elem][0]}({width}, {w})"]

    def s_helper_loop(self, env: Env, depth: int, ind: str):
        """A loop shaped like a helper's body, e.g. `for k in seq(0, 4): A[i, k + 1] = ...`."""
        r = self.rng
        if depth >= self.max_depth:
            return None
        cands = [b for b in env.bufs if b.dims and b.kind != "window"]
        if not cands:
            return None
        buf = r.choice(cands)
        width = r.choice([2, 3, 4])
        parts = []
        for d in buf.dims[:-1]:
            e = self.index(env, d)
            if e is None:
                return None
            parts.append(e.code())
        lo = self.index(env, buf.dims[-1], width)
        if lo is None:
            return None
        v = self.loop_name()
        acc = f"{buf.name}[{', '.join(parts + [(lo + lin(v)).code()])}]"
        body = HELPER1[buf.elem][1].format(x=acc)
        return [f"{ind}for {v} in seq(0, {width}):", f"{ind}    {body}"]


def generate(seed: int) -> Generated:
    """The procedure for `seed` (deterministic)."""
    g = Gen(seed)
    head, env, values = g.signature()
    body = []
    if g.rng.random() < 0.12:  # config state, written before anything reads it
        env.cfg = True
        body = ["    FuzzCfg.x = 0.5", "    FuzzCfg.y = 2"]
    body += g.s_loop(env, 0, "    ")  # at least one loop nest
    extra = g.rng.choice([0, 0, 1, 2])
    if extra:
        body += g.block(env, 0, "    ", extra)
    return Generated(seed, head + "\n" + "\n".join(body) + "\n", values)


if __name__ == "__main__":
    import sys

    for s in map(int, sys.argv[1:] or ["0", "1", "2"]):
        print(generate(s).src)
