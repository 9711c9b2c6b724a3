"""Why a two-thread GEMM call is sometimes slow: per-call times of knit's two-thread SGEMM
and OpenBLAS's (through NumPy), with what each of the process's threads did.

    .venv/bin/python benchmarks/two_threads.py [--n 256] [--mode alone|blas|interleaved]
                                               [--calls 400] [--pause 0.3 --batch 40]
                                               [--spin-length]

--mode alone: knit's calls back to back; blas: OpenBLAS's (2 threads) back to back;
interleaved: one OpenBLAS call before each knit call, both timed (what a benchmark that
alternates the libraries call by call measures). --pause S: the calls in batches of
--batch with S seconds of sleep before each (as benchmarks/sgemm.py's rounds run),
reported by position in the batch, with how often the worker thread last ran on the
main thread's CPU after the call (both threads on one core). --spin-length: how long
OpenMP's idle worker spins after a knit call before it sleeps (its voluntary context
switches after a busy wait of d).

Per thread: CPU time, voluntary and involuntary context switches during the calls (from
/proc/self/task), which show who ran and who waited. Quote the load average printed.
On a shared machine, `setsid bash -c 'echo -20 > /proc/self/autogroup; exec nice -n -20
python benchmarks/two_threads.py ...'` gives this process most of the CPU time against
other sessions (scheduling autogroups), an approximation of an idle machine.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "2")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from knit.stdlib.gemm import schedule_gemm  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def threads() -> dict:
    """{tid: (CPU seconds, voluntary, involuntary context switches, last CPU)}."""
    out = {}
    for tid in os.listdir("/proc/self/task"):
        try:
            stat = open(f"/proc/self/task/{tid}/stat").read().rsplit(")", 1)[1].split()
            status = open(f"/proc/self/task/{tid}/status").read()
        except FileNotFoundError:  # a thread that ended meanwhile
            continue
        vol = int(status.split("\nvoluntary_ctxt_switches:")[1].split()[0])
        inv = int(status.split("nonvoluntary_ctxt_switches:")[1].split()[0])
        out[tid] = ((int(stat[11]) + int(stat[12])) / TICK, vol, inv, int(stat[36]))
    return out


def spread(name: str, gflops: list[float]) -> str:
    g = sorted(gflops)
    q = lambda p: g[min(len(g) - 1, int(p * len(g)))]  # noqa: E731
    slow = sum(x < 0.6 * g[-1] for x in g)
    return (f"{name}: {len(g)} calls, GFLOP/s max {g[-1]:.1f} p90 {q(0.9):.1f} median "
            f"{q(0.5):.1f} p10 {q(0.1):.1f} min {g[0]:.1f}; below 60% of the max: {slow}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=256)
    ap.add_argument("--mode", default="alone", choices=["alone", "blas", "interleaved"])
    ap.add_argument("--calls", type=int, default=400)
    ap.add_argument("--pause", type=float, default=0.0)
    ap.add_argument("--batch", type=int, default=40)
    ap.add_argument("--spin-length", action="store_true")
    args = ap.parse_args()
    from sgemm import sgemm

    n = args.n
    rng = np.random.default_rng(0)
    A = rng.standard_normal((n, n)).astype(np.float32)
    B = rng.standard_normal((n, n)).astype(np.float32)
    C = np.zeros((n, n), np.float32)
    k2 = schedule_gemm(sgemm, "host", threads=2).compile()
    knit = lambda: k2(n, n, n, A, B, C)  # noqa: E731
    blas = lambda: np.matmul(A, B)  # noqa: E731
    flops = 2.0 * n ** 3
    me = str(os.getpid())
    print(f"n = {n}, OMP_NUM_THREADS={os.environ['OMP_NUM_THREADS']}, load average "
          f"{open('/proc/loadavg').read().split()[:3]}")
    with threadpool_limits(2, "blas"):
        knit(), blas()
        time.sleep(0.5)
        if args.spin_length:
            return spin_length(knit, me)
        if args.pause:
            return after_pauses(knit if args.mode != "blas" else blas, args, flops, me)
        before = threads()
        times = {"knit": [], "blas": []}
        for _ in range(args.calls):
            for name, f in (("blas", blas), ("knit", knit)):
                if name == "blas" and args.mode == "alone" or name == "knit" and args.mode == "blas":
                    continue
                t = time.perf_counter()
                f()
                times[name].append(flops / (time.perf_counter() - t) / 1e9)
        after = threads()
    for name, g in times.items():
        if g:
            print(spread(f"{name} 2T", g))
    for tid, (cpu, vol, inv, last) in after.items():
        c0, v0, i0, _ = before.get(tid, (0, 0, 0, 0))
        print(f"  thread {tid}{' (main)' if tid == me else ''}: CPU {cpu - c0:.2f} s, "
              f"voluntary switches {vol - v0}, involuntary {inv - i0}, last CPU {last}")


def after_pauses(f, args, flops, me) -> None:
    """Batches of calls, each after a pause: GFLOP/s by position in the batch."""
    base = threads()
    pos = [[] for _ in range(args.batch)]
    together = [0] * args.batch
    for _ in range(max(1, args.calls // args.batch)):
        time.sleep(args.pause)
        for i in range(args.batch):
            t = time.perf_counter()
            f()
            pos[i].append(flops / (time.perf_counter() - t) / 1e9)
            now = threads()
            workers = [t for t in now if t != me and now[t][0] > base.get(t, (0,))[0]]
            together[i] += any(now[w][3] == now[me][3] for w in workers)
    batches = len(pos[0])
    for i in sorted({0, 1, 2, 3, 5, 10, 20, args.batch - 1} & set(range(args.batch))):
        g = sorted(pos[i])
        print(f"  call {i:2d} after the pause: median {g[len(g) // 2]:6.1f} min {g[0]:6.1f} "
              f"GFLOP/s; a worker last ran on the main thread's CPU in {together[i]}/{batches}")


def spin_length(knit, me) -> None:
    """After a knit call, busy-wait d: did OpenMP's worker go to sleep meanwhile?"""
    workers = [t for t in threads() if t != me]
    for d in (0.0001, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02):
        slept = 0
        for _ in range(20):
            knit()
            before = threads()
            end = time.perf_counter() + d
            while time.perf_counter() < end:
                pass
            now = threads()
            slept += any(now[w][1] > before[w][1] for w in workers if w in now and w in before)
        print(f"  busy wait {d * 1e3:5.1f} ms after a call: a worker slept in {slept}/20")


if __name__ == "__main__":
    main()
