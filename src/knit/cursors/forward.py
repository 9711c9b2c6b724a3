"""Forwarding: follow a cursor from a procedure to one derived from it by rewrites.

Statements keep their `sid` when a rewrite transforms them (`with_` keeps it), so a
statement is found again by its sid; where a rewrite duplicated a statement, the
first copy (in program order) is taken. Blocks forward by their first and last
statements, gaps by a neighbouring statement, expressions by their statement and
their path inside it.
"""

from __future__ import annotations

from knit.cursors import cursor as C, paths as P
from knit.errors import InternalError, KnitTypeError


def sid_index(proc) -> dict[int, P.StmtPath]:
    """sid -> path of its first occurrence, cached on the Procedure."""
    index = proc._sid_paths
    if index is None:
        index = {}
        for path, s in P.stmt_paths(proc._loopir_proc):
            index.setdefault(s.sid, path)
        proc._sid_paths = index
    return index


def is_ancestor(old, new) -> bool:
    p = new
    while p is not None:
        if p is old:
            return True
        p = p._parent
    return False


def forward(new, cur: C.Cursor) -> C.Cursor:
    if not isinstance(cur, C.Cursor):
        raise KnitTypeError(None, f"forward: expected a cursor, got {type(cur).__name__}")
    old = cur._proc
    if old is new or cur.is_invalid():
        return cur
    if not is_ancestor(old, new):
        raise C.InvalidCursorError(
            f"cannot forward a cursor of '{old.name()}' to '{new.name()}': the procedure "
            "was not derived from the cursor's procedure by scheduling")
    match cur:
        case C.ArgCursor():
            return C.ArgCursor(new, cur._idx)
        case C.StmtCursor():
            return C.make_stmt_cursor(new, _stmt_path(old, new, cur._path))
        case C.BlockCursor():
            return _forward_block(old, new, cur)
        case C.GapCursor():
            return _forward_gap(old, new, cur)
        case C.ExprCursor():
            return _forward_expr(old, new, cur)
    raise InternalError(f"forward: a cursor of unknown kind: {cur!r}")


def _stmt_path(old, new, path: P.StmtPath) -> P.StmtPath:
    sid = P.stmt_at(old._loopir_proc, path).sid
    new_path = sid_index(new).get(sid)
    if new_path is None:
        raise C.InvalidCursorError(f"the statement the cursor pointed at was removed by a "
                                   f"rewrite:\n{C.stmt_str(P.stmt_at(old._loopir_proc, path))}")
    return new_path


def _forward_block(old, new, cur: C.BlockCursor) -> C.BlockCursor:
    first = _stmt_path(old, new, cur._parent + ((cur._field, cur._lo),))
    last = _stmt_path(old, new, cur._parent + ((cur._field, cur._hi - 1),))
    if first[:-1] != last[:-1] or first[-1][0] != last[-1][0] or first[-1][1] > last[-1][1]:
        raise C.InvalidCursorError("the block the cursor pointed at was split by a rewrite")
    # a rewrite that turned the last statement into several (split_write) keeps its
    # identity on each: the block grows to cover them all
    block = P.block_of(new._loopir_proc, first[:-1], first[-1][0])
    last_sid, hi = block[last[-1][1]].sid, last[-1][1] + 1
    while hi < len(block) and block[hi].sid == last_sid:
        hi += 1
    return C.BlockCursor(new, first[:-1], first[-1][0], first[-1][1], hi)


def _forward_gap(old, new, cur: C.GapCursor) -> C.GapCursor:
    """A gap follows its anchor: the statement before it (s.after()) or after it."""
    block = cur._block()
    after = cur._anchored_after if cur._idx > 0 else False
    if cur._idx >= len(block):
        after = True
    if not block:
        raise C.InvalidCursorError("cannot forward a gap in an empty block")
    i = cur._idx - 1 if after else cur._idx
    path = _stmt_path(old, new, cur._parent + ((cur._field, i),))
    return C.GapCursor(new, path[:-1], path[-1][0], path[-1][1] + (1 if after else 0),
                       anchored_after=after)


def _forward_expr(old, new, cur: C.ExprCursor) -> C.ExprCursor:
    spath = _stmt_path(old, new, cur._stmt)
    stmt = P.stmt_at(new._loopir_proc, spath)
    if not P.is_valid_expr_path(stmt, cur._epath):
        raise C.InvalidCursorError("the expression the cursor pointed at was removed by a "
                                   "rewrite")
    return C.make_expr_cursor(new, spath, cur._epath)
