"""Differential checks of one procedure across its executions: the interpreter (what a
program means) against its C compiled by every C compiler on the machine with knit's
default flags (gcc and clang), on inputs that include the awkward values.

    diff = backend_diff(p, sizes, seed)     # None, or what differs (a BackendDiff)
    diff = edge_diff(p0, q, sizes, seed)    # a rewrite on awkward inputs, interpreted

Inputs (`make_inputs`): random data as check_equiv draws it, with about a quarter of
the elements of every buffer and scalar replaced by an edge value of its type -- NaN,
-0.0, +-inf, subnormals, the smallest normal for floats; the extremes, 0 and -1 for
integers. Sizes come from `sizes` (the generator's choices, which satisfy the procs'
asserts).

The interpreter and compiled C must agree *exactly* (docs/semantics.md: one meaning):
integers bit for bit, floats bit for bit except that any NaN equals any NaN (payloads
are not specified). Zeros compare with their sign. Two versions of a procedure (a
rewrite) compare as check_equiv does, with its tolerance; a rewrite may change
rounding, but not NaN-ness, the sign of an infinity or an integer.
"""

from __future__ import annotations

import contextlib
import functools
import shutil
from dataclasses import dataclass

import numpy as np

EDGE_FRACTION = 0.25


@functools.cache
def compilers() -> tuple[str, ...]:
    """The C compilers to test: gcc and clang, those present on the machine."""
    return tuple(c for c in ("gcc", "clang") if shutil.which(c))


@dataclass
class BackendDiff:
    mode: str  # "gcc", "clang", or "interpreter" (it raised)
    buffer: str
    index: tuple
    expected: object  # the interpreter's value
    got: object
    count: int
    sizes: dict
    error: str = ""  # the interpreter's or the compiler's error, when one raised

    def message(self) -> str:
        if self.error:
            return f"{self.mode} failed for {_sizes(self.sizes)}: {self.error}"
        where = f"{self.buffer}[{', '.join(map(str, self.index))}]" if self.index else \
            self.buffer
        return (f"compiled with {self.mode} (default flags) differs from the interpreter "
                f"for {_sizes(self.sizes)}: {where} is {self.got!r} compiled, "
                f"{self.expected!r} interpreted ({self.count} element(s) differ)")


def _sizes(sizes: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in sizes.items()) or "the inputs"


# ---------------------------------------------------------------- inputs


def edge_values(dtype) -> list:
    """The awkward values of a NumPy dtype."""
    dt = np.dtype(dtype)
    if dt.kind == "f":
        fi = np.finfo(dt)
        return [np.nan, -0.0, 0.0, np.inf, -np.inf, fi.smallest_subnormal,
                -fi.smallest_subnormal, fi.tiny, -fi.tiny, 1.0, -1.0]
    if dt.kind == "b":
        return [True, False]
    ii = np.iinfo(dt)
    return [ii.min, ii.max, 0, -1 if ii.min < 0 else 1, ii.max - 1, ii.min + 1]


def _random(rng, shape, dt):
    if dt.kind == "f":
        return rng.uniform(-1, 1, size=shape).astype(dt)
    ii = np.iinfo(dt)
    return rng.integers(max(ii.min, -8), min(ii.max, 8), size=shape, endpoint=True).astype(dt)


def make_inputs(proc, sizes: dict, seed: int, edge: bool = True) -> dict:
    """Arguments for `proc` (its IR, N.Proc): `sizes` for the control arguments, random
    arrays (with edge values when `edge`) for the data."""
    from knit.runtime.args import eval_index

    rng = np.random.default_rng(seed)
    out = {}
    for a in proc.args:  # a control value the generator did not fix: a bool flag
        if a.type.is_control():
            out[a.name.name] = sizes.get(a.name.name, bool(rng.integers(0, 2)))
    values = {a.name: out[a.name.name] for a in proc.args if a.type.is_control()}
    for a in proc.args:
        if a.type.is_control():
            continue
        dt = np.dtype(a.type.basetype().np_dtype or "float32")
        shape = tuple(int(eval_index(d, values)) for d in a.type.shape())
        arr = _random(rng, shape, dt)
        if edge and arr.size:
            flat = arr.reshape(-1)
            mask = rng.random(flat.size) < EDGE_FRACTION
            pool = np.array(edge_values(dt), dtype=dt)
            flat[mask] = pool[rng.integers(0, len(pool), size=int(mask.sum()))]
        out[a.name.name] = arr
    return out


