"""Comparing a procedure with what its printed text parses back to.

`str(p)` must parse back to the same program. "The same" is alpha-equivalence up to
what printing cannot carry and nothing reads: the control kind of an integer
expression (`int`, `index`, `size` are one kind of value in C and in the
interpreter), the shape recorded in an *expression's* type (a window's dimensions
are recomputed from its slices), and `2` vs `2.0` for a literal of the same type.
Everything else -- statements, operators, indices, bounds, buffer types and shapes,
memories, callees -- must be equal. `first_difference` names the first place where
two procedures differ, or returns None.
"""

from __future__ import annotations

import dataclasses

_INTS = ("int", "index", "size", "stride")


def first_difference(a, b) -> str | None:
    return _Cmp().node(a, b, "proc")


def check_roundtrip(q, scope: dict) -> None:
    """str(q) parses back (`scope` plus every callee of q) to the same procedure; raises
    the parse error, or AssertionError naming the first difference."""
    from knit.ir import nodes as N
    from knit.ir.visit import walk_stmts
    from knit.procedure import Procedure, parse_proc_string

    scope = dict(scope)
    for s in walk_stmts(q._loopir_proc.body):
        if isinstance(s, N.Call) and s.f.name not in scope:
            scope[s.f.name] = Procedure(s.f, check=False)
    back = parse_proc_string(str(q), scope)
    where = first_difference(q._loopir_proc, back._loopir_proc)
    if where is not None:
        raise AssertionError(f"str(p) parses back to a different procedure: {where}")
    if str(back) != str(q):
        raise AssertionError(f"str(p) parses back to a procedure that prints otherwise:\n"
                             f"{q}\n---\n{back}")


class _Cmp:
    def __init__(self):
        self.fwd, self.bwd = {}, {}

    def sym(self, a, b, path):
        if self.fwd.get(a, b) is not b or self.bwd.get(b, a) is not a:
            return f"{path}: '{a.name}' and '{b.name}' are bound differently"
        self.fwd[a], self.bwd[b] = b, a
        return None

    @staticmethod
    def binder(node, field: str) -> bool:
        from knit.ir import nodes as N

        return (isinstance(node, N.For) and field == "iter") or \
            (isinstance(node, (N.Alloc, N.WindowStmt)) and field == "name")

    def scalar(self, a, b, path):
        ka = "int" if a.kind in _INTS else a.name
        kb = "int" if b.kind in _INTS else b.name
        return None if ka == kb else f"{path}: type {a.name} vs {b.name}"

    def type(self, a, b, path, dims: bool):
        if a.is_tensor() != b.is_tensor():
            return f"{path}: tensor vs scalar"
        if not a.is_tensor():
            return self.scalar(a, b, path)
        if (a.is_window, a.elem) != (b.is_window, b.elem):
            return f"{path}: {a.elem} window={a.is_window} vs {b.elem} window={b.is_window}"
        return self.seq(a.dims, b.dims, f"{path}.dims") if dims else None

    def seq(self, xs, ys, path):
        if len(xs) != len(ys):
            return f"{path}: {len(xs)} vs {len(ys)} items"
        for i, (x, y) in enumerate(zip(xs, ys)):
            d = self.node(x, y, f"{path}[{i}]")
            if d:
                return d
        return None

    def node(self, a, b, path):
        from knit.ir import nodes as N
        from knit.ir.sym import Sym

        if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
            return self.seq(a, b, path)
        if type(a) is not type(b):
            return f"{path}: {type(a).__name__} vs {type(b).__name__}"
        if isinstance(a, Sym):
            return self.sym(a, b, path)
        if isinstance(a, N.Const):
            if a.val != b.val:
                return f"{path}: {a.val!r} vs {b.val!r}"
            return self.scalar(a.type, b.type, path)
        if isinstance(a, N.Call):
            if a.f.name != b.f.name:
                return f"{path}: calls {a.f.name} vs {b.f.name}"
            return self.seq(a.args, b.args, f"{path}.args") or \
                first_difference(a.f, b.f)
        if not dataclasses.is_dataclass(a) or isinstance(a, type):
            return None if a == b or a is b else f"{path}: {a!r} vs {b!r}"
        is_expr = isinstance(a, N.Expr)
        for f in dataclasses.fields(a):
            if f.name in ("srcinfo", "sid") or not f.compare:
                # (compare=False: not part of the IR's meaning, e.g. WindowExpr.whole,
                # which only says the user wrote `x`; the text check covers printing)
                continue
            x, y, p = getattr(a, f.name), getattr(b, f.name), f"{path}.{f.name}"
            if self.binder(a, f.name):
                # a binding site: a symbol may be bound again by a sibling (cut_loop
                # leaves two loops sharing one Sym); the text gives each its own
                self.fwd[x], self.bwd[y] = y, x
                continue
            if f.name == "type" and hasattr(x, "is_tensor"):
                d = self.type(x, y, p, dims=not is_expr)
            elif f.name in ("mem", "f", "config"):
                d = None if x is y else f"{p}: {x!r} vs {y!r}"
            else:
                d = self.node(x, y, p)
            if d:
                return d
        return None
