"""Autotuning a 1-D convolution: knit.tune tries the parameters a schedule leaves open.

The schedule below has three knobs: the width of the vectors of outputs, whether the
tap loop k runs outside the vector loop (so the compiler can vectorize over outputs),
and whether k is unrolled. knit.tune tries every combination, keeps the ones that are
accepted and agree with the original on random inputs, times each in C and returns
the fastest, with a table of everything it tried. A second run reads the cache.

    .venv/bin/python examples/tune_conv1d.py [--quiet]
"""

from __future__ import annotations

import os

# NumPy's BLAS on one thread, like the C kernels: on a loaded machine its thread pool
# makes timings erratic (measured: 0.18 ms to 47 ms medians for one 256^3 sgemm)
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import sys
import time

import numpy as np

import knit
from knit import proc
from knit.stdlib.scheduling import divide_loop, fission, reorder_loops, simplify, unroll_loop
from knit.tuning.measure import time_procedures

N = 4096  # outputs
TAPS = 16


@proc
def conv1d(N: size, x: f32[N + 15] @ DRAM, w: f32[16] @ DRAM, y: f32[N] @ DRAM):
    for i in seq(0, N):
        y[i] = 0.0
        for k in seq(0, 16):
            y[i] += x[i + k] * w[k]


def schedule(p, vec: int, k_outer: bool, unroll: bool):
    """Zero y first, then cut the output loop into vectors of `vec`."""
    p = fission(p, p.find("y[_] = 0.0").after())
    p = divide_loop(p, p.find_loop("i #1"), vec, ["io", "ii"], perfect=True)
    if k_outer:
        p = reorder_loops(p, "ii k")
    if unroll:
        p = unroll_loop(p, "k")
    return simplify(p)


def hand(p):
    """What a person writes first: one AVX register (8 floats) of outputs at a time."""
    return schedule(p, vec=8, k_outer=True, unroll=False)


SPACE = {"vec": [4, 8, 16, 32, 64], "k_outer": [False, True], "unroll": [False, True]}


def median_time(f, reps: int = 31) -> float:
    ts = []
    for _ in range(reps):
        t = time.perf_counter()
        f()
        ts.append(time.perf_counter() - t)
    return sorted(ts)[len(ts) // 2]


def main(quiet: bool = False) -> dict:
    fixed = conv1d.partial_eval(N=N)  # tuned at this size (tile sizes divide it)
    result = knit.tune(schedule, SPACE, proc=fixed, proc_args={}, budget=120, quiet=quiet)
    print(result)

    rng = np.random.default_rng(0)
    x, w = rng.random(N + TAPS - 1, "f4"), rng.random(TAPS, "f4")
    y = np.zeros(N, "f4")
    result.best.compile()(x=x, w=w, y=y)
    expect = np.correlate(x, w, "valid")
    assert np.allclose(y, expect, rtol=1e-4), "the tuned kernel disagrees with NumPy"

    t = time_procedures({"naive": fixed, "hand": hand(fixed), "tuned": result.best}, {})
    t["numpy"] = median_time(lambda: np.correlate(x, w, "valid"))
    flops = 2.0 * N * TAPS
    print(f"\nconv1d N={N} taps={TAPS}: C timed from C (median of 5 interleaved runs), NumPy "
          "from Python")
    for name, s in t.items():
        print(f"  {name:>6}: {s * 1e6:8.2f} us  {flops / s / 1e9:6.2f} GFLOP/s")
    print(f"  tuned / hand = {t['hand'] / t['tuned']:.2f}x faster;  "
          f"tuned / numpy = {t['numpy'] / t['tuned']:.2f}x faster")
    return t


if __name__ == "__main__":
    main(quiet="--quiet" in sys.argv)