def _copy(args: dict) -> dict:
    return {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in args.items()}


# ---------------------------------------------------------------- running


def reset_configs() -> None:
    """Every config reads as zero again, in the interpreter and in compiled code (so a
    run does not see the state a previous one left)."""
    import ctypes

    from knit.runtime import interp, jit

    interp.reset_configs()
    for block in jit._config_storage.values():
        ctypes.memset(block, 0, ctypes.sizeof(block))


def run(p, mode: str, args: dict) -> dict:
    """Run procedure p interpreted (mode "interpreter") or compiled by `mode` (a C
    compiler) with the default flags, on a copy of `args`; the arguments afterwards."""
    xs = _copy(args)
    reset_configs()
    if mode == "interpreter":
        p.interpret(**xs)
    else:
        p.compile(cc=mode)(**xs)
    return xs


def same_bits(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Elementwise: equal values, NaN equal to NaN, zeros of the same sign."""
    if x.dtype.kind != "f":
        return np.asarray(x == y)
    both_nan = np.isnan(x) & np.isnan(y)
    return both_nan | ((x == y) & (np.signbit(x) == np.signbit(y)))


def close(x: np.ndarray, y: np.ndarray, elem: str) -> np.ndarray:
    """Elementwise, as check_equiv compares two versions of a procedure: a relative
    tolerance per type, NaN equal to NaN, infinities exactly."""
    if x.dtype.kind != "f":
        return np.asarray(x == y)
    from knit.equiv import RTOL

    rtol = RTOL.get(elem, 1e-4)
    xf, yf = x.astype("float64"), y.astype("float64")
    finite = np.where(np.isfinite(xf), np.abs(xf), 0)
    scale = max(1.0, float(np.max(finite, initial=0)))
    ok = np.isclose(xf, yf, rtol=rtol, atol=rtol * scale, equal_nan=True)
    ok &= np.isinf(xf) == np.isinf(yf)
    return ok | (xf == yf)


def compare(proc, want: dict, got: dict, same) -> tuple | None:
    """(buffer, index, wanted value, got value, count) of the first difference."""
    for a in proc.args:
        if a.type.is_control():
            continue
        name = a.name.name
        x, y = np.asarray(want[name]), np.asarray(got[name])
        bad = np.argwhere(~np.atleast_1d(same(x, y)))
        if bad.size:
            idx = tuple(int(i) for i in bad[0]) if x.ndim else ()
            return name, idx, x[idx].item(), y[idx].item(), len(bad)
    return None


# ---------------------------------------------------------------- the checks


def backend_diff(p, sizes: dict, seed: int, edge: bool = True,
                 ccs: tuple | None = None) -> BackendDiff | None:
    """Run p interpreted and compiled by each compiler on the same inputs; the first
    difference. An error in the interpreter (the checker accepted a program it cannot
    run) or a compiler rejecting knit's C are differences too; inputs on which the
    program is undefined (the interpreter says so) are not compared: the inputs are
    drawn again without edge values, and if that does not help, nothing is compared."""
    args = make_inputs(p._loopir_proc, sizes, seed, edge)
    try:
        want = run(p, "interpreter", args)
    except Exception as e:  # noqa: BLE001 - whatever it is, it is the finding
        if is_undefined(e):
            return backend_diff(p, sizes, seed, False, ccs) if edge else None
        return BackendDiff("interpreter", "", (), None, None, 0, sizes,
                           error=f"{type(e).__name__}: {e}")
    found = []  # every compiler is run: whether one or all disagree tells bugs apart
    for cc in ccs or compilers():
        try:
            got = run(p, cc, args)
        except Exception as e:  # noqa: BLE001
            found.append(BackendDiff(cc, "", (), None, None, 0, sizes,
                                     error=f"{type(e).__name__}: {_short_error(str(e))}"))
            continue
        d = compare(p._loopir_proc, want, got, same_bits)
        if d is not None:
            found.append(BackendDiff(cc, *d, sizes))
    if not found:
        return None
    first = next((d for d in found if not d.error), found[0])
    first.mode = "+".join(d.mode for d in found if bool(d.error) == bool(first.error))
    return first


def _short_error(msg: str) -> str:
    """A compiler's error, cut short, but always with its first `error:` line (what
    tells two such bugs apart; long cache paths may push it past the cut)."""
    first = next((ln.strip() for ln in msg.splitlines() if "error:" in ln), "")
    short = msg[:600]
    return short if first in short else f"{first}\n{short}"


def is_undefined(e: BaseException) -> bool:
    """The interpreter refused to run a program on inputs where C leaves it undefined
    (a NaN converted to an integer, ...): the inputs are outside the program's domain."""
    from knit.errors import ArgumentError

    return isinstance(e, ArgumentError) and "undefined in C" in str(e)


