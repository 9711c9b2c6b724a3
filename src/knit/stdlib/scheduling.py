"""The scheduling primitives: every rewrite a user applies to a procedure.

Each primitive takes a Procedure and a location (a cursor, or a pattern string
such as `"for i in _: _"`), returns a *new* Procedure, and either proves that the
rewrite keeps the program's meaning or raises `SchedulingError` saying what
could not be proven. Names and arguments follow Exo 1.0. The wrappers here
check arguments and document; the work is in `knit.rewrite.<family>`.

Besides the conditions each docstring lists, every primitive runs these implicit
checks, and a refusal names the primitive that was called (`file:line:col: prim: ...`):

- locate: the cursor belongs to this procedure or one it was scheduled from (then it
  is forwarded), it points at the kind of thing the primitive takes, and the code it
  points at can run (in dead code every fact holds, so nothing could be checked);
- post-check, after every checked rewrite (not the `unsafe_*` ones): the iterations
  of each `par` loop are still independent (moving an allocation out of one, or
  staging a buffer around one, can make them race);
- not at scheduling time: memories are checked again when the procedure is compiled
  or run, since a schedule passes through states where plain code touches registers.
"""

from __future__ import annotations

import keyword
import sys as _sys_mod

from knit import trace as _trace

# Exo exposes the cursor classes here too (explicit re-exports)
from knit.API_cursors import (
    AllocCursor as AllocCursor,
    ArgCursor as ArgCursor,
    AssignConfigCursor as AssignConfigCursor,
    AssignCursor as AssignCursor,
    BinaryOpCursor as BinaryOpCursor,
    BlockCursor as BlockCursor,
    CallCursor as CallCursor,
    Cursor as Cursor,
    ExprCursor as ExprCursor,
    ExprCursorPrototype as ExprCursorPrototype,
    ExprListCursor as ExprListCursor,
    ExternFunctionCursor as ExternFunctionCursor,
    ForCursor as ForCursor,
    GapCursor as GapCursor,
    IfCursor as IfCursor,
    InvalidCursor as InvalidCursor,
    InvalidCursorError as InvalidCursorError,
    LiteralCursor as LiteralCursor,
    PassCursor as PassCursor,
    ReadConfigCursor as ReadConfigCursor,
    ReadCursor as ReadCursor,
    ReduceCursor as ReduceCursor,
    StmtCursor as StmtCursor,
    StmtCursorPrototype as StmtCursorPrototype,
    StrideExprCursor as StrideExprCursor,
    UnaryMinusCursor as UnaryMinusCursor,
    WindowExprCursor as WindowExprCursor,
    WindowStmtCursor as WindowStmtCursor,
)
from knit.errors import SchedulingError
from knit.ir import nodes as N, types as T
from knit.ir.printer import stmt_str
from knit.rewrite import (
    common as K,
    configs as CF,
    exprs as EX,
    loops as L,
    scopes as S,
    stmts as ST,
)

# the buffer/memory and sub-procedure primitives live beside this module; they are
# part of this API (explicit re-exports)
from knit.stdlib import sched_buffers as _sb, sched_subprocs as _sp
from knit.stdlib.sched_buffers import (
    autolift_alloc as autolift_alloc,
    bind_expr as bind_expr,
    delete_buffer as delete_buffer,
    divide_dim as divide_dim,
    expand_dim as expand_dim,
    inline_window as inline_window,
    lift_alloc as lift_alloc,
    mult_dim as mult_dim,
    rearrange_dim as rearrange_dim,
    resize_dim as resize_dim,
    reuse_buffer as reuse_buffer,
    set_memory as set_memory,
    set_precision as set_precision,
    set_window as set_window,
    sink_alloc as sink_alloc,
    stage_mem as stage_mem,
    unroll_buffer as unroll_buffer,
)
from knit.stdlib.sched_subprocs import (
    call_eqv as call_eqv,
    call_site_mem_aware_replace as call_site_mem_aware_replace,
    extract_subproc as extract_subproc,
    inline as inline,
    insert_noop_call as insert_noop_call,
    make_instr as make_instr,
    replace as replace,
    replace_all as replace_all,
)

# ---------------------------------------------------------------- argument helpers


def _pos_int(prim: str, name: str, v) -> int:
    if not isinstance(v, int) or isinstance(v, bool) or v < 1:
        raise SchedulingError(f"{prim}: {name} must be a positive integer, got {v!r}")
    return v


def _bool(prim: str, name: str, v) -> bool:
    if not isinstance(v, bool):
        raise SchedulingError(f"{prim}: {name} must be True or False, got {v!r}")
    return v


