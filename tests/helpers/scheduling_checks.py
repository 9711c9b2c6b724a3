"""Shared checks for the scheduling tests: the three kinds of evidence every primitive
needs (docs/design quality.md) — the rewritten code, equivalence on random inputs, and
refusal with a message that names the problem (`refused`, from refusals.py)."""

from __future__ import annotations

import textwrap

import pytest
from refusals import refused  # noqa: F401 -- the scheduling tests' third check

import knit
from knit.equiv import EquivalenceError


def body(p) -> str:
    """The printed body of a procedure (everything after the `def` line), dedented."""
    lines = str(p).splitlines()
    start = next(i for i, ln in enumerate(lines) if ln.startswith("def "))
    return textwrap.dedent("\n".join(lines[start + 1:])).strip("\n")


def assert_body(p, expected: str) -> None:
    """The printed body of p is exactly `expected` (dedented)."""
    got = body(p)
    want = textwrap.dedent(expected).strip("\n")
    assert got == want, f"\n--- got:\n{got}\n--- expected:\n{want}"


def equiv(original, rewritten, *, proven: bool = True, trials: int = 3, sizes=None,
          max_size: int = 8) -> None:
    """`rewritten` computes what `original` does on random inputs (compiled C and the
    interpreter), and is_eq reports whether a proof backs it."""
    well_formed(rewritten)
    knit.check_equiv(original, rewritten, trials=trials, sizes=sizes, max_size=max_size,
                     interpret=True)
    assert rewritten.is_eq(original) is proven
    assert original.is_eq(rewritten) is proven


def well_formed(p) -> None:
    """The rewritten procedure passes the definition-time checks (types, bounds, calls)
    and prints as object code that parses (every name in scope) and prints the same.
    (Parsing infers `size` where a rewrite may have built `index` arithmetic, so the
    trees are compared through their text.)"""
    from knit.frontend.checks import check_proc
    from knit.procedure import parse_proc_string

    check_proc(p._loopir_proc)
    again = parse_proc_string(str(p), p._scope)
    assert str(again) == str(p), f"does not parse back:\n{p}\n---\n{again}"


def differs(original, rewritten, *, trials: int = 4, sizes=None, max_size: int = 8) -> None:
    """The rewrite really changes the results (so the refusal it needs is not vacuous)."""
    with pytest.raises(EquivalenceError):
        knit.check_equiv(original, rewritten, trials=trials, sizes=sizes, max_size=max_size)
