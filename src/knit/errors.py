"""knit's error hierarchy. User errors point at source; InternalError is our own bug."""

from __future__ import annotations

import os as _os
import sys as _sys
import types as _types


class KnitError(Exception):
    """Base of every error knit raises on purpose: the shared base of user errors (a
    mistake in the program or in a call into knit), and of InternalError (a broken
    invariant: knit's own bug), which stays a KnitError so that `except KnitError`
    keeps meaning "anything knit refused". User errors derive from UserError; tell the
    two apart with isinstance or is_user_error.

    Code below the public API raises these, never a builtin error with internal
    objects in its message; where a builtin class was raised before, the knit class
    also derives from it (KnitTypeError is a TypeError) so callers keep working."""


def _located(srcinfo, what: str, hint: str = "") -> str:
    lines = [f"{srcinfo}: {what}" if srcinfo is not None else what]
    if srcinfo is not None:
        excerpt = srcinfo.excerpt()
        if excerpt:
            lines.append(excerpt)
    if hint:
        lines.append(hint)
    return "\n".join(lines)


class UserError(KnitError):
    """Base of every user error: a mistake in the program, the schedule or a call into
    knit, which knit refuses with a message saying what to do (every KnitError except
    InternalError derives from it)."""


class KnitSyntaxError(UserError, SyntaxError):
    """Object code outside the knit language."""

    def __init__(self, srcinfo, what: str, hint: str = ""):
        self.srcinfo = srcinfo
        KnitError.__init__(self, _located(srcinfo, what, hint))
        self.msg = self.args[0]  # tracebacks print a SyntaxError's `msg`, not str()

    def __str__(self) -> str:
        return self.args[0]


class KnitTypeError(UserError, TypeError):
    """A type or shape error in object code, or a wrong argument at a call from Python."""

    def __init__(self, srcinfo, what: str, hint: str = ""):
        self.srcinfo = srcinfo
        super().__init__(_located(srcinfo, what, hint))


class BoundsError(UserError, IndexError):
    """An access that could not be proven to stay inside its buffer."""

    def __init__(self, srcinfo, what: str, hint: str = ""):
        self.srcinfo = srcinfo
        super().__init__(_located(srcinfo, what, hint))


class AliasError(UserError, ValueError):
    """The same buffer passed twice to a call where one of the uses writes it."""

    def __init__(self, srcinfo, what: str, hint: str = ""):
        self.srcinfo = srcinfo
        super().__init__(_located(srcinfo, what, hint))


class MemoryAccessError(UserError, TypeError):
    """Plain code touching a memory that only instructions may access."""

    def __init__(self, srcinfo, what: str, hint: str = ""):
        self.srcinfo = srcinfo
        super().__init__(_located(srcinfo, what, hint))


class RaceError(UserError, ValueError):
    """A `par` loop whose iterations may touch the same location, one of them writing."""

    def __init__(self, srcinfo, what: str, hint: str = ""):
        self.srcinfo = srcinfo
        super().__init__(_located(srcinfo, what, hint))


class PreconditionError(UserError, ValueError):
    """A callee's `assert` that could not be proven at a call site."""

    def __init__(self, srcinfo, what: str, hint: str = ""):
        self.srcinfo = srcinfo
        super().__init__(_located(srcinfo, what, hint))


class ArgumentError(UserError, ValueError):
    """A bad value passed from Python to interpret() or a compiled procedure."""


class ArgumentTypeError(UserError, TypeError):
    """A wrong dtype, rank or kind of value passed from Python."""


class SchedulingError(UserError):
    """A rewrite that could not be proven to preserve the program's meaning."""


class ProcedureTypeError(SchedulingError, TypeError):
    """Something else where a Procedure was expected (a name, a function, raw IR).

    One class for every API that takes a procedure. It is a TypeError (the builtin
    class some entry points raised) and a SchedulingError (what the sub-procedure
    primitives raised), so code catching either keeps working."""


class ParseFragmentError(UserError):
    """A pattern or expression fragment that does not parse or matches nothing."""


class CompileError(UserError):
    """The C compiler rejected generated code (always a knit bug or a bad instr template)."""


class InternalError(KnitError):
    """A bug in knit itself, not in your program. Please report it with the program."""


class KnitWarning(UserWarning):
    """Base of knit's warnings: something legal that is likely not what you meant.
    Silence them with `warnings.simplefilter("ignore", knit.errors.KnitWarning)`."""


class RefusedLaterWarning(KnitWarning):
    """A procedure was defined with an error that Exo reports only when it compiles (a
    racing `par` loop, a window statement out of bounds): knit accepts the definition,
    as Exo does, and refuses to compile or run it (or anything made from it)."""


class NothingReplacedWarning(KnitWarning):
    """`replace_all` found no block matching any of the procedures it was given."""


class PatternError(SchedulingError, ParseFragmentError):
    """A pattern that does not parse or matches nothing. Caught as either a
    SchedulingError (as Exo scripts expect) or a ParseFragmentError."""


# ---------------------------------------------------------------- tracebacks
#
# A knit error is about the user's program, so its traceback should end in the user's
# code, not in the 5-13 frames of knit that found the problem. As JAX does, frames inside
# the knit package are cut from the traceback of a KnitError when it is shown, unless
# KNIT_TRACEBACK=full. The exception itself is left alone until it is shown (an
# `except` in user code sees the full traceback), and InternalError, being our own bug,
# always keeps every frame. The hooks below chain to whatever hook was installed before.

_PACKAGE_DIR = _os.path.dirname(_os.path.abspath(__file__)) + _os.sep
_HIDDEN_NOTE = ("(knit-internal frames hidden from this traceback; "
                "set KNIT_TRACEBACK=full to show them)")


