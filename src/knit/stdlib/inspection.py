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
    ExprCursor,
    ExternFunctionCursor,
    ForCursor,
    IfCursor,
    InvalidCursor,
    LiteralCursor,
    StmtCursor,
    UnaryMinusCursor,
)
from knit.errors import SchedulingError

__all__ = ["CursorNavigationError", "match_parent", "nlr_stmts", "lrn_stmts", "is_stmt", "is_if",
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
    if isinstance(c, (list, tuple)):  # knit's idx(), args(): lists of cursors
        return [proc.forward(x) for x in c]
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


def match_parent(cursor1, cursor2):
    """Move the two cursors up (the deeper first) until they have the same parent."""
    proc = cursor1.proc()
    if proc is not cursor2.proc():
        raise CursorNavigationError("cursors originate from different procs")
    diff = get_depth(proc, cursor1) - get_depth(proc, cursor2)
    for _ in range(abs(diff)):
        if diff > 0:
            cursor1 = cursor1.parent()
        else:
            cursor2 = cursor2.parent()
    while cursor1.parent() != cursor2.parent():
        cursor1, cursor2 = cursor1.parent(), cursor2.parent()
    return cursor1, cursor2


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


# ---------------------------------------------------------------- expressions

def expr_children(expr):
    """The sub-expressions of an expression cursor, left to right."""
    from knit.API_cursors import ReadCursor

    if isinstance(expr, ReadCursor):
        yield from expr.idx()
    elif isinstance(expr, UnaryMinusCursor):
        yield expr.arg()
    elif isinstance(expr, BinaryOpCursor):
        yield expr.lhs()
        yield expr.rhs()
    elif isinstance(expr, ExternFunctionCursor):
        yield from expr.args()


def stmt_exprs(stmt):
    """The expressions a statement holds directly (not those of nested statements)."""
    from knit.API_cursors import (
        AllocCursor,
        AssignConfigCursor,
        AssignCursor,
        CallCursor,
        ReduceCursor,
    )

    if isinstance(stmt, (AssignCursor, ReduceCursor)):
        yield from stmt.idx()
        yield stmt.rhs()
    elif isinstance(stmt, ForCursor):
        yield stmt.lo()
        yield stmt.hi()
    elif isinstance(stmt, IfCursor):
        yield stmt.cond()
    elif isinstance(stmt, CallCursor):
        yield from stmt.args()
    elif isinstance(stmt, AssignConfigCursor):
        yield stmt.rhs()
    elif isinstance(stmt, AllocCursor):
        return


def lrn(proc, cursor=InvalidCursor()):
    """Every statement and expression under `cursor` (default: the whole body), each
    after its children (for a statement: its expressions, then nested statements)."""

    def exprs(e):
        for c in expr_children(e):
            yield from exprs(c)
        yield e

    def stmts(s):
        for e in stmt_exprs(s):
            yield from exprs(e)
        for child in _stmt_children(s):
            yield from stmts(child)
        yield s

    roots = proc.body() if isinstance(cursor, InvalidCursor) else _forward(proc, cursor)
    if isinstance(roots, (StmtCursor, ExprCursor)):  # one node: itself and below
        roots = [roots]
    for r in roots:
        yield from (stmts(r) if isinstance(r, StmtCursor) else exprs(r))


def get_symbols(proc, cursor=InvalidCursor()):
    """The names of the variables and buffers mentioned under `cursor`."""
    for c in lrn(proc, cursor):
        if hasattr(c, "name"):
            yield c.name()


def get_unique_names(proc):
    """Fresh names var0, var1, ... not used in the procedure."""
    used = set(get_symbols(proc)) | {a.name() for a in proc.args()}
    for k in range(100):
        if f"var{k}" not in used:
            yield f"var{k}"


def get_parents(proc, stmt, up_to=None):
    """The statements around `stmt` (innermost first), up to and including `up_to`; none
    when `up_to` is `stmt` itself."""
    stmt = proc.forward(stmt)
    if up_to is not None and proc.forward(up_to) == stmt:
        return
    c = stmt.parent()
    while not isinstance(c, InvalidCursor):
        yield c
        if up_to is not None and c == proc.forward(up_to):
            return
        c = c.parent()


def get_declaration(proc, ctxt, name):
    """The allocation (or else the argument) that declares `name` where `ctxt` is."""
    from knit.API_cursors import AllocCursor

    c = proc.forward(ctxt)
    while not isinstance(c, StmtCursor):
        c = c.parent()
    while not isinstance(c, InvalidCursor):
        p = c.prev()
        while not isinstance(p, InvalidCursor):
            if isinstance(p, AllocCursor) and p.name() == name:
                return p
            p = p.prev()
        c = c.parent()
    for arg in proc.args():
        if arg.name() == name:
            return arg
    raise SchedulingError(f"no declaration of '{name}' found")


def is_read(proc, read, name=None):
    from knit.API_cursors import ReadCursor

    read = proc.forward(read)
    return isinstance(read, ReadCursor) and (name is None or read.name() == name)


def is_reduce(proc, reduce):
    from knit.API_cursors import ReduceCursor

    return isinstance(proc.forward(reduce), ReduceCursor)


def is_assign(proc, assign):
    from knit.API_cursors import AssignCursor, ReduceCursor

    c = proc.forward(assign)
    return isinstance(c, AssignCursor) and not isinstance(c, ReduceCursor)


def is_write(proc, write):
    return is_reduce(proc, write) or is_assign(proc, write)


def is_access(proc, access):
    return is_read(proc, access) or is_write(proc, access)


__all__ += ["expr_children", "stmt_exprs", "lrn", "get_symbols", "get_unique_names",
            "get_parents", "get_declaration", "is_read", "is_reduce", "is_assign",
            "is_write", "is_access"]


def are_exprs_equal(proc, expr1, expr2):
    """Whether two expression cursors are the same expression (same kinds, names,
    literals, operators and configs, recursively)."""

    def same(a, b):
        if type(a) is not type(b):
            return False
        for attr in ("name", "value", "op", "config", "field"):
            if hasattr(a, attr) and getattr(a, attr)() != getattr(b, attr)():
                return False
        ca, cb = list(expr_children(a)), list(expr_children(b))
        return len(ca) == len(cb) and all(same(x, y) for x, y in zip(ca, cb))

    return same(proc.forward(expr1), proc.forward(expr2))


def is_copy(proc, assign):
    """Whether a statement is `x[...] = y[...]` between buffers of the same memory."""
    assign = proc.forward(assign)
    if not is_assign(proc, assign) or not is_read(proc, assign.rhs()):
        return False
    lhs = get_declaration(proc, assign, assign.name())
    rhs = get_declaration(proc, assign, assign.rhs().name())
    return lhs.mem() is rhs.mem()


def get_bounding_block(proc, cursors):
    """The smallest block of sibling statements that holds every cursor."""
    cursors = [get_my_stmt(proc, proc.forward(c)) for c in cursors]
    depth = [get_depth(proc, c) for c in cursors]
    while not all(c.parent() == cursors[0].parent() for c in cursors):
        deepest = max(depth)
        for i, c in enumerate(cursors):
            if depth[i] == deepest:
                cursors[i], depth[i] = c.parent(), depth[i] - 1
    placed = sorted(((c, get_index_in_body(proc, c)) for c in cursors), key=lambda k: k[1])
    return placed[0][0].as_block().expand(0, placed[-1][1] - placed[0][1])


# ---------------------------------------------------------------- depth and ancestors


def get_depth(proc, cursor) -> int:
    """How many parents up from `cursor` to the procedure (a top-level statement: 2)."""
    cursor = proc.forward(cursor)
    depth = 1
    while not isinstance(cursor, InvalidCursor):
        cursor = cursor.parent()
        depth += 1
    return depth


def get_lca(proc, c1, c2):
    """The innermost statement holding both cursors (a cursor holds itself)."""
    c1, c2 = proc.forward(c1), proc.forward(c2)
    c = c1
    while not (c == c2 or c.is_ancestor_of(c2)):
        c = c.parent()
        if isinstance(c, InvalidCursor):
            raise CursorNavigationError("these cursors do not have a common ancestor")
    return c


def get_distance(proc, c1, c2) -> int:
    lca = get_lca(proc, c1, c2)
    return get_depth(proc, c1) + get_depth(proc, c2) - 2 * get_depth(proc, lca)


__all__ += ["are_exprs_equal", "is_copy", "get_bounding_block", "get_depth", "get_lca",
            "get_distance"]
