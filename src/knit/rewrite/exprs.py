"""Expression and write primitives: commute_expr, left_reassociate_expr, rewrite_expr,
merge_writes, split_write, fold_into_reduce, inline_assign, lift_reduce_constant.
Each takes the Site(s) its wrapper located (common.Site; an expression site for the
expression ones), checks, and returns the new Procedure (common.apply); a refusal
names the primitive the user called (`site.prim`). Each docstring lists its checks,
besides the implicit ones of every primitive (knit.stdlib.scheduling).

Precision (docs/semantics.md). A rewrite that stores a value in a buffer earlier or
later than before (merge_writes, split_write, inline_assign) must not skip or add a
conversion to the buffer's type: the value must already lie in that type (`exact_in`:
narrow integer arithmetic is computed in `int`, so `a + b` of two i8 values need not fit
i8), or be a literal the type holds exactly. Nor may it change the type an operation is
computed in (`arith_type`): an untyped literal adopts the other operand's type, so
moving one next to another operand can turn an f32 product into an integer one.
Reassociating floating-point `+` and `*` (left_reassociate_expr, merging or splitting
two reductions, lift_reduce_constant) changes rounding; Exo allows it, and so does
knit, as it allows reductions to commute -- but only within one precision: every
operation involved must be computed in the type it was computed in before (an f32
partial sum of f64 values, or an f32 sum added to an f64 buffer, is refused).
"""

from __future__ import annotations

from knit.analysis import effects as E
from knit.analysis.smt import counterexample, prove
from knit.cursors import paths as P
from knit.cursors.forward import SplitSid
from knit.errors import KnitTypeError
from knit.frontend.typecheck import retyped
from knit.ir import nodes as N, types as T
from knit.ir.printer import expr_str, stmt_str
from knit.ir.sym import Sym
from knit.ir.visit import free_syms, map_expr, stmt_syms, subst, walk_expr
from knit.rewrite.checks import accesses_at, facts_at
from knit.rewrite.common import Site, apply, refuse

_INT_RANGES = {"i8": (-(2**7), 2**7 - 1), "ui8": (0, 2**8 - 1), "ui16": (0, 2**16 - 1),
               "i32": (-(2**31), 2**31 - 1)}


NARROW_INTS = ("i8", "ui8", "ui16")


def value_type(e: N.Expr) -> T.ScalarT:
    """The type whose values `e` takes: its type, except that arithmetic on narrow integer
    data is computed in C's `int` (semantics.md#int-arith), so `a + b` of two i8 values
    is an i32 value however it is typed (an extern on integer data too:
    semantics.md#externs)."""
    if e.type.name in NARROW_INTS and isinstance(e, (N.BinOp, N.USub, N.Extern)):
        return T.I32
    return e.type


def arith_type(t: T.ScalarT) -> T.ScalarT:
    """The type an operation typed `t` is computed in: integer data in C's `int`, untyped
    literals in double (semantics.md#int-arith, #literal-type)."""
    if t.name in NARROW_INTS:
        return T.I32
    return T.F64 if t == T.R else t


def exact_in(e: N.Expr, typ: T.ScalarT) -> bool:
    """Whether storing `e` in a `typ` location keeps its value (so reading it back is e)."""
    if value_type(e) == typ or typ == T.R:
        return True
    if not isinstance(e, N.Const) or isinstance(e.val, bool):
        return False
    v = float(e.val)
    if typ.name in _INT_RANGES:
        lo, hi = _INT_RANGES[typ.name]
        return v.is_integer() and lo <= v <= hi
    if typ.name in ("f32", "f16"):
        import numpy as np

        return float(np.float32(v) if typ.name == "f32" else np.float16(v)) == v
    return True  # f64 holds every Python float


def _of_type(e: N.Expr, typ: T.ScalarT) -> bool:
    """Whether e is typed typ, or is a literal typ holds exactly."""
    return e.type == typ or (e.type == T.R and exact_in(e, typ))


def _is_int_data(typ: T.ScalarT) -> bool:
    return typ.is_real() and not typ.is_float()


