"""Halide-style scheduling (compute_at, store_at, tile, split, ...) as in Exo 1.0's
`exo.stdlib.halide_scheduling_ops`, written anew on knit's primitives and cursors.

Each operation is a sequence of primitives; where one refuses, the operation stops
with that refusal. All are checked but one: compute_at without a prologue fuses the
producer's and consumer's loops with `fuse(..., unsafe_disable_check=True)`, as Exo
does. Its `divide_with_recompute` chunks overlap (iteration i rewrites values
iteration i - 1 wrote, with the same values), which fuse's dependence check cannot
accept; the chunks are sized by the bounds inference below to cover every value the
consumer reads. So that result is not proven equal to the input (`is_eq` is False);
knit's tests check it on random inputs (tests/exo_compat/test_halide_ops.py).

Assumptions (Exo's): buffer names are unique; the producer and consumer nests are at
the top level; each consumer iteration reads a contiguous range of producer values;
a loop variable indexes one dimension of the producer.

Bounds inference (`bounds_inference`): over the reads of a buffer inside a loop, the
index in one dimension is `base + [lo, hi]`, where `base` holds the variables bound
outside the loop (a linear form) and [lo, hi] the constant range the loops inside it
sweep. Only literal loop bounds inside the loop are swept; other forms give no bound.
"""

from __future__ import annotations

from dataclasses import dataclass

from knit.API_cursors import (
    AssignCursor,
    BinaryOpCursor,
    ForCursor,
    InvalidCursor,
    LiteralCursor,
    ReadCursor,
    UnaryMinusCursor,
)
from knit.errors import SchedulingError
from knit.stdlib.inspection import (
    get_enclosing_loop,
    get_enclosing_loop_by_name,
    get_parents,
    is_literal,
    lrn,
    match_parent,
)
from knit.stdlib.scheduling import (
    cut_loop,
    delete_buffer,
    divide_loop,
    divide_with_recompute,
    fuse,
    inline_assign,
    parallelize_loop,
    reorder_loops,
    reorder_stmts,
    resize_dim,
    rewrite_expr,
    shift_loop,
    simplify,
    sink_alloc,
)

__all__ = [
    "compute_at",
    "store_at",
    "compute_and_store_at",
    "tile",
    "split",
    "halide_tile",
    "halide_split",
    "halide_compute_at",
    "halide_store_at",
    "halide_compute_and_store_at_same",
    "halide_compute_and_store_at",
    "halide_fully_inline",
    "halide_parallel",
]


# ---------------------------------------------------------------- bounds inference


@dataclass(frozen=True)
class IndexRange:
    """Values `base + lo .. base + hi` (inclusive); base is a linear form over the
    variables left symbolic (name -> coefficient, "" the constant 0 never stored); lo
    or hi None: no bound."""

    base: tuple  # sorted ((name, coeff), ...)
    lo: int | None
    hi: int | None

    @staticmethod
    def const(lo, hi) -> IndexRange:
        return IndexRange((), lo, hi)

    def __add__(self, o: IndexRange) -> IndexRange:
        base = dict(self.base)
        for v, c in o.base:
            base[v] = base.get(v, 0) + c
        return IndexRange(_form(base), _opt(self.lo, o.lo, int.__add__),
                          _opt(self.hi, o.hi, int.__add__))

    def scale(self, k: int) -> IndexRange:
        base = {v: c * k for v, c in self.base}
        lo, hi = (None if self.lo is None else self.lo * k,
                  None if self.hi is None else self.hi * k)
        return IndexRange(_form(base), *((lo, hi) if k >= 0 else (hi, lo)))

    def __or__(self, o: IndexRange) -> IndexRange:
        if self.base != o.base:
            return IndexRange(self.base, None, None)
        return IndexRange(self.base, _opt(self.lo, o.lo, min), _opt(self.hi, o.hi, max))

    def get_stride_of(self, name: str) -> int:
        return dict(self.base).get(name, 0)

    def get_size(self) -> int | None:
        return None if self.lo is None or self.hi is None else self.hi - self.lo + 1

    def get_bounds(self) -> tuple[str, str]:
        """(base + lo, base + hi + 1) as text; `-inf`/`inf` where unbounded."""
        base = " + ".join(f"{c} * {v}" if c != 1 else v for v, c in self.base)
        lo = "-inf" if self.lo is None else f"{base} + {self.lo}" if base else str(self.lo)
        hi = "inf" if self.hi is None else \
            f"{base} + {self.hi + 1}" if base else str(self.hi + 1)
        return lo, hi


