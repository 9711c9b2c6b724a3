"""The schedule fuzzer: random procedures, random schedules, and the promise that a
schedule can make code faster but never wrong.

    .venv/bin/python -m tests.fuzz.fuzz --seconds 120 [--seed 0] [--jobs 2]
    .venv/bin/python -m tests.fuzz.fuzz --case 1234        # one case, verbosely
    .venv/bin/python -m tests.fuzz.fuzz --cases 300 --save a.json   # a fixed set of cases
    .venv/bin/python -m tests.fuzz.compare a.json b.json            # two versions of knit

Each case generates a procedure (`gen.py`) and applies 1-8 random primitives with
random arguments (`moves.py`). After every step:

- the primitive either returns a new procedure (accepted) or raises one of the
  exceptions its move allows (refused); anything else is a BUG (`exception`), and so
  is a refusal whose message is empty or shows internal objects (`bad-message`);
- an accepted result must be provably equal to the original (`p.is_eq(p0)`: a bug of
  kind `provenance`), print as object code that parses back (`print-roundtrip`), and
  agree with the original on random inputs, compiled and interpreted
  (`knit.check_equiv(p0, p, trials=2)`): a difference is a `mismatch`, and any other
  failure while checking (the result fails the definition-time checks, C that does not
  compile, ...) is an `invalid-result`;
- a step that does not finish within the step timeout is a `hang`; a worker process
  that dies (a segfault in compiled code) is a `crash`;
- the generated program and every accepted result also run interpreted and compiled
  by gcc and clang (default flags) on inputs with NaN, -0.0, +-inf, subnormals and
  integer extremes (backends.py): a difference is a `backend-mismatch:<compilers>`, a
  compiler rejecting knit's C a `backend-error:<compiler>`, an interpreter error on a
  program the checks accepted an `interp-error`. These are reported on the side and
  the case goes on, comparing versions with the execution still trusted; a rewrite's
  result that differs from the original only on those inputs is an `edge-mismatch`.

Everything that runs knit runs in a worker process, so hangs and crashes are caught.
A bug is shrunk (steps, then statements of the program, dropped while the same bug
remains) and printed as a runnable
reproducer, marked NEW or known (known.py; the exit status is 1 only for new bugs).
At the end a table gives, per primitive, the rewrites attempted, accepted, refused,
checked (accepted and passed every check), the bugs and the acceptance rate.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import multiprocessing
import multiprocessing.connection
import os
import random
import re
import sys
import tempfile
import time
import traceback
import warnings
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from . import gen
from .moves import Step
from .repro import is_backend_kind, reproducer
from .same import check_roundtrip

# ---------------------------------------------------------------- the worker side


class Runner:
    """Runs cases inside a worker process (imports knit lazily, once)."""

    def __init__(self):
        import knit
        import knit.errors as KE
        import knit.stdlib.scheduling as S
        from knit.cursors.cursor import InvalidCursorError
        from knit.equiv import EquivalenceError

        from . import moves

        self.knit, self.S, self.moves = knit, S, moves
        self.EquivalenceError = EquivalenceError
        self.KnitWarning = getattr(KE, "KnitWarning", Warning)  # older knits: none
        self.prelude = gen.exec_prelude()
        self.scope = self.prelude["scope"]
        self.errors = {"SchedulingError": KE.SchedulingError,
                       "ParseFragmentError": KE.ParseFragmentError,
                       "InvalidCursorError": InvalidCursorError}
        self.ns = {n: getattr(S, n) for n in dir(S) if not n.startswith("_")}
        self.ns.update({k: v for k, v in self.prelude.items() if not k.startswith("__")})

    # ------------------------------------------------------------ one step

    def apply(self, p, step: Step, prev=None) -> tuple:
        """("accepted", q) | ("refused", reason) | ("badarg", reason) | ("bug", info).
        `prev` is `p_prev` in the step's source (see Step.old_cursors)."""
        ns = dict(self.ns, p=p, p_prev=prev)
        try:
            args = [eval(a, ns) for a in step.args]
            kwargs = {k: eval(v, ns) for k, v in step.kwargs.items()}
        except Exception as e:  # the move drew an argument that does not exist: our bug
            return "badarg", _short(e)
        move = self.moves.MOVES.get(step.prim)
        allowed = tuple(self.errors[n] for n in (move.allowed if move else
                                                 self.moves.FRAGMENT_ALLOWED))
        try:
            # replace_all reports what it replaced (stderr) and warns when nothing
            # matched: for a user; the fuzzer judges its result instead
            with warnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()):
                warnings.simplefilter("ignore", self.KnitWarning)
                out = getattr(self.S, step.prim)(p, *args, **kwargs)
        except allowed as e:
            if not str(e).strip() or _INTERNAL_REPR.search(str(e)):
                return "bug", {"kind": "bad-message", "exc": type(e).__name__,
                               "message": str(e), "traceback": traceback.format_exc()}
            return "refused", _short(e)
        except Exception as e:
            return "bug", {"kind": "exception", "exc": type(e).__name__,
                           "message": str(e), "traceback": traceback.format_exc()}
        if step.prim == "extract_subproc":
            out = out[0] if isinstance(out, tuple) else out
        if not isinstance(out, self.knit.Procedure):
            return "bug", {"kind": "exception", "exc": "WrongResult",
                           "message": f"returned {type(out).__name__}, not a Procedure",
                           "traceback": ""}
        return "accepted", out

    def check(self, p0, q, sizes: dict, seed: int, trust: str = "both") -> dict | None:
        """None when q passes every check against p0, else the bug. `trust` says which
        executions compare the two: "both", "interpreter" or "compiled" (the other one
        is known to be wrong on this program: a backend bug, reported by `backends`),
        or "none"."""
        from .backends import precision_tolerance

        if not q.is_eq(p0):
            return {"kind": "provenance", "exc": "", "traceback": "",
                    "message": "the result is not is_eq to the original"}
        with precision_tolerance(p0, q):  # set_precision: compare at the new precision
            return self._check_values(p0, q, sizes, seed, trust)

    def _check_values(self, p0, q, sizes: dict, seed: int, trust: str) -> dict | None:
        from .backends import edge_diff, is_undefined, pick_sizes

        try:
            if trust != "none":
                self.knit.check_equiv(p0, q, trials=2, sizes=sizes, seed=seed,
                                      compiled=trust != "interpreter",
                                      interpret={"both": None, "interpreter": True,
                                                 "compiled": False}[trust])
        except self.EquivalenceError as e:
            return {"kind": "mismatch", "exc": "EquivalenceError", "message": str(e),
                    "traceback": ""}
        except Exception as e:
            if not is_undefined(e):  # else: inputs outside the program's domain (NaN -> int)
                return {"kind": "invalid-result", "exc": type(e).__name__,
                        "message": str(e), "traceback": traceback.format_exc()}
        try:
            diff = edge_diff(p0, q, pick_sizes(sizes, seed), seed) \
                if trust in ("both", "interpreter") else None
        except Exception as e:
            return {"kind": "invalid-result", "exc": type(e).__name__, "message": str(e),
                    "traceback": traceback.format_exc()}
        if diff is not None:
            return {"kind": "edge-mismatch", "exc": "", "message": diff, "traceback": ""}
        try:
            check_roundtrip(q, self.scope)
        except Exception as e:
            return {"kind": "print-roundtrip", "exc": type(e).__name__, "message": str(e),
                    "traceback": traceback.format_exc()}
        return None

    def backends(self, p, sizes: dict, seed: int) -> dict | None:
        """p interpreted against p compiled by gcc and clang (default flags), on inputs
        with edge values: None, or the bug (`backend-mismatch:<compiler>`, or
        `interp-error` when the interpreter cannot run a program the checks accepted)."""
        from knit.errors import KnitError

        from .backends import backend_diff, pick_sizes

        try:
            p._check()
        except KnitError:  # an invalid rewrite result: `check` reports it
            return None
        d = backend_diff(p, pick_sizes(sizes, seed), seed)
        if d is None:
            return None
        kind = "interp-error" if d.mode == "interpreter" else \
            ("backend-error:" if d.error else "backend-mismatch:") + d.mode
        elem = {a.name.name: a.type.basetype().name for a in p._loopir_proc.args}
        flavour = f"{_flavour(d)} in {elem.get(d.buffer, '')}"
        return {"kind": kind, "exc": d.error.split(":")[0] if d.error else flavour,
                "message": d.message(), "traceback": ""}

    # ------------------------------------------------------------ cases

    def run_case(self, seed: int, max_steps: int, only, send) -> dict:
        """Generate case `seed`'s program, check its backends, then apply and check up to
        `max_steps` random steps. A backend bug is sent on the side ("side") and the case
        goes on comparing versions interpreted only; a rewrite bug ends it."""
        from knit.errors import KnitError
        from knit.procedure import parse_proc_string

        g = gen.generate(seed)
        send(("gen", g.src, g.sizes))
        try:
            p0 = parse_proc_string(g.src, self.scope)
        except KnitError as e:
            return {"status": "rejected", "reason": _short(e)}
        trust = "both"
        side = self.backends(p0, g.sizes, _check_seed(seed, 99))
        if side is not None:
            side.update(check_seed=_check_seed(seed, 99))
            send(("side", side, []))
            trust = _distrust(trust, side)
        rng = random.Random(seed * 7919 + 17)
        moves = self.moves.available(only)
        names = sorted(moves)
        p, prev, steps, last = p0, None, [], None
        for i in range(rng.randint(1, max_steps)):
            step = None
            follow = [n for n in self.moves.FOLLOW.get(last, []) if n in moves]
            for k in range(10):  # a move may find nothing to act on in this proc
                name = rng.choice(follow if follow and k == 0 and rng.random() < 0.4
                                  else names)
                old = prev is not None and rng.random() < 0.15  # exercise p.forward
                cat = self.moves.Catalog(prev, "p_prev") if old else self.moves.Catalog(p)
                step = moves[name].choose(cat, rng)
                if step is not None:
                    step.old_cursors = old
                    break
            if step is None:
                continue
            send(("start", step))
            verdict, out = self.apply(p, step, prev)
            if verdict == "accepted":
                cs = _check_seed(seed, i)
                if trust == "both":
                    side = self.backends(out, g.sizes, cs)
                    if side is not None:
                        side.update(check_seed=cs)
                        send(("side", side, steps + [step]))
                        trust = _distrust(trust, side)
                bug = self.check(p0, out, g.sizes, cs, trust)
                if bug is not None:
                    bug.update(check_seed=cs, trust=trust)
                    send(("end", "bug", bug["kind"]))
                    return {"status": "bug", "bug": bug, "steps": steps + [step]}
                steps.append(step)
                p, prev, last = out, p, step.prim
                send(("end", "checked", ""))
            elif verdict == "bug":
                send(("end", "bug", out["kind"]))
                return {"status": "bug", "bug": out, "steps": steps + [step]}
            else:
                send(("end", verdict, out))
        return {"status": "ok"}

    def replay(self, src: str, sizes: dict, steps: list, check_seed: int,
               kind: str = "", trust: str = "both") -> dict:
        """Apply `steps`: all but the last must be accepted; classify the last one (for
        a backend `kind`, check the result's backends; without steps, the program's)."""
        from knit.procedure import parse_proc_string

        try:
            p0 = p = parse_proc_string(src, self.scope)
        except Exception:  # noqa: BLE001 - a shrunk program the checks reject
            return {"kind": "diverged"}
        if is_backend_kind(kind) and not steps:
            return self.backends(p0, sizes, check_seed) or {"kind": "none"}
        prev = None
        for k, step in enumerate(steps):
            verdict, out = self.apply(p, step, prev)
            last = k == len(steps) - 1
            if verdict == "bug":
                return out if last else {"kind": "diverged"}
            if verdict != "accepted":
                return {"kind": "diverged"}
            p, prev = out, p
            if last:
                if is_backend_kind(kind):
                    return self.backends(p, sizes, check_seed) or {"kind": "none"}
                return self.check(p0, p, sizes, check_seed, trust) or {"kind": "none"}
        return {"kind": "none"}