def _typed_binop(op: str, lhs: N.Expr, rhs: N.Expr, srcinfo) -> N.Expr:
    from knit.frontend.typecheck import binop

    return binop(op, lhs, rhs, srcinfo)


def _write_of(site: Site, s) -> E.Access:
    """The write or reduction of the Assign/Reduce `s` at `site`, in base coordinates."""
    return next(a for a in accesses_at(site, (s,)) if a.kind != "r")


def _reads_of(site: Site, e: N.Expr) -> list:
    """The buffer and config reads of the data expression `e` evaluated at `site`."""
    probe = N.Assign(Sym("_probe"), T.R, (), e)
    return E.reads(accesses_at(site, (probe,)))


def _at(access) -> str:
    """` at line N` for an access with a source position (generated code has none)."""
    line = getattr(access.srcinfo, "line", 0)
    return f" at line {line}" if line else ""


def _same_idx(facts, a, b) -> bool:
    return len(a) == len(b) and all(prove(facts, E.eq(x, y)) for x, y in zip(a, b))


# ---------------------------------------------------------------- commute, reassociate


def commute_expr(sites: list):
    """Swap the operands of each expression site (the same procedure's). Checks: each
    is a `+` or a `*`."""
    for site in sites:
        _check_commutative(site)
    ir = sites[0].ir
    # deepest first, so swapping an outer operation does not move an inner one's path
    for site in sorted(sites, key=lambda x: -len(x.epath)):
        s = P.stmt_at(ir, site.path)
        e = P.expr_at(s, site.epath)
        s = P.replace_expr(s, site.epath, e.with_(lhs=e.rhs, rhs=e.lhs))
        ir = P.replace_stmt(ir, site.path, (s,))
    return apply(sites[0], ir)


def _check_commutative(site: Site) -> N.BinOp:
    e = site.expr()
    if not isinstance(e, N.BinOp) or e.op not in ("+", "*"):
        what = f"a '{e.op}'" if isinstance(e, N.BinOp) else "not a binary operation"
        raise refuse(site.prim, site, f"only '+' and '*' can be reordered, and "
                     f"'{expr_str(e)}' is {what}")
    return e


def left_reassociate_expr(site: Site):
    """`a op (b op c)` -> `(a op b) op c` at the expression site. Checks: one op, `+`
    or `*`, of that form; `a op b` is a valid expression; every partial result is
    computed in the type the whole is (one precision)."""
    prim = site.prim
    e = _check_commutative(site)
    if not isinstance(e.rhs, N.BinOp) or e.rhs.op != e.op:
        raise refuse(prim, site, f"the right operand of '{expr_str(e)}' must be "
                     f"another '{e.op}' (the form a {e.op} (b {e.op} c))")
    a, b, c = e.lhs, e.rhs.lhs, e.rhs.rhs
    try:
        inner = _typed_binop(e.op, a, b, a.srcinfo)
        new = _typed_binop(e.op, inner, c, e.srcinfo)
    except KnitTypeError as err:
        raise refuse(prim, site, f"'({expr_str(a)} {e.op} {expr_str(b)})' is not a "
                     f"valid expression: {str(err).splitlines()[0].split(': ', 1)[-1]}") from err
    _check_one_precision(prim, site, e, (e.rhs, inner))
    return apply(site, site.stmt().replaced((site.with_expr(new),)))


def _check_one_precision(prim: str, site: Site, e, parts) -> None:
    """Reassociation reorders roundings within one precision only: each partial result
    (but one of literals only, folded exactly) is computed in the type e is."""
    if not e.type.is_real():
        return  # index arithmetic is exact
    for part in parts:
        if part.type != T.R and arith_type(part.type) != arith_type(e.type):
            raise refuse(prim, site, f"'{expr_str(part)}' is computed in "
                         f"{_computed(part.type)} but '{expr_str(e)}' in "
                         f"{_computed(e.type)}: reassociating would change the precision "
                         "of a partial result, not only the order of roundings")


# ---------------------------------------------------------------- rewrite_expr


