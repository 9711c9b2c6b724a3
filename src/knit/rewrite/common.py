"""What every primitive shares: turning the user's cursors and patterns into a Site
(locate), refusing with a message that shows the code (check), and producing the new
procedure from the IR a rewrite returns (build: apply, derive).

This module and the locate step are where the user's handles meet the IR: after
locate, rewrites see only Sites, IR nodes and paths (knit.cursors.paths); the
Procedure internals they need (its IR, a derived or a new procedure) are reached
here and in knit.ir.handles, nowhere else in rewrite/.
"""

from __future__ import annotations

from dataclasses import dataclass

from knit.analysis import smt
from knit.cursors import cursor as C, paths as P
from knit.cursors.find import find_stmt
from knit.cursors.forward import is_ancestor
from knit.cursors.internal import text_of
from knit.errors import ProcedureTypeError, SchedulingError
from knit.ir import handles, nodes as N
from knit.ir.printer import stmt_str

# ---------------------------------------------------------------- errors


def refuse(prim: str, where, condition: str, hint: str = "", *,
           printed: dict | None = None) -> SchedulingError:
    """A SchedulingError: `file:line:col: prim: condition`, the code, then a hint.

    `where` is a statement node, a Site (its statement, a block's first, a gap's
    anchor), a cursor, or None. `printed` (ir.printer.printed_names) names the code
    shown as the whole procedure prints it, where a name is bound twice."""
    node = where
    if isinstance(where, Site):
        node = where.shown()
    elif isinstance(where, (C.StmtCursor, C.ExprCursor)):
        node = where._node()
    elif isinstance(where, C.BlockCursor):
        node = where._stmts()[0] if len(where) else None
    src = getattr(node, "srcinfo", None)
    why = smt.take_gave_up()  # the proof that failed ran out of solver, not of truth
    if why:
        condition = (f"could not prove (the solver gave up: {why}); the rewrite may be "
                     f"safe, but what it could not rule out is: {condition}")
    head = f"{src}: {prim}: {condition}" if src is not None and src.line else \
        f"{prim}: {condition}"
    lines = [head]
    if getattr(src, "generated_by", None):  # code a primitive made: say which
        lines.append(src.note())
    if isinstance(node, N.Stmt):
        code = stmt_str(node, printed).splitlines()
        shown = code[:6] + (["    ..."] if len(code) > 6 else [])
        lines += ["  in:"] + [f"    {ln}" for ln in shown]
    if hint:
        lines.append(hint)
    err = SchedulingError("\n".join(lines))
    err.hint = hint  # the last line: a witness (rewrite/witness.py) goes before it
    return err


def bad_arg(prim: str, what: str) -> SchedulingError:
    return SchedulingError(f"{prim}: {what}")


# ---------------------------------------------------------------- locate


