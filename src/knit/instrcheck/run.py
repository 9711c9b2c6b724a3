"""check_instr's steps: wrappers, inputs, the interpreter's results, each target's
results, the comparison, and the report of a mismatch."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from knit.errors import ArgumentError, CompileError, KnitTypeError
from knit.instrcheck import InstrCheck, InstrCheckError, declared_ulps, harness as H, values as V
from knit.ir import handles
from knit.procedure import Procedure


@dataclass
class _Case:
    """One combination of control values: its wrapper, and per trial the inputs, the
    body's results, and (with a tolerance) the body's results on magnitudes."""

    controls: dict
    wrapper: Procedure
    bufs: list
    inputs: list[dict]
    want: list[dict]
    scale: list[dict] | None


def check(instr, targets, trials: int, seed: int, ulps, cc) -> InstrCheck:
    handles.expect_procedure("check_instr", instr)
    if not instr.is_instr():
        raise KnitTypeError(None, f"check_instr: expected an @instr procedure, got the proc "
                            f"'{instr.name()}'")
    handles.check(instr)
    ulps = declared_ulps(instr) if ulps is None else ulps
    name = instr.name()
    controls = H.legal_controls(handles.ir_of(instr))
    if not controls:
        raise InstrCheckError(f"check_instr: no values of the control arguments of instr "
                              f"'{name}' satisfy its asserts (tried sizes {H.SIZES.start}.."
                              f"{H.SIZES.stop - 1} and indices {H.INDICES.start}.."
                              f"{H.INDICES.stop - 1})")
    rng = np.random.default_rng(seed)
    cases = [_case(instr, k, c, trials, rng, ulps is not None) for k, c in enumerate(controls)]
    source = H.program([c.wrapper for c in cases], [c.bufs for c in cases])
    ran = []
    for t in _targets(targets, source, name, cc):
        try:
            exe = H.build(t, source, f"check_instr of {name} ({t.name})")
        except CompileError as err:
            raise InstrCheckError(f"check_instr: the C of instr '{name}' does not build "
                                  f"for target {t.name}\n{err}") from err
        for case, got in zip(cases, _run(t, exe, cases, name)):
            for r in range(len(case.inputs)):
                _compare(name, t.name, case, r, got[r], ulps)
        ran.append(t.name)
    return InstrCheck(name, ran, controls, trials, sum(len(c.inputs) for c in cases), ulps)


def _case(instr, k: int, controls: dict, trials: int, rng, with_scale: bool) -> _Case:
    w, bufs = H.wrapper(instr, k, controls)
    inputs, want = [], []
    for t in range(trials):
        x = {b.name: V.fill(b.dtype, b.shape, V.EDGE_SHARES[t % len(V.EDGE_SHARES)], rng)
             for b in bufs}
        try:
            want.append(_interpret(w, x))
        except ArgumentError:  # outside the body's meaning (an integer division by zero)
            continue
        inputs.append(x)
    scale = [_interpret(w, {n: _magnitude(v) for n, v in x.items()}) for x in inputs] \
        if with_scale else None
    return _Case(controls, w, bufs, inputs, want, scale)


def _magnitude(a: np.ndarray) -> np.ndarray:
    return np.array(np.abs(a)) if a.dtype.kind == "f" else a  # np.array: 0-d stays an array


def _interpret(w: Procedure, x: dict) -> dict:
    out = {n: v.copy() for n, v in x.items()}
    w.interpret(**out)
    return out


def _targets(names, source: str, instr: str, cc) -> list:
    """The targets to run: the named ones; with "all", every one that is installed,
    applies, and builds the program; with None, the first of those."""
    if names is not None and names != "all":
        for n in [names] if isinstance(names, str) else names:
            why = H.missing(n) if cc is None else None
            if why:
                raise InstrCheckError(f"check_instr of '{instr}': {why}")
        return [H.target(n, cc) for n in ([names] if isinstance(names, str) else names)]
    problems, builds = [], []
    for n in H.TARGETS:
        t = H.target(n, cc)
        if t.needs not in source or H.missing(n):
            continue
        try:
            H.build(t, source, f"check_instr of {instr} ({n})")
        except CompileError as err:
            problems.append(f"{n}: {str(err).splitlines()[0]}")
            continue
        builds.append(t)
        if names is None:
            break
    if builds:
        return builds
    raise InstrCheckError(f"check_instr: no target here builds the C of instr '{instr}'\n"
                          + "\n".join(problems or ["(no target is available)"]))


# ---------------------------------------------------------------- running the C


def _records(case: _Case, inputs: list[dict]) -> tuple[bytes, int]:
    offsets, size = H.layout(case.bufs)
    recs = bytearray([H.GUARD]) * (size * len(inputs))
    for r, x in enumerate(inputs):
        for b, o in zip(case.bufs, offsets):
            raw = x[b.name].tobytes()
            recs[r * size + o: r * size + o + len(raw)] = raw
    return bytes(recs), size


def _run(t, exe: str, cases: list[_Case], instr: str) -> list[list[dict]]:
    """Each record of each case after the C ran on it."""
    batches = [(k, *_records(c, c.inputs)) for k, c in enumerate(cases)]
    try:
        out = H.run(t, exe, [(k, recs, len(c.inputs), size)
                             for (k, recs, size), c in zip(batches, cases)])
    except RuntimeError as err:
        raise _crash(t, exe, cases, instr, err) from None
    got, at = [], 0
    for (_, _, size), c in zip(batches, cases):
        offsets, _ = H.layout(c.bufs)
        rows = []
        for r, x in enumerate(c.inputs):
            rec = out[at + r * size: at + (r + 1) * size]
            _check_guards(rec, c, offsets, x, instr, t.name)
            rows.append({b.name: np.frombuffer(rec, b.dtype, int(np.prod(b.shape)), o)
                         .reshape(b.shape).copy() for b, o in zip(c.bufs, offsets)})
        got.append(rows)
        at += len(c.inputs) * size
    return got


def _check_guards(rec: bytes, c: _Case, offsets: list[int], x: dict, instr: str,
                  target: str) -> None:
    """Raise if the C wrote into the guard bytes after a buffer (past its end)."""
    ends = [o + b.dtype.itemsize * int(np.prod(b.shape)) for b, o in zip(c.bufs, offsets)]
    for b, end, nxt in zip(c.bufs, ends, [*offsets[1:], len(rec)]):
        if any(byte != H.GUARD for byte in rec[end:nxt]):
            raise InstrCheckError("\n".join([
                f"check_instr: the C of instr '{instr}' writes past the end of '{b.name}' "
                f"({b.dtype.name}{list(b.shape)}) on target {target}",
                *_describe(c.controls, c.bufs, x)]))


def _crash(t, exe: str, cases: list[_Case], instr: str, err) -> InstrCheckError:
    """The error for a program that failed: rerun input by input to name the one."""
    for k, c in enumerate(cases):
        for x in c.inputs:
            recs, size = _records(c, [x])
            try:
                H.run(t, exe, [(k, recs, 1, size)])
            except RuntimeError as one:
                return InstrCheckError("\n".join([
                    f"check_instr: the C of instr '{instr}' failed ({one}) on target {t.name}",
                    *_describe(c.controls, c.bufs, x)]))
    return InstrCheckError(f"check_instr: the program checking instr '{instr}' failed "
                           f"({err}) on target {t.name}, but no single input fails alone")


# ---------------------------------------------------------------- comparing


def _describe(controls: dict, bufs, x: dict) -> list[str]:
    ctrl = ", ".join(f"{k} = {v}" for k, v in controls.items())
    return ([f"  control arguments: {ctrl}"] if ctrl else []) + \
        ["  input:", *(f"    {b.name} = {V.show(x[b.name])}" for b in bufs)]


def _compare(instr: str, target: str, case: _Case, r: int, got: dict, ulps) -> None:
    x, want = case.inputs[r], case.want[r]
    for b in case.bufs:
        scale = case.scale[r][b.name] if case.scale else None
        at = V.first_difference(want[b.name], got[b.name], ulps, scale)
        if at is None:
            continue
        w, g = want[b.name][at], got[b.name][at]
        elem = f"{b.name}[{', '.join(map(str, at))}]" if at else b.name
        tol = f", tolerance {ulps:g} ulps" if ulps is not None else ""
        lines = [f"check_instr: the C template of instr '{instr}' does not do what its body "
                 f"says (target {target}{tol})",
                 f"  first difference: {elem}: the body gives {V.show_exact(w)}, the C "
                 f"gives {V.show_exact(g)}",
                 *_describe(case.controls, case.bufs, x),
                 "  output (body, then C):"]
        for c in case.bufs:
            lines += [f"    {c.name} = {V.show(want[c.name])}",
                      f"    {c.name} = {V.show(got[c.name])}"]
        raise InstrCheckError("\n".join(lines), {
            "instr": instr, "target": target, "controls": dict(case.controls),
            "inputs": {n: v.copy() for n, v in x.items()},
            "expected": {n: v.copy() for n, v in want.items()},
            "actual": {n: v.copy() for n, v in got.items()}, "where": (b.name, at)})
