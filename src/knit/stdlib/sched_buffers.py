"""Public buffer and memory primitives (re-exported by knit.stdlib.scheduling)."""

from __future__ import annotations

from knit.API_types import knit_name_of
from knit.cursors import cursor as C
from knit.cursors.internal import node_of
from knit.errors import SchedulingError
from knit.ir import nodes as N, types as T
from knit.memory import Memory
from knit.rewrite import buffers as B, common as K, memory as M


def _expr_at(proc, prim, v, site, what, *, index=True):
    from knit.frontend.fragment import parse_expr_fragment

    if isinstance(v, int) and not isinstance(v, bool):
        return N.Const(v, T.INT)
    path = (("body", 0),) if B.is_arg(site) else site.path
    e = parse_expr_fragment(proc, v, path, prim)
    if index and not e.type.is_indexable():
        raise SchedulingError(f"{prim}: {what} must be an index expression, got {v!r}")
    return e


def _int(prim, name, v, lo=0):
    if not isinstance(v, int) or isinstance(v, bool) or v < lo:
        raise SchedulingError(f"{prim}: {name} must be an integer >= {lo}, got {v!r}")
    return v


# ---------------------------------------------------------------- reshaping buffers


def expand_dim(proc, buf_cursor, alloc_dim, indexing_expr):
    """Add a leading dimension of size `alloc_dim` to an allocation; existing accesses
    use index `indexing_expr` in it: `x : T[...]` -> `x : T[alloc_dim, ...]`,
    `x[...]` -> `x[indexing_expr, ...]`. Refused unless alloc_dim > 0 and
    0 <= indexing_expr < alloc_dim are proven; refused when indexing_expr reads a config
    field (it is copied into every access), or the buffer is passed whole to a call or
    has its strides read."""
    prim = "expand_dim"
    K.check_proc_arg(proc, prim)
    site = B.buf_site(proc, buf_cursor, prim, alloc_only=True)
    size = _expr_at(proc, prim, alloc_dim, site, "alloc_dim")
    index = _expr_at(proc, prim, indexing_expr, site, "indexing_expr")
    return B.expand_dim(site, size, index)


def divide_dim(proc, alloc_cursor, dim_idx, quotient):
    """Split dimension `dim_idx` (a multiple of `quotient`) into two:
    `x : R[n, 12]`, `x[i, j]` -> `x : R[n, 3, 4]`, `x[i, j / 4, j % 4]`. Refused unless
    the dimension is provably a multiple of `quotient` and at least `quotient`; refused
    when a window of the buffer spans several rows of the divided dimension, or the
    buffer is passed whole to a call or has its strides read."""
    prim = "divide_dim"
    K.check_proc_arg(proc, prim)
    site = B.buf_site(proc, alloc_cursor, prim, alloc_only=True)
    return B.divide_dim(site, _int(prim, "dim_idx", dim_idx),
                        _int(prim, "quotient", quotient, 1))


def mult_dim(proc, alloc_cursor, hi_dim_idx, lo_dim_idx):
    """Merge two dimensions (the lower one a literal c):
    `x : R[n, m, 4]`, `x[i, j, k]` -> (0, 2) `x : R[4 * n, m]`, `x[4 * i + k, j]`.
    Refused when the lower dimension is not a literal or is the higher one, and when the
    buffer is passed whole to a call, has its strides read or a window taken of it."""
    prim = "mult_dim"
    K.check_proc_arg(proc, prim)
    site = B.buf_site(proc, alloc_cursor, prim, alloc_only=True)
    return B.mult_dim(site, _int(prim, "hi_dim_idx", hi_dim_idx),
                      _int(prim, "lo_dim_idx", lo_dim_idx))


def rearrange_dim(proc, buf_cursor, permute_vector):
    """Permute an allocation's dimensions: [2, 0, 1] makes `T[N, M, K]` into `T[K, N, M]`.
    Refused when the buffer is passed whole to a call, has its strides read or a window
    taken of it."""
    prim = "rearrange_dim"
    K.check_proc_arg(proc, prim)
    site = B.buf_site(proc, buf_cursor, prim, alloc_only=True)
    if not isinstance(permute_vector, (list, tuple)) or \
            not all(isinstance(k, int) and not isinstance(k, bool) for k in permute_vector):
        raise SchedulingError(f"{prim}: permute_vector must be a list of dimension indices, "
                              f"got {permute_vector!r}")
    return B.rearrange_dim(site, list(permute_vector))


