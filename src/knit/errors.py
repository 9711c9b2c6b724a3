"""knit's error hierarchy. User errors point at source; InternalError is our own bug."""

from __future__ import annotations


class KnitError(Exception):
    """Base of every error knit raises on purpose."""


def _located(srcinfo, what: str, hint: str = "") -> str:
    lines = [f"{srcinfo}: {what}" if srcinfo is not None else what]
    if srcinfo is not None:
        excerpt = srcinfo.excerpt()
        if excerpt:
            lines.append(excerpt)
    if hint:
        lines.append(hint)
    return "\n".join(lines)


class KnitSyntaxError(KnitError, SyntaxError):
    """Object code outside the knit language."""

    def __init__(self, srcinfo, what: str, hint: str = ""):
        self.srcinfo = srcinfo
        KnitError.__init__(self, _located(srcinfo, what, hint))
        self.msg = self.args[0]  # tracebacks print a SyntaxError's `msg`, not str()

    def __str__(self) -> str:
        return self.args[0]


class KnitTypeError(KnitError, TypeError):
    """A type or shape error in object code, or a wrong argument at a call from Python."""

    def __init__(self, srcinfo, what: str, hint: str = ""):
        self.srcinfo = srcinfo
        super().__init__(_located(srcinfo, what, hint))


class BoundsError(KnitError, IndexError):
    """An access that could not be proven to stay inside its buffer."""

    def __init__(self, srcinfo, what: str, hint: str = ""):
        self.srcinfo = srcinfo
        super().__init__(_located(srcinfo, what, hint))


class AliasError(KnitError, ValueError):
    """The same buffer passed twice to a call where one of the uses writes it."""

    def __init__(self, srcinfo, what: str, hint: str = ""):
        self.srcinfo = srcinfo
        super().__init__(_located(srcinfo, what, hint))


class MemoryAccessError(KnitError, TypeError):
    """Plain code touching a memory that only instructions may access."""

    def __init__(self, srcinfo, what: str, hint: str = ""):
        self.srcinfo = srcinfo
        super().__init__(_located(srcinfo, what, hint))


class RaceError(KnitError, ValueError):
    """A `par` loop whose iterations may touch the same location, one of them writing."""

    def __init__(self, srcinfo, what: str, hint: str = ""):
        self.srcinfo = srcinfo
        super().__init__(_located(srcinfo, what, hint))


class PreconditionError(KnitError, ValueError):
    """A callee's `assert` that could not be proven at a call site."""

    def __init__(self, srcinfo, what: str, hint: str = ""):
        self.srcinfo = srcinfo
        super().__init__(_located(srcinfo, what, hint))


class ArgumentError(KnitError, ValueError):
    """A bad value passed from Python to interpret() or a compiled procedure."""


class ArgumentTypeError(KnitError, TypeError):
    """A wrong dtype, rank or kind of value passed from Python."""


class SchedulingError(KnitError):
    """A rewrite that could not be proven to preserve the program's meaning."""


class ParseFragmentError(KnitError):
    """A pattern or expression fragment that does not parse or matches nothing."""


class CompileError(KnitError):
    """The C compiler rejected generated code (always a knit bug or a bad instr template)."""


class InternalError(KnitError):
    """A bug in knit itself, not in your program. Please report it with the program."""


class PatternError(SchedulingError, ParseFragmentError):
    """A pattern that does not parse or matches nothing. Caught as either a
    SchedulingError (as Exo scripts expect) or a ParseFragmentError."""