def _form(d: dict) -> tuple:
    return tuple(sorted((v, c) for v, c in d.items() if c != 0))


def _opt(a, b, f):
    return None if a is None or b is None else f(a, b)


def _range_of(expr, env: dict) -> IndexRange:
    """The range of an index expression cursor; env: loop name -> (lo, hi) inclusive."""
    if isinstance(expr, LiteralCursor):
        return IndexRange.const(expr.value(), expr.value())
    if isinstance(expr, ReadCursor):
        name = expr.name()
        if name in env:
            return IndexRange.const(*env[name])
        return IndexRange(((name, 1),), 0, 0)
    if isinstance(expr, UnaryMinusCursor):
        return _range_of(expr.arg(), env).scale(-1)
    if isinstance(expr, BinaryOpCursor):
        a, b = _range_of(expr.lhs(), env), _range_of(expr.rhs(), env)
        op = expr.op()
        if op == "+":
            return a + b
        if op == "-":
            return a + b.scale(-1)
        if op == "*":
            for x, y in ((a, b), (b, a)):
                if not y.base and y.lo is not None and y.lo == y.hi:
                    return x.scale(y.lo)
        if op == "/" and not b.base and b.lo is not None and b.lo == b.hi and b.lo > 0 \
                and not a.base:
            return IndexRange.const(_opt(a.lo, b.lo, int.__floordiv__),
                                    _opt(a.hi, b.lo, int.__floordiv__))
        if op == "%" and not b.base and b.lo is not None and b.lo == b.hi and b.lo > 0:
            return IndexRange.const(0, b.lo - 1)
    return IndexRange((), None, None)


def infer_range(idx_expr, scope) -> IndexRange:
    """The range of `idx_expr` over the loops between it and `scope` (scope's own
    variable stays symbolic)."""
    env = {}
    loops = [c for c in get_parents(idx_expr.proc(), idx_expr, up_to=scope)
             if isinstance(c, ForCursor) and c != scope]
    for c in reversed(loops):  # outermost first: inner bounds may use outer variables
        lo, hi = _range_of(c.lo(), env), _range_of(c.hi(), env)
        env[c.name()] = (lo.lo if not lo.base else None,
                         hi.hi - 1 if not hi.base and hi.hi is not None else None)
    return _range_of(idx_expr, env)


def _reads(proc, loop, name):
    return [c for c in lrn(proc, loop) if isinstance(c, ReadCursor) and c.name() == name
            and c.idx()]


def bounds_inference(proc, loop, buffer_name: str, buffer_dim: int) -> IndexRange:
    """The union of the ranges of `buffer_name`'s index in `buffer_dim` over its reads
    inside `loop`."""
    bound = None
    for c in _reads(proc, loop, buffer_name):
        r = infer_range(c.idx()[buffer_dim], loop)
        bound = r if bound is None else bound | r
    if bound is None:
        raise SchedulingError(f"bounds inference: '{buffer_name}' is not read inside the "
                              f"loop over '{loop.name()}'")
    return bound


def _names_in(expr) -> set:
    if isinstance(expr, ReadCursor):
        return {expr.name()}
    if isinstance(expr, UnaryMinusCursor):
        return _names_in(expr.arg())
    if isinstance(expr, BinaryOpCursor):
        return _names_in(expr.lhs()) | _names_in(expr.rhs())
    return set()


def get_affected_read_dim(proc, buffer_name: str, loop) -> int:
    """The dimension of `buffer_name` whose index uses `loop`'s variable (refused when
    several do)."""
    dims = set()
    for c in _reads(proc, loop, buffer_name):
        for k, e in enumerate(c.idx()):
            if loop.name() in _names_in(e):
                dims.add(k)
    if len(dims) != 1:
        raise SchedulingError(f"'{loop.name()}' indexes {len(dims)} dimensions of "
                              f"'{buffer_name}'; compute_at/store_at need exactly one")
    return dims.pop()


# ---------------------------------------------------------------- operations


def _divide_with_recompute(proc, loop, outer_hi, outer_stride: int, new_iters):
    """divide_with_recompute, unless its inner loop would run once (then unchanged)."""
    new = simplify(divide_with_recompute(proc, loop, outer_hi, outer_stride, new_iters))
    if is_literal(new, new.forward(loop).body()[0].hi(), 1):
        return proc
    return new


