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
(`FuzzCfg.x`), `pass`, and every extern of knit.libs.externs. Issue 8's classes
(gen_configs.py, gen_data.py): index config fields (`FuzzCfg.k`, `FuzzCfg.n`) read in
window origins, allocation shapes, loop bounds, indices, call arguments and conditions,
written before, after and inside the code that reads them; callees that branch on
`stride(x, 0)`, called on rows and columns; element and index arguments; f16/f64
buffers and mixed arithmetic (`i32 += f32`, untyped literals); loops shaped like the
prelude's instr library (`add1_f`, `copy_f`, `addv_f`, `bcast_f`, triangular `tri_f`).

Accesses are in bounds by construction: every index is an affine form whose range over
the enclosing loops (interval arithmetic over the sizes' lower bounds, which `assert`s
state) is checked against the dimension before it is used (a config read by the value
the field holds there: forms.py). Data values: i32 arithmetic only adds, subtracts and
multiplies (a ring, so every legal reordering gives the same bits, wrap-around
included); check_equiv draws floats from [-1, 1], backends.py adds NaN, -0.0, +-inf,
subnormals and integer extremes.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from .forms import Buf, Env, Lin, Var, fits, holds, lin
from .gen_configs import ConfigGen, Scenarios
from .gen_data import EXTERNS, FLOATS, DataGen