def _names(prim: str, v, n: int) -> list[str]:
    if not isinstance(v, (list, tuple)) or len(v) != n:
        raise SchedulingError(f"{prim}: expected a list of {n} new names, got {v!r}")
    return [K.check_name(prim, x) for x in v]


def _index_expr(proc, prim: str, v, path, what: str) -> N.Expr:
    """An int or an expression string, parsed where `path` points; must be an index."""
    from knit.frontend.fragment import parse_expr_fragment

    if isinstance(v, int) and not isinstance(v, bool):
        return N.Const(v, T.INT)
    e = parse_expr_fragment(proc, v, path, prim)
    if not e.type.is_indexable():
        raise SchedulingError(f"{prim}: {what} must be an index expression, got {v!r}")
    return e


def _bool_expr(proc, prim: str, v, path, site=None) -> N.Expr:
    from knit.errors import KnitTypeError, ParseFragmentError
    from knit.frontend.fragment import parse_expr_fragment

    try:
        e = parse_expr_fragment(proc, v, path, prim)
    except ParseFragmentError as err:
        if not isinstance(err.__cause__, KnitTypeError):
            raise
        # it parses but is no condition knit can branch on (`alpha == 0.0` compares
        # data): a scheduling error, as Exo reports it
        why = str(err.__cause__).splitlines()[0].split(": ", 1)[-1]
        raise K.refuse(prim, site, f"invalid condition {v!r}: {why}") from err
    if e.type != T.BOOL:
        raise SchedulingError(f"{prim}: {v!r} is not a condition")
    return e


# ---------------------------------------------------------------- basic


def rename(proc, name: str):
    """Give the procedure a new name. Always safe. Refused for a Python keyword (`for`:
    the procedure would print as `def for(...)`, which does not parse back); a name C
    or its library reserves (`memcpy`) is refused where C is generated, as for a
    procedure defined with it."""
    K.check_proc_arg(proc, "rename")
    name = K.check_name("rename", name)
    if keyword.iskeyword(name):
        raise K.bad_arg("rename", f"{name!r} is a Python keyword: the procedure would "
                        "print as a definition that does not parse")
    return ST.rename(proc, name)


def simplify(proc):
    """Simplify every expression: fold constants, normalise affine index expressions,
    reduce `/` and `%` using known loop ranges. Always safe (rules are identities)."""
    K.check_proc_arg(proc, "simplify")
    return ST.simplify(proc)


def insert_pass(proc, gap_cursor):
    """Insert `pass` at a gap. Always safe."""
    K.check_proc_arg(proc, "insert_pass")
    return ST.insert_pass(K.gap_site(proc, gap_cursor, "insert_pass"))


def delete_pass(proc):
    """Delete every `pass`, and loops or ifs left empty. Always safe."""
    K.check_proc_arg(proc, "delete_pass")
    return ST.delete_pass(proc)


def reorder_stmts(proc, block_cursor):
    """Swap two adjacent statements `s1; s2` -> `s2; s1`.

    Safe when they commute: no location written by one is read or written by the
    other (two reductions into one location commute). Refused otherwise, naming the
    conflicting accesses."""
    K.check_proc_arg(proc, "reorder_stmts")
    return ST.reorder_stmts(K.block_site(proc, block_cursor, "reorder_stmts"))


def eliminate_dead_stores(proc, stmt_cursor):
    """Delete a statement whose writes nothing reads: every location it writes is in a
    buffer this procedure allocates (not an argument, not a `static` buffer), and no
    other statement in that buffer's scope -- before it, after it, in any iteration --
    reads a location it writes. E.g. the part of a packed copy no kernel reads (a
    cache block's last partial sliver, where the kernels take whole slivers only). A
    statement that writes only buffers it allocates itself is deleted too.

    Refused when it writes a config, an argument or a static buffer (its own or a
    callee's), or a read elsewhere may touch what it writes (naming the pair, with
    values); also for `pass` and declarations."""
    prim = "eliminate_dead_stores"
    K.check_proc_arg(proc, prim)
    return ST.eliminate_dead_stores(K.stmt_site(proc, stmt_cursor, prim))


# ---------------------------------------------------------------- loops


