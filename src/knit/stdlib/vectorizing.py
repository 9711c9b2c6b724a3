"""Exo 1.0's vectorize and what it is built from (parallelize_reduction, stage_compute,
fission_into_singles, replace_all_stmts, ...), written anew on knit's public
primitives; re-exported by `knit.stdlib.stdlib`. Each step is a checked primitive, so
a vectorized procedure is proven equal to the original as far as those primitives
prove it (instructions replace only code their bodies unify with).
"""

from __future__ import annotations

from dataclasses import dataclass

from knit.API_cursors import (
    AllocCursor,
    AssignCursor,
    BinaryOpCursor,
    CallCursor,
    ForCursor,
    IfCursor,
    InvalidCursor,
    InvalidCursorError,
    ReadCursor,
    ReduceCursor,
)
from knit.errors import SchedulingError
from knit.memory import DRAM
from knit.stdlib.inspection import (  # get_depth, get_lca, get_distance: re-exported
    get_declaration,
    get_depth,
    get_distance,
    get_enclosing_loop,
    get_index_in_body,
    get_lca,
    get_parents,
    get_symbols,
    is_access,
    is_end_of_body,
    is_loop,
    is_reduce,
    lrn,
    lrn_stmts,
    nlr_stmts,
)
from knit.stdlib.passes import (  # expr_to_string ... parallelize_allocs: re-exported
    Unpackable,
    apply,
    attempt,
    auto_stage_mem,
    bind_and_set_expr,
    dce,
    divide_loop_,
    expr_to_string,
    make_pass,
    parallelize_allocs,
    parallelize_and_lift_alloc,
)
from knit.stdlib.scheduling import (
    cut_loop,
    delete_buffer,
    eliminate_dead_code,
    fission,
    fold_into_reduce,
    inline_assign,
    merge_writes,
    mult_loops,
    reorder_loops,
    replace,
    set_memory,
    simplify,
    unroll_loop,
)

__all__ = ["expr_to_string", "get_depth", "get_lca", "get_distance",
           "bind_and_set_expr", "parallelize_and_lift_alloc", "parallelize_allocs",
           "parallelize_reduction", "parallelize_all_reductions", "bound_loop_by_if",
           "undo_divide_and_guard_loop", "fission_into_singles", "unfold_reduce",
           "stage_expr_into_memory", "stage_compute", "dealias", "dealiasing_pass",
           "check_call_site", "checked_replace", "replace_all_stmts",
           "vectorize_predicate_tail", "vectorize", "vectorize_cursors"]


# ---------------------------------------------------------------- reductions


def bound_loop_by_if(proc, loop):
    """`for i in seq(lo, hi): if i < e: s` -> `for i in seq(lo, lo + e): s` (cut, then
    the dead parts removed)."""
    loop = proc.forward(loop)
    err = ("bound_loop_by_if: expected a loop of the form "
           "`for iter in seq(lo, hi): if iter < e: ...`")
    if len(loop.body()) != 1 or not isinstance(loop.body()[0], IfCursor):
        raise SchedulingError(err)
    if_c = loop.body()[0]
    cond = if_c.cond()
    if not isinstance(if_c.orelse(), InvalidCursor) or \
            not isinstance(cond, BinaryOpCursor) or cond.op() != "<" or \
            not isinstance(cond.lhs(), ReadCursor) or cond.lhs().name() != loop.name():
        raise SchedulingError(err)
    proc = cut_loop(proc, loop, f"{expr_to_string(loop.lo())} + {expr_to_string(cond.rhs())}")
    loop1 = proc.forward(loop)
    loop2 = loop1.next()
    proc = eliminate_dead_code(proc, loop1.body()[0])
    try:
        return eliminate_dead_code(proc, proc.forward(loop2))
    except SchedulingError:
        return eliminate_dead_code(proc, proc.forward(loop2).body()[0])


def undo_divide_and_guard_loop(proc, loop):
    loop = proc.forward(loop)
    proc = simplify(mult_loops(proc, loop, loop.name()[:-1]))
    return bound_loop_by_if(proc, loop)


