"""Procedure.find and friends: pattern strings to cursors."""

from __future__ import annotations

import ast

from knit.cursors import cursor as C, pattern as PT
from knit.errors import KnitTypeError, PatternError


def find(proc, pattern: str, many: bool = False, within=None, scope=None):
    """Cursor(s) for the matches of `pattern` in proc (within a statement path if given;
    inside the cursor `scope` if given, see find_in)."""
    if not isinstance(pattern, str):
        raise KnitTypeError(None, f"expected a pattern string, got {type(pattern).__name__}")
    text, match_no = PT.split_match_no(pattern)
    kind, pat = PT.parse_pattern(text)
    ir = proc._loopir_proc
    if kind == "stmts" and _is_call(pat) and \
            next(PT.find_stmt_matches(ir, pat, within), None) is None:
        # `select(_)`: no call statement of that name, so the call of an extern function
        # of that name, as Exo reads it
        kind, pat = "expr", pat[0].value
    if kind == "expr":
        found = (C.make_expr_cursor(proc, s, e)
                 for s, e in PT.find_expr_matches(ir, pat, within)
                 if scope is None or _expr_inside(scope, s, e))
    else:
        found = (_block_or_stmt(proc, m, len(pat))
                 for m in PT.find_stmt_matches(ir, pat, within)
                 if scope is None or _block_inside(scope, *m))
    return _select(found, pattern, proc, many, match_no, within)


def _is_call(pats) -> bool:
    return len(pats) == 1 and isinstance(pats[0], ast.Expr) and \
        isinstance(pats[0].value, ast.Call)


def find_in(cur, pattern: str, many: bool = False):
    """`cur.find(pattern)`: the matches inside what `cur` points at, as in Exo — a
    statement (itself included) and what is nested in it, the statements of a block
    and what is nested in them, or an expression (itself included) and its parts."""
    match cur:
        case C.StmtCursor():
            within = cur._path
        case C.BlockCursor():
            within = cur._parent or None
        case C.ExprCursor():
            within = cur._stmt
        case _:
            raise KnitTypeError(None, f"find: a {type(cur).__name__} holds no code to search")
    return find(cur._proc, pattern, many, within, scope=cur)


def _block_inside(scope, parent, field, lo, hi) -> bool:
    """Whether the match (a block [lo, hi) of the block (parent, field)) is inside scope."""
    if isinstance(scope, C.ExprCursor):
        return False
    if isinstance(scope, C.StmtCursor):
        here = parent + ((field, lo),)
        # a match starting at the statement itself may not run on past it
        return here != scope._path or hi == lo + 1
    path = parent + ((field, lo),)
    top = (scope._parent, scope._field)
    if (parent, field) == top:
        return scope._lo <= lo and hi <= scope._hi
    return _under(scope, path)


def _expr_inside(scope, spath, epath) -> bool:
    if isinstance(scope, C.ExprCursor):
        return spath == scope._stmt and epath[:len(scope._epath)] == scope._epath
    if isinstance(scope, C.StmtCursor):
        return True  # find_expr_matches kept the statement and those nested in it
    return _under(scope, spath)


def _under(block, path) -> bool:
    """Whether the statement at `path` is one of the block's or nested in one of them."""
    depth = len(block._parent)
    return len(path) > depth and path[:depth] == block._parent and \
        path[depth][0] == block._field and block._lo <= path[depth][1] < block._hi


def find_stmt(proc, pattern: str, many: bool = False):
    """find, where a bare name (`"jo"`, `"jo #1"`) stands for the loop with that
    iteration variable, as it does in Exo wherever a statement is expected; other
    patterns as find."""
    if isinstance(pattern, str):
        text, match_no = PT.split_match_no(pattern)
        if text.strip().isidentifier():
            pattern = PT.loop_nest_pattern(pattern)
    return find(proc, pattern, many)


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