def divide_loop(proc, loop_cursor, div_const, new_iters, tail="guard", perfect=False):
    """Split a loop into an outer and an inner loop of `div_const` iterations.

        for i in seq(0, n): s
        -> (tail="guard")  for io in seq(0, (n + q - 1) / q):
                               for ii in seq(0, q):
                                   if q * io + ii < n: s[i -> q * io + ii]
        -> (tail="cut")    the whole chunks, then `for ii in seq(0, n % q)` for the rest
        -> (tail="cut_and_guard")  as "cut", with the tail loop under `if n % q > 0`
        -> (perfect=True)  no tail; refused unless n % q == 0 is proven.

    Re-indexing keeps the meaning, given three conditions: `perfect=True` needs
    n % q == 0 proven; the cut tails need lo <= hi proven (for a range empty the wrong
    way round, n % q would still be positive); and the body must not write a config
    the bounds read (the bounds move into the body and the tail)."""
    prim = "divide_loop"
    K.check_proc_arg(proc, prim)
    site = K.loop_site(proc, loop_cursor, prim)
    q = _pos_int(prim, "div_const", div_const)
    outer, inner = _names(prim, new_iters, 2)
    if tail not in ("guard", "cut", "cut_and_guard"):
        raise SchedulingError(f"{prim}: tail must be 'guard', 'cut' or 'cut_and_guard', got "
                              f"{tail!r}")
    perfect = _bool(prim, "perfect", perfect)
    return K.apply(site, L.divide_loop(site, q, outer, inner, tail, perfect))


def divide_with_recompute(proc, loop_cursor, outer_hi, outer_stride, new_iters):
    """Cover `for i in seq(0, hi)` with `outer_hi` overlapping chunks:

        for io in seq(0, outer_hi):
            for ii in seq(0, outer_stride + (hi - outer_hi * outer_stride)):
                s[i -> outer_stride * io + ii]

    Some iterations run again after later ones, so the body must be idempotent (no
    reduction; no location both read and written) and no iteration may read or write
    what a later one writes; there must be at least one chunk (outer_hi >= 1), the
    chunks must stay inside the loop (outer_hi * outer_stride <= hi), and the loop must
    be sequential."""
    prim = "divide_with_recompute"
    K.check_proc_arg(proc, prim)
    site = K.loop_site(proc, loop_cursor, prim)
    hi = _index_expr(proc, prim, outer_hi, site.path, "outer_hi")
    stride = _pos_int(prim, "outer_stride", outer_stride)
    outer, inner = _names(prim, new_iters, 2)
    return K.apply(site, L.divide_with_recompute(site, hi, stride, outer, inner))


def mult_loops(proc, nested_loops, new_iter_name):
    """Merge `for i in seq(0, e): for j in seq(0, c): s` (c a literal) into
    `for k in seq(0, e * c): s[i -> k / c, j -> k % c]`. Always safe; the merged loop is
    parallel only if both loops were."""
    prim = "mult_loops"
    K.check_proc_arg(proc, prim)
    site = K.loop_site(proc, nested_loops, prim)
    return K.apply(site, L.mult_loops(site, K.check_name(prim, new_iter_name)))


def join_loops(proc, loop1_cursor, loop2_cursor):
    """Join `for i in seq(lo, mid): s` and `for i in seq(mid, hi): s` into
    `for i in seq(lo, hi): s`. Refused unless the bodies are equal (the same code up to
    the names bound inside), the first loop provably ends where the second begins,
    lo <= mid <= hi is proven, the loops have the same mode (joined parallel loops are
    checked for races again), and the first body writes no config the second loop's
    bounds read."""
    prim = "join_loops"
    K.check_proc_arg(proc, prim)
    s1 = K.loop_site(proc, loop1_cursor, prim)
    s2 = K.loop_site(proc, loop2_cursor, prim)
    return K.apply(s1, L.join_loops(s1, s2))


def cut_loop(proc, loop_cursor, cut_point):
    """Cut `for i in seq(lo, hi)` into `seq(lo, cut)` and `seq(cut, hi)`.
    Refused unless lo <= cut <= hi is proven."""
    prim = "cut_loop"
    K.check_proc_arg(proc, prim)
    site = K.loop_site(proc, loop_cursor, prim)
    cut = _index_expr(proc, prim, cut_point, site.path, "cut_point")
    return K.apply(site, L.cut_loop(site, cut))


def shift_loop(proc, loop_cursor, new_lo):
    """Shift `for i in seq(m, n): s(i)` to
    `for i in seq(new_lo, new_lo + n - m): s(i + (m - new_lo))`. Refused unless
    new_lo >= 0 is proven."""
    prim = "shift_loop"
    K.check_proc_arg(proc, prim)
    site = K.loop_site(proc, loop_cursor, prim)
    lo = _index_expr(proc, prim, new_lo, site.path, "new_lo")
    return K.apply(site, L.shift_loop(site, lo))


def reorder_loops(proc, nested_loops):
    """Swap two directly nested loops: `for i: for j: s` -> `for j: for i: s`.
    Accepts the shorthand `"i j"`. Refused when the loops are not perfectly nested,
    when the inner bounds depend on the outer variable, when the body writes a config
    either loop's bounds read, when some dependence between iterations would be
    reversed (the message names the accesses), or when a parallel inner loop moved
    outward would race."""
    prim = "reorder_loops"
    K.check_proc_arg(proc, prim)
    site = K.loop_site(proc, nested_loops, prim)
    return K.apply(site, L.reorder_loops(site))