def parallelize_reduction(proc, reduce_stmt, factor=None, memory=DRAM, nth_loop=1,
                          unroll=False):
    """Turn a reduction over the nth loop around it into `factor` (or the loop's trip
    count) partial sums in `memory`, combined after the loop."""
    if isinstance(unroll, bool):
        unroll = (unroll, unroll)
    reduce_stmt = proc.forward(reduce_stmt)
    if not is_reduce(proc, reduce_stmt):
        raise TypeError("reduce_stmt must be a ReduceCursor")
    reduce_loop = get_enclosing_loop(proc, reduce_stmt, nth_loop)
    if reduce_loop.name() in set(get_symbols(proc, reduce_stmt.idx())):
        raise SchedulingError("parallelize_reduction: the statement isn't a reduction "
                              "over the specified loop")
    if factor is not None:
        proc, (reduce_loop, _, _) = divide_loop_(proc, reduce_loop, factor,
                                                    tail="guard", rc=True)
        proc = simplify(proc)
    proc = reorder_loops(proc, reduce_loop)
    proc = simplify(auto_stage_mem(proc, reduce_loop, reduce_stmt.name(), accum=True))
    reduce_loop = proc.forward(reduce_loop)
    proc = set_memory(proc, reduce_loop.prev().prev(), memory)
    reduce_loop = proc.forward(reduce_loop)
    proc = parallelize_and_lift_alloc(proc, reduce_loop.prev().prev())
    proc = fission(proc, proc.forward(reduce_loop).before())
    proc = fission(proc, proc.forward(reduce_loop).after())
    reduce_loop = proc.forward(reduce_loop)
    proc = reorder_loops(proc, reduce_loop.parent())
    reduce_loop = proc.forward(reduce_loop)
    if unroll[0]:
        proc = unroll_loop(proc, reduce_loop.prev())
    if unroll[1]:
        proc = unroll_loop(proc, proc.forward(reduce_loop).next())
    if factor is not None:
        proc = undo_divide_and_guard_loop(proc, reduce_loop)
    return proc


def parallelize_all_reductions(proc, loop, factor=None, memory=DRAM, unroll=False):
    """parallelize_reduction for every reduction in the loop's body over that loop."""
    loop = proc.forward(loop)

    def rewrite(proc, s):
        s = proc.forward(s)
        target = proc.forward(loop)
        nth = 0
        for parent in get_parents(proc, s):
            if is_loop(proc, parent):
                nth += 1
            if parent == target:
                break
        return parallelize_reduction(proc, s, factor, memory, nth, unroll)

    return make_pass(attempt(rewrite))(proc, loop.body())


def fission_into_singles(proc, cursor):
    """Fission a loop or if nest so that each innermost statement gets its own copy of
    the loops and ifs around it (allocations first lifted out with a copy per
    iteration)."""
    if not isinstance(cursor, (ForCursor, IfCursor)):
        raise SchedulingError(f"fission_into_singles: expected a loop or if, got "
                              f"{type(cursor).__name__}")
    cursor = proc.forward(cursor)

    def dfs(proc, cursor, n_lifts=0):
        cursor = proc.forward(cursor)
        if n_lifts and not is_end_of_body(proc, cursor):
            proc = fission(proc, cursor.after(), n_lifts)
        cursor = proc.forward(cursor)
        children = []
        if isinstance(cursor, ForCursor):
            children = list(cursor.body())
        elif isinstance(cursor, IfCursor):
            children = list(cursor.body())
            if not isinstance(cursor.orelse(), InvalidCursor):
                children += list(cursor.orelse())
        return apply(dfs)(proc, children, n_lifts + 1)

    proc = parallelize_allocs(proc, cursor)
    return dfs(proc, cursor)


# ---------------------------------------------------------------- staging compute


def unfold_reduce(proc, reduce):
    """`x += e` -> `t = x; t = t + e ... x = t` (staged, merged and inlined) so that
    the reduction becomes an assignment of one expression."""
    if not isinstance(reduce, ReduceCursor):
        raise SchedulingError("unfold_reduce: expected a reduce cursor")
    proc = auto_stage_mem(proc, reduce, reduce.name())
    reduce = proc.forward(reduce)
    alloc = reduce.prev().prev()
    proc = merge_writes(proc, reduce.as_block().expand(1, 0))
    assign = proc.forward(alloc).next()
    proc = inline_assign(proc, assign)
    return delete_buffer(proc, proc.forward(alloc))


