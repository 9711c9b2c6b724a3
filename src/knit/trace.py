"""Schedule traces: every procedure remembers the primitive calls that produced it.

Each public scheduling primitive is wrapped once (`install`, called at the end of
`knit.stdlib.scheduling`) by `recorded`, which stores on the result a `Step`: the
primitive's name, its arguments as the user wrote them (pattern strings stay strings;
cursors become `Path`s into the procedure the primitive received) and the user's source
location. `p.trace()` walks these back to the root. A trace can be

- replayed on another root (`replay`), e.g. the same kernel with other sizes or types;
  a step that no longer applies is refused with `ReplayError` naming the step;
- shown as the unified diff of the object code each step made (`Trace.show`, `diff`,
  `Trace.html` for a notebook);
- written as a Python script that re-runs the schedule (`Trace.script`) and read back
  (`Trace.from_script`).

Only the outermost primitive call is recorded: a primitive that calls others (or
`repeat`, which calls one many times) leaves one step per public call the user made.
"""

from __future__ import annotations

import ast
import contextlib
import difflib
import functools
import html
import inspect
import os
import re
import sys
import threading
from dataclasses import dataclass, field

from knit.cursors import cursor as C, internal as I, paths as P
from knit.cursors.cursor import Cursor, InvalidCursorError
from knit.errors import KnitError, ParseFragmentError, SchedulingError, add_call_site
from knit.ir.handles import Notes, ir_of, is_procedure
from knit.ir.srcinfo import generating, user_call
from knit.ir.young import young_only

_state = threading.local()  # .depth: how many recorded primitives are running
# procedure -> (the procedure it was derived from, the Step that derived it)
_steps = Notes()

# ---------------------------------------------------------------- cursor paths

_STEP = re.compile(r"(\w+)(?:\[(\d+)(?::(\d+))?\])?$")


@dataclass(frozen=True)
class Path:
    """Where a cursor pointed, as text: `body[0].body[2]` (a statement),
    `body[0].body[1:3]` (a block), `body[0].body[2].before` / `.after` (a gap),
    `body[1]:rhs.lhs.idx[0]` (an expression inside a statement), `args[2]` (an argument).
    Statement and expression steps are the IR's field names and indices."""

    text: str

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"at(p, {self.text!r})"


def path_of(cursor) -> Path:
    """The Path of a cursor (into its own procedure)."""
    if isinstance(cursor, C.ArgCursor):
        return Path(f"args[{I.arg_index_of(cursor)}]")
    if isinstance(cursor, C.ExprCursor):
        expr = ".".join(f if i is None else f"{f}[{i}]" for f, i in I.expr_path_of(cursor))
        return Path(f"{_stmts(I.path_of(cursor))}:{expr}")
    if isinstance(cursor, C.BlockCursor):
        b = I.span_of(cursor)
        return Path(_join(_stmts(b.parent), f"{b.field}[{b.lo}:{b.hi}]"))
    if isinstance(cursor, C.GapCursor):
        g = I.gap_of(cursor)
        after = g.anchored_after and g.idx > 0
        stmt = _join(_stmts(g.parent), f"{g.field}[{g.idx - 1 if after else g.idx}]")
        return Path(f"{stmt}.{'after' if after else 'before'}")
    if isinstance(cursor, C.StmtCursor):
        return Path(_stmts(I.path_of(cursor)))
    raise TypeError(f"no path for a {type(cursor).__name__}")


def _stmts(path) -> str:
    return ".".join(f"{f}[{i}]" for f, i in path)


def _join(a: str, b: str) -> str:
    return f"{a}.{b}" if a else b


