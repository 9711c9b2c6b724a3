"""More of Exo 1.0's `exo.stdlib` written anew on knit's primitives: the cursor-
returning wrappers (`fission_`, `cut_loop_`, `specialize_`), loop tiling and
interleaving (`tile_loops_bottom_up`, `interleave_loop`, `unroll_and_jam`,
`jam_stmt`, `divide_loop_recursive`, `cut_loop_and_unroll`), `binary_specialize` and
`unroll_buffers`. Re-exported by `knit.stdlib.stdlib`.
"""

from __future__ import annotations

from dataclasses import dataclass

from knit.API_cursors import (
    AllocCursor,
    Cursor,
    ExprCursor,
    ForCursor,
    IfCursor,
    InvalidCursor,
    InvalidCursorError,
    PassCursor,
)
from knit.errors import SchedulingError
from knit.memory import DRAM
from knit.stdlib.inspection import get_index_in_body, is_loop
from knit.stdlib.passes import (
    Unpackable,
    apply,
    divide_loop_,
    expr_to_string,
    interleave_outer_loop_with_inner_loop,
    make_pass,
    parallelize_and_lift_alloc,
    reorder_stmt_forward,
    repeate,
)
from knit.stdlib.scheduling import (
    FormattedExprStr,
    add_loop,
    cut_loop,
    eliminate_dead_code,
    fission,
    fuse,
    lift_scope,
    reorder_loops,
    shift_loop,
    simplify,
    specialize,
    unroll_buffer,
    unroll_loop,
)
from knit.stdlib.vectorizing import parallelize_all_reductions

__all__ = ["fission_", "fission_cursors", "cut_loop_", "cut_loop_cursors", "specialize_",
           "specialize_cursors", "tile_loops_bottom_up", "interleave_loop",
           "unroll_and_jam", "unroll_and_jam_parent", "jam_stmt", "jam_stmt_cursors",
           "divide_loop_recursive", "divide_loop_recursive_cursors", "binary_specialize",
           "binary_specialize_cursors", "cut_loop_and_unroll",
           "cut_loop_and_unroll_cursors", "unroll_buffers"]


# ---------------------------------------------------------------- cursor-returning wrappers


@dataclass
class fission_cursors(Unpackable):
    scope1: Cursor
    scope2: Cursor


def fission_(proc, gap, rc=False):
    """fission; with rc, also the two scopes. As Exo's: the pair is (the scope holding
    the gap's statement, the next one), swapped when the gap is after that statement."""
    gap = proc.forward(gap)
    stmt = gap.anchor()
    is_after = stmt.after() == gap
    proc = fission(proc, gap)
    if not rc:
        return proc
    scope1 = proc.forward(stmt).parent()
    scope2 = scope1.next()
    if is_after:
        scope1, scope2 = scope2, scope1
    return proc, fission_cursors(scope1, scope2)


@dataclass
class cut_loop_cursors(Unpackable):
    loop1: ForCursor
    loop2: ForCursor


def cut_loop_(proc, loop, expr, rc=False):
    """cut_loop; with rc, also the two loops."""
    proc = cut_loop(proc, loop, expr)
    if not rc:
        return proc
    loop1 = proc.forward(loop)
    return proc, cut_loop_cursors(loop1, loop1.next())


@dataclass
class specialize_cursors(Unpackable):
    if_stmt: Cursor


def specialize_(proc, stmt, cond, rc=False):
    """specialize; with rc, also the new if statement."""
    stmt = proc.forward(stmt)
    parent = stmt.parent()
    index = get_index_in_body(proc, stmt)
    in_else = isinstance(parent, IfCursor) and \
        not isinstance(parent.orelse(), InvalidCursor) and \
        index < len(parent.orelse()) and parent.orelse()[index] == stmt
    proc = specialize(proc, stmt, cond)
    if not rc:
        return proc
    body = proc.body() if isinstance(parent, InvalidCursor) else \
        (proc.forward(parent).orelse() if in_else else proc.forward(parent).body())
    return proc, specialize_cursors(body[index])