def stage_expr_into_memory(proc, exprs, precision, memory):
    """Bind an expression into a scalar of `memory`, unless it is already assigned to,
    or read from, a buffer there. Returns (proc, the expression's cursor)."""
    if not isinstance(exprs, list):
        exprs = [exprs]
    expr = proc.forward(exprs[0])
    parent = expr.parent()
    if isinstance(parent, AssignCursor) and \
            get_declaration(proc, expr, parent.name()).mem() is memory:
        return proc, expr
    if isinstance(expr, ReadCursor) and \
            get_declaration(proc, expr, expr.name()).mem() is memory:
        return proc, expr
    proc, cursors = bind_and_set_expr(proc, exprs, precision, memory, rc=True)
    return proc, cursors.bound_expr


def _numeric_children(proc, expr):
    from knit.stdlib.inspection import expr_children

    return [c for c in expr_children(proc.forward(expr)) if c.type().is_numeric()]


def stage_compute(proc, block=InvalidCursor(), precision="R", memory=DRAM,
                  children_ops=None):
    """Stage every data expression of the block into scalars of `memory` (innermost
    first), so that each statement becomes one operation an instruction can replace;
    `children_ops` are rules (like fma_rule) that pick which sub-expressions one
    operation takes."""
    if children_ops is None:
        children_ops = []
    if not isinstance(children_ops, list):
        raise SchedulingError("stage_compute: expected children_ops to be a list")
    ops = list(children_ops) + [_numeric_children]

    def stage(proc, exprs):
        proc, expr = stage_expr_into_memory(proc, exprs, precision, memory)
        children = None
        for op in ops:
            children = op(proc, expr)
            if children:
                break
        return apply(stage)(proc, children or [])

    allocs = [s for s in nlr_stmts(proc, block) if isinstance(s, AllocCursor)]
    proc = apply(set_memory)(proc, allocs, memory)
    proc = make_pass(attempt(unfold_reduce))(proc, block)
    assigns = [s for s in lrn_stmts(proc, block)
               if isinstance(s, AssignCursor) and not isinstance(s, ReduceCursor)]
    proc = apply(stage)(proc, [a.rhs() for a in assigns])
    proc = make_pass(attempt(fold_into_reduce))(proc, block)
    return dealiasing_pass(proc, block)


def dealias(proc, stmt):
    """Bind all but the last read of each buffer an assignment's right-hand side reads
    twice (and the whole right-hand side when it reads its own target)."""
    stmt = proc.forward(stmt)
    if not isinstance(stmt, (AssignCursor, ReduceCursor)):
        raise TypeError("stmt must be an assign or reduce")
    accesses = [c for c in lrn(proc, stmt.rhs())
                if is_access(proc, c) and c.type().is_numeric()]
    by_buf: dict = {}
    for a in accesses:
        by_buf.setdefault(a.name(), []).append(a)
    for name, reads in by_buf.items():
        for a in reads[:-1]:
            decl = get_declaration(proc, stmt, name)
            proc = bind_and_set_expr(proc, proc.forward(a), decl.type(), decl.mem())
    stmt = proc.forward(stmt)
    if stmt.name() in by_buf:
        decl = get_declaration(proc, stmt, stmt.name())
        proc = bind_and_set_expr(proc, stmt.rhs(), decl.type(), decl.mem())
    return proc


def dealiasing_pass(proc, block=InvalidCursor()):
    return make_pass(attempt(dealias, errs=(TypeError,)))(proc, block)


# ---------------------------------------------------------------- instructions


def check_call_site(proc, call_cursor) -> bool:
    """Whether each data argument of a call lives in (a subclass of) the memory, and
    has the precision, the callee's parameter declares."""
    if not isinstance(call_cursor, CallCursor):
        raise TypeError("call_cursor must be a CallCursor")
    for arg, par in zip(call_cursor.args(), call_cursor.subproc().args()):
        if not par.type().is_numeric() or par.type().is_control():
            continue
        name = arg.name()
        decl = get_declaration(proc, call_cursor, name)
        if not issubclass(decl.mem(), par.mem()) or \
                decl.type().basetype() != par.type().basetype():
            return False
    return True


