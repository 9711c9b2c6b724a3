"""The scheduling primitives: every rewrite a user applies to a procedure.

Each primitive takes a Procedure and a location (a cursor, or a pattern string
such as `"for i in _: _"`), returns a *new* Procedure, and either proves that the
rewrite keeps the program's meaning or raises `SchedulingError` saying what
could not be proven. Names and arguments follow Exo 1.0. The wrappers here
check arguments and document; the work is in `knit.rewrite.<family>`.
"""

from __future__ import annotations

from knit.cursors.cursor import (  # noqa: F401 - cursor helpers are part of this API
    ArgCursor,
    BlockCursor,
    Cursor,
    ExprCursor,
    ForCursor,
    GapCursor,
    IfCursor,
    InvalidCursor,
    InvalidCursorError,
    StmtCursor,
)
from knit.errors import SchedulingError
from knit.ir import nodes as N
from knit.ir import types as T
from knit.rewrite import common as K
from knit.rewrite import loops as L
from knit.rewrite import scopes as S
from knit.rewrite import stmts as ST

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


def _bool_expr(proc, prim: str, v, path) -> N.Expr:
    from knit.frontend.fragment import parse_expr_fragment

    e = parse_expr_fragment(proc, v, path, prim)
    if e.type != T.BOOL:
        raise SchedulingError(f"{prim}: {v!r} is not a condition")
    return e


def _block_path(b: BlockCursor):
    return b._parent + ((b._field, b._lo),)


# ---------------------------------------------------------------- basic


def rename(proc, name: str):
    """Give the procedure a new name. Always safe."""
    K.check_proc_arg(proc, "rename")
    return ST.rename(proc, K.check_name("rename", name))


def simplify(proc):
    """Simplify every expression: fold constants, normalise affine index expressions,
    reduce `/` and `%` using known loop ranges. Always safe (rules are identities)."""
    K.check_proc_arg(proc, "simplify")
    return ST.simplify(proc)