def _distrust(trust: str, side: dict) -> str:
    """What is left to trust after a backend bug: the interpreter after a compiler's
    bug, the compiled code after the interpreter's."""
    broken = "interpreter" if side["kind"] == "interp-error" else "compiled"
    return "none" if trust not in ("both", broken) else \
        ("compiled" if broken == "interpreter" else "interpreter")


def _error_key(message: str) -> str:
    """What tells two backend errors apart: the compiler's first `error:` line, or the
    interpreter's exception and its words, without paths, positions and numbers."""
    for line in message.splitlines():
        if "error:" in line:
            return re.sub(r"\d+", "#", line.split("error:", 1)[1])[:80]
    head = re.sub(r"^.*?failed for [^:]*: ", "", (message.splitlines() or [""])[0])
    head = re.sub(r"<string>:\d+:\d+: |\[.*?\]|\(.*?\)", "", head)
    return re.sub(r"\d+", "#", head)[:80]


def _flavour(d) -> str:
    """What kind of difference a backend shows, to tell bugs apart: the element type and
    whether it is about NaN, infinities, the sign of zero or the value."""
    import numpy as np

    x, y = d.expected, d.got
    if isinstance(x, float) and isinstance(y, float):
        if np.isnan(x) != np.isnan(y):
            return "nan"
        if np.isinf(x) or np.isinf(y):
            return "inf"
        if x == y == 0:
            return "zero-sign"
        return "float-value"
    return "int-value"


