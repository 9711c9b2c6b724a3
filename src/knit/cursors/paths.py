"""Paths into a procedure, and rebuilding a procedure along a path.

A statement path is a tuple of steps `(field, index)` from the procedure:
`(("body", 2), ("orelse", 0))` is the first statement of the else branch of the
third top-level statement. An expression path continues from a statement with
steps `(field, index_or_None)`, e.g. `(("rhs", None), ("lhs", None))`.
These are internal; users hold cursors.
"""

from __future__ import annotations

from knit.ir import nodes as N

StmtPath = tuple[tuple[str, int], ...]
ExprPath = tuple[tuple[str, int | None], ...]


def block_of(proc: N.Proc, parent: StmtPath, field: str) -> tuple:
    """The statement list `field` of the statement at `parent` (or of the proc)."""
    node = proc if not parent else stmt_at(proc, parent)
    return getattr(node, field)


def stmt_at(proc: N.Proc, path: StmtPath):
    node = proc
    for field, i in path:
        node = getattr(node, field)[i]
    return node


def is_valid_stmt_path(proc: N.Proc, path: StmtPath) -> bool:
    node = proc
    for field, i in path:
        block = getattr(node, field, None)
        if not isinstance(block, tuple) or not 0 <= i < len(block):
            return False
        node = block[i]
    return True


def replace_block(proc: N.Proc, parent: StmtPath, field: str, lo: int, hi: int,
                  new: tuple) -> N.Proc:
    """proc with statements [lo, hi) of the block (parent, field) replaced by `new`."""

    def rebuild(node, steps):
        if not steps:
            block = getattr(node, field)
            return node.with_(**{field: block[:lo] + tuple(new) + block[hi:]})
        (f, i), rest = steps[0], steps[1:]
        block = getattr(node, f)
        return node.with_(**{f: block[:i] + (rebuild(block[i], rest),) + block[i + 1:]})

    return rebuild(proc, parent)


def replace_stmt(proc: N.Proc, path: StmtPath, new: tuple) -> N.Proc:
    (field, i) = path[-1]
    return replace_block(proc, path[:-1], field, i, i + 1, new)


def stmt_paths(proc: N.Proc):
    """(path, stmt) for every statement of proc, pre-order."""

    def go(stmts, prefix, field):
        for i, s in enumerate(stmts):
            path = prefix + ((field, i),)
            yield path, s
            if isinstance(s, N.For):
                yield from go(s.body, path, "body")
            elif isinstance(s, N.If):
                yield from go(s.body, path, "body")
                yield from go(s.orelse, path, "orelse")

    yield from go(proc.body, (), "body")


# ---------------------------------------------------------------- expressions


def expr_at(node, path: ExprPath):
    for field, i in path:
        node = getattr(node, field)
        if i is not None:
            node = node[i]
    return node


def is_valid_expr_path(node, path: ExprPath) -> bool:
    try:
        for field, i in path:
            node = getattr(node, field)
            if i is not None:
                if not isinstance(node, tuple) or not 0 <= i < len(node):
                    return False
                node = node[i]
    except AttributeError:
        return False
    return isinstance(node, (N.Expr, N.Interval, N.Point))


def replace_expr(node, path: ExprPath, new):
    """node (a statement or expression) with the expression at `path` replaced."""
    if not path:
        return new
    (field, i), rest = path[0], path[1:]
    child = getattr(node, field)
    if i is None:
        return _with(node, field, replace_expr(child, rest, new))
    items = list(child)
    items[i] = replace_expr(items[i], rest, new)
    return _with(node, field, tuple(items))


def _with(node, field, value):
    if isinstance(node, (N.Interval, N.Point)):
        from dataclasses import replace

        return replace(node, **{field: value})
    return node.with_(**{field: value})


def expr_paths(node, prefix: ExprPath = ()):
    """(path, expr) for every expression under a statement or expression, pre-order."""
    for field, i, child in _expr_children(node):
        path = prefix + ((field, i),)
        if isinstance(child, N.Expr):
            yield path, child
        yield from expr_paths(child, path)


def _expr_children(node):
    match node:
        case N.Assign() | N.Reduce():
            yield from (("idx", k, e) for k, e in enumerate(node.idx))
            yield "rhs", None, node.rhs
        case N.WriteConfig() | N.WindowStmt():
            yield "rhs", None, node.rhs
        case N.If():
            yield "cond", None, node.cond
        case N.For():
            yield "lo", None, node.lo
            yield "hi", None, node.hi
        case N.Call():
            yield from (("args", k, e) for k, e in enumerate(node.args))
        case N.Read():
            yield from (("idx", k, e) for k, e in enumerate(node.idx))
        case N.USub():
            yield "arg", None, node.arg
        case N.BinOp():
            yield "lhs", None, node.lhs
            yield "rhs", None, node.rhs
        case N.Extern():
            yield from (("args", k, e) for k, e in enumerate(node.args))
        case N.WindowExpr():
            yield from (("idx", k, w) for k, w in enumerate(node.idx))
        case N.Interval():
            yield "lo", None, node.lo
            yield "hi", None, node.hi
        case N.Point():
            yield "pt", None, node.pt