@dataclass(frozen=True, eq=False)
class Site:
    """Where a rewrite acts, in internal terms, apart from the user's cursors (as TVM
    keeps its srefs apart from its handles): the procedure, the path of a statement,
    and for a block `hi`, the end of its span (`path` is then its first statement's;
    a gap is the empty span hi == lo); `prim`, the primitive the user called, which
    the rewrite's refusals name; for an expression site, `epath`, the expression's
    path in the statement at `path`; for a gap, `anchor`, the path of the statement
    it was made from (what refusals show).

    A rewrite takes a Site and returns the new IR (`site.replaced(new)`); the
    primitive's wrapper makes the new Procedure from it with `apply`."""

    proc: object
    path: tuple
    hi: int | None = None
    prim: str = "the rewrite"
    epath: tuple | None = None
    anchor: tuple | None = None

    @property
    def ir(self) -> N.Proc:
        return handles.ir_of(self.proc)

    def node(self) -> N.Stmt:
        """The statement (the first one, for a block)."""
        return P.stmt_at(self.ir, self.path)

    def expr(self) -> N.Expr:
        """The expression, for an expression site."""
        return P.expr_at(self.node(), self.epath)

    def stmts(self) -> tuple:
        """The block's statements (the statement alone, for a statement site)."""
        lo = self.path[-1][1]
        return self.block()[lo:self.hi if self.hi is not None else lo + 1]

    def block(self) -> tuple:
        """The whole block the statement, span or gap is in."""
        (field, _), parent = self.path[-1], self.path[:-1]
        return P.block_of(self.ir, parent, field)

    @property
    def index(self) -> int:
        """The position of the statement (a span's first, a gap's) in its block."""
        return self.path[-1][1]

    @property
    def field(self) -> str:
        """The field of the parent statement ('body', 'orelse') the block is."""
        return self.path[-1][0]

    @property
    def parent_path(self) -> tuple:
        """The path of the statement whose block this is; () at the top level."""
        return self.path[:-1]

    def at(self, path: tuple) -> Site:
        """The statement at `path` of the same procedure, for the same primitive."""
        return Site(self.proc, path, None, self.prim)

    def stmt(self) -> Site:
        """The statement an expression site is in (a statement site: itself)."""
        return self if self.epath is None else self.at(self.path)

    def item(self, k: int) -> Site:
        """The k-th statement of a block (or k statements after this one)."""
        return self.at(self.parent_path + ((self.field, self.index + k),))

    def span(self, n: int) -> Site:
        """The block of `n` statements starting here."""
        return Site(self.proc, self.path, self.path[-1][1] + n, self.prim)

    def shown(self):
        """The statement a refusal at this site shows (a gap: its anchor; None for a
        gap in an empty block)."""
        if self.hi is not None and self.hi == self.index:
            return P.stmt_at(self.ir, self.anchor) if self.anchor is not None else None
        return self.node()

    def replaced(self, new: tuple) -> N.Proc:
        """The procedure's IR with the statement or block replaced by `new` (a gap:
        `new` inserted there)."""
        if self.hi is None:
            return P.replace_stmt(self.ir, self.path, new)
        (field, lo), parent = self.path[-1], self.path[:-1]
        return P.replace_block(self.ir, parent, field, lo, self.hi, new)

    def with_expr(self, new: N.Expr) -> N.Stmt:
        """The statement of an expression site with the expression replaced by `new`."""
        return P.replace_expr(self.node(), self.epath, new)

    def cursor(self):
        """A cursor on the site, for what shows code to the user (witnesses)."""
        if self.hi is None:
            return C.make_stmt_cursor(self.proc, self.path)
        (field, lo), parent = self.path[-1], self.path[:-1]
        return C.BlockCursor(self.proc, parent, field, lo, self.hi)


def site_of(cur, prim: str = "the rewrite") -> Site:
    """The Site of a located statement, block, gap or expression cursor."""
    if isinstance(cur, C.BlockCursor):
        return Site(cur._proc, site_path(cur), cur._hi, prim)
    if isinstance(cur, C.GapCursor):
        anchor = cur.anchor()
        return Site(cur._proc, site_path(cur), cur._idx, prim,
                    anchor=None if anchor.is_invalid() else anchor._path)
    if isinstance(cur, C.ExprCursor):
        return Site(cur._proc, cur._stmt, None, prim, epath=cur._epath)
    return Site(cur._proc, cur._path, None, prim)


def apply(site: Site, ir: N.Proc, *, unsafe: bool = False, names: dict | None = None,
          final_configs: frozenset = frozenset()):
    """The new Procedure a rewrite at `site` made (see derive)."""
    return derive(site.proc, ir, unsafe=unsafe, prim=site.prim, names=names,
                  final_configs=final_configs)


def site_path(cur) -> tuple:
    """The path where a located cursor (or a Site) acts: its statement's, a block's
    first statement's, or (for a gap) that of the statement after the gap."""
    if isinstance(cur, Site):
        return cur.path
    if isinstance(cur, C.StmtCursor):
        return cur._path
    if isinstance(cur, C.ExprCursor):
        return cur._stmt
    i = cur._lo if isinstance(cur, C.BlockCursor) else cur._idx
    return cur._parent + ((cur._field, i),)


def _own(proc, cur, prim: str):
    """The cursor, forwarded to `proc` if it was taken on an ancestor of `proc`."""
    if cur._proc is proc:
        return cur
    if cur._proc is not None and is_ancestor(proc, cur._proc):
        raise bad_arg(prim, "the cursor belongs to a different procedure: it was taken on a "
                      f"newer version of '{proc.name()}' than the one given; pass the procedure "
                      "the cursor came from")
    if cur._proc is None or not is_ancestor(cur._proc, proc):
        raise bad_arg(prim, "the cursor belongs to a different procedure "
                      f"('{cur._proc.name() if cur._proc else '?'}'), not to "
                      f"'{proc.name()}' or one it was scheduled from")
    return proc.forward(cur)


def check_proc_arg(proc, prim: str):
    if not handles.is_procedure(proc):
        raise ProcedureTypeError(f"{prim}: expected a Procedure as the first argument, got "
                        f"{type(proc).__name__}")


# primitives whose result is sound on code that never runs (eliminate_dead_code deletes
# it: the contradictory facts prove its loop empty or its condition settled)
_DEAD_CODE_OK = frozenset({"eliminate_dead_code"})


