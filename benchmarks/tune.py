"""knit.tune on three kernels: a 1-D convolution, a 3x3 blur and GEMM blocking.

For each kernel: tune the schedule's open parameters (table of every point tried),
then time the unscheduled kernel, the hand schedule and the tuned one from C (same
harness, interleaved runs, medians) and NumPy from Python, after checking that the
tuned kernel agrees with NumPy. A second run reads every point from the cache.

    .venv/bin/python benchmarks/tune.py [--quiet] [--budget SECONDS] [--no-cache]

GEMM: the cache blocks (MC, KC, NC) of knit.stdlib.gemm's kernel, one thread, timed at
512^3; the hand choice is the one schedule_gemm makes from the cache sizes. Threads: one
(no parallel loops; NumPy's BLAS on one thread, as stated in the table).
"""

from __future__ import annotations

import os

# NumPy's BLAS on one thread, like the C kernels: on a loaded machine its thread pool
# makes timings erratic (measured: 0.18 ms to 47 ms medians for one 256^3 sgemm)
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import sys
import time

import numpy as np

import knit
from knit import proc
from knit.stdlib.scheduling import divide_loop, reorder_loops, simplify, unroll_loop
from knit.tuning.measure import load, time_procedures

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "examples"))
import sgemm as sgemm_benchmark  # noqa: E402 - beside this script: its plain GEMM
import tune_conv1d  # noqa: E402 - the conv1d kernel, schedule and space of the example

# ---------------------------------------------------------------- 3x3 blur

H, W = 256, 256


@proc
def blur3x3(H: size, W: size, inp: f32[H + 2, W + 2] @ DRAM, out: f32[H, W] @ DRAM):
    for y in seq(0, H):
        for x in seq(0, W):
            out[y, x] = (inp[y, x] + inp[y, x + 1] + inp[y, x + 2] + inp[y + 1, x]
                         + inp[y + 1, x + 1] + inp[y + 1, x + 2] + inp[y + 2, x]
                         + inp[y + 2, x + 1] + inp[y + 2, x + 2]) * 0.111111111


def blur_schedule(p, ty: int, tx: int, unroll_rows: bool):
    """Tiles of ty x tx pixels (x innermost, so it vectorizes); unroll_rows: the ty rows
    of a tile unrolled, so neighbouring rows share loads."""
    p = divide_loop(p, "y", ty, ["yo", "yi"], perfect=True)
    p = divide_loop(p, "x", tx, ["xo", "xi"], perfect=True)
    p = reorder_loops(p, "yi xo")
    if unroll_rows:
        p = unroll_loop(p, "yi")
    return simplify(p)


def blur_hand(p):
    """Cache-sized tiles, as a person would pick them: 4 rows x 64 pixels."""
    return blur_schedule(p, ty=4, tx=64, unroll_rows=False)


BLUR_SPACE = {"ty": [1, 2, 4, 8], "tx": [16, 32, 64, 128, 256], "unroll_rows": [False, True]}


def blur_numpy(a):
    return sum(a[dy:dy + H, dx:dx + W] for dy in range(3) for dx in range(3)) * np.float32(
        0.111111111)


# ---------------------------------------------------------------- GEMM blocking

NG = 512


# the plain GEMM the SGEMM benchmark schedules (one definition for both benchmarks)
gemm = sgemm_benchmark.sgemm


def gemm_blocked(p, mc: int, kc: int, nc: int):
    """knit.stdlib.gemm's kernel (one thread) with the cache blocks MC, KC, NC."""
    from knit.stdlib.gemm import Blocking, schedule_gemm

    return schedule_gemm(p, "host", Blocking(mc, kc, nc), threads=1)


def gemm_hand(p):
    """The blocks schedule_gemm picks from this machine's cache sizes (hand-tuned: KC
    measured against its neighbours, see knit.stdlib.gemm.targets.choose_blocking)."""
    from knit.stdlib.gemm import schedule_gemm

    return schedule_gemm(p, "host", threads=1)


# 20 points (exhaustive): MC rows of A in L2, KC deep, NC columns of B in L3
GEMM_SPACE = {"mc": [128, 256, 512, 768, 1024], "kc": [128, 256, 384, 512], "nc": [4096]}

# ---------------------------------------------------------------- the run


