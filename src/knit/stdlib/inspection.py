"""Cursor inspection and navigation helpers under the names of Exo 1.0's
`exo.stdlib.inspection` (the subset the higher-level schedules here use; written on
knit's public cursor API).

Traversals yield statement cursors of the procedure they are given; a schedule that
rewrites as it goes forwards each (`proc.forward(c)`) before use, as Exo's do.
"""

from __future__ import annotations

from knit.API_cursors import (
    BinaryOpCursor,
    BlockCursor,
    ExternFunctionCursor,
    ForCursor,
    IfCursor,
    InvalidCursor,
    LiteralCursor,
    StmtCursor,
    UnaryMinusCursor,
)
from knit.errors import SchedulingError

__all__ = ["CursorNavigationError", "nlr_stmts", "lrn_stmts", "is_stmt", "is_if",
           "is_loop", "check_is_loop", "is_loop_bounds_const", "loop_body_len",
           "is_single_stmt_loop", "get_top_level_stmt", "get_enclosing_scope",
           "get_enclosing_loop", "get_enclosing_loop_by_name", "get_enclosing_if",
           "get_enclosing_stmt", "get_my_stmt", "get_index_in_body", "get_parent",
           "get_inner_loop", "get_nth_inner_loop", "is_binop", "is_add", "is_sub",
           "is_mul", "is_div", "is_mod", "is_builtin", "is_select", "is_relu",
           "is_literal", "is_unary_minus", "is_start_of_body", "is_end_of_body"]


class CursorNavigationError(Exception):
    """A navigation helper found nothing where it was asked to look."""


def _forward(proc, c):
    return c if isinstance(c, (InvalidCursor, BlockCursor)) else proc.forward(c)


def _stmt_children(stmt):
    if isinstance(stmt, ForCursor):
        yield from stmt.body()
    elif isinstance(stmt, IfCursor):
        yield from stmt.body()
        if not isinstance(stmt.orelse(), InvalidCursor):
            yield from stmt.orelse()


def _stmts(proc, block, node_first: bool):
    def dfs(s):
        if node_first:
            yield s
        for child in _stmt_children(s):
            yield from dfs(child)
        if not node_first:
            yield s

    roots = proc.body() if isinstance(block, InvalidCursor) else _forward(proc, block)
    if isinstance(roots, StmtCursor):
        roots = [roots]
    for s in roots:
        yield from dfs(s)


def nlr_stmts(proc, block=InvalidCursor()):
    """The statements of `block` (default: the whole body), each before its children."""
    return _stmts(proc, block, True)


def lrn_stmts(proc, block=InvalidCursor()):
    """The statements of `block` (default: the whole body), each after its children."""
    return _stmts(proc, block, False)


def is_stmt(proc, stmt):
    return isinstance(_forward(proc, stmt), StmtCursor)


def is_if(proc, if_c):
    return isinstance(_forward(proc, if_c), IfCursor)


def is_loop(proc, loop):
    return isinstance(_forward(proc, loop), ForCursor)


def check_is_loop(proc, loop):
    if not is_loop(proc, loop):
        raise TypeError(f"loop is not a {ForCursor}")


def is_loop_bounds_const(proc, loop):
    check_is_loop(proc, loop)
    loop = proc.forward(loop)
    return isinstance(loop.lo(), LiteralCursor) and isinstance(loop.hi(), LiteralCursor)


def loop_body_len(proc, loop):
    check_is_loop(proc, loop)
    return len(proc.forward(loop).body())


def is_single_stmt_loop(proc, loop):
    return loop_body_len(proc, loop) == 1


def get_top_level_stmt(proc, c):
    c = proc.forward(c)
    while not isinstance(c.parent(), InvalidCursor):
        c = c.parent()
    return c


def get_enclosing_scope(proc, cursor, scope_type):
    cursor = proc.forward(cursor).parent()
    while not isinstance(cursor, (scope_type, InvalidCursor)):
        cursor = cursor.parent()
    if isinstance(cursor, InvalidCursor):
        raise SchedulingError("No enclosing scope found")
    return cursor


def get_enclosing_loop(proc, cursor, n=1):
    """The n-th loop around `cursor` (n=1: the innermost)."""
    cursor = proc.forward(cursor)
    for _ in range(n):
        cursor = get_enclosing_scope(proc, cursor, ForCursor)
    return cursor


def get_enclosing_loop_by_name(proc, cursor, loop_iter: str):
    """The loop around `cursor` (or `cursor` itself) whose iteration variable is
    `loop_iter`; CursorNavigationError if there is none."""
    cursor = proc.forward(cursor)
    while not (isinstance(cursor, ForCursor) and cursor.name() == loop_iter):
        cursor = cursor.parent()
        if isinstance(cursor, InvalidCursor):
            raise CursorNavigationError("no enclosing loop found")
    return cursor


def get_enclosing_if(proc, cursor, n=1):
    cursor = proc.forward(cursor)
    for _ in range(n):
        cursor = get_enclosing_scope(proc, cursor, IfCursor)
    return cursor


def get_enclosing_stmt(proc, cursor, n=1):
    cursor = proc.forward(cursor)
    for _ in range(n):
        cursor = get_enclosing_scope(proc, cursor, StmtCursor)
    return cursor


def get_my_stmt(proc, cursor):
    cursor = proc.forward(cursor)
    return cursor if isinstance(cursor, StmtCursor) else get_enclosing_stmt(proc, cursor)


def get_index_in_body(proc, stmt, from_top=True):
    stmt = proc.forward(stmt)
    step = stmt.prev if from_top else stmt.next
    index = 0
    while not isinstance(step(), InvalidCursor):
        stmt = step()
        step = stmt.prev if from_top else stmt.next
        index += 1
    return index


def get_parent(proc, stmt):
    parent = proc.forward(stmt).parent()
    if isinstance(parent, InvalidCursor):
        raise CursorNavigationError("can't get the parent of a top-level statement")
    return parent


def get_nth_inner_loop(proc, loop, n):
    loop = proc.forward(loop)
    inner = [s for s in loop.body() if isinstance(s, ForCursor)]
    if n >= len(inner):
        raise SchedulingError(f"the loop has {len(inner)} loops in its body, not {n + 1}")
    return inner[n]


def get_inner_loop(proc, loop):
    return get_nth_inner_loop(proc, loop, 0)


def is_binop(proc, expr, op=None):
    expr = proc.forward(expr)
    return isinstance(expr, BinaryOpCursor) and (op is None or expr.op() == op)


def is_add(proc, expr):
    return is_binop(proc, expr, "+")


def is_sub(proc, expr):
    return is_binop(proc, expr, "-")


def is_mul(proc, expr):
    return is_binop(proc, expr, "*")


def is_div(proc, expr):
    return is_binop(proc, expr, "/")


def is_mod(proc, expr):
    return is_binop(proc, expr, "%")


def is_builtin(proc, expr, name):
    expr = proc.forward(expr)
    return isinstance(expr, ExternFunctionCursor) and expr.name() == name


def is_select(proc, expr):
    return is_builtin(proc, expr, "select")


def is_relu(proc, expr):
    return is_builtin(proc, expr, "relu")


def is_literal(proc, expr, value=None):
    expr = proc.forward(expr)
    return isinstance(expr, LiteralCursor) and (value is None or expr.value() == value)


def is_unary_minus(proc, expr):
    return isinstance(proc.forward(expr), UnaryMinusCursor)


def is_start_of_body(proc, stmt):
    return isinstance(proc.forward(stmt).prev(), InvalidCursor)


def is_end_of_body(proc, stmt):
    return isinstance(proc.forward(stmt).next(), InvalidCursor)
