"""The one way the tests check a refusal, and the one way they mark the line it is about.

A refusal is checked by `expect_error` (any error class) or `refused` (a scheduling
primitive's SchedulingError): the call fails with the expected class, a message holding
every expected phrase and no internal objects, and, where asked, starting with the
`file:line:col:` of a marked line and the primitive's name.

A line is marked with a comment `# <- name` (or a bare `# <-` where a function marks one
line) and found by `marked_line`, so moving code cannot silently break a check.
"""

from __future__ import annotations

import inspect
import os
import re

from knit.errors import SchedulingError

_POSITION = re.compile(r"^(?P<file>[^\s:][^:]*\.py):(?P<line>\d+):(?P<col>\d+): ")
# things a message for people must never contain
_INTERNALS = (re.compile(r"Traceback \(most recent call last\)"),
              re.compile(r"\bobject at 0x[0-9a-f]+"),
              re.compile(r"<\w*Cursor\b"),
              re.compile(r"\bSym\("),
              re.compile(r"\b(Proc|FnArg|TensorT|ScalarT)\("))
_MARK = "# <-"


def marked_line(where, name: str | None = None) -> int:
    """The 1-based line number (in its file) of the only line marked `# <- name`.

    `where` is a function (its source is searched) or a file's path (the whole file).
    Without `name`, the only marked line of any name. Lines that call marked_line do not
    count (they hold the name too)."""
    if callable(where):
        lines, start = inspect.getsourcelines(where)
        label = where.__name__
    else:
        with open(where) as f:
            lines, start = f.readlines(), 1
        label = os.path.basename(where)
    hits = [start + k for k, text in enumerate(lines)
            if _MARK in text and "marked_line(" not in text
            and (name is None or text.split(_MARK, 1)[1].strip() == name)]
    assert len(hits) == 1, f"{label}: {_MARK} {name or ''} marks lines {hits}, want one"
    return hits[0]


def source_position(msg: str) -> tuple[str, int] | None:
    """(file, line) from a message starting `file:line:col: `, or None."""
    m = _POSITION.match(msg)
    return (m["file"], int(m["line"])) if m else None


def expect_error(fn, cls, *phrases: str, prim: str | None = None, line: int | None = None,
                 file: str | None = None, exact: bool = True) -> BaseException:
    """Call fn(); it must raise `cls` (exactly, unless exact=False: a subclass also
    passes) with every phrase in the message and no internals in it; given `prim`, a
    message starting `file:line:col: prim: `; given `line`, a message starting
    `file:line:col:` with that line (in `file`, if given). Returns the error.

    Every failed expectation is an AssertionError (also "nothing was raised"), so a
    known bug can be marked xfail(raises=AssertionError) without hiding a crash."""
    try:
        fn()
    except Exception as e:  # the point is to classify whatever comes out
        err = e
    else:
        raise AssertionError(f"expected {cls.__name__}, but nothing was raised")
    msg = str(err)
    ok_type = type(err) is cls if exact else isinstance(err, cls)
    assert ok_type, f"expected {cls.__name__}, got {type(err).__module__}." \
        f"{type(err).__name__}: {msg}"
    for ph in phrases:
        assert ph in msg, f"{ph!r} not in the message:\n{msg}"
    for pat in _INTERNALS:
        assert not pat.search(msg), f"internal object ({pat.pattern}) in the message:\n{msg}"
    if prim is not None:
        assert re.match(rf"^\S+\.py:\d+:\d+: {prim}: ", msg), msg
    if line is not None:
        pos = source_position(msg)
        assert pos is not None, f"the message has no file:line:col: position:\n{msg}"
        if file is not None:
            assert os.path.realpath(pos[0]) == os.path.realpath(file), msg
        assert pos[1] == line, f"reported line {pos[1]}, expected {line}:\n{msg}"
    return err


def refused(fn, *phrases: str, prim: str | None = None) -> str:
    """A scheduling primitive refuses: fn() raises SchedulingError (or a subclass) whose
    message holds every phrase (see expect_error). Returns the message."""
    return str(expect_error(fn, SchedulingError, *phrases, prim=prim, exact=False))


def deliberate_type_error(fn, prim: str, phrase: str) -> TypeError:
    """A wrong Python type given to a primitive: knit raises TypeError on purpose (as
    Python does for builtins), naming the primitive first. An accidental TypeError from
    deep inside knit ("'int' object is not iterable") fails this check."""
    err = expect_error(fn, TypeError, phrase, exact=False)
    assert str(err).startswith(f"{prim}: "), f"does not name {prim} first: {err}"
    return err