def reachable(cur, prim: str):
    """The cursor, unless it points into code that never runs: there the facts contradict
    each other, anything is provable, and no rewrite could be checked meaningfully
    (except by the primitives of _DEAD_CODE_OK)."""
    from knit.analysis import effects as E

    if prim in _DEAD_CODE_OK:
        return cur
    if not isinstance(cur, (Site, C.StmtCursor, C.ExprCursor, C.BlockCursor, C.GapCursor)):
        return cur
    site = cur if isinstance(cur, Site) else site_of(cur, prim)
    path = site.path
    if site.hi is None:  # a statement, or an expression in one: show it
        node = site.node()
    else:  # a block or a gap: the statement around it
        node = P.stmt_at(site.ir, site.parent_path) if site.parent_path else None
    if len(path) > 1 and not E.consistent(E.context_facts(site.ir, path)):
        raise refuse(prim, node, "this code never runs: the loops and conditions around "
                     "it cannot all hold", "remove the dead code first (eliminate_dead_code)")
    return cur


def _cursor(proc, x, prim: str, what: str, find=None):
    """A pattern (found with `find`, default proc.find) or a cursor (forwarded to proc)."""
    if isinstance(x, str) and find is not False:
        return (find or proc.find)(x)
    if isinstance(x, C.Cursor):
        return _own(proc, x, prim)
    raise TypeError(f"{prim}: expected {what}, got {type(x).__name__}")


def loop_cursor(proc, loop, prim: str) -> C.ForCursor:
    cur = _cursor(proc, loop, prim, "a loop cursor or pattern", proc.find_loop)
    if not isinstance(cur, C.ForCursor):
        raise _wrong_kind(prim, cur, "a loop")
    return reachable(cur, prim)


def stmt_cursor(proc, stmt, prim: str) -> C.StmtCursor:
    cur = _cursor(proc, stmt, prim, "a statement cursor or pattern",
                  lambda pat: find_stmt(proc, pat))
    if isinstance(cur, C.BlockCursor) and len(cur) == 1:
        cur = cur[0]
    if not isinstance(cur, C.StmtCursor):
        raise _wrong_kind(prim, cur, "a statement")
    return reachable(cur, prim)


def block_cursor(proc, block, prim: str) -> C.BlockCursor:
    cur = _cursor(proc, block, prim, "a block cursor or pattern",
                  lambda pat: find_stmt(proc, pat))
    if isinstance(cur, C.StmtCursor):
        cur = cur.as_block()
    if not isinstance(cur, C.BlockCursor):
        raise _wrong_kind(prim, cur, "a block of statements")
    return reachable(cur, prim)


def loop_site(proc, loop, prim: str) -> Site:
    """The Site of a loop given as a cursor or pattern (see loop_cursor)."""
    return site_of(loop_cursor(proc, loop, prim), prim)


def block_site(proc, block, prim: str) -> Site:
    """The Site of a block given as a cursor or pattern (see block_cursor)."""
    return site_of(block_cursor(proc, block, prim), prim)


def stmt_site(proc, stmt, prim: str) -> Site:
    """The Site of a statement given as a cursor or pattern (see stmt_cursor)."""
    return site_of(stmt_cursor(proc, stmt, prim), prim)


def gap_site(proc, gap, prim: str) -> Site:
    """The Site of a gap cursor: the empty span where it is (see gap_cursor)."""
    return site_of(gap_cursor(proc, gap, prim), prim)


def expr_site(proc, expr, prim: str) -> Site:
    """The Site of an expression given as a cursor or pattern (see expr_cursor)."""
    return site_of(expr_cursor(proc, expr, prim), prim)


def gap_cursor(proc, gap, prim: str) -> C.GapCursor:
    cur = _cursor(proc, gap, prim, "a gap cursor (e.g. c.after())", find=False)
    if not isinstance(cur, C.GapCursor):
        raise _wrong_kind(prim, cur, "a gap (stmt.before() or stmt.after())")
    return reachable(cur, prim)


def expr_cursor(proc, expr, prim: str) -> C.ExprCursor:
    cur = _cursor(proc, expr, prim, "an expression cursor or pattern")
    if not isinstance(cur, C.ExprCursor):
        raise _wrong_kind(prim, cur, "an expression")
    if cur._epath[:1] == (("type", None),):  # a dimension from shape(): part of a type
        what = f"a dimension of the type of '{cur.parent().name()}'"
        hint = "change a buffer's dimension with resize_dim (or expand_dim/rearrange_dim)"
        if cur._stmt[0][0] == "args":  # a parameter's: no statement to show
            raise bad_arg(prim, f"expected an expression of the code, got {what}; {hint}")
        raise refuse(prim, P.stmt_at(cur._proc._loopir_proc, cur._stmt),
                     f"expected an expression of the code, got {what}", hint)
    return reachable(cur, prim)


