"""`on_statements(p, first, last, f, *args)`: a schedule of some top-level statements,
made on those statements alone, and made once per content.

Why: a library schedule (knit.stdlib.gemm) builds several kernels from one plain
procedure -- blocked, a twin with other blocks, a small one, two threaded ones -- whose
edge nests are the same statements scheduled by the same steps. Made inside each
kernel, every step of those schedules is checked against the whole procedure (its
other nests included), five times over (issue 9, item 4).

What: `f(p, *args)` is a schedule (a function of checked primitives) that rewrites
only the statements first .. last - 1 of p's body. `on_statements` runs it instead on
the *isolated* procedure: p's parameters and assertions, those statements, and `pass`
in place of every other one (so that each keeps its position), then puts the
statements it made where those were.

Why that is sound: every step of f is checked on the isolated procedure, whose
arguments may hold any values its assertions allow (memory, configs); so the made
statements do what the old ones did from any such state. The other statements of p
can leave only such a state before them (they cannot change a size or a stride, which
is all assertions speak of), and read what they leave after them; so p with the new
statements does what p did. (The statements must be consecutive: a `pass` between two
of them would hide what the statement it stands for does there.) Nor may they
bind a buffer a statement after them uses, or touch a config (in a callee too): a
`pass` there would hide that use. The isolated procedure knows less than p (nothing of the
statements around), so a check there refuses at least what it refuses in p: where
it refuses, f runs on p itself, and gives p's own answer (accepted or refused).

Once per content: the answer is a function of the isolated procedure's code, f, its
arguments and the names its patterns are read against (the procedure's scope), all of
which make the key (`_key`: every field that equality compares, variables numbered in
order of appearance, with their names; an instance of a frozen dataclass declared as
such, holding nothing beyond its fields, by its class and fields; procedures, memories
and other objects by identity, kept alive by the entry). A hit is the same statements with the variables
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


def on_statements(p, first: int, last: int, f, *args, keep=None):
    """p with its top-level statements first .. last - 1 rewritten by the schedule
    `f(p, *args)`, made on those statements alone, once per content (see the module
    doc). `keep`: which of p's assertions the isolated procedure keeps (a function of an
    assertion's text; None: all), so that procedures that differ in an assertion the
    statements' schedule does not need share it. Fewer facts are never unsound: checks
    refuse more (then f runs on p), and simplify may fold less (other code, as correct:
    a caller that wants f's code on p must keep what it uses)."""
    ir = ir_of(p)
    stmts = ir.body[first:last]
    if not _isolable(ir, stmts, ir.body[last:]):
        return f(p, *args)
    # the other statements are `pass`: the statements keep their positions (f finds
    # them where it would in p), and do what they do from any state
    holes = tuple(N.Pass(ir.srcinfo) for _ in range(first)), \
        tuple(N.Pass(ir.srcinfo) for _ in range(len(ir.body) - last))
    preds = ir.preds if keep is None else tuple(e for e in ir.preds if keep(str(e)))
    iso_ir = N.Proc(ISOLATED, ir.args, preds, holes[0] + stmts + holes[1], None, ir.srcinfo)
    syms: dict = {}
    kept: list = []
    key = (f, _key(args, syms, kept), first, len(ir.body) - last,
           _key((ir.args, preds, stmts), syms, kept))  # (the name: ISOLATED)
    hit = _MEMO.get(key)
    if hit is None:
        iso = isolated_procedure(iso_ir, p)
        try:
            out = f(iso, *args)
        except KnitError:  # refused on less knowledge: p's own answer instead
            return f(p, *args)
        out_ir = ir_of(out)
        made = out_ir.body[first:len(out_ir.body) - len(holes[1])]
        if (out_ir.args != ir.args or out_ir.preds != preds or out_ir.instr is not None
                or len(out_ir.body) < first + len(holes[1])
                or not all(a is b for a, b in zip(out_ir.body[:first], holes[0]))
                or not all(a is b for a, b in zip(out_ir.body[len(out_ir.body) - len(holes[1]):],
                                                  holes[1]))
                or _configs(made)):
            return f(p, *args)  # not a rewrite of those statements alone
        hit = _Entry(list(syms), [s.sid for s in walk_stmts(stmts)], made,
                     dict(scope_of(out)), not out.is_eq(iso), kept)
        if len(_MEMO) >= _BOUND:
            _MEMO.clear()
        _MEMO[key] = hit
    else:
        made = _Renamer(dict(zip(hit.syms, syms)),
                        dict(zip(hit.sids, (s.sid for s in walk_stmts(stmts))))
                        ).block(hit.stmts)
    body = ir.body[:first] + tuple(made) + ir.body[last:]
    return derive(p, ir.with_(body=body), unsafe=hit.unsafe, prim="on_statements",
                  names=hit.names or None)


def _isolable(ir: N.Proc, stmts, after) -> bool:
    """Whether `stmts` (one or more) read no variable but p's parameters (not one a
    statement before them bound), bind none that the statements `after` them use (in
    the isolated procedure those are `pass`: a check of what is used later, as
    `reuse_buffer`'s, would pass there and not in p), and touch no config, in their
    callees neither (whose state the isolated procedure would not share with the
    statements around)."""
    from knit.ir.visit import stmt_syms

    bound, used = stmt_syms(stmts)
    return (bool(stmts) and used - bound <= {a.name for a in ir.args}
            and not bound & stmt_syms(after)[1] and not _configs(stmts))


def _configs(stmts, seen=None) -> bool:
    from knit.ir.visit import stmt_exprs, walk_expr

    seen = set() if seen is None else seen
    for s in walk_stmts(stmts):
        if isinstance(s, N.WriteConfig):
            return True
        if any(isinstance(x, N.ReadConfig) for e in stmt_exprs(s) for x in walk_expr(e)):
            return True
        if isinstance(s, N.Call) and id(s.f) not in seen:
            seen.add(id(s.f))
            if _configs(s.f.body, seen):
                return True
    return False


_SCALARS = (int, float, str, bool, type(None))
# the IR's own classes, read field by field; any other object (a callee's IR, a memory,
# an extern, a config) stands for itself, but for a frozen dataclass (a value, read
# field by field too: `_frozen_fields`)
_IR_MODULES = frozenset({"knit.ir.nodes", "knit.ir.types"})
_FIELDS: dict = {}  # dataclass -> the names of the fields equality compares
_FROZEN: dict = {}  # class -> the names of all its fields, or None: not a frozen dataclass


def _frozen_fields(cls):
    """The names of all the fields of `cls` if it is a frozen dataclass (an argument
    such as knit.stdlib.gemm's GemmParts: a value, whatever object holds it), else None.
    All fields, not only those equality compares: f may read any of them."""
    try:
        return _FROZEN[cls]
    except KeyError:
        pass
    # the class's own declaration: a plain subclass of a frozen dataclass inherits
    # `__dataclass_params__` but may hold state of its own (review, session 11)
    params = cls.__dict__.get("__dataclass_params__") if isinstance(cls, type) else None
    names = None
    if params is not None and params.frozen and cls.__module__ not in _IR_MODULES:
        names = tuple(f.name for f in dataclasses.fields(cls))
    _FROZEN[cls] = names
    return names


def _key(x, syms: dict, keep: list):
    """A hashable image of x that equal for two values only where they are the same
    code up to the identity of their variables: each Sym is its number in order of
    appearance and its name; an IR node or type its class and the fields its equality
    compares; a scalar its type and value (repr for floats: 0.0 and -0.0 differ); an
    instance of a frozen dataclass (not the IR's: a value the schedule is given, such
    as the names of a GEMM's parts) its class and all its fields, so that two equal ones
    made apart share an entry; an IR procedure (a callee) and any other object itself
    by identity (kept alive in `keep`, so that the identity is not reused while the
    entry lives)."""
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
    if cls.__module__ in _IR_MODULES and dataclasses.is_dataclass(x) and cls is not N.Proc:
        names = _FIELDS.get(cls)
        if names is None:
            names = _FIELDS[cls] = tuple(f.name for f in dataclasses.fields(cls) if f.compare)
        return (cls, *(_key(getattr(x, n), syms, keep) for n in names))
    names = _frozen_fields(cls)
    if names is not None and not set(getattr(x, "__dict__", ())) - set(names):
        # a value (nothing held beyond its fields, e.g. by a __post_init__ through
        # object.__setattr__): its class (kept alive) and all its fields
        keep.append(cls)
        return ("frozen", id(cls), *(_key(getattr(x, n), syms, keep) for n in names))
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
        if cls.__module__ not in _IR_MODULES or not dataclasses.is_dataclass(x) \
                or cls is N.Proc:
            return x  # (a callee, a memory, an extern...: the same object)
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
