"""The handle protocol: what layers below procedure.py know about a Procedure.

The frontend (a call names a procedure), the C backend (it is given procedures), the
cursors (a call's callee), the trace and the tools need to recognise a Procedure, reach
its IR and find the Procedure that wraps an IR Proc. They ask here instead of importing
procedure.py, which imports them: that keeps the layers of docs/architecture.md one
way. procedure.py registers the Procedure class, and how to read one, when it is
imported (always, since no IR procedure exists before some Procedure was made): only
procedure.py reads a Procedure's underscored attributes.

What a layer remembers about a Procedure (the trace's step, replace_all's report) is
kept beside it in a `Notes` table, not set as an attribute on another module's object.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable

from knit.errors import ProcedureTypeError
from knit.ir import nodes as N


class _Protocol:
    """How to read a Procedure; procedure.py fills it in (register_class)."""

    cls: type | None = None  # knit.procedure.Procedure, once imported
    ir: Callable = None  # Procedure -> its IR Proc
    scope: Callable = None  # Procedure -> the names its definition saw
    check: Callable = None  # Procedure -> None, running its deferred checks


_wrappers: dict[int, weakref.ref] = {}  # id(IR Proc) -> the handle wrapping it


def register_class(cls: type, *, ir: Callable, scope: Callable, check: Callable) -> None:
    """Called once by procedure.py with the Procedure class and its readers."""
    _Protocol.cls, _Protocol.ir, _Protocol.scope, _Protocol.check = cls, ir, scope, check


def register(ir: N.Proc, handle) -> None:
    """Remember that `handle` wraps `ir`, unless a live handle already does."""
    if procedure_of(ir) is None:
        _wrappers[id(ir)] = weakref.ref(handle)


def procedure_of(ir: N.Proc):
    """The Procedure that wraps an IR Proc (e.g. the callee of a call), if still alive."""
    ref = _wrappers.get(id(ir))
    p = ref() if ref is not None else None
    return p if p is not None and _Protocol.ir(p) is ir else None


def is_procedure(x) -> bool:
    """Whether x is a knit Procedure."""
    return _Protocol.cls is not None and isinstance(x, _Protocol.cls)


def expect_procedure(what: str, x) -> None:
    """Refuse anything but a Procedure where one is expected: ProcedureTypeError (one
    class for every entry point), `what` naming the entry point."""
    if not is_procedure(x):
        raise ProcedureTypeError(f"{what}: expected a Procedure, got {type(x).__name__}")


def ir_of(p) -> N.Proc:
    """The IR of a Procedure."""
    return _Protocol.ir(p)


def scope_of(p) -> dict:
    """The Python names a Procedure's definition saw (to parse fragments against)."""
    return _Protocol.scope(p)


def check(p) -> None:
    """Run a Procedure's definition-time checks now if they were deferred (an @instr is
    checked when first used; a derived procedure is checked when compiled or run)."""
    _Protocol.check(p)


def wrap(ir: N.Proc):
    """The live Procedure wrapping `ir`, else a new unchecked one (IR inside a checked
    procedure, e.g. a callee, was checked with it)."""
    p = procedure_of(ir)
    return p if p is not None else _Protocol.cls(ir, check=False)


class Notes:
    """What one layer remembers about Procedures, beside them: `notes.get(p)` after
    `notes.put(p, value)`. By identity (equal procedures are different handles); an
    entry goes with its Procedure."""

    __slots__ = ("_entries",)

    def __init__(self):
        self._entries: dict[int, tuple[weakref.ref, object]] = {}

    def put(self, p, value) -> None:
        key, entries = id(p), self._entries
        # the callback runs when p dies, before its id can be reused
        entries[key] = (weakref.ref(p, lambda _, k=key: entries.pop(k, None)), value)

    def get(self, p, default=None):
        entry = self._entries.get(id(p))
        return entry[1] if entry is not None and entry[0]() is p else default
