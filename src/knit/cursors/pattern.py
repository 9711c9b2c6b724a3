"""Pattern strings: object code with holes (`_`) that points at statements or
expressions, e.g. `for i in _: _`, `C[_] += _`, `x : _`, `s1 ; s2`, `A[i, k]`,
with an optional `#n` to pick the (n+1)-th match. Names match by their spelling.

A statement pattern is a list of statement patterns matched against a prefix of a
block (a hole statement `_` matches any run of statements); matches are reported in
program order: a statement, then the statements nested in it, then the next one.
"""

from __future__ import annotations

import ast
import re
from functools import lru_cache

from knit.cursors import paths as P
from knit.errors import KnitTypeError, PatternError
from knit.ir import nodes as N
from knit.ir.printer import expr_str, stmt_str

_MATCH_NO = re.compile(r"^(.*?)\s*#\s*(\d+)\s*$", re.DOTALL)
_NEST = re.compile(r"^\s*[A-Za-z_]\w*(\s+[A-Za-z_]\w*)+\s*$")


def split_match_no(pattern: str) -> tuple[str, int | None]:
    m = _MATCH_NO.match(pattern)
    if m:
        return m[1], int(m[2])
    if "#" in pattern:  # Python would read the rest as a comment and ignore it
        raise PatternError(f"pattern {show(pattern)}: '#' must be followed by a match number "
                           "0, 1, 2, ... at the end of the pattern")
    return pattern, None


def loop_nest_pattern(pattern: str) -> str:
    """`"i j k"` -> nested loop pattern; a single name `"i"` -> `for i in _: _`."""
    if not isinstance(pattern, str):
        raise KnitTypeError(None, f"expected a pattern string, got {type(pattern).__name__}")
    body, no = split_match_no(pattern)
    names = body.split()
    if len(names) >= 1 and (_NEST.match(body) or (len(names) == 1 and names[0].isidentifier())):
        text, indent = "", ""
        for n in names:
            text += f"{indent}for {n} in _:\n"
            indent += "    "
        text += f"{indent}_"
        return text + (f" #{no}" if no is not None else "")
    return pattern


@lru_cache(maxsize=1024)
def parse_pattern(text: str):
    """('stmts', [ast.stmt...]) or ('expr', ast.expr) for a pattern without `#n`."""
    try:
        module = ast.parse(_dedent(text))
    except SyntaxError as e:
        raise PatternError(f"pattern {show(text)} is not valid object code: {e.msg}") from None
    stmts = module.body
    if len(stmts) == 1 and isinstance(stmts[0], ast.Expr) and \
            not isinstance(stmts[0].value, ast.Call) and not _is_hole_stmt(stmts[0]):
        return "expr", stmts[0].value
    if all(_is_hole_stmt(s) for s in stmts):
        raise PatternError(f"pattern {show(text)} matches anything; name a statement")
    return "stmts", stmts


def _dedent(text: str) -> str:
    lines = text.strip("\n").splitlines()
    return "\n".join(ln.strip() if i == 0 else ln for i, ln in enumerate(lines))


def _is_hole(e) -> bool:
    return isinstance(e, ast.Name) and e.id == "_"


def _is_hole_stmt(s) -> bool:
    return isinstance(s, ast.Expr) and _is_hole(s.value)


# ---------------------------------------------------------------- matching statements


def find_stmt_matches(proc: N.Proc, pats: list, within: P.StmtPath | None = None):
    """Yield (parent, field, lo, hi) of every block match, in program order."""
    for path, _ in P.stmt_paths(proc):
        if within is not None and path[: len(within)] != within:
            continue
        parent, (field, i) = path[:-1], path[-1]
        block = P.block_of(proc, parent, field)
        n = match_stmts(pats, block[i:])
        if n is not None:
            yield parent, field, i, i + n


def match_stmts(pats: list, stmts) -> int | None:
    """The length of the prefix of `stmts` that `pats` matches, or None."""
    i = j = 0
    while i < len(pats) and j < len(stmts):
        if _is_hole_stmt(pats[i]):
            if i + 1 == len(pats):
                return len(stmts)
            if match_stmt(pats[i + 1], stmts[j]):
                i += 2
        elif match_stmt(pats[i], stmts[j]):
            i += 1
        else:
            return None
        j += 1
    return j if i == len(pats) or (i == len(pats) - 1 and _is_hole_stmt(pats[i])) else None


