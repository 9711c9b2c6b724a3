"""Cursors: handles on a place in a procedure (a statement, block, gap, argument or
expression), used to navigate, to inspect, and to tell primitives where to act.

A cursor belongs to one Procedure. `new_proc.forward(c)` follows it through the
rewrites that produced `new_proc`; statements keep their identity (`sid`) across a
rewrite when the rewrite transforms rather than replaces them.
"""

from __future__ import annotations

from knit.cursors import paths as P
from knit.cursors.show import ExoImplView, marked_proc
from knit.errors import UserError
from knit.ir import handles, nodes as N
from knit.ir.printer import expr_str, stmt_str


class InvalidCursorError(UserError, AttributeError):
    """A cursor that points at nothing: navigated off a block, or its target was removed
    by a rewrite. Also an AttributeError: calling a method of the cursor kinds on an
    InvalidCursor raises it, where Exo's InvalidCursor has no such method (so
    `hasattr(c, "name")` is false in both)."""


class Cursor:
    __slots__ = ("_proc",)

    def __init__(self, proc):
        self._proc = proc

    def proc(self):
        """The Procedure this cursor points into."""
        return self._proc

    def is_invalid(self) -> bool:
        return False

    def find(self, pattern: str, many: bool = False):
        """Like Procedure.find, but only inside what this cursor points at (a statement
        and the statements nested in it, a block, or an expression), as in Exo."""
        from knit.cursors.find import find_in

        return find_in(self, pattern, many)

    def _key(self):
        raise NotImplementedError

    @property
    def _impl(self) -> ExoImplView:
        """Exo's internal view of a cursor, for Exo code that reads `c._impl._node` or
        `c._impl.get_root()` (see knit.cursors.show.ExoImplView)."""
        return ExoImplView(self)

    def __eq__(self, other) -> bool:
        return type(self) is type(other) and self._proc is other._proc and \
            self._key() == other._key()

    def __hash__(self) -> int:
        return hash((id(self._proc), self._key()))


class InvalidCursor(Cursor):
    """Points at nothing. As in Exo: false when tested, its parent is itself, proc()
    raises InvalidCursorError, and it has no other method of the cursor kinds."""

    __slots__ = ("_why",)

    def __init__(self, proc=None, why: str = "the cursor points at nothing"):
        super().__init__(proc)
        self._why = why

    def is_invalid(self) -> bool:
        return True

    def _key(self):
        return ()

    def proc(self):
        raise InvalidCursorError(f"an invalid cursor has no procedure: {self._why}")

    def parent(self):
        return self

    def find(self, pattern: str, many: bool = False):
        raise InvalidCursorError(f"cannot find {pattern!r} in an invalid cursor: {self._why}")

    def __bool__(self) -> bool:
        # as in Exo, `if c.next(): ...` tests whether navigation found something
        return False

    def __repr__(self) -> str:
        return f"<InvalidCursor: {self._why}>"

    def __str__(self) -> str:
        # Exo raises here too: there is no procedure to print the cursor in
        raise InvalidCursorError(f"cannot print an invalid cursor: {self._why}")

    def __getattr__(self, name):
        if name.startswith("__"):  # copy, pickle, ... probe for these: plainly absent
            raise AttributeError(name)
        raise InvalidCursorError(f"cannot call {name}() on an invalid cursor: {self._why}")


# ---------------------------------------------------------------- arguments


class ArgCursor(Cursor):
    __slots__ = ("_idx",)

    def __init__(self, proc, idx: int):
        super().__init__(proc)
        self._idx = idx

    def _key(self):
        return self._idx

    def _node(self) -> N.FnArg:
        return self._proc._loopir_proc.args[self._idx]

    def name(self) -> str:
        return self._node().name.name

    def type(self):
        return self._node().type

    def mem(self):
        """The argument's memory. As Exo's API: a size or index argument has none (an
        AssertionError); a bool or stride argument reports DRAM."""
        arg = self._node()
        if arg.type.is_indexable():
            raise AssertionError(f"ArgCursor.mem(): '{arg.name.name}' is a {arg.type} "
                                 "argument, which lives in no memory")
        if arg.mem is not None:
            return arg.mem
        from knit.memory import DRAM  # here: cursors load before memories

        return DRAM

    def is_tensor(self) -> bool:
        return self._node().type.is_tensor()

    def shape(self) -> ExprListCursor:
        """The dimensions, as expression cursors. As Exo's API: only a tensor argument
        has a shape (a scalar's is an AssertionError)."""
        arg = self._node()
        if not arg.type.is_tensor():
            raise AssertionError(f"ArgCursor.shape(): '{arg.name.name}' is a scalar "
                                 f"({arg.type}), not a tensor")
        return _dims(self._proc, (("args", self._idx),), arg.type, self)

    def parent(self):
        return InvalidCursor(self._proc, "an argument has no parent statement")

    def __repr__(self) -> str:
        return f"<ArgCursor {self.name()} of {self._proc.name()}>"


