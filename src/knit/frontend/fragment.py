"""Parsing fragments of object code (expressions given to primitives as strings,
like `cut_loop(p, loop, "N - 4")`) in the context of a place in a procedure."""

from __future__ import annotations

import ast

from knit.errors import KnitError, ParseFragmentError
from knit.frontend.parse import Parser, Source
from knit.ir import nodes as N, types as T
from knit.ir.handles import ir_of, scope_of
from knit.ir.sym import Sym


def visible_syms(proc: N.Proc, path) -> dict[str, tuple[Sym, T.Type, object]]:
    """The variables in scope just before the statement at `path` (name -> sym, type, mem):
    arguments, enclosing loop variables, and earlier allocations and windows."""
    env = {a.name.name: (a.name, a.type, a.mem) for a in proc.args}
    node = proc
    for k, (field, i) in enumerate(path):
        block = getattr(node, field)
        for s in block[:i]:
            if isinstance(s, N.Alloc):
                env[s.name.name] = (s.name, s.type, s.mem)
            elif isinstance(s, N.WindowStmt):
                env[s.name.name] = (s.name, s.rhs.type, None)
        node = block[i] if i < len(block) else None
        if isinstance(node, N.For) and k < len(path) - 1:
            env[node.iter.name] = (node.iter, T.INDEX, None)
    return env


def parse_expr_fragment(proc, text: str, path, prim: str, *, extra=None) -> N.Expr:
    """Parse `text` as an expression over the names visible at `path` in `proc`
    (a Procedure). `extra` adds names (e.g. a new loop variable)."""
    if not isinstance(text, str):
        raise ParseFragmentError(f"{prim}: expected an expression string, got "
                                 f"{type(text).__name__}")
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except SyntaxError as e:
        raise ParseFragmentError(f"{prim}: {text!r} is not an expression: {e.msg}") from None
    parser = Parser(Source(text, "<fragment>", 1, 0, scope_of(proc)))
    env = visible_syms(ir_of(proc), path)
    env.update(extra or {})
    _check_holes_mean_here(text, env, prim)
    for name, (sym, typ, mem) in env.items():
        parser.scopes[0][name] = sym
        parser.types[sym] = typ
        if mem is not None:
            parser.mems[sym] = mem
    try:
        return parser.parse_expr(tree)
    except KnitError as e:
        raise ParseFragmentError(f"{prim}: cannot use {text!r} here: "
                                 f"{str(e).splitlines()[0].split(': ', 1)[-1]}") from e


def _check_holes_mean_here(text, env, prim: str) -> None:
    """A FormattedExprStr's holes hold its cursors' text: each variable an expression
    there reads (its `hole_vars`) must be the variable that name means here (Exo
    substitutes the expression itself, and refuses one whose variable is not in scope).
    A name that means another variable here would silently change the expression."""
    for shown, sym in getattr(text, "hole_vars", ()):
        here = env.get(sym.name)
        if here is None or here[0] is not sym:
            what = "is another variable here" if here is not None else "is not visible here"
            raise ParseFragmentError(
                f"{prim}: '{sym.name}' in {text!r} (the expression {shown}) not found in "
                f"current environment: the variable it reads at the cursor {what}")