def median_time(f, reps: int = 21) -> float:
    ts = []
    for _ in range(reps):
        t = time.perf_counter()
        f()
        ts.append(time.perf_counter() - t)
    return sorted(ts)[len(ts) // 2]


def run_one(name, root, sched, hand, space, sizes, flops, check, numpy_call, args,
            fixed_sizes=True, **tune_args):
    """fixed_sizes: tune the procedure with its sizes made constants (partial_eval);
    else the general procedure, timed at `sizes`."""
    fixed = root.partial_eval(**sizes) if fixed_sizes else root
    proc_args = {} if fixed_sizes else sizes
    r = knit.tune(sched, space, proc=fixed, proc_args=proc_args, budget=args.budget,
                  quiet=args.quiet, cache=not args.no_cache, **tune_args)
    print(f"\n=== {name} {sizes}\n{r}")
    check(r.best.compile())
    t = time_procedures({"unscheduled": fixed, "hand": hand(fixed), "tuned": r.best},
                        proc_args)
    t["numpy"] = median_time(numpy_call)
    return name, flops, t, r


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quiet", action="store_true")
    ap.add_argument("--budget", type=float, default=120)
    ap.add_argument("--no-cache", action="store_true")
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    load0, t0 = load(), time.perf_counter()
    rows = []

    n, taps = tune_conv1d.N, tune_conv1d.TAPS
    x, w = rng.random(n + taps - 1, "f4"), rng.random(taps, "f4")

    def check_conv(f):
        y = np.zeros(n, "f4")
        f(x=x, w=w, y=y)
        assert np.allclose(y, np.correlate(x, w, "valid"), rtol=1e-4), "conv1d disagrees"

    rows.append(run_one("conv1d", tune_conv1d.conv1d, tune_conv1d.schedule, tune_conv1d.hand,
                        tune_conv1d.SPACE, {"N": n}, 2.0 * n * taps, check_conv,
                        lambda: np.correlate(x, w, "valid"), args))

    img = rng.random((H + 2, W + 2), "f4")

    def check_blur(f):
        out = np.zeros((H, W), "f4")
        f(inp=img, out=out)
        assert np.allclose(out, blur_numpy(img), rtol=1e-4), "blur disagrees"

    rows.append(run_one("blur3x3", blur3x3, blur_schedule, blur_hand, BLUR_SPACE,
                        {"H": H, "W": W}, 9.0 * H * W, check_blur, lambda: blur_numpy(img),
                        args))

    A, B = rng.random((NG, NG), "f4"), rng.random((NG, NG), "f4")

    def check_gemm(f):
        C = np.zeros((NG, NG), "f4")
        f(M=NG, N=NG, K=NG, A=A, B=B, C=C)
        assert np.allclose(C, A @ B, rtol=1e-3), "gemm disagrees"

    # the general kernel (its edges and blocks for any size), timed at NG^3; checked
    # against the plain loops at sizes that cross a block edge for every point
    rows.append(run_one("gemm", gemm, gemm_blocked, gemm_hand, GEMM_SPACE,
                        {"M": NG, "N": NG, "K": NG}, 2.0 * NG ** 3, check_gemm,
                        lambda: A @ B, args, fixed_sizes=False,
                        check_sizes={"M": [9, 130], "N": [33, 70], "K": [1, 129]}))

    threads = os.environ.get("OPENBLAS_NUM_THREADS", "default")
    print(f"\n=== summary: GFLOP/s (C kernels single-threaded, timed from C; NumPy from "
          f"Python, OpenBLAS threads: {threads})")
    print(f"{'kernel':>8} {'unsched':>8} {'hand':>8} {'tuned':>8} {'numpy':>8} "
          f"{'tuned/hand':>10} {'tuned/numpy':>11} {'points':>6} {'cached':>6}")
    for name, flops, t, r in rows:
        g = {k: flops / v / 1e9 for k, v in t.items()}
        print(f"{name:>8} {g['unscheduled']:>8.2f} {g['hand']:>8.2f} {g['tuned']:>8.2f} "
              f"{g['numpy']:>8.2f} {g['tuned'] / g['hand']:>10.2f} "
              f"{g['tuned'] / g['numpy']:>11.2f} {len(r.points):>6} {r.cache_hits:>6}")
    print(f"\nwall time {time.perf_counter() - t0:.0f} s; load average {load0:.1f} at the "
          f"start, {load():.1f} at the end (2 cores shared with other jobs)")


if __name__ == "__main__":
    main()