# what a refusal must not show its reader (quality.md: no internal object reprs)
_INTERNAL_REPR = re.compile(r"object at 0x|<knit\.|\bSym\(|\b(Read|BinOp|Const|For|Assign)\(")


def _check_seed(seed: int, i: int) -> int:
    return (seed * 101 + i) % (2**31)


def _short(e: BaseException) -> str:
    """The first line of an error without its source position, for counting reasons."""
    line = (str(e).splitlines() or [""])[0]
    line = re.sub(r"^\S+:\d+:\d+: ", "", line)
    return f"{type(e).__name__}: {line}"[:160]


def worker_main(conn, env: dict) -> None:
    os.environ.update(env)
    runner = None
    while True:
        try:
            msg = conn.recv()
        except EOFError:
            return
        if msg is None:
            return
        runner = runner or Runner()
        if msg[0] == "case":
            result = runner.run_case(*msg[1:], send=conn.send)
        else:
            result = runner.replay(*msg[1:])
        conn.send(("done", result))


# ---------------------------------------------------------------- the parent side


class Worker:
    """A worker process and the case it is running."""

    def __init__(self, ctx, env: dict):
        self.ctx, self.env = ctx, env
        self.proc = self.conn = None
        self.cases = 0
        self.start()

    def start(self) -> None:
        parent, child = self.ctx.Pipe()
        self.proc = self.ctx.Process(target=worker_main, args=(child, self.env), daemon=True)
        self.proc.start()
        child.close()
        self.conn, self.cases = parent, 0
        self.job = None
        self.deadline = None

    def stop(self) -> None:
        try:
            self.conn.send(None)
            self.proc.join(2)
        except (OSError, BrokenPipeError):
            pass
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join()
        self.conn.close()

    def restart(self) -> None:
        if self.proc.is_alive():
            self.proc.kill()  # our own worker, by its handle
        self.proc.join()
        self.conn.close()
        self.start()

    def call(self, msg, timeout: float) -> dict:
        """Send a replay and wait: its result, or a hang/crash verdict."""
        self.conn.send(msg)
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0 or not self.conn.poll(left):
                self.restart()
                return {"kind": "hang"}
            try:
                kind, *rest = self.conn.recv()
            except (EOFError, OSError):
                self.restart()
                return {"kind": "crash"}
            if kind == "done":
                return rest[0]