# ---------------------------------------------------------------- statements


class StmtCursor(Cursor):
    __slots__ = ("_path",)

    def __init__(self, proc, path: P.StmtPath):
        super().__init__(proc)
        self._path = path

    def _key(self):
        return self._path

    def _node(self):
        return P.stmt_at(self._proc._loopir_proc, self._path)

    def _block(self) -> tuple:
        parent, (field, _) = self._path[:-1], self._path[-1]
        return P.block_of(self._proc._loopir_proc, parent, field)

    def _index(self) -> int:
        return self._path[-1][1]

    def parent(self):
        """The enclosing loop or if, or an invalid cursor at the top level."""
        if len(self._path) == 1:
            return InvalidCursor(self._proc, "a top-level statement has no parent")
        return make_stmt_cursor(self._proc, self._path[:-1])

    def next(self, dist: int = 1):
        return self._sibling(self._index() + dist)

    def prev(self, dist: int = 1):
        return self._sibling(self._index() - dist)

    def _sibling(self, i: int):
        if not 0 <= i < len(self._block()):
            return InvalidCursor(self._proc, "navigated past the end of a block")
        return make_stmt_cursor(self._proc, self._path[:-1] + ((self._path[-1][0], i),))

    def before(self) -> GapCursor:
        return GapCursor(self._proc, self._path[:-1], self._path[-1][0], self._index(),
                         anchored_after=False)

    def after(self) -> GapCursor:
        return GapCursor(self._proc, self._path[:-1], self._path[-1][0], self._index() + 1,
                         anchored_after=True)

    def as_block(self) -> BlockCursor:
        i = self._index()
        return BlockCursor(self._proc, self._path[:-1], self._path[-1][0], i, i + 1)

    def expand(self, delta_lo: int | None = None, delta_hi: int | None = None) -> BlockCursor:
        return self.as_block().expand(delta_lo, delta_hi)

    def is_ancestor_of(self, other: Cursor) -> bool:
        """Whether `other` is this statement, inside it, or (a block or gap) in one of its
        bodies; reflexive, as in Exo."""
        if isinstance(other, StmtCursor):
            path = other._path
        elif isinstance(other, ExprCursor):
            path = other._stmt
        elif isinstance(other, (BlockCursor, GapCursor)):
            path = other._parent
        else:
            return False
        return path[: len(self._path)] == self._path

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {stmt_str(self._node()).splitlines()[0]!r}>"

    def __str__(self) -> str:
        """The whole procedure, this statement's first line marked `# <-- NODE` (as
        Exo prints a cursor; `knit.cursors.internal.text_of` gives the statement's own
        text)."""
        return marked_proc(self)


class _WriteCursor(StmtCursor):
    """What `x[i] = e` and `x[i] += e` share. Not a public class: as in Exo, a
    ReduceCursor is not an AssignCursor (`isinstance(c, AssignCursor)` is false for
    `+=`)."""

    __slots__ = ()

    def name(self) -> str:
        return self._node().name.name

    def idx(self) -> ExprListCursor:
        return ExprListCursor([_expr(self, (("idx", i),))
                               for i in range(len(self._node().idx))], self)

    def rhs(self):
        return _expr(self, (("rhs", None),))

    def type(self):
        return self._node().type


class AssignCursor(_WriteCursor):
    __slots__ = ()


class ReduceCursor(_WriteCursor):
    __slots__ = ()


class AssignConfigCursor(StmtCursor):
    __slots__ = ()

    def config(self):
        return self._node().config

    def field(self) -> str:
        return self._node().field

    def rhs(self):
        return _expr(self, (("rhs", None),))


class PassCursor(StmtCursor):
    __slots__ = ()


class IfCursor(StmtCursor):
    __slots__ = ()

    def cond(self):
        return _expr(self, (("cond", None),))

    def body(self) -> BlockCursor:
        return BlockCursor(self._proc, self._path, "body", 0, len(self._node().body))

    def orelse(self):
        n = len(self._node().orelse)
        if n == 0:
            return InvalidCursor(self._proc, "this if has no else branch")
        return BlockCursor(self._proc, self._path, "orelse", 0, n)