def arg_index(cur) -> int:
    """The position, among the procedure's parameters, of a located argument cursor."""
    return cur._idx


def _wrong_kind(prim: str, cur, wanted: str) -> SchedulingError:
    """The cursor points at the wrong kind of thing; at its position when it has one."""
    if isinstance(cur, (C.StmtCursor, C.ExprCursor)):
        return refuse(prim, cur, f"expected {wanted}, got {_describe(cur)}")
    return bad_arg(prim, f"expected {wanted}, got {_describe(cur)}")


def _describe(cur) -> str:
    if isinstance(cur, C.InvalidCursor):
        return "an invalid cursor"
    return {C.BlockCursor: "a block", C.GapCursor: "a gap", C.ArgCursor: "an argument"}.get(
        type(cur), f"'{text_of(cur).splitlines()[0]}'" if not isinstance(cur, list) else "a list")


def check_name(prim: str, name) -> str:
    if not isinstance(name, str) or not name.isidentifier():
        raise bad_arg(prim, f"{name!r} is not a valid name")
    return name


def check_bindings_stay_visible(prim: str, block) -> None:
    """Refuse to wrap `block` (a block Site, or a located block cursor) in a new loop or
    if when a buffer or window it binds at its top level is used after it: the new
    scope would hide the name from those uses."""
    from knit.ir.visit import stmt_syms

    if not isinstance(block, Site):
        block = site_of(block, prim)
    stmts = block.stmts()
    bound = {s.name for s in stmts if isinstance(s, (N.Alloc, N.WindowStmt))}
    if not bound:
        return
    _, used = stmt_syms(block.block()[block.hi:])
    for s in stmts:
        if isinstance(s, (N.Alloc, N.WindowStmt)) and s.name in used:
            what = "allocated" if isinstance(s, N.Alloc) else "bound"
            raise refuse(prim, s, f"'{s.name.name}' is {what} in the block and used after it; "
                         "inside the new scope it would no longer be visible there",
                         "include the statements that use it in the block")


# ---------------------------------------------------------------- build


def replace_stmts(proc, cur, new: tuple, *, unsafe: bool = False, prim: str = "the rewrite"):
    """A new Procedure with the statement or block `cur` (a Site, or a located cursor)
    replaced by `new` (`unsafe`: the rewrite was not checked, so the result is not
    proven equal; `prim`: the primitive the post-checks of derive name when they
    refuse). A rewrite on a Site returns `site.replaced(new)` and lets its wrapper
    `apply` it instead."""
    site = cur if isinstance(cur, Site) else site_of(cur, prim)
    return derive(proc, site.replaced(new), unsafe=unsafe, prim=prim)


def derive(proc, ir: N.Proc, *, unsafe: bool = False, prim: str = "the rewrite",
           names: dict | None = None, final_configs: frozenset = frozenset()):
    """The new Procedure a rewrite of `proc` into `ir` makes: the one place rewrites
    hand their IR back. Unless `unsafe`, it runs the post-checks (check_par_loops),
    whose refusals name `prim`, and the result is proven equal to `proc` -- except,
    for `final_configs` (config fields, as (config, field) pairs), in the value it
    leaves there for its caller (see configs.configs_that_may_differ). `names`:
    procedures the new one's code calls that `proc`'s scope does not know yet (a
    subprocedure just extracted), so patterns and printing can name them."""
    new = proc._derive(ir, unsafe=unsafe, prim=prim)
    if names:
        new._scope = {**proc._scope, **names}
    if final_configs:
        new._cfg_changed = frozenset(final_configs)
    return new


def final_configs_of(proc) -> frozenset:
    """The config fields whose final value the rewrite that made `proc` may have
    changed (see derive)."""
    return getattr(proc, "_cfg_changed", frozenset())


def parent_of(proc):
    """The procedure `proc` was derived from, or None."""
    return proc._parent


def ir_of(proc) -> N.Proc:
    """The IR of a Procedure (see knit.ir.handles)."""
    return handles.ir_of(proc)


def new_procedure(ir: N.Proc, like):
    """A new, checked Procedure for `ir`, derived from none (a subprocedure a rewrite of
    `like` made, whose names are read in `like`'s scope). Raises the KnitError of the
    first check that fails, those Exo makes only when compiling included: a
    definition would take them with a warning and refuse later, but a rewrite must not
    make a procedure that cannot be compiled or run."""
    from knit.frontend.checks import check_proc  # (the checks load the solver layer)

    check_proc(ir)
    p = type(like)(ir, like._scope, check=False)
    p._checked = True
    return p


