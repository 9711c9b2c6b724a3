"""Forwarding: follow a cursor from a procedure to one derived from it by rewrites.

Statements keep their `sid` when a rewrite transforms them (`with_` keeps it), so a
statement is found again by its sid. Where a rewrite duplicated a statement (the two
branches of `specialize`, the tail of `divide_loop`, unrolled copies, the halves of
`split_write`), `separate_copies` gives every copy but the first (in program order) a
sid of its own when the procedure is derived, and remembers which statement it copies:
a cursor from before the rewrite follows the first copy, a cursor to a later copy
follows that copy, and a cursor to a copy a later rewrite removes becomes invalid (as
in Exo). Blocks forward by their first and last surviving statements, gaps by a
neighbouring statement, expressions by their statement and their path inside it.
"""

from __future__ import annotations

from dataclasses import fields, replace

from knit.cursors import cursor as C, paths as P
from knit.errors import InternalError, KnitTypeError
from knit.ir import nodes as N
from knit.ir.visit import walk_stmts


class _CopySid(int):
    """The sid of a statement that copies another: an int like every sid, with `of`, the
    sid of the statement copied. The provenance lives in the statement, so it goes away
    with it (no table to grow)."""

    of: int


class SplitSid(int):
    """The sid of the first part of a statement a rewrite took apart (split_write): the
    same number, so a block holding the statement still finds it and grows over the
    parts, but a cursor to the statement itself from before the split is invalid (as in
    Exo: the statement is no longer there). Each split makes a new object; a rewrite
    keeping the statement keeps the object."""


def _taken_apart(old, new, path: P.StmtPath, new_path: P.StmtPath) -> bool:
    was = P.stmt_at(old._loopir_proc, path).sid
    now = P.stmt_at(new._loopir_proc, new_path).sid
    return isinstance(now, SplitSid) and now is not was


def separate_copies(ir: N.Proc) -> N.Proc:
    """ir with a fresh sid on every statement whose sid an earlier statement (pre-order)
    already has; the same object when there is none (the usual case: known without a
    walk when the rewrite's result was indexed from the procedure it came from)."""
    from knit.ir.srcinfo import distinct_sids

    if distinct_sids(ir):
        return ir
    seen: set[int] = set()
    for s in walk_stmts(ir.body):
        if s.sid in seen:
            break
        seen.add(s.sid)
    else:
        return ir
    seen.clear()
    return ir.with_(body=_separate(ir.body, seen))


def _separate(stmts: tuple, seen: set[int]) -> tuple:
    # a statement nothing under which is a copy stays the same object: the analyses
    # remember their answers per statement object (simplify, the race check of a par
    # loop, the accesses of a block), and one copy must not make all of them anew
    out = []
    for s in stmts:
        new = s
        if s.sid in seen:
            new = _fresh(s)
            sid = _CopySid(new.sid)
            sid.of = s.sid
            new = replace(new, sid=sid)
        seen.add(new.sid)
        if isinstance(s, N.For):
            body = _separate(s.body, seen)
            if body is not s.body:
                new = new.with_(body=body)
        elif isinstance(s, N.If):
            body, orelse = _separate(s.body, seen), _separate(s.orelse, seen)
            if body is not s.body or orelse is not s.orelse:
                new = new.with_(body=body, orelse=orelse)
        out.append(new)
    return stmts if all(a is b for a, b in zip(out, stmts)) else tuple(out)


def _fresh(s: N.Stmt) -> N.Stmt:
    """s as a new statement: the same fields, a new sid (the constructor makes one)."""
    return type(s)(**{f.name: getattr(s, f.name) for f in fields(s) if f.name != "sid"})


def _copied_since(sid: int, of: int, old_sids) -> bool:
    """Whether statement `sid`, made after the procedure with `old_sids`, is a copy (or a
    copy of a copy...) of statement `of`."""
    if sid in old_sids:
        return False
    while isinstance(sid, _CopySid):
        sid = sid.of
        if sid == of:
            return True
        if sid in old_sids:
            return False
    return False