@dataclass
class Job:
    seed: int
    src: str = ""
    sizes: dict = field(default_factory=dict)
    steps: list = field(default_factory=list)  # accepted steps so far
    current: Step | None = None


@dataclass
class Bug:
    kind: str
    prim: str
    exc: str
    message: str
    traceback: str
    seed: int
    src: str
    sizes: dict
    steps: list
    check_seed: int = 0
    count: int = 1
    shrunk_from: int = 0
    trust: str = "both"  # which executions the rewrite's check compared (Runner.check)

    def signature(self) -> tuple:
        head = (self.message.splitlines() or [""])[0]
        head = re.sub(r"\S+:\d+:\d+: ", "", head)
        head = re.sub(r"\d+", "#", head)[:80]
        if is_backend_kind(self.kind):  # one program's runs: the rewrite is no part of it
            return (self.kind, "", self.exc,
                    _error_key(self.message) if "error" in self.kind else "")
        return (self.kind, self.prim, self.exc,
                head if self.kind in ("exception", "bad-message") else "")

    def reproducer(self) -> str:
        return reproducer(self)


def _rate(c) -> str:
    """Accepted over attempted, in percent."""
    return f"{100 * c['accepted'] / c['attempted']:>8.1f}%" if c["attempted"] else f"{'-':>9}"


