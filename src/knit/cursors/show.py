"""What `str(cursor)` prints: the whole procedure, with the cursor's place marked, as
Exo 1.0 prints a cursor.

- a statement: its first line ends with `  # <-- NODE`;
- a block: a `# BLOCK START` line before its first statement, `# BLOCK END` after its
  last;
- a gap: a `[GAP - Before]` line before the statement it was made from
  (`s.before()`), or `[GAP - After]` after it (`s.after()`).

The procedure is printed by the procedure printer (`str(proc)`), so the text is the
one `print(proc)` shows, less what Exo leaves out of a cursor's print (an instr's
`# @instr` lines and the procedure's `assert`s); the markers are placed by counting
the lines each statement prints as (the printer gives each statement its own lines,
nested statements inside their parent's).
"""

from __future__ import annotations

from knit.cursors import paths as P
from knit.ir import nodes as N
from knit.ir.printer import Names, stmt_lines


def marked_proc(cur) -> str:
    """The procedure of a statement, block or gap cursor, printed with the cursor's
    place marked."""
    from knit.cursors import cursor as C

    ir = cur._proc._loopir_proc
    lines = str(cur._proc).split("\n")
    body = sum(_height(s) for s in ir.body) if ir.body else 1  # (an empty one: `pass`)
    first = len(lines) - body  # lines before the body
    # as Exo, the signature and the body only: no `# @instr` lines, no `assert`s
    start = next(k for k, line in enumerate(lines) if line.startswith("def "))
    lines = lines[start:start + 1] + lines[first:]
    first = 1
    match cur:
        case C.StmtCursor():
            at = _start(ir, cur._path, first)
            lines[at] += "  # <-- NODE"
        case C.BlockCursor():
            lo = _start(ir, cur._parent + ((cur._field, cur._lo),), first)
            last = cur._parent + ((cur._field, cur._hi - 1),)
            hi = _start(ir, last, first) + _height(P.stmt_at(ir, last))
            pad = _indent(lines[lo])
            lines[hi:hi] = [pad + "# BLOCK END"]
            lines[lo:lo] = [pad + "# BLOCK START"]
        case C.GapCursor():
            _mark_gap(ir, cur, lines, first)
    return "\n".join(lines)


def _mark_gap(ir, cur, lines: list[str], first: int) -> None:
    block = cur._block()
    if not block:  # nothing to anchor to: the gap is the whole (empty) block
        at = first if not cur._parent else _start(ir, cur._parent, first) + 1
        lines[at:at] = ["    " * (len(cur._parent) + 1) + "[GAP]"]
        return
    after = cur._anchored_after if cur._idx > 0 else False
    if cur._idx >= len(block):
        after = True
    i = cur._idx - 1 if after else cur._idx
    path = cur._parent + ((cur._field, i),)
    at = _start(ir, path, first)
    pad = _indent(lines[at])
    if after:
        at += _height(block[i])
        lines[at:at] = [pad + "[GAP - After]"]
    else:
        lines[at:at] = [pad + "[GAP - Before]"]


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip(" "))]


def _height(s: N.Stmt) -> int:
    """How many lines the printer gives statement s (its nested statements included)."""
    return len(stmt_lines(s, Names(), ""))


def _header(s: N.Stmt) -> int:
    """How many lines a loop's or if's own line(s) take before its body."""
    inner = sum(_height(b) for b in s.body)
    if isinstance(s, N.If) and s.orelse:
        inner += 1 + sum(_height(b) for b in s.orelse)  # `else:` and its branch
    return _height(s) - inner


def _start(ir: N.Proc, path: P.StmtPath, first: int) -> int:
    """The index of the first line of the statement at `path`."""
    line, node = first, ir
    for field, i in path:
        block = getattr(node, field)
        if node is not ir:
            line += _header(node)
            if field == "orelse":
                line += sum(_height(b) for b in node.body) + 1  # the then-branch, `else:`
        line += sum(_height(b) for b in block[:i])
        node = block[i]
    return line


# ---------------------------------------------------------------- Exo's `cursor._impl`


class ExoImplView:
    """What Exo code reads through `cursor._impl` (in Exo, the internal cursor behind a
    public one): `_node`, the node pointed at, and `get_root()`, the procedure, both
    printing as code (`str(c._impl._node) == "n + m"`). The nodes are knit's: other
    attributes are those of knit's IR, not Exo's. Kept so that code reading Exo's
    internals this way (Exo's own tests do) runs; knit code uses the cursor's methods."""

    __slots__ = ("_cur",)

    def __init__(self, cur):
        self._cur = cur

    @property
    def _node(self):
        from knit.cursors import cursor as C

        cur = self._cur
        if isinstance(cur, C.ArgCursor):
            node = cur._node()
            return PrintedNode(node, f"{node.name.name}: {node.type}")
        if isinstance(cur, (C.StmtCursor, C.ExprCursor)):
            from knit.cursors.internal import text_of

            return PrintedNode(cur._node(), text_of(cur))
        raise AttributeError(f"{type(cur).__name__} points at no single node")

    def get_root(self):
        return PrintedNode(self._cur._proc._loopir_proc, str(self._cur._proc))


class PrintedNode:
    """A knit IR node that prints as code; its fields read through."""

    __slots__ = ("_node", "_text")

    def __init__(self, node, text: str):
        self._node, self._text = node, text

    def __getattr__(self, name):
        return getattr(self._node, name)

    def __str__(self) -> str:
        return self._text

    def __repr__(self) -> str:
        return f"<{type(self._node).__name__} {self._text.splitlines()[0]!r}>"
