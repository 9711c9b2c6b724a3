"""Run a procedure interpreted and compiled (default flags, each C compiler) on copies of
the same arguments, and compare the results bit for bit."""

from __future__ import annotations

import copy
import shutil

import numpy as np

from knit.runtime.interp import reset_configs
from knit.runtime.jit import compile_proc

COMPILERS = [cc for cc in ("gcc", "clang") if shutil.which(cc)]


def has_f16(p) -> bool:
    return "f16" in str(p)


def compilers_for(p) -> list[str]:
    """Every compiler, f16 programs too (clang before 15 compiles them with __fp16:
    docs/semantics.md#f16-compilers)."""
    return list(COMPILERS)


def run(p, args, backend: str) -> list:
    """The arguments after running p on copies of `args` with `backend` ('interp' or a
    compiler); configs start from zero."""
    args = copy.deepcopy(list(args))
    reset_configs()
    if backend == "interp":
        p.interpret(*args)
    else:
        compile_proc(p._loopir_proc, cc=backend)(*args)
    return args


def same_bits(a, b, signed_zeros: bool = True) -> bool:
    """Equal values, bit for bit (so -0.0 differs from 0.0 unless signed_zeros is False),
    any NaN equal to any NaN."""
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if a.dtype.kind != "f":
        return bool(np.array_equal(a, b))
    nan = np.isnan(a) & np.isnan(b)
    if not signed_zeros:
        a, b = np.where(a == 0, 0, a).astype(a.dtype), np.where(b == 0, 0, b).astype(b.dtype)
    ua, ub = a.view(f"u{a.dtype.itemsize}"), b.view(f"u{b.dtype.itemsize}")
    return bool(np.all(nan | (ua == ub)))


def mismatches(want: list, got: list, signed_zeros: bool = True) -> list[str]:
    out = []
    for k, (w, g) in enumerate(zip(want, got)):
        if isinstance(w, np.ndarray) and not same_bits(w, g, signed_zeros):
            bad = np.flatnonzero(~_eq(w, g, signed_zeros))
            out.append(f"argument {k}: {bad.size} element(s) differ, first at flat index "
                       f"{bad[0]}: interpreter {w.flat[bad[0]]!r}, compiled {g.flat[bad[0]]!r}")
    return out


def _eq(a, b, signed_zeros):
    if a.dtype.kind != "f":
        return a == b
    if not signed_zeros:
        return (a == b) | (np.isnan(a) & np.isnan(b))
    ua, ub = a.view(f"u{a.dtype.itemsize}"), b.view(f"u{b.dtype.itemsize}")
    return (ua == ub) | (np.isnan(a) & np.isnan(b))


def agree(p, args, signed_zeros: bool = True) -> list:
    """Run p interpreted and compiled by every compiler; assert the results agree bit for
    bit, and return the interpreter's."""
    want = run(p, args, "interp")
    for cc in compilers_for(p):
        got = run(p, args, cc)
        bad = mismatches(want, got, signed_zeros)
        assert not bad, f"{p.name()} compiled by {cc} disagrees with the interpreter:\n" + \
            "\n".join(bad)
    return want
