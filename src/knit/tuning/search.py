"""knit.tune: search the parameters a schedule leaves open, keeping only checked ones.

Each candidate goes through four stages:
  1. schedule  `make_schedule(proc, **params)`; a SchedulingError (or any knit error)
               refuses the point, with its message as the reason;
  2. check     `check_equiv(proc, candidate)` on random inputs; a difference rejects it;
  3. build     the C timing driver, compiled on all cores at once (compiler processes);
  4. time      every candidate of a batch in turn, for several rounds, median kept.
Points already measured with the same key come from the disk cache and skip all four.
Small spaces are searched exhaustively; large ones by random points, then a local
search (one parameter moved to a neighbouring choice) from the best. At the end the
fastest few fresh candidates are timed again together, so the winner is not the one
that happened to run while the machine was quiet.
"""

from __future__ import annotations

import hashlib
import inspect
import itertools
import os
import random
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from knit.equiv import EquivalenceError, check_equiv
from knit.errors import KnitError, ProcedureTypeError
from knit.procedure import Procedure
from knit.runtime.cc import build_flags, compiler_command
from knit.tuning import measure as M
from knit.tuning.report import FAILED, NOT_EQUIVALENT, OK, REFUSED, Point, TuneResult


def tune(make_schedule, space: dict, proc=None, proc_args: dict | None = None, *,
         budget: float = 120, exhaustive_max: int = 64, check_sizes: dict | None = None,
         check_trials: int = 2, check_interpret: bool = False, rounds: int = 5,
         samples: int = 9, target: float = 0.001,
         finalists: int = 4, cc: str | None = None, flags: list[str] | None = None,
         jobs: int | None = None, cache: bool = True, quiet: bool = False,
         seed: int = 0) -> TuneResult:
    """The fastest schedule `make_schedule(proc, **params)` over `space`.

    space: parameter name -> the list of its choices (tile sizes, orders, ...).
    proc_args: the size (and index/bool) arguments the procedure is timed with.
    budget: seconds of search; the points started by then are finished.
    Spaces of at most `exhaustive_max` points are tried in full; larger ones by random
    points (a quarter of the space, at most 64, within half the budget), then a local
    search from the best point. Each accepted
    schedule must pass check_equiv (`check_trials` random inputs; `check_sizes` fixes
    sizes as in check_equiv; compiled C only, unless check_interpret: the interpreter
    is slow at tuning sizes). Each is timed in `rounds` runs interleaved with the other
    candidates; a run takes `samples` samples of at least `target` seconds and keeps
    the fastest (a sample can only be slowed down by other programs); the point's time
    is the median over its runs. cc/flags: the C compiler and flags (default $CC or cc, and the flags
    knit compiles with). jobs: parallel builds (default: the machine's cores).
    cache=False ignores and does not write the disk cache. quiet: no progress bar.
    Returns a TuneResult: `.best`, `.params`, `.time`, `.points`, `.table()`."""

    if not isinstance(proc, Procedure):
        raise ProcedureTypeError(f"tune: proc must be a Procedure, got {type(proc).__name__}")
    names = _check_space(space)
    # as compile() builds: the optimisation flags (or `flags`), then those fixing the C's
    # meaning (docs/semantics.md#c-build)
    flags = build_flags(compiler_command(cc), flags)
    cc = " ".join(compiler_command(cc))
    run = _Run(make_schedule, proc, dict(proc_args or {}), names, cc, flags,
               dict(check_sizes=check_sizes, check_trials=check_trials,
                    check_interpret=check_interpret, rounds=rounds,
                    samples=samples, target=target, jobs=jobs or os.cpu_count() or 1,
                    cache=cache, quiet=quiet))
    with run:
        size = 1
        for n in names:
            size *= len(space[n])
        if size <= exhaustive_max:
            strategy = "exhaustive"
            run.bar.total = size
            all_points = [dict(zip(names, c)) for c in itertools.product(*space.values())]
            for k in range(0, size, run.batch):
                if run.out_of(budget):
                    run.notes.append(f"budget of {budget} s spent after {k} of {size} points")
                    break
                run.evaluate(all_points[k:k + run.batch])
        else:
            strategy = "random + local"
            _random_then_local(run, space, names, budget, random.Random(seed))
        run.confirm(finalists)
    return run.result(strategy)


def _check_space(space: dict) -> list[str]:
    if not isinstance(space, dict) or not space:
        raise TypeError("tune: space must be a non-empty dict of name -> list of choices")
    for n, choices in space.items():
        if not isinstance(n, str) or not n.isidentifier():
            raise TypeError(f"tune: parameter names must be identifiers, got {n!r}")
        if not isinstance(choices, (list, tuple)) or not choices:
            raise TypeError(f"tune: the choices of {n!r} must be a non-empty list")
    return list(space)