class ForCursor(StmtCursor):
    __slots__ = ()

    def name(self) -> str:
        return self._node().iter.name

    def lo(self):
        return _expr(self, (("lo", None),))

    def hi(self):
        return _expr(self, (("hi", None),))

    def body(self) -> BlockCursor:
        return BlockCursor(self._proc, self._path, "body", 0, len(self._node().body))


class AllocCursor(StmtCursor):
    __slots__ = ()

    def name(self) -> str:
        return self._node().name.name

    def mem(self):
        return self._node().mem

    def type(self):
        return self._node().type

    def is_tensor(self) -> bool:
        return self._node().type.is_tensor()

    def shape(self) -> ExprListCursor:
        """The dimensions, as expression cursors (empty for a scalar)."""
        return _dims(self._proc, self._path, self._node().type, self)


class CallCursor(StmtCursor):
    __slots__ = ()

    def subproc(self):
        """The procedure called: the very Procedure the call was written or built with
        while it is alive (so `c.subproc().is_eq(g)` holds for the called g)."""
        return handles.wrap(self._node().f)

    def args(self) -> ExprListCursor:
        return ExprListCursor([_expr(self, (("args", i),))
                               for i in range(len(self._node().args))], self)


class WindowStmtCursor(StmtCursor):
    __slots__ = ()

    def name(self) -> str:
        return self._node().name.name

    def winexpr(self):
        return _expr(self, (("rhs", None),))


_STMT_CURSORS = {N.Assign: AssignCursor, N.Reduce: ReduceCursor,
                 N.WriteConfig: AssignConfigCursor, N.Pass: PassCursor, N.If: IfCursor,
                 N.For: ForCursor, N.Alloc: AllocCursor, N.Call: CallCursor,
                 N.WindowStmt: WindowStmtCursor}


def make_stmt_cursor(proc, path: P.StmtPath) -> StmtCursor:
    node = P.stmt_at(proc._loopir_proc, path)
    return _STMT_CURSORS[type(node)](proc, path)


# ---------------------------------------------------------------- blocks and gaps


class BlockCursor(Cursor):
    """A run of consecutive statements [lo, hi) of one block."""

    __slots__ = ("_field", "_hi", "_lo", "_parent")

    def __init__(self, proc, parent: P.StmtPath, field: str, lo: int, hi: int):
        super().__init__(proc)
        self._parent, self._field, self._lo, self._hi = parent, field, lo, hi

    def _key(self):
        return (self._parent, self._field, self._lo, self._hi)

    def _block(self) -> tuple:
        return P.block_of(self._proc._loopir_proc, self._parent, self._field)

    def _stmts(self) -> tuple:
        return self._block()[self._lo:self._hi]

    def __len__(self) -> int:
        return self._hi - self._lo

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __getitem__(self, i):
        if isinstance(i, slice):
            lo, hi, step = i.indices(len(self))
            if step != 1 or hi <= lo:
                raise IndexError("a block slice must be a non-empty contiguous range")
            return BlockCursor(self._proc, self._parent, self._field, self._lo + lo,
                               self._lo + hi)
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(f"block index {i} out of range (the block has {len(self)})")
        return make_stmt_cursor(self._proc, self._parent + ((self._field, self._lo + i),))

    def parent(self):
        if not self._parent:
            return InvalidCursor(self._proc, "the proc body has no parent statement")
        return make_stmt_cursor(self._proc, self._parent)

    def as_block(self) -> BlockCursor:
        return self

    def expand(self, delta_lo: int | None = None, delta_hi: int | None = None) -> BlockCursor:
        """Grow the block by delta_lo statements before and delta_hi after (None: all)."""
        if (delta_lo is not None and delta_lo < 0) or (delta_hi is not None and delta_hi < 0):
            raise ValueError("expand: delta_lo and delta_hi must be non-negative (or None)")
        n = len(self._block())
        lo = 0 if delta_lo is None else max(0, self._lo - delta_lo)
        hi = n if delta_hi is None else min(n, self._hi + delta_hi)
        return BlockCursor(self._proc, self._parent, self._field, lo, hi)

    def anchor(self):
        return self.parent()

    def before(self) -> GapCursor:
        return GapCursor(self._proc, self._parent, self._field, self._lo, anchored_after=False)

    def after(self) -> GapCursor:
        return GapCursor(self._proc, self._parent, self._field, self._hi, anchored_after=True)

    def __repr__(self) -> str:
        return f"<BlockCursor of {len(self)} statement(s)>"

    def __str__(self) -> str:
        """The whole procedure, the block between `# BLOCK START` and `# BLOCK END`."""
        return marked_proc(self)