def _is_int_kind(t) -> bool:
    return isinstance(t, T.ScalarT) and t.kind in ("int", "index", "size", "stride")


def rewrite_expr(site: Site, new: N.Expr):
    """Replace the expression at `site` by `new`. Checks: both are index (or both bool)
    expressions; they are proven equal where the expression is evaluated (else a
    counterexample); the operations above it stay valid with the new operand."""
    prim = site.prim
    old = site.expr()
    stmt = site.stmt()
    if not (_is_int_kind(old.type) or old.type == T.BOOL):
        raise refuse(prim, stmt, f"'{expr_str(old)}' is {_an(old.type)} value: rewrite_expr "
                     "proves equalities of index and bool expressions only")
    if _is_int_kind(old.type) != _is_int_kind(new.type):
        raise refuse(prim, stmt, f"'{expr_str(new)}' is {_an(new.type)} value, but "
                     f"'{expr_str(old)}' is {_an(old.type)} value")
    facts = facts_at(stmt)
    goal = E.eq(old, new)
    if not prove(facts, goal):
        cex = counterexample(facts, goal)
        where = ""
        if cex is not None:
            from knit.analysis.exprs import control_vars

            shown = cex.describe(dict.fromkeys(control_vars(old) + control_vars(new)))
            where = f" (they differ when {shown})" if shown else ""
        raise refuse(prim, stmt, f"cannot prove that '{expr_str(old)}' and '{expr_str(new)}' "
                     f"are equal here{where}",
                     "add an assert to the proc if the equality follows from something "
                     "knit cannot see")
    new_stmt = _retype_above(prim, stmt.node(), site.epath, site.with_expr(new))
    return apply(site, stmt.replaced((new_stmt,)))


def _retype_above(prim: str, old_stmt, epath, stmt):
    """`stmt` with the operations above `epath` typed again, refusing if the new operand
    breaks a rule of the language (e.g. `/` needs a literal divisor)."""
    from knit.frontend.typecheck import usub

    for k in range(len(epath) - 1, 0, -1):
        e = P.expr_at(stmt, epath[:k])
        try:
            if isinstance(e, N.BinOp):
                e = _typed_binop(e.op, e.lhs, e.rhs, e.srcinfo)
            elif isinstance(e, N.USub):
                e = usub(e.arg, e.srcinfo)
        except KnitTypeError as err:
            raise refuse(prim, old_stmt, f"the result would not be valid object code: "
                         f"{str(err).splitlines()[0].split(': ', 1)[-1]} (in "
                         f"'{expr_str(e)}')") from err
        stmt = P.replace_expr(stmt, epath[:k], e)
    return stmt


def more_facts(facts: list, *new) -> list:
    """`facts` and the range or condition facts `new` of a loop or if entered, except
    those reading a config (its body may write the config after they were checked)."""
    return facts + [f for f in new if not any(isinstance(x, N.ReadConfig)
                                              for x in walk_expr(f))]


def _an(t) -> str:
    from knit.frontend.typecheck import an

    return an(t)


# ---------------------------------------------------------------- merge and split writes


def merge_writes(block: Site):
    """Merge the two writes of the block into one. Checks: two assignments or
    reductions; provably the same location; the second's right-hand side does not read
    it; no conversion moves (see _check_sum)."""
    prim = block.prim
    stmts = block.stmts()
    if len(stmts) != 2:
        raise refuse(prim, block, f"expected a block of two statements, got {len(stmts)}")
    s1, s2 = stmts
    if not all(isinstance(s, (N.Assign, N.Reduce)) for s in (s1, s2)):
        raise refuse(prim, block, "expected two consecutive assignments or reductions "
                     "(`x = e` or `x += e`)")
    facts = facts_at(block)
    if s1.name is not s2.name or not _same_idx(facts, s1.idx, s2.idx):
        raise refuse(prim, s1, f"cannot prove that the two statements write the same location: "
                     f"{_lhs(s1)} and {_lhs(s2)}")
    hit = E.first_conflict([_write_of(block, s1)], E.reads(accesses_at(block.item(1), (s2,))),
                           facts)
    if hit:
        raise refuse(prim, s2, f"the second statement's right-hand side {hit[1].describe()}, "
                     f"which the first statement writes: removing that write would change it")
    if isinstance(s2, N.Assign):  # the second write hides the first
        return apply(block, block.replaced((s2,)))
    _check_sum(prim, s1, s1.rhs, s2.rhs, "merging", first_stored=isinstance(s1, N.Assign))
    rhs = _typed_binop("+", s1.rhs, s2.rhs, s1.rhs.srcinfo)
    return apply(block, block.replaced((s1.with_(rhs=rhs),)))


