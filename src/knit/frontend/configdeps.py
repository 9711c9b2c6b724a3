"""Exo's definition-time rule on configs: the values a procedure writes into a config
field must not depend on a loop's iteration (docs/semantics.md#config-loop-invariant).

Checked for procedures the user writes (`@proc`), as Exo's type checker does; a
rewrite's result is not held to it. The dependence is a flow-insensitive closure over
the whole body: a name depends on what its writes read (indices included), on the
conditions of the ifs around them and on the bounds of the loops around them; a config
write that reaches a loop variable this way is refused. A loop variable is not a
dependence of the code in its body by itself: `for i ...: Cfg.a = 2.0` writes the
same value in every iteration.
"""

from __future__ import annotations

from knit.errors import KnitTypeError
from knit.ir import nodes as N
from knit.ir.visit import walk_expr


def check_config_writes(proc: N.Proc) -> None:
    """Raise a KnitTypeError at the first config write of `proc` whose value may
    depend on a loop variable (directly, or through data or control flow)."""
    deps = _Deps()
    deps.block(proc.body, frozenset())
    loops = deps.loop_vars
    if not loops:
        return
    for key, where in deps.cfg_writes.items():
        reached = deps.closure(key) & loops
        if reached:
            var = min(reached, key=lambda s: s.name).name
            cfg, field = key
            raise KnitTypeError(where, f"the value written to the config field "
                                f"{cfg.name()}.{field} depends on the iterations of the "
                                f"loop over '{var}', but a config write must be one value "
                                "for the whole loop (Exo's rule: it expects that a "
                                "config write does not depend on loop iterations)",
                                "write the config outside the loop, or keep the value "
                                "in a buffer (a config holds one value for the whole "
                                "procedure)")


class _Deps:
    def __init__(self):
        self.edges: dict = {}  # name (Sym or (config, field)) -> the names it depends on
        self.alias: dict = {}  # window statement name -> the buffer it views
        self.loop_vars: set = set()
        self.cfg_writes: dict = {}  # (config, field) -> srcinfo of its first write

    def root(self, name):
        return self.alias.get(name, name)

    def reads(self, *exprs) -> set:
        """The names the expressions read: buffers (through windows), index variables,
        config fields."""
        out = set()
        for e in exprs:
            for x in walk_expr(e):
                # (not a StrideExpr: a buffer's strides are the same wherever a window
                # of it starts, so they depend on no loop; Exo's rule ignores them too)
                if isinstance(x, N.Read | N.WindowExpr):
                    out.add(self.root(x.name))
                elif isinstance(x, N.ReadConfig):
                    out.add((x.config, x.field))
        return out

    def depend(self, name, on) -> None:
        self.edges.setdefault(name, set()).update(on)

    def block(self, stmts, ctx: frozenset) -> None:
        for s in stmts:
            self.stmt(s, ctx)

    def stmt(self, s: N.Stmt, ctx: frozenset) -> None:
        match s:
            case N.Assign() | N.Reduce():
                self.depend(self.root(s.name), ctx | self.reads(s.rhs, *s.idx))
            case N.WriteConfig():
                key = (s.config, s.field)
                self.cfg_writes.setdefault(key, s.srcinfo)
                self.depend(key, ctx | self.reads(s.rhs))
            case N.WindowStmt(name, rhs):
                self.alias[name] = self.root(rhs.name)
                self.depend(self.root(rhs.name), self.reads(rhs) - {self.root(rhs.name)})
            case N.If(cond, body, orelse):
                inner = ctx | self.reads(cond)
                self.block(body, inner)
                self.block(orelse, inner)
            case N.For():
                self.loop_vars.add(s.iter)
                bounds = self.reads(s.lo, s.hi)
                self.depend(s.iter, bounds)
                self.block(s.body, ctx | bounds)
            case N.Call():
                self.call(s, ctx)

    def call(self, s: N.Call, ctx: frozenset) -> None:
        """A callee writes the buffers it is given from everything it is given and every
        config it reads, and each config it writes from the arguments and configs that
        write depends on in the callee (as Exo's rule: an argument the write does not
        read does not make it vary)."""
        f = s.f
        inputs = set(ctx)
        for a in s.args:
            inputs |= self.reads(a)
        inner = _Deps()
        inner.block(f.body, frozenset())
        inputs |= _config_reads(f)
        for p, a in zip(f.args, s.args):
            if not p.type.is_control() and hasattr(a, "name") and \
                    p.name in inner.edges:
                self.depend(self.root(a.name), inputs)
        for key in inner.cfg_writes:  # from what the callee's writes of it depend on
            self.cfg_writes.setdefault(key, s.srcinfo)
            deps = inner.closure(key)
            on = set(ctx) | {d for d in deps if isinstance(d, tuple)}  # configs read
            for p, a in zip(f.args, s.args):
                if p.name in deps:
                    on |= self.reads(a)
            self.depend(key, on)

    def closure(self, start) -> set:
        seen, todo = set(), [start]
        while todo:
            for y in self.edges.get(todo.pop(), ()):
                if y not in seen:
                    seen.add(y)
                    todo.append(y)
        return seen


def _config_reads(f: N.Proc) -> set:
    from knit.ir.visit import stmt_exprs, walk_stmts

    out = set()
    for s in walk_stmts(f.body):
        for e in stmt_exprs(s):
            for x in walk_expr(e):
                if isinstance(x, N.ReadConfig):
                    out.add((x.config, x.field))
    return out