def edge_diff(p0, q, sizes: dict, seed: int) -> str | None:
    """p0 and its rewrite q, interpreted on the same inputs with edge values: None, or
    what differs (as check_equiv compares: with tolerance). Inputs on which p0 is
    undefined are not compared; q must be defined wherever p0 is."""
    args = make_inputs(p0._loopir_proc, sizes, seed, edge=True)
    try:
        want = run(p0, "interpreter", args)
    except Exception:  # noqa: BLE001 - p0's own problem, reported by backend_diff
        return None
    got = run(q, "interpreter", args)
    types = {a.name.name: a.type.basetype().name for a in p0._loopir_proc.args}
    for a in p0._loopir_proc.args:
        if a.type.is_control():
            continue
        name = a.name.name
        d = _compare_one(want[name], got[name], types[name])
        if d is not None:
            idx, xv, yv, n = d
            where = f"{name}[{', '.join(map(str, idx))}]" if idx else name
            return (f"on inputs with edge values (NaN, -0.0, inf, subnormals, integer "
                    f"extremes), interpreted, for {_sizes(sizes)}: {where} is {xv!r} "
                    f"before the rewrite, {yv!r} after ({n} element(s) differ)")
    return None


def _compare_one(x, y, elem):
    x, y = np.asarray(x), np.asarray(y)
    bad = np.argwhere(~np.atleast_1d(close(x, y, elem)))
    if not bad.size:
        return None
    idx = tuple(int(i) for i in bad[0]) if x.ndim else ()
    return idx, x[idx].item(), y[idx].item(), len(bad)


def pick_sizes(values: dict, seed: int) -> dict:
    """One size per name from the generator's choices (which satisfy the asserts)."""
    rng = np.random.default_rng(seed)
    return {k: (int(rng.choice(v)) if isinstance(v, (list, tuple)) else v)
            for k, v in values.items()}


# ---------------------------------------------------------------- precision changes


def _alloc_floats(proc) -> set:
    """The float types of proc's allocations (its IR, N.Proc)."""
    from knit.ir import nodes as N
    from knit.ir.visit import walk_stmts

    return {s.type.basetype().name for s in walk_stmts(proc.body)
            if isinstance(s, N.Alloc) and s.type.basetype().is_float()}


def precision_rtol(p0, q) -> float | None:
    """The relative tolerance to compare q with p0 when a rewrite changed the precision
    of an allocation (set_precision): the tolerance of the narrowest float type either
    one computes in, since a value rounded to it may reach any output. None when both
    allocate the same float types (compare as usual, with each output's own tolerance)."""
    from knit.equiv import RTOL

    a, b = _alloc_floats(p0._loopir_proc), _alloc_floats(q._loopir_proc)
    if a == b:
        return None
    return max(RTOL.get(t, 1e-4) for t in a | b)


@contextlib.contextmanager
def precision_tolerance(p0, q):
    """check_equiv and edge_diff, inside this block, compare q with p0 at the tolerance
    of the precision change between them (precision_rtol), at least; unchanged when
    there is none. (knit's RTOL is per output type: after set_precision(t, 'f32') an f64
    output is only as precise as the f32 temporary it was computed from.)"""
    from knit import equiv

    rtol = precision_rtol(p0, q)
    saved = dict(equiv.RTOL)
    try:
        if rtol is not None:
            for k in equiv.RTOL:
                equiv.RTOL[k] = max(equiv.RTOL[k], rtol)
        yield rtol
    finally:
        equiv.RTOL.clear()
        equiv.RTOL.update(saved)