def sid_index(proc) -> dict[int, P.StmtPath]:
    """sid -> path of its first occurrence, cached on the Procedure."""
    index = proc._sid_paths
    if index is None:
        index = {}
        for path, s in P.stmt_paths(proc._loopir_proc):
            index.setdefault(s.sid, path)
        proc._sid_paths = index
    return index


def is_ancestor(old, new) -> bool:
    p = new
    while p is not None:
        if p is old:
            return True
        p = p._parent
    return False


def forward(new, cur: C.Cursor) -> C.Cursor:
    if isinstance(cur, C.ExprListCursor):  # each expression; the list keeps its holder
        parent = cur._parent
        return C.ExprListCursor([forward(new, c) for c in cur],
                                None if parent is None else forward(new, parent))
    if not isinstance(cur, C.Cursor):
        raise KnitTypeError(None, f"forward: expected a cursor, got {type(cur).__name__}")
    old = cur._proc
    if old is new or cur.is_invalid():
        return cur
    if not is_ancestor(old, new):
        raise C.InvalidCursorError(
            f"cannot forward a cursor of '{old.name()}' to '{new.name()}': the procedure "
            "was not derived from the cursor's procedure by scheduling")
    match cur:
        case C.ArgCursor():
            return C.ArgCursor(new, cur._idx)
        case C.StmtCursor():
            path = _stmt_path(old, new, cur._path)
            if _taken_apart(old, new, cur._path, path):
                raise C.InvalidCursorError(
                    "the statement the cursor pointed at was taken apart by a rewrite "
                    "(split_write): its node no longer exists; forward its block "
                    "(cursor.as_block()) to reach the parts")
            return C.make_stmt_cursor(new, path)
        case C.BlockCursor():
            return _forward_block(old, new, cur)
        case C.GapCursor():
            return _forward_gap(old, new, cur)
        case C.ExprCursor():
            return _forward_expr(old, new, cur)
    raise InternalError(f"forward: a cursor of unknown kind: {cur!r}")


def _stmt_path(old, new, path: P.StmtPath) -> P.StmtPath:
    sid = P.stmt_at(old._loopir_proc, path).sid
    new_path = sid_index(new).get(sid)
    if new_path is None:
        raise C.InvalidCursorError(f"the statement the cursor pointed at was removed by a "
                                   f"rewrite:\n{C.stmt_str(P.stmt_at(old._loopir_proc, path))}")
    return new_path


def _forward_block(old, new, cur: C.BlockCursor) -> C.BlockCursor:
    """The block from the first to the last of its statements that are still there (as
    in Exo, a block loses the statements a rewrite removed, e.g. the second loop `fuse`
    merged into the first); invalid when none is, or they are no longer in one block."""
    stmts, index = cur._stmts(), sid_index(new)
    kept = [k for k, s in enumerate(stmts) if s.sid in index]
    if not kept:
        replacement = _replacement(old, new, cur)
        if replacement is None:
            raise C.InvalidCursorError("the block the cursor pointed at was removed by a "
                                       "rewrite: none of its statements is left")
        return replacement
    first, last = index[stmts[kept[0]].sid], index[stmts[kept[-1]].sid]
    if first[:-1] != last[:-1] or first[-1][0] != last[-1][0] or first[-1][1] > last[-1][1]:
        raise C.InvalidCursorError("the block the cursor pointed at was split by a rewrite")
    parent, field = first[:-1], first[-1][0]
    block = P.block_of(new._loopir_proc, parent, field)
    # a rewrite that turned the last statement into several (split_write, unroll_loop)
    # made copies of it right after it: the block grows to cover them all
    old_sids, last_sid, hi = sid_index(old), stmts[kept[-1]].sid, last[-1][1] + 1
    while hi < len(block) and _copied_since(block[hi].sid, last_sid, old_sids):
        hi += 1
    lo = first[-1][1]
    if _specialized(new, parent, field, lo, hi, stmts[kept[0]].sid, old_sids):
        # the block is the then-branch of the if specialize wrapped it in: it follows to
        # that if (with its copies in the else branch), as in Exo
        return C.BlockCursor(new, parent[:-1], parent[-1][0], parent[-1][1],
                             parent[-1][1] + 1)
    return C.BlockCursor(new, parent, field, lo, hi)