def insert_pass(proc, gap_cursor):
    """Insert `pass` at a gap. Always safe."""
    K.check_proc_arg(proc, "insert_pass")
    return ST.insert_pass(proc, K.gap_cursor(proc, gap_cursor, "insert_pass"))


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
    return ST.reorder_stmts(proc, K.block_cursor(proc, block_cursor, "reorder_stmts"))


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

    Re-indexing never changes meaning; only `perfect=True` needs a proof."""
    prim = "divide_loop"
    K.check_proc_arg(proc, prim)
    cur = K.loop_cursor(proc, loop_cursor, prim)
    q = _pos_int(prim, "div_const", div_const)
    outer, inner = _names(prim, new_iters, 2)
    if tail not in ("guard", "cut", "cut_and_guard"):
        raise SchedulingError(f"{prim}: tail must be 'guard', 'cut' or 'cut_and_guard', got "
                              f"{tail!r}")
    return L.divide_loop(proc, cur, q, outer, inner, tail, _bool(prim, "perfect", perfect))


def divide_with_recompute(proc, loop_cursor, outer_hi, outer_stride, new_iters):
    """Cover `for i in seq(0, hi)` with `outer_hi` overlapping chunks:

        for io in seq(0, outer_hi):
            for ii in seq(0, outer_stride + (hi - outer_hi * outer_stride)):
                s[i -> outer_stride * io + ii]

    Some iterations run more than once, so the body must be idempotent (no
    reduction; no location both read and written), and the chunks must stay inside
    the loop (outer_hi * outer_stride <= hi)."""
    prim = "divide_with_recompute"
    K.check_proc_arg(proc, prim)
    cur = K.loop_cursor(proc, loop_cursor, prim)
    hi = _index_expr(proc, prim, outer_hi, cur._path, "outer_hi")
    stride = _pos_int(prim, "outer_stride", outer_stride)
    outer, inner = _names(prim, new_iters, 2)
    return L.divide_with_recompute(proc, cur, hi, stride, outer, inner)


def mult_loops(proc, nested_loops, new_iter_name):
    """Merge `for i in seq(0, e): for j in seq(0, c): s` (c a literal) into
    `for k in seq(0, e * c): s[i -> k / c, j -> k % c]`. Always safe."""
    prim = "mult_loops"
    K.check_proc_arg(proc, prim)
    cur = K.loop_cursor(proc, nested_loops, prim)
    return L.mult_loops(proc, cur, K.check_name(prim, new_iter_name))


def join_loops(proc, loop1_cursor, loop2_cursor):
    """Join `for i in seq(lo, mid): s` and `for i in seq(mid, hi): s` into
    `for i in seq(lo, hi): s`. Refused unless the bodies are equal and the first
    loop provably ends where the second begins."""
    prim = "join_loops"
    K.check_proc_arg(proc, prim)
    c1 = K.loop_cursor(proc, loop1_cursor, prim)
    c2 = K.loop_cursor(proc, loop2_cursor, prim)
    return L.join_loops(proc, c1, c2)


def cut_loop(proc, loop_cursor, cut_point):
    """Cut `for i in seq(lo, hi)` into `seq(lo, cut)` and `seq(cut, hi)`.
    Refused unless lo <= cut <= hi is proven."""
    prim = "cut_loop"
    K.check_proc_arg(proc, prim)
    cur = K.loop_cursor(proc, loop_cursor, prim)
    return L.cut_loop(proc, cur, _index_expr(proc, prim, cut_point, cur._path, "cut_point"))


def shift_loop(proc, loop_cursor, new_lo):
    """Shift `for i in seq(m, n): s(i)` to
    `for i in seq(new_lo, new_lo + n - m): s(i + (m - new_lo))`. Refused unless
    new_lo >= 0 is proven."""
    prim = "shift_loop"
    K.check_proc_arg(proc, prim)
    cur = K.loop_cursor(proc, loop_cursor, prim)
    return L.shift_loop(proc, cur, _index_expr(proc, prim, new_lo, cur._path, "new_lo"))


def reorder_loops(proc, nested_loops):
    """Swap two directly nested loops: `for i: for j: s` -> `for j: for i: s`.
    Accepts the shorthand `"i j"`. Refused when the loops are not perfectly nested,
    when the inner bounds depend on the outer variable, or when some dependence
    between iterations would be reversed (the message names the accesses)."""
    prim = "reorder_loops"
    K.check_proc_arg(proc, prim)
    return L.reorder_loops(proc, K.loop_cursor(proc, nested_loops, prim))


def unroll_loop(proc, loop_cursor):
    """Replace a loop with literal bounds by copies of its body. Always safe."""
    prim = "unroll_loop"
    K.check_proc_arg(proc, prim)
    return L.unroll_loop(proc, K.loop_cursor(proc, loop_cursor, prim))


def remove_loop(proc, loop_cursor, unsafe_disable_check=False):
    """Replace `for i in _: s` by `s`. Refused unless s does not use i, the loop runs
    at least once, and s is idempotent."""
    prim = "remove_loop"
    K.check_proc_arg(proc, prim)
    cur = K.loop_cursor(proc, loop_cursor, prim)
    return L.remove_loop(proc, cur, _bool(prim, "unsafe_disable_check", unsafe_disable_check))


def add_loop(proc, block_cursor, iter_name, hi_expr, guard=False, unsafe_disable_check=False):
    """Wrap a block in `for iter_name in seq(0, hi_expr)`. Refused unless hi_expr > 0
    is proven and the block is idempotent; with guard=True the block runs under
    `if iter_name == 0:` and need not be idempotent."""
    prim = "add_loop"
    K.check_proc_arg(proc, prim)
    block = K.block_cursor(proc, block_cursor, prim)
    hi = _index_expr(proc, prim, hi_expr, _block_path(block), "hi_expr")
    return L.add_loop(proc, block, K.check_name(prim, iter_name), hi,
                      _bool(prim, "guard", guard),
                      _bool(prim, "unsafe_disable_check", unsafe_disable_check))


def parallelize_loop(proc, loop_cursor):
    """Make a loop `par` (an OpenMP parallel loop in C). Refused when two different
    iterations may touch a location one of them writes or reduces into (a race)."""
    prim = "parallelize_loop"
    K.check_proc_arg(proc, prim)
    return L.parallelize_loop(proc, K.loop_cursor(proc, loop_cursor, prim))


# ---------------------------------------------------------------- scopes


def fission(proc, gap_cursor, n_lifts=1, unsafe_disable_checks=False):
    """Split the loops/ifs around a gap into two copies, n_lifts levels up:

        for i in _: s1; s2   ->   for i in _: s1
                                  for i in _: s2      (gap between s1 and s2)

    Refused when a later iteration of s1 and an earlier iteration of s2 touch the same
    location (one writing), or when s2 uses a buffer allocated in s1."""
    prim = "fission"
    K.check_proc_arg(proc, prim)
    gap = K.gap_cursor(proc, gap_cursor, prim)
    return S.fission(proc, gap, _pos_int(prim, "n_lifts", n_lifts),
                     _bool(prim, "unsafe_disable_checks", unsafe_disable_checks))


def autofission(proc, gap_cursor, n_lifts=1):
    """fission, then remove the loops around either part that no longer need them
    (their body does not use the loop variable and is idempotent)."""
    prim = "autofission"
    K.check_proc_arg(proc, prim)
    gap = K.gap_cursor(proc, gap_cursor, prim)
    return S.autofission(proc, gap, _pos_int(prim, "n_lifts", n_lifts))


def lift_scope(proc, scope_cursor):
    """Swap a loop or if with the loop or if around it (it must be its only
    statement). `for i: if c: A else: B` -> `if c: for i: A else: for i: B`; an if out
    of an if; a loop out of an if; a loop out of a loop (as reorder_loops, with its
    check). Refused when a condition depends on the loop variable or on state the
    body writes."""
    prim = "lift_scope"
    K.check_proc_arg(proc, prim)
    cur = K.stmt_cursor(proc, scope_cursor, prim)
    if not isinstance(cur._node(), (N.For, N.If)):
        raise SchedulingError(f"{prim}: expected a loop or an if")
    return S.lift_scope(proc, cur)


def fuse(proc, stmt1, stmt2, unsafe_disable_check=False):
    """Fuse two consecutive loops with the same range (or two ifs with the same
    condition) into one. Refused when the ranges are not provably equal, or when
    some iteration of the second loop would now run before a later iteration of the
    first that touches the same location."""
    prim = "fuse"
    K.check_proc_arg(proc, prim)
    c1 = K.stmt_cursor(proc, stmt1, prim)
    c2 = K.stmt_cursor(proc, stmt2, prim)
    return S.fuse(proc, c1, c2, _bool(prim, "unsafe_disable_check", unsafe_disable_check))


def specialize(proc, block, conds):
    """Duplicate a block under conditions: `B` -> `if c0: B elif c1: B ... else: B`.
    Always safe; each copy can then be scheduled on its own."""
    prim = "specialize"
    K.check_proc_arg(proc, prim)
    blk = K.block_cursor(proc, block, prim)
    conds = [conds] if isinstance(conds, str) else list(conds)
    if not conds:
        raise SchedulingError(f"{prim}: expected at least one condition")
    parsed = [_bool_expr(proc, prim, c, _block_path(blk)) for c in conds]
    return S.specialize(proc, blk, parsed)


def eliminate_dead_code(proc, stmt_cursor):
    """Replace an if whose condition is provably constant by the branch taken, and
    delete a loop that provably never runs. Refused when neither can be proven."""
    prim = "eliminate_dead_code"
    K.check_proc_arg(proc, prim)
    return S.eliminate_dead_code(proc, K.stmt_cursor(proc, stmt_cursor, prim))


def add_unsafe_guard(proc, block_cursor, var_expr):
    """UNSAFE: wrap a block in `if var_expr:` without any check."""
    prim = "add_unsafe_guard"
    K.check_proc_arg(proc, prim)
    blk = K.block_cursor(proc, block_cursor, prim)
    return S.add_unsafe_guard(proc, blk, _bool_expr(proc, prim, var_expr, _block_path(blk)))


# ---------------------------------------------------------------- other families

from knit.stdlib.sched_buffers import (  # noqa: E402 - buffer and memory primitives
    autolift_alloc, bind_expr, delete_buffer, divide_dim, expand_dim, inline_window,
    lift_alloc, mult_dim, rearrange_dim, resize_dim, reuse_buffer, set_memory,
    set_precision, set_window, sink_alloc, stage_mem, unroll_buffer,
)
from knit.stdlib.sched_subprocs import (  # noqa: E402 - sub-procedure primitives
    call_eqv, extract_subproc, inline, insert_noop_call, make_instr, replace, replace_all,
)

# ---------------------------------------------------------------- combinators


def repeat(sched, n_times=None):
    """`repeat(op)(proc, *args)` applies op until it raises SchedulingError (or
    n_times times), returning the last procedure."""
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
            except (SchedulingError, InvalidCursorError):
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