class GapCursor(Cursor):
    """The space before statement `idx` of a block (idx == len: after the last).

    A gap is anchored to the statement it was made from, as in Exo: `s.after()` to s
    (the statement before it), `s.before()` to s (the one after it); forwarding keeps
    the gap on the same side of its anchor wherever a rewrite moves it."""

    __slots__ = ("_anchored_after", "_field", "_idx", "_parent")

    def __init__(self, proc, parent: P.StmtPath, field: str, idx: int,
                 anchored_after: bool | None = None):
        super().__init__(proc)
        self._parent, self._field, self._idx = parent, field, idx
        if anchored_after is None:  # default: the statement after, if there is one
            anchored_after = idx >= len(self._block())
        self._anchored_after = anchored_after

    def _key(self):
        return (self._parent, self._field, self._idx)

    def _block(self) -> tuple:
        return P.block_of(self._proc._loopir_proc, self._parent, self._field)

    def anchor(self):
        """The statement the gap was made from (for a gap made otherwise: the statement
        just before it, or at a block's start the one after it)."""
        i = self._idx - 1 if self._anchored_after else self._idx
        if 0 <= i < len(self._block()):
            return make_stmt_cursor(self._proc, self._parent + ((self._field, i),))
        if self._block():
            i = self._idx - 1 if self._idx > 0 else 0
            return make_stmt_cursor(self._proc, self._parent + ((self._field, i),))
        return InvalidCursor(self._proc, "an empty block")

    def parent(self):
        if not self._parent:
            return InvalidCursor(self._proc, "the proc body has no parent statement")
        return make_stmt_cursor(self._proc, self._parent)

    def __repr__(self) -> str:
        return f"<GapCursor before statement {self._idx}>"

    def __str__(self) -> str:
        """The whole procedure, the gap shown as a `[GAP - Before]` line before the
        statement it was made from, or `[GAP - After]` after it."""
        return marked_proc(self)


# ---------------------------------------------------------------- expressions


class ExprCursor(Cursor):
    __slots__ = ("_epath", "_stmt")

    def __init__(self, proc, stmt: P.StmtPath, epath: P.ExprPath):
        super().__init__(proc)
        self._stmt, self._epath = stmt, epath

    def _key(self):
        return (self._stmt, self._epath)

    def _node(self):
        return P.expr_at(P.stmt_at(self._proc._loopir_proc, self._stmt), self._epath)

    def type(self):
        return self._node().type

    def parent(self):
        if self._epath[0][0] == "type":  # a dimension of an argument's or buffer's shape
            return _owner(self._proc, self._stmt)
        if len(self._epath) <= 1:
            return make_stmt_cursor(self._proc, self._stmt)
        parent = self._epath[:-1]
        node = P.expr_at(P.stmt_at(self._proc._loopir_proc, self._stmt), parent)
        if isinstance(node, (N.Interval, N.Point)):
            parent = parent[:-1]
        return make_expr_cursor(self._proc, self._stmt, parent)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {expr_str(self._node())!r}>"

    def __str__(self) -> str:
        return expr_str(self._node())

    def _sub(self, *steps):
        return make_expr_cursor(self._proc, self._stmt, self._epath + tuple(steps))


class ReadCursor(ExprCursor):
    __slots__ = ()

    def name(self) -> str:
        return self._node().name.name

    def idx(self) -> ExprListCursor:
        return ExprListCursor([self._sub(("idx", i)) for i in range(len(self._node().idx))],
                              self)


class LiteralCursor(ExprCursor):
    __slots__ = ()

    def value(self):
        return self._node().val

    def __int__(self) -> int:
        # knit's shape() gave strings before it gave cursors; `int(dims[0])` still works
        return int(self._node().val)


class UnaryMinusCursor(ExprCursor):
    __slots__ = ()

    def arg(self):
        return self._sub(("arg", None))


class BinaryOpCursor(ExprCursor):
    __slots__ = ()

    def op(self) -> str:
        return self._node().op

    def lhs(self):
        return self._sub(("lhs", None))

    def rhs(self):
        return self._sub(("rhs", None))


