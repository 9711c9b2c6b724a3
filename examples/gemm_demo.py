"""knit end to end on GEMM: define, print, interpret, schedule, compile, check, time.

    make demo        (or: .venv/bin/python examples/gemm_demo.py)
"""

from __future__ import annotations

import time

import numpy as np

import knit
from knit import proc
from knit.stdlib.scheduling import divide_loop, reorder_loops, simplify


@proc
def gemm(N: size, M: size, K: size, A: f32[N, K] @ DRAM, B: f32[K, M] @ DRAM,
         C: f32[N, M] @ DRAM):
    for i in seq(0, N):
        for j in seq(0, M):
            for k in seq(0, K):
                C[i, j] += A[i, k] * B[k, j]


def schedule(p):
    """i-k-j order (B and C are read along rows), the j loop cut into vectors of 8."""
    p = reorder_loops(p, "j k")
    p = divide_loop(p, "j", 8, ["jo", "ji"], tail="cut")
    return simplify(p)


def best_time(f, reps: int = 5) -> float:
    best = float("inf")
    for _ in range(reps):
        t = time.perf_counter()
        f()
        best = min(best, time.perf_counter() - t)
    return best


def main() -> None:
    print("== the algorithm, as written ==")
    print(gemm)

    rng = np.random.default_rng(0)
    A, B = rng.random((5, 7), "f4"), rng.random((7, 3), "f4")
    C = np.zeros((5, 3), "f4")
    gemm.interpret(A=A, B=B, C=C)
    print(f"\ninterpreted on 5x7 @ 7x3: max |error| vs NumPy = {np.abs(C - A @ B).max():.2e}")

    fast = schedule(gemm)
    print("\n== after scheduling (each step proven to keep the meaning) ==")
    print(fast)
    print(f"\nproven equivalent by its rewrite history: {fast.is_eq(gemm)}")
    report = knit.check_equiv(gemm, fast, trials=3)
    print(f"and agreeing on {report.trials} random inputs (compiled C and interpreter)")

    naive, tuned = gemm.compile(), fast.compile()
    print("\n== compiled with the system C compiler, timed against NumPy (OpenBLAS) ==")
    print(f"{'size':>6} {'naive C':>10} {'knit':>10} {'NumPy':>10} {'knit/NumPy':>11}  (GFLOP/s)")
    for n in (64, 128, 256, 512):
        A, B = rng.random((n, n), "f4"), rng.random((n, n), "f4")
        C = np.zeros((n, n), "f4")
        tuned(A=A, B=B, C=C)
        assert np.allclose(C, A @ B, rtol=1e-3), "knit disagrees with NumPy"
        flops = 2.0 * n ** 3
        t_naive = best_time(lambda: naive(A=A, B=B, C=C), 2 if n >= 512 else 5)
        t_knit = best_time(lambda: tuned(A=A, B=B, C=C))
        t_np = best_time(lambda: A @ B)
        g = [flops / t / 1e9 for t in (t_naive, t_knit, t_np)]
        print(f"{n:>6} {g[0]:>10.1f} {g[1]:>10.1f} {g[2]:>10.1f} {g[1] / g[2]:>11.2f}")
    print("\nNext: examples/avx2_microkernel.py maps the inner loops onto AVX2 registers and"
          " FMAs.")


if __name__ == "__main__":
    main()
