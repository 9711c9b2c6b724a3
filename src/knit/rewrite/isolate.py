"""`on_statement(p, top, f, *args)`: a schedule of one top-level statement, made on
that statement alone and made once per content.

Why: a library schedule (knit.stdlib.gemm) builds several kernels from one plain
procedure -- blocked, a twin with other blocks, a small one, two threaded ones -- whose
edge nests are the same statements scheduled by the same steps. Made inside each
kernel, every step of those schedules is checked against the whole procedure (its
other nests included), five times over (issue 9, item 4).

What: `f(p, top, *args)` is a schedule (a function of checked primitives) that
rewrites only the statement `top` of p's body. `on_statement` runs it instead on the
*isolated* procedure: p's parameters and assertions, and that statement alone
(`f(iso, 0, *args)`), then puts the statements it made where the statement was.

Why that is sound: every step of f is checked on the isolated procedure, whose
arguments may hold any values its assertions allow (memory, configs); so the made
statements do what the old one did from any such state. The other statements of p
can leave only such a state before it (they cannot change a size or a stride, which is
all assertions speak of), and read what it leaves after it; so p with the new
statements does what p did. The isolated procedure knows less than p (nothing of the
statements around), so a check there refuses at least what it refuses in p: where
it refuses, f runs on p itself, and gives p's own answer (accepted or refused).

Once per content: the answer is a function of the isolated procedure's code, f, its
arguments and the names its patterns are read against (the procedure's scope), all of
which make the key (`_key`: every field that equality compares, variables numbered in
order of appearance, with their names; procedures, memories and other objects by
identity, kept alive by the entry). A hit is the same statements with the variables
of that procedure (the new ones a step made get fresh variables) and fresh statement
identities, except those of the statements the old one held, which are forwarded.

The trace (knit.trace) of the result starts at that step, as the trace of a
subprocedure a schedule extracted starts at it: the steps of f were recorded on the
isolated procedure. f must not read p's name (the isolated procedure has another).
"""

from __future__ import annotations

import dataclasses

from knit.errors import KnitError
from knit.ir import nodes as N
from knit.ir.sym import Sym
from knit.ir.visit import walk_stmts
from knit.rewrite.common import derive, ir_of, isolated_procedure, scope_of

ISOLATED = "isolated_statement"  # the name of every isolated procedure (not p's: a key)

_MEMO: dict = {}  # _key -> _Entry
_BOUND = 256  # entries kept (each keeps its statements and key objects alive)


@dataclasses.dataclass
class _Entry:
    syms: list  # the isolated procedure's variables, in order of appearance
    sids: list  # the sids of its statement's statements (walk order)
    stmts: tuple  # what f made of it
    names: dict  # procedures f's result names that the scope did not
    unsafe: bool  # f used an unchecked step: the result is not proven equal
    keep: list  # the objects the key names by identity


def on_statement(p, top: int, f, *args, keep=None):
    """p with its top-level statement `top` rewritten by the schedule `f(p, top, *args)`,
    made on that statement alone, once per content (see the module doc). `keep`: which
    of p's assertions the isolated procedure keeps (a function of an assertion's text;
    None: all). Fewer facts only make its checks refuse more (then f runs on p), and
    kernels that differ in an assertion the statement's schedule does not need share it."""
    ir = ir_of(p)
    stmt = ir.body[top]
    if not _isolable(ir, stmt):
        return f(p, top, *args)
    preds = ir.preds if keep is None else tuple(e for e in ir.preds if keep(str(e)))
    iso_ir = N.Proc(ISOLATED, ir.args, preds, (stmt,), None, ir.srcinfo)
    syms: dict = {}
    keep: list = []
    key = (f, _key(args, syms, keep),
           _key((ir.args, preds, (stmt,)), syms, keep))  # (the name: ISOLATED)
    hit = _MEMO.get(key)
    if hit is None:
        iso = isolated_procedure(iso_ir, p)
        try:
            out = f(iso, 0, *args)
        except KnitError:  # refused on less knowledge: p's own answer instead
            return f(p, top, *args)
        out_ir = ir_of(out)
        if (out_ir.args != ir.args or out_ir.preds != preds
                or out_ir.instr is not None or _configs(out_ir.body)):
            return f(p, top, *args)  # not a rewrite of the statement alone
        hit = _Entry(list(syms), [s.sid for s in walk_stmts((stmt,))], out_ir.body,
                     dict(scope_of(out)),
                     not out.is_eq(iso), keep)
        if len(_MEMO) >= _BOUND:
            _MEMO.clear()
        _MEMO[key] = hit
        made = out_ir.body
    else:
        made = _Renamer(dict(zip(hit.syms, syms)),
                        dict(zip(hit.sids, (s.sid for s in walk_stmts((stmt,)))))
                        ).block(hit.stmts)
    body = ir.body[:top] + tuple(made) + ir.body[top + 1:]
    return derive(p, ir.with_(body=body), unsafe=hit.unsafe, prim="on_statement",
                  names=hit.names or None)


