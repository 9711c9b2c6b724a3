"""What a tuning run found: every point tried, and the table that shows them."""

from __future__ import annotations

from dataclasses import dataclass, field

from knit.tuning.measure import median, spread

OK, REFUSED, NOT_EQUIVALENT, FAILED = "ok", "refused", "not equivalent", "failed"


@dataclass
class Point:
    """One set of parameters, and what became of its schedule."""

    params: dict
    status: str = FAILED  # OK | REFUSED | NOT_EQUIVALENT | FAILED
    reason: str = ""  # why it was refused / differed / failed (first line of the error)
    samples: list = field(default_factory=list)  # seconds per call, one per timing run
    cached: bool = False  # read from the disk cache, not measured in this run

    @property
    def time(self) -> float | None:
        """The median over timing runs of seconds per call (None unless timed)."""
        return median(self.samples) if self.status == OK and self.samples else None

    def to_json(self) -> dict:
        return {"status": self.status, "reason": self.reason, "samples": self.samples}

    @staticmethod
    def from_json(params: dict, entry: dict) -> Point:
        return Point(params, entry["status"], entry["reason"], entry["samples"], cached=True)


@dataclass
class TuneResult:
    """The best procedure found, its parameters and time, and every point tried."""

    best: object  # Procedure, or None when no point was accepted
    params: dict | None
    time: float | None  # median seconds per call of best
    points: list
    names: list  # the parameter names, in the order of the space
    strategy: str  # "exhaustive" or "random + local"
    machine: dict  # cpu, compiler, flags, load before and after, elapsed seconds
    notes: list = field(default_factory=list)
    baseline: float | None = None  # median seconds per call of the unscheduled procedure

    @property
    def cache_hits(self) -> int:
        return sum(p.cached for p in self.points)

    def table(self) -> str:
        """Every point tried: fastest first, then the refused ones with their reasons."""
        ok = sorted((p for p in self.points if p.status == OK), key=lambda p: p.time)
        bad = [p for p in self.points if p.status != OK]
        cols = [max(len(n), *(len(repr(p.params[n])) for p in self.points)) if self.points
                else len(n) for n in self.names]
        head = "  ".join(f"{n:>{w}}" for n, w in zip(self.names, cols))
        lines = [f"{head}  {'time/call':>10}  {'noise':>6}  {'vs best':>7}  note"]
        for p in ok:
            row = "  ".join(f"{p.params[n]!r:>{w}}" for n, w in zip(self.names, cols))
            lines.append(f"{row}  {fmt_time(p.time):>10}  {spread(p.samples):>6.1%}  "
                         f"{p.time / self.time:>7.2f}  {'cached' if p.cached else ''}")
        for p in bad:
            row = "  ".join(f"{p.params[n]!r:>{w}}" for n, w in zip(self.names, cols))
            lines.append(f"{row}  {p.status:>10}  {'':>6}  {'':>7}  {p.reason}")
        return "\n".join(lines)

    def summary(self) -> str:
        m = self.machine
        n_ok = sum(p.status == OK for p in self.points)
        head = (f"tuned {len(self.points)} points ({self.strategy}; {n_ok} timed, "
                f"{len(self.points) - n_ok} refused or failed; {self.cache_hits} from the "
                f"cache) in {m['elapsed']:.1f} s\n"
                f"machine: {m['cpu']}; {m['cc']} {' '.join(m['flags'])}; load average "
                f"{m['load_before']:.1f} before, {m['load_after']:.1f} after")
        best = ("no schedule was accepted" if self.best is None else
                f"best: {self.params}  {fmt_time(self.time)} per call (median)")
        if self.baseline is not None and self.time is not None:
            best += (f"\nthe unscheduled procedure: {fmt_time(self.baseline)} (speed-up of the "
                     f"best over it: {self.baseline / self.time:.2f}x)")
        return "\n".join([head, best, *self.notes])

    def __str__(self) -> str:
        return f"{self.summary()}\n{self.table()}"


def fmt_time(t: float | None) -> str:
    if t is None:
        return "-"
    for unit, scale in (("s", 1), ("ms", 1e-3), ("us", 1e-6)):
        if t >= scale:
            return f"{t / scale:.3g} {unit}"
    return f"{t / 1e-9:.3g} ns"