def at(proc, path: str | Path):
    """The cursor at `path` in `proc` (see Path); InvalidCursorError if there is none."""

    text = str(path)
    stmt_text, _, expr_text = re.match(r"([^:\[]*(?:\[[^\]]*\][^:\[]*)*):?(.*)$",
                                       text).group(1, 1, 2)
    steps = [_parse_step(text, s) for s in stmt_text.split(".")] if stmt_text else []
    ir = ir_of(proc)
    gap = steps[-1][0] if steps and steps[-1][0] in ("before", "after") else None
    if gap:
        steps.pop()
    if steps and steps[0][0] == "args":
        if len(steps) != 1 or not 0 <= steps[0][1] < len(ir.args):
            raise C.InvalidCursorError(f"no argument at {text!r} in {proc.name()}")
        return C.ArgCursor(proc, steps[0][1])
    if not steps or any(i is None for _, i, _ in steps):
        raise C.InvalidCursorError(f"{text!r} is not a cursor path")
    parent = tuple((f, i) for f, i, _ in steps[:-1])
    last_field, lo, hi = steps[-1]
    if not P.is_valid_stmt_path(ir, parent + ((last_field, lo),)):
        raise C.InvalidCursorError(f"no statement at {text!r} in {proc.name()}")
    if hi is not None:
        if hi > len(P.block_of(ir, parent, last_field)) or hi <= lo:
            raise C.InvalidCursorError(f"no block {text!r} in {proc.name()}")
        return C.BlockCursor(proc, parent, last_field, lo, hi)
    if gap:
        idx = lo + 1 if gap == "after" else lo
        return C.GapCursor(proc, parent, last_field, idx, anchored_after=gap == "after")
    stmt = parent + ((last_field, lo),)
    if not expr_text:
        return C.make_stmt_cursor(proc, stmt)
    epath = tuple((f, i) for f, i, _ in (_parse_step(text, s) for s in expr_text.split(".")))
    if not P.is_valid_expr_path(P.stmt_at(ir, stmt), epath):
        raise C.InvalidCursorError(f"no expression at {text!r} in {proc.name()}")
    return C.make_expr_cursor(proc, stmt, epath)


def _parse_step(text: str, s: str):
    m = _STEP.match(s)
    if not m:
        raise InvalidCursorError(f"{text!r} is not a cursor path (at {s!r})")
    i = int(m[2]) if m[2] is not None else None
    return m[1], i, int(m[3]) if m[3] is not None else None


# ---------------------------------------------------------------- steps and traces


@dataclass(frozen=True)
class Opaque:
    """An argument that could not be recorded (replaying its step is refused)."""

    why: str


@dataclass
class Step:
    """One primitive call: name, arguments as written (cursors as Paths), location."""

    prim: str
    args: tuple
    kwargs: dict = field(default_factory=dict)
    loc: str = "<unknown>"
    first: bool = False  # the primitive returns a tuple whose first item is the proc

    def __eq__(self, other) -> bool:  # the location is where, not what
        return (isinstance(other, Step) and (self.prim, self.args, self.kwargs)
                == (other.prim, other.args, other.kwargs))

    def call(self) -> str:
        """The call as Python source, `p` standing for the procedure."""
        parts = ["p", *map(_source, self.args),
                 *(f"{k}={_source(v)}" for k, v in self.kwargs.items())]
        return f"{self.prim}({', '.join(parts)})"


def _source(v) -> str:
    """Python source for a recorded argument (objects by their name)."""
    if isinstance(v, Path):
        return repr(v)
    if is_procedure(v):
        return v.name()
    if isinstance(v, list):
        return "[" + ", ".join(map(_source, v)) + "]"
    if isinstance(v, tuple):
        return "(" + ", ".join(map(_source, v)) + ("," if len(v) == 1 else "") + ")"
    if isinstance(v, (str, int, float, bool, type(None))):
        return repr(v)
    name = getattr(v, "__name__", None) or getattr(v, "name", None)
    if callable(name):
        name = name()
    if isinstance(name, str) and name.isidentifier():
        return name
    return f"<{type(v).__name__}>"  # an Opaque or an unnamed object: not re-runnable