def resize_dim(proc, buf_cursor, dim_idx, size, offset, fold: bool = False):
    """Resize dimension `dim_idx` to `size`, shifting accesses by `-offset`. Refused
    unless size > 0 and every access provably lands in [0, size) afterwards; refused
    when `offset` reads a config field, or the buffer is passed whole to a call or has
    its strides read.

    fold=True makes a circular buffer of a literal `size` instead (offset is ignored):
    `x[.., e, ..]` -> `x[.., e % size, ..]`. Accepted when no access may fall back
    `size` or more elements behind an earlier one (going forward is free; a statement
    reads before it writes), proven per pair of accesses; refused for accesses through
    a named window."""
    prim = "resize_dim"
    K.check_proc_arg(proc, prim)
    site = B.buf_site(proc, buf_cursor, prim, alloc_only=True)
    if fold:
        if not isinstance(size, int) or isinstance(size, bool) or size < 1:
            raise SchedulingError(f"{prim}: with fold=True the size must be a positive "
                                  f"integer literal, got {size!r}")
        return B.fold_dim(site, _int(prim, "dim_idx", dim_idx), size)
    return B.resize_dim(site, _int(prim, "dim_idx", dim_idx),
                        _expr_at(proc, prim, size, site, "size"),
                        _expr_at(proc, prim, offset, site, "offset"))


def unroll_buffer(proc, alloc_cursor, dimension):
    """Split a buffer along a literal dimension indexed only by literals into separate
    buffers: `buf : T[2]` -> `buf_0 : T`, `buf_1 : T`. Refused when an access indexes
    that dimension with anything but a literal (a slice too), or the buffer is passed
    whole to a call or has its strides read."""
    prim = "unroll_buffer"
    K.check_proc_arg(proc, prim)
    site = B.buf_site(proc, alloc_cursor, prim, alloc_only=True)
    return B.unroll_buffer(site, _int(prim, "dimension", dimension))


# ---------------------------------------------------------------- moving and reusing


def lift_alloc(proc, alloc_cursor, n_lifts=1):
    """Move an allocation out of the loops/ifs around it (n_lifts levels). Refused when
    its shape depends on a loop variable it leaves, has a size that is only known to
    be positive inside (`N - 1` in a loop that runs only when N >= 2), or reads a config
    field the loop or if writes (it would be evaluated with another value); refused at
    the top level, and when the buffer, lifted out of a par loop, would be shared by its
    iterations (a race)."""
    prim = "lift_alloc"
    K.check_proc_arg(proc, prim)
    site = B.buf_site(proc, alloc_cursor, prim, alloc_only=True)
    return B.lift_alloc(site, _int(prim, "n_lifts", n_lifts, 1))


def autolift_alloc(proc, alloc_cursor, n_lifts=1, mode="row", size=None, keep_dims=False):
    """Lift an allocation out of loops, adding a dimension per loop whose variable its
    accesses use (mode 'row': new dimensions first; 'col': last). Each level is
    refused as lift_alloc refuses, and a new dimension as expand_dim refuses (its
    extent, the loop's trip count or `size`, provably positive, and so on)."""
    prim = "autolift_alloc"
    K.check_proc_arg(proc, prim)
    if mode not in ("row", "col"):
        raise SchedulingError(f"{prim}: mode must be 'row' or 'col', got {mode!r}")
    site = B.buf_site(proc, alloc_cursor, prim, alloc_only=True)
    sz = None if size is None else _expr_at(proc, prim, size, site, "size")
    return B.autolift_alloc(site, _int(prim, "n_lifts", n_lifts, 1), mode, sz, bool(keep_dims))


def sink_alloc(proc, alloc_cursor):
    """Move an allocation into the loop or if right after it (an if's else branch gets
    a buffer of its own). Refused when the buffer is used after that statement, or when
    an iteration may read a value an earlier iteration wrote (a read is safe when the
    same iteration surely wrote that element before it), or when its shape reads a
    config field the loop writes."""
    prim = "sink_alloc"
    K.check_proc_arg(proc, prim)
    return B.sink_alloc(B.buf_site(proc, alloc_cursor, prim, alloc_only=True))


def delete_buffer(proc, buf_cursor):
    """Delete an allocation that nothing uses."""
    prim = "delete_buffer"
    K.check_proc_arg(proc, prim)
    return B.delete_buffer(B.buf_site(proc, buf_cursor, prim, alloc_only=True))


