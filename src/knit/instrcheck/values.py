"""The data check_instr feeds an instruction, and how it compares results.

Inputs mix awkward values (the `edges` of each type) with random ones; a trial's share
of awkward values cycles through 0, 1/3, 2/3 and 1, so both clean arithmetic and every
pairing of special values get exercised. Comparison is exact: integers equal, floats
equal bit for bit except that every NaN equals every NaN (hardware and NumPy pick
different NaN payloads and signs; knit's semantics say only "NaN"). An instr declared
`inexact(ulps)` is compared within `ulps` roundings instead (see `first_difference`).
"""

from __future__ import annotations

import numpy as np

EDGE_SHARES = (0.0, 1 / 3, 2 / 3, 1.0)  # the share of awkward values in trial t, cyclically


def edges(dtype: np.dtype) -> np.ndarray:
    """The awkward values of a data type: signed zeros, NaNs, infinities, the subnormal
    range's ends, the normal range's ends, 1 and its neighbour; integer extremes."""
    if dtype.kind in "iu":
        i = np.iinfo(dtype)
        vals = {i.min, i.min + 1, i.max - 1, i.max, 0, 1, 2} | ({-1, -2} if i.min < 0 else set())
        return np.array(sorted(vals), dtype)
    f = np.finfo(dtype)
    sub, tiny, eps = f.smallest_subnormal, f.smallest_normal, f.eps
    one = dtype.type(1)
    vals = [0.0, -0.0, np.nan, -np.nan, np.inf, -np.inf, one, -one, 0.5, -3.0,
            sub, -sub, tiny - sub, -(tiny - sub), tiny, -tiny, f.max, -f.max, eps, one + eps]
    return np.array(vals, dtype)


def random_values(dtype: np.dtype, n: int, rng: np.random.Generator) -> np.ndarray:
    """Ordinary values: floats of magnitudes 2^-8..2^8 with random mantissas; integers
    over the whole range, or small (so that sums and products stay in range) half the time."""
    if dtype.kind in "iu":
        i = np.iinfo(dtype)
        wide = rng.integers(i.min, i.max, n, endpoint=True)
        small = rng.integers(max(i.min, -100), 101, n)
        return np.where(rng.random(n) < 0.5, wide, small).astype(dtype)
    return (rng.standard_normal(n) * 2.0 ** rng.integers(-8, 9, n)).astype(dtype)


def fill(dtype: np.dtype, shape: tuple, share: float, rng: np.random.Generator) -> np.ndarray:
    """An array of `shape` whose elements are awkward values with probability `share`."""
    n = int(np.prod(shape, dtype=np.int64))
    pick = edges(dtype)
    special = pick[rng.integers(0, len(pick), n)]
    values = np.where(rng.random(n) < share, special, random_values(dtype, n, rng))
    return values.astype(dtype).reshape(shape)


def canonical_bits(a: np.ndarray) -> np.ndarray:
    """The bits of a float array with every NaN made the same NaN (integers unchanged)."""
    if a.dtype.kind != "f":
        return a
    a = np.where(np.isnan(a), np.array(np.nan, a.dtype), a)
    return a.view(f"u{a.dtype.itemsize}")


def first_difference(want: np.ndarray, got: np.ndarray, ulps: float | None = None,
                     scale: np.ndarray | None = None) -> tuple | None:
    """The first index where `got` is not `want`, or None.

    Exact unless `ulps` is given. With `ulps`, floats may also differ by at most
    `ulps * eps * scale + ulps * smallest_subnormal`, where `scale` is the body's result
    on the inputs' absolute values (for sums and products, the standard bound on what
    rounding in another order or fused can change); where `scale` is not finite (an
    input is NaN or infinite, or magnitudes overflow) the rounding order may decide
    between finite, infinite and NaN, so such elements are not compared.
    """
    bad = canonical_bits(want) != canonical_bits(got)
    if ulps is not None and want.dtype.kind == "f" and bad.any():
        f = np.finfo(want.dtype)
        w, g, s = (np.asarray(x, np.float64) for x in (want, got, scale))
        with np.errstate(all="ignore"):
            close = np.abs(g - w) <= ulps * (float(f.eps) * s + float(f.smallest_subnormal))
        bad &= np.isfinite(s) & ~close
    where = np.argwhere(bad)
    return tuple(int(i) for i in where[0]) if len(where) else None


def show(v) -> str:
    """A value as a reader wants it: -0.0, nan, inf, exact integers."""
    if isinstance(v, np.ndarray) and v.shape != ():
        return "[" + ", ".join(show(x) for x in v) + "]"
    v = np.asarray(v)[()]
    if isinstance(v, np.floating) and np.isnan(v) and np.signbit(v):
        return "-nan"
    return str(v)


def show_exact(v) -> str:
    """A value, and for a float its bits in hex: `-0.0 (0x80000000)` for f32 -0.0."""
    v = np.asarray(v)
    if v.dtype.kind != "f":
        return show(v)
    return f"{show(v)} (0x{int(v.view(f'u{v.dtype.itemsize}')):0{2 * v.dtype.itemsize}x})"