# ---------------------------------------------------------------- tiling


def tile_loops_bottom_up(proc, loop, tiles):
    """Tile a perfect nest from the innermost loop out: `tiles` gives one size per loop
    of the nest starting at `loop` (None: leave that loop whole); each divided loop
    gets a cut-and-guard tail, and its inner part is pushed down below the loops
    tiled before it."""
    cur = loop
    for _ in tiles[:-1]:
        if len(cur.body()) != 1:
            raise SchedulingError("tile_loops_bottom_up: every loop of the nest must have "
                                  "a body of one statement")
        if not isinstance(cur.body()[0], ForCursor):
            raise SchedulingError("tile_loops_bottom_up: did not find a nested loop")
        cur = cur.body()[0]
    loops = []
    cur = loop
    for t in tiles:
        loops.append((cur, t))
        cur = cur.body()[0]

    def depth(c):
        if not isinstance(c, (ForCursor, IfCursor)):
            return 0
        return max(depth(s) for s in c.body()) + 1

    def push_loop_in(proc, lp, d):
        lp = proc.forward(lp)
        if depth(lp) == d:
            return proc
        count = len(lp.body())
        for s in list(lp.body())[:-1]:
            proc = fission(proc, proc.forward(s).after())
        lp = proc.forward(lp)
        pieces = []
        for _ in range(count):
            pieces.append(lp)
            lp = lp.next()
        for piece in pieces:
            piece = proc.forward(piece)
            if depth(piece) == d:
                continue
            child = piece.body()[0]
            if isinstance(child, ForCursor):
                proc = reorder_loops(proc, piece)
                moved = proc.forward(piece)
            elif isinstance(child, IfCursor):
                proc = lift_scope(proc, child)
                # the loop itself, now the if's body (forwarding the if may give another
                # copy of it when divide_loop's tail duplicated the body: issue 10.3)
                moved = proc.forward(piece)
            else:
                raise SchedulingError("tile_loops_bottom_up: expected a loop or an if "
                                      "inside the loop being pushed down")
            proc = push_loop_in(proc, moved, d)
        return proc

    for d, (lp, tile) in enumerate(loops[::-1]):
        if tile is not None:
            proc, (_, inner, tail) = divide_loop_(proc, lp, tile, tail="cut_and_guard",
                                                     rc=True)
            proc = push_loop_in(proc, inner, d + 1)
            proc = push_loop_in(proc, proc.forward(tail).body()[0], d + 1)
        else:
            proc = push_loop_in(proc, lp, d + 1)
    return proc


def interleave_loop(proc, loop, factor=None, par_reduce=False, memory=DRAM, tail="cut"):
    """Unroll a loop (divided by factor first, if given) so that each statement of its
    body is repeated `factor` times in a row: `for i: S1; S2` -> `S1 x c; S2 x c`.
    tail: "cut", "cut_and_guard", "recursive" or "specialize" for the remainder."""
    if factor == 1:
        return proc
    loop = proc.forward(loop)

    def rewrite(proc, loop, factor=None, par_reduce=False, memory=DRAM, tail="cut"):
        loop = proc.forward(loop)
        if factor is not None:
            proc, (outer, loop, _) = divide_loop_(proc, loop, factor, tail=tail, rc=True)
        else:
            outer = loop.parent()
        if par_reduce:
            proc = parallelize_all_reductions(proc, outer, memory=memory, unroll=True)
            loop = proc.forward(outer).body()[0]
        allocs = [s for s in proc.forward(loop).body() if isinstance(s, AllocCursor)]
        proc = apply(parallelize_and_lift_alloc)(proc, allocs)
        stmts = list(proc.forward(loop).body())
        proc = apply(fission)(proc, [s.after() for s in stmts[:-1]])
        return apply(unroll_loop)(proc, [proc.forward(s).parent() for s in stmts])

    if tail in ("cut", "cut_and_guard"):
        return rewrite(proc, loop, factor, par_reduce, memory, tail)
    if factor is None:
        raise SchedulingError(f"interleave_loop: tail={tail!r} needs a factor")
    if tail == "recursive":
        proc, (_, inners, _) = divide_loop_recursive(proc, loop, factor, tail="cut", rc=True)
        return apply(rewrite)(proc, inners, par_reduce=par_reduce, memory=memory)
    if tail == "specialize":
        proc = rewrite(proc, loop, factor, par_reduce, memory, tail="cut")
        tail_loop = proc.forward(loop).next()
        proc, (stmts,) = binary_specialize(proc, tail_loop, tail_loop.hi(),
                                           list(range(factor)), rc=True)
        return apply(rewrite)(proc, stmts, par_reduce=par_reduce, memory=memory)
    raise SchedulingError(f"interleave_loop: unknown tail strategy {tail!r}")


