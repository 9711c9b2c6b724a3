"""Reproducers: a fuzzer bug as a runnable Python snippet (the prelude, the program,
the schedule, and the check that fails)."""

from __future__ import annotations

import os

from . import gen


def is_backend_kind(kind: str) -> bool:
    """A bug in running one program (interpreter vs compilers), not in a rewrite."""
    return kind.startswith(("backend-", "interp-error"))


def reproducer(bug) -> str:
    """A runnable Python snippet: the prelude, the proc, the schedule, the failing check."""
    prims = sorted({s.prim for s in bug.steps})
    lines = [f"# knit schedule fuzzer: {bug.kind} in {bug.prim} (case {bug.seed})"]
    lines += [f"# {ln}" for ln in bug.message.splitlines()[:6]]
    lines += ["from knit import check_equiv"]
    if prims:
        lines += [f"from knit.stdlib.scheduling import {', '.join(prims)}"]
    lines += [""]
    lines += [gen.PRELUDE.strip(), ""]
    lines += [f"p0 = parse_proc_string('''\n{bug.src.rstrip()}\n''', scope)", "p = p0"]
    for k, s in enumerate(bug.steps):
        if k + 1 < len(bug.steps) and bug.steps[k + 1].old_cursors:  # cursors on this proc
            lines.append("p_prev = p")
        if k + 1 < len(bug.steps) or is_backend_kind(bug.kind):
            lines.append(s.code())
    if is_backend_kind(bug.kind) or bug.kind == "edge-mismatch":
        if bug.kind == "edge-mismatch":
            lines.append(bug.steps[-1].code())
        lines += _tool_lines(bug)
        return "\n".join(lines) + "\n"
    last = bug.steps[-1]
    if bug.kind in ("exception", "bad-message"):
        lines.append(f"{last.code()}  # raises {bug.exc}")
    elif bug.kind in ("hang", "crash"):
        lines.append(f"{last.code()}  # {bug.kind}s (here or in the check below)")
        lines.append(_equiv_line(bug))
    else:
        lines.append(last.code())
        if bug.kind == "provenance":
            lines.append("assert p.is_eq(p0)")
        elif bug.kind == "print-roundtrip":
            root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
            lines.append(f"import sys; sys.path.insert(0, {root!r})  # the repository")
            lines.append("from tests.fuzz.same import check_roundtrip")
            lines.append("check_roundtrip(p, scope)  # str(p) fails to parse, or differs")
        else:
            lines.append(_equiv_line(bug))
    return "\n".join(lines) + "\n"


def _equiv_line(bug) -> str:
    only = {"both": "", "interpreter": ", compiled=False, interpret=True",
            "compiled": ", interpret=False", "none": ""}[bug.trust]
    line = f"check_equiv(p0, p, trials=2, sizes={bug.sizes!r}, seed={bug.check_seed}{only})"
    if not any(s.prim == "set_precision" for s in bug.steps):
        return line
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    return (f"import sys; sys.path.insert(0, {root!r})  # the repository\n"
            "from tests.fuzz.backends import precision_tolerance\n"
            f"with precision_tolerance(p0, p):  # the fuzzer's tolerance after set_precision\n"
            f"    {line}")


def _tool_lines(bug) -> list[str]:
    """The check of a backend or edge-value bug, with tests/fuzz/backends.py."""
    from .backends import pick_sizes

    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    sizes = pick_sizes(bug.sizes, bug.check_seed)
    out = [f"import sys; sys.path.insert(0, {root!r})  # the repository"]
    if bug.kind == "edge-mismatch":
        return out + ["from tests.fuzz.backends import edge_diff, precision_tolerance",
                      "with precision_tolerance(p0, p):  # as the fuzzer compares",
                      f"    d = edge_diff(p0, p, {sizes!r}, seed={bug.check_seed})",
                      "assert d is None, d"]
    return out + ["from tests.fuzz.backends import backend_diff",
                  f"d = backend_diff(p, {sizes!r}, seed={bug.check_seed})",
                  "assert d is None, d.message()"]
