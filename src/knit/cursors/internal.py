"""What the layers above read of a cursor: its procedure, its node and its address.

A cursor's attributes are the cursors package's own; the trace (which records cursors
as paths), the scheduling wrappers and the tools ask here instead, so a change to the
cursor classes stays inside this package. Addresses are the internal paths of
knit.cursors.paths: a statement path is a tuple of (field, index) steps from the
procedure's body, an expression path a tuple of (field, index-or-None) steps inside
its statement.
"""

from __future__ import annotations

from typing import NamedTuple

from knit.cursors import cursor as C


def proc_of(cur: C.Cursor):
    """The Procedure the cursor points into."""
    return cur._proc


def node_of(cur: C.StmtCursor | C.ExprCursor | C.ArgCursor):
    """The IR node a statement, expression or argument cursor points at."""
    return cur._node()


def path_of(cur: C.StmtCursor | C.ExprCursor):
    """The path of the statement a statement cursor points at, or of the statement an
    expression cursor's expression is in."""
    return cur._stmt if isinstance(cur, C.ExprCursor) else cur._path


def expr_path_of(cur: C.ExprCursor) -> tuple:
    """The path of an expression cursor's expression inside its statement."""
    return cur._epath


def arg_index_of(cur: C.ArgCursor) -> int:
    """Which argument of its procedure an argument cursor points at."""
    return cur._idx


class Span(NamedTuple):
    """Statements `lo` to `hi` (exclusive) of the block `field` of the statement at
    `parent` (the procedure when `parent` is `()`)."""

    parent: tuple
    field: str
    lo: int
    hi: int


def span_of(cur: C.BlockCursor) -> Span:
    """The block a block cursor spans."""
    return Span(cur._parent, cur._field, cur._lo, cur._hi)


class Gap(NamedTuple):
    """The gap before statement `idx` of the block `field` of the statement at `parent`;
    `anchored_after` when the cursor was taken as the `after()` of statement idx - 1."""

    parent: tuple
    field: str
    idx: int
    anchored_after: bool


def gap_of(cur: C.GapCursor) -> Gap:
    """Where a gap cursor is."""
    return Gap(cur._parent, cur._field, cur._idx, cur._anchored_after)


def text_of(cur) -> str:
    """The code of what the cursor points at alone: a statement (with its body), a
    block's statements, or an expression. (`str(cursor)` prints the whole procedure
    with the place marked, as Exo does.)"""
    from knit.ir.printer import expr_str, stmt_str

    if isinstance(cur, C.BlockCursor):
        return "\n".join(stmt_str(s) for s in cur._stmts())
    if isinstance(cur, C.ExprCursor):
        return expr_str(cur._node())
    if isinstance(cur, C.StmtCursor):
        return stmt_str(cur._node())
    return repr(cur)  # a gap, an argument, an invalid cursor, or no cursor at all