def checked_replace(proc, stmt, subproc, quiet=False):
    """replace, refused unless the call it makes passes check_call_site."""
    stmt = proc.forward(stmt)
    parent = stmt.parent()
    index = get_index_in_body(proc, stmt)
    in_else = isinstance(parent, IfCursor) and \
        not isinstance(parent.orelse(), InvalidCursor) and \
        index < len(parent.orelse()) and parent.orelse()[index] == stmt
    try:
        proc = replace(proc, stmt, subproc, quiet=quiet)
    except SchedulingError as e:
        raise SchedulingError(f"checked_replace: failed to replace: {e}") from e
    if isinstance(parent, InvalidCursor):
        call = proc.body()[index]
    else:
        parent = proc.forward(parent)
        call = (parent.orelse() if in_else else parent.body())[index]
    if not check_call_site(proc, call):
        raise SchedulingError("checked_replace: call site inconsistency (memory or "
                              "precision of an argument)")
    return proc


def replace_all_stmts(proc, instructions):
    """Replace each statement (in order) by a call to the first of `instructions` whose
    body it matches and whose parameters its arguments fit."""
    if not isinstance(instructions, list):
        instructions = [instructions]
    for stmt in list(nlr_stmts(proc)):
        try:
            stmt = proc.forward(stmt)
        except InvalidCursorError:
            continue
        if isinstance(stmt, InvalidCursor):
            continue
        for ins in instructions:
            try:
                proc = checked_replace(proc, stmt, ins, quiet=True)
                break
            except SchedulingError:
                pass
    return proc


# ---------------------------------------------------------------- vectorize


@dataclass
class vectorize_cursors(Unpackable):
    loop: ForCursor


def vectorize_predicate_tail(proc, loop, vec_width, precision, mem_type, instructions=(),
                             rules=(), tail="cut_and_predicate", rc=False):
    proc = parallelize_all_reductions(proc, loop, factor=vec_width, memory=mem_type)
    proc = stage_compute(proc, loop, precision, mem_type, list(rules))
    proc, (outer, inner, _) = divide_loop_(proc, loop, vec_width, rc=True)
    proc = simplify(proc)
    proc = fission_into_singles(proc, inner)
    if tail == "cut_and_predicate":
        outer = proc.forward(outer)
        proc = attempt(cut_loop)(proc, outer, f"{expr_to_string(outer.hi())} - 1")
        outer = proc.forward(outer)
        proc = dce(proc, outer.body())
    proc = replace_all_stmts(proc, list(instructions))
    if not rc:
        return proc
    return proc, vectorize_cursors(proc.forward(outer))


def vectorize(proc, loop, vec_width, precision, mem_type, instructions=(), rules=(),
              tail="cut_and_predicate", rc=False):
    """Vectorize a loop by vec_width: reductions get vec_width partial sums, every
    expression is staged into `mem_type` scalars (rules like fma_rule choose fused
    operations), the loop is divided and fissioned so each statement is one vector
    operation, and `instructions` replace them. tail: "cut_and_predicate"/"predicate"
    (guarded tail iterations for masked instructions), or any divide_loop tail."""
    if tail in ("predicate", "cut_and_predicate"):
        return vectorize_predicate_tail(proc, loop, vec_width, precision, mem_type,
                                        instructions, rules, tail, rc)
    proc, (outer, inner, _) = divide_loop_(proc, loop, vec_width, tail=tail, rc=True)
    proc = parallelize_all_reductions(proc, outer, memory=mem_type)
    outer = proc.forward(outer)
    inner = outer.body()[0]
    proc = stage_compute(proc, inner, precision, mem_type, list(rules))
    proc = fission_into_singles(proc, inner)
    proc = replace_all_stmts(proc, list(instructions))
    if not rc:
        return proc
    return proc, vectorize_cursors(proc.forward(outer))
