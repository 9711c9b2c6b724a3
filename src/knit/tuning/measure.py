"""Building and timing candidate procedures in C, and the disk cache of the results.

A candidate is timed by a small C driver (as `knit.runtime.timing.time_in_c`, whose
argument set-up `c_arguments` it reuses) so the call from Python is not measured. Unlike
time_in_c, building and running are separate steps: the tuner compiles many candidates
at once on all cores, then runs them one at a time, interleaved over several rounds, so
a burst of load from other programs lands on every candidate alike. The driver
calibrates the repetitions of one sample to a target duration and prints every
sample. Other programs can only slow a sample down, so a run counts as its fastest
sample; a point's time is the median over runs (one bad run does not decide).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import platform
import shlex
import subprocess

from knit.backend.c import compile_procs_to_strings
from knit.runtime.cc import build_flags, cache_dir, compiler_command
from knit.runtime.timing import c_arguments

_DRIVER = r"""
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "kernel.h"
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t);
                          return t.tv_sec + t.tv_nsec * 1e-9; }
int main(int argc, char **argv) {
    int samples = argc > 1 ? atoi(argv[1]) : 5;
    double target = argc > 2 ? atof(argv[2]) : 0.01;  /* seconds per sample */
%(decls)s
    %(call)s;  /* warm up: caches, page faults */
    long reps = 1;
    for (;;) {  /* calibrate: the repetitions that take at least `target` */
        double t = now();
        for (long r = 0; r < reps; r++) %(call)s;
        if (now() - t >= target || reps >= (1L << 30)) break;
        reps *= 2;
    }
    for (int s = 0; s < samples; s++) {
        double t = now();
        for (long r = 0; r < reps; r++) %(call)s;
        printf("%%.9e\n", (now() - t) / reps);
    }
%(frees)s
    return 0;
}
"""


class BuildError(Exception):
    """The C compiler rejected a candidate's code (its message is the reason)."""


def driver_sources(procedure, sizes: dict) -> tuple[str, str, str]:
    """(kernel.c, kernel.h, main.c) of a timing driver for `procedure` with `sizes`."""

    c, h = compile_procs_to_strings([procedure], "kernel.h", ctxt=False)
    decls, args, frees = c_arguments(procedure, sizes, fill="small")
    call = f"{procedure.name()}({', '.join(args)})"
    return c, h, _DRIVER % {"decls": decls, "call": call, "frees": frees}


def build(sources: tuple[str, str, str], directory: str, cc: str, flags: list[str]) -> str:
    """Compile a driver in `directory`; the executable's path. Runs the compiler as a
    separate process, so several builds may run at once from threads."""
    c, h, main = sources
    os.makedirs(directory, exist_ok=True)
    for name, text in (("kernel.c", c), ("kernel.h", h), ("main.c", main)):
        with open(os.path.join(directory, name), "w") as f:
            f.write(text)
    exe = os.path.join(directory, "bench")
    extra = ["-fopenmp"] if "#pragma omp" in c else []
    cmd = [*shlex.split(cc), *flags, *extra, "-o", exe,
           os.path.join(directory, "main.c"), os.path.join(directory, "kernel.c")]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise BuildError(f"{cmd[0]} failed: {(r.stderr or r.stdout).strip()[:400]}")
    return exe


def run(exe: str, samples: int, target: float, timeout: float = 120) -> list[float]:
    """Seconds per call, one number per sample."""
    out = subprocess.run([exe, str(samples), repr(target)], capture_output=True, text=True,
                         timeout=timeout, check=True).stdout
    return [float(x) for x in out.split()]


def median(xs: list[float]) -> float:
    s = sorted(xs)
    n = len(s)
    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2


def spread(xs: list[float]) -> float:
    """The interquartile range relative to the median: the noise of a measurement."""
    s = sorted(xs)
    if len(s) < 4:
        return (s[-1] - s[0]) / median(s) if s and median(s) > 0 else 0.0
    q1, q3 = s[len(s) // 4], s[(3 * len(s)) // 4]
    return (q3 - q1) / median(s)


def time_procedures(procs: dict, sizes: dict, *, rounds: int = 5, samples: int = 9,
                    target: float = 0.001, cc: str | None = None,
                    flags: list[str] | None = None) -> dict:
    """name -> seconds per call (median over `rounds` interleaved runs, each the fastest
    of `samples` samples) for each procedure of `procs`, timed like tune's candidates.
    For comparing a tuned procedure with hand-written ones in the same conditions."""
    import tempfile
    from concurrent.futures import ThreadPoolExecutor

    # as compile() builds: the optimisation flags (or `flags`), then those fixing the C's
    # meaning (docs/semantics.md#c-build)
    flags = build_flags(compiler_command(cc), flags)
    cc = " ".join(compiler_command(cc))
    runs: dict = {name: [] for name in procs}
    with tempfile.TemporaryDirectory(prefix="knit-time-") as d:
        sources = {name: driver_sources(p, sizes) for name, p in procs.items()}
        with ThreadPoolExecutor(os.cpu_count() or 1) as pool:
            exes = dict(zip(sources, pool.map(
                lambda n: build(sources[n], os.path.join(d, f"p{list(sources).index(n)}"),
                                cc, flags), sources)))
        for r in range(rounds):
            names = list(procs)[r % len(procs):] + list(procs)[:r % len(procs)]  # rotate
            for name in names:
                runs[name].append(min(run(exes[name], samples, target)))
    return {name: median(ts) for name, ts in runs.items()}


# ---------------------------------------------------------------- the machine


@functools.cache
def compiler_version(cc: str) -> str:
    try:
        r = subprocess.run([*shlex.split(cc), "--version"], capture_output=True, text=True)
        return (r.stdout.splitlines() or ["?"])[0]
    except OSError:
        return "?"


@functools.cache
def cpu_name() -> str:
    from knit.runtime.cpuinfo import fields

    info = fields()
    name = info.get("model name") or info.get("Model")
    if name:
        return f"{name} x{os.cpu_count()}"
    return f"{platform.machine()} {platform.processor()} x{os.cpu_count()}"


def load() -> float:
    """The 1-minute load average (how busy the machine was while timing)."""
    try:
        return os.getloadavg()[0]
    except OSError:
        return float("nan")


# ---------------------------------------------------------------- the cache


class Cache:
    """One JSON file per (proc, schedule, params, sizes, compiler, flags, CPU) key, under
    $KNIT_CACHE_DIR/tune (default ~/.cache/knit/tune)."""

    VERSION = 2  # bump when what a measurement means changes

    def __init__(self, enabled: bool = True):
        self.enabled = enabled
        self.dir = os.path.join(cache_dir(), "tune")

    @staticmethod
    def key(**parts) -> str:
        text = json.dumps(parts, sort_keys=True, default=repr)
        return hashlib.sha256(f"v{Cache.VERSION}\0{text}".encode()).hexdigest()

    def get(self, key: str) -> dict | None:
        if not self.enabled:
            return None
        try:
            with open(os.path.join(self.dir, key[:2], f"{key}.json")) as f:
                return json.load(f)
        except (OSError, ValueError):
            return None

    def put(self, key: str, entry: dict) -> None:
        if not self.enabled:
            return
        d = os.path.join(self.dir, key[:2])
        os.makedirs(d, exist_ok=True)
        tmp = os.path.join(d, f".{key}.{os.getpid()}.tmp")
        with open(tmp, "w") as f:
            json.dump(entry, f)
        os.replace(tmp, os.path.join(d, f"{key}.json"))  # atomic: no torn entries
