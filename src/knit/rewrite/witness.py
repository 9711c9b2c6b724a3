"""Refusals with a witness (issue 12): when a check cannot prove a rewrite safe and the
solver finds values that break it, the refusal shows them -- the sizes, the loop
variables, the two conflicting accesses with their addresses -- and, where the program
is small enough to run, a tiny input on which the rewrite (built with the check
disabled) computes a different result than the original, found by running both in the
reference interpreter.

Nothing here decides whether a rewrite is accepted: a witness only explains a refusal
the checks already made, and any failure to find or run one just leaves it out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from knit.analysis import effects as E
from knit.ir import handles, nodes as N, types as T
from knit.rewrite.common import Site, site_of

if TYPE_CHECKING:
    import numpy as np

SMALL = 6  # the largest size tried first: a witness should be tiny
_MAX_ELEMS = 4096  # arrays larger than this are not run
_MAX_SHOWN = 12  # input arrays up to this many elements are printed in the message
_SEEDS = 8  # random inputs tried before giving up on a differing element


@dataclass
class Witness:
    """What a refusal shows: the text, `values` (sizes and other control arguments;
    `sizes` gives them by name), and, when the two programs were run, the inputs
    (`args`, in argument order, before running), the differing element and both
    results."""

    text: str
    values: dict = field(default_factory=dict)  # Sym -> int
    args: tuple | None = None
    element: tuple | None = None  # (argument name, index tuple)
    original: object = None
    rewritten: object = None

    @property
    def sizes(self) -> dict:
        """The control values by argument name, e.g. {'N': 2}."""
        return {s.name: v for s, v in self.values.items()}


# ---------------------------------------------------------------- solver values


def _control_args(ir: N.Proc) -> list:
    return [a.name for a in ir.args if a.type in (T.SIZE, T.INDEX)]


def _model(facts, goal, ir: N.Proc):
    """A counterexample to `goal` under `facts`, preferring small sizes; None if the
    solver finds none (proven, or undecided)."""
    from knit.analysis import smt

    small = facts.add(*(E.le(E.var(a.name, T.SIZE), E.int_(SMALL)) for a in ir.args
                        if a.type == T.SIZE))
    try:
        with smt.side_queries():  # the refusal's own "gave up" stays what it said
            return smt.counterexample(small, goal) or smt.counterexample(facts, goal)
    except Exception:  # noqa: BLE001 - a witness is optional; the refusal stands without
        return None


def _values(model, ir: N.Proc) -> dict:
    out = {}
    for s in _control_args(ir):
        v = model.value(s)
        if v is not None:
            out[s] = v
    return out


def _show(values: dict) -> str:
    return ", ".join(f"{s.name} = {v}" for s, v in values.items())


def _address(model, a: E.Access, idx) -> str:
    if isinstance(a.buf, tuple):
        return f"{a.buf[0].name()}.{a.buf[1]}"
    vals = [model.value(i) for i in idx]
    return f"{a.buf.name}[{', '.join(str(v) for v in vals)}]" if vals else a.buf.name


def _verb(a: E.Access) -> str:
    return {"r": "reads", "w": "writes", "+": "reduces into"}[a.kind]


def _side(model, ren: dict) -> str:
    return ", ".join(f"{s.name} = {model.value(e)}" for s, e in ren.items())


def conflict(hit, ir: N.Proc) -> tuple[str, dict | None]:
    """'Counterexample with N = 2: the first access (i = 0) writes x[1]; the second
    (i = 1) reads x[1].' for a first_conflict result, and the control values (None
    when there is no counterexample: then the note says 'could not prove')."""
    if getattr(hit, "facts", None) is None:
        return ("Could not prove they touch different locations: the indices are outside "
                "what the solver reasons about.", None)
    model = _model(hit.facts, hit.goal, ir)
    if model is None:
        return ("Could not prove they touch different locations, and the solver found no "
                "counterexample.", None)
    values = _values(model, ir)
    x, y = hit
    parts = []
    for k, (a, idx, ren) in enumerate(((x, hit.ix, hit.ren_x), (y, hit.iy, hit.ren_y))):
        who = "the first access" if k == 0 else "the second"
        where = _side(model, ren)
        parts.append(f"{who}{' (' + where + ')' if where else ''} {_verb(a)} "
                     f"{_address(model, a, idx)}")
    head = f"Counterexample{' with ' + _show(values) if values else ''}: "
    return head + "; ".join(parts) + ".", values


def unproven(facts, goal, ir: N.Proc) -> tuple[str, dict | None]:
    """'Counterexample: N = 3, i = 2.' (values under which a condition the solver could
    not prove is false), or 'Could not prove it ...' when it finds no values."""
    from knit.analysis import affine as A
    from knit.analysis.smt import Facts, formula
    from knit.ir.sym import Sym

    f = facts if isinstance(facts, Facts) else Facts().add(*facts)
    model = _model(f, goal, ir)
    if model is None:
        return "Could not prove it, and the solver found no counterexample.", None
    values = _values(model, ir)
    try:
        atoms = A.formula_vars(formula(goal))
    except Exception:  # noqa: BLE001
        atoms = None
    if atoms is not None and not atoms:
        return "It is false as written: no variable is involved.", values
    atoms = sorted((a for a in atoms or () if isinstance(a, Sym)), key=lambda a: a.name)
    shown = dict(values)
    for a in atoms:
        if a not in shown and model.value(a) is not None:
            shown[a] = model.value(a)
    return (f"Counterexample: {_show(shown)}." if shown else
            "It is false as written: no variable is involved."), values


# ---------------------------------------------------------------- running both


def _ir(x):
    """The IR of `x`: a Procedure, a Site (its procedure's), or IR already; a stand-in
    with no arguments when there is none."""
    if x is None:
        return _NO_PROC
    if handles.is_procedure(x):
        return handles.ir_of(x)
    return x.ir if isinstance(x, Site) else x


def run(proc, rewritten, values: dict | None, *, how: str = "the rewrite") -> \
        Witness | None:
    """Run `proc` (a Procedure, a Site's, or IR) and the unchecked rewrite (IR or a
    Procedure) on tiny inputs with the control values `values`; a Witness naming the
    first element where they differ, or None."""
    if values is None:
        return None
    ir, rewritten = _ir(proc), _ir(rewritten)
    from knit.frontend.checks import deferred_error

    if deferred_error(ir) is not None:  # e.g. a racing par loop: no meaning to run
        return None
    try:
        for seed in range(_SEEDS):
            args = _inputs(ir, values, seed)
            if args is None:
                return None
            hit = _differ(ir, rewritten, args)
            if hit is not None:
                return _witness(ir, values, args, hit, how, seed)
    except Exception:  # noqa: BLE001 - not runnable (an instr, a config, ...): no witness
        return None
    return None


def _inputs(ir: N.Proc, values: dict, seed: int):
    import numpy as np  # loaded on first use: importing knit stays light

    from knit.runtime.args import eval_index

    rng = np.random.default_rng(seed)
    env = dict(values)
    out = []
    for a in ir.args:
        if a.type in (T.SIZE, T.INDEX):
            if a.name not in values:
                return None
            out.append(values[a.name])
        elif a.type.is_tensor() or a.type.is_real():
            dtype = np.dtype(a.type.basetype().np_dtype or "float64")
            shape = tuple(eval_index(d, env) for d in a.type.shape()) \
                if a.type.is_tensor() else ()
            if any(n < 0 for n in shape) or int(np.prod(shape)) > _MAX_ELEMS:
                return None
            out.append(rng.integers(1, 10, size=shape).astype(dtype))
        else:
            return None  # bool and stride arguments: not generated
    return tuple(out)


def _differ(ir: N.Proc, rewritten: N.Proc, args: tuple):
    """(argument, index, original value, rewritten value) of the first element where
    the two programs' results differ; (None, (), None, message) when the rewrite
    accesses memory out of bounds (and the original does not); None if they agree."""
    import numpy as np  # loaded on first use: importing knit stays light

    from knit.errors import InternalError
    from knit.runtime import interp
    from knit.runtime.interp import interpret, reset_configs

    # both runs start from unset configs; the user's interpreter state is put back after
    saved = {cfg: dict(fields) for cfg, fields in interp._CONFIGS.items()}
    results = []
    try:
        for p in (ir, rewritten):
            mine = tuple(x.copy() if isinstance(x, np.ndarray) else x for x in args)
            reset_configs()
            try:
                interpret(p, mine)
            except InternalError as e:
                if p is ir or "out of bounds" not in str(e):
                    raise
                return None, (), None, str(e).split("; ")[0]
            results.append(mine)
    finally:
        reset_configs()
        interp._CONFIGS.update(saved)
    for a, x, y in zip(ir.args, *results):
        if not isinstance(x, np.ndarray):
            continue
        same = (x == y) | (np.isnan(x) & np.isnan(y)) if x.dtype.kind == "f" else x == y
        bad = np.argwhere(~same)
        if len(bad):
            k = tuple(int(i) for i in bad[0])
            return a.name, k, x[k], y[k]
    return None


def _witness(ir, values, args, hit, how, seed: int) -> Witness:
    import numpy as np  # loaded on first use: importing knit stays light

    name, k, want, got = hit
    arrays = [(a.name.name, v) for a, v in zip(ir.args, args) if isinstance(v, np.ndarray)]
    shown = [f"{n} = {_array_str(v)}" for n, v in arrays if v.size <= _MAX_SHOWN]
    hidden = [n for n, v in arrays if v.size > _MAX_SHOWN]
    if hidden:  # too long to print: say how to make them
        shown.append(f"{', '.join(hidden)} filled in argument order by "
                     f"numpy.random.default_rng({seed}).integers(1, 10, shape)")
    inputs = ", ".join([_show(values)] + shown) if values else ", ".join(shown)
    if name is None:  # the rewrite left the memory it may touch
        text = f" Run on the input {inputs}, {how} fails: {_strip_pos(got)}."
        return Witness(text, dict(values), args, None, None, got)
    elem = f"{name.name}[{', '.join(map(str, k))}]" if k else name.name
    text = (f" Run on the input {inputs}: the original computes {elem} = "
            f"{_num(want)}, but {how} computes {_num(got)}.")
    return Witness(text, dict(values), args, (name.name, k), want, got)


def _strip_pos(msg: str) -> str:
    """An interpreter message without its leading `file:line:col: `."""
    head, sep, rest = msg.partition(": ")
    return rest if sep and head.count(":") >= 2 else msg


def _array_str(v: np.ndarray) -> str:
    import numpy as np  # loaded on first use: importing knit stays light

    return np.array2string(v.astype(np.int64) if v.dtype.kind == "f" else v,
                           separator=", ").replace("\n", "")


def _num(x) -> str:
    x = x.item() if hasattr(x, "item") else x
    return str(int(x)) if isinstance(x, float) and x.is_integer() else str(x)


# ---------------------------------------------------------------- refusing


def attach(err, note: str, w: Witness | None, values: dict | None):
    """The refusal `err` with the witness text appended to its message, and the
    witness (or just the values) kept on it for tools and tests."""
    text = note + (w.text if w is not None else "")
    if text:
        _insert(err, text)
    if w is None and values is not None:
        w = Witness(note.strip(), values)
    err.witness = w
    return err


def refusal(err, hit, proc, build):
    """A conflict refusal with its witness: the solver's values for the first_conflict
    result `hit`, and a run of `proc` (a Procedure or a Site) against `build()`, the
    rewrite made without the check, as IR or a Procedure (a thunk: it is only built
    when there are values to run it with)."""
    note, values = conflict(hit, _ir(proc))
    w = None
    if values is not None:
        try:
            w = run(proc, build(), values)
        except Exception:  # noqa: BLE001 - the rewrite cannot even be built: no run
            w = None
    return attach(err, note, w, values)


def race(err, hit, site, loop: N.For):
    """A race refusal with its witness. A parallel loop may run its iterations in any
    order; running them in reverse order (at the statement `site`, a Site or a located
    cursor, when given) and getting a different result shows the race concretely."""
    if site is not None and not isinstance(site, Site):
        site = site_of(site)
    note, values = conflict(hit, _ir(site))
    w = None
    if values is not None and site is not None:
        try:
            bad = site.stmt().replaced((reversed_loop(loop),))
            w = run(site, bad, values, how="running the loop's iterations in "
                    "reverse order (parallel iterations may run in any order)")
        except Exception:  # noqa: BLE001
            w = None
    return attach(err, note, w, values)


class _NoProc:  # the proc is not known: no sizes to name
    args = ()


_NO_PROC = _NoProc()


def reversed_loop(loop: N.For) -> N.For:
    """`loop` running its iterations from the last to the first."""
    from knit.ir.visit import subst_stmts

    it = loop.iter.copy()
    last = E.sub(E.add(loop.lo, loop.hi), E.int_(1))
    body = subst_stmts(loop.body, {loop.iter: E.sub(last, E.var(it))})
    return loop.with_(iter=it, body=body)


def why(err, facts, goal, proc):
    """A refusal for a condition `goal` not proven under `facts` in `proc` (a Procedure,
    a Site or IR), with the values that make it false, or 'could not prove'."""
    note, values = unproven(facts, goal, _ir(proc))
    return attach(err, note, None, values)


def why_conflict(err, hit, proc=None):
    """A conflict refusal with the solver's values (no run: no rewrite to run)."""
    note, values = conflict(hit, _ir(proc))
    return attach(err, note, None, values)


def add_run(err, proc, build, how: str = "the rewrite"):
    """Complete a refusal whose witness has values but no run yet: run `proc` against
    `build()`, the rewrite made without the failed check."""
    w = getattr(err, "witness", None)
    if w is None or w.args is not None or w.values is None:
        return err
    try:
        r = run(proc, build(), w.values, how=how)
    except Exception:  # noqa: BLE001 - cannot be built unchecked: keep the values only
        r = None
    if r is not None:
        _insert(err, r.text)
        r.text = w.text + r.text
        err.witness = r
    return err


def _insert(err, text: str) -> None:
    """Add `text` to the message of `err`, before its hint (which stays the last line)."""
    msg, hint = err.args[0], getattr(err, "hint", "")
    if hint and msg.endswith("\n" + hint):
        msg = msg[:-len(hint) - 1]
        err.args = (f"{msg}\n{text.strip()}\n{hint}",) + err.args[1:]
    else:
        err.args = (f"{msg}\n{text.strip()}",) + err.args[1:]