def match_stmt(pat, s) -> bool:
    match pat:
        case ast.For():
            return isinstance(s, N.For) and _name(pat.target, s.iter.name) and \
                _loop_range(pat.iter, s) and match_stmts(pat.body, s.body) is not None
        case ast.If():
            return isinstance(s, N.If) and match_expr(pat.test, s.cond) and \
                match_stmts(pat.body, s.body) is not None and \
                (not pat.orelse or match_stmts(pat.orelse, s.orelse) is not None)
        case ast.Assign(targets=[tgt]) if isinstance(tgt, ast.Attribute):
            return isinstance(s, N.WriteConfig) and _name(tgt.value, s.config.name()) and \
                (tgt.attr == "_" or tgt.attr == s.field) and match_expr(pat.value, s.rhs)
        case ast.Assign(targets=[tgt]):
            if isinstance(s, N.WindowStmt):
                return isinstance(tgt, ast.Name) and _name(tgt, s.name.name) and \
                    match_expr(pat.value, s.rhs)
            return isinstance(s, N.Assign) and _lhs(tgt, s) and match_expr(pat.value, s.rhs)
        case ast.AugAssign(op=ast.Add()):
            return isinstance(s, N.Reduce) and _lhs(pat.target, s) and \
                match_expr(pat.value, s.rhs)
        case ast.AnnAssign():
            return isinstance(s, N.Alloc) and _name(pat.target, s.name.name)
        case ast.Pass():
            return isinstance(s, N.Pass)
        case ast.Expr(value=ast.Call(func=func)):
            return isinstance(s, N.Call) and _name(func, s.f.name)
    return False


def _name(node, name: str) -> bool:
    if isinstance(node, ast.Name):
        return node.id == "_" or node.id == name
    return isinstance(node, ast.Attribute) and node.attr == name


def _loop_range(it, s: N.For) -> bool:
    if _is_hole(it):
        return True
    ok = isinstance(it, ast.Call) and isinstance(it.func, ast.Name) and len(it.args) == 2
    return ok and it.func.id in ("seq", "par", "_") and (it.func.id in ("_", s.mode)) and \
        match_expr(it.args[0], s.lo) and match_expr(it.args[1], s.hi)


def _lhs(tgt, s) -> bool:
    if isinstance(tgt, ast.Name):
        return _name(tgt, s.name.name)
    if isinstance(tgt, ast.Subscript):
        return _name(tgt.value, s.name.name) and _match_idx(tgt.slice, s.idx)
    return False


def _match_idx(sl, idx) -> bool:
    pats = sl.elts if isinstance(sl, ast.Tuple) else [sl]
    if len(pats) == 1 and _is_hole(pats[0]):
        return True
    return len(pats) == len(idx) and all(match_expr(p, e) for p, e in zip(pats, idx))


# ---------------------------------------------------------------- matching expressions

_BINOPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "/",
           ast.Mod: "%"}
_CMP = {ast.Lt: "<", ast.Gt: ">", ast.LtE: "<=", ast.GtE: ">=", ast.Eq: "=="}


def match_expr(pat, e) -> bool:
    if _is_hole(pat):
        return True
    match pat:
        case ast.Name():
            return (isinstance(e, N.Read) and not e.idx and e.name.name == pat.id) or \
                (isinstance(e, N.Const) and isinstance(e.val, bool) and str(e.val) == pat.id)
        case ast.Constant():
            return isinstance(e, N.Const) and e.val == pat.value
        case ast.UnaryOp(op=ast.USub(), operand=ast.Constant() as c):
            if isinstance(e, N.Const):
                return e.val == -c.value
            return isinstance(e, N.USub) and match_expr(c, e.arg)
        case ast.UnaryOp(op=ast.USub()):
            return isinstance(e, N.USub) and match_expr(pat.operand, e.arg)
        case ast.BinOp():
            return isinstance(e, N.BinOp) and e.op == _BINOPS.get(type(pat.op)) and \
                match_expr(pat.left, e.lhs) and match_expr(pat.right, e.rhs)
        case ast.Compare(ops=[op], comparators=[rhs]):
            return isinstance(e, N.BinOp) and e.op == _CMP.get(type(op)) and \
                match_expr(pat.left, e.lhs) and match_expr(rhs, e.rhs)
        case ast.BoolOp(values=[lhs, rhs]):
            op = "and" if isinstance(pat.op, ast.And) else "or"
            return isinstance(e, N.BinOp) and e.op == op and match_expr(lhs, e.lhs) and \
                match_expr(rhs, e.rhs)
        case ast.Subscript(value=ast.Name() as base):
            if isinstance(e, N.Read):
                return _name(base, e.name.name) and _match_idx(pat.slice, e.idx)
            if isinstance(e, N.WindowExpr):
                return _name(base, e.name.name) and _match_window(pat.slice, e.idx)
            return False
        case ast.Call(func=ast.Name(id="stride"), args=[buf, *rest]):
            return isinstance(e, N.StrideExpr) and _name(buf, e.name.name) and \
                (not rest or _is_hole(rest[0]) or match_expr(rest[0], N.Const(e.dim, None)))
        case ast.Call(func=func, args=args):
            return isinstance(e, N.Extern) and _name(func, e.f.name()) and \
                (len(args) == 1 and _is_hole(args[0]) or
                 (len(args) == len(e.args) and all(map(match_expr, args, e.args))))
        case ast.Attribute(value=ast.Name() as cfg):
            return isinstance(e, N.ReadConfig) and _name(cfg, e.config.name()) and \
                (pat.attr == "_" or pat.attr == e.field)
    return False


