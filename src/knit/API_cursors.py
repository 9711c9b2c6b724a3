"""`exo.API_cursors` at the same path: the cursor classes of knit under Exo's names.

knit's cursors (`knit.cursors.cursor`) are the ones procedures hand out; this module
names them as Exo 1.0 does. Exo's abstract groupings (`StmtCursorPrototype`,
`ExprCursorPrototype`, `ListCursorPrototype`) have no class of their own in knit: they
are abstract classes here with knit's classes registered, so `isinstance` answers as in
Exo. `ExprListCursor` (what `idx()`, `args()` and `shape()` return) is a sequence of
expression cursors.
"""

from __future__ import annotations

from abc import ABC

from knit.cursors.cursor import (
    AllocCursor,
    ArgCursor,
    AssignConfigCursor,
    AssignCursor,
    BinaryOpCursor,
    BlockCursor,
    CallCursor,
    Cursor,
    ExprCursor,
    ExprListCursor,
    ExternFunctionCursor,
    ForCursor,
    GapCursor,
    IfCursor,
    InvalidCursor,
    InvalidCursorError,
    LiteralCursor,
    PassCursor,
    ReadConfigCursor,
    ReadCursor,
    ReduceCursor,
    StmtCursor,
    StrideExprCursor,
    UnaryMinusCursor,
    WindowExprCursor,
    WindowStmtCursor,
)

__all__ = [
    "Cursor",
    "InvalidCursor",
    "ArgCursor",
    "StmtCursorPrototype",
    "StmtCursor",
    "BlockCursor",
    "GapCursor",
    "ExprCursorPrototype",
    "ExprCursor",
    "ExprListCursor",
    #
    "AssignCursor",
    "ReduceCursor",
    "AssignConfigCursor",
    "PassCursor",
    "IfCursor",
    "ForCursor",
    "AllocCursor",
    "CallCursor",
    "WindowStmtCursor",
    #
    "ReadCursor",
    "ReadConfigCursor",
    "LiteralCursor",
    "UnaryMinusCursor",
    "BinaryOpCursor",
    "ExternFunctionCursor",
    "WindowExprCursor",
    "StrideExprCursor",
    #
    "InvalidCursorError",
]


class StmtCursorPrototype(ABC):  # noqa: B024 - a marker to register with (Exo's isinstance tests)
    """What points at statements: a statement, a block of them, or a gap between them."""


class ExprCursorPrototype(ABC):  # noqa: B024 - a marker to register with (Exo's isinstance tests)
    """What points at expressions."""


class ListCursorPrototype(ABC):  # noqa: B024 - a marker to register with (Exo's isinstance tests)
    """What points at a sequence: a block of statements, or a list of expressions."""


for _c in (StmtCursor, BlockCursor, GapCursor):
    StmtCursorPrototype.register(_c)
ExprCursorPrototype.register(ExprCursor)
ListCursorPrototype.register(BlockCursor)
ListCursorPrototype.register(ExprListCursor)