def _simplify_with_preds(proc):
    """simplify, after reading each `assert E == c` of the procedure as E = c."""
    for pred in proc.INTERNAL_proc().preds:
        text = str(pred)
        if " == " in text:
            lhs, rhs = text.rsplit(" == ", 1)
            if rhs.strip().lstrip("-").isdigit():
                try:
                    proc = rewrite_expr(proc, lhs.strip(), int(rhs))
                except (SchedulingError, ValueError):
                    pass
    return simplify(proc)


def compute_at(proc, producer_assign, target_loop, with_prologue: bool = False):
    """Compute the producer's values at the level of `target_loop` of the consumer's
    nest: for each loop from the top of the consumer's nest down to `target_loop`, the
    matching producer loop is brought next to it, divided with recomputation (or, with
    a prologue, cut and shifted) so each chunk makes what that iteration reads, and
    fused with it."""
    producer_assign = proc.forward(producer_assign)
    target_loop = proc.forward(target_loop)
    producer = producer_assign.name()
    _, c_top = match_parent(producer_assign, target_loop)
    c_loops = [target_loop] + list(get_parents(proc, target_loop, up_to=c_top))
    for c_loop in reversed(c_loops):
        producer_assign = proc.forward(producer_assign)
        c_loop = proc.forward(c_loop)
        dim = get_affected_read_dim(proc, producer, c_loop)
        bounds = bounds_inference(proc, c_loop, producer, dim)
        n_c = str(c_loop.hi())
        dim_vars = _names_in(producer_assign.idx()[dim])
        p_loop, _ = match_parent(producer_assign, c_loop)
        while p_loop.name() not in dim_vars:
            p_loop = p_loop.body()[0]
        while not _same_parent(p_loop, c_loop):
            proc = reorder_loops(proc, p_loop.parent())
            p_loop, c_loop = proc.forward(p_loop), proc.forward(c_loop)
        while p_loop.next() != c_loop:
            proc = reorder_stmts(proc, p_loop.expand(0, 1))
            p_loop, c_loop = proc.forward(p_loop), proc.forward(c_loop)
        if not with_prologue:
            stride = bounds.get_stride_of(c_loop.name())
            new_iters = [c_loop.name(), f"{c_loop.name()}i"]
            proc = _divide_with_recompute(proc, p_loop, n_c, stride, new_iters)
            proc = fuse(proc, p_loop, c_loop, unsafe_disable_check=True)
        else:
            size = bounds.get_size()
            if size is None:
                raise SchedulingError(f"compute_at: cannot bound what an iteration of "
                                      f"'{c_loop.name()}' reads of '{producer}'")
            # (found by position: cut_loop copies the body, and forwarding may take
            # one copy for the other)
            where = _path(p_loop)
            proc = cut_loop(proc, p_loop, size - 1)
            proc = shift_loop(proc, _at(proc, where).next(), 0)
            main_loop = _at(proc, where).next()
            proc = fuse(proc, main_loop, main_loop.next())
        proc = _simplify_with_preds(proc)
        if with_prologue:
            # follow the producer into the fused loop: the prologue before it has a
            # copy of the assignment, which forwarding may confuse with it
            producer_assign = _last_assign(proc, producer)
    return proc


def _same_parent(a, b) -> bool:
    pa, pb = a.parent(), b.parent()
    top_a, top_b = isinstance(pa, InvalidCursor), isinstance(pb, InvalidCursor)
    return top_a and top_b or (not top_a and not top_b and pa == pb)


def _path(stmt) -> list:
    """The positions leading from the procedure's body to `stmt`."""
    path = []
    while not isinstance(stmt, InvalidCursor):
        parent = stmt.parent()
        block = stmt.proc().body() if isinstance(parent, InvalidCursor) else parent.body()
        path.append(next(k for k, s in enumerate(block) if s == stmt))
        stmt = parent
    return path[::-1]


def _at(proc, path):
    c = proc.body()[path[0]]
    for k in path[1:]:
        c = c.body()[k]
    return c


def _last_assign(proc, name: str):
    found = [c for c in lrn(proc) if isinstance(c, AssignCursor) and c.name() == name]
    if not found:
        raise SchedulingError(f"compute_at: lost the assignment to '{name}'")
    return found[-1]