def _replacement(old, new, cur: C.BlockCursor):
    """The statements a rewrite put where the whole block was (`replace` and
    `extract_subproc` put a call there): the new statements between the block's
    neighbours, when its parent and neighbours are still there; None otherwise."""
    index, old_sids = sid_index(new), sid_index(old)
    parent = cur._parent
    if parent:
        parent = index.get(P.stmt_at(old._loopir_proc, parent).sid)
        if parent is None:
            return None
    block, here = cur._block(), P.block_of(new._loopir_proc, parent, cur._field)

    def new_index(i: int):
        path = index.get(block[i].sid)
        if path is None or path[:-1] != parent or path[-1][0] != cur._field:
            return None
        return path[-1][1]

    lo = 0 if cur._lo == 0 else new_index(cur._lo - 1)
    hi = len(here) if cur._hi == len(block) else new_index(cur._hi)
    if lo is None or hi is None:
        return None
    lo += 1 if cur._lo > 0 else 0
    if lo >= hi or any(s.sid in old_sids for s in here[lo:hi]):
        return None
    return C.BlockCursor(new, parent, cur._field, lo, hi)


def _specialized(new, parent, field, lo, hi, first_sid, old_sids) -> bool:
    """Whether block [lo, hi) is the whole then-branch of an if made since the old
    procedure whose else branch holds a copy of the block's first statement."""
    if not parent or field != "body":
        return False
    wrapper = P.stmt_at(new._loopir_proc, parent)
    return (isinstance(wrapper, N.If) and wrapper.sid not in old_sids
            and (lo, hi) == (0, len(wrapper.body))
            and any(_copied_since(s.sid, first_sid, old_sids)
                    for s in walk_stmts(wrapper.orelse)))


def _forward_gap(old, new, cur: C.GapCursor) -> C.GapCursor:
    """A gap follows its anchor: the statement before it (s.after()) or after it."""
    block = cur._block()
    after = cur._anchored_after if cur._idx > 0 else False
    if cur._idx >= len(block):
        after = True
    if not block:
        raise C.InvalidCursorError("cannot forward a gap in an empty block")
    i = cur._idx - 1 if after else cur._idx
    path = _stmt_path(old, new, cur._parent + ((cur._field, i),))
    return C.GapCursor(new, path[:-1], path[-1][0], path[-1][1] + (1 if after else 0),
                       anchored_after=after)


def _forward_expr(old, new, cur: C.ExprCursor) -> C.ExprCursor:
    if cur._stmt[0][0] == "args":  # a dimension of an argument's shape
        spath = cur._stmt
        if spath[0][1] >= len(new._loopir_proc.args):
            raise C.InvalidCursorError("the argument the cursor pointed into was removed")
    else:
        spath = _stmt_path(old, new, cur._stmt)
    stmt = P.stmt_at(new._loopir_proc, spath)
    if not P.is_valid_expr_path(stmt, cur._epath) or _split_apart(old, new, cur, spath):
        raise C.InvalidCursorError("the expression the cursor pointed at was removed by a "
                                   "rewrite")
    return C.make_expr_cursor(new, spath, cur._epath)


def _split_apart(old, new, cur: C.ExprCursor, spath: P.StmtPath) -> bool:
    """Whether a rewrite split the cursor's statement into several (a copy of it made
    since follows it) and took its data expression apart: split_write makes `x = a + b`
    into `x = a; x += b`, where the path of `a + b` now leads to `a` (Exo invalidates
    such a cursor too). Index expressions may change form and stay the same value (a
    loop variable substituted, a copy unrolled): those still forward."""
    was, now = cur._node(), P.expr_at(P.stmt_at(new._loopir_proc, spath), cur._epath)
    if type(now) is type(was) or was.type is None or not was.type.is_real():
        return False
    block = P.block_of(new._loopir_proc, spath[:-1], spath[-1][0])
    i = spath[-1][1]
    sid = block[i].sid
    return i + 1 < len(block) and _copied_since(block[i + 1].sid, sid, sid_index(old))