def unroll_and_jam(proc, loop, factor, unroll=(True, True, True)):
    """interleave_outer_loop_with_inner_loop with the one loop in `loop`'s body."""
    loop = proc.forward(loop)
    inner = [s for s in loop.body() if isinstance(s, ForCursor)]
    if len(inner) > 1:
        raise SchedulingError("unroll_and_jam: multiple loops found, the choice is "
                              "ambiguous")
    if not inner:
        raise SchedulingError("unroll_and_jam: no loops found")
    return interleave_outer_loop_with_inner_loop(proc, loop, inner[0], factor,
                                                unroll=unroll)


def unroll_and_jam_parent(proc, loop, factor, unroll=(True, True, True)):
    """interleave_outer_loop_with_inner_loop with `loop`'s parent loop."""
    loop = proc.forward(loop)
    outer = loop.parent()
    if not isinstance(outer, ForCursor):
        raise SchedulingError("unroll_and_jam_parent: the parent is not a loop")
    return interleave_outer_loop_with_inner_loop(proc, outer, loop, factor,
                                                unroll=unroll)


@dataclass
class jam_stmt_cursors(Unpackable):
    loop: ForCursor
    stmt: Cursor


def jam_stmt(proc, stmt, unsafe_disable_check=False, rc=False):
    """Move a statement into the loop that follows it (add_loop around it with the
    loop's range, fuse, then move it down to the end of the body)."""
    stmt = proc.forward(stmt)
    loop = stmt.next()
    if not is_loop(proc, loop):
        raise SchedulingError("jam_stmt: the next statement must be a loop")
    proc = add_loop(proc, stmt, loop.name(), FormattedExprStr("_ - _", loop.hi(), loop.lo()),
                    unsafe_disable_check=unsafe_disable_check)
    stmt_loop = proc.forward(stmt).parent()
    proc = shift_loop(proc, stmt_loop, FormattedExprStr("_", proc.forward(loop).lo()))
    proc = simplify(proc)
    proc = fuse(proc, proc.forward(stmt_loop), proc.forward(loop),
                unsafe_disable_check=unsafe_disable_check)
    proc = repeate(reorder_stmt_forward)(proc, stmt)
    if not rc:
        return proc
    return proc, jam_stmt_cursors(proc.forward(stmt_loop), proc.forward(stmt))


@dataclass
class divide_loop_recursive_cursors(Unpackable):
    outer_loops: list
    inner_loops: list
    tail_loop: Cursor


def divide_loop_recursive(proc, loop, factor, tail="cut", rc=False):
    """Divide by factor, then the tail by factor // 2, and so on down to 2."""
    if tail not in ("cut", "cut_and_guard"):
        raise SchedulingError("divide_loop_recursive: the tail strategy must be cut or "
                              "cut_and_guard")
    outers, inners, tail_loop = [], [], loop
    while factor > 1:
        proc, (outer, inner, tail_loop) = divide_loop_(proc, tail_loop, factor,
                                                          tail=tail, rc=True)
        outers.append(outer)
        inners.append(inner)
        factor //= 2
    if not rc:
        return proc
    return proc, divide_loop_recursive_cursors([proc.forward(c) for c in outers],
                                               [proc.forward(c) for c in inners], tail_loop)