def _lhs(s) -> str:
    return f"{s.name.name}[{', '.join(expr_str(i) for i in s.idx)}]" if s.idx else s.name.name


def _check_sum(prim: str, s, a: N.Expr, b: N.Expr, doing: str, *, first_stored: bool):
    """`x = a; x += b` and `x = a + b` (first_stored), or `x += a; x += b` and
    `x += a + b`, compute the same when no conversion moves: a is stored exactly, and
    `a + b` is computed in the type `x + b` was (literals adopt the other operand's
    type, so this is not implied). For two reductions, a and b must both be of x's type
    (or literals it holds), so the sum reassociates within x's precision only."""
    if first_stored:
        _check_exact(prim, s, a, doing)
        was, now = T.join_real(s.type, b.type), T.join_real(a.type, b.type)
        # two literals x holds exactly: their sum in double is exact, rounded once either way
        both_exact = now == T.R and exact_in(b, s.type)
        if arith_type(was) != arith_type(now) and not both_exact:
            raise refuse(prim, s, f"'{expr_str(a)} + {expr_str(b)}' would be computed in "
                         f"{_computed(now)}, but {_lhs(s)} + {expr_str(b)} is computed in "
                         f"{_computed(was)}: {doing} would change the result",
                         "make the types of the values match the buffer's first")
        return
    now = T.join_real(a.type, b.type)
    if now == T.R:  # literals only: summed in double, exact if both are held exactly
        for e in (a, b):
            _check_exact(prim, s, e, doing)
        return
    for e in (a, b):  # x + e was computed in x's type: e is not wider
        if arith_type(T.join_real(s.type, e.type)) != arith_type(s.type):
            _check_exact(prim, s, e, doing)
    if arith_type(now) != arith_type(s.type):
        raise refuse(prim, s, f"'{expr_str(a)} + {expr_str(b)}' would be computed in "
                     f"{_computed(now)}, but {_lhs(s)} holds {s.type}: {doing} would round "
                     f"a partial sum to {_computed(now)}",
                     "make the values' types match the buffer's first")


def _computed(t: T.ScalarT) -> str:
    """The type an operation typed t is computed in, for messages."""
    return "double (literals only)" if t == T.R else str(arith_type(t))


def _check_exact(prim: str, s, e: N.Expr, doing: str) -> None:
    if exact_in(e, s.type):
        return
    what = f"is {_an(e.type)} value but {_lhs(s)} holds {s.type}" if value_type(e) == e.type \
        else f"is computed in {value_type(e)} (as C computes {e.type} arithmetic) and may " \
        f"not fit {s.type}, which {_lhs(s)} holds"
    raise refuse(prim, s, f"'{expr_str(e)}' {what}: {doing} would change where the value is "
                 f"converted to {s.type}",
                 "make the value's type match the buffer's (e.g. set_precision) first")