def unroll_loop(proc, loop_cursor):
    """Replace a loop with literal bounds by copies of its body. Always safe."""
    prim = "unroll_loop"
    K.check_proc_arg(proc, prim)
    site = K.loop_site(proc, loop_cursor, prim)
    return K.apply(site, L.unroll_loop(site))


def remove_loop(proc, loop_cursor, unsafe_disable_check=False):
    """Replace `for i in _: s` by `s`. Refused unless s does not use i, the loop runs
    at least once, and s is idempotent."""
    prim = "remove_loop"
    K.check_proc_arg(proc, prim)
    site = K.loop_site(proc, loop_cursor, prim)
    unsafe = _bool(prim, "unsafe_disable_check", unsafe_disable_check)
    return K.apply(site, L.remove_loop(site, unsafe), unsafe=unsafe)


def add_loop(proc, block_cursor, iter_name, hi_expr, guard=False, unsafe_disable_check=False):
    """Wrap a block in `for iter_name in seq(0, hi_expr)`. Refused unless hi_expr > 0
    is proven and the block is idempotent; with guard=True the block runs under
    `if iter_name == 0:` and need not be idempotent. Refused when the block allocates
    a buffer (or binds a window) that statements after it use."""
    prim = "add_loop"
    K.check_proc_arg(proc, prim)
    site = K.block_site(proc, block_cursor, prim)
    hi = _index_expr(proc, prim, hi_expr, site.path, "hi_expr")
    guard = _bool(prim, "guard", guard)
    unsafe = _bool(prim, "unsafe_disable_check", unsafe_disable_check)
    new = L.add_loop(site, K.check_name(prim, iter_name), hi, guard, unsafe)
    return K.apply(site, new, unsafe=unsafe and not guard)


def parallelize_loop(proc, loop_cursor):
    """Make a loop `par` (an OpenMP parallel loop in C). Refused when two different
    iterations may touch a location one of them writes or reduces into (a race), and
    when the loop is inside, or contains, another parallel loop."""
    prim = "parallelize_loop"
    K.check_proc_arg(proc, prim)
    site = K.loop_site(proc, loop_cursor, prim)
    return K.apply(site, L.parallelize_loop(site))


# ---------------------------------------------------------------- scopes


def fission(proc, gap_cursor, n_lifts=1, unsafe_disable_checks=False):
    """Split the loops/ifs around a gap into two copies, n_lifts levels up:

        for i in _: s1; s2   ->   for i in _: s1
                                  for i in _: s2      (gap between s1 and s2)

    Refused when a later iteration of s1 and an earlier iteration of s2 touch the same
    location (one writing) — unless the split provably keeps every value
    (analysis/byvalue.py: s1 copies a buffer that s2 ends by copying back with the same
    index map, or s2 stores the same values in every iteration) —, when s2 uses a buffer
    or window bound in s1, or when s1 (or, splitting an else branch, the then branch)
    writes a config the loop bounds or the condition read. An if splits as Exo's:
    `if c: s1` then `if c: s2 else: ...`; `if c: ... else: s1` then
    `if c: pass else: s2`."""
    prim = "fission"
    K.check_proc_arg(proc, prim)
    gap = K.gap_site(proc, gap_cursor, prim)
    return S.fission(gap, _pos_int(prim, "n_lifts", n_lifts),
                     _bool(prim, "unsafe_disable_checks", unsafe_disable_checks))


def autofission(proc, gap_cursor, n_lifts=1):
    """fission, then remove the loops around either part that no longer need them
    (their body does not use the loop variable and is idempotent), at every level
    that was split. Refused when fission is (the refusal names autofission); a loop whose
    removal is not proven (remove_loop's checks) is kept."""
    prim = "autofission"
    K.check_proc_arg(proc, prim)
    gap = K.gap_site(proc, gap_cursor, prim)
    return S.autofission(gap, _pos_int(prim, "n_lifts", n_lifts))


def lift_scope(proc, scope_cursor):
    """Swap a loop or if with the loop or if around it (it must be its only
    statement). `for i: if c: A else: B` -> `if c: for i: A else: for i: B`; an if out
    of an if; a loop out of an if; a loop out of a loop (as reorder_loops, with its
    check; refusals still say lift_scope). Refused when a condition depends on the
    loop variable or on state the body writes."""
    prim = "lift_scope"
    K.check_proc_arg(proc, prim)
    site = K.stmt_site(proc, scope_cursor, prim)
    if not isinstance(site.node(), (N.For, N.If)):
        raise K.refuse(prim, site, "expected a loop or an if")
    return S.lift_scope(site)