@dataclass
class binary_specialize_cursors(Unpackable):
    stmts: list


def binary_specialize(proc, stmt, expr, values, rc=False):
    """Specialize a statement on `expr` taking each of `values` (a binary tree of
    `expr < v` tests ending in `expr == v`)."""
    stmt = proc.forward(stmt)
    if isinstance(expr, ExprCursor):
        expr = expr_to_string(proc.forward(expr))
    if len(values) == 1:
        raise SchedulingError("binary_specialize: cannot specialize given one value")
    values = sorted(values)

    def rewrite(proc, stmt, values):
        if len(values) == 1:
            proc, (if_stmt,) = specialize_(proc, stmt, f"{expr} == {values[0]}", rc=True)
            proc = simplify(proc)
            try:  # simplify drops the `if` itself when the tests above decide it
                if_stmt = proc.forward(if_stmt)
            except InvalidCursorError:
                return proc
            return eliminate_dead_code(proc, if_stmt)
        md = len(values) // 2
        proc, (if_stmt,) = specialize_(proc, stmt, f"{expr} < {values[md]}", rc=True)
        proc = rewrite(proc, if_stmt.body()[0], values[:md])
        return rewrite(proc, proc.forward(if_stmt).orelse()[0], values[md:])

    parent, index = stmt.parent(), get_index_in_body(proc, stmt)
    proc = rewrite(proc, stmt, values)
    if not rc:
        return proc
    # the specialized copies: the leaves of the if tree now where the statement was
    # (found by position: forwarding may map every copy to one of them)
    root = proc.body()[index] if isinstance(parent, InvalidCursor) else \
        proc.forward(parent).body()[index]

    def leaves(c):
        if isinstance(c, IfCursor):
            yield from (x for s in c.body() for x in leaves(s))
            if not isinstance(c.orelse(), InvalidCursor):
                yield from (x for s in c.orelse() for x in leaves(s))
        elif not isinstance(c, PassCursor):
            yield c

    return proc, binary_specialize_cursors(list(leaves(root)))


@dataclass
class cut_loop_and_unroll_cursors(Unpackable):
    loop: ForCursor


def cut_loop_and_unroll(proc, loop, const, front=True, rc=False):
    """Peel the first (front) or last iteration of a loop and unroll it."""
    loop = proc.forward(loop)
    cut = FormattedExprStr("_ + 1", loop.lo()) if front else \
        FormattedExprStr("_ - 1", loop.hi())
    proc, (const_loop, loop) = cut_loop_(proc, loop, cut, rc=True)
    if not front:
        const_loop, loop = loop, const_loop
    proc = simplify(shift_loop(proc, const_loop, 0))
    proc = unroll_loop(proc, proc.forward(const_loop))
    proc = shift_loop(proc, proc.forward(loop), 0)
    if not rc:
        return proc
    return proc, cut_loop_and_unroll_cursors(proc.forward(loop))


def unroll_buffers(proc, block=InvalidCursor(), mem=None):
    """unroll_buffer (dimension 0) on every tensor allocation of the block whose first
    extent is a literal, until none is left (`mem`: also those in that memory with one
    dimension)."""

    def rewrite(proc, alloc):
        alloc = proc.forward(alloc)
        if not isinstance(alloc, AllocCursor) or not alloc.is_tensor():
            return proc
        shape = alloc.shape()
        if len(shape) - int(alloc.mem() is mem) and str(shape[0]).isdigit():
            return unroll_buffer(proc, alloc, 0)
        return proc

    while True:
        new = make_pass(rewrite)(proc, block)
        if new == proc:
            return new
        proc = new