def split_write(site: Site):
    """`x = a + b` -> `x = a; x += b` (and for `+=`). Checks: an addition on the right;
    b does not read x's location; no conversion moves (see _check_sum)."""
    prim = site.prim
    s = site.node()
    if not isinstance(s, (N.Assign, N.Reduce)):
        raise refuse(prim, s, "expected an assignment or a reduction (`x = a + b`, "
                     "`x += a + b`)")
    if not (isinstance(s.rhs, N.BinOp) and s.rhs.op == "+"):
        raise refuse(prim, s, f"the right-hand side '{expr_str(s.rhs)}' is not an addition")
    a, b = s.rhs.lhs, s.rhs.rhs
    _check_sum(prim, s, a, b, "splitting", first_stored=isinstance(s, N.Assign))
    hit = E.first_conflict([_write_of(site, s)], _reads_of(site, b), facts_at(site))
    if hit:  # once split, b would see the location after the first write
        raise refuse(prim, s, f"the second operand '{expr_str(b)}' {hit[1].describe()}, "
                     f"which may be {_lhs(s)} itself: it would then read the value the "
                     "first part writes")
    # both halves keep the statement's number, so a block holding it covers both; the
    # first is marked split, so a cursor to the statement itself becomes invalid (Exo)
    second = N.Reduce(s.name, s.type, s.idx, b, s.srcinfo, s.sid)
    return apply(site, site.replaced((s.with_(rhs=a, sid=SplitSid(s.sid)), second)))


def fold_into_reduce(site: Site):
    """`x = x + e` -> `x += e`. Checks: the left operand provably reads the location
    written; e does not read it."""
    prim = site.prim
    s = site.node()
    if not isinstance(s, N.Assign):
        raise refuse(prim, s, "expected an assignment `x = x + e`")
    rhs = s.rhs
    if not (isinstance(rhs, N.BinOp) and rhs.op == "+"):
        raise refuse(prim, s, f"the right-hand side '{expr_str(rhs)}' is not an addition "
                     f"`{_lhs(s)} + e`")
    x = rhs.lhs
    facts = facts_at(site)
    if not _is_read_of(x, s, facts):
        hint = "commute_expr can put it on the left" if _is_read_of(rhs.rhs, s, facts) else ""
        raise refuse(prim, s, f"the left operand of the addition, '{expr_str(x)}', is not a "
                     f"read of {_lhs(s)}", hint)
    hit = E.first_conflict([_write_of(site, s)], _reads_of(site, rhs.rhs), facts)
    if hit:
        raise refuse(prim, s, f"the added value '{expr_str(rhs.rhs)}' {hit[1].describe()}, "
                     f"which may be {_lhs(s)} itself: a reduction must not read what it "
                     "accumulates into")
    return apply(site, site.replaced((N.Reduce(s.name, s.type, s.idx, rhs.rhs, s.srcinfo,
                                               sid=s.sid),)))


def _is_read_of(e, s, facts) -> bool:
    return isinstance(e, N.Read) and e.name is s.name and _same_idx(facts, e.idx, s.idx)


# ---------------------------------------------------------------- inline_assign


def inline_assign(site: Site):
    """`x = e; s` -> `s[x -> e]` for the reads of the same location later in the block.
    Checks: e's value lies in x's type; no operation changes the type it is computed
    in; nothing before a replaced read changes what e reads or the location; x is
    allocated in the proc; no read that is not replaced sees the value."""
    prim = site.prim
    s = site.node()
    if not isinstance(s, N.Assign):
        raise refuse(prim, s, "expected an assignment `x = e`")
    _check_exact(prim, s, s.rhs, "inlining")
    block = site.block()
    rest = block[site.index + 1:]
    facts = facts_at(site)
    try:
        new_rest, hits = _inline_block(rest, s, facts)
    except _Retyped as r:
        old, new = r.args
        raise refuse(prim, s, f"with '{expr_str(s.rhs)}' in place of {_lhs(s)}, "
                     f"'{expr_str(new)}' would be computed in {_computed(_op_type(new))}, not "
                     f"in {_computed(_op_type(old))} as before",
                     f"keep the assignment, or give the value the type of {_lhs(s)}") from None
    write = _write_of(site, s)
    _check_value_kept(prim, site, s, write, rest, hits)
    # a loop or if body left empty keeps a `pass`
    ir = site.span(len(block) - site.index).replaced(new_rest or (N.Pass(s.srcinfo),))
    _check_not_read_elsewhere(prim, site.ir, ir, site.path, s, write)
    return apply(site, ir)


