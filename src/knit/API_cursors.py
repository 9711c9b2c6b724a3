"""`exo.API_cursors` at the same path: the cursor classes of knit under Exo's names.

knit's cursors (`knit.cursors.cursor`) are the ones procedures hand out; this module
names them as Exo 1.0 does. Exo's abstract groupings (`StmtCursorPrototype`,
`ExprCursorPrototype`, `ListCursorPrototype`) have no class of their own in knit: they
are abstract classes here with knit's classes registered, so `isinstance` answers as in
Exo. `ExprListCursor` is a small list of expression cursors (see its docstring for where
knit differs).
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


class ExprListCursor(Cursor):
    """A contiguous (maybe empty) sequence of expression cursors, such as the indices of
    an access. It iterates, indexes and measures like Exo's.

    Difference from Exo: knit's cursors return plain Python lists where Exo returns an
    ExprListCursor (`idx()`, `args()`, `shape()`); `ExprListCursor.of(...)` wraps such
    a list when code wants the Exo class. Equality is element-wise.
    """

    def __init__(self, items, parent=None):
        items = tuple(items)
        for c in items:
            if not isinstance(c, ExprCursor):
                raise TypeError(f"ExprListCursor holds expression cursors, got {c!r}")
        self._items = items
        self._parent = parent
        super().__init__(self._items[0].proc() if self._items else
                         parent.proc() if parent is not None else None)

    @classmethod
    def of(cls, items, parent=None) -> ExprListCursor:
        return items if isinstance(items, cls) else cls(items, parent)

    def proc(self):
        if self._proc is None:
            raise InvalidCursorError("an empty expression list knows no procedure")
        return self._proc

    def parent(self):
        if self._parent is not None:
            return self._parent
        if self._items:
            return self._items[0].parent()
        return InvalidCursor(None, "an empty expression list has no parent")

    def __iter__(self):
        return iter(self._items)

    def __getitem__(self, i):
        got = self._items[i]
        return ExprListCursor(got, self._parent) if isinstance(i, slice) else got

    def __len__(self) -> int:
        return len(self._items)

    def __bool__(self) -> bool:
        return True  # a valid cursor, even when empty (only InvalidCursor is false)

    def __eq__(self, other) -> bool:
        if isinstance(other, ExprListCursor):
            return self._items == other._items
        if isinstance(other, (list, tuple)):
            return list(self._items) == list(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._items)

    def __repr__(self) -> str:
        return f"ExprListCursor({list(self._items)!r})"


for _c in (StmtCursor, BlockCursor, GapCursor):
    StmtCursorPrototype.register(_c)
ExprCursorPrototype.register(ExprCursor)
ListCursorPrototype.register(BlockCursor)
ListCursorPrototype.register(ExprListCursor)