# Helper procs and instructions every generated program may call, and the scope its
# text is parsed in. The fuzzer executes this text, and prints it at the top of every
# reproducer, so a reproducer is self-contained.
PRELUDE = r'''
from knit import DRAM, Config
from knit.ir.types import BOOL, F32, I32, INDEX, SIZE
from knit.libs import externs
from knit.libs.externs import fmaxf, relu, select
from knit.libs.memories import DRAM_ALIGNED32, DRAM_STACK
from knit.procedure import parse_proc_string
from knit.stdlib.scheduling import divide_loop, rename, simplify

scope = {"DRAM": DRAM, "DRAM_STACK": DRAM_STACK, "DRAM_ALIGNED32": DRAM_ALIGNED32}
scope.update({n: getattr(externs, n) for n in externs.__all__ if n[0].islower()})
FuzzCfg = scope["FuzzCfg"] = Config("FuzzCfg", {"x": F32, "y": I32, "b": BOOL,
                                                "k": INDEX, "n": SIZE})
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
# callees that branch on the stride of their window, take an element or an index
for t, one in (("f32", "1.0"), ("i32", "1")):
    scope[f"helper_s_{t}"] = parse_proc_string(f"""
def helper_s_{t}(n: size, x: [{t}][n] @ DRAM):
    if stride(x, 0) == 1:
        x[n - 1] = x[0] + {one}
    else:
        x[0] = x[n - 1] - {one}
""", scope)
scope["helper_e"] = parse_proc_string("""
def helper_e(n: size, a: f32 @ DRAM, x: [f32][n] @ DRAM):
    for k in seq(0, n):
        x[k] += a
""", scope)
scope["helper_k"] = parse_proc_string("""
def helper_k(n: size, k: index, x: [f32][n] @ DRAM):
    assert k >= 0
    assert k < n
    x[k] = 2.0 * x[k]
""", scope)
# a small instruction library for replace: C templates that compute exactly the body
LOOP = "for (int_fast32_t _k = 0; _k < {n}; _k++) "
for name, tmpl, text in [
    ("add1_f", LOOP + "(&{x_data})[_k] += 1.0f;", "x[k] += 1.0"),
    ("copy_f", LOOP + "(&{y_data})[_k] = (&{x_data})[_k];", "y[k] = x[k]"),
    ("addv_f", LOOP + "(&{y_data})[_k] += (&{x_data})[_k];", "y[k] += x[k]"),
    ("bcast_f", LOOP + "(&{y_data})[_k] = {x_data};", "y[k] = x[0]"),
]:
    params = "x: [f32][n] @ DRAM" if name == "add1_f" else \
        ("x: [f32][1] @ DRAM" if name == "bcast_f" else "x: [f32][n] @ DRAM") + \
        ", y: [f32][n] @ DRAM"
    asserts = "".join(f"\n    assert stride({v}, 0) == 1" for v in ("x", "y")
                      if f"{v}:" in params and not (name == "bcast_f" and v == "x"))
    scope[name] = parse_proc_string(f"""@instr({tmpl!r})
def {name}(n: size, {params}):{asserts}
    for k in seq(0, n):
        {text}
""", scope)
scope["tri_f"] = parse_proc_string("""@instr("for (int_fast32_t _i = 0; _i < {n}; _i++) \
for (int_fast32_t _j = 0; _j < _i; _j++) {x}.data[_i * {x}.strides[0] + _j] += 1.0f;")
def tri_f(n: size, x: [f32][n, n] @ DRAM):
    assert stride(x, 1) == 1
    for i in seq(0, n):
        for j in seq(0, i):
            x[i, j] += 1.0
""", scope)
# helper_f scheduled (so call_eqv accepts it), under its own name
scope["helper_f_alt"] = rename(simplify(divide_loop(scope["helper_f"], "k", 2, ["ko", "ki"],
                                                    tail="cut")), "helper_f_alt")
globals().update({k: v for k, v in scope.items() if k.startswith(("helper", "noop"))})
INSTRS = ["add1_f", "copy_f", "addv_f", "bcast_f", "tri_f"]
globals().update({k: scope[k] for k in INSTRS})
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


# ---------------------------------------------------------------- the generator


@dataclass
class Generated:
    seed: int
    src: str
    sizes: dict  # size name -> the values check_equiv may choose


class Gen(ConfigGen, Scenarios, DataGen):
    def __init__(self, seed: int):
        self.seed = seed
        self.rng = random.Random(seed)
        self.mixed = self.rng.random() < 0.35  # f16/f64 buffers, mixed expressions
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
            elem = self.elem_choice()
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
                 "pass": 0.1, "call_cfg": 0.6, "instr_loop": 0.5,
                 "cfg_write": 1.2 if self.has_cfg(env) else 0, "stride_pair": 0.4,
                 "cfg_window": 2.5 if self.has_cfg(env) else 0,
                 "cfg_alloc": 1.0 if self.has_cfg(env) else 0}
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
        bounds = self.cfg_loop_bounds(env) if top_var is None else None
        if bounds is not None:  # `for i in seq(0, FuzzCfg.n)`: the bound read on entry
            lo, lo_val, hi, hi_val = bounds
            lo_txt, hi_txt = lo.code(), hi.code()
            var = Var(v, lo_val, hi_val - 1)
        elif top_var is not None:
            lo_txt, hi_txt = "0", top_var.name
            var = Var(v, lin(None, 0), top_var.top - 1)
        else:
            lo_txt, hi_txt = str(lo_k), hi.code()
            var = Var(v, lin(None, lo_k), hi - 1)
        inner = env.inner()
        inner.vars.append(var)
        token = self.cfg_enter_loop(env)
        if depth + 1 < self.max_depth and r.random() < 0.3:  # a perfect nest
            body = self.s_loop(inner, depth + 1, ind + "    ")
        else:
            body = self.block(inner, depth + 1, ind + "    ")
        self.cfg_leave_loop(env, token, v)
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
        before = (dict(env.state), dict(getattr(self, "cfg_writes", {})))
        out = [f"{ind}if {cond}:"] + self.block(then, depth, ind + "    ")
        if r.random() < 0.3:
            env.state.update(before[0])  # the else branch starts from the same state
            out += [f"{ind}else:"] + self.block(env, depth, ind + "    ")
        if env.state:
            self.cfg_branches(env, before[0], before[1])
        return out

    def cond(self, env: Env) -> str:
        r = self.rng
        if self.has_cfg(env) and r.random() < 0.25:
            c = self.cfg_cond(env)
            if c is not None:
                return c
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
            term = self.cfg_term(env) if env.state and r.random() < 0.3 else None
            if term is not None:  # `FuzzCfg.k + 1`, `FuzzCfg.n - 1 - i`
                e = term if not vs or r.random() < 0.6 else \
                    term + lin(r.choice(vs), a=r.choice([1, -1]))
            elif not vs or form < 0.12:
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
        if self.mixed:
            return self.mixed_rhs(env, elem, depth)
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
            f = r.choice(sorted(EXTERNS))
            n = EXTERNS[f]
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
        elem = self.elem_choice()
        targets = [b for b in env.bufs if b.elem == elem]
        if not targets:
            return None
        t, v = self.fresh("t"), self.loop_name()
        hi = r.choice([lin(None, r.choice([2, 3, 4])), lin(r.choice(list(env.sizes)))])
        inner = env.inner()
        inner.vars.append(Var(v, lin(None, 0), hi - 1))
        c = "2.0" if elem in FLOATS else "2"
        out = [f"{ind}{t}: {elem} @ DRAM", f"{ind}{t} = {'0.0' if elem in FLOATS else '0'}",
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

    def s_alloc(self, env: Env, depth: int, ind: str, force_cfg: bool = False):
        r = self.rng
        elem = self.elem_choice()
        rank = r.choice([0, 1, 1, 2])
        rank = min(rank, self.max_depth - depth + 1, 2)
        if force_cfg:
            rank = max(rank, 1)
        sizes = list(env.sizes)
        codes = []  # (text, value): `FuzzCfg.n` is the value it holds at the allocation
        for _ in range(max(rank, 0)):
            d = r.choice([lin(None, r.choice([2, 4, 8])), lin(r.choice(sizes)),
                          lin(r.choice(sizes), 1)])
            cfg = self.cfg_dims(env) if force_cfg or r.random() < 0.4 else None
            codes.append(cfg or (d, d))
        dims = [v for _, v in codes]
        name = self.fresh("t")
        buf = Buf(name, elem, dims, "alloc")
        decl = f"{ind}{name}: {elem}[{', '.join(c.code() for c, _ in codes)}] @ DRAM" \
            if dims else f"{ind}{name}: {elem} @ DRAM"
        out = [decl]
        # initialise every element before anything reads it
        inner, idx, loop_ind = env.inner(), [], ind
        for code, d in codes:
            v = self.loop_name()
            out.append(f"{loop_ind}for {v} in seq(0, {code.code()}):")
            inner.vars.append(Var(v, lin(None, 0), d - 1))
            idx.append(v)
            loop_ind += "    "
        lhs = f"{name}[{', '.join(idx)}]" if idx else name
        out.append(f"{loop_ind}{lhs} = {self.rhs(inner, elem, 1)}")
        env.bufs.append(buf)
        return out

    # ------------------------------------------------------------ windows and calls

    def window(self, env: Env, buf: Buf, width: int, dim: int = -1) -> str | None:
        """`buf[e, lo:lo + width]`: dimension `dim` (the last) sliced, the others points
        (a column window `buf[lo:lo + width, e]` has a stride other than 1)."""
        if not buf.dims:
            return None
        dim = dim % len(buf.dims)
        parts = []
        for k, d in enumerate(buf.dims):
            e = self.index(env, d, width if k == dim else 1)
            if e is None:
                return None
            parts.append(f"{e.code()}:{(e + width).code()}" if k == dim else e.code())
        return f"{buf.name}[{', '.join(parts)}]"

    def s_window(self, env: Env, depth: int, ind: str):
        r = self.rng
        cands = [b for b in env.bufs if b.kind != "window" and b.dims]
        if not cands:
            return None
        buf = r.choice(cands)
        width = r.choice([1, 2, 3, 4])
        w = self.window(env, buf, width, r.randrange(len(buf.dims)))
        if w is None:
            return None
        name = self.fresh("w")
        env.bufs.append(Buf(name, buf.elem, [lin(None, width)], "window", buf.root))
        return [f"{ind}{name} = {w}"]

    def s_call(self, env: Env, depth: int, ind: str):
        r = self.rng
        cands = [b for b in env.bufs if b.dims and b.elem in HELPER1]
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
        cands = [b for b in env.bufs if b.dims and b.kind != "window" and b.elem in HELPER1]
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


def smaller_sources(src: str):
    """The program with one statement (and the block it heads) deleted, for each
    statement of the body from the last one; the signature and asserts stay."""
    lines = src.rstrip("\n").split("\n")

    def indent(line: str) -> int:
        return len(line) - len(line.lstrip())

    for k in range(len(lines) - 1, 0, -1):
        if lines[k].lstrip().startswith("assert "):
            continue
        end = k + 1
        while end < len(lines) and indent(lines[end]) > indent(lines[k]):
            end += 1
        yield "\n".join(lines[:k] + lines[end:]) + "\n"
        if lines[k].rstrip().endswith(":") and end > k + 1:  # the block without its head
            body = [ln[4:] for ln in lines[k + 1:end]]
            yield "\n".join(lines[:k] + body + lines[end:]) + "\n"


def generate(seed: int) -> Generated:
    """The procedure for `seed` (deterministic)."""
    g = Gen(seed)
    head, env, values = g.signature()
    body = []
    if g.rng.random() < 0.2:  # config state, written before anything reads it
        env.cfg = True
        body = ["    FuzzCfg.x = 0.5", "    FuzzCfg.y = 2"]
    if g.rng.random() < 0.3:  # index config fields, read in index expressions
        body += g.cfg_init(env)
    body += g.s_loop(env, 0, "    ")  # at least one loop nest
    extra = g.rng.choice([0, 0, 1, 2])
    if extra:
        body += g.block(env, 0, "    ", extra)
    body += g.observe(env)
    return Generated(seed, head + "\n" + "\n".join(body) + "\n", values)


if __name__ == "__main__":
    import sys

    for s in map(int, sys.argv[1:] or ["0", "1", "2"]):
        print(generate(s).src)