def _inline_block(stmts, s: N.Assign, facts) -> tuple[tuple, list]:
    """`stmts` with reads of the location s writes replaced by s.rhs, and the number of
    replacements in each statement."""
    out, hits = [], []
    for t in stmts:
        t, n = _inline_stmt(t, s, facts)
        out.append(t)
        hits.append(n)
    return tuple(out), hits


def _inline_stmt(t, s: N.Assign, facts):
    match t:
        case N.For():
            i = E.var(t.iter)
            body, hits = _inline_block(t.body, s, more_facts(facts, E.le(t.lo, i),
                                                                 E.lt(i, t.hi)))
            return t.with_(body=body), sum(hits)
        case N.If():
            body, h1 = _inline_block(t.body, s, more_facts(facts, t.cond))
            orelse, h2 = _inline_block(t.orelse, s, more_facts(facts, E.not_(t.cond)))
            return t.with_(body=body, orelse=orelse), sum(h1) + sum(h2)
        case N.Assign() | N.Reduce() | N.WriteConfig():
            # (calls are left alone: their data arguments are buffers, not values)
            count = [0]

            def swap(e):
                if isinstance(e, N.Read) and e.name is s.name and e.type.is_real() and \
                        _same_idx(facts, e.idx, s.idx):
                    count[0] += 1
                    return s.rhs
                return e

            # operations over a substituted value are typed again, as the parser would;
            # none may change the type it is computed in (a literal adopts the other
            # operand's type, which the buffer's value did not)
            def fe(e):
                new = retyped(swap(e))
                if isinstance(e, (N.BinOp, N.Extern)) and \
                        arith_type(_op_type(new)) != arith_type(_op_type(e)):
                    raise _Retyped(e, new)
                return new

            return t.with_(rhs=map_expr(t.rhs, fe)), count[0]
    return t, 0


class _Retyped(Exception):
    """Inlining would change the type an operation is computed in (old and new node)."""


def _op_type(e: N.Expr) -> T.ScalarT:
    """The type of a data operation; for an extern, its operands' common type."""
    if not isinstance(e, N.Extern):
        return e.type
    common = T.R
    for a in e.args:
        common = T.join_real(common, a.type) if a.type.is_real() else common
    return common


def _check_value_kept(prim, site: Site, s, write, rest, hits) -> None:
    """Between the assignment and each replaced read, nothing may change what s.rhs reads,
    nor the location s writes (the read would then not have seen s.rhs)."""
    if not any(hits):
        return
    last = max(k for k, n in enumerate(hits) if n)
    before = list(rest[:last])
    if not isinstance(rest[last], (N.Assign, N.Reduce, N.WriteConfig)):
        before.append(rest[last])  # a loop may write, then read again in a later iteration
    needed = _reads_of(site, s.rhs) + [E.Access(write.buf, write.idx, "r", (), ())]
    acc = accesses_at(site, tuple(before))
    hit = E.first_conflict(E.writes(acc), needed, facts_at(site))
    if hit:
        what = f"overwrite {_lhs(s)}" if hit[1] is needed[-1] else \
            f"change the value of '{expr_str(s.rhs)}'"
        raise refuse(prim, s, f"the statement{_at(hit[0])} {hit[0].describe()} before a read "
                     f"of {_lhs(s)} that would be replaced, which may {what}")


def _check_not_read_elsewhere(prim, old_ir, new_ir, path, s, write) -> None:
    """Once the assignment is gone, no read that was not replaced may see its value: the
    buffer must be allocated here (an argument's value outlives the proc), and reads
    that remain in its scope, in any iteration of the loops between, must touch other
    locations."""
    level = _alloc_level(old_ir, path, write.buf)
    if level is None:
        raise refuse(prim, s, f"'{write.buf.name}' is an argument of the procedure: its "
                     "final value is visible to the caller, so the assignment cannot be "
                     "removed", "stage the value in a local buffer first (bind_expr)")
    scope_path = path[:level + 1]
    field, i = scope_path[-1]
    scope = P.block_of(new_ir, scope_path[:-1], field)[i:]
    acc = E.accesses(scope, E.windows_at(old_ir, scope_path))
    seen = [a for a in acc if a.buf is write.buf and a.kind in ("r", "+")]
    ren, rel = _segment(old_ir, path, level)
    hit = E.first_conflict([write], seen, E.context_facts(old_ir, scope_path), ren_x=ren,
                           relation=rel)
    if hit:
        raise refuse(prim, s, f"the value written is also seen where it would not be "
                     f"replaced: the statement{_at(hit[1])} {hit[1].describe()}, which may be "
                     "the same location",
                     "inline_assign replaces reads of the same location later in the same "
                     "block only")