def _isolable(ir: N.Proc, stmt) -> bool:
    """Whether `stmt` reads no variable but p's parameters (not one a statement before
    it bound) and touches no config (whose state the isolated procedure would not
    share with the statements around)."""
    from knit.ir.visit import stmt_syms

    bound, used = stmt_syms((stmt,))
    return used - bound <= {a.name for a in ir.args} and not _configs((stmt,))


def _configs(stmts) -> bool:
    from knit.ir.visit import stmt_exprs, walk_expr

    for s in walk_stmts(stmts):
        if isinstance(s, N.WriteConfig):
            return True
        if any(isinstance(x, N.ReadConfig) for e in stmt_exprs(s) for x in walk_expr(e)):
            return True
    return False


_SCALARS = (int, float, str, bool, type(None))
_FIELDS: dict = {}  # dataclass -> the names of the fields equality compares


def _key(x, syms: dict, keep: list):
    """A hashable image of x that equal for two values only where they are the same
    code up to the identity of their variables: each Sym is its number in order of
    appearance and its name; a dataclass its class and the fields its equality
    compares; a scalar its type and value (repr for floats: 0.0 and -0.0 differ); an IR
    procedure (a callee) and any other object itself by identity (kept alive in
    `keep`, so that the identity is not reused while the entry lives)."""
    if isinstance(x, Sym):
        n = syms.get(x)
        if n is None:
            n = syms[x] = len(syms)
        return ("sym", n, x.name)
    if isinstance(x, _SCALARS):
        return (type(x).__name__, repr(x) if isinstance(x, float) else x)
    if isinstance(x, (tuple, list)):
        return (type(x).__name__, *(_key(y, syms, keep) for y in x))
    if isinstance(x, dict):
        return ("dict", *((_key(k, syms, keep), _key(v, syms, keep)) for k, v in x.items()))
    cls = type(x)
    if dataclasses.is_dataclass(x) and cls is not N.Proc:
        names = _FIELDS.get(cls)
        if names is None:
            names = _FIELDS[cls] = tuple(f.name for f in dataclasses.fields(cls) if f.compare)
        return (cls, *(_key(getattr(x, n), syms, keep) for n in names))
    keep.append(x)
    return ("id", id(x))


class _Renamer:
    """A cached answer's statements with the variables of the procedure at hand (`syms`:
    old -> new; a variable a step made gets a fresh copy) and statement identities
    forwarded (`sids`: old -> new; a statement a step made gets a fresh one)."""

    def __init__(self, syms: dict, sids: dict):
        self.syms, self.sids = syms, sids

    def block(self, stmts) -> tuple:
        return tuple(self.node(s) for s in stmts)

    def node(self, x):
        if isinstance(x, Sym):
            y = self.syms.get(x)
            if y is None:
                y = self.syms[x] = x.copy()
            return y
        if isinstance(x, tuple):
            return tuple(self.node(y) for y in x)
        cls = type(x)
        if not dataclasses.is_dataclass(x) or cls is N.Proc or isinstance(x, _SCALARS):
            return x
        hit = _INIT.get(cls)
        if hit is None:
            names = [f.name for f in dataclasses.fields(cls) if f.init]
            hit = _INIT[cls] = ([n for n in names if n not in ("srcinfo", "sid")],
                                "sid" in names)
        changes = {n: self.node(getattr(x, n)) for n in hit[0]}
        if hit[1]:
            sid = self.sids.get(x.sid)
            changes["sid"] = sid if sid is not None else next(N._sids)
        return N.rebuild(x, changes)


_INIT: dict = {}  # dataclass -> (its init fields but srcinfo and sid, whether it has a sid)
