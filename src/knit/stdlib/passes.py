"""Exo 1.0's higher-level scheduling library, the part the rest builds on (knit.stdlib.
vectorizing and knit.stdlib.loop_schedules import it; knit.stdlib.stdlib, Exo's path,
re-exports all three): written anew on knit's public primitives, each function a
sequence of checked primitives, so exactly as safe as they are.

Here: the combinators (attempt, apply, predicate, make_pass, repeate); expr_to_string;
bind_and_set_expr, parallelize_and_lift_alloc, parallelize_allocs; dce, round_loop,
fma_rule, hoist_stmt, hoist_from_loop, cleanup, unroll_loops, reorder_stmt_forward and
_backwards, divide_loop_, interleave_outer_loop_with_inner_loop, tile_loops,
auto_stage_mem, stage_mem_, lift_rc, abs_rule, inline_copies, cse and
ordered_stage_expr.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from knit import DRAM, Procedure  # noqa: F401
from knit.API_cursors import (
    AllocCursor,
    BinaryOpCursor,
    BlockCursor,
    Cursor,
    ExprCursor,
    ExternFunctionCursor,
    ForCursor,
    IfCursor,
    InvalidCursor,
    InvalidCursorError,
    LiteralCursor,
    ReadConfigCursor,
    ReadCursor,
    StmtCursor,
    UnaryMinusCursor,
)
from knit.errors import SchedulingError
from knit.stdlib.inspection import (
    get_declaration,
    get_distance,
    get_enclosing_stmt,
    get_parents,
    get_unique_names,
    is_access,
    is_add,
    is_loop,
    is_loop_bounds_const,
    is_mul,
    lrn,
    lrn_stmts,
    nlr_stmts,
)
from knit.stdlib.scheduling import (
    bind_expr,
    delete_pass,
    divide_loop,
    eliminate_dead_code,
    expand_dim,
    fission,
    inline_assign,
    lift_alloc,
    mult_loops,
    remove_loop,
    reorder_loops,
    reorder_stmts,
    set_memory,
    set_precision,
    simplify,
    stage_mem,
    unroll_loop,
)

# ---------------------------------------------------------------- inspection


def expr_to_string(expr, subst=None) -> str:
    """An expression cursor as fully parenthesised source text (names in `subst`
    replaced by the text given)."""
    subst = subst or {}

    def lst(items):
        parts = [expr_to_string(i, subst) for i in items]
        return "[" + ", ".join(parts) + "]" if parts else ""

    if isinstance(expr, (list, tuple)):
        return lst(expr)
    if isinstance(expr, ReadCursor):
        if expr.name() in subst:
            return f"({subst[expr.name()]})"
        return f"({expr.name()}{lst(expr.idx())})"
    if isinstance(expr, LiteralCursor):
        return f"({expr.value()})"
    if isinstance(expr, UnaryMinusCursor):
        return f"(-{expr_to_string(expr.arg(), subst)})"
    if isinstance(expr, BinaryOpCursor):
        return f"({expr_to_string(expr.lhs(), subst)}{expr.op()}" \
               f"{expr_to_string(expr.rhs(), subst)})"
    if isinstance(expr, ExternFunctionCursor):
        return f"({expr.name()}({lst(expr.args())[1:-1]}))"
    if isinstance(expr, ReadConfigCursor):
        raise SchedulingError("expr_to_string: config reads are not supported")
    raise SchedulingError(f"expr_to_string: cannot print {expr!r}")


# ---------------------------------------------------------------- allocations


class Unpackable:
    """A dataclass of cursors that unpacks like a tuple, its fields in order (Exo's
    stdlib results: `outer, inner, tail = divide_loop_(..., rc=True)`)."""

    def __iter__(self):
        return (getattr(self, f.name) for f in fields(self))


@dataclass
class bind_and_set_expr_cursors:
    alloc: AllocCursor
    bound_expr: ExprCursor
    expr_reads: object


def _precision(typ) -> str:
    base = typ.basetype() if hasattr(typ, "basetype") else typ
    return str(base) if not hasattr(base, "name") or isinstance(base.name, str) else \
        base.name


def bind_and_set_expr(proc, exprs, precision, memory, new_name=None, rc=False):
    """bind_expr into a new scalar, then give it `precision` and `memory`."""
    if new_name is None:
        new_name = next(get_unique_names(proc))
    first = exprs if isinstance(exprs, ExprCursor) else exprs[0]
    stmt = get_enclosing_stmt(proc, first)
    proc = bind_expr(proc, exprs, new_name)
    alloc = get_declaration(proc, proc.forward(stmt), new_name)
    proc = set_precision(proc, alloc, _precision(precision))
    proc = set_memory(proc, proc.forward(alloc), memory)
    if not rc:
        return proc
    alloc = proc.forward(alloc)
    return proc, bind_and_set_expr_cursors(alloc, alloc.next().rhs(), exprs)


def parallelize_and_lift_alloc(proc, alloc_cursor, n_lifts=1):
    """Lift an allocation out of n_lifts loops, giving it one more dimension per loop
    (indexed by the loop variable) so that each iteration keeps its own copy."""
    for _ in range(n_lifts):
        alloc_cursor = proc.forward(alloc_cursor)
        scope = alloc_cursor.parent()
        if isinstance(scope, ForCursor):
            proc = expand_dim(proc, alloc_cursor, expr_to_string(scope.hi()), scope.name())
        proc = lift_alloc(proc, proc.forward(alloc_cursor))
    return proc


def parallelize_allocs(proc, cursor):
    """parallelize_and_lift_alloc every allocation under a loop or if up to it."""
    if not isinstance(cursor, (ForCursor, IfCursor)):
        raise SchedulingError(f"parallelize_allocs: expected a loop or if, got "
                              f"{type(cursor).__name__}")
    allocs = [s for s in nlr_stmts(proc, cursor) if isinstance(s, AllocCursor)]
    for a in allocs:
        proc = parallelize_and_lift_alloc(proc, a, get_distance(proc, a, cursor))
    return proc


# ---------------------------------------------------------------- combinators

_EXO_ERRORS = (ValueError, TypeError, SchedulingError, InvalidCursorError)


def attempt(op, errs=_EXO_ERRORS):
    """`attempt(op)(p, ...)`: op's result, or p unchanged when op raises one of errs;
    with rs=True, also whether op succeeded."""
    errs = tuple(errs)

    def rewrite(p, *args, rs=False, **kwargs):
        try:
            res = op(p, *args, **kwargs), True
        except errs:
            res = p, False
        return res if rs else res[0]

    return rewrite


def apply(op):
    """`apply(op)(proc, cursors, ...)`: op applied at each cursor in turn."""

    def rewrite(proc, cursors, *args, **kwargs):
        for c in cursors:
            proc = op(proc, c, *args, **kwargs)
        return proc

    return rewrite


def predicate(op, pred):
    """op, applied only where pred(proc, ...) holds."""

    def rewrite(proc, *args, **kwargs):
        return op(proc, *args, **kwargs) if pred(proc, *args, **kwargs) else proc

    return rewrite


def make_pass(op, trav_start=nlr_stmts):
    """op applied at every statement of a block (default: the whole procedure), in the
    order trav_start gives (cursors of the original, forwarded as the pass rewrites)."""

    def rewrite(proc, block=InvalidCursor(), *args, **kwargs):
        return apply(op)(proc, list(trav_start(proc, block)), *args, **kwargs)

    return rewrite


def repeate(op):
    """op applied until it fails (Exo's spelling)."""
    op_attempt = attempt(op)

    def rewrite(p, *args, **kwargs):
        success = True
        while success:
            p, success = op_attempt(p, *args, rs=True, **kwargs)
        return p

    return rewrite


# ---------------------------------------------------------------- simple passes


def _dce_if(proc, s):
    s = proc.forward(s)
    if not isinstance(s, IfCursor):
        # Exo's dce, as released, ends up trying only if statements (its loop case
        # raises and is skipped); loops are left as they are here too
        return proc
    return eliminate_dead_code(proc, s)


dce = make_pass(attempt(_dce_if))
dce.__doc__ = """Remove the branches of `if`s that can never run (eliminate_dead_code at
every if of the block, default: the whole procedure, where it applies)."""


def round_loop(proc, loop, factor, up=True):
    """Make a loop's trip count a multiple of factor: up rounds up (the extra iterations
    guarded by an if), down drops the remainder into a cut tail loop."""
    proc, (loop, _, _) = divide_loop_(proc, loop, factor, tail="guard" if up else "cut",
                                      rc=True)
    return mult_loops(proc, loop, loop.name()[:-1])


def fma_rule(proc, expr):
    """[a, b, c] for an expression `a * b + c` or `a + b * c`, else None (a rule for
    vectorize's stage_compute)."""
    expr = proc.forward(expr)
    if is_add(proc, expr):
        if is_mul(proc, expr.lhs()):
            return [expr.lhs().lhs(), expr.lhs().rhs(), expr.rhs()]
        if is_mul(proc, expr.rhs()):
            return [expr.lhs(), expr.rhs().lhs(), expr.rhs().rhs()]
    return None


def unroll_loops(proc, block=InvalidCursor(), threshold=None):
    """Unroll every loop with literal bounds (at most `threshold` iterations if given),
    innermost first."""

    def small_const_loop(proc, s):
        s = proc.forward(s)
        if not (is_loop(proc, s) and is_loop_bounds_const(proc, s)):
            return False
        return threshold is None or s.hi().value() - s.lo().value() <= threshold

    return make_pass(predicate(unroll_loop, small_const_loop), lrn_stmts)(proc, block)


def cleanup(proc):
    """simplify, unroll one-iteration loops, dce, and delete `pass` statements."""
    proc = simplify(proc)
    proc = unroll_loops(proc, threshold=1)
    proc = dce(proc)
    try:
        proc.find("pass")
    except SchedulingError:
        return proc
    return delete_pass(proc)


def reorder_stmt_forward(proc, stmt):
    """Swap a statement with the next one."""
    stmt = proc.forward(stmt)
    return reorder_stmts(proc, stmt.as_block().expand(0, 1))


def reorder_stmt_backwards(proc, stmt):
    """Swap a statement with the previous one."""
    stmt = proc.forward(stmt)
    return reorder_stmts(proc, stmt.as_block().expand(1, 0))


# ---------------------------------------------------------------- loops


@dataclass
class divide_loop_cursors(Unpackable):
    outer_loop: ForCursor
    inner_loop: ForCursor
    tail_loop: Cursor


def divide_loop_(proc, loop_cursor, div_const, tail="guard", rc=False):
    """divide_loop naming the new loops `<i>o`/`<i>i`; tail="perfect" divides a loop
    whose trip count is a multiple. With rc, also the (outer, inner, tail) cursors."""
    loop_cursor = proc.forward(loop_cursor)
    name = loop_cursor.name()
    perfect = tail == "perfect"
    if perfect:
        tail = "cut"
    proc = divide_loop(proc, loop_cursor, div_const, (name + "o", name + "i"), tail=tail,
                       perfect=perfect)
    if not rc:
        return proc
    outer = proc.forward(loop_cursor)
    inner = outer.body()[0]
    tail_loop = InvalidCursor() if perfect or tail == "guard" else outer.next()
    return proc, divide_loop_cursors(outer, inner, tail_loop)


@dataclass
class hoist_stmt_cursors(Unpackable):
    allocs: list
    stmt: StmtCursor
    loop: ForCursor


def _names_in(proc, stmt) -> set[str]:
    """The variable names a statement mentions (by its printed text: an
    over-approximation, which only makes hoisting refuse sooner)."""
    import re

    from knit.cursors.internal import text_of

    return set(re.findall(r"[A-Za-z_][A-Za-z_0-9]*", text_of(proc.forward(stmt))))


def hoist_stmt(proc, stmt, rc=False):
    """Move a statement that does not depend on its loop's variable out in front of the
    loop (moving it to the top of the body, lifting the allocations it uses, fission,
    then remove_loop): each step a checked primitive."""
    stmt = proc.forward(stmt)
    if not isinstance(stmt, StmtCursor):
        raise SchedulingError("hoist_stmt: cannot hoist a cursor that is not a statement")
    loop = stmt.parent()
    if not isinstance(loop, ForCursor):
        raise SchedulingError("hoist_stmt: the statement is not within a loop")
    deps = _names_in(proc, stmt)
    if loop.name() in deps:
        raise SchedulingError("hoist_stmt: the statement depends on the loop around it "
                              f"('{loop.name()}')")
    if isinstance(stmt, AllocCursor):
        proc = lift_alloc(proc, stmt)
        return (proc, hoist_stmt_cursors([proc.forward(stmt)], proc.forward(stmt),
                                         proc.forward(loop))) if rc else proc
    allocs = []
    while not isinstance(stmt.prev(), InvalidCursor):
        prev = stmt.prev()
        if isinstance(prev, AllocCursor) and prev.name() in deps:
            proc = lift_alloc(proc, prev)
            allocs.append(prev)
        else:
            proc = reorder_stmts(proc, stmt.expand(1, 0))
        stmt = proc.forward(stmt)
    loop = proc.forward(loop)
    if len(loop.body()) > 1:
        proc = fission(proc, stmt.after())
        stmt = proc.forward(stmt)
        loop = stmt.parent().next()
    proc = remove_loop(proc, stmt.parent())
    if not rc:
        return proc
    return proc, hoist_stmt_cursors([proc.forward(a) for a in allocs],
                                    proc.forward(stmt), proc.forward(loop))


def hoist_from_loop(proc, loop, rc=False):
    """Hoist every statement of a loop's body that can be (hoist_stmt at each, in order,
    skipping allocations and statements that cannot move)."""
    loop = proc.forward(loop)
    if not is_loop(proc, loop):
        raise SchedulingError(f"hoist_from_loop: expected a loop, got {type(loop).__name__}")
    hoisted = []

    def hoist_non_alloc(proc, stmt):
        stmt = proc.forward(stmt)
        if isinstance(stmt, AllocCursor):
            return proc
        proc, cursors = hoist_stmt(proc, stmt, rc=True)
        hoisted.append(cursors)
        return proc

    proc = apply(attempt(hoist_non_alloc))(proc, list(loop.body()))
    if not rc:
        return proc
    return proc, hoisted


def interleave_outer_loop_with_inner_loop(proc, outer_loop_cursor, inner_loop_cursor,
                                          interleave_factor, unroll=(True, True, True)):
    """Divide the outer loop by interleave_factor (unless it already runs that many
    times), lift the allocations of its body out (one copy per iteration), split the
    statements around the inner loop off, and move the divided loop inside the inner
    one; `unroll` says which of (before, the interleaved loop, after) to unroll."""
    outer = proc.forward(outer_loop_cursor)
    inner = proc.forward(inner_loop_cursor)
    hi = outer.hi()
    if isinstance(hi, LiteralCursor) and hi.value() == interleave_factor:
        middle = outer
    else:
        proc = divide_loop(proc, outer, interleave_factor,
                           (outer.name() + "o", outer.name() + "i"), tail="cut")
        middle = proc.forward(outer).body()[0]
    for s in list(middle.body()):
        if isinstance(s, AllocCursor):
            # each iteration of the divided loop keeps its own copy
            proc = parallelize_and_lift_alloc(proc, s)
    proc = simplify(proc)
    inner = proc.forward(inner)
    if not isinstance(inner.prev(), InvalidCursor):
        proc = fission(proc, inner.before())
        inner = proc.forward(inner)
        if unroll[0]:
            proc = unroll_loop(proc, inner.parent().prev())
    inner = proc.forward(inner)
    if not isinstance(inner.next(), InvalidCursor):
        proc = fission(proc, inner.after())
        inner = proc.forward(inner)
        if unroll[2]:
            proc = unroll_loop(proc, inner.parent().next())
    inner = proc.forward(inner)
    proc = reorder_loops(proc, inner.parent())
    if unroll[1]:
        proc = unroll_loop(proc, proc.forward(inner).parent())
    return proc


def tile_loops(proc, loop_tile_pairs, perfect=False):
    """Tile a nest: divide each (loop, size) pair's loop (perfectly when asked or when
    its literal bound is a multiple, else with a cut tail) and interleave so that the
    tile loops come inside the outer ones. Returns (proc, the inner tile loops)."""
    pairs = [(proc.forward(c), t) for c, t in loop_tile_pairs]
    inner_loops = []
    for loop, tile in pairs:
        loop = proc.forward(loop)
        names = (loop.name() + "o", loop.name() + "i")
        hi = loop.hi()
        if perfect or (isinstance(hi, LiteralCursor) and hi.value() % tile == 0):
            proc = divide_loop(proc, loop, tile, names, perfect=True)
        else:
            proc = divide_loop(proc, loop, tile, names, tail="cut")
        inner_loops.append(proc.forward(loop).body()[0])
    for i in range(len(pairs) - 2, -1, -1):
        for j in range(i + 1, len(pairs)):
            proc = interleave_outer_loop_with_inner_loop(proc, inner_loops[i], pairs[j][0],
                                                         pairs[i][1], (False, False, False))
    return proc, [proc.forward(c) for c in inner_loops]


# ---------------------------------------------------------------- staging


@dataclass
class stage_mem_cursors(Unpackable):
    alloc: AllocCursor
    load_stage: Cursor
    block: BlockCursor
    store_stage: Cursor


def stage_mem_(proc, block, buff, new_buff_name, accum=False, rc=False):
    """stage_mem; with rc, also cursors to (the new allocation, the load stage, the
    block, the store stage)."""
    if not isinstance(block, BlockCursor):
        block = proc.forward(block).as_block()
    first, last, n = block[0], block[len(block) - 1], len(block)
    proc = stage_mem(proc, block, buff, new_buff_name, accum)
    if not rc:
        return proc
    first, last = proc.forward(first), proc.forward(last)
    return proc, stage_mem_cursors(first.prev().prev(), first.prev(),
                                   first.as_block().expand(0, n - 1), last.next())


def auto_stage_mem(proc, block, buff, new_buff_name=None, accum=False, rc=False):
    """stage_mem of the smallest window of `buff` that covers the block's accesses:
    each access's index range is computed from the bounds of the loops around it
    inside the block, and each side of each dimension is tightened to a candidate
    bound for which stage_mem succeeds (Exo's algorithm). A scalar is staged whole."""
    if new_buff_name is None:
        new_buff_name = next(get_unique_names(proc))
    if not isinstance(block, BlockCursor):
        block = proc.forward(block).as_block()
    nodes = list(lrn(proc, block))
    loops = [c for c in nodes if isinstance(c, ForCursor)]
    accesses = [c for c in nodes if is_access(proc, c) and c.name() == buff]

    def rng(expr, env):
        if isinstance(expr, BinaryOpCursor):
            lo_l, hi_l = rng(expr.lhs(), env)
            lo_r, hi_r = rng(expr.rhs(), env)
            op = expr.op()
            out = (f"({lo_l}) {op} ({lo_r})", f"({hi_l}) {op} ({hi_r})")
            if op in ("+", "-"):
                return out
            k = expr.rhs() if isinstance(expr.rhs(), LiteralCursor) else expr.lhs()
            if not isinstance(k, LiteralCursor):
                raise SchedulingError(f"auto_stage_mem: cannot bound the index "
                                      f"'{expr}' (a product of two variables)")
            return out[::-1] if k.value() < 0 else out
        if isinstance(expr, UnaryMinusCursor):
            lo, hi = rng(expr.arg(), env)
            return (f"-({hi})", f"-({lo})")
        if isinstance(expr, ReadCursor):
            return env.get(expr.name(), (expr.name(), expr.name()))
        if isinstance(expr, LiteralCursor):
            return (f"{expr.value()}", f"{expr.value()}")
        raise SchedulingError(f"auto_stage_mem: cannot bound the index '{expr}'")

    def window_of(access):
        env = {}
        for loop in reversed([p for p in get_parents(proc, access) if p in loops]):
            env[loop.name()] = (rng(loop.lo(), env)[0], rng(loop.hi(), env)[1])
        return [rng(i, env) for i in access.idx()]

    def text(window):
        dims = ",".join(lo if lo == hi else f"{lo}:{hi}" for lo, hi in window)
        return f"{buff}[{dims}]" if dims else buff

    decl = get_declaration(proc, block[0], buff)
    if not decl.is_tensor():
        return stage_mem_(proc, block, buff, new_buff_name, accum, rc=rc)
    window = [["0", _shape_text(d)] for d in decl.shape()]
    candidates = [(set(), set()) for _ in window]
    for w in map(window_of, accesses):
        for i, (lo, hi) in enumerate(w):
            candidates[i][0].add(lo)
            candidates[i][1].add(hi)
    for i, dim in enumerate(window):
        for side in (0, 1):
            if len(candidates[i][side]) == 1:
                dim[side] = next(iter(candidates[i][side]))
                continue
            for cand in sorted(candidates[i][side]):
                old, dim[side] = dim[side], cand
                try:
                    stage_mem(proc, block, text(window), new_buff_name, accum)
                except SchedulingError:
                    dim[side] = old
    return stage_mem_(proc, block, text(window), new_buff_name, accum, rc=rc)


def _shape_text(dim) -> str:
    return dim if isinstance(dim, str) else str(dim)


def lift_rc(op, attr):
    """`op` with rc=True, returning (proc, the one cursor named `attr`)."""

    def rewrite(*args, **kwargs):
        proc, cursors = op(*args, **kwargs, rc=True)
        return proc, getattr(cursors, attr)

    return rewrite


def abs_rule(proc, expr):
    """[[x, x, x]] for `select(0.0, x, x, -x)` (an absolute value), else None (a rule
    for vectorize's stage_compute)."""
    from knit.stdlib.inspection import are_exprs_equal, is_literal, is_select, is_unary_minus

    expr = proc.forward(expr)
    if is_select(proc, expr):
        a = expr.args()
        if is_literal(proc, a[0], 0.0) and is_unary_minus(proc, a[3]) and \
                are_exprs_equal(proc, a[1], a[2]) and are_exprs_equal(proc, a[1], a[3].arg()):
            return [[a[1], a[2], a[3].arg()]]
    return None


def _inline_copy(proc, s):
    from knit.stdlib.inspection import is_copy

    return inline_assign(proc, s) if is_copy(proc, s) else proc


inline_copies = make_pass(attempt(_inline_copy))
inline_copies.__doc__ = "inline_assign every copy between buffers of the same memory."


def cse(proc, block, precision):
    """Common subexpressions of a block: reads of the same buffer element bound once
    (into a `precision` scalar), and buffers accessed at the same index both read and
    written staged once (auto_stage_mem) around the statements that access them."""
    from knit.stdlib.inspection import get_bounding_block, is_read

    if not isinstance(block, BlockCursor):
        block = proc.forward(block).as_block()
    by_buf: dict = {}
    for c in lrn(proc, block):
        if is_access(proc, c) and (isinstance(c, StmtCursor) or c.type().is_numeric()):
            by_buf.setdefault(c.name(), {}).setdefault(expr_to_string(c.idx()), []).append(c)
    for buff, by_idx in by_buf.items():
        for accesses in by_idx.values():
            if len(accesses) > 1:
                if all(is_read(proc, c) for c in accesses):
                    proc = bind_and_set_expr(proc, accesses, precision, DRAM)
                else:
                    proc = auto_stage_mem(proc, get_bounding_block(proc, accesses), buff)
    return proc


def ordered_stage_expr(proc, expr_cursors, new_buff_name, precision, n_lifts=1):
    """Bind the expressions to a new buffer computed ahead of the statement that uses
    them: bind_expr, then `n_lifts` times lift the buffer's allocation out of the loop
    around it (with a dimension per loop its value depends on) and move its assignment
    to the front of that loop and fission it off; loops the staging no longer needs are
    removed, the buffer gets `precision`, and ifs in the staging nest are lifted above
    its loops. Each step is a checked primitive."""
    from knit.API_cursors import AssignCursor, ExprCursor
    from knit.stdlib.inspection import get_enclosing_stmt, get_symbols
    from knit.stdlib.scheduling import bind_expr, lift_scope, set_precision

    if not isinstance(expr_cursors, list):
        expr_cursors = [expr_cursors]
    if not all(isinstance(c, ExprCursor) for c in expr_cursors):
        raise SchedulingError("ordered_stage_expr: expected expression cursors")
    expr_cursors = [proc.forward(c) for c in expr_cursors]
    stmt = get_enclosing_stmt(proc, expr_cursors[0])
    proc = bind_expr(proc, expr_cursors, new_buff_name)
    assign = proc.forward(stmt).prev()
    alloc = assign.prev()
    if not (isinstance(assign, AssignCursor) and isinstance(alloc, AllocCursor)):
        raise SchedulingError("ordered_stage_expr: bind_expr did not leave an "
                              "allocation and an assignment before the statement")
    deps = set(get_symbols(proc, assign.rhs()))

    def hoist_as_loop(proc, s):
        s = proc.forward(s)
        while not isinstance(s.prev(), InvalidCursor):
            proc = reorder_stmts(proc, s.expand(1, 0))
            s = proc.forward(s)
        return fission(proc, s.after())

    anchor = assign
    for _ in range(n_lifts):
        parent = proc.forward(anchor).parent()
        if not isinstance(parent, ForCursor):
            raise SchedulingError("ordered_stage_expr: can only lift out of loops")
        if parent.name() in deps:
            proc = parallelize_and_lift_alloc(proc, alloc)
        else:
            proc = lift_alloc(proc, alloc)
        proc = hoist_as_loop(proc, anchor)
        anchor = proc.forward(anchor).parent()

    def try_removing_loops(proc, loop):
        child = loop.body()[0]
        if isinstance(child, ForCursor):
            proc = try_removing_loops(proc, child)
        try:
            return remove_loop(proc, proc.forward(loop))
        except SchedulingError:
            return proc

    alloc = proc.forward(alloc)
    proc = try_removing_loops(proc, alloc.next())
    alloc = proc.forward(alloc)
    proc = set_precision(proc, alloc, precision)

    def lift_all_ifs(proc, scope, depth=0):
        if not isinstance(scope, (ForCursor, IfCursor)):
            return proc  # a lone assignment: nothing to lift (Exo's raises here)
        if isinstance(scope, IfCursor):
            for _ in range(depth):
                proc = lift_scope(proc, proc.forward(scope))
        child = proc.forward(scope).body()[0]
        if isinstance(child, (ForCursor, IfCursor)):
            proc = lift_all_ifs(proc, child, depth + 1)
        return proc

    return lift_all_ifs(proc, proc.forward(alloc).next())