def _alloc_level(ir, path, buf) -> int | None:
    """The depth of the block along `path` that allocates `buf` before the path passes."""
    for m in range(len(path) - 1, -1, -1):
        field, i = path[m]
        block = P.block_of(ir, path[:m], field)
        if any(isinstance(t, N.Alloc) and t.name is buf for t in block[:i]):
            return m
    return None


def _segment(ir, path, level):
    """Fresh names for the loop variables of the loops around `path` below `level`, and
    their ranges and the conditions of the ifs there, in those names."""
    ren, rel = {}, []
    node = P.stmt_at(ir, path[:level + 1])
    for field, i in path[level + 1:]:
        if isinstance(node, N.For):
            lo, hi = subst(node.lo, ren), subst(node.hi, ren)
            ren[node.iter] = E.var(node.iter.copy())
            rel += [E.le(lo, ren[node.iter]), E.lt(ren[node.iter], hi)]
        elif isinstance(node, N.If):
            cond = subst(node.cond, ren)
            rel.append(cond if field == "body" else E.not_(cond))
        node = getattr(node, field)[i]
    return ren, rel


# ---------------------------------------------------------------- lift_reduce_constant


def lift_reduce_constant(block: Site):
    """`x = 0; for: x += c * e` -> `x = 0; for: x += e; x = c * x`. Checks: that form,
    with one c in every reduction into x's location; c does not depend on the loop;
    nothing else in the loop touches the location; every operation stays in x's
    precision (integers: both factors of x's type)."""
    prim = block.prim
    stmts = block.stmts()
    if len(stmts) != 2:
        raise refuse(prim, block, f"expected a block of two statements (`x = 0.0` and a "
                     f"loop), got {len(stmts)}")
    s1, loop = stmts
    if not (isinstance(s1, N.Assign) and isinstance(s1.rhs, N.Const) and s1.rhs.val == 0):
        raise refuse(prim, s1, "the first statement must set the accumulator to zero "
                     "(`x = 0.0`)")
    if not isinstance(loop, N.For):
        raise refuse(prim, loop, "the second statement must be a loop")
    facts = facts_at(block)
    inner = more_facts(facts, E.le(loop.lo, E.var(loop.iter)),
                       E.lt(E.var(loop.iter), loop.hi))
    found: list = []
    masked = _scan_reduces(loop.body, s1, inner, found, mask=True)
    if not found:
        raise refuse(prim, loop, f"found no reduction `{_lhs(s1)} += c * e` in the loop")
    c = _common_factor(prim, s1, found)
    _check_invariant(prim, block, s1, loop, c)
    write = _write_of(block, s1)
    acc = accesses_at(block.item(1), (loop.with_(body=masked),))
    hit = E.first_conflict([write], [a for a in acc if a.buf is write.buf], facts)
    if hit:
        raise refuse(prim, loop, f"the loop also {hit[1].describe()}{_at(hit[1])}, which may be "
                     f"the accumulator {_lhs(s1)}: scaling the sum afterwards would change "
                     "the result")
    # integers: products of the accumulator's type distribute exactly (modulo 2^32)
    if _is_int_data(s1.type) and not all(_of_type(f.rhs.lhs, s1.type) and
                                         _of_type(f.rhs.rhs, s1.type) for f in found):
        raise refuse(prim, loop, f"{_lhs(s1)} holds {s1.type}, so each product is converted "
                     "before it is added; both factors must already be of that type")
    for f in found:  # distribute within the accumulator's precision only
        _check_products(prim, s1, f)
    body = _scan_reduces(loop.body, s1, inner, [], mask=False)
    scaled = N.Assign(s1.name, s1.type, s1.idx,
                      _typed_binop("*", c, N.Read(s1.name, s1.idx, s1.type, s1.srcinfo),
                                   s1.srcinfo), s1.srcinfo)
    return apply(block, block.replaced((s1, loop.with_(body=body), scaled)))


