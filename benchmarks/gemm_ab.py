"""A/B timing of knit.stdlib.gemm variants: each variant is scheduled by its own knit
source tree (a checkout of another commit, or this one with other arguments), and all of
them run in the same interleaved rounds, one thread, timed by thread CPU time, beside
OpenBLAS on one thread and the FMA peak (benchmarks/sgemm.py's `measure`). With
--threads 2, the variants are scheduled for two threads (schedule_gemm(threads=2)) and
timed by the wall clock beside OpenBLAS on two threads and the two-core peak (a
two-thread figure on a loaded machine is only indicative: rounds and best-of help).
--thread-cpu times the variants instead by the CPU time of each of the process's threads
(its CPU clock, to the nanosecond) with OMP_WAIT_POLICY=passive, so that a
thread waiting at a barrier sleeps rather than spins: per call, the threads' sum (the
work done: with two threads ideally the one-thread time) and the longest thread's (the
span, ideally half of it: the share of the busier thread). Neither counts the time a
thread waits for a core other processes hold, so they stay meaningful on a loaded
machine, but nor do they count the barriers' wake-up latency (a variant's KWARGS may
say 'threads': 1, the one-thread reference).

    .venv/bin/python benchmarks/gemm_ab.py [--dtype f32|f64] [--sizes 1024,64x2048x2048]
        [--rounds 5] [--threads 1|2] [--thread-cpu] NAME=SRC[:KWARGS] ...

Each variant is scheduled for this CPU's target unless its KWARGS say 'target'.
SRC is a directory holding the `knit` package (e.g. `src`, or `/tmp/base/src` made by
`git archive <commit> src | tar -x -C /tmp/base`), or @FILE.c: C written by `--dump
DTYPE FILE.c KWARGS THREADS` (the schedule of the knit on PYTHONPATH), perhaps edited
by hand to try a change before scheduling it; KWARGS a Python dict literal of
schedule_gemm's keyword arguments, where `Blocking` is knit.stdlib.gemm.Blocking:

    benchmarks/gemm_ab.py base=/tmp/base/src new=src \
        kc512="src:{'blocking': Blocking(256, 512, 4096)}"

The table gives GFLOP/s best / median per variant, its ratio to OpenBLAS (best) and its
share of the peak; compare the variants of one run, on a shared machine with the load
printed beside them. List a variant twice to see the run's spread, and swap the order
between runs: identical variants (a=src ... b=src, f64, Intel Xeon, load ~1) differed
by their place in the list, the first 3-7% slower at 512^3 and 256 x 1024 x 1024 with
20 ms timed loops (two calls at 256 x 1024 x 1024); with 0.1 s loops (--loop) equal
at 512^3, still 0.83x-0.89x at 256 x 1024 x 1024 in list order (cause not found).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from contextlib import nullcontext

HERE = os.path.dirname(os.path.abspath(__file__))


def dump(dtype: str, out: str, kwargs: str, threads: str = "1") -> None:
    """Schedule the benchmark GEMM with the knit on sys.path; write its C to `out`."""
    sys.path.insert(0, HERE)
    from sgemm import PLAIN

    from knit.runtime.jit import jit_source
    from knit.stdlib.gemm import Blocking, schedule_gemm

    kw = eval(kwargs, {"Blocking": Blocking}) if kwargs else {}
    t = time.process_time()
    threads = kw.pop("threads", int(threads))
    p = schedule_gemm(PLAIN[dtype], kw.pop("target", "host"), threads=threads, **kw)
    print(f"scheduled in {time.process_time() - t:.2f} s CPU")
    with open(out, "w") as f:
        f.write(jit_source(p._loopir_proc)[0])


def time_shape(S, calls: dict, peak, shape, dtype: str, rounds: int, rng,
               threads: int = 1, pin: bool = False) -> dict:
    """Every variant, OpenBLAS (on `threads` threads) and the FMA peak in interleaved
    rounds on one shape, after checking each variant against NumPy."""
    import numpy as np
    from threadpoolctl import threadpool_limits

    m, n, k = shape
    t = S.NP[dtype]
    A, B = rng.standard_normal((m, k)).astype(t), rng.standard_normal((k, n)).astype(t)
    want = A.astype(np.float64) @ B.astype(np.float64)
    C = np.zeros((m, n), t)
    flops, fns = 2.0 * m * n * k, {}
    for name, f in calls.items():  # checked against NumPy in this run
        C[:] = 0
        f(m, n, k, A, B, C)
        err = np.abs(C - want).max() / max(1.0, np.abs(want).max())
        if err > (1e-4 if dtype == "f32" else 1e-12):
            raise SystemExit(f"{name} disagrees with NumPy at {m}x{n}x{k}: {err:.2e}")
        fns[f"{name} {threads}"] = (flops, nullcontext, lambda f=f: f(m, n, k, A, B, C))
    fns[f"blas {threads}"] = (flops, lambda: threadpool_limits(threads, "blas"),
                              lambda: np.matmul(A, B))
    fns[f"peak {threads}"] = (threads * peak.flops_per_iter * 200000, nullcontext,
                              lambda: peak(200000, threads))
    return S.measure(fns, rounds, cpu_time=True, pin=pin)


def _task_cpu_ns() -> dict:
    """{thread id: nanoseconds on a CPU} for every thread of this process, read from
    each thread's CPU clock (Linux's clock id of thread tid: (~tid << 3) | 6), which
    counts the running slice to the nanosecond (/proc's schedstat lags by up to a tick)."""
    out = {}
    for tid in os.listdir("/proc/self/task"):
        try:
            out[tid] = time.clock_gettime_ns(((~int(tid)) << 3) | 6)
        except OSError:  # the thread ended
            pass
    return out


def thread_cpu_shape(S, calls: dict, shape, dtype: str, rounds: int, rng) -> dict:
    """{variant: (best sum, best span)} GFLOP/s from the threads' CPU times: in each
    round, each variant's calls for about LOOP seconds, the CPU time every thread of the
    process spent in them summed (work) and the largest (span); best of the rounds."""
    import numpy as np

    m, n, k = shape
    t = S.NP[dtype]
    A, B = rng.standard_normal((m, k)).astype(t), rng.standard_normal((k, n)).astype(t)
    want = A.astype(np.float64) @ B.astype(np.float64)
    C = np.zeros((m, n), t)
    flops = 2.0 * m * n * k
    reps = {}
    for name, f in calls.items():
        C[:] = 0
        f(m, n, k, A, B, C)
        err = np.abs(C - want).max() / max(1.0, np.abs(want).max())
        if err > (1e-4 if dtype == "f32" else 1e-12):
            raise SystemExit(f"{name} disagrees with NumPy at {m}x{n}x{k}: {err:.2e}")
        t = time.perf_counter()  # calls for about LOOP seconds of the wall clock (a
        f(m, n, k, A, B, C)  # sleeping thread may wait long for a core on a loaded machine)
        reps[name] = max(1, round(S.LOOP / (time.perf_counter() - t)))
    best = {name: [float("inf"), float("inf")] for name in calls}
    for _ in range(rounds):
        for name, f in calls.items():
            f(m, n, k, A, B, C)  # wakes the threads
            before = _task_cpu_ns()
            for _ in range(reps[name]):
                f(m, n, k, A, B, C)
            after = _task_cpu_ns()
            spent = [after[tid] - before.get(tid, 0) for tid in after]
            b = best[name]
            b[0] = min(b[0], sum(spent) / reps[name])
            b[1] = min(b[1], max(spent) / reps[name])
    return {name: (flops / s, flops / x) for name, (s, x) in best.items()}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dtype", default="f32", choices=["f32", "f64"])
    ap.add_argument("--sizes", default="1024")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1, choices=[1, 2])
    ap.add_argument("--thread-cpu", action="store_true",
                    help="time by the threads' CPU times (see the module's docstring)")
    ap.add_argument("--dump", nargs=4, metavar=("DTYPE", "FILE", "KWARGS", "THREADS"),
                    help="write the C of one variant (see above) and stop")
    ap.add_argument("--loop", type=float, default=0.1,
                    help="seconds of calls per timed loop (default 0.1; sgemm.py's LOOP "
                         "is 0.02, two calls of ~10 ms)")
    ap.add_argument("--pin", action="store_true",
                    help="with --threads 2: keep the threads on different cores (the main "
                         "thread on one, the workers on the other; sgemm.py's --pin)")
    ap.add_argument("variants", nargs="*")
    a = ap.parse_args()
    if a.dump:
        return dump(*a.dump)
    os.environ["OMP_NUM_THREADS"] = str(a.threads)
    if a.thread_cpu and a.pin:  # (CPU time per thread does not depend on where it ran)
        ap.error("--pin times by the wall clock; --thread-cpu by each thread's CPU time: "
                 "choose one")
    if a.thread_cpu:  # read when the first OpenMP library loads
        os.environ["OMP_WAIT_POLICY"] = "passive"
    sys.path.insert(0, HERE)
    import tempfile

    import numpy as np
    import sgemm as S

    from knit.runtime import cc, jit

    S.LOOP = a.loop
    print(f"load average at start: {S.load()}")
    calls, tmp = {}, tempfile.mkdtemp()
    for v in a.variants:
        name, spec = v.split("=", 1)
        src, _, kw = spec.partition(":")
        out = os.path.join(tmp, f"{name}.c")
        if src.startswith("@"):  # C written before (--dump), perhaps edited by hand
            out = src[1:]
            print(f"{name}: the C of {out}")
        else:
            env = dict(os.environ, PYTHONPATH=os.path.abspath(src))
            r = subprocess.run(
                [sys.executable, __file__, "--dump", a.dtype, out, kw, str(a.threads)],
                env=env,
                capture_output=True,
                text=True,
            )
            if r.returncode:
                raise SystemExit(f"{name}: scheduling failed\n{r.stderr}")
            print(f"{name}: {r.stdout.strip()}")
        cmd = cc.compiler_command()
        lib = cc.load_library(
            open(out).read(), cmd,
            [*cc.LIBRARY_FLAGS, *cc.build_flags(cmd), *["-fopenmp"] * (a.threads > 1)], name
        )
        calls[name] = jit.make_caller(S.PLAIN[a.dtype]._loopir_proc, lib, lib._name, cmd)
    if a.thread_cpu:
        print("GFLOP/s by CPU time, best of the rounds: flops / the threads' summed CPU time"
              " (work) and / the longest thread's (span)")
        rng = np.random.default_rng(0)
        for s in a.sizes.split(","):
            r = thread_cpu_shape(S, calls, S.parse_shape(s), a.dtype, a.rounds, rng)
            print(f"{s:>14} |" + "".join(f" {name} work {w:6.1f} span {x:6.1f} |"
                                        for name, (w, x) in r.items()), flush=True)
        print(f"load average at end: {S.load()}")
        return
    peak = S.peak_kernel()
    scale = 1.0 if a.dtype == "f32" else 0.5  # f64: half the lanes
    rng = np.random.default_rng(0)
    for s in a.sizes.split(","):
        r = time_shape(S, calls, peak, S.parse_shape(s), a.dtype, a.rounds, rng, a.threads,
                       a.pin)
        th = a.threads
        blas, pk = r[f"blas {th}"][0], r[f"peak {th}"][0] * scale
        line = f"{s:>14} | BLAS {blas:6.1f} |"
        for name in calls:
            best, med = r[f"{name} {th}"]
            line += f" {name} {best:6.1f}/{med:6.1f} {best / blas:4.2f}x {100 * best / pk:3.0f}% |"
        print(line, flush=True)
    print(f"load average at end: {S.load()}")


if __name__ == "__main__":
    main()