class Trace:
    """The steps from a root procedure to a scheduled one (a sequence of Steps)."""

    def __init__(self, root, steps: list, procs: list):
        self.root, self.steps, self.procs = root, list(steps), list(procs)

    def __len__(self) -> int:
        return len(self.steps)

    def __iter__(self):
        return iter(self.steps)

    def __getitem__(self, i):
        return self.steps[i]

    def __repr__(self) -> str:
        return f"<knit.Trace of {len(self)} step(s) from {self.root.name()}>"

    def __str__(self) -> str:
        return "\n".join(f"{k + 1:3}. {s.call():70}  # {s.loc}" for k, s in enumerate(self))

    def diffs(self) -> list[str]:
        """For each step, the unified diff of the object code it changed."""
        before = [self.root, *self.procs[:-1]]
        return [diff(a, b, label=f"step {k + 1}: {s.call()}  ({s.loc})")
                for k, (s, a, b) in enumerate(zip(self.steps, before, self.procs))]

    def show(self, file=None) -> None:
        """Print each step's call and the diff of the object code it made."""
        print(f"# root: {self.root.name()}", file=file or sys.stdout)
        for d in self.diffs():
            print(d, file=file or sys.stdout)

    def html(self) -> str:
        """The steps as side-by-side HTML diffs (for a notebook)."""
        before = [self.root, *self.procs[:-1]]
        parts = []
        for k, (s, a, b) in enumerate(zip(self.steps, before, self.procs)):
            table = difflib.HtmlDiff(wrapcolumn=80).make_table(
                str(a).splitlines(), str(b).splitlines(), context=True, numlines=2)
            parts.append(f"<h4>step {k + 1}: <code>{html.escape(s.call())}</code> "
                         f"<small>{html.escape(s.loc)}</small></h4>{table}")
        return "\n".join(parts)

    _repr_html_ = html

    def script(self, name: str = "schedule") -> str:
        """A Python script defining `name(p)`, which re-runs this schedule on p."""
        needs = sorted({_source(v) for s in self for v in _leaves(s)
                        if not isinstance(v, (Path, str, int, float, bool, type(None)))})
        lines = [f'"""knit schedule trace: {len(self)} step(s) recorded from '
                 f'{self.root.name()}."""', "from knit.stdlib.scheduling import *  # noqa",
                 "from knit.trace import at"]
        if needs:
            lines.append(f"# names the caller provides (procedures, memories): "
                         f"{', '.join(needs)}")
        lines += ["", "", f"def {name}(p):"]
        lines += [f"    p = {s.call()}{'[0]' if s.first else ''}  # {s.loc}" for s in self]
        lines.append("    return p")
        return "\n".join(lines) + "\n"

    @staticmethod
    def from_script(text: str, scope: dict | None = None, root=None) -> Trace:
        """Read back a script written by `script` (names it needs come from `scope`).
        The result has steps but no procedures unless `root` is given (then it is
        replayed on root)."""
        steps = [_step_of(stmt, scope or {}) for stmt in _schedule_body(text)]
        if root is not None:
            return replay(Trace(None, steps, []), root).trace()
        return Trace(None, steps, [])


def _leaves(step: Step):
    stack = [*step.args, *step.kwargs.values()]
    while stack:
        v = stack.pop()
        if isinstance(v, (list, tuple)):
            stack.extend(v)
        else:
            yield v


def _schedule_body(text: str) -> list:
    tree = ast.parse(text)
    fns = [s for s in tree.body if isinstance(s, ast.FunctionDef)]
    if len(fns) != 1:
        raise ValueError("from_script: expected one schedule function")
    return [s for s in fns[0].body if isinstance(s, ast.Assign)]


def _step_of(stmt: ast.Assign, scope: dict) -> Step:
    call = stmt.value
    first = isinstance(call, ast.Subscript)
    call = call.value if first else call
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name)):
        raise ValueError(f"from_script: line {stmt.lineno} is not `p = primitive(p, ...)`")
    ns = dict(scope, at=lambda _p, text: Path(text), p=None)

    def value(node):
        return eval(compile(ast.Expression(node), "<trace script>", "eval"), ns)

    return Step(call.func.id, tuple(value(a) for a in call.args[1:]),
                {k.arg: value(k.value) for k in call.keywords}, f"<script>:{stmt.lineno}",
                first)


def trace_of(proc) -> Trace:
    """The recorded steps from proc's root to proc."""
    steps, procs = [], []
    while (rec := _steps.get(proc)) is not None:
        parent, step = rec
        steps.append(step)
        procs.append(proc)
        proc = parent
    return Trace(proc, steps[::-1], procs[::-1])


def diff(p, q, label: str = "") -> str:
    """The unified diff from p's object code to q's."""
    a, b = (str(x).rstrip("\n") + "\n" for x in (p, q))
    a, b = a.splitlines(keepends=True), b.splitlines(keepends=True)
    head = f"# {label}\n" if label else ""
    body = "".join(difflib.unified_diff(a, b, f"{p.name()} (before)", f"{q.name()} (after)",
                                        n=2))
    return head + (body or "(no change in the object code)\n")


# ---------------------------------------------------------------- replay


class ReplayError(SchedulingError):
    """A recorded step does not apply to the procedure a trace is replayed on."""