def _random_then_local(run, space: dict, names: list, budget: float, rng) -> None:
    """Random points (a quarter of the space, at most 64, for at most half the budget),
    then hill-climbing from the best point over its neighbours (one parameter moved one
    place in its list of choices) until none is better or the budget is spent."""
    size = 1
    for n in names:
        size *= len(space[n])
    n_random = max(2 * run.batch, min(size // 4, 64))
    while not run.out_of(budget / 2) and len(run.tried) < n_random:
        batch = []
        while len(batch) < run.batch and len(run.tried) + len(batch) < n_random:
            p = {n: rng.choice(space[n]) for n in names}
            if _key(p) not in run.tried and p not in batch:
                batch.append(p)
        run.evaluate(batch)
    while not run.out_of(budget):
        best = run.best_point()
        if best is None:
            return
        todo = [p for p in _neighbours(best.params, space, names) if _key(p) not in run.tried]
        if not todo:
            run.notes.append("local search converged (no untried neighbour of the best)")
            return
        run.evaluate(todo[:run.batch])
    run.notes.append(f"budget of {budget} s spent")


def _neighbours(params: dict, space: dict, names: list) -> list[dict]:
    out = []
    for n in names:
        i = list(space[n]).index(params[n])
        for j in (i - 1, i + 1):
            if 0 <= j < len(space[n]):
                out.append({**params, n: space[n][j]})
    return out


def _key(params: dict) -> str:
    return repr(sorted(params.items()))


def _fingerprint(fn) -> str:
    """What identifies a schedule function across runs: its source text (or code)."""
    try:
        text = inspect.getsource(fn)
    except (OSError, TypeError):
        code = getattr(fn, "__code__", None)
        text = repr((code.co_code, code.co_consts)) if code else repr(fn)
    return hashlib.sha256(text.encode()).hexdigest()


class _Run:
    """The state of one tuning run: points tried, candidates built, the progress bar."""

    def __init__(self, make_schedule, proc, proc_args, names, cc, flags, opts):
        self.make_schedule, self.proc, self.proc_args = make_schedule, proc, proc_args
        self.names, self.cc, self.flags, self.opts = names, cc, flags, opts
        self.batch = max(4, 2 * opts["jobs"])
        self.cache = M.Cache(opts["cache"])
        self.tried: dict[str, Point] = {}
        self.exes: dict[str, str] = {}  # point key -> its timing executable (this run)
        self.built: dict[str, threading.Event] = {}  # C source hash -> set once built
        self.exe_of: dict[str, tuple] = {}  # C source hash -> (executable, error)
        self.lock = threading.Lock()
        self.notes: list[str] = []
        self.baseline: Point | None = None  # the unscheduled procedure, timed alike
        self.start = time.perf_counter()
        self.load_before = M.load()
        self.base = dict(proc=str(proc), schedule=_fingerprint(make_schedule),
                         sizes=proc_args, cc=M.compiler_version(cc), cc_cmd=cc, flags=flags,
                         cpu=M.cpu_name())
        self.bar = _progress(opts["quiet"])

    def __enter__(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="knit-tune-")
        return self

    def __exit__(self, *exc):
        self.bar.close()
        self.tmp.cleanup()

    def out_of(self, budget: float) -> bool:
        return time.perf_counter() - self.start >= budget

    # ------------------------------------------------------------ one batch

    def evaluate(self, batch: list[dict]) -> None:
        fresh = []
        for params in batch:
            key = M.Cache.key(params=params, **self.base)
            hit = self.cache.get(key)
            if hit is not None:
                self._done(params, Point.from_json(params, hit))
            else:
                fresh.append((params, key))
        self.bar.set_description("schedule")
        cands = [(params, key, self._schedule(params)) for params, key in fresh]
        self.bar.set_description("check+build")
        with ThreadPoolExecutor(self.opts["jobs"]) as pool:
            checked = list(pool.map(lambda c: self._check_and_build(*c), cands))
        timed = [(params, key, pt) for (params, key, _), pt in zip(cands, checked)
                 if pt.status == OK]
        self.bar.set_description("time")
        self._time([(_key(p), self.exes[_key(p)], pt) for p, _, pt in timed])
        for (params, key, _), pt in zip(cands, checked):
            self.cache.put(key, pt.to_json())
            self._done(params, pt)

    def _schedule(self, params):

        try:
            q = self.make_schedule(self.proc, **params)
        except KnitError as e:
            return Point(params, REFUSED, _first_line(e))
        if not isinstance(q, Procedure):
            raise ProcedureTypeError(f"tune: make_schedule returned {type(q).__name__}, not a "
                            "Procedure")
        return q

    def _check_and_build(self, params, key, q) -> Point:
        """Check the candidate against the original, then build its timing driver.
        Runs in a worker thread."""

        if isinstance(q, Point):
            return q
        try:
            check_equiv(self.proc, q, trials=self.opts["check_trials"],
                        sizes=self.opts["check_sizes"],
                        interpret=None if self.opts["check_interpret"] else False)
        except EquivalenceError as e:
            return Point(params, NOT_EQUIVALENT, _first_line(e))
        except KnitError as e:
            return Point(params, FAILED, f"check_equiv: {_first_line(e)}")
        return self._build(params, q)

    def _build(self, params, q) -> Point:
        """Build q's timing driver; builds of equal C code are shared."""
        try:
            sources = M.driver_sources(q, self.proc_args)
        except (KnitError, ValueError) as e:
            return Point(params, FAILED, f"C: {_first_line(e)}")
        h = hashlib.sha256("\0".join(sources).encode()).hexdigest()
        with self.lock:
            first = h not in self.built
            if first:
                self.built[h] = threading.Event()
        if first:
            try:
                path = os.path.join(self.tmp.name, h[:16])
                self.exe_of[h] = (M.build(sources, path, self.cc, self.flags), None)
            except M.BuildError as e:
                self.exe_of[h] = (None, str(e).splitlines()[0])
            self.built[h].set()
        self.built[h].wait()  # another thread may be building the same code
        exe, err = self.exe_of[h]
        if err:
            return Point(params, FAILED, err)
        self.exes[_key(params)] = exe
        return Point(params, OK)

    def _time(self, cands: list) -> None:
        """Interleaved rounds: each round runs every candidate once, in a new order."""
        order = random.Random(len(self.tried))
        for _ in range(self.opts["rounds"]):
            order.shuffle(cands)
            for _, exe, pt in cands:
                try:
                    pt.samples.append(min(M.run(exe, self.opts["samples"],
                                                self.opts["target"])))
                except Exception as e:  # noqa: BLE001 - a crash or timeout fails the point
                    pt.status, pt.reason = FAILED, f"timing run: {type(e).__name__}: {e}"

    def _done(self, params, pt: Point) -> None:
        self.tried[_key(params)] = pt
        self.bar.update(1)
        best = self.best_point()
        if best is not None:
            self.bar.set_postfix_str(f"best {M.median(best.samples) * 1e6:.3g} us")

    # ------------------------------------------------------------ the end

    def best_point(self) -> Point | None:
        ok = [p for p in self.tried.values() if p.status == OK and p.samples]
        return min(ok, key=lambda p: p.time) if ok else None

    def confirm(self, k: int) -> None:
        """Time the fastest k candidates measured in this run again, together with the
        unscheduled procedure (the baseline, cached like a point)."""
        fresh = sorted((p for p in self.tried.values()
                        if p.status == OK and not p.cached and p.samples),
                       key=lambda p: p.time)[:k]
        base_key = M.Cache.key(params="<unscheduled>", **self.base)
        hit = self.cache.get(base_key)
        self.baseline = Point.from_json({}, hit) if hit else self._build({}, self.proc)
        todo = fresh + ([] if hit or self.baseline.status != OK else [self.baseline])
        if not todo:
            return
        self.bar.set_description("confirm")
        self._time([(_key(p.params), self.exes[_key(p.params)], p) for p in todo])
        for p in fresh:
            self.cache.put(M.Cache.key(params=p.params, **self.base), p.to_json())
        if not hit:
            self.cache.put(base_key, self.baseline.to_json())
        if len(fresh) > 1:
            self.notes.append(f"the {len(fresh)} fastest new points were timed again "
                              "together (and with the unscheduled procedure)")

    def result(self, strategy: str) -> TuneResult:
        best = self.best_point()
        proc = None
        if best is not None:  # rebuilt (cheap): a cached point has no procedure at hand
            proc = self.make_schedule(self.proc, **best.params)
        machine = dict(cpu=M.cpu_name(), cc=M.compiler_version(self.cc), flags=self.flags,
                       load_before=self.load_before, load_after=M.load(),
                       elapsed=time.perf_counter() - self.start)
        return TuneResult(proc, best.params if best else None, best.time if best else None,
                          list(self.tried.values()), self.names, strategy, machine,
                          self.notes, self.baseline.time if self.baseline else None)


def _first_line(e: BaseException) -> str:
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__


class _NoBar:
    total = None

    def update(self, n):
        pass

    def set_description(self, s):
        pass

    def set_postfix_str(self, s):
        pass

    def close(self):
        pass


def _progress(quiet: bool):
    """A tqdm progress bar on stderr (the `tune` extra), or nothing when quiet or when
    tqdm is not installed."""
    if quiet:
        return _NoBar()
    try:
        from tqdm import tqdm
    except ImportError:
        return _NoBar()
    return tqdm(total=None, unit="pt", desc="tune", leave=False, dynamic_ncols=True)