def store_at(proc, producer_alloc, target_loop):
    """Move the producer's allocation into `target_loop`, shrinking each dimension to
    what one iteration of each loop on the way uses."""
    producer_alloc = proc.forward(producer_alloc)
    target_loop = proc.forward(target_loop)
    producer = producer_alloc.name()
    top, _ = match_parent(target_loop, producer_alloc)
    between = list(get_parents(proc, target_loop, up_to=top))[::-1]
    for loop in between + [target_loop]:
        loop = proc.forward(loop)
        producer_alloc = proc.forward(producer_alloc)
        dim = get_affected_read_dim(proc, producer, loop)
        bounds = bounds_inference(proc, loop, producer, dim)
        lo, _ = bounds.get_bounds()
        size = bounds.get_size()
        while producer_alloc.next() != loop:
            proc = reorder_stmts(proc, producer_alloc.expand(0, 1))
            producer_alloc, loop = proc.forward(producer_alloc), proc.forward(loop)
        proc = sink_alloc(proc, producer_alloc)
        proc = resize_dim(proc, producer_alloc, dim, size, lo)
        proc = simplify(proc)
    return simplify(proc)


def compute_and_store_at(proc, producer: str, target_loop):
    """compute_at then store_at at the same loop (Halide's compute_at alone)."""
    target_loop = proc.forward(target_loop)
    proc = compute_at(proc, proc.find(f"{producer} = _"), target_loop)
    target_loop = proc.forward(target_loop.body()[0]).parent()
    return store_at(proc, proc.find(f"{producer} : _"), target_loop)


def tile(proc, i_loop, j_loop, new_i_iters, new_j_iters, i_tile_size: int,
         j_tile_size: int, perfect: bool = True):
    """Divide two nested loops (perfectly) and order them `io jo ii ji`."""
    if not perfect:
        raise SchedulingError("tile: only perfect tiling is supported (as in Exo)")
    i_loop, j_loop = proc.forward(i_loop), proc.forward(j_loop)
    if j_loop.parent() != i_loop:
        raise SchedulingError("tile: the second loop must be the body of the first")
    proc = divide_loop(proc, i_loop, i_tile_size, new_i_iters, perfect=True)
    proc = divide_loop(proc, j_loop, j_tile_size, new_j_iters, perfect=True)
    return reorder_loops(proc, proc.forward(i_loop).body()[0])


def split(proc, loop, o_iter: str, i_iter: str, split_factor: int, tail: str):
    """divide_loop, with tail "perfect" meaning perfect=True."""
    loop = proc.forward(loop)
    if tail == "perfect":
        return divide_loop(proc, loop, split_factor, [o_iter, i_iter], perfect=True)
    return divide_loop(proc, loop, split_factor, [o_iter, i_iter], tail=tail)


def halide_tile(p, buffer, y, x, yi, xi, yTile, xTile):
    assign = p.find(f"{buffer} = _")
    y_loop = get_enclosing_loop_by_name(p, assign, y)
    x_loop = get_enclosing_loop_by_name(p, assign, x)
    return tile(p, y_loop, x_loop, [y, yi], [x, xi], yTile, xTile, perfect=True)


def halide_split(p, stage: str, x: str, xo: str, xi: str, split_factor: int,
                 tail: str = "perfect"):
    loop = get_enclosing_loop_by_name(p, p.find(f"{stage} = _"), x)
    return split(p, loop, xo, xi, split_factor, tail)


def halide_compute_at(p, producer: str, consumer: str, loop: str,
                      with_prologue: bool = True):
    target = get_enclosing_loop_by_name(p, p.find(f"{consumer} = _"), loop)
    return compute_at(p, p.find(f"{producer} = _"), target, with_prologue=with_prologue)


def halide_store_at(p, producer: str, consumer: str, loop: str):
    target = get_enclosing_loop_by_name(p, p.find(f"{consumer} = _"), loop)
    return store_at(p, p.find(f"{producer} : _"), target)


def halide_compute_and_store_at_same(p, producer: str, consumer: str, loop: str):
    target = get_enclosing_loop_by_name(p, p.find(f"{consumer} = _"), loop)
    return compute_and_store_at(p, producer, target)


def halide_compute_and_store_at(p, producer: str, consumer: str, compute_loop: str,
                                store_loop: str):
    p = halide_compute_and_store_at_same(p, producer, consumer, store_loop)
    target = get_enclosing_loop_by_name(p, p.find(f"{consumer} = _"), compute_loop)
    return compute_at(p, p.find(f"{producer} = _"), target, with_prologue=True)


def halide_fully_inline(p, producer: str, consumer: str):
    loop = get_enclosing_loop(p, p.find(f"{consumer} = _"))
    p = compute_and_store_at(p, producer, loop)
    p = inline_assign(p, p.find(f"{producer} = _"))
    return delete_buffer(p, p.find(f"{producer}: _"))


def halide_parallel(p, loop: str):
    return parallelize_loop(p, p.find_loop(loop))