def replay(trace, root):
    """Apply the steps of `trace` (a Trace, a list of Steps, or a script's text) to
    `root`; the result remembers the original steps' locations."""

    if isinstance(trace, str):
        trace = Trace.from_script(trace)
    steps = list(trace)
    p = root
    for k, step in enumerate(steps):
        where = f"{step.loc}: replay: step {k + 1} of {len(steps)}, {step.call()}"
        fn = PRIMITIVES.get(step.prim)
        if fn is None:
            raise ReplayError(f"{where}: no primitive named {step.prim!r}")
        try:
            args = tuple(_resolve(v, p) for v in step.args)
            kwargs = {n: _resolve(v, p) for n, v in step.kwargs.items()}
            q = fn(p, *args, **kwargs)
        except (SchedulingError, InvalidCursorError, ParseFragmentError) as e:
            first = str(e).splitlines()[0] if str(e) else type(e).__name__
            raise ReplayError(f"{where}, does not apply to {root.name()}:\n  {first}\n"
                              "The trace was recorded on another procedure; schedule this "
                              "step by hand, or replay the steps before it "
                              f"(replay(trace[:{k}], root)).") from e
        q = q[0] if isinstance(q, tuple) else q
        if (rec := _steps.get(q)) is not None:
            _steps.put(q, (rec[0], Step(step.prim, step.args, step.kwargs, step.loc,
                                        step.first)))
        p = q
    return p


def _resolve(v, proc):
    if isinstance(v, Path):
        return at(proc, v)
    if isinstance(v, Opaque):
        raise SchedulingError(f"an argument was not recorded ({v.why})")
    if isinstance(v, list):
        return [_resolve(x, proc) for x in v]
    if isinstance(v, tuple):
        return tuple(_resolve(x, proc) for x in v)
    return v


# ---------------------------------------------------------------- recording


def _record_arg(v, proc):
    if isinstance(v, Cursor):
        try:
            return path_of(v if I.proc_of(v) is proc else proc.forward(v))
        except Exception as e:  # noqa: BLE001 - recording must never break a schedule
            return Opaque(f"a cursor that could not be forwarded: {type(e).__name__}")
    if isinstance(v, list):
        return [_record_arg(x, proc) for x in v]
    if isinstance(v, tuple):
        return tuple(_record_arg(x, proc) for x in v)
    return v


def _location(site) -> str:
    """file:line:col of the user's call (`site`, the SrcInfo srcinfo.user_call found)."""
    if site is None:
        return "<knit>"
    return f"{_shown_name(site.filename, os.getcwd())}:{site.line}:{site.col + 1}"


@functools.lru_cache(maxsize=64)
def _shown_name(name: str, cwd: str) -> str:
    """`name` relative to `cwd` when it is under it (cached: every step asks)."""
    rel = os.path.relpath(name, cwd) if os.path.isabs(name) else name
    return name if rel.startswith("..") else rel


_NO_SCOPE = contextlib.nullcontext()


def recorded(prim):
    """Wrap a primitive so that the procedure it returns remembers the call."""
    if getattr(prim, "__knit_recorded__", False):
        return prim

    @functools.wraps(prim)
    def wrapper(proc, *args, **kwargs):
        depth = getattr(_state, "depth", 0)
        # the user's call: named by the errors the primitive raises, and the position of
        # the statements it creates (knit/ir/srcinfo.py, "generated code")
        site = user_call(prim.__name__) if depth == 0 else None
        _state.depth = depth + 1
        try:
            with generating(site), (young_only() if depth == 0 else _NO_SCOPE):
                out = prim(proc, *args, **kwargs)
        except KnitError as e:
            add_call_site(e, site)
            raise
        finally:
            _state.depth = depth
        new = out[0] if isinstance(out, tuple) and out else out
        if (depth == 0 and is_procedure(proc) and is_procedure(new)
                and new is not proc and _steps.get(new) is None):
            step = Step(prim.__name__, tuple(_record_arg(a, proc) for a in args),
                        {n: _record_arg(v, proc) for n, v in kwargs.items()},
                        _location(site), new is not out)
            _steps.put(new, (proc, step))
        return out

    wrapper.__knit_recorded__ = True
    return wrapper


PRIMITIVES: dict = {}  # name -> the recorded public primitive
_COMBINATORS = {"repeat", "sched_seq"}  # they call primitives; the calls are the steps


def install(*modules) -> None:
    """Wrap every public primitive defined in `modules` (in each module that holds it)."""
    for m in modules:
        for name, f in list(vars(m).items()):
            if (inspect.isfunction(f) and not name.startswith("_") and name not in _COMBINATORS
                    and f.__module__ in {x.__name__ for x in modules}):
                PRIMITIVES[name] = recorded(f)
    for m in modules:
        for name in list(vars(m)):
            if name in PRIMITIVES:
                setattr(m, name, PRIMITIVES[name])