def isolated_procedure(ir: N.Proc, like):
    """An unchecked Procedure for `ir` (a statement of `like` with its parameters and
    assertions, rewrite/isolate.py: checked code), derived from none, whose patterns
    and fragments name only its own variables (an empty scope)."""
    return type(like)(ir, {}, check=False)


def scope_of(proc) -> dict:
    """The Python names `proc`'s patterns and fragments are read against."""
    return handles.scope_of(proc)


def checked(proc):
    """`proc`, after the front end's checks (once per procedure: a procedure made
    unchecked, e.g. around a callee's IR, is checked when first used as a pattern)."""
    proc._check()
    return proc


def check_par_loops(ir: N.Proc, prim: str = "the rewrite") -> None:
    """After a rewrite, the iterations of every `par` loop must still be independent
    (moving an allocation out of one, staging a window in one, ... can break that)."""
    from knit.analysis import effects as E

    if not _holds_par(ir.body):  # most procedures, at most steps: nothing to walk
        return
    for path, s in _par_loops(ir.body, (), "body"):
        windows, facts = E.windows_at(ir, path), E.context_facts(ir, path)
        # the race check sees only the loop, the facts around it and the windows its
        # body reads through: a rewrite elsewhere leaves all three as they were, and a
        # loop found independent with them is independent again (the loop by identity:
        # IR nodes are immutable; facts and windows compare structurally, their
        # variables being Syms, equal only to themselves)
        key = (id(s), tuple(facts), tuple(windows.items()))
        if _PAR_OK.get(key) is s:
            continue
        hit = E.race_free(s, facts, lambda s=s, w=windows: E.accesses(s.body, w),
                          coarse_accesses(ir, s.body, windows))
        if not hit:
            if len(_PAR_OK) >= 4096:  # a bound: each entry keeps its loop alive
                _PAR_OK.clear()
            _PAR_OK[key] = s
        else:
            from knit.rewrite import witness as W

            err = refuse(prim, s, f"iterations of the par loop over '{s.iter.name}' "
                         f"would race: one {hit[0].describe()}, another {hit[1].describe()}",
                         "keep the buffers each iteration writes inside the loop")
            raise W.why_conflict(err, hit, ir)


_PAR_OK: dict[tuple, N.For] = {}  # (id(loop), facts, windows) -> loop found independent


def coarse_accesses(ir: N.Proc, stmts, windows: dict) -> tuple[list, bool]:
    """`effects.coarse_accesses` of `stmts` in `ir`, or their exact accesses where `ir`
    or a callee carries a deferred error (frontend.checks: its accesses were not all
    proven in bounds, so a window passed to it does not bound what it touches)."""
    from knit.analysis import effects as E
    from knit.frontend.checks import deferred_error

    if deferred_error(ir) is not None:
        return E.accesses(stmts, windows), False
    return E.coarse_accesses(stmts, windows)


def _par_loops(stmts, prefix: tuple, field: str):
    """(path, loop) for every `par` loop of the block, in the order stmt_paths gives
    them (pre-order), looking only into the statements that hold one (_stmt_holds_par,
    remembered per statement)."""
    for i, s in enumerate(stmts):
        if not _stmt_holds_par(s):
            continue
        path = prefix + ((field, i),)
        if isinstance(s, N.For):
            if s.mode == "par":
                yield path, s
            yield from _par_loops(s.body, path, "body")
        else:  # an If
            yield from _par_loops(s.body, path, "body")
            yield from _par_loops(s.orelse, path, "orelse")


def _holds_par(stmts) -> bool:
    """Whether a block holds a `par` loop, remembered per statement object (immutable):
    after a rewrite only the statements it rebuilt are looked at again."""
    return any(_stmt_holds_par(s) for s in stmts)


def _stmt_holds_par(s) -> bool:
    if not isinstance(s, (N.For, N.If)):
        return False
    hit = _HOLDS_PAR.get(id(s))
    if hit is None or hit[0] is not s:
        out = (s.mode == "par" or _holds_par(s.body)) if isinstance(s, N.For) else \
            _holds_par(s.body) or _holds_par(s.orelse)
        if len(_HOLDS_PAR) >= 20_000:  # a bound: each entry keeps its statement alive
            _HOLDS_PAR.clear()
        hit = _HOLDS_PAR[id(s)] = (s, out)
    return hit[1]


_HOLDS_PAR: dict[int, tuple] = {}  # id(loop or if) -> (it, whether it holds a par loop)