class ExternFunctionCursor(ExprCursor):
    __slots__ = ()

    def name(self) -> str:
        return self._node().f.name()

    def args(self) -> ExprListCursor:
        return ExprListCursor([self._sub(("args", i)) for i in range(len(self._node().args))],
                              self)


class WindowExprCursor(ExprCursor):
    __slots__ = ()

    def name(self) -> str:
        return self._node().name.name

    def idx(self) -> list:
        out = []
        for i, w in enumerate(self._node().idx):
            if isinstance(w, N.Interval):
                out.append((self._sub(("idx", i), ("lo", None)),
                            self._sub(("idx", i), ("hi", None))))
            else:
                out.append(self._sub(("idx", i), ("pt", None)))
        return out


class StrideExprCursor(ExprCursor):
    __slots__ = ()

    def name(self) -> str:
        return self._node().name.name

    def dim(self) -> int:
        return self._node().dim


class ReadConfigCursor(ExprCursor):
    __slots__ = ()

    def config(self):
        return self._node().config

    def field(self) -> str:
        return self._node().field


_EXPR_CURSORS = {N.Read: ReadCursor, N.Const: LiteralCursor, N.USub: UnaryMinusCursor,
                 N.BinOp: BinaryOpCursor, N.Extern: ExternFunctionCursor,
                 N.WindowExpr: WindowExprCursor, N.StrideExpr: StrideExprCursor,
                 N.ReadConfig: ReadConfigCursor}


def make_expr_cursor(proc, stmt: P.StmtPath, epath: P.ExprPath) -> ExprCursor:
    node = P.expr_at(P.stmt_at(proc._loopir_proc, stmt), epath)
    return _EXPR_CURSORS[type(node)](proc, stmt, epath)


def _expr(sc: StmtCursor, epath: P.ExprPath) -> ExprCursor:
    return make_expr_cursor(sc._proc, sc._path, epath)


def _dims(proc, owner: P.StmtPath, typ, parent) -> ExprListCursor:
    """The dimensions of a tensor type held by the argument or allocation at `owner`."""
    n = len(typ.shape()) if typ.is_tensor() else 0
    return ExprListCursor([make_expr_cursor(proc, owner, (("type", None), ("dims", k)))
                           for k in range(n)], parent)


def _owner(proc, path: P.StmtPath):
    """The argument or statement at `path` (a shape's dimension belongs to it)."""
    if path[0][0] == "args":
        return ArgCursor(proc, path[0][1])
    return make_stmt_cursor(proc, path)


# ---------------------------------------------------------------- lists of expressions


class ExprListCursor(list):
    """A contiguous (maybe empty) sequence of expression cursors: what `idx()`, `args()`
    and `shape()` return, as in Exo (`isinstance(c.idx(), ExprListCursor)`,
    `ListCursorPrototype` in knit.API_cursors). It is also the Python list of cursors
    these methods gave before, so code that takes "a cursor or a list of cursors" (bind_expr,
    traces, the stdlib) keeps taking it; a slice is an ExprListCursor again. `parent()` is
    the access, call or declaration, `proc()` its procedure, and `str()` gives the list
    of the expressions' texts (`"['N', '8']"`)."""

    __slots__ = ("_parent", "_proc")

    def __init__(self, items=(), parent=None):
        super().__init__(items)
        for c in self:
            if not isinstance(c, ExprCursor):
                raise TypeError(f"ExprListCursor holds expression cursors, got {c!r}")
        self._parent = parent
        self._proc = self[0]._proc if self else parent._proc if parent is not None else None

    @classmethod
    def of(cls, items, parent=None) -> ExprListCursor:
        return items if isinstance(items, cls) else cls(items, parent)

    def is_invalid(self) -> bool:
        return False

    def proc(self):
        if self._proc is None:
            raise InvalidCursorError("an empty expression list knows no procedure")
        return self._proc

    def parent(self):
        """What holds the expressions: the access, call or declaration."""
        if self._parent is not None:
            return self._parent
        if self:
            return self[0].parent()
        return InvalidCursor(None, "an empty expression list has no parent")

    def __getitem__(self, i):
        got = super().__getitem__(i)
        return ExprListCursor(got, self._parent) if isinstance(i, slice) else got

    def __repr__(self) -> str:
        return f"ExprListCursor({list(self)!r})"

    def __str__(self) -> str:
        return str([str(c) for c in self])