def fuse(proc, stmt1, stmt2, unsafe_disable_check=False):
    """Fuse two consecutive loops with the same range (or two ifs with the same
    condition) into one. Refused when the ranges are not provably equal, when some
    iteration of the second loop would now run before a later iteration of the first
    that touches the same location (unless every iteration of the first loop stores the
    same values, from locations neither loop writes, and the second never writes what
    the first touches: analysis/byvalue.py), when the first body writes a config the
    second loop's bounds (or the second condition) read, or when a fused parallel loop
    would race."""
    prim = "fuse"
    K.check_proc_arg(proc, prim)
    s1 = K.stmt_site(proc, stmt1, prim)
    s2 = K.stmt_site(proc, stmt2, prim)
    return S.fuse(s1, s2, _bool(prim, "unsafe_disable_check", unsafe_disable_check))


def specialize(proc, block, conds):
    """Duplicate a block under conditions: `B` -> `if c0: B elif c1: B ... else: B`.
    Safe; each copy can then be scheduled on its own. Refused only when the block
    allocates a buffer (or binds a window) that statements after it use."""
    prim = "specialize"
    K.check_proc_arg(proc, prim)
    blk = K.block_site(proc, block, prim)
    conds = [conds] if isinstance(conds, str) else list(conds)
    if not conds:
        raise SchedulingError(f"{prim}: expected at least one condition")
    parsed = [_bool_expr(proc, prim, c, blk.path, blk) for c in conds]
    return S.specialize(blk, parsed)


def eliminate_dead_code(proc, stmt_cursor):
    """Replace an if whose condition is provably constant by the branch taken, and
    delete a loop that provably never runs. Refused when neither can be proven."""
    prim = "eliminate_dead_code"
    K.check_proc_arg(proc, prim)
    return S.eliminate_dead_code(K.stmt_site(proc, stmt_cursor, prim))


def add_unsafe_guard(proc, block_cursor, var_expr):
    """UNSAFE: wrap a block in `if var_expr:` without any check."""
    prim = "add_unsafe_guard"
    K.check_proc_arg(proc, prim)
    blk = K.block_site(proc, block_cursor, prim)
    return S.add_unsafe_guard(blk, _bool_expr(proc, prim, var_expr, blk.path, blk))


# ---------------------------------------------------------------- other families


# ---------------------------------------------------------------- combinators


def repeat(sched, n_times=None, verbose=False):
    """`repeat(op)(proc, *args)` applies op until it raises SchedulingError (or
    n_times times), returning the last procedure. With verbose, prints the error that
    ended the repetition (as Exo's)."""
    if n_times is not None and (not isinstance(n_times, int) or n_times < 1):
        raise TypeError("repeat: n_times must be None or a positive int")

    def repeated(proc, *args, **kwargs):
        if n_times is not None:
            for _ in range(n_times):
                proc = sched(proc, *args, **kwargs)
            return proc
        for _ in range(100_000):  # a rewrite that always succeeds would loop forever
            try:
                proc = sched(proc, *args, **kwargs)
            except (SchedulingError, InvalidCursorError) as err:
                if verbose:
                    print("repeat ended with error", err)
                return proc
        raise SchedulingError(f"repeat: {getattr(sched, '__name__', sched)} kept succeeding "
                              "after 100000 applications")

    repeated.__name__ = f"repeat({getattr(sched, '__name__', 'op')})"
    return repeated


def sched_seq(proc, sched_list):
    """Apply a list of schedules in order: each item is `f` (called as f(proc)) or a
    tuple `(f, arg, ...)` (called as f(proc, arg, ...))."""
    for s in sched_list:
        if callable(s):
            proc = s(proc)
        elif isinstance(s, (list, tuple)) and s and callable(s[0]):
            proc = s[0](proc, *s[1:])
        else:
            raise TypeError(f"sched_seq: expected a callable or (callable, args...), got {s!r}")
    return proc


# ---------------------------------------------------------------- expressions and writes



def _expr_sites(proc, prim: str, v) -> list:
    """A pattern (every match), an expression cursor, or a list of expression cursors:
    their Sites."""
    if isinstance(v, str):
        curs = proc.find(v, many=True)
    elif isinstance(v, (list, tuple)):
        curs = list(v)
    else:
        curs = [v]
    if not curs:
        raise SchedulingError(f"{prim}: expected at least one expression")
    return [K.expr_site(proc, c, prim) for c in curs]


def _assign_site(proc, prim: str, v, kinds: tuple, what: str):
    site = K.stmt_site(proc, v, prim)
    if not isinstance(site.node(), kinds):
        raise SchedulingError(f"{prim}: expected {what}, got "
                              f"'{stmt_str(site.node()).splitlines()[0]}'")
    return site


