"""Procedure.find and friends: pattern strings to cursors."""

from __future__ import annotations

from knit.cursors import cursor as C, pattern as PT
from knit.errors import KnitTypeError, PatternError


def find(proc, pattern: str, many: bool = False, within=None):
    """Cursor(s) for the matches of `pattern` in proc (within a statement path if given)."""
    if not isinstance(pattern, str):
        raise KnitTypeError(None, f"expected a pattern string, got {type(pattern).__name__}")
    text, match_no = PT.split_match_no(pattern)
    kind, pat = PT.parse_pattern(text)
    ir = proc._loopir_proc
    if kind == "expr":
        found = (C.make_expr_cursor(proc, s, e)
                 for s, e in PT.find_expr_matches(ir, pat, within))
    else:
        found = (_block_or_stmt(proc, m, len(pat))
                 for m in PT.find_stmt_matches(ir, pat, within))
    return _select(found, pattern, proc, many, match_no, within)


def _block_or_stmt(proc, match, npats: int):
    parent, field, lo, hi = match
    if hi - lo == 1 and npats == 1:
        return C.make_stmt_cursor(proc, parent + ((field, lo),))
    return C.BlockCursor(proc, parent, field, lo, hi)


def _select(found, pattern, proc, many, match_no, within=None):
    if match_no is not None:
        n = 0
        for i, c in enumerate(found):
            if i == match_no:
                return [c] if many else c
            n += 1
        raise PatternError(f"pattern {PT.show(pattern)} has fewer than {match_no + 1} "
                           f"matches in {proc.name()}: it has {n} (#n counts from 0)")
    if many:
        out = list(found)
        if not out:
            raise _nothing(pattern, proc, within)
        return out
    first = next(iter(found), None)
    if first is None:
        raise _nothing(pattern, proc, within)
    return first


def _nothing(pattern: str, proc, within) -> PatternError:
    """'matches nothing', and what exists of the kind the pattern looks for."""
    text, _ = PT.split_match_no(pattern)
    near = PT.nearby(proc._loopir_proc, text, within)
    return PatternError(f"pattern {PT.show(pattern)} matches nothing in {proc.name()}"
                        + (f"\n{near}" if near else ""))


def find_alloc_or_arg(proc, name: str):
    """The allocation `name : _` (first in program order), else the argument `name`."""
    text, match_no = PT.split_match_no(name)
    text = text.strip()
    if ":" in text:
        return find(proc, name)
    try:
        return find(proc, f"{text} : _" + (f" #{match_no}" if match_no is not None else ""))
    except PatternError:
        for i, a in enumerate(proc._loopir_proc.args):
            if a.name.name == text:
                return C.ArgCursor(proc, i)
    raise PatternError(f"no allocation or argument named '{text}' in {proc.name()}")
