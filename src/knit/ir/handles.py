"""The handle protocol: what layers below procedure.py know about a Procedure.

The frontend (a call names a procedure), the C backend (it is given procedures), the
cursors (a call's callee) and the trace need to recognise a Procedure, reach its IR
and find the Procedure that wraps an IR Proc. They ask here instead of importing
procedure.py, which imports them: that keeps the layers of docs/architecture.md one
way. procedure.py registers the Procedure class when it is imported (always, since
no IR procedure exists before some Procedure was made).
"""

from __future__ import annotations

import weakref

from knit.ir import nodes as N

_wrappers: dict[int, weakref.ref] = {}  # id(IR Proc) -> the handle wrapping it
_handle_class: type | None = None  # knit.procedure.Procedure, once imported


def register_class(cls: type) -> None:
    """Called once by procedure.py with the Procedure class."""
    global _handle_class
    _handle_class = cls


def register(ir: N.Proc, handle) -> None:
    """Remember that `handle` wraps `ir`, unless a live handle already does."""
    if procedure_of(ir) is None:
        _wrappers[id(ir)] = weakref.ref(handle)


def procedure_of(ir: N.Proc):
    """The Procedure that wraps an IR Proc (e.g. the callee of a call), if still alive."""
    ref = _wrappers.get(id(ir))
    p = ref() if ref is not None else None
    return p if p is not None and p._loopir_proc is ir else None


def is_procedure(x) -> bool:
    """Whether x is a knit Procedure."""
    return _handle_class is not None and isinstance(x, _handle_class)


def ir_of(p) -> N.Proc:
    """The IR of a Procedure."""
    return p._loopir_proc


def wrap(ir: N.Proc):
    """The live Procedure wrapping `ir`, else a new unchecked one (IR inside a checked
    procedure, e.g. a callee, was checked with it)."""
    p = procedure_of(ir)
    return p if p is not None else _handle_class(ir, check=False)
