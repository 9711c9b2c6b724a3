"""The AVX2 6x16 SGEMM microkernel (examples/avx2_microkernel.py) against the machine's
FMA peak, under gcc and clang, and against Exo's C for the same schedule when
exo-lang is available — all in one run, timed in C (no Python call overhead).

    .venv/bin/python benchmarks/avx2_microkernel.py [--exo-python PATH]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "examples"))

from avx2_microkernel import avx2_kernel, rank_k_reduce_6x16  # noqa: E402
from fma_peak import compilers, measure_peak  # noqa: E402
from schedule_speed import find_exo_python  # noqa: E402

from knit.runtime.timing import time_in_c  # noqa: E402

KS = (256, 512, 1024, 2048)

_EXO_DRIVER = r"""
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "exo_kernel.h"
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t);
                          return t.tv_sec + t.tv_nsec * 1e-9; }
int main(int argc, char **argv) {
    int K = atoi(argv[1]); long reps = atol(argv[2]);
    float *A = malloc(sizeof(float) * 6 * K), *B = malloc(sizeof(float) * K * 16), C[96];
    for (int q = 0; q < 6 * K; q++) A[q] = (q % 7) * 0.125f;
    for (int q = 0; q < 16 * K; q++) B[q] = (q % 5) * 0.125f;
    for (int q = 0; q < 96; q++) C[q] = 0;
    rank_k_reduce_6x16_scheduled(NULL, K, A, B, C);
    double best = 1e30;
    for (int trial = 0; trial < 5; trial++) {
        double t = now();
        for (long r = 0; r < reps; r++) rank_k_reduce_6x16_scheduled(NULL, K, A, B, C);
        t = (now() - t) / reps;
        if (t < best) best = t;
    }
    printf("%.9e\n", best);
    return 0;
}
"""


def exo_times(exo_python: str, cc: str) -> dict | None:
    """Seconds per call of Exo's C for the same schedule, per K (None if it fails)."""
    with tempfile.TemporaryDirectory() as d:
        gen = (
            "import sys; sys.argv=['x','--impl','exo']; sys.path.insert(0, %r)\n"
            "import schedule_speed as S\n"
            "from exo import compile_procs\n"
            "_, k = S.define(); p = S.schedule_microkernel(k)\n"
            "import pathlib; compile_procs([p], pathlib.Path(%r), 'exo_kernel.c', 'exo_kernel.h')\n" % (HERE, d))
        r = subprocess.run([exo_python, "-c", gen], capture_output=True, text=True)
        if r.returncode:
            print(f"(Exo C generation failed: {r.stderr[-500:]})", file=sys.stderr)
            return None
        with open(os.path.join(d, "main.c"), "w") as f:
            f.write(_EXO_DRIVER)
        exe = os.path.join(d, "bench")
        subprocess.run([cc, "-O3", "-march=native", "-o", exe, os.path.join(d, "main.c"),
                        os.path.join(d, "exo_kernel.c")], check=True, capture_output=True)
        out = {}
        for K in KS:
            res = subprocess.run([exe, str(K), "20000"], check=True, capture_output=True,
                                 text=True)
            out[K] = float(res.stdout.split()[0])
        return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--exo-python")
    args = ap.parse_args()
    exo_py = find_exo_python(args.exo_python)
    print("one core; GFLOP/s of C[6,16] += A[6,K] * B[K,16]; best of 5 runs of many calls")
    for cc in compilers():
        peak = measure_peak(cc, width=256)  # the AVX2 kernel: AVX2's peak
        exo = exo_times(exo_py, cc) if exo_py else None
        print(f"\n{cc}: measured FMA peak {peak:.1f} GFLOP/s")
        head = f"{'K':>6} {'plain':>7} {'knit':>7} {'% peak':>7}"
        print(head + (f" {'Exo':>7} {'knit/Exo':>9}" if exo else ""))
        for K in KS:
            flops = 2 * 6 * 16 * K
            g0 = flops / time_in_c(rank_k_reduce_6x16, {"K": K}, reps=100, cc=cc) / 1e9
            g1 = flops / time_in_c(avx2_kernel, {"K": K}, reps=20000, cc=cc) / 1e9
            row = f"{K:>6} {g0:>7.1f} {g1:>7.1f} {100 * g1 / peak:>6.0f}%"
            if exo:
                ge = flops / exo[K] / 1e9
                row += f" {ge:>7.1f} {g1 / ge:>9.2f}"
            print(row)
    if not exo_py:
        print("\n(exo-lang not found: pass --exo-python or set EXO_PYTHON to compare)")


if __name__ == "__main__":
    main()