def commute_expr(proc, expr_cursors):
    """Swap the operands of additions or multiplications: `a * b` -> `b * a`,
    `a + b` -> `b + a`.

    expr_cursors: a pattern (every match is swapped), an expression cursor, or a list
    of them. Always safe (+ and * commute exactly, also in floating point); refused
    when an expression is not a `+` or `*`."""
    prim = "commute_expr"
    K.check_proc_arg(proc, prim)
    return EX.commute_expr(_expr_sites(proc, prim, expr_cursors))


def left_reassociate_expr(proc, expr):
    """Regroup `a + (b + c)` -> `(a + b) + c` (and the same for `*`).

    Exact for index expressions and integer data. For floating-point data it changes
    the order of the roundings, which can change the last bits of the result: Exo
    allows it and so does knit (as it lets reductions commute), within one precision:
    refused when `b op c` or `a op b` would be computed in another type than the whole
    (e.g. f32 operands next to an f64 one), and when the expression is not
    `a op (b op c)` with one op, `+` or `*`."""
    prim = "left_reassociate_expr"
    K.check_proc_arg(proc, prim)
    return EX.left_reassociate_expr(K.expr_site(proc, expr, prim))


def rewrite_expr(proc, expr_cursor, new_expr):
    """Replace an index or bool expression by another that is equal wherever it is
    evaluated: `s[e]` -> `s[new_expr]`, e.g. `n % 4` -> `2` under `assert n % 4 == 2`.

    new_expr: an expression string (or an int), read in the scope of the statement.
    The equality is proven from the sizes, the proc's asserts and the enclosing loops
    and ifs; refused, showing both expressions (and values where they differ, when
    found), when it cannot be proven. Data expressions are refused."""
    from knit.frontend.fragment import parse_expr_fragment

    prim = "rewrite_expr"
    K.check_proc_arg(proc, prim)
    site = K.expr_site(proc, expr_cursor, prim)
    if isinstance(new_expr, bool):
        new = N.Const(new_expr, T.BOOL)
    elif isinstance(new_expr, int):
        new = N.Const(new_expr, T.INT)
    else:
        new = parse_expr_fragment(proc, new_expr, site.path, prim)
    return EX.rewrite_expr(site, new)


def merge_writes(proc, block_cursor):
    """Merge two consecutive writes to one location into one statement:

        x = a; x = b   -> x = b           x += a; x = b   -> x = b
        x = a; x += b  -> x = a + b       x += a; x += b  -> x += a + b

    Safe when both write the same location (proven) and b does not read it. When a's
    value flows into the result, a must already have x's type (or be a literal x holds
    exactly) and `a + b` must be computed in the type `x + b` was; two reductions are
    merged like Exo does (for floats a reassociation: rounding may change) when `a + b`
    is computed in x's type and neither is of a wider type. Refused otherwise."""
    prim = "merge_writes"
    K.check_proc_arg(proc, prim)
    return EX.merge_writes(K.block_site(proc, block_cursor, prim))


def split_write(proc, stmt):
    """Split a write of a sum into two writes (the inverse of merge_writes):

        x = a + b   ->  x = a; x += b
        x += a + b  ->  x += a; x += b

    Safe when b does not read x's location (it would see the first part's write), and a
    already has x's type (or is a literal x holds exactly) and `x + b` is computed in
    the type `a + b` was; splitting a reduction (`a + b` computed in x's type) into a
    floating-point x reassociates the sum (rounding may change), as in Exo. Refused
    otherwise, and when the right-hand side is not an addition."""
    prim = "split_write"
    K.check_proc_arg(proc, prim)
    return EX.split_write(_assign_site(proc, prim, stmt, (N.Assign, N.Reduce),
                                       "an assignment or a reduction"))


def fold_into_reduce(proc, assign):
    """Turn `x = x + e` into `x += e`.

    Safe when the read on the left of `+` is provably the location written, and e does
    not read that location (a reduction must not read its accumulator). Refused
    otherwise; commute_expr can bring `e + x` into shape first."""
    prim = "fold_into_reduce"
    K.check_proc_arg(proc, prim)
    return EX.fold_into_reduce(_assign_site(proc, prim, assign, (N.Assign,),
                                            "an assignment"))


def inline_assign(proc, alloc_cursor):
    """Inline an assignment into the statements after it and delete it (as in Exo, the
    argument is the assignment statement):

        x = e; s  ->  s[x -> e]   (reads of the same location later in the block)

    Safe when e's value already lies in x's type (or is a literal x holds exactly; an
    operation the literal lands in must keep its type); nothing between
    the assignment and a replaced read writes what e reads or the location itself; x is
    allocated in the proc (an argument's value is seen by the caller); and no read
    that is not replaced (elsewhere in x's scope, in any iteration) may see the value.
    Refused otherwise, naming the statement in the way."""
    prim = "inline_assign"
    K.check_proc_arg(proc, prim)
    return EX.inline_assign(_assign_site(proc, prim, alloc_cursor, (N.Assign,),
                                         "an assignment"))


