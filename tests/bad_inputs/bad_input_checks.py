"""The one check every bad-input case makes: the call fails with the expected error
class, a message containing a key phrase, no internal objects in the message, and,
where the error is about a place in object code, that place's file and line.

The expected line is the one marked with a comment (`# BAD`, or `# BAD: <name>` when a
file marks several) in the test's own source, so moving code cannot silently break the
check."""

from __future__ import annotations

import inspect
import os
import re

_POSITION = re.compile(r"^(?P<file>[^\s:][^:]*\.py):(?P<line>\d+):(?P<col>\d+): ")
# things a message for people must never contain
_INTERNALS = (re.compile(r"Traceback \(most recent call last\)"),
              re.compile(r"\bobject at 0x[0-9a-f]+"),
              re.compile(r"<\w*Cursor\b"),
              re.compile(r"\bSym\("),
              re.compile(r"\b(Proc|FnArg|TensorT|ScalarT)\("))


def marker_line(fn, marker: str = "# BAD") -> int:
    """The absolute line number of the only line of `fn`'s source containing `marker`
    (`# BAD` must end the line or be followed by `:`; `# BAD: x` is found by that name)."""
    lines, start = inspect.getsourcelines(fn)
    hits = [k for k, text in enumerate(lines) if _is_marker(text, marker)]
    assert len(hits) == 1, f"{fn.__name__}: marker {marker!r} on {len(hits)} lines, want 1"
    return start + hits[0]


def _is_marker(text: str, marker: str) -> bool:
    i = text.find(marker)
    if i < 0:
        return False
    rest = text[i + len(marker):]
    return marker != "# BAD" or not rest.strip() or rest.startswith(":")


def source_position(msg: str) -> tuple[str, int] | None:
    """(file, line) from a message starting `file:line:col: `, or None."""
    m = _POSITION.match(msg)
    return (m["file"], int(m["line"])) if m else None


def expect(fn, cls, phrase: str, *, line: int | None = None, file: str | None = None,
           exact: bool = True) -> BaseException:
    """Call fn(); it must raise `cls` (exactly, unless exact=False: a subclass also
    passes) with `phrase` in the message, no internals in it, and, given `line`, a
    message starting `file:line:col:` with that line in `file`. Returns the error.

    Every failed expectation is an AssertionError (also "nothing was raised"), so a
    known bug can be marked xfail(raises=AssertionError) without hiding a crash."""
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - the point is to classify whatever comes out
        err = e
    else:
        raise AssertionError(f"expected {cls.__name__}, but nothing was raised")
    msg = str(err)
    ok_type = type(err) is cls if exact else isinstance(err, cls)
    assert ok_type, f"expected {cls.__name__}, got {type(err).__module__}." \
        f"{type(err).__name__}: {msg}"
    assert phrase in msg, f"{phrase!r} not in the message:\n{msg}"
    for pat in _INTERNALS:
        assert not pat.search(msg), f"internal object ({pat.pattern}) in the message:\n{msg}"
    if line is not None:
        pos = source_position(msg)
        assert pos is not None, f"the message has no file:line:col: position:\n{msg}"
        if file is not None:
            assert os.path.realpath(pos[0]) == os.path.realpath(file), msg
        assert pos[1] == line, f"reported line {pos[1]}, expected {line}:\n{msg}"
    return err


def deliberate_type_error(fn, prim: str, phrase: str) -> TypeError:
    """A wrong Python type given to a primitive: knit raises TypeError on purpose (as
    Python does for builtins), naming the primitive first. An accidental TypeError from
    deep inside knit ("'int' object is not iterable") fails this check."""
    err = expect(fn, TypeError, phrase, exact=False)
    assert str(err).startswith(f"{prim}: "), f"does not name {prim} first: {err}"
    return err