def _match_window(sl, idx) -> bool:
    pats = sl.elts if isinstance(sl, ast.Tuple) else [sl]
    if len(pats) == 1 and _is_hole(pats[0]):
        return True
    if len(pats) != len(idx):
        return False
    for p, w in zip(pats, idx):
        if isinstance(p, ast.Slice) != isinstance(w, N.Interval):
            return False
        if isinstance(p, ast.Slice):
            if (p.lower and not match_expr(p.lower, w.lo)) or \
                    (p.upper and not match_expr(p.upper, w.hi)):
                return False
        elif not match_expr(p, w.pt):
            return False
    return True


def find_expr_matches(proc: N.Proc, pat, within: P.StmtPath | None = None):
    """Yield (stmt path, expr path) of every matching expression, in program order."""
    for spath, s in P.stmt_paths(proc):
        if within is not None and spath[: len(within)] != within:
            continue
        for epath, e in P.expr_paths(s):
            if match_expr(pat, e):
                yield spath, epath


# ---------------------------------------------------------------- errors: what is near


def show(pattern: str) -> str:
    """A pattern quoted on one line for a message: the lines of a block pattern are
    joined (`for j in _:\\n    _` -> `'for j in _: _'`), never shown as a literal `\\n`."""
    lines = [ln.strip() for ln in pattern.strip("\n").splitlines() if ln.strip()]
    text = ""
    for k, ln in enumerate(lines):
        text += ln if k == 0 else (" " if text.endswith(":") else "; ") + ln
    return f"'{text}'"


_MAX_SHOWN = 8


def nearby(proc: N.Proc, text: str, within: P.StmtPath | None = None) -> str:
    """What exists in proc (or under `within`) of the kind `text` (a pattern without
    `#n`) looks for, as a line for a 'matches nothing' error: `loops here: for i in
    seq(0, N) (line 7), ...`. '' when nothing of the kind can be named."""
    kind, pat = parse_pattern(text)
    stmts = [s for path, s in P.stmt_paths(proc)
             if within is None or path[: len(within)] == within]
    if kind == "expr":
        return _nearby_exprs(pat, stmts)
    head = next(p for p in pat if not _is_hole_stmt(p))
    what, want = _STMT_KINDS.get(type(head), (None, None))
    if what is None:
        return ""
    found = [s for s in stmts if isinstance(s, want)]
    if not found:
        return f"  there is no {what[:-1]} here" if what != "statements" else ""
    shown = [f"{stmt_str(s).splitlines()[0].rstrip(':')} (line {s.srcinfo.line})"
             for s in found[:_MAX_SHOWN]]
    more = f", and {len(found) - _MAX_SHOWN} more" if len(found) > _MAX_SHOWN else ""
    return f"  {what} here: {', '.join(shown)}{more}"


_STMT_KINDS = {ast.For: ("loops", N.For), ast.If: ("ifs", N.If),
               ast.Assign: ("assignments", (N.Assign, N.WriteConfig, N.WindowStmt)),
               ast.AugAssign: ("reductions", N.Reduce), ast.AnnAssign: ("allocations", N.Alloc),
               ast.Expr: ("calls", N.Call), ast.Pass: ("statements", N.Pass)}


def _nearby_exprs(pat, stmts) -> str:
    """The expressions of the same form as `pat` (reads of the same buffer, the same
    operator, calls of the same function), else the buffers that are read."""
    exprs = [e for s in stmts for _, e in P.expr_paths(s)]
    same = [e for e in exprs if _same_form(pat, e)]
    if same:
        texts = list(dict.fromkeys(expr_str(e) for e in same))
        more = f", and {len(texts) - _MAX_SHOWN} more" if len(texts) > _MAX_SHOWN else ""
        return f"  expressions of that form here: {', '.join(texts[:_MAX_SHOWN])}{more}"
    names = sorted({e.name.name for e in exprs if isinstance(e, N.WindowExpr) or
                    (isinstance(e, N.Read) and (e.idx or e.type.is_real()))})
    return f"  buffers read here: {', '.join(names)}" if names else ""


def _same_form(pat, e) -> bool:
    match pat:
        case ast.Subscript(value=ast.Name(id=name)) | ast.Name(id=name):
            return isinstance(e, N.Read | N.WindowExpr) and e.name.name == name
        case ast.BinOp():
            return isinstance(e, N.BinOp) and e.op == _BINOPS.get(type(pat.op))
        case ast.Compare(ops=[op]):
            return isinstance(e, N.BinOp) and e.op == _CMP.get(type(op))
        case ast.Call(func=ast.Name(id="stride")):
            return isinstance(e, N.StrideExpr)
        case ast.Call():
            return isinstance(e, N.Extern)
        case ast.Constant():
            return isinstance(e, N.Const)
    return False