def traceback_mode() -> str:
    """'full' if KNIT_TRACEBACK=full (every frame), else 'user' (knit's frames cut)."""
    return "full" if _os.environ.get("KNIT_TRACEBACK", "").lower() == "full" else "user"


def is_internal_frame(frame) -> bool:
    """Whether `frame` runs code of the knit package itself."""
    name = frame.f_code.co_filename
    inside = _INSIDE.get(name)
    if inside is None:
        inside = _os.path.abspath(name).startswith(_PACKAGE_DIR)
        if _os.path.isabs(name):  # a relative name depends on the working directory
            _INSIDE[name] = inside
    return inside


_INSIDE: dict[str, bool] = {}  # file name -> whether it is in the package (every call asks)


def user_call_site() -> str | None:
    """`file:line` of the innermost frame of the current stack outside knit (the user's
    line that called into knit), or None. For messages that name the call site."""
    frame = _sys._getframe(1)
    while frame is not None and is_internal_frame(frame):
        frame = frame.f_back
    return None if frame is None else f"{frame.f_code.co_filename}:{frame.f_lineno}"


def add_call_site(err: BaseException, site) -> BaseException:
    """Make a knit error raised by a primitive name the primitive and the user's call of
    it (`site`, from knit.ir.srcinfo.user_call) on a line of its own,
    `  (from divide_loop, called at user.py:12:5)` (`from divide_loop, in tile_loops,
    ...` when a library function called it for the user). The line goes before the
    hint (`err.hint`, which stays the last line, as rewrite/witness.py keeps it), else
    last; the first line stays `file:line:col: primitive: what` about the object code.
    Sets `err.primitive` and `err.call_site`. Once per error: the outermost call."""
    if site is None or not isinstance(err, KnitError) or isinstance(err, InternalError) \
            or getattr(err, "call_site", None) is not None or not err.args \
            or not isinstance(err.args[0], str):
        return err
    call = f"{site.filename}:{site.line}:{site.col + 1}"
    prim, _, via = site.generated_by.partition(" (in ")
    line = f"  (from {prim}{', in ' + via.rstrip(')') if via else ''}, called at {call})"
    msg, hint = err.args[0], getattr(err, "hint", "")
    if hint and msg.endswith("\n" + hint):
        msg = f"{msg[:-len(hint) - 1]}\n{line}\n{hint}"
    else:
        msg = f"{msg}\n{line}"
    err.args = (msg, *err.args[1:])
    if isinstance(err, SyntaxError):
        err.msg = msg
    err.primitive, err.call_site = prim, call
    return err


def user_traceback(tb):
    """A copy of the traceback chain `tb` without knit's own frames (None if no frame
    is left)."""
    frames = []
    while tb is not None:
        if not is_internal_frame(tb.tb_frame):
            frames.append(tb)
        tb = tb.tb_next
    out = None
    for t in reversed(frames):
        out = _types.TracebackType(out, t.tb_frame, t.tb_lasti, t.tb_lineno)
    return out


def is_user_error(err: BaseException) -> bool:
    """Whether `err` is a mistake in the user's program or call (a UserError, or a
    plain KnitError a user library raised: every KnitError but InternalError), as
    opposed to a bug in knit."""
    return isinstance(err, KnitError) and not isinstance(err, InternalError)


def _should_filter(err: BaseException) -> bool:
    return is_user_error(err)


def filter_traceback(err: BaseException) -> BaseException:
    """Cut knit's frames from the traceback of `err` (and of the errors chained to it)
    if it is a knit error and KNIT_TRACEBACK is not 'full'. Returns `err`."""
    if traceback_mode() == "full" or not _should_filter(err):
        return err
    seen = set()
    e: BaseException | None = err
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        if e.__traceback__ is not None:
            e.__traceback__ = user_traceback(e.__traceback__)
        if e is err and hasattr(e, "add_note") and _HIDDEN_NOTE not in getattr(
                e, "__notes__", ()):  # notes are Python >= 3.11
            e.add_note(_HIDDEN_NOTE)
        e = e.__cause__ or (None if e.__suppress_context__ else e.__context__)
    return err


def format_exception(err: BaseException) -> str:
    """The traceback of `err` as Python would print it, after `filter_traceback`."""
    import traceback

    filter_traceback(err)
    return "".join(traceback.format_exception(type(err), err, err.__traceback__))


def _excepthook(previous):
    def hook(etype, value, tb):
        if value is not None and _should_filter(value) and traceback_mode() != "full":
            value.__traceback__ = tb
            filter_traceback(value)
            tb = value.__traceback__
        previous(etype, value, tb)

    _HOOKS.append(hook)
    return hook


_HOOKS: list = []  # the excepthooks installed here (a second install must not stack one)


def _ipython_handler(shell, etype, value, tb, tb_offset=None):
    value.__traceback__ = tb
    filter_traceback(value)
    shell.showtraceback((etype, value, value.__traceback__), tb_offset=tb_offset)
    return None


def install_traceback_filter() -> None:
    """Show knit errors with the user's frames only: in scripts (sys.excepthook, chained
    to the hook in place) and in IPython/Jupyter (a custom exception handler). pytest
    prints its own tracebacks and is left alone: a failing test shows every frame.
    Idempotent."""
    if not any(_sys.excepthook is h for h in _HOOKS):
        _sys.excepthook = _excepthook(_sys.excepthook)
    ipython = _sys.modules.get("IPython")
    shell = getattr(ipython, "get_ipython", lambda: None)() if ipython else None
    if shell is not None and hasattr(shell, "set_custom_exc"):
        # Don't take the slot from a handler someone else set.
        if not getattr(shell, "custom_exceptions", ()):
            shell.set_custom_exc((KnitError,), _ipython_handler)


install_traceback_filter()