@dataclass
class Report:
    seconds: float = 0.0
    cases: int = 0
    rejected: int = 0
    stats: dict = field(default_factory=lambda: defaultdict(Counter))
    reasons: dict = field(default_factory=lambda: defaultdict(Counter))
    rejections: Counter = field(default_factory=Counter)
    bugs: dict = field(default_factory=dict)  # signature -> Bug

    def table(self) -> str:
        cols = ["attempted", "accepted", "refused", "checked", "badarg", "bugs"]
        lines = [f"{'primitive':24}" + "".join(f"{c:>10}" for c in cols) + f"{'accept%':>9}"]
        total = Counter()
        for prim in sorted(self.stats):
            c = self.stats[prim]
            total.update(c)
            lines.append(f"{prim:24}" + "".join(f"{c[k]:>10}" for k in cols) + _rate(c))
        lines.append(f"{'TOTAL':24}" + "".join(f"{total[k]:>10}" for k in cols) +
                     _rate(total))
        return "\n".join(lines)

    def to_json(self) -> dict:
        """What `compare` reads: the counts per primitive and the bugs' signatures."""
        return {"cases": self.cases, "rejected": self.rejected, "seconds": self.seconds,
                "stats": {p: dict(c) for p, c in sorted(self.stats.items())},
                "bugs": [{"kind": b.kind, "prim": b.prim, "count": b.count, "seed": b.seed,
                          "message": (b.message.splitlines() or [""])[0][:200]}
                         for b in self.bugs.values()]}

    def summary(self) -> str:
        return (f"{self.cases} cases ({self.rejected} generated procs rejected by the "
                f"checker) in {self.seconds:.0f} s; {len(self.bugs)} distinct bug(s)")


def fuzz(seed: int = 0, seconds: float = 60, *, max_steps: int = 8, jobs: int = 1,
         step_timeout: float = 60, only=None, shrink_seconds: float = 120,
         cases: list | None = None, should_shrink=None, log=print) -> Report:
    """Fuzz for `seconds` starting at case `seed` (or run exactly `cases`).
    `should_shrink(bug)` (default: always) picks the bugs worth shrinking."""
    ctx = multiprocessing.get_context("spawn")
    env = _worker_env()
    workers = [Worker(ctx, env) for _ in range(max(1, jobs))]
    report, start = Report(), time.monotonic()
    queue = list(cases) if cases is not None else None
    next_seed = seed
    try:
        while True:
            out_of_time = time.monotonic() - start > seconds
            for w in workers:
                if w.job is None and not out_of_time and (queue is None or queue):
                    s = queue.pop(0) if queue is not None else next_seed
                    next_seed += 1
                    if w.cases >= 150:  # loaded libraries and caches only grow
                        w.restart()
                    w.job, w.cases = Job(s), w.cases + 1
                    w.deadline = time.monotonic() + step_timeout
                    w.conn.send(("case", s, max_steps, only))
            busy = [w for w in workers if w.job is not None]
            if not busy:
                break
            ready = multiprocessing.connection.wait([w.conn for w in busy], timeout=1.0)
            for w in busy:
                if w.conn in ready:
                    _receive(w, report, step_timeout, log)
                elif time.monotonic() > w.deadline:
                    _lost(w, report, "hang", log)
                    w.restart()
        report.seconds = time.monotonic() - start
        shrinker = workers[0]
        for bug in report.bugs.values():
            if should_shrink is None or should_shrink(bug):
                _shrink(shrinker, bug, step_timeout, shrink_seconds)
    finally:
        for w in workers:
            w.stop()
    return report