def _check_products(prim, s1, f) -> None:
    """`x += c * e` -> `x += e; x = c * x` keeps every operation in x's precision: the
    product, the sum of e and the scaling (floats reassociate within one precision)."""
    c, e, t = f.rhs.lhs.type, f.rhs.rhs.type, s1.type
    for what, typ in ((expr_str(f.rhs), T.join_real(c, e)),
                      (f"{_lhs(s1)} + {expr_str(f.rhs.rhs)}", T.join_real(t, e)),
                      (f"{expr_str(f.rhs.lhs)} * {_lhs(s1)}", T.join_real(c, t))):
        if arith_type(typ) != arith_type(t):
            raise refuse(prim, f, f"'{what}' would be computed in {_computed(typ)}, but "
                         f"{_lhs(s1)} holds {t}: lifting the factor would change the "
                         "precision of the products or of the sum, not only the order of "
                         "roundings", "make the factors' types match the accumulator's first")


def _scan_reduces(stmts, s1, facts, found: list, *, mask: bool) -> tuple:
    """The reductions into s1's location in `stmts` (appended to `found`), and `stmts`
    with each of them either stripped of its factor (`x += e`) or, with mask, turned
    into a reduction into a dummy buffer (so only its right-hand side's reads remain)."""
    out = []
    for t in stmts:
        match t:
            case N.For():
                i = E.var(t.iter)
                inner = more_facts(facts, E.le(t.lo, i), E.lt(i, t.hi))
                t = t.with_(body=_scan_reduces(t.body, s1, inner, found, mask=mask))
            case N.If():
                yes, no = more_facts(facts, t.cond), more_facts(facts, E.not_(t.cond))
                t = t.with_(body=_scan_reduces(t.body, s1, yes, found, mask=mask),
                            orelse=_scan_reduces(t.orelse, s1, no, found, mask=mask))
            case N.Reduce() if t.name is s1.name and _same_idx(facts, t.idx, s1.idx):
                found.append(t)
                if mask:
                    t = t.with_(name=Sym("_masked"))
                elif isinstance(t.rhs, N.BinOp) and t.rhs.op == "*":
                    t = t.with_(rhs=t.rhs.rhs)
        out.append(t)
    return tuple(out)


def _common_factor(prim, s1, found) -> N.Expr:
    for t in found:
        if not (isinstance(t.rhs, N.BinOp) and t.rhs.op == "*"):
            raise refuse(prim, t, f"'{stmt_str(t)}' is not of the form "
                         f"`{_lhs(s1)} += c * e`")
    c = found[0].rhs.lhs
    for t in found[1:]:
        if t.rhs.lhs != c:
            raise refuse(prim, t, f"the reductions into {_lhs(s1)} scale by different "
                         f"constants: '{expr_str(c)}' and '{expr_str(t.rhs.lhs)}'")
    return c


def _check_invariant(prim, block, s1, loop, c) -> None:
    bound, _ = stmt_syms(loop.body)
    inside = (bound | {loop.iter}) & free_syms(c)
    if inside:
        name = min(x.name for x in inside)
        raise refuse(prim, loop, f"the constant '{expr_str(c)}' depends on '{name}', which "
                     "is defined inside the loop")
    acc = accesses_at(block.item(1), (loop,))
    hit = E.first_conflict(E.writes(acc), _reads_of(block.item(1), c), facts_at(block))
    if hit:
        raise refuse(prim, loop, f"the loop {hit[0].describe()}{_at(hit[0])}, and the constant "
                     f"'{expr_str(c)}' {hit[1].describe()}: it may change inside the loop")