def reuse_buffer(proc, buf_cursor, replace_cursor):
    """Use the existing buffer x instead of allocating y: `x : T; ...; y : T; s` ->
    `x : T; ...; s[y -> x]`. Refused unless both have the same type, shape and memory
    and x is not used once y is written (in the statement that first writes y, x may
    still be read); refused when y is not allocated in x's scope, or the shapes read a
    config field written in x's scope."""
    prim = "reuse_buffer"
    K.check_proc_arg(proc, prim)
    keep = B.buf_site(proc, buf_cursor, prim)
    if B.is_arg(keep):
        raise SchedulingError(f"{prim}: '{keep.node().name.name}' is an argument; its final "
                              "value is the procedure's result, so it cannot hold another "
                              "buffer")
    drop = B.buf_site(proc, replace_cursor, prim, alloc_only=True)
    return B.reuse_buffer(keep, drop)


def inline_window(proc, winstmt_cursor):
    """Replace a window statement `y = x[...]` by its definition at every use:
    `y[i]` -> `x[lo + i]`, windows of y -> windows of x, `stride(y, d)` -> the stride
    of x in the dimension d stands for. Refused only when the window's bounds read a
    config field written before a use of y (inlined, that use would see the new
    value)."""
    prim = "inline_window"
    K.check_proc_arg(proc, prim)
    cur = K.stmt_cursor(proc, winstmt_cursor, prim)
    if not isinstance(cur, C.WindowStmtCursor):
        raise K.refuse(prim, cur, "expected a window statement `y = x[...]`")
    return B.inline_window(K.site_of(cur, prim))


# ---------------------------------------------------------------- memory


def stage_mem(proc, block_cursor, win_expr, new_buf_name, accum=False):
    """Stage the window `win_expr` of a buffer into a new buffer around a block: load it
    before, rewrite the block's accesses, store it back after (only if the block writes
    it). `win_expr` is a window ("C[0:6, 0:16]": a buffer with one dimension per slice),
    a point ("C[i, j]") or a scalar buffer ("c"), both staged into a scalar. With
    accum=True (a block that only reduces into the window) the new buffer starts at zero
    and is added back. Refused unless every access of the buffer in the block provably
    falls inside the window. Refused too when the block reaches the staged memory under
    another name (the buffer a staged window is of, another window) where either is
    written; when a window of the buffer the block defines is used after it; when a
    slice of a window the block takes falls on a staged point (it would lose a
    dimension); and when the strides of a window of it are read and the staging buffer
    has other strides. Refused as well when the block does not access the buffer,
    passes it whole to a call or reads its strides, writes a config field the window's
    bounds read, or (accum=True) does more than reduce into it, and when the window
    may be empty. Parts of the window that may leave the buffer get guarded copies."""
    prim = "stage_mem"
    K.check_proc_arg(proc, prim)
    site = K.block_site(proc, block_cursor, prim)
    win = _window_at(proc, prim, win_expr, site)
    return M.stage_mem(site, win, K.check_name(prim, new_buf_name), bool(accum))


def _window_at(proc, prim, text, site):
    from knit.frontend.fragment import parse_expr_fragment

    if not isinstance(text, str):
        raise SchedulingError(f"{prim}: expected a window string like 'x[0:8, i]'")
    path = site.path
    e = parse_expr_fragment(proc, text, path, prim)
    if isinstance(e, N.WindowExpr):
        return e
    if isinstance(e, N.Read) and e.type.is_numeric() and not e.type.is_tensor():
        return e  # a point x[i, j] or a scalar buffer x: staged into a scalar
    raise SchedulingError(f"{prim}: {text!r} is not a window, point or scalar buffer "
                          "(e.g. 'x[0:8, i]', 'x[i, j]' or 'x')")


def bind_expr(proc, expr_cursors, new_name):
    """Bind a data expression to a new scalar buffer just before its statement:
    `a = 32.0 * x[i] + 4.0` -> `b : f32; b = 32.0 * x[i]; a = b + 4.0`. Several
    cursors (or a pattern matching several) bind those on the first one's expression
    (as Exo; the others stay), before the statement of the innermost block that holds
    the first of them. Refused if what the expression reads
    may be written between them (also through a window, or by an earlier iteration of a
    loop holding some of them), or if it names a variable bound between them. The new
    scalar has the type the value is computed in (docs/semantics.md): the expression's,
    i32 for narrow integer arithmetic; for literals only, the type they are converted
    to there (refused if it differs between the occurrences, or for a part of a
    literal expression converted to another type than f64)."""
    prim = "bind_expr"
    K.check_proc_arg(proc, prim)
    if isinstance(expr_cursors, str):
        curs = proc.find(expr_cursors, many=True)
    elif isinstance(expr_cursors, (list, tuple)):
        curs = [_expr_cursor(proc, c, prim) for c in expr_cursors]
    else:
        curs = [_expr_cursor(proc, expr_cursors, prim)]
    if not curs or not all(isinstance(c, C.ExprCursor) for c in curs):
        raise SchedulingError(f"{prim}: expected expression cursors or an expression pattern")
    curs = _check_one_expression(prim, curs, expr_cursors)
    sites = [K.site_of(c, prim) for c in curs]
    return M.bind_expr(sites, K.check_name(prim, new_name))