def _worker_env() -> dict:
    env = {"OMP_NUM_THREADS": "2"}
    if not os.environ.get("KNIT_CACHE_DIR"):
        env["KNIT_CACHE_DIR"] = os.path.join(tempfile.gettempdir(), "knit-fuzz-cache")
    return env


def _receive(w: Worker, report: Report, step_timeout: float, log) -> None:
    try:
        kind, *rest = w.conn.recv()
    except (EOFError, OSError):
        _lost(w, report, "crash", log)
        w.restart()
        return
    job = w.job
    w.deadline = time.monotonic() + step_timeout
    if kind == "gen":
        job.src, job.sizes = rest
    elif kind == "start":
        job.current = rest[0]
        report.stats[job.current.prim]["attempted"] += 1
    elif kind == "end":
        verdict, why = rest
        c = report.stats[job.current.prim]
        if verdict == "checked":
            c["accepted"] += 1
            c["checked"] += 1
            job.steps.append(job.current)
        elif verdict == "bug":
            c["bugs"] += 1
            if why not in ("exception", "bad-message"):
                c["accepted"] += 1
        else:
            c[verdict] += 1
            report.reasons[job.current.prim][why] += 1
        job.current = None
    elif kind == "side":  # a backend bug: the case goes on
        b, steps = rest
        _record(report, Bug(b["kind"], steps[-1].prim if steps else "(generated)",
                            b.get("exc", ""), b["message"], b.get("traceback", ""), job.seed,
                            job.src, job.sizes, steps, b.get("check_seed", 0)), log)
    elif kind == "done":
        result = rest[0]
        report.cases += 1
        if result["status"] == "rejected":
            report.rejected += 1
            report.rejections[result["reason"]] += 1
        elif result["status"] == "bug":
            b = result["bug"]
            steps = result["steps"]
            _record(report, Bug(b["kind"], steps[-1].prim, b.get("exc", ""), b["message"],
                                b.get("traceback", ""), job.seed, job.src, job.sizes, steps,
                                b.get("check_seed", 0), trust=b.get("trust", "both")), log)
        w.job = None


def _lost(w: Worker, report: Report, kind: str, log) -> None:
    """The worker hung or died during a case: a bug at the step it was running."""
    job = w.job
    report.cases += 1
    if job.current is None:  # between steps (generating, parsing): blame the harness
        _record(report, Bug(kind, "(none)", "", f"worker {kind} outside any step", "",
                            job.seed, job.src, job.sizes, list(job.steps)), log)
    else:
        report.stats[job.current.prim]["bugs"] += 1
        steps = job.steps + [job.current]
        _record(report, Bug(kind, job.current.prim, "", f"{kind} in {job.current.call()}",
                            "", job.seed, job.src, job.sizes, steps,
                            _check_seed(job.seed, len(steps) - 1)), log)
    w.job = None


def _record(report: Report, bug: Bug, log) -> None:
    sig = bug.signature()
    if sig in report.bugs:
        report.bugs[sig].count += 1
        return
    report.bugs[sig] = bug
    log(f"BUG ({bug.kind}) in {bug.prim}, case {bug.seed}: "
        f"{(bug.message.splitlines() or [''])[0][:200]}")