def lift_reduce_constant(proc, block_cursor):
    """Lift a constant factor out of an accumulation loop:

        x = 0.0                        x = 0.0
        for i in _:           ->       for i in _:
            x += c * e                     x += e
                                       x = c * x

    block_cursor: the zeroing assignment and the loop. Every reduction into x's
    location in the loop must have the form `x += c * e` with the same c; c must not
    depend on the loop (its variables, buffers allocated in it, locations it writes);
    nothing else in the loop may touch that location; `c * e`, `x + e` and `c * x` are
    all computed in x's type. For
    floating-point x the sum is scaled once instead of term by term (rounding may
    change, and c = inf or nan gives nan when the loop does not run), as in Exo.
    Refused otherwise."""
    prim = "lift_reduce_constant"
    K.check_proc_arg(proc, prim)
    return EX.lift_reduce_constant(K.block_site(proc, block_cursor, prim))


# ---------------------------------------------------------------- configs



def _config_field(prim: str, config, field):
    from knit.config import Config

    if not isinstance(config, Config):
        raise SchedulingError(f"{prim}: expected a config (a class decorated with @config), "
                              f"got {type(config).__name__}")
    if not isinstance(field, str) or not config.has_field(field):
        raise SchedulingError(f"{prim}: config {config.name()} has no field {field!r} "
                              f"(its fields: {', '.join(config.fields())})")


def bind_config(proc, var_cursor, config, field):
    """Store a variable in a config field just before the statement that uses it, and
    read it from there:  `s[x]` -> `config.field = x; s[config.field]`.

    var_cursor: a read of a scalar data variable or a bool variable (as in Exo; index
    values may depend on loop iterations), of the field's type. Safe when no other read
    of the field may see the new value (see write_config). The procedure then leaves
    `x` in the field for its caller: as in Exo, it is equal to the original except for
    that config value. Refused otherwise."""
    prim = "bind_config"
    K.check_proc_arg(proc, prim)
    _config_field(prim, config, field)
    return CF.bind_config(K.expr_site(proc, var_cursor, prim), config, field)


def delete_config(proc, stmt_cursor):
    """Delete a config write `config.field = e`:  `s1; config.field = e; s3` -> `s1; s3`.

    Safe when no later read of the field may see the value written (later in the block,
    in later iterations of the loops around it, after them; callees and their asserts
    included), or when the write provably does not change the field. The field's final
    value may then differ: as in Exo, the procedures are equal except for it. Refused
    otherwise, naming a statement that reads the field."""
    prim = "delete_config"
    K.check_proc_arg(proc, prim)
    return CF.delete_config(K.stmt_site(proc, stmt_cursor, prim))


def write_config(proc, gap_cursor, config, field, rhs):
    """Insert a config write at a gap:  `s1; s3` -> `s1; config.field = rhs; s3`.

    rhs: an expression string read at the gap: a literal, `stride(x, d)`, or a scalar
    data or bool variable (as in Exo), fitting the field's type. Safe when no later
    read of the field may see the new value, or the write provably does not change it
    (it repeats an equal write just before). The field's final value may then differ:
    as in Exo, the procedures are equal except for it. Refused otherwise, naming a
    statement that reads the field."""
    from knit.frontend.fragment import parse_expr_fragment

    prim = "write_config"
    K.check_proc_arg(proc, prim)
    gap = K.gap_site(proc, gap_cursor, prim)
    _config_field(prim, config, field)
    if isinstance(rhs, (bool, int, float)):
        rhs = repr(rhs)
    return CF.write_config(gap, config, field, parse_expr_fragment(proc, rhs, gap.path, prim))


# ---------------------------------------------------------------- Exo's stdlib helpers
# Exo 1.0's `exo.stdlib.scheduling` also defines these on top of the primitives.



def lift_if(proc, cursor, n_lifts=1):
    """Move an `if` up through the control flow around it, n_lifts times (lift_scope
    applied n_lifts times):  `for i in _: if p: s1 else: s2` ->
    `if p: for i in _: s1 else: for i in _: s2`. Refused, with how many lifts remained,
    when one lift is."""
    prim = "lift_if"
    K.check_proc_arg(proc, prim)
    n_lifts = _pos_int(prim, "n_lifts", n_lifts)
    if not isinstance(K.stmt_cursor(proc, cursor, prim), IfCursor):
        raise K.refuse(prim, K.stmt_cursor(proc, cursor, prim), "expected an if statement")
    for i in range(n_lifts):
        try:
            # the cursor is forwarded to each new procedure, as every primitive does
            proc = lift_scope(proc, cursor)
        except SchedulingError as e:
            raise SchedulingError(f"{prim}: could not fully lift the if statement: "
                                  f"{n_lifts - i} lift(s) remain: {e}") from e
    return proc