def _check_one_expression(prim, curs, given) -> list:
    """One name holds one value: the cursors (or a pattern's matches) on the expression
    of the first, as Exo binds them; the others are left as they are. Refused when one
    of those prints as the first but differs (variables of the same name, e.g. the
    iterators of two loops), which Exo would bind too."""
    from knit.cursors.pattern import show
    from knit.ir.printer import expr_str

    first = node_of(curs[0])
    kept = [c for c in curs if node_of(c) == first]  # IR compares structurally
    alike = [node_of(c) for c in curs if node_of(c) != first and
             expr_str(node_of(c)) == expr_str(first)]
    if not alike:
        return kept
    what = f"the pattern {show(given)} matches" if isinstance(given, str) else \
        "the cursors point at"
    exprs = [first, *alike]
    raise SchedulingError(
        f"{prim}: the expressions differ: {' vs '.join(expr_str(e) for e in exprs[:3])} "
        f"({what} different expressions that print alike; one new name holds one value)\n"
        + "".join(f"  {expr_str(e)} at {e.srcinfo}\n" for e in exprs[:6])
        + "they read variables of the same name (e.g. the iterators of two loops); "
        "bind one at a time: pass one cursor, or the pattern with `#n` for its n-th "
        "match (from 0)")


def _expr_cursor(proc, c, prim):
    if isinstance(c, C.StmtCursor):  # point at the statement given by mistake
        raise K.refuse(prim, K.stmt_cursor(proc, c, prim),
                       "expected an expression, got a statement")
    return K.expr_cursor(proc, c, prim)


def set_memory(proc, cursor, memory_type):
    """Annotate an allocation or argument with another memory: `x : T @ M`. The C code
    changes; the meaning does not. Refused when a call takes the buffer (or a window of
    it) in another memory."""
    prim = "set_memory"
    K.check_proc_arg(proc, prim)
    if not (isinstance(memory_type, type) and issubclass(memory_type, Memory)):
        raise SchedulingError(f"{prim}: expected a Memory subclass, got {memory_type!r}")
    return M.set_type_and_mem(B.buf_site(proc, cursor, prim), mem=memory_type)


def _knit_type_name(typ) -> str:
    """The knit name of an ExoType (ExoType.F32 -> 'f32'), or str(typ) otherwise."""
    return knit_name_of(typ) or str(typ)


def set_precision(proc, cursor, typ):
    """Change a buffer's element type (`x : f32[...]` -> `x : f64[...]`), retyping its
    reads, windows and the operations on them. Like Exo this is an annotation, and the
    result counts as equal to the procedure (is_eq) though its values may differ: by
    rounding between float types, by wrapping or truncation where an integer type narrows
    (an i32 sum stored as i8) or a float becomes an integer -- check it with check_equiv.
    Refused when a call takes the buffer at its old precision."""
    prim = "set_precision"
    K.check_proc_arg(proc, prim)
    name = typ if isinstance(typ, str) else _knit_type_name(typ)
    elem = T.DATA_TYPES.get(name)
    if elem is None:
        raise SchedulingError(f"{prim}: unknown precision {typ!r}; use f16 f32 f64 i8 ui8 "
                              "ui16 i32 R (or an ExoType)")
    return M.set_type_and_mem(B.buf_site(proc, cursor, prim), elem=elem)


def set_window(proc, cursor, is_window=True):
    """Make a tensor argument a window (`x : [T][...]`) or a dense tensor. Refused
    (making it a window) when the body passes it to a dense tensor parameter, and for an
    allocation or a scalar."""
    prim = "set_window"
    K.check_proc_arg(proc, prim)
    site = B.buf_site(proc, cursor, prim)
    if not B.is_arg(site):
        raise SchedulingError(f"{prim}: only arguments can be windows")
    return M.set_type_and_mem(site, window=bool(is_window))


__all__ = [
    "autolift_alloc",
    "bind_expr",
    "delete_buffer",
    "divide_dim",
    "expand_dim",
    "inline_window",
    "lift_alloc",
    "mult_dim",
    "rearrange_dim",
    "resize_dim",
    "reuse_buffer",
    "set_memory",
    "set_precision",
    "set_window",
    "sink_alloc",
    "stage_mem",
    "unroll_buffer",
]