def _shrink(w: Worker, bug: Bug, step_timeout: float, budget: float) -> None:
    """Drop steps (the last one kept, unless the bug is the program's own) and then
    statements of the program while replaying still gives the same bug."""
    if bug.prim == "(none)":
        return
    end = time.monotonic() + budget
    bug.shrunk_from = len(bug.steps)

    def same(src, steps) -> bool:
        got = w.call(("replay", src, bug.sizes, steps, bug.check_seed, bug.kind,
                      bug.trust), step_timeout * 2)
        return got.get("kind") == bug.kind and \
            (bug.kind != "exception" or got.get("exc") == bug.exc)

    if is_backend_kind(bug.kind) and bug.steps and same(bug.src, []):
        bug.steps, bug.prim = [], "(generated)"
    changed = True
    while changed and time.monotonic() < end:
        changed = False
        for k in range(len(bug.steps) - 2, -1, -1):
            if time.monotonic() > end:
                break
            cand = bug.steps[:k] + bug.steps[k + 1:]
            if same(bug.src, cand):
                bug.steps, changed = cand, True
    changed = True
    while changed and time.monotonic() < end:
        changed = False
        for cand in gen.smaller_sources(bug.src):
            if time.monotonic() > end:
                break
            if same(cand, bug.steps):
                bug.src, changed = cand, True
                break


def print_report(report: Report, log=print, verbose: bool = False) -> None:
    log(report.table())
    log(report.summary())
    if verbose:
        for prim in sorted(report.reasons):
            log(f"  {prim}: " + "; ".join(f"{n}x {r}" for r, n in
                                          report.reasons[prim].most_common(4)))
        for r, n in report.rejections.most_common(5):
            log(f"  generator rejected {n}x: {r}")
    from .known import known

    for bug in report.bugs.values():
        log("=" * 78)
        held = known(bug)
        log(f"BUG: {bug.kind} in {bug.prim} ({bug.count} case(s); first case {bug.seed}; "
            f"shrunk from {bug.shrunk_from} to {len(bug.steps)} step(s))" +
            (f" -- known, held by tests/fuzz test {held}" if held else " -- NEW"))
        if bug.traceback:
            log(bug.traceback.rstrip())
        log(bug.reproducer())


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tests.fuzz.fuzz", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=120)
    ap.add_argument("--seed", type=int, default=0, help="first case number")
    ap.add_argument("--case", type=int, action="append", help="run just these cases")
    ap.add_argument("--cases", type=int, help="run exactly the cases --seed .. --seed + "
                    "CASES - 1 whatever the time (a fixed set, to compare two versions)")
    ap.add_argument("--save", help="write the counts per primitive and the bugs to this "
                    "JSON file (compare two with `python -m tests.fuzz.compare A B`)")
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--max-steps", type=int, default=8)
    ap.add_argument("--step-timeout", type=float, default=60)
    ap.add_argument("--only", help="comma-separated primitives to draw from")
    ap.add_argument("--out", help="also write each reproducer to a file in this directory")
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args(argv)
    only = a.only.split(",") if a.only else None
    cases = a.case or (list(range(a.seed, a.seed + a.cases)) if a.cases else None)
    report = fuzz(a.seed, a.seconds if cases is None else 1e9, max_steps=a.max_steps,
                  jobs=a.jobs, step_timeout=a.step_timeout, only=only, cases=cases)
    print_report(report, verbose=a.verbose)
    if a.save:
        import json

        with open(a.save, "w") as f:
            json.dump(report.to_json(), f, indent=1)
    if a.out:
        os.makedirs(a.out, exist_ok=True)
        for n, bug in enumerate(report.bugs.values()):
            with open(os.path.join(a.out, f"repro_{n:02d}_{bug.kind}_{bug.prim}.py"), "w") as f:
                f.write(bug.reproducer())
    from .moves import missing  # noqa: PLC0415 - imports knit, only now

    gaps = missing()
    if gaps:
        print(f"primitives without a move: {', '.join(gaps)}")
    from .known import known

    return 1 if any(known(b) is None for b in report.bugs.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