def loop_hack(sched, find_func, verbose=False):
    """Exo's deprecated helper: apply `sched` at each of the cursors `find_func(proc)`
    returns, finding them afresh after each application."""

    def loop_hack_sched(proc, *args, **kwargs):
        for i in range(len(find_func(proc))):
            proc = sched(proc, find_func(proc)[i], *args, **kwargs)
        return proc

    loop_hack_sched.__name__ = f"loop_hack_{getattr(sched, '__name__', 'op')}"
    return loop_hack_sched


# the pattern that finds candidate first statements of a match for each kind of body
_FIRST_STMT_PATTERN = {AssignCursor: "_ = _", ReduceCursor: "_ += _",
                       ForCursor: "for _ in _: _", IfCursor: "if _: _"}


def replace_once(proc, subprocs, mem_aware=True):
    """Replace the first block (in program order) that matches the body of one of
    `subprocs` (tried in order) by a call to it; the procedure unchanged when none
    matches. With `mem_aware` (as Exo), a block matches only where each buffer lives in
    the memory the parameter names (call_site_mem_aware_replace)."""
    prim = "replace_once"
    K.check_proc_arg(proc, prim)
    subs = subprocs if isinstance(subprocs, (list, tuple)) else [subprocs]
    for sub in subs:
        body = sub.body()
        pattern = _FIRST_STMT_PATTERN.get(type(body[0]))
        if pattern is None:
            continue
        try:
            starts = proc.find(pattern, many=True)
        except SchedulingError:
            continue
        for start in starts:
            try:
                block = start.expand(0, len(body) - 1)
            except (SchedulingError, InvalidCursorError):
                continue
            if len(block) != len(body):
                continue
            try:
                if mem_aware:
                    return call_site_mem_aware_replace(proc, block, sub, quiet=True)
                return replace(proc, block, sub, quiet=True)
            except SchedulingError:
                continue
    return proc


class FormattedExprStr(str):
    """An expression with holes `_` filled by expression cursors, for any argument that
    takes an expression string:  `FormattedExprStr("_ - 1", loop.hi())` is `(n) - 1`
    for a loop over `seq(0, n)`.

    knit fills the holes with the cursors' text, parenthesised, and the primitive parses
    the result where it is used (as it parses any expression string), so the names in
    it must mean there what they mean at the cursors (Exo substitutes the expressions
    themselves). Too few cursors is a ParseFragmentError, a non-expression cursor a
    TypeError, as in Exo."""

    def __new__(cls, expr_str, *expr_holes):
        import re

        from knit.API_cursors import ExprCursor
        from knit.errors import ParseFragmentError

        if not isinstance(expr_str, str):
            raise TypeError("expr_str must be a string")
        for c in expr_holes:
            if not isinstance(c, ExprCursor):
                raise TypeError("Cursor provided to fill a hole must be a ExprCursor")
        holes = re.findall(r"\b_\b", expr_str)
        if len(holes) > len(expr_holes):
            raise ParseFragmentError(f"String contains more holes than expressions "
                                     f"provided: {expr_str!r} has {len(holes)} holes, "
                                     f"{len(expr_holes)} expressions were given")
        fill = iter(expr_holes)
        text = re.sub(r"\b_\b", lambda _m: f"({next(fill)})", expr_str)
        self = super().__new__(cls, text)
        self._expr_str, self._expr_holes = expr_str, tuple(expr_holes)
        # the variables the holes' expressions read, as (the cursor's text, Sym): where
        # the string is parsed, each name must still mean that variable (fragment.py)
        from knit.cursors.internal import node_of
        from knit.ir.sym import Sym
        from knit.ir.visit import walk_expr

        self.hole_vars = tuple((str(c), x.name) for c in expr_holes
                               for x in walk_expr(node_of(c))
                               if isinstance(getattr(x, "name", None), Sym))
        return self


# `from knit.stdlib.scheduling import *` binds the primitives, cursor classes and errors,
# not this module's internal aliases (K, N, T, S, L, ...)
__all__ = sorted(n for n, v in globals().items()
                 if not n.startswith("_") and not isinstance(v, type(_sys_mod))
                 and n != "annotations")

# ---------------------------------------------------------------- traces
# Every public primitive of this module and of sched_buffers / sched_subprocs records
# the call on the procedure it returns (p.trace(); see knit/trace.py). Keep this last.
_trace.install(_sys_mod.modules[__name__], _sb, _sp)
